/* batchnorm.c — BatchNormalization over X [N, C, ...] with scale, B,
 * input_mean, input_var (each [C]); epsilon default 1e-5, momentum default
 * 0.9 (ONNX: running = running * momentum + batch * (1 - momentum); PyTorch's
 * momentum 0.1 is ONNX 0.9).
 *
 * Training mode (e->training): normalise with the batch mean and the biased
 * batch variance, then update the running mean and the running variance
 * (with the UNBIASED batch variance, as PyTorch does) in place, in
 * the data of e->in[3] / e->in[4]. The batch mean and 1/sqrt(var + eps) go
 * to e->state for backward:
 *   xhat = (x - mean) * invstd,  M = N * spatial
 *   dscale += sum(dy * xhat),  dB += sum(dy)
 *   dx += scale * invstd * (dy - sum(dy) / M - xhat * sum(dy * xhat) / M)
 * Inference mode uses the running statistics; backward is then affine:
 *   dx += scale * invstd * dy (no gradient flows into the running stats).
 * The optional outputs 1 and 2 (opset 14 training_mode outputs) receive the
 * running mean and variance after the update. Everything is per channel, so
 * channels run in parallel and results do not depend on the thread count.
 *
 * Speed (docs/kernels.md, "Training plans"): threads take channel ranges but
 * walk memory in order (images outer, channels inner); the batch statistics
 * take one pass over memory (per-row mean and squared deviations merged in
 * double); in training plans a following Relu / Clip is fused in
 * (nns_exec_node.epi) and the data gradient may be written instead of
 * accumulated (grad_overwrite). */
#include <math.h>
#include <omp.h>

#include "ops/op_util.h"

typedef struct { float eps, momentum; } batchnorm_params;

/* Row reductions with 8 independent float lanes, as two 4-float GCC vector
 * types so that the lanes stay in registers (as float[8] arrays GCC kept
 * them on the stack: a store and reload per step); lane k sums elements
 * k, k+8, ..., then ((l0+l1)+(l2+l3))+((l4+l5)+(l6+l7)) plus the scalar
 * tail: a fixed order. Callers add the row results in double. */
typedef float bn_v4 __attribute__((vector_size(16)));
typedef int32_t bn_v4i __attribute__((vector_size(16)));

static inline bn_v4 bn_load(const float *p) {
    bn_v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline float bn_hsum(bn_v4 a, bn_v4 b) {
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
}

static inline float bn_sum(const float *x, int64_t n) {
    bn_v4 a0 = {0}, a1 = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 += bn_load(x + i);
        a1 += bn_load(x + i + 4);
    }
    float s = 0.0f;
    for (; i < n; i++) s += x[i];
    return s + bn_hsum(a0, a1);
}

static inline float bn_sumsq_dev(const float *x, int64_t n, float m) {
    bn_v4 a0 = {0}, a1 = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const bn_v4 d0 = bn_load(x + i) - m, d1 = bn_load(x + i + 4) - m;
        a0 += d0 * d0;
        a1 += d1 * d1;
    }
    float s = 0.0f;
    for (; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return s + bn_hsum(a0, a1);
}

/* sum(g) and sum(g * (x - m)) over one row. */
static inline void bn_sum_grad(const float *g, const float *x, int64_t n, float m,
                               float *sg, float *sgx) {
    bn_v4 a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const bn_v4 g0 = bn_load(g + i), g1 = bn_load(g + i + 4);
        a0 += g0;
        a1 += g1;
        b0 += g0 * (bn_load(x + i) - m);
        b1 += g1 * (bn_load(x + i + 4) - m);
    }
    float s1 = 0.0f, s2 = 0.0f;
    for (; i < n; i++) {
        s1 += g[i];
        s2 += g[i] * (x[i] - m);
    }
    *sg = s1 + bn_hsum(a0, a1);
    *sgx = s2 + bn_hsum(b0, b1);
}

/* The gradient reaching the normalisation's output through the activation
 * (as the activation's backward writes it into a zeroed buffer: 0 + ...). */
static inline float bn_act_grad(float z, float g, int act, float lo, float hi) {
    if (act == NNS_FUSE_ACT_RELU) return 0.0f + nns_selectf(z > 0.0f, g, 0.0f);
    if (act == NNS_FUSE_ACT_CLIP) return 0.0f + nns_selectf((z >= lo) & (z <= hi), g, 0.0f);
    return g;
}

/* bn_act_grad on 4 lanes. */
static inline bn_v4 bn_act_grad_v(bn_v4 z, bn_v4 g, int act, float lo, float hi) {
    bn_v4i m;
    if (act == NNS_FUSE_ACT_RELU) m = z > 0.0f;
    else m = (z >= lo) & (z <= hi);
    bn_v4i gi;
    memcpy(&gi, &g, sizeof gi);
    gi &= m;
    bn_v4 r;
    memcpy(&r, &gi, sizeof r);
    return 0.0f + r;
}

/* y = act(x * a + b) over one row; act is a constant after inlining. */
static inline __attribute__((always_inline)) void bn_apply_row(const float *restrict X, float *restrict Y, int64_t n, float a, float b,
                                int act, float lo, float hi) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) Y[i] = nns_fuse_act_apply(X[i] * a + b, act, lo, hi);
}

/* bn_sum_grad of the gradient behind the activation: g = act'(x*a + b) dy. */
static inline __attribute__((always_inline)) void bn_sum_grad_act(const float *g, const float *x, int64_t n, float m, float za, float zb,
                                   int act, float lo, float hi, float *sg, float *sgx) {
    bn_v4 a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const bn_v4 x0 = bn_load(x + i), x1 = bn_load(x + i + 4);
        const bn_v4 g0 = bn_act_grad_v(x0 * za + zb, bn_load(g + i), act, lo, hi);
        const bn_v4 g1 = bn_act_grad_v(x1 * za + zb, bn_load(g + i + 4), act, lo, hi);
        a0 += g0;
        a1 += g1;
        b0 += g0 * (x0 - m);
        b1 += g1 * (x1 - m);
    }
    float s1 = 0.0f, s2 = 0.0f;
    for (; i < n; i++) {
        const float gg = bn_act_grad(x[i] * za + zb, g[i], act, lo, hi);
        s1 += gg;
        s2 += gg * (x[i] - m);
    }
    *sg = s1 + bn_hsum(a0, a1);
    *sgx = s2 + bn_hsum(b0, b1);
}

/* The data gradient over one row: with training statistics
 *   dx = k * (g - mean(g) - xhat * mean(g * xhat)),
 * with running statistics dx = k * g; g is dy behind the activation.
 * ow: write dx (0 + ..., as accumulating into zeros), else add to it. */
static inline __attribute__((always_inline)) void
bn_bwd_row(const float *restrict X, const float *restrict G, float *restrict GX, int64_t n, float mean,
           float inv, float za, float zb, float k, float mdy, float mdyx, int act, float lo, float hi,
           int training, int ow) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        const float g = act ? bn_act_grad(X[i] * za + zb, G[i], act, lo, hi) : G[i];
        float d;
        if (training) {
            const float xh = (X[i] - mean) * inv;
            d = k * (g - mdy - xh * mdyx);
        } else {
            d = k * g;
        }
        GX[i] = (ow ? 0.0f : GX[i]) + d;
    }
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

/* Scratch: two doubles and two floats per channel. */
static size_t batchnorm_work_bytes(const void *params, const nns_shape *const *in,
                                   const nns_shape *out, int training) {
    return (size_t)in[0]->dims[1] * (2 * sizeof(double) + 2 * sizeof(float));
}

/* Channels [c0, c1) of this thread in a parallel region (static, contiguous). */
static void bn_channels(int64_t C, int64_t *c0, int64_t *c1) {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    *c0 = C * t / nt;
    *c1 = C * (t + 1) / nt;
}

static void bn_geometry(const nns_exec_node *e, int64_t *N, int64_t *C, int64_t *S) {
    const nns_shape *s = &e->in[0]->shape;
    int64_t sp = 1;
    for (int d = 2; d < s->ndim; d++) sp *= s->dims[d];
    *N = s->dims[0];
    *C = s->dims[1];
    *S = sp;
}

/* 1 / sqrt(var + eps), in double, as inference uses the running variance. */
static inline float bn_inv_std(float var, float eps) { return (float)(1.0 / sqrt((double)var + (double)eps)); }

/* Inference: y = x * scale'[c] + shift'[c] from the constant statistics,
 * the values batchnorm_forward computes (a Conv folds them in). */
static void batchnorm_affine(const nns_exec_node *e, float *fa, float *fb) {
    const batchnorm_params *p = e->params;
    const float *scale = nns_tv_cf32(e->in[1]), *bias = nns_tv_cf32(e->in[2]);
    const float *rmean = nns_tv_cf32(e->in[3]), *rvar = nns_tv_cf32(e->in[4]);
    const int64_t C = nns_tv_numel(e->in[1]);
    for (int64_t c = 0; c < C; c++) {
        fa[c] = scale[c] * bn_inv_std(rvar[c], p->eps);
        fb[c] = bias[c] - rmean[c] * fa[c];
    }
}

/* Memory order: each thread takes a contiguous range of channels and walks
 * images outer, channels inner (the rows of one image are contiguous), so
 * every pass streams through memory; per-channel sums still add the images
 * in order 0..N-1, so results do not depend on the thread count. */
static void batchnorm_forward(nns_exec_node *e) {
    const batchnorm_params *p = e->params;
    int64_t N, C, S;
    bn_geometry(e, &N, &C, &S);
    const float *x = nns_tv_cf32(e->in[0]), *scale = nns_tv_cf32(e->in[1]), *bias = nns_tv_cf32(e->in[2]);
    float *rmean = nns_tv_f32(e->in[3]), *rvar = nns_tv_f32(e->in[4]);
    const int act = e->epi.out ? e->epi.act : NNS_FUSE_ACT_NONE;
    const float lo = e->epi.lo, hi = e->epi.hi;
    float *y = act ? nns_tv_f32(e->epi.out) : nns_tv_f32(e->out[0]);
    float *smean = e->state ? (float *)e->state : NULL, *sinv = smean ? smean + C : NULL;
    const int64_t M = N * S;
    const int training = e->training && e->state;
    const float mom = p->momentum;
    double *ds = e->work, *dv = ds + C;
    float *fa = (float *)(dv + C), *fb = fa + C;
#pragma omp parallel if (N * C * S > NNS_OMP_MIN_ELEMS && C > 1)
    {
        int64_t c0, c1;
        bn_channels(C, &c0, &c1);
        if (training) {
            /* One pass over memory: each row (in L1) gives its mean and its
             * sum of squared deviations (second pass around the float mean,
             * corrected for its rounding); rows are merged into the channel's
             * running mean ds and sum of squares dv in image order (Chan et
             * al.'s pairwise update), in double. */
            for (int64_t c = c0; c < c1; c++) ds[c] = dv[c] = 0.0;
            for (int64_t nn = 0; nn < N; nn++)
                for (int64_t c = c0; c < c1; c++) {
                    const float *X = x + (nn * C + c) * S;
                    const double rm = (double)bn_sum(X, S) / (double)S;
                    const float fm = (float)rm;
                    const double dd = rm - (double)fm;
                    double q = (double)bn_sumsq_dev(X, S, fm) - (double)S * dd * dd;
                    if (q < 0.0) q = 0.0;
                    const double na = (double)(nn * S), nt = na + (double)S, delta = rm - ds[c];
                    ds[c] += delta * ((double)S / nt);
                    dv[c] += q + delta * delta * (na * (double)S / nt);
                }
        }
        for (int64_t c = c0; c < c1; c++) {
            float mean, inv;
            if (training) {
                const double dm = ds[c];
                double v = dv[c];
                if (v < 0.0) v = 0.0;
                const double var = v / (double)M;
                const double unbiased = M > 1 ? v / (double)(M - 1) : var;
                mean = (float)dm;
                inv = (float)(1.0 / sqrt(var + (double)p->eps));
                rmean[c] = rmean[c] * mom + mean * (1.0f - mom);
                rvar[c] = rvar[c] * mom + (float)unbiased * (1.0f - mom);
            } else {
                mean = rmean[c];
                inv = bn_inv_std(rvar[c], p->eps);
            }
            if (smean) {
                smean[c] = mean;
                sinv[c] = inv;
            }
            fa[c] = scale[c] * inv;
            fb[c] = bias[c] - mean * fa[c];
        }
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t c = c0; c < c1; c++) {
                const float *X = x + (nn * C + c) * S;
                float *Y = y + (nn * C + c) * S;
                switch (act) {
                case NNS_FUSE_ACT_RELU: bn_apply_row(X, Y, S, fa[c], fb[c], NNS_FUSE_ACT_RELU, lo, hi); break;
                case NNS_FUSE_ACT_CLIP: bn_apply_row(X, Y, S, fa[c], fb[c], NNS_FUSE_ACT_CLIP, lo, hi); break;
                default: bn_apply_row(X, Y, S, fa[c], fb[c], NNS_FUSE_ACT_NONE, lo, hi); break;
                }
            }
    }
    for (int j = 1; j < e->n_out; j++)
        memcpy(nns_tv_f32(e->out[j]), nns_tv_cf32(e->in[j + 2]), (size_t)C * sizeof(float));
}

/* Output 0 of a fused node: z = x * a + b from the saved statistics, and
 * (with_grad) dz = 0 + act'(z) * dy (written: the plan does not zero this
 * buffer; the same bits as the activation's backward into zeros). */
void nns_batchnorm_materialize(nns_exec_node *e, int with_grad) {
    if (!e->epi.out || !e->state) return;
    int64_t N, C, S;
    bn_geometry(e, &N, &C, &S);
    const float *x = nns_tv_cf32(e->in[0]), *scale = nns_tv_cf32(e->in[1]), *bias = nns_tv_cf32(e->in[2]);
    const float *smean = e->state, *sinv = smean + C;
    float *z = nns_tv_f32(e->out[0]), *gz = with_grad ? e->out[0]->grad : NULL;
    const float *gy = e->epi.out->grad;
    const int act = e->epi.act;
    const float lo = e->epi.lo, hi = e->epi.hi;
#pragma omp parallel for schedule(static) if (N * C * S > NNS_OMP_MIN_ELEMS && C > 1)
    for (int64_t c = 0; c < C; c++) {
        const float a = scale[c] * sinv[c], b = bias[c] - smean[c] * a;
        for (int64_t nn = 0; nn < N; nn++) {
            const int64_t o = (nn * C + c) * S;
            bn_apply_row(x + o, z + o, S, a, b, NNS_FUSE_ACT_NONE, 0.0f, 0.0f);
            if (gz && gy)
                for (int64_t i = 0; i < S; i++) {
                    const float zz = z[o + i];
                    const int m = act == NNS_FUSE_ACT_RELU ? zz > 0.0f : (zz >= lo) & (zz <= hi);
                    gz[o + i] = 0.0f + nns_selectf(m, gy[o + i], 0.0f);
                }
        }
    }
}

static void batchnorm_backward(nns_exec_node *e) {
    const int act = e->epi.out ? e->epi.act : NNS_FUSE_ACT_NONE;
    const float lo = e->epi.lo, hi = e->epi.hi;
    const float *gy = act ? e->epi.out->grad : e->out[0]->grad;
    if (!gy || !e->state) return;
    int64_t N, C, S;
    bn_geometry(e, &N, &C, &S);
    const float *x = nns_tv_cf32(e->in[0]), *scale = nns_tv_cf32(e->in[1]), *bias = nns_tv_cf32(e->in[2]);
    float *gx = e->in[0]->grad, *gscale = e->in[1]->grad, *gbias = e->in[2]->grad;
    const float *smean = e->state, *sinv = smean + C;
    const int64_t M = N * S;
    const int training = e->training;
    const int ow = (int)(e->grad_overwrite & 1u);
    double *sdy = e->work, *sdyx = sdy + C;
    float *fmdy = (float *)(sdyx + C), *fmdyx = fmdy + C;
#pragma omp parallel if (N * C * S > NNS_OMP_MIN_ELEMS && C > 1)
    {
        int64_t c0, c1;
        bn_channels(C, &c0, &c1);
        for (int64_t c = c0; c < c1; c++) sdy[c] = sdyx[c] = 0.0;
        for (int64_t nn = 0; nn < N; nn++)
            for (int64_t c = c0; c < c1; c++) {
                const float mean = smean[c], inv = sinv[c];
                /* the forward's affine map, to recompute the activation's input */
                const float za = scale[c] * inv, zb = bias[c] - mean * za;
                float a, b;
                const float *G = gy + (nn * C + c) * S, *X = x + (nn * C + c) * S;
                switch (act) {
                case NNS_FUSE_ACT_RELU: bn_sum_grad_act(G, X, S, mean, za, zb, NNS_FUSE_ACT_RELU, lo, hi, &a, &b); break;
                case NNS_FUSE_ACT_CLIP: bn_sum_grad_act(G, X, S, mean, za, zb, NNS_FUSE_ACT_CLIP, lo, hi, &a, &b); break;
                default: bn_sum_grad(G, X, S, mean, &a, &b); break;
                }
                sdy[c] += a;
                sdyx[c] += b;
            }
        for (int64_t c = c0; c < c1; c++) {
            sdyx[c] *= sinv[c];
            if (gscale) gscale[c] += (float)sdyx[c];
            if (gbias) gbias[c] += (float)sdy[c];
            fmdy[c] = training ? (float)(sdy[c] / (double)M) : 0.0f;
            fmdyx[c] = training ? (float)(sdyx[c] / (double)M) : 0.0f;
        }
        for (int64_t nn = 0; gx && nn < N; nn++)
            for (int64_t c = c0; c < c1; c++) {
                const float mean = smean[c], inv = sinv[c];
                const float za = scale[c] * inv, zb = bias[c] - mean * za;
                const float k = scale[c] * inv, mdy = fmdy[c], mdyx = fmdyx[c];
                const int64_t o = (nn * C + c) * S;
                const float *X = x + o, *G = gy + o;
                float *GX = gx + o;
#define BN_ROW(A, T, W) bn_bwd_row(X, G, GX, S, mean, inv, za, zb, k, mdy, mdyx, A, lo, hi, T, W)
                switch (act * 4 + !!training * 2 + ow) {
                case NNS_FUSE_ACT_NONE * 4 + 0: BN_ROW(NNS_FUSE_ACT_NONE, 0, 0); break;
                case NNS_FUSE_ACT_NONE * 4 + 1: BN_ROW(NNS_FUSE_ACT_NONE, 0, 1); break;
                case NNS_FUSE_ACT_NONE * 4 + 2: BN_ROW(NNS_FUSE_ACT_NONE, 1, 0); break;
                case NNS_FUSE_ACT_NONE * 4 + 3: BN_ROW(NNS_FUSE_ACT_NONE, 1, 1); break;
                case NNS_FUSE_ACT_RELU * 4 + 0: BN_ROW(NNS_FUSE_ACT_RELU, 0, 0); break;
                case NNS_FUSE_ACT_RELU * 4 + 1: BN_ROW(NNS_FUSE_ACT_RELU, 0, 1); break;
                case NNS_FUSE_ACT_RELU * 4 + 2: BN_ROW(NNS_FUSE_ACT_RELU, 1, 0); break;
                case NNS_FUSE_ACT_RELU * 4 + 3: BN_ROW(NNS_FUSE_ACT_RELU, 1, 1); break;
                case NNS_FUSE_ACT_CLIP * 4 + 0: BN_ROW(NNS_FUSE_ACT_CLIP, 0, 0); break;
                case NNS_FUSE_ACT_CLIP * 4 + 1: BN_ROW(NNS_FUSE_ACT_CLIP, 0, 1); break;
                case NNS_FUSE_ACT_CLIP * 4 + 2: BN_ROW(NNS_FUSE_ACT_CLIP, 1, 0); break;
                default: BN_ROW(NNS_FUSE_ACT_CLIP, 1, 1); break;
                }
#undef BN_ROW
            }
    }
}

/* ---- facts (op.h) ---- */

static int batchnorm_channelwise(const nns_graph *g, const nns_node *n) { return 1; }

const nns_op_def nns_op_batchnorm = {
    .name = "BatchNormalization",
    .min_in = 5, .max_in = 5, .min_out = 1, .max_out = 5,
    .params_size = sizeof(batchnorm_params),
    .prepare = batchnorm_prepare,
    .f32_inputs = NNS_IN_ALL,
    .infer = batchnorm_infer,
    .state_bytes = batchnorm_state_bytes,
    .work_bytes = batchnorm_work_bytes,
    .forward = batchnorm_forward,
    .backward = batchnorm_backward,
    .nontrainable_inputs = (1u << 3) | (1u << 4),
    .grad_overwrite_inputs = 1u << 0,
    .chan = NNS_OP_CHAN_PERCHANNEL,
    .weight_in = 1, .bias_in = 2,
    .channelwise = batchnorm_channelwise,
    .affine = batchnorm_affine,
};
