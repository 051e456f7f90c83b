/* f32_conv2d_same__avx512.c — a dense convolution at stride 1 that keeps
 * the plane's size, straight from the planes, AVX-512.
 *
 * The output positions are one run across the plane's rows: a vector is 16
 * consecutive positions, and for every tap its inputs are the 16 floats one
 * fixed offset away (the tap's row times the row length plus its column),
 * under a mask that zeroes the lanes whose tap falls in the padding (above,
 * below, or past either end of the lane's row: the float there belongs to
 * another row, or to nothing, and is not read). So a small plane (3x3, 7x7)
 * fills its vectors as a large one does.
 *
 * Per pair of vectors, a block of up to 12 filters keeps one accumulator a
 * vector each (24), started at its bias; every tap and channel loads each
 * vector's inputs once and adds them times each filter's weight, one
 * broadcast from memory for both vectors (nns_conv2d_same_pack lays a
 * block's weights out tap by tap, channel by channel, so one pointer walks
 * them). The accumulators are clamped when asked and stored under the
 * range's mask. Filters go in blocks of 12, 8, 4, 2 and 1. A plane of
 * one vector (3x3, 4x4) pairs it with the next image's, at the same lanes.
 * The taps that reach the plane are listed per pair first (offset, weights,
 * masks), which keeps the inner loop's state small enough that GCC holds
 * all 24 accumulators and both inputs in registers (with the loop over
 * taps and channels written out, it spilled an input and loaded it back
 * for every FMA: 7x7 planes ran at 48 instead of 84 GMAC/s). */
#include <immintrin.h>
#include <stdint.h>

#include "kernels/kernels.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define CS_VECS (NNS_CONV_SAME_PIXELS / 16)
#define CS_TAPS 7

/* For each vector of the range: which lanes' tap row i lies in the plane
 * (rows[v][i]), which lanes' tap column j lies in the lane's row
 * (cols[v][j]), and the lanes inside the range (out[v]). */
typedef struct cs_masks {
    __mmask16 rows[CS_VECS][CS_TAPS], cols[CS_VECS][CS_TAPS], out[CS_VECS];
} cs_masks;

static void make_masks(const nns_conv2d_geom *g, int v0, int v1, int p1, cs_masks *mk) {
    for (int v = v0; v < v1; v++) {
        __mmask16 *r = mk->rows[v - v0], *c = mk->cols[v - v0];
        for (int i = 0; i < g->kh; i++) r[i] = 0;
        for (int j = 0; j < g->kw; j++) c[j] = 0;
        mk->out[v - v0] = 0;
        for (int l = 0; l < 16; l++) {
            const int p = v * 16 + l, oy = p / g->ow, ox = p % g->ow;
            if (p >= p1) break;
            mk->out[v - v0] |= (__mmask16)(1u << l);
            for (int i = 0; i < g->kh; i++)
                if (oy - g->pt + i >= 0 && oy - g->pt + i < g->ih) r[i] |= (__mmask16)(1u << l);
            for (int j = 0; j < g->kw; j++)
                if (ox - g->pl + j >= 0 && ox - g->pl + j < g->iw) c[j] |= (__mmask16)(1u << l);
        }
    }
}

/* The taps of a vector pair that reach the plane: each one's input offset
 * from the pair's first position, its weights' offset in a block (per
 * filter), and the two vectors' lane masks. */
typedef struct cs_tap {
    ptrdiff_t x;
    int w;
    __mmask16 k0, k1;
} cs_tap;

/* The pair: vector v alone (PAIR_NONE), with v + 1 (PAIR_NEXT), or with
 * vector v of the next image (PAIR_IMAGE: the same lanes). */
enum { PAIR_NONE, PAIR_NEXT, PAIR_IMAGE };

static int pair_taps(const nns_conv2d_geom *g, int c, int v, int pair, const cs_masks *mk, cs_tap *tp) {
    int n = 0;
    for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++) {
            const __mmask16 k0 = mk->rows[v][i] & mk->cols[v][j];
            const __mmask16 k1 = pair == PAIR_NEXT    ? (__mmask16)(mk->rows[v + 1][i] & mk->cols[v + 1][j])
                                 : pair == PAIR_IMAGE ? k0
                                                      : 0;
            if (!(k0 | k1)) continue;
            tp[n++] = (cs_tap){(ptrdiff_t)(i - g->pt) * g->iw + (j - g->pl), (i * g->kw + j) * c, k0, k1};
        }
    return n;
}

/* Filters [0, MB) of a block (bias and y at its first filter, wb its packed
 * weights) over vector v of the masks' range, at position q0, and (PB 2)
 * a second vector dx floats further in x and dy in y, under out1. */
ALWAYS_INLINE void vectors(const int MB, const int PB, const nns_conv2d_geom *g, int c, int v, int q0, int pair,
                           const float *x, ptrdiff_t dx, const float *wb, const float *bias, int clamp, float lo,
                           float hi, float *y, ptrdiff_t dy, __mmask16 out1, const cs_masks *mk) {
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    cs_tap tp[CS_TAPS * CS_TAPS];
    const int nt = pair_taps(g, c, v, pair, mk, tp);
    __m512 a0[12], a1[12];
#pragma GCC unroll 12
    for (int f = 0; f < MB; f++) a0[f] = a1[f] = _mm512_set1_ps(bias ? bias[f] : 0.0f);
    x += q0; /* lanes outside the plane are masked off, never read */
    for (int t = 0; t < nt; t++) {
        const __mmask16 k0 = tp[t].k0, k1 = tp[t].k1;
        const float *xp = x + tp[t].x, *wt = wb + (size_t)tp[t].w * MB, *we = wt + (size_t)c * MB;
        for (; wt < we; xp += ihw, wt += MB) {
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
#define NNS_BLOCK_FN(MB)                                                                                            \
    static void block_##MB(const nns_conv2d_geom *g, int c, int v0, int nv, const float *x, size_t xs,             \
                           const float *wb, const float *bias, int clamp, float lo, float hi, float *y, size_t ys, \
                           int two_images, const cs_masks *mk) {                                                   \
        if (two_images) {                                                                                           \
            vectors(MB, 2, g, c, 0, v0 * 16, PAIR_IMAGE, x, (ptrdiff_t)xs, wb, bias, clamp, lo, hi, y,             \
                    (ptrdiff_t)ys, mk->out[0], mk);                                                                 \
            return;                                                                                                 \
        }                                                                                                           \
        int v = 0;                                                                                                  \
        for (; v + 2 <= nv; v += 2)                                                                                 \
            vectors(MB, 2, g, c, v, (v0 + v) * 16, PAIR_NEXT, x, 16, wb, bias, clamp, lo, hi, y, 16,               \
                    mk->out[v + 1], mk);                                                                            \
        if (v < nv)                                                                                                 \
            vectors(MB, 1, g, c, v, (v0 + v) * 16, PAIR_NONE, x, 0, wb, bias, clamp, lo, hi, y, 0, 0, mk);         \
    }
NNS_BLOCK_FN(1) NNS_BLOCK_FN(2) NNS_BLOCK_FN(4) NNS_BLOCK_FN(8) NNS_BLOCK_FN(12)
#undef NNS_BLOCK_FN

/* All filters, block by block, for one image (or two: two_images). */
static void filters(const nns_conv2d_geom *g, int c, int m, int v0, int nv, const float *x, size_t xs,
                    const float *wp, const float *bias, int clamp, float lo, float hi, float *y, size_t ys,
                    int two_images, const cs_masks *mk) {
    const size_t ohw = (size_t)g->oh * g->ow, ckk = (size_t)c * g->kh * g->kw;
    for (int f0 = 0; f0 < m;) {
        const int mb = nns_conv_same_block(m - f0);
        const float *wb = wp + (size_t)f0 * ckk, *bb = bias ? bias + f0 : NULL;
        float *yb = y + (size_t)f0 * ohw;
        if (mb == 12) block_12(g, c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, two_images, mk);
        else if (mb == 8) block_8(g, c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, two_images, mk);
        else if (mb == 4) block_4(g, c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, two_images, mk);
        else if (mb == 2) block_2(g, c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, two_images, mk);
        else block_1(g, c, v0, nv, x, xs, wb, bb, clamp, lo, hi, yb, ys, two_images, mk);
        f0 += mb;
    }
}

/* Positions [p0, p1) with p0 a multiple of 16 (as the op splits them), or
 * the reference where it is not. A range of one vector takes two images at
 * a time (a 3x3 plane alone would leave each weight's broadcast one FMA). */
void nns_f32_conv2d_same__avx512(const nns_conv2d_geom *g, int c, int m, int n, int p0, int p1, const float *x,
                                 size_t xs, const float *wp, const float *bias, int clamp, float lo, float hi,
                                 float *y, size_t ys) {
    if (p0 % 16) {
        nns_f32_conv2d_same__ref(g, c, m, n, p0, p1, x, xs, wp, bias, clamp, lo, hi, y, ys);
        return;
    }
    if (p1 <= p0) return;
    cs_masks mk;
    const int v0 = p0 / 16, v1 = (p1 + 15) / 16, nv = v1 - v0;
    make_masks(g, v0, v1, p1, &mk);
    int i = 0;
    for (; nv == 1 && i + 2 <= n; i += 2)
        filters(g, c, m, v0, nv, x + (size_t)i * xs, xs, wp, bias, clamp, lo, hi, y + (size_t)i * ys, ys, 1, &mk);
    for (; i < n; i++)
        filters(g, c, m, v0, nv, x + (size_t)i * xs, xs, wp, bias, clamp, lo, hi, y + (size_t)i * ys, ys, 0, &mk);
}
