/*
 * Parity of the three whole models with PyTorch (tests/data/train/models.bin): the real IMU
 * CNN and audio MLP at batch 4 and a reduced video C3D, in training mode (dropout masks from
 * nn_rng.h, replayed by make_reference.py): logits, loss, input gradient and every parameter
 * gradient of the first step, the losses of several Adam (or Nesterov SGD) steps and every
 * parameter after them, within 1e-4 relative error; plain-momentum SGD; the transfer student
 * (audio MLP cut at DENSE_1) under MSE. Also the parameter counts of the study.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_arch.h"
#include "nn_optim.h"
#include "refdata.h"
#include "testutil.h"

#define TOL 1e-4

static ref_file *R;

static void expect(const char *tag, const char *what, const float *a, size_t n) {
  char name[128];
  snprintf(name, sizeof name, "%s/%s", tag, what);
  ref_expect(R, name, a, n, TOL);
}

/* Compare every parameter of m under "tag/prefix/LAYER/kernel|bias". */
static void expect_params(const char *tag, const char *prefix, const nn_model *m,
                          const float *buf) {
  for (int i = 0; i < m->n_layers; i++) {
    const nn_layer *l = &m->layers[i];
    if (!l->w_n) continue;
    char what[96];
    snprintf(what, sizeof what, "%s/%s/kernel", prefix, l->name);
    expect(tag, what, buf + l->w_off, l->w_n);
    snprintf(what, sizeof what, "%s/%s/bias", prefix, l->name);
    expect(tag, what, buf + l->b_off, l->b_n);
  }
}

static void run_model_loss(const char *tag, nn_model *m, nn_optimizer opt, int steps, int mse) {
  char name[128];
  snprintf(name, sizeof name, "%s/x", tag);
  const ref_tensor *x = ref_get(R, name);
  snprintf(name, sizeof name, "%s/labels", tag);
  const int32_t *labels = ref_get(R, name)->i;
  int B = (int)x->dims[0];
  size_t C = nn_output_size(m);
  assert_int_equal(x->n, (size_t)B * m->in_size);
  float *dlogits = malloc(sizeof(float) * B * C), *dx = malloc(sizeof(float) * x->n);
  const float *targets = NULL;
  if (mse) {
    snprintf(name, sizeof name, "%s/targets", tag);
    targets = ref_get(R, name)->f;
  }
  float losses[16];
  for (int s = 0; s < steps; s++) {
    float *logits = nn_forward(m, x->f, B, 1);
    losses[s] = mse ? (float)nn_mse(logits, targets, B, (int)C, dlogits)
                    : (float)nn_softmax_xent(logits, labels, B, (int)C, dlogits, NULL);
    nn_backward(m, dlogits, s == 0 ? dx : NULL);
    if (s == 0) {
      expect(tag, "logits", logits, (size_t)B * C);
      expect(tag, "dx", dx, x->n);
      expect_params(tag, "grad", m, m->grads);
    }
    nn_optim_step(&opt, m);
  }
  expect(tag, "losses", losses, steps);
  expect_params(tag, "final", m, m->params);
  expect(tag, "eval_logits", nn_forward(m, x->f, B, 0), (size_t)B * C);
  free(dlogits);
  free(dx);
}

static void run_model(const char *tag, nn_model *m, nn_optimizer opt, int steps) {
  run_model_loss(tag, m, opt, steps, 0);
}

static void test_imu_cnn_adam(void **state) {
  nn_model *m = nn_arch_imu_cnn(40, 12, 7, 7);
  assert_non_null(m);
  run_model("imu", m, nn_adam(1e-3f), 4);
  nn_model_free(m);
}

static void test_imu_cnn_nesterov(void **state) {
  nn_model *m = nn_arch_imu_cnn(40, 12, 7, 8);
  run_model("imu_sgd", m, nn_sgd(0.01f, 0.9f, 1), 4);
  nn_model_free(m);
}

static void test_audio_mlp_adam(void **state) {
  nn_model *m = nn_arch_audio_mlp(193, 7, 11);
  assert_non_null(m);
  run_model("audio", m, nn_adam(1e-3f), 4);
  nn_model_free(m);
}

static void test_video_c3d_reduced_adam(void **state) {
  nn_video_cfg cfg = {8, 16, 2, {4, 6, 8, 8}, 16};
  nn_model *m = nn_arch_video_c3d(&cfg, 5, 13);
  assert_non_null(m);
  run_model("video", m, nn_adam(1e-3f), 3);
  nn_model_free(m);
}

static void test_imu_cnn_momentum(void **state) {
  nn_model *m = nn_arch_imu_cnn(40, 12, 7, 14);
  run_model("imu_momentum", m, nn_sgd(0.01f, 0.9f, 0), 3);
  nn_model_free(m);
}

/* The transfer student: the audio MLP cut at DENSE_1, regressed onto targets under MSE. */
static void test_audio_student_mse(void **state) {
  nn_model *full = nn_arch_audio_mlp(193, 7, 15);
  nn_model *m = nn_model_cut(full, "DENSE_1");
  assert_non_null(m);
  run_model_loss("audio_student", m, nn_adam(1e-3f), 3, 1);
  nn_model_free(m);
  nn_model_free(full);
}

/* The study's sizes (DESIGN.md section 1: 57K, 0.8M, 4.6M), printed and checked. */
static void test_parameter_counts(void **state) {
  nn_model *imu = nn_arch_imu_cnn(40, 12, 7, 1), *audio = nn_arch_audio_mlp(193, 7, 1);
  nn_video_cfg cfg = nn_video_default();
  nn_model *video = nn_arch_video_c3d(&cfg, 7, 1);
  printf("parameters: imu_cnn %zu, audio_mlp %zu, video_c3d(45x64x64x3) %zu\n", imu->n_params,
         audio->n_params, video->n_params);
  assert_int_equal(imu->n_params, 56807);
  assert_int_equal(audio->n_params, 810779);
  assert_in_range(video->n_params, 4550000, 4650000);
  int d;
  assert_int_equal(nn_output_shape(imu, &d)[0], 7);
  assert_int_equal(imu->layers[nn_find_layer(imu, "flatten")].out_size, 160);
  nn_model_free(imu);
  nn_model_free(audio);
  nn_model_free(video);
}

static int setup(void **state) {
  R = ref_load("models.bin");
  return 0;
}
static int teardown(void **state) {
  ref_free(R);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parameter_counts),
      cmocka_unit_test(test_imu_cnn_adam),
      cmocka_unit_test(test_imu_cnn_nesterov),
      cmocka_unit_test(test_audio_mlp_adam),
      cmocka_unit_test(test_video_c3d_reduced_adam),
      cmocka_unit_test(test_imu_cnn_momentum),
      cmocka_unit_test(test_audio_student_mse),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
