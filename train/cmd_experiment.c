/*
 * `cmact experiment table3|epochs|labels|related|sync-error|fusion-sync`: the study's protocol on a dataset
 * file (see exp.h). Options set the procedures' epochs and sizes; the defaults are the study's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "exp.h"

/* --video-widths C1,C2,C3,C4,FC: a narrower video_c3d (the paper's 32,64,128,128,372) for CPU
 * runs. */
static int video_widths(const char *v, void *dest) {
  proc_config *cfg = dest;
  int w[5], used = 0;
  if (sscanf(v, "%d,%d,%d,%d,%d%n", &w[0], &w[1], &w[2], &w[3], &w[4], &used) != 5 || v[used] != 0 ||
      w[0] < 1 || w[1] < 1 || w[2] < 1 || w[3] < 1 || w[4] < 1 || w[0] > 4096 || w[1] > 4096 || w[2] > 4096 ||
      w[3] > 4096 || w[4] > 65536)
    return cm_set_error("--video-widths '%s': expected five positive integers C1,C2,C3,C4,FC", v);
  memcpy(cfg->video_conv, w, sizeof cfg->video_conv);
  cfg->video_fc = w[4];
  return 0;
}

int cmd_experiment(int argc, char **argv) {
  if (argc < 2) return cmact_help_exit("experiment", 1, "which experiment? (table3, epochs, labels, related, sync-error, fusion-sync)");
  const char *which = argv[1];
  if (which[0] == '-')
    return cmact_help_exit("experiment", 1, "unknown option '%s' (the experiment comes first: table3, epochs, labels, "
                                            "related, sync-error, fusion-sync)", which);
  exp_opts o = exp_opts_default();
  o.log = stdout;
  int seed = 0;
  const int count_max = 100000000; /* the largest count (runs, epochs, ...) and seed taken */
  const cm_opt opts[] = {
      CM_OPT_STRING("data", 0, &o.data),
      CM_OPT_STRING("out", 0, &o.out),
      CM_OPT_STRING("input", 0, &o.video_input),
      CM_OPT_STRING("pair", 0, &o.pair),
      CM_OPT_STRING("label-counts", 0, &o.label_counts),
      CM_OPT_STRING("sessions", 0, &o.sessions),
      CM_OPT_STRING("offsets", 0, &o.offsets),
      CM_OPT_STRING("sync-args", 0, &o.sync_args),
      CM_OPT_STRING("cmact", 0, &o.cmact),
      CM_OPT_STRING("train-sessions", 0, &o.train_sessions),
      CM_OPT_STRING("aug-offsets", 0, &o.aug_offsets),
      CM_OPT_DOUBLE_IN("aug-fraction", 0, &o.aug_fraction, 0, 1),
      CM_OPT_INT_IN("runs", 0, &o.runs, 1, count_max),
      CM_OPT_INT_IN("threads", 0, &o.threads, 1, count_max),
      CM_OPT_INT_IN("seed", 0, &seed, 0, count_max),
      CM_OPT_INT_IN("teacher-epochs", 0, &o.cfg.teacher_epochs, 1, count_max),
      CM_OPT_INT_IN("transfer-epochs", 0, &o.cfg.transfer_epochs, 1, count_max),
      CM_OPT_INT_IN("limited-epochs", 0, &o.cfg.limited_epochs, 1, count_max),
      CM_OPT_INT_IN("scratch-epochs", 0, &o.cfg.scratch_epochs, 1, count_max),
      CM_OPT_INT_IN("labels", 0, &o.cfg.limit_n, 1, count_max),
      CM_OPT_INT_IN("batch", 0, &o.cfg.batch, 1, count_max),
      CM_OPT_INT_IN("patience", 0, &o.cfg.patience, 0, count_max),
      CM_OPT_CALLBACK("video-widths", 0, video_widths, &o.cfg),
      CM_OPT_END,
  };
  /* argv[1] is the experiment; its options follow */
  if (cm_opts_parse(opts, argc - 1, argv + 1, 0) < 0) return cmact_help_exit("experiment", 1, "%s", cm_error());
  o.seed = (uint64_t)seed;
  if (!o.data) return cmact_help_exit("experiment", 1, "--data is required");
  if (!o.out) return cmact_help_exit("experiment", 1, "--out is required");
  int64_t t0 = cm_monotonic_ns();
  int rc;
  if (!strcmp(which, "table3")) rc = exp_table3(&o, 0);
  else if (!strcmp(which, "epochs")) rc = exp_table3(&o, 1);
  else if (!strcmp(which, "labels")) rc = exp_labels(&o);
  else if (!strcmp(which, "related")) rc = exp_related(&o);
  else if (!strcmp(which, "sync-error")) {
    if (!o.sessions) return cmact_help_exit("experiment", 1, "sync-error needs --sessions FOLDER");
    rc = exp_sync_error(&o);
  } else if (!strcmp(which, "fusion-sync")) {
    if (!o.sessions) return cmact_help_exit("experiment", 1, "fusion-sync needs --sessions FOLDER (multi-activity test sessions)");
    if (!o.train_sessions && o.aug_fraction > 0)
      return cmact_help_exit("experiment", 1, "fusion-sync needs --train-sessions FOLDER (the sessions --data was built "
                                              "from) for the shift-trained model, or --aug-fraction 0");
    rc = exp_fusion_sync(&o);
  } else
    return cmact_help_exit("experiment", 1, "unknown experiment '%s' (table3, epochs, labels, related, sync-error, fusion-sync)", which);
  if (rc < 0) {
    exp_remove_empty_created();
    return cm_fail_error("experiment");
  }
  printf("experiment %s: %.1f s wall on %d threads; files in %s\n", which,
         (double)(cm_monotonic_ns() - t0) * 1e-9, o.threads, o.out);
  return CM_EXIT_OK;
}
