/* cmd_sensitivity.c — nnslim sensitivity: prune each layer alone at a sweep
 * of ratios and report accuracy; suggest per-layer ratios for a target. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim sensitivity MODEL.onnx [--method magnitude|channel] [--ratios LIST]\n"
    "                          [--eval-images N] [--target X] [--svg FILE] [--json] [DATA]\n"
    "\n"
    "Prune each prunable layer alone (all others untouched) at each ratio of a sweep,\n"
    "without fine-tuning, and measure accuracy on the first N test images. Prints a\n"
    "table (rows: layers, columns: ratios), and with --target the per-layer ratios that\n"
    "reach that overall ratio with the smallest accuracy drop, ready for\n"
    "'nnslim prune --layer-ratios'.\n"
    "\n"
    "  --method M         magnitude (weights, default) or channel (filters/neurons)\n"
    "  --ratios LIST      comma list in (0, 1), default 0.25,0.5,0.75,0.9\n"
    "  --eval-images N    test images per measurement (default 2000)\n"
    "  --target X         overall fraction to remove (magnitude: of prunable weights;\n"
    "                     channel: of prunable channels), in (0, 1)\n"
    "  --svg FILE         write a plot: accuracy against ratio, one line per layer\n"
    "  --json             one JSON object: baseline_accuracy, ratios, layers[{name, op, params,\n"
    "                     accuracy[]}], and with --target: target, max_drop, layer_ratios{}\n"
    "  --threads N        default: all cores\n"
    "\n" CLI_DATA_HELP;

typedef struct layer_row {
    const char *name;
    const char *op;
    int64_t size; /* weights (magnitude) or output channels (channel) */
    float acc[32];
} layer_row;

static void write_svg(const char *path, const layer_row *rows, int nr, const float *ratios, int nrat,
                      float base, nns_status *st) {
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
            fprintf(f, " %.1f,%.1f", L + pw * ratios[k], T + ph - ph * rows[i].acc[k]);
        fprintf(f, "'/>\n");
        int ly = T + 10 + i * 16;
        if (ly < H - 10) {
            fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='2'%s/>\n", L + pw + 10, ly,
                    L + pw + 30, ly, c, dash);
            fprintf(f, "<text x='%d' y='%d'>", L + pw + 36, ly + 4);
            for (const char *p = rows[i].name; *p; p++) {
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

/* Largest ratio whose accuracy drop stays <= drop (linear between points). */
static float ratio_for_drop(const layer_row *r, const float *ratios, int nrat, float base, float drop) {
    float best = 0, prev_r = 0, prev_a = base;
    for (int k = 0; k < nrat; k++) {
        float a = r->acc[k];
        if (base - a <= drop) {
            best = ratios[k];
        } else {
            /* interpolate between prev and this point */
            float da = prev_a - a;
            if (da > 0) {
                float u = (prev_a - (base - drop)) / da;
                if (u > 0 && u < 1) best = prev_r + u * (ratios[k] - prev_r);
            }
            break;
        }
        prev_r = ratios[k];
        prev_a = a;
    }
    return best;
}

int cmd_sensitivity(int argc, char **argv) {
    const char *method = "magnitude", *ratios_s = "0.25,0.5,0.75,0.9", *svg = NULL;
    int eval_images = 2000, json = 0, threads = 0;
    float target = 0;
    cli_data_opts d;
    cli_data_init(&d);
    cli_opt opts[] = {{"method", OPT_STR, &method, 0}, {"ratios", OPT_STR, &ratios_s, 0},
                      {"eval-images", OPT_INT, &eval_images, 0}, {"target", OPT_FLOAT, &target, 0},
                      {"svg", OPT_STR, &svg, 0}, {"json", OPT_FLAG, &json, 0},
                      {"threads", OPT_INT, &threads, 0}, CLI_DATA_OPTS(d), {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("sensitivity", argc, argv, opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1) {
        fprintf(stderr, "nnslim sensitivity: give one MODEL.onnx (try 'nnslim sensitivity --help')\n");
        return CLI_USAGE;
    }
    int channel = !strcmp(method, "channel");
    if (!channel && strcmp(method, "magnitude")) {
        fprintf(stderr, "nnslim sensitivity: --method must be magnitude or channel, not '%s'\n", method);
        return CLI_USAGE;
    }
    float ratios[32];
    int nrat = 0;
    {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", ratios_s);
        char *save = NULL;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            char *end;
            float v = strtof(tok, &end);
            if (end == tok || *end || !(v > 0 && v < 1) || nrat == 32 || (nrat && v <= ratios[nrat - 1])) {
                fprintf(stderr, "nnslim sensitivity: --ratios takes up to 32 increasing values in (0, 1), not '%s'\n", ratios_s);
                return CLI_USAGE;
            }
            ratios[nrat++] = v;
        }
    }
    if (eval_images < 1 || threads < 0) {
        fprintf(stderr, "nnslim sensitivity: --eval-images must be >= 1 and --threads >= 0\n");
        return CLI_USAGE;
    }
    if (cli_opt_seen(opts, "target") && !(target > 0 && target < 1)) {
        fprintf(stderr, "nnslim sensitivity: --target must be in (0, 1), not %g\n", target);
        return CLI_FAIL;
    }
    nns_set_threads(threads);
    nns_graph *g = NULL;
    nns_dataset test = {0};
    nns_layer_info *L = NULL;
    layer_row *rows = NULL;
    const char **names = NULL;
    int nl = 0, nr = 0, rc = CLI_FAIL;
    float mean, std, base = 0;
    nns_status st = nns_graph_load_onnx(pos[0], &g);
    if (!st) st = cli_data_load(&d, NULL, &test);
    if (!st) st = cli_data_normalize(&d, opts, g, NULL, &test, &mean, &std);
    if (!st) st = nns_check_data(g, &test);
    if (!st && svg) st = cli_check_writable(svg);
    if (!st) st = nns_graph_summarize(g, &L, &nl, NULL, NULL, NULL);
    if (st) goto fail;
    nns_dataset sub = test;
    if (sub.n > eval_images) sub.n = eval_images;
    rows = calloc((size_t)nl + 1, sizeof *rows);
    names = calloc((size_t)nl + 1, sizeof *names);
    if (!rows || !names) {
        st = nns_error(NNS_STATUS_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nl; i++) {
        if (strcmp(L[i].op, "Conv") && strcmp(L[i].op, "Gemm") && strcmp(L[i].op, "MatMul")) continue;
        if (L[i].params <= 0) continue;
        rows[nr].name = L[i].name;
        rows[nr].op = L[i].op;
        rows[nr].size = channel ? (L[i].out_shape.ndim > 1 ? L[i].out_shape.dims[1] : 0) : L[i].params;
        names[nr++] = L[i].name;
    }
    nns_eval_result er;
    if ((st = nns_evaluate(g, &sub, 256, &er))) goto fail;
    base = er.accuracy;
    nns_eval_result_free(&er);
    fprintf(stderr, "baseline accuracy %.4f on %lld images; %d layers x %d ratios\n", base, (long long)sub.n, nr, nrat);
    for (int i = 0; i < nr; i++) {
        for (int k = 0; k < nrat; k++) {
            nns_graph *c = NULL;
            if ((st = nns_graph_clone(g, &c))) goto fail;
            if (channel) {
                nns_structured_config sc;
                memset(&sc, 0, sizeof sc);
                sc.layer_names = &rows[i].name;
                sc.layer_ratios = &ratios[k];
                sc.n_layer_ratios = 1;
                sc.round_to = 1;
                st = nns_prune_structured(c, &sc, NULL);
            } else {
                /* exclude every other prunable layer */
                const char *others[1024];
                int no = 0;
                for (int j = 0; j < nr && no < 1024; j++)
                    if (j != i) others[no++] = names[j];
                nns_prune_exclude ex = {others, no};
                st = nns_prune_magnitude(c, ratios[k], NNS_PRUNE_SCOPE_LAYER, &ex);
            }
            if (st == NNS_STATUS_UNSUPPORTED && channel) {
                /* a layer whose channels cannot be removed (e.g. the classifier) */
                rows[i].acc[k] = base;
                rows[i].size = 0;
                nns_graph_free(c);
                st = NNS_OK;
                continue;
            }
            if (!st) st = nns_evaluate(c, &sub, 256, &er);
            nns_graph_free(c);
            if (st) goto fail;
            rows[i].acc[k] = er.accuracy;
            nns_eval_result_free(&er);
        }
        fprintf(stderr, "  %s done\n", rows[i].name);
    }
    /* suggestion for a target */
    float lr[1024] = {0}, drop_found = -1;
    if (target > 0) {
        double tot = 0;
        for (int i = 0; i < nr; i++) tot += (double)rows[i].size;
        float lo = 0, hi = 1;
        for (int it = 0; it < 40; it++) {
            float mid = 0.5f * (lo + hi);
            double rem = 0;
            for (int i = 0; i < nr; i++) rem += rows[i].size * ratio_for_drop(&rows[i], ratios, nrat, base, mid);
            if (rem >= target * tot) hi = mid;
            else lo = mid;
        }
        double rem = 0;
        for (int i = 0; i < nr; i++) {
            lr[i] = rows[i].size ? ratio_for_drop(&rows[i], ratios, nrat, base, hi) : 0;
            rem += rows[i].size * lr[i];
        }
        if (rem + 1e-9 < target * tot) {
            st = nns_error(NNS_STATUS_INVALID_ARG, "--target %g cannot be reached with ratios up to %g", target, ratios[nrat - 1]);
            goto fail;
        }
        drop_found = hi;
    }
    if (svg) {
        write_svg(svg, rows, nr, ratios, nrat, base, &st);
        if (st) goto fail;
    }
    if (json) {
        printf("{\"model\": ");
        cli_json_str(stdout, pos[0]);
        printf(", \"method\": \"%s\", \"eval_images\": %lld, \"baseline_accuracy\": %.6f, \"ratios\": [", method,
               (long long)sub.n, base);
        for (int k = 0; k < nrat; k++) printf(k ? ", %.4f" : "%.4f", ratios[k]);
        printf("], \"layers\": [");
        for (int i = 0; i < nr; i++) {
            printf(i ? ", {\"name\": " : "{\"name\": ");
            cli_json_str(stdout, rows[i].name);
            printf(", \"op\": \"%s\", \"size\": %lld, \"accuracy\": [", rows[i].op, (long long)rows[i].size);
            for (int k = 0; k < nrat; k++) printf(k ? ", %.6f" : "%.6f", rows[i].acc[k]);
            printf("]}");
        }
        printf("]");
        if (target > 0) {
            printf(", \"target\": %.4f, \"max_drop\": %.6f, \"layer_ratios\": {", target, drop_found);
            for (int i = 0; i < nr; i++) {
                if (i) printf(", ");
                cli_json_str(stdout, rows[i].name);
                printf(": %.4f", lr[i]);
            }
            printf("}");
        }
        printf("}\n");
    } else {
        printf("baseline accuracy %.4f (%lld test images)\n%-28s", base, (long long)sub.n, "layer");
        for (int k = 0; k < nrat; k++) printf("  r=%.2f", ratios[k]);
        printf("\n");
        for (int i = 0; i < nr; i++) {
            printf("%-28s", rows[i].name);
            for (int k = 0; k < nrat; k++) printf("  %6.4f", rows[i].acc[k]);
            printf("\n");
        }
        if (target > 0) {
            printf("per-layer ratios for an overall %.2f (accuracy drop per layer <= %.4f):\n--layer-ratios ", target, drop_found);
            int first = 1;
            for (int i = 0; i < nr; i++) {
                if (lr[i] <= 0) continue;
                printf("%s%s=%.3f", first ? "" : ",", rows[i].name, lr[i]);
                first = 0;
            }
            printf("\n");
        }
        if (svg) printf("plot: %s\n", svg);
    }
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_fail("sensitivity", st);
done:
    free(rows);
    free(names);
    free(L);
    nns_dataset_free(&test);
    nns_graph_free(g);
    return rc;
}
