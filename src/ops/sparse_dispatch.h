/*
 * sparse_dispatch.h — the sparse path of Gemm's inference forward.
 *
 * When Gemm's B is a constant f32 weight with many zeros (a pruned layer),
 * an inference plan may compute Y = alpha op(A) op(B) (+ beta C) with a CSR
 * copy of op(B)^T and the f32_spmm_csr kernel instead of a dense sgemm:
 *   prepare (plan time): count B's zeros; the layer qualifies when its
 *     sparsity reaches the lowest threshold of the table below;
 *   packed_bytes / pack: an inference plan makes the CSR arrays once, when
 *     it is built (nns_op_def.pack; again if the graph's parameters change),
 *     training plans never take the sparse path;
 *   work_bytes: room for op(A) transposed, [K][M] (batches of 2 and more);
 *   forward: the CSR is used when B's sparsity (at plan time) reaches the
 *     threshold for the current batch M, measured
 *     by bench/bench_sparse.c (docs/pruning.md). Returns 0 to let the caller
 *     run the dense path.
 */
#ifndef NNS_SPARSE_DISPATCH_H
#define NNS_SPARSE_DISPATCH_H

#include "ops/op.h"

typedef struct nns_sparse_gemm {
    int enabled;       /* B qualifies (constant, sparse enough)       */
    int k, n;          /* op(B) is [k, n]                             */
    int trans_b;
    int64_t nnz;       /* nonzeros of B at plan time                   */
    float sparsity;
} nns_sparse_gemm;

/* Sparsity from which the sparse path is used for a batch of m rows with
 * kernel table k (the plan's: a lower threshold with a SIMD f32_spmm_csr). */
float nns_sparse_gemm_threshold(const struct nns_kernels *k, int64_t m);
/* Set *sp for Gemm node n of g (never fails; sp->enabled = 0 if unsuitable). */
void nns_sparse_gemm_prepare(const nns_graph *g, const nns_node *n, int trans_b, nns_sparse_gemm *sp);
/* Bytes of the CSR (0: not enabled), and the CSR of B made into packed
 * (when B has more nonzeros than sp->nnz, it is marked unusable and the
 * dense path runs). */
size_t nns_sparse_gemm_packed_bytes(const nns_sparse_gemm *sp);
void nns_sparse_gemm_pack(const nns_sparse_gemm *sp, const float *B, void *packed);
/* a: A's shape at the plan's maximum batch. */
size_t nns_sparse_gemm_work_bytes(const nns_sparse_gemm *sp, const nns_shape *a, int trans_a, int training);
/* Y [m, n] (already holding beta*C when accumulate) += / = alpha op(A) op(B).
 * Returns 1 if done, 0 if the caller must run the dense path. */
int nns_sparse_gemm_forward(nns_exec_node *e, const nns_sparse_gemm *sp, int m, int trans_a, float alpha,
                            int accumulate);

/* Force the choice (tests and benchmarks): -1 the thresholds (default),
 * 0 never sparse, 1 always sparse where enabled. */
void nns_sparse_gemm_force(int mode);

#endif
