/* f32_spmm_csr__ref.c — sparse (CSR) times dense, portable: the oracle for
 * the SIMD variants (see kernels.h). */
#include "kernels/kernels.h"

void nns_f32_spmm_csr__ref(int n0, int n1, int mb, const int32_t *row_ptr, const int32_t *col,
                           const float *val, const float *x, ptrdiff_t ldx, float alpha, float *y,
                           ptrdiff_t ys_n, ptrdiff_t ys_m, int accumulate) {
    for (int n = n0; n < n1; n++) {
        const int32_t j0 = row_ptr[n], j1 = row_ptr[n + 1];
        for (int i = 0; i < mb; i++) {
            float acc = 0.0f;
            for (int32_t j = j0; j < j1; j++) acc += val[j] * x[(ptrdiff_t)col[j] * ldx + i];
            float *py = y + (ptrdiff_t)n * ys_n + (ptrdiff_t)i * ys_m;
            *py = accumulate ? *py + alpha * acc : alpha * acc;
        }
    }
}
