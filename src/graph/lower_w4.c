/* lower_w4.c — Gemms on low-precision weights run from the stored weights
 * (nnslim/graph.h). A Gemm (transB, alpha 1, beta 1, A not transposed)
 * whose C is absent or a constant of N values, and whose B is read by it
 * alone and is
 *  - a blocked DequantizeLinear along K of constant 4-bit codes, with a
 *    constant scale and no zero point (or zeros): it becomes GemmW4
 *    (src/ops/gemmw4.c) reading the codes and scales (nns_graph_lower_w4);
 *  - a Cast to float of a constant float16 [N, K]: it becomes GemmF16
 *    (src/ops/gemmf16.c) reading the float16 weight (nns_graph_lower_f16w).
 * The DequantizeLinear or Cast goes with nns_graph_prune_dead. */
#include <stdlib.h>

#include "core/graph_impl.h"
#include "ops/op.h"

static int const_f32(const nns_graph *g, int v) {
    return v >= 0 && g->values[v].data && g->values[v].dtype == NNS_DTYPE_F32;
}

/* 1 if the zero point (value z, -1: none) is absent or all zeros. */
static int zero_zp(const nns_graph *g, int z) {
    if (z < 0) return 1;
    const nns_value *v = &g->values[z];
    if (!v->data || (v->dtype != NNS_DTYPE_S4 && v->dtype != NNS_DTYPE_S8)) return 0;
    const int8_t *c = v->data;
    for (int64_t i = 0; i < nns_shape_numel(&v->shape); i++)
        if (c[i]) return 0;
    return 1;
}

/* Codes: constant [N, K], s4, or s8 (4-bit codes widened for the int8
 * plan) whose values all fit in 4 bits. */
static int codes_4bit(const nns_value *x) {
    if (!x->data || x->shape.ndim != 2) return 0;
    if (x->dtype == NNS_DTYPE_S4) return 1;
    if (x->dtype != NNS_DTYPE_S8) return 0;
    const int8_t *c = x->data;
    for (int64_t i = 0; i < nns_shape_numel(&x->shape); i++)
        if (c[i] < -8 || c[i] > 7) return 0;
    return 1;
}

/* The node that gives Gemm i its B, if Gemm i qualifies (transB, alpha 1,
 * beta 1, C absent or a constant of N values for N the rows of B's source
 * value src), else -1. */
static int gemm_source(const nns_graph *g, const int *readers, int i) {
    const nns_node *n = &g->nodes[i];
    if (n->op != NNS_OP_GEMM || n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0) return -1;
    if (nns_node_attr_int(n, "transA", 0) || !nns_node_attr_int(n, "transB", 0) ||
        nns_node_attr_float(n, "alpha", 1.0f) != 1.0f || nns_node_attr_float(n, "beta", 1.0f) != 1.0f)
        return -1;
    const int d = g->values[n->in[1]].producer;
    if (d < 0 || readers[n->in[1]] != 1 || g->nodes[d].n_in < 1 || g->nodes[d].in[0] < 0) return -1;
    const nns_shape *xs = &g->values[g->nodes[d].in[0]].shape;
    const int c = n->n_in > 2 ? n->in[2] : -1;
    if (xs->ndim != 2 || (c >= 0 && (!const_f32(g, c) || nns_shape_numel(&g->values[c].shape) != xs->dims[0] ||
                                     (g->values[c].shape.ndim == 2 && g->values[c].shape.dims[0] != 1))))
        return -1;
    return d;
}

/* The DequantizeLinear node that gives Gemm i its B, if the 4-bit rewrite
 * applies (see the top), else -1. */
static int match(const nns_graph *g, const int *readers, int i) {
    const int d = gemm_source(g, readers, i);
    if (d < 0) return -1;
    const nns_node *q = &g->nodes[d];
    if (q->op != NNS_OP_DEQUANTIZELINEAR || q->n_in < 2 || q->in[0] < 0 || !codes_4bit(&g->values[q->in[0]])) return -1;
    const int64_t axis = nns_node_attr_int(q, "axis", 1), bs = nns_node_attr_int(q, "block_size", 0);
    const nns_shape *xs = &g->values[q->in[0]].shape;
    if ((axis != 1 && axis != -1) || bs <= 0 || !const_f32(g, q->in[1])) return -1;
    if (!zero_zp(g, q->n_in > 2 ? q->in[2] : -1)) return -1;
    const nns_shape *ss = &g->values[q->in[1]].shape;
    if (ss->ndim != 2 || ss->dims[0] != xs->dims[0] || ss->dims[1] != (xs->dims[1] + bs - 1) / bs) return -1;
    return d;
}

/* The Cast node that gives Gemm i its B, if the float16 rewrite applies,
 * else -1. */
static int match_f16(const nns_graph *g, const int *readers, int i) {
    const int d = gemm_source(g, readers, i);
    if (d < 0) return -1;
    const nns_node *c = &g->nodes[d];
    const nns_value *w = &g->values[c->in[0]];
    return c->op == NNS_OP_CAST && nns_node_attr_int(c, "to", 0) == 1 && w->data && w->dtype == NNS_DTYPE_F16 ? d : -1;
}

/* Gemm i becomes GemmW4(A, codes, scale[, C]) with DequantizeLinear d's
 * block size, or (f16) GemmF16(A, weight[, C]) from Cast d. */
static nns_status rewrite(nns_graph *g, int i, int d, int f16) {
    nns_node *n = &g->nodes[i];
    const nns_node *q = &g->nodes[d];
    const int c = n->n_in > 2 ? n->in[2] : -1;
    int *in = malloc(4 * sizeof *in);
    char *op = nns_strdup(f16 ? "GemmF16" : "GemmW4");
    if (!in || !op) {
        free(in);
        free(op);
        return nns_error(NNS_STATUS_NOMEM, "out of memory lowering '%s'", n->name);
    }
    in[0] = n->in[0];
    in[1] = q->in[0];
    in[2] = f16 ? c : q->in[1];
    in[3] = c;
    free(n->in);
    n->in = in;
    n->n_in = f16 ? (c >= 0 ? 3 : 2) : (c >= 0 ? 4 : 3);
    free(n->op_type);
    n->op_type = op;
    n->op = f16 ? NNS_OP_GEMMF16 : NNS_OP_GEMMW4;
    return f16 ? NNS_OK : nns_graph_set_attr_int(g, i, "block_size", nns_node_attr_int(q, "block_size", 0));
}

static nns_status lower(nns_graph *g, int f16, int *lowered) {
    int n = 0, *readers = nns_graph_count_readers(g, 1 << 20);
    if (!readers) return nns_error(NNS_STATUS_NOMEM, "out of memory lowering low-precision weights");
    nns_status st = NNS_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        const int d = f16 ? match_f16(g, readers, i) : match(g, readers, i);
        if (d < 0) continue;
        st = rewrite(g, i, d, f16);
        n += !st;
    }
    free(readers);
    if (!st && n) st = nns_graph_prune_dead(g);
    if (lowered) *lowered = n;
    return st;
}

nns_status nns_graph_lower_w4(nns_graph *g, int *lowered) { return lower(g, 0, lowered); }

nns_status nns_graph_lower_f16w(nns_graph *g, int *lowered) { return lower(g, 1, lowered); }
