/* test_dtype.c — the dtype table: sizes, names, ranges and the element
 * conversions (rounding half to even, saturation, NaN, f16 against known
 * encodings and every one of the 65536 half values round-tripped); typed
 * tensor views (the f32 accessors assert the dtype in debug builds); the
 * op table's declared dtypes (one check for every op, its error naming the
 * node, the op, the input and the dtype; output dtypes from the table);
 * weights by role, not dtype (an s8 Conv weight is a weight). */
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nnslim/tensor.h"
#include "graph/weights.h"
#include "ops/op.h"
#include "prune/prune_util.h"
#include "testutil.h"

static float get(nns_dtype t, const void *p) { return nns_dtype_get_info(t)->to_f32(p); }

/* from_f32 into an int64 slot of the dtype's size, read back as float. */
static float put_get(nns_dtype t, float v) {
    unsigned char buf[8] = {0};
    nns_dtype_get_info(t)->from_f32(v, buf);
    return get(t, buf);
}

static void table(void) {
    const struct {
        nns_dtype t;
        const char *name;
        size_t size;
        int is_float, is_integer;
        int64_t min, max;
    } want[] = {
        {NNS_DTYPE_F32, "f32", 4, 1, 0, 0, 0},         {NNS_DTYPE_U8, "u8", 1, 0, 1, 0, 255},
        {NNS_DTYPE_S8, "s8", 1, 0, 1, -128, 127},      {NNS_DTYPE_S32, "s32", 4, 0, 1, INT32_MIN, INT32_MAX},
        {NNS_DTYPE_S64, "s64", 8, 0, 1, INT64_MIN, INT64_MAX}, {NNS_DTYPE_BOOL, "bool", 1, 0, 0, 0, 1},
        {NNS_DTYPE_F16, "f16", 2, 1, 0, 0, 0},         {NNS_DTYPE_U4, "u4", 1, 0, 1, 0, 15},
        {NNS_DTYPE_S4, "s4", 1, 0, 1, -8, 7},          {NNS_DTYPE_BF16, "bf16", 2, 1, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const nns_dtype_info *d = nns_dtype_get_info(want[i].t);
        CHECK_MSG(d != NULL, "dtype %d missing", (int)want[i].t);
        if (!d) continue;
        CHECK(d->dtype == want[i].t);
        CHECK(strcmp(d->name, want[i].name) == 0 && strcmp(nns_dtype_name(want[i].t), want[i].name) == 0);
        CHECK(d->size == want[i].size && nns_dtype_size(want[i].t) == want[i].size);
        CHECK(d->is_float == want[i].is_float && d->is_integer == want[i].is_integer);
        CHECK(d->min == want[i].min && d->max == want[i].max);
    }
    CHECK(nns_dtype_get_info(NNS_DTYPE_UNDEFINED) == NULL);
    CHECK(nns_dtype_get_info((nns_dtype)4) == NULL); /* ONNX UINT16: not an nnslim dtype */
    CHECK(nns_dtype_size((nns_dtype)99) == 0 && strcmp(nns_dtype_name((nns_dtype)99), "?") == 0);
}

static void integers(void) {
    /* round half to even */
    CHECK(put_get(NNS_DTYPE_S8, 2.5f) == 2.0f && put_get(NNS_DTYPE_S8, 3.5f) == 4.0f);
    CHECK(put_get(NNS_DTYPE_S8, -2.5f) == -2.0f && put_get(NNS_DTYPE_S8, -0.5f) == 0.0f);
    CHECK(put_get(NNS_DTYPE_U8, 0.5f) == 0.0f && put_get(NNS_DTYPE_U8, 1.5f) == 2.0f);
    CHECK(put_get(NNS_DTYPE_S32, 1.49f) == 1.0f && put_get(NNS_DTYPE_S32, -7.51f) == -8.0f);
    /* saturation */
    CHECK(put_get(NNS_DTYPE_S8, 200.0f) == 127.0f && put_get(NNS_DTYPE_S8, -200.0f) == -128.0f);
    CHECK(put_get(NNS_DTYPE_S8, 127.4f) == 127.0f && put_get(NNS_DTYPE_S8, -128.6f) == -128.0f);
    CHECK(put_get(NNS_DTYPE_U8, -3.0f) == 0.0f && put_get(NNS_DTYPE_U8, 300.0f) == 255.0f);
    CHECK(put_get(NNS_DTYPE_U8, INFINITY) == 255.0f && put_get(NNS_DTYPE_S8, -INFINITY) == -128.0f);
    CHECK(put_get(NNS_DTYPE_S4, 9.0f) == 7.0f && put_get(NNS_DTYPE_S4, -9.0f) == -8.0f);
    CHECK(put_get(NNS_DTYPE_S4, -2.5f) == -2.0f && put_get(NNS_DTYPE_U4, 16.0f) == 15.0f);
    CHECK(put_get(NNS_DTYPE_U4, -1.0f) == 0.0f && put_get(NNS_DTYPE_U4, 4.5f) == 4.0f);
    CHECK(put_get(NNS_DTYPE_S32, 3e9f) == (float)INT32_MAX && put_get(NNS_DTYPE_S32, -3e9f) == (float)INT32_MIN);
    CHECK(put_get(NNS_DTYPE_S64, 1e19f) == (float)INT64_MAX && put_get(NNS_DTYPE_S64, -1e19f) == (float)INT64_MIN);
    int64_t big;
    nns_dtype_get_info(NNS_DTYPE_S64)->from_f32(16777216.0f, &big);
    CHECK(big == 16777216);
    /* NaN gives 0 */
    CHECK(put_get(NNS_DTYPE_S8, NAN) == 0.0f && put_get(NNS_DTYPE_U8, NAN) == 0.0f &&
          put_get(NNS_DTYPE_S32, NAN) == 0.0f);
    /* every s8 and u8 value survives the round trip */
    for (int v = -128; v <= 255; v++) {
        if (v <= 127) CHECK_MSG(put_get(NNS_DTYPE_S8, (float)v) == (float)v, "s8 %d", v);
        if (v >= 0) CHECK_MSG(put_get(NNS_DTYPE_U8, (float)v) == (float)v, "u8 %d", v);
    }
    /* bool: any non-zero value is 1 */
    CHECK(put_get(NNS_DTYPE_BOOL, 0.0f) == 0.0f && put_get(NNS_DTYPE_BOOL, -0.0f) == 0.0f);
    CHECK(put_get(NNS_DTYPE_BOOL, 0.25f) == 1.0f && put_get(NNS_DTYPE_BOOL, -7.0f) == 1.0f &&
          put_get(NNS_DTYPE_BOOL, NAN) == 1.0f);
    const uint8_t two = 2;
    CHECK(get(NNS_DTYPE_BOOL, &two) == 1.0f);
}

static uint16_t to_f16(float v) {
    uint16_t h;
    nns_dtype_get_info(NNS_DTYPE_F16)->from_f32(v, &h);
    return h;
}

static void half(void) {
    const struct {
        float f;
        uint16_t h;
    } known[] = {
        {0.0f, 0x0000},       {-0.0f, 0x8000},     {1.0f, 0x3c00},          {-2.0f, 0xc000},
        {0.5f, 0x3800},       {65504.0f, 0x7bff},  {1.0f / 16384.0f, 0x0400}, /* smallest normal */
        {1.0f / 16777216.0f, 0x0001},                  /* smallest subnormal */
        {1023.0f / 16777216.0f, 0x03ff},                   /* largest subnormal */
        {INFINITY, 0x7c00},   {-INFINITY, 0xfc00}, {0.333251953125f, 0x3555},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        CHECK_MSG(to_f16(known[i].f) == known[i].h, "f16(%g) = 0x%04x, want 0x%04x", known[i].f,
                  to_f16(known[i].f), known[i].h);
        CHECK_MSG(get(NNS_DTYPE_F16, &known[i].h) == known[i].f, "0x%04x -> %g", known[i].h,
                  get(NNS_DTYPE_F16, &known[i].h));
    }
    /* rounding: halfway cases go to the even mantissa; overflow to inf */
    CHECK(to_f16(1.0f + 1.0f / 2048) == 0x3c00);            /* 1 + half an ulp: down to even */
    CHECK(to_f16(1.0f + 3.0f / 2048) == 0x3c02);            /* 1 + 1.5 ulp: up to even */
    CHECK(to_f16(65519.0f) == 0x7bff && to_f16(65520.0f) == 0x7c00);
    CHECK(to_f16(1.0f / 33554432.0f) == 0x0000);                 /* 2^-25: halfway, to even (0) */
    CHECK(to_f16(3.0f / 67108864.0f) == 0x0001);                 /* 1.5 * 2^-25 rounds up */
    CHECK(to_f16(1e-30f) == 0x0000 && to_f16(-1e-30f) == 0x8000);
    uint16_t nan_h = to_f16(NAN);
    CHECK((nan_h & 0x7c00) == 0x7c00 && (nan_h & 0x3ff) != 0);
    CHECK(isnan(get(NNS_DTYPE_F16, &nan_h)));
    /* every finite half value converts to float and back unchanged */
    long bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        const uint16_t x = (uint16_t)h;
        if ((x & 0x7c00) == 0x7c00 && (x & 0x3ff)) continue; /* NaN payloads */
        if (to_f16(get(NNS_DTYPE_F16, &x)) != x) bad++;
    }
    CHECK_MSG(bad == 0, "%ld half values do not round-trip", bad);
}

/* The f32 accessors of a tensor view: the bare pointer for an f32 view;
 * for a view of another dtype an assertion failure (abort) in a debug
 * build, checked in a child process, and nothing in a release build. */
static void tv_accessors(void) {
    float f[2] = {1.0f, 2.0f};
    int64_t s[2] = {1, 2};
    nns_tv tf = {.data = f, .dtype = NNS_DTYPE_F32}, ts = {.data = s, .dtype = NNS_DTYPE_S64};
    CHECK(nns_tv_f32(&tf) == f && nns_tv_cf32(&tf) == f);
#ifdef NDEBUG
    CHECK((void *)nns_tv_f32(&ts) == (void *)s && (const void *)nns_tv_cf32(&ts) == (void *)s);
#else
    for (int k = 0; k < 2; k++) {
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid == 0) {
            if (!freopen("/dev/null", "w", stderr)) _exit(3);
            volatile float v = k ? nns_tv_cf32(&ts)[0] : nns_tv_f32(&ts)[0];
            (void)v;
            _exit(0);
        }
        int status = 0;
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
                  "nns_tv_%s on an s64 view did not abort (status 0x%x)", k ? "cf32" : "f32", status);
    }
#endif
}

/* A graph: input x (dtype dx, [2, 3]), initializer k (dtype dk, [3]),
 * node `op` named "n1" on (x) or (x, k), output y; finalized. */
static nns_status one_node(const char *op, int two, nns_dtype dx, nns_dtype dk, nns_graph **out) {
    nns_graph *g = NULL;
    const int64_t d2[2] = {2, 3}, d1[1] = {3};
    nns_shape sx = nns_shape_make(2, d2), sk = nns_shape_make(1, d1);
    const char *ins[2] = {"x", "k"}, *outs[1] = {"y"};
    nns_status st = nns_graph_create(&g);
    if (!st) st = nns_graph_add_input(g, "x", dx, &sx, NULL);
    if (!st && two) st = nns_graph_add_param(g, "k", dk, &sk, NULL, 1, NULL);
    if (!st) st = nns_graph_add_node(g, op, "n1", two ? 2 : 1, ins, 1, outs, NULL);
    if (!st) st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_finalize(g);
    *out = g;
    return st;
}

/* Dtypes are the op table's: an op given an input of a dtype it does not
 * declare is refused once, generically, with a one-line error naming the
 * node, the op, the input (slot and name) and the dtype found; an output's
 * dtype comes from the table (f32, or an input's), not stamped. */
static void op_dtypes(void) {
    static const struct {
        const char *op;
        int two;
        nns_dtype dx, dk;
        const char *want;
    } cs[] = {
        {"Relu", 0, NNS_DTYPE_S64, 0, "node 'n1' (Relu): input 0 'x' is s64, only f32 is supported"},
        {"Softmax", 0, NNS_DTYPE_BOOL, 0, "node 'n1' (Softmax): input 0 'x' is bool, only f32 is supported"},
        {"Add", 1, NNS_DTYPE_F32, NNS_DTYPE_S32, "node 'n1' (Add): input 1 'k' is s32, only f32 is supported"},
        {"Mul", 1, NNS_DTYPE_U8, NNS_DTYPE_F32, "node 'n1' (Mul): input 0 'x' is u8, only f32 is supported"},
        {"Concat", 1, NNS_DTYPE_F32, NNS_DTYPE_S8, "node 'n1' (Concat): input 1 'k' is s8, only f32 is supported"},
    };
    for (size_t c = 0; c < sizeof cs / sizeof cs[0]; c++) {
        nns_graph *g = NULL;
        nns_status st = one_node(cs[c].op, cs[c].two, cs[c].dx, cs[c].dk, &g);
        CHECK_MSG(st == NNS_STATUS_UNSUPPORTED, "%s: status %d", cs[c].op, (int)st);
        CHECK_MSG(strcmp(nns_last_error(), cs[c].want) == 0, "%s: error '%s', want '%s'", cs[c].op,
                  nns_last_error(), cs[c].want);
        nns_graph_free(g);
    }
    /* an activation has no dtype until shape inference gives it its op's */
    nns_graph *g = NULL;
    const int64_t d2[2] = {2, 3};
    nns_shape sx = nns_shape_make(2, d2);
    const char *ins[1] = {"x"}, *outs[1] = {"y"};
    CHECK_OK(nns_graph_create(&g));
    if (g) {
        CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &sx, NULL));
        CHECK_OK(nns_graph_add_node(g, "Relu", "n1", 1, ins, 1, outs, NULL));
        CHECK_OK(nns_graph_add_output(g, "y"));
        CHECK(g->values[nns_graph_find_value(g, "y")].dtype == NNS_DTYPE_UNDEFINED);
        CHECK_OK(nns_graph_finalize(g));
        CHECK(g->values[nns_graph_find_value(g, "y")].dtype == NNS_DTYPE_F32);
    }
    /* the rules themselves: f32, or the dtype of input k (Identity's) */
    if (g) {
        const nns_node *n = &g->nodes[0];
        const nns_shape *in[1] = {&g->values[n->in[0]].shape};
        nns_dtype in_dt[1] = {NNS_DTYPE_S8}, out_dt[1] = {NNS_DTYPE_UNDEFINED};
        nns_shape out[1];
        CHECK_OK(nns_op_infer(g, n, NULL, in, in_dt, out, out_dt));
        CHECK(out_dt[0] == NNS_DTYPE_F32);
        CHECK(nns_op_table[NNS_OP_IDENTITY]->out_dtype == NNS_OUT_SAME_AS(0));
        g->nodes[0].op = NNS_OP_IDENTITY;
        out_dt[0] = NNS_DTYPE_UNDEFINED;
        CHECK_OK(nns_op_infer(g, n, NULL, in, in_dt, out, out_dt));
        CHECK(out_dt[0] == NNS_DTYPE_S8);
        g->nodes[0].op = NNS_OP_RELU;
    }
    nns_graph_free(g);
}

/* An s8 Conv weight is a weight by its role (counted, listed, a prune
 * target that cannot be pruned), not a shape constant; an s64 Reshape
 * shape is not; nnslim still refuses to run the s8 graph. */
static void weights_by_role(void) {
    nns_graph *g = NULL;
    const int64_t dx[4] = {1, 2, 4, 4}, dw[4] = {3, 2, 3, 3}, dsh[1] = {2}, shp[2] = {1, -1};
    nns_shape sx = nns_shape_make(4, dx), sw = nns_shape_make(4, dw), ssh = nns_shape_make(1, dsh);
    int8_t w[54];
    for (int i = 0; i < 54; i++) w[i] = (int8_t)(i % 3 - 1); /* 18 zeros */
    const char *cin[2] = {"x", "W"}, *cout[1] = {"y"}, *rin[2] = {"y", "shape"}, *rout[1] = {"z"};
    CHECK_OK(nns_graph_create(&g));
    if (!g) return;
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &sx, NULL));
    CHECK_OK(nns_graph_add_param(g, "W", NNS_DTYPE_S8, &sw, w, 1, NULL));
    CHECK_OK(nns_graph_add_param(g, "shape", NNS_DTYPE_S64, &ssh, shp, 1, NULL));
    CHECK_OK(nns_graph_add_node(g, "Conv", "conv", 2, cin, 1, cout, NULL));
    CHECK_OK(nns_graph_add_node(g, "Reshape", "flat", 2, rin, 1, rout, NULL));
    CHECK_OK(nns_graph_add_output(g, "z"));
    CHECK(nns_graph_input_is_weight(g, 0, 1));
    CHECK(!nns_graph_input_is_weight(g, 0, 0) && !nns_graph_input_is_weight(g, 1, 1));
    nns_weight_ref *t = NULL;
    int nt = 0;
    CHECK_OK(nns_graph_list_weights(g, &t, &nt));
    CHECK_MSG(nt == 1, "%d weights listed, want 1 (W)", nt);
    if (nt == 1)
        CHECK(t[0].value == nns_graph_find_value(g, "W") && t[0].dtype == NNS_DTYPE_S8 && t[0].numel == 54 &&
              t[0].outer == 3 && t[0].red == 18);
    free(t);
    nns_prune_target *pt = NULL;
    int np = 0;
    CHECK(nns_prune_targets(g, NULL, "magnitude pruning", &pt, &np) == NNS_STATUS_UNSUPPORTED);
    CHECK_MSG(strcmp(nns_last_error(), "magnitude pruning: weight 'W' of node 'conv' is s8; only f32 weights can "
                                       "be pruned") == 0, "got '%s'", nns_last_error());
    free(pt);
    CHECK(nns_graph_finalize(g) == NNS_STATUS_UNSUPPORTED);
    CHECK_MSG(strcmp(nns_last_error(), "node 'conv' (Conv): input 1 'W' is s8, only f32 is supported") == 0,
              "got '%s'", nns_last_error());
    nns_graph_free(g);
}

static uint16_t to_bf16(float v) {
    uint16_t h;
    nns_dtype_get_info(NNS_DTYPE_BF16)->from_f32(v, &h);
    return h;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* bfloat16: float32's top half, the rest rounded to nearest even. */
static void bfloat(void) {
    CHECK(to_bf16(1.0f) == 0x3f80 && to_bf16(-2.0f) == 0xc000 && to_bf16(0.0f) == 0 && to_bf16(-0.0f) == 0x8000);
    CHECK(to_bf16(from_bits(0x3f808000u)) == 0x3f80); /* halfway: down to even */
    CHECK(to_bf16(from_bits(0x3f818000u)) == 0x3f82); /* halfway: up to even */
    CHECK(to_bf16(from_bits(0x3f808001u)) == 0x3f81); /* above halfway: up */
    CHECK(to_bf16(from_bits(0x7f7fffffu)) == 0x7f80); /* the largest float rounds to infinity */
    CHECK(to_bf16(INFINITY) == 0x7f80 && to_bf16(-INFINITY) == 0xff80);
    const uint16_t nan_h = to_bf16(from_bits(0x7fffffffu)); /* would carry into the sign if rounded */
    CHECK((nan_h & 0x7f80) == 0x7f80 && (nan_h & 0x7f) != 0 && !(nan_h & 0x8000));
    CHECK(isnan(get(NNS_DTYPE_BF16, &nan_h)));
    long bad = 0; /* every non-NaN bfloat16 converts to float and back unchanged */
    for (uint32_t h = 0; h < 65536; h++) {
        const uint16_t x = (uint16_t)h;
        if ((x & 0x7f80) == 0x7f80 && (x & 0x7f)) continue;
        if (to_bf16(get(NNS_DTYPE_BF16, &x)) != x || get(NNS_DTYPE_BF16, &x) != from_bits((uint32_t)x << 16)) bad++;
    }
    CHECK_MSG(bad == 0, "%ld bfloat16 values do not round-trip", bad);
}

int main(void) {
    table();
    integers();
    half();
    bfloat();
    tv_accessors();
    op_dtypes();
    weights_by_role();
    TEST_MAIN_END();
}
