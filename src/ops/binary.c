/* binary.c — Add, Sub, Mul, Div, Pow, two-input Min and Max, and PRelu
 * (the slope broadcast to the input), with multidirectional broadcasting.
 *
 * The broadcast engine first collapses the output's index space: dims of
 * size 1 are dropped and adjacent dims merge when both operands step through
 * them contiguously (or both broadcast them). [N,C,H,W] op [C,1,1] becomes
 * [N, C, H*W] with b's strides (0, 1, 0); equal shapes become one flat dim.
 * Forward walks the collapsed space in chunks of one row (the innermost
 * collapsed dim, split into pieces of BC_CHUNK), so the innermost loop is a
 * plain contiguous or scalar-operand loop.
 *
 * Backward: an operand with as many elements as the output gets its gradient
 * elementwise; a broadcast operand sums the gradient over the dims it was
 * broadcast along, one thread per element of the operand (no atomics, so the
 * result does not depend on the thread count). A one-element operand sums
 * over a fixed number of chunks, combined in order.
 */
#include <math.h>

#include "ops/op_util.h"

enum { BIN_ADD = 0, BIN_SUB, BIN_MUL, BIN_DIV, BIN_POW, BIN_MIN, BIN_MAX, BIN_PRELU, BIN_COUNT };

typedef struct { int op; } binary_params;

#define BC_CHUNK 8192
#define BC_SCALAR_CHUNKS 64

typedef struct bc_iter {
    int nd;
    int64_t size[NNS_MAX_DIMS];
    int64_t sa[NNS_MAX_DIMS], sb[NNS_MAX_DIMS], so[NNS_MAX_DIMS];
    int64_t rows, len, cpr, items; /* rows of len; cpr chunks per row */
} bc_iter;

static void bc_build(const nns_shape *a, const nns_shape *b, const nns_shape *o, bc_iter *it) {
    int64_t sta[NNS_MAX_DIMS], stb[NNS_MAX_DIMS], s = 1;
    for (int d = a->ndim - 1; d >= 0; d--) { sta[d] = s; s *= a->dims[d]; }
    s = 1;
    for (int d = b->ndim - 1; d >= 0; d--) { stb[d] = s; s *= b->dims[d]; }
    int R = o->ndim, nd = 0;
    for (int d = 0; d < R; d++) {
        int64_t sz = o->dims[d];
        if (sz == 1) continue;
        int da = d - (R - a->ndim), db = d - (R - b->ndim);
        int64_t xa = (da >= 0 && a->dims[da] != 1) ? sta[da] : 0;
        int64_t xb = (db >= 0 && b->dims[db] != 1) ? stb[db] : 0;
        if (nd > 0 && it->sa[nd - 1] == xa * sz && it->sb[nd - 1] == xb * sz) {
            it->size[nd - 1] *= sz;
            it->sa[nd - 1] = xa;
            it->sb[nd - 1] = xb;
        } else {
            it->size[nd] = sz;
            it->sa[nd] = xa;
            it->sb[nd] = xb;
            nd++;
        }
    }
    if (nd == 0) {
        it->size[0] = 1;
        it->sa[0] = it->sb[0] = 0;
        nd = 1;
    }
    it->nd = nd;
    it->so[nd - 1] = 1;
    for (int d = nd - 2; d >= 0; d--) it->so[d] = it->so[d + 1] * it->size[d + 1];
    it->len = it->size[nd - 1];
    it->rows = 1;
    for (int d = 0; d < nd - 1; d++) it->rows *= it->size[d];
    it->cpr = (it->len + BC_CHUNK - 1) / BC_CHUNK;
    it->items = it->rows * it->cpr;
}

/* Offsets of work item t: output, a, b, and the item's length. */
static inline int64_t bc_item(const bc_iter *it, int64_t t, int64_t *oo, int64_t *oa, int64_t *ob) {
    int64_t r = t / it->cpr, start = (t % it->cpr) * BC_CHUNK;
    int64_t ra = 0, rb = 0, q = r;
    for (int d = it->nd - 2; d >= 0; d--) {
        int64_t i = q % it->size[d];
        q /= it->size[d];
        ra += i * it->sa[d];
        rb += i * it->sb[d];
    }
    *oo = r * it->len + start;
    *oa = ra + start * it->sa[it->nd - 1];
    *ob = rb + start * it->sb[it->nd - 1];
    int64_t n = it->len - start;
    return n < BC_CHUNK ? n : BC_CHUNK;
}

/* Forward: o = F(x, y) over the collapsed space. */
#define BC_DEF_FWD(fn, FEXPR)                                                              \
    static void fn(const bc_iter *it, const float *a, const float *b, float *o) {          \
        const int64_t ia = it->sa[it->nd - 1], ib = it->sb[it->nd - 1];                    \
        const int par = it->rows * it->len > NNS_OMP_MIN_ELEMS;                            \
        _Pragma("omp parallel for schedule(static) if (par)")                              \
        for (int64_t t = 0; t < it->items; t++) {                                          \
            int64_t oo, oa, ob;                                                            \
            const int64_t n = bc_item(it, t, &oo, &oa, &ob);                               \
            const float *A = a + oa, *B = b + ob;                                          \
            float *O = o + oo;                                                             \
            if (ia && ib) {                                                                \
                _Pragma("omp simd")                                                        \
                for (int64_t i = 0; i < n; i++) { const float x = A[i], y = B[i]; O[i] = FEXPR; } \
            } else if (ia) {                                                               \
                const float y = B[0];                                                      \
                _Pragma("omp simd")                                                        \
                for (int64_t i = 0; i < n; i++) { const float x = A[i]; O[i] = FEXPR; }    \
            } else if (ib) {                                                               \
                const float x = A[0];                                                      \
                _Pragma("omp simd")                                                        \
                for (int64_t i = 0; i < n; i++) { const float y = B[i]; O[i] = FEXPR; }    \
            } else {                                                                       \
                const float x = A[0], y = B[0];                                            \
                const float v = FEXPR;                                                     \
                for (int64_t i = 0; i < n; i++) O[i] = v;                                  \
            }                                                                              \
        }                                                                                  \
    }

/* Backward into an operand with the output's element count: gx[k] += G. */
#define BC_BWD_LOOP(XLOAD, YLOAD, GEXPR)                                                   \
    _Pragma("omp simd")                                                                    \
    for (int64_t i = 0; i < n; i++) {                                                      \
        const float g = G[i], x = XLOAD, y = YLOAD;                                        \
        (void)x; (void)y;                                                                  \
        GX[i] += GEXPR;                                                                    \
    }

#define BC_DEF_BWD_FULL(fn, GEXPR)                                                         \
    static void fn(const bc_iter *it, const float *a, const float *b, const float *gy,     \
                   float *gx) {                                                            \
        const int64_t ia = it->sa[it->nd - 1], ib = it->sb[it->nd - 1];                    \
        const int par = it->rows * it->len > NNS_OMP_MIN_ELEMS;                            \
        _Pragma("omp parallel for schedule(static) if (par)")                              \
        for (int64_t t = 0; t < it->items; t++) {                                          \
            int64_t oo, oa, ob;                                                            \
            const int64_t n = bc_item(it, t, &oo, &oa, &ob);                               \
            const float *A = a + oa, *B = b + ob, *G = gy + oo;                            \
            float *GX = gx + oo;                                                           \
            if (ia && ib) {                                                                \
                BC_BWD_LOOP(A[i], B[i], GEXPR)                                             \
            } else if (ia) {                                                               \
                const float yv = B[0];                                                     \
                BC_BWD_LOOP(A[i], yv, GEXPR)                                               \
            } else if (ib) {                                                               \
                const float xv = A[0];                                                     \
                BC_BWD_LOOP(xv, B[i], GEXPR)                                               \
            } else {                                                                       \
                const float xv = A[0], yv = B[0];                                          \
                BC_BWD_LOOP(xv, yv, GEXPR)                                                 \
            }                                                                              \
        }                                                                                  \
    }

/* Backward into a broadcast operand X (a when XA, else b): sum over the
 * dims X is broadcast along. nx = X's element count (< output's). */
#define BC_DEF_BWD_RED(fn, GEXPR, XA)                                                      \
    static void fn(const bc_iter *it, const float *a, const float *b, const float *gy,     \
                   float *gx, int64_t nx) {                                                \
        const int64_t *sx = XA ? it->sa : it->sb, *sy = XA ? it->sb : it->sa;              \
        const float *X = XA ? a : b, *Yv = XA ? b : a;                                     \
        int nk = 0, nr = 0;                                                                \
        int64_t ksz[NNS_MAX_DIMS], kso[NNS_MAX_DIMS], ksx[NNS_MAX_DIMS], ksy[NNS_MAX_DIMS]; \
        int64_t rsz[NNS_MAX_DIMS], rso[NNS_MAX_DIMS], rsy[NNS_MAX_DIMS];                   \
        for (int d = 0; d < it->nd; d++) {                                                 \
            if (sx[d]) {                                                                   \
                ksz[nk] = it->size[d]; kso[nk] = it->so[d]; ksx[nk] = sx[d]; ksy[nk] = sy[d]; nk++; \
            } else {                                                                       \
                rsz[nr] = it->size[d]; rso[nr] = it->so[d]; rsy[nr] = sy[d]; nr++;         \
            }                                                                              \
        }                                                                                  \
        int64_t total = it->rows * it->len;                                                \
        if (nx == 1) {                                                                     \
            /* The other operand and the output share one flat layout. */                  \
            double part[BC_SCALAR_CHUNKS];                                                 \
            const int64_t per = (total + BC_SCALAR_CHUNKS - 1) / BC_SCALAR_CHUNKS;         \
            const int par = total > NNS_OMP_MIN_ELEMS;                                     \
            _Pragma("omp parallel for schedule(static) if (par)")                          \
            for (int c = 0; c < BC_SCALAR_CHUNKS; c++) {                                   \
                int64_t lo = c * per, hi = lo + per < total ? lo + per : total;            \
                double acc = 0.0;                                                          \
                for (int64_t i = lo; i < hi; i++) {                                        \
                    const float g = gy[i];                                                 \
                    const float x = XA ? X[0] : Yv[i], y = XA ? Yv[i] : X[0];              \
                    (void)x; (void)y;                                                      \
                    acc += (double)(GEXPR);                                                \
                }                                                                          \
                part[c] = acc;                                                             \
            }                                                                              \
            double s = 0.0;                                                                \
            for (int c = 0; c < BC_SCALAR_CHUNKS; c++) s += part[c];                       \
            gx[0] += (float)s;                                                             \
            return;                                                                        \
        }                                                                                  \
        const int64_t rin = rsz[nr - 1], rin_o = rso[nr - 1], rin_y = rsy[nr - 1];         \
        int64_t rout = 1;                                                                  \
        for (int d = 0; d < nr - 1; d++) rout *= rsz[d];                                   \
        const int par = total > NNS_OMP_MIN_ELEMS;                                         \
        _Pragma("omp parallel for schedule(static) if (par)")                              \
        for (int64_t j = 0; j < nx; j++) {                                                 \
            int64_t q = j, bo = 0, by = 0, bx = 0;                                         \
            for (int d = nk - 1; d >= 0; d--) {                                            \
                int64_t i = q % ksz[d];                                                    \
                q /= ksz[d];                                                               \
                bo += i * kso[d]; by += i * ksy[d]; bx += i * ksx[d];                      \
            }                                                                              \
            const float xv = X[bx];                                                        \
            double acc = 0.0;                                                              \
            for (int64_t r = 0; r < rout; r++) {                                           \
                int64_t p = r, oo = bo, oy = by;                                           \
                for (int d = nr - 2; d >= 0; d--) {                                        \
                    int64_t i = p % rsz[d];                                                \
                    p /= rsz[d];                                                           \
                    oo += i * rso[d]; oy += i * rsy[d];                                    \
                }                                                                          \
                const float *G = gy + oo, *Y = Yv + oy;                                    \
                float s = 0.0f;                                                            \
                for (int64_t i = 0; i < rin; i++) {                                        \
                    const float g = G[i * rin_o];                                          \
                    const float x = XA ? xv : Y[i * rin_y], y = XA ? Y[i * rin_y] : xv;    \
                    (void)x; (void)y;                                                      \
                    s += GEXPR;                                                            \
                }                                                                          \
                acc += s;                                                                  \
            }                                                                              \
            gx[bx] += (float)acc;                                                          \
        }                                                                                  \
    }

#define BC_DEF_OP(name, FEXPR, GA, GB)                 \
    BC_DEF_FWD(name##_fwd, FEXPR)                      \
    BC_DEF_BWD_FULL(name##_bwd_full_a, GA)             \
    BC_DEF_BWD_FULL(name##_bwd_full_b, GB)             \
    BC_DEF_BWD_RED(name##_bwd_red_a, GA, 1)            \
    BC_DEF_BWD_RED(name##_bwd_red_b, GB, 0)

BC_DEF_OP(add, x + y, g, g)
BC_DEF_OP(sub, x - y, g, -g)
BC_DEF_OP(mul, x * y, g * y, g * x)
BC_DEF_OP(div, x / y, g / y, -g * x / (y * y))
BC_DEF_OP(pow, powf(x, y), g * y * powf(x, y - 1.0f), g * logf(x) * powf(x, y))
/* numpy's minimum and maximum: a NaN in either gives NaN; the gradient goes
 * to a on ties */
BC_DEF_OP(min, x != x || y != y ? x + y : x <= y ? x : y, x <= y ? g : 0.0f, x <= y ? 0.0f : g)
BC_DEF_OP(max, x != x || y != y ? x + y : x >= y ? x : y, x >= y ? g : 0.0f, x >= y ? 0.0f : g)
/* PRelu: x the input, y the slope (broadcast to x, unidirectionally) */
BC_DEF_OP(prelu, x > 0.0f ? x : y * x, x > 0.0f ? g : g * y, x > 0.0f ? 0.0f : g * x)

typedef void (*bc_fwd_fn)(const bc_iter *, const float *, const float *, float *);
typedef void (*bc_full_fn)(const bc_iter *, const float *, const float *, const float *, float *);
typedef void (*bc_red_fn)(const bc_iter *, const float *, const float *, const float *, float *,
                          int64_t);

static const struct {
    bc_fwd_fn fwd;
    bc_full_fn full[2];
    bc_red_fn red[2];
} bc_kernels[BIN_COUNT] = {
    [BIN_ADD] = {add_fwd, {add_bwd_full_a, add_bwd_full_b}, {add_bwd_red_a, add_bwd_red_b}},
    [BIN_SUB] = {sub_fwd, {sub_bwd_full_a, sub_bwd_full_b}, {sub_bwd_red_a, sub_bwd_red_b}},
    [BIN_MUL] = {mul_fwd, {mul_bwd_full_a, mul_bwd_full_b}, {mul_bwd_red_a, mul_bwd_red_b}},
    [BIN_DIV] = {div_fwd, {div_bwd_full_a, div_bwd_full_b}, {div_bwd_red_a, div_bwd_red_b}},
    [BIN_POW] = {pow_fwd, {pow_bwd_full_a, pow_bwd_full_b}, {pow_bwd_red_a, pow_bwd_red_b}},
    [BIN_MIN] = {min_fwd, {min_bwd_full_a, min_bwd_full_b}, {min_bwd_red_a, min_bwd_red_b}},
    [BIN_MAX] = {max_fwd, {max_bwd_full_a, max_bwd_full_b}, {max_bwd_red_a, max_bwd_red_b}},
    [BIN_PRELU] = {prelu_fwd, {prelu_bwd_full_a, prelu_bwd_full_b}, {prelu_bwd_red_a, prelu_bwd_red_b}},
};

static nns_status binary_prepare_op(const nns_graph *g, const nns_node *n, void *params, int op) {
    binary_params *p = params;
    p->op = op;
    return NNS_OK;
}

static nns_status add_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_ADD); }
static nns_status sub_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_SUB); }
static nns_status mul_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_MUL); }
static nns_status div_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_DIV); }
static nns_status pow_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_POW); }
static nns_status min_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_MIN); }
static nns_status max_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_MAX); }
static nns_status prelu_prepare(const nns_graph *g, const nns_node *n, void *p) { return binary_prepare_op(g, n, p, BIN_PRELU); }

static nns_status binary_infer(const nns_graph *g, const nns_node *n, const void *params,
                               const nns_shape *const *in, nns_shape *out) {
    if (!in[0] || !in[1])
        return nns_error(NNS_STATUS_FORMAT, "node '%s' (%s): needs two inputs", n->name, n->op_type);
    nns_status st = nns_broadcast_shape(n, in[0], in[1], &out[0]);
    if (!st && ((const binary_params *)params)->op == BIN_PRELU && !nns_shape_eq(&out[0], in[0])) {
        char sx[64], ss[64];
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (PRelu): slope '%s' %s does not broadcast to input %s", n->name,
                         g->values[n->in[1]].name, nns_shape_str(in[1], ss, sizeof ss), nns_shape_str(in[0], sx, sizeof sx));
    }
    return st;
}

/* An Add of two operands of the output's shape, none or a fused Relu or
 * Clip after it (a residual connection): the sum and the clamp in one
 * pass, a block of ADD_ACT_BLOCK floats at a time (the clamp reads the
 * block from L1 instead of the whole output again), without the
 * broadcast iterator. 2 threads, AVX-512, builds alternating, medians of
 * 5: resnet8's Adds at batch 1 14 -> 9.5 us, ResNet-18's 67 -> 57 us;
 * at batch 64 (bound by memory) resnet8's 0.40 -> 0.38 ms. */
#define ADD_ACT_BLOCK 4096
static int add_act_same(nns_exec_node *e, int act) {
    const int64_t n = nns_tv_numel(e->out[0]);
    if ((act != NNS_FUSE_ACT_NONE && act != NNS_FUSE_ACT_RELU && act != NNS_FUSE_ACT_CLIP) || nns_tv_numel(e->in[0]) != n ||
        nns_tv_numel(e->in[1]) != n)
        return 0;
    const float *a = nns_tv_cf32(e->in[0]), *b = nns_tv_cf32(e->in[1]);
    float *y = nns_tv_f32(e->out[0]);
    const int64_t nb = (n + ADD_ACT_BLOCK - 1) / ADD_ACT_BLOCK;
#pragma omp parallel for schedule(static) if (n > NNS_OMP_MIN_ELEMS)
    for (int64_t k = 0; k < nb; k++) {
        const int64_t i0 = k * ADD_ACT_BLOCK, len = n - i0 < ADD_ACT_BLOCK ? n - i0 : ADD_ACT_BLOCK;
#pragma omp simd
        for (int64_t i = i0; i < i0 + len; i++) y[i] = a[i] + b[i];
        nns_fuse_act_rows(y + i0, (size_t)len, act, e->epi.lo, e->epi.hi);
    }
    return 1;
}

static void binary_forward(nns_exec_node *e) {
    const binary_params *p = e->params;
    const int act = e->training ? NNS_FUSE_ACT_NONE : e->epi.act; /* an inference plan's Add -> Relu / Clip */
    if (p->op == BIN_ADD && add_act_same(e, act)) return;
    bc_iter it;
    bc_build(&e->in[0]->shape, &e->in[1]->shape, &e->out[0]->shape, &it);
    float *y = nns_tv_f32(e->out[0]);
    bc_kernels[p->op].fwd(&it, nns_tv_cf32(e->in[0]), nns_tv_cf32(e->in[1]), y);
    if (act != NNS_FUSE_ACT_RELU && act != NNS_FUSE_ACT_CLIP) return;
    const int64_t n = nns_tv_numel(e->out[0]), chunk = 16384, nch = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > NNS_OMP_MIN_ELEMS)
    for (int64_t c = 0; c < nch; c++)
        nns_fuse_act_rows(y + c * chunk, (size_t)(n - c * chunk < chunk ? n - c * chunk : chunk), act, e->epi.lo,
                          e->epi.hi);
}

static void binary_backward(nns_exec_node *e) {
    const binary_params *p = e->params;
    const float *gy = e->out[0]->grad;
    if (!gy) return;
    bc_iter it;
    bc_build(&e->in[0]->shape, &e->in[1]->shape, &e->out[0]->shape, &it);
    int64_t no = nns_tv_numel(e->out[0]);
    for (int k = 0; k < 2; k++) {
        float *gx = e->in[k]->grad;
        if (!gx) continue;
        int64_t nx = nns_tv_numel(e->in[k]);
        if (nx == no)
            bc_kernels[p->op].full[k](&it, nns_tv_cf32(e->in[0]), nns_tv_cf32(e->in[1]), gy, gx);
        else
            bc_kernels[p->op].red[k](&it, nns_tv_cf32(e->in[0]), nns_tv_cf32(e->in[1]), gy, gx, nx);
    }
}

#define BINARY_DEF(sym, onnx, prep)                                       \
    const nns_op_def sym = {                                              \
        .name = onnx,                                                     \
        .min_in = 2, .max_in = 2, .min_out = 1, .max_out = 1,             \
        .params_size = sizeof(binary_params),                             \
        .prepare = prep,                                                  \
        .f32_inputs = 3u,                                                 \
        .infer = binary_infer,                                            \
        .forward = binary_forward,                                        \
        .backward = binary_backward,                                      \
        .chan = NNS_OP_CHAN_BROADCAST,                                    \
    };

BINARY_DEF(nns_op_add, "Add", add_prepare)
BINARY_DEF(nns_op_sub, "Sub", sub_prepare)
BINARY_DEF(nns_op_mul, "Mul", mul_prepare)
BINARY_DEF(nns_op_div, "Div", div_prepare)
BINARY_DEF(nns_op_pow, "Pow", pow_prepare)
BINARY_DEF(nns_op_min, "Min", min_prepare)
BINARY_DEF(nns_op_max, "Max", max_prepare)
BINARY_DEF(nns_op_prelu, "PRelu", prelu_prepare)
