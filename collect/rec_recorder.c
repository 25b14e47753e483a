/*
 * rec_recorder: one recording from start to a closed file; see rec_recorder.h for the design.
 * The main loop waits on the capture queue at most 100 ms at a time, so that a stop request,
 * the duration, the chrony poll and the status line are all served within a tenth of a second
 * whatever the sources do.
 */
#include "rec_recorder.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chrony_client.h"
#include "cm_session.h"
#include "cm_util.h"

static volatile sig_atomic_t stop_requested;

void rec_request_stop(void) { stop_requested = 1; }

typedef struct {
  const rec_options *o;
  cm_session *s;
  int video_id, audio_id;
  rec_formats f;
  rec_summary *sum;
  /* video continuity */
  int64_t video_prev_pts;
  int64_t video_period_ns;
  int64_t video_pts0;
  /* audio continuity */
  int64_t audio_next_pts;
  int64_t audio_prev_end_host;
  /* level meter: running mean square of the last ~0.5 s */
  double audio_ms;
  double audio_peak;
  /* clock */
  int clock_unsynced; /* -1: not known yet */
  double first_correction, last_correction;
  int have_correction;
  int64_t next_chrony_ns;
  /* span of stored items, host time */
  int64_t first_t_host, last_t_host;
  /* status line */
  int64_t next_status_ns, t_start_mono;
  int status_drawn;
  rec_capture_stats last_stats;
} recorder;

static void span(recorder *r, int64_t t) {
  if (r->first_t_host == 0 || t < r->first_t_host) r->first_t_host = t;
  if (t > r->last_t_host) r->last_t_host = t;
}

static int write_video(recorder *r, const rec_item *it) {
  int64_t pts = it->pts_ns >= 0 ? it->pts_ns : 0;
  if (r->sum->video_packets == 0) r->video_pts0 = pts;
  if (r->sum->video_packets > 0 && r->video_period_ns > 0 && it->pts_ns >= 0) {
    int64_t delta = pts - r->video_prev_pts;
    if (delta * 2 > r->video_period_ns * 3) {
      int64_t lost = (delta + r->video_period_ns / 2) / r->video_period_ns - 1;
      r->sum->video_dropped += lost;
      if (cm_session_event(r->s, it->t_host_ns, "video", "dropped_frames", (double)lost,
                           "%lld frame(s) missing before %.3f s", (long long)lost,
                           (pts - r->video_pts0) / 1e9) < 0)
        return -1;
    }
  }
  r->video_prev_pts = pts;
  int64_t dts = it->dts_ns >= 0 ? it->dts_ns : pts;
  /* The index keeps pts/dts in a 1/90000 time base (the usual one for video, exact for MP4). */
  cm_packet_row row = {.size = (uint32_t)it->size,
                       .key = (uint8_t)(it->key ? 1 : 0),
                       .pts = pts * 9 / 100000,
                       .dts = dts * 9 / 100000,
                       .t_host_ns = it->t_host_ns};
  if (cm_session_append_packet(r->s, r->video_id, it->data, &row) < 0) return -1;
  r->sum->video_packets++;
  span(r, it->t_host_ns);
  return 0;
}

static int write_audio(recorder *r, const rec_item *it) {
  int ch = r->f.channels > 0 ? r->f.channels : 1;
  int n = (int)(it->size / (2 * (size_t)ch));
  if (n <= 0) return 0;
  const int16_t *pcm = (const int16_t *)it->data;
  int64_t block_ns = (int64_t)n * 1000000000 / (r->f.rate > 0 ? r->f.rate : 1);
  if (r->sum->audio_frames > 0 && it->pts_ns >= 0) {
    int64_t gap = it->pts_ns - r->audio_next_pts;
    /* More than a millisecond off where the previous block ended, or flagged by the source
     * (audio sources set DISCONT when they had to drop or resync samples). */
    if (gap > 1000000 || gap < -1000000 || it->discont) {
      r->sum->audio_discontinuities++;
      if (cm_session_event(r->s, it->t_host_ns, "audio", "audio_gap", gap / 1e9,
                           "audio resumes %.1f ms %s the previous block's end", fabs(gap / 1e6),
                           gap >= 0 ? "after" : "before") < 0)
        return -1;
    }
  }
  if (it->pts_ns >= 0) r->audio_next_pts = it->pts_ns + block_ns;
  /* level meter */
  double sum2 = 0;
  for (int i = 0; i < n * ch; i++) {
    double v = pcm[i] / 32768.0;
    sum2 += v * v;
    if (fabs(v) > r->audio_peak) r->audio_peak = fabs(v);
  }
  double a = fmin(1.0, block_ns / 5e8);
  r->audio_ms = (1 - a) * r->audio_ms + a * sum2 / (n * ch);
  if (cm_session_append_audio(r->s, r->audio_id, pcm, n, it->t_host_ns) < 0) return -1;
  r->sum->audio_frames += n;
  span(r, it->t_host_ns);
  span(r, it->t_host_ns + block_ns);
  return 0;
}

static int poll_chrony(recorder *r) {
  cm_chrony_row row;
  int ok = cm_chrony_tracking(r->o->chrony_socket, 300, &row) == 0;
  char why[CM_EVENT_DETAIL_LEN];
  snprintf(why, sizeof why, "%s", ok ? "chronyd reports leap status 3" : cm_error());
  if (ok) {
    r->sum->chrony_answers++;
    if (cm_session_append_chrony(r->s, &row) < 0) return -1;
    if (!r->have_correction) r->first_correction = row.current_correction;
    r->last_correction = row.current_correction;
    r->have_correction = 1;
  } else {
    r->sum->chrony_failures++;
  }
  int unsynced = !ok || row.leap_status == 3;
  if (unsynced != r->clock_unsynced) {
    /* Report the first state only when it is bad; afterwards every change. */
    if (unsynced || r->clock_unsynced == 1) {
      int64_t now = cm_realtime_ns();
      if (unsynced ? cm_session_event(r->s, now, "", "clock_unsynced", 0, "%s", why)
                   : cm_session_event(r->s, now, "", "clock_synced", row.current_correction,
                                      "chronyd answers again, stratum %u", row.stratum))
        return -1;
    }
    r->clock_unsynced = unsynced;
  }
  return 0;
}

static void draw_status(recorder *r, int final) {
  if (!r->o->status_line) return;
  double elapsed = (cm_monotonic_ns() - r->t_start_mono) / 1e9;
  char level[32], clock[32];
  if (r->audio_id >= 0 && r->sum->audio_frames > 0)
    snprintf(level, sizeof level, "%5.1f dBFS", 10 * log10(fmax(r->audio_ms, 1e-10)));
  else
    snprintf(level, sizeof level, "-");
  if (r->have_correction && r->clock_unsynced != 1)
    snprintf(clock, sizeof clock, "%+.4f s", -r->last_correction);
  else
    snprintf(clock, sizeof clock, "unsynced");
  int64_t bytes = cm_session_file_size(r->s);
  fprintf(stderr, "\r\033[Krec %6.1f s  frames %lld  drops %lld  audio %s  clock %s  file %.1f MB%s",
          elapsed, (long long)r->sum->video_packets, (long long)r->sum->video_dropped, level,
          clock, bytes > 0 ? bytes / 1e6 : 0.0, final ? "\n" : "");
  fflush(stderr);
  r->status_drawn = 1;
}

static void default_session_id(char *buf, size_t cap, const char *host) {
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  char stamp[32];
  strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  snprintf(buf, cap, "%s-%s", stamp, host);
}


int rec_run(const rec_options *o, rec_summary *sum) {
  memset(sum, 0, sizeof *sum);
  sum->ended_by = "end of stream";
  if (o->n_imu > 0)
    return cm_set_error("--imu %s: IMU capture is not available in this build", o->imu_name[0]);
  stop_requested = 0;
  recorder r = {.o = o, .sum = sum, .video_id = -1, .audio_id = -1, .clock_unsynced = -1};
  r.t_start_mono = cm_monotonic_ns();
  double cpu0 = cm_cpu_seconds();

  rec_capture *c = rec_capture_start(&o->capture);
  if (!c) return -1;
  /* The session file is created only once the sources have proved they deliver, with the
   * formats they negotiated (the device's own audio rate, the camera's size). */
  if (rec_capture_wait_formats(c, 10000, &r.f) < 0) {
    rec_capture_free(c);
    return -1;
  }
  if (o->capture.video_src && r.f.fps_num > 0)
    r.video_period_ns = (int64_t)1000000000 * (r.f.fps_den > 0 ? r.f.fps_den : 1) / r.f.fps_num;

  char host[64] = "", sid[128];
  gethostname(host, sizeof host - 1);
  if (o->session_id)
    snprintf(sid, sizeof sid, "%s", o->session_id);
  else
    default_session_id(sid, sizeof sid, host);
  cm_session_info info = {.session_id = sid, .user = o->user ? o->user : "",
                          .location = o->location ? o->location : "", .host = host};
  r.s = cm_session_create(o->out_path, &info, o->overwrite);
  if (!r.s) {
    rec_capture_free(c);
    return -1;
  }
  int rc = -1;
  if (o->capture.video_src) {
    cm_stream_desc d = {.name = "video", .kind = CM_STREAM_VIDEO,
                        .nominal_rate = r.f.fps_num > 0 ? (double)r.f.fps_num / (r.f.fps_den ? r.f.fps_den : 1) : 0,
                        .units = "", .device = o->capture.video_src, .transport = "gstreamer",
                        .codec = r.f.codec, .width = r.f.width, .height = r.f.height,
                        .time_base_num = 1, .time_base_den = 90000};
    if ((r.video_id = cm_session_add_stream(r.s, &d)) < 0) goto out;
  }
  if (o->capture.audio_src) {
    cm_stream_desc d = {.name = "audio", .kind = CM_STREAM_AUDIO, .nominal_rate = r.f.rate,
                        .units = "", .device = o->capture.audio_src, .transport = "gstreamer",
                        .sample_rate = r.f.rate, .channels = r.f.channels};
    if ((r.audio_id = cm_session_add_stream(r.s, &d)) < 0) goto out;
  }
  if (cm_session_start(r.s) < 0) goto out;
  if (o->chrony_interval_s > 0 && poll_chrony(&r) < 0) goto out;
  r.next_chrony_ns = cm_monotonic_ns() + (int64_t)(o->chrony_interval_s * 1e9);

  int stopping = 0;
  int64_t stop_deadline = 0;
  for (;;) {
    rec_item it;
    int k = rec_capture_next(c, &it, 100);
    if (k < 0) {
      cm_prefix_error("recording stopped");
      sum->ended_by = "source error";
      goto out;
    }
    if (k == 2) break;
    if (k == 1) {
      int w = it.kind == REC_ITEM_VIDEO ? write_video(&r, &it) : write_audio(&r, &it);
      free(it.data);
      if (w < 0) {
        sum->ended_by = "write error";
        goto out;
      }
    }
    int64_t now = cm_monotonic_ns();
    if (o->chrony_interval_s > 0 && now >= r.next_chrony_ns) {
      if (poll_chrony(&r) < 0) {
        sum->ended_by = "write error";
        goto out;
      }
      r.next_chrony_ns = now + (int64_t)(o->chrony_interval_s * 1e9);
    }
    rec_capture_stats st;
    rec_capture_get_stats(c, &st);
    if (st.queue_dropped_video != r.last_stats.queue_dropped_video ||
        st.queue_dropped_audio != r.last_stats.queue_dropped_audio) {
      uint64_t dv = st.queue_dropped_video - r.last_stats.queue_dropped_video;
      uint64_t da = st.queue_dropped_audio - r.last_stats.queue_dropped_audio;
      r.last_stats = st;
      if (cm_session_event(r.s, cm_realtime_ns(), "", "writer_overrun", (double)(dv + da),
                           "the file could not keep up: %llu video and %llu audio buffers lost",
                           (unsigned long long)dv, (unsigned long long)da) < 0) {
        sum->ended_by = "write error";
        goto out;
      }
      sum->video_dropped += (int64_t)dv;
    }
    if (now >= r.next_status_ns) {
      draw_status(&r, 0);
      r.next_status_ns = now + 250000000;
    }
    if (!stopping) {
      if (stop_requested) {
        sum->ended_by = "signal";
        stopping = 1;
      } else if (o->duration_s > 0 && r.first_t_host > 0 &&
                 cm_realtime_ns() - r.first_t_host >= (int64_t)(o->duration_s * 1e9)) {
        /* Counted from the first captured sample, so that --duration is the length of what
         * is stored whatever the pipeline's start-up time. */
        sum->ended_by = "duration";
        stopping = 1;
      }
      if (stopping) {
        rec_capture_stop(c);
        stop_deadline = now + 3000000000LL;
      }
    } else if (now > stop_deadline) {
      break; /* a source that ignores end-of-stream: stop anyway, everything so far is kept */
    }
  }
  rc = 0;

out:
  if (rc < 0) {
    /* Keep the reason: closing may overwrite the error line. */
    char why[1024];
    snprintf(why, sizeof why, "%s", cm_error());
    rec_capture_free(c);
    c = NULL;
    if (r.status_drawn) fputc('\n', stderr);
    sum->file_bytes = cm_session_file_size(r.s);
    cm_session_close(r.s);
    sum->seconds = r.last_t_host > r.first_t_host ? (r.last_t_host - r.first_t_host) / 1e9 : 0;
    sum->cpu_seconds = cm_cpu_seconds() - cpu0;
    return cm_set_error("%s", why);
  }
  rec_capture_free(c);
  if (o->label && r.last_t_host > r.first_t_host) {
    /* Labels live in reference time: host time plus chronyd's correction (positive when the
     * host clock is slow of NTP time), the first answer's at the start and the last one's at
     * the end (cmact label counts relative times from the same start). */
    int64_t c0 = r.have_correction ? (int64_t)llround(r.first_correction * 1e9) : 0;
    int64_t c1 = r.have_correction ? (int64_t)llround(r.last_correction * 1e9) : 0;
    cm_label_row l = {.start_ns = r.first_t_host + c0, .end_ns = r.last_t_host + c1};
    snprintf(l.activity, sizeof l.activity, "%s", o->label);
    if (cm_session_append_label(r.s, &l) < 0) rc = -1;
  }
  if (rc == 0 && cm_session_event(r.s, cm_realtime_ns(), "", "recording_end", 0, "ended by %s",
                                  sum->ended_by) < 0)
    rc = -1;
  draw_status(&r, 1);
  sum->seconds = r.last_t_host > r.first_t_host ? (r.last_t_host - r.first_t_host) / 1e9 : 0;
  if (cm_session_flush(r.s) < 0) rc = -1;
  sum->file_bytes = cm_session_file_size(r.s);
  char why[1024];
  snprintf(why, sizeof why, "%s", cm_error());
  if (cm_session_close(r.s) < 0 && rc == 0) {
    rc = -1;
    snprintf(why, sizeof why, "%s", cm_error());
  }
  sum->cpu_seconds = cm_cpu_seconds() - cpu0;
  if (rc < 0) return cm_set_error("%s", why);
  return 0;
}
