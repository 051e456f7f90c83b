/*
 * biascorr.c — empirical bias correction (nns_quant_bias_correct,
 * quant/cle.h).
 *
 * Quantizing a layer's weight (and its input) shifts the mean of its output:
 * the rounding errors of a channel's weights need not cancel against the
 * mean of the input they multiply. The shift of output channel c is
 * measured on the calibration images as
 *   delta_c = mean(y_q[c]) - mean(y_f[c])
 * where y_q is the layer's output in the quantized graph (its own weight and
 * input quantized, every layer before it quantized and already corrected)
 * and y_f the same node's output in the float graph (after BatchNormalization
 * folding and cross-layer equalization), the mean over images and positions.
 * The layer's bias becomes b - delta_c (Gemm: b - delta_c / beta), so the
 * quantized layer's output has the float layer's mean on those images. The
 * layers are corrected one at a time in topological order, each measured
 * after the layers before it were corrected: one pass of the float graph,
 * then one pass of the quantized graph per layer. Memory is one running sum
 * per channel of each layer, whatever the number of images.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "quant/calibrate.h"
#include "quant/cle.h"
#include "quant/ptq_internal.h"

/* Running sums per channel (axis 1) of n observed values. */
typedef struct chan_sums {
    int n;
    int64_t *ch;    /* channels of each value */
    int64_t *count; /* elements added per channel */
    double **sum;
} chan_sums;

static void sums_add(void *user, int k, const float *x, const nns_shape *s) {
    chan_sums *cs = user;
    if (s->ndim < 2 || s->dims[1] != cs->ch[k]) return;
    int64_t inner = 1;
    for (int i = 2; i < s->ndim; i++) inner *= s->dims[i];
    const int64_t c = s->dims[1];
    for (int64_t b = 0; b < s->dims[0]; b++)
        for (int64_t j = 0; j < c; j++) {
            const float *p = x + (b * c + j) * inner;
            double acc = 0;
            for (int64_t i = 0; i < inner; i++) acc += p[i];
            cs->sum[k][j] += acc;
        }
    cs->count[k] += s->dims[0] * inner;
}

static void sums_free(chan_sums *cs) {
    for (int k = 0; cs->sum && k < cs->n; k++) free(cs->sum[k]);
    free(cs->sum);
    free(cs->ch);
    free(cs->count);
    memset(cs, 0, sizeof *cs);
}

static nns_status sums_init(chan_sums *cs, int n, const int64_t *ch) {
    cs->n = n;
    cs->ch = malloc((size_t)(n ? n : 1) * sizeof *cs->ch);
    cs->count = calloc((size_t)(n ? n : 1), sizeof *cs->count);
    cs->sum = calloc((size_t)(n ? n : 1), sizeof *cs->sum);
    int ok = cs->ch && cs->count && cs->sum;
    for (int k = 0; ok && k < n; k++) {
        cs->ch[k] = ch[k];
        ok = (cs->sum[k] = calloc((size_t)ch[k], sizeof **cs->sum)) != NULL;
    }
    if (ok) return NNS_OK;
    sums_free(cs);
    return nns_error(NNS_STATUS_NOMEM, "out of memory for bias correction");
}

/* Node i of q is a layer to correct: a Conv or Gemm whose weight is read
 * through DequantizeLinear, its output's channels on axis 1, and a node of
 * the same name in f. */
static int correctable(const nns_graph *q, const nns_graph *f, int i) {
    const nns_node *n = &q->nodes[i];
    if (n->op != NNS_OP_CONV && n->op != NNS_OP_GEMM) return 0;
    const int wi = nns_op_weight_in(n), p = wi >= 0 ? q->values[n->in[wi]].producer : -1;
    if (p < 0 || q->nodes[p].op != NNS_OP_DEQUANTIZELINEAR) return 0;
    const nns_shape *s = &q->values[n->out[0]].shape;
    if (s->ndim < 2 || s->dims[1] < 1) return 0;
    if (n->op == NNS_OP_GEMM && nns_node_attr_float(n, "beta", 1.0f) == 0.0f) return 0;
    const int fi = nns_graph_find_node(f, n->name);
    return fi >= 0 && f->nodes[fi].op == n->op && f->values[f->nodes[fi].out[0]].shape.dims[1] == s->dims[1];
}

/* Layer i's bias (ch floats of its own; *bias its value), added as zeros
 * where absent; -1 when the bias is shared or not one per channel. The
 * value's data moves when the graph packs its parameters: read it late. */
static nns_status layer_bias(nns_graph *q, int i, int64_t ch, int *bias) {
    *bias = -1;
    const int slot = nns_op_def_of(&q->nodes[i])->bias_in;
    const int bs = nns_op_bias_in(&q->nodes[i]), b = bs >= 0 ? q->nodes[i].in[bs] : -1;
    if (b >= 0) {
        const nns_value *v = &q->values[b];
        int readers = 0;
        for (int k = 0; k < q->n_nodes; k++) {
            for (int j = 0; j < q->nodes[k].n_in; j++) readers += q->nodes[k].in[j] == b;
        }
            if (v->kind == NNS_VALUE_KIND_PARAM && v->dtype == NNS_DTYPE_F32 && v->data && readers == 1 &&
            nns_shape_numel(&v->shape) == ch)
            *bias = b;
        return NNS_OK;
    }
    char name[512];
    nns_ptq_fresh_name(q, q->nodes[i].name, ".bias", name, sizeof name);
    int *in = realloc(q->nodes[i].in, (size_t)(slot + 1) * sizeof *in);
    if (!in) return nns_error(NNS_STATUS_NOMEM, "out of memory adding a bias to '%s'", q->nodes[i].name);
    q->nodes[i].in = in;
    for (int j = q->nodes[i].n_in; j <= slot; j++) in[j] = -1;
    const nns_shape s = nns_shape_make(1, &ch);
    int v;
    nns_status st = nns_graph_add_param(q, name, NNS_DTYPE_F32, &s, NULL, 1, &v);
    if (st) return st;
    nns_node *n = &q->nodes[i];
    n->in[slot] = v;
    if (n->n_in <= slot) n->n_in = slot + 1;
    if ((st = nns_graph_finalize(q))) return st;
    *bias = v;
    return NNS_OK;
}

/* The layers of q to correct (names into q's nodes) and their channels. */
static nns_status list_layers(const nns_graph *q, const nns_graph *f, const char ***names, int64_t **ch, int *n) {
    *n = 0;
    *names = malloc((size_t)(q->n_nodes ? q->n_nodes : 1) * sizeof **names);
    *ch = malloc((size_t)(q->n_nodes ? q->n_nodes : 1) * sizeof **ch);
    if (!*names || !*ch) return nns_error(NNS_STATUS_NOMEM, "out of memory for bias correction");
    for (int i = 0; i < q->n_nodes; i++) {
        if (!correctable(q, f, i)) continue;
        (*names)[*n] = q->nodes[i].name;
        (*ch)[(*n)++] = q->values[q->nodes[i].out[0]].shape.dims[1];
    }
    return NNS_OK;
}

/* Correct layer `name` of q from the float means fmean (ch values). */
static nns_status correct_one(nns_graph *q, const nns_dataset *calib, const nns_ptq_config *cfg, const char *name,
                              int64_t ch, const double *fmean, int *corrected, float *max_shift) {
    int i = nns_graph_find_node(q, name);
    int b = -1;
    nns_status st = layer_bias(q, i, ch, &b);
    if (st || b < 0) return st;
    i = nns_graph_find_node(q, name);
    chan_sums cs;
    if ((st = sums_init(&cs, 1, &ch))) return st;
    const int v = q->nodes[i].out[0];
    int64_t used = 0;
    st = nns_calibrate_observe(q, calib, cfg->calib_samples, cfg->batch, 1, &v, sums_add, &cs, &used);
    float *bias = q->values[b].data;
    const double beta = q->nodes[i].op == NNS_OP_GEMM ? nns_node_attr_float(&q->nodes[i], "beta", 1.0f) : 1.0;
    for (int64_t c = 0; !st && cs.count[0] > 0 && c < ch; c++) {
        const double delta = cs.sum[0][c] / (double)cs.count[0] - fmean[c];
        bias[c] = (float)(bias[c] - delta / beta);
        if (fabs(delta) > *max_shift) *max_shift = (float)fabs(delta);
    }
    if (!st && cs.count[0] > 0) ++*corrected;
    sums_free(&cs);
    nns_graph_params_changed(q);
    return st;
}

nns_status nns_quant_bias_correct(nns_graph *q, nns_graph *f, const nns_dataset *calib, const nns_ptq_config *cfg,
                                  int *corrected, float *max_shift) {
    *corrected = 0;
    *max_shift = 0;
    const char **names = NULL;
    int64_t *ch = NULL;
    int n = 0;
    int *vals = NULL;
    chan_sums fs = {0};
    nns_status st = list_layers(q, f, &names, &ch, &n);
    if (!st && !(vals = malloc((size_t)(n ? n : 1) * sizeof *vals)))
        st = nns_error(NNS_STATUS_NOMEM, "out of memory for bias correction");
    for (int k = 0; !st && k < n; k++) vals[k] = f->nodes[nns_graph_find_node(f, names[k])].out[0];
    if (!st) st = sums_init(&fs, n, ch);
    int64_t used = 0;
    if (!st && n) st = nns_calibrate_observe(f, calib, cfg->calib_samples, cfg->batch, n, vals, sums_add, &fs, &used);
    for (int k = 0; !st && k < n; k++) {
        for (int64_t c = 0; c < ch[k]; c++) fs.sum[k][c] = fs.count[k] ? fs.sum[k][c] / (double)fs.count[k] : 0;
        st = correct_one(q, calib, cfg, names[k], ch[k], fs.sum[k], corrected, max_shift);
    }
    sums_free(&fs);
    free(vals);
    free(names);
    free(ch);
    return st;
}
