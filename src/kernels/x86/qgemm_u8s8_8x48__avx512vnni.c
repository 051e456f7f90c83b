/* qgemm_u8s8_8x48__avx512vnni.c — u8 x s8 -> s32 GEMM on the quad layout
 * with AVX-512 VNNI (vpdpbusd: 64 u8 x s8 products per instruction, summed
 * by fours exactly into int32).
 *
 * Register blocking: a tile is MR = 8 weight rows by NV = 3 vectors of 16
 * columns, 24 zmm accumulators that stay in registers for the whole k loop;
 * per quad it loads 3 vectors of x (48 columns' four u8) and broadcasts each
 * row's four s8 weights once (8 loads), for 24 vpdpbusd: 11 loads per 24
 * multiply-adds, well inside two loads a cycle, and 24 independent chains
 * cover vpdpbusd's latency at two a cycle. MR, NV and whether the last
 * vector is masked are compile-time constants of each tile function (the
 * generic loop is instantiated per shape and unrolled), so nothing but
 * the accumulators and x lives in the loop. Rows past the last 8 use 4-, 2-
 * and 1-row tiles; the last n % 48 columns use 1-3 vectors, the last one
 * masked (loads zero-masked, stores masked: nothing past column n is read
 * or written); a lone last vector (8 accumulators: vpdpbusd's latency
 * shows) is avoided by splitting 3 + 1 vectors as 2 + 2. Columns are the outer loop, so one 48-column panel of x
 * (kq * 192 bytes) is reused from L1 by every row block.
 *
 * k of 1-3 quads (k <= 12: a 3x3 convolution of one input channel) takes
 * another path: with 1-3 vpdpbusd per output the per-tile costs (bias,
 * weight broadcasts, stores) dominate, so 4-row blocks keep their weight
 * quads and biases in registers while 48-column blocks stream by, in chunks
 * of 384 columns so that x's chunk stays in L1 (vggsmall conv1, k = 9:
 * ~+30-50% side by side). */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

#define MAX_NV 3
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE __m512i bcast_quad(const int8_t *w) {
    int32_t v;
    memcpy(&v, w, sizeof v);
    return _mm512_set1_epi32(v);
}

/* Rows [0, MR) of w (bias b) against NV vectors of 16 columns at x (quad
 * rows ldq apart), the last vector's lanes masked by tail if TAIL. */
ALWAYS_INLINE void tile(const int MR, const int NV, const int TAIL, int kq, const int8_t *w, size_t ldw,
                        const uint8_t *x, size_t ldq, __mmask16 tail, const int32_t *b, int32_t *acc, size_t ldacc) {
    __m512i a[8][MAX_NV];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
        const __m512i br = _mm512_set1_epi32(b ? b[r] : 0);
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) a[r][v] = br;
    }
    for (int q = 0; q < kq; q++, x += ldq) {
        __m512i xv[MAX_NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            xv[v] = TAIL && v == NV - 1 ? _mm512_maskz_loadu_epi32(tail, x + 64 * v) : _mm512_loadu_si512(x + 64 * v);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512i wq = bcast_quad(w + (size_t)r * ldw + 4 * (size_t)q);
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) a[r][v] = _mm512_dpbusd_epi32(a[r][v], xv[v], wq);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) {
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            int32_t *o = acc + (size_t)r * ldacc + 16 * v;
            if (TAIL && v == NV - 1)
                _mm512_mask_storeu_epi32(o, tail, a[r][v]);
            else
                _mm512_storeu_si512(o, a[r][v]);
        }
    }
}

/* All m rows against the columns at x / acc: 8-row tiles, then 4, 2, 1. */
ALWAYS_INLINE void rows(const int NV, const int TAIL, int m, int kq, const int8_t *w, size_t ldw, const uint8_t *x,
                        size_t ldq, __mmask16 tail, const int32_t *bias, int32_t *acc, size_t ldacc) {
    int i = 0;
#define NNS_ROWS(MR)                                                                                                 \
    for (; i + MR <= m; i += MR)                                                                                     \
        tile(MR, NV, TAIL, kq, w + (size_t)i * ldw, ldw, x, ldq, tail, bias ? bias + i : NULL, acc + (size_t)i * ldacc, \
             ldacc);
    NNS_ROWS(8)
    NNS_ROWS(4)
    NNS_ROWS(2)
    NNS_ROWS(1)
#undef NNS_ROWS
}

/* One instance per column block kind: 48 full columns, or 1-3 vectors with
 * the last one masked. */
#define NNS_COLS_FN(NV, TAIL)                                                                                       \
    static void cols_##NV##_##TAIL(int m, int kq, const int8_t *w, size_t ldw, const uint8_t *x, size_t ldq,       \
                                   __mmask16 tail, const int32_t *bias, int32_t *acc, size_t ldacc) {              \
        rows(NV, TAIL, m, kq, w, ldw, x, ldq, tail, bias, acc, ldacc);                                             \
    }
NNS_COLS_FN(3, 0)
NNS_COLS_FN(3, 1)
NNS_COLS_FN(2, 0)
NNS_COLS_FN(2, 1)
NNS_COLS_FN(1, 1)
#undef NNS_COLS_FN

/* k of at most 3 quads (a 3x3 convolution of one input channel, k = 9):
 * per output only 1-3 vpdpbusd, so the fixed cost of a tile shows. Rows
 * outer: the MR rows' weight quads (KQ x MR broadcasts) and biases stay in
 * registers while the columns stream by in blocks of NV vectors. */
ALWAYS_INLINE void smallk_cols(const int MR, const int NV, const int TAIL, const int KQ, const __m512i *wv,
                               const __m512i *br, const uint8_t *x, size_t ldq, __mmask16 tail, int32_t *acc,
                               size_t ldacc) {
    __m512i a[4][MAX_NV];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) a[r][v] = br[r];
#pragma GCC unroll 3
    for (int q = 0; q < KQ; q++) {
        __m512i xv[MAX_NV];
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++)
            xv[v] = TAIL && v == NV - 1 ? _mm512_maskz_loadu_epi32(tail, x + (size_t)q * ldq + 64 * v)
                                        : _mm512_loadu_si512(x + (size_t)q * ldq + 64 * v);
#pragma GCC unroll 4
        for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
            for (int v = 0; v < NV; v++) a[r][v] = _mm512_dpbusd_epi32(a[r][v], xv[v], wv[q * 4 + r]);
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++)
#pragma GCC unroll 3
        for (int v = 0; v < NV; v++) {
            int32_t *o = acc + (size_t)r * ldacc + 16 * v;
            if (TAIL && v == NV - 1)
                _mm512_mask_storeu_epi32(o, tail, a[r][v]);
            else
                _mm512_storeu_si512(o, a[r][v]);
        }
}

ALWAYS_INLINE void smallk_rows(const int MR, const int KQ, int n, const int8_t *w, size_t ldw, const uint8_t *xq,
                               size_t ldq, const int32_t *b, int32_t *acc, size_t ldacc) {
    __m512i wv[3 * 4], br[4];
#pragma GCC unroll 4
    for (int r = 0; r < MR; r++) {
        br[r] = _mm512_set1_epi32(b ? b[r] : 0);
#pragma GCC unroll 3
        for (int q = 0; q < KQ; q++) wv[q * 4 + r] = bcast_quad(w + (size_t)r * ldw + 4 * (size_t)q);
    }
    int j = 0;
    for (; j + 48 <= n; j += 48) smallk_cols(MR, 3, 0, KQ, wv, br, xq + 4 * (size_t)j, ldq, 0, acc + j, ldacc);
    for (; j < n; j += 16) {
        const __mmask16 t = n - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - j)) - 1);
        smallk_cols(MR, 1, 1, KQ, wv, br, xq + 4 * (size_t)j, ldq, t, acc + j, ldacc);
    }
}

#define SMALLK_NC 384 /* columns per chunk: x's chunk (KQ * 1.5 KB) stays in L1 across the row blocks */
#define NNS_SMALLK_FN(KQ)                                                                                          \
    static void smallk_##KQ(int m, int n, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,               \
                            const int32_t *bias, int32_t *acc, size_t ldacc) {                                      \
        for (int j = 0; j < n; j += SMALLK_NC) {                                                                   \
            const int nc = n - j < SMALLK_NC ? n - j : SMALLK_NC;                                                  \
            int i = 0;                                                                                             \
            for (; i + 4 <= m; i += 4)                                                                             \
                smallk_rows(4, KQ, nc, w + (size_t)i * ldw, ldw, xq + 4 * (size_t)j, ldq, bias ? bias + i : NULL,  \
                            acc + (size_t)i * ldacc + j, ldacc);                                                   \
            for (; i < m; i++)                                                                                     \
                smallk_rows(1, KQ, nc, w + (size_t)i * ldw, ldw, xq + 4 * (size_t)j, ldq, bias ? bias + i : NULL,  \
                            acc + (size_t)i * ldacc + j, ldacc);                                                   \
        }                                                                                                          \
    }
NNS_SMALLK_FN(1)
NNS_SMALLK_FN(2)
NNS_SMALLK_FN(3)
#undef NNS_SMALLK_FN

/* Columns in blocks of 3 vectors of 16, then 2 + 2 or 2 or 1 for the rest
 * (a lone vector is latency-bound: 8 accumulators; 4 vectors go as 2 + 2);
 * the last block's last vector is masked to n. */
void nns_qgemm_u8s8_8x48__avx512vnni(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                                     const int32_t *bias, int32_t *acc, size_t ldacc) {
    if (n <= 0) return;
    const int kq = nns_quads(k), nvec = (n + 15) / 16;
    if (kq >= 1 && kq <= 3) {
        (kq == 1 ? smallk_1 : kq == 2 ? smallk_2 : smallk_3)(m, n, w, ldw, xq, ldq, bias, acc, ldacc);
        return;
    }
    const __mmask16 tail = n % 16 ? (__mmask16)((1u << (n % 16)) - 1) : (__mmask16)0xffff;
    int n3 = nvec / 3, rest = nvec % 3;
    if (rest == 1 && n3 > 0) {
        n3--;
        rest = 4;
    }
    int j = 0;
    for (int b = 0; b < n3; b++, j += 48) {
        if (rest == 0 && b == n3 - 1)
            cols_3_1(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, tail, bias, acc + j, ldacc);
        else
            cols_3_0(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, 0, bias, acc + j, ldacc);
    }
    if (rest == 4) {
        cols_2_0(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, 0, bias, acc + j, ldacc);
        j += 32;
    }
    if (rest == 2 || rest == 4)
        cols_2_1(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, tail, bias, acc + j, ldacc);
    else if (rest == 1)
        cols_1_1(m, kq, w, ldw, xq + 4 * (size_t)j, ldq, tail, bias, acc + j, ldacc);
}
