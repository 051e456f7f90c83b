/* f16_gemm__ref.c — float16 weight-only GEMM (portable): each weight
 * converted by the dtype table, the products added to the bias in order. */
#include "kernels/kernels.h"
#include "nnslim/tensor.h"

void nns_f16_gemm__ref(int m, int n, int k, const float *x, size_t ldx, const uint16_t *w, size_t ldw,
                       const float *bias, float *y, size_t ldy) {
    const nns_dtype_info *di = nns_dtype_get_info(NNS_DTYPE_F16);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float s = bias ? bias[j] : 0.0f;
            for (int l = 0; l < k; l++) s += x[(size_t)i * ldx + l] * di->to_f32(w + (size_t)j * ldw + l);
            y[(size_t)i * ldy + j] = s;
        }
}
