/*
 * nnslim/runtime.h — inference sessions.
 *
 * A session binds a finalized graph to memory for batches of up to
 * max_batch samples (activations share buffers by lifetime); a run never
 * allocates. Inputs and outputs are float32, C order, batch first.
 */
#ifndef NNSLIM_RUNTIME_H
#define NNSLIM_RUNTIME_H

#include <stdint.h>
#include "nnslim/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nns_session nns_session;

/* The environment variable NNS_ISA (scalar, avx2, avx512, avx512vnni,
 * avxvnni, avx512bf16) lowers the kernels' ISA level, never above what the
 * CPU has. NNS_OK if it is unset, empty or a known level; else
 * NNS_STATUS_INVALID_ARG with a one-line message listing the levels (the
 * library itself ignores an unknown value and uses every feature the CPU
 * has; the nnslim command refuses it). */
nns_status nns_isa_check_env(void);

nns_status nns_session_create(nns_graph *g, int64_t max_batch, nns_session **out);
/* The same with a choice of lanes. A session of L lanes cuts a batch of
 * samples into L parts that run side by side, each on one thread, through
 * plans of their own (sharing one copy of the packed weights), instead of
 * running one plan whose every node splits its work across the threads.
 * lanes 0 (what nns_session_create does): one lane per thread
 * (omp_get_max_threads() at creation) as long as each gets at least 4 of
 * max_batch's samples, and one lane if the weights take more bytes than a
 * lane's activations (each lane reads all of them) or the model's input has
 * a fixed dim 0. lanes 1: one plan of max_batch, every thread on each node.
 * lanes n (up to 64): n lanes of max_batch / n samples (rounded up).
 * A run of b samples uses as many lanes as hold 4 samples each (at least
 * those that fit b); a run that fits one lane and is smaller than that
 * (batch 1) runs on lane 0 with every thread. */
nns_status nns_session_create_lanes(nns_graph *g, int64_t max_batch, int lanes, nns_session **out);
/* The session's lanes (1: one plan). */
int nns_session_lanes(const nns_session *s);
void nns_session_free(nns_session *s);
/* Elements per sample of the (first) input and output. */
int64_t nns_session_input_size(const nns_session *s);
int64_t nns_session_output_size(const nns_session *s);
/* Output shape for batch n (dims[0] = n). */
nns_shape nns_session_output_shape(const nns_session *s, int64_t n);
/* Run n samples (any n >= 1; more than max_batch runs in chunks):
 * x [n, input_size] -> y [n, output_size]. */
nns_status nns_session_run(nns_session *s, const float *x, int64_t n, float *y);

/* Measure inference speed: run batches of `batch` random inputs `repeats`
 * times (after one warm-up run) and report the median milliseconds per run
 * and the images per second it implies. */
nns_status nns_benchmark(nns_graph *g, int batch, int repeats, double *median_ms,
                         double *images_per_second);

/* The same with the spread and the memory: the median and the 90th
 * percentile (nearest rank) of the runs' milliseconds, the images per
 * second the median implies, the bytes of the session's memory: its
 * plans (activations, workspace, packed weights) and the constant data of
 * the graph it runs (weights as held: float, or 4-bit and 16-bit where
 * kept so), and the lanes the session had (nns_session_create). */
typedef struct nns_bench_stats {
    double median_ms, p90_ms, images_per_second;
    size_t memory_bytes;
    int lanes;
} nns_bench_stats;
nns_status nns_benchmark_stats(nns_graph *g, int batch, int repeats, nns_bench_stats *out);
/* Bytes of a session's memory, as nns_bench_stats.memory_bytes. */
size_t nns_session_memory_bytes(const nns_session *s);

/* Speed of graph b against graph a, measured alternately so that both see
 * the same machine load: `rounds` rounds, each timing a then b
 * (nns_benchmark at `batch` with `repeats`). ratio is the median over the
 * rounds of a's milliseconds over b's (> 1: b is faster), low and high the
 * smallest and largest round's ratio: the run-to-run spread. same is 1 when
 * that spread includes 1 (no change measurable here). ms_a and ms_b are the
 * medians of the rounds' milliseconds. */
typedef struct nns_speed_ratio {
    double ratio, low, high;
    int same;
    double ms_a, ms_b;
} nns_speed_ratio;
nns_status nns_benchmark_ratio(nns_graph *a, nns_graph *b, int batch, int rounds, int repeats, nns_speed_ratio *r);

/* Profile inference: run batches of `batch` random inputs `repeats` times
 * (after one warm-up run), timing every node. node_ms (nns_graph_n_nodes(g)
 * entries, in the graph's node order, as nns_graph_summarize lists them)
 * gets each node's median milliseconds; a node whose work another node does
 * (BatchNormalization or an activation fused into the op before it) gets 0.
 * *total_ms gets the median of the runs' sums. */
nns_status nns_profile(nns_graph *g, int batch, int repeats, double *node_ms, double *total_ms);
/* The same, also giving the 90th percentile of the runs' sums and the
 * session's memory bytes (nns_bench_stats.memory_bytes); either may be NULL. */
nns_status nns_profile_stats(nns_graph *g, int batch, int repeats, double *node_ms, double *total_ms,
                             double *total_p90_ms, size_t *memory_bytes);
/* Profile a training step (forward in training mode, then backward from
 * random output gradients; no optimizer update) on a copy of g: fwd_ms and
 * bwd_ms (nns_graph_n_nodes(g) entries each) get each node's median
 * milliseconds (0 where fused or without a backward), *total_ms the median of
 * the steps' sums. g is not modified. */
nns_status nns_profile_train(const nns_graph *g, int batch, int repeats, double *fwd_ms, double *bwd_ms,
                             double *total_ms);

#ifdef __cplusplus
}
#endif
#endif
