/* round16.c — fuse a 16-bit activation's two Casts into one Round16 node
 * (nns_graph_fuse_round16, nnslim/graph.h). The second Cast becomes the
 * Round16 in place, keeping its name and output; the first goes with
 * nns_graph_prune_dead when no other node reads its 16-bit value. */
#include <stdlib.h>

#include "core/graph_impl.h"
#include "ops/op.h"

#define ONNX_FLOAT 1

/* The ONNX type (10 or 16) of the Cast to 16 bits that node i, a Cast to
 * float, reads, its input a float activation; 0 if it is not such a pair. */
static int64_t pair_type(const nns_graph *g, int i) {
    const nns_node *n = &g->nodes[i];
    if (n->op != NNS_OP_CAST || n->n_in != 1 || n->in[0] < 0 || nns_node_attr_int(n, "to", 0) != ONNX_FLOAT) return 0;
    const nns_value *h = &g->values[n->in[0]];
    if ((h->dtype != NNS_DTYPE_F16 && h->dtype != NNS_DTYPE_BF16) || h->producer < 0) return 0;
    const nns_node *c = &g->nodes[h->producer];
    if (c->op != NNS_OP_CAST || c->n_in != 1 || c->in[0] < 0) return 0;
    const nns_value *x = &g->values[c->in[0]];
    const int64_t to = nns_node_attr_int(c, "to", 0);
    return x->dtype == NNS_DTYPE_F32 && !x->data && (to == 10 || to == 16) ? to : 0;
}

nns_status nns_graph_fuse_round16(nns_graph *g, int *fused) {
    int n = 0;
    nns_status st = NNS_OK;
    for (int i = 0; i < g->n_nodes && !st; i++) {
        const int64_t to = pair_type(g, i);
        if (!to) continue;
        nns_node *c = &g->nodes[i];
        char *op = nns_strdup("Round16");
        if (!op) return nns_error(NNS_STATUS_NOMEM, "out of memory fusing node '%s'", c->name);
        free(c->op_type);
        c->op_type = op;
        c->op = NNS_OP_ROUND16;
        c->in[0] = g->nodes[g->values[c->in[0]].producer].in[0];
        st = nns_graph_set_attr_int(g, i, "to", to);
        n++;
    }
    if (!st && n) st = nns_graph_prune_dead(g);
    if (fused) *fused = n;
    return st;
}
