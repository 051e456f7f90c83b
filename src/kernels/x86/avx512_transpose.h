/* avx512_transpose.h — 16x16 float transposes in zmm registers, and the
 * moves of 16 planes in and out of a buffer of one vector per position
 * (a plane a lane), for AVX-512 kernels (internal; include only from files
 * built for AVX-512). */
#ifndef NNS_KERNELS_X86_AVX512_TRANSPOSE_H
#define NNS_KERNELS_X86_AVX512_TRANSPOSE_H

#include <immintrin.h>
#include <stddef.h>

/* r[i] lane j becomes r[j] lane i. Written out (GCC keeps loops over the
 * array in memory at -O2). */
static inline __attribute__((always_inline)) void nns_transpose16_ps(__m512 r[16]) {
    __m512 t[16], u[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
#pragma GCC unroll 16
    for (int k = 0; k < 16; k += 4) { /* 128-bit lane L of u[k + m]: column 4L + m of rows k .. k+3 */
        u[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
        u[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xEE);
        u[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        u[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
#pragma GCC unroll 4
    for (int m = 0; m < 4; m++) {
        const __m512 v0 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88), v1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xDD);
        const __m512 w0 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
        const __m512 w1 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xDD);
        r[m] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        r[4 + m] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        r[8 + m] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
        r[12 + m] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
}

/* 16 positions from q0 (n of them, 1..16) of 16 planes (ld floats apart)
 * as 16 vectors, one a position: r[i] lane l = x[l*ld + q0 + i] (positions
 * past n read as 0, never loaded). */
static inline __attribute__((always_inline)) void nns_planes_in16(const float *x, size_t ld, size_t q0, int n,
                                                                  __m512 r[16]) {
    const __mmask16 k = (__mmask16)((1u << n) - 1u);
#pragma GCC unroll 16
    for (int l = 0; l < 16; l++) r[l] = _mm512_maskz_loadu_ps(k, x + l * ld + q0);
    nns_transpose16_ps(r);
}

/* The way back: 16 vectors of a position each (r[i] lane l for position
 * q0 + i of plane l) into the planes (ld floats apart), positions q0 ..
 * q0+n-1 (n 1..16) only. r is clobbered. */
static inline __attribute__((always_inline)) void nns_planes_out16(__m512 r[16], int n, float *y, size_t ld,
                                                                   size_t q0) {
    nns_transpose16_ps(r);
    const __mmask16 k = (__mmask16)((1u << n) - 1u);
#pragma GCC unroll 16
    for (int l = 0; l < 16; l++) _mm512_mask_storeu_ps(y + l * ld + q0, k, r[l]);
}

#endif
