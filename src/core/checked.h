/*
 * checked.h — overflow-checked size arithmetic, for every size computed from
 * a file (element counts, byte counts, strides, reshape targets, pads and
 * kernel geometry). Each returns nonzero when the exact result does not fit,
 * and then leaves *r unspecified. Limits (nns_limit_*) are in nnslim/tensor.h.
 */
#ifndef NNS_CHECKED_H
#define NNS_CHECKED_H

#include <stddef.h>
#include <stdint.h>

#include "nnslim/tensor.h"

static inline int nns_ck_mul_i64(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); }
static inline int nns_ck_add_i64(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); }
static inline int nns_ck_mul_size(size_t a, size_t b, size_t *r) { return __builtin_mul_overflow(a, b, r); }
static inline int nns_ck_add_size(size_t a, size_t b, size_t *r) { return __builtin_add_overflow(a, b, r); }

/* Largest value a geometry attribute (kernel size, stride, dilation, pad,
 * axis length) or a single dimension may take: with every operand at most
 * this, sums and products of two of them cannot overflow int64_t. */
#define NNS_MAX_DIM ((int64_t)INT32_MAX)

/* 1 if 0 <= v <= NNS_MAX_DIM. */
static inline int nns_ck_dim_ok(int64_t v) { return v >= 0 && v <= NNS_MAX_DIM; }

/* Checked product of n int64 factors (all >= 0): 0 on success. */
int nns_ck_product(const int64_t *v, int n, int64_t *r);

/* A positive limit parsed from its text ("1024", "64M", "2G", "512MiB"):
 * 0 on success. */
int nns_limit_parse(const char *s, uint64_t *out);

#endif
