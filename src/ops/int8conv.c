/* int8conv.c — Int8Conv: a 2-D convolution in integers (int8_impl.h has
 * the definition) by the u8 x s8 GEMM of the plan's kernel table, one image
 * per thread (or an image's output channels split, below a batch of one
 * per thread). The GEMM's operand is built one of three ways:
 *  - a 1x1 stride-1 convolution reads its input as the operand directly;
 *  - an undilated ungrouped window of stride 1 or 2 on at least four
 *    channels ("channel quads"): the products are ordered (channel quad,
 *    ky, kx) and the image is copied once into planes of four interleaved
 *    channels, padded with the zero point to (oh - 1) * s + kh rows of
 *    pw = (ow - 1) * s + kw; then at stride 1 the operand's quad row
 *    (q, ky, kx) is one contiguous copy of plane q from (ky, kx), the GEMM
 *    computing pw columns per output row of which the first ow are kept;
 *    at stride 2 each output row gathers every other 4-byte pixel. The
 *    weights are packed in that order, channels padded to a multiple of
 *    four with zero weights;
 *  - otherwise by u8 im2col (the zero point in the padding), four rows at a
 *    time, into quads.
 * Depthwise convolutions run the direct depthwise kernel instead. */
#include <omp.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops/int8_impl.h"

typedef struct i8conv_dims {
    int64_t n;
    int c, m, cg, mg, group;
    nns_conv2d_geom g;
    size_t ihw, ohw, ckg;
    int direct; /* 1x1, stride 1, no padding: no im2col */
    int cquad;  /* channel quads (see the top): cq planes of ph x pw pixels */
    int cq, ph, pw;
    int rw;      /* GEMM columns per output row: ow, or pw (channel quads, stride 1) */
    size_t cols; /* GEMM columns per image: oh * rw */
    size_t kp;   /* products per output in the GEMM (ckg, or 4 * cq * kh * kw) */
} i8conv_dims;

/* The channel-quad order applies (stride 1 or 2 both ways, no dilation,
 * one group, a window larger than 1x1, at least 4 input channels: with
 * fewer, the padding to a quad would multiply the products, e.g. x3 for a
 * stem on one-channel images, where im2col pads only k*k to a multiple of
 * 4). */
static int cquad_fits(const i8_params *p, const nns_shape *w) {
    return p->group == 1 && w->dims[1] >= 4 && w->dims[2] * w->dims[3] > 1 && p->win.sh == p->win.sw &&
           (p->win.sw == 1 || p->win.sw == 2) && p->win.dh == 1 && p->win.dw == 1;
}

static nns_status dims_make(const nns_node *node, const i8_params *p, const nns_shape *x, const nns_shape *w,
                            i8conv_dims *d) {
    if (x->ndim != 4 || w->ndim != 4 || x->dims[1] <= 0 || x->dims[2] <= 0 || x->dims[3] <= 0)
        return node ? nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Int8Conv): input and weight must be 4-D with known sizes",
                                node->name)
                    : NNS_STATUS_UNSUPPORTED;
    const int64_t C = x->dims[1], M = w->dims[0], G = p->group;
    if (C % G || M % G || w->dims[1] != C / G || C > (1 << 24) || M > (1 << 24))
        return node ? nns_error(NNS_STATUS_SHAPE, "node '%s' (Int8Conv): weight [%lld, %lld, ...] does not fit %lld input "
                                                  "channels in %lld groups",
                                node->name, (long long)M, (long long)w->dims[1], (long long)C, (long long)G)
                    : NNS_STATUS_SHAPE;
    nns_status st = nns_window2d_geom(node, &p->win, x->dims[2], x->dims[3], (int)w->dims[2], (int)w->dims[3], &d->g,
                                      NULL, NULL);
    if (st) return st;
    d->n = x->dims[0];
    d->c = (int)C;
    d->m = (int)M;
    d->group = (int)G;
    d->cg = (int)(C / G);
    d->mg = (int)(M / G);
    d->ihw = (size_t)d->g.ih * d->g.iw;
    d->ohw = (size_t)d->g.oh * d->g.ow;
    d->ckg = (size_t)d->cg * d->g.kh * d->g.kw;
    const nns_conv2d_geom *g = &d->g;
    d->direct = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 && g->oh == g->ih &&
                g->ow == g->iw;
    d->cquad = cquad_fits(p, w);
    d->cq = (d->c + 3) / 4;
    d->ph = (g->oh - 1) * g->sh + g->kh;
    d->pw = (g->ow - 1) * g->sw + g->kw;
    d->rw = d->cquad && g->sw == 1 ? d->pw : g->ow;
    d->cols = (size_t)g->oh * d->rw;
    d->kp = d->cquad ? (size_t)4 * d->cq * g->kh * g->kw : d->ckg;
    return NNS_OK;
}

static nns_status i8conv_prepare(const nns_graph *g, const nns_node *n, void *params) {
    i8_params *p = params;
    nns_status st = nns_window2d_parse(n, 0, 1, 0, &p->win);
    if (st) return st;
    const int64_t group = nns_node_attr_int(n, "group", 1);
    if (group < 1 || group > (1 << 24))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Int8Conv): group must be >= 1, not %lld", n->name, (long long)group);
    p->group = (int)group;
    nns_i8_parse_act(n, p);
    p->nthreads = omp_get_max_threads() > 0 ? omp_get_max_threads() : 1;
    const nns_shape *w = &g->values[n->in[I8_W]].shape;
    if (w->ndim != 4) return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Int8Conv): the weight must be 4-D", n->name);
    return nns_i8_check(g, n, w->dims[0], w->dims[1] * w->dims[2] * w->dims[3]);
}

static nns_status i8conv_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                               nns_shape *out) {
    (void)g;
    i8conv_dims d;
    nns_status st = dims_make(n, params, in[I8_X], in[I8_W], &d);
    if (st) return st;
    const int64_t dims[4] = {in[I8_X]->dims[0] > 0 ? in[I8_X]->dims[0] : -1, d.m, d.g.oh, d.g.ow};
    out[0] = nns_shape_make(4, dims);
    return nns_i8_check_residual(n, in, &out[0]);
}

static size_t a64(size_t n) { return (n + 63) / 64 * 64; }

/* Bytes of the channel-quad planes, with the slack that the last quad
 * row's copy reads past them. */
static size_t cquad_plane_bytes(const i8conv_dims *d) {
    return (size_t)d->cq * d->ph * d->pw * 4 + (size_t)4 * d->g.kw + 64;
}

/* Per thread: the input shifted to u8 (s8 inputs) or the channel-quad
 * planes, four rows of columns, the columns in quads, the accumulators of
 * one group. */
static size_t stage_bytes(const i8conv_dims *d) {
    const size_t shift = a64((size_t)d->c * d->ihw);
    if (d->cquad) return a64(cquad_plane_bytes(d)) + shift; /* the planes, then the shifted s8 input */
    return shift + a64(4 * d->ohw);
}

static size_t per_thread(const i8conv_dims *d) {
    const size_t gemm = stage_bytes(d) + a64((size_t)nns_quads((int)d->kp) * d->cols * 4) + (size_t)d->mg * d->cols * 4;
    const size_t dw = a64(d->ihw) + a64(nns_u8_dwconv_scratch_bytes(&d->g)) + d->ohw * 4; /* depthwise */
    return gemm > dw ? gemm : dw;
}

static int depthwise(const i8conv_dims *d) { return d->cg == 1 && d->mg == 1 && d->group > 1; }

static size_t i8conv_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)out, (void)training;
    const i8_params *p = params;
    i8conv_dims d;
    if (dims_make(NULL, p, in[I8_X], in[I8_W], &d)) return 0;
    return per_thread(&d) * (size_t)p->nthreads;
}

/* Products per output as packed: the weight's, or in channel quads. */
static int64_t packed_k(const nns_exec_node *e) {
    const nns_shape *w = &e->in[I8_W]->shape;
    if (cquad_fits(e->params, w)) return 4 * ((w->dims[1] + 3) / 4) * w->dims[2] * w->dims[3];
    return w->dims[1] * w->dims[2] * w->dims[3];
}

static size_t i8conv_packed_bytes(const nns_exec_node *e) {
    return nns_i8_packed_bytes(e->in[I8_W]->shape.dims[0], packed_k(e));
}

static int32_t conv_w_at(const nns_exec_node *e, int64_t c, int64_t l) {
    const nns_shape *w = &e->in[I8_W]->shape;
    return nns_i8_int_at(e->in[I8_W], c * (w->dims[1] * w->dims[2] * w->dims[3]) + l);
}

/* Product l in the channel-quad order (quad, ky, kx, channel in the quad);
 * a channel past the weight's is the zero point (a zero weight). */
static int32_t cquad_w_at(const nns_exec_node *e, int64_t c, int64_t l) {
    const nns_shape *w = &e->in[I8_W]->shape;
    const int64_t kk = w->dims[2] * w->dims[3], q = l / 4, ch = 4 * (q / kk) + l % 4;
    if (ch >= w->dims[1]) {
        const nns_tv *wz = e->in[I8_WZ];
        return wz ? nns_i8_int_at(wz, nns_tv_numel(wz) == 1 ? 0 : c) : 0;
    }
    return nns_i8_int_at(e->in[I8_W], (c * w->dims[1] + ch) * kk + q % kk);
}

static void i8conv_pack(nns_exec_node *e, void *packed) {
    const int cq = cquad_fits(e->params, &e->in[I8_W]->shape);
    nns_i8_pack(e, e->in[I8_W]->shape.dims[0], packed_k(e), cq ? cquad_w_at : conv_w_at, packed);
}

/* Image b's group gr as the GEMM's quads, in work (the input shifted to u8
 * if s8, its columns, the quads). */
/* Image x's channel-quad planes (see the top) into P: four channels
 * interleaved per pixel (each image row by the quad packing kernel), the
 * zero point around them; channels past the image's hold 0 (their weights
 * are 0). */
static void cquad_planes(const nns_kernels *k, const i8conv_dims *d, const uint8_t *x, uint8_t pad, uint8_t *P) {
    const nns_conv2d_geom *g = &d->g;
    const int n = g->iw < d->pw - g->pl ? g->iw : d->pw - g->pl;
    memset(P, pad, cquad_plane_bytes(d));
    for (int q = 0; q < d->cq; q++) {
        const int rows = d->c - 4 * q < 4 ? d->c - 4 * q : 4;
        for (int iy = 0; iy < g->ih && iy + g->pt < d->ph; iy++) {
            uint8_t *row = P + (size_t)q * d->ph * d->pw * 4 + ((size_t)(iy + g->pt) * d->pw + g->pl) * 4;
            k->u8_pack_quads(rows, n, x + (size_t)4 * q * d->ihw + (size_t)iy * g->iw, d->ihw, row, 0);
        }
    }
}

/* The operand in channel quads: quad row (q, ky, kx) is plane q from
 * (ky, kx), cols * 4 bytes. */
/* Image b's channel-quad planes in work (the s8 input shifted first). */
static void cquad_stage(const nns_exec_node *e, const i8conv_dims *d, int64_t b, char *work) {
    const i8_head *h = e->packed;
    const uint8_t *x = (const uint8_t *)e->in[I8_X]->data + (size_t)b * d->c * d->ihw;
    uint8_t *P = (uint8_t *)work;
    if (h->x_signed) { /* s8 + 128, after the planes */
        uint8_t *xu = P + a64(cquad_plane_bytes(d));
        for (size_t i = 0; i < (size_t)d->c * d->ihw; i++) xu[i] = (uint8_t)(x[i] ^ 0x80);
        x = xu;
    }
    cquad_planes(e->kern, d, x, (uint8_t)h->xzp, P);
}

/* Stride 2: output row oy of quad row (ky, kx) gathers every other pixel
 * of plane row 2 * oy + ky from column kx. */
static void gather_s2(const i8conv_dims *d, const uint8_t *plane, int ky, int kx, int oy0, int oy1, uint8_t *o) {
    for (int oy = oy0; oy < oy1; oy++) {
        const uint8_t *s = plane + ((size_t)(2 * oy + ky) * d->pw + kx) * 4;
        for (int ox = 0; ox < d->g.ow; ox++, o += 4) memcpy(o, s + (size_t)8 * ox, 4);
    }
}

/* The operand's columns of output rows [oy0, oy1) from the planes P into
 * xq: quad row (q, ky, kx) is plane q from (ky + oy0, kx), whole padded
 * rows at stride 1 (one copy), every other pixel at stride 2. */
static void cquad_slice(const i8conv_dims *d, const uint8_t *P, int oy0, int oy1, uint8_t *xq) {
    const size_t ldq = nns_quad_row_bytes((oy1 - oy0) * d->rw), plane = (size_t)d->ph * d->pw * 4;
    uint8_t *o = xq;
    for (int q = 0; q < d->cq; q++)
        for (int ky = 0; ky < d->g.kh; ky++)
            for (int kx = 0; kx < d->g.kw; kx++, o += ldq)
                if (d->g.sw == 1) memcpy(o, P + q * plane + ((size_t)(ky + oy0) * d->pw + kx) * 4, ldq);
                else gather_s2(d, P + q * plane, ky, kx, oy0, oy1, o);
}

static const uint8_t *cquad_operand(const nns_exec_node *e, const i8conv_dims *d, int64_t b, char *work) {
    cquad_stage(e, d, b, work);
    cquad_slice(d, (const uint8_t *)work, 0, d->g.oh, (uint8_t *)work + stage_bytes(d));
    return (const uint8_t *)work + stage_bytes(d);
}

/* Output rows [oy0, oy1) of image b, every channel, from the planes P:
 * the operand's slice and accumulators in work. */
static void cquad_rows(const nns_exec_node *e, const i8conv_dims *d, int64_t b, const uint8_t *P, int oy0, int oy1,
                       char *work) {
    const i8_head *h = e->packed;
    uint8_t *xq = (uint8_t *)work + stage_bytes(d);
    int32_t *acc = (int32_t *)(work + stage_bytes(d) + a64((size_t)nns_quads((int)d->kp) * d->cols * 4));
    const int rows = oy1 - oy0, cols = rows * d->rw;
    cquad_slice(d, P, oy0, oy1, xq);
    e->kern->qgemm_u8s8(d->m, cols, (int)d->kp, i8_w(h), (size_t)h->ldw, xq, nns_quad_row_bytes(cols), i8_bias(h), acc,
                        (size_t)cols);
    for (int c = 0; c < d->m; c++) {
        int32_t *a = acc + (size_t)c * cols;
        for (int r = 1; r < rows && d->rw != d->g.ow; r++)
            memmove(a + (size_t)r * d->g.ow, a + (size_t)r * d->rw, (size_t)d->g.ow * sizeof *a);
        nns_i8_store(e->kern, h, e->params, c, a, (int64_t)rows * d->g.ow, e->out[0]->data,
                     (b * d->m + c) * (int64_t)d->ohw + (int64_t)oy0 * d->g.ow, 1, residual(e));
    }
}

/* Fewer images than threads, channel quads: the planes made once, the
 * output rows split over the team. */
static void cquad_rows_split(const nns_exec_node *e, const i8conv_dims *d, int team, size_t per) {
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        for (int64_t b = 0; b < d->n; b++) {
#pragma omp single
            cquad_stage(e, d, b, e->work);
            const int oy0 = d->g.oh * t / nt, oy1 = d->g.oh * (t + 1) / nt;
            if (oy1 > oy0) cquad_rows(e, d, b, e->work, oy0, oy1, (char *)e->work + (size_t)t * per);
#pragma omp barrier
        }
    }
}

static const uint8_t *group_quads(const nns_exec_node *e, const i8conv_dims *d, int64_t b, int gr, char *work) {
    if (d->cquad) return cquad_operand(e, d, b, work);
    const i8_head *h = e->packed;
    const nns_kernels *k = e->kern;
    const uint8_t *x = (const uint8_t *)e->in[I8_X]->data + ((size_t)b * d->c + (size_t)gr * d->cg) * d->ihw;
    uint8_t *xu = (uint8_t *)work, *col = xu + a64((size_t)d->c * d->ihw), *xq = (uint8_t *)work + stage_bytes(d);
    if (h->x_signed) {
        for (size_t i = 0; i < (size_t)d->cg * d->ihw; i++) xu[i] = (uint8_t)(x[i] ^ 0x80); /* s8 + 128 */
        x = xu;
    }
    const size_t ldq = nns_quad_row_bytes((int)d->ohw);
    if (d->direct) {
        k->u8_pack_quads((int)d->ckg, (int)d->ohw, x, d->ohw, xq, ldq);
        return xq;
    }
    /* four rows of columns at a time, in cache, straight into their quad */
    for (int l0 = 0; l0 < (int)d->ckg; l0 += 4) {
        const int l1 = l0 + 4 < (int)d->ckg ? l0 + 4 : (int)d->ckg;
        k->u8_im2col(&d->g, x, (uint8_t)h->xzp, l0, l1, col, d->ohw);
        k->u8_pack_quads(l1 - l0, (int)d->ohw, col, d->ohw, xq + (size_t)(l0 / 4) * ldq, ldq);
    }
    return xq;
}

/* Output channels [r0, r1) of group gr of image b from its quads: the GEMM
 * into acc, then the requantization. */
static void group_rows(const nns_exec_node *e, const i8conv_dims *d, int64_t b, int gr, const uint8_t *xq, int r0,
                       int r1, int32_t *acc) {
    const i8_head *h = e->packed;
    const int64_t c0 = (int64_t)gr * d->mg + r0;
    e->kern->qgemm_u8s8(r1 - r0, (int)d->cols, (int)d->kp, i8_w(h) + c0 * (int64_t)h->ldw, (size_t)h->ldw, xq,
                        nns_quad_row_bytes((int)d->cols), i8_bias(h) + c0, acc, d->cols);
    const int64_t y0 = (b * d->m + c0) * (int64_t)d->ohw;
    for (int c = 0; c < r1 - r0; c++) {
        int32_t *a = acc + (size_t)c * d->cols;
        for (int oy = 1; oy < d->g.oh && d->rw != d->g.ow; oy++) /* keep the first ow of each row's rw columns */
            memmove(a + (size_t)oy * d->g.ow, a + (size_t)oy * d->rw, (size_t)d->g.ow * sizeof *a);
        nns_i8_store(e->kern, h, e->params, c0 + c, a, (int64_t)d->ohw, e->out[0]->data, y0 + (int64_t)c * (int64_t)d->ohw,
                     1, residual(e));
    }
}

static int32_t *acc_of(const i8conv_dims *d, char *work) {
    return (int32_t *)(work + stage_bytes(d) + a64((size_t)nns_quads((int)d->kp) * d->cols * 4));
}

/* Channels per task when one image's output channels are split. */
#define I8CONV_ROWS 16

/* Fewer images than threads: each group's quads made once, its output
 * channels split over the team. */
static void conv_rows_split(const nns_exec_node *e, const i8conv_dims *d, int team, size_t per) {
    const uint8_t *xq = NULL;
    const int tasks = (d->mg + I8CONV_ROWS - 1) / I8CONV_ROWS;
#pragma omp parallel num_threads(team)
    for (int64_t b = 0; b < d->n; b++)
        for (int gr = 0; gr < d->group; gr++) {
#pragma omp single
            xq = group_quads(e, d, b, gr, e->work);
#pragma omp for schedule(static)
            for (int t = 0; t < tasks; t++) {
                const int r0 = t * I8CONV_ROWS, r1 = r0 + I8CONV_ROWS < d->mg ? r0 + I8CONV_ROWS : d->mg;
                group_rows(e, d, b, gr, xq, r0, r1, acc_of(d, (char *)e->work + (size_t)omp_get_thread_num() * per));
            }
        }
}

/* Channel c of image b of a depthwise convolution: the kernel's plane,
 * then the requantization. */
static void dw_plane(const nns_exec_node *e, const i8conv_dims *d, int64_t b, int c, char *work) {
    const i8_head *h = e->packed;
    const uint8_t *x = (const uint8_t *)e->in[I8_X]->data + ((size_t)b * d->c + (size_t)c) * d->ihw;
    uint8_t *xu = (uint8_t *)work, *scratch = xu + a64(d->ihw);
    int32_t *acc = (int32_t *)(scratch + a64(nns_u8_dwconv_scratch_bytes(&d->g)));
    if (h->x_signed) {
        for (size_t i = 0; i < d->ihw; i++) xu[i] = (uint8_t)(x[i] ^ 0x80); /* s8 + 128 */
        x = xu;
    }
    e->kern->u8_dwconv(&d->g, x, (uint8_t)h->xzp, i8_w(h) + (size_t)c * (size_t)h->ldw, i8_bias(h)[c], acc, scratch);
    nns_i8_store(e->kern, h, e->params, c, acc, (int64_t)d->ohw, e->out[0]->data, (b * d->m + c) * (int64_t)d->ohw, 1,
                 residual(e));
}

static void i8conv_forward(nns_exec_node *e) {
    const i8_params *p = e->params;
    i8conv_dims d;
    dims_make(NULL, p, &e->in[I8_X]->shape, &e->in[I8_W]->shape, &d);
    const size_t per = per_thread(&d);
    if (depthwise(&d)) {
        const int64_t planes = d.n * d.c;
#pragma omp parallel for num_threads(p->nthreads) schedule(static) if (planes * (int64_t)d.ohw > 4096)
        for (int64_t t = 0; t < planes; t++)
            dw_plane(e, &d, t / d.c, (int)(t % d.c), (char *)e->work + (size_t)omp_get_thread_num() * per);
        return;
    }
    if (d.n < p->nthreads && d.cquad && d.g.oh >= 2) {
        cquad_rows_split(e, &d, p->nthreads, per);
        return;
    }
    if (d.n < p->nthreads && d.mg >= 2 * I8CONV_ROWS) {
        conv_rows_split(e, &d, p->nthreads, per);
        return;
    }
    const int team = d.n < p->nthreads ? (int)d.n : p->nthreads;
#pragma omp parallel for num_threads(team > 0 ? team : 1) schedule(static)
    for (int64_t b = 0; b < d.n; b++) {
        char *work = (char *)e->work + (size_t)omp_get_thread_num() * per;
        for (int gr = 0; gr < d.group; gr++) group_rows(e, &d, b, gr, group_quads(e, &d, b, gr, work), 0, d.mg, acc_of(&d, work));
    }
}

static int64_t i8conv_macs(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    (void)n;
    const nns_shape *w = in[I8_W];
    int64_t per = 1;
    for (int d = 1; d < w->ndim; d++) per = nns_macs_mul(per, w->dims[d]);
    return nns_macs_mul(nns_shape_numel(out), per);
}

const nns_op_def nns_op_int8conv = {
    .name = "Int8Conv",
    .internal = 1,
    .min_in = 5, .max_in = I8_NIN, .min_out = 1, .max_out = 1,
    .params_size = sizeof(i8_params),
    .prepare = i8conv_prepare,
    .infer = i8conv_infer,
    .work_bytes = i8conv_work_bytes,
    .forward = i8conv_forward,
    .packed_bytes = i8conv_packed_bytes,
    .pack = i8conv_pack,
    .f32_inputs = 1u << I8_XS | 1u << I8_WS | 1u << I8_YS | 1u << I8_RS,
    .out_dtype = NNS_OUT_SAME_AS(I8_YZ),
    .out_dtype_omitted = NNS_DTYPE_F32,
    .nontrainable_inputs = ~0u,
    .macs = i8conv_macs,
};
