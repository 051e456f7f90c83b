/*
 * qat_bn.c — quantization-aware training whose BatchNormalization
 * statistics follow the batches for the first epochs, then freeze
 * (nns_ptq_config.bn_freeze_epoch; qat.c drives it):
 *
 *   record  before PTQ's preparation folds them, each BatchNormalization
 *           that follows a Conv or Gemm: its parameters and statistics;
 *   insert  after folding, a BatchNormalization again after each such
 *           layer, made so that with its running statistics it computes
 *           the identity: mean' = beta, var' = gamma^2 var / (var + eps),
 *           scale' = sqrt(var' + eps), B' = beta. The folded layer's output
 *           is gamma (x - mean) / sqrt(var + eps) + beta, so in training
 *           the new node normalises with the batch's statistics exactly as
 *           the original did (a negative gamma included), and updates its
 *           running ones; scale' and B' train;
 *   fold    at the freeze epoch, each inserted node folded into its layer
 *           (W * a and (b - mean') * a + B' per output channel, a = scale'
 *           / sqrt(var' + eps)); the layer's weight FakeQuant scales are
 *           multiplied by |a| (per channel: the fake-quantized weight is
 *           the old one times a, exactly; per tensor by the largest |a|,
 *           which keeps the weight's range inside the integer range).
 *
 * The fake-quantized weight is the folded one throughout, as in the
 * result; the activation FakeQuant of a layer's output follows the
 * inserted node.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/weights.h"
#include "ops/op.h"
#include "quant/ptq_internal.h"

typedef struct qat_bn_rec {
    char out[256];      /* the BatchNormalization's output value */
    char layer[256];    /* the Conv or Gemm before it */
    char node[512];     /* the inserted node, once inserted ("" if none) */
    int64_t ch;
    float *p;           /* gamma, beta, mean, var: 4 * ch */
    float eps, momentum;
} qat_bn_rec;

struct nns_qat_bn {
    int n;
    qat_bn_rec *r;
};

void nns_qat_bn_free(nns_qat_bn *b) {
    if (!b) return;
    for (int i = 0; i < b->n; i++) free(b->r[i].p);
    free(b->r);
    free(b);
}

/* BatchNormalization node i with float parameters of one channel count, after a
 * Conv or Gemm: 1 and its record, else 0. */
static int record_one(const nns_graph *g, int i, qat_bn_rec *r) {
    const nns_node *bn = &g->nodes[i];
    if (bn->op != NNS_OP_BATCHNORM || bn->n_in != 5 || bn->n_out < 1 || bn->in[0] < 0) return 0;
    const int p = g->values[bn->in[0]].producer;
    if (p < 0 || (g->nodes[p].op != NNS_OP_CONV && g->nodes[p].op != NNS_OP_GEMM)) return 0;
    const int64_t ch = bn->in[1] >= 0 ? nns_shape_numel(&g->values[bn->in[1]].shape) : 0;
    for (int j = 1; j < 5; j++) {
        const nns_value *v = bn->in[j] >= 0 ? &g->values[bn->in[j]] : NULL;
        if (!v || !v->data || v->dtype != NNS_DTYPE_F32 || nns_shape_numel(&v->shape) != ch || ch <= 0) return 0;
    }
    memset(r, 0, sizeof *r);
    r->p = malloc((size_t)ch * 4 * sizeof(float));
    if (!r->p) return -1;
    for (int j = 0; j < 4; j++) memcpy(r->p + j * ch, g->values[bn->in[1 + j]].data, (size_t)ch * sizeof(float));
    snprintf(r->out, sizeof r->out, "%s", g->values[bn->out[0]].name);
    snprintf(r->layer, sizeof r->layer, "%s", g->nodes[p].name);
    r->ch = ch;
    r->eps = nns_node_attr_float(bn, "epsilon", 1e-5f);
    r->momentum = nns_node_attr_float(bn, "momentum", 0.9f);
    return 1;
}

nns_status nns_qat_bn_record(const nns_graph *g, nns_qat_bn **out) {
    nns_qat_bn *b = calloc(1, sizeof *b);
    if (b) b->r = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof *b->r);
    if (!b || !b->r) {
        nns_qat_bn_free(b);
        return nns_error(NNS_STATUS_NOMEM, "out of memory for QAT's BatchNormalization statistics");
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const int k = record_one(g, i, &b->r[b->n]);
        if (k < 0) {
            nns_qat_bn_free(b);
            return nns_error(NNS_STATUS_NOMEM, "out of memory for QAT's BatchNormalization statistics");
        }
        b->n += k;
    }
    *out = b;
    return NNS_OK;
}

/* Parameter "<node><suffix>" of ch floats. */
static nns_status add_vec(nns_graph *g, const char *node, const char *suffix, int64_t ch, const float *v, int train,
                          char *name, size_t len) {
    nns_ptq_fresh_name(g, node, suffix, name, len);
    const nns_shape s = nns_shape_make(1, &ch);
    return nns_graph_add_param(g, name, NNS_DTYPE_F32, &s, v, train, NULL);
}

/* The identity BatchNormalization after the folded layer of r, its
 * readers (and p's activation, if it is one) moved to its output. */
static nns_status insert_one(nns_graph *g, qat_bn_rec *r, nns_ptq_plan *p) {
    const int y = nns_graph_find_value(g, r->out), l = y >= 0 ? g->values[y].producer : -1;
    if (l < 0 || strcmp(g->nodes[l].name, r->layer) != 0) return NNS_OK; /* not folded: nothing to put back */
    const int64_t ch = r->ch;
    float *v = malloc((size_t)ch * 4 * sizeof *v);
    if (!v) return nns_error(NNS_STATUS_NOMEM, "out of memory for QAT's BatchNormalization statistics");
    const float *gamma = r->p, *beta = r->p + ch, *var = r->p + 3 * ch;
    for (int64_t c = 0; c < ch; c++) {
        const double var2 = (double)gamma[c] * gamma[c] * var[c] / ((double)var[c] + r->eps);
        v[c] = (float)sqrt(var2 + r->eps); /* scale' */
        v[ch + c] = beta[c];               /* B' */
        v[2 * ch + c] = beta[c];           /* mean' */
        v[3 * ch + c] = (float)var2;       /* var' */
    }
    char base[300], names[4][512], out[512];
    snprintf(base, sizeof base, "%s", r->layer);
    nns_ptq_fresh_name(g, base, "_qat_bn", r->node, sizeof r->node);
    static const char *const suf[4] = {"_qat_bn_scale", "_qat_bn_bias", "_qat_bn_mean", "_qat_bn_var"};
    nns_status st = NNS_OK;
    for (int j = 0; j < 4 && !st; j++) st = add_vec(g, base, suf[j], ch, v + j * ch, j < 2, names[j], sizeof names[j]);
    free(v);
    nns_ptq_fresh_name(g, base, "_qat_bn_out", out, sizeof out);
    const char *in[5] = {r->out, names[0], names[1], names[2], names[3]}, *outs[1] = {out};
    int k = -1;
    if (!st) st = nns_graph_add_node(g, "BatchNormalization", r->node, 5, in, 1, outs, &k);
    if (!st) st = nns_graph_set_attr_float(g, k, "epsilon", r->eps);
    if (!st) st = nns_graph_set_attr_float(g, k, "momentum", r->momentum);
    if (st) return st;
    const int z = nns_graph_find_value(g, out);
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in && i != k; j++)
            if (g->nodes[i].in[j] == y) g->nodes[i].in[j] = z;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == y) g->outputs[i] = z;
    for (int i = 0; i < p->n_acts; i++)
        if (p->acts[i] == y) p->acts[i] = z;
    return NNS_OK;
}

nns_status nns_qat_bn_insert(nns_graph *g, nns_qat_bn *b, nns_ptq_plan *p) {
    nns_status st = NNS_OK;
    for (int i = 0; i < b->n && !st; i++) st = insert_one(g, &b->r[i], p);
    return st;
}

/* The float initializer behind a layer's weight slot (through its
 * FakeQuant, whose scale goes to *fq_scale), or -1. */
static int weight_param(const nns_graph *g, const nns_node *l, int slot, int *fq_scale) {
    int w = l->in[slot];
    *fq_scale = -1;
    const int f = w >= 0 ? g->values[w].producer : -1;
    if (f >= 0 && g->nodes[f].op == NNS_OP_FAKEQUANT) {
        *fq_scale = g->nodes[f].in[1];
        w = g->nodes[f].in[0];
    }
    return w >= 0 && g->values[w].data && g->values[w].dtype == NNS_DTYPE_F32 ? w : -1;
}

/* W's output channels (axis ax) times a; the FakeQuant scale s by |a|. */
static void scale_weight(nns_value *w, const nns_weight_axes *ax, const double *a, nns_value *s) {
    nns_weight_scale_channels(w, ax, a);
    if (!s) return;
    const int64_t ch = w->shape.dims[ax->out_axis];
    float *sc = s->data;
    double amax = 0;
    for (int64_t c = 0; c < ch; c++) amax = fabs(a[c]) > amax ? fabs(a[c]) : amax;
    const int64_t ns = nns_shape_numel(&s->shape);
    for (int64_t c = 0; c < ns; c++) {
        const double f = ns == ch ? fabs(a[c]) : amax;
        if (f > 1e-30) sc[c] = (float)(sc[c] * f); /* a dead channel (gamma 0) keeps its scale */
    }
}

/* Fold inserted node k into the layer before it; k is left dead. */
static nns_status fold_one(nns_graph *g, int k) {
    nns_node *bn = &g->nodes[k];
    const int y = bn->in[0], l = g->values[y].producer;
    nns_node *layer = &g->nodes[l];
    const int wi = nns_op_weight_in(layer), bi = nns_op_bias_in(layer);
    int fq = -1;
    const int w = wi >= 0 ? weight_param(g, layer, wi, &fq) : -1;
    nns_weight_axes ax;
    if (w < 0 || bi < 0 || !nns_op_weight_axes(layer, wi, g->values[w].shape.ndim, &ax) || ax.out_axis < 0)
        return nns_error(NNS_STATUS_INTERNAL, "QAT: cannot fold '%s' into '%s'", bn->name, layer->name);
    const int64_t ch = nns_shape_numel(&g->values[bn->in[1]].shape);
    double *a = malloc((size_t)ch * sizeof *a);
    if (!a) return nns_error(NNS_STATUS_NOMEM, "out of memory folding '%s'", bn->name);
    const float *gamma = g->values[bn->in[1]].data, *beta = g->values[bn->in[2]].data;
    const float *mean = g->values[bn->in[3]].data, *var = g->values[bn->in[4]].data;
    const double eps = nns_node_attr_float(bn, "epsilon", 1e-5f);
    float *bias = g->values[layer->in[bi]].data;
    for (int64_t c = 0; c < ch; c++) {
        a[c] = gamma[c] / sqrt((double)var[c] + eps);
        bias[c] = (float)((bias[c] - mean[c]) * a[c] + beta[c]);
    }
    scale_weight(&g->values[w], &ax, a, fq >= 0 ? &g->values[fq] : NULL);
    free(a);
    const int z = bn->out[0]; /* the layer writes z; the node reads and writes y, which no one reads */
    layer->out[0] = z;
    g->values[z].producer = l;
    bn->out[0] = y;
    g->values[y].producer = k;
    return NNS_OK;
}

nns_status nns_qat_bn_fold(nns_graph *g, const nns_qat_bn *b) {
    nns_status st = NNS_OK;
    int n = 0;
    for (int i = 0; i < b->n && !st; i++) {
        const int k = b->r[i].node[0] ? nns_graph_find_node(g, b->r[i].node) : -1;
        if (k < 0) continue;
        st = fold_one(g, k);
        n++;
    }
    if (!n || st) return st;
    nns_graph_params_changed(g);
    if ((st = nns_graph_prune_dead(g))) return st;
    return nns_graph_finalize(g);
}
