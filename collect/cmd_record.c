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

#include "cm_opts.h"
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

/* What the option callbacks (cm_opts.h) write into. */
typedef struct {
  rec_options *o;
  int av_given; /* --video/--audio/--no-* seen: otherwise --imu alone records IMUs only */
  char imu_names[REC_MAX_IMU][CM_EVENT_STREAM_LEN - 4]; /* stream "imu_" + name */
} record_args;

static int opt_video(const char *v, void *dest) {
  record_args *r = dest;
  r->o->capture.video_src = v;
  r->av_given = 1;
  return 0;
}

static int opt_audio(const char *v, void *dest) {
  record_args *r = dest;
  r->o->capture.audio_src = v;
  r->av_given = 1;
  return 0;
}

static int opt_no_video(const char *v, void *dest) {
  record_args *r = dest;
  r->o->capture.video_src = NULL;
  r->av_given = 1;
  return 0;
}

static int opt_no_audio(const char *v, void *dest) {
  record_args *r = dest;
  r->o->capture.audio_src = NULL;
  r->av_given = 1;
  return 0;
}

static int opt_video_codec(const char *v, void *dest) {
  if (strcmp(v, "h264") && strcmp(v, "mjpeg")) return cm_set_error("--video-codec '%s': expected h264 or mjpeg", v);
  ((rec_options *)dest)->capture.video_codec = v;
  return 0;
}

static int opt_size(const char *v, void *dest) {
  rec_options *o = dest;
  char *end;
  long w = strtol(v, &end, 10), h = *end == 'x' ? strtol(end + 1, &end, 10) : 0;
  if (*end || w <= 0 || h <= 0 || w > 16384 || h > 16384) return cm_set_error("--size '%s': expected WIDTHxHEIGHT", v);
  o->capture.width = (int)w;
  o->capture.height = (int)h;
  return 0;
}

static int opt_fps(const char *v, void *dest) {
  rec_options *o = dest;
  if (parse_fps(v, &o->capture.fps_num, &o->capture.fps_den) < 0) return cm_set_error("--fps '%s': expected N or N/D", v);
  return 0;
}

static int opt_label(const char *v, void *dest) {
  if (!cm_activity_valid(v)) return cm_set_error("--label '%s': not an activity (%s)", v, cm_activity_list());
  ((rec_options *)dest)->label = v;
  return 0;
}

static int opt_imu(const char *v, void *dest) {
  record_args *r = dest;
  rec_options *o = r->o;
  const char *eq = strchr(v, '=');
  if (!eq || eq == v || !eq[1]) return cm_set_error("--imu '%s': expected NAME=SPEC (left=..., right=...)", v);
  if (o->n_imu == REC_MAX_IMU) return cm_set_error("--imu: at most %d IMU streams", REC_MAX_IMU);
  if (cm_imu_spec_check(eq + 1) < 0) return cm_prefix_error("--imu '%s'", v);
  if ((size_t)(eq - v) >= sizeof r->imu_names[0]) return cm_set_error("--imu '%s': the name is too long", v);
  char *name = r->imu_names[o->n_imu];
  memcpy(name, v, (size_t)(eq - v));
  name[eq - v] = 0;
  for (int k = 0; k < o->n_imu; k++)
    if (strcmp(o->imu_name[k], name) == 0) return cm_set_error("--imu '%s': the name '%s' is used twice", v, name);
  o->imu_name[o->n_imu] = name;
  o->imu_spec[o->n_imu++] = eq + 1;
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
  record_args r = {.o = &o};
  const char *env = getenv("CMACT_PROGRESS");
  if (env) o.status_line = atoi(env) != 0;
  const cm_opt opts[] = {
      CM_OPT_CALLBACK("video", 0, opt_video, &r),
      CM_OPT_CALLBACK("audio", 0, opt_audio, &r),
      CM_OPT_ACTION("no-video", 0, opt_no_video, &r),
      CM_OPT_ACTION("no-audio", 0, opt_no_audio, &r),
      CM_OPT_CALLBACK("video-codec", 0, opt_video_codec, &o),
      CM_OPT_CALLBACK("size", 0, opt_size, &o),
      CM_OPT_CALLBACK("fps", 0, opt_fps, &o),
      CM_OPT_INT_IN("bitrate", 0, &o.capture.bitrate_kbps, 1, 10000000),
      CM_OPT_INT_IN("audio-rate", 0, &o.capture.audio_rate, 1, 10000000),
      CM_OPT_INT_IN("audio-channels", 0, &o.capture.audio_channels, 1, 10000000),
      CM_OPT_INT_IN("jpeg-quality", 0, &o.capture.jpeg_quality, 1, 10000000), /* above 100: 100 */
      CM_OPT_DOUBLE_RANGE("duration", 0, &o.duration_s, CM_OPT_MIN, 0, 0),
      CM_OPT_DOUBLE_RANGE("chrony-interval", 0, &o.chrony_interval_s, CM_OPT_MIN, 0, 0),
      CM_OPT_STRING("out", 'o', &o.out_path),
      CM_OPT_FLAG("force", 0, &o.overwrite),
      CM_OPT_CALLBACK("label", 0, opt_label, &o),
      CM_OPT_STRING("user", 0, &o.user),
      CM_OPT_STRING("location", 0, &o.location),
      CM_OPT_STRING("session-id", 0, &o.session_id),
      CM_OPT_STRING("chrony-socket", 0, &o.chrony_socket),
      CM_OPT_STRING("summary-json", 0, &summary_json),
      CM_OPT_SET_INT("status", 0, &o.status_line, 1),
      CM_OPT_SET_INT("no-status", 0, &o.status_line, 0),
      CM_OPT_CALLBACK("imu", 0, opt_imu, &r),
      CM_OPT_INT_IN("imu-rate", 0, &o.imu_rate, 1, 10000),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("record", 1, "%s", cm_error());
  if (o.capture.jpeg_quality > 100) o.capture.jpeg_quality = 100;
  if (o.n_imu > 0 && !r.av_given) o.capture.video_src = o.capture.audio_src = NULL;
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
