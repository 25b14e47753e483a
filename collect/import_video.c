/*
 * One imported video (plus the IMU rows that fall in its time span) -> one session file.
 *
 * Order of work: open the media and read its metadata, decide the start time, cut and merge
 * every IMU stream's rows for the span, and only then create the output, so that the common
 * faults (unreadable file, no IMU rows) cost nothing. The file is written as OUT.part and
 * renamed to OUT only when everything went in; a fault found while copying (a truncated MP4,
 * an audio packet that does not decode) removes the part file, so an output that exists is
 * always complete.
 *
 * What lands in the session file besides the streams:
 *  - stream attributes start_time_source / start_time_uncertainty_s on video and audio (the
 *    IMU streams carry "log": their times are the log's own stamps, never derived from the
 *    video's start time);
 *  - /events rows: "start_time" (value = uncertainty in s, detail = the evidence used),
 *    "start_time_tz_suspect" (value = creation time minus mtime-minus-duration, in s) when
 *    the two differ by whole hours, and per IMU stream "imu_merge" (value = largest distance
 *    in s from a row to its nearest gyro sample; detail = counts);
 *  - one /labels row spanning the video, when the activity is known.
 * IMU t_device_ns and t_host_ns are both the log's stamps: a log has one clock, and which
 * host wrote it is unknown, so the sync stage treats it as a device clock already on UTC.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cm_util.h"
#include "import.h"

static void format_utc(int64_t t_ns, char *buf, size_t n) {
  time_t s = (time_t)(t_ns / 1000000000LL);
  struct tm tm;
  gmtime_r(&s, &tm);
  snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
           tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((t_ns / 1000000) % 1000));
}

int imp_import_video(const imp_video_job *job, imp_video_result *res) {
  memset(res, 0, sizeof *res);
  if (job->n_imu > 8) return cm_set_error("at most 8 IMU streams");
  if (!job->overwrite && access(job->out, F_OK) == 0)
    return cm_set_error("%s exists (use --overwrite)", job->out);
  imp_media *m = imp_media_open(job->video);
  if (!m) return -1;
  const imp_media_info *mi = imp_media_get_info(m);
  res->duration_ns = mi->tags.duration_ns;
  if (imp_decide_start(job->video, &mi->tags, &job->start, &res->start) < 0) {
    imp_media_close(m);
    return -1;
  }
  const imp_start *st = &res->start;
  int64_t pad = (int64_t)(job->pad_s * 1e9);
  int64_t t0 = st->start_ns - pad, t1 = st->start_ns + mi->tags.duration_ns + pad;
  float *xyz[8] = {0};
  int64_t *tt[8] = {0};
  imp_merge_stats ms[8];
  int rc = 0;
  for (int i = 0; i < job->n_imu && rc == 0; i++) {
    if (imp_merge_span(job->imu[i].acc, job->imu[i].gyro, t0, t1, &xyz[i], &tt[i], &ms[i]) < 0) {
      char a[40], why[512];
      format_utc(t0, a, sizeof a);
      snprintf(why, sizeof why, "%s", cm_error());
      rc = cm_set_error("%s: %s (span %s + %.1f s, start from %s)", job->imu[i].stream, why, a,
                        (double)(t1 - t0) * 1e-9, st->source);
    } else {
      res->imu_rows[i] = ms[i].n;
    }
  }
  char part[4200];
  snprintf(part, sizeof part, "%s.part", job->out);
  cm_session *s = NULL;
  if (rc == 0) {
    cm_session_info info = {.session_id = job->session_id, .user = job->user ? job->user : "",
                            .location = job->location ? job->location : "", .host = "import"};
    s = cm_session_create(part, &info, 1);
    if (s) cm_session_set_manual_flush(s, 1); /* offline: the bytes must not depend on the machine's speed */
    if (!s) rc = -1;
  }
  if (rc == 0) rc = imp_media_declare(m, s, st);
  int imu_id[8];
  for (int i = 0; i < job->n_imu && rc == 0; i++) {
    size_t n = ms[i].n;
    double rate = n > 1 && tt[i][n - 1] > tt[i][0] ? (double)(n - 1) / ((double)(tt[i][n - 1] - tt[i][0]) * 1e-9) : 0;
    cm_stream_desc d = {.name = job->imu[i].stream, .kind = CM_STREAM_IMU, .nominal_rate = rate,
                        .units = "m/s^2,rad/s", .device = "imported log", .transport = "import",
                        .start_time_source = "log", .start_time_uncertainty_s = 0};
    imu_id[i] = cm_session_add_stream(s, &d);
    if (imu_id[i] < 0) rc = -1;
  }
  if (rc == 0) rc = cm_session_start(s);
  if (rc == 0)
    rc = cm_session_event(s, st->start_ns, "video", "start_time", st->uncertainty_s, "%s: %s", st->source,
                          st->detail);
  if (rc == 0 && st->tz_suspect)
    rc = cm_session_event(s, st->start_ns, "video", "start_time_tz_suspect", st->tz_suspect_diff_s,
                          "creation time differs from mtime-duration by %.0f h", st->tz_suspect_diff_s / 3600);
  if (rc == 0 && job->activity) {
    cm_label_row l = {.start_ns = st->start_ns, .end_ns = st->start_ns + mi->tags.duration_ns};
    snprintf(l.activity, sizeof l.activity, "%s", job->activity);
    rc = cm_session_append_label(s, &l);
  }
  for (int i = 0; i < job->n_imu && rc == 0; i++) {
    rc = cm_session_event(s, tt[i][0], job->imu[i].stream, "imu_merge", ms[i].max_gyro_dist_s,
                          "%zu rows at acc times, %zu gyro exact, %zu gyro in span, rest interpolated",
                          ms[i].n, ms[i].n_exact, ms[i].n_gyro_in_span);
    if (rc == 0) rc = cm_session_append_imu(s, imu_id[i], xyz[i], tt[i], tt[i], ms[i].n);
  }
  if (rc == 0) rc = imp_media_copy(m, s, st->start_ns);
  if (s) {
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", cm_error());
    if (cm_session_close(s) < 0 && rc == 0)
      rc = -1;
    else if (rc < 0)
      cm_set_error("%s", saved);
  }
  if (rc == 0 && rename(part, job->out) != 0) rc = cm_set_error("cannot rename %s to %s: %s", part, job->out, strerror(errno));
  if (rc < 0) unlink(part);
  for (int i = 0; i < job->n_imu; i++) {
    free(xyz[i]);
    free(tt[i]);
  }
  imp_media_close(m);
  return rc;
}
