/* summary.c — per-layer parameter, nonzero and MAC counts (batch 1; MACs
 * from the op table's macs; parameters are the weights by role,
 * nns_graph_input_is_weight, of any dtype). */
#include <stdlib.h>
#include <string.h>

#include "graph/infer.h"
#include "graph/weights.h"
#include "ops/op.h"

/* Counts of a file's graph: saturate at INT64_MAX (or 0 for a negative,
 * unknown, factor) instead of overflowing. */
static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? INT64_MAX : r;
}

nns_status nns_graph_summarize(const nns_graph *g, nns_layer_info **layers, int *n,
                               int64_t *total_params, int64_t *total_nonzero,
                               int64_t *total_macs) {
    *layers = NULL;
    *n = 0;
    nns_graph *c = NULL;
    nns_status st = nns_graph_clone(g, &c);
    if (st) return st;
    for (int i = 0; i < c->n_inputs; i++) {
        nns_value *v = &c->values[c->inputs[i]];
        if (v->shape.ndim > 0 && v->shape.dims[0] < 0) v->shape.dims[0] = 1;
    }
    if ((st = nns_graph_infer_shapes(c))) {
        nns_graph_free(c);
        return st;
    }
    nns_layer_info *L = calloc((size_t)(c->n_nodes ? c->n_nodes : 1), sizeof *L);
    char *seen = calloc((size_t)(c->n_values ? c->n_values : 1), 1);
    if (!L || !seen) {
        free(L);
        free(seen);
        nns_graph_free(c);
        return nns_error(NNS_STATUS_NOMEM, "out of memory summarizing the graph");
    }
    int64_t tp = 0, tn = 0, tm = 0;
    for (int i = 0; i < c->n_nodes; i++) {
        const nns_node *nd = &c->nodes[i];
        const nns_node *orig = &g->nodes[i];
        nns_layer_info *l = &L[i];
        l->name = orig->name;
        l->op = orig->op_type;
        l->out_shape = c->values[nd->out[0]].shape;
        for (int j = 0; j < nd->n_in; j++) {
            int v = nd->in[j];
            if (v < 0) continue;
            v = j == 1 && nns_graph_integer_weight(c, i) >= 0 ? nd->in[j]
                                                               : nns_graph_weight_source(c, i, j); /* through DequantizeLinear for a quantized weight */
            if (v < 0 || seen[v]) continue;
            const nns_value *val = &c->values[v];
            const nns_dtype_info *dt = nns_dtype_get_info(val->dtype);
            if (!dt || !val->data) continue;
            seen[v] = 1;
            int64_t k = nns_shape_numel(&val->shape);
            if (val->shape.ndim == 0) k = 1;
            l->params += k;
            const unsigned char *d = val->data;
            for (int64_t e = 0; e < k; e++) l->nonzero += dt->to_f32(d + (size_t)e * dt->size) != 0.0f;
        }
        nns_graph_layer_precision(c, i, l->precision, sizeof l->precision);
        const nns_op_def *def = nns_op_def_of(nd);
        l->macs = 0;
        if (def && def->macs) {
            const nns_shape *in[NNS_MAX_NODE_IO] = {0};
            for (int j = 0; j < nd->n_in && j < NNS_MAX_NODE_IO; j++)
                in[j] = nd->in[j] >= 0 ? &c->values[nd->in[j]].shape : NULL;
            l->macs = def->macs(nd, in, &l->out_shape);
        }
        tp = sat_add(tp, l->params);
        tn = sat_add(tn, l->nonzero);
        tm = sat_add(tm, l->macs);
    }
    *n = c->n_nodes;
    free(seen);
    nns_graph_free(c);
    *layers = L;
    if (total_params) *total_params = tp;
    if (total_nonzero) *total_nonzero = tn;
    if (total_macs) *total_macs = tm;
    return NNS_OK;
}
