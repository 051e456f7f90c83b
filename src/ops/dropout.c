/* dropout.c — Dropout (opset 12+: inputs data, optional ratio (f32 scalar
 * constant), optional training_mode; older models give the `ratio`
 * attribute, default 0.5; `seed` is ignored). Outputs: data, optional mask.
 *
 * The plan's mode decides, not the training_mode input: in training mode
 * (e->training) each element is kept with probability 1 - ratio, drawn in
 * order from the plan's generator (e->rng), so a run is reproducible from the
 * plan's seed; kept values are scaled by 1 / (1 - ratio). The mask is saved in
 * e->state (one byte per element) for backward; the optional mask output
 * holds it as 1.0 / 0.0. In inference mode Dropout is the identity (mask all
 * ones). */
#include "core/rng.h"
#include "ops/op_util.h"

typedef struct { float ratio; } dropout_params;

static nns_status dropout_prepare(const nns_graph *g, const nns_node *n, void *params) {
    dropout_params *p = params;
    p->ratio = nns_node_attr_float(n, "ratio", 0.5f);
    nns_status st = nns_op_const_scalar(g, n, 1, "ratio", &p->ratio);
    if (st) return st;
    if (!(p->ratio >= 0.0f && p->ratio < 1.0f))
        return nns_error(NNS_STATUS_INVALID_ARG, "node '%s' (Dropout): ratio %g is outside [0, 1)",
                         n->name, (double)p->ratio);
    return NNS_OK;
}

static nns_status dropout_infer(const nns_graph *g, const nns_node *n, const void *params,
                                const nns_shape *const *in, nns_shape *out) {
    out[0] = *in[0];
    if (n->n_out > 1) out[1] = *in[0];
    return NNS_OK;
}

static size_t dropout_state_bytes(const void *params, const nns_shape *const *in,
                                  const nns_shape *out, int training) {
    return training ? (size_t)nns_shape_numel(in[0]) : 0;
}

static void dropout_forward(nns_exec_node *e) {
    const dropout_params *p = e->params;
    const int64_t n = nns_tv_numel(e->out[0]);
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    float *mo = e->n_out > 1 ? nns_tv_f32(e->out[1]) : NULL;
    if (!e->training || p->ratio == 0.0f || !e->state) {
        nns_op_copy_forward(e);
        if (mo)
            for (int64_t i = 0; i < n; i++) mo[i] = 1.0f;
        return;
    }
    unsigned char *m = e->state;
    const float ratio = p->ratio, scale = 1.0f / (1.0f - p->ratio);
    for (int64_t i = 0; i < n; i++) m[i] = nns_rng_uniform(e->rng) >= ratio;
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) y[i] = nns_selectf(m[i], x[i] * scale, 0.0f);
    if (mo)
        for (int64_t i = 0; i < n; i++) mo[i] = m[i] ? 1.0f : 0.0f;
}

static void dropout_backward(nns_exec_node *e) {
    const dropout_params *p = e->params;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    if (!e->training || p->ratio == 0.0f || !e->state) {
        nns_op_copy_backward(e);
        return;
    }
    const int64_t n = nns_tv_numel(e->out[0]);
    const unsigned char *m = e->state;
    const float scale = 1.0f / (1.0f - p->ratio);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) gx[i] += nns_selectf(m[i], gy[i] * scale, 0.0f);
}

const nns_op_def nns_op_dropout = {
    .name = "Dropout",
    .min_in = 1, .max_in = 3, .min_out = 1, .max_out = 2,
    .params_size = sizeof(dropout_params),
    .prepare = dropout_prepare,
    .f32_inputs = 1u,
    .infer = dropout_infer,
    .state_bytes = dropout_state_bytes,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .nontrainable_inputs = (1u << 1) | (1u << 2),
    .chan = NNS_OP_CHAN_PASS,
};
