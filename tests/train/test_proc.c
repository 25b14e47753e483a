/*
 * The RecycleML procedures on a small synthetic dataset (exp_synth.c: modalities that are
 * different views of one hidden state per window): an audio teacher teaches an IMU student.
 * Checks what each procedure must do: transfer beats scratch when labels are few and paired
 * unlabelled windows many; PureTransfer is the student with the teacher's own output layer;
 * Transfer+LimitedTrain leaves the student's layers untouched; the test split cannot influence
 * which weights are chosen; the commands and `cmact experiment` produce their files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp.h"
#include "exp_synth.h"
#include "nn_io.h"
#include "proc.h"
#include "testutil.h"

static char *dir;
static const char *DS;
static char out[1 << 16];
static exp_data D;
static proc_config CFG;

static int setup(void **st) {
  (void)st;
  dir = tu_mkdtemp("proc");
  DS = strdup(tu_path(dir, "ds.h5"));
  exp_synth_spec sp = {.seed = 3, .frames = 9, .side = 16, .noise = 0.6f, .n_pretrain = 240,
                       .n_transfer = 600, .n_limited = 120, .n_test = 200, .n_personal_train = 60,
                       .n_personal_test = 60};
  if (exp_synth_write(DS, &sp) < 0) fail_msg("synth: %s", cm_error());
  if (exp_data_load(&D, DS, (1u << NN_MOD_AUDIO) | (1u << NN_MOD_IMU), NULL) < 0) fail_msg("%s", cm_error());
  CFG = proc_config_study();
  CFG.teacher_epochs = 15, CFG.transfer_epochs = 40, CFG.limited_epochs = 150, CFG.scratch_epochs = 30;
  CFG.batch = 8, CFG.limit_n = 30;
  return 0;
}

static int teardown(void **st) {
  (void)st;
  exp_data_free(&D);
  tu_rmtree(dir);
  free(dir);
  free((void *)DS);
  return 0;
}

static int same_params(const nn_model *a, int la, const nn_model *b, int lb) {
  const nn_layer *x = &a->layers[la], *y = &b->layers[lb];
  return x->w_n == y->w_n && x->b_n == y->b_n &&
         memcmp(a->params + x->w_off, b->params + y->w_off, sizeof(float) * x->w_n) == 0 &&
         memcmp(a->params + x->b_off, b->params + y->b_off, sizeof(float) * x->b_n) == 0;
}

/* Transfer, PureTransfer and Transfer+LimitedTrain against scratch, with few labels. */
static void test_transfer_procedures(void **st) {
  (void)st;
  proc_fit_result r;
  nn_model *teacher = proc_teacher(&D.pre[NN_MOD_AUDIO], 7, &CFG, 1, &r);
  assert_non_null(teacher);
  proc_fit_result_free(&r);
  double t_acc = proc_accuracy(teacher, &D.test[NN_MOD_AUDIO]);
  print_message("audio teacher: %.3f\n", t_acc);
  assert_true(t_acc > 0.6); /* 7 classes: chance is 0.14 */

  double lim_sum = 0, scr_sum = 0, pure_sum = 0;
  const int runs = 2;
  for (int run = 1; run <= runs; run++) {
    nn_model *g = proc_transfer(teacher, &D.transfer[NN_MOD_AUDIO], &D.transfer[NN_MOD_IMU], 7, &CFG, run, &r);
    assert_non_null(g);
    proc_fit_result_free(&r);
    assert_string_equal(g->layers[g->n_layers - 1].name, "DENSE_1");

    /* PureTransfer: the student's layers, then the teacher's own DENSE_1_relu and output */
    nn_model *pure = proc_pure(g, teacher);
    assert_non_null(pure);
    assert_int_equal(pure->n_layers, g->n_layers + 2);
    for (int i = 0; i < g->n_layers; i++) assert_true(same_params(pure, i, g, i));
    int to = nn_find_layer(teacher, "output"), po = nn_find_layer(pure, "output");
    assert_true(to >= 0 && po == pure->n_layers - 1);
    assert_true(same_params(pure, po, teacher, to));
    assert_string_equal(pure->layers[po - 1].name, "DENSE_1_relu");
    pure_sum += proc_accuracy(pure, &D.test[NN_MOD_IMU]);
    nn_model_free(pure);

    /* Transfer+LimitedTrain: g frozen, its weights bit for bit unchanged; a new head */
    proc_set lim;
    proc_set_draw(&D.limited[NN_MOD_IMU], CFG.limit_n, run, &lim);
    nn_model *before = nn_model_clone(g);
    nn_model *l = proc_limited(g, &lim, 7, &CFG, run, NULL, &r);
    assert_non_null(l);
    proc_fit_result_free(&r);
    for (int i = 0; i < g->n_layers; i++) {
      assert_true(l->layers[i].frozen);
      assert_true(same_params(l, i, before, i));
      assert_true(same_params(g, i, before, i));
    }
    int lo = nn_find_layer(l, "output");
    assert_int_equal(lo, l->n_layers - 1);
    assert_false(l->layers[lo].frozen);
    assert_false(same_params(l, lo, teacher, to)); /* a new output layer, not the teacher's */
    lim_sum += proc_accuracy(l, &D.test[NN_MOD_IMU]);
    nn_model_free(l);
    nn_model_free(before);

    nn_model *s = proc_scratch(NN_MOD_IMU, &lim, 7, &CFG, run, NULL, &r);
    assert_non_null(s);
    proc_fit_result_free(&r);
    scr_sum += proc_accuracy(s, &D.test[NN_MOD_IMU]);
    nn_model_free(s);
    proc_set_free(&lim);
    nn_model_free(g);
  }
  print_message("IMU student, %d labels: pure %.3f, limited %.3f, scratch %.3f\n", CFG.limit_n, pure_sum / runs,
                lim_sum / runs, scr_sum / runs);
  assert_true(lim_sum / runs > scr_sum / runs + 0.05);
  assert_true(pure_sum / runs > scr_sum / runs);
  nn_model_free(teacher);
}

/* The monitor set (the test split, in the experiments) is recorded but never decides: the
 * chosen weights are identical with no monitor and with a monitor whose labels are scrambled. */
static void test_selection_ignores_test(void **st) {
  (void)st;
  proc_set lim, scrambled;
  proc_set_draw(&D.limited[NN_MOD_IMU], 60, 9, &lim);
  proc_set_draw(&D.test[NN_MOD_IMU], D.test[NN_MOD_IMU].n, 1, &scrambled);
  for (int64_t i = 0; i < scrambled.n; i++) scrambled.y[i] = (scrambled.y[i] + 1 + (int)(i % 5)) % 7;
  proc_config c = CFG;
  c.scratch_epochs = 12;
  proc_fit_result r0, r1, r2;
  nn_model *a = proc_scratch(NN_MOD_IMU, &lim, 7, &c, 4, NULL, &r0);
  nn_model *b = proc_scratch(NN_MOD_IMU, &lim, 7, &c, 4, &D.test[NN_MOD_IMU], &r1);
  nn_model *d = proc_scratch(NN_MOD_IMU, &lim, 7, &c, 4, &scrambled, &r2);
  assert_true(a && b && d);
  assert_int_equal(a->n_params, b->n_params);
  assert_memory_equal(a->params, b->params, sizeof(float) * a->n_params);
  assert_memory_equal(a->params, d->params, sizeof(float) * a->n_params);
  assert_int_equal(r0.best_epoch, r2.best_epoch);
  /* the monitor's numbers were recorded (and differ between the true and scrambled labels) */
  assert_true(isnan(r0.curve[4]));
  int differ = 0;
  for (int e = 0; e < r1.epochs_run; e++) {
    assert_true(r1.curve[e * PROC_CURVE_COLS + 4] >= 0);
    differ |= r1.curve[e * PROC_CURVE_COLS + 4] != r2.curve[e * PROC_CURVE_COLS + 4];
  }
  assert_true(differ);
  /* selection really happens on the validation part: the kept epoch has the lowest val loss */
  for (int e = 0; e < r1.epochs_run; e++)
    assert_true(r1.curve[e * PROC_CURVE_COLS + 2] >= r1.best_val_loss);
  proc_fit_result_free(&r0), proc_fit_result_free(&r1), proc_fit_result_free(&r2);
  nn_model_free(a), nn_model_free(b), nn_model_free(d);
  proc_set_free(&lim), proc_set_free(&scrambled);
}

/* The commands, end to end, with tiny epoch counts. */
static void test_commands(void **st) {
  (void)st;
  const char *T = tu_path(dir, "t.h5");
  char t[4096], g[4096], l[4096], s[4096];
  snprintf(t, sizeof t, "%s", T);
  snprintf(g, sizeof g, "%s", tu_path(dir, "g.h5"));
  snprintf(l, sizeof l, "%s", tu_path(dir, "l.h5"));
  snprintf(s, sizeof s, "%s", tu_path(dir, "s.h5"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train teacher --modality imu --data %s --out %s --epochs 3", DS, t), 0);
  assert_non_null(strstr(out, "test accuracy"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train transfer --teacher %s --student audio --data %s --out %s --epochs 2",
                          t, DS, g), 0);
  assert_non_null(strstr(out, "PureTransfer imu -> audio"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train pure --teacher %s --student %s --data %s", t, g, DS), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train limited --student %s --data %s --out %s --epochs 3 --labels 50",
                          g, DS, l), 0);
  assert_non_null(strstr(out, "50 labelled windows"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train scratch --modality audio --data %s --out %s --epochs 2", DS, s), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train show --file %s", l), 0);
  assert_non_null(strstr(out, "frozen"));
  /* usage and run-time errors */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train teacher --data %s --out %s/n.h5", DS, dir), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train teacher --modality smell --data %s --out %s/x.h5", DS, dir), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train teacher --modality imu --data %s --out %s", DS, t), 1);
  assert_non_null(strstr(out, "already exists"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT train limited --student %s/none.h5 --data %s --out %s/y.h5", dir, DS, dir), 1);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT experiment table3 --data %s", DS), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT experiment nonsense --data %s --out %s", DS, dir), 2);
}

static void test_experiment_files(void **st) {
  (void)st;
  char e[4096];
  snprintf(e, sizeof e, "%s", tu_path(dir, "exp"));
  /* video at 9x16x16 costs too much for a unit test: labels and related use IMU and video, so
   * run labels on audio-imu, which loads neither video set */
  int rc = tu_run(out, sizeof out,
                  "$CMACT experiment labels --pair audio-imu --data %s --out %s --runs 2 --threads 2 "
                  "--teacher-epochs 4 --transfer-epochs 3 --limited-epochs 3 --scratch-epochs 3 --label-counts 10,30,500",
                  DS, e);
  if (rc != 0) fail_msg("%s", out);
  assert_non_null(strstr(out, "Fig. 4 analogue"));
  assert_non_null(strstr(out, "clamped"));
  assert_non_null(strstr(out, "the test split is never used for selection"));
  const char *files[] = {"labels.md", "labels.csv", "labels.json", "fig4_labels.png", "fig4_labels.svg"};
  for (int i = 0; i < 5; i++) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", e, files[i]);
    assert_true(tu_file_exists(p));
  }
  size_t n;
  char *csv = tu_read_file(tu_path(e, "labels.csv"), &n);
  int lines = 0;
  for (size_t i = 0; i < n; i++) lines += csv[i] == '\n';
  assert_int_equal(lines, 1 + 3 * 2 * 2); /* header + counts x runs x {limited, scratch} */
  free(csv);
  /* the same numbers for one thread as for two */
  char e1[4096];
  snprintf(e1, sizeof e1, "%s", tu_path(dir, "exp1"));
  rc = tu_run(out, sizeof out,
              "$CMACT experiment labels --pair audio-imu --data %s --out %s --runs 2 --threads 1 "
              "--teacher-epochs 4 --transfer-epochs 3 --limited-epochs 3 --scratch-epochs 3 --label-counts 10,30,500",
              DS, e1);
  assert_int_equal(rc, 0);
  char a[4200], b[4200];
  snprintf(a, sizeof a, "%s/labels.csv", e);
  snprintf(b, sizeof b, "%s/labels.csv", e1);
  assert_true(tu_files_equal(a, b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transfer_procedures),
      cmocka_unit_test(test_selection_ignores_test),
      cmocka_unit_test(test_commands),
      cmocka_unit_test(test_experiment_files),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
