/* f32_im2col__avx2.c — unfold image patches into GEMM columns; stride-2
 * rows deinterleaved with AVX2; unit-stride rows (short: 10-28 floats on
 * the built-in models, where a memcpy call per row cost more than the copy)
 * as 8-float masked loads, padding included, and whole 8-float stores
 * (the spill past a row lands on the next rows of the same image, written
 * after it; never past the image's last row). */
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/window_util.h"
#include "kernels/x86/avx2_util.h"

/* dst[ox] = lo <= ox < hi ? src[ox] : 0 for ox < ow; whole 8-float stores
 * may write past dst + ow, up to dst + room. */
static inline void im2col_row_s1(const float *src, float *dst, int ow, int lo, int hi, size_t room) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i vlo = _mm256_set1_epi32(lo - 1), vhi = _mm256_set1_epi32(hi);
    for (int ox = 0; ox < ow; ox += 8) {
        const __m256i idx = _mm256_add_epi32(lane, _mm256_set1_epi32(ox));
        const __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(idx, vlo), _mm256_cmpgt_epi32(vhi, idx));
        /* masked-off lanes are not read (no fault), so src may be offset */
        const __m256 v = ox >= lo && ox + 8 <= hi ? _mm256_loadu_ps(src + ox)
                                                  : _mm256_maskload_ps(src + ox, m);
        if ((size_t)ox + 8 <= room) _mm256_storeu_ps(dst + ox, v);
        else nns_avx2_store_first(dst + ox, v, ow - ox);
    }
}

/* nns_im2col_is_copy: each plane of hw floats whole into its row, 8 floats
 * a step, the last under a mask (a plane of 3x3 is two moves, where its
 * rows took three). */
static void planes_copy(int c, size_t hw, const float *x, float *col, size_t ldc) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int ci = 0; ci < c; ci++, x += hw, col += ldc) {
        size_t q = 0;
        for (; q + 8 <= hw; q += 8) _mm256_storeu_ps(col + q, _mm256_loadu_ps(x + q));
        if (q < hw) {
            const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(hw - q)), lane);
            _mm256_maskstore_ps(col + q, m, _mm256_maskload_ps(x + q, m));
        }
    }
}

void nns_f32_im2col__avx2(const nns_conv2d_geom *g, int c, const float *x, float *col, size_t ldc) {
    if (nns_im2col_is_copy(g)) {
        planes_copy(c, (size_t)g->ih * g->iw, x, col, ldc);
        return;
    }
    const int ih = g->ih, iw = g->iw, oh = g->oh, ow = g->ow, sw = g->sw;
    for (int ci = 0; ci < c; ci++) {
        const float *xp = x + (size_t)ci * ih * iw;
        for (int i = 0; i < g->kh; i++) {
            for (int j = 0; j < g->kw; j++) {
                float *dst = col + ((size_t)(ci * g->kh + i) * g->kw + j) * ldc;
                int off = j * g->dw - g->pl;
                int lo, hi;
                nns_window_valid_range(off, sw, iw, ow, &lo, &hi);
                if (sw == 1) {
                    for (int oy = 0; oy < oh; oy++, dst += ow) {
                        int iy = oy * g->sh - g->pt + i * g->dh;
                        if (iy < 0 || iy >= ih) {
                            memset(dst, 0, (size_t)ow * sizeof(float));
                            continue;
                        }
                        im2col_row_s1(xp + (ptrdiff_t)iy * iw + off, dst, ow, lo, hi, (size_t)(oh - oy) * ow);
                    }
                    continue;
                }
                for (int oy = 0; oy < oh; oy++, dst += ow) {
                    int iy = oy * g->sh - g->pt + i * g->dh;
                    if (iy < 0 || iy >= ih) {
                        memset(dst, 0, (size_t)ow * sizeof(float));
                        continue;
                    }
                    const float *src = xp + (size_t)iy * iw;
                    for (int ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
                    if (sw == 1) {
                        if (hi > lo) memcpy(dst + lo, src + lo + off, (size_t)(hi - lo) * sizeof(float));
                    } else if (sw == 2) {
                        if (hi > lo) nns_avx2_gather_stride2(src + lo * 2 + off, dst + lo, hi - lo, 0);
                    } else {
                        for (int ox = lo; ox < hi; ox++) dst[ox] = src[ox * sw + off];
                    }
                    for (int ox = hi; ox < ow; ox++) dst[ox] = 0.0f;
                }
            }
        }
    }
}
