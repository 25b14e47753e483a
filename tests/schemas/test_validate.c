/*
 * `cmact validate` against a corpus of broken files, one per kind of violation: a valid
 * session and dataset are written through formats/, then tests/schemas/make_broken.py (h5py,
 * an outside tool) breaks one thing in each copy. Every broken file must be rejected with
 * exit status 1 and a line naming the problem; the valid ones must pass; the documentation
 * generated from the schemas must be what docs/formats.md holds.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_dataset.h"
#include "cm_session.h"
#include "cm_util.h"
#include "testutil.h"

static char *dir;
static char out[1 << 16];

static void write_good_session(const char *path) {
  cm_session_info info = {"v1", "u1", "l1", "h1"};
  cm_session *s = cm_session_create(path, &info, 1);
  assert_non_null(s);
  cm_stream_desc v = {.name = "video", .kind = CM_STREAM_VIDEO, .nominal_rate = 29, .codec = "h264",
                      .width = 64, .height = 48, .time_base_num = 1, .time_base_den = 90000};
  cm_stream_desc a = {.name = "audio", .kind = CM_STREAM_AUDIO, .nominal_rate = 22050, .sample_rate = 22050, .channels = 1};
  cm_stream_desc m = {.name = "imu_left", .kind = CM_STREAM_IMU, .nominal_rate = 25, .units = "m/s^2,rad/s"};
  int vi = cm_session_add_stream(s, &v), ai = cm_session_add_stream(s, &a), mi = cm_session_add_stream(s, &m);
  assert_int_equal(cm_session_start(s), 0);
  uint8_t pkt[500] = {0};
  for (int i = 0; i < 20; i++) {
    cm_packet_row r = {.size = 200 + i, .key = i == 0, .pts = i * 3103, .dts = i * 3103, .t_host_ns = i * 34482758LL};
    assert_int_equal(cm_session_append_packet(s, vi, pkt, &r), 0);
  }
  int16_t pcm[1000] = {0};
  for (int b = 0; b < 10; b++) assert_int_equal(cm_session_append_audio(s, ai, pcm, 1000, b * 45351473LL), 0);
  for (int i = 0; i < 50; i++) {
    float x[6] = {0, 0, 9.81f, 0, 0, 0};
    int64_t t = i * 40000000LL;
    assert_int_equal(cm_session_append_imu(s, mi, x, &t, &t, 1), 0);
  }
  cm_chrony_row c = {.t_host_ns = 1, .current_correction = 0.1, .root_delay = 0.01, .root_dispersion = 0.001};
  cm_session_append_chrony(s, &c);
  cm_label_row l = {.start_ns = 0, .end_ns = 2000000000LL};
  strcpy(l.activity, "walk");
  cm_session_append_label(s, &l);
  cm_session_event(s, 5, "", "note", 0, "test");
  assert_int_equal(cm_session_close(s), 0);
}

static void write_good_dataset(const char *path) {
  cm_dataset_desc d;
  memset(&d, 0, sizeof d);
  d.video_frames = 2, d.video_height = 4, d.video_width = 4, d.video_channels = 3;
  d.audio_dim = 193, d.imu_steps = 40, d.imu_channels = 12, d.n_classes = 7;
  const char *names[7] = {"downstairs", "upstairs", "run", "jump", "walk", "handwashing", "exercise"};
  for (int i = 0; i < 7; i++) strcpy(d.class_names[i], names[i]);
  d.window_s = 2, d.hop_s = 0.4;
  cm_dataset *ds = cm_dataset_create(path, &d, 1);
  assert_non_null(ds);
  int tr = cm_dataset_add_split(ds, "pretrain"), te = cm_dataset_add_split(ds, "test");
  uint8_t v[96] = {0};
  float a[193] = {0}, imu[480] = {0};
  for (int i = 0; i < 30; i++) {
    cm_window w = {v, a, imu, i % 7, i % 2, i * 400000000LL, 0.01f};
    assert_int_equal(cm_dataset_append(ds, i % 3 ? tr : te, &w), 0);
  }
  cm_dataset_session_row rows[2] = {{.name = "a"}, {.name = "b"}};
  cm_dataset_set_sessions(ds, rows, 2);
  assert_int_equal(cm_dataset_close(ds), 0);
}

static void test_corpus(void **st) {
  if (!tu_file_exists("/usr/bin/python3") ||
      tu_run(out, sizeof out, "/usr/bin/python3 -c 'import h5py'") != 0) {
    print_message("SKIP: Debian's python3-h5py is not installed (scripts/install-deps.sh installs it)\n");
    skip();
  }
  dir = tu_mkdtemp("validate");
  const char *gs = tu_path(dir, "good_session.h5"), *gd = tu_path(dir, "good_dataset.h5");
  write_good_session(gs);
  write_good_dataset(gd);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate '%s' '%s'", gs, gd), 0);
  char *list = malloc(1 << 16);
  int rc = tu_run(list, 1 << 16, "/usr/bin/python3 '%s/tests/schemas/make_broken.py' '%s' '%s' '%s'", CMACT_SRC, gs,
                  gd, dir);
  if (rc != 0) fail_msg("make_broken.py failed: %s", list);
  int n_cases = 0;
  char *save = NULL;
  for (char *line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *tab = strchr(line, '\t');
    assert_non_null(tab);
    *tab = 0;
    const char *name = line, *expect = tab + 1;
    rc = tu_run(out, sizeof out, "$CMACT validate '%s/%s.h5'", dir, name);
    if (rc != 1 || !strstr(out, expect))
      fail_msg("case %s: exit %d, expected 1 and '%s' in:\n%s", name, rc, expect, out);
    /* every line names the file; none is an HDF5 error stack */
    if (strstr(out, "HDF5-DIAG")) fail_msg("case %s printed an HDF5 error stack", name);
    n_cases++;
  }
  print_message("%d broken files rejected, each with its reason\n", n_cases);
  assert_true(n_cases >= 20);
  free(list);
  /* inspect and repair refuse broken input with one line and exit 1 */
  rc = tu_run(out, sizeof out, "$CMACT inspect '%s/not_hdf5.h5'", dir);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "not an HDF5 file"));
  rc = tu_run(out, sizeof out, "$CMACT repair '%s/truncated.h5'", dir);
  assert_int_equal(rc, 1);
  rc = tu_run(out, sizeof out, "$CMACT inspect '%s' '%s'", gs, gd);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "imu_left"));
  assert_non_null(strstr(out, "pretrain"));
  tu_rmtree(dir);
  free(dir);
}

static void test_docs_match_schemas(void **st) {
  char *tmp = tu_mkdtemp("schemadoc");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT schema > '%s/formats.md'", tmp), 0);
  char docs[4096];
  snprintf(docs, sizeof docs, "%s/docs/formats.md", CMACT_SRC);
  if (!tu_files_equal(tu_path(tmp, "formats.md"), docs))
    fail_msg("docs/formats.md is not what `cmact schema` prints: regenerate it with `cmact schema > docs/formats.md`");
  tu_rmtree(tmp);
  free(tmp);
}

static void test_usage(void **st) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate --bogus x"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT repair"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT schema nonsense"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate /nonexistent/x.h5"), 1);
  assert_non_null(strstr(out, "/nonexistent/x.h5"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_corpus),
      cmocka_unit_test(test_docs_match_schemas),
      cmocka_unit_test(test_usage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
