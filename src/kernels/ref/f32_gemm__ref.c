/* f32_gemm__ref.c — float GEMM with bias and activation (portable): per
 * output, the bias then the products in order, then Relu or Clip as the
 * fused epilogue computes them. */
#include "kernels/kernels.h"

static float act_of(float z, int act, float lo, float hi) {
    if (act == 1) return z > 0.0f ? z : 0.0f;
    if (act == 2) {
        const float v = z < lo ? lo : z;
        return v > hi ? hi : v;
    }
    return z;
}

void nns_f32_gemm__ref(int m, int n, int k, const float *w, size_t ldw, const float *x, size_t ldx, const float *bias,
                       float *y, size_t ldy, int act, float lo, float hi) {
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = bias ? bias[i] : 0.0f;
            for (int l = 0; l < k; l++) s += w[(size_t)i * ldw + l] * x[(size_t)l * ldx + j];
            y[(size_t)i * ldy + j] = act_of(s, act, lo, hi);
        }
}
