/* weights.c — the contracted weights of a graph and their masks (see
 * weights.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/weights.h"

/* An initializer with data that is a weight where an op reads it as one:
 * an f32 one when it is trainable (not BN statistics or a frozen constant),
 * one of another dtype (an s8 weight) always: by role, not dtype. */
static int is_weight_value(const nns_value *val) {
    if (!val->data || (val->kind != NNS_VALUE_KIND_PARAM && val->kind != NNS_VALUE_KIND_CONST)) return 0;
    return val->dtype != NNS_DTYPE_F32 || (val->kind == NNS_VALUE_KIND_PARAM && val->trainable);
}

int nns_graph_input_is_weight(const nns_graph *g, int node, int slot) {
    const nns_node *n = &g->nodes[node];
    if (slot < 0 || slot >= n->n_in || n->in[slot] < 0) return 0;
    const nns_value *v = &g->values[n->in[slot]];
    if (v->dtype == NNS_DTYPE_F32) return v->kind == NNS_VALUE_KIND_PARAM && v->trainable;
    if (!is_weight_value(v)) return 0;
    nns_weight_axes ax;
    return slot == nns_op_weight_in(n) || slot == nns_op_bias_in(n) ||
           nns_op_weight_axes(n, slot, v->shape.ndim, &ax);
}

/* The producer of value v when it is a DequantizeLinear node, else -1. */
static int dequant_producer(const nns_graph *g, int v) {
    const int p = v >= 0 ? g->values[v].producer : -1;
    return p >= 0 && g->nodes[p].op == NNS_OP_DEQUANTIZELINEAR && g->nodes[p].in[0] >= 0 ? p : -1;
}

/* The producer of value v when it decodes a stored weight: a
 * DequantizeLinear, or a Cast (of an f16 or bf16 weight); else -1. */
static int decode_producer(const nns_graph *g, int v) {
    const int p = v >= 0 ? g->values[v].producer : -1;
    if (p >= 0 && g->nodes[p].op == NNS_OP_CAST && g->nodes[p].in[0] >= 0) return p;
    return dequant_producer(g, v);
}

int nns_graph_weight_source(const nns_graph *g, int node, int slot) {
    if (nns_graph_input_is_weight(g, node, slot)) return g->nodes[node].in[slot];
    const nns_node *n = &g->nodes[node];
    if (slot < 0 || slot >= n->n_in || (slot != nns_op_weight_in(n) && slot != nns_op_bias_in(n))) return -1;
    const int p = decode_producer(g, n->in[slot]);
    if (p < 0) return -1;
    const int q = g->nodes[p].in[0];
    return is_weight_value(&g->values[q]) ? q : -1;
}

int nns_graph_integer_weight(const nns_graph *g, int node) {
    const nns_node *n = &g->nodes[node];
    if ((n->op != NNS_OP_CONVINTEGER && n->op != NNS_OP_MATMULINTEGER) || n->n_in < 2 || n->in[1] < 0) return -1;
    return g->values[n->in[1]].data ? n->in[1] : -1;
}

/* The 16-bit type that activation v was rounded to by a Cast to it and a
 * Cast back to float, else NNS_DTYPE_UNDEFINED. */
static int half_rounded(const nns_graph *g, int v) {
    const int back = v >= 0 ? g->values[v].producer : -1;
    if (back < 0 || g->nodes[back].op != NNS_OP_CAST || g->nodes[back].in[0] < 0) return NNS_DTYPE_UNDEFINED;
    const nns_dtype t = g->values[g->nodes[back].in[0]].dtype;
    const int to = g->values[g->nodes[back].in[0]].producer;
    const int rounded = to >= 0 && g->nodes[to].op == NNS_OP_CAST && (t == NNS_DTYPE_F16 || t == NNS_DTYPE_BF16);
    return rounded ? (int)t : NNS_DTYPE_UNDEFINED;
}

void nns_graph_layer_precision(const nns_graph *g, int node, char *buf, size_t len) {
    const nns_node *n = &g->nodes[node];
    const int wi = nns_op_weight_in(n), w = wi >= 0 ? nns_graph_weight_source(g, node, wi) : -1;
    buf[0] = 0;
    const int wint = nns_graph_integer_weight(g, node);
    if (wint >= 0) { /* ConvInteger / MatMulInteger: 8-bit operands; "dyn" when a DynamicQuantizeLinear feeds it */
        const int p = n->in[0] >= 0 ? g->values[n->in[0]].producer : -1;
        const int dyn = p >= 0 && g->nodes[p].op == NNS_OP_DYNAMICQUANTIZELINEAR;
        snprintf(buf, len, "W8A8%s", dyn ? "dyn" : "");
        return;
    }
    if (w < 0) return;
    const nns_dtype wt = g->values[w].dtype;
    if (wt == NNS_DTYPE_F32 || wt == NNS_DTYPE_F16 || wt == NNS_DTYPE_BF16) {
        const int a16 = wt != NNS_DTYPE_F32 ? half_rounded(g, n->in[0]) : NNS_DTYPE_UNDEFINED;
        if (a16 != NNS_DTYPE_UNDEFINED) /* activations rounded to 16 bits too */
            snprintf(buf, len, "W%sA%s", nns_dtype_name(wt), nns_dtype_name((nns_dtype)a16));
        else snprintf(buf, len, "%s", nns_dtype_name(wt)); /* activations in float */
        return;
    }
    const int p = dequant_producer(g, n->in[0]);
    const int q = p >= 0 ? g->values[g->nodes[p].in[0]].producer : -1;
    const int act8 = q >= 0 && g->nodes[q].op == NNS_OP_QUANTIZELINEAR;
    const int bits = wt == NNS_DTYPE_S4 || wt == NNS_DTYPE_U4 ? 4 : (int)nns_dtype_size(wt) * 8;
    const int wdq = dequant_producer(g, n->in[wi]);
    const int64_t block = wdq >= 0 ? nns_node_attr_int(&g->nodes[wdq], "block_size", 0) : 0;
    if (block > 0) snprintf(buf, len, "W%dA%dg%lld", bits, act8 ? 8 : 32, (long long)block); /* grouped */
    else snprintf(buf, len, "W%dA%d", bits, act8 ? 8 : 32);
}

int nns_weight_layout(const nns_graph *g, int node, int slot, nns_weight_ref *w) {
    const nns_node *n = &g->nodes[node];
    if (slot < 0 || slot >= n->n_in || n->in[slot] < 0) return 0;
    const nns_value *v = &g->values[n->in[slot]];
    if (!is_weight_value(v)) return 0;
    const nns_shape *s = &v->shape;
    int64_t numel = nns_shape_numel(s);
    if (numel <= 0) return 0;
    nns_weight_axes ax;
    if (!nns_op_weight_axes(n, slot, s->ndim, &ax)) return 0;
    memset(w, 0, sizeof *w);
    w->value = n->in[slot];
    w->dtype = v->dtype;
    w->node = node;
    w->slot = slot;
    w->axes = ax;
    w->numel = numel;
    if (ax.out_axis < 0) { /* one reduction row */
        w->outer = w->inner = 1;
        w->red = numel;
        w->red_stride = 1;
        return 1;
    }
    int64_t stride[NNS_MAX_DIMS], st = 1;
    for (int d = s->ndim - 1; d >= 0; d--) {
        stride[d] = st;
        st *= s->dims[d];
    }
    int nb = ax.out_axis < ax.red_first ? ax.out_axis : ax.red_first; /* batch axes */
    int64_t batch = 1;
    for (int d = 0; d < nb; d++) batch *= s->dims[d];
    w->inner = s->dims[ax.out_axis];
    w->outer = batch * w->inner;
    w->red = nns_weight_fan_in(s, &ax);
    w->inner_stride = stride[ax.out_axis];
    w->red_stride = stride[ax.red_last];
    w->batch_stride = nb > 0 ? stride[nb - 1] : 0;
    return 1;
}

nns_status nns_graph_list_weights(const nns_graph *g, nns_weight_ref **out, int *n_out) {
    *out = NULL;
    *n_out = 0;
    /* a node contracts at most two inputs (MatMul's A and B) */
    nns_weight_ref *t = malloc((size_t)(g->n_nodes * 2 + 1) * sizeof *t);
    if (!t) return nns_error(NNS_STATUS_NOMEM, "out of memory listing the weights");
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in && j < 2; j++) {
            nns_weight_ref w;
            if (!nns_weight_layout(g, i, j, &w)) continue;
            int k;
            for (k = 0; k < n && t[k].value != w.value; k++) {}
            if (k == n) t[n++] = w;
        }
    if (!n) {
        free(t);
        t = NULL;
    }
    *out = t;
    *n_out = n;
    return NNS_OK;
}

nns_status nns_graph_masks_ensure(nns_graph *g) {
    nns_status st = nns_graph_pack_params(g);
    if (st) return st;
    if (g->masks) return NNS_OK;
    float *m = malloc((size_t)(g->n_params ? g->n_params : 1) * sizeof(float));
    if (!m) return nns_error(NNS_STATUS_NOMEM, "out of memory for %lld pruning masks", (long long)g->n_params);
    for (int64_t i = 0; i < g->n_params; i++) m[i] = 1.0f;
    g->masks = m;
    return NNS_OK;
}

nns_status nns_graph_keep_zeros(nns_graph *g, int64_t *zeros) {
    nns_status st = nns_graph_masks_from_zeros(g);
    if (st || !zeros) return st;
    *zeros = 0;
    for (int64_t i = 0; i < g->n_params; i++) *zeros += g->masks[i] == 0.0f;
    return NNS_OK;
}

nns_status nns_graph_masks_from_zeros(nns_graph *g) {
    nns_weight_ref *t;
    int n;
    nns_status st = nns_graph_list_weights(g, &t, &n);
    if (st) return st;
    if ((st = nns_graph_masks_ensure(g))) {
        free(t);
        return st;
    }
    for (int k = 0; k < n; k++) {
        const nns_value *v = &g->values[t[k].value];
        if (v->param_offset < 0) continue;
        const float *w = g->params + v->param_offset;
        float *m = g->masks + v->param_offset;
        for (int64_t i = 0; i < t[k].numel; i++)
            if (w[i] == 0.0f) m[i] = 0.0f;
    }
    free(t);
    return NNS_OK;
}
