/* loss.c — softmax cross-entropy with label smoothing. */
#include <math.h>
#include "nnslim/train.h"

float nns_loss_softmax_ce(const float *logits, const int32_t *y, int n, int k,
                          float eps, float *dlogits) {
    double total = 0;
    const float inv_n = 1.0f / (float)n;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (int64_t)i * k;
        float mx = z[0];
        for (int j = 1; j < k; j++) mx = z[j] > mx ? z[j] : mx;
        double s = 0;
        for (int j = 0; j < k; j++) s += exp((double)(z[j] - mx));
        double lse = log(s) + mx;
        /* loss = -(1-eps) log p_y - eps/k sum_j log p_j */
        double sum_logp = 0;
        for (int j = 0; j < k; j++) sum_logp += z[j] - lse;
        total += -(1.0 - eps) * (z[y[i]] - lse) - eps / k * sum_logp;
        if (dlogits) {
            float *d = dlogits + (int64_t)i * k;
            for (int j = 0; j < k; j++) {
                float p = (float)exp((double)z[j] - lse);
                float q = (j == y[i] ? 1.0f - eps : 0.0f) + eps / (float)k;
                d[j] = (p - q) * inv_n;
            }
        }
    }
    return (float)(total / n);
}
