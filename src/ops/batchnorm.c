/* batchnorm.c — BatchNormalization over X [N, C, ...] with scale, B,
 * input_mean, input_var (each [C]); epsilon default 1e-5, momentum default
 * 0.9 (ONNX: running = running * momentum + batch * (1 - momentum); PyTorch's
 * momentum 0.1 is ONNX 0.9).
 *
 * Training mode (e->training): normalise with the batch mean and the biased
 * batch variance, then update the running mean and the running variance
 * (with the UNBIASED batch variance, as PyTorch does) in place, in
 * e->in[3]->data / e->in[4]->data. The batch mean and 1/sqrt(var + eps) go
 * to e->state for backward:
 *   xhat = (x - mean) * invstd,  M = N * spatial
 *   dscale += sum(dy * xhat),  dB += sum(dy)
 *   dx += scale * invstd * (dy - sum(dy) / M - xhat * sum(dy * xhat) / M)
 * Inference mode uses the running statistics; backward is then affine:
 *   dx += scale * invstd * dy (no gradient flows into the running stats).
 * The optional outputs 1 and 2 (opset 14 training_mode outputs) receive the
 * running mean and variance after the update. Everything is per channel, so
 * channels run in parallel and results do not depend on the thread count. */
#include <math.h>

#include "ops/op_util.h"

typedef struct { float eps, momentum; } batchnorm_params;

/* Row sums with 8 independent float lanes (vectorisable without reordering
 * flags); callers add the row results in double. */
static inline float bn_sum(const float *x, int64_t n) {
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) acc[k] += x[i + k];
    float s = 0.0f;
    for (; i < n; i++) s += x[i];
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static inline float bn_sumsq_dev(const float *x, int64_t n, float m) {
    float acc[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            float d = x[i + k] - m;
            acc[k] += d * d;
        }
    float s = 0.0f;
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return s + ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* sum(g) and sum(g * (x - m)) over one row. */
static inline void bn_sum_grad(const float *g, const float *x, int64_t n, float m,
                               float *sg, float *sgx) {
    float a[8] = {0}, b[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) {
            a[k] += g[i + k];
            b[k] += g[i + k] * (x[i + k] - m);
        }
    float s1 = 0.0f, s2 = 0.0f;
    for (; i < n; i++) {
        s1 += g[i];
        s2 += g[i] * (x[i] - m);
    }
    *sg = s1 + ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    *sgx = s2 + ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
}

static nns_status batchnorm_prepare(const nns_graph *g, const nns_node *n, void *params) {
    batchnorm_params *p = params;
    p->eps = nns_node_attr_float(n, "epsilon", 1e-5f);
    p->momentum = nns_node_attr_float(n, "momentum", 0.9f);
    if (nns_node_attr_int(n, "spatial", 1) != 1)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (BatchNormalization): spatial=0 is not supported", n->name);
    if (n->n_out > 3)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (BatchNormalization): %d outputs; the saved_mean/saved_var outputs of opset < 14 "
                         "training graphs are not supported (export the model in eval mode)", n->name, n->n_out);
    if (!(p->eps > 0.0f))
        return nns_error(NNS_STATUS_INVALID_ARG, "node '%s' (BatchNormalization): epsilon %g must be > 0",
                         n->name, (double)p->eps);
    for (int i = 0; i < 5; i++) {
        if (n->in[i] < 0)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (BatchNormalization): input %d is omitted", n->name, i);
        nns_status st = nns_op_check_f32(g, n, i);
        if (st) return st;
    }
    return NNS_OK;
}

static nns_status batchnorm_infer(const nns_graph *g, const nns_node *n, const void *params,
                                  const nns_shape *const *in, nns_shape *out) {
    char b0[128], b1[128];
    if (in[0]->ndim < 2)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (BatchNormalization): input X %s must have rank >= 2",
                         n->name, nns_shape_str(in[0], b0, sizeof b0));
    int64_t c = in[0]->dims[1];
    static const char *const what[5] = {"X", "scale", "B", "input_mean", "input_var"};
    for (int i = 1; i < 5; i++)
        if (nns_shape_numel(in[i]) != c || in[i]->ndim != 1)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (BatchNormalization): %s has shape %s, expected [%lld] for X %s",
                             n->name, what[i], nns_shape_str(in[i], b1, sizeof b1), (long long)c,
                             nns_shape_str(in[0], b0, sizeof b0));
    out[0] = *in[0];
    for (int j = 1; j < n->n_out; j++) out[j] = *in[j + 2];
    return NNS_OK;
}

static size_t batchnorm_state_bytes(const void *params, const nns_shape *const *in,
                                    const nns_shape *out, int training) {
    return training ? 2 * (size_t)in[0]->dims[1] * sizeof(float) : 0;
}

static void bn_geometry(const nns_exec_node *e, int64_t *N, int64_t *C, int64_t *S) {
    const nns_shape *s = &e->in[0]->shape;
    int64_t sp = 1;
    for (int d = 2; d < s->ndim; d++) sp *= s->dims[d];
    *N = s->dims[0];
    *C = s->dims[1];
    *S = sp;
}

static void batchnorm_forward(nns_exec_node *e) {
    const batchnorm_params *p = e->params;
    int64_t N, C, S;
    bn_geometry(e, &N, &C, &S);
    const float *x = e->in[0]->data, *scale = e->in[1]->data, *bias = e->in[2]->data;
    float *rmean = e->in[3]->data, *rvar = e->in[4]->data;
    float *y = e->out[0]->data;
    float *smean = e->state ? (float *)e->state : NULL, *sinv = smean ? smean + C : NULL;
    const int64_t M = N * S;
    const int training = e->training && e->state;
    const float mom = p->momentum;
#pragma omp parallel for schedule(static) if (N * C * S > NNS_OMP_MIN_ELEMS && C > 1)
    for (int64_t c = 0; c < C; c++) {
        float mean, inv;
        if (training) {
            double s = 0.0;
            for (int64_t nn = 0; nn < N; nn++) s += bn_sum(x + (nn * C + c) * S, S);
            const double dm = s / (double)M;
            /* second pass around the float mean, corrected for its rounding */
            const float fm = (float)dm;
            const double dd = dm - (double)fm;
            double v = 0.0;
            for (int64_t nn = 0; nn < N; nn++) v += bn_sumsq_dev(x + (nn * C + c) * S, S, fm);
            v -= (double)M * dd * dd;
            if (v < 0.0) v = 0.0;
            const double var = v / (double)M;
            const double unbiased = M > 1 ? v / (double)(M - 1) : var;
            mean = (float)dm;
            inv = (float)(1.0 / sqrt(var + (double)p->eps));
            rmean[c] = rmean[c] * mom + mean * (1.0f - mom);
            rvar[c] = rvar[c] * mom + (float)unbiased * (1.0f - mom);
        } else {
            mean = rmean[c];
            inv = (float)(1.0 / sqrt((double)rvar[c] + (double)p->eps));
        }
        if (smean) {
            smean[c] = mean;
            sinv[c] = inv;
        }
        const float a = scale[c] * inv, b = bias[c] - mean * a;
        for (int64_t nn = 0; nn < N; nn++) {
            const float *X = x + (nn * C + c) * S;
            float *Y = y + (nn * C + c) * S;
#pragma omp simd
            for (int64_t i = 0; i < S; i++) Y[i] = X[i] * a + b;
        }
    }
    for (int j = 1; j < e->n_out; j++)
        memcpy(e->out[j]->data, e->in[j + 2]->data, (size_t)C * sizeof(float));
}

static void batchnorm_backward(nns_exec_node *e) {
    const float *gy = e->out[0]->grad;
    if (!gy || !e->state) return;
    int64_t N, C, S;
    bn_geometry(e, &N, &C, &S);
    const float *x = e->in[0]->data, *scale = e->in[1]->data;
    float *gx = e->in[0]->grad, *gscale = e->in[1]->grad, *gbias = e->in[2]->grad;
    const float *smean = e->state, *sinv = smean + C;
    const int64_t M = N * S;
    const int training = e->training;
#pragma omp parallel for schedule(static) if (N * C * S > NNS_OMP_MIN_ELEMS && C > 1)
    for (int64_t c = 0; c < C; c++) {
        const float mean = smean[c], inv = sinv[c];
        double sdy = 0.0, sdyx = 0.0;
        for (int64_t nn = 0; nn < N; nn++) {
            float a, b;
            bn_sum_grad(gy + (nn * C + c) * S, x + (nn * C + c) * S, S, mean, &a, &b);
            sdy += a;
            sdyx += b;
        }
        sdyx *= inv;
        if (gscale) gscale[c] += (float)sdyx;
        if (gbias) gbias[c] += (float)sdy;
        if (!gx) continue;
        const float k = scale[c] * inv;
        if (training) {
            const float mdy = (float)(sdy / (double)M), mdyx = (float)(sdyx / (double)M);
            for (int64_t nn = 0; nn < N; nn++) {
                const float *X = x + (nn * C + c) * S, *G = gy + (nn * C + c) * S;
                float *GX = gx + (nn * C + c) * S;
#pragma omp simd
                for (int64_t i = 0; i < S; i++) {
                    const float xh = (X[i] - mean) * inv;
                    GX[i] += k * (G[i] - mdy - xh * mdyx);
                }
            }
        } else {
            for (int64_t nn = 0; nn < N; nn++) {
                const float *G = gy + (nn * C + c) * S;
                float *GX = gx + (nn * C + c) * S;
#pragma omp simd
                for (int64_t i = 0; i < S; i++) GX[i] += k * G[i];
            }
        }
    }
}

const nns_op_def nns_op_batchnorm = {
    .name = "BatchNormalization",
    .min_in = 5, .max_in = 5, .min_out = 1, .max_out = 5,
    .params_size = sizeof(batchnorm_params),
    .prepare = batchnorm_prepare,
    .infer = batchnorm_infer,
    .state_bytes = batchnorm_state_bytes,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .nontrainable_inputs = (1u << 3) | (1u << 4),
};
