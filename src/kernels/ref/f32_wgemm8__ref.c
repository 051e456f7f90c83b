/* f32_wgemm8__ref.c — a batch of 8 GEMMs with the batch index innermost
 * (one half of Winograd's transformed domain), portable. */
#include "kernels/kernels.h"

void nns_f32_wgemm8__ref(int na, int nb, int nr, const float *A, ptrdiff_t a_sa, ptrdiff_t a_sr, const float *B,
                         ptrdiff_t b_sr, ptrdiff_t b_sb, float *C, ptrdiff_t c_sa, ptrdiff_t c_sb, int accumulate) {
    for (int a = 0; a < na; a++)
        for (int b = 0; b < nb; b++) {
            float acc[8];
            for (int x = 0; x < 8; x++) acc[x] = 0.0f;
            for (int r = 0; r < nr; r++) {
                const float *pa = A + a * a_sa + r * a_sr, *pb = B + r * b_sr + b * b_sb;
                for (int x = 0; x < 8; x++) acc[x] += pa[x] * pb[x];
            }
            float *pc = C + a * c_sa + b * c_sb;
            for (int x = 0; x < 8; x++) pc[x] = accumulate ? pc[x] + acc[x] : acc[x];
        }
}
