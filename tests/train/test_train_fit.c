/*
 * `cmact train fit` end to end on a small synthetic dataset written through formats/: IMU
 * windows whose frequency, audio vectors whose mean and video frames whose brightness depend on
 * the class. Checks that training learns, that two runs give identical bits, that a run killed
 * with SIGKILL and resumed from its checkpoint ends on exactly the model of an uninterrupted
 * run, and the command's usage and run-time errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_dataset.h"
#include "cm_model.h"
#include "cm_util.h"
#include "nn_io.h"
#include "nn_rng.h"
#include "testutil.h"

static char *dir;
static char out[1 << 16];
static const char *DS;

#define N_PRE 160
#define N_TEST 40

static void write_dataset(const char *path) {
  cm_dataset_desc d;
  memset(&d, 0, sizeof d);
  d.video_frames = 8, d.video_height = 16, d.video_width = 16, d.video_channels = 3;
  d.audio_dim = 193;
  d.imu_steps = 40, d.imu_channels = 12;
  d.n_classes = 4;
  const char *names[4] = {"run", "jump", "walk", "handwashing"};
  for (int i = 0; i < 4; i++) strcpy(d.class_names[i], names[i]);
  d.window_s = 2, d.hop_s = 0.4, d.seed = 1;
  strcpy(d.command_line, "test_train_fit");
  cm_dataset *ds = cm_dataset_create(path, &d, 1);
  assert_non_null(ds);
  int pre = cm_dataset_add_split(ds, "pretrain"), test = cm_dataset_add_split(ds, "test");
  static uint8_t video[8 * 16 * 16 * 3];
  float audio[193], imu[480];
  uint64_t key = nn_key(5, 1000, 0, 0);
  for (int i = 0; i < N_PRE + N_TEST; i++) {
    int y = i % 4;
    for (int t = 0; t < 40; t++)
      for (int c = 0; c < 12; c++)
        imu[t * 12 + c] = sinf(0.3f * (y + 1) * t + c) + 0.5f * (nn_uniform(key, i * 480 + t * 12 + c) - 0.5f);
    for (int k = 0; k < 193; k++) audio[k] = (k % 4 == y ? 1.0f : 0.0f) + nn_uniform(key + 1, i * 193 + k);
    for (size_t k = 0; k < sizeof video; k++)
      video[k] = (uint8_t)(40 * y + (nn_u64(key + 2, i * sizeof video + k) & 63));
    cm_window w = {video, audio, imu, y, i / 20, 400000000LL * i, 0.01f};
    assert_int_equal(cm_dataset_append(ds, i < N_PRE ? pre : test, &w), 0);
  }
  float mean[12], sd[12];
  for (int c = 0; c < 12; c++) mean[c] = 0.0f, sd[c] = 0.75f;
  assert_int_equal(cm_dataset_set_stats(ds, "imu_mean", mean, 12), 0);
  assert_int_equal(cm_dataset_set_stats(ds, "imu_std", sd, 12), 0);
  assert_int_equal(cm_dataset_close(ds), 0);
}

static int setup(void **st) {
  dir = tu_mkdtemp("train_fit");
  DS = strdup(tu_path(dir, "ds.h5"));
  write_dataset(DS);
  return 0;
}
static int teardown(void **st) {
  tu_rmtree(dir);
  free(dir);
  free((void *)DS);
  return 0;
}

static nn_model *load(const char *name) {
  nn_model *m = nn_model_load(tu_path(dir, name), NULL, 0, NULL, 0, NULL);
  if (!m) fail_msg("cannot load %s: %s", name, cm_error());
  return m;
}

static void history(const char *name, double **rows, int *n_rows) {
  cm_modelfile *f = cm_modelfile_open(tu_path(dir, name));
  assert_non_null(f);
  char cols[128];
  int nc;
  assert_int_equal(cm_modelfile_get_history(f, cols, sizeof cols, rows, n_rows, &nc), 0);
  assert_string_equal(cols, "epoch,loss,acc,val_loss,val_acc");
  assert_int_equal(nc, 5);
  cm_modelfile_close_reader(f);
}

static void test_fit_learns_and_is_repeatable(void **st) {
  const char *a = tu_path(dir, "imu_a.h5");
  int rc = tu_run(out, sizeof out,
                  "$CMACT train fit --model imu_cnn --data %s --epochs 8 --batch 32 --threads 1 "
                  "--out %s --seed 3",
                  DS, a);
  if (rc != 0) fail_msg("fit failed: %s", out);
  assert_non_null(strstr(out, "total parameters: 56420")); /* 4 classes */
  assert_non_null(strstr(out, "epoch    8/8"));
  double *h;
  int n;
  history("imu_a.h5", &h, &n);
  assert_int_equal(n, 8);
  /* loss falls and validation accuracy is well above chance (0.25) */
  assert_true(h[5 * 7 + 1] < 0.7 * h[1]);
  double best_vacc = 0;
  for (int i = 0; i < n; i++) best_vacc = fmax(best_vacc, h[5 * i + 4]);
  assert_true(best_vacc > 0.6);
  free(h);
  rc = tu_run(out, sizeof out,
              "$CMACT train fit --model imu_cnn --data %s --epochs 8 --batch 32 --threads 1 "
              "--out %s --seed 3",
              DS, tu_path(dir, "imu_b.h5"));
  assert_int_equal(rc, 0);
  nn_model *ma = load("imu_a.h5"), *mb = load("imu_b.h5");
  assert_int_equal(ma->n_params, mb->n_params);
  assert_memory_equal(ma->params, mb->params, sizeof(float) * ma->n_params);
  nn_model_free(ma);
  nn_model_free(mb);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train show --file %s", a), 0);
  assert_non_null(strstr(out, "DENSE_1"));
  /* the model file is what the model schema describes */
  if (tu_run(out, sizeof out, "$CMACT validate %s", a) != 0) fail_msg("validate: %s", out);
}

static void test_kill_and_resume(void **st) {
  const char *ref = tu_path(dir, "ref.h5");
  char ck[4096], res[4096];
  snprintf(ck, sizeof ck, "%s", tu_path(dir, "run.ckpt"));
  snprintf(res, sizeof res, "%s", tu_path(dir, "resumed.h5"));
  const char *opts = "--model imu_cnn --epochs 24 --batch 32 --threads 1 --seed 9 --patience 50";
  int rc = tu_run(out, sizeof out, "$CMACT train fit %s --data %s --out %s", opts, DS, ref);
  if (rc != 0) fail_msg("reference run failed: %s", out);
  /* Start the same run with checkpoints, SIGKILL it once a checkpoint exists. */
  rc = tu_run(out, sizeof out,
              "$CMACT train fit %s --data %s --out %s --checkpoint %s --checkpoint-every 2 "
              ">/dev/null & pid=$!; "
              "while [ ! -e %s ]; do sleep 0.005; done; kill -9 $pid; wait $pid; echo status=$?",
              opts, DS, res, ck, ck);
  assert_non_null(strstr(out, "status=137"));
  assert_false(tu_file_exists(res));
  rc = tu_run(out, sizeof out, "$CMACT train fit %s --data %s --out %s --checkpoint %s --checkpoint-every 2 --resume",
              opts, DS, res, ck);
  if (rc != 0) fail_msg("resumed run failed: %s", out);
  assert_non_null(strstr(out, "resumed from"));
  assert_null(strstr(out, "epoch    1/24")); /* epoch 1 was not run again */
  nn_model *a = load("ref.h5"), *b = load("resumed.h5");
  assert_memory_equal(a->params, b->params, sizeof(float) * a->n_params);
  double *ha, *hb;
  int na, nb;
  history("ref.h5", &ha, &na);
  history("resumed.h5", &hb, &nb);
  assert_int_equal(na, nb);
  assert_memory_equal(ha, hb, sizeof(double) * 5 * na);
  free(ha), free(hb);
  nn_model_free(a), nn_model_free(b);
  /* a checkpoint is never resumed into a different run */
  rc = tu_run(out, sizeof out, "$CMACT train fit %s --lr 0.01 --data %s --out %s --overwrite --checkpoint %s --resume",
              opts, DS, res, ck);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "other settings"));
}

static void test_audio_and_video(void **st) {
  int rc = tu_run(out, sizeof out, "$CMACT train fit --model audio_mlp --data %s --epochs 2 --batch 64 --out %s",
                  DS, tu_path(dir, "audio.h5"));
  if (rc != 0) fail_msg("audio fit failed: %s", out);
  rc = tu_run(out, sizeof out, "$CMACT train fit --model video_c3d --data %s --epochs 1 --batch 16 --out %s",
              DS, tu_path(dir, "video.h5"));
  if (rc != 0) fail_msg("video fit failed: %s", out);
  nn_model *v = load("video.h5");
  assert_int_equal(v->in_shape[1], 16);
  nn_model_free(v);
  /* a smaller video input than the stored frames: 4 frames (stride 2) of 16x16 */
  rc = tu_run(out, sizeof out, "$CMACT train fit --model video_c3d --input 4x16x16x3 --data %s --epochs 1 --out %s",
              DS, tu_path(dir, "video4.h5"));
  assert_int_equal(rc, 1); /* 4 frames pool away to nothing */
  assert_non_null(strstr(out, "video_c3d at 4x16x16x3"));
  rc = tu_run(out, sizeof out, "$CMACT train fit --model video_c3d --input 8x16x16x1 --data %s --epochs 1 --out %s",
              DS, tu_path(dir, "video12.h5"));
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "must divide"));
}

static void test_errors(void **st) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train fit --model imu_cnn --epochs 1 --out x.h5"), 2);
  assert_non_null(strstr(out, "--data"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train fit --model lstm --data %s --epochs 1 --out x.h5", DS), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train fit --model imu_cnn --data %s --epochs zero --out x.h5", DS), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train fit --model imu_cnn --data %s/none.h5 --epochs 1 --out %s",
                          dir, tu_path(dir, "x.h5")), 1);
  assert_non_null(strstr(out, "none.h5"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train fit --model imu_cnn --data %s --split nosuch --epochs 1 --out %s",
                          DS, tu_path(dir, "x.h5")), 1);
  assert_non_null(strstr(out, "nosuch"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT bench train --model imu_cnn --steps 2 --batch 8"), 0);
  assert_non_null(strstr(out, "samples_per_s: "));
  assert_non_null(strstr(out, "sgemm_peak_gflops: "));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT bench train --model imu_cnn --input 8x16x16x3"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT bench nothing"), 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fit_learns_and_is_repeatable),
      cmocka_unit_test(test_kill_and_resume),
      cmocka_unit_test(test_audio_and_video),
      cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
