/* test_quant.c — quantization arithmetic (nnslim/quant.h): integer ranges,
 * ONNX's rounding (half to even, saturation, NaN), scale and zero-point
 * choice, per-channel and blocked quantization against their error bound,
 * 4-bit packing, and the calibration histogram (exact re-binning when the
 * range grows or two histograms merge; the four range methods on known
 * distributions). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnslim/arch.h"
#include "nnslim/quant.h"
#include "nnslim/runtime.h"
#include "quant/calibrate.h"
#include "synthdata.h"
#include "testutil.h"

static const nns_qtype S8 = {8, 1}, U8 = {8, 0}, S4 = {4, 1}, U4 = {4, 0};

static uint64_t rng = 12345;
static double uni(void) { /* [0, 1) */
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) * 0x1.0p-53;
}
static double gauss(void) { return sqrt(-2 * log(1 - uni())) * cos(6.283185307179586 * uni()); }

static void ranges(void) {
    int32_t lo, hi;
    CHECK_OK(nns_qtype_range(S8, &lo, &hi));
    CHECK(lo == -128 && hi == 127);
    CHECK_OK(nns_qtype_range(U8, &lo, &hi));
    CHECK(lo == 0 && hi == 255);
    CHECK_OK(nns_qtype_range(S4, &lo, &hi));
    CHECK(lo == -8 && hi == 7);
    CHECK_OK(nns_qtype_range(U4, &lo, &hi));
    CHECK(lo == 0 && hi == 15);
    CHECK(nns_qtype_range((nns_qtype){3, 1}, &lo, &hi) == NNS_STATUS_UNSUPPORTED);
    CHECK(strstr(nns_last_error(), "3 bits") != NULL);
}

static void rounding(void) {
    const float in[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 126.5f, 127.5f, 1000, -1000, -128.5f};
    const int32_t want[] = {0, 2, 2, 0, -2, -2, 0, 126, 127, 127, -128, -128};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        CHECK_MSG(nns_quantize_value(in[i], 0, -128, 127) == want[i], "%g -> %d, want %d", in[i],
                  nns_quantize_value(in[i], 0, -128, 127), want[i]);
    CHECK(nns_quantize_value(NAN, 128, 0, 255) == 128);
    CHECK(nns_quantize_value(INFINITY, 0, -128, 127) == 127);
    CHECK(nns_quantize_value(-INFINITY, 3, 0, 255) == 0);
    CHECK(nns_quantize_value(-130.0f, 128, 0, 255) == 0);
    CHECK(nns_quantize_value(126.5f, 128, 0, 255) == 254);
    CHECK(nns_quantize_value(127.5f, 128, 0, 255) == 255);
    CHECK(nns_quantize_value(-0.5f, 128, 0, 255) == 128);
    CHECK(nns_requantize(5, 0.5f, 0, -128, 127) == 2);  /* 2.5 -> 2 */
    CHECK(nns_requantize(7, 0.5f, 10, -128, 127) == 14); /* 3.5 -> 4, + 10 */
    CHECK(nns_requantize(-1000000, 0.01f, 0, -128, 127) == -128);
}

static void choose(void) {
    float s;
    int32_t zp;
    CHECK_OK(nns_qparams_choose(-1, 3, U8, 0, &s, &zp));
    CHECK_NEAR(s, 4.0 / 255, 1e-9);
    CHECK(zp == 64); /* 0 - round(-1 / (4 / 255)) = round(63.75) */
    CHECK((nns_quantize_value(0 / s, zp, 0, 255) - zp) * s == 0.0f);
    CHECK_OK(nns_qparams_choose(-2, 1, S8, 1, &s, &zp));
    CHECK(s == (float)(2.0 / 127) && zp == 0);
    CHECK_OK(nns_qparams_choose(-2, 1, U8, 1, &s, &zp));
    CHECK(s == (float)(2.0 / 127) && zp == 128);
    CHECK_OK(nns_qparams_choose(2, 5, U8, 0, &s, &zp)); /* widened to [0, 5] */
    CHECK(zp == 0 && s == (float)(5.0 / 255));
    CHECK_OK(nns_qparams_choose(-6, -3, U8, 0, &s, &zp)); /* [-6, 0] */
    CHECK(zp == 255);
    CHECK_OK(nns_qparams_choose(0, 0, S8, 1, &s, &zp));
    CHECK(s == 1 && zp == 0);
    CHECK_OK(nns_qparams_choose(-0.7f, 0.7f, S4, 1, &s, &zp));
    CHECK(s == (float)(0.7f / 7.0) && zp == 0);
    CHECK(nns_qparams_choose(1, -1, S8, 1, &s, &zp) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_qparams_choose(NAN, 1, S8, 1, &s, &zp) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_qparams_choose(0, INFINITY, S8, 1, &s, &zp) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "inf") != NULL);
}

/* Every dequantized value within half a step of the original (a value
 * inside its group's range); dq: a scratch of n floats. */
static void check_bound(const float *x, const void *q, int64_t outer, int64_t d, int64_t inner, int64_t block,
                        nns_qtype t, const float *s, const int32_t *zp, const char *what) {
    const int64_t n = outer * d * inner, nb = block ? (d + block - 1) / block : d;
    float *dq = malloc((size_t)n * sizeof *dq);
    nns_dequantize(q, outer, d, inner, block, t, s, zp, dq);
    int bad = 0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < d; c++)
            for (int64_t i = 0; i < inner; i++) {
                const int64_t k = (o * d + c) * inner + i, g = block ? (o * nb + c / block) * inner + i : c;
                bad += fabsf(dq[k] - x[k]) > 0.5f * s[g] * (1 + 1e-5f);
            }
    CHECK_MSG(bad == 0, "%s: %d values beyond half a step", what, bad);
    free(dq);
}

static void per_channel(void) {
    enum { O = 5, C = 3 * 3 * 3 };
    float w[O * C], s[O];
    int32_t zp[O];
    int8_t q[O * C];
    for (int i = 0; i < O * C; i++) w[i] = (float)(gauss() * (1 + i / C)); /* channels of growing spread */
    CHECK_OK(nns_quantize_axis(w, 1, O, C, S8, 1, s, zp, q));
    for (int o = 0; o < O; o++) {
        float amax = 0;
        for (int i = 0; i < C; i++) amax = fmaxf(amax, fabsf(w[o * C + i]));
        CHECK(s[o] == (float)(amax / 127.0) && zp[o] == 0);
    }
    check_bound(w, q, 1, O, C, 0, S8, s, zp, "conv per channel");
    /* a Gemm B [K, N] quantized per output column: axis 1, outer K */
    enum { K = 7, N = 4 };
    float b[K * N], sb[N];
    int32_t zb[N];
    uint8_t qb[K * N];
    for (int i = 0; i < K * N; i++) b[i] = (float)gauss() + (i % N);
    CHECK_OK(nns_quantize_axis(b, K, N, 1, U8, 0, sb, zb, qb));
    for (int n = 0; n < N; n++) {
        float lo = 0, hi = 0;
        for (int k = 0; k < K; k++) lo = fminf(lo, b[k * N + n]), hi = fmaxf(hi, b[k * N + n]);
        CHECK_NEAR(sb[n], (hi - lo) / 255.0, 1e-6);
    }
    check_bound(b, qb, K, N, 1, 0, U8, sb, zb, "gemm per column");
    w[7] = NAN;
    CHECK(nns_quantize_axis(w, 1, O, C, S8, 1, s, zp, q) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "channel 0") != NULL);
}

static void blocked(void) {
    enum { R = 4, K = 70, BLK = 32, NBK = 3 };
    float x[R * K], s[R * NBK];
    int32_t zp[R * NBK];
    int8_t q[R * K];
    for (int i = 0; i < R * K; i++) x[i] = (float)gauss();
    CHECK_OK(nns_quantize_blocked(x, R, K, 1, BLK, S4, 1, s, zp, q));
    for (int r = 0; r < R; r++) { /* the last block holds 6 values and only their range */
        float amax = 0;
        for (int k = 64; k < K; k++) amax = fmaxf(amax, fabsf(x[r * K + k]));
        CHECK(s[r * NBK + 2] == (float)(amax / 7.0));
    }
    int in_range = 1;
    for (int i = 0; i < R * K; i++) in_range &= q[i] >= -8 && q[i] <= 7;
    CHECK(in_range);
    check_bound(x, q, R, K, 1, BLK, S4, s, zp, "4-bit blocks");
    /* blocks along axis 0 of a [K, 3] weight: inner 3 */
    float y[K * 3], sy[NBK * 3];
    int32_t zy[NBK * 3];
    uint8_t qy[K * 3];
    for (int i = 0; i < K * 3; i++) y[i] = (float)uni() * 4 - 1;
    CHECK_OK(nns_quantize_blocked(y, 1, K, 3, BLK, U8, 0, sy, zy, qy));
    check_bound(y, qy, 1, K, 3, BLK, U8, sy, zy, "u8 blocks, inner 3");
}

static void pack4(void) {
    const int8_t a[] = {1, -1, -8, 7, 0, 3, -5};
    uint8_t p[4], u[7];
    int8_t b[7];
    nns_pack_4bit(a, 7, p);
    CHECK(p[0] == 0xF1 && p[1] == 0x78 && p[2] == 0x30 && p[3] == 0x0B);
    nns_unpack_4bit(p, 7, 1, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    const uint8_t c[] = {15, 0, 3};
    nns_pack_4bit(c, 3, p);
    CHECK(p[0] == 0x0F && p[1] == 0x03);
    nns_unpack_4bit(p, 3, 0, u);
    CHECK(memcmp(c, u, sizeof c) == 0);
}

/* The bin a value lands in when the range is R (the header's layout). */
static int bin_of(float v, double R) {
    int64_t k = (int64_t)floor((v + R) * (NNS_CALIB_BINS / (2 * R)));
    return (int)(k < 0 ? 0 : k >= NNS_CALIB_BINS ? NNS_CALIB_BINS - 1 : k);
}

static void hist_exact(void) {
    enum { N = 3000 };
    static float v[N];
    static nns_calib_hist h, a, b;
    for (int i = 0; i < N; i++) v[i] = i < 500 ? 0.0f : i < 1500 ? (float)(uni() * 0.6 - 0.3) : i < 2999 ? (float)(uni() * 10 - 5) : 100.0f;
    nns_calib_hist_init(&h);
    nns_calib_hist_add(&h, v, 500); /* zeros only: no range yet */
    CHECK(h.range == 0 && h.n == 500);
    nns_calib_hist_add(&h, v + 500, 1000);
    CHECK(h.range == 0.5);
    nns_calib_hist_add(&h, v + 1500, 1499);
    CHECK(h.range == 8);
    nns_calib_hist_add(&h, v + 2999, 1);
    CHECK(h.range == 128 && h.n == N && h.max == 100.0f);
    static uint64_t want[NNS_CALIB_BINS];
    for (int i = 0; i < N; i++) want[bin_of(v[i], 128)]++;
    CHECK(memcmp(want, h.count, sizeof want) == 0);
    /* two histograms of the halves, merged, are the whole one */
    nns_calib_hist_init(&a);
    nns_calib_hist_init(&b);
    nns_calib_hist_add(&a, v + 1500, 1500);
    nns_calib_hist_add(&b, v, 1500);
    nns_calib_hist_merge(&b, &a);
    CHECK(memcmp(b.count, h.count, sizeof want) == 0 && b.range == h.range && b.n == h.n && b.min == h.min);
    const float bad[] = {NAN, INFINITY, 1.0f, -INFINITY};
    nns_calib_hist_add(&b, bad, 4);
    CHECK(b.nonfinite == 3 && b.n == N + 1);
}

/* Mean squared error over samples x of quantizing them to [lo, hi]. */
static double sample_mse(const float *x, int n, float lo, float hi, nns_qtype t, int symmetric) {
    float s;
    int32_t zp, qmin, qmax;
    nns_qparams_choose(lo, hi, t, symmetric, &s, &zp);
    nns_qtype_range(t, &qmin, &qmax);
    double e = 0;
    for (int i = 0; i < n; i++) {
        const double d = (nns_quantize_value(x[i] / s, zp, qmin, qmax) - zp) * (double)s - x[i];
        e += d * d;
    }
    return e / n;
}

static void calib_methods(void) {
    enum { N = 200000 };
    float *x = malloc(N * sizeof *x);
    for (int i = 0; i < N; i++) x[i] = i < 10 ? 50.0f : (float)gauss();
    static nns_calib_hist h;
    nns_calib_hist_init(&h);
    for (int i = 0; i < N; i += 1000) nns_calib_hist_add(&h, x + i, 1000);
    float lo, hi;
    CHECK_OK(nns_calib_range(&h, NNS_CALIB_MINMAX, 0, S8, 1, &lo, &hi));
    CHECK(hi == 50.0f && lo == h.min);
    /* the top 0.1% of |x|: the 10 outliers and 190 of the normal values,
     * P(|z| > 3.30) = 9.5e-4 */
    CHECK_OK(nns_calib_range(&h, NNS_CALIB_PERCENTILE, 99.9, S8, 1, &lo, &hi));
    CHECK_MSG(fabsf(hi - 3.30f) < 0.1f && lo == -hi, "percentile of |x|: %g %g", lo, hi);
    CHECK_OK(nns_calib_range(&h, NNS_CALIB_PERCENTILE, 99.9, U8, 0, &lo, &hi));
    /* each tail's 0.1%: P(z > 3.10) = 9.5e-4 above, P(z < -3.09) = 1e-3 below */
    CHECK_MSG(fabsf(hi - 3.10f) < 0.1f && fabsf(lo + 3.09f) < 0.1f, "two tails: %g %g", lo, hi);
    CHECK_OK(nns_calib_range(&h, NNS_CALIB_ENTROPY, 0, S8, 1, &lo, &hi));
    CHECK_MSG(hi > 2.5f && hi < 10 && lo == fmaxf(-hi, h.min), "entropy threshold %g, %g", lo, hi); /* the outliers clipped */
    /* least squared error keeps the 10 outliers (clipping them costs more
     * than the coarser step): no alternative range does better */
    CHECK_OK(nns_calib_range(&h, NNS_CALIB_MSE, 0, S8, 1, &lo, &hi));
    double best = sample_mse(x, N, lo, hi, S8, 1);
    CHECK_MSG(hi > 40, "mse threshold %g", hi);
    for (float t = 2; t <= 50; t *= 1.25f)
        CHECK_MSG(best <= sample_mse(x, N, -t, t, S8, 1) * 1.02, "mse %g at %g, %g at %g", best, hi,
                  sample_mse(x, N, -t, t, S8, 1), t);
    /* 4 bits of a normal distribution without outliers: the best clip is
     * about 2.5 sigma (Banner et al., ACIQ), well inside max |x| (~4.5) */
    for (int i = 0; i < 10; i++) x[i] = (float)gauss();
    nns_calib_hist_init(&h);
    nns_calib_hist_add(&h, x, N);
    CHECK_OK(nns_calib_range(&h, NNS_CALIB_MSE, 0, S4, 1, &lo, &hi));
    best = sample_mse(x, N, lo, hi, S4, 1);
    CHECK_MSG(hi > 2.0f && hi < 3.2f, "4-bit mse threshold %g", hi);
    CHECK(best < sample_mse(x, N, h.min, h.max, S4, 1) * 0.7);
    for (float t = 1.5f; t <= 4.5f; t += 0.25f) CHECK(best <= sample_mse(x, N, -t, t, S4, 1) * 1.02);
    /* a ReLU's output: one-sided ranges from 0 */
    for (int i = 0; i < N; i++) x[i] = fmaxf(x[i], 0);
    nns_calib_hist_init(&h);
    nns_calib_hist_add(&h, x, N);
    for (int m = NNS_CALIB_MINMAX; m <= NNS_CALIB_MSE; m++) {
        CHECK_OK(nns_calib_range(&h, (nns_calib_method)m, 99.99, U8, 0, &lo, &hi));
        CHECK_MSG(lo == 0 && hi > 2.5f && hi <= 50, "method %d: [%g, %g]", m, lo, hi);
    }
    free(x);
    nns_calib_hist_init(&h);
    CHECK_OK(nns_calib_range(&h, NNS_CALIB_ENTROPY, 0, U8, 0, &lo, &hi));
    CHECK(lo == 0 && hi == 0);
    CHECK(nns_calib_range(&h, NNS_CALIB_PERCENTILE, 0, U8, 0, &lo, &hi) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_calib_range(&h, NNS_CALIB_PERCENTILE, 100.5, U8, 0, &lo, &hi) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "100.5") != NULL);
    CHECK(nns_calib_range(&h, (nns_calib_method)9, 0, U8, 0, &lo, &hi) == NNS_STATUS_INVALID_ARG);
}

/* Calibration over a model: the input's histogram is exactly that of the
 * evenly spaced images, the output's that of the same images run through a
 * session; a value that is not an activation, bad sizes and data that does
 * not fit are refused by name. */
static void calibrate_model(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("lenet5", 7, &g));
    nns_dataset d;
    make_data(&d, 300, 3);
    const int vals[] = {g->inputs[0], g->outputs[0]};
    static nns_calib_hist h[2], want;
    for (int i = 0; i < 2; i++) nns_calib_hist_init(&h[i]);
    int64_t used = 0;
    CHECK_OK(nns_calibrate(g, &d, 100, 32, 2, vals, h, &used));
    CHECK(used == 100 && h[0].n == 100 * 784 && h[1].n == 100 * 10);
    float *x = malloc(100 * 784 * sizeof *x), *y = malloc(100 * 10 * sizeof *y);
    for (int k = 0; k < 100; k++) memcpy(x + k * 784, d.x + k * 3 * 784, 784 * sizeof *x); /* image 3k */
    nns_calib_hist_init(&want);
    nns_calib_hist_add(&want, x, 100 * 784);
    CHECK(memcmp(want.count, h[0].count, sizeof want.count) == 0 && want.min == h[0].min);
    nns_session *s = NULL;
    CHECK_OK(nns_session_create(g, 32, &s));
    CHECK_OK(nns_session_run(s, x, 100, y));
    nns_session_free(s);
    float lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < 1000; i++) lo = fminf(lo, y[i]), hi = fmaxf(hi, y[i]);
    CHECK_NEAR(h[1].min, lo, 1e-4 * (1 + fabsf(lo)));
    CHECK_NEAR(h[1].max, hi, 1e-4 * (1 + fabsf(hi)));
    CHECK_OK(nns_calibrate(g, &d, 5000, 64, 2, vals, h, &used)); /* more than the set: all of it */
    CHECK(used == 300 && h[0].n == 400 * 784);
    CHECK(nns_calibrate(g, &d, 0, 64, 2, vals, h, &used) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "--calib-samples") != NULL && used == 0);
    const int param[] = {g->nodes[0].in[1]};
    CHECK(nns_calibrate(g, &d, 10, 8, 1, param, h, &used) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), g->values[param[0]].name) != NULL);
    d.w = 14; /* the images no longer fit the model */
    CHECK(nns_calibrate(g, &d, 10, 8, 2, vals, h, &used) == NNS_STATUS_SHAPE);
    free(x);
    free(y);
    nns_dataset_free(&d);
    nns_graph_free(g);
}

int main(void) {
    ranges();
    rounding();
    choose();
    per_channel();
    blocked();
    pack4();
    hist_exact();
    calib_methods();
    calibrate_model();
    TEST_MAIN_END();
}
