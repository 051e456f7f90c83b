/* int8_common.c — the checks, packing and requantization that Int8Conv and
 * Int8Gemm share (int8_impl.h). */
#include <math.h>
#include <stdlib.h>

#include "core/qmath.h"
#include "kernels/kernels.h"
#include "ops/int8_impl.h"

static size_t a64(size_t n) { return (n + 63) & ~(size_t)63; }

size_t nns_i8_packed_bytes(int64_t m, int64_t k) {
    return a64(sizeof(i8_head)) + a64((size_t)m * (size_t)nns_qgemv_pad((int)k)) + a64((size_t)m * 4) + a64((size_t)m * 4);
}

static int present(const nns_node *n, int slot) { return slot < n->n_in && n->in[slot] >= 0; }

/* Element i of a constant of an integer dtype. */
static int32_t const_int(const nns_value *v, int64_t i) {
    switch (v->dtype) {
    case NNS_DTYPE_U8: return ((const uint8_t *)v->data)[i];
    case NNS_DTYPE_S8: return ((const int8_t *)v->data)[i];
    default: return ((const int32_t *)v->data)[i];
    }
}

int32_t nns_i8_int_at(const nns_tv *t, int64_t i) {
    if (!t) return 0;
    switch (t->dtype) {
    case NNS_DTYPE_U8: return ((const uint8_t *)t->data)[i];
    case NNS_DTYPE_S8: return ((const int8_t *)t->data)[i];
    default: return ((const int32_t *)t->data)[i];
    }
}

nns_status nns_i8_check_const(const nns_graph *g, const nns_node *n, int slot, nns_dtype want, int64_t count) {
    const nns_value *v = &g->values[n->in[slot]];
    if (!v->data)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input '%s' must be a constant", n->name, n->op_type,
                         v->name);
    const int ok_type = want == NNS_DTYPE_UNDEFINED ? v->dtype == NNS_DTYPE_U8 || v->dtype == NNS_DTYPE_S8 : v->dtype == want;
    if (!ok_type)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input '%s' is %s, not %s", n->name, n->op_type, v->name,
                         nns_dtype_name(v->dtype), want == NNS_DTYPE_UNDEFINED ? "u8 or s8" : nns_dtype_name(want));
    const int64_t k = nns_shape_numel(&v->shape);
    if (k != 1 && (count == 0 || k != count))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): input '%s' holds %lld values, not 1%s", n->name, n->op_type,
                         v->name, (long long)k, count ? " or one per output channel" : "");
    if (v->dtype == NNS_DTYPE_F32)
        for (int64_t i = 0; i < k; i++) {
            const float s = ((const float *)v->data)[i];
            if (!(s > 0.0f) || !isfinite(s))
                return nns_error(NNS_STATUS_INVALID_ARG, "node '%s' (%s): scale '%s'[%lld] is %g, not a positive finite number",
                                 n->name, n->op_type, v->name, (long long)i, (double)s);
        }
    return NNS_OK;
}

/* w - w_zp stays in s8, and the int32 accumulator cannot overflow. */
static nns_status check_ranges(const nns_graph *g, const nns_node *n, int64_t m, int64_t k) {
    const nns_value *w = &g->values[n->in[I8_W]], *wz = present(n, I8_WZ) ? &g->values[n->in[I8_WZ]] : NULL;
    const int64_t nz = wz ? nns_shape_numel(&wz->shape) : 0, numel = nns_shape_numel(&w->shape);
    for (int64_t i = 0; i < numel; i++) {
        /* per channel: Int8Gemm's [K, M] weight has its channel last */
        const int64_t c = n->op == NNS_OP_INT8GEMM && !nns_node_attr_int(n, "trans_b", 1) ? i % m : i / (numel / m);
        const int32_t d = const_int(w, i) - (wz ? const_int(wz, nz == 1 ? 0 : c) : 0);
        if (d < -128 || d > 127)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): weight '%s'[%lld] minus its zero point is %d, outside s8",
                             n->name, n->op_type, w->name, (long long)i, (int)d);
    }
    int64_t bmax = 0;
    if (present(n, I8_B)) {
        const nns_value *b = &g->values[n->in[I8_B]];
        for (int64_t c = 0; c < nns_shape_numel(&b->shape); c++) {
            const int64_t v = llabs((long long)const_int(b, c));
            bmax = v > bmax ? v : bmax;
        }
    }
    if (bmax + 2 * 32640 * k > INT32_MAX)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): %lld products per output could overflow int32", n->name,
                         n->op_type, (long long)k);
    return NNS_OK;
}

/* A residual: u8 or s8, with a constant scale and zero point of its dtype. */
static nns_status check_residual_inputs(const nns_graph *g, const nns_node *n) {
    const nns_value *r = &g->values[n->in[I8_R]];
    if (r->dtype != NNS_DTYPE_U8 && r->dtype != NNS_DTYPE_S8)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): residual '%s' is %s, not u8 or s8", n->name, n->op_type,
                         r->name, nns_dtype_name(r->dtype));
    if (!present(n, I8_RS))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): residual '%s' needs its scale", n->name, n->op_type, r->name);
    nns_status st = nns_i8_check_const(g, n, I8_RS, NNS_DTYPE_F32, 0);
    if (!st && present(n, I8_RZ)) st = nns_i8_check_const(g, n, I8_RZ, r->dtype, 0);
    return st;
}

nns_status nns_i8_check_residual(const nns_node *n, const nns_shape *const *in, const nns_shape *out) {
    if (n->n_in <= I8_R || !in[I8_R]) return NNS_OK;
    const nns_shape *r = in[I8_R];
    int same = r->ndim == out->ndim;
    for (int d = 1; same && d < r->ndim; d++) same = r->dims[d] == out->dims[d];
    if (!same || (r->dims[0] >= 0 && out->dims[0] >= 0 && r->dims[0] != out->dims[0]))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): the residual's shape differs from the output's", n->name,
                         n->op_type);
    return NNS_OK;
}

nns_status nns_i8_check(const nns_graph *g, const nns_node *n, int64_t m, int64_t k) {
    const nns_dtype xt = g->values[n->in[I8_X]].dtype;
    if (xt != NNS_DTYPE_U8 && xt != NNS_DTYPE_S8)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input '%s' is %s, not u8 or s8", n->name, n->op_type,
                         g->values[n->in[I8_X]].name, nns_dtype_name(xt));
    if (present(n, I8_YS) != present(n, I8_YZ))
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): y_scale and y_zero_point go together", n->name, n->op_type);
    nns_status st = nns_i8_check_const(g, n, I8_XS, NNS_DTYPE_F32, 0);
    if (!st && present(n, I8_XZ)) st = nns_i8_check_const(g, n, I8_XZ, xt, 0);
    if (!st) st = nns_i8_check_const(g, n, I8_W, NNS_DTYPE_UNDEFINED, nns_shape_numel(&g->values[n->in[I8_W]].shape));
    if (!st) st = nns_i8_check_const(g, n, I8_WS, NNS_DTYPE_F32, m);
    if (!st && present(n, I8_WZ)) st = nns_i8_check_const(g, n, I8_WZ, g->values[n->in[I8_W]].dtype, m);
    if (!st && present(n, I8_YS)) st = nns_i8_check_const(g, n, I8_YS, NNS_DTYPE_F32, 0);
    if (!st && present(n, I8_YZ)) st = nns_i8_check_const(g, n, I8_YZ, NNS_DTYPE_UNDEFINED, 0);
    if (!st && present(n, I8_B)) st = nns_i8_check_const(g, n, I8_B, NNS_DTYPE_S32, m);
    if (!st && present(n, I8_B) && nns_shape_numel(&g->values[n->in[I8_B]].shape) != m)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): bias '%s' must hold %lld values", n->name, n->op_type,
                         g->values[n->in[I8_B]].name, (long long)m);
    if (!st && present(n, I8_R)) st = check_residual_inputs(g, n);
    return st ? st : check_ranges(g, n, m, k);
}

void nns_i8_parse_act(const nns_node *n, i8_params *p) {
    p->act = (int)nns_node_attr_int(n, "act", NNS_FUSE_ACT_NONE);
    p->lo = nns_node_attr_float(n, "act_lo", 0.0f);
    p->hi = nns_node_attr_float(n, "act_hi", 0.0f);
}

/* The output range: the dtype's, narrowed by the fused activation (the
 * quantized bounds: rounding is monotone, so clamping before or after it
 * gives the same values). */
void nns_i8_range(const i8_params *p, float ys, int32_t zp, int sgn, int32_t *lo, int32_t *hi) {
    *lo = sgn ? -128 : 0;
    *hi = sgn ? 127 : 255;
    if (p->act != NNS_FUSE_ACT_NONE) {
        const int32_t q = nns_q_round((p->act == NNS_FUSE_ACT_RELU ? 0.0f : p->lo) / ys, zp, *lo, *hi);
        *lo = q > *lo ? q : *lo;
    }
    if (p->act == NNS_FUSE_ACT_CLIP) {
        const int32_t q = nns_q_round(p->hi / ys, zp, *lo, *hi);
        *hi = q < *hi ? q : *hi;
    }
}

void nns_i8_pack(const nns_exec_node *e, int64_t m, int64_t k, int32_t (*w_at)(const nns_exec_node *, int64_t, int64_t),
                 void *packed) {
    i8_head *h = packed;
    const i8_params *p = e->params;
    const nns_tv *wz = e->in[I8_WZ], *ws = e->in[I8_WS], *b = e->in[I8_B];
    h->m = (int32_t)m;
    h->k = (int32_t)k;
    h->ldw = nns_qgemv_pad((int)k); /* zeros past k: the GEMM's quads and the GEMV's 64-byte steps */
    h->x_signed = e->in[I8_X]->dtype == NNS_DTYPE_S8;
    h->xzp = nns_i8_int_at(e->in[I8_XZ], 0) + (h->x_signed ? 128 : 0);
    h->y_float = e->in[I8_YS] == NULL;
    h->y_signed = !h->y_float && e->in[I8_YZ]->dtype == NNS_DTYPE_S8;
    h->yzp = h->y_float ? 0 : nns_i8_int_at(e->in[I8_YZ], 0);
    h->w_off = a64(sizeof(i8_head));
    h->b_off = h->w_off + a64((size_t)m * (size_t)h->ldw);
    h->mult_off = h->b_off + a64((size_t)m * 4);
    int8_t *w = (int8_t *)((char *)h + h->w_off);
    int32_t *bias = (int32_t *)((char *)h + h->b_off);
    float *mult = (float *)((char *)h + h->mult_off);
    const float xs = nns_tv_cf32(e->in[I8_XS])[0], ys = h->y_float ? 1.0f : nns_tv_cf32(e->in[I8_YS])[0];
    const int64_t nws = nns_tv_numel(ws), nwz = wz ? nns_tv_numel(wz) : 1;
    for (int64_t c = 0; c < m; c++) {
        const int32_t zc = nns_i8_int_at(wz, nwz == 1 ? 0 : c);
        int64_t sum = 0;
        for (int64_t l = 0; l < k; l++) {
            const int32_t d = w_at(e, c, l) - zc;
            w[c * h->ldw + l] = (int8_t)d; /* the padding stays 0: packed memory is zeroed */
            sum += d;
        }
        bias[c] = (int32_t)(nns_i8_int_at(b, c) - (int64_t)h->xzp * sum);
        const float s = xs * nns_tv_cf32(ws)[nws == 1 ? 0 : c];
        mult[c] = h->y_float ? s : s / ys;
    }
    nns_i8_range(p, ys, h->yzp, h->y_signed, &h->qlo, &h->qhi);
    const nns_tv *r = e->n_in > I8_R ? e->in[I8_R] : NULL;
    h->has_res = r != NULL;
    h->r_signed = r && r->dtype == NNS_DTYPE_S8;
    h->rzp = r ? nns_i8_int_at(e->in[I8_RZ], 0) : 0;
    h->rmul = r ? nns_tv_cf32(e->in[I8_RS])[0] / ys : 0.0f;
}

/* The store with a residual: real values in the output's units, then the
 * activation (float output) or the quantization and the range. */
static void store_res(const i8_head *h, const i8_params *p, float mult, const int32_t *acc, int64_t n, void *y,
                      int64_t y0, int64_t y_step, const void *r) {
    for (int64_t j = 0; j < n; j++) {
        const int64_t i = y0 + j * y_step;
        const int32_t rv = h->r_signed ? ((const int8_t *)r)[i] : ((const uint8_t *)r)[i];
        const float v = (float)acc[j] * mult + (float)(rv - h->rzp) * h->rmul;
        if (h->y_float) ((float *)y)[i] = nns_fuse_act_apply(v, p->act, p->lo, p->hi);
        else if (h->y_signed) ((int8_t *)y)[i] = (int8_t)nns_q_round(v, h->yzp, h->qlo, h->qhi);
        else ((uint8_t *)y)[i] = (uint8_t)nns_q_round(v, h->yzp, h->qlo, h->qhi);
    }
}

void nns_i8_store(const nns_kernels *k, const i8_head *h, const i8_params *p, int64_t c, const int32_t *acc, int64_t n,
                  void *y, int64_t y0, int64_t y_step, const void *r) {
    const float mult = i8_mult(h)[c];
    if (h->has_res) {
        store_res(h, p, mult, acc, n, y, y0, y_step, r);
    } else if (!h->y_float && y_step == 1) {
        k->q8_requant((int)n, acc, mult, h->yzp, h->qlo, h->qhi, h->y_signed, (char *)y + y0);
    } else if (h->y_float) {
        float *o = (float *)y + y0;
        for (int64_t j = 0; j < n; j++) o[j * y_step] = nns_fuse_act_apply((float)acc[j] * mult, p->act, p->lo, p->hi);
    } else if (h->y_signed) {
        int8_t *o = (int8_t *)y + y0;
        for (int64_t j = 0; j < n; j++) o[j * y_step] = (int8_t)nns_q_requant(acc[j], mult, h->yzp, h->qlo, h->qhi);
    } else {
        uint8_t *o = (uint8_t *)y + y0;
        for (int64_t j = 0; j < n; j++) o[j * y_step] = (uint8_t)nns_q_requant(acc[j], mult, h->yzp, h->qlo, h->qhi);
    }
}
