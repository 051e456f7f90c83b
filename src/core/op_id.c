/* op_id.c — the ONNX names of the op ids (core/op_id.h). The op table
 * (src/ops/ops_table.c) has one def per id whose name is this one; the op
 * tests check that every op's name looks up to its id. */
#include <string.h>

#include "core/op_id.h"

static const char *const op_names[] = {
    [NNS_OP_CONV] = "Conv",
    [NNS_OP_GEMM] = "Gemm",
    [NNS_OP_MATMUL] = "MatMul",
    [NNS_OP_BATCHNORM] = "BatchNormalization",
    [NNS_OP_RELU] = "Relu",
    [NNS_OP_CLIP] = "Clip",
    [NNS_OP_LEAKYRELU] = "LeakyRelu",
    [NNS_OP_SIGMOID] = "Sigmoid",
    [NNS_OP_HARDSIGMOID] = "HardSigmoid",
    [NNS_OP_HARDSWISH] = "HardSwish",
    [NNS_OP_FAKEQUANT] = "FakeQuant",
    [NNS_OP_QUANTIZELINEAR] = "QuantizeLinear",
    [NNS_OP_DEQUANTIZELINEAR] = "DequantizeLinear",
    [NNS_OP_INT8CONV] = "Int8Conv",
    [NNS_OP_INT8GEMM] = "Int8Gemm",
    [NNS_OP_INT8ADD] = "Int8Add",
    [NNS_OP_INT8LUT] = "Int8Lut",
    [NNS_OP_CAST] = "Cast",
    [NNS_OP_DYNAMICQUANTIZELINEAR] = "DynamicQuantizeLinear",
    [NNS_OP_CONVINTEGER] = "ConvInteger",
    [NNS_OP_MATMULINTEGER] = "MatMulInteger",
    [NNS_OP_ROUND16] = "Round16",
    [NNS_OP_GEMMW4] = "GemmW4",
    [NNS_OP_GEMMF16] = "GemmF16",
    [NNS_OP_ABS] = "Abs",
    [NNS_OP_NEG] = "Neg",
    [NNS_OP_SQRT] = "Sqrt",
    [NNS_OP_EXP] = "Exp",
    [NNS_OP_LOG] = "Log",
    [NNS_OP_TANH] = "Tanh",
    [NNS_OP_ERF] = "Erf",
    [NNS_OP_RECIPROCAL] = "Reciprocal",
    [NNS_OP_FLOOR] = "Floor",
    [NNS_OP_CEIL] = "Ceil",
    [NNS_OP_SOFTPLUS] = "Softplus",
    [NNS_OP_ELU] = "Elu",
    [NNS_OP_SELU] = "Selu",
    [NNS_OP_POW] = "Pow",
    [NNS_OP_MIN] = "Min",
    [NNS_OP_MAX] = "Max",
    [NNS_OP_ROUND] = "Round",
    [NNS_OP_SIGN] = "Sign",
    [NNS_OP_SIN] = "Sin",
    [NNS_OP_COS] = "Cos",
    [NNS_OP_TAN] = "Tan",
    [NNS_OP_ASIN] = "Asin",
    [NNS_OP_ACOS] = "Acos",
    [NNS_OP_ATAN] = "Atan",
    [NNS_OP_SINH] = "Sinh",
    [NNS_OP_COSH] = "Cosh",
    [NNS_OP_ASINH] = "Asinh",
    [NNS_OP_ACOSH] = "Acosh",
    [NNS_OP_ATANH] = "Atanh",
    [NNS_OP_SOFTSIGN] = "Softsign",
    [NNS_OP_MISH] = "Mish",
    [NNS_OP_CELU] = "Celu",
    [NNS_OP_THRESHOLDEDRELU] = "ThresholdedRelu",
    [NNS_OP_PRELU] = "PRelu",
    [NNS_OP_SQUEEZE] = "Squeeze",
    [NNS_OP_UNSQUEEZE] = "Unsqueeze",
    [NNS_OP_ADD] = "Add",
    [NNS_OP_SUB] = "Sub",
    [NNS_OP_MUL] = "Mul",
    [NNS_OP_DIV] = "Div",
    [NNS_OP_MAXPOOL] = "MaxPool",
    [NNS_OP_AVERAGEPOOL] = "AveragePool",
    [NNS_OP_GLOBALAVERAGEPOOL] = "GlobalAveragePool",
    [NNS_OP_CONCAT] = "Concat",
    [NNS_OP_FLATTEN] = "Flatten",
    [NNS_OP_RESHAPE] = "Reshape",
    [NNS_OP_TRANSPOSE] = "Transpose",
    [NNS_OP_DROPOUT] = "Dropout",
    [NNS_OP_SOFTMAX] = "Softmax",
    [NNS_OP_LOGSOFTMAX] = "LogSoftmax",
    [NNS_OP_IDENTITY] = "Identity",
};
_Static_assert(sizeof op_names / sizeof op_names[0] == NNS_OP_COUNT, "one name per nns_op");

int nns_op_lookup(const char *name) {
    for (int i = 0; i < NNS_OP_COUNT; i++)
        if (op_names[i] && strcmp(op_names[i], name) == 0) return i;
    return -1;
}

const char *nns_op_name(int op) { return op >= 0 && op < NNS_OP_COUNT ? op_names[op] : NULL; }
