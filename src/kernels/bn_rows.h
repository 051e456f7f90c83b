/* bn_rows.h — the row loops of BatchNormalization's training (the f32_bn_*
 * families of kernels.h), written once on GCC vector types of BN_VW floats
 * and included by the reference (BN_VW 4) and by each ISA's file (8 for
 * AVX2, 16 for AVX-512), which define BN_VW and BN_NAME(family) first.
 *
 * Element-wise results are the same operations in the same order in every
 * variant (ISO C: no multiply-add is fused), so f32_bn_apply and
 * f32_bn_grad_row give the reference's bits, and a Relu or Clip mask
 * recomputed in a backward kernel matches the forward's; a row's last
 * floats go through one padded vector (masked loads and stores). Row sums keep two
 * accumulators of BN_VW lanes each, lane k summing elements k, k + 2*BN_VW,
 * ..., then (wider than 4) the rest by a vector and a padded vector, (4:
 * the reference) one by one, then the lanes in a fixed tree: the order,
 * and so the rounding, depends on BN_VW only. A 7x7 plane (49 floats) had
 * taken 17 scalar steps a row at 16 lanes, and its layers' rows ran slower
 * than on 4. */
#include <string.h>

#include "kernels/kernels.h"

typedef float bn_vf __attribute__((vector_size(BN_VW * 4)));
typedef int32_t bn_vi __attribute__((vector_size(BN_VW * 4)));

static inline bn_vf bn_load(const float *p) {
    bn_vf v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void bn_store(float *p, bn_vf v) { memcpy(p, &v, sizeof v); }

static inline bn_vf bn_splat(float s) { return (bn_vf){0} + s; }

/* The first n < BN_VW floats at p, the other lanes `pad`; and the first n
 * lanes of v stored at p. An ISA's file may define BN_LOAD_N and
 * BN_STORE_N (masked loads and stores); else through a local copy. */
static inline bn_vf bn_load_n(const float *p, int64_t n, float pad) {
#ifdef BN_LOAD_N
    return BN_LOAD_N(p, n, pad);
#else
    bn_vf v = bn_splat(pad);
    memcpy(&v, p, (size_t)n * sizeof(float));
    return v;
#endif
}

static inline void bn_store_n(float *p, bn_vf v, int64_t n) {
#ifdef BN_STORE_N
    BN_STORE_N(p, v, n);
#else
    memcpy(p, &v, (size_t)n * sizeof(float));
#endif
}

/* The lanes of a and b summed: on 4 lanes (the reference) pairwise,
 * ((a0 + a1) + (a2 + a3)) + ((b0 + b1) + (b2 + b3)); wider, a + b folded in
 * halves (lane i plus lane i + w, w = BN_VW / 2, ..., 1) by the ISA
 * file's BN_REDUCE, in registers (a 7x7 plane's row at 16 lanes had taken
 * twice the reference's time with the fold in memory). */
static inline float bn_hsum(bn_vf a, bn_vf b) {
#if BN_VW == 4
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((b[0] + b[1]) + (b[2] + b[3]));
#else
    return BN_REDUCE(a + b); /* the ISA's file: its shuffles */
#endif
}

/* a where m is set, else b (bitwise). */
static inline bn_vf bn_sel(bn_vi m, bn_vf a, bn_vf b) {
    bn_vi ai, bi;
    memcpy(&ai, &a, sizeof ai);
    memcpy(&bi, &b, sizeof bi);
    ai = (ai & m) | (bi & ~m);
    bn_vf r;
    memcpy(&r, &ai, sizeof r);
    return r;
}

/* bn_act_s lane by lane (the same results for NaN and -0). */
static inline bn_vf bn_act_v(bn_vf z, int act, float lo, float hi) {
    if (act == 1) return bn_sel(z > 0.0f, z, bn_splat(0.0f));
    if (act == 2) {
        const bn_vf l = bn_splat(lo), h = bn_splat(hi), v = bn_sel(z < l, l, z);
        return bn_sel(v > h, h, v);
    }
    return z;
}

static inline float bn_act_s(float z, int act, float lo, float hi) {
    if (act == 1) return z > 0.0f ? z : 0.0f;
    if (act == 2) {
        const float v = z < lo ? lo : z;
        return v > hi ? hi : v;
    }
    return z;
}

/* The gradient behind the activation, act'(z) * g, plus 0 (-0 becomes
 * +0, as the activation's backward into zeros writes it). */
static inline bn_vf bn_grad_v(bn_vf z, bn_vf g, int act, float lo, float hi) {
    if (act == 1) return 0.0f + bn_sel(z > 0.0f, g, bn_splat(0.0f));
    if (act == 2) return 0.0f + bn_sel((z >= lo) & (z <= hi), g, bn_splat(0.0f));
    return g;
}

static inline float bn_grad_s(float z, float g, int act, float lo, float hi) {
    if (act == 1) return 0.0f + (z > 0.0f ? g : 0.0f);
    if (act == 2) return 0.0f + (((z >= lo) & (z <= hi)) ? g : 0.0f);
    return g;
}

void BN_NAME(f32_bn_stats)(const float *x, int64_t n, double *mean, double *m2) {
    bn_vf a0 = {0}, a1 = {0};
    int64_t i = 0;
    for (; i + 2 * BN_VW <= n; i += 2 * BN_VW) {
        a0 += bn_load(x + i);
        a1 += bn_load(x + i + BN_VW);
    }
    int64_t t = i; /* the tail from t: by a vector and a padded one, or (the reference) one by one */
#if BN_VW > 4
    if (t + BN_VW <= n) a0 += bn_load(x + t), t += BN_VW;
    if (t < n) a1 += bn_load_n(x + t, n - t, 0.0f), t = n;
#endif
    float s = 0.0f;
    for (; t < n; t++) s += x[t];
    const double rm = (double)(s + bn_hsum(a0, a1)) / (double)n;
    const float fm = (float)rm;
    bn_vf b0 = {0}, b1 = {0};
    for (i = 0; i + 2 * BN_VW <= n; i += 2 * BN_VW) {
        const bn_vf d0 = bn_load(x + i) - fm, d1 = bn_load(x + i + BN_VW) - fm;
        b0 += d0 * d0;
        b1 += d1 * d1;
    }
#if BN_VW > 4
    if (i + BN_VW <= n) {
        const bn_vf d0 = bn_load(x + i) - fm;
        b0 += d0 * d0;
        i += BN_VW;
    }
    if (i < n) {
        const bn_vf d1 = bn_load_n(x + i, n - i, fm) - fm; /* the padding's deviations are 0 */
        b1 += d1 * d1;
        i = n;
    }
#endif
    float q = 0.0f;
    for (; i < n; i++) q += (x[i] - fm) * (x[i] - fm);
    const double dd = rm - (double)fm;
    const double v = (double)(q + bn_hsum(b0, b1)) - (double)n * dd * dd;
    *mean = rm;
    *m2 = v < 0.0 ? 0.0 : v;
}

static inline __attribute__((always_inline)) void bn_apply_act(const float *x, float *y, int64_t n, float a, float b,
                                                              int act, float lo, float hi) {
    int64_t i = 0;
    for (; i + BN_VW <= n; i += BN_VW) bn_store(y + i, bn_act_v(bn_load(x + i) * a + b, act, lo, hi));
    if (i < n) bn_store_n(y + i, bn_act_v(bn_load_n(x + i, n - i, 0.0f) * a + b, act, lo, hi), n - i);
}

void BN_NAME(f32_bn_apply)(const float *x, float *y, int64_t n, float a, float b, int act, float lo, float hi) {
    if (act == 1) bn_apply_act(x, y, n, a, b, 1, lo, hi);
    else if (act == 2) bn_apply_act(x, y, n, a, b, 2, lo, hi);
    else bn_apply_act(x, y, n, a, b, 0, lo, hi);
}

static inline __attribute__((always_inline)) void bn_grad_sums_act(const float *g, const float *x, int64_t n,
                                                                  const nns_bn_row *r, int act, float *sg,
                                                                  float *sgx) {
    bn_vf a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
    const float m = r->mean, za = r->za, zb = r->zb, lo = r->lo, hi = r->hi;
    int64_t i = 0;
    for (; i + 2 * BN_VW <= n; i += 2 * BN_VW) {
        const bn_vf x0 = bn_load(x + i), x1 = bn_load(x + i + BN_VW);
        const bn_vf g0 = bn_grad_v(x0 * za + zb, bn_load(g + i), act, lo, hi);
        const bn_vf g1 = bn_grad_v(x1 * za + zb, bn_load(g + i + BN_VW), act, lo, hi);
        a0 += g0;
        a1 += g1;
        b0 += g0 * (x0 - m);
        b1 += g1 * (x1 - m);
    }
#if BN_VW > 4
    for (int h = 0; h < 2 && i < n; h++) { /* a vector, then one padded with zero gradients */
        const int64_t w = n - i < BN_VW ? n - i : BN_VW;
        const bn_vf xv = bn_load_n(x + i, w, 0.0f);
        const bn_vf gv = bn_grad_v(xv * za + zb, bn_load_n(g + i, w, 0.0f), act, lo, hi);
        a0 += gv;
        b0 += gv * (xv - m);
        i += w;
    }
#endif
    float s1 = 0.0f, s2 = 0.0f;
    for (; i < n; i++) {
        const float gg = bn_grad_s(x[i] * za + zb, g[i], act, lo, hi);
        s1 += gg;
        s2 += gg * (x[i] - m);
    }
    *sg = s1 + bn_hsum(a0, a1);
    *sgx = s2 + bn_hsum(b0, b1);
}

void BN_NAME(f32_bn_grad_sums)(const float *g, const float *x, int64_t n, const nns_bn_row *r, float *sg,
                               float *sgx) {
    if (r->act == 1) bn_grad_sums_act(g, x, n, r, 1, sg, sgx);
    else if (r->act == 2) bn_grad_sums_act(g, x, n, r, 2, sg, sgx);
    else bn_grad_sums_act(g, x, n, r, 0, sg, sgx);
}

static inline __attribute__((always_inline)) void bn_grad_row_act(const float *x, const float *g, float *gx,
                                                                 int64_t n, const nns_bn_row *r, int act, int tr,
                                                                 int ow) {
    const float m = r->mean, inv = r->inv, za = r->za, zb = r->zb, k = r->k, mdy = r->mdy, mdyx = r->mdyx;
    const float lo = r->lo, hi = r->hi;
    int64_t i = 0;
    for (; i + BN_VW <= n; i += BN_VW) {
        const bn_vf xv = bn_load(x + i), gg = bn_grad_v(xv * za + zb, bn_load(g + i), act, lo, hi);
        const bn_vf d = tr ? k * (gg - mdy - (xv - m) * inv * mdyx) : k * gg;
        bn_store(gx + i, (ow ? bn_splat(0.0f) : bn_load(gx + i)) + d);
    }
    if (i < n) {
        const int64_t w = n - i;
        const bn_vf xv = bn_load_n(x + i, w, 0.0f), gg = bn_grad_v(xv * za + zb, bn_load_n(g + i, w, 0.0f), act, lo, hi);
        const bn_vf d = tr ? k * (gg - mdy - (xv - m) * inv * mdyx) : k * gg;
        bn_store_n(gx + i, (ow ? bn_splat(0.0f) : bn_load_n(gx + i, w, 0.0f)) + d, w);
    }
}

/* The twelve (activation, training, overwrite) cases, each with constants. */
void BN_NAME(f32_bn_grad_row)(const float *x, const float *g, float *gx, int64_t n, const nns_bn_row *r) {
    const int act = r->act == 1 || r->act == 2 ? r->act : 0, tr = !!r->training, ow = !!r->overwrite;
#define BN_CASE(A, T, W) \
    case A * 4 + T * 2 + W: bn_grad_row_act(x, g, gx, n, r, A, T, W); break
    switch (act * 4 + tr * 2 + ow) {
        BN_CASE(0, 0, 0); BN_CASE(0, 0, 1); BN_CASE(0, 1, 0); BN_CASE(0, 1, 1);
        BN_CASE(1, 0, 0); BN_CASE(1, 0, 1); BN_CASE(1, 1, 0); BN_CASE(1, 1, 1);
        BN_CASE(2, 0, 0); BN_CASE(2, 0, 1); BN_CASE(2, 1, 0); default: bn_grad_row_act(x, g, gx, n, r, 2, 1, 1); break;
    }
#undef BN_CASE
}
