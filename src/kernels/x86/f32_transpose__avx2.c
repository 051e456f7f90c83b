/* f32_transpose__avx2.c — a matrix transposed in 8x8 tiles held in
 * registers: pairs of rows interleaved (unpack), then 64-bit pairs of
 * pairs (shuffle), which leaves each 128-bit half holding four rows of one
 * column; a 128-bit permute joins a column's two halves. Tiles at the
 * right or bottom edge load and store under masks (missing rows are zeros). */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline __m256i lanes_below(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline void tile8(const float *s, size_t lds, float *t, size_t ldt, int rh, int cw) {
    const __m256i cm = lanes_below(cw), rm = lanes_below(rh);
    __m256 r[8], a[8];
    for (int i = 0; i < 8; i++) r[i] = i >= rh ? _mm256_setzero_ps() : cw >= 8 ? _mm256_loadu_ps(s + (size_t)i * lds) : _mm256_maskload_ps(s + (size_t)i * lds, cm);
    for (int i = 0; i < 8; i += 2) {
        a[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        a[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) { /* r[i + j]: column j (and j + 4) of rows i..i+3 */
        r[i] = _mm256_shuffle_ps(a[i], a[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(a[i], a[i + 2], 0xee);
        r[i + 2] = _mm256_shuffle_ps(a[i + 1], a[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(a[i + 1], a[i + 3], 0xee);
    }
    for (int j = 0; j < 4; j++) {
        a[j] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x20);
        a[j + 4] = _mm256_permute2f128_ps(r[j], r[4 + j], 0x31);
    }
    for (int c = 0; c < cw && c < 8; c++) {
        if (rh >= 8)
            _mm256_storeu_ps(t + (size_t)c * ldt, a[c]);
        else
            _mm256_maskstore_ps(t + (size_t)c * ldt, rm, a[c]);
    }
}

void nns_f32_transpose__avx2(int rows, int cols, const float *s, size_t lds, float *t, size_t ldt) {
    for (int rb = 0; rb < rows; rb += 8)
        for (int cb = 0; cb < cols; cb += 8)
            tile8(s + (size_t)rb * lds + cb, lds, t + (size_t)cb * ldt + rb, ldt, rows - rb, cols - cb);
}
