/* bf16_pack_pairs__ref.c — a float operand rounded to bfloat16 into the
 * pair layout of nns_bf16_gemm (portable): the dtype table's conversion,
 * value by value. */
#include "kernels/kernels.h"
#include "nnslim/tensor.h"

void nns_bf16_pack_pairs__ref(int k, int n, const float *x, size_t ldx, uint16_t *xp, size_t ldp) {
    const nns_dtype_info *di = nns_dtype_get_info(NNS_DTYPE_BF16);
    for (int p = 0; p < nns_bf16_pairs(k); p++)
        for (int t = 0; t < 2; t++) {
            const int l = 2 * p + t;
            for (int j = 0; j < n; j++) {
                uint16_t *o = xp + (size_t)p * ldp + 2 * (size_t)j + t;
                if (l < k)
                    di->from_f32(x[(size_t)l * ldx + j], o);
                else
                    *o = 0;
            }
        }
}
