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

void nns_f32_dwconv2d_bwd__avx2(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                                const float *dy, size_t dy_stride, const float *w, float *dx, size_t dx_stride,
                                float *dw, float *db, float *scratch) {
    const int taps = g->kh * g->kw;
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
