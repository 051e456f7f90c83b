/*
 * nnslim/distill.h — knowledge distillation: a student learns from a frozen
 * teacher's softened outputs (Hinton et al.) and, optionally, from its
 * feature maps (FitNets hints).
 *
 * The loss on a batch is
 *
 *   alpha * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))
 *   + (1 - alpha) * CE(z_s, y)
 *   + sum over hints of beta * MSE(adapter(f_s), f_t) / mean(f_t^2)
 *
 * with means over the batch (KL summed over classes, MSE averaged over the
 * feature elements). The teacher runs forward in inference mode on the same
 * (augmented) batch as the student; it keeps no gradients and no optimizer
 * state. Without augmentation its logits (and hint maps) are computed once
 * per training sample and cached for later epochs, when the cache fits in
 * NNS_DISTILL_CACHE_MAX_BYTES.
 *
 * A distiller plugs into nns_train through nns_train_config's loss hooks, so
 * every training loop (plain training, pruning fine-tunes) can learn from a
 * teacher. Hints add adapter nodes and extra outputs to the student while it
 * trains; nns_distiller_finish removes them again.
 */
#ifndef NNSLIM_DISTILL_H
#define NNSLIM_DISTILL_H

#include <stdint.h>
#include "nnslim/graph.h"
#include "nnslim/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A feature hint: teacher layer -> student layer. A layer is a node name (its
 * first output) or a value name; NNS_DISTILL_HINT_AUTO ("auto", when the
 * model has no layer of that name) is the penultimate features: the input
 * of the Gemm, MatMul or Conv that computes the output, before any Dropout.
 * Both must be [N, C, H, W] with the same H, W (or [N, F]); when the channel
 * counts differ, a learned 1x1 convolution (a linear layer for [N, F]) maps
 * the student's channels to the teacher's. */
#define NNS_DISTILL_HINT_AUTO "auto"
/* The names of the adapter nodes a distiller adds to the student while it
 * trains begin with this (pruning leaves them alone). */
#define NNS_DISTILL_ADAPTER_PREFIX "nnslim_hint"
typedef struct nns_distill_hint {
    const char *teacher_layer;
    const char *student_layer;
    float beta;                  /* weight of this hint's MSE term (> 0) */
} nns_distill_hint;

typedef struct nns_distill_config {
    float temperature;           /* T > 0; default 1                          */
    float alpha;                 /* weight of the soft term, in [0, 1]; 0.5   */
    /* Safeguard against the T-scaled soft gradient: the gradient of the
     * soft term is alpha * T * (p_s - p_t), up to alpha * T times the label
     * term's, which makes networks without BatchNorm diverge at the recipe's
     * learning rate (lenet5, T = 4). With gain_limit > 0 the whole loss
     * gradient is divided by max(1, (alpha * T + 1 - alpha) / gain_limit),
     * so the soft term can raise the step size by at most gain_limit times.
     * Default 1.5: T = 2, alpha = 0.5 (gain 1.5) trains unchanged; PyTorch
     * stays stable up to gain 1.9 and diverges from 2.5. 0: off (the plain
     * loss). */
    float gain_limit;
    const nns_distill_hint *hints;
    int n_hints;
    int cache;                   /* 1 (default): cache the teacher's logits
                                    and hint maps per training image when
                                    batches are not augmented and the cache
                                    fits in NNS_DISTILL_CACHE_MAX_BYTES */
    uint64_t seed;               /* adapters' initialisation; default 1       */
} nns_distill_config;

/* The largest teacher cache (logits + hint maps for the whole training
 * set); above it the teacher runs on every batch. */
#define NNS_DISTILL_CACHE_MAX_BYTES (1024.0 * 1024.0 * 1024.0)

void nns_distill_config_default(nns_distill_config *c);

/* 1 when a hint on the penultimate features (NNS_DISTILL_HINT_AUTO on both
 * sides) fits the two models: both have them, of the same rank and, for
 * feature maps, the same H x W. nnslim distill then makes it the default. */
int nns_distill_auto_hint_fits(const nns_graph *teacher, const nns_graph *student);

/* The loss on one batch: logits zs (student) and zt (teacher), [n, k]; y the
 * labels. Returns the mean loss; dzs (may be NULL) receives dL/dzs of the
 * mean (i.e. already divided by n). kl and ce (may be NULL) receive the mean
 * KL divergence (not multiplied by T^2) and cross-entropy. */
float nns_distill_loss(const float *zs, const float *zt, const int32_t *y, int n, int k,
                       float temperature, float alpha, float *dzs, float *kl, float *ce);

typedef struct nns_distiller nns_distiller;

/* Prepare distillation of student from teacher (both finalized; teacher is
 * cloned, not modified). Checks T and alpha, that the teacher's input and
 * output 0 match the student's, and every hint (layers exist, ranks and
 * spatial sizes agree); on error nothing is changed. With hints the student
 * gets adapter nodes and one extra output per hint until
 * nns_distiller_finish. n_train: training-set size (for the cache);
 * max_batch: the training batch size. */
nns_status nns_distiller_create(const nns_graph *teacher, nns_graph *student,
                                const nns_distill_config *dc, int64_t n_train,
                                int max_batch, nns_distiller **out);
/* Set cfg's loss and aux_loss hooks to the distiller's. */
void nns_distiller_attach(nns_distiller *d, nns_train_config *cfg);
/* Remove the adapters and hint outputs from the student (idempotent). */
nns_status nns_distiller_finish(nns_distiller *d, nns_graph *student);
void nns_distiller_free(nns_distiller *d);

typedef struct nns_distill_stats {
    int64_t teacher_images;      /* images the teacher ran forward on         */
    int64_t cached_images;       /* images whose logits came from the cache   */
    int n_adapters;              /* adapters added for hints                  */
    int64_t adapter_params;
    float last_kl, last_ce, last_hint; /* terms of the last batch (means)    */
} nns_distill_stats;
void nns_distiller_stats(const nns_distiller *d, nns_distill_stats *s);

/* All of it: create, train student on train with cfg (val may be NULL),
 * finish, free. All or nothing: a clone of the student is trained and
 * replaces it at the end, so a failure (e.g. out of memory) leaves the
 * student exactly as given; the student's memory is needed twice. */
nns_status nns_distill(const nns_graph *teacher, nns_graph *student, const nns_dataset *train,
                       const nns_dataset *val, const nns_train_config *cfg,
                       const nns_distill_config *dc, nns_train_result *res);

/* A student derived from g by a width multiplier: every Conv's output
 * channels and every hidden Gemm's neurons scaled by width in (0, 1]
 * (rounded, at least 1; the outputs and what residual adds, concats and
 * depthwise convolutions couple stay consistent), with fresh weights
 * (PyTorch's default initialisation, seeded) and reset BatchNorm
 * statistics. *out is a new graph. */
nns_status nns_graph_scale_width(const nns_graph *g, float width, uint64_t seed,
                                 nns_graph **out);

#ifdef __cplusplus
}
#endif
#endif
