/* slice.c — Slice on an activation: starts, ends and the optional axes and
 * steps as s64 constant inputs (opset 10+) or as attributes (opset < 10, no
 * steps). ONNX's rules: negative starts and ends count from the dim's end;
 * with a positive step they are clamped to [0, dim], with a negative one
 * start to [0, dim - 1] and end to [-1, dim - 1]; each output dim is
 * max(0, ceil((end - start) / step)). A step of 0, a repeated axis or one
 * out of range is an error naming the node. A dynamic dim (the batch) keeps
 * its size only under a full slice (start 0, end at least its size, step
 * 1); the plan re-infers with the concrete batch. All-constant inputs are
 * folded at import instead (src/onnx/onnx_fold.c). Backward adds each
 * output's gradient to its source element. */
#include <string.h>

#include "core/checked.h"
#include "ops/op_util.h"

typedef struct {
    int n; /* slices given */
    int64_t starts[NNS_MAX_DIMS], ends[NNS_MAX_DIMS], axes[NNS_MAX_DIMS], steps[NNS_MAX_DIMS];
} slice_params;

/* Input `slot` (an s64 constant of 1-D shape) or attribute `attr`: *v, *cnt;
 * absent: *v = NULL. */
static nns_status slice_list(const nns_graph *g, const nns_node *n, int slot, const char *attr, const int64_t **v,
                             int64_t *cnt) {
    *v = NULL;
    *cnt = 0;
    if (n->n_in > slot && n->in[slot] >= 0) {
        const nns_value *a = &g->values[n->in[slot]];
        if (!a->data || a->dtype != NNS_DTYPE_S64 || a->shape.ndim != 1)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Slice): input %d '%s' must be an s64 constant, 1-D",
                             n->name, slot, a->name);
        *v = a->data;
        *cnt = a->shape.dims[0];
    } else if (attr && n->n_in == 1) {
        *cnt = nns_node_attr_ints(n, attr, v);
    }
    return NNS_OK;
}

static nns_status slice_prepare(const nns_graph *g, const nns_node *n, void *params) {
    slice_params *p = params;
    const int64_t *st, *en, *ax, *sp;
    int64_t ns, ne, na, nsp;
    nns_status s = slice_list(g, n, 1, "starts", &st, &ns);
    if (!s) s = slice_list(g, n, 2, "ends", &en, &ne);
    if (!s) s = slice_list(g, n, 3, "axes", &ax, &na);
    if (!s) s = slice_list(g, n, 4, NULL, &sp, &nsp);
    if (s) return s;
    if (!st || !en || ns != ne || (ax && na != ns) || (sp && nsp != ns) || ns > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Slice): starts, ends, axes and steps must have one length "
                         "(at most %d)", n->name, NNS_MAX_DIMS);
    p->n = (int)ns;
    for (int i = 0; i < p->n; i++) {
        p->starts[i] = st[i], p->ends[i] = en[i];
        p->axes[i] = ax ? ax[i] : i;
        p->steps[i] = sp ? sp[i] : 1;
        if (!p->steps[i]) return nns_error(NNS_STATUS_FORMAT, "node '%s' (Slice): step 0 on axis %lld", n->name,
                                           (long long)p->axes[i]);
    }
    return NNS_OK;
}

static int64_t clampi(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Per input dim: the first index and the step (1 / 0 where not sliced);
 * out: the output shape. */
static nns_status slice_geom(const nns_node *n, const slice_params *p, const nns_shape *x, int64_t *first,
                             int64_t *step, nns_shape *out) {
    int seen[NNS_MAX_DIMS] = {0};
    *out = *x;
    for (int d = 0; d < x->ndim; d++) first[d] = 0, step[d] = 1;
    for (int i = 0; i < p->n; i++) {
        const int64_t a = p->axes[i] < 0 ? p->axes[i] + x->ndim : p->axes[i];
        if (a < 0 || a >= x->ndim || seen[a])
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Slice): axis %lld is %s for rank %d", n->name,
                             (long long)p->axes[i], a < 0 || a >= x->ndim ? "out of range" : "repeated", x->ndim);
        seen[a] = 1;
        const int64_t dim = x->dims[a], sp = p->steps[i];
        if (dim < 0) { /* the dynamic batch: kept whole or refused */
            if (p->starts[i] != 0 || p->ends[i] < NNS_MAX_DIM || sp != 1)
                return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Slice): slices the dynamic dim %lld", n->name,
                                 (long long)a);
            continue;
        }
        int64_t s = p->starts[i] < 0 ? p->starts[i] + dim : p->starts[i];
        int64_t e = p->ends[i] < 0 ? p->ends[i] + dim : p->ends[i];
        if (p->ends[i] < -NNS_MAX_DIM) e = -1; /* INT64_MIN: before the start */
        s = sp > 0 ? clampi(s, 0, dim) : clampi(s, 0, dim - 1);
        e = sp > 0 ? clampi(e, 0, dim) : clampi(e, -1, dim - 1);
        const int64_t len = sp > 0 ? (e - s + sp - 1) / sp : (s - e + (-sp) - 1) / (-sp);
        out->dims[a] = len > 0 ? len : 0;
        first[a] = s;
        step[a] = sp;
    }
    return NNS_OK;
}

static nns_status slice_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                              nns_shape *out) {
    (void)g;
    int64_t first[NNS_MAX_DIMS], step[NNS_MAX_DIMS];
    return slice_geom(n, params, in[0], first, step, &out[0]);
}

/* Source offset of each output element in order: BODY with j (output) and
 * src (input offset). */
#define SLICE_WALK(e, ...)                                                                                \
    do {                                                                                                  \
        const nns_shape *xs_ = &(e)->in[0]->shape, *ys_ = &(e)->out[0]->shape;                            \
        int64_t first_[NNS_MAX_DIMS], step_[NNS_MAX_DIMS], is_[NNS_MAX_DIMS], idx_[NNS_MAX_DIMS] = {0};   \
        nns_shape o_;                                                                                     \
        slice_geom((e)->node, (e)->params, xs_, first_, step_, &o_);                                      \
        int64_t s_ = 1, src = 0;                                                                          \
        for (int d = xs_->ndim - 1; d >= 0; d--) is_[d] = s_, s_ *= xs_->dims[d];                         \
        for (int d = 0; d < xs_->ndim; d++) src += first_[d] * is_[d];                                    \
        const int64_t ny_ = nns_shape_numel(ys_);                                                         \
        for (int64_t j = 0; j < ny_; j++) {                                                               \
            __VA_ARGS__;                                                                                  \
            for (int d = ys_->ndim - 1; d >= 0; d--) {                                                    \
                src += step_[d] * is_[d];                                                                 \
                if (++idx_[d] < ys_->dims[d]) break;                                                      \
                src -= step_[d] * is_[d] * ys_->dims[d];                                                  \
                idx_[d] = 0;                                                                              \
            }                                                                                             \
        }                                                                                                 \
    } while (0)

/* Runs of contiguous elements: dims from `inner` on are copied whole (the
 * first of them from its start index); the dims before walk as usual. */
static void slice_forward_runs(nns_exec_node *e, const int64_t *first, const int64_t *step, int inner) {
    const nns_shape *xs = &e->in[0]->shape, *ys = &e->out[0]->shape;
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    int64_t is[NNS_MAX_DIMS], run = 1, s = 1, idx[NNS_MAX_DIMS] = {0};
    for (int d = xs->ndim - 1; d >= 0; d--) is[d] = s, s *= xs->dims[d];
    for (int d = inner; d < ys->ndim; d++) run *= ys->dims[d];
    int64_t rows = 1, base = 0;
    for (int d = 0; d < inner; d++) rows *= ys->dims[d];
    for (int d = 0; d < ys->ndim; d++) base += first[d] * is[d];
    for (int64_t r = 0; r < rows; r++) {
        int64_t src = base;
        for (int d = 0; d < inner; d++) src += idx[d] * step[d] * is[d];
        memcpy(y + r * run, x + src, (size_t)run * sizeof(float));
        for (int d = inner - 1; d >= 0; d--) {
            if (++idx[d] < ys->dims[d]) break;
            idx[d] = 0;
        }
    }
}

static void slice_forward(nns_exec_node *e) {
    const nns_shape *xs = &e->in[0]->shape, *ys = &e->out[0]->shape;
    int64_t first[NNS_MAX_DIMS], step[NNS_MAX_DIMS];
    nns_shape o;
    slice_geom(e->node, e->params, xs, first, step, &o);
    int inner = ys->ndim; /* whole trailing dims, then one more taken with step 1 */
    while (inner > 0 && step[inner - 1] == 1 && first[inner - 1] == 0 && ys->dims[inner - 1] == xs->dims[inner - 1])
        inner--;
    if (inner > 0 && step[inner - 1] == 1) inner--;
    if (inner < ys->ndim && nns_shape_numel(ys) > 0) {
        slice_forward_runs(e, first, step, inner);
        return;
    }
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    SLICE_WALK(e, y[j] = x[src]);
}

static void slice_backward(nns_exec_node *e) {
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    SLICE_WALK(e, gx[src] += gy[j]);
}

const nns_op_def nns_op_slice = {
    .name = "Slice",
    .min_in = 1, .max_in = 5, .min_out = 1, .max_out = 1,
    .params_size = sizeof(slice_params),
    .prepare = slice_prepare,
    .f32_inputs = 1u,
    .infer = slice_infer,
    .forward = slice_forward,
    .backward = slice_backward,
    .nontrainable_inputs = 0x1eu,
};
