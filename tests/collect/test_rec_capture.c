/*
 * The GStreamer capture pipeline with live test sources: what comes out is what the session
 * file will store (Annex B H.264 with an IDR first, or JPEG frames; S16 PCM at the source's
 * rate), in order, with capture times on CLOCK_REALTIME spaced like the frames.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "rec_capture.h"
#include "testutil.h"

typedef struct {
  int n_video, n_audio_blocks;
  int64_t audio_frames;
  int first_video_key;
  int annexb_sps_first; /* the first packet carries an SPS (NAL type 7) */
  int jpeg_soi;
  int64_t first_pts, last_pts, first_t_host, last_t_host;
  double max_host_step_err_s; /* | (t_host[i]-t_host[i-1]) - (pts[i]-pts[i-1]) | */
} run_result;

static int has_sps(const uint8_t *p, size_t n) {
  for (size_t i = 0; i + 4 < n; i++)
    if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == 7) return 1;
  return 0;
}

static int run_pipeline(const rec_capture_opts *o, rec_formats *f, run_result *r, int stop_after) {
  memset(r, 0, sizeof *r);
  rec_capture *c = rec_capture_start(o);
  if (!c) {
    print_error("start: %s\n", cm_error());
    return -1;
  }
  if (rec_capture_wait_formats(c, 5000, f) < 0) {
    print_error("formats: %s\n", cm_error());
    rec_capture_free(c);
    return -1;
  }
  int64_t prev_pts = -1, prev_host = 0;
  for (;;) {
    rec_item it;
    int k = rec_capture_next(c, &it, 5000);
    if (k == 2) break;
    if (k != 1) {
      print_error("next: %d %s\n", k, k < 0 ? cm_error() : "timeout");
      rec_capture_free(c);
      return -1;
    }
    if (it.kind == REC_ITEM_VIDEO) {
      if (r->n_video == 0) {
        r->first_video_key = it.key;
        r->annexb_sps_first = has_sps(it.data, it.size);
        r->jpeg_soi = it.size > 2 && it.data[0] == 0xFF && it.data[1] == 0xD8;
        r->first_pts = it.pts_ns;
        r->first_t_host = it.t_host_ns;
      } else {
        double err = fabs((it.t_host_ns - prev_host) / 1e9 - (it.pts_ns - prev_pts) / 1e9);
        if (err > r->max_host_step_err_s) r->max_host_step_err_s = err;
      }
      prev_pts = it.pts_ns;
      prev_host = it.t_host_ns;
      r->last_pts = it.pts_ns;
      r->last_t_host = it.t_host_ns;
      if (++r->n_video == stop_after) rec_capture_stop(c);
    } else {
      r->n_audio_blocks++;
      r->audio_frames += it.size / 2 / (f->channels ? f->channels : 1);
    }
    free(it.data);
  }
  rec_capture_free(c);
  return 0;
}

static void test_h264_and_pcm(void **state) {
  rec_capture_opts o = {
      .video_src = "videotestsrc is-live=true pattern=ball num-buffers=29",
      .audio_src = "audiotestsrc is-live=true num-buffers=10 samplesperbuffer=2205 ! "
                   "audio/x-raw,rate=22050,channels=1",
      .width = 160, .height = 120, .fps_num = 29, .fps_den = 1};
  rec_formats f;
  run_result r;
  int64_t t0 = cm_realtime_ns();
  assert_int_equal(run_pipeline(&o, &f, &r, 0), 0);
  assert_string_equal(f.codec, "h264");
  assert_int_equal(f.width, 160);
  assert_int_equal(f.height, 120);
  assert_int_equal(f.fps_num, 29);
  assert_int_equal(f.rate, 22050);
  assert_int_equal(f.channels, 1);
  assert_int_equal(r.n_video, 29);
  assert_true(r.first_video_key);
  assert_true(r.annexb_sps_first);
  assert_int_equal(r.audio_frames, 22050);
  /* 29 frames at 29 fps: the last PTS is 28/29 s after the first. */
  assert_true(llabs((r.last_pts - r.first_pts) - 28LL * 1000000000 / 29) < 1000000);
  /* Capture times are on the real-time clock, around when this test ran... */
  assert_true(r.first_t_host >= t0 - 1000000000LL && r.first_t_host <= cm_realtime_ns());
  /* ...and follow the frames' own spacing to well under a millisecond. */
  printf("max |host step - pts step| = %.6f s\n", r.max_host_step_err_s);
  assert_true(r.max_host_step_err_s < 0.002);
}

static void test_mjpeg_and_stop(void **state) {
  rec_capture_opts o = {.video_src = "videotestsrc is-live=true",
                        .video_codec = "mjpeg",
                        .width = 320, .height = 240, .fps_num = 30, .fps_den = 1};
  rec_formats f;
  run_result r;
  /* A live source without num-buffers runs until asked to stop. */
  assert_int_equal(run_pipeline(&o, &f, &r, 10), 0);
  assert_string_equal(f.codec, "mjpeg");
  assert_int_equal(f.width, 320);
  assert_true(r.jpeg_soi);
  assert_true(r.n_video >= 10 && r.n_video < 30);
}

static void test_bad_descriptions(void **state) {
  rec_capture_opts o = {.video_src = "no-such-element-xyz"};
  assert_null(rec_capture_start(&o));
  assert_non_null(strstr(cm_error(), "no-such-element-xyz"));
  rec_capture_opts o2 = {.video_src = "videotestsrc", .video_codec = "vp9"};
  assert_null(rec_capture_start(&o2));
  assert_non_null(strstr(cm_error(), "vp9"));
  rec_capture_opts o3 = {0};
  assert_null(rec_capture_start(&o3));
  /* A source that fails at run time reports GStreamer's reason. */
  rec_capture_opts o4 = {.video_src = "v4l2src device=/dev/cmact-no-camera"};
  rec_capture *c = rec_capture_start(&o4);
  if (c) {
    rec_formats f;
    assert_int_equal(rec_capture_wait_formats(c, 3000, &f), -1);
    rec_capture_free(c);
  }
  printf("v4l2src error: %s\n", cm_error());
  assert_non_null(strstr(cm_error(), "cmact-no-camera"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_h264_and_pcm),
      cmocka_unit_test(test_mjpeg_and_stop),
      cmocka_unit_test(test_bad_descriptions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
