/* test_sweep.c — the library's sensitivity sweep (every trial starts from
 * the original graph bit for bit, the callbacks are called the expected
 * number of times, a callback's failure comes back as is with nothing
 * leaked), the allocation of per-layer levels for a target, per-layer
 * magnitude pruning, and the pruning schedules (per-round targets and
 * epochs on lenet300 with synthetic data, failures). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "nnslim/nnslim.h"
#include "nnslim/prune.h"
#include "synthdata.h"
#include "testutil.h"

/* ---- helpers ----------------------------------------------------------- */

/* a and b hold the same values, nodes, parameters, masks and metadata, bit
 * for bit. */
static int graph_equal(const nns_graph *a, const nns_graph *b) {
    if (a->n_values != b->n_values || a->n_nodes != b->n_nodes || a->n_params != b->n_params ||
        a->n_meta != b->n_meta)
        return 0;
    if (a->n_params && memcmp(a->params, b->params, (size_t)a->n_params * sizeof(float))) return 0;
    if (!a->masks != !b->masks) return 0;
    if (a->masks && memcmp(a->masks, b->masks, (size_t)a->n_params * sizeof(float))) return 0;
    for (int i = 0; i < a->n_values; i++) {
        const nns_value *x = &a->values[i], *y = &b->values[i];
        if (strcmp(x->name, y->name) || x->kind != y->kind || x->dtype != y->dtype || x->shape.ndim != y->shape.ndim)
            return 0;
        for (int d = 0; d < x->shape.ndim; d++)
            if (x->shape.dims[d] != y->shape.dims[d]) return 0;
        if (!x->data != !y->data) return 0;
        if (x->data && memcmp(x->data, y->data, (size_t)nns_shape_numel(&x->shape) * nns_dtype_size(x->dtype)))
            return 0;
    }
    for (int i = 0; i < a->n_nodes; i++)
        if (strcmp(a->nodes[i].name, b->nodes[i].name) || a->nodes[i].n_in != b->nodes[i].n_in) return 0;
    for (int i = 0; i < a->n_meta; i++)
        if (strcmp(a->meta_keys[i], b->meta_keys[i]) || strcmp(a->meta_vals[i], b->meta_vals[i])) return 0;
    return 1;
}

/* Zeros of a node's weight (input 1) and its element count. */
static int64_t weight_zeros(const nns_graph *g, const char *node, int64_t *numel) {
    int n = nns_graph_find_node(g, node);
    const nns_value *v = &g->values[g->nodes[n].in[1]];
    *numel = nns_shape_numel(&v->shape);
    int64_t z = 0;
    for (int64_t i = 0; i < *numel; i++) z += ((const float *)v->data)[i] == 0.0f;
    return z;
}

/* ---- the sweep: restore and counts ---------------------------------------- */

typedef struct probe {
    const nns_graph *orig;
    const nns_sweep_unit *units;
    int n_units;
    int perturb_calls, eval_calls, progress_calls, progress_last;
    int bad_start;      /* a trial that did not start from the original    */
    int bad_pruning;    /* magnitude: wrong zero counts at evaluation        */
    int last_unit;
    float last_level;
    int fail_perturb_at, fail_eval_at; /* 1-based call numbers; 0: never */
    nns_sweep_perturb_fn inner;        /* the real perturbation          */
    void *inner_user;
} probe;

static nns_status probe_perturb(void *user, nns_graph *g, int unit, const nns_sweep_unit *u, float level) {
    probe *p = user;
    p->perturb_calls++;
    if (!graph_equal(g, p->orig)) p->bad_start++;
    p->last_unit = unit;
    p->last_level = level;
    if (p->perturb_calls == p->fail_perturb_at)
        return nns_error(NNS_STATUS_IO, "perturb boom at %s %g", u->name, level);
    return p->inner(p->inner_user, g, unit, u, level);
}

/* score = the fraction of prunable weights kept; checks that only the
 * perturbed unit lost weights, exactly round(level * n) of them. */
static nns_status probe_eval_magnitude(void *user, nns_graph *g, float *score) {
    probe *p = user;
    p->eval_calls++;
    if (p->eval_calls == p->fail_eval_at) return nns_error(NNS_STATUS_FORMAT, "eval boom");
    for (int i = 0; p->eval_calls > 1 && i < p->n_units; i++) {
        int64_t n, z = weight_zeros(g, p->units[i].name, &n);
        int64_t want = i == p->last_unit ? llround((double)p->last_level * n) : 0;
        if (z != want) p->bad_pruning++;
    }
    *score = 1.0f - nns_prune_sparsity(g);
    return NNS_OK;
}

/* score = parameters left / parameters of the original */
static nns_status probe_eval_params(void *user, nns_graph *g, float *score) {
    probe *p = user;
    p->eval_calls++;
    *score = (float)nns_graph_n_params(g) / (float)nns_graph_n_params(p->orig);
    return NNS_OK;
}

static void probe_progress(void *user, const nns_sweep_table *t, int unit) {
    probe *p = user;
    p->progress_calls++;
    p->progress_last = unit;
}

static void test_sweep_magnitude(void) {
    nns_graph *g, *ref;
    CHECK_OK(nns_arch_build("lenet5", 3, &g));
    CHECK_OK(nns_graph_clone(g, &ref));
    nns_sweep_unit *units = NULL;
    int nu = 0;
    CHECK_OK(nns_prune_sweep_units(g, 0, &units, &nu));
    CHECK(nu == 5);
    if (nu != 5) return;
    CHECK(!strcmp(units[0].name, "conv1") && !strcmp(units[0].op, "Conv") && !strcmp(units[4].name, "fc3"));
    CHECK(units[2].size == 400 * 120 + 120); /* fc1: weights and bias */
    const float levels[3] = {0.25f, 0.5f, 0.9f};
    probe p = {.orig = ref, .units = units, .n_units = nu};
    p.inner = nns_prune_perturb_layer;
    p.inner_user = NULL; /* magnitude */
    nns_sweep_config cfg = {units, nu, levels, 3, probe_perturb, &p, probe_eval_magnitude, &p, probe_progress, &p};
    nns_sweep_table t;
    CHECK_OK(nns_sweep_run(g, &cfg, &t));
    CHECK(p.perturb_calls == 15);
    CHECK(p.eval_calls == 16);
    CHECK(p.progress_calls == 6 && p.progress_last == 4);
    CHECK(p.bad_start == 0);   /* every trial started from the original */
    CHECK(p.bad_pruning == 0); /* and pruned only its unit */
    CHECK(graph_equal(g, ref)); /* g itself untouched */
    CHECK(g->masks == NULL && nns_graph_get_meta(g, "nnslim.pruned") == NULL);
    CHECK(t.n_units == 5 && t.n_levels == 3);
    CHECK(t.baseline == 1.0f);
    int owned = 1, applied = 1, mono = 1;
    for (int i = 0; i < t.n_units; i++) {
        owned &= t.units[i].name != units[i].name && !strcmp(t.units[i].name, units[i].name) &&
                 t.units[i].size == units[i].size;
        for (int k = 0; k < 3; k++) {
            applied &= t.applied[i * 3 + k] == 1;
            if (k) mono &= t.score[i * 3 + k] < t.score[i * 3 + k - 1];
        }
    }
    CHECK(owned);
    CHECK(applied);
    CHECK(mono);
    /* fc1 at 0.5: 24,000 of the 61,470 prunable weights */
    int64_t n_fc1;
    weight_zeros(ref, "fc1", &n_fc1);
    CHECK(n_fc1 == 48000);
    CHECK_NEAR(t.score[2 * 3 + 1], 1.0 - 24000.0 / 61470.0, 1e-6);
    free(units);
    nns_sweep_table_free(&t);
    CHECK(t.units == NULL && t.score == NULL && t.n_units == 0);
    nns_sweep_table_free(&t); /* twice is harmless */
    nns_graph_free(g);
    nns_graph_free(ref);
}

/* Channels change the graph's shapes: still every trial starts from the
 * original, and a layer that cannot lose channels (the classifier) is
 * skipped with the baseline score and size 0. */
static void test_sweep_channels(void) {
    nns_graph *g, *ref;
    CHECK_OK(nns_arch_build("lenet5", 4, &g));
    CHECK_OK(nns_graph_clone(g, &ref));
    nns_sweep_unit *units = NULL;
    int nu = 0;
    CHECK_OK(nns_prune_sweep_units(g, 1, &units, &nu));
    CHECK(nu == 5);
    if (nu != 5) return;
    CHECK(units[0].size == 6 && units[1].size == 16 && units[4].size == 10);
    const float levels[2] = {0.5f, 0.75f};
    nns_prune_perturb pp = {1};
    probe p = {.orig = ref, .units = units, .n_units = nu};
    p.inner = nns_prune_perturb_layer;
    p.inner_user = &pp;
    nns_sweep_config cfg = {units, nu, levels, 2, probe_perturb, &p, probe_eval_params, &p, NULL, NULL};
    nns_sweep_table t;
    CHECK_OK(nns_sweep_run(g, &cfg, &t));
    CHECK(p.perturb_calls == 10);
    CHECK(p.eval_calls == 1 + 8); /* fc3's two trials are not scored */
    CHECK(p.bad_start == 0);
    CHECK(graph_equal(g, ref));
    CHECK(t.baseline == 1.0f);
    for (int i = 0; i < 4; i++) CHECK(t.applied[i * 2] && t.applied[i * 2 + 1] && t.score[i * 2 + 1] < t.score[i * 2] &&
                                      t.score[i * 2] < 1.0f);
    CHECK(!t.applied[8] && !t.applied[9] && t.score[8] == 1.0f && t.score[9] == 1.0f);
    CHECK(t.units[4].size == 0 && t.units[3].size == 84);
    nns_sweep_table_free(&t);
    free(units);
    nns_graph_free(g);
    nns_graph_free(ref);
}

/* A failing callback stops the sweep; its status and message come back;
 * nothing is left allocated (ASan's leak check) and the table is zeroed. */
static void test_sweep_failures(void) {
    nns_graph *g, *ref;
    CHECK_OK(nns_arch_build("lenet5", 5, &g));
    CHECK_OK(nns_graph_clone(g, &ref));
    nns_sweep_unit *units = NULL;
    int nu = 0;
    CHECK_OK(nns_prune_sweep_units(g, 0, &units, &nu));
    const float levels[2] = {0.5f, 0.9f};
    nns_sweep_table t;
    for (int which = 0; which < 4; which++) {
        probe p = {.orig = ref, .units = units, .n_units = nu};
        p.inner = nns_prune_perturb_layer;
        if (which == 0) p.fail_perturb_at = 4;  /* unit 1, level 0.9 */
        if (which == 1) p.fail_eval_at = 1;     /* the baseline */
        if (which == 2) p.fail_eval_at = 6;     /* unit 2, level 0.9 */
        if (which == 3) p.fail_perturb_at = 1;  /* the first trial */
        nns_sweep_config cfg = {units, nu, levels, 2, probe_perturb, &p, probe_eval_magnitude, &p, probe_progress, &p};
        memset(&t, 0x5a, sizeof t);
        nns_status st = nns_sweep_run(g, &cfg, &t);
        if (which == 0 || which == 3) {
            CHECK(st == NNS_STATUS_IO);
            CHECK(strstr(nns_last_error(), which ? "perturb boom at conv1 0.5" : "perturb boom at conv2 0.9") != NULL);
            CHECK(p.perturb_calls == p.fail_perturb_at);
            CHECK(p.eval_calls == p.fail_perturb_at); /* the baseline and the trials before */
        } else {
            CHECK(st == NNS_STATUS_FORMAT);
            CHECK(!strcmp(nns_last_error(), "eval boom"));
            CHECK(p.eval_calls == p.fail_eval_at);
            CHECK(p.perturb_calls == p.fail_eval_at - 1);
        }
        CHECK(p.progress_calls == (which == 1 ? 0 : which == 2 ? 3 : which == 0 ? 2 : 1));
        CHECK(t.units == NULL && t.score == NULL && t.levels == NULL && t.applied == NULL && t.n_units == 0);
        CHECK(graph_equal(g, ref));
    }
    /* bad configurations */
    probe p = {.orig = ref, .units = units, .n_units = nu};
    p.inner = nns_prune_perturb_layer;
    nns_sweep_config cfg = {units, nu, levels, 0, probe_perturb, &p, probe_eval_magnitude, &p, NULL, NULL};
    CHECK(nns_sweep_run(g, &cfg, &t) == NNS_STATUS_INVALID_ARG);
    cfg.n_levels = 2;
    cfg.perturb = NULL;
    CHECK(nns_sweep_run(g, &cfg, &t) == NNS_STATUS_INVALID_ARG);
    cfg.perturb = probe_perturb;
    cfg.n_units = -1;
    CHECK(nns_sweep_run(g, &cfg, &t) == NNS_STATUS_INVALID_ARG);
    CHECK(p.perturb_calls == 0 && p.eval_calls == 0);
    /* no units: only the baseline */
    cfg.n_units = 0;
    CHECK_OK(nns_sweep_run(g, &cfg, &t));
    CHECK(p.eval_calls == 1 && t.n_units == 0 && t.baseline == 1.0f);
    nns_sweep_table_free(&t);
    /* a unit that names no layer: magnitude pruning has nothing to prune */
    nns_sweep_unit bogus = {"relu9", "Relu", 10};
    cfg.units = &bogus;
    cfg.n_units = 1;
    p.inner_user = NULL;
    CHECK(nns_sweep_run(g, &cfg, &t) == NNS_STATUS_INVALID_ARG);
    free(units);
    nns_graph_free(g);
    nns_graph_free(ref);
}

/* The ready-made accuracy callback gives nns_evaluate's accuracy. */
static void test_sweep_eval_accuracy(void) {
    nns_graph *g;
    CHECK_OK(nns_arch_build("lenet300", 2, &g));
    nns_dataset d;
    make_data(&d, 96, 7);
    nns_eval_result er;
    CHECK_OK(nns_evaluate(g, &d, 32, &er));
    nns_sweep_eval_data ed = {&d, 32};
    nns_sweep_unit *units = NULL;
    int nu = 0;
    CHECK_OK(nns_prune_sweep_units(g, 0, &units, &nu));
    CHECK(nu == 3);
    const float levels[1] = {0.5f};
    nns_sweep_config cfg = {units, nu, levels, 1, nns_prune_perturb_layer, NULL, nns_sweep_eval_accuracy, &ed,
                            NULL, NULL};
    nns_sweep_table t;
    CHECK_OK(nns_sweep_run(g, &cfg, &t));
    CHECK(t.baseline == er.accuracy);
    CHECK(t.score[0] >= 0 && t.score[0] <= 1);
    nns_eval_result_free(&er);
    nns_sweep_table_free(&t);
    free(units);
    nns_dataset_free(&d);
    nns_graph_free(g);
}

/* ---- allocation --------------------------------------------------------- */

static void test_allocate(void) {
    nns_sweep_unit u[3] = {{"a", "Conv", 100}, {"b", "Gemm", 300}, {"c", "Gemm", 0}};
    float levels[3] = {0.25f, 0.5f, 0.75f};
    float score[9] = {0.90f, 0.88f, 0.80f, /* a */
                      0.89f, 0.85f, 0.70f, /* b */
                      0.10f, 0.10f, 0.10f}; /* c: size 0 */
    unsigned char applied[9] = {1, 1, 1, 1, 1, 1, 0, 0, 0};
    nns_sweep_table t = {3, 3, u, levels, 0.90f, score, applied};
    CHECK_NEAR(nns_sweep_level_for_drop(&t, 0, 0.0f), 0.25, 0);
    CHECK_NEAR(nns_sweep_level_for_drop(&t, 0, 0.01f), 0.375, 1e-5);   /* halfway to 0.88 */
    CHECK_NEAR(nns_sweep_level_for_drop(&t, 0, 0.2f), 0.75, 0);        /* every level */
    CHECK_NEAR(nns_sweep_level_for_drop(&t, 1, 0.005f), 0.125, 1e-5);  /* from (0, baseline) */
    CHECK_NEAR(nns_sweep_level_for_drop(&t, 1, 0.03f), 0.375, 1e-5);   /* halfway to 0.85 */
    float out[3] = {-1, -1, -1}, drop = -1;
    CHECK_OK(nns_sweep_allocate(&t, 0.5f, out, &drop));
    double rem = 100 * out[0] + 300 * out[1];
    CHECK(rem >= 0.5 * 400 - 1e-3);
    CHECK(out[2] == 0);
    CHECK(drop > 0 && drop < 0.2f);
    /* the drop is the smallest that reaches the target */
    double rem_less = 100 * nns_sweep_level_for_drop(&t, 0, drop - 1e-4f) + 300 * nns_sweep_level_for_drop(&t, 1, drop - 1e-4f);
    CHECK(rem_less < 0.5 * 400);
    CHECK_NEAR(out[0], nns_sweep_level_for_drop(&t, 0, drop), 0);
    /* out of reach, out of range */
    CHECK(nns_sweep_allocate(&t, 0.8f, out, &drop) == NNS_STATUS_INVALID_ARG);
    CHECK(strstr(nns_last_error(), "cannot be reached with levels up to 0.75") != NULL);
    CHECK(nns_sweep_allocate(&t, 1.0f, out, &drop) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_sweep_allocate(&t, 0.0f, out, NULL) == NNS_STATUS_INVALID_ARG);
}

/* ---- per-layer magnitude pruning ------------------------------------------ */

static void test_per_layer(void) {
    nns_graph *g;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    const char *names[2] = {"fc2", "fc1"};
    const float ratios[2] = {0.8f, 0.5f};
    CHECK_OK(nns_prune_magnitude_per_layer(g, names, ratios, 2, NULL));
    int64_t n, z = weight_zeros(g, "fc1", &n);
    CHECK(z == llround(0.5 * n));
    z = weight_zeros(g, "fc2", &n);
    CHECK(z == llround(0.8 * n));
    CHECK(weight_zeros(g, "fc3", &n) == 0);
    /* an exclusion wins over a ratio; a name that is no layer is an error */
    const char *ex_names[1] = {"fc3"};
    nns_prune_exclude ex = {ex_names, 1};
    const char *n3[1] = {"fc3"};
    CHECK(nns_prune_magnitude_per_layer(g, n3, ratios, 1, &ex) == NNS_STATUS_INVALID_ARG);
    const char *n9[1] = {"fc9"};
    CHECK(nns_prune_magnitude_per_layer(g, n9, ratios, 1, NULL) == NNS_STATUS_INVALID_ARG);
    CHECK(weight_zeros(g, "fc3", &n) == 0);
    nns_graph_free(g);
}

/* ---- schedules ---------------------------------------------------------- */

typedef struct ft_probe {
    nns_prune_finetune_data data;
    int calls, hooked, fail_at;
    int epochs[8];
    float sparsity[8];      /* at the call's start: what the round pruned to */
    float round_target[8];  /* from on_round */
    int rounds_seen;
    float *mask_round1;     /* the masks after round 1 */
    int64_t n_params;
    int masks_kept;
} ft_probe;

static nns_status ft_probe_run(void *user, nns_graph *g, int epochs, nns_prune_step_hook_fn hook, void *hook_user) {
    ft_probe *f = user;
    if (f->calls < 8) {
        f->epochs[f->calls] = epochs;
        f->sparsity[f->calls] = nns_prune_sparsity(g);
    }
    f->calls++;
    f->hooked += hook != NULL;
    if (f->calls == 1 && g->masks) {
        f->n_params = g->n_params;
        f->mask_round1 = malloc((size_t)g->n_params * sizeof(float));
        memcpy(f->mask_round1, g->masks, (size_t)g->n_params * sizeof(float));
    } else if (f->mask_round1) {
        for (int64_t i = 0; i < f->n_params; i++)
            if (f->mask_round1[i] == 0.0f && (g->masks[i] != 0.0f || g->params[i] != 0.0f)) f->masks_kept = 0;
    }
    if (f->calls == f->fail_at) return nns_error(NNS_STATUS_IO, "fine-tuning boom");
    return nns_prune_finetune_train(&f->data, g, epochs, hook, hook_user);
}

static void ft_on_round(void *user, int round, int rounds, float target) {
    ft_probe *f = user;
    if (round >= 1 && round <= 8) f->round_target[round - 1] = target;
    f->rounds_seen = rounds;
}

static void test_schedule(void) {
    nns_dataset tr;
    make_data(&tr, 256, 11);
    nns_train_config c;
    nns_train_config_default(&c);
    c.batch_size = 64;
    c.threads = 2;
    c.lr = 0.03f;
    nns_train_result res;
    memset(&res, 0, sizeof res);

    /* iterative: 3 rounds to 0.9, 4 epochs -> targets 0.633, 0.867, 0.9; epochs 1, 1, 2 */
    nns_prune_schedule s;
    nns_prune_schedule_default(&s);
    CHECK(s.kind == NNS_PRUNE_SCHEDULE_ONESHOT && s.rounds == 3 && s.finetune_epochs == 2 && !s.finetune);
    s.kind = NNS_PRUNE_SCHEDULE_ITERATIVE;
    s.sparsity = 0.9f;
    s.finetune_epochs = 4;
    ft_probe f;
    memset(&f, 0, sizeof f);
    f.data = (nns_prune_finetune_data){&tr, NULL, &c, &res};
    f.masks_kept = 1;
    s.finetune = ft_probe_run;
    s.finetune_user = &f;
    s.on_round = ft_on_round;
    s.on_round_user = &f;
    CHECK_NEAR(nns_prune_schedule_target(&s, 1), 0.9 * (1 - 8.0 / 27), 1e-6);
    CHECK_NEAR(nns_prune_schedule_target(&s, 2), 0.9 * (1 - 1.0 / 27), 1e-6);
    CHECK_NEAR(nns_prune_schedule_target(&s, 3), 0.9, 1e-7);
    CHECK(nns_prune_schedule_epochs(&s, 1) == 1 && nns_prune_schedule_epochs(&s, 2) == 1 &&
          nns_prune_schedule_epochs(&s, 3) == 2);
    nns_graph *g;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    CHECK_OK(nns_prune_schedule_run(g, &s));
    CHECK(f.calls == 3 && f.hooked == 0 && f.rounds_seen == 3);
    for (int k = 1; k <= 3; k++) {
        CHECK_NEAR(f.round_target[k - 1], nns_prune_schedule_target(&s, k), 0);
        CHECK_NEAR(f.sparsity[k - 1], nns_prune_schedule_target(&s, k), 1e-5); /* the round hit its target */
        CHECK(f.epochs[k - 1] == nns_prune_schedule_epochs(&s, k));
    }
    CHECK(f.masks_kept); /* what round 1 pruned stayed pruned */
    CHECK(res.epochs == 2);
    CHECK_NEAR(nns_prune_sparsity(g), 0.9, 1e-5);
    free(f.mask_round1);
    nns_graph_free(g);

    /* a failing fine-tuning stops the schedule after round 2's pruning */
    memset(&f, 0, sizeof f);
    f.data = (nns_prune_finetune_data){&tr, NULL, &c, NULL};
    f.masks_kept = 1;
    f.fail_at = 2;
    s.finetune_epochs = 3;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    CHECK(nns_prune_schedule_run(g, &s) == NNS_STATUS_IO);
    CHECK(!strcmp(nns_last_error(), "fine-tuning boom"));
    CHECK(f.calls == 2);
    CHECK_NEAR(nns_prune_sparsity(g), nns_prune_schedule_target(&s, 2), 1e-5);
    free(f.mask_round1);
    nns_graph_free(g);

    /* oneshot with per-layer ratios, no fine-tuning and no callback */
    nns_prune_schedule_default(&s);
    s.finetune_epochs = 0;
    const char *names[2] = {"fc1", "fc2"};
    const float ratios[2] = {0.5f, 0.8f};
    s.layer_names = names;
    s.layer_ratios = ratios;
    s.n_layer_ratios = 2;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    CHECK_OK(nns_prune_schedule_run(g, &s));
    int64_t n, z = weight_zeros(g, "fc1", &n);
    CHECK(z == llround(0.5 * n));
    z = weight_zeros(g, "fc2", &n);
    CHECK(z == llround(0.8 * n));
    CHECK(weight_zeros(g, "fc3", &n) == 0);
    nns_graph_free(g);

    /* gradual: pruned through the step hook during 1 epoch, exactly the target at the end */
    nns_prune_schedule_default(&s);
    s.kind = NNS_PRUNE_SCHEDULE_GRADUAL;
    s.sparsity = 0.7f;
    s.scope = NNS_PRUNE_SCOPE_LAYER;
    s.finetune_epochs = 1;
    memset(&f, 0, sizeof f);
    f.data = (nns_prune_finetune_data){&tr, NULL, &c, NULL};
    f.masks_kept = 1;
    s.finetune = ft_probe_run;
    s.finetune_user = &f;
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    CHECK_OK(nns_prune_schedule_run(g, &s));
    CHECK(f.calls == 1 && f.hooked == 1 && f.epochs[0] == 1 && f.sparsity[0] == 0.0f);
    z = weight_zeros(g, "fc1", &n);
    CHECK(z == llround(0.7 * n));
    z = weight_zeros(g, "fc3", &n);
    CHECK(z == llround(0.7 * n));
    free(f.mask_round1);
    nns_graph_free(g);

    /* bad schedules: g unchanged */
    CHECK_OK(nns_arch_build("lenet300", 1, &g));
    nns_prune_schedule_default(&s);
    s.finetune_epochs = 0;
    s.kind = NNS_PRUNE_SCHEDULE_ITERATIVE;
    s.rounds = 0;
    CHECK(nns_prune_schedule_run(g, &s) == NNS_STATUS_INVALID_ARG);
    s.rounds = 3;
    s.n_layer_ratios = 2;
    s.layer_names = names;
    s.layer_ratios = ratios;
    CHECK(nns_prune_schedule_run(g, &s) == NNS_STATUS_INVALID_ARG);
    s.n_layer_ratios = 0;
    s.kind = NNS_PRUNE_SCHEDULE_GRADUAL;
    CHECK(nns_prune_schedule_run(g, &s) == NNS_STATUS_INVALID_ARG); /* no fine-tuning */
    s.kind = NNS_PRUNE_SCHEDULE_ONESHOT;
    s.finetune_epochs = 2; /* without a callback */
    CHECK(nns_prune_schedule_run(g, &s) == NNS_STATUS_INVALID_ARG);
    s.kind = (nns_prune_schedule_kind)7;
    CHECK(nns_prune_schedule_run(g, &s) == NNS_STATUS_INVALID_ARG);
    s.kind = NNS_PRUNE_SCHEDULE_ONESHOT;
    s.finetune_epochs = 0;
    s.sparsity = 1.0f;
    CHECK(nns_prune_schedule_run(g, &s) == NNS_STATUS_INVALID_ARG);
    CHECK(nns_prune_sparsity(g) == 0.0f && g->masks == NULL);
    nns_graph_free(g);
    nns_dataset_free(&tr);
}

int main(void) {
    test_sweep_magnitude();
    test_sweep_channels();
    test_sweep_failures();
    test_sweep_eval_accuracy();
    test_allocate();
    test_per_layer();
    test_schedule();
    TEST_MAIN_END();
}
