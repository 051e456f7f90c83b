/* qgemm_u8s8_8x32__avx512vnni.c — u8 x s8 -> s32 GEMM on the quad layout
 * with AVX-512 VNNI: a tile of 8 weight rows by 32 columns is 16 zmm
 * accumulators (4 and 1 rows for the rest); per quad, two loads of 16
 * columns' four u8 values, one broadcast of each row's four s8 weights,
 * two vpdpbusd per row (64 products each, summed exactly in int32).
 * Column tails are masked. */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

static inline __m512i bcast_quad(const int8_t *w) {
    int32_t v;
    memcpy(&v, w, sizeof v);
    return _mm512_set1_epi32(v);
}

/* Rows [0, R) of w against columns [j, j + 32) (masks m0, m1). */
static inline void tile(const int R, int kq, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq, int j,
                        __mmask16 m0, __mmask16 m1, const int32_t *bias, int32_t *acc, size_t ldacc) {
    __m512i a[8][2];
    for (int r = 0; r < R; r++) a[r][0] = a[r][1] = _mm512_set1_epi32(bias ? bias[r] : 0);
    const uint8_t *x = xq + 4 * (size_t)j;
    for (int q = 0; q < kq; q++, x += ldq) {
        const __m512i x0 = _mm512_maskz_loadu_epi32(m0, x), x1 = _mm512_maskz_loadu_epi32(m1, x + 64);
        for (int r = 0; r < R; r++) {
            const __m512i wq = bcast_quad(w + (size_t)r * ldw + 4 * (size_t)q);
            a[r][0] = _mm512_dpbusd_epi32(a[r][0], x0, wq);
            a[r][1] = _mm512_dpbusd_epi32(a[r][1], x1, wq);
        }
    }
    for (int r = 0; r < R; r++) {
        _mm512_mask_storeu_epi32(acc + (size_t)r * ldacc + j, m0, a[r][0]);
        _mm512_mask_storeu_epi32(acc + (size_t)r * ldacc + j + 16, m1, a[r][1]);
    }
}

static __mmask16 cols_mask(int rem) { return rem >= 16 ? (__mmask16)0xffff : rem <= 0 ? 0 : (__mmask16)((1u << rem) - 1); }

void nns_qgemm_u8s8_8x32__avx512vnni(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                                     const int32_t *bias, int32_t *acc, size_t ldacc) {
    const int kq = nns_quads(k);
    for (int j = 0; j < n; j += 32) {
        const __mmask16 m0 = cols_mask(n - j), m1 = cols_mask(n - j - 16);
        int i = 0;
        for (; i + 8 <= m; i += 8)
            tile(8, kq, w + (size_t)i * ldw, ldw, xq, ldq, j, m0, m1, bias ? bias + i : NULL, acc + (size_t)i * ldacc, ldacc);
        for (; i + 4 <= m; i += 4)
            tile(4, kq, w + (size_t)i * ldw, ldw, xq, ldq, j, m0, m1, bias ? bias + i : NULL, acc + (size_t)i * ldacc, ldacc);
        for (; i < m; i++)
            tile(1, kq, w + (size_t)i * ldw, ldw, xq, ldq, j, m0, m1, bias ? bias + i : NULL, acc + (size_t)i * ldacc, ldacc);
    }
}
