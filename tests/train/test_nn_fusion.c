/*
 * Parity of the audio+IMU fusion model (train/nn_fusion.h) with PyTorch
 * (tests/data/train/fusion.bin, made by make_reference.py): at batch 4 in training mode (the
 * branches' dropout masks replayed from nn_rng.h), the logits, the loss, both input gradients
 * (which pass through the concatenation's split) and every parameter gradient of the three
 * parts after the first step, the losses of four Adam steps and the evaluation-mode logits
 * within 1e-4 relative error; every parameter after the four steps within 1e-3 (see
 * TOL_ADAM_FINAL). Also: the model file round trip
 * (save, load, same logits) and the parameter count (IMU branch + audio branch + head).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_fusion.h"
#include "cm_util.h"
#include "refdata.h"
#include "testutil.h"

#define TOL 1e-4
/* Parameters after several Adam steps: an element whose gradient is near Adam's eps (1e-7) at
 * some step moves by lr * g / (|g| + eps), which turns the float32 rounding of that tiny
 * gradient (a sum that nearly cancels) into an update error of up to ~1e-3 of the layer's
 * largest value; seen on one bias of the audio branch's 1024-unit layer, whose gradient is
 * 3.5e-7 at step 3. Every gradient itself is within TOL. */
#define TOL_ADAM_FINAL 1e-3

static ref_file *R;
static double worst[2];
static char worst_name[2][128];

static void expect_tol(const char *what, const float *a, size_t n, double tol) {
  char name[128];
  snprintf(name, sizeof name, "fusion/%s", what);
  double e = ref_rel_error(ref_get(R, name), a, n);
  int k = tol > TOL;
  if (e > worst[k]) worst[k] = e, snprintf(worst_name[k], sizeof worst_name[k], "%s", name);
  ref_expect(R, name, a, n, tol);
}

static void expect(const char *what, const float *a, size_t n) { expect_tol(what, a, n, TOL); }

static void expect_params(const char *prefix, const nn_fusion *f, int grads) {
  const nn_model *parts[3] = {f->imu, f->audio, f->head};
  static const char *const pn[3] = {"imu", "audio", "head"};
  for (int p = 0; p < 3; p++) {
    const nn_model *m = parts[p];
    const float *buf = grads ? m->grads : m->params;
    for (int i = 0; i < m->n_layers; i++) {
      const nn_layer *l = &m->layers[i];
      if (!l->w_n) continue;
      char what[128];
      snprintf(what, sizeof what, "%s/%s.%s/kernel", prefix, pn[p], l->name);
      expect_tol(what, buf + l->w_off, l->w_n, grads ? TOL : TOL_ADAM_FINAL);
      snprintf(what, sizeof what, "%s/%s.%s/bias", prefix, pn[p], l->name);
      expect_tol(what, buf + l->b_off, l->b_n, grads ? TOL : TOL_ADAM_FINAL);
    }
  }
}

static void test_fusion_adam_parity(void **state) {
  (void)state;
  const ref_tensor *xi = ref_get(R, "fusion/x_imu"), *xa = ref_get(R, "fusion/x_audio");
  const int32_t *labels = ref_get(R, "fusion/labels")->i;
  const int B = (int)xi->dims[0];
  nn_fusion *f = nn_fusion_new(40, 12, 193, 7, 21);
  assert_non_null(f);
  assert_int_equal(xi->n, (size_t)B * 480);
  assert_int_equal(xa->n, (size_t)B * 193);
  float *dxi = malloc(sizeof(float) * xi->n), *dxa = malloc(sizeof(float) * xa->n);
  nn_optimizer opt = nn_adam(1e-3f);
  float dl[4 * 7], losses[4];
  for (int s = 0; s < 4; s++) {
    float *z = nn_fusion_forward(f, xi->f, xa->f, B, 1);
    if (s == 0) expect("logits", z, (size_t)B * 7);
    losses[s] = (float)nn_softmax_xent(z, labels, B, 7, dl, NULL);
    nn_fusion_backward(f, dl, s == 0 ? dxi : NULL, s == 0 ? dxa : NULL);
    if (s == 0) {
      expect_params("grad", f, 1);
      expect("dx_imu", dxi, xi->n);
      expect("dx_audio", dxa, xa->n);
    }
    nn_fusion_step(&opt, f);
  }
  expect("losses", losses, 4);
  expect_params("final", f, 0);
  expect("eval_logits", nn_fusion_forward(f, xi->f, xa->f, B, 0), (size_t)B * 7);
  printf("fusion parity: largest relative error %.3g (%s) over logits, losses and gradients; "
         "%.3g (%s) over the parameters after 4 Adam steps\n", worst[0], worst_name[0], worst[1], worst_name[1]);
  free(dxi);
  free(dxa);
  nn_fusion_free(f);
}

static void test_fusion_file_round_trip(void **state) {
  (void)state;
  const ref_tensor *xi = ref_get(R, "fusion/x_imu"), *xa = ref_get(R, "fusion/x_audio");
  nn_fusion *f = nn_fusion_new(40, 12, 193, 7, 5);
  assert_non_null(f);
  /* the study's sizes: the IMU CNN and audio MLP minus their 7-class output layers, + 256*7+7 */
  assert_int_equal(nn_fusion_params(f), (56807 - 129 * 7) + (810779 - 129 * 7) + 257 * 7);
  char *dir = tu_mkdtemp("fusion_io"), path[4200];
  snprintf(path, sizeof path, "%s/f.h5", dir);
  static const char *const names[7] = {"a", "b", "c", "d", "e", "f", "g"};
  nn_save_info info = {.class_names = names, .n_classes = 7, .procedure = "fusion", .seed = 5};
  assert_int_equal(nn_fusion_save(f, path, &info, 0), 0);
  char cn[8][24];
  int nc = 0;
  nn_fusion *g = nn_fusion_load(path, cn, 8, &nc);
  if (!g) fail_msg("load: %s", cm_error());
  assert_int_equal(nc, 7);
  assert_string_equal(cn[6], "g");
  float a[4 * 7], b[4 * 7];
  memcpy(a, nn_fusion_forward(f, xi->f, xa->f, 4, 0), sizeof a);
  memcpy(b, nn_fusion_forward(g, xi->f, xa->f, 4, 0), sizeof b);
  assert_memory_equal(a, b, sizeof a);
  /* a single-modality model file is refused with one line naming the file */
  nn_fusion_free(g);
  nn_model *m = nn_model_new((int[]){3}, 1, 1);
  nn_add_dense(m, "output", 2);
  snprintf(path, sizeof path, "%s/plain.h5", dir);
  nn_save_info pi = {.architecture = "audio_mlp", .procedure = "fit"};
  assert_int_equal(nn_model_save(m, path, &pi, 0), 0);
  assert_null(nn_fusion_load(path, cn, 8, &nc));
  assert_non_null(strstr(cm_error(), "not an audio+IMU fusion model"));
  nn_model_free(m);
  nn_fusion_free(f);
  tu_rmtree(dir);
  free(dir);
}

static int setup(void **state) {
  (void)state;
  R = ref_load("fusion.bin");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  ref_free(R);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fusion_adam_parity),
      cmocka_unit_test(test_fusion_file_round_trip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
