/* qgemm_u8s8_4x16__avx2.c — u8 x s8 -> s32 GEMM on the quad layout with
 * AVX2, exact: the u8 quads are widened to 16 bits and multiplied with the
 * row's weight quad (widened, repeated) by vpmaddwd, whose 32-bit pair sums
 * cannot overflow (255 * 128 * 2 < 2^31), where vpmaddubsw's 16-bit pair
 * sums would saturate (255 * 127 * 2 > 2^15). Each accumulator lane holds
 * one column's half-quad sums; adjacent lanes are added once at the end. A
 * tile is 4 rows by 16 columns; rows and columns past it are done one row /
 * through a 16-column buffer. */
#include <immintrin.h>
#include <string.h>

#include "kernels/kernels.h"

static inline __m256i wquad16(const int8_t *w) {
    int32_t v;
    memcpy(&v, w, sizeof v);
    return _mm256_cvtepi8_epi16(_mm_set1_epi32(v)); /* w0 w1 w2 w3, four times */
}

/* The 8 columns of lanes a (columns 0-3, two lanes each) and b (4-7). */
static inline __m256i fold_pairs(__m256i a, __m256i b) {
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(a, b), 0xd8);
}

/* Rows [0, R) against 16 columns at x (quad rows ldq apart) into out[r][16]. */
static inline void tile(const int R, int kq, const int8_t *w, size_t ldw, const uint8_t *x, size_t ldq,
                        int32_t out[4][16]) {
    __m256i a[4][4];
    for (int r = 0; r < R; r++) a[r][0] = a[r][1] = a[r][2] = a[r][3] = _mm256_setzero_si256();
    for (int q = 0; q < kq; q++, x += ldq) {
        __m256i xs[4];
        for (int t = 0; t < 4; t++) xs[t] = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(x + 16 * t)));
        for (int r = 0; r < R; r++) {
            const __m256i wq = wquad16(w + (size_t)r * ldw + 4 * (size_t)q);
            for (int t = 0; t < 4; t++) a[r][t] = _mm256_add_epi32(a[r][t], _mm256_madd_epi16(xs[t], wq));
        }
    }
    for (int r = 0; r < R; r++) {
        _mm256_storeu_si256((__m256i *)out[r], fold_pairs(a[r][0], a[r][1]));
        _mm256_storeu_si256((__m256i *)(out[r] + 8), fold_pairs(a[r][2], a[r][3]));
    }
}

/* Rows [i, i + R) at columns [j, j + nc): the tile, plus the bias. The
 * last columns read a copy of their quads padded to 16 columns. */
static void rows_at(const int R, int i, int j, int nc, int kq, const int8_t *w, size_t ldw, const uint8_t *xq,
                    size_t ldq, const int32_t *bias, int32_t *acc, size_t ldacc, uint8_t *tailbuf) {
    int32_t out[4][16];
    if (nc == 16) {
        tile(R, kq, w + (size_t)i * ldw, ldw, xq + 4 * (size_t)j, ldq, out);
    } else {
        for (int q = 0; q < kq; q++) {
            memset(tailbuf + (size_t)q * 64, 0, 64);
            memcpy(tailbuf + (size_t)q * 64, xq + (size_t)q * ldq + 4 * (size_t)j, 4 * (size_t)nc);
        }
        tile(R, kq, w + (size_t)i * ldw, ldw, tailbuf, 64, out);
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < nc; c++) acc[(size_t)(i + r) * ldacc + j + c] = out[r][c] + (bias ? bias[i + r] : 0);
}

void nns_qgemm_u8s8_4x16__avx2(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                               const int32_t *bias, int32_t *acc, size_t ldacc) {
    const int kq = nns_quads(k);
    uint8_t tailbuf[64 * 64]; /* 64 quads at a time for the last columns */
    for (int j = 0; j < n; j += 16) {
        const int nc = n - j < 16 ? n - j : 16;
        if (nc < 16 && kq > 64) { /* a long tail: the reference for those columns */
            nns_qgemm_u8s8__ref(m, nc, k, w, ldw, xq + 4 * (size_t)j, ldq, bias, acc + j, ldacc);
            continue;
        }
        int i = 0;
        for (; i + 4 <= m; i += 4) rows_at(4, i, j, nc, kq, w, ldw, xq, ldq, bias, acc, ldacc, tailbuf);
        for (; i < m; i++) rows_at(1, i, j, nc, kq, w, ldw, xq, ldq, bias, acc, ldacc, tailbuf);
    }
}
