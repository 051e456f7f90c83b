/* f32_wgemm16_3x4__avx2.c — 16 GEMMs at once with the batch index
 * innermost (each element a 16-float vector; Winograd's transformed
 * domain), AVX2+FMA. Register block: 3 rows of A x 4 columns of B per
 * 8-float half: 12 accumulators, 7 loads per 12 FMAs. */
#include "kernels/kernels.h"
#include "kernels/x86/avx2_util.h"

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
#define ST(i, j, v)                                                          \
    do {                                                                     \
        float *pc = C + (i) * c_sa + (j) * c_sb;                             \
        __m256 w = (v);                                                      \
        if (accumulate) w = _mm256_add_ps(w, _mm256_loadu_ps(pc));           \
        _mm256_storeu_ps(pc, w);                                             \
    } while (0)
    ST(0, 0, c00); ST(0, 1, c01); ST(0, 2, c02); ST(0, 3, c03);
    ST(1, 0, c10); ST(1, 1, c11); ST(1, 2, c12); ST(1, 3, c13);
    ST(2, 0, c20); ST(2, 1, c21); ST(2, 2, c22); ST(2, 3, c23);
#undef ST
}

/* Edge blocks (am <= 3, bn <= 4, not both full): one column at a time. */
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
        const __m256 cs[3] = {c0, c1, c2};
        for (int i = 0; i < am; i++) {
            float *pc = C + i * c_sa + j * c_sb;
            __m256 w = cs[i];
            if (accumulate) w = _mm256_add_ps(w, _mm256_loadu_ps(pc));
            _mm256_storeu_ps(pc, w);
        }
    }
}

void nns_f32_wgemm16_3x4__avx2(int na, int nb, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr,
                               const float *B, ptrdiff_t b_sr, ptrdiff_t b_sb, float *C, ptrdiff_t c_sa,
                               ptrdiff_t c_sb, int accumulate) {
    for (int h = 0; h < 16; h += 8) {
        for (int a = 0; a < na; a += 3) {
            const int am = na - a < 3 ? na - a : 3;
            const float *pa = A + a * a_sa + h;
            int b = 0;
            if (am == 3)
                for (; b + 4 <= nb; b += 4)
                    block34(nr, pa, a_sa, a_sr, B + b * b_sb + h, b_sr, b_sb, C + a * c_sa + b * c_sb + h, c_sa, c_sb,
                            accumulate);
            for (; b < nb; b += 4) {
                const int bn = nb - b < 4 ? nb - b : 4;
                tail(am, bn, nr, pa, a_sa, a_sr, B + b * b_sb + h, b_sr, b_sb, C + a * c_sa + b * c_sb + h, c_sa,
                     c_sb, accumulate);
            }
        }
    }
}
