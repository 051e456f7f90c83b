/* f32_conv2d_1ch__avx512.c — a convolution of one input channel by m
 * filters at stride 1 (dilation 1, at most 8 taps a row, output rows of at
 * most 64), straight from the planes, AVX-512.
 *
 * Per image, output row and 16-output piece of the row, a block of up to 8
 * filters keeps one accumulator each, started at its bias: every tap loads
 * the input row shifted by the tap's column once, under a mask that zeroes
 * the padding and the lanes past the row, and adds it times each filter's
 * weight (a broadcast). The pieces are stored under the row's mask. Other
 * geometries take the AVX2 kernel. */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/x86/row_tap_mask.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define MAXCH 4 /* 16-output pieces per row */
#define MAXKW 8

/* Filters [0, MB) of the block (w, bias and y at the block's first) on one
 * image's plane x. */
ALWAYS_INLINE void block(const int MB, const nns_conv2d_geom *g, const float *x, const float *w, const float *bias,
                         float *y, const __mmask16 xm[MAXCH][MAXKW], const __mmask16 *om, int nch) {
    const size_t ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    for (int oy = 0; oy < g->oh; oy++)
        for (int ch = 0; ch < nch; ch++) {
            __m512 acc[8];
#pragma GCC unroll 8
            for (int mm = 0; mm < MB; mm++) acc[mm] = _mm512_set1_ps(bias ? bias[mm] : 0.0f);
            for (int i = 0; i < g->kh; i++) {
                const int iy = oy - g->pt + i;
                if (iy < 0 || iy >= g->ih) continue;
                const float *xr = x + (size_t)iy * g->iw - g->pl + ch * 16;
                const float *wr = w + (size_t)i * g->kw;
                for (int j = 0; j < g->kw; j++) {
                    const __m512 xv = _mm512_maskz_loadu_ps(xm[ch][j], xr + j);
#pragma GCC unroll 8
                    for (int mm = 0; mm < MB; mm++)
                        acc[mm] = _mm512_fmadd_ps(_mm512_set1_ps(wr[mm * kk + j]), xv, acc[mm]);
                }
            }
            float *yr = y + (size_t)oy * g->ow + ch * 16;
#pragma GCC unroll 8
            for (int mm = 0; mm < MB; mm++) _mm512_mask_storeu_ps(yr + mm * ohw, om[ch], acc[mm]);
        }
}

#define NNS_BLOCK_FN(MB)                                                                                          \
    static void block_##MB(const nns_conv2d_geom *g, const float *x, const float *w, const float *bias, float *y, \
                           const __mmask16 xm[MAXCH][MAXKW], const __mmask16 *om, int nch) {                     \
        block(MB, g, x, w, bias, y, xm, om, nch);                                                                \
    }
NNS_BLOCK_FN(1) NNS_BLOCK_FN(2) NNS_BLOCK_FN(3) NNS_BLOCK_FN(4)
NNS_BLOCK_FN(5) NNS_BLOCK_FN(6) NNS_BLOCK_FN(7) NNS_BLOCK_FN(8)
#undef NNS_BLOCK_FN

typedef void block_fn(const nns_conv2d_geom *g, const float *x, const float *w, const float *bias, float *y,
                      const __mmask16 xm[MAXCH][MAXKW], const __mmask16 *om, int nch);

void nns_f32_conv2d_1ch__avx512(const nns_conv2d_geom *g, int n, int m, const float *x, size_t x_stride,
                                const float *w, const float *bias, float *y, size_t y_stride, float *scratch) {
    static block_fn *const blocks[8] = {block_1, block_2, block_3, block_4, block_5, block_6, block_7, block_8};
    const int nch = (g->ow + 15) / 16;
    if (g->sh != 1 || g->sw != 1 || g->dh != 1 || g->dw != 1 || g->kw > MAXKW || nch > MAXCH) {
        nns_f32_conv2d_1ch__avx2(g, n, m, x, x_stride, w, bias, y, y_stride, scratch);
        return;
    }
    __mmask16 xm[MAXCH][MAXKW], om[MAXCH];
    for (int ch = 0; ch < nch; ch++) {
        const int left = g->ow - ch * 16;
        om[ch] = (__mmask16)(left >= 16 ? 0xffffu : (1u << left) - 1u);
        for (int j = 0; j < g->kw; j++) xm[ch][j] = nns_row_tap_mask(g, ch, j);
    }
    const size_t ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    for (int b = 0; b < n; b++)
        for (int c0 = 0; c0 < m; c0 += 8) {
            const int mb = m - c0 < 8 ? m - c0 : 8;
            blocks[mb - 1](g, x + (size_t)b * x_stride, w + (size_t)c0 * kk, bias ? bias + c0 : NULL,
                           y + (size_t)b * y_stride + (size_t)c0 * ohw, xm, om, nch);
        }
}
