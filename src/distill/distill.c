/* distill.c — the distillation loss, the distiller (teacher plan, logit
 * cache, hint adapters) and the all-in-one nns_distill. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph_impl.h"
#include "core/rng.h"
#include "nnslim/distill.h"
#include "ops/op.h"
#include "runtime/plan.h"

void nns_distill_config_default(nns_distill_config *c) {
    memset(c, 0, sizeof *c);
    c->temperature = 1.0f;
    c->alpha = 0.5f;
    c->gain_limit = 1.5f;
    c->cache = 1;
    c->seed = 1;
}

/* log-softmax of z / T into out (k entries); returns nothing. */
static void log_softmax_t(const float *z, int k, float inv_t, float *out) {
    float m = z[0] * inv_t;
    for (int j = 1; j < k; j++) if (z[j] * inv_t > m) m = z[j] * inv_t;
    double s = 0;
    for (int j = 0; j < k; j++) s += exp((double)(z[j] * inv_t - m));
    float lse = m + (float)log(s);
    for (int j = 0; j < k; j++) out[j] = z[j] * inv_t - lse;
}

/* The loss with caller-provided scratch of 3 * k floats. */
static float distill_loss(const float *zs, const float *zt, const int32_t *y, int n, int k, float temperature,
                          float alpha, float *dzs, float *kl_out, float *ce_out, float *scratch) {
    float inv_t = 1.0f / temperature;
    double kl_sum = 0, ce_sum = 0;
    float *lst = scratch, *ltt = scratch + k, *ls1 = scratch + 2 * k;
    float soft_w = alpha * temperature * temperature;
    for (int i = 0; i < n; i++) {
        const float *s = zs + (int64_t)i * k, *t = zt + (int64_t)i * k;
        log_softmax_t(s, k, inv_t, lst);
        log_softmax_t(t, k, inv_t, ltt);
        log_softmax_t(s, k, 1.0f, ls1);
        double kl = 0;
        for (int j = 0; j < k; j++) {
            float pt = expf(ltt[j]);
            if (pt > 0) kl += (double)pt * (double)(ltt[j] - lst[j]);
        }
        kl_sum += kl;
        ce_sum += -(double)ls1[y[i]];
        if (dzs) {
            float *d = dzs + (int64_t)i * k;
            /* d/dzs of T^2 KL = T (p_s^T - p_t^T); of CE: p_s - onehot */
            for (int j = 0; j < k; j++) {
                float soft = temperature * (expf(lst[j]) - expf(ltt[j]));
                float hard = expf(ls1[j]) - (j == y[i] ? 1.0f : 0.0f);
                d[j] = (alpha * soft + (1.0f - alpha) * hard) / (float)n;
            }
        }
    }
    float kl = (float)(kl_sum / n), ce = (float)(ce_sum / n);
    if (kl_out) *kl_out = kl;
    if (ce_out) *ce_out = ce;
    return soft_w * kl + (1.0f - alpha) * ce;
}

float nns_distill_loss(const float *zs, const float *zt, const int32_t *y, int n, int k,
                       float temperature, float alpha, float *dzs, float *kl_out, float *ce_out) {
    float stack[3 * 64];
    float *scratch = k <= 64 ? stack : malloc((size_t)k * 3 * sizeof(float));
    if (!scratch) {
        if (kl_out) *kl_out = NAN;
        if (ce_out) *ce_out = NAN;
        return NAN;
    }
    float l = distill_loss(zs, zt, y, n, k, temperature, alpha, dzs, kl_out, ce_out, scratch);
    if (scratch != stack) free(scratch);
    return l;
}

typedef struct hint_rt {
    int teacher_value;  /* in the teacher clone                       */
    int teacher_output; /* index among the teacher clone's outputs    */
    int64_t per;        /* elements per sample                        */
    float beta;
    const float *ft;    /* this batch's teacher map: the plan's output,
                           or zf when it came from the cache           */
    float *zf;          /* [max_batch, per] when cached, else NULL    */
    float *cache;       /* [n_train, per] when cached, else NULL      */
} hint_rt;

struct nns_distiller {
    nns_graph *teacher;   /* clone, hint layers added as outputs        */
    nns_plan *plan;
    float T, alpha, scale;
    int classes;
    int64_t in_per;
    int n_hints;
    hint_rt *hints;
    int student_outputs;  /* the student's outputs before hints        */
    int finished;
    /* cache */
    int cache;
    int64_t n_train;
    float *cache_logits;  /* [n_train, classes]                         */
                          /* (hint maps: hints[h].cache)                */
    unsigned char *have;  /* [n_train]                                  */
    float *zt;            /* [max_batch, classes] staging               */
    float *scratch;       /* [3 * classes] for the loss                 */
    int max_batch;
    nns_distill_stats stats;
};

/* The penultimate features: the data input of the layer (Gemm, MatMul or
 * Conv) that produces output 0, traced back through Dropout and Identity.
 * Returns the value index or -1. */
static int penultimate(const nns_graph *g) {
    if (g->n_outputs < 1) return -1;
    int p = g->values[g->outputs[0]].producer;
    if (p < 0) return -1;
    const nns_op_def *def = nns_op_def_of(&g->nodes[p]);
    if (!def || !def->weight_axes) return -1; /* Conv, Gemm, MatMul */
    int v = g->nodes[p].n_in > 0 ? g->nodes[p].in[0] : -1;
    while (v >= 0 && g->values[v].producer >= 0) {
        const nns_node *q = &g->nodes[g->values[v].producer];
        if ((q->op != NNS_OP_DROPOUT && q->op != NNS_OP_IDENTITY) || q->n_in < 1) break;
        v = q->in[0];
    }
    return v >= 0 && g->values[v].producer >= 0 ? v : -1;
}

/* Resolve a layer name: a node's first output, else a value produced by a
 * node, else for "auto" the penultimate features. Returns the value index or
 * -1. */
static int resolve_layer(const nns_graph *g, const char *name) {
    int nd = nns_graph_find_node(g, name);
    if (nd >= 0 && g->nodes[nd].n_out > 0) return g->nodes[nd].out[0];
    int v = nns_graph_find_value(g, name);
    if (v >= 0 && g->values[v].producer >= 0) return v;
    if (!strcmp(name, NNS_DISTILL_HINT_AUTO)) return penultimate(g);
    return -1;
}

/* The error for a hint layer that does not resolve. */
static nns_status no_layer(const nns_graph *g, const char *who, const char *name) {
    if (strcmp(name, NNS_DISTILL_HINT_AUTO))
        return nns_error(NNS_STATUS_INVALID_ARG, "hint: the %s has no layer '%s'", who, name);
    const char *out = g->n_outputs > 0 ? g->values[g->outputs[0]].name : "?";
    return nns_error(NNS_STATUS_INVALID_ARG,
                     "hint auto: the %s's output '%s' is not computed by a Gemm, MatMul or Conv from a layer's "
                     "output; name the %s's layer instead", who, out, who);
}

static int64_t per_sample(const nns_shape *s) {
    int64_t p = 1;
    for (int i = 1; i < s->ndim; i++) p *= s->dims[i];
    return p;
}

/* Swap two graphs' contents (so a modified clone replaces the original in
 * place, for all-or-nothing edits). */
static void graph_swap(nns_graph *a, nns_graph *b) {
    nns_graph t = *a;
    *a = *b;
    *b = t;
}

static int output_index(const nns_graph *g, int value) {
    for (int i = 0; i < g->n_outputs; i++) if (g->outputs[i] == value) return i;
    return -1;
}

/* Add a 1x1 Conv (rank 4) or Gemm (rank 2) adapter, or an Identity when
 * the channel counts agree, from student value sv to a new output. */
static nns_status add_adapter(nns_graph *g, int sv, int64_t cs, int64_t ct, int rank, int h,
                              uint64_t *rng, int *n_adapters, int64_t *adapter_params) {
    char name[64], wname[80], bname[80], oname[80];
    snprintf(name, sizeof name, NNS_DISTILL_ADAPTER_PREFIX "%d_adapter", h);
    snprintf(wname, sizeof wname, "%s.weight", name);
    snprintf(bname, sizeof bname, "%s.bias", name);
    snprintf(oname, sizeof oname, "nnslim_hint%d", h);
    const char *in_name = g->values[sv].name;
    nns_status st;
    int node;
    if (cs == ct) {
        const char *ins[1] = {in_name};
        const char *outs[1] = {oname};
        if ((st = nns_graph_add_node(g, "Identity", name, 1, ins, 1, outs, &node))) return st;
        g->nodes[node].aux = 1; /* not part of the student: never pruned */
        return nns_graph_add_output(g, oname);
    }
    int64_t wd[4] = {ct, cs, 1, 1};
    nns_shape ws = nns_shape_make(rank == 4 ? 4 : 2, wd);
    nns_shape bs = nns_shape_make(1, &ct);
    float *w = malloc((size_t)(ct * cs) * sizeof(float));
    float *b = malloc((size_t)ct * sizeof(float));
    if (!w || !b) {
        free(w);
        free(b);
        return nns_error(NNS_STATUS_NOMEM, "out of memory for hint adapter '%s'", name);
    }
    float bound = 1.0f / sqrtf((float)cs);
    for (int64_t i = 0; i < ct * cs; i++) w[i] = (2.0f * nns_rng_uniform(rng) - 1.0f) * bound;
    for (int64_t i = 0; i < ct; i++) b[i] = (2.0f * nns_rng_uniform(rng) - 1.0f) * bound;
    st = nns_graph_add_param(g, wname, NNS_DTYPE_F32, &ws, w, 1, NULL);
    if (!st) st = nns_graph_add_param(g, bname, NNS_DTYPE_F32, &bs, b, 1, NULL);
    free(w);
    free(b);
    if (st) return st;
    const char *ins[3] = {in_name, wname, bname};
    const char *outs[1] = {oname};
    if ((st = nns_graph_add_node(g, rank == 4 ? "Conv" : "Gemm", name, 3, ins, 1, outs, &node))) return st;
    g->nodes[node].aux = 1; /* not part of the student: never pruned */
    if (rank == 4) {
        int64_t ks[2] = {1, 1};
        if ((st = nns_graph_set_attr_ints(g, node, "kernel_shape", 2, ks))) return st;
    } else {
        if ((st = nns_graph_set_attr_int(g, node, "transB", 1))) return st;
    }
    (*n_adapters)++;
    *adapter_params += ct * cs + ct;
    return nns_graph_add_output(g, oname);
}

static nns_status check_model(const nns_graph *g, const char *who) {
    if (g->n_inputs != 1 || g->n_outputs < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "the %s has %d inputs and %d outputs; distillation needs one input and one output",
                         who, g->n_inputs, g->n_outputs);
    const nns_value *o = &g->values[g->outputs[0]];
    if (o->shape.ndim != 2)
        return nns_error(NNS_STATUS_SHAPE, "the %s's output '%s' has rank %d; distillation needs [N, classes] logits",
                         who, o->name, o->shape.ndim);
    return NNS_OK;
}

static nns_status check_distill_config(const nns_distill_config *dc, int max_batch) {
    if (!(dc->temperature > 0) || !isfinite(dc->temperature))
        return nns_error(NNS_STATUS_INVALID_ARG, "--temperature must be > 0, not %g", dc->temperature);
    if (!(dc->alpha >= 0 && dc->alpha <= 1))
        return nns_error(NNS_STATUS_INVALID_ARG, "--alpha must be in [0, 1], not %g", dc->alpha);
    if (!(dc->gain_limit >= 0) || !isfinite(dc->gain_limit))
        return nns_error(NNS_STATUS_INVALID_ARG, "the distillation gain limit must be >= 0, not %g", dc->gain_limit);
    if (max_batch < 1) return nns_error(NNS_STATUS_INVALID_ARG, "batch size must be >= 1, not %d", max_batch);
    if (dc->n_hints < 0 || (dc->n_hints > 0 && !dc->hints))
        return nns_error(NNS_STATUS_INVALID_ARG, "%d hints given but no hint list", dc->n_hints);
    for (int h = 0; h < dc->n_hints; h++)
        if (!dc->hints[h].teacher_layer || !dc->hints[h].student_layer)
            return nns_error(NNS_STATUS_INVALID_ARG, "hint %d has no teacher or student layer name", h);
    return NNS_OK;
}

/* The teacher and the student take the same images and give as many
 * classes. */
static nns_status check_pair(const nns_graph *teacher, const nns_graph *student) {
    nns_status st;
    if ((st = check_model(teacher, "teacher")) || (st = check_model(student, "student"))) return st;
    const nns_value *ti = &teacher->values[teacher->inputs[0]], *si = &student->values[student->inputs[0]];
    char b1[96], b2[96];
    if (per_sample(&ti->shape) != per_sample(&si->shape))
        return nns_error(NNS_STATUS_SHAPE, "the teacher's input '%s' is %s but the student's input '%s' is %s",
                         ti->name, nns_shape_str(&ti->shape, b1, sizeof b1), si->name,
                         nns_shape_str(&si->shape, b2, sizeof b2));
    const nns_value *to = &teacher->values[teacher->outputs[0]], *so = &student->values[student->outputs[0]];
    if (to->shape.dims[1] != so->shape.dims[1])
        return nns_error(NNS_STATUS_SHAPE, "the teacher's output '%s' has %lld classes but the student's output '%s' has %lld",
                         to->name, (long long)to->shape.dims[1], so->name, (long long)so->shape.dims[1]);
    return NNS_OK;
}

/* Every hint's beta, layers and shapes, checked before anything changes. */
static nns_status check_hints(const nns_graph *teacher, const nns_graph *student, const nns_distill_config *dc) {
    char b1[96], b2[96];
    for (int h = 0; h < dc->n_hints; h++) {
        const nns_distill_hint *hn = &dc->hints[h];
        if (!(hn->beta > 0) || !isfinite(hn->beta))
            return nns_error(NNS_STATUS_INVALID_ARG, "hint %s:%s: beta must be > 0, not %g", hn->teacher_layer,
                             hn->student_layer, hn->beta);
        int tv = resolve_layer(teacher, hn->teacher_layer);
        if (tv < 0) return no_layer(teacher, "teacher", hn->teacher_layer);
        int sv = resolve_layer(student, hn->student_layer);
        if (sv < 0) return no_layer(student, "student", hn->student_layer);
        const nns_shape *ts = &teacher->values[tv].shape, *ss = &student->values[sv].shape;
        if (ts->ndim != ss->ndim || (ts->ndim != 4 && ts->ndim != 2))
            return nns_error(NNS_STATUS_SHAPE, "hint %s:%s: teacher feature %s and student feature %s must both be [N, C, H, W] or [N, F]",
                             hn->teacher_layer, hn->student_layer, nns_shape_str(ts, b1, sizeof b1),
                             nns_shape_str(ss, b2, sizeof b2));
        if (ts->ndim == 4 && (ts->dims[2] != ss->dims[2] || ts->dims[3] != ss->dims[3]))
            return nns_error(NNS_STATUS_SHAPE, "hint %s:%s: spatial sizes differ: teacher %s, student %s",
                             hn->teacher_layer, hn->student_layer, nns_shape_str(ts, b1, sizeof b1),
                             nns_shape_str(ss, b2, sizeof b2));
        if (ts->dims[1] < 1 || ss->dims[1] < 1)
            return nns_error(NNS_STATUS_SHAPE, "hint %s:%s: unknown channel count", hn->teacher_layer, hn->student_layer);
    }
    return NNS_OK;
}

int nns_distill_auto_hint_fits(const nns_graph *teacher, const nns_graph *student) {
    const nns_distill_hint h = {NNS_DISTILL_HINT_AUTO, NNS_DISTILL_HINT_AUTO, 1.0f};
    nns_distill_config dc;
    nns_distill_config_default(&dc);
    dc.hints = &h;
    dc.n_hints = 1;
    const int ok = check_hints(teacher, student, &dc) == NNS_OK;
    nns_error_clear();
    return ok;
}

/* The hints: each teacher layer an output of d's teacher clone, each
 * student layer an adapter to a new output of *sc, a finalized clone of
 * the student (the caller frees *sc, even on failure). */
static nns_status add_hints(nns_distiller *d, const nns_graph *student, const nns_distill_config *dc,
                            nns_graph **sc) {
    nns_status st;
    d->hints = calloc((size_t)dc->n_hints, sizeof *d->hints);
    if (!d->hints) return nns_error(NNS_STATUS_NOMEM, "out of memory for hints");
    d->n_hints = dc->n_hints;
    if ((st = nns_graph_clone(student, sc))) return st;
    nns_graph *s = *sc;
    uint64_t rng = dc->seed * 0x9E3779B97F4A7C15ull + 0x5151;
    for (int h = 0; h < dc->n_hints; h++) {
        const nns_distill_hint *hn = &dc->hints[h];
        int tv = resolve_layer(d->teacher, hn->teacher_layer);
        int sv = resolve_layer(s, hn->student_layer);
        const nns_shape *ts = &d->teacher->values[tv].shape, *ss = &s->values[sv].shape;
        int oi = output_index(d->teacher, tv);
        if (oi < 0) {
            if ((st = nns_graph_add_output(d->teacher, d->teacher->values[tv].name))) return st;
            oi = d->teacher->n_outputs - 1;
        }
        d->hints[h].teacher_value = tv;
        d->hints[h].teacher_output = oi;
        d->hints[h].per = per_sample(ts);
        d->hints[h].beta = hn->beta;
        if ((st = add_adapter(s, sv, ss->dims[1], ts->dims[1], ts->ndim, h, &rng, &d->stats.n_adapters,
                              &d->stats.adapter_params)))
            return st;
    }
    if ((st = nns_graph_finalize(s)) || (st = nns_graph_pack_params(s))) return st;
    return NNS_OK;
}

/* The teacher's logits and hint maps per training image, if they fit and
 * can be allocated; else d->cache is 0 (the teacher runs every step). */
static void alloc_cache(nns_distiller *d) {
    int64_t n_train = d->n_train;
    int64_t cache_per = d->classes; /* floats cached per training image */
    for (int h = 0; h < d->n_hints; h++) cache_per += d->hints[h].per;
    if (d->cache && (double)n_train * (double)cache_per * sizeof(float) > NNS_DISTILL_CACHE_MAX_BYTES)
        d->cache = 0; /* hint maps too large: run the teacher every step */
    if (!d->cache) return;
    int ok = 1;
    d->cache_logits = malloc((size_t)n_train * (size_t)d->classes * sizeof(float));
    d->have = calloc((size_t)n_train, 1);
    ok = d->cache_logits && d->have;
    for (int h = 0; h < d->n_hints && ok; h++) {
        d->hints[h].cache = malloc((size_t)n_train * (size_t)d->hints[h].per * sizeof(float));
        d->hints[h].zf = malloc((size_t)d->max_batch * (size_t)d->hints[h].per * sizeof(float));
        ok = d->hints[h].cache && d->hints[h].zf;
    }
    if (ok) return;
    /* no cache: run the teacher every step */
    free(d->cache_logits);
    free(d->have);
    d->cache_logits = NULL;
    d->have = NULL;
    for (int h = 0; h < d->n_hints; h++) {
        free(d->hints[h].cache);
        free(d->hints[h].zf);
        d->hints[h].cache = d->hints[h].zf = NULL;
    }
    d->cache = 0;
}

nns_status nns_distiller_create(const nns_graph *teacher, nns_graph *student,
                                const nns_distill_config *dc, int64_t n_train, int max_batch,
                                nns_distiller **out) {
    *out = NULL;
    nns_status st;
    if ((st = check_distill_config(dc, max_batch)) || (st = check_pair(teacher, student)) ||
        (st = check_hints(teacher, student, dc)))
        return st;

    nns_distiller *d = calloc(1, sizeof *d);
    nns_graph *sc = NULL;
    if (!d) return nns_error(NNS_STATUS_NOMEM, "out of memory for a distiller");
    d->T = dc->temperature;
    d->alpha = dc->alpha;
    float gain = dc->alpha * dc->temperature + (1.0f - dc->alpha);
    d->scale = (dc->gain_limit > 0 && gain > dc->gain_limit) ? dc->gain_limit / gain : 1.0f;
    d->classes = (int)student->values[student->outputs[0]].shape.dims[1];
    d->in_per = per_sample(&student->values[student->inputs[0]].shape);
    d->max_batch = max_batch;
    d->student_outputs = student->n_outputs;
    d->n_train = n_train;
    d->cache = dc->cache && n_train > 0;
    if ((st = nns_graph_clone(teacher, &d->teacher))) goto fail;
    if (dc->n_hints > 0 && (st = add_hints(d, student, dc, &sc))) goto fail;
    if ((st = nns_graph_finalize(d->teacher)) || (st = nns_graph_pack_params(d->teacher))) goto fail;
    if ((st = nns_plan_create(d->teacher, max_batch, NNS_PLAN_INFER_FUSED, NULL, &d->plan)) ||
        (st = nns_plan_check_f32_io(d->plan, "distillation's teacher")))
        goto fail;
    d->zt = malloc((size_t)max_batch * (size_t)d->classes * sizeof(float));
    d->scratch = malloc((size_t)d->classes * 3 * sizeof(float));
    if (!d->zt || !d->scratch) {
        st = nns_error(NNS_STATUS_NOMEM, "out of memory for teacher logits");
        goto fail;
    }
    alloc_cache(d);
    if (sc) {
        graph_swap(student, sc);
        nns_graph_free(sc);
    }
    *out = d;
    return NNS_OK;
fail:
    nns_graph_free(sc);
    nns_distiller_free(d);
    return st;
}

/* Teacher forward on x (n samples); logits into d->zt; each hint's ft points
 * at the plan's map. */
static void teacher_forward(nns_distiller *d, const float *x, int n) {
    nns_plan_set_batch(d->plan, n);
    memcpy(nns_tv_f32(nns_plan_input(d->plan, 0)), x, (size_t)n * (size_t)d->in_per * sizeof(float));
    nns_plan_forward(d->plan, 0);
    memcpy(d->zt, nns_tv_f32(nns_plan_output(d->plan, 0)), (size_t)n * (size_t)d->classes * sizeof(float));
    for (int h = 0; h < d->n_hints; h++)
        d->hints[h].ft = nns_tv_f32(nns_plan_output(d->plan, d->hints[h].teacher_output));
    d->stats.teacher_images += n;
}

static nns_status kd_loss_hook(void *user, const float *logits, float *dlogits, const int32_t *y,
                               const int64_t *idx, int n, int classes, const float *x, int augmented,
                               float *loss) {
    nns_distiller *d = user;
    if (classes != d->classes || n > d->max_batch)
        return nns_error(NNS_STATUS_INTERNAL, "distiller: batch of %d x %d, expected <= %d x %d", n, classes,
                         d->max_batch, d->classes);
    int use_cache = d->cache && !augmented && idx;
    int all = use_cache;
    if (use_cache)
        for (int i = 0; i < n && all; i++) all = idx[i] >= 0 && idx[i] < d->n_train && d->have[idx[i]];
    if (all) {
        for (int i = 0; i < n; i++) {
            memcpy(d->zt + (int64_t)i * classes, d->cache_logits + idx[i] * classes, (size_t)classes * sizeof(float));
            for (int h = 0; h < d->n_hints; h++) {
                int64_t p = d->hints[h].per;
                memcpy(d->hints[h].zf + i * p, d->hints[h].cache + idx[i] * p, (size_t)p * sizeof(float));
            }
        }
        for (int h = 0; h < d->n_hints; h++) d->hints[h].ft = d->hints[h].zf;
        d->stats.cached_images += n;
    } else {
        teacher_forward(d, x, n);
        if (use_cache)
            for (int i = 0; i < n; i++) {
                if (idx[i] < 0 || idx[i] >= d->n_train) continue;
                memcpy(d->cache_logits + idx[i] * classes, d->zt + (int64_t)i * classes, (size_t)classes * sizeof(float));
                for (int h = 0; h < d->n_hints; h++) {
                    int64_t p = d->hints[h].per;
                    memcpy(d->hints[h].cache + idx[i] * p, d->hints[h].ft + i * p, (size_t)p * sizeof(float));
                }
                d->have[idx[i]] = 1;
            }
    }
    float kl, ce;
    float l = distill_loss(logits, d->zt, y, n, classes, d->T, d->alpha, dlogits, &kl, &ce, d->scratch);
    if (d->scale != 1.0f)
        for (int64_t e = 0; e < (int64_t)n * classes; e++) dlogits[e] *= d->scale;
    d->stats.last_kl = kl;
    d->stats.last_ce = ce;
    *loss = l;
    return NNS_OK;
}

static nns_status hint_loss_hook(void *user, int n_aux, const float *const *out, float *const *grad,
                                 const int64_t *per, int n, float *loss) {
    nns_distiller *d = user;
    double total = 0;
    for (int h = 0; h < d->n_hints; h++) {
        int a = d->student_outputs - 1 + h; /* aux index of this hint's output */
        if (a >= n_aux || per[a] != d->hints[h].per)
            return nns_error(NNS_STATUS_INTERNAL, "distiller: hint %d output has %lld elements per sample, expected %lld",
                             h, a < n_aux ? (long long)per[a] : -1LL, (long long)d->hints[h].per);
        const float *ft = d->hints[h].ft;
        const float *fs = out[a];
        float *gs = grad[a];
        int64_t m = (int64_t)n * d->hints[h].per;
        /* relative MSE: divided by the teacher map's mean square on this
         * batch, so that beta means the same whatever the features' scale */
        double tt = 0;
        for (int64_t e = 0; e < m; e++) tt += (double)ft[e] * ft[e];
        double norm = tt / (double)m + 1e-8;
        float c = (float)(2.0 * d->hints[h].beta / ((double)m * norm)) * d->scale;
        double ss = 0;
        for (int64_t e = 0; e < m; e++) {
            float diff = fs[e] - ft[e];
            ss += (double)diff * diff;
            gs[e] = c * diff;
        }
        total += d->hints[h].beta * ss / ((double)m * norm);
    }
    d->stats.last_hint = (float)total;
    *loss = (float)total;
    return NNS_OK;
}

void nns_distiller_attach(nns_distiller *d, nns_train_config *cfg) {
    cfg->loss = kd_loss_hook;
    cfg->loss_user = d;
    if (d->n_hints > 0) {
        cfg->aux_loss = hint_loss_hook;
        cfg->aux_loss_user = d;
    }
}

nns_status nns_distiller_finish(nns_distiller *d, nns_graph *student) {
    if (!d || d->finished || d->n_hints == 0) {
        if (d) d->finished = 1;
        return NNS_OK;
    }
    /* all or nothing: edit a clone, so that a failure (out of memory) leaves
     * the student as it trained, adapters included, still a valid graph */
    nns_graph *c = NULL;
    nns_status st = nns_graph_clone(student, &c);
    if (!st) {
        if (c->n_outputs > d->student_outputs) c->n_outputs = d->student_outputs;
        st = nns_graph_prune_dead(c);
    }
    if (!st) st = nns_graph_finalize(c);
    if (!st) {
        graph_swap(student, c);
        d->finished = 1;
    }
    nns_graph_free(c);
    return st;
}

void nns_distiller_stats(const nns_distiller *d, nns_distill_stats *s) { *s = d->stats; }

void nns_distiller_free(nns_distiller *d) {
    if (!d) return;
    nns_plan_free(d->plan);
    nns_graph_free(d->teacher);
    for (int h = 0; d->hints && h < d->n_hints; h++) {
        free(d->hints[h].zf);
        free(d->hints[h].cache);
    }
    free(d->hints);
    free(d->cache_logits);
    free(d->have);
    free(d->zt);
    free(d->scratch);
    free(d);
}

nns_status nns_distill(const nns_graph *teacher, nns_graph *student, const nns_dataset *train,
                       const nns_dataset *val, const nns_train_config *cfg,
                       const nns_distill_config *dc, nns_train_result *res) {
    nns_distiller *d = NULL;
    nns_status st = nns_check_data(student, train);
    if (!st) st = nns_check_data(teacher, train);
    if (st) return st;
    /* all or nothing: train a clone (adapters are added to it and removed
     * again), so that a failure leaves the student exactly as given */
    nns_graph *w = NULL;
    if ((st = nns_graph_clone(student, &w))) return st;
    st = nns_distiller_create(teacher, w, dc, train->n, cfg->batch_size > 0 ? cfg->batch_size : 128, &d);
    if (!st) {
        nns_train_config c = *cfg;
        nns_distiller_attach(d, &c);
        st = nns_train(w, train, val, &c, res);
        if (!st) st = nns_distiller_finish(d, w);
    }
    nns_distiller_free(d);
    if (!st) graph_swap(student, w);
    nns_graph_free(w);
    return st;
}
