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
#include "cm_model.h"
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

/* A small classifier: 5 inputs, DENSE_1 (4 units), ReLU, output (7 classes). */
static void write_good_model(const char *path) {
  cm_modelfile *m = cm_modelfile_create(path, "audio_mlp", 1);
  assert_non_null(m);
  int in[1] = {5};
  const char *names[7] = {"downstairs", "upstairs", "run", "jump", "walk", "handwashing", "exercise"};
  assert_int_equal(cm_modelfile_set_input_shape(m, in, 1), 0);
  assert_int_equal(cm_modelfile_set_classes(m, names, 7), 0);
  assert_int_equal(cm_modelfile_set_attr(m, "layers", "dense DENSE_1 4;relu DENSE_1_relu;dense output 7"), 0);
  assert_int_equal(cm_modelfile_set_attr(m, "procedure", "fit"), 0);
  float w[64];
  for (int i = 0; i < 64; i++) w[i] = 0.01f * (float)i;
  int64_t k1[2] = {5, 4}, b1[1] = {4}, k2[2] = {4, 7}, b2[1] = {7};
  assert_int_equal(cm_modelfile_put_tensor(m, "DENSE_1/kernel", k1, 2, w), 0);
  assert_int_equal(cm_modelfile_put_tensor(m, "DENSE_1/bias", b1, 1, w), 0);
  assert_int_equal(cm_modelfile_put_tensor(m, "output/kernel", k2, 2, w), 0);
  assert_int_equal(cm_modelfile_put_tensor(m, "output/bias", b2, 1, w), 0);
  double hist[6] = {1, 2.0, 1.5, 2, 1.0, 1.2};
  assert_int_equal(cm_modelfile_put_history(m, "epoch,loss,val_loss", hist, 2, 3), 0);
  assert_int_equal(cm_modelfile_close(m), 0);
}

/* The corpus, made once in main() so that each broken file is a test of its own. */
typedef struct {
  char name[64];
  char expect[256];
} broken_case;

static broken_case *cases;
static int n_cases;
static const char *good_s, *good_d, *good_m;

static int have_h5py(void) {
  return tu_file_exists("/usr/bin/python3") && tu_run(out, sizeof out, "/usr/bin/python3 -c 'import h5py'") == 0;
}

static void make_corpus(void) {
  dir = tu_mkdtemp("validate");
  good_s = strdup(tu_path(dir, "good_session.h5"));
  good_d = strdup(tu_path(dir, "good_dataset.h5"));
  good_m = strdup(tu_path(dir, "good_model.h5"));
  write_good_session(good_s);
  write_good_dataset(good_d);
  write_good_model(good_m);
  char *list = malloc(1 << 16);
  int rc = tu_run(list, 1 << 16, "/usr/bin/python3 '%s/tests/schemas/make_broken.py' '%s' '%s' '%s' '%s'", CMACT_SRC,
                  good_s, good_d, dir, good_m);
  if (rc != 0) {
    fprintf(stderr, "make_broken.py failed: %s\n", list);
    exit(1);
  }
  cases = calloc(256, sizeof *cases);
  char *save = NULL;
  for (char *line = strtok_r(list, "\n", &save); line && n_cases < 256; line = strtok_r(NULL, "\n", &save)) {
    char *tab = strchr(line, '\t');
    if (!tab) continue;
    *tab = 0;
    snprintf(cases[n_cases].name, sizeof cases[n_cases].name, "%s", line);
    snprintf(cases[n_cases].expect, sizeof cases[n_cases].expect, "%s", tab + 1);
    n_cases++;
  }
  free(list);
}

/* One broken file: exit 1, its reason on a line that names the file, no HDF5 error stack. */
static void test_broken_file(void **st) {
  const broken_case *c = *st;
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.h5", dir, c->name);
  int rc = tu_run(out, sizeof out, "$CMACT validate '%s'", path);
  if (rc != 1 || !strstr(out, c->expect)) fail_msg("exit %d, expected 1 and '%s' in:\n%s", rc, c->expect, out);
  if (strstr(out, "HDF5-DIAG")) fail_msg("printed an HDF5 error stack:\n%s", out);
  for (char *line = out, *nl; (nl = strchr(line, '\n')); line = nl + 1)
    if (strncmp(line, path, strlen(path)) != 0) fail_msg("a line that does not name the file: %.*s", (int)(nl - line), line);
}

static void test_good_files_pass(void **st) {
  int rc = tu_run(out, sizeof out, "$CMACT validate '%s' '%s' '%s'", good_s, good_d, good_m);
  if (rc != 0) fail_msg("a good file is not valid:\n%s", out);
  assert_true(n_cases >= 27);
}

/* inspect and repair refuse broken input with one line and exit 1; good files inspect */
static void test_inspect_and_repair(void **st) {
  int rc = tu_run(out, sizeof out, "$CMACT inspect '%s/not_hdf5.h5'", dir);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "not an HDF5 file"));
  rc = tu_run(out, sizeof out, "$CMACT repair '%s/truncated.h5'", dir);
  assert_int_equal(rc, 1);
  rc = tu_run(out, sizeof out, "$CMACT inspect '%s' '%s'", good_s, good_d);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "imu_left"));
  assert_non_null(strstr(out, "pretrain"));
}

static void test_skip_without_h5py(void **st) {
  print_message("SKIP: Debian's python3-h5py is not installed (scripts/install-deps.sh installs it)\n");
  skip();
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
  const struct CMUnitTest fixed[] = {
      cmocka_unit_test(test_docs_match_schemas),
      cmocka_unit_test(test_usage),
  };
  if (!have_h5py()) {
    const struct CMUnitTest skipped[] = {cmocka_unit_test(test_skip_without_h5py), fixed[0], fixed[1]};
    return cmocka_run_group_tests(skipped, NULL, NULL);
  }
  make_corpus();
  struct CMUnitTest *tests = calloc((size_t)n_cases + 4, sizeof *tests);
  int n = 0;
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_good_files_pass);
  for (int i = 0; i < n_cases; i++)
    tests[n++] = (struct CMUnitTest){cases[i].name, test_broken_file, NULL, NULL, &cases[i]};
  tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_inspect_and_repair);
  tests[n++] = fixed[0];
  tests[n++] = fixed[1];
  int rc = _cmocka_run_group_tests("test_validate", tests, (size_t)n, NULL, NULL);
  tu_rmtree(dir);
  free(dir);
  free(tests);
  free(cases);
  free((void *)good_s);
  free((void *)good_d);
  free((void *)good_m);
  return rc;
}
