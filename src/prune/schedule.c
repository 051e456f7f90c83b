/* schedule.c — pruning schedules (oneshot, iterative, gradual) around a
 * caller's fine-tuning callback, per-layer magnitude pruning, and a
 * ready-made fine-tuning callback over nns_train. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnslim/prune.h"
#include "nnslim/train.h"
#include "prune/prune_util.h"


nns_status nns_prune_magnitude_per_layer(nns_graph *g, const char *const *names, const float *ratios,
                                         int n, const nns_prune_exclude *user_ex) {
    if (n < 0 || (n > 0 && (!names || !ratios)))
        return nns_error(NNS_STATUS_INVALID_ARG, "per-layer magnitude pruning: %d layers without names or ratios", n);
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
            if (L[i].params > 0 && strcmp(L[i].name, names[k]) && nns_prune_is_weight_layer(g, i)) others[no++] = L[i].name;
        for (int i = 0; user_ex && i < user_ex->n; i++) others[no++] = user_ex->names[i];
        nns_prune_exclude ex = {others, no};
        st = nns_prune_magnitude(g, ratios[k], NNS_PRUNE_SCOPE_LAYER, &ex);
    }
    free(others);
    free(L);
    return st;
}

void nns_prune_schedule_default(nns_prune_schedule *s) {
    memset(s, 0, sizeof *s);
    s->kind = NNS_PRUNE_SCHEDULE_ONESHOT;
    s->scope = NNS_PRUNE_SCOPE_GLOBAL;
    s->rounds = 3;
    s->finetune_epochs = 2;
}

float nns_prune_schedule_target(const nns_prune_schedule *s, int round) {
    if (s->kind != NNS_PRUNE_SCHEDULE_ITERATIVE || s->rounds < 1) return s->sparsity;
    return s->sparsity * (1.0f - powf(1.0f - (float)round / s->rounds, 3.0f));
}

int nns_prune_schedule_epochs(const nns_prune_schedule *s, int round) {
    if (s->kind != NNS_PRUNE_SCHEDULE_ITERATIVE || s->rounds < 1) return s->finetune_epochs;
    int per = s->finetune_epochs / s->rounds;
    return per + (round == s->rounds ? s->finetune_epochs - per * s->rounds : 0);
}

static nns_status schedule_check(const nns_prune_schedule *s) {
    if (s->kind != NNS_PRUNE_SCHEDULE_ONESHOT && s->kind != NNS_PRUNE_SCHEDULE_ITERATIVE &&
        s->kind != NNS_PRUNE_SCHEDULE_GRADUAL)
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning schedule: unknown kind %d", (int)s->kind);
    if (s->kind == NNS_PRUNE_SCHEDULE_ITERATIVE && s->rounds < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning schedule: %d rounds (need >= 1)", s->rounds);
    if (s->finetune_epochs < 0)
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning schedule: %d fine-tuning epochs (need >= 0)",
                         s->finetune_epochs);
    if (s->finetune_epochs > 0 && !s->finetune)
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning schedule: %d fine-tuning epochs without a fine-tuning callback",
                         s->finetune_epochs);
    if (s->kind == NNS_PRUNE_SCHEDULE_GRADUAL && s->finetune_epochs < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning schedule: gradual pruning needs fine-tuning epochs >= 1");
    if (s->n_layer_ratios && s->kind != NNS_PRUNE_SCHEDULE_ONESHOT)
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning schedule: per-layer ratios need the oneshot schedule");
    return NNS_OK;
}

static void announce(const nns_prune_schedule *s, int round, int rounds, float target) {
    if (s->on_round) s->on_round(s->on_round_user, round, rounds, target);
}

nns_status nns_prune_schedule_run(nns_graph *g, const nns_prune_schedule *s) {
    if (!g || !s) return nns_error(NNS_STATUS_INVALID_ARG, "pruning schedule: NULL graph or schedule");
    nns_status st = schedule_check(s);
    if (st) return st;
    if (s->kind == NNS_PRUNE_SCHEDULE_GRADUAL) {
        nns_prune_gradual gp;
        memset(&gp, 0, sizeof gp);
        gp.final_sparsity = s->sparsity;
        gp.scope = s->scope;
        gp.exclude = s->exclude;
        announce(s, 1, 1, s->sparsity);
        if ((st = s->finetune(s->finetune_user, g, s->finetune_epochs, nns_prune_gradual_hook, &gp))) return st;
        /* the schedule ends at exactly the target */
        return nns_prune_magnitude(g, s->sparsity, s->scope, s->exclude);
    }
    if (s->kind == NNS_PRUNE_SCHEDULE_ITERATIVE) {
        for (int k = 1; k <= s->rounds; k++) {
            float sp = nns_prune_schedule_target(s, k);
            announce(s, k, s->rounds, sp);
            if ((st = nns_prune_magnitude(g, sp, s->scope, s->exclude))) return st;
            int ep = nns_prune_schedule_epochs(s, k);
            if (ep > 0 && (st = s->finetune(s->finetune_user, g, ep, NULL, NULL))) return st;
        }
        return NNS_OK;
    }
    announce(s, 1, 1, s->sparsity);
    if (s->n_layer_ratios)
        st = nns_prune_magnitude_per_layer(g, s->layer_names, s->layer_ratios, s->n_layer_ratios, s->exclude);
    else
        st = nns_prune_magnitude(g, s->sparsity, s->scope, s->exclude);
    if (st) return st;
    if (s->finetune_epochs > 0) st = s->finetune(s->finetune_user, g, s->finetune_epochs, NULL, NULL);
    return st;
}

nns_status nns_prune_finetune_train(void *user, nns_graph *g, int epochs, nns_prune_step_hook_fn step_hook,
                                    void *step_hook_user) {
    const nns_prune_finetune_data *d = user;
    if (!d || !d->train || !d->cfg)
        return nns_error(NNS_STATUS_INVALID_ARG, "pruning fine-tuning: no training data or config");
    nns_train_config cfg = *d->cfg;
    cfg.epochs = epochs;
    cfg.step_hook = step_hook;
    cfg.step_hook_user = step_hook_user;
    nns_train_result r;
    nns_status st = nns_train(g, d->train, d->val, &cfg, &r);
    if (!st && d->result) *d->result = r;
    return st;
}
