/* qgemm_u8s8__ref.c — u8 x s8 -> s32 GEMM (portable): the oracle of the
 * integer GEMM micro-kernels. Rows of acc are built one weight at a time
 * over a row of x, a loop the compiler vectorises. */
#include "kernels/kernels.h"

void nns_qgemm_u8s8__ref(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *x, size_t ldx,
                         const int32_t *bias, int32_t *acc, size_t ldacc) {
    for (int i = 0; i < m; i++) {
        int32_t *a = acc + (size_t)i * ldacc;
        const int32_t b = bias ? bias[i] : 0;
        for (int j = 0; j < n; j++) a[j] = b;
        const int8_t *wr = w + (size_t)i * ldw;
        for (int l = 0; l < k; l++) {
            const int32_t wv = wr[l];
            if (!wv) continue; /* pruned weights cost nothing */
            const uint8_t *xr = x + (size_t)l * ldx;
#pragma omp simd
            for (int j = 0; j < n; j++) a[j] += wv * (int32_t)xr[j];
        }
    }
}
