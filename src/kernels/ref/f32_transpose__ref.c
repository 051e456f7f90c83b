/* f32_transpose__ref.c — a matrix transposed (portable), in 16x16 tiles so
 * that the strided side stays in a few cache lines. */
#include "kernels/kernels.h"

void nns_f32_transpose__ref(int rows, int cols, const float *s, size_t lds, float *t, size_t ldt) {
    for (int cb = 0; cb < cols; cb += 16) {
        const int ce = cb + 16 < cols ? cb + 16 : cols;
        for (int rb = 0; rb < rows; rb += 16) {
            const int re = rb + 16 < rows ? rb + 16 : rows;
            for (int c = cb; c < ce; c++)
                for (int r = rb; r < re; r++) t[(size_t)c * ldt + r] = s[(size_t)r * lds + c];
        }
    }
}
