/* round16.c — Round16: y = x rounded to float16 or bfloat16 (attribute
 * `to`: ONNX's 10 or 16) and back to float, to nearest even (nnslim's own
 * op, internal). Sessions put it in place of a Cast to that type followed
 * by a Cast back to float (nns_graph_fuse_round16): one pass over the
 * activation instead of two, in the kernel table's f32_round16. */
#include <omp.h>

#include "kernels/kernels.h"
#include "ops/op_util.h"

typedef struct {
    int bf16;
} round16_params;

static nns_status round16_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    const int64_t to = nns_node_attr_int(n, "to", 0);
    if (to != 10 && to != 16)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Round16): to=%lld, not 10 (float16) or 16 (bfloat16)", n->name,
                         (long long)to);
    ((round16_params *)params)->bf16 = to == 16;
    return NNS_OK;
}

static nns_status round16_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                                nns_shape *out) {
    (void)g, (void)n, (void)params;
    out[0] = *in[0];
    return NNS_OK;
}

static void round16_forward(nns_exec_node *e) {
    const round16_params *p = e->params;
    const float *x = nns_tv_cf32(e->in[0]);
    float *y = nns_tv_f32(e->out[0]);
    const int64_t n = nns_tv_numel(e->out[0]), chunk = 16384;
    const nns_f32_round16_fn k = e->kern->f32_round16;
#pragma omp parallel for schedule(static) if (n > 4 * chunk)
    for (int64_t i = 0; i < n; i += chunk) k(n - i < chunk ? n - i : chunk, x + i, y + i, p->bf16);
}

const nns_op_def nns_op_round16 = {
    .name = "Round16",
    .internal = 1,
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(round16_params),
    .prepare = round16_prepare,
    .infer = round16_infer,
    .forward = round16_forward,
    .f32_inputs = NNS_IN_ALL,
    .nontrainable_inputs = ~0u,
};
