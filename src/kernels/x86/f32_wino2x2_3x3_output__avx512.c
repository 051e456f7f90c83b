/* f32_wino2x2_3x3_output__avx512.c — Winograd F(2x2,3x3) output transform,
 * AVX-512: up to four horizontally adjacent tiles a step, one per 128-bit
 * lane. Their two halves come in four loads (n * 8 contiguous floats each),
 * four permutes gather each transformed row of the four tiles, the row and
 * column combinations are the reference's, and one permute packs the tiles'
 * 2x2 outputs into two rows of 2n contiguous floats, stored under masks
 * that crop them to the plane. */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/x86/avx512_wino.h"

/* Per 128-bit lane (u0, u1, u2, u3) -> (u0 + u1 + u2, u1 - u2 - u3, ., .). */
static inline __m512 colt(__m512 u) {
    const __m512 s = _mm512_setr_ps(1, -1, 0, 0, 1, -1, 0, 0, 1, -1, 0, 0, 1, -1, 0, 0);
    const __m512 b = _mm512_permute_ps(u, _MM_SHUFFLE(3, 3, 2, 1)), c = _mm512_permute_ps(u, _MM_SHUFFLE(3, 3, 3, 2));
    return _mm512_fmadd_ps(c, s, _mm512_fmadd_ps(b, s, u));
}

static inline __mmask16 first(int n) { return (__mmask16)(n >= 16 ? 0xffff : n <= 0 ? 0 : (1u << n) - 1u); }

/* n (1..4) tiles at q (halves hs apart) into output rows d (r1: and d + ow)
 * at columns [0, cols). */
static inline void tiles(const float *q, size_t hs, int n, __m512 vb, float *d, int ow, int r1, int cols,
                         int accumulate) {
    const __mmask16 m0 = first(8 * n), m1 = first(8 * n - 16);
    const __m512 l0 = _mm512_maskz_loadu_ps(m0, q), l1 = _mm512_maskz_loadu_ps(m1, q + 16);
    const __m512 h0 = _mm512_maskz_loadu_ps(m0, q + hs), h1 = _mm512_maskz_loadu_ps(m1, q + hs + 16);
    const __m512i ev = _mm512_setr_epi32(0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
    const __m512i od = _mm512_setr_epi32(4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    const __m512 r0 = _mm512_permutex2var_ps(l0, ev, l1), rr1 = _mm512_permutex2var_ps(l0, od, l1);
    const __m512 r2 = _mm512_permutex2var_ps(h0, ev, h1), r3 = _mm512_permutex2var_ps(h0, od, h1);
    const __m512 u0 = _mm512_add_ps(_mm512_add_ps(r0, rr1), r2), u1 = _mm512_sub_ps(_mm512_sub_ps(rr1, r2), r3);
    const __m512i pack = _mm512_setr_epi32(0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29);
    const __m512 o = _mm512_add_ps(_mm512_permutex2var_ps(colt(u0), pack, colt(u1)), vb);
    const __mmask8 k = (__mmask8)first(cols);
    __m256 y0 = _mm512_castps512_ps256(o), y1 = _mm512_extractf32x8_ps(o, 1);
    if (accumulate) y0 = _mm256_add_ps(y0, _mm256_maskz_loadu_ps(k, d));
    _mm256_mask_storeu_ps(d, k, y0);
    if (!r1) return;
    if (accumulate) y1 = _mm256_add_ps(y1, _mm256_maskz_loadu_ps(k, d + ow));
    _mm256_mask_storeu_ps(d + ow, k, y1);
}

void nns_f32_wino2x2_3x3_output__avx512(const float *m, int k, size_t m_kstride, size_t m_hstride, int tx_count,
                                        int t0, int t1, const float *bias, float *y, size_t y_plane, int oh, int ow,
                                        int accumulate) {
    for (int ki = 0; ki < k; ki++) {
        float *yp = y + (size_t)ki * y_plane;
        const __m512 vb = _mm512_set1_ps(bias ? bias[ki] : 0.0f);
        const float *mk = m + (size_t)ki * m_kstride;
        for (nns_wino_walk w = nns_wino_walk_start(t0, t1, tx_count); nns_wino_walk_next(&w);) {
            const int y0 = 2 * w.ty, x0 = 2 * w.tx, cols = ow - x0 < 2 * w.n ? ow - x0 : 2 * w.n;
            if (y0 < oh && cols > 0)
                tiles(mk + (size_t)(w.t - t0) * 8, m_hstride, w.n, vb, yp + (size_t)y0 * ow + x0, ow, y0 + 1 < oh,
                      cols, accumulate);
        }
    }
}
