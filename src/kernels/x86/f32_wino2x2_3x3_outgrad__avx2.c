/* f32_wino2x2_3x3_outgrad__avx2.c — adjoint of the F(2x2,3x3) output
 * transform, AVX2: two horizontally adjacent tiles at once; edge and lone
 * tiles go through the reference. */
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

/* (x0, x1) of each tile -> (x0, x0 + x1, x0 - x1, -x1), two tiles. */
static inline __m256 rowt(__m128 e) {
    const __m256 v = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(e), _mm256_setr_epi32(0, 1, 0, 1, 2, 3, 2, 3));
    const __m256 a = _mm256_permute_ps(v, _MM_SHUFFLE(0, 0, 0, 0));
    const __m256 b = _mm256_permute_ps(v, _MM_SHUFFLE(1, 1, 1, 1));
    return _mm256_fmadd_ps(b, _mm256_setr_ps(0, 1, -1, -1, 0, 1, -1, -1),
                           _mm256_mul_ps(a, _mm256_setr_ps(1, 1, 1, 0, 1, 1, 1, 0)));
}

void nns_f32_wino2x2_3x3_outgrad__avx2(const float *dy, int k, size_t dy_plane, int oh, int ow, int tx_count,
                                       int t0, int t1, float *dm, size_t dm_kstride, size_t dm_hstride) {
    for (int ki = 0; ki < k; ki++) {
        const float *p = dy + (size_t)ki * dy_plane;
        float *dk = dm + (size_t)ki * dm_kstride;
        int t = t0;
        while (t < t1) {
            const int ty = t / tx_count, tx = t - ty * tx_count;
            float *o = dk + (size_t)(t - t0) * 8;
            const int pair = t + 1 < t1 && tx + 1 < tx_count;
            const int y0 = 2 * ty, x0 = 2 * tx;
            __m128 d0, d1;
            if (pair && x0 + 4 <= ow && y0 + 2 <= oh) {
                const float *r = p + (size_t)y0 * ow + x0;
                d0 = _mm_loadu_ps(r);
                d1 = _mm_loadu_ps(r + ow);
            } else {
                /* Edge: zeros outside the plane; a lone tile's data twice. */
                float tmp[2][4] = {{0}};
                for (int r = 0; r < 2 && y0 + r < oh; r++)
                    for (int c = 0; c < (pair ? 4 : 2) && x0 + c < ow; c++)
                        tmp[r][c] = p[(size_t)(y0 + r) * ow + x0 + c];
                d0 = _mm_loadu_ps(tmp[0]);
                d1 = _mm_loadu_ps(tmp[1]);
            }
            const __m256 e0 = rowt(d0), e1 = rowt(_mm_add_ps(d0, d1));
            const __m256 e2 = rowt(_mm_sub_ps(d0, d1)), e3 = rowt(_mm_sub_ps(_mm_setzero_ps(), d1));
            if (pair) {
                _mm256_storeu_ps(o, _mm256_permute2f128_ps(e0, e1, 0x20));
                _mm256_storeu_ps(o + dm_hstride, _mm256_permute2f128_ps(e2, e3, 0x20));
                _mm256_storeu_ps(o + 8, _mm256_permute2f128_ps(e0, e1, 0x31));
                _mm256_storeu_ps(o + 8 + dm_hstride, _mm256_permute2f128_ps(e2, e3, 0x31));
            } else {
                _mm256_storeu_ps(o, _mm256_permute2f128_ps(e0, e1, 0x20));
                _mm256_storeu_ps(o + dm_hstride, _mm256_permute2f128_ps(e2, e3, 0x20));
            }
            t += pair ? 2 : 1;
        }
    }
}
