/* convtranspose.c — ConvTranspose, 2-D, inference: X [N, C, H, W], W [C,
 * M/group, kh, kw], optional bias [M]. Per image and group, one GEMM makes
 * the columns W_g^T X_g ([M/g * kh * kw] x [H * W]), and col2im adds them into
 * the output plane: the adjoint of a convolution from the output plane to the
 * input plane with the same strides, dilations and pads. The output size is
 * stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pads, or
 * output_shape, whose total padding is split by auto_pad's rule (SAME_UPPER:
 * the larger half at the end; otherwise at the start, as ONNX specifies). */
#include <cblas.h>

#include "core/checked.h"
#include "kernels/kernels.h"
#include "ops/op_util.h"

typedef struct {
    int group, kh, kw, sh, sw, dh, dw, auto_pad; /* auto_pad: 0 NOTSET/VALID, 1 SAME_UPPER, 2 SAME_LOWER */
    int64_t pads[4], out_pad[2], out_shape[2];   /* out_shape[0] < 0: not given */
} ct_params;

/* An ints attribute of exactly `cnt` values into v, or the default d. */
static nns_status ct_ints(const nns_node *n, const char *name, int cnt, int64_t d, int64_t lo, int64_t *v) {
    const int64_t *a = NULL;
    const int k = nns_node_attr_ints(n, name, &a);
    for (int i = 0; i < cnt; i++) v[i] = d;
    if (!a) return NNS_OK;
    if (k != cnt) return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (ConvTranspose): attribute '%s' has %d values; "
                                   "only 2-D is supported (%d values)", n->name, name, k, cnt);
    for (int i = 0; i < cnt; i++) {
        if (a[i] < lo || a[i] > 4096)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (ConvTranspose): attribute '%s' value %lld is out of range",
                             n->name, name, (long long)a[i]);
        v[i] = a[i];
    }
    return NNS_OK;
}

static nns_status ct_prepare(const nns_graph *g, const nns_node *n, void *params) {
    ct_params *p = params;
    const nns_shape *w = &g->values[n->in[1]].shape;
    if (w->ndim != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (ConvTranspose): weight of rank %d (only 2-D, rank 4)",
                         n->name, w->ndim);
    int64_t v[4];
    nns_status s;
    if ((s = ct_ints(n, "kernel_shape", 2, -1, 1, v))) return s;
    p->kh = (int)(v[0] < 0 ? w->dims[2] : v[0]), p->kw = (int)(v[1] < 0 ? w->dims[3] : v[1]);
    if ((s = ct_ints(n, "strides", 2, 1, 1, v))) return s;
    p->sh = (int)v[0], p->sw = (int)v[1];
    if ((s = ct_ints(n, "dilations", 2, 1, 1, v))) return s;
    p->dh = (int)v[0], p->dw = (int)v[1];
    if ((s = ct_ints(n, "pads", 4, 0, 0, p->pads)) || (s = ct_ints(n, "output_padding", 2, 0, 0, p->out_pad)) ||
        (s = ct_ints(n, "output_shape", 2, -1, 1, p->out_shape)))
        return s;
    p->group = (int)nns_node_attr_int(n, "group", 1);
    const char *ap = nns_node_attr_string(n, "auto_pad", "NOTSET");
    p->auto_pad = !strcmp(ap, "SAME_UPPER") ? 1 : !strcmp(ap, "SAME_LOWER") ? 2 : 0;
    if (p->auto_pad == 0 && strcmp(ap, "NOTSET") && strcmp(ap, "VALID"))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (ConvTranspose): auto_pad '%s'", n->name, ap);
    if (p->group < 1 || p->kh != w->dims[2] || p->kw != w->dims[3] || p->out_pad[0] >= p->sh ||
        p->out_pad[1] >= p->sw)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (ConvTranspose): group %d, kernel %dx%d against weight "
                         "[%lld,%lld,%lld,%lld], or output_padding not below the stride", n->name, p->group, p->kh,
                         p->kw, (long long)w->dims[0], (long long)w->dims[1], (long long)w->dims[2],
                         (long long)w->dims[3]);
    return NNS_OK;
}

/* Output size and the pads at the start of each axis (pt, pl). */
static nns_status ct_geom(const nns_node *n, const ct_params *p, const nns_shape *x, int64_t *oh, int64_t *ow,
                          int64_t *pt, int64_t *pl) {
    const int64_t in[2] = {x->dims[2], x->dims[3]}, st[2] = {p->sh, p->sw};
    const int64_t eff[2] = {(int64_t)(p->kh - 1) * p->dh + 1, (int64_t)(p->kw - 1) * p->dw + 1};
    int64_t out[2], start[2];
    for (int a = 0; a < 2; a++) {
        const int64_t full = st[a] * (in[a] - 1) + p->out_pad[a] + eff[a];
        if (p->out_shape[0] > 0 || p->auto_pad) {
            out[a] = p->out_shape[0] > 0 ? p->out_shape[a] : in[a] * st[a];
            const int64_t total = full - out[a]; /* negative: extra rows at the end */
            const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2); /* floor(total / 2) */
            start[a] = p->auto_pad == 1 ? half : total - half;
        } else {
            out[a] = full - p->pads[a] - p->pads[a + 2];
            start[a] = p->pads[a];
        }
        if (start[a] < 0)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (ConvTranspose): output_shape %lld along axis %d "
                             "needs a negative start padding", n->name, (long long)out[a], a + 2);
        if (out[a] < 1 || out[a] > NNS_MAX_DIM)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (ConvTranspose): an input of %lld along axis %d gives an "
                             "output of %lld", n->name, (long long)in[a], a + 2, (long long)out[a]);
    }
    *oh = out[0], *ow = out[1], *pt = start[0], *pl = start[1];
    return NNS_OK;
}

static nns_status ct_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    (void)g;
    const ct_params *p = params;
    const nns_shape *x = in[0], *w = in[1];
    if (x->ndim != 4 || x->dims[1] != w->dims[0] || w->dims[0] % p->group ||
        (n->n_in > 2 && in[2] && (in[2]->ndim != 1 || in[2]->dims[0] != w->dims[1] * p->group)))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (ConvTranspose): input of rank %d with %lld channels, weight "
                         "[%lld,%lld,...], group %d and bias do not agree", n->name, x->ndim,
                         (long long)(x->ndim > 1 ? x->dims[1] : 0), (long long)w->dims[0], (long long)w->dims[1],
                         p->group);
    int64_t oh, ow, pt, pl;
    nns_status s = ct_geom(n, p, x, &oh, &ow, &pt, &pl);
    if (s) return s;
    const int64_t d[4] = {x->dims[0], w->dims[1] * p->group, oh, ow};
    out[0] = nns_shape_make(4, d);
    return NNS_OK;
}

static size_t ct_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)training, (void)out;
    const ct_params *p = params;
    const size_t rows = (size_t)in[1]->dims[1] * (size_t)p->kh * (size_t)p->kw;
    return rows * (size_t)in[0]->dims[2] * (size_t)in[0]->dims[3] * sizeof(float);
}

static void ct_forward(nns_exec_node *e) {
    const ct_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape, *ys = &e->out[0]->shape;
    int64_t oh, ow, pt, pl;
    ct_geom(e->node, p, xs, &oh, &ow, &pt, &pl);
    /* the convolution from the output plane (as its input) to X's plane */
    const nns_conv2d_geom g = {(int)oh, (int)ow, (int)xs->dims[2], (int)xs->dims[3], p->kh, p->kw, p->sh, p->sw,
                               p->dh, p->dw, (int)pt, (int)pl};
    const int cg = (int)(xs->dims[1] / p->group), mg = (int)e->in[1]->shape.dims[1];
    const int rows = mg * p->kh * p->kw, ihw = (int)(xs->dims[2] * xs->dims[3]);
    const size_t ohw = (size_t)oh * (size_t)ow;
    const float *X = nns_tv_cf32(e->in[0]), *W = nns_tv_cf32(e->in[1]);
    const float *B = e->n_in > 2 && e->in[2] ? nns_tv_cf32(e->in[2]) : NULL;
    float *Y = nns_tv_f32(e->out[0]), *col = e->work;
    memset(Y, 0, (size_t)nns_shape_numel(ys) * sizeof(float));
    for (int64_t i = 0; i < xs->dims[0]; i++)
        for (int gi = 0; gi < p->group; gi++) {
            const float *xg = X + ((size_t)i * xs->dims[1] + (size_t)gi * cg) * ihw;
            float *yg = Y + ((size_t)i * ys->dims[1] + (size_t)gi * mg) * ohw;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, rows, ihw, cg, 1.0f, W + (size_t)gi * cg * rows,
                        rows, xg, ihw, 0.0f, col, ihw);
            e->kern->f32_col2im(&g, mg, col, (size_t)ihw, yg);
            for (int m = 0; B && m < mg; m++)
                for (size_t q = 0; q < ohw; q++) yg[(size_t)m * ohw + q] += B[gi * mg + m];
        }
}

const nns_op_def nns_op_convtranspose = {
    .name = "ConvTranspose",
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(ct_params),
    .prepare = ct_prepare,
    .f32_inputs = NNS_IN_ALL,
    .infer = ct_infer,
    .work_bytes = ct_work_bytes,
    .forward = ct_forward,
    .weight_in = 1,
    .bias_in = 2,
};
