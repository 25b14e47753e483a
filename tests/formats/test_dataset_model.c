/* Dataset and model files round-trip; an aborted dataset leaves nothing that looks finished. */
#include <stdlib.h>
#include <string.h>

#include "cm_dataset.h"
#include "cm_model.h"
#include "cm_util.h"
#include "testutil.h"

static char *dir;
static int setup(void **st) {
  dir = tu_mkdtemp("dataset");
  return dir ? 0 : -1;
}
static int teardown(void **st) {
  tu_rmtree(dir);
  free(dir);
  return 0;
}

static cm_dataset_desc small_desc(void) {
  cm_dataset_desc d;
  memset(&d, 0, sizeof d);
  d.video_frames = 3;
  d.video_height = 4;
  d.video_width = 5;
  d.video_channels = 3;
  d.audio_dim = 193;
  d.imu_steps = 40;
  d.imu_channels = 12;
  d.n_classes = 7;
  const char *names[7] = {"downstairs", "upstairs", "run", "jump", "walk", "handwashing", "exercise"};
  for (int i = 0; i < 7; i++) strcpy(d.class_names[i], names[i]);
  d.window_s = 2;
  d.hop_s = 0.4;
  d.seed = 7;
  strcpy(d.command_line, "cmact sync test");
  return d;
}

static void test_dataset_roundtrip(void **st) {
  const char *p = tu_path(dir, "ds.h5");
  cm_dataset_desc desc = small_desc();
  cm_dataset *d = cm_dataset_create(p, &desc, 1);
  assert_non_null(d);
  assert_false(tu_file_exists(p)); /* only PATH.partial until closed */
  int tr = cm_dataset_add_split(d, "pretrain"), te = cm_dataset_add_split(d, "test");
  assert_int_equal(tr, 0);
  assert_int_equal(te, 1);
  uint8_t v[3 * 4 * 5 * 3];
  float a[193], imu[480];
  for (int i = 0; i < 600; i++) {
    memset(v, i & 255, sizeof v);
    for (int k = 0; k < 193; k++) a[k] = i + k * 0.001f;
    for (int k = 0; k < 480; k++) imu[k] = -i - k;
    cm_window w = {v, a, imu, i % 7, i / 100, 1000LL * i, 0.01f * i};
    assert_int_equal(cm_dataset_append(d, i % 3 == 0 ? te : tr, &w), 0);
  }
  cm_window bad = {v, a, imu, 9, 0, 0, 0};
  assert_int_equal(cm_dataset_append(d, tr, &bad), -1);
  assert_non_null(strstr(cm_error(), "outside the 7 classes"));
  cm_dataset_session_row srow = {.name = "s1", .user = "u1", .location = "l1", .offset_imu_s = 0.3};
  assert_int_equal(cm_dataset_set_sessions(d, &srow, 1), 0);
  float mean[12] = {1, 2, 3};
  assert_int_equal(cm_dataset_set_stats(d, "imu_mean", mean, 12), 0);
  assert_int_equal(cm_dataset_close(d), 0);
  assert_true(tu_file_exists(p));

  d = cm_dataset_open(p);
  assert_non_null(d);
  assert_int_equal(cm_dataset_n_splits(d), 2);
  int s_te = cm_dataset_find_split(d, "test"), s_tr = cm_dataset_find_split(d, "pretrain");
  assert_int_equal(cm_dataset_split_size(d, s_te), 200);
  assert_int_equal(cm_dataset_split_size(d, s_tr), 400);
  assert_int_equal(cm_dataset_find_split(d, "nope"), -1);
  const cm_dataset_desc *x = cm_dataset_get_desc(d);
  assert_int_equal(x->n_classes, 7);
  assert_string_equal(x->class_names[6], "exercise");
  assert_int_equal(x->video_width, 5);
  int64_t rows[3] = {150, 2, 77};
  uint8_t vv[3][180];
  float aa[3][193], ii[3][480];
  int32_t ll[3];
  assert_int_equal(cm_dataset_read_rows(d, s_te, rows, 3, &vv[0][0], &aa[0][0], &ii[0][0], ll), 0);
  /* test row r is original window 3r */
  assert_int_equal(vv[0][17], (450) & 255);
  assert_true(aa[1][0] == 6.0f);
  assert_true(ii[2][1] == -(231.0f) - 1);
  assert_int_equal(ll[2], 231 % 7);
  int64_t t0;
  float u;
  assert_int_equal(cm_dataset_read(d, s_te, 10, 1, NULL, NULL, NULL, NULL, NULL, &t0, &u), 0);
  assert_int_equal(t0, 30000);
  cm_dataset_session_row *sr;
  size_t ns;
  assert_int_equal(cm_dataset_get_sessions(d, &sr, &ns), 0);
  assert_int_equal(ns, 1);
  assert_true(sr[0].offset_imu_s == 0.3);
  free(sr);
  float m2[12];
  assert_int_equal(cm_dataset_get_stats(d, "imu_mean", m2, 12), 0);
  assert_true(m2[2] == 3);
  cm_dataset_close_reader(d);

  /* abort leaves nothing */
  d = cm_dataset_create(tu_path(dir, "ab.h5"), &desc, 1);
  cm_dataset_add_split(d, "x");
  cm_dataset_abort(d);
  assert_false(tu_file_exists(tu_path(dir, "ab.h5")));
  assert_false(tu_file_exists(tu_path(dir, "ab.h5.partial")));
}

static void test_model_roundtrip(void **st) {
  const char *p = tu_path(dir, "m.h5");
  cm_modelfile *m = cm_modelfile_create(p, "imu_cnn", 1);
  assert_non_null(m);
  int shape[2] = {40, 12};
  assert_int_equal(cm_modelfile_set_input_shape(m, shape, 2), 0);
  const char *cls[3] = {"a", "b", "c"};
  assert_int_equal(cm_modelfile_set_classes(m, cls, 3), 0);
  assert_int_equal(cm_modelfile_set_attr(m, "procedure", "teacher"), 0);
  assert_int_equal(cm_modelfile_set_attr(m, "schema", "x"), -1);
  float k[6] = {1, 2, 3, 4, 5, 6};
  int64_t dims[2] = {2, 3};
  assert_int_equal(cm_modelfile_put_tensor(m, "DENSE_1/kernel", dims, 2, k), 0);
  int64_t bd[1] = {3};
  assert_int_equal(cm_modelfile_put_tensor(m, "DENSE_1/bias", bd, 1, k), 0);
  double h[4] = {1, 0.5, 2, 0.25};
  assert_int_equal(cm_modelfile_put_history(m, "epoch,loss", h, 2, 2), 0);
  assert_int_equal(cm_modelfile_close(m), 0);

  m = cm_modelfile_open(p);
  assert_non_null(m);
  char buf[64];
  assert_int_equal(cm_modelfile_architecture(m, buf, sizeof buf), 0);
  assert_string_equal(buf, "imu_cnn");
  assert_int_equal(cm_modelfile_n_tensors(m), 2);
  assert_int_equal(cm_modelfile_tensor_name(m, 0, buf, sizeof buf), 0);
  assert_string_equal(buf, "DENSE_1/bias");
  int64_t sd[4];
  int nd;
  assert_int_equal(cm_modelfile_tensor_shape(m, "DENSE_1/kernel", sd, 4, &nd), 0);
  assert_int_equal(nd, 2);
  assert_int_equal(sd[1], 3);
  float out[6];
  assert_int_equal(cm_modelfile_get_tensor(m, "DENSE_1/kernel", out, 6), 0);
  assert_true(out[5] == 6);
  assert_int_equal(cm_modelfile_get_tensor(m, "DENSE_1/kernel", out, 5), -1);
  assert_int_equal(cm_modelfile_get_tensor(m, "DENSE_9/kernel", out, 6), -1);
  assert_non_null(strstr(cm_error(), "no tensor DENSE_9/kernel"));
  char names[8][24];
  int nc;
  assert_int_equal(cm_modelfile_classes(m, names, 8, &nc), 0);
  assert_int_equal(nc, 3);
  assert_string_equal(names[2], "c");
  double *rows;
  int nr, ncol;
  char cols[64];
  assert_int_equal(cm_modelfile_get_history(m, cols, sizeof cols, &rows, &nr, &ncol), 0);
  assert_string_equal(cols, "epoch,loss");
  assert_true(rows[3] == 0.25);
  free(rows);
  cm_modelfile_close_reader(m);
  /* wrong kind */
  assert_null(cm_dataset_open(p));
  assert_non_null(strstr(cm_error(), "not a cmact dataset file"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dataset_roundtrip),
      cmocka_unit_test(test_model_roundtrip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
