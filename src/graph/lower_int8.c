/*
 * lower_int8.c — the int8 plan's rewrite (nns_graph_lower_int8): every
 *   DequantizeLinear(x) -> Conv | Gemm | MatMul (weight read through a
 *   DequantizeLinear of a constant) [-> chain] [-> QuantizeLinear]
 * becomes one Int8Conv or Int8Gemm (src/ops/int8_impl.h) that reads the
 * quantized x, accumulates in int32 and requantizes to the QuantizeLinear's
 * scale and zero point (or writes float when no QuantizeLinear follows).
 * Right after the layer may come an Add of a dequantized activation of the
 * same shape (a residual connection): the node adds it in real values
 * before the activation and the quantization. The chain: MaxPool, Flatten,
 * Reshape, Dropout, Identity and at most one Relu or Clip, in any order.
 * An Add of two dequantized activations of one shape followed by a chain
 * and a QuantizeLinear becomes Int8Add (src/ops/int8add.c). A
 * DequantizeLinear of an activation followed by a chain and a
 * QuantizeLinear becomes the chain on the quantized values, then Int8Lut
 * (src/ops/int8lut.c) with the table of DequantizeLinear, activation and
 * QuantizeLinear for each stored byte (none when that is the identity):
 * exact, since the table is monotone and the chain commutes with it. The activation is fused into the output
 * range; MaxPool, Flatten and Reshape run again on the quantized values
 * after the integer node (each commutes with a monotone quantization, so
 * the result is the same), the identities go. The bias becomes s32 at
 * x_scale * w_scale[c] (as ONNX's QLinearConv takes it). The new node keeps
 * the layer's name (profiles and messages name the model's layer); the old
 * nodes are dropped when nothing reads them any more.
 *
 * A layer is left in float, correctly but slowly, where the integer form
 * would not be exact to the model's definition: a per-channel x scale, a
 * weight whose zero point takes it out of s8, a Gemm with alpha, beta or
 * transA, a batched MatMul, a bias too large for s32.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/qmath.h"
#include "graph/infer.h"
#include "ops/op_util.h"

#define LOWER_CHAIN 8

typedef struct lower_match {
    int layer, xdq, wdq, act, q; /* node indices; act, q: -1 if none */
    int wslot, out_axis;
    int64_t m;                   /* output channels */
    int chain[LOWER_CHAIN], n_chain; /* nodes between the layer and q that move values (in order) */
    int add, rdq; /* an Add right after the layer and the DequantizeLinear of its other input; -1 if none */
} lower_match;

static int has_data(const nns_graph *g, int v) { return v >= 0 && g->values[v].data != NULL; }
static int present(const nns_node *n, int slot) { return slot < n->n_in && n->in[slot] >= 0; }

/* The DequantizeLinear writing value v, or -1. */
static int dq_of(const nns_graph *g, int v) {
    const int p = v >= 0 ? g->values[v].producer : -1;
    return p >= 0 && g->nodes[p].op == NNS_OP_DEQUANTIZELINEAR ? p : -1;
}

/* DequantizeLinear d reads a u8/s8 activation with one constant scale and
 * zero point. */
static int act_dq_ok(const nns_graph *g, int d) {
    const nns_node *n = &g->nodes[d];
    const nns_value *x = &g->values[n->in[0]];
    if (x->data || (x->dtype != NNS_DTYPE_U8 && x->dtype != NNS_DTYPE_S8)) return 0;
    if (!has_data(g, n->in[1]) || nns_shape_numel(&g->values[n->in[1]].shape) != 1) return 0;
    return !present(n, 2) || (has_data(g, n->in[2]) && nns_shape_numel(&g->values[n->in[2]].shape) == 1);
}

/* Every w - w_zp of DequantizeLinear d is in s8 (k: one output channel's
 * products; the channel of element i is i / k, or i % m when the channel
 * axis is the last of a 2-D weight). */
static int weight_in_s8(const nns_graph *g, int d, int64_t m, int last_axis) {
    const nns_node *n = &g->nodes[d];
    const nns_value *w = &g->values[n->in[0]], *z = present(n, 2) ? &g->values[n->in[2]] : NULL;
    const int64_t numel = nns_shape_numel(&w->shape), nz = z ? nns_shape_numel(&z->shape) : 0, k = numel / m;
    if (!z) return 1; /* s8 without a zero point; u8 has one or is refused below */
    for (int64_t i = 0; i < numel; i++) {
        const int64_t c = nz == 1 ? 0 : last_axis ? i % m : i / k;
        const int32_t zv = z->dtype == NNS_DTYPE_U8 ? ((const uint8_t *)z->data)[c] : ((const int8_t *)z->data)[c];
        const int32_t wv = w->dtype == NNS_DTYPE_U8 ? ((const uint8_t *)w->data)[i] : ((const int8_t *)w->data)[i];
        if (wv - zv < -128 || wv - zv > 127) return 0;
    }
    return 1;
}

/* DequantizeLinear d reads a constant s8/u8 weight with one scale, or one
 * per output channel along out_axis, each w - w_zp in s8. */
static int weight_dq_ok(const nns_graph *g, int d, int out_axis, int64_t m) {
    const nns_node *n = &g->nodes[d];
    const nns_value *w = &g->values[n->in[0]];
    if (!w->data || (w->dtype != NNS_DTYPE_U8 && w->dtype != NNS_DTYPE_S8) || !has_data(g, n->in[1])) return 0;
    if (present(n, 2) && !has_data(g, n->in[2])) return 0;
    if (nns_node_attr(n, "block_size") || (w->dtype == NNS_DTYPE_U8 && !present(n, 2))) return 0;
    const int64_t k = nns_shape_numel(&g->values[n->in[1]].shape);
    if (present(n, 2) && nns_shape_numel(&g->values[n->in[2]].shape) != k) return 0;
    int64_t axis = nns_node_attr_int(n, "axis", 1);
    if (axis < 0) axis += w->shape.ndim;
    if (k != 1 && (k != m || axis != out_axis)) return 0;
    return weight_in_s8(g, d, m, w->shape.ndim == 2 && out_axis == 1);
}

/* Node i is a Conv, Gemm or MatMul of the forms Int8Conv / Int8Gemm run. */
static int layer_ok(const nns_graph *g, int i, lower_match *mt) {
    const nns_node *n = &g->nodes[i];
    if (n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM && n->op != NNS_OP_MATMUL) return 0;
    if (n->op == NNS_OP_GEMM && (nns_node_attr_float(n, "alpha", 1.0f) != 1.0f ||
                                 nns_node_attr_float(n, "beta", 1.0f) != 1.0f || nns_node_attr_int(n, "transA", 0)))
        return 0;
    mt->wslot = nns_op_weight_in(n);
    if (mt->wslot != 1 || n->in[1] < 0) return 0;
    const nns_shape *w = &g->values[n->in[1]].shape, *x = &g->values[n->in[0]].shape;
    nns_weight_axes ax;
    if (!nns_op_weight_axes(n, 1, w->ndim, &ax) || ax.out_axis < 0) return 0;
    if (n->op != NNS_OP_CONV && (w->ndim != 2 || x->ndim != 2)) return 0;
    if (n->op == NNS_OP_CONV && w->ndim != 4) return 0;
    mt->out_axis = ax.out_axis;
    mt->m = w->dims[ax.out_axis];
    if (mt->m < 1 || nns_shape_numel(w) / mt->m > 16000) return 0; /* int32 accumulators stay exact */
    if (present(n, 2)) { /* the bias: one value per output channel */
        const nns_value *b = &g->values[n->in[2]];
        if (nns_shape_numel(&b->shape) != mt->m || (!b->data && dq_of(g, n->in[2]) < 0)) return 0;
    }
    return 1;
}

/* The only reader of value v, or -1. */
static int only_reader(const nns_graph *g, const int *readers, int v) {
    if (readers[v] != 1) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == v) return j == 0 ? i : -1;
    return -1;
}

/* Node n passes quantized values through unchanged in order: it selects or
 * moves them (MaxPool, Flatten, Reshape to a constant shape), or is the
 * identity in inference (Dropout without its mask, Identity). Each commutes
 * with a monotone quantization and with Relu and Clip. */
static int passes_q8(const nns_graph *g, const nns_node *n) {
    switch (n->op) {
    case NNS_OP_MAXPOOL:
    case NNS_OP_FLATTEN:
    case NNS_OP_IDENTITY: return n->n_out == 1;
    case NNS_OP_DROPOUT: return n->n_out == 1 || n->out[1] < 0;
    case NNS_OP_RESHAPE: return n->n_out == 1 && has_data(g, n->in[1]);
    default: return 0;
    }
}

/* QuantizeLinear with one constant scale and zero point. */
static int q_ok(const nns_graph *g, const nns_node *n) {
    return n->op == NNS_OP_QUANTIZELINEAR && has_data(g, n->in[1]) &&
           nns_shape_numel(&g->values[n->in[1]].shape) == 1 && present(n, 2) && has_data(g, n->in[2]) &&
           !nns_node_attr(n, "block_size");
}

/* The layer's output v is read only by an Add whose other input is a
 * dequantized activation of the same shape: that Add, its DequantizeLinear
 * in *rdq. */
static int residual_add(const nns_graph *g, const int *readers, int v, int *rdq) {
    if (readers[v] != 1) return -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->n_in < 1 || (n->in[0] != v && (n->n_in < 2 || n->in[1] != v))) continue;
        if (n->op != NNS_OP_ADD || n->n_in != 2 || n->in[0] == n->in[1]) return -1;
        const int other = n->in[0] == v ? n->in[1] : n->in[0], d = dq_of(g, other);
        if (d < 0 || !act_dq_ok(g, d) || !nns_shape_eq(&g->values[other].shape, &g->values[v].shape)) return -1;
        *rdq = d;
        return i;
    }
    return -1;
}

/* What follows value v: a chain of nodes that pass values through
 * (passes_q8) with at most one Relu or Clip among them, then a
 * QuantizeLinear, each the only reader. The activation fuses into the
 * output range and the chain runs on the quantized values; without a
 * QuantizeLinear at its end (mt->q -1), all of it stays in float. */
static void find_chain(const nns_graph *g, const int *readers, lower_match *mt, int v) {
    mt->act = mt->q = -1;
    mt->n_chain = 0;
    for (int r; (r = only_reader(g, readers, v)) >= 0; v = g->nodes[r].out[0]) {
        const nns_node *n = &g->nodes[r];
        if (q_ok(g, n)) {
            mt->q = r;
            return;
        }
        if (mt->act < 0 && (n->op == NNS_OP_RELU || n->op == NNS_OP_CLIP)) mt->act = r;
        else if (passes_q8(g, n) && mt->n_chain < LOWER_CHAIN) mt->chain[mt->n_chain++] = r;
        else break;
    }
    mt->act = -1; /* without a QuantizeLinear at the end, all of it stays in float */
    mt->n_chain = 0;
}

/* What follows the layer: [a residual Add], then the chain of find_chain;
 * the Add only with a QuantizeLinear at the end. */
static void find_output(const nns_graph *g, const int *readers, lower_match *mt) {
    int v = g->nodes[mt->layer].out[0];
    mt->add = residual_add(g, readers, v, &mt->rdq);
    if (mt->add >= 0) v = g->nodes[mt->add].out[0];
    find_chain(g, readers, mt, v);
    if (mt->q < 0) mt->add = -1;
}

/* Float element c of a constant bias: a float initializer or a constant's
 * DequantizeLinear. */
static double bias_at(const nns_graph *g, int v, int64_t c) {
    const nns_value *b = &g->values[v];
    if (b->data && b->dtype == NNS_DTYPE_F32) return ((const float *)b->data)[c];
    const nns_node *d = &g->nodes[dq_of(g, v)];
    const nns_value *q = &g->values[d->in[0]], *s = &g->values[d->in[1]];
    const nns_value *z = present(d, 2) ? &g->values[d->in[2]] : NULL;
    const nns_dtype_info *qi = nns_dtype_get_info(q->dtype);
    const int64_t ns = nns_shape_numel(&s->shape);
    const double zp = z ? nns_dtype_get_info(z->dtype)->to_f32((const char *)z->data + (ns == 1 ? 0 : c) * (int64_t)qi->size) : 0;
    return ((double)qi->to_f32((const char *)q->data + c * (int64_t)qi->size) - zp) * ((const float *)s->data)[ns == 1 ? 0 : c];
}

/* The layer's bias in s32 at x_scale * w_scale[c]; 0 (and *out NULL) when
 * a value does not fit. */
static nns_status make_bias(const nns_graph *g, const lower_match *mt, int32_t **out, int *fits) {
    const nns_node *n = &g->nodes[mt->layer];
    *out = NULL;
    *fits = 1;
    if (!present(n, 2)) return NNS_OK;
    const nns_value *xs = &g->values[g->nodes[mt->xdq].in[1]], *ws = &g->values[g->nodes[mt->wdq].in[1]];
    const int64_t nws = nns_shape_numel(&ws->shape);
    int32_t *b = malloc((size_t)mt->m * sizeof *b);
    if (!b) return nns_error(NNS_STATUS_NOMEM, "out of memory lowering '%s' to int8", n->name);
    for (int64_t c = 0; c < mt->m && *fits; c++) {
        const float s = ((const float *)xs->data)[0] * ((const float *)ws->data)[nws == 1 ? 0 : c];
        const double v = rint(bias_at(g, n->in[2], c) / (double)s);
        *fits = isfinite(v) && fabs(v) <= (double)(1 << 30);
        b[c] = *fits ? (int32_t)v : 0;
    }
    if (*fits) *out = b;
    else free(b);
    return NNS_OK;
}

/* Conv's window attributes onto the new node k. */
static nns_status copy_attrs(nns_graph *g, int from, int k) {
    nns_status st = NNS_OK;
    for (int a = 0; a < g->nodes[from].n_attr && !st; a++) {
        const nns_attr at = g->nodes[from].attrs[a]; /* a copy: adding attributes to k may move nothing of from's */
        if (at.type == NNS_ATTR_TYPE_INT) st = nns_graph_set_attr_int(g, k, at.name, at.i);
        else if (at.type == NNS_ATTR_TYPE_INTS) st = nns_graph_set_attr_ints(g, k, at.name, at.n, at.ints);
        else if (at.type == NNS_ATTR_TYPE_STRING) st = nns_graph_set_attr_string(g, k, at.name, at.s);
    }
    return st;
}

/* The fused activation's clamp, from its op (nns_op_def.clamp). */
static nns_status act_clamp(const nns_graph *g, int act, nns_epilogue *epi) {
    memset(epi, 0, sizeof *epi);
    if (act < 0) return NNS_OK;
    const nns_op_def *def = nns_op_table[g->nodes[act].op];
    void *params = calloc(1, def->params_size ? def->params_size : 1);
    if (!params) return nns_error(NNS_STATUS_NOMEM, "out of memory lowering to int8");
    nns_status st = def->prepare ? def->prepare(g, &g->nodes[act], params) : NNS_OK;
    if (!st && def->clamp) def->clamp(params, epi);
    free(params);
    return st;
}

/* The fused activation's attributes on the new node k. */
static nns_status act_attrs(nns_graph *g, int act, int k) {
    if (act < 0) return NNS_OK;
    nns_epilogue epi;
    nns_status st = act_clamp(g, act, &epi);
    if (!st) st = nns_graph_set_attr_int(g, k, "act", epi.act);
    if (!st && epi.act == NNS_FUSE_ACT_CLIP) st = nns_graph_set_attr_float(g, k, "act_lo", epi.lo);
    if (!st && epi.act == NNS_FUSE_ACT_CLIP) st = nns_graph_set_attr_float(g, k, "act_hi", epi.hi);
    return st;
}

static const char *in_name(const nns_graph *g, int node, int slot) {
    const nns_node *n = &g->nodes[node];
    return present(n, slot) ? g->values[n->in[slot]].name : "";
}

/* The layer's name moves to the new node (the old one, soon dropped, takes
 * "<name>.float"); *k: the new node, writing a fresh value. */
static nns_status rename_old(nns_graph *g, int node, char *name, size_t size) {
    nns_node *L = &g->nodes[node];
    char out[600];
    snprintf(name, size, "%s", L->name);
    snprintf(out, sizeof out, "%s.float", L->name);
    char *renamed = nns_strdup(out);
    if (!renamed) return nns_error(NNS_STATUS_NOMEM, "out of memory lowering '%s' to int8", name);
    free(L->name);
    L->name = renamed;
    return NNS_OK;
}

static nns_status add_int8_node(nns_graph *g, const lower_match *mt, const char *bias, int *k) {
    char name[512], out[600];
    nns_status st0 = rename_old(g, mt->layer, name, sizeof name);
    if (st0) return st0;
    snprintf(out, sizeof out, "%s.int8", name);
    const int x = mt->xdq, w = mt->wdq, q = mt->q;
    const int r = mt->add >= 0 ? mt->rdq : -1;
    const char *in[12] = {in_name(g, x, 0), in_name(g, x, 1), in_name(g, x, 2), in_name(g, w, 0), in_name(g, w, 1),
                          in_name(g, w, 2), q >= 0 ? in_name(g, q, 1) : "", q >= 0 ? in_name(g, q, 2) : "", bias,
                          r >= 0 ? in_name(g, r, 0) : "", r >= 0 ? in_name(g, r, 1) : "", r >= 0 ? in_name(g, r, 2) : ""};
    const char *outs[1] = {out};
    const int op = g->nodes[mt->layer].op;
    nns_status st =
        nns_graph_add_node(g, op == NNS_OP_CONV ? "Int8Conv" : "Int8Gemm", name, r >= 0 ? 12 : 9, in, 1, outs, k);
    if (!st && op == NNS_OP_CONV) st = copy_attrs(g, mt->layer, *k);
    if (!st && op != NNS_OP_CONV)
        st = nns_graph_set_attr_int(g, *k, "trans_b", op == NNS_OP_GEMM && nns_node_attr_int(&g->nodes[mt->layer], "transB", 0));
    if (!st) st = act_attrs(g, mt->act, *k);
    return st;
}

/* The chain's nodes that move values (not the identities) again, each
 * reading the quantized output of the node before it (*k: the last). */
static nns_status add_chain_from(nns_graph *g, const lower_match *mt, int v, int *k) {
    nns_status st = NNS_OK;
    for (int c = 0; c < mt->n_chain && !st; c++) {
        const int old = mt->chain[c];
        const int op = g->nodes[old].op;
        if (op == NNS_OP_DROPOUT || op == NNS_OP_IDENTITY) continue;
        char name[512], out[600];
        if ((st = rename_old(g, old, name, sizeof name))) break;
        snprintf(out, sizeof out, "%s.int8", name);
        const char *in[2] = {g->values[v].name, in_name(g, old, 1)};
        const char *outs[1] = {out};
        int n = -1;
        st = nns_graph_add_node(g, g->nodes[old].op_type, name, op == NNS_OP_RESHAPE ? 2 : 1, in, 1, outs, &n);
        if (!st) st = copy_attrs(g, old, n);
        if (!st) *k = n, v = g->nodes[n].out[0];
    }
    return st;
}

static nns_status add_chain(nns_graph *g, const lower_match *mt, int *k) {
    return add_chain_from(g, mt, g->nodes[*k].out[0], k);
}

/* The new node k takes over value v (the QuantizeLinear's output, or the
 * layer's): the old writer of v writes k's fresh value instead, which no
 * one reads. */
static void take_over(nns_graph *g, int k, int v) {
    const int fresh = g->nodes[k].out[0], old = g->values[v].producer;
    g->nodes[k].out[0] = v;
    g->values[v].producer = k;
    for (int j = 0; j < g->nodes[old].n_out; j++)
        if (g->nodes[old].out[j] == v) g->nodes[old].out[j] = fresh;
    g->values[fresh].producer = old;
}

static nns_status lower_one(nns_graph *g, const lower_match *mt, int *done) {
    int32_t *b = NULL;
    int fits;
    *done = 0;
    nns_status st = make_bias(g, mt, &b, &fits);
    if (st || !fits) return st;
    char bname[512] = "";
    if (b) {
        const nns_node *L = &g->nodes[mt->layer];
        snprintf(bname, sizeof bname, "%s.bias_s32", L->name);
        const nns_shape s = nns_shape_make(1, &mt->m);
        st = nns_graph_add_param(g, bname, NNS_DTYPE_S32, &s, b, 0, NULL);
        free(b);
    }
    int k = -1;
    if (!st) st = add_int8_node(g, mt, bname, &k);
    if (!st) st = add_chain(g, mt, &k);
    if (!st) take_over(g, k, mt->q >= 0 ? g->nodes[mt->q].out[0] : g->nodes[mt->layer].out[0]);
    *done = !st;
    return st;
}

/* Node i's match, if it has one. */
static int match(const nns_graph *g, const int *readers, int i, lower_match *mt) {
    memset(mt, 0, sizeof *mt);
    mt->layer = i;
    if (!layer_ok(g, i, mt)) return 0;
    const nns_node *n = &g->nodes[i];
    mt->xdq = dq_of(g, n->in[0]);
    mt->wdq = dq_of(g, n->in[1]);
    if (mt->xdq < 0 || mt->wdq < 0 || !act_dq_ok(g, mt->xdq) || !weight_dq_ok(g, mt->wdq, mt->out_axis, mt->m)) return 0;
    find_output(g, readers, mt);
    return 1;
}

/* Add i of two dequantized activations of one shape, then a chain and a
 * QuantizeLinear: Int8Add (mt->xdq, mt->wdq: the two DequantizeLinear). */
static int match_add(const nns_graph *g, const int *readers, int i, lower_match *mt) {
    const nns_node *n = &g->nodes[i];
    memset(mt, 0, sizeof *mt);
    mt->layer = i;
    mt->add = -1;
    if (n->op != NNS_OP_ADD || n->n_in != 2 || n->in[0] < 0 || n->in[1] < 0) return 0;
    mt->xdq = dq_of(g, n->in[0]);
    mt->wdq = dq_of(g, n->in[1]);
    if (mt->xdq < 0 || mt->wdq < 0 || !act_dq_ok(g, mt->xdq) || !act_dq_ok(g, mt->wdq)) return 0;
    if (!nns_shape_eq(&g->values[n->in[0]].shape, &g->values[n->in[1]].shape)) return 0;
    find_chain(g, readers, mt, n->out[0]);
    return mt->q >= 0;
}

static nns_status lower_add(nns_graph *g, const lower_match *mt) {
    char name[512], out[600];
    nns_status st = rename_old(g, mt->layer, name, sizeof name);
    if (st) return st;
    snprintf(out, sizeof out, "%s.int8", name);
    const int a = mt->xdq, b = mt->wdq, q = mt->q;
    const char *in[8] = {in_name(g, a, 0), in_name(g, a, 1), in_name(g, a, 2), in_name(g, b, 0),
                         in_name(g, b, 1), in_name(g, b, 2), in_name(g, q, 1),  in_name(g, q, 2)};
    const char *outs[1] = {out};
    int k = -1;
    st = nns_graph_add_node(g, "Int8Add", name, 8, in, 1, outs, &k);
    if (!st) st = act_attrs(g, mt->act, k);
    if (!st) st = add_chain(g, mt, &k);
    if (!st) take_over(g, k, g->nodes[q].out[0]);
    return st;
}

/* DequantizeLinear i of an activation, then a chain and a QuantizeLinear:
 * the chain on the quantized values, then Int8Lut. */
static int match_dq(const nns_graph *g, const int *readers, int i, lower_match *mt) {
    memset(mt, 0, sizeof *mt);
    mt->layer = mt->xdq = i;
    mt->add = -1;
    if (g->nodes[i].op != NNS_OP_DEQUANTIZELINEAR || !act_dq_ok(g, i)) return 0;
    find_chain(g, readers, mt, g->nodes[i].out[0]);
    return mt->q >= 0;
}

static int32_t q8_at(const nns_value *v, int c) {
    return v->dtype == NNS_DTYPE_S8 ? (int32_t)(int8_t)(uint8_t)c : c;
}

/* The table of the DequantizeLinear, the activation and the
 * QuantizeLinear of mt, entry c for the stored byte c, as the float graph
 * computes each value (so the table is exact); *identity: every entry is
 * its byte. */
static nns_status lut_of(nns_graph *g, const lower_match *mt, uint8_t *t, int *identity) {
    const nns_node *d = &g->nodes[mt->xdq], *q = &g->nodes[mt->q];
    const nns_value *x = &g->values[d->in[0]], *z1 = present(d, 2) ? &g->values[d->in[2]] : NULL;
    const nns_value *z2 = &g->values[q->in[2]];
    const float s1 = ((const float *)g->values[d->in[1]].data)[0], s2 = ((const float *)g->values[q->in[1]].data)[0];
    const int32_t zp1 = z1 ? q8_at(z1, ((const uint8_t *)z1->data)[0]) : 0, zp2 = q8_at(z2, ((const uint8_t *)z2->data)[0]);
    const int sgn2 = z2->dtype == NNS_DTYPE_S8;
    nns_epilogue epi;
    nns_status st = act_clamp(g, mt->act, &epi);
    if (st) return st;
    *identity = x->dtype == z2->dtype;
    for (int c = 0; c < 256; c++) {
        const float v = nns_fuse_act_apply((float)(q8_at(x, c) - zp1) * s1, epi.act, epi.lo, epi.hi);
        t[c] = (uint8_t)nns_q_round(v / s2, zp2, sgn2 ? -128 : 0, sgn2 ? 127 : 255);
        *identity &= t[c] == (uint8_t)c;
    }
    return NNS_OK;
}

static nns_status lower_dq(nns_graph *g, const lower_match *mt) {
    uint8_t t[256];
    int identity = 0, k = -1;
    nns_status st = lut_of(g, mt, t, &identity);
    if (st) return st;
    st = add_chain_from(g, mt, g->nodes[mt->xdq].in[0], &k);
    if (!st && (!identity || k < 0)) {
        char name[512], out[600], tname[600];
        st = rename_old(g, mt->q, name, sizeof name);
        snprintf(out, sizeof out, "%s.int8", name);
        snprintf(tname, sizeof tname, "%s.table", name);
        const nns_shape ts = nns_shape_make(1, (int64_t[]){256});
        if (!st) st = nns_graph_add_param(g, tname, g->values[g->nodes[mt->q].in[2]].dtype, &ts, t, 0, NULL);
        const char *in[2] = {k >= 0 ? g->values[g->nodes[k].out[0]].name : in_name(g, mt->xdq, 0), tname};
        if (!st) st = nns_graph_add_node(g, "Int8Lut", name, 2, in, 1, (const char *[]){out}, &k);
    }
    if (!st) take_over(g, k, g->nodes[mt->q].out[0]);
    return st;
}

/* Value v is read by DequantizeLinear nodes only. */
static int only_dequantized(const nns_graph *g, int v) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == v && g->nodes[i].op != NNS_OP_DEQUANTIZELINEAR) return 0;
    return 1;
}

/* 4-bit constants that only DequantizeLinear reads (a W4A8 layer's weight
 * and zero point) are held one value per byte: tagged s8 / u8 instead, they
 * dequantize to the same values and the layer lowers as an 8-bit one. */
static void widen_4bit(nns_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_DEQUANTIZELINEAR) continue;
        int ok = 1;
        for (int s = 0; s < 3 && ok; s += 2)
            if (present(n, s)) {
                const nns_value *v = &g->values[n->in[s]];
                ok = v->data && (v->dtype == NNS_DTYPE_S4 || v->dtype == NNS_DTYPE_U4) && only_dequantized(g, n->in[s]);
            }
        for (int s = 0; s < 3 && ok; s += 2)
            if (present(n, s))
                g->values[n->in[s]].dtype = g->values[n->in[s]].dtype == NNS_DTYPE_S4 ? NNS_DTYPE_S8 : NNS_DTYPE_U8;
    }
}

nns_status nns_graph_lower_int8(nns_graph *g, int *lowered) {
    widen_4bit(g);
    int n = 0, *readers = nns_graph_count_readers(g, 1 << 20); /* an output is never fused away */
    if (!readers) return nns_error(NNS_STATUS_NOMEM, "out of memory lowering to int8");
    nns_status st = NNS_OK;
    const int nodes = g->n_nodes;
    for (int i = 0; i < nodes && !st; i++) {
        lower_match mt;
        int done = 0;
        if (match(g, readers, i, &mt)) st = lower_one(g, &mt, &done);
        else if (match_add(g, readers, i, &mt)) done = !(st = lower_add(g, &mt));
        else if (match_dq(g, readers, i, &mt)) done = !(st = lower_dq(g, &mt));
        n += done;
    }
    free(readers);
    if (!st && n) st = nns_graph_toposort(g);
    if (!st && n) st = nns_graph_prune_dead(g);
    if (lowered) *lowered = n;
    return st;
}
