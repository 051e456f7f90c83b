/* cmd_distill.c — nnslim distill. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim distill --teacher T.onnx [--student ARCH | --student-model S.onnx |\n"
    "                      --student-width W] [OPTIONS] [DATA] -o OUT.onnx\n"
    "\n"
    "Train a small student on a trained teacher's softened outputs (Hinton's knowledge\n"
    "distillation), optionally on its feature maps too (FitNets hints); save the\n"
    "student. Reports teacher and student (and, with --baseline, the same student\n"
    "trained alone with the same recipe and seed): accuracy, size and latency.\n"
    "\n"
    "Loss: A * T^2 * KL(softmax(z_t/T) || softmax(z_s/T)) + (1 - A) * CE(z_s, y)\n"
    "      + sum of BETA * MSE over the hints. The teacher runs in inference mode on\n"
    "      the same (augmented) batches; it is never updated.\n"
    "\n"
    "  --teacher T.onnx       the trained teacher (any model nnslim can run); its\n"
    "                         recorded normalisation is used for the data\n"
    "  --student ARCH         a built-in architecture: lenet300 | lenet5 | vggsmall |\n"
    "                         resnet8 | mobilenet (fresh weights from --seed)\n"
    "  --student-model S.onnx start from this model\n"
    "  --student-width W      the teacher's architecture with every layer's channels\n"
    "                         and hidden neurons scaled by W in (0, 1], fresh weights;\n"
    "                         without any --student option: --student-width 0.5\n"
    CLI_DISTILL_HELP
    "  --baseline             also train the same student without the teacher (same\n"
    "                         recipe, seed and epochs) and report it\n"
    "  --baseline-output B.onnx   save that baseline too\n"
    "  -o, --output OUT.onnx  where to save the student (required)\n"
    "  --epochs N             default: the student architecture's (lenet* 10, others 6),\n"
    "                         else the teacher's architecture's, else 10\n"
    "  --json                 one JSON object on stdout\n"
    "  --lr X                 default 0.05\n"
    CLI_TRAIN_HELP
    "\n" CLI_DATA_HELP
    "\nJSON keys: accuracy (the student's, as in every command's JSON), teacher_file,\n"
    "teacher_accuracy, student_accuracy, baseline_accuracy (null without\n"
    "--baseline), gain (student - baseline, points), and \"teacher\", \"student\",\n"
    "\"baseline\" objects with accuracy, params, nonzero_params, macs, file_bytes,\n"
    "latency_ms_b1, images_per_second_b64; temperature, alpha, epochs, hints,\n"
    "teacher_images, cached_images, seconds, output.\n";

static void print_row(const char *name, const cli_measure *m) {
    printf("%-10s %9.4f %11lld %13lld %12lld %11.4f %13.0f\n", name, m->accuracy, (long long)m->params,
           (long long)m->macs, m->file_bytes, m->lat_b1, m->ips_b64);
}

/* What the command line asked for. */
typedef struct distill_cmd {
    const char *student_arch, *student_model, *out, *base_out;
    float width;
    int epochs, json, baseline;
    cli_train_opts t;
    cli_data_opts d;
    cli_distill_opts k;
    nns_train_config cfg;
    nns_distill_config dc;
    cli_opt opts[64]; /* as parsed: cli_data_normalize asks which were given */
} distill_cmd;

/* The first usage error of the parsed options, or NULL. */
static const char *distill_usage_error(const distill_cmd *c, char *buf, size_t cap) {
    const int by_width = cli_opt_seen(c->opts, "student-width");
    if (!c->k.teacher) return "--teacher T.onnx is required";
    if (!!c->student_arch + !!c->student_model + by_width > 1)
        return "give at most one of --student ARCH, --student-model S.onnx, --student-width W";
    if (by_width && !(c->width > 0 && c->width <= 1)) {
        snprintf(buf, cap, "--student-width must be in (0, 1], not %g", c->width);
        return buf;
    }
    if (!c->out) return "-o OUT.onnx is required";
    if (cli_opt_seen(c->opts, "epochs") && c->epochs < 1) return "--epochs must be >= 1";
    return NULL;
}

/* Parse and check the options: CLI_OK, a usage code, or -1 (help shown). */
static int distill_parse(int argc, char **argv, distill_cmd *c) {
    memset(c, 0, sizeof *c);
    c->width = 0.5f; /* the student when none is named: the teacher at half width */
    cli_train_init(&c->t, 0.05f);
    cli_data_init(&c->d);
    cli_distill_init(&c->k);
    cli_opt opts[] = {{"student", OPT_STR, &c->student_arch, 0},
                      {"student-model", OPT_STR, &c->student_model, 0},
                      {"student-width", OPT_FLOAT, &c->width, 0},
                      {"baseline", OPT_FLAG, &c->baseline, 0},
                      {"baseline-output", OPT_STR, &c->base_out, 0},
                      {"output", OPT_STR, &c->out, 0},
                      {"epochs", OPT_INT, &c->epochs, 0},
                      {"json", OPT_FLAG, &c->json, 0},
                      CLI_DISTILL_OPTS(c->k),
                      CLI_TRAIN_OPTS(c->t),
                      CLI_DATA_OPTS(c->d),
                      {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("distill", argc, argv, opts, pos, 0, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return -1;
    }
    if (r) return r;
    _Static_assert(sizeof opts <= sizeof c->opts, "distill_cmd.opts is too small");
    memcpy(c->opts, opts, sizeof opts);
    char buf[160];
    const char *bad = distill_usage_error(c, buf, sizeof buf);
    if (bad) {
        fprintf(stderr, "nnslim distill: %s\n", bad);
        return CLI_USAGE;
    }
    if (c->base_out) c->baseline = 1;
    if ((r = cli_train_config("distill", &c->t, &c->cfg))) return r;
    return cli_distill_config("distill", &c->k, &c->dc);
}

/* What the run holds (freed by distill_state_free). */
typedef struct distill_state {
    nns_graph *teacher, *student, *base;
    nns_distiller *dist;
    nns_dataset train, test, val;
    float mean, std;
    cli_measure mt, ms, mb;
    nns_train_result tr;
    nns_distill_stats dstats;
} distill_state;

static void distill_state_free(distill_state *s) {
    nns_distiller_free(s->dist);
    nns_dataset_free(&s->train);
    nns_dataset_free(&s->test);
    nns_dataset_free(&s->val);
    nns_graph_free(s->teacher);
    nns_graph_free(s->student);
    nns_graph_free(s->base);
}

/* Epochs: the student architecture's default, else the teacher's (for a
 * width-scaled teacher), else 10; --epochs wins. */
static int distill_epochs(const distill_cmd *c, const distill_state *s) {
    if (c->epochs > 0) return c->epochs;
    const char *t_arch = nns_graph_get_meta(s->teacher, "nnslim.arch");
    const char *s_arch = c->student_arch ? c->student_arch
                                         : (c->student_model ? nns_graph_get_meta(s->student, "nnslim.arch") : NULL);
    if (s_arch && nns_arch_default_epochs(s_arch) > 0) return nns_arch_default_epochs(s_arch);
    if (!c->student_model && t_arch && nns_arch_default_epochs(t_arch) > 0) return nns_arch_default_epochs(t_arch);
    return 10;
}

/* Load the teacher and the data, make the student (recording the data's
 * normalisation and its teacher in it) and the distiller. */
static nns_status distill_prepare(distill_cmd *c, distill_state *s) {
    nns_status st = nns_graph_load_onnx(c->k.teacher, &s->teacher);
    if (st || (st = cli_data_load(&c->d, &s->train, &s->test))) return st;
    if ((st = cli_data_normalize(&c->d, c->opts, s->teacher, &s->train, &s->test, &s->mean, &s->std))) return st;
    if ((st = cli_val_split(&c->t, &s->train, &s->val))) return st;
    if ((st = cli_teacher_fits(c->k.teacher, s->teacher, &s->train)) ||
        (st = cli_teacher_fits(c->k.teacher, s->teacher, &s->test)))
        return st;
    if (c->student_arch) { /* the data's images, the teacher's classes */
        const nns_shape o = nns_graph_output_shape(s->teacher, 0);
        const int classes = o.ndim == 2 && o.dims[1] >= 2 && o.dims[1] <= 100000 ? (int)o.dims[1] : 0;
        st = cli_arch_build(c->student_arch, (uint64_t)c->t.seed, NULL, classes, &s->train, &s->test, &s->student);
    }
    else if (c->student_model) {
        if (!(st = nns_graph_load_onnx(c->student_model, &s->student))) st = cli_keep_zeros("distill", &c->t, s->student);
    } else {
        if (!cli_opt_seen(c->opts, "student-width"))
            fprintf(stderr, "student: the teacher with half its channels (the default; --student, --student-model "
                            "or --student-width choose another)\n");
        st = nns_graph_scale_width(s->teacher, c->width, (uint64_t)c->t.seed, &s->student);
    }
    if (st || (st = nns_check_data(s->student, &s->train))) return st;
    /* the student records the normalisation the teacher's data had */
    if ((st = nns_graph_set_meta(s->student, "nnslim.mean", nns_graph_get_meta(s->teacher, "nnslim.mean"))) ||
        (st = nns_graph_set_meta(s->student, "nnslim.std", nns_graph_get_meta(s->teacher, "nnslim.std"))))
        return st;
    c->cfg.epochs = distill_epochs(c, s);
    if (c->student_arch && (st = nns_graph_set_meta(s->student, "nnslim.arch", c->student_arch))) return st;
    if ((st = nns_graph_set_meta(s->student, "nnslim.teacher", c->k.teacher))) return st;
    if ((st = cli_check_writable(c->out))) return st;
    if (c->base_out && (st = cli_check_writable(c->base_out))) return st;
    if (c->baseline && (st = nns_graph_clone(s->student, &s->base))) return st;
    /* the default: a hint on the penultimate features when both models allow it */
    if (!c->dc.n_hints && !c->k.no_hint && nns_distill_auto_hint_fits(s->teacher, s->student)) {
        c->k.hint[0] = (nns_distill_hint){NNS_DISTILL_HINT_AUTO, NNS_DISTILL_HINT_AUTO, 1.0f};
        c->dc.hints = c->k.hint;
        c->dc.n_hints = 1;
        fprintf(stderr, "hint: the penultimate features of both models (the default; --hint none turns it off)\n");
    }
    /* the distiller checks shapes and hints before any training */
    if ((st = nns_graph_pack_params(s->student))) return st;
    return nns_distiller_create(s->teacher, s->student, &c->dc, s->train.n, c->cfg.batch_size, &s->dist);
}

/* Measure the teacher, distill and measure the student, then the baseline. */
static nns_status distill_run(distill_cmd *c, distill_state *s) {
    fprintf(stderr, "measuring the teacher\n");
    nns_status st = cli_measure_take(s->teacher, &s->test, c->k.teacher, &s->mt);
    if (st) return st;
    fprintf(stderr, "distilling %s into %s on %lld images (%lld test), %d epoch%s, T %g, alpha %g, %d hint%s, %d threads\n",
            c->k.teacher,
            c->student_arch ? c->student_arch : (c->student_model ? c->student_model : "the width-scaled teacher"),
            (long long)s->train.n, (long long)s->test.n, c->cfg.epochs, c->cfg.epochs == 1 ? "" : "s", c->dc.temperature,
            c->dc.alpha, c->dc.n_hints, c->dc.n_hints == 1 ? "" : "s", nns_get_threads());
    nns_train_config dcfg = c->cfg;
    nns_distiller_attach(s->dist, &dcfg);
    nns_dataset *val = s->val.n ? &s->val : NULL;
    if ((st = nns_train(s->student, &s->train, val, &dcfg, &s->tr))) return st;
    if ((st = nns_distiller_finish(s->dist, s->student))) return st;
    nns_distiller_stats(s->dist, &s->dstats);
    if ((st = cli_save_model(&c->t, s->student, c->out))) return st;
    fprintf(stderr, "measuring the student\n");
    if ((st = cli_measure_take(s->student, &s->test, c->out, &s->ms))) return st;
    if (!c->baseline) return NNS_OK;
    fprintf(stderr, "training the baseline: the same student without the teacher\n");
    nns_train_result br;
    if ((st = nns_train(s->base, &s->train, val, &c->cfg, &br))) return st;
    nns_graph_set_meta(s->base, "nnslim.teacher", "");
    if (c->base_out && (st = cli_save_model(&c->t, s->base, c->base_out))) return st;
    if ((st = cli_measure_take(s->base, &s->test, c->base_out, &s->mb))) return st;
    if (!c->base_out) s->mb.file_bytes = s->ms.file_bytes; /* same architecture, same size */
    return NNS_OK;
}

static void distill_report_json(const distill_cmd *c, const distill_state *s) {
    printf("{\"accuracy\": %.6f, \"teacher_file\": ", s->ms.accuracy);
    cli_json_str(stdout, c->k.teacher);
    printf(", \"teacher_accuracy\": %.6f, \"student_accuracy\": %.6f, \"baseline_accuracy\": ", s->mt.accuracy,
           s->ms.accuracy);
    if (c->baseline) printf("%.6f, \"gain\": %.4f, ", s->mb.accuracy, 100.0 * (s->ms.accuracy - s->mb.accuracy));
    else printf("null, \"gain\": null, ");
    cli_measure_json("teacher", &s->mt);
    printf(", ");
    cli_measure_json("student", &s->ms);
    printf(", ");
    if (c->baseline) cli_measure_json("baseline", &s->mb);
    else printf("\"baseline\": null");
    printf(", \"temperature\": %g, \"alpha\": %g, \"epochs\": %d, \"hints\": %d, \"teacher_images\": %lld, "
           "\"cached_images\": %lld, \"seconds\": %.2f, \"output\": ",
           c->dc.temperature, c->dc.alpha, s->tr.epochs, c->dc.n_hints, (long long)s->dstats.teacher_images,
           (long long)s->dstats.cached_images, s->tr.seconds);
    cli_json_str(stdout, c->out);
    printf("}\n");
}

static void distill_report_text(const distill_cmd *c, const distill_state *s) {
    const cli_measure *mt = &s->mt, *ms = &s->ms;
    printf("%-10s %9s %11s %13s %12s %11s %13s\n", "model", "accuracy", "params", "MACs/image", "file bytes",
           "b1 ms", "b64 images/s");
    print_row("teacher", mt);
    print_row("student", ms);
    if (c->baseline) {
        print_row("baseline", &s->mb);
        printf("distillation gain %+.2f points over the baseline\n", 100.0 * (ms->accuracy - s->mb.accuracy));
    }
    printf("student vs teacher: %.2fx fewer parameters, %.2fx fewer MACs, %.2fx faster at batch 1, "
           "accuracy %+.2f points\n",
           ms->params ? (double)mt->params / ms->params : 0, ms->macs ? (double)mt->macs / ms->macs : 0,
           ms->lat_b1 > 0 ? mt->lat_b1 / ms->lat_b1 : 0, 100.0 * (ms->accuracy - mt->accuracy));
    printf("saved %s\n", c->out);
}

int cmd_distill(int argc, char **argv) {
    distill_cmd c;
    int r = distill_parse(argc, argv, &c);
    if (r < 0) return CLI_OK;
    if (r) return r;
    nns_set_threads(c.t.threads);
    distill_state s;
    memset(&s, 0, sizeof s);
    s.mb.accuracy = -1;
    nns_status st = distill_prepare(&c, &s);
    if (!st) st = distill_run(&c, &s);
    if (!st && c.json) distill_report_json(&c, &s);
    else if (!st) distill_report_text(&c, &s);
    distill_state_free(&s);
    return st ? cli_fail("distill", st) : CLI_OK;
}
