/*
 * maxpool.c — MaxPool (ONNX opset 13), 2-D: X [N,C,H,W] -> Y [N,C,OH,OW].
 * Attributes kernel_shape (required), strides, dilations, pads, auto_pad,
 * ceil_mode; storage_order must be 0. The optional second output (Indices)
 * is not supported: a clear error at plan time. X may also be u8 or s8 (a
 * quantized activation in the int8 plan): Y is then of its dtype and scale.
 *
 * Training plans save the argmax of every output (int32 plane offsets) in
 * the node state; backward scatters dY through them. Parallel over (n, c)
 * planes.
 */
#include <omp.h>

#include "ops/window2d.h"

typedef struct maxpool_params {
    nns_window2d win;
} maxpool_params;

static nns_status maxpool_prepare(const nns_graph *g, const nns_node *n, void *params) {
    maxpool_params *p = params;
    nns_status st = nns_window2d_parse(n, 1, 1, 1, &p->win);
    if (st) return st;
    if (nns_node_attr_int(n, "storage_order", 0) != 0)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (MaxPool): storage_order=1 is not supported", n->name);
    if (n->n_out > 1)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (MaxPool): the second output (Indices) is not supported", n->name);
    return NNS_OK;
}

static nns_status maxpool_infer(const nns_graph *g, const nns_node *n, const void *params,
                                const nns_shape *const *in, nns_shape *out) {
    const maxpool_params *p = params;
    return nns_window2d_pool_infer(g, n, &p->win, in[0], &out[0]);
}

static size_t maxpool_state_bytes(const void *params, const nns_shape *const *in, const nns_shape *out,
                                  int training) {
    (void)params;
    (void)in;
    return training ? (size_t)nns_shape_numel(&out[0]) * sizeof(int32_t) : 0;
}

static void maxpool_geom(const nns_exec_node *e, nns_conv2d_geom *geo) {
    const maxpool_params *p = e->params;
    const nns_shape *x = &e->in[0]->shape;
    nns_window2d_geom(NULL, &p->win, x->dims[2], x->dims[3], p->win.kh, p->win.kw, geo, NULL, NULL);
}

static void maxpool_forward(nns_exec_node *e) {
    nns_conv2d_geom geo = {0};
    maxpool_geom(e, &geo);
    const nns_shape *x = &e->in[0]->shape;
    const int64_t planes = x->dims[0] * x->dims[1];
    const size_t ihw = (size_t)geo.ih * geo.iw, ohw = (size_t)geo.oh * geo.ow;
    const nns_kernels *ks = e->kern;
    if (e->in[0]->dtype != NNS_DTYPE_F32) { /* a quantized activation (int8 plan) */
        const uint8_t *X = e->in[0]->data;
        uint8_t *Y = e->out[0]->data;
        const int sgn = e->in[0]->dtype == NNS_DTYPE_S8;
        nns_q8_maxpool2d_fn k = nns_f32_maxpool2d_2x2s2_fits(&geo) ? ks->q8_maxpool2d_2x2s2 : ks->q8_maxpool2d;
#pragma omp parallel for schedule(static) if (planes > 1 && planes * ihw > 65536)
        for (int64_t pl = 0; pl < planes; pl++) k(&geo, X + pl * ihw, Y + pl * ohw, sgn);
        return;
    }
    const float *X = nns_tv_cf32(e->in[0]);
    float *Y = nns_tv_f32(e->out[0]);
    int32_t *idx = e->state;
    /* A kernel of several planes where one fits, except for 2x2 windows at
     * stride 2 on planes of more than 256 pixels, which have their own (faster
     * there): the rows kernel where the table has one that is not the
     * reference, else stacked small planes. */
    nns_f32_maxpool2d_stack_fn several = NULL;
    const int own_2x2 = nns_f32_maxpool2d_2x2s2_fits(&geo);
    const int rows = ks->f32_maxpool2d_rows != nns_f32_maxpool2d_stack__ref && nns_f32_maxpool2d_rows_fits(&geo);
    if (!idx && rows && (!own_2x2 || ihw <= 256))
        several = ks->f32_maxpool2d_rows;
    else if (!idx && !own_2x2 && nns_f32_maxpool2d_stack_fits(&geo))
        several = ks->f32_maxpool2d_stack;
    if (several) { /* an equal share of the planes per thread */
#pragma omp parallel if (planes > 1 && planes * ihw > 16384)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            const int64_t p0 = planes * t / nt, p1 = planes * (t + 1) / nt;
            if (p1 > p0) several(&geo, p1 - p0, X + (size_t)p0 * ihw, Y + (size_t)p0 * ohw);
        }
        return;
    }
    nns_f32_maxpool2d_fn k = nns_f32_maxpool2d_2x2s2_fits(&geo) ? ks->f32_maxpool2d_2x2s2 : ks->f32_maxpool2d;
#pragma omp parallel for schedule(static) if (planes > 1 && planes * ihw > 16384)
    for (int64_t pl = 0; pl < planes; pl++)
        k(&geo, X + pl * ihw, Y + pl * ohw, idx ? idx + pl * ohw : NULL);
}

static void maxpool_backward(nns_exec_node *e) {
    const float *dY = e->out[0]->grad;
    float *dX = e->in[0]->grad;
    const int32_t *idx = e->state;
    if (!dY || !dX || !idx || e->in[0]->dtype != NNS_DTYPE_F32) return; /* no gradient through a quantized value */
    nns_conv2d_geom geo = {0};
    maxpool_geom(e, &geo);
    const nns_shape *x = &e->in[0]->shape;
    const int64_t planes = x->dims[0] * x->dims[1];
    const size_t ihw = (size_t)geo.ih * geo.iw, ohw = (size_t)geo.oh * geo.ow;
#pragma omp parallel for schedule(static) if (planes > 1 && planes * ihw > 16384)
    for (int64_t pl = 0; pl < planes; pl++)
        nns_f32_maxpool2d_bwd__ref(&geo, dY + pl * ohw, idx + pl * ohw, dX + pl * ihw);
}

const nns_op_def nns_op_maxpool = {
    .name = "MaxPool",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 2,
    .params_size = sizeof(maxpool_params),
    .prepare = maxpool_prepare,
    .f32_inputs = 1u,
    .q8_inputs = 1u,
    .out_dtype = NNS_OUT_SAME_AS(0),
    .infer = maxpool_infer,
    .state_bytes = maxpool_state_bytes,
    .forward = maxpool_forward,
    .backward = maxpool_backward,
    .chan = NNS_OP_CHAN_PASS,
};
