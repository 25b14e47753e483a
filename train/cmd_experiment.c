/*
 * `cmact experiment table3|epochs|labels|related|sync-error|fusion-sync`: the study's protocol on a dataset
 * file (see exp.h). Options set the procedures' epochs and sizes; the defaults are the study's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "cmds.h"
#include "exp.h"

static int int_opt(const char *k, const char *v, int lo, int *out) {
  long n;
  if (cm_parse_long(v, k, &n) < 0 || n < lo || n > 100000000)
    return cmact_help_exit("experiment", 1, "%s '%s' must be an integer >= %d", k, v, lo);
  *out = (int)n;
  return 0;
}

int cmd_experiment(int argc, char **argv) {
  if (argc < 2) return cmact_help_exit("experiment", 1, "which experiment? (table3, epochs, labels, related, sync-error, fusion-sync)");
  const char *which = argv[1];
  exp_opts o = exp_opts_default();
  o.log = stdout;
  int seed = 0;
  for (int i = 2; i < argc; i++) {
    const char *k = argv[i];
    if (i + 1 >= argc) return cmact_help_exit("experiment", 1, "option '%s' needs a value", k);
    const char *v = argv[++i];
    int rc = 0;
    if (!strcmp(k, "--data")) o.data = v;
    else if (!strcmp(k, "--out")) o.out = v;
    else if (!strcmp(k, "--input")) o.video_input = v;
    else if (!strcmp(k, "--pair")) o.pair = v;
    else if (!strcmp(k, "--label-counts")) o.label_counts = v;
    else if (!strcmp(k, "--sessions")) o.sessions = v;
    else if (!strcmp(k, "--offsets")) o.offsets = v;
    else if (!strcmp(k, "--sync-args")) o.sync_args = v;
    else if (!strcmp(k, "--cmact")) o.cmact = v;
    else if (!strcmp(k, "--train-sessions")) o.train_sessions = v;
    else if (!strcmp(k, "--aug-offsets")) o.aug_offsets = v;
    else if (!strcmp(k, "--aug-fraction")) {
      if (cm_parse_double(v, k, &o.aug_fraction) < 0 || !(o.aug_fraction >= 0 && o.aug_fraction <= 1))
        return cmact_help_exit("experiment", 1, "--aug-fraction '%s' must be a number in [0, 1]", v);
    }
    else if (!strcmp(k, "--runs")) rc = int_opt(k, v, 1, &o.runs);
    else if (!strcmp(k, "--threads")) rc = int_opt(k, v, 1, &o.threads);
    else if (!strcmp(k, "--seed")) rc = int_opt(k, v, 0, &seed);
    else if (!strcmp(k, "--teacher-epochs")) rc = int_opt(k, v, 1, &o.cfg.teacher_epochs);
    else if (!strcmp(k, "--transfer-epochs")) rc = int_opt(k, v, 1, &o.cfg.transfer_epochs);
    else if (!strcmp(k, "--limited-epochs")) rc = int_opt(k, v, 1, &o.cfg.limited_epochs);
    else if (!strcmp(k, "--scratch-epochs")) rc = int_opt(k, v, 1, &o.cfg.scratch_epochs);
    else if (!strcmp(k, "--labels")) rc = int_opt(k, v, 1, &o.cfg.limit_n);
    else if (!strcmp(k, "--batch")) rc = int_opt(k, v, 1, &o.cfg.batch);
    else if (!strcmp(k, "--patience")) rc = int_opt(k, v, 0, &o.cfg.patience);
    else if (!strcmp(k, "--video-widths")) {
      /* C1,C2,C3,C4,FC: a narrower video_c3d (the paper's 32,64,128,128,372) for CPU runs */
      int w[5], used = 0;
      if (sscanf(v, "%d,%d,%d,%d,%d%n", &w[0], &w[1], &w[2], &w[3], &w[4], &used) != 5 || v[used] != 0 ||
          w[0] < 1 || w[1] < 1 || w[2] < 1 || w[3] < 1 || w[4] < 1 || w[0] > 4096 || w[1] > 4096 || w[2] > 4096 ||
          w[3] > 4096 || w[4] > 65536)
        return cmact_help_exit("experiment", 1, "--video-widths '%s': expected five positive integers C1,C2,C3,C4,FC", v);
      memcpy(o.cfg.video_conv, w, sizeof o.cfg.video_conv);
      o.cfg.video_fc = w[4];
    }
    else return cmact_help_exit("experiment", 1, "unknown option '%s'", k);
    if (rc) return rc;
  }
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
