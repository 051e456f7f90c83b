/*
 * int8_impl.h — what Int8Conv (int8conv.c) and Int8Gemm (int8gemm.c) share.
 *
 * Both are nnslim's own ops (internal: never imported or exported). The
 * inference plan's int8 lowering (nns_graph_lower_int8, src/graph/) puts
 * them in place of DequantizeLinear -> Conv / Gemm / MatMul [-> Relu |
 * Clip] -> QuantizeLinear, so a quantized model computes in integers:
 *   acc[c] = B[c] + sum (x - x_zp) * (w - w_zp[c])            (int32)
 *   y      = saturate(round_half_even(acc * x_scale * w_scale[c] / y_scale)
 *                     + y_zp), clamped to the fused activation's range,
 * as ONNX's QLinearConv and QLinearMatMul specify; without y_scale and
 * y_zp the output is float, acc * x_scale * w_scale[c], then the
 * activation. Inputs, in QLinearConv's order:
 *   0 x (u8 or s8), 1 x_scale, 2 x_zero_point (optional), 3 w (s8 or u8,
 *   a constant), 4 w_scale (one, or one per output channel), 5
 *   w_zero_point (optional, w's dtype, w_scale's count), 6 y_scale and 7
 *   y_zero_point (u8 or s8; both or neither), 8 B (s32, one per output
 *   channel; optional), 9 r, 10 r_scale, 11 r_zero_point (optional: a
 *   residual, u8 or s8 of the output's shape, added in real values before
 *   the activation: y = act(acc * x_scale * w_scale[c] + (r - r_zp) *
 *   r_scale), then quantized; the lowering fuses a following Add of a
 *   dequantized activation this way).
 * Attributes: act (nns_fuse_act), act_lo, act_hi (Clip's bounds, real
 * values); Int8Conv has Conv's, Int8Gemm trans_b (w is [M, K] when 1,
 * [K, M] when 0).
 *
 * Packed once per plan: w - w_zp as s8 in [M][K] rows, K zero-padded to a
 * multiple of 64 (the GEMM's quads and the GEMV's steps, kernels.h; the check below
 * keeps it in range), the zero point's term folded into the bias, and one
 * float multiplier per channel. An s8 input is shifted to u8 (x + 128,
 * zero point + 128) so that one u8 x s8 kernel serves both.
 */
#ifndef NNS_OPS_INT8_IMPL_H
#define NNS_OPS_INT8_IMPL_H

#include "ops/op_util.h"
#include "ops/window2d.h"

enum { I8_X, I8_XS, I8_XZ, I8_W, I8_WS, I8_WZ, I8_YS, I8_YZ, I8_B, I8_R, I8_RS, I8_RZ, I8_NIN };

typedef struct i8_params {
    nns_window2d win; /* Int8Conv */
    int group;
    int trans_b;      /* Int8Gemm */
    int act;
    float lo, hi;
    int nthreads;
} i8_params;

/* The packed block: this header, then w (m*k s8), bias (m s32), mult (m
 * f32), each 64-byte aligned. */
typedef struct i8_head {
    int32_t qlo, qhi, yzp; /* output range (with the activation) and zero point */
    int32_t m, k;          /* output channels; products per output */
    int32_t ldw;           /* bytes per weight row: nns_qgemv_pad(k), zero-padded */
    int32_t xzp;           /* input zero point as u8 */
    int x_signed, y_float, y_signed;
    int has_res, r_signed; /* a residual (I8_R) */
    int32_t rzp;
    float rmul;            /* r_scale / y_scale (r_scale with a float output) */
    size_t w_off, b_off, mult_off;
} i8_head;

static inline const int8_t *i8_w(const i8_head *h) { return (const int8_t *)((const char *)h + h->w_off); }
static inline const int32_t *i8_bias(const i8_head *h) { return (const int32_t *)((const char *)h + h->b_off); }
static inline const float *i8_mult(const i8_head *h) { return (const float *)((const char *)h + h->mult_off); }

/* Bytes of the packed block for m channels of k products. */
size_t nns_i8_packed_bytes(int64_t m, int64_t k);
/* Validate the quantization inputs of node n whose weight has m output
 * channels of k products each (errors name the node and the input). */
nns_status nns_i8_check(const nns_graph *g, const nns_node *n, int64_t m, int64_t k);
/* Slot `slot` of n is a constant of dtype `want` (NNS_DTYPE_UNDEFINED: u8
 * or s8) holding 1 or `count` elements (count 0: exactly 1); an f32 one
 * holds positive finite scales. */
nns_status nns_i8_check_const(const nns_graph *g, const nns_node *n, int slot, nns_dtype want, int64_t count);
/* The output range [*lo, *hi] of a u8 (s8 when sgn) output with scale ys
 * and zero point zp: the dtype's, narrowed by p's fused activation (the
 * quantized bounds: rounding is monotone, so clamping before or after it
 * gives the same values). */
void nns_i8_range(const i8_params *p, float ys, int32_t zp, int sgn, int32_t *lo, int32_t *hi);
/* Parse act, act_lo, act_hi into p. */
void nns_i8_parse_act(const nns_node *n, i8_params *p);
/* Fill the packed block; w_at(e, c, l) is the weight of output channel c,
 * product l, as stored (before its zero point). */
void nns_i8_pack(const nns_exec_node *e, int64_t m, int64_t k, int32_t (*w_at)(const nns_exec_node *, int64_t, int64_t),
                 void *packed);
/* n values of output channel c from acc (stride 1) to y at element y0,
 * y_step elements apart; r: the residual's data (h->has_res), read at the
 * same elements as y. */
void nns_i8_store(const struct nns_kernels *k, const i8_head *h, const i8_params *p, int64_t c, const int32_t *acc,
                  int64_t n, void *y, int64_t y0, int64_t y_step, const void *r);
/* The residual's data, or NULL. */
static inline const void *residual(const nns_exec_node *e) { return e->n_in > I8_R && e->in[I8_R] ? e->in[I8_R]->data : NULL; }
/* The residual, if any, has the output's shape (errors name the node). */
nns_status nns_i8_check_residual(const nns_node *n, const nns_shape *const *in, const nns_shape *out);
/* Integer element i of a u8, s8 or s32 view (0 for NULL). */
int32_t nns_i8_int_at(const nns_tv *t, int64_t i);

#endif
