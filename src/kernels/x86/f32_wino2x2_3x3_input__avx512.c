/* f32_wino2x2_3x3_input__avx512.c — Winograd F(2x2,3x3) input transform,
 * AVX-512: up to four horizontally adjacent tiles a step, one per 128-bit
 * lane. A tile row's 4x4 windows overlap by two columns, so each of the four
 * input rows is one masked load of the 2n + 2 floats n tiles span and one
 * permute that lays the windows into the lanes; the column and row
 * combinations are the reference's, and two permutes per half interleave
 * rows 0 and 1 (2 and 3) tile by tile into the layout of kernels.h. */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/x86/avx512_wino.h"

/* Per 128-bit lane (u0, u1, u2, u3) -> (u0 - u2, u1 + u2, u2 - u1, u1 - u3). */
static inline __m512 rowt(__m512 u) {
    const __m512 sgn = _mm512_setr_ps(-1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, -1, -1, 1, -1, -1);
    const __m512 a = _mm512_permute_ps(u, _MM_SHUFFLE(1, 2, 1, 0)), b = _mm512_permute_ps(u, _MM_SHUFFLE(3, 1, 2, 2));
    return _mm512_fmadd_ps(b, sgn, a);
}

/* n (1..4) tiles whose first window starts at p: rows transformed, then
 * stored to o (n * 8 floats) and o + hs. */
static inline void tiles(const float *p, int rs, int n, float *o, size_t hs) {
    const __m512i win = _mm512_setr_epi32(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9);
    const __mmask16 in = (__mmask16)((1u << (2 * n + 2)) - 1u);
    const __m512 d0 = _mm512_permutexvar_ps(win, _mm512_maskz_loadu_ps(in, p));
    const __m512 d1 = _mm512_permutexvar_ps(win, _mm512_maskz_loadu_ps(in, p + rs));
    const __m512 d2 = _mm512_permutexvar_ps(win, _mm512_maskz_loadu_ps(in, p + 2 * (size_t)rs));
    const __m512 d3 = _mm512_permutexvar_ps(win, _mm512_maskz_loadu_ps(in, p + 3 * (size_t)rs));
    const __m512 v0 = rowt(_mm512_sub_ps(d0, d2)), v1 = rowt(_mm512_add_ps(d1, d2));
    const __m512 v2 = rowt(_mm512_sub_ps(d2, d1)), v3 = rowt(_mm512_sub_ps(d1, d3));
    nns_wino_store_tiles(o, hs, n, v0, v1, v2, v3);
}

void nns_f32_wino2x2_3x3_input__avx512(const float *xp, int c, size_t plane_stride, int row_stride, int tx_count,
                                       int t0, int t1, float *v, size_t v_cstride, size_t v_hstride) {
    for (int ci = 0; ci < c; ci++) {
        const float *pl = xp + (size_t)ci * plane_stride;
        float *vo = v + (size_t)ci * v_cstride;
        for (nns_wino_walk w = nns_wino_walk_start(t0, t1, tx_count); nns_wino_walk_next(&w);)
            tiles(pl + (size_t)(2 * w.ty) * row_stride + 2 * w.tx, row_stride, w.n, vo + (size_t)(w.t - t0) * 8,
                  v_hstride);
    }
}
