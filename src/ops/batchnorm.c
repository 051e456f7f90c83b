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
 * Speed (docs/kernels.md, "Training plans"): threads take channel ranges
 * and, on rows of BN_CHANNEL_ROW floats or more, finish one channel
 * (statistics, then output; sums, then data gradient) before the next,
 * while its rows are in the core's cache (shorter rows: images outer); the
 * row loops are the kernel table's f32_bn_* (src/kernels/bn_rows.h: AVX-512
 * and AVX2 variants); the batch statistics take one pass over memory
 * (per-row mean and squared deviations merged in double); in training
 * plans a following Relu / Clip is fused in (nns_exec_node.epi) and the
 * data gradient may be written instead of accumulated (grad_overwrite). */
#include <math.h>
#include <omp.h>

#include "kernels/kernels.h"
#include "ops/op_util.h"

typedef struct { float eps, momentum; } batchnorm_params;

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

/* Memory order. Each thread takes a contiguous range of channels. Rows of
 * at least BN_CHANNEL_ROW floats go channel by channel: a channel's
 * statistics then its output (sums then data gradient), while its rows are
 * still in the core's cache. Shorter rows go images outer, channels inner,
 * so that every pass streams through memory: a 7x7 channel's rows are 196
 * bytes, 12.5 KB apart in resnet8's 64-channel layers, and channel by
 * channel their training forward took 0.20 ms against 0.15, the backward
 * 0.34 against 0.22 (builds alternating). Either way a
 * channel's sums add the images in order 0..N-1, so results depend neither
 * on the order nor on the thread count. resnet8, batch 128, 2 threads,
 * AVX-512: channel by channel, the 32-channel 14x14 layers' forward 0.385 ->
 * 0.265 ms. */
#define BN_CHANNEL_ROW 128

/* Scratch: per channel the running mean and squared deviations (or the
 * backward's two sums) in double, two floats, and the backward's row
 * coefficients. */
static size_t batchnorm_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out,
                                   int training) {
    return (size_t)in[0]->dims[1] * (2 * sizeof(double) + 2 * sizeof(float) + sizeof(nns_bn_row));
}

/* Image nn's row statistics (f32_bn_stats) merged into its channel's mean
 * *m and sum of squared deviations *v (Chan et al.'s pairwise update, in
 * double, images in order). */
static void bn_merge_row(const nns_kernels *k, const float *row, int64_t nn, int64_t S, double *m, double *v) {
    double rm, q;
    k->f32_bn_stats(row, S, &rm, &q);
    const double na = (double)(nn * S), nt = na + (double)S, delta = rm - *m;
    *m += delta * ((double)S / nt);
    *v += q + delta * delta * (na * (double)S / nt);
}

/* Channel c's mean and 1 / sqrt(var + eps): the batch's (updating the
 * running statistics) from the merged sums in training, else the running
 * ones; saved for backward; fa[c], fb[c] the affine map they give. */
static void bn_finish_channel(const nns_exec_node *e, int64_t c, int training, double dm, double v, int64_t M,
                              float *fa, float *fb) {
    const batchnorm_params *p = e->params;
    const float *scale = nns_tv_cf32(e->in[1]), *bias = nns_tv_cf32(e->in[2]);
    float *rmean = nns_tv_f32(e->in[3]), *rvar = nns_tv_f32(e->in[4]);
    const int64_t C = nns_tv_numel(e->in[1]);
    float mean, inv;
    if (training) {
        if (v < 0.0) v = 0.0;
        const double var = v / (double)M, unbiased = M > 1 ? v / (double)(M - 1) : var;
        mean = (float)dm;
        inv = (float)(1.0 / sqrt(var + (double)p->eps));
        rmean[c] = rmean[c] * p->momentum + mean * (1.0f - p->momentum);
        rvar[c] = rvar[c] * p->momentum + (float)unbiased * (1.0f - p->momentum);
    } else {
        mean = rmean[c];
        inv = bn_inv_std(rvar[c], p->eps);
    }
    if (e->state) {
        ((float *)e->state)[c] = mean;
        ((float *)e->state)[C + c] = inv;
    }
    fa[c] = scale[c] * inv;
    fb[c] = bias[c] - mean * fa[c];
}

static void batchnorm_forward(nns_exec_node *e) {
    int64_t N, C, S;
    bn_geometry(e, &N, &C, &S);
    const float *x = nns_tv_cf32(e->in[0]);
    const int act = e->epi.out ? e->epi.act : NNS_FUSE_ACT_NONE;
    float *y = act ? nns_tv_f32(e->epi.out) : nns_tv_f32(e->out[0]);
    const int64_t CS = C * S;
    const int training = e->training && e->state, by_channel = S >= BN_CHANNEL_ROW;
    const nns_kernels *k = e->kern;
    double *ds = e->work, *dv = ds + C;
    float *fa = (float *)(dv + C), *fb = fa + C;
#pragma omp parallel if (N * C * S > NNS_OMP_MIN_ELEMS && C > 1)
    {
        int64_t c0, c1;
        bn_channels(C, &c0, &c1);
        for (int64_t c = c0; c < c1; c++) ds[c] = dv[c] = 0.0;
        for (int64_t nn = 0; training && !by_channel && nn < N; nn++)
            for (int64_t c = c0; c < c1; c++) bn_merge_row(k, x + nn * CS + c * S, nn, S, &ds[c], &dv[c]);
        for (int64_t c = c0; c < c1; c++) {
            for (int64_t nn = 0; training && by_channel && nn < N; nn++)
                bn_merge_row(k, x + nn * CS + c * S, nn, S, &ds[c], &dv[c]);
            bn_finish_channel(e, c, training, ds[c], dv[c], N * S, fa, fb);
            for (int64_t nn = 0; by_channel && nn < N; nn++)
                k->f32_bn_apply(x + nn * CS + c * S, y + nn * CS + c * S, S, fa[c], fb[c], act, e->epi.lo, e->epi.hi);
        }
        for (int64_t nn = 0; !by_channel && nn < N; nn++)
            for (int64_t c = c0; c < c1; c++)
                k->f32_bn_apply(x + nn * CS + c * S, y + nn * CS + c * S, S, fa[c], fb[c], act, e->epi.lo, e->epi.hi);
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
            e->kern->f32_bn_apply(x + o, z + o, S, a, b, NNS_FUSE_ACT_NONE, 0.0f, 0.0f);
            if (gz && gy)
                for (int64_t i = 0; i < S; i++) {
                    const float zz = z[o + i];
                    const int m = act == NNS_FUSE_ACT_RELU ? zz > 0.0f : (zz >= lo) & (zz <= hi);
                    gz[o + i] = 0.0f + nns_selectf(m, gy[o + i], 0.0f);
                }
        }
    }
}

/* Channel c's coefficients for f32_bn_grad_sums / f32_bn_grad_row (the
 * forward's z = x * za + zb recomputes a fused activation's mask); mdy and
 * mdyx stay 0 until the sums are known. */
static nns_bn_row bn_grad_coef(const nns_exec_node *e, int64_t c, int act) {
    const float *scale = nns_tv_cf32(e->in[1]), *bias = nns_tv_cf32(e->in[2]);
    const float *smean = e->state, *sinv = smean + nns_tv_numel(e->in[1]);
    nns_bn_row r = {.mean = smean[c], .inv = sinv[c], .lo = e->epi.lo, .hi = e->epi.hi, .act = act,
                    .training = e->training, .overwrite = (int)(e->grad_overwrite & 1u)};
    r.za = r.k = scale[c] * r.inv;
    r.zb = bias[c] - r.mean * r.za;
    return r;
}

/* Channel c's sums done: the scale's and bias's gradients, and the means
 * the data gradient subtracts (0 with running statistics) into r. */
static void bn_grad_finish(const nns_exec_node *e, int64_t c, double *sdy, double *sdyx, int64_t M, nns_bn_row *r) {
    float *gscale = e->in[1]->grad, *gbias = e->in[2]->grad;
    sdyx[c] *= r->inv;
    if (gscale) gscale[c] += (float)sdyx[c];
    if (gbias) gbias[c] += (float)sdy[c];
    r->mdy = e->training ? (float)(sdy[c] / (double)M) : 0.0f;
    r->mdyx = e->training ? (float)(sdyx[c] / (double)M) : 0.0f;
}

/* One row's two sums (f32_bn_grad_sums) added to its channel's. */
static void bn_grad_sum_row(const nns_kernels *k, const float *g, const float *x, int64_t S, const nns_bn_row *r,
                            double *sdy, double *sdyx) {
    float a, b;
    k->f32_bn_grad_sums(g, x, S, r, &a, &b);
    *sdy += a;
    *sdyx += b;
}

/* The sums over each channel's rows, then the rows' data gradient
 * (f32_bn_grad_row), in BN_CHANNEL_ROW's memory order. */
static void batchnorm_backward(nns_exec_node *e) {
    const int act = e->epi.out ? e->epi.act : NNS_FUSE_ACT_NONE;
    const float *gy = act ? e->epi.out->grad : e->out[0]->grad;
    if (!gy || !e->state) return;
    int64_t N, C, S;
    bn_geometry(e, &N, &C, &S);
    const float *x = nns_tv_cf32(e->in[0]);
    float *gx = e->in[0]->grad;
    const int64_t M = N * S, CS = C * S;
    const int by_channel = S >= BN_CHANNEL_ROW;
    const nns_kernels *k = e->kern;
    double *sdy = e->work, *sdyx = sdy + C;
    nns_bn_row *rc = (nns_bn_row *)(sdyx + C); /* 8-byte aligned, as are its floats and ints */
#pragma omp parallel if (N * C * S > NNS_OMP_MIN_ELEMS && C > 1)
    {
        int64_t c0, c1;
        bn_channels(C, &c0, &c1);
        for (int64_t c = c0; c < c1; c++) {
            sdy[c] = sdyx[c] = 0.0;
            rc[c] = bn_grad_coef(e, c, act);
        }
        for (int64_t c = c0; by_channel && c < c1; c++) { /* channel by channel */
            for (int64_t nn = 0; nn < N; nn++)
                bn_grad_sum_row(k, gy + nn * CS + c * S, x + nn * CS + c * S, S, &rc[c], &sdy[c], &sdyx[c]);
            bn_grad_finish(e, c, sdy, sdyx, M, &rc[c]);
            for (int64_t nn = 0; gx && nn < N; nn++)
                k->f32_bn_grad_row(x + nn * CS + c * S, gy + nn * CS + c * S, gx + nn * CS + c * S, S, &rc[c]);
        }
        for (int64_t nn = 0; !by_channel && nn < N; nn++) /* images outer */
            for (int64_t c = c0; c < c1; c++)
                bn_grad_sum_row(k, gy + nn * CS + c * S, x + nn * CS + c * S, S, &rc[c], &sdy[c], &sdyx[c]);
        for (int64_t c = c0; !by_channel && c < c1; c++) bn_grad_finish(e, c, sdy, sdyx, M, &rc[c]);
        for (int64_t nn = 0; !by_channel && gx && nn < N; nn++)
            for (int64_t c = c0; c < c1; c++)
                k->f32_bn_grad_row(x + nn * CS + c * S, gy + nn * CS + c * S, gx + nn * CS + c * S, S, &rc[c]);
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
