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
#include "imu_capture.h"

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
  /* wrist IMUs (--imu NAME=SPEC): one source and one session stream each */
  int n_imu;
  cm_imu_source *imu[REC_MAX_IMU];
  int imu_id[REC_MAX_IMU];
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

/* Move what one IMU source has ready into its stream (rows first, then the tracker's events
 * about them). Done here rather than with cm_imu_source_write so that the rows' arrival times
 * count in the recording's span (--duration, the summary's seconds). */
static int write_imu(recorder *r, int k) {
  enum { CHUNK = 512 };
  static cm_imu_row rows[CHUNK];
  static float xyz[CHUNK * 6];
  static int64_t td[CHUNK], th[CHUNK];
  size_t n;
  while ((n = cm_imu_source_rows(r->imu[k], rows, CHUNK)) > 0) {
    for (size_t i = 0; i < n; i++) {
      memcpy(xyz + 6 * i, rows[i].xyz6, sizeof rows[i].xyz6);
      td[i] = rows[i].t_device_ns;
      th[i] = rows[i].t_host_ns;
      span(r, th[i]);
    }
    if (cm_session_append_imu(r->s, r->imu_id[k], xyz, td, th, n) < 0) return -1;
    r->sum->imu_samples += (int64_t)n;
  }
  cm_event_row ev[64];
  while ((n = cm_imu_source_events(r->imu[k], ev, 64)) > 0)
    for (size_t i = 0; i < n; i++)
      if (cm_session_append_event(r->s, &ev[i]) < 0) return -1;
  return 0;
}

static int write_all_imu(recorder *r) {
  for (int k = 0; k < r->n_imu; k++)
    if (write_imu(r, k) < 0) return -1;
  return 0;
}

/* Losses so far over every IMU stream: frames never seen, plus time gaps. */
static int64_t imu_losses(recorder *r) {
  int64_t n = 0;
  for (int k = 0; k < r->n_imu; k++) {
    cm_imu_stats st = cm_imu_source_stats(r->imu[k]);
    n += st.lost_frames + st.gaps;
  }
  return n;
}

static void close_imu(recorder *r) {
  for (int k = 0; k < r->n_imu; k++) cm_imu_source_close(r->imu[k]);
  r->n_imu = 0;
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
  char imu[64] = "";
  if (r->n_imu > 0) {
    int up = 0;
    for (int k = 0; k < r->n_imu; k++) up += cm_imu_source_connected(r->imu[k]) != 0;
    snprintf(imu, sizeof imu, "  imu %lld (%d/%d live, %lld lost)", (long long)r->sum->imu_samples,
             up, r->n_imu, (long long)imu_losses(r));
  }
  int64_t bytes = cm_session_file_size(r->s);
  fprintf(stderr, "\r\033[Krec %6.1f s  frames %lld  drops %lld  audio %s%s  clock %s  file %.1f MB%s",
          elapsed, (long long)r->sum->video_packets, (long long)r->sum->video_dropped, level, imu,
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


/* Wait 100 ms (the loop's tick when there is no capture queue to wait on); a signal ends it
 * early, which is what a stop request wants. */
static void tick_sleep(void) {
  struct timespec ts = {0, 100000000};
  nanosleep(&ts, NULL);
}

/* Open every --imu source before the camera: a bad spec or a port that cannot be bound fails
 * the command before anything else starts, and the sensors' first frames are kept while the
 * camera pipeline negotiates (the sources queue them on their own threads). */
static int open_imu(recorder *r) {
  const rec_options *o = r->o;
  cm_imu_options io;
  cm_imu_options_default(&io);
  if (o->imu_rate > 0) io.acc_rate = io.gyro_rate = o->imu_rate;
  for (int k = 0; k < o->n_imu; k++)
    if (cm_imu_spec_check(o->imu_spec[k]) < 0) return cm_prefix_error("--imu %s", o->imu_name[k]);
  for (int k = 0; k < o->n_imu; k++) {
    char name[CM_EVENT_STREAM_LEN];
    snprintf(name, sizeof name, "imu_%s", o->imu_name[k]);
    r->imu[k] = cm_imu_source_open(o->imu_spec[k], name, &io);
    if (!r->imu[k]) {
      cm_prefix_error("--imu %s", o->imu_name[k]);
      close_imu(r);
      return -1;
    }
    r->n_imu = k + 1;
  }
  return 0;
}

/* End of recording for the IMUs: stop receiving, release what the trackers held back (halves
 * waiting for a partner, losses not yet reported) and write it. */
static int finish_imu(recorder *r) {
  for (int k = 0; k < r->n_imu; k++) cm_imu_source_finish(r->imu[k]);
  if (write_all_imu(r) < 0) return -1;
  /* The stream's nominal_rate was written before any frame arrived (--imu-rate, default 52);
   * a network sensor announces its own rate in every envelope. Say so when they differ. */
  for (int k = 0; k < r->n_imu; k++) {
    cm_stream_desc d;
    cm_imu_source_describe(r->imu[k], &d);
    double got = cm_imu_source_rate(r->imu[k]);
    if (got > 0 && fabs(got - d.nominal_rate) > 0.01 * d.nominal_rate &&
        cm_session_event(r->s, cm_realtime_ns(), d.name, "rate_mismatch", got,
                         "the sensor sent %.4g Hz; the stream's nominal_rate says %.4g (--imu-rate)",
                         got, d.nominal_rate) < 0)
      return -1;
  }
  return 0;
}

int rec_run(const rec_options *o, rec_summary *sum) {
  memset(sum, 0, sizeof *sum);
  sum->ended_by = "end of stream";
  stop_requested = 0;
  recorder r = {.o = o, .sum = sum, .video_id = -1, .audio_id = -1, .clock_unsynced = -1};
  r.t_start_mono = cm_monotonic_ns();
  double cpu0 = cm_cpu_seconds();

  if (open_imu(&r) < 0) return -1;
  rec_capture *c = NULL;
  if (o->capture.video_src || o->capture.audio_src) {
    c = rec_capture_start(&o->capture);
    /* The session file is created only once the sources have proved they deliver, with the
     * formats they negotiated (the device's own audio rate, the camera's size). */
    if (!c || rec_capture_wait_formats(c, 10000, &r.f) < 0) {
      rec_capture_free(c);
      close_imu(&r);
      return -1;
    }
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
    close_imu(&r);
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
  for (int k = 0; k < r.n_imu; k++) {
    cm_stream_desc d;
    cm_imu_source_describe(r.imu[k], &d);
    if ((r.imu_id[k] = cm_session_add_stream(r.s, &d)) < 0) goto out;
  }
  if (cm_session_start(r.s) < 0) goto out;
  int64_t t_rec_start = cm_realtime_ns();
  if (o->chrony_interval_s > 0 && poll_chrony(&r) < 0) goto out;
  r.next_chrony_ns = cm_monotonic_ns() + (int64_t)(o->chrony_interval_s * 1e9);

  int stopping = 0;
  int64_t stop_deadline = 0, next_imu_ns = 0;
  for (;;) {
    rec_item it;
    int k = 0;
    if (c) {
      k = rec_capture_next(c, &it, 100);
    } else if (!stop_requested) {
      tick_sleep();
    }
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
    if (r.n_imu > 0 && now >= next_imu_ns) {
      if (write_all_imu(&r) < 0) {
        sum->ended_by = "write error";
        goto out;
      }
      next_imu_ns = now + 100000000;
    }
    if (o->chrony_interval_s > 0 && now >= r.next_chrony_ns) {
      if (poll_chrony(&r) < 0) {
        sum->ended_by = "write error";
        goto out;
      }
      r.next_chrony_ns = now + (int64_t)(o->chrony_interval_s * 1e9);
    }
    if (c) {
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
    }
    if (now >= r.next_status_ns) {
      draw_status(&r, 0);
      r.next_status_ns = now + 250000000;
    }
    if (!stopping) {
      /* Counted from the first captured sample, so that --duration is the length of what is
       * stored whatever the pipeline's start-up time; with IMUs alone, from the start (a
       * sensor that has not begun to send is part of the recording, its absence a gap). */
      int64_t t_from = c ? r.first_t_host : t_rec_start;
      if (stop_requested) {
        sum->ended_by = "signal";
        stopping = 1;
      } else if (o->duration_s > 0 && t_from > 0 &&
                 cm_realtime_ns() - t_from >= (int64_t)(o->duration_s * 1e9)) {
        sum->ended_by = "duration";
        stopping = 1;
      }
      if (stopping) {
        if (!c) break;
        rec_capture_stop(c);
        stop_deadline = now + 3000000000LL;
      }
    } else if (now > stop_deadline) {
      break; /* a source that ignores end-of-stream: stop anyway, everything so far is kept */
    }
  }
  if (finish_imu(&r) < 0) {
    sum->ended_by = "write error";
    goto out;
  }
  rc = 0;

out:
  sum->imu_lost = imu_losses(&r);
  if (rc < 0) {
    /* Keep the reason: closing may overwrite the error line. */
    char why[1024];
    snprintf(why, sizeof why, "%s", cm_error());
    rec_capture_free(c);
    c = NULL;
    close_imu(&r);
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
  close_imu(&r);
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
