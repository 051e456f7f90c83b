/* qdq.c — QuantizeLinear and DequantizeLinear (ONNX opset 10-21 forms).
 *   QuantizeLinear:   y = saturate(round_half_even(x / scale) + zero_point)
 *   DequantizeLinear: y = (x - zero_point) * scale
 * scale is one f32 value (per tensor) or a 1-D f32 tensor of one value per
 * slice of x along `axis` (default 1; per axis, opset 13); zero_point, when
 * given, has scale's shape. QuantizeLinear's output has zero_point's dtype
 * (u8 or s8), u8 when it is omitted; DequantizeLinear reads u8, s8, u4, s4
 * or s32 (s32 only with a zero point of 0, as for biases) and writes f32.
 * DequantizeLinear's block_size (opset 21) B > 0: scale (and zero point) has
 * x's rank and shape but along `axis`, where it has ceil(x.dims[axis] / B):
 * one scale per B consecutive elements along the axis (blocked, weight-only
 * groups); QuantizeLinear's block_size and output_dtype are refused. A
 * constant scale must be positive and finite, a constant s32 zero point 0:
 * otherwise an error names the node and the element. No backward: a
 * quantized model trains through FakeQuant. */
#include <math.h>

#include "core/qmath.h"
#include "ops/op_util.h"

typedef struct {
    int64_t axis;       /* as given; normalised per shape */
    int64_t block_size; /* DequantizeLinear: 0 per tensor / per axis, else blocked */
} qdq_params;

/* Slot 2's dtype, or `dflt` when it is omitted. */
static nns_dtype zp_dtype(const nns_graph *g, const nns_node *n, nns_dtype dflt) {
    return n->n_in > 2 && n->in[2] >= 0 ? g->values[n->in[2]].dtype : dflt;
}

/* A constant scale: every element positive and finite. */
static nns_status check_const_scale(const nns_graph *g, const nns_node *n) {
    const nns_value *s = &g->values[n->in[1]];
    if (s->kind != NNS_VALUE_KIND_PARAM || !s->data) return NNS_OK;
    const float *v = s->data;
    const int64_t k = nns_shape_numel(&s->shape);
    for (int64_t i = 0; i < k; i++)
        if (!(v[i] > 0.0f) || !isfinite(v[i]))
            return nns_error(NNS_STATUS_INVALID_ARG, "node '%s' (%s): scale '%s'[%lld] is %g, not a positive finite number",
                             n->name, n->op_type, s->name, (long long)i, (double)v[i]);
    return NNS_OK;
}

/* A constant zero point of an s32 DequantizeLinear: all zeros. */
static nns_status check_s32_zero_point(const nns_graph *g, const nns_node *n) {
    if (n->n_in < 3 || n->in[2] < 0) return NNS_OK;
    const nns_value *z = &g->values[n->in[2]];
    if (!z->data)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): the s32 zero point '%s' must be a constant", n->name,
                         n->op_type, z->name);
    const int64_t k = nns_shape_numel(&z->shape);
    const nns_dtype_info *dt = nns_dtype_get_info(z->dtype);
    for (int64_t i = 0; i < k; i++)
        if (dt->to_f32((const char *)z->data + i * (int64_t)dt->size) != 0.0f)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): s32 zero point '%s'[%lld] is not 0", n->name,
                             n->op_type, z->name, (long long)i);
    return NNS_OK;
}

static nns_status q_prepare(const nns_graph *g, const nns_node *n, void *params) {
    qdq_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", 1);
    p->block_size = 0;
    if (nns_node_attr_int(n, "block_size", 0) != 0 || nns_node_attr_int(n, "output_dtype", 0) != 0)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (QuantizeLinear): block_size and output_dtype (opset 21) "
                                                 "are not supported", n->name);
    const nns_dtype zt = zp_dtype(g, n, NNS_DTYPE_U8);
    if (zt != NNS_DTYPE_U8 && zt != NNS_DTYPE_S8)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (QuantizeLinear): zero point '%s' is %s; u8 and s8 are supported",
                         n->name, nns_node_in_name(g, n, 2), nns_dtype_name(zt));
    return check_const_scale(g, n);
}

static nns_status dq_prepare(const nns_graph *g, const nns_node *n, void *params) {
    qdq_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", 1);
    p->block_size = nns_node_attr_int(n, "block_size", 0);
    if (p->block_size < 0)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (DequantizeLinear): block_size %lld is negative", n->name,
                         (long long)p->block_size);
    const nns_dtype xt = g->values[n->in[0]].dtype, zt = zp_dtype(g, n, xt);
    if (xt != NNS_DTYPE_U8 && xt != NNS_DTYPE_S8 && xt != NNS_DTYPE_S32 && xt != NNS_DTYPE_U4 && xt != NNS_DTYPE_S4)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (DequantizeLinear): input '%s' is %s; u8, s8, u4, s4 and s32 are supported", n->name,
                         nns_node_in_name(g, n, 0), nns_dtype_name(xt));
    if (zt != xt)
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (DequantizeLinear): zero point '%s' is %s, input '%s' is %s", n->name,
                         nns_node_in_name(g, n, 2), nns_dtype_name(zt), nns_node_in_name(g, n, 0), nns_dtype_name(xt));
    nns_status st = xt == NNS_DTYPE_S32 ? check_s32_zero_point(g, n) : NNS_OK;
    return st ? st : check_const_scale(g, n);
}

/* ceil(d / b) for d >= 0, b > 0, without overflow (b comes from a file). */
static int64_t blocks_of(int64_t d, int64_t b) { return d / b + (d % b != 0); }

/* Blocked: scale (and zero point) of x's shape but ceil(dim / B) along axis. */
static nns_status blocked_infer(const nns_node *n, const qdq_params *p, const nns_shape *x, const nns_shape *s,
                                const nns_shape *z, nns_shape *out) {
    int axis;
    nns_status st = nns_op_norm_axis(n, "axis", p->axis, x->ndim, 0, &axis);
    if (st) return st;
    int ok = s->ndim == x->ndim && (!z || nns_shape_eq(s, z));
    for (int d = 0; ok && d < x->ndim; d++) {
        if (x->dims[d] < 0) continue; /* known when the plan is built */
        const int64_t want = d == axis ? blocks_of(x->dims[d], p->block_size) : x->dims[d];
        ok = s->dims[d] == want;
    }
    char xs[96], ss[96];
    if (!ok)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (DequantizeLinear): scale %s for input %s with block_size %lld "
                                           "on axis %d (and the zero point of the scale's shape)",
                         n->name, nns_shape_str(s, ss, sizeof ss), nns_shape_str(x, xs, sizeof xs),
                         (long long)p->block_size, axis);
    out[0] = *x;
    return NNS_OK;
}

/* scale (and zero point) one value, or one per slice of x along axis. */
static nns_status qdq_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g;
    const qdq_params *p = params;
    const nns_shape *x = in[0], *s = in[1], *z = n->n_in > 2 ? in[2] : NULL;
    if (p->block_size > 0) return blocked_infer(n, p, x, s, z, out);
    const int64_t k = nns_shape_numel(s);
    if (s->ndim > 1 || (z && !nns_shape_eq(s, z)))
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): scale must be a scalar or 1-D, and the zero point of its shape",
                         n->name, n->op_type);
    if (s->ndim == 1 && k != 1) {
        int axis;
        nns_status st = nns_op_norm_axis(n, "axis", p->axis, x->ndim, 0, &axis);
        if (st) return st;
        if (x->dims[axis] != k && x->dims[axis] != -1)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): %lld scales for dim %d of length %lld", n->name, n->op_type,
                             (long long)k, axis, (long long)x->dims[axis]);
    }
    out[0] = *x;
    return NNS_OK;
}

/* x viewed around the scale's axis (one scale: per tensor). */
static nns_axis_view qdq_view_of(const nns_exec_node *e) {
    const qdq_params *p = e->params;
    return nns_axis_view_of(&e->in[0]->shape, p->axis, nns_tv_numel(e->in[1]));
}

/* Elements a task handles: a per-tensor scale still splits over threads. */
#define QDQ_CHUNK 16384

/* Tasks of at most QDQ_CHUNK elements, none across two scales' slices. */
static int64_t qdq_tasks(const nns_axis_view *v) {
    return v->outer * v->ch * ((v->inner + QDQ_CHUNK - 1) / QDQ_CHUNK);
}

/* Task t: its scale index c and its elements [i0, i1). */
static void qdq_task(const nns_axis_view *v, int64_t t, int64_t *c, int64_t *i0, int64_t *i1) {
    const int64_t per = (v->inner + QDQ_CHUNK - 1) / QDQ_CHUNK, r = t / per, end = (r + 1) * v->inner;
    *c = r % v->ch;
    *i0 = r * v->inner + t % per * QDQ_CHUNK;
    *i1 = *i0 + QDQ_CHUNK < end ? *i0 + QDQ_CHUNK : end;
}

/* Element c of an integer view (u8, s8, s32), 0 for an omitted one. */
static int32_t int_at(const nns_tv *t, int64_t c) {
    if (!t) return 0;
    switch (t->dtype) {
    case NNS_DTYPE_U8:
    case NNS_DTYPE_U4: return ((const uint8_t *)t->data)[c];
    case NNS_DTYPE_S8:
    case NNS_DTYPE_S4: return ((const int8_t *)t->data)[c];
    default: return ((const int32_t *)t->data)[c];
    }
}

static void q_forward(nns_exec_node *e) {
    const nns_axis_view v = qdq_view_of(e);
    const float *x = nns_tv_cf32(e->in[0]), *sc = nns_tv_cf32(e->in[1]);
    const nns_tv *zt = e->n_in > 2 ? e->in[2] : NULL;
    const int is_s8 = e->out[0]->dtype == NNS_DTYPE_S8;
    const int32_t lo = is_s8 ? -128 : 0, hi = is_s8 ? 127 : 255;
    const int64_t tasks = qdq_tasks(&v);
#pragma omp parallel for schedule(static) if (tasks * QDQ_CHUNK > NNS_OMP_MIN_ELEMS)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t c, i0, i1;
        qdq_task(&v, t, &c, &i0, &i1);
        const float s = sc[c];
        const int32_t zp = int_at(zt, c);
        if (is_s8) {
            int8_t *y = e->out[0]->data;
            for (int64_t i = i0; i < i1; i++) y[i] = (int8_t)nns_q_round(x[i] / s, zp, lo, hi);
        } else {
            uint8_t *y = e->out[0]->data;
            for (int64_t i = i0; i < i1; i++) y[i] = (uint8_t)nns_q_round(x[i] / s, zp, lo, hi);
        }
    }
}

/* Blocked DequantizeLinear: row (o, c) of x's [outer, D, inner] view reads
 * the scales of row (o, c / B) of the scale's [outer, ceil(D / B), inner]. */
static void dq_forward_blocked(nns_exec_node *e) {
    const qdq_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape;
    const int a = (int)(p->axis < 0 ? p->axis + xs->ndim : p->axis);
    nns_axis_view v = {1, xs->dims[a], 1};
    for (int d = 0; d < a; d++) v.outer *= xs->dims[d];
    for (int d = a + 1; d < xs->ndim; d++) v.inner *= xs->dims[d];
    const int64_t nb = blocks_of(v.ch, p->block_size), rows = v.outer * v.ch;
    const float *sc = nns_tv_cf32(e->in[1]);
    const nns_tv *xt = e->in[0], *zt = e->n_in > 2 ? e->in[2] : NULL;
    float *y = nns_tv_f32(e->out[0]);
#pragma omp parallel for schedule(static) if (rows * v.inner > NNS_OMP_MIN_ELEMS)
    for (int64_t r = 0; r < rows; r++) {
        const int64_t srow = (r / v.ch * nb + r % v.ch / p->block_size) * v.inner;
        for (int64_t i = 0; i < v.inner; i++)
            y[r * v.inner + i] = (float)(int_at(xt, r * v.inner + i) - int_at(zt, srow + i)) * sc[srow + i];
    }
}

static void dq_forward(nns_exec_node *e) {
    if (((const qdq_params *)e->params)->block_size > 0) {
        dq_forward_blocked(e);
        return;
    }
    const nns_axis_view v = qdq_view_of(e);
    const float *sc = nns_tv_cf32(e->in[1]);
    const nns_tv *xt = e->in[0], *zt = e->n_in > 2 ? e->in[2] : NULL;
    float *y = nns_tv_f32(e->out[0]);
    const int64_t tasks = qdq_tasks(&v);
#pragma omp parallel for schedule(static) if (tasks * QDQ_CHUNK > NNS_OMP_MIN_ELEMS)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t c, i0, i1;
        qdq_task(&v, t, &c, &i0, &i1);
        const float s = sc[c];
        const int32_t zp = int_at(zt, c);
        if (xt->dtype == NNS_DTYPE_U8 || xt->dtype == NNS_DTYPE_U4) {
            const uint8_t *x = xt->data;
            for (int64_t i = i0; i < i1; i++) y[i] = (float)((int32_t)x[i] - zp) * s;
        } else if (xt->dtype == NNS_DTYPE_S8 || xt->dtype == NNS_DTYPE_S4) {
            const int8_t *x = xt->data;
            for (int64_t i = i0; i < i1; i++) y[i] = (float)((int32_t)x[i] - zp) * s;
        } else {
            const int32_t *x = xt->data; /* zero point 0 (prepare) */
            for (int64_t i = i0; i < i1; i++) y[i] = (float)x[i] * s;
        }
    }
}

const nns_op_def nns_op_quantizelinear = {
    .name = "QuantizeLinear",
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(qdq_params),
    .prepare = q_prepare,
    .infer = qdq_infer,
    .forward = q_forward,
    .f32_inputs = 1u << 0 | 1u << 1,
    .out_dtype = NNS_OUT_SAME_AS(2),
    .out_dtype_omitted = NNS_DTYPE_U8,
    .nontrainable_inputs = 1u << 1 | 1u << 2,
};

const nns_op_def nns_op_dequantizelinear = {
    .name = "DequantizeLinear",
    .min_in = 2, .max_in = 3, .min_out = 1, .max_out = 1,
    .params_size = sizeof(qdq_params),
    .prepare = dq_prepare,
    .infer = qdq_infer,
    .forward = dq_forward,
    .f32_inputs = 1u << 1,
    .out_dtype = NNS_OUT_F32,
    .nontrainable_inputs = 1u << 0 | 1u << 1 | 1u << 2,
};
