/* gemmf16.c — GemmF16 (nnslim's own op, internal): y[M, N] = x[M, K] times
 * the transpose of a float16 weight, plus a bias: the form sessions give a
 * Gemm (transB) whose weight is a Cast to float of a constant float16
 * tensor (nns_graph_lower_f16w), so that the weight stays float16 in memory
 * (half the bytes) and is converted as the f16_gemm kernels read it (F16C)
 * instead of being decoded to float once.
 *
 * Inputs: x (float), w [N, K] (float16, constant), bias [N] (float,
 * optional). Output rows split over threads by blocks of outputs. Forward
 * only. */
#include <omp.h>

#include "kernels/kernels.h"
#include "ops/op_util.h"

#define F16_BLOCK 16 /* outputs per task */

typedef struct {
    int n, k;
} f16w_params;

static nns_status f16w_prepare(const nns_graph *g, const nns_node *n, void *params) {
    f16w_params *p = params;
    const nns_value *w = &g->values[n->in[1]];
    if (!w->data || w->dtype != NNS_DTYPE_F16 || w->shape.ndim != 2 || w->shape.dims[0] <= 0 || w->shape.dims[1] <= 0 ||
        w->shape.dims[0] > (1 << 24) || w->shape.dims[1] > (1 << 24))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (GemmF16): weight '%s' must be a constant 2-D float16",
                         n->name, w->name);
    if (n->n_in > 2 && n->in[2] >= 0 && nns_shape_numel(&g->values[n->in[2]].shape) != w->shape.dims[0])
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (GemmF16): bias '%s' must have %lld values", n->name,
                         g->values[n->in[2]].name, (long long)w->shape.dims[0]);
    p->n = (int)w->shape.dims[0];
    p->k = (int)w->shape.dims[1];
    return NNS_OK;
}

static nns_status f16w_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                             nns_shape *out) {
    const f16w_params *p = params;
    if (in[0]->ndim != 2 || in[0]->dims[1] != p->k)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (GemmF16): input '%s' must be [M, %d]", n->name,
                         g->values[n->in[0]].name, p->k);
    const int64_t dims[2] = {in[0]->dims[0], p->n};
    out[0] = nns_shape_make(2, dims);
    return NNS_OK;
}

static void f16w_forward(nns_exec_node *e) {
    const f16w_params *p = e->params;
    const float *x = nns_tv_cf32(e->in[0]);
    const float *b = e->n_in > 2 && e->in[2] ? nns_tv_cf32(e->in[2]) : NULL;
    const uint16_t *w = e->in[1]->data;
    float *y = nns_tv_f32(e->out[0]);
    const int m = (int)e->in[0]->shape.dims[0];
    const int blocks = (p->n + F16_BLOCK - 1) / F16_BLOCK;
    const double work = 2.0 * m * (double)p->n * p->k;
#pragma omp parallel for schedule(static) if (work > (double)(1 << 20) && blocks > 1)
    for (int c = 0; c < blocks; c++) {
        const int j0 = c * F16_BLOCK, nj = p->n - j0 < F16_BLOCK ? p->n - j0 : F16_BLOCK;
        e->kern->f16_gemm(m, nj, p->k, x, (size_t)p->k, w + (size_t)j0 * p->k, (size_t)p->k, b ? b + j0 : NULL, y + j0,
                          (size_t)p->n);
    }
}

static int64_t f16w_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    (void)n;
    return nns_macs_mul(nns_shape_numel(out), in[0]->ndim == 2 ? in[0]->dims[1] : 0);
}

const nns_op_def nns_op_gemmf16 = {
    .name = "GemmF16",
    .internal = 1,
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(f16w_params),
    .prepare = f16w_prepare,
    .infer = f16w_infer,
    .forward = f16w_forward,
    .f32_inputs = 1u << 0 | 1u << 2,
    .nontrainable_inputs = ~0u,
    .macs = f16w_macs,
};
