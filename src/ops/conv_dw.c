/* conv_dw.c — depthwise Conv (group == C == M) with the dwconv2d kernels:
 * forward parallel over images (or channels when there are fewer images
 * than threads), the activations (act, then post) per image in cache;
 * backward likewise with per-thread weight and bias gradient partials
 * summed in thread order. */
#include "ops/conv_impl.h"

/* Output floats of the images a forward call takes before their
 * activation (128 KiB: in a core's L2 with their inputs). One image a call
 * had repeated the kernel's setup per image (its weights' transposition,
 * its tap tables): MobileNetV2's 8x8 layers of 192 channels ran 1.3x and
 * its 2x2 ones of 960 2x slower a call than 32 images at once. */
#define DW_ACT_CHUNK ((size_t)32768)

void nns_conv_dw_forward(const conv_params *p, const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                         const float *B, float *Y, float *work, const conv_ws *ws) {
    /* Threads take contiguous image ranges (memory in order), or
     * channel ranges when there are fewer images than threads. */
    const size_t cs = (size_t)d->c * d->ihw, ys = (size_t)d->c * d->ohw;
#pragma omp parallel num_threads(conv_dw_team(p, d, d->n * d->c))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *scr = work + (size_t)t * ws->per_thread;
        if (d->n >= nt) {
            const int64_t i0 = d->n * t / nt, i1 = d->n * (t + 1) / nt;
            if (!d->act && !d->post) {
                if (i1 > i0)
                    k->f32_dwconv2d(&d->g, (int)(i1 - i0), d->c, X + (size_t)i0 * cs, cs, W, B, Y + (size_t)i0 * ys,
                                    ys, scr);
            } else { /* the activation while the images are in cache: as many a call as fill DW_ACT_CHUNK */
                const int64_t per = ys < DW_ACT_CHUNK ? (int64_t)(DW_ACT_CHUNK / ys) : 1;
                for (int64_t i = i0; i < i1; i += per) {
                    const int64_t nb = i1 - i < per ? i1 - i : per;
                    float *y = Y + (size_t)i * ys;
                    k->f32_dwconv2d(&d->g, (int)nb, d->c, X + (size_t)i * cs, cs, W, B, y, ys, scr);
                    nns_fuse_act_rows(y, (size_t)nb * ys, d->act, d->lo, d->hi);
                    conv_post_rows(k, d->post, y, (size_t)nb * ys);
                }
            }
        } else {
            const int c0 = (int)((int64_t)d->c * t / nt), c1 = (int)((int64_t)d->c * (t + 1) / nt);
            if (c1 > c0) {
                k->f32_dwconv2d(&d->g, (int)d->n, c1 - c0, X + (size_t)c0 * d->ihw, cs, W + (size_t)c0 * d->kk,
                                B ? B + c0 : NULL, Y + (size_t)c0 * d->ohw, ys, scr);
                for (int64_t i = 0; i < d->n; i++) {
                    float *yc = Y + (size_t)i * ys + (size_t)c0 * d->ohw;
                    nns_fuse_act_rows(yc, (size_t)(c1 - c0) * d->ohw, d->act, d->lo, d->hi);
                    conv_post_rows(k, d->post, yc, (size_t)(c1 - c0) * d->ohw);
                }
            }
        }
    }
}

void nns_conv_dw_backward(const conv_params *p, const conv_dims *d, const nns_kernels *k, const float *X, const float *W,
                          const float *dY, float *dX, int dx_write, float *dW, float *dB, float *work, const conv_ws *ws) {
    const size_t cs = (size_t)d->c * d->ihw, ys = (size_t)d->c * d->ohw, np = d->wsize + (size_t)d->c;
#pragma omp parallel num_threads(conv_dw_team(p, d, d->n * d->c))
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *scr = work + (size_t)t * ws->per_thread;
        if (d->n >= nt) {
            /* Image ranges; weight and bias gradients into per-thread
             * partials (when several threads), summed in thread order. */
            const int64_t i0 = d->n * t / nt, i1 = d->n * (t + 1) / nt;
            float *part = scr + ws->part;
            float *pw = nt > 1 ? (dW ? part : NULL) : dW, *pb = nt > 1 ? (dB ? part + d->wsize : NULL) : dB;
            if (nt > 1) memset(part, 0, np * sizeof(float));
            if (dx_write && i1 > i0) memset(dX + (size_t)i0 * cs, 0, (size_t)(i1 - i0) * cs * sizeof(float));
            if (i1 > i0)
                k->f32_dwconv2d_bwd(&d->g, (int)(i1 - i0), d->c, X + (size_t)i0 * cs, cs, dY + (size_t)i0 * ys, ys, W,
                                    dX ? dX + (size_t)i0 * cs : NULL, cs, pw, pb, scr);
            if (nt > 1 && (dW || dB)) {
#pragma omp barrier
                for (size_t q = np * t / nt; q < np * (t + 1) / nt; q++) {
                    float s = 0.0f;
                    for (int u = 0; u < nt; u++) s += work[(size_t)u * ws->per_thread + ws->part + q];
                    if (q < d->wsize) {
                        if (dW) dW[q] += s;
                    } else if (dB) {
                        dB[q - d->wsize] += s;
                    }
                }
            }
        } else {
            const int c0 = (int)((int64_t)d->c * t / nt), c1 = (int)((int64_t)d->c * (t + 1) / nt);
            if (dx_write && c1 > c0)
                for (int64_t i = 0; i < d->n; i++)
                    memset(dX + (size_t)i * cs + (size_t)c0 * d->ihw, 0, (size_t)(c1 - c0) * d->ihw * sizeof(float));
            if (c1 > c0)
                k->f32_dwconv2d_bwd(&d->g, (int)d->n, c1 - c0, X + (size_t)c0 * d->ihw, cs, dY + (size_t)c0 * d->ohw, ys,
                                    W + (size_t)c0 * d->kk, dX ? dX + (size_t)c0 * d->ihw : NULL, cs,
                                    dW ? dW + (size_t)c0 * d->kk : NULL, dB ? dB + c0 : NULL, scr);
        }
    }
}
