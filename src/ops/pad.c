/* pad.c — Pad on an activation. The pads (begin of every axis, then the
 * ends) come from an s64 constant input 1 (opset 11+) or the `pads`
 * attribute (opset 2..10; `paddings` in opset 1); the constant from a
 * one-element constant input 2 or the `value` attribute (default 0); axes
 * from an s64 constant input 3 (opset 18), else every axis. Modes
 * constant, edge, reflect and wrap, as ONNX and numpy define them; a
 * negative pad crops. Reflect needs a dim of at least 2 where it pads, wrap
 * and edge at least 1. The dynamic batch dim may not be padded. The data
 * may be f32, u8, s8, s32, s64 or bool (elements are moved, not computed;
 * the constant converts to the dtype, saturating). Backward
 * adds each output's gradient to the input element it was read from. */
#include "core/checked.h"
#include "ops/op_util.h"

enum { PAD_CONSTANT, PAD_EDGE, PAD_REFLECT, PAD_WRAP };

typedef struct {
    int mode, n_axes, has_axes; /* has_axes 0: pad i is axis i */
    float value;
    int64_t begin[NNS_MAX_DIMS], end[NNS_MAX_DIMS]; /* by listed axis */
    int64_t axes[NNS_MAX_DIMS];
} pad_params;

static nns_status pad_ints(const nns_graph *g, const nns_node *n, int slot, const int64_t **v, int64_t *cnt) {
    const nns_value *a = &g->values[n->in[slot]];
    if (!a->data || a->dtype != NNS_DTYPE_S64 || a->shape.ndim > 1)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Pad): input %d '%s' must be an s64 constant, 1-D",
                         n->name, slot, a->name);
    *v = a->data;
    *cnt = a->shape.ndim ? a->shape.dims[0] : 1;
    return NNS_OK;
}

static nns_status pad_mode(const nns_node *n, int *mode) {
    static const char *const names[] = {"constant", "edge", "reflect", "wrap"};
    const char *m = nns_node_attr_string(n, "mode", "constant");
    for (int i = 0; i < 4; i++)
        if (!strcmp(m, names[i])) {
            *mode = i;
            return NNS_OK;
        }
    return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Pad): mode '%s' (known: constant, edge, reflect, wrap)",
                     n->name, m);
}

static nns_status pad_prepare(const nns_graph *g, const nns_node *n, void *params) {
    pad_params *p = params;
    const nns_dtype dt = g->values[n->in[0]].dtype;
    if (dt != NNS_DTYPE_F32 && dt != NNS_DTYPE_U8 && dt != NNS_DTYPE_S8 && dt != NNS_DTYPE_S32 &&
        dt != NNS_DTYPE_S64 && dt != NNS_DTYPE_BOOL)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Pad): input 0 '%s' is %s (supported: f32, u8, s8, "
                         "s32, s64, bool)", n->name, g->values[n->in[0]].name, nns_dtype_name(dt));
    const int64_t *pads = NULL, *axes = NULL;
    int64_t np = 0, na = -1;
    nns_status s = pad_mode(n, &p->mode);
    if (s) return s;
    if (n->n_in > 1 && n->in[1] >= 0) {
        if ((s = pad_ints(g, n, 1, &pads, &np))) return s;
    } else {
        np = nns_node_attr_ints(n, "pads", &pads);
        if (!pads) np = nns_node_attr_ints(n, "paddings", &pads);
    }
    if (!pads) return nns_error(NNS_STATUS_FORMAT, "node '%s' (Pad): no pads", n->name);
    if (n->n_in > 3 && n->in[3] >= 0 && (s = pad_ints(g, n, 3, &axes, &na))) return s;
    p->value = nns_node_attr_float(n, "value", 0.0f);
    if ((s = nns_op_const_scalar(g, n, 2, "constant_value", &p->value))) return s;
    if (np % 2 || np / 2 > NNS_MAX_DIMS || (axes && na != np / 2))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Pad): %lld pads for %lld axes", n->name, (long long)np,
                         (long long)(axes ? na : np / 2));
    p->n_axes = (int)(np / 2);
    p->has_axes = axes != NULL;
    for (int i = 0; i < p->n_axes; i++) {
        p->begin[i] = pads[i], p->end[i] = pads[p->n_axes + i];
        p->axes[i] = axes ? axes[i] : i;
        if (p->begin[i] < -NNS_MAX_DIM || p->begin[i] > NNS_MAX_DIM || p->end[i] < -NNS_MAX_DIM ||
            p->end[i] > NNS_MAX_DIM)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (Pad): pad %lld is out of range", n->name,
                             (long long)(p->begin[i] < -NNS_MAX_DIM || p->begin[i] > NNS_MAX_DIM ? p->begin[i]
                                                                                                 : p->end[i]));
    }
    return NNS_OK;
}

/* Per input dim: pads before (begin) and after (end); the output shape. */
static nns_status pad_geom(const nns_node *n, const pad_params *p, const nns_shape *x, int64_t *begin, int64_t *end,
                           nns_shape *out) {
    int seen[NNS_MAX_DIMS] = {0};
    if (!p->has_axes && p->n_axes != x->ndim)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Pad): %d pads per side for an input of rank %d", n->name,
                         p->n_axes, x->ndim);
    *out = *x;
    for (int d = 0; d < x->ndim; d++) begin[d] = end[d] = 0;
    for (int i = 0; i < p->n_axes; i++) {
        const int64_t a = p->axes[i] < 0 ? p->axes[i] + x->ndim : p->axes[i];
        if (a < 0 || a >= x->ndim || seen[a])
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Pad): axis %lld is %s for rank %d", n->name,
                             (long long)p->axes[i], a < 0 || a >= x->ndim ? "out of range" : "repeated", x->ndim);
        seen[a] = 1;
        begin[a] = p->begin[i], end[a] = p->end[i];
    }
    for (int d = 0; d < x->ndim; d++) {
        const int64_t dim = x->dims[d];
        if (!begin[d] && !end[d]) continue;
        if (dim < 0)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Pad): pads the dynamic dim %d", n->name, d);
        const int64_t o = dim + begin[d] + end[d];
        const int64_t need = p->mode == PAD_REFLECT ? 2 : p->mode == PAD_CONSTANT ? 0 : 1;
        if (o < 0 || ((begin[d] > 0 || end[d] > 0) && dim < need) || o > NNS_MAX_DIM)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Pad): pads %lld, %lld do not fit dim %d of size %lld",
                             n->name, (long long)begin[d], (long long)end[d], d, (long long)dim);
        out->dims[d] = o;
    }
    return NNS_OK;
}

static nns_status pad_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g;
    int64_t b[NNS_MAX_DIMS], e[NNS_MAX_DIMS];
    return pad_geom(n, params, in[0], b, e, &out[0]);
}

/* The work area: for every output dim, each output index's source index
 * (-1: the constant). */
static size_t pad_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)params, (void)in, (void)training;
    size_t s = 0;
    for (int d = 0; d < out[0].ndim; d++) s += (size_t)out[0].dims[d];
    return s * sizeof(int64_t);
}

/* Source index along one dim of size dim for output index o (begin pads). */
static int64_t pad_src(int mode, int64_t o, int64_t begin, int64_t dim) {
    int64_t i = o - begin;
    if (i >= 0 && i < dim) return i;
    if (mode == PAD_CONSTANT) return -1;
    if (mode == PAD_EDGE) return i < 0 ? 0 : dim - 1;
    if (mode == PAD_WRAP) return ((i % dim) + dim) % dim;
    const int64_t period = 2 * (dim - 1); /* reflect: ... 2 1 [0 1 2 3] 2 1 0 1 ... */
    i = ((i % period) + period) % period;
    return i < dim ? i : period - i;
}

/* Fill the maps; returns the per-dim map pointers and input strides. */
static void pad_maps(const nns_exec_node *e, int64_t **map, int64_t *stride) {
    const pad_params *p = e->params;
    const nns_shape *x = &e->in[0]->shape, *y = &e->out[0]->shape;
    int64_t b[NNS_MAX_DIMS], en[NNS_MAX_DIMS], s = 1;
    nns_shape o;
    pad_geom(e->node, p, x, b, en, &o);
    int64_t *m = e->work;
    for (int d = 0; d < y->ndim; d++) {
        map[d] = m;
        for (int64_t k = 0; k < y->dims[d]; k++) m[k] = pad_src(p->mode, k, b[d], x->dims[d]);
        m += y->dims[d];
    }
    for (int d = x->ndim - 1; d >= 0; d--) stride[d] = s, s *= x->dims[d];
}

/* For every output row (all dims but the last): BODY with row (its first
 * output element), src (its input row offset, or -1 for a constant row),
 * last (the last dim's map) and len (the row's length). */
#define PAD_ROWS(e, ...)                                                                         \
    do {                                                                                         \
        int64_t *map_[NNS_MAX_DIMS], st_[NNS_MAX_DIMS], idx_[NNS_MAX_DIMS] = {0};                \
        pad_maps((e), map_, st_);                                                                \
        const nns_shape *ys_ = &(e)->out[0]->shape;                                              \
        const int r_ = ys_->ndim;                                                                \
        const int64_t len = r_ ? ys_->dims[r_ - 1] : 1, ny_ = nns_shape_numel(ys_);              \
        const int64_t *last = r_ ? map_[r_ - 1] : NULL;                                          \
        for (int64_t row = 0; len > 0 && row < ny_; row += len) {                                \
            int64_t src = 0;                                                                     \
            for (int d = 0; d < r_ - 1; d++) {                                                   \
                const int64_t m_ = map_[d][idx_[d]];                                             \
                if (m_ < 0 || src < 0) src = -1;                                                 \
                else src += m_ * st_[d];                                                         \
            }                                                                                    \
            __VA_ARGS__;                                                                         \
            for (int d = r_ - 2; d >= 0; d--) {                                                  \
                if (++idx_[d] < ys_->dims[d]) break;                                             \
                idx_[d] = 0;                                                                     \
            }                                                                                    \
        }                                                                                        \
    } while (0)

/* v rounded toward zero and clamped to [lo, hi] (NaN: 0): a float outside
 * an integer type's range may not be cast to it. */
static int64_t pad_sat(float v, double lo, double hi) {
    double d = v;
    if (d != d) return 0;
    d = d < lo ? lo : d > hi ? hi : d;
    return (int64_t)d;
}

/* The constant as one element of dtype dt (an integer dtype saturates). */
static void pad_value_bytes(float v, nns_dtype dt, unsigned char *b) {
    if (dt == NNS_DTYPE_F32) {
        memcpy(b, &v, 4);
    } else if (dt == NNS_DTYPE_S32) {
        const int32_t i = (int32_t)pad_sat(v, INT32_MIN, INT32_MAX);
        memcpy(b, &i, 4);
    } else if (dt == NNS_DTYPE_S64) {
        const int64_t i = pad_sat(v, -9.2e18, 9.2e18);
        memcpy(b, &i, 8);
    } else if (dt == NNS_DTYPE_BOOL) {
        b[0] = v != 0.0f;
    } else if (dt == NNS_DTYPE_S8) {
        const int8_t i = (int8_t)pad_sat(v, INT8_MIN, INT8_MAX);
        memcpy(b, &i, 1);
    } else {
        b[0] = (unsigned char)pad_sat(v, 0, UINT8_MAX);
    }
}

static void pad_forward(nns_exec_node *e) {
    const pad_params *p = e->params;
    const size_t es = nns_dtype_size(e->in[0]->dtype);
    const unsigned char *x = e->in[0]->data;
    unsigned char *y = e->out[0]->data, v[8];
    pad_value_bytes(p->value, e->in[0]->dtype, v);
    PAD_ROWS(e, {
        unsigned char *yr = y + (size_t)row * es;
        const unsigned char *xr = x + (size_t)(src < 0 ? 0 : src) * es;
        for (int64_t k = 0; k < len; k++) {
            const int64_t c = last ? last[k] : 0;
            memcpy(yr + (size_t)k * es, src < 0 || c < 0 ? v : xr + (size_t)c * es, es);
        }
    });
}

static void pad_backward(nns_exec_node *e) {
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    PAD_ROWS(e, {
        if (src >= 0 && last)
            for (int64_t k = 0; k < len; k++)
                if (last[k] >= 0) gx[src + last[k]] += gy[row + k];
        if (src >= 0 && !last) gx[0] += gy[row];
    });
}

const nns_op_def nns_op_pad = {
    .name = "Pad",
    .min_in = 1, .max_in = 4, .min_out = 1, .max_out = 1,
    .params_size = sizeof(pad_params),
    .prepare = pad_prepare,
    .out_dtype = NNS_OUT_SAME_AS(0),
    .infer = pad_infer,
    .work_bytes = pad_work_bytes,
    .forward = pad_forward,
    .backward = pad_backward,
    .nontrainable_inputs = 0xeu,
    .chan = NNS_OP_CHAN_OPAQUE,
};
