/* nllloss.c — NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss as graph
 * ops (opset 13): scores or log-probabilities [N, C] or [N, C, d1, ...],
 * integer labels (s32 or s64) [N] or [N, d1, ...], optional weight [C].
 * Each position's loss is -w[t] * logp[n][t][d] (0 where t == ignore_index);
 * reduction "none" keeps them ([N, d1, ...]), "sum" adds them and "mean"
 * (the default) divides the sum by the sum of the weights taken (the count
 * without weights). A label outside [0, C) that is not ignore_index makes
 * that loss NaN. SoftmaxCrossEntropyLoss takes logp = log_softmax(scores)
 * over axis 1 (summed in double) and may output it as log_prob. Inference
 * only (training uses nnslim's own losses, src/train/loss.c). */
#include <math.h>

#include "ops/op_util.h"

enum { RED_NONE, RED_SUM, RED_MEAN };

typedef struct {
    int softmax, reduction, has_ignore;
    int64_t ignore;
} nll_params;

static nns_status nll_prepare_kind(const nns_graph *g, const nns_node *n, void *params, int softmax) {
    nll_params *p = params;
    p->softmax = softmax;
    const char *r = nns_node_attr_string(n, "reduction", "mean");
    p->reduction = !strcmp(r, "none") ? RED_NONE : !strcmp(r, "sum") ? RED_SUM : !strcmp(r, "mean") ? RED_MEAN : -1;
    if (p->reduction < 0)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): reduction '%s' (known: none, sum, mean)", n->name,
                         n->op_type, r);
    p->has_ignore = nns_node_attr(n, "ignore_index") != NULL;
    p->ignore = nns_node_attr_int(n, "ignore_index", 0);
    const nns_dtype t = g->values[n->in[1]].dtype;
    if (t != NNS_DTYPE_S64 && t != NNS_DTYPE_S32)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): labels '%s' are %s (s32 or s64 expected)", n->name,
                         n->op_type, g->values[n->in[1]].name, nns_dtype_name(t));
    return NNS_OK;
}
static nns_status nll_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return nll_prepare_kind(g, n, params, 0);
}
static nns_status sce_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return nll_prepare_kind(g, n, params, 1);
}

static nns_status nll_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g;
    const nll_params *p = params;
    const nns_shape *x = in[0], *t = in[1];
    int ok = x->ndim >= 2 && t->ndim == x->ndim - 1 && x->dims[1] > 0;
    for (int d = 0; ok && d < t->ndim; d++) ok = t->dims[d] == x->dims[d ? d + 1 : 0];
    if (ok && n->n_in > 2 && in[2]) ok = in[2]->ndim == 1 && in[2]->dims[0] == x->dims[1];
    if (!ok) {
        char a[128], b[128];
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): input %s and labels %s (and weight) do not agree",
                         n->name, n->op_type, nns_shape_str(x, a, sizeof a), nns_shape_str(t, b, sizeof b));
    }
    if (p->reduction == RED_NONE) out[0] = *t;
    else out[0] = nns_shape_make(0, NULL);
    if (n->n_out > 1) out[1] = *x;
    return NNS_OK;
}

static size_t nll_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)training, (void)out;
    const nll_params *p = params;
    return p->softmax ? (size_t)nns_shape_numel(in[0]) * sizeof(float) : 0;
}

/* log_softmax over axis 1 of x [N, C, inner] into lp. */
static void log_softmax_axis1(const float *x, float *lp, int64_t n, int64_t c, int64_t inner) {
    for (int64_t i = 0; i < n; i++)
        for (int64_t d = 0; d < inner; d++) {
            const float *v = x + i * c * inner + d;
            float m = v[0];
            for (int64_t k = 1; k < c; k++) m = v[k * inner] > m ? v[k * inner] : m;
            double s = 0;
            for (int64_t k = 0; k < c; k++) s += exp((double)v[k * inner] - m);
            const float ls = (float)log(s);
            for (int64_t k = 0; k < c; k++) lp[(i * c + k) * inner + d] = v[k * inner] - m - ls;
        }
}

static void nll_forward(nns_exec_node *e) {
    const nll_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape;
    const int64_t n = xs->dims[0], c = xs->dims[1], inner = nns_shape_numel(xs) / (n * c > 0 ? n * c : 1);
    const float *lp = nns_tv_cf32(e->in[0]);
    if (p->softmax) {
        float *buf = e->n_out > 1 && e->out[1] ? nns_tv_f32(e->out[1]) : e->work;
        log_softmax_axis1(lp, buf, n, c, inner);
        lp = buf;
    }
    const void *tv = e->in[1]->data;
    const int t64 = e->in[1]->dtype == NNS_DTYPE_S64;
    const float *w = e->n_in > 2 && e->in[2] ? nns_tv_cf32(e->in[2]) : NULL;
    float *y = nns_tv_f32(e->out[0]);
    double sum = 0, wsum = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t d = 0; d < inner; d++) {
            const int64_t q = i * inner + d, t = t64 ? ((const int64_t *)tv)[q] : ((const int32_t *)tv)[q];
            float l;
            if (p->has_ignore && t == p->ignore) {
                l = 0.0f;
            } else if (t < 0 || t >= c) {
                l = NAN;
            } else {
                const float wt = w ? w[t] : 1.0f;
                l = -lp[(i * c + t) * inner + d] * wt;
                wsum += wt;
            }
            if (p->reduction == RED_NONE) y[q] = l;
            sum += l;
        }
    if (p->reduction == RED_SUM) y[0] = (float)sum;
    if (p->reduction == RED_MEAN) y[0] = (float)(sum / wsum);
}

#define NLL_DEF(sym, onnx, prep, nout)                                                 \
    const nns_op_def sym = {                                                                 \
        .name = onnx,                                                                        \
        .min_in = 2, .max_in = 3, .min_out = 1, .max_out = nout,                             \
        .params_size = sizeof(nll_params),                                                   \
        .prepare = prep,                                                                     \
        .f32_inputs = 0x5u,                                                                  \
        .infer = nll_infer,                                                                  \
        .work_bytes = nll_work_bytes,                                                        \
        .forward = nll_forward,                                                              \
    };
NLL_DEF(nns_op_nllloss, "NegativeLogLikelihoodLoss", nll_prepare, 1)
NLL_DEF(nns_op_sceloss, "SoftmaxCrossEntropyLoss", sce_prepare, 2)
