/* test_hostile_shapes.c — sizes that overflow or exceed the limits give a
 * clear error, never a wrapped element count (issue: hostile files).
 *
 * Each case builds a small graph through the public API with shapes that a
 * crafted ONNX file could declare: input dims whose product wraps int64,
 * per-sample or batched sizes over NNS_MAX_TENSOR_ELEMS, ops whose output
 * (broadcast, MatMul, Gemm, Concat, Reshape, Conv, pools, Softmax, ...) would
 * be over the limit, Reshape targets whose product overflows, and plans over
 * NNS_MAX_MEMORY. Every one must fail with NNS_STATUS_LIMIT (or SHAPE) and a
 * message naming the node, input or value, before any buffer of that size
 * exists. */
#include <string.h>

#include "nnslim/nnslim.h"
#include "testutil.h"

#define BIG ((int64_t)1 << 32)

static nns_status input(nns_graph *g, const char *name, int nd, const int64_t *dims) {
    nns_shape s = nns_shape_make(nd, dims);
    return nns_graph_add_input(g, name, NNS_DTYPE_F32, &s, NULL);
}

static nns_status param(nns_graph *g, const char *name, int nd, const int64_t *dims) {
    nns_shape s = nns_shape_make(nd, dims);
    return nns_graph_add_param(g, name, NNS_DTYPE_F32, &s, NULL, 1, NULL);
}

static nns_status node(nns_graph *g, const char *op, const char *name, int n_in, const char *const *in,
                       const char *out, int *idx) {
    const char *outs[1] = {out};
    return nns_graph_add_node(g, op, name, n_in, in, 1, outs, idx);
}

/* The status of finalizing g with output "y"; g is freed. */
static nns_status finish(nns_graph *g) {
    nns_status st = nns_graph_add_output(g, "y");
    if (!st) st = nns_graph_finalize(g);
    nns_graph_free(g);
    return st;
}

static void check_err(nns_status st, nns_status want, const char *needle, const char *what) {
    CHECK_MSG(st == want, "%s: status %s (%s), expected %s", what, nns_status_str(st), nns_last_error(),
              nns_status_str(want));
    CHECK_MSG(strstr(nns_last_error(), needle) != NULL, "%s: message '%s' does not name '%s'", what,
              nns_last_error(), needle);
}

static void test_inputs(void) {
    nns_graph *g;
    /* [N, 2^32, 2^32]: the product wraps int64 to 0 */
    CHECK_OK(nns_graph_create(&g));
    check_err(input(g, "x", 3, (int64_t[]){-1, BIG, BIG}), NNS_STATUS_LIMIT, "'x'", "input [N,2^32,2^32]");
    nns_graph_free(g);
    /* [N, 2^16, 2^16]: 2^32 elements per sample */
    CHECK_OK(nns_graph_create(&g));
    check_err(input(g, "x", 3, (int64_t[]){-1, 65536, 65536}), NNS_STATUS_LIMIT, "'x'", "input 2^32 per sample");
    nns_graph_free(g);
    /* negative and zero dims */
    CHECK_OK(nns_graph_create(&g));
    check_err(input(g, "x", 2, (int64_t[]){-1, -5}), NNS_STATUS_SHAPE, "'x'", "input dim -5");
    check_err(input(g, "z", 2, (int64_t[]){-1, 0}), NNS_STATUS_SHAPE, "'z'", "input dim 0");
    nns_graph_free(g);
    /* rank over NNS_MAX_DIMS */
    CHECK_OK(nns_graph_create(&g));
    nns_shape s9 = {.ndim = 9};
    check_err(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &s9, NULL), NNS_STATUS_SHAPE, "'x'", "rank 9");
    nns_graph_free(g);
}

/* [N, 2^15, 2^15] is 2^30 per sample: a graph, but no plan at batch 4. */
static void test_batch_over_limit(void) {
    nns_graph *g;
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(input(g, "x", 3, (int64_t[]){-1, 32768, 32768}));
    CHECK_OK(node(g, "Relu", "r", 1, (const char *[]){"x"}, "y", NULL));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    nns_session *s = NULL;
    check_err(nns_session_create(g, 4, &s), NNS_STATUS_LIMIT, "graph input 'x' at batch 4", "batch 4 x 2^30");
    CHECK(s == NULL);
    check_err(nns_session_create(g, (int64_t)1 << 40, &s), NNS_STATUS_INVALID_ARG, "batch", "batch 2^40");
    nns_graph_free(g);
}

/* Two-input ops whose output is over the limit: [N, 2^16, 1] op [1, 2^16]. */
static void test_binary_outputs(void) {
    const char *ops[] = {"Add", "Sub", "Mul", "Div", "MatMul"};
    for (int i = 0; i < 5; i++) {
        nns_graph *g;
        CHECK_OK(nns_graph_create(&g));
        CHECK_OK(input(g, "x", 3, (int64_t[]){-1, 65536, 1}));
        CHECK_OK(param(g, "w", 2, (int64_t[]){1, 65536}));
        CHECK_OK(node(g, ops[i], "big", 2, (const char *[]){"x", "w"}, "y", NULL));
        check_err(finish(g), NNS_STATUS_LIMIT, "node 'big'", ops[i]);
    }
    /* Gemm [N, 1] x [1, 2^31-1]: one row is within the limit, the plan at
     * batch 2 is not */
    nns_graph *g;
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(input(g, "x", 2, (int64_t[]){-1, 1}));
    CHECK_OK(param(g, "w", 2, (int64_t[]){1, 3}));
    CHECK_OK(node(g, "Gemm", "fc", 2, (const char *[]){"x", "w"}, "y", NULL));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    nns_limit_set_tensor_elems(5);
    nns_session *s = NULL;
    check_err(nns_session_create(g, 2, &s), NNS_STATUS_LIMIT, "node 'fc'", "Gemm output at batch 2");
    nns_limit_set_tensor_elems(0);
    CHECK_OK(nns_session_create(g, 2, &s));
    nns_session_free(s);
    nns_graph_free(g);
}

/* Concat of 16 inputs of 2^27 per sample each: 2^31 elements. */
static void test_concat(void) {
    nns_graph *g;
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(input(g, "x", 2, (int64_t[]){-1, (int64_t)1 << 27}));
    const char *in[16];
    for (int i = 0; i < 16; i++) in[i] = "x";
    int ni;
    CHECK_OK(node(g, "Concat", "cat", 16, in, "y", &ni));
    CHECK_OK(nns_graph_set_attr_int(g, ni, "axis", 1));
    check_err(finish(g), NNS_STATUS_LIMIT, "node 'cat'", "Concat 16 x 2^27");
}

static nns_status reshape_graph(const int64_t *target, int n) {
    nns_graph *g;
    nns_status st = nns_graph_create(&g);
    if (st) return st;
    nns_shape ts = nns_shape_make(1, (int64_t[]){n});
    if ((st = input(g, "x", 4, (int64_t[]){-1, 1, 28, 28})) ||
        (st = nns_graph_add_param(g, "shape", NNS_DTYPE_S64, &ts, target, 0, NULL)) ||
        (st = node(g, "Reshape", "rs", 2, (const char *[]){"x", "shape"}, "r", NULL)) ||
        (st = node(g, "Softmax", "sm", 1, (const char *[]){"r"}, "y", NULL))) {
        nns_graph_free(g);
        return st;
    }
    return finish(g);
}

static void test_reshape(void) {
    /* the sample: [0, -1, 2^62+1, 4] */
    check_err(reshape_graph((int64_t[]){0, -1, ((int64_t)1 << 62) + 1, 4}, 4), NNS_STATUS_LIMIT, "node 'rs'",
              "reshape 2^62+1");
    /* eight dims of 2^31-1: the product overflows int64 */
    int64_t t[8];
    for (int i = 0; i < 8; i++) t[i] = INT32_MAX;
    check_err(reshape_graph(t, 8), NNS_STATUS_LIMIT, "node 'rs'", "reshape 8 x (2^31-1)");
    /* 2^16 x 2^16 x 2^16 / 2^16... a product within int64 but over the limit */
    check_err(reshape_graph((int64_t[]){65536, 65536, 65536}, 3), NNS_STATUS_LIMIT, "node 'rs'",
              "reshape 2^48");
    /* still fine: [0, -1] */
    CHECK_OK(reshape_graph((int64_t[]){0, -1}, 2));
}

/* Conv / pools: the output plane is what the geometry gives; a huge channel
 * count from a weight the file declares is limited like any tensor. */
static void test_window_ops(void) {
    nns_graph *g;
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(input(g, "x", 4, (int64_t[]){-1, 1, 28, 28}));
    check_err(param(g, "w", 4, (int64_t[]){BIG, 1, BIG, 1}), NNS_STATUS_LIMIT, "initializer 'w'",
              "conv weight 2^64");
    nns_graph_free(g);
    /* 256 output channels of 1x1 over a 4096x4096 plane: 2^32 per sample */
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(input(g, "x", 4, (int64_t[]){-1, 1, 4096, 4096}));
    CHECK_OK(param(g, "w", 4, (int64_t[]){256, 1, 1, 1}));
    CHECK_OK(node(g, "Conv", "conv", 2, (const char *[]){"x", "w"}, "y", NULL));
    check_err(finish(g), NNS_STATUS_LIMIT, "node 'conv'", "conv 2^32 outputs");
    /* a pool window and stride that ask for more than the attributes allow */
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(input(g, "x", 4, (int64_t[]){-1, 1, 28, 28}));
    int ni;
    CHECK_OK(node(g, "MaxPool", "pool", 1, (const char *[]){"x"}, "y", &ni));
    CHECK_OK(nns_graph_set_attr_ints(g, ni, "kernel_shape", 2, (int64_t[]){2, 2}));
    CHECK_OK(nns_graph_set_attr_ints(g, ni, "pads", 4, (int64_t[]){0, 0, BIG, BIG}));
    check_err(finish(g), NNS_STATUS_FORMAT, "node 'pool'", "pads 2^32");
}

/* A plan over NNS_MAX_MEMORY is refused before its arena exists. */
static void test_plan_memory(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("lenet5", 1, &g));
    nns_limit_set_memory(256 * 1024);
    nns_session *s = NULL;
    check_err(nns_session_create(g, 64, &s), NNS_STATUS_LIMIT, "NNS_MAX_MEMORY", "plan memory");
    nns_limit_set_memory(0);
    CHECK_OK(nns_session_create(g, 64, &s));
    nns_session_free(s);
    nns_graph_free(g);
}

/* The limits parse from the environment's syntax. */
static void test_limit_values(void) {
    CHECK(nns_limit_tensor_elems() == NNS_MAX_TENSOR_ELEMS_DEFAULT || getenv("NNS_MAX_TENSOR_ELEMS"));
    nns_limit_set_tensor_elems(1000);
    CHECK(nns_limit_tensor_elems() == 1000);
    nns_shape s = nns_shape_make(2, (int64_t[]){40, 26});
    int64_t n = 0;
    check_err(nns_shape_numel_checked(&s, "tensor 't'", &n), NNS_STATUS_LIMIT, "tensor 't'", "1040 > 1000");
    nns_limit_set_tensor_elems(0);
    CHECK_OK(nns_shape_numel_checked(&s, "t", &n));
    CHECK(n == 1040);
    nns_shape w = nns_shape_make(3, (int64_t[]){BIG, BIG, BIG});
    CHECK(nns_shape_numel(&w) == INT64_MAX); /* saturates, never wraps */
    CHECK(nns_limit_model_bytes() > 0 && nns_limit_memory() > 0);
}

/* A model whose input or output is not f32 (the graph is its s8 input,
 * as in a fuzzed file): sessions and profiling copy float samples, so they
 * refuse it by name instead of copying 4 bytes per 1-byte element. */
static void test_non_float_io(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    nns_shape s = nns_shape_make(2, (int64_t[]){1, 28});
    CHECK_OK(nns_graph_add_input(g, "q", NNS_DTYPE_S8, &s, NULL));
    CHECK_OK(nns_graph_add_output(g, "q"));
    CHECK_OK(nns_graph_finalize(g));
    nns_session *ses = NULL;
    check_err(nns_session_create(g, 2, &ses), NNS_STATUS_UNSUPPORTED, "input 'q' is s8", "s8 input, session");
    CHECK(ses == NULL);
    double ms = 0, total = 0;
    check_err(nns_profile(g, 1, 1, &ms, &total), NNS_STATUS_UNSUPPORTED, "input 'q' is s8", "s8 input, profile");
    nns_graph_free(g);
}

int main(void) {
    test_non_float_io();
    test_inputs();
    test_batch_over_limit();
    test_binary_outputs();
    test_concat();
    test_reshape();
    test_window_ops();
    test_plan_memory();
    test_limit_values();
    TEST_MAIN_END();
}
