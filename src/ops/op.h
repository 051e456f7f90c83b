/*
 * op.h — the op table. One file per op (src/ops/<name>.c) holds its shape
 * inference, forward and backward, and exports one nns_op_def registered by
 * enum in ops_table.c (a static_assert checks the table's size).
 *
 * Execution model: a plan (src/runtime/plan.c) binds every value to a runtime
 * tensor view (nns_tv) for one concrete input shape, then calls
 *   prepare  once per node (parse attributes into the op's params struct),
 *   infer    once per node (output shapes),
 *   pack     once per inference plan (constants made from constant inputs:
 *            folded, transformed or sparse weights; again if the graph's
 *            parameters change),
 *   forward  every step,
 *   backward every training step, in reverse order.
 * Backward ACCUMULATES (+=) into in[i]->grad where that pointer is non-NULL
 * (or writes it, when the plan says so: nns_exec_node.grad_overwrite);
 * a NULL grad means no gradient is needed for that input. Ops never allocate
 * in forward/backward: scratch comes from e->work (work_bytes) and saved state
 * from e->state (state_bytes), both sized at plan time.
 */
#ifndef NNS_OP_H
#define NNS_OP_H

#include <assert.h>
#include <stdint.h>
#include "core/graph_impl.h"
#include "core/op_id.h"

/* enum nns_op (the op ids) and nns_op_lookup: core/op_id.h. */

/* A runtime tensor view: its dtype (the value's, from shape inference) and
 * an untyped data pointer. Ops and kernels read and write data through the
 * typed accessors below (nns_tv_f32, nns_tv_cf32), which check the dtype in
 * debug builds and compile to the bare pointer in release builds (NDEBUG).
 * Constants such as Reshape's shape are s64: read them through the graph.
 *
 * grad stays float *: a gradient exists only for float values (training
 * and, next, quantization-aware training with float fake-quantization run
 * in f32; an integer or bool value never has one), so a typed pointer is
 * both true and what every backward wants; void * would only add casts. */
typedef struct nns_tv {
    void *data;
    float *grad;      /* NULL: no gradient wanted */
    nns_shape shape;
    nns_dtype dtype;
} nns_tv;

/* t's data as float32 (t->dtype must be NNS_DTYPE_F32: asserted in debug
 * builds, nothing in release builds). */
static inline float *nns_tv_f32(const nns_tv *t) {
    assert(t->dtype == NNS_DTYPE_F32 && "nns_tv_f32: tensor view is not f32");
    return (float *)t->data;
}
static inline const float *nns_tv_cf32(const nns_tv *t) {
    assert(t->dtype == NNS_DTYPE_F32 && "nns_tv_cf32: tensor view is not f32");
    return (const float *)t->data;
}

/* NNS_MAX_NODE_IO (inputs or outputs of a node): core/graph_impl.h. */

struct nns_kernels; /* src/kernels/kernels.h */

typedef struct nns_exec_node {
    const nns_graph *g;
    const nns_node *node;
    int n_in, n_out;
    nns_tv *in[NNS_MAX_NODE_IO];  /* NULL for an omitted optional input */
    nns_tv *out[NNS_MAX_NODE_IO];
    void *params;     /* op's parsed attributes (params_size bytes)          */
    void *state;      /* saved for backward (state_bytes), persists per step */
    void *work;       /* scratch (work_bytes), shared between nodes          */
    int training;     /* 1: training mode (BN batch stats, dropout active)   */
    uint64_t *rng;    /* plan's random state (dropout)                        */
    /* The plan's kernel table (src/kernels/kernels.h), pinned when the plan
     * was created: ops call kernels through it, never nns_kernels_get(). */
    const struct nns_kernels *kern;
    /* What the node applies to its output as it writes it (fusion; filled
     * by the plan, src/runtime/plan.c): see nns_epilogue. */
    struct nns_epilogue {
        /* Inference plans made with NNS_PLAN_INFER_FUSED: a Conv whose only
         * consumer is a BatchNormalization with constant statistics applies
         * that node's per-channel scale and shift (its op's affine); the
         * Conv's, the BN's and the activation's outputs share one buffer and
         * the BN and activation nodes are skipped. NULL: none. */
        const struct nns_exec_node *affine;
        /* Then this clamp (nns_fuse_act; lo, hi for Clip), from the Relu /
         * Clip node that is the only consumer (its op's clamp). */
        int act;
        float lo, hi;
        /* Training plans: a BatchNormalization that applies a clamp writes
         * the activated result here (the activation node's output) and does
         * not write its own output 0 (nns_batchnorm_materialize fills it on
         * demand); its backward reads out->grad. Bit-identical to the
         * unfused pair. NULL: output 0. */
        nns_tv *out;
        /* Inference plans made with NNS_PLAN_INFER_FUSED: a Conv whose
         * output (after a folded BN, with no activation) only an Add
         * reads, of two operands of one shape, adds this, the Add's other
         * operand, before the clamp (then the Add's Relu / Clip); the Add
         * is skipped and its output shares the Conv's buffer. NULL: none. */
        const nns_tv *res;
        /* Later: requantization of an int8 output. */
    } epi;
    /* Constant data made from the node's constant inputs when the plan was
     * built (nns_op_def.pack): NULL if none. Read-only in forward. */
    const void *packed;
    /* Bit i set: this node is the only consumer of input i, whose gradient
     * buffer the plan did NOT zero: backward must WRITE (=) all of
     * in[i]->grad instead of accumulating. Only set for the slots in the
     * op's grad_overwrite_inputs. */
    unsigned grad_overwrite;
} nns_exec_node;

typedef struct nns_epilogue nns_epilogue;

typedef enum nns_fuse_act {
    NNS_FUSE_ACT_NONE = 0,
    NNS_FUSE_ACT_RELU,   /* y = x > 0 ? x : 0; dx = x > 0 ? dy : 0            */
    NNS_FUSE_ACT_CLIP,   /* y = min(max(x, lo), hi); dx = lo <= x <= hi ? dy : 0 */
    /* Inference only, and only a Conv applies these (after its kernels, on
     * the rows they wrote; nns_fuse_post_apply): */
    NNS_FUSE_ACT_SILU,     /* y = x * sigmoid(x): a Sigmoid and a Mul           */
    NNS_FUSE_ACT_HARDSWISH /* y = x * clamp(x / 6 + 1/2, 0, 1)                   */
} nns_fuse_act;

/* How an op maps its input channels (dim 1 of an NCHW or [N, F] tensor) to
 * its output channels: what structured pruning's dependency graph follows
 * (src/prune/depgraph.c) and what per-channel quantization will follow. */
typedef enum nns_op_chan {
    NNS_OP_CHAN_OPAQUE = 0, /* not followed: the channels stop here (Reshape, ...) */
    NNS_OP_CHAN_PASS,       /* every output has input 0's channels (unary
                             * elementwise ops, pools, Dropout, Identity)      */
    NNS_OP_CHAN_PERCHANNEL, /* input 0's channels pass through, and every other
                             * input is one parameter per channel
                             * (BatchNormalization's scale, bias, mean, var)   */
    NNS_OP_CHAN_BROADCAST,  /* the operands' channels are the output's, position
                             * by position (Add, Sub, Mul, Div)                */
    NNS_OP_CHAN_CONCAT,     /* joined along the op's axis (Concat)             */
    NNS_OP_CHAN_FLATTEN,    /* each channel becomes H*W features (Flatten)    */
    NNS_OP_CHAN_CONV,       /* new output channels from W [O, C/group, k...];
                             * a depthwise Conv passes them through            */
    NNS_OP_CHAN_DENSE       /* new output features from a 2-D weight (Gemm,
                             * MatMul)                                          */
} nns_op_chan;

/* The layout of a weight that an op contracts with its data input: the axis
 * of output channels and the (contiguous) range of reduction axes; axes
 * before both are a batch of matrices (MatMul). */
typedef struct nns_weight_axes {
    /* Output channels: the per-channel quantization scale axis, the axis
     * structured pruning removes, the axis of the bias. -1: none (a 1-D
     * MatMul operand is a single reduction row). */
    int out_axis;
    /* Reduction (fan-in) axes red_first..red_last: the elements one output
     * channel sums over (Conv: C/group, kH, kW). */
    int red_first, red_last;
} nns_weight_axes;

typedef struct nns_op_def {
    const char *name;         /* ONNX op name (internal ops: nnslim's name) */
    /* 1: an op of nnslim's own (FakeQuant), which passes add and remove:
     * ONNX import refuses it and export will not write it. */
    int internal;
    int min_in, max_in;
    int min_out, max_out;
    size_t params_size;
    /* Parse and validate attributes into params. g gives access to constant
     * inputs. Errors name the node (n->name) and the attribute. May be NULL. */
    nns_status (*prepare)(const nns_graph *g, const nns_node *n, void *params);
    /* Output shapes from input shapes (in[i] is NULL for omitted inputs).
     * Dim 0 may be -1 (dynamic batch): propagate it. Errors name the node. */
    nns_status (*infer)(const nns_graph *g, const nns_node *n,
                        const void *params, const nns_shape *const *in,
                        nns_shape *out);
    /* Bytes of saved state / scratch for these concrete shapes. May be NULL. */
    size_t (*state_bytes)(const void *params, const nns_shape *const *in,
                          const nns_shape *out, int training);
    size_t (*work_bytes)(const void *params, const nns_shape *const *in,
                         const nns_shape *out, int training);
    void (*forward)(nns_exec_node *e);
    /* NULL: not differentiable (an error at plan time if a grad is needed). */
    void (*backward)(nns_exec_node *e);
    /* Pack once (inference plans; XNNPACK's create, ncnn's create_pipeline):
     * bytes of constant data node e prepares from its constant inputs and
     * its epilogue (e as bound at the plan's maximum batch: views, shapes,
     * fusions), and pack, which fills e->packed (64-byte aligned, zeroed).
     * The plan calls pack when it is built and again before a forward when
     * the graph's parameters changed since (nns_graph_params_changed), so a
     * plan never runs with stale packs. NULL: nothing to pack. */
    size_t (*packed_bytes)(const nns_exec_node *e);
    void (*pack)(nns_exec_node *e, void *packed);
    /* The algorithm a forward of e takes at its current batch ("1x1",
     * "bf16", ...; static strings), for tests and reports. NULL: one only. */
    const char *(*kernel_name)(const nns_exec_node *e);
    /* An activation that can run as another node's epilogue clamp (Relu,
     * Clip): sets epi->act, lo, hi from its params. NULL: cannot. */
    void (*clamp)(const void *params, nns_epilogue *epi);
    /* A per-channel affine y = x * scale[c] + shift[c] with constant
     * parameters (BatchNormalization in inference): fills scale and shift
     * (channels of e's output) exactly as e's forward computes them. */
    void (*affine)(const nns_exec_node *e, float *scale, float *shift);
    /* ---- Dtypes, declared here and checked once for every op by
     * nns_op_prepare (ops do not check them). Bit i of f32_inputs: input i,
     * when present, must be f32 (NNS_IN_ALL: every input); any other dtype
     * is refused before the op's prepare runs, with an error naming the
     * node, the op, the input and the dtype found. Inputs not in the mask
     * (Reshape's shape, Clip's bounds) are the op's to read. */
    unsigned f32_inputs;
    /* Bits of f32_inputs that may also be u8 or s8: a quantized activation
     * that the op moves or selects without arithmetic (MaxPool, Flatten,
     * Reshape in the int8 plan); the op's forward reads the view's dtype. */
    unsigned q8_inputs;
    /* The dtype of every output, which shape inference (nns_op_infer) gives
     * its values: NNS_OUT_F32 (0, the default) or NNS_OUT_SAME_AS(k), the
     * dtype of input k. */
    int out_dtype;
    /* NNS_OUT_SAME_AS(k) when input k is omitted: this dtype
     * (NNS_DTYPE_UNDEFINED, the default: f32). QuantizeLinear without a
     * zero point writes u8. */
    nns_dtype out_dtype_omitted;
    /* Non-NULL: output j's dtype is out_fixed[j] (an array of max_out
     * entries), whatever out_dtype says: ops whose outputs have dtypes of
     * their own (DynamicQuantizeLinear's u8, f32, u8; ConvInteger's s32). */
    const nns_dtype *out_fixed;
    /* Non-NULL: output j's dtype is out_dtype_of(n, j), read from the
     * node's attributes (Cast's `to`); it overrides the two above. */
    nns_dtype (*out_dtype_of)(const nns_node *n, int j);
    /* Slots (bit i = input i) that hold non-trainable initializers, e.g. BN
     * running mean/var, Reshape's shape. */
    unsigned nontrainable_inputs;
    /* Slots whose gradient backward can write instead of accumulate (see
     * nns_exec_node.grad_overwrite). */
    unsigned grad_overwrite_inputs;

    /* ---- Facts for the compression passes (prune, distill, quantize) and
     * the summary. Zero-initialised fields mean "none" only where said. */
    nns_op_chan chan;         /* 0: NNS_OP_CHAN_OPAQUE                         */
    /* Input slot of the weight (Conv W, Gemm B, MatMul B, BatchNormalization
     * scale) and of the bias (Conv B, Gemm C, BatchNormalization B). 0 (the
     * default): none; input 0 is the data of every op that has a weight.
     * Read them through nns_op_weight_in / nns_op_bias_in (-1: none). */
    int weight_in, bias_in;
    /* The layout of the weight at input `slot` of node n (rank: the weight's
     * rank): returns 1 and fills *ax when that slot is a contracted weight
     * with a rank the op accepts, else 0. Conv: out 0, reduction 1..rank-1;
     * Gemm: out 0 and reduction 1 with transB, else out 1 and reduction 0;
     * MatMul B [..., K, N]: out rank-1, reduction rank-2; MatMul also
     * describes slot 0 (A [..., M, K]: out rank-2, reduction rank-1), which
     * is a weight where it is a parameter. NULL: the op contracts no weight
     * (a channel-wise op's parameters are indexed by channel, axis 0). */
    int (*weight_axes)(const nns_node *n, int slot, int rank, nns_weight_axes *ax);
    /* 1 if node n works channel by channel, each output channel from its
     * input channel alone (BatchNormalization; a depthwise Conv: group ==
     * input channels == output channels). Reads shapes from g (inferred).
     * NULL: never. */
    int (*channelwise)(const nns_graph *g, const nns_node *n);
    /* Multiply-accumulates of one forward of node n at these shapes (in[i]
     * NULL for an omitted input; pass batch-1 shapes for a count per
     * sample). Saturates at INT64_MAX; an unknown (negative) dim counts 0.
     * NULL: the op does no multiply-accumulates that we count (0). */
    int64_t (*macs)(const nns_node *n, const nns_shape *const *in, const nns_shape *out);
} nns_op_def;

/* nns_op_def.f32_inputs: every input; nns_op_def.out_dtype's rules. */
#define NNS_IN_ALL (~0u)
#define NNS_OUT_F32 0
#define NNS_OUT_SAME_AS(k) (1 + (k))

/* The table, indexed by nns_op. */
extern const nns_op_def *const nns_op_table[NNS_OP_COUNT];
/* The input dtypes (g's values) checked against the op's f32_inputs, then
 * the op's prepare (if any). Every caller of an op's prepare goes through
 * this, so ops only ever see the dtypes they declare. */
nns_status nns_op_prepare(const nns_graph *g, const nns_node *n, void *params);
/* The op's infer, then every output shape checked: rank and dims in range
 * and at most nns_limit_tensor_elems() elements (per sample when dim 0 is
 * -1), else an error naming the node and the output. Every caller of an
 * op's infer goes through this, so kernels only ever see sizes that fit.
 * in_dt[i] is input i's dtype (anything for an omitted input); out_dt gets
 * every output's dtype from the op's out_dtype rule. */
nns_status nns_op_infer(const nns_graph *g, const nns_node *n, const void *params,
                        const nns_shape *const *in, const nns_dtype *in_dt,
                        nns_shape *out, nns_dtype *out_dt);

/* Each op file defines one of these. */
#define NNS_DECLARE_OP(sym) extern const nns_op_def sym
NNS_DECLARE_OP(nns_op_conv);
NNS_DECLARE_OP(nns_op_gemm);
NNS_DECLARE_OP(nns_op_matmul);
NNS_DECLARE_OP(nns_op_batchnorm);
NNS_DECLARE_OP(nns_op_relu);
NNS_DECLARE_OP(nns_op_clip);
NNS_DECLARE_OP(nns_op_leakyrelu);
NNS_DECLARE_OP(nns_op_sigmoid);
NNS_DECLARE_OP(nns_op_hardsigmoid);
NNS_DECLARE_OP(nns_op_hardswish);
NNS_DECLARE_OP(nns_op_add);
NNS_DECLARE_OP(nns_op_sub);
NNS_DECLARE_OP(nns_op_mul);
NNS_DECLARE_OP(nns_op_div);
NNS_DECLARE_OP(nns_op_maxpool);
NNS_DECLARE_OP(nns_op_averagepool);
NNS_DECLARE_OP(nns_op_globalaveragepool);
NNS_DECLARE_OP(nns_op_concat);
NNS_DECLARE_OP(nns_op_flatten);
NNS_DECLARE_OP(nns_op_reshape);
NNS_DECLARE_OP(nns_op_transpose);
NNS_DECLARE_OP(nns_op_dropout);
NNS_DECLARE_OP(nns_op_softmax);
NNS_DECLARE_OP(nns_op_logsoftmax);
NNS_DECLARE_OP(nns_op_identity);
NNS_DECLARE_OP(nns_op_fakequant);
NNS_DECLARE_OP(nns_op_quantizelinear);
NNS_DECLARE_OP(nns_op_dequantizelinear);
NNS_DECLARE_OP(nns_op_int8conv);
NNS_DECLARE_OP(nns_op_int8gemm);
NNS_DECLARE_OP(nns_op_int8add);
NNS_DECLARE_OP(nns_op_int8lut);
NNS_DECLARE_OP(nns_op_cast);
NNS_DECLARE_OP(nns_op_dynamicquantizelinear);
NNS_DECLARE_OP(nns_op_convinteger);
NNS_DECLARE_OP(nns_op_matmulinteger);
NNS_DECLARE_OP(nns_op_round16);
NNS_DECLARE_OP(nns_op_gemmw4);
NNS_DECLARE_OP(nns_op_gemmf16);
NNS_DECLARE_OP(nns_op_abs);
NNS_DECLARE_OP(nns_op_neg);
NNS_DECLARE_OP(nns_op_sqrt);
NNS_DECLARE_OP(nns_op_exp);
NNS_DECLARE_OP(nns_op_log);
NNS_DECLARE_OP(nns_op_tanh);
NNS_DECLARE_OP(nns_op_erf);
NNS_DECLARE_OP(nns_op_reciprocal);
NNS_DECLARE_OP(nns_op_floor);
NNS_DECLARE_OP(nns_op_ceil);
NNS_DECLARE_OP(nns_op_softplus);
NNS_DECLARE_OP(nns_op_elu);
NNS_DECLARE_OP(nns_op_selu);
NNS_DECLARE_OP(nns_op_pow);
NNS_DECLARE_OP(nns_op_min);
NNS_DECLARE_OP(nns_op_max);
NNS_DECLARE_OP(nns_op_round);
NNS_DECLARE_OP(nns_op_sign);
NNS_DECLARE_OP(nns_op_sin);
NNS_DECLARE_OP(nns_op_cos);
NNS_DECLARE_OP(nns_op_tan);
NNS_DECLARE_OP(nns_op_asin);
NNS_DECLARE_OP(nns_op_acos);
NNS_DECLARE_OP(nns_op_atan);
NNS_DECLARE_OP(nns_op_sinh);
NNS_DECLARE_OP(nns_op_cosh);
NNS_DECLARE_OP(nns_op_asinh);
NNS_DECLARE_OP(nns_op_acosh);
NNS_DECLARE_OP(nns_op_atanh);
NNS_DECLARE_OP(nns_op_softsign);
NNS_DECLARE_OP(nns_op_mish);
NNS_DECLARE_OP(nns_op_celu);
NNS_DECLARE_OP(nns_op_thresholdedrelu);
NNS_DECLARE_OP(nns_op_prelu);
NNS_DECLARE_OP(nns_op_squeeze);
NNS_DECLARE_OP(nns_op_unsqueeze);
NNS_DECLARE_OP(nns_op_reducesum);
NNS_DECLARE_OP(nns_op_reducemean);
NNS_DECLARE_OP(nns_op_reducemax);
NNS_DECLARE_OP(nns_op_reducemin);
NNS_DECLARE_OP(nns_op_reduceprod);
NNS_DECLARE_OP(nns_op_reducel1);
NNS_DECLARE_OP(nns_op_reducel2);
NNS_DECLARE_OP(nns_op_reducesumsquare);
NNS_DECLARE_OP(nns_op_reducelogsum);
NNS_DECLARE_OP(nns_op_reducelogsumexp);
NNS_DECLARE_OP(nns_op_slice);
NNS_DECLARE_OP(nns_op_split);
NNS_DECLARE_OP(nns_op_pad);
NNS_DECLARE_OP(nns_op_argmax);
NNS_DECLARE_OP(nns_op_argmin);
NNS_DECLARE_OP(nns_op_layernorm);
NNS_DECLARE_OP(nns_op_trilu);
NNS_DECLARE_OP(nns_op_equal);
NNS_DECLARE_OP(nns_op_less);
NNS_DECLARE_OP(nns_op_greater);
NNS_DECLARE_OP(nns_op_lessorequal);
NNS_DECLARE_OP(nns_op_greaterorequal);
NNS_DECLARE_OP(nns_op_and);
NNS_DECLARE_OP(nns_op_or);
NNS_DECLARE_OP(nns_op_xor);
NNS_DECLARE_OP(nns_op_not);
NNS_DECLARE_OP(nns_op_where);
NNS_DECLARE_OP(nns_op_sum);
NNS_DECLARE_OP(nns_op_mean);
NNS_DECLARE_OP(nns_op_nllloss);
NNS_DECLARE_OP(nns_op_sceloss);
NNS_DECLARE_OP(nns_op_resize);
NNS_DECLARE_OP(nns_op_upsample);
NNS_DECLARE_OP(nns_op_convtranspose);
NNS_DECLARE_OP(nns_op_instnorm);
NNS_DECLARE_OP(nns_op_lrn);
NNS_DECLARE_OP(nns_op_depthtospace);
NNS_DECLARE_OP(nns_op_spacetodepth);
NNS_DECLARE_OP(nns_op_gather);
NNS_DECLARE_OP(nns_op_gatherelements);
NNS_DECLARE_OP(nns_op_expand);
NNS_DECLARE_OP(nns_op_tile);
NNS_DECLARE_OP(nns_op_shrink);
NNS_DECLARE_OP(nns_op_hardmax);
NNS_DECLARE_OP(nns_op_isnan);
NNS_DECLARE_OP(nns_op_isinf);

/* Fusion support (see nns_exec_node.epi.out). Fill output 0 of a fused
 * BatchNormalization node from the last forward (and, when with_grad, write
 * into its gradient what the activation's backward would have given it,
 * after a backward). */
void nns_batchnorm_materialize(nns_exec_node *e, int with_grad);
/* Conv: fewest output tiles (batch x tiles per image) for Winograd; -1
 * (default): NNS_WINO_MIN_TILES, else 40. Tests set 0 to reach Winograd on
 * small shapes. Read when shapes are set, not thread-safe to change then. */
extern int nns_conv_wino_min_tiles;
/* Conv: fewest operations (2 per multiply-accumulate, whole batch) for which
 * a forward of fewer images than threads uses more than one thread; -1
 * (default): NNS_CONV_PAR_MIN_FLOPS, else 4 Mi. Tests set 0 to reach the
 * threaded paths on small shapes. */
extern double nns_conv_par_min_flops;

/* The table's facts for node n (an unknown op: none). nns_op_weight_axes
 * and nns_op_channelwise return 0 where the op has no such function; the
 * weight and bias slots are -1 when the node does not have that input. */
const nns_op_def *nns_op_def_of(const nns_node *n);
int nns_op_weight_in(const nns_node *n);
int nns_op_bias_in(const nns_node *n);
int nns_op_weight_axes(const nns_node *n, int slot, int rank, nns_weight_axes *ax);
int nns_op_channelwise(const nns_graph *g, const nns_node *n);
/* Product of the reduction dims of a weight of shape s (its fan-in). */
int64_t nns_weight_fan_in(const nns_shape *s, const nns_weight_axes *ax);
/* Saturating products for MAC counts: INT64_MAX on overflow, 0 when a
 * factor is negative (an unknown dim). */
int64_t nns_macs_mul(int64_t a, int64_t b);

/* Helpers for ops. */
/* Multidirectional (numpy) broadcast of a and b into out; error names node. */
nns_status nns_broadcast_shape(const nns_node *n, const nns_shape *a,
                               const nns_shape *b, nns_shape *out);

#endif
