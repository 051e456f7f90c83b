/* infer.c — the graph's semantics from the op table: a node's input and
 * output counts checked and its shapes inferred, and nns_graph_finalize
 * (definitions checked, nodes sorted, non-trainable slots marked, shapes
 * inferred). In src/graph/, above src/ops/: core holds the IR, ops the table
 * (docs/architecture.md). */
#include <stdlib.h>
#include <string.h>

#include "graph/infer.h"
#include "ops/op.h"

nns_status nns_graph_infer_node(nns_graph *g, int ni) {
    nns_node *n = &g->nodes[ni];
    const nns_op_def *def = n->op >= 0 ? nns_op_table[n->op] : NULL;
    if (!def) return nns_error(NNS_STATUS_UNSUPPORTED, "unsupported op '%s' at node '%s'", n->op_type, n->name);
    if (n->n_in < def->min_in || n->n_in > def->max_in || n->n_out < def->min_out || n->n_out > def->max_out)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): %d inputs and %d outputs, expected %d-%d and %d-%d",
                         n->name, n->op_type, n->n_in, n->n_out, def->min_in, def->max_in, def->min_out, def->max_out);
    const nns_shape *in[NNS_MAX_NODE_IO];
    nns_shape out[NNS_MAX_NODE_IO];
    nns_dtype in_dt[NNS_MAX_NODE_IO], out_dt[NNS_MAX_NODE_IO];
    memset(out, 0, sizeof out);
    for (int j = 0; j < n->n_in; j++) {
        in[j] = n->in[j] >= 0 ? &g->values[n->in[j]].shape : NULL;
        in_dt[j] = n->in[j] >= 0 ? g->values[n->in[j]].dtype : NNS_DTYPE_UNDEFINED;
    }
    unsigned char pbuf[512];
    void *params = pbuf;
    if (def->params_size > sizeof pbuf) {
        params = calloc(1, def->params_size);
        if (!params) return nns_error(NNS_STATUS_NOMEM, "out of memory at node '%s'", n->name);
    } else {
        memset(pbuf, 0, sizeof pbuf);
    }
    nns_status st = nns_op_prepare(g, n, params);
    if (st == NNS_OK) st = nns_op_infer(g, n, params, in, in_dt, out, out_dt);
    if (params != pbuf) free(params);
    if (st != NNS_OK) return st;
    for (int j = 0; j < n->n_out; j++) {
        g->values[n->out[j]].shape = out[j];
        g->values[n->out[j]].dtype = out_dt[j];
    }
    return NNS_OK;
}

nns_status nns_graph_infer_shapes(nns_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        nns_status st = nns_graph_infer_node(g, i);
        if (st != NNS_OK) return st;
    }
    return NNS_OK;
}

nns_status nns_graph_finalize(nns_graph *g) {
    for (int v = 0; v < g->n_values; v++) {
        const nns_value *val = &g->values[v];
        if (val->kind == NNS_VALUE_KIND_ACT && val->producer < 0) {
            /* find a consumer to name */
            for (int i = 0; i < g->n_nodes; i++)
                for (int j = 0; j < g->nodes[i].n_in; j++)
                    if (g->nodes[i].in[j] == v)
                        return nns_error(NNS_STATUS_FORMAT, "node '%s': input '%s' is not defined", g->nodes[i].name, val->name);
            for (int i = 0; i < g->n_outputs; i++)
                if (g->outputs[i] == v)
                    return nns_error(NNS_STATUS_FORMAT, "graph output '%s' is not defined", val->name);
        }
    }
    if (!g->n_outputs) return nns_error(NNS_STATUS_FORMAT, "graph has no outputs");
    nns_status st = nns_graph_toposort(g);
    if (st) return st;
    /* Non-trainable slots (BN running stats, shapes). */
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_op_def *def = n->op >= 0 ? nns_op_table[n->op] : NULL;
        if (!def)
            return nns_error(NNS_STATUS_UNSUPPORTED, "unsupported op '%s' at node '%s'", n->op_type, n->name);
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0 && (def->nontrainable_inputs >> j & 1u) &&
                g->values[n->in[j]].kind == NNS_VALUE_KIND_PARAM &&
                g->values[n->in[j]].param_offset < 0)
                g->values[n->in[j]].trainable = 0;
    }
    return nns_graph_infer_shapes(g);
}
