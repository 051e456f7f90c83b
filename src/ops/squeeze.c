/* squeeze.c — Squeeze and Unsqueeze on activations: the data as it is, the
 * shape without (Squeeze) or with (Unsqueeze) dims of size 1 at `axes` (the
 * attribute of opset < 13, else an s64 constant input; Squeeze without axes
 * drops every dim of size 1). Axes may be negative, counted from the end of
 * the input's rank (Squeeze) or of the output's (Unsqueeze); repeated or
 * out-of-range axes, and squeezing a dim that is not 1 (or the dynamic
 * batch), are errors naming the node. All-constant inputs are folded at
 * import instead (src/onnx/onnx_fold.c). */
#include "ops/op_util.h"

typedef struct {
    int n;    /* axes given; -1: none (Squeeze: every dim of size 1) */
    int unsq; /* Unsqueeze */
    int64_t axes[NNS_MAX_DIMS];
} squeeze_params;

static nns_status sq_prepare(const nns_graph *g, const nns_node *n, void *params, int unsq) {
    squeeze_params *p = params;
    const char *op = unsq ? "Unsqueeze" : "Squeeze";
    p->unsq = unsq;
    const int64_t *v = NULL;
    int64_t cnt = -1;
    if (n->n_in >= 2 && n->in[1] >= 0) {
        const nns_value *a = &g->values[n->in[1]];
        if (!a->data || a->dtype != NNS_DTYPE_S64 || a->shape.ndim != 1)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): the axes input '%s' must be an s64 constant, 1-D",
                             n->name, op, a->name);
        v = a->data;
        cnt = a->shape.dims[0];
    } else {
        cnt = nns_node_attr_ints(n, "axes", &v);
        if (!v) cnt = -1;
    }
    if (unsq && cnt < 1) return nns_error(NNS_STATUS_FORMAT, "node '%s' (Unsqueeze): no axes", n->name);
    if (cnt > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): %lld axes (at most %d)", n->name, op, (long long)cnt,
                         NNS_MAX_DIMS);
    p->n = (int)cnt;
    for (int i = 0; i < p->n; i++) p->axes[i] = v[i];
    return NNS_OK;
}
static nns_status squeeze_prepare(const nns_graph *g, const nns_node *n, void *p) { return sq_prepare(g, n, p, 0); }
static nns_status unsqueeze_prepare(const nns_graph *g, const nns_node *n, void *p) { return sq_prepare(g, n, p, 1); }

/* Marks rank r's axes in hit[] (normalised); an error for a bad or repeated one. */
static nns_status mark_axes(const nns_node *n, const squeeze_params *p, int r, int *hit) {
    for (int d = 0; d < NNS_MAX_DIMS; d++) hit[d] = 0;
    for (int i = 0; i < p->n; i++) {
        const int64_t a = p->axes[i] < 0 ? p->axes[i] + r : p->axes[i];
        if (a < 0 || a >= r || hit[a])
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): axis %lld is %s for rank %d", n->name,
                             p->unsq ? "Unsqueeze" : "Squeeze", (long long)p->axes[i],
                             a < 0 || a >= r ? "out of range" : "repeated", r);
        hit[a] = 1;
    }
    return NNS_OK;
}

static nns_status sq_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    (void)g;
    const squeeze_params *p = params;
    const nns_shape *x = in[0];
    int hit[NNS_MAX_DIMS];
    nns_shape o;
    memset(&o, 0, sizeof o);
    if (p->unsq) {
        const int r = x->ndim + p->n;
        if (r > NNS_MAX_DIMS)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Unsqueeze): output rank %d exceeds %d", n->name, r,
                             NNS_MAX_DIMS);
        nns_status st = mark_axes(n, p, r, hit);
        if (st) return st;
        for (int d = 0, k = 0; d < r; d++) o.dims[d] = hit[d] ? 1 : x->dims[k++];
        o.ndim = r;
    } else {
        nns_status st = p->n < 0 ? NNS_OK : mark_axes(n, p, x->ndim, hit);
        if (st) return st;
        for (int d = 0; d < x->ndim; d++) {
            const int drop = p->n < 0 ? x->dims[d] == 1 : hit[d];
            if (drop && x->dims[d] != 1)
                return nns_error(NNS_STATUS_SHAPE, "node '%s' (Squeeze): dim %d of input '%s' is %lld, not 1", n->name,
                                 d, g->values[n->in[0]].name, (long long)x->dims[d]);
            if (!drop) o.dims[o.ndim++] = x->dims[d];
        }
    }
    out[0] = o;
    return NNS_OK;
}

#define SQ_DEF(sym, onnx, prep)                                    \
    const nns_op_def sym = {                                       \
        .name = onnx,                                              \
        .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,      \
        .params_size = sizeof(squeeze_params),                     \
        .prepare = prep,                                           \
        .f32_inputs = 1u,                                          \
        .infer = sq_infer,                                         \
        .forward = nns_op_copy_forward,                            \
        .backward = nns_op_copy_backward,                          \
        .nontrainable_inputs = 1u << 1,                            \
    };
SQ_DEF(nns_op_squeeze, "Squeeze", squeeze_prepare)
SQ_DEF(nns_op_unsqueeze, "Unsqueeze", unsqueeze_prepare)
