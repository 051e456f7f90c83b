/* bf16_gemm__ref.c — bfloat16 x bfloat16 -> float GEMM on the pair layout
 * (portable): per output, the bias then each pair's two products added in
 * turn, in float. */
#include <string.h>

#include "kernels/kernels.h"

static float bf16_value(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

void nns_bf16_gemm__ref(int m, int n, int k, const uint16_t *w, size_t ldw, const uint16_t *xp, size_t ldp,
                        const float *bias, float *acc, size_t ldacc) {
    const int kp = nns_bf16_pairs(k);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = bias ? bias[i] : 0.0f;
            for (int p = 0; p < kp; p++) {
                const uint16_t *x = xp + (size_t)p * ldp + 2 * (size_t)j, *wr = w + (size_t)i * ldw + 2 * (size_t)p;
                s += bf16_value(wr[0]) * bf16_value(x[0]);
                s += bf16_value(wr[1]) * bf16_value(x[1]);
            }
            acc[(size_t)i * ldacc + j] = s;
        }
}
