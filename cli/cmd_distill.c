/* cmd_distill.c — nnslim distill. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim distill --teacher T.onnx (--student ARCH | --student-model S.onnx |\n"
    "                      --student-width W) [OPTIONS] [DATA] -o OUT.onnx\n"
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
    "                         and hidden neurons scaled by W in (0, 1], fresh weights\n"
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
    "\nJSON keys: teacher_accuracy, student_accuracy, baseline_accuracy (null without\n"
    "--baseline), gain (student - baseline, points), and \"teacher\", \"student\",\n"
    "\"baseline\" objects with accuracy, params, nonzero_params, macs, file_bytes,\n"
    "latency_ms_b1, images_per_second_b64; temperature, alpha, epochs, hints,\n"
    "teacher_images, cached_images, seconds, output.\n";

static void print_row(const char *name, const cli_measure *m) {
    printf("%-10s %9.4f %11lld %13lld %12lld %11.4f %13.0f\n", name, m->accuracy, (long long)m->params,
           (long long)m->macs, m->file_bytes, m->lat_b1, m->ips_b64);
}

int cmd_distill(int argc, char **argv) {
    const char *student_arch = NULL, *student_model = NULL, *out = NULL, *base_out = NULL;
    float width = 0;
    int epochs = 0, json = 0, baseline = 0;
    cli_train_opts t;
    cli_train_init(&t, 0.05f);
    cli_data_opts d;
    cli_data_init(&d);
    cli_distill_opts k;
    cli_distill_init(&k);
    cli_opt opts[] = {{"student", OPT_STR, &student_arch, 0},
                      {"student-model", OPT_STR, &student_model, 0},
                      {"student-width", OPT_FLOAT, &width, 0},
                      {"baseline", OPT_FLAG, &baseline, 0},
                      {"baseline-output", OPT_STR, &base_out, 0},
                      {"output", OPT_STR, &out, 0},
                      {"epochs", OPT_INT, &epochs, 0},
                      {"json", OPT_FLAG, &json, 0},
                      CLI_DISTILL_OPTS(k),
                      CLI_TRAIN_OPTS(t),
                      CLI_DATA_OPTS(d),
                      {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("distill", argc, argv, opts, pos, 0, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (!k.teacher) {
        fprintf(stderr, "nnslim distill: --teacher T.onnx is required\n");
        return CLI_USAGE;
    }
    int kinds = !!student_arch + !!student_model + cli_opt_seen(opts, "student-width");
    if (kinds != 1) {
        fprintf(stderr, "nnslim distill: give exactly one of --student ARCH, --student-model S.onnx, --student-width W\n");
        return CLI_USAGE;
    }
    if (cli_opt_seen(opts, "student-width") && !(width > 0 && width <= 1)) {
        fprintf(stderr, "nnslim distill: --student-width must be in (0, 1], not %g\n", width);
        return CLI_USAGE;
    }
    if (!out) {
        fprintf(stderr, "nnslim distill: -o OUT.onnx is required\n");
        return CLI_USAGE;
    }
    if (base_out && !baseline) baseline = 1;
    if (cli_opt_seen(opts, "epochs") && epochs < 1) {
        fprintf(stderr, "nnslim distill: --epochs must be >= 1\n");
        return CLI_USAGE;
    }
    nns_train_config cfg;
    if ((r = cli_train_config("distill", &t, &cfg))) return r;
    nns_distill_config dc;
    if ((r = cli_distill_config("distill", &k, &dc))) return r;
    nns_set_threads(t.threads);

    nns_graph *teacher = NULL, *student = NULL, *base = NULL;
    nns_distiller *dist = NULL;
    nns_dataset train = {0}, test = {0}, val = {0};
    cli_measure mt, ms, mb;
    memset(&mb, 0, sizeof mb);
    mb.accuracy = -1;
    int rc = CLI_FAIL;
    float mean, std;
    nns_status st = nns_graph_load_onnx(k.teacher, &teacher);
    if (st) goto fail;
    if ((st = cli_data_load(&d, &train, &test))) goto fail;
    if ((st = cli_data_normalize(&d, opts, teacher, &train, &test, &mean, &std))) goto fail;
    if ((st = cli_val_split(&t, &train, &val))) goto fail;
    if ((st = cli_teacher_fits(k.teacher, teacher, &train)) || (st = cli_teacher_fits(k.teacher, teacher, &test)))
        goto fail;
    if (student_arch) st = nns_arch_build(student_arch, (uint64_t)t.seed, &student);
    else if (student_model) st = nns_graph_load_onnx(student_model, &student);
    else st = nns_graph_scale_width(teacher, width, (uint64_t)t.seed, &student);
    if (st) goto fail;
    if ((st = nns_check_data(student, &train))) goto fail;
    {
        char buf[64];
        snprintf(buf, sizeof buf, "%.9g", mean);
        if ((st = nns_graph_set_meta(student, "nnslim.mean", buf))) goto fail;
        snprintf(buf, sizeof buf, "%.9g", std);
        if ((st = nns_graph_set_meta(student, "nnslim.std", buf))) goto fail;
    }
    const char *t_arch = nns_graph_get_meta(teacher, "nnslim.arch");
    const char *s_arch = student_arch ? student_arch : (student_model ? nns_graph_get_meta(student, "nnslim.arch") : NULL);
    if (s_arch && nns_arch_default_epochs(s_arch) > 0) cfg.epochs = nns_arch_default_epochs(s_arch);
    else if (!student_model && t_arch && nns_arch_default_epochs(t_arch) > 0) cfg.epochs = nns_arch_default_epochs(t_arch);
    else cfg.epochs = 10;
    if (epochs > 0) cfg.epochs = epochs;
    if (student_arch && (st = nns_graph_set_meta(student, "nnslim.arch", student_arch))) goto fail;
    if ((st = nns_graph_set_meta(student, "nnslim.teacher", k.teacher))) goto fail;
    if ((st = cli_check_writable(out))) goto fail;
    if (base_out && (st = cli_check_writable(base_out))) goto fail;
    if (baseline && (st = nns_graph_clone(student, &base))) goto fail;
    /* the distiller checks shapes and hints before any training */
    if ((st = nns_graph_pack_params(student))) goto fail;
    if ((st = nns_distiller_create(teacher, student, &dc, train.n, cfg.batch_size, &dist))) goto fail;

    fprintf(stderr, "measuring the teacher\n");
    if ((st = cli_measure_take(teacher, &test, k.teacher, &mt))) goto fail;
    fprintf(stderr, "distilling %s into %s on %lld images (%lld test), %d epochs, T %g, alpha %g, %d hints, %d threads\n",
            k.teacher,
            student_arch ? student_arch : (student_model ? student_model : "the width-scaled teacher"),
            (long long)train.n, (long long)test.n, cfg.epochs, dc.temperature, dc.alpha, dc.n_hints,
            nns_get_threads());
    nns_train_config dcfg = cfg;
    nns_distiller_attach(dist, &dcfg);
    nns_train_result tr, br;
    if ((st = nns_train(student, &train, val.n ? &val : NULL, &dcfg, &tr))) goto fail;
    if ((st = nns_distiller_finish(dist, student))) goto fail;
    nns_distill_stats dstats;
    nns_distiller_stats(dist, &dstats);
    if ((st = nns_graph_save_onnx(student, out))) goto fail;
    fprintf(stderr, "measuring the student\n");
    if ((st = cli_measure_take(student, &test, out, &ms))) goto fail;
    if (baseline) {
        fprintf(stderr, "training the baseline: the same student without the teacher\n");
        if ((st = nns_train(base, &train, val.n ? &val : NULL, &cfg, &br))) goto fail;
        nns_graph_set_meta(base, "nnslim.teacher", "");
        if (base_out && (st = nns_graph_save_onnx(base, base_out))) goto fail;
        if ((st = cli_measure_take(base, &test, base_out, &mb))) goto fail;
        if (!base_out) mb.file_bytes = ms.file_bytes; /* same architecture, same size */
    }
    if (json) {
        printf("{\"teacher_accuracy\": %.6f, \"student_accuracy\": %.6f, \"baseline_accuracy\": ", mt.accuracy,
               ms.accuracy);
        if (baseline) printf("%.6f, \"gain\": %.4f, ", mb.accuracy, 100.0 * (ms.accuracy - mb.accuracy));
        else printf("null, \"gain\": null, ");
        cli_measure_json("teacher", &mt);
        printf(", ");
        cli_measure_json("student", &ms);
        printf(", ");
        if (baseline) cli_measure_json("baseline", &mb);
        else printf("\"baseline\": null");
        printf(", \"temperature\": %g, \"alpha\": %g, \"epochs\": %d, \"hints\": %d, \"teacher_images\": %lld, "
               "\"cached_images\": %lld, \"seconds\": %.2f, \"output\": ",
               dc.temperature, dc.alpha, tr.epochs, dc.n_hints, (long long)dstats.teacher_images,
               (long long)dstats.cached_images, tr.seconds);
        cli_json_str(stdout, out);
        printf("}\n");
    } else {
        printf("%-10s %9s %11s %13s %12s %11s %13s\n", "model", "accuracy", "params", "MACs/image", "file bytes",
               "b1 ms", "b64 images/s");
        print_row("teacher", &mt);
        print_row("student", &ms);
        if (baseline) {
            print_row("baseline", &mb);
            printf("distillation gain %+.2f points over the baseline\n", 100.0 * (ms.accuracy - mb.accuracy));
        }
        printf("student vs teacher: %.2fx fewer parameters, %.2fx fewer MACs, %.2fx faster at batch 1, "
               "accuracy %+.2f points\n",
               ms.params ? (double)mt.params / ms.params : 0, ms.macs ? (double)mt.macs / ms.macs : 0,
               ms.lat_b1 > 0 ? mt.lat_b1 / ms.lat_b1 : 0, 100.0 * (ms.accuracy - mt.accuracy));
        printf("saved %s\n", out);
    }
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_fail("distill", st);
done:
    nns_distiller_free(dist);
    nns_dataset_free(&train);
    nns_dataset_free(&test);
    nns_dataset_free(&val);
    nns_graph_free(teacher);
    nns_graph_free(student);
    nns_graph_free(base);
    return rc;
}
