/* hardsigmoid.c — HardSigmoid: y = max(0, min(1, alpha * x + beta)),
 * alpha default 0.2, beta default 0.5 (PyTorch's Hardsigmoid exports
 * alpha = 1/6). Backward: dx += alpha * dy where 0 < alpha * x + beta < 1. */
#include "ops/op_util.h"

typedef struct { float alpha, beta; } hardsigmoid_params;

static nns_status hardsigmoid_prepare(const nns_graph *g, const nns_node *n, void *params) {
    hardsigmoid_params *p = params;
    p->alpha = nns_node_attr_float(n, "alpha", 0.2f);
    p->beta = nns_node_attr_float(n, "beta", 0.5f);
    return NNS_OK;
}

static void hardsigmoid_forward(nns_exec_node *e) {
    const hardsigmoid_params *p = e->params;
    const float a = p->alpha, b = p->beta;
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) {
        float t = a * x[i] + b;
        t = nns_selectf(t < 0.0f, 0.0f, t);
        y[i] = nns_selectf(t > 1.0f, 1.0f, t);
    }
}

static void hardsigmoid_backward(nns_exec_node *e) {
    const hardsigmoid_params *p = e->params;
    const float a = p->alpha, b = p->beta;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad, *x = nns_tv_cf32(e->in[0]);
    if (!gx || !gy) return;
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) {
        float t = a * x[i] + b;
        gx[i] += nns_selectf((t > 0.0f) & (t < 1.0f), a * gy[i], 0.0f);
    }
}

const nns_op_def nns_op_hardsigmoid = {
    .name = "HardSigmoid",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(hardsigmoid_params),
    .prepare = hardsigmoid_prepare,
    .f32_inputs = 1u,
    .infer = nns_op_infer_same,
    .forward = hardsigmoid_forward,
    .backward = hardsigmoid_backward,
    .chan = NNS_OP_CHAN_PASS,
};
