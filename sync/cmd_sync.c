/*
 * `cmact sync`: the command line of the sync stage. Parses options into sync_run_args and runs
 * the job (sync_run.c); every option's meaning is in the usage text in cmact.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int cmd_sync(int argc, char **argv) {
  sync_run_args a;
  memset(&a, 0, sizeof a);
  sync_opts_default(&a.opts);
  cm_split_spec_default(&a.split);
  a.threads = 2;
  a.inputs = cm_xmalloc((size_t)argc * sizeof *a.inputs);
  const char *split_path = NULL;
  long seed = -1;
  int rc = CM_EXIT_USAGE;
  /* the command line, for the dataset's provenance */
  char cmdline[1024] = "cmact";
  for (int i = 0; i < argc; i++) {
    /* The thread count never changes the output, so it is not part of the provenance: two
     * builds differing only in --threads are the same file. */
    if ((strcmp(argv[i], "--threads") == 0 || strcmp(argv[i], "-j") == 0) && i + 1 < argc) {
      i++;
      continue;
    }
    size_t l = strlen(cmdline);
    snprintf(cmdline + l, sizeof cmdline - l, " %s", argv[i]);
  }
  a.command_line = cmdline;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    double d;
    long n;
#define NEED_VALUE()                                                            \
  do {                                                                          \
    if (!v) {                                                                   \
      rc = cmact_help_exit("sync", 1, "%s needs a value", o);                   \
      goto out;                                                                 \
    }                                                                           \
    i++;                                                                        \
  } while (0)
#define BAD() do { rc = cmact_help_exit("sync", 1, "%s", cm_error()); goto out; } while (0)
    if (strcmp(o, "--out") == 0 || strcmp(o, "-o") == 0) {
      NEED_VALUE();
      a.out_path = v;
    } else if (strcmp(o, "--split") == 0) {
      NEED_VALUE();
      split_path = v;
    } else if (strcmp(o, "--report") == 0) {
      NEED_VALUE();
      a.report_path = v;
    } else if (strcmp(o, "--seed") == 0) {
      NEED_VALUE();
      if (cm_parse_long(v, "--seed", &seed) || seed < 0) BAD();
    } else if (strcmp(o, "--threads") == 0 || strcmp(o, "-j") == 0) {
      NEED_VALUE();
      if (cm_parse_long(v, "--threads", &n)) BAD();
      if (n < 1 || n > 256) {
        rc = cmact_help_exit("sync", 1, "--threads must be 1..256");
        goto out;
      }
      a.threads = (int)n;
    } else if (strcmp(o, "--window") == 0 || strcmp(o, "--hop") == 0 || strcmp(o, "--max-gap") == 0) {
      NEED_VALUE();
      if (cm_parse_double(v, o, &d)) BAD();
      if (!(d > 0 && d <= 60)) {
        rc = cmact_help_exit("sync", 1, "%s must be in (0, 60] seconds", o);
        goto out;
      }
      if (o[2] == 'w') a.opts.window_s = d;
      else if (o[2] == 'h') a.opts.hop_s = d;
      else a.opts.max_gap_s = d;
    } else if (strcmp(o, "--frames") == 0 || strcmp(o, "--size") == 0 || strcmp(o, "--imu-steps") == 0) {
      NEED_VALUE();
      if (cm_parse_long(v, o, &n)) BAD();
      if (n < 1 || n > 1024) {
        rc = cmact_help_exit("sync", 1, "%s must be 1..1024", o);
        goto out;
      }
      if (o[2] == 'f') a.opts.video_frames = (int)n;
      else if (o[2] == 's') a.opts.video_size = (int)n;
      else a.opts.imu_steps = (int)n;
    } else if (strcmp(o, "--keep-straddling") == 0) {
      a.opts.keep_straddling = 1;
    } else if (strcmp(o, "--no-refine") == 0) {
      a.opts.refine = 0;
    } else if (strcmp(o, "--refine") == 0) {
      NEED_VALUE();
      if (strcmp(v, "best") == 0) a.opts.refine = SYNC_REFINE_BEST;
      else if (strcmp(v, "confident") == 0) a.opts.refine = SYNC_REFINE_CONFIDENT;
      else if (strcmp(v, "off") == 0) a.opts.refine = 0;
      else {
        rc = cmact_help_exit("sync", 1, "--refine must be best, confident or off, not '%s'", v);
        goto out;
      }
    } else if (strcmp(o, "--force") == 0) {
      a.overwrite = 1;
    } else if (strcmp(o, "--inject-offset") == 0) {
      NEED_VALUE();
      if (parse_inject(v, a.opts.inject.offset_s, o)) BAD();
    } else if (strcmp(o, "--inject-drift") == 0) {
      NEED_VALUE();
      if (parse_inject(v, a.opts.inject.drift_ppm, o)) BAD();
    } else if (o[0] == '-' && o[1]) {
      rc = cmact_help_exit("sync", 1, "unknown option '%s'", o);
      goto out;
    } else {
      a.inputs[a.n_inputs++] = argv[i];
    }
  }
  if (!a.out_path) {
    rc = cmact_help_exit("sync", 1, "--out DATASET.h5 is required");
    goto out;
  }
  if (a.n_inputs == 0) {
    rc = cmact_help_exit("sync", 1, "no session files given");
    goto out;
  }
  if (a.opts.hop_s > a.opts.window_s) {
    rc = cmact_help_exit("sync", 1, "--hop is longer than --window");
    goto out;
  }
  if (split_path && cm_split_spec_load(split_path, &a.split)) BAD();
  if (seed >= 0) a.split.seed = (uint64_t)seed;
  for (int r = 0; r < SR_COUNT; r++) {
    double x = a.opts.inject.offset_s[r] < 0 ? -a.opts.inject.offset_s[r] : a.opts.inject.offset_s[r];
    if (x > a.inject_any_s) a.inject_any_s = x;
  }
  rc = sync_run(&a, stdout) ? cm_fail_error("sync") : CM_EXIT_OK;
out:
  free(a.inputs);
  return rc;
}
