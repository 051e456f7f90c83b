/* q8_add__ref.c — the sum of two quantized tensors, quantized (portable). */
#include "kernels/kernels.h"

static inline int32_t at(const void *x, int sgn, int j) { return sgn ? ((const int8_t *)x)[j] : ((const uint8_t *)x)[j]; }

void nns_q8_add__ref(int n, const void *a, int32_t az, float ma, const void *b, int32_t bz, float mb, int32_t yz,
                     int32_t lo, int32_t hi, int sgn, void *y) {
    for (int j = 0; j < n; j++) {
        const float t = (float)(at(a, sgn & 1, j) - az) * ma, u = (float)(at(b, sgn >> 1 & 1, j) - bz) * mb;
        float r = __builtin_rintf(t + u) + (float)yz;
        r = r > (float)lo ? r : (float)lo;
        r = r < (float)hi ? r : (float)hi;
        if (sgn & 4) ((int8_t *)y)[j] = (int8_t)(int32_t)r;
        else ((uint8_t *)y)[j] = (uint8_t)(int32_t)r;
    }
}
