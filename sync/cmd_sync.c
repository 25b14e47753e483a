/*
 * `cmact sync`: the command line of the sync stage. Parses options (cm_opts.h) into
 * sync_run_args and runs the job (sync_run.c); every option's meaning is in the usage text in
 * cmact.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "sync_run.h"

/* MOD=VALUE for --inject-offset / --inject-drift; "imu" means both wrists. */
static int parse_inject(const char *arg, double *per_role, const char *opt) {
  const char *eq = strchr(arg, '=');
  if (!eq) return cm_set_error("%s '%s': expected MODALITY=VALUE", opt, arg);
  size_t l = (size_t)(eq - arg);
  double v;
  if (cm_parse_double(eq + 1, opt, &v)) return -1;
  int hit = 0;
  for (int r = 0; r < SR_COUNT; r++) {
    const char *name = sync_role_names[r];
    int match = (strlen(name) == l && strncmp(arg, name, l) == 0) ||
                (l == 3 && strncmp(arg, "imu", 3) == 0 && (r == SR_IMU_L || r == SR_IMU_R));
    if (match) per_role[r] = v, hit = 1;
  }
  if (!hit) return cm_set_error("%s '%s': modality must be video, audio, imu, imu_left or imu_right", opt, arg);
  return 0;
}

static int opt_inject_offset(const char *v, void *dest) {
  return parse_inject(v, ((sync_opts *)dest)->inject.offset_s, "--inject-offset");
}

static int opt_inject_drift(const char *v, void *dest) {
  return parse_inject(v, ((sync_opts *)dest)->inject.drift_ppm, "--inject-drift");
}

static int opt_refine(const char *v, void *dest) {
  int *refine = dest;
  if (strcmp(v, "best") == 0) *refine = SYNC_REFINE_BEST;
  else if (strcmp(v, "confident") == 0) *refine = SYNC_REFINE_CONFIDENT;
  else if (strcmp(v, "off") == 0) *refine = 0;
  else return cm_set_error("--refine must be best, confident or off, not '%s'", v);
  return 0;
}

int cmd_sync(int argc, char **argv) {
  sync_run_args a;
  memset(&a, 0, sizeof a);
  sync_opts_default(&a.opts);
  cm_split_spec_default(&a.split);
  a.threads = 2;
  const char *split_path = NULL;
  long seed = -1;
  /* the command line, for the dataset's provenance (before the parser rearranges argv) */
  char cmdline[1024] = "cmact";
  for (int i = 0; i < argc; i++) {
    /* The thread count never changes the output, so it is not part of the provenance: two
     * builds differing only in --threads are the same file. */
    if ((strcmp(argv[i], "--threads") == 0 || strcmp(argv[i], "-j") == 0) && i + 1 < argc) {
      i++;
      continue;
    }
    if (strncmp(argv[i], "--threads=", 10) == 0) continue;
    size_t l = strlen(cmdline);
    snprintf(cmdline + l, sizeof cmdline - l, " %s", argv[i]);
  }
  a.command_line = cmdline;
  const cm_opt opts[] = {
      CM_OPT_STRING("out", 'o', &a.out_path),
      CM_OPT_STRING("split", 0, &split_path),
      CM_OPT_STRING("report", 0, &a.report_path),
      CM_OPT_LONG_RANGE("seed", 0, &seed, CM_OPT_MIN, 0, 0),
      CM_OPT_INT_IN("threads", 'j', &a.threads, 1, 256),
      CM_OPT_DOUBLE_RANGE("window", 0, &a.opts.window_s, CM_OPT_MIN | CM_OPT_MIN_OPEN | CM_OPT_MAX, 0, 60),
      CM_OPT_DOUBLE_RANGE("hop", 0, &a.opts.hop_s, CM_OPT_MIN | CM_OPT_MIN_OPEN | CM_OPT_MAX, 0, 60),
      CM_OPT_DOUBLE_RANGE("max-gap", 0, &a.opts.max_gap_s, CM_OPT_MIN | CM_OPT_MIN_OPEN | CM_OPT_MAX, 0, 60),
      CM_OPT_INT_IN("frames", 0, &a.opts.video_frames, 1, 1024),
      CM_OPT_INT_IN("size", 0, &a.opts.video_size, 1, 1024),
      CM_OPT_INT_IN("imu-steps", 0, &a.opts.imu_steps, 1, 1024),
      CM_OPT_FLAG("keep-straddling", 0, &a.opts.keep_straddling),
      CM_OPT_SET_INT("no-refine", 0, &a.opts.refine, 0),
      CM_OPT_CALLBACK("refine", 0, opt_refine, &a.opts.refine),
      CM_OPT_FLAG("force", 0, &a.overwrite),
      CM_OPT_CALLBACK("inject-offset", 0, opt_inject_offset, &a.opts),
      CM_OPT_CALLBACK("inject-drift", 0, opt_inject_drift, &a.opts),
      CM_OPT_END,
  };
  a.n_inputs = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY);
  if (a.n_inputs < 0) return cmact_help_exit("sync", 1, "%s", cm_error());
  a.inputs = argv + 1; /* where the parser put the positional arguments */
  if (!a.out_path) return cmact_help_exit("sync", 1, "--out DATASET.h5 is required");
  if (a.n_inputs == 0) return cmact_help_exit("sync", 1, "no session files given");
  if (a.opts.hop_s > a.opts.window_s) return cmact_help_exit("sync", 1, "--hop is longer than --window");
  if (split_path && cm_split_spec_load(split_path, &a.split)) return cmact_help_exit("sync", 1, "%s", cm_error());
  if (seed >= 0) a.split.seed = (uint64_t)seed;
  for (int r = 0; r < SR_COUNT; r++) {
    double x = a.opts.inject.offset_s[r] < 0 ? -a.opts.inject.offset_s[r] : a.opts.inject.offset_s[r];
    if (x > a.inject_any_s) a.inject_any_s = x;
  }
  return sync_run(&a, stdout) ? cm_fail_error("sync") : CM_EXIT_OK;
}
