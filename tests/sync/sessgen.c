/*
 * Synthetic session files for the sync tests; see sessgen.h. Everything is a pure function of
 * the parameters and the seed (xorshift noise), so the files are the same on every run.
 */
#include "sessgen.h"

#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_session.h"
#include "cm_util.h"

#define REF0_NS 1795500000000000000LL
#define W 96
#define H 96
#define FPS 30
#define SR 22050
#define IMU_HZ 50

static uint64_t rs;
static double urand(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0;
}

void sg_defaults(sg_params *p, const char *dir, const char *session_id) {
  memset(p, 0, sizeof *p);
  p->dir = dir, p->session_id = session_id, p->user = "u1", p->location = "loc1";
  p->seed = 1, p->duration_s = 8;
  p->cam_host_err_s = 0.30, p->imu_host_err_s = -0.20;
  p->cam_unknown_s = 0.02, p->imu_unknown_s = -0.015;
  p->imu_dev_offset_s = 1234.5, p->imu_drift_ppm = 40;
}

typedef struct {
  double t[64];
  int n;
} events;

static void make_events(events *e, double dur) {
  e->n = 0;
  double t = 0.4;
  while (e->n < 64) {
    t += 0.25 + 0.9 * urand();
    if (t > dur - 0.3) break;
    e->t[e->n++] = t;
  }
}
static int events_before(const events *e, double t) {
  int k = 0;
  while (k < e->n && e->t[k] <= t) k++;
  return k;
}
static double pulse(const events *e, double t, double width) {
  double v = 0;
  for (int k = 0; k < e->n; k++) {
    double d = (t - e->t[k]) / width;
    if (fabs(d) < 6) v += exp(-0.5 * d * d);
  }
  return v;
}

static int64_t ns(double s) { return (int64_t)llround(s * 1e9); }

static int chrony_rows(cm_session *s, double dur, double host_err, double unknown, int step) {
  for (double t = -2; t <= dur + 2; t += 1.0) {
    double err = host_err;
    if (step && t >= dur / 2) err += 0.5; /* the host clock jumped forward by 0.5 s */
    cm_chrony_row r;
    memset(&r, 0, sizeof r);
    r.t_host_ns = REF0_NS + ns(t + err);
    r.current_correction = -(err - unknown); /* chrony sees all but `unknown` */
    r.root_delay = 2 * fabs(unknown) + 0.01;
    r.root_dispersion = 0.002;
    r.stratum = 3;
    r.skew_ppm = 5;
    if (cm_session_append_chrony(s, &r)) return -1;
  }
  return 0;
}

static int write_cam(const sg_params *p, const events *ev) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s_cam.h5", p->dir, p->session_id);
  cm_session_info info = {.session_id = p->session_id, .user = p->user, .location = p->location, .host = "camhost"};
  cm_session *s = cm_session_create(path, &info, 1);
  if (!s) return -1;
  cm_stream_desc v = {0}, a = {0};
  v.name = "video", v.kind = CM_STREAM_VIDEO, v.nominal_rate = FPS, v.codec = "h264", v.width = W, v.height = H;
  v.time_base_num = 1, v.time_base_den = FPS, v.transport = "test";
  a.name = "audio", a.kind = CM_STREAM_AUDIO, a.nominal_rate = SR, a.sample_rate = SR, a.channels = 1, a.transport = "test";
  int vs = cm_session_add_stream(s, &v), as = cm_session_add_stream(s, &a);
  if (vs < 0 || as < 0 || cm_session_start(s)) goto fail;
  if (chrony_rows(s, p->duration_s, p->cam_host_err_s, p->cam_unknown_s, p->clock_step)) goto fail;
  /* labels, in reference time */
  cm_label_row lr;
  memset(&lr, 0, sizeof lr);
  if (p->two_activities) {
    lr.start_ns = REF0_NS, lr.end_ns = REF0_NS + ns(p->duration_s / 2);
    snprintf(lr.activity, sizeof lr.activity, "walk");
    if (cm_session_append_label(s, &lr)) goto fail;
    lr.start_ns = lr.end_ns, lr.end_ns = REF0_NS + ns(p->duration_s);
    snprintf(lr.activity, sizeof lr.activity, "run");
  } else {
    lr.start_ns = REF0_NS, lr.end_ns = REF0_NS + ns(p->duration_s);
    snprintf(lr.activity, sizeof lr.activity, "%s", p->label ? p->label : "walk");
  }
  if (cm_session_append_label(s, &lr)) goto fail;

  /* video: H.264 by libx264, no B-frames */
  av_log_set_level(AV_LOG_QUIET);
  const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
  if (!codec) {
    cm_set_error("no libx264 encoder");
    goto fail;
  }
  AVCodecContext *c = avcodec_alloc_context3(codec);
  c->width = W, c->height = H, c->time_base = (AVRational){1, FPS}, c->framerate = (AVRational){FPS, 1};
  c->pix_fmt = AV_PIX_FMT_YUV420P, c->gop_size = FPS, c->max_b_frames = 0, c->thread_count = 1;
  av_opt_set(c->priv_data, "preset", "ultrafast", 0);
  av_opt_set(c->priv_data, "tune", "zerolatency", 0);
  if (avcodec_open2(c, codec, NULL) < 0) {
    avcodec_free_context(&c);
    cm_set_error("cannot open libx264");
    goto fail;
  }
  AVFrame *f = av_frame_alloc();
  f->format = c->pix_fmt, f->width = W, f->height = H;
  av_frame_get_buffer(f, 0);
  AVPacket *pkt = av_packet_alloc();
  int nframes = (int)(p->duration_s * FPS), rc = 0;
  for (int k = 0; k <= nframes && rc == 0; k++) {
    AVFrame *in = NULL;
    if (k < nframes) {
      double t = (double)k / FPS;
      int pos = events_before(ev, t);
      int sx = 8 + (int)((pos * 37) % 60), sy = 8 + (int)((pos * 53) % 60);
      av_frame_make_writable(f);
      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          f->data[0][y * f->linesize[0] + x] = (x >= sx && x < sx + 24 && y >= sy && y < sy + 24) ? 220 : 40;
      for (int y = 0; y < H / 2; y++)
        for (int x = 0; x < W / 2; x++) f->data[1][y * f->linesize[1] + x] = f->data[2][y * f->linesize[2] + x] = 128;
      f->pts = k;
      in = f;
    }
    if (avcodec_send_frame(c, in) < 0) rc = -1;
    while (rc == 0 && avcodec_receive_packet(c, pkt) == 0) {
      double t_cap = (double)pkt->pts / FPS; /* reference time of the frame */
      cm_packet_row row = {0};
      row.size = (uint32_t)pkt->size, row.key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
      row.pts = pkt->pts, row.dts = pkt->dts;
      double err = p->cam_host_err_s + (p->clock_step && t_cap >= p->duration_s / 2 ? 0.5 : 0);
      row.t_host_ns = REF0_NS + ns(t_cap + err + 0.003 * urand());
      if (cm_session_append_packet(s, vs, pkt->data, &row)) rc = -1;
      av_packet_unref(pkt);
    }
  }
  av_packet_free(&pkt);
  av_frame_free(&f);
  avcodec_free_context(&c);
  if (rc) {
    if (!strstr(cm_error(), path)) cm_set_error("%s: video encoding failed", path);
    goto fail;
  }
  /* audio: clicks at the events over quiet noise, blocks of 1024 frames */
  int n_audio = (int)(p->duration_s * SR);
  int16_t blk[1024];
  for (int i0 = 0; i0 < n_audio; i0 += 1024) {
    int n = n_audio - i0 < 1024 ? n_audio - i0 : 1024;
    for (int i = 0; i < n; i++) {
      double t = (double)(i0 + i) / SR;
      double click = 0;
      for (int k = 0; k < ev->n; k++) {
        double d = t - ev->t[k];
        if (d >= 0 && d < 0.05) click += exp(-d / 0.01) * (urand() - 0.5) * 2;
      }
      blk[i] = (int16_t)lrint(3000 * click + 60 * (urand() - 0.5));
    }
    double err = p->cam_host_err_s + (p->clock_step && (double)i0 / SR >= p->duration_s / 2 ? 0.5 : 0);
    if (cm_session_append_audio(s, as, blk, n, REF0_NS + ns((double)i0 / SR + err + 0.001 * urand()))) goto fail;
  }
  return cm_session_close(s);
fail:
  cm_session_close(s);
  return -1;
}

static int write_imu(const sg_params *p, const events *ev) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s_imu.h5", p->dir, p->session_id);
  cm_session_info info = {.session_id = p->session_id, .user = p->user, .location = p->location, .host = "imuhost"};
  cm_session *s = cm_session_create(path, &info, 1);
  if (!s) return -1;
  int ids[2];
  const char *names[2] = {"imu_right", "imu_left"};
  int n_streams = p->omit_imu_left ? 1 : 2;
  for (int k = 0; k < n_streams; k++) {
    cm_stream_desc d = {0};
    d.name = names[k], d.kind = CM_STREAM_IMU, d.nominal_rate = IMU_HZ, d.units = "m/s^2,rad/s", d.transport = "ble";
    if ((ids[k] = cm_session_add_stream(s, &d)) < 0) goto fail;
  }
  if (cm_session_start(s)) goto fail;
  if (chrony_rows(s, p->duration_s + p->imu_start_delay_s, p->imu_host_err_s, p->imu_unknown_s, 0)) goto fail;
  for (int k = 0; k < n_streams; k++) {
    double t_first = p->imu_start_delay_s;
    int n = (int)(p->duration_s * IMU_HZ);
    double latency = 0;
    for (int i = 0; i < n; i++) {
      double t = t_first + (double)i / IMU_HZ; /* reference time of the sample */
      if (p->imu_gap_len_s > 0 && t >= p->imu_gap_at_s && t < p->imu_gap_at_s + p->imu_gap_len_s) continue;
      float x[6];
      double pl = pulse(ev, t, 0.03);
      x[0] = (float)(0.3 * (urand() - 0.5) + 4 * pl);
      x[1] = (float)(0.3 * (urand() - 0.5));
      x[2] = (float)(9.81 + 0.3 * (urand() - 0.5) + 12 * pl);
      for (int c = 3; c < 6; c++) x[c] = (float)(0.05 * (urand() - 0.5) + 2 * pl);
      double dev = p->imu_dev_offset_s + t * (1 + p->imu_drift_ppm * 1e-6);
      if (p->imu_backwards && i >= n / 2) dev -= 1.0;
      int64_t td = ns(dev);
      /* the packet of 5 leaves when its last sample is taken */
      if (i % 5 == 0) latency = 0.0075 - 0.010 * log(1 - urand());
      double sent = t_first + (double)(i - i % 5 + 4) / IMU_HZ;
      int64_t th = REF0_NS + ns(sent + latency + p->imu_host_err_s);
      if (cm_session_append_imu(s, ids[k], x, &td, &th, 1)) goto fail;
    }
  }
  return cm_session_close(s);
fail:
  cm_session_close(s);
  return -1;
}

int sg_write(const sg_params *p) {
  rs = 0x2545F4914F6CDD1DULL ^ (p->seed * 0x9E3779B97F4A7C15ULL);
  events ev;
  make_events(&ev, p->duration_s);
  if (write_cam(p, &ev)) return -1;
  return write_imu(p, &ev);
}
