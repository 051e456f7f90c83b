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
    "  --model FILE.onnx      start from this model instead\n"
    "  -o, --output OUT.onnx  where to save the trained model (required)\n"
    "  --epochs N             default: the architecture's (lenet* 10, others 6; 10 for --model)\n"
    "  --batch-size N         default 128 (the last partial batch is kept)\n"
    "  --optimizer sgd|adamw  default sgd\n"
    "  --lr X                 default 0.05\n"
    "  --momentum X           default 0.9 (sgd)\n"
    "  --nesterov             Nesterov momentum (sgd)\n"
    "  --weight-decay X       default 5e-4, on every parameter (decoupled for adamw)\n"
    "  --schedule constant|step|cosine   default cosine (per step, to 0)\n"
    "  --warmup-epochs N      linear warm-up over N epochs (default 0)\n"
    "  --step-epochs N        step schedule: multiply lr by 0.1 every N epochs\n"
    "  --label-smoothing X    default 0\n"
    "  --augment LIST         comma list of crop (random crop, padding 2) and flip\n"
    "  --val-split F          hold out this fraction of the training set for validation\n"
    "  --seed N               default 1 (same seed and threads: same weights)\n"
    "  --threads N            default: all cores\n"
    "  --json                 print one JSON object on stdout\n"
    "\n" CLI_DATA_HELP
    "\nJSON keys: test_accuracy, test_loss, train_images_per_second, epochs, seconds,\n"
    "params, output, file_bytes, mean, std.\n";

int cmd_train(int argc, char **argv) {
    const char *arch = NULL, *model = NULL, *out = NULL, *optimizer = "sgd", *schedule = "cosine",
               *augment = NULL;
    int epochs = 0, batch = 128, nesterov = 0, seed = 1, threads = 0, json = 0, step_epochs = 0;
    float lr = 0.05f, momentum = 0.9f, wd = 5e-4f, warmup = 0, ls = 0, val_split = 0;
    cli_data_opts d;
    cli_data_init(&d);
    cli_opt opts[] = {
        {"arch", OPT_STR, &arch, 0}, {"model", OPT_STR, &model, 0}, {"output", OPT_STR, &out, 0},
        {"epochs", OPT_INT, &epochs, 0}, {"batch-size", OPT_INT, &batch, 0},
        {"optimizer", OPT_STR, &optimizer, 0}, {"lr", OPT_FLOAT, &lr, 0},
        {"momentum", OPT_FLOAT, &momentum, 0}, {"nesterov", OPT_FLAG, &nesterov, 0},
        {"weight-decay", OPT_FLOAT, &wd, 0}, {"schedule", OPT_STR, &schedule, 0},
        {"warmup-epochs", OPT_FLOAT, &warmup, 0}, {"step-epochs", OPT_INT, &step_epochs, 0},
        {"label-smoothing", OPT_FLOAT, &ls, 0}, {"augment", OPT_STR, &augment, 0},
        {"val-split", OPT_FLOAT, &val_split, 0}, {"seed", OPT_INT, &seed, 0},
        {"threads", OPT_INT, &threads, 0}, {"json", OPT_FLAG, &json, 0}, CLI_DATA_OPTS(d),
        {NULL, 0, NULL, 0}};
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
    nns_train_config cfg;
    nns_train_config_default(&cfg);
    if (!strcmp(optimizer, "sgd")) cfg.optimizer = NNS_OPTIMIZER_KIND_SGD;
    else if (!strcmp(optimizer, "adamw")) cfg.optimizer = NNS_OPTIMIZER_KIND_ADAMW;
    else {
        fprintf(stderr, "nnslim train: --optimizer must be sgd or adamw, not '%s'\n", optimizer);
        return CLI_USAGE;
    }
    if (!strcmp(schedule, "constant")) cfg.schedule = NNS_SCHEDULE_KIND_CONSTANT;
    else if (!strcmp(schedule, "step")) cfg.schedule = NNS_SCHEDULE_KIND_STEP;
    else if (!strcmp(schedule, "cosine")) cfg.schedule = NNS_SCHEDULE_KIND_COSINE;
    else {
        fprintf(stderr, "nnslim train: --schedule must be constant, step or cosine, not '%s'\n", schedule);
        return CLI_USAGE;
    }
    if (augment) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", augment);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (!strcmp(tok, "crop")) cfg.augment.crop_pad = 2;
            else if (!strcmp(tok, "flip")) cfg.augment.hflip = 1;
            else {
                fprintf(stderr, "nnslim train: --augment takes crop and flip, not '%s'\n", tok);
                return CLI_USAGE;
            }
        }
    }
    if (val_split < 0 || val_split >= 1) {
        fprintf(stderr, "nnslim train: --val-split must be in [0, 1), not %g\n", val_split);
        return CLI_USAGE;
    }
    if (seed < 0 || threads < 0 || batch < 1 || (cli_opt_seen(opts, "epochs") && epochs < 1)) {
        fprintf(stderr, "nnslim train: --seed and --threads must be >= 0, --batch-size and --epochs >= 1\n");
        return CLI_USAGE;
    }
    cfg.epochs = epochs > 0 ? epochs : (arch ? nns_arch_default_epochs(arch) : 10);
    cfg.batch_size = batch;
    cfg.lr = lr;
    cfg.momentum = momentum;
    cfg.nesterov = nesterov;
    cfg.weight_decay = wd;
    cfg.warmup_epochs = warmup;
    cfg.step_epochs = step_epochs;
    cfg.label_smoothing = ls;
    cfg.seed = (uint64_t)seed;
    cfg.threads = threads;
    cfg.progress = cli_progress;
    nns_set_threads(threads);

    nns_graph *g = NULL;
    nns_dataset train = {0}, test = {0}, val = {0};
    nns_status st;
    int rc = CLI_FAIL;
    float mean, std;
    if (arch) st = nns_arch_build(arch, (uint64_t)seed, &g);
    else st = nns_graph_load_onnx(model, &g);
    if (st) goto fail;
    if ((st = cli_data_load(&d, &train, &test))) goto fail;
    if ((st = cli_data_normalize(&d, opts, g, &train, &test, &mean, &std))) goto fail;
    if (val_split > 0) {
        int64_t count = (int64_t)(val_split * (double)train.n + 0.5);
        if (count < 1 || count >= train.n) {
            st = nns_error(NNS_STATUS_INVALID_ARG, "--val-split %g leaves %lld validation images of %lld",
                           val_split, (long long)count, (long long)train.n);
            goto fail;
        }
        if ((st = nns_dataset_split(&train, count, (uint64_t)seed, &val))) goto fail;
    }
    if ((st = nns_check_data(g, &train)) || (st = nns_check_data(g, &test))) goto fail;
    if ((st = cli_check_writable(out))) goto fail;
    fprintf(stderr, "training %s on %lld images (%lld test), %d epochs, batch %d, %d threads\n",
            arch ? arch : model, (long long)train.n, (long long)test.n, cfg.epochs, cfg.batch_size,
            nns_get_threads());
    nns_train_result tr;
    if ((st = nns_train(g, &train, val.n ? &val : NULL, &cfg, &tr))) goto fail;
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
               "\"train_accuracy\": %.6f, \"val_accuracy\": %s%.6f, \"mean\": %.6g, \"std\": %.6g, "
               "\"threads\": %d, \"output\": ",
               tr.epochs, er.accuracy, er.loss, tr.train_images_per_second, tr.seconds,
               (long long)nns_graph_n_params(g), tr.final_train_accuracy, "",
               tr.val_accuracy, mean, std, nns_get_threads());
        cli_json_str(stdout, out);
        printf(", \"file_bytes\": %lld}\n", fb);
    } else {
        printf("model            %s\n", arch ? arch : model);
        printf("epochs           %d\n", tr.epochs);
        printf("test accuracy    %.4f\n", er.accuracy);
        printf("test loss        %.4f\n", er.loss);
        if (tr.val_accuracy >= 0) printf("val accuracy     %.4f\n", tr.val_accuracy);
        printf("train speed      %.0f images/s (%d threads)\n", tr.train_images_per_second, nns_get_threads());
        printf("train time       %.1f s\n", tr.seconds);
        printf("parameters       %lld\n", (long long)nns_graph_n_params(g));
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
    nns_graph_free(g);
    return rc;
}
