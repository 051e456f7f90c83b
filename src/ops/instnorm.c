/* instnorm.c — InstanceNormalization and LRN (inference).
 * InstanceNormalization: each (image, channel) plane of X [N, C, ...] to
 * (x - mean) / sqrt(var + epsilon) * scale[c] + B[c], mean and biased
 * variance summed in double. LRN: across channels,
 * y = x / (bias + alpha / size * sum of x^2 over channels c - floor((size-1)/2)
 * .. c + ceil((size-1)/2)) ^ beta. */
#include <math.h>

#include "ops/op_util.h"

typedef struct {
    float eps, alpha, beta, bias;
    int size;
} norm_params;

static nns_status in_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    norm_params *p = params;
    p->eps = nns_node_attr_float(n, "epsilon", 1e-5f);
    return NNS_OK;
}

static nns_status in_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    (void)g, (void)params;
    const nns_shape *x = in[0];
    if (x->ndim < 3 || x->dims[1] < 1 || in[1]->ndim != 1 || in[1]->dims[0] != x->dims[1] || in[2]->ndim != 1 ||
        in[2]->dims[0] != x->dims[1])
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (InstanceNormalization): input of rank %d with %lld channels, "
                         "scale and B must be [C]", n->name, x->ndim, (long long)(x->ndim > 1 ? x->dims[1] : 0));
    out[0] = *x;
    return NNS_OK;
}

static void in_forward(nns_exec_node *e) {
    const norm_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape;
    const int64_t c = xs->dims[1], planes = xs->dims[0] * c, hw = nns_shape_numel(xs) / (planes ? planes : 1);
    const float *X = nns_tv_cf32(e->in[0]), *S = nns_tv_cf32(e->in[1]), *B = nns_tv_cf32(e->in[2]);
    float *Y = nns_tv_f32(e->out[0]);
#pragma omp parallel for schedule(static) if (planes > 1 && planes * hw > NNS_OMP_MIN_ELEMS)
    for (int64_t q = 0; q < planes; q++) {
        const float *x = X + q * hw;
        float *y = Y + q * hw;
        double s = 0, v = 0;
        for (int64_t i = 0; i < hw; i++) s += x[i];
        const double m = s / (double)hw;
        for (int64_t i = 0; i < hw; i++) v += ((double)x[i] - m) * ((double)x[i] - m);
        const float r = (float)(1.0 / sqrt(v / (double)hw + p->eps)), sc = S[q % c] * r, sh = B[q % c];
        for (int64_t i = 0; i < hw; i++) y[i] = (x[i] - (float)m) * sc + sh;
    }
}

const nns_op_def nns_op_instnorm = {
    .name = "InstanceNormalization",
    .min_in = 3, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(norm_params),
    .prepare = in_prepare,
    .f32_inputs = NNS_IN_ALL,
    .infer = in_infer,
    .forward = in_forward,
    .chan = NNS_OP_CHAN_OPAQUE,
};

static nns_status lrn_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    norm_params *p = params;
    p->alpha = nns_node_attr_float(n, "alpha", 1e-4f);
    p->beta = nns_node_attr_float(n, "beta", 0.75f);
    p->bias = nns_node_attr_float(n, "bias", 1.0f);
    const int64_t size = nns_node_attr_int(n, "size", 0);
    if (size < 1 || size > 4096)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (LRN): size %lld (1..4096 expected)", n->name, (long long)size);
    p->size = (int)size;
    return NNS_OK;
}

static nns_status lrn_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g, (void)params;
    if (in[0]->ndim < 3)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (LRN): input of rank %d (at least 3)", n->name, in[0]->ndim);
    out[0] = *in[0];
    return NNS_OK;
}

static void lrn_forward(nns_exec_node *e) {
    const norm_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape;
    const int64_t c = xs->dims[1], n = xs->dims[0], hw = nns_shape_numel(xs) / (n * c > 0 ? n * c : 1);
    const int lo = (p->size - 1) / 2, hi = p->size - 1 - lo;
    const float *X = nns_tv_cf32(e->in[0]);
    float *Y = nns_tv_f32(e->out[0]);
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t q = 0; q < hw; q++) {
                double s = 0;
                for (int64_t k = ch - lo; k <= ch + hi; k++)
                    if (k >= 0 && k < c) {
                        const double v = X[(i * c + k) * hw + q];
                        s += v * v;
                    }
                const float x = X[(i * c + ch) * hw + q];
                Y[(i * c + ch) * hw + q] = (float)(x / pow(p->bias + p->alpha / p->size * s, p->beta));
            }
}

const nns_op_def nns_op_lrn = {
    .name = "LRN",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(norm_params),
    .prepare = lrn_prepare,
    .f32_inputs = 1u,
    .infer = lrn_infer,
    .forward = lrn_forward,
    .chan = NNS_OP_CHAN_OPAQUE,
};
