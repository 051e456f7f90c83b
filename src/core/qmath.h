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
    /* round half to even: the default rounding mode, which nnslim never
     * changes (one instruction with SSE4.1, a libm call without). The
     * clamps and the NaN test are selects, not branches: a ReLU's output is
     * zeros and non-zeros in no order, and a branch on r <= qmin mispredicted
     * often enough to make QuantizeLinear 5x slower. */
    float r = __builtin_rintf(v) + (float)zp;
    r = r > (float)qmin ? r : (float)qmin; /* NaN gives qmin here, zp below */
    r = r < (float)qmax ? r : (float)qmax;
    return v == v ? (int32_t)r : zp;
}

static inline int32_t nns_q_requant(int32_t acc, float multiplier, int32_t zp, int32_t qmin, int32_t qmax) {
    return nns_q_round((float)acc * multiplier, zp, qmin, qmax);
}

#endif
