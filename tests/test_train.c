/* test_train.c — architectures, losses, optimizers, schedules, and training
 * on small synthetic data: loss goes down, runs are reproducible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "nnslim/nnslim.h"
#include "testutil.h"
#include "synthdata.h"
#include "ops/op.h"
#include "train/optim.h"

static void test_arch_counts(void) {
    const char *names[] = {"lenet300", "lenet5", "vggsmall", "resnet8", "mobilenet"};
    const int64_t counts[] = {266610, 61706, 870826, 77754, 34682};
    const int64_t macs[] = {266200, 416520, 19094528, 9345920, 5763680};
    for (int i = 0; i < 5; i++) {
        nns_graph *g = NULL;
        CHECK_OK(nns_arch_build(names[i], 1, &g));
        if (!g) continue;
        CHECK_MSG(nns_graph_n_params(g) == counts[i], "%s: %lld params", names[i], (long long)nns_graph_n_params(g));
        nns_layer_info *L;
        int n;
        int64_t tp, tn, tm;
        CHECK_OK(nns_graph_summarize(g, &L, &n, &tp, &tn, &tm));
        CHECK_MSG(tp == counts[i], "%s: summary %lld params", names[i], (long long)tp);
        CHECK_MSG(tm == macs[i], "%s: %lld MACs, anchor %lld", names[i], (long long)tm, (long long)macs[i]);
        free(L);
        int out = g->outputs[0];
        CHECK(g->values[out].shape.ndim == 2 && g->values[out].shape.dims[1] == 10);
        nns_graph_free(g);
    }
    nns_graph *g = NULL;
    CHECK(nns_arch_build("nope", 1, &g) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "nope") != NULL);
}

static void test_loss(void) {
    float z[6] = {0.5f, -1.0f, 2.0f, 0.1f, 0.2f, 0.3f};
    int32_t y[2] = {2, 0};
    float d[6];
    float L = nns_loss_softmax_ce(z, y, 2, 3, 0.1f, d);
    /* numeric gradient */
    for (int k = 0; k < 6; k++) {
        float s = z[k];
        z[k] = s + 1e-3f;
        float lp = nns_loss_softmax_ce(z, y, 2, 3, 0.1f, NULL);
        z[k] = s - 1e-3f;
        float lm = nns_loss_softmax_ce(z, y, 2, 3, 0.1f, NULL);
        z[k] = s;
        CHECK_NEAR(d[k], (lp - lm) / 2e-3f, 1e-3);
    }
    /* eps = 0: plain CE of the first sample */
    float z1[3] = {0.5f, -1.0f, 2.0f};
    int32_t y1[1] = {2};
    double lse = log(exp(0.5) + exp(-1.0) + exp(2.0));
    CHECK_NEAR(nns_loss_softmax_ce(z1, y1, 1, 3, 0, NULL), lse - 2.0, 1e-5);
    CHECK(L > 0);
}

static void test_optim(void) {
    float w[2] = {1.0f, -2.0f}, g[2] = {0.5f, 0.25f}, v[2] = {0.1f, 0.0f};
    nns_optim_sgd_step(w, g, v, 2, 0.1f, 0.9f, 0.01f, 0, NULL);
    /* g' = g + wd w = 0.51, -> v = 0.09 + 0.51 = 0.6, w = 1 - 0.06 */
    CHECK_NEAR(v[0], 0.6, 1e-6);
    CHECK_NEAR(w[0], 0.94, 1e-6);
    float w2[1] = {1.0f}, g2[1] = {0.5f}, v2[1] = {0.0f}, m[1] = {1.0f};
    nns_optim_sgd_step(w2, g2, v2, 1, 0.1f, 0.9f, 0.0f, 1, m);
    CHECK_NEAR(w2[0], 1.0 - 0.1 * (0.5 + 0.9 * 0.5), 1e-6);
    float mask0[1] = {0.0f};
    float w3[1] = {1.0f}, g3[1] = {0.5f}, v3[1] = {0.0f};
    nns_optim_sgd_step(w3, g3, v3, 1, 0.1f, 0.9f, 0.0f, 0, mask0);
    CHECK(w3[0] == 0.0f);
    float w4[1] = {1.0f}, g4[1] = {0.5f}, m4[1] = {0}, s4[1] = {0};
    nns_optim_adamw_step(w4, g4, m4, s4, 1, 0.1f, 0.9f, 0.999f, 1e-8f, 0.01f, 1, NULL);
    /* first step: update = lr * sign(g) approx, plus decay */
    CHECK_NEAR(w4[0], 1.0 * (1 - 0.1 * 0.01) - 0.1, 1e-5);
}

static void test_schedule(void) {
    nns_train_config c;
    nns_train_config_default(&c);
    CHECK_NEAR(nns_schedule_lr(&c, 0, 100, 10), 0.05, 1e-7);
    CHECK_NEAR(nns_schedule_lr(&c, 50, 100, 10), 0.025, 1e-6);
    CHECK(nns_schedule_lr(&c, 99, 100, 10) < 0.001f);
    c.warmup_epochs = 1;
    CHECK_NEAR(nns_schedule_lr(&c, 4, 100, 10), 0.025, 1e-6);
    c.warmup_epochs = 0;
    c.schedule = NNS_SCHEDULE_KIND_STEP;
    c.epochs = 9;
    CHECK_NEAR(nns_schedule_lr(&c, 35, 90, 10), 0.005, 1e-6);
    c.schedule = NNS_SCHEDULE_KIND_CONSTANT;
    CHECK_NEAR(nns_schedule_lr(&c, 35, 90, 10), 0.05, 1e-7);
}


static void test_training(const char *arch, float min_acc, int64_t n_train) {
    nns_dataset tr, te;
    make_data(&tr, n_train, 7);
    make_data(&te, 256, 8);
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 4;
    c.batch_size = 30; /* leaves a partial last batch */
    c.lr = 0.05f;
    c.threads = 2;
    nns_graph *g1 = NULL, *g2 = NULL;
    CHECK_OK(nns_arch_build(arch, 3, &g1));
    CHECK_OK(nns_arch_build(arch, 3, &g2));
    nns_train_result r1, r2;
    CHECK_OK(nns_train(g1, &tr, &te, &c, &r1));
    CHECK_OK(nns_train(g2, &tr, &te, &c, &r2));
    CHECK_MSG(r1.val_accuracy >= min_acc, "%s: accuracy %.3f", arch, r1.val_accuracy);
    CHECK(r1.epochs == 4);
    CHECK(g1->n_params == g2->n_params);
    CHECK_MSG(memcmp(g1->params, g2->params, (size_t)g1->n_params * sizeof(float)) == 0,
              "%s: same seed gave different weights", arch);
    nns_eval_result er;
    CHECK_OK(nns_evaluate(g1, &te, 100, &er));
    CHECK_NEAR(er.accuracy, r1.val_accuracy, 1e-6);
    int64_t tot = 0;
    for (int i = 0; i < 100; i++) tot += er.confusion[i];
    CHECK(tot == 256);
    nns_eval_result_free(&er);
    /* bad config */
    c.lr = -1;
    CHECK(nns_train(g1, &tr, NULL, &c, &r1) == NNS_STATUS_INVALID_ARG);
    nns_graph_free(g1);
    nns_graph_free(g2);
    nns_dataset_free(&tr);
    nns_dataset_free(&te);
}


/* nns_profile_train times every Conv's forward and backward and leaves the
 * model alone (training-mode BatchNorm would move its running statistics). */
static void test_profile_train(void) {
    nns_graph *g = NULL;
    CHECK_OK(nns_arch_build("resnet8", 3, &g));
    if (!g) return;
    CHECK_OK(nns_graph_pack_params(g));
    const int bn = nns_graph_find_node(g, "stem.bn");
    CHECK(bn >= 0);
    if (bn < 0) {
        nns_graph_free(g);
        return;
    }
    const nns_value *mean = &g->values[g->nodes[bn].in[3]];
    const int64_t c = nns_shape_numel(&mean->shape);
    float before[64];
    memcpy(before, mean->data, (size_t)c * sizeof(float));
    const int n = nns_graph_n_nodes(g);
    double *f = calloc((size_t)n, sizeof *f), *b = calloc((size_t)n, sizeof *b), total = 0;
    CHECK_OK(nns_profile_train(g, 4, 2, f, b, &total));
    CHECK(total > 0);
    int convs = 0, timed = 0;
    for (int i = 0; i < n; i++)
        if (g->nodes[i].op == NNS_OP_CONV) {
            convs++;
            timed += f[i] > 0 && b[i] > 0;
        }
    CHECK_MSG(convs > 0 && timed == convs, "%d of %d Conv nodes timed forward and backward", timed, convs);
    CHECK_MSG(memcmp(before, mean->data, (size_t)c * sizeof(float)) == 0, "profiling moved stem.bn's running mean");
    CHECK(nns_profile_train(g, 0, 2, f, b, &total) == NNS_STATUS_INVALID_ARG);
    free(f);
    free(b);
    nns_graph_free(g);
}

int main(void) {
    test_loss();
    test_optim();
    test_schedule();
    test_arch_counts();
    test_profile_train();
    test_training("lenet300", 0.9f, 512);
    test_training("resnet8", 0.5f, 256);
    test_training("mobilenet", 0.2f, 256);
    TEST_MAIN_END();
}
