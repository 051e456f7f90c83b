/* resize.c — Resize (opsets 10..18) and Upsample (7..9) of float data,
 * modes nearest and linear (cubic is refused by name). The output size
 * comes from constant scales (out = floor(in * scale)) or sizes; each axis
 * maps an output index x to x_original by coordinate_transformation_mode
 * (half_pixel, the default, pytorch_half_pixel, align_corners, asymmetric,
 * tf_half_pixel_for_nn, half_pixel_symmetric; tf_crop_and_resize is
 * refused), then nearest takes one input index by nearest_mode
 * (round_prefer_floor, the default, round_prefer_ceil, floor, ceil) and
 * linear blends floor(x_original) and the next index (both clamped to the
 * axis: the edge repeats) by the fraction, axis after axis. Upsample is
 * Resize with asymmetric coordinates and floor rounding. The batch dim may
 * not be resized. Inference only. */
#include <math.h>

#include "core/checked.h"
#include "ops/op_util.h"

enum { CT_HALF, CT_PYTORCH, CT_ALIGN, CT_ASYM, CT_TF_NN, CT_SYM };
enum { NM_FLOOR_HALF, NM_CEIL_HALF, NM_FLOOR, NM_CEIL };

typedef struct {
    int linear, coord, nearest, n; /* n: scales or sizes given (0: none) */
    int sizes;                      /* 1: v holds sizes, 0: scales */
    double v[NNS_MAX_DIMS];
} resize_params;

static int pick(const char *s, const char *const *names, int count) {
    for (int i = 0; i < count; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

/* Scales (f32) or sizes (s64) from constant input `slot`; 1 if present. */
static nns_status resize_const(const nns_graph *g, const nns_node *n, int slot, resize_params *p, int *found) {
    *found = 0;
    if (slot >= n->n_in || n->in[slot] < 0) return NNS_OK;
    const nns_value *v = &g->values[n->in[slot]];
    const int64_t cnt = nns_shape_numel(&v->shape);
    if (v->shape.ndim == 1 && cnt == 0) return NNS_OK; /* an empty tensor stands for "not given" */
    if (!v->data || v->shape.ndim != 1 || cnt > NNS_MAX_DIMS ||
        (v->dtype != NNS_DTYPE_F32 && v->dtype != NNS_DTYPE_S64))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input %d '%s' must be a constant 1-D %s",
                         n->name, n->op_type, slot, v->name, v->dtype == NNS_DTYPE_S64 ? "s64" : "f32");
    p->n = (int)cnt;
    p->sizes = v->dtype == NNS_DTYPE_S64;
    for (int i = 0; i < p->n; i++)
        p->v[i] = p->sizes ? (double)((const int64_t *)v->data)[i] : (double)((const float *)v->data)[i];
    *found = 1;
    return NNS_OK;
}

static nns_status resize_prepare(const nns_graph *g, const nns_node *n, void *params) {
    static const char *const modes[] = {"nearest", "linear"};
    static const char *const coords[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                         "tf_half_pixel_for_nn", "half_pixel_symmetric"};
    static const char *const rounds[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    resize_params *p = params;
    const int up = !strcmp(n->op_type, "Upsample");
    const char *mode = nns_node_attr_string(n, "mode", "nearest");
    const char *ct = up ? "asymmetric" : nns_node_attr_string(n, "coordinate_transformation_mode", "half_pixel");
    const char *nm = up ? "floor" : nns_node_attr_string(n, "nearest_mode", "round_prefer_floor");
    p->linear = pick(mode, modes, 2);
    p->coord = pick(ct, coords, 6);
    p->nearest = pick(nm, rounds, 4);
    if (p->linear < 0 || p->coord < 0 || p->nearest < 0)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): mode '%s', coordinate_transformation_mode '%s', "
                         "nearest_mode '%s': not supported", n->name, n->op_type, mode, ct, nm);
    if (nns_node_attr_int(n, "antialias", 0) || nns_node_attr(n, "axes"))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): antialias and axes are not supported", n->name,
                         n->op_type);
    int found = 0;
    nns_status s = NNS_OK;
    if (up && n->n_in < 2) { /* Upsample 7..8: the scales attribute */
        const nns_attr *a = nns_node_attr(n, "scales");
        const float *f = a && a->type == NNS_ATTR_TYPE_FLOATS ? a->floats : NULL;
        const int cnt = f ? a->n : 0;
        if (!f || cnt < 1 || cnt > NNS_MAX_DIMS)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (Upsample): no scales", n->name);
        p->n = cnt;
        for (int i = 0; i < cnt; i++) p->v[i] = f[i];
        return NNS_OK;
    }
    const int opset10 = n->n_in == 2; /* Resize 10 and Upsample 9: (X, scales) */
    if (!opset10 && (s = resize_const(g, n, 3, p, &found))) return s;
    if (!found && (s = resize_const(g, n, opset10 ? 1 : 2, p, &found))) return s;
    if (!found) return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): neither scales nor sizes", n->name, n->op_type);
    return NNS_OK;
}

static nns_status resize_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                               nns_shape *out) {
    (void)g;
    const resize_params *p = params;
    if (p->n != in[0]->ndim)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): %d scales or sizes for an input of rank %d", n->name,
                         n->op_type, p->n, in[0]->ndim);
    *out = *in[0];
    for (int d = 0; d < p->n; d++) {
        const int64_t dim = in[0]->dims[d];
        const double o = p->sizes ? p->v[d] : floor((double)dim * p->v[d]);
        if (dim < 0) {
            if (p->sizes || p->v[d] != 1.0)
                return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): resizes the dynamic dim %d", n->name,
                                 n->op_type, d);
            continue;
        }
        if (!(o >= 1 && o <= (double)NNS_MAX_DIM) || (!p->sizes && !(p->v[d] > 0)))
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): dim %d of size %lld would become %g", n->name,
                             n->op_type, d, (long long)dim, o);
        out->dims[d] = (int64_t)o;
    }
    return NNS_OK;
}

/* Work: per axis and output index, two source indices and a weight. */
static size_t resize_work_bytes(const void *params, const nns_shape *const *in, const nns_shape *out, int training) {
    (void)params, (void)in, (void)training;
    size_t s = 0;
    for (int d = 0; d < out[0].ndim; d++) s += (size_t)out[0].dims[d];
    return s * (2 * sizeof(int64_t) + sizeof(float));
}

/* out: the resized length as ONNX's formulas take it, in * scale (not
 * rounded) when scales are given, else the size. */
static double x_original(const resize_params *p, int64_t x, int64_t in, double out, double scale) {
    switch (p->coord) {
    case CT_PYTORCH: return out > 1 ? ((double)x + 0.5) / scale - 0.5 : 0.0;
    case CT_ALIGN: return out == 1 ? 0.0 : (double)x * (double)(in - 1) / (out - 1);
    case CT_ASYM: return (double)x / scale;
    case CT_TF_NN: return ((double)x + 0.5) / scale;
    case CT_SYM: {
        const double adj = out / (scale * (double)in), off = (double)in / 2 * (1 - adj);
        return off + ((double)x + 0.5) / scale - 0.5;
    }
    default: return ((double)x + 0.5) / scale - 0.5;
    }
}

static int64_t clampi(int64_t v, int64_t hi) { return v < 0 ? 0 : v > hi ? hi : v; }

/* One axis's maps: i0[x], i1[x], w[x] (value = a[i0] * (1 - w) + a[i1] * w). */
static void resize_axis(const resize_params *p, int d, int64_t in, int64_t out, int64_t *i0, int64_t *i1, float *w) {
    const double scale = p->sizes ? (double)out / (double)in : p->v[d];
    for (int64_t x = 0; x < out; x++) {
        const double len = p->sizes ? (double)out : (double)in * scale;
        const double xo = in == out && !p->sizes && p->v[d] == 1.0 ? (double)x : x_original(p, x, in, len, scale);
        if (p->linear) {
            const double f = floor(xo);
            i0[x] = clampi((int64_t)f, in - 1);
            i1[x] = clampi((int64_t)f + 1, in - 1);
            w[x] = (float)(xo - f);
        } else {
            double r;
            if (p->nearest == NM_FLOOR) r = floor(xo);
            else if (p->nearest == NM_CEIL) r = ceil(xo);
            else if (xo - floor(xo) == 0.5) r = p->nearest == NM_CEIL_HALF ? ceil(xo) : floor(xo);
            else r = floor(xo + 0.5);
            i0[x] = i1[x] = clampi((int64_t)r, in - 1);
            w[x] = 0.0f;
        }
    }
}

static void resize_forward(nns_exec_node *e) {
    const resize_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape, *ys = &e->out[0]->shape;
    const int r = ys->ndim;
    int64_t *m0[NNS_MAX_DIMS], *m1[NNS_MAX_DIMS], is[NNS_MAX_DIMS], s = 1;
    float *mw[NNS_MAX_DIMS];
    unsigned char *at = e->work;
    for (int d = 0; d < r; d++) {
        m0[d] = (int64_t *)at, at += (size_t)ys->dims[d] * sizeof(int64_t);
        m1[d] = (int64_t *)at, at += (size_t)ys->dims[d] * sizeof(int64_t);
    }
    for (int d = 0; d < r; d++) mw[d] = (float *)at, at += (size_t)ys->dims[d] * sizeof(float);
    for (int d = 0; d < r; d++) resize_axis(p, d, xs->dims[d], ys->dims[d], m0[d], m1[d], mw[d]);
    for (int d = r - 1; d >= 0; d--) is[d] = s, s *= xs->dims[d];
    const float *X = nns_tv_cf32(e->in[0]);
    float *Y = nns_tv_f32(e->out[0]);
    const int64_t ny = nns_shape_numel(ys);
    int64_t idx[NNS_MAX_DIMS] = {0};
    int act[NNS_MAX_DIMS], na = 0; /* axes with a nonzero weight somewhere */
    for (int d = 0; d < r; d++)
        for (int64_t x = 0; x < ys->dims[d]; x++)
            if (mw[d][x] != 0.0f) {
                act[na++] = d;
                break;
            }
    for (int64_t j = 0; j < ny; j++) {
        int64_t base = 0;
        for (int d = 0; d < r; d++) base += m0[d][idx[d]] * is[d];
        /* the 2^na corners of the active axes, each blended by its fraction */
        double acc = 0;
        for (int c = 0; c < (1 << na); c++) {
            double wt = 1;
            int64_t off = base;
            for (int k = 0; k < na; k++) {
                const int d = act[k];
                const float f = mw[d][idx[d]];
                if ((c >> k) & 1) wt *= f, off += (m1[d][idx[d]] - m0[d][idx[d]]) * is[d];
                else wt *= 1.0 - f;
            }
            if (wt != 0) acc += wt * X[off];
        }
        Y[j] = (float)acc;
        for (int d = r - 1; d >= 0; d--) {
            if (++idx[d] < ys->dims[d]) break;
            idx[d] = 0;
        }
    }
}

#define RESIZE_DEF(sym, onnx)                                          \
    const nns_op_def sym = {                                           \
        .name = onnx,                                                  \
        .min_in = 1, .max_in = 4, .min_out = 1, .max_out = 1,          \
        .params_size = sizeof(resize_params),                          \
        .prepare = resize_prepare,                                     \
        .f32_inputs = 1u,                                              \
        .infer = resize_infer,                                         \
        .work_bytes = resize_work_bytes,                               \
        .forward = resize_forward,                                     \
        .nontrainable_inputs = 0xeu,                                   \
        .chan = NNS_OP_CHAN_PASS,                                      \
    };
RESIZE_DEF(nns_op_resize, "Resize")
RESIZE_DEF(nns_op_upsample, "Upsample")
