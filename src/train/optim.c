/* optim.c — optimizers over the flat parameter buffer. */
#include <math.h>
#include <omp.h>
#include "train/optim.h"

/* The update of elements [i0, i1), one loop per case so that each is a
 * straight vector loop (the buffers never overlap). */
static void sgd_range(float *restrict w, const float *restrict g, float *restrict v, int64_t i0, int64_t i1, float lr,
                      float mom, float wd, int nesterov, const float *restrict mask) {
    if (mask) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
            const float gi = (g[i] + wd * w[i]) * mask[i];
            const float vi = mom * v[i] + gi;
            v[i] = vi;
            w[i] = (w[i] - lr * (nesterov ? gi + mom * vi : vi)) * mask[i];
        }
    } else if (nesterov) {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
            const float gi = g[i] + wd * w[i];
            const float vi = mom * v[i] + gi;
            v[i] = vi;
            w[i] = w[i] - lr * (gi + mom * vi);
        }
    } else {
#pragma omp simd
        for (int64_t i = i0; i < i1; i++) {
            const float vi = mom * v[i] + (g[i] + wd * w[i]);
            v[i] = vi;
            w[i] = w[i] - lr * vi;
        }
    }
}

void nns_optim_sgd_step(float *w, float *g, float *v, int64_t n, float lr, float momentum,
                        float wd, int nesterov, const float *mask) {
#pragma omp parallel if (n > 16384)
    {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        sgd_range(w, g, v, n * t / nt, n * (t + 1) / nt, lr, momentum, wd, nesterov, mask);
    }
}

void nns_optim_adamw_step(float *w, float *g, float *m, float *v, int64_t n, float lr,
                          float b1, float b2, float eps, float wd, int64_t t,
                          const float *mask) {
    const float c1 = 1.0f - powf(b1, (float)t);
    const float c2 = 1.0f - powf(b2, (float)t);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float gi = mask ? g[i] * mask[i] : g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        float wi = w[i] * (1.0f - lr * wd);
        wi -= lr * (mi / c1) / (sqrtf(vi / c2) + eps);
        w[i] = mask ? wi * mask[i] : wi;
    }
}
