/*
 * qat.c — quantization-aware training (nns_quantize_qat, nnslim/quant.h):
 *   1. as post-training quantization: BatchNormalization folded, the layers
 *      found, their input activations calibrated to scales and zero points;
 *   2. a FakeQuant node goes before each layer's input (that activation's
 *      scale and zero point, u8 or s8 range) and on each layer's weight
 *      (symmetric s8, one scale per output channel or per tensor, from the
 *      weight's range); the scales train with LSQ's gradient when asked;
 *   3. the caller's training runs on that graph (straight-through estimator
 *      through every FakeQuant; pruning masks stay applied to the float
 *      weights, and a zero quantizes to zero); with a BatchNormalization
 *      freeze epoch, in two parts around the fold (qat_bn.c);
 *   4. each FakeQuant becomes what it simulated: an s8 weight read through
 *      DequantizeLinear with the trained scales, or QuantizeLinear ->
 *      DequantizeLinear on the activation. The result is the same QDQ form
 *      as nns_quantize_ptq's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "quant/ptq_internal.h"

/* A FakeQuant of x (scale and zero point: n values, or one when n == 0;
 * the scale trainable when learn) into a new value *y. */
static nns_status add_fakequant(nns_graph *g, int x, const float *scale, const float *zp, int64_t n, int axis,
                                int32_t qmin, int32_t qmax, int learn, int *y) {
    char base[256], sname[512], zname[512], node[512], out[512];
    snprintf(base, sizeof base, "%s", g->values[x].name);
    nns_ptq_fresh_name(g, base, "_fq_scale", sname, sizeof sname);
    nns_ptq_fresh_name(g, base, "_fq_zero_point", zname, sizeof zname);
    nns_ptq_fresh_name(g, base, "_fakequant", node, sizeof node);
    nns_ptq_fresh_name(g, base, "_fakequantized", out, sizeof out);
    const nns_shape s = nns_shape_make(n ? 1 : 0, &n);
    nns_status st = nns_graph_add_param(g, sname, NNS_DTYPE_F32, &s, scale, learn, NULL);
    if (!st) st = nns_graph_add_param(g, zname, NNS_DTYPE_F32, &s, zp, 0, NULL);
    const char *in[3] = {base, sname, zname}, *outs[1] = {out};
    int idx = -1;
    if (!st) st = nns_graph_add_node(g, "FakeQuant", node, 3, in, 1, outs, &idx);
    if (!st) st = nns_graph_set_attr_int(g, idx, "qmin", qmin);
    if (!st) st = nns_graph_set_attr_int(g, idx, "qmax", qmax);
    if (!st && axis >= 0) st = nns_graph_set_attr_int(g, idx, "axis", axis);
    if (!st) *y = nns_graph_find_value(g, out);
    return st;
}

/* Layer i's weight through a FakeQuant with scales from its range. */
static nns_status fake_weight(nns_graph *g, int i, const nns_ptq_config *cfg, int learn) {
    int slot, axis;
    if (!nns_ptq_layer_weight(g, i, &slot, &axis)) return NNS_OK;
    const int w = g->nodes[i].in[slot];
    int64_t outer, d, inner;
    nns_ptq_weight_view(&g->values[w].shape, axis, cfg->per_channel, &outer, &d, &inner);
    const int64_t numel = nns_shape_numel(&g->values[w].shape);
    float *sc = malloc((size_t)d * sizeof *sc), *zero = calloc((size_t)d, sizeof *zero);
    int32_t *zp = malloc((size_t)d * sizeof *zp);
    int8_t *q = malloc((size_t)(numel ? numel : 1));
    nns_status st = sc && zero && zp && q ? NNS_OK : nns_error(NNS_STATUS_NOMEM, "out of memory for QAT");
    if (!st) st = nns_quantize_axis(g->values[w].data, outer, d, inner, (nns_qtype){8, 1}, 1, sc, zp, q);
    int y = -1;
    if (!st) st = add_fakequant(g, w, sc, zero, cfg->per_channel ? d : 0, axis, -128, 127, learn, &y);
    if (!st) g->nodes[i].in[slot] = y;
    free(sc);
    free(zero);
    free(zp);
    free(q);
    return st;
}

/* FakeQuant on every layer's weight and input (steps 1 and 2). */
static nns_status insert_fakequant(nns_graph *g, const nns_ptq_plan *p, const nns_ptq_config *cfg, int learn) {
    nns_status st = NNS_OK;
    for (int i = 0; !st && i < p->n_nodes; i++)
        if (p->is_layer[i]) st = fake_weight(g, i, cfg, learn);
    const int32_t qmin = cfg->act_signed ? -128 : 0, qmax = cfg->act_signed ? 127 : 255;
    for (int k = 0; !st && k < p->n_acts; k++) {
        const float zp = (float)p->zero_point[k];
        int y = -1;
        st = add_fakequant(g, p->acts[k], &p->scale[k], &zp, 0, -1, qmin, qmax, learn, &y);
        for (int i = 0; !st && i < g->n_nodes; i++) /* every reader but the FakeQuant */
            for (int j = 0; j < g->nodes[i].n_in && g->values[y].producer != i; j++)
                if (g->nodes[i].in[j] == p->acts[k]) g->nodes[i].in[j] = y;
    }
    if (!st) nns_graph_params_changed(g);
    return st ? st : nns_graph_finalize(g);
}

/* Every reader of value y (nodes and graph outputs) reads z instead. */
static void replace_uses(nns_graph *g, int y, int z) {
    for (int i = 0; i < g->n_nodes; i++)
        for (int j = 0; j < g->nodes[i].n_in; j++)
            if (g->nodes[i].in[j] == y) g->nodes[i].in[j] = z;
    for (int i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == y) g->outputs[i] = z;
}

/* FakeQuant node k as the QDQ it simulated (step 4). */
static nns_status convert_one(nns_graph *g, int k, int act_signed) {
    const nns_node *n = &g->nodes[k];
    const int x = n->in[0], y = n->out[0];
    const nns_value *s = &g->values[n->in[1]], *z = &g->values[n->in[2]];
    const int64_t ns = nns_shape_numel(&s->shape);
    const int axis = (int)nns_node_attr_int(n, "axis", 1);
    float *sc = malloc((size_t)ns * sizeof *sc);
    if (!sc) return nns_error(NNS_STATUS_NOMEM, "out of memory converting '%s'", n->name);
    memcpy(sc, s->data, (size_t)ns * sizeof *sc);
    const int32_t zp = (int32_t)((const float *)z->data)[0];
    int dq = -1;
    nns_status st;
    if (g->values[x].kind == NNS_VALUE_KIND_PARAM)
        st = nns_ptq_weight_qdq(g, x, axis, ns > 1, sc, &dq);
    else
        st = nns_ptq_act_qdq(g, x, sc[0] > 1e-30f ? sc[0] : 1e-30f, zp, act_signed, &dq);
    free(sc);
    if (!st) replace_uses(g, y, dq);
    return st;
}

nns_status nns_quantize_qat(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, int learn_scales,
                            nns_qat_train_fn train, void *user, nns_ptq_result *res) {
    if (cfg->weight_bits == 4 || cfg->group_size)
        return nns_error(NNS_STATUS_UNSUPPORTED, "quantization-aware training of 4-bit or grouped weights is not supported");
    if (cfg->weight_float16 || cfg->keep_float16)
        return nns_error(NNS_STATUS_UNSUPPORTED, "quantization-aware training with 16-bit float weights is not supported");
    if (cfg->bias_correction)
        return nns_error(NNS_STATUS_INVALID_ARG, "bias correction is for post-training quantization: "
                                                 "quantization-aware training trains the biases");
    if (cfg->bn_freeze_epoch < 0)
        return nns_error(NNS_STATUS_INVALID_ARG, "the BatchNormalization freeze epoch must be >= 0, not %d",
                         cfg->bn_freeze_epoch);
    nns_qat_bn *bn = NULL;
    nns_status st = cfg->bn_freeze_epoch > 0 ? nns_qat_bn_record(g, &bn) : NNS_OK;
    if (st) return st;
    nns_ptq_plan p;
    if ((st = nns_ptq_prepare(g, calib, cfg, &p, res))) {
        nns_qat_bn_free(bn);
        return st;
    }
    if (bn) st = nns_qat_bn_insert(g, bn, &p);
    if (!st) st = insert_fakequant(g, &p, cfg, learn_scales);
    nns_ptq_plan_free(&p);
    if (!st && bn) st = train(user, g, 0, cfg->bn_freeze_epoch);
    if (!st && bn) st = nns_qat_bn_fold(g, bn);
    if (!st) st = train(user, g, bn ? cfg->bn_freeze_epoch : 0, 0);
    nns_qat_bn_free(bn);
    const int n = g->n_nodes;
    for (int k = 0; !st && k < n; k++)
        if (g->nodes[k].op == NNS_OP_FAKEQUANT) st = convert_one(g, k, cfg->act_signed);
    return st ? st : nns_ptq_finish(g);
}
