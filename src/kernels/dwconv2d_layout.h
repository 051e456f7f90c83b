/* dwconv2d_layout.h — the scratch layout of the SIMD depthwise kernels
 * (internal to src/kernels): the phase planes of kernels.h with pw a
 * multiple of 8, so every 8-wide vector of flattened outputs lies within
 * one output row.
 *
 * Scratch: P (nph planes), then the dy buffer (guard zeros, oh*pw values of
 * dy with zero columns, zeros), then dP (nph planes), each 8-float aligned.
 */
#ifndef NNS_KERNELS_DWCONV2D_LAYOUT_H
#define NNS_KERNELS_DWCONV2D_LAYOUT_H

#include <string.h>

#include "kernels/phase_impl.h"

#define NNS_DWCONV2D_MAX_TAPS 64

typedef struct nns_dwconv2d_layout {
    nns_phase_layout ph;
    int pw, prr, nph;   /* copies of ph's */
    int guard;          /* zero floats before dy in the dy buffer */
    size_t plane;
    size_t p_off, dy_off, dp_off, total;
} nns_dwconv2d_layout;

static inline size_t nns_round8(size_t n) { return (n + 7) & ~(size_t)7; }

/* The direct 3x3, stride 2, dilation 1 path of the SIMD kernels (outputs
 * up to 8 * (NNS_DW3X3S2_MAX_CHUNKS - 1) wide); its backward sums dx into
 * a padded copy of the plane: ih rows of nns_dw3x3s2_dx_row(g) floats,
 * column c at c + pl. */
#define NNS_DW3X3S2_MAX_CHUNKS 64
static inline int nns_dw_is_3x3s2(const nns_conv2d_geom *g) {
    return g->kh == 3 && g->kw == 3 && g->sh == 2 && g->sw == 2 && g->dh == 1 && g->dw == 1 &&
           (g->ow + 7) / 8 < NNS_DW3X3S2_MAX_CHUNKS;
}
static inline size_t nns_dw3x3s2_dx_row(const nns_conv2d_geom *g) { return (size_t)16 * ((g->ow + 7) / 8 + 2); }

static inline void nns_dwconv2d_layout_make(const nns_conv2d_geom *g, nns_dwconv2d_layout *L) {
    nns_phase_layout_make(g, 8, &L->ph);
    L->pw = L->ph.pw;
    L->prr = L->ph.prr;
    L->nph = L->ph.nph;
    L->plane = L->ph.plane;
    L->guard = (int)nns_round8((size_t)L->ph.maxro * L->pw + L->ph.maxco);
    /* 8 floats of slack after each part: row fills may write past it. */
    L->p_off = 0;
    L->dy_off = L->p_off + nns_round8(L->plane * L->nph) + 8;
    L->dp_off = L->dy_off + nns_round8((size_t)L->guard + L->plane) + 8;
    L->total = L->dp_off + nns_round8(L->plane * L->nph) + 8;
}

/* Offset of tap (i, j) from the start of P (phase plane base + in-plane
 * offset), the in-plane part alone, and the phase plane. */
static inline void nns_dwconv2d_tap(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                    int i, int j, size_t *full, int *inplane, int *phase) {
    int rp = (i * g->dh) % g->sh, ro = (i * g->dh) / g->sh;
    int cp = (j * g->dw) % g->sw, co = (j * g->dw) / g->sw;
    *phase = rp * g->sw + cp;
    *inplane = ro * L->pw + co;
    *full = (size_t)*phase * L->plane + (size_t)*inplane;
}

static inline void nns_dwconv2d_pack(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                     const float *x, float *P) {
    nns_phase_pack_one(g, &L->ph, x, P);
}

static inline void nns_dwconv2d_unpack_add(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                           const float *dP, float *dx) {
    nns_phase_unpack_add_one(g, &L->ph, dP, dx);
}

/* The dy buffer: guard zeros, then oh rows of pw (dy in the first ow
 * columns, zeros after), then zeros up to guard + plane floats. Returns a
 * pointer to the first row. */
static inline float *nns_dwconv2d_pack_dy(const nns_conv2d_geom *g, const nns_dwconv2d_layout *L,
                                          const float *dy, float *buf) {
    memset(buf, 0, (size_t)L->guard * sizeof(float));
    float *d = buf + L->guard;
    for (int oy = 0; oy < g->oh; oy++) {
        float *row = d + (size_t)oy * L->pw;
#ifdef __AVX2__
        nns_avx2_row_fill(row, L->pw, 0, dy + (size_t)oy * g->ow, g->ow);
#else
        memcpy(row, dy + (size_t)oy * g->ow, (size_t)g->ow * sizeof(float));
        for (int k = g->ow; k < L->pw; k++) row[k] = 0.0f;
#endif
    }
    memset(d + (size_t)g->oh * L->pw, 0, (L->plane - (size_t)g->oh * L->pw) * sizeof(float));
    return d;
}

#endif
