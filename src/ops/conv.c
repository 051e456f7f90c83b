/*
 * conv.c — Conv (ONNX opset 13), 2-D: X [N,C,H,W], W [M,C/group,kH,kW],
 * optional B [M] -> Y [N,M,OH,OW]. Attributes: kernel_shape, strides,
 * dilations, pads, auto_pad, group.
 *
 * Algorithms (chosen from the shapes at run time; docs/kernels.md has the
 * measurements behind the choices):
 *  - DW, depthwise (group == C == M): the dwconv2d kernels, forward
 *    parallel over (n, c) planes, backward parallel over channels;
 *  - WINO, 3x3 stride 1 dilation 1, group 1, C and M >= 4: Winograd
 *    F(2x2,3x3) for forward, data gradient (a convolution of dY with the
 *    flipped, transposed filters) and weight gradient (in the transformed
 *    domain), with our own batched-GEMM kernel (wgemm8);
 *  - 1X1, 1x1 stride 1 without padding: one OpenBLAS GEMM per image and
 *    group on X itself;
 *  - IM2COL, everything else: im2col + OpenBLAS GEMM, several images side by
 *    side in one GEMM (small planes make short GEMMs); the data gradient is
 *    W^T dY followed by col2im. With one input channel (group 1) the forward
 *    runs the direct nns_f32_conv2d_1ch kernel instead (K = kh*kw is too
 *    short for a GEMM).
 * Images are split among threads in static contiguous ranges (OpenBLAS runs
 * single-threaded inside our parallel region); weight gradients go to
 * per-thread partial buffers summed in thread order, so results are
 * deterministic for a fixed thread count. With one image or one thread the
 * GEMMs run serially and OpenBLAS threads them.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "ops/op_util.h"
#include "ops/window2d.h"

typedef struct conv_params {
    nns_window2d win;
    int group;
    int nthreads;   /* threads the workspace is sized for */
} conv_params;

enum { CONV_ALGO_DW = 0, CONV_ALGO_1X1, CONV_ALGO_IM2COL, CONV_ALGO_WINO };

/* Winograd F(2x2,3x3) over one direction: an input plane ih x iw, padded at
 * (pt, pl) into ph x pw, gives an output oh x ow in ty x tx tiles; tiles are
 * processed in chunks of tc. */
typedef struct wino_geom {
    int ih, iw, oh, ow, pt, pl, ph, pw, ty, tx, t, tc;
} wino_geom;

/* Smallest channel counts for Winograd (below, im2col + GEMM is as fast). */
#define CONV_WINO_MIN_C 4
#define CONV_WINO_MIN_M 4
/* WINO needs at least this many output tiles per call (batch x tiles per
 * image; NNS_WINO_MIN_TILES overrides): with fewer, transforming the M x C
 * filters at every forward costs more than Winograd saves, and im2col + GEMM
 * is faster (resnet8 at batch 1, 7x7 planes of 16 tiles: 0.56 -> 0.45 ms). */
#define CONV_WINO_MIN_TILES 40
int nns_conv_wino_min_tiles = -1;
static int nns_conv_wino_min_tiles_get(void) {
    int v = nns_conv_wino_min_tiles;
    if (v < 0) {
        const char *e = getenv("NNS_WINO_MIN_TILES");
        v = e ? atoi(e) : CONV_WINO_MIN_TILES;
        if (v < 0) v = 0;
        nns_conv_wino_min_tiles = v;
    }
    return v;
}
/* IM2COL: images are batched into one GEMM while their im2col columns take
 * at most this many floats (and their output rows at most a quarter). */
#define CONV_IM2COL_COL_FLOATS 65536

typedef struct conv_dims {
    int64_t n;
    int c, m, cg, mg, group;
    nns_conv2d_geom g;   /* X plane -> Y plane */
    size_t ihw, ohw, kk, ckg, wsize;
    int algo;
    wino_geom wf, wb;    /* WINO: forward, and data gradient (dY -> dX) */
    int ib;              /* IM2COL: images per GEMM */
    int act;             /* forward: activation applied to the output (nns_fuse_act) */
    float lo, hi;        /* its Clip bounds */
} conv_dims;

static size_t r16(size_t n) { return (n + 15) & ~(size_t)15; }

static void conv_act_rows(float *y, size_t n, int act, float lo, float hi) {
    if (act == NNS_FUSE_ACT_RELU) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = nns_fuse_act_apply(y[i], NNS_FUSE_ACT_RELU, lo, hi);
    } else if (act == NNS_FUSE_ACT_CLIP) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = nns_fuse_act_apply(y[i], NNS_FUSE_ACT_CLIP, lo, hi);
    }
}


static void wino_geom_make(int ih, int iw, int oh, int ow, int pt, int pl, int cin, int cout, wino_geom *w) {
    w->ih = ih;
    w->iw = iw;
    w->oh = oh;
    w->ow = ow;
    w->pt = pt;
    w->pl = pl;
    w->ty = (oh + 1) / 2;
    w->tx = (ow + 1) / 2;
    w->t = w->ty * w->tx;
    w->ph = 2 * w->ty + 2;
    w->pw = 2 * w->tx + 2;
    /* Chunk: transformed input and output of a chunk (cin + cout channels
     * of 16 floats per tile) in about 192 KB, a multiple of 4 tiles. */
    int tc = (int)(196608 / ((size_t)(cin + cout) * 64)) & ~3;
    if (tc < 8) tc = 8;
    w->tc = tc;
}

static nns_status conv_validate(const nns_graph *gr, const nns_node *node, const conv_params *p,
                                const nns_shape *x, const nns_shape *w, const nns_shape *b) {
    const char *xn = gr->values[node->in[0]].name, *wn = gr->values[node->in[1]].name;
    if (x->ndim != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (Conv): only 2-D convolution is supported; input '%s' has rank %d, not 4",
                         node->name, xn, x->ndim);
    if (w->ndim != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (Conv): only 2-D convolution is supported; weight '%s' has rank %d, not 4",
                         node->name, wn, w->ndim);
    for (int i = 1; i < 4; i++)
        if (x->dims[i] <= 0)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): input '%s' has unknown dimension %d",
                             node->name, xn, i);
    for (int i = 0; i < 4; i++)
        if (w->dims[i] <= 0)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): weight '%s' has dimension %d = %lld",
                             node->name, wn, i, (long long)w->dims[i]);
    int64_t C = x->dims[1], M = w->dims[0], G = p->group;
    if (C % G)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): %lld input channels are not divisible by group %lld",
                         node->name, (long long)C, (long long)G);
    if (M % G)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): %lld output channels are not divisible by group %lld",
                         node->name, (long long)M, (long long)G);
    if (w->dims[1] != C / G)
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (Conv): weight '%s' has %lld input channels per group, expected %lld (C=%lld, group=%lld)",
                         node->name, wn, (long long)w->dims[1], (long long)(C / G), (long long)C, (long long)G);
    if ((p->win.kh && p->win.kh != w->dims[2]) || (p->win.kw && p->win.kw != w->dims[3]))
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (Conv): kernel_shape [%d,%d] does not match weight '%s' [%lld,%lld]",
                         node->name, p->win.kh, p->win.kw, wn, (long long)w->dims[2], (long long)w->dims[3]);
    if (b && (b->ndim != 1 || b->dims[0] != M))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Conv): bias '%s' must have shape [%lld]", node->name,
                         gr->values[node->in[2]].name, (long long)M);
    if (C > (1 << 24) || M > (1 << 24) || w->dims[2] > 4096 || w->dims[3] > 4096)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Conv): sizes too large", node->name);
    return NNS_OK;
}

/* Sizes and algorithm for validated shapes; node NULL: no messages. */
/* IM2COL: images per GEMM (d->ib). */
static void conv_im2col_batch(conv_dims *d) {
    size_t per = (d->ckg + 4 * (size_t)d->mg) * d->ohw;
    int64_t ib = per ? (int64_t)(CONV_IM2COL_COL_FLOATS / per) : 1;
    if (ib < 1) ib = 1;
    if (d->n > 0 && ib > d->n) ib = d->n;
    d->ib = (int)ib;
}

static nns_status conv_dims_make(const nns_node *node, const conv_params *p, const nns_shape *x,
                                 const nns_shape *w, conv_dims *d) {
    int64_t C = x->dims[1], M = w->dims[0], G = p->group;
    d->act = NNS_FUSE_ACT_NONE;
    d->lo = d->hi = 0.0f;
    nns_status st = nns_window2d_geom(node, &p->win, x->dims[2], x->dims[3], (int)w->dims[2],
                                      (int)w->dims[3], &d->g, NULL, NULL);
    if (st) return st;
    d->n = x->dims[0];
    d->c = (int)C;
    d->m = (int)M;
    d->group = (int)G;
    d->cg = (int)(C / G);
    d->mg = (int)(M / G);
    d->ihw = (size_t)d->g.ih * d->g.iw;
    d->ohw = (size_t)d->g.oh * d->g.ow;
    d->kk = (size_t)d->g.kh * d->g.kw;
    d->ckg = (size_t)d->cg * d->kk;
    d->wsize = (size_t)M * d->ckg;
    const nns_conv2d_geom *g = &d->g;
    if (G == C && M == C)
        d->algo = CONV_ALGO_DW;
    else if (g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
             g->oh == g->ih && g->ow == g->iw)
        d->algo = CONV_ALGO_1X1;
    else if (g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 && G == 1 &&
             C >= CONV_WINO_MIN_C && M >= CONV_WINO_MIN_M &&
             d->n * (int64_t)((g->oh + 1) / 2) * ((g->ow + 1) / 2) >= nns_conv_wino_min_tiles_get())
        d->algo = CONV_ALGO_WINO;
    else
        d->algo = CONV_ALGO_IM2COL;
    if (d->algo == CONV_ALGO_WINO) {
        wino_geom_make(g->ih, g->iw, g->oh, g->ow, g->pt, g->pl, d->c, d->m, &d->wf);
        wino_geom_make(g->oh, g->ow, g->ih, g->iw, 2 - g->pt, 2 - g->pl, d->m, d->c, &d->wb);
        /* No chunk longer than the batch's tiles. */
        if (d->n > 0 && d->wf.tc > d->n * d->wf.t) d->wf.tc = (int)((d->n * d->wf.t + 3) & ~3);
        if (d->n > 0 && d->wb.tc > d->n * d->wb.t) d->wb.tc = (int)((d->n * d->wb.t + 3) & ~3);
    }
    if (d->algo == CONV_ALGO_IM2COL) conv_im2col_batch(d);
    return NNS_OK;
}

static nns_status conv_prepare(const nns_graph *g, const nns_node *n, void *params) {
    conv_params *p = params;
    nns_status st;
    if (n->n_in < 2 || n->in[0] < 0 || n->in[1] < 0)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Conv): inputs X and W are required", n->name);
    if ((st = nns_window2d_parse(n, 0, 1, 0, &p->win))) return st;
    int64_t group = nns_node_attr_int(n, "group", 1);
    if (group < 1 || group > (1 << 24))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (Conv): group must be >= 1, not %lld", n->name,
                         (long long)group);
    p->group = (int)group;
    p->nthreads = omp_get_max_threads();
    if (p->nthreads < 1) p->nthreads = 1;
    for (int i = 0; i < n->n_in && i < 3; i++)
        if ((st = nns_op_check_f32(g, n, i))) return st;
    return NNS_OK;
}

static nns_status conv_infer(const nns_graph *g, const nns_node *n, const void *params,
                             const nns_shape *const *in, nns_shape *out) {
    const conv_params *p = params;
    conv_dims d;
    nns_status st = conv_validate(g, n, p, in[0], in[1], n->n_in > 2 ? in[2] : NULL);
    if (!st) st = conv_dims_make(n, p, in[0], in[1], &d);
    if (st) return st;
    int64_t dims[4] = {in[0]->dims[0] > 0 ? in[0]->dims[0] : -1, d.m, d.g.oh, d.g.ow};
    out[0] = nns_shape_make(4, dims);
    return NNS_OK;
}

/* Workspace layout, in floats (every part 16-float aligned): per-thread
 * parts, then shared ones. */
typedef struct conv_ws {
    size_t per_thread;           /* floats per thread */
    size_t part;                 /* weight-gradient partial (threads > 1) */
    size_t col, yb;              /* IM2COL: columns, output / dY of a batch of images */
    size_t xpad, ypad, v, m, dm; /* WINO: padded input / dY, transforms */
    size_t wt;                   /* shared: WINO transformed weights */
    size_t fold;                 /* inference: BatchNorm-folded weights and bias */
    size_t total;
} conv_ws;

static size_t ws_take(size_t *at, size_t n) {
    size_t o = *at;
    *at += r16(n);
    return o;
}

static size_t zmax(size_t a, size_t b) { return a > b ? a : b; }

/* One input channel, group 1 (a first layer on grey images): the forward
 * convolves each image's plane with every filter directly
 * (nns_f32_conv2d_1ch) instead of im2col + a GEMM with K = kh*kw. */
static int conv_is_1ch(const conv_dims *d) { return d->algo == CONV_ALGO_IM2COL && d->c == 1 && d->group == 1; }

static void conv_ws_make(const conv_dims *d, int nthreads, int training, conv_ws *w) {
    memset(w, 0, sizeof *w);
    size_t at = 0, shared = 0;
    switch (d->algo) {
    case CONV_ALGO_DW:
        at = r16(nns_f32_dwconv2d_scratch_floats(&d->g));
        if (training && nthreads > 1) w->part = ws_take(&at, d->wsize + (size_t)d->c); /* relative to scratch */
        break;
    case CONV_ALGO_WINO: {
        const wino_geom *f = &d->wf, *b = &d->wb;
        w->xpad = ws_take(&at, (size_t)d->c * f->ph * f->pw);
        size_t v = (size_t)d->c * f->tc, m = (size_t)d->m * f->tc;
        if (training) {
            w->ypad = ws_take(&at, (size_t)d->m * b->ph * b->pw);
            v = zmax(v, (size_t)d->m * b->tc);
            m = zmax(m, (size_t)d->c * b->tc);
            w->dm = ws_take(&at, (size_t)d->m * f->tc * 16);
            w->part = ws_take(&at, (size_t)d->m * d->c * 16);
        }
        w->v = ws_take(&at, v * 16);
        w->m = ws_take(&at, m * 16);
        shared = r16((size_t)d->m * d->c * 16);
        break;
    }
    case CONV_ALGO_IM2COL: {
        const size_t cols = (size_t)d->ib * d->ohw;
        w->col = ws_take(&at, d->ckg * cols);
        w->yb = ws_take(&at, (size_t)d->mg * cols);
        if (training && nthreads > 1) w->part = ws_take(&at, d->wsize);
        if (conv_is_1ch(d)) at = zmax(at, r16(nns_f32_dwconv2d_scratch_floats(&d->g))); /* forward scratch */
        break;
    }
    default: /* 1X1 */
        if (training && nthreads > 1) w->part = ws_take(&at, d->wsize);
        break;
    }
    w->per_thread = at;
    w->wt = at * (size_t)nthreads;
    w->total = w->wt + shared;
    if (!training) {
        w->fold = w->total;
        w->total += r16(d->wsize) + r16((size_t)d->m);
    }
}

static size_t conv_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out,
                              int training) {
    (void)out;
    const conv_params *p = params;
    conv_dims d;
    if (conv_dims_make(NULL, p, in[0], in[1], &d)) return 0;
    conv_ws w;
    conv_ws_make(&d, p->nthreads, training, &w);
    size_t total = w.total;
    if (d.algo == CONV_ALGO_WINO) { /* a smaller batch at run time may take IM2COL */
        d.algo = CONV_ALGO_IM2COL;
        conv_im2col_batch(&d);
        conv_ws_make(&d, p->nthreads, training, &w);
        total = zmax(total, w.total);
    }
    return total * sizeof(float);
}

/* Runtime dims from the views (shapes already validated). */
static void conv_dims_rt(const nns_exec_node *e, conv_dims *d) {
    conv_dims_make(NULL, e->params, &e->in[0]->shape, &e->in[1]->shape, d);
}

/* Threads for the per-image paths: one below ~1 MFLOP (the fork/join costs
 * more), else up to one per image. */
static int conv_team(const conv_params *p, const conv_dims *d) {
    double flops = 2.0 * (double)d->n * d->m * (double)d->ckg * (double)d->ohw;
    if (p->nthreads <= 1 || d->n <= 1 || flops < (double)(1 << 20)) return 1;
    return (int)(d->n < p->nthreads ? d->n : p->nthreads);
}

/* Threads for the depthwise kernels, over `items` planes or channels. */
static int conv_dw_team(const conv_params *p, const conv_dims *d, int64_t items) {
    double work = (double)d->n * d->c * (double)d->ohw * (double)d->kk;
    if (p->nthreads <= 1 || items <= 1 || work < (double)(1 << 16)) return 1;
    return p->nthreads;
}

/* dW += partial_0 + partial_1 + ... in thread order (threads with no
 * images skipped); thread t of nt sums its slice. */
static void conv_reduce_partials(const conv_dims *d, const conv_ws *ws, const float *work, float *dW, int t,
                                 int nt) {
    const int64_t nw = (int64_t)d->wsize;
    for (int64_t k = nw * t / nt; k < nw * (t + 1) / nt; k++) {
        float s = 0.0f;
        for (int u = 0; u < nt; u++)
            if (d->n * (u + 1) / nt > d->n * u / nt) s += work[(size_t)u * ws->per_thread + ws->part + k];
        dW[k] += s;
    }
}

/* ---- Winograd F(2x2,3x3) ----------------------------------------------- */

/* The tiles of a batch, n images x t tiles, are numbered g = i*t + tile and
 * processed in chunks of tc consecutive tiles (a chunk may span images, so
 * small planes still make long GEMMs). Chunks are split statically among
 * the threads; each thread pads the images it touches into its own buffer.
 * wino_seg walks the per-image segments of chunk [g0, g1). */
typedef struct wino_seg {
    int64_t img;
    int t0, t1;  /* tiles within the image */
    int off;     /* first tile's position in the chunk */
} wino_seg;

static int wino_seg_next(const wino_geom *w, int64_t g1, int64_t *g, int64_t g0, wino_seg *s) {
    if (*g >= g1) return 0;
    s->img = *g / w->t;
    s->t0 = (int)(*g % w->t);
    int64_t end = (s->img + 1) * w->t < g1 ? (s->img + 1) * w->t : g1;
    s->t1 = (int)(end - s->img * w->t);
    s->off = (int)(*g - g0);
    *g = end;
    return 1;
}

static void wino_chunks(int64_t n, const wino_geom *w, int t, int nt, int64_t *c0, int64_t *c1) {
    const int64_t total = n * w->t, nch = (total + w->tc - 1) / w->tc;
    *c0 = nch * t / nt;
    *c1 = nch * (t + 1) / nt;
}

/* Transformed filter into the two half planes (hs floats apart). */
static void wino_weight_store(const float *g, int flip, float *u, size_t hs) {
    float t[16];
    nns_f32_wino2x2_3x3_weight__ref(g, flip, t);
    memcpy(u, t, 8 * sizeof(float));
    memcpy(u + hs, t + 8, 8 * sizeof(float));
}

static int wino_team(const conv_params *p, const conv_dims *d) {
    double flops = 2.0 * (double)d->n * d->m * (double)d->ckg * (double)d->ohw;
    return p->nthreads > 1 && flops >= (double)(1 << 20) ? p->nthreads : 1;
}

/* Source, bias and destination of a Winograd convolution: per image,
 * src + i*src_img holds the input planes and dst + i*dst_img the output
 * planes (dst_hw floats each), added to when accumulate. */
typedef struct wino_io {
    const float *src;
    size_t src_img;
    const float *bias;
    float *dst;
    size_t dst_img, dst_hw;
    int accumulate;
} wino_io;

/* One thread's share (chunks of f's tiles) of a Winograd F(2x2, 3x3)
 * convolution from cin to cout planes with the transformed filters U
 * ([2][cout][cin][8] halves); pad, V and Mb are the thread's buffers. The
 * forward pass and the data gradient (dY through the flipped, transposed
 * filters) are both this. */
static void wino_conv_part(const nns_kernels *k, const wino_geom *f, int64_t n, int cin, int cout, const float *U,
                           const wino_io *io, float *pad, float *V, float *Mb, int t, int nt) {
    const int64_t total = n * f->t, nkc = (int64_t)cin * cout;
    const size_t pst = (size_t)f->ph * f->pw;
    int64_t c0, c1, padded = -1;
    wino_chunks(n, f, t, nt, &c0, &c1);
    for (int64_t ch = c0; ch < c1; ch++) {
        const int64_t g0 = ch * f->tc, g1 = g0 + f->tc < total ? g0 + f->tc : total;
        const int ntl = (int)(g1 - g0);
        wino_seg sg;
        int64_t g = g0;
        while (wino_seg_next(f, g1, &g, g0, &sg)) {
            if (sg.img != padded) {
                k->f32_pad2d(io->src + sg.img * io->src_img, cin, f->ih, f->iw, pad, f->ph, f->pw, f->pt, f->pl);
                padded = sg.img;
            }
            k->f32_wino2x2_3x3_input(pad, cin, pst, f->pw, f->tx, sg.t0, sg.t1, V + (size_t)sg.off * 8,
                                     (size_t)ntl * 8, (size_t)cin * ntl * 8);
        }
        for (int h = 0; h < 2; h++)
            k->f32_wgemm8(cout, ntl, cin, U + (size_t)h * nkc * 8, (ptrdiff_t)cin * 8, 8, V + (size_t)h * cin * ntl * 8,
                          (ptrdiff_t)ntl * 8, 8, Mb + (size_t)h * cout * ntl * 8, (ptrdiff_t)ntl * 8, 8, 0);
        g = g0;
        while (wino_seg_next(f, g1, &g, g0, &sg))
            k->f32_wino2x2_3x3_output(Mb + (size_t)sg.off * 8, cout, (size_t)ntl * 8, (size_t)cout * ntl * 8, f->tx,
                                      sg.t0, sg.t1, io->bias, io->dst + sg.img * io->dst_img, io->dst_hw, f->oh, f->ow,
                                      io->accumulate);
    }
}

static void wino_forward(const nns_kernels *k, const conv_params *p, const conv_dims *d, const float *X,
                         const float *W, const float *B, float *Y, float *work, const conv_ws *ws) {
    const wino_geom *f = &d->wf;
    float *U = work + ws->wt;
    const int64_t nkc = (int64_t)d->m * d->c;
    const size_t xs = (size_t)d->c * d->ihw, ys = (size_t)d->m * d->ohw;
#pragma omp parallel num_threads(wino_team(p, d))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        for (int64_t kc = nkc * t / nt; kc < nkc * (t + 1) / nt; kc++)
            wino_weight_store(W + kc * 9, 0, U + kc * 8, (size_t)nkc * 8);
#pragma omp barrier
        float *base = work + (size_t)t * ws->per_thread;
        const wino_io io = {X, xs, B, Y, ys, d->ohw, 0};
        wino_conv_part(k, f, d->n, d->c, d->m, U, &io, base + ws->xpad, base + ws->v, base + ws->m, t, nt);
    }
}

static void wino_backward(const nns_kernels *k, const conv_params *p, const conv_dims *d, const float *X,
                          const float *W, const float *dY, float *dX, int dx_write, float *dW, float *work,
                          const conv_ws *ws) {
    const wino_geom *f = &d->wf, *b = &d->wb;
    float *Ut = work + ws->wt; /* [C][M][16]: flipped, transposed */
    const int64_t nkc = (int64_t)d->m * d->c;
    const size_t xs = (size_t)d->c * d->ihw, ys = (size_t)d->m * d->ohw;
#pragma omp parallel num_threads(wino_team(p, d))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *base = work + (size_t)t * ws->per_thread;
        float *xp = base + ws->xpad, *yp = base + ws->ypad, *V = base + ws->v, *Mb = base + ws->m;
        float *dM = base + ws->dm, *part = base + ws->part;
        if (dX)
            for (int64_t kc = nkc * t / nt; kc < nkc * (t + 1) / nt; kc++) {
                const int kk = (int)(kc / d->c), c = (int)(kc % d->c);
                wino_weight_store(W + kc * 9, 1, Ut + ((size_t)c * d->m + kk) * 8, (size_t)nkc * 8);
            }
        if (dW) memset(part, 0, (size_t)nkc * 16 * sizeof(float));
#pragma omp barrier
        int64_t c0, c1, padded = -1;
        if (dW) {
            /* dU[k][c] += sum_t dM[k][t] (.) V[c][t] over this thread's tiles */
            const int64_t total = d->n * f->t;
            const size_t pst = (size_t)f->ph * f->pw;
            wino_chunks(d->n, f, t, nt, &c0, &c1);
            for (int64_t ch = c0; ch < c1; ch++) {
                const int64_t g0 = ch * f->tc, g1 = g0 + f->tc < total ? g0 + f->tc : total;
                const int ntl = (int)(g1 - g0);
                wino_seg sg;
                int64_t g = g0;
                while (wino_seg_next(f, g1, &g, g0, &sg)) {
                    if (sg.img != padded) {
                        k->f32_pad2d(X + sg.img * xs, d->c, f->ih, f->iw, xp, f->ph, f->pw, f->pt, f->pl);
                        padded = sg.img;
                    }
                    k->f32_wino2x2_3x3_input(xp, d->c, pst, f->pw, f->tx, sg.t0, sg.t1, V + (size_t)sg.off * 8,
                                             (size_t)ntl * 8, (size_t)d->c * ntl * 8);
                    k->f32_wino2x2_3x3_outgrad(dY + sg.img * ys, d->m, d->ohw, f->oh, f->ow, f->tx, sg.t0, sg.t1,
                                               dM + (size_t)sg.off * 8, (size_t)ntl * 8, (size_t)d->m * ntl * 8);
                }
                for (int h = 0; h < 2; h++)
                    k->f32_wgemm8(d->m, d->c, ntl, dM + (size_t)h * d->m * ntl * 8, (ptrdiff_t)ntl * 8, 8,
                                  V + (size_t)h * d->c * ntl * 8, 8, (ptrdiff_t)ntl * 8, part + (size_t)h * nkc * 8,
                                  (ptrdiff_t)d->c * 8, 8, 1);
            }
        }
        if (dX) {
            const wino_io io = {dY, ys, NULL, dX, xs, d->ihw, !dx_write};
            wino_conv_part(k, b, d->n, d->m, d->c, Ut, &io, yp, V, Mb, t, nt);
        }
        if (dW) {
#pragma omp barrier
            /* dW += G^T (sum of the partials in thread order) G */
            for (int64_t kc = nkc * t / nt; kc < nkc * (t + 1) / nt; kc++) {
                float du[16];
                for (int x = 0; x < 16; x++) du[x] = 0.0f;
                for (int u = 0; u < nt; u++) {
                    const float *pp = work + (size_t)u * ws->per_thread + ws->part + kc * 8;
                    for (int x = 0; x < 8; x++) du[x] += pp[x];
                    for (int x = 0; x < 8; x++) du[8 + x] += pp[(size_t)nkc * 8 + x];
                }
                nns_f32_wino2x2_3x3_weight_grad__ref(du, dW + kc * 9);
            }
        }
    }
}

/* ---- im2col + GEMM, several images per GEMM ------------------------- */

/* Columns of images [n0, n0 + nb), group g, side by side (row stride
 * nb*ohw). */
static void im2col_images(const conv_dims *d, const nns_kernels *k, const float *X, int64_t n0, int nb, int g,
                          float *col) {
    const size_t xs = (size_t)d->c * d->ihw, ldc = (size_t)nb * d->ohw;
    for (int j = 0; j < nb; j++)
        k->f32_im2col(&d->g, d->cg, X + (size_t)(n0 + j) * xs + (size_t)g * d->cg * d->ihw, col + (size_t)j * d->ohw,
                      ldc);
}

static void im2col_forward_images(const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                                  const float *B, float *Y, float *base, const conv_ws *ws, int64_t i0, int64_t i1) {
    float *col = base + ws->col, *yb = base + ws->yb;
    const size_t ys = (size_t)d->m * d->ohw;
    for (int64_t n0 = i0; n0 < i1; n0 += d->ib) {
        const int nb = (int)(i1 - n0 < d->ib ? i1 - n0 : d->ib);
        const int ldc = (int)((size_t)nb * d->ohw);
        for (int g = 0; g < d->group; g++) {
            im2col_images(d, k, X, n0, nb, g, col);
            /* One image: straight into Y; several: via yb. */
            float *out = nb == 1 ? Y + (size_t)n0 * ys + (size_t)g * d->mg * d->ohw : yb;
            if (ldc == 1) /* one output pixel: a GEMV streams W once (sgemm would pack it) */
                cblas_sgemv(CblasRowMajor, CblasNoTrans, d->mg, (int)d->ckg, 1.0f, W + (size_t)g * d->mg * d->ckg,
                            (int)d->ckg, col, 1, 0.0f, out, 1);
            else
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->mg, ldc, (int)d->ckg, 1.0f,
                            W + (size_t)g * d->mg * d->ckg, (int)d->ckg, col, ldc, 0.0f, out, ldc);
            for (int j = 0; j < nb; j++)
                for (int m = 0; m < d->mg; m++) {
                    const float bv = B ? B[g * d->mg + m] : 0.0f;
                    float *dst = Y + (size_t)(n0 + j) * ys + (size_t)(g * d->mg + m) * d->ohw;
                    const float *src = out + (size_t)m * ldc + (size_t)j * d->ohw;
                    /* one pass: the copy out of yb, the bias and the activation */
                    if (d->act == NNS_FUSE_ACT_RELU) {
#pragma omp simd
                        for (size_t q = 0; q < d->ohw; q++)
                            dst[q] = nns_fuse_act_apply(src[q] + bv, NNS_FUSE_ACT_RELU, 0, 0);
                    } else if (d->act == NNS_FUSE_ACT_CLIP) {
                        const float lo = d->lo, hi = d->hi;
#pragma omp simd
                        for (size_t q = 0; q < d->ohw; q++)
                            dst[q] = nns_fuse_act_apply(src[q] + bv, NNS_FUSE_ACT_CLIP, lo, hi);
                    } else if (bv == 0.0f) {
                        if (src != dst) memcpy(dst, src, d->ohw * sizeof(float));
                    } else {
                        for (size_t q = 0; q < d->ohw; q++) dst[q] = src[q] + bv;
                    }
                }
        }
    }
}

/* Backward of images [i0, i1): dw (beta 0 on the first GEMM of each group
 * when overwrite) and dX. */
static void im2col_backward_images(const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                                   const float *dY, float *dX, int dx_write, float *dw, int overwrite, float *base,
                                   const conv_ws *ws, int64_t i0, int64_t i1) {
    float *col = base + ws->col, *yb = base + ws->yb;
    const size_t xs = (size_t)d->c * d->ihw, ys = (size_t)d->m * d->ohw;
    for (int64_t n0 = i0; n0 < i1; n0 += d->ib) {
        const int nb = (int)(i1 - n0 < d->ib ? i1 - n0 : d->ib);
        const int ldc = (int)((size_t)nb * d->ohw);
        for (int g = 0; g < d->group; g++) {
            /* dY of the batch side by side (in place for one image) */
            const float *dyb = dY + (size_t)n0 * ys + (size_t)g * d->mg * d->ohw;
            if (nb > 1) {
                for (int j = 0; j < nb; j++)
                    for (int m = 0; m < d->mg; m++)
                        memcpy(yb + (size_t)m * ldc + (size_t)j * d->ohw,
                               dY + (size_t)(n0 + j) * ys + (size_t)(g * d->mg + m) * d->ohw, d->ohw * sizeof(float));
                dyb = yb;
            }
            const float *wg = W + (size_t)g * d->mg * d->ckg;
            if (dw) {
                im2col_images(d, k, X, n0, nb, g, col);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->mg, (int)d->ckg, ldc, 1.0f, dyb, ldc, col,
                            ldc, overwrite && n0 == i0 ? 0.0f : 1.0f, dw + (size_t)g * d->mg * d->ckg, (int)d->ckg);
            }
            if (dX) {
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d->ckg, ldc, d->mg, 1.0f, wg, (int)d->ckg,
                            dyb, ldc, 0.0f, col, ldc);
                for (int j = 0; j < nb; j++) {
                    float *dxg = dX + (size_t)(n0 + j) * xs + (size_t)g * d->cg * d->ihw;
                    if (dx_write) memset(dxg, 0, (size_t)d->cg * d->ihw * sizeof(float));
                    k->f32_col2im(&d->g, d->cg, col + (size_t)j * d->ohw, (size_t)ldc, dxg);
                }
            }
        }
    }
}

/* ---- 1x1, stride 1, no padding: GEMMs on X itself ---------------------- */

static void pw_forward_image(const conv_dims *d, const float *x, const float *w, const float *b, float *y) {
    for (int g = 0; g < d->group; g++) {
        float *yg = y + (size_t)g * d->mg * d->ohw;
        float beta = 0.0f;
        if (b) {
            for (int m = 0; m < d->mg; m++) {
                const float bv = b[g * d->mg + m];
                float *row = yg + (size_t)m * d->ohw;
                for (size_t q = 0; q < d->ohw; q++) row[q] = bv;
            }
            beta = 1.0f;
        }
        if (d->ohw == 1)
            cblas_sgemv(CblasRowMajor, CblasNoTrans, d->mg, d->cg, 1.0f, w + (size_t)g * d->mg * d->cg, d->cg,
                        x + (size_t)g * d->cg * d->ihw, 1, beta, yg, 1);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->mg, (int)d->ohw, d->cg, 1.0f,
                        w + (size_t)g * d->mg * d->cg, d->cg, x + (size_t)g * d->cg * d->ihw, (int)d->ohw, beta,
                        yg, (int)d->ohw);
    }
}

static void pw_backward_image(const conv_dims *d, const float *x, const float *w, const float *dy, float *dx,
                              int dx_write, float *dw, int overwrite) {
    for (int g = 0; g < d->group; g++) {
        const float *xg = x + (size_t)g * d->cg * d->ihw, *wg = w + (size_t)g * d->mg * d->cg;
        const float *dyg = dy + (size_t)g * d->mg * d->ohw;
        if (dw)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d->mg, d->cg, (int)d->ohw, 1.0f, dyg, (int)d->ohw,
                        xg, (int)d->ohw, overwrite ? 0.0f : 1.0f, dw + (size_t)g * d->mg * d->cg, d->cg);
        if (dx)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d->cg, (int)d->ohw, d->mg, 1.0f, wg, d->cg, dyg,
                        (int)d->ohw, dx_write ? 0.0f : 1.0f, dx + (size_t)g * d->cg * d->ihw, (int)d->ihw);
    }
}

/* ---- forward / backward ----------------------------------------------- */

/* Sum of a row with 8 independent lanes (vectorisable without reordering
 * flags; a single running sum is one add per 3-4 cycles), fixed order. */
static float conv_row_sum(const float *x, size_t n) {
    float acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k];
    float s = 0.0f;
    for (; i < n; i++) s += x[i];
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* The activation over all of Y, in parallel (paths whose kernels do not
 * apply it as they write). */
static void conv_act_all(const conv_params *p, const conv_dims *d, float *Y) {
    const int64_t n = d->n * d->m * (int64_t)d->ohw, chunk = 16384;
    const int64_t nch = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) num_threads(p->nthreads) if (n > NNS_OMP_MIN_ELEMS)
    for (int64_t c = 0; c < nch; c++) {
        const int64_t a = c * chunk, b = a + chunk < n ? a + chunk : n;
        conv_act_rows(Y + a, (size_t)(b - a), d->act, d->lo, d->hi);
    }
}

/* Fold the BatchNormalization that follows (inference): y = (W x + b) * fa + fb
 * with fa = scale / sqrt(var + eps), fb = B - mean * fa, as batchnorm.c
 * computes them; W' = W * fa, b' = b * fa + fb per output channel. */
static void conv_fold_bn(const nns_exec_node *e, const conv_dims *d, const float *W, const float *B, float *wf,
                         float *bf) {
    const nns_exec_node *bn = e->fold_bn;
    const float *scale = bn->in[1]->data, *bias = bn->in[2]->data, *mean = bn->in[3]->data, *var = bn->in[4]->data;
    const double eps = (double)nns_batchnorm_eps(bn->params);
    const size_t per = d->wsize / (size_t)d->m;
    for (int m = 0; m < d->m; m++) {
        const float inv = (float)(1.0 / sqrt((double)var[m] + eps));
        const float fa = scale[m] * inv, fb = bias[m] - mean[m] * fa;
        for (size_t j = 0; j < per; j++) wf[(size_t)m * per + j] = W[(size_t)m * per + j] * fa;
        bf[m] = (B ? B[m] : 0.0f) * fa + fb;
    }
}

static void conv_forward(nns_exec_node *e) {
    const conv_params *p = e->params;
    conv_dims d;
    conv_dims_rt(e, &d);
    const float *X = e->in[0]->data, *W = e->in[1]->data;
    const float *B = e->n_in > 2 && e->in[2] ? e->in[2]->data : NULL;
    float *Y = e->out[0]->data;
    conv_ws ws;
    conv_ws_make(&d, p->nthreads, 0, &ws);
    float *work = e->work;
    const nns_kernels *k = e->kern;
    d.act = e->training ? NNS_FUSE_ACT_NONE : e->fold_bn ? e->fuse_act : NNS_FUSE_ACT_NONE;
    d.lo = e->fuse_lo;
    d.hi = e->fuse_hi;
    if (e->fold_bn && !e->training) {
        float *wf = work + ws.fold, *bf = wf + r16(d.wsize);
        conv_fold_bn(e, &d, W, B, wf, bf);
        W = wf;
        B = bf;
    }
    if (d.algo == CONV_ALGO_DW) {
        /* Threads take contiguous image ranges (memory in order), or
         * channel ranges when there are fewer images than threads. */
        const size_t cs = (size_t)d.c * d.ihw, ys = (size_t)d.c * d.ohw;
#pragma omp parallel num_threads(conv_dw_team(p, &d, d.n * d.c))
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            float *scr = work + (size_t)t * ws.per_thread;
            if (d.n >= nt) {
                const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
                if (!d.act) {
                    if (i1 > i0)
                        k->f32_dwconv2d(&d.g, (int)(i1 - i0), d.c, X + (size_t)i0 * cs, cs, W, B, Y + (size_t)i0 * ys,
                                        ys, scr);
                } else
                    for (int64_t i = i0; i < i1; i++) { /* the activation while the image is in cache */
                        k->f32_dwconv2d(&d.g, 1, d.c, X + (size_t)i * cs, cs, W, B, Y + (size_t)i * ys, ys, scr);
                        conv_act_rows(Y + (size_t)i * ys, ys, d.act, d.lo, d.hi);
                    }
            } else {
                const int c0 = (int)((int64_t)d.c * t / nt), c1 = (int)((int64_t)d.c * (t + 1) / nt);
                if (c1 > c0) {
                    k->f32_dwconv2d(&d.g, (int)d.n, c1 - c0, X + (size_t)c0 * d.ihw, cs, W + (size_t)c0 * d.kk,
                                    B ? B + c0 : NULL, Y + (size_t)c0 * d.ohw, ys, scr);
                    for (int64_t i = 0; i < d.n; i++)
                        conv_act_rows(Y + (size_t)i * ys + (size_t)c0 * d.ohw, (size_t)(c1 - c0) * d.ohw, d.act, d.lo,
                                      d.hi);
                }
            }
        }
        return;
    }
    if (d.algo == CONV_ALGO_WINO) {
        wino_forward(k, p, &d, X, W, B, Y, work, &ws);
        if (d.act) conv_act_all(p, &d, Y);
        return;
    }
    const size_t xs = (size_t)d.c * d.ihw, ys = (size_t)d.m * d.ohw;
    const int team = conv_team(p, &d);
    if (conv_is_1ch(&d)) {
#pragma omp parallel num_threads(team)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
            for (int64_t i = i0; i < i1; i++) { /* the activation while the image is in cache */
                k->f32_conv2d_1ch(&d.g, 1, d.m, X + (size_t)i * xs, xs, W, B, Y + (size_t)i * ys, ys,
                                  work + (size_t)t * ws.per_thread);
                conv_act_rows(Y + (size_t)i * ys, ys, d.act, d.lo, d.hi);
            }
        }
        return;
    }
    if (team == 1) {
        if (d.algo == CONV_ALGO_IM2COL) im2col_forward_images(&d, k, X, W, B, Y, work, &ws, 0, d.n);
        else
            for (int64_t i = 0; i < d.n; i++) {
                pw_forward_image(&d, X + i * xs, W, B, Y + i * ys);
                conv_act_rows(Y + i * ys, ys, d.act, d.lo, d.hi);
            }
        return;
    }
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
        if (d.algo == CONV_ALGO_IM2COL)
            im2col_forward_images(&d, k, X, W, B, Y, work + (size_t)t * ws.per_thread, &ws, i0, i1);
        else
            for (int64_t i = i0; i < i1; i++) {
                pw_forward_image(&d, X + i * xs, W, B, Y + i * ys);
                conv_act_rows(Y + i * ys, ys, d.act, d.lo, d.hi);
            }
    }
}

static void conv_backward(nns_exec_node *e) {
    const conv_params *p = e->params;
    const float *dY = e->out[0]->grad;
    if (!dY) return;
    conv_dims d;
    conv_dims_rt(e, &d);
    const float *X = e->in[0]->data, *W = e->in[1]->data;
    float *dX = e->in[0]->grad, *dW = e->in[1]->grad;
    float *dB = e->n_in > 2 && e->in[2] ? e->in[2]->grad : NULL;
    /* dX written rather than accumulated (nns_exec_node.grad_overwrite) */
    const int dx_write = dX && (e->grad_overwrite & 1u);
    float *work = e->work;
    conv_ws ws;
    conv_ws_make(&d, p->nthreads, 1, &ws);
    const nns_kernels *k = e->kern;
    if (d.algo == CONV_ALGO_DW) {
        if (!dX && !dW && !dB) return;
        const size_t cs = (size_t)d.c * d.ihw, ys = (size_t)d.c * d.ohw, np = d.wsize + (size_t)d.c;
#pragma omp parallel num_threads(conv_dw_team(p, &d, d.n * d.c))
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            float *scr = work + (size_t)t * ws.per_thread;
            if (d.n >= nt) {
                /* Image ranges; weight and bias gradients into per-thread
                 * partials (when several threads), summed in thread order. */
                const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
                float *part = scr + ws.part;
                float *pw = nt > 1 ? (dW ? part : NULL) : dW, *pb = nt > 1 ? (dB ? part + d.wsize : NULL) : dB;
                if (nt > 1) memset(part, 0, np * sizeof(float));
                if (dx_write && i1 > i0) memset(dX + (size_t)i0 * cs, 0, (size_t)(i1 - i0) * cs * sizeof(float));
                if (i1 > i0)
                    k->f32_dwconv2d_bwd(&d.g, (int)(i1 - i0), d.c, X + (size_t)i0 * cs, cs, dY + (size_t)i0 * ys, ys, W,
                                        dX ? dX + (size_t)i0 * cs : NULL, cs, pw, pb, scr);
                if (nt > 1 && (dW || dB)) {
#pragma omp barrier
                    for (size_t q = np * t / nt; q < np * (t + 1) / nt; q++) {
                        float s = 0.0f;
                        for (int u = 0; u < nt; u++) s += work[(size_t)u * ws.per_thread + ws.part + q];
                        if (q < d.wsize) {
                            if (dW) dW[q] += s;
                        } else if (dB) {
                            dB[q - d.wsize] += s;
                        }
                    }
                }
            } else {
                const int c0 = (int)((int64_t)d.c * t / nt), c1 = (int)((int64_t)d.c * (t + 1) / nt);
                if (dx_write && c1 > c0)
                    for (int64_t i = 0; i < d.n; i++)
                        memset(dX + (size_t)i * cs + (size_t)c0 * d.ihw, 0, (size_t)(c1 - c0) * d.ihw * sizeof(float));
                if (c1 > c0)
                    k->f32_dwconv2d_bwd(&d.g, (int)d.n, c1 - c0, X + (size_t)c0 * d.ihw, cs, dY + (size_t)c0 * d.ohw, ys,
                                        W + (size_t)c0 * d.kk, dX ? dX + (size_t)c0 * d.ihw : NULL, cs,
                                        dW ? dW + (size_t)c0 * d.kk : NULL, dB ? dB + c0 : NULL, scr);
            }
        }
        return;
    }
    const size_t xs = (size_t)d.c * d.ihw, ys = (size_t)d.m * d.ohw;
    if (dB) {
#pragma omp parallel for schedule(static) num_threads(p->nthreads) if (d.m > 1 && d.n * ys > 32768)
        for (int m = 0; m < d.m; m++) {
            float s = 0.0f;
            for (int64_t i = 0; i < d.n; i++) s += conv_row_sum(dY + i * ys + (size_t)m * d.ohw, d.ohw);
            dB[m] += s;
        }
    }
    if (!dX && !dW) return;
    if (d.algo == CONV_ALGO_WINO) {
        wino_backward(k, p, &d, X, W, dY, dX, dx_write, dW, work, &ws);
        return;
    }
    const int team = conv_team(p, &d);
    if (!dX && conv_is_1ch(&d) && nns_f32_dwconv2d_scratch_floats(&d.g) <= (ws.part ? ws.part : ws.per_thread)) {
        /* One input channel and no data gradient (a first layer): dW[m] is
         * the depthwise weight gradient of the image plane against dY's
         * channel m; image ranges per thread, partials summed in order. */
#pragma omp parallel num_threads(team)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
            float *base = work + (size_t)t * ws.per_thread;
            float *dw = nt > 1 ? base + ws.part : dW;
            if (nt > 1) memset(dw, 0, d.wsize * sizeof(float));
            if (i1 > i0)
                for (int m = 0; m < d.m; m++)
                    k->f32_dwconv2d_bwd(&d.g, (int)(i1 - i0), 1, X + (size_t)i0 * xs, xs,
                                        dY + (size_t)i0 * ys + (size_t)m * d.ohw, ys, W + (size_t)m * d.kk, NULL, 0,
                                        dw + (size_t)m * d.kk, NULL, base);
            if (nt > 1) {
#pragma omp barrier
                conv_reduce_partials(&d, &ws, work, dW, t, nt);
            }
        }
        return;
    }
    if (team == 1) {
        if (d.algo == CONV_ALGO_IM2COL) im2col_backward_images(&d, k, X, W, dY, dX, dx_write, dW, 0, work, &ws, 0, d.n);
        else
            for (int64_t i = 0; i < d.n; i++) pw_backward_image(&d, X + i * xs, W, dY + i * ys, dX ? dX + i * xs : NULL, dx_write, dW, 0);
        return;
    }
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t i0 = d.n * t / nt, i1 = d.n * (t + 1) / nt;
        float *base = work + (size_t)t * ws.per_thread;
        float *part = dW ? base + ws.part : NULL;
        if (d.algo == CONV_ALGO_IM2COL)
            im2col_backward_images(&d, k, X, W, dY, dX, dx_write, part, 1, base, &ws, i0, i1);
        else
            for (int64_t i = i0; i < i1; i++)
                pw_backward_image(&d, X + i * xs, W, dY + i * ys, dX ? dX + i * xs : NULL, dx_write, part, i == i0);
        if (dW) {
#pragma omp barrier
            conv_reduce_partials(&d, &ws, work, dW, t, nt);
        }
    }
}

const nns_op_def nns_op_conv = {
    .name = "Conv",
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(conv_params),
    .prepare = conv_prepare,
    .infer = conv_infer,
    .work_bytes = conv_work_bytes,
    .forward = conv_forward,
    .backward = conv_backward,
    .grad_overwrite_inputs = 1u << 0,
};
