/*
 * proc_fusion: supervised training and evaluation of the audio+IMU fusion model (nn_fusion.h)
 * on splits held in memory, the way proc.h trains the single-modality models.
 *
 * A fusion window is a pair of rows, one per modality, at the same index of two proc_sets
 * loaded from the same split of the same dataset (same windows, same order); the fitting code
 * checks that the labels agree row by row. Model selection is proc.h's: a validation part
 * (val_fraction) carved from the training pairs by the seed, the weights of the epoch with the
 * lowest validation loss kept; the test split is never passed in.
 */
#ifndef PROC_FUSION_H
#define PROC_FUSION_H

#include "nn_fusion.h"
#include "proc.h"

/* Train f on the pairs (imu[i], audio[i]) with labels imu->y. */
int proc_fit_fusion(nn_fusion *f, const proc_set *imu, const proc_set *audio, const proc_fit_opts *o,
                    proc_fit_result *r);
/* Accuracy in [0, 1] of f on the pairs (NaN for none). */
double proc_fusion_accuracy(nn_fusion *f, const proc_set *imu, const proc_set *audio);
/* out = a followed by b (same modality and window shape), in a copy. -1 with the error set
 * when they differ. */
int proc_set_concat(const proc_set *a, const proc_set *b, proc_set *out);

/* `cmact train fusion` (cmd_train_fusion.c). */
int proc_cmd_train_fusion(int argc, char **argv);

#endif
