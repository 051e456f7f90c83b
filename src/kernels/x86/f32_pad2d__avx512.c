/* f32_pad2d__avx512.c — copy c planes into zero-padded planes, AVX-512:
 * each padded row in 16-float pieces, every piece one masked load (the
 * lanes that hold input; the others read nothing and give the zeros) and
 * one store, so a row of up to 16 floats (a 14x14 plane padded to 16x16)
 * is one load and one store. The source row two ahead is prefetched
 * (masked loads waited on misses behind the layer that wrote the planes). */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* Lanes [a, b) of 16, clipped. */
static inline __mmask16 lanes(int a, int b) {
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    if (b <= a) return 0;
    return (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u));
}

void nns_f32_pad2d__avx512(const float *x, int c, int ih, int iw, float *xp, int ph, int pw, int pt, int pl) {
    int lo, hi; /* destination columns holding input: input columns [lo - pl, hi - pl) */
    nns_pad2d_cols(iw, pw, pl, &lo, &hi);
    for (int ci = 0; ci < c; ci++) {
        const float *src = x + (size_t)ci * ih * iw;
        float *dst = xp + (size_t)ci * ph * pw;
        for (int r = 0; r < ph; r++) {
            float *row = dst + (size_t)r * pw;
            const int iy = r - pt;
            const int in = iy >= 0 && iy < ih && hi > lo;
            const float *s = in ? src + (size_t)iy * iw : src;
            if (in && iy + 2 < ih) _mm_prefetch((const char *)(s + 2 * (size_t)iw), _MM_HINT_T0);
            for (int j = 0; j < pw; j += 16) {
                const __mmask16 k = in ? lanes(lo - j, hi - j) : 0;
                const __m512 v = _mm512_maskz_loadu_ps(k, s + j - pl); /* lanes of k: columns [lo, hi) */
                _mm512_mask_storeu_ps(row + j, lanes(0, pw - j), v);
            }
        }
    }
}
