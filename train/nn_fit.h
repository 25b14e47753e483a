/*
 * nn_fit: supervised training of a model on one split of a dataset file (the teacher
 * procedure and `cmact train fit`).
 *
 * The split's rows are divided once, by the seed, into training rows and a validation part
 * (val_fraction of them, never the test split); every epoch visits the training rows in an
 * order drawn from (seed, epoch) in batches that the prefetcher reads while the previous batch
 * trains. After each epoch the validation loss decides early stopping (patience epochs without
 * a lower validation loss) and which weights are best; the best weights are what the run
 * returns (Keras's restore_best_weights). A checkpoint every N epochs holds everything, and a
 * resumed run continues from it to the same final bits as an uninterrupted one: all randomness
 * is a function of (seed, epoch, step), none of it of the process's history.
 */
#ifndef NN_FIT_H
#define NN_FIT_H

#include <stdint.h>
#include <stdio.h>

#include "nn_model.h"

typedef struct {
  const char *data, *split;
  int epochs, batch;
  float lr;                 /* Adam */
  uint64_t seed;
  double val_fraction;      /* of the split, for validation; 0 = none */
  int patience;             /* early stopping; 0 = off */
  const char *checkpoint;   /* path or NULL */
  int checkpoint_every;     /* epochs */
  int resume;               /* continue from the checkpoint when it exists */
  int threads;              /* OpenBLAS threads */
  FILE *log;                /* one line per epoch, or NULL */
} nn_fit_opts;

typedef struct {
  double *history;          /* rows x 5: epoch, loss, acc, val_loss, val_acc (malloc'd) */
  int history_rows;
  int best_epoch;
  int epochs_run;           /* in this process (after a resume: the remaining ones) */
  int stopped_early;
  double seconds;
} nn_fit_result;

#define NN_HISTORY_COLUMNS "epoch,loss,acc,val_loss,val_acc"

/* Train m (built for this dataset's modality and classes) on opts->data. */
int nn_fit(nn_model *m, const char *architecture, const nn_fit_opts *opts, nn_fit_result *res);

#endif
