/* f32_conv2d_1ch_wgrad__avx512.c — the weight gradient of a one-input-
 * channel convolution at stride 1 (dilation 1, 3, 5 or 7 taps a row,
 * output rows of at most 64), straight from the planes, AVX-512.
 *
 * Blocks of MB filters, each over all images in turn (an image's plane and
 * the block's dY stay in L1 across its tap rows): for a tap row i, MB x kw
 * vector accumulators are held over the image's output rows; each 16-output
 * piece of a row loads the MB filters' dY once and, per tap column j, the
 * input row shifted by j under a mask that zeroes the padding (and the
 * lanes past the row), for MB FMAs. The accumulators are kept per tap in
 * memory between images, and their 16 lanes summed at the end. Other
 * geometries take the depthwise backward kernel per filter (AVX2). */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/x86/row_tap_mask.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define MAXCH 4 /* 16-output pieces per row */

ALWAYS_INLINE void block(const int KW, const int MB, const nns_conv2d_geom *g, int n, const float *x, size_t xs,
                         const float *dy, size_t ys, const __mmask16 xm[MAXCH][8], const __mmask16 *om, int nch,
                         float *dw) {
    const size_t ohw = (size_t)g->oh * g->ow;
    __m512 sum[6][7][7]; /* [filter][tap row][tap column], over the images so far */
    for (int mm = 0; mm < MB; mm++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < KW; j++) sum[mm][i][j] = _mm512_setzero_ps();
    for (int b = 0; b < n; b++)
        for (int i = 0; i < g->kh; i++) {
            __m512 acc[6][7];
#pragma GCC unroll 6
            for (int mm = 0; mm < MB; mm++)
#pragma GCC unroll 7
                for (int j = 0; j < KW; j++) acc[mm][j] = sum[mm][i][j];
            for (int oy = 0; oy < g->oh; oy++) {
                const int iy = oy - g->pt + i;
                if (iy < 0 || iy >= g->ih) continue;
                const float *xr = x + (size_t)b * xs + (size_t)iy * g->iw - g->pl;
                const float *dr = dy + (size_t)b * ys + (size_t)oy * g->ow;
                for (int ch = 0; ch < nch; ch++) {
                    __m512 d[6];
#pragma GCC unroll 6
                    for (int mm = 0; mm < MB; mm++) d[mm] = _mm512_maskz_loadu_ps(om[ch], dr + mm * ohw + ch * 16);
#pragma GCC unroll 7
                    for (int j = 0; j < KW; j++) {
                        const __m512 xv = _mm512_maskz_loadu_ps(xm[ch][j], xr + ch * 16 + j);
#pragma GCC unroll 6
                        for (int mm = 0; mm < MB; mm++) acc[mm][j] = _mm512_fmadd_ps(d[mm], xv, acc[mm][j]);
                    }
                }
            }
#pragma GCC unroll 6
            for (int mm = 0; mm < MB; mm++)
#pragma GCC unroll 7
                for (int j = 0; j < KW; j++) sum[mm][i][j] = acc[mm][j];
        }
    for (int mm = 0; mm < MB; mm++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < KW; j++) dw[(size_t)mm * g->kh * KW + (size_t)i * KW + j] += _mm512_reduce_add_ps(sum[mm][i][j]);
}

#define NNS_BLOCK_FN(KW, MB)                                                                                       \
    static void block_##KW##_##MB(const nns_conv2d_geom *g, int n, const float *x, size_t xs, const float *dy,     \
                                  size_t ys, const __mmask16 xm[MAXCH][8], const __mmask16 *om, int nch,          \
                                  float *dw) {                                                                    \
        block(KW, MB, g, n, x, xs, dy, ys, xm, om, nch, dw);                                                      \
    }
NNS_BLOCK_FN(3, 6) NNS_BLOCK_FN(3, 5) NNS_BLOCK_FN(3, 4) NNS_BLOCK_FN(3, 3) NNS_BLOCK_FN(3, 2) NNS_BLOCK_FN(3, 1)
NNS_BLOCK_FN(5, 4) NNS_BLOCK_FN(5, 3) NNS_BLOCK_FN(5, 2) NNS_BLOCK_FN(5, 1)
NNS_BLOCK_FN(7, 3) NNS_BLOCK_FN(7, 2) NNS_BLOCK_FN(7, 1)
#undef NNS_BLOCK_FN

typedef void block_fn(const nns_conv2d_geom *g, int n, const float *x, size_t xs, const float *dy, size_t ys,
                      const __mmask16 xm[MAXCH][8], const __mmask16 *om, int nch, float *dw);

/* The block function for kw taps and mb filters (mb at most the widest). */
static block_fn *pick(int kw, int mb) {
    static block_fn *const k3[6] = {block_3_1, block_3_2, block_3_3, block_3_4, block_3_5, block_3_6};
    static block_fn *const k5[4] = {block_5_1, block_5_2, block_5_3, block_5_4};
    static block_fn *const k7[3] = {block_7_1, block_7_2, block_7_3};
    return kw == 3 ? k3[mb - 1] : kw == 5 ? k5[mb - 1] : k7[mb - 1];
}

void nns_f32_conv2d_1ch_wgrad__avx512(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                      const float *dy, size_t dy_stride, const float *w, float *dw, float *scratch) {
    const int kw = g->kw, nch = (g->ow + 15) / 16;
    if (g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1 || (kw != 3 && kw != 5 && kw != 7) || nch > MAXCH) {
        nns_f32_conv2d_1ch_wgrad__avx2(g, n, m, x, x_stride, dy, dy_stride, w, dw, scratch);
        return;
    }
    __mmask16 xm[MAXCH][8], om[MAXCH];
    for (int ch = 0; ch < nch; ch++) {
        const int left = g->ow - ch * 16;
        om[ch] = (__mmask16)(left >= 16 ? 0xffffu : (1u << left) - 1u);
        for (int j = 0; j < kw; j++) xm[ch][j] = nns_row_tap_mask(g, ch, j);
    }
    const int widest = kw == 3 ? 6 : kw == 5 ? 4 : 3;
    const size_t ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * kw;
    for (int c0 = 0; c0 < m; c0 += widest) {
        const int mb = m - c0 < widest ? m - c0 : widest;
        block_fn *f = pick(kw, mb);
        f(g, n, x, x_stride, dy + (size_t)c0 * ohw, dy_stride, xm, om, nch, dw + (size_t)c0 * kk);
    }
}
