/* test_session_batch.c — a session cuts arrays into samples along dim 0, so
 * a model whose output's dim 0 is not the batch (Transpose moving dim 0,
 * Flatten with an axis other than 1), or that mixes samples (Softmax over
 * dim 0), is refused with an error naming the node and its attribute,
 * never run with a wrong shape (issue #11, class 5); models that keep the
 * batch first still run, and give the right values. */
#include <string.h>

#include <math.h>
#include <stdlib.h>

#include "core/graph_impl.h"
#include "nnslim/nnslim.h"
#include "runtime/plan.h"
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

/* The largest difference between a and b over n values, relative to
 * b's largest magnitude. */
static double rel_diff(const float *a, const float *b, int64_t n) {
    double d = 0, m = 1e-6;
    for (int64_t i = 0; i < n; i++) {
        d = fabs((double)a[i] - b[i]) > d ? fabs((double)a[i] - b[i]) : d;
        m = fabs((double)b[i]) > m ? fabs((double)b[i]) : m;
    }
    return d / m;
}

/* n samples through a new session of max_batch 16 and `lanes` into y;
 * the session's lanes, or -1 if it failed. */
static int run_lanes(nns_graph *g, int lanes, const float *x, int64_t n, float *y) {
    nns_session *s = NULL;
    nns_status st = nns_session_create_lanes(g, 16, lanes, &s);
    CHECK_MSG(st == NNS_OK, "lanes %d: %s", lanes, nns_last_error());
    if (st) return -1;
    const int got = nns_session_lanes(s);
    CHECK_OK(nns_session_run(s, x, n, y));
    nns_session_free(s);
    return got;
}

/* Lanes (nns_session_create_lanes): a batch cut across plans that run side
 * by side gives what one plan gives (a lane's smaller batch may take another
 * algorithm: within rounding), at uneven cuts, over several chunks, and
 * after the graph's weights change under a session that exists. */
static void test_lanes(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("resnet8", 3, &g));
    if (!g) return;
    const int64_t n = 23, per = 784, classes = 10; /* chunks of 16 and 7: 7 cut 4 + 3 at two lanes */
    float *x = malloc((size_t)(n * per) * sizeof(float)), *y1 = malloc((size_t)(n * classes) * sizeof(float));
    float *y = malloc((size_t)(n * classes) * sizeof(float));
    for (int64_t i = 0; i < n * per; i++) x[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
    CHECK(run_lanes(g, 1, x, n, y1) == 1);
    const int want[] = {2, 3, 5, 16};
    for (int k = 0; k < 4; k++) {
        CHECK(run_lanes(g, want[k], x, n, y) == want[k]);
        const double r = rel_diff(y, y1, n * classes);
        CHECK_MSG(r <= 1e-4, "%d lanes: outputs differ from one plan's by %g (relative)", want[k], r);
    }
    /* automatic at 2 threads: one lane per thread (resnet8's weights are small) */
    nns_set_threads(2);
    CHECK(run_lanes(g, 0, x, n, y) == 2);
    /* weights changed under a 2-lane session: every lane runs the new ones */
    nns_session *s = NULL;
    CHECK_OK(nns_session_create_lanes(g, 16, 2, &s));
    if (s) {
        CHECK_OK(nns_session_run(s, x, n, y));
        for (int v = 0; v < g->n_values; v++)
            if (g->values[v].kind == NNS_VALUE_KIND_PARAM && g->values[v].dtype == NNS_DTYPE_F32) {
                float *w = g->values[v].data;
                for (int64_t i = 0; i < nns_shape_numel(&g->values[v].shape); i++) w[i] *= 0.5f;
            }
        nns_graph_params_changed(g);
        CHECK_OK(nns_session_run(s, x, n, y));
        CHECK(run_lanes(g, 1, x, n, y1) == 1);
        const double r = rel_diff(y, y1, n * classes);
        CHECK_MSG(r <= 1e-4, "after new weights, two lanes differ from one plan by %g (relative)", r);
    }
    nns_session_free(s);
    /* plans share the packs of a fused inference plan that owns them, nothing else */
    nns_plan *own = NULL, *lane = NULL, *bad = NULL, *plain = NULL;
    CHECK_OK(nns_plan_create(g, 4, NNS_PLAN_INFER_FUSED, NULL, &own));
    if (own) {
        CHECK_OK(nns_plan_create_sharing(own, &lane));
        CHECK(lane && nns_plan_bytes(lane) == nns_plan_arena_bytes(lane)); /* no packs of its own */
        if (lane) CHECK(nns_plan_create_sharing(lane, &bad) == NNS_STATUS_INVALID_ARG && !bad);
    }
    CHECK_OK(nns_plan_create(g, 4, 0, NULL, &plain));
    if (plain) CHECK(nns_plan_create_sharing(plain, &bad) == NNS_STATUS_INVALID_ARG && !bad);
    nns_plan_free(lane);
    nns_plan_free(own);
    nns_plan_free(plain);
    /* bad counts are refused; a fixed batch keeps one plan */
    s = NULL;
    CHECK(nns_session_create_lanes(g, 16, -1, &s) == NNS_STATUS_INVALID_ARG && !s);
    CHECK(nns_session_create_lanes(g, 16, 65, &s) == NNS_STATUS_INVALID_ARG && !s);
    CHECK_MSG(strstr(nns_last_error(), "lanes"), "message: %s", nns_last_error());
    nns_graph_free(g);
    const int64_t fixed[] = {8, 3, 4}, perm[] = {0, 2, 1};
    g = one_op("Transpose", 3, fixed, "perm", 3, perm);
    CHECK_OK(nns_session_create_lanes(g, 16, 4, &s));
    if (s) CHECK(nns_session_lanes(s) == 1);
    nns_session_free(s);
    nns_graph_free(g);
    free(x);
    free(y);
    free(y1);
}

int main(void) {
    test_empty_output();
    test_refused();
    test_accepted();
    test_lanes();
    TEST_MAIN_END();
}
