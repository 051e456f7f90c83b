/*
 * cle.h — cross-layer equalization and empirical bias correction, the two
 * options of post-training quantization (nns_ptq_config.cle and
 * .bias_correction, nnslim/quant.h; the method in docs/quantization.md).
 */
#ifndef NNS_QUANT_CLE_H
#define NNS_QUANT_CLE_H

#include "core/graph_impl.h"
#include "nnslim/data.h"
#include "nnslim/quant.h"

/* What cross-layer equalization did. */
typedef struct nns_cle_stats {
    int pairs;        /* layer pairs equalized                                  */
    int sweeps;       /* passes over the pairs until every scale was within
                       * 1e-4 of 1 (at most NNS_CLE_MAX_SWEEPS)                 */
    int clip_refused; /* pairs that would qualify but for a Clip (ReLU6) between */
} nns_cle_stats;

#define NNS_CLE_MAX_SWEEPS 200

/* Equalize the per-channel weight ranges of consecutive layers of g
 * (finalized, BatchNormalization folded): for each pair A -> B where A is a
 * Conv or Gemm whose output has one reader, reaching B (a Conv with group 1,
 * a depthwise Conv, or a Gemm) through positively homogeneous ops only
 * (Relu, LeakyRelu, MaxPool, AveragePool, GlobalAveragePool, Identity,
 * Dropout, and a Flatten of a 1x1 map), output channel c of A (weight and
 * bias) is divided by s_c and input channel c of B's weight multiplied by
 * s_c, s_c = sqrt(rA_c / rB_c) (rA_c, rB_c: the largest |weight| of the
 * channel in A and in B), over all pairs until the scales converge. The
 * function g computes is unchanged (up to float rounding). */
nns_status nns_quant_cle(nns_graph *g, nns_cle_stats *stats);

/* Empirical bias correction of q (quantized by nns_quantize_ptq from f,
 * which is g before its QDQ rewrite: the same node names): for each
 * quantized Conv and Gemm of q in topological order, the mean of its output
 * per channel over the calibration images of cfg, minus the mean of the same
 * node's output in f, is subtracted from its bias (a bias is added where
 * there is none). Each layer is measured after the ones before it were
 * corrected. Memory: one running sum per channel. *corrected: layers
 * corrected; *max_shift: the largest |correction|. */
nns_status nns_quant_bias_correct(nns_graph *q, nns_graph *f, const nns_dataset *calib, const nns_ptq_config *cfg,
                                  int *corrected, float *max_shift);

#endif
