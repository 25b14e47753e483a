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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "cmds.h"
#include "imu_capture.h"

#define MAX_IMU 4

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = 1; }

int cmd_imu_capture(int argc, char **argv) {
  const char *cmd = "imu-capture";
  if (cmact_wants_help(argc, argv)) return cmact_help_exit(cmd, 0, NULL);
  static const struct option opts[] = {
      {"imu", required_argument, 0, 'i'},   {"out", required_argument, 0, 'o'},
      {"duration", required_argument, 0, 'd'}, {"rate", required_argument, 0, 'r'},
      {"session", required_argument, 0, 's'}, {"user", required_argument, 0, 'u'},
      {"location", required_argument, 0, 'l'}, {"overwrite", no_argument, 0, 'w'},
      {0, 0, 0, 0}};
  char names[MAX_IMU][CM_EVENT_STREAM_LEN];
  const char *specs[MAX_IMU];
  int n_imu = 0, overwrite = 0;
  const char *out = NULL, *session_id = NULL, *user = "", *location = "";
  double duration = 0;
  long rate = 52;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'i': {
      const char *eq = strchr(optarg, '=');
      if (!eq || eq == optarg) return cmact_help_exit(cmd, 1, "--imu '%s': expected NAME=SPEC", optarg);
      if (n_imu == MAX_IMU) return cmact_help_exit(cmd, 1, "at most %d --imu sources", MAX_IMU);
      if ((size_t)(eq - optarg) > CM_EVENT_STREAM_LEN - 5)
        return cmact_help_exit(cmd, 1, "--imu '%s': name longer than %d characters", optarg, CM_EVENT_STREAM_LEN - 5);
      snprintf(names[n_imu], sizeof names[n_imu], "imu_%.*s", (int)(eq - optarg), optarg);
      for (int k = 0; k < n_imu; k++)
        if (!strcmp(names[k], names[n_imu])) return cmact_help_exit(cmd, 1, "--imu '%s': name used twice", optarg);
      if (cm_imu_spec_check(eq + 1) < 0) return cmact_help_exit(cmd, 1, "--imu: %s", cm_error());
      specs[n_imu++] = eq + 1;
      break;
    }
    case 'o': out = optarg; break;
    case 'd':
      if (cm_parse_double(optarg, "--duration", &duration) < 0 || duration < 0)
        return cmact_help_exit(cmd, 1, "--duration '%s': expected seconds >= 0", optarg);
      break;
    case 'r':
      if (cm_parse_long(optarg, "--rate", &rate) < 0 || rate < 1 || rate > 10000)
        return cmact_help_exit(cmd, 1, "--rate '%s': expected Hz in 1..10000", optarg);
      break;
    case 's': session_id = optarg; break;
    case 'u': user = optarg; break;
    case 'l': location = optarg; break;
    case 'w': overwrite = 1; break;
    default: return cmact_help_exit(cmd, 1, "unknown option '%s'", argv[optind - 1]);
    }
  }
  if (optind < argc) return cmact_help_exit(cmd, 1, "unexpected argument '%s'", argv[optind]);
  if (!n_imu) return cmact_help_exit(cmd, 1, "no --imu NAME=SPEC given");
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
  for (int k = 0; k < n_imu; k++) {
    src[k] = cm_imu_source_open(specs[k], names[k], &io);
    if (!src[k]) {
      rc = cm_fail(CM_EXIT_FAIL, cmd, "--imu %s=%s: %s", names[k] + 4, specs[k], cm_error());
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
    for (int k = 0; k < n_imu; k++)
      if (cm_imu_source_write(src[k], ses, sid[k]) < 0) {
        rc = cm_fail_error(cmd);
        goto done;
      }
    double el = (cm_monotonic_ns() - t0) / 1e9;
    cm_progress_step(&prog, (int64_t)(el * 10));
    if (duration > 0 && el >= duration) break;
  }
  cm_progress_end(&prog);
  for (int k = 0; k < n_imu; k++) {
    cm_imu_source_finish(src[k]);
    if (cm_imu_source_write(src[k], ses, sid[k]) < 0) {
      rc = cm_fail_error(cmd);
      goto done;
    }
  }
  printf("%-12s %-28s %8s %8s %8s %6s %6s %6s %6s %6s\n", "stream", "source", "frames", "samples",
         "rows", "lost", "dup", "late", "gaps", "bad");
  for (int k = 0; k < n_imu; k++) {
    cm_imu_stats s = cm_imu_source_stats(src[k]);
    printf("%-12s %-28s %8lld %8lld %8lld %6lld %6lld %6lld %6lld %6lld\n", names[k], specs[k],
           (long long)s.frames, (long long)s.samples, (long long)s.rows, (long long)s.lost_frames,
           (long long)s.duplicates, (long long)s.reordered, (long long)s.gaps, (long long)s.bad_frames);
  }
done:
  for (int k = 0; k < n_imu; k++) cm_imu_source_close(src[k]);
  if (cm_session_close(ses) < 0 && rc == CM_EXIT_OK) rc = cm_fail_error(cmd);
  if (rc == CM_EXIT_OK) printf("wrote %s\n", out);
  return rc;
}
