/* conv_wino.c — Conv by Winograd F(2x2,3x3): forward, data gradient (the
 * same convolution of dY with the flipped, transposed filters) and weight
 * gradient in the transformed domain, with the wgemm8 kernel. */
#include "ops/conv_impl.h"

void nns_conv_wino_geom_make(int ih, int iw, int oh, int ow, int pt, int pl, int cin, int cout, wino_geom *w) {
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

/* Thread t's tiles [*g0, *g1) of nt equal shares of the batch's, and the
 * chunk length that walks them in the fewest chunks of at most w->tc tiles,
 * all about equally long (a multiple of 4). Equal shares of tiles, not of
 * chunks: ResNet-18's 16x16 planes at batch 1 (64 tiles in chunks of 24)
 * gave one thread 24 tiles and the other 40. */
static int64_t wino_range(int64_t n, const wino_geom *w, int t, int nt, int64_t *g0, int64_t *g1) {
    const int64_t total = n * w->t;
    *g0 = total * t / nt;
    *g1 = total * (t + 1) / nt;
    const int64_t len = *g1 - *g0, nch = (len + w->tc - 1) / w->tc;
    const int64_t step = nch ? ((len + nch - 1) / nch + 3) & ~(int64_t)3 : w->tc;
    return step < w->tc ? step : w->tc;
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
    int act;         /* NNS_FUSE_ACT_*: applied to each segment's outputs as they are written */
    float lo, hi;
} wino_io;

/* The activation on the outputs of tiles [t0, t1) of one image's cout
 * planes (exactly those: another thread may be writing the rest of a tile
 * row), while they are in cache. */
static void wino_segment_act(const wino_geom *f, const wino_io *io, int cout, int64_t img, int t0, int t1) {
    float *y = io->dst + img * io->dst_img;
    const int ty0 = t0 / f->tx, ty1 = (t1 - 1) / f->tx;
    for (int c = 0; c < cout; c++, y += io->dst_hw)
        for (int ty = ty0; ty <= ty1; ty++) {
            const int x0 = ty == ty0 ? 2 * (t0 % f->tx) : 0, x1e = ty == ty1 ? 2 * ((t1 - 1) % f->tx) + 2 : f->ow;
            const int x1 = x1e < f->ow ? x1e : f->ow;
            for (int r = 2 * ty; r < 2 * ty + 2 && r < f->oh && x1 > x0; r++)
                nns_fuse_act_rows(y + (size_t)r * f->ow + x0, (size_t)(x1 - x0), io->act, io->lo, io->hi);
        }
}

/* One thread's share (chunks of f's tiles) of a Winograd F(2x2, 3x3)
 * convolution from cin to cout planes with the transformed filters U
 * ([2][cout][cin][8] halves); pad, V and Mb are the thread's buffers. The
 * forward pass and the data gradient (dY through the flipped, transposed
 * filters) are both this. */
static void wino_conv_part(const nns_kernels *k, const wino_geom *f, int64_t n, int cin, int cout, const float *U,
                           const wino_io *io, float *pad, float *V, float *Mb, int t, int nt) {
    const int64_t nkc = (int64_t)cin * cout;
    const size_t pst = (size_t)f->ph * f->pw;
    int64_t lo, hi, padded = -1;
    const int64_t step = wino_range(n, f, t, nt, &lo, &hi);
    for (int64_t g0 = lo; g0 < hi; g0 += step) {
        const int64_t g1 = g0 + step < hi ? g0 + step : hi;
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
        while (wino_seg_next(f, g1, &g, g0, &sg)) {
            k->f32_wino2x2_3x3_output(Mb + (size_t)sg.off * 8, cout, (size_t)ntl * 8, (size_t)cout * ntl * 8, f->tx,
                                      sg.t0, sg.t1, io->bias, io->dst + sg.img * io->dst_img, io->dst_hw, f->oh, f->ow,
                                      io->accumulate);
            if (io->act) wino_segment_act(f, io, cout, sg.img, sg.t0, sg.t1);
        }
    }
}

void nns_conv_wino_pack(const conv_dims *d, const float *W, float *U) {
    const int64_t nkc = (int64_t)d->m * d->c;
    for (int64_t kc = 0; kc < nkc; kc++) wino_weight_store(W + kc * 9, 0, U + kc * 8, (size_t)nkc * 8);
}

void nns_conv_wino_forward(const nns_kernels *k, const conv_params *p, const conv_dims *d, const float *X,
                         const float *W, const float *Upacked, const float *B, float *Y, float *work,
                         const conv_ws *ws) {
    const wino_geom *f = &d->wf;
    float *Uw = work + ws->wt;
    const float *U = Upacked ? Upacked : Uw;
    const int64_t nkc = (int64_t)d->m * d->c;
    const size_t xs = (size_t)d->c * d->ihw, ys = (size_t)d->m * d->ohw;
#pragma omp parallel num_threads(wino_team(p, d))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        if (!Upacked) {
            for (int64_t kc = nkc * t / nt; kc < nkc * (t + 1) / nt; kc++)
                wino_weight_store(W + kc * 9, 0, Uw + kc * 8, (size_t)nkc * 8);
#pragma omp barrier
        }
        float *base = work + (size_t)t * ws->per_thread;
        const wino_io io = {X, xs, B, Y, ys, d->ohw, 0, d->act, d->lo, d->hi};
        wino_conv_part(k, f, d->n, d->c, d->m, U, &io, base + ws->xpad, base + ws->v, base + ws->m, t, nt);
    }
}

void nns_conv_wino_backward(const nns_kernels *k, const conv_params *p, const conv_dims *d, const float *X,
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
        int64_t padded = -1;
        if (dW) {
            /* dU[k][c] += sum_t dM[k][t] (.) V[c][t] over this thread's tiles */
            const size_t pst = (size_t)f->ph * f->pw;
            int64_t lo, hi;
            const int64_t step = wino_range(d->n, f, t, nt, &lo, &hi);
            for (int64_t g0 = lo; g0 < hi; g0 += step) {
                const int64_t g1 = g0 + step < hi ? g0 + step : hi;
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
            const wino_io io = {dY, ys, NULL, dX, xs, d->ihw, !dx_write, NNS_FUSE_ACT_NONE, 0.0f, 0.0f};
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

