/*
 * The simulated world's physics, checked against what physics says rather than against stored
 * outputs: a still wrist reads gravity, a moving one reads more; walking makes about two
 * footfalls per stride and jumping one landing per jump; radio only ever delays samples; chrony
 * rows account for the host clock's known error and bound its unknown one; the encoder's
 * stream is Annex B with SPS/PPS at every keyframe and decodes frame for frame; the microphone
 * hears footsteps above the room noise.
 */
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_session.h"
#include "sim.h"
#include "testutil.h"

static void clip_plan(int activity, sim_plan *p) {
  sim_preset ps;
  assert_int_equal(sim_preset_get("quick", &ps), 0);
  /* find the quick preset's clip of that activity */
  for (int i = 0; i < ps.n_sessions; i++) {
    sim_plan_make(&ps, 7, i, p);
    if (p->n_segments == 1 && p->seg[0].activity == activity) return;
  }
  fail_msg("no clip of activity %d in the quick preset", activity);
}

static double mean_acc_norm(int activity, double *spread) {
  sim_plan p;
  clip_plan(activity, &p);
  sim_body *b = sim_body_new(&p);
  double s = 0, s2 = 0;
  int n = 0;
  for (double t = 0; t < 4; t += 0.04) {
    double o[2][6];
    sim_imu_ideal(b, t, 0.04, o);
    double a = sqrt(o[1][0] * o[1][0] + o[1][1] * o[1][1] + o[1][2] * o[1][2]);
    s += a;
    s2 += a * a;
    n++;
  }
  sim_body_free(b);
  *spread = sqrt(s2 / n - (s / n) * (s / n));
  return s / n;
}

static void test_imu_gravity_and_motion(void **state) {
  double sd_wash, sd_run, sd_jump;
  double m_wash = mean_acc_norm(SIM_HANDWASHING, &sd_wash);
  double m_run = mean_acc_norm(SIM_RUN, &sd_run);
  mean_acc_norm(SIM_JUMP, &sd_jump);
  printf("wash %.2f+-%.2f run %.2f+-%.2f jump sd %.2f\n", m_wash, sd_wash, m_run, sd_run, sd_jump);
  /* hands rubbing at a sink: mostly gravity */
  assert_true(fabs(m_wash - 9.81) < 2.5);
  /* running shakes the wrist far more than washing does, and jumping too */
  assert_true(sd_run > 2 * sd_wash);
  assert_true(sd_jump > 2 * sd_wash);
}

static void test_contacts(void **state) {
  sim_plan p;
  clip_plan(SIM_WALK, &p);
  sim_body *b = sim_body_new(&p);
  sim_contact ev[256];
  size_t n = sim_body_contacts(b, 0, 4, ev, 256);
  /* 1.6-2.3 steps per second */
  assert_true(n >= 6 && n <= 10);
  for (size_t i = 1; i < n; i++) {
    assert_true(ev[i].t > ev[i - 1].t);
    assert_true(ev[i].kind != ev[i - 1].kind); /* left, right, left... */
  }
  sim_body_free(b);
  clip_plan(SIM_JUMP, &p);
  b = sim_body_new(&p);
  n = sim_body_contacts(b, 0, 4, ev, 256);
  assert_true(n >= 2 && n <= 6);
  for (size_t i = 0; i < n; i++) assert_int_equal(ev[i].kind, EV_LAND);
  assert_true(ev[0].force > 2 * p.person.mass_kg * 9.81); /* landings are hard */
  sim_body_free(b);
}

static void test_link_only_delays(void **state) {
  sim_plan p;
  clip_plan(SIM_RUN, &p);
  p.sensor[0].loss = 0.05;
  p.sensor[0].burst_rate_hz = 0.5;
  sim_link_result r;
  sim_link_run(&p, &p.sensor[0], &p.imu_host, 25, 0, 20, 99, &r);
  assert_true(r.n > 300 && r.n + r.n_lost <= 501);
  assert_true(r.n_lost > 0 && r.n_gaps > 0);
  for (size_t i = 0; i < r.n; i++) {
    assert_true(r.latency_s[i] > 0);
    int64_t sent = sim_host_time_ns(&p, &p.imu_host, r.t_sample[i]);
    assert_true(r.t_host_ns[i] > sent);
    if (i) {
      assert_true(r.t_host_ns[i] >= r.t_host_ns[i - 1]);
      assert_true(r.t_device_ns[i] > r.t_device_ns[i - 1]);
    }
  }
  /* the device clock drifts by its ppm against reference time */
  double span_dev = (r.t_device_ns[r.n - 1] - r.t_device_ns[0]) / 1e9;
  double span_ref = r.t_sample[r.n - 1] - r.t_sample[0];
  assert_true(fabs(span_dev / span_ref - 1 - p.sensor[0].drift_ppm * 1e-6) < 1e-9);
  sim_link_free(&r);
}

static void test_chrony_consistent(void **state) {
  sim_plan p;
  clip_plan(SIM_WALK, &p);
  cm_chrony_row rows[16];
  size_t n = sim_chrony_rows(&p, &p.cam_host, 0, 0, 10, rows, 16);
  assert_true(n >= 5);
  for (size_t i = 0; i < n; i++) {
    /* reference time of the row recovered from the host stamp plus correction is off by the
     * NTP error only, and the reported bound holds it */
    double t_plan = 0; /* solve host time -> plan time with the truth */
    double host_s = (rows[i].t_host_ns - p.t0_ref_ns) / 1e9;
    t_plan = host_s - sim_host_error_s(&p.cam_host, host_s);
    double corrected = host_s + rows[i].current_correction;
    double residual = corrected - t_plan;
    assert_true(fabs(residual - p.cam_host.ntp_error_s) < 1e-3);
    assert_true(fabs(residual) <= rows[i].root_delay / 2 + rows[i].root_dispersion + 1e-3);
  }
}

typedef struct { int n, keys, keys_with_sps; uint8_t *buf; size_t len; } pk;

static int collect(void *ctx, const uint8_t *d, size_t size, int key, int64_t pts, int64_t dts) {
  pk *k = ctx;
  k->n++;
  assert_true(size > 4);
  assert_memory_equal(d, "\0\0\0\1", 4); /* Annex B start code */
  if (key) {
    k->keys++;
    if ((d[4] & 0x1f) == 7) k->keys_with_sps++; /* NAL type 7: SPS first */
  }
  assert_int_equal(pts, dts);
  k->buf = realloc(k->buf, k->len + size);
  memcpy(k->buf + k->len, d, size);
  k->len += size;
  return 0;
}

static void test_render_encode_decode(void **state) {
  sim_plan p;
  clip_plan(SIM_EXERCISE, &p);
  sim_body *b = sim_body_new(&p);
  sim_renderer *r = sim_renderer_new(&p);
  sim_encoder *e = sim_encoder_new(p.camera.width, p.camera.height_px, 29, 29);
  assert_non_null(e);
  size_t sz = (size_t)p.camera.width * p.camera.height_px * 3;
  uint8_t *rgb = malloc(sz), *first = malloc(sz);
  pk k = {0};
  for (int i = 0; i < 60; i++) {
    sim_render_frame(r, b, i / 29.0, i, rgb);
    if (i == 0) memcpy(first, rgb, sz);
    assert_int_equal(sim_encoder_encode(e, rgb, i * 3103, collect, &k), 0);
  }
  assert_int_equal(sim_encoder_encode(e, NULL, 0, collect, &k), 0);
  assert_int_equal(k.n, 60);
  assert_int_equal(k.keys, 3);
  assert_int_equal(k.keys_with_sps, 3);
  /* frames are not blank and differ over time (the person moves) */
  long diff = 0, sum = 0;
  for (size_t i = 0; i < sz; i++) {
    diff += abs((int)rgb[i] - (int)first[i]);
    sum += rgb[i];
  }
  assert_true(sum / (double)sz > 20 && sum / (double)sz < 235);
  assert_true(diff / (double)sz > 1.0);
  /* the stream decodes to 60 frames with a plain H.264 decoder */
  const AVCodec *dec = avcodec_find_decoder(AV_CODEC_ID_H264);
  AVCodecContext *c = avcodec_alloc_context3(dec);
  assert_int_equal(avcodec_open2(c, dec, NULL), 0);
  AVCodecParserContext *parser = av_parser_init(AV_CODEC_ID_H264);
  AVPacket *pkt = av_packet_alloc();
  AVFrame *fr = av_frame_alloc();
  int frames = 0;
  uint8_t *data = k.buf;
  size_t left = k.len;
  while (left > 0 || data) {
    uint8_t *out;
    int out_size;
    int used = av_parser_parse2(parser, c, &out, &out_size, left ? data : NULL, (int)left, 0, 0, 0);
    if (left) {
      data += used;
      left -= used;
    } else {
      data = NULL;
    }
    if (out_size) {
      pkt->data = out;
      pkt->size = out_size;
      avcodec_send_packet(c, pkt);
      while (avcodec_receive_frame(c, fr) == 0) frames++;
    }
    if (!left && !out_size && !data) break;
  }
  avcodec_send_packet(c, NULL);
  while (avcodec_receive_frame(c, fr) == 0) frames++;
  assert_int_equal(frames, 60);
  av_frame_free(&fr);
  av_packet_free(&pkt);
  av_parser_close(parser);
  avcodec_free_context(&c);
  free(k.buf);
  free(rgb);
  free(first);
  sim_encoder_free(e);
  sim_renderer_free(r);
  sim_body_free(b);
}

static double rms(const int16_t *x, int n) {
  double s = 0;
  for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
  return sqrt(s / n);
}

static void test_audio_footsteps(void **state) {
  sim_plan p;
  clip_plan(SIM_RUN, &p);
  sim_body *b = sim_body_new(&p);
  sim_audio *a = sim_audio_new(&p, b, 0);
  int n = p.audio_rate * 3;
  int16_t *x = malloc(sizeof(int16_t) * n);
  sim_audio_render(a, x, n);
  /* loudness in 20 ms frames: footfalls make peaks far above the quietest frames */
  int fl = p.audio_rate / 50, nf = n / fl;
  double lo = 1e9, hi = 0;
  for (int f = 0; f < nf; f++) {
    double v = rms(x + f * fl, fl);
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  assert_true(hi > 4 * lo);
  assert_true(hi < 30000);
  free(x);
  sim_audio_free(a);
  sim_body_free(b);
}

int main(void) {
  av_log_set_level(AV_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_imu_gravity_and_motion), cmocka_unit_test(test_contacts),
      cmocka_unit_test(test_link_only_delays),       cmocka_unit_test(test_chrony_consistent),
      cmocka_unit_test(test_render_encode_decode),   cmocka_unit_test(test_audio_footsteps),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
