/*
 * depgraph.h — the channel dependency graph behind structured pruning
 * (internal to src/prune/).
 *
 * Every channel (dim 1 of an NCHW activation, or a feature of an [N, F]
 * activation) gets an integer id. A Conv (ordinary, group 1) creates fresh
 * ids for its output channels, a Gemm (or a MatMul by a 2-D initializer) for
 * its output neurons; these are the prunable "spaces". Graph inputs, and the
 * outputs of ops the analysis cannot follow, create fixed spaces.
 * Values then carry an array of ids, one per position along dim 1:
 *   - BatchNormalization, elementwise unary ops, Dropout, Identity, pools and
 *     depthwise convolutions copy their input's array;
 *   - Add/Sub/Mul/Div unite the ids of their operands position by position
 *     (union-find), so all branches of a residual are pruned alike;
 *     initializer operands with a channel dim are sliced with them;
 *   - Concat on the channel axis concatenates the arrays (offsets into the
 *     joined tensor); on another axis it unites them;
 *   - Flatten(axis 1) repeats each channel's id H*W times: each channel owns
 *     its H*W consecutive features in the next Gemm.
 * A "unit" is a class of united ids: it is kept or removed as a whole. A
 * "group" is a connected set of spaces (spaces whose ids were united): the
 * coupled layers that per-layer ratios and rounding apply to. A group is
 * fixed (not prunable) when any of its ids reaches a graph input or output,
 * an op the analysis cannot follow (Reshape, Transpose, Softmax, a grouped
 * convolution, ...), or an initializer shared by several nodes; the first
 * such reason is kept for error messages.
 *
 * Every initializer that depends on channels gets "slices": (value, dim,
 * src) means dim `dim` of initializer `value` follows the ids of value
 * `src` (e.g. Conv W dim 0 follows the Conv output, dim 1 its input).
 */
#ifndef NNS_PRUNE_DEPGRAPH_H
#define NNS_PRUNE_DEPGRAPH_H

#include <stdint.h>

#include "core/graph_impl.h"

typedef enum nns_dg_space_kind {
    NNS_DG_SPACE_KIND_CONV = 0,  /* output channels of an ordinary Conv     */
    NNS_DG_SPACE_KIND_GEMM = 1,  /* output neurons of a Gemm / MatMul       */
    NNS_DG_SPACE_KIND_FIXED = 2  /* graph input, constant, unfollowed op    */
} nns_dg_space_kind;

/* Why ids were fixed (for messages). */
typedef enum nns_dg_fix {
    NNS_DG_FIX_NONE = 0,
    NNS_DG_FIX_INPUT,      /* channels of a graph input                     */
    NNS_DG_FIX_OUTPUT,     /* they reach a graph output                     */
    NNS_DG_FIX_OPAQUE,     /* they reach an op the analysis cannot follow  */
    NNS_DG_FIX_GROUPED,    /* they reach a grouped (not depthwise) Conv    */
    NNS_DG_FIX_SHARED,     /* an initializer to slice is used twice         */
    NNS_DG_FIX_LAYOUT,     /* an attribute or shape the analysis refuses    */
    NNS_DG_FIX_CONST       /* channels of a constant                        */
} nns_dg_fix;

typedef struct nns_dg_space {
    int node;       /* producing node, -1 for a graph input / constant   */
    int value;      /* the value whose dim 1 these ids are               */
    int first, len; /* ids first .. first + len - 1                      */
    int kind;       /* nns_dg_space_kind                                 */
    int group;      /* group index (after finishing)                     */
} nns_dg_space;

typedef struct nns_dg_slice {
    int value; /* initializer to slice  */
    int dim;   /* its dimension         */
    int src;   /* value whose ids it follows */
} nns_dg_slice;

typedef struct nns_dg_group {
    int n_units;
    int *units;        /* unit indices (points into the depgraph's arrays) */
    int n_spaces;
    int *spaces;       /* space indices                                    */
    int fixed;         /* 1: not prunable                                  */
    int fix_why;       /* nns_dg_fix of the first fixed unit               */
    int fix_node;      /* node responsible (-1: none)                      */
    int fix_value;     /* value involved (-1: none)                        */
    int producer;      /* first Conv/Gemm node producing its channels, -1   */
    int has_conv, has_gemm;
} nns_dg_group;

typedef struct nns_depgraph {
    const nns_graph *g;
    int n_values;       /* g->n_values at analysis time                     */
    int n_ids, cap_ids;
    int *parent;        /* union-find over ids                             */
    int *space_of;      /* id -> space                                      */
    int *fix_why;       /* per id (meaningful at roots): nns_dg_fix         */
    int *fix_node;      /* per id: node responsible, -1                     */
    int *fix_value;     /* per id: value involved, -1                       */
    int **ids;          /* per value: ids along dim 1, or NULL              */
    int *len;           /* per value: length of ids                         */
    int *uses;          /* per value: node input slots + graph outputs       */
    char *dw;           /* per node: 1 for a depthwise Conv                  */
    nns_dg_space *spaces;
    int n_spaces, cap_spaces;
    nns_dg_slice *slices;
    int n_slices, cap_slices;
    /* filled by nns_depgraph_build after the walk */
    int n_units;
    int *unit_of;       /* id -> unit                                       */
    int *unit_start;    /* CSR: ids of unit u are unit_ids[unit_start[u] ..  */
    int *unit_ids;      /*       unit_start[u + 1])                         */
    int *unit_group;    /* unit -> group                                    */
    int n_groups;
    nns_dg_group *groups;
    int *group_units;   /* storage for groups[].units                       */
    int *group_spaces;  /* storage for groups[].spaces                      */
    int *slice_src;     /* [value * NNS_MAX_DIMS + dim]: src value, or -1    */
} nns_depgraph;

/* Analyse g (finalized: nodes in topological order, shapes inferred). */
nns_status nns_depgraph_build(const nns_graph *g, nns_depgraph **out);
void nns_depgraph_free(nns_depgraph *dg);

/* Union-find root of an id. */
int nns_depgraph_find(nns_depgraph *dg, int id);

/* A one-line reason why group gi cannot be pruned (for messages). */
void nns_depgraph_reason(const nns_depgraph *dg, int gi, char *buf, size_t len);

/* Number of positions of value v's ids whose unit is kept (keep[unit] != 0);
 * the dim-1 size of v when v carries no ids. */
int64_t nns_depgraph_kept_len(const nns_depgraph *dg, int v, const unsigned char *keep);

/* ---- shared by src/prune/structured*.c ---- */

/* Scores per unit (higher = more important) for criterion crit (an
 * nns_prune_criterion); has_bn[group] is set for groups whose channels pass
 * through a BatchNormalization. w must be packed (Taylor builds a plan on
 * it; inference-mode forward, so w is not modified). */
struct nns_structured_config;
nns_status nns_structured_score(nns_graph *w, nns_depgraph *dg,
                                const struct nns_structured_config *cfg,
                                double *score, unsigned char *has_bn);

/* Trainable parameters and MACs per image of the graph pruned to keep
 * (keep[unit] != 0), exactly as nns_graph_summarize would count them.
 * kl: scratch of g->n_values entries. */
void nns_structured_cost(const nns_depgraph *dg, const unsigned char *keep, int64_t *kl,
                         int64_t *params, int64_t *macs);

/* Remove the units with keep[unit] == 0 from w (the graph dg analysed):
 * slice every dependent initializer (and g->masks), update depthwise group
 * counts, re-finalize and repack. On failure w is in an undefined state. */
nns_status nns_structured_apply(nns_graph *w, const nns_depgraph *dg, const unsigned char *keep);

#endif
