/* f32_wgemm8_6x8__avx512.c — 8 GEMMs at once with the batch index
 * innermost (each element an 8-float vector: one half of Winograd's
 * transformed domain), AVX-512. Where B's and C's columns are adjacent
 * vectors (b_sb = c_sb = 8: the forward) a zmm holds two columns, and each
 * row of A is broadcast to both halves (vbroadcastf32x8): a register block
 * of 6 rows x 8 columns is 24 zmm accumulators, 10 loads per 24 FMAs. An
 * odd last column is a masked half. Where instead A's and B's r are
 * adjacent (the weight gradient's B[b][r]) a zmm holds two r and the
 * halves are summed at the end; other layouts take the AVX2 kernel. */
#include <immintrin.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE void tile(const int MR, const int NV, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr,
                        const float *B, ptrdiff_t b_sr, float *C, ptrdiff_t c_sa, __mmask16 last, int accumulate) {
    __m512 acc[6][4];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    for (int r = 0; r < nr; r++, A += a_sr, B += b_sr) {
        __m512 bv[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++)
            bv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(last, B + 16 * v) : _mm512_loadu_ps(B + 16 * v);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            const __m512 av = _mm512_broadcast_f32x8(_mm256_loadu_ps(A + i * a_sa));
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(av, bv[v], acc[i][v]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            float *pc = C + i * c_sa + 16 * v;
            const __mmask16 m = v == NV - 1 ? last : (__mmask16)0xffff;
            __m512 z = acc[i][v];
            if (accumulate) z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(m, pc));
            _mm512_mask_storeu_ps(pc, m, z);
        }
}

/* Rows [0, na) in blocks of MR against columns of NV vectors. */
ALWAYS_INLINE void rows(const int NV, int na, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr, const float *B,
                        ptrdiff_t b_sr, float *C, ptrdiff_t c_sa, __mmask16 last, int accumulate) {
    int a = 0;
    for (; a + 6 <= na; a += 6)
        tile(6, NV, nr, A + a * a_sa, a_sa, a_sr, B, b_sr, C + a * c_sa, c_sa, last, accumulate);
    switch (na - a) {
    case 5: tile(5, NV, nr, A + a * a_sa, a_sa, a_sr, B, b_sr, C + a * c_sa, c_sa, last, accumulate); break;
    case 4: tile(4, NV, nr, A + a * a_sa, a_sa, a_sr, B, b_sr, C + a * c_sa, c_sa, last, accumulate); break;
    case 3: tile(3, NV, nr, A + a * a_sa, a_sa, a_sr, B, b_sr, C + a * c_sa, c_sa, last, accumulate); break;
    case 2: tile(2, NV, nr, A + a * a_sa, a_sa, a_sr, B, b_sr, C + a * c_sa, c_sa, last, accumulate); break;
    case 1: tile(1, NV, nr, A + a * a_sa, a_sa, a_sr, B, b_sr, C + a * c_sa, c_sa, last, accumulate); break;
    default: break;
    }
}

#define NNS_ROWS_FN(NV)                                                                                         \
    static void rows_##NV(int na, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr, const float *B,       \
                          ptrdiff_t b_sr, float *C, ptrdiff_t c_sa, __mmask16 last, int accumulate) {          \
        rows(NV, na, nr, A, a_sa, a_sr, B, b_sr, C, c_sa, last, accumulate);                                   \
    }
NNS_ROWS_FN(1)
NNS_ROWS_FN(2)
NNS_ROWS_FN(3)
NNS_ROWS_FN(4)
#undef NNS_ROWS_FN

/* ---- B[b][r] (the weight gradient: A's and B's r adjacent) ----
 * Two consecutive r of one row of A, and of one column of B, fill a zmm;
 * a block of 4 rows x 6 columns keeps 24 accumulators of r pairs, and the
 * two halves are added once at the end. An odd last r is a masked half. */
ALWAYS_INLINE void rtile(const int MR, const int NB, int nr, const float *A, ptrdiff_t a_sa, const float *B,
                         ptrdiff_t b_sb, float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    __m512 acc[4][6];
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 6
        for (int j = 0; j < NB; j++) acc[i][j] = _mm512_setzero_ps();
    for (int r = 0; r < nr; r += 2) {
        const __mmask16 m = nr - r >= 2 ? (__mmask16)0xffff : (__mmask16)0x00ff;
        __m512 bv[6];
#pragma GCC unroll 6
        for (int j = 0; j < NB; j++) bv[j] = _mm512_maskz_loadu_ps(m, B + j * b_sb + (ptrdiff_t)r * 8);
#pragma GCC unroll 4
        for (int i = 0; i < MR; i++) {
            const __m512 av = _mm512_maskz_loadu_ps(m, A + i * a_sa + (ptrdiff_t)r * 8);
#pragma GCC unroll 6
            for (int j = 0; j < NB; j++) acc[i][j] = _mm512_fmadd_ps(av, bv[j], acc[i][j]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < MR; i++)
#pragma GCC unroll 6
        for (int j = 0; j < NB; j++) {
            float *pc = C + i * c_sa + j * c_sb;
            __m256 z = _mm256_add_ps(_mm512_castps512_ps256(acc[i][j]), _mm512_extractf32x8_ps(acc[i][j], 1));
            if (accumulate) z = _mm256_add_ps(z, _mm256_loadu_ps(pc));
            _mm256_storeu_ps(pc, z);
        }
}

/* Rows in blocks of 4 (then 2, 1) against columns in blocks of NB. */
ALWAYS_INLINE void rrows(const int NB, int na, int nr, const float *A, ptrdiff_t a_sa, const float *B, ptrdiff_t b_sb,
                         float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    int a = 0;
    for (; a + 4 <= na; a += 4) rtile(4, NB, nr, A + a * a_sa, a_sa, B, b_sb, C + a * c_sa, c_sa, c_sb, accumulate);
    for (; a + 2 <= na; a += 2) rtile(2, NB, nr, A + a * a_sa, a_sa, B, b_sb, C + a * c_sa, c_sa, c_sb, accumulate);
    for (; a < na; a++) rtile(1, NB, nr, A + a * a_sa, a_sa, B, b_sb, C + a * c_sa, c_sa, c_sb, accumulate);
}

static void rrows_6(int na, int nr, const float *A, ptrdiff_t a_sa, const float *B, ptrdiff_t b_sb, float *C,
                    ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    rrows(6, na, nr, A, a_sa, B, b_sb, C, c_sa, c_sb, accumulate);
}
static void rrows_1(int na, int nr, const float *A, ptrdiff_t a_sa, const float *B, ptrdiff_t b_sb, float *C,
                    ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    rrows(1, na, nr, A, a_sa, B, b_sb, C, c_sa, c_sb, accumulate);
}

static void wgemm_pairs_r(int na, int nb, int nr, const float *A, ptrdiff_t a_sa, const float *B, ptrdiff_t b_sb,
                          float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    int b = 0;
    for (; b + 6 <= nb; b += 6) rrows_6(na, nr, A, a_sa, B + b * b_sb, b_sb, C + b * c_sb, c_sa, c_sb, accumulate);
    for (; b < nb; b++) rrows_1(na, nr, A, a_sa, B + b * b_sb, b_sb, C + b * c_sb, c_sa, c_sb, accumulate);
}

void nns_f32_wgemm8_6x8__avx512(int na, int nb, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr,
                                const float *B, ptrdiff_t b_sr, ptrdiff_t b_sb, float *C, ptrdiff_t c_sa,
                                ptrdiff_t c_sb, int accumulate) {
    if (a_sr == 8 && b_sr == 8) {
        wgemm_pairs_r(na, nb, nr, A, a_sa, B, b_sb, C, c_sa, c_sb, accumulate);
        return;
    }
    if (b_sb != 8 || c_sb != 8) {
        nns_f32_wgemm8_3x4__avx2(na, nb, nr, A, a_sa, a_sr, B, b_sr, b_sb, C, c_sa, c_sb, accumulate);
        return;
    }
    for (int b = 0; b < nb; b += 8) { /* 8 columns: 4 zmm; the last group 1-4, an odd column masked */
        const int cols = nb - b < 8 ? nb - b : 8, nv = (cols + 1) / 2;
        const __mmask16 last = cols % 2 ? (__mmask16)0x00ff : (__mmask16)0xffff;
        const float *pb = B + (ptrdiff_t)b * 8;
        float *pc = C + (ptrdiff_t)b * 8;
        if (nv == 4) rows_4(na, nr, A, a_sa, a_sr, pb, b_sr, pc, c_sa, last, accumulate);
        else if (nv == 3) rows_3(na, nr, A, a_sa, a_sr, pb, b_sr, pc, c_sa, last, accumulate);
        else if (nv == 2) rows_2(na, nr, A, a_sa, a_sr, pb, b_sr, pc, c_sa, last, accumulate);
        else rows_1(na, nr, A, a_sa, a_sr, pb, b_sr, pc, c_sa, last, accumulate);
    }
}
