/*
 * `cmact simulate` end to end: the quick preset's files open with the formats library and hold
 * what a camera phone and a wrist-sensor phone would have recorded (H.264 packets with capture
 * times, PCM, two IMU streams with device and host stamps, chrony answers, labels, truth), and
 * the same seed gives byte-identical files whatever the thread count.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavformat/avformat.h>
#include <zlib.h>

#include "cm_session.h"
#include "testutil.h"

static char out[1 << 16];

static void test_usage(void **state) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate"), 2);
  assert_non_null(strstr(out, "--out"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --out /tmp/x --preset nope"), 2);
  assert_non_null(strstr(out, "nope"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --out /tmp/x --threads 0"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --out /tmp/x --audio-rate 12345"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --help"), 0);
  assert_non_null(strstr(out, "usage: cmact simulate"));
}

static void check_camera(const char *path, double *dur) {
  cm_session *s = cm_session_open(path);
  assert_non_null(s);
  const cm_session_meta *m = cm_session_get_meta(s);
  assert_string_equal(m->host, "camera");
  assert_int_equal(m->unfinished, 0);
  assert_true(m->n_chrony >= 3);
  assert_true(m->n_labels >= 1);
  int v = cm_session_find_stream(s, "video"), a = cm_session_find_stream(s, "audio");
  assert_true(v >= 0 && a >= 0);
  cm_stream_info vi, ai;
  assert_int_equal(cm_session_stream_info(s, v, &vi), 0);
  assert_int_equal(cm_session_stream_info(s, a, &ai), 0);
  assert_string_equal(vi.codec, "h264");
  assert_int_equal(ai.sample_rate, 22050);
  cm_label_row lab[16];
  assert_int_equal(cm_session_read_labels(s, 0, m->n_labels, lab), 0);
  *dur = (lab[m->n_labels - 1].end_ns - lab[0].start_ns) / 1e9;
  /* about 29 frames a second over the labelled span, a few may be dropped */
  assert_true(vi.count > 27 * *dur && vi.count <= 29 * *dur + 1);
  assert_true(fabs(ai.count - 22050 * *dur) < 22050 * 0.01);
  cm_packet_row *idx = malloc(sizeof *idx * vi.count);
  assert_int_equal(cm_session_read_packet_index(s, v, 0, vi.count, idx), 0);
  assert_int_equal(idx[0].key, 1);
  for (int64_t i = 1; i < vi.count; i++) {
    assert_true(idx[i].t_host_ns > idx[i - 1].t_host_ns);
    assert_true(idx[i].pts > idx[i - 1].pts);
    assert_int_equal(idx[i].offset, idx[i - 1].offset + idx[i - 1].size);
  }
  uint8_t head[5];
  assert_int_equal(cm_session_read_packet_bytes(s, v, 0, 5, head), 0);
  assert_memory_equal(head, "\0\0\0\1", 4);
  assert_int_equal(head[4] & 0x1f, 7); /* SPS in front of the first keyframe */
  int64_t *tref;
  size_t nref;
  assert_int_equal(cm_session_get_truth_i64(s, "video/t_ref_ns", &tref, &nref), 0);
  assert_int_equal((int64_t)nref, vi.count);
  /* the host stamps differ from the true capture times by the host's clock error, which the
   * truth records and which is within the NTP spread */
  double err;
  assert_int_equal(cm_session_get_truth_attr(s, "clock/ntp_error_s", &err), 0);
  assert_true(fabs(err) <= 0.5);
  double off = (idx[0].t_host_ns - tref[0]) / 1e9;
  assert_true(fabs(off - err) < 0.02);
  free(tref);
  free(idx);
  cm_session_close(s);
}

static void check_wrist(const char *path, double dur) {
  cm_session *s = cm_session_open(path);
  assert_non_null(s);
  const cm_session_meta *m = cm_session_get_meta(s);
  assert_string_equal(m->host, "wrist");
  assert_true(m->n_chrony >= 3);
  for (int side = 0; side < 2; side++) {
    int id = cm_session_find_stream(s, side ? "imu_right" : "imu_left");
    assert_true(id >= 0);
    cm_stream_info in;
    assert_int_equal(cm_session_stream_info(s, id, &in), 0);
    /* the wrist sensors ran longer than the camera; a few samples may be lost */
    assert_true(in.count > 25 * dur * 0.9);
    float *d = malloc(sizeof(float) * 6 * in.count);
    int64_t *td = malloc(sizeof(int64_t) * in.count), *th = malloc(sizeof(int64_t) * in.count);
    assert_int_equal(cm_session_read_imu(s, id, 0, in.count, d, td, th), 0);
    double gsum = 0;
    for (int64_t i = 0; i < in.count; i++) {
      if (i) {
        assert_true(td[i] > td[i - 1]);
        assert_true(th[i] >= th[i - 1]);
      }
      gsum += sqrt(d[6 * i] * d[6 * i] + d[6 * i + 1] * d[6 * i + 1] + d[6 * i + 2] * d[6 * i + 2]);
    }
    /* on average the wrist feels gravity plus motion */
    assert_true(gsum / in.count > 7 && gsum / in.count < 30);
    free(d);
    free(td);
    free(th);
  }
  cm_session_close(s);
}

static void test_quick_corpus(void **state) {
  char *d1 = tu_mkdtemp("sim1"), *d2 = tu_mkdtemp("sim2"), *d3 = tu_mkdtemp("sim3");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --preset quick --seed 1 --out %s", d1), 0);
  assert_non_null(strstr(out, "quick"));
  size_t n;
  char *csv = tu_read_file(tu_path(d1, "sessions.csv"), &n);
  int lines = 0;
  for (size_t i = 0; i < n; i++) lines += csv[i] == '\n';
  assert_int_equal(lines, 1 + 8);
  assert_non_null(strstr(csv, "schedule"));
  free(csv);
  /* the schema validator accepts every file */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate --quiet %s/*.h5", d1), 0);
  char name[64];
  for (int i = 1; i <= 8; i++) {
    double dur;
    snprintf(name, sizeof name, "S%04d_camera.h5", i);
    check_camera(tu_path(d1, name), &dur);
    snprintf(name, sizeof name, "S%04d_wrist.h5", i);
    check_wrist(tu_path(d1, name), dur);
  }
  /* same seed, one thread, a prefix of the corpus: the same bytes */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --seed 1 --threads 1 --sessions 2 --out %s", d2), 0);
  for (int i = 1; i <= 2; i++) {
    char a[4096];
    snprintf(name, sizeof name, "S%04d_camera.h5", i);
    snprintf(a, sizeof a, "%s", tu_path(d1, name));
    assert_true(tu_files_equal(a, tu_path(d2, name)));
    snprintf(name, sizeof name, "S%04d_wrist.h5", i);
    snprintf(a, sizeof a, "%s", tu_path(d1, name));
    assert_true(tu_files_equal(a, tu_path(d2, name)));
  }
  /* another seed, another world */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --seed 2 --sessions 1 --out %s", d3), 0);
  char a[4096];
  snprintf(a, sizeof a, "%s", tu_path(d1, "S0001_wrist.h5"));
  assert_false(tu_files_equal(a, tu_path(d3, "S0001_wrist.h5")));
  tu_rmtree(d1);
  tu_rmtree(d2);
  tu_rmtree(d3);
  free(d1);
  free(d2);
  free(d3);
}

/* --export-raw: the MP4 holds the session file's video packets, the raw logs its IMU rows */
static void test_export_raw(void **state) {
  char *d = tu_mkdtemp("simx"), *e = tu_mkdtemp("simxr");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --sessions 1 --out %s --export-raw %s", d, e), 0);
  char mp4[4096], ses[4096];
  snprintf(mp4, sizeof mp4, "%s", tu_path(e, "downstair/S0001.mp4"));
  snprintf(ses, sizeof ses, "%s", tu_path(d, "S0001_camera.h5"));
  cm_session *s = cm_session_open(ses);
  assert_non_null(s);
  cm_stream_info vi;
  assert_int_equal(cm_session_stream_info(s, cm_session_find_stream(s, "video"), &vi), 0);
  cm_session_close(s);
  AVFormatContext *fmt = NULL;
  assert_int_equal(avformat_open_input(&fmt, mp4, NULL, NULL), 0);
  assert_int_equal(avformat_find_stream_info(fmt, NULL) >= 0, 1);
  AVPacket *pkt = av_packet_alloc();
  int64_t nv = 0, na = 0;
  while (av_read_frame(fmt, pkt) >= 0) {
    if (fmt->streams[pkt->stream_index]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) nv++;
    else na++;
    av_packet_unref(pkt);
  }
  av_packet_free(&pkt);
  assert_int_equal(nv, vi.count);
  assert_true(na > 0);
  AVDictionaryEntry *ct = av_dict_get(fmt->metadata, "creation_time", NULL, 0);
  assert_non_null(ct);
  assert_non_null(strstr(ct->value, "2018-03-05T"));
  avformat_close_input(&fmt);
  /* right wrist acc: every delivered sample of the session, one row each */
  snprintf(ses, sizeof ses, "%s", tu_path(e, "raw3/imu.csv.gz"));
  gzFile gz = gzopen(ses, "rb");
  assert_non_null(gz);
  char line[256];
  long rows = 0;
  while (gzgets(gz, line, sizeof line)) rows++;
  gzclose(gz);
  long want = 0;
  for (int i = 1; i <= 1; i++) {
    char w[64];
    snprintf(w, sizeof w, "S%04d_wrist.h5", i);
    s = cm_session_open(tu_path(d, w));
    cm_stream_info in;
    cm_session_stream_info(s, cm_session_find_stream(s, "imu_right"), &in);
    want += in.count;
    cm_session_close(s);
  }
  assert_int_equal(rows, want);
  assert_true(tu_file_exists(tu_path(e, "manifest.csv")));
  tu_rmtree(d);
  tu_rmtree(e);
  free(d);
  free(e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_usage),
      cmocka_unit_test(test_quick_corpus),
      cmocka_unit_test(test_export_raw),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
