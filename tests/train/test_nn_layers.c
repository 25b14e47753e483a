/*
 * Parity of every layer kernel with PyTorch (tests/data/train/layers.bin, made by
 * make_reference.py): outputs and all gradients within 1e-4 relative error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_layers.h"
#include "nn_rng.h"
#include "refdata.h"
#include "testutil.h"

#define TOL 1e-4

static ref_file *R;

static const float *F(const char *tag, const char *what) {
  char n[128];
  snprintf(n, sizeof n, "%s/%s", tag, what);
  return ref_get(R, n)->f;
}
static const ref_tensor *T(const char *tag, const char *what) {
  char n[128];
  snprintf(n, sizeof n, "%s/%s", tag, what);
  return ref_get(R, n);
}
static void expect(const char *tag, const char *what, const float *a, size_t n) {
  char name[128];
  snprintf(name, sizeof name, "%s/%s", tag, what);
  ref_expect(R, name, a, n, TOL);
}

static void test_dense(void **state) {
  const ref_tensor *x = T("dense", "x"), *W = T("dense", "W");
  int B = (int)x->dims[0], I = (int)x->dims[1], O = (int)W->dims[1];
  float y[64], dx[64], dW[64], db[16];
  nn_dense_forward(y, x->f, W->f, F("dense", "b"), B, I, O);
  expect("dense", "y", y, (size_t)B * O);
  nn_dense_backward(dx, dW, db, F("dense", "gy"), x->f, W->f, B, I, O);
  expect("dense", "dx", dx, (size_t)B * I);
  expect("dense", "dW", dW, (size_t)I * O);
  expect("dense", "db", db, O);
}

static void check_conv(const char *tag, int same) {
  const ref_tensor *x = T(tag, "x"), *W = T(tag, "W"), *y = T(tag, "y");
  int in[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int sp = x->ndim - 2; /* spatial axes */
  for (int a = 0; a < sp; a++) {
    in[3 - sp + a] = (int)x->dims[1 + a];
    k[3 - sp + a] = (int)W->dims[a];
  }
  int cin = (int)x->dims[x->ndim - 1], cout = (int)W->dims[W->ndim - 1], B = (int)x->dims[0];
  nn_conv_geom g;
  assert_int_equal(nn_conv_geom_init(&g, in, cin, k, cout, same), 0);
  float *out = calloc(y->n, sizeof(float)), *dx = calloc(x->n, sizeof(float));
  float *dW = calloc(W->n, sizeof(float)), db[16];
  float *scratch = calloc(nn_conv_scratch_floats(&g, B), sizeof(float));
  nn_conv_forward(out, x->f, W->f, F(tag, "b"), &g, B, scratch);
  expect(tag, "y", out, y->n);
  nn_conv_backward(dx, dW, db, F(tag, "gy"), x->f, W->f, &g, B, scratch);
  expect(tag, "dx", dx, x->n);
  expect(tag, "dW", dW, W->n);
  expect(tag, "db", db, cout);
  free(out), free(dx), free(dW), free(scratch);
}

static void test_conv1d_same(void **state) { check_conv("conv1d_same", 1); }
static void test_conv1d_valid(void **state) { check_conv("conv1d_valid", 0); }
static void test_conv3d_same(void **state) { check_conv("conv3d_same", 1); }
static void test_conv3d_valid(void **state) { check_conv("conv3d_valid", 0); }
static void test_conv3d_mixed_kernel(void **state) { check_conv("conv3d_mixed", 1); }

static void check_pool(const char *tag, const int p3[3]) {
  const ref_tensor *x = T(tag, "x"), *y = T(tag, "y");
  int in[3] = {1, 1, 1}, sp = x->ndim - 2;
  for (int a = 0; a < sp; a++) in[3 - sp + a] = (int)x->dims[1 + a];
  nn_pool_geom g;
  assert_int_equal(nn_pool_geom_init(&g, in, (int)x->dims[x->ndim - 1], p3), 0);
  int B = (int)x->dims[0];
  float *out = calloc(y->n, sizeof(float)), *dx = calloc(x->n, sizeof(float));
  int32_t *am = calloc(y->n, sizeof(int32_t));
  nn_maxpool_forward(out, am, x->f, &g, B);
  expect(tag, "y", out, y->n);
  nn_maxpool_backward(dx, F(tag, "gy"), am, &g, B);
  expect(tag, "dx", dx, x->n);
  free(out), free(dx), free(am);
}

static void test_maxpool1d(void **state) { check_pool("maxpool1d", (int[3]){1, 1, 2}); }
static void test_maxpool3d_122(void **state) { check_pool("maxpool3d_122", (int[3]){1, 2, 2}); }
static void test_maxpool3d_222(void **state) { check_pool("maxpool3d_222", (int[3]){2, 2, 2}); }

static void test_relu(void **state) {
  const ref_tensor *x = T("relu", "x");
  float y[64], dx[64];
  nn_relu_forward(y, x->f, x->n);
  expect("relu", "y", y, x->n);
  nn_relu_backward(dx, F("relu", "gy"), y, x->n);
  expect("relu", "dx", dx, x->n);
}

/* The mask comes from nn_rng.h keyed exactly as make_reference.py keys it. */
static void test_dropout(void **state) {
  const ref_tensor *x = T("dropout", "x");
  uint64_t key = nn_key(99, NN_TAG_DROPOUT, 3, 5);
  float *y = calloc(x->n, sizeof(float)), *dx = calloc(x->n, sizeof(float));
  nn_dropout_forward(y, x->f, x->n, 0.3f, key);
  expect("dropout", "y", y, x->n);
  nn_dropout_backward(dx, F("dropout", "gy"), x->n, 0.3f, key);
  expect("dropout", "dx", dx, x->n);
  size_t dropped = 0;
  for (size_t i = 0; i < x->n; i++) dropped += y[i] == 0.0f;
  /* 200 draws at rate 0.3: 60 expected, 4 sigma is about 26 */
  assert_in_range(dropped, 34, 86);
  free(y), free(dx);
}

static void test_softmax_xent(void **state) {
  const ref_tensor *z = T("xent", "logits");
  int B = (int)z->dims[0], C = (int)z->dims[1];
  float d[64];
  float loss = (float)nn_softmax_xent(z->f, ref_get(R, "xent/labels")->i, B, C, d, NULL);
  expect("xent", "loss", &loss, 1);
  expect("xent", "dlogits", d, (size_t)B * C);
}

static void test_mse(void **state) {
  const ref_tensor *y = T("mse", "y");
  float d[64];
  float loss = (float)nn_mse(y->f, F("mse", "t"), (int)y->dims[0], (int)y->dims[1], d);
  expect("mse", "loss", &loss, 1);
  expect("mse", "dy", d, y->n);
}

/* The comparison itself must be able to fail: a perturbed output is caught. */
static void test_comparison_detects_errors(void **state) {
  const ref_tensor *y = T("dense", "y");
  float *a = malloc(sizeof(float) * y->n);
  memcpy(a, y->f, sizeof(float) * y->n);
  assert_true(ref_rel_error(y, a, y->n) == 0.0);
  a[1] *= 1.001f;
  assert_true(ref_rel_error(y, a, y->n) > 1e-5);
  free(a);
}

static int setup(void **state) {
  R = ref_load("layers.bin");
  return 0;
}
static int teardown(void **state) {
  ref_free(R);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dense),          cmocka_unit_test(test_conv1d_same),
      cmocka_unit_test(test_conv1d_valid),   cmocka_unit_test(test_conv3d_same),
      cmocka_unit_test(test_conv3d_valid),   cmocka_unit_test(test_conv3d_mixed_kernel),
      cmocka_unit_test(test_maxpool1d),      cmocka_unit_test(test_maxpool3d_122),
      cmocka_unit_test(test_maxpool3d_222),  cmocka_unit_test(test_relu),
      cmocka_unit_test(test_dropout),        cmocka_unit_test(test_softmax_xent),
      cmocka_unit_test(test_mse),            cmocka_unit_test(test_comparison_detects_errors),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
