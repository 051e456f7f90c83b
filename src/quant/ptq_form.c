/*
 * ptq_form.c — the QDQ form post-training quantization and QAT write,
 * beyond the weights and the layers' inputs:
 *   - each layer's output is quantized too (after its Relu / Clip when that
 *     is the output's only reader; not a graph output), and every reader of
 *     a quantized activation reads it through the DequantizeLinear, so that
 *     a tensor is quantized once, as an integer runtime stores it;
 *   - a Relu or Clip whose bounds the QuantizeLinear after it already
 *     imposes (Q(lo) = qmin and Q(hi) = qmax: a u8 zero point of 0 after a
 *     Relu) is dropped: the same values, and the Conv -> QuantizeLinear
 *     pattern integer runtimes fuse;
 *   - a layer's float bias becomes s32 at x_scale * w_scale[c], read
 *     through DequantizeLinear, where the layer's input and weight are
 *     quantized (ONNX's QLinearConv convention, which runtimes need to run
 *     the layer in integers).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnslim/quant.h"
#include "ops/op.h"
#include "quant/ptq_internal.h"

static int is_graph_output(const nns_graph *g, int v) {
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == v) return 1;
    return 0;
}

/* The only node reading v, or -1. */
static int only_reader(const nns_graph *g, int v) {
    int r = -1;
    if (is_graph_output(g, v)) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == v) {
                if (r >= 0 && r != i) return -1;
                r = i;
            }
    return r;
}

int nns_ptq_output_act(const nns_graph *g, int layer) {
    int v = g->nodes[layer].out[0];
    const int r = only_reader(g, v);
    if (r >= 0 && (g->nodes[r].op == NNS_OP_RELU || g->nodes[r].op == NNS_OP_CLIP) && g->nodes[r].in[0] == v)
        v = g->nodes[r].out[0];
    return is_graph_output(g, v) || g->values[v].dtype != NNS_DTYPE_F32 ? -1 : v;
}

void nns_ptq_redirect(nns_graph *g, int v, int dq) {
    const int q = g->values[g->nodes[g->values[dq].producer].in[0]].producer; /* DQ <- Q <- v */
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == v && i != q) g->nodes[i].in[j] = dq;
}

/* Relu / Clip node a's clamp from its op. */
static int act_bounds(const nns_graph *g, int a, float *lo, float *hi) {
    const nns_op_def *def = nns_op_table[g->nodes[a].op];
    void *params = calloc(1, def->params_size ? def->params_size : 1);
    nns_epilogue epi;
    memset(&epi, 0, sizeof epi);
    const int ok = params && (!def->prepare || def->prepare(g, &g->nodes[a], params) == NNS_OK) && def->clamp;
    if (ok) def->clamp(params, &epi);
    free(params);
    *lo = epi.act == NNS_FUSE_ACT_RELU ? 0.0f : epi.lo;
    *hi = epi.act == NNS_FUSE_ACT_RELU ? INFINITY : epi.hi;
    return ok && epi.act != NNS_FUSE_ACT_NONE;
}

/* QuantizeLinear q reads a Relu / Clip that only it reads and whose bounds
 * its range already imposes: q reads the activation's input instead. */
static void drop_redundant_act(nns_graph *g, int q) {
    nns_node *n = &g->nodes[q];
    const int a = g->values[n->in[0]].producer;
    if (a < 0 || (g->nodes[a].op != NNS_OP_RELU && g->nodes[a].op != NNS_OP_CLIP) || only_reader(g, n->in[0]) != q) return;
    if (n->n_in < 3 || n->in[2] < 0 || !g->values[n->in[1]].data || !g->values[n->in[2]].data) return;
    const nns_value *s = &g->values[n->in[1]], *z = &g->values[n->in[2]];
    if (nns_shape_numel(&s->shape) != 1) return;
    const int sgn = z->dtype == NNS_DTYPE_S8;
    const int32_t zp = sgn ? *(const int8_t *)z->data : *(const uint8_t *)z->data, qmin = sgn ? -128 : 0,
                  qmax = sgn ? 127 : 255;
    const float sc = *(const float *)s->data;
    float lo, hi;
    if (!act_bounds(g, a, &lo, &hi)) return;
    if (nns_quantize_value(lo / sc, zp, qmin, qmax) == qmin && nns_quantize_value(hi / sc, zp, qmin, qmax) == qmax)
        n->in[0] = g->nodes[a].in[0];
}

/* The scalar scale of the DequantizeLinear writing v, or 0. */
static float act_scale(const nns_graph *g, int v) {
    const int d = g->values[v].producer;
    if (d < 0 || g->nodes[d].op != NNS_OP_DEQUANTIZELINEAR) return 0.0f;
    const nns_value *s = &g->values[g->nodes[d].in[1]];
    return s->data && nns_shape_numel(&s->shape) == 1 && g->values[g->nodes[d].in[0]].data == NULL
               ? *(const float *)s->data
               : 0.0f;
}

/* Layer i's float bias as s32 through DequantizeLinear, when its input is
 * a quantized activation and its weight a quantized constant. */
static nns_status bias_to_s32(nns_graph *g, int i) {
    const nns_node *n = &g->nodes[i];
    const int bi = nns_op_bias_in(n), wi = nns_op_weight_in(n);
    if (bi < 0 || bi >= n->n_in || n->in[bi] < 0 || wi < 0 || n->in[0] < 0) return NNS_OK;
    const nns_value *b = &g->values[n->in[bi]];
    const int wd = g->values[n->in[wi]].producer;
    const float xs = act_scale(g, n->in[0]);
    if (!b->data || b->dtype != NNS_DTYPE_F32 || b->shape.ndim != 1 || xs == 0.0f || wd < 0 ||
        g->nodes[wd].op != NNS_OP_DEQUANTIZELINEAR || !g->values[g->nodes[wd].in[0]].data)
        return NNS_OK;
    const nns_value *ws = &g->values[g->nodes[wd].in[1]];
    const int64_t m = b->shape.dims[0], nws = nns_shape_numel(&ws->shape);
    if (nws != 1 && nws != m) return NNS_OK;
    float *sc = malloc((size_t)m * sizeof *sc);
    int32_t *q = malloc((size_t)m * sizeof *q);
    nns_status st = sc && q ? NNS_OK : nns_error(NNS_STATUS_NOMEM, "out of memory quantizing the bias of '%s'", n->name);
    for (int64_t c = 0; !st && c < m; c++) {
        sc[c] = xs * ((const float *)ws->data)[nws == 1 ? 0 : c];
        const double v = rint((double)((const float *)b->data)[c] / (double)sc[c]);
        if (!(fabs(v) <= (double)(1 << 30))) { /* keeps the float bias: the integer form would not hold it */
            free(sc);
            free(q);
            return NNS_OK;
        }
        q[c] = (int32_t)v;
    }
    int dq = -1;
    if (!st) st = nns_ptq_bias_qdq(g, n->in[bi], m, q, sc, &dq);
    if (!st) g->nodes[i].in[bi] = dq;
    free(sc);
    free(q);
    return st;
}

nns_status nns_ptq_integer_form(nns_graph *g, int bias_s32) {
    nns_status st = NNS_OK;
    const int nodes = g->n_nodes;
    for (int i = 0; i < nodes; i++)
        if (g->nodes[i].op == NNS_OP_QUANTIZELINEAR) drop_redundant_act(g, i);
    for (int i = 0; bias_s32 && !st && i < nodes; i++)
        if (!g->nodes[i].aux) st = bias_to_s32(g, i);
    return st;
}
