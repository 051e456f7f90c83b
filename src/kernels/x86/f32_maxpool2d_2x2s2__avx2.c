/* f32_maxpool2d_2x2s2__avx2.c — 2x2 max pooling, stride 2, no padding or
 * dilation, with argmax; 8 outputs per step (masked at row ends), AVX2.
 * Same results as nns_f32_maxpool2d__ref bit for bit, NaN handling
 * included. Requires 2*oh <= ih and 2*ow <= iw (the caller checks). */
#include "kernels/x86/avx2_util.h"
#include "kernels/kernels.h"

/* Even and odd elements of 16 consecutive floats. */
static inline void deinterleave(__m256 v0, __m256 v1, __m256 *even, __m256 *odd) {
    __m256 e = _mm256_shuffle_ps(v0, v1, 0x88), o = _mm256_shuffle_ps(v0, v1, 0xDD);
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), 0xD8));
}

/* Take v where v > best, or v is NaN and best is not. */
static inline void take(__m256 v, __m256i vi, __m256 *best, __m256i *bi) {
    __m256 m = _mm256_or_ps(_mm256_cmp_ps(v, *best, _CMP_GT_OQ),
                            _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(*best, *best, _CMP_ORD_Q)));
    *best = _mm256_blendv_ps(*best, v, m);
    *bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(*bi), _mm256_castsi256_ps(vi), m));
}

void nns_f32_maxpool2d_2x2s2__avx2(const nns_conv2d_geom *g, const float *x, float *y, int32_t *idx) {
    const int iw = g->iw, ow = g->ow;
    const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
    const __m256i one = _mm256_set1_epi32(1), row = _mm256_set1_epi32(iw);
    for (int oy = 0; oy < g->oh; oy++) {
        const float *r0 = x + (size_t)(2 * oy) * iw, *r1 = r0 + iw;
        float *yr = y + (size_t)oy * ow;
        int32_t *ir = idx ? idx + (size_t)oy * ow : NULL;
        for (int ox = 0; ox < ow; ox += 8) {
            const int rem = ow - ox;
            __m256 a0, a1, b0, b1;
            if (rem >= 8) {
                a0 = _mm256_loadu_ps(r0 + 2 * ox);
                a1 = _mm256_loadu_ps(r0 + 2 * ox + 8);
                b0 = _mm256_loadu_ps(r1 + 2 * ox);
                b1 = _mm256_loadu_ps(r1 + 2 * ox + 8);
            } else {
                const __m256i m0 = nns_avx2_mask(2 * rem), m1 = nns_avx2_mask(2 * rem - 8);
                a0 = _mm256_maskload_ps(r0 + 2 * ox, m0);
                a1 = _mm256_maskload_ps(r0 + 2 * ox + 8, m1);
                b0 = _mm256_maskload_ps(r1 + 2 * ox, m0);
                b1 = _mm256_maskload_ps(r1 + 2 * ox + 8, m1);
            }
            __m256 p, q, r, s;
            deinterleave(a0, a1, &p, &q);
            deinterleave(b0, b1, &r, &s);
            __m256i ip = _mm256_add_epi32(_mm256_set1_epi32(2 * oy * iw + 2 * ox), lane2);
            __m256 best = p;
            __m256i bi = ip;
            take(q, _mm256_add_epi32(ip, one), &best, &bi);
            __m256i ir0 = _mm256_add_epi32(ip, row);
            take(r, ir0, &best, &bi);
            take(s, _mm256_add_epi32(ir0, one), &best, &bi);
            if (rem >= 8) {
                _mm256_storeu_ps(yr + ox, best);
                if (ir) _mm256_storeu_si256((__m256i *)(ir + ox), bi);
            } else {
                nns_avx2_store_first(yr + ox, best, rem);
                if (ir) nns_avx2_store_first_epi32(ir + ox, bi, rem);
            }
        }
    }
}
