/* avx512_conv_taps.h — the inner part of the AVX-512 direct convolutions
 * whose output positions are one run across the plane's rows
 * (f32_conv2d_same, f32_conv2d_s2; internal: include only from files
 * built for AVX-512).
 *
 * A vector is 16 consecutive output positions. Every tap reads, for each
 * input channel, the 16 floats one fixed offset from the vector's first
 * position (cs_masks.toff: the caller's layout decides it), cs floats apart
 * from channel to channel, under a mask of the lanes whose tap lies inside
 * the input (rows[v][i] & cols[v][j]); the rest are zero and are not read.
 *
 * Per pair of vectors, a block of up to 12 filters keeps one accumulator a
 * vector each (24), started at its bias; every tap and channel loads each
 * vector's inputs once and adds them times each filter's weight, one
 * broadcast from memory for both vectors (nns_conv2d_same_pack lays a
 * block's weights out tap by tap, channel by channel, so one pointer walks
 * them). The accumulators take the residual when there is one, are
 * clamped when asked and stored under the range's mask. Filters go in blocks of 12, 8, 4, 2 and 1. A range of one
 * vector (a 3x3 or 4x4 plane) pairs it with the next image's, at the same
 * lanes. The taps that reach the input are listed per pair first (offset,
 * weights, masks), which keeps the inner loop's state small enough that
 * GCC holds all 24 accumulators and both inputs in registers (with the
 * loop over taps and channels written out, it spilled an input and loaded
 * it back for every FMA: 7x7 planes ran at 48 instead of 84 GMAC/s). */
#ifndef NNS_KERNELS_X86_AVX512_CONV_TAPS_H
#define NNS_KERNELS_X86_AVX512_CONV_TAPS_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

#define CT_INLINE static inline __attribute__((always_inline))
#define CT_VECS (NNS_CONV_SAME_PIXELS / 16)
#define CT_TAPS 7

/* A range of vectors [v0, v0 + nv) of one image's output: for each vector
 * the lanes whose tap row i lies in the input (rows[v][i]), whose tap
 * column j does (cols[v][j]), and the lanes inside the range (out[v]);
 * each tap's input offset from a position (toff[i * kw + j]); the floats
 * from one input channel to the next (cs); the window and the output's
 * plane size. */
typedef struct cs_masks {
    __mmask16 rows[CT_VECS][CT_TAPS], cols[CT_VECS][CT_TAPS], out[CT_VECS];
    ptrdiff_t toff[CT_TAPS * CT_TAPS];
    size_t cs, ohw;
    int kh, kw;
} cs_masks;

/* The taps of a vector pair that reach the input: each one's input offset
 * from the pair's first position, its weights' offset in a block (per
 * filter), and the two vectors' lane masks. */
typedef struct cs_tap {
    ptrdiff_t x;
    int w;
    __mmask16 k0, k1;
} cs_tap;

/* The pair: vector v alone (CT_PAIR_NONE), with v + 1 (CT_PAIR_NEXT), or
 * with vector v of the next image (CT_PAIR_IMAGE: the same lanes). */
enum { CT_PAIR_NONE, CT_PAIR_NEXT, CT_PAIR_IMAGE };

CT_INLINE int ct_pair_taps(int c, int v, int pair, const cs_masks *mk, cs_tap *tp) {
    int n = 0;
    for (int i = 0; i < mk->kh; i++)
        for (int j = 0; j < mk->kw; j++) {
            const __mmask16 k0 = mk->rows[v][i] & mk->cols[v][j];
            const __mmask16 k1 = pair == CT_PAIR_NEXT    ? (__mmask16)(mk->rows[v + 1][i] & mk->cols[v + 1][j])
                                 : pair == CT_PAIR_IMAGE ? k0
                                                         : 0;
            if (!(k0 | k1)) continue;
            tp[n++] = (cs_tap){mk->toff[i * mk->kw + j], (i * mk->kw + j) * c, k0, k1};
        }
    return n;
}

/* Filters [0, MB) of a block (bias, y and r at its first filter, wb its
 * packed weights) over vector v of the masks' range, at position q0, and
 * (PB 2) a second vector dx floats further in x and dy in y and r, under
 * out1. r: a residual added before the clamp, or NULL. */
CT_INLINE void ct_vectors(const int MB, const int PB, int c, int v, int q0, int pair, const float *x, ptrdiff_t dx,
                          const float *wb, const float *bias, int clamp, float lo, float hi, float *y, ptrdiff_t dy,
                          const float *r, __mmask16 out1, const cs_masks *mk) {
    const size_t cs = mk->cs, ohw = mk->ohw;
    cs_tap tp[CT_TAPS * CT_TAPS];
    const int nt = ct_pair_taps(c, v, pair, mk, tp);
    __m512 a0[12], a1[12];
#pragma GCC unroll 12
    for (int f = 0; f < MB; f++) a0[f] = a1[f] = _mm512_set1_ps(bias ? bias[f] : 0.0f);
    x += q0; /* lanes outside the input are masked off, never read */
    for (int t = 0; t < nt; t++) {
        const __mmask16 k0 = tp[t].k0, k1 = tp[t].k1;
        const float *xp = x + tp[t].x, *wt = wb + (size_t)tp[t].w * MB, *we = wt + (size_t)c * MB;
        for (; wt < we; xp += cs, wt += MB) {
            const __m512 x0 = _mm512_maskz_loadu_ps(k0, xp);
            const __m512 x1 = PB == 2 ? _mm512_maskz_loadu_ps(k1, xp + dx) : x0;
#pragma GCC unroll 12
            for (int f = 0; f < MB; f++) {
                const __m512 wv = _mm512_set1_ps(wt[f]);
                a0[f] = _mm512_fmadd_ps(wv, x0, a0[f]);
                if (PB == 2) a1[f] = _mm512_fmadd_ps(wv, x1, a1[f]);
            }
        }
    }
    const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
    y += q0;
    if (r) {
        r += q0;
#pragma GCC unroll 12
        for (int f = 0; f < MB; f++) {
            a0[f] = _mm512_add_ps(a0[f], _mm512_maskz_loadu_ps(mk->out[v], r + f * ohw));
            if (PB == 2) a1[f] = _mm512_add_ps(a1[f], _mm512_maskz_loadu_ps(out1, r + f * ohw + dy));
        }
    }
#pragma GCC unroll 12
    for (int f = 0; f < MB; f++) {
        if (clamp) a0[f] = _mm512_min_ps(_mm512_max_ps(a0[f], vlo), vhi);
        _mm512_mask_storeu_ps(y + f * ohw, mk->out[v], a0[f]);
        if (PB == 2) {
            if (clamp) a1[f] = _mm512_min_ps(_mm512_max_ps(a1[f], vlo), vhi);
            _mm512_mask_storeu_ps(y + f * ohw + dy, out1, a1[f]);
        }
    }
}

/* A block of MB filters over the range's vectors in pairs; or (two_images)
 * over the one vector of this image and the next's. */
#define CT_BLOCK_FN(MB)                                                                                             \
    static void ct_block_##MB(int c, int v0, int nv, const float *x, size_t xs, const float *wb, const float *bias, \
                              int clamp, float lo, float hi, float *y, size_t ys, const float *r, int two_images,  \
                              const cs_masks *mk) {                                                                \
        if (two_images) {                                                                                           \
            ct_vectors(MB, 2, c, 0, v0 * 16, CT_PAIR_IMAGE, x, (ptrdiff_t)xs, wb, bias, clamp, lo, hi, y,          \
                       (ptrdiff_t)ys, r, mk->out[0], mk);                                                           \
            return;                                                                                                 \
        }                                                                                                           \
        int v = 0;                                                                                                  \
        for (; v + 2 <= nv; v += 2)                                                                                 \
            ct_vectors(MB, 2, c, v, (v0 + v) * 16, CT_PAIR_NEXT, x, 16, wb, bias, clamp, lo, hi, y, 16, r,         \
                       mk->out[v + 1], mk);                                                                         \
        if (v < nv)                                                                                                 \
            ct_vectors(MB, 1, c, v, (v0 + v) * 16, CT_PAIR_NONE, x, 0, wb, bias, clamp, lo, hi, y, 0, r, 0, mk);   \
    }
CT_BLOCK_FN(1) CT_BLOCK_FN(2) CT_BLOCK_FN(4) CT_BLOCK_FN(8) CT_BLOCK_FN(12)
#undef CT_BLOCK_FN

/* All m filters, block by block, for one image (or two: two_images). */
static void ct_filters(int c, int m, int v0, int nv, const float *x, size_t xs, const float *wp, const float *bias,
                       int clamp, float lo, float hi, float *y, size_t ys, const float *r, int two_images,
                       const cs_masks *mk) {
    const size_t ckk = (size_t)c * mk->kh * mk->kw;
    for (int f0 = 0; f0 < m;) {
        const int mb = nns_conv_same_block(m - f0);
        const float *wb = wp + (size_t)f0 * ckk, *bb = bias ? bias + f0 : NULL;
        float *yb = y + (size_t)f0 * mk->ohw;
        const float *rb = r ? r + (size_t)f0 * mk->ohw : NULL;
        if (mb == 12) ct_block_12(c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, rb, two_images, mk);
        else if (mb == 8) ct_block_8(c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, rb, two_images, mk);
        else if (mb == 4) ct_block_4(c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, rb, two_images, mk);
        else if (mb == 2) ct_block_2(c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, rb, two_images, mk);
        else ct_block_1(c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, rb, two_images, mk);
        f0 += mb;
    }
}

/* n images' vectors [v0, v0 + nv), on masks made for that range: a range
 * of one vector takes two images at a time (a 3x3 plane alone would leave
 * each weight's broadcast one FMA). */
static void ct_images(int c, int m, int n, int v0, int nv, const float *x, size_t xs, const float *wp,
                      const float *bias, int clamp, float lo, float hi, float *y, size_t ys, const float *r,
                      const cs_masks *mk) {
    int i = 0;
    for (; nv == 1 && i + 2 <= n; i += 2)
        ct_filters(c, m, v0, nv, x + (size_t)i * xs, xs, wp, bias, clamp, lo, hi, y + (size_t)i * ys, ys,
                   r ? r + (size_t)i * ys : NULL, 1, mk);
    for (; i < n; i++)
        ct_filters(c, m, v0, nv, x + (size_t)i * xs, xs, wp, bias, clamp, lo, hi, y + (size_t)i * ys, ys,
                   r ? r + (size_t)i * ys : NULL, 0, mk);
}

#endif
