/* Session files: every table round-trips, same content gives the same bytes, bad files give
 * one-line errors, and the committed counts hide rows a crash may have half-written. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "testutil.h"

static char *dir;
static const char *pinned_created_utc; /* test_deterministic_bytes pins the creation time */

static int setup(void **st) {
  dir = tu_mkdtemp("session");
  return dir ? 0 : -1;
}
static int teardown(void **st) {
  tu_rmtree(dir);
  free(dir);
  return 0;
}

/* Writes a session with every kind of table; n_imu IMU samples whose values encode their index. */
static void write_session(const char *path, int n_imu) {
  cm_session_info info = {.session_id = "s001", .user = "u1", .location = "loc3", .host = "camhost", .created_utc = pinned_created_utc};
  cm_session *s = cm_session_create(path, &info, 1);
  assert_non_null(s);
  /* offline writing: byte-identical output must not depend on the machine's speed */
  cm_session_set_manual_flush(s, 1);
  uint8_t extra[4] = {1, 2, 3, 4};
  cm_stream_desc v = {.name = "video", .kind = CM_STREAM_VIDEO, .nominal_rate = 29, .codec = "h264",
                      .width = 320, .height = 240, .time_base_num = 1, .time_base_den = 90000,
                      .extradata = extra, .extradata_size = 4, .transport = "test"};
  cm_stream_desc a = {.name = "audio", .kind = CM_STREAM_AUDIO, .nominal_rate = 22050,
                      .sample_rate = 22050, .channels = 1};
  cm_stream_desc m = {.name = "imu_left", .kind = CM_STREAM_IMU, .nominal_rate = 25, .units = "m/s^2,rad/s"};
  int vi = cm_session_add_stream(s, &v), ai = cm_session_add_stream(s, &a), mi = cm_session_add_stream(s, &m);
  assert_int_equal(vi, 0);
  assert_int_equal(ai, 1);
  assert_int_equal(mi, 2);
  assert_int_equal(cm_session_add_stream(s, &m), -1); /* twice */
  assert_non_null(strstr(cm_error(), "declared twice"));
  double truth[3] = {0.1, 0.2, 0.3};
  assert_int_equal(cm_session_put_truth_f64(s, "clock/offsets", truth, 3), 0);
  assert_int_equal(cm_session_put_truth_attr(s, "clock/drift_ppm", 12.5), 0);
  assert_int_equal(cm_session_put_truth_str(s, "world", "quick"), 0);
  assert_int_equal(cm_session_start(s), 0);
  for (int i = 0; i < 50; i++) {
    uint8_t pkt[300];
    memset(pkt, i, sizeof pkt);
    cm_packet_row r = {.size = 100 + i, .key = i % 10 == 0, .pts = i * 3103, .dts = i * 3103,
                       .t_host_ns = 1000000000LL + i * 34482758LL};
    assert_int_equal(cm_session_append_packet(s, vi, pkt, &r), 0);
  }
  int16_t pcm[2205];
  for (int b = 0; b < 20; b++) {
    for (int k = 0; k < 2205; k++) pcm[k] = (int16_t)(b * 100 + k % 100);
    assert_int_equal(cm_session_append_audio(s, ai, pcm, 2205, 1000000000LL + b * 100000000LL), 0);
  }
  for (int i = 0; i < n_imu; i++) {
    float x[6];
    for (int k = 0; k < 6; k++) x[k] = (float)(i * 6 + k);
    int64_t td = i * 40000000LL, th = 5000 + i * 40000000LL;
    assert_int_equal(cm_session_append_imu(s, mi, x, &td, &th, 1), 0);
  }
  cm_chrony_row c = {.t_host_ns = 42, .stratum = 3, .current_correction = 0.25, .root_delay = 0.01};
  assert_int_equal(cm_session_append_chrony(s, &c), 0);
  cm_label_row l = {.start_ns = 1, .end_ns = 2};
  strcpy(l.activity, "walk");
  assert_int_equal(cm_session_append_label(s, &l), 0);
  assert_int_equal(cm_session_event(s, 7, "imu_left", "gap", 0.5, "lost %d frames", 3), 0);
  assert_int_equal(cm_session_close(s), 0);
}

static void test_roundtrip(void **st) {
  const char *p = tu_path(dir, "a.h5");
  write_session(p, 1000);
  cm_session *s = cm_session_open(p);
  assert_non_null(s);
  const cm_session_meta *m = cm_session_get_meta(s);
  assert_string_equal(m->session_id, "s001");
  assert_string_equal(m->location, "loc3");
  assert_int_equal(m->unfinished, 0);
  assert_int_equal(m->n_streams, 3);
  assert_int_equal(m->n_chrony, 1);
  assert_int_equal(m->n_labels, 1);
  assert_int_equal(m->n_events, 1);
  int vi = cm_session_find_stream(s, "video"), ai = cm_session_find_stream(s, "audio"),
      mi = cm_session_find_stream(s, "imu_left");
  assert_true(vi >= 0 && ai >= 0 && mi >= 0);
  cm_stream_info in;
  assert_int_equal(cm_session_stream_info(s, vi, &in), 0);
  assert_int_equal(in.count, 50);
  assert_int_equal(in.time_base_den, 90000);
  assert_string_equal(in.codec, "h264");
  cm_packet_row rows[50];
  assert_int_equal(cm_session_read_packet_index(s, vi, 0, 50, rows), 0);
  uint64_t off = 0;
  for (int i = 0; i < 50; i++) {
    assert_int_equal(rows[i].offset, off);
    assert_int_equal(rows[i].size, 100 + i);
    assert_int_equal(rows[i].key, i % 10 == 0);
    uint8_t buf[300];
    assert_int_equal(cm_session_read_packet_bytes(s, vi, rows[i].offset, rows[i].size, buf), 0);
    for (uint32_t k = 0; k < rows[i].size; k++) assert_int_equal(buf[k], i);
    off += rows[i].size;
  }
  uint8_t *ed;
  size_t en;
  assert_int_equal(cm_session_read_extradata(s, vi, &ed, &en), 0);
  assert_int_equal(en, 4);
  assert_int_equal(ed[3], 4);
  free(ed);
  assert_int_equal(cm_session_stream_info(s, ai, &in), 0);
  assert_int_equal(in.count, 20 * 2205);
  assert_int_equal(in.n_blocks, 20);
  int16_t pcm[2205];
  assert_int_equal(cm_session_read_audio(s, ai, 5 * 2205, 2205, pcm), 0);
  assert_int_equal(pcm[7], 507);
  cm_audio_block_row b[20];
  assert_int_equal(cm_session_read_audio_blocks(s, ai, 0, 20, b), 0);
  assert_int_equal(b[3].first_frame, 3 * 2205);
  assert_int_equal(b[3].t_host_ns, 1300000000LL);
  assert_int_equal(cm_session_stream_info(s, mi, &in), 0);
  assert_int_equal(in.count, 1000);
  float x[6 * 10];
  int64_t td[10], th[10];
  assert_int_equal(cm_session_read_imu(s, mi, 990, 10, x, td, th), 0);
  assert_true(x[6 * 9 + 5] == (float)(999 * 6 + 5));
  assert_int_equal(th[9], 5000 + 999 * 40000000LL);
  assert_int_equal(cm_session_read_imu(s, mi, 995, 10, x, td, th), -1);
  assert_non_null(strstr(cm_error(), "out of range"));
  cm_chrony_row c;
  assert_int_equal(cm_session_read_chrony(s, 0, 1, &c), 0);
  assert_true(c.current_correction == 0.25);
  cm_label_row l;
  assert_int_equal(cm_session_read_labels(s, 0, 1, &l), 0);
  assert_string_equal(l.activity, "walk");
  cm_event_row e;
  assert_int_equal(cm_session_read_events(s, 0, 1, &e), 0);
  assert_string_equal(e.detail, "lost 3 frames");
  assert_string_equal(e.kind, "gap");
  double *tv, dv;
  size_t tn;
  char str[32];
  assert_int_equal(cm_session_get_truth_f64(s, "clock/offsets", &tv, &tn), 0);
  assert_int_equal(tn, 3);
  assert_true(tv[2] == 0.3);
  free(tv);
  assert_int_equal(cm_session_get_truth_attr(s, "clock/drift_ppm", &dv), 0);
  assert_true(dv == 12.5);
  assert_int_equal(cm_session_get_truth_str(s, "world", str, sizeof str), 0);
  assert_string_equal(str, "quick");
  assert_int_equal(cm_session_get_truth_attr(s, "nothing/here", &dv), -1);
  assert_int_equal(cm_session_close(s), 0);

  /* labels can be rewritten after the recording */
  cm_label_row nl[2] = {{.start_ns = 10, .end_ns = 20}, {.start_ns = 20, .end_ns = 30}};
  strcpy(nl[0].activity, "run");
  strcpy(nl[1].activity, "jump");
  assert_int_equal(cm_session_rewrite_labels(p, nl, 2), 0);
  s = cm_session_open(p);
  assert_non_null(s);
  assert_int_equal(cm_session_get_meta(s)->n_labels, 2);
  assert_int_equal(cm_session_read_labels(s, 1, 1, &l), 0);
  assert_string_equal(l.activity, "jump");
  cm_session_close(s);
}

static void test_deterministic_bytes(void **st) {
  pinned_created_utc = "2026-01-01T00:00:00Z";
  write_session(tu_path(dir, "d1.h5"), 300);
  write_session(tu_path(dir, "d2.h5"), 300);
  pinned_created_utc = NULL;
  assert_true(tu_files_equal(tu_path(dir, "d1.h5"), tu_path(dir, "d2.h5")));
}

static void test_bad_files(void **st) {
  const char *p = tu_path(dir, "junk.h5");
  FILE *f = fopen(p, "w");
  fputs("this is not hdf5\n", f);
  fclose(f);
  assert_null(cm_session_open(p));
  assert_non_null(strstr(cm_error(), "junk.h5: not an HDF5 file"));
  assert_null(cm_session_open(tu_path(dir, "missing.h5")));
  assert_non_null(strstr(cm_error(), "No such file"));
  /* truncated: a valid file cut in half */
  write_session(tu_path(dir, "whole.h5"), 2000);
  size_t n;
  char *b = tu_read_file(tu_path(dir, "whole.h5"), &n);
  f = fopen(tu_path(dir, "half.h5"), "wb");
  fwrite(b, 1, n / 2, f);
  fclose(f);
  free(b);
  cm_session *s = cm_session_open(tu_path(dir, "half.h5"));
  if (s) { /* the superblock may survive; then reading must fail cleanly, not crash */
    int mi = cm_session_find_stream(s, "imu_left");
    float x[6 * 2000];
    if (mi >= 0) cm_session_read_imu(s, mi, 0, 2000, x, NULL, NULL);
    cm_session_close(s);
  } else {
    assert_non_null(strstr(cm_error(), "half.h5"));
  }
  /* create refuses to overwrite */
  assert_null(cm_session_create(tu_path(dir, "whole.h5"), NULL, 0));
  assert_non_null(strstr(cm_error(), "already exists"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_deterministic_bytes),
      cmocka_unit_test(test_bad_files),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
