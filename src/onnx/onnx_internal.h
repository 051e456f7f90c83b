/*
 * onnx_internal.h — shared between the ONNX importer (onnx_import.c), its
 * load-time constant folder (onnx_fold.c) and the exporter (onnx_export.c).
 *
 * While a model loads, every value known at load time (initializers, the
 * outputs of Constant nodes and of folded shape arithmetic) lives in the
 * loader's constant table, not in the graph. A constant enters the graph (as
 * a PARAM or CONST value) only when a node that is kept uses it.
 *
 * Storage of a constant's data by dtype:
 *   F32       float[numel]
 *   S64, S32  int64_t[numel] (S32 is held widened; narrowed when it enters
 *             the graph)
 *   U8, S8, BOOL, F16  raw bytes, the dtype's size each (pass through to
 *             kept nodes; never folded)
 *
 * An integer constant may be partly symbolic: the output of Shape on a tensor
 * whose dim is dynamic (-1, the batch). Such an element stores 0 in data and
 * (value index, dim) in sym; the folder carries symbols through Gather,
 * Unsqueeze, Squeeze, Concat, Slice, Cast and Identity, and the importer
 * resolves them when the vector reaches a Reshape (see docs/onnx.md).
 */
#ifndef NNS_ONNX_INTERNAL_H
#define NNS_ONNX_INTERNAL_H

#include <stdint.h>

#include "core/graph_impl.h"
#include "onnx.pb-c.h"

typedef enum nns_onnx_origin {
    NNS_ONNX_ORIGIN_INIT = 0,     /* a graph initializer                  */
    NNS_ONNX_ORIGIN_CONSTANT = 1, /* a Constant node                      */
    NNS_ONNX_ORIGIN_FOLDED = 2,   /* computed by the folder / normaliser  */
} nns_onnx_origin;

typedef struct nns_onnx_const {
    char *name;
    nns_dtype dtype;
    nns_shape shape;
    void *data;       /* see the table above; NULL until materialised         */
    int *sym;         /* NULL, or 2*numel ints: (value index, dim), -1 = known */
    const Onnx__TensorProto *init; /* lazy initializer source, or NULL        */
    nns_onnx_origin origin;
    int gidx;         /* value index once added to the graph, else -1         */
} nns_onnx_const;

typedef struct nns_onnx_loader {
    const char *what;      /* file name or caller's label, for messages */
    int64_t opset;         /* default-domain opset                       */
    nns_graph *g;
    nns_onnx_const *k;
    int n_k, cap_k;
    /* 1: a graph input's fixed dim 0 of 1 (a default PyTorch export) is
     * read as a free batch, and a Reshape to a constant shape starting
     * with that 1 copies the batch instead (freed: it happened). */
    int free_batch, freed;
} nns_onnx_loader;

/* S64 and S32: the integer dtypes that the folder computes with. */
static inline int nns_onnx_is_int(nns_dtype t) { return t == NNS_DTYPE_S64 || t == NNS_DTYPE_S32; }
/* Bytes per stored element (the table above): the dtype's size, but 8 for
 * S32 (held widened). */
static inline size_t nns_onnx_store_size(nns_dtype t) {
    return nns_onnx_is_int(t) ? sizeof(int64_t) : nns_dtype_size(t);
}

/* Element count of a constant's shape (1 for a scalar, 0 if any dim is 0). */
int64_t nns_onnx_numel(const nns_shape *s);

/* Find a constant by name: index or -1. */
int nns_onnx_const_find(const nns_onnx_loader *L, const char *name);
/* Append a constant (takes ownership of c->data and c->sym, copies the name).
 * Returns its index or -1 on OOM (c's buffers are freed then). */
int nns_onnx_const_push(nns_onnx_loader *L, nns_onnx_const *c, const char *name);
void nns_onnx_const_clear(nns_onnx_const *c);
/* Whether an integer constant has any symbolic element. */
int nns_onnx_const_has_sym(const nns_onnx_const *c);

/* Attribute lookup on a NodeProto (NULL if absent). */
const Onnx__AttributeProto *nns_onnx_attr(const Onnx__NodeProto *np, const char *name);
int64_t nns_onnx_attr_int(const Onnx__NodeProto *np, const char *name, int64_t dflt);

/* Whether op_type (default domain) is folded when all its inputs are constant. */
int nns_onnx_foldable(const char *op_type);
/* Whether op_type is only supported by folding (not in the op table). */
int nns_onnx_fold_only(const char *op_type);

/* Fold one node whose inputs are all constants (in[i] NULL: omitted input).
 * On success *out holds the result (name not set). Errors name the node. */
nns_status nns_onnx_fold(const nns_onnx_loader *L, const Onnx__NodeProto *np,
                         const char *node_name, int n_in,
                         const nns_onnx_const *const *in, nns_onnx_const *out);

/* Decode a TensorProto into c (dtype, shape, data in the storage above; c's
 * old data is freed). L->what and name label the messages. Used by the
 * importer and by the ONNX test-data reader (tests/test_conformance.c). */
nns_status nns_onnx_tensor_read(const nns_onnx_loader *L, const Onnx__TensorProto *t, const char *name,
                                nns_onnx_const *c);

/* Little-endian byte copies of n elements of size es (2, 4 or 8). */
void nns_onnx_copy_le(void *dst, const void *src, size_t n, size_t es);

#endif
