/* f32_pad2d__ref.c — copy c planes into zero-padded planes (portable). */
#include <string.h>

#include "kernels/kernels.h"

void nns_f32_pad2d__ref(const float *x, int c, int ih, int iw, float *xp, int ph, int pw, int pt, int pl) {
    int lo, hi; /* destination columns holding input: input columns [lo - pl, hi - pl) */
    nns_pad2d_cols(iw, pw, pl, &lo, &hi);
    for (int ci = 0; ci < c; ci++) {
        const float *src = x + (size_t)ci * ih * iw;
        float *dst = xp + (size_t)ci * ph * pw;
        for (int r = 0; r < ph; r++) {
            float *row = dst + (size_t)r * pw;
            int iy = r - pt;
            if (iy < 0 || iy >= ih) {
                for (int k = 0; k < pw; k++) row[k] = 0.0f;
                continue;
            }
            const float *s = src + (size_t)iy * iw + (lo - pl);
            for (int k = 0; k < lo; k++) row[k] = 0.0f;
            if (hi - lo >= 32) memcpy(row + lo, s, (size_t)(hi - lo) * sizeof(float));
            else for (int k = lo; k < hi; k++) row[k] = s[k - lo];
            for (int k = hi; k < pw; k++) row[k] = 0.0f;
        }
    }
}
