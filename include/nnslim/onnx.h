/*
 * nnslim/onnx.h — ONNX import and export.
 *
 * Export writes opset 13, IR version 7, the parameters as initializers, a
 * dynamic batch dimension ("N") on inputs and outputs, and the graph's metadata
 * (e.g. "nnslim.mean", "nnslim.std") as metadata_props; pruned weights as
 * sparse initializers where that is smaller. The file is written to
 * a temporary name and renamed, so a failure leaves no partial file.
 *
 * Import accepts the ops listed in docs/onnx.md, plus what PyTorch's exporter emits
 * around them: Constant nodes, and shape arithmetic (Shape, Gather, Unsqueeze,
 * Squeeze, Concat, Slice, Cast, Mul, Add, ... on constants) which is folded at
 * load time, and sparse initializers (expanded to dense). An unsupported op
 * fails with a message naming the op and node.
 */
#ifndef NNSLIM_ONNX_H
#define NNSLIM_ONNX_H

#include <stddef.h>
#include "nnslim/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

nns_status nns_graph_load_onnx(const char *path, nns_graph **out);
nns_status nns_graph_load_onnx_mem(const void *buf, size_t len,
                                   const char *what, nns_graph **out);
nns_status nns_graph_save_onnx(const nns_graph *g, const char *path);

/* How pruned weights are stored (docs/pruning.md). */
typedef enum nns_onnx_sparse {
    /* A Conv/Gemm/MatMul weight whose zeros make it at most 3/4 of its dense
     * size is written as a sparse_initializer (SparseTensorProto: float values
     * + ascending linearized INT64 indices). ONNX Runtime reads these. */
    NNS_ONNX_SPARSE_AUTO = 0,
    /* Every initializer dense, for runtimes without sparse initializers. */
    NNS_ONNX_SPARSE_NEVER = 1
} nns_onnx_sparse;

typedef struct nns_onnx_save_options {
    nns_onnx_sparse sparse;
} nns_onnx_save_options;

/* The bytes nns_graph_save_onnx_opts would write for g (opt NULL: the
 * defaults), without writing anything. */
nns_status nns_graph_onnx_bytes(const nns_graph *g, const nns_onnx_save_options *opt, int64_t *bytes);

/* nns_graph_save_onnx with options (opt NULL: the defaults, as
 * nns_graph_save_onnx). A graph with pruning masks is written with metadata
 * "nnslim.pruned" = "1"; loading such a model recreates the masks (mask 0
 * for every zero of a prunable weight), so fine-tuning keeps the sparsity. */
nns_status nns_graph_save_onnx_opts(const nns_graph *g, const char *path,
                                    const nns_onnx_save_options *opt);

#ifdef __cplusplus
}
#endif
#endif
