/*
 * nnslim/quant.h — quantization: the integer types, the one rounding rule,
 * scale and zero-point choice, per-tensor, per-channel and blocked
 * quantization of float arrays, 4-bit packing, and calibration histograms.
 *
 * A quantized value q stands for the real number (q - zero_point) * scale,
 * ONNX's DequantizeLinear. Quantizing a real x follows ONNX's QuantizeLinear:
 *   q = saturate(round_half_to_even(x / scale) + zero_point)
 * to the integer type's range; nns_quantize_value is that rule, and every
 * quantizing path of nnslim (ops and kernels: its inline form in the
 * library) follows it, or nns_requantize, the same rule on an int32
 * accumulator times a float multiplier. A NaN quantizes to the zero point
 * (the real value 0).
 *
 * Integer types: 8 or 4 bits, signed (s8 -128..127, s4 -8..7) or unsigned
 * (u8 0..255, u4 0..15). Quantized arrays hold one value per byte (int8_t for
 * signed types, uint8_t for unsigned) until packed: nns_pack_4bit stores two
 * 4-bit values per byte, the first in the low nibble (ONNX INT4/UINT4).
 *
 * Layouts: an array is viewed as [outer, D, inner] around one axis of length
 * D. Per-axis quantization has one scale and zero point per index d of that
 * axis (per output channel: the axis of a weight's output channels, from the
 * op table's weight_axes; per tensor: outer = D = 1). Blocked quantization
 * (ONNX opset 21's block_size; weight-only groups along the input channels)
 * has one per block of `block` consecutive indices along the axis, for every
 * outer and inner index: outer * ceil(D / block) * inner scales, laid out as
 * [outer, ceil(D / block), inner].
 */
#ifndef NNSLIM_QUANT_H
#define NNSLIM_QUANT_H

#include <stdint.h>

#include "nnslim/data.h"
#include "nnslim/graph.h"
#include "nnslim/prune.h"
#include "nnslim/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An integer type of quantized values. */
typedef struct nns_qtype {
    int bits;      /* 8 or 4 */
    int is_signed; /* 1: s8 / s4; 0: u8 / u4 */
} nns_qtype;

/* The range of t: qmin..qmax. NNS_STATUS_UNSUPPORTED (naming the width) for
 * a width other than 4 or 8. */
nns_status nns_qtype_range(nns_qtype t, int32_t *qmin, int32_t *qmax);

/* ONNX's rounding: round_half_to_even(v) + zp saturated to qmin..qmax; NaN
 * gives zp. v is x / scale (QuantizeLinear) or an accumulator times its
 * multiplier (nns_requantize). */
int32_t nns_quantize_value(float v, int32_t zp, int32_t qmin, int32_t qmax);

/* Requantize an int32 accumulator: nns_quantize_value(acc * multiplier, ...)
 * with multiplier = input scale * weight scale / output scale (QLinearConv,
 * QLinearMatMul), computed in float as ONNX Runtime does. */
int32_t nns_requantize(int32_t acc, float multiplier, int32_t zp, int32_t qmin, int32_t qmax);

/* Scale and zero point for the real range [lo, hi], first widened to hold 0
 * (so that 0 is exact: padding and ReLU's zeros).
 *   symmetric: zero point 0 for a signed type, 2^(bits-1) for an unsigned
 *     one; scale = max(|lo|, |hi|) / (2^(bits-1) - 1) (int8: / 127, so -128
 *     is never produced but by saturation);
 *   asymmetric: scale = (hi - lo) / (qmax - qmin), zero point
 *     qmin - round(lo / scale), within qmin..qmax.
 * A range of width 0 gets scale 1. NNS_STATUS_INVALID_ARG for lo or hi not
 * finite or lo > hi (the message names them). */
nns_status nns_qparams_choose(float lo, float hi, nns_qtype t, int symmetric, float *scale, int32_t *zero_point);

/* Quantize x ([outer, D, inner]) with one scale and zero point per index of
 * the axis (scale[D], zero_point[D]) chosen from each channel's own range
 * (nns_qparams_choose); q gets outer*D*inner values (int8_t or uint8_t by
 * t.is_signed). NNS_STATUS_INVALID_ARG for non-finite values in x (naming
 * the channel) or a bad size. */
nns_status nns_quantize_axis(const float *x, int64_t outer, int64_t d, int64_t inner, nns_qtype t,
                             int symmetric, float *scale, int32_t *zero_point, void *q);

/* The same with one scale and zero point per block of `block` indices along
 * the axis: scale and zero_point hold outer * ceil(D / block) * inner. */
nns_status nns_quantize_blocked(const float *x, int64_t outer, int64_t d, int64_t inner, int64_t block,
                                nns_qtype t, int symmetric, float *scale, int32_t *zero_point, void *q);

/* The inverse: x = (q - zero_point) * scale, per axis (block 0) or per block. */
void nns_dequantize(const void *q, int64_t outer, int64_t d, int64_t inner, int64_t block, nns_qtype t,
                    const float *scale, const int32_t *zero_point, float *x);

/* Two 4-bit values per byte, element 2i in the low nibble of byte i (ONNX
 * INT4/UINT4); an odd count leaves the last high nibble 0. q holds one value
 * per byte (int8_t -8..7 or uint8_t 0..15). */
void nns_pack_4bit(const void *q, int64_t n, uint8_t *packed);
/* The inverse; is_signed sign-extends each nibble. */
void nns_unpack_4bit(const uint8_t *packed, int64_t n, int is_signed, void *q);

/* ---- Calibration: the range of an activation from the values it took ----
 *
 * A histogram of fixed size (NNS_CALIB_BINS bins over [-range, range)), so
 * that calibration memory does not grow with the number of samples: when a
 * value falls outside, the range doubles and pairs of bins merge, exactly
 * (range is a power of two and the bins stay aligned). The exact minimum and
 * maximum are kept beside it. Values that are not finite are counted apart
 * and left out. */
#define NNS_CALIB_BINS 16384

typedef enum nns_calib_method {
    NNS_CALIB_MINMAX = 0,  /* the exact minimum and maximum                   */
    NNS_CALIB_PERCENTILE,  /* drop each tail beyond the percentile            */
    NNS_CALIB_ENTROPY,     /* the clipping threshold whose quantized
                            * distribution is closest (Kullback-Leibler) to
                            * the observed one (TensorRT's calibration)       */
    NNS_CALIB_MSE          /* the clipping range of least mean squared error  */
} nns_calib_method;

typedef struct nns_calib_hist {
    uint64_t count[NNS_CALIB_BINS];
    double range;          /* a power of two; 0 until a non-zero value      */
    uint64_t zeros_before; /* zeros seen while range was 0                  */
    uint64_t n;            /* finite values seen                            */
    uint64_t zeros;        /* of which exactly 0 (in bin NNS_CALIB_BINS / 2) */
    uint64_t nonfinite;    /* NaN and infinities, left out                  */
    float min, max;        /* of the finite values                          */
} nns_calib_hist;

/* Empty histogram. */
void nns_calib_hist_init(nns_calib_hist *h);
/* Add n values. Allocates nothing. */
void nns_calib_hist_add(nns_calib_hist *h, const float *x, int64_t n);
/* Merge b into a (a per-thread or per-batch histogram into the total). */
void nns_calib_hist_merge(nns_calib_hist *a, const nns_calib_hist *b);

/* The range [lo, hi] to quantize to type t from what h saw, by method m
 * (percentile: e.g. 99.99, in (0, 100]; ignored by the other methods).
 * symmetric: the range is symmetric about 0 (a signed type with zero point
 * 0), else it follows the data (a non-negative activation gets [0, ...]).
 * The range always lies within [min, max] widened to hold 0. An empty
 * histogram gives [0, 0]. NNS_STATUS_INVALID_ARG names a bad percentile or
 * method. */
nns_status nns_calib_range(const nns_calib_hist *h, nns_calib_method m, double percentile, nns_qtype t,
                           int symmetric, float *lo, float *hi);

/* ---- Post-training quantization of a graph (QDQ form) ----
 *
 * nns_quantize_ptq folds BatchNormalization, calibrates the activations that
 * the layers read (the nodes that contract a float weight: Conv, Gemm,
 * MatMul; names in keep stay float) on images of a data set, and rewrites g
 * in place: each such activation passes through QuantizeLinear ->
 * DequantizeLinear (u8 asymmetric, or s8 symmetric), each weight becomes an
 * s8 initializer (symmetric, per output channel or per tensor) read through
 * DequantizeLinear; biases become s32 at the input scale times the weight
 * scale. The weight may also be s4 (weight_bits 4; opset 21's INT4): with
 * quantized activations (W4A8) one scale per output channel, weight-only
 * (activations float) also one per group of input channels (group_size,
 * opset 21's blocked DequantizeLinear); groups with quantized activations
 * and W4A8 per tensor are NNS_STATUS_UNSUPPORTED. The graph computes what ONNX's
 * definitions of that QDQ model give, and saves as standard QDQ ONNX. On an
 * error g may be partly rewritten: quantize a copy (nns_graph_clone).
 * Options: cross-layer equalization before calibration (cfg->cle) and
 * empirical bias correction after the rewrite (cfg->bias_correction); the
 * method and its limits are in docs/quantization.md. */
typedef struct nns_ptq_config {
    nns_calib_method calib;  /* default NNS_CALIB_MINMAX                      */
    double percentile;       /* NNS_CALIB_PERCENTILE's, default 99.99         */
    int64_t calib_samples;   /* images, evenly spaced over the set; 1000      */
    int batch;               /* calibration batch, default 64                 */
    int per_channel;         /* weights: 1 per output channel (default), 0 one */
    int act_signed;          /* activations: 0 u8 asymmetric (default), 1 s8 symmetric */
    int weight_only;         /* 1: activations stay float (no calibration; W8A32) */
    int n_keep;              /* nodes left in float, by name                  */
    const char *const *keep;
    int weight_bits;         /* 8 (default: s8) or 4 (s4; W4A8 per channel, or weight-only) */
    /* 0 (default), or NNS_DTYPE_F16 / NNS_DTYPE_BF16: each weight stored in
     * that 16-bit float type and read through a Cast to float (ONNX's way;
     * weight-only: activations and biases stay float, nothing calibrated;
     * weight_bits and group_size do not apply). */
    int weight_float16;
    /* 0 (default), or the type of weight_float16: each activation that the
     * layers read or write (as for int8) is rounded to that 16-bit type by a
     * Cast to it and a Cast back to float (ONNX's form of a 16-bit
     * activation, as QuantizeLinear -> DequantizeLinear is of an 8-bit one);
     * nothing is calibrated. Any other value is NNS_STATUS_UNSUPPORTED. */
    int act_float16;
    /* 0 (default): the layers kept out of the integer form (keep, and those
     * nns_quantize_max_loss / nns_quantize_max_bytes keep) stay float32;
     * NNS_DTYPE_F16 / NNS_DTYPE_BF16: their weights are stored in that
     * 16-bit type, read through a Cast (as weight_float16 does for all).
     * PTQ only. */
    int keep_float16;
    /* 0 (default): one weight scale per output channel (or per tensor); N > 0
     * (weight-only): one per group of N consecutive input channels of each
     * output channel, opset 21's block_size along the weight's input-channel
     * axis. N must divide every layer's input channels (per group of a
     * grouped Conv) or be at least that many (then they are one group, of
     * their number), else NNS_STATUS_INVALID_ARG names the layer and both
     * sizes; a weight with one input channel (a depthwise Conv, a stem on
     * one-channel images) keeps one scale per output channel. */
    int group_size;
    int cle;                 /* 1: cross-layer equalization after BatchNormalization
                              * folding: pairs of Conv/Gemm layers joined by ReLU,
                              * pooling or nothing get their per-channel weight
                              * ranges evened out (output channel c of the first
                              * divided by s_c, input channel c of the second
                              * multiplied by it; the float function is unchanged).
                              * Pairs across a Clip (ReLU6) are left alone.      */
    int bias_correction;     /* 1: after quantizing, each quantized Conv and Gemm,
                              * in topological order, has the mean shift of its
                              * output per channel on the calibration images
                              * (quantized minus float graph) subtracted from its
                              * bias (a bias is added where absent). PTQ only:
                              * nns_quantize_qat refuses it; nns_quant_sensitivity
                              * applies cle but not this.                      */
    /* QAT: 0 (default): BatchNormalization is folded before training, its
     * statistics frozen from the first step. N > 0: each BatchNormalization
     * after a Conv or Gemm keeps normalising with the batch's statistics
     * (and updating its running ones) for the first N epochs, after the
     * fake-quantized folded layer; then it is folded in and training goes
     * on with frozen statistics. docs/quantization.md has the method. */
    int bn_freeze_epoch;
} nns_ptq_config;

typedef struct nns_ptq_result {
    int layers;              /* nodes whose weights and input were quantized  */
    int activations;         /* distinct activations quantized                */
    int folded_bn;           /* BatchNormalizations folded first              */
    int64_t calib_images;    /* images calibration ran                        */
    int cle_pairs;           /* cle: layer pairs equalized                    */
    int cle_sweeps;          /* cle: sweeps over the pairs until converged    */
    int cle_clip_refused;    /* cle: pairs left alone for a Clip between them */
    int bias_corrected;      /* bias_correction: layers whose bias was corrected */
    float bias_max_shift;    /* bias_correction: the largest |correction|     */
} nns_ptq_result;

void nns_ptq_config_init(nns_ptq_config *c);
nns_status nns_quantize_ptq(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg,
                            nns_ptq_result *res);

/* Quantization-aware training: as nns_quantize_ptq up to calibration, then
 * a FakeQuant before each layer's input (the calibrated scale and zero
 * point) and on each layer's weight (symmetric s8 scales from its range,
 * per output channel or per tensor); learn_scales: the scales train too
 * (LSQ). train(user, g, first, stop) trains that graph for epochs first ..
 * stop - 1 of the caller's run (0-based; stop 0: to its end), with
 * nns_train or nns_distill and the caller's settings (nns_train_config's
 * start_epoch and stop_epoch; pruning masks stay applied). It is called
 * once, (0, 0), or with cfg->bn_freeze_epoch F > 0 twice: (0, F) with the
 * BatchNormalizations following the batches, then (F, 0) once they are
 * folded (a run of at most F epochs trains nothing the second time). Then
 * every FakeQuant becomes the QDQ it simulated, with the trained scales:
 * the same form as nns_quantize_ptq's. On an error g may be partly
 * rewritten. */
typedef nns_status (*nns_qat_train_fn)(void *user, nns_graph *g, int first_epoch, int stop_epoch);
nns_status nns_quantize_qat(nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg, int learn_scales,
                            nns_qat_train_fn train, void *user, nns_ptq_result *res);

/* Which layer breaks quantization: g as nns_quantize_ptq prepares it (BN
 * folded, inputs calibrated on calib by cfg), then each layer quantized
 * alone (its weight s8, its input through QuantizeLinear ->
 * DequantizeLinear; all other layers float) and scored by evaluate, through
 * the sweep of nnslim/prune.h: out has one unit per layer (name, op, weight
 * count) and one level (1), baseline = the float model's score (after BN
 * folding). g is not changed. */
nns_status nns_quant_sensitivity(const nns_graph *g, const nns_dataset *calib, const nns_ptq_config *cfg,
                                 nns_sweep_eval_fn evaluate, void *eval_user, nns_sweep_progress_fn progress,
                                 void *progress_user, nns_sweep_table *out);

/* Mixed precision for an accuracy budget: the per-layer sensitivity on
 * eval, then the most sensitive layers kept in float one at a time (besides
 * cfg's keep list) until g quantized with the rest loses at most max_loss
 * (a fraction: 0.005 is half a point) of accuracy on eval; g is then
 * quantized so. *base_acc: the float model's accuracy on eval (BN folded),
 * *acc: the quantized one's. NNS_STATUS_INVALID_ARG for max_loss outside
 * [0, 1]; NNS_STATUS_UNSUPPORTED when only keeping every layer float meets
 * the budget. */
nns_status nns_quantize_max_loss(nns_graph *g, const nns_dataset *calib, const nns_dataset *eval,
                                 const nns_ptq_config *cfg, float max_loss, nns_ptq_result *res, float *base_acc,
                                 float *acc);

/* The size of a graph in bytes as it would be saved (for ONNX:
 * nns_graph_onnx_bytes of nnslim/onnx.h through a small wrapper). */
typedef nns_status (*nns_quant_size_fn)(void *user, const nns_graph *g, int64_t *bytes);

/* Mixed precision for a size budget: the per-layer sensitivity on eval,
 * then, from every layer quantized, the layers whose quantization costs
 * accuracy kept in float, most sensitive first, each only if the model
 * still fits in max_bytes (sized by size_fn); g is then quantized so.
 * *bytes: its size; *base_acc, *acc: the float and quantized accuracy on
 * eval. NNS_STATUS_UNSUPPORTED, naming the smallest size, when even every
 * layer quantized does not fit. */
nns_status nns_quantize_max_bytes(nns_graph *g, const nns_dataset *calib, const nns_dataset *eval,
                                  const nns_ptq_config *cfg, int64_t max_bytes, nns_quant_size_fn size_fn,
                                  void *size_user, nns_ptq_result *res, int64_t *bytes, float *base_acc, float *acc);

/* What quantization made of node `node` (from the graph's QDQ form). */
typedef struct nns_quant_layer {
    char precision[16];      /* as nnslim info prints it: "f32", "W8A8", "W8A32"; "" without a weight */
    int weight_scales;       /* scales of the weight (0: not quantized; 1: per tensor) */
    float weight_scale_min, weight_scale_max;
    int input_quantized;     /* input 0 through QuantizeLinear -> DequantizeLinear, per tensor */
    float input_scale;
    int32_t input_zero_point;
} nns_quant_layer;
nns_status nns_quant_layer_describe(const nns_graph *g, int node, nns_quant_layer *q);

#ifdef __cplusplus
}
#endif
#endif
