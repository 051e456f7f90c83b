/* u8_pack_quads__ref.c — a [k][n] u8 operand into the GEMM's quad layout
 * (portable). */
#include "kernels/kernels.h"

void nns_u8_pack_quads__ref(int k, int n, const uint8_t *x, size_t ldx, uint8_t *xq, size_t ldq) {
    for (int q = 0; q < nns_quads(k); q++) {
        uint8_t *o = xq + (size_t)q * ldq;
        for (int t = 0; t < 4; t++) {
            const int l = 4 * q + t;
            const uint8_t *r = x + (size_t)l * ldx;
            if (l < k)
                for (int j = 0; j < n; j++) o[4 * j + t] = r[j];
            else
                for (int j = 0; j < n; j++) o[4 * j + t] = 0;
        }
    }
}
