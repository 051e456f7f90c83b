/*
 * nnslim/onnx.h — ONNX import and export.
 *
 * Export writes opset 13, IR version 7, the parameters as initializers, a
 * dynamic batch dimension ("N") on inputs and outputs, and the graph's metadata
 * (e.g. "nnslim.mean", "nnslim.std") as metadata_props. The file is written to
 * a temporary name and renamed, so a failure leaves no partial file.
 *
 * Import accepts the ops in src/ops/op.h, plus what PyTorch's exporter emits
 * around them: Constant nodes, and shape arithmetic (Shape, Gather, Unsqueeze,
 * Squeeze, Concat, Slice, Cast, Mul, Add, ... on constants) which is folded at
 * load time. An unsupported op fails with a message naming the op and node.
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

#ifdef __cplusplus
}
#endif
#endif
