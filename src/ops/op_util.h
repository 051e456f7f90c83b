/*
 * op_util.h — small helpers shared by the elementwise, shape and softmax ops
 * (src/ops/). Internal: static inline, no state.
 */
#ifndef NNS_OP_UTIL_H
#define NNS_OP_UTIL_H

#include <float.h>
#include <math.h>
#include <string.h>

#include "kernels/fast_math.h"
#include "ops/op.h"

/* Loops over fewer elements than this run on one thread: below it the
 * OpenMP fork/join costs more than the loop. */
#define NNS_OMP_MIN_ELEMS 32768

/* A fused Relu / Clip (nns_fuse_act): the same results as the selects of
 * relu.c and clip.c, bit for bit (NaN and -0 included), so that fused and
 * unfused plans agree. (Where a loop is not vectorised, GCC may compile
 * this ?: as a branch; nns_selectf stays branch-free. Note that an `if`
 * clause on `parallel for simd` applies to the simd part too unless written
 * `if (parallel: ...)`.) */
static inline float nns_fuse_act_apply(float z, int act, float lo, float hi) {
    /* Plain ?: here: GCC maps these exact forms to cmpltps+andps (Relu) and
     * maxps/minps (Clip), whose NaN behaviour is the ternary's, in scalar
     * code and under omp simd; the bitwise select took five operations. */
    if (act == NNS_FUSE_ACT_RELU) return z > 0.0f ? z : 0.0f;
    if (act == NNS_FUSE_ACT_CLIP) {
        float v = z < lo ? lo : z;
        return v > hi ? hi : v;
    }
    return z;
}

/* x * clamp(x / 6 + 1/2, 0, 1): HardSwish (hardswish.c, a fused one). */
static inline float nns_hardswishf(float v) {
    float t = v * (1.0f / 6.0f) + 0.5f;
    t = nns_selectf(t < 0.0f, 0.0f, t);
    t = nns_selectf(t > 1.0f, 1.0f, t);
    return v * t;
}

/* A fused activation (Relu, Clip, HardSwish; nns_fuse_act) over n
 * values in place, as the unfused nodes compute it. */
static inline void nns_fuse_act_rows(float *y, size_t n, int act, float lo, float hi) {
    if (act == NNS_FUSE_ACT_RELU) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = nns_fuse_act_apply(y[i], NNS_FUSE_ACT_RELU, lo, hi);
    } else if (act == NNS_FUSE_ACT_CLIP) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = nns_fuse_act_apply(y[i], NNS_FUSE_ACT_CLIP, lo, hi);
    } else if (act == NNS_FUSE_ACT_HARDSWISH) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) y[i] = nns_hardswishf(y[i]);
    }
}

/* Elements before (outer), along (len) and after (inner) axis a of s: the
 * element (o, k, i) is at (o * len + k) * inner + i. */
static inline void nns_axis_split(const nns_shape *s, int a, int64_t *outer, int64_t *len, int64_t *inner) {
    *outer = 1, *inner = 1, *len = s->dims[a];
    for (int d = 0; d < a; d++) *outer *= s->dims[d];
    for (int d = a + 1; d < s->ndim; d++) *inner *= s->dims[d];
}

/* Elements of a runtime view (a rank-0 view holds one element). */
static inline int64_t nns_tv_numel(const nns_tv *t) {
    return nns_shape_numel(&t->shape);
}

/* Name of input slot i of node n, for messages. */
static inline const char *nns_node_in_name(const nns_graph *g, const nns_node *n, int i) {
    if (i < 0 || i >= n->n_in || n->in[i] < 0) return "";
    return g->values[n->in[i]].name;
}

/* Normalise an axis attribute value into [0, rank) (or [0, rank] when
 * allow_rank is set, as Flatten allows). Errors name the node. */
static inline nns_status nns_op_norm_axis(const nns_node *n, const char *attr,
                                          int64_t axis, int rank, int allow_rank,
                                          int *out) {
    int64_t hi = allow_rank ? rank : rank - 1;
    int64_t a = axis < 0 ? axis + rank : axis;
    *out = 0;
    if (a < 0 || a > hi)
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (%s): attribute '%s' = %lld is out of range for an input of rank %d",
                         n->name, n->op_type, attr, (long long)axis, rank);
    *out = (int)a;
    return NNS_OK;
}

/* Read an optional scalar constant input (a one-element initializer of a
 * float or integer dtype, converted by the dtype table's to_f32). Leaves *v
 * unchanged when the input is omitted. */
static inline nns_status nns_op_const_scalar(const nns_graph *g, const nns_node *n,
                                             int slot, const char *what, float *v) {
    if (slot >= n->n_in || n->in[slot] < 0) return NNS_OK;
    const nns_value *val = &g->values[n->in[slot]];
    if (!val->data)
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (%s): input '%s' (%s) must be a constant", n->name,
                         n->op_type, val->name, what);
    if (nns_shape_numel(&val->shape) != 1)
        return nns_error(NNS_STATUS_SHAPE,
                         "node '%s' (%s): input '%s' (%s) must hold one value", n->name,
                         n->op_type, val->name, what);
    const nns_dtype_info *dt = nns_dtype_get_info(val->dtype);
    if (!dt || !(dt->is_float || dt->is_integer))
        return nns_error(NNS_STATUS_UNSUPPORTED,
                         "node '%s' (%s): input '%s' (%s) has unsupported dtype %s", n->name,
                         n->op_type, val->name, what, nns_dtype_name(val->dtype));
    *v = dt->to_f32(val->data);
    return NNS_OK;
}

/* x viewed as [outer, ch, inner] around dim `axis` (negative: from the
 * end), for per-axis parameters of ch values (QuantizeLinear's scales);
 * ch == 1: per tensor, the whole of x in inner. */
typedef struct nns_axis_view {
    int64_t outer, ch, inner;
} nns_axis_view;

static inline nns_axis_view nns_axis_view_of(const nns_shape *x, int64_t axis, int64_t ch) {
    nns_axis_view v = {1, ch, 1};
    if (ch == 1) {
        v.inner = nns_shape_numel(x);
        return v;
    }
    const int a = (int)(axis < 0 ? axis + x->ndim : axis);
    for (int d = 0; d < a; d++) v.outer *= x->dims[d];
    for (int d = a + 1; d < x->ndim; d++) v.inner *= x->dims[d];
    return v;
}

/* infer for ops whose single output has the shape of input 0. */
static inline nns_status nns_op_infer_same(const nns_graph *g, const nns_node *n,
                                           const void *params, const nns_shape *const *in,
                                           nns_shape *out) {
    (void)g; (void)params;
    if (!in[0])
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): input 0 is missing", n->name, n->op_type);
    out[0] = *in[0];
    return NNS_OK;
}

/* Forward/backward of ops that copy input 0 to output 0 (Identity, Flatten,
 * Reshape, inference-mode Dropout). */
/* Output 0 = input 0, element for element (f32, or u8/s8 where the op takes
 * them: nns_op_def.q8_inputs). */
static inline void nns_op_copy_forward(nns_exec_node *e) {
    const int64_t n = nns_tv_numel(e->out[0]);
    const size_t size = e->in[0]->dtype == NNS_DTYPE_F32 ? sizeof(float) : 1;
    if (e->out[0]->data != e->in[0]->data) memcpy(e->out[0]->data, e->in[0]->data, (size_t)n * size);
}

static inline void nns_op_copy_backward(nns_exec_node *e) {
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    int64_t n = nns_tv_numel(e->out[0]);
#pragma omp parallel for simd schedule(static) if (parallel: n > NNS_OMP_MIN_ELEMS)
    for (int64_t i = 0; i < n; i++) gx[i] += gy[i];
}

#endif
