/* cmd_train.c — nnslim train. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const char *help =
    "usage: nnslim train (--arch NAME | --model FILE.onnx | --resume CKPT.onnx) [DATA] [OPTIONS]\n"
    "                    -o OUT.onnx\n"
    "\n"
    "Train a built-in architecture from scratch, or continue training an ONNX model,\n"
    "on the CPU; evaluate on the test set; save the result as ONNX (opset 13).\n"
    "\n"
    "  --arch NAME            lenet300 | lenet5 | vggsmall | resnet8 | mobilenet\n"
    "  --model FILE.onnx      start from this model instead (pruning masks are kept)\n"
    "  --input-shape C,H,W    --arch: the images it takes (default: the training data's,\n"
    "                         e.g. 3,32,32 for colour images; Fashion-MNIST's 1,28,28)\n"
    "  --classes N            --arch: its outputs (default: the largest label + 1)\n"
    "  -o, --output OUT.onnx  where to save the trained model (required)\n"
    "  --epochs N             default: the architecture's (lenet* 10, others 6; 10 for --model)\n"
    "  --slim-penalty X       L1 penalty on BatchNorm scales (Network Slimming), default 0\n"
    "  --json                 print one JSON object on stdout\n"
    "  --log FILE             one JSON line per epoch: epoch, epochs, loss, train_accuracy,\n"
    "                         val_accuracy, val_loss (null without a validation set), lr,\n"
    "                         images_per_second, seconds\n"
    "  --save-best FILE       save the model whenever the validation accuracy is the best\n"
    "                         so far (needs --val-split)\n"
    "  --checkpoint CKPT.onnx after every epoch, the model and CKPT.onnx.state (the\n"
    "                         optimizer's state); default: OUT.onnx.checkpoint.onnx,\n"
    "                         removed when the run ends. Ctrl-C stops the run, keeps\n"
    "                         the last epoch's checkpoint and says where\n"
    "  --resume CKPT.onnx     go on from a checkpoint, with the options of the run that\n"
    "                         wrote it: it ends with the weights the uninterrupted run\n"
    "                         would have (same threads)\n"
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
    const char *arch, *model, *out, *log, *save_best, *checkpoint, *resume, *input_shape;
    int epochs, json, classes;
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
                      {"log", OPT_STR, &c->log, 0}, {"save-best", OPT_STR, &c->save_best, 0},
                      {"checkpoint", OPT_STR, &c->checkpoint, 0}, {"resume", OPT_STR, &c->resume, 0},
                      {"input-shape", OPT_STR, &c->input_shape, 0}, {"classes", OPT_INT, &c->classes, 0},
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
    if (!!c->arch + !!c->model + !!c->resume != 1) bad = "give exactly one of --arch NAME, --model FILE.onnx or --resume CKPT.onnx";
    else if (c->save_best && !(c->t.val_split > 0)) bad = "--save-best needs a validation set: give --val-split F";
    else if (!c->out) bad = "-o OUT.onnx is required";
    else if (cli_opt_seen(opts, "epochs") && c->epochs < 1) bad = "--epochs must be >= 1";
    else if (c->slim < 0) bad = "--slim-penalty must be >= 0";
    else if ((c->input_shape || cli_opt_seen(opts, "classes")) && !c->arch)
        bad = "--input-shape and --classes are for --arch (a model has its own)";
    if (bad) {
        fprintf(stderr, "nnslim train: %s\n", bad);
        return CLI_USAGE;
    }
    if ((r = cli_arch_shape_ok("train", c->input_shape, c->classes))) return r;
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

/* The optimizer's state buffer, and with --resume its content and the
 * epoch to start at. */
static nns_status train_state_prepare(train_cmd *c, train_state *s) {
    if ((c->cfg.opt_state = calloc((size_t)nns_train_state_len(s->g, &c->cfg) + 1, sizeof(float))) == NULL)
        return nns_error(NNS_STATUS_NOMEM, "out of memory for the optimizer's state");
    if (!c->resume) return NNS_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s.state", c->resume);
    int done = 0;
    nns_status st = nns_train_state_load(path, s->g, &c->cfg, &done, c->cfg.opt_state);
    if (st) return st;
    c->cfg.start_epoch = done;
    c->cfg.resume_state = 1;
    fprintf(stderr, "resuming from %s after epoch %d of %d\n", c->resume, done, c->cfg.epochs);
    return NNS_OK;
}

/* Build or load the model, load and normalise the data (a fresh student
 * takes the teacher's normalisation), and set up distillation. */
static nns_status train_prepare(train_cmd *c, train_state *s) {
    nns_status st = NNS_OK;
    if (!c->arch && !(st = nns_graph_load_onnx(c->model ? c->model : c->resume, &s->g)))
        st = cli_keep_zeros("train", &c->t, s->g);
    if (st || (st = cli_data_load(&c->d, &s->train, &s->test))) return st;
    if (c->arch &&
        (st = cli_arch_build(c->arch, (uint64_t)c->t.seed, c->input_shape, c->classes, &s->train, &s->test, &s->g)))
        return st;
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
    if ((st = train_state_prepare(c, s))) return st;
    if (!c->k.teacher) return NNS_OK;
    if ((st = cli_teacher_fits(c->k.teacher, s->teacher, &s->train))) return st;
    if ((st = cli_teacher_check_norm(c->k.teacher, s->teacher, s->g))) return st;
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

/* What happens at the end of every epoch and on Ctrl-C. */
typedef struct train_hooks {
    train_cmd *c;
    FILE *log;
    float best;
    char ckpt[4200], state[4300]; /* the checkpoint and its optimizer state */
    int default_ckpt;             /* not asked for: removed when the run ends */
    int done;                     /* epochs in the checkpoint */
    nns_status err;               /* the first failure of a callback */
    char msg[512];                /* and its message */
} train_hooks;

static volatile int g_stop;
static void on_sigint(int sig) {
    (void)sig;
    g_stop = 1;
}

/* The model and the optimizer's state after `done` epochs. */
static nns_status checkpoint_write(train_hooks *h, const nns_graph *g, int done) {
    nns_status st = cli_save_model(&h->c->t, g, h->ckpt);
    if (!st) st = nns_train_state_save(h->state, g, &h->c->cfg, done, h->c->cfg.opt_state);
    if (!st) h->done = done;
    return st;
}

static void log_epoch(FILE *f, const nns_train_progress *p) {
    fprintf(f, "{\"epoch\": %d, \"epochs\": %d, \"loss\": %.6f, \"train_accuracy\": %.6f, \"val_accuracy\": ", p->epoch,
            p->epochs, p->loss, p->accuracy);
    if (p->val_accuracy >= 0) fprintf(f, "%.6f, \"val_loss\": %.6f", p->val_accuracy, p->val_loss);
    else fprintf(f, "null, \"val_loss\": null");
    fprintf(f, ", \"lr\": %.6g, \"images_per_second\": %.1f, \"seconds\": %.2f}\n", p->lr, p->images_per_second,
            p->seconds_elapsed);
    fflush(f);
}

static void train_progress(const nns_train_progress *p, void *user) {
    train_hooks *h = user;
    cli_progress(p, NULL);
    if (!p->end_of_epoch || h->err) return;
    if (h->log) log_epoch(h->log, p);
    if (h->c->save_best && p->val_accuracy > h->best) {
        h->best = p->val_accuracy;
        if (!(h->err = cli_save_model(&h->c->t, p->graph, h->c->save_best)))
            fprintf(stderr, "best so far (val acc %.4f): saved %s\n", p->val_accuracy, h->c->save_best);
    }
    if (!h->err) h->err = checkpoint_write(h, p->graph, p->epoch);
    if (h->err) { /* stop the run, keeping the message */
        snprintf(h->msg, sizeof h->msg, "%s", nns_last_error());
        g_stop = 1;
    }
}

/* Open the log, choose the checkpoint's name, write the starting one. */
static nns_status hooks_open(train_hooks *h, train_cmd *c, const nns_graph *g) {
    memset(h, 0, sizeof *h);
    h->c = c;
    h->best = -1;
    if (c->log && !(h->log = fopen(c->log, c->resume ? "a" : "w")))
        return nns_error(NNS_STATUS_IO, "cannot open log file '%s'", c->log);
    h->default_ckpt = !c->checkpoint && !c->resume;
    snprintf(h->ckpt, sizeof h->ckpt, h->default_ckpt ? "%s.checkpoint.onnx" : "%s", c->checkpoint ? c->checkpoint
                                                                               : c->resume ? c->resume : c->out);
    snprintf(h->state, sizeof h->state, "%s.state", h->ckpt);
    c->cfg.progress = train_progress;
    c->cfg.progress_user = h;
    c->cfg.stop = &g_stop;
    return checkpoint_write(h, g, c->cfg.start_epoch);
}

/* Close the log; remove a checkpoint the user did not ask for unless the
 * run was interrupted, and then say where it is. */
static void hooks_close(train_hooks *h, nns_status st) {
    if (h->log) fclose(h->log);
    if (st == NNS_STATUS_INTERRUPTED && !h->err) {
        fprintf(stderr, "nnslim train: interrupted; the state after epoch %d is in %s (and %s): go on with "
                        "'nnslim train --resume %s' and the same options\n", h->done, h->ckpt, h->state, h->ckpt);
        return;
    }
    if (h->default_ckpt) {
        unlink(h->ckpt);
        unlink(h->state);
    }
}

/* Train, evaluate and save. */
static nns_status train_run(train_cmd *c, train_state *s) {
    fprintf(stderr, "training %s on %lld images (%lld test), %d epoch%s, batch %d, %d threads\n",
            c->arch ? c->arch : c->model ? c->model : c->resume, (long long)s->train.n, (long long)s->test.n,
            c->cfg.epochs, c->cfg.epochs == 1 ? "" : "s", c->cfg.batch_size, nns_get_threads());
    nns_train_result tr;
    train_hooks h;
    nns_status st = hooks_open(&h, c, s->g);
    void (*old)(int) = signal(SIGINT, on_sigint);
    if (!st) st = nns_train(s->g, &s->train, s->val.n ? &s->val : NULL, &c->cfg, &tr);
    signal(SIGINT, old);
    if (st == NNS_STATUS_INTERRUPTED && h.err) st = nns_error(h.err, "%s", h.msg);
    hooks_close(&h, st);
    if (st || (st = nns_distiller_finish(s->dist, s->g))) return st;
    if (c->k.teacher && (st = nns_graph_set_meta(s->g, "nnslim.teacher", c->k.teacher))) return st;
    nns_eval_result er;
    fprintf(stderr, "evaluating on %lld test images\n", (long long)s->test.n);
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
    free(c.cfg.opt_state);
    if (st == NNS_STATUS_INTERRUPTED) return 130; /* as a shell reports SIGINT */
    return st ? cli_fail("train", st) : CLI_OK;
}
