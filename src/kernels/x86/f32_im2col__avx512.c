/* f32_im2col__avx512.c — unfold image patches into GEMM columns, AVX-512,
 * for rows of at most 16 outputs (wider ones go to the AVX2 kernel, whose
 * row copies were faster there): each output row is one vector, written by
 * one masked store (nothing past the row). At strides 1 and 2 the 32-float span of the
 * input row that all window columns read is loaded once (padding reads as
 * 0, unread) and each column's vector is a permute of it; otherwise each is
 * a masked load, two and a permute of the even lanes (stride 2), or a
 * masked gather. The AVX2 kernel's per-row loops for the borders
 * and tails cost more than the copy on the short rows of small planes
 * (resnet8's 16 -> 32 stride-2 layer at batch 64 spent half its time in
 * im2col). */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/window_util.h"

/* Bits [a, b) of a 16-bit mask (0 <= a, b <= 16). */
static inline __mmask16 bits16(int a, int b) {
    return b > a ? (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u)) : 0;
}

/* 16 (or n) columns from ox0 of one output row: input row r (never NULL
 * here), its column of output ox being ox * sw + off; lanes of outputs in
 * [lo, hi) read it, the others are 0. */
static inline __m512 row_vec(const float *r, int sw, int off, int ox0, int n, int lo, int hi) {
    const int a = lo - ox0 > 0 ? lo - ox0 : 0, b = hi - ox0 < n ? hi - ox0 : n;
    const __mmask16 m = bits16(a, b);
    if (!m) return _mm512_setzero_ps();
    const float *p = r + (ptrdiff_t)ox0 * sw + off;
    if (sw == 1) return _mm512_maskz_loadu_ps(m, p);
    if (sw == 2) { /* elements 2a .. 2b - 2 of 32 (the odd ones between are in the row too) */
        const uint64_t m32 = ((1ull << (2 * b - 1)) - 1ull) & ~((1ull << (2 * a)) - 1ull);
        const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps((__mmask16)(m32 & 0xffff), p), even,
                                      _mm512_maskz_loadu_ps((__mmask16)(m32 >> 16), p + 16));
    }
    const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                           _mm512_set1_epi32(sw));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, p, 4);
}

/* Strides 1 and 2 without column dilation, where the 16 (or n) outputs of
 * every window column j read elements of one 32-float span of the input
 * row from ox0 * sw - pl: that span is loaded once (padding and past the
 * row read as 0) and each j's vector is a permute of it. */
static int row_shared_fits(const nns_conv2d_geom *g, int n) {
    return (g->sw == 1 || g->sw == 2) && g->dw == 1 && (n - 1) * g->sw + g->kw <= 32;
}

/* All kw window columns of output row oy's vector at ox0 (n lanes), from
 * input row r; dst: window column 0's row, the others ldc apart. */
static void row_shared(const nns_conv2d_geom *g, const float *r, int ox0, int n, float *dst, size_t ldc) {
    const int s = ox0 * g->sw - g->pl, a = s < 0 ? -s : 0, b = g->iw - s < 32 ? g->iw - s : 32;
    const uint64_t m32 = b > a ? ((1ull << b) - 1ull) & ~((1ull << a) - 1ull) : 0;
    const float *p = r + s; /* masked lanes are not read */
    const __m512 lo = _mm512_maskz_loadu_ps((__mmask16)(m32 & 0xffff), p);
    const __m512 hi = _mm512_maskz_loadu_ps((__mmask16)(m32 >> 16), p + 16);
    const __m512i base = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                            _mm512_set1_epi32(g->sw));
    const __mmask16 out = bits16(0, n);
    for (int j = 0; j < g->kw; j++)
        _mm512_mask_storeu_ps(dst + (size_t)j * ldc, out,
                              _mm512_permutex2var_ps(lo, _mm512_add_epi32(base, _mm512_set1_epi32(j)), hi));
}

/* Window row i of channel plane xp, each window column on its own. */
static void rows_each(const nns_conv2d_geom *g, const float *xp, int i, float *dst0, size_t ldc) {
    for (int j = 0; j < g->kw; j++) {
        float *dst = dst0 + (size_t)j * ldc;
        const int off = j * g->dw - g->pl;
        int lo, hi;
        nns_window_valid_range(off, g->sw, g->iw, g->ow, &lo, &hi);
        for (int oy = 0; oy < g->oh; oy++, dst += g->ow) {
            const int iy = oy * g->sh - g->pt + i * g->dh;
            for (int ox0 = 0; ox0 < g->ow; ox0 += 16) {
                const int n = g->ow - ox0 < 16 ? g->ow - ox0 : 16;
                const __m512 v = iy < 0 || iy >= g->ih ? _mm512_setzero_ps()
                                                       : row_vec(xp + (size_t)iy * g->iw, g->sw, off, ox0, n, lo, hi);
                _mm512_mask_storeu_ps(dst + ox0, bits16(0, n), v);
            }
        }
    }
}

/* Window row i of channel plane xp, all window columns from each loaded span. */
static void rows_shared(const nns_conv2d_geom *g, const float *xp, int i, float *dst0, size_t ldc) {
    for (int oy = 0; oy < g->oh; oy++) {
        const int iy = oy * g->sh - g->pt + i * g->dh;
        for (int ox0 = 0; ox0 < g->ow; ox0 += 16) {
            const int n = g->ow - ox0 < 16 ? g->ow - ox0 : 16;
            float *d = dst0 + (size_t)oy * g->ow + ox0;
            if (iy >= 0 && iy < g->ih)
                row_shared(g, xp + (size_t)iy * g->iw, ox0, n, d, ldc);
            else
                for (int j = 0; j < g->kw; j++)
                    _mm512_mask_storeu_ps(d + (size_t)j * ldc, bits16(0, n), _mm512_setzero_ps());
        }
    }
}

/* nns_im2col_is_copy: each plane of hw floats whole into its row, 16
 * floats a step (batched 1x1 layers on small planes: a plane of 3x3 is
 * one masked move, where the rows took three). */
static void planes_copy(int c, size_t hw, const float *x, float *col, size_t ldc) {
    for (int ci = 0; ci < c; ci++, x += hw, col += ldc) {
        size_t q = 0;
        for (; q + 16 <= hw; q += 16) _mm512_storeu_ps(col + q, _mm512_loadu_ps(x + q));
        if (q < hw) {
            const __mmask16 m = bits16(0, (int)(hw - q));
            _mm512_mask_storeu_ps(col + q, m, _mm512_maskz_loadu_ps(m, x + q));
        }
    }
}

void nns_f32_im2col__avx512(const nns_conv2d_geom *g, int c, const float *x, float *col, size_t ldc) {
    if (nns_im2col_is_copy(g)) {
        planes_copy(c, (size_t)g->ih * g->iw, x, col, ldc);
        return;
    }
    if (g->ow > 16) { /* wide rows: the AVX2 kernel's row copies were faster (ResNet-18's stem at 224x224) */
        nns_f32_im2col__avx2(g, c, x, col, ldc);
        return;
    }
    const int shared = row_shared_fits(g, g->ow);
    for (int ci = 0; ci < c; ci++) {
        const float *xp = x + (size_t)ci * g->ih * g->iw;
        for (int i = 0; i < g->kh; i++) {
            float *dst0 = col + (size_t)(ci * g->kh + i) * g->kw * ldc;
            if (shared)
                rows_shared(g, xp, i, dst0, ldc);
            else
                rows_each(g, xp, i, dst0, ldc);
        }
    }
}
