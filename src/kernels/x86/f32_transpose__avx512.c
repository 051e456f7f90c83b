/* f32_transpose__avx512.c — a matrix transposed in 16x16 tiles held in
 * registers: pairs of rows interleaved (unpack ps), then pairs of pairs
 * (unpack pd), which leaves each 128-bit lane holding four rows of one
 * column; two rounds of 128-bit lane shuffles gather a column's four lanes.
 * Tiles at the right or bottom edge load under a column mask (missing rows
 * are zeros) and store under a row mask. */
#include <immintrin.h>

#include "kernels/kernels.h"

static inline void tile16(const float *s, size_t lds, float *t, size_t ldt, int rh, int cw) {
    const __mmask16 cm = (__mmask16)(cw >= 16 ? 0xffffu : (1u << cw) - 1u);
    const __mmask16 rm = (__mmask16)(rh >= 16 ? 0xffffu : (1u << rh) - 1u);
    __m512 r[16], a[16];
    for (int i = 0; i < 16; i++) r[i] = i < rh ? _mm512_maskz_loadu_ps(cm, s + (size_t)i * lds) : _mm512_setzero_ps();
    for (int i = 0; i < 16; i += 2) {
        a[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        a[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) { /* r[i + j]: column j (+4, +8, +12 per lane) of rows i..i+3 */
        r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a[i]), _mm512_castps_pd(a[i + 2])));
        r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a[i]), _mm512_castps_pd(a[i + 2])));
        r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a[i + 1]), _mm512_castps_pd(a[i + 3])));
        r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a[i + 1]), _mm512_castps_pd(a[i + 3])));
    }
    for (int j = 0; j < 4; j++) {
        const __m512 v0 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0x88), w0 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0x88);
        const __m512 v1 = _mm512_shuffle_f32x4(r[j], r[4 + j], 0xdd), w1 = _mm512_shuffle_f32x4(r[8 + j], r[12 + j], 0xdd);
        a[j] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        a[j + 8] = _mm512_shuffle_f32x4(v0, w0, 0xdd);
        a[j + 4] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        a[j + 12] = _mm512_shuffle_f32x4(v1, w1, 0xdd);
    }
    for (int c = 0; c < cw && c < 16; c++) _mm512_mask_storeu_ps(t + (size_t)c * ldt, rm, a[c]);
}

void nns_f32_transpose__avx512(int rows, int cols, const float *s, size_t lds, float *t, size_t ldt) {
    for (int rb = 0; rb < rows; rb += 16)
        for (int cb = 0; cb < cols; cb += 16)
            tile16(s + (size_t)rb * lds + cb, lds, t + (size_t)cb * ldt + rb, ldt, rows - rb, cols - cb);
}
