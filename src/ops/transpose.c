/* transpose.c — Transpose: output dim i is input dim perm[i] (default: the
 * dims reversed). The kernel drops size-1 dims and merges output dims that
 * stay adjacent in the input, so NCHW -> NHWC runs as a 3-D [N, C, HW] ->
 * [N, HW, C] walk; when the last two merged dims are swapped (NCHW <-> NHWC,
 * matrix transposes) it works in cache-sized tiles. Forward and backward
 * visit each output element once (a permutation is a bijection), so the
 * threads never write the same element. */
#include "ops/op_util.h"

typedef struct {
    int n;                       /* 0: reverse */
    int64_t perm[NNS_MAX_DIMS];
} transpose_params;

static nns_status transpose_prepare(const nns_graph *g, const nns_node *n, void *params) {
    transpose_params *p = params;
    const int64_t *v;
    int cnt = nns_node_attr_ints(n, "perm", &v);
    if (cnt > NNS_MAX_DIMS)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Transpose): perm has %d entries, more than %d",
                         n->name, cnt, NNS_MAX_DIMS);
    p->n = cnt;
    for (int i = 0; i < cnt; i++) p->perm[i] = v[i];
    return NNS_OK;
}

static void transpose_perm(const transpose_params *p, int rank, int *perm) {
    for (int i = 0; i < rank; i++) perm[i] = p->n ? (int)p->perm[i] : rank - 1 - i;
}

static nns_status transpose_infer(const nns_graph *g, const nns_node *n, const void *params,
                                  const nns_shape *const *in, nns_shape *out) {
    const transpose_params *p = params;
    int rank = in[0]->ndim;
    if (p->n && p->n != rank)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Transpose): perm has %d entries, input has rank %d",
                         n->name, p->n, rank);
    int seen[NNS_MAX_DIMS] = {0};
    for (int i = 0; i < p->n; i++) {
        int64_t v = p->perm[i];
        if (v < 0 || v >= rank || seen[v]++)
            return nns_error(NNS_STATUS_SHAPE, "node '%s' (Transpose): attribute 'perm' is not a permutation of 0..%d",
                             n->name, rank - 1);
    }
    int perm[NNS_MAX_DIMS];
    transpose_perm(p, rank, perm);
    nns_shape o = *in[0];
    for (int i = 0; i < rank; i++) o.dims[i] = in[0]->dims[perm[i]];
    out[0] = o;
    return NNS_OK;
}

typedef struct {
    int nd;
    int64_t size[NNS_MAX_DIMS], sin[NNS_MAX_DIMS]; /* per collapsed output dim */
    int64_t rows, len;
} tr_iter;

static void tr_build(const transpose_params *p, const nns_shape *s, tr_iter *it) {
    int rank = s->ndim, perm[NNS_MAX_DIMS];
    transpose_perm(p, rank, perm);
    int64_t st[NNS_MAX_DIMS], acc = 1;
    for (int d = rank - 1; d >= 0; d--) { st[d] = acc; acc *= s->dims[d]; }
    int nd = 0;
    for (int i = 0; i < rank; i++) {
        int64_t sz = s->dims[perm[i]], stride = st[perm[i]];
        if (sz == 1) continue;
        if (nd > 0 && it->sin[nd - 1] == stride * sz) {
            it->size[nd - 1] *= sz;
            it->sin[nd - 1] = stride;
        } else {
            it->size[nd] = sz;
            it->sin[nd] = stride;
            nd++;
        }
    }
    if (nd == 0) { it->size[0] = 1; it->sin[0] = 1; nd = 1; }
    it->nd = nd;
    it->len = it->size[nd - 1];
    it->rows = 1;
    for (int d = 0; d < nd - 1; d++) it->rows *= it->size[d];
}

static inline int64_t tr_row_offset(const tr_iter *it, int64_t r) {
    int64_t off = 0;
    for (int d = it->nd - 2; d >= 0; d--) {
        off += (r % it->size[d]) * it->sin[d];
        r /= it->size[d];
    }
    return off;
}

/* When the innermost output dim is strided in the input, some other output
 * dim k is the input's contiguous one: the pair (k, last) is a 2-D transpose
 * [A, B] <- [B, A] for every index of the remaining dims. It runs in
 * TR_TILE x TR_TILE tiles so that the strided side stays in cache; forward
 * writes output rows, backward accumulates input rows. */
#define TR_TILE 32

static int tr_contig_dim(const tr_iter *it) {
    if (it->nd < 2 || it->sin[it->nd - 1] == 1) return -1;
    for (int d = 0; d < it->nd - 1; d++)
        if (it->sin[d] == 1) return d;
    return -1;
}

/* bwd = 0: y[out] = x[in]; bwd = 1: gx[in] += gy[out]. */
static void tr_run(const tr_iter *it, const float *src, float *dst, int bwd) {
    const int k = tr_contig_dim(it);
    if (k >= 0) {
        const int nd = it->nd;
        const int64_t A = it->size[k], B = it->len, sb = it->sin[nd - 1];
        int64_t so[NNS_MAX_DIMS], outer = 1;
        so[nd - 1] = 1;
        for (int d = nd - 2; d >= 0; d--) so[d] = so[d + 1] * it->size[d + 1];
        for (int d = 0; d < nd - 1; d++)
            if (d != k) outer *= it->size[d];
        const int64_t ta = (A + TR_TILE - 1) / TR_TILE, tb = (B + TR_TILE - 1) / TR_TILE;
        const int64_t tiles = outer * ta * tb, sa_out = so[k];
#pragma omp parallel for schedule(static) if (outer * A * B > NNS_OMP_MIN_ELEMS)
        for (int64_t t = 0; t < tiles; t++) {
            const int64_t o = t / (ta * tb), a0 = (t / tb) % ta * TR_TILE, b0 = t % tb * TR_TILE;
            int64_t q = o, bin = 0, bout = 0;
            for (int d = nd - 2; d >= 0; d--) {
                if (d == k) continue;
                const int64_t i = q % it->size[d];
                q /= it->size[d];
                bin += i * it->sin[d];
                bout += i * so[d];
            }
            const int64_t a1 = a0 + TR_TILE < A ? a0 + TR_TILE : A;
            const int64_t b1 = b0 + TR_TILE < B ? b0 + TR_TILE : B;
            if (!bwd) {
                for (int64_t a = a0; a < a1; a++)
                    for (int64_t b = b0; b < b1; b++)
                        dst[bout + a * sa_out + b] = src[bin + a + b * sb];
            } else {
                for (int64_t b = b0; b < b1; b++)
                    for (int64_t a = a0; a < a1; a++)
                        dst[bin + a + b * sb] += src[bout + a * sa_out + b];
            }
        }
        return;
    }
    const int64_t len = it->len, s = it->sin[it->nd - 1];
#pragma omp parallel for schedule(static) if (it->rows * len > NNS_OMP_MIN_ELEMS)
    for (int64_t r = 0; r < it->rows; r++) {
        const int64_t in_off = tr_row_offset(it, r), out_off = r * len;
        if (!bwd) {
            const float *x = src + in_off;
            float *y = dst + out_off;
            if (s == 1) memcpy(y, x, (size_t)len * sizeof(float));
            else for (int64_t i = 0; i < len; i++) y[i] = x[i * s];
        } else {
            const float *gy = src + out_off;
            float *gx = dst + in_off;
            for (int64_t i = 0; i < len; i++) gx[i * s] += gy[i];
        }
    }
}

static void transpose_forward(nns_exec_node *e) {
    tr_iter it;
    tr_build(e->params, &e->in[0]->shape, &it);
    tr_run(&it, nns_tv_cf32(e->in[0]), nns_tv_f32(e->out[0]), 0);
}

static void transpose_backward(nns_exec_node *e) {
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    tr_iter it;
    tr_build(e->params, &e->in[0]->shape, &it);
    tr_run(&it, gy, gx, 1);
}

const nns_op_def nns_op_transpose = {
    .name = "Transpose",
    .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,
    .params_size = sizeof(transpose_params),
    .prepare = transpose_prepare,
    .f32_inputs = 1u,
    .infer = transpose_infer,
    .forward = transpose_forward,
    .backward = transpose_backward,
};
