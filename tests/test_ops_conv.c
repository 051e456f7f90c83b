/* test_ops_conv.c — Conv, Gemm, MatMul, MaxPool, AveragePool and
 * GlobalAveragePool: forward values against naive references computed here,
 * backward against finite differences (opcheck), dynamic batch, and the
 * error messages for bad shapes and attributes; the inference fold of
 * Conv -> BatchNormalization -> Relu / Clip. */
#include <string.h>

#include "nnslim/arch.h"
#include "nnslim/train.h"
#include "opcheck.h"
#include "kernels/kernels.h"

/* ---- attributes for the one-node graphs ------------------------------- */

typedef struct attr_spec {
    const char *name;
    int kind; /* 0 int, 1 ints, 2 string, 3 float */
    int n;
    int64_t v[8];
    const char *s;
    float f;
} attr_spec;

static attr_spec at[12];
static int n_at;

static void at_reset(void) { n_at = 0; }
static void at_int(const char *name, int64_t v) { at[n_at++] = (attr_spec){.name = name, .kind = 0, .v = {v}}; }
static void at_float(const char *name, float f) { at[n_at++] = (attr_spec){.name = name, .kind = 3, .f = f}; }
static void at_str(const char *name, const char *s) { at[n_at++] = (attr_spec){.name = name, .kind = 2, .s = s}; }
static void at_ints(const char *name, int n, const int64_t *v) {
    attr_spec a = {.name = name, .kind = 1, .n = n};
    for (int i = 0; i < n; i++) a.v[i] = v[i];
    at[n_at++] = a;
}
static void at_ints2(const char *name, int64_t a, int64_t b) {
    int64_t v[2] = {a, b};
    at_ints(name, 2, v);
}

static void apply_attrs(nns_graph *g, int node) {
    for (int i = 0; i < n_at; i++) {
        const attr_spec *a = &at[i];
        switch (a->kind) {
        case 0: nns_graph_set_attr_int(g, node, a->name, a->v[0]); break;
        case 1: nns_graph_set_attr_ints(g, node, a->name, a->n, a->v); break;
        case 2: nns_graph_set_attr_string(g, node, a->name, a->s); break;
        default: nns_graph_set_attr_float(g, node, a->name, a->f); break;
        }
    }
}

static oc_input in4(int64_t a, int64_t b, int64_t c, int64_t d) {
    oc_input r;
    memset(&r, 0, sizeof r);
    r.ndim = 4;
    r.dims[0] = a; r.dims[1] = b; r.dims[2] = c; r.dims[3] = d;
    return r;
}
static oc_input inN(int nd, const int64_t *dims) {
    oc_input r;
    memset(&r, 0, sizeof r);
    r.ndim = nd;
    for (int i = 0; i < nd; i++) r.dims[i] = dims[i];
    return r;
}
static oc_input omitted(void) {
    oc_input r;
    memset(&r, 0, sizeof r);
    r.omitted = 1;
    return r;
}

static int64_t numel_of(const oc_input *in) {
    int64_t n = 1;
    for (int i = 0; i < in->ndim; i++) n *= in->dims[i];
    return n;
}

static int compare(const char *what, const float *got, const float *want, int64_t n, double tol) {
    int bad = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= tol * fmax(1.0, fabs(want[i])))) {
            if (bad < 5) fprintf(stderr, "%s: element %lld: got %.7g want %.7g\n", what, (long long)i, got[i], want[i]);
            bad++;
        }
    }
    CHECK_MSG(bad == 0, "%s: %d of %lld elements differ", what, bad, (long long)n);
    return bad;
}

/* ---- Conv -------------------------------------------------------------- */

typedef struct conv_case {
    const char *name;
    int n, c, h, w, m, kh, kw;
    int sh, sw, dh, dw;
    int pads[4];            /* attribute (NOTSET) */
    int group, bias;
    const char *auto_pad;   /* NULL: NOTSET */
    int rpt, rpl, oh, ow;   /* reference top/left padding and output size */
} conv_case;

static void ref_conv(const conv_case *k, const float *x, const float *w, const float *b, float *y) {
    int cg = k->c / k->group, mg = k->m / k->group;
    for (int n = 0; n < k->n; n++)
        for (int m = 0; m < k->m; m++) {
            int g = m / mg;
            for (int oy = 0; oy < k->oh; oy++)
                for (int ox = 0; ox < k->ow; ox++) {
                    double acc = b ? b[m] : 0.0;
                    for (int c = 0; c < cg; c++)
                        for (int i = 0; i < k->kh; i++)
                            for (int j = 0; j < k->kw; j++) {
                                int iy = oy * k->sh - k->rpt + i * k->dh, ix = ox * k->sw - k->rpl + j * k->dw;
                                if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                                acc += (double)x[((size_t)(n * k->c + g * cg + c) * k->h + iy) * k->w + ix] *
                                       w[((size_t)(m * cg + c) * k->kh + i) * k->kw + j];
                            }
                    y[((size_t)(n * k->m + m) * k->oh + oy) * k->ow + ox] = (float)acc;
                }
        }
}

static void conv_attrs(const conv_case *k) {
    at_reset();
    at_ints2("strides", k->sh, k->sw);
    at_ints2("dilations", k->dh, k->dw);
    if (k->auto_pad) at_str("auto_pad", k->auto_pad);
    else {
        int64_t p[4] = {k->pads[0], k->pads[1], k->pads[2], k->pads[3]};
        at_ints("pads", 4, p);
    }
    if (k->group != 1) at_int("group", k->group);
    at_ints2("kernel_shape", k->kh, k->kw);
}

static void test_conv_case(const conv_case *k, int grad) {
    conv_attrs(k);
    oc_input ins[3] = {in4(k->n, k->c, k->h, k->w), in4(k->m, k->c / k->group, k->kh, k->kw), omitted()};
    int nin = 2;
    if (k->bias) {
        ins[2] = inN(1, (int64_t[]){k->m});
        nin = 3;
    }
    uint64_t seed = 100 + (uint64_t)k->n * 7 + (uint64_t)k->c * 13 + (uint64_t)k->m;
    nns_shape os;
    float *y = opcheck_forward("Conv", ins, nin, 1, apply_attrs, 0, seed, &os);
    CHECK_MSG(y != NULL, "conv %s: forward", k->name);
    if (!y) return;
    CHECK_MSG(os.ndim == 4 && os.dims[0] == k->n && os.dims[1] == k->m && os.dims[2] == k->oh && os.dims[3] == k->ow,
              "conv %s: output shape [%lld,%lld,%lld,%lld], want [%d,%d,%d,%d]", k->name, (long long)os.dims[0],
              (long long)os.dims[1], (long long)os.dims[2], (long long)os.dims[3], k->n, k->m, k->oh, k->ow);
    float *x = opcheck_input_values(ins, nin, 0, seed), *w = opcheck_input_values(ins, nin, 1, seed);
    float *b = k->bias ? opcheck_input_values(ins, nin, 2, seed) : NULL;
    int64_t ny = (int64_t)k->n * k->m * k->oh * k->ow;
    float *want = malloc((size_t)ny * sizeof(float));
    ref_conv(k, x, w, b, want);
    char what[96];
    snprintf(what, sizeof what, "conv %s forward", k->name);
    compare(what, y, want, ny, 1e-4);
    { /* a packed inference plan: one image's rows and transposed paths, f32_conv2d_same */
        nns_graph *g = oc_build("Conv", ins, nin, 1, apply_attrs, seed);
        nns_plan *p = NULL;
        if (g && !nns_plan_create(g, k->n, NNS_PLAN_INFER_FUSED, NULL, &p)) {
            nns_plan_forward(p, 0);
            snprintf(what, sizeof what, "conv %s packed inference plan", k->name);
            compare(what, nns_tv_f32(nns_plan_output(p, 0)), want, ny, 1e-4);
        } else {
            CHECK_MSG(0, "conv %s: inference plan: %s", k->name, nns_last_error());
        }
        nns_plan_free(p);
        nns_graph_free(g);
    }
    free(y); free(x); free(w); free(b); free(want);
    if (grad) {
        int f = opcheck_grad("Conv", ins, nin, 1, apply_attrs, 1, 1e-2, seed);
        CHECK_MSG(f == 0, "conv %s: gradient check", k->name);
    }
}

static void test_conv(void) {
    static const conv_case cases[] = {
        /* name          n  c  h  w  m kh kw sh sw dh dw pads       g  b  auto  rpt rpl oh ow */
        {"3x3 pad1 bias", 3, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 5},
        {"3x3 n1", 1, 2, 5, 5, 3, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 0, NULL, 1, 1, 5, 5},
        {"stride2", 3, 2, 7, 6, 3, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 4, 3},
        {"stride 2x1", 2, 2, 7, 6, 3, 3, 2, 2, 1, 1, 1, {0, 1, 0, 0}, 1, 0, NULL, 0, 1, 3, 6},
        {"dilation2", 2, 2, 7, 7, 3, 3, 3, 1, 1, 2, 2, {2, 2, 2, 2}, 1, 1, NULL, 2, 2, 7, 7},
        {"dilation 2x1 s2", 2, 2, 8, 7, 2, 3, 3, 2, 1, 2, 1, {1, 0, 1, 0}, 1, 0, NULL, 1, 0, 3, 5},
        {"asym pads", 2, 3, 5, 6, 2, 3, 3, 1, 1, 1, 1, {0, 1, 2, 0}, 1, 1, NULL, 0, 1, 5, 5},
        {"asym pads s2", 3, 2, 6, 6, 2, 3, 2, 2, 2, 1, 1, {2, 0, 0, 1}, 1, 0, NULL, 2, 0, 3, 3},
        {"big pad", 2, 1, 3, 3, 2, 2, 2, 1, 1, 1, 1, {3, 3, 3, 3}, 1, 1, NULL, 3, 3, 8, 8},
        {"groups2", 3, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 2, 1, NULL, 1, 1, 5, 5},
        {"groups2 s2", 2, 4, 6, 5, 4, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 2, 0, NULL, 1, 1, 3, 3},
        {"depthwise", 3, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 4, 1, NULL, 1, 1, 6, 6},
        {"depthwise s2", 2, 5, 7, 8, 5, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 5, 0, NULL, 1, 1, 4, 4},
        {"depthwise dil asym", 2, 3, 9, 7, 3, 3, 2, 1, 2, 2, 1, {1, 0, 2, 1}, 3, 1, NULL, 1, 0, 8, 4},
        {"depthwise 5x5 n1", 1, 2, 9, 9, 2, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, 2, 1, NULL, 2, 2, 9, 9},
        {"depthwise x2", 2, 3, 5, 5, 6, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 3, 1, NULL, 1, 1, 5, 5},
        {"1x1 bias", 3, 5, 4, 4, 3, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 4, 4},
        {"1x1 n1", 1, 4, 3, 5, 6, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 0, NULL, 0, 0, 3, 5},
        {"1x1 s2", 3, 4, 5, 5, 3, 1, 1, 2, 2, 1, 1, {0, 0, 0, 0}, 1, 0, NULL, 0, 0, 3, 3},
        {"1x1 groups2", 2, 4, 3, 3, 4, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 2, 1, NULL, 0, 0, 3, 3},
        {"same_upper", 2, 2, 6, 6, 2, 3, 3, 2, 2, 1, 1, {0}, 1, 1, "SAME_UPPER", 0, 0, 3, 3},
        {"same_lower", 2, 2, 6, 6, 2, 3, 3, 2, 2, 1, 1, {0}, 1, 0, "SAME_LOWER", 1, 1, 3, 3},
        {"same_upper s1", 2, 2, 5, 4, 2, 3, 2, 1, 1, 1, 1, {0}, 1, 0, "SAME_UPPER", 1, 0, 5, 4},
        {"valid", 2, 2, 6, 5, 3, 3, 3, 2, 1, 1, 1, {0}, 1, 1, "VALID", 0, 0, 2, 3},
        /* one output pixel (GEMV): a 3x3 window over a 3x3 plane, a padded 1x1 plane, 1x1 on 1x1 */
        {"1 pixel", 1, 4, 3, 3, 5, 3, 3, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 1, 1},
        {"1 pixel pad1 groups2", 1, 4, 1, 1, 6, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 2, 0, NULL, 1, 1, 1, 1},
        {"1x1 on 1 pixel", 1, 6, 1, 1, 4, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 1, 1},
        /* one input channel: the direct forward kernel */
        {"1ch 5x5 pad2", 3, 1, 8, 7, 6, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, 1, 1, NULL, 2, 2, 8, 7},
        {"1ch s2 dil asym", 2, 1, 9, 8, 5, 3, 2, 2, 1, 2, 1, {1, 0, 0, 1}, 1, 0, NULL, 1, 0, 3, 8},
        /* Winograd F(2x2,3x3): 3x3, stride 1, C and M >= 4 */
        {"wino pad1", 3, 4, 6, 6, 5, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 6},
        {"wino n1 odd", 1, 5, 7, 5, 4, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 0, NULL, 1, 1, 7, 5},
        {"wino pad0", 2, 4, 7, 8, 4, 3, 3, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 5, 6},
        {"wino asym", 2, 4, 5, 6, 6, 3, 3, 1, 1, 1, 1, {0, 2, 1, 0}, 1, 0, NULL, 0, 2, 4, 6},
        {"wino pad3", 2, 4, 4, 3, 4, 3, 3, 1, 1, 1, 1, {3, 1, 2, 3}, 1, 1, NULL, 3, 1, 7, 5},
        {"wino same", 3, 6, 5, 7, 4, 3, 3, 1, 1, 1, 1, {0}, 1, 1, "SAME_LOWER", 1, 1, 5, 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_conv_case(&cases[i], 1);
    /* Larger shapes (forward only) through the parallel paths. */
    static const conv_case big[] = {
        {"vgg-like", 5, 8, 12, 12, 16, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 12, 12},
        {"dw-like", 5, 16, 12, 12, 16, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 16, 1, NULL, 1, 1, 6, 6},
        {"1x1-like", 5, 16, 7, 7, 24, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 0, NULL, 0, 0, 7, 7},
        {"wino-like", 3, 16, 14, 14, 24, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 14, 14},
        {"wino-like n1", 1, 32, 28, 28, 16, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 28, 28},
        {"stem-like 1ch", 5, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 0, NULL, 1, 1, 28, 28},
        /* one image of few pixels: transposed on packed W^T panels (M past a panel's end) */
        {"t 3x3 s2 to 2x2", 1, 40, 4, 4, 70, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 2, 2},
        {"t 1x1 3x3", 1, 33, 3, 3, 50, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 3, 3},
        {"t 3x3 4x4 m130", 1, 20, 4, 4, 130, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 0, NULL, 1, 1, 4, 4},
        {"t dil asym s2x1", 1, 6, 7, 6, 9, 3, 2, 2, 1, 2, 1, {1, 0, 2, 1}, 1, 1, NULL, 1, 0, 3, 6},
        {"rows 3x3 8x8", 1, 24, 8, 8, 40, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 8, 8},
        /* same-size stride 1 (f32_conv2d_same): one-vector planes in image pairs, 5x5, 64+ channels */
        {"same 3x3 on 3x3", 5, 12, 3, 3, 14, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 3, 3},
        {"same 5x5 asym", 2, 7, 9, 6, 13, 5, 5, 1, 1, 1, 1, {1, 3, 3, 1}, 1, 0, NULL, 1, 3, 9, 6},
        {"same c70", 2, 70, 6, 6, 9, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 6},
        {"same c70 n1", 1, 70, 6, 6, 9, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 6},
        /* one image of one vector a plane: the threads split its filters (blocks of 12, 8, 4, 2) */
        {"same 4x4 m30 n1", 1, 20, 4, 4, 30, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 4, 4},
        /* stride 2 on four phase planes (f32_conv2d_s2): odd sides, one image's filters split, 5x5 */
        {"s2 c6 odd", 3, 6, 9, 7, 14, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 5, 4},
        {"s2 c8 m30 n1", 1, 8, 8, 8, 30, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 4, 4},
        {"s2 5x5 pad2", 2, 5, 11, 11, 7, 5, 5, 2, 2, 1, 1, {2, 2, 2, 2}, 1, 0, NULL, 2, 2, 6, 6},
        /* 1x1 on the direct kernels: one image of a 4x4 plane, filters split; stride 2 */
        {"1x1 same 4x4 n1", 1, 20, 4, 4, 30, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 4, 4},
        {"1x1 s2", 3, 6, 9, 8, 10, 1, 1, 2, 2, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 5, 4},
    };
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) test_conv_case(&big[i], 0);
}

/* ---- training: forward and gradients against double sums ---------------- */

/* dX, dW, dB of ref_conv's layer for the output gradient r, in double. */
static void ref_conv_grads(const conv_case *k, const float *x, const float *w, const float *r, double *dx,
                           double *dw, double *db) {
    const int cg = k->c / k->group, mg = k->m / k->group;
    for (int n = 0; n < k->n; n++)
        for (int m = 0; m < k->m; m++)
            for (int oy = 0; oy < k->oh; oy++)
                for (int ox = 0; ox < k->ow; ox++) {
                    const double g = r[((size_t)(n * k->m + m) * k->oh + oy) * k->ow + ox];
                    db[m] += g;
                    for (int c = 0; c < cg; c++)
                        for (int i = 0; i < k->kh; i++)
                            for (int j = 0; j < k->kw; j++) {
                                const int iy = oy * k->sh - k->rpt + i * k->dh, ix = ox * k->sw - k->rpl + j * k->dw;
                                if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                                const size_t xi = ((size_t)(n * k->c + m / mg * cg + c) * k->h + iy) * k->w + ix;
                                const size_t wi = ((size_t)(m * cg + c) * k->kh + i) * k->kw + j;
                                dx[xi] += g * w[wi];
                                dw[wi] += g * x[xi];
                            }
                }
}

/* A training plan of one Conv (x, W and B its parameters): the forward
 * against ref_conv, and the gradients, added to a parameter-gradient buffer
 * that holds 0.25 everywhere, against ref_conv_grads. Covers the direct
 * kernels' training paths (filters packed at every step; the data gradient
 * through the flipped, transposed filters, added as the kernel's residual)
 * beside Winograd's and im2col's. */
static void test_conv_train_case(const conv_case *k) {
    conv_attrs(k);
    const oc_input ins[3] = {in4(k->n, k->c, k->h, k->w), in4(k->m, k->c / k->group, k->kh, k->kw),
                             inN(1, (int64_t[]){k->m})};
    const uint64_t seed = 900 + (uint64_t)k->c * 5 + (uint64_t)k->m;
    nns_graph *g = oc_build("Conv", ins, 3, 1, apply_attrs, seed);
    CHECK_MSG(g != NULL, "conv train %s: graph", k->name);
    if (!g) return;
    const int64_t nx = numel_of(&ins[0]), nw = numel_of(&ins[1]), ny = (int64_t)k->n * k->m * k->oh * k->ow;
    CHECK_MSG(g->n_params == nx + nw + k->m, "conv train %s: %lld parameters", k->name, (long long)g->n_params);
    float *pg = malloc((size_t)g->n_params * sizeof(float)), *want = malloc((size_t)ny * sizeof(float));
    float *r = malloc((size_t)ny * sizeof(float));
    double *ref = calloc((size_t)g->n_params, sizeof(double));
    for (int64_t i = 0; i < g->n_params; i++) pg[i] = 0.25f;
    uint64_t rng = seed ^ 77;
    for (int64_t i = 0; i < ny; i++) r[i] = 2.0f * nns_rng_uniform(&rng) - 1.0f;
    const float *x = g->params, *w = x + nx, *b = w + nw;
    ref_conv(k, x, w, b, want);
    ref_conv_grads(k, x, w, r, ref, ref + nx, ref + nx + nw);
    nns_plan *p = NULL;
    if (g->n_params == nx + nw + k->m && !nns_plan_create(g, k->n, 1, pg, &p)) {
        char what[96];
        nns_plan_forward(p, 1);
        snprintf(what, sizeof what, "conv train %s forward", k->name);
        compare(what, nns_tv_f32(nns_plan_output(p, 0)), want, ny, 1e-4);
        nns_plan_zero_act_grads(p);
        memcpy(nns_plan_output(p, 0)->grad, r, (size_t)ny * sizeof(float));
        nns_plan_backward(p);
        int bad = 0;
        for (int64_t i = 0; i < g->n_params; i++) {
            const double e = 0.25 + ref[i];
            if (fabs(pg[i] - e) > 1e-4 * fmax(1.0, fabs(e))) {
                if (bad++ < 3)
                    fprintf(stderr, "conv train %s: gradient %lld (%s) %g, want %g\n", k->name, (long long)i,
                            i < nx ? "x" : i < nx + nw ? "W" : "B", (double)pg[i], e);
            }
        }
        CHECK_MSG(bad == 0, "conv train %s: %d gradients wrong", k->name, bad);
    } else {
        CHECK_MSG(0, "conv train %s: plan: %s", k->name, nns_last_error());
    }
    nns_plan_free(p);
    nns_graph_free(g);
    free(pg); free(want); free(r); free(ref);
}

static void test_conv_train(void) {
    static const conv_case cases[] = {
        /* name          n  c  h  w  m kh kw sh sw dh dw pads       g  b  auto  rpt rpl oh ow */
        {"same 3x3", 3, 8, 10, 10, 12, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 10, 10},
        {"same 5x5 asym", 2, 7, 9, 6, 13, 5, 5, 1, 1, 1, 1, {1, 3, 3, 1}, 1, 1, NULL, 1, 3, 9, 6},
        {"same n1", 1, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 8, 8},
        {"same 4x4 n1 m30", 1, 20, 4, 4, 30, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 4, 4},
        /* one of the two on the kernel: the forward (c 9) or the data gradient (m 9) */
        {"c9 m40", 2, 9, 6, 6, 40, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 6},
        {"c40 m9", 2, 40, 6, 6, 9, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 6},
        {"s2 odd", 3, 6, 9, 7, 14, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 5, 4},
        {"1x1 s2", 3, 6, 9, 8, 10, 1, 1, 2, 2, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 5, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_conv_train_case(&cases[i]);
}

/* ---- Gemm -------------------------------------------------------------- */

static void test_gemm_case(int ta, int tb, int cmode, float alpha, float beta, int M) {
    const int N = 4, K = 3;
    at_reset();
    at_int("transA", ta);
    at_int("transB", tb);
    at_float("alpha", alpha);
    at_float("beta", beta);
    oc_input ins[3];
    ins[0] = ta ? inN(2, (int64_t[]){K, M}) : inN(2, (int64_t[]){M, K});
    ins[1] = tb ? inN(2, (int64_t[]){N, K}) : inN(2, (int64_t[]){K, N});
    int nin = 3;
    int64_t crow = 1, ccol = 1;
    switch (cmode) {
    case 0: nin = 2; break;                                   /* no C   */
    case 1: ins[2] = inN(0, NULL); break;                     /* scalar */
    case 2: ins[2] = inN(1, (int64_t[]){1}); break;           /* [1]    */
    case 3: ins[2] = inN(1, (int64_t[]){N}); ccol = N; break; /* [N]    */
    case 4: ins[2] = inN(2, (int64_t[]){1, N}); ccol = N; break;
    case 5: ins[2] = inN(2, (int64_t[]){M, 1}); crow = M; break;
    default: ins[2] = inN(2, (int64_t[]){M, N}); crow = M; ccol = N; break;
    }
    uint64_t seed = 7 + (uint64_t)(ta * 2 + tb) * 10 + (uint64_t)cmode;
    nns_shape os;
    float *y = opcheck_forward("Gemm", ins, nin, 1, apply_attrs, 0, seed, &os);
    CHECK_MSG(y != NULL, "gemm ta%d tb%d c%d forward", ta, tb, cmode);
    if (!y) return;
    CHECK(os.ndim == 2 && os.dims[0] == M && os.dims[1] == N);
    float *a = opcheck_input_values(ins, nin, 0, seed), *b = opcheck_input_values(ins, nin, 1, seed);
    float *c = nin > 2 ? opcheck_input_values(ins, nin, 2, seed) : NULL;
    float want[5 * 4];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
            s *= alpha;
            if (c) s += beta * c[(crow == 1 ? 0 : i) * ccol + (ccol == 1 ? 0 : j)];
            want[i * N + j] = (float)s;
        }
    char what[64];
    snprintf(what, sizeof what, "gemm m%d ta%d tb%d c%d", M, ta, tb, cmode);
    compare(what, y, want, M * N, 1e-5);
    free(y); free(a); free(b); free(c);
    int f = opcheck_grad("Gemm", ins, nin, 1, apply_attrs, 1, 1e-2, seed);
    CHECK_MSG(f == 0, "%s: gradient", what);
}

static void test_gemm(void) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int c = 0; c < 7; c++)
                for (int M = 1; M <= 5; M += 4) /* M 1: the GEMV path */
                    test_gemm_case(ta, tb, c, c == 3 ? 1.0f : 0.7f, c == 4 ? 1.0f : 1.3f, M);
    /* Linear layout (transB=1, bias [N]) at a larger size: parallel paths. */
    at_reset();
    at_int("transB", 1);
    oc_input ins[3] = {inN(2, (int64_t[]){67, 300}), inN(2, (int64_t[]){260, 300}), inN(1, (int64_t[]){260})};
    nns_shape os;
    float *y = opcheck_forward("Gemm", ins, 3, 1, apply_attrs, 0, 5, &os);
    float *a = opcheck_input_values(ins, 3, 0, 5), *b = opcheck_input_values(ins, 3, 1, 5);
    float *c = opcheck_input_values(ins, 3, 2, 5);
    float *want = malloc(67 * 260 * sizeof(float));
    for (int i = 0; i < 67; i++)
        for (int j = 0; j < 260; j++) {
            double s = c[j];
            for (int k = 0; k < 300; k++) s += (double)a[i * 300 + k] * b[j * 300 + k];
            want[i * 260 + j] = (float)s;
        }
    if (y) compare("gemm linear 67x300x260", y, want, 67 * 260, 1e-4);
    free(y); free(a); free(b); free(c); free(want);
}

/* ---- MatMul ------------------------------------------------------------ */

static void test_matmul_case(int na, const int64_t *da, int nb, const int64_t *db, int no, const int64_t *dout) {
    at_reset();
    oc_input ins[2] = {inN(na, da), inN(nb, db)};
    uint64_t seed = 31 + (uint64_t)na * 5 + (uint64_t)nb;
    nns_shape os;
    float *y = opcheck_forward("MatMul", ins, 2, 1, NULL, 0, seed, &os);
    CHECK_MSG(y != NULL, "matmul forward");
    if (!y) return;
    int shape_ok = os.ndim == no;
    for (int i = 0; shape_ok && i < no; i++) shape_ok = os.dims[i] == dout[i];
    char sbuf[64];
    CHECK_MSG(shape_ok, "matmul: output shape %s", nns_shape_str(&os, sbuf, sizeof sbuf));
    float *a = opcheck_input_values(ins, 2, 0, seed), *b = opcheck_input_values(ins, 2, 1, seed);
    /* Reference: promote to rank r = max(no, 2) batched [.., M, K] x [.., K, N]. */
    int64_t M = na >= 2 ? da[na - 2] : 1, K = da[na - 1], N = nb >= 2 ? db[nb - 1] : 1;
    int rba = na > 2 ? na - 2 : 0, rbb = nb > 2 ? nb - 2 : 0, rbo = rba > rbb ? rba : rbb;
    int64_t bo[NNS_MAX_DIMS], nbo = 1;
    for (int i = 0; i < rbo; i++) {
        int ia = i - (rbo - rba), ib = i - (rbo - rbb);
        int64_t x = ia >= 0 ? da[ia] : 1, z = ib >= 0 ? db[ib] : 1;
        bo[i] = x > z ? x : z;
        nbo *= bo[i];
    }
    int64_t ny = nbo * M * N;
    float *want = malloc((size_t)ny * sizeof(float));
    for (int64_t bi = 0; bi < nbo; bi++) {
        int64_t rem = bi, aoff = 0, boff = 0, sa = M * K, sb = K * N;
        for (int i = rbo - 1; i >= 0; i--) {
            int64_t x = rem % bo[i];
            rem /= bo[i];
            int ia = i - (rbo - rba), ib = i - (rbo - rbb);
            int64_t xa = ia >= 0 ? da[ia] : 1, xb = ib >= 0 ? db[ib] : 1;
            aoff += (xa == 1 ? 0 : x) * sa;
            boff += (xb == 1 ? 0 : x) * sb;
            sa *= xa;
            sb *= xb;
        }
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double s = 0;
                for (int64_t k = 0; k < K; k++) s += (double)a[aoff + i * K + k] * b[boff + k * N + j];
                want[(bi * M + i) * N + j] = (float)s;
            }
    }
    compare("matmul forward", y, want, ny, 1e-5);
    free(y); free(a); free(b); free(want);
    int f = opcheck_grad("MatMul", ins, 2, 1, NULL, 1, 1e-2, seed);
    CHECK_MSG(f == 0, "matmul gradient (ranks %d, %d)", na, nb);
}

static void test_matmul(void) {
    test_matmul_case(2, (int64_t[]){4, 3}, 2, (int64_t[]){3, 5}, 2, (int64_t[]){4, 5});
    test_matmul_case(3, (int64_t[]){2, 4, 3}, 3, (int64_t[]){2, 3, 5}, 3, (int64_t[]){2, 4, 5});
    test_matmul_case(3, (int64_t[]){3, 4, 3}, 2, (int64_t[]){3, 5}, 3, (int64_t[]){3, 4, 5});
    test_matmul_case(4, (int64_t[]){2, 1, 2, 3}, 3, (int64_t[]){3, 3, 4}, 4, (int64_t[]){2, 3, 2, 4});
    test_matmul_case(3, (int64_t[]){1, 2, 3}, 3, (int64_t[]){3, 3, 4}, 3, (int64_t[]){3, 2, 4});
    test_matmul_case(2, (int64_t[]){2, 3}, 3, (int64_t[]){3, 3, 4}, 3, (int64_t[]){3, 2, 4});
    test_matmul_case(1, (int64_t[]){3}, 2, (int64_t[]){3, 4}, 1, (int64_t[]){4});
    test_matmul_case(2, (int64_t[]){4, 3}, 1, (int64_t[]){3}, 1, (int64_t[]){4});
    test_matmul_case(1, (int64_t[]){3}, 1, (int64_t[]){3}, 0, NULL);
    test_matmul_case(1, (int64_t[]){3}, 3, (int64_t[]){2, 3, 4}, 2, (int64_t[]){2, 4});
    test_matmul_case(3, (int64_t[]){2, 4, 3}, 1, (int64_t[]){3}, 2, (int64_t[]){2, 4});
}

/* ---- pools ------------------------------------------------------------- */

typedef struct pool_case {
    const char *name;
    int n, c, h, w, kh, kw, sh, sw, dh, dw;
    int pads[4];
    int ceil, cip;     /* ceil_mode, count_include_pad */
    int oh, ow;        /* expected */
} pool_case;

static void ref_pool(const pool_case *k, int maxp, const float *x, float *y) {
    for (int p = 0; p < k->n * k->c; p++)
        for (int oy = 0; oy < k->oh; oy++)
            for (int ox = 0; ox < k->ow; ox++) {
                double acc = 0;
                float best = -INFINITY;
                int cnt = 0, cntp = 0;
                for (int i = 0; i < k->kh; i++)
                    for (int j = 0; j < k->kw; j++) {
                        int iy = oy * k->sh - k->pads[0] + i * k->dh, ix = ox * k->sw - k->pads[1] + j * k->dw;
                        if (iy < k->h + k->pads[2] && ix < k->w + k->pads[3]) cntp++;
                        if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                        float v = x[((size_t)p * k->h + iy) * k->w + ix];
                        acc += v;
                        if (v > best) best = v;
                        cnt++;
                    }
                y[((size_t)p * k->oh + oy) * k->ow + ox] =
                    maxp ? best : (float)(acc / (k->cip ? cntp : cnt));
            }
}

/* Distinct values 0.05 apart, shuffled: max pooling has no near-ties, so
 * finite differences are exact. */
static float *distinct_values(int64_t n, uint64_t seed) {
    float *v = malloc((size_t)n * sizeof(float));
    float step = n > 1000 ? 1e-4f : 0.05f; /* large inputs: forward only */
    for (int64_t i = 0; i < n; i++) v[i] = (float)(i - n / 2) * step;
    uint64_t r = seed;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nns_rng_below(&r, (uint64_t)i + 1);
        float t = v[i]; v[i] = v[j]; v[j] = t;
    }
    return v;
}

static void test_pool_case(const pool_case *k, int maxp, int grad) {
    const char *op = maxp ? "MaxPool" : "AveragePool";
    at_reset();
    at_ints2("kernel_shape", k->kh, k->kw);
    at_ints2("strides", k->sh, k->sw);
    if (k->dh != 1 || k->dw != 1) at_ints2("dilations", k->dh, k->dw);
    int64_t p[4] = {k->pads[0], k->pads[1], k->pads[2], k->pads[3]};
    at_ints("pads", 4, p);
    if (k->ceil) at_int("ceil_mode", 1);
    if (!maxp) at_int("count_include_pad", k->cip);
    oc_input ins[1] = {in4(k->n, k->c, k->h, k->w)};
    float *vals = distinct_values(numel_of(&ins[0]), 99 + (uint64_t)k->h);
    ins[0].f32 = vals;
    nns_shape os;
    float *y = opcheck_forward(op, ins, 1, 1, apply_attrs, 0, 3, &os);
    CHECK_MSG(y != NULL, "%s %s: forward", op, k->name);
    if (y) {
        CHECK_MSG(os.ndim == 4 && os.dims[2] == k->oh && os.dims[3] == k->ow, "%s %s: output %lldx%lld, want %dx%d",
                  op, k->name, (long long)os.dims[2], (long long)os.dims[3], k->oh, k->ow);
        int64_t ny = (int64_t)k->n * k->c * k->oh * k->ow;
        float *want = malloc((size_t)ny * sizeof(float));
        ref_pool(k, maxp, vals, want);
        char what[96];
        snprintf(what, sizeof what, "%s %s", op, k->name);
        compare(what, y, want, ny, 1e-5);
        free(want);
        free(y);
    }
    if (grad) {
        int f = opcheck_grad(op, ins, 1, 1, apply_attrs, 1, 1e-2, 3);
        CHECK_MSG(f == 0, "%s %s: gradient", op, k->name);
    }
    free(vals);
}

static void test_pools(void) {
    static const pool_case cases[] = {
        /* name        n  c  h  w kh kw sh sw dh dw pads        ceil cip oh ow */
        {"2x2 s2", 2, 3, 6, 6, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 0, 0, 3, 3},
        {"2x2 s2 odd", 2, 2, 7, 5, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 0, 0, 3, 2},
        {"2x2 s2 ceil", 2, 2, 7, 5, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 1, 0, 4, 3},
        {"3x3 s2 pad1", 2, 2, 7, 6, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 0, 0, 4, 3},
        {"3x3 s2 pad1 cip", 2, 2, 7, 6, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 0, 1, 4, 3},
        {"3x3 s2 pad1 ceil", 1, 2, 6, 6, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 0, 4, 4},
        {"3x3 s2 pad1 ceil cip", 1, 2, 6, 6, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, 4, 4},
        {"3x2 s1 asym", 2, 2, 5, 6, 3, 2, 1, 1, 1, 1, {0, 1, 2, 0}, 0, 0, 5, 6},
        {"3x2 s1 asym cip", 2, 2, 5, 6, 3, 2, 1, 1, 1, 1, {0, 1, 2, 0}, 0, 1, 5, 6},
        {"2x2 dil2", 1, 2, 6, 6, 2, 2, 1, 1, 2, 2, {0, 0, 0, 0}, 0, 0, 4, 4},
        {"3x3 s3 ceil", 1, 1, 8, 7, 3, 3, 3, 3, 1, 1, {0, 0, 0, 0}, 1, 1, 3, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_pool_case(&cases[i], 1, 1);
        test_pool_case(&cases[i], 0, 1);
    }
    /* Larger (parallel path) forward. */
    static const pool_case big = {"big 2x2", 4, 16, 28, 28, 2, 2, 2, 2, 1, 1, {0, 0, 0, 0}, 0, 0, 14, 14};
    test_pool_case(&big, 1, 0);
    test_pool_case(&big, 0, 0);

    /* GlobalAveragePool. */
    at_reset();
    oc_input gi[1] = {in4(3, 4, 5, 6)};
    nns_shape os;
    float *y = opcheck_forward("GlobalAveragePool", gi, 1, 1, NULL, 0, 11, &os);
    CHECK(y && os.ndim == 4 && os.dims[0] == 3 && os.dims[1] == 4 && os.dims[2] == 1 && os.dims[3] == 1);
    if (y) {
        float *x = opcheck_input_values(gi, 1, 0, 11), want[12];
        for (int p = 0; p < 12; p++) {
            double s = 0;
            for (int k = 0; k < 30; k++) s += x[p * 30 + k];
            want[p] = (float)(s / 30);
        }
        compare("GlobalAveragePool", y, want, 12, 1e-5);
        free(x);
        free(y);
    }
    CHECK(opcheck_grad("GlobalAveragePool", gi, 1, 1, NULL, 1, 1e-2, 11) == 0);
    oc_input g3[1] = {inN(3, (int64_t[]){2, 3, 7})};
    CHECK(opcheck_grad("GlobalAveragePool", g3, 1, 1, NULL, 1, 1e-2, 12) == 0);
}

/* ---- dynamic batch ----------------------------------------------------- */

/* A graph X[-1,C,H,W] -> op(X, W[, B]) with given attributes; checks that
 * the output's dim 0 stays -1, then runs a plan at max batch and at a
 * smaller batch and compares the smaller run (forward and dW) with a plan
 * built for exactly that batch. */
static void test_dynamic_batch(const char *op, const conv_case *k) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    int64_t xd[4] = {-1, k->c, k->h, k->w};
    nns_shape xs = nns_shape_make(4, xd);
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    uint64_t rng = 77;
    int nin = 1;
    const char *names[3] = {"x", "w", "b"};
    if (strcmp(op, "Conv") == 0) {
        int64_t wd[4] = {k->m, k->c / k->group, k->kh, k->kw};
        nns_shape ws = nns_shape_make(4, wd);
        int64_t nw = nns_shape_numel(&ws);
        float *w = malloc((size_t)nw * sizeof(float));
        for (int64_t i = 0; i < nw; i++) w[i] = 2 * nns_rng_uniform(&rng) - 1;
        CHECK_OK(nns_graph_add_param(g, "w", NNS_DTYPE_F32, &ws, w, 1, NULL));
        free(w);
        float bv[64];
        for (int i = 0; i < k->m; i++) bv[i] = 0.1f * (float)i;
        nns_shape bs = nns_shape_make(1, (int64_t[]){k->m});
        CHECK_OK(nns_graph_add_param(g, "b", NNS_DTYPE_F32, &bs, bv, 1, NULL));
        nin = 3;
        conv_attrs(k);
    } else {
        at_reset();
        at_ints2("kernel_shape", k->kh, k->kw);
        at_ints2("strides", k->sh, k->sw);
    }
    int node;
    const char *outs[1] = {"y"};
    CHECK_OK(nns_graph_add_node(g, op, "dyn", nin, names, 1, outs, &node));
    apply_attrs(g, node);
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    int yv = nns_graph_find_value(g, "y");
    CHECK_MSG(g->values[yv].shape.dims[0] == -1, "%s: inferred batch dim %lld, want -1", op,
              (long long)g->values[yv].shape.dims[0]);
    const int64_t maxb = 5, small = 3;
    int64_t np = g->n_params;
    float *pg1 = calloc((size_t)(np ? np : 1), sizeof(float)), *pg2 = calloc((size_t)(np ? np : 1), sizeof(float));
    nns_plan *p1 = NULL, *p2 = NULL;
    CHECK_OK(nns_plan_create(g, maxb, 1, pg1, &p1));
    CHECK_OK(nns_plan_create(g, small, 1, pg2, &p2));
    if (!p1 || !p2) goto done;
    /* Run the big plan at full batch once (fills its memory), then shrink. */
    {
        nns_tv *x1 = nns_plan_input(p1, 0);
        int64_t nx = nns_shape_numel(&x1->shape);
        for (int64_t i = 0; i < nx; i++) nns_tv_f32(x1)[i] = 2 * nns_rng_uniform(&rng) - 1;
        nns_plan_forward(p1, 1);
    }
    CHECK_OK(nns_plan_set_batch(p1, small));
    nns_tv *x1 = nns_plan_input(p1, 0), *x2 = nns_plan_input(p2, 0);
    int64_t nx = nns_shape_numel(&x2->shape);
    CHECK(nns_shape_numel(&x1->shape) == nx);
    for (int64_t i = 0; i < nx; i++) nns_tv_f32(x1)[i] = nns_tv_f32(x2)[i] = 2 * nns_rng_uniform(&rng) - 1;
    nns_plan_forward(p1, 1);
    nns_plan_forward(p2, 1);
    nns_tv *y1 = nns_plan_output(p1, 0), *y2 = nns_plan_output(p2, 0);
    int64_t ny = nns_shape_numel(&y2->shape);
    CHECK(nns_shape_numel(&y1->shape) == ny && y1->shape.dims[0] == small);
    char what[64];
    snprintf(what, sizeof what, "%s dynamic batch forward", op);
    compare(what, nns_tv_f32(y1), nns_tv_f32(y2), ny, 1e-6);
    nns_plan_zero_act_grads(p1);
    nns_plan_zero_act_grads(p2);
    for (int64_t i = 0; i < ny; i++) y1->grad[i] = y2->grad[i] = (float)((i * 37) % 11) * 0.1f - 0.5f;
    nns_plan_backward(p1);
    nns_plan_backward(p2);
    if (np) {
        snprintf(what, sizeof what, "%s dynamic batch dW", op);
        compare(what, pg1, pg2, np, 1e-5);
    }
done:
    nns_plan_free(p1);
    nns_plan_free(p2);
    free(pg1);
    free(pg2);
    nns_graph_free(g);
}

/* Gemm and MatMul with a dynamic batch: the inferred dim 0 stays -1, and
 * a plan shrunk to a smaller batch computes the right rows. */
static void test_dynamic_gemm_matmul(const char *op) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    const int is_gemm = strcmp(op, "Gemm") == 0;
    int64_t xd[3] = {-1, 3, 4};
    nns_shape xs = nns_shape_make(is_gemm ? 2 : 3, is_gemm ? (int64_t[]){-1, 4} : xd);
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    float wv[20], bv[5];
    for (int i = 0; i < 20; i++) wv[i] = 0.1f * (float)(i % 7) - 0.3f;
    for (int i = 0; i < 5; i++) bv[i] = 0.2f * (float)i;
    nns_shape ws = is_gemm ? nns_shape_make(2, (int64_t[]){5, 4}) : nns_shape_make(2, (int64_t[]){4, 5});
    nns_shape bs = nns_shape_make(1, (int64_t[]){5});
    CHECK_OK(nns_graph_add_param(g, "w", NNS_DTYPE_F32, &ws, wv, 1, NULL));
    const char *ins[3] = {"x", "w", "b"}, *outs[1] = {"y"};
    int node;
    if (is_gemm) CHECK_OK(nns_graph_add_param(g, "b", NNS_DTYPE_F32, &bs, bv, 1, NULL));
    CHECK_OK(nns_graph_add_node(g, op, "dyn", is_gemm ? 3 : 2, ins, 1, outs, &node));
    if (is_gemm) nns_graph_set_attr_int(g, node, "transB", 1);
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    const nns_shape *ys = &g->values[nns_graph_find_value(g, "y")].shape;
    CHECK_MSG(ys->dims[0] == -1 && ys->dims[ys->ndim - 1] == 5, "%s: inferred [%lld,..,%lld]", op,
              (long long)ys->dims[0], (long long)ys->dims[ys->ndim - 1]);
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 6, 0, NULL, &p));
    if (p) {
        CHECK_OK(nns_plan_set_batch(p, 2));
        nns_tv *x = nns_plan_input(p, 0), *y = nns_plan_output(p, 0);
        const int64_t nx = nns_shape_numel(&x->shape), ny = nns_shape_numel(&y->shape);
        CHECK(y->shape.dims[0] == 2 && ny == (is_gemm ? 2 * 5 : 2 * 3 * 5));
        for (int64_t i = 0; i < nx; i++) nns_tv_f32(x)[i] = 0.05f * (float)i - 0.4f;
        nns_plan_forward(p, 0);
        int bad = 0;
        for (int64_t r = 0; r < nx / 4; r++)
            for (int j = 0; j < 5; j++) {
                double want = is_gemm ? bv[j] : 0.0;
                for (int k = 0; k < 4; k++) want += (double)nns_tv_f32(x)[r * 4 + k] * (is_gemm ? wv[j * 4 + k] : wv[k * 5 + j]);
                if (fabs(nns_tv_f32(y)[r * 5 + j] - want) > 1e-5) bad++;
            }
        CHECK_MSG(bad == 0, "%s: %d wrong outputs at batch 2", op, bad);
    }
    nns_plan_free(p);
    nns_graph_free(g);
}

static void test_dynamic(void) {
    test_dynamic_gemm_matmul("Gemm");
    test_dynamic_gemm_matmul("MatMul");
    static const conv_case im2col = {"", 0, 3, 6, 6, 4, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 6};
    static const conv_case s2 = {"", 0, 3, 6, 6, 4, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 3, 3};
    static const conv_case dw = {"", 0, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 4, 1, NULL, 1, 1, 6, 6};
    static const conv_case pw = {"", 0, 4, 5, 5, 6, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 5, 5};
    static const conv_case pool = {"", 0, 3, 6, 6, 0, 2, 2, 2, 2, 1, 1, {0}, 1, 0, NULL, 0, 0, 3, 3};
    /* 9 tiles per image: with the default 40-tile minimum, Winograd at the
     * plan's batch 5 and im2col at batch 3 (the workspace fits both) */
    static const conv_case wino = {"", 0, 4, 6, 6, 4, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 6, 6};
    test_dynamic_batch("Conv", &im2col);
    test_dynamic_batch("Conv", &wino);
    test_dynamic_batch("Conv", &s2);
    test_dynamic_batch("Conv", &dw);
    test_dynamic_batch("Conv", &pw);
    test_dynamic_batch("MaxPool", &pool);
    test_dynamic_batch("AveragePool", &pool);
}

/* ---- determinism ------------------------------------------------------- */

/* Two backward passes of one plan give bit-identical gradients (fixed
 * thread count): no float atomics, static partitions, partial sums added in
 * thread order. Shapes big enough for the threaded paths. */
static void test_determinism_case(const conv_case *k) {
    conv_attrs(k);
    oc_input ins[3] = {in4(k->n, k->c, k->h, k->w), in4(k->m, k->c / k->group, k->kh, k->kw), inN(1, (int64_t[]){k->m})};
    nns_graph *g = oc_build("Conv", ins, 3, 1, apply_attrs, 17);
    CHECK(g != NULL);
    if (!g) return;
    float *pg1 = calloc((size_t)g->n_params, sizeof(float)), *pg2 = calloc((size_t)g->n_params, sizeof(float));
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 1, 1, pg1, &p));
    if (p) {
        nns_tv *o = nns_plan_output(p, 0);
        const int64_t no = nns_shape_numel(&o->shape);
        for (int rep = 0; rep < 2; rep++) {
            nns_plan_forward(p, 1);
            nns_plan_zero_act_grads(p);
            for (int64_t i = 0; i < no; i++) o->grad[i] = (float)((i * 7919) % 201) * 0.01f - 1.0f;
            nns_plan_backward(p);
            if (rep == 0) {
                memcpy(pg2, pg1, (size_t)g->n_params * sizeof(float));
                memset(pg1, 0, (size_t)g->n_params * sizeof(float));
            }
        }
        CHECK_MSG(memcmp(pg1, pg2, (size_t)g->n_params * sizeof(float)) == 0, "conv %s: gradients differ between runs",
                  k->name);
    }
    nns_plan_free(p);
    free(pg1);
    free(pg2);
    nns_graph_free(g);
}

static void test_determinism(void) {
    static const conv_case cases[] = {
        {"det wino", 6, 16, 14, 14, 16, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 14, 14},
        {"det dw", 6, 32, 14, 14, 32, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 32, 1, NULL, 1, 1, 7, 7},
        {"det im2col", 6, 8, 14, 14, 16, 3, 3, 2, 2, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 7, 7},
        {"det 1x1", 6, 32, 14, 14, 48, 1, 1, 1, 1, 1, 1, {0, 0, 0, 0}, 1, 1, NULL, 0, 0, 14, 14},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) test_determinism_case(&cases[i]);
}

/* ---- errors ------------------------------------------------------------ */

/* Build X -> op -> Y with the given input shapes; expect finalize to fail
 * with a message containing the node name "bad" and want. */
static void expect_error(const char *op, int n_in, const oc_input *ins, int n_out, const char *want) {
    nns_graph *g = NULL;
    nns_graph_create(&g);
    const char *names[4] = {"a", "b", "c", "d"};
    for (int i = 0; i < n_in; i++) {
        nns_shape s = nns_shape_make(ins[i].ndim, ins[i].dims);
        nns_graph_add_param(g, names[i], NNS_DTYPE_F32, &s, NULL, 1, NULL);
    }
    const char *outs[2] = {"y", "y2"};
    int node;
    nns_graph_add_node(g, op, "bad", n_in, names, n_out, outs, &node);
    apply_attrs(g, node);
    nns_graph_add_output(g, "y");
    nns_status st = nns_graph_finalize(g);
    CHECK_MSG(st != NNS_OK, "%s: expected an error (%s)", op, want);
    if (st) {
        const char *msg = nns_last_error();
        CHECK_MSG(strstr(msg, "'bad'") && strstr(msg, want), "%s: message '%s' lacks 'bad' or '%s'", op, msg, want);
    }
    nns_graph_free(g);
}

static void test_errors(void) {
    at_reset();
    oc_input e1[2] = {in4(1, 3, 5, 5), in4(4, 2, 3, 3)};
    expect_error("Conv", 2, e1, 1, "input channels per group");
    at_reset();
    at_int("group", 2);
    expect_error("Conv", 2, e1, 1, "not divisible by group");
    at_reset();
    at_int("group", 3);
    oc_input e2[2] = {in4(1, 3, 5, 5), in4(4, 1, 3, 3)};
    expect_error("Conv", 2, e2, 1, "output channels are not divisible");
    at_reset();
    oc_input e3[2] = {inN(3, (int64_t[]){1, 3, 5}), inN(3, (int64_t[]){4, 3, 3})};
    expect_error("Conv", 2, e3, 1, "only 2-D");
    at_reset();
    oc_input e4[3] = {in4(1, 3, 5, 5), in4(4, 3, 3, 3), inN(1, (int64_t[]){3})};
    expect_error("Conv", 3, e4, 1, "bias");
    at_reset();
    at_ints2("kernel_shape", 2, 2);
    oc_input e5[2] = {in4(1, 3, 5, 5), in4(4, 3, 3, 3)};
    expect_error("Conv", 2, e5, 1, "kernel_shape");
    at_reset();
    oc_input e6[2] = {in4(1, 3, 2, 2), in4(4, 3, 3, 3)};
    expect_error("Conv", 2, e6, 1, "does not fit");
    at_reset();
    at_str("auto_pad", "SAME");
    expect_error("Conv", 2, e5, 1, "auto_pad");
    at_reset();
    oc_input e7[2] = {inN(2, (int64_t[]){3, 4}), inN(2, (int64_t[]){5, 6})};
    expect_error("Gemm", 2, e7, 1, "do not agree");
    oc_input e8[3] = {inN(2, (int64_t[]){3, 4}), inN(2, (int64_t[]){4, 6}), inN(1, (int64_t[]){5})};
    expect_error("Gemm", 3, e8, 1, "broadcast");
    expect_error("MatMul", 2, e7, 1, "do not agree");
    oc_input e9[2] = {inN(3, (int64_t[]){2, 3, 4}), inN(3, (int64_t[]){3, 4, 5})};
    expect_error("MatMul", 2, e9, 1, "broadcast");
    at_reset();
    at_ints2("kernel_shape", 2, 2);
    oc_input e10[1] = {in4(1, 3, 5, 5)};
    expect_error("MaxPool", 1, e10, 2, "Indices");
    at_reset();
    expect_error("MaxPool", 1, e10, 1, "kernel_shape");
    at_reset();
    at_ints("kernel_shape", 1, (int64_t[]){2});
    oc_input e11[1] = {inN(3, (int64_t[]){1, 3, 5})};
    expect_error("AveragePool", 1, e11, 1, "2-D");
    at_reset();
    oc_input e12[1] = {inN(2, (int64_t[]){1, 3})};
    expect_error("GlobalAveragePool", 1, e12, 1, "rank");
}

/* The op table holds weak references, which do not pull objects out of a
 * static library: these strong references link the ops under test. */
static const struct { const nns_op_def *def; int op; const char *name; } g_ops[] = {
    {&nns_op_conv, NNS_OP_CONV, "Conv"},
    {&nns_op_gemm, NNS_OP_GEMM, "Gemm"},
    {&nns_op_matmul, NNS_OP_MATMUL, "MatMul"},
    {&nns_op_maxpool, NNS_OP_MAXPOOL, "MaxPool"},
    {&nns_op_averagepool, NNS_OP_AVERAGEPOOL, "AveragePool"},
    {&nns_op_globalaveragepool, NNS_OP_GLOBALAVERAGEPOOL, "GlobalAveragePool"},
};

static void test_registry(void) {
    for (size_t i = 0; i < sizeof g_ops / sizeof g_ops[0]; i++) {
        CHECK_MSG(nns_op_table[g_ops[i].op] == g_ops[i].def, "%s: not in the op table", g_ops[i].name);
        CHECK_MSG(nns_op_lookup(g_ops[i].name) == g_ops[i].op, "%s: lookup fails", g_ops[i].name);
        CHECK(g_ops[i].def->backward && g_ops[i].def->forward && g_ops[i].def->infer);
    }
}

/* Written input gradients (nns_exec_node.grad_overwrite): x (a parameter)
 * -> Identity -> a -> Conv / Gemm -> y. When a has one use the op writes
 * dX into a buffer the plan did not zero; when a is also a graph output the
 * op accumulates into zeros. Both must give the same bits, on every Conv
 * algorithm (the batch of 3 splits among 2 threads under ctest). Then
 * nns_plan_tv(a) hands a's gradient back to the caller: something added
 * to it before backward must reach x. */
static void test_overwrite_case(int c, int m, int hw, int kk, int stride, int group, int is_gemm) {
    nns_plan *p[2] = {NULL, NULL};
    nns_graph *g[2] = {NULL, NULL};
    float *pg[2] = {NULL, NULL};
    int64_t np = 0;
    for (int v = 0; v < 2; v++) {
        uint64_t rng = 4242;
        CHECK_OK(nns_graph_create(&g[v]));
        int64_t xd[4] = {3, c, hw, hw}, wd[4] = {m, c / group, kk, kk}, gd[2] = {3, c}, gwd[2] = {m, c};
        nns_shape xs = is_gemm ? nns_shape_make(2, gd) : nns_shape_make(4, xd);
        nns_shape ws = is_gemm ? nns_shape_make(2, gwd) : nns_shape_make(4, wd);
        float *buf = malloc(sizeof(float) * 4096);
        for (int i = 0; i < 4096; i++) buf[i] = 2 * nns_rng_uniform(&rng) - 1;
        CHECK_OK(nns_graph_add_param(g[v], "x", NNS_DTYPE_F32, &xs, buf, 1, NULL));
        CHECK_OK(nns_graph_add_param(g[v], "w", NNS_DTYPE_F32, &ws, buf + 2048, 1, NULL));
        free(buf);
        const char *ii[1] = {"x"}, *io[1] = {"a"}, *ci[2] = {"a", "w"}, *co[1] = {"y"};
        CHECK_OK(nns_graph_add_node(g[v], "Identity", "id", 1, ii, 1, io, NULL));
        int node = -1;
        CHECK_OK(nns_graph_add_node(g[v], is_gemm ? "Gemm" : "Conv", "op", 2, ci, 1, co, &node));
        if (is_gemm) {
            nns_graph_set_attr_int(g[v], node, "transB", 1);
        } else {
            int64_t pads[4] = {kk / 2, kk / 2, kk / 2, kk / 2}, st[2] = {stride, stride};
            nns_graph_set_attr_ints(g[v], node, "pads", 4, pads);
            nns_graph_set_attr_ints(g[v], node, "strides", 2, st);
            nns_graph_set_attr_int(g[v], node, "group", group);
        }
        CHECK_OK(nns_graph_add_output(g[v], "y"));
        if (v == 1) CHECK_OK(nns_graph_add_output(g[v], "a"));
        CHECK_OK(nns_graph_finalize(g[v]));
        CHECK_OK(nns_graph_pack_params(g[v]));
        np = g[v]->n_params;
        pg[v] = calloc((size_t)np, sizeof(float));
        CHECK_OK(nns_plan_create(g[v], 3, 1, pg[v], &p[v]));
        if (!p[v]) goto done;
        /* two steps: in the second, the written buffer holds the first
         * step's gradient, which must be overwritten, not added to */
        for (int step = 0; step < 2; step++) {
            nns_plan_forward(p[v], 1);
            nns_plan_zero_act_grads(p[v]);
            nns_tv *y = nns_plan_output(p[v], 0);
            for (int64_t i = 0; i < nns_shape_numel(&y->shape); i++)
                y->grad[i] = (float)((i * 37 + step) % 11) * 0.1f - 0.5f;
            memset(pg[v], 0, (size_t)np * sizeof(float));
            nns_plan_backward(p[v]);
        }
    }
    CHECK_MSG(memcmp(pg[0], pg[1], (size_t)np * sizeof(float)) == 0,
              "written gradient differs: %s c%d m%d hw%d k%d s%d g%d", is_gemm ? "Gemm" : "Conv", c, m, hw, kk,
              stride, group);
    {
        /* plan 0 again, adding 1 to a's gradient before backward */
        float *before = malloc((size_t)np * sizeof(float));
        memcpy(before, pg[0], (size_t)np * sizeof(float));
        nns_plan_forward(p[0], 1);
        nns_plan_zero_act_grads(p[0]);
        nns_tv *a = nns_plan_tv(p[0], nns_graph_find_value(g[0], "a"));
        for (int64_t i = 0; i < nns_shape_numel(&a->shape); i++) a->grad[i] = 1.0f;
        nns_tv *y = nns_plan_output(p[0], 0);
        for (int64_t i = 0; i < nns_shape_numel(&y->shape); i++) y->grad[i] = (float)((i * 37 + 1) % 11) * 0.1f - 0.5f;
        memset(pg[0], 0, (size_t)np * sizeof(float));
        nns_plan_backward(p[0]);
        const int64_t nx = nns_shape_numel(&a->shape);
        int bad = 0;
        /* x is packed first; the 1 joins the sum at another place: rounding */
        for (int64_t i = 0; i < nx; i++) bad += fabsf(pg[0][i] - (before[i] + 1.0f)) > 1e-5f * (1.0f + fabsf(before[i]));
        CHECK_MSG(bad == 0, "gradient added through nns_plan_tv lost on %d of %lld values", bad, (long long)nx);
        free(before);
    }
done:
    for (int v = 0; v < 2; v++) {
        nns_plan_free(p[v]);
        nns_graph_free(g[v]);
        free(pg[v]);
    }
}

static void test_overwrite(void) {
    test_overwrite_case(8, 8, 9, 3, 1, 8, 0);   /* depthwise */
    test_overwrite_case(8, 8, 9, 3, 2, 8, 0);   /* depthwise, stride 2 */
    test_overwrite_case(8, 8, 9, 3, 1, 1, 0);   /* Winograd */
    test_overwrite_case(6, 8, 9, 3, 2, 1, 0);   /* im2col, stride 2 */
    test_overwrite_case(6, 4, 9, 5, 1, 2, 0);   /* im2col, grouped */
    test_overwrite_case(8, 6, 7, 1, 1, 1, 0);   /* 1x1 */
    test_overwrite_case(20, 7, 0, 0, 0, 1, 1);  /* Gemm dA */
}


/* ---- one input channel, no data gradient: the direct weight gradient ---- */

/* x is a graph input (no gradient), so a training plan's Conv backward
 * takes the one-channel path; dW and dB must match sums over the batch, on
 * one and two threads. */
static void test_conv_1ch_wgrad_case(const conv_case *k, int threads) {
    nns_set_threads(threads);
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    nns_shape xs = nns_shape_make(4, (int64_t[]){k->n, 1, k->h, k->w});
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    uint64_t rng = 4242;
    const int taps = k->kh * k->kw;
    float *w = malloc((size_t)(k->m * taps) * sizeof(float)), bv[64];
    for (int i = 0; i < k->m * taps; i++) w[i] = 2 * nns_rng_uniform(&rng) - 1;
    for (int i = 0; i < k->m; i++) bv[i] = 0.1f * (float)i;
    nns_shape ws = nns_shape_make(4, (int64_t[]){k->m, 1, k->kh, k->kw}), bs = nns_shape_make(1, (int64_t[]){k->m});
    CHECK_OK(nns_graph_add_param(g, "w", NNS_DTYPE_F32, &ws, w, 1, NULL));
    CHECK_OK(nns_graph_add_param(g, "b", NNS_DTYPE_F32, &bs, bv, 1, NULL));
    free(w);
    conv_attrs(k);
    int node;
    const char *names[3] = {"x", "w", "b"}, *outs[1] = {"y"};
    CHECK_OK(nns_graph_add_node(g, "Conv", "c", 3, names, 1, outs, &node));
    apply_attrs(g, node);
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    float *pg = calloc((size_t)g->n_params, sizeof(float));
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, k->n, 1, pg, &p));
    if (p) {
        nns_tv *x = nns_plan_input(p, 0), *y = nns_plan_output(p, 0);
        const int64_t nx = nns_shape_numel(&x->shape), ny = nns_shape_numel(&y->shape);
        CHECK(x->grad == NULL);
        for (int64_t i = 0; i < nx; i++) nns_tv_f32(x)[i] = 2 * nns_rng_uniform(&rng) - 1;
        nns_plan_forward(p, 1);
        nns_plan_zero_act_grads(p);
        for (int64_t i = 0; i < ny; i++) y->grad[i] = 2 * nns_rng_uniform(&rng) - 1;
        for (int64_t i = 0; i < g->n_params; i++) pg[i] = 0.25f; /* gradients accumulate */
        nns_plan_backward(p);
        const nns_value *wv = &g->values[nns_graph_find_value(g, "w")], *bvv = &g->values[nns_graph_find_value(g, "b")];
        const float *dw = pg + wv->param_offset, *db = pg + bvv->param_offset;
        const int oh = k->oh, ow = k->ow;
        int bad = 0;
        for (int m = 0; m < k->m; m++) {
            double sb = 0.25;
            for (int n = 0; n < k->n; n++)
                for (int q = 0; q < oh * ow; q++) sb += y->grad[((size_t)n * k->m + m) * oh * ow + q];
            if (fabs(db[m] - sb) > 1e-4 * (1 + fabs(sb))) bad++;
            for (int i = 0; i < k->kh; i++)
                for (int j = 0; j < k->kw; j++) {
                    double s = 0.25;
                    for (int n = 0; n < k->n; n++)
                        for (int oy = 0; oy < oh; oy++)
                            for (int ox = 0; ox < ow; ox++) {
                                int iy = oy * k->sh - k->rpt + i * k->dh, ix = ox * k->sw - k->rpl + j * k->dw;
                                if (iy < 0 || iy >= k->h || ix < 0 || ix >= k->w) continue;
                                s += (double)y->grad[((size_t)n * k->m + m) * oh * ow + (size_t)oy * ow + ox] *
                                     nns_tv_f32(x)[(size_t)n * k->h * k->w + (size_t)iy * k->w + ix];
                            }
                    if (fabs(dw[m * taps + i * k->kw + j] - s) > 1e-4 * (1 + fabs(s))) bad++;
                }
        }
        CHECK_MSG(bad == 0, "conv 1ch weight gradient %s, %d threads: %d wrong values", k->name, threads, bad);
    }
    nns_plan_free(p);
    free(pg);
    nns_graph_free(g);
    nns_set_threads(0);
}

static void test_conv_1ch_wgrad(void) {
    static const conv_case cases[] = {
        {"stem 3x3", 5, 1, 28, 28, 16, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 28, 28},
        {"lenet 5x5", 4, 1, 12, 12, 6, 5, 5, 1, 1, 1, 1, {2, 2, 2, 2}, 1, 1, NULL, 2, 2, 12, 12},
        {"s2 dil asym", 3, 1, 9, 8, 5, 3, 2, 2, 1, 2, 1, {1, 0, 0, 1}, 1, 1, NULL, 1, 0, 3, 8},
        {"n1", 1, 1, 7, 7, 3, 3, 3, 1, 1, 1, 1, {1, 1, 1, 1}, 1, 1, NULL, 1, 1, 7, 7},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        test_conv_1ch_wgrad_case(&cases[i], 1);
        test_conv_1ch_wgrad_case(&cases[i], 2);
    }
}

/* ---- inference fold: Conv -> BatchNormalization [-> Relu / Clip] -------- */

/* A fused inference plan (NNS_PLAN_INFER_FUSED) gives an unfused plan's
 * outputs on every built-in architecture with a convolution (Winograd,
 * im2col, 1x1, depthwise; Relu and ReLU6; a BN feeding a residual Add),
 * skips the BN and activation nodes it folds, and packs the folded weights
 * once: a change made after the plan was created is seen once the graph
 * says its parameters changed (nns_graph_params_changed: repacked). */
static void test_infer_fold_arch(const char *arch) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build(arch, 5, &g));
    if (!g) return;
    CHECK_OK(nns_graph_pack_params(g));
    uint64_t r = 99;
    /* non-trivial statistics: BN scale, bias, mean, var all off their defaults */
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_BATCHNORM) continue;
        for (int k = 1; k < 5; k++) {
            nns_value *v = &g->values[n->in[k]];
            float *d = v->data;
            for (int64_t j = 0; j < nns_shape_numel(&v->shape); j++)
                d[j] = k == 4 ? 0.2f + 2.0f * nns_rng_uniform(&r) : (k == 1 ? 0.5f : -0.5f) + nns_rng_uniform(&r);
        }
    }
    const int B = 3;
    nns_plan *p0 = NULL, *p1 = NULL;
    CHECK_OK(nns_plan_create(g, B, 0, NULL, &p0));
    CHECK_OK(nns_plan_create(g, B, NNS_PLAN_INFER_FUSED, NULL, &p1));
    if (!p0 || !p1) goto out;
    nns_tv *x0 = nns_plan_input(p0, 0), *x1 = nns_plan_input(p1, 0);
    const int64_t nx = nns_shape_numel(&x0->shape), ny = nns_shape_numel(&nns_plan_output(p0, 0)->shape);
    for (int64_t i = 0; i < nx; i++) nns_tv_f32(x0)[i] = nns_tv_f32(x1)[i] = 4.0f * nns_rng_uniform(&r) - 2.0f;
    double *ms = calloc((size_t)g->n_nodes, sizeof *ms);
    for (int round = 0; round < 2; round++) {
        if (round == 1) /* move every running mean after the plans exist */
            for (int i = 0; i < g->n_nodes; i++)
                if (g->nodes[i].op == NNS_OP_BATCHNORM) {
                    nns_value *v = &g->values[g->nodes[i].in[3]];
                    float *d = v->data;
                    for (int64_t j = 0; j < nns_shape_numel(&v->shape); j++) d[j] += 0.3f;
                    nns_graph_params_changed(g);
                }
        nns_plan_forward(p0, 0);
        nns_plan_forward_timed(p1, ms);
        const float *y0 = nns_tv_f32(nns_plan_output(p0, 0)), *y1 = nns_tv_f32(nns_plan_output(p1, 0));
        double worst = 0, scale = 0;
        for (int64_t i = 0; i < ny; i++) {
            worst = fmax(worst, fabs((double)y0[i] - (double)y1[i]));
            scale = fmax(scale, fabs((double)y0[i]));
        }
        CHECK_MSG(worst <= 1e-4 * (1.0 + scale), "%s round %d: fused and unfused outputs differ by %g (scale %g)", arch,
                  round, worst, scale);
        if (round == 1) {
            CHECK_MSG(worst > 0 || scale > 0, "%s: outputs are all zero", arch);
        }
    }
    /* every BN that follows a Conv used once was folded (skipped: 0 ms) */
    int bn = 0, folded = 0, acts = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op == NNS_OP_BATCHNORM) {
            bn++;
            folded += ms[i] == 0.0;
        }
        if ((n->op == NNS_OP_RELU || n->op == NNS_OP_CLIP) && ms[i] == 0.0) acts++;
    }
    CHECK_MSG(bn > 0 && folded == bn, "%s: %d of %d BatchNormalization nodes folded", arch, folded, bn);
    CHECK_MSG(acts > 0, "%s: no activation fused", arch);
    int adds = 0, fused_adds = 0; /* resnet8: every block's Add fused into a Conv */
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == NNS_OP_ADD) {
            adds++;
            fused_adds += ms[i] == 0.0;
        }
    if (strcmp(arch, "resnet8") == 0) CHECK_MSG(adds == 3 && fused_adds == 3, "resnet8: %d of %d Adds fused", fused_adds, adds);
    free(ms);
out:
    nns_plan_free(p0);
    nns_plan_free(p1);
    nns_graph_free(g);
}

/* With the BatchNormalization folded into the weights first (as PyTorch's
 * export and quantization leave a model), a fused plan fuses each Relu /
 * Clip that alone reads a Conv's output into the Conv, and each that alone
 * reads a residual Add's into the Add, and gives the unfused plan's
 * outputs bit for bit. */
static void test_infer_fold_act(const char *arch) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build(arch, 7, &g));
    if (!g) return;
    CHECK_OK(nns_graph_fold_batchnorm(g, NULL));
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    nns_plan *p0 = NULL, *p1 = NULL;
    CHECK_OK(nns_plan_create(g, 3, 0, NULL, &p0));
    CHECK_OK(nns_plan_create(g, 3, NNS_PLAN_INFER_FUSED, NULL, &p1));
    double *ms = calloc((size_t)g->n_nodes, sizeof *ms);
    if (p0 && p1 && ms) {
        nns_tv *x0 = nns_plan_input(p0, 0), *x1 = nns_plan_input(p1, 0);
        uint64_t r = 5;
        for (int64_t i = 0; i < nns_shape_numel(&x0->shape); i++)
            nns_tv_f32(x0)[i] = nns_tv_f32(x1)[i] = 4.0f * nns_rng_uniform(&r) - 2.0f;
        nns_plan_forward(p0, 0);
        nns_plan_forward_timed(p1, ms);
        const nns_tv *y0 = nns_plan_output(p0, 0), *y1 = nns_plan_output(p1, 0);
        CHECK_MSG(memcmp(y0->data, y1->data, (size_t)nns_shape_numel(&y0->shape) * sizeof(float)) == 0,
                  "%s (BN folded): fused and unfused outputs differ", arch);
        int acts = 0, fused = 0, res = 0, res_fused = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            const nns_node *n = &g->nodes[i];
            const int src = n->n_in > 0 && n->in[0] >= 0 ? g->values[n->in[0]].producer : -1;
            if ((n->op != NNS_OP_RELU && n->op != NNS_OP_CLIP) || src < 0) continue;
            if (g->nodes[src].op == NNS_OP_ADD) { /* a residual Add's activation */
                res++;
                res_fused += ms[i] == 0.0;
            }
            if (g->nodes[src].op != NNS_OP_CONV) continue;
            acts++;
            fused += ms[i] == 0.0;
        }
        CHECK_MSG(acts > 0 && fused == acts, "%s (BN folded): %d of %d activations after a Conv fused", arch, fused, acts);
        CHECK_MSG(res_fused == res, "%s (BN folded): %d of %d activations after an Add fused", arch, res_fused, res);
        if (!strcmp(arch, "resnet8")) CHECK_MSG(res > 0, "resnet8 has no Add -> Relu");
    }
    free(ms);
    nns_plan_free(p0);
    nns_plan_free(p1);
    nns_graph_free(g);
}

/* A Conv whose output is also a graph output keeps its BN separate. */
static void test_infer_fold_output(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("vggsmall", 1, &g));
    if (!g) return;
    const int c0 = nns_graph_find_node(g, "features.0.conv");
    CHECK(c0 >= 0);
    if (c0 < 0) {
        nns_graph_free(g);
        return;
    }
    CHECK_OK(nns_graph_add_output(g, g->values[g->nodes[c0].out[0]].name));
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 2, NNS_PLAN_INFER_FUSED, NULL, &p));
    if (p) {
        double *ms = calloc((size_t)g->n_nodes, sizeof *ms);
        nns_plan_forward_timed(p, ms);
        const int b0 = nns_graph_find_node(g, "features.0.bn"), b1 = nns_graph_find_node(g, "features.1.bn");
        CHECK_MSG(b0 >= 0 && ms[b0] > 0.0, "a BN whose Conv output is also a graph output was folded");
        CHECK_MSG(b1 >= 0 && ms[b1] == 0.0, "the next BN was not folded");
        free(ms);
    }
    nns_plan_free(p);
    nns_graph_free(g);
}

/* Conv -> x * Sigmoid(x) (either operand order) and Conv -> HardSwish, as
 * PyTorch exports SiLU and HardSwish: a fused plan skips the Sigmoid, Mul
 * and HardSwish nodes and gives the unfused plan's outputs bit for bit, on
 * a depthwise, a 1x1 and an im2col Conv (shape [B,4,7,5], wide values so
 * that the Sigmoid saturates at both ends). A Sigmoid whose output is read
 * by another node too stays unfused. */
static void test_infer_fold_silu(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    if (!g) return;
    const int64_t xd[4] = {-1, 4, 7, 5}, wd[4][4] = {{4, 1, 3, 3}, {4, 4, 1, 1}, {4, 4, 3, 3}, {4, 4, 3, 3}};
    nns_shape xs = nns_shape_make(4, xd);
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    uint64_t r = 17;
    const char *wn[4] = {"w0", "w1", "w2", "w3"}, *zn[4] = {"z0", "z1", "z2", "z3"};
    const char *in[4][3] = {{"x", "w0", ""}, {"z0s", "w1", ""}, {"z1h", "w2", ""}, {"z2s", "w3", ""}};
    for (int c = 0; c < 4; c++) {
        float w[144];
        nns_shape ws = nns_shape_make(4, wd[c]);
        for (int64_t i = 0; i < nns_shape_numel(&ws); i++) w[i] = 4.0f * nns_rng_uniform(&r) - 2.0f;
        nns_graph_add_param(g, wn[c], NNS_DTYPE_F32, &ws, w, 0, NULL);
        int node;
        nns_graph_add_node(g, "Conv", zn[c], 2, in[c], 1, &zn[c], &node);
        if (wd[c][2] == 3) nns_graph_set_attr_ints(g, node, "pads", 4, (const int64_t[]){1, 1, 1, 1});
        if (c == 0) nns_graph_set_attr_int(g, node, "group", 4);
    }
    const char *s0 = "s0", *s2 = "s2", *s3 = "s3", *o0 = "z0s", *o1 = "z1h", *o2 = "z2s", *o3 = "m3", *y = "y";
    nns_graph_add_node(g, "Sigmoid", "sig0", 1, &zn[0], 1, &s0, NULL);
    nns_graph_add_node(g, "Mul", "mul0", 2, (const char *[]){"z0", "s0"}, 1, &o0, NULL);
    nns_graph_add_node(g, "HardSwish", "hs1", 1, &zn[1], 1, &o1, NULL);
    nns_graph_add_node(g, "Sigmoid", "sig2", 1, &zn[2], 1, &s2, NULL);
    nns_graph_add_node(g, "Mul", "mul2", 2, (const char *[]){"s2", "z2"}, 1, &o2, NULL);
    nns_graph_add_node(g, "Sigmoid", "sig3", 1, &zn[3], 1, &s3, NULL);
    nns_graph_add_node(g, "Mul", "mul3", 2, (const char *[]){"z3", "s3"}, 1, &o3, NULL);
    nns_graph_add_node(g, "Add", "add3", 2, (const char *[]){"m3", "s3"}, 1, &y, NULL);
    nns_graph_add_output(g, "y");
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    /* batch 3 (1x1 as im2col, the activation after the path) and 1 (1x1
     * image by image, the activation while the image is in cache) */
    for (int batch = 3; batch >= 1; batch -= 2) {
        nns_plan *p0 = NULL, *p1 = NULL;
        CHECK_OK(nns_plan_create(g, batch, 0, NULL, &p0));
        CHECK_OK(nns_plan_create(g, batch, NNS_PLAN_INFER_FUSED, NULL, &p1));
        double *ms = calloc((size_t)g->n_nodes, sizeof *ms);
        if (p0 && p1 && ms) {
            nns_tv *x0 = nns_plan_input(p0, 0), *x1 = nns_plan_input(p1, 0);
            for (int64_t i = 0; i < nns_shape_numel(&x0->shape); i++)
                nns_tv_f32(x0)[i] = nns_tv_f32(x1)[i] = 60.0f * nns_rng_uniform(&r) - 30.0f;
            nns_plan_forward(p0, 0);
            nns_plan_forward_timed(p1, ms);
            const nns_tv *y0 = nns_plan_output(p0, 0), *y1 = nns_plan_output(p1, 0);
            CHECK_MSG(memcmp(y0->data, y1->data, (size_t)nns_shape_numel(&y0->shape) * sizeof(float)) == 0,
                      "SiLU / HardSwish at batch %d: fused and unfused outputs differ", batch);
            static const char *const fused[] = {"sig0", "mul0", "hs1", "sig2", "mul2"};
            static const char *const kept[] = {"sig3", "mul3"};
            for (int i = 0; i < 5; i++) {
                const int n = nns_graph_find_node(g, fused[i]);
                CHECK_MSG(n >= 0 && ms[n] == 0.0, "%s was not fused into its Conv", fused[i]);
            }
            for (int i = 0; i < 2; i++) {
                const int n = nns_graph_find_node(g, kept[i]);
                CHECK_MSG(n >= 0 && ms[n] > 0.0, "%s was fused though its Sigmoid has two readers", kept[i]);
            }
        }
        free(ms);
        nns_plan_free(p0);
        nns_plan_free(p1);
    }
    nns_graph_free(g);
}

/* A Conv of c to c channels, k x k, padding k / 2, from x to y, its
 * weight wn fresh random values. */
static void res_conv(nns_graph *g, const char *wn, int c, int k, const char *x, const char *y, uint64_t *r) {
    const int64_t wd[4] = {c, c, k, k};
    nns_shape ws = nns_shape_make(4, wd);
    float *w = malloc((size_t)nns_shape_numel(&ws) * sizeof(float));
    if (!w) return;
    for (int64_t i = 0; i < nns_shape_numel(&ws); i++) w[i] = 0.5f * nns_rng_uniform(r) - 0.25f;
    nns_graph_add_param(g, wn, NNS_DTYPE_F32, &ws, w, 0, NULL);
    free(w);
    int node;
    nns_graph_add_node(g, "Conv", y, 2, (const char *[]){x, wn}, 1, &y, &node);
    if (k == 3) nns_graph_set_attr_ints(g, node, "pads", 4, (const int64_t[]){1, 1, 1, 1});
}

/* Add(Conv3x3(x), x) -> Relu, then Add(Conv3x3(r), Conv1x1(r)) without
 * activation (the later, 1x1 Conv takes it), then an Add of that Add,
 * which stays unfused; c channels on side x side planes. */
static nns_graph *res_graph(int c, int side, uint64_t *r) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    if (!g) return NULL;
    const int64_t xd[4] = {-1, c, side, side};
    nns_shape xs = nns_shape_make(4, xd);
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    res_conv(g, "w1", c, 3, "x", "c1", r);
    nns_graph_add_node(g, "Add", "add1", 2, (const char *[]){"c1", "x"}, 1, (const char *[]){"a1"}, NULL);
    nns_graph_add_node(g, "Relu", "relu1", 1, (const char *[]){"a1"}, 1, (const char *[]){"r1"}, NULL);
    res_conv(g, "w2", c, 3, "r1", "c2", r);
    res_conv(g, "w3", c, 1, "r1", "c3", r);
    nns_graph_add_node(g, "Add", "add2", 2, (const char *[]){"c2", "c3"}, 1, (const char *[]){"a2"}, NULL);
    nns_graph_add_node(g, "Add", "add3", 2, (const char *[]){"a2", "r1"}, 1, (const char *[]){"y"}, NULL);
    nns_graph_add_output(g, "y");
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    return g;
}

/* Residual Adds fused into a Conv (the plan's fold_residual_of) on every
 * path that adds them: the same-size kernel (piece by piece), and for the
 * 1x1 Conv im2col's GEMM of several images, a GEMM an image (6x6 and
 * 10x10 planes), one image's GEMM split by rows (48 channels on 16x16),
 * one image transposed; at batches 3 and 1, on every ISA level's kernel
 * table (the scalar one: OpenBLAS, the sum after the whole output). The
 * fused plan gives the unfused plan's outputs bit for bit, and skips the
 * fused Adds and the Relu but not the Add of an Add. */
static void test_infer_fold_residual(void) {
    static const int cases[3][2] = {{8, 6}, {8, 10}, {48, 16}}; /* channels, side */
    uint64_t r = 5;
    for (int ci = 0; ci < 3; ci++) {
        nns_graph *g = res_graph(cases[ci][0], cases[ci][1], &r);
        for (int l = 0; g && l < NNS_ISA_COUNT; l++) {
            if (!nns_isa_supported((nns_isa)l)) continue;
            for (int batch = 3; batch >= 1; batch -= 2) {
                nns_plan *p0 = NULL, *p1 = NULL;
                const nns_kernels *k = nns_kernels_for_isa((nns_isa)l);
                CHECK_OK(nns_plan_create_with_kernels(g, batch, 0, NULL, k, &p0));
                CHECK_OK(nns_plan_create_with_kernels(g, batch, NNS_PLAN_INFER_FUSED, NULL, k, &p1));
                double *ms = calloc((size_t)g->n_nodes, sizeof *ms);
                if (p0 && p1 && ms) {
                    nns_tv *x0 = nns_plan_input(p0, 0), *x1 = nns_plan_input(p1, 0);
                    for (int64_t i = 0; i < nns_shape_numel(&x0->shape); i++)
                        nns_tv_f32(x0)[i] = nns_tv_f32(x1)[i] = 2.0f * nns_rng_uniform(&r) - 1.0f;
                    nns_plan_forward(p0, 0);
                    nns_plan_forward_timed(p1, ms);
                    const nns_tv *y0 = nns_plan_output(p0, 0), *y1 = nns_plan_output(p1, 0);
                    CHECK_MSG(memcmp(y0->data, y1->data, (size_t)nns_shape_numel(&y0->shape) * sizeof(float)) == 0,
                              "residual Adds, %d channels on %dx%d, %s, batch %d: fused and unfused outputs differ",
                              cases[ci][0], cases[ci][1], cases[ci][1], nns_isa_name(k->isa), batch);
                    static const char *const fused[] = {"add1", "relu1", "add2"};
                    for (int i = 0; i < 3; i++) {
                        const int n = nns_graph_find_node(g, fused[i]);
                        CHECK_MSG(n >= 0 && ms[n] == 0.0, "%s batch %d: %s was not fused into a Conv", nns_isa_name(k->isa), batch,
                                  fused[i]);
                    }
                    const int n3 = nns_graph_find_node(g, "add3");
                    CHECK_MSG(n3 >= 0 && ms[n3] > 0.0, "an Add of an Add was fused");
                }
                free(ms);
                nns_plan_free(p0);
                nns_plan_free(p1);
            }
        }
        nns_graph_free(g);
    }
}

/* A residual whose shape follows the batch differently from its Conv's
 * (the batch's mean, expanded to a fixed 2): fused in a plan made at
 * batch 2, where the shapes agree; at batch 1 they do not, so
 * nns_plan_set_batch refuses it, naming the Conv, and the plan still runs
 * at batch 2. */
static void test_infer_fold_residual_batch(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    if (!g) return;
    const int64_t xd[4] = {-1, 8, 6, 6}, sd[1] = {4}, sv[4] = {2, 8, 6, 6};
    nns_shape xs = nns_shape_make(4, xd), ss = nns_shape_make(1, sd);
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    nns_graph_add_param(g, "shape", NNS_DTYPE_S64, &ss, sv, 0, NULL);
    uint64_t r = 9;
    int node;
    nns_graph_add_node(g, "ReduceMean", "mean", 1, (const char *[]){"x"}, 1, (const char *[]){"m"}, &node);
    nns_graph_set_attr_ints(g, node, "axes", 1, (const int64_t[]){0});
    nns_graph_add_node(g, "Expand", "expand", 2, (const char *[]){"m", "shape"}, 1, (const char *[]){"e"}, NULL);
    res_conv(g, "w1", 8, 3, "x", "c1", &r); /* after e: e is ready when it runs */
    nns_graph_add_node(g, "Add", "add", 2, (const char *[]){"c1", "e"}, 1, (const char *[]){"a"}, NULL);
    nns_graph_add_node(g, "Relu", "relu", 1, (const char *[]){"a"}, 1, (const char *[]){"y"}, NULL);
    nns_graph_add_output(g, "y");
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 2, NNS_PLAN_INFER_FUSED, NULL, &p));
    if (p) {
        CHECK_MSG(!nns_plan_node_runs(p, nns_graph_find_node(g, "add")), "the Add was not fused at batch 2");
        CHECK(nns_plan_set_batch(p, 1) != NNS_OK);
        CHECK_MSG(strstr(nns_last_error(), "'c1'") != NULL, "message: %s", nns_last_error());
        CHECK(nns_plan_batch(p) == 2);
        nns_plan_forward(p, 0);
    }
    nns_plan_free(p);
    nns_graph_free(g);
}

static void test_infer_fold(void) {
    test_infer_fold_act("vggsmall");
    test_infer_fold_act("resnet8");
    test_infer_fold_act("mobilenet");
    test_infer_fold_act("lenet5");
    test_infer_fold_arch("vggsmall");
    test_infer_fold_arch("resnet8");
    test_infer_fold_arch("mobilenet");
    test_infer_fold_output();
    test_infer_fold_silu();
    test_infer_fold_residual();
    test_infer_fold_residual_batch();
}

int main(void) {
    /* Winograd on every eligible shape, however few tiles (the cases are small) */
    nns_conv_wino_min_tiles = 0;
    /* and every layer on all threads, however small */
    nns_conv_par_min_flops = 0;
    test_registry();
    test_conv();
    test_gemm();
    test_matmul();
    test_pools();
    test_dynamic();
    test_determinism();
    test_errors();
    test_overwrite();
    test_infer_fold();
    test_conv_1ch_wgrad();
    test_conv_train();
    /* and the default choice (im2col below 40 tiles), including a plan made for
     * a batch big enough for Winograd and run at a batch that is not */
    nns_conv_wino_min_tiles = -1;
    nns_conv_par_min_flops = -1;
    test_conv();
    test_conv_train();
    test_dynamic();
    test_infer_fold();
    TEST_MAIN_END();
}
