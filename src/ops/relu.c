/* relu.c — Relu: y = max(x, 0). Backward: dx += dy where x > 0 (or dx = ..., see grad_overwrite). */
#include "ops/op_util.h"

static void relu_forward(nns_exec_node *e) {
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) y[i] = nns_selectf(x[i] > 0.0f, x[i], 0.0f);
}

static void relu_backward(nns_exec_node *e) {
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad, *x = nns_tv_cf32(e->in[0]);
    if (!gx || !gy) return;
    int64_t n = nns_tv_numel(e->out[0]);
    if (e->grad_overwrite & 1u) {
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
        for (int64_t i = 0; i < n; i++) gx[i] = 0.0f + nns_selectf(x[i] > 0.0f, gy[i], 0.0f);
    } else {
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
        for (int64_t i = 0; i < n; i++) gx[i] += nns_selectf(x[i] > 0.0f, gy[i], 0.0f);
    }
}

/* As an epilogue: max(y, 0). */
static void relu_clamp(const void *params, nns_epilogue *epi) {
    (void)params;
    epi->act = NNS_FUSE_ACT_RELU;
    epi->lo = epi->hi = 0.0f;
}

const nns_op_def nns_op_relu = {
    .name = "Relu",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .f32_inputs = 1u,
    .infer = nns_op_infer_same,
    .forward = relu_forward,
    .backward = relu_backward,
    .grad_overwrite_inputs = 1u << 0,
    .chan = NNS_OP_CHAN_PASS,
    .clamp = relu_clamp,
};
