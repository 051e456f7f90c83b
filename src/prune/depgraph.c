/* depgraph.c — channel dependency analysis for structured pruning (see
 * depgraph.h for the model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "prune/depgraph.h"

#define DG_NOMEM() nns_error(NNS_STATUS_NOMEM, "out of memory analysing channel dependencies")

int nns_depgraph_find(nns_depgraph *dg, int id) {
    int r = id;
    while (dg->parent[r] != r) r = dg->parent[r];
    while (dg->parent[id] != r) { /* path compression */
        int nx = dg->parent[id];
        dg->parent[id] = r;
        id = nx;
    }
    return r;
}

static void dg_fix_id(nns_depgraph *dg, int id, int why, int node, int value) {
    int r = nns_depgraph_find(dg, id);
    if (dg->fix_why[r] != NNS_DG_FIX_NONE) return;
    dg->fix_why[r] = why;
    dg->fix_node[r] = node;
    dg->fix_value[r] = value;
}

static void dg_union(nns_depgraph *dg, int a, int b) {
    int ra = nns_depgraph_find(dg, a), rb = nns_depgraph_find(dg, b);
    if (ra == rb) return;
    if (rb < ra) { int t = ra; ra = rb; rb = t; } /* the smaller id is the root */
    dg->parent[rb] = ra;
    if (dg->fix_why[ra] == NNS_DG_FIX_NONE && dg->fix_why[rb] != NNS_DG_FIX_NONE) {
        dg->fix_why[ra] = dg->fix_why[rb];
        dg->fix_node[ra] = dg->fix_node[rb];
        dg->fix_value[ra] = dg->fix_value[rb];
    }
}

/* Fix every id carried by value v. */
static void dg_fix_value(nns_depgraph *dg, int v, int why, int node) {
    if (v < 0 || !dg->ids[v]) return;
    for (int p = 0; p < dg->len[v]; p++) dg_fix_id(dg, dg->ids[v][p], why, node, v);
}

/* A new space of len ids for value v; sets dg->ids[v]. */
static nns_status dg_new_space(nns_depgraph *dg, int v, int len, int kind, int node, int fix_why) {
    if (dg->n_spaces == dg->cap_spaces) {
        int cap = dg->cap_spaces ? 2 * dg->cap_spaces : 64;
        nns_dg_space *s = realloc(dg->spaces, (size_t)cap * sizeof *s);
        if (!s) return DG_NOMEM();
        dg->spaces = s;
        dg->cap_spaces = cap;
    }
    if (dg->n_ids + len > dg->cap_ids) {
        int cap = dg->cap_ids ? 2 * dg->cap_ids : 1024;
        while (cap < dg->n_ids + len) cap *= 2;
        int *arrs[5] = {dg->parent, dg->space_of, dg->fix_why, dg->fix_node, dg->fix_value};
        for (int k = 0; k < 5; k++) {
            int *a = realloc(arrs[k], (size_t)cap * sizeof(int));
            if (!a) return DG_NOMEM(); /* earlier arrays are already stored */
            arrs[k] = a;
            switch (k) {
            case 0: dg->parent = a; break;
            case 1: dg->space_of = a; break;
            case 2: dg->fix_why = a; break;
            case 3: dg->fix_node = a; break;
            default: dg->fix_value = a; break;
            }
        }
        dg->cap_ids = cap;
    }
    int *ids = malloc((size_t)(len ? len : 1) * sizeof(int));
    if (!ids) return DG_NOMEM();
    int si = dg->n_spaces++;
    nns_dg_space *s = &dg->spaces[si];
    s->node = node;
    s->value = v;
    s->first = dg->n_ids;
    s->len = len;
    s->kind = kind;
    s->group = -1;
    for (int p = 0; p < len; p++) {
        int id = dg->n_ids++;
        dg->parent[id] = id;
        dg->space_of[id] = si;
        dg->fix_why[id] = fix_why;
        dg->fix_node[id] = fix_why != NNS_DG_FIX_NONE ? node : -1;
        dg->fix_value[id] = fix_why != NNS_DG_FIX_NONE ? v : -1;
        ids[p] = id;
    }
    free(dg->ids[v]);
    dg->ids[v] = ids;
    dg->len[v] = len;
    return NNS_OK;
}

static int rank_of(const nns_depgraph *dg, int v) { return dg->g->values[v].shape.ndim; }
static int64_t dim1_of(const nns_depgraph *dg, int v) {
    const nns_shape *s = &dg->g->values[v].shape;
    return s->ndim >= 2 ? s->dims[1] : -1;
}

/* Give value v ids if it has a channel dim but none yet (constants, params
 * used as data): a fixed space. */
static nns_status dg_ensure(nns_depgraph *dg, int v, int node) {
    if (v < 0 || dg->ids[v]) return NNS_OK;
    int64_t c = dim1_of(dg, v);
    if (c < 0) return NNS_OK;
    const nns_value *val = &dg->g->values[v];
    int why = val->kind == NNS_VALUE_KIND_INPUT ? NNS_DG_FIX_INPUT
            : val->kind == NNS_VALUE_KIND_ACT ? NNS_DG_FIX_OPAQUE : NNS_DG_FIX_CONST;
    return dg_new_space(dg, v, (int)c, NNS_DG_SPACE_KIND_FIXED, val->producer >= 0 ? val->producer : node, why);
}

/* ids of out = copy of ids of in. */
static nns_status dg_copy(nns_depgraph *dg, int out, int in) {
    if (!dg->ids[in] || dim1_of(dg, out) != dg->len[in]) return NNS_OK;
    int *a = malloc((size_t)(dg->len[in] ? dg->len[in] : 1) * sizeof(int));
    if (!a) return DG_NOMEM();
    memcpy(a, dg->ids[in], (size_t)dg->len[in] * sizeof(int));
    free(dg->ids[out]);
    dg->ids[out] = a;
    dg->len[out] = dg->len[in];
    return NNS_OK;
}

static nns_status dg_slice(nns_depgraph *dg, int value, int dim, int src) {
    if (dg->n_slices == dg->cap_slices) {
        int cap = dg->cap_slices ? 2 * dg->cap_slices : 64;
        nns_dg_slice *s = realloc(dg->slices, (size_t)cap * sizeof *s);
        if (!s) return DG_NOMEM();
        dg->slices = s;
        dg->cap_slices = cap;
    }
    dg->slices[dg->n_slices++] = (nns_dg_slice){value, dim, src};
    return NNS_OK;
}

/* A node the analysis does not follow: its inputs' channels are fixed and
 * its outputs get fixed spaces. */
static nns_status dg_opaque(nns_depgraph *dg, int ni, int why) {
    const nns_node *n = &dg->g->nodes[ni];
    for (int j = 0; j < n->n_in; j++) dg_fix_value(dg, n->in[j], why, ni);
    for (int j = 0; j < n->n_out; j++) {
        int v = n->out[j];
        int64_t c = dim1_of(dg, v);
        if (c < 0) continue;
        nns_status st = dg_new_space(dg, v, (int)c, NNS_DG_SPACE_KIND_FIXED, ni, why);
        if (st) return st;
    }
    return NNS_OK;
}

static int is_param(const nns_depgraph *dg, int v) {
    return v >= 0 && dg->g->values[v].kind == NNS_VALUE_KIND_PARAM && dg->g->values[v].data &&
           dg->g->values[v].dtype == NNS_DTYPE_F32;
}

static nns_status dg_conv(nns_depgraph *dg, int ni) {
    const nns_graph *g = dg->g;
    const nns_node *n = &g->nodes[ni];
    int wi = nns_op_weight_in(n), bi = nns_op_bias_in(n);
    int x = n->in[0], w = wi >= 0 ? n->in[wi] : -1, b = bi >= 0 ? n->in[bi] : -1;
    if (!is_param(dg, w) || g->values[w].shape.ndim != 4 || rank_of(dg, x) != 4)
        return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    if (b >= 0 && (!is_param(dg, b) || g->values[b].shape.ndim != 1))
        return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    if (dg->uses[w] > 1 || (b >= 0 && dg->uses[b] > 1)) return dg_opaque(dg, ni, NNS_DG_FIX_SHARED);
    nns_status st = dg_ensure(dg, x, ni);
    if (st) return st;
    const nns_shape *ws = &g->values[w].shape;
    int64_t c = dg->len[x], m = ws->dims[0], grp = nns_node_attr_int(n, "group", 1);
    int y = n->out[0];
    if (grp == 1) {
        if (ws->dims[1] != c) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
        if ((st = dg_new_space(dg, y, (int)m, NNS_DG_SPACE_KIND_CONV, ni, NNS_DG_FIX_NONE))) return st;
        if ((st = dg_slice(dg, w, 0, y)) || (st = dg_slice(dg, w, 1, x))) return st;
        if (b >= 0 && (st = dg_slice(dg, b, 0, y))) return st;
        return NNS_OK;
    }
    if (nns_op_channelwise(g, n)) { /* depthwise: channels pass through */
        if ((st = dg_copy(dg, y, x))) return st;
        dg->dw[ni] = 1;
        if ((st = dg_slice(dg, w, 0, x))) return st;
        if (b >= 0 && (st = dg_slice(dg, b, 0, x))) return st;
        return NNS_OK;
    }
    return dg_opaque(dg, ni, NNS_DG_FIX_GROUPED);
}

/* Gemm (A [M,K] x B) and MatMul by a 2-D initializer: the weight's slot,
 * the bias's and the weight's axes come from the op table. */
static nns_status dg_gemm(nns_depgraph *dg, int ni) {
    const nns_graph *g = dg->g;
    const nns_node *n = &g->nodes[ni];
    int wi = nns_op_weight_in(n), bi = nns_op_bias_in(n);
    int a = n->in[0], b = wi >= 0 ? n->in[wi] : -1, c = bi >= 0 ? n->in[bi] : -1;
    int64_t ta = nns_node_attr_int(n, "transA", 0); /* MatMul has none: 0 */
    nns_weight_axes ax;
    if (ta != 0 || !is_param(dg, b) || g->values[b].shape.ndim != 2 || rank_of(dg, a) != 2 ||
        g->values[a].kind == NNS_VALUE_KIND_PARAM || !nns_op_weight_axes(n, wi, 2, &ax))
        return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    if (dg->uses[b] > 1 || (c >= 0 && dg->uses[c] > 1)) return dg_opaque(dg, ni, NNS_DG_FIX_SHARED);
    const nns_shape *bs = &g->values[b].shape;
    int odim = ax.out_axis, idim = ax.red_first;
    int64_t nout = bs->dims[odim];
    int cdim = -1; /* C's dim that follows the neurons */
    if (c >= 0) {
        if (!is_param(dg, c)) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
        const nns_shape *cs = &g->values[c].shape;
        if (cs->ndim == 1 && cs->dims[0] == nout && nout > 1) cdim = 0;
        else if (cs->ndim == 2 && cs->dims[0] == 1 && cs->dims[1] == nout && nout > 1) cdim = 1;
        else if (nns_shape_numel(cs) != 1) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    }
    nns_status st = dg_ensure(dg, a, ni);
    if (st) return st;
    if (bs->dims[idim] != dg->len[a]) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    int y = n->out[0];
    if ((st = dg_new_space(dg, y, (int)nout, NNS_DG_SPACE_KIND_GEMM, ni, NNS_DG_FIX_NONE))) return st;
    if ((st = dg_slice(dg, b, odim, y)) || (st = dg_slice(dg, b, idim, a))) return st;
    if (cdim >= 0 && (st = dg_slice(dg, c, cdim, y))) return st;
    return NNS_OK;
}

static nns_status dg_batchnorm(nns_depgraph *dg, int ni) {
    const nns_graph *g = dg->g;
    const nns_node *n = &g->nodes[ni];
    int x = n->in[0];
    if (n->n_out > 1 || rank_of(dg, x) < 2) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    nns_status st = dg_ensure(dg, x, ni);
    if (st) return st;
    for (int k = 1; k < 5; k++) {
        int p = n->in[k];
        if (!is_param(dg, p) || g->values[p].shape.ndim != 1 || g->values[p].shape.dims[0] != dg->len[x])
            return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
        if (dg->uses[p] > 1) return dg_opaque(dg, ni, NNS_DG_FIX_SHARED);
    }
    if ((st = dg_copy(dg, n->out[0], x))) return st;
    for (int k = 1; k < 5; k++)
        if ((st = dg_slice(dg, n->in[k], 0, x))) return st;
    return NNS_OK;
}

/* Elementwise unary ops, pools, Dropout, Identity: channels pass through. */
static nns_status dg_passthrough(nns_depgraph *dg, int ni) {
    const nns_node *n = &dg->g->nodes[ni];
    int x = n->in[0];
    if (rank_of(dg, x) < 2) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    nns_status st = dg_ensure(dg, x, ni);
    if (st) return st;
    for (int j = 0; j < n->n_out; j++) {
        if (dim1_of(dg, n->out[j]) != dg->len[x]) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
        if ((st = dg_copy(dg, n->out[j], x))) return st;
    }
    return NNS_OK;
}

/* Add, Sub, Mul, Div with numpy broadcasting. */
static nns_status dg_binary(nns_depgraph *dg, int ni) {
    const nns_graph *g = dg->g;
    const nns_node *n = &g->nodes[ni];
    int y = n->out[0];
    int r = rank_of(dg, y);
    if (r < 2) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    int64_t d = dim1_of(dg, y);
    int base = -1;
    int pslice[2] = {-1, -1};
    nns_status st;
    for (int j = 0; j < 2 && j < n->n_in; j++) {
        int v = n->in[j];
        const nns_value *val = &g->values[v];
        int pd = 1 - (r - val->shape.ndim); /* operand dim aligned with dim 1 */
        if (pd < 0 || (val->shape.dims[pd] == 1 && d != 1)) continue; /* broadcast over channels */
        if (val->shape.dims[pd] != d) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
        if (val->kind == NNS_VALUE_KIND_PARAM || val->kind == NNS_VALUE_KIND_CONST) {
            if (d == 1) continue;
            if (!is_param(dg, v)) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
            if (dg->uses[v] > 1) return dg_opaque(dg, ni, NNS_DG_FIX_SHARED);
            pslice[j] = pd;
            continue;
        }
        if (val->shape.ndim != r) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
        if ((st = dg_ensure(dg, v, ni))) return st;
        if (base < 0) {
            if ((st = dg_copy(dg, y, v))) return st;
            base = v;
        } else {
            for (int p = 0; p < d; p++) dg_union(dg, dg->ids[base][p], dg->ids[v][p]);
        }
    }
    if (base < 0 && (st = dg_new_space(dg, y, (int)d, NNS_DG_SPACE_KIND_FIXED, ni, NNS_DG_FIX_CONST))) return st;
    for (int j = 0; j < 2; j++)
        if (pslice[j] >= 0 && (st = dg_slice(dg, n->in[j], pslice[j], y))) return st;
    return NNS_OK;
}

static nns_status dg_concat(nns_depgraph *dg, int ni) {
    const nns_graph *g = dg->g;
    const nns_node *n = &g->nodes[ni];
    int y = n->out[0];
    int r = rank_of(dg, y);
    int64_t axis = nns_node_attr_int(n, "axis", 0);
    if (axis < 0) axis += r;
    if (r < 2) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    nns_status st;
    for (int j = 0; j < n->n_in; j++)
        if ((st = dg_ensure(dg, n->in[j], ni))) return st;
    if (axis == 1) {
        int total = 0;
        for (int j = 0; j < n->n_in; j++) total += dg->len[n->in[j]];
        if (total != dim1_of(dg, y)) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
        int *a = malloc((size_t)(total ? total : 1) * sizeof(int));
        if (!a) return DG_NOMEM();
        int off = 0;
        for (int j = 0; j < n->n_in; j++) {
            memcpy(a + off, dg->ids[n->in[j]], (size_t)dg->len[n->in[j]] * sizeof(int));
            off += dg->len[n->in[j]];
        }
        free(dg->ids[y]);
        dg->ids[y] = a;
        dg->len[y] = total;
        return NNS_OK;
    }
    int x0 = n->in[0];
    for (int j = 1; j < n->n_in; j++)
        if (dg->len[n->in[j]] != dg->len[x0]) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    if (dim1_of(dg, y) != dg->len[x0]) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    for (int j = 1; j < n->n_in; j++)
        for (int p = 0; p < dg->len[x0]; p++) dg_union(dg, dg->ids[x0][p], dg->ids[n->in[j]][p]);
    return dg_copy(dg, y, x0);
}

static nns_status dg_flatten(nns_depgraph *dg, int ni) {
    const nns_graph *g = dg->g;
    const nns_node *n = &g->nodes[ni];
    int x = n->in[0], y = n->out[0];
    int r = rank_of(dg, x);
    int64_t axis = nns_node_attr_int(n, "axis", 1);
    if (axis < 0) axis += r;
    if (axis != 1 || r < 2) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    nns_status st = dg_ensure(dg, x, ni);
    if (st) return st;
    int64_t s = 1;
    for (int k = 2; k < r; k++) s *= g->values[x].shape.dims[k];
    int64_t total = (int64_t)dg->len[x] * s;
    if (s < 1 || total != dim1_of(dg, y) || total > (1 << 30)) return dg_opaque(dg, ni, NNS_DG_FIX_LAYOUT);
    int *a = malloc((size_t)(total ? total : 1) * sizeof(int));
    if (!a) return DG_NOMEM();
    for (int c = 0; c < dg->len[x]; c++)
        for (int64_t k = 0; k < s; k++) a[c * s + k] = dg->ids[x][c];
    free(dg->ids[y]);
    dg->ids[y] = a;
    dg->len[y] = (int)total;
    return NNS_OK;
}

/* A Reshape to the constant shape [0, -1] (keep the batch, flatten the
 * rest: PyTorch's x.view(x.size(0), -1)) flattens like Flatten(axis 1), and
 * stays right when channels go. */
static int reshape_flattens(const nns_graph *g, const nns_node *n) {
    if (n->op != NNS_OP_RESHAPE || n->n_in < 2 || n->in[1] < 0) return 0;
    const nns_value *s = &g->values[n->in[1]];
    if (!s->data || s->dtype != NNS_DTYPE_S64 || nns_shape_numel(&s->shape) != 2 || s->shape.ndim != 1) return 0;
    const int64_t *v = s->data;
    return v[0] == 0 && v[1] == -1 && nns_node_attr_int(n, "allowzero", 0) == 0;
}

/* Follow node ni's channels by its op's class in the op table. */
static nns_status dg_node(nns_depgraph *dg, int ni) {
    const nns_node *n = &dg->g->nodes[ni];
    const nns_op_def *def = nns_op_def_of(n);
    if (reshape_flattens(dg->g, n)) return dg_flatten(dg, ni);
    switch (def ? def->chan : NNS_OP_CHAN_OPAQUE) {
    case NNS_OP_CHAN_CONV: return dg_conv(dg, ni);
    case NNS_OP_CHAN_DENSE: return dg_gemm(dg, ni);
    case NNS_OP_CHAN_PERCHANNEL: return dg_batchnorm(dg, ni);
    case NNS_OP_CHAN_PASS:
        /* MaxPool's Indices hold flat positions that count the channels */
        if (n->op == NNS_OP_MAXPOOL && n->n_out > 1) return dg_opaque(dg, ni, NNS_DG_FIX_OPAQUE);
        return dg_passthrough(dg, ni);
    case NNS_OP_CHAN_BROADCAST: return dg_binary(dg, ni);
    case NNS_OP_CHAN_CONCAT: return dg_concat(dg, ni);
    case NNS_OP_CHAN_FLATTEN: return dg_flatten(dg, ni);
    default: return dg_opaque(dg, ni, NNS_DG_FIX_OPAQUE);
    }
}

/* Units, groups. */
static nns_status dg_finish(nns_depgraph *dg) {
    int ni = dg->n_ids, ns = dg->n_spaces;
    dg->unit_of = malloc((size_t)(ni ? ni : 1) * sizeof(int));
    dg->unit_start = calloc((size_t)ni + 1, sizeof(int));
    dg->unit_ids = malloc((size_t)(ni ? ni : 1) * sizeof(int));
    int *sparent = malloc((size_t)(ns ? ns : 1) * sizeof(int));
    int *root_unit = malloc((size_t)(ni ? ni : 1) * sizeof(int));
    if (!dg->unit_of || !dg->unit_start || !dg->unit_ids || !sparent || !root_unit) {
        free(sparent);
        free(root_unit);
        return DG_NOMEM();
    }
    int nu = 0;
    for (int i = 0; i < ni; i++) root_unit[i] = -1;
    for (int i = 0; i < ni; i++) {
        int r = nns_depgraph_find(dg, i);
        if (root_unit[r] < 0) root_unit[r] = nu++;
        dg->unit_of[i] = root_unit[r];
    }
    dg->n_units = nu;
    for (int i = 0; i < ni; i++) dg->unit_start[dg->unit_of[i] + 1]++;
    for (int u = 0; u < nu; u++) dg->unit_start[u + 1] += dg->unit_start[u];
    {
        int *fill = root_unit; /* reuse as a cursor: root_unit no longer needed */
        for (int u = 0; u < nu; u++) fill[u] = dg->unit_start[u];
        for (int i = 0; i < ni; i++) dg->unit_ids[fill[dg->unit_of[i]]++] = i;
    }
    /* groups: spaces united through their ids */
    for (int s = 0; s < ns; s++) sparent[s] = s;
    for (int i = 0; i < ni; i++) {
        int a = dg->space_of[i], b = dg->space_of[nns_depgraph_find(dg, i)];
        while (sparent[a] != a) a = sparent[a];
        while (sparent[b] != b) b = sparent[b];
        if (a != b) {
            if (b < a) { int t = a; a = b; b = t; }
            sparent[b] = a;
        }
    }
    int ngr = 0;
    for (int s = 0; s < ns; s++) {
        int r = s;
        while (sparent[r] != r) r = sparent[r];
        if (r == s) dg->spaces[s].group = ngr++;
    }
    for (int s = 0; s < ns; s++) {
        int r = s;
        while (sparent[r] != r) r = sparent[r];
        dg->spaces[s].group = dg->spaces[r].group;
    }
    free(sparent);
    dg->n_groups = ngr;
    dg->groups = calloc((size_t)(ngr ? ngr : 1), sizeof(nns_dg_group));
    dg->unit_group = malloc((size_t)(nu ? nu : 1) * sizeof(int));
    dg->group_units = malloc((size_t)(nu ? nu : 1) * sizeof(int));
    dg->group_spaces = malloc((size_t)(ns ? ns : 1) * sizeof(int));
    if (!dg->groups || !dg->unit_group || !dg->group_units || !dg->group_spaces) {
        free(root_unit);
        return DG_NOMEM();
    }
    for (int u = 0; u < nu; u++) {
        int gi = dg->spaces[dg->space_of[dg->unit_ids[dg->unit_start[u]]]].group;
        dg->unit_group[u] = gi;
        dg->groups[gi].n_units++;
    }
    for (int s = 0; s < ns; s++) dg->groups[dg->spaces[s].group].n_spaces++;
    int ou = 0, os = 0;
    for (int gi = 0; gi < ngr; gi++) {
        nns_dg_group *gr = &dg->groups[gi];
        gr->units = dg->group_units + ou;
        gr->spaces = dg->group_spaces + os;
        ou += gr->n_units;
        os += gr->n_spaces;
        gr->n_units = gr->n_spaces = 0;
        gr->producer = -1;
        gr->fix_node = gr->fix_value = -1;
    }
    for (int u = 0; u < nu; u++) {
        nns_dg_group *gr = &dg->groups[dg->unit_group[u]];
        gr->units[gr->n_units++] = u;
        int r = nns_depgraph_find(dg, dg->unit_ids[dg->unit_start[u]]);
        if (!gr->fixed && dg->fix_why[r] != NNS_DG_FIX_NONE) {
            gr->fixed = 1;
            gr->fix_why = dg->fix_why[r];
            gr->fix_node = dg->fix_node[r];
            gr->fix_value = dg->fix_value[r];
        }
    }
    for (int s = 0; s < ns; s++) {
        nns_dg_group *gr = &dg->groups[dg->spaces[s].group];
        gr->spaces[gr->n_spaces++] = s;
        if (dg->spaces[s].kind == NNS_DG_SPACE_KIND_CONV) gr->has_conv = 1;
        if (dg->spaces[s].kind == NNS_DG_SPACE_KIND_GEMM) gr->has_gemm = 1;
        if (dg->spaces[s].kind != NNS_DG_SPACE_KIND_FIXED && gr->producer < 0) gr->producer = dg->spaces[s].node;
    }
    free(root_unit);
    int nv = dg->g->n_values;
    dg->slice_src = malloc((size_t)(nv ? nv : 1) * NNS_MAX_DIMS * sizeof(int));
    if (!dg->slice_src) return DG_NOMEM();
    for (int i = 0; i < nv * NNS_MAX_DIMS; i++) dg->slice_src[i] = -1;
    for (int i = 0; i < dg->n_slices; i++) {
        const nns_dg_slice *sl = &dg->slices[i];
        if (sl->dim >= 0 && sl->dim < NNS_MAX_DIMS && dg->slice_src[sl->value * NNS_MAX_DIMS + sl->dim] < 0)
            dg->slice_src[sl->value * NNS_MAX_DIMS + sl->dim] = sl->src;
    }
    return NNS_OK;
}

nns_status nns_depgraph_build(const nns_graph *g, nns_depgraph **out) {
    *out = NULL;
    nns_depgraph *dg = calloc(1, sizeof *dg);
    if (!dg) return DG_NOMEM();
    dg->g = g;
    dg->n_values = g->n_values;
    int nv = g->n_values, nn = g->n_nodes;
    dg->ids = calloc((size_t)(nv ? nv : 1), sizeof(int *));
    dg->len = calloc((size_t)(nv ? nv : 1), sizeof(int));
    dg->uses = calloc((size_t)(nv ? nv : 1), sizeof(int));
    dg->dw = calloc((size_t)(nn ? nn : 1), 1);
    nns_status st = NNS_OK;
    if (!dg->ids || !dg->len || !dg->uses || !dg->dw) {
        st = DG_NOMEM();
        goto fail;
    }
    for (int i = 0; i < nn; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) dg->uses[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_outputs; i++) dg->uses[g->outputs[i]]++;
    for (int i = 0; i < g->n_inputs; i++)
        if ((st = dg_ensure(dg, g->inputs[i], -1))) goto fail;
    for (int i = 0; i < nn; i++)
        if ((st = dg_node(dg, i))) goto fail;
    for (int i = 0; i < g->n_outputs; i++) {
        int v = g->outputs[i];
        dg_fix_value(dg, v, NNS_DG_FIX_OUTPUT, g->values[v].producer);
    }
    if ((st = dg_finish(dg))) goto fail;
    *out = dg;
    return NNS_OK;
fail:
    nns_depgraph_free(dg);
    return st;
}

void nns_depgraph_free(nns_depgraph *dg) {
    if (!dg) return;
    if (dg->ids)
        for (int v = 0; v < dg->n_values; v++) free(dg->ids[v]);
    free(dg->ids);
    free(dg->len);
    free(dg->uses);
    free(dg->dw);
    free(dg->parent);
    free(dg->space_of);
    free(dg->fix_why);
    free(dg->fix_node);
    free(dg->fix_value);
    free(dg->spaces);
    free(dg->slices);
    free(dg->unit_of);
    free(dg->unit_start);
    free(dg->unit_ids);
    free(dg->unit_group);
    free(dg->groups);
    free(dg->group_units);
    free(dg->group_spaces);
    free(dg->slice_src);
    free(dg);
}

void nns_depgraph_reason(const nns_depgraph *dg, int gi, char *buf, size_t len) {
    const nns_dg_group *gr = &dg->groups[gi];
    const nns_graph *g = dg->g;
    const char *nname = gr->fix_node >= 0 ? g->nodes[gr->fix_node].name : "?";
    const char *ntype = gr->fix_node >= 0 ? g->nodes[gr->fix_node].op_type : "?";
    const char *vname = gr->fix_value >= 0 ? g->values[gr->fix_value].name : "?";
    switch (gr->fix_why) {
    case NNS_DG_FIX_INPUT:
        snprintf(buf, len, "its channels are those of graph input '%s'", vname);
        break;
    case NNS_DG_FIX_OUTPUT:
        snprintf(buf, len, "its channels reach graph output '%s' (the model's outputs are never pruned)", vname);
        break;
    case NNS_DG_FIX_OPAQUE:
        snprintf(buf, len, "its channels reach node '%s' (%s), which the dependency graph cannot follow", nname, ntype);
        break;
    case NNS_DG_FIX_GROUPED:
        snprintf(buf, len,
                 "its channels reach node '%s', a grouped convolution (group %lld, not depthwise): "
                 "nnslim prunes ordinary and depthwise convolutions only",
                 nname, gr->fix_node >= 0 ? (long long)nns_node_attr_int(&g->nodes[gr->fix_node], "group", 1) : 0LL);
        break;
    case NNS_DG_FIX_SHARED:
        snprintf(buf, len, "node '%s' (%s) uses an initializer that other nodes share", nname, ntype);
        break;
    case NNS_DG_FIX_LAYOUT:
        snprintf(buf, len, "its channels reach node '%s' (%s) with a layout the dependency graph cannot follow "
                 "(value '%s')", nname, ntype, vname);
        break;
    case NNS_DG_FIX_CONST:
        snprintf(buf, len, "its channels come from constant '%s'", vname);
        break;
    default:
        snprintf(buf, len, "it is not prunable");
    }
}

int64_t nns_depgraph_kept_len(const nns_depgraph *dg, int v, const unsigned char *keep) {
    if (!dg->ids[v]) return dim1_of(dg, v);
    int64_t k = 0;
    for (int p = 0; p < dg->len[v]; p++) k += keep[dg->unit_of[dg->ids[v][p]]] != 0;
    return k;
}
