/* f32_wino2x2_3x3_output__avx2.c — Winograd F(2x2,3x3) output transform,
 * AVX2: two horizontally adjacent tiles at once (their 2x2 outputs form 4
 * contiguous floats of two rows); tiles crossing the plane's edge and lone
 * tiles go through the reference. */
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

static inline __m256 load2(const float *lo, const float *hi) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
}

/* Per half (u0..u3) -> (u0+u1+u2, u1-u2-u3); both tiles packed into 4 floats. */
static inline __m128 colt(__m256 u, __m256 s) {
    __m256 b = _mm256_permute_ps(u, _MM_SHUFFLE(3, 3, 2, 1));
    __m256 c = _mm256_permute_ps(u, _MM_SHUFFLE(3, 3, 3, 2));
    __m256 o = _mm256_fmadd_ps(c, s, _mm256_fmadd_ps(b, s, u));
    o = _mm256_permutevar8x32_ps(o, _mm256_setr_epi32(0, 1, 4, 5, 0, 1, 4, 5));
    return _mm256_castps256_ps128(o);
}

void nns_f32_wino2x2_3x3_output__avx2(const float *m, int k, size_t m_kstride, size_t m_hstride, int tx_count,
                                      int t0, int t1, const float *bias, float *y, size_t y_plane, int oh, int ow,
                                      int accumulate) {
    const __m256 s = _mm256_setr_ps(1, -1, 0, 0, 1, -1, 0, 0);
    for (int ki = 0; ki < k; ki++) {
        float *yp = y + (size_t)ki * y_plane;
        const __m128 vb = _mm_set1_ps(bias ? bias[ki] : 0.0f);
        const float *mk = m + (size_t)ki * m_kstride;
        int t = t0;
        while (t < t1) {
            const int ty = t / tx_count, tx = t - ty * tx_count;
            const float *q = mk + (size_t)(t - t0) * 8, *q1 = q + m_hstride;
            /* A pair of tiles in one row, or a lone tile (its own data in
             * both halves, the second result dropped). */
            const int pair = t + 1 < t1 && tx + 1 < tx_count;
            const int dn = pair ? 8 : 0;
            const __m256 r0 = load2(q, q + dn), r1 = load2(q + 4, q + 4 + dn);
            const __m256 r2 = load2(q1, q1 + dn), r3 = load2(q1 + 4, q1 + 4 + dn);
            const __m256 u0 = _mm256_add_ps(_mm256_add_ps(r0, r1), r2);
            const __m256 u1 = _mm256_sub_ps(_mm256_sub_ps(r1, r2), r3);
            __m128 o0 = _mm_add_ps(colt(u0, s), vb), o1 = _mm_add_ps(colt(u1, s), vb);
            const int y0 = 2 * ty, x0 = 2 * tx;
            float *d0 = yp + (size_t)y0 * ow + x0, *d1 = d0 + ow;
            if (pair && x0 + 4 <= ow && y0 + 2 <= oh) {
                if (accumulate) {
                    o0 = _mm_add_ps(o0, _mm_loadu_ps(d0));
                    o1 = _mm_add_ps(o1, _mm_loadu_ps(d1));
                }
                _mm_storeu_ps(d0, o0);
                _mm_storeu_ps(d1, o1);
            } else {
                float tmp[2][4];
                _mm_storeu_ps(tmp[0], o0);
                _mm_storeu_ps(tmp[1], o1);
                const int cols = pair ? 4 : 2;
                for (int r = 0; r < 2 && y0 + r < oh; r++) {
                    float *dst = r ? d1 : d0;
                    for (int c = 0; c < cols && x0 + c < ow; c++) dst[c] = (accumulate ? dst[c] : 0.0f) + tmp[r][c];
                }
            }
            t += pair ? 2 : 1;
        }
    }
}
