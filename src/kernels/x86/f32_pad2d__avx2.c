/* f32_pad2d__avx2.c — copy c planes into zero-padded planes, rows moved
 * with 8-float loads/stores (masked at the row end). */
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

void nns_f32_pad2d__avx2(const float *x, int c, int ih, int iw, float *xp, int ph, int pw, int pt, int pl) {
    int lo, hi; /* destination columns holding input: input columns [lo - pl, hi - pl) */
    nns_pad2d_cols(iw, pw, pl, &lo, &hi);
    const int n = hi - lo;
    const __m256 z = _mm256_setzero_ps();
    const __m256i tail = nns_avx2_mask(n & 7);
    for (int ci = 0; ci < c; ci++) {
        const float *src = x + (size_t)ci * ih * iw;
        float *dst = xp + (size_t)ci * ph * pw;
        for (int r = 0; r < ph; r++) {
            float *row = dst + (size_t)r * pw;
            const int iy = r - pt;
            if (iy < 0 || iy >= ih || n == 0) {
                int k = 0;
                for (; k + 8 <= pw; k += 8) _mm256_storeu_ps(row + k, z);
                for (; k < pw; k++) row[k] = 0.0f;
                continue;
            }
            const float *s = src + (size_t)iy * iw + (lo - pl);
            for (int k = 0; k < lo; k++) row[k] = 0.0f;
            float *d = row + lo;
            int k = 0;
            for (; k + 8 <= n; k += 8) _mm256_storeu_ps(d + k, _mm256_loadu_ps(s + k));
            if (k < n) nns_avx2_store_first(d + k, _mm256_maskload_ps(s + k, tail), n - k);
            for (k = hi; k < pw; k++) row[k] = 0.0f;
        }
    }
}
