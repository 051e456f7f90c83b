/* phase_impl.h — phase-plane packing (see kernels.h), shared by the
 * phase_pack kernels and the depthwise kernels (internal to src/kernels).
 * Translation units built with AVX2 get vectorised stride-2 columns. */
#ifndef NNS_KERNELS_PHASE_IMPL_H
#define NNS_KERNELS_PHASE_IMPL_H

#include <string.h>

#include "kernels/kernels.h"
#include "kernels/window_util.h"
#ifdef __AVX2__
#include "kernels/x86/avx2_util.h"
#endif

#ifdef __AVX2__
/* row[0, pw) = zeros except row[lo + k] = src[k] for k < n. May write up to
 * 7 floats past row + pw (zeros; the caller leaves room). */
static inline void nns_avx2_row_fill(float *row, int pw, int lo, const float *src, int n) {
    const __m256 z = _mm256_setzero_ps();
    for (int k = 0; k < lo; k++) row[k] = 0.0f;
    int k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(row + lo + k, _mm256_loadu_ps(src + k));
    if (k < n) {
        _mm256_storeu_ps(row + lo + k, _mm256_maskload_ps(src + k, nns_avx2_mask(n - k)));
        k += 8;
    }
    for (k += lo; k < pw; k += 8) _mm256_storeu_ps(row + k, z);
}
#endif

/* One input plane x -> its nph phase planes P. In AVX2 builds, may write up
 * to 8 floats (zeros) past the last plane. */
static inline void nns_phase_pack_one(const nns_conv2d_geom *g, const nns_phase_layout *L, const float *x,
                                      float *P) {
    for (int rp = 0; rp < g->sh; rp++) {
        for (int cp = 0; cp < g->sw; cp++) {
            float *pp = P + (size_t)(rp * g->sw + cp) * L->plane;
            int lo, hi, off = cp - g->pl;
            nns_window_valid_range(off, g->sw, g->iw, L->pw, &lo, &hi);
            for (int rr = 0; rr < L->prr; rr++) {
                float *row = pp + (size_t)rr * L->pw;
                int iy = rr * g->sh + rp - g->pt;
                if (iy < 0 || iy >= g->ih || hi == lo) {
#ifdef __AVX2__
                    for (int k = 0; k < L->pw; k += 8) _mm256_storeu_ps(row + k, _mm256_setzero_ps());
#else
                    for (int k = 0; k < L->pw; k++) row[k] = 0.0f;
#endif
                    continue;
                }
                const float *src = x + (size_t)iy * g->iw;
#ifdef __AVX2__
                if (g->sw == 1) {
                    nns_avx2_row_fill(row, L->pw, lo, src + lo + off, hi - lo);
                    continue;
                }
#endif
                for (int k = 0; k < lo; k++) row[k] = 0.0f;
                if (g->sw == 1) {
                    memcpy(row + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
                } else {
#ifdef __AVX2__
                    if (g->sw == 2) {
                        /* spill: zeroed just below, or the next row / slack */
                        nns_avx2_gather_stride2(src + lo * 2 + off, row + lo, hi - lo, 1);
                    } else
#endif
                    for (int k = lo; k < hi; k++) row[k] = src[k * g->sw + off];
                }
                for (int k = hi; k < L->pw; k++) row[k] = 0.0f;
            }
        }
    }
}

/* The adjoint: x += the input positions' entries of the phase planes dP. */
static inline void nns_phase_unpack_add_one(const nns_conv2d_geom *g, const nns_phase_layout *L,
                                            const float *dP, float *dx) {
    for (int rp = 0; rp < g->sh; rp++) {
        for (int cp = 0; cp < g->sw; cp++) {
            const float *pp = dP + (size_t)(rp * g->sw + cp) * L->plane;
            int lo, hi, off = cp - g->pl;
            nns_window_valid_range(off, g->sw, g->iw, L->pw, &lo, &hi);
            for (int rr = 0; rr < L->prr; rr++) {
                int iy = rr * g->sh + rp - g->pt;
                if (iy < 0 || iy >= g->ih) continue;
                const float *row = pp + (size_t)rr * L->pw;
                float *dst = dx + (size_t)iy * g->iw;
                if (g->sw == 1) {
#ifdef __AVX2__
                    const int n = hi - lo;
                    /* Full-width adds when the last vector's spill (zeros
                     * added) stays inside this plane. */
                    if ((size_t)iy * g->iw + lo + off + (size_t)((n + 7) & ~7) <= (size_t)g->ih * g->iw) {
                        int k = 0;
                        const float *sr = row + lo;
                        float *dr = dst + lo + off;
                        for (; k + 8 <= n; k += 8)
                            _mm256_storeu_ps(dr + k, _mm256_add_ps(_mm256_loadu_ps(dr + k), _mm256_loadu_ps(sr + k)));
                        if (k < n)
                            _mm256_storeu_ps(dr + k, _mm256_add_ps(_mm256_loadu_ps(dr + k),
                                                                   _mm256_maskload_ps(sr + k, nns_avx2_mask(n - k))));
                    } else {
                        nns_avx2_add_into(row + lo, dst + lo + off, hi - lo);
                    }
#else
                    for (int k = lo; k < hi; k++) dst[k + off] += row[k];
#endif
                } else {
#ifdef __AVX2__
                    if (g->sw == 2) {
                        const int n = hi - lo;
                        const size_t end = (size_t)iy * g->iw + lo * 2 + off + 16 * (size_t)((n + 7) / 8);
                        if (n > 0)
                            nns_avx2_scatter_add_stride2(row + lo, dst + lo * 2 + off, n,
                                                         end <= (size_t)g->ih * g->iw);
                    } else
#endif
                    for (int k = lo; k < hi; k++) dst[k * g->sw + off] += row[k];
                }
            }
        }
    }
}

#endif
