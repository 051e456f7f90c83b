/* f32_wgemm8_3x4__avx2.c — 8 GEMMs at once with the batch index innermost
 * (each element an 8-float vector: one half of Winograd's transformed
 * domain), AVX2+FMA. Register block 3 rows of A x 4 columns of B: 12
 * accumulators, 7 loads per 12 FMAs. */
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

static inline void st(float *pc, __m256 v, int accumulate) {
    if (accumulate) v = _mm256_add_ps(v, _mm256_loadu_ps(pc));
    _mm256_storeu_ps(pc, v);
}

/* The 3x4 block, written out so the 12 accumulators stay in registers. */
static void block34(int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr, const float *B, ptrdiff_t b_sr,
                    ptrdiff_t b_sb, float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
    __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m256 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    const float *a0 = A, *a1 = A + a_sa, *a2 = A + 2 * a_sa;
    const float *b0 = B, *b1 = B + b_sb, *b2 = B + 2 * b_sb, *b3 = B + 3 * b_sb;
    ptrdiff_t ia = 0, ib = 0;
    for (int r = 0; r < nr; r++, ia += a_sr, ib += b_sr) {
        const __m256 x0 = _mm256_loadu_ps(a0 + ia), x1 = _mm256_loadu_ps(a1 + ia), x2 = _mm256_loadu_ps(a2 + ia);
        __m256 y = _mm256_loadu_ps(b0 + ib);
        c00 = _mm256_fmadd_ps(x0, y, c00);
        c10 = _mm256_fmadd_ps(x1, y, c10);
        c20 = _mm256_fmadd_ps(x2, y, c20);
        y = _mm256_loadu_ps(b1 + ib);
        c01 = _mm256_fmadd_ps(x0, y, c01);
        c11 = _mm256_fmadd_ps(x1, y, c11);
        c21 = _mm256_fmadd_ps(x2, y, c21);
        y = _mm256_loadu_ps(b2 + ib);
        c02 = _mm256_fmadd_ps(x0, y, c02);
        c12 = _mm256_fmadd_ps(x1, y, c12);
        c22 = _mm256_fmadd_ps(x2, y, c22);
        y = _mm256_loadu_ps(b3 + ib);
        c03 = _mm256_fmadd_ps(x0, y, c03);
        c13 = _mm256_fmadd_ps(x1, y, c13);
        c23 = _mm256_fmadd_ps(x2, y, c23);
    }
    st(C, c00, accumulate); st(C + c_sb, c01, accumulate);
    st(C + 2 * c_sb, c02, accumulate); st(C + 3 * c_sb, c03, accumulate);
    C += c_sa;
    st(C, c10, accumulate); st(C + c_sb, c11, accumulate);
    st(C + 2 * c_sb, c12, accumulate); st(C + 3 * c_sb, c13, accumulate);
    C += c_sa;
    st(C, c20, accumulate); st(C + c_sb, c21, accumulate);
    st(C + 2 * c_sb, c22, accumulate); st(C + 3 * c_sb, c23, accumulate);
}

/* 2x4: the two-row edge (8 accumulators). */
static void block24(int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr, const float *B, ptrdiff_t b_sr,
                    ptrdiff_t b_sb, float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
    __m256 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    const float *a0 = A, *a1 = A + a_sa;
    const float *b0 = B, *b1 = B + b_sb, *b2 = B + 2 * b_sb, *b3 = B + 3 * b_sb;
    ptrdiff_t ia = 0, ib = 0;
    for (int r = 0; r < nr; r++, ia += a_sr, ib += b_sr) {
        const __m256 x0 = _mm256_loadu_ps(a0 + ia), x1 = _mm256_loadu_ps(a1 + ia);
        __m256 y = _mm256_loadu_ps(b0 + ib);
        c00 = _mm256_fmadd_ps(x0, y, c00);
        c10 = _mm256_fmadd_ps(x1, y, c10);
        y = _mm256_loadu_ps(b1 + ib);
        c01 = _mm256_fmadd_ps(x0, y, c01);
        c11 = _mm256_fmadd_ps(x1, y, c11);
        y = _mm256_loadu_ps(b2 + ib);
        c02 = _mm256_fmadd_ps(x0, y, c02);
        c12 = _mm256_fmadd_ps(x1, y, c12);
        y = _mm256_loadu_ps(b3 + ib);
        c03 = _mm256_fmadd_ps(x0, y, c03);
        c13 = _mm256_fmadd_ps(x1, y, c13);
    }
    st(C, c00, accumulate); st(C + c_sb, c01, accumulate);
    st(C + 2 * c_sb, c02, accumulate); st(C + 3 * c_sb, c03, accumulate);
    C += c_sa;
    st(C, c10, accumulate); st(C + c_sb, c11, accumulate);
    st(C + 2 * c_sb, c12, accumulate); st(C + 3 * c_sb, c13, accumulate);
}

/* Any other edge block (am <= 3, bn <= 3): one column at a time. */
static void tail(int am, int bn, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr, const float *B,
                 ptrdiff_t b_sr, ptrdiff_t b_sb, float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    for (int j = 0; j < bn; j++) {
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0;
        const float *bj = B + j * b_sb;
        ptrdiff_t ia = 0, ib = 0;
        if (am == 3) {
            for (int r = 0; r < nr; r++, ia += a_sr, ib += b_sr) {
                const __m256 y = _mm256_loadu_ps(bj + ib);
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(A + ia), y, c0);
                c1 = _mm256_fmadd_ps(_mm256_loadu_ps(A + a_sa + ia), y, c1);
                c2 = _mm256_fmadd_ps(_mm256_loadu_ps(A + 2 * a_sa + ia), y, c2);
            }
        } else if (am == 2) {
            for (int r = 0; r < nr; r++, ia += a_sr, ib += b_sr) {
                const __m256 y = _mm256_loadu_ps(bj + ib);
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(A + ia), y, c0);
                c1 = _mm256_fmadd_ps(_mm256_loadu_ps(A + a_sa + ia), y, c1);
            }
        } else {
            for (int r = 0; r < nr; r++, ia += a_sr, ib += b_sr)
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(A + ia), _mm256_loadu_ps(bj + ib), c0);
        }
        st(C + j * c_sb, c0, accumulate);
        if (am > 1) st(C + c_sa + j * c_sb, c1, accumulate);
        if (am > 2) st(C + 2 * c_sa + j * c_sb, c2, accumulate);
    }
}

void nns_f32_wgemm8_3x4__avx2(int na, int nb, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr,
                              const float *B, ptrdiff_t b_sr, ptrdiff_t b_sb, float *C, ptrdiff_t c_sa,
                              ptrdiff_t c_sb, int accumulate) {
    for (int a = 0; a < na; a += 3) {
        const int am = na - a < 3 ? na - a : 3;
        const float *pa = A + a * a_sa;
        float *pc = C + a * c_sa;
        int b = 0;
        if (am == 3)
            for (; b + 4 <= nb; b += 4)
                block34(nr, pa, a_sa, a_sr, B + b * b_sb, b_sr, b_sb, pc + b * c_sb, c_sa, c_sb, accumulate);
        else if (am == 2)
            for (; b + 4 <= nb; b += 4)
                block24(nr, pa, a_sa, a_sr, B + b * b_sb, b_sr, b_sb, pc + b * c_sb, c_sa, c_sb, accumulate);
        if (b < nb) tail(am, nb - b, nr, pa, a_sa, a_sr, B + b * b_sb, b_sr, b_sb, pc + b * c_sb, c_sa, c_sb, accumulate);
    }
}
