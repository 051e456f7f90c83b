/* cmd_train.c — nnslim train. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim train (--arch NAME | --model FILE.onnx) [DATA] [OPTIONS] -o OUT.onnx\n"
    "\n"
    "Train a built-in architecture from scratch, or continue training an ONNX model,\n"
    "on the CPU; evaluate on the test set; save the result as ONNX (opset 13).\n"
    "\n"
    "  --arch NAME            lenet300 | lenet5 | vggsmall | resnet8 | mobilenet\n"
    "  --model FILE.onnx      start from this model instead (pruning masks are kept)\n"
    "  -o, --output OUT.onnx  where to save the trained model (required)\n"
    "  --epochs N             default: the architecture's (lenet* 10, others 6; 10 for --model)\n"
    "  --slim-penalty X       L1 penalty on BatchNorm scales (Network Slimming), default 0\n"
    "  --json                 print one JSON object on stdout\n"
    "  --lr X                 default 0.05\n"
    "  --teacher T.onnx       learn from this trained model too (knowledge distillation;\n"
    "                         see 'nnslim distill --help'), with:\n"
    CLI_DISTILL_HELP
    CLI_TRAIN_HELP
    "\n" CLI_DATA_HELP
    "\nJSON keys: test_accuracy, test_loss, train_images_per_second, epochs, seconds,\n"
    "params, train_accuracy, val_accuracy, mean, std, threads, output, file_bytes,\n"
    "teacher (the --teacher file or null).\n";

int cmd_train(int argc, char **argv) {
    const char *arch = NULL, *model = NULL, *out = NULL;
    int epochs = 0, json = 0;
    float slim = 0;
    cli_train_opts t;
    cli_train_init(&t, 0.05f);
    cli_data_opts d;
    cli_data_init(&d);
    cli_distill_opts k;
    cli_distill_init(&k);
    cli_opt opts[] = {{"arch", OPT_STR, &arch, 0}, {"model", OPT_STR, &model, 0},
                      {"output", OPT_STR, &out, 0}, {"epochs", OPT_INT, &epochs, 0},
                      {"slim-penalty", OPT_FLOAT, &slim, 0}, {"json", OPT_FLAG, &json, 0},
                      CLI_TRAIN_OPTS(t), CLI_DATA_OPTS(d), CLI_DISTILL_OPTS(k), {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("train", argc, argv, opts, pos, 0, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (!arch == !model) {
        fprintf(stderr, "nnslim train: give exactly one of --arch NAME or --model FILE.onnx\n");
        return CLI_USAGE;
    }
    if (!out) {
        fprintf(stderr, "nnslim train: -o OUT.onnx is required\n");
        return CLI_USAGE;
    }
    if (cli_opt_seen(opts, "epochs") && epochs < 1) {
        fprintf(stderr, "nnslim train: --epochs must be >= 1\n");
        return CLI_USAGE;
    }
    if (slim < 0) {
        fprintf(stderr, "nnslim train: --slim-penalty must be >= 0\n");
        return CLI_USAGE;
    }
    nns_train_config cfg;
    if ((r = cli_train_config("train", &t, &cfg))) return r;
    cfg.epochs = epochs > 0 ? epochs : (arch ? nns_arch_default_epochs(arch) : 10);
    cfg.slim_penalty = slim;
    nns_distill_config dc;
    if ((r = cli_distill_config("train", &k, &dc))) return r;
    if (!k.teacher && (cli_opt_seen(opts, "temperature") || cli_opt_seen(opts, "alpha") || k.hints.n)) {
        fprintf(stderr, "nnslim train: --temperature, --alpha and --hint need --teacher\n");
        return CLI_USAGE;
    }
    nns_set_threads(t.threads);

    nns_graph *g = NULL, *teacher = NULL;
    nns_distiller *dist = NULL;
    nns_dataset train = {0}, test = {0}, val = {0};
    nns_status st;
    int rc = CLI_FAIL;
    float mean, std;
    if (arch) st = nns_arch_build(arch, (uint64_t)t.seed, &g);
    else st = nns_graph_load_onnx(model, &g);
    if (st) goto fail;
    if ((st = cli_data_load(&d, &train, &test))) goto fail;
    if (k.teacher && (st = nns_graph_load_onnx(k.teacher, &teacher))) goto fail;
    /* a fresh student takes the teacher's normalisation */
    nns_graph *norm_from = teacher && !nns_graph_get_meta(g, "nnslim.mean") ? teacher : g;
    if ((st = cli_data_normalize(&d, opts, norm_from, &train, &test, &mean, &std))) goto fail;
    if (norm_from != g) {
        if ((st = nns_graph_set_meta(g, "nnslim.mean", nns_graph_get_meta(teacher, "nnslim.mean"))) ||
            (st = nns_graph_set_meta(g, "nnslim.std", nns_graph_get_meta(teacher, "nnslim.std"))))
            goto fail;
    }
    if ((st = cli_val_split(&t, &train, &val))) goto fail;
    if ((st = nns_check_data(g, &train)) || (st = nns_check_data(g, &test))) goto fail;
    if ((st = cli_check_writable(out))) goto fail;
    if (k.teacher) {
        if ((st = cli_teacher_fits(k.teacher, teacher, &train))) goto fail;
        if ((st = cli_teacher_check_norm(k.teacher, teacher, mean, std))) goto fail;
        if ((st = nns_graph_pack_params(g))) goto fail;
        if ((st = nns_distiller_create(teacher, g, &dc, train.n, cfg.batch_size, &dist))) goto fail;
        nns_distiller_attach(dist, &cfg);
        fprintf(stderr, "distilling from %s (T %g, alpha %g, %d hints)\n", k.teacher, dc.temperature, dc.alpha,
                dc.n_hints);
    }
    fprintf(stderr, "training %s on %lld images (%lld test), %d epochs, batch %d, %d threads\n",
            arch ? arch : model, (long long)train.n, (long long)test.n, cfg.epochs, cfg.batch_size,
            nns_get_threads());
    nns_train_result tr;
    if ((st = nns_train(g, &train, val.n ? &val : NULL, &cfg, &tr))) goto fail;
    if ((st = nns_distiller_finish(dist, g))) goto fail;
    if (k.teacher && (st = nns_graph_set_meta(g, "nnslim.teacher", k.teacher))) goto fail;
    nns_eval_result er;
    if ((st = nns_evaluate(g, &test, 256, &er))) goto fail;
    nns_eval_result_free(&er);
    if (arch && (st = nns_graph_set_meta(g, "nnslim.arch", arch))) goto fail;
    if ((st = nns_graph_save_onnx(g, out))) goto fail;
    long long fb = cli_file_size(out);
    if (json) {
        printf("{\"model\": ");
        cli_json_str(stdout, arch ? arch : model);
        printf(", \"epochs\": %d, \"test_accuracy\": %.6f, \"test_loss\": %.6f, "
               "\"train_images_per_second\": %.1f, \"seconds\": %.2f, \"params\": %lld, "
               "\"train_accuracy\": %.6f, \"val_accuracy\": %.6f, \"mean\": %.6g, \"std\": %.6g, "
               "\"threads\": %d, \"output\": ",
               tr.epochs, er.accuracy, er.loss, tr.train_images_per_second, tr.seconds,
               (long long)nns_graph_n_params(g), tr.final_train_accuracy, tr.val_accuracy, mean, std,
               nns_get_threads());
        cli_json_str(stdout, out);
        printf(", \"file_bytes\": %lld, \"teacher\": ", fb);
        if (k.teacher) cli_json_str(stdout, k.teacher);
        else printf("null");
        printf("}\n");
    } else {
        printf("model            %s\n", arch ? arch : model);
        printf("epochs           %d\n", tr.epochs);
        printf("test accuracy    %.4f\n", er.accuracy);
        printf("test loss        %.4f\n", er.loss);
        if (tr.val_accuracy >= 0) printf("val accuracy     %.4f\n", tr.val_accuracy);
        printf("train speed      %.0f images/s (%d threads)\n", tr.train_images_per_second, nns_get_threads());
        printf("train time       %.1f s\n", tr.seconds);
        printf("parameters       %lld\n", (long long)nns_graph_n_params(g));
        if (k.teacher) printf("teacher          %s\n", k.teacher);
        printf("saved            %s (%lld bytes)\n", out, fb);
    }
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_fail("train", st);
done:
    nns_dataset_free(&train);
    nns_dataset_free(&test);
    nns_dataset_free(&val);
    nns_distiller_free(dist);
    nns_graph_free(teacher);
    nns_graph_free(g);
    return rc;
}
