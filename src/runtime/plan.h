/*
 * plan.h — an execution plan: a graph bound to memory for one maximum batch.
 *
 * nns_plan_create infers every shape with dim 0 = max_batch, sizes and
 * allocates one arena for activations (and, when training, their gradients,
 * op states and scratch), and prepares every node. After that, forward and
 * backward never allocate. nns_plan_set_batch(n <= max_batch) re-infers shapes
 * for a smaller batch (the last partial batch) without allocating: ops read
 * shapes from their tensor views at run time.
 *
 * Parameter gradients go to a flat buffer aligned with g->params (given by
 * the caller, so several plans can share it); backward accumulates into it.
 */
#ifndef NNS_PLAN_H
#define NNS_PLAN_H

#include "ops/op.h"

typedef struct nns_plan nns_plan;

#define NNS_PLAN_INFER_FUSED 2

/* training: 1 for a training plan; 0 for inference; NNS_PLAN_INFER_FUSED for
 * inference that folds each Conv -> BatchNormalization [-> Relu / Clip] chain
 * into the Conv (fewer passes over memory; the BN's and activation's outputs
 * share the Conv's buffer, so only graph inputs and outputs may be read
 * through nns_plan_tv).
 * g must be finalized and packed (nns_graph_pack_params). param_grads: NULL
 * for inference; else n_params floats. Graph input i gets shape
 * (max_batch, declared dims...). */
nns_status nns_plan_create(nns_graph *g, int64_t max_batch, int training,
                           float *param_grads, nns_plan **out);
/* The same with a chosen kernel table (nns_kernels_for_isa(level); NULL:
 * nns_kernels_get(), which nns_plan_create uses). The plan's ops run that
 * table's kernels for the plan's whole life. */
nns_status nns_plan_create_with_kernels(nns_graph *g, int64_t max_batch, int training,
                                        float *param_grads, const struct nns_kernels *kern,
                                        nns_plan **out);
/* Another fused inference plan of src's graph, batch and kernel table
 * whose nodes read src's packed constants instead of packing their own
 * (lanes of a session: nns_plan_bytes counts no packs for it). src must
 * own its packs (not be such a plan itself) and outlive the new plan; a
 * forward of the new plan never repacks: call nns_plan_refresh_packs(src)
 * after the graph's parameters change and before the plans run. */
nns_status nns_plan_create_sharing(const nns_plan *src, nns_plan **out);
/* Pack p's constants again if the graph's parameters changed since they
 * were packed (a forward does the same first). */
void nns_plan_refresh_packs(nns_plan *p);
/* The kernel table the plan was created with. */
const struct nns_kernels *nns_plan_kernels(const nns_plan *p);
void nns_plan_free(nns_plan *p);

nns_status nns_plan_set_batch(nns_plan *p, int64_t n);
int64_t nns_plan_batch(const nns_plan *p);

/* The tensor view bound to a value. */
nns_tv *nns_plan_tv(nns_plan *p, int value_idx);
nns_tv *nns_plan_input(nns_plan *p, int i);  /* i-th graph input  */
nns_tv *nns_plan_output(nns_plan *p, int i); /* i-th graph output */
/* The first graph input and output are f32, as the callers that copy float
 * samples in and out need; otherwise an error naming the value, its dtype
 * and `who` (what reads and writes float32, e.g. "training"). */
nns_status nns_plan_check_f32_io(nns_plan *p, const char *who);

/* Forward in training (BN batch stats, dropout) or inference mode. */
void nns_plan_forward(nns_plan *p, int training_mode);
/* An observer of a pass over the nodes: called before (after = 0) and after
 * (after = 1) each node that runs, with its index in graph order. A node
 * fused into another does not run (nns_plan_node_runs); after a node that
 * folds a BatchNormalization and an activation into itself, its output
 * holds the result of the whole chain. Profiling times nodes with one,
 * calibration reads activations with one. */
typedef void (*nns_plan_observer_fn)(void *user, nns_plan *p, int node, int after);
/* nns_plan_forward / nns_plan_backward with an observer (NULL: none). */
void nns_plan_forward_observed(nns_plan *p, int training_mode, nns_plan_observer_fn fn, void *user);
void nns_plan_backward_observed(nns_plan *p, nns_plan_observer_fn fn, void *user);
/* 1 if node i runs (is not fused into another node). */
int nns_plan_node_runs(const nns_plan *p, int i);
/* The algorithm node i's forward takes at the plan's batch (its op's
 * kernel_name: "bf16", "winograd", ...), or NULL if its op has one only. */
const char *nns_plan_node_kernel(const nns_plan *p, int i);
/* Forward (training mode in a training plan, else inference) that stores
 * each node's wall time in node_ms (n_nodes entries, graph node order; 0 for
 * a node fused into another, whose time the fusing node's includes). */
void nns_plan_forward_timed(nns_plan *p, double *node_ms);
/* Backward of a training plan, timing each node likewise (0: no backward). */
void nns_plan_backward_timed(nns_plan *p, double *node_ms);
/* Zero every activation gradient (call before seeding output grads). */
void nns_plan_zero_act_grads(nns_plan *p);
/* Backward over all nodes in reverse order; the caller has seeded the
 * output gradients. Parameter grads accumulate into param_grads. */
void nns_plan_backward(nns_plan *p);
/* Seed of the plan's random state (dropout). */
void nns_plan_seed(nns_plan *p, uint64_t seed);
/* Bytes in the plan's arena (for reports and tests). */
size_t nns_plan_bytes(const nns_plan *p);
/* Bytes of its arena alone: activations, gradients, op states, scratch. */
size_t nns_plan_arena_bytes(const nns_plan *p);

#endif
