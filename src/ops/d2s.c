/* d2s.c — DepthToSpace (modes DCR, the default, and CRD) and SpaceToDepth
 * on [N, C, H, W] data of any 1-, 4- or 8-byte dtype: the moves of ONNX's
 * definition (a reshape, a transpose, a reshape) as one index map.
 * Backward passes the gradients back along the same map. */
#include "ops/op_util.h"

typedef struct {
    int bs, crd, to_space;
} d2s_params;

static nns_status d2s_prepare_kind(const nns_graph *g, const nns_node *n, void *params, int to_space) {
    d2s_params *p = params;
    const int64_t bs = nns_node_attr_int(n, "blocksize", 0);
    const char *mode = nns_node_attr_string(n, "mode", "DCR");
    const size_t es = nns_dtype_size(g->values[n->in[0]].dtype);
    if (bs < 1 || bs > 4096 || (strcmp(mode, "DCR") && strcmp(mode, "CRD")) || (es != 1 && es != 4 && es != 8) ||
        g->values[n->in[0]].dtype == NNS_DTYPE_F16 || g->values[n->in[0]].dtype == NNS_DTYPE_BF16)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (%s): blocksize %lld, mode '%s' or dtype %s not supported",
                         n->name, n->op_type, (long long)bs, mode, nns_dtype_name(g->values[n->in[0]].dtype));
    p->bs = (int)bs;
    p->crd = !strcmp(mode, "CRD");
    p->to_space = to_space;
    return NNS_OK;
}
static nns_status d2s_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return d2s_prepare_kind(g, n, params, 1);
}
static nns_status s2d_prepare(const nns_graph *g, const nns_node *n, void *params) {
    return d2s_prepare_kind(g, n, params, 0);
}

static nns_status d2s_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                            nns_shape *out) {
    (void)g;
    const d2s_params *p = params;
    const nns_shape *x = in[0];
    const int64_t b = p->bs, b2 = b * b;
    const int bad = x->ndim != 4 || x->dims[1] < 1 || x->dims[2] < 1 || x->dims[3] < 1 ||
                    (p->to_space ? x->dims[1] % b2 : x->dims[2] % b || x->dims[3] % b) ||
                    (!p->to_space && x->dims[1] > ((int64_t)1 << 30) / b2) ||
                    (p->to_space && (x->dims[2] > (int64_t)1 << 24 || x->dims[3] > (int64_t)1 << 24));
    if (bad) {
        char s[128];
        return nns_error(NNS_STATUS_SHAPE, "node '%s' (%s): input %s does not fit blocksize %d", n->name, n->op_type,
                         nns_shape_str(x, s, sizeof s), p->bs);
    }
    *out = *x;
    if (p->to_space) out->dims[1] /= b2, out->dims[2] *= b, out->dims[3] *= b;
    else out->dims[1] *= b2, out->dims[2] /= b, out->dims[3] /= b;
    return NNS_OK;
}

/* For each output element of DepthToSpace ([N, C, H*b, W*b] from
 * [N, C*b*b, H, W]) the input offset; SpaceToDepth is its inverse. BODY
 * with so (offset in the space-side tensor) and dp (in the depth side). */
#define D2S_WALK(e, p, ...)                                                                                  \
    do {                                                                                                     \
        const nns_shape *sp_ = (p)->to_space ? &(e)->out[0]->shape : &(e)->in[0]->shape;                     \
        const int64_t n_ = sp_->dims[0], c_ = sp_->dims[1], h_ = sp_->dims[2], w_ = sp_->dims[3], b_ = (p)->bs; \
        const int64_t hh_ = h_ / b_, ww_ = w_ / b_;                                                          \
        for (int64_t i = 0; i < n_; i++)                                                                     \
            for (int64_t c = 0; c < c_; c++)                                                                 \
                for (int64_t y = 0; y < h_; y++)                                                             \
                    for (int64_t x = 0; x < w_; x++) {                                                       \
                        const int64_t by = y % b_, bx = x % b_;                                              \
                        const int64_t dc = (p)->crd ? (c * b_ + by) * b_ + bx : (by * b_ + bx) * c_ + c;     \
                        const int64_t so = ((i * c_ + c) * h_ + y) * w_ + x;                                 \
                        const int64_t dp = ((i * c_ * b_ * b_ + dc) * hh_ + y / b_) * ww_ + x / b_;          \
                        __VA_ARGS__;                                                                         \
                    }                                                                                        \
    } while (0)

static void d2s_forward(nns_exec_node *e) {
    const d2s_params *p = e->params;
    const size_t es = nns_dtype_size(e->in[0]->dtype);
    const unsigned char *xi = e->in[0]->data;
    unsigned char *yo = e->out[0]->data;
    if (p->to_space) D2S_WALK(e, p, memcpy(yo + (size_t)so * es, xi + (size_t)dp * es, es));
    else D2S_WALK(e, p, memcpy(yo + (size_t)dp * es, xi + (size_t)so * es, es));
}

static void d2s_backward(nns_exec_node *e) {
    const d2s_params *p = e->params;
    float *gx = e->in[0]->grad;
    const float *gy = e->out[0]->grad;
    if (!gx || !gy) return;
    if (p->to_space) D2S_WALK(e, p, gx[dp] += gy[so]);
    else D2S_WALK(e, p, gx[so] += gy[dp]);
}

#define D2S_DEF(sym, onnx, prep)                                         \
    const nns_op_def sym = {                                             \
        .name = onnx,                                                    \
        .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,            \
        .params_size = sizeof(d2s_params),                               \
        .prepare = prep,                                                 \
        .out_dtype = NNS_OUT_SAME_AS(0),                                 \
        .infer = d2s_infer,                                              \
        .forward = d2s_forward,                                          \
        .backward = d2s_backward,                                        \
    };
D2S_DEF(nns_op_depthtospace, "DepthToSpace", d2s_prepare)
D2S_DEF(nns_op_spacetodepth, "SpaceToDepth", s2d_prepare)
