/*
 * `cmact train fusion`: the supervised audio+IMU fusion model (nn_fusion.h) on a dataset file.
 *
 * Trained on the labelled training splits the study's procedures use (by default pretrain and
 * limited: the teacher's data and LimitTrainSet's pool; the transfer split is the study's
 * unlabelled pairing data and stays out unless --splits names it), with a seeded validation
 * part of them for model selection, never the test split. Prints the test accuracy of the
 * selected weights (reported, not used) and writes the model file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "proc_fusion.h"

/* Load the named splits ("a,b,...") of one modality, joined. */
static int load_splits(cm_dataset *d, const char *splits, nn_modality mod, proc_set *out) {
  memset(out, 0, sizeof *out);
  char *copy = cm_xstrdup(splits), *save = NULL;
  int rc = 0, first = 1;
  for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
    proc_set s, j;
    if ((rc = proc_set_load(d, t, mod, NULL, 0, &s)) < 0) break;
    if (first) {
      *out = s, first = 0;
      continue;
    }
    rc = proc_set_concat(out, &s, &j);
    proc_set_free(&s);
    proc_set_free(out);
    *out = j;
  }
  free(copy);
  if (rc == 0 && first) rc = cm_set_error("--splits '%s' names no split", splits);
  return rc;
}

int proc_cmd_train_fusion(int argc, char **argv) {
  const char *data = NULL, *out = NULL, *splits = "pretrain,limited";
  proc_fit_opts o = {.epochs = 100, .batch = 128, .lr = 1e-3f, .seed = 1, .val_fraction = 0.1};
  int overwrite = 0;
  long seed = 1;
  double lr = o.lr;
  const int count_max = 100000000; /* the largest count (epochs, batch, ...) and seed taken */
  const cm_opt opts[] = {
      CM_OPT_FLAG("overwrite", 0, &overwrite),
      CM_OPT_STRING("data", 0, &data),
      CM_OPT_STRING("out", 0, &out),
      CM_OPT_STRING("splits", 0, &splits),
      CM_OPT_INT_IN("epochs", 0, &o.epochs, 0, count_max),
      CM_OPT_INT_IN("batch", 0, &o.batch, 0, count_max),
      CM_OPT_LONG_IN("seed", 0, &seed, 0, count_max),
      CM_OPT_INT_IN("patience", 0, &o.patience, 0, count_max),
      CM_OPT_DOUBLE_RANGE("lr", 0, &lr, CM_OPT_MIN | CM_OPT_MIN_OPEN, 0, 0),
      CM_OPT_DOUBLE_RANGE("val-fraction", 0, &o.val_fraction, CM_OPT_MIN | CM_OPT_MAX | CM_OPT_MAX_OPEN, 0, 1),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("train", 1, "%s", cm_error());
  o.seed = (uint64_t)seed;
  o.lr = (float)lr;
  if (!data) return cmact_help_exit("train", 1, "--data is required");
  if (!out) return cmact_help_exit("train", 1, "--out is required");
  if (o.epochs < 1) return cmact_help_exit("train", 1, "--epochs must be at least 1");
  if (o.batch < 1) return cmact_help_exit("train", 1, "--batch must be at least 1");
  if (!overwrite && access(out, F_OK) == 0)
    return cm_fail(CM_EXIT_FAIL, "train", "%s: already exists (use --overwrite)", out);

  cm_dataset *d = cm_dataset_open(data);
  if (!d) return cm_fail_error("train");
  const cm_dataset_desc desc = *cm_dataset_get_desc(d);
  proc_set imu, audio, ti = {0}, ta = {0};
  int rc = load_splits(d, splits, NN_MOD_IMU, &imu);
  if (rc == 0 && (rc = load_splits(d, splits, NN_MOD_AUDIO, &audio)) < 0) proc_set_free(&imu);
  if (rc == 0 && cm_dataset_find_split(d, "test") >= 0) {
    if (proc_set_load(d, "test", NN_MOD_IMU, NULL, 0, &ti) < 0 || proc_set_load(d, "test", NN_MOD_AUDIO, NULL, 0, &ta) < 0)
      rc = -1;
  }
  cm_dataset_close_reader(d);
  if (rc < 0) {
    cm_prefix_error("%s", data);
    proc_set_free(&ti), proc_set_free(&ta);
    return cm_fail_error("train");
  }
  nn_fusion *f = nn_fusion_new(imu.shape[0], imu.shape[1], (int)audio.dim, desc.n_classes, o.seed);
  proc_fit_result r = {0};
  if (!f || proc_fit_fusion(f, &imu, &audio, &o, &r) < 0) {
    nn_fusion_free(f);
    proc_set_free(&imu), proc_set_free(&audio), proc_set_free(&ti), proc_set_free(&ta);
    return cm_fail_error("train");
  }
  nn_fusion_print(f, stdout);
  double test = proc_fusion_accuracy(f, &ti, &ta);
  /* history: epoch, loss, val_loss, val_acc */
  double *h = cm_xcalloc((size_t)r.epochs_run * 4 + 4, sizeof(double));
  for (int e = 0; e < r.epochs_run; e++) memcpy(h + 4 * e, r.curve + (size_t)e * PROC_CURVE_COLS, 4 * sizeof(double));
  const char *names[CM_MAX_CLASSES];
  for (int i = 0; i < desc.n_classes; i++) names[i] = desc.class_names[i];
  char epochs[32], best[32], val[32], acc[32];
  snprintf(epochs, sizeof epochs, "%d", r.epochs_run);
  snprintf(best, sizeof best, "%d", r.best_epoch);
  snprintf(val, sizeof val, "%g", o.val_fraction);
  snprintf(acc, sizeof acc, "%.6f", test);
  const char *keys[] = {"data", "splits", "epochs", "best_epoch", "val_fraction", "test_accuracy"};
  const char *vals[] = {data, splits, epochs, best, val, acc};
  nn_save_info info = {.class_names = names, .n_classes = desc.n_classes, .procedure = "fusion",
                       .seed = o.seed, .history_columns = "epoch,loss,val_loss,val_acc", .history = h,
                       .history_rows = r.epochs_run, .history_cols = 4, .attr_keys = keys, .attr_values = vals,
                       .n_attrs = 6};
  rc = nn_fusion_save(f, out, &info, 1);
  if (rc == 0)
    printf("wrote %s: fusion on %s of %s (%lld windows, %.0f%% for validation), %d epochs, best %d "
           "(val loss %.4f), %.1f s; test accuracy %.2f%% on %lld windows (reported, not used for selection)\n",
           out, splits, data, (long long)imu.n, 100 * o.val_fraction, r.epochs_run, r.best_epoch, r.best_val_loss,
           r.seconds, 100 * test, (long long)ti.n);
  free(h);
  proc_fit_result_free(&r);
  nn_fusion_free(f);
  proc_set_free(&imu), proc_set_free(&audio), proc_set_free(&ti), proc_set_free(&ta);
  return rc == 0 ? CM_EXIT_OK : cm_fail_error("train");
}
