/*
 * qmath.h — the one quantization rounding rule, inline for ops and kernels
 * (the public nns_quantize_value and nns_requantize of nnslim/quant.h call
 * these). ONNX QuantizeLinear: q = saturate(round_half_to_even(v) + zp) to
 * qmin..qmax, v = x / scale; a NaN gives zp (the real value 0).
 * Requantization is the same rule on an int32 accumulator times its float
 * multiplier (input scale * weight scale / output scale).
 */
#ifndef NNS_CORE_QMATH_H
#define NNS_CORE_QMATH_H

#include <stdint.h>

static inline int32_t nns_q_round(float v, int32_t zp, int32_t qmin, int32_t qmax) {
    if (v != v) return zp;
    /* round half to even: the default rounding mode, which nnslim never
     * changes (one instruction with SSE4.1, a libm call without) */
    const float r = __builtin_rintf(v) + (float)zp;
    if (r <= (float)qmin) return qmin;
    if (r >= (float)qmax) return qmax;
    return (int32_t)r;
}

static inline int32_t nns_q_requant(int32_t acc, float multiplier, int32_t zp, int32_t qmin, int32_t qmax) {
    return nns_q_round((float)acc * multiplier, zp, qmin, qmax);
}

#endif
