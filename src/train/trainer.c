/* trainer.c — the training loop and evaluation. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>

#include "core/clock.h"
#include "core/graph_impl.h"
#include "nnslim/train.h"
#include "ops/op.h"
#include "runtime/plan.h"
#include "train/optim.h"

static int nns_threads_set;

void nns_set_threads(int n) {
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    nns_threads_set = n;
}

int nns_get_threads(void) { return nns_threads_set ? nns_threads_set : omp_get_max_threads(); }

void nns_train_config_default(nns_train_config *c) {
    memset(c, 0, sizeof *c);
    c->epochs = 10;
    c->batch_size = 128;
    c->optimizer = NNS_OPTIMIZER_KIND_SGD;
    c->lr = 0.05f;
    c->momentum = 0.9f;
    c->weight_decay = 5e-4f;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->adam_eps = 1e-8f;
    c->schedule = NNS_SCHEDULE_KIND_COSINE;
    c->step_gamma = 0.1f;
    c->seed = 1;
}

/* Check that the data set fits the graph: one f32 input [N, C, H, W] (or
 * [N, F] with F = C*H*W), one output [N, K] with K >= n_classes. */
/* A weight stored in 16-bit floats behind a Cast would not train (no
 * gradient reaches it): refused by name rather than left unchanged. */
static nns_status check_weights_trainable(const nns_graph *g) {
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        const int slot = nns_op_weight_in(n), v = slot >= 0 && slot < n->n_in ? n->in[slot] : -1;
        const int p = v >= 0 ? g->values[v].producer : -1;
        const int w = p >= 0 && g->nodes[p].op == NNS_OP_CAST ? g->nodes[p].in[0] : -1;
        const nns_dtype dt = w >= 0 ? g->values[w].dtype : NNS_DTYPE_F32;
        if (dt == NNS_DTYPE_F16 || dt == NNS_DTYPE_BF16)
            return nns_error(NNS_STATUS_UNSUPPORTED,
                             "layer '%s': its weight '%s' is stored in %s (read through a Cast) and would not train; "
                             "train the float model, then store its weights in 16 bits (nnslim quantize --weights %s)",
                             g->nodes[i].name, g->values[w].name, nns_dtype_name(dt), dt == NNS_DTYPE_F16 ? "fp16" : "bf16");
    }
    return NNS_OK;
}

/* An image input [N, C, H, W] takes images of exactly that shape (or flat
 * rows of C*H*W values); images that are the model's turned channels-last
 * get an error that says how to turn them back. */
static nns_status check_layout(const nns_value *in, const nns_dataset *d) {
    if (in->shape.ndim != 4 || (d->c == 1 && d->h == 1)) return NNS_OK;
    const int64_t c = in->shape.dims[1], h = in->shape.dims[2], w = in->shape.dims[3];
    if (c == d->c && h == d->h && w == d->w) return NNS_OK;
    if (h == d->c && w == d->h && c == d->w)
        return nns_error(NNS_STATUS_SHAPE,
                         "model input '%s' takes images of %lldx%lldx%lld (channels first) but the data's are %dx%dx%d, "
                         "channels last: give --layout nhwc to transpose them on load (C: nns_dataset_to_nchw)",
                         in->name, (long long)c, (long long)h, (long long)w, d->c, d->h, d->w);
    return nns_error(NNS_STATUS_SHAPE, "model input '%s' takes images of %lldx%lldx%lld but the data's are %dx%dx%d",
                     in->name, (long long)c, (long long)h, (long long)w, d->c, d->h, d->w);
}

static nns_status check_fit(const nns_graph *g, const nns_dataset *d, int *classes) {
    if (g->n_inputs != 1 || g->n_outputs < 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "model has %d inputs and %d outputs; training needs one input and one output",
                         g->n_inputs, g->n_outputs);
    const nns_value *in = &g->values[g->inputs[0]];
    int64_t per = 1;
    for (int i = 1; i < in->shape.ndim; i++) per *= in->shape.dims[i];
    char b1[96];
    if (per != (int64_t)d->c * d->h * d->w)
        return nns_error(NNS_STATUS_SHAPE, "model input '%s' is %s per batch but the data's images are %dx%dx%d",
                         in->name, nns_shape_str(&in->shape, b1, sizeof b1), d->c, d->h, d->w);
    nns_status st = check_layout(in, d);
    if (st) return st;
    const nns_value *out = &g->values[g->outputs[0]];
    if (out->shape.ndim != 2)
        return nns_error(NNS_STATUS_SHAPE, "model output '%s' has rank %d; expected [N, classes]", out->name, out->shape.ndim);
    if (out->shape.dims[1] < d->n_classes)
        return nns_error(NNS_STATUS_SHAPE, "model output '%s' has %lld classes but the labels go up to %d",
                         out->name, (long long)out->shape.dims[1], d->n_classes - 1);
    *classes = (int)out->shape.dims[1];
    return NNS_OK;
}

nns_status nns_check_data(const nns_graph *g, const nns_dataset *d) {
    int classes;
    return check_fit(g, d, &classes);
}

static nns_status check_train_config(const nns_train_config *cfg, const nns_dataset *train) {
    if (cfg->epochs < 1) return nns_error(NNS_STATUS_INVALID_ARG, "--epochs must be >= 1, not %d", cfg->epochs);
    if (cfg->batch_size < 1) return nns_error(NNS_STATUS_INVALID_ARG, "--batch-size must be >= 1, not %d", cfg->batch_size);
    if (!(cfg->lr > 0) || !isfinite(cfg->lr)) return nns_error(NNS_STATUS_INVALID_ARG, "--lr must be > 0, not %g", cfg->lr);
    if (cfg->momentum < 0 || cfg->momentum >= 1) return nns_error(NNS_STATUS_INVALID_ARG, "--momentum must be in [0, 1), not %g", cfg->momentum);
    if (cfg->weight_decay < 0) return nns_error(NNS_STATUS_INVALID_ARG, "--weight-decay must be >= 0, not %g", cfg->weight_decay);
    if (!(cfg->clip_grad_norm >= 0) || !isfinite(cfg->clip_grad_norm))
        return nns_error(NNS_STATUS_INVALID_ARG, "--clip-grad-norm must be >= 0, not %g", cfg->clip_grad_norm);
    if (cfg->label_smoothing < 0 || cfg->label_smoothing >= 1)
        return nns_error(NNS_STATUS_INVALID_ARG, "--label-smoothing must be in [0, 1), not %g", cfg->label_smoothing);
    if (train->n < 1) return nns_error(NNS_STATUS_INVALID_ARG, "the training set is empty");
    const int stop = cfg->stop_epoch ? cfg->stop_epoch : cfg->epochs;
    if (cfg->start_epoch < 0 || cfg->start_epoch > stop || stop > cfg->epochs)
        return nns_error(NNS_STATUS_INVALID_ARG, "epochs %d to %d are not within a run of %d epochs", cfg->start_epoch + 1,
                         stop, cfg->epochs);
    return NNS_OK;
}

/* One training run's state: the optimiser's buffers, the plan, the
 * batcher, the slimming penalty's BatchNorm scales, the step counters. */
typedef struct trainer {
    nns_graph *g;
    const nns_train_config *cfg;
    int classes, bs, augmented;
    int64_t np;
    float *grads, *mom, *sq, *dlogits;
    int32_t *ybuf;
    nns_plan *plan;
    nns_batcher *bat;
    int n_gamma;
    int64_t *gamma_off, *gamma_len;
    int n_aux;
    const float **aux_out;
    float **aux_grad;
    int64_t *aux_per;
    int64_t spe, T, t, images; /* steps per epoch, in all, done; images seen */
    int64_t t_start;            /* t at the first step of this call (start_epoch) */
    double t0;                 /* training's start (evaluation time excluded) */
} trainer;

static void trainer_free(trainer *tr) {
    free(tr->aux_out);
    free(tr->aux_grad);
    free(tr->aux_per);
    free(tr->gamma_off);
    free(tr->gamma_len);
    nns_batcher_free(tr->bat);
    nns_plan_free(tr->plan);
    free(tr->grads);
    free(tr->mom);
    free(tr->sq);
    free(tr->ybuf);
    free(tr->dlogits);
}

/* BatchNorm scales for the slimming penalty. */
static nns_status find_gammas(trainer *tr) {
    const nns_graph *g = tr->g;
    tr->gamma_off = malloc((size_t)(g->n_nodes + 1) * sizeof(int64_t));
    tr->gamma_len = malloc((size_t)(g->n_nodes + 1) * sizeof(int64_t));
    if (!tr->gamma_off || !tr->gamma_len) return nns_error(NNS_STATUS_NOMEM, "out of memory for the slimming penalty");
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *nd = &g->nodes[i];
        const nns_op_def *def = nns_op_def_of(nd); /* a channel-wise op's scale */
        int wi = nns_op_weight_in(nd);
        if (!def || def->chan != NNS_OP_CHAN_PERCHANNEL || wi < 0) continue;
        const nns_value *v = &g->values[nd->in[wi]];
        if (v->param_offset < 0 || !v->trainable) continue;
        tr->gamma_off[tr->n_gamma] = v->param_offset;
        tr->gamma_len[tr->n_gamma++] = nns_shape_numel(&v->shape);
    }
    return NNS_OK;
}

/* Everything a run allocates (freed by trainer_free, even on failure). */
static nns_status trainer_init(trainer *tr, nns_graph *g, const nns_dataset *train, const nns_train_config *cfg,
                               int classes) {
    nns_status st;
    tr->g = g;
    tr->cfg = cfg;
    tr->classes = classes;
    int bs = tr->bs = cfg->batch_size;
    int64_t np = tr->np = g->n_params;
    tr->grads = calloc((size_t)(np ? np : 1), sizeof(float));
    tr->mom = calloc((size_t)(np ? np : 1), sizeof(float));
    tr->sq = cfg->optimizer == NNS_OPTIMIZER_KIND_ADAMW ? calloc((size_t)(np ? np : 1), sizeof(float)) : NULL;
    tr->ybuf = malloc((size_t)bs * sizeof(int32_t));
    tr->dlogits = malloc((size_t)bs * (size_t)classes * sizeof(float));
    int n_aux = tr->n_aux = cfg->aux_loss ? g->n_outputs - 1 : 0;
    tr->aux_out = n_aux > 0 ? malloc((size_t)n_aux * sizeof *tr->aux_out) : NULL;
    tr->aux_grad = n_aux > 0 ? malloc((size_t)n_aux * sizeof *tr->aux_grad) : NULL;
    tr->aux_per = n_aux > 0 ? malloc((size_t)n_aux * sizeof *tr->aux_per) : NULL;
    if (!tr->grads || !tr->mom || !tr->ybuf || !tr->dlogits || (cfg->optimizer == NNS_OPTIMIZER_KIND_ADAMW && !tr->sq) ||
        (n_aux > 0 && (!tr->aux_out || !tr->aux_grad || !tr->aux_per)))
        return nns_error(NNS_STATUS_NOMEM, "out of memory for %lld parameters' training state", (long long)np);
    if ((st = nns_plan_create(g, bs, 1, tr->grads, &tr->plan)) || (st = nns_plan_check_f32_io(tr->plan, "training")))
        return st;
    for (int i = 0; i < n_aux; i++) {
        const nns_value *v = &g->values[g->outputs[i + 1]];
        int64_t per = 1;
        for (int d = 1; d < v->shape.ndim; d++) per *= v->shape.dims[d];
        tr->aux_per[i] = per;
    }
    tr->augmented = cfg->augment.crop_pad > 0 || cfg->augment.hflip;
    if (cfg->slim_penalty > 0 && (st = find_gammas(tr))) return st;
    if ((st = nns_batcher_create(train, bs, 1, cfg->seed, &cfg->augment, &tr->bat))) return st;
    tr->spe = nns_batcher_n_batches(tr->bat);
    tr->T = tr->spe * cfg->epochs;
    return NNS_OK;
}

/* The batch's loss (the configured one, or softmax cross-entropy, plus the
 * auxiliary outputs' loss) and its gradient in dlogits and the plan. */
static nns_status step_loss(trainer *tr, const nns_tv *xin, const nns_tv *out, int n, float *loss) {
    const nns_train_config *cfg = tr->cfg;
    nns_status st;
    if (cfg->loss) {
        if ((st = cfg->loss(cfg->loss_user, nns_tv_f32(out), tr->dlogits, tr->ybuf, nns_batcher_indices(tr->bat), n,
                            tr->classes, nns_tv_f32(xin), tr->augmented, loss)))
            return st;
    } else {
        *loss = nns_loss_softmax_ce(nns_tv_f32(out), tr->ybuf, n, tr->classes, cfg->label_smoothing, tr->dlogits);
    }
    nns_plan_zero_act_grads(tr->plan);
    if (tr->n_aux > 0) {
        for (int i = 0; i < tr->n_aux; i++) {
            nns_tv *o = nns_plan_output(tr->plan, i + 1);
            tr->aux_out[i] = nns_tv_f32(o);
            tr->aux_grad[i] = o->grad;
        }
        float aux = 0;
        if ((st = cfg->aux_loss(cfg->aux_loss_user, tr->n_aux, tr->aux_out, tr->aux_grad, tr->aux_per, n, &aux)))
            return st;
        *loss += aux;
    }
    return NNS_OK;
}

/* Images of the batch whose largest logit is their label. */
static int64_t count_correct(const trainer *tr, const float *logits, int n) {
    int64_t correct = 0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (int64_t)i * tr->classes;
        int am = 0;
        for (int j = 1; j < tr->classes; j++) if (z[j] > z[am]) am = j;
        correct += am == tr->ybuf[i];
    }
    return correct;
}

/* Gradient clipping, the slimming penalty, then the optimiser's step. */
static void step_update(trainer *tr, float lr) {
    const nns_train_config *cfg = tr->cfg;
    nns_graph *g = tr->g;
    float *grads = tr->grads;
    int64_t np = tr->np;
    if (cfg->clip_grad_norm > 0) {
        double ss = 0;
        for (int64_t e = 0; e < np; e++) ss += (double)grads[e] * grads[e];
        double norm = sqrt(ss);
        if (norm > cfg->clip_grad_norm) {
            float sc = (float)(cfg->clip_grad_norm / norm);
            for (int64_t e = 0; e < np; e++) grads[e] *= sc;
        }
    }
    for (int k = 0; k < tr->n_gamma; k++) {
        const float *gw = g->params + tr->gamma_off[k];
        float *gg = grads + tr->gamma_off[k];
        for (int64_t e = 0; e < tr->gamma_len[k]; e++)
            gg[e] += cfg->slim_penalty * (gw[e] > 0 ? 1.0f : (gw[e] < 0 ? -1.0f : 0.0f));
    }
    if (cfg->optimizer == NNS_OPTIMIZER_KIND_ADAMW)
        nns_optim_adamw_step(g->params, grads, tr->mom, tr->sq, np, lr, cfg->beta1, cfg->beta2,
                             cfg->adam_eps, cfg->weight_decay, tr->t - tr->t_start + 1, g->masks);
    else
        nns_optim_sgd_step(g->params, grads, tr->mom, np, lr, cfg->momentum, cfg->weight_decay,
                           cfg->nesterov, g->masks);
    nns_graph_params_changed(g);
}

/* One step on the next batch: *n images (0: the epoch's batches are
 * done), their loss, how many were right, and the learning rate used. */
static nns_status train_step(trainer *tr, int epoch, int64_t step, int *n, float *loss, int64_t *correct,
                             float *lr) {
    const nns_train_config *cfg = tr->cfg;
    nns_status st;
    nns_tv *xin = nns_plan_input(tr->plan, 0);
    *n = nns_batcher_next(tr->bat, nns_tv_f32(xin), tr->ybuf);
    if (*n <= 0) return NNS_OK;
    if ((st = nns_plan_set_batch(tr->plan, *n))) return st;
    nns_plan_seed(tr->plan, cfg->seed * 0x9E3779B97F4A7C15ull + (uint64_t)tr->t);
    nns_plan_forward(tr->plan, 1);
    nns_tv *out = nns_plan_output(tr->plan, 0);
    if ((st = step_loss(tr, xin, out, *n, loss))) return st;
    if (!isfinite(*loss))
        return nns_error(NNS_STATUS_INVALID_ARG, "training diverged at epoch %d step %lld (loss %g): lower --lr",
                         epoch + 1, (long long)step + 1, *loss);
    *correct = count_correct(tr, nns_tv_f32(out), *n);
    memcpy(out->grad, tr->dlogits, (size_t)*n * tr->classes * sizeof(float));
    memset(tr->grads, 0, (size_t)tr->np * sizeof(float));
    nns_plan_backward(tr->plan);
    *lr = nns_schedule_lr(cfg, tr->t, tr->T, tr->spe);
    step_update(tr, *lr);
    if (cfg->step_hook && (st = cfg->step_hook(cfg->step_hook_user, tr->g, tr->t, tr->T, tr->spe))) return st;
    return NNS_OK;
}

static void report_step(const trainer *tr, int epoch, int64_t step, double loss_sum, int64_t correct, int64_t seen,
                        float lr) {
    const nns_train_config *cfg = tr->cfg;
    nns_train_progress pr = {0};
    double el = nns_now_s() - tr->t0;
    int64_t t = tr->t, T = tr->T;
    pr.epoch = epoch + 1;
    pr.epochs = cfg->epochs;
    pr.step = step + 1;
    pr.steps_per_epoch = tr->spe;
    pr.loss = (float)(loss_sum / seen);
    pr.accuracy = (float)correct / (float)seen;
    pr.images_per_second = el > 0 ? tr->images / el : 0;
    pr.seconds_elapsed = el;
    pr.seconds_left = t + 1 < T ? el / (double)(t + 1) * (double)(T - t - 1) : 0;
    pr.lr = lr;
    pr.val_accuracy = -1;
    cfg->progress(&pr, cfg->progress_user);
}

static void report_epoch(const trainer *tr, int epoch, const nns_train_result *res, float vacc, float vloss) {
    const nns_train_config *cfg = tr->cfg;
    nns_train_progress pr = {0};
    double el = nns_now_s() - tr->t0;
    pr.epoch = epoch + 1;
    pr.epochs = cfg->epochs;
    pr.step = tr->spe;
    pr.steps_per_epoch = tr->spe;
    pr.loss = res->final_train_loss;
    pr.accuracy = res->final_train_accuracy;
    pr.images_per_second = res->train_images_per_second;
    pr.seconds_elapsed = el;
    const int done = epoch + 1 - cfg->start_epoch, stop = cfg->stop_epoch ? cfg->stop_epoch : cfg->epochs;
    pr.seconds_left = el / (done > 0 ? done : 1) * (stop - epoch - 1);
    pr.lr = nns_schedule_lr(cfg, tr->t > 0 ? tr->t - 1 : 0, tr->T, tr->spe);
    pr.end_of_epoch = 1;
    pr.graph = tr->g;
    pr.val_accuracy = vacc;
    pr.val_loss = vloss;
    cfg->progress(&pr, cfg->progress_user);
}

/* The optimizer's buffers to (out 1) or from cfg->opt_state. */
static void state_copy(trainer *tr, int out) {
    float *s = tr->cfg->opt_state;
    const size_t n = (size_t)tr->np * sizeof(float);
    if (!s) return;
    if (out) memcpy(s, tr->mom, n);
    else memcpy(tr->mom, s, n);
    if (tr->sq && out) memcpy(s + tr->np, tr->sq, n);
    else if (tr->sq) memcpy(tr->sq, s + tr->np, n);
}

/* One epoch: its steps, then the validation set (if any), into res. */
static nns_status train_epoch(trainer *tr, int epoch, const nns_dataset *val, nns_train_result *res) {
    const nns_train_config *cfg = tr->cfg;
    nns_status st;
    nns_batcher_reset(tr->bat, epoch);
    double loss_sum = 0;
    int64_t correct = 0, seen = 0;
    for (int64_t step = 0; step < tr->spe; step++, tr->t++) {
        int n;
        float loss = 0, lr = 0;
        int64_t right = 0;
        if (cfg->stop && *cfg->stop)
            return nns_error(NNS_STATUS_INTERRUPTED, "training stopped at epoch %d, step %lld of %lld", epoch + 1,
                             (long long)step + 1, (long long)tr->spe);
        if ((st = train_step(tr, epoch, step, &n, &loss, &right, &lr))) return st;
        if (n <= 0) break;
        correct += right;
        loss_sum += (double)loss * n;
        seen += n;
        tr->images += n;
        if (cfg->progress) report_step(tr, epoch, step, loss_sum, correct, seen, lr);
    }
    state_copy(tr, 1);
    res->final_train_loss = seen ? (float)(loss_sum / seen) : 0;
    res->final_train_accuracy = seen ? (float)correct / (float)seen : 0;
    double train_el = nns_now_s() - tr->t0;
    res->train_images_per_second = train_el > 0 ? tr->images / train_el : 0;
    nns_eval_result er = {0};
    float vacc = -1, vloss = 0;
    if (val && val->n > 0) {
        double te = nns_now_s();
        if ((st = nns_evaluate(tr->g, val, 256, &er))) return st;
        tr->t0 += nns_now_s() - te; /* evaluation time does not count as training */
        vacc = er.accuracy;
        vloss = er.loss;
        nns_eval_result_free(&er);
        res->val_accuracy = vacc;
    }
    if (cfg->progress) report_epoch(tr, epoch, res, vacc, vloss);
    res->epochs = epoch + 1;
    return NNS_OK;
}

int64_t nns_train_state_len(const nns_graph *g, const nns_train_config *cfg) {
    return nns_graph_n_params(g) * (cfg->optimizer == NNS_OPTIMIZER_KIND_ADAMW ? 2 : 1);
}

nns_status nns_train(nns_graph *g, const nns_dataset *train, const nns_dataset *val,
                     const nns_train_config *cfg, nns_train_result *res) {
    memset(res, 0, sizeof *res);
    res->val_accuracy = -1;
    nns_status st = check_train_config(cfg, train);
    if (st) return st;
    int classes;
    if ((st = check_fit(g, train, &classes))) return st;
    if ((st = check_weights_trainable(g))) return st;
    if (cfg->threads > 0) nns_set_threads(cfg->threads);
    if ((st = nns_graph_pack_params(g))) return st;

    trainer tr;
    memset(&tr, 0, sizeof tr);
    if ((st = trainer_init(&tr, g, train, cfg, classes))) goto done;
    tr.t0 = nns_now_s();
    tr.t = tr.t_start = tr.spe * cfg->start_epoch;
    if (cfg->opt_state && cfg->resume_state) {
        state_copy(&tr, 0);
        tr.t_start = 0; /* the state holds every step since the run began */
    }
    res->epochs = cfg->start_epoch;
    for (int epoch = cfg->start_epoch; epoch < (cfg->stop_epoch ? cfg->stop_epoch : cfg->epochs); epoch++)
        if ((st = train_epoch(&tr, epoch, val, res))) goto done;
    res->seconds = nns_now_s() - tr.t0;
done:
    trainer_free(&tr);
    return st;
}

void nns_eval_result_free(nns_eval_result *r) {
    free(r->confusion);
    r->confusion = NULL;
}

static nns_status evaluate(nns_graph *g, const nns_dataset *d, int batch_size, nns_eval_result *res);

nns_status nns_evaluate(nns_graph *g, const nns_dataset *d, int batch_size, nns_eval_result *res) {
    memset(res, 0, sizeof *res);
    nns_graph *exec = NULL; /* quantized weights dequantized once */
    nns_status st = nns_graph_pack_params(g);
    if (!st) st = nns_graph_exec_copy(g, &exec);
    if (!st) st = evaluate(exec ? exec : g, d, batch_size, res);
    nns_graph_free(exec);
    return st;
}

static nns_status evaluate(nns_graph *g, const nns_dataset *d, int batch_size, nns_eval_result *res) {
    if (batch_size < 1) return nns_error(NNS_STATUS_INVALID_ARG, "--batch-size must be >= 1, not %d", batch_size);
    if (d->n < 1) return nns_error(NNS_STATUS_INVALID_ARG, "the evaluation set is empty");
    int classes;
    nns_status st = check_fit(g, d, &classes);
    if (st) return st;
    if ((st = nns_graph_pack_params(g))) return st;
    if (batch_size > d->n) batch_size = (int)d->n;
    nns_plan *plan = NULL;
    if ((st = nns_plan_create(g, batch_size, NNS_PLAN_INFER_FUSED, NULL, &plan))) return st;
    if ((st = nns_plan_check_f32_io(plan, "evaluation"))) {
        nns_plan_free(plan);
        return st;
    }
    res->confusion = calloc((size_t)classes * (size_t)classes, sizeof(int64_t));
    if (!res->confusion) {
        nns_plan_free(plan);
        return nns_error(NNS_STATUS_NOMEM, "out of memory for a confusion matrix");
    }
    res->classes = classes;
    int64_t per = (int64_t)d->c * d->h * d->w;
    double loss_sum = 0;
    int64_t correct = 0;
    for (int64_t s = 0; s < d->n; s += batch_size) {
        int n = (int)(d->n - s < batch_size ? d->n - s : batch_size);
        if ((st = nns_plan_set_batch(plan, n))) break;
        memcpy(nns_tv_f32(nns_plan_input(plan, 0)), d->x + s * per, (size_t)(n * per) * sizeof(float));
        nns_plan_forward(plan, 0);
        const float *z = nns_tv_f32(nns_plan_output(plan, 0));
        loss_sum += (double)nns_loss_softmax_ce(z, d->y + s, n, classes, 0, NULL) * n;
        for (int i = 0; i < n; i++) {
            const float *zi = z + (int64_t)i * classes;
            int am = 0;
            for (int j = 1; j < classes; j++) if (zi[j] > zi[am]) am = j;
            correct += am == d->y[s + i];
            res->confusion[(int64_t)d->y[s + i] * classes + am]++;
        }
    }
    nns_plan_free(plan);
    if (st) {
        nns_eval_result_free(res);
        return st;
    }
    res->images = d->n;
    res->accuracy = (float)correct / (float)d->n;
    res->loss = (float)(loss_sum / d->n);
    return NNS_OK;
}
