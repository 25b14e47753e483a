/*
 * `cmact imu-capture`: record wrist IMU sensors alone into a session file.
 *
 * The IMU half of `cmact record` (issue 4 builds the camera/audio/chrony recorder and calls
 * the same capture API, imu_capture.h, for its --imu options). This command exists so that
 * IMU capture can be run, tested and used on its own: each --imu NAME=SPEC opens a source
 * (stream "imu_NAME"), the main loop moves rows and events into the session file every 100 ms
 * until --duration has passed or SIGINT/SIGTERM arrives, and a table of what happened per
 * stream is printed at the end.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_opts.h"
#include "cm_session.h"
#include "cm_util.h"
#include "cmds.h"
#include "imu_capture.h"

#define MAX_IMU 4

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = 1; }

/* The --imu sources given so far (filled by the option callback). */
typedef struct {
  char names[MAX_IMU][CM_EVENT_STREAM_LEN];
  const char *specs[MAX_IMU];
  int n;
} imu_list;

static int opt_imu(const char *v, void *dest) {
  imu_list *l = dest;
  const char *eq = strchr(v, '=');
  if (!eq || eq == v) return cm_set_error("--imu '%s': expected NAME=SPEC", v);
  if (l->n == MAX_IMU) return cm_set_error("at most %d --imu sources", MAX_IMU);
  if ((size_t)(eq - v) > CM_EVENT_STREAM_LEN - 5)
    return cm_set_error("--imu '%s': name longer than %d characters", v, CM_EVENT_STREAM_LEN - 5);
  snprintf(l->names[l->n], sizeof l->names[l->n], "imu_%.*s", (int)(eq - v), v);
  for (int k = 0; k < l->n; k++)
    if (!strcmp(l->names[k], l->names[l->n])) return cm_set_error("--imu '%s': name used twice", v);
  if (cm_imu_spec_check(eq + 1) < 0) return cm_prefix_error("--imu");
  l->specs[l->n++] = eq + 1;
  return 0;
}

int cmd_imu_capture(int argc, char **argv) {
  const char *cmd = "imu-capture";
  if (cmact_wants_help(argc, argv)) return cmact_help_exit(cmd, 0, NULL);
  imu_list imu = {.n = 0};
  int overwrite = 0;
  const char *out = NULL, *session_id = NULL, *user = "", *location = "";
  double duration = 0;
  long rate = 52;
  const cm_opt opts[] = {
      CM_OPT_CALLBACK("imu", 0, opt_imu, &imu),
      CM_OPT_STRING("out", 0, &out),
      CM_OPT_DOUBLE_RANGE("duration", 0, &duration, CM_OPT_MIN, 0, 0),
      CM_OPT_LONG_IN("rate", 0, &rate, 1, 10000),
      CM_OPT_STRING("session", 0, &session_id),
      CM_OPT_STRING("user", 0, &user),
      CM_OPT_STRING("location", 0, &location),
      CM_OPT_FLAG("overwrite", 0, &overwrite),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit(cmd, 1, "%s", cm_error());
  if (!imu.n) return cmact_help_exit(cmd, 1, "no --imu NAME=SPEC given");
  if (!out) return cmact_help_exit(cmd, 1, "no --out FILE.h5 given");

  char host[64] = "";
  gethostname(host, sizeof host - 1);
  char sid_buf[64];
  if (!session_id) {
    snprintf(sid_buf, sizeof sid_buf, "imu-%lld", (long long)(cm_realtime_ns() / 1000000000));
    session_id = sid_buf;
  }
  cm_session_info info = {.session_id = session_id, .user = user, .location = location, .host = host};
  cm_session *ses = cm_session_create(out, &info, overwrite);
  if (!ses) return cm_fail_error(cmd);

  cm_imu_options io;
  cm_imu_options_default(&io);
  io.acc_rate = io.gyro_rate = (int)rate;
  cm_imu_source *src[MAX_IMU] = {0};
  int sid[MAX_IMU];
  int rc = CM_EXIT_OK;
  for (int k = 0; k < imu.n; k++) {
    src[k] = cm_imu_source_open(imu.specs[k], imu.names[k], &io);
    if (!src[k]) {
      rc = cm_fail(CM_EXIT_FAIL, cmd, "--imu %s=%s: %s", imu.names[k] + 4, imu.specs[k], cm_error());
      goto done;
    }
    cm_stream_desc d;
    cm_imu_source_describe(src[k], &d);
    sid[k] = cm_session_add_stream(ses, &d);
    if (sid[k] < 0) {
      rc = cm_fail_error(cmd);
      goto done;
    }
  }
  if (cm_session_start(ses) < 0) {
    rc = cm_fail_error(cmd);
    goto done;
  }

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  cm_progress prog;
  cm_progress_begin(&prog, "recording IMU", duration > 0 ? (int64_t)(duration * 10) : 0);
  int64_t t0 = cm_monotonic_ns();
  while (!interrupted) {
    usleep(100000);
    for (int k = 0; k < imu.n; k++)
      if (cm_imu_source_write(src[k], ses, sid[k]) < 0) {
        rc = cm_fail_error(cmd);
        goto done;
      }
    double el = (cm_monotonic_ns() - t0) / 1e9;
    cm_progress_step(&prog, (int64_t)(el * 10));
    if (duration > 0 && el >= duration) break;
  }
  cm_progress_end(&prog);
  for (int k = 0; k < imu.n; k++) {
    cm_imu_source_finish(src[k]);
    if (cm_imu_source_write(src[k], ses, sid[k]) < 0) {
      rc = cm_fail_error(cmd);
      goto done;
    }
  }
  printf("%-12s %-28s %8s %8s %8s %6s %6s %6s %6s %6s\n", "stream", "source", "frames", "samples",
         "rows", "lost", "dup", "late", "gaps", "bad");
  for (int k = 0; k < imu.n; k++) {
    cm_imu_stats s = cm_imu_source_stats(src[k]);
    printf("%-12s %-28s %8lld %8lld %8lld %6lld %6lld %6lld %6lld %6lld\n", imu.names[k], imu.specs[k],
           (long long)s.frames, (long long)s.samples, (long long)s.rows, (long long)s.lost_frames,
           (long long)s.duplicates, (long long)s.reordered, (long long)s.gaps, (long long)s.bad_frames);
  }
done:
  for (int k = 0; k < imu.n; k++) cm_imu_source_close(src[k]);
  if (cm_session_close(ses) < 0 && rc == CM_EXIT_OK) rc = cm_fail_error(cmd);
  if (rc == CM_EXIT_OK) printf("wrote %s\n", out);
  return rc;
}
