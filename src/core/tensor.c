/* tensor.c — the dtype table and shape helpers. */
#include "nnslim/tensor.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ---- element conversions ---- */

static float f32_get(const void *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}
static void f32_put(float v, void *p) { memcpy(p, &v, 4); }

/* IEEE binary16 <-> binary32, round to nearest even. */
static float f16_get(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31u, m = h & 1023u, u;
    if (e == 31) u = s | 0x7f800000u | (m << 13); /* inf, NaN */
    else if (e) u = s | ((e + 112) << 23) | (m << 13);
    else if (!m) u = s;
    else { /* subnormal: normalise the mantissa */
        e = 113;
        while (!(m & 1024u)) {
            m <<= 1;
            e--;
        }
        u = s | (e << 23) | ((m & 1023u) << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static float bf16_get(const void *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* float32's top 16 bits, the 16 dropped rounded to nearest even (a NaN
 * keeps a quiet NaN: rounding could carry it into infinity). */
static void bf16_put(float f, void *p) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint16_t h = (u & 0x7fffffffu) > 0x7f800000u ? (uint16_t)((u >> 16) | 0x40u)
                                                         : (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
    memcpy(p, &h, 2);
}

static void f16_put(float f, void *p) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint32_t s = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    uint16_t h;
    if (a > 0x7f800000u) h = (uint16_t)(s | 0x7e00u);      /* NaN */
    else if (a >= 0x477ff000u) h = (uint16_t)(s | 0x7c00u); /* >= 65520: inf */
    else if (a < 0x38800000u) /* below 2^-14: subnormal (or 0), m = round(|f| 2^24) */
        h = (uint16_t)(s | (uint32_t)lrintf(fabsf(f) * 16777216.0f));
    else /* rebias the exponent, round the 13 dropped bits to nearest even */
        h = (uint16_t)(s | ((a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13));
    memcpy(p, &h, 2);
}

/* Round half to even and saturate to [lo, hi]; NaN gives 0. */
static int64_t to_int(float v, int64_t lo, int64_t hi) {
    if (v != v) return 0;
    const double d = nearbyint((double)v);
    if (d <= (double)lo) return lo;
    if (d >= (double)hi) return hi;
    return (int64_t)d;
}

static float u8_get(const void *p) { return (float)*(const uint8_t *)p; }
static void u8_put(float v, void *p) { *(uint8_t *)p = (uint8_t)to_int(v, 0, UINT8_MAX); }
static float s8_get(const void *p) { return (float)*(const int8_t *)p; }
static void s8_put(float v, void *p) { *(int8_t *)p = (int8_t)to_int(v, INT8_MIN, INT8_MAX); }
static void u4_put(float v, void *p) { *(uint8_t *)p = (uint8_t)to_int(v, 0, 15); }
static void s4_put(float v, void *p) { *(int8_t *)p = (int8_t)to_int(v, -8, 7); }
static float bool_get(const void *p) { return *(const uint8_t *)p ? 1.0f : 0.0f; }
static void bool_put(float v, void *p) { *(uint8_t *)p = v != 0.0f; }
static float s32_get(const void *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return (float)v;
}
static void s32_put(float v, void *p) {
    const int32_t x = (int32_t)to_int(v, INT32_MIN, INT32_MAX);
    memcpy(p, &x, 4);
}
static float s64_get(const void *p) {
    int64_t v;
    memcpy(&v, p, 8);
    return (float)v;
}
static void s64_put(float v, void *p) {
    const int64_t x = to_int(v, INT64_MIN, INT64_MAX);
    memcpy(p, &x, 8);
}

/* ---- the table ---- */

static const nns_dtype_info dtypes[] = {
    {NNS_DTYPE_F32, "f32", 4, 1, 0, 1, 0, 0, f32_get, f32_put},
    {NNS_DTYPE_U8, "u8", 1, 0, 1, 0, 0, UINT8_MAX, u8_get, u8_put},
    {NNS_DTYPE_S8, "s8", 1, 0, 1, 1, INT8_MIN, INT8_MAX, s8_get, s8_put},
    {NNS_DTYPE_S32, "s32", 4, 0, 1, 1, INT32_MIN, INT32_MAX, s32_get, s32_put},
    {NNS_DTYPE_S64, "s64", 8, 0, 1, 1, INT64_MIN, INT64_MAX, s64_get, s64_put},
    {NNS_DTYPE_BOOL, "bool", 1, 0, 0, 0, 0, 1, bool_get, bool_put},
    {NNS_DTYPE_F16, "f16", 2, 1, 0, 1, 0, 0, f16_get, f16_put},
    {NNS_DTYPE_BF16, "bf16", 2, 1, 0, 1, 0, 0, bf16_get, bf16_put},
    {NNS_DTYPE_U4, "u4", 1, 0, 1, 0, 0, 15, u8_get, u4_put},
    {NNS_DTYPE_S4, "s4", 1, 0, 1, 1, -8, 7, s8_get, s4_put},
};

const nns_dtype_info *nns_dtype_get_info(nns_dtype t) {
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].dtype == t) return &dtypes[i];
    return NULL;
}

size_t nns_dtype_size(nns_dtype t) {
    const nns_dtype_info *d = nns_dtype_get_info(t);
    return d ? d->size : 0;
}

const char *nns_dtype_name(nns_dtype t) {
    const nns_dtype_info *d = nns_dtype_get_info(t);
    return d ? d->name : "?";
}

int64_t nns_shape_numel(const nns_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) {
        if (s->dims[i] <= 0) return 0;
    }
    for (int i = 0; i < s->ndim; i++)
        if (__builtin_mul_overflow(n, s->dims[i], &n)) return INT64_MAX;
    return n;
}

nns_shape nns_shape_make(int ndim, const int64_t *dims) {
    nns_shape s;
    memset(&s, 0, sizeof s);
    if (ndim < 0) ndim = 0;
    if (ndim > NNS_MAX_DIMS) ndim = NNS_MAX_DIMS;
    s.ndim = ndim;
    for (int i = 0; i < ndim; i++) s.dims[i] = dims[i];
    return s;
}

int nns_shape_eq(const nns_shape *a, const nns_shape *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return 0;
    return 1;
}

char *nns_shape_str(const nns_shape *s, char *buf, size_t len) {
    size_t k = 0;
    if (!len) return buf;
    buf[0] = 0;
    k += (size_t)snprintf(buf + k, len - k, "[");
    for (int i = 0; i < s->ndim && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, i ? ",%lld" : "%lld",
                              (long long)s->dims[i]);
    if (k < len) snprintf(buf + k, len - k, "]");
    return buf;
}
