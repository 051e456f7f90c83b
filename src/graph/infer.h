/*
 * infer.h — shape inference over the op table (src/graph/infer.c). The
 * graph IR is core's (core/graph_impl.h); what its ops mean is the op
 * table's (ops/op.h); these functions join the two, one layer above ops.
 * nns_graph_finalize (nnslim/graph.h) is implemented there too.
 */
#ifndef NNS_GRAPH_INFER_H
#define NNS_GRAPH_INFER_H

#include "core/graph_impl.h"

/* Run shape inference for every node given the current input shapes.
 * Input dims of -1 are carried through as -1 in dim 0 only. */
nns_status nns_graph_infer_shapes(nns_graph *g);
/* Check node ni's input and output counts against its op, then infer its
 * output shapes from its inputs' (the values' shapes are set). */
nns_status nns_graph_infer_node(nns_graph *g, int ni);

#endif
