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
    NNS_DTYPE_F16 = 10
} nns_dtype;

/* Size in bytes of one element, 0 for an unknown dtype. */
size_t nns_dtype_size(nns_dtype t);
/* Short name ("f32", "s8", ...), "?" for an unknown dtype. */
const char *nns_dtype_name(nns_dtype t);

#define NNS_MAX_DIMS 8

typedef struct nns_shape {
    int ndim;
    int64_t dims[NNS_MAX_DIMS];
} nns_shape;

/* Number of elements (product of dims; 1 for a scalar; 0 if any dim <= 0). */
int64_t nns_shape_numel(const nns_shape *s);
/* Build a shape from n dims. */
nns_shape nns_shape_make(int ndim, const int64_t *dims);
/* Shapes equal in rank and every dim. */
int nns_shape_eq(const nns_shape *a, const nns_shape *b);
/* Write "[2,3,4]" into buf (always NUL-terminated); returns buf. */
char *nns_shape_str(const nns_shape *s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
