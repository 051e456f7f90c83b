/* logic.c — comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual:
 * bool out), logic on bools (And, Or, Xor, Not), Where (cond ? X : Y), and
 * the variadic Sum and Mean of floats; all with numpy broadcasting over any
 * number of inputs. Comparisons take two inputs of one dtype among f32, u8,
 * s8, s32, s64 and bool (integers compared as integers, floats as floats:
 * NaN compares false); Where's X and Y may be any of those. Inference only.
 * These ops move few bytes; each output element is one step of a walk that
 * keeps every input's offset. */
#include "ops/op_util.h"

enum { L_EQ, L_LT, L_GT, L_LE, L_GE, L_AND, L_OR, L_XOR, L_NOT, L_WHERE, L_SUM, L_MEAN };

typedef struct {
    int kind;
} logic_params;

static int dtype_ok(nns_dtype t) {
    return t == NNS_DTYPE_F32 || t == NNS_DTYPE_U8 || t == NNS_DTYPE_S8 || t == NNS_DTYPE_S32 ||
           t == NNS_DTYPE_S64 || t == NNS_DTYPE_BOOL;
}

/* Dtype rules per kind, checked before anything runs. */
static nns_status logic_prepare_kind(const nns_graph *g, const nns_node *n, void *params, int kind) {
    ((logic_params *)params)->kind = kind;
    for (int i = 0; i < n->n_in; i++) {
        if (n->in[i] < 0)
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): input %d is omitted", n->name, n->op_type, i);
        const nns_dtype t = g->values[n->in[i]].dtype, t0 = g->values[n->in[kind == L_WHERE ? 1 : 0]].dtype;
        const int want_bool = kind == L_AND || kind == L_OR || kind == L_XOR || kind == L_NOT ||
                              (kind == L_WHERE && i == 0);
        const int want_f32 = kind == L_SUM || kind == L_MEAN;
        const int bad = want_bool ? t != NNS_DTYPE_BOOL
                        : want_f32 ? t != NNS_DTYPE_F32
                                   : !dtype_ok(t) || (i > (kind == L_WHERE) && t != t0);
        if (bad)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): input %d '%s' is %s (%s)", n->name, n->op_type,
                             i, g->values[n->in[i]].name, nns_dtype_name(t),
                             want_bool  ? "bool expected"
                             : want_f32 ? "f32 expected"
                                        : "f32, u8, s8, s32, s64 or bool, all of one dtype");
    }
    return NNS_OK;
}

#define LOGIC_PREPARE(fn, kind) \
    static nns_status fn(const nns_graph *g, const nns_node *n, void *p) { return logic_prepare_kind(g, n, p, kind); }
LOGIC_PREPARE(eq_prepare, L_EQ)
LOGIC_PREPARE(lt_prepare, L_LT)
LOGIC_PREPARE(gt_prepare, L_GT)
LOGIC_PREPARE(le_prepare, L_LE)
LOGIC_PREPARE(ge_prepare, L_GE)
LOGIC_PREPARE(and_prepare, L_AND)
LOGIC_PREPARE(or_prepare, L_OR)
LOGIC_PREPARE(xor_prepare, L_XOR)
LOGIC_PREPARE(not_prepare, L_NOT)
LOGIC_PREPARE(where_prepare, L_WHERE)
LOGIC_PREPARE(sum_prepare, L_SUM)
LOGIC_PREPARE(mean_prepare, L_MEAN)

static nns_status logic_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                              nns_shape *out) {
    (void)g, (void)params;
    nns_shape s = *in[0];
    for (int i = 1; i < n->n_in; i++) {
        nns_status st = nns_broadcast_shape(n, &s, in[i], &s);
        if (st) return st;
    }
    out[0] = s;
    return NNS_OK;
}

/* Element i of a tensor as an integer or as a double. */
static inline int64_t ldi(const void *p, nns_dtype t, int64_t i) {
    switch (t) {
    case NNS_DTYPE_S64: return ((const int64_t *)p)[i];
    case NNS_DTYPE_S32: return ((const int32_t *)p)[i];
    case NNS_DTYPE_S8: return ((const int8_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}
static inline double ldd(const void *p, nns_dtype t, int64_t i) {
    return t == NNS_DTYPE_F32 ? (double)((const float *)p)[i] : (double)ldi(p, t, i);
}

/* Every input's element offset for each output element, in order: BODY
 * with j (output element) and off[k] (input k). */
#define LOGIC_WALK(e, ...)                                                                           \
    do {                                                                                             \
        const nns_shape *o_ = &(e)->out[0]->shape;                                                   \
        const int r_ = o_->ndim, k_ = (e)->n_in;                                                     \
        int64_t st_[NNS_MAX_NODE_IO][NNS_MAX_DIMS] = {{0}}, off[NNS_MAX_NODE_IO] = {0};              \
        int64_t idx_[NNS_MAX_DIMS] = {0};                                                            \
        for (int q = 0; q < k_; q++) {                                                               \
            const nns_shape *s_ = &(e)->in[q]->shape;                                                \
            int64_t m_ = 1;                                                                          \
            for (int d = s_->ndim - 1; d >= 0; d--) {                                                \
                st_[q][d + r_ - s_->ndim] = s_->dims[d] == 1 ? 0 : m_;                               \
                m_ *= s_->dims[d];                                                                   \
            }                                                                                        \
        }                                                                                            \
        const int64_t n_ = nns_shape_numel(o_);                                                      \
        for (int64_t j = 0; j < n_; j++) {                                                           \
            __VA_ARGS__;                                                                             \
            for (int d = r_ - 1; d >= 0; d--) {                                                      \
                for (int q = 0; q < k_; q++) off[q] += st_[q][d];                                    \
                if (++idx_[d] < o_->dims[d]) break;                                                  \
                for (int q = 0; q < k_; q++) off[q] -= st_[q][d] * o_->dims[d];                      \
                idx_[d] = 0;                                                                         \
            }                                                                                        \
        }                                                                                            \
    } while (0)

static int compare(int kind, const nns_tv *a, int64_t i, const nns_tv *b, int64_t k) {
    if (a->dtype == NNS_DTYPE_F32) {
        const double x = ldd(a->data, a->dtype, i), y = ldd(b->data, b->dtype, k);
        return kind == L_EQ ? x == y : kind == L_LT ? x < y : kind == L_GT ? x > y : kind == L_LE ? x <= y : x >= y;
    }
    const int64_t x = ldi(a->data, a->dtype, i), y = ldi(b->data, b->dtype, k);
    return kind == L_EQ ? x == y : kind == L_LT ? x < y : kind == L_GT ? x > y : kind == L_LE ? x <= y : x >= y;
}

static void logic_forward(nns_exec_node *e) {
    const int kind = ((const logic_params *)e->params)->kind;
    unsigned char *y = e->out[0]->data;
    if (kind == L_SUM || kind == L_MEAN) {
        float *yf = nns_tv_f32(e->out[0]);
        const float scale = kind == L_MEAN ? 1.0f / (float)e->n_in : 1.0f;
        LOGIC_WALK(e, {
            float s = nns_tv_cf32(e->in[0])[off[0]];
            for (int q = 1; q < e->n_in; q++) s += nns_tv_cf32(e->in[q])[off[q]];
            yf[j] = kind == L_MEAN ? s * scale : s;
        });
    } else if (kind == L_WHERE) {
        const size_t es = nns_dtype_size(e->in[1]->dtype);
        const uint8_t *c = e->in[0]->data;
        const unsigned char *xa = e->in[1]->data, *xb = e->in[2]->data;
        LOGIC_WALK(e, memcpy(y + (size_t)j * es, c[off[0]] ? xa + (size_t)off[1] * es : xb + (size_t)off[2] * es,
                             es));
    } else if (kind == L_NOT) {
        const uint8_t *a = e->in[0]->data;
        LOGIC_WALK(e, y[j] = !a[off[0]]);
    } else if (kind >= L_AND) {
        const uint8_t *a = e->in[0]->data, *b = e->in[1]->data;
        LOGIC_WALK(e, y[j] = kind == L_AND ? (a[off[0]] && b[off[1]])
                             : kind == L_OR ? (a[off[0]] || b[off[1]])
                                            : (!a[off[0]] != !b[off[1]]));
    } else {
        LOGIC_WALK(e, y[j] = (unsigned char)compare(kind, e->in[0], off[0], e->in[1], off[1]));
    }
}

static const nns_dtype logic_bool_out[1] = {NNS_DTYPE_BOOL};

#define LOGIC_DEF(sym, onnx, prep, lo, hi, outs)                 \
    const nns_op_def sym = {                                     \
        .name = onnx,                                            \
        .min_in = lo, .max_in = hi, .min_out = 1, .max_out = 1,  \
        .params_size = sizeof(logic_params),                     \
        .prepare = prep,                                         \
        outs,                                                    \
        .infer = logic_infer,                                    \
        .forward = logic_forward,                                \
    };
LOGIC_DEF(nns_op_equal, "Equal", eq_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_less, "Less", lt_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_greater, "Greater", gt_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_lessorequal, "LessOrEqual", le_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_greaterorequal, "GreaterOrEqual", ge_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_and, "And", and_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_or, "Or", or_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_xor, "Xor", xor_prepare, 2, 2, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_not, "Not", not_prepare, 1, 1, .out_fixed = logic_bool_out)
LOGIC_DEF(nns_op_where, "Where", where_prepare, 3, 3, .out_dtype = NNS_OUT_SAME_AS(1))
LOGIC_DEF(nns_op_sum, "Sum", sum_prepare, 1, NNS_MAX_NODE_IO, .out_dtype = NNS_OUT_F32)
LOGIC_DEF(nns_op_mean, "Mean", mean_prepare, 1, NNS_MAX_NODE_IO, .out_dtype = NNS_OUT_F32)
