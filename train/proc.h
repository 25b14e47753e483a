/*
 * proc: the RecycleML procedures (DESIGN.md section 1) on top of the training engine.
 *
 *   teacher                 a modality's full model trained on `pretrain` with labels
 *   transfer                the student's lower network g (its model up to DENSE_1, before the
 *                           ReLU) trained with MSE against the teacher's DENSE_1 outputs f(X) on
 *                           the synchronized, unlabelled `transfer` windows
 *   PureTransfer            g followed by the teacher's own DENSE_1_relu + output layer
 *   Transfer+LimitedTrain   g frozen, a new DENSE_1_relu + output layer trained on LimitTrainSet
 *                           (n windows drawn by the seed from `limited`)
 *   Scratch                 the full student model trained on LimitTrainSet alone
 *
 * Everything works on splits held in memory (proc_set): a run reads nothing from disk, so
 * independent runs can go in parallel threads (HDF5 is entered only by the thread that loads
 * the sets) and a run's result depends on nothing but its inputs and its seed.
 *
 * Model selection: every procedure carves a seeded validation part out of its own training
 * data (val_fraction of it) and keeps the weights of the epoch with the lowest validation loss
 * (Keras restore_best_weights). The test split is never passed to a fitting function for
 * selection; a `monitor` set may be given to record its accuracy per epoch for the figures
 * (Fig. 3), and the fitting code never reads those numbers back (a test checks that the
 * selected weights are identical with and without a monitor).
 *
 * Transfer+LimitedTrain trains the new head on the frozen g's outputs computed once (g in
 * inference mode, i.e. without dropout): with g frozen this is the same optimisation as running
 * the whole model, minus the dropout noise inside the frozen layers, and 100x cheaper.
 */
#ifndef PROC_H
#define PROC_H

#include <stddef.h>
#include <stdint.h>

#include "cm_dataset.h"
#include "nn_data.h"
#include "nn_model.h"
#include "nn_optim.h"

/* One split of one modality, as network input, in memory. */
typedef struct {
  nn_modality mod;
  int shape[4], ndim;
  size_t dim;              /* floats per window */
  int64_t n;
  float *x;                /* n * dim */
  int32_t *y;              /* n labels */
  int32_t *session;        /* n session indices */
  int64_t *t_start_ns;     /* n window starts on the reference timeline */
} proc_set;

/* Read a whole split of modality `mod` at model input shape `shape` (NULL: the dataset's own
 * shape). Returns 0, or -1 with the error line set. */
int proc_set_load(cm_dataset *d, const char *split, nn_modality mod, const int *shape, int ndim,
                  proc_set *s);
/* A copy of rows[0..n) of s. */
void proc_set_subset(const proc_set *s, const int64_t *rows, int64_t n, proc_set *out);
/* Draw n rows of s without replacement by the seed (all of them when n >= s->n), in a copy. */
void proc_set_draw(const proc_set *s, int64_t n, uint64_t seed, proc_set *out);
/* Relabel through map[old] (entries < 0 drop the window). */
void proc_set_relabel(proc_set *s, const int *map);
void proc_set_free(proc_set *s);

/* Model input shape of an architecture for a dataset: video at `video_input` ("FxSxSxC", NULL
 * for the dataset's own). */
int proc_input_shape(cm_dataset *d, nn_modality mod, const char *video_input, int *shape, int *ndim);
const char *proc_arch_of(nn_modality mod);   /* "imu_cnn", "audio_mlp", "video_c3d" */
int proc_modality_parse(const char *s, nn_modality *mod);
const char *proc_modality_name(nn_modality mod);

/* ---- fitting ---- */
typedef struct {
  int epochs, batch;
  float lr;                /* Adam */
  uint64_t seed;           /* validation carve and batch order */
  double val_fraction;     /* of the training data; 0 = no selection (last epoch kept) */
  int patience;            /* stop after this many epochs without a lower validation loss; 0 off */
  const proc_set *monitor; /* classification only: accuracy recorded per epoch, never used */
} proc_fit_opts;

/* Per-epoch record: epoch, train loss, val loss, val acc, monitor acc (NaN where absent). */
#define PROC_CURVE_COLS 5
typedef struct {
  double *curve;           /* epochs_run x PROC_CURVE_COLS, malloc'd */
  int epochs_run;
  int best_epoch;          /* 1-based; the weights m holds afterwards */
  double best_val_loss;
  double seconds;
} proc_fit_result;

/* The training loop every procedure shares, for a model behind callbacks (proc_fit.c's
 * nn_model, proc_fusion.c's two-input fusion model): the validation carve and the batch order
 * drawn from (seed, tag_val) and (seed, tag_order, epoch), Adam, patience, and the weights of
 * the lowest validation loss restored at the end. pass() runs one pass over rows (training
 * when opt is given) and returns -1 with the error set on a non-finite loss. */
typedef struct {
  void *ctx;
  int (*pass)(void *ctx, const int64_t *rows, int64_t n, int training, const nn_optimizer *opt, double *loss,
              double *acc);
  size_t n_params;
  void (*get_params)(void *ctx, float *out);
  void (*set_params)(void *ctx, const float *in);
  double (*monitor)(void *ctx); /* NULL, or an accuracy recorded per epoch and never used */
  uint64_t tag_val, tag_order;
} proc_trainee;
/* N >= 2 training rows, o->epochs and o->batch checked by the caller. */
int proc_fit_loop(const proc_trainee *t, int64_t N, const proc_fit_opts *o, proc_fit_result *r);

/* Supervised: softmax cross-entropy on set->y. */
int proc_fit_classifier(nn_model *m, const proc_set *set, const proc_fit_opts *o, proc_fit_result *r);
/* Regression: MSE of m(set->x) against targets (set->n x tdim). */
int proc_fit_regress(nn_model *m, const proc_set *set, const float *targets, size_t tdim,
                     const proc_fit_opts *o, proc_fit_result *r);
/* Outputs of m (inference mode) for every window of s: s->n x out (malloc'd). */
float *proc_predict(nn_model *m, const proc_set *s);
/* Classification accuracy of m on s, in [0, 1]. */
double proc_accuracy(nn_model *m, const proc_set *s);
void proc_fit_result_free(proc_fit_result *r);

/* ---- the procedures ---- */
typedef struct {
  int teacher_epochs, transfer_epochs, limited_epochs, scratch_epochs;
  int batch;                           /* 128 */
  float lr;                            /* Adam 1e-3 */
  double val_fraction;                 /* 0.1 */
  int patience;                        /* 0: the study's fixed epoch counts */
  int limit_n;                         /* LimitTrainSet size, 500 */
  int video_conv[4], video_fc;         /* video_c3d widths (32/64/128/128, 372); smaller for
                                          CPU demos, stated in every report */
} proc_config;

proc_config proc_config_study(void);   /* the study's settings */

/* teacher: a new model of `mod` (seed) trained on `pretrain`. */
nn_model *proc_teacher(const proc_set *pretrain, int n_classes, const proc_config *c, uint64_t seed,
                       proc_fit_result *r);
/* transfer: the teacher's DENSE_1 outputs on teacher_in are the targets for a new student
 * lower network on student_in (same windows, same order). Returns g (up to DENSE_1). */
nn_model *proc_transfer(nn_model *teacher, const proc_set *teacher_in, const proc_set *student_in,
                        int n_classes, const proc_config *c, uint64_t seed, proc_fit_result *r);
/* PureTransfer: g + the teacher's layers after DENSE_1. */
nn_model *proc_pure(const nn_model *g, const nn_model *teacher);
/* Transfer+LimitedTrain: g frozen + a new head of n_classes trained on `labelled`. */
nn_model *proc_limited(const nn_model *g, const proc_set *labelled, int n_classes,
                       const proc_config *c, uint64_t seed, const proc_set *monitor,
                       proc_fit_result *r);
/* Scratch: a new full student trained on `labelled`. */
nn_model *proc_scratch(nn_modality mod, const proc_set *labelled, int n_classes, const proc_config *c,
                       uint64_t seed, const proc_set *monitor, proc_fit_result *r);

/* ---- `cmact train teacher|transfer|pure|limited|scratch` (proc_cmd.c) ---- */
int proc_cmd_is_action(const char *action);
int proc_cmd_train(int argc, char **argv); /* argv[0] is the action */

#endif
