/* convinteger.c — ConvInteger (ONNX opset 10): a 2-D convolution of u8/s8
 * data x [N, C, H, W] with u8/s8 weights w [M, C/group, kH, kW], each less
 * its zero point (x_zero_point: one value; w_zero_point: one value or one
 * per output channel), summed in int32: y [N, M, OH, OW] s32. Padding
 * contributes nothing (it is the zero point). Attributes as Conv's:
 * auto_pad, dilations, group, kernel_shape, pads, strides. The sums wrap
 * modulo 2^32 as int32 arithmetic does in other runtimes, without undefined
 * behaviour. Dynamic-quantization graphs put it between
 * DynamicQuantizeLinear and a Cast to float; this is the reference path
 * (im2col of 16-bit differences, products summed in int32), forward only. */
#include "core/checked.h"
#include "ops/integer_util.h"
#include "ops/window2d.h"

enum { CI_X, CI_W, CI_XZ, CI_WZ };

typedef struct {
    nns_window2d win;
    int64_t group;
} ci_params;

static nns_status ci_prepare(const nns_graph *g, const nns_node *n, void *params) {
    ci_params *p = params;
    p->group = nns_node_attr_int(n, "group", 1);
    if (p->group < 1 || p->group > (1 << 24))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (ConvInteger): group %lld is not a positive count", n->name,
                         (long long)p->group);
    nns_status st = nns_window2d_parse(n, 0, 1, 0, &p->win);
    if (!st) st = nns_integer_check_dtypes(g, n, CI_X, CI_XZ);
    if (!st) st = nns_integer_check_dtypes(g, n, CI_W, CI_WZ);
    return st;
}

/* The geometry for input x and weight w; errors name the node (n may be
 * NULL once validated). */
static nns_status ci_geom(const nns_node *n, const ci_params *p, const nns_shape *x, const nns_shape *w,
                          nns_conv2d_geom *geo) {
    return nns_window2d_geom(n, &p->win, x->dims[2], x->dims[3], (int)w->dims[2], (int)w->dims[3], geo, NULL, NULL);
}

static nns_status ci_check_shapes(const nns_graph *g, const nns_node *n, const ci_params *p, const nns_shape *x,
                                  const nns_shape *w) {
    char xs[96], ws[96];
    if (x->ndim != 4 || w->ndim != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (ConvInteger): input %s and weight %s; only 2-D convolution "
                                                 "(rank 4) is supported", n->name, nns_shape_str(x, xs, sizeof xs),
                         nns_shape_str(w, ws, sizeof ws));
    const int64_t c = x->dims[1], m = w->dims[0];
    if (c <= 0 || x->dims[2] <= 0 || x->dims[3] <= 0 || m <= 0 || c % p->group || m % p->group ||
        w->dims[1] * p->group != c || w->dims[2] < 1 || w->dims[3] < 1 || w->dims[2] > (1 << 20) ||
        w->dims[3] > (1 << 20))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (ConvInteger): weight '%s' %s does not fit input '%s' %s with "
                                           "group %lld", n->name, nns_node_in_name(g, n, CI_W),
                         nns_shape_str(w, ws, sizeof ws), nns_node_in_name(g, n, CI_X), nns_shape_str(x, xs, sizeof xs),
                         (long long)p->group);
    if (p->win.kh && (p->win.kh != w->dims[2] || p->win.kw != w->dims[3]))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (ConvInteger): kernel_shape %dx%d but weight '%s' is %s", n->name,
                         p->win.kh, p->win.kw, nns_node_in_name(g, n, CI_W), nns_shape_str(w, ws, sizeof ws));
    return NNS_OK;
}

static nns_status ci_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    const ci_params *p = params;
    nns_status st = ci_check_shapes(g, n, p, in[CI_X], in[CI_W]);
    if (!st) st = nns_integer_check_zp(g, n, n->n_in > CI_XZ ? in[CI_XZ] : NULL, CI_XZ, 1);
    if (!st) st = nns_integer_check_zp(g, n, n->n_in > CI_WZ ? in[CI_WZ] : NULL, CI_WZ, in[CI_W]->dims[0]);
    nns_conv2d_geom geo;
    if (!st) st = ci_geom(n, p, in[CI_X], in[CI_W], &geo);
    if (st) return st;
    const int64_t dims[4] = {in[CI_X]->dims[0] > 0 ? in[CI_X]->dims[0] : -1, in[CI_W]->dims[0], geo.oh, geo.ow};
    out[0] = nns_shape_make(4, dims);
    return NNS_OK;
}

/* The im2col matrix of one group: K = C/group * kH * kW rows of P = OH * OW
 * 16-bit values. */
static size_t ci_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)training, (void)params;
    const nns_shape *w = in[CI_W];
    int64_t k, kp, bytes;
    if (nns_ck_mul_i64(w->dims[1], w->dims[2] * w->dims[3], &k) || nns_ck_mul_i64(k, out->dims[2] * out->dims[3], &kp) ||
        nns_ck_mul_i64(kp, 2, &bytes) || (uint64_t)bytes > SIZE_MAX)
        return SIZE_MAX;
    return (size_t)bytes;
}

/* col[k][p] = x - x_zero_point for image `img`, group `gi`, 0 in padding. */
static void ci_im2col(const nns_exec_node *e, const nns_conv2d_geom *geo, int64_t img, int64_t gi, int64_t cg,
                      int16_t *col) {
    const nns_tv *x = e->in[CI_X];
    const int32_t xz = nns_zp_at(e, CI_XZ, 0);
    const int64_t ih = geo->ih, iw = geo->iw, plane = (int64_t)geo->oh * geo->ow, kk = (int64_t)geo->kh * geo->kw;
    const int64_t x0 = (img * x->shape.dims[1] + gi * cg) * ih * iw;
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < cg * kk; r++) {
        const int64_t c = r / kk, ky = r % kk / geo->kw, kx = r % geo->kw;
        int16_t *dst = col + r * plane;
        for (int64_t oy = 0; oy < geo->oh; oy++) {
            const int64_t iy = oy * geo->sh - geo->pt + ky * geo->dh;
            for (int64_t ox = 0; ox < geo->ow; ox++) {
                const int64_t ix = ox * geo->sw - geo->pl + kx * geo->dw;
                const int in = iy >= 0 && iy < ih && ix >= 0 && ix < iw;
                dst[oy * geo->ow + ox] = (int16_t)(in ? nns_q8_at(x, x0 + (c * ih + iy) * iw + ix) - xz : 0);
            }
        }
    }
}

/* y[img, gi * mg + m, :] = sum over k of (w - w_zero_point) * col, mod 2^32. */
static void ci_products(const nns_exec_node *e, const int16_t *col, int64_t k, int64_t plane, int64_t img, int64_t gi,
                        int64_t mg) {
    const nns_tv *w = e->in[CI_W];
    uint32_t *y = e->out[0]->data; /* int32 storage, summed unsigned: wraps, defined */
    const int64_t m_total = w->shape.dims[0];
#pragma omp parallel for schedule(static)
    for (int64_t m = gi * mg; m < (gi + 1) * mg; m++) {
        uint32_t *acc = y + (img * m_total + m) * plane;
        for (int64_t p = 0; p < plane; p++) acc[p] = 0;
        const int32_t wz = nns_zp_at(e, CI_WZ, m);
        for (int64_t r = 0; r < k; r++) {
            const int32_t wv = nns_q8_at(w, m * k + r) - wz;
            if (!wv) continue;
            const int16_t *src = col + r * plane;
            for (int64_t p = 0; p < plane; p++) acc[p] += (uint32_t)(wv * (int32_t)src[p]);
        }
    }
}

static void ci_forward(nns_exec_node *e) {
    const ci_params *p = e->params;
    const nns_shape *x = &e->in[CI_X]->shape, *w = &e->in[CI_W]->shape;
    nns_conv2d_geom geo;
    if (ci_geom(NULL, p, x, w, &geo)) return; /* validated when the plan was built */
    const int64_t cg = x->dims[1] / p->group, mg = w->dims[0] / p->group;
    const int64_t k = cg * w->dims[2] * w->dims[3], plane = (int64_t)geo.oh * geo.ow;
    int16_t *col = e->work;
    for (int64_t img = 0; img < x->dims[0]; img++)
        for (int64_t gi = 0; gi < p->group; gi++) {
            ci_im2col(e, &geo, img, gi, cg, col);
            ci_products(e, col, k, plane, img, gi, mg);
        }
}

static int64_t ci_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    (void)n;
    const nns_shape *w = in[CI_W];
    return nns_macs_mul(nns_macs_mul(out->dims[1], nns_macs_mul(w->dims[1], nns_macs_mul(w->dims[2], w->dims[3]))),
                        nns_macs_mul(out->dims[2], out->dims[3]));
}

static const nns_dtype ci_out_dtypes[1] = {NNS_DTYPE_S32};

const nns_op_def nns_op_convinteger = {
    .name = "ConvInteger",
    .min_in = 2, .max_in = 4, .min_out = 1, .max_out = 1,
    .params_size = sizeof(ci_params),
    .out_fixed = ci_out_dtypes,
    .prepare = ci_prepare,
    .infer = ci_infer,
    .work_bytes = ci_work_bytes,
    .forward = ci_forward,
    .nontrainable_inputs = ~0u,
    .macs = ci_macs,
};
