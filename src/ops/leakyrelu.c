/* leakyrelu.c — LeakyRelu: y = x > 0 ? x : alpha * x (alpha default 0.01). */
#include "ops/op_util.h"

typedef struct { float alpha; } leakyrelu_params;

static nns_status leakyrelu_prepare(const nns_graph *g, const nns_node *n, void *params) {
    leakyrelu_params *p = params;
    p->alpha = nns_node_attr_float(n, "alpha", 0.01f);
    return NNS_OK;
}

static void leakyrelu_forward(nns_exec_node *e) {
    const leakyrelu_params *p = e->params;
    const float a = p->alpha;
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) y[i] = nns_selectf(x[i] > 0.0f, x[i], a * x[i]);
}

static void leakyrelu_backward(nns_exec_node *e) {
    const leakyrelu_params *p = e->params;
    const float a = p->alpha;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad, *x = nns_tv_cf32(e->in[0]);
    if (!gx || !gy) return;
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) gx[i] += nns_selectf(x[i] > 0.0f, gy[i], a * gy[i]);
}

const nns_op_def nns_op_leakyrelu = {
    .name = "LeakyRelu",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(leakyrelu_params),
    .prepare = leakyrelu_prepare,
    .f32_inputs = 1u,
    .infer = nns_op_infer_same,
    .forward = leakyrelu_forward,
    .backward = leakyrelu_backward,
    .chan = NNS_OP_CHAN_PASS,
};
