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
       Gemm node); may be NULL / 0 */
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
    int64_t params_before, params_after;
    int64_t macs_before, macs_after;
} nns_structured_report;

/* Remove channels/neurons physically. g is modified in place only on
 * success (on failure it is unchanged). rep may be NULL. */
nns_status nns_prune_structured(nns_graph *g, const nns_structured_config *cfg,
                                nns_structured_report *rep);

#ifdef __cplusplus
}
#endif
#endif
