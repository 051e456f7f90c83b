/* test_qdq.c — QuantizeLinear and DequantizeLinear in the runtime:
 * outputs of the ONNX dtypes (u8 without a zero point, else the zero
 * point's), values bit for bit equal to nnslim/quant.h's rule per tensor
 * and per axis, DequantizeLinear of u8, s8 and s32 constants; refusals that
 * name the node and element (a scale of 0, negative or NaN; an s32 zero
 * point that is not 0; zero point dtypes); and an ONNX round trip that keeps
 * the s8 weight s8 and the outputs equal. Opset 21's blocked
 * DequantizeLinear: s4 / u4 constants (folded) and a u8 activation (the op),
 * every value against (q - zp[block]) * scale[block]; a scale of the wrong
 * shape and QuantizeLinear's block_size refused by name; the s4 weight
 * saved packed (INT4, opset 21) and loaded back equal. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nnslim/nnslim.h"
#include "runtime/plan.h"
#include "testutil.h"

#define C 3
static const int64_t XD[4] = {2, C, 2, 5};
#define NX (2 * C * 10)

static float g_x[NX];

/* A graph x -> QuantizeLinear(scale, zp) -> DequantizeLinear -> y, with
 * q = the quantized value also an output. nch scales along axis 1; zp_dt
 * UNDEFINED: no zero point. */
static nns_status build(nns_graph **out, const float *scale, int nch, nns_dtype zp_dt, const void *zp) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_create(&g);
    nns_shape xs = nns_shape_make(4, XD), ss = nns_shape_make(nch == 1 ? 0 : 1, (int64_t[]){nch});
    if (!st) st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st) st = nns_graph_add_param(g, "s", NNS_DTYPE_F32, &ss, scale, 0, NULL);
    if (!st && zp_dt) st = nns_graph_add_param(g, "z", zp_dt, &ss, zp, 0, NULL);
    const char *qin[3] = {"x", "s", "z"}, *din[3] = {"q", "s", "z"};
    const int n_in = zp_dt ? 3 : 2;
    if (!st) st = nns_graph_add_node(g, "QuantizeLinear", "quant", n_in, qin, 1, (const char *[]){"q"}, NULL);
    if (!st) st = nns_graph_add_node(g, "DequantizeLinear", "dequant", n_in, din, 1, (const char *[]){"y"}, NULL);
    if (!st) st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_add_output(g, "q");
    if (!st) st = nns_graph_finalize(g);
    if (st) nns_graph_free(g);
    *out = st ? NULL : g;
    return st;
}

/* Run g on g_x (batch 2); check q and y against the rule. */
static void check_run(nns_graph *g, const float *scale, int nch, nns_dtype qt, const int32_t *zp) {
    nns_plan *p = NULL;
    CHECK_OK(nns_graph_pack_params(g));
    CHECK_OK(nns_plan_create(g, 2, 0, NULL, &p));
    if (!p) return;
    memcpy(nns_plan_input(p, 0)->data, g_x, sizeof g_x);
    nns_plan_forward(p, 0);
    const nns_tv *y = nns_plan_output(p, 0), *q = nns_plan_output(p, 1);
    CHECK(q->dtype == qt && y->dtype == NNS_DTYPE_F32);
    const int32_t lo = qt == NNS_DTYPE_S8 ? -128 : 0, hi = qt == NNS_DTYPE_S8 ? 127 : 255;
    int bad = 0;
    for (int i = 0; i < NX && q->dtype == qt; i++) {
        const int c = nch == 1 ? 0 : (i / 10) % C;
        const int32_t want = nns_quantize_value(g_x[i] / scale[c], zp[c], lo, hi);
        const int32_t got = qt == NNS_DTYPE_S8 ? ((const int8_t *)q->data)[i] : ((const uint8_t *)q->data)[i];
        const float yw = (float)(want - zp[c]) * scale[c];
        if ((got != want || nns_tv_cf32(y)[i] != yw) && bad++ < 3)
            fprintf(stderr, "x[%d] = %g: q %d y %g, want %d %g\n", i, g_x[i], got, nns_tv_cf32(y)[i], want, yw);
    }
    CHECK_MSG(bad == 0, "%d of %d values differ from the rule (%d scales, %s)", bad, NX, nch, nns_dtype_name(qt));
    nns_plan_free(p);
}

static void values(void) {
    const float s1[1] = {0.02f}, sc[C] = {0.01f, 0.05f, 0.003f};
    const int32_t z0[C] = {0, 0, 0}, zs[C] = {3, -7, 0}, zu[C] = {128, 0, 255};
    const int8_t zs8[C] = {3, -7, 0};
    const uint8_t zu8[C] = {128, 0, 255};
    nns_graph *g = NULL;
    CHECK_OK(build(&g, s1, 1, NNS_DTYPE_UNDEFINED, NULL)); /* no zero point: u8, 0 */
    if (g) check_run(g, s1, 1, NNS_DTYPE_U8, z0);
    nns_graph_free(g);
    CHECK_OK(build(&g, sc, C, NNS_DTYPE_S8, zs8));
    if (g) check_run(g, sc, C, NNS_DTYPE_S8, zs);
    nns_graph_free(g);
    CHECK_OK(build(&g, sc, C, NNS_DTYPE_U8, zu8));
    if (g) check_run(g, sc, C, NNS_DTYPE_U8, zu);
    /* the ONNX round trip keeps the u8 zero point u8 and gives the same values */
    char path[] = "/tmp/nns_qdq_XXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (g && fd >= 0) {
        close(fd);
        CHECK_OK(nns_graph_save_onnx(g, path));
        nns_graph *h = NULL;
        CHECK_OK(nns_graph_load_onnx(path, &h));
        if (h) {
            const int z = nns_graph_find_value(h, "z");
            CHECK(z >= 0 && h->values[z].dtype == NNS_DTYPE_U8);
            check_run(h, sc, C, NNS_DTYPE_U8, zu);
        }
        nns_graph_free(h);
        unlink(path);
    }
    nns_graph_free(g);
}

/* The finalize error of a graph with this scale / zero point, naming needle. */
static void refused(const float *scale, int nch, nns_dtype zp_dt, const void *zp, const char *needle) {
    nns_graph *g = NULL;
    nns_status st = build(&g, scale, nch, zp_dt, zp);
    CHECK_MSG(st != NNS_OK, "accepted a graph that should name '%s'", needle);
    CHECK_MSG(st == NNS_OK || strstr(nns_last_error(), needle), "error '%s' does not name '%s'", nns_last_error(), needle);
    CHECK(strchr(nns_last_error(), '\n') == NULL);
    nns_graph_free(g);
}

static void refusals(void) {
    const uint8_t zu[C] = {0, 0, 0};
    const float zero[C] = {0.1f, 0.0f, 0.1f}, neg[C] = {0.1f, 0.1f, -0.5f}, nan_[C] = {NAN, 0.1f, 0.1f};
    const float inf_[1] = {INFINITY};
    refused(zero, C, NNS_DTYPE_U8, zu, "'s'[1] is 0");
    refused(neg, C, NNS_DTYPE_U8, zu, "'s'[2] is -0.5");
    refused(nan_, C, NNS_DTYPE_U8, zu, "'s'[0] is nan");
    refused(inf_, 1, NNS_DTYPE_U8, zu, "'s'[0] is inf");
    refused(zero, C, NNS_DTYPE_U8, zu, "node 'quant' (QuantizeLinear)");
    const int32_t z32[C] = {0, 0, 0};
    const float sc[C] = {0.1f, 0.1f, 0.1f};
    refused(sc, C, NNS_DTYPE_S32, z32, "zero point 'z' is s32; u8 and s8");
    const float four[4] = {1, 1, 1, 1};
    refused(four, 4, NNS_DTYPE_U8, (uint8_t[4]){0}, "4 scales for dim 1 of length 3");
}

/* DequantizeLinear of an s32 constant (a bias): zero point absent or 0. */
static void dequant_s32(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    nns_shape bs = nns_shape_make(1, (int64_t[]){3}), one = nns_shape_make(0, NULL), xs = nns_shape_make(2, (int64_t[]){1, 3});
    const int32_t b[3] = {-70000, 0, 123456};
    const float s = 0.001f;
    const int32_t z = 5;
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    CHECK_OK(nns_graph_add_param(g, "b", NNS_DTYPE_S32, &bs, b, 0, NULL));
    CHECK_OK(nns_graph_add_param(g, "bs", NNS_DTYPE_F32, &one, &s, 0, NULL));
    CHECK_OK(nns_graph_add_param(g, "bz", NNS_DTYPE_S32, &one, &z, 0, NULL));
    CHECK_OK(nns_graph_add_node(g, "DequantizeLinear", "dqb", 3, (const char *[]){"b", "bs", "bz"}, 1,
                                (const char *[]){"bf"}, NULL));
    CHECK_OK(nns_graph_add_node(g, "Add", "add", 2, (const char *[]){"x", "bf"}, 1, (const char *[]){"y"}, NULL));
    CHECK_OK(nns_graph_add_output(g, "y"));
    nns_status st = nns_graph_finalize(g);
    CHECK(st != NNS_OK && strstr(nns_last_error(), "'bz'[0] is not 0") && strstr(nns_last_error(), "dqb"));
    nns_graph_free(g);
}

/* u8 x [1, 3, 5, 5] -> ConvInteger(w [4, 3, 3, 3] s8, no x zero point,
 * w zero point wz of wz_n values of dtype wt) -> Cast(to) -> y: refused at
 * finalize with an error containing `want` (NULL: accepted). */
static void integer_conv(int64_t wz_n, nns_dtype wt, int64_t to, const char *want) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    nns_shape xs = nns_shape_make(4, (int64_t[]){1, 3, 5, 5}), ws = nns_shape_make(4, (int64_t[]){4, 3, 3, 3}),
              zs = nns_shape_make(1, (int64_t[]){wz_n});
    static int8_t w[4 * 27], wz[8];
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_U8, &xs, NULL));
    CHECK_OK(nns_graph_add_param(g, "w", NNS_DTYPE_S8, &ws, w, 0, NULL));
    CHECK_OK(nns_graph_add_param(g, "wz", wt, &zs, wz, 0, NULL));
    CHECK_OK(nns_graph_add_node(g, "ConvInteger", "ci", 4, (const char *[]){"x", "w", "", "wz"}, 1,
                                (const char *[]){"acc"}, NULL));
    int ni = -1;
    CHECK_OK(nns_graph_add_node(g, "Cast", "cast", 1, (const char *[]){"acc"}, 1, (const char *[]){"y"}, &ni));
    CHECK_OK(nns_graph_set_attr_int(g, ni, "to", to));
    CHECK_OK(nns_graph_add_output(g, "y"));
    nns_status st = nns_graph_finalize(g);
    if (want) CHECK_MSG(st != NNS_OK && strstr(nns_last_error(), want), "integer_conv: got '%s'", nns_last_error());
    else CHECK_MSG(st == NNS_OK && g->values[g->nodes[0].out[0]].dtype == NNS_DTYPE_S32, "integer_conv: %s", nns_last_error());
    nns_graph_free(g);
}

/* ConvInteger: s32 sums, one weight zero point per output channel; wrong
 * zero-point shapes or dtypes, a Cast to another type than float, float16 or
 * bfloat16, and a cast of s32 to bfloat16 refused by
 * name. */
static void integer_refusals(void) {
    integer_conv(4, NNS_DTYPE_S8, 1, NULL);
    integer_conv(3, NNS_DTYPE_S8, 1, "node 'ci' (ConvInteger): zero point 'wz' has shape [3]; one value or 4");
    integer_conv(4, NNS_DTYPE_U8, 1, "zero point 'wz' is u8, input 'w' is s8");
    integer_conv(4, NNS_DTYPE_S8, 6,
                 "node 'cast' (Cast): only casts to float, float16 or bfloat16 (to=1, 10, 16) are supported, not to=6");
    integer_conv(4, NNS_DTYPE_S8, 16, "node 'cast' (Cast): a cast to bf16 reads f32 or bf16, not s32 ('acc')");
}

/* x [2, 5] (batch 2) + DequantizeLinear(w [2, 5] of qt, scale [2, 2], zero
 * point [2, 2] when zp is given; axis 1, block_size 3) -> y; w_input: w is
 * x -> QuantizeLinear(1, 0: u8) instead of a constant (the op runs). */
static nns_status build_blocked(nns_graph **out, nns_dtype qt, const void *w, const void *zp, const int64_t *sdims,
                                int64_t block, int w_input) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_create(&g);
    const nns_shape xs = nns_shape_make(2, (int64_t[]){2, 5}), ss = nns_shape_make(2, sdims), one = nns_shape_make(0, NULL);
    static const float sc[4] = {0.5f, 0.25f, 2.0f, 0.125f}, unit = 1.0f;
    static const uint8_t z0 = 0;
    if (!st) st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st && !w_input) st = nns_graph_add_param(g, "w", qt, &xs, w, 0, NULL);
    if (!st) st = nns_graph_add_param(g, "s", NNS_DTYPE_F32, &ss, sc, 0, NULL);
    if (!st && zp) st = nns_graph_add_param(g, "z", qt, &ss, zp, 0, NULL);
    if (!st && w_input) st = nns_graph_add_param(g, "one", NNS_DTYPE_F32, &one, &unit, 0, NULL);
    if (!st && w_input) st = nns_graph_add_param(g, "zero", NNS_DTYPE_U8, &one, &z0, 0, NULL);
    if (!st && w_input)
        st = nns_graph_add_node(g, "QuantizeLinear", "q", 3, (const char *[]){"x", "one", "zero"}, 1, (const char *[]){"w"}, NULL);
    int dq = -1;
    if (!st)
        st = nns_graph_add_node(g, "DequantizeLinear", "dq", zp ? 3 : 2, (const char *[]){"w", "s", "z"}, 1,
                                (const char *[]){"wf"}, &dq);
    if (!st) st = nns_graph_set_attr_int(g, dq, "axis", 1);
    if (!st) st = nns_graph_set_attr_int(g, dq, "block_size", block);
    if (!st) st = nns_graph_add_node(g, "Add", "add", 2, (const char *[]){"x", "wf"}, 1, (const char *[]){"y"}, NULL);
    if (!st) st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_finalize(g);
    if (st) nns_graph_free(g);
    *out = st ? NULL : g;
    return st;
}

/* y of g for input x (its fixed batch of 2: 10 values), run as sessions
 * run it: constant DequantizeLinear folded first (nns_graph_exec_copy). */
static void run_blocked(nns_graph *g, const float *x, float *y) {
    nns_graph *e = NULL;
    nns_plan *p = NULL;
    CHECK_OK(nns_graph_pack_params(g));
    CHECK_OK(nns_graph_exec_copy(g, &e));
    CHECK_OK(nns_plan_create(e ? e : g, 2, 0, NULL, &p));
    if (p) {
        memcpy(nns_plan_input(p, 0)->data, x, 10 * sizeof *x);
        nns_plan_forward(p, 0);
        memcpy(y, nns_plan_output(p, 0)->data, 10 * sizeof *y);
    }
    nns_plan_free(p);
    nns_graph_free(e);
}

static void dequant_blocked(void) {
    static const float sc[4] = {0.5f, 0.25f, 2.0f, 0.125f};
    const int64_t sd[2] = {2, 2}, bad[2] = {2, 1};
    const int8_t w4[10] = {-8, -1, 0, 7, 3, 5, -7, 1, 2, -3};
    const int8_t z4[4] = {0, 1, -2, 3};
    const uint8_t zu[4] = {0, 8, 15, 3};
    const float zero[10] = {0};
    float x[10], y[10];
    for (int i = 0; i < 10; i++) x[i] = (float)(i % 10);
    for (int pass = 0; pass < 3; pass++) { /* s4 constant, s4 with zero points, u8 from QuantizeLinear */
        nns_graph *g = NULL;
        const int op = pass == 2;
        CHECK_OK(build_blocked(&g, op ? NNS_DTYPE_U8 : NNS_DTYPE_S4, w4, pass == 0 ? NULL : op ? (const void *)zu : z4,
                               sd, 3, op));
        if (!g) continue;
        run_blocked(g, op ? x : zero, y);
        int bad_n = 0;
        for (int i = 0; i < 10; i++) {
            const int r = i / 5, c = i % 5, b = r * 2 + c / 3; /* scale index: row, block of 3 along axis 1 */
            const int32_t q = op ? (int32_t)x[i] : w4[i], z = pass == 0 ? 0 : op ? zu[b] : z4[b];
            const float want = (op ? x[i] : 0.0f) + (float)(q - z) * sc[b];
            bad_n += y[i] != want;
        }
        CHECK_MSG(bad_n == 0, "blocked DequantizeLinear pass %d: %d values differ (y[1] %g)", pass, bad_n, y[1]);
        if (pass == 1) { /* saved as INT4 with opset 21 and read back the same */
            char path[] = "/tmp/nns_qdq4_XXXXXX";
            const int fd = mkstemp(path);
            if (fd >= 0) close(fd);
            CHECK_OK(nns_graph_save_onnx(g, path));
            nns_graph *b = NULL;
            CHECK_OK(nns_graph_load_onnx(path, &b));
            const int w = b ? nns_graph_find_value(b, "w") : -1;
            CHECK(w >= 0 && b->values[w].dtype == NNS_DTYPE_S4 && memcmp(b->values[w].data, w4, 10) == 0);
            float yb[10];
            if (b) run_blocked(b, zero, yb);
            CHECK(b && memcmp(y, yb, sizeof y) == 0);
            nns_graph_free(b);
            unlink(path);
        }
        nns_graph_free(g);
    }
    nns_graph *g = NULL;
    CHECK(build_blocked(&g, NNS_DTYPE_S4, w4, NULL, bad, 3, 0) == NNS_STATUS_SHAPE &&
          strstr(nns_last_error(), "'dq'") && strstr(nns_last_error(), "block_size 3"));
    CHECK(build_blocked(&g, NNS_DTYPE_S4, w4, NULL, sd, -2, 0) != NNS_OK && strstr(nns_last_error(), "block_size -2"));
    /* QuantizeLinear's block_size (opset 21) is not supported */
    CHECK_OK(nns_graph_create(&g));
    const nns_shape xs = nns_shape_make(2, (int64_t[]){2, 5}), one = nns_shape_make(0, NULL);
    const float s1 = 1.0f;
    int q = -1;
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    CHECK_OK(nns_graph_add_param(g, "s", NNS_DTYPE_F32, &one, &s1, 0, NULL));
    CHECK_OK(nns_graph_add_node(g, "QuantizeLinear", "qb", 2, (const char *[]){"x", "s"}, 1, (const char *[]){"y"}, &q));
    CHECK_OK(nns_graph_set_attr_int(g, q, "block_size", 2));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK(nns_graph_finalize(g) == NNS_STATUS_UNSUPPORTED && strstr(nns_last_error(), "'qb'") &&
          strstr(nns_last_error(), "block_size"));
    nns_graph_free(g);
}

/* tests/qdq/STEM.onnx (tools/make_qdq_models.py): a session's output
 * equals ONNX's definitions computed with numpy and PyTorch, except where
 * the float convolution lands on the other side of a rounding step (at most
 * one output step, for at most 1% of the values: accumulation order).
 * conv_qdq is QDQ form; qlinear_conv and qlinear_matmul are the operator
 * form (QLinearConv with an int32 bias, QLinearMatMul with per-column
 * scales) against ONNX's integer definition; dynamic is
 * DynamicQuantizeLinear -> ConvInteger / MatMulInteger -> Cast -> Mul, as
 * dynamic quantization writes it. */
static void onnx_file(const char *stem, float step) {
    const char *src = getenv("NNS_SOURCE_DIR");
    char pm[4096], px[4096], py[4096];
    snprintf(pm, sizeof pm, "%s/tests/qdq/%s.onnx", src ? src : ".", stem);
    snprintf(px, sizeof px, "%s/tests/qdq/%s_x.npy", src ? src : ".", stem);
    snprintf(py, sizeof py, "%s/tests/qdq/%s_y.npy", src ? src : ".", stem);
    nns_graph *g = NULL;
    nns_session *s = NULL;
    float *x = NULL, *y = NULL;
    int nx = 0, ny = 0;
    int64_t dx[8], dy[8];
    CHECK_OK(nns_graph_load_onnx(pm, &g));
    CHECK_OK(nns_npy_load_f32(px, &nx, dx, &x));
    CHECK_OK(nns_npy_load_f32(py, &ny, dy, &y));
    if (g && x && y) CHECK_OK(nns_session_create(g, 2, &s));
    CHECK(s && nx > 0 && ny > 0 && dx[0] == dy[0]);
    if (s && nx > 0 && ny > 0 && dx[0] == dy[0]) {
        int64_t n = 1;
        for (int d = 0; d < ny; d++) n *= dy[d];
        CHECK(n == dy[0] * nns_session_output_size(s));
        float *out = malloc((size_t)n * sizeof *out);
        CHECK_OK(nns_session_run(s, x, dx[0], out));
        int64_t off = 0, far = 0;
        for (int64_t i = 0; i < n; i++) {
            const float d = fabsf(out[i] - y[i]);
            off += d > 0;
            far += d > step * 1.001f;
        }
        CHECK_MSG(far == 0 && off * 100 <= n, "%s: %lld of %lld outputs differ, %lld by more than one step", stem,
                  (long long)off, (long long)n, (long long)far);
        free(out);
    }
    nns_session_free(s);
    nns_graph_free(g);
    free(x);
    free(y);
}

/* What the session runs for these files: each layer lowered to one
 * integer node. */
static void lowered(const char *stem, const char *op) {
    const char *src = getenv("NNS_SOURCE_DIR");
    char pm[4096];
    snprintf(pm, sizeof pm, "%s/tests/qdq/%s.onnx", src ? src : ".", stem);
    nns_graph *g = NULL, *c = NULL;
    CHECK_OK(nns_graph_load_onnx(pm, &g));
    if (g) CHECK_OK(nns_graph_exec_copy(g, &c));
    int found = 0;
    for (int i = 0; c && i < c->n_nodes; i++) found += strcmp(c->nodes[i].op_type, op) == 0;
    CHECK_MSG(found == 1, "%s: %d %s nodes in the executed copy", stem, found, op);
    nns_graph_free(c);
    nns_graph_free(g);
}

/* Folding the weight's DequantizeLinear (what sessions and evaluation run)
 * gives the unfolded graph's outputs bit for bit; the graph itself keeps
 * its s8 weight. */
static void fold_dequantize(void) {
    const char *src = getenv("NNS_SOURCE_DIR");
    char pm[4096];
    snprintf(pm, sizeof pm, "%s/tests/qdq/conv_qdq.onnx", src ? src : ".");
    nns_graph *g = NULL, *c = NULL;
    CHECK_OK(nns_graph_load_onnx(pm, &g));
    if (!g) return;
    setenv("NNS_INT8", "0", 1); /* the float simulation: folding only */
    CHECK_OK(nns_graph_exec_copy(g, &c));
    unsetenv("NNS_INT8");
    CHECK(c != NULL && g->n_nodes == 6 && c && c->n_nodes == 5);
    for (int i = 0; c && i < c->n_nodes; i++)
        CHECK(c->nodes[i].op_type[0] != 'D' || c->values[c->nodes[i].in[0]].kind != NNS_VALUE_KIND_CONST);
    CHECK(nns_graph_find_value(g, "w_q") >= 0 && g->values[nns_graph_find_value(g, "w_q")].dtype == NNS_DTYPE_S8);
    float x[2 * 3 * 8 * 8];
    for (int i = 0; i < 2 * 3 * 64; i++) x[i] = g_x[i % NX] * 0.3f;
    nns_plan *p = NULL, *q = NULL;
    CHECK_OK(nns_graph_pack_params(g));
    CHECK_OK(nns_plan_create(g, 2, 0, NULL, &p));
    if (c) CHECK_OK(nns_plan_create(c, 2, 0, NULL, &q));
    if (p && q) {
        memcpy(nns_plan_input(p, 0)->data, x, sizeof x);
        memcpy(nns_plan_input(q, 0)->data, x, sizeof x);
        nns_plan_forward(p, 0);
        nns_plan_forward(q, 0);
        const nns_tv *a = nns_plan_output(p, 0), *b = nns_plan_output(q, 0);
        CHECK(nns_shape_eq(&a->shape, &b->shape) &&
              memcmp(a->data, b->data, (size_t)nns_shape_numel(&a->shape) * sizeof(float)) == 0);
    }
    nns_plan_free(p);
    nns_plan_free(q);
    nns_graph_free(c);
    /* profiling runs the folded copy and reports by g's nodes: the folded
     * weight DequantizeLinear 0 ms, every time finite (the total is the
     * median of the runs' sums, not the sum of the medians) */
    double ms[6], total = -1, sum = 0;
    CHECK_OK(nns_profile(g, 2, 3, ms, &total));
    for (int i = 0; i < 6; i++) {
        CHECK(isfinite(ms[i]) && ms[i] >= 0);
        sum += ms[i];
    }
    CHECK(ms[nns_graph_find_node(g, "dqw")] == 0 && isfinite(total) && total > 0 && sum > 0);
    nns_graph_free(g);
}

/* A tensor of more elements than one task takes (QDQ_CHUNK, 16384), per
 * tensor and per axis: every element still follows the rule. */
static void big_tensor(void) {
    enum { H = 150, W = 150, CH = 2, N = CH * H * W };
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    nns_shape xs = nns_shape_make(3, (int64_t[]){1, CH * H, W}), one = nns_shape_make(0, NULL);
    const float s = 0.013f;
    const uint8_t z = 100;
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    CHECK_OK(nns_graph_add_param(g, "s", NNS_DTYPE_F32, &one, &s, 0, NULL));
    CHECK_OK(nns_graph_add_param(g, "z", NNS_DTYPE_U8, &one, &z, 0, NULL));
    CHECK_OK(nns_graph_add_node(g, "QuantizeLinear", "q", 3, (const char *[]){"x", "s", "z"}, 1, (const char *[]){"xq"}, NULL));
    CHECK_OK(nns_graph_add_node(g, "DequantizeLinear", "d", 3, (const char *[]){"xq", "s", "z"}, 1, (const char *[]){"y"}, NULL));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 1, 0, NULL, &p));
    float *x = malloc(N * sizeof *x);
    for (int i = 0; i < N; i++) x[i] = g_x[i % NX] * (float)(1 + i % 7);
    int bad = 0;
    if (p && x) {
        memcpy(nns_plan_input(p, 0)->data, x, N * sizeof *x);
        nns_plan_forward(p, 0);
        const float *y = nns_plan_output(p, 0)->data;
        for (int i = 0; i < N; i++) bad += y[i] != (float)(nns_quantize_value(x[i] / s, z, 0, 255) - z) * s;
    }
    CHECK_MSG(bad == 0, "%d of %d values of a large tensor differ from the rule", bad, N);
    free(x);
    nns_plan_free(p);
    nns_graph_free(g);
}

/* Malformed QLinearConv files (tools/make_qdq_models.py): refused at load
 * with one line naming the node and what is wrong, nothing allocated past
 * it. */
static void bad_qlinear(const char *stem, const char *want) {
    const char *src = getenv("NNS_SOURCE_DIR");
    char pm[4096];
    snprintf(pm, sizeof pm, "%s/tests/qdq/%s.onnx", src ? src : ".", stem);
    nns_graph *g = NULL;
    const nns_status st = nns_graph_load_onnx(pm, &g);
    const char *e = nns_last_error();
    CHECK_MSG(st != NNS_OK && !g && strstr(e, "qconv") && strstr(e, want) && !strchr(e, '\n'), "%s: %s", stem, e);
    nns_graph_free(g);
}

int main(void) {
    uint64_t r = 77;
    for (int i = 0; i < NX; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        g_x[i] = (float)((double)(r >> 11) / 9007199254740992.0 * 6.0 - 3.0);
    }
    g_x[0] = 0.0f;
    g_x[1] = 0.025f; /* a half step of 0.01 and 0.05 */
    g_x[2] = 1e6f;
    g_x[3] = -1e6f;
    g_x[4] = NAN; /* to the zero point */
    values();
    refusals();
    dequant_s32();
    dequant_blocked();
    onnx_file("conv_qdq", 0.05f);
    onnx_file("qlinear_conv", 0.08f);
    onnx_file("qlinear_matmul", 0.08f);
    onnx_file("qlinear_add_gap", 0.015f);
    onnx_file("dynamic", 1e-4f); /* the same float32 operations: equal */
    integer_refusals();
    lowered("conv_qdq", "Int8Conv");
    lowered("qlinear_conv", "Int8Conv");
    lowered("qlinear_matmul", "Int8Gemm");
    fold_dequantize();
    big_tensor();
    bad_qlinear("qlinear_conv_bad_wscale", "3 scales for dim 0 of length 5");
    bad_qlinear("qlinear_conv_bad_zp_type", "zero point 'x_z_conv' is s8, input 'xq' is u8");
    TEST_MAIN_END();
}
