/*
 * weights.h — (src/graph/) the contracted weights of a graph, from the op table's facts
 * (op.h: weight_axes): every weight with data that an op contracts with its
 * data input (by role: a trainable f32 parameter, or an initializer of
 * another dtype such as an s8 weight, which nnslim cannot run or prune yet) — Conv W, Gemm B, MatMul B, and MatMul A
 * where it is a parameter — listed once (under the first node that reads
 * it), with its reduction layout. A neutral listing: pruning (its targets),
 * ONNX export (sparse storage), mask restoration on load and (next)
 * quantization (per-channel scales along axes.out_axis) read it. Biases and
 * channel-wise parameters (BatchNorm) are not listed.
 *
 * Reduction layout: the weight is `outer` reduction rows of `red` elements;
 * element r of row o is at
 *   (o / inner) * batch_stride + (o % inner) * inner_stride + r * red_stride.
 */
#ifndef NNS_GRAPH_WEIGHTS_H
#define NNS_GRAPH_WEIGHTS_H

#include <stdint.h>

#include "ops/op.h"

typedef struct nns_weight_ref {
    int value;               /* value index of the weight                    */
    int node, slot;          /* the (first) node that reads it, input slot   */
    nns_dtype dtype;         /* f32, or (not runnable yet) s8, u8, ...       */
    nns_weight_axes axes;    /* its output-channel and reduction axes        */
    int64_t numel;
    int64_t outer, red;      /* reduction rows and their length              */
    int64_t inner, inner_stride, batch_stride, red_stride;
} nns_weight_ref;

/* 1 and *w filled when input `slot` of node `node` is a contracted weight
 * (a trainable f32 PARAM, or an initializer of another dtype, with data and
 * elements, at a slot and rank the op's weight_axes accepts), else 0. */
int nns_weight_layout(const nns_graph *g, int node, int slot, nns_weight_ref *w);

/* 1 when input `slot` of node `node` is a weight by its role, as the
 * summary (and `nnslim info`) counts parameters: a trainable f32 parameter
 * in any slot, or an initializer of another dtype (an s8 weight) that the
 * op reads as its weight or bias (nns_op_weight_in, nns_op_bias_in, a
 * contracted weight) — not a shape constant such as Reshape's s64 shape. */
int nns_graph_input_is_weight(const nns_graph *g, int node, int slot);

/* The initializer that holds the weight read at input `slot` of `node`:
 * the input itself when nns_graph_input_is_weight, or, for a weight or bias
 * slot fed by DequantizeLinear of an initializer (a quantized weight in QDQ
 * form) or by a Cast of one (an f16 or bf16 weight), that initializer. -1 when the input is not a weight. */
int nns_graph_weight_source(const nns_graph *g, int node, int slot);

/* A layer's precision for reports, into buf: "f32" for a float layer,
 * "f16" or "bf16" for one whose weight is stored in 16 bits (activations
 * in float);
 * for one whose weight is stored quantized, "W8A8" (s8 or u8 weight, input
 * 0 through QuantizeLinear -> DequantizeLinear) or "W8A32" (the input in
 * float); for ConvInteger and MatMulInteger with a constant weight,
 * "W8A8dyn" when DynamicQuantizeLinear quantizes its input at run time,
 * else "W8A8"; "" for a node without a weight. */
void nns_graph_layer_precision(const nns_graph *g, int node, char *buf, size_t len);

/* Scale float weight w's output channels (axis ax->out_axis) by a[c]
 * (BatchNormalization folding: fold.c; QAT's freeze: quant/qat_bn.c). */
void nns_weight_scale_channels(nns_value *w, const nns_weight_axes *ax, const double *a);

/* The constant weight (input 1) of a ConvInteger or MatMulInteger node, or
 * -1 (another op, or a computed input 1). */
int nns_graph_integer_weight(const nns_graph *g, int node);

/* The contracted weights of g, once each (malloc'd, free with free(); *n may
 * be 0 and *out NULL then). */
nns_status nns_graph_list_weights(const nns_graph *g, nns_weight_ref **out, int *n);

/* Offset of element r of reduction row o. */
static inline int64_t nns_weight_at(const nns_weight_ref *w, int64_t o, int64_t r) {
    return (o / w->inner) * w->batch_stride + (o % w->inner) * w->inner_stride + r * w->red_stride;
}

/* Make sure g's parameters are packed and g->masks exists (all 1 when new).
 * On failure g is unchanged except for packing (which changes no value). */
nns_status nns_graph_masks_ensure(nns_graph *g);

/* Recreate masks from zeros: every zero element of a contracted weight gets
 * mask 0, every other parameter 1 (packs g and allocates g->masks). */
nns_status nns_graph_masks_from_zeros(nns_graph *g);

#endif
