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
 *      (u8 asymmetric, or s8 symmetric), unless the activations stay float
 *      (weight-only);
 *   4. the graph is rewritten: the activation passes through
 *      QuantizeLinear -> DequantizeLinear before the layers that read it,
 *      and the weight becomes an s8 initializer (symmetric, one scale per
 *      output channel or per tensor) read through DequantizeLinear. The
 *      bias stays float.
 * Options: cross-layer equalization between steps 1 and 2 (quant/cle.c),
 * bias correction after step 4 (quant/biascorr.c).
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
#include "quant/cle.h"
#include "quant/ptq_internal.h"

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
void nns_ptq_fresh_name(const nns_graph *g, const char *base, const char *suffix, char *buf, size_t len) {
    snprintf(buf, len, "%s%s", base, suffix);
    for (int k = 2; (nns_graph_find_value(g, buf) >= 0 || nns_graph_find_node(g, buf) >= 0) && k < 100000; k++)
        snprintf(buf, len, "%s%s%d", base, suffix, k);
}

/* Add a DequantizeLinear (or QuantizeLinear) node reading in[0..2], writing
 * a new value named after `base`; *out gets that value's index. */
static nns_status add_qdq_node(nns_graph *g, const char *op, const char *base, const char *const *in, int n_in,
                               int axis, int *out) {
    char node[512], val[512];
    nns_ptq_fresh_name(g, base, op[0] == 'Q' ? "_quantize" : "_dequantize", node, sizeof node);
    nns_ptq_fresh_name(g, base, op[0] == 'Q' ? "_quantized" : "_dequantized", val, sizeof val);
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
    nns_ptq_fresh_name(g, base, "_scale", sname, len);
    nns_ptq_fresh_name(g, base, "_zero_point", zname, len);
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

/* The [outer, d, inner] view of weight `w` around its output axis (or one
 * block for a per-tensor scale). */
void nns_ptq_weight_view(const nns_shape *w, int out_axis, int per_channel, int64_t *outer, int64_t *d,
                         int64_t *inner) {
    *outer = *inner = 1;
    *d = w->dims[out_axis];
    for (int i = 0; i < out_axis; i++) *outer *= w->dims[i];
    for (int i = out_axis + 1; i < w->ndim; i++) *inner *= w->dims[i];
    if (!per_channel) *inner = nns_shape_numel(w), *outer = *d = 1;
}

/* q = round(x / scale[c]) saturated to s8, zero point 0. */
static void quantize_with(const float *x, int64_t outer, int64_t d, int64_t inner, const float *scale, int8_t *q) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < d; c++)
            for (int64_t i = 0; i < inner; i++) {
                const int64_t k = (o * d + c) * inner + i;
                q[k] = (int8_t)nns_quantize_value(x[k] / scale[c], 0, -128, 127);
            }
}

nns_status nns_ptq_weight_qdq(nns_graph *g, int w, int out_axis, int per_channel, const float *scale, int *dq) {
    const nns_shape shape = g->values[w].shape;
    int64_t outer, d, inner;
    nns_ptq_weight_view(&shape, out_axis, per_channel, &outer, &d, &inner);
    const int64_t numel = nns_shape_numel(&shape);
    char base[256], qname[512], sname[512], zname[512];
    snprintf(base, sizeof base, "%s", g->values[w].name);
    int8_t *q = malloc((size_t)(numel ? numel : 1));
    float *sc = malloc((size_t)d * sizeof *sc);
    int32_t *zp = malloc((size_t)d * sizeof *zp);
    nns_status st = q && sc && zp ? NNS_OK : nns_error(NNS_STATUS_NOMEM, "out of memory quantizing '%s'", base);
    if (!st && !scale) st = nns_quantize_axis(g->values[w].data, outer, d, inner, (nns_qtype){8, 1}, 1, sc, zp, q);
    if (!st && scale) {
        for (int64_t c = 0; c < d; c++) sc[c] = scale[c] > 1e-30f ? scale[c] : 1e-30f; /* a learned scale stays positive */
        quantize_with(g->values[w].data, outer, d, inner, sc, q);
    }
    nns_ptq_fresh_name(g, base, "_quantized", qname, sizeof qname);
    if (!st) st = nns_graph_add_param(g, qname, NNS_DTYPE_S8, &shape, q, 0, NULL);
    /* symmetric: every zero point is 0, and DequantizeLinear without one reads s8 as such */
    if (!st) st = add_qparams(g, base, per_channel ? d : 0, sc, NULL, NNS_DTYPE_S8, sname, zname, sizeof sname);
    const char *in[2] = {qname, sname};
    if (!st) st = add_qdq_node(g, "DequantizeLinear", base, in, 2, per_channel ? out_axis : -1, dq);
    free(q);
    free(sc);
    free(zp);
    return st;
}

/* Cast node `name` of `in` to ONNX type `to`, writing a value of that name;
 * *out: its output. */
static nns_status add_cast(nns_graph *g, const char *name, const char *in, int64_t to, int *out) {
    const char *ins[1] = {in}, *outs[1] = {name};
    int k = -1;
    nns_status st = nns_graph_add_node(g, "Cast", name, 1, ins, 1, outs, &k);
    if (!st) st = nns_graph_set_attr_int(g, k, "to", to);
    if (!st) *out = g->nodes[k].out[0];
    return st;
}

nns_status nns_ptq_weight_half(nns_graph *g, int w, nns_dtype dt, int *out) {
    const nns_shape shape = g->values[w].shape;
    const int64_t numel = nns_shape_numel(&shape);
    const nns_dtype_info *di = nns_dtype_get_info(dt);
    char base[256], hname[512], cname[512];
    snprintf(base, sizeof base, "%s", g->values[w].name);
    uint16_t *h = malloc((size_t)(numel ? numel : 1) * sizeof *h);
    if (!h) return nns_error(NNS_STATUS_NOMEM, "out of memory converting '%s' to %s", base, di->name);
    const float *x = g->values[w].data;
    for (int64_t i = 0; i < numel; i++) di->from_f32(x[i], &h[i]);
    nns_ptq_fresh_name(g, base, dt == NNS_DTYPE_F16 ? "_f16" : "_bf16", hname, sizeof hname);
    nns_status st = nns_graph_add_param(g, hname, dt, &shape, h, 0, NULL);
    free(h);
    nns_ptq_fresh_name(g, base, "_cast", cname, sizeof cname);
    return st ? st : add_cast(g, cname, hname, 1, out); /* ONNX FLOAT */
}

nns_status nns_ptq_act_half(nns_graph *g, int v, nns_dtype dt, int *out) {
    char base[256], hname[512], fname[512];
    snprintf(base, sizeof base, "%s", g->values[v].name);
    const int bf = dt == NNS_DTYPE_BF16;
    nns_ptq_fresh_name(g, base, bf ? "_bf16" : "_f16", hname, sizeof hname);
    int h = -1;
    nns_status st = add_cast(g, hname, base, bf ? 16 : 10, &h); /* ONNX BFLOAT16, FLOAT16 */
    if (!st) nns_ptq_fresh_name(g, base, bf ? "_bf16_float" : "_f16_float", fname, sizeof fname);
    if (!st) st = add_cast(g, fname, hname, 1, out); /* ONNX FLOAT */
    return st;
}

nns_status nns_ptq_bias_qdq(nns_graph *g, int b, int64_t m, const int32_t *q, const float *scale, int *dq) {
    char base[256], qname[512], sname[512], zname[512];
    snprintf(base, sizeof base, "%s", g->values[b].name);
    const nns_shape s = nns_shape_make(1, &m);
    nns_ptq_fresh_name(g, base, "_quantized", qname, sizeof qname);
    nns_status st = nns_graph_add_param(g, qname, NNS_DTYPE_S32, &s, q, 0, NULL);
    if (!st) st = add_qparams(g, base, m, scale, NULL, NNS_DTYPE_S32, sname, zname, sizeof sname);
    const char *in[2] = {qname, sname};
    return st ? st : add_qdq_node(g, "DequantizeLinear", base, in, 2, 0, dq);
}

nns_status nns_ptq_act_qdq(nns_graph *g, int v, float s, int32_t zp, int act_signed, int *dq) {
    char base[256], sname[512], zname[512], qname[512];
    snprintf(base, sizeof base, "%s", g->values[v].name);
    nns_status st = add_qparams(g, base, 0, &s, &zp, act_signed ? NNS_DTYPE_S8 : NNS_DTYPE_U8, sname, zname, sizeof sname);
    int qv = -1;
    const char *qin[3] = {base, sname, zname};
    if (!st) st = add_qdq_node(g, "QuantizeLinear", base, qin, 3, -1, &qv);
    if (!st) snprintf(qname, sizeof qname, "%s", g->values[qv].name);
    const char *din[3] = {qname, sname, zname};
    if (!st) st = add_qdq_node(g, "DequantizeLinear", base, din, 3, -1, dq);
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
    if (cfg->weight_bits != 0 && cfg->weight_bits != 8 && cfg->weight_bits != 4)
        return nns_error(NNS_STATUS_INVALID_ARG, "weights of %d bits: 8 and 4 are supported", cfg->weight_bits);
    if (cfg->group_size < 0)
        return nns_error(NNS_STATUS_INVALID_ARG, "group size %d: must be positive (or 0 for none)", cfg->group_size);
    if (cfg->weight_float16 && cfg->weight_float16 != NNS_DTYPE_F16 && cfg->weight_float16 != NNS_DTYPE_BF16)
        return nns_error(NNS_STATUS_INVALID_ARG, "16-bit weights: f16 or bf16, not dtype %d", cfg->weight_float16);
    if (cfg->weight_float16 && (!cfg->weight_only || cfg->group_size || cfg->weight_bits == 4))
        return nns_error(NNS_STATUS_UNSUPPORTED, "%s weights are weight-only, without groups or 4 bits",
                         nns_dtype_name((nns_dtype)cfg->weight_float16));
    if (cfg->act_float16 && cfg->act_float16 != cfg->weight_float16)
        return nns_error(NNS_STATUS_UNSUPPORTED, "%s activations go with %s weights (not %s)",
                         nns_dtype_name((nns_dtype)cfg->act_float16), nns_dtype_name((nns_dtype)cfg->act_float16),
                         cfg->weight_float16 ? nns_dtype_name((nns_dtype)cfg->weight_float16) : "integer ones");
    if (cfg->keep_float16 && cfg->keep_float16 != NNS_DTYPE_F16 && cfg->keep_float16 != NNS_DTYPE_BF16)
        return nns_error(NNS_STATUS_INVALID_ARG, "kept layers in 16 bits: f16 or bf16, not dtype %d", cfg->keep_float16);
    if (cfg->group_size && !cfg->weight_only)
        return nns_error(NNS_STATUS_UNSUPPORTED, "grouped weight scales are weight-only: the activations must stay float");
    if (cfg->weight_bits == 4 && !cfg->weight_only && !cfg->per_channel)
        return nns_error(NNS_STATUS_UNSUPPORTED, "4-bit weights with 8-bit activations have one scale per output channel, "
                                                 "not one per tensor");
    if (cfg->group_size && !cfg->per_channel)
        return nns_error(NNS_STATUS_INVALID_ARG, "group size %d with one weight scale per tensor: choose one", cfg->group_size);
    return NNS_OK;
}

/* The layers to quantize (p->is_layer, g's node indices) and the distinct
 * activations they read (p->acts). */
static nns_status find_layers(const nns_graph *g, const nns_ptq_config *cfg, nns_ptq_plan *p, int *n_layers) {
    int *readers = nns_graph_count_readers(g, 1);
    if (!readers) return nns_error(NNS_STATUS_NOMEM, "out of memory finding the layers to quantize");
    p->n_acts = *n_layers = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        p->is_layer[i] = (char)quantizable(g, readers, i, cfg);
        if (!p->is_layer[i]) continue;
        ++*n_layers;
        const int io[2] = {g->nodes[i].in[0], nns_ptq_output_act(g, i)};
        for (int s = 0; s < 2; s++) {
            int seen = io[s] < 0;
            for (int k = 0; k < p->n_acts && !seen; k++) seen = p->acts[k] == io[s];
            if (!seen) p->acts[p->n_acts++] = io[s];
        }
    }
    free(readers);
    if (*n_layers == 0)
        return nns_error(NNS_STATUS_UNSUPPORTED, "nothing to quantize: no Conv, Gemm or MatMul with a float weight "
                                                 "initializer of its own%s",
                         cfg->n_keep ? " outside the layers kept in float" : "");
    return NNS_OK;
}

/* Calibrate p->acts: a scale and zero point each. */
static nns_status calibrate(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, nns_ptq_plan *p,
                            int64_t *used) {
    nns_calib_hist *h = malloc((size_t)p->n_acts * sizeof *h);
    if (!h) return nns_error(NNS_STATUS_NOMEM, "out of memory for %d calibration histograms", p->n_acts);
    for (int k = 0; k < p->n_acts; k++) nns_calib_hist_init(&h[k]);
    nns_status st = nns_calibrate(g, calib, cfg->calib_samples, cfg->batch, p->n_acts, p->acts, h, used);
    const nns_qtype t = {8, cfg->act_signed};
    for (int k = 0; !st && k < p->n_acts; k++) {
        float lo, hi;
        st = nns_calib_range(&h[k], cfg->calib, cfg->percentile, t, cfg->act_signed, &lo, &hi);
        if (!st) st = nns_qparams_choose(lo, hi, t, cfg->act_signed, &p->scale[k], &p->zero_point[k]);
    }
    free(h);
    return st;
}

/* Cross-layer equalization into res. */
static nns_status ptq_cle(nns_graph *g, nns_ptq_result *res) {
    nns_cle_stats cs;
    nns_status st = nns_quant_cle(g, &cs);
    res->cle_pairs = cs.pairs;
    res->cle_sweeps = cs.sweeps;
    res->cle_clip_refused = cs.clip_refused;
    return st;
}

void nns_ptq_plan_free(nns_ptq_plan *p) {
    free(p->is_layer);
    free(p->acts);
    free(p->scale);
    free(p->zero_point);
    memset(p, 0, sizeof *p);
}

nns_status nns_ptq_prepare(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, nns_ptq_plan *p,
                           nns_ptq_result *res) {
    memset(res, 0, sizeof *res);
    memset(p, 0, sizeof *p);
    nns_status st = check_config(cfg);
    if (!st) st = nns_graph_fold_batchnorm(g, &res->folded_bn);
    if (!st) st = nns_graph_finalize(g);
    if (!st && cfg->cle) st = ptq_cle(g, res);
    if (st) return st;
    const size_t n = (size_t)(g->n_nodes ? g->n_nodes : 1);
    p->n_nodes = g->n_nodes;
    p->is_layer = calloc(n, 1);
    p->acts = malloc(2 * n * sizeof *p->acts); /* each layer's input and output */
    p->scale = malloc(2 * n * sizeof *p->scale);
    p->zero_point = malloc(2 * n * sizeof *p->zero_point);
    if (!p->is_layer || !p->acts || !p->scale || !p->zero_point) st = nns_error(NNS_STATUS_NOMEM, "out of memory quantizing");
    if (!st) st = find_layers(g, cfg, p, &res->layers);
    if (!st && cfg->weight_only && !cfg->act_float16) p->n_acts = 0; /* activations stay float */
    if (!st && p->n_acts && !cfg->weight_only) st = calibrate(g, calib, cfg, p, &res->calib_images);
    res->activations = p->n_acts;
    if (st) nns_ptq_plan_free(p);
    return st;
}

nns_status nns_ptq_finish(nns_graph *g) { return nns_ptq_finish_bias(g, 1); }

nns_status nns_ptq_finish_bias(nns_graph *g, int bias_s32) {
    nns_status st0 = nns_ptq_integer_form(g, bias_s32);
    if (st0) return st0;
    nns_graph_params_changed(g);
    /* the new nodes were appended: sort before pruning what no one reads (the replaced values) */
    nns_status st = nns_graph_toposort(g);
    if (!st) st = nns_graph_prune_dead(g);
    if (!st) st = nns_graph_finalize(g);
    return st;
}

/* Node i's weight slot and its output axis. */
int nns_ptq_layer_weight(const nns_graph *g, int i, int *slot, int *out_axis) {
    const nns_node *n = &g->nodes[i];
    nns_weight_axes ax;
    *slot = nns_op_weight_in(n);
    if (*slot < 0 || !nns_op_weight_axes(n, *slot, g->values[n->in[*slot]].shape.ndim, &ax)) return 0;
    *out_axis = ax.out_axis;
    return 1;
}

/* The layers kept out of the integer form (by name) with their float
 * weight stored in cfg->keep_float16's type instead. */
static nns_status keep_half(nns_graph *g, const nns_ptq_config *cfg) {
    nns_status st = NNS_OK;
    const int n = g->n_nodes;
    for (int i = 0; i < n && !st; i++) {
        int slot, axis;
        if (!kept(cfg, g->nodes[i].name) || !nns_ptq_layer_weight(g, i, &slot, &axis)) continue;
        const nns_value *w = &g->values[g->nodes[i].in[slot]];
        if (w->kind != NNS_VALUE_KIND_PARAM || w->dtype != NNS_DTYPE_F32 || !w->data) continue;
        int out = -1;
        st = nns_ptq_weight_half(g, g->nodes[i].in[slot], (nns_dtype)cfg->keep_float16, &out);
        if (!st) g->nodes[i].in[slot] = out;
    }
    return st;
}

nns_status nns_quantize_ptq(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, nns_ptq_result *res) {
    nns_ptq_plan p;
    nns_status st = nns_ptq_prepare(g, calib, cfg, &p, res);
    if (st) return st;
    const int grouped = !cfg->weight_float16 && (cfg->weight_bits == 4 || cfg->group_size > 0);
    for (int i = 0; grouped && !st && i < p.n_nodes; i++) /* every layer's groups fit before any rewrite */
        if (p.is_layer[i]) st = nns_ptq_group_check(g, i, cfg->group_size);
    nns_graph *f = NULL; /* the float graph, for bias correction */
    if (!st && cfg->bias_correction && ((st = nns_graph_clone(g, &f)) || (st = nns_graph_finalize(f)))) {
        nns_graph_free(f);
        nns_ptq_plan_free(&p);
        return st;
    }
    for (int i = 0; !st && i < p.n_nodes; i++) {
        int slot, axis, dq;
        if (!p.is_layer[i] || !nns_ptq_layer_weight(g, i, &slot, &axis)) continue;
        if (cfg->weight_float16) st = nns_ptq_weight_half(g, g->nodes[i].in[slot], (nns_dtype)cfg->weight_float16, &dq);
        else if (grouped) st = nns_ptq_weight_grouped(g, i, slot, cfg->weight_bits == 4 ? 4 : 8, cfg->group_size, &dq);
        else st = nns_ptq_weight_qdq(g, g->nodes[i].in[slot], axis, cfg->per_channel, NULL, &dq);
        if (!st) g->nodes[i].in[slot] = dq;
    }
    for (int k = 0; !st && k < p.n_acts; k++) {
        int dq;
        if (cfg->act_float16) st = nns_ptq_act_half(g, p.acts[k], (nns_dtype)cfg->act_float16, &dq);
        else st = nns_ptq_act_qdq(g, p.acts[k], p.scale[k], p.zero_point[k], cfg->act_signed, &dq);
        if (!st) nns_ptq_redirect(g, p.acts[k], dq);
    }
    nns_ptq_plan_free(&p);
    if (!st && cfg->keep_float16) st = keep_half(g, cfg);
    if (!st) st = nns_ptq_finish_bias(g, f == NULL); /* bias correction adjusts the float biases, then they become s32 */
    if (!st && f) st = nns_quant_bias_correct(g, f, calib, cfg, &res->bias_corrected, &res->bias_max_shift);
    if (!st && f) st = nns_ptq_finish(g);
    nns_graph_free(f);
    return st;
}
