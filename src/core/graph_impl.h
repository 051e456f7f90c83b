/*
 * graph_impl.h — the graph IR's structures, shared inside the library.
 *
 * Values are addressed by index. A node's input index is -1 for an omitted
 * optional input. Nodes are kept in topological order after
 * nns_graph_finalize. Parameter data: a trainable f32 PARAM value's data points
 * into g->params (param_offset >= 0) once packed; every other value with data
 * owns it (malloc'd).
 */
#ifndef NNS_GRAPH_IMPL_H
#define NNS_GRAPH_IMPL_H

#include "nnslim/graph.h"

/* Most inputs, and most outputs, of one node (DenseNet-121 concatenates 25). */
#define NNS_MAX_NODE_IO 64

typedef struct nns_attr {
    char *name;
    nns_attr_type type;
    int64_t i;
    float f;
    char *s;
    int n;            /* number of ints / floats */
    int64_t *ints;
    float *floats;
} nns_attr;

typedef struct nns_value {
    char *name;
    nns_value_kind kind;
    nns_dtype dtype;
    nns_shape shape;      /* inferred for ACT values; dims[0] may be -1     */
    void *data;           /* PARAM / CONST data, else NULL                   */
    int trainable;        /* PARAM: updated by optimizers                    */
    int64_t param_offset; /* offset in g->params, or -1                      */
    int producer;         /* node index, or -1                               */
} nns_value;

typedef struct nns_node {
    char *name;
    char *op_type;        /* ONNX op name as given                           */
    int op;               /* nns_op enum, -1 if unknown                      */
    int n_in, n_out;
    int *in, *out;        /* value indices (-1: omitted optional input)      */
    int n_attr;
    nns_attr *attrs;
    /* 1: an auxiliary node a pass added (distillation's hint adapters): it
     * trains with the model but is not part of it. Pruning never prunes or
     * counts its weights; quantization will leave it alone. Copied by
     * nns_graph_clone; not saved (the pass removes its nodes). */
    int aux;
} nns_node;

struct nns_graph {
    nns_value *values;
    int n_values, cap_values;
    nns_node *nodes;
    int n_nodes, cap_nodes;
    int *inputs, n_inputs;    /* value indices of graph inputs  */
    int *outputs, n_outputs;  /* value indices of graph outputs */
    int n_meta;
    char **meta_keys, **meta_vals;
    float *params;            /* packed trainable parameters    */
    int64_t n_params;
    float *masks;             /* pruning masks beside params (NULL: none) */
    char *name;
    /* Why the model's fixed batch (dim 0 of an input, e.g. 1 in a default
     * PyTorch export) could not be made free on load (the node at fault),
     * for the error a plan at another batch gives; NULL: none. */
    char *batch_note;
    /* Bumped whenever parameter data may have changed (an optimizer step,
     * a training forward's BatchNorm statistics, pruning, packing): an
     * inference plan repacks its constant data when it differs from the
     * value it packed at (nns_op_def.pack). */
    uint64_t param_gen;
};

/* Say that g's parameter data changed (written in place): plans on g
 * repack before their next forward. Every writer of parameter data calls
 * it. */
static inline void nns_graph_params_changed(nns_graph *g) { g->param_gen++; }

/* Attribute lookup (NULL if absent). */
const nns_attr *nns_node_attr(const nns_node *n, const char *name);
int64_t nns_node_attr_int(const nns_node *n, const char *name, int64_t dflt);
float nns_node_attr_float(const nns_node *n, const char *name, float dflt);
/* Returns count (0 if absent) and sets *v. */
int nns_node_attr_ints(const nns_node *n, const char *name, const int64_t **v);
const char *nns_node_attr_string(const nns_node *n, const char *name,
                                 const char *dflt);

/* Add an ACT value (no data); returns index or -1 on OOM. */
int nns_graph_new_value(nns_graph *g, const char *name);
/* Readers of each value, a calloc'd array of n_values (free it): node
 * inputs count 1 each, a graph output output_weight. NULL when out of
 * memory. */
int *nns_graph_count_readers(const nns_graph *g, int output_weight);
/* Remove nodes/values that no graph output depends on. */
nns_status nns_graph_prune_dead(nns_graph *g);
/* Sort the nodes topologically (stable in the original order); an error
 * names a node on a cycle. Shape inference and nns_graph_finalize need the
 * op table: src/graph/infer.h. */
nns_status nns_graph_toposort(nns_graph *g);

/* strdup that returns NULL on OOM (C11 has no strdup). */
char *nns_strdup(const char *s);

#endif
