/*
 * cmact record: the command line of the field recorder (rec_recorder.h does the work). It
 * parses options, installs the SIGINT/SIGTERM handlers that end a recording cleanly (a second
 * signal kills at once: the file then keeps what was flushed), and prints a summary table on
 * stdout, plus JSON with --summary-json for scripts and benchmarks.
 */
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_util.h"
#include "cmds.h"
#include "imu_capture.h"
#include "rec_activities.h"
#include "rec_recorder.h"

static void on_signal(int sig) { rec_request_stop(); }

static int parse_fps(const char *s, int *num, int *den) {
  char *end;
  long n = strtol(s, &end, 10), d = 1;
  if (*end == '/') d = strtol(end + 1, &end, 10);
  if (*end || n <= 0 || d <= 0 || n > 1000000 || d > 1000000) return -1;
  *num = (int)n;
  *den = (int)d;
  return 0;
}

static int write_summary_json(const char *path, const rec_options *o, const rec_summary *s) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "file", o->out_path);
  cJSON_AddNumberToObject(j, "seconds", s->seconds);
  cJSON_AddNumberToObject(j, "video_packets", (double)s->video_packets);
  cJSON_AddNumberToObject(j, "video_dropped", (double)s->video_dropped);
  cJSON_AddNumberToObject(j, "audio_frames", (double)s->audio_frames);
  cJSON_AddNumberToObject(j, "audio_discontinuities", (double)s->audio_discontinuities);
  cJSON_AddNumberToObject(j, "imu_samples", (double)s->imu_samples);
  cJSON_AddNumberToObject(j, "imu_lost", (double)s->imu_lost);
  cJSON_AddNumberToObject(j, "chrony_answers", (double)s->chrony_answers);
  cJSON_AddNumberToObject(j, "chrony_failures", (double)s->chrony_failures);
  cJSON_AddNumberToObject(j, "file_bytes", (double)s->file_bytes);
  cJSON_AddNumberToObject(j, "cpu_seconds", s->cpu_seconds);
  cJSON_AddStringToObject(j, "ended_by", s->ended_by);
  char *text = cJSON_Print(j);
  cJSON_Delete(j);
  int rc = cm_write_file_atomic(path, text, strlen(text));
  free(text);
  return rc;
}

int cmd_record(int argc, char **argv) {
  rec_options o = {.capture = {.video_src = "auto", .audio_src = "auto"},
                   .chrony_interval_s = 4,
                   .status_line = isatty(2)};
  const char *summary_json = NULL;
  int av_given = 0; /* --video/--audio/--no-* seen: otherwise --imu alone records IMUs only */
  char imu_names[REC_MAX_IMU][CM_EVENT_STREAM_LEN - 4]; /* stream "imu_" + name */
  const char *env = getenv("CMACT_PROGRESS");
  if (env) o.status_line = atoi(env) != 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDS_VALUE \
  if (!v) return cmact_help_exit("record", 1, "%s needs a value", a); \
  i++
    if (strcmp(a, "--video") == 0) { NEEDS_VALUE; o.capture.video_src = v; av_given = 1; }
    else if (strcmp(a, "--audio") == 0) { NEEDS_VALUE; o.capture.audio_src = v; av_given = 1; }
    else if (strcmp(a, "--no-video") == 0) { o.capture.video_src = NULL; av_given = 1; }
    else if (strcmp(a, "--no-audio") == 0) { o.capture.audio_src = NULL; av_given = 1; }
    else if (strcmp(a, "--video-codec") == 0) {
      NEEDS_VALUE;
      if (strcmp(v, "h264") && strcmp(v, "mjpeg"))
        return cmact_help_exit("record", 1, "--video-codec '%s': expected h264 or mjpeg", v);
      o.capture.video_codec = v;
    } else if (strcmp(a, "--size") == 0) {
      NEEDS_VALUE;
      char *end;
      long w = strtol(v, &end, 10), h = *end == 'x' ? strtol(end + 1, &end, 10) : 0;
      if (*end || w <= 0 || h <= 0 || w > 16384 || h > 16384)
        return cmact_help_exit("record", 1, "--size '%s': expected WIDTHxHEIGHT", v);
      o.capture.width = (int)w;
      o.capture.height = (int)h;
    } else if (strcmp(a, "--fps") == 0) {
      NEEDS_VALUE;
      if (parse_fps(v, &o.capture.fps_num, &o.capture.fps_den) < 0)
        return cmact_help_exit("record", 1, "--fps '%s': expected N or N/D", v);
    } else if (strcmp(a, "--bitrate") == 0 || strcmp(a, "--audio-rate") == 0 ||
               strcmp(a, "--audio-channels") == 0 || strcmp(a, "--jpeg-quality") == 0) {
      NEEDS_VALUE;
      long n;
      if (cm_parse_long(v, a, &n) < 0 || n <= 0 || n > 10000000)
        return cmact_help_exit("record", 1, "%s '%s': expected a positive number", a, v);
      if (strcmp(a, "--bitrate") == 0) o.capture.bitrate_kbps = (int)n;
      else if (strcmp(a, "--audio-rate") == 0) o.capture.audio_rate = (int)n;
      else if (strcmp(a, "--audio-channels") == 0) o.capture.audio_channels = (int)n;
      else o.capture.jpeg_quality = (int)(n > 100 ? 100 : n);
    } else if (strcmp(a, "--duration") == 0 || strcmp(a, "--chrony-interval") == 0) {
      NEEDS_VALUE;
      double d;
      if (cm_parse_double(v, a, &d) < 0 || d < 0)
        return cmact_help_exit("record", 1, "%s '%s': expected seconds >= 0", a, v);
      if (strcmp(a, "--duration") == 0) o.duration_s = d;
      else o.chrony_interval_s = d;
    } else if (strcmp(a, "--out") == 0 || strcmp(a, "-o") == 0) { NEEDS_VALUE; o.out_path = v; }
    else if (strcmp(a, "--force") == 0) o.overwrite = 1;
    else if (strcmp(a, "--label") == 0) {
      NEEDS_VALUE;
      if (!cm_activity_valid(v))
        return cmact_help_exit("record", 1, "--label '%s': not an activity (%s)", v,
                               cm_activity_list());
      o.label = v;
    } else if (strcmp(a, "--user") == 0) { NEEDS_VALUE; o.user = v; }
    else if (strcmp(a, "--location") == 0) { NEEDS_VALUE; o.location = v; }
    else if (strcmp(a, "--session-id") == 0) { NEEDS_VALUE; o.session_id = v; }
    else if (strcmp(a, "--chrony-socket") == 0) { NEEDS_VALUE; o.chrony_socket = v; }
    else if (strcmp(a, "--summary-json") == 0) { NEEDS_VALUE; summary_json = v; }
    else if (strcmp(a, "--status") == 0) o.status_line = 1;
    else if (strcmp(a, "--no-status") == 0) o.status_line = 0;
    else if (strcmp(a, "--imu") == 0) {
      NEEDS_VALUE;
      const char *eq = strchr(v, '=');
      if (!eq || eq == v || !eq[1])
        return cmact_help_exit("record", 1, "--imu '%s': expected NAME=SPEC (left=..., right=...)", v);
      if (o.n_imu == REC_MAX_IMU)
        return cmact_help_exit("record", 1, "--imu: at most %d IMU streams", REC_MAX_IMU);
      if (cm_imu_spec_check(eq + 1) < 0)
        return cmact_help_exit("record", 1, "--imu '%s': %s", v, cm_error());
      if ((size_t)(eq - v) >= sizeof imu_names[0])
        return cmact_help_exit("record", 1, "--imu '%s': the name is too long", v);
      char *name = imu_names[o.n_imu];
      memcpy(name, v, (size_t)(eq - v));
      name[eq - v] = 0;
      for (int k = 0; k < o.n_imu; k++)
        if (strcmp(o.imu_name[k], name) == 0)
          return cmact_help_exit("record", 1, "--imu '%s': the name '%s' is used twice", v, name);
      o.imu_name[o.n_imu] = name;
      o.imu_spec[o.n_imu++] = eq + 1;
    } else if (strcmp(a, "--imu-rate") == 0) {
      NEEDS_VALUE;
      long n;
      if (cm_parse_long(v, a, &n) < 0 || n < 1 || n > 10000)
        return cmact_help_exit("record", 1, "--imu-rate '%s': expected Hz, 1..10000", v);
      o.imu_rate = (int)n;
    } else
      return cmact_help_exit("record", 1, "unknown option '%s'", a);
#undef NEEDS_VALUE
  }
  if (o.n_imu > 0 && !av_given) o.capture.video_src = o.capture.audio_src = NULL;
  if (!o.out_path) return cmact_help_exit("record", 1, "--out FILE.h5 is required");
  if (!o.capture.video_src && !o.capture.audio_src && o.n_imu == 0)
    return cmact_help_exit("record", 1, "nothing to record (--no-video and --no-audio, no --imu)");
  if (!o.overwrite && access(o.out_path, F_OK) == 0)
    return cm_fail(CM_EXIT_FAIL, "record", "%s: exists already (use --force to replace it)",
                   o.out_path);

  struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESETHAND};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  rec_summary s;
  int rc = rec_run(&o, &s);
  if (rc < 0) {
    /* Name the file once: the formats library's errors already start with it. */
    const char *why = cm_error();
    int named = strncmp(why, o.out_path, strlen(o.out_path)) == 0;
    if (strcmp(s.ended_by, "write error") == 0) {
      cm_fail(CM_EXIT_FAIL, "record",
              "%s%s%s; recording stopped after %.1f s, the file keeps everything up to its "
              "last flush",
              named ? "" : o.out_path, named ? "" : ": ", why, s.seconds);
      /* After a failed write HDF5 may still hold the file open, and its exit-time cleanup
       * would try to write to the full disk again (HDF5 1.10 has crashed doing so). The file
       * already holds everything committed: end without that cleanup. */
      fflush(stdout);
      fflush(stderr);
      _exit(CM_EXIT_FAIL);
    }
    return cm_fail(CM_EXIT_FAIL, "record", "%s%s%s", named ? "" : o.out_path, named ? "" : ": ",
                   why);
  }
  printf("%-24s %s\n", "file", o.out_path);
  printf("%-24s %.2f\n", "seconds", s.seconds);
  printf("%-24s %lld\n", "video packets", (long long)s.video_packets);
  printf("%-24s %lld\n", "video frames dropped", (long long)s.video_dropped);
  printf("%-24s %lld\n", "audio frames", (long long)s.audio_frames);
  printf("%-24s %lld\n", "audio discontinuities", (long long)s.audio_discontinuities);
  if (o.n_imu > 0)
    printf("%-24s %lld rows in %d stream(s), %lld frames lost or gaps\n", "imu samples",
           (long long)s.imu_samples, o.n_imu, (long long)s.imu_lost);
  printf("%-24s %lld answered, %lld failed\n", "chrony queries", (long long)s.chrony_answers,
         (long long)s.chrony_failures);
  printf("%-24s %.2f MB\n", "file size", s.file_bytes / 1e6);
  printf("%-24s %.2f s (%.3f s per recorded s)\n", "cpu time", s.cpu_seconds,
         s.seconds > 0 ? s.cpu_seconds / s.seconds : 0.0);
  printf("%-24s %s\n", "ended by", s.ended_by);
  if (summary_json && write_summary_json(summary_json, &o, &s) < 0)
    return cm_fail_error("record");
  return CM_EXIT_OK;
}
