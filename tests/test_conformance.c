/* test_conformance.c — the ONNX backend test data (Debian's libonnx-testdata)
 * run through nnslim's runtime.
 *
 *   test_conformance [DATA_DIR] [--verbose] [--filter SUBSTRING]
 *
 * DATA_DIR (default $NNS_ONNX_TESTDATA, else /usr/share/libonnx-testdata/data)
 * holds node/, pytorch-converted/, pytorch-operator/ and simple/; each test is
 * a directory with model.onnx and test_data_set_N/input_K.pb, output_K.pb
 * (TensorProto). Every test is run in an inference plan whose batch is the
 * inputs' dim 0 (the shapes of the data); a test whose inputs differ in
 * dim 0, or whose model nnslim refuses because an input must be constant
 * (Clip's min, Reshape's shape), is run again with every input but the first turned into an
 * initializer holding the data set's tensor. Each test is classified:
 *
 *   passed       every output has the expected dtype and shape, and
 *                |got - want| <= atol + rtol * |want| (NaN matches NaN) with
 *                ONNX's backend-test defaults rtol 1e-3, atol 1e-7;
 *   failed       it ran and gave a wrong value, shape or dtype;
 *   unsupported  nnslim refused it (the first line of its message is kept).
 *
 * A table by op type follows (a test counts under every op type its model
 * uses; the totals count each test once). --verbose lists every test and its
 * reason. Exit status: 0 when nothing failed, 1 otherwise, 77 (skip) when the
 * data is absent. docs/onnx.md has the counts.
 *
 *   test_conformance --models DIR [--verbose] [--filter SUBSTRING]
 *
 * runs every test directory directly under DIR (same layout: whole networks
 * from tools/export_zoo.py, such as tests/models/) with threads at 1; a
 * float output passes when its largest error is at most 1e-4 of its largest
 * expected magnitude. Here a refused model fails too: exit 1 unless every
 * model passed. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nnslim/nnslim.h"
#include "graph/infer.h"
#include "onnx/onnx_internal.h"
#include "runtime/plan.h"

#define CONF_RTOL 1e-3
#define CONF_ATOL 1e-7
#define CONF_MAX_IO 16
#define CONF_MAX_FILE ((size_t)256 << 20)

enum { CONF_PASS = 0, CONF_FAIL = 1, CONF_UNSUP = 2 };
static const char *const verdict_name[] = {"pass", "FAIL", "unsupported"};

typedef struct {
    char op[64];
    int n[3];
} conf_op;

typedef struct {
    conf_op *ops;
    int n_ops, cap_ops;
    int total[3];
    int verbose;
} conf_stats;

/* ---- files ---------------------------------------------------------------- */

/* Read a regular file of at most CONF_MAX_FILE bytes, or the model size
 * limit when that is larger (VGG-11 is 531 MB). */
static nns_status read_file(const char *path, unsigned char **buf, size_t *len) {
    *buf = NULL;
    *len = 0;
    struct stat sb;
    if (stat(path, &sb) != 0) return nns_error(NNS_STATUS_IO, "file '%s': %s", path, strerror(errno));
    const uint64_t most = nns_limit_model_bytes() > CONF_MAX_FILE ? nns_limit_model_bytes() : CONF_MAX_FILE;
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > most)
        return nns_error(NNS_STATUS_IO, "file '%s': not a regular file of at most %llu bytes", path,
                         (unsigned long long)most);
    FILE *f = fopen(path, "rb");
    if (!f) return nns_error(NNS_STATUS_IO, "file '%s': %s", path, strerror(errno));
    *buf = malloc((size_t)sb.st_size + 1);
    size_t r = *buf ? fread(*buf, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    if (!*buf) return nns_error(NNS_STATUS_NOMEM, "file '%s': out of memory", path);
    if (r != (size_t)sb.st_size) {
        free(*buf);
        *buf = NULL;
        return nns_error(NNS_STATUS_IO, "file '%s': short read", path);
    }
    *len = r;
    return NNS_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the subdirectories of dir whose name starts with prefix. */
static int list_dirs(const char *dir, const char *prefix, char ***names) {
    *names = NULL;
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[4096];
        struct stat sb;
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix))) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &sb) || !S_ISDIR(sb.st_mode)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **t = realloc(*names, (size_t)cap * sizeof *t);
            if (!t) break;
            *names = t;
        }
        if (!((*names)[n] = malloc(strlen(e->d_name) + 1))) break;
        strcpy((*names)[n++], e->d_name);
    }
    closedir(d);
    if (n) qsort(*names, (size_t)n, sizeof **names, cmp_str);
    return n;
}

static void free_names(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* A TensorProto file -> c (the importer's decoding), its name in name. */
static nns_status read_tensor_pb(const char *path, nns_onnx_const *c, char *name, size_t name_len) {
    unsigned char *buf;
    size_t len;
    nns_status st = read_file(path, &buf, &len);
    if (st) return st;
    Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
    free(buf);
    if (!t) return nns_error(NNS_STATUS_FORMAT, "file '%s': not a TensorProto", path);
    snprintf(name, name_len, "%s", t->name ? t->name : "");
    nns_onnx_loader L;
    memset(&L, 0, sizeof L);
    L.what = path;
    st = nns_onnx_tensor_read(&L, t, name, c);
    onnx__tensor_proto__free_unpacked(t, NULL);
    return st;
}

/* ---- one data set ------------------------------------------------------------ */

typedef struct {
    nns_onnx_const t[CONF_MAX_IO];
    char name[CONF_MAX_IO][256];
    int n;
} conf_tensors;

static void tensors_free(conf_tensors *ts) {
    for (int i = 0; i < ts->n; i++) nns_onnx_const_clear(&ts->t[i]);
    ts->n = 0;
}

/* input_0.pb, input_1.pb, ... (or output_*) of one data set. */
static nns_status read_tensors(const char *dir, const char *kind, conf_tensors *ts) {
    memset(ts, 0, sizeof *ts);
    for (int i = 0;; i++) {
        char p[4200];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s_%d.pb", dir, kind, i);
        if (stat(p, &sb) != 0) return NNS_OK;
        if (i == CONF_MAX_IO) return nns_error(NNS_STATUS_UNSUPPORTED, "more than %d %ss", CONF_MAX_IO, kind);
        ts->t[i].gidx = -1;
        nns_status st = read_tensor_pb(p, &ts->t[i], ts->name[i], sizeof ts->name[i]);
        if (st) return st;
        ts->n = i + 1;
    }
}

/* The data tensor for graph value v: by name, else by position k. */
static const nns_onnx_const *match_tensor(const conf_tensors *ts, const char *vname, int k) {
    for (int i = 0; i < ts->n; i++)
        if (ts->name[i][0] && strcmp(ts->name[i], vname) == 0) return &ts->t[i];
    return k < ts->n && !ts->name[k][0] ? &ts->t[k] : NULL;
}

/* The dtypes the runner feeds and compares: f32, and the integers (held
 * as s64 by the loader's constants, stored natively by the runtime). */
static int conf_dtype_ok(nns_dtype t) {
    return t == NNS_DTYPE_F32 || t == NNS_DTYPE_U8 || t == NNS_DTYPE_S8 || t == NNS_DTYPE_S32 || t == NNS_DTYPE_S64 ||
           t == NNS_DTYPE_BOOL;
}

/* Element i of integer data of dtype t, widened: the runtime stores each
 * dtype natively, the loader's constants hold S32 widened to s64. */
static int64_t conf_int_at(nns_dtype t, const void *p, int64_t i, int loader) {
    switch (t) {
    case NNS_DTYPE_U8:
    case NNS_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    case NNS_DTYPE_S8: return ((const int8_t *)p)[i];
    case NNS_DTYPE_S32: return loader ? ((const int64_t *)p)[i] : ((const int32_t *)p)[i];
    default: return ((const int64_t *)p)[i];
    }
}

/* Copy a data tensor into a runtime view of its dtype. */
static void conf_feed(nns_tv *tv, const nns_onnx_const *t) {
    const int64_t n = nns_shape_numel(&t->shape);
    if (t->dtype != NNS_DTYPE_S32) {
        memcpy(tv->data, t->data, (size_t)n * nns_dtype_size(t->dtype));
        return;
    }
    for (int64_t i = 0; i < n; i++) ((int32_t *)tv->data)[i] = (int32_t)((const int64_t *)t->data)[i];
}

/* Give the graph inputs the data's shapes and re-infer; *batch gets their
 * common dim 0 (the plan makes every input's dim 0 its batch). */
static int bind_input_shapes(nns_graph *g, const conf_tensors *in, int64_t *batch, char *why, size_t wl) {
    if (g->n_inputs != in->n && !(g->n_inputs < in->n && g->n_inputs == 1)) {
        snprintf(why, wl, "the model has %d graph inputs, the data set %d", g->n_inputs, in->n);
        return CONF_UNSUP;
    }
    *batch = 1;
    for (int i = 0; i < g->n_inputs; i++) {
        nns_value *v = &g->values[g->inputs[i]];
        const nns_onnx_const *t = match_tensor(in, v->name, i);
        if (!t) {
            snprintf(why, wl, "no data for graph input '%s'", v->name);
            return CONF_UNSUP;
        }
        if (t->dtype != v->dtype || !conf_dtype_ok(t->dtype)) {
            snprintf(why, wl, "graph input '%s' is %s, its data %s", v->name, nns_dtype_name(v->dtype),
                     nns_dtype_name(t->dtype));
            return CONF_UNSUP;
        }
        if (t->shape.ndim < 1 || t->shape.dims[0] < 1) {
            snprintf(why, wl, "graph input '%s' is a scalar or empty (the runtime needs a dim 0 >= 1)", v->name);
            return CONF_UNSUP;
        }
        if (i > 0 && t->shape.dims[0] != *batch) {
            snprintf(why, wl, "graph inputs differ in dim 0 (%lld, %lld): a plan gives every input the same batch",
                     (long long)*batch, (long long)t->shape.dims[0]);
            return CONF_UNSUP;
        }
        *batch = t->shape.dims[0];
        v->shape = t->shape;
    }
    nns_status st = nns_graph_infer_shapes(g);
    if (st) {
        snprintf(why, wl, "%s", nns_last_error());
        return CONF_UNSUP;
    }
    return CONF_PASS;
}

/* --models: whole networks, compared by the largest error relative to the
 * largest expected magnitude (an element near zero says nothing alone). */
#define CONF_MODELS_RTOL 1e-4
static int conf_models_mode;

static int compare_normwise(const char *name, const float *got, const float *want, int64_t n, char *why, size_t wl) {
    double top = 0, err = 0;
    int64_t at = 0;
    for (int64_t i = 0; i < n; i++) {
        const double d = fabs((double)got[i] - want[i]);
        if (fabs(want[i]) > top) top = fabs(want[i]);
        if (!(d <= err)) { /* NaN counts as the worst */
            err = isnan(d) ? INFINITY : d;
            at = i;
        }
    }
    const double rel = top > 0 ? err / top : err;
    if (!(rel <= CONF_MODELS_RTOL)) {
        snprintf(why, wl, "output '%s' element %lld is %.9g, expected %.9g: error %.3g of the largest |value| %.6g "
                 "(limit %g)", name, (long long)at, got[at], want[at], rel, top, CONF_MODELS_RTOL);
        return CONF_FAIL;
    }
    snprintf(why, wl, "relative error %.3g", rel);
    return CONF_PASS;
}

/* Compare one output with its expected tensor. */
static int compare_output(const char *name, const nns_tv *got, nns_dtype got_dt, const nns_onnx_const *want,
                          char *why, size_t wl) {
    char a[128], b[128];
    if (got_dt != want->dtype) {
        snprintf(why, wl, "output '%s' is %s, expected %s", name, nns_dtype_name(got_dt), nns_dtype_name(want->dtype));
        return CONF_FAIL;
    }
    if (!conf_dtype_ok(want->dtype)) {
        snprintf(why, wl, "output '%s' is %s: the runner compares f32 and integer outputs", name, nns_dtype_name(got_dt));
        return CONF_UNSUP;
    }
    if (!nns_shape_eq(&got->shape, &want->shape)) {
        snprintf(why, wl, "output '%s' has shape %s, expected %s", name, nns_shape_str(&got->shape, a, sizeof a),
                 nns_shape_str(&want->shape, b, sizeof b));
        return CONF_FAIL;
    }
    const int64_t n = nns_shape_numel(&want->shape);
    for (int64_t i = 0; want->dtype != NNS_DTYPE_F32 && i < n; i++) /* integers: exactly */
        if (conf_int_at(got->dtype, got->data, i, 0) != conf_int_at(want->dtype, want->data, i, 1)) {
            snprintf(why, wl, "output '%s' element %lld is %lld, expected %lld", name, (long long)i,
                     (long long)conf_int_at(got->dtype, got->data, i, 0),
                     (long long)conf_int_at(want->dtype, want->data, i, 1));
            return CONF_FAIL;
        }
    if (want->dtype != NNS_DTYPE_F32) return CONF_PASS;
    const float *w = want->data;
    if (conf_models_mode) return compare_normwise(name, nns_tv_cf32(got), w, n, why, wl);
    for (int64_t i = 0; i < n; i++) {
        const double x = nns_tv_cf32(got)[i], y = w[i];
        if (isnan(x) && isnan(y)) continue;
        if (x == y) continue; /* equal infinities */
        if (!(fabs(x - y) <= CONF_ATOL + CONF_RTOL * fabs(y))) {
            snprintf(why, wl, "output '%s' element %lld is %.9g, expected %.9g (rtol %g, atol %g)", name, (long long)i, x,
                     y, CONF_RTOL, CONF_ATOL);
            return CONF_FAIL;
        }
    }
    return CONF_PASS;
}

/* Run one data set: plan at the data's batch, forward, compare. */
static int run_dataset(nns_graph *g, const char *dsdir, char *why, size_t wl) {
    conf_tensors in, out;
    int64_t batch = 1;
    nns_plan *p = NULL;
    int v = CONF_UNSUP;
    memset(&out, 0, sizeof out);
    nns_status st = read_tensors(dsdir, "input", &in);
    if (!st) st = read_tensors(dsdir, "output", &out);
    if (st) {
        snprintf(why, wl, "%s", nns_last_error());
        goto done;
    }
    if ((v = bind_input_shapes(g, &in, &batch, why, wl)) != CONF_PASS) goto done;
    v = CONF_UNSUP;
    if ((st = nns_graph_pack_params(g)) || (st = nns_plan_create(g, batch, NNS_PLAN_INFER_FUSED, NULL, &p))) {
        snprintf(why, wl, "%s", nns_last_error());
        goto done;
    }
    for (int i = 0; i < g->n_inputs; i++) {
        const nns_onnx_const *t = match_tensor(&in, g->values[g->inputs[i]].name, i);
        nns_tv *tv = nns_plan_input(p, i);
        if (!nns_shape_eq(&tv->shape, &t->shape)) {
            snprintf(why, wl, "the plan did not keep input '%s''s shape", g->values[g->inputs[i]].name);
            goto done;
        }
        conf_feed(tv, t);
    }
    nns_plan_forward(p, 0);
    v = CONF_PASS;
    if (g->n_outputs != out.n) {
        snprintf(why, wl, "the model has %d outputs, the data set %d", g->n_outputs, out.n);
        v = CONF_FAIL;
    }
    for (int i = 0; i < g->n_outputs && v == CONF_PASS; i++) {
        const nns_value *val = &g->values[g->outputs[i]];
        const nns_onnx_const *t = match_tensor(&out, val->name, i);
        if (!t) {
            snprintf(why, wl, "no expected data for output '%s'", val->name);
            v = CONF_FAIL;
        } else {
            v = compare_output(val->name, nns_plan_output(p, i), val->dtype, t, why, wl);
        }
    }
done:
    nns_plan_free(p);
    tensors_free(&in);
    tensors_free(&out);
    return v;
}

static void first_line(char *why, size_t wl, const char *s) {
    snprintf(why, wl, "%s", s);
    why[strcspn(why, "\n")] = 0;
}

/* ---- inputs as constants ---------------------------------------------------- */

/* The model with every graph input but the first turned into an initializer
 * holding the data set's tensor for it (matched by name, else position), as
 * a serialized buffer: for tests whose inputs differ in dim 0 (Gemm's B and
 * C, BatchNormalization's statistics...), which a plan cannot batch alike. */
static nns_status model_with_const_inputs(const unsigned char *buf, size_t len, const char *dsdir, unsigned char **out,
                                          size_t *out_len) {
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    if (!m || !m->graph) {
        if (m) onnx__model_proto__free_unpacked(m, NULL);
        return nns_error(NNS_STATUS_FORMAT, "model does not decode");
    }
    Onnx__GraphProto *gp = m->graph;
    Onnx__TensorProto *t[CONF_MAX_IO] = {0};
    Onnx__ValueInfoProto *keep[CONF_MAX_IO];
    Onnx__TensorProto **inits = calloc(gp->n_initializer + CONF_MAX_IO + 1, sizeof *inits);
    char *oldname[CONF_MAX_IO] = {0};
    size_t n_keep = 0, n_t = 0;
    nns_status st = inits && gp->n_input <= CONF_MAX_IO ? NNS_OK : nns_error(NNS_STATUS_UNSUPPORTED, "too many inputs");
    for (size_t i = 0; !st && i < gp->n_input; i++) {
        if (i == 0) {
            keep[n_keep++] = gp->input[i];
            continue;
        }
        char p[4400];
        snprintf(p, sizeof p, "%.4200s/input_%zu.pb", dsdir, i);
        unsigned char *tb;
        size_t tl;
        if ((st = read_file(p, &tb, &tl))) break;
        t[n_t] = onnx__tensor_proto__unpack(NULL, tl, tb);
        free(tb);
        if (!t[n_t]) {
            st = nns_error(NNS_STATUS_FORMAT, "file '%s': not a TensorProto", p);
            break;
        }
        oldname[n_t] = t[n_t]->name;
        t[n_t]->name = gp->input[i]->name;
        n_t++;
    }
    if (!st) {
        Onnx__ValueInfoProto **in0 = gp->input;
        Onnx__TensorProto **init0 = gp->initializer;
        const size_t n_in0 = gp->n_input, n_init0 = gp->n_initializer;
        for (size_t i = 0; i < n_init0; i++) inits[i] = init0[i];
        for (size_t i = 0; i < n_t; i++) inits[n_init0 + i] = t[i];
        gp->input = keep;
        gp->n_input = n_keep;
        gp->initializer = inits;
        gp->n_initializer = n_init0 + n_t;
        *out_len = onnx__model_proto__get_packed_size(m);
        *out = malloc(*out_len ? *out_len : 1);
        if (*out) onnx__model_proto__pack(m, *out);
        else st = nns_error(NNS_STATUS_NOMEM, "out of memory");
        gp->input = in0;
        gp->n_input = n_in0;
        gp->initializer = init0;
        gp->n_initializer = n_init0;
    }
    for (size_t i = 0; i < n_t; i++) {
        t[i]->name = oldname[i];
        onnx__tensor_proto__free_unpacked(t[i], NULL);
    }
    free(inits);
    onnx__model_proto__free_unpacked(m, NULL);
    return st;
}

/* Run data set dsdir on the model with its later inputs as constants. */
static int run_dataset_const_inputs(const unsigned char *buf, size_t len, const char *mpath, const char *dsdir,
                                    char *why, size_t wl) {
    unsigned char *mb = NULL;
    size_t ml = 0;
    nns_graph *g = NULL;
    nns_status st = model_with_const_inputs(buf, len, dsdir, &mb, &ml);
    if (!st) st = nns_graph_load_onnx_mem(mb, ml, mpath, &g);
    free(mb);
    if (st) {
        first_line(why, wl, nns_last_error());
        return CONF_UNSUP;
    }
    int v = run_dataset(g, dsdir, why, wl);
    nns_graph_free(g);
    return v;
}

/* ---- one test directory ------------------------------------------------------ */

/* Distinct op types of the model (comma-separated, "domain:op" outside the
 * default domain) into ops. */
static void model_ops(const Onnx__ModelProto *m, char *ops, size_t len) {
    ops[0] = 0;
    if (!m || !m->graph) return;
    for (size_t i = 0; i < m->graph->n_node; i++) {
        const Onnx__NodeProto *np = m->graph->node[i];
        char op[80];
        const int dflt = !np->domain || !*np->domain || !strcmp(np->domain, "ai.onnx");
        snprintf(op, sizeof op, "%s%s%s", dflt ? "" : np->domain, dflt ? "" : ":", np->op_type ? np->op_type : "?");
        char key[84];
        snprintf(key, sizeof key, ",%s,", op);
        char have[4200];
        snprintf(have, sizeof have, ",%s,", ops);
        if (strstr(have, key)) continue;
        if (strlen(ops) + strlen(op) + 2 < len) {
            if (ops[0]) strcat(ops, ",");
            strcat(ops, op);
        }
    }
}

/* The first line of s into why. */

static int severity(int v) { return v == CONF_FAIL ? 2 : v == CONF_UNSUP ? 1 : 0; }

/* Load dir/model.onnx and run every data set; the worst verdict wins
 * (failed over unsupported over passed). */
static int run_test(const char *dir, char *ops, size_t ops_len, char *why, size_t wl) {
    char p[4400];
    unsigned char *buf;
    size_t len;
    snprintf(p, sizeof p, "%.4200s/model.onnx", dir);
    ops[0] = why[0] = 0;
    if (read_file(p, &buf, &len)) {
        first_line(why, wl, nns_last_error());
        return CONF_UNSUP;
    }
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
    model_ops(m, ops, ops_len);
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    nns_graph *g = NULL;
    nns_status st = nns_graph_load_onnx_mem(buf, len, p, &g);
    /* refused because an input must be constant: each data set gives it */
    const int consts = st && (strstr(nns_last_error(), "must be a constant") || strstr(nns_last_error(), "must be an s64 constant"));
    if (st && !consts) {
        free(buf);
        first_line(why, wl, nns_last_error());
        return CONF_UNSUP;
    }
    char **sets;
    int n = list_dirs(dir, "test_data_set_", &sets), worst = n ? CONF_PASS : CONF_UNSUP;
    if (!n) snprintf(why, wl, "no test_data_set_* directory");
    for (int i = 0; i < n && worst != CONF_FAIL; i++) {
        char d[4400], w[512];
        snprintf(d, sizeof d, "%.4096s/%.255s", dir, sets[i]);
        int v = consts ? CONF_UNSUP : run_dataset(g, d, w, sizeof w);
        if (consts || (v == CONF_UNSUP && (strstr(w, "differ in dim 0") || strstr(w, "is a scalar or empty"))))
            v = run_dataset_const_inputs(buf, len, p, d, w, sizeof w);
        if (severity(v) > severity(worst)) {
            worst = v;
            first_line(why, wl, w);
            if (n > 1) snprintf(why + strlen(why), wl - strlen(why), " (%s)", sets[i]);
        }
    }
    free_names(sets, n);
    nns_graph_free(g);
    free(buf);
    return worst;
}

/* ---- counting and the table ---------------------------------------------------- */

static void count_op(conf_stats *s, const char *op, int v) {
    for (int i = 0; i < s->n_ops; i++)
        if (!strcmp(s->ops[i].op, op)) {
            s->ops[i].n[v]++;
            return;
        }
    if (s->n_ops == s->cap_ops) {
        int cap = s->cap_ops ? 2 * s->cap_ops : 128;
        conf_op *t = realloc(s->ops, (size_t)cap * sizeof *t);
        if (!t) return;
        s->ops = t;
        s->cap_ops = cap;
    }
    conf_op *o = &s->ops[s->n_ops++];
    memset(o, 0, sizeof *o);
    snprintf(o->op, sizeof o->op, "%s", op);
    o->n[v] = 1;
}

static void count_test(conf_stats *s, const char *ops, int v) {
    s->total[v]++;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", ops[0] ? ops : "(no nodes)");
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) count_op(s, t, v);
}

static int cmp_op(const void *a, const void *b) {
    return strcmp(((const conf_op *)a)->op, ((const conf_op *)b)->op);
}

static void print_table(conf_stats *s) {
    qsort(s->ops, (size_t)s->n_ops, sizeof *s->ops, cmp_op);
    printf("\n%-32s %7s %7s %12s\n", "op type", "passed", "failed", "unsupported");
    for (int i = 0; i < s->n_ops; i++)
        printf("%-32s %7d %7d %12d\n", s->ops[i].op, s->ops[i].n[CONF_PASS], s->ops[i].n[CONF_FAIL],
               s->ops[i].n[CONF_UNSUP]);
    printf("%-32s %7d %7d %12d   (%d tests)\n", "TOTAL (each test once)", s->total[CONF_PASS], s->total[CONF_FAIL],
           s->total[CONF_UNSUP], s->total[0] + s->total[1] + s->total[2]);
}

/* Every test directory under root/sub whose name contains filter. */
static void run_suite(conf_stats *s, const char *root, const char *sub, const char *filter) {
    char d[4096];
    snprintf(d, sizeof d, "%s/%s", root, sub);
    char **names;
    int n = list_dirs(d, "", &names);
    for (int i = 0; i < n; i++) {
        if (filter && !strstr(names[i], filter)) continue;
        char t[4200], ops[2048], why[512];
        snprintf(t, sizeof t, "%s/%s", d, names[i]);
        int v = run_test(t, ops, sizeof ops, why, sizeof why);
        count_test(s, ops, v);
        if (s->verbose || v == CONF_FAIL)
            printf("%-11s %s/%s [%s]%s%s\n", verdict_name[v], sub, names[i], ops, why[0] ? ": " : "", why);
    }
    free_names(names, n);
}

int main(int argc, char **argv) {
    static const char *const suites[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
    const char *root = getenv("NNS_ONNX_TESTDATA"), *filter = NULL, *models = NULL;
    conf_stats s;
    memset(&s, 0, sizeof s);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) s.verbose = 1;
        else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
        else if (!strcmp(argv[i], "--models") && i + 1 < argc) models = argv[++i];
        else if (argv[i][0] == '-') {
            fprintf(stderr, "usage: %s [DATA_DIR | --models DIR] [--verbose] [--filter SUBSTRING]\n", argv[0]);
            return 2;
        } else root = argv[i];
    }
    if (models) {
        conf_models_mode = 1;
        s.verbose = 1;
        nns_set_threads(1);
        run_suite(&s, models, ".", filter);
        print_table(&s);
        free(s.ops);
        if (s.total[CONF_FAIL] + s.total[CONF_UNSUP])
            printf("%d models failed or were refused\n", s.total[CONF_FAIL] + s.total[CONF_UNSUP]);
        return s.total[CONF_FAIL] + s.total[CONF_UNSUP] ? 1 : 0;
    }
    if (!root) root = "/usr/share/libonnx-testdata/data";
    char probe[4096];
    struct stat sb;
    snprintf(probe, sizeof probe, "%s/node", root);
    if (stat(probe, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        printf("skip: no ONNX backend test data in %s (Debian package libonnx-testdata)\n", root);
        return 77;
    }
    nns_set_threads(1);
    for (size_t k = 0; k < sizeof suites / sizeof suites[0]; k++) run_suite(&s, root, suites[k], filter);
    print_table(&s);
    free(s.ops);
    if (s.total[CONF_FAIL]) printf("%d tests FAILED (a wrong answer without an error)\n", s.total[CONF_FAIL]);
    return s.total[CONF_FAIL] ? 1 : 0;
}
