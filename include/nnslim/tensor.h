/*
 * nnslim/tensor.h — dtypes and shapes.
 *
 * Tensors are dense, row-major (C order); image tensors are NCHW. A shape has
 * up to NNS_MAX_DIMS dimensions; a dimension of -1 in a graph input means
 * "dynamic" (the batch dimension) and is fixed when a plan is built.
 */
#ifndef NNSLIM_TENSOR_H
#define NNSLIM_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "nnslim/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Values match ONNX TensorProto.DataType where one exists. Enums only grow. */
typedef enum nns_dtype {
    NNS_DTYPE_UNDEFINED = 0,
    NNS_DTYPE_F32 = 1,
    NNS_DTYPE_U8 = 2,
    NNS_DTYPE_S8 = 3,
    NNS_DTYPE_S32 = 6,
    NNS_DTYPE_S64 = 7,
    NNS_DTYPE_BOOL = 9, /* one byte, 0 or 1 */
    NNS_DTYPE_F16 = 10,
    NNS_DTYPE_BF16 = 16, /* bfloat16: float32's top 16 bits */
    /* 4-bit integers (ONNX UINT4 / INT4). nnslim holds them one value per
     * byte (u4 0..15 as uint8_t, s4 -8..7 as int8_t), so that a tensor's
     * bytes stay numel * size; ONNX files pack two per byte, low nibble
     * first, and import and export convert. */
    NNS_DTYPE_U4 = 21,
    NNS_DTYPE_S4 = 22
} nns_dtype;

/* What nnslim knows of a dtype, from one table. */
typedef struct nns_dtype_info {
    nns_dtype dtype;
    const char *name;       /* "f32", "u8", "s8", "s32", "s64", "bool", "f16", "bf16", "u4", "s4" */
    size_t size;            /* bytes of one element */
    int is_float;           /* f32, f16, bf16 */
    int is_integer;         /* u8, s8, s32, s64, u4, s4 (not bool) */
    int is_signed;
    int64_t min, max;       /* the integer range (0, 1 for bool; 0, 0 for floats) */
    /* One element to float, and a float to one element: integers round
     * half to even and saturate to [min, max] (NaN gives 0); bool is 1 for
     * any non-zero value (NaN too); f16 and bf16 round to nearest even
     * (IEEE; a NaN stays a NaN). */
    float (*to_f32)(const void *p);
    void (*from_f32)(float v, void *p);
} nns_dtype_info;

/* The table entry of t, NULL for an unknown dtype. */
const nns_dtype_info *nns_dtype_get_info(nns_dtype t);
/* Size in bytes of one element, 0 for an unknown dtype. */
size_t nns_dtype_size(nns_dtype t);
/* Short name ("f32", "s8", ...), "?" for an unknown dtype. */
const char *nns_dtype_name(nns_dtype t);

#define NNS_MAX_DIMS 8

typedef struct nns_shape {
    int ndim;
    int64_t dims[NNS_MAX_DIMS];
} nns_shape;

/* Number of elements (product of dims; 1 for a scalar; 0 if any dim <= 0;
 * INT64_MAX if the product overflows: sizes from files go through
 * nns_shape_numel_checked instead). */
int64_t nns_shape_numel(const nns_shape *s);
/* Build a shape from n dims. */
nns_shape nns_shape_make(int ndim, const int64_t *dims);
/* Shapes equal in rank and every dim. */
int nns_shape_eq(const nns_shape *a, const nns_shape *b);
/* Write "[2,3,4]" into buf (always NUL-terminated); returns buf. */
char *nns_shape_str(const nns_shape *s, char *buf, size_t len);

/* ---- Limits on what a file may make nnslim allocate (docs/security.md) ----
 * Models and data come from strangers: every size computed from a file is
 * checked against these before anything that size is allocated. Each limit
 * is read once from its environment variable (a number of elements or bytes,
 * with an optional K, M or G suffix: powers of 1024) unless set by the
 * nns_limit_set_* call; set them before building plans in other threads. */

/* Elements in any one tensor: NNS_MAX_TENSOR_ELEMS, default 2^31 - 1 (so
 * that every element index fits a C int and a BLAS int). */
#define NNS_MAX_TENSOR_ELEMS_DEFAULT ((int64_t)INT32_MAX)
int64_t nns_limit_tensor_elems(void);
/* Bytes of memory one plan, data set or decoded file may take:
 * NNS_MAX_MEMORY, default half the machine's physical memory (4 GiB if
 * that cannot be read). */
uint64_t nns_limit_memory(void);
/* Bytes of an ONNX model file: NNS_MAX_MODEL_BYTES, default 2 GiB (the
 * protobuf limit). */
#define NNS_MAX_MODEL_BYTES_DEFAULT ((uint64_t)2 << 30)
uint64_t nns_limit_model_bytes(void);
/* Override a limit for this process; 0 goes back to the environment or the
 * default. */
void nns_limit_set_tensor_elems(int64_t n);
void nns_limit_set_memory(uint64_t bytes);
void nns_limit_set_model_bytes(uint64_t bytes);

/* Checked element count: every dim >= 0, the product computed without
 * overflow and at most nns_limit_tensor_elems(). Else NNS_STATUS_SHAPE (a
 * negative dim) or NNS_STATUS_LIMIT, with a message naming `what` (a tensor
 * or value name) and the shape. */
nns_status nns_shape_numel_checked(const nns_shape *s, const char *what, int64_t *numel);
/* The same, times the dtype's size: the tensor's bytes. */
nns_status nns_shape_bytes_checked(const nns_shape *s, nns_dtype t, const char *what,
                                   size_t *bytes);

#ifdef __cplusplus
}
#endif
#endif
