/*
 * nn_data: batches of network inputs straight from a dataset file's split.
 *
 * A loader turns rows of one modality into float input: IMU windows and audio feature vectors
 * are standardised with the dataset's /stats (imu_mean/imu_std per channel, audio_mean/
 * audio_std per feature) when the file has them; video is scaled to [0, 1] and, when the
 * model's input is smaller than the stored 45x64x64 frames, reduced by an integer frame stride
 * and an integer box filter on the side (45x32x32 = every frame, 2x2 means).
 *
 * The prefetcher reads the next batch in a second thread while the current one trains. Only
 * that thread touches HDF5 while it runs; the caller waits for it before anything else reads
 * the file, so HDF5 is never entered from two threads at once.
 */
#ifndef NN_DATA_H
#define NN_DATA_H

#include <pthread.h>
#include <stdint.h>

#include "cm_dataset.h"

typedef enum { NN_MOD_IMU, NN_MOD_AUDIO, NN_MOD_VIDEO } nn_modality;

typedef struct {
  cm_dataset *d;
  int split;
  nn_modality mod;
  int in_shape[4], in_ndim;
  size_t in_size;          /* floats per sample */
  float *mean, *inv_std;   /* per channel / feature, or NULL */
  size_t n_stat;
  int frame_stride, side_factor;
  uint8_t *video_buf;      /* capacity rows of stored video */
  size_t video_row, cap;
  int n_classes;
} nn_loader;

/* Modality of an architecture name; -1 with the error line set if unknown. */
int nn_modality_of(const char *architecture, nn_modality *mod);
/* Set up for split `split` of d and the model input shape in_shape (video: F, S, S, C);
 * batches of at most `cap` rows. */
int nn_loader_init(nn_loader *L, cm_dataset *d, int split, nn_modality mod, const int *in_shape,
                   int in_ndim, int cap);
/* The model input shape the dataset's own windows give. */
void nn_loader_native_shape(cm_dataset *d, nn_modality mod, int *in_shape, int *in_ndim);
int nn_loader_read(nn_loader *L, const int64_t *rows, int n, float *x, int32_t *labels);
void nn_loader_free(nn_loader *L);

/* Two batch buffers; fetch(i) starts reading batch i in the background into buffer i % 2. */
typedef struct {
  nn_loader *L;
  float *x[2];
  int32_t *y[2];
  const int64_t *rows[2];
  int n[2];
  int status[2];
  char error[2][512];
  pthread_t thread[2];
  int running[2];
} nn_prefetch;

void nn_prefetch_init(nn_prefetch *p, nn_loader *L, int cap);
void nn_prefetch_start(nn_prefetch *p, int slot, const int64_t *rows, int n);
/* Wait for slot's batch; -1 with the loader's error line if the read failed. */
int nn_prefetch_wait(nn_prefetch *p, int slot);
void nn_prefetch_free(nn_prefetch *p);

#endif
