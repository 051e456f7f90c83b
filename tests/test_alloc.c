/* test_alloc.c — a training step allocates nothing after the first.
 *
 * This test is linked with -Wl,--wrap=malloc,... so that every allocation
 * made by libnnslim's code (linked statically into this program) is counted.
 * Training 1 epoch and 3 epochs of the same data must allocate the same number
 * of times: everything is allocated before the first step. The same is checked
 * for evaluation (many batches vs one), and failing allocations are injected
 * one by one into model building and training: each must fail cleanly with
 * NNS_STATUS_NOMEM (ASan checks that nothing leaks). */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nnslim/nnslim.h"
#include "testutil.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);

static long n_allocs;
static long fail_at = -1; /* fail the fail_at-th allocation from now */

static int should_fail(void) {
    n_allocs++;
    if (fail_at >= 0 && n_allocs == fail_at) return 1;
    return 0;
}
void *__wrap_malloc(size_t n) { return should_fail() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t m) { return should_fail() ? NULL : __real_calloc(n, m); }
void *__wrap_realloc(void *p, size_t n) { return should_fail() ? NULL : __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { return should_fail() ? NULL : __real_aligned_alloc(a, n); }

static void make_data(nns_dataset *d, int64_t n) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->c = 1;
    d->h = d->w = 28;
    d->n_classes = 10;
    d->x = __real_malloc((size_t)n * 784 * sizeof(float));
    d->y = __real_malloc((size_t)n * sizeof(int32_t));
    uint64_t r = 5;
    for (int64_t i = 0; i < n * 784; i++) d->x[i] = nns_rng_uniform(&r);
    for (int64_t i = 0; i < n; i++) d->y[i] = (int32_t)(i % 10);
}

static long count_train(const char *arch, int epochs, const nns_dataset *d) {
    nns_graph *g = NULL;
    if (nns_arch_build(arch, 1, &g)) return -1;
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = epochs;
    c.batch_size = 32;
    c.threads = 2;
    nns_train_result r;
    long before = n_allocs;
    nns_status st = nns_train(g, d, NULL, &c, &r);
    long used = n_allocs - before;
    nns_graph_free(g);
    return st ? -1 : used;
}

int main(void) {
    nns_dataset d;
    make_data(&d, 100); /* 3 full batches and a partial one */
    const char *archs[] = {"lenet5", "vggsmall", "resnet8", "mobilenet"};
    for (int i = 0; i < 4; i++) {
        long a1 = count_train(archs[i], 1, &d);
        long a3 = count_train(archs[i], 3, &d);
        CHECK_MSG(a1 > 0 && a1 == a3, "%s: %ld allocations for 1 epoch, %ld for 3", archs[i], a1, a3);
    }
    /* evaluation: batch 10 (10 batches) vs batch 100 (one) */
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("lenet5", 1, &g));
    nns_eval_result er;
    long b0 = n_allocs;
    CHECK_OK(nns_evaluate(g, &d, 10, &er));
    long e10 = n_allocs - b0;
    nns_eval_result_free(&er);
    b0 = n_allocs;
    CHECK_OK(nns_evaluate(g, &d, 100, &er));
    long e100 = n_allocs - b0;
    nns_eval_result_free(&er);
    CHECK_MSG(e10 == e100, "evaluation: %ld allocations with 10 batches, %ld with 1", e10, e100);
    nns_graph_free(g);

    /* a session of two lanes: runs after the first allocate nothing, and
     * each of its creation's allocations failing fails it cleanly */
    CHECK_OK(nns_arch_build("resnet8", 1, &g));
    nns_session *s = NULL;
    CHECK_OK(nns_session_create_lanes(g, 16, 2, &s));
    if (s) {
        float *y = __real_malloc(100 * 10 * sizeof(float));
        CHECK_OK(nns_session_run(s, d.x, 100, y));
        b0 = n_allocs;
        for (int k = 0; k < 3; k++) CHECK_OK(nns_session_run(s, d.x, 100 - k, y));
        CHECK_MSG(n_allocs == b0, "a session of 2 lanes: %ld allocations in 3 runs", n_allocs - b0);
        free(y);
    }
    nns_session_free(s);
    b0 = n_allocs;
    CHECK_OK(nns_session_create_lanes(g, 16, 2, &s));
    nns_session_free(s);
    const long made = n_allocs - b0;
    int clean_session = 1;
    for (long k = 1; k <= made; k++) {
        n_allocs = 0;
        fail_at = k;
        s = NULL;
        nns_status st = nns_session_create_lanes(g, 16, 2, &s);
        fail_at = -1;
        if (st != NNS_STATUS_NOMEM || s) {
            clean_session = 0;
            fprintf(stderr, "session allocation %ld failed but the status was %s\n", k, nns_status_str(st));
        }
        nns_session_free(s);
    }
    CHECK(made > 0 && clean_session);
    nns_graph_free(g);

    /* injected allocation failures: build + 1 epoch of training */
    long total = 0;
    {
        long b = n_allocs;
        g = NULL;
        if (!nns_arch_build("resnet8", 1, &g)) {
            nns_train_config c;
            nns_train_config_default(&c);
            c.epochs = 1;
            c.batch_size = 50;
            nns_train_result r;
            nns_train(g, &d, NULL, &c, &r);
        }
        nns_graph_free(g);
        total = n_allocs - b;
    }
    int clean = 1;
    for (long k = 1; k <= total; k += (total > 200 ? total / 200 : 1)) {
        g = NULL;
        n_allocs = 0;
        fail_at = k;
        nns_status st = nns_arch_build("resnet8", 1, &g);
        if (!st) {
            nns_train_config c;
            nns_train_config_default(&c);
            c.epochs = 1;
            c.batch_size = 50;
            nns_train_result r;
            st = nns_train(g, &d, NULL, &c, &r);
        }
        fail_at = -1;
        if (st != NNS_STATUS_NOMEM && n_allocs >= k) {
            clean = 0;
            fprintf(stderr, "allocation %ld failed but the status was %s (%s)\n", k, nns_status_str(st),
                    nns_last_error());
        }
        nns_graph_free(g);
    }
    CHECK(clean);
    free(d.x);
    free(d.y);
    TEST_MAIN_END();
}
