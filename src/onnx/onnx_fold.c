/* onnx_fold.c — load-time folding of the shape arithmetic exporters emit
 * (Identity, Gather, Unsqueeze, Squeeze, Concat, Slice, Cast, Add, Sub, Mul,
 * Div) on constants. See onnx_internal.h for how constants are stored and
 * docs/onnx.md for the rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "onnx/onnx_internal.h"

#define FOLD_ERR(st, ...) nns_error(st, __VA_ARGS__)

int64_t nns_onnx_numel(const nns_shape *s) {
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++)
        if (s->dims[i] <= 0) return 0;
    for (int i = 0; i < s->ndim; i++)
        if (nns_ck_mul_i64(n, s->dims[i], &n)) return INT64_MAX; /* saturates: over any limit */
    return n;
}

/* The elements of a folded output of shape s, within the tensor limit
 * (NNS_MAX_TENSOR_ELEMS), before anything that size is allocated. */
static nns_status fold_numel(const char *nn, const nns_shape *s, int64_t *n) {
    char what[320];
    snprintf(what, sizeof what, "node '%s': folded constant", nn);
    *n = nns_onnx_numel(s);
    if (*n == 0) return NNS_OK;
    return nns_shape_numel_checked(s, what, n);
}



int nns_onnx_const_has_sym(const nns_onnx_const *c) {
    if (!c->sym) return 0;
    int64_t n = nns_onnx_numel(&c->shape);
    for (int64_t i = 0; i < n; i++)
        if (c->sym[2 * i] >= 0) return 1;
    return 0;
}

const Onnx__AttributeProto *nns_onnx_attr(const Onnx__NodeProto *np, const char *name) {
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i]->name && strcmp(np->attribute[i]->name, name) == 0)
            return np->attribute[i];
    return NULL;
}

int64_t nns_onnx_attr_int(const Onnx__NodeProto *np, const char *name, int64_t dflt) {
    const Onnx__AttributeProto *a = nns_onnx_attr(np, name);
    return a && a->has_i ? a->i : dflt;
}

static const char *const foldable_ops[] = {
    "Identity", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice",
    "Cast", "Add", "Sub", "Mul", "Div", NULL};
static const char *const fold_only_ops[] = {
    "Cast", "Shape", "Constant", NULL};

static int in_list(const char *const *l, const char *s) {
    for (; *l; l++)
        if (strcmp(*l, s) == 0) return 1;
    return 0;
}
int nns_onnx_foldable(const char *op_type) { return in_list(foldable_ops, op_type); }
int nns_onnx_fold_only(const char *op_type) { return in_list(fold_only_ops, op_type); }

/* Allocate out's data (and sym if want_sym) for dtype and shape. */
static nns_status out_alloc(const char *nn, nns_dtype dt, const nns_shape *shape,
                            int want_sym, nns_onnx_const *out) {
    memset(out, 0, sizeof *out);
    out->dtype = dt;
    out->shape = *shape;
    out->gidx = -1;
    out->origin = NNS_ONNX_ORIGIN_FOLDED;
    int64_t n;
    nns_status st = fold_numel(nn, shape, &n);
    if (st) return st;
    out->data = calloc((size_t)(n ? n : 1), nns_onnx_store_size(dt));
    if (want_sym) {
        out->sym = malloc((size_t)(n ? n : 1) * 2 * sizeof(int));
        if (out->sym)
            for (int64_t i = 0; i < 2 * n; i++) out->sym[i] = -1;
    }
    if (!out->data || (want_sym && !out->sym)) {
        free(out->data);
        free(out->sym);
        out->data = NULL;
        out->sym = NULL;
        return FOLD_ERR(NNS_STATUS_NOMEM, "node '%s': out of memory folding", nn);
    }
    return NNS_OK;
}

/* Read integer constant c as a list (no symbols allowed). */
static nns_status int_list(const char *nn, const char *what, const nns_onnx_const *c,
                           const int64_t **v, int64_t *n) {
    if (!nns_onnx_is_int(c->dtype))
        return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': %s must be an integer tensor", nn, what);
    if (nns_onnx_const_has_sym(c))
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': %s depends on a dynamic dimension", nn, what);
    *v = c->data;
    *n = nns_onnx_numel(&c->shape);
    return NNS_OK;
}

/* Integer list from attribute `name` (if present) or else input slot. Sets
 * *n = -1 when neither is present. */
static nns_status ints_attr_or_input(const char *nn, const Onnx__NodeProto *np, const char *name,
                                     int n_in, const nns_onnx_const *const *in, int slot,
                                     const int64_t **v, int64_t *n) {
    const Onnx__AttributeProto *a = nns_onnx_attr(np, name);
    if (a) {
        *v = a->ints;
        *n = (int64_t)a->n_ints;
        return NNS_OK;
    }
    if (slot < n_in && in[slot]) return int_list(nn, name, in[slot], v, n);
    *v = NULL;
    *n = -1;
    return NNS_OK;
}

/* out[i] = src[msrc[i]] element midx[i] (msrc NULL: all from src[0]). */
static nns_status remap(const char *nn, int n_src, const nns_onnx_const *const *src,
                        const nns_shape *oshape, const int *msrc, const int64_t *midx,
                        nns_onnx_const *out) {
    nns_dtype dt = src[0]->dtype;
    int want_sym = 0;
    for (int s = 0; s < n_src; s++) {
        if (nns_onnx_store_size(src[s]->dtype) != nns_onnx_store_size(dt) ||
            (nns_onnx_is_int(dt) != nns_onnx_is_int(src[s]->dtype)) ||
            (!nns_onnx_is_int(dt) && src[s]->dtype != dt))
            return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': inputs have different types", nn);
        if (src[s]->sym) want_sym = 1;
    }
    nns_status st = out_alloc(nn, dt, oshape, want_sym, out);
    if (st) return st;
    size_t es = nns_onnx_store_size(dt);
    int64_t n = nns_onnx_numel(oshape);
    for (int64_t i = 0; i < n; i++) {
        const nns_onnx_const *c = src[msrc ? msrc[i] : 0];
        int64_t j = midx[i];
        memcpy((char *)out->data + (size_t)i * es, (const char *)c->data + (size_t)j * es, es);
        if (want_sym && c->sym) {
            out->sym[2 * i] = c->sym[2 * j];
            out->sym[2 * i + 1] = c->sym[2 * j + 1];
        }
    }
    return NNS_OK;
}

static int64_t *idx_alloc(int64_t n) { return malloc((size_t)(n ? n : 1) * sizeof(int64_t)); }

static nns_status fold_identity(const char *nn, const nns_onnx_const *x, nns_onnx_const *out) {
    int64_t n = nns_onnx_numel(&x->shape);
    int64_t *m = idx_alloc(n);
    if (!m) return FOLD_ERR(NNS_STATUS_NOMEM, "node '%s': out of memory folding", nn);
    for (int64_t i = 0; i < n; i++) m[i] = i;
    nns_status st = remap(nn, 1, &x, &x->shape, NULL, m, out);
    free(m);
    return st;
}

/* Same data, new shape. */
static nns_status fold_reshaped(const char *nn, const nns_onnx_const *x, const nns_shape *s,
                                nns_onnx_const *out) {
    nns_status st = fold_identity(nn, x, out);
    if (!st) out->shape = *s;
    return st;
}

static nns_status fold_gather(const char *nn, const Onnx__NodeProto *np,
                              const nns_onnx_const *d, const nns_onnx_const *ic,
                              nns_onnx_const *out) {
    const int64_t *ind;
    int64_t nq;
    nns_status st = int_list(nn, "indices", ic, &ind, &nq);
    if (st) return st;
    int r = d->shape.ndim;
    int64_t axis = nns_onnx_attr_int(np, "axis", 0);
    if (axis < 0) axis += r;
    if (r < 1 || axis < 0 || axis >= r)
        return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Gather axis out of range for rank %d", nn, r);
    if (r - 1 + ic->shape.ndim > NNS_MAX_DIMS)
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': Gather result has too many dims", nn);
    nns_shape os;
    memset(&os, 0, sizeof os);
    int64_t outer = 1, inner = 1, da = d->shape.dims[axis];
    for (int i = 0; i < axis; i++) {
        os.dims[os.ndim++] = d->shape.dims[i];
        if (nns_ck_mul_i64(outer, d->shape.dims[i], &outer)) outer = INT64_MAX; /* a zero dim elsewhere */
    }
    for (int i = 0; i < ic->shape.ndim; i++) os.dims[os.ndim++] = ic->shape.dims[i];
    for (int i = (int)axis + 1; i < r; i++) {
        os.dims[os.ndim++] = d->shape.dims[i];
        if (nns_ck_mul_i64(inner, d->shape.dims[i], &inner)) inner = INT64_MAX;
    }
    int64_t n;
    if ((st = fold_numel(nn, &os, &n))) return st;
    int64_t *m = idx_alloc(n);
    if (!m) return FOLD_ERR(NNS_STATUS_NOMEM, "node '%s': out of memory folding", nn);
    int64_t k = 0;
    for (int64_t o = 0; o < outer && n; o++)
        for (int64_t q = 0; q < nq; q++) {
            int64_t ix = ind[q] < 0 ? ind[q] + da : ind[q];
            if (ix < 0 || ix >= da) {
                free(m);
                return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Gather index %lld out of range [0,%lld)",
                                nn, (long long)ind[q], (long long)da);
            }
            for (int64_t i = 0; i < inner; i++) m[k++] = (o * da + ix) * inner + i;
        }
    st = remap(nn, 1, &d, &os, NULL, m, out);
    free(m);
    return st;
}

static nns_status fold_unsqueeze(const char *nn, const Onnx__NodeProto *np, int n_in,
                                 const nns_onnx_const *const *in, nns_onnx_const *out) {
    const int64_t *axes;
    int64_t na;
    nns_status st = ints_attr_or_input(nn, np, "axes", n_in, in, 1, &axes, &na);
    if (st) return st;
    if (na < 0) return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Unsqueeze without axes", nn);
    const nns_onnx_const *x = in[0];
    int orank = x->shape.ndim + (int)na;
    if (orank > NNS_MAX_DIMS)
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': Unsqueeze result has too many dims", nn);
    int ins[NNS_MAX_DIMS] = {0};
    for (int64_t i = 0; i < na; i++) {
        int64_t a = axes[i] < 0 ? axes[i] + orank : axes[i];
        if (a < 0 || a >= orank || ins[a])
            return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': bad Unsqueeze axis %lld", nn, (long long)axes[i]);
        ins[a] = 1;
    }
    nns_shape os;
    memset(&os, 0, sizeof os);
    os.ndim = orank;
    for (int i = 0, j = 0; i < orank; i++) os.dims[i] = ins[i] ? 1 : x->shape.dims[j++];
    return fold_reshaped(nn, x, &os, out);
}

static nns_status fold_squeeze(const char *nn, const Onnx__NodeProto *np, int n_in,
                               const nns_onnx_const *const *in, nns_onnx_const *out) {
    const int64_t *axes;
    int64_t na;
    nns_status st = ints_attr_or_input(nn, np, "axes", n_in, in, 1, &axes, &na);
    if (st) return st;
    const nns_onnx_const *x = in[0];
    int r = x->shape.ndim;
    int drop[NNS_MAX_DIMS] = {0};
    if (na < 0) {
        for (int i = 0; i < r; i++) drop[i] = x->shape.dims[i] == 1;
    } else {
        for (int64_t i = 0; i < na; i++) {
            int64_t a = axes[i] < 0 ? axes[i] + r : axes[i];
            if (a < 0 || a >= r || x->shape.dims[a] != 1)
                return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': bad Squeeze axis %lld", nn, (long long)axes[i]);
            drop[a] = 1;
        }
    }
    nns_shape os;
    memset(&os, 0, sizeof os);
    for (int i = 0; i < r; i++)
        if (!drop[i]) os.dims[os.ndim++] = x->shape.dims[i];
    return fold_reshaped(nn, x, &os, out);
}

static nns_status fold_concat(const char *nn, const Onnx__NodeProto *np, int n_in,
                              const nns_onnx_const *const *in, nns_onnx_const *out) {
    if (n_in < 1) return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Concat without inputs", nn);
    for (int i = 0; i < n_in; i++)
        if (!in[i]) return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Concat with an empty input", nn);
    const nns_onnx_const *a0 = in[0];
    int r = a0->shape.ndim;
    const Onnx__AttributeProto *aa = nns_onnx_attr(np, "axis");
    if (!aa || !aa->has_i) return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Concat without axis", nn);
    int64_t axis = aa->i < 0 ? aa->i + r : aa->i;
    if (axis < 0 || axis >= r)
        return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Concat axis %lld out of range", nn, (long long)aa->i);
    nns_shape os = a0->shape;
    os.dims[axis] = 0;
    for (int i = 0; i < n_in; i++) {
        if (in[i]->shape.ndim != r)
            return FOLD_ERR(NNS_STATUS_SHAPE, "node '%s': Concat inputs differ in rank", nn);
        for (int d = 0; d < r; d++)
            if (d != axis && in[i]->shape.dims[d] != a0->shape.dims[d])
                return FOLD_ERR(NNS_STATUS_SHAPE, "node '%s': Concat inputs differ in dim %d", nn, d);
        os.dims[axis] += in[i]->shape.dims[axis];
    }
    int64_t outer = 1, inner = 1;
    int64_t n;
    nns_status st = fold_numel(nn, &os, &n);
    if (st) return st;
    for (int d = 0; d < axis && n; d++) outer *= os.dims[d]; /* n > 0: every product <= n */
    for (int d = (int)axis + 1; d < r && n; d++) inner *= os.dims[d];
    int64_t *m = idx_alloc(n);
    int *ms = malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!m || !ms) {
        free(m);
        free(ms);
        return FOLD_ERR(NNS_STATUS_NOMEM, "node '%s': out of memory folding", nn);
    }
    int64_t k = 0;
    for (int64_t o = 0; o < outer && n; o++)
        for (int i = 0; i < n_in; i++) {
            int64_t blk = in[i]->shape.dims[axis] * inner;
            for (int64_t j = 0; j < blk; j++) {
                ms[k] = i;
                m[k++] = o * blk + j;
            }
        }
    st = remap(nn, n_in, in, &os, ms, m, out);
    free(m);
    free(ms);
    return st;
}

static nns_status fold_slice(const nns_onnx_loader *L, const char *nn, const Onnx__NodeProto *np,
                             int n_in, const nns_onnx_const *const *in, nns_onnx_const *out) {
    const nns_onnx_const *x = in[0];
    int r = x->shape.ndim;
    const int64_t *starts = NULL, *ends = NULL, *axes = NULL, *steps = NULL;
    int64_t ns = 0, ne = 0, na = -1, nst = -1;
    nns_status st;
    if (L->opset < 10) {
        const Onnx__AttributeProto *a;
        if ((a = nns_onnx_attr(np, "starts"))) { starts = a->ints; ns = (int64_t)a->n_ints; }
        if ((a = nns_onnx_attr(np, "ends"))) { ends = a->ints; ne = (int64_t)a->n_ints; }
        if ((a = nns_onnx_attr(np, "axes"))) { axes = a->ints; na = (int64_t)a->n_ints; }
    } else {
        if (n_in < 3 || !in[1] || !in[2])
            return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Slice needs starts and ends", nn);
        if ((st = int_list(nn, "starts", in[1], &starts, &ns))) return st;
        if ((st = int_list(nn, "ends", in[2], &ends, &ne))) return st;
        if (n_in > 3 && in[3] && (st = int_list(nn, "axes", in[3], &axes, &na))) return st;
        if (n_in > 4 && in[4] && (st = int_list(nn, "steps", in[4], &steps, &nst))) return st;
    }
    if (ns != ne || (na >= 0 && na != ns) || (nst >= 0 && nst != ns) || ns > r)
        return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Slice starts/ends/axes/steps disagree", nn);
    int64_t start[NNS_MAX_DIMS], step[NNS_MAX_DIMS];
    int seen[NNS_MAX_DIMS] = {0};
    nns_shape os = x->shape;
    for (int d = 0; d < r; d++) {
        start[d] = 0;
        step[d] = 1;
    }
    for (int64_t k = 0; k < ns; k++) {
        int64_t a = axes ? axes[k] : k;
        if (a < 0) a += r;
        if (a < 0 || a >= r || seen[a])
            return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': bad Slice axis", nn);
        seen[a] = 1;
        int64_t dd = x->shape.dims[a], s = starts[k], e = ends[k], sp = steps ? steps[k] : 1;
        if (sp == 0) return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Slice step 0", nn);
        if (s < 0) s += dd;
        if (e < 0) e += dd;
        int64_t cnt;
        if (sp > 0) {
            s = s < 0 ? 0 : s > dd ? dd : s;
            e = e < 0 ? 0 : e > dd ? dd : e;
            cnt = e > s ? 1 + (e - s - 1) / sp : 0;
        } else {
            s = s < 0 ? 0 : s > dd - 1 ? dd - 1 : s;
            e = e < -1 ? -1 : e > dd - 1 ? dd - 1 : e;
            cnt = s > e ? (sp == INT64_MIN ? 1 : 1 + (s - e - 1) / (-sp)) : 0;
        }
        start[a] = s;
        step[a] = sp;
        os.dims[a] = cnt;
    }
    int64_t stride[NNS_MAX_DIMS];
    int64_t acc = 1;
    for (int d = r - 1; d >= 0; d--) {
        stride[d] = acc;
        acc *= x->shape.dims[d];
    }
    int64_t n;
    if ((st = fold_numel(nn, &os, &n))) return st;
    int64_t *m = idx_alloc(n);
    if (!m) return FOLD_ERR(NNS_STATUS_NOMEM, "node '%s': out of memory folding", nn);
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, src = 0;
        for (int d = r - 1; d >= 0; d--) {
            int64_t id = rem % os.dims[d];
            rem /= os.dims[d];
            src += (start[d] + id * step[d]) * stride[d];
        }
        m[i] = src;
    }
    st = remap(nn, 1, &x, &os, NULL, m, out);
    free(m);
    return st;
}

static nns_status fold_cast(const char *nn, const Onnx__NodeProto *np, const nns_onnx_const *x,
                            nns_onnx_const *out) {
    int64_t to = nns_onnx_attr_int(np, "to", -1);
    nns_dtype dt;
    if (to == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) dt = NNS_DTYPE_F32;
    else if (to == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) dt = NNS_DTYPE_S64;
    else if (to == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) dt = NNS_DTYPE_S32;
    else
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': Cast to ONNX type %lld is not supported",
                        nn, (long long)to);
    if (x->dtype != NNS_DTYPE_F32 && !nns_onnx_is_int(x->dtype))
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': Cast from %s is not supported", nn,
                        nns_dtype_name(x->dtype));
    int keep_sym = nns_onnx_is_int(dt) && nns_onnx_is_int(x->dtype) && x->sym;
    if (x->sym && !keep_sym && nns_onnx_const_has_sym(x))
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': Cast of a dynamic dimension to float", nn);
    nns_status st = out_alloc(nn, dt, &x->shape, keep_sym, out);
    if (st) return st;
    int64_t n = nns_onnx_numel(&x->shape);
    for (int64_t i = 0; i < n; i++) {
        if (dt == NNS_DTYPE_F32) {
            float v = x->dtype == NNS_DTYPE_F32 ? ((const float *)x->data)[i]
                                                : (float)((const int64_t *)x->data)[i];
            ((float *)out->data)[i] = v;
        } else {
            int64_t v;
            if (x->dtype == NNS_DTYPE_F32) {
                float f = ((const float *)x->data)[i];
                if (!(f > -9.2e18f && f < 9.2e18f)) {
                    nns_onnx_const_clear(out);
                    return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': Cast of %g to an integer", nn, (double)f);
                }
                v = (int64_t)f;
            } else {
                v = ((const int64_t *)x->data)[i];
            }
            if (dt == NNS_DTYPE_S32) v = (int64_t)(int32_t)(uint32_t)(uint64_t)v;
            ((int64_t *)out->data)[i] = v;
        }
        if (keep_sym) {
            out->sym[2 * i] = x->sym[2 * i];
            out->sym[2 * i + 1] = x->sym[2 * i + 1];
        }
    }
    return NNS_OK;
}

/* Add, Sub, Mul, Div with multidirectional broadcasting. */
static nns_status fold_arith(const char *nn, const char *op, const nns_onnx_const *a,
                             const nns_onnx_const *b, nns_onnx_const *out) {
    int fa = a->dtype == NNS_DTYPE_F32, fb = b->dtype == NNS_DTYPE_F32;
    if (!(fa || nns_onnx_is_int(a->dtype)) || !(fb || nns_onnx_is_int(b->dtype)) || fa != fb)
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s': %s on %s and %s constants", nn, op,
                        nns_dtype_name(a->dtype), nns_dtype_name(b->dtype));
    if (nns_onnx_const_has_sym(a) || nns_onnx_const_has_sym(b))
        return FOLD_ERR(NNS_STATUS_UNSUPPORTED,
                        "node '%s': %s on a dynamic dimension (batch) cannot be folded", nn, op);
    int r = a->shape.ndim > b->shape.ndim ? a->shape.ndim : b->shape.ndim;
    nns_shape os;
    memset(&os, 0, sizeof os);
    os.ndim = r;
    int64_t sa[NNS_MAX_DIMS], sb[NNS_MAX_DIMS];
    int64_t acca = 1, accb = 1;
    for (int d = r - 1; d >= 0; d--) {
        int ia = d - (r - a->shape.ndim), ib = d - (r - b->shape.ndim);
        int64_t da = ia >= 0 ? a->shape.dims[ia] : 1, db = ib >= 0 ? b->shape.dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return FOLD_ERR(NNS_STATUS_SHAPE, "node '%s': %s shapes do not broadcast", nn, op);
        os.dims[d] = da == 1 ? db : da;
        sa[d] = da == 1 ? 0 : acca;
        sb[d] = db == 1 ? 0 : accb;
        acca *= da;
        accb *= db;
    }
    nns_status st = out_alloc(nn, a->dtype, &os, 0, out);
    if (st) return st;
    int64_t n = nns_onnx_numel(&os);
    char k = op[0] == 'A' ? '+' : op[0] == 'S' ? '-' : op[0] == 'M' ? '*' : '/';
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, ia = 0, ib = 0;
        for (int d = r - 1; d >= 0; d--) {
            int64_t id = rem % os.dims[d];
            rem /= os.dims[d];
            ia += id * sa[d];
            ib += id * sb[d];
        }
        if (fa) {
            float x = ((const float *)a->data)[ia], y = ((const float *)b->data)[ib], z;
            z = k == '+' ? x + y : k == '-' ? x - y : k == '*' ? x * y : x / y;
            ((float *)out->data)[i] = z;
        } else {
            int64_t x = ((const int64_t *)a->data)[ia], y = ((const int64_t *)b->data)[ib], z;
            if (k == '/') {
                if (y == 0 || (x == INT64_MIN && y == -1)) {
                    nns_onnx_const_clear(out);
                    return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': integer division by zero", nn);
                }
                z = x / y;
            } else {
                uint64_t ux = (uint64_t)x, uy = (uint64_t)y;
                z = (int64_t)(k == '+' ? ux + uy : k == '-' ? ux - uy : ux * uy);
            }
            ((int64_t *)out->data)[i] = z;
        }
    }
    return NNS_OK;
}

nns_status nns_onnx_fold(const nns_onnx_loader *L, const Onnx__NodeProto *np,
                         const char *nn, int n_in, const nns_onnx_const *const *in,
                         nns_onnx_const *out) {
    const char *op = np->op_type;
    memset(out, 0, sizeof *out);
    out->gidx = -1;
    if (n_in < 1 || !in[0])
        return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s' (%s): missing input", nn, op);
    for (int i = 0; i < n_in; i++)
        if (in[i] && nns_onnx_store_size(in[i]->dtype) && in[i]->dtype != NNS_DTYPE_F32 && !nns_onnx_is_int(in[i]->dtype))
            return FOLD_ERR(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): cannot fold %s constant '%s'", nn,
                            op, nns_dtype_name(in[i]->dtype), in[i]->name);
    if (strcmp(op, "Identity") == 0) return fold_identity(nn, in[0], out);
    if (strcmp(op, "Gather") == 0) {
        if (n_in < 2 || !in[1]) return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s': Gather needs indices", nn);
        return fold_gather(nn, np, in[0], in[1], out);
    }
    if (strcmp(op, "Unsqueeze") == 0) return fold_unsqueeze(nn, np, n_in, in, out);
    if (strcmp(op, "Squeeze") == 0) return fold_squeeze(nn, np, n_in, in, out);
    if (strcmp(op, "Concat") == 0) return fold_concat(nn, np, n_in, in, out);
    if (strcmp(op, "Slice") == 0) return fold_slice(L, nn, np, n_in, in, out);
    if (strcmp(op, "Cast") == 0) return fold_cast(nn, np, in[0], out);
    if (strcmp(op, "Add") == 0 || strcmp(op, "Sub") == 0 || strcmp(op, "Mul") == 0 ||
        strcmp(op, "Div") == 0) {
        if (n_in != 2 || !in[1])
            return FOLD_ERR(NNS_STATUS_FORMAT, "node '%s' (%s): expected 2 inputs", nn, op);
        return fold_arith(nn, op, in[0], in[1], out);
    }
    return FOLD_ERR(NNS_STATUS_INTERNAL, "node '%s': no folding rule for %s", nn, op);
}
