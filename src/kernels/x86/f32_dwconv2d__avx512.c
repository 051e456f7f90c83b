/* f32_dwconv2d__avx512.c — depthwise 2-D convolution, AVX-512, for planes
 * of at most 64 outputs from at most 256 inputs (MobileNet's and
 * EfficientNet's later stages, up to 8x8): 16
 * channels at a time, one per lane. The block's input is transposed once
 * to pixel-major vectors (one gather per input pixel), each output pixel
 * is then its taps' FMAs on whole vectors, and the outputs go back to the
 * channels' planes by one gather per channel. Per-plane work (the AVX2
 * kernel gathers 8 channels for every output and tap) falls from
 * outputs x taps gathers to inputs + outputs. Other shapes, and the last
 * nc % 16 channels, take the AVX2 kernel. */
#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/window_util.h"

#define SMALL_OUT 64  /* output pixels a plane */
#define SMALL_IN 256  /* input pixels a plane (the transposed block lives on the stack: 16 KiB) */
#define SMALL_TAPS 25 /* window taps */

/* Past 16 outputs, only where the inputs are not many more than the
 * outputs (stride 1): a stride-2 plane's four times as many input gathers
 * cost more than the AVX2 kernel's 3x3 stride-2 path (MobileNetV2 at
 * 16x16 -> 8x8, 3x slower). */
static int small_fits(const nns_conv2d_geom *g, int nc) {
    const int ohw = g->oh * g->ow, ihw = g->ih * g->iw;
    return nc >= 16 && ohw <= SMALL_OUT && ihw <= SMALL_IN && g->kh * g->kw <= SMALL_TAPS &&
           (ohw <= 16 || ihw <= 2 * ohw);
}

/* 16 channels of one image: x, w, bias and y at the block's first channel. */
static void small_block(const nns_conv2d_geom *g, const int *tap_n, const int (*tap)[SMALL_TAPS][2], const float *x,
                        const float *w, const float *bias, float *y) {
    const int taps = g->kh * g->kw, ihw = g->ih * g->iw, ohw = g->oh * g->ow;
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i xi = _mm512_mullo_epi32(lane, _mm512_set1_epi32(ihw));
    const __m512i wi = _mm512_mullo_epi32(lane, _mm512_set1_epi32(taps));
    __m512 wv[SMALL_TAPS];
    for (int t = 0; t < taps; t++) wv[t] = _mm512_i32gather_ps(wi, w + t, 4);
    _Alignas(64) float xt[SMALL_IN * 16], yt[SMALL_OUT * 16];
    for (int p = 0; p < ihw; p++) _mm512_store_ps(xt + p * 16, _mm512_i32gather_ps(xi, x + p, 4));
    const __m512 b = bias ? _mm512_loadu_ps(bias) : _mm512_setzero_ps();
    for (int q = 0; q < ohw; q++) {
        __m512 acc = b;
        for (int k = 0; k < tap_n[q]; k++)
            acc = _mm512_fmadd_ps(wv[tap[q][k][0]], _mm512_load_ps(xt + tap[q][k][1] * 16), acc);
        _mm512_store_ps(yt + q * 16, acc);
    }
    const __m512i qi = _mm512_slli_epi32(lane, 4);
    for (int q0 = 0; q0 < ohw; q0 += 16) { /* 16 outputs of each channel's plane per gather */
        const __mmask16 m = ohw - q0 >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (ohw - q0)) - 1u);
        for (int l = 0; l < 16; l++)
            _mm512_mask_storeu_ps(y + (size_t)l * ohw + q0, m,
                                  _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, qi, yt + q0 * 16 + l, 4));
    }
}

void nns_f32_dwconv2d__avx512(const nns_conv2d_geom *g, int n, int nc, const float *x, size_t x_stride,
                              const float *w, const float *bias, float *y, size_t y_stride, float *scratch) {
    if (small_fits(g, nc)) {
        int tap_n[SMALL_OUT], tap[SMALL_OUT][SMALL_TAPS][2];
        nns_window_taps(g, SMALL_TAPS, tap_n, &tap[0][0][0]);
        const size_t ihw = (size_t)g->ih * g->iw, ohw = (size_t)g->oh * g->ow, taps = (size_t)g->kh * g->kw;
        const int done = nc / 16 * 16;
        for (int b = 0; b < n; b++)
            for (int c = 0; c < done; c += 16)
                small_block(g, tap_n, (const int(*)[SMALL_TAPS][2])tap, x + (size_t)b * x_stride + c * ihw,
                            w + (size_t)c * taps, bias ? bias + c : NULL, y + (size_t)b * y_stride + c * ohw);
        if (done == nc) return;
        x += done * ihw, y += done * ohw, w += (size_t)done * taps, bias = bias ? bias + done : NULL;
        nc -= done;
    }
    nns_f32_dwconv2d__avx2(g, n, nc, x, x_stride, w, bias, y, y_stride, scratch);
}
