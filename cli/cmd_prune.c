/* cmd_prune.c — nnslim prune. */
#include <math.h>
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
    "  --round-to N           keep a multiple of N channels per layer (default 8; 1: any)\n"
    "  --layer-ratios LIST    name=ratio,... per-layer channel ratios (e.g. from sensitivity)\n"
    "  --schedule oneshot|iterative|gradual   magnitude only (default oneshot):\n"
    "                         oneshot prunes then fine-tunes; iterative prunes in --steps rounds\n"
    "                         with fine-tuning between; gradual prunes during fine-tuning with\n"
    "                         Zhu & Gupta's cubic schedule\n"
    "  --steps N              iterative: rounds (default 3)\n"
    "  --finetune-epochs N    default 2 (0: no fine-tuning)\n"
    "  --exclude L,...        node names to leave unpruned\n"
    "  --json                 one JSON object with \"before\" and \"after\"\n"
    "  --lr X                 fine-tuning learning rate, default 0.03 (gradual: 0.05)\n"
    "  (the learning-rate schedule is --lr-schedule here; --schedule is the pruning one)\n"
    "  --teacher T.onnx       fine-tune by distillation from this model (e.g. the model\n"
    "                         before pruning: MODEL.onnx itself), with:\n"
    CLI_DISTILL_HELP
    CLI_TRAIN_HELP
    "\n" CLI_DATA_HELP
    "\nJSON: {\"before\": {...}, \"after\": {...}} with accuracy, params, nonzero_params, macs,\n"
    "file_bytes, latency_ms_b1, images_per_second_b64; and method, sparsity, finetune_epochs,\n"
    "teacher (the --teacher file or null), output.\n";

/* Magnitude pruning with a ratio per named layer: each layer alone (all
 * other prunable layers excluded), layer scope. */
static nns_status prune_magnitude_per_layer(nns_graph *g, const char *const *names, const float *ratios, int n,
                                            const nns_prune_exclude *user_ex) {
    nns_layer_info *L = NULL;
    int nl = 0;
    nns_status st = nns_graph_summarize(g, &L, &nl, NULL, NULL, NULL);
    if (st) return st;
    const char **others = malloc((size_t)(nl + (user_ex ? user_ex->n : 0) + 1) * sizeof(char *));
    if (!others) {
        free(L);
        return nns_error(NNS_STATUS_NOMEM, "out of memory");
    }
    for (int k = 0; k < n && !st; k++) {
        int no = 0;
        for (int i = 0; i < nl; i++)
            if (L[i].params > 0 && strcmp(L[i].name, names[k]) &&
                (!strcmp(L[i].op, "Conv") || !strcmp(L[i].op, "Gemm") || !strcmp(L[i].op, "MatMul")))
                others[no++] = L[i].name;
        for (int i = 0; user_ex && i < user_ex->n; i++) others[no++] = user_ex->names[i];
        nns_prune_exclude ex = {others, no};
        st = nns_prune_magnitude(g, ratios[k], NNS_PRUNE_SCOPE_LAYER, &ex);
    }
    free(others);
    free(L);
    return st;
}

/* Split "a,b,c" into names (pointers into buf). */
static int split_list(char *buf, const char **names, int max) {
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok && n < max; tok = strtok_r(NULL, ",", &save)) names[n++] = tok;
    return n;
}

/* Fine-tune, from the teacher when one is given. */
static nns_status finetune_run(nns_graph *g, const nns_dataset *train, const nns_dataset *val,
                               const nns_train_config *cfg, const nns_graph *teacher,
                               const nns_distill_config *dc, nns_train_result *tr) {
    if (!teacher) return nns_train(g, train, val, cfg, tr);
    return nns_distill(teacher, g, train, val, cfg, dc, tr);
}

int cmd_prune(int argc, char **argv) {
    const char *method = NULL, *nm = "2:4", *scope = NULL, *criterion = "l1", *schedule = "oneshot",
               *exclude = NULL, *out = NULL, *layer_ratios = NULL;
    float sparsity = -1, target_macs = 0, target_params = 0;
    int finetune = 2, json = 0, round_to = 8, steps = 3;
    cli_train_opts t;
    cli_train_init(&t, 0.03f);
    cli_data_opts d;
    cli_data_init(&d);
    cli_distill_opts k;
    cli_distill_init(&k);
    cli_opt opts[] = {{"method", OPT_STR, &method, 0}, {"sparsity", OPT_FLOAT, &sparsity, 0},
                      {"nm", OPT_STR, &nm, 0}, {"scope", OPT_STR, &scope, 0},
                      {"criterion", OPT_STR, &criterion, 0}, {"target-macs", OPT_FLOAT, &target_macs, 0},
                      {"target-params", OPT_FLOAT, &target_params, 0}, {"round-to", OPT_INT, &round_to, 0},
                      {"layer-ratios", OPT_STR, &layer_ratios, 0}, {"schedule", OPT_STR, &schedule, 0},
                      {"steps", OPT_INT, &steps, 0}, {"finetune-epochs", OPT_INT, &finetune, 0},
                      {"exclude", OPT_STR, &exclude, 0}, {"output", OPT_STR, &out, 0},
                      {"json", OPT_FLAG, &json, 0}, CLI_TRAIN_OPTS(t), CLI_DATA_OPTS(d),
                      CLI_DISTILL_OPTS(k), {NULL, 0, NULL, 0}};
    /* --schedule here is the pruning schedule; the LR schedule stays cosine. */
    for (cli_opt *o = opts; o->name; o++)
        if (!strcmp(o->name, "schedule") && o->dest == &t.schedule) o->name = "lr-schedule";
    const char *pos[1];
    int npos;
    int r = cli_parse("prune", argc, argv, opts, pos, 1, &npos);
    if (r < 0) {
        fputs(help, stdout);
        return CLI_OK;
    }
    if (r) return r;
    if (npos != 1 || !method || !out) {
        fprintf(stderr, "nnslim prune: give MODEL.onnx, --method and -o OUT.onnx (try 'nnslim prune --help')\n");
        return CLI_USAGE;
    }
    int is_mag = !strcmp(method, "magnitude"), is_nm = !strcmp(method, "nm"),
        is_neuron = !strcmp(method, "neuron"), is_channel = !strcmp(method, "channel");
    if (!is_mag && !is_nm && !is_neuron && !is_channel) {
        fprintf(stderr, "nnslim prune: --method must be magnitude, nm, neuron or channel, not '%s'\n", method);
        return CLI_USAGE;
    }
    int sched_oneshot = !strcmp(schedule, "oneshot"), sched_iter = !strcmp(schedule, "iterative"),
        sched_grad = !strcmp(schedule, "gradual");
    if (!sched_oneshot && !sched_iter && !sched_grad) {
        fprintf(stderr, "nnslim prune: --schedule must be oneshot, iterative or gradual, not '%s'\n", schedule);
        return CLI_USAGE;
    }
    if (layer_ratios && !sched_oneshot) {
        fprintf(stderr, "nnslim prune: --layer-ratios works with --schedule oneshot\n");
        return CLI_USAGE;
    }
    if (!is_mag && !sched_oneshot) {
        fprintf(stderr, "nnslim prune: --schedule %s is for --method magnitude\n", schedule);
        return CLI_USAGE;
    }
    if (scope && strcmp(scope, "global") && strcmp(scope, "layer")) {
        fprintf(stderr, "nnslim prune: --scope must be global or layer, not '%s'\n", scope);
        return CLI_USAGE;
    }
    nns_prune_criterion crit;
    if (!strcmp(criterion, "l1")) crit = NNS_PRUNE_CRITERION_L1;
    else if (!strcmp(criterion, "l2")) crit = NNS_PRUNE_CRITERION_L2;
    else if (!strcmp(criterion, "bn")) crit = NNS_PRUNE_CRITERION_BN;
    else if (!strcmp(criterion, "taylor")) crit = NNS_PRUNE_CRITERION_TAYLOR;
    else {
        fprintf(stderr, "nnslim prune: --criterion must be l1, l2, bn or taylor, not '%s'\n", criterion);
        return CLI_USAGE;
    }
    int nm_n = 0, nm_m = 0;
    if (is_nm) {
        char extra;
        if (sscanf(nm, "%d:%d%c", &nm_n, &nm_m, &extra) != 2 || nm_n < 1 || nm_m <= nm_n) {
            fprintf(stderr, "nnslim prune: --nm takes N:M with 0 < N < M, not '%s'\n", nm);
            return CLI_USAGE;
        }
    }
    if (finetune < 0 || steps < 1 || round_to < 1) {
        fprintf(stderr, "nnslim prune: --finetune-epochs must be >= 0, --steps and --round-to >= 1\n");
        return CLI_USAGE;
    }
    int need_sparsity = (is_mag && !layer_ratios) || ((is_neuron || is_channel) && target_macs <= 0 && target_params <= 0 && !layer_ratios);
    if (need_sparsity && !cli_opt_seen(opts, "sparsity")) {
        fprintf(stderr, "nnslim prune: --sparsity X is required for --method %s\n", method);
        return CLI_USAGE;
    }
    if (cli_opt_seen(opts, "sparsity") && !(sparsity >= 0 && sparsity < 1)) {
        fprintf(stderr, "nnslim prune: --sparsity must be in [0, 1), not %g\n", sparsity);
        return CLI_FAIL;
    }
    if (target_macs < 0 || target_macs >= 1 || target_params < 0 || target_params >= 1) {
        fprintf(stderr, "nnslim prune: --target-macs and --target-params must be in (0, 1)\n");
        return CLI_FAIL;
    }
    /* gradual pruning trains from the start of its schedule: the training lr */
    if (sched_grad && !cli_opt_seen(opts, "lr")) t.lr = 0.05f;
    nns_train_config cfg;
    if ((r = cli_train_config("prune", &t, &cfg))) return r;
    nns_distill_config dc;
    if ((r = cli_distill_config("prune", &k, &dc))) return r;
    if (!k.teacher && (cli_opt_seen(opts, "temperature") || cli_opt_seen(opts, "alpha") || k.hints.n)) {
        fprintf(stderr, "nnslim prune: --temperature, --alpha and --hint need --teacher\n");
        return CLI_USAGE;
    }
    nns_set_threads(t.threads);

    char exbuf[4096] = "", lrbuf[8192] = "";
    const char *ex_names[256];
    nns_prune_exclude ex = {ex_names, 0};
    if (exclude) {
        snprintf(exbuf, sizeof exbuf, "%s", exclude);
        ex.n = split_list(exbuf, ex_names, 256);
    }
    const char *lr_names[512];
    float lr_vals[512];
    int n_lr = 0;
    if (layer_ratios) {
        snprintf(lrbuf, sizeof lrbuf, "%s", layer_ratios);
        const char *items[512];
        int n = split_list(lrbuf, items, 512);
        for (int i = 0; i < n; i++) {
            char *eq = strrchr((char *)items[i], '=');
            char *end = NULL;
            float v = eq ? strtof(eq + 1, &end) : -1;
            if (!eq || end == eq + 1 || *end || !(v >= 0 && v < 1)) {
                fprintf(stderr, "nnslim prune: --layer-ratios item '%s' is not name=ratio with a ratio in [0, 1)\n", items[i]);
                return CLI_USAGE;
            }
            *eq = 0;
            lr_names[n_lr] = items[i];
            lr_vals[n_lr++] = v;
        }
    }

    nns_graph *g = NULL, *teacher = NULL;
    nns_dataset train = {0}, test = {0}, val = {0};
    cli_measure before, after;
    int rc = CLI_FAIL;
    float mean, std;
    nns_status st = nns_graph_load_onnx(pos[0], &g);
    if (st) goto fail;
    if ((st = cli_data_load(&d, &train, &test))) goto fail;
    if ((st = cli_data_normalize(&d, opts, g, &train, &test, &mean, &std))) goto fail;
    if ((st = cli_val_split(&t, &train, &val))) goto fail;
    int have_data = 1;
    if ((st = nns_check_data(g, &train)) || (st = nns_check_data(g, &test))) {
        /* A model for other data (e.g. 3x32x32 images) can still be pruned
         * by weight criteria, without accuracy or fine-tuning. */
        int data_asked = d.data_dir || d.train_x || d.test_x;
        if (data_asked || (cli_opt_seen(opts, "finetune-epochs") && finetune > 0) ||
            crit == NNS_PRUNE_CRITERION_TAYLOR || sched_grad || sched_iter)
            goto fail;
        fprintf(stderr, "note: %s; pruning without accuracy or fine-tuning\n", nns_last_error());
        have_data = 0;
        finetune = 0;
    }
    if ((st = cli_check_writable(out))) goto fail;
    if (k.teacher) {
        if (!have_data || finetune < 1) {
            st = nns_error(NNS_STATUS_INVALID_ARG, "--teacher %s: distillation needs fine-tuning (--finetune-epochs >= 1) "
                           "on data the model fits", k.teacher);
            goto fail;
        }
        if ((st = nns_graph_load_onnx(k.teacher, &teacher)) || (st = cli_teacher_fits(k.teacher, teacher, &train)))
            goto fail;
        if ((st = cli_teacher_check_norm(k.teacher, teacher, mean, std))) goto fail;
        /* check the teacher's shapes and the hints now, before any work */
        nns_distiller *probe = NULL;
        if ((st = nns_distiller_create(teacher, g, &dc, 0, cfg.batch_size, &probe))) goto fail;
        st = nns_distiller_finish(probe, g);
        nns_distiller_free(probe);
        if (st) goto fail;
        fprintf(stderr, "fine-tuning learns from %s (T %g, alpha %g, %d hints)\n", k.teacher, dc.temperature,
                dc.alpha, dc.n_hints);
    }
    for (int i = 0; i < ex.n; i++)
        if (nns_graph_find_node(g, ex.names[i]) < 0) {
            st = nns_error(NNS_STATUS_INVALID_ARG, "--exclude: model '%s' has no node '%s'", pos[0], ex.names[i]);
            goto fail;
        }
    for (int i = 0; i < n_lr; i++)
        if (nns_graph_find_node(g, lr_names[i]) < 0) {
            st = nns_error(NNS_STATUS_INVALID_ARG, "--layer-ratios: model '%s' has no node '%s'", pos[0], lr_names[i]);
            goto fail;
        }
    fprintf(stderr, "measuring the model before pruning\n");
    if ((st = cli_measure_take(g, have_data ? &test : NULL, pos[0], &before))) goto fail;
    cfg.epochs = finetune;
    nns_prune_scope pscope = scope && !strcmp(scope, "layer") ? NNS_PRUNE_SCOPE_LAYER : NNS_PRUNE_SCOPE_GLOBAL;
    nns_train_result tr;
    if (is_mag && sched_grad) {
        if (finetune < 1) {
            st = nns_error(NNS_STATUS_INVALID_ARG, "--schedule gradual needs --finetune-epochs >= 1");
            goto fail;
        }
        nns_prune_gradual gp;
        memset(&gp, 0, sizeof gp);
        gp.final_sparsity = sparsity;
        gp.scope = pscope;
        gp.exclude = &ex;
        cfg.step_hook = nns_prune_gradual_hook;
        cfg.step_hook_user = &gp;
        fprintf(stderr, "gradual pruning to %.3f over %d epochs\n", sparsity, finetune);
        if ((st = finetune_run(g, &train, val.n ? &val : NULL, &cfg, teacher, &dc, &tr))) goto fail;
        /* the schedule ends at exactly the target */
        if ((st = nns_prune_magnitude(g, sparsity, pscope, &ex))) goto fail;
    } else if (is_mag && sched_iter) {
        int per = finetune / steps;
        for (int k = 1; k <= steps; k++) {
            float sp = sparsity * (1.0f - powf(1.0f - (float)k / steps, 3.0f));
            fprintf(stderr, "iteration %d/%d: pruning to %.3f\n", k, steps, sp);
            if ((st = nns_prune_magnitude(g, sp, pscope, &ex))) goto fail;
            int ep = per + (k == steps ? finetune - per * steps : 0);
            if (ep > 0) {
                cfg.epochs = ep;
                if ((st = finetune_run(g, &train, val.n ? &val : NULL, &cfg, teacher, &dc, &tr))) goto fail;
            }
        }
    } else {
        if (is_mag && n_lr) st = prune_magnitude_per_layer(g, lr_names, lr_vals, n_lr, &ex);
        else if (is_mag) st = nns_prune_magnitude(g, sparsity, pscope, &ex);
        else if (is_nm) st = nns_prune_nm(g, nm_n, nm_m, &ex);
        else {
            nns_structured_config sc;
            memset(&sc, 0, sizeof sc);
            sc.ratio = sparsity > 0 ? sparsity : 0;
            sc.global = scope && !strcmp(scope, "global");
            sc.target_macs = target_macs;
            sc.target_params = target_params;
            if (target_macs > 0 || target_params > 0) sc.global = 1;
            sc.criterion = crit;
            sc.round_to = round_to;
            sc.neurons = is_neuron ? 1 : 2; /* neuron: Gemm only; channel: Conv only */
            sc.exclude = &ex;
            sc.layer_names = lr_names;
            sc.layer_ratios = lr_vals;
            sc.n_layer_ratios = n_lr;
            sc.data = have_data ? &train : NULL;
            sc.taylor_batches = 4;
            sc.batch_size = 64;
            nns_structured_report rep;
            st = nns_prune_structured(g, &sc, &rep);
            if (!st)
                fprintf(stderr, "removed %lld of %lld channels in %d of %d groups\n",
                        (long long)(rep.channels_before - rep.channels_after), (long long)rep.channels_before,
                        rep.groups_pruned, rep.groups);
        }
        if (st) goto fail;
        if (finetune > 0) {
            fprintf(stderr, "fine-tuning %d epochs\n", finetune);
            if ((st = finetune_run(g, &train, val.n ? &val : NULL, &cfg, teacher, &dc, &tr))) goto fail;
        }
    }
    if ((st = nns_graph_set_meta(g, "nnslim.prune_method", method))) goto fail;
    if ((st = nns_graph_save_onnx(g, out))) goto fail;
    fprintf(stderr, "measuring the pruned model\n");
    if ((st = cli_measure_take(g, have_data ? &test : NULL, out, &after))) goto fail;
    if (json) {
        printf("{\"method\": ");
        cli_json_str(stdout, method);
        printf(", \"sparsity\": %.4f, \"finetune_epochs\": %d, ", sparsity, finetune);
        cli_measure_json("before", &before);
        printf(", ");
        cli_measure_json("after", &after);
        printf(", \"teacher\": ");
        if (k.teacher) cli_json_str(stdout, k.teacher);
        else printf("null");
        printf(", \"output\": ");
        cli_json_str(stdout, out);
        printf("}\n");
    } else {
        printf("%-22s %14s %14s %9s\n", "", "before", "after", "ratio");
        if (before.accuracy >= 0)
            printf("%-22s %14.4f %14.4f %+8.2f pts\n", "accuracy", before.accuracy, after.accuracy,
                   100.0 * (after.accuracy - before.accuracy));
        else
            printf("%-22s %14s %14s\n", "accuracy", "n/a", "n/a");
#define ROW(name, a, b) printf("%-22s %14lld %14lld %8.3fx\n", name, (long long)(a), (long long)(b), (b) ? (double)(a) / (double)(b) : 0.0)
        ROW("parameters", before.params, after.params);
        ROW("nonzero parameters", before.nonzero, after.nonzero);
        ROW("MACs / image", before.macs, after.macs);
        ROW("file bytes", before.file_bytes, after.file_bytes);
#undef ROW
        printf("%-22s %14.4f %14.4f %8.3fx\n", "latency b1 (ms)", before.lat_b1, after.lat_b1,
               after.lat_b1 > 0 ? before.lat_b1 / after.lat_b1 : 0.0);
        printf("%-22s %14.0f %14.0f %8.3fx\n", "images/s b64", before.ips_b64, after.ips_b64,
               before.ips_b64 > 0 ? after.ips_b64 / before.ips_b64 : 0.0);
        printf("saved %s\n", out);
    }
    rc = CLI_OK;
    goto done;
fail:
    rc = cli_fail("prune", st);
done:
    nns_dataset_free(&train);
    nns_dataset_free(&test);
    nns_dataset_free(&val);
    nns_graph_free(teacher);
    nns_graph_free(g);
    return rc;
}
