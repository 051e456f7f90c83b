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

nns_status nns_train(nns_graph *g, const nns_dataset *train, const nns_dataset *val,
                     const nns_train_config *cfg, nns_train_result *res) {
    memset(res, 0, sizeof *res);
    res->val_accuracy = -1;
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
    int classes;
    nns_status st = check_fit(g, train, &classes);
    if (st) return st;
    if (cfg->threads > 0) nns_set_threads(cfg->threads);
    if ((st = nns_graph_pack_params(g))) return st;

    int bs = cfg->batch_size;
    int64_t np = g->n_params;
    float *grads = calloc((size_t)(np ? np : 1), sizeof(float));
    float *mom = calloc((size_t)(np ? np : 1), sizeof(float));
    float *sq = cfg->optimizer == NNS_OPTIMIZER_KIND_ADAMW ? calloc((size_t)(np ? np : 1), sizeof(float)) : NULL;
    int32_t *ybuf = malloc((size_t)bs * sizeof(int32_t));
    float *dlogits = malloc((size_t)bs * (size_t)classes * sizeof(float));
    nns_plan *plan = NULL;
    nns_batcher *bat = NULL;
    int n_gamma = 0;
    int64_t *gamma_off = NULL, *gamma_len = NULL;
    int n_aux = cfg->aux_loss ? g->n_outputs - 1 : 0;
    const float **aux_out = n_aux > 0 ? malloc((size_t)n_aux * sizeof *aux_out) : NULL;
    float **aux_grad = n_aux > 0 ? malloc((size_t)n_aux * sizeof *aux_grad) : NULL;
    int64_t *aux_per = n_aux > 0 ? malloc((size_t)n_aux * sizeof *aux_per) : NULL;
    if (!grads || !mom || !ybuf || !dlogits || (cfg->optimizer == NNS_OPTIMIZER_KIND_ADAMW && !sq) ||
        (n_aux > 0 && (!aux_out || !aux_grad || !aux_per))) {
        st = nns_error(NNS_STATUS_NOMEM, "out of memory for %lld parameters' training state", (long long)np);
        goto done;
    }
    if ((st = nns_plan_create(g, bs, 1, grads, &plan))) goto done;
    for (int i = 0; i < n_aux; i++) {
        const nns_value *v = &g->values[g->outputs[i + 1]];
        int64_t per = 1;
        for (int d = 1; d < v->shape.ndim; d++) per *= v->shape.dims[d];
        aux_per[i] = per;
    }
    int augmented = cfg->augment.crop_pad > 0 || cfg->augment.hflip;
    /* BatchNorm scales for the slimming penalty */
    if (cfg->slim_penalty > 0) {
        gamma_off = malloc((size_t)(g->n_nodes + 1) * sizeof(int64_t));
        gamma_len = malloc((size_t)(g->n_nodes + 1) * sizeof(int64_t));
        if (!gamma_off || !gamma_len) {
            st = nns_error(NNS_STATUS_NOMEM, "out of memory for the slimming penalty");
            goto done;
        }
        for (int i = 0; i < g->n_nodes; i++) {
            const nns_node *nd = &g->nodes[i];
            const nns_op_def *def = nns_op_def_of(nd); /* a channel-wise op's scale */
            int wi = nns_op_weight_in(nd);
            if (!def || def->chan != NNS_OP_CHAN_PERCHANNEL || wi < 0) continue;
            const nns_value *v = &g->values[nd->in[wi]];
            if (v->param_offset < 0 || !v->trainable) continue;
            gamma_off[n_gamma] = v->param_offset;
            gamma_len[n_gamma++] = nns_shape_numel(&v->shape);
        }
    }
    if ((st = nns_batcher_create(train, bs, 1, cfg->seed, &cfg->augment, &bat))) goto done;

    int64_t spe = nns_batcher_n_batches(bat);
    int64_t T = spe * cfg->epochs, t = 0;
    double t0 = nns_now_s();
    int64_t images = 0;
    for (int epoch = 0; epoch < cfg->epochs; epoch++) {
        nns_batcher_reset(bat, epoch);
        double loss_sum = 0;
        int64_t correct = 0, seen = 0;
        for (int64_t step = 0; step < spe; step++, t++) {
            nns_tv *xin = nns_plan_input(plan, 0);
            int n = nns_batcher_next(bat, xin->data, ybuf);
            if (n <= 0) break;
            if ((st = nns_plan_set_batch(plan, n))) goto done;
            nns_plan_seed(plan, cfg->seed * 0x9E3779B97F4A7C15ull + (uint64_t)t);
            nns_plan_forward(plan, 1);
            nns_tv *out = nns_plan_output(plan, 0);
            float loss;
            if (cfg->loss) {
                if ((st = cfg->loss(cfg->loss_user, out->data, dlogits, ybuf, nns_batcher_indices(bat), n,
                                    classes, xin->data, augmented, &loss)))
                    goto done;
            } else {
                loss = nns_loss_softmax_ce(out->data, ybuf, n, classes, cfg->label_smoothing, dlogits);
            }
            nns_plan_zero_act_grads(plan);
            if (n_aux > 0) {
                for (int i = 0; i < n_aux; i++) {
                    nns_tv *o = nns_plan_output(plan, i + 1);
                    aux_out[i] = o->data;
                    aux_grad[i] = o->grad;
                }
                float aux = 0;
                if ((st = cfg->aux_loss(cfg->aux_loss_user, n_aux, aux_out, aux_grad, aux_per, n, &aux))) goto done;
                loss += aux;
            }
            if (!isfinite(loss)) {
                st = nns_error(NNS_STATUS_INVALID_ARG, "training diverged at epoch %d step %lld (loss %g): lower --lr",
                               epoch + 1, (long long)step + 1, loss);
                goto done;
            }
            for (int i = 0; i < n; i++) {
                const float *z = out->data + (int64_t)i * classes;
                int am = 0;
                for (int j = 1; j < classes; j++) if (z[j] > z[am]) am = j;
                correct += am == ybuf[i];
            }
            memcpy(out->grad, dlogits, (size_t)n * classes * sizeof(float));
            memset(grads, 0, (size_t)np * sizeof(float));
            nns_plan_backward(plan);
            if (cfg->clip_grad_norm > 0) {
                double ss = 0;
                for (int64_t e = 0; e < np; e++) ss += (double)grads[e] * grads[e];
                double norm = sqrt(ss);
                if (norm > cfg->clip_grad_norm) {
                    float sc = (float)(cfg->clip_grad_norm / norm);
                    for (int64_t e = 0; e < np; e++) grads[e] *= sc;
                }
            }
            for (int k = 0; k < n_gamma; k++) {
                const float *gw = g->params + gamma_off[k];
                float *gg = grads + gamma_off[k];
                for (int64_t e = 0; e < gamma_len[k]; e++)
                    gg[e] += cfg->slim_penalty * (gw[e] > 0 ? 1.0f : (gw[e] < 0 ? -1.0f : 0.0f));
            }
            float lr = nns_schedule_lr(cfg, t, T, spe);
            if (cfg->optimizer == NNS_OPTIMIZER_KIND_ADAMW)
                nns_optim_adamw_step(g->params, grads, mom, sq, np, lr, cfg->beta1, cfg->beta2,
                                     cfg->adam_eps, cfg->weight_decay, t + 1, g->masks);
            else
                nns_optim_sgd_step(g->params, grads, mom, np, lr, cfg->momentum, cfg->weight_decay,
                                   cfg->nesterov, g->masks);
            if (cfg->step_hook && (st = cfg->step_hook(cfg->step_hook_user, g, t, T, spe))) goto done;
            loss_sum += (double)loss * n;
            seen += n;
            images += n;
            if (cfg->progress) {
                nns_train_progress pr = {0};
                double el = nns_now_s() - t0;
                pr.epoch = epoch + 1;
                pr.epochs = cfg->epochs;
                pr.step = step + 1;
                pr.steps_per_epoch = spe;
                pr.loss = (float)(loss_sum / seen);
                pr.accuracy = (float)correct / (float)seen;
                pr.images_per_second = el > 0 ? images / el : 0;
                pr.seconds_elapsed = el;
                pr.seconds_left = t + 1 < T ? el / (double)(t + 1) * (double)(T - t - 1) : 0;
                pr.lr = lr;
                pr.val_accuracy = -1;
                cfg->progress(&pr, cfg->progress_user);
            }
        }
        res->final_train_loss = seen ? (float)(loss_sum / seen) : 0;
        res->final_train_accuracy = seen ? (float)correct / (float)seen : 0;
        double train_el = nns_now_s() - t0;
        res->train_images_per_second = train_el > 0 ? images / train_el : 0;
        nns_eval_result er = {0};
        float vacc = -1, vloss = 0;
        if (val && val->n > 0) {
            double te = nns_now_s();
            if ((st = nns_evaluate(g, val, 256, &er))) goto done;
            t0 += nns_now_s() - te; /* evaluation time does not count as training */
            vacc = er.accuracy;
            vloss = er.loss;
            nns_eval_result_free(&er);
            res->val_accuracy = vacc;
        }
        if (cfg->progress) {
            nns_train_progress pr = {0};
            double el = nns_now_s() - t0;
            pr.epoch = epoch + 1;
            pr.epochs = cfg->epochs;
            pr.step = spe;
            pr.steps_per_epoch = spe;
            pr.loss = res->final_train_loss;
            pr.accuracy = res->final_train_accuracy;
            pr.images_per_second = res->train_images_per_second;
            pr.seconds_elapsed = el;
            pr.seconds_left = el / (epoch + 1) * (cfg->epochs - epoch - 1);
            pr.lr = nns_schedule_lr(cfg, t > 0 ? t - 1 : 0, T, spe);
            pr.end_of_epoch = 1;
            pr.val_accuracy = vacc;
            pr.val_loss = vloss;
            cfg->progress(&pr, cfg->progress_user);
        }
        res->epochs = epoch + 1;
    }
    res->seconds = nns_now_s() - t0;
done:
    free(aux_out);
    free(aux_grad);
    free(aux_per);
    free(gamma_off);
    free(gamma_len);
    nns_batcher_free(bat);
    nns_plan_free(plan);
    free(grads);
    free(mom);
    free(sq);
    free(ybuf);
    free(dlogits);
    return st;
}

void nns_eval_result_free(nns_eval_result *r) {
    free(r->confusion);
    r->confusion = NULL;
}

nns_status nns_evaluate(nns_graph *g, const nns_dataset *d, int batch_size, nns_eval_result *res) {
    memset(res, 0, sizeof *res);
    if (batch_size < 1) return nns_error(NNS_STATUS_INVALID_ARG, "--batch-size must be >= 1, not %d", batch_size);
    if (d->n < 1) return nns_error(NNS_STATUS_INVALID_ARG, "the evaluation set is empty");
    int classes;
    nns_status st = check_fit(g, d, &classes);
    if (st) return st;
    if ((st = nns_graph_pack_params(g))) return st;
    if (batch_size > d->n) batch_size = (int)d->n;
    nns_plan *plan = NULL;
    if ((st = nns_plan_create(g, batch_size, NNS_PLAN_INFER_FUSED, NULL, &plan))) return st;
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
        memcpy(nns_plan_input(plan, 0)->data, d->x + s * per, (size_t)(n * per) * sizeof(float));
        nns_plan_forward(plan, 0);
        const float *z = nns_plan_output(plan, 0)->data;
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
