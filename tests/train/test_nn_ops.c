/*
 * The model operations the transfer procedures are built on, checked by their meaning:
 * cutting at DENSE_1 gives exactly the full model's DENSE_1 activations, grafting the rest
 * back gives exactly the full model, frozen layers do not move while the rest learns, a student
 * cut at DENSE_1 learns a teacher's activations under MSE, and training is bit-for-bit
 * repeatable at a fixed thread count (and independent of the engine's own thread count).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_arch.h"
#include "nn_optim.h"
#include "nn_rng.h"
#include "nn_threads.h"
#include "cm_util.h"
#include "testutil.h"

#define B 8

static float *random_batch(size_t n, uint64_t seed) {
  float *x = malloc(sizeof(float) * n);
  uint64_t key = nn_key(seed, 77, 0, 0);
  for (size_t i = 0; i < n; i++) x[i] = 2.0f * nn_uniform(key, i) - 1.0f;
  return x;
}

static void test_cut_and_graft(void **state) {
  nn_model *full = nn_arch_imu_cnn(40, 12, 7, 3);
  float *x = random_batch(B * full->in_size, 1);
  float *ref = malloc(sizeof(float) * B * 7);
  memcpy(ref, nn_forward(full, x, B, 0), sizeof(float) * B * 7);
  int d1 = nn_find_layer(full, "DENSE_1");
  assert_true(d1 > 0);
  float *ref_d1 = malloc(sizeof(float) * B * 128);
  memcpy(ref_d1, full->layers[d1].out, sizeof(float) * B * 128);

  nn_model *lower = nn_model_cut(full, "DENSE_1");
  assert_non_null(lower);
  assert_int_equal(nn_output_size(lower), 128);
  /* the full model's DENSE_1 buffer holds the activations after DENSE_1_relu (in place) */
  float *cut_out = nn_forward(lower, x, B, 0), act[B * 128];
  nn_relu_forward(act, cut_out, B * 128);
  assert_memory_equal(act, ref_d1, sizeof act);

  assert_int_equal(nn_model_graft(lower, full, "DENSE_1"), 0);
  assert_int_equal(lower->n_params, full->n_params);
  assert_memory_equal(nn_forward(lower, x, B, 0), ref, sizeof(float) * B * 7);

  /* a new 5-class output layer on the cut model */
  nn_model *five = nn_model_cut(full, "DENSE_1_relu");
  assert_int_equal(nn_add_dense(five, "output", 5), 0);
  assert_int_equal(nn_output_size(five), 5);
  /* grafting layers that do not fit is refused */
  nn_model *audio = nn_arch_audio_mlp(193, 7, 1);
  nn_model *bad = nn_model_cut(full, "pool1");
  assert_int_equal(nn_model_graft(bad, audio, "fc1_relu"), -1);
  assert_null(nn_model_cut(full, "no_such_layer"));
  nn_model_free(bad);
  nn_model_free(audio);
  nn_model_free(five);
  nn_model_free(lower);
  nn_model_free(full);
  free(x), free(ref), free(ref_d1);
}

static void test_freeze(void **state) {
  nn_model *m = nn_arch_audio_mlp(193, 7, 5);
  assert_int_equal(nn_freeze_through(m, "DENSE_1_relu", 1), 0);
  assert_int_equal(nn_trainable_params(m), 128 * 7 + 7);
  float *before = malloc(sizeof(float) * m->n_params);
  memcpy(before, m->params, sizeof(float) * m->n_params);
  float *x = random_batch(B * 193, 2), dl[B * 7];
  int32_t labels[B] = {0, 1, 2, 3, 4, 5, 6, 0};
  nn_optimizer adam = nn_adam(1e-3f);
  double first = 0, last = 0;
  for (int s = 0; s < 30; s++) {
    float *z = nn_forward(m, x, B, 1);
    last = nn_softmax_xent(z, labels, B, 7, dl, NULL);
    if (s == 0) first = last;
    nn_backward(m, dl, NULL);
    nn_optim_step(&adam, m);
  }
  const nn_layer *out = &m->layers[nn_find_layer(m, "output")];
  assert_memory_equal(m->params, before, sizeof(float) * out->w_off);
  assert_memory_not_equal(m->params + out->w_off, before + out->w_off, sizeof(float) * out->w_n);
  assert_true(last < first);
  nn_model_free(m);
  free(before), free(x);
}

/* Knowledge transfer in miniature: an audio student learns an IMU teacher's DENSE_1. */
static void test_student_learns_teacher_features(void **state) {
  nn_model *teacher = nn_arch_imu_cnn(40, 12, 7, 11);
  nn_model *audio = nn_arch_audio_mlp(193, 7, 12);
  nn_model *student = nn_model_cut(audio, "DENSE_1");
  nn_model_free(audio);
  float *xi = random_batch(B * 480, 3), *xa = random_batch(B * 193, 4);
  nn_model *g = nn_model_cut(teacher, "DENSE_1");
  float target[B * 128], dy[B * 128];
  memcpy(target, nn_forward(g, xi, B, 0), sizeof target);
  nn_optimizer adam = nn_adam(1e-3f);
  double first = 0, last = 0;
  for (int s = 0; s < 60; s++) {
    float *y = nn_forward(student, xa, B, 1);
    last = nn_mse(y, target, B, 128, dy);
    if (s == 0) first = last;
    nn_backward(student, dy, NULL);
    nn_optim_step(&adam, student);
  }
  assert_true(last < 0.5 * first);
  nn_model_free(g);
  nn_model_free(teacher);
  nn_model_free(student);
  free(xi), free(xa);
}

static void train_steps(nn_model *m, const float *x, int steps) {
  int32_t labels[B] = {0, 1, 2, 3, 4, 0, 1, 2};
  float dl[B * 5];
  nn_optimizer adam = nn_adam(1e-3f);
  for (int s = 0; s < steps; s++) {
    float *z = nn_forward(m, x, B, 1);
    nn_softmax_xent(z, labels, B, 5, dl, NULL);
    nn_backward(m, dl, NULL);
    nn_optim_step(&adam, m);
  }
}

static void test_deterministic(void **state) {
  openblas_set_num_threads(2);
  nn_video_cfg cfg = {8, 16, 3, {8, 8, 8, 8}, 32};
  nn_model *a = nn_arch_video_c3d(&cfg, 5, 21), *b = nn_arch_video_c3d(&cfg, 5, 21);
  nn_model *c = nn_arch_video_c3d(&cfg, 5, 22);
  float *x = random_batch(B * a->in_size, 5);
  /* the engine's own threads never change a result: 1 and 3 of them give the same bits */
  nn_threads_set(1);
  train_steps(a, x, 3);
  nn_threads_set(3);
  train_steps(b, x, 3);
  train_steps(c, x, 3);
  nn_threads_set(1);
  assert_memory_equal(a->params, b->params, sizeof(float) * a->n_params);
  assert_memory_not_equal(a->params, c->params, sizeof(float) * a->n_params);
  nn_model_free(a), nn_model_free(b), nn_model_free(c);
  free(x);
}

static void test_bad_shapes_are_refused(void **state) {
  int in[2] = {4, 3};
  nn_model *m = nn_model_new(in, 2, 1);
  assert_int_equal(nn_add_dense(m, "d", 4), -1); /* needs flatten first */
  assert_int_equal(nn_add_conv1d(m, "c", 4, 7, 0), -1); /* kernel larger than input */
  assert_int_equal(nn_add_maxpool1d(m, "p", 8), -1);
  assert_int_equal(nn_add_dropout(m, "r", 1.0f), -1);
  assert_int_equal(nn_add_flatten(m, "f"), 0);
  assert_int_equal(nn_add_flatten(m, "f"), -1); /* duplicate name */
  nn_model_free(m);
  nn_video_cfg cfg = {4, 8, 3, {4, 4, 4, 4}, 8}; /* pooled away to nothing */
  assert_null(nn_arch_video_c3d(&cfg, 5, 1));
  assert_non_null(strstr(cm_error(), "video_c3d at 4x8x8x3"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cut_and_graft),
      cmocka_unit_test(test_freeze),
      cmocka_unit_test(test_student_learns_teacher_features),
      cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_bad_shapes_are_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
