/*
 * exp: the experiments of `cmact experiment` (the study's Table 3 and Figures 3-5, and the
 * sync-error sweep the study left for future work), built on proc.h.
 *
 * An experiment loads the splits it needs into memory once (exp_ctx), trains the teachers,
 * then runs its independent jobs (one run of one transfer, one scratch model, ...) on a thread
 * pool; every job's result is a pure function of its seed, so the numbers are the same for
 * any number of threads. Each run uses single-threaded BLAS: the parallelism is across runs.
 *
 * Outputs, in --out DIR: NAME.md (the table, also printed), NAME.csv (one row per run and
 * procedure), NAME.json (everything, with the settings), and figures as PNG and SVG, the
 * paper's numbers beside ours where the paper has them.
 */
#ifndef EXP_H
#define EXP_H

#include <stdint.h>
#include <stdio.h>

#include "cm_dataset.h"
#include "proc.h"

typedef struct {
  const char *data;          /* dataset file */
  const char *out;           /* output folder */
  int runs;                  /* seeds 1..runs */
  int threads;
  const char *video_input;   /* "FxSxSxC" or NULL for the dataset's own */
  proc_config cfg;
  uint64_t seed;             /* base seed: run r uses seed + r */
  const char *pair;          /* labels / sync-error: "video-imu" etc. */
  const char *label_counts;  /* labels: "10,20,50,..." */
  /* sync-error */
  const char *sessions;      /* folder of session files */
  const char *cmact;         /* the cmact binary to run sync with */
  const char *offsets;       /* "0,0.05,..." seconds */
  const char *sync_args;     /* extra arguments for cmact sync (e.g. "--frames 9 --size 16") */
  /* fusion-sync */
  const char *train_sessions; /* folder of the session files --data was built from */
  const char *aug_offsets;    /* IMU offsets of the shift-augmented training copies, seconds */
  double aug_fraction;        /* of the training sessions that get a shifted copy */
  FILE *log;                 /* stdout */
} exp_opts;

exp_opts exp_opts_default(void);

int exp_table3(const exp_opts *o, int with_curves);  /* table3 (and Fig. 3 with curves) */
int exp_labels(const exp_opts *o);
int exp_related(const exp_opts *o);
int exp_sync_error(const exp_opts *o);
int exp_fusion_sync(const exp_opts *o);   /* exp_fusion.c */

/* ---- shared pieces (exp_core.c) ---- */
typedef int (*exp_job_fn)(void *ctx, int job);
/* Run jobs 0..n-1 on `threads` threads; weights (NULL: all 1) drive the progress estimate.
 * Returns 0 or the first failing job's -1 with its error line. */
int exp_pool_run(int n, int threads, const double *weights, exp_job_fn fn, void *ctx, const char *what);

typedef struct {
  cm_dataset_desc desc;
  proc_set pre[3], transfer[3], limited[3], test[3]; /* by nn_modality; n == 0 when not loaded */
} exp_data;

/* Load the four study splits for the modalities whose bit is set in mask (1 << NN_MOD_*). */
int exp_data_load(exp_data *d, const char *path, unsigned mask, const char *video_input);
void exp_data_free(exp_data *d);

/* Parse "video-imu" into teacher and student modalities. */
int exp_pair_parse(const char *s, nn_modality *teacher, nn_modality *student);
/* mkdir -p */
int exp_mkdir(const char *path);
/* Remove the folders exp_mkdir created in this run that are still empty (after a failure). */
void exp_remove_empty_created(void);
/* The one published curve on this dataset: Sandha et al. (IoTDI 2020), audio+IMU fusion on
 * CMActivity, accuracy (%) against an IMU offset (s), trained aligned and with shifts up to 1 s.
 * Both sync experiments plot it beside their own curves. */
#define EXP_SANDHA_N 3
extern const double exp_sandha_offset_s[EXP_SANDHA_N], exp_sandha_acc[EXP_SANDHA_N],
    exp_sandha_acc_shifted[EXP_SANDHA_N];
/* "Sandha et al. (IoTDI 2020), audio+IMU fusion on CMActivity: 96.1% at 0 s, ... (97.2 / ... trained
 * with shifts up to 1 s)", from the numbers above. */
const char *exp_sandha_text(char *buf, size_t n);
/* DIR/NAME */
const char *exp_path(const exp_opts *o, const char *name, char *buf, size_t n);
/* A line stating the input sizes, the selection rule and the settings, for every report. */
void exp_settings_line(const exp_opts *o, const exp_data *d, char *buf, size_t n);

#endif
