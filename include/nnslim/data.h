/*
 * nnslim/data.h — data sets: IDX (raw or .gz), NumPy .npy, batching.
 *
 * A data set holds N images as float32 NCHW [N, C, H, W] (already normalised
 * once nns_dataset_normalize has run) and N int32 labels. IDX image files of
 * rank 3 ([N, H, W], u8) load as C = 1; .npy inputs of rank 2 load as
 * [N, 1, 1, F], rank 3 as [N, 1, H, W], rank 4 as given.
 * Pixels from u8 sources are scaled to [0, 1] (x / 255); float32 .npy data is
 * taken as is.
 */
#ifndef NNSLIM_DATA_H
#define NNSLIM_DATA_H

#include <stdint.h>
#include "nnslim/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nns_dataset {
    int64_t n;          /* number of samples            */
    int c, h, w;        /* per-sample image shape        */
    float *x;           /* [n, c, h, w]                  */
    int32_t *y;         /* [n], in [0, n_classes)        */
    int n_classes;      /* max label + 1                 */
} nns_dataset;

/* Load an IDX image file and an IDX label file (each raw or gzip, detected by
 * content). Validates magic, dtype (u8), rank, dims against the file length,
 * and that image and label counts match. limit > 0 keeps the first limit
 * samples. Errors name the file and what is wrong. */
nns_status nns_dataset_load_idx(const char *images_path,
                                const char *labels_path, int64_t limit,
                                nns_dataset *out);
/* Load the MNIST file layout from dir: train-images-idx3-ubyte[.gz],
 * train-labels-idx1-ubyte[.gz], t10k-... (train != 0 picks train).
 * dir NULL or "" means NNS_DATASET_DEFAULT_DIR (Debian's
 * dataset-fashion-mnist package). */
#define NNS_DATASET_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
nns_status nns_dataset_load_mnist_dir(const char *dir, int train,
                                      int64_t limit, nns_dataset *out);
/* Load .npy images (f32 or u8, C order) and labels (u8, s32 or s64). */
nns_status nns_dataset_load_npy(const char *x_path, const char *y_path,
                                int64_t limit, nns_dataset *out);
void nns_dataset_free(nns_dataset *d);

/* Images loaded channels-last ([n, H, W, C] read as c = H, h = W, w = C)
 * turned channels-first in place: c = C, h = H, w = W. */
nns_status nns_dataset_to_nchw(nns_dataset *d);

/* Mean and standard deviation over all pixels. */
void nns_dataset_stats(const nns_dataset *d, float *mean, float *std);
/* x = (x - mean) / std in place. std must be > 0. */
nns_status nns_dataset_normalize(nns_dataset *d, float mean, float std);
/* The same per channel: n values (1: all channels; else d->c). */
nns_status nns_dataset_normalize_channels(nns_dataset *d, const float *mean, const float *std, int n);
/* Move the last `count` samples of d into val (a new data set); d shrinks.
 * Samples are chosen after a seeded shuffle so classes mix. */
nns_status nns_dataset_split(nns_dataset *d, int64_t count, uint64_t seed,
                             nns_dataset *val);

/* Write a .npy file (f32 [n, ...] or s32 labels) — used by tools and tests.
 * Writes to a temporary file and renames it. */
nns_status nns_npy_save_f32(const char *path, int ndim, const int64_t *dims,
                            const float *data);
/* The same for int32 data ('<i4'), e.g. labels [n]. */
nns_status nns_npy_save_s32(const char *path, int ndim, const int64_t *dims,
                            const int32_t *data);

/* Load a float32 ('<f4', C order) .npy array of rank <= 8 (raw or gzip).
 * *data is malloc'd; dims must hold 8 entries. */
nns_status nns_npy_load_f32(const char *path, int *ndim, int64_t *dims, float **data);

/* Batching. An iterator over a permutation of the data set; the permutation is
 * drawn from seed and epoch, so a run is reproducible. The last partial batch
 * is kept. Augmentation (train only): random crop with zero padding `pad`
 * (0: none) and horizontal flip with probability 0.5. */
typedef struct nns_augment {
    int crop_pad;   /* 0: no random crop  */
    int hflip;      /* 0: no flip         */
} nns_augment;

typedef struct nns_batcher nns_batcher;

nns_status nns_batcher_create(const nns_dataset *d, int batch_size,
                              int shuffle, uint64_t seed,
                              const nns_augment *aug, nns_batcher **out);
void nns_batcher_free(nns_batcher *b);
/* Start epoch `epoch` (reshuffles when shuffle is on). */
void nns_batcher_reset(nns_batcher *b, int epoch);
/* Number of batches per epoch. */
int64_t nns_batcher_n_batches(const nns_batcher *b);
/* Copy the next batch into x ([batch_size, c, h, w] capacity) and y; returns
 * the number of samples (0 at the end of the epoch). Never allocates. */
int nns_batcher_next(nns_batcher *b, float *x, int32_t *y);
/* The data-set indices of the samples of the batch nns_batcher_next returned
 * last (as many as it returned; NULL before the first batch). The pointer
 * stays valid until the next reset. */
const int64_t *nns_batcher_indices(const nns_batcher *b);

#ifdef __cplusplus
}
#endif
#endif
