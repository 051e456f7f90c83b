/* f32_dwconv2d__avx2.c — depthwise 2-D convolution of one plane, AVX2+FMA.
 * Any kernel size (up to NNS_DWCONV2D_MAX_TAPS taps), stride, dilation and
 * padding, through the phase-plane layout of dwconv2d_layout.h: the plane
 * becomes a 1-D convolution over flattened outputs, 32 outputs per step. */
#include "kernels/dwconv2d_layout.h"
#include "kernels/x86/avx2_util.h"

static inline void store_out(const nns_conv2d_geom *g, int pw, int q, __m256 v, float *y) {
    int oy = q / pw, ox = q - oy * pw;
    if (ox >= g->ow) return;
    float *dst = y + (size_t)oy * g->ow + ox;
    if (ox + 8 <= g->ow) _mm256_storeu_ps(dst, v);
    else _mm256_maskstore_ps(dst, nns_avx2_mask(g->ow - ox), v);
}

void nns_f32_dwconv2d__avx2(const nns_conv2d_geom *g, const float *x, const float *w,
                            float bias, float *y, float *scratch) {
    const int taps = g->kh * g->kw;
    if (taps > NNS_DWCONV2D_MAX_TAPS) {
        nns_f32_dwconv2d__ref(g, x, w, bias, y, scratch);
        return;
    }
    nns_dwconv2d_layout L;
    nns_dwconv2d_layout_make(g, &L);
    float *P = scratch + L.p_off;
    nns_dwconv2d_pack(g, &L, x, P);
    size_t off[NNS_DWCONV2D_MAX_TAPS];
    for (int i = 0, t = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++, t++) {
            int inplane, phase;
            nns_dwconv2d_tap(g, &L, i, j, &off[t], &inplane, &phase);
        }
    const int npos = g->oh * L.pw;
    const __m256 vb = _mm256_set1_ps(bias);
    int q = 0;
    for (; q + 32 <= npos; q += 32) {
        __m256 a0 = vb, a1 = vb, a2 = vb, a3 = vb;
        for (int t = 0; t < taps; t++) {
            const __m256 wv = _mm256_broadcast_ss(&w[t]);
            const float *s = P + off[t] + q;
            a0 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s), a0);
            a1 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 8), a1);
            a2 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 16), a2);
            a3 = _mm256_fmadd_ps(wv, _mm256_loadu_ps(s + 24), a3);
        }
        store_out(g, L.pw, q, a0, y);
        store_out(g, L.pw, q + 8, a1, y);
        store_out(g, L.pw, q + 16, a2, y);
        store_out(g, L.pw, q + 24, a3, y);
    }
    for (; q < npos; q += 8) {
        __m256 a0 = vb;
        for (int t = 0; t < taps; t++)
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(&w[t]), _mm256_loadu_ps(P + off[t] + q), a0);
        store_out(g, L.pw, q, a0, y);
    }
}
