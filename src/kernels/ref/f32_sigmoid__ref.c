/* f32_sigmoid__ref.c — Sigmoid and SiLU (portable): nns_sigmoidf value by
 * value. */
#include "kernels/fast_math.h"
#include "kernels/kernels.h"

void nns_f32_sigmoid__ref(int64_t n, const float *x, float *y, int silu) {
    for (int64_t j = 0; j < n; j++) {
        const float v = x[j], s = nns_sigmoidf(v);
        y[j] = silu ? v * s : s;
    }
}
