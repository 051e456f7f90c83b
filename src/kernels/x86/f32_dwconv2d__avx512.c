/* f32_dwconv2d__avx512.c — depthwise 2-D convolution, AVX-512, for planes
 * of at most 64 outputs from at most 256 inputs (MobileNet's and
 * EfficientNet's later stages, up to 8x8): 16
 * channels at a time, one per lane. The block's input is transposed once
 * to pixel-major vectors (one gather per input pixel), each output pixel
 * is then its taps' FMAs on whole vectors, and the outputs go back to the
 * channels' planes by one gather per channel. Per-plane work (the AVX2
 * kernel gathers 8 channels for every output and tap) falls from
 * outputs x taps gathers to inputs + outputs. Other shapes, and the last
 * nc % 16 channels, take the rows below at stride 1 (16 columns per
 * vector), else the AVX2 kernel. */
#include <immintrin.h>

#include "kernels/dwconv2d_layout.h"
#include "kernels/kernels.h"
#include "kernels/x86/avx512_transpose.h"
#include "kernels/window_util.h"

/* ---- stride 1, straight from the planes -------------------------------
 * A row of an output plane is cut into vectors of 16 columns. For each, the
 * kw input vectors of an input row, shifted by the window's columns, are
 * loaded once (under a mask where they cross the row's ends: padding reads
 * as nothing and adds nothing) and serve the 4 output rows that read that
 * input row, each with its own accumulator: 4 independent FMA chains, and
 * each output adds its taps in the reference's order (window rows, then
 * columns, skipping padding), from the bias. The AVX2 kernel copies each
 * plane into a padded buffer first (MobileNetV2's 16x16 layers at batch 64
 * spent most of their time there); on AVX2 this way was slower (8 columns,
 * and a blend for every masked FMA). */

/* The lanes [lo, hi). */
static inline __mmask16 lanes(int lo, int hi) { return (__mmask16)(((1u << hi) - 1u) & ~((1u << lo) - 1u)); }

/* Stride 1, no dilation, a window of at most NNS_DWCONV2D_MAX_TAPS columns,
 * rows of at most 32 outputs (two vectors). */
static inline int dr_fits(const nns_conv2d_geom *g) {
    return g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 && g->kw <= NNS_DWCONV2D_MAX_TAPS && g->ow <= 32;
}

/* The input-row loop below is unrolled whole with GCC (the tap-row tests
 * then vanish: 2x faster than the loop). clang under the fuzz build's
 * sanitizers took over 15 minutes on that form of this file, so clang keeps
 * it a loop. */
#if defined(__clang__)
#define DR_UNROLL_ROWS _Pragma("nounroll")
#else
#define DR_UNROLL_ROWS _Pragma("GCC unroll 16")
#endif

/* Output rows [oy0, oy0 + nr) (nr <= NR) of one plane, NP vectors of 16
 * columns from ox0 (the last one's n columns stored), for a KH x KW window
 * (constants where the caller passes them, so the loops unroll and the
 * accumulators stay in registers); MASKED: window column j of piece p reads
 * the lanes m[p][j] of its vector (those inside the row; none may be), else
 * all. NR x NP = 8 independent FMA chains (four had left the FMA latency
 * exposed: a 16x16 plane of 64 channels took 7.5 us, now 5). NR rows are
 * summed whatever nr (a row past the plane reads no input rows past it:
 * its sum is dropped). */
static inline __attribute__((always_inline)) void dr_block(const int KH, const int KW, const int NR, const int NP,
                                                           const int MASKED, const nns_conv2d_geom *g,
                                                           const float *x, const float *w, float b, float *y,
                                                           int oy0, int nr, int ox0, int n,
                                                           const __mmask16 (*m)[NNS_DWCONV2D_MAX_TAPS]) {
    __m512 a[2][8];
#pragma GCC unroll 2
    for (int p = 0; p < NP; p++)
#pragma GCC unroll 8
        for (int r = 0; r < NR; r++) a[p][r] = _mm512_set1_ps(b);
    DR_UNROLL_ROWS
    for (int u = 0; u < NR + KH - 1; u++) { /* input row oy0 - pt + u */
        const int iy = oy0 - g->pt + u;
        if (iy < 0 || iy >= g->ih) continue;
        const float *row = x + (size_t)iy * g->iw + ox0 - g->pl;
#pragma GCC unroll 7
        for (int j = 0; j < KW; j++)
#pragma GCC unroll 2
            for (int p = 0; p < NP; p++) {
                const __m512 v =
                    MASKED ? _mm512_maskz_loadu_ps(m[p][j], row + 16 * p + j) : _mm512_loadu_ps(row + 16 * p + j);
#pragma GCC unroll 8
                for (int r = 0; r < NR; r++)
                    if (u - r >= 0 && u - r < KH) {
                        const __m512 wv = _mm512_set1_ps(w[(u - r) * KW + j]);
                        a[p][r] = MASKED ? _mm512_mask3_fmadd_ps(wv, v, a[p][r], m[p][j])
                                         : _mm512_fmadd_ps(wv, v, a[p][r]);
                    }
            }
    }
#pragma GCC unroll 2
    for (int p = 0; p < NP; p++) {
        const __mmask16 out = lanes(0, p == NP - 1 ? n : 16);
        float *yr = y + (size_t)oy0 * g->ow + ox0 + 16 * p;
#pragma GCC unroll 8
        for (int r = 0; r < NR; r++)
            if (r < nr) _mm512_mask_storeu_ps(yr + (size_t)r * g->ow, out, a[p][r]);
    }
}

/* One plane, the window KH x KW: rows of one vector 8 output rows at a
 * time, rows of two vectors 4 at a time. */
static inline __attribute__((always_inline)) void dr_plane(const int KH, const int KW, const nns_conv2d_geom *g,
                                                           const float *x, const float *w, float b, float *y) {
    __mmask16 m[2][NNS_DWCONV2D_MAX_TAPS];
    const int np = g->ow > 16 ? 2 : 1, n = g->ow - 16 * (np - 1);
    int full = n == 16;
    for (int p = 0; p < np; p++) {
        const int cols = p == np - 1 ? n : 16;
        for (int j = 0; j < KW; j++) { /* lanes l < cols with 0 <= 16p - pl + j + l < iw */
            const int c0 = 16 * p - g->pl + j, lo = c0 < 0 ? -c0 : 0, hi = g->iw - c0 < cols ? g->iw - c0 : cols;
            m[p][j] = lanes(lo, hi > lo ? hi : lo);
            full &= lo == 0 && hi == 16;
        }
    }
    const int nrows = np == 1 ? 8 : 4;
    for (int oy0 = 0; oy0 < g->oh; oy0 += nrows) {
        const int nr = g->oh - oy0 < nrows ? g->oh - oy0 : nrows;
        if (np == 1 && full)
            dr_block(KH, KW, 8, 1, 0, g, x, w, b, y, oy0, nr, 0, n, m);
        else if (np == 1)
            dr_block(KH, KW, 8, 1, 1, g, x, w, b, y, oy0, nr, 0, n, m);
        else if (full)
            dr_block(KH, KW, 4, 2, 0, g, x, w, b, y, oy0, nr, 0, n, m);
        else
            dr_block(KH, KW, 4, 2, 1, g, x, w, b, y, oy0, nr, 0, n, m);
    }
}

/* One plane: 3x3 and 5x5 windows unrolled, others as they come. */
static void dw_rows_plane(const nns_conv2d_geom *g, const float *x, const float *w, float b, float *y) {
    if (g->kh == 3 && g->kw == 3)
        dr_plane(3, 3, g, x, w, b, y);
    else if (g->kh == 5 && g->kw == 5)
        dr_plane(5, 5, g, x, w, b, y);
    else
        dr_plane(g->kh, g->kw, g, x, w, b, y);
}

#define SMALL_OUT 64  /* output pixels a plane */
#define SMALL_IN 256  /* input pixels a plane (the transposed block lives on the stack: 16 KiB) */
#define SMALL_TAPS 25 /* window taps */

/* Past 16 outputs, only where the inputs are not many more than the
 * outputs (stride 1) or the AVX2 kernel has no special path: a 3x3 stride-2
 * plane's four times as many input gathers cost more than the AVX2 kernel's
 * 3x3 stride-2 path (MobileNetV2 at 16x16 -> 8x8, 3x slower), but a 5x5
 * stride-2 one runs faster than its padded phase planes (EfficientNet-B0's
 * 16x16 -> 8x8 layer at batch 64 alone: 3.4 -> 1.3 ms). */
static int small_fits(const nns_conv2d_geom *g, int nc) {
    const int ohw = g->oh * g->ow, ihw = g->ih * g->iw;
    return nc >= 16 && ohw <= SMALL_OUT && ihw <= SMALL_IN && g->kh * g->kw <= SMALL_TAPS &&
           (ohw <= 16 || ihw <= 2 * ohw || !nns_dw_is_3x3s2(g));
}

/* The outputs of a KxK window without dilation from the transposed block
 * xt into yt: the K*K weight vectors held in registers, each output's taps
 * at fixed offsets (unrolled), the rows and columns outside the plane
 * skipped by tests on constants' trip counts (no tap table). */
static inline __attribute__((always_inline)) void small_square(const int K, const nns_conv2d_geom *g,
                                                                const __m512 *wm, __m512 b, const float *xt,
                                                                float *yt) {
    __m512 wv[25];
#pragma GCC unroll 25
    for (int t = 0; t < K * K; t++) wv[t] = wm[t];
    for (int oy = 0, q = 0; oy < g->oh; oy++) {
        const int top = oy * g->sh - g->pt;
        for (int ox = 0; ox < g->ow; ox++, q++) {
            const int left = ox * g->sw - g->pl;
            const float *r = xt + ((ptrdiff_t)top * g->iw + left) * 16;
            __m512 acc = b;
            if (top >= 0 && left >= 0 && top + K <= g->ih && left + K <= g->iw) {
#pragma GCC unroll 5
                for (int i = 0; i < K; i++)
#pragma GCC unroll 5
                    for (int j = 0; j < K; j++)
                        acc = _mm512_fmadd_ps(wv[i * K + j], _mm512_load_ps(r + ((ptrdiff_t)i * g->iw + j) * 16), acc);
            } else {
#pragma GCC unroll 5
                for (int i = 0; i < K; i++) {
                    if (top + i < 0 || top + i >= g->ih) continue;
#pragma GCC unroll 5
                    for (int j = 0; j < K; j++)
                        if (left + j >= 0 && left + j < g->iw)
                            acc = _mm512_fmadd_ps(wv[i * K + j], _mm512_load_ps(r + ((ptrdiff_t)i * g->iw + j) * 16),
                                                  acc);
                }
            }
            _mm512_store_ps(yt + q * 16, acc);
        }
    }
}

/* 16 channels of one image: x, w, bias and y at the block's first channel. */
static void small_block(const nns_conv2d_geom *g, const int *tap_n, const int (*tap)[SMALL_TAPS][2], const float *x,
                        const __m512 *wv, const float *bias, float *y) {
    const int ihw = g->ih * g->iw, ohw = g->oh * g->ow;
    _Alignas(64) float xt[(SMALL_IN + 16) * 16], yt[(SMALL_OUT + 16) * 16];
    for (int p0 = 0; p0 < ihw; p0 += 16) { /* 16 positions of the 16 planes at a time (rows past ihw: room, unread) */
        __m512 r[16];
        nns_planes_in16(x, (size_t)ihw, (size_t)p0, ihw - p0 < 16 ? ihw - p0 : 16, r);
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) _mm512_store_ps(xt + (p0 + i) * 16, r[i]);
    }
    const __m512 b = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    const int square = g->dh == 1 && g->dw == 1 && g->kh == g->kw;
    if (square && g->kh == 3)
        small_square(3, g, wv, b, xt, yt);
    else if (square && g->kh == 5)
        small_square(5, g, wv, b, xt, yt);
    else
        for (int q = 0; q < ohw; q++) {
            __m512 acc = b;
            for (int k = 0; k < tap_n[q]; k++)
                acc = _mm512_fmadd_ps(wv[tap[q][k][0]], _mm512_load_ps(xt + tap[q][k][1] * 16), acc);
            _mm512_store_ps(yt + q * 16, acc);
        }
    for (int q0 = 0; q0 < ohw; q0 += 16) { /* 16 outputs of each channel's plane per transpose */
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) r[i] = _mm512_load_ps(yt + (q0 + i) * 16); /* past ohw: not stored */
        nns_planes_out16(r, ohw - q0 < 16 ? ohw - q0 : 16, y, (size_t)ohw, (size_t)q0);
    }
}

void nns_f32_dwconv2d__avx512(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                              const float *w, const float *bias, float *y, size_t y_stride, float *scratch) {
    if (small_fits(g, nc)) {
        int tap_n[SMALL_OUT], tap[SMALL_OUT][SMALL_TAPS][2];
        nns_window_taps(g, SMALL_TAPS, tap_n, &tap[0][0][0]);
        const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow, taps = (size_t)g->kh * g->kw;
        const int done = nc / 16 * 16;
        const __m512i wi = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32((int)taps));
        for (int c = 0; c < done; c += 16) { /* the block's weights a vector a tap, once for all the images */
            __m512 wv[SMALL_TAPS];
            for (size_t t = 0; t < taps; t++) wv[t] = _mm512_i32gather_ps(wi, w + (size_t)c * taps + t, 4);
            for (int b = 0; b < n; b++)
                small_block(g, tap_n, (const int(*)[SMALL_TAPS][2])tap, x + (size_t)b * x_stride + c * ihw, wv,
                            bias ? bias + c : NULL, y + (size_t)b * y_stride + c * ohw);
        }
        if (done == nc) return;
        x += done * ihw, y += done * ohw, w += (size_t)done * taps, bias = bias ? bias + done : NULL;
        nc -= done;
    }
    if (dr_fits(g)) { /* stride 1: 16 columns of a row per vector, straight from the plane */
        const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow, taps = (size_t)g->kh * g->kw;
        for (int b = 0; b < n; b++)
            for (int c = 0; c < nc; c++)
                dw_rows_plane(g, x + (size_t)b * x_stride + c * ihw, w + (size_t)c * taps, bias ? bias[c] : 0.0f,
                              y + (size_t)b * y_stride + c * ohw);
        return;
    }
    nns_f32_dwconv2d__avx2(g, n, nc, x, x_stride, w, bias, y, y_stride, scratch);
}
