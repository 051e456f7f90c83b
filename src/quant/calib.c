/*
 * calib.c — calibration histograms and the ranges chosen from them
 * (nnslim/quant.h): min/max, percentile, entropy (the Kullback-Leibler
 * threshold search of TensorRT's calibrator) and least squared error.
 *
 * The histogram has NNS_CALIB_BINS bins over [-range, range), range a power
 * of two, so its memory is fixed whatever the number of samples. Bin k holds
 * [-range + k w, -range + (k + 1) w), w = 2 range / NNS_CALIB_BINS, a power
 * of two too: binning multiplies by 1 / w exactly, and growing the range by
 * 2^j moves every old bin wholly into one new bin.
 */
#include <math.h>
#include <string.h>

#include "core/qmath.h"
#include "nnslim/quant.h"

enum { NB = NNS_CALIB_BINS, HALF = NNS_CALIB_BINS / 2, ENTROPY_BINS = 2048 };
_Static_assert(NNS_CALIB_BINS % 4 == 0, "bins must pair up when the range doubles");

void nns_calib_hist_init(nns_calib_hist *h) {
    memset(h, 0, sizeof *h);
    h->min = INFINITY;
    h->max = -INFINITY;
}

/* Add src (bins over [-r, r)) into dst (bins over [-R, R), R = r 2^j):
 * each old bin lies wholly in the new bin of its left edge. */
static void add_rebinned(uint64_t *dst, double R, const uint64_t *src, double r) {
    const double w = 2 * r / NB, inv_W = NB / (2 * R);
    for (int k = 0; k < NB; k++) {
        if (!src[k]) continue;
        int64_t j = (int64_t)floor((R - r + k * w) * inv_W);
        j = j < 0 ? 0 : j >= NB ? NB - 1 : j;
        dst[j] += src[k];
    }
}

/* Double the range in place: bins 2m and 2m + 1 become bin NB/4 + m. The
 * lower half's targets lie at or above their sources and the upper half's at
 * or below, so walking each half away from the middle reads every bin
 * before it is written. */
static void double_range(nns_calib_hist *h) {
    uint64_t *c = h->count;
    for (int m = NB / 4 - 1; m >= 0; m--) {
        const uint64_t v = c[2 * m] + c[2 * m + 1];
        c[NB / 4 + m] = v;
    }
    for (int m = NB / 4; m < NB / 2; m++) {
        const uint64_t v = c[2 * m] + c[2 * m + 1];
        c[NB / 4 + m] = v;
    }
    memset(c, 0, NB / 4 * sizeof *c);
    memset(c + 3 * NB / 4, 0, NB / 4 * sizeof *c);
    h->range *= 2;
}

/* Make h's range R (a power of two, at least its range): the counts move. */
static void set_range(nns_calib_hist *h, double R) {
    if (h->range == 0) {
        h->range = R;
        h->count[HALF] += h->zeros_before;
        h->zeros_before = 0;
        return;
    }
    while (h->range < R) double_range(h);
}

/* The smallest power of two above a (> 0). */
static double pow2_above(double a) {
    int e;
    frexp(a, &e); /* a = m 2^e, 0.5 <= m < 1 */
    return ldexp(1.0, e);
}

void nns_calib_hist_add(nns_calib_hist *h, const float *x, int64_t n) {
    float lo = INFINITY, hi = -INFINITY;
    uint64_t fin = 0, zeros = 0;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        if (!isfinite(v)) continue;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
        fin++;
        zeros += v == 0;
    }
    h->zeros += zeros;
    h->nonfinite += (uint64_t)n - fin;
    if (!fin) return;
    h->n += fin;
    h->min = lo < h->min ? lo : h->min;
    h->max = hi > h->max ? hi : h->max;
    const double amax = -(double)lo > hi ? -(double)lo : (double)hi;
    if (amax > 0 && amax >= h->range) set_range(h, pow2_above(amax));
    if (h->range == 0) { /* every value so far is 0 */
        h->zeros_before += fin;
        return;
    }
    const double R = h->range, inv_w = NB / (2 * R);
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        if (!isfinite(v)) continue;
        int64_t k = (int64_t)((v + R) * inv_w);
        h->count[k < 0 ? 0 : k >= NB ? NB - 1 : k]++;
    }
}

void nns_calib_hist_merge(nns_calib_hist *a, const nns_calib_hist *b) {
    if (b->range > a->range) set_range(a, b->range);
    if (a->range == 0)
        a->zeros_before += b->zeros_before;
    else if (b->range == 0)
        a->count[HALF] += b->zeros_before;
    else
        add_rebinned(a->count, a->range, b->count, b->range);
    a->n += b->n;
    a->zeros += b->zeros;
    a->nonfinite += b->nonfinite;
    a->min = b->min < a->min ? b->min : a->min;
    a->max = b->max > a->max ? b->max : a->max;
}

/* ---- Ranges ---- */

/* The histogram of |x|: mag[j] counts (j w, (j + 1) w], j < HALF. */
static void fold(const nns_calib_hist *h, uint64_t *mag) {
    for (int j = 0; j < HALF; j++) mag[j] = h->count[HALF + j] + h->count[HALF - 1 - j];
}

/* The q-quantile (0 <= q <= 1) of n bins of width w from x0, linear within
 * a bin. */
static double quantile(const uint64_t *c, int n, double x0, double w, double q) {
    double total = 0;
    for (int k = 0; k < n; k++) total += (double)c[k];
    const double target = q * total;
    double cum = 0;
    for (int k = 0; k < n; k++) {
        if (c[k] && cum + (double)c[k] >= target) return x0 + (k + (target - cum) / (double)c[k]) * w;
        cum += (double)c[k];
    }
    return x0 + n * w;
}

/* KL(P || Q) for clipping |x| at bin i with `levels` levels (TensorRT): P is
 * mag[0..i) with everything beyond added to bin i - 1; Q spreads each
 * level's sum of mag[0..i) evenly over its non-empty bins; each is
 * normalized to sum 1. mag[i - 1] > 0, so Q > 0 wherever P > 0. */
static double kl_at(const uint64_t *mag, int n, int i, int levels, double total) {
    double outliers = 0;
    for (int k = i; k < n; k++) outliers += (double)mag[k];
    double kl = 0;
    for (int j = 0; j < levels; j++) {
        const int a = (int)((int64_t)j * i / levels), b = (int)((int64_t)(j + 1) * i / levels);
        double sum = 0;
        int nz = 0;
        for (int k = a; k < b; k++) {
            sum += (double)mag[k];
            nz += mag[k] > 0;
        }
        for (int k = a; k < b; k++) {
            const double p = (double)mag[k] + (k == i - 1 ? outliers : 0);
            if (p <= 0) continue;
            /* P = p / total, Q = (sum / nz) / (total - outliers) */
            kl += p / total * log(p * (total - outliers) / (total * (sum / nz)));
        }
    }
    return kl;
}

/* The best candidate bin i in [from, to] at this stride (mag[i - 1] > 0). */
static int kl_search(const uint64_t *mag, int n, int from, int to, int stride, int levels, double total) {
    double best = INFINITY;
    int best_i = n;
    for (int i = from; i <= to; i += stride) {
        if (!mag[i - 1]) continue;
        const double kl = kl_at(mag, n, i, levels, total);
        if (kl < best) best = kl, best_i = i;
    }
    return best_i;
}

/* The entropy threshold on |x| (mag: HALF bins of width w, merged here in
 * place): every bin from
 * `levels` up, or, over many bins, 1024 spread candidates and then every
 * bin around the best. Exact zeros are left out of mag[0] by the caller:
 * every range represents 0 exactly, and a spike of zeros (a ReLU's output)
 * would otherwise make the level that holds it dominate the divergence and
 * push the threshold down. */
static double entropy_threshold(uint64_t *mag, double w, int levels) {
    int n = HALF;
    while (n > 0 && mag[n - 1] == 0) n--;
    /* TensorRT's search runs on 2048 bins up to max |x|: ours span [0, R),
     * R the power of two above, so up to 8192 bins would hold the data, and
     * the finer the bins, the more the divergence favours a small threshold
     * (each level spreads Q over more bins). Merge f bins into one, in place. */
    if (n > ENTROPY_BINS) {
        const int f = (n + ENTROPY_BINS - 1) / ENTROPY_BINS;
        int m = 0;
        for (int k = 0; k < n; k += f, m++) {
            uint64_t sum = 0;
            for (int j = k; j < k + f && j < n; j++) sum += mag[j];
            mag[m] = sum;
        }
        n = m;
        w *= f;
    }
    if (n <= levels) return n * w;
    double total = 0;
    for (int k = 0; k < n; k++) total += (double)mag[k];
    const int stride = (n - levels) / 1024 + 1;
    int i = kl_search(mag, n, levels, n, stride, levels, total);
    if (stride > 1) {
        const int lo = i - stride < levels ? levels : i - stride, hi = i + stride > n ? n : i + stride;
        i = kl_search(mag, n, lo, hi, 1, levels, total);
    }
    return i * w;
}

/* Squared error of quantizing the histogram's bin centres to [lo, hi]. */
static double sq_error(const nns_calib_hist *h, float lo, float hi, nns_qtype t, int symmetric) {
    float s;
    int32_t zp, qmin, qmax;
    if (nns_qparams_choose(lo, hi, t, symmetric, &s, &zp) || nns_qtype_range(t, &qmin, &qmax)) return INFINITY;
    const double w = 2 * h->range / NB;
    double err = 0;
    for (int k = 0; k < NB; k++) {
        if (!h->count[k]) continue;
        const float c = (float)(-h->range + (k + 0.5) * w);
        const float d = (float)(nns_q_round(c / s, zp, qmin, qmax) - zp) * s;
        err += (double)h->count[k] * ((double)d - c) * ((double)d - c);
    }
    return err;
}

/* The clipping threshold t of least squared error, the range being the
 * data's clipped to [-t, t]: t from 1/256 to all of max(|min|, |max|). */
static double mse_threshold(const nns_calib_hist *h, nns_qtype t, int symmetric) {
    const double amax = fmax(-(double)h->min, (double)h->max);
    enum { STEPS = 256 };
    double best = INFINITY, best_t = amax;
    for (int k = STEPS; k >= 1; k--) {
        const double th = amax * k / STEPS;
        const double e = sq_error(h, (float)fmax(h->min, -th), (float)fmin(h->max, th), t, symmetric);
        if (e < best) best = e, best_t = th;
    }
    return best_t;
}

nns_status nns_calib_range(const nns_calib_hist *h, nns_calib_method m, double percentile, nns_qtype t,
                           int symmetric, float *lo, float *hi) {
    int32_t qmin, qmax;
    nns_status st = nns_qtype_range(t, &qmin, &qmax);
    if (st) return st;
    if (m == NNS_CALIB_PERCENTILE && !(percentile > 0 && percentile <= 100))
        return nns_error(NNS_STATUS_INVALID_ARG, "calibration percentile %g is not in (0, 100]", percentile);
    if (m < NNS_CALIB_MINMAX || m > NNS_CALIB_MSE)
        return nns_error(NNS_STATUS_INVALID_ARG, "calibration method %d is unknown", (int)m);
    *lo = *hi = 0;
    if (h->n == 0 || h->range == 0) return NNS_OK;
    const double dmin = fmin(h->min, 0), dmax = fmax(h->max, 0), w = 2 * h->range / NB;
    double a = dmin, b = dmax;
    uint64_t mag[HALF]; /* 64 KiB */
    if (m == NNS_CALIB_PERCENTILE && !symmetric) {
        a = quantile(h->count, NB, -h->range, w, 1 - percentile / 100);
        b = quantile(h->count, NB, -h->range, w, percentile / 100);
    } else if (m == NNS_CALIB_PERCENTILE || m == NNS_CALIB_ENTROPY) {
        fold(h, mag);
        if (m == NNS_CALIB_ENTROPY) mag[0] -= h->zeros < mag[0] ? h->zeros : mag[0];
        const double th = m == NNS_CALIB_PERCENTILE
                              ? quantile(mag, HALF, 0, w, percentile / 100)
                              : entropy_threshold(mag, w, h->min >= 0 && !symmetric ? 1 << t.bits : 1 << (t.bits - 1));
        a = -th, b = th;
    } else if (m == NNS_CALIB_MSE) {
        const double th = mse_threshold(h, t, symmetric);
        a = -th, b = th;
    }
    *lo = (float)fmin(fmax(a, dmin), 0);
    *hi = (float)fmax(fmin(b, dmax), 0);
    return NNS_OK;
}
