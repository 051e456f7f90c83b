/* qgemm_u8s8_4x8__avx2.c — u8 x s8 -> s32 GEMM on the quad layout with
 * AVX2, exact.
 *
 * Why vpmaddwd: vpmaddubsw (u8 x s8, 32 products per instruction) adds
 * products in pairs into int16 with saturation, and a pair of u8 x s8
 * products reaches 2 * 255 * 127 = 64770 > 32767 (or -65280 < -32768): real
 * activations and weights hit that, so its sums are wrong. The exact path
 * widens both operands to 16 bits and uses vpmaddwd (16 products per
 * instruction, pairs summed into int32, at most 2 * 255 * 128 in magnitude,
 * exact), plus a vpaddd into the accumulator: 2 instructions per 16 MACs,
 * half of vpmaddubsw's rate, but right.
 *
 * Blocking: a tile is R = 4 weight rows by 8 columns. The 8 columns' quads
 * of one quad row (32 bytes) widen into two ymm (vpmovzxbw, shared by the 4
 * rows); each lane of an accumulator holds one column's half-quad sum, two
 * accumulators per row (8 in all), the lanes of a column added once at the
 * end. The weights of the 4 rows are widened once per row block (KC quads
 * at a time, into a stack buffer) so that each row's quad is a plain
 * vpbroadcastq from memory (a load, no shuffle) instead of a broadcast and a
 * widening per use: per quad, 2 widenings + 8 vpmaddwd + 8 vpaddd (the quad
 * loop is unrolled by 2: rolled, GCC 12 spilled an accumulator). The
 * first k chunk starts from the bias, later chunks add to acc. Rows past the
 * last 4 use 2- and 1-row tiles; the last n % 8 columns are read with
 * vpmaskmovd and written with a masked store (nothing past column n is read
 * or written). The tile shape and the masking are compile-time constants of
 * each instance. (The previous 4x16 tile, 16 accumulators for 16 ymm
 * registers, kept them on the stack.) */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

#define KC 256 /* quads of widened weights per chunk: 4 rows x 256 x 8 bytes */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Rows [0, R) of w, quads [q0, q0 + kc), widened: wb[q*R + r] = 4 x int16. */
ALWAYS_INLINE void widen_w(const int R, const int8_t *w, size_t ldw, int q0, int kc, int64_t *wb) {
    for (int q = 0; q < kc; q++)
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            int32_t v;
            memcpy(&v, w + (size_t)r * ldw + 4 * (size_t)(q0 + q), sizeof v);
            wb[q * R + r] = _mm_cvtsi128_si64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(v)));
        }
}

/* The 8 columns of lanes a (columns 0-3, two lanes each) and b (4-7). */
ALWAYS_INLINE __m256i fold_pairs(__m256i a, __m256i b) {
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xd8);
}

/* Four columns' quads (16 bytes), lanes of mask m only if TAIL. */
ALWAYS_INLINE __m256i load_x16(const int TAIL, const uint8_t *x, __m128i m) {
    const __m128i v = TAIL ? _mm_maskload_epi32((const int *)(const void *)x, m) : _mm_loadu_si128((const __m128i *)x);
    return _mm256_cvtepu8_epi16(v);
}

typedef struct tail_masks {
    __m128i m0, m1; /* columns 0-3, 4-7 of the last block */
    __m256i m;      /* its 8 columns */
} tail_masks;

/* Rows [0, R) (widened weights wb, kc quads) against 8 columns at x; adds
 * to the bias b if first, else to acc. */
ALWAYS_INLINE void tile(const int R, const int TAIL, int kc, const int64_t *wb, const uint8_t *x, size_t ldq,
                        const tail_masks *tm, int first, const int32_t *b, int32_t *acc, size_t ldacc) {
    __m256i a[4][2];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) a[r][0] = a[r][1] = _mm256_setzero_si256();
#pragma GCC unroll 2
    for (int q = 0; q < kc; q++, x += ldq) {
        const __m256i x0 = load_x16(TAIL, x, tm->m0), x1 = load_x16(TAIL, x + 16, tm->m1);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            const __m256i wq = _mm256_set1_epi64x(wb[q * R + r]);
            a[r][0] = _mm256_add_epi32(_mm256_madd_epi16(x0, wq), a[r][0]);
            a[r][1] = _mm256_add_epi32(_mm256_madd_epi16(x1, wq), a[r][1]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
        int32_t *o = acc + (size_t)r * ldacc;
        __m256i base;
        if (first)
            base = _mm256_set1_epi32(b ? b[r] : 0);
        else
            base = TAIL ? _mm256_maskload_epi32((const int *)o, tm->m) : _mm256_loadu_si256((const __m256i *)o);
        const __m256i s = _mm256_add_epi32(fold_pairs(a[r][0], a[r][1]), base);
        if (TAIL)
            _mm256_maskstore_epi32((int *)o, tm->m, s);
        else
            _mm256_storeu_si256((__m256i *)o, s);
    }
}

/* Rows [0, R) against all n columns, k in chunks of KC quads. */
ALWAYS_INLINE void row_block(const int R, int n, int kq, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                             const tail_masks *tm, const int32_t *b, int32_t *acc, size_t ldacc) {
    int64_t wb[KC * 4];
    for (int q0 = 0; q0 < kq || q0 == 0; q0 += KC) {
        const int kc = kq - q0 < KC ? kq - q0 : KC;
        widen_w(R, w, ldw, q0, kc, wb);
        const uint8_t *x = xq + (size_t)q0 * ldq;
        int j = 0;
        for (; j + 8 <= n; j += 8) tile(R, 0, kc, wb, x + 4 * (size_t)j, ldq, tm, q0 == 0, b, acc + j, ldacc);
        if (j < n) tile(R, 1, kc, wb, x + 4 * (size_t)j, ldq, tm, q0 == 0, b, acc + j, ldacc);
    }
}

#define NNS_ROWS_FN(R)                                                                                              \
    static void rows_##R(int n, int kq, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,                 \
                         const tail_masks *tm, const int32_t *b, int32_t *acc, size_t ldacc) {                      \
        row_block(R, n, kq, w, ldw, xq, ldq, tm, b, acc, ldacc);                                                    \
    }
NNS_ROWS_FN(4)
NNS_ROWS_FN(2)
NNS_ROWS_FN(1)
#undef NNS_ROWS_FN

void nns_qgemm_u8s8_4x8__avx2(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                              const int32_t *bias, int32_t *acc, size_t ldacc) {
    const int kq = nns_quads(k);
    tail_masks tm;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    tm.m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n % 8), lanes);
    tm.m0 = _mm256_castsi256_si128(tm.m);
    tm.m1 = _mm256_extracti128_si256(tm.m, 1);
    int i = 0;
#define NNS_ROWS(R)                                                                                                \
    for (; i + R <= m; i += R)                                                                                     \
        rows_##R(n, kq, w + (size_t)i * ldw, ldw, xq, ldq, &tm, bias ? bias + i : NULL, acc + (size_t)i * ldacc, \
                 ldacc);
    NNS_ROWS(4)
    NNS_ROWS(2)
    NNS_ROWS(1)
#undef NNS_ROWS
}
