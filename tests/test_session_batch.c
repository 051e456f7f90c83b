/* test_session_batch.c — a session cuts arrays into samples along dim 0, so
 * a model whose output's dim 0 is not the batch (Transpose moving dim 0,
 * Flatten with an axis other than 1), or that mixes samples (Softmax over
 * dim 0), is refused with an error naming the node and its attribute,
 * never run with a wrong shape (issue #11, class 5); models that keep the
 * batch first still run, and give the right values. */
#include <string.h>

#include "nnslim/nnslim.h"
#include "testutil.h"

/* x [dims] -> op (one int or ints attribute) -> y. */
static nns_graph *one_op(const char *op, int ndim, const int64_t *dims, const char *attr, int n_attr,
                         const int64_t *vals) {
    nns_graph *g = NULL;
    nns_shape s = nns_shape_make(ndim, dims);
    const char *in[] = {"x"}, *out[] = {"y"};
    int node = -1;
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &s, NULL));
    CHECK_OK(nns_graph_add_node(g, op, "n0", 1, in, 1, out, &node));
    if (n_attr == 1 && strcmp(attr, "perm")) CHECK_OK(nns_graph_set_attr_int(g, node, attr, vals[0]));
    else if (n_attr) CHECK_OK(nns_graph_set_attr_ints(g, node, attr, n_attr, vals));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    return g;
}

/* session_create must refuse, naming the node and the attribute. */
static void expect_refused(nns_graph *g, int64_t max_batch, const char *attr) {
    nns_session *s = NULL;
    nns_status st = nns_session_create(g, max_batch, &s);
    CHECK_MSG(st == NNS_STATUS_UNSUPPORTED, "status %s, message '%s'", nns_status_str(st), nns_last_error());
    CHECK(s == NULL);
    CHECK_MSG(strstr(nns_last_error(), "'n0'") && strstr(nns_last_error(), attr), "message: %s", nns_last_error());
    nns_session_free(s);
    nns_graph_free(g);
}

static void test_refused(void) {
    const int64_t dyn3[] = {-1, 3, 4}, dyn4[] = {-1, 3, 4, 5}, fixed4[] = {2, 3, 4, 5}, one3[] = {1, 3, 4};
    const int64_t rev[] = {2, 1, 0}, swap01[] = {1, 0, 2}, ax0 = 0, ax2 = 2, axm1 = -1;
    expect_refused(one_op("Transpose", 3, dyn3, "perm", 0, NULL), 4, "Transpose"); /* default: reversed */
    expect_refused(one_op("Transpose", 3, dyn3, "perm", 3, rev), 4, "perm");
    expect_refused(one_op("Transpose", 3, dyn3, "perm", 3, swap01), 1, "perm");
    expect_refused(one_op("Transpose", 3, one3, "perm", 3, swap01), 64, "perm");
    expect_refused(one_op("Flatten", 4, dyn4, "axis", 1, &ax2), 3, "axis");
    expect_refused(one_op("Flatten", 4, dyn4, "axis", 1, &axm1), 1, "axis");
    /* a fixed dim 0 of 2: the session runs at most 2 at a time, and
     * Flatten axis 0 gives [1, 120] for them */
    expect_refused(one_op("Flatten", 4, fixed4, "axis", 1, &ax0), 64, "axis");
    /* same shape, but the samples are mixed: softmax over the batch */
    const int64_t dyn2[] = {-1, 5}, axm2 = -2;
    expect_refused(one_op("Softmax", 2, dyn2, "axis", 1, &ax0), 4, "axis");
    expect_refused(one_op("LogSoftmax", 2, dyn2, "axis", 1, &axm2), 1, "axis");
}

/* An output with no elements per sample (an empty Slice: [N, 0]) is
 * refused by name, not run (found by the ONNX fuzz target). */
static void test_empty_output(void) {
    const int64_t dyn2[] = {-1, 3}, two = 2, one = 1;
    nns_graph *g = NULL;
    nns_shape xs = nns_shape_make(2, dyn2);
    const char *in[] = {"x"}, *out[] = {"y"};
    int node = -1;
    CHECK_OK(nns_graph_create(&g));
    CHECK_OK(nns_graph_add_input(g, "x", NNS_DTYPE_F32, &xs, NULL));
    CHECK_OK(nns_graph_add_node(g, "Slice", "n0", 1, in, 1, out, &node));
    CHECK_OK(nns_graph_set_attr_ints(g, node, "starts", 1, &two));
    CHECK_OK(nns_graph_set_attr_ints(g, node, "ends", 1, &two));
    CHECK_OK(nns_graph_set_attr_ints(g, node, "axes", 1, &one));
    CHECK_OK(nns_graph_add_output(g, "y"));
    CHECK_OK(nns_graph_finalize(g));
    nns_session *s = NULL;
    nns_status st = nns_session_create(g, 4, &s);
    CHECK_MSG(st == NNS_STATUS_SHAPE && !s && strstr(nns_last_error(), "output 'y' has no elements"), "%s: %s",
              nns_status_str(st), nns_last_error());
    nns_session_free(s);
    nns_graph_free(g);
}

/* Transpose keeping dim 0, and Flatten axis 1, run in chunks of 2 with a
 * partial last chunk and give the right values and shapes. */
static void test_accepted(void) {
    const int64_t dyn3[] = {-1, 3, 4}, perm[] = {0, 2, 1};
    nns_graph *g = one_op("Transpose", 3, dyn3, "perm", 3, perm);
    nns_session *s = NULL;
    CHECK_OK(nns_session_create(g, 2, &s));
    if (s) {
        float x[5 * 12], y[5 * 12];
        for (int i = 0; i < 60; i++) x[i] = (float)i;
        CHECK(nns_session_output_size(s) == 12);
        CHECK_OK(nns_session_run(s, x, 5, y));
        int bad = 0;
        for (int n = 0; n < 5; n++)
            for (int c = 0; c < 3; c++)
                for (int w = 0; w < 4; w++) bad += y[n * 12 + w * 3 + c] != x[n * 12 + c * 4 + w];
        CHECK_MSG(bad == 0, "%d values wrong", bad);
        nns_shape os = nns_session_output_shape(s, 5);
        CHECK(os.ndim == 3 && os.dims[0] == 5 && os.dims[1] == 4 && os.dims[2] == 3);
    }
    nns_session_free(s);
    nns_graph_free(g);
    const int64_t dyn4[] = {-1, 3, 4, 5}, ax1 = 1;
    g = one_op("Flatten", 4, dyn4, "axis", 1, &ax1);
    CHECK_OK(nns_session_create(g, 2, &s));
    if (s) CHECK(nns_session_output_size(s) == 60);
    nns_session_free(s);
    nns_graph_free(g);
    const int64_t dyn2[] = {-1, 5};
    g = one_op("Softmax", 2, dyn2, "axis", 1, &ax1);
    CHECK_OK(nns_session_create(g, 2, &s));
    nns_session_free(s);
    nns_graph_free(g);
}

int main(void) {
    test_empty_output();
    test_refused();
    test_accepted();
    TEST_MAIN_END();
}
