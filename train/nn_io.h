/*
 * nn_io: models on disk.
 *
 * Model files go through formats/cm_model.h (HDF5): weights at LAYER/kernel and LAYER/bias in
 * Keras shapes, the input shape, class names, the training history, and the layer list as the
 * string attribute "layers" (nn_model_spec), so any model (a cut student with a grafted output
 * layer as much as the three architectures) loads back without knowing how it was built.
 *
 * Checkpoints are the engine's own small binary file (written atomically, via
 * cm_write_file_atomic): everything a training run needs to continue exactly where it stopped:
 * layer list, parameters, both optimizer moments and step counters, the best weights so far and
 * the early-stopping state, the history, and a fingerprint of the run's settings so a
 * checkpoint is never resumed into a different run.
 */
#ifndef NN_IO_H
#define NN_IO_H

#include <stddef.h>
#include <stdint.h>

#include "nn_model.h"

/* "conv1d conv1 16 5 same;relu conv1_relu;..." (malloc'd). */
char *nn_model_spec(const nn_model *m);
/* Build an (initialised with `seed`) model from a spec and input shape. */
nn_model *nn_model_from_spec(const char *spec, const int *in_shape, int in_ndim, uint64_t seed);

typedef struct {
  const char *architecture;          /* imu_cnn, audio_mlp, video_c3d, or a derived name */
  const char *const *class_names;
  int n_classes;
  const char *procedure;             /* e.g. "fit" */
  uint64_t seed;
  const char *history_columns;       /* "epoch,loss,acc,val_loss,val_acc" */
  const double *history;
  int history_rows, history_cols;
  const char *const *attr_keys;      /* extra string attributes, n_attrs of them */
  const char *const *attr_values;
  int n_attrs;
} nn_save_info;

int nn_model_save(const nn_model *m, const char *path, const nn_save_info *info, int overwrite);
/* Load a model file; architecture and class names are returned when the buffers are given. */
nn_model *nn_model_load(const char *path, char *architecture, size_t arch_len,
                        char class_names[][24], int max_classes, int *n_classes);

/* ---- checkpoints ---- */
typedef struct {
  uint64_t fingerprint;   /* of the run's settings */
  int epochs_done;
  int best_epoch, bad_epochs;
  double best_val;
  float *best_params;     /* n_params floats or NULL */
  double *history;        /* history_rows x history_cols */
  int history_rows, history_cols;
} nn_ckpt_state;

int nn_checkpoint_save(const char *path, const nn_model *m, const nn_ckpt_state *s);
/* Restores m's parameters, moments and counters (m must have the same layer list) and fills s
 * (best_params and history malloc'd). -1 with the error line set on a mismatch. */
int nn_checkpoint_load(const char *path, nn_model *m, nn_ckpt_state *s);

/* FNV-1a 64 over bytes, chained (for fingerprints). */
uint64_t nn_fnv1a(uint64_t h, const void *data, size_t n);

#endif
