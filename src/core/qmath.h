/*
 * qmath.h — the one quantization rounding rule, inline for ops and kernels
 * (the public nns_quantize_value and nns_requantize of nnslim/quant.h call
 * these). ONNX QuantizeLinear: q = saturate(round_half_to_even(v) + zp) to
 * qmin..qmax, v = x / scale; a NaN gives zp (the real value 0).
 * Requantization is the same rule on an int32 accumulator times its float
 * multiplier (input scale * weight scale / output scale).
 * 4-bit packing (ONNX INT4/UINT4): two values per byte, element 2i in the
 * low nibble of byte i, element 2i+1 in the high one (0 past an odd end);
 * nns_pack_4bit / nns_unpack_4bit and the ONNX reader and writer use these.
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

/* n 4-bit values (one per byte: int8_t -8..7 or uint8_t 0..15; the low
 * nibble of either is its 4-bit form) into ceil(n / 2) packed bytes. */
static inline void nns_q_pack4(const uint8_t *q, int64_t n, uint8_t *packed) {
    for (int64_t i = 0; i < n; i += 2)
        packed[i / 2] = (uint8_t)((q[i] & 0xFu) | (i + 1 < n ? (q[i + 1] & 0xFu) << 4 : 0u));
}

/* Element i's value from its packed byte (byte i / 2), sign-extended when
 * is_signed. */
static inline int32_t nns_q_nibble(unsigned byte, int64_t i, int is_signed) {
    const int32_t v = (int32_t)((byte >> (i % 2 ? 4 : 0)) & 0xFu);
    return is_signed && v >= 8 ? v - 16 : v;
}

#endif
