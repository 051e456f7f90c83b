/*
 * nnslim/graph.h — the graph IR.
 *
 * One IR serves training, compression and inference. A graph is a list of
 * values (graph inputs, parameters, constants, activations) and a list of nodes
 * in topological order. Nodes use ONNX op names ("Conv", "Gemm", ...) and ONNX
 * attribute semantics, so ONNX import and export are a mapping.
 *
 * Trainable float parameters are packed into one flat buffer
 * (nns_graph_pack_params) so that optimizers, pruning and gradient clipping are
 * single loops over one array.
 */
#ifndef NNSLIM_GRAPH_H
#define NNSLIM_GRAPH_H

#include "nnslim/status.h"
#include "nnslim/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nns_graph nns_graph;

typedef enum nns_value_kind {
    NNS_VALUE_KIND_INPUT = 0,  /* graph input, fed at run time              */
    NNS_VALUE_KIND_PARAM = 1,  /* initializer (weights, BN stats)           */
    NNS_VALUE_KIND_CONST = 2,  /* constant used by shape arithmetic (s64)   */
    NNS_VALUE_KIND_ACT = 3     /* produced by a node                        */
} nns_value_kind;

/* Attribute types: values match ONNX AttributeProto.AttributeType. */
typedef enum nns_attr_type {
    NNS_ATTR_TYPE_FLOAT = 1,
    NNS_ATTR_TYPE_INT = 2,
    NNS_ATTR_TYPE_STRING = 3,
    NNS_ATTR_TYPE_FLOATS = 6,
    NNS_ATTR_TYPE_INTS = 7
} nns_attr_type;

nns_status nns_graph_create(nns_graph **out);
void nns_graph_free(nns_graph *g);
/* Deep copy (parameters included). */
nns_status nns_graph_clone(const nns_graph *g, nns_graph **out);

/* Add a graph input of the given dtype and shape (dims[0] may be -1). Returns
 * the value index in *idx. */
nns_status nns_graph_add_input(nns_graph *g, const char *name, nns_dtype dt,
                               const nns_shape *shape, int *idx);
/* Add an initializer; data (numel * dtype size bytes) is copied, or zeroed if
 * data is NULL. trainable: whether optimizers update it. */
nns_status nns_graph_add_param(nns_graph *g, const char *name, nns_dtype dt,
                               const nns_shape *shape, const void *data,
                               int trainable, int *idx);
/* Add a node. inputs are value names ("" for an omitted optional input);
 * outputs are created as new activation values. Returns the node index. */
nns_status nns_graph_add_node(nns_graph *g, const char *op_type,
                              const char *name, int n_in,
                              const char *const *inputs, int n_out,
                              const char *const *outputs, int *node_idx);
nns_status nns_graph_set_attr_int(nns_graph *g, int node, const char *name,
                                  int64_t v);
nns_status nns_graph_set_attr_float(nns_graph *g, int node, const char *name,
                                    float v);
nns_status nns_graph_set_attr_ints(nns_graph *g, int node, const char *name,
                                   int n, const int64_t *v);
nns_status nns_graph_set_attr_floats(nns_graph *g, int node, const char *name,
                                     int n, const float *v);
nns_status nns_graph_set_attr_string(nns_graph *g, int node, const char *name,
                                     const char *v);
/* Mark a value as a graph output. */
nns_status nns_graph_add_output(nns_graph *g, const char *name);
/* Set a metadata key (e.g. "nnslim.mean"); replaces an existing key. */
nns_status nns_graph_set_meta(nns_graph *g, const char *key, const char *val);
/* Metadata value or NULL. */
const char *nns_graph_get_meta(const nns_graph *g, const char *key);

/* Sort nodes topologically, check that every input is defined, and run shape
 * inference with the declared input shapes (batch may stay -1). Errors name
 * the node at fault. */
nns_status nns_graph_finalize(nns_graph *g);

/* Fold every inference-mode BatchNormalization whose input is a Conv's or
 * Gemm's output read by it alone (and whose weight and bias no other node
 * reads) into that node: the weights' output channels are scaled, the bias
 * shifted (created if absent), the BatchNormalization removed. The graph
 * computes the same function (to float rounding). *folded (may be NULL):
 * how many were folded. On an error (out of memory) the folds done so far
 * stay, each complete. */
nns_status nns_graph_fold_batchnorm(nns_graph *g, int *folded);

/* Replace every DequantizeLinear whose inputs are all initializers (a
 * quantized weight in QDQ form), and every Cast to float of an initializer
 * (an f16 or bf16 weight), by a float initializer holding its output,
 * computed as the op computes it: the graph gives the same values, but its
 * weights are float again (sessions and evaluation run such a copy, so that
 * the layers get packed weights; never save it as the quantized model).
 * *folded (may be NULL): how many. */
nns_status nns_graph_fold_dequantize(nns_graph *g, int *folded);
/* Replace every DequantizeLinear(x) -> Conv | Gemm | MatMul (its weight a
 * constant's DequantizeLinear) [-> Relu | Clip] [-> QuantizeLinear] by one
 * integer node (nnslim's own Int8Conv / Int8Gemm): int32 accumulation, the
 * bias in s32, requantization rounding half to even and saturating, the
 * activation fused; the node keeps the layer's name. Also: MaxPool,
 * Flatten, Reshape, Dropout and Identity between a layer (or a
 * DequantizeLinear) and its QuantizeLinear run on the quantized values; a
 * residual Add right after a layer fuses into it; an Add of two dequantized
 * activations becomes Int8Add; a change of scale, Int8Lut (a table). Layers whose integer
 * form would differ from their definition (see docs/quantization.md) stay
 * as they are. Never save the result (nnslim's own ops are not ONNX).
 * *lowered (may be NULL): how many layers. */
nns_status nns_graph_lower_int8(nns_graph *g, int *lowered);
/* Replace each Cast of a float activation to float16 or bfloat16 read by
 * a Cast back to float (a 16-bit activation's form) by one node of
 * nnslim's own, Round16, which computes the same in one pass; the 16-bit
 * value goes when nothing else reads it. Never save the result.
 * *fused (may be NULL): how many. */
nns_status nns_graph_fuse_round16(nns_graph *g, int *fused);
/* Replace each Gemm (transB) whose weight is a blocked DequantizeLinear of
 * constant 4-bit codes (no zero point, constant scales, read by that Gemm
 * alone) by one node of nnslim's own, GemmW4, which keeps the weight 4-bit
 * and unpacks it in registers. Never save the result. *lowered (may be
 * NULL): how many. */
nns_status nns_graph_lower_w4(nns_graph *g, int *lowered);
/* The same for a Gemm whose weight is a Cast to float of a constant
 * float16 tensor: GemmF16 keeps the weight float16 and converts it as it
 * multiplies (F16C). */
nns_status nns_graph_lower_f16w(nns_graph *g, int *lowered);
/* The graph to execute g with: *out = NULL when g has no
 * DequantizeLinear, constant Cast or 16-bit activation (run g itself),
 * else a finalized copy with its quantized layers lowered to integer nodes
 * (nns_graph_lower_int8; not when the environment variable NNS_INT8 is 0,
 * which keeps the float simulation of the QDQ form), its 16-bit
 * activations' Cast pairs fused (nns_graph_fuse_round16), its Gemms on
 * 4-bit and float16 weights made GemmW4 and GemmF16 (nns_graph_lower_w4,
 * nns_graph_lower_f16w) and the remaining
 * constant DequantizeLinear and Cast nodes folded (the caller frees it). */
nns_status nns_graph_exec_copy(const nns_graph *g, nns_graph **out);

/* Pack trainable float parameters into one flat buffer (idempotent). */
nns_status nns_graph_pack_params(nns_graph *g);

/* Queries. */
int nns_graph_n_nodes(const nns_graph *g);
int nns_graph_n_values(const nns_graph *g);
int nns_graph_find_value(const nns_graph *g, const char *name); /* -1 if none */
int nns_graph_find_node(const nns_graph *g, const char *name);  /* -1 if none */
/* Node i's name and ONNX op type (NULL outside 0..n_nodes-1). */
const char *nns_graph_node_name(const nns_graph *g, int i);
const char *nns_graph_node_op(const nns_graph *g, int i);
/* Total trainable parameter count, and all parameter elements. */
int64_t nns_graph_n_params(const nns_graph *g);
/* The graph's outputs and the shape of output i (dim 0 -1: the batch; an
 * empty shape for i out of range). */
int nns_graph_n_outputs(const nns_graph *g);

/* Input normalisation recorded in a model (metadata nnslim.mean and
 * nnslim.std, which nnslim's commands write: one value, or one per input
 * channel, comma-separated). nns_norm_parse reads such a list (at most cap
 * numbers; `what` names it in errors). nns_graph_get_norm gives g's (*n 0:
 * none recorded). nns_graph_normalize_input applies it in place to n
 * samples of g's input (x - mean[c]) / std[c], c the channel (dim 1);
 * nothing when none is recorded. */
#define NNS_NORM_MAX 64
nns_status nns_norm_parse(const char *what, const char *text, float *v, int cap, int *n);
nns_status nns_graph_get_norm(const nns_graph *g, float *mean, float *std, int cap, int *n);
nns_status nns_graph_normalize_input(const nns_graph *g, float *x, int64_t n);
nns_shape nns_graph_output_shape(const nns_graph *g, int i);
/* Keep the zeros of g's prunable weights (Conv, Gemm, MatMul) as pruning
 * masks, so that training leaves them zero: what a model pruned by another
 * tool needs before fine-tuning. ONNX import does it for models saved
 * pruned by nnslim and for models stored with sparse initializers.
 * *zeros (may be NULL) gets how many weights are masked. */
nns_status nns_graph_keep_zeros(nns_graph *g, int64_t *zeros);

/* Per-node summary for reports (nnslim info). Shapes are for batch 1. */
typedef struct nns_layer_info {
    const char *name;      /* node name (owned by the graph)  */
    const char *op;        /* ONNX op type                    */
    nns_shape out_shape;   /* first output, batch 1           */
    int64_t params;        /* trainable parameters first used here */
    int64_t nonzero;       /* of which nonzero                */
    int64_t macs;          /* multiply-accumulates per image  */
    char precision[16];    /* "f32", "f16" or "bf16" (16-bit weights), "W8A8" (s8 weights, quantized input),
                            * "W8A32" (weight-only); "" without a weight */
} nns_layer_info;

/* Fill *layers (malloc'd, n_nodes entries; free with free()) and totals.
 * Any of the total pointers may be NULL. */
nns_status nns_graph_summarize(const nns_graph *g, nns_layer_info **layers, int *n,
                               int64_t *total_params, int64_t *total_nonzero,
                               int64_t *total_macs);

#ifdef __cplusplus
}
#endif
#endif
