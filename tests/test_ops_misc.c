/* test_ops_misc.c — BatchNormalization, the activations, Add/Sub/Mul/Div
 * (broadcasting), Concat, Flatten, Reshape, Transpose, Dropout, Softmax,
 * LogSoftmax and Identity: gradients against finite differences through a
 * real plan (opcheck.h), forward values against naive references, BN running
 * statistics, dynamic-batch shape inference, and error paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "opcheck.h"
#include "ops/op_util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static oc_input mk_in(int nd, const int64_t *dims) {
    oc_input in;
    memset(&in, 0, sizeof in);
    in.ndim = nd;
    for (int i = 0; i < nd; i++) in.dims[i] = dims[i];
    return in;
}
#define IN(...) mk_in((int)NELEM(((int64_t[]){__VA_ARGS__})), (int64_t[]){__VA_ARGS__})
static oc_input in_scalar(void) { return mk_in(0, NULL); }

static int64_t in_numel(const oc_input *in) {
    int64_t n = 1;
    for (int i = 0; i < in->ndim; i++) n *= in->dims[i];
    return n;
}

/* Random values in [lo, hi] at least 0.05 away from every kink. */
static float *fill_away(int64_t n, float lo, float hi, const float *kinks, int nk, uint64_t seed) {
    float *v = malloc((size_t)n * sizeof(float));
    uint64_t r = seed;
    for (int64_t i = 0; i < n; i++) {
        for (;;) {
            float x = lo + (hi - lo) * nns_rng_uniform(&r);
            int ok = 1;
            for (int k = 0; k < nk; k++)
                if (fabsf(x - kinks[k]) < 0.05f) ok = 0;
            if (ok) { v[i] = x; break; }
        }
    }
    return v;
}

/* ---- attribute setters (configured through globals) ---- */
static int64_t g_axis;
static float g_f1, g_f2;
static int64_t g_perm[NNS_MAX_DIMS];
static int g_nperm;

static void attr_axis(nns_graph *g, int node) { nns_graph_set_attr_int(g, node, "axis", g_axis); }
static void attr_alpha(nns_graph *g, int node) { nns_graph_set_attr_float(g, node, "alpha", g_f1); }
static void attr_axis1(nns_graph *g, int node) { nns_graph_set_attr_int(g, node, "axis", 1); }
static void attr_alpha_beta(nns_graph *g, int node) {
    nns_graph_set_attr_float(g, node, "alpha", g_f1);
    nns_graph_set_attr_float(g, node, "beta", g_f2);
}
static void attr_minmax(nns_graph *g, int node) {
    nns_graph_set_attr_float(g, node, "min", g_f1);
    nns_graph_set_attr_float(g, node, "max", g_f2);
}
static void attr_perm(nns_graph *g, int node) {
    if (g_nperm) nns_graph_set_attr_ints(g, node, "perm", g_nperm, g_perm);
}
static void attr_ratio(nns_graph *g, int node) { nns_graph_set_attr_float(g, node, "ratio", g_f1); }
static void attr_bn(nns_graph *g, int node) {
    nns_graph_set_attr_float(g, node, "epsilon", g_f1);
    nns_graph_set_attr_float(g, node, "momentum", g_f2);
}

/* ---- activations ---- */
static void test_activations(void) {
    const float k0[] = {0.0f};
    int64_t shapes[3][4] = {{2, 3, 4, 5}, {7, 0, 0, 0}, {1, 5, 1, 3}};
    int nds[3] = {4, 1, 4};
    for (int s = 0; s < 3; s++) {
        oc_input in = mk_in(nds[s], shapes[s]);
        int64_t n = in_numel(&in);
        float *v = fill_away(n, -1.0f, 1.0f, k0, 1, 11 + s);
        in.f32 = v;
        opcheck_grad("Relu", &in, 1, 1, NULL, 1, 1e-2, 1 + s);
        opcheck_grad("LeakyRelu", &in, 1, 1, NULL, 1, 1e-2, 2 + s);
        g_f1 = 0.2f;
        opcheck_grad("LeakyRelu", &in, 1, 1, attr_alpha, 1, 1e-2, 3 + s);
        opcheck_grad("Identity", &in, 1, 1, NULL, 1, 1e-2, 4 + s);
        free(v);
        in.f32 = NULL;
        opcheck_grad("Sigmoid", &in, 1, 1, NULL, 1, 1e-2, 5 + s);
        /* HardSigmoid (default alpha 0.2, beta 0.5: kinks at +-2.5) */
        const float khs[] = {-2.5f, 2.5f};
        v = fill_away(n, -4.0f, 4.0f, khs, 2, 21 + s);
        in.f32 = v;
        opcheck_grad("HardSigmoid", &in, 1, 1, NULL, 1, 1e-2, 6 + s);
        free(v);
        const float khs2[] = {-1.5f, 1.5f}; /* alpha 1/3, beta 0.5 */
        v = fill_away(n, -4.0f, 4.0f, khs2, 2, 31 + s);
        in.f32 = v;
        g_f1 = 1.0f / 3.0f;
        g_f2 = 0.5f;
        opcheck_grad("HardSigmoid", &in, 1, 1, attr_alpha_beta, 1, 1e-2, 7 + s);
        free(v);
        const float khw[] = {-3.0f, 3.0f};
        v = fill_away(n, -4.5f, 4.5f, khw, 2, 41 + s);
        in.f32 = v;
        opcheck_grad("HardSwish", &in, 1, 1, NULL, 1, 1e-2, 8 + s);
        free(v);
    }
    /* Clip: constant inputs (opset 11+), omitted max, attributes, ReLU6. */
    {
        oc_input ins[3] = {IN(3, 4, 5), in_scalar(), in_scalar()};
        const float kc[] = {-0.4f, 0.3f};
        float lo = -0.4f, hi = 0.3f;
        float *v = fill_away(60, -1.0f, 1.0f, kc, 2, 51);
        ins[0].f32 = v;
        ins[1].f32 = &lo;
        ins[2].f32 = &hi;
        opcheck_grad("Clip", ins, 3, 1, NULL, 1, 1e-2, 9);
        nns_shape sh;
        float *y = opcheck_forward("Clip", ins, 3, 1, NULL, 0, 9, &sh);
        CHECK(y != NULL);
        int bad = 0;
        for (int i = 0; y && i < 60; i++)
            if (y[i] != fminf(fmaxf(v[i], lo), hi)) bad++;
        CHECK_MSG(bad == 0, "Clip forward: %d wrong values", bad);
        free(y);
        ins[2].omitted = 1;
        y = opcheck_forward("Clip", ins, 3, 1, NULL, 0, 9, &sh);
        bad = 0;
        for (int i = 0; y && i < 60; i++)
            if (y[i] != fmaxf(v[i], lo)) bad++;
        CHECK_MSG(y && bad == 0, "Clip (max omitted) forward: %d wrong values", bad);
        free(y);
        opcheck_grad("Clip", ins, 3, 1, NULL, 1, 1e-2, 10);
        g_f1 = lo;
        g_f2 = hi;
        opcheck_grad("Clip", ins, 1, 1, attr_minmax, 1, 1e-2, 11);
        y = opcheck_forward("Clip", ins, 1, 1, attr_minmax, 0, 9, &sh);
        bad = 0;
        for (int i = 0; y && i < 60; i++)
            if (y[i] != fminf(fmaxf(v[i], lo), hi)) bad++;
        CHECK_MSG(y && bad == 0, "Clip (attributes) forward: %d wrong values", bad);
        free(y);
        free(v);
        /* ReLU6 */
        const float k6[] = {0.0f, 6.0f};
        v = fill_away(60, -2.0f, 8.0f, k6, 2, 52);
        float z = 0.0f, six = 6.0f;
        ins[0].f32 = v;
        ins[1].f32 = &z;
        ins[2].f32 = &six;
        ins[2].omitted = 0;
        opcheck_grad("Clip", ins, 3, 1, NULL, 1, 1e-2, 12);
        free(v);
    }
    /* Forward values of the smooth/simple activations against formulas. */
    {
        oc_input in = IN(4, 50);
        float *v = fill_away(200, -5.0f, 5.0f, NULL, 0, 61);
        in.f32 = v;
        const char *ops[] = {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Identity"};
        for (int o = 0; o < (int)NELEM(ops); o++) {
            nns_shape sh;
            float *y = opcheck_forward(ops[o], &in, 1, 1, NULL, 0, 1, &sh);
            CHECK(y && sh.ndim == 2 && sh.dims[0] == 4 && sh.dims[1] == 50);
            double maxerr = 0;
            for (int i = 0; y && i < 200; i++) {
                double x = v[i], r;
                switch (o) {
                case 0: r = x > 0 ? x : 0; break;
                case 1: r = x > 0 ? x : 0.01 * x; break;
                case 2: r = 1.0 / (1.0 + exp(-x)); break;
                case 3: r = fmax(0.0, fmin(1.0, 0.2 * x + 0.5)); break;
                case 4: r = x * fmax(0.0, fmin(1.0, x / 6.0 + 0.5)); break;
                default: r = x; break;
                }
                maxerr = fmax(maxerr, fabs(r - y[i]));
            }
            CHECK_MSG(maxerr < 1e-6, "%s forward max error %g", ops[o], maxerr);
            free(y);
        }
        free(v);
    }
}

/* ---- binary ops ---- */
static void bcast_ref(int op, const oc_input *a, const float *av, const oc_input *b,
                      const float *bv, const nns_shape *o, float *out) {
    int64_t n = nns_shape_numel(o);
    for (int64_t k = 0; k < n; k++) {
        int64_t idx[NNS_MAX_DIMS], q = k;
        for (int d = o->ndim - 1; d >= 0; d--) { idx[d] = q % o->dims[d]; q /= o->dims[d]; }
        int64_t ia = 0, ib = 0;
        for (int d = 0; d < a->ndim; d++) {
            int od = d + o->ndim - a->ndim;
            ia = ia * a->dims[d] + (a->dims[d] == 1 ? 0 : idx[od]);
        }
        for (int d = 0; d < b->ndim; d++) {
            int od = d + o->ndim - b->ndim;
            ib = ib * b->dims[d] + (b->dims[d] == 1 ? 0 : idx[od]);
        }
        float x = av[ia], y = bv[ib];
        out[k] = op == 0 ? x + y : op == 1 ? x - y : op == 2 ? x * y : x / y;
    }
}

static void test_binary(void) {
    const char *ops[] = {"Add", "Sub", "Mul", "Div"};
    struct { oc_input a, b; } cases[] = {
        {IN(2, 3, 4, 5), IN(2, 3, 4, 5)},
        {IN(2, 3, 4, 5), IN(3, 1, 1)},      /* per-channel */
        {IN(3, 1, 1), IN(2, 3, 4, 5)},      /* per-channel, swapped */
        {IN(1), IN(2, 3)},
        {IN(2, 3), IN(1)},
        {IN(3, 1), IN(1, 4)},
        {IN(2, 3, 4, 5), IN(2, 3, 1, 1)},   /* squeeze-excite */
        {IN(4), IN(2, 3, 4)},               /* row */
        {IN(2, 1, 4), IN(3, 1)},            /* both broadcast */
        {in_scalar(), IN(2, 2)},            /* rank 0 */
        /* big (above the threading threshold, rows longer than one chunk):
         * only Mul and Div, to keep the test fast under ASan */
        {IN(2, 17, 32, 32), IN(17, 1, 1)},
        {IN(2, 17, 32, 32), IN(1)},
        {IN(34000), IN(34000)},
    };
    const int first_big = (int)NELEM(cases) - 3;
    for (int c = 0; c < (int)NELEM(cases); c++) {
        for (int o = c >= first_big ? 2 : 0; o < 4; o++) {
            oc_input ins[2] = {cases[c].a, cases[c].b};
            float *bv = NULL;
            if (o == 3) { /* divisor away from 0 */
                int64_t nb = in_numel(&ins[1]);
                bv = fill_away(nb, 0.5f, 1.5f, NULL, 0, 100 + c);
                for (int64_t i = 0; i < nb; i++) if (i % 3 == 1) bv[i] = -bv[i];
                ins[1].f32 = bv;
            }
            uint64_t seed = 1000 + 10 * c + o;
            if (opcheck_grad(ops[o], ins, 2, 1, NULL, 1, 1e-2, seed))
                fprintf(stderr, "  (binary case %d, op %s)\n", c, ops[o]);
            /* forward against the naive reference */
            nns_shape sh;
            float *y = opcheck_forward(ops[o], ins, 2, 1, NULL, 0, seed, &sh);
            float *av = opcheck_input_values(ins, 2, 0, seed);
            float *bvv = opcheck_input_values(ins, 2, 1, seed);
            CHECK(y && av && bvv);
            if (y && av && bvv) {
                int64_t n = nns_shape_numel(&sh);
                float *r = malloc((size_t)n * sizeof(float));
                bcast_ref(o, &ins[0], av, &ins[1], bvv, &sh, r);
                int bad = 0;
                for (int64_t k = 0; k < n; k++)
                    if (fabsf(r[k] - y[k]) > 1e-6f * fmaxf(1.0f, fabsf(r[k]))) bad++;
                CHECK_MSG(bad == 0, "%s case %d: %d wrong values", ops[o], c, bad);
                free(r);
            }
            free(y); free(av); free(bvv); free(bv);
        }
    }
    /* x * x: both inputs are one value; the gradients of both slots add up. */
    {
        nns_graph *g = NULL;
        int64_t d[2] = {3, 4};
        nns_shape s = nns_shape_make(2, d);
        float v[12];
        for (int i = 0; i < 12; i++) v[i] = 0.1f * (float)i - 0.5f;
        CHECK_OK(nns_graph_create(&g));
        CHECK_OK(nns_graph_add_param(g, "x", NNS_DTYPE_F32, &s, v, 1, NULL));
        const char *in[2] = {"x", "x"}, *out[1] = {"y"};
        CHECK_OK(nns_graph_add_node(g, "Mul", "sq", 2, in, 1, out, NULL));
        CHECK_OK(nns_graph_add_output(g, "y"));
        CHECK_OK(nns_graph_finalize(g));
        CHECK_OK(nns_graph_pack_params(g));
        float pg[12] = {0};
        nns_plan *p = NULL;
        CHECK_OK(nns_plan_create(g, 1, 1, pg, &p));
        if (p) {
            nns_plan_forward(p, 1);
            nns_plan_zero_act_grads(p);
            nns_tv *o = nns_plan_output(p, 0);
            for (int i = 0; i < 12; i++) o->grad[i] = 1.0f;
            nns_plan_backward(p);
            double err = 0;
            for (int i = 0; i < 12; i++) err = fmax(err, fabs(pg[i] - 2.0 * v[i]));
            CHECK_MSG(err < 1e-6, "d(x*x)/dx max error %g", err);
            nns_plan_free(p);
        }
        nns_graph_free(g);
    }
}

/* Reductions must not depend on the thread count. */
static void test_determinism(void) {
#ifdef _OPENMP
    oc_input ins[2] = {IN(2, 17, 32, 32), IN(1)};
    float res[2][2];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t ? 2 : 1);
        nns_graph *g = oc_build("Mul", ins, 2, 1, NULL, 77);
        float *pg = calloc((size_t)g->n_params, sizeof(float));
        nns_plan *p = NULL;
        CHECK_OK(nns_plan_create(g, 1, 1, pg, &p));
        nns_plan_forward(p, 1);
        nns_plan_zero_act_grads(p);
        nns_tv *o = nns_plan_output(p, 0);
        for (int64_t i = 0; i < nns_shape_numel(&o->shape); i++) o->grad[i] = (float)(i % 7) - 3.0f;
        nns_plan_backward(p);
        /* the scalar is the last packed parameter */
        res[t][0] = pg[g->n_params - 1];
        res[t][1] = pg[5];
        nns_plan_free(p);
        free(pg);
        nns_graph_free(g);
    }
    omp_set_num_threads(saved);
    CHECK_MSG(res[0][0] == res[1][0] && res[0][1] == res[1][1],
              "reduction differs with the thread count: %.9g vs %.9g", res[0][0], res[1][0]);
#endif
}

/* ---- BatchNormalization ---- */
static void bn_inputs(oc_input *ins, int64_t n, int64_t c, int64_t h, int64_t w, int rank,
                      float *rm, float *rv) {
    int64_t d[4] = {n, c, h, w};
    ins[0] = mk_in(rank, d);
    ins[1] = IN(c);
    ins[2] = IN(c);
    ins[3] = IN(c);
    ins[4] = IN(c);
    for (int64_t i = 0; i < c; i++) {
        rm[i] = 0.3f * (float)i - 0.2f;
        rv[i] = 0.5f + 0.25f * (float)i;
    }
    ins[3].f32 = rm;
    ins[4].f32 = rv;
}

static void test_batchnorm(void) {
    float rm[8], rv[8];
    oc_input ins[5];
    int64_t shp[][5] = {{2, 3, 4, 4, 4}, {4, 3, 0, 0, 2}, {3, 2, 5, 1, 4}, {2, 8, 3, 3, 4}};
    for (int s = 0; s < (int)NELEM(shp); s++) {
        bn_inputs(ins, shp[s][0], shp[s][1], shp[s][2], shp[s][3], (int)shp[s][4], rm, rv);
        opcheck_grad("BatchNormalization", ins, 5, 1, NULL, 1, 2e-2, 200 + s);
        opcheck_grad("BatchNormalization", ins, 5, 1, NULL, 0, 1e-2, 210 + s);
    }
    g_f1 = 1e-3f;
    g_f2 = 0.8f;
    bn_inputs(ins, 3, 4, 2, 3, 4, rm, rv);
    opcheck_grad("BatchNormalization", ins, 5, 1, attr_bn, 1, 2e-2, 220);

    /* Forward values and running statistics, training and inference mode. */
    for (int mode = 0; mode < 2; mode++) {
        const int64_t N = 3, C = 4, S = 6;
        bn_inputs(ins, N, C, 2, 3, 4, rm, rv);
        uint64_t seed = 230 + mode;
        nns_graph *g = oc_build("BatchNormalization", ins, 5, 1, attr_bn, seed);
        CHECK(g != NULL);
        if (!g) continue;
        float *pg = calloc((size_t)g->n_params, sizeof(float));
        nns_plan *p = NULL;
        CHECK_OK(nns_plan_create(g, 1, 1, pg, &p));
        float *x = opcheck_input_values(ins, 5, 0, seed);
        float *gam = opcheck_input_values(ins, 5, 1, seed);
        float *bet = opcheck_input_values(ins, 5, 2, seed);
        nns_plan_forward(p, mode == 0);
        const float *y = nns_tv_f32(nns_plan_output(p, 0));
        const float *nrm = g->values[nns_graph_find_value(g, "in3")].data;
        const float *nrv = g->values[nns_graph_find_value(g, "in4")].data;
        double maxerr = 0, staterr = 0;
        for (int64_t c = 0; c < C; c++) {
            double mean = 0, var = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < S; i++) mean += x[(n * C + c) * S + i];
            mean /= (double)(N * S);
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < S; i++) {
                    double d = x[(n * C + c) * S + i] - mean;
                    var += d * d;
                }
            double unb = var / (double)(N * S - 1);
            var /= (double)(N * S);
            double m = mode == 0 ? mean : rm[c], v = mode == 0 ? var : rv[c];
            for (int64_t n = 0; n < N; n++)
                for (int64_t i = 0; i < S; i++) {
                    int64_t k = (n * C + c) * S + i;
                    double r = (x[k] - m) / sqrt(v + 1e-3) * gam[c] + bet[c];
                    maxerr = fmax(maxerr, fabs(r - y[k]));
                }
            double erm = mode == 0 ? rm[c] * 0.8 + mean * 0.2 : rm[c];
            double erv = mode == 0 ? rv[c] * 0.8 + unb * 0.2 : rv[c];
            staterr = fmax(staterr, fmax(fabs(erm - nrm[c]), fabs(erv - nrv[c])));
        }
        CHECK_MSG(maxerr < 1e-5, "BN forward (%s) max error %g", mode ? "inference" : "training", maxerr);
        CHECK_MSG(staterr < 1e-6, "BN running stats (%s) max error %g", mode ? "inference" : "training", staterr);
        free(x); free(gam); free(bet);
        nns_plan_free(p);
        free(pg);
        nns_graph_free(g);
    }
    /* The opset-14 training outputs receive the updated running stats. */
    {
        bn_inputs(ins, 2, 3, 2, 2, 4, rm, rv);
        nns_graph *g = oc_build("BatchNormalization", ins, 5, 3, NULL, 240);
        CHECK(g != NULL);
        if (g) {
            float *pg = calloc((size_t)g->n_params, sizeof(float));
            nns_plan *p = NULL;
            CHECK_OK(nns_plan_create(g, 1, 1, pg, &p));
            nns_plan_forward(p, 1);
            const float *nrv = g->values[nns_graph_find_value(g, "in4")].data;
            nns_tv *o2 = nns_plan_output(p, 2);
            CHECK(o2->shape.ndim == 1 && o2->shape.dims[0] == 3);
            CHECK(memcmp(nns_tv_f32(o2), nrv, 3 * sizeof(float)) == 0);
            CHECK(fabsf(nrv[1] - rv[1]) > 1e-4f); /* updated */
            nns_plan_free(p);
            free(pg);
            nns_graph_free(g);
        }
    }
}

/* ---- Concat, Flatten, Reshape, Transpose, Identity ---- */
static void test_shape_ops(void) {
    /* Concat */
    {
        oc_input ins[3] = {IN(2, 3, 4), IN(2, 1, 4), IN(2, 2, 4)};
        int64_t axes[] = {1, -2};
        for (int a = 0; a < 2; a++) {
            g_axis = axes[a];
            opcheck_grad("Concat", ins, 3, 1, attr_axis, 1, 1e-2, 300 + a);
            nns_shape sh;
            float *y = opcheck_forward("Concat", ins, 3, 1, attr_axis, 0, 300, &sh);
            CHECK(y && sh.ndim == 3 && sh.dims[0] == 2 && sh.dims[1] == 6 && sh.dims[2] == 4);
            float *v[3];
            for (int i = 0; i < 3; i++) v[i] = opcheck_input_values(ins, 3, i, 300);
            int bad = 0;
            for (int n = 0; y && n < 2; n++)
                for (int c = 0; c < 6; c++)
                    for (int k = 0; k < 4; k++) {
                        float r = c < 3 ? v[0][(n * 3 + c) * 4 + k]
                                : c < 4 ? v[1][n * 4 + k] : v[2][(n * 2 + c - 4) * 4 + k];
                        if (r != y[(n * 6 + c) * 4 + k]) bad++;
                    }
            CHECK_MSG(bad == 0, "Concat axis %lld: %d wrong values", (long long)axes[a], bad);
            for (int i = 0; i < 3; i++) free(v[i]);
            free(y);
        }
        oc_input ins2[2] = {IN(2, 3, 4), IN(2, 3, 5)};
        g_axis = -1;
        opcheck_grad("Concat", ins2, 2, 1, attr_axis, 1, 1e-2, 302);
        oc_input ins3[2] = {IN(1, 3), IN(4, 3)};
        g_axis = 0;
        opcheck_grad("Concat", ins3, 2, 1, attr_axis, 1, 1e-2, 303);
    }
    /* Flatten */
    {
        oc_input in = IN(2, 3, 4, 5);
        int64_t axes[] = {1, 2, 0, -1, 4};
        int64_t expect[][2] = {{2, 60}, {6, 20}, {1, 120}, {24, 5}, {120, 1}};
        for (int a = 0; a < 5; a++) {
            g_axis = axes[a];
            nns_shape sh;
            float *y = opcheck_forward("Flatten", &in, 1, 1, attr_axis, 0, 310, &sh);
            CHECK_MSG(y && sh.ndim == 2 && sh.dims[0] == expect[a][0] && sh.dims[1] == expect[a][1],
                      "Flatten axis %lld", (long long)axes[a]);
            free(y);
            opcheck_grad("Flatten", &in, 1, 1, attr_axis, 1, 1e-2, 310 + a);
        }
        opcheck_grad("Flatten", &in, 1, 1, NULL, 1, 1e-2, 316);
    }
    /* Reshape */
    {
        struct { int64_t t[4]; int nt; int64_t e[4]; } cs[] = {
            {{0, -1}, 2, {2, 12}},
            {{-1, 4}, 2, {6, 4}},
            {{4, 0, 2}, 3, {4, 3, 2}},
            {{24}, 1, {24}},
            {{2, -1, 3}, 3, {2, 4, 3}},
        };
        for (int c = 0; c < (int)NELEM(cs); c++) {
            oc_input ins[2] = {IN(2, 3, 4), IN(cs[c].nt)};
            ins[1].s64 = cs[c].t;
            nns_shape sh;
            float *y = opcheck_forward("Reshape", ins, 2, 1, NULL, 0, 320, &sh);
            float *x = opcheck_input_values(ins, 2, 0, 320);
            int ok = y && sh.ndim == cs[c].nt;
            for (int d = 0; ok && d < cs[c].nt; d++) ok = sh.dims[d] == cs[c].e[d];
            CHECK_MSG(ok, "Reshape case %d: wrong shape", c);
            CHECK(y && memcmp(x, y, 24 * sizeof(float)) == 0);
            free(x);
            free(y);
            opcheck_grad("Reshape", ins, 2, 1, NULL, 1, 1e-2, 320 + c);
        }
    }
    /* Transpose */
    {
        struct { oc_input in; int n; int64_t perm[4]; } cs[] = {
            {IN(2, 3, 4), 3, {2, 0, 1}},
            {IN(2, 3, 4), 3, {1, 0, 2}},
            {IN(2, 3, 4), 0, {0}},          /* default: reverse */
            {IN(2, 3, 4, 5), 4, {0, 2, 3, 1}},
            {IN(2, 1, 4, 5), 4, {0, 3, 1, 2}},
            {IN(6, 7), 2, {1, 0}},
            {IN(2, 3, 4), 3, {0, 1, 2}},
            {IN(3, 40, 50), 3, {0, 2, 1}},  /* tiled, partial tiles */
            {IN(70, 33), 2, {1, 0}},
            {IN(2, 3, 4, 5), 0, {0}},
        };
        for (int c = 0; c < (int)NELEM(cs); c++) {
            g_nperm = cs[c].n;
            memcpy(g_perm, cs[c].perm, sizeof cs[c].perm);
            const oc_input *in = &cs[c].in;
            int r = in->ndim, perm[4];
            for (int i = 0; i < r; i++) perm[i] = cs[c].n ? (int)cs[c].perm[i] : r - 1 - i;
            nns_shape sh;
            float *y = opcheck_forward("Transpose", in, 1, 1, attr_perm, 0, 330 + c, &sh);
            float *x = opcheck_input_values(in, 1, 0, 330 + c);
            int ok = y && sh.ndim == r;
            for (int i = 0; ok && i < r; i++) ok = sh.dims[i] == in->dims[perm[i]];
            CHECK_MSG(ok, "Transpose case %d: wrong shape", c);
            int64_t n = in_numel(in), ist[4], acc = 1;
            for (int d = r - 1; d >= 0; d--) { ist[d] = acc; acc *= in->dims[d]; }
            int bad = 0;
            for (int64_t k = 0; ok && k < n; k++) {
                int64_t q = k, off = 0;
                for (int i = r - 1; i >= 0; i--) {
                    off += (q % sh.dims[i]) * ist[perm[i]];
                    q /= sh.dims[i];
                }
                if (y[k] != x[off]) bad++;
            }
            CHECK_MSG(bad == 0, "Transpose case %d: %d wrong values", c, bad);
            free(x);
            free(y);
            opcheck_grad("Transpose", in, 1, 1, attr_perm, 1, 1e-2, 330 + c);
        }
        g_nperm = 0;
    }
}

/* ---- Softmax / LogSoftmax ---- */
static void test_softmax(void) {
    const char *ops[2] = {"Softmax", "LogSoftmax"};
    int64_t axes[] = {-1, 1, 0, 2, -3};
    oc_input in = IN(2, 3, 4);
    for (int o = 0; o < 2; o++)
        for (int a = 0; a < (int)NELEM(axes); a++) {
            g_axis = axes[a];
            opcheck_grad(ops[o], &in, 1, 1, attr_axis, 1, 1e-2, 400 + a);
            nns_shape sh;
            float *y = opcheck_forward(ops[o], &in, 1, 1, attr_axis, 0, 410 + a, &sh);
            float *x = opcheck_input_values(&in, 1, 0, 410 + a);
            int ax = (int)(axes[a] < 0 ? axes[a] + 3 : axes[a]);
            int64_t outer = 1, inner = 1, len = in.dims[ax];
            for (int d = 0; d < ax; d++) outer *= in.dims[d];
            for (int d = ax + 1; d < 3; d++) inner *= in.dims[d];
            double maxerr = 0;
            for (int64_t ou = 0; y && ou < outer; ou++)
                for (int64_t j = 0; j < inner; j++) {
                    double s = 0;
                    for (int64_t i = 0; i < len; i++) s += exp(x[(ou * len + i) * inner + j]);
                    for (int64_t i = 0; i < len; i++) {
                        int64_t k = (ou * len + i) * inner + j;
                        double r = o ? x[k] - log(s) : exp(x[k]) / s;
                        maxerr = fmax(maxerr, fabs(r - y[k]));
                    }
                }
            CHECK_MSG(y && maxerr < 1e-6, "%s axis %lld: max error %g", ops[o], (long long)axes[a], maxerr);
            free(x);
            free(y);
        }
    opcheck_grad("Softmax", &in, 1, 1, NULL, 1, 1e-2, 420);
    /* large logits stay finite */
    float big[4] = {1000.0f, 999.0f, -1000.0f, 0.0f};
    oc_input bi = IN(1, 4);
    bi.f32 = big;
    for (int o = 0; o < 2; o++) {
        float *y = opcheck_forward(ops[o], &bi, 1, 1, NULL, 0, 1, NULL);
        int finite = y != NULL;
        for (int i = 0; y && i < 4; i++) finite &= isfinite(y[i]);
        CHECK_MSG(finite, "%s overflows on large logits", ops[o]);
        if (y && !o) CHECK_NEAR(y[0], 1.0 / (1.0 + exp(-1.0)), 1e-6);
        if (y && o) CHECK_NEAR(y[1], -1.0 - log1p(exp(-1.0)), 1e-4);
        free(y);
    }
}

/* ---- Dropout ---- */
static void test_dropout(void) {
    oc_input ins[2] = {IN(4, 5, 6), in_scalar()};
    float ratio = 0.3f;
    ins[1].f32 = &ratio;
    opcheck_grad("Dropout", ins, 2, 1, NULL, 1, 1e-2, 500);
    opcheck_grad("Dropout", ins, 2, 2, NULL, 1, 1e-2, 501);
    g_f1 = 0.6f;
    opcheck_grad("Dropout", ins, 1, 1, attr_ratio, 1, 1e-2, 502);
    opcheck_grad("Dropout", ins, 1, 1, NULL, 0, 1e-2, 503); /* inference: identity */

    /* Values: 0 or x / (1 - p); the drop rate is close to p; mask output. */
    oc_input big[2] = {IN(100, 100), in_scalar()};
    big[1].f32 = &ratio;
    nns_graph *g = oc_build("Dropout", big, 2, 2, NULL, 510);
    CHECK(g != NULL);
    if (!g) return;
    float *pg = calloc((size_t)g->n_params, sizeof(float));
    nns_plan *p = NULL;
    CHECK_OK(nns_plan_create(g, 1, 1, pg, &p));
    float *x = opcheck_input_values(big, 2, 0, 510);
    nns_plan_seed(p, 42);
    nns_plan_forward(p, 1);
    const float *y = nns_tv_f32(nns_plan_output(p, 0)), *m = nns_tv_f32(nns_plan_output(p, 1));
    int dropped = 0, bad = 0;
    for (int i = 0; i < 10000; i++) {
        if (m[i] == 0.0f) {
            dropped++;
            if (y[i] != 0.0f) bad++;
        } else if (m[i] != 1.0f || fabsf(y[i] - x[i] / 0.7f) > 1e-6f) {
            bad++;
        }
    }
    CHECK_MSG(bad == 0, "Dropout: %d values inconsistent with the mask", bad);
    CHECK_MSG(dropped > 2700 && dropped < 3300, "Dropout dropped %d of 10000 at p = 0.3", dropped);
    /* Same seed, same mask; the next run draws a new one. */
    float *m1 = malloc(10000 * sizeof(float));
    memcpy(m1, m, 10000 * sizeof(float));
    nns_plan_seed(p, 42);
    nns_plan_forward(p, 1);
    CHECK(memcmp(m1, m, 10000 * sizeof(float)) == 0);
    nns_plan_forward(p, 1);
    CHECK(memcmp(m1, m, 10000 * sizeof(float)) != 0);
    /* Inference mode: identity, mask of ones. */
    nns_plan_forward(p, 0);
    CHECK(memcmp(x, y, 10000 * sizeof(float)) == 0);
    int ones = 1;
    for (int i = 0; i < 10000; i++) ones &= m[i] == 1.0f;
    CHECK(ones);
    free(m1);
    free(x);
    nns_plan_free(p);
    free(pg);
    nns_graph_free(g);
}

/* ---- graphs with a graph input (dynamic batch) ---- */
typedef struct {
    const char *op, *name;
    int n_in;
    const char *in[4];
    const char *out;
} mini_node;

/* x: graph input [-1, 2, 3, 4]; "shp": the s64 constant *shape; p3: a
 * [2,1,1] f32 param; nodes in order; the last node's output is the graph
 * output. Returns finalize's status; *gout keeps the graph (or NULL). */
static nns_status build_dyn(const mini_node *nodes, int nn, const int64_t *shape, int nshape,
                            void (*attrs)(nns_graph *, int, int), nns_graph **gout) {
    nns_graph *g = NULL;
    nns_graph_create(&g);
    int64_t xd[4] = {-1, 2, 3, 4};
    nns_shape xs = nns_shape_make(4, xd);
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (shape) {
        int64_t sd = nshape;
        nns_shape ss = nns_shape_make(1, &sd);
        nns_graph_add_param(g, "shp", NNS_DTYPE_S64, &ss, shape, 0, NULL);
    }
    int64_t pd[3] = {2, 1, 1};
    nns_shape ps = nns_shape_make(3, pd);
    float pv[2] = {0.5f, -2.0f};
    nns_graph_add_param(g, "p3", NNS_DTYPE_F32, &ps, pv, 1, NULL);
    for (int i = 0; i < nn; i++) {
        const char *outs[1] = {nodes[i].out};
        int idx;
        nns_status st = nns_graph_add_node(g, nodes[i].op, nodes[i].name, nodes[i].n_in,
                                           nodes[i].in, 1, outs, &idx);
        if (st) { nns_graph_free(g); *gout = NULL; return st; }
        if (attrs) attrs(g, idx, i);
    }
    nns_graph_add_output(g, nodes[nn - 1].out);
    nns_status st = nns_graph_finalize(g);
    if (!st) st = nns_graph_pack_params(g);
    if (st) { nns_graph_free(g); g = NULL; }
    *gout = g;
    return st;
}

static void dyn_attrs(nns_graph *g, int node, int i) {
    if (!strcmp(g->nodes[node].op_type, "Softmax") || !strcmp(g->nodes[node].op_type, "Concat") ||
        !strcmp(g->nodes[node].op_type, "Flatten"))
        nns_graph_set_attr_int(g, node, "axis", g_axis);
    if (!strcmp(g->nodes[node].op_type, "Transpose") && g_nperm)
        nns_graph_set_attr_ints(g, node, "perm", g_nperm, g_perm);
}

static int shape_is(const nns_graph *g, const char *v, int nd, const int64_t *d) {
    int i = nns_graph_find_value(g, v);
    if (i < 0) return 0;
    nns_shape e = nns_shape_make(nd, d);
    return nns_shape_eq(&g->values[i].shape, &e);
}

static void test_dynamic_batch(void) {
    /* x -> Mul(p3) -> Reshape [0,-1] -> Softmax(axis 1); plan batch 3, then 2. */
    mini_node nodes[] = {
        {"Mul", "scale", 2, {"x", "p3"}, "a"},
        {"Reshape", "flat", 2, {"a", "shp"}, "b"},
        {"Softmax", "sm", 1, {"b"}, "c"},
    };
    int64_t t[2] = {0, -1};
    nns_graph *g;
    g_axis = 1;
    CHECK_OK(build_dyn(nodes, 3, t, 2, dyn_attrs, &g));
    if (g) {
        CHECK(shape_is(g, "a", 4, (int64_t[]){-1, 2, 3, 4}));
        CHECK(shape_is(g, "b", 2, (int64_t[]){-1, 24}));
        nns_plan *p = NULL;
        CHECK_OK(nns_plan_create(g, 3, 0, NULL, &p));
        if (p) {
            nns_tv *x = nns_plan_input(p, 0);
            for (int i = 0; i < 72; i++) nns_tv_f32(x)[i] = 0.01f * (float)(i % 24) - (float)(i / 24);
            nns_plan_forward(p, 0);
            float first[48];
            memcpy(first, nns_tv_f32(nns_plan_output(p, 0)), sizeof first);
            CHECK_OK(nns_plan_set_batch(p, 2));
            nns_tv *o = nns_plan_output(p, 0);
            CHECK(o->shape.dims[0] == 2 && o->shape.dims[1] == 24);
            nns_plan_forward(p, 0);
            CHECK(memcmp(first, nns_tv_f32(o), sizeof first) == 0);
            double s = 0;
            for (int i = 0; i < 24; i++) s += nns_tv_f32(o)[24 + i];
            CHECK_NEAR(s, 1.0, 1e-5);
            nns_plan_free(p);
        }
        nns_graph_free(g);
    }
    /* [-1, 24], [0, 6, -1], Flatten, Concat on axis 0 and 1, Transpose keeping dim 0. */
    int64_t t2[2] = {-1, 24};
    mini_node r2[] = {{"Reshape", "r", 2, {"x", "shp"}, "y"}};
    CHECK_OK(build_dyn(r2, 1, t2, 2, NULL, &g));
    if (g) { CHECK(shape_is(g, "y", 2, (int64_t[]){-1, 24})); nns_graph_free(g); }
    int64_t t3[3] = {0, 6, -1};
    CHECK_OK(build_dyn(r2, 1, t3, 3, NULL, &g));
    if (g) { CHECK(shape_is(g, "y", 3, (int64_t[]){-1, 6, 4})); nns_graph_free(g); }
    int64_t t4[2] = {-1, 12};
    CHECK_OK(build_dyn(r2, 1, t4, 2, NULL, &g));
    if (g) { CHECK(shape_is(g, "y", 2, (int64_t[]){-1, 12})); nns_graph_free(g); }
    g_axis = 2;
    mini_node f[] = {{"Flatten", "f", 1, {"x"}, "y"}};
    CHECK_OK(build_dyn(f, 1, NULL, 0, dyn_attrs, &g));
    if (g) { CHECK(shape_is(g, "y", 2, (int64_t[]){-1, 12})); nns_graph_free(g); }
    g_axis = 1;
    mini_node cc[] = {{"Concat", "cat", 2, {"x", "x"}, "y"}};
    CHECK_OK(build_dyn(cc, 1, NULL, 0, dyn_attrs, &g));
    if (g) { CHECK(shape_is(g, "y", 4, (int64_t[]){-1, 4, 3, 4})); nns_graph_free(g); }
    g_axis = 0;
    CHECK_OK(build_dyn(cc, 1, NULL, 0, dyn_attrs, &g));
    if (g) { CHECK(shape_is(g, "y", 4, (int64_t[]){-1, 2, 3, 4})); nns_graph_free(g); }
    g_nperm = 4;
    memcpy(g_perm, (int64_t[]){0, 2, 3, 1}, 4 * sizeof(int64_t));
    mini_node tr[] = {{"Transpose", "t", 1, {"x"}, "y"}};
    CHECK_OK(build_dyn(tr, 1, NULL, 0, dyn_attrs, &g));
    if (g) { CHECK(shape_is(g, "y", 4, (int64_t[]){-1, 3, 4, 2})); nns_graph_free(g); }
    g_nperm = 0;

    /* Targets that fix or split a dynamic batch are errors naming the node. */
    int64_t bad1[2] = {6, -1}, bad2[2] = {2, 36}, bad3[3] = {0, 5, -1};
    mini_node rb[] = {{"Reshape", "resh_dyn", 2, {"x", "shp"}, "y"}};
    const int64_t *bads[3] = {bad1, bad2, bad3};
    for (int i = 0; i < 3; i++) {
        nns_status st = build_dyn(rb, 1, bads[i], i == 2 ? 3 : 2, NULL, &g);
        CHECK(st != NNS_OK);
        CHECK_MSG(strstr(nns_last_error(), "resh_dyn") != NULL, "message: %s", nns_last_error());
        nns_graph_free(g);
    }
}

/* ---- error paths ---- */
static void test_errors(void) {
    nns_graph *g;
    struct { mini_node n; int64_t axis; int nperm; int64_t perm[4]; const int64_t *shape; int nshape; } cs[] = {
        {{"Concat", "bad_concat_axis", 2, {"x", "x"}, "y"}, 4, 0, {0}, NULL, 0},
        {{"Concat", "bad_concat_neg", 2, {"x", "x"}, "y"}, -5, 0, {0}, NULL, 0},
        {{"Softmax", "bad_softmax", 1, {"x"}, "y"}, 4, 0, {0}, NULL, 0},
        {{"Flatten", "bad_flatten", 1, {"x"}, "y"}, 5, 0, {0}, NULL, 0},
        {{"Transpose", "bad_perm", 1, {"x"}, "y"}, 0, 4, {0, 1, 1, 2}, NULL, 0},
        {{"Transpose", "bad_perm_rank", 1, {"x"}, "y"}, 0, 3, {0, 1, 2}, NULL, 0},
        {{"Reshape", "bad_reshape_size", 2, {"x", "shp"}, "y"}, 0, 0, {0}, (int64_t[]){0, 5, 5}, 3},
        {{"Reshape", "bad_reshape_twoneg", 2, {"x", "shp"}, "y"}, 0, 0, {0}, (int64_t[]){0, -1, -1}, 3},
        {{"Reshape", "bad_reshape_nodiv", 2, {"x", "shp"}, "y"}, 0, 0, {0}, (int64_t[]){0, 5, -1}, 3},
        {{"Reshape", "bad_reshape_copy", 2, {"x", "shp"}, "y"}, 0, 0, {0}, (int64_t[]){0, 2, 3, 4, 0}, 5},
        {{"Add", "bad_broadcast", 2, {"x", "q"}, "y"}, 0, 0, {0}, NULL, 0},
        {{"Mul", "bad_broadcast2", 2, {"x", "shp"}, "y"}, 0, 0, {0}, (int64_t[]){1, 2}, 2},
    };
    for (int c = 0; c < (int)NELEM(cs); c++) {
        g_axis = cs[c].axis;
        g_nperm = cs[c].nperm;
        memcpy(g_perm, cs[c].perm, sizeof cs[c].perm);
        nns_status st;
        if (!strcmp(cs[c].n.name, "bad_broadcast")) {
            /* [-1,2,3,4] + [3,3] */
            nns_graph_create(&g);
            int64_t xd[4] = {-1, 2, 3, 4}, qd[2] = {3, 3};
            nns_shape xs = nns_shape_make(4, xd), qs = nns_shape_make(2, qd);
            nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
            nns_graph_add_param(g, "q", NNS_DTYPE_F32, &qs, NULL, 1, NULL);
            const char *outs[1] = {"y"};
            nns_graph_add_node(g, "Add", cs[c].n.name, 2, cs[c].n.in, 1, outs, NULL);
            nns_graph_add_output(g, "y");
            st = nns_graph_finalize(g);
            nns_graph_free(g);
        } else {
            st = build_dyn(&cs[c].n, 1, cs[c].shape, cs[c].nshape, dyn_attrs, &g);
            nns_graph_free(g);
        }
        CHECK_MSG(st != NNS_OK, "%s: finalize succeeded", cs[c].n.name);
        CHECK_MSG(strstr(nns_last_error(), cs[c].n.name) != NULL, "%s: message '%s'", cs[c].n.name,
                  nns_last_error());
    }
    g_nperm = 0;
    {
        /* static-shape Reshape size mismatch */
        int64_t t[2] = {5, -1}, xd[3] = {2, 3, 4}, td = 2;
        nns_shape xs = nns_shape_make(3, xd), ts = nns_shape_make(1, &td);
        nns_graph_create(&g);
        nns_graph_add_param(g, "x", NNS_DTYPE_F32, &xs, NULL, 1, NULL);
        nns_graph_add_param(g, "t", NNS_DTYPE_S64, &ts, t, 0, NULL);
        const char *in[2] = {"x", "t"}, *out[1] = {"y"};
        nns_graph_add_node(g, "Reshape", "bad_static_reshape", 2, in, 1, out, NULL);
        nns_graph_add_output(g, "y");
        CHECK(nns_graph_finalize(g) != NNS_OK);
        CHECK_MSG(strstr(nns_last_error(), "bad_static_reshape") != NULL, "message '%s'", nns_last_error());
        nns_graph_free(g);
    }
    /* Dropout ratio out of range; Clip with a non-constant min. */
    {
        float r = 1.0f;
        nns_graph *gg = NULL;
        int64_t sd[2] = {2, 3};
        nns_shape s = nns_shape_make(2, sd), s0 = nns_shape_make(0, NULL);
        nns_graph_create(&gg);
        nns_graph_add_param(gg, "x", NNS_DTYPE_F32, &s, NULL, 1, NULL);
        nns_graph_add_param(gg, "r", NNS_DTYPE_F32, &s0, &r, 0, NULL);
        const char *in[2] = {"x", "r"}, *out[1] = {"y"};
        nns_graph_add_node(gg, "Dropout", "bad_dropout", 2, in, 1, out, NULL);
        nns_graph_add_output(gg, "y");
        CHECK(nns_graph_finalize(gg) != NNS_OK);
        CHECK_MSG(strstr(nns_last_error(), "bad_dropout") != NULL, "message '%s'", nns_last_error());
        nns_graph_free(gg);
        nns_graph_create(&gg);
        nns_graph_add_param(gg, "x", NNS_DTYPE_F32, &s, NULL, 1, NULL);
        const char *rin[1] = {"x"}, *rout[1] = {"lo"};
        nns_graph_add_node(gg, "Relu", "make_lo", 1, rin, 1, rout, NULL);
        const char *cin[2] = {"x", "lo"};
        nns_graph_add_node(gg, "Clip", "bad_clip", 2, cin, 1, out, NULL);
        nns_graph_add_output(gg, "y");
        CHECK(nns_graph_finalize(gg) != NNS_OK);
        CHECK_MSG(strstr(nns_last_error(), "bad_clip") != NULL, "message '%s'", nns_last_error());
        nns_graph_free(gg);
    }
    /* BN with a wrong-sized scale */
    {
        float rm[8], rv[8];
        oc_input b[5];
        bn_inputs(b, 2, 3, 2, 2, 4, rm, rv);
        b[1] = IN(4);
        nns_graph *gg = NULL;
        nns_graph_create(&gg);
        const char *names[5] = {"x", "s", "b", "m", "v"};
        for (int i = 0; i < 5; i++) {
            nns_shape s = nns_shape_make(b[i].ndim, b[i].dims);
            nns_graph_add_param(gg, names[i], NNS_DTYPE_F32, &s, b[i].f32, 1, NULL);
        }
        const char *out[1] = {"y"};
        nns_graph_add_node(gg, "BatchNormalization", "bad_bn", 5, names, 1, out, NULL);
        nns_graph_add_output(gg, "y");
        CHECK(nns_graph_finalize(gg) != NNS_OK);
        CHECK_MSG(strstr(nns_last_error(), "bad_bn") != NULL && strstr(nns_last_error(), "scale"),
                  "message '%s'", nns_last_error());
        nns_graph_free(gg);
    }
}

/* ---- elementwise ops of one input, and Pow / Min / Max ----
 * Gradients against finite differences (inputs kept off kinks and poles),
 * forward values against the formulas in double. */
static void unary_values(const char *op, oc_attr_fn attrs, double (*ref)(double), float lo, float hi, uint64_t seed) {
    oc_input in = IN(3, 17);
    float *v = fill_away(in_numel(&in), lo, hi, (const float[]){0.0f}, 1, seed);
    in.f32 = v;
    nns_shape sh;
    float *y = opcheck_forward(op, &in, 1, 1, attrs, 0, seed, &sh);
    double worst = 0;
    for (int64_t i = 0; y && i < in_numel(&in); i++) {
        const double want = ref(v[i]);
        worst = fmax(worst, fabs(y[i] - want) / (fabs(want) + 1e-6));
    }
    CHECK_MSG(y && worst < 1e-5, "%s: forward off by %g", op, worst);
    free(y);
    free(v);
}
static double ref_elu(double x) { return x > 0 ? x : 0.5 * expm1(x); } /* alpha 0.5 */
static double ref_selu(double x) {
    const double a = 1.67326319217681884765625, c = 1.05070102214813232421875;
    return x > 0 ? c * x : c * a * expm1(x);
}
static double ref_softplus(double x) { return log1p(exp(x)); }
static double ref_erf(double x) { return erf(x); }
static double ref_tanh(double x) { return tanh(x); }
static double ref_mish(double x) { return x * tanh(log1p(exp(x))); }
static double ref_celu(double x) { return x > 0 ? x : 0.5 * expm1(x / 0.5); } /* alpha 0.5 */
static double ref_thr(double x) { return x > 0.5 ? x : 0.0; }                 /* alpha 0.5 */
static double ref_round(double x) { return nearbyint(x); }
static double ref_sign(double x) { return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0; }
static double ref_softsign(double x) { return x / (1 + fabs(x)); }

/* Gradients of ops[i] on inputs in [lo, hi] away from kinks. */
static void unary_grads(const char *const *ops, size_t n_ops, float lo, float hi, uint64_t seed) {
    oc_input in = IN(2, 3, 5);
    for (size_t i = 0; i < n_ops; i++) {
        float *v = fill_away(in_numel(&in), lo, hi, (const float[]){0.0f, 0.5f}, 2, seed + i);
        in.f32 = v;
        opcheck_grad(ops[i], &in, 1, 1, NULL, 1, 1e-2, seed + 100 + i);
        free(v);
    }
}

static void test_unary_ops(void) {
    const float k0[] = {0.0f};
    static const char *const any[] = {"Abs", "Neg", "Exp", "Tanh", "Erf", "Softplus", "Elu", "Selu"};
    static const char *const positive[] = {"Sqrt", "Log", "Reciprocal"};
    oc_input in = IN(2, 3, 5);
    const int64_t n = in_numel(&in);
    for (size_t i = 0; i < NELEM(any); i++) {
        float *v = fill_away(n, -2.0f, 2.0f, k0, 1, 300 + i);
        in.f32 = v;
        opcheck_grad(any[i], &in, 1, 1, NULL, 1, 1e-2, 310 + i);
        free(v);
    }
    for (size_t i = 0; i < NELEM(positive); i++) {
        float *v = fill_away(n, 0.5f, 2.0f, NULL, 0, 320 + i);
        in.f32 = v;
        opcheck_grad(positive[i], &in, 1, 1, NULL, 1, 1e-2, 330 + i);
        free(v);
    }
    /* Pow on a positive base, Min and Max off ties, with broadcasting */
    oc_input ins[2] = {IN(2, 3, 4), IN(3, 1)};
    float *a = fill_away(24, 0.5f, 2.0f, NULL, 0, 340), *b = fill_away(3, -1.5f, 1.5f, NULL, 0, 341);
    ins[0].f32 = a, ins[1].f32 = b;
    opcheck_grad("Pow", ins, 2, 1, NULL, 1, 1e-2, 342);
    for (int i = 0; i < 24; i++) a[i] = (i % 2 ? 1.0f : -1.0f) * (0.25f + 0.1f * (float)(i % 7));
    b[0] = 0.07f, b[1] = -0.13f, b[2] = 0.51f;
    opcheck_grad("Min", ins, 2, 1, NULL, 1, 1e-2, 343);
    opcheck_grad("Max", ins, 2, 1, NULL, 1, 1e-2, 344);
    free(a);
    free(b);
    static const char *const wide[] = {"Sin", "Cos", "Atan", "Sinh", "Cosh", "Asinh", "Softsign", "Mish", "Celu"};
    static const char *const unit[] = {"Asin", "Acos", "Atanh", "Tan"};
    static const char *const above1[] = {"Acosh"};
    unary_grads(wide, NELEM(wide), -2.0f, 2.0f, 360);
    unary_grads(unit, NELEM(unit), -0.8f, 0.8f, 380);
    unary_grads(above1, NELEM(above1), 1.2f, 3.0f, 390);
    /* PRelu: a slope per channel, and one for all */
    oc_input pr[2] = {IN(2, 3, 4, 4), IN(3, 1, 1)};
    float *px = fill_away(96, -2.0f, 2.0f, k0, 1, 395);
    pr[0].f32 = px;
    opcheck_grad("PRelu", pr, 2, 1, NULL, 1, 1e-2, 396);
    pr[1] = IN(1);
    opcheck_grad("PRelu", pr, 2, 1, NULL, 1, 1e-2, 397);
    free(px);
    g_f1 = 0.5f;
    unary_values("Mish", NULL, ref_mish, -4.0f, 4.0f, 355);
    unary_values("Celu", attr_alpha, ref_celu, -3.0f, 3.0f, 356);
    unary_values("ThresholdedRelu", attr_alpha, ref_thr, -3.0f, 3.0f, 357);
    unary_values("Round", NULL, ref_round, -3.0f, 3.0f, 358);
    unary_values("Sign", NULL, ref_sign, -3.0f, 3.0f, 359);
    unary_values("Softsign", NULL, ref_softsign, -3.0f, 3.0f, 361);
    unary_values("Elu", attr_alpha, ref_elu, -3.0f, 3.0f, 350);
    unary_values("Selu", NULL, ref_selu, -3.0f, 3.0f, 351);
    unary_values("Softplus", NULL, ref_softplus, -20.0f, 20.0f, 352);
    unary_values("Erf", NULL, ref_erf, -3.0f, 3.0f, 353);
    unary_values("Tanh", NULL, ref_tanh, -3.0f, 3.0f, 354);
}

/* ---- Squeeze / Unsqueeze on activations ----
 * Shapes for positive, negative and unsorted axes; gradients are the copy's;
 * squeezing a dim that is not 1, and repeated or out-of-range axes, fail
 * naming the node. */
static int64_t g_axes[4];
static int g_naxes;
static void attr_axes(nns_graph *g, int node) { nns_graph_set_attr_ints(g, node, "axes", g_naxes, g_axes); }

static void sq_case(const char *op, oc_input x, const int64_t *axes, int na, int as_input, int want_nd,
                    const int64_t *want, const char *err) {
    oc_input ins[2] = {x, {0}};
    ins[1].ndim = 1, ins[1].dims[0] = na, ins[1].s64 = axes;
    memcpy(g_axes, axes, (size_t)na * sizeof *axes);
    g_naxes = na;
    nns_shape sh;
    float *y = opcheck_forward(op, ins, as_input ? 2 : 1, 1, as_input ? NULL : attr_axes, 0, 7, &sh);
    if (err) {
        CHECK_MSG(!y && strstr(nns_last_error(), err) && strstr(nns_last_error(), "'node'"), "%s: %s", op,
                  nns_last_error());
        free(y);
        return;
    }
    int ok = y && sh.ndim == want_nd;
    for (int d = 0; ok && d < want_nd; d++) ok = sh.dims[d] == want[d];
    CHECK_MSG(ok, "%s: output rank %d", op, y ? sh.ndim : -1);
    free(y);
    opcheck_grad(op, ins, as_input ? 2 : 1, 1, as_input ? NULL : attr_axes, 1, 1e-2, 11);
}

static void test_squeeze(void) {
    sq_case("Squeeze", IN(2, 1, 3, 1), (const int64_t[]){1}, 1, 1, 3, (const int64_t[]){2, 3, 1}, NULL);
    sq_case("Squeeze", IN(2, 1, 3, 1), (const int64_t[]){-1, 1}, 2, 0, 2, (const int64_t[]){2, 3}, NULL);
    sq_case("Unsqueeze", IN(2, 3), (const int64_t[]){0}, 1, 1, 3, (const int64_t[]){1, 2, 3}, NULL);
    sq_case("Unsqueeze", IN(2, 3), (const int64_t[]){3, -5, 1}, 3, 1, 5, (const int64_t[]){1, 1, 2, 1, 3}, NULL);
    sq_case("Unsqueeze", IN(2, 3), (const int64_t[]){1}, 1, 0, 3, (const int64_t[]){2, 1, 3}, NULL);
    sq_case("Squeeze", IN(2, 1, 3), (const int64_t[]){0}, 1, 1, 0, NULL, "is 2, not 1");
    sq_case("Squeeze", IN(2, 1, 3), (const int64_t[]){1, -2}, 2, 1, 0, NULL, "repeated");
    sq_case("Unsqueeze", IN(2, 3), (const int64_t[]){3}, 1, 1, 0, NULL, "out of range");
}

/* ---- reductions ----
 * ReduceSum / ReduceMean gradients over several axis sets (attribute and
 * constant input, keepdims 0 and 1); the forward of every kind on [2,3,4]
 * over axes {0, 2} against a direct computation in double. */
static int g_keep;
static void attr_axes_keep(nns_graph *g, int node) {
    nns_graph_set_attr_ints(g, node, "axes", g_naxes, g_axes);
    nns_graph_set_attr_int(g, node, "keepdims", g_keep);
}
static void attr_keep(nns_graph *g, int node) { nns_graph_set_attr_int(g, node, "keepdims", g_keep); }

static void test_reduce(void) {
    static const int64_t sets[][3] = {{1, 0, 0}, {0, 2, 0}, {-1, 0, 0}};
    static const int nset[] = {1, 2, 1};
    for (int k = 0; k < 2; k++)
        for (int c = 0; c < 3; c++) {
            oc_input in = IN(2, 3, 4);
            memcpy(g_axes, sets[c], sizeof sets[c]);
            g_naxes = nset[c];
            g_keep = (c + k) % 2;
            opcheck_grad(k ? "ReduceMean" : "ReduceSum", &in, 1, 1, attr_axes_keep, 1, 1e-2, 400 + 3 * k + c);
            oc_input ins[2] = {IN(2, 3, 4), {0}};
            ins[1].ndim = 1, ins[1].dims[0] = nset[c], ins[1].s64 = sets[c];
            opcheck_grad(k ? "ReduceMean" : "ReduceSum", ins, 2, 1, attr_keep, 1, 1e-2, 410 + 3 * k + c);
        }
    static const char *const kinds[] = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
                                        "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"};
    const int64_t ax[2] = {0, 2};
    for (size_t q = 0; q < NELEM(kinds); q++) {
        oc_input ins[2] = {IN(2, 3, 4), {0}};
        float xv[24];
        for (int i = 0; i < 24; i++) xv[i] = 0.25f + 0.05f * (float)((i * 7) % 24); /* positive: LogSum */
        ins[0].f32 = xv;
        ins[1].ndim = 1, ins[1].dims[0] = 2, ins[1].s64 = ax;
        g_keep = 0;
        nns_shape sh;
        float *y = opcheck_forward(kinds[q], ins, 2, 1, attr_keep, 0, 5, &sh);
        int ok = y && sh.ndim == 1 && sh.dims[0] == 3;
        for (int j = 0; ok && j < 3; j++) {
            double sum = 0, sq = 0, prod = 1, mx = -1e30, mn = 1e30, se = 0;
            for (int a = 0; a < 2; a++)
                for (int c = 0; c < 4; c++) {
                    const double v = xv[a * 12 + j * 4 + c];
                    sum += v, sq += v * v, prod *= v, mx = fmax(mx, v), mn = fmin(mn, v);
                }
            for (int a = 0; a < 2; a++)
                for (int c = 0; c < 4; c++) se += exp(xv[a * 12 + j * 4 + c] - mx);
            const double want[] = {sum, sum / 8, mx, mn, prod, sum, sqrt(sq), sq, log(sum), mx + log(se)};
            ok = fabs(y[j] - want[q]) <= 1e-5 * fabs(want[q]) + 1e-6;
        }
        CHECK_MSG(ok, "%s over axes {0, 2}", kinds[q]);
        free(y);
        /* the trailing axes {1, 2} (the contiguous path), NaN included for Max and Min */
        static const int64_t tail[2] = {-1, 1};
        ins[1].s64 = tail;
        xv[13] = q == 2 || q == 3 ? NAN : xv[13];
        y = opcheck_forward(kinds[q], ins, 2, 1, attr_keep, 0, 5, &sh);
        ok = y && sh.ndim == 1 && sh.dims[0] == 2;
        for (int a = 0; ok && a < 2; a++) {
            double sum = 0, sq = 0, prod = 1, mx = -1e30, mn = 1e30, se = 0;
            for (int c = 0; c < 12; c++) {
                const double v = xv[a * 12 + c];
                sum += v, sq += v * v, prod *= v, mx = v != v || mx != mx ? NAN : fmax(mx, v);
                mn = v != v || mn != mn ? NAN : fmin(mn, v);
            }
            for (int c = 0; c < 12; c++) se += exp(xv[a * 12 + c] - mx);
            const double want[] = {sum, sum / 12, mx, mn, prod, sum, sqrt(sq), sq, log(sum), mx + log(se)};
            ok = want[q] != want[q] ? y[a] != y[a] : fabs(y[a] - want[q]) <= 1e-5 * fabs(want[q]) + 1e-6;
        }
        CHECK_MSG(ok, "%s over the trailing axes {1, 2}", kinds[q]);
        free(y);
    }
}

/* ---- Slice on an activation ----
 * [3, 5, 4] sliced along axis 1 in every way ONNX allows (negative starts
 * and ends, out-of-range ends, negative steps, INT64_MIN), values against a
 * direct walk, gradients against finite differences; a step of 0 fails. */
static void slice_case(int64_t s0, int64_t e0, int64_t st, int64_t want_len) {
    const int64_t starts[1] = {s0}, ends[1] = {e0}, axes[1] = {-2}, steps[1] = {st};
    oc_input ins[5] = {IN(3, 5, 4), {0}, {0}, {0}, {0}};
    const int64_t *lists[4] = {starts, ends, axes, steps};
    for (int i = 1; i < 5; i++) ins[i].ndim = 1, ins[i].dims[0] = 1, ins[i].s64 = lists[i - 1];
    float xv[60];
    for (int i = 0; i < 60; i++) xv[i] = (float)i;
    ins[0].f32 = xv;
    nns_shape sh;
    float *y = opcheck_forward("Slice", ins, 5, 1, NULL, 0, 1, &sh);
    if (st == 0) {
        CHECK_MSG(!y && strstr(nns_last_error(), "step 0"), "Slice step 0: %s", nns_last_error());
        free(y);
        return;
    }
    int ok = y && sh.ndim == 3 && sh.dims[0] == 3 && sh.dims[1] == want_len && sh.dims[2] == 4;
    int64_t s = s0 < 0 ? s0 + 5 : s0;
    s = st > 0 ? (s < 0 ? 0 : s > 5 ? 5 : s) : (s < 0 ? 0 : s > 4 ? 4 : s);
    for (int a = 0; ok && a < 3; a++)
        for (int64_t k = 0; ok && k < want_len; k++)
            for (int c = 0; ok && c < 4; c++) ok = y[(a * want_len + k) * 4 + c] == xv[a * 20 + (s + k * st) * 4 + c];
    CHECK_MSG(ok, "Slice %lld:%lld:%lld", (long long)s0, (long long)e0, (long long)st);
    free(y);
    if (want_len > 0) {
        ins[0].f32 = NULL;
        opcheck_grad("Slice", ins, 5, 1, NULL, 1, 1e-2, 500 + s0 + 7 * st);
    }
}

static void test_slice(void) {
    slice_case(1, 4, 1, 3);
    slice_case(-4, -1, 2, 2);
    slice_case(0, 100, 1, 5);
    slice_case(4, -100, -1, 5);
    slice_case(-1, INT64_MIN, -2, 3);
    slice_case(3, 1, 1, 0);
    slice_case(7, 9, 1, 0);
    slice_case(0, 5, 0, 0);
}

/* ---- Split ----
 * [2, 7, 3] split along axis 1 by sizes {2, 4, 1} (input) and into three
 * equal-or-smaller parts {3, 3, 1} (no sizes): every output's values against
 * the input; the first output's gradient; sizes that do not add up fail,
 * also when their sum would overflow. */
static void split_case(const int64_t *sizes, const int64_t *want) {
    oc_input ins[2] = {IN(2, 7, 3), {0}};
    ins[1].ndim = 1, ins[1].dims[0] = 3, ins[1].s64 = sizes;
    float xv[42];
    for (int i = 0; i < 42; i++) xv[i] = (float)i;
    ins[0].f32 = xv;
    nns_graph *g = oc_build("Split", ins, sizes ? 2 : 1, 3, attr_axis1, 3);
    nns_plan *p = NULL;
    if (!want) {
        CHECK_MSG(!g && strstr(nns_last_error(), "add up to"), "Split: %s", nns_last_error());
        nns_graph_free(g);
        return;
    }
    if (g) CHECK_OK(nns_plan_create(g, 1, 0, NULL, &p));
    if (p) nns_plan_forward(p, 0);
    int ok = p != NULL, at = 0;
    for (int o = 0; ok && o < 3; o++) {
        const nns_tv *t = nns_plan_output(p, o);
        ok = t->shape.dims[1] == want[o];
        for (int a = 0; ok && a < 2; a++)
            for (int k = 0; ok && k < want[o]; k++)
                for (int c = 0; ok && c < 3; c++) ok = nns_tv_f32(t)[(a * want[o] + k) * 3 + c] == xv[a * 21 + (at + k) * 3 + c];
        at += (int)want[o];
    }
    CHECK_MSG(ok, "Split into %lld/%lld/%lld", (long long)want[0], (long long)want[1], (long long)want[2]);
    nns_plan_free(p);
    nns_graph_free(g);
    ins[0].f32 = NULL;
    opcheck_grad("Split", ins, sizes ? 2 : 1, 3, attr_axis1, 1, 1e-2, 601);
}

static void test_split(void) {
    split_case((const int64_t[]){2, 4, 1}, (const int64_t[]){2, 4, 1});
    split_case(NULL, (const int64_t[]){3, 3, 1});
    split_case((const int64_t[]){2, 4, 2}, NULL);
    split_case((const int64_t[]){INT64_MAX, INT64_MAX, 1}, NULL); /* a sum past int64 (UBSan, fuzz) */
}

/* ---- ArgMax, ArgMin ----
 * [2, 4, 3] along axis 1 (keepdims and not), ties taken first or last,
 * a NaN winning for both; against a direct scan. */
static int g_arg_keep, g_arg_last;
static void attr_arg(nns_graph *g, int node) {
    nns_graph_set_attr_int(g, node, "axis", -2);
    nns_graph_set_attr_int(g, node, "keepdims", g_arg_keep);
    nns_graph_set_attr_int(g, node, "select_last_index", g_arg_last);
}

static void test_argmax(void) {
    float xv[24];
    for (int i = 0; i < 24; i++) xv[i] = (float)((i * 7) % 5);
    xv[13] = NAN; /* [1][0][1] */
    oc_input ins[1] = {IN(2, 4, 3)};
    ins[0].f32 = xv;
    for (int q = 0; q < 8; q++) {
        const int min = q & 1;
        g_arg_keep = (q >> 1) & 1, g_arg_last = (q >> 2) & 1;
        nns_graph *g = oc_build(min ? "ArgMin" : "ArgMax", ins, 1, 1, attr_arg, 1);
        nns_plan *p = NULL;
        int ok = g && !nns_plan_create(g, 1, 0, NULL, &p);
        if (ok) nns_plan_forward(p, 0);
        const nns_tv *o = ok ? nns_plan_output(p, 0) : NULL;
        ok = o && o->dtype == NNS_DTYPE_S64 && o->shape.ndim == (g_arg_keep ? 3 : 2);
        for (int a = 0; ok && a < 2; a++)
            for (int c = 0; ok && c < 3; c++) {
                int best = 0;
                for (int k = 1; k < 4; k++) {
                    const float v = xv[a * 12 + k * 3 + c], b = xv[a * 12 + best * 3 + c];
                    if (b != b) break;
                    if (v != v || (min ? v < b : v > b) || (g_arg_last && v == b)) best = k;
                }
                ok = ((const int64_t *)o->data)[a * 3 + c] == best;
            }
        CHECK_MSG(ok, "%s keepdims %d select_last_index %d", min ? "ArgMin" : "ArgMax", g_arg_keep, g_arg_last);
        nns_plan_free(p);
        nns_graph_free(g);
    }
}

/* ---- LayerNormalization ----
 * [3, 2, 5] normalised over its last two dims with Scale and B, the Mean
 * and InvStdDev outputs; against a direct computation in double. A Scale
 * of the wrong size fails by name. */
static void attr_ln(nns_graph *g, int node) {
    nns_graph_set_attr_int(g, node, "axis", 1);
    nns_graph_set_attr_float(g, node, "epsilon", 1e-3f);
}

static void test_layernorm(void) {
    oc_input ins[3] = {IN(3, 2, 5), IN(2, 5), IN(10)};
    nns_graph *g = oc_build("LayerNormalization", ins, 3, 3, attr_ln, 9);
    float *x = opcheck_input_values(ins, 3, 0, 9), *sc = opcheck_input_values(ins, 3, 1, 9);
    float *b = opcheck_input_values(ins, 3, 2, 9);
    nns_plan *p = NULL;
    int ok = g && !nns_plan_create(g, 1, 0, NULL, &p);
    if (ok) nns_plan_forward(p, 0);
    for (int o = 0; ok && o < 3; o++) {
        double m = 0, v = 0;
        for (int i = 0; i < 10; i++) m += x[o * 10 + i] / 10.0;
        for (int i = 0; i < 10; i++) v += (x[o * 10 + i] - m) * (x[o * 10 + i] - m) / 10.0;
        const double r = 1.0 / sqrt(v + 1e-3);
        for (int i = 0; ok && i < 10; i++)
            ok = fabs(nns_tv_f32(nns_plan_output(p, 0))[o * 10 + i] - ((x[o * 10 + i] - m) * r * sc[i] + b[i])) < 1e-5;
        ok = ok && fabs(nns_tv_f32(nns_plan_output(p, 1))[o] - m) < 1e-6 &&
             fabs(nns_tv_f32(nns_plan_output(p, 2))[o] - r) < 1e-4 * r;
    }
    CHECK_MSG(ok, "LayerNormalization values, mean and inverse deviation");
    nns_plan_free(p);
    nns_graph_free(g);
    free(x), free(sc), free(b);
    oc_input bad[2] = {IN(3, 2, 5), IN(4)};
    g = oc_build("LayerNormalization", bad, 2, 1, attr_ln, 9);
    CHECK_MSG(!g && strstr(nns_last_error(), "input 1 has 4 elements"), "LayerNormalization scale: %s",
              nns_last_error());
    nns_graph_free(g);
}

/* ---- Trilu ----
 * [2, 3, 4] upper and lower triangles from diagonals -1, 0, 2; values and
 * gradients. */
static int g_upper;
static void attr_upper(nns_graph *g, int node) { nns_graph_set_attr_int(g, node, "upper", g_upper); }

static void test_trilu(void) {
    static const int64_t ks[3] = {-1, 0, 2};
    float xv[24];
    for (int i = 0; i < 24; i++) xv[i] = (float)i + 1.0f;
    for (int q = 0; q < 6; q++) {
        g_upper = q & 1;
        oc_input ins[2] = {IN(2, 3, 4), {0}};
        ins[0].f32 = xv;
        ins[1].ndim = 0, ins[1].s64 = &ks[q / 2];
        nns_shape sh;
        float *y = opcheck_forward("Trilu", ins, 2, 1, attr_upper, 0, 1, &sh);
        int ok = y != NULL;
        for (int i = 0; ok && i < 24; i++) {
            const int r = (i / 4) % 3, c = i % 4;
            const int keep = g_upper ? c - r >= ks[q / 2] : c - r <= ks[q / 2];
            ok = y[i] == (keep ? xv[i] : 0.0f);
        }
        CHECK_MSG(ok, "Trilu upper %d k %lld", g_upper, (long long)ks[q / 2]);
        free(y);
        ins[0].f32 = NULL;
        opcheck_grad("Trilu", ins, 2, 1, attr_upper, 1, 1e-2, 800 + (uint64_t)q);
    }
}

/* ---- comparisons, logic, Where, Sum, Mean ----
 * x [2, 3] against y [3] (broadcast), NaN included: Less, Greater, Equal,
 * LessOrEqual, GreaterOrEqual, then Or, And, Xor, Not of those bools, then
 * Where(Or, x, y), Sum(x, y, x) and Mean(x, y); every output against a
 * direct computation. A float input to And fails by name. */
static void test_logic(void) {
    static const float xv[6] = {1, 2, NAN, -1, 5, 0}, yv[3] = {1, 3, 0};
    static const int64_t d23[2] = {2, 3}, d3[1] = {3};
    static const char *const ops[][4] = {
        {"Less", "x", "y", "lt"}, {"Greater", "x", "y", "gt"}, {"Equal", "x", "y", "eq"},
        {"LessOrEqual", "x", "y", "le"}, {"GreaterOrEqual", "x", "y", "ge"}, {"Or", "lt", "gt", "or"},
        {"And", "le", "ge", "and"}, {"Xor", "le", "eq", "xor"}, {"Not", "or", NULL, "not"},
        {"Where", "or", "x", "wh"}, {"Mean", "x", "y", "mean"}};
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    nns_shape s23 = nns_shape_make(2, d23), s3 = nns_shape_make(1, d3);
    CHECK_OK(nns_graph_add_param(g, "x", NNS_DTYPE_F32, &s23, xv, 0, NULL));
    CHECK_OK(nns_graph_add_param(g, "y", NNS_DTYPE_F32, &s3, yv, 0, NULL));
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        const char *in[3] = {ops[i][1], ops[i][2], "y"}, *out[1] = {ops[i][3]};
        const int n_in = !strcmp(ops[i][0], "Where") ? 3 : ops[i][2] ? 2 : 1;
        int node;
        CHECK_OK(nns_graph_add_node(g, ops[i][0], ops[i][3], n_in, in, 1, out, &node));
        CHECK_OK(nns_graph_add_output(g, ops[i][3]));
    }
    const char *sin[3] = {"x", "y", "x"}, *sout[1] = {"sum"};
    int node;
    CHECK_OK(nns_graph_add_node(g, "Sum", "sum", 3, sin, 1, sout, &node));
    CHECK_OK(nns_graph_add_output(g, "sum"));
    nns_plan *p = NULL;
    int ok = !nns_graph_finalize(g) && !nns_graph_pack_params(g) && !nns_plan_create(g, 1, 0, NULL, &p);
    if (ok) nns_plan_forward(p, 0);
    for (int j = 0; ok && j < 6; j++) {
        const float a = xv[j], b = yv[j % 3];
        const int lt = a < b, gt = a > b, eq = a == b, le = a <= b, ge = a >= b, o = lt || gt;
        const int want[9] = {lt, gt, eq, le, ge, o, le && ge, le != eq, !o};
        for (int k = 0; ok && k < 9; k++) {
            const nns_tv *t = nns_plan_output(p, k);
            ok = t->dtype == NNS_DTYPE_BOOL && ((const uint8_t *)t->data)[j] == want[k];
        }
        const float wh = nns_tv_f32(nns_plan_output(p, 9))[j], mean = nns_tv_f32(nns_plan_output(p, 10))[j];
        const float sum = nns_tv_f32(nns_plan_output(p, 11))[j];
        ok = ok && (o ? wh == a : wh == b) && (a == a ? mean == (a + b) * 0.5f && sum == a + b + a : mean != mean);
    }
    CHECK_MSG(ok, "comparisons, logic, Where, Sum and Mean");
    nns_plan_free(p);
    nns_graph_free(g);
    oc_input ins[2] = {IN(2, 3), IN(3)};
    g = oc_build("And", ins, 2, 1, NULL, 1);
    CHECK_MSG(!g && strstr(nns_last_error(), "input 0 'in0' is f32 (bool expected)"), "And on floats: %s",
              nns_last_error());
    nns_graph_free(g);
}

/* ---- NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ----
 * Scores [2, 3, 2], labels [2, 2] (one of them ignore_index 1, one out of
 * range for the NaN case), weights [3]; each reduction of both ops against
 * a direct computation, and SoftmaxCrossEntropyLoss's log_prob output. */
static const char *g_reduction;
static void attr_nll(nns_graph *g, int node) {
    nns_graph_set_attr_string(g, node, "reduction", g_reduction);
    nns_graph_set_attr_int(g, node, "ignore_index", 1);
}

static void test_nllloss(void) {
    static const char *const reds[3] = {"none", "sum", "mean"};
    static const int64_t labels[4] = {0, 2, 1, 2}, bad[4] = {0, 3, 1, 2};
    for (int q = 0; q < 7; q++) {
        const int sce = q & 1, red = (q >> 1) % 3, oob = q == 6;
        g_reduction = reds[red];
        oc_input ins[3] = {IN(2, 3, 2), {0}, IN(3)};
        ins[1].ndim = 2, ins[1].dims[0] = 2, ins[1].dims[1] = 2, ins[1].s64 = oob ? bad : labels;
        const char *op = sce ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss";
        nns_graph *g = oc_build(op, ins, 3, sce ? 2 : 1, attr_nll, 40 + (uint64_t)q);
        float *x = opcheck_input_values(ins, 3, 0, 40 + (uint64_t)q), *w = opcheck_input_values(ins, 3, 2, 40 + (uint64_t)q);
        nns_plan *p = NULL;
        int ok = g && !nns_plan_create(g, 1, 0, NULL, &p);
        if (ok) nns_plan_forward(p, 0);
        double lp[12], loss[4], sum = 0, wsum = 0;
        for (int i = 0; i < 2; i++)
            for (int d = 0; d < 2; d++) {
                double se = 0;
                for (int c = 0; c < 3; c++) se += exp(x[i * 6 + c * 2 + d]);
                for (int c = 0; c < 3; c++) lp[i * 6 + c * 2 + d] = sce ? x[i * 6 + c * 2 + d] - log(se) : x[i * 6 + c * 2 + d];
                const int64_t t = (oob ? bad : labels)[i * 2 + d];
                loss[i * 2 + d] = t == 1 ? 0 : t > 2 ? NAN : -lp[i * 6 + t * 2 + d] * w[t];
                sum += loss[i * 2 + d];
                wsum += t == 1 || t > 2 ? 0 : w[t];
            }
        const float *y = ok ? nns_tv_f32(nns_plan_output(p, 0)) : NULL;
        if (red == 0)
            for (int j = 0; ok && j < 4; j++) ok = oob && j == 1 ? y[j] != y[j] : fabs(y[j] - loss[j]) < 1e-5;
        else ok = ok && fabs(y[0] - (red == 1 ? sum : sum / wsum)) < 1e-5;
        for (int j = 0; ok && sce && j < 12; j++) ok = fabs(nns_tv_f32(nns_plan_output(p, 1))[j] - lp[j]) < 1e-5;
        CHECK_MSG(ok, "%s reduction %s%s", op, reds[red], oob ? " (a label out of range)" : "");
        nns_plan_free(p);
        nns_graph_free(g);
        free(x), free(w);
    }
}

/* ---- Resize ----
 * [1, 2, 3, 4] to [1, 2, 6, 8] by scales: nearest with asymmetric
 * coordinates and floor (what F.interpolate's nearest exports) against
 * y = x[i / 2][j / 2], and linear with half_pixel against PyTorch's
 * bilinear rule (source clamped at 0, the next index at the edge); cubic is
 * refused by name. */
static int g_resize_linear;
static void attr_resize(nns_graph *g, int node) {
    nns_graph_set_attr_string(g, node, "mode", g_resize_linear ? "linear" : "nearest");
    nns_graph_set_attr_string(g, node, "coordinate_transformation_mode", g_resize_linear ? "half_pixel" : "asymmetric");
    nns_graph_set_attr_string(g, node, "nearest_mode", "floor");
}
static void attr_cubic(nns_graph *g, int node) { nns_graph_set_attr_string(g, node, "mode", "cubic"); }

static double bilinear_src(int o, int in, int64_t *i0, int64_t *i1) {
    double s = (o + 0.5) / 2.0 - 0.5;
    if (s < 0) s = 0;
    *i0 = (int64_t)s;
    *i1 = *i0 + 1 < in ? *i0 + 1 : in - 1;
    return s - (double)*i0;
}

static void test_resize(void) {
    static const float scales[4] = {1, 1, 2, 2};
    float xv[24];
    for (int i = 0; i < 24; i++) xv[i] = (float)((i * 5) % 11) - 3.0f;
    for (int lin = 0; lin < 2; lin++) {
        g_resize_linear = lin;
        oc_input ins[3] = {IN(1, 2, 3, 4), {0}, IN(4)};
        ins[0].f32 = xv;
        ins[1].omitted = 1;
        ins[2].f32 = scales;
        nns_shape sh;
        float *y = opcheck_forward("Resize", ins, 3, 1, attr_resize, 0, 1, &sh);
        int ok = y && sh.ndim == 4 && sh.dims[2] == 6 && sh.dims[3] == 8;
        for (int c = 0; ok && c < 2; c++)
            for (int i = 0; ok && i < 6; i++)
                for (int j = 0; ok && j < 8; j++) {
                    const float *xc = xv + c * 12;
                    double want;
                    if (!lin) {
                        want = xc[(i / 2) * 4 + j / 2];
                    } else {
                        int64_t a0, a1, b0, b1;
                        const double fy = bilinear_src(i, 3, &a0, &a1), fx = bilinear_src(j, 4, &b0, &b1);
                        want = (1 - fy) * ((1 - fx) * xc[a0 * 4 + b0] + fx * xc[a0 * 4 + b1]) +
                               fy * ((1 - fx) * xc[a1 * 4 + b0] + fx * xc[a1 * 4 + b1]);
                    }
                    ok = fabs(y[(c * 6 + i) * 8 + j] - want) < 1e-5;
                }
        CHECK_MSG(ok, "Resize %s 2x", lin ? "linear half_pixel" : "nearest asymmetric floor");
        free(y);
    }
    oc_input ins[3] = {IN(1, 2, 3, 4), {0}, IN(4)};
    ins[1].omitted = 1;
    ins[2].f32 = scales;
    nns_graph *g = oc_build("Resize", ins, 3, 1, attr_cubic, 1);
    CHECK_MSG(!g && strstr(nns_last_error(), "mode 'cubic'"), "Resize cubic: %s", nns_last_error());
    nns_graph_free(g);
}

/* ---- ConvTranspose ----
 * X [2, 4, 3, 3], W [4, 3, 3, 2] (group 2: 6 output channels), stride 2x1,
 * dilation 1x2, pads, output_padding 1 on the rows, bias; then the same
 * with output_shape instead of pads. Against the scatter form
 * y[m][iy * s - pt + i * d][...] += x[c][iy][ix] * w[c][m][i][j]. */
static int g_ct_shape;
static void attr_ct(nns_graph *g, int node) {
    nns_graph_set_attr_ints(g, node, "strides", 2, (const int64_t[]){2, 1});
    nns_graph_set_attr_ints(g, node, "dilations", 2, (const int64_t[]){1, 2});
    nns_graph_set_attr_int(g, node, "group", 2);
    if (g_ct_shape) {
        nns_graph_set_attr_ints(g, node, "output_shape", 2, (const int64_t[]){7, 5});
    } else {
        nns_graph_set_attr_ints(g, node, "pads", 4, (const int64_t[]){1, 0, 0, 1});
        nns_graph_set_attr_ints(g, node, "output_padding", 2, (const int64_t[]){1, 0});
    }
}

static void test_convtranspose(void) {
    for (int q = 0; q < 2; q++) {
        g_ct_shape = q;
        oc_input ins[3] = {IN(2, 4, 3, 3), IN(4, 3, 3, 2), IN(6)};
        nns_shape sh;
        float *y = opcheck_forward("ConvTranspose", ins, 3, 1, attr_ct, 0, 60 + (uint64_t)q, &sh);
        float *x = opcheck_input_values(ins, 3, 0, 60 + (uint64_t)q), *w = opcheck_input_values(ins, 3, 1, 60 + (uint64_t)q);
        float *b = opcheck_input_values(ins, 3, 2, 60 + (uint64_t)q);
        /* full size: 2 * (3 - 1) + 3 = 7 rows, (3 - 1) + 3 = 5 columns; output_shape [7, 5] has no
         * padding, pads [1, 0, 0, 1] with output_padding 1 give 7 x 4 from row 1 */
        const int oh = 7, ow = q ? 5 : 4, pt = q ? 0 : 1, pl = 0;
        int ok = y && sh.ndim == 4 && sh.dims[1] == 6 && sh.dims[2] == oh && sh.dims[3] == ow;
        double want[2 * 6 * 8 * 6] = {0};
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 4; c++)
                for (int m = 0; m < 3; m++)
                    for (int iy = 0; iy < 3; iy++)
                        for (int ix = 0; ix < 3; ix++)
                            for (int i = 0; i < 3; i++)
                                for (int j = 0; j < 2; j++) {
                                    const int oy = iy * 2 - pt + i, ox = ix - pl + j * 2, mo = (c / 2) * 3 + m;
                                    if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                                    want[((n * 6 + mo) * oh + oy) * ow + ox] +=
                                        (double)x[((n * 4 + c) * 3 + iy) * 3 + ix] * w[((c * 3 + m) * 3 + i) * 2 + j];
                                }
        for (int i = 0; ok && i < 2 * 6 * oh * ow; i++) ok = fabs(y[i] - (want[i] + b[(i / (oh * ow)) % 6])) < 1e-4;
        CHECK_MSG(ok, "ConvTranspose %s", q ? "output_shape" : "pads and output_padding");
        free(y), free(x), free(w), free(b);
    }
}

/* ---- InstanceNormalization, LRN, DepthToSpace, SpaceToDepth ----
 * Against direct computations: each plane's normalisation; LRN of size 3
 * over 5 channels; DepthToSpace DCR and CRD of [1, 8, 2, 3] with blocksize
 * 2 by ONNX's reshape-transpose-reshape indices, SpaceToDepth as its
 * inverse, and DepthToSpace's gradients. */
static const char *g_d2s_mode;
static void attr_d2s(nns_graph *g, int node) {
    nns_graph_set_attr_int(g, node, "blocksize", 2);
    if (g_d2s_mode) nns_graph_set_attr_string(g, node, "mode", g_d2s_mode);
}
static void attr_lrn(nns_graph *g, int node) {
    nns_graph_set_attr_int(g, node, "size", 3);
    nns_graph_set_attr_float(g, node, "alpha", 0.3f);
    nns_graph_set_attr_float(g, node, "beta", 0.6f);
    nns_graph_set_attr_float(g, node, "bias", 2.0f);
}

static void test_norms_and_moves(void) {
    oc_input in3[3] = {IN(2, 3, 2, 2), IN(3), IN(3)};
    nns_shape sh;
    float *y = opcheck_forward("InstanceNormalization", in3, 3, 1, NULL, 0, 70, &sh);
    float *x = opcheck_input_values(in3, 3, 0, 70), *sc = opcheck_input_values(in3, 3, 1, 70);
    float *b = opcheck_input_values(in3, 3, 2, 70);
    int ok = y != NULL;
    for (int q = 0; ok && q < 6; q++) {
        double m = 0, v = 0;
        for (int i = 0; i < 4; i++) m += x[q * 4 + i] / 4.0;
        for (int i = 0; i < 4; i++) v += (x[q * 4 + i] - m) * (x[q * 4 + i] - m) / 4.0;
        for (int i = 0; ok && i < 4; i++)
            ok = fabs(y[q * 4 + i] - ((x[q * 4 + i] - m) / sqrt(v + 1e-5) * sc[q % 3] + b[q % 3])) < 1e-4;
    }
    CHECK_MSG(ok, "InstanceNormalization");
    free(y), free(x), free(sc), free(b);
    oc_input in1[1] = {IN(1, 5, 2, 1)};
    y = opcheck_forward("LRN", in1, 1, 1, attr_lrn, 0, 71, &sh);
    x = opcheck_input_values(in1, 1, 0, 71);
    ok = y != NULL;
    for (int c = 0; ok && c < 5; c++)
        for (int q = 0; ok && q < 2; q++) {
            double s2 = 0;
            for (int k = c - 1; k <= c + 1; k++)
                if (k >= 0 && k < 5) s2 += (double)x[k * 2 + q] * x[k * 2 + q];
            ok = fabs(y[c * 2 + q] - x[c * 2 + q] / pow(2.0 + 0.3 / 3 * s2, 0.6)) < 1e-5;
        }
    CHECK_MSG(ok, "LRN");
    free(y), free(x);
    float xv[48];
    for (int i = 0; i < 48; i++) xv[i] = (float)i;
    for (int crd = 0; crd < 2; crd++) {
        g_d2s_mode = crd ? "CRD" : "DCR";
        oc_input in[1] = {IN(1, 8, 2, 3)};
        in[0].f32 = xv;
        y = opcheck_forward("DepthToSpace", in, 1, 1, attr_d2s, 0, 1, &sh);
        ok = y && sh.dims[1] == 2 && sh.dims[2] == 4 && sh.dims[3] == 6;
        for (int c = 0; ok && c < 2; c++)
            for (int h = 0; ok && h < 4; h++)
                for (int w = 0; ok && w < 6; w++) {
                    const int by = h % 2, bx = w % 2;
                    const int ch = crd ? c * 4 + by * 2 + bx : (by * 2 + bx) * 2 + c;
                    ok = y[(c * 4 + h) * 6 + w] == xv[(ch * 2 + h / 2) * 3 + w / 2];
                }
        CHECK_MSG(ok, "DepthToSpace %s", g_d2s_mode);
        if (!crd && y) { /* SpaceToDepth undoes DCR */
            oc_input back[1] = {IN(1, 2, 4, 6)};
            back[0].f32 = y;
            g_d2s_mode = NULL;
            float *z = opcheck_forward("SpaceToDepth", back, 1, 1, attr_d2s, 0, 1, &sh);
            CHECK_MSG(z && !memcmp(z, xv, sizeof xv), "SpaceToDepth inverts DepthToSpace");
            free(z);
            g_d2s_mode = "DCR";
        }
        free(y);
        in[0].f32 = NULL;
        opcheck_grad("DepthToSpace", in, 1, 1, attr_d2s, 1, 1e-2, 72 + (uint64_t)crd);
    }
}

/* ---- Gather, GatherElements, Expand, Tile on activations ----
 * x [2, 3, 4]: Gather along axis 1 with indices [[2, -3], [1, 1]] (a
 * negative one); GatherElements along axis 2; Expand to [3, 2, 1, 4]; Tile
 * by [1, 2, 2]; against direct index arithmetic. */
static void attr_axis2(nns_graph *g, int node) { nns_graph_set_attr_int(g, node, "axis", 2); }

static void test_moves(void) {
    float xv[24];
    for (int i = 0; i < 24; i++) xv[i] = (float)i;
    static const int64_t gi[4] = {2, -3, 1, 1}, ei[12] = {3, 0, 1, -1, 2, 2, 0, 1, 3, 3, 2, 1};
    static const int64_t shape4[4] = {3, 2, 1, 4}, reps[3] = {1, 2, 2};
    oc_input ins[2] = {IN(2, 3, 4), {0}};
    ins[0].f32 = xv;
    ins[1].ndim = 2, ins[1].dims[0] = 2, ins[1].dims[1] = 2, ins[1].s64 = gi;
    nns_shape sh;
    float *y = opcheck_forward("Gather", ins, 2, 1, attr_axis1, 0, 1, &sh);
    int ok = y && sh.ndim == 4 && sh.dims[1] == 2 && sh.dims[2] == 2;
    for (int a = 0; ok && a < 2; a++)
        for (int q = 0; ok && q < 4; q++)
            for (int c = 0; ok && c < 4; c++) ok = y[(a * 4 + q) * 4 + c] == xv[a * 12 + ((gi[q] + 3) % 3) * 4 + c];
    CHECK_MSG(ok, "Gather along axis 1");
    free(y);
    ins[1].ndim = 3, ins[1].dims[0] = 2, ins[1].dims[1] = 3, ins[1].dims[2] = 2, ins[1].s64 = ei;
    y = opcheck_forward("GatherElements", ins, 2, 1, attr_axis2, 0, 1, &sh);
    ok = y && sh.ndim == 3 && sh.dims[2] == 2;
    for (int j = 0; ok && j < 12; j++) ok = y[j] == xv[(j / 2) * 4 + (ei[j] + 4) % 4];
    CHECK_MSG(ok, "GatherElements along axis 2");
    free(y);
    oc_input ex[2] = {IN(2, 1, 4), {0}};
    ex[0].f32 = xv;
    ex[1].ndim = 1, ex[1].dims[0] = 4, ex[1].s64 = shape4;
    y = opcheck_forward("Expand", ex, 2, 1, NULL, 0, 1, &sh);
    ok = y && sh.ndim == 4 && sh.dims[0] == 3 && sh.dims[1] == 2 && sh.dims[3] == 4;
    for (int j = 0; ok && j < 24; j++) ok = y[j] == xv[((j / 4) % 2) * 4 + j % 4];
    CHECK_MSG(ok, "Expand [2, 1, 4] to [3, 2, 1, 4]");
    free(y);
    ins[1].ndim = 1, ins[1].dims[0] = 3, ins[1].s64 = reps;
    y = opcheck_forward("Tile", ins, 2, 1, NULL, 0, 1, &sh);
    ok = y && sh.ndim == 3 && sh.dims[1] == 6 && sh.dims[2] == 8;
    for (int a = 0; ok && a < 2; a++)
        for (int r = 0; ok && r < 6; r++)
            for (int c = 0; ok && c < 8; c++) ok = y[(a * 6 + r) * 8 + c] == xv[a * 12 + (r % 3) * 4 + c % 4];
    CHECK_MSG(ok, "Tile by [1, 2, 2]");
    free(y);
}

/* ---- Shrink, Hardmax, IsNaN, IsInf ----
 * Against direct rules on values with NaN and both infinities; Shrink's
 * gradients. */
static void attr_shrink(nns_graph *g, int node) {
    nns_graph_set_attr_float(g, node, "lambd", 0.75f);
    nns_graph_set_attr_float(g, node, "bias", 0.25f);
}
static void attr_isinf(nns_graph *g, int node) { nns_graph_set_attr_int(g, node, "detect_negative", 0); }

static void test_shrink_hardmax_isx(void) {
    static const float xv[8] = {-2.0f, -0.5f, 0.7f, 1.5f, NAN, INFINITY, -INFINITY, 0.0f};
    oc_input ins[1] = {IN(2, 4)};
    ins[0].f32 = xv;
    nns_shape sh;
    float *y = opcheck_forward("Shrink", ins, 1, 1, attr_shrink, 0, 1, &sh);
    int ok = y != NULL;
    for (int i = 0; ok && i < 8; i++) {
        const float x = xv[i], w = x < -0.75f ? x + 0.25f : x > 0.75f ? x - 0.25f : 0.0f;
        ok = x != x ? y[i] == 0.0f || y[i] != y[i] : y[i] == w;
    }
    CHECK_MSG(ok, "Shrink");
    free(y);
    y = opcheck_forward("Hardmax", ins, 1, 1, NULL, 0, 1, &sh);
    static const float hm[8] = {0, 0, 0, 1, 1, 0, 0, 0}; /* row 0: 1.5 at 3; row 1: the NaN first */
    CHECK_MSG(y && !memcmp(y, hm, sizeof hm), "Hardmax along the last axis");
    free(y);
    for (int q = 0; q < 2; q++) {
        nns_graph *g = oc_build(q ? "IsInf" : "IsNaN", ins, 1, 1, q ? attr_isinf : NULL, 1);
        nns_plan *p = NULL;
        ok = g && !nns_plan_create(g, 1, 0, NULL, &p);
        if (ok) nns_plan_forward(p, 0);
        for (int i = 0; ok && i < 8; i++) {
            const int want = q ? xv[i] == INFINITY : xv[i] != xv[i];
            ok = nns_plan_output(p, 0)->dtype == NNS_DTYPE_BOOL && ((const uint8_t *)nns_plan_output(p, 0)->data)[i] == want;
        }
        CHECK_MSG(ok, "%s", q ? "IsInf (positive only)" : "IsNaN");
        nns_plan_free(p);
        nns_graph_free(g);
    }
    oc_input gi[1] = {IN(3, 5)};
    opcheck_grad("Shrink", gi, 1, 1, attr_shrink, 1, 1e-2, 90);
}

/* ---- the vectorisable exp and sigmoid (op_util.h) ----
 * Against double precision on a sweep of [-100, 100]: e^x within 2 ulp on
 * [-87, 88]; sigmoid within 3 ulp where its value is a normal float, 0 or
 * subnormal-small below, NaN for NaN, 0.5 for -0. */
static void test_fast_exp(void) {
    int bad_exp = 0, bad_sig = 0;
    for (int i = -200000; i <= 200000; i++) {
        const float x = (float)i * 5e-4f;
        const double ex = exp((double)x), sg = 1.0 / (1.0 + exp(-(double)x));
        if (x >= -87.336f && x <= 88.0f && fabs(nns_expf_fast(x) - ex) > 2.0 * ex * FLT_EPSILON) bad_exp++;
        const float y = nns_sigmoidf(x);
        if (sg >= 1.001 * FLT_MIN ? fabs(y - sg) > 3.0 * sg * FLT_EPSILON : !(y >= 0.0f && y <= 1.001 * FLT_MIN))
            bad_sig++;
    }
    CHECK_MSG(!bad_exp && !bad_sig, "nns_expf_fast: %d, nns_sigmoidf: %d values out of bounds", bad_exp, bad_sig);
    CHECK(isnan(nns_sigmoidf(NAN)) && nns_sigmoidf(-0.0f) == 0.5f && nns_sigmoidf(INFINITY) == 1.0f &&
          nns_sigmoidf(-INFINITY) == 0.0f);
}

/* ---- Pad ----
 * [2, 3, 4] padded on axes 1 and 2 (pads 2, -1 before and 3, 1 after:
 * a crop on one side) in each mode: values against a direct reference
 * (numpy's pad rules), gradients against finite differences; pads of the
 * wrong count, an unknown mode and reflect on a dim of 1 fail by name. */
static const char *g_pad_mode;
static void attr_pad_mode(nns_graph *g, int node) {
    nns_graph_set_attr_string(g, node, "mode", g_pad_mode);
    nns_graph_set_attr_float(g, node, "value", 1.5f);
}

static int64_t pad_ref_src(const char *mode, int64_t i, int64_t dim) {
    if (i >= 0 && i < dim) return i;
    if (!strcmp(mode, "constant")) return -1;
    if (!strcmp(mode, "edge")) return i < 0 ? 0 : dim - 1;
    if (!strcmp(mode, "wrap")) return ((i % dim) + dim) % dim;
    while (i < 0 || i >= dim) i = i < 0 ? -i : 2 * (dim - 1) - i; /* reflect, by repeated mirroring */
    return i;
}

static void pad_case(const char *mode) {
    static const int64_t pads[6] = {0, 2, -1, 0, 3, 1};
    oc_input ins[2] = {IN(2, 3, 4), {0}};
    ins[1].ndim = 1, ins[1].dims[0] = 6, ins[1].s64 = pads;
    float xv[24];
    for (int i = 0; i < 24; i++) xv[i] = (float)i;
    ins[0].f32 = xv;
    g_pad_mode = mode;
    nns_shape sh;
    float *y = opcheck_forward("Pad", ins, 2, 1, attr_pad_mode, 0, 1, &sh);
    int ok = y && sh.ndim == 3 && sh.dims[0] == 2 && sh.dims[1] == 8 && sh.dims[2] == 4;
    for (int a = 0; ok && a < 2; a++)
        for (int r = 0; ok && r < 8; r++)
            for (int c = 0; ok && c < 4; c++) {
                const int64_t sr = pad_ref_src(mode, r - 2, 3), sc = pad_ref_src(mode, c + 1, 4);
                const float want = sr < 0 || sc < 0 ? 1.5f : xv[a * 12 + sr * 4 + sc];
                ok = y[(a * 8 + r) * 4 + c] == want;
            }
    CHECK_MSG(ok, "Pad mode %s", mode);
    free(y);
    ins[0].f32 = NULL;
    opcheck_grad("Pad", ins, 2, 1, attr_pad_mode, 1, 1e-2, 700 + (uint64_t)strlen(mode));
}

static void test_pad(void) {
    pad_case("constant");
    pad_case("edge");
    pad_case("reflect");
    pad_case("wrap");
    oc_input ins[2] = {IN(2, 3, 4), {0}};
    static const int64_t four[4] = {0, 1, 0, 1}, big[6] = {0, 0, 0, 0, 0, 9};
    ins[1].ndim = 1, ins[1].dims[0] = 4, ins[1].s64 = four;
    g_pad_mode = "constant";
    nns_shape sh;
    float *y = opcheck_forward("Pad", ins, 2, 1, attr_pad_mode, 0, 1, &sh);
    CHECK_MSG(!y && strstr(nns_last_error(), "2 pads per side for an input of rank 3"), "Pad count: %s",
              nns_last_error());
    free(y);
    g_pad_mode = "mirror";
    ins[1].dims[0] = 6, ins[1].s64 = big;
    y = opcheck_forward("Pad", ins, 2, 1, attr_pad_mode, 0, 1, &sh);
    CHECK_MSG(!y && strstr(nns_last_error(), "mode 'mirror'"), "Pad mode: %s", nns_last_error());
    free(y);
    oc_input one[2] = {IN(2, 3, 1), {0}};
    one[1] = ins[1];
    g_pad_mode = "reflect";
    y = opcheck_forward("Pad", one, 2, 1, attr_pad_mode, 0, 1, &sh);
    CHECK_MSG(!y && strstr(nns_last_error(), "do not fit dim 2 of size 1"), "Pad reflect on 1: %s",
              nns_last_error());
    free(y);
}

/* Each op is in the table under its ONNX name, with forward and backward. */
static const struct { const nns_op_def *def; int op; const char *name; } g_ops[] = {
    {&nns_op_batchnorm, NNS_OP_BATCHNORM, "BatchNormalization"},
    {&nns_op_relu, NNS_OP_RELU, "Relu"},
    {&nns_op_clip, NNS_OP_CLIP, "Clip"},
    {&nns_op_leakyrelu, NNS_OP_LEAKYRELU, "LeakyRelu"},
    {&nns_op_sigmoid, NNS_OP_SIGMOID, "Sigmoid"},
    {&nns_op_hardsigmoid, NNS_OP_HARDSIGMOID, "HardSigmoid"},
    {&nns_op_hardswish, NNS_OP_HARDSWISH, "HardSwish"},
    {&nns_op_add, NNS_OP_ADD, "Add"},
    {&nns_op_sub, NNS_OP_SUB, "Sub"},
    {&nns_op_mul, NNS_OP_MUL, "Mul"},
    {&nns_op_div, NNS_OP_DIV, "Div"},
    {&nns_op_concat, NNS_OP_CONCAT, "Concat"},
    {&nns_op_flatten, NNS_OP_FLATTEN, "Flatten"},
    {&nns_op_reshape, NNS_OP_RESHAPE, "Reshape"},
    {&nns_op_transpose, NNS_OP_TRANSPOSE, "Transpose"},
    {&nns_op_dropout, NNS_OP_DROPOUT, "Dropout"},
    {&nns_op_softmax, NNS_OP_SOFTMAX, "Softmax"},
    {&nns_op_logsoftmax, NNS_OP_LOGSOFTMAX, "LogSoftmax"},
    {&nns_op_identity, NNS_OP_IDENTITY, "Identity"},
};

/* ---- plan-level fusion and written gradients ----
 * Conv -> BN -> Clip -> Conv 1x1 -> BN -> Relu -> Flatten -> Gemm: the plan
 * fuses both BN + activation pairs, lets single consumers write their input
 * gradients, and gives no gradient to Flatten(input). A twin plan whose BN
 * outputs were asked for before the first forward (nns_plan_tv unfuses
 * them) must give the same bits; asking for a fused value after backward
 * must give the values and gradients the unfused plan has. */
static nns_graph *fusion_graph(void) {
    nns_graph *g = NULL;
    uint64_t r = 99;
    if (nns_graph_create(&g)) return NULL;
    int64_t xd[4] = {4, 3, 6, 6}, w1d[4] = {8, 3, 3, 3}, w2d[4] = {5, 8, 1, 1}, cd[1] = {8}, c2d[1] = {5};
    int64_t fd[2] = {7, 5 * 36 + 108}, bd[1] = {7};
    nns_shape xs = nns_shape_make(4, xd), w1s = nns_shape_make(4, w1d), w2s = nns_shape_make(4, w2d);
    nns_shape cs = nns_shape_make(1, cd), c2s = nns_shape_make(1, c2d), s0 = nns_shape_make(0, NULL);
    nns_shape fs = nns_shape_make(2, fd), bs = nns_shape_make(1, bd);
    float buf[2048];
    nns_status st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
#define P(name, shp, scale, off, tr) \
    do { \
        for (int i = 0; i < 2048; i++) buf[i] = (off) + (scale) * (nns_rng_uniform(&r) * 2.0f - 1.0f); \
        if (!st) st = nns_graph_add_param(g, name, NNS_DTYPE_F32, &(shp), buf, tr, NULL); \
    } while (0)
    P("w1", w1s, 0.4f, 0.0f, 1); P("s1", cs, 0.3f, 1.0f, 1); P("b1", cs, 0.3f, 0.1f, 1);
    P("m1", cs, 0.1f, 0.0f, 0); P("v1", cs, 0.1f, 1.0f, 0);
    P("w2", w2s, 0.4f, 0.0f, 1); P("s2", c2s, 0.3f, 1.0f, 1); P("b2", c2s, 0.3f, 0.1f, 1);
    P("m2", c2s, 0.1f, 0.0f, 0); P("v2", c2s, 0.1f, 1.0f, 0);
    P("fw", fs, 0.1f, 0.0f, 1); P("fb", bs, 0.1f, 0.0f, 1);
#undef P
    float lo = -0.5f, hi = 0.7f;
    if (!st) st = nns_graph_add_param(g, "lo", NNS_DTYPE_F32, &s0, &lo, 0, NULL);
    if (!st) st = nns_graph_add_param(g, "hi", NNS_DTYPE_F32, &s0, &hi, 0, NULL);
    int node = -1;
    const char *c1in[2] = {"x", "w1"}, *c1out[1] = {"c1"};
    if (!st) st = nns_graph_add_node(g, "Conv", "conv1", 2, c1in, 1, c1out, &node);
    int64_t pads[4] = {1, 1, 1, 1};
    if (!st) st = nns_graph_set_attr_ints(g, node, "pads", 4, pads);
    const char *bn1in[5] = {"c1", "s1", "b1", "m1", "v1"}, *bn1out[1] = {"z1"};
    if (!st) st = nns_graph_add_node(g, "BatchNormalization", "bn1", 5, bn1in, 1, bn1out, NULL);
    const char *clin[3] = {"z1", "lo", "hi"}, *clout[1] = {"a1"};
    if (!st) st = nns_graph_add_node(g, "Clip", "clip", 3, clin, 1, clout, NULL);
    const char *c2in[2] = {"a1", "w2"}, *c2out[1] = {"c2"};
    if (!st) st = nns_graph_add_node(g, "Conv", "conv2", 2, c2in, 1, c2out, NULL);
    const char *bn2in[5] = {"c2", "s2", "b2", "m2", "v2"}, *bn2out[1] = {"z2"};
    if (!st) st = nns_graph_add_node(g, "BatchNormalization", "bn2", 5, bn2in, 1, bn2out, NULL);
    const char *rin[1] = {"z2"}, *rout[1] = {"a2"};
    if (!st) st = nns_graph_add_node(g, "Relu", "relu", 1, rin, 1, rout, NULL);
    const char *f1in[1] = {"a2"}, *f1out[1] = {"f1"}, *f2in[1] = {"x"}, *f2out[1] = {"f2"};
    if (!st) st = nns_graph_add_node(g, "Flatten", "flat1", 1, f1in, 1, f1out, NULL);
    if (!st) st = nns_graph_add_node(g, "Flatten", "flat2", 1, f2in, 1, f2out, NULL);
    const char *cin[2] = {"f1", "f2"}, *cout[1] = {"cat"};
    if (!st) st = nns_graph_add_node(g, "Concat", "cat", 2, cin, 1, cout, &node);
    if (!st) st = nns_graph_set_attr_int(g, node, "axis", 1);
    const char *gin[3] = {"cat", "fw", "fb"}, *gout[1] = {"y"};
    if (!st) st = nns_graph_add_node(g, "Gemm", "fc", 3, gin, 1, gout, &node);
    if (!st) st = nns_graph_set_attr_int(g, node, "transB", 1);
    if (!st) st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_finalize(g);
    if (!st) st = nns_graph_pack_params(g);
    if (st) {
        nns_graph_free(g);
        return NULL;
    }
    return g;
}

static int same_bits(const float *a, const float *b, int64_t n) {
    return memcmp(a, b, (size_t)n * sizeof(float)) == 0;
}

static void test_fusion(void) {
    /* plan 0: fused; 1: unfused from the start; 2: unfused between forward
     * and backward (z1 after zeroing the gradients, z2 before) */
    nns_graph *g[3] = {fusion_graph(), fusion_graph(), fusion_graph()};
    CHECK(g[0] && g[1] && g[2]);
    if (!g[0] || !g[1] || !g[2]) {
        for (int k = 0; k < 3; k++) nns_graph_free(g[k]);
        return;
    }
    const int64_t np = g[0]->n_params;
    float *pg[3] = {calloc((size_t)np, sizeof(float)), calloc((size_t)np, sizeof(float)),
                    calloc((size_t)np, sizeof(float))};
    nns_plan *p[3] = {NULL, NULL, NULL};
    const int z1 = nns_graph_find_value(g[0], "z1"), z2 = nns_graph_find_value(g[0], "z2");
    const int f2 = nns_graph_find_value(g[0], "f2"), c1 = nns_graph_find_value(g[0], "c1");
    for (int k = 0; k < 3; k++) CHECK_OK(nns_plan_create(g[k], 4, 1, pg[k], &p[k]));
    if (!p[0] || !p[1] || !p[2]) goto done;
    /* unfuse plan 1 before it runs; Flatten(x) needs no gradient */
    nns_plan_tv(p[1], z1);
    nns_plan_tv(p[1], z2);
    CHECK(nns_plan_tv(p[0], f2)->grad == NULL);
    uint64_t r = 5;
    float x[4 * 3 * 36], dy[4 * 7];
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < (int)NELEM(x); i++) x[i] = nns_rng_uniform(&r) * 2.0f - 1.0f;
        for (int i = 0; i < (int)NELEM(dy); i++) dy[i] = nns_rng_uniform(&r) - 0.5f;
        const int training = step != 1; /* step 1: running statistics (Taylor scoring does this) */
        for (int k = 0; k < 3; k++) {
            memcpy(nns_tv_f32(nns_plan_input(p[k], 0)), x, sizeof x);
            nns_plan_forward(p[k], training);
            if (k == 2 && step == 2) nns_plan_tv(p[k], z2);
            nns_plan_zero_act_grads(p[k]);
            if (k == 2 && step == 0) nns_plan_tv(p[k], z1);
            memcpy(nns_plan_output(p[k], 0)->grad, dy, sizeof dy);
            memset(pg[k], 0, (size_t)np * sizeof(float));
            nns_plan_backward(p[k]);
        }
        CHECK_MSG(same_bits(nns_tv_f32(nns_plan_output(p[0], 0)), nns_tv_f32(nns_plan_output(p[1], 0)), 28),
                  "fusion: step %d outputs differ", step);
        CHECK_MSG(same_bits(pg[0], pg[1], np), "fusion: step %d parameter gradients differ", step);
        CHECK_MSG(same_bits(pg[2], pg[1], np), "fusion: step %d parameter gradients differ (plan 2)", step);
        CHECK_MSG(same_bits(nns_plan_tv(p[0], c1)->grad, nns_plan_tv(p[1], c1)->grad, 4 * 8 * 36),
                  "fusion: step %d conv1 output gradients differ", step);
        int nonzero = 0;
        for (int64_t i = 0; i < np; i++) nonzero += pg[0][i] != 0.0f;
        CHECK_MSG(nonzero > np / 2, "fusion: only %d of %lld gradients are nonzero", nonzero, (long long)np);
        /* materialise a fused value after backward (z1 at step 0, z2 at step 2) */
        if (step != 1) {
            const int z = step == 0 ? z1 : z2;
            const int64_t n = step == 0 ? 4 * 8 * 36 : 4 * 5 * 36;
            nns_tv *a = nns_plan_tv(p[0], z), *b = nns_plan_tv(p[1], z);
            CHECK_MSG(same_bits(nns_tv_f32(a), nns_tv_f32(b), n), "fusion: step %d materialised values differ", step);
            CHECK_MSG(same_bits(a->grad, b->grad, n), "fusion: step %d materialised gradients differ", step);
        }
    }
    CHECK(same_bits(g[0]->values[nns_graph_find_value(g[0], "m1")].data,
                    g[1]->values[nns_graph_find_value(g[1], "m1")].data, 8));
    CHECK(same_bits(g[0]->values[nns_graph_find_value(g[0], "v2")].data,
                    g[1]->values[nns_graph_find_value(g[1], "v2")].data, 5));
done:
    for (int k = 0; k < 3; k++) {
        nns_plan_free(p[k]);
        free(pg[k]);
        nns_graph_free(g[k]);
    }
}

static void test_registry(void) {
    for (int i = 0; i < (int)NELEM(g_ops); i++) {
        CHECK_MSG(nns_op_table[g_ops[i].op] == g_ops[i].def, "%s: not in the op table", g_ops[i].name);
        CHECK_MSG(nns_op_lookup(g_ops[i].name) == g_ops[i].op, "%s: lookup fails", g_ops[i].name);
        CHECK(strcmp(g_ops[i].def->name, g_ops[i].name) == 0);
        CHECK(g_ops[i].def->backward != NULL && g_ops[i].def->forward && g_ops[i].def->infer);
    }
}

/* Concat written in place (a fused inference plan of maximum batch 1):
 *   a = Relu(x), s = Sigmoid(x), q = Tanh(x) (a graph output)
 *   y1 = Concat(a, s)                 both inputs in place: y1 does not run
 *   w = Add(a, s)                     a and s read after y1 (their slices live on)
 *   y2 = Concat(y1, w, x, q, w)       y1 (a host), x (a graph input), q (a graph
 *                                     output) and the second w copied; w in place
 *   m3 = (a + s) * a                  a read after y1's last use: y1's buffer
 *                                     must outlive it
 * against a plan of maximum batch 2 run at batch 1 (nothing in place) and an
 * unfused plan, bit for bit; and the inputs' buffers are the slices. */
static nns_graph *concat_place_graph(void) {
    nns_graph *g = NULL;
    if (nns_graph_create(&g)) return NULL;
    int64_t xd[4] = {-1, 16, 2, 2}; /* 64 floats an image: whole 64-byte blocks */
    nns_shape xs = nns_shape_make(4, xd);
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    const struct { const char *op, *name; int n; const char *in[5], *out; } nodes[] = {
        {"Relu", "relu", 1, {"x"}, "a"},
        {"Sigmoid", "sig", 1, {"x"}, "s"},
        {"Tanh", "tanh", 1, {"x"}, "q"},
        {"Concat", "cat1", 2, {"a", "s"}, "y1"},
        {"Add", "add", 2, {"a", "s"}, "w"},
        {"Concat", "cat2", 5, {"y1", "w", "x", "q", "w"}, "y2"},
        {"Add", "add2", 2, {"a", "s"}, "m2"},
        {"Mul", "mul", 2, {"m2", "a"}, "m3"},
    };
    for (size_t i = 0; i < NELEM(nodes); i++) {
        int idx;
        const char *outs[1] = {nodes[i].out};
        nns_status st = nns_graph_add_node(g, nodes[i].op, nodes[i].name, nodes[i].n, nodes[i].in, 1, outs, &idx);
        if (!st && !strcmp(nodes[i].op, "Concat")) st = nns_graph_set_attr_int(g, idx, "axis", 1);
        if (st) {
            nns_graph_free(g);
            return NULL;
        }
    }
    nns_graph_add_output(g, "y2");
    nns_graph_add_output(g, "q");
    nns_graph_add_output(g, "m3");
    if (nns_graph_finalize(g) || nns_graph_pack_params(g)) {
        nns_graph_free(g);
        return NULL;
    }
    return g;
}

static void test_concat_in_place(void) {
    nns_graph *g = concat_place_graph();
    CHECK(g != NULL);
    if (!g) return;
    nns_plan *p[3] = {NULL, NULL, NULL}; /* in place; batch 2 run at 1; unfused */
    CHECK_OK(nns_plan_create(g, 1, NNS_PLAN_INFER_FUSED, NULL, &p[0]));
    CHECK_OK(nns_plan_create(g, 2, NNS_PLAN_INFER_FUSED, NULL, &p[1]));
    CHECK_OK(nns_plan_create(g, 1, 0, NULL, &p[2]));
    if (!p[0] || !p[1] || !p[2]) goto done;
    CHECK_OK(nns_plan_set_batch(p[1], 1));
    uint64_t r = 17;
    float x[64];
    for (int i = 0; i < 64; i++) x[i] = nns_rng_uniform(&r) * 4.0f - 2.0f;
    for (int k = 0; k < 3; k++) {
        memcpy(nns_tv_f32(nns_plan_input(p[k], 0)), x, sizeof x);
        nns_plan_forward(p[k], 0);
    }
    for (int k = 1; k < 3; k++) {
        CHECK_MSG(same_bits(nns_tv_f32(nns_plan_output(p[0], 0)), nns_tv_f32(nns_plan_output(p[k], 0)), 6 * 64),
                  "concat in place: y2 differs from plan %d", k);
        CHECK_MSG(same_bits(nns_tv_f32(nns_plan_output(p[0], 1)), nns_tv_f32(nns_plan_output(p[k], 1)), 64),
                  "concat in place: q differs from plan %d", k);
        CHECK_MSG(same_bits(nns_tv_f32(nns_plan_output(p[0], 2)), nns_tv_f32(nns_plan_output(p[k], 2)), 64),
                  "concat in place: m3 differs from plan %d", k);
    }
    const int v[6] = {nns_graph_find_value(g, "a"), nns_graph_find_value(g, "s"), nns_graph_find_value(g, "y1"),
                      nns_graph_find_value(g, "w"), nns_graph_find_value(g, "y2"), nns_graph_find_value(g, "q")};
    float *d[6];
    for (int i = 0; i < 6; i++) d[i] = nns_tv_f32(nns_plan_tv(p[0], v[i]));
    CHECK(d[0] == d[2] && d[1] == d[2] + 64); /* a and s are y1's slices */
    CHECK(d[3] == d[4] + 128);                /* w is y2's second slice */
    CHECK(d[2] != d[4] && (d[5] < d[4] || d[5] >= d[4] + 6 * 64)); /* y1 and q are copied */
    CHECK(!nns_plan_node_runs(p[0], 3) && nns_plan_node_runs(p[0], 5));
    CHECK(nns_plan_node_runs(p[1], 3) && nns_plan_node_runs(p[2], 3));
    /* the same values again: nothing left over from the first run */
    for (int i = 0; i < 64; i++) x[i] = -x[i];
    for (int k = 0; k < 2; k++) {
        memcpy(nns_tv_f32(nns_plan_input(p[k], 0)), x, sizeof x);
        nns_plan_forward(p[k], 0);
    }
    CHECK_MSG(same_bits(nns_tv_f32(nns_plan_output(p[0], 0)), nns_tv_f32(nns_plan_output(p[1], 0)), 6 * 64),
              "concat in place: second run differs");
done:
    for (int k = 0; k < 3; k++) nns_plan_free(p[k]);
    nns_graph_free(g);
}

/* A Gemm -> Relu in a fused inference plan: the Relu is skipped and the
 * Gemm clamps its output; a Gemm whose output is also a graph output keeps
 * its Relu. The same bits as an unfused plan, at batch 1 (a GEMV) and 5. */
static void test_gemm_relu_fold(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    if (!g) return;
    int64_t xd[2] = {-1, 20}, w1d[2] = {30, 20}, b1d[1] = {30}, w2d[2] = {30, 7};
    nns_shape xs = nns_shape_make(2, xd), w1s = nns_shape_make(2, w1d), b1s = nns_shape_make(1, b1d);
    nns_shape w2s = nns_shape_make(2, w2d);
    uint64_t r = 23;
    float w1[600], b1[30], w2[210], x[5 * 20];
    for (int i = 0; i < 600; i++) w1[i] = nns_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < 30; i++) b1[i] = nns_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < 210; i++) w2[i] = nns_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < 100; i++) x[i] = 2.0f * nns_rng_uniform(&r) - 1.0f;
    nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    nns_graph_add_param(g, "w1", NNS_DTYPE_F32, &w1s, w1, 1, NULL);
    nns_graph_add_param(g, "b1", NNS_DTYPE_F32, &b1s, b1, 1, NULL);
    nns_graph_add_param(g, "w2", NNS_DTYPE_F32, &w2s, w2, 1, NULL);
    const char *in1[3] = {"x", "w1", "b1"}, *in2[2] = {"r1", "w2"}, *o[1];
    int idx;
    o[0] = "h1";
    CHECK_OK(nns_graph_add_node(g, "Gemm", "fc1", 3, in1, 1, o, &idx));
    CHECK_OK(nns_graph_set_attr_int(g, idx, "transB", 1));
    const char *ra[1] = {"h1"}, *rb[1] = {"h2"};
    o[0] = "r1";
    CHECK_OK(nns_graph_add_node(g, "Relu", "relu1", 1, ra, 1, o, NULL));
    o[0] = "h2";
    CHECK_OK(nns_graph_add_node(g, "Gemm", "fc2", 2, in2, 1, o, NULL));
    o[0] = "r2";
    CHECK_OK(nns_graph_add_node(g, "Relu", "relu2", 1, rb, 1, o, NULL));
    nns_graph_add_output(g, "r2");
    nns_graph_add_output(g, "h2"); /* fc2's output is read outside: relu2 stays a node */
    CHECK_OK(nns_graph_finalize(g));
    CHECK_OK(nns_graph_pack_params(g));
    for (int batch = 1; batch <= 5; batch += 4) {
        nns_plan *p[2] = {NULL, NULL};
        CHECK_OK(nns_plan_create(g, batch, NNS_PLAN_INFER_FUSED, NULL, &p[0]));
        CHECK_OK(nns_plan_create(g, batch, 0, NULL, &p[1]));
        if (p[0] && p[1]) {
            for (int k = 0; k < 2; k++) {
                memcpy(nns_tv_f32(nns_plan_input(p[k], 0)), x, (size_t)batch * 20 * sizeof(float));
                nns_plan_forward(p[k], 0);
            }
            for (int out = 0; out < 2; out++)
                CHECK_MSG(same_bits(nns_tv_f32(nns_plan_output(p[0], out)), nns_tv_f32(nns_plan_output(p[1], out)),
                                    batch * 7),
                          "gemm relu fold: batch %d output %d differs", batch, out);
            const int relu1 = nns_graph_find_node(g, "relu1"), relu2 = nns_graph_find_node(g, "relu2");
            CHECK(!nns_plan_node_runs(p[0], relu1) && nns_plan_node_runs(p[0], relu2));
            CHECK(nns_plan_node_runs(p[1], relu1));
            int neg = 0;
            const float *h2 = nns_tv_f32(nns_plan_output(p[0], 1));
            for (int i = 0; i < batch * 7; i++) neg += h2[i] < 0.0f;
            CHECK(neg > 0); /* the Relu after fc1 matters: fc2's inputs were clamped, its outputs are not */
        }
        nns_plan_free(p[0]);
        nns_plan_free(p[1]);
    }
    nns_graph_free(g);
}

int main(void) {
    test_registry();
    test_activations();
    test_unary_ops();
    test_squeeze();
    test_reduce();
    test_slice();
    test_split();
    test_pad();
    test_fast_exp();
    test_argmax();
    test_layernorm();
    test_trilu();
    test_logic();
    test_nllloss();
    test_resize();
    test_convtranspose();
    test_norms_and_moves();
    test_moves();
    test_shrink_hardmax_isx();
    test_binary();
    test_determinism();
    test_batchnorm();
    test_shape_ops();
    test_softmax();
    test_dropout();
    test_dynamic_batch();
    test_errors();
    test_fusion();
    test_concat_in_place();
    test_gemm_relu_fold();
    TEST_MAIN_END();
}
