/* test_distill.c — the distillation loss against finite differences, the
 * distiller (teacher cache, hints and their adapters, clean removal), width
 * students, and the errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "nnslim/nnslim.h"
#include "testutil.h"
#include "synthdata.h"

static void test_loss_grad(void) {
    const int n = 3, k = 5;
    float zs[15], zt[15], d[15];
    int32_t y[3] = {1, 4, 0};
    uint64_t r = 11;
    for (int i = 0; i < n * k; i++) {
        zs[i] = 4.0f * (nns_rng_uniform(&r) - 0.5f);
        zt[i] = 6.0f * (nns_rng_uniform(&r) - 0.5f);
    }
    const float Ts[3] = {1.0f, 2.0f, 4.0f};
    const float As[4] = {0.0f, 0.5f, 0.9f, 1.0f};
    for (int a = 0; a < 4; a++)
        for (int t = 0; t < 3; t++) {
            float kl, ce;
            float L = nns_distill_loss(zs, zt, y, n, k, Ts[t], As[a], d, &kl, &ce);
            CHECK_NEAR(L, As[a] * Ts[t] * Ts[t] * kl + (1 - As[a]) * ce, 1e-5);
            CHECK(kl >= 0 && ce > 0);
            for (int e = 0; e < n * k; e++) {
                float s = zs[e];
                zs[e] = s + 1e-3f;
                float lp = nns_distill_loss(zs, zt, y, n, k, Ts[t], As[a], NULL, NULL, NULL);
                zs[e] = s - 1e-3f;
                float lm = nns_distill_loss(zs, zt, y, n, k, Ts[t], As[a], NULL, NULL, NULL);
                zs[e] = s;
                CHECK_MSG(fabsf(d[e] - (lp - lm) / 2e-3f) < 2e-3f, "T %g alpha %g elem %d: %g vs %g", Ts[t], As[a],
                          e, d[e], (lp - lm) / 2e-3f);
            }
        }
    /* identical logits: KL 0; alpha 0 is the plain cross-entropy */
    float kl;
    nns_distill_loss(zs, zs, y, n, k, 3.0f, 0.7f, NULL, &kl, NULL);
    CHECK_NEAR(kl, 0, 1e-6);
    CHECK_NEAR(nns_distill_loss(zs, zt, y, n, k, 2.0f, 0.0f, NULL, NULL, NULL),
               nns_loss_softmax_ce(zs, y, n, k, 0, NULL), 1e-5);
    /* a known value: two classes, T = 1 */
    float s2[2] = {0, 0}, t2[2] = {0, (float)log(3.0)};
    int32_t y2[1] = {0};
    nns_distill_loss(s2, t2, y2, 1, 2, 1.0f, 1.0f, NULL, &kl, NULL);
    CHECK_NEAR(kl, 0.25 * log(0.25 / 0.5) + 0.75 * log(0.75 / 0.5), 1e-6);
}


static nns_graph *trained_teacher(const nns_dataset *tr) {
    nns_graph *t = NULL;
    CHECK_OK(nns_arch_build("lenet5", 5, &t));
    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 4;
    c.batch_size = 32;
    c.threads = 2;
    nns_train_result r;
    CHECK_OK(nns_train(t, tr, NULL, &c, &r));
    return t;
}

/* Records a distiller term (the hint loss, or the KL when kl is set) at
 * the first and the last training step. */
typedef struct hint_watch {
    nns_distiller *d;
    float first, last;
    int steps;
    int kl;
} hint_watch;

static void watch(const nns_train_progress *p, void *user) {
    hint_watch *w = user;
    if (p->end_of_epoch) return;
    nns_distill_stats s;
    nns_distiller_stats(w->d, &s);
    float v = w->kl ? s.last_kl : s.last_hint;
    if (w->steps++ == 0) w->first = v;
    w->last = v;
}

static void test_distiller(void) {
    nns_dataset tr, te;
    make_data(&tr, 768, 7);
    make_data(&te, 200, 8);
    nns_graph *t = trained_teacher(&tr);
    nns_eval_result er;
    CHECK_OK(nns_evaluate(t, &te, 100, &er));
    CHECK_MSG(er.accuracy > 0.9f, "teacher accuracy %.3f", er.accuracy);
    nns_eval_result_free(&er);

    nns_train_config c;
    nns_train_config_default(&c);
    c.epochs = 3;
    c.batch_size = 40; /* partial last batch */
    c.threads = 2;
    nns_distill_config dc;
    nns_distill_config_default(&dc);
    CHECK(dc.temperature == 1.0f && dc.alpha == 0.5f);

    /* logits distillation into lenet300: teacher runs only in epoch 1 */
    nns_graph *s = NULL;
    CHECK_OK(nns_arch_build("lenet300", 9, &s));
    nns_distiller *d = NULL;
    CHECK_OK(nns_distiller_create(t, s, &dc, tr.n, c.batch_size, &d));
    nns_train_config cc = c;
    nns_distiller_attach(d, &cc);
    nns_train_result r;
    CHECK_OK(nns_train(s, &tr, &te, &cc, &r));
    nns_distill_stats st;
    nns_distiller_stats(d, &st);
    CHECK_MSG(st.teacher_images == tr.n, "teacher ran on %lld images", (long long)st.teacher_images);
    CHECK(st.cached_images == 2 * tr.n);
    CHECK(st.last_kl >= 0 && st.last_ce > 0);
    CHECK_MSG(r.val_accuracy > 0.8f, "distilled lenet300 accuracy %.3f", r.val_accuracy);
    CHECK_OK(nns_distiller_finish(d, s));
    nns_distiller_free(d);
    nns_graph_free(s);

    /* a teacher identical to the student: the first batch's KL is 0, so the
     * teacher saw exactly the student's input and gave the same logits */
    CHECK_OK(nns_arch_build("lenet300", 9, &s));
    nns_graph *twin = NULL;
    CHECK_OK(nns_graph_clone(s, &twin));
    CHECK_OK(nns_graph_pack_params(twin));
    CHECK_OK(nns_distiller_create(twin, s, &dc, tr.n, c.batch_size, &d));
    hint_watch kw = {d, 0, 0, 0, 1};
    cc = c;
    cc.epochs = 1;
    cc.progress = watch;
    cc.progress_user = &kw;
    nns_distiller_attach(d, &cc);
    CHECK_OK(nns_train(s, &tr, NULL, &cc, &r));
    CHECK_MSG(kw.steps > 2 && kw.first < 1e-6f && kw.last > kw.first, "twin teacher: KL %g -> %g", kw.first, kw.last);
    nns_distiller_free(d);
    nns_graph_free(s);
    nns_graph_free(twin);

    /* with augmentation the teacher runs on every batch, on the same input */
    CHECK_OK(nns_arch_build("lenet300", 9, &s));
    CHECK_OK(nns_distiller_create(t, s, &dc, tr.n, c.batch_size, &d));
    cc = c;
    cc.epochs = 2;
    cc.augment.hflip = 1;
    nns_distiller_attach(d, &cc);
    CHECK_OK(nns_train(s, &tr, NULL, &cc, &r));
    nns_distiller_stats(d, &st);
    CHECK(st.teacher_images == 2 * tr.n && st.cached_images == 0);
    nns_distiller_free(d);
    nns_graph_free(s);

    /* hints: a half-width lenet5 learns the teacher's conv1 and conv2 maps
     * through 1x1 adapters (3 -> 6 and 8 -> 16 channels) */
    CHECK_OK(nns_graph_scale_width(t, 0.5f, 3, &s));
    int nodes0 = nns_graph_n_nodes(s);
    int64_t params0 = nns_graph_n_params(s);
    const char *t1 = t->nodes[0].name; /* conv1 */
    int conv2 = -1;
    for (int i = 1; i < t->n_nodes && conv2 < 0; i++)
        if (!strcmp(t->nodes[i].op_type, "Conv")) conv2 = i;
    CHECK(conv2 > 0 && !strcmp(t->nodes[0].op_type, "Conv"));
    nns_distill_hint hints[2] = {{t1, t1, 1.0f}, {t->nodes[conv2].name, t->nodes[conv2].name, 0.5f}};
    dc.hints = hints;
    dc.n_hints = 2;
    CHECK_OK(nns_distiller_create(t, s, &dc, tr.n, c.batch_size, &d));
    nns_distiller_stats(d, &st);
    CHECK(st.n_adapters == 2);
    CHECK(nns_graph_n_params(s) == params0 + st.adapter_params);
    CHECK(s->n_outputs == 3);
    hint_watch w = {d, 0, 0, 0, 0};
    cc = c;
    cc.epochs = 3;
    cc.progress = watch;
    cc.progress_user = &w;
    nns_distiller_attach(d, &cc);
    CHECK_OK(nns_train(s, &tr, &te, &cc, &r));
    CHECK_MSG(w.steps > 10 && w.last < 0.7f * w.first, "hint loss %g -> %g", w.first, w.last);
    nns_distiller_stats(d, &st);
    /* the hint maps are cached with the logits: the teacher runs in epoch 1 only */
    CHECK_MSG(st.teacher_images == tr.n && st.cached_images == 2 * tr.n, "teacher %lld, cached %lld",
              (long long)st.teacher_images, (long long)st.cached_images);
    {
        /* the same run without the cache gives the same student, to rounding:
         * the teacher's kernels may round differently at another batch size
         * (the cache holds maps computed in epoch 1's batches) */
        nns_graph *s2 = NULL;
        nns_distiller *d2 = NULL;
        nns_train_result r2;
        CHECK_OK(nns_graph_scale_width(t, 0.5f, 3, &s2));
        nns_distill_config dc2 = dc;
        dc2.cache = 0;
        CHECK_OK(nns_distiller_create(t, s2, &dc2, tr.n, c.batch_size, &d2));
        nns_train_config c2 = c;
        c2.epochs = 3;
        nns_distiller_attach(d2, &c2);
        CHECK_OK(nns_train(s2, &tr, &te, &c2, &r2));
        nns_distill_stats st2;
        nns_distiller_stats(d2, &st2);
        CHECK(st2.teacher_images == 3 * tr.n && st2.cached_images == 0);
        CHECK_NEAR(r2.val_accuracy, r.val_accuracy, 0.011);
        CHECK(s2->n_values == s->n_values);
        float maxd = 0;
        int nparam = 0;
        for (int v = 0; v < s->n_values && v < s2->n_values; v++) {
            const nns_value *a = &s->values[v], *b = &s2->values[v];
            if (a->kind != NNS_VALUE_KIND_PARAM || a->dtype != NNS_DTYPE_F32 || !a->data) continue;
            int64_t cnt = nns_shape_numel(&a->shape);
            CHECK(b->kind == NNS_VALUE_KIND_PARAM && b->data && nns_shape_numel(&b->shape) == cnt);
            if (!b->data || nns_shape_numel(&b->shape) != cnt) continue;
            nparam++;
            const float *pa = a->data, *pb = b->data;
            for (int64_t e = 0; e < cnt; e++) maxd = fmaxf(maxd, fabsf(pa[e] - pb[e]));
        }
        CHECK_MSG(nparam > 4 && maxd < 1e-5f, "cached and uncached hint runs differ by %g (%d params)", maxd, nparam);
        nns_distiller_free(d2);
        nns_graph_free(s2);
        /* a training set whose maps would take more than NNS_DISTILL_CACHE_MAX_BYTES
         * (100,000 images x 6,324 floats, 2.5 GB): nothing is cached */
        const int64_t big = 100000;
        CHECK(big * (10 + 6 * 28 * 28 + 16 * 10 * 10) * 4.0 > NNS_DISTILL_CACHE_MAX_BYTES);
        CHECK_OK(nns_graph_scale_width(t, 0.5f, 3, &s2));
        CHECK_OK(nns_distiller_create(t, s2, &dc, big, c.batch_size, &d2));
        c2 = c;
        c2.epochs = 2;
        nns_distiller_attach(d2, &c2);
        CHECK_OK(nns_train(s2, &tr, NULL, &c2, &r2));
        nns_distiller_stats(d2, &st2);
        CHECK_MSG(st2.teacher_images == 2 * tr.n && st2.cached_images == 0, "over the cache limit: teacher %lld, cached %lld",
                  (long long)st2.teacher_images, (long long)st2.cached_images);
        nns_distiller_free(d2);
        nns_graph_free(s2);
    }
    CHECK_OK(nns_distiller_finish(d, s));
    CHECK_OK(nns_distiller_finish(d, s)); /* idempotent */
    CHECK(s->n_outputs == 1 && nns_graph_n_nodes(s) == nodes0 && nns_graph_n_params(s) == params0);
    CHECK(nns_graph_find_node(s, "nnslim_hint0_adapter") < 0);
    CHECK_OK(nns_evaluate(s, &te, 100, &er));
    CHECK_NEAR(er.accuracy, r.val_accuracy, 1e-6);
    nns_eval_result_free(&er);
    nns_distiller_free(d);
    nns_graph_free(s);

    /* the all-in-one call */
    CHECK_OK(nns_arch_build("lenet300", 9, &s));
    dc.hints = NULL;
    dc.n_hints = 0;
    CHECK_OK(nns_distill(t, s, &tr, &te, &c, &dc, &r));
    CHECK(r.epochs == 3 && r.val_accuracy > 0.8f);
    nns_graph_free(s);

    nns_graph_free(t);
    nns_dataset_free(&tr);
    nns_dataset_free(&te);
}

/* A k-class linear model on 28x28 inputs, with a Relu on its logits if
 * relu. */
static nns_graph *linear_k(int64_t k, int relu);
static nns_graph *linear12(void) { return linear_k(12, 0); }

static nns_graph *linear_k(int64_t k, int relu) {
    nns_graph *g = NULL;
    CHECK_OK(nns_graph_create(&g));
    int64_t in_d[4] = {-1, 1, 28, 28}, w_d[2] = {k, 784}, b_d[1] = {k};
    nns_shape is = nns_shape_make(4, in_d), ws = nns_shape_make(2, w_d), bs = nns_shape_make(1, b_d);
    CHECK_OK(nns_graph_add_input(g, "input", NNS_DTYPE_F32, &is, NULL));
    CHECK_OK(nns_graph_add_param(g, "w", NNS_DTYPE_F32, &ws, NULL, 1, NULL));
    CHECK_OK(nns_graph_add_param(g, "b", NNS_DTYPE_F32, &bs, NULL, 1, NULL));
    const char *fin[1] = {"input"}, *fout[1] = {"flat"};
    int nd;
    CHECK_OK(nns_graph_add_node(g, "Flatten", "flatten", 1, fin, 1, fout, &nd));
    const char *gin[3] = {"flat", "w", "b"}, *gout[1] = {relu ? "fc" : "logits"};
    CHECK_OK(nns_graph_add_node(g, "Gemm", "fc", 3, gin, 1, gout, &nd));
    CHECK_OK(nns_graph_set_attr_int(g, nd, "transB", 1));
    if (relu) {
        const char *rin[1] = {"fc"}, *rout[1] = {"logits"};
        CHECK_OK(nns_graph_add_node(g, "Relu", "relu", 1, rin, 1, rout, &nd));
    }
    CHECK_OK(nns_graph_add_output(g, "logits"));
    CHECK_OK(nns_graph_finalize(g));
    return g;
}

static void test_errors(void) {
    nns_graph *t = NULL, *s = NULL, *bad = linear12();
    CHECK_OK(nns_arch_build("lenet5", 1, &t));
    CHECK_OK(nns_arch_build("lenet5", 2, &s));
    CHECK_OK(nns_graph_pack_params(t));
    CHECK_OK(nns_graph_pack_params(s));
    int nodes = nns_graph_n_nodes(s), outs = s->n_outputs;
    int64_t params = nns_graph_n_params(s);
    nns_distill_config dc;
    nns_distill_config_default(&dc);
    nns_distiller *d = NULL;

    dc.temperature = 0;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG && !d);
    CHECK(strstr(nns_last_error(), "--temperature") != NULL);
    dc.temperature = -1;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG);
    dc.temperature = 2;
    dc.alpha = 1.5f;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "--alpha") != NULL);
    dc.alpha = -0.1f;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG);
    dc.alpha = NAN;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG);
    dc.alpha = 0.5f;
    /* teacher with 12 classes, student with 10 */
    CHECK(nns_distiller_create(bad, s, &dc, 10, 8, &d) == NNS_STATUS_SHAPE && !d);
    CHECK_MSG(strstr(nns_last_error(), "12 classes") && strstr(nns_last_error(), "has 10"), "%s", nns_last_error());
    /* hints: a layer that does not exist; one whose spatial size differs */
    const char *conv2 = NULL;
    for (int i = 1; i < t->n_nodes && !conv2; i++)
        if (!strcmp(t->nodes[i].op_type, "Conv")) conv2 = t->nodes[i].name;
    nns_distill_hint h1 = {"nosuchlayer", t->nodes[0].name, 1.0f};
    dc.hints = &h1;
    dc.n_hints = 1;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "'nosuchlayer'") != NULL && strstr(nns_last_error(), "teacher"));
    nns_distill_hint h2 = {t->nodes[0].name, "nope2", 1.0f};
    dc.hints = &h2;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "student has no layer 'nope2'") != NULL);
    nns_distill_hint h3 = {t->nodes[0].name, conv2, 1.0f};
    dc.hints = &h3;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_SHAPE);
    CHECK_MSG(strstr(nns_last_error(), "spatial") != NULL, "%s", nns_last_error());
    nns_distill_hint h4 = {t->nodes[0].name, t->nodes[0].name, 0.0f};
    dc.hints = &h4;
    CHECK(nns_distiller_create(t, s, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG);
    /* hint auto on a student whose output is not computed by Gemm/MatMul/Conv */
    nns_graph *r10 = linear_k(10, 1);
    nns_distill_hint ha = {NNS_DISTILL_HINT_AUTO, NNS_DISTILL_HINT_AUTO, 1.0f};
    dc.hints = &ha;
    CHECK(nns_distiller_create(t, r10, &dc, 10, 8, &d) == NNS_STATUS_INVALID_ARG && !d);
    CHECK_MSG(strstr(nns_last_error(), "hint auto: the student's output 'logits'") != NULL, "%s", nns_last_error());
    CHECK(r10->n_outputs == 1);
    nns_graph_free(r10);
    /* nothing changed */
    CHECK(nns_graph_n_nodes(s) == nodes && s->n_outputs == outs && nns_graph_n_params(s) == params);
    /* width */
    nns_graph *w = NULL;
    CHECK(nns_graph_scale_width(t, 0.0f, 1, &w) == NNS_STATUS_INVALID_ARG && !w);
    CHECK(nns_graph_scale_width(t, 1.5f, 1, &w) == NNS_STATUS_INVALID_ARG && !w);
    CHECK(strstr(nns_last_error(), "--student-width") != NULL);
    nns_graph_free(t);
    nns_graph_free(s);
    nns_graph_free(bad);
}

static void test_width(void) {
    const char *archs[] = {"lenet300", "lenet5", "vggsmall", "resnet8", "mobilenet"};
    nns_dataset te;
    make_data(&te, 64, 3);
    for (int a = 0; a < 5; a++) {
        nns_graph *t = NULL, *s = NULL, *s1 = NULL;
        CHECK_OK(nns_arch_build(archs[a], 1, &t));
        if (!t) continue;
        int64_t pt = nns_graph_n_params(t);
        CHECK_OK(nns_graph_scale_width(t, 0.5f, 4, &s));
        CHECK_OK(nns_graph_scale_width(t, 1.0f, 4, &s1));
        if (!s || !s1) {
            nns_graph_free(t);
            nns_graph_free(s);
            nns_graph_free(s1);
            continue;
        }
        int64_t ps = nns_graph_n_params(s);
        /* about a quarter of the weights (first and last layers scale once:
         * lenet300's 784-input layer keeps it near a half) */
        CHECK_MSG(ps < 0.5 * pt && ps > 0.15 * pt, "%s: %lld of %lld params", archs[a], (long long)ps, (long long)pt);
        CHECK(nns_graph_n_params(s1) == pt);
        CHECK(s->values[s->outputs[0]].shape.dims[1] == 10);
        /* fresh weights, not the teacher's: width 1 differs from the teacher */
        CHECK(memcmp(s1->params, t->params, (size_t)pt * sizeof(float)) != 0);
        /* BatchNorm reset and the model runs */
        for (int i = 0; i < s->n_nodes; i++) {
            const nns_node *nd = &s->nodes[i];
            if (strcmp(nd->op_type, "BatchNormalization")) continue;
            const float *var = s->values[nd->in[4]].data, *gam = s->values[nd->in[1]].data;
            CHECK(var[0] == 1.0f && gam[0] == 1.0f);
        }
        nns_eval_result er;
        CHECK_OK(nns_evaluate(s, &te, 32, &er));
        CHECK(er.images == 64 && isfinite(er.loss));
        nns_eval_result_free(&er);
        nns_graph_free(t);
        nns_graph_free(s);
        nns_graph_free(s1);
    }
    nns_dataset_free(&te);
}

/* The value feeding the adapter of hint h in a student prepared by a
 * distiller, or NULL. */
static const char *adapter_input(const nns_graph *s, int h) {
    char name[64];
    snprintf(name, sizeof name, "nnslim_hint%d_adapter", h);
    int nd = nns_graph_find_node(s, name);
    return nd >= 0 ? s->values[s->nodes[nd].in[0]].name : NULL;
}

/* --hint auto pairs the penultimate features: the input of the last
 * Gemm, before Dropout. */
static void test_hint_auto(void) {
    nns_graph *t = NULL, *s = NULL, *w = NULL;
    CHECK_OK(nns_arch_build("vggsmall", 1, &t));
    CHECK_OK(nns_graph_pack_params(t));
    CHECK_OK(nns_arch_build("lenet5", 2, &s));
    CHECK_OK(nns_graph_pack_params(s));
    nns_distill_config dc;
    nns_distill_config_default(&dc);
    nns_distill_hint ha = {NNS_DISTILL_HINT_AUTO, NNS_DISTILL_HINT_AUTO, 1.0f};
    dc.hints = &ha;
    dc.n_hints = 1;
    nns_distiller *d = NULL;
    CHECK_OK(nns_distiller_create(t, s, &dc, 100, 8, &d));
    nns_distill_stats st;
    nns_distiller_stats(d, &st);
    /* lenet5's fc3 input (relu4, 84) -> vggsmall's fc2 input before dropout (relu5, 256) */
    CHECK_MSG(st.n_adapters == 1 && st.adapter_params == 84 * 256 + 256, "%d adapters, %lld params", st.n_adapters,
              (long long)st.adapter_params);
    const char *in = adapter_input(s, 0);
    int relu4 = nns_graph_find_node(s, "relu4");
    CHECK(in && relu4 >= 0 && !strcmp(in, s->values[s->nodes[relu4].out[0]].name));
    /* pruning during distillation (gradual pruning's hook) leaves the adapter
     * alone and does not count it */
    CHECK_OK(nns_prune_magnitude(s, 0.9f, NNS_PRUNE_SCOPE_GLOBAL, NULL));
    CHECK_NEAR(nns_prune_sparsity(s), 0.9, 0.001);
    int ad = nns_graph_find_node(s, NNS_DISTILL_ADAPTER_PREFIX "0_adapter");
    CHECK(ad >= 0);
    if (ad >= 0) {
        const nns_value *aw = &s->values[s->nodes[ad].in[1]];
        const float *wv = aw->data;
        int64_t zeros = 0, cnt = nns_shape_numel(&aw->shape);
        for (int64_t e = 0; e < cnt; e++) zeros += wv[e] == 0.0f;
        CHECK_MSG(cnt == 84 * 256 && zeros == 0, "adapter: %lld of %lld weights zero", (long long)zeros, (long long)cnt);
    }
    nns_distiller_free(d);
    /* a student with Dropout before its classifier: the adapter reads the Relu */
    CHECK_OK(nns_graph_scale_width(t, 0.5f, 3, &w));
    CHECK_OK(nns_distiller_create(t, w, &dc, 100, 8, &d));
    nns_distiller_stats(d, &st);
    CHECK(st.n_adapters == 1 && st.adapter_params == 128 * 256 + 256);
    in = adapter_input(w, 0);
    int relu5 = nns_graph_find_node(w, "relu5");
    CHECK_MSG(in && relu5 >= 0 && !strcmp(in, w->values[w->nodes[relu5].out[0]].name), "adapter reads '%s'",
              in ? in : "(none)");
    CHECK_OK(nns_distiller_finish(d, w));
    nns_distiller_free(d);
    nns_graph_free(w);
    nns_graph_free(s);
    nns_graph_free(t);
}

int main(void) {
    test_loss_grad();
    test_hint_auto();
    test_errors();
    test_width();
    test_distiller();
    TEST_MAIN_END();
}
