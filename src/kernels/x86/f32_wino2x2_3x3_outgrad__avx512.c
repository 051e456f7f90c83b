/* f32_wino2x2_3x3_outgrad__avx512.c — adjoint of the F(2x2,3x3) output
 * transform, AVX-512: up to four horizontally adjacent tiles a step, one
 * per 128-bit lane. Their 2x2 gradients are two rows of 2n contiguous
 * floats, loaded under masks that read zeros past the plane; the row and
 * column combinations are the AVX2 kernel's, and two permutes per half lay
 * the tiles out as the input transform does. */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/x86/avx512_wino.h"

/* (x0, x1) of each of four tiles -> (x0, x0 + x1, x0 - x1, -x1) per lane. */
static inline __m512 rowt(__m256 e) {
    const __m512i dup = _mm512_setr_epi32(0, 1, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7);
    const __m512 v = _mm512_permutexvar_ps(dup, _mm512_castps256_ps512(e));
    const __m512 a = _mm512_permute_ps(v, _MM_SHUFFLE(0, 0, 0, 0)), b = _mm512_permute_ps(v, _MM_SHUFFLE(1, 1, 1, 1));
    const __m512 sb = _mm512_setr_ps(0, 1, -1, -1, 0, 1, -1, -1, 0, 1, -1, -1, 0, 1, -1, -1);
    const __m512 sa = _mm512_setr_ps(1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0);
    return _mm512_fmadd_ps(b, sb, _mm512_mul_ps(a, sa));
}

/* n (1..4) tiles whose gradients start at p (rows ow apart; r1: the second
 * row is inside the plane; cols of them inside) into o and o + hs. */
static inline void tiles(const float *p, int ow, int r1, int cols, int n, float *o, size_t hs) {
    const __mmask8 k = (__mmask8)((1u << cols) - 1u);
    const __m256 d0 = _mm256_maskz_loadu_ps(k, p), d1 = r1 ? _mm256_maskz_loadu_ps(k, p + ow) : _mm256_setzero_ps();
    const __m512 e0 = rowt(d0), e1 = rowt(_mm256_add_ps(d0, d1));
    const __m512 e2 = rowt(_mm256_sub_ps(d0, d1)), e3 = rowt(_mm256_sub_ps(_mm256_setzero_ps(), d1));
    nns_wino_store_tiles(o, hs, n, e0, e1, e2, e3);
}

void nns_f32_wino2x2_3x3_outgrad__avx512(const float *dy, int k, size_t dy_plane, int oh, int ow, int tx_count,
                                         int t0, int t1, float *dm, size_t dm_kstride, size_t dm_hstride) {
    for (int ki = 0; ki < k; ki++) {
        const float *p = dy + (size_t)ki * dy_plane;
        float *dk = dm + (size_t)ki * dm_kstride;
        for (nns_wino_walk w = nns_wino_walk_start(t0, t1, tx_count); nns_wino_walk_next(&w);) {
            const int y0 = 2 * w.ty, x0 = 2 * w.tx;
            int cols = ow - x0 < 2 * w.n ? ow - x0 : 2 * w.n;
            if (y0 >= oh || cols < 0) cols = 0; /* a tile wholly past the plane: zeros */
            tiles(p + (size_t)(y0 < oh ? y0 : 0) * ow + (x0 < ow ? x0 : 0), ow, y0 + 1 < oh, cols, w.n,
                  dk + (size_t)(w.t - t0) * 8, dm_hstride);
        }
    }
}
