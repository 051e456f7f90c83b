/* int8add.c — Int8Add: the sum of two quantized tensors of one shape,
 * quantized (nnslim's own op, internal; the int8 lowering puts it in place
 * of DequantizeLinear(a), DequantizeLinear(b) -> Add [-> Relu | Clip] ->
 * QuantizeLinear, as com.microsoft's QLinearAdd without broadcasting):
 *   y = saturate(round_half_even((a - a_zp) * a_scale / y_scale +
 *                                (b - b_zp) * b_scale / y_scale) + y_zp),
 * clamped to the fused activation's range. Inputs: 0 a, 1 a_scale, 2 a_zp
 * (optional), 3 b, 4 b_scale, 5 b_zp (optional), 6 y_scale, 7 y_zp (u8 or
 * s8: y's dtype); a and b u8 or s8, the scales and zero points constants
 * of one value. Attributes act, act_lo, act_hi as Int8Conv's. */
#include <omp.h>

#include "core/qmath.h"
#include "kernels/kernels.h"
#include "ops/int8_impl.h"

/* Values per task. */
#define ADD_BLOCK 16384

enum { A_X, A_S, A_Z, B_X, B_S, B_Z, Y_S, Y_Z, ADD_NIN };

typedef struct i8add_params {
    i8_params act;
} i8add_params;

static int present(const nns_node *n, int slot) { return slot < n->n_in && n->in[slot] >= 0; }

static nns_status check_side(const nns_graph *g, const nns_node *n, int x, int s, int z) {
    const nns_value *v = &g->values[n->in[x]];
    if (v->dtype != NNS_DTYPE_U8 && v->dtype != NNS_DTYPE_S8)
        return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s' (Int8Add): input '%s' is %s, not u8 or s8", n->name, v->name,
                         nns_dtype_name(v->dtype));
    nns_status st = nns_i8_check_const(g, n, s, NNS_DTYPE_F32, 0);
    if (!st && present(n, z)) st = nns_i8_check_const(g, n, z, v->dtype, 0);
    return st;
}

static nns_status i8add_prepare(const nns_graph *g, const nns_node *n, void *params) {
    i8add_params *p = params;
    nns_i8_parse_act(n, &p->act);
    for (int s = 0; s < ADD_NIN; s++)
        if (s != A_Z && s != B_Z && !present(n, s))
            return nns_error(NNS_STATUS_FORMAT, "node '%s' (Int8Add): input %d is required", n->name, s);
    nns_status st = check_side(g, n, A_X, A_S, A_Z);
    if (!st) st = check_side(g, n, B_X, B_S, B_Z);
    if (!st) st = nns_i8_check_const(g, n, Y_S, NNS_DTYPE_F32, 0);
    if (!st) st = nns_i8_check_const(g, n, Y_Z, NNS_DTYPE_UNDEFINED, 0);
    return st;
}

static nns_status i8add_infer(const nns_graph *g, const nns_node *n, const void *params, const nns_shape *const *in,
                              nns_shape *out) {
    (void)g, (void)params;
    const nns_shape *a = in[A_X], *b = in[B_X];
    if (!nns_shape_eq(a, b)) return nns_error(NNS_STATUS_SHAPE, "node '%s' (Int8Add): the two inputs' shapes differ", n->name);
    out[0] = *a;
    return NNS_OK;
}

static int32_t int_at(const nns_tv *t, int64_t i) { return t ? nns_i8_int_at(t, i) : 0; }

static void i8add_forward(nns_exec_node *e) {
    const i8add_params *p = e->params;
    const float ys = nns_tv_cf32(e->in[Y_S])[0];
    const float ma = nns_tv_cf32(e->in[A_S])[0] / ys, mb = nns_tv_cf32(e->in[B_S])[0] / ys;
    const int32_t az = int_at(e->in[A_Z], 0), bz = int_at(e->in[B_Z], 0), yz = nns_i8_int_at(e->in[Y_Z], 0);
    const int as = e->in[A_X]->dtype == NNS_DTYPE_S8, bs = e->in[B_X]->dtype == NNS_DTYPE_S8;
    const int ysg = e->out[0]->dtype == NNS_DTYPE_S8;
    int32_t lo, hi;
    nns_i8_range(&p->act, ys, yz, ysg, &lo, &hi);
    const char *a = e->in[A_X]->data, *b = e->in[B_X]->data;
    char *y = e->out[0]->data;
    const int64_t n = nns_tv_numel(e->out[0]), blocks = (n + ADD_BLOCK - 1) / ADD_BLOCK;
    const int sgn = as | bs << 1 | ysg << 2;
    const nns_q8_add_fn k = e->kern->q8_add;
#pragma omp parallel for schedule(static) if (blocks > 4)
    for (int64_t t = 0; t < blocks; t++) {
        const int64_t i = t * ADD_BLOCK, len = n - i < ADD_BLOCK ? n - i : ADD_BLOCK;
        k((int)len, a + i, az, ma, b + i, bz, mb, yz, lo, hi, sgn, y + i);
    }
}

const nns_op_def nns_op_int8add = {
    .name = "Int8Add",
    .internal = 1,
    .min_in = 1, .max_in = ADD_NIN, /* the zero points a_zp, b_zp may be omitted: prepare checks */ .min_out = 1, .max_out = 1,
    .params_size = sizeof(i8add_params),
    .prepare = i8add_prepare,
    .infer = i8add_infer,
    .forward = i8add_forward,
    .f32_inputs = 1u << A_S | 1u << B_S | 1u << Y_S,
    .out_dtype = NNS_OUT_SAME_AS(Y_Z),
    .nontrainable_inputs = ~0u,
};
