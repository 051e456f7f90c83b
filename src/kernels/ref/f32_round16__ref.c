/* f32_round16__ref.c — float values rounded to float16 or bfloat16 and
 * back (portable): the dtype table's own conversions, value by value. */
#include "kernels/kernels.h"
#include "nnslim/tensor.h"

void nns_f32_round16__ref(int64_t n, const float *x, float *y, int bf16) {
    const nns_dtype_info *di = nns_dtype_get_info(bf16 ? NNS_DTYPE_BF16 : NNS_DTYPE_F16);
    for (int64_t j = 0; j < n; j++) {
        uint16_t h;
        di->from_f32(x[j], &h);
        y[j] = di->to_f32(&h);
    }
}
