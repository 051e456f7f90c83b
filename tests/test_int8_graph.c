/* test_int8_graph.c — the int8 plan across layers: a QDQ graph with a
 * MaxPool and a Relu between a convolution and its QuantizeLinear, a
 * residual Add right after a convolution, and an Add of two dequantized
 * activations is lowered to two Int8Conv (the first with the MaxPool run
 * on its u8 output, the second with the residual fused) and one Int8Add,
 * with no float Add, Relu or QuantizeLinear left inside; its u8 output
 * stays within a step or two of the float simulation of the same graph
 * (differences of one step may carry into the next layer: at most a tenth
 * of the outputs differ, none by more than 2), for u8 and s8
 * activations and several batches. A DequantizeLinear -> MaxPool [->
 * Relu] -> QuantizeLinear runs the pool on the stored bytes, then Int8Lut
 * (or nothing when the table is the identity), exactly equal to the float
 * simulation. Bad Cast, Int8Lut and Int8Add nodes are refused by name. */
#include <math.h>
#include <string.h>

#include "core/graph_impl.h"
#include "nnslim/nnslim.h"
#include "runtime/plan.h"
#include "testutil.h"

static uint64_t rng = 777;
static float frnd(float lo, float hi) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (float)(rng >> 40) / (float)(1 << 24);
}

#define C 5 /* channels: not a multiple of four */

typedef struct qparam {
    const char *s, *z;
    float scale;
    int zp;
} qparam;

static nns_status add_q(nns_graph *g, const qparam *q, int sgn) {
    const nns_shape one = nns_shape_make(0, NULL);
    const uint8_t z = (uint8_t)q->zp;
    nns_status st = nns_graph_add_param(g, q->s, NNS_DTYPE_F32, &one, &q->scale, 0, NULL);
    return st ? st : nns_graph_add_param(g, q->z, sgn ? NNS_DTYPE_S8 : NNS_DTYPE_U8, &one, &z, 0, NULL);
}

static nns_status qdq(nns_graph *g, const char *x, const qparam *q, const char *xq, const char *xd) {
    const char *qin[3] = {x, q->s, q->z}, *din[3] = {xq, q->s, q->z};
    char n1[64], n2[64];
    snprintf(n1, sizeof n1, "q_%s", x);
    snprintf(n2, sizeof n2, "dq_%s", xd);
    nns_status st = x[0] ? nns_graph_add_node(g, "QuantizeLinear", n1, 3, qin, 1, (const char *[]){xq}, NULL) : NNS_OK;
    return st ? st : nns_graph_add_node(g, "DequantizeLinear", n2, 3, din, 1, (const char *[]){xd}, NULL);
}

/* Conv `name` (C -> C, 3x3, pad 1) of input xd with s8 weights per channel. */
static nns_status conv(nns_graph *g, const char *name, const char *xd, const char *y) {
    char wq[64], ws[64], w[64], b[64];
    snprintf(wq, sizeof wq, "%s.wq", name), snprintf(ws, sizeof ws, "%s.ws", name);
    snprintf(w, sizeof w, "%s.w", name), snprintf(b, sizeof b, "%s.b", name);
    int8_t raw[C * C * 9];
    float scale[C], bias[C];
    for (int i = 0; i < C * C * 9; i++) raw[i] = (int8_t)(int)lrintf(frnd(-127.0f, 127.0f));
    for (int c = 0; c < C; c++) scale[c] = frnd(0.002f, 0.01f), bias[c] = frnd(-0.3f, 0.3f);
    const nns_shape wsh = nns_shape_make(4, (int64_t[]){C, C, 3, 3}), csh = nns_shape_make(1, (int64_t[]){C});
    nns_status st = nns_graph_add_param(g, wq, NNS_DTYPE_S8, &wsh, raw, 0, NULL);
    if (!st) st = nns_graph_add_param(g, ws, NNS_DTYPE_F32, &csh, scale, 0, NULL);
    if (!st) st = nns_graph_add_param(g, b, NNS_DTYPE_F32, &csh, bias, 0, NULL);
    int k = -1;
    if (!st) st = nns_graph_add_node(g, "DequantizeLinear", wq, 2, (const char *[]){wq, ws}, 1, (const char *[]){w}, &k);
    if (!st) st = nns_graph_set_attr_int(g, k, "axis", 0);
    if (!st) st = nns_graph_add_node(g, "Conv", name, 3, (const char *[]){xd, w, b}, 1, (const char *[]){y}, &k);
    if (!st) st = nns_graph_set_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    return st;
}

/* The graph's output: value v quantized with scale s and zero point z;
 * the finalized graph, or NULL (and g freed) on an error. */
static nns_graph *quantized_output(nns_graph *g, nns_status st, const char *v, const char *s, const char *z) {
    const char *oin[3] = {v, s, z};
    if (!st) st = nns_graph_add_node(g, "QuantizeLinear", "q_out", 3, oin, 1, (const char *[]){"out"}, NULL);
    if (!st) st = nns_graph_add_output(g, "out");
    if (!st) st = nns_graph_finalize(g);
    CHECK_OK(st);
    if (st) nns_graph_free(g);
    return st ? NULL : g;
}

/* x -> Q/DQ -> conv1 -> Relu -> MaxPool -> Q (a) -> DQ -> conv2 -> Add(DQ(a))
 *   -> Relu -> Q (b); DQ(b) + DQ(a) -> Q (out). */
static nns_graph *build(int sgn) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_create(&g);
    const qparam qx = {"xs", "xz", 0.02f, sgn ? 3 : 128}, qa = {"as", "az", 0.03f, sgn ? -128 : 0};
    const qparam qb = {"bs", "bz", 0.04f, sgn ? -128 : 0}, qo = {"os", "oz", 0.05f, sgn ? -100 : 20};
    const nns_shape xs = nns_shape_make(4, (int64_t[]){-1, C, 12, 12});
    if (!st) st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st) st = add_q(g, &qx, sgn);
    if (!st) st = add_q(g, &qa, sgn);
    if (!st) st = add_q(g, &qb, sgn);
    if (!st) st = add_q(g, &qo, sgn);
    if (!st) st = qdq(g, "x", &qx, "xq", "xd");
    if (!st) st = conv(g, "conv1", "xd", "y1");
    if (!st) st = nns_graph_add_node(g, "Relu", "relu1", 1, (const char *[]){"y1"}, 1, (const char *[]){"r1"}, NULL);
    int k = -1;
    if (!st) st = nns_graph_add_node(g, "MaxPool", "pool", 1, (const char *[]){"r1"}, 1, (const char *[]){"p1"}, &k);
    if (!st) st = nns_graph_set_attr_ints(g, k, "kernel_shape", 2, (int64_t[]){2, 2});
    if (!st) st = nns_graph_set_attr_ints(g, k, "strides", 2, (int64_t[]){2, 2});
    if (!st) st = qdq(g, "p1", &qa, "aq", "ad");
    if (!st) st = qdq(g, "", &qa, "aq", "ad2"); /* a second reader of a, for the residual */
    if (!st) st = conv(g, "conv2", "ad", "y2");
    if (!st) st = nns_graph_add_node(g, "Add", "res", 2, (const char *[]){"y2", "ad2"}, 1, (const char *[]){"s2"}, NULL);
    if (!st) st = nns_graph_add_node(g, "Relu", "relu2", 1, (const char *[]){"s2"}, 1, (const char *[]){"r2"}, NULL);
    if (!st) st = qdq(g, "r2", &qb, "bq", "bd");
    if (!st) st = qdq(g, "", &qa, "aq", "ad3");
    if (!st) st = nns_graph_add_node(g, "Add", "sum", 2, (const char *[]){"bd", "ad3"}, 1, (const char *[]){"s3"}, NULL);
    return quantized_output(g, st, "s3", "os", "oz");
}

static int count_op(const nns_graph *g, const char *op) {
    int k = 0;
    for (int i = 0; g && i < g->n_nodes; i++) k += strcmp(g->nodes[i].op_type, op) == 0;
    return k;
}

static nns_plan *run(nns_graph *c, int n, const float *x) {
    nns_plan *p = NULL;
    CHECK_OK(nns_graph_pack_params(c));
    CHECK_OK(nns_plan_create(c, n, 0, NULL, &p));
    if (p) {
        memcpy(nns_plan_input(p, 0)->data, x, (size_t)n * C * 144 * sizeof *x);
        nns_plan_forward(p, 0);
    }
    return p;
}

static void check(int sgn, int n) {
    nns_graph *g = build(sgn), *lo = NULL, *fl = NULL;
    if (!g) return;
    CHECK_OK(nns_graph_exec_copy(g, &lo));
    setenv("NNS_INT8", "0", 1);
    CHECK_OK(nns_graph_exec_copy(g, &fl));
    unsetenv("NNS_INT8");
    CHECK_MSG(count_op(lo, "Int8Conv") == 2 && count_op(lo, "Int8Add") == 1 && count_op(lo, "Add") == 0 &&
                  count_op(lo, "Relu") == 0 && count_op(lo, "QuantizeLinear") == 1 && count_op(lo, "MaxPool") == 1,
              "%s: lowered to 2 Int8Conv, 1 Int8Add, the MaxPool in u8 and only the input's QuantizeLinear",
              sgn ? "s8" : "u8");
    float *x = malloc((size_t)n * C * 144 * sizeof *x);
    for (int i = 0; i < n * C * 144; i++) x[i] = frnd(-2.5f, 2.5f);
    nns_plan *pl = lo ? run(lo, n, x) : NULL, *pf = fl ? run(fl, n, x) : NULL;
    int64_t off1 = 0, far = 0;
    const int64_t ny = (int64_t)n * C * 36;
    for (int64_t i = 0; pl && pf && i < ny; i++) {
        const nns_tv *a = nns_plan_output(pl, 0), *b = nns_plan_output(pf, 0);
        const int va = sgn ? ((const int8_t *)a->data)[i] : ((const uint8_t *)a->data)[i];
        const int vb = sgn ? ((const int8_t *)b->data)[i] : ((const uint8_t *)b->data)[i];
        off1 += va != vb;
        far += abs(va - vb) > 2;
    }
    CHECK_MSG(pl && pf && far == 0 && off1 * 10 <= ny, "%s batch %d: %lld of %lld outputs differ, %lld by more than 2",
              sgn ? "s8" : "u8", n, (long long)off1, (long long)ny, (long long)far);
    nns_plan_free(pl);
    nns_plan_free(pf);
    nns_graph_free(lo);
    nns_graph_free(fl);
    nns_graph_free(g);
    free(x);
}

/* x -> Q/DQ -> MaxPool [-> Relu] -> Q (y's scale and zero point, or x's):
 * the pool on the stored bytes, then Int8Lut (none when the table is the
 * identity), exactly the float simulation's values. */
static nns_graph *build_pool(int sgn, int same, int relu) {
    nns_graph *g = NULL;
    nns_status st = nns_graph_create(&g);
    const qparam qx = {"xs", "xz", 0.02f, sgn ? -7 : 120}, qy = {"ys", "yz", 0.035f, sgn ? -128 : 3};
    const qparam *q2 = same ? &qx : &qy;
    const nns_shape xs = nns_shape_make(4, (int64_t[]){-1, C, 12, 12});
    if (!st) st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
    if (!st) st = add_q(g, &qx, sgn);
    if (!st && !same) st = add_q(g, &qy, sgn);
    if (!st) st = qdq(g, "x", &qx, "xq", "xd");
    int k = -1;
    if (!st) st = nns_graph_add_node(g, "MaxPool", "pool", 1, (const char *[]){"xd"}, 1, (const char *[]){"p"}, &k);
    if (!st) st = nns_graph_set_attr_ints(g, k, "kernel_shape", 2, (int64_t[]){3, 3});
    if (!st) st = nns_graph_set_attr_ints(g, k, "pads", 4, (int64_t[]){1, 1, 1, 1});
    if (!st && relu) st = nns_graph_add_node(g, "Relu", "relu", 1, (const char *[]){"p"}, 1, (const char *[]){"pr"}, NULL);
    return quantized_output(g, st, relu ? "pr" : "p", q2->s, q2->z);
}

static void check_pool(int sgn, int same, int relu) {
    nns_graph *g = build_pool(sgn, same, relu), *lo = NULL, *fl = NULL;
    if (!g) return;
    const int n = 2;
    CHECK_OK(nns_graph_exec_copy(g, &lo));
    setenv("NNS_INT8", "0", 1);
    CHECK_OK(nns_graph_exec_copy(g, &fl));
    unsetenv("NNS_INT8");
    /* an unchanged graph (nothing to fold) runs as it is */
    nns_graph *lg = lo ? lo : g, *fg = fl ? fl : g;
    const int table = !same || relu;
    CHECK_MSG(count_op(lg, "Int8Lut") == table && count_op(lg, "DequantizeLinear") == 0 && count_op(lg, "Relu") == 0 &&
                  count_op(lg, "QuantizeLinear") == 1 && count_op(lg, "MaxPool") == 1,
              "%s same %d relu %d: the pool on the stored values, %s table", sgn ? "s8" : "u8", same, relu,
              table ? "then a" : "no");
    float *x = malloc((size_t)n * C * 144 * sizeof *x);
    for (int i = 0; i < n * C * 144; i++) x[i] = frnd(-3.0f, 3.0f);
    nns_plan *pl = run(lg, n, x), *pf = run(fg, n, x);
    int64_t diff = 0;
    for (int64_t i = 0; pl && pf && i < (int64_t)n * C * 144; i++)
        diff += ((const uint8_t *)nns_plan_output(pl, 0)->data)[i] != ((const uint8_t *)nns_plan_output(pf, 0)->data)[i];
    CHECK_MSG(pl && pf && diff == 0, "%s same %d relu %d: %lld values differ from the float simulation", sgn ? "s8" : "u8",
              same, relu, (long long)diff);
    nns_plan_free(pl);
    nns_plan_free(pf);
    nns_graph_free(lo);
    nns_graph_free(fl);
    nns_graph_free(g);
    free(x);
}

/* Bad nodes are refused at finalize with the node named: a Cast to a type
 * other than float, an Int8Lut table that is not 256 values, an Int8Add of
 * two shapes. */
static void refusals(void) {
    const nns_shape xs = nns_shape_make(2, (int64_t[]){-1, 4}), ys = nns_shape_make(2, (int64_t[]){-1, 3});
    const nns_shape one = nns_shape_make(0, NULL), t10 = nns_shape_make(1, (int64_t[]){10});
    const uint8_t table[10] = {0}, z = 0;
    const float s = 0.1f;
    for (int c = 0; c < 3; c++) {
        nns_graph *g = NULL;
        nns_status st = nns_graph_create(&g);
        int k = -1;
        if (!st) st = nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL);
        if (!st && c == 2) st = nns_graph_add_input(g, "x2", NNS_DTYPE_F32, &ys, NULL);
        if (!st) st = nns_graph_add_param(g, "s", NNS_DTYPE_F32, &one, &s, 0, NULL);
        if (!st) st = nns_graph_add_param(g, "z", NNS_DTYPE_U8, &one, &z, 0, NULL);
        if (!st) st = nns_graph_add_node(g, "QuantizeLinear", "q", 3, (const char *[]){"x", "s", "z"}, 1,
                                         (const char *[]){"xq"}, NULL);
        if (!st && c == 2) st = nns_graph_add_node(g, "QuantizeLinear", "q2", 3, (const char *[]){"x2", "s", "z"}, 1,
                                                   (const char *[]){"xq2"}, NULL);
        if (!st && c == 0) {
            st = nns_graph_add_node(g, "Cast", "bad", 1, (const char *[]){"x"}, 1, (const char *[]){"y"}, &k);
            if (!st) st = nns_graph_set_attr_int(g, k, "to", 7); /* INT64 */
        }
        if (!st && c == 1) st = nns_graph_add_param(g, "t", NNS_DTYPE_U8, &t10, table, 0, NULL);
        if (!st && c == 1)
            st = nns_graph_add_node(g, "Int8Lut", "bad", 2, (const char *[]){"xq", "t"}, 1, (const char *[]){"y"}, NULL);
        if (!st && c == 2)
            st = nns_graph_add_node(g, "Int8Add", "bad", 8, (const char *[]){"xq", "s", "z", "xq2", "s", "z", "s", "z"}, 1,
                                    (const char *[]){"y"}, NULL);
        if (!st) st = nns_graph_add_output(g, "y");
        CHECK_OK(st);
        const nns_status want[3] = {NNS_STATUS_UNSUPPORTED, NNS_STATUS_FORMAT, NNS_STATUS_SHAPE};
        const char *what[3] = {"only casts to float, float16 or bfloat16", "must be a constant of 256", "shapes differ"};
        const nns_status fs = st ? st : nns_graph_finalize(g);
        CHECK_MSG(fs == want[c] && strstr(nns_last_error(), "'bad'") && strstr(nns_last_error(), what[c]),
                  "refusal %d: %d: %s", c, (int)fs, nns_last_error());
        nns_graph_free(g);
    }
}

int main(void) {
    refusals();
    for (int sgn = 0; sgn < 2; sgn++)
        for (int n = 1; n <= 3; n++) check(sgn, n);
    for (int sgn = 0; sgn < 2; sgn++)
        for (int same = 0; same < 2; same++)
            for (int relu = 0; relu < 2; relu++) check_pool(sgn, same, relu);
    TEST_MAIN_END();
}
