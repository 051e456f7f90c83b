/* qgemm_u8s8_4x24__avxvnni.c — u8 x s8 -> s32 GEMM on the quad layout
 * with AVX-VNNI (VEX vpdpbusd on ymm: 32 u8 x s8 products per instruction,
 * summed by fours exactly into int32), for CPUs with AVX-VNNI and no
 * AVX-512 (16 ymm registers).
 *
 * Register blocking: a tile is MR = 4 weight rows by NV = 3 vectors of 8
 * columns, 12 ymm accumulators kept in registers for the whole k loop, plus
 * the 3 x vectors of the quad and one broadcast weight quad: all 16
 * registers. Per quad: 3 loads of x and 4 broadcasts for 12 vpdpbusd, 12
 * independent chains to cover the instruction's latency. MR, NV and the
 * tail masking are compile-time constants of each instance. Rows past the
 * last 4 use 2- and 1-row tiles; the last columns use 1-3 vectors, the
 * last one through vpmaskmovd (masked load and store: nothing past column n
 * is read or written), and 3 + 1 trailing vectors go as 2 + 2. Columns are
 * the outer loop: a 24-column panel of x (kq * 96 bytes) is reused from L1
 * by every row block. */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

#define MAX_NV 3
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE __m256i bcast_quad(const int8_t *w) {
    int32_t v;
    memcpy(&v, w, sizeof v);
    return _mm256_set1_epi32(v);
}

/* Rows [0, MR) of w (bias b) against NV vectors of 8 columns at x (quad
 * rows ldq apart), the last vector's lanes masked by tail if TAIL. */
ALWAYS_INLINE void tile(const int MR, const int NV, const int TAIL, int kq, const int8_t *w, size_t ldw,
                        const uint8_t *x, size_t ldq, __m256i tail, const int32_t *b, int32_t *acc, size_t ldacc) {
    __m256i a[4][MAX_NV];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
        const __m256i br = _mm256_set1_epi32(b ? b[r] : 0);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) a[r][v] = br;
    }
    for (int q = 0; q < kq; q++, x += ldq) {
        __m256i xv[MAX_NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            xv[v] = TAIL && v == NV - 1 ? _mm256_maskload_epi32((const int *)(const void *)(x + 32 * v), tail)
                                        : _mm256_loadu_si256((const __m256i *)(x + 32 * v));
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++) {
            const __m256i wq = bcast_quad(w + (size_t)r * ldw + 4 * (size_t)q);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) a[r][v] = _mm256_dpbusd_avx_epi32(a[r][v], xv[v], wq);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            int32_t *o = acc + (size_t)r * ldacc + 8 * v;
            if (TAIL && v == NV - 1)
                _mm256_maskstore_epi32((int *)o, tail, a[r][v]);
            else
                _mm256_storeu_si256((__m256i *)o, a[r][v]);
        }
    }
}

/* All m rows against the columns at x / acc: 4-row tiles, then 2, 1. */
ALWAYS_INLINE void rows(const int NV, const int TAIL, int m, int kq, const int8_t *w, size_t ldw, const uint8_t *x,
                        size_t ldq, __m256i tail, const int32_t *bias, int32_t *acc, size_t ldacc) {
    int i = 0;
#define NNS_ROWS(MR)                                                                                                 \
    for (; i + MR <= m; i += MR)                                                                                     \
        tile(MR, NV, TAIL, kq, w + (size_t)i * ldw, ldw, x, ldq, tail, bias ? bias + i : NULL, acc + (size_t)i * ldacc, \
             ldacc);
    NNS_ROWS(4)
    NNS_ROWS(2)
    NNS_ROWS(1)
#undef NNS_ROWS
}

/* One instance per column block kind: 24 full columns, or 1-3 vectors with
 * the last one masked. */
#define NNS_COLS_FN(NV, TAIL)                                                                                       \
    static void cols_##NV##_##TAIL(int m, int kq, const int8_t *w, size_t ldw, const uint8_t *x, size_t ldq,       \
                                   __m256i tail, const int32_t *bias, int32_t *acc, size_t ldacc) {                \
        rows(NV, TAIL, m, kq, w, ldw, x, ldq, tail, bias, acc, ldacc);                                             \
    }
NNS_COLS_FN(3, 0)
NNS_COLS_FN(3, 1)
NNS_COLS_FN(2, 0)
NNS_COLS_FN(2, 1)
NNS_COLS_FN(1, 1)
#undef NNS_COLS_FN

/* Columns in blocks of 3 vectors of 8, then 2 + 2 or 2 or 1 for the rest (a
 * lone vector has 4 accumulator chains: 4 vectors go as 2 + 2); the last
 * block's last vector is masked to n. */
void nns_qgemm_u8s8_4x24__avxvnni(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                                  const int32_t *bias, int32_t *acc, size_t ldacc) {
    if (n <= 0) return;
    const int kq = nns_quads(k), nvec = (n + 7) / 8, last = n - 8 * (nvec - 1); /* 1..8 lanes */
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(last), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256i none = _mm256_setzero_si256();
    int n3 = nvec / 3, rest = nvec % 3;
    if (rest == 1 && n3 > 0) {
        n3--;
        rest = 4;
    }
    int j = 0;
    for (int b = 0; b < n3; b++, j += 24) {
        if (rest == 0 && b == n3 - 1)
            cols_3_1(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, tail, bias, acc + j, ldacc);
        else
            cols_3_0(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, none, bias, acc + j, ldacc);
    }
    if (rest == 4) {
        cols_2_0(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, none, bias, acc + j, ldacc);
        j += 16;
    }
    if (rest == 2 || rest == 4)
        cols_2_1(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, tail, bias, acc + j, ldacc);
    else if (rest == 1)
        cols_1_1(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, tail, bias, acc + j, ldacc);
}
