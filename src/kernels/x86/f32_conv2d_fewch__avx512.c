/* f32_conv2d_fewch__avx512.c — a dense convolution of a few input channels
 * (a network's stem on grey or colour images) straight from the planes, strides 1
 * and 2, AVX-512.
 *
 * Per output row and pair of its 16-column pieces, a block of up to 12
 * filters keeps one accumulator a piece each, started at its bias. Every
 * channel and tap loads each piece's inputs once (stride 2: the 32 floats
 * the piece spans, two loads and a permute to the even ones), under a mask
 * that zeroes the padding and leaves unread whatever lies outside the row,
 * and adds them times each filter's weight: one broadcast from memory for
 * both pieces (a block's weights are copied tap by tap first, so one
 * pointer reaches them all). The accumulators are clamped when asked and
 * stored under the row's mask. Filters go in blocks of 12, 8, 4, 2 and 1. */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define MAXCH 8 /* 16-output pieces a row */
#define MAXKW 8

/* What a piece loads for each tap column: the lanes (stride 1) or the 32
 * floats (stride 2) inside the row; and the piece's output lanes. */
typedef struct fc_masks {
    uint32_t span[MAXCH][MAXKW];
    __mmask16 out[MAXCH];
    int nch;
} fc_masks;

static void make_masks(const nns_conv2d_geom *g, fc_masks *mk) {
    mk->nch = (g->ow + 15) / 16;
    for (int ch = 0; ch < mk->nch; ch++) {
        const int left = g->ow - ch * 16, n = left < 16 ? left : 16;
        mk->out[ch] = (__mmask16)((1u << n) - 1u);
        for (int j = 0; j < g->kw; j++) {
            uint32_t s = 0;
            const int first = g->sw * ch * 16 - g->pl + j; /* the input column of lane 0 */
            const int len = g->sw == 1 ? n : 2 * n - 1;    /* floats the piece spans */
            for (int t = 0; t < len; t++)
                if (first + t >= 0 && first + t < g->iw) s |= 1u << t;
            mk->span[ch][j] = s;
        }
    }
}

/* The piece's inputs for one tap column: x[first + S*l] (0 outside the row). */
ALWAYS_INLINE __m512 tap_load(const int S, const float *xr, uint32_t span) {
    if (S == 1) return _mm512_maskz_loadu_ps((__mmask16)span, xr);
    const __m512 a = _mm512_maskz_loadu_ps((__mmask16)span, xr);
    const __m512 b = _mm512_maskz_loadu_ps((__mmask16)(span >> 16), xr + 16);
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
}

/* Filters [0, MB) of a block (bias, y at its first; w its weights tap by
 * tap, [c][kh][kw][MB]) at column stride S, pieces ch and (PB 2) ch + 1 of
 * output row oy: each broadcast weight serves both pieces. */
ALWAYS_INLINE void pieces(const int S, const int MB, const int PB, const nns_conv2d_geom *g, int c, int oy, int ch,
                          const float *x, const float *w, const float *bias, int clamp, __m512 vlo, __m512 vhi,
                          float *y, const fc_masks *mk) {
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow, kk = (size_t)g->kh * g->kw;
    __m512 a0[12], a1[12];
#pragma GCC unroll 12
    for (int f = 0; f < MB; f++) a0[f] = a1[f] = _mm512_set1_ps(bias ? bias[f] : 0.0f);
    for (int cc = 0; cc < c; cc++)
        for (int i = 0; i < g->kh; i++) {
            const int iy = oy * g->sh - g->pt + i;
            if (iy < 0 || iy >= g->ih) continue;
            const float *xr = x + cc * ihw + (size_t)iy * g->iw + S * ch * 16 - g->pl;
            const float *wr = w + (cc * kk + (size_t)i * g->kw) * MB;
            for (int j = 0; j < g->kw; j++, wr += MB) {
                const __m512 x0 = tap_load(S, xr + j, mk->span[ch][j]);
                const __m512 x1 = PB == 2 ? tap_load(S, xr + j + S * 16, mk->span[ch + 1][j]) : x0;
#pragma GCC unroll 12
                for (int f = 0; f < MB; f++) {
                    const __m512 wv = _mm512_set1_ps(wr[f]);
                    a0[f] = _mm512_fmadd_ps(wv, x0, a0[f]);
                    if (PB == 2) a1[f] = _mm512_fmadd_ps(wv, x1, a1[f]);
                }
            }
        }
    float *yr = y + (size_t)oy * g->ow + ch * 16;
#pragma GCC unroll 12
    for (int f = 0; f < MB; f++) {
        if (clamp) a0[f] = _mm512_min_ps(_mm512_max_ps(a0[f], vlo), vhi);
        _mm512_mask_storeu_ps(yr + f * ohw, mk->out[ch], a0[f]);
        if (PB == 2) {
            if (clamp) a1[f] = _mm512_min_ps(_mm512_max_ps(a1[f], vlo), vhi);
            _mm512_mask_storeu_ps(yr + f * ohw + 16, mk->out[ch + 1], a1[f]);
        }
    }
}

/* Filters [0, MB) of a block over output rows [oy0, oy1), pieces in pairs. */
ALWAYS_INLINE void block(const int S, const int MB, const nns_conv2d_geom *g, int c, int oy0, int oy1,
                         const float *x, const float *w, const float *bias, int clamp, float lo, float hi, float *y,
                         const fc_masks *mk) {
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    for (int oy = oy0; oy < oy1; oy++) {
        int ch = 0;
        for (; ch + 2 <= mk->nch; ch += 2) pieces(S, MB, 2, g, c, oy, ch, x, w, bias, clamp, vlo, vhi, y, mk);
        if (ch < mk->nch) pieces(S, MB, 1, g, c, oy, ch, x, w, bias, clamp, vlo, vhi, y, mk);
    }
}

#define NNS_BLOCK_FN(MB)                                                                                            \
    static void block_##MB(const nns_conv2d_geom *g, int c, int oy0, int oy1, const float *x, const float *w,      \
                           const float *bias, int clamp, float lo, float hi, float *y, const fc_masks *mk) {       \
        if (g->sw == 1)                                                                                             \
            block(1, MB, g, c, oy0, oy1, x, w, bias, clamp, lo, hi, y, mk);                                         \
        else                                                                                                        \
            block(2, MB, g, c, oy0, oy1, x, w, bias, clamp, lo, hi, y, mk);                                         \
    }
NNS_BLOCK_FN(1) NNS_BLOCK_FN(2) NNS_BLOCK_FN(4) NNS_BLOCK_FN(8) NNS_BLOCK_FN(12)
#undef NNS_BLOCK_FN

void nns_f32_conv2d_fewch__avx512(const nns_conv2d_geom *g, int c, int m, int oy0, int oy1, const float *x,
                                  const float *w, const float *bias, int clamp, float lo, float hi, float *y) {
    fc_masks mk;
    make_masks(g, &mk);
    const size_t ohw = (size_t)g->oh * g->ow, ckk = (size_t)c * g->kh * g->kw;
    float wt[NNS_CONV_FEWCH_C * 8 * 8 * 12]; /* a block's weights, [c][kh][kw][filter] */
    for (int f0 = 0; f0 < m;) {
        const int left = m - f0, mb = left >= 12 ? 12 : left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
        for (int f = 0; f < mb; f++)
            for (size_t t = 0; t < ckk; t++) wt[t * mb + f] = w[(size_t)(f0 + f) * ckk + t];
        const float *wb = wt, *bb = bias ? bias + f0 : NULL;
        float *yb = y + (size_t)f0 * ohw;
        if (mb == 12) block_12(g, c, oy0, oy1, x, wb, bb, clamp, lo, hi, yb, &mk);
        else if (mb == 8) block_8(g, c, oy0, oy1, x, wb, bb, clamp, lo, hi, yb, &mk);
        else if (mb == 4) block_4(g, c, oy0, oy1, x, wb, bb, clamp, lo, hi, yb, &mk);
        else if (mb == 2) block_2(g, c, oy0, oy1, x, wb, bb, clamp, lo, hi, yb, &mk);
        else block_1(g, c, oy0, oy1, x, wb, bb, clamp, lo, hi, yb, &mk);
        f0 += mb;
    }
}
