/* qgemv_u8s8_4x64__avx512vnni.c — u8 vector times s8 matrix rows with
 * AVX-512 VNNI: four rows at a time share each 64-byte load of x; one
 * vpdpbusd per row and 64 products (exact in int32), the row's 16 lanes
 * summed at the end. Reads x and the rows up to nns_qgemv_pad(k). */
#include <immintrin.h>

#include "kernels/kernels.h"

void nns_qgemv_u8s8_4x64__avx512vnni(int m, int k, const int8_t *w, size_t ldw, const uint8_t *x, const int32_t *bias,
                                     int32_t *acc) {
    const int kp = nns_qgemv_pad(k);
    int i = 0;
    for (; i + 4 <= m; i += 4) {
        const int8_t *w0 = w + (size_t)i * ldw;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (int l = 0; l < kp; l += 64) {
            const __m512i xv = _mm512_loadu_si512(x + l);
            a0 = _mm512_dpbusd_epi32(a0, xv, _mm512_loadu_si512(w0 + l));
            a1 = _mm512_dpbusd_epi32(a1, xv, _mm512_loadu_si512(w0 + ldw + l));
            a2 = _mm512_dpbusd_epi32(a2, xv, _mm512_loadu_si512(w0 + 2 * ldw + l));
            a3 = _mm512_dpbusd_epi32(a3, xv, _mm512_loadu_si512(w0 + 3 * ldw + l));
        }
        acc[i] = _mm512_reduce_add_epi32(a0) + (bias ? bias[i] : 0);
        acc[i + 1] = _mm512_reduce_add_epi32(a1) + (bias ? bias[i + 1] : 0);
        acc[i + 2] = _mm512_reduce_add_epi32(a2) + (bias ? bias[i + 2] : 0);
        acc[i + 3] = _mm512_reduce_add_epi32(a3) + (bias ? bias[i + 3] : 0);
    }
    for (; i < m; i++) {
        const int8_t *wi = w + (size_t)i * ldw;
        __m512i a = _mm512_setzero_si512();
        for (int l = 0; l < kp; l += 64) a = _mm512_dpbusd_epi32(a, _mm512_loadu_si512(x + l), _mm512_loadu_si512(wi + l));
        acc[i] = _mm512_reduce_add_epi32(a) + (bias ? bias[i] : 0);
    }
}
