/* qgemm_u8s8__ref.c — u8 x s8 -> s32 GEMM on the quad layout (portable):
 * the oracle of the integer GEMM micro-kernels. Rows of acc are built one
 * weight quad at a time over a quad row of x, a loop the compiler
 * vectorises. */
#include "kernels/kernels.h"

void nns_qgemm_u8s8__ref(int m, int n, int k, const int8_t *w, size_t ldw, const uint8_t *xq, size_t ldq,
                         const int32_t *bias, int32_t *acc, size_t ldacc) {
    const int kq = nns_quads(k);
    for (int i = 0; i < m; i++) {
        int32_t *a = acc + (size_t)i * ldacc;
        const int32_t b = bias ? bias[i] : 0;
        for (int j = 0; j < n; j++) a[j] = b;
        const int8_t *wr = w + (size_t)i * ldw;
        for (int q = 0; q < kq; q++) {
            const int32_t w0 = wr[4 * q], w1 = wr[4 * q + 1], w2 = wr[4 * q + 2], w3 = wr[4 * q + 3];
            if (!(w0 | w1 | w2 | w3)) continue; /* pruned weights cost nothing */
            const uint8_t *x = xq + (size_t)q * ldq;
#pragma omp simd
            for (int j = 0; j < n; j++)
                a[j] += w0 * x[4 * j] + w1 * x[4 * j + 1] + w2 * x[4 * j + 2] + w3 * x[4 * j + 3];
        }
    }
}
