/* cli.h — shared pieces of the nnslim command: option parsing, data loading,
 * progress display, JSON helpers. Exit codes: 0 success, 1 bad input or
 * failure, 2 bad usage. Results go to stdout, progress and logs to stderr. */
#ifndef NNS_CLI_H
#define NNS_CLI_H

#include <stdio.h>
#include "nnslim/nnslim.h"
#include "nnslim/prune.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* A subcommand. */
typedef struct cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
} cli_command;

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_sensitivity(int argc, char **argv);
int cmd_distill(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_quantize(int argc, char **argv);

/* Option parsing: options are "--name value", "--name=value" or flags. */
typedef enum { OPT_FLAG, OPT_STR, OPT_INT, OPT_FLOAT, OPT_LIST } opt_kind;
typedef struct cli_opt {
    const char *name;   /* without the leading "--" */
    opt_kind kind;
    void *dest;         /* int* for FLAG/INT, const char** for STR, float* for FLOAT,
                           cli_strlist* for LIST (the option may repeat) */
    int seen;
} cli_opt;

#define CLI_LIST_MAX 16
typedef struct cli_strlist {
    const char *v[CLI_LIST_MAX];
    int n;
} cli_strlist;

/* Parse argv[1..]; options go to opts, positional arguments to pos (up to
 * max_pos). Prints "nnslim CMD: ..." and returns CLI_USAGE on an error;
 * returns -1 if --help was given (the caller prints help and exits 0). */
int cli_parse(const char *cmd, int argc, char **argv, cli_opt *opts, const char **pos,
              int max_pos, int *n_pos);
int cli_opt_seen(const cli_opt *opts, const char *name);

/* Report a library failure: "nnslim CMD: message" on stderr; returns CLI_FAIL. */
int cli_fail(const char *cmd, nns_status st);

/* Data options shared by train, eval and the compression commands. */
typedef struct cli_data_opts {
    const char *data_dir;
    const char *train_x, *train_y, *test_x, *test_y;
    const char *mean, *std; /* --mean/--std: a value or one per channel */
    int64_t limit;
    int limit_i;
    int test_limit; /* use the first N test images (0: all) */
    const char *layout; /* NumPy images: "nchw" (default) or "nhwc" */
} cli_data_opts;

#define CLI_DATA_OPTS(d)                                                     \
    {"data", OPT_STR, &(d).data_dir, 0}, {"train-x", OPT_STR, &(d).train_x, 0}, \
    {"train-y", OPT_STR, &(d).train_y, 0}, {"test-x", OPT_STR, &(d).test_x, 0},  \
    {"test-y", OPT_STR, &(d).test_y, 0}, {"mean", OPT_STR, &(d).mean, 0},        \
    {"std", OPT_STR, &(d).std, 0},   {"limit", OPT_INT, &(d).limit_i, 0},           \
    {"test-limit", OPT_INT, &(d).test_limit, 0}, {"layout", OPT_STR, &(d).layout, 0}

#define CLI_DATA_HELP                                                                     \
    "DATA:\n"                                                                             \
    "  --data DIR          MNIST file layout (train-images-idx3-ubyte[.gz], ...);\n"         \
    "                      default: /usr/share/datasets/fashion-mnist\n"                      \
    "  --train-x X.npy --train-y Y.npy --test-x X.npy --test-y Y.npy\n"                      \
    "                      NumPy data (float32 or uint8 images, integer labels)\n"          \
    "  --mean M --std S    normalisation: one value, or one per channel (e.g. --mean\n"        \
    "                      0.485,0.456,0.406); default: the model's recorded values,\n"     \
    "                      else the training set's (one value over all pixels)\n"                                        \
    "  --limit N           use the first N training images\n"                                  \
    "  --test-limit N      use the first N test images\n"                                  \
    "  --layout nchw|nhwc  NumPy images channels first (default) or channels last\n"          \
    "                      [N, H, W, C], transposed on load\n"

#define CLI_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

void cli_data_init(cli_data_opts *d);
/* Load train (if train != NULL) and test sets. Returns a status. */
nns_status cli_data_load(const cli_data_opts *d, nns_dataset *train, nns_dataset *test);
/* Decide mean/std: explicit options, else the model's metadata, else the
 * training set's (or the test set's when no training set). Normalises the
 * given sets and records the values in the graph's metadata. */
nns_status cli_data_normalize(const cli_data_opts *d, const cli_opt *opts, nns_graph *g,
                              nns_dataset *train, nns_dataset *test, float *mean, float *std);

/* Training options shared by train and the compression commands. */
typedef struct cli_train_opts {
    const char *optimizer, *schedule, *augment;
    int epochs, batch, nesterov, seed, threads, step_epochs;
    float lr, momentum, wd, warmup, ls, val_split, clip;
    int keep_zeros, dense; /* --keep-zeros, --dense */
} cli_train_opts;

#define CLI_TRAIN_OPTS(t)                                                                   \
    {"batch-size", OPT_INT, &(t).batch, 0}, {"optimizer", OPT_STR, &(t).optimizer, 0},       \
    {"lr", OPT_FLOAT, &(t).lr, 0}, {"momentum", OPT_FLOAT, &(t).momentum, 0},               \
    {"nesterov", OPT_FLAG, &(t).nesterov, 0}, {"weight-decay", OPT_FLOAT, &(t).wd, 0},       \
    {"schedule", OPT_STR, &(t).schedule, 0}, {"warmup-epochs", OPT_FLOAT, &(t).warmup, 0},   \
    {"step-epochs", OPT_INT, &(t).step_epochs, 0},                                            \
    {"label-smoothing", OPT_FLOAT, &(t).ls, 0}, {"augment", OPT_STR, &(t).augment, 0},       \
    {"val-split", OPT_FLOAT, &(t).val_split, 0}, {"seed", OPT_INT, &(t).seed, 0},            \
    {"threads", OPT_INT, &(t).threads, 0}, {"clip-grad-norm", OPT_FLOAT, &(t).clip, 0},       \
    {"keep-zeros", OPT_FLAG, &(t).keep_zeros, 0}, {"dense", OPT_FLAG, &(t).dense, 0}

#define CLI_TRAIN_HELP CLI_TRAIN_HELP_SCHED("--schedule constant|step|cosine")
/* The training options' help, the learning-rate schedule option spelled
 * SCHED (prune calls it --lr-schedule: its --schedule is the pruning one). */
#define CLI_TRAIN_HELP_SCHED(SCHED)                                                         \
    "  --batch-size N         default 128 (the last partial batch is kept)\n"                \
    "  --optimizer sgd|adamw  default sgd\n"                                                \
    "  --momentum X           default 0.9 (sgd)\n"                                          \
    "  --nesterov             Nesterov momentum (sgd)\n"                                    \
    "  --weight-decay X       default 5e-4, on every parameter (decoupled for adamw)\n"      \
    "  " SCHED "   default cosine (per step, to 0)\n"                                     \
    "  --warmup-epochs N      linear warm-up over N epochs (default 0)\n"                    \
    "  --step-epochs N        step schedule: multiply lr by 0.1 every N epochs\n"            \
    "  --label-smoothing X    default 0\n"                                                  \
    "  --augment LIST         comma list of crop (random crop, padding 2) and flip\n"        \
    "  --val-split F          hold out this fraction of the training set for validation\n"   \
    "  --seed N               default 1 (same seed and threads: same weights)\n"            \
    "  --threads N            default: all cores\n"                                         \
    "  --clip-grad-norm X     clip the gradient's global L2 norm to X (default 0: off)\n"     \
    "  --keep-zeros           keep the model's zero weights zero while training (a model\n"  \
    "                         pruned by another tool; on by itself for models saved\n"      \
    "                         pruned by nnslim or stored with sparse initializers)\n"        \
    "  --dense                write every weight dense (no sparse initializers, which\n"    \
    "                         some runtimes and onnx.checker's full check refuse)\n"

/* Defaults: the anchors' recipe with the given learning rate. */
void cli_train_init(cli_train_opts *t, float lr);
/* Fill a training config; prints a usage error and returns CLI_USAGE on a bad
 * value, else 0. epochs is set by the caller. */
int cli_train_config(const char *cmd, const cli_train_opts *t, nns_train_config *cfg);
/* --keep-zeros on the model about to be trained (says how many on stderr). */
nns_status cli_keep_zeros(const char *cmd, const cli_train_opts *t, nns_graph *g);
/* Save g to path, every weight dense with --dense. */
nns_status cli_save_model(const cli_train_opts *t, const nns_graph *g, const char *path);
/* A built-in architecture for the data: images of input_shape ("C,H,W",
 * NULL: the training images') and `classes` classes (0: the largest label
 * of train and test plus one, at least 2). Prints a usage error and returns
 * CLI_USAGE for a malformed input_shape (checked by cli_arch_shape_ok
 * before any work), else a status through *st. */
int cli_arch_shape_ok(const char *cmd, const char *input_shape, int classes);
nns_status cli_arch_build(const char *arch, uint64_t seed, const char *input_shape, int classes,
                          const nns_dataset *train, const nns_dataset *test, nns_graph **g);
/* Split off the validation set if --val-split was given. */
nns_status cli_val_split(const cli_train_opts *t, nns_dataset *train, nns_dataset *val);

/* Progress on stderr: a bar on a terminal, one line per epoch otherwise. */
void cli_progress(const nns_train_progress *p, void *user);

/* Distillation options shared by distill, train and prune. */
typedef struct cli_distill_opts {
    const char *teacher;
    float temperature, alpha, gain_limit;
    cli_strlist hints;
    int no_cache;
    int no_hint; /* --hint none */
    nns_distill_hint hint[CLI_LIST_MAX];
    char hint_buf[CLI_LIST_MAX][256];
} cli_distill_opts;

#define CLI_DISTILL_OPTS(k)                                                                 \
    {"teacher", OPT_STR, &(k).teacher, 0}, {"temperature", OPT_FLOAT, &(k).temperature, 0},   \
    {"alpha", OPT_FLOAT, &(k).alpha, 0}, {"hint", OPT_LIST, &(k).hints, 0},                   \
    {"kd-gain-limit", OPT_FLOAT, &(k).gain_limit, 0},                                         \
    {"no-teacher-cache", OPT_FLAG, &(k).no_cache, 0}

#define CLI_DISTILL_HELP                                                                    \
    "  --temperature T        softmax temperature, > 0 (default 1)\n"                        \
    "  --alpha A              weight of the soft (teacher) term, in [0, 1] (default 0.5);\n"  \
    "                         the label term gets 1 - A\n"                                    \
    "  --hint T_LAYER:S_LAYER[:BETA]   feature distillation: MSE (relative to the teacher\n"     \
    "                         map's mean square) between the teacher's\n"     \
    "                         and the student's maps (node or value names; same H x W),\n"    \
    "                         through a learned 1x1 conv when channels differ; BETA\n"        \
    "                         default 1; repeatable; the adapter is not saved.\n"             \
    "                         A layer 'auto' is the penultimate features (the input\n"        \
    "                         of the last Gemm/MatMul/Conv, before Dropout);\n"               \
    "                         --hint auto[:BETA] means auto:auto[:BETA]; --hint none:\n"    \
    "                         no hint. nnslim distill's default is --hint auto where\n"     \
    "                         both models allow it (lenet5 from vggsmall, mean of 5\n"      \
    "                         seeds: 0.9144 with it, 0.9082 without; docs/distillation.md)\n"                                        \
    "  --kd-gain-limit G      divide the loss gradient by (A*T + 1 - A) / G when that\n"      \
    "                         exceeds 1, so the soft term cannot blow up the step\n"           \
    "                         (default 1.5; 0: off)\n"                                          \
    "  --no-teacher-cache     run the teacher on every batch (default: its logits and\n"     \
    "                         hint maps are cached per image when batches are not\n"         \
    "                         augmented and the cache fits in 1 GiB)\n"

void cli_distill_init(cli_distill_opts *k);
/* Fill dc from the options (hints parsed); prints a usage error and returns
 * CLI_USAGE on a malformed --hint, else 0. */
int cli_distill_config(const char *cmd, cli_distill_opts *k, nns_distill_config *dc);
/* Check that the teacher fits the data (nns_check_data), naming its file. */
nns_status cli_teacher_fits(const char *file, const nns_graph *teacher, const nns_dataset *d);
/* Check that the teacher was trained on data normalised like the student's
 * (metadata nnslim.mean / nnslim.std), naming the file when not. */
nns_status cli_teacher_check_norm(const char *file, const nns_graph *teacher, const nns_graph *g);

/* Model measurements for before/after reports. */
typedef struct cli_measure {
    float accuracy;     /* -1: not measured */
    int64_t params, nonzero, macs;
    long long file_bytes;
    double lat_b1, ips_b64;
    double lat_b1_p90;            /* 90th percentile of the batch-1 runs */
    size_t mem_b1, mem_b64;       /* session memory (nns_bench_stats) */
    char precision[16]; /* the layers' (nnslim info): one shared by all, or "mixed" */
    /* Speed against another model, measured alternately (cli_measure_speedup);
     * has_speedup 0: not measured. */
    int has_speedup;
    nns_speed_ratio sp_b1, sp_b64;
} cli_measure;
nns_status cli_measure_take(nns_graph *g, const nns_dataset *test, const char *file, cli_measure *m);
/* "key": {"accuracy": ..., "params": ..., ...} */
void cli_measure_json(const char *key, const cli_measure *m);
/* m's speed against `ref` at batch 1 and 64, in alternated rounds
 * (nns_benchmark_ratio), into m->sp_b1 / sp_b64. */
nns_status cli_measure_speedup(nns_graph *ref, nns_graph *g, cli_measure *m);
/* A speed ratio as a table cell: "1.43x (1.38-1.49)", or "no change
 * (0.96-1.04)" when the rounds' spread includes 1. */
void cli_speed_cell(const nns_speed_ratio *r, char *buf, size_t len);
/* ", \"speedup\": {\"b1\": {...}, \"b64\": {...}}" when m has one. */
void cli_speed_json(const cli_measure *m);
/* The before/after table's two speed rows (latency b1, images/s b64), with
 * after's speedup when measured, else the ratio of the two measures. */
void cli_speed_rows(const cli_measure *before, const cli_measure *after);

/* --calib's names (minmax, percentile, entropy, mse) as nns_calib_method;
 * -1 for anything else. */
int cli_calib_method(const char *name);

/* JSON string with escaping. */
void cli_json_str(FILE *f, const char *s);
/* Fail early (before long work) if the output file cannot be created: its
 * directory must exist and be writable. */
nns_status cli_check_writable(const char *path);
/* File size or -1. */
long long cli_file_size(const char *path);

#endif
