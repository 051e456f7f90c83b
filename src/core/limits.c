/* limits.c — the limits on what a file may make nnslim allocate, and the
 * checked element and byte counts that enforce them (docs/security.md). */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/checked.h"
#include "nnslim/tensor.h"

int nns_ck_product(const int64_t *v, int n, int64_t *r) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (v[i] < 0 || nns_ck_mul_i64(p, v[i], &p)) return 1;
    }
    *r = p;
    return 0;
}

int nns_limit_parse(const char *s, uint64_t *out) {
    if (!s || !*s) return 1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-') return 1;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (shift && *end == 'i') end++; /* "Mi", "MiB" */
    if (*end == 'B') end++;
    if (*end || v == 0 || (shift && v > (UINT64_MAX >> shift))) return 1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* One limit: 0 = not read yet / unset. */
static _Atomic uint64_t lim_elems, lim_mem, lim_model;
static _Atomic uint64_t set_elems, set_mem, set_model;

static uint64_t from_env(const char *var, uint64_t dflt) {
    uint64_t v;
    const char *s = getenv(var);
    if (s && !nns_limit_parse(s, &v)) return v;
    return dflt;
}

static uint64_t physical_half(void) {
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psz <= 0) return (uint64_t)4 << 30;
    return (uint64_t)pages * (uint64_t)psz / 2;
}

static uint64_t get(_Atomic uint64_t *set, _Atomic uint64_t *cache, const char *var, uint64_t dflt) {
    uint64_t v = atomic_load(set);
    if (v) return v;
    v = atomic_load(cache);
    if (v) return v;
    v = from_env(var, dflt);
    atomic_store(cache, v);
    return v;
}

int64_t nns_limit_tensor_elems(void) {
    uint64_t v = get(&set_elems, &lim_elems, "NNS_MAX_TENSOR_ELEMS", (uint64_t)NNS_MAX_TENSOR_ELEMS_DEFAULT);
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}
uint64_t nns_limit_memory(void) {
    return get(&set_mem, &lim_mem, "NNS_MAX_MEMORY", physical_half());
}
uint64_t nns_limit_model_bytes(void) {
    return get(&set_model, &lim_model, "NNS_MAX_MODEL_BYTES", NNS_MAX_MODEL_BYTES_DEFAULT);
}
void nns_limit_set_tensor_elems(int64_t n) { atomic_store(&set_elems, n > 0 ? (uint64_t)n : 0); }
void nns_limit_set_memory(uint64_t bytes) { atomic_store(&set_mem, bytes); }
void nns_limit_set_model_bytes(uint64_t bytes) { atomic_store(&set_model, bytes); }

nns_status nns_shape_numel_checked(const nns_shape *s, const char *what, int64_t *numel) {
    char buf[160];
    if (s->ndim < 0 || s->ndim > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_SHAPE, "%s: rank %d is outside 0..%d", what, s->ndim, NNS_MAX_DIMS);
    for (int i = 0; i < s->ndim; i++)
        if (s->dims[i] < 0)
            return nns_error(NNS_STATUS_SHAPE, "%s: negative dimension in shape %s", what,
                             nns_shape_str(s, buf, sizeof buf));
    int64_t n;
    const int64_t lim = nns_limit_tensor_elems();
    if (nns_ck_product(s->dims, s->ndim, &n) || n > lim)
        return nns_error(NNS_STATUS_LIMIT,
                         "%s: shape %s has more than %lld elements (NNS_MAX_TENSOR_ELEMS)", what,
                         nns_shape_str(s, buf, sizeof buf), (long long)lim);
    *numel = n;
    return NNS_OK;
}

nns_status nns_shape_bytes_checked(const nns_shape *s, nns_dtype t, const char *what, size_t *bytes) {
    const size_t es = nns_dtype_size(t);
    if (!es) return nns_error(NNS_STATUS_UNSUPPORTED, "%s: unsupported dtype %d", what, (int)t);
    int64_t n;
    nns_status st = nns_shape_numel_checked(s, what, &n);
    if (st) return st;
    if (nns_ck_mul_size((size_t)n, es, bytes))
        return nns_error(NNS_STATUS_LIMIT, "%s: %lld elements of %zu bytes overflow", what, (long long)n, es);
    return NNS_OK;
}
