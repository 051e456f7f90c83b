/* hardmax.c — Hardmax (1 at the first largest element along `axis`, default
 * -1, 0 elsewhere; opsets < 13 are converted by the importer as Softmax is),
 * IsNaN and IsInf (detect_negative, detect_positive: default 1) with bool
 * outputs. Inference only. */
#include <math.h>

#include "ops/op_util.h"

typedef struct {
    int64_t axis;
    int neg, pos;
} hm_params;

static nns_status hm_prepare(const nns_graph *g, const nns_node *n, void *params) {
    (void)g;
    hm_params *p = params;
    p->axis = nns_node_attr_int(n, "axis", -1);
    p->neg = nns_node_attr_int(n, "detect_negative", 1) != 0;
    p->pos = nns_node_attr_int(n, "detect_positive", 1) != 0;
    return NNS_OK;
}

static nns_status hm_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                           nns_shape *out) {
    (void)g;
    const hm_params *p = params;
    int a;
    if (!strcmp(n->op_type, "Hardmax")) {
        nns_status s = nns_op_norm_axis(n, "axis", p->axis, in[0]->ndim, 0, &a);
        if (s) return s;
        if (in[0]->dims[a] < 0)
            return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Hardmax): along the dynamic batch", n->name);
    }
    out[0] = *in[0];
    return NNS_OK;
}

static void hardmax_forward(nns_exec_node *e) {
    const hm_params *p = e->params;
    const nns_shape *xs = &e->in[0]->shape;
    int a;
    nns_op_norm_axis(e->node, "axis", p->axis, xs->ndim, 0, &a);
    int64_t outer, len, inner;
    nns_axis_split(xs, a, &outer, &len, &inner);
    const float *X = nns_tv_cf32(e->in[0]);
    float *Y = nns_tv_f32(e->out[0]);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            const float *x = X + o * len * inner + i;
            float *y = Y + o * len * inner + i;
            int64_t b = 0;
            for (int64_t k = 1; k < len; k++)
                if (x[k * inner] > x[b * inner] || (x[k * inner] != x[k * inner] && x[b * inner] == x[b * inner]))
                    b = k;
            for (int64_t k = 0; k < len; k++) y[k * inner] = k == b ? 1.0f : 0.0f;
        }
}

static void isnan_forward(nns_exec_node *e) {
    const float *X = nns_tv_cf32(e->in[0]);
    uint8_t *Y = e->out[0]->data;
    const int64_t n = nns_tv_numel(e->in[0]);
    for (int64_t i = 0; i < n; i++) Y[i] = X[i] != X[i];
}

static void isinf_forward(nns_exec_node *e) {
    const hm_params *p = e->params;
    const float *X = nns_tv_cf32(e->in[0]);
    uint8_t *Y = e->out[0]->data;
    const int64_t n = nns_tv_numel(e->in[0]);
    for (int64_t i = 0; i < n; i++) Y[i] = isinf(X[i]) && (X[i] > 0 ? p->pos : p->neg);
}

static const nns_dtype hm_bool_out[1] = {NNS_DTYPE_BOOL};

#define HM_DEF(sym, onnx, fwd, outs)                            \
    const nns_op_def sym = {                                    \
        .name = onnx,                                           \
        .min_in = 1, .max_in = 1, .min_out = 1, .max_out = 1,   \
        .params_size = sizeof(hm_params),                       \
        .prepare = hm_prepare,                                  \
        .f32_inputs = 1u,                                       \
        .out_fixed = outs,                                      \
        .infer = hm_infer,                                      \
        .forward = fwd,                                         \
    };
HM_DEF(nns_op_hardmax, "Hardmax", hardmax_forward, NULL)
HM_DEF(nns_op_isnan, "IsNaN", isnan_forward, hm_bool_out)
HM_DEF(nns_op_isinf, "IsInf", isinf_forward, hm_bool_out)
