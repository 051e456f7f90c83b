/* common.c — option parsing, data loading, progress, JSON helpers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const char *cmd, nns_status st) {
    const char *m = nns_last_error();
    fprintf(stderr, "nnslim %s: %s\n", cmd, m && *m ? m : nns_status_str(st));
    return CLI_FAIL;
}

static int parse_value(const char *cmd, cli_opt *o, const char *v) {
    char *end;
    switch (o->kind) {
    case OPT_STR:
        *(const char **)o->dest = v;
        return 0;
    case OPT_INT: {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || end == v || *end || x < -2147483647LL || x > 2147483647LL) {
            fprintf(stderr, "nnslim %s: --%s expects an integer, not '%s'\n", cmd, o->name, v);
            return CLI_USAGE;
        }
        *(int *)o->dest = (int)x;
        return 0;
    }
    case OPT_FLOAT: {
        errno = 0;
        double x = strtod(v, &end);
        if (errno || end == v || *end || !isfinite(x)) {
            fprintf(stderr, "nnslim %s: --%s expects a number, not '%s'\n", cmd, o->name, v);
            return CLI_USAGE;
        }
        *(float *)o->dest = (float)x;
        return 0;
    }
    case OPT_FLAG:
        *(int *)o->dest = 1;
        return 0;
    case OPT_LIST: {
        cli_strlist *l = o->dest;
        if (l->n >= CLI_LIST_MAX) {
            fprintf(stderr, "nnslim %s: --%s given more than %d times\n", cmd, o->name, CLI_LIST_MAX);
            return CLI_USAGE;
        }
        l->v[l->n++] = v;
        return 0;
    }
    }
    return 0;
}

static const cli_opt *find_opt(const cli_opt *opts, const char *name) {
    for (const cli_opt *p = opts; p->name; p++)
        if (!strcmp(p->name, name)) return p->seen ? p : NULL;
    return NULL;
}

/* The options several commands share (data, threads), checked once after
 * parsing so that every command refuses the same bad value the same way:
 * exit 2 before any work. */
static int check_shared(const char *cmd, const cli_opt *opts) {
    const cli_opt *o;
    static const char *const counts[] = {"limit", "test-limit"};
    for (int i = 0; i < 2; i++)
        if ((o = find_opt(opts, counts[i])) && *(const int *)o->dest < 1) {
            fprintf(stderr, "nnslim %s: --%s must be >= 1, not %d (leave it out to use every image)\n", cmd, o->name,
                    *(const int *)o->dest);
            return CLI_USAGE;
        }
    if ((o = find_opt(opts, "layout")) && strcmp(*(const char *const *)o->dest, "nchw") &&
        strcmp(*(const char *const *)o->dest, "nhwc")) {
        fprintf(stderr, "nnslim %s: --layout must be nchw or nhwc, not '%s'\n", cmd, *(const char *const *)o->dest);
        return CLI_USAGE;
    }
    static const char *const norms[] = {"mean", "std"};
    for (int i = 0; i < 2; i++) {
        if (!(o = find_opt(opts, norms[i]))) continue;
        float v[NNS_NORM_MAX];
        int n = 0;
        char what[16];
        snprintf(what, sizeof what, "--%s", norms[i]);
        int bad = nns_norm_parse(what, *(const char *const *)o->dest, v, NNS_NORM_MAX, &n) != NNS_OK;
        for (int k = 0; !bad && i == 1 && k < n; k++) bad = !(v[k] > 0);
        if (bad) {
            fprintf(stderr, "nnslim %s: --%s takes a number%s or one per channel, comma-separated, not '%s'\n", cmd,
                    norms[i], i ? " > 0" : "", *(const char *const *)o->dest);
            return CLI_USAGE;
        }
    }
    if ((o = find_opt(opts, "threads")) && *(const int *)o->dest < 0) {
        fprintf(stderr, "nnslim %s: --threads must be >= 0, not %d\n", cmd, *(const int *)o->dest);
        return CLI_USAGE;
    }
    return 0;
}

int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, const char **pos,
              int max_pos, int *n_pos) {
    *n_pos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return -1;
        if (a[0] == '-' && a[1] == 'o' && a[2] == 0) a = "--output";
        if (a[0] == '-' && a[1] == '-' && a[2]) {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            cli_opt *o = NULL;
            for (cli_opt *p = opts; p->name; p++)
                if (strlen(p->name) == len && !strncmp(p->name, name, len)) o = p;
            if (!o) {
                fprintf(stderr, "nnslim %s: unknown option '%.*s' (try 'nnslim %s --help')\n", cmd,
                        (int)(len + 2), a, cmd);
                return CLI_USAGE;
            }
            o->seen = 1;
            if (o->kind == OPT_FLAG) {
                if (eq) {
                    fprintf(stderr, "nnslim %s: --%s takes no value\n", cmd, o->name);
                    return CLI_USAGE;
                }
                *(int *)o->dest = 1;
                continue;
            }
            const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                fprintf(stderr, "nnslim %s: --%s needs a value\n", cmd, o->name);
                return CLI_USAGE;
            }
            int r = parse_value(cmd, o, v);
            if (r) return r;
            continue;
        }
        if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nnslim %s: unknown option '%s' (try 'nnslim %s --help')\n", cmd, a, cmd);
            return CLI_USAGE;
        }
        if (*n_pos >= max_pos) {
            fprintf(stderr, "nnslim %s: unexpected argument '%s'\n", cmd, a);
            return CLI_USAGE;
        }
        pos[(*n_pos)++] = a;
    }
    return check_shared(cmd, opts);
}

int cli_opt_seen(const cli_opt *opts, const char *name) {
    for (const cli_opt *p = opts; p->name; p++)
        if (!strcmp(p->name, name)) return p->seen;
    return 0;
}

void cli_data_init(cli_data_opts *d) {
    memset(d, 0, sizeof *d);
    d->mean = NULL;
    d->std = NULL;
}

nns_status cli_data_load(const cli_data_opts *d, nns_dataset *train, nns_dataset *test) {
    nns_status st;
    int npy = d->train_x || d->train_y || d->test_x || d->test_y;
    if (npy && d->data_dir)
        return nns_error(NNS_STATUS_INVALID_ARG, "--data and --train-x/--test-x are exclusive");
    if (train) memset(train, 0, sizeof *train);
    if (test) memset(test, 0, sizeof *test);
    int64_t limit = d->limit_i > 0 ? d->limit_i : 0;
    if (d->limit_i < 0) return nns_error(NNS_STATUS_INVALID_ARG, "--limit must be >= 0, not %d", d->limit_i);
    if (d->test_limit < 0) return nns_error(NNS_STATUS_INVALID_ARG, "--test-limit must be >= 0, not %d", d->test_limit);
    int64_t tlimit = d->test_limit;
    const int nhwc = d->layout && !strcmp(d->layout, "nhwc");
    if (d->layout && !nhwc && strcmp(d->layout, "nchw"))
        return nns_error(NNS_STATUS_INVALID_ARG, "--layout must be nchw or nhwc, not '%s'", d->layout);
    if (nhwc && !npy) return nns_error(NNS_STATUS_INVALID_ARG, "--layout nhwc is for NumPy images (--train-x, --test-x)");
    if (npy) {
        if (train) {
            if (!d->train_x || !d->train_y)
                return nns_error(NNS_STATUS_INVALID_ARG, "NumPy training data needs both --train-x and --train-y");
            if ((st = nns_dataset_load_npy(d->train_x, d->train_y, limit, train))) return st;
        }
        if (test) {
            if (!d->test_x || !d->test_y) {
                if (train) nns_dataset_free(train);
                return nns_error(NNS_STATUS_INVALID_ARG, "NumPy test data needs both --test-x and --test-y");
            }
            if ((st = nns_dataset_load_npy(d->test_x, d->test_y, tlimit, test))) {
                if (train) nns_dataset_free(train);
                return st;
            }
        }
        if (nhwc && ((train && (st = nns_dataset_to_nchw(train))) || (test && (st = nns_dataset_to_nchw(test))))) {
            if (train) nns_dataset_free(train);
            if (test) nns_dataset_free(test);
            return st;
        }
        return NNS_OK;
    }
    const char *dir = d->data_dir ? d->data_dir : CLI_DEFAULT_DATA_DIR;
    if (train && (st = nns_dataset_load_mnist_dir(dir, 1, limit, train))) return st;
    if (test && (st = nns_dataset_load_mnist_dir(dir, 0, tlimit, test))) {
        if (train) nns_dataset_free(train);
        return st;
    }
    return NNS_OK;
}

/* n values as "a,b,c" into buf. */
static void norm_text(const float *v, int n, char *buf, size_t len) {
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n && at < len; i++) at += (size_t)snprintf(buf + at, len - at, i ? ",%.9g" : "%.9g", v[i]);
}

/* The normalisation to use: the options, else g's recorded one, else the
 * data's statistics (one value). */
static nns_status norm_choose(const cli_data_opts *d, const cli_opt *opts, const nns_graph *g, const nns_dataset *ds,
                              float *m, float *s, int *n) {
    nns_status st = NNS_OK;
    if (cli_opt_seen(opts, "mean") || cli_opt_seen(opts, "std")) {
        int nm = 1, ns = 1;
        m[0] = 0.0f, s[0] = 1.0f;
        if (d->mean) st = nns_norm_parse("--mean", d->mean, m, NNS_NORM_MAX, &nm);
        if (!st && d->std) st = nns_norm_parse("--std", d->std, s, NNS_NORM_MAX, &ns);
        if (st) return st;
        if (nm != ns && nm != 1 && ns != 1)
            return nns_error(NNS_STATUS_INVALID_ARG, "--mean has %d values and --std %d", nm, ns);
        *n = nm > ns ? nm : ns;
        for (int i = 1; i < *n; i++) { /* one value stands for every channel */
            if (nm == 1) m[i] = m[0];
            if (ns == 1) s[i] = s[0];
        }
        return NNS_OK;
    }
    if ((st = nns_graph_get_norm(g, m, s, NNS_NORM_MAX, n)) || *n) return st;
    nns_dataset_stats(ds, &m[0], &s[0]);
    *n = 1;
    return NNS_OK;
}

nns_status cli_data_normalize(const cli_data_opts *d, const cli_opt *opts, nns_graph *g,
                              nns_dataset *train, nns_dataset *test, float *mean, float *std) {
    float m[NNS_NORM_MAX], s[NNS_NORM_MAX];
    int n = 0;
    nns_status st = norm_choose(d, opts, g, train ? train : test, m, s, &n);
    if (st) return st;
    for (int i = 0; i < n; i++)
        if (!(s[i] > 0) || !isfinite(s[i]) || !isfinite(m[i]))
            return nns_error(NNS_STATUS_INVALID_ARG, "normalisation std must be > 0 (mean %g, std %g)", m[i], s[i]);
    if (train && (st = nns_dataset_normalize_channels(train, m, s, n))) return st;
    if (test && (st = nns_dataset_normalize_channels(test, m, s, n))) return st;
    char buf[NNS_NORM_MAX * 20];
    norm_text(m, n, buf, sizeof buf);
    if ((st = nns_graph_set_meta(g, "nnslim.mean", buf))) return st;
    norm_text(s, n, buf, sizeof buf);
    if ((st = nns_graph_set_meta(g, "nnslim.std", buf))) return st;
    *mean = m[0];
    *std = s[0];
    return NNS_OK;
}

static void fmt_time(char *buf, size_t n, double s) {
    if (s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

void cli_progress(const nns_train_progress *p, void *user) {
    (void)user;
    static int tty = -1;
    if (tty < 0) tty = isatty(2);
    char left[32], el[32];
    fmt_time(left, sizeof left, p->seconds_left);
    fmt_time(el, sizeof el, p->seconds_elapsed);
    if (p->end_of_epoch) {
        if (tty) fprintf(stderr, "\r\033[K");
        fprintf(stderr, "epoch %d/%d  loss %.4f  train acc %.4f", p->epoch, p->epochs, p->loss, p->accuracy);
        if (p->val_accuracy >= 0) fprintf(stderr, "  val acc %.4f  val loss %.4f", p->val_accuracy, p->val_loss);
        fprintf(stderr, "  %.0f img/s  lr %.4g  %s elapsed, %s left\n", p->images_per_second, p->lr, el, left);
        /* a collapsed network (e.g. all ReLUs dead after a too large step) trains at chance level
         * without any non-finite loss: say so instead of letting it run on silently */
        if (p->accuracy < 0.12f && p->epoch < p->epochs)
            fprintf(stderr, "warning: train accuracy %.4f is near chance: the network may have collapsed (too large "
                            "steps); lower --lr, or with a teacher lower --kd-gain-limit\n", p->accuracy);
        return;
    }
    if (!tty) return;
    int width = 24;
    int fill = p->steps_per_epoch ? (int)(width * p->step / p->steps_per_epoch) : 0;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[width] = 0;
    fprintf(stderr, "\r\033[Kepoch %d/%d [%s] %lld/%lld loss %.4f acc %.4f %.0f img/s %s left",
            p->epoch, p->epochs, bar, (long long)p->step, (long long)p->steps_per_epoch, p->loss,
            p->accuracy, p->images_per_second, left);
    fflush(stderr);
}

void cli_json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

long long cli_file_size(const char *path) {
    struct stat sb;
    if (stat(path, &sb)) return -1;
    return (long long)sb.st_size;
}

nns_status cli_check_writable(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return nns_error(NNS_STATUS_IO, "output '%s': directory '%s' does not exist", path, dir);
    if (access(dir, W_OK))
        return nns_error(NNS_STATUS_IO, "output '%s': directory '%s' is not writable", path, dir);
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return nns_error(NNS_STATUS_IO, "output '%s' is a directory", path);
    return NNS_OK;
}

void cli_train_init(cli_train_opts *t, float lr) {
    memset(t, 0, sizeof *t);
    t->optimizer = "sgd";
    t->schedule = "cosine";
    t->batch = 128;
    t->seed = 1;
    t->lr = lr;
    t->momentum = 0.9f;
    t->wd = 5e-4f;
}

int cli_train_config(const char *cmd, const cli_train_opts *t, nns_train_config *cfg) {
    nns_train_config_default(cfg);
    if (!strcmp(t->optimizer, "sgd")) cfg->optimizer = NNS_OPTIMIZER_KIND_SGD;
    else if (!strcmp(t->optimizer, "adamw")) cfg->optimizer = NNS_OPTIMIZER_KIND_ADAMW;
    else {
        fprintf(stderr, "nnslim %s: --optimizer must be sgd or adamw, not '%s'\n", cmd, t->optimizer);
        return CLI_USAGE;
    }
    if (!strcmp(t->schedule, "constant")) cfg->schedule = NNS_SCHEDULE_KIND_CONSTANT;
    else if (!strcmp(t->schedule, "step")) cfg->schedule = NNS_SCHEDULE_KIND_STEP;
    else if (!strcmp(t->schedule, "cosine")) cfg->schedule = NNS_SCHEDULE_KIND_COSINE;
    else {
        fprintf(stderr, "nnslim %s: --schedule must be constant, step or cosine, not '%s'\n", cmd, t->schedule);
        return CLI_USAGE;
    }
    if (t->augment) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", t->augment);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (!strcmp(tok, "crop")) cfg->augment.crop_pad = 2;
            else if (!strcmp(tok, "flip")) cfg->augment.hflip = 1;
            else {
                fprintf(stderr, "nnslim %s: --augment takes crop and flip, not '%s'\n", cmd, tok);
                return CLI_USAGE;
            }
        }
    }
    if (t->val_split < 0 || t->val_split >= 1) {
        fprintf(stderr, "nnslim %s: --val-split must be in [0, 1), not %g\n", cmd, t->val_split);
        return CLI_USAGE;
    }
    if (t->seed < 0 || t->threads < 0 || t->batch < 1) {
        fprintf(stderr, "nnslim %s: --seed and --threads must be >= 0, --batch-size >= 1\n", cmd);
        return CLI_USAGE;
    }
    struct { int bad; const char *what; double v; } range[] = {
        {!(t->lr > 0) || !isfinite(t->lr), "--lr must be > 0", t->lr},
        {!(t->momentum >= 0 && t->momentum < 1), "--momentum must be in [0, 1)", t->momentum},
        {!(t->wd >= 0) || !isfinite(t->wd), "--weight-decay must be >= 0", t->wd},
        {!(t->ls >= 0 && t->ls < 1), "--label-smoothing must be in [0, 1)", t->ls},
        {!(t->warmup >= 0) || !isfinite(t->warmup), "--warmup-epochs must be >= 0", t->warmup},
        {t->step_epochs < 0, "--step-epochs must be >= 0", t->step_epochs}};
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++)
        if (range[i].bad) {
            fprintf(stderr, "nnslim %s: %s, not %g\n", cmd, range[i].what, range[i].v);
            return CLI_USAGE;
        }
    cfg->batch_size = t->batch;
    cfg->lr = t->lr;
    cfg->momentum = t->momentum;
    cfg->nesterov = t->nesterov;
    cfg->weight_decay = t->wd;
    cfg->warmup_epochs = t->warmup;
    cfg->step_epochs = t->step_epochs;
    cfg->label_smoothing = t->ls;
    cfg->seed = (uint64_t)t->seed;
    cfg->threads = t->threads;
    if (!(t->clip >= 0)) {
        fprintf(stderr, "nnslim %s: --clip-grad-norm must be >= 0, not %g\n", cmd, t->clip);
        return CLI_USAGE;
    }
    cfg->clip_grad_norm = t->clip;
    cfg->progress = cli_progress;
    return 0;
}

nns_status cli_keep_zeros(const char *cmd, const cli_train_opts *t, nns_graph *g) {
    if (!t->keep_zeros) return NNS_OK;
    int64_t zeros = 0;
    nns_status st = nns_graph_keep_zeros(g, &zeros);
    if (!st)
        fprintf(stderr, "nnslim %s: keeping %lld zero weights of %lld parameters zero\n", cmd, (long long)zeros,
                (long long)nns_graph_n_params(g));
    return st;
}

nns_status cli_save_model(const cli_train_opts *t, const nns_graph *g, const char *path) {
    nns_onnx_save_options o = {t->dense ? NNS_ONNX_SPARSE_NEVER : NNS_ONNX_SPARSE_AUTO};
    return nns_graph_save_onnx_opts(g, path, &o);
}

static int parse_shape3(const char *s, int *c, int *h, int *w) {
    char extra;
    return s && sscanf(s, "%d,%d,%d%c", c, h, w, &extra) == 3 && *c > 0 && *h > 0 && *w > 0;
}

int cli_arch_shape_ok(const char *cmd, const char *input_shape, int classes) {
    int c, h, w;
    if (input_shape && !parse_shape3(input_shape, &c, &h, &w)) {
        fprintf(stderr, "nnslim %s: --input-shape takes C,H,W (e.g. 3,32,32), not '%s'\n", cmd, input_shape);
        return CLI_USAGE;
    }
    if (classes < 0 || classes == 1) {
        fprintf(stderr, "nnslim %s: --classes must be >= 2, not %d\n", cmd, classes);
        return CLI_USAGE;
    }
    return 0;
}

nns_status cli_arch_build(const char *arch, uint64_t seed, const char *input_shape, int classes,
                          const nns_dataset *train, const nns_dataset *test, nns_graph **g) {
    int c = train->c, h = train->h, w = train->w;
    if (input_shape) parse_shape3(input_shape, &c, &h, &w);
    else if (c == 1 && h == 1) { /* flat rows of pixels: square single-channel images if they are */
        int side = 1;
        while (side * side < w) side++;
        if (side * side == w) h = w = side;
    }
    if (!classes) {
        classes = train->n_classes > (test ? test->n_classes : 0) ? train->n_classes : test->n_classes;
        if (classes < 2) classes = 2;
    }
    return nns_arch_build_for(arch, seed, c, h, w, classes, g);
}

nns_status cli_val_split(const cli_train_opts *t, nns_dataset *train, nns_dataset *val) {
    memset(val, 0, sizeof *val);
    if (t->val_split <= 0) return NNS_OK;
    int64_t count = (int64_t)(t->val_split * (double)train->n + 0.5);
    if (count < 1 || count >= train->n)
        return nns_error(NNS_STATUS_INVALID_ARG, "--val-split %g leaves %lld validation images of %lld",
                         t->val_split, (long long)count, (long long)train->n);
    return nns_dataset_split(train, count, (uint64_t)t->seed, val);
}

void cli_distill_init(cli_distill_opts *k) {
    memset(k, 0, sizeof *k);
    nns_distill_config dc;
    nns_distill_config_default(&dc);
    k->temperature = dc.temperature;
    k->alpha = dc.alpha;
    k->gain_limit = dc.gain_limit;
}

int cli_distill_config(const char *cmd, cli_distill_opts *k, nns_distill_config *dc) {
    nns_distill_config_default(dc);
    dc->temperature = k->temperature;
    dc->alpha = k->alpha;
    dc->gain_limit = k->gain_limit;
    dc->cache = !k->no_cache;
    k->no_hint = k->hints.n == 1 && !strcmp(k->hints.v[0], "none");
    if (k->no_hint) k->hints.n = 0;
    for (int i = 0; i < k->hints.n; i++) {
        snprintf(k->hint_buf[i], sizeof k->hint_buf[i], "%s", k->hints.v[i]);
        char *a = k->hint_buf[i];
        if (!strncmp(a, "auto", 4) && (!a[4] || a[4] == ':')) {
            /* "auto" and "auto:BETA" mean auto:auto[:BETA] */
            char *end = NULL;
            float b = a[4] ? strtof(a + 5, &end) : 1.0f;
            if (!a[4] || (end != a + 5 && !*end)) {
                if (!(b > 0) || !isfinite(b)) {
                    fprintf(stderr, "nnslim %s: --hint '%s': BETA must be a number > 0\n", cmd, k->hints.v[i]);
                    return CLI_USAGE;
                }
                k->hint[i].teacher_layer = NNS_DISTILL_HINT_AUTO;
                k->hint[i].student_layer = NNS_DISTILL_HINT_AUTO;
                k->hint[i].beta = b;
                continue;
            }
        }
        char *c1 = strchr(a, ':');
        char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        float beta = 1.0f;
        if (c2) {
            char *end;
            beta = strtof(c2 + 1, &end);
            if (end == c2 + 1 || *end || !(beta > 0) || !isfinite(beta)) {
                fprintf(stderr, "nnslim %s: --hint '%s': BETA must be a number > 0\n", cmd, k->hints.v[i]);
                return CLI_USAGE;
            }
            *c2 = 0;
        }
        if (!c1 || c1 == a || !c1[1]) {
            fprintf(stderr, "nnslim %s: --hint '%s' is not TEACHER_LAYER:STUDENT_LAYER[:BETA]\n", cmd, k->hints.v[i]);
            return CLI_USAGE;
        }
        *c1 = 0;
        k->hint[i].teacher_layer = a;
        k->hint[i].student_layer = c1 + 1;
        k->hint[i].beta = beta;
    }
    dc->hints = k->hints.n ? k->hint : NULL;
    dc->n_hints = k->hints.n;
    if (!(dc->temperature > 0)) {
        fprintf(stderr, "nnslim %s: --temperature must be > 0, not %g\n", cmd, dc->temperature);
        return CLI_USAGE;
    }
    if (!(dc->alpha >= 0 && dc->alpha <= 1)) {
        fprintf(stderr, "nnslim %s: --alpha must be in [0, 1], not %g\n", cmd, dc->alpha);
        return CLI_USAGE;
    }
    if (!(dc->gain_limit >= 0)) {
        fprintf(stderr, "nnslim %s: --kd-gain-limit must be >= 0, not %g\n", cmd, dc->gain_limit);
        return CLI_USAGE;
    }
    return 0;
}

nns_status cli_teacher_fits(const char *file, const nns_graph *teacher, const nns_dataset *d) {
    nns_status st = nns_check_data(teacher, d);
    if (!st) return NNS_OK;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", nns_last_error());
    return nns_error(st, "teacher '%s': %s", file, msg);
}

nns_status cli_teacher_check_norm(const char *file, const nns_graph *teacher, const nns_graph *g) {
    float tm[NNS_NORM_MAX], ts[NNS_NORM_MAX], m[NNS_NORM_MAX], s[NNS_NORM_MAX];
    int tn = 0, n = 0;
    nns_status st = nns_graph_get_norm(teacher, tm, ts, NNS_NORM_MAX, &tn);
    if (!st) st = nns_graph_get_norm(g, m, s, NNS_NORM_MAX, &n);
    if (st || !tn || !n) return st;
    int same = tn == n;
    for (int i = 0; same && i < n; i++)
        same = fabsf(tm[i] - m[i]) <= 1e-4f * (1 + fabsf(m[i])) && fabsf(ts[i] - s[i]) <= 1e-4f * (1 + fabsf(s[i]));
    if (same) return NNS_OK;
    return nns_error(NNS_STATUS_INVALID_ARG, "teacher '%s' expects inputs normalised with mean %s, std %s but the data use "
                     "mean %s, std %s (give --mean/--std)", file, nns_graph_get_meta(teacher, "nnslim.mean"),
                     nns_graph_get_meta(teacher, "nnslim.std"), nns_graph_get_meta(g, "nnslim.mean"),
                     nns_graph_get_meta(g, "nnslim.std"));
}

nns_status cli_measure_take(nns_graph *g, const nns_dataset *test, const char *file, cli_measure *m) {
    nns_eval_result er;
    nns_status st;
    m->accuracy = -1;
    m->has_speedup = 0;
    if (test) {
        if ((st = nns_check_data(g, test))) return st; /* before any progress line */
        fprintf(stderr, "  accuracy on %lld test images\n", (long long)test->n);
        if ((st = nns_evaluate(g, test, 256, &er))) return st;
        m->accuracy = er.accuracy;
        nns_eval_result_free(&er);
    }
    nns_layer_info *L = NULL;
    int n;
    if ((st = nns_graph_summarize(g, &L, &n, &m->params, &m->nonzero, &m->macs))) return st;
    m->precision[0] = 0;
    for (int i = 0; i < n; i++) {
        if (!L[i].precision[0]) continue;
        if (!m->precision[0]) snprintf(m->precision, sizeof m->precision, "%s", L[i].precision);
        else if (strcmp(m->precision, L[i].precision)) snprintf(m->precision, sizeof m->precision, "mixed");
    }
    free(L);
    m->file_bytes = file ? cli_file_size(file) : -1;
    fprintf(stderr, "  latency at batch 1 and throughput at batch 64\n");
    nns_bench_stats b1, b64;
    if ((st = nns_benchmark_stats(g, 1, 200, &b1))) return st;
    if ((st = nns_benchmark_stats(g, 64, 20, &b64))) return st;
    m->lat_b1 = b1.median_ms;
    m->lat_b1_p90 = b1.p90_ms;
    m->mem_b1 = b1.memory_bytes;
    m->ips_b64 = b64.images_per_second;
    m->mem_b64 = b64.memory_bytes;
    return NNS_OK;
}

nns_status cli_measure_speedup(nns_graph *ref, nns_graph *g, cli_measure *m) {
    nns_status st = nns_benchmark_ratio(ref, g, 1, 5, 100, &m->sp_b1);
    if (!st) st = nns_benchmark_ratio(ref, g, 64, 5, 8, &m->sp_b64);
    m->has_speedup = !st;
    return st;
}

void cli_speed_cell(const nns_speed_ratio *r, char *buf, size_t len) {
    if (r->same) snprintf(buf, len, "no change (%.2f-%.2f)", r->low, r->high);
    else snprintf(buf, len, "%.3fx (%.2f-%.2f)", r->ratio, r->low, r->high);
}

void cli_speed_json(const cli_measure *m) {
    if (!m->has_speedup) return;
    const nns_speed_ratio *r[2] = {&m->sp_b1, &m->sp_b64};
    printf(", \"speedup\": {");
    for (int i = 0; i < 2; i++)
        printf("%s\"%s\": {\"ratio\": %.4f, \"low\": %.4f, \"high\": %.4f, \"no_change\": %s}", i ? ", " : "",
               i ? "b64" : "b1", r[i]->ratio, r[i]->low, r[i]->high, r[i]->same ? "true" : "false");
    printf("}");
}

void cli_speed_rows(const cli_measure *before, const cli_measure *after) {
    char c1[64], c64[64];
    if (after->has_speedup) {
        cli_speed_cell(&after->sp_b1, c1, sizeof c1);
        cli_speed_cell(&after->sp_b64, c64, sizeof c64);
    } else {
        snprintf(c1, sizeof c1, "%.3fx", after->lat_b1 > 0 ? before->lat_b1 / after->lat_b1 : 0.0);
        snprintf(c64, sizeof c64, "%.3fx", before->ips_b64 > 0 ? after->ips_b64 / before->ips_b64 : 0.0);
    }
    printf("%-22s %14.4f %14.4f %s\n", "latency b1 (ms)", before->lat_b1, after->lat_b1, c1);
    printf("%-22s %14.0f %14.0f %s\n", "images/s b64", before->ips_b64, after->ips_b64, c64);
    if (after->has_speedup)
        printf("(speed: median of 5 alternated rounds, the rounds' range in parentheses)\n");
}

void cli_measure_json(const char *key, const cli_measure *m) {
    if (m->accuracy < 0) printf("\"%s\": {\"accuracy\": null, \"params\": %lld,", key, (long long)m->params);
    else printf("\"%s\": {\"accuracy\": %.6f, \"params\": %lld,", key, m->accuracy, (long long)m->params);
    printf(" \"nonzero_params\": %lld, \"macs\": %lld, "
           "\"file_bytes\": %lld, \"latency_ms_b1\": %.4f, \"images_per_second_b64\": %.1f, \"precision\": ",
           (long long)m->nonzero, (long long)m->macs, m->file_bytes, m->lat_b1, m->ips_b64);
    if (m->precision[0]) cli_json_str(stdout, m->precision);
    else printf("null");
    printf("}");
}

int cli_calib_method(const char *name) {
    static const char *const methods[] = {"minmax", "percentile", "entropy", "mse"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, methods[i])) return i;
    return -1;
}
