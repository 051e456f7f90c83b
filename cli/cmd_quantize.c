/* cmd_quantize.c — nnslim quantize. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim quantize MODEL.onnx [OPTIONS] -o OUT.onnx\n"
    "\n"
    "Quantize a trained float model to 8 bits and save it in ONNX's QDQ form\n"
    "(QuantizeLinear / DequantizeLinear around s8 weights and 8-bit activations,\n"
    "opset 13), which ONNX Runtime runs. BatchNormalization is folded first; every\n"
    "Conv, Gemm and MatMul with a float weight is quantized: its weight to s8\n"
    "(symmetric), the activation it reads to 8 bits with a range calibrated on\n"
    "training images. With --weights int4 or --group-size, weight-only instead: s4 or\n"
    "s8 weights with one scale per group of input channels, float activations, opset\n"
    "21. With --weights fp16 or bf16, each weight stored in that 16-bit float type\n"
    "and read through a Cast to float (half the size, float arithmetic), and with\n"
    "--activations of that type too, each activation the layers read or write\n"
    "rounded to it (a Cast to 16 bits and back). Prints\n"
    "before/after: accuracy, parameters, file size, measured latency, and each\n"
    "layer's precision (W8A8, W8A32, W4A32g32: groups of 32, f16, bf16, f32).\n"
    "\n"
    "  --mode ptq|qat         ptq (default): post-training quantization; qat: then\n"
    "                         train with fake quantization (straight-through estimator)\n"
    "                         from those scales, and quantize with the trained model;\n"
    "                         pruning masks are kept\n"
    "  --epochs N             qat: training epochs (default 1)\n"
    "  --learn-scales         qat: train the scales too (LSQ)\n"
    "  --freeze-bn N          qat: each BatchNormalization after a Conv or Gemm keeps\n"
    "                         normalising with the batch's statistics (updating its\n"
    "                         running ones) for the first N epochs, then is folded in\n"
    "                         and its statistics frozen. Default 0: folded before\n"
    "                         training. Measured with --epochs 2, --freeze-bn 1 was\n"
    "                         0.13-0.20 points better on resnet8, mobilenet and\n"
    "                         vggsmall (one seed; docs/quantization.md)\n"
    "  --calib M              activation ranges: minmax (default), percentile,\n"
    "                         entropy (KL divergence, TensorRT's method) or mse\n"
    "  --percentile P         for --calib percentile, in (0, 100] (default 99.99)\n"
    "  --calib-samples N      training images to calibrate on, evenly spaced over the\n"
    "                         set (default 1000); memory does not grow with N\n"
    "  --per-channel          one weight scale per output channel (default)\n"
    "  --per-tensor           one weight scale per layer\n"
    "  --weights int8|int4|fp16|bf16   weight type (default int8). int4: s4\n"
    "                         weights (opset 21's INT4), by default weight-only\n"
    "                         (activations float) in groups of --group-size read by a\n"
    "                         blocked DequantizeLinear; with --activations uint8 or\n"
    "                         int8, W4A8: one scale per output channel, the layers run\n"
    "                         on nnslim's int8 kernels (not with --group-size,\n"
    "                         --per-tensor, --mode qat, --max-loss or --max-bytes).\n"
    "                         fp16, bf16: weights rounded to\n"
    "                         16-bit floats (to nearest even), activations float\n"
    "                         (or that type: --activations), no calibration; not\n"
    "                         with --group-size, --per-tensor,\n"
    "                         --mode qat, --max-loss or --max-bytes\n"
    "  --group-size N         weight-only: one weight scale per N consecutive input\n"
    "                         channels of each output channel (32, 64, 128, ...; int4\n"
    "                         default 32); N must divide every quantized layer's input\n"
    "                         channels or be at least that many (then they are one\n"
    "                         group; a layer with one input channel keeps one scale\n"
    "                         per output channel); with int8 it makes grouped W8A32\n"
    "  --activations uint8|int8|float|fp16|bf16   uint8 asymmetric (default; float\n"
    "                         with int4 weights unless given, and with fp16 and bf16\n"
    "                         weights), int8 symmetric, or\n"
    "                         float: weight-only (W8A32), no calibration. fp16, bf16:\n"
    "                         with --weights of that type, each activation the layers\n"
    "                         read or write rounded to it (precision Wf16Af16 or\n"
    "                         Wbf16Abf16; no calibration)\n"
    "  --keep L,...           node names to leave in float (e.g. the first or last layer)\n"
    "  --keep-as f32|fp16|bf16   the weights of the layers left in float (--keep,\n"
    "                         and those --max-loss / --max-bytes keep): float32\n"
    "                         (default) or 16-bit floats read through a Cast (half\n"
    "                         their size; --max-bytes counts them so); not with qat\n"
    "  --cle                  cross-layer equalization before calibration: consecutive\n"
    "                         Conv/Gemm layers joined by ReLU, pooling or nothing get\n"
    "                         their per-channel weight ranges evened out (the float\n"
    "                         model computes the same); pairs across a Clip (ReLU6)\n"
    "                         are left alone. ptq and qat\n"
    "  --bias-correction      ptq: after quantizing, subtract from each layer's bias the\n"
    "                         mean shift of its outputs on the calibration images\n"
    "                         (quantized minus float), layer by layer\n"
    "  --max-loss PTS         ptq: mixed precision for a budget: keep the layers that\n"
    "                         quantization hurts most (nnslim sensitivity --method quant)\n"
    "                         in float, one at a time, until the model loses at most PTS\n"
    "                         accuracy points on --eval-images training images\n"
    "  --max-bytes N          ptq: mixed precision for a file size: from every layer\n"
    "                         quantized, keep in float the layers quantization hurts\n"
    "                         most, most sensitive first, each while the file stays\n"
    "                         within N bytes (an error when even all quantized is larger)\n"
    "  --eval-images N        for --max-loss and --max-bytes: the last N training images\n"
    "                         (default 2000)\n"
    "  --json                 one JSON object with \"before\" and \"after\"\n"
    "qat's training (defaults as nnslim train's, but --lr 0.01):\n"
    "  --lr X                 default 0.01\n"
    CLI_TRAIN_HELP
    "  --teacher T.onnx       qat: learn from this model by distillation (e.g. MODEL.onnx),\n"
    "                         with:\n"
    CLI_DISTILL_HELP
    "\n" CLI_DATA_HELP
    "\nJSON: {\"before\": {...}, \"after\": {...}} with accuracy, params, nonzero_params, macs,\n"
    "file_bytes, latency_ms_b1, images_per_second_b64; mode, epochs, learn_scales, freeze_bn,\n"
    "teacher, calib, calib_samples,\n"
    "per_channel, weights, group_size (0: none), activations, keep_as, folded_batchnorms, cle {applied, pairs,\n"
    "sweeps, clip_refused}, bias_correction {applied, layers, max_shift}, output, and layers (name, op,\n"
    "precision) of the quantized model.\n";

typedef struct quant_args {
    const char *model, *out, *mode, *calib, *weights, *acts, *keep, *max_bytes_s, *keep_as;
    long long max_bytes;
    float percentile, max_loss;
    int group_size, eval_images, calib_samples, per_channel, per_tensor, json, epochs, learn_scales, cle, bias_correction;
    int freeze_bn;
    cli_data_opts d;
    cli_train_opts t;
    cli_distill_opts k;
    cli_opt opts[64];
    nns_ptq_config cfg;
    nns_train_config tcfg;
    nns_distill_config dc;
    char keepbuf[4096];
    const char *keep_names[256];
} quant_args;

static int quant_parse(quant_args *a, int argc, char **argv) {
    a->mode = "ptq";
    a->calib = "minmax";
    a->weights = "int8";
    a->keep_as = "f32";
    a->acts = "uint8";
    a->percentile = 99.99f;
    a->calib_samples = 1000;
    a->epochs = 1;
    a->eval_images = 2000;
    a->max_loss = -1;
    cli_data_init(&a->d);
    cli_train_init(&a->t, 0.01f);
    cli_distill_init(&a->k);
    cli_opt opts[] = {{"mode", OPT_STR, &a->mode, 0}, {"calib", OPT_STR, &a->calib, 0},
                      {"percentile", OPT_FLOAT, &a->percentile, 0}, {"calib-samples", OPT_INT, &a->calib_samples, 0},
                      {"per-channel", OPT_FLAG, &a->per_channel, 0}, {"per-tensor", OPT_FLAG, &a->per_tensor, 0},
                      {"weights", OPT_STR, &a->weights, 0}, {"activations", OPT_STR, &a->acts, 0},
                      {"group-size", OPT_INT, &a->group_size, 0},
                      {"keep", OPT_STR, &a->keep, 0}, {"keep-as", OPT_STR, &a->keep_as, 0},
                      {"output", OPT_STR, &a->out, 0},
                      {"json", OPT_FLAG, &a->json, 0}, {"epochs", OPT_INT, &a->epochs, 0},
                      {"learn-scales", OPT_FLAG, &a->learn_scales, 0},
                      {"freeze-bn", OPT_INT, &a->freeze_bn, 0}, {"max-loss", OPT_FLOAT, &a->max_loss, 0},
                      {"max-bytes", OPT_STR, &a->max_bytes_s, 0},
                      {"eval-images", OPT_INT, &a->eval_images, 0}, {"cle", OPT_FLAG, &a->cle, 0},
                      {"bias-correction", OPT_FLAG, &a->bias_correction, 0}, CLI_TRAIN_OPTS(a->t),
                      CLI_DISTILL_OPTS(a->k), CLI_DATA_OPTS(a->d), {NULL, 0, NULL, 0}};
    _Static_assert(sizeof opts <= sizeof a->opts, "quant_args.opts is too small");
    memcpy(a->opts, opts, sizeof opts);
    const char *pos[1];
    int npos;
    int r = cli_parse("quantize", argc, argv, a->opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1 || !a->out) {
        fprintf(stderr, "nnslim quantize: give MODEL.onnx and -o OUT.onnx (try 'nnslim quantize --help')\n");
        return CLI_USAGE;
    }
    a->model = pos[0];
    return -1;
}

/* --weights fp16|bf16: weight-only, float activations, nothing else of
 * the integer choices; 0 or the exit code. */
static int quant_check_half(quant_args *a, int qat) {
    const char *bad = cli_opt_seen(a->opts, "group-size") ? "--group-size"
                      : qat                               ? "--mode qat"
                      : a->max_loss >= 0                  ? "--max-loss"
                      : a->max_bytes_s                    ? "--max-bytes"
                      : a->per_tensor                     ? "--per-tensor"
                                                          : NULL;
    if (bad) {
        fprintf(stderr, "nnslim quantize: --weights %s cannot be combined with %s\n", a->weights, bad);
        return CLI_USAGE;
    }
    if (!cli_opt_seen(a->opts, "activations")) a->acts = "float";
    if (strcmp(a->acts, "float") && strcmp(a->acts, a->weights)) {
        fprintf(stderr, "nnslim quantize: with --weights %s, --activations must be float or %s, not '%s'\n",
                a->weights, a->weights, a->acts);
        return CLI_USAGE;
    }
    return 0;
}

/* --weights, --group-size and --activations: 0 or the exit code. Groups are
 * weight-only; int4 alone implies --activations float and groups of 32,
 * int4 with --activations uint8|int8 is W4A8 (per output channel). */
static int quant_check_weights(quant_args *a, int qat) {
    const int int4 = !strcmp(a->weights, "int4"), grouped = cli_opt_seen(a->opts, "group-size");
    if (!strcmp(a->weights, "fp16") || !strcmp(a->weights, "bf16")) return quant_check_half(a, qat);
    if (!int4 && strcmp(a->weights, "int8")) {
        fprintf(stderr, "nnslim quantize: --weights must be int8, int4, fp16 or bf16, not '%s'\n", a->weights);
        return CLI_USAGE;
    }
    if (strcmp(a->acts, "uint8") && strcmp(a->acts, "int8") && strcmp(a->acts, "float")) {
        fprintf(stderr, "nnslim quantize: --activations must be uint8, int8 or float%s, not '%s'\n",
                strcmp(a->acts, "fp16") && strcmp(a->acts, "bf16") ? "" : " (fp16 and bf16 go with --weights of that type)",
                a->acts);
        return CLI_USAGE;
    }
    if (grouped && a->group_size < 1) {
        fprintf(stderr, "nnslim quantize: --group-size must be a positive number of input channels, not %d\n",
                a->group_size);
        return CLI_USAGE;
    }
    if (!int4 && !grouped) return 0;
    const int acts8 = cli_opt_seen(a->opts, "activations") && strcmp(a->acts, "float");
    if (int4 && acts8) { /* W4A8: one weight scale per output channel */
        const char *bad = grouped ? "--group-size" : qat ? "--mode qat" : a->per_tensor ? "--per-tensor"
                          : a->max_loss >= 0 ? "--max-loss" : a->max_bytes_s ? "--max-bytes" : NULL;
        if (bad) {
            fprintf(stderr, "nnslim quantize: --weights int4 --activations %s (W4A8, one weight scale per output "
                            "channel) cannot be combined with %s\n", a->acts, bad);
            return CLI_USAGE;
        }
        return 0;
    }
    if (acts8) {
        fprintf(stderr, "nnslim quantize: --group-size is weight-only: --activations must be float, not '%s'\n", a->acts);
        return CLI_USAGE;
    }
    if (qat || a->max_loss >= 0 || a->per_tensor) {
        fprintf(stderr, "nnslim quantize: %s cannot be combined with %s\n", int4 ? "--weights int4" : "--group-size",
                qat ? "--mode qat" : a->per_tensor ? "--per-tensor" : "--max-loss");
        return CLI_USAGE;
    }
    a->acts = "float";
    if (!grouped) a->group_size = 32;
    return 0;
}

/* The choices into the library's config: -1 or the exit code. */
static int quant_check(quant_args *a) {
    nns_ptq_config_init(&a->cfg);
    const int m = cli_calib_method(a->calib);
    if (strcmp(a->mode, "ptq") && strcmp(a->mode, "qat")) {
        fprintf(stderr, "nnslim quantize: --mode must be ptq or qat, not '%s'\n", a->mode);
        return CLI_USAGE;
    }
    const int qat = !strcmp(a->mode, "qat");
    if (!qat && (cli_opt_seen(a->opts, "epochs") || a->learn_scales || a->k.teacher || cli_opt_seen(a->opts, "freeze-bn"))) {
        fprintf(stderr, "nnslim quantize: --epochs, --learn-scales, --freeze-bn and --teacher are for --mode qat\n");
        return CLI_USAGE;
    }
    if (strcmp(a->keep_as, "f32") && strcmp(a->keep_as, "fp16") && strcmp(a->keep_as, "bf16")) {
        fprintf(stderr, "nnslim quantize: --keep-as must be f32, fp16 or bf16, not '%s'\n", a->keep_as);
        return CLI_USAGE;
    }
    if (strcmp(a->keep_as, "f32") && (qat || !strcmp(a->weights, "fp16") || !strcmp(a->weights, "bf16"))) {
        fprintf(stderr, "nnslim quantize: --keep-as is for --mode ptq with integer weights\n");
        return CLI_USAGE;
    }
    if (qat && a->bias_correction) {
        fprintf(stderr, "nnslim quantize: --bias-correction is for --mode ptq (qat trains the biases)\n");
        return CLI_USAGE;
    }
    if (cli_opt_seen(a->opts, "max-loss") && qat) {
        fprintf(stderr, "nnslim quantize: --max-loss is for --mode ptq\n");
        return CLI_USAGE;
    }
    if (a->max_bytes_s && (qat || cli_opt_seen(a->opts, "max-loss"))) {
        fprintf(stderr, "nnslim quantize: --max-bytes is for --mode ptq, without --max-loss\n");
        return CLI_USAGE;
    }
    char *end = NULL;
    a->max_bytes = a->max_bytes_s ? strtoll(a->max_bytes_s, &end, 10) : -1;
    if (a->max_bytes_s && (end == a->max_bytes_s || *end || a->max_bytes < 1)) {
        fprintf(stderr, "nnslim quantize: --max-bytes must be a number of bytes >= 1, not '%s'\n", a->max_bytes_s);
        return CLI_USAGE;
    }
    if (cli_opt_seen(a->opts, "max-loss") && !(a->max_loss >= 0 && a->max_loss <= 100)) {
        fprintf(stderr, "nnslim quantize: --max-loss must be between 0 and 100 points, not %g\n", a->max_loss);
        return CLI_USAGE;
    }
    if (a->eval_images < 1) {
        fprintf(stderr, "nnslim quantize: --eval-images must be >= 1, not %d\n", a->eval_images);
        return CLI_USAGE;
    }
    if (qat && a->epochs < 1) {
        fprintf(stderr, "nnslim quantize: --epochs must be >= 1, not %d\n", a->epochs);
        return CLI_USAGE;
    }
    if (a->freeze_bn < 0) {
        fprintf(stderr, "nnslim quantize: --freeze-bn must be an epoch count >= 0, not %d\n", a->freeze_bn);
        return CLI_USAGE;
    }
    int r;
    if ((r = cli_train_config("quantize", &a->t, &a->tcfg)) || (r = cli_distill_config("quantize", &a->k, &a->dc))) return r;
    a->tcfg.epochs = a->epochs;
    if (m < 0) {
        fprintf(stderr, "nnslim quantize: --calib must be minmax, percentile, entropy or mse, not '%s'\n", a->calib);
        return CLI_USAGE;
    }
    if ((r = quant_check_weights(a, qat))) return r;
    if (a->per_channel && a->per_tensor) {
        fprintf(stderr, "nnslim quantize: give --per-channel or --per-tensor, not both\n");
        return CLI_USAGE;
    }
    if (a->calib_samples < 1 || (m == NNS_CALIB_PERCENTILE && !(a->percentile > 0 && a->percentile <= 100))) {
        fprintf(stderr, "nnslim quantize: %s\n", a->calib_samples < 1 ? "--calib-samples must be >= 1"
                                                                       : "--percentile must be in (0, 100]");
        return CLI_USAGE;
    }
    a->cfg.calib = (nns_calib_method)m;
    a->cfg.percentile = a->percentile;
    a->cfg.calib_samples = a->calib_samples;
    a->cfg.per_channel = !a->per_tensor;
    a->cfg.act_signed = !strcmp(a->acts, "int8");
    a->cfg.weight_only = !strcmp(a->acts, "float") || !strcmp(a->acts, "fp16") || !strcmp(a->acts, "bf16");
    a->cfg.act_float16 = !strcmp(a->acts, "fp16") ? NNS_DTYPE_F16 : !strcmp(a->acts, "bf16") ? NNS_DTYPE_BF16 : 0;
    a->cfg.weight_bits = !strcmp(a->weights, "int4") ? 4 : 8;
    a->cfg.weight_float16 = !strcmp(a->weights, "fp16") ? NNS_DTYPE_F16 : !strcmp(a->weights, "bf16") ? NNS_DTYPE_BF16 : 0;
    a->cfg.keep_float16 = !strcmp(a->keep_as, "fp16") ? NNS_DTYPE_F16 : !strcmp(a->keep_as, "bf16") ? NNS_DTYPE_BF16 : 0;
    a->cfg.group_size = a->group_size;
    a->cfg.cle = a->cle;
    a->cfg.bias_correction = a->bias_correction;
    a->cfg.bn_freeze_epoch = a->freeze_bn;
    if (a->keep) {
        snprintf(a->keepbuf, sizeof a->keepbuf, "%s", a->keep);
        char *save = NULL;
        for (char *t = strtok_r(a->keepbuf, ",", &save); t && a->cfg.n_keep < 256; t = strtok_r(NULL, ",", &save))
            a->keep_names[a->cfg.n_keep++] = t;
        a->cfg.keep = a->keep_names;
    }
    return -1;
}

typedef struct quant_run {
    nns_graph *g, *teacher, *orig; /* orig: the float model, for the alternated speed measure */
    nns_dataset train, test, val;
    float mean, std;
    nns_ptq_result res;
} quant_run;

/* Load the model and the data; check names and the output path. */
static nns_status quant_load(const quant_args *a, quant_run *p) {
    nns_status st = nns_graph_load_onnx(a->model, &p->g);
    if (!st) st = cli_keep_zeros("quantize", &a->t, p->g);
    if (!st) st = cli_data_load(&a->d, &p->train, &p->test);
    if (!st) st = cli_data_normalize(&a->d, a->opts, p->g, &p->train, &p->test, &p->mean, &p->std);
    if (!st) st = nns_check_data(p->g, &p->train);
    if (!st) st = nns_check_data(p->g, &p->test);
    if (!st) st = cli_check_writable(a->out);
    if (!st && !strcmp(a->mode, "qat")) st = cli_val_split(&a->t, &p->train, &p->val);
    if (!st && a->k.teacher && !(st = nns_graph_load_onnx(a->k.teacher, &p->teacher)) &&
        !(st = cli_teacher_fits(a->k.teacher, p->teacher, &p->train)))
        st = cli_teacher_check_norm(a->k.teacher, p->teacher, p->g);
    for (int i = 0; !st && i < a->cfg.n_keep; i++)
        if (nns_graph_find_node(p->g, a->cfg.keep[i]) < 0)
            st = nns_error(NNS_STATUS_INVALID_ARG, "--keep: model '%s' has no node '%s'", a->model, a->cfg.keep[i]);
    return st;
}

/* QAT's training of the fake-quantized graph: nns_train, or nns_distill
 * from the teacher. */
typedef struct quant_trainer {
    const quant_args *a;
    const quant_run *p;
} quant_trainer;

static nns_status quant_train(void *user, nns_graph *g, int first, int stop) {
    const quant_trainer *t = user;
    const nns_dataset *val = t->p->val.n ? &t->p->val : NULL;
    nns_train_result tr;
    nns_train_config c = t->a->tcfg;
    if (!stop || stop > c.epochs) stop = c.epochs;
    if (first >= stop) return NNS_OK;
    c.start_epoch = first;
    c.stop_epoch = stop;
    if (first == 0 && stop == c.epochs)
        fprintf(stderr, "quantization-aware training, %d epoch%s%s%s\n", c.epochs, c.epochs == 1 ? "" : "s",
                t->p->teacher ? " from " : "", t->p->teacher ? t->a->k.teacher : "");
    else
        fprintf(stderr, "quantization-aware training, epochs %d to %d of %d, BatchNormalization %s%s%s\n", first + 1, stop,
                c.epochs, first ? "frozen" : "following the batches", t->p->teacher ? ", from " : "",
                t->p->teacher ? t->a->k.teacher : "");
    if (!t->p->teacher) return nns_train(g, &t->p->train, val, &c, &tr);
    return nns_distill(t->p->teacher, g, &t->p->train, val, &c, &t->a->dc, &tr);
}

/* The last eval_images training images (a view of p->train). */
static nns_dataset eval_tail(const quant_args *a, const quant_run *p) {
    nns_dataset ev = p->train;
    const int64_t n = a->eval_images < ev.n ? a->eval_images : ev.n, per = (int64_t)ev.c * ev.h * ev.w;
    ev.x += (ev.n - n) * per;
    ev.y += ev.n - n;
    ev.n = n;
    return ev;
}

/* --max-loss: the budget checked on the last eval_images training images. */
static nns_status quant_max_loss(const quant_args *a, quant_run *p) {
    nns_dataset ev = eval_tail(a, p);
    const int64_t n = ev.n;
    fprintf(stderr, "choosing each layer's precision for a loss of at most %g points on %lld training images\n",
            a->max_loss, (long long)n);
    float base = 0, acc = 0;
    nns_status st = nns_quantize_max_loss(p->g, &p->train, &ev, &a->cfg, a->max_loss / 100.0f, &p->res, &base, &acc);
    if (!st)
        fprintf(stderr, "on those images: float %.4f, mixed precision %.4f (%+.2f points)\n", base, acc,
                100.0 * (acc - base));
    return st;
}

static nns_status onnx_size(void *user, const nns_graph *g, int64_t *bytes) {
    (void)user;
    return nns_graph_onnx_bytes(g, NULL, bytes);
}

/* --max-bytes: the layers' sensitivity on the last eval_images training images. */
static nns_status quant_max_bytes(const quant_args *a, quant_run *p) {
    nns_dataset ev = eval_tail(a, p);
    const int64_t n = ev.n;
    fprintf(stderr, "choosing each layer's precision for a file of at most %lld bytes (sensitivity on %lld training "
                    "images)\n", a->max_bytes, (long long)n);
    float base = 0, acc = 0;
    int64_t bytes = 0;
    nns_status st = nns_quantize_max_bytes(p->g, &p->train, &ev, &a->cfg, a->max_bytes, onnx_size, NULL, &p->res, &bytes,
                                           &base, &acc);
    if (!st)
        fprintf(stderr, "%lld bytes; on those images: float %.4f, mixed precision %.4f (%+.2f points)\n",
                (long long)bytes, base, acc, 100.0 * (acc - base));
    return st;
}

/* Load, measure, quantize, save, measure. */
static nns_status quant_execute(const quant_args *a, quant_run *p, cli_measure *before, cli_measure *after) {
    nns_status st = quant_load(a, p);
    if (st) return st;
    fprintf(stderr, "measuring the float model\n");
    if ((st = cli_measure_take(p->g, &p->test, a->model, before))) return st;
    if ((st = nns_graph_clone(p->g, &p->orig))) return st;
    fprintf(stderr, "calibrating on %lld training images (%s)\n",
            (long long)(a->cfg.calib_samples < p->train.n ? a->cfg.calib_samples : p->train.n), a->calib);
    quant_trainer qt = {a, p};
    if ((st = nns_graph_set_meta(p->g, "nnslim.quantize", a->mode))) return st; /* before --max-bytes sizes the file */
    if (!strcmp(a->mode, "qat")) st = nns_quantize_qat(p->g, &p->train, &a->cfg, a->learn_scales, quant_train, &qt, &p->res);
    else if (a->max_loss >= 0) st = quant_max_loss(a, p);
    else if (a->max_bytes > 0) st = quant_max_bytes(a, p);
    else st = nns_quantize_ptq(p->g, &p->train, &a->cfg, &p->res);
    if (st) return st;
    fprintf(stderr, "quantized %d layers (%d activations, %d BatchNormalizations folded)\n", p->res.layers,
            p->res.activations, p->res.folded_bn);
    if (a->cle)
        fprintf(stderr, "cross-layer equalization: %d layer pairs in %d sweeps, %d pairs left alone for a Clip\n",
                p->res.cle_pairs, p->res.cle_sweeps, p->res.cle_clip_refused);
    if (a->bias_correction)
        fprintf(stderr, "bias correction: %d layers, largest correction %.4g\n", p->res.bias_corrected,
                p->res.bias_max_shift);
    if ((st = cli_save_model(&a->t, p->g, a->out))) return st;
    fprintf(stderr, "measuring the quantized model\n");
    if ((st = cli_measure_take(p->g, &p->test, a->out, after))) return st;
    fprintf(stderr, "measuring the speed of both, alternately\n");
    return cli_measure_speedup(p->orig, p->g, after);
}

/* "layers": each node with a weight, its precision and scales. */
static void quant_layers_json(const nns_graph *g) {
    printf("\"layers\": [");
    int first = 1;
    for (int i = 0; i < nns_graph_n_nodes(g); i++) {
        nns_quant_layer q;
        if (nns_quant_layer_describe(g, i, &q) || !q.precision[0]) continue;
        printf(first ? "{\"name\": " : ", {\"name\": ");
        first = 0;
        cli_json_str(stdout, nns_graph_node_name(g, i));
        printf(", \"op\": ");
        cli_json_str(stdout, nns_graph_node_op(g, i));
        printf(", \"precision\": ");
        cli_json_str(stdout, q.precision);
        printf(", \"weight_scales\": %d", q.weight_scales);
        if (q.weight_scales) printf(", \"weight_scale_min\": %.9g, \"weight_scale_max\": %.9g", q.weight_scale_min, q.weight_scale_max);
        if (q.input_quantized) printf(", \"input_scale\": %.9g, \"input_zero_point\": %d", q.input_scale, (int)q.input_zero_point);
        printf("}");
    }
    printf("]");
}

static void quant_report_json(const quant_args *a, const quant_run *p, const cli_measure *before, const cli_measure *after) {
    printf("{\"mode\": ");
    cli_json_str(stdout, a->mode);
    printf(", \"epochs\": %d, \"learn_scales\": %s, \"freeze_bn\": %d, \"teacher\": ", strcmp(a->mode, "qat") ? 0 : a->epochs,
           a->learn_scales ? "true" : "false", a->freeze_bn);
    if (a->k.teacher) cli_json_str(stdout, a->k.teacher);
    else printf("null");
    printf(", \"calib\": ");
    cli_json_str(stdout, a->calib);
    printf(", \"calib_samples\": %lld, \"per_channel\": %s, \"weights\": ", (long long)p->res.calib_images,
           a->cfg.per_channel ? "true" : "false");
    cli_json_str(stdout, a->weights);
    printf(", \"group_size\": %d, \"activations\": ", a->cfg.group_size);
    cli_json_str(stdout, a->acts);
    printf(", \"keep_as\": ");
    cli_json_str(stdout, a->keep_as);
    printf(", \"folded_batchnorms\": %d, ", p->res.folded_bn);
    printf("\"cle\": {\"applied\": %s, \"pairs\": %d, \"sweeps\": %d, \"clip_refused\": %d}, ",
           a->cle ? "true" : "false", p->res.cle_pairs, p->res.cle_sweeps, p->res.cle_clip_refused);
    printf("\"bias_correction\": {\"applied\": %s, \"layers\": %d, \"max_shift\": %.6g}, ",
           a->bias_correction ? "true" : "false", p->res.bias_corrected, (double)p->res.bias_max_shift);
    cli_measure_json("before", before);
    printf(", ");
    cli_measure_json("after", after);
    cli_speed_json(after);
    printf(", ");
    quant_layers_json(p->g);
    printf(", \"output\": ");
    cli_json_str(stdout, a->out);
    printf("}\n");
}

static void quant_report(const quant_args *a, const quant_run *p, const cli_measure *before, const cli_measure *after) {
    if (a->json) {
        quant_report_json(a, p, before, after);
        return;
    }
    printf("%-28s %-10s %-8s %12s %12s %10s\n", "layer", "op", "precision", "w scale min", "w scale max", "in scale");
    for (int i = 0; i < nns_graph_n_nodes(p->g); i++) {
        nns_quant_layer q;
        if (nns_quant_layer_describe(p->g, i, &q) || !q.precision[0]) continue;
        printf("%-28s %-10s %-8s", nns_graph_node_name(p->g, i), nns_graph_node_op(p->g, i), q.precision);
        if (q.weight_scales) printf(" %12.4g %12.4g", q.weight_scale_min, q.weight_scale_max);
        else printf(" %12s %12s", "-", "-");
        if (q.input_quantized) printf(" %10.4g\n", q.input_scale);
        else printf(" %10s\n", "-");
    }
    printf("\n%-22s %14s %14s %9s\n", "", "float", "quantized", "ratio");
    printf("%-22s %14.4f %14.4f %+8.2f pts\n", "accuracy", before->accuracy, after->accuracy,
           100.0 * (after->accuracy - before->accuracy));
    printf("%-22s %14lld %14lld %8.3fx\n", "parameters", (long long)before->params, (long long)after->params,
           after->params ? (double)before->params / (double)after->params : 0.0);
    printf("%-22s %14lld %14lld %8.3fx\n", "file bytes", before->file_bytes, after->file_bytes,
           after->file_bytes > 0 ? (double)before->file_bytes / (double)after->file_bytes : 0.0);
    cli_speed_rows(before, after);
    printf("saved %s (%s)\n", a->out,
           a->cfg.act_float16     ? "16-bit float weights read through Cast, activations rounded by Cast pairs"
           : a->cfg.weight_float16 ? "16-bit float weights read through Cast"
                                   : "QDQ form");
}

int cmd_quantize(int argc, char **argv) {
    quant_args a;
    memset(&a, 0, sizeof a);
    int rc = quant_parse(&a, argc, argv);
    if (rc < 0) rc = quant_check(&a);
    if (rc >= 0) return rc;
    nns_set_threads(a.t.threads);
    quant_run p;
    memset(&p, 0, sizeof p);
    cli_measure before, after;
    nns_status st = quant_execute(&a, &p, &before, &after);
    if (!st) quant_report(&a, &p, &before, &after);
    rc = st ? cli_fail("quantize", st) : CLI_OK;
    nns_dataset_free(&p.train);
    nns_dataset_free(&p.test);
    nns_dataset_free(&p.val);
    nns_graph_free(p.teacher);
    nns_graph_free(p.g);
    nns_graph_free(p.orig);
    return rc;
}
