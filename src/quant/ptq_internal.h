/*
 * ptq_internal.h — the pieces of post-training quantization (ptq.c) that
 * quantization-aware training (qat.c) shares: which layers and activations,
 * their calibrated scales, and the rewrites into QDQ form.
 */
#ifndef NNS_QUANT_PTQ_INTERNAL_H
#define NNS_QUANT_PTQ_INTERNAL_H

#include "core/graph_impl.h"
#include "nnslim/quant.h"

typedef struct nns_ptq_plan {
    int n_nodes;        /* g's nodes when planned: is_layer's length      */
    char *is_layer;     /* the nodes to quantize                          */
    int n_acts;
    int *acts;          /* the distinct activations they read (input 0)  */
    float *scale;       /* per activation, from calibration              */
    int32_t *zero_point;
} nns_ptq_plan;

/* Check cfg, fold BatchNormalization, finalize, find the layers, calibrate
 * their inputs. res gets layers, activations, folded_bn, calib_images. */
nns_status nns_ptq_prepare(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, nns_ptq_plan *p,
                           nns_ptq_result *res);
void nns_ptq_plan_free(nns_ptq_plan *p);

/* Node i's weight slot and the weight's output-channel axis (0: none). */
int nns_ptq_layer_weight(const nns_graph *g, int i, int *slot, int *out_axis);
/* [outer, d, inner] of a weight around out_axis (per tensor: d = 1). */
void nns_ptq_weight_view(const nns_shape *w, int out_axis, int per_channel, int64_t *outer, int64_t *d,
                         int64_t *inner);

/* Float weight w as an s8 initializer read through a new DequantizeLinear
 * (*dq: its output), symmetric; scale NULL: chosen from w, else these (d
 * of them). The caller rewires the readers. */
/* Weight value w stored as dt (f16 or bf16, rounded to nearest even) and
 * read through a Cast to float; *out: the Cast's output. */
nns_status nns_ptq_weight_half(nns_graph *g, int w, nns_dtype dt, int *out);
nns_status nns_ptq_weight_qdq(nns_graph *g, int w, int out_axis, int per_channel, const float *scale, int *dq);
/* Node i's weight fits groups of `group` input channels (0: none, always):
 * the input-channel axis (the op table's first reduction axis) has at most
 * group elements or a multiple of group; else NNS_STATUS_INVALID_ARG naming the
 * node and both sizes. */
nns_status nns_ptq_group_check(const nns_graph *g, int i, int group);
/* Weight-only: node i's float weight (slot) as an s8 (bits 8) or s4 (bits 4)
 * initializer, symmetric, read through a new DequantizeLinear (*dq): one
 * scale per group of `group` input channels of each output channel (opset
 * 21's block_size), or per output channel (group 0, or a weight with one
 * input channel). Checked by nns_ptq_group_check first. */
nns_status nns_ptq_weight_grouped(nns_graph *g, int i, int slot, int bits, int group, int *dq);
/* Activation v through a new QuantizeLinear -> DequantizeLinear (*dq: its
 * output) with this scale and zero point (u8, or s8 when act_signed). */
nns_status nns_ptq_act_qdq(nns_graph *g, int v, float s, int32_t zp, int act_signed, int *dq);
/* Activation v rounded to dt (f16 or bf16): a new Cast to dt, then a Cast
 * back to float (*out: its output; the caller redirects the readers with
 * nns_ptq_redirect, as for a QuantizeLinear -> DequantizeLinear pair). */
nns_status nns_ptq_act_half(nns_graph *g, int v, nns_dtype dt, int *out);
/* The bias value b as an s32 initializer (q, m values) read through a new
 * DequantizeLinear along axis 0 with these m scales (*dq: its output). */
nns_status nns_ptq_bias_qdq(nns_graph *g, int b, int64_t m, const int32_t *q, const float *scale, int *dq);
/* The activation to quantize at layer `layer`'s output: its output, or the
 * output of the Relu / Clip that alone reads it; -1 for a graph output
 * (ptq_form.c). */
int nns_ptq_output_act(const nns_graph *g, int layer);
/* Every reader of v except the QuantizeLinear before dq reads dq. */
void nns_ptq_redirect(nns_graph *g, int v, int dq);
/* The integer form (ptq_form.c): redundant activations before a
 * QuantizeLinear dropped, the layers' biases in s32 when bias_s32. */
nns_status nns_ptq_integer_form(nns_graph *g, int bias_s32);
/* After the rewrites: the integer form, sort, drop what no one reads,
 * finalize. */
nns_status nns_ptq_finish(nns_graph *g);
/* The same, the biases left float unless bias_s32. */
nns_status nns_ptq_finish_bias(nns_graph *g, int bias_s32);
/* A value or node name "<base><suffix>[k]" not yet in g. */
void nns_ptq_fresh_name(const nns_graph *g, const char *base, const char *suffix, char *buf, size_t len);

/* QAT with BatchNormalization statistics that follow the batches until a
 * freeze epoch (qat_bn.c): recorded before nns_ptq_prepare folds them, put
 * back after it as nodes that compute the identity with their running
 * statistics (p's activations follow), folded at the freeze. */
typedef struct nns_qat_bn nns_qat_bn;
nns_status nns_qat_bn_record(const nns_graph *g, nns_qat_bn **out);
nns_status nns_qat_bn_insert(nns_graph *g, nns_qat_bn *b, nns_ptq_plan *p);
nns_status nns_qat_bn_fold(nns_graph *g, const nns_qat_bn *b);
void nns_qat_bn_free(nns_qat_bn *b);

#endif
