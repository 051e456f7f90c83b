/*
 * op_id.h — the op ids of the graph IR: nns_node.op is one of these, set from
 * the node's ONNX name when it is added. What an op does (shapes, forward,
 * backward, facts) is the op table's, one layer up (src/ops/op.h, indexed by
 * this enum); core knows only the ids and their ONNX names.
 */
#ifndef NNS_CORE_OP_ID_H
#define NNS_CORE_OP_ID_H

typedef enum nns_op {
    NNS_OP_CONV = 0,
    NNS_OP_GEMM,
    NNS_OP_MATMUL,
    NNS_OP_BATCHNORM,
    NNS_OP_RELU,
    NNS_OP_CLIP,
    NNS_OP_LEAKYRELU,
    NNS_OP_SIGMOID,
    NNS_OP_HARDSIGMOID,
    NNS_OP_HARDSWISH,
    NNS_OP_ADD,
    NNS_OP_SUB,
    NNS_OP_MUL,
    NNS_OP_DIV,
    NNS_OP_MAXPOOL,
    NNS_OP_AVERAGEPOOL,
    NNS_OP_GLOBALAVERAGEPOOL,
    NNS_OP_CONCAT,
    NNS_OP_FLATTEN,
    NNS_OP_RESHAPE,
    NNS_OP_TRANSPOSE,
    NNS_OP_DROPOUT,
    NNS_OP_SOFTMAX,
    NNS_OP_LOGSOFTMAX,
    NNS_OP_IDENTITY,
    NNS_OP_FAKEQUANT, /* internal: quantization-aware training */
    NNS_OP_QUANTIZELINEAR,
    NNS_OP_DEQUANTIZELINEAR,
    NNS_OP_INT8CONV, /* internal: the int8 plan (src/ops/int8_impl.h) */
    NNS_OP_INT8GEMM, /* internal: the int8 plan */
    NNS_OP_INT8ADD,  /* internal: the int8 plan */
    NNS_OP_INT8LUT,  /* internal: the int8 plan */
    NNS_OP_CAST,
    NNS_OP_DYNAMICQUANTIZELINEAR,
    NNS_OP_CONVINTEGER,
    NNS_OP_MATMULINTEGER,
    NNS_OP_ROUND16, /* internal: 16-bit activations rounded in float */
    NNS_OP_GEMMW4,  /* internal: Gemm on 4-bit weights kept packed */
    NNS_OP_GEMMF16, /* internal: Gemm on float16 weights kept so */
    NNS_OP_ABS,
    NNS_OP_NEG,
    NNS_OP_SQRT,
    NNS_OP_EXP,
    NNS_OP_LOG,
    NNS_OP_TANH,
    NNS_OP_ERF,
    NNS_OP_RECIPROCAL,
    NNS_OP_FLOOR,
    NNS_OP_CEIL,
    NNS_OP_SOFTPLUS,
    NNS_OP_ELU,
    NNS_OP_SELU,
    NNS_OP_POW,
    NNS_OP_MIN,
    NNS_OP_MAX,
    NNS_OP_ROUND,
    NNS_OP_SIGN,
    NNS_OP_SIN,
    NNS_OP_COS,
    NNS_OP_TAN,
    NNS_OP_ASIN,
    NNS_OP_ACOS,
    NNS_OP_ATAN,
    NNS_OP_SINH,
    NNS_OP_COSH,
    NNS_OP_ASINH,
    NNS_OP_ACOSH,
    NNS_OP_ATANH,
    NNS_OP_SOFTSIGN,
    NNS_OP_MISH,
    NNS_OP_CELU,
    NNS_OP_THRESHOLDEDRELU,
    NNS_OP_PRELU,
    NNS_OP_SQUEEZE,
    NNS_OP_UNSQUEEZE,
    NNS_OP_REDUCESUM,
    NNS_OP_REDUCEMEAN,
    NNS_OP_REDUCEMAX,
    NNS_OP_REDUCEMIN,
    NNS_OP_REDUCEPROD,
    NNS_OP_REDUCEL1,
    NNS_OP_REDUCEL2,
    NNS_OP_REDUCESUMSQUARE,
    NNS_OP_REDUCELOGSUM,
    NNS_OP_REDUCELOGSUMEXP,
    NNS_OP_SLICE,
    NNS_OP_SPLIT,
    NNS_OP_PAD,
    NNS_OP_ARGMAX,
    NNS_OP_ARGMIN,
    NNS_OP_LAYERNORM,
    NNS_OP_TRILU,
    NNS_OP_EQUAL,
    NNS_OP_LESS,
    NNS_OP_GREATER,
    NNS_OP_LESSOREQUAL,
    NNS_OP_GREATEROREQUAL,
    NNS_OP_AND,
    NNS_OP_OR,
    NNS_OP_XOR,
    NNS_OP_NOT,
    NNS_OP_WHERE,
    NNS_OP_SUM,
    NNS_OP_MEAN,
    NNS_OP_NLLLOSS,
    NNS_OP_SCELOSS,
    NNS_OP_RESIZE,
    NNS_OP_UPSAMPLE,
    NNS_OP_CONVTRANSPOSE,
    NNS_OP_INSTNORM,
    NNS_OP_LRN,
    NNS_OP_DEPTHTOSPACE,
    NNS_OP_SPACETODEPTH,
    NNS_OP_COUNT /* enums only grow at the end, before this */
} nns_op;

/* Op id for an ONNX op name, or -1. */
int nns_op_lookup(const char *name);
/* ONNX name of an op id (NULL outside 0..NNS_OP_COUNT-1). */
const char *nns_op_name(int op);

#endif
