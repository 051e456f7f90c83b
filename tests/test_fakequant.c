/* test_fakequant.c — the FakeQuant op (quantization-aware training):
 * forward equals QuantizeLinear then DequantizeLinear computed by
 * nnslim/quant.h's rule, per tensor and per channel; backward is the
 * straight-through estimator for x and the LSQ step-size gradient for the
 * scale, both checked against a reference written here; bad attributes and
 * scale shapes are refused by node name; ONNX export refuses the op. */
#include <math.h>
#include <string.h>

#include <unistd.h>

#include "nnslim/onnx.h"
#include "nnslim/quant.h"
#include "opcheck.h"

#define C 3
#define HW 10
static const int64_t XD[4] = {2, C, 2, 5}; /* 2 x 3 x (2 x 5) */
#define NX (2 * C * HW)

static int64_t g_qmin = -128, g_qmax = 127, g_axis = 1;
static void fq_attrs(nns_graph *g, int node) {
    nns_graph_set_attr_int(g, node, "qmin", g_qmin);
    nns_graph_set_attr_int(g, node, "qmax", g_qmax);
    nns_graph_set_attr_int(g, node, "axis", g_axis);
}

static float g_x[NX];
static void make_x(void) {
    uint64_t rng = 99;
    for (int i = 0; i < NX; i++) g_x[i] = 6.0f * nns_rng_uniform(&rng) - 3.0f;
    g_x[0] = 0.0f;     /* exact zero */
    g_x[1] = 0.035f;   /* near a half step */
    g_x[2] = 1e6f;     /* saturates high */
    g_x[3] = -1e6f;    /* saturates low */
}

/* The reference: per channel c (or one scale) of dim 1. */
static float ref_fq(float x, float s, float zp) {
    return (float)(nns_quantize_value(x / s, (int32_t)zp, (int32_t)g_qmin, (int32_t)g_qmax) - (int32_t)zp) * s;
}

static void check_forward(const float *s, const float *zp, int nch) {
    const int64_t sd[1] = {nch};
    oc_input in[3] = {{.ndim = 4, .f32 = g_x}, {.ndim = 1, .f32 = s}, {.ndim = 1, .f32 = zp}};
    memcpy(in[0].dims, XD, sizeof XD);
    in[1].dims[0] = in[2].dims[0] = sd[0];
    nns_shape sh;
    float *y = opcheck_forward("FakeQuant", in, 3, 1, fq_attrs, 0, 1, &sh);
    CHECK(y != NULL);
    if (!y) return;
    CHECK(nns_shape_numel(&sh) == NX);
    int bad = 0;
    for (int i = 0; i < NX; i++) {
        const int c = nch == 1 ? 0 : (i / HW) % C;
        const float want = ref_fq(g_x[i], s[c], zp[c]);
        if (y[i] != want && bad++ < 3) fprintf(stderr, "y[%d] = %.9g, want %.9g\n", i, y[i], want);
    }
    CHECK_MSG(bad == 0, "%d of %d outputs differ from QuantizeLinear + DequantizeLinear (%d scales)", bad, NX, nch);
    free(y);
}

/* Backward of L = sum(r * y): gx = r where x/s rounds inside the range
 * (0 outside); gs[c] = sum r * (round(v) - v | qmin - zp | qmax - zp) / sqrt(N_c * qmax). */
static void check_backward(const float *s, const float *zp, int nch) {
    oc_input in[3] = {{.ndim = 4, .f32 = g_x}, {.ndim = 1, .f32 = s}, {.ndim = 1, .f32 = zp}};
    memcpy(in[0].dims, XD, sizeof XD);
    in[1].dims[0] = in[2].dims[0] = nch;
    nns_graph *g = oc_build("FakeQuant", in, 3, 1, fq_attrs, 1);
    CHECK(g != NULL);
    if (!g) return;
    float *pg = calloc((size_t)g->n_params, sizeof(float));
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 1, 1, pg, &p));
    float r[NX];
    uint64_t rng = 7;
    for (int i = 0; i < NX; i++) r[i] = 2.0f * nns_rng_uniform(&rng) - 1.0f;
    nns_plan_forward(p, 1);
    nns_plan_zero_act_grads(p);
    memcpy(nns_plan_output(p, 0)->grad, r, sizeof r);
    nns_plan_backward(p);
    /* parameters in input order: x (NX), scale (nch), zero point (nch) */
    double gs[C] = {0};
    int bad = 0;
    for (int i = 0; i < NX; i++) {
        const int c = nch == 1 ? 0 : (i / HW) % C;
        const float v = g_x[i] / s[c], q = rintf(v) + zp[c];
        const int lo = q < (float)g_qmin, hi = q > (float)g_qmax;
        const float want = lo || hi ? 0.0f : r[i];
        if (pg[i] != want && bad++ < 3) fprintf(stderr, "gx[%d] = %g, want %g\n", i, pg[i], want);
        gs[c] += r[i] * (lo ? g_qmin - zp[c] : hi ? g_qmax - zp[c] : rintf(v) - v);
    }
    CHECK_MSG(bad == 0, "%d x gradients are not straight-through (%d scales)", bad, nch);
    for (int c = 0; c < nch; c++) {
        const double want = gs[c] / sqrt((double)(NX / nch) * (double)g_qmax);
        CHECK_MSG(fabs(pg[NX + c] - want) <= 1e-5 * fmax(1.0, fabs(want)), "scale %d gradient %g, want %g", c,
                  pg[NX + c], want);
        /* the zero point is not trainable: it has no gradient slot, or a zero one */
        CHECK_MSG(g->n_params <= NX + nch + c || pg[NX + nch + c] == 0.0f, "zero point %d got a gradient", c);
    }
    nns_plan_free(p);
    free(pg);
    /* the op has no ONNX form: export refuses it and writes nothing */
    char path[] = "/tmp/nns_fq_XXXXXX";
    const int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        close(fd);
        unlink(path);
        nns_status st = nns_graph_save_onnx(g, path);
        CHECK(st != NNS_OK && strstr(nns_last_error(), "'node' (FakeQuant)"));
        CHECK(access(path, F_OK) != 0);
    }
    nns_graph_free(g);
}

/* nns_graph_finalize's status for FakeQuant with these attributes and scale shape. */
static nns_status finalize_with(int64_t qmin, int64_t qmax, int nch) {
    g_qmin = qmin;
    g_qmax = qmax;
    nns_graph *g = NULL;
    nns_status st = nns_graph_create(&g);
    nns_shape xs = nns_shape_make(4, XD), ss = nns_shape_make(1, (int64_t[]){nch});
    float one[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    if (!st) st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st) st = nns_graph_add_param(g, "s", NNS_DTYPE_F32, &ss, one, 1, NULL);
    if (!st) st = nns_graph_add_param(g, "z", NNS_DTYPE_F32, &ss, one, 0, NULL);
    int node = -1;
    if (!st) st = nns_graph_add_node(g, "FakeQuant", "fq7", 3, (const char *[]){"x", "s", "z"}, 1, (const char *[]){"y"}, &node);
    if (!st) fq_attrs(g, node);
    if (!st) st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_finalize(g);
    nns_graph_free(g);
    g_qmin = -128;
    g_qmax = 127;
    return st;
}

static void check_refusals(void) {
    CHECK_OK(finalize_with(-128, 127, C));
    nns_status st = finalize_with(5, 5, 1);
    CHECK(st != NNS_OK && strstr(nns_last_error(), "fq7") && strstr(nns_last_error(), "qmin 5"));
    st = finalize_with(0, (int64_t)1 << 30, 1);
    CHECK(st != NNS_OK && strstr(nns_last_error(), "fq7"));
    st = finalize_with(-128, 127, 4); /* 4 scales for 3 channels */
    CHECK(st != NNS_OK && strstr(nns_last_error(), "fq7") && strstr(nns_last_error(), "4 scales"));
}

int main(void) {
    (void)opcheck_grad; /* finite differences do not apply to a step function */
    (void)opcheck_input_values;
    make_x();
    const float s1[1] = {0.02f}, z1[1] = {3.0f};
    const float sc[C] = {0.01f, 0.05f, 0.003f}, zc[C] = {0.0f, -5.0f, 7.0f};
    check_forward(s1, z1, 1);
    check_forward(sc, zc, C);
    g_qmin = 0;
    g_qmax = 15; /* 4-bit unsigned */
    const float z4[C] = {8.0f, 0.0f, 15.0f};
    check_forward(sc, z4, C);
    check_backward(sc, z4, C);
    g_qmin = -128;
    g_qmax = 127;
    check_backward(s1, z1, 1);
    check_backward(sc, zc, C);
    check_refusals();
    TEST_MAIN_END();
}
