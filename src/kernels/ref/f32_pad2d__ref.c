/* f32_pad2d__ref.c — copy c planes into zero-padded planes (portable). */
#include <string.h>

#include "kernels/kernels.h"

void nns_f32_pad2d__ref(const float *x, int c, int ih, int iw, float *xp, int ph, int pw, int pt, int pl) {
    for (int ci = 0; ci < c; ci++) {
        const float *src = x + (size_t)ci * ih * iw;
        float *dst = xp + (size_t)ci * ph * pw;
        for (int r = 0; r < ph; r++) {
            float *row = dst + (size_t)r * pw;
            int iy = r - pt;
            if (iy < 0 || iy >= ih) {
                memset(row, 0, (size_t)pw * sizeof(float));
                continue;
            }
            int lo = pl < 0 ? 0 : pl, hi = pl + iw < pw ? pl + iw : pw; /* dst columns [lo, hi) */
            if (lo > pw) lo = pw;
            if (hi < lo) hi = lo;
            if (lo) memset(row, 0, (size_t)lo * sizeof(float));
            if (hi > lo) memcpy(row + lo, src + (size_t)iy * iw + (lo - pl), (size_t)(hi - lo) * sizeof(float));
            if (hi < pw) memset(row + hi, 0, (size_t)(pw - hi) * sizeof(float));
        }
    }
}
