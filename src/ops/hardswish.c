/* hardswish.c — HardSwish: y = x * max(0, min(1, x / 6 + 0.5)).
 * dy/dx = 0 for x < -3, 1 for x > 3, (2x + 3) / 6 between. */
#include "ops/op_util.h"

static void hardswish_forward(nns_exec_node *e) {
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) y[i] = nns_hardswishf(x[i]);
}

static void hardswish_backward(nns_exec_node *e) {
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad, *x = nns_tv_cf32(e->in[0]);
    if (!gx || !gy) return;
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        float d = (2.0f * v + 3.0f) * (1.0f / 6.0f);
        d = nns_selectf(v < -3.0f, 0.0f, d);
        d = nns_selectf(v > 3.0f, 1.0f, d);
        gx[i] += gy[i] * d;
    }
}

const nns_op_def nns_op_hardswish = {
    .name = "HardSwish",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .f32_inputs = 1u,
    .infer = nns_op_infer_same,
    .forward = hardswish_forward,
    .backward = hardswish_backward,
    .chan = NNS_OP_CHAN_PASS,
};
