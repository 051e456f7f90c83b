/* identity.c — Identity: y = x (a copy: the plan gives every value its own
 * buffer). Backward: dx += dy. */
#include "ops/op_util.h"

const nns_op_def nns_op_identity = {
    .name = "Identity",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .f32_inputs = 1u,
    .out_dtype = NNS_OUT_SAME_AS(0),
    .infer = nns_op_infer_same,
    .forward = nns_op_copy_forward,
    .backward = nns_op_copy_backward,
    .chan = NNS_OP_CHAN_PASS,
};
