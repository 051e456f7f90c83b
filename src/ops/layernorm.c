/* layernorm.c — LayerNormalization (opset 17): over the dims from `axis`
 * (default -1) to the last, y = (x - mean) / sqrt(var + epsilon) * Scale + B
 * (B optional), the mean and the biased variance of each normalised group
 * summed in double. Scale and B hold one value per normalised element (or
 * one for all). The optional outputs Mean and InvStdDev have X's shape with
 * the normalised dims set to 1 (stash_type 1: float). Inference only. */
#include <math.h>

#include "ops/op_util.h"

typedef struct {
    int64_t axis;
    float eps;
} ln_params;

static nns_status ln_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    ln_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", -1);
    p->eps = nns_node_attr_float(n, "epsilon", 1e-5f);
    if (nns_node_attr_int(n, "stash_type", 1) != 1)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (LayerNormalization): stash_type %lld (only 1, float)",
                         n->name, (long long)nns_node_attr_int(n, "stash_type", 1));
    return NNS_OK;
}

/* Groups (outer) and elements per group (size) of x for axis a. */
static void ln_split(const nns_shape *x, int a, int64_t *outer, int64_t *size) {
    *outer = 1, *size = 1;
    for (int d = 0; d < a; d++) *outer *= x->dims[d];
    for (int d = a; d < x->ndim; d++) *size *= x->dims[d];
}

static nns_status ln_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    (void)g;
    const ln_params *p = params;
    int a;
    nns_status s = nns_op_norm_axis(n, "axis", p->axis, in[0]->ndim, 0, &a);
    if (s) return s;
    if (a == 0 && in[0]->dims[0] < 0)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (LayerNormalization): normalises over the dynamic batch",
                         n->name);
    int64_t outer, size;
    ln_split(in[0], a, &outer, &size);
    for (int i = 1; i < n->n_in; i++) {
        if (!in[i]) continue;
        const int64_t k = nns_shape_numel(in[i]);
        if (k != size && k != 1)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (LayerNormalization): input %d has %lld elements, the "
                             "normalised dims %lld", n->name, i, (long long)k, (long long)size);
    }
    out[0] = *in[0];
    for (int j = 1; j < n->n_out; j++) {
        out[j] = *in[0];
        for (int d = a; d < in[0]->ndim; d++) out[j].dims[d] = 1;
    }
    return NNS_OK;
}

static void ln_forward(nns_exec_node *e) {
    const ln_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape;
    int a;
    nns_op_norm_axis(e->node, "axis", p->axis, xs->ndim, 0, &a);
    int64_t outer, size;
    ln_split(xs, a, &outer, &size);
    const float *X = nns_tv_cf32(e->in[0]), *S = nns_tv_cf32(e->in[1]);
    const float *B = e->n_in > 2 && e->in[2] ? nns_tv_cf32(e->in[2]) : NULL;
    const int64_t ss = nns_tv_numel(e->in[1]) == 1 ? 0 : 1, bs = B && nns_tv_numel(e->in[2]) == 1 ? 0 : 1;
    float *Y = nns_tv_f32(e->out[0]);
    float *M = e->n_out > 1 && e->out[1] ? nns_tv_f32(e->out[1]) : NULL;
    float *R = e->n_out > 2 && e->out[2] ? nns_tv_f32(e->out[2]) : NULL;
#pragma omp parallel for schedule(static) if (outer > 1 && outer * size > NNS_OMP_MIN_ELEMS)
    for (int64_t o = 0; o < outer; o++) {
        const float *x = X + o * size;
        float *y = Y + o * size;
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < size; i++) sum += x[i];
        const double mean = size ? sum / (double)size : 0;
        for (int64_t i = 0; i < size; i++) sq += ((double)x[i] - mean) * ((double)x[i] - mean);
        const float m = (float)mean, r = (float)(1.0 / sqrt(sq / (double)(size ? size : 1) + p->eps));
        for (int64_t i = 0; i < size; i++) {
            const float v = (x[i] - m) * r * S[i * ss];
            y[i] = B ? v + B[i * bs] : v;
        }
        if (M) M[o] = m;
        if (R) R[o] = r;
    }
}

const nns_op_def nns_op_layernorm = {
    .name = "LayerNormalization",
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 3,
    .params_size = sizeof(ln_params),
    .prepare = ln_prepare,
    .f32_inputs = NNS_IN_ALL,
    .infer = ln_infer,
    .forward = ln_forward,
    .chan = NNS_OP_CHAN_OPAQUE,
};
