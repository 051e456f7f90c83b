/*
 * averagepool.c — AveragePool (ONNX opset 13), 2-D: X [N,C,H,W] ->
 * Y [N,C,OH,OW]. Attributes kernel_shape (required), strides, pads,
 * auto_pad, ceil_mode, count_include_pad (and dilations, from later
 * opsets). With count_include_pad the divisor counts the window's taps
 * inside the padded extent (input plus explicit padding; with ceil_mode a
 * window may reach past it), as PyTorch and ONNX Runtime do; otherwise the
 * taps inside the input. Parallel over (n, c) planes.
 */
#include "ops/window2d.h"

typedef struct avgpool_params {
    nns_window2d win;
    int count_include_pad;
} avgpool_params;

static nns_status avgpool_prepare(const nns_graph *g, const nns_node *n, void *params) {
    avgpool_params *p = params;
    nns_status st = nns_window2d_parse(n, 1, 1, 1, &p->win);
    if (st) return st;
    int64_t c = nns_node_attr_int(n, "count_include_pad", 0);
    if (c != 0 && c != 1)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (AveragePool): count_include_pad must be 0 or 1", n->name);
    p->count_include_pad = (int)c;
    return NNS_OK;
}

static nns_status avgpool_infer(const nns_graph *g, const nns_node *n, const void *params,
                                const nns_shape *const *in, nns_shape *out) {
    const avgpool_params *p = params;
    return nns_window2d_pool_infer(g, n, &p->win, in[0], &out[0]);
}

static void avgpool_geom(const nns_exec_node *e, nns_conv2d_geom *geo, int *pb, int *pr) {
    const avgpool_params *p = e->params;
    const nns_shape *x = &e->in[0]->shape;
    nns_window2d_geom(NULL, &p->win, x->dims[2], x->dims[3], p->win.kh, p->win.kw, geo, pb, pr);
}

static void avgpool_forward(nns_exec_node *e) {
    const avgpool_params *p = e->params;
    nns_conv2d_geom geo = {0};
    int pb, pr;
    avgpool_geom(e, &geo, &pb, &pr);
    const nns_shape *x = &e->in[0]->shape;
    const int64_t planes = x->dims[0] * x->dims[1];
    const size_t ihw = (size_t)geo.ih * geo.iw, ohw = (size_t)geo.oh * geo.ow;
    const float *X = nns_tv_cf32(e->in[0]);
    float *Y = nns_tv_f32(e->out[0]);
#pragma omp parallel for schedule(static) if (planes > 1 && planes * ihw > 16384)
    for (int64_t pl = 0; pl < planes; pl++)
        nns_f32_avgpool2d__ref(&geo, pb, pr, p->count_include_pad, X + pl * ihw, Y + pl * ohw);
}

static void avgpool_backward(nns_exec_node *e) {
    const avgpool_params *p = e->params;
    const float *dY = e->out[0]->grad;
    float *dX = e->in[0]->grad;
    if (!dY || !dX) return;
    nns_conv2d_geom geo = {0};
    int pb, pr;
    avgpool_geom(e, &geo, &pb, &pr);
    const nns_shape *x = &e->in[0]->shape;
    const int64_t planes = x->dims[0] * x->dims[1];
    const size_t ihw = (size_t)geo.ih * geo.iw, ohw = (size_t)geo.oh * geo.ow;
#pragma omp parallel for schedule(static) if (planes > 1 && planes * ihw > 16384)
    for (int64_t pl = 0; pl < planes; pl++)
        nns_f32_avgpool2d_bwd__ref(&geo, pb, pr, p->count_include_pad, dY + pl * ohw, dX + pl * ihw);
}

const nns_op_def nns_op_averagepool = {
    .name = "AveragePool",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(avgpool_params),
    .prepare = avgpool_prepare,
    .f32_inputs = 1u,
    .infer = avgpool_infer,
    .forward = avgpool_forward,
    .backward = avgpool_backward,
    .chan = NNS_OP_CHAN_PASS,
};
