/*
 * sensitivity.c — which layer breaks quantization (nns_quant_sensitivity,
 * nnslim/quant.h): the model as post-training quantization prepares it
 * (BatchNormalization folded, every layer's input calibrated once), then
 * each layer quantized alone — its weight to s8, its input through
 * QuantizeLinear -> DequantizeLinear with the calibrated scale, every other
 * layer float — and scored, through the generic sweep (nnslim/prune.h).
 */
#include <stdlib.h>
#include <string.h>

#include "nnslim/prune.h"
#include "quant/ptq_internal.h"

typedef struct sens_layer {
    const char *node;   /* the layer's node name (owned by g0)        */
    const char *input;  /* the activation it reads                    */
    float scale;
    int32_t zero_point;
} sens_layer;

typedef struct sens_ctx {
    const nns_ptq_config *cfg;
    sens_layer *layers;
} sens_ctx;

/* Quantize layer `unit` alone in g (a copy of the prepared graph). */
static nns_status quantize_one(void *user, nns_graph *g, int unit, const nns_sweep_unit *u, float level) {
    (void)u;
    (void)level;
    const sens_ctx *c = user;
    const sens_layer *l = &c->layers[unit];
    const int i = nns_graph_find_node(g, l->node), x = nns_graph_find_value(g, l->input);
    int slot, axis, dq = -1, dx = -1;
    if (i < 0 || x < 0 || !nns_ptq_layer_weight(g, i, &slot, &axis))
        return nns_error(NNS_STATUS_INTERNAL, "sensitivity: layer '%s' is gone from the copy", l->node);
    nns_status st = nns_ptq_weight_qdq(g, g->nodes[i].in[slot], axis, c->cfg->per_channel, NULL, &dq);
    if (!st) g->nodes[i].in[slot] = dq;
    if (!st && !c->cfg->weight_only) st = nns_ptq_act_qdq(g, x, l->scale, l->zero_point, c->cfg->act_signed, &dx);
    if (!st && dx >= 0) g->nodes[i].in[0] = dx;
    return st ? st : nns_ptq_finish(g);
}

/* The units (layers) and what quantize_one needs of each. */
static nns_status make_units(const nns_graph *g0, const nns_ptq_plan *p, nns_sweep_unit **units, sens_layer **layers,
                             int *n) {
    *units = calloc((size_t)(p->n_nodes ? p->n_nodes : 1), sizeof **units);
    *layers = calloc((size_t)(p->n_nodes ? p->n_nodes : 1), sizeof **layers);
    if (!*units || !*layers) return nns_error(NNS_STATUS_NOMEM, "out of memory for the sensitivity layers");
    *n = 0;
    for (int i = 0; i < p->n_nodes; i++) {
        if (!p->is_layer[i]) continue;
        const nns_node *nd = &g0->nodes[i];
        int k = 0;
        while (k < p->n_acts && p->acts[k] != nd->in[0]) k++;
        int slot, axis;
        nns_ptq_layer_weight(g0, i, &slot, &axis);
        (*units)[*n] = (nns_sweep_unit){nd->name, nd->op_type, nns_shape_numel(&g0->values[nd->in[slot]].shape)};
        (*layers)[*n] = (sens_layer){nd->name, g0->values[nd->in[0]].name, k < p->n_acts ? p->scale[k] : 1.0f,
                                     k < p->n_acts ? p->zero_point[k] : 0};
        ++*n;
    }
    return NNS_OK;
}

nns_status nns_quant_sensitivity(const nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg,
                                 nns_sweep_eval_fn evaluate, void *eval_user, nns_sweep_progress_fn progress,
                                 void *progress_user, nns_sweep_table *out) {
    memset(out, 0, sizeof *out);
    if (cfg->weight_bits == 4 || cfg->group_size)
        return nns_error(NNS_STATUS_UNSUPPORTED, "per-layer sensitivity of 4-bit or grouped weights is not supported");
    nns_graph *g0 = NULL;
    nns_ptq_plan p;
    memset(&p, 0, sizeof p);
    nns_ptq_result res;
    nns_sweep_unit *units = NULL;
    sens_layer *layers = NULL;
    int n = 0;
    nns_status st = nns_graph_clone(g, &g0);
    if (!st) st = nns_ptq_prepare(g0, calib, cfg, &p, &res);
    if (!st) st = make_units(g0, &p, &units, &layers, &n);
    sens_ctx c = {cfg, layers};
    const float one = 1.0f;
    nns_sweep_config sc = {units, n, &one, 1, quantize_one, &c, evaluate, eval_user, progress, progress_user};
    if (!st) st = nns_sweep_run(g0, &sc, out);
    free(units);
    free(layers);
    nns_ptq_plan_free(&p);
    nns_graph_free(g0);
    return st;
}
