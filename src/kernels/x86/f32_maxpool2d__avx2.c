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
#include <string.h>

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

/* The padded plane: rows of at least 16 outputs, or 8 at stride 2 (below,
 * padding costs more than the masked blocks save: GoogLeNet's 8x8 and 4x4
 * stride-1 pools), strides 1 and 2,
 * column dilation 1 with every window overlapping the row (so each has a
 * tap inside it), a plane whose padded rows fit PAD_FLOATS. */
#define PAD_FLOATS 8192

/* Floats per padded row: what the blocks of 8 outputs load, rounded to a
 * 64-byte line plus one (no 4 KiB aliasing between rows). */
static int pad_stride(const nns_conv2d_geom *g) {
    const int w = (g->ow + 8) * g->sw + (g->kw - 1) + 8;
    return (w + 15) / 16 * 16 + 16;
}

static int padded_fits(const nns_conv2d_geom *g) {
    const int span = (g->kw - 1) * g->dw, right = (g->ow - 1) * g->sw + span - g->pl - (g->iw - 1);
    return (g->ow >= 16 || (g->ow >= 8 && g->sw == 2)) && (g->sw == 1 || g->sw == 2) && g->dw == 1 && g->pl <= span && g->pl <= 16 && right <= span &&
           g->pl + g->iw <= pad_stride(g) && (size_t)g->ih * (size_t)pad_stride(g) <= PAD_FLOATS;
}

/* x's rows between -inf borders, stride ld (the reference never takes -inf
 * over a value, and every window has a value in the row): then every block
 * of 8 outputs loads its taps directly, where the borders sent most blocks
 * of a small plane (ResNet's stem, 32 -> 16 columns) to block_masked. */
static void pad_plane(const nns_conv2d_geom *g, const float *x, int ld, float *buf) {
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    for (int iy = 0; iy < g->ih; iy++) {
        float *b = buf + (size_t)iy * ld;
        const float *r = x + (size_t)iy * g->iw;
        _mm256_storeu_ps(b, ninf); /* pl <= kw - 1: left border within the first 8 (or 16) */
        _mm256_storeu_ps(b + 8, ninf);
        int c = 0;
        for (; c + 8 <= g->iw; c += 8) _mm256_storeu_ps(b + g->pl + c, _mm256_loadu_ps(r + c));
        for (; c < g->iw; c++) b[g->pl + c] = r[c];
        for (c = (g->pl + g->iw) / 8 * 8; c < ld; c += 8) /* the right border, from the last line written */
            _mm256_storeu_ps(b + c, _mm256_blendv_ps(ninf, _mm256_loadu_ps(b + c),
                                                     _mm256_castsi256_ps(cols_in(c - g->pl, g->iw))));
    }
}

/* Output columns [ox, ox + 8 * NB) of output row oy at stride SW: NB blocks
 * side by side, so that the taps' compare-and-blend chains overlap; the
 * last block keeps its first `last` lanes. */
static inline __attribute__((always_inline)) void padded_blocks(const int NB, const int SW, const nns_conv2d_geom *g,
                                                                const float *buf, int ld, int oy, int ox, int last,
                                                                float *yr) {
    const __m256i step = _mm256_setzero_si256(), lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256 b0 = _mm256_set1_ps(-INFINITY), b1 = b0;
    int rows = 0;
    for (int i = 0; i < g->kh; i++) {
        const int iy = oy * g->sh - g->pt + i * g->dh;
        if (iy < 0 || iy >= g->ih) continue;
        rows++;
        const float *p = buf + (size_t)iy * ld + ox * SW;
        for (int j = 0; j < g->kw; j++) {
            b0 = take(load_strided(p + j, SW, step), b0);
            if (NB == 2) b1 = take(load_strided(p + 8 * SW + j, SW, step), b1);
        }
    }
    if (!rows) b0 = b1 = _mm256_setzero_ps(); /* no window row inside: 0, as the reference */
    if (NB == 2) _mm256_storeu_ps(yr + ox + 8, b1);
    if (NB == 2 || last == 8)
        _mm256_storeu_ps(yr + ox, b0);
    else
        _mm256_maskstore_ps(yr + ox, _mm256_cmpgt_epi32(_mm256_set1_epi32(last), lane), b0);
}

/* The plane at stride SW: per row, pairs of blocks, then the last one or two. */
static inline __attribute__((always_inline)) void padded_plane(const int SW, const nns_conv2d_geom *g,
                                                               const float *buf, int ld, float *y) {
    for (int oy = 0; oy < g->oh; oy++) {
        float *yr = y + (size_t)oy * g->ow;
        int ox = 0;
        for (; ox + 16 <= g->ow; ox += 16) padded_blocks(2, SW, g, buf, ld, oy, ox, 8, yr);
        if (ox < g->ow) padded_blocks(1, SW, g, buf, ld, oy, ox, g->ow - ox < 8 ? g->ow - ox : 8, yr);
        if (ox + 8 < g->ow) padded_blocks(1, SW, g, buf, ld, oy, ox + 8, g->ow - ox - 8, yr);
    }
}

static void maxpool_padded(const nns_conv2d_geom *g, const float *x, float *y) {
    _Alignas(32) float buf[PAD_FLOATS];
    const int ld = pad_stride(g);
    pad_plane(g, x, ld, buf);
    if (g->sw == 2)
        padded_plane(2, g, buf, ld, y);
    else
        padded_plane(1, g, buf, ld, y);
}

void nns_f32_maxpool2d__avx2(const nns_conv2d_geom *g, const float *x, float *y, int32_t *idx) {
    if (idx) {
        nns_f32_maxpool2d__ref(g, x, y, idx);
        return;
    }
    if (padded_fits(g)) {
        maxpool_padded(g, x, y);
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
