/* trilu.c — Trilu: the upper (upper=1, the default) or lower triangle of
 * each matrix in the last two dims, from diagonal k (an optional s64
 * constant scalar input, default 0; positive above the main diagonal),
 * everything else 0. Data of any dtype of 1, 4 or 8 bytes (f32, u8, s8,
 * s32, s64, bool): elements are kept or zeroed. Backward passes the kept
 * elements' gradients. */
#include "ops/op_util.h"

typedef struct {
    int upper;
    int64_t k;
} trilu_params;

static nns_status trilu_prepare(const nns_graph *g, const nns_node *n, void *params) {
    trilu_params *p = params;
    const nns_dtype dt = g->values[n->in[0]].dtype;
    const size_t es = nns_dtype_size(dt);
    if (dt == NNS_DTYPE_F16 || dt == NNS_DTYPE_BF16 || (es != 1 && es != 4 && es != 8))
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Trilu): input 0 '%s' is %s", n->name,
                         g->values[n->in[0]].name, nns_dtype_name(dt));
    p->upper = nns_node_attr_int(n, "upper", 1) != 0;
    p->k = 0;
    if (n->n_in > 1 && n->in[1] >= 0) {
        const nns_value *v = &g->values[n->in[1]];
        if (!v->data || v->dtype != NNS_DTYPE_S64 || nns_shape_numel(&v->shape) != 1)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Trilu): k '%s' must be an s64 constant scalar",
                             n->name, v->name);
        p->k = *(const int64_t *)v->data;
    }
    return NNS_OK;
}

static nns_status trilu_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                              nns_shape *out) {
    (void)g, (void)params;
    if (in[0]->ndim < 2)
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (Trilu): input of rank %d (at least 2)", n->name, in[0]->ndim);
    out[0] = *in[0];
    return NNS_OK;
}

/* 1 if element (i, j) is kept. */
static inline int trilu_keep(const trilu_params *p, int64_t i, int64_t j) {
    return p->upper ? j - i >= p->k : j - i <= p->k;
}

static void trilu_forward(nns_exec_node *e) {
    const trilu_params *p = e->params;
    const nns_shape *s = &e->in[0]->shape;
    const int64_t rows = s->dims[s->ndim - 2], cols = s->dims[s->ndim - 1];
    const int64_t mats = rows > 0 && cols > 0 ? nns_shape_numel(s) / (rows * cols) : 0;
    const size_t es = nns_dtype_size(e->in[0]->dtype);
    const unsigned char *x = e->in[0]->data;
    unsigned char *y = e->out[0]->data;
    for (int64_t m = 0; m < mats; m++)
        for (int64_t i = 0; i < rows; i++) {
            const size_t at = (size_t)((m * rows + i) * cols) * es;
            for (int64_t j = 0; j < cols; j++) {
                if (trilu_keep(p, i, j)) memcpy(y + at + (size_t)j * es, x + at + (size_t)j * es, es);
                else memset(y + at + (size_t)j * es, 0, es);
            }
        }
}

static void trilu_backward(nns_exec_node *e) {
    const trilu_params *p = e->params;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    const nns_shape *s = &e->in[0]->shape;
    const int64_t rows = s->dims[s->ndim - 2], cols = s->dims[s->ndim - 1];
    const int64_t n = nns_shape_numel(s);
    for (int64_t q = 0; q < n; q++)
        if (trilu_keep(p, (q / cols) % rows, q % cols)) gx[q] += gy[q];
}

const nns_op_def nns_op_trilu = {
    .name = "Trilu",
    .min_in = 1, .max_in = 2, .min_out = 1, .max_out = 1,
    .params_size = sizeof(trilu_params),
    .prepare = trilu_prepare,
    .out_dtype = NNS_OUT_SAME_AS(0),
    .infer = trilu_infer,
    .forward = trilu_forward,
    .backward = trilu_backward,
    .nontrainable_inputs = 0x2u,
};
