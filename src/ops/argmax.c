/* argmax.c — ArgMax and ArgMin: the s64 index of the largest (smallest)
 * element along `axis` (default 0), keepdims (default 1), the first such
 * index unless select_last_index=1. A NaN counts as larger than (ArgMax) or
 * smaller than (ArgMin) every number, as NumPy's argmax and argmin treat it:
 * the first NaN wins. The dynamic batch may be the axis only when the plan
 * gives it a size (it re-infers with the concrete batch). Inference only. */
#include "ops/op_util.h"

typedef struct {
    int64_t axis;
    int keepdims, last, min;
} arg_params;

static nns_status arg_prepare(const nns_graph *g, const nns_node *n, void *params, int min) {
    (void)g;
    arg_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", 0);
    p->keepdims = nns_node_attr_int(n, "keepdims", 1) != 0;
    p->last = nns_node_attr_int(n, "select_last_index", 0) != 0;
    p->min = min;
    return NNS_OK;
}
static nns_status argmax_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return arg_prepare(g, n, params, 0);
}
static nns_status argmin_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return arg_prepare(g, n, params, 1);
}

static nns_status arg_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g;
    const arg_params *p = params;
    int a;
    nns_status s = nns_op_norm_axis(n, "axis", p->axis, in[0]->ndim, 0, &a);
    if (s) return s;
    if (in[0]->dims[a] == 0)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): axis %d is empty", n->name, n->op_type, a);
    *out = *in[0];
    if (p->keepdims) {
        out->dims[a] = 1;
    } else {
        for (int d = a; d + 1 < out->ndim; d++) out->dims[d] = out->dims[d + 1];
        out->ndim--;
    }
    return NNS_OK;
}

/* 1 if v replaces best (index order): larger (smaller), or equal with
 * select_last_index, or the first NaN. */
static inline int arg_better(float v, float best, const arg_params *p) {
    if (best != best) return 0;
    if (v != v) return 1;
    return p->min ? (v < best || (p->last && v == best)) : (v > best || (p->last && v == best));
}

static void arg_forward(nns_exec_node *e) {
    const arg_params *p = e->params;
    const nns_shape *x = &e->in[0]->shape;
    int a;
    nns_op_norm_axis(e->node, "axis", p->axis, x->ndim, 0, &a);
    int64_t outer, len, inner;
    nns_axis_split(x, a, &outer, &len, &inner);
    const float *X = nns_tv_cf32(e->in[0]);
    int64_t *Y = e->out[0]->data;
#pragma omp parallel for schedule(static) if (outer * inner * len > NNS_OMP_MIN_ELEMS)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *v = X + o * len * inner + i;
            int64_t bi = 0;
            for (int64_t k = 1; k < len; k++)
                if (arg_better(v[k * inner], v[bi * inner], p)) bi = k;
            Y[o * inner + i] = bi;
        }
}

static const nns_dtype arg_out_dtypes[1] = {NNS_DTYPE_S64};

#define ARG_DEF(sym, onnx, prep)                                \
    const nns_op_def sym = {                                    \
        .name = onnx,                                           \
        .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,   \
        .params_size = sizeof(arg_params),                      \
        .prepare = prep,                                        \
        .f32_inputs = 1u,                                       \
        .out_fixed = arg_out_dtypes,                            \
        .infer = arg_infer,                                     \
        .forward = arg_forward,                                 \
    };
ARG_DEF(nns_op_argmax, "ArgMax", argmax_prepare)
ARG_DEF(nns_op_argmin, "ArgMin", argmin_prepare)
