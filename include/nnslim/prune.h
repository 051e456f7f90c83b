/*
 * nnslim/prune.h — pruning: unstructured magnitude, N:M, neurons and
 * channels.
 *
 * Unstructured and N:M pruning keep the graph's shapes and set a mask beside
 * the packed parameters (g->masks, 1 = kept, 0 = pruned, same layout as
 * g->params). Masks are applied to the weights at once, and training keeps
 * masked weights and their updates at zero (nns_train applies g->masks after
 * every step). Prunable tensors are the weights of Conv, Gemm and MatMul
 * (input 1, or input 0 of a MatMul when it is the parameter); biases and
 * BatchNorm parameters are never pruned by these calls.
 *
 * Neuron and channel pruning are structured: they remove output neurons of
 * Gemm layers and output channels (filters) of Conv layers, together with
 * every tensor slice that depends on them (BatchNorm, depthwise convolutions,
 * residual Add partners, Concat slices, the next layer's input channels or
 * the H*W input features each channel owns after Flatten). The result is a
 * smaller dense graph. A dependency that nnslim cannot follow is an error
 * naming the node, and the graph is left unchanged.
 */
#ifndef NNSLIM_PRUNE_H
#define NNSLIM_PRUNE_H

#include <stdint.h>
#include "nnslim/data.h"
#include "nnslim/graph.h"
#include "nnslim/train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nns_prune_scope {
    NNS_PRUNE_SCOPE_GLOBAL = 0, /* one magnitude threshold across layers */
    NNS_PRUNE_SCOPE_LAYER = 1   /* each layer pruned to the sparsity     */
} nns_prune_scope;

/* A list of node names to leave alone (may be NULL / 0). */
typedef struct nns_prune_exclude {
    const char *const *names;
    int n;
} nns_prune_exclude;

/* Unstructured magnitude pruning to `sparsity` in [0, 1) over the prunable
 * weights (not counting excluded layers). Weights already masked stay masked.
 * Errors: sparsity out of range, an excluded name that is no node. */
nns_status nns_prune_magnitude(nns_graph *g, float sparsity, nns_prune_scope scope,
                               const nns_prune_exclude *ex);

/* N:M semi-structured sparsity: in every group of M consecutive weights along
 * the input (reduction) dimension — for Gemm/MatMul a row of W as used
 * (in-features), for Conv the C/group*kH*kW elements of one filter in memory
 * order — keep the N of largest magnitude. Requires 0 < N < M. */
nns_status nns_prune_nm(nns_graph *g, int n, int m, const nns_prune_exclude *ex);

/* Fraction of prunable weights (non-excluded) that are zero. */
float nns_prune_sparsity(const nns_graph *g);

/* Zhu & Gupta's gradual schedule: sparsity at step t is
 * s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3 for t0 <= t <= t1,
 * s_i before t0 and s_f after t1. */
float nns_prune_gradual_sparsity(float s_i, float s_f, int64_t t0, int64_t t1, int64_t t);

/* Gradual magnitude pruning during training: a ready-made
 * nns_train_config.step_hook. Set cfg.step_hook = nns_prune_gradual_hook and
 * cfg.step_hook_user = &gp (one nns_prune_gradual per nns_train call, zero
 * the output fields before). After optimizer step t (0-based) with t0 <= t
 * <= t1 and (t - t0) a multiple of `frequency` (and at t1 itself), the hook
 * calls nns_prune_magnitude(g, s(t), scope, exclude) with the Zhu & Gupta
 * sparsity s(t) = nns_prune_gradual_sparsity(s_i, s_f, t0, t1, t); so the
 * final sparsity is reached at step t1 and the remaining steps fine-tune with
 * the masks fixed. Masks only ever grow. */
typedef struct nns_prune_gradual {
    float initial_sparsity;  /* s_i, in [0, 1) (usually 0)                     */
    float final_sparsity;    /* s_f, in [0, 1)                                 */
    int64_t start_step;      /* t0 (>= 0)                                      */
    int64_t end_step;        /* t1; <= 0: 3/4 of the run's steps (T * 3 / 4);
                                clamped to T - 1                              */
    int64_t frequency;       /* prune every this many steps; <= 0: 100, or
                                (t1 - t0) / 10 when that is smaller (>= 1)    */
    nns_prune_scope scope;
    const nns_prune_exclude *exclude; /* may be NULL                         */
    /* outputs (zero them before training) */
    float current_sparsity;  /* the last target applied                        */
    int n_updates;           /* pruning steps done                             */
} nns_prune_gradual;

/* The step hook (signature of nns_train_config.step_hook); user is an
 * nns_prune_gradual *. Errors are nns_prune_magnitude's. */
nns_status nns_prune_gradual_hook(void *user, nns_graph *g, int64_t t, int64_t T,
                                  int64_t steps_per_epoch);

typedef enum nns_prune_criterion {
    NNS_PRUNE_CRITERION_L1 = 0,    /* L1 norm of the filter / neuron weights  */
    NNS_PRUNE_CRITERION_L2 = 1,    /* L2 norm                                 */
    NNS_PRUNE_CRITERION_BN = 2,    /* |gamma| of the following BatchNorm      */
    NNS_PRUNE_CRITERION_TAYLOR = 3 /* |activation x gradient| on a few batches */
} nns_prune_criterion;

typedef struct nns_structured_config {
    float ratio;                 /* fraction of channels/neurons to remove per
                                    layer (per coupled group), in [0, 1)     */
    int global;                  /* 1: rank all channels together instead    */
    float target_params;         /* global: stop when params <= this fraction
                                    of the original (0: use ratio); per layer:
                                    the smallest uniform ratio reaching it   */
    float target_macs;           /* the same for MACs (both: both reached)    */
    nns_prune_criterion criterion;
    int round_to;                /* keep a multiple of this many (0/1: any)   */
    int neurons;                 /* 1: Gemm neurons only; 0: Conv channels and
                                    Gemm neurons; 2: Conv channels only      */
    const nns_prune_exclude *exclude;
    /* per-layer ratios (override `ratio` for the group holding that Conv or
       Gemm node, in every mode: a named Gemm is pruned by neurons in
       channel mode, as nnslim sensitivity suggests); may be NULL / 0 */
    const char *const *layer_names;
    const float *layer_ratios;
    int n_layer_ratios;
    const nns_dataset *data;     /* taylor: batches to score on (normalised) */
    int taylor_batches;          /* taylor: default 4                        */
    int batch_size;              /* taylor: default 64                       */
} nns_structured_config;

typedef struct nns_structured_report {
    int groups;                  /* coupled channel groups found            */
    int groups_pruned;
    int64_t channels_before, channels_after;
    /* of those, Conv output channels and Gemm / MatMul neurons */
    int64_t conv_before, conv_after, neurons_before, neurons_after;
    /* Layers asked to lose channels that rounding (round_to) left whole:
     * their names, comma-separated (truncated with "..."), and how many. */
    int n_skipped;
    char skipped[512];
    int64_t params_before, params_after;
    int64_t macs_before, macs_after;
} nns_structured_report;

/* Remove channels/neurons physically. g is modified in place only on
 * success (on failure it is unchanged). rep may be NULL. */
nns_status nns_prune_structured(nns_graph *g, const nns_structured_config *cfg,
                                nns_structured_report *rep);


/* ---- Per-layer magnitude pruning ------------------------------------------
 * Each named layer (a Conv, Gemm or MatMul node) pruned alone to its own
 * ratio: for names[k], nns_prune_magnitude(g, ratios[k],
 * NNS_PRUNE_SCOPE_LAYER, ...) with every other prunable layer (Conv, Gemm
 * and MatMul nodes with trainable parameters) and the names of ex (may be
 * NULL) excluded. Layers are pruned in the order given; errors are
 * nns_prune_magnitude's (a name that is no prunable layer leaves nothing to
 * prune: NNS_STATUS_INVALID_ARG), and layers before the failing one stay
 * pruned. */
nns_status nns_prune_magnitude_per_layer(nns_graph *g, const char *const *names, const float *ratios,
                                         int n, const nns_prune_exclude *ex);

/* ---- Pruning schedules: prune -> fine-tune --------------------------------
 * The library prunes; the caller fine-tunes through a callback, so the
 * library needs neither the caller's data loading nor its training recipe
 * (nns_prune_finetune_train below is a ready-made callback over nns_train).
 *
 * The fine-tuning callback: fine-tune g in place for `epochs` epochs
 * (>= 1). When step_hook is not NULL, call it after every optimizer step as
 * nns_train does with nns_train_config.step_hook (set cfg.step_hook =
 * step_hook, cfg.step_hook_user = step_hook_user): the gradual schedule
 * prunes through it. Keep g->masks applied (nns_train does). A status other
 * than NNS_OK stops the schedule and is returned as is. */
typedef nns_status (*nns_prune_step_hook_fn)(void *user, nns_graph *g, int64_t t, int64_t T,
                                             int64_t steps_per_epoch);
typedef nns_status (*nns_prune_finetune_fn)(void *user, nns_graph *g, int epochs,
                                            nns_prune_step_hook_fn step_hook, void *step_hook_user);

typedef enum nns_prune_schedule_kind {
    NNS_PRUNE_SCHEDULE_ONESHOT = 0,   /* prune once, then fine-tune all the epochs      */
    NNS_PRUNE_SCHEDULE_ITERATIVE = 1, /* `rounds` rounds of prune -> fine-tune           */
    NNS_PRUNE_SCHEDULE_GRADUAL = 2    /* Zhu & Gupta during fine-tuning (the step hook) */
} nns_prune_schedule_kind;

typedef struct nns_prune_schedule {
    nns_prune_schedule_kind kind;
    float sparsity;               /* the final target, in [0, 1)                 */
    nns_prune_scope scope;
    const nns_prune_exclude *exclude; /* may be NULL                             */
    /* oneshot only: per-layer ratios instead of `sparsity`
       (nns_prune_magnitude_per_layer); may be NULL / 0 */
    const char *const *layer_names;
    const float *layer_ratios;
    int n_layer_ratios;
    int rounds;                   /* iterative: rounds R (>= 1; default 3)        */
    int finetune_epochs;          /* total fine-tuning epochs E (>= 0; default 2;
                                     gradual: >= 1)                              */
    nns_prune_finetune_fn finetune; /* may be NULL only when E = 0              */
    void *finetune_user;
    /* Progress, may be NULL: called before each pruning round (iterative:
       round 1..R with its target; oneshot and gradual: once, round 1 of 1,
       with `sparsity`, before pruning / before fine-tuning). */
    void (*on_round)(void *user, int round, int rounds, float target);
    void *on_round_user;
} nns_prune_schedule;

/* Defaults: oneshot, global scope, 3 rounds, 2 fine-tuning epochs, sparsity
 * 0, no exclusion, no callbacks. */
void nns_prune_schedule_default(nns_prune_schedule *s);

/* The target of round k (1..R) of an iterative schedule:
 * sparsity * (1 - (1 - k / R)^3) — fast at first, the exact target at
 * round R. Oneshot and gradual: `sparsity`. */
float nns_prune_schedule_target(const nns_prune_schedule *s, int round);

/* Fine-tuning epochs after round k of an iterative schedule: E / R, and the
 * remainder E - R * (E / R) added to the last round (a round with 0 epochs
 * is not fine-tuned). Oneshot and gradual: E. */
int nns_prune_schedule_epochs(const nns_prune_schedule *s, int round);

/* Run the schedule on g (finalized), in place:
 *  - oneshot: nns_prune_magnitude(g, sparsity, scope, exclude) (or
 *    nns_prune_magnitude_per_layer with the layer ratios), then E epochs of
 *    fine-tuning when E > 0;
 *  - iterative: for k = 1..R, prune to nns_prune_schedule_target(s, k), then
 *    fine-tune nns_prune_schedule_epochs(s, k) epochs; masks only grow, so
 *    each round keeps what the previous ones pruned;
 *  - gradual: fine-tune E epochs with nns_prune_gradual_hook as the step hook
 *    (s_i 0, s_f = sparsity, default t0, t1 and frequency), then
 *    nns_prune_magnitude(g, sparsity, ...) so the result is exactly the
 *    target.
 * Errors: NNS_STATUS_INVALID_ARG for an unknown kind, rounds < 1, E < 0,
 * E > 0 without a callback, gradual with E < 1, layer ratios outside
 * oneshot; else the pruning calls' or the callback's status. On failure g
 * holds the rounds done so far. */
nns_status nns_prune_schedule_run(nns_graph *g, const nns_prune_schedule *s);

/* A ready-made fine-tuning callback over nns_train: user is an
 * nns_prune_finetune_data *. Each call trains with a copy of *cfg whose
 * epochs, step_hook and step_hook_user are the call's; *result (may be NULL)
 * gets the last call's result. */
typedef struct nns_prune_finetune_data {
    const nns_dataset *train;
    const nns_dataset *val;       /* may be NULL */
    const nns_train_config *cfg;
    nns_train_result *result;     /* may be NULL */
} nns_prune_finetune_data;
nns_status nns_prune_finetune_train(void *user, nns_graph *g, int epochs, nns_prune_step_hook_fn step_hook,
                                    void *step_hook_user);

/* ---- Sensitivity sweeps ---------------------------------------------------
 * A generic sweep: for each unit (a layer, or any part of the graph the
 * caller names) and each level of a sweep, perturb the graph through a
 * callback, score it through a callback, and start the next trial from the
 * original graph bit for bit. Each trial runs on a fresh deep copy of g
 * (nns_graph_clone), so g itself is never modified, whatever the
 * perturbation does (masking weights, removing channels, inserting nodes).
 * Pruning's perturbation is provided (nns_prune_perturb_layer);
 * quantization's per-layer sensitivity uses its own (fake-quantizing one
 * layer). Results are a table the caller owns (nns_sweep_table_free). */
typedef struct nns_sweep_unit {
    const char *name;   /* the unit's name (a node name for layers)           */
    const char *op;     /* its op type, or any label; may be NULL              */
    int64_t size;       /* its weight in nns_sweep_allocate (pruning: weights
                           or output channels)                                */
} nns_sweep_unit;

/* Perturb unit `unit` (units[unit] is *u) of g at `level`. Return
 * NNS_STATUS_UNSUPPORTED when this unit cannot take the perturbation (e.g. a
 * classifier whose outputs cannot be removed): the trial is not scored (the
 * cell gets the baseline score, applied 0) and the unit's size becomes 0.
 * Any other failure stops the sweep and is returned as is. */
typedef nns_status (*nns_sweep_perturb_fn)(void *user, nns_graph *g, int unit, const nns_sweep_unit *u,
                                           float level);
/* Score g (higher is better, e.g. accuracy in [0, 1]) into *score. A
 * failure stops the sweep and is returned as is. */
typedef nns_status (*nns_sweep_eval_fn)(void *user, nns_graph *g, float *score);

typedef struct nns_sweep_table {
    int n_units, n_levels;
    nns_sweep_unit *units;    /* [n_units]; names and ops owned by the table   */
    float *levels;            /* [n_levels]                                    */
    float baseline;           /* score of the unperturbed graph                */
    float *score;             /* [n_units][n_levels]: score[u * n_levels + k]   */
    unsigned char *applied;   /* [n_units][n_levels]: 0 where the perturbation
                                 returned NNS_STATUS_UNSUPPORTED               */
} nns_sweep_table;

/* Progress, called after the baseline (unit -1) and after each unit's row. */
typedef void (*nns_sweep_progress_fn)(void *user, const nns_sweep_table *t, int unit);

typedef struct nns_sweep_config {
    const nns_sweep_unit *units;  /* copied into the table                     */
    int n_units;                  /* >= 0                                      */
    const float *levels;          /* copied; for nns_sweep_allocate: increasing
                                     fractions in (0, 1)                       */
    int n_levels;                 /* >= 1                                      */
    nns_sweep_perturb_fn perturb;
    void *perturb_user;
    nns_sweep_eval_fn evaluate;
    void *evaluate_user;
    nns_sweep_progress_fn progress; /* may be NULL                             */
    void *progress_user;
} nns_sweep_config;

/* Run the sweep: the baseline (evaluate on a copy of g), then for u in
 * 0..n_units-1, k in 0..n_levels-1: copy g, perturb(u, levels[k]),
 * evaluate, free the copy. That is n_units * n_levels perturb calls and
 * 1 + n_units * n_levels evaluate calls (fewer when perturb returns
 * NNS_STATUS_UNSUPPORTED). *out is filled on success; on failure it is
 * zeroed and nothing is left allocated. Errors: NNS_STATUS_INVALID_ARG for
 * missing callbacks or counts, NNS_STATUS_NOMEM, or a callback's status. */
nns_status nns_sweep_run(const nns_graph *g, const nns_sweep_config *cfg, nns_sweep_table *out);
void nns_sweep_table_free(nns_sweep_table *t);

/* The largest level of unit u whose score stays within `drop` of the
 * baseline: the levels are walked in order from (0, baseline) and the
 * first point below baseline - drop ends the walk, linearly interpolated
 * from the previous point; 0 when the first level already drops more. */
float nns_sweep_level_for_drop(const nns_sweep_table *t, int u, float drop);

/* Allocate levels to reach an overall target: the smallest accuracy drop d
 * (bisection on [0, 1], 40 halvings) with
 *   sum_u size_u * level_u(d) >= target * sum_u size_u,
 * where level_u(d) = nns_sweep_level_for_drop(t, u, d); levels_out[u]
 * (n_units floats) = level_u(d) (0 for a unit of size 0), *max_drop (may be
 * NULL) = d. Errors: NNS_STATUS_INVALID_ARG for a target outside (0, 1) or
 * one the sweep's largest level cannot reach ("sweep allocation: target X
 * cannot be reached with levels up to Y"). */
nns_status nns_sweep_allocate(const nns_sweep_table *t, float target, float *levels_out, float *max_drop);

/* A ready-made evaluate callback: accuracy of nns_evaluate on `data` (user
 * is an nns_sweep_eval_data *; batch_size <= 0: 256). */
typedef struct nns_sweep_eval_data {
    const nns_dataset *data;
    int batch_size;
} nns_sweep_eval_data;
nns_status nns_sweep_eval_accuracy(void *user, nns_graph *g, float *score);

/* Pruning's units: the prunable layers of g (Conv, Gemm and MatMul nodes with
 * trainable parameters), in node order, size = their parameters
 * (channels = 0) or the channels of their output (dim 1; channels = 1).
 * *units is malloc'd (free with free()); names and ops point into g (valid
 * while g is unchanged). */
nns_status nns_prune_sweep_units(const nns_graph *g, int channels, nns_sweep_unit **units, int *n);

/* Pruning's perturbation (an nns_sweep_perturb_fn): prune unit u alone to
 * ratio `level`. user is an nns_prune_perturb * (NULL: magnitude).
 * Magnitude: nns_prune_magnitude_per_layer with that one layer (every other
 * prunable layer excluded). Channels: nns_prune_structured with that layer's
 * ratio only (round_to 1, L1); a layer whose channels cannot be removed
 * gives NNS_STATUS_UNSUPPORTED (the sweep then skips it). */
typedef struct nns_prune_perturb {
    int channels;  /* 0: magnitude (weights), 1: channels / neurons */
} nns_prune_perturb;
nns_status nns_prune_perturb_layer(void *user, nns_graph *g, int unit, const nns_sweep_unit *u, float level);

#ifdef __cplusplus
}
#endif
#endif
