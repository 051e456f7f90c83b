/* gather.c — data movement on activations of any 1-, 4- or 8-byte dtype
 * (f32, u8, s8, s32, s64, bool):
 *   Gather      data[..., indices[...], ...] along `axis` (default 0);
 *               indices s32 or s64, constant or computed; negative ones
 *               count from the end; one out of range gives zeros (a
 *               constant one is refused at shape inference).
 *   GatherElements  out[i][j]... = data[..., index[i][j]..., ...] along axis.
 *   Expand      numpy broadcasting of data to the constant shape input.
 *   Tile        data repeated along each axis by the constant repeats input.
 * Inference only. */
#include "core/checked.h"
#include "ops/op_util.h"

enum { MV_GATHER, MV_GATHER_EL, MV_EXPAND, MV_TILE };

typedef struct {
    int kind;
    int64_t axis;
    int n;                        /* Expand's shape or Tile's repeats */
    int64_t v[NNS_MAX_DIMS];
} mv_params;

static int mv_dtype_ok(nns_dtype t) {
    return t == NNS_DTYPE_F32 || t == NNS_DTYPE_U8 || t == NNS_DTYPE_S8 || t == NNS_DTYPE_S32 ||
           t == NNS_DTYPE_S64 || t == NNS_DTYPE_BOOL;
}

static nns_status mv_prepare_kind(const nns_graph *g, const nns_node *n, void *params, int kind) {
    mv_params *p = params;
    p->kind = kind;
    p->axis = nns_node_attr_int(n, "axis", 0);
    const nns_value *d = &g->values[n->in[0]], *k = &g->values[n->in[1]];
    if (!mv_dtype_ok(d->dtype))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): data '%s' is %s", n->name, n->op_type, d->name,
                         nns_dtype_name(d->dtype));
    if (kind == MV_GATHER || kind == MV_GATHER_EL) {
        if (k->dtype != NNS_DTYPE_S64 && k->dtype != NNS_DTYPE_S32)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): indices '%s' are %s (s32 or s64 expected)",
                             n->name, n->op_type, k->name, nns_dtype_name(k->dtype));
        return NNS_OK;
    }
    if (!k->data || k->dtype != NNS_DTYPE_S64 || k->shape.ndim != 1 || k->shape.dims[0] > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input 1 '%s' must be an s64 constant, 1-D",
                         n->name, n->op_type, k->name);
    p->n = (int)k->shape.dims[0];
    for (int i = 0; i < p->n; i++) {
        p->v[i] = ((const int64_t *)k->data)[i];
        if (p->v[i] < 0 || p->v[i] > NNS_MAX_DIM)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): value %lld of input 1", n->name, n->op_type,
                             (long long)p->v[i]);
    }
    return NNS_OK;
}
#define MV_PREPARE(fn, kind) \
    static nns_status fn(const nns_graph *g, const nns_node *n, void *p) { return mv_prepare_kind(g, n, p, kind); }
MV_PREPARE(gather_prepare, MV_GATHER)
MV_PREPARE(gather_el_prepare, MV_GATHER_EL)
MV_PREPARE(expand_prepare, MV_EXPAND)
MV_PREPARE(tile_prepare, MV_TILE)

static nns_status mv_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    const mv_params *p = params;
    const nns_shape *x = in[0], *k = in[1];
    int a = 0;
    nns_status s;
    switch (p->kind) {
    case MV_GATHER:
        if ((s = nns_op_norm_axis(n, "axis", p->axis, x->ndim, 0, &a))) return s;
        if (x->dims[a] < 0)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Gather): gathers along the dynamic batch (axis %d)",
                             n->name, a);
        if (x->ndim - 1 + k->ndim > NNS_MAX_DIMS || x->dims[a] < 1)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Gather): rank %d indices into axis %d of rank %d", n->name,
                             k->ndim, a, x->ndim);
        if (g->values[n->in[1]].data && x->dims[a] > 0) { /* constant indices: checked now */
            const nns_value *kv = &g->values[n->in[1]];
            for (int64_t i = 0; i < nns_shape_numel(&kv->shape); i++) {
                const int64_t v = kv->dtype == NNS_DTYPE_S64 ? ((const int64_t *)kv->data)[i]
                                                             : ((const int32_t *)kv->data)[i];
                if (v < -x->dims[a] || v >= x->dims[a])
                    return nns_error(NNS_STATUS_SHAPE, "node '%s' (Gather): index %lld is outside axis %d of size %lld",
                                     n->name, (long long)v, a, (long long)x->dims[a]);
            }
        }
        out->ndim = 0;
        for (int d = 0; d < a; d++) out->dims[out->ndim++] = x->dims[d];
        for (int d = 0; d < k->ndim; d++) out->dims[out->ndim++] = k->dims[d];
        for (int d = a + 1; d < x->ndim; d++) out->dims[out->ndim++] = x->dims[d];
        return NNS_OK;
    case MV_GATHER_EL:
        if ((s = nns_op_norm_axis(n, "axis", p->axis, x->ndim, 0, &a))) return s;
        if (k->ndim != x->ndim)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (GatherElements): indices of rank %d for data of rank %d",
                             n->name, k->ndim, x->ndim);
        *out = *k;
        return NNS_OK;
    case MV_EXPAND: {
        const nns_shape t = nns_shape_make(p->n, p->v);
        return nns_broadcast_shape(n, x, &t, out);
    }
    default:
        if (p->n != x->ndim)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Tile): %d repeats for rank %d", n->name, p->n, x->ndim);
        *out = *x;
        for (int d = 0; d < x->ndim; d++) {
            if (x->dims[d] < 0 && p->v[d] != 1)
                return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Tile): repeats the dynamic dim %d", n->name, d);
            if (x->dims[d] >= 0 && (p->v[d] == 0 || x->dims[d] > NNS_MAX_DIM / p->v[d]))
                return nns_error(NNS_STATUS_SHAPE, "node '%s' (Tile): repeats %lld of dim %d", n->name,
                                 (long long)p->v[d], d);
            if (x->dims[d] >= 0) out->dims[d] = x->dims[d] * p->v[d];
        }
        return NNS_OK;
    }
}

static int64_t mv_index(const nns_tv *t, int64_t i) {
    return t->dtype == NNS_DTYPE_S64 ? ((const int64_t *)t->data)[i] : ((const int32_t *)t->data)[i];
}

/* Input offset of output element j for Expand and Tile (multi-index walk). */
static void mv_walk_forward(nns_exec_node *e, size_t es) {
    const mv_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape, *ys = &e->out[0]->shape;
    const int r = ys->ndim, lead = r - xs->ndim;
    int64_t is[NNS_MAX_DIMS] = {0}, idx[NNS_MAX_DIMS] = {0}, s = 1;
    for (int d = xs->ndim - 1; d >= 0; d--) is[d] = s, s *= xs->dims[d];
    const unsigned char *x = e->in[0]->data;
    unsigned char *y = e->out[0]->data;
    const int64_t ny = nns_shape_numel(ys);
    for (int64_t j = 0; j < ny; j++) {
        int64_t off = 0;
        for (int d = lead; d < r; d++) {
            const int64_t xd = xs->dims[d - lead];
            off += (p->kind == MV_TILE ? idx[d] % xd : xd == 1 ? 0 : idx[d]) * is[d - lead];
        }
        memcpy(y + (size_t)j * es, x + (size_t)off * es, es);
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < ys->dims[d]) break;
            idx[d] = 0;
        }
    }
}

static void mv_forward(nns_exec_node *e) {
    const mv_params *p = e->params;
    const size_t es = nns_dtype_size(e->in[0]->dtype);
    if (p->kind == MV_EXPAND || p->kind == MV_TILE) {
        mv_walk_forward(e, es);
        return;
    }
    const nns_shape *xs = &e->in[0]->shape, *ys = &e->out[0]->shape;
    int a;
    nns_op_norm_axis(e->node, "axis", p->axis, xs->ndim, 0, &a);
    int64_t outer, len, inner;
    nns_axis_split(xs, a, &outer, &len, &inner);
    const int64_t nk = nns_tv_numel(e->in[1]), ny = nns_shape_numel(ys);
    const unsigned char *x = e->in[0]->data;
    unsigned char *y = e->out[0]->data;
    for (int64_t j = 0; j < ny; j++) {
        int64_t o, q, src;
        if (p->kind == MV_GATHER) { /* j = (o * nk + q) * inner + t */
            o = j / (nk * inner), q = (j / inner) % nk;
            int64_t k = mv_index(e->in[1], q);
            k = k < 0 ? k + len : k;
            src = k >= 0 && k < len ? (o * len + k) * inner + j % inner : -1;
        } else { /* GatherElements: the index replaces the axis coordinate */
            int64_t rest = j, mul = 1, ax = 0;
            src = 0;
            for (int d = ys->ndim - 1; d >= 0; d--) {
                const int64_t c = rest % ys->dims[d];
                rest /= ys->dims[d];
                if (d == a) ax = mul;
                src += (d == a ? 0 : c) * mul;
                mul *= xs->dims[d];
            }
            int64_t k = mv_index(e->in[1], j);
            k = k < 0 ? k + len : k;
            src = k >= 0 && k < len ? src + k * ax : -1;
        }
        if (src < 0) memset(y + (size_t)j * es, 0, es);
        else memcpy(y + (size_t)j * es, x + (size_t)src * es, es);
    }
}

#define MV_DEF(sym, onnx, prep)                                          \
    const nns_op_def sym = {                                             \
        .name = onnx,                                                    \
        .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,            \
        .params_size = sizeof(mv_params),                                \
        .prepare = prep,                                                 \
        .out_dtype = NNS_OUT_SAME_AS(0),                                 \
        .infer = mv_infer,                                               \
        .forward = mv_forward,                                           \
        .nontrainable_inputs = 0x2u,                                     \
    };
MV_DEF(nns_op_gather, "Gather", gather_prepare)
MV_DEF(nns_op_gatherelements, "GatherElements", gather_el_prepare)
MV_DEF(nns_op_expand, "Expand", expand_prepare)
MV_DEF(nns_op_tile, "Tile", tile_prepare)
