/* session.c — inference sessions on top of execution plans.
 *
 * A session treats dim 0 of its input and first output as the batch: it
 * runs n samples in chunks of at most max_batch and cuts the arrays into
 * per-sample rows. A model for which that would give arrays of the wrong
 * shape (an output whose dim 0 is not the batch: Transpose moving dim 0,
 * Flatten with an axis other than 1, ...) is refused at creation, naming the
 * node; such models still run at their own fixed batch through a plan
 * (src/runtime/plan.h), as tests/test_conformance.c does. A model whose
 * input has a fixed dim 0 gets at most that as max_batch. */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <omp.h>

#include "core/checked.h"
#include "nnslim/runtime.h"
#include "runtime/plan.h"

struct nns_session {
    nns_graph *g;
    nns_graph *owned; /* g's copy with constant DequantizeLinear folded, or NULL */
    nns_plan *plan;   /* lane 0: owns the packs; runs alone, on every thread, what one lane holds */
    nns_plan **lane;  /* n_lanes plans of lane_batch samples; lane[0] = plan; lanes > 0 share its packs */
    int n_lanes;
    int64_t max_batch, lane_batch;
    int64_t in_size, out_size;
    nns_shape out_shape; /* per sample, dims[0] unused */
};

/* Describe node n's axis-moving attribute ("perm" or "axis") into buf. */
static void describe_attr(const nns_node *n, char *buf, size_t len) {
    const nns_attr *a = nns_node_attr(n, "perm");
    if (!a) a = nns_node_attr(n, "axis");
    buf[0] = 0;
    if (!a) return;
    size_t k = (size_t)snprintf(buf, len, ", attribute '%s' = ", a->name);
    if (a->type == NNS_ATTR_TYPE_INT) {
        snprintf(buf + k, k < len ? len - k : 0, "%lld", (long long)a->i);
        return;
    }
    if (a->type != NNS_ATTR_TYPE_INTS || !a->ints) {
        buf[0] = 0; /* a malformed attribute of another type: say nothing of it */
        return;
    }
    for (int i = 0; i < a->n && k < len; i++)
        k += (size_t)snprintf(buf + k, len - k, "%s%lld%s", i ? "," : "[", (long long)a->ints[i], i + 1 < a->n ? "" : "]");
}

/* The first node that turns batch-first inputs (dim 0 = b) into an output
 * whose dim 0 is not b, or the producer of value v. */
static const nns_node *batch_culprit(nns_plan *p, const nns_graph *g, int64_t b, int v) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        int batch_in = 0;
        for (int j = 0; j < n->n_in; j++) {
            if (n->in[j] < 0) continue;
            const nns_value *val = &g->values[n->in[j]];
            const nns_shape *s = &nns_plan_tv(p, n->in[j])->shape;
            if ((val->kind == NNS_VALUE_KIND_INPUT || val->kind == NNS_VALUE_KIND_ACT) && s->ndim >= 1 &&
                s->dims[0] == b)
                batch_in = 1;
        }
        const nns_shape *o = &nns_plan_tv(p, n->out[0])->shape;
        if (batch_in && (o->ndim < 1 || o->dims[0] != b)) return n;
    }
    const int pr = g->values[v].producer;
    return pr >= 0 ? &g->nodes[pr] : NULL;
}

/* A session cuts its input and output into samples along dim 0: refuse a
 * model whose first output, at batch b, does not have dim 0 = b and the
 * per-sample dims `rest` (NULL: not yet known) — such a model would
 * give arrays of the wrong shape. */
static nns_status check_batch_first(nns_plan *p, const nns_graph *g, int64_t b, const nns_shape *rest) {
    const nns_shape *o = &nns_plan_output(p, 0)->shape;
    int ok = o->ndim >= 1 && o->dims[0] == b;
    if (ok && rest) {
        nns_shape a = *o, r = *rest;
        a.dims[0] = r.dims[0] = 0;
        ok = nns_shape_eq(&a, &r);
    }
    if (ok) return NNS_OK;
    const int v = g->outputs[0];
    const nns_node *n = batch_culprit(p, g, b, v);
    char sh[96], at[96] = "";
    if (n) describe_attr(n, at, sizeof at);
    return nns_error(NNS_STATUS_UNSUPPORTED,
                     "output '%s' has shape %s for a batch of %lld: its dim 0 is not the batch (node '%s' (%s%s)); "
                     "a session (nnslim run, eval, profile) needs batch-first outputs",
                     g->values[v].name, nns_shape_str(o, sh, sizeof sh), (long long)b, n ? n->name : "?",
                     n ? n->op_type : "?", at);
}

/* Ops that mix samples without changing shapes: Softmax / LogSoftmax over
 * dim 0 of a batch-first input. A session runs samples in chunks, which
 * would give other values than the whole batch at once: refuse. */
static nns_status check_no_batch_mixing(nns_plan *p, const nns_graph *g, int64_t b) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        if ((n->op != NNS_OP_SOFTMAX && n->op != NNS_OP_LOGSOFTMAX) || n->in[0] < 0) continue;
        const nns_shape *s = &nns_plan_tv(p, n->in[0])->shape;
        const int64_t axis = nns_node_attr_int(n, "axis", -1);
        if (s->ndim >= 1 && s->dims[0] == b && (axis == 0 || axis == -(int64_t)s->ndim))
            return nns_error(NNS_STATUS_UNSUPPORTED,
                             "node '%s' (%s, attribute 'axis' = %lld) normalises over dim 0, the batch: a session "
                             "(nnslim run, eval, profile) runs samples in chunks and would give other values",
                             n->name, n->op_type, (long long)axis);
    }
    return NNS_OK;
}

/* Check the first output at max_batch and, where the plan re-infers for
 * batch 1, there too (a dim 0 that only equals the batch by chance). */
static nns_status check_session_shapes(nns_session *s) {
    nns_status st = nns_plan_check_f32_io(s->plan, "a session (nnslim run, eval, profile)");
    if (!st) st = check_batch_first(s->plan, s->g, s->lane_batch, NULL);
    if (!st) st = check_no_batch_mixing(s->plan, s->g, s->lane_batch);
    if (st || s->lane_batch < 2) return st;
    const nns_shape full = nns_plan_output(s->plan, 0)->shape;
    if (nns_plan_set_batch(s->plan, 1) == NNS_OK) {
        st = check_batch_first(s->plan, s->g, 1, &full);
    } else {
        nns_error_clear(); /* batch fixed by the model: runs of fewer samples fail with their own error */
    }
    nns_status st2 = nns_plan_set_batch(s->plan, s->lane_batch);
    return st ? st : st2;
}

/* Lanes (nns_session_create_lanes): a chunk of samples is cut into lanes
 * that run side by side, each on one thread through a plan of its own (the
 * plans share lane 0's packed weights), instead of one plan whose every
 * node splits its work across the threads. No node waits for another
 * thread, and each thread's activations stay in its own core's caches.
 * 2 threads, AVX-512, batch 64, sessions of one plan and of two lanes
 * alternating (medians of 3): ShuffleNetV2 1.57x, mobilenet 1.33x,
 * MobileNetV2 1.30x, lenet5 1.23x, vggsmall 1.18x, resnet8 1.17x,
 * SqueezeNet 1.13x, EfficientNet-B0 1.08x, GoogLeNet 1.07x; batch 16:
 * mobilenet 1.33x, resnet8 1.17x, SqueezeNet 1.17x, EfficientNet-B0 1.00x.
 * But ResNet-18 at 64x64 ran 0.96x: its weights outweigh its activations,
 * and each lane reads all of them. */
#define SESSION_LANE_MIN 4   /* samples a lane runs at least (automatic lanes) */
#define SESSION_MAX_LANES 64

/* Bytes of the constant data of the graph a session runs. */
static size_t graph_data_bytes(const nns_graph *g) {
    size_t bytes = 0;
    for (int v = 0; v < g->n_values; v++) {
        const nns_value *val = &g->values[v];
        if (!val->data) continue;
        const size_t es = nns_dtype_size(val->dtype);
        bytes += (size_t)nns_shape_numel(&val->shape) * (es ? es : sizeof(float));
    }
    return bytes;
}

/* Lanes by default: one per thread, each of at least SESSION_LANE_MIN
 * samples (a fixed batch never gets here: nns_session_create_lanes). */
static int session_auto_lanes(int64_t max_batch) {
    int64_t l = max_batch / SESSION_LANE_MIN, t = omp_get_max_threads();
    if (l > t) l = t;
    return l < 2 ? 1 : (int)(l < SESSION_MAX_LANES ? l : SESSION_MAX_LANES);
}

/* Builds s->n_lanes plans of lane_batch = max_batch / lanes (rounded up)
 * samples; lane 0 packs, the others share its packs. */
static nns_status session_make_lanes(nns_session *s, int lanes) {
    s->lane_batch = (s->max_batch + lanes - 1) / lanes;
    if (!(s->lane = calloc((size_t)lanes, sizeof *s->lane)))
        return nns_error(NNS_STATUS_NOMEM, "out of memory creating a session");
    nns_status st = nns_plan_create(s->g, s->lane_batch, NNS_PLAN_INFER_FUSED, NULL, &s->lane[0]);
    if (st) return st;
    s->plan = s->lane[0];
    s->n_lanes = 1;
    for (; s->n_lanes < lanes && !st; s->n_lanes++)
        if ((st = nns_plan_create_sharing(s->plan, &s->lane[s->n_lanes]))) break;
    return st;
}

static void session_free_lanes(nns_session *s) {
    for (int l = 0; l < s->n_lanes; l++) nns_plan_free(s->lane[l]);
    free(s->lane);
    s->lane = NULL;
    s->plan = NULL;
    s->n_lanes = 0;
}

/* The plans for `lanes` (0: automatic; automatic lanes fall back to one
 * plan when the weights outweigh a lane's activations). */
static nns_status session_plans(nns_session *s, int lanes) {
    const int automatic = lanes == 0;
    if (automatic) lanes = session_auto_lanes(s->max_batch);
    if (lanes > s->max_batch) lanes = (int)s->max_batch;
    nns_status st = session_make_lanes(s, lanes);
    if (!st && automatic && lanes > 1 && graph_data_bytes(s->g) > nns_plan_arena_bytes(s->plan)) {
        session_free_lanes(s);
        st = session_make_lanes(s, 1);
    }
    return st;
}

nns_status nns_session_create(nns_graph *g, int64_t max_batch, nns_session **out) {
    return nns_session_create_lanes(g, max_batch, 0, out);
}

nns_status nns_session_create_lanes(nns_graph *g, int64_t max_batch, int lanes, nns_session **out) {
    *out = NULL;
    if (g->n_inputs != 1 || g->n_outputs < 1)
        return nns_error(NNS_STATUS_UNSUPPORTED, "a session needs one input and at least one output (model has %d and %d)",
                         g->n_inputs, g->n_outputs);
    if (lanes < 0 || lanes > SESSION_MAX_LANES)
        return nns_error(NNS_STATUS_INVALID_ARG, "a session's lanes must be in 0..%d, not %d", SESSION_MAX_LANES, lanes);
    nns_graph *exec = NULL;
    nns_status st = nns_graph_pack_params(g);
    if (!st) st = nns_graph_exec_copy(g, &exec); /* quantized weights dequantized once */
    if (st) return st;
    if (exec) g = exec;
    /* a model whose input has a fixed dim 0 runs in batches of at most that */
    const nns_shape *is = &g->values[g->inputs[0]].shape;
    if (is->ndim >= 1 && is->dims[0] > 0 && max_batch > is->dims[0]) max_batch = is->dims[0];
    if (is->ndim >= 1 && is->dims[0] > 0) lanes = 1; /* no plan of another batch */
    nns_session *s = calloc(1, sizeof *s);
    if (!s) {
        nns_graph_free(exec);
        return nns_error(NNS_STATUS_NOMEM, "out of memory creating a session");
    }
    s->g = g;
    s->owned = exec;
    s->max_batch = max_batch;
    if (max_batch < 1 || max_batch > NNS_MAX_DIM) lanes = 1; /* the plan names the bad batch */
    if ((st = session_plans(s, lanes)) || (st = check_session_shapes(s))) {
        nns_session_free(s);
        return st;
    }
    nns_tv *in = nns_plan_input(s->plan, 0), *o = nns_plan_output(s->plan, 0);
    s->in_size = nns_shape_numel(&in->shape) / s->lane_batch;
    s->out_size = nns_shape_numel(&o->shape) / s->lane_batch;
    s->out_shape = o->shape;
    if (s->in_size <= 0 || s->out_size <= 0) { /* an empty slice or split: nothing to read or write per sample */
        const int empty_in = s->in_size <= 0;
        char sb[96];
        st = nns_error(NNS_STATUS_SHAPE, "graph %s '%s' has no elements per sample (shape %s)", empty_in ? "input" : "output",
                       g->values[empty_in ? g->inputs[0] : g->outputs[0]].name,
                       nns_shape_str(empty_in ? &in->shape : &o->shape, sb, sizeof sb));
        nns_session_free(s);
        return st;
    }
    *out = s;
    return NNS_OK;
}

void nns_session_free(nns_session *s) {
    if (!s) return;
    session_free_lanes(s);
    nns_graph_free(s->owned);
    free(s);
}

int64_t nns_session_input_size(const nns_session *s) { return s->in_size; }
int64_t nns_session_output_size(const nns_session *s) { return s->out_size; }
int nns_session_lanes(const nns_session *s) { return s->n_lanes; }

nns_shape nns_session_output_shape(const nns_session *s, int64_t n) {
    nns_shape sh = s->out_shape;
    sh.dims[0] = n;
    return sh;
}

/* b <= its batch samples through plan p. */
static nns_status plan_run(const nns_session *s, nns_plan *p, const float *x, int64_t b, float *y) {
    nns_status st = nns_plan_set_batch(p, b);
    if (st) return st;
    memcpy(nns_tv_f32(nns_plan_input(p, 0)), x, (size_t)(b * s->in_size) * sizeof(float));
    nns_plan_forward(p, 0);
    memcpy(y, nns_tv_f32(nns_plan_output(p, 0)), (size_t)(b * s->out_size) * sizeof(float));
    return NNS_OK;
}

/* Lanes for a chunk of b <= max_batch samples: as many as hold at least
 * SESSION_LANE_MIN samples each, up to n_lanes, and never fewer than fit
 * b (ceil(b / lane_batch) <= n_lanes). */
static int lanes_for(const nns_session *s, int64_t b) {
    const int64_t need = (b + s->lane_batch - 1) / s->lane_batch;
    int64_t want = b / SESSION_LANE_MIN;
    if (want > s->n_lanes) want = s->n_lanes;
    return (int)(want > need ? want : need);
}

/* b samples cut into L lanes of b / L (rounded either way), side by side:
 * each thread runs its lanes with its nested parallel regions at one
 * thread. A lane's error is raised again on the calling thread. */
static nns_status run_lanes(nns_session *s, const float *x, int64_t b, float *y, int L) {
    nns_status st = NNS_OK;
    char msg[512] = "";
    nns_plan_refresh_packs(s->plan); /* before any lane reads them */
#pragma omp parallel num_threads(L)
    {
        omp_set_num_threads(1);
        omp_set_max_active_levels(1);
        for (int l = omp_get_thread_num(); l < L; l += omp_get_num_threads()) {
            const int64_t i0 = b * l / L, i1 = b * (l + 1) / L;
            const nns_status e = plan_run(s, s->lane[l], x + i0 * s->in_size, i1 - i0, y + i0 * s->out_size);
            if (e) {
#pragma omp critical(nns_session_lane_error)
                if (!st) {
                    st = e;
                    snprintf(msg, sizeof msg, "%s", nns_last_error());
                }
            }
        }
    }
    return st ? nns_error(st, "%s", msg) : NNS_OK;
}

nns_status nns_session_run(nns_session *s, const float *x, int64_t n, float *y) {
    for (int64_t i = 0; i < n; i += s->max_batch) {
        const int64_t b = n - i < s->max_batch ? n - i : s->max_batch;
        const int L = lanes_for(s, b);
        nns_status st = L > 1 ? run_lanes(s, x + i * s->in_size, b, y + i * s->out_size, L)
                              : plan_run(s, s->plan, x + i * s->in_size, b, y + i * s->out_size);
        if (st) return st;
    }
    return NNS_OK;
}

#include "core/clock.h"
#include "core/rng.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static double median_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Uniform random inputs in [-1, 1), the same for every benchmark. */
static void random_inputs(float *x, int64_t n) {
    uint64_t r = 42;
    for (int64_t i = 0; i < n; i++) x[i] = 2.0f * nns_rng_uniform(&r) - 1.0f;
}

/* out[j] = median over the rows of t (rows x width) of column j; col: rows scratch. */
static void column_medians(const double *t, int rows, int width, double *col, double *out) {
    for (int j = 0; j < width; j++) {
        for (int k = 0; k < rows; k++) col[k] = t[(size_t)k * (size_t)width + (size_t)j];
        out[j] = median_of(col, rows);
    }
}

/* The 90th percentile, nearest rank, of v[0..n) (sorts v). */
static double p90_of(double *v, int n) {
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    int k = (int)ceil(0.9 * n) - 1;
    return v[k < 0 ? 0 : k];
}

size_t nns_session_memory_bytes(const nns_session *s) {
    size_t bytes = graph_data_bytes(s->g);
    for (int l = 0; l < s->n_lanes; l++) bytes += nns_plan_bytes(s->lane[l]);
    return bytes;
}

nns_status nns_benchmark(nns_graph *g, int batch, int repeats, double *median_ms,
                         double *images_per_second) {
    nns_bench_stats b;
    nns_status st = nns_benchmark_stats(g, batch, repeats, &b);
    if (st) return st;
    *median_ms = b.median_ms;
    if (images_per_second) *images_per_second = b.images_per_second;
    return NNS_OK;
}

nns_status nns_benchmark_stats(nns_graph *g, int batch, int repeats, nns_bench_stats *out) {
    memset(out, 0, sizeof *out);
    if (batch < 1 || repeats < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "benchmark: batch %d and repeats %d must be >= 1", batch, repeats);
    nns_session *s = NULL;
    nns_status st = nns_session_create(g, batch, &s);
    if (st) return st;
    int64_t nin = (int64_t)batch * s->in_size, nout = (int64_t)batch * s->out_size;
    float *x = malloc((size_t)nin * sizeof(float));
    float *y = malloc((size_t)nout * sizeof(float));
    double *t = malloc((size_t)repeats * sizeof(double));
    if (!x || !y || !t) {
        st = nns_error(NNS_STATUS_NOMEM, "benchmark: out of memory");
        goto done;
    }
    random_inputs(x, nin);
    if ((st = nns_session_run(s, x, batch, y))) goto done;
    for (int k = 0; k < repeats; k++) {
        double t0 = nns_now_ms();
        if ((st = nns_session_run(s, x, batch, y))) goto done;
        t[k] = nns_now_ms() - t0;
    }
    out->median_ms = median_of(t, repeats);
    out->p90_ms = p90_of(t, repeats);
    out->images_per_second = out->median_ms > 0 ? batch * 1e3 / out->median_ms : 0;
    out->memory_bytes = nns_session_memory_bytes(s);
    out->lanes = s->n_lanes;
done:
    free(x);
    free(y);
    free(t);
    nns_session_free(s);
    return st;
}

nns_status nns_benchmark_ratio(nns_graph *a, nns_graph *b, int batch, int rounds, int repeats, nns_speed_ratio *r) {
    if (rounds < 1 || rounds > 1000)
        return nns_error(NNS_STATUS_INVALID_ARG, "benchmark: rounds %d must be in 1..1000", rounds);
    double ma[1000], mb[1000], q[1000];
    nns_status st = NNS_OK;
    for (int i = 0; i < rounds && !st; i++) {
        st = nns_benchmark(a, batch, repeats, &ma[i], NULL);
        if (!st) st = nns_benchmark(b, batch, repeats, &mb[i], NULL);
        q[i] = mb[i] > 0 ? ma[i] / mb[i] : 0;
    }
    if (st) return st;
    r->low = r->high = q[0];
    for (int i = 1; i < rounds; i++) {
        r->low = q[i] < r->low ? q[i] : r->low;
        r->high = q[i] > r->high ? q[i] : r->high;
    }
    r->ratio = median_of(q, rounds);
    r->ms_a = median_of(ma, rounds);
    r->ms_b = median_of(mb, rounds);
    r->same = r->low <= 1.0 && r->high >= 1.0;
    return NNS_OK;
}

nns_status nns_profile(nns_graph *g, int batch, int repeats, double *node_ms, double *total_ms) {
    return nns_profile_stats(g, batch, repeats, node_ms, total_ms, NULL, NULL);
}

nns_status nns_profile_stats(nns_graph *g, int batch, int repeats, double *node_ms, double *total_ms,
                             double *total_p90_ms, size_t *memory_bytes) {
    if (batch < 1 || repeats < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "profile: batch %d and repeats %d must be >= 1", batch, repeats);
    nns_session *s = NULL;
    nns_status st = nns_session_create_lanes(g, batch, 1, &s); /* one plan, every thread: the nodes timed at the whole batch */
    if (st) return st;
    /* the session runs s->g: g, or its copy with quantized weights folded,
     * whose nodes keep their names; a folded node of g gets 0 ms */
    const nns_graph *eg = s->g;
    const int nn = eg->n_nodes, w = nn + 1; /* a row: the nodes' times, then their sum */
    double *t = malloc((size_t)repeats * (size_t)w * sizeof(double));
    double *col = malloc((size_t)repeats * sizeof(double)), *med = malloc((size_t)w * sizeof(double));
    if (!t || !col || !med) {
        st = nns_error(NNS_STATUS_NOMEM, "profile: out of memory");
        goto done;
    }
    if ((st = nns_plan_set_batch(s->plan, s->max_batch))) goto done; /* batch, or a model's fixed dim 0 */
    random_inputs(nns_tv_f32(nns_plan_input(s->plan, 0)), s->max_batch * s->in_size);
    for (int k = -1; k < repeats; k++) { /* k = -1: warm-up, overwritten */
        double *row = t + (size_t)(k < 0 ? 0 : k) * (size_t)w;
        nns_plan_forward_timed(s->plan, row);
        row[nn] = 0;
        for (int i = 0; i < nn; i++) row[nn] += row[i];
    }
    column_medians(t, repeats, w, col, med);
    for (int i = 0; i < g->n_nodes; i++) {
        const int k = eg == g ? i : nns_graph_find_node(eg, g->nodes[i].name);
        node_ms[i] = k >= 0 ? med[k] : 0;
    }
    *total_ms = med[nn];
    if (total_p90_ms) {
        for (int k = 0; k < repeats; k++) col[k] = t[(size_t)k * (size_t)w + (size_t)nn];
        *total_p90_ms = p90_of(col, repeats);
    }
    if (memory_bytes) *memory_bytes = nns_session_memory_bytes(s);
done:
    free(t);
    free(col);
    free(med);
    nns_session_free(s);
    return st;
}

nns_status nns_profile_train(const nns_graph *g0, int batch, int repeats, double *fwd_ms, double *bwd_ms,
                             double *total_ms) {
    if (batch < 1 || repeats < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "profile: batch %d and repeats %d must be >= 1", batch, repeats);
    if (g0->n_inputs != 1 || g0->n_outputs < 1)
        return nns_error(NNS_STATUS_UNSUPPORTED, "profile: the model needs one input and an output (it has %d and %d)",
                         g0->n_inputs, g0->n_outputs);
    nns_graph *g = NULL; /* a copy: training-mode BatchNorm updates running statistics */
    nns_status st = nns_graph_clone(g0, &g);
    if (st) return st;
    nns_plan *p = NULL;
    const int nn = g->n_nodes, w = 2 * nn + 1; /* a row: forward times, backward times, their sum */
    float *grads = NULL;
    double *t = NULL, *col = NULL, *med = NULL;
    if ((st = nns_graph_pack_params(g))) goto done;
    grads = calloc((size_t)(g->n_params ? g->n_params : 1), sizeof(float));
    t = malloc((size_t)repeats * (size_t)w * sizeof(double));
    col = malloc((size_t)repeats * sizeof(double));
    med = malloc((size_t)w * sizeof(double));
    if (!grads || !t || !col || !med) {
        st = nns_error(NNS_STATUS_NOMEM, "profile: out of memory");
        goto done;
    }
    if ((st = nns_plan_create(g, batch, 1, grads, &p)) || (st = nns_plan_check_f32_io(p, "profiling"))) goto done;
    nns_tv *in = nns_plan_input(p, 0), *out = nns_plan_output(p, 0);
    const int64_t nout = nns_shape_numel(&out->shape);
    random_inputs(nns_tv_f32(in), nns_shape_numel(&in->shape));
    uint64_t r = 43;
    for (int k = -1; k < repeats; k++) { /* k = -1: warm-up, overwritten */
        double *row = t + (size_t)(k < 0 ? 0 : k) * (size_t)w;
        nns_plan_forward_timed(p, row);
        nns_plan_zero_act_grads(p);
        for (int64_t i = 0; i < nout; i++) out->grad[i] = (2.0f * nns_rng_uniform(&r) - 1.0f) / (float)batch;
        nns_plan_backward_timed(p, row + nn);
        row[2 * nn] = 0;
        for (int i = 0; i < 2 * nn; i++) row[2 * nn] += row[i];
    }
    column_medians(t, repeats, w, col, med);
    memcpy(fwd_ms, med, (size_t)nn * sizeof(double));
    memcpy(bwd_ms, med + nn, (size_t)nn * sizeof(double));
    *total_ms = med[2 * nn];
done:
    nns_plan_free(p);
    free(grads);
    free(t);
    free(col);
    free(med);
    nns_graph_free(g);
    return st;
}
