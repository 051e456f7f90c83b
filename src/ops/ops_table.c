/* ops_table.c — the op table, indexed by nns_op. */
#include <string.h>
#include <strings.h>
#include "ops/op.h"


const nns_op_def *const nns_op_table[] = {
    [NNS_OP_CONV] = &nns_op_conv,
    [NNS_OP_GEMM] = &nns_op_gemm,
    [NNS_OP_MATMUL] = &nns_op_matmul,
    [NNS_OP_BATCHNORM] = &nns_op_batchnorm,
    [NNS_OP_RELU] = &nns_op_relu,
    [NNS_OP_CLIP] = &nns_op_clip,
    [NNS_OP_LEAKYRELU] = &nns_op_leakyrelu,
    [NNS_OP_SIGMOID] = &nns_op_sigmoid,
    [NNS_OP_HARDSIGMOID] = &nns_op_hardsigmoid,
    [NNS_OP_HARDSWISH] = &nns_op_hardswish,
    [NNS_OP_ADD] = &nns_op_add,
    [NNS_OP_SUB] = &nns_op_sub,
    [NNS_OP_MUL] = &nns_op_mul,
    [NNS_OP_DIV] = &nns_op_div,
    [NNS_OP_MAXPOOL] = &nns_op_maxpool,
    [NNS_OP_AVERAGEPOOL] = &nns_op_averagepool,
    [NNS_OP_GLOBALAVERAGEPOOL] = &nns_op_globalaveragepool,
    [NNS_OP_CONCAT] = &nns_op_concat,
    [NNS_OP_FLATTEN] = &nns_op_flatten,
    [NNS_OP_RESHAPE] = &nns_op_reshape,
    [NNS_OP_TRANSPOSE] = &nns_op_transpose,
    [NNS_OP_DROPOUT] = &nns_op_dropout,
    [NNS_OP_SOFTMAX] = &nns_op_softmax,
    [NNS_OP_LOGSOFTMAX] = &nns_op_logsoftmax,
    [NNS_OP_IDENTITY] = &nns_op_identity,
};
_Static_assert(sizeof nns_op_table / sizeof nns_op_table[0] == NNS_OP_COUNT,
               "op table must have one entry per nns_op");

int nns_op_lookup(const char *name) {
    for (int i = 0; i < NNS_OP_COUNT; i++)
        if (nns_op_table[i] && strcmp(nns_op_table[i]->name, name) == 0)
            return i;
    return -1;
}
