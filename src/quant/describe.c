/* describe.c — what quantization made of a layer, read from its QDQ form
 * (nns_quant_layer_describe, nnslim/quant.h): precision, the weight's scales
 * and the input's scale and zero point. */
#include <math.h>
#include <string.h>

#include "core/graph_impl.h"
#include "graph/weights.h"
#include "nnslim/quant.h"

/* Value v's producer if it is an op-typed node, else -1. */
static int producer_of(const nns_graph *g, int v, int op) {
    const int p = v >= 0 ? g->values[v].producer : -1;
    return p >= 0 && g->nodes[p].op == op ? p : -1;
}

/* Element 0 (or min/max over all) of a float constant. */
static int const_range(const nns_graph *g, int v, float *lo, float *hi, int *n) {
    if (v < 0 || g->values[v].dtype != NNS_DTYPE_F32 || !g->values[v].data) return 0;
    const float *d = g->values[v].data;
    const int64_t k = nns_shape_numel(&g->values[v].shape);
    *lo = INFINITY, *hi = -INFINITY, *n = (int)k;
    for (int64_t i = 0; i < k; i++) *lo = fminf(*lo, d[i]), *hi = fmaxf(*hi, d[i]);
    return k > 0;
}

/* The zero point of a QuantizeLinear / DequantizeLinear node (0 if absent). */
static int32_t zero_point(const nns_graph *g, const nns_node *n) {
    if (n->n_in < 3 || n->in[2] < 0 || !g->values[n->in[2]].data) return 0;
    const nns_value *z = &g->values[n->in[2]];
    const nns_dtype_info *dt = nns_dtype_get_info(z->dtype);
    return dt ? (int32_t)dt->to_f32(z->data) : 0;
}

nns_status nns_quant_layer_describe(const nns_graph *g, int node, nns_quant_layer *q) {
    memset(q, 0, sizeof *q);
    if (node < 0 || node >= g->n_nodes)
        return nns_error(NNS_STATUS_INVALID_ARG, "node index %d is not in the graph", node);
    nns_graph_layer_precision(g, node, q->precision, sizeof q->precision);
    const nns_node *n = &g->nodes[node];
    const int wi = nns_op_weight_in(n);
    const int wdq = wi >= 0 ? producer_of(g, n->in[wi], NNS_OP_DEQUANTIZELINEAR) : -1;
    if (wdq >= 0)
        const_range(g, g->nodes[wdq].in[1], &q->weight_scale_min, &q->weight_scale_max, &q->weight_scales);
    const int xdq = producer_of(g, n->in[0], NNS_OP_DEQUANTIZELINEAR);
    const int xq = xdq >= 0 ? producer_of(g, g->nodes[xdq].in[0], NNS_OP_QUANTIZELINEAR) : -1;
    float lo, hi;
    int k;
    if (xq >= 0 && const_range(g, g->nodes[xq].in[1], &lo, &hi, &k) && k == 1) {
        q->input_quantized = 1;
        q->input_scale = lo;
        q->input_zero_point = zero_point(g, &g->nodes[xq]);
    }
    return NNS_OK;
}
