/*
 * sync_run: the whole `cmact sync` job, from session files to a dataset file and a report.
 *
 *   0. group the input files by session_id (sorted: the order of everything after is the
 *      order of session ids, never of the command line or of the file system);
 *   1. give each session its role (train / test / personal_*) from the split spec;
 *   2. plan every session in parallel (clock model, refinement, windows, labels);
 *   3. deal the training windows into pretrain / transfer / limited;
 *   4. build window content in parallel, in runs of at most 32 windows, and append them to the
 *      dataset strictly in (session, window) order, with the training-set statistics;
 *   5. write the per-session table, the statistics and the class counts, close the dataset,
 *      print the report table and write the JSON report.
 */
#ifndef CM_SYNC_RUN_H
#define CM_SYNC_RUN_H

#include <stdio.h>

#include "splits.h"
#include "sync_session.h"

typedef struct {
  const char *out_path;
  char **inputs; /* files, or folders whose *.h5 files are taken */
  int n_inputs;
  int threads;
  int overwrite;
  sync_opts opts;
  cm_split_spec split;
  const char *report_path;  /* JSON report; NULL: OUT.report.json */
  const char *command_line;
  double inject_any_s;      /* for the sessions table: the largest injected offset */
} sync_run_args;

/* Returns 0, or -1 with cm_error() set (the dataset is not left behind). The report table goes
 * to `table`. */
int sync_run(sync_run_args *a, FILE *table);

#endif
