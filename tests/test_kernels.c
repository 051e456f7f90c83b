/* test_kernels.c — every ISA variant of kernel_list.h that this CPU can run
 * against its scalar reference on random shapes (a family needs a
 * test_<family> function here, or this file does not compile); the tables of
 * every level filled by the registry's rule; CPU features detected bit by
 * bit (against /proc/cpuinfo); NNS_ISA forcing a lower level;
 * im2col/col2im adjointness. */
#include <stdlib.h>
#include <string.h>

#include "core/qmath.h"
#include "core/rng.h"
#include "kernels/kernels.h"
#include "nnslim/runtime.h"
#include "testutil.h"

static uint64_t rng = 12345;
static const char *cur_variant = "?"; /* the symbol under test, for messages */

/* Uniform in [lo, hi]; the span is computed in 64 bits (hi - lo may not fit an int). */
static int rnd(int lo, int hi) {
    return (int)((int64_t)lo + (int64_t)nns_rng_below(&rng, (uint64_t)((int64_t)hi - lo + 1)));
}

static void fill(float *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = 2.0f * nns_rng_uniform(&rng) - 1.0f;
}

/* A random valid geometry (output at least 1x1). */
static nns_conv2d_geom random_geom(int max_in) {
    nns_conv2d_geom g;
    for (;;) {
        g.ih = rnd(1, max_in);
        g.iw = rnd(1, max_in);
        g.kh = rnd(1, 5);
        g.kw = rnd(1, 5);
        g.sh = rnd(1, 3);
        g.sw = rnd(1, 3);
        g.dh = rnd(1, 3);
        g.dw = rnd(1, 3);
        g.pt = rnd(0, 3);
        g.pl = rnd(0, 3);
        int pb = rnd(0, 3), pr = rnd(0, 3);
        int eh = (g.kh - 1) * g.dh + 1, ew = (g.kw - 1) * g.dw + 1;
        int nh = g.ih + g.pt + pb - eh, nw = g.iw + g.pl + pr - ew;
        if (nh < 0 || nw < 0) continue;
        g.oh = nh / g.sh + 1;
        g.ow = nw / g.sw + 1;
        return g;
    }
}

static double max_rel_err(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (!(e <= m)) m = e; /* NaN propagates */
    }
    return m;
}

static void test_dwconv(const nns_kernels *k, int iters) {
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = random_geom(it < iters / 2 ? 12 : 40);
        const int n = rnd(1, 3), nc = rnd(1, 3);
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow, taps = (size_t)g.kh * g.kw;
        /* image strides leave a gap after each image's planes */
        const size_t xs = nc * ihw + (size_t)rnd(0, 5), ys = nc * ohw + (size_t)rnd(0, 5);
        size_t scr_n = nns_f32_dwconv2d_scratch_floats(&g);
        float *scr = aligned_alloc(64, ((scr_n * sizeof(float)) + 63) / 64 * 64);
        float *x = malloc(xs * n * sizeof(float)), *w = malloc(nc * taps * sizeof(float));
        float *y1 = malloc(ys * n * sizeof(float)), *y2 = malloc(ys * n * sizeof(float));
        float *dy = malloc(ys * n * sizeof(float));
        float *dx1 = malloc(xs * n * sizeof(float)), *dx2 = malloc(xs * n * sizeof(float));
        float dw1[3 * 25], dw2[3 * 25], db1[3], db2[3], bias[3];
        fill(x, xs * n);
        fill(w, nc * taps);
        fill(dy, ys * n);
        fill(dx1, xs * n);
        fill(y1, ys * n);
        fill(bias, 3);
        memcpy(dx2, dx1, xs * n * sizeof(float));
        for (size_t t = 0; t < nc * taps; t++) dw1[t] = dw2[t] = 0.5f;
        for (int c = 0; c < 3; c++) db1[c] = db2[c] = -0.25f;
        const float *b = it % 3 ? bias : NULL;
        /* Poison the scratch: kernels must not depend on its contents. */
        for (size_t i = 0; i < scr_n; i++) scr[i] = NAN;
        ref->f32_dwconv2d(&g, n, nc, x, xs, w, b, y1, ys, scr);
        for (size_t i = 0; i < scr_n; i++) scr[i] = NAN;
        for (size_t i = 0; i < ys * n; i++) y2[i] = y1[i] + 1.0f;
        for (int bb = 0; bb < n; bb++) /* planes only: the gaps keep y1 + 1 */
            for (size_t i = 0; i < nc * ohw; i++) y2[bb * ys + i] = 0.0f;
        k->f32_dwconv2d(&g, n, nc, x, xs, w, b, y2, ys, scr);
        double e = 0;
        for (int bb = 0; bb < n; bb++) {
            double eb = max_rel_err(y2 + bb * ys, y1 + bb * ys, nc * ohw);
            if (eb > e) e = eb;
            for (size_t i = nc * ohw; i < ys; i++) /* the gap after each image is untouched */
                if (y2[bb * ys + i] != y1[bb * ys + i] + 1.0f) e = 1;
        }
        CHECK_MSG(e < 1e-5, "%s dwconv2d fwd (n %d, nc %d): ih%d iw%d k%dx%d s%d,%d d%d,%d p%d,%d -> %dx%d: err %g",
                  cur_variant, n, nc, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow, e);
        /* Backward: all outputs, then with dx / dw / db omitted in turn. */
        int mode = it % 4;
        float *pdx1 = mode == 1 ? NULL : dx1, *pdx2 = mode == 1 ? NULL : dx2;
        float *pdw1 = mode == 2 ? NULL : dw1, *pdw2 = mode == 2 ? NULL : dw2;
        float *pdb1 = mode == 3 ? NULL : db1, *pdb2 = mode == 3 ? NULL : db2;
        for (size_t i = 0; i < scr_n; i++) scr[i] = NAN;
        ref->f32_dwconv2d_bwd(&g, n, nc, x, xs, dy, ys, w, pdx1, xs, pdw1, pdb1, scr);
        for (size_t i = 0; i < scr_n; i++) scr[i] = NAN;
        k->f32_dwconv2d_bwd(&g, n, nc, x, xs, dy, ys, w, pdx2, xs, pdw2, pdb2, scr);
        double edx = 0, edw, edb;
        for (int bb = 0; bb < n; bb++) {
            double eb = max_rel_err(dx2 + bb * xs, dx1 + bb * xs, nc * ihw);
            if (eb > edx) edx = eb;
            for (size_t i = nc * ihw; i < xs; i++)
                if (dx1[bb * xs + i] != dx2[bb * xs + i]) edx = 1;
        }
        edw = max_rel_err(dw2, dw1, nc * taps);
        edb = max_rel_err(db2, db1, nc);
        CHECK_MSG(edx < 1e-5 && edw < 1e-4 && edb < 1e-4,
                  "%s dwconv2d bwd (mode %d, n %d, nc %d): ih%d iw%d k%dx%d s%d,%d d%d,%d p%d,%d -> %dx%d: dx %g dw %g db %g",
                  cur_variant, mode, n, nc, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh,
                  g.ow, edx, edw, edb);
        free(scr); free(x); free(w); free(y1); free(y2); free(dy); free(dx1); free(dx2);
    }
}

/* 3x3, stride 2, dilation 1 (the AVX2 kernel's direct path): random sizes
 * and paddings, image and channel strides with gaps, against the
 * reference. */
static void test_dwconv_3x3s2(const nns_kernels *k, int iters) {
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = {0};
        g.kh = g.kw = 3;
        g.sh = g.sw = 2;
        g.dh = g.dw = 1;
        g.ih = rnd(1, 40);
        g.iw = rnd(1, it % 5 ? 40 : 90);
        g.pt = rnd(0, 2);
        g.pl = rnd(0, 2);
        int pb = rnd(0, 2), pr = rnd(0, 2);
        int nh = g.ih + g.pt + pb - 3, nw = g.iw + g.pl + pr - 3;
        if (nh < 0 || nw < 0) continue;
        g.oh = nh / 2 + 1;
        g.ow = nw / 2 + 1;
        const int n = rnd(1, 3), nc = rnd(1, 3);
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        const size_t xs = nc * ihw + (size_t)rnd(0, 5), ys = nc * ohw + (size_t)rnd(0, 5);
        size_t scr_n = nns_f32_dwconv2d_scratch_floats(&g);
        float *scr = aligned_alloc(64, ((scr_n * sizeof(float)) + 63) / 64 * 64);
        float *x = malloc(xs * n * sizeof(float)), *w = malloc(nc * 9 * sizeof(float));
        float *y1 = malloc(ys * n * sizeof(float)), *y2 = malloc(ys * n * sizeof(float));
        float bias[3];
        fill(x, xs * n);
        fill(w, nc * 9);
        fill(bias, 3);
        fill(y1, ys * n);
        memcpy(y2, y1, ys * n * sizeof(float)); /* the gaps must stay as they are */
        const float *b = it % 3 ? bias : NULL;
        ref->f32_dwconv2d(&g, n, nc, x, xs, w, b, y1, ys, scr);
        k->f32_dwconv2d(&g, n, nc, x, xs, w, b, y2, ys, scr);
        double e = max_rel_err(y2, y1, ys * n);
        CHECK_MSG(e < 1e-5, "%s dwconv2d 3x3 s2 (n %d, nc %d): %dx%d p%d,%d,%d,%d -> %dx%d: err %g",
                  cur_variant, n, nc, g.ih, g.iw, g.pt, g.pl, pb, pr, g.oh, g.ow, e);
        /* backward: dx, dw and db accumulate onto what is there; each may be
         * absent (mode) */
        float *dy = y1, *dx1 = malloc(xs * n * sizeof(float)), *dx2 = malloc(xs * n * sizeof(float));
        float dw1[27], dw2[27], db1[3], db2[3];
        fill(dy, ys * n);
        fill(dx1, xs * n);
        memcpy(dx2, dx1, xs * n * sizeof(float));
        for (int t = 0; t < 27; t++) dw1[t] = dw2[t] = 0.5f;
        for (int c = 0; c < 3; c++) db1[c] = db2[c] = -0.25f;
        const int mode = it % 4; /* 0 all, 1 no dx, 2 no dw, 3 no db */
        ref->f32_dwconv2d_bwd(&g, n, nc, x, xs, dy, ys, w, mode == 1 ? NULL : dx1, xs, mode == 2 ? NULL : dw1,
                              mode == 3 ? NULL : db1, scr);
        k->f32_dwconv2d_bwd(&g, n, nc, x, xs, dy, ys, w, mode == 1 ? NULL : dx2, xs, mode == 2 ? NULL : dw2,
                            mode == 3 ? NULL : db2, scr);
        double ex = max_rel_err(dx2, dx1, xs * n), ew = max_rel_err(dw2, dw1, (size_t)nc * 9),
               eb = max_rel_err(db2, db1, (size_t)nc);
        CHECK_MSG(ex < 1e-5 && ew < 1e-4 && eb < 1e-4,
                  "%s dwconv2d bwd 3x3 s2 (mode %d, n %d, nc %d): %dx%d p%d,%d,%d,%d -> %dx%d: dx %g dw %g db %g",
                  cur_variant, mode, n, nc, g.ih, g.iw, g.pt, g.pl, pb, pr, g.oh, g.ow, ex, ew, eb);
        free(dx1);
        free(dx2);
        free(scr);
        free(x);
        free(w);
        free(y1);
        free(y2);
    }
}

/* The model shapes, exactly (3x3, stride 1 and 2, pad 1). */
static void test_dwconv_model_shapes(const nns_kernels *k) {
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    static const int sizes[][2] = {{28, 1}, {28, 2}, {16, 1}, {14, 1}, {14, 2}, {9, 1}, {7, 1}, {7, 2}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        nns_conv2d_geom g = {sizes[s][0], sizes[s][0], 0, 0, 3, 3, sizes[s][1], sizes[s][1], 1, 1, 1, 1};
        g.oh = (g.ih + 2 - 3) / g.sh + 1;
        g.ow = g.oh;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        size_t scr_n = nns_f32_dwconv2d_scratch_floats(&g);
        float *scr = aligned_alloc(64, (scr_n * sizeof(float) + 63) / 64 * 64);
        float x[2 * 784], w[9], y1[784], y2[784], dy[2 * 784], dx1[2 * 784], dx2[2 * 784], dw1[9] = {0},
            dw2[9] = {0}, db1 = 0, db2 = 0;
        fill(x, 2 * ihw);
        fill(w, 9);
        fill(dy, 2 * ohw);
        memset(dx1, 0, sizeof dx1);
        memset(dx2, 0, sizeof dx2);
        const float bias = 0.5f;
        ref->f32_dwconv2d(&g, 1, 1, x, ihw, w, &bias, y1, ohw, scr);
        k->f32_dwconv2d(&g, 1, 1, x, ihw, w, &bias, y2, ohw, scr);
        CHECK_MSG(max_rel_err(y2, y1, ohw) < 1e-5, "%s dwconv2d %dx%d s%d", cur_variant, g.ih, g.iw, g.sh);
        ref->f32_dwconv2d_bwd(&g, 2, 1, x, ihw, dy, ohw, w, dx1, ihw, dw1, &db1, scr);
        k->f32_dwconv2d_bwd(&g, 2, 1, x, ihw, dy, ohw, w, dx2, ihw, dw2, &db2, scr);
        CHECK_MSG(max_rel_err(dx2, dx1, 2 * ihw) < 1e-5 && max_rel_err(dw2, dw1, 9) < 1e-4 &&
                      fabs(db2 - db1) < 1e-4 * fmax(1, fabs(db1)),
                  "%s dwconv2d bwd %dx%d s%d", cur_variant, g.ih, g.iw, g.sh);
        free(scr);
    }
}

/* Small planes of many channels (AVX-512: 16 channels at a time, a
 * channel a lane, past the last 16 the other paths): 3x3 and 5x5 windows
 * (unrolled) and others (the tap table), strides 1 and 2, paddings on
 * every side, planes of 1 to 8 pixels a side, several images. */
static void test_dwconv_square(const nns_kernels *k, int iters) {
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = {rnd(1, 8), rnd(1, 8), 0, 0, 3, 3, rnd(1, 2), rnd(1, 2), 1, 1, 0, 0};
        if (it % 3 == 1) g.kh = g.kw = 5;
        if (it % 5 == 4) g.kh = rnd(1, 4), g.kw = rnd(1, 4), g.dh = rnd(1, 2);
        if (it % 4 == 0) g.sw = g.sh;
        g.pt = rnd(0, g.kh - 1);
        g.pl = rnd(0, g.kw - 1);
        const int pb = rnd(0, g.kh - 1), pr = rnd(0, g.kw - 1);
        const int nh = g.ih + g.pt + pb - (g.kh - 1) * g.dh - 1, nw = g.iw + g.pl + pr - g.kw;
        if (nh < 0 || nw < 0) continue;
        g.oh = nh / g.sh + 1;
        g.ow = nw / g.sw + 1;
        const int n = rnd(1, 3), nc = it % 2 ? 16 : rnd(17, 40), taps = g.kh * g.kw;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        float *x = malloc(n * nc * ihw * sizeof(float)), *y1 = malloc(n * nc * ohw * sizeof(float));
        float *y2 = malloc(n * nc * ohw * sizeof(float)), *w = malloc((size_t)nc * taps * sizeof(float));
        float *bias = malloc(nc * sizeof(float));
        float *scr = aligned_alloc(64, (nns_f32_dwconv2d_scratch_floats(&g) * sizeof(float) + 63) / 64 * 64);
        fill(x, n * nc * ihw);
        fill(w, (size_t)nc * taps);
        fill(bias, (size_t)nc);
        const float *b = it % 3 == 2 ? NULL : bias;
        ref->f32_dwconv2d(&g, n, nc, x, nc * ihw, w, b, y1, nc * ohw, scr);
        k->f32_dwconv2d(&g, n, nc, x, nc * ihw, w, b, y2, nc * ohw, scr);
        CHECK_MSG(max_rel_err(y2, y1, n * nc * ohw) < 1e-5, "%s dwconv2d small (n %d, nc %d): %dx%d k%dx%d s%d,%d d%d p%d,%d",
                  cur_variant, n, nc, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.dh, g.pt, g.pl);
        free(x); free(y1); free(y2); free(w); free(bias); free(scr);
    }
}

/* Stride 1 on planes of up to 36 columns (AVX-512: one or two vectors per
 * row, under masks at the row's ends), any window and padding, several
 * channels. */
static void test_dwconv_rows(const nns_kernels *k, int iters) {
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = {rnd(1, 20), rnd(1, it % 2 ? 20 : 36), 0, 0, rnd(1, 5), rnd(1, 5), 1, 1, 1, 1, 0, 0};
        g.pt = rnd(0, g.kh - 1);
        g.pl = rnd(0, g.kw - 1);
        g.oh = g.ih + 2 * g.pt - g.kh + 1;
        g.ow = g.iw + 2 * g.pl - g.kw + 1;
        if (g.oh < 1 || g.ow < 1) continue;
        const int nc = rnd(1, 3), taps = g.kh * g.kw;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        float *x = malloc(nc * ihw * sizeof(float)), *y1 = malloc(nc * ohw * sizeof(float));
        float *y2 = malloc(nc * ohw * sizeof(float)), w[3 * 25], bias[3];
        float *scr = aligned_alloc(64, (nns_f32_dwconv2d_scratch_floats(&g) * sizeof(float) + 63) / 64 * 64);
        fill(x, nc * ihw);
        fill(w, (size_t)nc * taps);
        fill(bias, 3);
        ref->f32_dwconv2d(&g, 1, nc, x, nc * ihw, w, bias, y1, nc * ohw, scr);
        k->f32_dwconv2d(&g, 1, nc, x, nc * ihw, w, bias, y2, nc * ohw, scr);
        CHECK_MSG(max_rel_err(y2, y1, nc * ohw) < 1e-5, "%s dwconv2d stride 1: %dx%d k%dx%d p%d,%d", cur_variant, g.ih, g.iw, g.kh, g.kw, g.pt, g.pl);
        free(x); free(y1); free(y2); free(scr);
    }
}

static void test_maxpool(const nns_kernels *k, int iters) {
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = random_geom(16);
        if (g.pt >= (g.kh - 1) * g.dh + 1 || g.pl >= (g.kw - 1) * g.dw + 1) continue;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        float *x = malloc(ihw * sizeof(float)), *y1 = malloc(ohw * sizeof(float)), *y2 = malloc(ohw * sizeof(float));
        int32_t *i1 = malloc(ohw * sizeof(int32_t)), *i2 = malloc(ohw * sizeof(int32_t));
        fill(x, ihw);
        nns_f32_maxpool2d__ref(&g, x, y1, i1);
        k->f32_maxpool2d(&g, x, y2, i2);
        int same = memcmp(y1, y2, ohw * sizeof(float)) == 0 && memcmp(i1, i2, ohw * sizeof(int32_t)) == 0;
        CHECK_MSG(same, "%s maxpool2d: ih%d iw%d k%dx%d s%d,%d", cur_variant, g.ih, g.iw, g.kh, g.kw, g.sh,
                  g.sw);
        free(x); free(y1); free(y2); free(i1); free(i2);
    }
    /* Without indices (inference), planes wide enough for whole vector
     * blocks, NaNs and ties included. */
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = random_geom(60);
        if (g.pt >= (g.kh - 1) * g.dh + 1 || g.pl >= (g.kw - 1) * g.dw + 1) continue;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        float *x = malloc(ihw * sizeof(float)), *y1 = malloc(ohw * sizeof(float)), *y2 = malloc(ohw * sizeof(float));
        fill(x, ihw);
        for (size_t i = 0; i < ihw; i++) {
            int r = rnd(0, 40);
            if (r == 0) x[i] = NAN;
            else if (r < 4) x[i] = 0.5f;
        }
        nns_f32_maxpool2d__ref(&g, x, y1, NULL);
        k->f32_maxpool2d(&g, x, y2, NULL);
        CHECK_MSG(memcmp(y1, y2, ohw * sizeof(float)) == 0, "%s maxpool2d without indices: ih%d iw%d k%dx%d s%d,%d "
                  "d%d,%d p%d,%d", cur_variant, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl);
        free(x); free(y1); free(y2);
    }
    /* Windows of stride 1 or 2 over rows of 16 or more outputs, padded or
     * not (the AVX2 kernel's padded-plane path; ResNet's stem pool is the
     * first), NaNs, ties and -inf included. */
    for (int it = 0; it < iters; it++) {
        const int kw = it == 0 ? 3 : rnd(1, 5), s = it == 0 ? 2 : rnd(1, 2), p = it == 0 ? 1 : rnd(0, kw - 1);
        nns_conv2d_geom g = {it == 0 ? 32 : rnd(1, 40), it == 0 ? 32 : rnd(16 * s, 70), 0, 0, kw, kw, s, s, 1, 1, p, p};
        g.oh = (g.ih + 2 * p - kw) / s + 1;
        g.ow = (g.iw + 2 * p - kw) / s + 1;
        if (g.oh < 1) continue;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        float *x = malloc(ihw * sizeof(float)), *y1 = malloc(ohw * sizeof(float)), *y2 = malloc(ohw * sizeof(float));
        fill(x, ihw);
        for (size_t i = 0; i < ihw; i++) {
            const int r = rnd(0, 40);
            x[i] = r == 0 ? NAN : r == 1 ? -INFINITY : r < 4 ? 0.5f : x[i];
        }
        nns_f32_maxpool2d__ref(&g, x, y1, NULL);
        k->f32_maxpool2d(&g, x, y2, NULL);
        CHECK_MSG(memcmp(y1, y2, ohw * sizeof(float)) == 0, "%s maxpool2d wide rows: ih%d iw%d k%d s%d p%d",
                  cur_variant, g.ih, g.iw, kw, s, p);
        free(x); free(y1); free(y2);
    }
    /* 2x2 stride 2: random plane sizes, NaNs and ties included. */
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = {rnd(2, 40), rnd(2, 40), 0, 0, 2, 2, 2, 2, 1, 1, 0, 0};
        g.oh = g.ih / 2 - rnd(0, 1);
        g.ow = g.iw / 2 - rnd(0, 1);
        if (g.oh < 1) g.oh = 1;
        if (g.ow < 1) g.ow = 1;
        CHECK(nns_f32_maxpool2d_2x2s2_fits(&g));
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        float *x = malloc(ihw * sizeof(float)), *y1 = malloc(ohw * sizeof(float)), *y2 = malloc(ohw * sizeof(float));
        int32_t *i1 = malloc(ohw * sizeof(int32_t)), *i2 = malloc(ohw * sizeof(int32_t));
        fill(x, ihw);
        for (size_t i = 0; i < ihw; i++) {
            int r = rnd(0, 20);
            if (r == 0) x[i] = NAN;
            else if (r < 4) x[i] = 0.5f; /* ties */
        }
        nns_f32_maxpool2d__ref(&g, x, y1, i1);
        k->f32_maxpool2d_2x2s2(&g, x, y2, i2);
        int same = memcmp(y1, y2, ohw * sizeof(float)) == 0 && memcmp(i1, i2, ohw * sizeof(int32_t)) == 0;
        CHECK_MSG(same, "%s maxpool2d_2x2s2: ih%d iw%d -> %dx%d", cur_variant, g.ih, g.iw, g.oh, g.ow);
        /* Without indices. */
        k->f32_maxpool2d_2x2s2(&g, x, y2, NULL);
        CHECK(memcmp(y1, y2, ohw * sizeof(float)) == 0);
        free(x); free(y1); free(y2); free(i1); free(i2);
    }
}

/* One case of a several-plane max pooling kernel (stack or rows) against
 * the reference, bit for bit: ties, +-0, -inf, and NaNs in one plane when
 * nan_plane >= 0. */
static void maxpool_planes_case(nns_f32_maxpool2d_stack_fn fn, const char *what, const nns_conv2d_geom *g,
                                int64_t planes, int nan_plane) {
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow, nx = (size_t)planes * ihw;
    const size_t ny = (size_t)planes * ohw;
    float *x = malloc(nx * sizeof(float)), *y1 = malloc(ny * sizeof(float)), *y2 = malloc(ny * sizeof(float));
    fill(x, nx);
    for (size_t i = 0; i < nx; i++) {
        const int r = rnd(0, 40);
        x[i] = r == 1 ? -INFINITY : r == 2 ? 0.0f : r == 3 ? -0.0f : r < 7 ? 0.5f : x[i];
        if ((int)(i / ihw) == nan_plane && r == 0) { /* payloads differ: the first NaN must win */
            const uint32_t bits = 0x7fc00000u | ((uint32_t)i & 0x3fffffu) | (i % 2 ? 0x80000000u : 0u);
            memcpy(&x[i], &bits, sizeof bits);
        }
    }
    nns_f32_maxpool2d_stack__ref(g, planes, x, y1);
    fn(g, planes, x, y2);
    CHECK_MSG(memcmp(y1, y2, ny * sizeof(float)) == 0, "%s %s: %lld planes ih%d iw%d oh%d ow%d k%dx%d s%d,%d p%d,%d",
              cur_variant, what, (long long)planes, g->ih, g->iw, g->oh, g->ow, g->kh, g->kw, g->sh, g->sw, g->pt,
              g->pl);
    free(x); free(y1); free(y2);
}

/* A random window at strides sh, sw: sizes up to `side`, paddings, ceil-mode
 * rows and columns past the input, input columns no window reads. */
static nns_conv2d_geom maxpool_random_geom(int sh, int sw, int side) {
    nns_conv2d_geom g = {0};
    g.kh = rnd(sh, 5);
    g.kw = rnd(sw, 5);
    g.sh = sh;
    g.sw = sw;
    g.dh = g.dw = 1;
    g.ih = rnd(1, side);
    g.iw = rnd(1, side);
    g.pt = rnd(0, g.kh - 1);
    g.pl = rnd(0, g.kw - 1);
    /* + 1: a ceil-mode row past the input; - 1, - 2: input columns no window reads */
    g.oh = (g.ih + 2 * g.pt - g.kh) / sh + 1 + rnd(0, 1);
    g.ow = (g.iw + 2 * g.pl - g.kw) / sw + 1 + rnd(0, 1) - rnd(0, 2);
    return g;
}

/* The networks' 3x3 pools for iteration it < 11 of a pooling test (1, else
 * 0): GoogLeNet's at stride 1 on 8x8 .. 1x1 and at stride 2 in ceil mode
 * (16 -> 8, 8 -> 4), ResNet-18's stem pools at 64 and 224 pixels (32 -> 16,
 * 112 -> 56, padding 1) and SqueezeNet's (31 -> 15, 15 -> 7, 7 -> 3). */
static int maxpool_net_geom(int it, nns_conv2d_geom *g) {
    static const nns_conv2d_geom nets[11] = {
        {8, 8, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1},          {4, 4, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1},
        {2, 2, 2, 2, 3, 3, 1, 1, 1, 1, 1, 1},          {1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1},
        {16, 16, 8, 8, 3, 3, 2, 2, 1, 1, 0, 0},        {8, 8, 4, 4, 3, 3, 2, 2, 1, 1, 0, 0},
        {32, 32, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1},      {31, 31, 15, 15, 3, 3, 2, 2, 1, 1, 0, 0},
        {112, 112, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1},    {15, 15, 7, 7, 3, 3, 2, 2, 1, 1, 0, 0},
        {7, 7, 3, 3, 3, 3, 2, 2, 1, 1, 0, 0}};
    if (it >= 11) return 0;
    *g = nets[it];
    return 1;
}

/* Stacked small planes at strides 1 and 2 (the networks' pools that fit
 * first), random windows, plane counts past one group. */
static void test_maxpool_stack(const nns_kernels *k, int iters) {
    int tried = 0;
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g;
        if (!maxpool_net_geom(it, &g)) {
            const int s = rnd(1, 2);
            g = maxpool_random_geom(s, s, 30);
        }
        if (!nns_f32_maxpool2d_stack_fits(&g)) continue;
        tried++;
        const int64_t planes = it % 3 ? rnd(1, 9) : rnd(100, 700);
        maxpool_planes_case(k->f32_maxpool2d_stack, "maxpool2d_stack", &g, planes,
                            it % 4 == 1 ? rnd(0, (int)planes - 1) : -1);
    }
    CHECK(tried > iters / 4);
}

/* The rows kernel: the networks' pools first, then random windows with
 * strides chosen each way, planes from 1 to 100 pixels a side (rows of more
 * than one vector). */
static void test_maxpool_rows(const nns_kernels *k, int iters) {
    int tried = 0;
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g;
        if (!maxpool_net_geom(it, &g)) g = maxpool_random_geom(rnd(1, 2), rnd(1, 2), it % 2 ? 20 : 100);
        if (!nns_f32_maxpool2d_rows_fits(&g)) continue;
        tried++;
        const int64_t planes = it % 3 ? rnd(1, 5) : rnd(20, 90);
        maxpool_planes_case(k->f32_maxpool2d_rows, "maxpool2d_rows", &g, planes,
                            it % 4 == 1 ? rnd(0, (int)planes - 1) : -1);
    }
    CHECK(tried > iters / 2);
    /* tiny planes by the thousand (several groups of planes at once), one with a NaN */
    for (int side = 1; side <= 3; side++) {
        const nns_conv2d_geom g = {side, side, side, side, 3, 3, 1, 1, 1, 1, 1, 1};
        maxpool_planes_case(k->f32_maxpool2d_rows, "maxpool2d_rows", &g, 2500, -1);
        maxpool_planes_case(k->f32_maxpool2d_rows, "maxpool2d_rows", &g, 2500, 1700);
    }
    /* stride 2 across on rows of at most 16 outputs (one row's windows at
     * once): SqueezeNet's, ResNet-18's (padded; its last window's third
     * column is the 33rd float loaded), a ceil-mode window past the row,
     * 2x2, stride 1 down, each with NaN planes */
    const nns_conv2d_geom narrow[] = {{31, 31, 15, 15, 3, 3, 2, 2, 1, 1, 0, 0}, {32, 32, 16, 16, 3, 3, 2, 2, 1, 1, 1, 1},
                                      {32, 32, 16, 16, 3, 3, 2, 2, 1, 1, 0, 0}, {28, 28, 14, 14, 2, 2, 2, 2, 1, 1, 0, 0},
                                      {40, 33, 38, 16, 3, 3, 1, 2, 1, 1, 0, 1}};
    for (int i = 0; i < 5; i++) {
        CHECK(nns_f32_maxpool2d_rows_fits(&narrow[i]));
        for (int nan_plane = -1; nan_plane < 40; nan_plane += 7)
            maxpool_planes_case(k->f32_maxpool2d_rows, "maxpool2d_rows", &narrow[i], 40, nan_plane);
    }
    /* one NaN alone, in the second and the third of a row's loads */
    const int at[][2] = {{5, 25}, {6, 31}, {0, 17}};
    for (int i = 0; i < 3; i++) {
        const nns_conv2d_geom *g = &narrow[i < 2 ? 1 : 0];
        const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
        float *x = malloc(3 * ihw * sizeof(float)), *y1 = malloc(3 * ohw * sizeof(float));
        float *y2 = malloc(3 * ohw * sizeof(float));
        fill(x, 3 * ihw);
        x[ihw + (size_t)at[i][0] * g->iw + at[i][1]] = NAN;
        nns_f32_maxpool2d_stack__ref(g, 3, x, y1);
        k->f32_maxpool2d_rows(g, 3, x, y2);
        CHECK_MSG(memcmp(y1, y2, 3 * ohw * sizeof(float)) == 0, "%s maxpool2d_rows: a NaN alone at row %d column %d",
                  cur_variant, at[i][0], at[i][1]);
        free(x); free(y1); free(y2);
    }
    /* small planes a lane each: 16 at a time and the planes past the last 16 */
    for (int side = 5; side <= 24; side += 19) {
        const nns_conv2d_geom g = {side, side, (side - 3) / 2 + 1, (side - 3) / 2 + 1, 3, 3, 2, 2, 1, 1, 0, 0};
        maxpool_planes_case(k->f32_maxpool2d_rows, "maxpool2d_rows", &g, 1000, -1);
        maxpool_planes_case(k->f32_maxpool2d_rows, "maxpool2d_rows", &g, 1003, 999);
        maxpool_planes_case(k->f32_maxpool2d_rows, "maxpool2d_rows", &g, 1003, 17);
    }
}

/* wgemm8 against the reference on random sizes and strides, both operand
 * orders the Winograd code uses, overwrite and accumulate. */
static void test_wgemm8(const nns_kernels *k, int iters) {
    for (int it = 0; it < iters; it++) {
        const int na = rnd(1, 13), nb = rnd(1, 14), nr = rnd(1, 40), mode = it % 2, acc = (it / 2) % 2;
        const ptrdiff_t a_sa = (ptrdiff_t)nr * 8 + 8 * rnd(0, 2), a_sr = 8;
        ptrdiff_t b_sr, b_sb;
        if (mode == 0) { b_sb = 8; b_sr = (ptrdiff_t)nb * 8 + 8 * rnd(0, 2); }  /* B[r][b] */
        else { b_sr = 8; b_sb = (ptrdiff_t)nr * 8 + 8 * rnd(0, 2); }            /* B[b][r] */
        const ptrdiff_t c_sb = 8, c_sa = (ptrdiff_t)nb * 8 + 8 * rnd(0, 1);
        const size_t an = (size_t)na * a_sa, bn = mode == 0 ? (size_t)nr * b_sr : (size_t)nb * b_sb,
                     cn = (size_t)na * c_sa;
        float *A = malloc(an * sizeof(float)), *B = malloc(bn * sizeof(float));
        float *C1 = malloc(cn * sizeof(float)), *C2 = malloc(cn * sizeof(float));
        fill(A, an);
        fill(B, bn);
        fill(C1, cn);
        memcpy(C2, C1, cn * sizeof(float));
        nns_f32_wgemm8__ref(na, nb, nr, A, a_sa, a_sr, B, b_sr, b_sb, C1, c_sa, c_sb, acc);
        k->f32_wgemm8(na, nb, nr, A, a_sa, a_sr, B, b_sr, b_sb, C2, c_sa, c_sb, acc);
        double e = max_rel_err(C2, C1, cn);
        CHECK_MSG(e < 1e-5, "%s wgemm8 na%d nb%d nr%d mode%d acc%d: err %g", cur_variant, na, nb, nr, mode,
                  acc, e);
        free(A); free(B); free(C1); free(C2);
    }
}

/* Winograd transforms against the references: random tile grids and
 * ranges (pairs, lone tiles at row ends, edges cropped by the plane). */
static void test_wino(const nns_kernels *k, int iters) {
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    for (int it = 0; it < iters; it++) {
        const int oh = rnd(1, 17), ow = rnd(1, 17), c = rnd(1, 3);
        const int ty = (oh + 1) / 2, tx = (ow + 1) / 2, nt = ty * tx;
        const int ph = 2 * ty + 2, pw = 2 * tx + 2 + rnd(0, 3);
        const int t0 = rnd(0, nt - 1), t1 = rnd(t0 + 1, nt);
        const int span = t1 - t0;
        const size_t cs = (size_t)span * 8 + 8 * rnd(0, 1), hs = (size_t)c * cs + 8 * rnd(0, 1);
        /* input */
        float *xp = malloc((size_t)c * ph * pw * sizeof(float));
        float *v1 = calloc(2 * hs, sizeof(float)), *v2 = calloc(2 * hs, sizeof(float));
        fill(xp, (size_t)c * ph * pw);
        ref->f32_wino2x2_3x3_input(xp, c, (size_t)ph * pw, pw, tx, t0, t1, v1, cs, hs);
        k->f32_wino2x2_3x3_input(xp, c, (size_t)ph * pw, pw, tx, t0, t1, v2, cs, hs);
        CHECK_MSG(max_rel_err(v2, v1, 2 * hs) < 1e-6, "%s wino input %dx%d tiles [%d,%d)", cur_variant, ty,
                  tx, t0, t1);
        /* output, overwrite and accumulate, with and without bias */
        const size_t yp = (size_t)oh * ow + rnd(0, 3);
        float *y1 = malloc((size_t)c * yp * sizeof(float)), *y2 = malloc((size_t)c * yp * sizeof(float));
        float bias[3];
        fill(bias, 3);
        fill(y1, (size_t)c * yp);
        memcpy(y2, y1, (size_t)c * yp * sizeof(float));
        fill(v1, 2 * hs);
        const int acc = it % 2;
        const float *b = it % 3 ? bias : NULL;
        ref->f32_wino2x2_3x3_output(v1, c, cs, hs, tx, t0, t1, b, y1, yp, oh, ow, acc);
        k->f32_wino2x2_3x3_output(v1, c, cs, hs, tx, t0, t1, b, y2, yp, oh, ow, acc);
        CHECK_MSG(max_rel_err(y2, y1, (size_t)c * yp) < 1e-5, "%s wino output %dx%d (%dx%d) tiles [%d,%d) acc %d",
                  cur_variant, oh, ow, ty, tx, t0, t1, acc);
        /* outgrad */
        memset(v1, 0, 2 * hs * sizeof(float));
        memset(v2, 0, 2 * hs * sizeof(float));
        ref->f32_wino2x2_3x3_outgrad(y1, c, yp, oh, ow, tx, t0, t1, v1, cs, hs);
        k->f32_wino2x2_3x3_outgrad(y1, c, yp, oh, ow, tx, t0, t1, v2, cs, hs);
        CHECK_MSG(max_rel_err(v2, v1, 2 * hs) < 1e-6, "%s wino outgrad %dx%d tiles [%d,%d)", cur_variant, oh,
                  ow, t0, t1);
        free(xp); free(v1); free(v2); free(y1); free(y2);
    }
}

/* The F(2x2,3x3) algebra: A^T [(G g G^T) (.) (B^T d B)] A is the 3x3
 * correlation of a 4x4 window, and the weight adjoint is exact. */
static void test_wino_algebra(void) {
    for (int it = 0; it < 50; it++) {
        float d[16], g[9], u[16], v[16], m[16], y[4];
        fill(d, 16);
        fill(g, 9);
        nns_f32_wino2x2_3x3_weight__ref(g, 0, u);
        nns_f32_wino2x2_3x3_input__ref(d, 1, 16, 4, 1, 0, 1, v, 8, 8);
        for (int x = 0; x < 16; x++) m[x] = u[x] * v[x];
        nns_f32_wino2x2_3x3_output__ref(m, 1, 8, 8, 1, 0, 1, NULL, y, 4, 2, 2, 0);
        for (int r = 0; r < 2; r++)
            for (int s = 0; s < 2; s++) {
                double want = 0;
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++) want += (double)g[i * 3 + j] * d[(r + i) * 4 + s + j];
                CHECK_NEAR(y[r * 2 + s], want, 1e-5);
            }
        /* flip rotates the filter by 180 degrees */
        float gf[9], uf[16];
        for (int i = 0; i < 9; i++) gf[i] = g[8 - i];
        nns_f32_wino2x2_3x3_weight__ref(gf, 1, uf);
        CHECK(memcmp(uf, u, sizeof u) == 0);
        /* <G g G^T, du> == <g, G^T du G> */
        float du[16], dg[9] = {0};
        fill(du, 16);
        nns_f32_wino2x2_3x3_weight_grad__ref(du, dg);
        double a = 0, b2 = 0;
        for (int x = 0; x < 16; x++) a += (double)u[x] * du[x];
        for (int x = 0; x < 9; x++) b2 += (double)g[x] * dg[x];
        CHECK_NEAR(a, b2, 1e-5);
        /* <output(m), dy> == <m, outgrad(dy)> */
        float dy[4], dm[16];
        fill(dy, 4);
        nns_f32_wino2x2_3x3_outgrad__ref(dy, 1, 4, 2, 2, 1, 0, 1, dm, 8, 8);
        a = b2 = 0;
        for (int x = 0; x < 4; x++) a += (double)y[x] * dy[x];
        for (int x = 0; x < 16; x++) b2 += (double)m[x] * dm[x];
        CHECK_NEAR(a, b2, 1e-5);
    }
}

/* pad2d against the reference: random sizes and offsets (crops too). */
static void test_pad2d(const nns_kernels *k, int iters) {
    for (int it = 0; it < iters; it++) {
        const int c = rnd(1, 3), ih = rnd(1, 20), iw = rnd(1, 40), pt = rnd(-2, 3), pl = rnd(-2, 3);
        const int ph = rnd(1, ih + 6), pw = rnd(1, iw + 6);
        float *x = malloc((size_t)c * ih * iw * sizeof(float));
        float *p1 = malloc((size_t)c * ph * pw * sizeof(float)), *p2 = malloc((size_t)c * ph * pw * sizeof(float));
        fill(x, (size_t)c * ih * iw);
        for (size_t i = 0; i < (size_t)c * ph * pw; i++) p1[i] = p2[i] = NAN;
        nns_f32_pad2d__ref(x, c, ih, iw, p1, ph, pw, pt, pl);
        k->f32_pad2d(x, c, ih, iw, p2, ph, pw, pt, pl);
        CHECK_MSG(memcmp(p1, p2, (size_t)c * ph * pw * sizeof(float)) == 0, "%s pad2d %dx%d -> %dx%d at %d,%d",
                  cur_variant, ih, iw, ph, pw, pt, pl);
        int ok = 1;
        for (int ci = 0; ci < c; ci++)
            for (int r = 0; r < ph; r++)
                for (int q = 0; q < pw; q++) {
                    int iy = r - pt, ix = q - pl;
                    float want = iy >= 0 && iy < ih && ix >= 0 && ix < iw ? x[((size_t)ci * ih + iy) * iw + ix] : 0.0f;
                    if (p1[((size_t)ci * ph + r) * pw + q] != want) ok = 0;
                }
        CHECK_MSG(ok, "pad2d ref %dx%d -> %dx%d at %d,%d", ih, iw, ph, pw, pt, pl);
        free(x); free(p1); free(p2);
    }
}

/* A 1x1 window at stride 1, no padding (copied plane by plane): several
 * images' columns side by side (a row stride past the plane), planes of 1
 * to 40 pixels; the row and nothing between rows written. */
static void test_im2col_copy(const nns_kernels *k) {
    for (int hw = 1; hw <= 40; hw++) {
        const nns_conv2d_geom g = {hw % 5 ? 1 : 5, hw % 5 ? hw : hw / 5, hw % 5 ? 1 : 5, hw % 5 ? hw : hw / 5,
                                   1, 1, 1, 1, 1, 1, 0, 0};
        const int c = rnd(1, 20);
        const size_t ldc = (size_t)hw * rnd(1, 4) + (size_t)rnd(0, 3), n = (size_t)c * ldc;
        float *x = malloc((size_t)c * hw * sizeof(float)), *col = malloc(n * sizeof(float));
        fill(x, (size_t)c * hw);
        for (size_t i = 0; i < n; i++) col[i] = -7.0f;
        k->f32_im2col(&g, c, x, col, ldc);
        int ok = 1;
        for (size_t i = 0; i < n; i++) {
            const size_t ci = i / ldc, q = i % ldc;
            if (col[i] != (q < (size_t)hw ? x[ci * hw + q] : -7.0f)) ok = 0;
        }
        CHECK_MSG(ok, "%s im2col 1x1 copy: %d pixels, %d channels, ldc %zu", cur_variant, hw, c, ldc);
        free(x); free(col);
    }
}

/* <col2im(c), x> == <c, im2col(x)> and im2col against the definition. */
static void test_im2col(const nns_kernels *k, int iters) {
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = random_geom(it % 2 ? 10 : 40);
        if (it % 4 == 1) { /* unit column stride and dilation (the AVX-512 col2im's path) */
            g.sw = g.dw = 1;
            g.kw = rnd(1, 7);
            g.pl = rnd(0, g.kw - 1);
            g.iw = rnd(1, 70);
            g.ow = g.iw + g.pl + rnd(0, g.kw - 1) - g.kw + 1;
        }
        if (it % 5 == 0) g.pt = -1, g.pl = -1; /* crops: the transposed-conv use */
        if (g.oh <= 0 || g.ow <= 0) continue;
        const int c = rnd(1, 3);
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow, rows = (size_t)c * g.kh * g.kw;
        float *x = malloc(c * ihw * sizeof(float)), *col = malloc(rows * ohw * sizeof(float));
        float *c2 = malloc(rows * ohw * sizeof(float)), *x2 = calloc(c * ihw, sizeof(float));
        fill(x, c * ihw);
        fill(c2, rows * ohw);
        k->f32_im2col(&g, c, x, col, ohw);
        int ok = 1;
        for (int ci = 0; ci < c && ok; ci++)
            for (int i = 0; i < g.kh; i++)
                for (int j = 0; j < g.kw; j++)
                    for (int oy = 0; oy < g.oh; oy++)
                        for (int ox = 0; ox < g.ow; ox++) {
                            int iy = oy * g.sh - g.pt + i * g.dh, ix = ox * g.sw - g.pl + j * g.dw;
                            float want = (iy >= 0 && iy < g.ih && ix >= 0 && ix < g.iw)
                                             ? x[(size_t)ci * ihw + (size_t)iy * g.iw + ix]
                                             : 0.0f;
                            if (col[(((size_t)ci * g.kh + i) * g.kw + j) * ohw + (size_t)oy * g.ow + ox] != want)
                                ok = 0;
                        }
        CHECK_MSG(ok, "%s im2col: ih%d iw%d k%dx%d s%d,%d d%d,%d p%d,%d", cur_variant, g.ih, g.iw, g.kh, g.kw,
                  g.sh, g.sw, g.dh, g.dw, g.pt, g.pl);
        nns_f32_col2im__ref(&g, c, c2, ohw, x2);
        /* the SIMD col2im against the reference, on a non-zero target */
        float *x3 = malloc(c * ihw * sizeof(float)), *x4 = malloc(c * ihw * sizeof(float));
        fill(x3, c * ihw);
        memcpy(x4, x3, c * ihw * sizeof(float));
        nns_f32_col2im__ref(&g, c, c2, ohw, x3);
        k->f32_col2im(&g, c, c2, ohw, x4);
        CHECK_MSG(!memcmp(x4, x3, c * ihw * sizeof(float)), "%s col2im (bits): ih%d iw%d k%dx%d s%d,%d d%d,%d p%d,%d",
                  cur_variant, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl);
        free(x3);
        free(x4);
        double a = 0, b = 0;
        for (size_t i = 0; i < rows * ohw; i++) a += (double)c2[i] * col[i];
        for (size_t i = 0; i < c * ihw; i++) b += (double)x2[i] * x[i];
        CHECK_NEAR(a, b, 1e-4 * fmax(1.0, fabs(a)));
        free(x); free(col); free(c2); free(x2);
    }
}


/* One input channel by m filters: against a direct loop (each output channel
 * is the plane convolved with its filter), images with gaps that stay
 * untouched, scratch poisoned; a third of the shapes at stride 1. */
static void test_conv1ch(const nns_kernels *k, int iters) {
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = random_geom(it < iters / 2 ? 12 : 40);
        if (it % 3 == 0) { /* stride 1, as the AVX-512 path takes it: up to 8 taps a row, rows up to 64 */
            g.kw = rnd(1, 8);
            g.kh = rnd(1, 7);
            g.sh = g.sw = g.dh = g.dw = 1;
            g.pt = rnd(0, g.kh - 1);
            g.pl = rnd(0, g.kw - 1);
            g.ih = rnd(1, 20);
            g.iw = rnd(1, 70);
            g.oh = g.ih + g.pt + rnd(0, g.kh - 1) - g.kh + 1;
            g.ow = g.iw + g.pl + rnd(0, g.kw - 1) - g.kw + 1;
            if (g.oh < 1 || g.ow < 1) continue;
        }
        const int n = rnd(1, 3), m = rnd(1, 20);
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow, taps = (size_t)g.kh * g.kw;
        const size_t xs = ihw + (size_t)rnd(0, 5), ys = m * ohw + (size_t)rnd(0, 5);
        size_t scr_n = nns_f32_dwconv2d_scratch_floats(&g);
        float *scr = aligned_alloc(64, ((scr_n * sizeof(float)) + 63) / 64 * 64);
        float *x = malloc(xs * n * sizeof(float)), *w = malloc(m * taps * sizeof(float)), *bias = malloc(m * sizeof(float));
        float *y = malloc(ys * n * sizeof(float));
        fill(x, xs * n);
        fill(w, m * taps);
        fill(bias, (size_t)m);
        const float *b = it % 3 ? bias : NULL;
        for (size_t i = 0; i < scr_n; i++) scr[i] = NAN;
        for (size_t i = 0; i < ys * n; i++) y[i] = 7.0f;
        k->f32_conv2d_1ch(&g, n, m, x, xs, w, b, y, ys, scr);
        double e = 0;
        for (int bb = 0; bb < n; bb++) {
            for (int c = 0; c < m; c++)
                for (int oy = 0; oy < g.oh; oy++)
                    for (int ox = 0; ox < g.ow; ox++) {
                        double want = b ? b[c] : 0.0;
                        for (int i = 0; i < g.kh; i++)
                            for (int j = 0; j < g.kw; j++) {
                                int iy = oy * g.sh - g.pt + i * g.dh, ix = ox * g.sw - g.pl + j * g.dw;
                                if (iy >= 0 && iy < g.ih && ix >= 0 && ix < g.iw)
                                    want += (double)w[c * taps + i * g.kw + j] * x[bb * xs + (size_t)iy * g.iw + ix];
                            }
                        const double got = y[bb * ys + c * ohw + (size_t)oy * g.ow + ox];
                        const double er = fabs(got - want) / fmax(1.0, fabs(want));
                        if (!(er <= e)) e = er;
                    }
            for (size_t i = m * ohw; i < ys; i++)
                if (y[bb * ys + i] != 7.0f) e = 1;
        }
        CHECK_MSG(e < 1e-5, "%s conv2d_1ch (n %d, m %d): ih%d iw%d k%dx%d s%d,%d d%d,%d p%d,%d -> %dx%d: err %g",
                  cur_variant, n, m, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow,
                  e);
        free(scr);
        free(x);
        free(w);
        free(bias);
        free(y);
    }
}

/* The few-channel convolution against a direct sum in double: strides 1
 * and 2 each way, up to 8 taps a row, rows of up to 128 outputs (pieces of
 * 16 and their tails), 1 to 4 channels, filter counts that take every block
 * size, a range of output rows (the others stay untouched), with and without
 * bias and clamp. */
/* The same-size stride-1 convolution (s2 0) against a double-precision
 * sum: the networks' 3x3 layers on 15x15, 7x7, 3x3 and 1x1 planes first,
 * then random windows up to 7x7 with the padding split any way, planes up
 * to 40 wide, every filter block size, position ranges from a multiple of
 * 16 (and one that is not), the clamp, a residual; outside the range
 * nothing written. s2 1: the stride-2 kernel on the split layout (f32_conv2d_s2_split), the same way
 * (resnet8's and ResNet-18's 3x3 stride-2 layers first; any padding at the
 * bottom and right, odd and even planes). */
static void test_conv_same(const nns_kernels *k, int iters, int s2) {
    static const int nets[4][3] = {{15, 16, 64}, {7, 32, 128}, {3, 48, 192}, {1, 64, 256}}; /* side, c, m */
    static const int nets2[4][3] = {{28, 16, 32}, {14, 32, 64}, {16, 64, 128}, {4, 256, 512}};
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = {0};
        g.dh = g.dw = 1;
        g.sh = g.sw = s2 ? 2 : 1;
        g.kh = it < 4 ? 3 : rnd(1, 7);
        g.kw = it < 4 ? 3 : rnd(1, 7);
        g.pt = it < 4 ? 1 : rnd(0, g.kh - 1);
        g.pl = it < 4 ? 1 : rnd(0, g.kw - 1);
        g.ih = it < 4 ? (s2 ? nets2 : nets)[it][0] : rnd(1, s2 ? 40 : 20);
        g.iw = it < 4 ? (s2 ? nets2 : nets)[it][0] : rnd(1, it % 5 ? 20 : 40);
        const int pb = it < 4 ? 1 : rnd(0, g.kh - 1), pr = it < 4 ? 1 : rnd(0, g.kw - 1);
        g.oh = s2 ? (g.ih + g.pt + pb - g.kh) / 2 + 1 : g.ih;
        g.ow = s2 ? (g.iw + g.pl + pr - g.kw) / 2 + 1 : g.iw;
        if (g.ih + g.pt + pb < g.kh || g.iw + g.pl + pr < g.kw) continue;
        if (s2 ? !nns_f32_conv2d_s2_fits(&g) : !nns_f32_conv2d_same_fits(&g)) continue;
        const int c = it < 4 ? (s2 ? nets2 : nets)[it][1] : rnd(1, 20);
        const int m = it < 4 ? (s2 ? nets2 : nets)[it][2] : rnd(1, 40);
        const int ohw = g.oh * g.ow, v = (ohw + 15) / 16;
        int p0 = it < 4 || it % 2 ? 0 : rnd(0, v - 1) * 16, p1 = it < 4 || it % 3 ? ohw : rnd(p0 + 1, ohw);
        if (it % 7 == 5) p0 = rnd(0, ohw - 1), p1 = rnd(p0 + 1, ohw); /* not a multiple of 16 */
        const int clamp = it % 3 == 1;
        const float lo = clamp ? -0.25f : 0.0f, hi = clamp ? 0.5f : 0.0f;
        const int n = it % 4 == 2 ? rnd(2, 5) : 1; /* images; a one-vector plane pairs them */
        const int res = it % 5 == 2 || it == 1; /* a residual of y's layout added before the clamp */
        const size_t ihw = (size_t)g.ih * g.iw, taps = (size_t)g.kh * g.kw, xs = c * ihw + rnd(0, 5);
        const size_t ys = (size_t)m * ohw + rnd(0, 5);
        float *x = malloc(n * xs * sizeof(float)), *w = malloc(m * c * taps * sizeof(float));
        float *wp = malloc(m * c * taps * sizeof(float));
        float *bias = malloc(m * sizeof(float)), *y = malloc(n * ys * sizeof(float));
        fill(x, n * xs);
        fill(w, m * c * taps);
        fill(bias, (size_t)m);
        float *rr = res ? malloc(n * ys * sizeof(float)) : NULL;
        if (rr) fill(rr, n * ys);
        nns_conv2d_same_pack(m, c, (int)taps, w, wp);
        const float *b = it % 4 == 3 ? NULL : bias;
        for (size_t i = 0; i < n * ys; i++) y[i] = 7.0f;
        if (s2) { /* each image split, a few floats apart */
            const size_t ss = nns_conv2d_s2_floats(&g, c) + (size_t)rnd(0, 5);
            float *xp = malloc(n * ss * sizeof(float));
            for (int im = 0; im < n; im++) nns_f32_conv2d_s2_split__ref(&g, c, x + im * xs, xp + im * ss);
            k->f32_conv2d_s2(&g, c, m, n, p0, p1, xp, ss, wp, b, clamp, lo, hi, y, ys, rr);
            free(xp);
        } else {
            k->f32_conv2d_same(&g, c, m, n, p0, p1, x, xs, wp, b, clamp, lo, hi, y, ys, rr);
        }
        double e = 0;
        for (size_t i = (size_t)m * ohw; i < ys; i++) /* between images */
            if (y[i] != 7.0f) e = 1;
        for (int im = 0; im < n; im++)
        for (int f = 0; f < m; f++)
            for (int p = 0; p < ohw; p++) {
                const double got = y[im * ys + (size_t)f * ohw + p];
                if (p < p0 || p >= p1) {
                    if (got != 7.0) e = 1;
                    continue;
                }
                const int oy = p / g.ow, ox = p % g.ow;
                double want = b ? b[f] : 0.0, mag = fabs(want); /* mag: the terms' magnitudes */
                for (int cc = 0; cc < c; cc++)
                    for (int i = 0; i < g.kh; i++)
                        for (int j = 0; j < g.kw; j++) {
                            const int iy = oy * g.sh - g.pt + i, ix = ox * g.sw - g.pl + j;
                            if (iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw) continue;
                            const double t = (double)w[(f * c + cc) * taps + i * g.kw + j] * x[im * xs + cc * ihw + (size_t)iy * g.iw + ix];
                            want += t;
                            mag += fabs(t);
                        }
                if (rr) {
                    want += rr[im * ys + (size_t)f * ohw + p];
                    mag += fabs(rr[im * ys + (size_t)f * ohw + p]);
                }
                if (clamp) want = fmin(fmax(want, lo), hi);
                const double er = fabs(got - want) / fmax(1.0, mag);
                if (!(er <= e)) e = er;
            }
        CHECK_MSG(e < 2e-6,
                  "%s conv2d_%s (c %d, m %d, %d images, positions %d..%d, clamp %d, residual %d): %dx%d k%dx%d p%d,%d: "
                  "err %g",
                  cur_variant, s2 ? "s2" : "same", c, m, n, p0, p1, clamp, res, g.ih, g.iw, g.kh, g.kw, g.pt, g.pl, e);
        free(rr);
        free(x);
        free(w);
        free(wp);
        free(bias);
        free(y);
    }
}

static void test_conv_fewch(const nns_kernels *k, int iters) {
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = {0};
        g.sh = rnd(1, 2);
        g.sw = rnd(1, 2);
        g.dh = g.dw = 1;
        g.kh = rnd(1, 7);
        g.kw = rnd(1, 8);
        g.pt = rnd(0, g.kh - 1);
        g.pl = rnd(0, g.kw - 1);
        g.ih = rnd(1, 20);
        g.iw = rnd(1, it % 4 ? 40 : 260);
        g.oh = (g.ih + 2 * g.pt - g.kh) / g.sh + 1;
        g.ow = (g.iw + 2 * g.pl - g.kw) / g.sw + 1;
        if (it == 0) g = (nns_conv2d_geom){64, 64, 31, 31, 3, 3, 2, 2, 1, 1, 0, 0};   /* SqueezeNet's stem */
        if (it == 1) g = (nns_conv2d_geom){64, 64, 32, 32, 7, 7, 2, 2, 1, 1, 3, 3};   /* ResNet-18's */
        if (!nns_f32_conv2d_fewch_fits(&g, 3)) continue;
        const int c = it < 2 ? 3 : rnd(1, NNS_CONV_FEWCH_C), m = it < 2 ? 64 : rnd(1, 40);
        const int oy0 = it % 2 ? 0 : rnd(0, g.oh - 1), oy1 = it % 2 ? g.oh : rnd(oy0 + 1, g.oh);
        const int clamp = it % 3 == 1;
        const float lo = clamp ? -0.25f : 0.0f, hi = clamp ? 0.5f : 0.0f;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow, taps = (size_t)g.kh * g.kw;
        float *x = malloc(c * ihw * sizeof(float)), *w = malloc(m * c * taps * sizeof(float));
        float *bias = malloc(m * sizeof(float)), *y = malloc(m * ohw * sizeof(float));
        fill(x, c * ihw);
        fill(w, m * c * taps);
        fill(bias, (size_t)m);
        const float *b = it % 4 == 3 ? NULL : bias;
        for (size_t i = 0; i < m * ohw; i++) y[i] = 7.0f;
        k->f32_conv2d_fewch(&g, c, m, oy0, oy1, x, w, b, clamp, lo, hi, y);
        double e = 0;
        for (int f = 0; f < m; f++)
            for (int oy = 0; oy < g.oh; oy++)
                for (int ox = 0; ox < g.ow; ox++) {
                    const double got = y[f * ohw + (size_t)oy * g.ow + ox];
                    if (oy < oy0 || oy >= oy1) {
                        if (got != 7.0) e = 1;
                        continue;
                    }
                    double want = b ? b[f] : 0.0;
                    for (int cc = 0; cc < c; cc++)
                        for (int i = 0; i < g.kh; i++)
                            for (int j = 0; j < g.kw; j++) {
                                const int iy = oy * g.sh - g.pt + i, ix = ox * g.sw - g.pl + j;
                                if (iy >= 0 && iy < g.ih && ix >= 0 && ix < g.iw)
                                    want += (double)w[(f * c + cc) * taps + i * g.kw + j] *
                                            x[cc * ihw + (size_t)iy * g.iw + ix];
                            }
                    if (clamp) want = fmin(fmax(want, lo), hi);
                    const double er = fabs(got - want) / fmax(1.0, fabs(want));
                    if (!(er <= e)) e = er;
                }
        CHECK_MSG(e < 1e-5, "%s conv2d_fewch (c %d, m %d, rows %d..%d, clamp %d): ih%d iw%d k%dx%d s%d,%d p%d,%d -> %dx%d: err %g",
                  cur_variant, c, m, oy0, oy1, clamp, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.pt, g.pl, g.oh, g.ow, e);
        free(x);
        free(w);
        free(bias);
        free(y);
    }
}

/* The one-channel weight gradient against a direct sum in double: a
 * dilated window whose phase-plane reads wrap a row and more, random
 * geometries (strides, dilations: the fallback) and stride-1 ones the
 * AVX-512 path takes (3, 5 and 7 taps a row, rows up to 64 outputs, pads
 * on either side, filter counts off its blocks), several images with gaps;
 * dw is added to. */
static void test_f32_conv2d_1ch_wgrad(const nns_kernels *k) {
    for (int it = 0; it < 160; it++) {
        nns_conv2d_geom g = random_geom(it % 2 ? 12 : 40);
        if (it == 0) /* a tap 9 columns in on 8-float phase rows: its run had ended past the planes */
            g = (nns_conv2d_geom){.ih = 12, .iw = 5, .oh = 5, .ow = 1, .kh = 2, .kw = 4, .sh = 2, .sw = 1, .dh = 3,
                                  .dw = 3, .pt = 0, .pl = 3};
        else if (it % 4 < 3) { /* the fast path's shapes */
            const int kw = 3 + 2 * rnd(0, 2);
            g.kw = kw;
            g.kh = rnd(1, 7);
            g.sh = g.sw = g.dh = g.dw = 1;
            g.pt = rnd(0, g.kh - 1);
            g.pl = rnd(0, kw - 1);
            g.ih = rnd(1, 20);
            g.iw = rnd(1, 70);
            g.oh = g.ih + g.pt + rnd(0, g.kh - 1) - g.kh + 1;
            g.ow = g.iw + g.pl + rnd(0, kw - 1) - kw + 1;
            if (g.oh < 1 || g.ow < 1 || g.ow > 64) continue;
        }
        const int n = rnd(1, 3), m = rnd(1, 13);
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow, taps = (size_t)g.kh * g.kw;
        const size_t xs = ihw + (size_t)rnd(0, 5), ys = m * ohw + (size_t)rnd(0, 5);
        const size_t scr_n = nns_f32_dwconv2d_scratch_floats(&g);
        float *scr = aligned_alloc(64, ((scr_n * sizeof(float)) + 63) / 64 * 64);
        float *x = malloc(xs * n * sizeof(float)), *dy = malloc(ys * n * sizeof(float));
        float *w = malloc(m * taps * sizeof(float)), *dw = malloc(m * taps * sizeof(float));
        fill(x, xs * n);
        fill(dy, ys * n);
        fill(w, m * taps);
        for (size_t i = 0; i < m * taps; i++) dw[i] = 0.25f;
        for (size_t i = 0; i < scr_n; i++) scr[i] = NAN;
        k->f32_conv2d_1ch_wgrad(&g, n, m, x, xs, dy, ys, w, dw, scr);
        double e = 0;
        for (int c = 0; c < m; c++)
            for (int i = 0; i < g.kh; i++)
                for (int j = 0; j < g.kw; j++) {
                    double want = 0.25, mag = 1.0;
                    for (int b = 0; b < n; b++)
                        for (int oy = 0; oy < g.oh; oy++)
                            for (int ox = 0; ox < g.ow; ox++) {
                                const int iy = oy * g.sh - g.pt + i * g.dh, ix = ox * g.sw - g.pl + j * g.dw;
                                if (iy < 0 || iy >= g.ih || ix < 0 || ix >= g.iw) continue;
                                const double v = (double)dy[b * ys + c * ohw + (size_t)oy * g.ow + ox] *
                                                 x[b * xs + (size_t)iy * g.iw + ix];
                                want += v;
                                mag += fabs(v);
                            }
                    const double er = fabs(dw[c * taps + (size_t)i * g.kw + j] - want) / mag;
                    if (!(er <= e)) e = er;
                }
        CHECK_MSG(e < 1e-5, "%s conv2d_1ch_wgrad (n %d, m %d): ih%d iw%d k%dx%d s%d,%d d%d,%d p%d,%d -> %dx%d: err %g",
                  cur_variant, n, m, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.pt, g.pl, g.oh, g.ow, e);
        free(scr);
        free(x);
        free(dy);
        free(w);
        free(dw);
    }
}

/* f32_spmm_csr against a direct sum: random CSR (empty rows too), several
 * batch widths, overwrite and accumulate, a row range. */
static void test_spmm(const nns_kernels *k, int iters) {
    for (int it = 0; it < iters; it++) {
        const int N = rnd(1, 40), K = rnd(1, 60), mb = rnd(1, 70), n0 = rnd(0, N - 1), acc = it % 2;
        int32_t *rp = malloc((size_t)(N + 1) * sizeof(int32_t)), *col = malloc((size_t)N * K * sizeof(int32_t));
        float *val = malloc((size_t)N * K * sizeof(float));
        int nnz = 0;
        rp[0] = 0;
        for (int n = 0; n < N; n++) {
            const int dens = rnd(0, 4);
            for (int j = 0; j < K; j++)
                if (rnd(0, 3) < dens) {
                    col[nnz] = j;
                    val[nnz++] = 2.0f * nns_rng_uniform(&rng) - 1.0f;
                }
            rp[n + 1] = nnz;
        }
        const ptrdiff_t ldx = mb + rnd(0, 3);
        float *x = malloc((size_t)K * ldx * sizeof(float)), *y1 = malloc((size_t)N * mb * sizeof(float));
        float *y2 = malloc((size_t)N * mb * sizeof(float));
        fill(x, (size_t)K * ldx);
        fill(y1, (size_t)N * mb);
        memcpy(y2, y1, (size_t)N * mb * sizeof(float));
        nns_f32_spmm_csr__ref(n0, N, mb, rp, col, val, x, ldx, 0.75f, y1, 1, N, acc);
        k->f32_spmm_csr(n0, N, mb, rp, col, val, x, ldx, 0.75f, y2, 1, N, acc);
        const double e = max_rel_err(y2, y1, (size_t)N * mb);
        CHECK_MSG(e < 1e-5, "%s spmm_csr N%d K%d mb%d rows [%d,%d) acc%d: err %g", cur_variant, N, K, mb, n0, N, acc, e);
        free(rp); free(col); free(val); free(x); free(y1); free(y2);
    }
}

/* Quantized max pooling against the float reference on the same values
 * (s8 as its signed value, u8 as is). */
static void q8_maxpool_check(nns_q8_maxpool2d_fn kern, int fit) {
    for (int it = 0; it < 200; it++) {
        nns_conv2d_geom g = random_geom(it % 2 ? 9 : 70);
        if (fit) {
            g.kh = g.kw = g.sh = g.sw = 2;
            g.dh = g.dw = 1;
            g.pt = g.pl = 0;
            g.oh = g.ih / 2 - rnd(0, 1);
            g.ow = g.iw / 2 - rnd(0, 1);
        }
        if (g.oh <= 0 || g.ow <= 0) continue;
        const int sgn = it % 2;
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow;
        uint8_t *x = malloc(ihw), *y = malloc(ohw + 1);
        float *xf = malloc(ihw * sizeof *xf), *yf = malloc(ohw * sizeof *yf);
        int32_t *idx = malloc(ohw * sizeof *idx);
        for (size_t i = 0; i < ihw; i++) {
            x[i] = (uint8_t)(it % 5 == 0 ? (i % 2 ? 0 : 255) : rnd(0, 255));
            xf[i] = sgn ? (float)(int8_t)x[i] : (float)x[i];
        }
        y[ohw] = 0x5a;
        kern(&g, x, y, sgn);
        nns_f32_maxpool2d__ref(&g, xf, yf, idx);
        int ok = y[ohw] == 0x5a;
        for (size_t o = 0; o < ohw; o++) /* a window without inputs: the lowest value */
            ok &= (sgn ? (float)(int8_t)y[o] : (float)y[o]) == (idx[o] < 0 ? (sgn ? -128.0f : 0.0f) : yf[o]);
        CHECK_MSG(ok, "%s q8_maxpool2d %dx%d k%dx%d s%d,%d %s", cur_variant, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw,
                  sgn ? "s8" : "u8");
        free(x); free(y); free(xf); free(yf); free(idx);
    }
}

static void test_q8_maxpool2d(const nns_kernels *k) { q8_maxpool_check(k->q8_maxpool2d, 0); }
static void test_q8_maxpool2d_2x2s2(const nns_kernels *k) { q8_maxpool_check(k->q8_maxpool2d_2x2s2, 1); }

/* The quantized sum against its definition (kernels.h), every dtype mix,
 * zero points at the ends, multipliers that saturate, odd n. */
/* 16-bit rounding against the dtype table's conversions, bit for bit (a
 * NaN only needs to stay a NaN): random values over the whole float range,
 * ties between two 16-bit numbers, subnormals of both types, the float16
 * overflow edge (65504, 65519.99, 65520), infinities and NaNs; lengths
 * across the vector widths; in place too. */
static void test_f32_round16(const nns_kernels *k) {
    static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u,
                                       0x7f800001u, 0x00000001u, 0x80000001u, 0x33800000u, 0x33000000u, 0x38800000u,
                                       0x387fffffu, 0x477fe000u, 0x477fefffu, 0x477ff000u, 0x3f808000u, 0x3f818000u,
                                       0x3f800fffu, 0x3f801000u, 0x3f803000u, 0x7f7fffffu, 0x00800000u, 0x3effffffu};
    const int ns = (int)(sizeof special / sizeof *special);
    for (int it = 0; it < 120; it++) {
        const int bf16 = it & 1, n = it < 4 ? ns : rnd(1, 70), inplace = it % 3 == 0;
        float x[72], y[73], want[72];
        for (int j = 0; j < n; j++) {
            uint32_t u = it < 4 ? special[j] : (uint32_t)rnd(0, 0xffff) << 16 | (uint32_t)rnd(0, 0xffff);
            if (it >= 4 && j % 5 == 0) u = (u & 0xc7ffffffu) | 0x38000000u; /* near float16's subnormals */
            if (it >= 4 && j % 7 == 1) u = (u & ~0xffffu) | 0x8000u;        /* a bfloat16 tie */
            if (it >= 4 && j % 7 == 2) u = (u & ~0x1fffu) | 0x1000u;        /* a float16 tie */
            memcpy(&x[j], &u, 4);
        }
        const nns_dtype_info *di = nns_dtype_get_info(bf16 ? NNS_DTYPE_BF16 : NNS_DTYPE_F16);
        for (int j = 0; j < n; j++) {
            uint16_t h;
            di->from_f32(x[j], &h);
            want[j] = di->to_f32(&h);
        }
        float *out = inplace ? x : y;
        y[n] = 1234.5f;
        k->f32_round16(n, x, out, bf16);
        int ok = inplace || y[n] == 1234.5f, bad = -1;
        for (int j = 0; j < n; j++) {
            const int same = (out[j] != out[j] && want[j] != want[j]) || memcmp(&out[j], &want[j], 4) == 0;
            if (!same && bad < 0) bad = j;
            ok &= same;
        }
        CHECK_MSG(ok, "%s f32_round16 %s n%d: value %d is %a, want %a", cur_variant, bf16 ? "bf16" : "f16", n, bad,
                  bad >= 0 ? (double)out[bad] : 0.0, bad >= 0 ? (double)want[bad] : 0.0);
    }
}

/* Transposes against the definition, bit for bit: shapes across the tile
 * sizes (whole tiles, edges, one row or column), leading dimensions wider
 * than the rows, NaN payloads and -0 kept, and nothing written past the
 * transposed elements (a guard value in the gaps of t). */
static void test_f32_transpose(const nns_kernels *k) {
    enum { MAXD = 53 };
    static float s[MAXD * (MAXD + 3)], t[MAXD * (MAXD + 5)];
    const int dims[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 53};
    const int nd = (int)(sizeof dims / sizeof *dims);
    for (int it = 0; it < 200; it++) {
        const int rows = it < nd * nd ? dims[it / nd] : rnd(1, MAXD), cols = it < nd * nd ? dims[it % nd] : rnd(1, MAXD);
        const size_t lds = (size_t)cols + (size_t)(it % 4), ldt = (size_t)rows + (size_t)(it % 6);
        for (size_t i = 0; i < (size_t)rows * lds; i++) {
            uint32_t u = (uint32_t)rnd(0, 0xffff) << 16 | (uint32_t)rnd(0, 0xffff);
            if (i % 11 == 3) u = 0x7fc12345u; /* a NaN with a payload */
            if (i % 13 == 4) u = 0x80000000u;
            memcpy(&s[i], &u, 4);
        }
        for (size_t i = 0; i < (size_t)cols * ldt; i++) t[i] = 1234.5f;
        k->f32_transpose(rows, cols, s, lds, t, ldt);
        int ok = 1, br = -1, bc = -1;
        for (int c = 0; c < cols; c++)
            for (size_t r = 0; r < ldt; r++) {
                const float want = (int)r < rows ? s[r * lds + c] : 1234.5f;
                if (memcmp(&t[c * ldt + r], &want, 4) && ok) {
                    ok = 0;
                    br = (int)r;
                    bc = c;
                }
            }
        CHECK_MSG(ok, "%s f32_transpose %dx%d (lds %zu, ldt %zu): t[%d][%d] wrong", cur_variant, rows, cols, lds, ldt,
                  bc, br);
    }
}

/* Sigmoid and SiLU against the reference, bit for bit (a NaN only needs to
 * stay a NaN): random values from 1e-6 to 1e3 in magnitude and random bit
 * patterns, the edges of the exponential's range (87.336 and around it),
 * zeros, infinities, NaNs, subnormals; lengths across the vector widths;
 * in place too. */
static void test_f32_sigmoid(const nns_kernels *k) {
    static const uint32_t special[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u,
                                       0x00000001u, 0x80000001u, 0x42aeac08u, 0xc2aeac08u, 0x42aeac09u, 0xc2aeac07u,
                                       0x42b00000u, 0xc2b00000u, 0x7f7fffffu, 0xff7fffffu, 0x3f800000u, 0xbf800000u,
                                       0x41200000u, 0xc1200000u, 0x33800000u, 0xb3800000u};
    const int ns = (int)(sizeof special / sizeof *special);
    for (int it = 0; it < 160; it++) {
        const int silu = it & 1, n = it < 4 ? ns : rnd(1, 70), inplace = it % 3 == 0;
        float x[72], y[73], want[72];
        for (int j = 0; j < n; j++) {
            if (it < 4) {
                memcpy(&x[j], &special[j], 4);
            } else if (j % 4 == 3) {
                const uint32_t u = (uint32_t)rnd(0, 0xffff) << 16 | (uint32_t)rnd(0, 0xffff);
                memcpy(&x[j], &u, 4);
            } else {
                x[j] = (rnd(0, 1) ? 1.0f : -1.0f) * powf(10.0f, (float)rnd(-6000, 3000) / 1000.0f);
            }
        }
        nns_f32_sigmoid__ref(n, x, want, silu);
        float *out = inplace ? x : y;
        y[n] = 1234.5f;
        k->f32_sigmoid(n, x, out, silu);
        int ok = inplace || y[n] == 1234.5f, bad = -1;
        for (int j = 0; j < n; j++) {
            const int same = (out[j] != out[j] && want[j] != want[j]) || memcmp(&out[j], &want[j], 4) == 0;
            if (!same && bad < 0) bad = j;
            ok &= same;
        }
        CHECK_MSG(ok, "%s f32_sigmoid silu %d n%d: value %d is %a, want %a", cur_variant, silu, n, bad,
                  bad >= 0 ? (double)out[bad] : 0.0, bad >= 0 ? (double)want[bad] : 0.0);
    }
}

/* ---- BatchNormalization rows ------------------------------------------- */

/* Row lengths across the vector widths and the planes of real layers. */
static int bn_len(int it) {
    static const int lens[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 49, 63, 64, 65, 196, 784};
    const int nl = (int)(sizeof lens / sizeof *lens);
    return it < nl ? lens[it] : rnd(1, 300);
}

/* A row around an offset (the deviations small against it, where a sum
 * of squares about zero would lose them), some of it Relu's zeros. */
static void bn_fill(float *x, int n, float off) {
    for (int j = 0; j < n; j++) x[j] = off + (2.0f * nns_rng_uniform(&rng) - 1.0f) * (j % 5 == 4 ? 0.0f : 1.0f);
}

/* Mean and squared deviations against double sums. */
static void test_f32_bn_stats(const nns_kernels *k) {
    static float x[800];
    for (int it = 0; it < 120; it++) {
        const int n = bn_len(it);
        const float off = it % 3 == 0 ? 0.0f : it % 3 == 1 ? 3.5f : -40.0f;
        bn_fill(x, n, off);
        double s = 0.0, q = 0.0, mean = -1.0, m2 = -1.0;
        for (int j = 0; j < n; j++) s += x[j];
        for (int j = 0; j < n; j++) q += (x[j] - s / n) * (x[j] - s / n);
        k->f32_bn_stats(x, n, &mean, &m2);
        const double em = fabs(mean - s / n), eq = fabs(m2 - q);
        CHECK_MSG(em <= 1e-6 * (1.0 + fabs(off)) && eq <= 1e-4 * (q + 1e-3), "%s f32_bn_stats n%d off %g: mean %.9g (want %.9g), m2 %.9g (want %.9g)",
                  cur_variant, n, (double)off, mean, s / n, m2, q);
    }
}

/* Bits against the reference, for each activation, in place too, and
 * nothing written past the row; NaN, -0 and the Clip bounds included. */
static void test_f32_bn_apply(const nns_kernels *k) {
    static float x[801], y[801], want[801];
    for (int it = 0; it < 150; it++) {
        const int n = bn_len(it / 3), act = it % 3, inplace = it % 4 == 1;
        const float a = 0.5f + nns_rng_uniform(&rng), b = nns_rng_uniform(&rng) - 0.5f;
        bn_fill(x, n, 0.0f);
        if (n > 5) {
            const uint32_t nan = 0x7fc00001u, nz = 0x80000000u;
            memcpy(&x[n / 2], &nan, 4);
            memcpy(&x[n / 3], &nz, 4);
            x[n - 2] = (-0.3f - b) / a; /* at the Clip's lower bound, or near */
        }
        nns_f32_bn_apply__ref(x, want, n, a, b, act, -0.3f, 0.4f);
        float *out = inplace ? x : y;
        out[n] = 1234.5f;
        k->f32_bn_apply(x, out, n, a, b, act, -0.3f, 0.4f);
        int bad = -1;
        for (int j = 0; j < n && bad < 0; j++)
            if (memcmp(&out[j], &want[j], 4)) bad = j;
        CHECK_MSG(bad < 0 && out[n] == 1234.5f, "%s f32_bn_apply act %d n%d%s: value %d is %a, want %a", cur_variant, act, n,
                  inplace ? " in place" : "", bad, bad >= 0 ? (double)out[bad] : 0.0, bad >= 0 ? (double)want[bad] : 0.0);
    }
}

/* A row's coefficients: random, the activation act. */
static nns_bn_row bn_row(int act, int training, int overwrite) {
    nns_bn_row r;
    r.mean = nns_rng_uniform(&rng) - 0.5f;
    r.inv = 0.5f + nns_rng_uniform(&rng);
    r.za = 0.5f + nns_rng_uniform(&rng);
    r.zb = nns_rng_uniform(&rng) - 0.5f;
    r.k = r.za;
    r.mdy = 0.1f * nns_rng_uniform(&rng);
    r.mdyx = 0.1f * nns_rng_uniform(&rng);
    r.lo = -0.3f;
    r.hi = 0.4f;
    r.act = act;
    r.training = training;
    r.overwrite = overwrite;
    return r;
}

/* The two sums against double sums of the same masked gradient. */
static void test_f32_bn_grad_sums(const nns_kernels *k) {
    static float g[800], x[800];
    for (int it = 0; it < 150; it++) {
        const int n = bn_len(it / 3), act = it % 3;
        const nns_bn_row r = bn_row(act, 1, 0);
        bn_fill(x, n, 0.0f);
        bn_fill(g, n, 0.0f);
        double s1 = 0.0, s2 = 0.0, a1 = 0.0, a2 = 0.0;
        for (int j = 0; j < n; j++) {
            const float z = x[j] * r.za + r.zb;
            const int keep = act == 0 || (act == 1 ? z > 0.0f : z >= r.lo && z <= r.hi);
            const double gg = keep ? g[j] : 0.0, d = gg * ((double)x[j] - r.mean);
            s1 += gg;
            s2 += d;
            a1 += fabs(gg);
            a2 += fabs(d);
        }
        float sg = -1.0f, sgx = -1.0f;
        k->f32_bn_grad_sums(g, x, n, &r, &sg, &sgx);
        CHECK_MSG(fabs(sg - s1) <= 1e-5 * (a1 + 1e-3) && fabs(sgx - s2) <= 1e-5 * (a2 + 1e-3),
                  "%s f32_bn_grad_sums act %d n%d: %.9g %.9g, want %.9g %.9g", cur_variant, act, n, (double)sg,
                  (double)sgx, s1, s2);
    }
}

/* Bits against the reference in all twelve cases (activation, training,
 * overwrite), nothing written past the row. */
static void test_f32_bn_grad_row(const nns_kernels *k) {
    static float g[801], x[801], gx[801], want[801];
    for (int it = 0; it < 240; it++) {
        const int n = bn_len(it / 12), c = it % 12;
        const nns_bn_row r = bn_row(c / 4, (c / 2) & 1, c & 1);
        bn_fill(x, n, 0.0f);
        bn_fill(g, n, 0.0f);
        bn_fill(gx, n, 0.0f);
        memcpy(want, gx, (size_t)n * sizeof(float));
        gx[n] = 1234.5f;
        nns_f32_bn_grad_row__ref(x, g, want, n, &r);
        k->f32_bn_grad_row(x, g, gx, n, &r);
        int bad = -1;
        for (int j = 0; j < n && bad < 0; j++)
            if (memcmp(&gx[j], &want[j], 4)) bad = j;
        CHECK_MSG(bad < 0 && gx[n] == 1234.5f, "%s f32_bn_grad_row case %d n%d: value %d is %a, want %a", cur_variant, c,
                  n, bad, bad >= 0 ? (double)gx[bad] : 0.0, bad >= 0 ? (double)want[bad] : 0.0);
    }
}

static void test_q8_add(const nns_kernels *k) {
    for (int it = 0; it < 300; it++) {
        const int n = rnd(1, 100), sgn = it % 8;
        const int32_t az = sgn & 1 ? rnd(-128, 127) : rnd(0, 255), bz = sgn & 2 ? rnd(-128, 127) : rnd(0, 255);
        const int32_t yz = sgn & 4 ? rnd(-128, 127) : (it % 3 == 0 ? 0 : rnd(0, 255));
        const int32_t tlo = sgn & 4 ? -128 : 0, thi = sgn & 4 ? 127 : 255;
        const int32_t lo = it % 5 == 0 ? yz : tlo, hi = thi;
        const float ma = (float)rnd(1, 1 << 16) / (float)(1 << (it % 4 == 0 ? 10 : 16)), mb = (float)rnd(1, 1 << 16) / 65536.0f;
        uint8_t a[100], b[100], y[101];
        for (int j = 0; j < n; j++) a[j] = (uint8_t)(j % 7 == 0 ? 255 : j % 7 == 1 ? 0 : rnd(0, 255)), b[j] = (uint8_t)rnd(0, 255);
        y[n] = 0x5a;
        k->q8_add(n, a, az, ma, b, bz, mb, yz, lo, hi, sgn, y);
        int ok = y[n] == 0x5a;
        for (int j = 0; j < n; j++) {
            const int32_t av = sgn & 1 ? (int8_t)a[j] : a[j], bv = sgn & 2 ? (int8_t)b[j] : b[j];
            const volatile float t = (float)(av - az) * ma, u = (float)(bv - bz) * mb; /* each rounded to float */
            const float s = t + u;
            int32_t want = (int32_t)nearbyintf(s) + yz;
            want = want < lo ? lo : want > hi ? hi : want;
            ok &= (sgn & 4 ? (int32_t)(int8_t)y[j] : (int32_t)y[j]) == want;
        }
        CHECK_MSG(ok, "%s q8_add n%d sgn%d az %d bz %d yz %d [%d, %d]", cur_variant, n, sgn, az, bz, yz, lo, hi);
    }
}

/* Matrix times vector against a direct sum: k across the 16/64 steps,
 * values at the ends (255 x -128 would saturate vpmaddubsw's pair sums). */
static void test_qgemv_u8s8(const nns_kernels *k) {
    for (int it = 0; it < 200; it++) {
        const int m = rnd(1, 19), kk = it % 5 == 0 ? rnd(1, 8) : rnd(1, 700), kp = nns_qgemv_pad(kk);
        const size_t ldw = (size_t)kp + (it % 3 ? 0 : 64);
        int8_t *w = calloc((size_t)m * ldw, 1);
        uint8_t *x = calloc((size_t)kp, 1);
        int32_t *acc = malloc((size_t)(m + 1) * sizeof *acc), *bias = malloc((size_t)m * sizeof *bias);
        for (int l = 0; l < kk; l++) x[l] = (uint8_t)(it % 4 == 0 ? 255 : rnd(0, 255));
        for (int i = 0; i < m; i++) {
            bias[i] = rnd(-100000, 100000);
            for (int l = 0; l < kk; l++) w[i * ldw + l] = (int8_t)(it % 4 == 0 ? -128 : rnd(-128, 127));
        }
        acc[m] = 0x5a5a;
        k->qgemv_u8s8(m, kk, w, ldw, x, it % 2 ? bias : NULL, acc);
        int ok = acc[m] == 0x5a5a;
        for (int i = 0; i < m; i++) {
            int64_t s = it % 2 ? bias[i] : 0;
            for (int l = 0; l < kk; l++) s += (int64_t)w[i * ldw + l] * x[l];
            ok &= acc[i] == s;
        }
        CHECK_MSG(ok, "%s qgemv m%d k%d ldw %zu", cur_variant, m, kk, ldw);
        free(w); free(x); free(acc); free(bias);
    }
}

/* One test per family of kernel_list.h, given a table whose entry for that
 * family is the variant under test (the others are references). */
/* u8 im2col against the definition: the zero point in the padding. */
static void test_u8_im2col(const nns_kernels *k) {
    for (int it = 0; it < 200; it++) {
        nns_conv2d_geom g = random_geom(it % 2 ? 10 : 40);
        if (g.oh <= 0 || g.ow <= 0) continue;
        const int c = rnd(1, 3);
        const uint8_t pad = (uint8_t)(it % 3 == 0 ? 0 : it % 3 == 1 ? 128 : 255);
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow, rows = (size_t)c * g.kh * g.kw;
        uint8_t *x = malloc(c * ihw), *col = malloc(rows * ohw);
        for (size_t i = 0; i < c * ihw; i++) x[i] = (uint8_t)rnd(0, 255);
        const int rows_total = (int)rows, l0 = it % 4 == 1 ? rnd(0, rows_total - 1) : 0;
        const int l1 = it % 4 == 1 ? rnd(l0 + 1, rows_total) : rows_total;
        k->u8_im2col(&g, x, pad, l0, l1, col + (size_t)l0 * ohw, ohw);
        int ok = 1;
        for (int ci = 0; ci < c && ok; ci++)
            for (int i = 0; i < g.kh; i++)
                for (int j = 0; j < g.kw; j++)
                    for (int oy = 0; oy < g.oh; oy++)
                        for (int ox = 0; ox < g.ow; ox++) {
                            int iy = oy * g.sh - g.pt + i * g.dh, ix = ox * g.sw - g.pl + j * g.dw;
                            uint8_t want = (iy >= 0 && iy < g.ih && ix >= 0 && ix < g.iw)
                                               ? x[(size_t)ci * ihw + (size_t)iy * g.iw + ix]
                                               : pad;
                            const size_t l = ((size_t)ci * g.kh + i) * g.kw + j;
                            if (l >= (size_t)l0 && l < (size_t)l1 && col[l * ohw + (size_t)oy * g.ow + ox] != want)
                                ok = 0;
                        }
        CHECK_MSG(ok, "%s u8 im2col: ih%d iw%d k%dx%d s%d,%d p%d,%d pad %d", cur_variant, g.ih, g.iw, g.kh, g.kw,
                  g.sh, g.sw, g.pt, g.pl, pad);
        free(x);
        free(col);
    }
}

/* The int8 depthwise plane against the definition (the zero point outside
 * the plane), scratch poisoned, extreme values, crops. */
static void test_u8_dwconv(const nns_kernels *k) {
    for (int it = 0; it < 300; it++) {
        nns_conv2d_geom g = random_geom(it % 2 ? 12 : 40);
        if (it % 5 == 0) g.pt = -1, g.pl = -1;
        if (it % 3 == 0) { /* the common 3x3, stride 1 or 2, pad 1 */
            g.kh = g.kw = 3, g.dh = g.dw = 1, g.sh = g.sw = rnd(1, 2), g.pt = g.pl = 1;
            g.ih = rnd(1, 40), g.iw = rnd(1, 40);
            g.oh = (g.ih + 2 - 3) / g.sh + 1, g.ow = (g.iw + 2 - 3) / g.sw + 1;
        }
        if (g.oh <= 0 || g.ow <= 0) continue;
        const uint8_t pad = (uint8_t)rnd(0, 255);
        const int extreme = it % 7 == 0;
        uint8_t *x = malloc((size_t)g.ih * g.iw), *s = malloc(nns_u8_dwconv_scratch_bytes(&g));
        int8_t w[25];
        int32_t *acc = malloc((size_t)g.oh * g.ow * sizeof *acc);
        for (int i = 0; i < g.ih * g.iw; i++) x[i] = (uint8_t)(extreme ? 255 : rnd(0, 255));
        for (int i = 0; i < g.kh * g.kw; i++) w[i] = (int8_t)(extreme ? -128 : rnd(-128, 127));
        memset(s, 0xa5, nns_u8_dwconv_scratch_bytes(&g));
        const int32_t bias = rnd(-100000, 100000);
        k->u8_dwconv(&g, x, pad, w, bias, acc, s);
        int ok = 1;
        for (int oy = 0; oy < g.oh; oy++)
            for (int ox = 0; ox < g.ow; ox++) {
                int64_t want = bias;
                for (int i = 0; i < g.kh; i++)
                    for (int j = 0; j < g.kw; j++) {
                        const int iy = oy * g.sh - g.pt + i * g.dh, ix = ox * g.sw - g.pl + j * g.dw;
                        want += (int64_t)w[i * g.kw + j] * (iy >= 0 && iy < g.ih && ix >= 0 && ix < g.iw ? x[iy * g.iw + ix] : pad);
                    }
                ok &= acc[oy * g.ow + ox] == want;
            }
        CHECK_MSG(ok, "%s u8 dwconv: ih%d iw%d k%dx%d s%d,%d d%d,%d p%d,%d", cur_variant, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw,
                  g.dh, g.dw, g.pt, g.pl);
        free(x);
        free(s);
        free(acc);
    }
}

/* Requantization against the scalar rule: huge and tiny multipliers,
 * accumulators at the int32 ends, every zero point and clamp, odd n. */
static void test_q8_requant(const nns_kernels *k) {
    for (int it = 0; it < 400; it++) {
        const int n = rnd(1, 90), sgn = it % 2;
        const float mult = it % 9 == 0 ? 1000.0f : it % 9 == 1 ? 1e-9f : (float)rnd(1, 1 << 20) / (float)(1 << 24);
        const int32_t zp = sgn ? rnd(-128, 127) : (it % 3 == 0 ? 0 : it % 3 == 1 ? 128 : 255);
        int32_t qlo = sgn ? -128 : 0, qhi = sgn ? 127 : 255;
        if (it % 4 == 3) qlo = zp, qhi = qhi - rnd(0, 20) > qlo ? qhi - rnd(0, 20) : qhi; /* a fused Relu / Clip */
        int32_t *acc = malloc((size_t)n * sizeof *acc);
        uint8_t *y = malloc((size_t)n + 1);
        for (int j = 0; j < n; j++)
            acc[j] = j % 13 == 0 ? INT32_MAX : j % 13 == 1 ? INT32_MIN : rnd(-(1 << 30), 1 << 30) >> rnd(0, 24);
        y[n] = 0x5a;
        k->q8_requant(n, acc, mult, zp, qlo, qhi, sgn, y);
        int ok = y[n] == 0x5a;
        for (int j = 0; j < n; j++) {
            const int32_t want = nns_q_requant(acc[j], mult, zp, qlo, qhi);
            ok &= (sgn ? (int32_t)(int8_t)y[j] : (int32_t)y[j]) == want;
        }
        CHECK_MSG(ok, "%s requant: n%d mult %g zp %d [%d, %d] %s", cur_variant, n, (double)mult, zp, qlo, qhi, sgn ? "s8" : "u8");
        free(acc);
        free(y);
    }
}

/* The quad layout against its definition, zeros past k. */
static void test_u8_pack_quads(const nns_kernels *k) {
    for (int it = 0; it < 200; it++) {
        const int kk = rnd(1, 40), n = rnd(1, 70);
        const size_t ldx = (size_t)n + rnd(0, 7), ldq = nns_quad_row_bytes(n) + rnd(0, 9);
        uint8_t *x = malloc((size_t)kk * ldx), *xq = malloc((size_t)nns_quads(kk) * ldq);
        for (size_t i = 0; i < (size_t)kk * ldx; i++) x[i] = (uint8_t)rnd(0, 255);
        memset(xq, 0xa5, (size_t)nns_quads(kk) * ldq);
        k->u8_pack_quads(kk, n, x, ldx, xq, ldq);
        int ok = 1;
        for (int l = 0; l < 4 * nns_quads(kk); l++)
            for (int j = 0; j < n; j++)
                ok &= xq[(size_t)(l / 4) * ldq + 4 * (size_t)j + l % 4] == (l < kk ? x[(size_t)l * ldx + j] : 0);
        CHECK_MSG(ok, "%s pack quads: k%d n%d", cur_variant, kk, n);
        free(x);
        free(xq);
    }
}

/* u8 x s8 GEMM against an int64 sum: odd and unaligned sizes, the extreme
 * values (255 x -128 in every product of a row), strides wider than rows. */
/* Value patterns of a qgemm case: random, or the extremes (x = 255 against
 * weights all -128, all 127, or alternating), or x all zero. */
enum { QG_RANDOM, QG_MIN, QG_MAX, QG_ALT, QG_ZERO_X, QG_PATTERNS };

static int8_t qg_weight(int pattern, int l) {
    switch (pattern) {
    case QG_MIN: return -128;
    case QG_MAX: return 127;
    case QG_ALT: return (int8_t)(l % 2 ? -128 : 127);
    default: return (int8_t)rnd(-128, 127);
    }
}

/* One qgemm of m x n x kk (rows of w padded by wpad quads, acc rows lpad
 * columns past n, quad rows qpad bytes past n*4) against the definition in
 * int64; acc's padding columns must stay untouched. Returns 1 if right. */
static int qgemm_case(const nns_kernels *k, int m, int n, int kk, int pattern, int with_bias, int wpad, int lpad,
                      int qpad) {
    const size_t ldw = 4 * (size_t)(nns_quads(kk) + wpad), ldx = (size_t)n + rnd(0, 9), lda = (size_t)n + lpad;
    const size_t ldq = nns_quad_row_bytes(n) + qpad;
    int8_t *w = calloc((size_t)m * ldw, 1);
    uint8_t *x = malloc((size_t)kk * ldx), *xq = malloc((size_t)nns_quads(kk) * ldq);
    int32_t *bias = malloc((size_t)m * sizeof *bias), *acc = malloc((size_t)m * lda * sizeof *acc);
    for (int i = 0; i < m; i++)
        for (int l = 0; l < kk; l++) w[(size_t)i * ldw + l] = qg_weight(pattern, l);
    for (size_t i = 0; i < (size_t)kk * ldx; i++)
        x[i] = (uint8_t)(pattern == QG_ZERO_X ? 0 : pattern == QG_RANDOM ? rnd(0, 255) : 255);
    for (int i = 0; i < m; i++) bias[i] = rnd(-100000, 100000);
    for (size_t i = 0; i < (size_t)m * lda; i++) acc[i] = 0x5a5a5a5a;
    nns_u8_pack_quads__ref(kk, n, x, ldx, xq, ldq);
    k->qgemm_u8s8(m, n, kk, w, ldw, xq, ldq, with_bias ? bias : NULL, acc, lda);
    int ok = 1;
    for (int i = 0; i < m && ok; i++) {
        for (int j = 0; j < n; j++) {
            int64_t want = with_bias ? bias[i] : 0;
            for (int l = 0; l < kk; l++) want += (int64_t)w[(size_t)i * ldw + l] * x[(size_t)l * ldx + j];
            if (acc[(size_t)i * lda + j] != want) ok = 0;
        }
        for (size_t j = (size_t)n; j < lda; j++)
            if (acc[(size_t)i * lda + j] != 0x5a5a5a5a) ok = 0;
    }
    CHECK_MSG(ok, "%s qgemm u8s8: m%d n%d k%d pattern %d bias %d", cur_variant, m, n, kk, pattern, with_bias);
    free(w);
    free(x);
    free(xq);
    free(bias);
    free(acc);
    return ok;
}

static void test_qgemm_u8s8(const nns_kernels *k) {
    for (int it = 0; it < 300; it++) {
        const int m = rnd(1, 37), n = it % 11 == 0 ? rnd(100, 300) : rnd(1, 70), kk = it % 7 == 0 ? rnd(500, 1200) : rnd(1, 90);
        const int pattern = it % 5 == 0 ? QG_ALT : it % 17 == 0 ? QG_ZERO_X : QG_RANDOM;
        qgemm_case(k, m, n, kk, pattern, it % 3 != 0, rnd(0, 2), rnd(0, 3), rnd(0, 9));
    }
    /* every column tail 1..64 of the 16-, 24-, 32- and 48-column tiles, odd
     * and even rows around the 1/2/4/8-row tiles, k off the quads */
    static const int ms[] = {1, 2, 3, 5, 7, 8, 9, 12, 13, 17};
    static const int ks[] = {1, 2, 3, 4, 5, 9, 13, 31};
    int bad = 0;
    for (int n = 1; n <= 100 && bad < 5; n++) {
        const int m = ms[n % 10], kk = ks[n % 8];
        bad += !qgemm_case(k, m, n, kk, n % QG_PATTERNS, n % 2, n % 3, n % 4, n % 5);
        bad += !qgemm_case(k, ms[(n + 3) % 10], n, ks[(n + 5) % 8] * 4, (n + 2) % QG_PATTERNS, 1, 0, 1, 0);
    }
    /* the extremes over long k: |sum| up to 255 * 128 * 1200 */
    for (int p = QG_MIN; p <= QG_ALT; p++) qgemm_case(k, 9, 53, 1200, p, 1, 1, 2, 3);
    /* the vggsmall im2col shapes and a batch-64 fc */
    static const int shapes[][3] = {{32, 784, 9}, {32, 784, 288}, {64, 196, 288}, {64, 196, 576}, {256, 64, 3136}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        qgemm_case(k, shapes[s][0], shapes[s][1], shapes[s][2], QG_RANDOM, 1, 0, 0, 0);
}

/* One float GEMM of m x n x kk with activation act against the products
 * summed in double (within (k + 2) * 2^-24 of the sum of |terms| before the
 * activation, applied to the double sum), padding columns of y untouched;
 * NaN inputs give the ternaries' results. */
static int f32_gemm_case(const nns_kernels *k, int m, int n, int kk, int with_bias, int act, int ypad) {
    const size_t ldw = (size_t)kk + rnd(0, 3), ldx = (size_t)n + rnd(0, 5), ldy = (size_t)n + ypad;
    float *w = malloc((size_t)m * ldw * sizeof *w), *x = malloc((size_t)kk * ldx * sizeof *x);
    float *bias = malloc((size_t)m * sizeof *bias), *y = malloc((size_t)m * ldy * sizeof *y);
    for (size_t i = 0; i < (size_t)m * ldw; i++) w[i] = (float)rnd(-1000, 1000) / 512.0f;
    for (size_t i = 0; i < (size_t)kk * ldx; i++) x[i] = (float)rnd(-1000, 1000) / 256.0f;
    for (int i = 0; i < m; i++) bias[i] = (float)rnd(-200, 200) / 16.0f;
    for (size_t i = 0; i < (size_t)m * ldy; i++) y[i] = 1234.5f;
    const float lo = -1.5f, hi = 2.25f;
    k->f32_gemm(m, n, kk, w, ldw, x, ldx, with_bias ? bias : NULL, y, ldy, act, lo, hi);
    int ok = 1;
    for (int i = 0; i < m && ok; i++) {
        for (int j = 0; j < n; j++) {
            double want = with_bias ? bias[i] : 0.0, mag = fabs(want);
            for (int l = 0; l < kk; l++) {
                const double t = (double)w[(size_t)i * ldw + l] * x[(size_t)l * ldx + j];
                want += t;
                mag += fabs(t);
            }
            if (act == 1) want = want > 0 ? want : 0;
            if (act == 2) want = want < lo ? lo : want > hi ? hi : want;
            if (fabs(y[(size_t)i * ldy + j] - want) > mag * (kk + 2) * 0x1p-24 + 1e-30) ok = 0;
        }
        for (size_t j = (size_t)n; j < ldy; j++) ok &= y[(size_t)i * ldy + j] == 1234.5f;
    }
    CHECK_MSG(ok, "%s f32_gemm: m%d n%d k%d bias %d act %d", cur_variant, m, n, kk, with_bias, act);
    free(w);
    free(x);
    free(bias);
    free(y);
    return ok;
}

static void test_f32_gemm(const nns_kernels *k) {
    int bad = 0;
    for (int it = 0; it < 200 && bad < 5; it++) {
        const int m = rnd(1, 37), n = it % 11 == 0 ? rnd(100, 300) : rnd(1, 70), kk = it % 7 == 0 ? rnd(300, 700) : rnd(1, 60);
        bad += !f32_gemm_case(k, m, n, kk, it % 3 != 0, it % 3, rnd(0, 3));
    }
    static const int ms[] = {1, 2, 3, 5, 7, 8, 9, 12, 13, 17};
    for (int n = 1; n <= 100 && bad < 5; n++) bad += !f32_gemm_case(k, ms[n % 10], n, n % 9 + 1, n % 2, n % 3, n % 4);
    /* k = 0: the bias alone, activated */
    f32_gemm_case(k, 3, 20, 0, 1, 1, 0);
    /* NaN and -0 through Relu and Clip: the ternaries' results */
    const float nan = NAN, w1[1] = {1.0f}, xs[4] = {nan, -0.0f, 0.0f, -3.0f};
    float y[4];
    k->f32_gemm(1, 4, 1, w1, 1, xs, 4, NULL, y, 4, 1, 0, 0);
    uint32_t u[4];
    memcpy(u, y, sizeof u);
    CHECK_MSG(u[0] == 0 && u[1] == 0 && u[2] == 0 && u[3] == 0, "%s f32_gemm Relu: %a %a %a %a", cur_variant, y[0], y[1],
              y[2], y[3]);
    k->f32_gemm(1, 4, 1, w1, 1, xs, 4, NULL, y, 4, 2, -1.0f, 1.0f);
    CHECK_MSG(y[0] != y[0] && y[3] == -1.0f, "%s f32_gemm Clip: %a %a", cur_variant, y[0], y[3]);
}

/* One float16-weight GEMM against the exact sum in double (within (k + 2)
 * * 2^-24 of the sum of |terms|), the weights' float values from the dtype
 * table, padding columns of y untouched. */
static int f16_gemm_case(const nns_kernels *k, int m, int n, int kk, int with_bias, int ypad) {
    const nns_dtype_info *di = nns_dtype_get_info(NNS_DTYPE_F16);
    const size_t ldw = (size_t)kk + rnd(0, 3), ldx = (size_t)kk + rnd(0, 5), ldy = (size_t)n + ypad;
    uint16_t *w = malloc((size_t)n * ldw * 2);
    float *x = malloc((size_t)m * ldx * sizeof *x), *bias = malloc((size_t)n * sizeof *bias);
    float *y = malloc((size_t)m * ldy * sizeof *y);
    for (size_t i = 0; i < (size_t)n * ldw; i++) di->from_f32((float)rnd(-30000, 30000) / 4096.0f, &w[i]);
    for (size_t i = 0; i < (size_t)m * ldx; i++) x[i] = (float)rnd(-1000, 1000) / 256.0f;
    for (int j = 0; j < n; j++) bias[j] = (float)rnd(-100, 100) / 8.0f;
    for (size_t i = 0; i < (size_t)m * ldy; i++) y[i] = 1234.5f;
    k->f16_gemm(m, n, kk, x, ldx, w, ldw, with_bias ? bias : NULL, y, ldy);
    int ok = 1;
    for (int i = 0; i < m && ok; i++) {
        for (int j = 0; j < n; j++) {
            double want = with_bias ? bias[j] : 0.0, mag = fabs(want);
            for (int l = 0; l < kk; l++) {
                const double t = (double)x[(size_t)i * ldx + l] * di->to_f32(&w[(size_t)j * ldw + l]);
                want += t;
                mag += fabs(t);
            }
            if (fabs(y[(size_t)i * ldy + j] - want) > mag * (kk + 2) * 0x1p-24 + 1e-30) ok = 0;
        }
        for (size_t j = (size_t)n; j < ldy; j++) ok &= y[(size_t)i * ldy + j] == 1234.5f;
    }
    CHECK_MSG(ok, "%s f16_gemm: m%d n%d k%d bias %d", cur_variant, m, n, kk, with_bias);
    free(w);
    free(x);
    free(bias);
    free(y);
    return ok;
}

static void test_f16_gemm(const nns_kernels *k) {
    int bad = 0;
    for (int it = 0; it < 200 && bad < 5; it++)
        bad += !f16_gemm_case(k, rnd(1, 9), rnd(1, 20), it % 4 == 0 ? rnd(1, 40) : rnd(1, 700), it % 3 != 0, rnd(0, 3));
    f16_gemm_case(k, 1, 256, 3136, 1, 0);
    f16_gemm_case(k, 6, 64, 3136, 1, 1);
}

/* One 4-bit GEMM of m x n x kk with groups of bs against the exact sum in
 * double (within (k + groups + 2) * 2^-24 of the sum of |terms|), the
 * packing checked code by code, padding columns of y untouched. */
static int s4_gemm_case(const nns_kernels *k, int m, int n, int kk, int bs, int with_bias, int ypad) {
    const int ng = (kk + bs - 1) / bs;
    const size_t ldc = (size_t)kk + rnd(0, 3), ldw = nns_s4_row_bytes(kk) + 16 * (size_t)rnd(0, 1);
    const size_t ldx = (size_t)kk + rnd(0, 5), ldy = (size_t)n + ypad;
    int8_t *codes = malloc((size_t)n * ldc);
    uint8_t *w = malloc((size_t)n * ldw);
    float *x = malloc((size_t)m * ldx * sizeof *x), *sc = malloc((size_t)n * ng * sizeof *sc);
    float *bias = malloc((size_t)n * sizeof *bias), *y = malloc((size_t)m * ldy * sizeof *y);
    for (size_t i = 0; i < (size_t)n * ldc; i++) codes[i] = (int8_t)(i % 9 == 0 ? -8 : i % 9 == 1 ? 7 : rnd(-8, 7));
    for (size_t i = 0; i < (size_t)m * ldx; i++) x[i] = (float)rnd(-1000, 1000) / 256.0f;
    for (int i = 0; i < n * ng; i++) sc[i] = (float)rnd(1, 1000) / 4096.0f;
    for (int j = 0; j < n; j++) bias[j] = (float)rnd(-100, 100) / 8.0f;
    for (size_t i = 0; i < (size_t)m * ldy; i++) y[i] = 1234.5f;
    nns_s4_pack_rows(n, kk, codes, ldc, w, ldw);
    int ok = 1;
    for (int j = 0; j < n; j++)
        for (int l = 0; l < kk; l++) ok &= nns_s4_code(w + (size_t)j * ldw, l) == codes[(size_t)j * ldc + l];
    CHECK_MSG(ok, "s4 packing: n%d k%d", n, kk);
    k->s4_gemm(m, n, kk, x, ldx, w, ldw, sc, bs, with_bias ? bias : NULL, y, ldy);
    for (int i = 0; i < m && ok; i++) {
        for (int j = 0; j < n; j++) {
            double want = with_bias ? bias[j] : 0.0, mag = fabs(want);
            for (int l = 0; l < kk; l++) {
                const double t = (double)x[(size_t)i * ldx + l] * codes[(size_t)j * ldc + l] * sc[(size_t)j * ng + l / bs];
                want += t;
                mag += fabs(t);
            }
            if (fabs(y[(size_t)i * ldy + j] - want) > mag * (kk + ng + 2) * 0x1p-24 + 1e-30) ok = 0;
        }
        for (size_t j = (size_t)n; j < ldy; j++) ok &= y[(size_t)i * ldy + j] == 1234.5f;
    }
    CHECK_MSG(ok, "%s s4_gemm: m%d n%d k%d bs%d bias %d", cur_variant, m, n, kk, bs, with_bias);
    free(codes);
    free(w);
    free(x);
    free(sc);
    free(bias);
    free(y);
    return ok;
}

static void test_s4_gemm(const nns_kernels *k) {
    static const int bss[] = {32, 64, 128, 16, 48};
    int bad = 0;
    for (int it = 0; it < 200 && bad < 5; it++) {
        const int bs = bss[it % 5], kk = it % 4 == 0 ? rnd(1, 40) : rnd(1, 700);
        bad += !s4_gemm_case(k, rnd(1, 9), rnd(1, 20), kk, bs, it % 3 != 0, rnd(0, 3));
    }
    /* vggsmall's fc1 at batch 1 and 5 */
    s4_gemm_case(k, 1, 256, 3136, 64, 1, 0);
    s4_gemm_case(k, 5, 64, 3136, 64, 1, 1);
}

/* A random bfloat16 value: normal (vdpbf16ps flushes subnormals), in
 * roughly [-8, 8], or zero now and then. */
static uint16_t bf16_rand(void) {
    if (rnd(0, 15) == 0) return 0;
    return (uint16_t)((rnd(0, 1) << 15) | (rnd(120, 130) << 7) | rnd(0, 127));
}
static float bf16_f(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* One bf16 GEMM of m x n x kk (weight rows padded by wpad pairs, acc rows
 * lpad columns past n, pair rows ppad elements past 2n) against the sum of
 * the exact products in double: within (k + 2) * 2^-24 of the sum of
 * |products| (the bound of k float additions), padding columns untouched. Returns 1 if right. */
static int bf16_gemm_case(const nns_kernels *k, int m, int n, int kk, int with_bias, int wpad, int lpad, int ppad) {
    const int kp = nns_bf16_pairs(kk);
    const size_t ldw = 2 * (size_t)(kp + wpad), ldx = (size_t)n + rnd(0, 5), lda = (size_t)n + lpad;
    const size_t ldp = 2 * (size_t)n + ppad;
    uint16_t *w = calloc((size_t)m * ldw, 2), *xp = malloc((size_t)kp * ldp * 2);
    float *x = malloc((size_t)kk * ldx * sizeof *x), *bias = malloc((size_t)m * sizeof *bias);
    float *acc = malloc((size_t)m * lda * sizeof *acc);
    for (int i = 0; i < m; i++)
        for (int l = 0; l < kk; l++) w[(size_t)i * ldw + l] = bf16_rand();
    for (size_t i = 0; i < (size_t)kk * ldx; i++) x[i] = bf16_f(bf16_rand());
    for (int i = 0; i < m; i++) bias[i] = (float)rnd(-1000, 1000) / 64.0f;
    for (size_t i = 0; i < (size_t)m * lda; i++) acc[i] = 1234.5f;
    nns_bf16_pack_pairs__ref(kk, n, x, ldx, xp, ldp);
    k->bf16_gemm(m, n, kk, w, ldw, xp, ldp, with_bias ? bias : NULL, acc, lda);
    int ok = 1;
    for (int i = 0; i < m && ok; i++) {
        for (int j = 0; j < n; j++) {
            double want = with_bias ? bias[i] : 0.0, mag = fabs(want);
            for (int l = 0; l < kk; l++) {
                const double pr = (double)bf16_f(w[(size_t)i * ldw + l]) * x[(size_t)l * ldx + j];
                want += pr;
                mag += fabs(pr);
            }
            if (fabs(acc[(size_t)i * lda + j] - want) > mag * (kk + 2) * 0x1p-24 + 1e-30) ok = 0;
        }
        for (size_t j = (size_t)n; j < lda; j++)
            if (acc[(size_t)i * lda + j] != 1234.5f) ok = 0;
    }
    CHECK_MSG(ok, "%s bf16_gemm: m%d n%d k%d bias %d", cur_variant, m, n, kk, with_bias);
    free(w);
    free(xp);
    free(x);
    free(bias);
    free(acc);
    return ok;
}

static void test_bf16_gemm(const nns_kernels *k) {
    for (int it = 0; it < 200; it++) {
        const int m = rnd(1, 37), n = it % 11 == 0 ? rnd(100, 300) : rnd(1, 70), kk = it % 7 == 0 ? rnd(300, 900) : rnd(1, 90);
        bf16_gemm_case(k, m, n, kk, it % 3 != 0, rnd(0, 2), rnd(0, 3), rnd(0, 9));
    }
    /* every column tail 1..100 around the 16-, 32- and 48-column tiles,
     * rows around the 1/2/4/8-row tiles, k odd and even */
    static const int ms[] = {1, 2, 3, 5, 7, 8, 9, 12, 13, 17};
    static const int ks[] = {1, 2, 3, 4, 5, 9, 16, 31};
    int bad = 0;
    for (int n = 1; n <= 100 && bad < 5; n++) bad += !bf16_gemm_case(k, ms[n % 10], n, ks[n % 8], n % 2, n % 3, n % 4, 2 * (n % 5));
    /* mobilenet's pointwise and vggsmall's im2col shapes */
    static const int shapes[][3] = {{64, 784, 16}, {16, 784, 64}, {24, 196, 96}, {32, 784, 288}, {64, 196, 576}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        bf16_gemm_case(k, shapes[s][0], shapes[s][1], shapes[s][2], 1, 0, 0, 0);
}

/* Packing is exact: the dtype table's rounding, bit for bit (ties, NaN,
 * infinities, subnormals), zeros for a missing odd row, nothing written
 * past column n. */
static void test_bf16_pack_pairs(const nns_kernels *k) {
    for (int it = 0; it < 200; it++) {
        const int kk = rnd(1, 9), n = rnd(1, 70);
        const size_t ldx = (size_t)n + rnd(0, 5), ldp = 2 * (size_t)n + rnd(0, 7);
        const int kp = nns_bf16_pairs(kk);
        float *x = malloc((size_t)kk * ldx * sizeof *x);
        uint16_t *want = malloc((size_t)kp * ldp * 2), *got = malloc((size_t)kp * ldp * 2);
        for (size_t i = 0; i < (size_t)kk * ldx; i++) {
            uint32_t u = (uint32_t)rnd(0, 0xffff) << 16 | (uint32_t)rnd(0, 0xffff);
            if (i % 7 == 1) u = (u & ~0xffffu) | 0x8000u;              /* a tie */
            if (i % 11 == 2) u = (u & 0x807fffffu) | 0x7f800000u;      /* NaN or infinity */
            if (i % 13 == 3) u &= 0x807fffffu;                         /* subnormal */
            if (i % 17 == 4) u = 0x7f7fffffu;                          /* rounds to infinity */
            memcpy(&x[i], &u, 4);
        }
        memset(want, 0xa5, (size_t)kp * ldp * 2);
        memset(got, 0xa5, (size_t)kp * ldp * 2);
        nns_bf16_pack_pairs__ref(kk, n, x, ldx, want, ldp);
        k->bf16_pack_pairs(kk, n, x, ldx, got, ldp);
        int ok = memcmp(want, got, (size_t)kp * ldp * 2) == 0;
        CHECK_MSG(ok, "%s bf16_pack_pairs: k%d n%d", cur_variant, kk, n);
        free(x);
        free(want);
        free(got);
    }
}

/* Planes of at most 16 outputs with 8 to 21 channels (the AVX2 kernel's
 * blocks of 8 and the rest), against the reference. */
static void test_dwconv_small(const nns_kernels *k, int iters) {
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    for (int it = 0; it < iters; it++) {
        nns_conv2d_geom g = random_geom(it % 3 == 0 ? 18 : it % 2 ? 6 : 9); /* past AVX-512's 256 inputs too */
        if ((size_t)g.oh * g.ow > (it % 3 == 0 ? 80 : 16)) continue; /* and its 64 outputs */
        const int n = rnd(1, 2), nc = rnd(8, 40); /* blocks of 16 and 8 channels, and the rest */
        const size_t ihw = (size_t)g.ih * g.iw, ohw = (size_t)g.oh * g.ow, taps = (size_t)g.kh * g.kw;
        const size_t xs = nc * ihw + 3, ys = nc * ohw + 2, scr_n = nns_f32_dwconv2d_scratch_floats(&g);
        float *scr = aligned_alloc(64, ((scr_n * sizeof(float)) + 63) / 64 * 64);
        float *x = malloc(xs * n * sizeof(float)), *w = malloc(nc * taps * sizeof(float)), bias[40];
        float *y1 = calloc(ys * n, sizeof(float)), *y2 = calloc(ys * n, sizeof(float));
        fill(x, xs * n), fill(w, nc * taps), fill(bias, 40);
        ref->f32_dwconv2d(&g, n, nc, x, xs, w, it % 2 ? bias : NULL, y1, ys, scr);
        k->f32_dwconv2d(&g, n, nc, x, xs, w, it % 2 ? bias : NULL, y2, ys, scr);
        double e = 0;
        for (int b = 0; b < n; b++) {
            const double eb = max_rel_err(y2 + b * ys, y1 + b * ys, ys);
            if (eb > e) e = eb;
        }
        CHECK_MSG(e < 1e-5, "%s dwconv2d small planes (n %d, nc %d): ih%d iw%d k%dx%d s%d,%d -> %dx%d: err %g",
                  cur_variant, n, nc, g.ih, g.iw, g.kh, g.kw, g.sh, g.sw, g.oh, g.ow, e);
        free(scr), free(x), free(w), free(y1), free(y2);
    }
}

static void test_f32_dwconv2d(const nns_kernels *k) {
    test_dwconv(k, 300);
    test_dwconv_small(k, 300);
    test_dwconv_model_shapes(k);
    test_dwconv_rows(k, 300);
    test_dwconv_square(k, 300);
    test_dwconv_3x3s2(k, 400);
}
static void test_f32_dwconv2d_bwd(const nns_kernels *k) { test_f32_dwconv2d(k); }
static void test_f32_conv2d_1ch(const nns_kernels *k) { test_conv1ch(k, 200); }
static void test_f32_conv2d_fewch(const nns_kernels *k) { test_conv_fewch(k, 200); }
/* The stride-2 split against the reference's, float for float: windows up
 * to 7x7, any padding, planes up to 40 wide (a row in one to three
 * pieces of 16, odd and even), canaries past the end. */
static void test_f32_conv2d_s2_split(const nns_kernels *k) {
    for (int it = 0; it < 300; it++) {
        nns_conv2d_geom g = {0};
        g.sh = g.sw = 2;
        g.dh = g.dw = 1;
        g.kh = rnd(1, 7);
        g.kw = rnd(1, 7);
        g.pt = rnd(0, g.kh - 1);
        g.pl = rnd(0, g.kw - 1);
        g.ih = rnd(1, 40);
        g.iw = rnd(1, 70);
        const int pb = rnd(0, g.kh - 1), pr = rnd(0, g.kw - 1), c = rnd(1, 5);
        if (g.ih + g.pt + pb < g.kh || g.iw + g.pl + pr < g.kw) continue;
        g.oh = (g.ih + g.pt + pb - g.kh) / 2 + 1;
        g.ow = (g.iw + g.pl + pr - g.kw) / 2 + 1;
        if (!nns_f32_conv2d_s2_fits(&g)) continue;
        const size_t n = (size_t)c * g.ih * g.iw, ss = nns_conv2d_s2_floats(&g, c);
        float *x = malloc(n * sizeof(float)), *want = malloc((ss + 4) * sizeof(float));
        float *got = malloc((ss + 4) * sizeof(float));
        fill(x, n);
        for (size_t i = 0; i < ss + 4; i++) want[i] = got[i] = 7.0f;
        nns_f32_conv2d_s2_split__ref(&g, c, x, want);
        k->f32_conv2d_s2_split(&g, c, x, got);
        size_t bad = 0;
        for (size_t i = 0; i < ss + 4; i++) bad += memcmp(&want[i], &got[i], sizeof(float)) != 0;
        CHECK_MSG(bad == 0, "%s conv2d_s2_split: %zu floats differ (%dx%d k%dx%d p%d,%d c %d)", cur_variant, bad, g.ih,
                  g.iw, g.kh, g.kw, g.pt, g.pl, c);
        free(x);
        free(want);
        free(got);
    }
}
static void test_f32_conv2d_same(const nns_kernels *k) { test_conv_same(k, 200, 0); }
static void test_f32_conv2d_s2(const nns_kernels *k) { test_conv_same(k, 200, 1); }
static void test_f32_maxpool2d(const nns_kernels *k) { test_maxpool(k, 100); }
static void test_f32_maxpool2d_2x2s2(const nns_kernels *k) { test_maxpool(k, 100); }
static void test_f32_maxpool2d_stack(const nns_kernels *k) { test_maxpool_stack(k, 300); }
static void test_f32_maxpool2d_rows(const nns_kernels *k) { test_maxpool_rows(k, 300); }
static void test_f32_im2col(const nns_kernels *k) {
    test_im2col(k, 200);
    test_im2col_copy(k);
}
static void test_f32_col2im(const nns_kernels *k) { test_im2col(k, 200); }
static void test_f32_pad2d(const nns_kernels *k) { test_pad2d(k, 200); }
static void test_f32_wgemm8(const nns_kernels *k) { test_wgemm8(k, 200); }
static void test_f32_wino2x2_3x3_input(const nns_kernels *k) { test_wino(k, 300); }
static void test_f32_wino2x2_3x3_output(const nns_kernels *k) { test_wino(k, 300); }
static void test_f32_wino2x2_3x3_outgrad(const nns_kernels *k) { test_wino(k, 300); }
static void test_f32_spmm_csr(const nns_kernels *k) { test_spmm(k, 300); }

/* Every variant in kernel_list.h: named __<suffix> after a suffix of
 * isa.def; tested against its reference when the CPU has all the suffix's
 * features, else reported as not run. Returns the number tested. */
static int test_variants(void) {
    const uint32_t cpu = nns_cpu_features();
    const nns_kernels *ref = nns_kernels_for_isa(NNS_ISA_SCALAR);
    int tested = 0, skipped = 0;
#define NNS_VARIANT(family, suffix, symbol)                                                                \
    do {                                                                                                   \
        const char *nm = #symbol, *tail = "__" #suffix;                                                    \
        CHECK_MSG(strlen(nm) > strlen(tail) && !strcmp(nm + strlen(nm) - strlen(tail), tail),              \
                  "%s is listed with suffix %s", nm, #suffix);                                             \
        CHECK_MSG(nns_suffix_features(#suffix) == NNS_SUFFIX_##suffix && NNS_SUFFIX_##suffix != 0,         \
                  "%s: suffix %s", nm, #suffix);                                                           \
        if ((NNS_SUFFIX_##suffix & ~cpu) == 0) {                                                           \
            nns_kernels t = *ref;                                                                          \
            t.family = symbol;                                                                             \
            cur_variant = nm;                                                                              \
            test_##family(&t);                                                                             \
            tested++;                                                                                      \
        } else {                                                                                           \
            printf("not run on this CPU: %s\n", nm);                                                       \
            skipped++;                                                                                     \
        }                                                                                                  \
    } while (0);
#define NNS_KERNEL(family, type, ref_fn) \
    CHECK(ref->family == ref_fn);        \
    (void)test_##family; /* every family has a test */
#include "kernels/kernel_list.h"
    printf("%d variants tested, %d not run\n", tested, skipped);
    return tested;
}

/* Each level's table: per family the first listed variant whose suffix the
 * level allows, else the reference; a level the CPU lacks is clamped to a
 * supported level within it. */
static void test_tables(void) {
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        const nns_kernels *k = nns_kernels_for_isa((nns_isa)l);
        const uint32_t lf = nns_isa_features((nns_isa)l);
        if (!nns_isa_supported((nns_isa)l)) {
            CHECK(nns_isa_supported(k->isa) && (nns_isa_features(k->isa) & ~lf) == 0 && (int)k->isa != l);
            printf("level %s: not on this CPU, clamped to %s\n", nns_isa_name((nns_isa)l), nns_isa_name(k->isa));
            continue;
        }
        CHECK(k->isa == (nns_isa)l && k->features == lf);
        nns_kernels want;
        int taken = 0;
        memset(&want, 0, sizeof want);
#define NNS_KERNEL(family, type, ref_fn) \
    want.family = ref_fn;                \
    taken = 0;
#define NNS_VARIANT(family, suffix, symbol)                     \
    if (!taken && (NNS_SUFFIX_##suffix & ~lf) == 0) {           \
        want.family = symbol;                                   \
        taken = 1;                                              \
    }
#include "kernels/kernel_list.h"
        (void)taken;
#define NNS_KERNEL(family, type, ref_fn) \
    CHECK_MSG(k->family == want.family, "level %s: %s is not the first eligible variant", nns_isa_name((nns_isa)l), #family);
#include "kernels/kernel_list.h"
    }
    /* the ISA names round-trip; a table is never above the CPU */
    for (int l = 0; l < NNS_ISA_COUNT; l++) {
        nns_isa back;
        CHECK(nns_isa_from_name(nns_isa_name((nns_isa)l), &back) && back == (nns_isa)l);
        CHECK((nns_kernels_for_isa((nns_isa)l)->features & ~nns_cpu_features()) == 0);
    }
    nns_isa x;
    CHECK(!nns_isa_from_name("avx3", &x) && !nns_isa_from_name("", &x));
    CHECK(nns_isa_supported(nns_isa_detect()));
}

/* Each feature bit against the kernel's view of the CPU (/proc/cpuinfo
 * lists what both the CPU and the OS support): VNNI, AVX-VNNI, BF16 are
 * separate bits. */
static void test_cpu_features(void) {
    static const char *const proc_names[NNS_CPU_FEATURE_COUNT] = {
        [NNS_CPU_BIT_AVX2] = "avx2",         [NNS_CPU_BIT_FMA] = "fma",
        [NNS_CPU_BIT_F16C] = "f16c",         [NNS_CPU_BIT_AVX512F] = "avx512f",
        [NNS_CPU_BIT_AVX512BW] = "avx512bw", [NNS_CPU_BIT_AVX512DQ] = "avx512dq",
        [NNS_CPU_BIT_AVX512VL] = "avx512vl", [NNS_CPU_BIT_AVX512VNNI] = "avx512_vnni",
        [NNS_CPU_BIT_AVXVNNI] = "avx_vnni",  [NNS_CPU_BIT_AVX512BF16] = "avx512_bf16",
    };
    const uint32_t f = nns_cpu_features();
    printf("cpu features:");
    for (int b = 0; b < NNS_CPU_FEATURE_COUNT; b++)
        if (f >> b & 1) printf(" %s", nns_cpu_feature_name(b));
    printf("\n");
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp) return;
    char line[8192];
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, "flags", 5)) continue;
        for (int b = 0; b < NNS_CPU_FEATURE_COUNT; b++) {
            char pat[40];
            snprintf(pat, sizeof pat, " %s", proc_names[b]);
            const char *at = strstr(line, pat);
            const size_t n = strlen(pat);
            while (at && at[n] != ' ' && at[n] != '\n') at = strstr(at + 1, pat);
            CHECK_MSG(!!at == (int)(f >> b & 1), "feature %s: /proc/cpuinfo %d, detected %d", nns_cpu_feature_name(b),
                      !!at, (int)(f >> b & 1));
        }
        break;
    }
    fclose(fp);
}

int main(void) {
    /* NNS_ISA forces a lower level (set before the first nns_kernels_get). */
    setenv("NNS_ISA", "scalar", 1);
    CHECK(nns_isa_check_env() == NNS_OK);
    CHECK(nns_kernels_get()->isa == NNS_ISA_SCALAR);
    CHECK(nns_kernels_get()->f32_dwconv2d == nns_f32_dwconv2d__ref);
    setenv("NNS_ISA", "avx3", 1);
    CHECK(nns_isa_check_env() == NNS_STATUS_INVALID_ARG);
    unsetenv("NNS_ISA");
    printf("cpu level: %s\n", nns_isa_name(nns_isa_detect()));
    test_cpu_features();
    test_tables();
    test_variants();
    test_wino_algebra();
    /* the integer references against their definitions */
    cur_variant = "ref";
    test_u8_im2col(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_u8_pack_quads(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_q8_maxpool2d(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_q8_add(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_qgemv_u8s8(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_q8_requant(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_u8_dwconv(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_qgemm_u8s8(nns_kernels_for_isa(NNS_ISA_SCALAR));
    test_bf16_gemm(nns_kernels_for_isa(NNS_ISA_SCALAR));
    TEST_MAIN_END();
}
