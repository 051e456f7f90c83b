/*
 * cle.c — cross-layer equalization (nns_quant_cle, quant/cle.h).
 *
 * For layers A -> f -> B with f positively homogeneous per channel
 * (f(x / s) = f(x) / s for s > 0: ReLU, max and average pooling, the
 * identity), dividing A's output channel c (weight and bias) by s_c and
 * multiplying B's input channel c by s_c leaves B's output unchanged. With
 * rA_c and rB_c the largest |weight| of channel c in A and in B, the choice
 * s_c = sqrt(rA_c / rB_c) makes both rA_c / s_c and rB_c * s_c equal to
 * sqrt(rA_c * rB_c): the channel's range is the same on both sides, which
 * evens out the channels' ranges when one scale covers a whole weight
 * (per-tensor quantization) and for depthwise layers. A layer in a chain is
 * B of one pair and A of the next, so the pairs are swept until no scale
 * moves by more than 1e-4.
 *
 * Clip (ReLU6) is not positively homogeneous: clip(x / s, 0, 6) * s clips
 * at 6 * s, and ONNX's Clip has one bound for all channels. A pair with a
 * Clip between is left alone (and counted), so the float model's function
 * never changes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "quant/cle.h"

typedef struct cle_pair {
    int a_w, a_axis, a_b; /* A's weight, its output-channel axis, A's bias (-1)    */
    int b_w, b_axis;      /* B's weight and the axis of its input channels          */
    int64_t ch;
} cle_pair;

/* Readers of each value (node inputs and graph outputs). */
static int *count_readers(const nns_graph *g) {
    int *u = calloc((size_t)(g->n_values ? g->n_values : 1), sizeof *u);
    if (!u) return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] >= 0) u[g->nodes[i].in[j]]++;
    for (int i = 0; i < g->n_outputs; i++) u[g->outputs[i]]++;
    return u;
}

/* The only node reading v as its input 0 (v read once, by a node), else -1. */
static int only_reader(const nns_graph *g, const int *readers, int v) {
    if (readers[v] != 1) return -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].n_in > 0 && g->nodes[i].in[0] == v) return i;
    return -1;
}

/* A float initializer of n elements that only one node reads. */
static int own_param(const nns_graph *g, const int *readers, int v, int64_t n) {
    if (v < 0) return 0;
    const nns_value *x = &g->values[v];
    return x->kind == NNS_VALUE_KIND_PARAM && x->dtype == NNS_DTYPE_F32 && x->data && readers[v] == 1 &&
           (n < 0 || nns_shape_numel(&x->shape) == n);
}

/* Node n between A and B passes each channel through a positively
 * homogeneous map: 1; a Clip: 2; anything else: 0. */
static int homogeneous(const nns_graph *g, const nns_node *n) {
    if (n->n_out != 1) return 0;
    switch (n->op) {
    case NNS_OP_RELU: case NNS_OP_LEAKYRELU: case NNS_OP_MAXPOOL: case NNS_OP_AVERAGEPOOL:
    case NNS_OP_GLOBALAVERAGEPOOL: case NNS_OP_IDENTITY: case NNS_OP_DROPOUT:
        return 1;
    case NNS_OP_CLIP:
        return 2;
    case NNS_OP_FLATTEN: { /* [N, C, 1, 1] -> [N, C]: channel c stays feature c */
        const nns_shape *s = &g->values[n->in[0]].shape;
        int64_t spatial = 1;
        for (int i = 2; i < s->ndim; i++) spatial *= s->dims[i];
        return s->ndim >= 2 && spatial == 1 && nns_node_attr_int(n, "axis", 1) == 1;
    }
    default:
        return 0;
    }
}

/* Node i as A: its weight, output axis, bias, channels. 0: not a candidate. */
static int as_first(const nns_graph *g, const int *readers, int i, cle_pair *p) {
    const nns_node *n = &g->nodes[i];
    if ((n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) || n->aux || n->n_out != 1) return 0;
    const int wi = nns_op_weight_in(n), bi = nns_op_bias_in(n);
    nns_weight_axes ax;
    if (wi < 0 || !own_param(g, readers, n->in[wi], -1)) return 0;
    const nns_value *w = &g->values[n->in[wi]];
    if (!nns_op_weight_axes(n, wi, w->shape.ndim, &ax) || ax.out_axis < 0) return 0;
    p->a_w = n->in[wi];
    p->a_axis = ax.out_axis;
    p->ch = w->shape.dims[ax.out_axis];
    p->a_b = bi >= 0 ? n->in[bi] : -1;
    if (p->a_b >= 0 && !own_param(g, readers, p->a_b, p->ch)) return 0;
    return p->ch >= 2;
}

/* Node n as B of a pair whose A has p->ch output channels: its weight and
 * the weight's input-channel axis. */
static int as_second(const nns_graph *g, const int *readers, const nns_node *n, cle_pair *p) {
    if ((n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) || n->aux) return 0;
    const int wi = nns_op_weight_in(n);
    if (wi < 0 || !own_param(g, readers, n->in[wi], -1)) return 0;
    const nns_value *w = &g->values[n->in[wi]];
    if (n->op == NNS_OP_GEMM) {
        nns_weight_axes ax;
        if (nns_node_attr_int(n, "transA", 0) || !nns_op_weight_axes(n, wi, w->shape.ndim, &ax)) return 0;
        p->b_axis = ax.red_first;
    } else {
        const int64_t group = nns_node_attr_int(n, "group", 1);
        if (w->shape.ndim < 3) return 0;
        if (group == 1) p->b_axis = 1;
        else if (group == p->ch && w->shape.dims[0] == p->ch && w->shape.dims[1] == 1) p->b_axis = 0; /* depthwise */
        else return 0;
    }
    p->b_w = n->in[wi];
    return w->shape.dims[p->b_axis] == p->ch;
}

/* The pair starting at node i: 1 found, 2 found but for a Clip, 0 none. */
static int find_pair(const nns_graph *g, const int *readers, int i, cle_pair *p) {
    if (!as_first(g, readers, i, p)) return 0;
    int v = g->nodes[i].out[0], clip = 0;
    for (int step = 0; step < 16; step++) {
        const int r = only_reader(g, readers, v);
        if (r < 0) return 0;
        const nns_node *n = &g->nodes[r];
        if (n->op == NNS_OP_CONV || n->op == NNS_OP_GEMM) return as_second(g, readers, n, p) ? 1 + clip : 0;
        const int h = homogeneous(g, n);
        if (!h) return 0;
        clip |= h == 2;
        v = n->out[0];
    }
    return 0;
}

/* r[c] = the largest |x| over the elements with index c on `axis`. */
static void channel_ranges(const nns_value *w, int axis, double *r) {
    int64_t outer = 1, inner = 1;
    const int64_t d = w->shape.dims[axis];
    for (int i = 0; i < axis; i++) outer *= w->shape.dims[i];
    for (int i = axis + 1; i < w->shape.ndim; i++) inner *= w->shape.dims[i];
    const float *x = w->data;
    for (int64_t c = 0; c < d; c++) r[c] = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < d; c++)
            for (int64_t k = 0; k < inner; k++) r[c] = fmax(r[c], fabs((double)x[(o * d + c) * inner + k]));
}

/* Multiply the elements with index c on `axis` by f[c] (invert: divide). */
static void scale_channels(nns_value *w, int axis, const double *f, int invert) {
    int64_t outer = 1, inner = 1;
    const int64_t d = axis < w->shape.ndim ? w->shape.dims[axis] : nns_shape_numel(&w->shape);
    for (int i = 0; i < axis && i < w->shape.ndim; i++) outer *= w->shape.dims[i];
    for (int i = axis + 1; i < w->shape.ndim; i++) inner *= w->shape.dims[i];
    float *x = w->data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < d; c++)
            for (int64_t k = 0; k < inner; k++) {
                float *e = &x[(o * d + c) * inner + k];
                *e = (float)(invert ? *e / f[c] : *e * f[c]);
            }
}

/* Equalize one pair; returns the largest |log s_c|. */
static double equalize(nns_graph *g, const cle_pair *p, double *ra, double *rb) {
    channel_ranges(&g->values[p->a_w], p->a_axis, ra);
    channel_ranges(&g->values[p->b_w], p->b_axis, rb);
    double worst = 0;
    for (int64_t c = 0; c < p->ch; c++) {
        const double s = ra[c] > 0 && rb[c] > 0 ? sqrt(ra[c] / rb[c]) : 1.0;
        ra[c] = isfinite(s) && s > 0 ? s : 1.0;
        worst = fmax(worst, fabs(log(ra[c])));
    }
    scale_channels(&g->values[p->a_w], p->a_axis, ra, 1);
    if (p->a_b >= 0) {
        nns_value *b = &g->values[p->a_b];
        float *x = b->data;
        for (int64_t c = 0; c < p->ch; c++) x[c] = (float)(x[c] / ra[c]);
    }
    scale_channels(&g->values[p->b_w], p->b_axis, ra, 0);
    return worst;
}

/* The pairs of g into *pairs (malloc'd). */
static nns_status collect_pairs(const nns_graph *g, cle_pair **pairs, nns_cle_stats *st, int64_t *max_ch) {
    int *readers = count_readers(g);
    *pairs = malloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof **pairs);
    if (!readers || !*pairs) {
        free(readers);
        return nns_error(NNS_STATUS_NOMEM, "out of memory for cross-layer equalization");
    }
    *max_ch = 1;
    for (int i = 0; i < g->n_nodes; i++) {
        cle_pair p;
        const int r = find_pair(g, readers, i, &p);
        if (r == 2) st->clip_refused++;
        if (r != 1) continue;
        (*pairs)[st->pairs++] = p;
        if (p.ch > *max_ch) *max_ch = p.ch;
    }
    free(readers);
    return NNS_OK;
}

nns_status nns_quant_cle(nns_graph *g, nns_cle_stats *stats) {
    memset(stats, 0, sizeof *stats);
    cle_pair *pairs = NULL;
    int64_t max_ch = 1;
    nns_status st = collect_pairs(g, &pairs, stats, &max_ch);
    if (st) return st;
    double *ra = malloc((size_t)max_ch * sizeof *ra), *rb = malloc((size_t)max_ch * sizeof *rb);
    if (!ra || !rb) st = nns_error(NNS_STATUS_NOMEM, "out of memory for cross-layer equalization");
    for (int sweep = 0; !st && stats->pairs && sweep < NNS_CLE_MAX_SWEEPS; sweep++) {
        double worst = 0;
        for (int k = 0; k < stats->pairs; k++) worst = fmax(worst, equalize(g, &pairs[k], ra, rb));
        stats->sweeps = sweep + 1;
        if (worst < 1e-4) break;
    }
    free(ra);
    free(rb);
    free(pairs);
    if (stats->pairs) nns_graph_params_changed(g);
    return st;
}
