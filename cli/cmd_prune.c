/* cmd_prune.c — nnslim prune. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *help =
    "usage: nnslim prune MODEL.onnx --method magnitude|nm|neuron|channel [OPTIONS] -o OUT.onnx\n"
    "\n"
    "Prune a trained model, fine-tune it, and save the result. Prints before/after:\n"
    "accuracy, parameters, nonzeros, MACs, file size and measured latency.\n"
    "\n"
    "  --method M             magnitude: unstructured, smallest |w| (masks kept through\n"
    "                         fine-tuning, sparse storage in the file);\n"
    "                         nm: N:M semi-structured along the input dimension;\n"
    "                         neuron: remove Gemm neurons; channel: remove Conv channels\n"
    "                         (filters); both give a smaller dense model\n"
    "  --sparsity X           fraction to remove, in [0, 1) (magnitude: weights; neuron/channel:\n"
    "                         channels of every layer, or of all layers with --scope global)\n"
    "  --nm N:M               for --method nm (default 2:4)\n"
    "  --scope global|layer   magnitude: one threshold across layers (default) or per layer;\n"
    "                         neuron/channel: a global ranking or the same ratio per layer (default)\n"
    "  --criterion l1|l2|bn|taylor   channel/neuron ranking (default l1)\n"
    "  --target-macs X        channel, global: remove until MACs <= X of the original\n"
    "  --target-params X      channel, global: remove until params <= X of the original\n"
    "  --round-to N           keep a multiple of N channels per layer (default 8, or 1\n"
    "                         with --layer-ratios, which then apply as given; 1: any);\n"
    "                         a layer this leaves whole is named on stderr and in JSON\n"
    "  --layer-ratios LIST    name=ratio,... per-layer ratios of Conv channels or Gemm\n"
    "                         neurons, in either method (e.g. what sensitivity suggests)\n"
    "  --schedule oneshot|iterative|gradual   magnitude only (default oneshot):\n"
    "                         oneshot prunes then fine-tunes; iterative prunes in --steps rounds\n"
    "                         with fine-tuning between; gradual prunes during fine-tuning with\n"
    "                         Zhu & Gupta's cubic schedule\n"
    "  --steps N              iterative: rounds (default 3)\n"
    "  --finetune-epochs N    default 2 (0: no fine-tuning)\n"
    "  --exclude L,...        node names to leave unpruned\n"
    "  --json                 one JSON object with \"before\" and \"after\"\n"
    "  --lr X                 fine-tuning learning rate, default 0.03 (gradual: 0.05)\n"
    "  --teacher T.onnx       fine-tune by distillation from this model (e.g. the model\n"
    "                         before pruning: MODEL.onnx itself), with:\n"
    CLI_DISTILL_HELP
    CLI_TRAIN_HELP_SCHED("--lr-schedule constant|step|cosine")
    "\n" CLI_DATA_HELP
    "\nJSON: {\"before\": {...}, \"after\": {...}} with accuracy, params, nonzero_params, macs,\n"
    "file_bytes, latency_ms_b1, images_per_second_b64; and method, sparsity, finetune_epochs,\n"
    "teacher (the --teacher file or null), output.\n";

/* Split "a,b,c" into names (pointers into buf). */
static int split_list(char *buf, const char **names, int max) {
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) names[n++] = tok;
    return n;
}

/* The parsed command line. */
typedef struct prune_args {
    const char *model, *method, *nm, *scope, *criterion, *schedule, *exclude, *out, *layer_ratios;
    float sparsity, target_macs, target_params;
    int finetune, json, round_to, steps;
    int is_mag, is_nm, is_neuron, is_channel, nm_n, nm_m;
    nns_prune_schedule_kind sched;
    nns_prune_criterion crit;
    cli_train_opts t;
    cli_data_opts d;
    cli_distill_opts k;
    cli_opt opts[64];
    nns_train_config cfg;
    nns_distill_config dc;
    char exbuf[4096], lrbuf[8192];
    const char *ex_names[256];
    nns_prune_exclude ex;
    const char *lr_names[512];
    float lr_vals[512];
    int n_lr;
} prune_args;

/* The option table and cli_parse: -1 to go on, else the exit code. */
static int prune_parse(prune_args *a, int argc, char **argv) {
    a->nm = "2:4";
    a->criterion = "l1";
    a->schedule = "oneshot";
    a->sparsity = -1;
    a->finetune = 2;
    a->round_to = 8;
    a->steps = 3;
    cli_train_init(&a->t, 0.03f);
    cli_data_init(&a->d);
    cli_distill_init(&a->k);
    cli_opt opts[] = {{"method", OPT_STR, &a->method, 0}, {"sparsity", OPT_FLOAT, &a->sparsity, 0},
                      {"nm", OPT_STR, &a->nm, 0}, {"scope", OPT_STR, &a->scope, 0},
                      {"criterion", OPT_STR, &a->criterion, 0}, {"target-macs", OPT_FLOAT, &a->target_macs, 0},
                      {"target-params", OPT_FLOAT, &a->target_params, 0}, {"round-to", OPT_INT, &a->round_to, 0},
                      {"layer-ratios", OPT_STR, &a->layer_ratios, 0}, {"schedule", OPT_STR, &a->schedule, 0},
                      {"steps", OPT_INT, &a->steps, 0}, {"finetune-epochs", OPT_INT, &a->finetune, 0},
                      {"exclude", OPT_STR, &a->exclude, 0}, {"output", OPT_STR, &a->out, 0},
                      {"json", OPT_FLAG, &a->json, 0}, CLI_TRAIN_OPTS(a->t), CLI_DATA_OPTS(a->d),
                      CLI_DISTILL_OPTS(a->k), {NULL, 0, NULL, 0}};
    _Static_assert(sizeof opts <= sizeof a->opts, "prune_args.opts is too small");
    memcpy(a->opts, opts, sizeof opts);
    /* --schedule here is the pruning schedule; the LR schedule stays cosine. */
    for (cli_opt *o = a->opts; o->name; o++)
        if (!strcmp(o->name, "schedule") && o->dest == &a->t.schedule) o->name = "lr-schedule";
    const char *pos[1];
    int npos;
    int r = cli_parse("prune", argc, argv, a->opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1 || !a->method || !a->out) {
        fprintf(stderr, "nnslim prune: give MODEL.onnx, --method and -o OUT.onnx (try 'nnslim prune --help')\n");
        return CLI_USAGE;
    }
    a->model = pos[0];
    return -1;
}

/* --method, --schedule, --scope, --criterion and --nm: -1 or the exit code. */
static int prune_check_choices(prune_args *a) {
    a->is_mag = !strcmp(a->method, "magnitude"), a->is_nm = !strcmp(a->method, "nm");
    a->is_neuron = !strcmp(a->method, "neuron"), a->is_channel = !strcmp(a->method, "channel");
    if (!a->is_mag && !a->is_nm && !a->is_neuron && !a->is_channel) {
        fprintf(stderr, "nnslim prune: --method must be magnitude, nm, neuron or channel, not '%s'\n", a->method);
        return CLI_USAGE;
    }
    if (!strcmp(a->schedule, "oneshot")) a->sched = NNS_PRUNE_SCHEDULE_ONESHOT;
    else if (!strcmp(a->schedule, "iterative")) a->sched = NNS_PRUNE_SCHEDULE_ITERATIVE;
    else if (!strcmp(a->schedule, "gradual")) a->sched = NNS_PRUNE_SCHEDULE_GRADUAL;
    else {
        fprintf(stderr, "nnslim prune: --schedule must be oneshot, iterative or gradual, not '%s'\n", a->schedule);
        return CLI_USAGE;
    }
    if (a->layer_ratios && a->sched != NNS_PRUNE_SCHEDULE_ONESHOT) {
        fprintf(stderr, "nnslim prune: --layer-ratios works with --schedule oneshot\n");
        return CLI_USAGE;
    }
    if (!a->is_mag && a->sched != NNS_PRUNE_SCHEDULE_ONESHOT) {
        fprintf(stderr, "nnslim prune: --schedule %s is for --method magnitude\n", a->schedule);
        return CLI_USAGE;
    }
    if (a->scope && strcmp(a->scope, "global") && strcmp(a->scope, "layer")) {
        fprintf(stderr, "nnslim prune: --scope must be global or layer, not '%s'\n", a->scope);
        return CLI_USAGE;
    }
    if (!strcmp(a->criterion, "l1")) a->crit = NNS_PRUNE_CRITERION_L1;
    else if (!strcmp(a->criterion, "l2")) a->crit = NNS_PRUNE_CRITERION_L2;
    else if (!strcmp(a->criterion, "bn")) a->crit = NNS_PRUNE_CRITERION_BN;
    else if (!strcmp(a->criterion, "taylor")) a->crit = NNS_PRUNE_CRITERION_TAYLOR;
    else {
        fprintf(stderr, "nnslim prune: --criterion must be l1, l2, bn or taylor, not '%s'\n", a->criterion);
        return CLI_USAGE;
    }
    if (!a->is_nm && cli_opt_seen(a->opts, "nm")) {
        fprintf(stderr, "nnslim prune: --nm is for --method nm (N of every M weights kept), not --method %s\n", a->method);
        return CLI_USAGE;
    }
    if (a->is_nm) {
        char extra;
        if (sscanf(a->nm, "%d:%d%c", &a->nm_n, &a->nm_m, &extra) != 2 || a->nm_n < 1 || a->nm_m <= a->nm_n) {
            fprintf(stderr, "nnslim prune: --nm takes N:M with 0 < N < M, not '%s'\n", a->nm);
            return CLI_USAGE;
        }
    }
    return -1;
}

/* The numbers, the training and distillation options: -1 or the exit code. */
static int prune_check_values(prune_args *a) {
    if (a->finetune < 0 || a->steps < 1 || a->round_to < 1) {
        fprintf(stderr, "nnslim prune: --finetune-epochs must be >= 0, --steps and --round-to >= 1\n");
        return CLI_USAGE;
    }
    int need_sparsity = (a->is_mag && !a->layer_ratios) ||
                        ((a->is_neuron || a->is_channel) && a->target_macs <= 0 && a->target_params <= 0 &&
                         !a->layer_ratios);
    if (need_sparsity && !cli_opt_seen(a->opts, "sparsity")) {
        fprintf(stderr, "nnslim prune: --sparsity X is required for --method %s\n", a->method);
        return CLI_USAGE;
    }
    if (cli_opt_seen(a->opts, "sparsity") && !(a->sparsity >= 0 && a->sparsity < 1)) {
        fprintf(stderr, "nnslim prune: --sparsity must be in [0, 1), not %g\n", a->sparsity);
        return CLI_USAGE;
    }
    if (a->target_macs < 0 || a->target_macs >= 1 || a->target_params < 0 || a->target_params >= 1) {
        fprintf(stderr, "nnslim prune: --target-macs and --target-params must be in (0, 1)\n");
        return CLI_USAGE;
    }
    /* gradual pruning trains from the start of its schedule: the training lr */
    if (a->sched == NNS_PRUNE_SCHEDULE_GRADUAL && !cli_opt_seen(a->opts, "lr")) a->t.lr = 0.05f;
    int r;
    if ((r = cli_train_config("prune", &a->t, &a->cfg))) return r;
    if ((r = cli_distill_config("prune", &a->k, &a->dc))) return r;
    if (!a->k.teacher && (cli_opt_seen(a->opts, "temperature") || cli_opt_seen(a->opts, "alpha") || a->k.hints.n)) {
        fprintf(stderr, "nnslim prune: --temperature, --alpha and --hint need --teacher\n");
        return CLI_USAGE;
    }
    return -1;
}

/* --exclude and --layer-ratios into lists: -1 or the exit code. */
static int prune_lists(prune_args *a) {
    a->ex.names = a->ex_names;
    if (a->exclude) {
        snprintf(a->exbuf, sizeof a->exbuf, "%s", a->exclude);
        a->ex.n = split_list(a->exbuf, a->ex_names, 256);
    }
    if (!a->layer_ratios) return -1;
    snprintf(a->lrbuf, sizeof a->lrbuf, "%s", a->layer_ratios);
    const char *items[512];
    int n = split_list(a->lrbuf, items, 512);
    for (int i = 0; i < n; i++) {
        char *eq = strrchr((char *)items[i], '=');
        char *end = NULL;
        float v = eq ? strtof(eq + 1, &end) : -1;
        if (!eq || end == eq + 1 || *end || !(v >= 0 && v < 1)) {
            fprintf(stderr, "nnslim prune: --layer-ratios item '%s' is not name=ratio with a ratio in [0, 1)\n", items[i]);
            return CLI_USAGE;
        }
        *eq = 0;
        a->lr_names[a->n_lr] = items[i];
        a->lr_vals[a->n_lr++] = v;
    }
    return -1;
}

/* What the run holds: the model, the data, the teacher. */
typedef struct prune_run {
    nns_graph *g, *teacher;
    nns_dataset train, test, val;
    float mean, std;
    int have_data;
    nns_structured_report rep; /* neuron / channel pruning's */
    int has_rep;
} prune_run;

/* Load the teacher and check it, the hints and the data before any work. */
static nns_status prune_load_teacher(prune_args *a, prune_run *p) {
    if (!p->have_data || a->finetune < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "--teacher %s: distillation needs fine-tuning (--finetune-epochs >= 1) "
                         "on data the model fits", a->k.teacher);
    nns_status st;
    if ((st = nns_graph_load_onnx(a->k.teacher, &p->teacher)) || (st = cli_teacher_fits(a->k.teacher, p->teacher, &p->train)))
        return st;
    if ((st = cli_teacher_check_norm(a->k.teacher, p->teacher, p->g))) return st;
    nns_distiller *probe = NULL;
    if ((st = nns_distiller_create(p->teacher, p->g, &a->dc, 0, a->cfg.batch_size, &probe))) return st;
    st = nns_distiller_finish(probe, p->g);
    nns_distiller_free(probe);
    if (st) return st;
    fprintf(stderr, "fine-tuning learns from %s (T %g, alpha %g, %d hints)\n", a->k.teacher, a->dc.temperature,
            a->dc.alpha, a->dc.n_hints);
    return NNS_OK;
}

/* Load the model and the data, check the names. */
static nns_status prune_load(prune_args *a, prune_run *p) {
    nns_status st = nns_graph_load_onnx(a->model, &p->g);
    if (!st) st = cli_keep_zeros("prune", &a->t, p->g);
    if (st) return st;
    if ((st = cli_data_load(&a->d, &p->train, &p->test))) return st;
    if ((st = cli_data_normalize(&a->d, a->opts, p->g, &p->train, &p->test, &p->mean, &p->std))) return st;
    if ((st = cli_val_split(&a->t, &p->train, &p->val))) return st;
    p->have_data = 1;
    if ((st = nns_check_data(p->g, &p->train)) || (st = nns_check_data(p->g, &p->test))) {
        /* A model for other data (e.g. 3x32x32 images) can still be pruned
         * by weight criteria, without accuracy or fine-tuning. */
        int data_asked = a->d.data_dir || a->d.train_x || a->d.test_x;
        if (data_asked || (cli_opt_seen(a->opts, "finetune-epochs") && a->finetune > 0) ||
            a->crit == NNS_PRUNE_CRITERION_TAYLOR || a->sched != NNS_PRUNE_SCHEDULE_ONESHOT)
            return st;
        fprintf(stderr, "note: %s; pruning without accuracy or fine-tuning\n", nns_last_error());
        p->have_data = 0;
        a->finetune = 0;
    }
    if ((st = cli_check_writable(a->out))) return st;
    if (a->k.teacher && (st = prune_load_teacher(a, p))) return st;
    for (int i = 0; i < a->ex.n; i++)
        if (nns_graph_find_node(p->g, a->ex.names[i]) < 0)
            return nns_error(NNS_STATUS_INVALID_ARG, "--exclude: model '%s' has no node '%s'", a->model, a->ex.names[i]);
    for (int i = 0; i < a->n_lr; i++)
        if (nns_graph_find_node(p->g, a->lr_names[i]) < 0)
            return nns_error(NNS_STATUS_INVALID_ARG, "--layer-ratios: model '%s' has no node '%s'", a->model, a->lr_names[i]);
    return NNS_OK;
}

/* The fine-tuning callback of the library's schedule: nns_train, or
 * nns_distill from the teacher. */
typedef struct prune_ft {
    const prune_args *a;
    const prune_run *p;
    int announce; /* print "fine-tuning N epochs" (oneshot) */
} prune_ft;

static nns_status prune_finetune(void *user, nns_graph *g, int epochs, nns_prune_step_hook_fn hook, void *hook_user) {
    const prune_ft *f = user;
    nns_train_config cfg = f->a->cfg;
    cfg.epochs = epochs;
    cfg.step_hook = hook;
    cfg.step_hook_user = hook_user;
    if (f->announce) fprintf(stderr, "fine-tuning %d epoch%s\n", epochs, epochs == 1 ? "" : "s");
    const nns_dataset *val = f->p->val.n ? &f->p->val : NULL;
    nns_train_result tr;
    if (!f->p->teacher) return nns_train(g, &f->p->train, val, &cfg, &tr);
    return nns_distill(f->p->teacher, g, &f->p->train, val, &cfg, &f->a->dc, &tr);
}

static void prune_on_round(void *user, int round, int rounds, float target) {
    const prune_args *a = user;
    if (a->sched == NNS_PRUNE_SCHEDULE_ITERATIVE)
        fprintf(stderr, "iteration %d/%d: pruning to %.3f\n", round, rounds, target);
    else if (a->sched == NNS_PRUNE_SCHEDULE_GRADUAL)
        fprintf(stderr, "gradual pruning to %.3f over %d epoch%s\n", target, a->finetune, a->finetune == 1 ? "" : "s");
}

/* N:M, neurons or channels, each once. */
static nns_status prune_other(const prune_args *a, prune_run *p) {
    if (a->is_nm) return nns_prune_nm(p->g, a->nm_n, a->nm_m, &a->ex);
    nns_structured_config sc;
    memset(&sc, 0, sizeof sc);
    sc.ratio = a->sparsity > 0 ? a->sparsity : 0;
    sc.global = (a->scope && !strcmp(a->scope, "global")) || a->target_macs > 0 || a->target_params > 0;
    sc.target_macs = a->target_macs;
    sc.target_params = a->target_params;
    sc.criterion = a->crit;
    sc.round_to = a->layer_ratios && !cli_opt_seen(a->opts, "round-to") ? 1 : a->round_to;
    sc.neurons = a->is_neuron ? 1 : 2; /* neuron: Gemm only; channel: Conv only */
    sc.exclude = &a->ex;
    sc.layer_names = a->lr_names;
    sc.layer_ratios = a->lr_vals;
    sc.n_layer_ratios = a->n_lr;
    sc.data = p->have_data ? &p->train : NULL;
    sc.taylor_batches = 4;
    sc.batch_size = 64;
    nns_structured_report *rep = &p->rep;
    nns_status st = nns_prune_structured(p->g, &sc, rep);
    if (st) return st;
    p->has_rep = 1;
    fprintf(stderr, "removed %lld of %lld conv channels and %lld of %lld Gemm neurons, in %d of %d groups\n",
            (long long)(rep->conv_before - rep->conv_after), (long long)rep->conv_before,
            (long long)(rep->neurons_before - rep->neurons_after), (long long)rep->neurons_before, rep->groups_pruned,
            rep->groups);
    if (rep->n_skipped)
        fprintf(stderr, "nnslim prune: keeping a multiple of %d channels (--round-to) left %d layer%s whole: %s; "
                        "give --round-to 1 to prune %s\n", a->round_to, rep->n_skipped, rep->n_skipped == 1 ? "" : "s",
                rep->skipped, rep->n_skipped == 1 ? "it" : "them");
    return NNS_OK;
}

/* Prune (magnitude: the library's schedule) and fine-tune. */
static nns_status prune_apply(const prune_args *a, prune_run *p) {
    prune_ft ft = {a, p, a->sched == NNS_PRUNE_SCHEDULE_ONESHOT};
    if (!a->is_mag) {
        nns_status st = prune_other(a, p);
        if (st || a->finetune <= 0) return st;
        return prune_finetune(&ft, p->g, a->finetune, NULL, NULL);
    }
    if (a->sched == NNS_PRUNE_SCHEDULE_GRADUAL && a->finetune < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "--schedule gradual needs --finetune-epochs >= 1");
    nns_prune_schedule s;
    nns_prune_schedule_default(&s);
    s.kind = a->sched;
    s.sparsity = a->sparsity;
    s.scope = a->scope && !strcmp(a->scope, "layer") ? NNS_PRUNE_SCOPE_LAYER : NNS_PRUNE_SCOPE_GLOBAL;
    s.exclude = &a->ex;
    s.layer_names = a->lr_names;
    s.layer_ratios = a->lr_vals;
    s.n_layer_ratios = a->n_lr;
    s.rounds = a->steps;
    s.finetune_epochs = a->finetune;
    s.finetune = prune_finetune;
    s.finetune_user = &ft;
    s.on_round = prune_on_round;
    s.on_round_user = (void *)a;
    return nns_prune_schedule_run(p->g, &s);
}

/* ", \"removed\": {...}, \"skipped\": [...]" of neuron / channel pruning. */
static void removed_json(const nns_structured_report *r) {
    printf(", \"removed\": {\"conv_channels\": %lld, \"conv_channels_before\": %lld, \"gemm_neurons\": %lld, "
           "\"gemm_neurons_before\": %lld, \"groups_pruned\": %d, \"groups\": %d}, \"skipped\": [",
           (long long)(r->conv_before - r->conv_after), (long long)r->conv_before,
           (long long)(r->neurons_before - r->neurons_after), (long long)r->neurons_before, r->groups_pruned, r->groups);
    char names[sizeof r->skipped];
    snprintf(names, sizeof names, "%s", r->skipped);
    char *save = NULL;
    int k = 0;
    for (char *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save), k++) {
        printf(k ? ", " : "");
        cli_json_str(stdout, t);
    }
    printf("]");
}

static void prune_report(const prune_args *a, const prune_run *p, const cli_measure *before, const cli_measure *after) {
    if (a->json) {
        printf("{\"method\": ");
        cli_json_str(stdout, a->method);
        printf(", \"sparsity\": %.4f, \"finetune_epochs\": %d, ", a->sparsity, a->finetune);
        cli_measure_json("before", before);
        printf(", ");
        cli_measure_json("after", after);
        cli_speed_json(after);
        if (p->has_rep) removed_json(&p->rep);
        printf(", \"teacher\": ");
        if (a->k.teacher) cli_json_str(stdout, a->k.teacher);
        else printf("null");
        printf(", \"output\": ");
        cli_json_str(stdout, a->out);
        printf("}\n");
        return;
    }
    printf("%-22s %14s %14s %9s\n", "", "before", "after", "ratio");
    if (before->accuracy >= 0)
        printf("%-22s %14.4f %14.4f %+8.2f pts\n", "accuracy", before->accuracy, after->accuracy,
               100.0 * (after->accuracy - before->accuracy));
    else
        printf("%-22s %14s %14s\n", "accuracy", "n/a", "n/a");
#define ROW(name, a, b) printf("%-22s %14lld %14lld %8.3fx\n", name, (long long)(a), (long long)(b), (b) ? (double)(a) / (double)(b) : 0.0)
    ROW("parameters", before->params, after->params);
    ROW("nonzero parameters", before->nonzero, after->nonzero);
    ROW("MACs / image", before->macs, after->macs);
    ROW("file bytes", before->file_bytes, after->file_bytes);
#undef ROW
    cli_speed_rows(before, after);
    printf("saved %s\n", a->out);
}

/* Load, measure, prune, save, measure. */
static nns_status prune_execute(prune_args *a, prune_run *p, cli_measure *before, cli_measure *after) {
    nns_status st = prune_load(a, p);
    if (st) return st;
    fprintf(stderr, "measuring the model before pruning\n");
    if ((st = cli_measure_take(p->g, p->have_data ? &p->test : NULL, a->model, before))) return st;
    nns_graph *orig = NULL;
    if ((st = nns_graph_clone(p->g, &orig))) return st;
    a->cfg.epochs = a->finetune;
    if (!(st = prune_apply(a, p))) st = nns_graph_set_meta(p->g, "nnslim.prune_method", a->method);
    if (!st) st = cli_save_model(&a->t, p->g, a->out);
    if (!st) fprintf(stderr, "measuring the pruned model\n");
    if (!st) st = cli_measure_take(p->g, p->have_data ? &p->test : NULL, a->out, after);
    if (!st) fprintf(stderr, "measuring the speed of both, alternately\n");
    if (!st) st = cli_measure_speedup(orig, p->g, after);
    nns_graph_free(orig);
    return st;
}

int cmd_prune(int argc, char **argv) {
    prune_args a;
    memset(&a, 0, sizeof a);
    int rc = prune_parse(&a, argc, argv);
    if (rc < 0) rc = prune_check_choices(&a);
    if (rc < 0) rc = prune_check_values(&a);
    if (rc >= 0) return rc;
    nns_set_threads(a.t.threads);
    if ((rc = prune_lists(&a)) >= 0) return rc;
    prune_run p;
    memset(&p, 0, sizeof p);
    cli_measure before, after;
    nns_status st = prune_execute(&a, &p, &before, &after);
    if (!st) prune_report(&a, &p, &before, &after);
    rc = st ? cli_fail("prune", st) : CLI_OK;
    nns_dataset_free(&p.train);
    nns_dataset_free(&p.test);
    nns_dataset_free(&p.val);
    nns_graph_free(p.teacher);
    nns_graph_free(p.g);
    return rc;
}
