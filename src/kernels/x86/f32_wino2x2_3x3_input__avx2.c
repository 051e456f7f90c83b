/* f32_wino2x2_3x3_input__avx2.c — Winograd F(2x2,3x3) input transform,
 * AVX2: two horizontally adjacent tiles per 256-bit register (one per
 * 128-bit half); lone tiles at row ends go through the reference. */
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

static inline __m256 load2(const float *lo, const float *hi) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm_loadu_ps(lo)), _mm_loadu_ps(hi), 1);
}

/* Per 128-bit half: (u0 - u2, u1 + u2, u2 - u1, u1 - u3). */
static inline __m256 rowt(__m256 u, __m256 sgn) {
    __m256 a = _mm256_permute_ps(u, _MM_SHUFFLE(1, 2, 1, 0));
    __m256 b = _mm256_permute_ps(u, _MM_SHUFFLE(3, 1, 2, 2));
    return _mm256_fmadd_ps(b, sgn, a);
}

void nns_f32_wino2x2_3x3_input__avx2(const float *xp, int c, size_t plane_stride, int row_stride, int tx_count,
                                     int t0, int t1, float *v, size_t v_cstride, size_t v_hstride) {
    const __m256 sgn = _mm256_setr_ps(-1, 1, -1, -1, -1, 1, -1, -1);
    for (int ci = 0; ci < c; ci++) {
        const float *pl = xp + (size_t)ci * plane_stride;
        float *vo = v + (size_t)ci * v_cstride;
        int t = t0;
        while (t < t1) {
            const int ty = t / tx_count, tx = t - ty * tx_count;
            float *o = vo + (size_t)(t - t0) * 8;
            const float *p = pl + (size_t)(2 * ty) * row_stride + 2 * tx;
            /* A pair of tiles in one row, or a lone tile twice. */
            const int pair = t + 1 < t1 && tx + 1 < tx_count;
            const int dn = pair ? 2 : 0;
            const __m256 d0 = load2(p, p + dn), d1 = load2(p + row_stride, p + row_stride + dn);
            const __m256 d2 = load2(p + 2 * row_stride, p + 2 * row_stride + dn);
            const __m256 d3 = load2(p + 3 * row_stride, p + 3 * row_stride + dn);
            const __m256 v0 = rowt(_mm256_sub_ps(d0, d2), sgn), v1 = rowt(_mm256_add_ps(d1, d2), sgn);
            const __m256 v2 = rowt(_mm256_sub_ps(d2, d1), sgn), v3 = rowt(_mm256_sub_ps(d1, d3), sgn);
            _mm256_storeu_ps(o, _mm256_permute2f128_ps(v0, v1, 0x20));
            _mm256_storeu_ps(o + v_hstride, _mm256_permute2f128_ps(v2, v3, 0x20));
            if (pair) {
                _mm256_storeu_ps(o + 8, _mm256_permute2f128_ps(v0, v1, 0x31));
                _mm256_storeu_ps(o + 8 + v_hstride, _mm256_permute2f128_ps(v2, v3, 0x31));
            }
            t += pair ? 2 : 1;
        }
    }
}
