/* plan.c — binding a graph to memory for one maximum batch, and running it.
 *
 * Memory: one arena. Training plans give every activation its own buffer
 * (backward needs them all) plus a gradient buffer; inference plans share
 * buffers between activations whose lifetimes do not overlap (greedy
 * best-fit by last use). Op states (saved for backward) are per node; the
 * scratch workspace is one buffer sized for the largest node and shared.
 *
 * Training plans also:
 *  - give no gradient buffer (grad NULL) to activations that depend on no
 *    trainable parameter (e.g. Flatten of the input): nothing needs them,
 *    and ops skip the gradients of NULL-grad inputs (a GEMM less for the
 *    first layer of an MLP). Graph outputs always have one.
 *  - fuse BatchNormalization with a Relu / Clip that is the only consumer
 *    of its output (nns_exec_node.fuse_act): one pass over memory instead
 *    of two, forward and backward. The BN output (and its gradient, which
 *    is not zeroed) is then not written; when
 *    it is asked for (nns_plan_tv), the plan materialises it (and its
 *    gradient after a backward) and drops that fusion for good.
 *  - let the only consumer of an activation WRITE its gradient, when the
 *    op can (nns_op_def.grad_overwrite_inputs): those gradients sit after
 *    the others and nns_plan_zero_act_grads skips them (a memset pass less,
 *    and the op reads no zeros). nns_plan_tv on such a value turns this
 *    off for it (the caller may add to that gradient before backward). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "core/clock.h"
#include "kernels/kernels.h"
#include "runtime/plan.h"

#define NNS_ALIGN 64
static size_t align_up(size_t n) { return (n + NNS_ALIGN - 1) & ~(size_t)(NNS_ALIGN - 1); }

struct nns_plan {
    nns_graph *g;
    int64_t max_batch, batch;
    int training;
    nns_tv *tv;            /* per value */
    nns_exec_node *ex;     /* per node  */
    void **node_params;    /* per node, owned */
    unsigned char *arena;
    size_t arena_bytes;
    float *act_grads;      /* contiguous activation gradients */
    size_t n_act_grads;
    float *param_grads;
    uint64_t rng;
    unsigned char *skip;   /* per node: 1 = fused into another node */
    int *fused_by;         /* per value: node whose fusion hides it, or -1 */
    int *fused_act;        /* per value: the skipped activation node */
    int *unfused;          /* values whose fusion / written gradient was dropped (zeroed apart) */
    int *ow_node, *ow_slot; /* per value: the node that writes its gradient (or -1), and the slot */
    int n_unfused;
    int phase;             /* 0 fresh, 1 after forward, 2 after backward */
    const nns_kernels *kern; /* pinned at creation; every node's e->kern */
};

static nns_status set_input_shapes(nns_plan *p, int64_t n) {
    nns_graph *g = p->g;
    for (int i = 0; i < g->n_inputs; i++) {
        nns_value *v = &g->values[g->inputs[i]];
        nns_shape s = v->shape;
        if (s.ndim < 1)
            return nns_error(NNS_STATUS_SHAPE, "graph input '%s' has rank 0", v->name);
        if (s.dims[0] > 0 && s.dims[0] != n && p->max_batch == n)
            return nns_error(NNS_STATUS_SHAPE, "graph input '%s' has a fixed batch of %lld, not %lld",
                             v->name, (long long)s.dims[0], (long long)n);
        s.dims[0] = n;
        for (int d = 1; d < s.ndim; d++)
            if (s.dims[d] <= 0)
                return nns_error(NNS_STATUS_SHAPE, "graph input '%s': dimension %d is unknown", v->name, d);
        char what[192];
        int64_t numel;
        snprintf(what, sizeof what, "graph input '%s' at batch %lld", v->name, (long long)n);
        nns_status st = nns_shape_numel_checked(&s, what, &numel);
        if (st) return st;
        p->tv[g->inputs[i]].shape = s;
    }
    return NNS_OK;
}

static nns_status infer_all(nns_plan *p) {
    nns_graph *g = p->g;
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_shape *in[NNS_MAX_NODE_IO];
        nns_shape out[NNS_MAX_NODE_IO];
        memset(out, 0, sizeof out);
        for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] >= 0 ? &p->tv[n->in[j]].shape : NULL;
        nns_status st = nns_op_infer(g, n, p->node_params[i], in, out);
        if (st) return st;
        for (int j = 0; j < n->n_out; j++) p->tv[n->out[j]].shape = out[j];
    }
    return NNS_OK;
}

void nns_plan_free(nns_plan *p) {
    if (!p) return;
    if (p->node_params)
        for (int i = 0; i < p->g->n_nodes; i++) free(p->node_params[i]);
    free(p->node_params);
    free(p->tv);
    free(p->ex);
    free(p->skip);
    free(p->fused_by);
    free(p->fused_act);
    free(p->unfused);
    free(p->ow_node);
    free(p->ow_slot);
    free(p->arena);
    free(p);
}

/* The arena within NNS_MAX_MEMORY. Each part is a sum of tensors that
 * passed the element limit, so the parts themselves cannot wrap; their sum
 * is checked all the same. */
static nns_status check_plan_bytes(int64_t batch, size_t act, size_t grad, size_t states, size_t work) {
    size_t total;
    const uint64_t lim = nns_limit_memory();
    if (nns_ck_add_size(act, grad, &total) || nns_ck_add_size(total, states, &total) ||
        nns_ck_add_size(total, work, &total) || total > lim)
        return nns_error(NNS_STATUS_LIMIT,
                         "a plan for batch %lld needs %.1f MiB (activations %.1f, gradients %.1f, states %.1f, "
                         "scratch %.1f), over the %.1f MiB limit (NNS_MAX_MEMORY)",
                         (long long)batch, ((double)act + grad + states + work) / 1048576.0, act / 1048576.0,
                         grad / 1048576.0, states / 1048576.0, work / 1048576.0, lim / 1048576.0);
    return NNS_OK;
}

/* The first node after i that reads value v, or -1. */
static int next_consumer(const nns_graph *g, int i, int v) {
    for (int j = i + 1; j < g->n_nodes; j++)
        for (int k = 0; k < g->nodes[j].n_in; k++)
            if (g->nodes[j].in[k] == v) return j;
    return -1;
}

nns_status nns_plan_create(nns_graph *g, int64_t max_batch, int training,
                           float *param_grads, nns_plan **out) {
    return nns_plan_create_with_kernels(g, max_batch, training, param_grads, NULL, out);
}

const nns_kernels *nns_plan_kernels(const nns_plan *p) { return p->kern; }

nns_status nns_plan_create_with_kernels(nns_graph *g, int64_t max_batch, int training,
                                        float *param_grads, const nns_kernels *kern, nns_plan **out) {
    *out = NULL;
    const int fold = training == NNS_PLAN_INFER_FUSED;
    if (fold) training = 0;
    if (max_batch < 1 || max_batch > NNS_MAX_DIM)
        return nns_error(NNS_STATUS_INVALID_ARG, "batch size must be in 1..%lld, not %lld", (long long)NNS_MAX_DIM,
                         (long long)max_batch);
    if (training && !param_grads && g->n_params)
        return nns_error(NNS_STATUS_INVALID_ARG, "a training plan needs a parameter-gradient buffer");
    nns_plan *p = calloc(1, sizeof *p);
    if (!p) return nns_error(NNS_STATUS_NOMEM, "out of memory creating a plan");
    p->g = g;
    p->max_batch = p->batch = max_batch;
    p->training = training;
    p->param_grads = param_grads;
    p->rng = 0x5eed;
    p->kern = kern ? kern : nns_kernels_get();
    int nv = g->n_values, nn = g->n_nodes;
    p->tv = calloc((size_t)(nv ? nv : 1), sizeof(nns_tv));
    p->ex = calloc((size_t)(nn ? nn : 1), sizeof(nns_exec_node));
    p->node_params = calloc((size_t)(nn ? nn : 1), sizeof(void *));
    size_t *state_sz = calloc((size_t)(nn ? nn : 1), sizeof(size_t));
    size_t *val_off = calloc((size_t)(nv ? nv : 1), sizeof(size_t));
    size_t *grad_off = calloc((size_t)(nv ? nv : 1), sizeof(size_t));
    int *last_use = calloc((size_t)(nv ? nv : 1), sizeof(int));
    int *n_uses = calloc((size_t)(nv ? nv : 1), sizeof(int));
    unsigned char *needs_grad = calloc((size_t)(nv ? nv : 1), 1);
    int *alias = malloc((size_t)(nv ? nv : 1) * sizeof(int));     /* inference fold: shares this value's buffer */
    int *fold_bn = malloc((size_t)(nn ? nn : 1) * sizeof(int));   /* Conv -> folded BN node, or -1 */
    int *fold_act = malloc((size_t)(nn ? nn : 1) * sizeof(int));  /* Conv -> fused activation node, or -1 */
    int *ow_node = p->ow_node = malloc((size_t)(nv ? nv : 1) * sizeof(int));
    int *ow_slot = p->ow_slot = malloc((size_t)(nv ? nv : 1) * sizeof(int));
    p->skip = calloc((size_t)(nn ? nn : 1), 1);
    p->fused_by = malloc((size_t)(nv ? nv : 1) * sizeof(int));
    p->fused_act = malloc((size_t)(nv ? nv : 1) * sizeof(int));
    p->unfused = malloc((size_t)(nv ? nv : 1) * sizeof(int));
    nns_status st = NNS_OK;
    if (!p->tv || !p->ex || !p->node_params || !state_sz || !val_off || !grad_off || !last_use || !n_uses ||
        !needs_grad || !alias || !fold_bn || !fold_act || !ow_node || !ow_slot || !p->skip || !p->fused_by || !p->fused_act || !p->unfused) {
        st = nns_error(NNS_STATUS_NOMEM, "out of memory creating a plan");
        goto done;
    }
    for (int v = 0; v < nv; v++) {
        const nns_value *val = &g->values[v];
        p->tv[v].dtype = val->dtype;
        p->tv[v].shape = val->shape;
        if (val->data) p->tv[v].data = (float *)val->data;
        if (training && val->kind == NNS_VALUE_KIND_PARAM && val->trainable && val->param_offset >= 0)
            p->tv[v].grad = param_grads + val->param_offset;
    }
    for (int i = 0; i < nn; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_op_def *def = n->op >= 0 ? nns_op_table[n->op] : NULL;
        if (!def) {
            st = nns_error(NNS_STATUS_UNSUPPORTED, "unsupported op '%s' at node '%s'", n->op_type, n->name);
            goto done;
        }
        p->node_params[i] = calloc(1, def->params_size ? def->params_size : 1);
        if (!p->node_params[i]) {
            st = nns_error(NNS_STATUS_NOMEM, "out of memory at node '%s'", n->name);
            goto done;
        }
        if (def->prepare && (st = def->prepare(g, n, p->node_params[i]))) goto done;
    }
    if ((st = set_input_shapes(p, max_batch))) goto done;
    if ((st = infer_all(p))) goto done;

    /* Sizes: activations, grads, states, work. */
    size_t work_max = 0, states = 0;
    for (int i = 0; i < nn; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_op_def *def = nns_op_table[n->op];
        const nns_shape *in[NNS_MAX_NODE_IO];
        nns_shape outs[NNS_MAX_NODE_IO];
        for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] >= 0 ? &p->tv[n->in[j]].shape : NULL;
        for (int j = 0; j < n->n_out; j++) outs[j] = p->tv[n->out[j]].shape;
        size_t w = def->work_bytes ? def->work_bytes(p->node_params[i], in, outs, training) : 0;
        if (w > work_max) work_max = w;
        state_sz[i] = def->state_bytes ? align_up(def->state_bytes(p->node_params[i], in, outs, training)) : 0;
        states += state_sz[i];
        for (int j = 0; j < n->n_in; j++) if (n->in[j] >= 0) last_use[n->in[j]] = i;
        if (training && !def->backward) {
            for (int j = 0; j < n->n_in; j++)
                if (n->in[j] >= 0 && (g->values[n->in[j]].kind == NNS_VALUE_KIND_ACT ||
                                      (g->values[n->in[j]].kind == NNS_VALUE_KIND_PARAM && g->values[n->in[j]].trainable))) {
                    st = nns_error(NNS_STATUS_UNSUPPORTED, "node '%s': op '%s' cannot be trained (no backward)", n->name, n->op_type);
                    goto done;
                }
        }
    }
    for (int i = 0; i < g->n_outputs; i++) last_use[g->outputs[i]] = nn;
    /* Which activations need a gradient: those that depend on a trainable
     * parameter (nodes are in topological order), and the graph outputs. */
    for (int v = 0; v < nv; v++) {
        const nns_value *val = &g->values[v];
        needs_grad[v] = val->kind == NNS_VALUE_KIND_PARAM && val->trainable && val->param_offset >= 0;
        p->fused_by[v] = p->fused_act[v] = -1;
        ow_node[v] = ow_slot[v] = -1;
    }
    for (int i = 0; i < nn; i++) {
        const nns_node *n = &g->nodes[i];
        int need = 0;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) {
                need |= needs_grad[n->in[j]];
                n_uses[n->in[j]]++;
            }
        for (int j = 0; j < n->n_out; j++) needs_grad[n->out[j]] = (unsigned char)need;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        needs_grad[g->outputs[i]] = 1;
        n_uses[g->outputs[i]]++;
    }
    /* BatchNormalization + Relu/Clip fusion: the BN output's only use is
     * input 0 of a Relu or Clip. */
    for (int i = 0; training && i < nn; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_BATCHNORM || !state_sz[i]) continue;
        const int z = n->out[0];
        if (n_uses[z] != 1 || g->values[z].kind != NNS_VALUE_KIND_ACT) continue;
        for (int j = i + 1; j < nn; j++) {
            const nns_node *a = &g->nodes[j];
            int uses = 0;
            for (int k = 0; k < a->n_in; k++) uses += a->in[k] == z;
            if (!uses) continue;
            if (a->in[0] == z && a->n_out == 1 && (a->op == NNS_OP_RELU || a->op == NNS_OP_CLIP)) {
                p->fused_by[z] = i;
                p->fused_act[z] = j;
            }
            break;
        }
    }
    /* Inference fold (NNS_PLAN_INFER_FUSED): Conv -> BatchNormalization with
     * constant statistics [-> Relu / Clip], each value used only by the next
     * node of the chain and not a graph output; the three values share the
     * Conv output's buffer, which lives until the chain's last value dies. */
    for (int v = 0; v < nv; v++) alias[v] = -1;
    for (int i = 0; i < nn; i++) fold_bn[i] = fold_act[i] = -1;
    for (int i = 0; fold && i < nn; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_CONV || n->n_out != 1) continue;
        const int z = n->out[0];
        if (n_uses[z] != 1 || g->values[z].kind != NNS_VALUE_KIND_ACT) continue;
        int j = next_consumer(g, i, z);
        if (j < 0) continue;
        const nns_node *b = &g->nodes[j];
        if (b->op != NNS_OP_BATCHNORM || b->in[0] != z || b->n_out != 1 || b->n_in != 5) continue;
        int const_stats = 1;
        for (int k = 1; k < 5; k++)
            const_stats &= b->in[k] >= 0 && g->values[b->in[k]].kind == NNS_VALUE_KIND_PARAM &&
                           g->values[b->in[k]].data != NULL;
        if (!const_stats) continue;
        fold_bn[i] = j;
        const int z2 = b->out[0];
        alias[z2] = z;
        if (n_uses[z2] != 1 || g->values[z2].kind != NNS_VALUE_KIND_ACT) continue;
        const int k = next_consumer(g, j, z2);
        if (k < 0) continue;
        const nns_node *a = &g->nodes[k];
        if (a->in[0] == z2 && a->n_out == 1 && (a->op == NNS_OP_RELU || a->op == NNS_OP_CLIP) &&
            g->values[a->out[0]].kind == NNS_VALUE_KIND_ACT) {
            fold_act[i] = k;
            alias[a->out[0]] = z;
        }
    }
    for (int v = 0; v < nv; v++)
        if (alias[v] >= 0 && last_use[v] > last_use[alias[v]]) last_use[alias[v]] = last_use[v];
    /* Gradients written, not accumulated: an activation used once, by an op
     * that can write that slot's gradient (and not hidden by a fusion). */
    for (int i = 0; training && i < nn; i++) {
        const nns_node *n = &g->nodes[i];
        const unsigned ok = nns_op_table[n->op]->grad_overwrite_inputs;
        for (int j = 0; j < n->n_in && j < 32; j++) {
            const int v = n->in[j];
            if (v >= 0 && (ok >> j & 1u) && n_uses[v] == 1 && needs_grad[v] &&
                g->values[v].kind == NNS_VALUE_KIND_ACT && p->fused_by[v] < 0) {
                ow_node[v] = i;
                ow_slot[v] = j;
            }
        }
    }
    /* Activation layout: the gradients to zero first, then the written ones. */
    size_t act_bytes = 0, grad_bytes = 0, grad_zero_bytes = 0;
    if (training) {
        /* group 0: zeroed each step; 1: hidden by a fusion; 2: written */
        for (int pass = 0; pass < 3; pass++)
            for (int v = 0; v < nv; v++) {
                const nns_value *val = &g->values[v];
                if (val->kind != NNS_VALUE_KIND_ACT && val->kind != NNS_VALUE_KIND_INPUT) continue;
                size_t b = align_up((size_t)nns_shape_numel(&p->tv[v].shape) * sizeof(float));
                if (pass == 0) {
                    val_off[v] = act_bytes;
                    act_bytes += b;
                }
                const int grp = ow_node[v] >= 0 ? 2 : p->fused_by[v] >= 0 ? 1 : 0;
                if (val->kind == NNS_VALUE_KIND_ACT && needs_grad[v] && grp == pass) {
                    grad_off[v] = grad_bytes;
                    grad_bytes += b;
                    if (grp == 0) grad_zero_bytes += b;
                }
            }
    } else {
        /* Greedy reuse by lifetime. Inputs first, then node outputs in order. */
        int nbuf = 0;
        size_t *buf_size = calloc((size_t)(nv + 1), sizeof(size_t));
        size_t *buf_off = calloc((size_t)(nv + 1), sizeof(size_t));
        int *buf_free_after = calloc((size_t)(nv + 1), sizeof(int));
        if (!buf_size || !buf_off || !buf_free_after) {
            free(buf_size); free(buf_off); free(buf_free_after);
            st = nns_error(NNS_STATUS_NOMEM, "out of memory planning memory");
            goto done;
        }
        for (int step = -1; step < nn; step++) {
            int outs_n = step < 0 ? g->n_inputs : g->nodes[step].n_out;
            for (int j = 0; j < outs_n; j++) {
                int v = step < 0 ? g->inputs[j] : g->nodes[step].out[j];
                if (alias[v] >= 0) {
                    val_off[v] = val_off[alias[v]];
                    continue;
                }
                size_t need = align_up((size_t)nns_shape_numel(&p->tv[v].shape) * sizeof(float));
                /* inputs live throughout; an output until its last consumer */
                int lu = step < 0 ? nn + 1 : (last_use[v] > step ? last_use[v] : step);
                int best = -1;
                for (int b = 0; b < nbuf; b++)
                    if (buf_free_after[b] < step && buf_size[b] >= need &&
                        (best < 0 || buf_size[b] < buf_size[best]))
                        best = b;
                if (best < 0) {
                    best = nbuf++;
                    buf_size[best] = need;
                    buf_off[best] = act_bytes;
                    act_bytes += need;
                }
                buf_free_after[best] = lu;
                val_off[v] = buf_off[best];
            }
        }
        free(buf_size); free(buf_off); free(buf_free_after);
    }
    size_t total = act_bytes + grad_bytes + states + align_up(work_max);
    if ((st = check_plan_bytes(max_batch, act_bytes, grad_bytes, states, work_max))) goto done;
    p->arena = aligned_alloc(NNS_ALIGN, total ? total : NNS_ALIGN);
    if (!p->arena) {
        st = nns_error(NNS_STATUS_NOMEM, "out of memory: a plan for batch %lld needs %zu bytes", (long long)max_batch, total);
        goto done;
    }
    memset(p->arena, 0, total ? total : NNS_ALIGN);
    p->arena_bytes = total;
    p->act_grads = (float *)(p->arena + act_bytes);
    p->n_act_grads = grad_zero_bytes / sizeof(float);
    for (int v = 0; v < nv; v++) {
        const nns_value *val = &g->values[v];
        if (val->kind != NNS_VALUE_KIND_ACT && val->kind != NNS_VALUE_KIND_INPUT) continue;
        p->tv[v].data = (float *)(p->arena + val_off[v]);
        if (training && val->kind == NNS_VALUE_KIND_ACT && needs_grad[v])
            p->tv[v].grad = (float *)(p->arena + act_bytes + grad_off[v]);
    }
    unsigned char *sp = p->arena + act_bytes + grad_bytes;
    void *work = sp + states;
    for (int i = 0; i < nn; i++) {
        const nns_node *n = &g->nodes[i];
        nns_exec_node *e = &p->ex[i];
        e->g = g;
        e->node = n;
        e->n_in = n->n_in;
        e->n_out = n->n_out;
        for (int j = 0; j < n->n_in; j++) e->in[j] = n->in[j] >= 0 ? &p->tv[n->in[j]] : NULL;
        for (int j = 0; j < n->n_out; j++) e->out[j] = &p->tv[n->out[j]];
        e->params = p->node_params[i];
        e->state = state_sz[i] ? sp : NULL;
        sp += state_sz[i];
        e->work = work;
        e->training = training;
        e->rng = &p->rng;
        e->kern = p->kern;
    }
    for (int v = 0; v < nv; v++) {
        if (p->fused_by[v] < 0) continue;
        const int i = p->fused_by[v], j = p->fused_act[v];
        const nns_node *a = &g->nodes[j];
        nns_exec_node *e = &p->ex[i];
        e->fuse_act = a->op == NNS_OP_RELU ? NNS_FUSE_ACT_RELU : NNS_FUSE_ACT_CLIP;
        e->fuse_lo = e->fuse_hi = 0.0f;
        if (a->op == NNS_OP_CLIP) nns_clip_bounds(p->node_params[j], &e->fuse_lo, &e->fuse_hi);
        e->fuse_out = &p->tv[a->out[0]];
        p->skip[j] = 1;
    }
    for (int v = 0; v < nv; v++)
        if (ow_node[v] >= 0) p->ex[ow_node[v]].grad_overwrite |= 1u << ow_slot[v];
    for (int i = 0; i < nn; i++) {
        if (fold_bn[i] < 0) continue;
        nns_exec_node *e = &p->ex[i];
        e->fold_bn = &p->ex[fold_bn[i]];
        p->skip[fold_bn[i]] = 1;
        const int k = fold_act[i];
        if (k < 0) continue;
        const nns_node *a = &g->nodes[k];
        e->fuse_act = a->op == NNS_OP_RELU ? NNS_FUSE_ACT_RELU : NNS_FUSE_ACT_CLIP;
        e->fuse_lo = e->fuse_hi = 0.0f;
        if (a->op == NNS_OP_CLIP) nns_clip_bounds(p->node_params[k], &e->fuse_lo, &e->fuse_hi);
        p->skip[k] = 1;
    }
done:
    free(alias);
    free(fold_bn);
    free(fold_act);
    free(n_uses);
    free(needs_grad);

    free(state_sz);
    free(val_off);
    free(grad_off);
    free(last_use);
    if (st) {
        nns_plan_free(p);
        return st;
    }
    *out = p;
    return NNS_OK;
}

nns_status nns_plan_set_batch(nns_plan *p, int64_t n) {
    if (n < 1 || n > p->max_batch)
        return nns_error(NNS_STATUS_INVALID_ARG, "batch %lld is outside the plan's 1..%lld", (long long)n, (long long)p->max_batch);
    if (n == p->batch) return NNS_OK;
    nns_status st = set_input_shapes(p, n);
    if (!st) st = infer_all(p);
    if (!st) {
        p->batch = n;
        return st;
    }
    /* refused at n (a model whose shapes only work at its fixed batch): put
     * the shapes back as they were at p->batch, which inferred before */
    char msg[512];
    snprintf(msg, sizeof msg, "%s", nns_last_error());
    if (set_input_shapes(p, p->batch) || infer_all(p))
        return nns_error(NNS_STATUS_INTERNAL, "plan: shapes at batch %lld no longer infer", (long long)p->batch);
    return nns_error(st, "%s", msg);
}

int64_t nns_plan_batch(const nns_plan *p) { return p->batch; }
/* Undo the fusion that hides value v: fill it in from the last forward
 * (and backward), then run the pair unfused from now on. */
static void plan_unfuse(nns_plan *p, int v) {
    const int i = p->fused_by[v], j = p->fused_act[v];
    nns_exec_node *e = &p->ex[i];
    /* its gradient is not in the zeroed block: zero it now (before a
     * backward) or write it (after one), and in every step from now on */
    if (p->tv[v].grad && p->phase < 2)
        memset(p->tv[v].grad, 0, (size_t)nns_shape_numel(&p->tv[v].shape) * sizeof(float));
    if (p->phase >= 1) nns_batchnorm_materialize(e, p->phase >= 2);
    p->unfused[p->n_unfused++] = v;
    e->fuse_act = NNS_FUSE_ACT_NONE;
    e->fuse_out = NULL;
    p->skip[j] = 0;
    p->fused_by[v] = p->fused_act[v] = -1;
}

/* Let the caller own value v's gradient: its consumer accumulates into it
 * from now on, and the plan zeroes it (now, unless a backward just wrote
 * it, and in every nns_plan_zero_act_grads). */
static void plan_unwrite(nns_plan *p, int v) {
    p->ex[p->ow_node[v]].grad_overwrite &= ~(1u << p->ow_slot[v]);
    if (p->tv[v].grad && p->phase < 2)
        memset(p->tv[v].grad, 0, (size_t)nns_shape_numel(&p->tv[v].shape) * sizeof(float));
    p->unfused[p->n_unfused++] = v;
    p->ow_node[v] = p->ow_slot[v] = -1;
}

nns_tv *nns_plan_tv(nns_plan *p, int v) {
    if (p->fused_by && p->fused_by[v] >= 0) plan_unfuse(p, v);
    if (p->ow_node && p->ow_node[v] >= 0) plan_unwrite(p, v);
    return &p->tv[v];
}
nns_tv *nns_plan_input(nns_plan *p, int i) { return &p->tv[p->g->inputs[i]]; }
nns_tv *nns_plan_output(nns_plan *p, int i) { return &p->tv[p->g->outputs[i]]; }
void nns_plan_seed(nns_plan *p, uint64_t seed) { p->rng = seed; }
size_t nns_plan_bytes(const nns_plan *p) { return p->arena_bytes; }

void nns_plan_forward(nns_plan *p, int training_mode) {
    for (int i = 0; i < p->g->n_nodes; i++) {
        nns_exec_node *e = &p->ex[i];
        e->training = training_mode && p->training;
        if (!p->skip[i]) nns_op_table[e->node->op]->forward(e);
    }
    p->phase = 1;
}

void nns_plan_forward_timed(nns_plan *p, double *node_ms) {
    for (int i = 0; i < p->g->n_nodes; i++) {
        nns_exec_node *e = &p->ex[i];
        e->training = p->training;
        node_ms[i] = 0;
        if (p->skip[i]) continue;
        double t0 = nns_now_ms();
        nns_op_table[e->node->op]->forward(e);
        node_ms[i] = nns_now_ms() - t0;
    }
    p->phase = 1;
}

void nns_plan_backward_timed(nns_plan *p, double *node_ms) {
    for (int i = 0; i < p->g->n_nodes; i++) node_ms[i] = 0;
    if (!p->training) return;
    for (int i = p->g->n_nodes - 1; i >= 0; i--) {
        nns_exec_node *e = &p->ex[i];
        const nns_op_def *def = nns_op_table[e->node->op];
        if (!def->backward || p->skip[i]) continue;
        double t0 = nns_now_ms();
        def->backward(e);
        node_ms[i] = nns_now_ms() - t0;
    }
    p->phase = 2;
}

void nns_plan_zero_act_grads(nns_plan *p) {
    if (p->n_act_grads) memset(p->act_grads, 0, p->n_act_grads * sizeof(float));
    for (int k = 0; k < p->n_unfused; k++) {
        nns_tv *t = &p->tv[p->unfused[k]];
        if (t->grad) memset(t->grad, 0, (size_t)nns_shape_numel(&t->shape) * sizeof(float));
    }
}

void nns_plan_backward(nns_plan *p) {
    if (!p->training) return;
    for (int i = p->g->n_nodes - 1; i >= 0; i--) {
        nns_exec_node *e = &p->ex[i];
        const nns_op_def *def = nns_op_table[e->node->op];
        if (def->backward && !p->skip[i]) def->backward(e);
    }
    p->phase = 2;
}
