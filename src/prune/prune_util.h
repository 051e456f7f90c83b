/*
 * prune_util.h — shared helpers of unstructured and N:M pruning: which
 * values are prunable weights, how their reduction (input) dimension is laid
 * out in memory, exclusion lookups, masks, and an exact k-th smallest select.
 *
 * A prunable weight is a contracted weight (graph/weights.h, from the op
 * table's weight_axes): a trainable f32 PARAM read as
 *   input 1 of a Conv   W [O, C/group, kH, kW]
 *   input 1 of a Gemm   B [K, N] (transB = 0) or [N, K] (transB = 1)
 *   input 1 of a MatMul B [..., K, N] (or [K])
 *   input 0 of a MatMul A [..., M, K] (or [K]) when it is a parameter.
 * Biases and BatchNorm parameters are never prunable. A weight read by
 * several such nodes is listed once (under the first node); it is excluded
 * if any of its nodes is, and always when one is auxiliary (nns_node.aux:
 * distillation's hint adapters).
 *
 * Reduction layout (N:M groups run along it): the weight is `outer`
 * reduction rows of `red` elements; element r of row o is at
 *   (o / inner) * batch_stride + (o % inner) * inner_stride + r * red_stride.
 */
#ifndef NNS_PRUNE_UTIL_H
#define NNS_PRUNE_UTIL_H

#include <math.h>
#include <stdint.h>

#include "core/graph_impl.h"
#include "nnslim/prune.h"

typedef struct nns_prune_target {
    int value;               /* value index of the weight                    */
    int node;                /* the (first) node that reads it               */
    int excluded;            /* 1: a node reading it is excluded             */
    int64_t numel;
    int64_t outer, red;      /* reduction rows and their length              */
    int64_t inner, inner_stride, batch_stride, red_stride;
} nns_prune_target;

/* List the prunable weights of g (malloc'd, free with free(); *n may be 0 and
 * *out NULL then). ex (may be NULL) marks excluded targets; every name in ex
 * must be a node name or the name of a prunable weight value, else
 * NNS_STATUS_INVALID_ARG naming it (`what` names the caller in messages,
 * e.g. "magnitude pruning"). A weight of another dtype than f32 (an s8
 * weight: a weight by role, graph/weights.h) cannot be pruned:
 * NNS_STATUS_UNSUPPORTED naming it, its node and its dtype. */
nns_status nns_prune_targets(const nns_graph *g, const nns_prune_exclude *ex, const char *what,
                             nns_prune_target **out, int *n);

/* Offset of element r of reduction row o. */
static inline int64_t nns_prune_target_at(const nns_prune_target *t, int64_t o, int64_t r) {
    return (o / t->inner) * t->batch_stride + (o % t->inner) * t->inner_stride + r * t->red_stride;
}

/* nns_graph_masks_ensure (graph/weights.h): g's parameters packed and
 * g->masks there (all 1 when new). */
nns_status nns_prune_masks_ensure(nns_graph *g);

/* Record metadata "nnslim.pruned" = "1". */
nns_status nns_prune_mark(nns_graph *g);

/* nns_graph_masks_from_zeros (graph/weights.h): every zero element of a
 * prunable weight gets mask 0, every other parameter 1. (The ONNX importer
 * calls that neutral function itself for models whose metadata says
 * "nnslim.pruned" = "1".) */
nns_status nns_prune_masks_from_zeros(nns_graph *g);

/* The k-th smallest (0-based, k < n) of a[0..n) by value; reorders a. a must
 * hold no NaN. Expected O(n); copes with many equal values. */
float nns_prune_select_kth(float *a, int64_t n, int64_t k);
/* 1 if node i of g contracts a weight (Conv, Gemm, MatMul: the op table's
 * weight_axes): a layer that magnitude pruning and the sweep work on. */
int nns_prune_is_weight_layer(const nns_graph *g, int i);

/* Pruning score of a weight: |w|, NaN as +inf (never pruned first). */
static inline float nns_prune_score(float w) {
    float a = w < 0 ? -w : w;
    return isnan(a) ? INFINITY : a;
}

#endif
