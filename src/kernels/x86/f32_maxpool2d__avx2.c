/* f32_maxpool2d__avx2.c — max pooling of one plane, any window, stride,
 * dilation and padding, AVX2: 8 output columns per step; where every tap of
 * the 8 windows is inside the row, strides 1 and 2 load rows directly (others
 * gather), and blocks at the borders or narrower than 8 gather under a mask
 * (taps outside read as -inf). The taps are visited in
 * the reference's order (window rows, then columns) with its rule (strictly
 * greater, or the first NaN), so the results are the reference's bit for bit.
 * With argmax (training) it is the reference. */
#include "kernels/x86/avx2_util.h"
#include <math.h>

#include "kernels/kernels.h"

/* Take v where v > best, or v is NaN and best is not. */
static inline __m256 take(__m256 v, __m256 best) {
    __m256 m = _mm256_or_ps(_mm256_cmp_ps(v, best, _CMP_GT_OQ),
                            _mm256_and_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q), _mm256_cmp_ps(best, best, _CMP_ORD_Q)));
    return _mm256_blendv_ps(best, v, m);
}

/* x[p], x[p + sw], ..., x[p + 7 * sw]. */
static inline __m256 load_strided(const float *p, int sw, __m256i step) {
    if (sw == 1) return _mm256_loadu_ps(p);
    if (sw == 2) {
        __m256 v0 = _mm256_loadu_ps(p), v1 = _mm256_loadu_ps(p + 8);
        __m256 e = _mm256_shuffle_ps(v0, v1, 0x88);
        return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
    }
    return _mm256_i32gather_ps(p, step, 4);
}

/* Lanes l of an 8-float run starting at column c0 that fall in [0, iw). */
static inline __m256i cols_in(int c0, int iw) {
    const __m256i c = _mm256_add_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(c0));
    return _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(iw), c), _mm256_cmpgt_epi32(c, _mm256_set1_epi32(-1)));
}

/* Output columns ox..ox+n-1 (n <= 8) of row oy, any of whose taps may fall
 * outside the row: those read as -inf, which the rule never takes over a
 * value, and a window with no tap inside gives 0 as in the reference.
 * Strides 1 and 2 read under masks (no lane outside the row is touched),
 * others gather. */
static void block_masked(const nns_conv2d_geom *g, const float *x, int oy, int ox, int n, float *yr) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i col = _mm256_sub_epi32(_mm256_mullo_epi32(_mm256_add_epi32(lane, _mm256_set1_epi32(ox)),
                                                            _mm256_set1_epi32(g->sw)),
                                         _mm256_set1_epi32(g->pl));
    const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane), iw = _mm256_set1_epi32(g->iw);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 best = ninf, any = _mm256_setzero_ps();
    for (int i = 0; i < g->kh; i++) {
        const int iy = oy * g->sh - g->pt + i * g->dh;
        if (iy < 0 || iy >= g->ih) continue;
        const float *r = x + (size_t)iy * g->iw;
        for (int j = 0; j < g->kw; j++) {
            const __m256i c = _mm256_add_epi32(col, _mm256_set1_epi32(j * g->dw));
            const __m256i in = _mm256_and_si256(_mm256_and_si256(live, _mm256_cmpgt_epi32(iw, c)),
                                                _mm256_cmpgt_epi32(c, _mm256_set1_epi32(-1)));
            const __m256 m = _mm256_castsi256_ps(in);
            const int c0 = ox * g->sw - g->pl + j * g->dw;
            __m256 v;
            if (g->sw == 1) {
                v = _mm256_maskload_ps(r + c0, _mm256_and_si256(in, cols_in(c0, g->iw)));
            } else if (g->sw == 2) {
                const __m256 v0 = _mm256_maskload_ps(r + c0, cols_in(c0, g->iw));
                const __m256 v1 = _mm256_maskload_ps(r + c0 + 8, cols_in(c0 + 8, g->iw));
                const __m256 e = _mm256_shuffle_ps(v0, v1, 0x88);
                v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), 0xD8));
            } else {
                v = _mm256_mask_i32gather_ps(ninf, r, _mm256_and_si256(c, in), m, 4);
            }
            best = take(_mm256_blendv_ps(ninf, v, m), best);
            any = _mm256_or_ps(any, m);
        }
    }
    _mm256_maskstore_ps(yr + ox, live, _mm256_and_ps(best, any));
}

void nns_f32_maxpool2d__avx2(const nns_conv2d_geom *g, const float *x, float *y, int32_t *idx) {
    if (idx) {
        nns_f32_maxpool2d__ref(g, x, y, idx);
        return;
    }
    const int sw = g->sw, span = (g->kw - 1) * g->dw;
    const __m256i step = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(sw));
    /* Whole blocks: columns ox whose taps all lie in [0, iw) (and, for
     * stride 2, whose 16-float loads do too). */
    const int extra = sw == 2 ? 1 : 0, lo = (g->pl + sw - 1) / sw;
    const int hi = g->iw - 1 - span - extra + g->pl >= 0 ? (g->iw - 1 - span - extra + g->pl) / sw + 1 : 0;
    for (int oy = 0; oy < g->oh; oy++) {
        float *yr = y + (size_t)oy * g->ow;
        for (int ox = 0; ox < g->ow; ox += 8) {
            const int n = g->ow - ox < 8 ? g->ow - ox : 8;
            if (n < 8 || ox < lo || ox + 8 > hi) {
                block_masked(g, x, oy, ox, n, yr);
                continue;
            }
            __m256 best = _mm256_set1_ps(-INFINITY), any = _mm256_setzero_ps();
            for (int i = 0; i < g->kh; i++) {
                const int iy = oy * g->sh - g->pt + i * g->dh;
                if (iy < 0 || iy >= g->ih) continue;
                const float *r = x + (size_t)iy * g->iw + (ptrdiff_t)ox * sw - g->pl;
                for (int j = 0; j < g->kw; j++) best = take(load_strided(r + j * g->dw, sw, step), best);
                any = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
            }
            _mm256_storeu_ps(yr + ox, _mm256_and_ps(best, any));
        }
    }
}
