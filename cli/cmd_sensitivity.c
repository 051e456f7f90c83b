/* cmd_sensitivity.c — nnslim sensitivity: prune each layer alone at a sweep
 * of ratios and report accuracy; suggest per-layer ratios for a target. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim sensitivity MODEL.onnx [--method magnitude|channel|quant] [--ratios LIST]\n"
    "                          [--eval-images N] [--target X] [--svg FILE] [--json] [DATA]\n"
    "\n"
    "Prune each prunable layer alone (all others untouched) at each ratio of a sweep,\n"
    "without fine-tuning, and measure accuracy on the first N test images. Prints a\n"
    "table (rows: layers, columns: ratios), and with --target the per-layer ratios that\n"
    "reach that overall ratio with the smallest accuracy drop, ready for\n"
    "'nnslim prune --layer-ratios'.\n"
    "With --method quant: quantize each layer alone to 8 bits (as 'nnslim quantize'\n"
    "would, inputs calibrated once on training images, BatchNorm folded) and print the\n"
    "accuracy each costs: which layer breaks quantization.\n"
    "\n"
    "  --method M         magnitude (weights, default), channel (filters/neurons) or quant\n"
    "  --calib M, --calib-samples N, --per-tensor, --activations uint8|int8|float\n"
    "                     quant: as for 'nnslim quantize' (defaults minmax, 1000, per\n"
    "                     channel, uint8)\n"
    "  --ratios LIST      comma list in (0, 1), default 0.25,0.5,0.75,0.9\n"
    "  --eval-images N    test images per measurement (default 2000)\n"
    "  --target X         overall fraction to remove (magnitude: of prunable weights;\n"
    "                     channel: of prunable channels), in (0, 1)\n"
    "  --svg FILE         write a plot: accuracy against ratio, one line per layer\n"
    "  --json             one JSON object: baseline_accuracy, ratios, layers[{name, op, size\n"
    "                     (its weights, or channels), accuracy[]}], and with --target: target,\n"
    "                     max_drop, layer_ratios{}; quant: layers[{name, op, size,\n"
    "                     accuracy, drop}] and the worst layer\n"
    "  --threads N        default: all cores\n"
    "\n" CLI_DATA_HELP;

static void write_svg(const char *path, const nns_sweep_table *t, nns_status *st) {
    const float *ratios = t->levels;
    const float base = t->baseline;
    const int nr = t->n_units, nrat = t->n_levels;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        *st = nns_error(NNS_STATUS_IO, "cannot write '%s'", path);
        return;
    }
    const int W = 760, H = 460, L = 60, R = 230, T = 30, B = 50;
    const int pw = W - L - R, ph = H - T - B;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n", W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='%d' y='18' font-size='14'>Sensitivity: accuracy when one layer is pruned alone</text>\n", L);
    /* axes: x ratio 0..1, y accuracy 0..1 */
    for (int k = 0; k <= 10; k++) {
        double y = T + ph - ph * k / 10.0, x = L + pw * k / 10.0;
        fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>\n", L, y, L + pw, y);
        fprintf(f, "<text x='%d' y='%.1f' text-anchor='end'>%.1f</text>\n", L - 6, y + 4, k / 10.0);
        fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#ddd'/>\n", x, T, x, T + ph);
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle'>%.1f</text>\n", x, T + ph + 16, k / 10.0);
    }
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='black'/>\n", L, T, pw, ph);
    fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>pruning ratio of the layer</text>\n", L + pw / 2, H - 10);
    fprintf(f, "<text x='16' y='%d' transform='rotate(-90 16 %d)' text-anchor='middle'>accuracy</text>\n", T + ph / 2, T + ph / 2);
    fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='black' stroke-dasharray='4 3'/>\n", L,
            T + ph - ph * base, L + pw, T + ph - ph * base);
    fprintf(f, "<text x='%d' y='%.1f' font-size='11'>baseline %.4f</text>\n", L + 4, T + ph - ph * base - 4, base);
    static const char *colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                                   "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    for (int i = 0; i < nr; i++) {
        const char *c = colors[i % 10];
        const char *dash = (i / 10) % 2 ? " stroke-dasharray='6 3'" : "";
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2'%s points='%d,%.1f", c, dash, L, T + ph - ph * base);
        for (int k = 0; k < nrat; k++)
            fprintf(f, " %.1f,%.1f", L + pw * ratios[k], T + ph - ph * t->score[(size_t)i * nrat + k]);
        fprintf(f, "'/>\n");
        int ly = T + 10 + i * 16;
        if (ly < H - 10) {
            fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='2'%s/>\n", L + pw + 10, ly,
                    L + pw + 30, ly, c, dash);
            fprintf(f, "<text x='%d' y='%d'>", L + pw + 36, ly + 4);
            for (const char *p = t->units[i].name; *p; p++) {
                if (*p == '<') fputs("&lt;", f);
                else if (*p == '&') fputs("&amp;", f);
                else fputc(*p, f);
            }
            fprintf(f, "</text>\n");
        }
    }
    fprintf(f, "</svg>\n");
    if (fclose(f) || rename(tmp, path)) {
        remove(tmp);
        *st = nns_error(NNS_STATUS_IO, "cannot write '%s'", path);
    }
}

typedef struct sens_args {
    const char *model, *method, *ratios_s, *svg, *calib, *acts;
    int eval_images, json, threads, channel, quant, calib_samples, per_tensor;
    float target;
    float ratios[32];
    int nrat;
    cli_data_opts d;
    cli_opt opts[32];
} sens_args;

/* Parse and check the options: -1 to go on, else the exit code. */
static int sens_parse(sens_args *a, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->method = "magnitude";
    a->ratios_s = "0.25,0.5,0.75,0.9";
    a->eval_images = 2000;
    a->calib = "minmax";
    a->acts = "uint8";
    a->calib_samples = 1000;
    cli_data_init(&a->d);
    cli_opt opts[] = {{"method", OPT_STR, &a->method, 0}, {"ratios", OPT_STR, &a->ratios_s, 0},
                      {"eval-images", OPT_INT, &a->eval_images, 0}, {"target", OPT_FLOAT, &a->target, 0},
                      {"svg", OPT_STR, &a->svg, 0}, {"json", OPT_FLAG, &a->json, 0},
                      {"threads", OPT_INT, &a->threads, 0}, {"calib", OPT_STR, &a->calib, 0},
                      {"calib-samples", OPT_INT, &a->calib_samples, 0}, {"per-tensor", OPT_FLAG, &a->per_tensor, 0},
                      {"activations", OPT_STR, &a->acts, 0}, CLI_DATA_OPTS(a->d), {NULL, 0, NULL, 0}};
    _Static_assert(sizeof opts <= sizeof a->opts, "sens_args.opts is too small");
    memcpy(a->opts, opts, sizeof opts);
    const char *pos[1];
    int npos;
    int r = cli_parse("sensitivity", argc, argv, a->opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1) {
        fprintf(stderr, "nnslim sensitivity: give one MODEL.onnx (try 'nnslim sensitivity --help')\n");
        return CLI_USAGE;
    }
    a->model = pos[0];
    a->channel = !strcmp(a->method, "channel");
    a->quant = !strcmp(a->method, "quant");
    if (!a->channel && !a->quant && strcmp(a->method, "magnitude")) {
        fprintf(stderr, "nnslim sensitivity: --method must be magnitude, channel or quant, not '%s'\n", a->method);
        return CLI_USAGE;
    }
    if (a->quant && (cli_opt_seen(a->opts, "target") || cli_opt_seen(a->opts, "ratios"))) {
        fprintf(stderr, "nnslim sensitivity: --target and --ratios are for the pruning methods\n");
        return CLI_USAGE;
    }
    char buf[512];
    snprintf(buf, sizeof buf, "%s", a->ratios_s);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        float v = strtof(tok, &end);
        if (end == tok || *end || !(v > 0 && v < 1) || a->nrat == 32 || (a->nrat && v <= a->ratios[a->nrat - 1])) {
            fprintf(stderr, "nnslim sensitivity: --ratios takes up to 32 increasing values in (0, 1), not '%s'\n",
                    a->ratios_s);
            return CLI_USAGE;
        }
        a->ratios[a->nrat++] = v;
    }
    if (a->eval_images < 1 || a->threads < 0) {
        fprintf(stderr, "nnslim sensitivity: --eval-images must be >= 1 and --threads >= 0\n");
        return CLI_USAGE;
    }
    if (cli_opt_seen(a->opts, "target") && !(a->target > 0 && a->target < 1)) {
        fprintf(stderr, "nnslim sensitivity: --target must be in (0, 1), not %g\n", a->target);
        return CLI_USAGE;
    }
    return -1;
}

static void sens_progress(void *user, const nns_sweep_table *t, int unit) {
    if (unit < 0)
        fprintf(stderr, "baseline accuracy %.4f on %lld images; %d layers x %d ratios\n", t->baseline,
                (long long)*(const int64_t *)user, t->n_units, t->n_levels);
    else
        fprintf(stderr, "  %s done\n", t->units[unit].name);
}

/* The sweep on the first eval_images test images, and with --target the
 * per-layer ratios (lr, t->n_units floats, malloc'd) and the drop found. */
static nns_status sens_run(const sens_args *a, nns_graph *g, const nns_dataset *test, nns_sweep_table *t,
                           float **lr, float *drop_found) {
    nns_dataset sub = *test;
    if (sub.n > a->eval_images) sub.n = a->eval_images;
    nns_sweep_unit *units = NULL;
    int nu = 0;
    nns_status st = nns_prune_sweep_units(g, a->channel, &units, &nu);
    if (st) return st;
    nns_prune_perturb pp = {a->channel};
    nns_sweep_eval_data ed = {&sub, 256};
    nns_sweep_config sc = {units, nu, a->ratios, a->nrat, nns_prune_perturb_layer, &pp,
                           nns_sweep_eval_accuracy, &ed, sens_progress, &sub.n};
    st = nns_sweep_run(g, &sc, t);
    free(units);
    if (st || a->target <= 0) return st;
    if (!(*lr = calloc((size_t)t->n_units + 1, sizeof **lr))) return nns_error(NNS_STATUS_NOMEM, "out of memory");
    if (nns_sweep_allocate(t, a->target, *lr, drop_found))
        return nns_error(NNS_STATUS_INVALID_ARG, "--target %g cannot be reached with ratios up to %g", a->target,
                         a->ratios[a->nrat - 1]);
    return NNS_OK;
}

static void sens_json(const sens_args *a, const nns_sweep_table *t, int64_t n_images, const float *lr,
                      float drop_found) {
    printf("{\"model\": ");
    cli_json_str(stdout, a->model);
    printf(", \"method\": \"%s\", \"eval_images\": %lld, \"baseline_accuracy\": %.6f, \"ratios\": [", a->method,
           (long long)n_images, t->baseline);
    for (int k = 0; k < t->n_levels; k++) printf(k ? ", %.4f" : "%.4f", t->levels[k]);
    printf("], \"layers\": [");
    for (int i = 0; i < t->n_units; i++) {
        printf(i ? ", {\"name\": " : "{\"name\": ");
        cli_json_str(stdout, t->units[i].name);
        printf(", \"op\": \"%s\", \"size\": %lld, \"accuracy\": [", t->units[i].op, (long long)t->units[i].size);
        for (int k = 0; k < t->n_levels; k++) printf(k ? ", %.6f" : "%.6f", t->score[(size_t)i * t->n_levels + k]);
        printf("]}");
    }
    printf("]");
    if (a->target > 0) {
        printf(", \"target\": %.4f, \"max_drop\": %.6f, \"layer_ratios\": {", a->target, drop_found);
        for (int i = 0; i < t->n_units; i++) {
            if (i) printf(", ");
            cli_json_str(stdout, t->units[i].name);
            printf(": %.4f", lr[i]);
        }
        printf("}");
    }
    printf("}\n");
}

static void sens_text(const sens_args *a, const nns_sweep_table *t, int64_t n_images, const float *lr,
                      float drop_found) {
    printf("baseline accuracy %.4f (%lld test images)\n%-28s", t->baseline, (long long)n_images, "layer");
    for (int k = 0; k < t->n_levels; k++) printf("  r=%.2f", t->levels[k]);
    printf("\n");
    for (int i = 0; i < t->n_units; i++) {
        printf("%-28s", t->units[i].name);
        for (int k = 0; k < t->n_levels; k++) printf("  %6.4f", t->score[(size_t)i * t->n_levels + k]);
        printf("\n");
    }
    if (a->target > 0) {
        printf("per-layer ratios for an overall %.2f (accuracy drop per layer <= %.4f):\n--layer-ratios ", a->target,
               drop_found);
        int first = 1;
        for (int i = 0; i < t->n_units; i++) {
            if (lr[i] <= 0) continue;
            printf("%s%s=%.3f", first ? "" : ",", t->units[i].name, lr[i]);
            first = 0;
        }
        printf("\n");
    }
    if (a->svg) printf("plot: %s\n", a->svg);
}

/* ---- --method quant ---- */

/* The library's config from the options: -1 or the exit code. */
static int sens_quant_config(const sens_args *a, nns_ptq_config *cfg) {
    nns_ptq_config_init(cfg);
    const int m = cli_calib_method(a->calib);
    if (m < 0 || (strcmp(a->acts, "uint8") && strcmp(a->acts, "int8") && strcmp(a->acts, "float"))) {
        fprintf(stderr, "nnslim sensitivity: %s\n", m < 0 ? "--calib must be minmax, percentile, entropy or mse"
                                                          : "--activations must be uint8, int8 or float");
        return CLI_USAGE;
    }
    if (a->calib_samples < 1) {
        fprintf(stderr, "nnslim sensitivity: --calib-samples must be >= 1, not %d\n", a->calib_samples);
        return CLI_USAGE;
    }
    cfg->calib = (nns_calib_method)m;
    cfg->calib_samples = a->calib_samples;
    cfg->per_channel = !a->per_tensor;
    cfg->act_signed = !strcmp(a->acts, "int8");
    cfg->weight_only = !strcmp(a->acts, "float");
    return -1;
}

/* Bars: each layer's accuracy drop when it alone is quantized. */
static void write_svg_quant(const char *path, const nns_sweep_table *t, nns_status *st) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        *st = nns_error(NNS_STATUS_IO, "cannot write '%s'", path);
        return;
    }
    float worst = 0.001f;
    for (int i = 0; i < t->n_units; i++) worst = fmaxf(worst, t->baseline - t->score[i]);
    const int L = 230, W = 760, row = 22, T = 40, pw = W - L - 80, H = T + row * t->n_units + 40;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' font-family='sans-serif' font-size='12'>\n", W, H);
    fprintf(f, "<rect width='100%%' height='100%%' fill='white'/>\n");
    fprintf(f, "<text x='10' y='20' font-size='14'>Accuracy lost when one layer is quantized to 8 bits alone "
               "(baseline %.4f)</text>\n", t->baseline);
    for (int i = 0; i < t->n_units; i++) {
        const float d = t->baseline - t->score[i], y = (float)(T + row * i);
        const float w = d > 0 ? pw * d / worst : 0;
        fprintf(f, "<text x='%d' y='%.1f' text-anchor='end'>", L - 8, y + 14);
        for (const char *p = t->units[i].name; *p; p++) {
            if (*p == '<') fputs("&lt;", f);
            else if (*p == '&') fputs("&amp;", f);
            else fputc(*p, f);
        }
        fprintf(f, "</text>\n<rect x='%d' y='%.1f' width='%.1f' height='%d' fill='%s'/>\n", L, y + 3, w, row - 6,
                d >= worst * 0.999f ? "#d62728" : "#1f77b4");
        fprintf(f, "<text x='%.1f' y='%.1f'>%+.2f pts</text>\n", L + w + 6, y + 14, 100.0 * (t->score[i] - t->baseline));
    }
    fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/>\n", L, T, L, T + row * t->n_units);
    fprintf(f, "</svg>\n");
    if (fclose(f) || rename(tmp, path)) {
        remove(tmp);
        *st = nns_error(NNS_STATUS_IO, "cannot write '%s'", path);
    }
}

static int sens_worst(const nns_sweep_table *t) {
    int w = 0;
    for (int i = 1; i < t->n_units; i++) w = t->score[i] < t->score[w] ? i : w;
    return w;
}

static void sens_quant_report(const sens_args *a, const nns_sweep_table *t, int64_t n_images) {
    const int w = sens_worst(t);
    if (a->json) {
        printf("{\"model\": ");
        cli_json_str(stdout, a->model);
        printf(", \"method\": \"quant\", \"calib\": \"%s\", \"activations\": \"%s\", \"per_channel\": %s, "
               "\"eval_images\": %lld, \"baseline_accuracy\": %.6f, \"layers\": [",
               a->calib, a->acts, a->per_tensor ? "false" : "true", (long long)n_images, t->baseline);
        for (int i = 0; i < t->n_units; i++) {
            printf(i ? ", {\"name\": " : "{\"name\": ");
            cli_json_str(stdout, t->units[i].name);
            printf(", \"op\": \"%s\", \"size\": %lld, \"accuracy\": %.6f, \"drop\": %.6f}", t->units[i].op,
                   (long long)t->units[i].size, t->score[i], t->baseline - t->score[i]);
        }
        printf("], \"worst\": ");
        if (t->n_units) cli_json_str(stdout, t->units[w].name);
        else printf("null");
        printf("}\n");
        return;
    }
    printf("baseline accuracy %.4f (%lld test images); each layer quantized alone (%s, activations %s):\n",
           t->baseline, (long long)n_images, a->calib, a->acts);
    printf("%-28s %-8s %10s %9s %10s\n", "layer", "op", "weights", "accuracy", "change");
    for (int i = 0; i < t->n_units; i++)
        printf("%-28s %-8s %10lld %9.4f %+9.2f pts\n", t->units[i].name, t->units[i].op, (long long)t->units[i].size,
               t->score[i], 100.0 * (t->score[i] - t->baseline));
    if (t->n_units) printf("most sensitive: %s\n", t->units[w].name);
    if (a->svg) printf("plot: %s\n", a->svg);
}

/* Load the training set for calibration, run the per-layer quantization
 * sweep on the first eval_images test images, report. */
static nns_status sens_quant(const sens_args *a, nns_graph *g, nns_dataset *test) {
    nns_ptq_config cfg;
    sens_quant_config(a, &cfg); /* checked in cmd_sensitivity */
    nns_dataset train = {0}, none = {0};
    float mean, std;
    nns_sweep_table t = {0};
    nns_status st = cli_data_load(&a->d, &train, &none);
    if (!st) st = cli_data_normalize(&a->d, a->opts, g, &train, NULL, &mean, &std);
    nns_dataset sub = *test;
    if (sub.n > a->eval_images) sub.n = a->eval_images;
    nns_sweep_eval_data ed = {&sub, 256};
    if (!st) st = nns_quant_sensitivity(g, &train, &cfg, nns_sweep_eval_accuracy, &ed, sens_progress, &sub.n, &t);
    if (!st && a->svg) write_svg_quant(a->svg, &t, &st);
    if (!st) sens_quant_report(a, &t, sub.n);
    nns_sweep_table_free(&t);
    nns_dataset_free(&train);
    nns_dataset_free(&none);
    return st;
}

int cmd_sensitivity(int argc, char **argv) {
    sens_args a;
    int rc = sens_parse(&a, argc, argv);
    if (rc >= 0) return rc;
    nns_ptq_config qc;
    if (a.quant && (rc = sens_quant_config(&a, &qc)) >= 0) return rc;
    nns_set_threads(a.threads);
    nns_graph *g = NULL;
    nns_dataset test = {0};
    nns_sweep_table t = {0};
    float mean, std, drop_found = -1, *lr = NULL;
    nns_status st = nns_graph_load_onnx(a.model, &g);
    if (!st) st = cli_data_load(&a.d, NULL, &test);
    if (!st) st = cli_data_normalize(&a.d, a.opts, g, NULL, &test, &mean, &std);
    if (!st) st = nns_check_data(g, &test);
    if (!st && a.svg) st = cli_check_writable(a.svg);
    if (!st && a.quant) {
        st = sens_quant(&a, g, &test);
        rc = st ? cli_fail("sensitivity", st) : CLI_OK;
        nns_dataset_free(&test);
        nns_graph_free(g);
        return rc;
    }
    if (!st) st = sens_run(&a, g, &test, &t, &lr, &drop_found);
    if (!st && a.svg) write_svg(a.svg, &t, &st);
    if (!st) {
        int64_t n_images = test.n < a.eval_images ? test.n : a.eval_images;
        if (a.json) sens_json(&a, &t, n_images, lr, drop_found);
        else sens_text(&a, &t, n_images, lr, drop_found);
    }
    rc = st ? cli_fail("sensitivity", st) : CLI_OK;
    free(lr);
    nns_sweep_table_free(&t);
    nns_dataset_free(&test);
    nns_graph_free(g);
    return rc;
}
