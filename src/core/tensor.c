/* tensor.c — the dtype table and shape helpers. */
#include "nnslim/tensor.h"

#include <stdio.h>
#include <string.h>

size_t nns_dtype_size(nns_dtype t) {
    switch (t) {
    case NNS_DTYPE_F32: return 4;
    case NNS_DTYPE_U8: return 1;
    case NNS_DTYPE_S8: return 1;
    case NNS_DTYPE_S32: return 4;
    case NNS_DTYPE_S64: return 8;
    case NNS_DTYPE_F16: return 2;
    default: return 0;
    }
}

const char *nns_dtype_name(nns_dtype t) {
    switch (t) {
    case NNS_DTYPE_F32: return "f32";
    case NNS_DTYPE_U8: return "u8";
    case NNS_DTYPE_S8: return "s8";
    case NNS_DTYPE_S32: return "s32";
    case NNS_DTYPE_S64: return "s64";
    case NNS_DTYPE_F16: return "f16";
    default: return "?";
    }
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
