/* f32_maxpool2d_rows__avx512.c — max pooling without indices of stacked
 * planes at stride 1 or 2, separably: each input row's maxima over the
 * windows' columns (16 outputs a vector) go into a buffer, then each output
 * row is the maximum of its window's rows there. An input row is reduced
 * once for all the windows that read it (twice where a plane is too big for
 * the buffer and goes in bands). Small planes go 16 at a time, a plane a
 * lane (below), and narrow ones at stride 1 as one flat run of floats.
 *
 * Bit for bit the reference: a window's taps there are taken in row-major
 * order under the rule "the first tap, then a greater value, then the first
 * NaN". Over the columns then the rows, under the same rule, the winner is
 * the first row that holds the window's winning value and, within it, the
 * first column: the same tap (ties and +-0 keep the first seen). A plane
 * that holds a NaN goes to the reference. Taps outside the plane are left
 * out under lane masks, never read (masked loads). */
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"
#include "kernels/x86/avx512_transpose.h"

/* Lanes [lo, hi) set, 0 <= lo, hi <= 32. */
static inline uint32_t lane_bits(int lo, int hi) {
    if (hi <= lo) return 0;
    const uint64_t h = ((uint64_t)1 << hi) - 1, l = ((uint64_t)1 << lo) - 1;
    return (uint32_t)(h & ~l);
}

/* ceil(a / s) for s 1 or 2, a of either sign, clamped below at 0. */
static inline int ceil_pos(int a, int s) { return a <= 0 ? 0 : (a + s - 1) / s; }

/* Tap j of a 16-column piece of output: the column lane 0 reads, the
 * lanes inside the row, and for stride 2 the contiguous floats its two
 * loads take. The same for every row, so made once a call. */
typedef struct mr_tap {
    int c0;
    __mmask16 in;
    uint32_t span;
} mr_tap;

static void make_taps(const int S, const nns_conv2d_geom *g, mr_tap *taps) {
    for (int ox0 = 0, t = 0; ox0 < g->ow; ox0 += 16) {
        const int n = g->ow - ox0 < 16 ? g->ow - ox0 : 16;
        for (int j = 0; j < g->kw; j++, t++) {
            const int c0 = S * ox0 - g->pl + j;
            const int l0 = ceil_pos(-c0, S), h1 = ceil_pos(g->iw - c0, S), l1 = h1 < n ? h1 : n;
            const __mmask16 in = (__mmask16)lane_bits(l0, l1);
            taps[t] = (mr_tap){c0, in, l1 > l0 ? lane_bits(S * l0, S * (l1 - 1) + 1) : 0};
        }
    }
}

/* x[c0 + S * l] for the lanes of the tap (others 0), reading only the
 * floats of its span. */
static inline __m512 load_tap(const int S, const float *r, const mr_tap *t) {
    if (S == 1) return _mm512_maskz_loadu_ps(t->in, r + t->c0);
    const __m512 a = _mm512_maskz_loadu_ps((__mmask16)t->span, r + t->c0);
    const __m512 b = _mm512_maskz_loadu_ps((__mmask16)(t->span >> 16), r + t->c0 + 16);
    return _mm512_permutex2var_ps(a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
}

/* v where v > best, else best: the reference's rule where neither is NaN
 * (vmaxps returns its second operand on ties, so +-0 keep the first seen).
 * Started from -inf it takes a window's first tap whatever it is (a first
 * -inf leaves the same -inf), so no lane needs a first-tap case. */
static inline __m512 take(__mmask16 k, __m512 v, __m512 best) { return _mm512_mask_max_ps(best, k, v, best); }

/* Nonzero if the plane of n floats holds a NaN: the largest magnitude's
 * bits above infinity's, kept in vectors (no mask moves in the chain). */
static int plane_has_nan(const float *x, size_t n) {
    const __m512i abs = _mm512_set1_epi32(0x7fffffff);
    __m512i a0 = _mm512_setzero_si512(), a1 = a0;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm512_max_epu32(a0, _mm512_and_si512(_mm512_loadu_si512(x + i), abs));
        a1 = _mm512_max_epu32(a1, _mm512_and_si512(_mm512_loadu_si512(x + i + 16), abs));
    }
    for (; i < n; i += 16) {
        const __mmask16 k = (__mmask16)lane_bits(0, n - i < 16 ? (int)(n - i) : 16);
        a0 = _mm512_max_epu32(a0, _mm512_and_si512(_mm512_maskz_loadu_epi32(k, x + i), abs));
    }
    return _mm512_cmpgt_epu32_mask(_mm512_max_epu32(a0, a1), _mm512_set1_epi32(0x7f800000)) != 0;
}

/* h[ox] = the maximum over the columns of window ox in input row r, for
 * ox < ow, for R rows at once (r: iw floats apart, h: ld): independent
 * chains of compares, which one row alone would leave waiting. */
static inline __attribute__((always_inline)) void row_max(const int S, const int R, const nns_conv2d_geom *g,
                                                          const mr_tap *taps, const float *r, float *h, int ld) {
    for (int ox0 = 0; ox0 < g->ow; ox0 += 16, taps += g->kw) {
        __m512 b0 = _mm512_set1_ps(-INFINITY), b1 = b0, b2 = b0, b3 = b0;
        for (int j = 0; j < g->kw; j++) {
            const mr_tap *t = &taps[j];
            b0 = take(t->in, load_tap(S, r, t), b0);
            if (R > 1) b1 = take(t->in, load_tap(S, r + g->iw, t), b1);
            if (R > 2) b2 = take(t->in, load_tap(S, r + 2 * (size_t)g->iw, t), b2);
            if (R > 3) b3 = take(t->in, load_tap(S, r + 3 * (size_t)g->iw, t), b3);
        }
        _mm512_store_ps(h + ox0, b0);
        if (R > 1) _mm512_store_ps(h + (size_t)ld + ox0, b1);
        if (R > 2) _mm512_store_ps(h + 2 * (size_t)ld + ox0, b2);
        if (R > 3) _mm512_store_ps(h + 3 * (size_t)ld + ox0, b3);
    }
}

/* One plane, in bands of output rows: the input rows a band's windows
 * cover reduced into hb (rows shared by two bands are reduced twice), then
 * each output row of the band as the maximum of its window's rows. */
static inline __attribute__((always_inline)) void plane(const int S, const nns_conv2d_geom *g, const mr_tap *taps,
                                                        const float *x, float *y, float *hb, int ld, int band) {
    for (int oy0 = 0; oy0 < g->oh; oy0 += band) {
        const int oy1 = oy0 + band < g->oh ? oy0 + band : g->oh;
        const int t0 = oy0 * g->sh - g->pt, r0 = t0 < 0 ? 0 : t0;
        const int t1 = (oy1 - 1) * g->sh - g->pt + g->kh - 1, r1 = t1 < g->ih - 1 ? t1 : g->ih - 1;
        int iy = r0;
        for (; iy + 4 <= r1 + 1; iy += 4) row_max(S, 4, g, taps, x + (size_t)iy * g->iw, hb + (size_t)(iy - r0) * ld, ld);
        for (; iy <= r1; iy++) row_max(S, 1, g, taps, x + (size_t)iy * g->iw, hb + (size_t)(iy - r0) * ld, ld);
        for (int oy = oy0; oy < oy1; oy++) {
            const int top = oy * g->sh - g->pt, y0 = top < 0 ? 0 : top;
            const int y1 = top + g->kh - 1 < g->ih - 1 ? top + g->kh - 1 : g->ih - 1;
            const float *h0 = hb + (size_t)(y0 - r0) * ld;
            float *yr = y + (size_t)oy * g->ow;
            for (int ox0 = 0; ox0 < g->ow; ox0 += 16) {
                __m512 best = _mm512_load_ps(h0 + ox0);
                for (int i = 1; i <= y1 - y0; i++) best = take(0xFFFF, _mm512_load_ps(h0 + (size_t)i * ld + ox0), best);
                const int n = g->ow - ox0 < 16 ? g->ow - ox0 : 16;
                _mm512_mask_storeu_ps(yr + ox0, (__mmask16)lane_bits(0, n), best);
            }
        }
    }
}

/* ---- stride 2 across, windows 2 or 3 columns wide, rows of at most 16
 * outputs: each input row's windows at once -----------------------------
 * The floats a row's windows cover (from column -pl, at most 33) come in
 * three loads, -inf outside the row; the even columns, the odd ones and the
 * even ones one further on (three permutes) are each window's first, second
 * and third column, so two max give every window's maximum over its
 * columns, earlier columns kept on ties as take() keeps them. No separate
 * pass looks for NaN: the loads' unordered compares gather it, and a plane
 * that holds one goes to the reference. Rows ahead are prefetched: the
 * masked loads otherwise waited on each miss (in SqueezeNet, behind the
 * convolution that wrote the planes, the pool ran 2x slower without).
 * Planes too big for lanes_planes only. 1 thread, 3x3 windows at stride
 * 2, 2048 planes of 31x31 (SqueezeNet's first pool), just written: 0.50 ->
 * 0.24 ms; in SqueezeNet at batch 32, builds alternating on a loaded host,
 * 0.73 -> 0.32 ms (medians of 5). */
static int narrow_s2(const nns_conv2d_geom *g) {
    return g->sw == 2 && (g->kw == 2 || g->kw == 3) && g->ow <= 16 && (int64_t)g->ih * 16 <= NNS_MAXPOOL_ROWS_BUF;
}

/* h[0..15] = row r's maxima over each window's columns; NaN lanes seen
 * go into *nan. */
static inline void narrow_row(const nns_conv2d_geom *g, const float *r, const uint32_t *span, float *h,
                              __mmask16 *nan) {
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    const float *p = r - g->pl;
    const __m512 a = _mm512_mask_loadu_ps(ninf, (__mmask16)span[0], p);
    const __m512 b = _mm512_mask_loadu_ps(ninf, (__mmask16)(span[0] >> 16), p + 16);
    *nan |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(b, b, _CMP_UNORD_Q);
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 e = _mm512_permutex2var_ps(a, ev, b);
    __m512 best = _mm512_max_ps(_mm512_permutex2var_ps(a, _mm512_add_epi32(ev, _mm512_set1_epi32(1)), b), e);
    if (g->kw == 3) {
        const __m512 c = _mm512_mask_loadu_ps(ninf, (__mmask16)span[1], p + 32);
        *nan |= _mm512_cmp_ps_mask(c, c, _CMP_UNORD_Q);
        const __m512i up = _mm512_setr_epi32(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
        best = _mm512_max_ps(_mm512_permutex2var_ps(e, up, c), best);
    }
    _mm512_store_ps(h, best);
}

/* One plane: 1, or 0 (y not finished) if it holds a NaN. */
static int narrow_plane(const nns_conv2d_geom *g, const uint32_t *span, const float *x, float *y, float *hb) {
    __mmask16 nan = 0;
    const int t1 = (g->oh - 1) * g->sh - g->pt + g->kh - 1, r1 = t1 < g->ih - 1 ? t1 : g->ih - 1;
    for (int iy = 0; iy <= r1; iy++) {
        const char *ahead = (const char *)(x + (size_t)(iy + 4) * g->iw); /* masked loads wait on misses */
        _mm_prefetch(ahead, _MM_HINT_T0);
        _mm_prefetch(ahead + 64, _MM_HINT_T0);
        _mm_prefetch(ahead + 128, _MM_HINT_T0);
        narrow_row(g, x + (size_t)iy * g->iw, span, hb + (size_t)iy * 16, &nan);
    }
    if (nan) return 0;
    const __mmask16 out = (__mmask16)lane_bits(0, g->ow);
    for (int oy = 0; oy < g->oh; oy++) {
        const int top = oy * g->sh - g->pt, y0 = top < 0 ? 0 : top;
        const int y1 = top + g->kh - 1 < g->ih - 1 ? top + g->kh - 1 : g->ih - 1;
        __m512 best = _mm512_load_ps(hb + (size_t)y0 * 16);
        for (int i = y0 + 1; i <= y1; i++) best = _mm512_max_ps(_mm512_load_ps(hb + (size_t)i * 16), best);
        _mm512_mask_storeu_ps(y + (size_t)oy * g->ow, out, best);
    }
    return 1;
}

/* The floats narrow_row loads, as lane bits from column -pl: [0] the first
 * 32, [1] the 33rd; those the windows read that lie inside the row. */
static void narrow_span(const nns_conv2d_geom *g, uint32_t *span) {
    const int last = 2 * (g->ow - 1) + g->kw - 1; /* the last position a window reads */
    span[0] = span[1] = 0;
    for (int t = 0; t <= last; t++)
        if (t - g->pl >= 0 && t - g->pl < g->iw) span[t >> 5] |= 1u << (t & 31);
}

/* ---- stride 1, output the input's size, narrow planes: flat ----------
 * Planes of fewer than 16 columns leave most of a row's vector empty, so
 * there a group of whole planes is taken as one run of floats: output i
 * (column c, row r of its plane) reads i + d for the column offsets d whose
 * c + d stays in [0, iw), then the maxima of those at i + e * iw for the
 * row offsets e whose r + e stays in [0, ih). Each vector carries its
 * lanes' c and r, stepped by 16 positions at a time. */

#define MR_FLAT 4096 /* floats of whole planes a group */

typedef struct mr_pos {
    __m512i c, r;       /* the lanes' column and row in their plane */
    __m512i dc, dr;     /* added each step: 16 mod iw, (16 / iw) mod ih */
    __m512i iw, ih;
} mr_pos;

static mr_pos pos_start(const nns_conv2d_geom *g) {
    int c[16], r[16];
    for (int l = 0; l < 16; l++) {
        c[l] = l % g->iw;
        r[l] = l / g->iw % g->ih;
    }
    return (mr_pos){_mm512_loadu_si512(c), _mm512_loadu_si512(r), _mm512_set1_epi32(16 % g->iw),
                    _mm512_set1_epi32(16 / g->iw % g->ih), _mm512_set1_epi32(g->iw), _mm512_set1_epi32(g->ih)};
}

static inline void pos_step(mr_pos *p) {
    __m512i c = _mm512_add_epi32(p->c, p->dc), r = _mm512_add_epi32(p->r, p->dr);
    const __mmask16 wrap = _mm512_cmpge_epi32_mask(c, p->iw); /* a row more */
    c = _mm512_mask_sub_epi32(c, wrap, c, p->iw);
    r = _mm512_mask_add_epi32(r, wrap, r, _mm512_set1_epi32(1));
    p->c = c;
    p->r = _mm512_mask_sub_epi32(r, _mm512_cmpge_epi32_mask(r, p->ih), r, p->ih);
}

/* Lanes whose q + d lies in [0, n): unsigned q + d < n. */
static inline __mmask16 inside(__m512i q, int d, __m512i n) {
    return _mm512_cmplt_epu32_mask(_mm512_add_epi32(q, _mm512_set1_epi32(d)), n);
}

/* One pass over n floats of whole planes, src to dst: each output the
 * maximum over the window's columns (rows 0: offsets 1 apart, kept inside
 * the lane's row) or rows (rows 1: iw apart, inside the lane's plane). */
static inline __attribute__((always_inline)) void flat_pass(const nns_conv2d_geom *g, const int rows,
                                                            const float *src, float *dst, int n) {
    const int taps = rows ? g->kh : g->kw, pad = rows ? g->pt : g->pl, dist = rows ? g->iw : 1;
    mr_pos p = pos_start(g);
    for (int i = 0; i < n; i += 16, pos_step(&p)) {
        const __mmask16 live = (__mmask16)lane_bits(0, n - i < 16 ? n - i : 16);
        __m512 best = _mm512_set1_ps(-INFINITY);
        for (int t = 0; t < taps; t++) {
            const int d = t - pad;
            const __mmask16 k = live & (rows ? inside(p.r, d, p.ih) : inside(p.c, d, p.iw));
            best = take(k, _mm512_maskz_loadu_ps(k, src + i + d * dist), best);
        }
        _mm512_mask_storeu_ps(dst + i, live, best);
    }
}

/* n floats of whole planes: h the column maxima, then y. */
static void flat_group(const nns_conv2d_geom *g, const float *x, float *y, int n, float *h) {
    flat_pass(g, 0, x, h, n);
    flat_pass(g, 1, h, y, n);
}

static void flat_planes(const nns_conv2d_geom *g, int64_t planes, const float *x, float *y) {
    float h[MR_FLAT + 16] __attribute__((aligned(64)));
    const int ihw = g->ih * g->iw, group = MR_FLAT / ihw;
    for (int64_t p0 = 0; p0 < planes; p0 += group) {
        const int np = planes - p0 < group ? (int)(planes - p0) : group;
        const float *xs = x + (size_t)p0 * ihw;
        float *ys = y + (size_t)p0 * ihw;
        if (plane_has_nan(xs, (size_t)np * ihw)) /* the first NaN wins: the reference's rule */
            nns_f32_maxpool2d_stack__ref(g, np, xs, ys);
        else
            flat_group(g, xs, ys, np * ihw, h);
    }
}

/* ---- small planes: a plane a lane -------------------------------------
 * Planes of a few dozen pixels leave a row's vector mostly empty and pay a
 * plane's setup for little work, so there 16 planes go at once, each in its
 * own lane: transposed into a buffer of one vector per position, pooled
 * (each lane taking its plane's taps in the reference's order), and the
 * outputs transposed back 16 at a time. */

/* Positions of a plane (in and out) at most: by 28x28 at stride 2 the
 * transposes cost what the rows path saves (one thread, 3x3 windows:
 * 7x7 -> 3x3 5.6 against 46 ns a plane, 15x15 -> 7x7 29 against 90,
 * 24x24 -> 12x12 80 against 130, 28x28 -> 14x14 level). */
#define MR_LANES 576

/* 16 planes of ihw floats (ihw apart) into t, a vector a position; nonzero
 * if any holds a NaN. */
static int lanes_in(const float *x, size_t ihw, float *t) {
    const __m512i abs = _mm512_set1_epi32(0x7fffffff);
    __m512i a = _mm512_setzero_si512();
    for (size_t q0 = 0; q0 < ihw; q0 += 16) {
        const int n = ihw - q0 < 16 ? (int)(ihw - q0) : 16;
        const __mmask16 k = (__mmask16)lane_bits(0, n);
        __m512 r[16];
#pragma GCC unroll 16
        for (int l = 0; l < 16; l++) { /* the NaN scan on the planes as loaded */
            r[l] = _mm512_maskz_loadu_ps(k, x + l * ihw + q0);
            a = _mm512_max_epu32(a, _mm512_and_si512(_mm512_castps_si512(r[l]), abs));
        }
        nns_transpose16_ps(r);
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) _mm512_store_ps(t + (q0 + i) * 16, r[i]); /* past ihw: room left, unread */
    }
    return _mm512_cmpgt_epu32_mask(a, _mm512_set1_epi32(0x7f800000)) != 0;
}

/* The maximum over rows [i0, i1) and columns [j0, j1) of a window whose
 * top-left tap is at row (a vector a position, iw positions a row), taken
 * in row-major order; KH, KW > 0 fix the whole window (unrolled). */
static inline __attribute__((always_inline)) __m512 lanes_taps(const int KH, const int KW, const float *row, int iw,
                                                               int i0, int i1, int j0, int j1) {
    __m512 best = _mm512_set1_ps(-INFINITY);
    if (KH) i0 = 0, i1 = KH, j0 = 0, j1 = KW;
#pragma GCC unroll 4
    for (int i = i0; i < i1; i++)
#pragma GCC unroll 4
        for (int j = j0; j < j1; j++) best = _mm512_max_ps(_mm512_load_ps(row + ((ptrdiff_t)i * iw + j) * 16), best);
    return best;
}

/* Output (oy, ox) of the 16 lanes: its window's taps in row-major order. */
static inline __m512 lanes_window(const nns_conv2d_geom *g, const float *t, int oy, int ox) {
    const int top = oy * g->sh - g->pt, left = ox * g->sw - g->pl;
    const int i0 = top < 0 ? -top : 0, i1 = top + g->kh > g->ih ? g->ih - top : g->kh;
    const int j0 = left < 0 ? -left : 0, j1 = left + g->kw > g->iw ? g->iw - left : g->kw;
    const float *row = t + ((ptrdiff_t)top * g->iw + left) * 16;
    const int whole = i0 == 0 && j0 == 0 && i1 == g->kh && j1 == g->kw;
    if (whole && g->kh == 3 && g->kw == 3) return lanes_taps(3, 3, row, g->iw, 0, 0, 0, 0);
    if (whole && g->kh == 2 && g->kw == 2) return lanes_taps(2, 2, row, g->iw, 0, 0, 0, 0);
    return lanes_taps(0, 0, row, g->iw, i0, i1, j0, j1);
}

/* The 16 planes' outputs from t, 16 positions at a time, transposed back
 * into y (planes ohw apart). */
static void lanes_out(const nns_conv2d_geom *g, const float *t, float *y, size_t ohw) {
    float o[16 * 16] __attribute__((aligned(64)));
    int oy = 0, ox = 0;
    for (size_t p0 = 0; p0 < ohw; p0 += 16) {
        const int n = ohw - p0 < 16 ? (int)(ohw - p0) : 16;
        for (int i = 0; i < n; i++) {
            _mm512_store_ps(o + i * 16, lanes_window(g, t, oy, ox));
            if (++ox == g->ow) ox = 0, oy++;
        }
        __m512 r[16];
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++) r[i] = _mm512_load_ps(o + i * 16); /* past n: lanes not stored */
        nns_planes_out16(r, n, y, ohw, p0);
    }
}

/* Groups of 16 planes; returns the planes done (a multiple of 16). */
static int64_t lanes_planes(const nns_conv2d_geom *g, int64_t planes, const float *x, float *y) {
    float t[(MR_LANES + 16) * 16] __attribute__((aligned(64)));
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    int64_t p = 0;
    for (; p + 16 <= planes; p += 16) {
        const float *xs = x + (size_t)p * ihw;
        float *ys = y + (size_t)p * ohw;
        if (lanes_in(xs, ihw, t)) /* the first NaN wins: the reference's rule */
            nns_f32_maxpool2d_stack__ref(g, 16, xs, ys);
        else
            lanes_out(g, t, ys, ohw);
    }
    return p;
}

void nns_f32_maxpool2d_rows__avx512(const nns_conv2d_geom *g, int64_t planes, const float *x, float *y) {
    float hb[NNS_MAXPOOL_ROWS_BUF] __attribute__((aligned(64)));
    mr_tap taps[NNS_MAXPOOL_ROWS_TAPS];
    const int ld = (g->ow + 15) / 16 * 16;
    /* output rows a band: as many as leave their input rows within hb (the fits rule leaves room for one) */
    const int fit = (NNS_MAXPOOL_ROWS_BUF / ld - g->kh) / g->sh + 1, band = fit < g->oh ? fit : g->oh;
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    if (g->sh == 1 && g->sw == 1 && g->oh == g->ih && g->ow == g->iw && g->iw < 16 && ihw <= MR_FLAT) {
        flat_planes(g, planes, x, y);
        return;
    }
    int64_t p = 0;
    const int small = ihw <= MR_LANES && ohw <= MR_LANES; /* lanes_planes: 3x faster there than narrow_plane */
    if (narrow_s2(g) && !small) {
        uint32_t span[2];
        narrow_span(g, span);
        for (; p < planes; p++)
            if (!narrow_plane(g, span, x + (size_t)p * ihw, y + (size_t)p * ohw, hb))
                nns_f32_maxpool2d__ref(g, x + (size_t)p * ihw, y + (size_t)p * ohw, NULL); /* the first NaN wins */
        return;
    }
    if (small) p = lanes_planes(g, planes, x, y);
    make_taps(g->sw, g, taps);
    for (; p < planes; p++) {
        if (plane_has_nan(x + (size_t)p * ihw, ihw)) /* the first NaN wins: the reference's rule */
            nns_f32_maxpool2d__ref(g, x + (size_t)p * ihw, y + (size_t)p * ohw, NULL);
        else if (g->sw == 1)
            plane(1, g, taps, x + (size_t)p * ihw, y + (size_t)p * ohw, hb, ld, band);
        else
            plane(2, g, taps, x + (size_t)p * ihw, y + (size_t)p * ohw, hb, ld, band);
    }
}
