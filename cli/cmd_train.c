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
    "\nJSON keys: accuracy and loss (on the test set; also as test_accuracy and\n"
    "test_loss), train_images_per_second, epochs, seconds, params, train_accuracy,\n"
    "val_accuracy, mean, std, threads, output, file_bytes,\n"
    "teacher (the --teacher file or null).\n";

/* What the command line asked for. */
typedef struct train_cmd {
    const char *arch, *model, *out;
    int epochs, json;
    float slim;
    cli_train_opts t;
    cli_data_opts d;
    cli_distill_opts k;
    nns_train_config cfg;
    nns_distill_config dc;
    cli_opt opts[64]; /* as parsed: cli_data_normalize asks which were given */
} train_cmd;

/* Parse and check the options: CLI_OK, a usage code, or -1 (help shown). */
static int train_parse(int argc, char **argv, train_cmd *c) {
    memset(c, 0, sizeof *c);
    cli_train_init(&c->t, 0.05f);
    cli_data_init(&c->d);
    cli_distill_init(&c->k);
    cli_opt opts[] = {{"arch", OPT_STR, &c->arch, 0}, {"model", OPT_STR, &c->model, 0},
                      {"output", OPT_STR, &c->out, 0}, {"epochs", OPT_INT, &c->epochs, 0},
                      {"slim-penalty", OPT_FLOAT, &c->slim, 0}, {"json", OPT_FLAG, &c->json, 0},
                      CLI_TRAIN_OPTS(c->t), CLI_DATA_OPTS(c->d), CLI_DISTILL_OPTS(c->k), {NULL, 0, NULL, 0}};
    const char *pos[1];
    int npos;
    int r = cli_parse("train", argc, argv, opts, pos, 0, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return -1;
    }
    if (r) return r;
    const char *bad = NULL;
    if (!c->arch == !c->model) bad = "give exactly one of --arch NAME or --model FILE.onnx";
    else if (!c->out) bad = "-o OUT.onnx is required";
    else if (cli_opt_seen(opts, "epochs") && c->epochs < 1) bad = "--epochs must be >= 1";
    else if (c->slim < 0) bad = "--slim-penalty must be >= 0";
    if (bad) {
        fprintf(stderr, "nnslim train: %s\n", bad);
        return CLI_USAGE;
    }
    if ((r = cli_train_config("train", &c->t, &c->cfg))) return r;
    c->cfg.epochs = c->epochs > 0 ? c->epochs : (c->arch ? nns_arch_default_epochs(c->arch) : 10);
    c->cfg.slim_penalty = c->slim;
    if ((r = cli_distill_config("train", &c->k, &c->dc))) return r;
    if (!c->k.teacher && (cli_opt_seen(opts, "temperature") || cli_opt_seen(opts, "alpha") || c->k.hints.n)) {
        fprintf(stderr, "nnslim train: --temperature, --alpha and --hint need --teacher\n");
        return CLI_USAGE;
    }
    _Static_assert(sizeof opts <= sizeof c->opts, "train_cmd.opts is too small");
    memcpy(c->opts, opts, sizeof opts);
    return CLI_OK;
}

/* What the run holds (freed by train_state_free). */
typedef struct train_state {
    nns_graph *g, *teacher;
    nns_distiller *dist;
    nns_dataset train, test, val;
    float mean, std;
} train_state;

static void train_state_free(train_state *s) {
    nns_dataset_free(&s->train);
    nns_dataset_free(&s->test);
    nns_dataset_free(&s->val);
    nns_distiller_free(s->dist);
    nns_graph_free(s->teacher);
    nns_graph_free(s->g);
}

/* Build or load the model, load and normalise the data (a fresh student
 * takes the teacher's normalisation), and set up distillation. */
static nns_status train_prepare(train_cmd *c, train_state *s) {
    nns_status st;
    if (c->arch) st = nns_arch_build(c->arch, (uint64_t)c->t.seed, &s->g);
    else if (!(st = nns_graph_load_onnx(c->model, &s->g))) st = cli_keep_zeros("train", &c->t, s->g);
    if (st || (st = cli_data_load(&c->d, &s->train, &s->test))) return st;
    if (c->k.teacher && (st = nns_graph_load_onnx(c->k.teacher, &s->teacher))) return st;
    nns_graph *norm_from = s->teacher && !nns_graph_get_meta(s->g, "nnslim.mean") ? s->teacher : s->g;
    if ((st = cli_data_normalize(&c->d, c->opts, norm_from, &s->train, &s->test, &s->mean, &s->std))) return st;
    if (norm_from != s->g &&
        ((st = nns_graph_set_meta(s->g, "nnslim.mean", nns_graph_get_meta(s->teacher, "nnslim.mean"))) ||
         (st = nns_graph_set_meta(s->g, "nnslim.std", nns_graph_get_meta(s->teacher, "nnslim.std")))))
        return st;
    if ((st = cli_val_split(&c->t, &s->train, &s->val))) return st;
    if ((st = nns_check_data(s->g, &s->train)) || (st = nns_check_data(s->g, &s->test))) return st;
    if ((st = cli_check_writable(c->out))) return st;
    if (!c->k.teacher) return NNS_OK;
    if ((st = cli_teacher_fits(c->k.teacher, s->teacher, &s->train))) return st;
    if ((st = cli_teacher_check_norm(c->k.teacher, s->teacher, s->mean, s->std))) return st;
    if ((st = nns_graph_pack_params(s->g))) return st;
    if ((st = nns_distiller_create(s->teacher, s->g, &c->dc, s->train.n, c->cfg.batch_size, &s->dist))) return st;
    nns_distiller_attach(s->dist, &c->cfg);
    fprintf(stderr, "distilling from %s (T %g, alpha %g, %d hints)\n", c->k.teacher, c->dc.temperature,
            c->dc.alpha, c->dc.n_hints);
    return NNS_OK;
}

static void train_report(const train_cmd *c, const train_state *s, const nns_train_result *tr,
                         const nns_eval_result *er, long long fb) {
    const char *name = c->arch ? c->arch : c->model;
    if (c->json) {
        printf("{\"model\": ");
        cli_json_str(stdout, name);
        printf(", \"epochs\": %d, \"accuracy\": %.6f, \"loss\": %.6f, \"test_accuracy\": %.6f, \"test_loss\": %.6f, "
               "\"train_images_per_second\": %.1f, \"seconds\": %.2f, \"params\": %lld, "
               "\"train_accuracy\": %.6f, \"val_accuracy\": %.6f, \"mean\": %.6g, \"std\": %.6g, "
               "\"threads\": %d, \"output\": ",
               tr->epochs, er->accuracy, er->loss, er->accuracy, er->loss, tr->train_images_per_second, tr->seconds,
               (long long)nns_graph_n_params(s->g), tr->final_train_accuracy, tr->val_accuracy, s->mean, s->std,
               nns_get_threads());
        cli_json_str(stdout, c->out);
        printf(", \"file_bytes\": %lld, \"teacher\": ", fb);
        if (c->k.teacher) cli_json_str(stdout, c->k.teacher);
        else printf("null");
        printf("}\n");
        return;
    }
    printf("model            %s\n", name);
    printf("epochs           %d\n", tr->epochs);
    printf("test accuracy    %.4f\n", er->accuracy);
    printf("test loss        %.4f\n", er->loss);
    if (tr->val_accuracy >= 0) printf("val accuracy     %.4f\n", tr->val_accuracy);
    printf("train speed      %.0f images/s (%d threads)\n", tr->train_images_per_second, nns_get_threads());
    printf("train time       %.1f s\n", tr->seconds);
    printf("parameters       %lld\n", (long long)nns_graph_n_params(s->g));
    if (c->k.teacher) printf("teacher          %s\n", c->k.teacher);
    printf("saved            %s (%lld bytes)\n", c->out, fb);
}

/* Train, evaluate and save. */
static nns_status train_run(train_cmd *c, train_state *s) {
    fprintf(stderr, "training %s on %lld images (%lld test), %d epoch%s, batch %d, %d threads\n",
            c->arch ? c->arch : c->model, (long long)s->train.n, (long long)s->test.n, c->cfg.epochs,
            c->cfg.epochs == 1 ? "" : "s", c->cfg.batch_size, nns_get_threads());
    nns_train_result tr;
    nns_status st = nns_train(s->g, &s->train, s->val.n ? &s->val : NULL, &c->cfg, &tr);
    if (st || (st = nns_distiller_finish(s->dist, s->g))) return st;
    if (c->k.teacher && (st = nns_graph_set_meta(s->g, "nnslim.teacher", c->k.teacher))) return st;
    nns_eval_result er;
    if ((st = nns_evaluate(s->g, &s->test, 256, &er))) return st;
    nns_eval_result_free(&er);
    if (c->arch && (st = nns_graph_set_meta(s->g, "nnslim.arch", c->arch))) return st;
    if ((st = cli_save_model(&c->t, s->g, c->out))) return st;
    train_report(c, s, &tr, &er, cli_file_size(c->out));
    return NNS_OK;
}

int cmd_train(int argc, char **argv) {
    train_cmd c;
    int r = train_parse(argc, argv, &c);
    if (r < 0) return CLI_OK;
    if (r) return r;
    nns_set_threads(c.t.threads);
    train_state s;
    memset(&s, 0, sizeof s);
    nns_status st = train_prepare(&c, &s);
    if (!st) st = train_run(&c, &s);
    train_state_free(&s);
    return st ? cli_fail("train", st) : CLI_OK;
}
