/* f32_dwconv2d_bwd__avx2.c — depthwise 2-D convolution backward over n
 * images x nc channels (walked in memory order), AVX2+FMA, in the
 * phase-plane layout of dwconv2d_layout.h. All three parts are gathers
 * (loads only):
 *   dw[t] += <dy, P shifted by tap t>          (dot products)
 *   dP[ph][q] = sum over taps t of phase ph: w[t] * dy[q - offset(t)]
 *   dx += unpack(dP)
 * Sums run in a fixed order: deterministic. */
#include "kernels/dwconv2d_layout.h"
#include "kernels/x86/avx2_util.h"
#include "kernels/x86/dw3x3s2.h"

/* Per-call constants: the layout and the taps (grouped by phase plane). */
typedef struct bwd_ctx {
    nns_dwconv2d_layout L;
    int taps;
    size_t off[NNS_DWCONV2D_MAX_TAPS];
    int inplane[NNS_DWCONV2D_MAX_TAPS];
    int order[NNS_DWCONV2D_MAX_TAPS], ph_start[NNS_DWCONV2D_MAX_TAPS + 1];
} bwd_ctx;

/* One plane: x (ih*iw), dy (oh*ow), the channel's taps w; dx, dw, db as
 * in the contract (dw: taps floats, db: one float). */
static void bwd_plane(const nns_conv2d_geom *g, const bwd_ctx *k, const float *x, const float *dy,
                      const float *w, float *dx, float *dw, float *db, float *scratch) {
    const nns_dwconv2d_layout *L = &k->L;
    float *P = scratch + L->p_off, *dP = scratch + L->dp_off;
    const int npos = g->oh * L->pw; /* multiple of 8 */
    const int nplane = (int)L->plane;
    const float *D = nns_dwconv2d_pack_dy(g, L, dy, scratch + L->dy_off);
    if (db) {
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        int q = 0;
        for (; q + 16 <= npos; q += 16) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(D + q));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(D + q + 8));
        }
        for (; q < npos; q += 8) s0 = _mm256_add_ps(s0, _mm256_loadu_ps(D + q));
        *db += nns_avx2_hsum(_mm256_add_ps(s0, s1));
    }
    if (dw) {
        nns_dwconv2d_pack(g, L, x, P);
        for (int t = 0; t < k->taps; t++) {
            const float *s = P + k->off[t];
            __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
            int q = 0;
            for (; q + 32 <= npos; q += 32) {
                c0 = _mm256_fmadd_ps(_mm256_loadu_ps(D + q), _mm256_loadu_ps(s + q), c0);
                c1 = _mm256_fmadd_ps(_mm256_loadu_ps(D + q + 8), _mm256_loadu_ps(s + q + 8), c1);
                c2 = _mm256_fmadd_ps(_mm256_loadu_ps(D + q + 16), _mm256_loadu_ps(s + q + 16), c2);
                c3 = _mm256_fmadd_ps(_mm256_loadu_ps(D + q + 24), _mm256_loadu_ps(s + q + 24), c3);
            }
            for (; q < npos; q += 8) c0 = _mm256_fmadd_ps(_mm256_loadu_ps(D + q), _mm256_loadu_ps(s + q), c0);
            dw[t] += nns_avx2_hsum(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)));
        }
    }
    if (dx) {
        for (int ph = 0; ph < L->nph; ph++) {
            float *dst = dP + (size_t)ph * L->plane;
            const int t0 = k->ph_start[ph], t1 = k->ph_start[ph + 1];
            int q = 0;
            for (; q + 32 <= nplane; q += 32) {
                __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
                for (int j = t0; j < t1; j++) {
                    const int t = k->order[j];
                    const __m256 wv = _mm256_broadcast_ss(&w[t]);
                    const float *s = D + q - k->inplane[t];
                    a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s), a0);
                    a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 8), a1);
                    a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 16), a2);
                    a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 24), a3);
                }
                _mm256_store_ps(dst + q, a0);
                _mm256_store_ps(dst + q + 8, a1);
                _mm256_store_ps(dst + q + 16, a2);
                _mm256_store_ps(dst + q + 24, a3);
            }
            for (; q < nplane; q += 8) {
                __m256 a0 = _mm256_setzero_ps();
                for (int j = t0; j < t1; j++) {
                    const int t = k->order[j];
                    a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(&w[t]), _mm256_loadu_ps(D + q - k->inplane[t]), a0);
                }
                _mm256_store_ps(dst + q, a0);
            }
        }
        nns_dwconv2d_unpack_add(g, L, dP, dx);
    }
}

/* 3x3, stride 2, dilation 1, one plane, without phase planes (see
 * dw3x3s2.h). Chunk q covers outputs 8q .. 8q + 7 and input columns base ..
 * base + 15 of each row the taps reach:
 *   dw[kh][kw] += sum of dy * (even, odd, even shifted) columns;
 *   dx[base + 2j] += w[kh][0] dy[8q + j] + w[kh][2] dy[8q + j - 1],
 *   dx[base + 2j + 1] += w[kh][1] dy[8q + j],
 * so the chunk past the outputs brings the last w[kh][2] term. */
static void bwd3x3s2_plane(const nns_conv2d_geom *g, const dw_s2_chunk *ck, int nch, const float *x,
                           const float *dy, const float *w, float *dx, float *dw, float *db, float *pad) {
    /* dx is summed in pad (zero padded: every chunk is whole vectors), then
     * added to the plane */
    const size_t prow = nns_dw3x3s2_dx_row(g);
    if (dx) memset(pad, 0, (size_t)g->ih * prow * sizeof(float));
    __m256 acc[9], sdb = _mm256_setzero_ps(), wv[9];
    for (int t = 0; t < 9; t++) {
        acc[t] = _mm256_setzero_ps();
        wv[t] = _mm256_broadcast_ss(&w[t]);
    }
    for (int oy = 0; oy < g->oh; oy++) {
        const float *dyr = dy + (size_t)oy * g->ow;
        for (int q = 0; q < nch; q++) {
            const dw_s2_chunk *c = &ck[q];
            const int past = 8 * q >= g->ow; /* only dx: the last w[kh][2] term */
            if (past && (!dx || 8 * q > g->ow)) break;
            /* dy lanes past the outputs read as zeros; dyp may point before the row */
            const __m256 dv = _mm256_maskload_ps(dyr + 8 * q, c->mdy);
            const __m256 dp = _mm256_maskload_ps(dyr + 8 * q - 1, c->mdp);
            sdb = _mm256_add_ps(sdb, dv);
            for (int kh = 0; kh < 3; kh++) {
                const int iy = 2 * oy - g->pt + kh;
                if (iy < 0 || iy >= g->ih) continue;
                if (dw && !past) {
                    __m256 ev, od, e2;
                    dw_s2_load(c, x + (ptrdiff_t)iy * g->iw, &ev, &od, &e2);
                    acc[kh * 3] = _mm256_fmadd_ps(ev, dv, acc[kh * 3]);
                    acc[kh * 3 + 1] = _mm256_fmadd_ps(od, dv, acc[kh * 3 + 1]);
                    acc[kh * 3 + 2] = _mm256_fmadd_ps(e2, dv, acc[kh * 3 + 2]);
                }
                if (dx) {
                    const __m256 e = _mm256_fmadd_ps(wv[kh * 3 + 2], dp, _mm256_mul_ps(wv[kh * 3], dv));
                    const __m256 o = _mm256_mul_ps(wv[kh * 3 + 1], dv);
                    const __m256 lo = _mm256_unpacklo_ps(e, o), hi = _mm256_unpackhi_ps(e, o);
                    const __m256 v0 = _mm256_permute2f128_ps(lo, hi, 0x20), v1 = _mm256_permute2f128_ps(lo, hi, 0x31);
                    float *r = pad + (size_t)iy * prow + 16 * q; /* column base */
                    _mm256_storeu_ps(r, _mm256_add_ps(_mm256_loadu_ps(r), v0));
                    _mm256_storeu_ps(r + 8, _mm256_add_ps(_mm256_loadu_ps(r + 8), v1));
                }
            }
        }
    }
    if (dx)
        for (int iy = 0; iy < g->ih; iy++)
            nns_avx2_add_into(pad + (size_t)iy * prow + g->pl, dx + (size_t)iy * g->iw, g->iw);
    if (dw)
        for (int t = 0; t < 9; t++) dw[t] += nns_avx2_hsum(acc[t]);
    if (db) *db += nns_avx2_hsum(sdb);
}

void nns_f32_dwconv2d_bwd__avx2(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                                const float *dy, size_t dy_stride, const float *w, float *dx, size_t dx_stride,
                                float *dw, float *db, float *scratch) {
    const int taps = g->kh * g->kw;
    if (nns_dw_is_3x3s2(g)) {
        dw_s2_chunk ck[NNS_DW3X3S2_MAX_CHUNKS];
        const int nch = (g->ow + 7) / 8 + 1;
        dw_s2_chunks(g, ck, nch);
        const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
        for (int b = 0; b < n; b++)
            for (int c = 0; c < nc; c++)
                bwd3x3s2_plane(g, ck, nch, x + (size_t)b * x_stride + c * ihw, dy + (size_t)b * dy_stride + c * ohw,
                               w + (size_t)c * 9, dx ? dx + (size_t)b * dx_stride + c * ihw : NULL,
                               dw ? dw + (size_t)c * 9 : NULL, db ? db + c : NULL, scratch);
        return;
    }
    if (taps > NNS_DWCONV2D_MAX_TAPS) {
        nns_f32_dwconv2d_bwd__ref(g, n, nc, x, x_stride, dy, dy_stride, w, dx, dx_stride, dw, db, scratch);
        return;
    }
    bwd_ctx k;
    nns_dwconv2d_layout_make(g, &k.L);
    k.taps = taps;
    int phase[NNS_DWCONV2D_MAX_TAPS];
    for (int i = 0, t = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++, t++) nns_dwconv2d_tap(g, &k.L, i, j, &k.off[t], &k.inplane[t], &phase[t]);
    for (int ph = 0, j = 0; ph < k.L.nph; ph++) {
        k.ph_start[ph] = j;
        for (int t = 0; t < taps; t++)
            if (phase[t] == ph) k.order[j++] = t;
        k.ph_start[ph + 1] = j;
    }
    const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow;
    for (int b = 0; b < n; b++)
        for (int c = 0; c < nc; c++)
            bwd_plane(g, &k, x + (size_t)b * x_stride + c * ihw, dy + (size_t)b * dy_stride + c * ohw,
                      w + (size_t)c * taps, dx ? dx + (size_t)b * dx_stride + c * ihw : NULL,
                      dw ? dw + (size_t)c * taps : NULL, db ? db + c : NULL, scratch);
}
