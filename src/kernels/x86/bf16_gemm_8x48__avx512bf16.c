/* bf16_gemm_8x48__avx512bf16.c — bfloat16 GEMM into float on the pair
 * layout with AVX-512 BF16 (vdpbf16ps: 32 bf16 products per instruction,
 * summed by twos into 16 float accumulators).
 *
 * The blocking of the int8 GEMM (qgemm_u8s8_8x48__avx512vnni.c), with
 * float accumulators: a tile is MR = 8 weight rows by NV = 3 vectors of 16
 * columns, 24 zmm accumulators held for the whole k loop; per pair it loads
 * 3 vectors of x (48 columns' two bf16) and broadcasts each row's weight
 * pair once, for 24 vdpbf16ps. Rows past the last 8 take 4-, 2- and 1-row
 * tiles; the last n % 48 columns 1-3 vectors, the last one masked (nothing
 * past column n is read or written); 3 + 1 vectors go as 2 + 2. Columns are
 * the outer loop, so a 48-column panel of x stays in L1 across the row
 * blocks. vdpbf16ps treats subnormal inputs as zero and flushes subnormal
 * results (the reference keeps them). */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

#define MAX_NV 3
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE __m512bh bcast_pair(const uint16_t *w) {
    int32_t v;
    memcpy(&v, w, sizeof v);
    return (__m512bh)_mm512_set1_epi32(v);
}

ALWAYS_INLINE __m512bh load_x(const uint16_t *x, int masked, __mmask16 tail) {
    return (__m512bh)(masked ? _mm512_maskz_loadu_epi32(tail, x) : _mm512_loadu_si512(x));
}

/* Rows [0, MR) of w (bias b) against NV vectors of 16 columns at x (pair
 * rows ldp apart), the last vector's lanes masked by tail if TAIL. */
ALWAYS_INLINE void tile(const int MR, const int NV, const int TAIL, int kp, const uint16_t *w, size_t ldw,
                        const uint16_t *x, size_t ldp, __mmask16 tail, const float *b, float *acc, size_t ldacc) {
    __m512 a[8][MAX_NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        const __m512 br = _mm512_set1_ps(b ? b[r] : 0.0f);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) a[r][v] = br;
    }
    for (int p = 0; p < kp; p++, x += ldp) {
        __m512bh xv[MAX_NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) xv[v] = load_x(x + 32 * v, TAIL && v == NV - 1, tail);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512bh wp = bcast_pair(w + (size_t)r * ldw + 2 * (size_t)p);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) a[r][v] = _mm512_dpbf16_ps(a[r][v], xv[v], wp);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            float *o = acc + (size_t)r * ldacc + 16 * v;
            if (TAIL && v == NV - 1)
                _mm512_mask_storeu_ps(o, tail, a[r][v]);
            else
                _mm512_storeu_ps(o, a[r][v]);
        }
    }
}

/* All m rows against the columns at x / acc: 8-row tiles, then 4, 2, 1. */
ALWAYS_INLINE void rows(const int NV, const int TAIL, int m, int kp, const uint16_t *w, size_t ldw, const uint16_t *x,
                        size_t ldp, __mmask16 tail, const float *bias, float *acc, size_t ldacc) {
    int i = 0;
#define NNS_ROWS(MR)                                                                                                 \
    for (; i + MR <= m; i += MR)                                                                                     \
        tile(MR, NV, TAIL, kp, w + (size_t)i * ldw, ldw, x, ldp, tail, bias ? bias + i : NULL, acc + (size_t)i * ldacc, \
             ldacc);
    NNS_ROWS(8)
    NNS_ROWS(4)
    NNS_ROWS(2)
    NNS_ROWS(1)
#undef NNS_ROWS
}

#define NNS_COLS_FN(NV, TAIL)                                                                                       \
    static void cols_##NV##_##TAIL(int m, int kp, const uint16_t *w, size_t ldw, const uint16_t *x, size_t ldp,    \
                                   __mmask16 tail, const float *bias, float *acc, size_t ldacc) {                  \
        rows(NV, TAIL, m, kp, w, ldw, x, ldp, tail, bias, acc, ldacc);                                             \
    }
NNS_COLS_FN(3, 0)
NNS_COLS_FN(3, 1)
NNS_COLS_FN(2, 0)
NNS_COLS_FN(2, 1)
NNS_COLS_FN(1, 1)
#undef NNS_COLS_FN

void nns_bf16_gemm_8x48__avx512bf16(int m, int n, int k, const uint16_t *w, size_t ldw, const uint16_t *xp, size_t ldp,
                                    const float *bias, float *acc, size_t ldacc) {
    if (n <= 0) return;
    const int kp = nns_bf16_pairs(k), nvec = (n + 15) / 16;
    const __mmask16 tail = n % 16 ? (__mmask16)((1u << (n % 16)) - 1) : (__mmask16)0xffff;
    int n3 = nvec / 3, rest = nvec % 3;
    if (rest == 1 && n3 > 0) {
        n3--;
        rest = 4;
    }
    int j = 0;
    for (int b = 0; b < n3; b++, j += 48) {
        if (rest == 0 && b == n3 - 1)
            cols_3_1(m, kp, w, ldw, xp + 2 * (size_t)j, ldp, tail, bias, acc + j, ldacc);
        else
            cols_3_0(m, kp, w, ldw, xp + 2 * (size_t)j, ldp, 0, bias, acc + j, ldacc);
    }
    if (rest == 4) {
        cols_2_0(m, kp, w, ldw, xp + 2 * (size_t)j, ldp, 0, bias, acc + j, ldacc);
        j += 32;
    }
    if (rest == 2 || rest == 4)
        cols_2_1(m, kp, w, ldw, xp + 2 * (size_t)j, ldp, tail, bias, acc + j, ldacc);
    else if (rest == 1)
        cols_1_1(m, kp, w, ldw, xp + 2 * (size_t)j, ldp, tail, bias, acc + j, ldacc);
}
