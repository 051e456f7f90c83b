/* s4_gemm__ref.c — 4-bit weight-only GEMM (portable): per output, each
 * group's products summed in float, scaled, added to the bias in turn. */
#include "kernels/kernels.h"

void nns_s4_gemm__ref(int m, int n, int k, const float *x, size_t ldx, const uint8_t *w, size_t ldw,
                      const float *scale, int bs, const float *bias, float *y, size_t ldy) {
    const int ng = (k + bs - 1) / bs;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            const uint8_t *row = w + (size_t)j * ldw;
            float s = bias ? bias[j] : 0.0f;
            for (int g = 0; g < ng; g++) {
                float a = 0.0f;
                const int l1 = (g + 1) * bs < k ? (g + 1) * bs : k;
                for (int l = g * bs; l < l1; l++) a += x[(size_t)i * ldx + l] * (float)nns_s4_code(row, l);
                s += a * scale[(size_t)j * ng + g];
            }
            y[(size_t)i * ldy + j] = s;
        }
}

void nns_s4_pack_rows(int n, int k, const int8_t *codes, size_t ldc, uint8_t *w, size_t ldw) {
    for (int j = 0; j < n; j++) {
        uint8_t *row = w + (size_t)j * ldw;
        for (size_t b = 0; b < ldw; b++) row[b] = 0;
        for (int l = 0; l < k; l++) {
            const uint8_t v = (uint8_t)(codes[(size_t)j * ldc + l] & 15);
            row[(size_t)(l / 32) * 16 + (size_t)(l % 16)] |= (uint8_t)((l % 32) < 16 ? v : v << 4);
        }
    }
}
