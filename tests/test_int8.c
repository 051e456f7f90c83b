/* test_int8.c — the int8 plan (nns_graph_lower_int8, Int8Conv, Int8Gemm)
 * against an independent oracle: random QDQ layers (u8 and s8 inputs, s8
 * weights and u8 weights with a zero point, per-tensor and per-channel
 * scales, biases, Relu / Clip / no activation, strides, pads, dilations,
 * groups, depthwise, 1x1; Gemm with and without transB, MatMul, float
 * outputs) give exactly the integers a direct loop computes from ONNX's
 * definition (int32 accumulation, bias rounded to s32 at x_scale*w_scale,
 * float multiplier, round half to even, saturation), and stay within one
 * output step of the float simulation of the same QDQ graph. Layers the
 * integer form would change (Gemm alpha) stay float. */
#include <math.h>
#include <string.h>

#include "core/graph_impl.h"
#include "nnslim/nnslim.h"
#include "runtime/plan.h"
#include "testutil.h"

static uint64_t rng = 12345;
static int rnd(int lo, int hi) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (int)((int64_t)lo + (int64_t)((rng >> 33) % (uint64_t)((int64_t)hi - lo + 1)));
}
static float frnd(float lo, float hi) { return lo + (hi - lo) * (float)rnd(0, 1 << 20) / (float)(1 << 20); }

typedef struct layer_case {
    int conv;                   /* 1 Conv, 0 Gemm / MatMul */
    int matmul, trans_b;        /* the dense forms */
    int n, c, m, h, w, k, s, p, d, group;
    int x_signed, w_u8, per_ch, bias, act, y_float; /* act: 0 none, 1 Relu, 2 Clip */
    float xs, xz, ys, yz, lo, hi;
    float ws[128];
    int wz[128];
    int64_t wdims[4], wn;
    int8_t wq[128 * 64 * 9];
    float b[128];
} layer_case;

static int oh_of(const layer_case *t) { return (t->h + 2 * t->p - t->d * (t->k - 1) - 1) / t->s + 1; }
static int ow_of(const layer_case *t) { return (t->w + 2 * t->p - t->d * (t->k - 1) - 1) / t->s + 1; }

static void random_case(layer_case *t, int conv, int it) {
    memset(t, 0, sizeof *t);
    t->conv = conv;
    t->n = rnd(1, 3);
    t->x_signed = it % 3 == 1, t->w_u8 = it % 4 == 3, t->per_ch = it % 2 == 0, t->bias = it % 5 != 4;
    t->act = it % 3, t->y_float = it % 7 == 6;
    t->xs = frnd(0.01f, 0.05f), t->xz = t->x_signed ? 0 : (float)rnd(0, 255);
    t->ys = frnd(0.05f, 0.3f), t->yz = (float)(t->x_signed ? rnd(-20, 20) : rnd(0, 255));
    t->lo = frnd(-1.0f, 0.0f), t->hi = frnd(0.5f, 4.0f);
    if (conv) {
        t->group = it % 4 == 1 ? 2 : 1;
        t->c = rnd(1, t->group == 1 ? 12 : 6) * t->group, t->m = rnd(1, 8) * t->group; /* several channel quads */
        if (it % 4 == 2) t->group = t->c = t->m = rnd(1, 10); /* depthwise */
        if (it % 10 == 7) t->n = 1, t->m = rnd(32, 60) * t->group; /* one image, its channels split over threads */
        t->k = it % 5 == 0 ? 1 : rnd(1, 3) * 2 - 1, t->s = rnd(1, 2), t->p = rnd(0, t->k / 2), t->d = it % 6 == 5 ? 2 : 1;
        t->h = rnd(t->d * (t->k - 1) + 1, 12), t->w = rnd(t->d * (t->k - 1) + 1, 12);
        if (it % 5 == 0) t->s = 1, t->p = 0; /* the direct 1x1 path */
        t->wdims[0] = t->m, t->wdims[1] = t->c / t->group, t->wdims[2] = t->wdims[3] = t->k;
        t->wn = (int64_t)t->m * (t->c / t->group) * t->k * t->k;
    } else {
        t->matmul = it % 3 == 0, t->trans_b = !t->matmul && it % 2;
        t->c = rnd(1, 70), t->m = rnd(1, 40), t->n = rnd(1, 9);
        t->wdims[0] = t->trans_b ? t->m : t->c, t->wdims[1] = t->trans_b ? t->c : t->m;
        t->wn = (int64_t)t->m * t->c;
        t->bias = t->bias && !t->matmul;
    }
    for (int c = 0; c < t->m; c++) {
        t->ws[c] = frnd(0.002f, 0.02f);
        t->wz[c] = t->w_u8 ? rnd(120, 128) : 0;
        t->b[c] = frnd(-2.0f, 2.0f);
    }
    for (int64_t i = 0; i < t->wn; i++) t->wq[i] = (int8_t)rnd(t->w_u8 ? -120 : -128, 127); /* w - zp; stored + zp when u8 */
}

/* Output channel of weight element i. */
static int w_channel(const layer_case *t, int64_t i) {
    if (t->conv) return (int)(i / (t->wn / t->m));
    return t->trans_b ? (int)(i / t->c) : (int)(i % t->m);
}

static nns_status add_weight(nns_graph *g, const layer_case *t) {
    const nns_shape ws = nns_shape_make(t->conv ? 4 : 2, t->wdims), cs = nns_shape_make(t->per_ch ? 1 : 0, (int64_t[]){t->m});
    uint8_t raw[128 * 64 * 9], z[128];
    for (int64_t i = 0; i < t->wn; i++) {
        const int c = t->per_ch ? w_channel(t, i) : 0;
        raw[i] = t->w_u8 ? (uint8_t)(t->wq[i] + t->wz[c]) : (uint8_t)t->wq[i];
    }
    for (int c = 0; c < t->m; c++) z[c] = (uint8_t)t->wz[c];
    nns_status st = nns_graph_add_param(g, "wq", t->w_u8 ? NNS_DTYPE_U8 : NNS_DTYPE_S8, &ws, raw, 0, NULL);
    if (!st) st = nns_graph_add_param(g, "ws", NNS_DTYPE_F32, &cs, t->ws, 0, NULL);
    if (!st && t->w_u8) st = nns_graph_add_param(g, "wz", NNS_DTYPE_U8, &cs, z, 0, NULL);
    const char *in[3] = {"wq", "ws", "wz"};
    int k = -1;
    if (!st) st = nns_graph_add_node(g, "DequantizeLinear", "dqw", t->w_u8 ? 3 : 2, in, 1, (const char *[]){"w"}, &k);
    const int out_axis = t->conv || t->trans_b ? 0 : 1;
    if (!st && t->per_ch) st = nns_graph_set_attr_int(g, k, "axis", out_axis);
    return st;
}

static nns_status add_layer(nns_graph *g, const layer_case *t) {
    const nns_shape bs = nns_shape_make(1, (int64_t[]){t->m});
    nns_status st = t->bias ? nns_graph_add_param(g, "b", NNS_DTYPE_F32, &bs, t->b, 0, NULL) : NNS_OK;
    const char *in[3] = {"xd", "w", "b"};
    int k = -1;
    const char *op = t->conv ? "Conv" : t->matmul ? "MatMul" : "Gemm";
    if (!st) st = nns_graph_add_node(g, op, "layer", t->bias ? 3 : 2, in, 1, (const char *[]){"y"}, &k);
    if (!st && t->conv) {
        st = nns_graph_set_attr_ints(g, k, "strides", 2, (int64_t[]){t->s, t->s});
        if (!st) st = nns_graph_set_attr_ints(g, k, "pads", 4, (int64_t[]){t->p, t->p, t->p, t->p});
        if (!st) st = nns_graph_set_attr_ints(g, k, "dilations", 2, (int64_t[]){t->d, t->d});
        if (!st) st = nns_graph_set_attr_int(g, k, "group", t->group);
    }
    if (!st && !t->conv && !t->matmul) st = nns_graph_set_attr_int(g, k, "transB", t->trans_b);
    const nns_shape one = nns_shape_make(0, NULL);
    if (!st && t->act == 2) st = nns_graph_add_param(g, "lo", NNS_DTYPE_F32, &one, &t->lo, 0, NULL);
    if (!st && t->act == 2) st = nns_graph_add_param(g, "hi", NNS_DTYPE_F32, &one, &t->hi, 0, NULL);
    const char *ain[3] = {"y", "lo", "hi"};
    if (!st && t->act) st = nns_graph_add_node(g, t->act == 1 ? "Relu" : "Clip", "act", t->act == 1 ? 1 : 3, ain, 1,
                                              (const char *[]){"ya"}, NULL);
    return st;
}

/* x -> Q -> DQ -> layer(DQ(w), b) [-> act] [-> Q: output yq]. */
static nns_graph *build(const layer_case *t) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_create(&g);
    const int64_t xd4[4] = {t->n, t->c, t->h, t->w}, xd2[2] = {t->n, t->c};
    const nns_shape xs = nns_shape_make(t->conv ? 4 : 2, t->conv ? xd4 : xd2), one = nns_shape_make(0, NULL);
    const nns_dtype zt = t->x_signed ? NNS_DTYPE_S8 : NNS_DTYPE_U8;
    const uint8_t xz = (uint8_t)(int)t->xz, yz = (uint8_t)(int)t->yz;
    if (!st) st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st) st = nns_graph_add_param(g, "xs", NNS_DTYPE_F32, &one, &t->xs, 0, NULL);
    if (!st) st = nns_graph_add_param(g, "xz", zt, &one, &xz, 0, NULL);
    if (!st) st = nns_graph_add_param(g, "ys", NNS_DTYPE_F32, &one, &t->ys, 0, NULL);
    if (!st) st = nns_graph_add_param(g, "yz", zt, &one, &yz, 0, NULL);
    const char *qin[3] = {"x", "xs", "xz"}, *din[3] = {"xq", "xs", "xz"};
    if (!st) st = nns_graph_add_node(g, "QuantizeLinear", "qx", 3, qin, 1, (const char *[]){"xq"}, NULL);
    if (!st) st = nns_graph_add_node(g, "DequantizeLinear", "dqx", 3, din, 1, (const char *[]){"xd"}, NULL);
    if (!st) st = add_weight(g, t);
    if (!st) st = add_layer(g, t);
    const char *yin[3] = {t->act ? "ya" : "y", "ys", "yz"};
    if (!st && !t->y_float) st = nns_graph_add_node(g, "QuantizeLinear", "qy", 3, yin, 1, (const char *[]){"yq"}, NULL);
    if (!st) st = nns_graph_add_output(g, t->y_float ? yin[0] : "yq");
    if (!st) st = nns_graph_finalize(g);
    CHECK_OK(st);
    if (st) nns_graph_free(g);
    return st ? NULL : g;
}

/* The oracle's int32 accumulator of output (b, c, oy, ox) (dense: oy = ox = 0). */
static int64_t acc_of(const layer_case *t, const int32_t *xq, int b, int c, int oy, int ox, int32_t bq) {
    int64_t acc = bq;
    if (!t->conv) {
        for (int l = 0; l < t->c; l++) {
            const int64_t wi = t->trans_b ? (int64_t)c * t->c + l : (int64_t)l * t->m + c;
            acc += (int64_t)(xq[b * t->c + l] - (int)t->xz) * t->wq[wi];
        }
        return acc;
    }
    const int cg = t->c / t->group, mg = t->m / t->group, g0 = c / mg * cg;
    for (int ci = 0; ci < cg; ci++)
        for (int i = 0; i < t->k; i++)
            for (int j = 0; j < t->k; j++) {
                const int iy = oy * t->s - t->p + i * t->d, ix = ox * t->s - t->p + j * t->d;
                if (iy < 0 || iy >= t->h || ix < 0 || ix >= t->w) continue; /* x - zp = 0 there */
                const int32_t xv = xq[((b * t->c + g0 + ci) * t->h + iy) * t->w + ix];
                acc += (int64_t)(xv - (int)t->xz) * t->wq[((int64_t)c * cg + ci) * t->k * t->k + i * t->k + j];
            }
    return acc;
}

/* What ONNX's definition gives for output element (b, c, pos), as a float
 * (float output) or the integer. */
static double oracle(const layer_case *t, const int32_t *xq, int b, int c, int oy, int ox) {
    const float sx = t->xs * t->ws[t->per_ch ? c : 0];
    const int32_t bq = t->bias ? (int32_t)rint((double)t->b[c] / (double)sx) : 0;
    const int64_t acc = acc_of(t, xq, b, c, oy, ox, bq);
    if (t->y_float) {
        const float v = (float)acc * sx;
        return t->act == 1 ? (v > 0 ? v : 0) : t->act == 2 ? fminf(fmaxf(v, t->lo), t->hi) : v;
    }
    const int32_t qlo = t->x_signed ? -128 : 0, qhi = t->x_signed ? 127 : 255;
    int32_t q = nns_requantize((int32_t)acc, sx / t->ys, (int32_t)t->yz, qlo, qhi);
    if (t->act) { /* Q(act(v)) == clamp(Q(v), Q(lo), Q(hi)): quantization is monotone */
        const int32_t lo = nns_quantize_value((t->act == 1 ? 0.0f : t->lo) / t->ys, (int32_t)t->yz, qlo, qhi);
        q = q < lo ? lo : q;
        if (t->act == 2) {
            const int32_t hi = nns_quantize_value(t->hi / t->ys, (int32_t)t->yz, qlo, qhi);
            q = q > hi ? hi : q;
        }
    }
    return q;
}

/* Output element i of plan output v as a double. */
static double out_at(const nns_tv *v, int64_t i) {
    if (v->dtype == NNS_DTYPE_U8) return ((const uint8_t *)v->data)[i];
    if (v->dtype == NNS_DTYPE_S8) return ((const int8_t *)v->data)[i];
    return ((const float *)v->data)[i];
}

/* Run graph c on x; *out: the plan (caller frees). */
static nns_plan *run(nns_graph *c, const layer_case *t, const float *x, int64_t nx) {
    nns_plan *p = NULL;
    CHECK_OK(nns_graph_pack_params(c));
    CHECK_OK(nns_plan_create(c, t->n, 0, NULL, &p));
    if (p) {
        memcpy(nns_plan_input(p, 0)->data, x, (size_t)nx * sizeof *x);
        nns_plan_forward(p, 0);
    }
    return p;
}

static int count_op(const nns_graph *g, const char *op) {
    int k = 0;
    for (int i = 0; g && i < g->n_nodes; i++) k += strcmp(g->nodes[i].op_type, op) == 0;
    return k;
}

/* Case t: the lowered graph against the oracle (exactly), and against the
 * float simulation (within one output step; the bias's rounding for a
 * float output). */
static void check_case(const layer_case *t, int it) {
    nns_graph *g = build(t), *lo = NULL, *fl = NULL;
    if (!g) return;
    const int oh = t->conv ? oh_of(t) : 1, ow = t->conv ? ow_of(t) : 1;
    const int64_t nx = (int64_t)t->n * t->c * (t->conv ? t->h * t->w : 1), ny = (int64_t)t->n * t->m * oh * ow;
    float *x = malloc((size_t)nx * sizeof *x);
    int32_t *xq = malloc((size_t)nx * sizeof *xq);
    const int32_t qlo = t->x_signed ? -128 : 0, qhi = t->x_signed ? 127 : 255;
    for (int64_t i = 0; i < nx; i++) {
        x[i] = i % 17 == 3 ? frnd(-20.0f, 20.0f) : frnd(-3.0f, 3.0f); /* some saturate */
        xq[i] = nns_quantize_value(x[i] / t->xs, (int32_t)t->xz, qlo, qhi);
    }
    CHECK_OK(nns_graph_exec_copy(g, &lo));
    setenv("NNS_INT8", "0", 1);
    CHECK_OK(nns_graph_exec_copy(g, &fl));
    unsetenv("NNS_INT8");
    CHECK_MSG(count_op(lo, t->conv ? "Int8Conv" : "Int8Gemm") == 1 && count_op(fl, "Int8Conv") + count_op(fl, "Int8Gemm") == 0,
              "case %d: lowered to one integer node", it);
    nns_plan *pl = lo ? run(lo, t, x, nx) : NULL, *pf = fl ? run(fl, t, x, nx) : NULL;
    int64_t bad = 0, far = 0;
    for (int64_t i = 0; pl && pf && i < ny; i++) {
        const int b = (int)(i / ((int64_t)t->m * oh * ow)), c = (int)(i / ((int64_t)oh * ow) % t->m);
        const int pos = (int)(i % ((int64_t)oh * ow));
        const int64_t at = t->conv ? i : (int64_t)b * t->m + c; /* dense outputs are [N, M] */
        const double want = oracle(t, xq, b, c, pos / ow, pos % ow), got = out_at(nns_plan_output(pl, 0), at);
        const double sim = out_at(nns_plan_output(pf, 0), at);
        bad += got != want;
        const double sx = (double)t->xs * t->ws[t->per_ch ? c : 0];
        far += t->y_float ? fabs(sim - got) > 0.51 * sx + 1e-4 * fabs(sim) : fabs(sim - got) > 1.0;
    }
    CHECK_MSG(pl && pf && bad == 0 && far == 0,
              "case %d (%s%s c%d m%d k%d s%d p%d d%d g%d x%s w%s %s act%d %s): %lld of %lld differ from the oracle, "
              "%lld from the simulation",
              it, t->conv ? "conv" : t->matmul ? "matmul" : "gemm", t->trans_b ? " transB" : "", t->c, t->m, t->k, t->s,
              t->p, t->d, t->group, t->x_signed ? "s8" : "u8", t->w_u8 ? "u8" : "s8", t->per_ch ? "per-channel" : "per-tensor",
              t->act, t->y_float ? "float out" : "q out", (long long)bad, (long long)ny, (long long)far);
    nns_plan_free(pl);
    nns_plan_free(pf);
    nns_graph_free(lo);
    nns_graph_free(fl);
    nns_graph_free(g);
    free(x);
    free(xq);
}

/* A Gemm with alpha != 1 stays float (its integer form would need another
 * multiplier), and still runs. */
static void stays_float(void) {
    layer_case t;
    random_case(&t, 0, 1);
    t.matmul = 0;
    nns_graph *g = build(&t), *c = NULL;
    if (!g) return;
    nns_graph_set_attr_float(g, nns_graph_find_node(g, "layer"), "alpha", 2.0f);
    CHECK_OK(nns_graph_finalize(g));
    int n = -1;
    CHECK_OK(nns_graph_exec_copy(g, &c));
    CHECK(c && count_op(c, "Int8Gemm") == 0 && count_op(c, "Gemm") == 1);
    CHECK_OK(nns_graph_lower_int8(g, &n));
    CHECK(n == 0);
    nns_graph_free(c);
    nns_graph_free(g);
}

int main(void) {
    layer_case t;
    for (int it = 0; it < 120; it++) {
        random_case(&t, 1, it);
        check_case(&t, it);
    }
    for (int it = 0; it < 60; it++) {
        random_case(&t, 0, it);
        check_case(&t, 1000 + it);
    }
    stays_float();
    TEST_MAIN_END();
}
