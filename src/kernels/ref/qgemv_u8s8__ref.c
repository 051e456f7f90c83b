/* qgemv_u8s8__ref.c — u8 vector times s8 matrix rows, int32 (portable). */
#include "kernels/kernels.h"

void nns_qgemv_u8s8__ref(int m, int k, const int8_t *w, size_t ldw, const uint8_t *x, const int32_t *bias, int32_t *acc) {
    for (int i = 0; i < m; i++) {
        int32_t s = bias ? bias[i] : 0;
        for (int l = 0; l < k; l++) s += (int32_t)w[(size_t)i * ldw + l] * (int32_t)x[l];
        acc[i] = s;
    }
}
