/* q8_requant__ref.c — int32 accumulators to u8 / s8 (portable): ONNX's
 * requantization, core/qmath.h's rule. */
#include "core/qmath.h"
#include "kernels/kernels.h"

void nns_q8_requant__ref(int n, const int32_t *acc, float mult, int32_t zp, int32_t qlo, int32_t qhi, int y_signed,
                         void *y) {
    if (y_signed) {
        int8_t *o = y;
        for (int j = 0; j < n; j++) o[j] = (int8_t)nns_q_requant(acc[j], mult, zp, qlo, qhi);
    } else {
        uint8_t *o = y;
        for (int j = 0; j < n; j++) o[j] = (uint8_t)nns_q_requant(acc[j], mult, zp, qlo, qhi);
    }
}
