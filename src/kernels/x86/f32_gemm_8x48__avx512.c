/* f32_gemm_8x48__avx512.c — float GEMM with bias and activation, AVX-512.
 *
 * A tile is MR = 8 weight rows by NV = 3 vectors of 16 columns: 24 zmm
 * accumulators held for the whole k loop, started at the bias; per l it
 * loads 3 vectors of x's row l and broadcasts each row's weight once, for
 * 24 FMAs (two a cycle: 12 cycles for 11 loads). Rows past the last 8 take
 * 4-, 2- and 1-row tiles; the last n % 48 columns 1-3 vectors, the last
 * masked (nothing past column n is read or written), 3 + 1 vectors as
 * 2 + 2. Columns are the outer loop: a 48-column panel of x is reused by
 * every row block. The activation is applied on the accumulators before
 * the store: Relu as max(z, 0) and Clip as min(hi, max(lo, z)), whose
 * operand order gives the ternaries' results for NaN and -0. */
#include <immintrin.h>

#include "kernels/kernels.h"

#define MAX_NV 3
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE __m512 act_v(__m512 z, int act, __m512 lo, __m512 hi) {
    if (act == 1) return _mm512_max_ps(z, _mm512_setzero_ps());
    if (act == 2) return _mm512_min_ps(hi, _mm512_max_ps(lo, z));
    return z;
}

ALWAYS_INLINE void tile(const int MR, const int NV, const int TAIL, int k, const float *w, size_t ldw, const float *x,
                        size_t ldx, __mmask16 tail, const float *b, float *y, size_t ldy, int act, float lo, float hi) {
    __m512 a[8][MAX_NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        const __m512 br = _mm512_set1_ps(b ? b[r] : 0.0f);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) a[r][v] = br;
    }
    for (int l = 0; l < k; l++, x += ldx) {
        __m512 xv[MAX_NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            xv[v] = TAIL && v == NV - 1 ? _mm512_maskz_loadu_ps(tail, x + 16 * v) : _mm512_loadu_ps(x + 16 * v);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512 wr = _mm512_set1_ps(w[(size_t)r * ldw + l]);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) a[r][v] = _mm512_fmadd_ps(wr, xv[v], a[r][v]);
        }
    }
    const __m512 lv = _mm512_set1_ps(lo), hv = _mm512_set1_ps(hi);
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            float *o = y + (size_t)r * ldy + 16 * v;
            const __m512 z = act_v(a[r][v], act, lv, hv);
            if (TAIL && v == NV - 1)
                _mm512_mask_storeu_ps(o, tail, z);
            else
                _mm512_storeu_ps(o, z);
        }
    }
}

ALWAYS_INLINE void rows(const int NV, const int TAIL, int m, int k, const float *w, size_t ldw, const float *x,
                        size_t ldx, __mmask16 tail, const float *bias, float *y, size_t ldy, int act, float lo,
                        float hi) {
    int i = 0;
#define NNS_ROWS(MR)                                                                                               \
    for (; i + MR <= m; i += MR)                                                                                   \
        tile(MR, NV, TAIL, k, w + (size_t)i * ldw, ldw, x, ldx, tail, bias ? bias + i : NULL, y + (size_t)i * ldy, \
             ldy, act, lo, hi);
    NNS_ROWS(8)
    NNS_ROWS(4)
    NNS_ROWS(2)
    NNS_ROWS(1)
#undef NNS_ROWS
}

#define NNS_COLS_FN(NV, TAIL)                                                                                      \
    static void cols_##NV##_##TAIL(int m, int k, const float *w, size_t ldw, const float *x, size_t ldx,          \
                                   __mmask16 tail, const float *bias, float *y, size_t ldy, int act, float lo,    \
                                   float hi) {                                                                    \
        rows(NV, TAIL, m, k, w, ldw, x, ldx, tail, bias, y, ldy, act, lo, hi);                                    \
    }
NNS_COLS_FN(3, 0)
NNS_COLS_FN(3, 1)
NNS_COLS_FN(2, 0)
NNS_COLS_FN(2, 1)
NNS_COLS_FN(1, 1)
#undef NNS_COLS_FN

void nns_f32_gemm_8x48__avx512(int m, int n, int k, const float *w, size_t ldw, const float *x, size_t ldx,
                               const float *bias, float *y, size_t ldy, int act, float lo, float hi) {
    if (n <= 0) return;
    const int nvec = (n + 15) / 16;
    const __mmask16 tail = n % 16 ? (__mmask16)((1u << (n % 16)) - 1) : (__mmask16)0xffff;
    int n3 = nvec / 3, rest = nvec % 3;
    if (rest == 1 && n3 > 0) {
        n3--;
        rest = 4;
    }
    int j = 0;
    for (int b = 0; b < n3; b++, j += 48) {
        if (rest == 0 && b == n3 - 1)
            cols_3_1(m, k, w, ldw, x + j, ldx, tail, bias, y + j, ldy, act, lo, hi);
        else
            cols_3_0(m, k, w, ldw, x + j, ldx, 0, bias, y + j, ldy, act, lo, hi);
    }
    if (rest == 4) {
        cols_2_0(m, k, w, ldw, x + j, ldx, 0, bias, y + j, ldy, act, lo, hi);
        j += 32;
    }
    if (rest == 2 || rest == 4)
        cols_2_1(m, k, w, ldw, x + j, ldx, tail, bias, y + j, ldy, act, lo, hi);
    else if (rest == 1)
        cols_1_1(m, k, w, ldw, x + j, ldx, tail, bias, y + j, ldy, act, lo, hi);
}
