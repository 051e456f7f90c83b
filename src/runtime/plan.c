/* plan.c — binding a graph to memory for one maximum batch, and running it.
 *
 * Memory: one arena. Training plans give every activation its own buffer
 * (backward needs them all) plus a gradient buffer; inference plans share
 * buffers between activations whose lifetimes do not overlap (greedy
 * best-fit by last use). Op states (saved for backward) are per node; the
 * scratch workspace is one buffer sized for the largest node and shared.
 *
 * Inference plans pack once: ops with constant data to prepare (a Conv's
 * folded BatchNorm and Winograd filters, a sparse Gemm's CSR) make it when
 * the plan is built, in a buffer beside the arena, and again before a
 * forward when the graph's parameter generation moved (plan_repack).
 *
 * Training plans also:
 *  - give no gradient buffer (grad NULL) to activations that depend on no
 *    trainable parameter (e.g. Flatten of the input): nothing needs them,
 *    and ops skip the gradients of NULL-grad inputs (a GEMM less for the
 *    first layer of an MLP). Graph outputs always have one.
 *  - fuse BatchNormalization with a Relu / Clip that is the only consumer
 *    of its output (nns_exec_node.epi): one pass over memory instead
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
    int fused;             /* NNS_PLAN_INFER_FUSED */
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
    unsigned char *packed; /* inference: the nodes' packed constants (nns_op_def.pack) */
    size_t packed_bytes;
    uint64_t packed_gen;   /* g->param_gen when they were packed */
    const nns_plan *packs_from; /* a plan whose packed constants this one reads (nns_plan_create_sharing) */
};

static nns_status set_input_shapes(nns_plan *p, int64_t n) {
    nns_graph *g = p->g;
    for (int i = 0; i < g->n_inputs; i++) {
        nns_value *v = &g->values[g->inputs[i]];
        nns_shape s = v->shape;
        if (s.ndim < 1)
            return nns_error(NNS_STATUS_SHAPE, "graph input '%s' has rank 0", v->name);
        if (s.dims[0] > 0 && s.dims[0] != n && p->max_batch == n)
            return nns_error(NNS_STATUS_SHAPE, "graph input '%s' has a fixed batch of %lld, not %lld%s%s%s", v->name,
                             (long long)s.dims[0], (long long)n, g->batch_note ? " (it could not be made free: " : "",
                             g->batch_note ? g->batch_note : "", g->batch_note ? ")" : "");
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
        nns_dtype in_dt[NNS_MAX_NODE_IO], out_dt[NNS_MAX_NODE_IO];
        memset(out, 0, sizeof out);
        for (int j = 0; j < n->n_in; j++) {
            in[j] = n->in[j] >= 0 ? &p->tv[n->in[j]].shape : NULL;
            in_dt[j] = n->in[j] >= 0 ? p->tv[n->in[j]].dtype : NNS_DTYPE_UNDEFINED;
        }
        nns_status st = nns_op_infer(g, n, p->node_params[i], in, in_dt, out, out_dt);
        if (st) return st;
        for (int j = 0; j < n->n_out; j++) {
            p->tv[n->out[j]].shape = out[j];
            p->tv[n->out[j]].dtype = out_dt[j];
        }
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
    free(p->packed);
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

/* What the passes of nns_plan_create_with_kernels compute and hand on; freed
 * when the plan is built. Arrays are per value (nv) or per node (nn). */
typedef struct plan_build {
    int nv, nn, fold;
    size_t *state_sz;          /* per node: bytes of saved state           */
    size_t work_max, states;   /* largest scratch, all states              */
    int *last_use;             /* per value: last node reading it (nn: a graph output) */
    int *n_uses;               /* per value: readers (+1 for a graph output) */
    unsigned char *needs_grad; /* per value: depends on a trainable parameter */
    int *alias;                /* per value: shares this value's buffer (inference fold) */
    int *fold_bn, *fold_act;   /* per node: Conv -> folded BN / fused activation node, or -1 */
    int *fold_sig;             /* per node: a SiLU's Sigmoid (fold_act is its Mul), or -1 */
    int *fold_res, *res_val;   /* per node: Conv -> fused residual Add node, and its other operand, or -1 */
    int *sub_of;               /* per value: -1; a Concat output whose slice it is (-2: such a host) */
    size_t *sub_off;           /* per value with sub_of >= 0: its byte offset in the host */
    size_t *val_off, *grad_off;
    size_t act_bytes, grad_bytes, grad_zero_bytes;
} plan_build;

static void plan_build_free(plan_build *b) {
    free(b->state_sz);
    free(b->last_use);
    free(b->n_uses);
    free(b->needs_grad);
    free(b->alias);
    free(b->fold_bn);
    free(b->fold_act);
    free(b->fold_sig);
    free(b->fold_res);
    free(b->res_val);
    free(b->sub_of);
    free(b->sub_off);
    free(b->val_off);
    free(b->grad_off);
}

/* The plan and the build's arrays. */
static nns_status plan_alloc(nns_plan *p, plan_build *b) {
    const size_t nv = (size_t)(b->nv ? b->nv : 1), nn = (size_t)(b->nn ? b->nn : 1);
    p->tv = calloc(nv, sizeof(nns_tv));
    p->ex = calloc(nn, sizeof(nns_exec_node));
    p->node_params = calloc(nn, sizeof(void *));
    p->ow_node = malloc(nv * sizeof(int));
    p->ow_slot = malloc(nv * sizeof(int));
    p->skip = calloc(nn, 1);
    p->fused_by = malloc(nv * sizeof(int));
    p->fused_act = malloc(nv * sizeof(int));
    p->unfused = malloc(nv * sizeof(int));
    b->state_sz = calloc(nn, sizeof(size_t));
    b->val_off = calloc(nv, sizeof(size_t));
    b->grad_off = calloc(nv, sizeof(size_t));
    b->last_use = calloc(nv, sizeof(int));
    b->n_uses = calloc(nv, sizeof(int));
    b->needs_grad = calloc(nv, 1);
    b->alias = malloc(nv * sizeof(int));
    b->fold_bn = malloc(nn * sizeof(int));
    b->fold_act = malloc(nn * sizeof(int));
    b->fold_sig = malloc(nn * sizeof(int));
    b->fold_res = malloc(nn * sizeof(int));
    b->res_val = malloc(nn * sizeof(int));
    b->sub_of = malloc(nv * sizeof(int));
    b->sub_off = calloc(nv, sizeof(size_t));
    if (!p->tv || !p->ex || !p->node_params || !p->ow_node || !p->ow_slot || !p->skip || !p->fused_by ||
        !p->fused_act || !p->unfused || !b->state_sz || !b->val_off || !b->grad_off || !b->last_use || !b->n_uses ||
        !b->needs_grad || !b->alias || !b->fold_bn || !b->fold_act || !b->fold_sig || !b->fold_res || !b->res_val || !b->sub_of || !b->sub_off)
        return nns_error(NNS_STATUS_NOMEM, "out of memory creating a plan");
    for (int v = 0; v < b->nv; v++)
        b->alias[v] = b->sub_of[v] = p->fused_by[v] = p->fused_act[v] = p->ow_node[v] = p->ow_slot[v] = -1;
    for (int i = 0; i < b->nn; i++) b->fold_bn[i] = b->fold_act[i] = b->fold_sig[i] = b->fold_res[i] = b->res_val[i] = -1;
    return NNS_OK;
}

/* Parameters and constants bound where they are; each node's attributes
 * prepared; shapes inferred at max_batch. */
static nns_status plan_bind_graph(nns_plan *p, int64_t max_batch) {
    nns_graph *g = p->g;
    for (int v = 0; v < g->n_values; v++) {
        const nns_value *val = &g->values[v];
        p->tv[v].dtype = val->dtype;
        p->tv[v].shape = val->shape;
        if (val->data) p->tv[v].data = val->data;
        if (p->training && val->kind == NNS_VALUE_KIND_PARAM && val->trainable && val->param_offset >= 0)
            p->tv[v].grad = p->param_grads + val->param_offset;
    }
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_op_def *def = n->op >= 0 ? nns_op_table[n->op] : NULL;
        if (!def) return nns_error(NNS_STATUS_UNSUPPORTED, "unsupported op '%s' at node '%s'", n->op_type, n->name);
        p->node_params[i] = calloc(1, def->params_size ? def->params_size : 1);
        if (!p->node_params[i]) return nns_error(NNS_STATUS_NOMEM, "out of memory at node '%s'", n->name);
        nns_status st = nns_op_prepare(g, n, p->node_params[i]);
        if (st) return st;
    }
    nns_status st = set_input_shapes(p, max_batch);
    return st ? st : infer_all(p);
}

/* Analysis: each node's scratch and state bytes, each value's last use and
 * readers, which activations need a gradient; a node that must be trained
 * but has no backward is refused. */
static nns_status plan_analyse(nns_plan *p, plan_build *b) {
    const nns_graph *g = p->g;
    for (int i = 0; i < b->nn; i++) {
        const nns_node *n = &g->nodes[i];
        const nns_op_def *def = nns_op_table[n->op];
        const nns_shape *in[NNS_MAX_NODE_IO];
        nns_shape outs[NNS_MAX_NODE_IO];
        for (int j = 0; j < n->n_in; j++) in[j] = n->in[j] >= 0 ? &p->tv[n->in[j]].shape : NULL;
        for (int j = 0; j < n->n_out; j++) outs[j] = p->tv[n->out[j]].shape;
        size_t w = def->work_bytes ? def->work_bytes(p->node_params[i], in, outs, p->training) : 0;
        if (w > b->work_max) b->work_max = w;
        b->state_sz[i] = def->state_bytes ? align_up(def->state_bytes(p->node_params[i], in, outs, p->training)) : 0;
        b->states += b->state_sz[i];
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) b->last_use[n->in[j]] = i;
        for (int j = 0; p->training && !def->backward && j < n->n_in; j++) {
            const nns_value *x = n->in[j] >= 0 ? &g->values[n->in[j]] : NULL;
            if (x && (x->kind == NNS_VALUE_KIND_ACT || (x->kind == NNS_VALUE_KIND_PARAM && x->trainable)))
                return nns_error(NNS_STATUS_UNSUPPORTED, "node '%s': op '%s' cannot be trained (no backward)", n->name,
                                 n->op_type);
        }
    }
    for (int i = 0; i < g->n_outputs; i++) b->last_use[g->outputs[i]] = b->nn;
    /* nodes are in topological order: a value needs a gradient when an
     * input of its producer does; graph outputs always */
    for (int v = 0; v < b->nv; v++) {
        const nns_value *val = &g->values[v];
        b->needs_grad[v] = val->kind == NNS_VALUE_KIND_PARAM && val->trainable && val->param_offset >= 0;
    }
    for (int i = 0; i < b->nn; i++) {
        const nns_node *n = &g->nodes[i];
        int need = 0;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j] >= 0) {
                need |= b->needs_grad[n->in[j]];
                b->n_uses[n->in[j]]++;
            }
        for (int j = 0; j < n->n_out; j++) b->needs_grad[n->out[j]] = (unsigned char)need;
    }
    for (int i = 0; i < g->n_outputs; i++) {
        b->needs_grad[g->outputs[i]] = 1;
        b->n_uses[g->outputs[i]]++;
    }
    return NNS_OK;
}

/* Training fusion: BatchNormalization whose output's only use is input 0
 * of a Relu or Clip. */
static void plan_fuse_bn_act(nns_plan *p, const plan_build *b) {
    const nns_graph *g = p->g;
    for (int i = 0; p->training && i < b->nn; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_BATCHNORM || !b->state_sz[i]) continue;
        const int z = n->out[0];
        if (b->n_uses[z] != 1 || g->values[z].kind != NNS_VALUE_KIND_ACT) continue;
        for (int j = i + 1; j < b->nn; j++) {
            const nns_node *a = &g->nodes[j];
            int uses = 0;
            for (int k = 0; k < a->n_in; k++) uses += a->in[k] == z;
            if (!uses) continue;
            if (a->in[0] == z && a->n_out == 1 && nns_op_table[a->op]->clamp) {
                p->fused_by[z] = i;
                p->fused_act[z] = j;
            }
            break;
        }
    }
}

/* Input slot of node n is omitted or a parameter with data (constant in
 * an inference plan: what it packs from). */
static int const_param(const nns_graph *g, const nns_node *n, int slot) {
    const int v = slot < n->n_in ? n->in[slot] : -1;
    return v < 0 || (g->values[v].kind == NNS_VALUE_KIND_PARAM && g->values[v].data != NULL);
}

/* Activation node k (Relu / Clip, HardSwish) reads value z as its input 0:
 * fuse it into node i's epilogue (its output shares z's buffer); 1 if it
 * did. */
static int fold_act_of(const nns_graph *g, plan_build *b, int i, int z, int k) {
    const nns_node *a = &g->nodes[k];
    if (a->in[0] != z || a->n_out != 1 || g->values[a->out[0]].kind != NNS_VALUE_KIND_ACT ||
        (!nns_op_table[a->op]->clamp && a->op != NNS_OP_HARDSWISH))
        return 0;
    b->fold_act[i] = k;
    b->alias[a->out[0]] = g->nodes[i].out[0];
    return 1;
}

/* z * Sigmoid(z) (SiLU / Swish, as PyTorch exports it), z read by nothing
 * else and the Sigmoid's output only by the Mul: fuse both into node i's
 * epilogue; 1 if it did. */
static int fold_silu_of(const nns_graph *g, plan_build *b, int i, int z) {
    const int k = next_consumer(g, i, z), m = k >= 0 ? next_consumer(g, k, z) : -1;
    if (m < 0 || b->n_uses[z] != 2) return 0;
    const nns_node *sg = &g->nodes[k], *mul = &g->nodes[m];
    if (sg->op != NNS_OP_SIGMOID || sg->n_out != 1 || mul->op != NNS_OP_MUL || mul->n_in != 2 || mul->n_out != 1)
        return 0;
    const int s = sg->out[0];
    if (b->n_uses[s] != 1 || g->values[s].kind != NNS_VALUE_KIND_ACT ||
        g->values[mul->out[0]].kind != NNS_VALUE_KIND_ACT ||
        !((mul->in[0] == z && mul->in[1] == s) || (mul->in[0] == s && mul->in[1] == z)))
        return 0;
    b->fold_act[i] = m;
    b->fold_sig[i] = k;
    b->alias[s] = b->alias[mul->out[0]] = g->nodes[i].out[0]; /* s is never written */
    return 1;
}

/* The Conv whose output, with no activation after it, is value z (its
 * own, or that of the BatchNormalization folded into it), or -1. */
static int conv_making(const nns_graph *g, const plan_build *b, int z) {
    int i = g->values[z].producer;
    if (i >= 0 && g->nodes[i].op != NNS_OP_CONV) { /* a BN folded into the Conv that made its input */
        const int x = g->nodes[i].n_in > 0 ? g->nodes[i].in[0] : -1, j = x >= 0 ? g->values[x].producer : -1;
        i = j >= 0 && b->fold_bn[j] == i ? j : -1;
    }
    if (i < 0 || g->nodes[i].op != NNS_OP_CONV || b->fold_act[i] >= 0 || b->fold_sig[i] >= 0 || b->fold_res[i] >= 0)
        return -1;
    return i;
}

static int same_shape(const nns_shape *a, const nns_shape *c) {
    if (a->ndim != c->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->dims[d] != c->dims[d]) return 0;
    return 1;
}

/* Inference fold: Add node k of two float values of its output's shape,
 * one of them (z) a Conv's output without activation (conv_making), read
 * by nothing else, the other (s) ready before that Conv runs (made by an
 * earlier node, or a graph input). The Conv adds s as it writes its
 * output (nns_epilogue.res), takes the Add's Relu / Clip, and the Add is
 * skipped, its output sharing the Conv's buffer. Where both operands
 * qualify, the Conv that runs later takes it (torchvision's ResNets run
 * the shortcut's Conv after the block's second). */
static void fold_residual_of(nns_plan *p, plan_build *b, int k) {
    const nns_graph *g = p->g;
    const nns_node *n = &g->nodes[k];
    if (n->op != NNS_OP_ADD || n->n_in != 2 || n->n_out != 1 || n->in[0] < 0 || n->in[1] < 0 ||
        n->in[0] == n->in[1] || g->values[n->out[0]].kind != NNS_VALUE_KIND_ACT || b->last_use[n->out[0]] == b->nn)
        return;
    int best = -1, bq = 0;
    for (int q = 0; q < 2; q++) {
        const int z = n->in[q], s = n->in[1 - q], i = conv_making(g, b, z);
        const nns_value *sv = &g->values[s];
        if (i < 0 || b->n_uses[z] != 1 || sv->dtype != NNS_DTYPE_F32 ||
            (sv->kind != NNS_VALUE_KIND_ACT && sv->kind != NNS_VALUE_KIND_INPUT) || sv->producer >= i ||
            !same_shape(&p->tv[z].shape, &p->tv[s].shape) || !same_shape(&p->tv[z].shape, &p->tv[n->out[0]].shape))
            continue;
        if (i > best) {
            best = i;
            bq = q;
        }
    }
    if (best < 0) return;
    b->fold_res[best] = k;
    b->res_val[best] = n->in[1 - bq];
    int root = n->in[bq]; /* every alias names its chain's root (a folded BN's output names its Conv's) */
    while (b->alias[root] >= 0) root = b->alias[root];
    b->alias[n->out[0]] = root;
    for (int v = 0; v < b->nv; v++) /* the Add's fused Relu / Clip */
        if (b->alias[v] == n->out[0]) b->alias[v] = root;
    b->fold_act[best] = b->fold_act[k]; /* the Add's Relu / Clip, or none */
    b->fold_act[k] = -1;
}

/* Inference fold (NNS_PLAN_INFER_FUSED): Conv with constant weights ->
 * BatchNormalization with constant statistics [-> Relu / Clip], or Conv ->
 * Relu / Clip (a model whose BatchNormalization was folded on export or by
 * quantization), each value used only by the next node of the chain and not
 * a graph output; the values share the Conv output's buffer, which lives
 * until the chain's last value dies. Also an Add or a Gemm -> Relu / Clip
 * (the op applies the clamp to its output). */
static void plan_fold_conv_bn(nns_plan *p, plan_build *b) {
    const nns_graph *g = p->g;
    for (int i = 0; b->fold && i < b->nn; i++) {
        const nns_node *n = &g->nodes[i];
        if ((n->op == NNS_OP_ADD || n->op == NNS_OP_GEMM) && n->n_out == 1 && b->n_uses[n->out[0]] == 1 &&
            g->values[n->out[0]].kind == NNS_VALUE_KIND_ACT) { /* a residual Add or a Gemm -> Relu / Clip */
            const int k = next_consumer(g, i, n->out[0]);
            if (k >= 0 && nns_op_table[g->nodes[k].op]->clamp) fold_act_of(g, b, i, n->out[0], k);
            continue;
        }
        if (n->op != NNS_OP_CONV || n->n_out != 1 || !const_param(g, n, 1) || !const_param(g, n, 2)) continue;
        const int z = n->out[0];
        if (g->values[z].kind != NNS_VALUE_KIND_ACT || fold_silu_of(g, b, i, z) || b->n_uses[z] != 1) continue;
        int j = next_consumer(g, i, z);
        if (j < 0 || fold_act_of(g, b, i, z, j)) continue;
        const nns_node *bn = &g->nodes[j];
        if (!nns_op_table[bn->op]->affine || bn->in[0] != z || bn->n_out != 1 || bn->n_in != 5) continue;
        int const_stats = 1;
        for (int k = 1; k < 5; k++)
            const_stats &= bn->in[k] >= 0 && g->values[bn->in[k]].kind == NNS_VALUE_KIND_PARAM &&
                           g->values[bn->in[k]].data != NULL;
        if (!const_stats) continue;
        b->fold_bn[i] = j;
        const int z2 = bn->out[0];
        b->alias[z2] = z;
        if (g->values[z2].kind != NNS_VALUE_KIND_ACT || fold_silu_of(g, b, i, z2) || b->n_uses[z2] != 1) continue;
        const int k = next_consumer(g, j, z2);
        if (k >= 0) fold_act_of(g, b, i, z2, k);
    }
    for (int k = 0; b->fold && k < b->nn; k++) fold_residual_of(p, b, k);
    for (int v = 0; v < b->nv; v++)
        if (b->alias[v] >= 0 && b->last_use[v] > b->last_use[b->alias[v]]) b->last_use[b->alias[v]] = b->last_use[v];
}

/* The value whose buffer v shares (the end of its alias chain). */
static int alias_root(const plan_build *b, int v) {
    while (b->alias[v] >= 0) v = b->alias[v];
    return v;
}

/* Input k of Concat node n (its root r, its bytes at byte offset off of
 * the output) can be written in place: a float activation with its own
 * buffer, not a graph output, in no other Concat and no Concat's host, at
 * an aligned offset and a whole number of aligned blocks long (but the
 * last), so that what its producer writes is exactly its slice. */
static int concat_slot_ok(const nns_plan *p, const plan_build *b, const nns_node *n, int k, int r, size_t off,
                          size_t bytes) {
    const nns_graph *g = p->g;
    return g->values[n->in[k]].kind == NNS_VALUE_KIND_ACT && g->values[r].kind == NNS_VALUE_KIND_ACT &&
           p->tv[r].dtype == NNS_DTYPE_F32 && b->sub_of[r] == -1 && b->last_use[r] < b->nn && off % NNS_ALIGN == 0 &&
           (bytes % NNS_ALIGN == 0 || k == n->n_in - 1);
}

/* Inference fold at a maximum batch of 1 (shapes never change): a float
 * Concat whose rows are whole (every dim before the axis 1) gets its inputs
 * written in place where concat_slot_ok: each such input's buffer is its
 * slice of the output, the Concat copies only the others (concat.c skips
 * an input already in place) and does not run when none is left. The
 * output's buffer then lives from its first such input's producer to the
 * last use of it or of any of them. */
static void plan_concat_in_place(nns_plan *p, plan_build *b) {
    const nns_graph *g = p->g;
    for (int i = 0; b->fold && p->max_batch == 1 && i < b->nn; i++) {
        const nns_node *n = &g->nodes[i];
        if (n->op != NNS_OP_CONCAT || n->n_out != 1) continue;
        const int y = n->out[0];
        const nns_shape *ys = &p->tv[y].shape;
        int64_t outer = 1, axis = nns_node_attr_int(n, "axis", 0);
        if (axis < 0) axis += ys->ndim;
        for (int d = 0; d < axis && d < ys->ndim; d++) outer *= ys->dims[d];
        if (outer != 1 || g->values[y].kind != NNS_VALUE_KIND_ACT || p->tv[y].dtype != NNS_DTYPE_F32 ||
            b->alias[y] >= 0 || b->sub_of[y] != -1)
            continue;
        size_t off = 0;
        int copied = 0;
        for (int k = 0; k < n->n_in; k++) {
            const int r = alias_root(b, n->in[k]);
            const size_t bytes = (size_t)nns_shape_numel(&p->tv[n->in[k]].shape) * sizeof(float);
            if (concat_slot_ok(p, b, n, k, r, off, bytes)) {
                b->sub_of[r] = y;
                b->sub_off[r] = off;
                b->sub_of[y] = -2;
                if (b->last_use[r] > b->last_use[y]) b->last_use[y] = b->last_use[r];
            } else {
                copied++;
            }
            off += bytes;
        }
        if (!copied) p->skip[i] = 1;
    }
}

/* Gradients written, not accumulated: an activation used once, by an op
 * that can write that slot's gradient (and not hidden by a fusion). */
static void plan_grad_overwrite(nns_plan *p, const plan_build *b) {
    const nns_graph *g = p->g;
    for (int i = 0; p->training && i < b->nn; i++) {
        const nns_node *n = &g->nodes[i];
        const unsigned ok = nns_op_table[n->op]->grad_overwrite_inputs;
        for (int j = 0; j < n->n_in && j < 32; j++) {
            const int v = n->in[j];
            if (v >= 0 && (ok >> j & 1u) && b->n_uses[v] == 1 && b->needs_grad[v] &&
                g->values[v].kind == NNS_VALUE_KIND_ACT && p->fused_by[v] < 0) {
                p->ow_node[v] = i;
                p->ow_slot[v] = j;
            }
        }
    }
}

/* Bytes of value v's buffer at the plan's batch (the dtype's size). */
static size_t value_bytes(const nns_plan *p, int v) {
    size_t es = nns_dtype_size(p->tv[v].dtype);
    return align_up((size_t)nns_shape_numel(&p->tv[v].shape) * (es ? es : sizeof(float)));
}

/* Memory for training: every activation its own buffer; the gradients to
 * zero each step first, then those hidden by a fusion, then the written. */
static void plan_memory_training(nns_plan *p, plan_build *b) {
    const nns_graph *g = p->g;
    for (int pass = 0; pass < 3; pass++)
        for (int v = 0; v < b->nv; v++) {
            const nns_value *val = &g->values[v];
            if (val->kind != NNS_VALUE_KIND_ACT && val->kind != NNS_VALUE_KIND_INPUT) continue;
            const size_t sz = value_bytes(p, v);
            if (pass == 0) {
                b->val_off[v] = b->act_bytes;
                b->act_bytes += sz;
            }
            const int grp = p->ow_node[v] >= 0 ? 2 : p->fused_by[v] >= 0 ? 1 : 0;
            if (val->kind == NNS_VALUE_KIND_ACT && b->needs_grad[v] && grp == pass) {
                b->grad_off[v] = b->grad_bytes;
                b->grad_bytes += sz;
                if (grp == 0) b->grad_zero_bytes += sz;
            }
        }
}

/* The inference arena's buffers so far: sizes, offsets, the last step
 * that uses each. */
typedef struct mem_bufs {
    int n;
    size_t *size, *off;
    int *free_after;
} mem_bufs;

/* A buffer of `need` bytes free at `step` (the smallest that fits, or a new
 * one), held until step lu; its offset. */
static size_t take_buffer(mem_bufs *m, plan_build *b, size_t need, int step, int lu) {
    int best = -1;
    for (int k = 0; k < m->n; k++)
        if (m->free_after[k] < step && m->size[k] >= need && (best < 0 || m->size[k] < m->size[best])) best = k;
    if (best < 0) {
        best = m->n++;
        m->size[best] = need;
        m->off[best] = b->act_bytes;
        b->act_bytes += need;
    }
    m->free_after[best] = lu;
    return m->off[best];
}

/* Value v, made at `step` (-1: a graph input), gets its offset: its alias
 * root's, its slice of a Concat's host (placed now if it is not yet), or a
 * buffer of its own. */
static void place_value(nns_plan *p, plan_build *b, mem_bufs *m, unsigned char *placed, int v, int step) {
    if (placed[v]) return;
    placed[v] = 1;
    if (b->alias[v] >= 0) {
        b->val_off[v] = b->val_off[b->alias[v]];
    } else if (b->sub_of[v] >= 0) {
        place_value(p, b, m, placed, b->sub_of[v], step);
        b->val_off[v] = b->val_off[b->sub_of[v]] + b->sub_off[v];
    } else {
        const int lu = step < 0 ? b->nn + 1 : (b->last_use[v] > step ? b->last_use[v] : step);
        b->val_off[v] = take_buffer(m, b, value_bytes(p, v), step, lu);
    }
}

/* Memory for inference: greedy best-fit reuse by lifetime; inputs first
 * (they live throughout), then node outputs in order. */
static nns_status plan_memory_inference(nns_plan *p, plan_build *b) {
    const nns_graph *g = p->g;
    const size_t nb = (size_t)(b->nv + 1);
    mem_bufs m = {0, calloc(nb, sizeof(size_t)), calloc(nb, sizeof(size_t)), calloc(nb, sizeof(int))};
    unsigned char *placed = calloc(nb, 1);
    nns_status st = NNS_OK;
    if (!m.size || !m.off || !m.free_after || !placed)
        st = nns_error(NNS_STATUS_NOMEM, "out of memory planning memory");
    for (int step = -1; !st && step < b->nn; step++) {
        const int outs_n = step < 0 ? g->n_inputs : g->nodes[step].n_out;
        for (int j = 0; j < outs_n; j++)
            place_value(p, b, &m, placed, step < 0 ? g->inputs[j] : g->nodes[step].out[j], step);
    }
    free(m.size);
    free(m.off);
    free(m.free_after);
    free(placed);
    return st;
}

/* The arena, within NNS_MAX_MEMORY, and every activation, gradient, state
 * and the scratch bound into it. */
static nns_status plan_bind_memory(nns_plan *p, const plan_build *b) {
    const nns_graph *g = p->g;
    const size_t total = b->act_bytes + b->grad_bytes + b->states + align_up(b->work_max);
    nns_status st = check_plan_bytes(p->max_batch, b->act_bytes, b->grad_bytes, b->states, b->work_max);
    if (st) return st;
    p->arena = aligned_alloc(NNS_ALIGN, total ? total : NNS_ALIGN);
    if (!p->arena)
        return nns_error(NNS_STATUS_NOMEM, "out of memory: a plan for batch %lld needs %zu bytes",
                         (long long)p->max_batch, total);
    memset(p->arena, 0, total ? total : NNS_ALIGN);
    p->arena_bytes = total;
    p->act_grads = (float *)(p->arena + b->act_bytes);
    p->n_act_grads = b->grad_zero_bytes / sizeof(float);
    for (int v = 0; v < b->nv; v++) {
        const nns_value *val = &g->values[v];
        if (val->kind != NNS_VALUE_KIND_ACT && val->kind != NNS_VALUE_KIND_INPUT) continue;
        p->tv[v].data = p->arena + b->val_off[v];
        if (p->training && val->kind == NNS_VALUE_KIND_ACT && b->needs_grad[v])
            p->tv[v].grad = (float *)(p->arena + b->act_bytes + b->grad_off[v]);
    }
    unsigned char *sp = p->arena + b->act_bytes + b->grad_bytes;
    void *work = sp + b->states;
    for (int i = 0; i < b->nn; i++) {
        const nns_node *n = &g->nodes[i];
        nns_exec_node *e = &p->ex[i];
        e->g = p->g;
        e->node = n;
        e->n_in = n->n_in;
        e->n_out = n->n_out;
        for (int j = 0; j < n->n_in; j++) e->in[j] = n->in[j] >= 0 ? &p->tv[n->in[j]] : NULL;
        for (int j = 0; j < n->n_out; j++) e->out[j] = &p->tv[n->out[j]];
        e->params = p->node_params[i];
        e->state = b->state_sz[i] ? sp : NULL;
        sp += b->state_sz[i];
        e->work = work;
        e->training = p->training;
        e->rng = &p->rng;
        e->kern = p->kern;
    }
    return NNS_OK;
}

/* An exec node's epilogue clamp: the activation node a (Relu, Clip; or a
 * HardSwish, or a SiLU's Mul), skipped. */
static void set_fused_act(nns_plan *p, nns_exec_node *e, int a) {
    const int op = p->g->nodes[a].op;
    if (op == NNS_OP_HARDSWISH || op == NNS_OP_MUL)
        e->epi.act = op == NNS_OP_MUL ? NNS_FUSE_ACT_SILU : NNS_FUSE_ACT_HARDSWISH;
    else
        nns_op_table[op]->clamp(p->node_params[a], &e->epi);
    p->skip[a] = 1;
}

/* The fusions into the exec nodes: BN+activation (training), written
 * gradients, Conv+BN[+activation] (inference fold). */
static void plan_bind_fusions(nns_plan *p, const plan_build *b) {
    for (int v = 0; v < b->nv; v++) {
        if (p->fused_by[v] < 0) continue;
        nns_exec_node *e = &p->ex[p->fused_by[v]];
        set_fused_act(p, e, p->fused_act[v]);
        e->epi.out = &p->tv[p->g->nodes[p->fused_act[v]].out[0]];
    }
    for (int v = 0; v < b->nv; v++)
        if (p->ow_node[v] >= 0) p->ex[p->ow_node[v]].grad_overwrite |= 1u << p->ow_slot[v];
    for (int i = 0; i < b->nn; i++) {
        nns_exec_node *e = &p->ex[i];
        if (b->fold_bn[i] >= 0) {
            e->epi.affine = &p->ex[b->fold_bn[i]];
            p->skip[b->fold_bn[i]] = 1;
        }
        if (b->fold_act[i] >= 0) set_fused_act(p, e, b->fold_act[i]);
        if (b->fold_sig[i] >= 0) p->skip[b->fold_sig[i]] = 1;
        if (b->fold_res[i] >= 0) {
            e->epi.res = &p->tv[b->res_val[i]];
            p->skip[b->fold_res[i]] = 1;
        }
    }
}

/* Pack every running node's constants again (they were made from
 * parameters that changed since, or never). */
static void plan_repack(nns_plan *p) {
    for (int i = 0; i < p->g->n_nodes; i++) {
        nns_exec_node *e = &p->ex[i];
        const nns_op_def *def = nns_op_table[e->node->op];
        if (e->packed) def->pack(e, (void *)e->packed);
    }
    p->packed_gen = p->g->param_gen;
}

/* Point p's nodes at the packs of p->packs_from when that plan laid out
 * the same bytes at the same offsets (the same graph, batch and kernels
 * do): 1 if so, else 0 (p packs its own). */
static int plan_share_packs(nns_plan *p, const size_t *off, size_t total) {
    const nns_plan *src = p->packs_from;
    if (src->g != p->g || total != src->packed_bytes) return 0;
    for (int i = 0; i < p->g->n_nodes; i++) {
        const unsigned char *at = src->ex[i].packed;
        if (off[i] == SIZE_MAX ? at != NULL : (!at || (size_t)(at - src->packed) != off[i])) return 0;
    }
    for (int i = 0; i < p->g->n_nodes; i++)
        if (off[i] != SIZE_MAX) p->ex[i].packed = src->packed + off[i];
    return 1;
}

/* Inference plans: one buffer for the nodes' packed constants (within
 * NNS_MAX_MEMORY with the arena), then pack them. */
static nns_status plan_pack(nns_plan *p) {
    const nns_graph *g = p->g;
    size_t total = 0, *off = calloc((size_t)(g->n_nodes ? g->n_nodes : 1), sizeof(size_t));
    if (!off) return nns_error(NNS_STATUS_NOMEM, "out of memory creating a plan");
    for (int i = 0; i < g->n_nodes; i++) {
        const nns_op_def *def = nns_op_table[g->nodes[i].op];
        off[i] = SIZE_MAX;
        if (p->training || p->skip[i] || !def->pack || !def->packed_bytes) continue;
        const size_t b = def->packed_bytes(&p->ex[i]);
        if (!b) continue;
        off[i] = total;
        if (nns_ck_add_size(total, align_up(b), &total)) total = SIZE_MAX;
    }
    if (p->packs_from && plan_share_packs(p, off, total)) {
        free(off);
        return NNS_OK;
    }
    size_t all;
    nns_status st = NNS_OK;
    if (nns_ck_add_size(total, p->arena_bytes, &all) || all > nns_limit_memory())
        st = nns_error(NNS_STATUS_LIMIT, "a plan for batch %lld needs %.1f MiB of packed weights beside %.1f MiB, "
                       "over the %.1f MiB limit (NNS_MAX_MEMORY)", (long long)p->max_batch, (double)total / 1048576.0,
                       (double)p->arena_bytes / 1048576.0, (double)nns_limit_memory() / 1048576.0);
    else if (total && !(p->packed = aligned_alloc(NNS_ALIGN, total)))
        st = nns_error(NNS_STATUS_NOMEM, "out of memory: %zu bytes of packed weights", total);
    if (!st && total) {
        memset(p->packed, 0, total);
        p->packed_bytes = total;
        for (int i = 0; i < g->n_nodes; i++)
            if (off[i] != SIZE_MAX) p->ex[i].packed = p->packed + off[i];
        plan_repack(p);
    }
    free(off);
    return st;
}

/* A plan is built in passes: bind the graph (attributes, shapes), analyse
 * (sizes, uses, gradients), fuse, plan memory, bind memory and fusions,
 * pack constants. */
static nns_status plan_create(nns_graph *g, int64_t max_batch, int training, float *param_grads,
                              const nns_kernels *kern, const nns_plan *packs_from, nns_plan **out) {
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
    p->packs_from = packs_from;
    p->fused = fold;
    plan_build b;
    memset(&b, 0, sizeof b);
    b.nv = g->n_values;
    b.nn = g->n_nodes;
    b.fold = fold;
    nns_status st = plan_alloc(p, &b);
    if (!st) st = plan_bind_graph(p, max_batch);
    if (!st) st = plan_analyse(p, &b);
    if (!st) {
        plan_fuse_bn_act(p, &b);
        plan_fold_conv_bn(p, &b);
        plan_concat_in_place(p, &b);
        plan_grad_overwrite(p, &b);
        if (training) plan_memory_training(p, &b);
        else st = plan_memory_inference(p, &b);
    }
    if (!st) st = plan_bind_memory(p, &b);
    if (!st) plan_bind_fusions(p, &b);
    if (!st) st = plan_pack(p);
    plan_build_free(&b);
    if (st) {
        nns_plan_free(p);
        return st;
    }
    *out = p;
    return NNS_OK;
}

nns_status nns_plan_create_with_kernels(nns_graph *g, int64_t max_batch, int training,
                                        float *param_grads, const nns_kernels *kern, nns_plan **out) {
    return plan_create(g, max_batch, training, param_grads, kern, NULL, out);
}

nns_status nns_plan_create_sharing(const nns_plan *src, nns_plan **out) {
    if (src->training || !src->fused || src->packs_from) {
        *out = NULL;
        return nns_error(NNS_STATUS_INVALID_ARG, "a plan shares the packs of a fused inference plan that owns them");
    }
    return plan_create(src->g, src->max_batch, NNS_PLAN_INFER_FUSED, NULL, src->kern, src, out);
}

void nns_plan_refresh_packs(nns_plan *p) {
    if (p->packed && p->packed_gen != p->g->param_gen) plan_repack(p);
}

/* A residual fused at the plan's batch (fold_residual_of) still has its
 * Conv's output shape at this one. */
static nns_status check_residuals(const nns_plan *p, int64_t n) {
    for (int i = 0; i < p->g->n_nodes; i++) {
        const nns_exec_node *e = &p->ex[i];
        if (e->epi.res && !same_shape(&e->epi.res->shape, &e->out[0]->shape))
            return nns_error(NNS_STATUS_UNSUPPORTED,
                             "node '%s': the Add fused into it has operands of two shapes at batch %lld; make the "
                             "plan at that batch",
                             e->node->name, (long long)n);
    }
    return NNS_OK;
}

nns_status nns_plan_set_batch(nns_plan *p, int64_t n) {
    if (n < 1 || n > p->max_batch)
        return nns_error(NNS_STATUS_INVALID_ARG, "batch %lld is outside the plan's 1..%lld", (long long)n, (long long)p->max_batch);
    if (n == p->batch) return NNS_OK;
    nns_status st = set_input_shapes(p, n);
    if (!st) st = infer_all(p);
    if (!st) st = check_residuals(p, n);
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
    e->epi.act = NNS_FUSE_ACT_NONE;
    e->epi.out = NULL;
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

nns_status nns_plan_check_f32_io(nns_plan *p, const char *who) {
    const int v[2] = {p->g->inputs[0], p->g->outputs[0]};
    for (int i = 0; i < 2; i++)
        if (p->tv[v[i]].dtype != NNS_DTYPE_F32)
            return nns_error(NNS_STATUS_UNSUPPORTED, "model %s '%s' is %s: %s reads and writes float32",
                             i ? "output" : "input", p->g->values[v[i]].name, nns_dtype_name(p->tv[v[i]].dtype), who);
    return NNS_OK;
}
void nns_plan_seed(nns_plan *p, uint64_t seed) { p->rng = seed; }
size_t nns_plan_bytes(const nns_plan *p) { return p->arena_bytes + p->packed_bytes; }
size_t nns_plan_arena_bytes(const nns_plan *p) { return p->arena_bytes; }

void nns_plan_forward_observed(nns_plan *p, int training_mode, nns_plan_observer_fn fn, void *user) {
    nns_plan_refresh_packs(p);
    /* a training forward updates BatchNorm's running statistics */
    if (training_mode && p->training) nns_graph_params_changed(p->g);
    for (int i = 0; i < p->g->n_nodes; i++) {
        nns_exec_node *e = &p->ex[i];
        e->training = training_mode && p->training;
        if (p->skip[i]) continue;
        if (fn) fn(user, p, i, 0);
        nns_op_table[e->node->op]->forward(e);
        if (fn) fn(user, p, i, 1);
    }
    p->phase = 1;
}

void nns_plan_forward(nns_plan *p, int training_mode) { nns_plan_forward_observed(p, training_mode, NULL, NULL); }

void nns_plan_backward_observed(nns_plan *p, nns_plan_observer_fn fn, void *user) {
    if (!p->training) return;
    for (int i = p->g->n_nodes - 1; i >= 0; i--) {
        nns_exec_node *e = &p->ex[i];
        const nns_op_def *def = nns_op_table[e->node->op];
        if (!def->backward || p->skip[i]) continue;
        if (fn) fn(user, p, i, 0);
        def->backward(e);
        if (fn) fn(user, p, i, 1);
    }
    p->phase = 2;
}

void nns_plan_backward(nns_plan *p) { nns_plan_backward_observed(p, NULL, NULL); }

int nns_plan_node_runs(const nns_plan *p, int i) { return !p->skip[i]; }

const char *nns_plan_node_kernel(const nns_plan *p, int i) {
    if (i < 0 || i >= p->g->n_nodes) return NULL;
    const nns_op_def *d = nns_op_table[p->g->nodes[i].op];
    return d->kernel_name ? d->kernel_name(&p->ex[i]) : NULL;
}

/* The timing observer: node_ms[i] = wall time of node i (0 if it did not run). */
static void time_node(void *user, nns_plan *p, int i, int after) {
    double *node_ms = user;
    (void)p;
    if (!after) node_ms[i] = nns_now_ms();
    else node_ms[i] = nns_now_ms() - node_ms[i];
}

void nns_plan_forward_timed(nns_plan *p, double *node_ms) {
    for (int i = 0; i < p->g->n_nodes; i++) node_ms[i] = 0;
    nns_plan_forward_observed(p, 1, time_node, node_ms);
}

void nns_plan_backward_timed(nns_plan *p, double *node_ms) {
    for (int i = 0; i < p->g->n_nodes; i++) node_ms[i] = 0;
    nns_plan_backward_observed(p, time_node, node_ms);
}

void nns_plan_zero_act_grads(nns_plan *p) {
    if (p->n_act_grads) memset(p->act_grads, 0, p->n_act_grads * sizeof(float));
    for (int k = 0; k < p->n_unfused; k++) {
        nns_tv *t = &p->tv[p->unfused[k]];
        if (t->grad) memset(t->grad, 0, (size_t)nns_shape_numel(&t->shape) * sizeof(float));
    }
}
