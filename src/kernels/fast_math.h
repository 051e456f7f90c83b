/*
 * fast_math.h — branch-free scalar float helpers that loops vectorise, and
 * that the SIMD kernels mirror operation for operation (f32_sigmoid): the
 * ops (src/ops/op_util.h) and the kernels share them. Internal: static
 * inline, no state.
 */
#ifndef NNS_FAST_MATH_H
#define NNS_FAST_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* c ? a : b without a branch: GCC (-O2, default -ftrapping-math) keeps a
 * float ?: as a jump, which mispredicts on sign-mixed data and blocks
 * vectorisation; this bitwise select vectorises under `omp simd`. */
static inline float nns_selectf(int c, float a, float b) {
    uint32_t ua, ub, m = (uint32_t)0 - (uint32_t)(c != 0);
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    uint32_t r = (ua & m) | (ub & ~m);
    float f;
    memcpy(&f, &r, sizeof f);
    return f;
}

/* e^x for x in [-87.336, 88] (callers clamp; e^x is a normal float there),
 * within 2 ulp of expf: x = n ln2 + r with |r| <= ln2/2 (n rounded by the
 * 1.5 * 2^23 trick), e^r by its Taylor polynomial to degree 6, times 2^n
 * built in the exponent bits. Straight-line code that loops vectorise
 * (glibc's expf is a call per element, and slow where results are
 * subnormal). */
static inline float nns_expf_fast(float x) {
    const float magic = 12582912.0f;
    const float t = x * 1.44269504f + magic, fn = t - magic;
    int32_t bits;
    memcpy(&bits, &t, sizeof bits);
    const int32_t sb = (int32_t)((uint32_t)(bits - 0x4B400000 + 127) << 23);
    const float r = x - fn * 0.693359375f + fn * 2.12194440e-4f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    float scale;
    memcpy(&scale, &sb, sizeof scale);
    return p * scale;
}

/* 1 / (1 + e^-x): from t = e^-|x| (0 past |x| = 87.336, where e^-|x|
 * leaves the normal floats), no overflow, no subnormal on the way; NaN
 * stays NaN. */
static inline float nns_sigmoidf(float x) {
    const float a = fabsf(x), c = a < 87.336f ? a : 87.336f;
    const float t = nns_selectf(a < 87.336f, nns_expf_fast(-c), 0.0f), s = 1.0f / (1.0f + t);
    return nns_selectf(x != x, x, nns_selectf(x >= 0.0f, s, t * s));
}

#endif
