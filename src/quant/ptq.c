/*
 * ptq.c — post-training quantization of a float graph into QDQ form
 * (nns_quantize_ptq, nnslim/quant.h):
 *   1. BatchNormalization is folded into the Conv or Gemm before it, so the
 *      weights quantized are the ones the model computes with;
 *   2. the layers to quantize are the nodes that contract a float weight
 *      initializer (the op table's weight slot and axes: Conv, Gemm, MatMul)
 *      and are not kept in float by name;
 *   3. the activation each reads (its input 0) is calibrated on images of a
 *      data set (fixed-size histograms) and given a scale and zero point
 *      (u8 asymmetric, or s8 symmetric);
 *   4. the graph is rewritten: the activation passes through
 *      QuantizeLinear -> DequantizeLinear before the layers that read it,
 *      and the weight becomes an s8 initializer (symmetric, one scale per
 *      output channel or per tensor) read through DequantizeLinear. The
 *      bias stays float.
 * The result is the standard QDQ form that ONNX Runtime loads; nnslim runs
 * it with its QuantizeLinear / DequantizeLinear ops.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "graph/infer.h"
#include "ops/op.h"
#include "quant/calibrate.h"

void nns_ptq_config_init(nns_ptq_config *c) {
    memset(c, 0, sizeof *c);
    c->calib = NNS_CALIB_MINMAX;
    c->percentile = 99.99;
    c->calib_samples = 1000;
    c->batch = 64;
    c->per_channel = 1;
    c->act_signed = 0;
}

static int kept(const nns_ptq_config *cfg, const char *name) {
    for (int i = 0; i < cfg->n_keep; i++)
        if (cfg->keep[i] && strcmp(cfg->keep[i], name) == 0) return 1;
    return 0;
}

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

/* Node i is a layer to quantize: a float weight initializer of its own
 * with an output-channel axis, a float activation as input 0, not kept. */
static int quantizable(const nns_graph *g, const int *readers, int i, const nns_ptq_config *cfg) {
    const nns_node *n = &g->nodes[i];
    const int wi = nns_op_weight_in(n);
    if (wi < 0 || n->in[0] < 0 || kept(cfg, n->name)) return 0;
    const nns_value *w = &g->values[n->in[wi]], *x = &g->values[n->in[0]];
    nns_weight_axes ax;
    if (w->kind != NNS_VALUE_KIND_PARAM || w->dtype != NNS_DTYPE_F32 || !w->data || readers[n->in[wi]] != 1) return 0;
    if (!nns_op_weight_axes(n, wi, w->shape.ndim, &ax) || ax.out_axis < 0) return 0;
    return x->dtype == NNS_DTYPE_F32 && (x->kind == NNS_VALUE_KIND_ACT || x->kind == NNS_VALUE_KIND_INPUT);
}

/* A value name "<base><suffix>" not yet in g, into buf. */
static void fresh_name(const nns_graph *g, const char *base, const char *suffix, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", base, suffix);
    for (int k = 2; (nns_graph_find_value(g, buf) >= 0 || nns_graph_find_node(g, buf) >= 0) && k < 100000; k++)
        snprintf(buf, len, "%s%s%d", base, suffix, k);
}

/* Add a DequantizeLinear (or QuantizeLinear) node reading in[0..2], writing
 * a new value named after `base`; *out gets that value's index. */
static nns_status add_qdq_node(nns_graph *g, const char *op, const char *base, const char *const *in, int n_in,
                               int axis, int *out) {
    char node[512], val[512];
    fresh_name(g, base, op[0] == 'Q' ? "_quantize" : "_dequantize", node, sizeof node);
    fresh_name(g, base, op[0] == 'Q' ? "_quantized" : "_dequantized", val, sizeof val);
    const char *outs[1] = {val};
    int idx;
    nns_status st = nns_graph_add_node(g, op, node, n_in, in, 1, outs, &idx);
    if (!st && axis >= 0) st = nns_graph_set_attr_int(g, idx, "axis", axis);
    if (!st) *out = nns_graph_find_value(g, val);
    return st;
}

/* Scale and zero point initializers for `base` (n values; n == 0: scalar;
 * zp NULL: no zero point, which DequantizeLinear reads as 0). */
static nns_status add_qparams(nns_graph *g, const char *base, int64_t n, const float *scale, const int32_t *zp,
                              nns_dtype zt, char *sname, char *zname, size_t len) {
    fresh_name(g, base, "_scale", sname, len);
    fresh_name(g, base, "_zero_point", zname, len);
    const nns_shape s = nns_shape_make(n ? 1 : 0, &n);
    if (!zp) return nns_graph_add_param(g, sname, NNS_DTYPE_F32, &s, scale, 0, NULL);
    const int64_t k = n ? n : 1;
    uint8_t *z = malloc((size_t)k);
    if (!z) return nns_error(NNS_STATUS_NOMEM, "out of memory quantizing '%s'", base);
    for (int64_t i = 0; i < k; i++) z[i] = zt == NNS_DTYPE_S8 ? (uint8_t)(int8_t)zp[i] : (uint8_t)zp[i];
    nns_status st = nns_graph_add_param(g, sname, NNS_DTYPE_F32, &s, scale, 0, NULL);
    if (!st) st = nns_graph_add_param(g, zname, zt, &s, z, 0, NULL);
    free(z);
    return st;
}

/* Node `node`'s weight becomes an s8 initializer read through
 * DequantizeLinear (symmetric; one scale per output channel or one). */
static nns_status quantize_weight(nns_graph *g, int node, int per_channel) {
    const nns_node *n = &g->nodes[node];
    const int wi = nns_op_weight_in(n);
    const nns_value *w = &g->values[n->in[wi]];
    nns_weight_axes ax;
    nns_op_weight_axes(n, wi, w->shape.ndim, &ax);
    const nns_shape shape = w->shape;
    const int64_t numel = nns_shape_numel(&shape);
    int64_t outer = 1, d = shape.dims[ax.out_axis], inner = 1;
    for (int i = 0; i < ax.out_axis; i++) outer *= shape.dims[i];
    for (int i = ax.out_axis + 1; i < shape.ndim; i++) inner *= shape.dims[i];
    if (!per_channel) outer = d = 1, inner = numel;
    char base[256], qname[512], sname[512], zname[512];
    snprintf(base, sizeof base, "%s", w->name);
    int8_t *q = malloc((size_t)(numel ? numel : 1));
    float *sc = malloc((size_t)d * sizeof *sc);
    int32_t *zp = malloc((size_t)d * sizeof *zp);
    nns_status st = q && sc && zp ? NNS_OK : nns_error(NNS_STATUS_NOMEM, "out of memory quantizing '%s'", base);
    if (!st) st = nns_quantize_axis(w->data, outer, d, inner, (nns_qtype){8, 1}, 1, sc, zp, q);
    fresh_name(g, base, "_quantized", qname, sizeof qname);
    if (!st) st = nns_graph_add_param(g, qname, NNS_DTYPE_S8, &shape, q, 0, NULL);
    /* symmetric: every zero point is 0, and DequantizeLinear without one reads s8 as such */
    if (!st) st = add_qparams(g, base, per_channel ? d : 0, sc, NULL, NNS_DTYPE_S8, sname, zname, sizeof sname);
    int dq = -1;
    const char *in[2] = {qname, sname};
    if (!st) st = add_qdq_node(g, "DequantizeLinear", base, in, 2, per_channel ? ax.out_axis : -1, &dq);
    if (!st) g->nodes[node].in[wi] = dq;
    free(q);
    free(sc);
    free(zp);
    return st;
}

/* Activation v passes through QuantizeLinear -> DequantizeLinear before
 * the layers (is_layer[i], original node indices) that read it as input 0. */
static nns_status quantize_activation(nns_graph *g, int v, float lo, float hi, const nns_ptq_config *cfg,
                                      const char *is_layer, int n_layers_nodes) {
    const nns_qtype t = {8, cfg->act_signed};
    float s;
    int32_t zp;
    char base[256], sname[512], zname[512];
    snprintf(base, sizeof base, "%s", g->values[v].name);
    nns_status st = nns_qparams_choose(lo, hi, t, cfg->act_signed, &s, &zp);
    if (!st) st = add_qparams(g, base, 0, &s, &zp, cfg->act_signed ? NNS_DTYPE_S8 : NNS_DTYPE_U8, sname, zname, sizeof sname);
    int qv = -1, dqv = -1;
    const char *qin[3] = {base, sname, zname};
    if (!st) st = add_qdq_node(g, "QuantizeLinear", base, qin, 3, -1, &qv);
    char qname[512];
    if (!st) snprintf(qname, sizeof qname, "%s", g->values[qv].name);
    const char *din[3] = {qname, sname, zname};
    if (!st) st = add_qdq_node(g, "DequantizeLinear", base, din, 3, -1, &dqv);
    for (int i = 0; !st && i < n_layers_nodes; i++)
        if (is_layer[i] && g->nodes[i].in[0] == v) g->nodes[i].in[0] = dqv;
    return st;
}

static nns_status check_config(const nns_ptq_config *cfg) {
    if (cfg->calib < NNS_CALIB_MINMAX || cfg->calib > NNS_CALIB_MSE)
        return nns_error(NNS_STATUS_INVALID_ARG, "unknown calibration method %d", (int)cfg->calib);
    if (cfg->calib_samples < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "--calib-samples must be >= 1, not %lld", (long long)cfg->calib_samples);
    if (cfg->calib == NNS_CALIB_PERCENTILE && !(cfg->percentile > 0 && cfg->percentile <= 100))
        return nns_error(NNS_STATUS_INVALID_ARG, "--percentile must be in (0, 100], not %g", cfg->percentile);
    if (cfg->batch < 1) return nns_error(NNS_STATUS_INVALID_ARG, "calibration batch must be >= 1, not %d", cfg->batch);
    return NNS_OK;
}

/* The layers to quantize (is_layer, g's node indices) and the distinct
 * activations they read (acts, *n_acts). */
static nns_status find_layers(const nns_graph *g, const nns_ptq_config *cfg, char *is_layer, int *acts, int *n_acts,
                              int *n_layers) {
    int *readers = count_readers(g);
    if (!readers) return nns_error(NNS_STATUS_NOMEM, "out of memory finding the layers to quantize");
    *n_acts = *n_layers = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        is_layer[i] = (char)quantizable(g, readers, i, cfg);
        if (!is_layer[i]) continue;
        ++*n_layers;
        const int v = g->nodes[i].in[0];
        int seen = 0;
        for (int k = 0; k < *n_acts && !seen; k++) seen = acts[k] == v;
        if (!seen) acts[(*n_acts)++] = v;
    }
    free(readers);
    if (*n_layers == 0)
        return nns_error(NNS_STATUS_UNSUPPORTED, "nothing to quantize: no Conv, Gemm or MatMul with a float weight "
                                                 "initializer of its own%s",
                         cfg->n_keep ? " outside the layers kept in float" : "");
    return NNS_OK;
}

/* Calibrate the activations and rewrite the graph. */
static nns_status rewrite(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, const char *is_layer,
                          const int *acts, int n_acts, int64_t *used) {
    const int n_nodes = g->n_nodes;
    nns_calib_hist *h = malloc((size_t)n_acts * sizeof *h);
    float *lo = malloc((size_t)n_acts * 2 * sizeof *lo);
    if (!h || !lo) {
        free(h);
        free(lo);
        return nns_error(NNS_STATUS_NOMEM, "out of memory for %d calibration histograms", n_acts);
    }
    for (int k = 0; k < n_acts; k++) nns_calib_hist_init(&h[k]);
    nns_status st = nns_calibrate(g, calib, cfg->calib_samples, cfg->batch, n_acts, acts, h, used);
    const nns_qtype t = {8, cfg->act_signed};
    for (int k = 0; !st && k < n_acts; k++)
        st = nns_calib_range(&h[k], cfg->calib, cfg->percentile, t, cfg->act_signed, &lo[2 * k], &lo[2 * k + 1]);
    for (int i = 0; !st && i < n_nodes; i++)
        if (is_layer[i]) st = quantize_weight(g, i, cfg->per_channel);
    for (int k = 0; !st && k < n_acts; k++)
        st = quantize_activation(g, acts[k], lo[2 * k], lo[2 * k + 1], cfg, is_layer, n_nodes);
    free(h);
    free(lo);
    return st;
}

nns_status nns_quantize_ptq(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, nns_ptq_result *res) {
    memset(res, 0, sizeof *res);
    nns_status st = check_config(cfg);
    if (!st) st = nns_graph_fold_batchnorm(g, &res->folded_bn);
    if (!st) st = nns_graph_finalize(g);
    if (st) return st;
    char *is_layer = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), 1);
    int *acts = malloc((size_t)(g->n_nodes ? g->n_nodes : 1) * sizeof *acts);
    if (!is_layer || !acts) st = nns_error(NNS_STATUS_NOMEM, "out of memory quantizing");
    if (!st) st = find_layers(g, cfg, is_layer, acts, &res->activations, &res->layers);
    if (!st) st = rewrite(g, calib, cfg, is_layer, acts, res->activations, &res->calib_images);
    free(is_layer);
    free(acts);
    if (st) return st;
    nns_graph_params_changed(g);
    /* the new nodes were appended: sort before pruning what no one reads (the float weights) */
    if (!(st = nns_graph_toposort(g)) && !(st = nns_graph_prune_dead(g))) st = nns_graph_finalize(g);
    return st;
}
