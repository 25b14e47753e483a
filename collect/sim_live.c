/*
 * `cmact simulate --live` (design in sim_live.h): one thread walks the session's timeline and,
 * at each due instant, measures and sends the next IMU sample of a wrist, renders and sends the
 * next video frame, or synthesises and sends the next audio block, whichever comes first. It
 * sleeps on CLOCK_MONOTONIC in between (absolute deadlines, so a slow frame delays only itself,
 * never the schedule). The GStreamer half is a pipeline of two appsrc branches that only
 * packetise what the simulator made: rtph264pay for the H.264 access units the simulator's own
 * encoder produced (the same bytes its session files hold), rtpL16pay for the PCM.
 */
#include "sim_live.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <libavutil/log.h>

#include "cm_util.h"
#include "imu_sender.h"

#define AUDIO_BLOCK 1024

typedef struct {
  FILE *log;
  int side;
} wire_ctx;

static void on_wire(void *ctx, int meas, uint32_t seq, int fate, const uint8_t *pmd, size_t n) {
  wire_ctx *w = ctx;
  if (w->log) fprintf(w->log, "F,%d,%d,%u,%d\n", w->side, meas, seq, fate);
}

/* HOST:PORT -> host, port. */
static int split_host_port(const char *what, const char *s, char *host, size_t cap, int *port) {
  const char *colon = s ? strrchr(s, ':') : NULL;
  char *end;
  long p = colon ? strtol(colon + 1, &end, 10) : -1;
  if (!colon || colon == s || end == colon + 1 || *end || p < 1 || p > 65535 ||
      (size_t)(colon - s) >= cap)
    return cm_set_error("%s '%s': expected HOST:PORT", what, s ? s : "");
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = 0;
  *port = (int)p;
  return 0;
}

typedef struct {
  GstElement *pipeline;
  GstAppSrc *v, *a;
} rtp_out;

static int gst_ok(void) {
  GError *err = NULL;
  if (!gst_init_check(NULL, NULL, &err)) {
    cm_set_error("GStreamer failed to initialise: %s", err ? err->message : "unknown");
    g_clear_error(&err);
    return -1;
  }
  return 0;
}

static int rtp_open(rtp_out *r, const sim_plan *p, const char *video_to, const char *audio_to) {
  memset(r, 0, sizeof *r);
  if (!video_to && !audio_to) return 0;
  if (gst_ok() < 0) return -1;
  char host[256];
  int port;
  GString *d = g_string_new("");
  if (video_to) {
    if (split_host_port("--video-to", video_to, host, sizeof host, &port) < 0) goto bad;
    int fps_n = (int)lround(p->camera.fps * 1000);
    g_string_append_printf(d,
                           "appsrc name=v is-live=true format=time caps=\"video/x-h264,"
                           "stream-format=byte-stream,alignment=au,width=%d,height=%d,"
                           "framerate=%d/1000\" ! rtph264pay pt=96 config-interval=-1 mtu=1200 ! "
                           "udpsink host=%s port=%d sync=false async=false",
                           p->camera.width, p->camera.height_px, fps_n, host, port);
  }
  if (audio_to) {
    if (split_host_port("--audio-to", audio_to, host, sizeof host, &port) < 0) goto bad;
    if (d->len) g_string_append(d, "  ");
    g_string_append_printf(d,
                           "appsrc name=a is-live=true format=time caps=\"audio/x-raw,format=S16LE,"
                           "layout=interleaved,rate=%d,channels=1\" ! audioconvert ! "
                           "rtpL16pay pt=96 mtu=1200 ! udpsink host=%s port=%d sync=false async=false",
                           p->audio_rate, host, port);
  }
  GError *err = NULL;
  r->pipeline = gst_parse_launch(d->str, &err);
  if (!r->pipeline || err) {
    cm_set_error("live RTP pipeline: %s", err ? err->message : "cannot be built");
    g_clear_error(&err);
    if (r->pipeline) gst_object_unref(r->pipeline);
    r->pipeline = NULL;
    goto bad;
  }
  g_string_free(d, TRUE);
  if (video_to) r->v = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(r->pipeline), "v"));
  if (audio_to) r->a = GST_APP_SRC(gst_bin_get_by_name(GST_BIN(r->pipeline), "a"));
  if (gst_element_set_state(r->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return cm_set_error("live RTP pipeline does not start");
  return 0;
bad:
  g_string_free(d, TRUE);
  return -1;
}

/* An error posted by the pipeline so far (udpsink cannot resolve the host, ...), as -1. */
static int rtp_check(rtp_out *r) {
  if (!r->pipeline) return 0;
  GstBus *bus = gst_element_get_bus(r->pipeline);
  GstMessage *m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  gst_object_unref(bus);
  if (!m) return 0;
  GError *err = NULL;
  gst_message_parse_error(m, &err, NULL);
  cm_set_error("live RTP: %s", err ? err->message : "pipeline error");
  g_clear_error(&err);
  gst_message_unref(m);
  return -1;
}

static int rtp_push(GstAppSrc *src, const void *data, size_t n, int64_t pts_ns, int64_t dur_ns) {
  GstBuffer *b = gst_buffer_new_allocate(NULL, n, NULL);
  gst_buffer_fill(b, 0, data, n);
  GST_BUFFER_PTS(b) = (GstClockTime)pts_ns;
  GST_BUFFER_DTS(b) = (GstClockTime)pts_ns;
  GST_BUFFER_DURATION(b) = (GstClockTime)dur_ns;
  return gst_app_src_push_buffer(src, b) == GST_FLOW_OK ? 0
                                                        : cm_set_error("live RTP: the pipeline refused a buffer");
}

static void rtp_close(rtp_out *r) {
  if (!r->pipeline) return;
  if (r->v) gst_app_src_end_of_stream(r->v);
  if (r->a) gst_app_src_end_of_stream(r->a);
  GstBus *bus = gst_element_get_bus(r->pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 2 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (m) gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(r->pipeline, GST_STATE_NULL);
  if (r->v) gst_object_unref(r->v);
  if (r->a) gst_object_unref(r->a);
  gst_object_unref(r->pipeline);
  memset(r, 0, sizeof *r);
}

typedef struct {
  rtp_out *rtp;
  double fps;
  long frames;
} video_ctx;

static int on_packet(void *ctx, const uint8_t *data, size_t size, int key, int64_t pts, int64_t dts) {
  video_ctx *v = ctx;
  v->frames++;
  return rtp_push(v->rtp->v, data, size, pts * 100000 / 9, (int64_t)llround(1e9 / v->fps));
}

static void sleep_until(int64_t mono_ns) {
  struct timespec ts = {mono_ns / 1000000000, mono_ns % 1000000000};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

int sim_live_run(const sim_preset *ps, const sim_live_opts *o) {
  if (o->session < 0 || o->session >= ps->n_sessions)
    return cm_set_error("--session %d: the preset has sessions 0..%d", o->session, ps->n_sessions - 1);
  sim_plan p;
  sim_plan_make(ps, o->seed, o->session, &p);
  sim_body *body = sim_body_new(&p);
  int want_imu = o->imu_to[0] || o->imu_to[1], want_cam = o->video_to || o->audio_to;
  if (!want_imu && !want_cam) {
    sim_body_free(body);
    return cm_set_error("nothing to send: give --imu-left/--imu-right, --video-to or --audio-to");
  }
  /* The span both kinds of device record (the camera's is the labelled clip; the wrists'
   * starts earlier and ends later), or the one that is sent. */
  double t0 = want_cam ? p.cam_start_s : p.imu_start_s, t1 = want_cam ? p.cam_end_s : p.imu_end_s;
  if (want_cam && want_imu) {
    t0 = fmax(p.cam_start_s, p.imu_start_s);
    t1 = fmin(p.cam_end_s, p.imu_end_s);
  }
  if (o->duration_s > 0 && t0 + o->duration_s < t1) t1 = t0 + o->duration_s;

  int rc = -1;
  FILE *log = NULL;
  cm_imu_sender *snd[2] = {NULL, NULL};
  wire_ctx wctx[2] = {{NULL, 0}, {NULL, 1}};
  rtp_out rtp = {0};
  sim_renderer *ren = NULL;
  sim_encoder *enc = NULL;
  sim_audio *aud = NULL;
  uint8_t *rgb = NULL;
  int16_t pcm[AUDIO_BLOCK];
  sim_rng noise[2];
  if (o->wire_log && !(log = fopen(o->wire_log, "w"))) {
    cm_set_error("--wire-log %s: %s", o->wire_log, strerror(errno));
    goto out;
  }
  if (log) fprintf(log, "# cmact simulate --live wire log: S,side,index,t_device_ns,ax,ay,az,gx,gy,gz / F,side,meas,seq,fate\n");
  int spf = o->imu_frame > 0 ? o->imu_frame : (int)fmax(1, lround(p.imu_rate * 0.08));
  for (int side = 0; side < 2; side++) {
    sim_rng_seed(&noise[side], p.seed, 700 + (uint64_t)side);
    if (!o->imu_to[side]) continue;
    wctx[side].log = log;
    cm_imu_sender_opts so;
    cm_imu_sender_opts_default(&so);
    so.samples_per_frame = spf;
    so.loss = o->loss, so.duplicate = o->duplicate, so.reorder = o->reorder;
    so.seed = sim_hash64(p.seed, 800 + (uint64_t)side);
    so.log = on_wire;
    so.log_ctx = &wctx[side];
    snd[side] = cm_imu_sender_open(o->imu_to[side], (uint8_t)side, p.imu_rate, &so);
    if (!snd[side]) {
      cm_prefix_error("--imu-%s", side ? "right" : "left");
      goto out;
    }
  }
  if (rtp_open(&rtp, &p, o->video_to, o->audio_to) < 0) goto out;
  video_ctx vctx = {&rtp, p.camera.fps, 0};
  if (o->video_to) {
    av_log_set_level(AV_LOG_ERROR);
    ren = sim_renderer_new(&p);
    enc = sim_encoder_new(p.camera.width, p.camera.height_px, p.camera.fps, (int)lround(p.camera.fps));
    if (!enc) goto out;
    rgb = cm_xmalloc((size_t)p.camera.width * p.camera.height_px * 3);
  }
  if (o->audio_to) aud = sim_audio_new(&p, body, t0);

  /* Next due items, as plan times: IMU sample k at t0 + k/rate (measured then, sent at once:
   * the sender frames it), video frame k at t0 + k/fps (sent when rendered), audio block j
   * when its last sample has been measured. */
  long n_imu = (long)floor((t1 - t0) * p.imu_rate), n_vid = (long)floor((t1 - t0) * p.camera.fps);
  long n_aud = (long)floor((t1 - t0) * p.audio_rate);
  long k_imu = 0, k_vid = 0, a_done = 0;
  int64_t max_late_ns = 0; /* how far behind its due time an item left, at worst */
  int64_t mono0 = cm_monotonic_ns();
  for (;;) {
    double due[3] = {INFINITY, INFINITY, INFINITY};
    if (want_imu && k_imu < n_imu) due[0] = k_imu / p.imu_rate;
    if (o->video_to && k_vid < n_vid) due[1] = k_vid / p.camera.fps;
    if (o->audio_to && a_done < n_aud)
      due[2] = (double)(a_done + (n_aud - a_done < AUDIO_BLOCK ? n_aud - a_done : AUDIO_BLOCK)) / p.audio_rate;
    int w = due[0] <= due[1] ? (due[0] <= due[2] ? 0 : 2) : (due[1] <= due[2] ? 1 : 2);
    if (isinf(due[w])) break;
    int64_t due_ns = mono0 + (int64_t)llround(due[w] * 1e9);
    sleep_until(due_ns);
    if (w == 0) {
      double t = t0 + k_imu / p.imu_rate, ideal[2][6];
      sim_imu_ideal(body, t, 1.0 / p.imu_rate, ideal);
      for (int side = 0; side < 2; side++) {
        float v[6];
        /* both sensors measure (the noise streams stay the same whichever is sent) */
        sim_imu_apply_sensor(&p.sensor[side], ideal[side], &noise[side], v);
        int64_t td = p.t0_ref_ns + sim_device_time_ns(&p.sensor[side], t);
        if (!snd[side]) continue;
        if (log)
          fprintf(log, "S,%d,%ld,%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", side, k_imu, (long long)td,
                  v[0], v[1], v[2], v[3], v[4], v[5]);
        if (cm_imu_sender_push(snd[side], v, v + 3, &td, 1) < 0) goto out;
      }
      k_imu++;
    } else if (w == 1) {
      sim_render_frame(ren, body, t0 + k_vid / p.camera.fps, k_vid, rgb);
      if (sim_encoder_encode(enc, rgb, llround(k_vid * 90000.0 / p.camera.fps), on_packet, &vctx) < 0)
        goto out;
      k_vid++;
    } else {
      int nb = (int)(n_aud - a_done < AUDIO_BLOCK ? n_aud - a_done : AUDIO_BLOCK);
      sim_audio_render(aud, pcm, nb);
      if (rtp_push(rtp.a, pcm, sizeof(int16_t) * (size_t)nb, a_done * 1000000000LL / p.audio_rate,
                   nb * 1000000000LL / p.audio_rate) < 0)
        goto out;
      a_done += nb;
    }
    if (rtp_check(&rtp) < 0) goto out;
    int64_t late = cm_monotonic_ns() - due_ns;
    if (late > max_late_ns) max_late_ns = late;
  }
  if (enc && sim_encoder_encode(enc, NULL, 0, on_packet, &vctx) < 0) goto out;
  for (int side = 0; side < 2; side++)
    if (snd[side] && cm_imu_sender_flush(snd[side]) < 0) goto out;
  if (rtp_check(&rtp) < 0) goto out;
  rc = 0;
  if (!o->quiet) {
    printf("%-24s %s (session %d of seed %llu)\n", "session", p.session_id, o->session,
           (unsigned long long)o->seed);
    printf("%-24s %.2f s of plan time %.2f..%.2f\n", "played", t1 - t0, t0, t1);
    if (want_imu)
      printf("%-24s %ld per wrist at %.0f Hz, %d per frame\n", "imu samples", k_imu, p.imu_rate, spf);
    if (o->video_to) printf("%-24s %ld at %.2f fps, %dx%d\n", "video frames", vctx.frames, p.camera.fps, p.camera.width, p.camera.height_px);
    if (o->audio_to) printf("%-24s %ld at %d Hz\n", "audio samples", a_done, p.audio_rate);
    printf("%-24s %.1f ms behind its due time at worst\n", "pacing", max_late_ns / 1e6);
  }
out:
  if (rc < 0) {
    char why[1024];
    snprintf(why, sizeof why, "%s", cm_error());
    rtp_close(&rtp);
    cm_set_error("%s", why);
  } else {
    rtp_close(&rtp);
  }
  for (int side = 0; side < 2; side++) cm_imu_sender_close(snd[side]);
  if (log && fclose(log) != 0 && rc == 0) rc = cm_set_error("--wire-log %s: %s", o->wire_log, strerror(errno));
  sim_renderer_free(ren);
  sim_encoder_free(enc);
  sim_audio_free(aud);
  free(rgb);
  sim_body_free(body);
  return rc;
}
