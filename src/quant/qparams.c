/*
 * qparams.c — integer ranges, scale and zero-point choice, per-axis and
 * blocked quantization of float arrays, dequantization, 4-bit packing
 * (nnslim/quant.h). The scalar reference that every quantizing path of
 * nnslim agrees with.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "core/qmath.h"
#include "nnslim/quant.h"

int32_t nns_quantize_value(float v, int32_t zp, int32_t qmin, int32_t qmax) {
    return nns_q_round(v, zp, qmin, qmax);
}

int32_t nns_requantize(int32_t acc, float multiplier, int32_t zp, int32_t qmin, int32_t qmax) {
    return nns_q_requant(acc, multiplier, zp, qmin, qmax);
}

nns_status nns_qtype_range(nns_qtype t, int32_t *qmin, int32_t *qmax) {
    if (t.bits != 8 && t.bits != 4)
        return nns_error(NNS_STATUS_UNSUPPORTED, "quantization to %d bits: only 8 and 4 are supported", t.bits);
    const int32_t levels = (int32_t)1 << t.bits;
    *qmin = t.is_signed ? -levels / 2 : 0;
    *qmax = t.is_signed ? levels / 2 - 1 : levels - 1;
    return NNS_OK;
}

nns_status nns_qparams_choose(float lo, float hi, nns_qtype t, int symmetric, float *scale, int32_t *zero_point) {
    int32_t qmin, qmax;
    nns_status st = nns_qtype_range(t, &qmin, &qmax);
    if (st) return st;
    if (!isfinite(lo) || !isfinite(hi) || lo > hi)
        return nns_error(NNS_STATUS_INVALID_ARG, "quantization range [%g, %g] is not a finite interval", lo, hi);
    if (lo > 0) lo = 0;
    if (hi < 0) hi = 0;
    double s;
    int32_t zp;
    if (symmetric) {
        const int32_t half = ((int32_t)1 << (t.bits - 1)) - 1; /* 127, 7 */
        const double amax = -lo > hi ? -(double)lo : (double)hi;
        s = amax / half;
        zp = t.is_signed ? 0 : half + 1;
    } else {
        s = ((double)hi - lo) / (qmax - qmin);
        zp = s > 0 ? qmin - (int32_t)nearbyint(lo / s) : qmin;
        if (zp < qmin) zp = qmin;
        if (zp > qmax) zp = qmax;
    }
    if (!(s > 0)) s = 1.0;
    if (s < FLT_MIN) s = FLT_MIN; /* a subnormal range: keep the scale normal */
    if (s > FLT_MAX) s = FLT_MAX;
    *scale = (float)s;
    *zero_point = zp;
    return NNS_OK;
}

/* Quantize n values at stride `stride` with one scale and zero point chosen
 * from their own range; what names the group in an error. */
static nns_status quantize_group(const float *x, int64_t n, int64_t stride, nns_qtype t, int symmetric,
                                 int32_t qmin, int32_t qmax, float *scale, int32_t *zp, void *q,
                                 const char *what, int64_t index) {
    float lo = 0, hi = 0;
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i * stride];
        if (!isfinite(v))
            return nns_error(NNS_STATUS_INVALID_ARG, "quantization: %s %lld holds %g", what, (long long)index, v);
        if (v < lo) lo = v;
        if (v > hi) hi = v;
    }
    nns_status st = nns_qparams_choose(lo, hi, t, symmetric, scale, zp);
    if (st) return st;
    const float s = *scale;
    for (int64_t i = 0; i < n; i++) {
        const int32_t v = nns_q_round(x[i * stride] / s, *zp, qmin, qmax);
        if (t.is_signed)
            ((int8_t *)q)[i * stride] = (int8_t)v;
        else
            ((uint8_t *)q)[i * stride] = (uint8_t)v;
    }
    return NNS_OK;
}

static int sizes_ok(int64_t outer, int64_t d, int64_t inner, int64_t block) {
    int64_t a;
    return outer >= 1 && d >= 1 && inner >= 1 && block >= 0 && !__builtin_mul_overflow(outer, d, &a) &&
           !__builtin_mul_overflow(a, inner, &a);
}

nns_status nns_quantize_axis(const float *x, int64_t outer, int64_t d, int64_t inner, nns_qtype t,
                             int symmetric, float *scale, int32_t *zero_point, void *q) {
    return nns_quantize_blocked(x, outer, d, inner, 0, t, symmetric, scale, zero_point, q);
}

/* Per axis: channel c's values are the rows x[o, c, :] for every o, one
 * group: its range first, then its values. */
static nns_status quantize_axis_outer(const float *x, int64_t outer, int64_t d, int64_t inner, nns_qtype t,
                                      int symmetric, int32_t qmin, int32_t qmax, float *scale, int32_t *zp,
                                      void *q) {
    for (int64_t c = 0; c < d; c++) {
        float lo = 0, hi = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const float v = x[(o * d + c) * inner + i];
                if (!isfinite(v))
                    return nns_error(NNS_STATUS_INVALID_ARG, "quantization: channel %lld holds %g", (long long)c, v);
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
            }
        nns_status st = nns_qparams_choose(lo, hi, t, symmetric, &scale[c], &zp[c]);
        if (st) return st;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                const int64_t k = (o * d + c) * inner + i;
                const int32_t v = nns_q_round(x[k] / scale[c], zp[c], qmin, qmax);
                if (t.is_signed)
                    ((int8_t *)q)[k] = (int8_t)v;
                else
                    ((uint8_t *)q)[k] = (uint8_t)v;
            }
    }
    return NNS_OK;
}

nns_status nns_quantize_blocked(const float *x, int64_t outer, int64_t d, int64_t inner, int64_t block,
                                nns_qtype t, int symmetric, float *scale, int32_t *zero_point, void *q) {
    int32_t qmin, qmax;
    nns_status st = nns_qtype_range(t, &qmin, &qmax);
    if (st) return st;
    if (!sizes_ok(outer, d, inner, block))
        return nns_error(NNS_STATUS_INVALID_ARG, "quantization: bad sizes [%lld, %lld, %lld] block %lld",
                         (long long)outer, (long long)d, (long long)inner, (long long)block);
    if (block == 0) return quantize_axis_outer(x, outer, d, inner, t, symmetric, qmin, qmax, scale, zero_point, q);
    const int64_t nb = (d + block - 1) / block;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t b = 0; b < nb; b++) {
            const int64_t d0 = b * block, n = d - d0 < block ? d - d0 : block;
            for (int64_t i = 0; i < inner; i++) {
                const int64_t k = (o * d + d0) * inner + i, s = (o * nb + b) * inner + i;
                char *qk = (char *)q + k;
                st = quantize_group(x + k, n, inner, t, symmetric, qmin, qmax, &scale[s], &zero_point[s], qk,
                                    "block", s);
                if (st) return st;
            }
        }
    return NNS_OK;
}

void nns_dequantize(const void *q, int64_t outer, int64_t d, int64_t inner, int64_t block, nns_qtype t,
                    const float *scale, const int32_t *zero_point, float *x) {
    const int64_t nb = block > 0 ? (d + block - 1) / block : d;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t c = 0; c < d; c++)
            for (int64_t i = 0; i < inner; i++) {
                const int64_t k = (o * d + c) * inner + i;
                const int64_t s = block > 0 ? (o * nb + c / block) * inner + i : c;
                const int32_t v = t.is_signed ? ((const int8_t *)q)[k] : ((const uint8_t *)q)[k];
                x[k] = (float)(v - zero_point[s]) * scale[s];
            }
}

void nns_pack_4bit(const void *q, int64_t n, uint8_t *packed) { nns_q_pack4(q, n, packed); }

void nns_unpack_4bit(const uint8_t *packed, int64_t n, int is_signed, void *q) {
    for (int64_t i = 0; i < n; i++) {
        const int32_t v = nns_q_nibble(packed[i / 2], i, is_signed);
        if (is_signed)
            ((int8_t *)q)[i] = (int8_t)v;
        else
            ((uint8_t *)q)[i] = (uint8_t)v;
    }
}
