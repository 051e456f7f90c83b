/*
 * nnslim/train.h — training: losses, optimizers, schedules, the training loop,
 * and evaluation.
 *
 * Parameters, gradients, optimizer state (and pruning masks) are flat arrays
 * aligned with the graph's packed parameter buffer, so an optimizer step is
 * one loop over one array. A trainer builds its execution plans once
 * (full batch and last partial batch); after the first step it never
 * allocates. Same seed and thread count give the same weights.
 */
#ifndef NNSLIM_TRAIN_H
#define NNSLIM_TRAIN_H

#include <stdint.h>
#include "nnslim/data.h"
#include "nnslim/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nns_optimizer_kind {
    NNS_OPTIMIZER_KIND_SGD = 0,
    NNS_OPTIMIZER_KIND_ADAMW = 1
} nns_optimizer_kind;

typedef enum nns_schedule_kind {
    NNS_SCHEDULE_KIND_CONSTANT = 0,
    NNS_SCHEDULE_KIND_STEP = 1,   /* lr * gamma^(epoch / step_epochs)       */
    NNS_SCHEDULE_KIND_COSINE = 2  /* per step, lr * (1 + cos(pi t / T)) / 2 */
} nns_schedule_kind;

/* Progress reported once per step (step > 0) and at the end of each epoch
 * (end_of_epoch = 1, with validation/test accuracy if a set was given). */
typedef struct nns_train_progress {
    int epoch, epochs;
    int64_t step, steps_per_epoch;
    float loss;            /* running mean over the epoch so far  */
    float accuracy;        /* running train accuracy this epoch    */
    double images_per_second;
    double seconds_elapsed, seconds_left;
    float lr;
    int end_of_epoch;
    float val_accuracy;    /* -1 if no validation set              */
    float val_loss;
    /* The graph being trained: at the end of an epoch it holds that epoch's
     * weights (and statistics), which the callback may save. */
    const nns_graph *graph;
} nns_train_progress;

typedef void (*nns_progress_fn)(const nns_train_progress *p, void *user);

/* Optional replacement of the loss (e.g. distillation). Given logits
 * [n, classes] of graph output 0, labels y and the batch's input x (as
 * fed, i.e. augmented), write dL/dlogits (already divided by n) and return
 * the mean loss in *loss. idx holds the data-set indices of the n samples
 * (so a cache of teacher outputs can be used); augmented says whether x was
 * augmented (then x differs from the data set's sample). */
typedef nns_status (*nns_loss_fn)(void *user, const float *logits, float *dlogits,
                                  const int32_t *y, const int64_t *idx, int n,
                                  int classes, const float *x, int augmented,
                                  float *loss);

/* Optional loss on the graph outputs after the first (e.g. feature
 * distillation through adapters), called after the loss on output 0 of
 * the same batch. out[i], grad[i] are output i+1's values and gradient
 * ([n, per_sample[i]] floats): write dL/d(output) (already divided by n)
 * into all of grad[i] and return this term's mean loss in *loss (it
 * is added to the reported loss). */
typedef nns_status (*nns_aux_loss_fn)(void *user, int n_aux, const float *const *out,
                                      float *const *grad, const int64_t *per_sample,
                                      int n, float *loss);

typedef struct nns_train_config {
    int epochs;                 /* default from the architecture, else 10 */
    int batch_size;             /* 128 */
    nns_optimizer_kind optimizer;
    float lr;                   /* 0.05 */
    float momentum;             /* 0.9 */
    int nesterov;               /* 0 */
    float weight_decay;         /* 5e-4, on every parameter */
    float beta1, beta2, adam_eps; /* AdamW: 0.9, 0.999, 1e-8 */
    nns_schedule_kind schedule; /* cosine */
    float warmup_epochs;        /* 0: linear warm-up from 0 over this many epochs */
    int step_epochs;            /* step schedule: every this many epochs (default epochs/3) */
    float step_gamma;           /* 0.1 */
    float label_smoothing;      /* 0 */
    nns_augment augment;        /* none */
    uint64_t seed;              /* 1 */
    int threads;                /* 0: all cores */
    nns_progress_fn progress;   /* may be NULL */
    void *progress_user;
    nns_loss_fn loss;           /* NULL: softmax cross-entropy */
    void *loss_user;
    nns_aux_loss_fn aux_loss;   /* NULL: outputs after the first get no gradient */
    void *aux_loss_user;
    /* Clip the gradient's global L2 norm (over all parameters) to this
     * before each step. 0: off. */
    float clip_grad_norm;
    /* Called after every optimizer step t (0-based) of T; e.g. gradual
     * pruning updates g->masks here. May be NULL. */
    nns_status (*step_hook)(void *user, nns_graph *g, int64_t t, int64_t T,
                            int64_t steps_per_epoch);
    void *step_hook_user;
    /* Network Slimming: L1 penalty on BatchNorm scales (gamma): adds
     * slim_penalty * sign(gamma) to their gradients. 0: off. */
    float slim_penalty;
    /* Train only epochs start_epoch .. stop_epoch - 1 (0-based; stop_epoch
     * 0: to `epochs`) of a run of `epochs`: the schedule, the shuffling and
     * the seeds are those of these epochs in the whole run; the optimizer
     * starts with fresh state. 0, 0 (default): the whole run. */
    int start_epoch, stop_epoch;
    /* The optimizer's state across calls (checkpoints): NULL, or
     * nns_train_state_len(g, cfg) floats (the momentum, or AdamW's first
     * then second moments). With resume_state 1, nns_train starts from it,
     * so that a run resumed at start_epoch goes on exactly as the
     * uninterrupted one; either way it holds the state after each epoch
     * before the progress callback sees that epoch's end. */
    float *opt_state;
    int resume_state;
    /* Set *stop to nonzero (from a signal handler, another thread) to stop
     * after the current step: nns_train returns NNS_STATUS_INTERRUPTED,
     * g holding the weights of that step. NULL: never. */
    volatile int *stop;
} nns_train_config;

/* Floats of optimizer state a run of cfg on g keeps (nns_train_config.opt_state). */
int64_t nns_train_state_len(const nns_graph *g, const nns_train_config *cfg);
/* A checkpoint's optimizer state (the model itself goes to ONNX beside
 * it): epochs_done of cfg's run and nns_train_state_len floats of state,
 * with the run's epochs, batch size, optimizer and seed, written to a
 * temporary name and renamed. Loading checks all of these against cfg and
 * g (an error names the value that differs: a resumed run must be the same
 * run) and the file's size against its header. */
nns_status nns_train_state_save(const char *path, const nns_graph *g, const nns_train_config *cfg, int epochs_done,
                                const float *state);
nns_status nns_train_state_load(const char *path, const nns_graph *g, const nns_train_config *cfg, int *epochs_done,
                                float *state);

/* Fill cfg with the defaults (the anchors' recipe). */
void nns_train_config_default(nns_train_config *cfg);

typedef struct nns_train_result {
    int epochs;
    double seconds;
    double train_images_per_second;
    float final_train_loss;
    float final_train_accuracy;
    float val_accuracy;  /* -1 if none */
} nns_train_result;

/* Check that a data set fits a model: one input whose per-sample size is
 * the images' C*H*W, one output [N, K] with K >= the number of classes.
 * The message names the model's input or output and the data's shape. */
nns_status nns_check_data(const nns_graph *g, const nns_dataset *d);

/* Train g (finalized) on train; val (may be NULL) is evaluated after each
 * epoch. g's parameters are updated in place. */
nns_status nns_train(nns_graph *g, const nns_dataset *train, const nns_dataset *val,
                     const nns_train_config *cfg, nns_train_result *res);

typedef struct nns_eval_result {
    int64_t images;
    float accuracy;
    float loss;           /* mean cross-entropy */
    int classes;
    int64_t *confusion;   /* [classes][classes], row = true, col = predicted; malloc'd */
} nns_eval_result;

/* Evaluate in inference mode. res->confusion must be freed with
 * nns_eval_result_free. */
nns_status nns_evaluate(nns_graph *g, const nns_dataset *d, int batch_size,
                        nns_eval_result *res);
void nns_eval_result_free(nns_eval_result *res);

/* Set the number of threads used by nnslim's kernels and BLAS (0: all). */
void nns_set_threads(int n);
int nns_get_threads(void);

/* Softmax cross-entropy with label smoothing eps over logits [n, k]: returns
 * the mean loss; dlogits (may be NULL) receives dL/dlogits of the mean. */
float nns_loss_softmax_ce(const float *logits, const int32_t *y, int n, int k,
                          float eps, float *dlogits);

/* Learning rate at global step t of T (0-based), per the config. */
float nns_schedule_lr(const nns_train_config *cfg, int64_t t, int64_t T,
                      int64_t steps_per_epoch);

#ifdef __cplusplus
}
#endif
#endif
