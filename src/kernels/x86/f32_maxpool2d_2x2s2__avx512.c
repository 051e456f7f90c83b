/* f32_maxpool2d_2x2s2__avx512.c — 2x2 max pooling, stride 2, no padding or
 * dilation, with argmax; 16 outputs per step, AVX-512. Each input row's 32
 * floats under a step are read in two loads (masked at the row's end) and
 * split into even and odd columns by two permutes; the four taps are then
 * taken in the reference's order under its rule (a greater value, or the
 * first NaN), so the results are the reference's bit for bit. Requires
 * 2*oh <= ih and 2*ow <= iw (the caller checks). */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* Lanes [0, n) for n <= 16. */
static inline __mmask16 first_lanes(int n) { return (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u); }

/* Take v (at index vi) where v > best, or v is NaN and best is not. */
static inline void take(const int with_idx, __m512 v, __m512i vi, __m512 *best, __m512i *bi) {
    const __mmask16 t = _mm512_cmp_ps_mask(v, *best, _CMP_NLE_UQ) & _mm512_cmp_ps_mask(*best, *best, _CMP_ORD_Q);
    *best = _mm512_mask_mov_ps(*best, t, v);
    if (with_idx) *bi = _mm512_mask_mov_epi32(*bi, t, vi);
}

static inline __attribute__((always_inline)) void pool(const int with_idx, const nns_conv2d_geom *g, const float *x,
                                                       float *y, int32_t *idx) {
    const int iw = g->iw, ow = g->ow;
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i one = _mm512_set1_epi32(1), row = _mm512_set1_epi32(iw);
    for (int oy = 0; oy < g->oh; oy++) {
        const float *r0 = x + (size_t)(2 * oy) * iw, *r1 = r0 + iw;
        for (int b = 0; b < 2 * iw * (int)sizeof(float); b += 64) /* the next pair of rows: masked loads wait on misses */
            _mm_prefetch((const char *)(r0 + 4 * (size_t)iw) + b, _MM_HINT_T0);
        for (int ox = 0; ox < ow; ox += 16) {
            const int n = ow - ox < 16 ? ow - ox : 16;
            const __mmask16 m0 = first_lanes(2 * n), m1 = first_lanes(2 * n - 16 > 0 ? 2 * n - 16 : 0);
            const __m512 a0 = _mm512_maskz_loadu_ps(m0, r0 + 2 * ox), a1 = _mm512_maskz_loadu_ps(m1, r0 + 2 * ox + 16);
            const __m512 b0 = _mm512_maskz_loadu_ps(m0, r1 + 2 * ox), b1 = _mm512_maskz_loadu_ps(m1, r1 + 2 * ox + 16);
            const __m512i base0 = _mm512_add_epi32(_mm512_set1_epi32(2 * oy * iw + 2 * ox), even);
            const __m512i base1 = _mm512_add_epi32(base0, row);
            __m512 best = _mm512_permutex2var_ps(a0, even, a1);
            __m512i bi = base0;
            take(with_idx, _mm512_permutex2var_ps(a0, odd, a1), _mm512_add_epi32(base0, one), &best, &bi);
            take(with_idx, _mm512_permutex2var_ps(b0, even, b1), base1, &best, &bi);
            take(with_idx, _mm512_permutex2var_ps(b0, odd, b1), _mm512_add_epi32(base1, one), &best, &bi);
            const __mmask16 out = first_lanes(n);
            _mm512_mask_storeu_ps(y + (size_t)oy * ow + ox, out, best);
            if (with_idx) _mm512_mask_storeu_epi32(idx + (size_t)oy * ow + ox, out, bi);
        }
    }
}

void nns_f32_maxpool2d_2x2s2__avx512(const nns_conv2d_geom *g, const float *x, float *y, int32_t *idx) {
    if (idx)
        pool(1, g, x, y, idx);
    else
        pool(0, g, x, y, NULL);
}
