/*
 * bf16_util.h — what Conv and Gemm share to run a layer on the bfloat16
 * GEMM (nns_bf16_gemm, kernels.h): a layer qualifies when its input is the
 * output of a Round16 to bfloat16 (every value a bf16 value), its weights
 * (after any folding) are all bf16 values, and the plan's kernel table has a
 * SIMD bf16_gemm. Then the float GEMM and the bf16 one multiply the same
 * values exactly; only the order and rounding of the float sums differ.
 */
#ifndef NNS_BF16_UTIL_H
#define NNS_BF16_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/graph_impl.h"
#include "kernels/kernels.h"

/* 1 if input `slot` of node n is written by a Round16 to bfloat16. */
int nns_bf16_input(const nns_graph *g, const nns_node *n, int slot);
/* 1 if the table's bf16_gemm is a SIMD variant (the reference is slower
 * than the float GEMM; the path is not taken with it). */
int nns_bf16_gemm_fast(const nns_kernels *k);
/* 1 if each of the n values is a bfloat16 value (no NaN). */
int nns_bf16_exact(const float *x, size_t n);
/* rows x cols floats (row stride ldx) into bf16 rows ldw elements apart,
 * the columns past cols up to ldw zeroed. Values must be bf16 values. */
void nns_bf16_rows(int rows, int cols, const float *x, size_t ldx, uint16_t *w, size_t ldw);

#endif
