/*
 * `cmact train teacher|transfer|pure|limited|scratch`: the RecycleML procedures one at a time,
 * on a dataset file, with model files in and out (the experiments run the same functions many
 * times over, in memory; see proc.h). Each prints what it trained and the accuracy of the
 * result on the test split; that number is reported, never used to pick weights.
 *
 * The study's defaults: Adam lr 1e-3, batch 128; teacher 100 epochs, transfer 500 (1000 for
 * video -> IMU), limited 100 on a LimitTrainSet of 500 windows drawn from `limited`, scratch
 * 500 on the same LimitTrainSet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "nn_io.h"
#include "proc.h"

typedef struct {
  const char *data, *out, *teacher, *student, *modality, *input;
  int epochs, labels, overwrite;
  uint64_t seed;
  proc_config cfg;
} args;


/* "test accuracy 91.23%", or why there is none: a dataset may have an empty test split (a
 * small corpus), and "nan%" reads like a broken model. */
static const char *test_accuracy(char *buf, size_t cap, nn_model *m, const proc_set *test) {
  if (test->n == 0)
    snprintf(buf, cap, "no test windows to measure accuracy on");
  else
    snprintf(buf, cap, "test accuracy %.2f%%", 100 * proc_accuracy(m, test));
  return buf;
}

static int parse(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  a->cfg = proc_config_study();
  a->labels = -1;
  long seed = 1;
  double lr = a->cfg.lr;
  const int count_max = 100000000; /* the largest count (epochs, batch, ...) and seed taken */
  const cm_opt opts[] = {
      CM_OPT_FLAG("overwrite", 0, &a->overwrite),
      CM_OPT_STRING("data", 0, &a->data),
      CM_OPT_STRING("out", 0, &a->out),
      CM_OPT_STRING("teacher", 0, &a->teacher),
      CM_OPT_STRING("student", 0, &a->student),
      CM_OPT_STRING("modality", 0, &a->modality),
      CM_OPT_STRING("input", 0, &a->input),
      CM_OPT_INT_IN("epochs", 0, &a->epochs, 0, count_max),
      CM_OPT_LONG_IN("seed", 0, &seed, 0, count_max),
      CM_OPT_INT_IN("labels", 0, &a->labels, 0, count_max),
      CM_OPT_INT_IN("batch", 0, &a->cfg.batch, 0, count_max),
      CM_OPT_INT_IN("patience", 0, &a->cfg.patience, 0, count_max),
      CM_OPT_DOUBLE_RANGE("lr", 0, &lr, CM_OPT_MIN | CM_OPT_MIN_OPEN, 0, 0),
      CM_OPT_DOUBLE_RANGE("val-fraction", 0, &a->cfg.val_fraction, CM_OPT_MIN | CM_OPT_MAX | CM_OPT_MAX_OPEN, 0, 1),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("train", 1, "%s", cm_error());
  a->seed = (uint64_t)seed;
  a->cfg.lr = (float)lr;
  if (!a->data) return cmact_help_exit("train", 1, "--data is required");
  if (a->cfg.batch < 1) return cmact_help_exit("train", 1, "--batch must be at least 1");
  if (a->labels == 0) return cmact_help_exit("train", 1, "--labels must be at least 1");
  if (a->labels > 0) a->cfg.limit_n = a->labels;
  return 0;
}

static int check_out(const args *a, int required) {
  if (!a->out) return required ? cmact_help_exit("train", 1, "--out is required") : 0;
  if (!a->overwrite && access(a->out, F_OK) == 0)
    return cm_fail(CM_EXIT_FAIL, "train", "%s: already exists (use --overwrite)", a->out);
  return 0;
}

/* A model file's model, its modality and classes. */
/* The procedures hand models on by role: a teacher is a whole classifier (DENSE_1, then its
 * output layer), a transferred student ends at DENSE_1. A model given in the wrong role would
 * fail deep inside a graft with a message about a layer, or worse train on, so the role is
 * checked where the file is loaded. */
static nn_model *load_model(const char *path, const char *role, nn_modality *mod, char names[][24], int *n) {
  char arch[64];
  nn_model *m = nn_model_load(path, arch, sizeof arch, names, CM_MAX_CLASSES, n);
  if (!m) return NULL;
  if (nn_modality_of(arch, mod) < 0) {
    cm_prefix_error("%s", path);
    nn_model_free(m);
    return NULL;
  }
  int k = nn_find_layer(m, "DENSE_1");
  if (!strcmp(role, "teacher") && (k < 0 || k == m->n_layers - 1)) {
    cm_set_error("%s: not a teacher: its %s network has no output layer after DENSE_1 (give a model "
                 "written by `cmact train teacher` or `train fit`)", path, arch);
  } else if (!strcmp(role, "student") && (k < 0 || k != m->n_layers - 1)) {
    cm_set_error("%s: not a transferred student: its %s network does not end at DENSE_1 (give a model "
                 "written by `cmact train transfer`)", path, arch);
  } else {
    return m;
  }
  nn_model_free(m);
  return NULL;
}

static int save(const args *a, const nn_model *m, const char *arch, const char *procedure,
                const cm_dataset_desc *desc, const proc_fit_result *r, const char *extra_k,
                const char *extra_v) {
  const char *names[CM_MAX_CLASSES];
  for (int i = 0; i < desc->n_classes; i++) names[i] = desc->class_names[i];
  char best[32];
  snprintf(best, sizeof best, "%d", r ? r->best_epoch : 0);
  const char *keys[] = {"data", "best_epoch", "selection", extra_k};
  const char *vals[] = {a->data, best, "lowest validation loss (validation carved from the training data)", extra_v};
  nn_save_info info = {.architecture = arch, .class_names = names, .n_classes = desc->n_classes,
                       .procedure = procedure, .seed = a->seed, .history_columns = r ? "epoch,loss,val_loss,val_acc,monitor_acc" : NULL,
                       .history = r ? r->curve : NULL, .history_rows = r ? r->epochs_run : 0,
                       .history_cols = PROC_CURVE_COLS, .attr_keys = keys, .attr_values = vals,
                       .n_attrs = extra_k ? 4 : 3};
  return nn_model_save(m, a->out, &info, 1);
}

/* Load split `split` of modality mod at the model's input shape. */
static int load_split(cm_dataset *d, const char *split, nn_modality mod, const nn_model *m, proc_set *s) {
  return proc_set_load(d, split, mod, m ? m->in_shape : NULL, m ? m->in_ndim : 0, s);
}

static int run(const char *action, args *a) {
  cm_dataset *d = cm_dataset_open(a->data);
  if (!d) return cm_fail_error("train");
  const cm_dataset_desc desc = *cm_dataset_get_desc(d);
  const int C = desc.n_classes;
  nn_model *teacher = NULL, *student = NULL, *result = NULL;
  proc_set train = {0}, other = {0}, test = {0}, limited = {0};
  proc_fit_result r = {0};
  int rc = CM_EXIT_FAIL, have_r = 0;
  nn_modality tm = NN_MOD_IMU, sm = NN_MOD_IMU;
  char names[CM_MAX_CLASSES][24], arch[80], acc[64];
  int n;
  if (!strcmp(action, "teacher") || !strcmp(action, "scratch")) {
    if (!a->modality) {
      rc = cmact_help_exit("train", 1, "--modality is required");
      goto done;
    }
    if (proc_modality_parse(a->modality, &sm) < 0) {
      rc = cm_fail(CM_EXIT_USAGE, "train", "--modality: %s", cm_error());
      goto done;
    }
    int shape[4], nd;
    if (proc_input_shape(d, sm, a->input, shape, &nd) < 0) goto fail;
    if (!strcmp(action, "teacher")) {
      if (a->epochs) a->cfg.teacher_epochs = a->epochs;
      if (proc_set_load(d, "pretrain", sm, shape, nd, &train) < 0) goto fail;
      if (!(result = proc_teacher(&train, C, &a->cfg, a->seed, &r))) goto fail;
    } else {
      if (a->epochs) a->cfg.scratch_epochs = a->epochs;
      if (proc_set_load(d, "limited", sm, shape, nd, &other) < 0) goto fail;
      proc_set_draw(&other, a->cfg.limit_n, a->seed, &train);
      if (!(result = proc_scratch(sm, &train, C, &a->cfg, a->seed, NULL, &r))) goto fail;
    }
    have_r = 1;
    if (proc_set_load(d, "test", sm, shape, nd, &test) < 0) goto fail;
    snprintf(arch, sizeof arch, "%s", proc_arch_of(sm));
    printf("%s %s: %lld training windows, best epoch %d of %d (validation loss %.4f), %.1f s; "
           "%s\n", action, proc_modality_name(sm), (long long)train.n, r.best_epoch,
           r.epochs_run, r.best_val_loss, r.seconds, test_accuracy(acc, sizeof acc, result, &test));
    if (save(a, result, arch, action, &desc, &r, NULL, NULL) < 0) goto fail;
  } else if (!strcmp(action, "transfer") || !strcmp(action, "pure")) {
    if (!a->teacher) {
      rc = cmact_help_exit("train", 1, "--teacher is required");
      goto done;
    }
    if (!a->student) {
      rc = cmact_help_exit("train", 1, "--student is required");
      goto done;
    }
    if (!(teacher = load_model(a->teacher, "teacher", &tm, names, &n))) goto fail;
    if (!strcmp(action, "transfer")) {
      if (proc_modality_parse(a->student, &sm) < 0) {
        rc = cm_fail(CM_EXIT_USAGE, "train", "--student: %s", cm_error());
        goto done;
      }
      a->cfg.transfer_epochs = a->epochs ? a->epochs : (tm == NN_MOD_VIDEO && sm == NN_MOD_IMU ? 1000 : 500);
      int shape[4], nd;
      if (proc_input_shape(d, sm, a->input, shape, &nd) < 0) goto fail;
      if (load_split(d, "transfer", tm, teacher, &other) < 0 ||
          proc_set_load(d, "transfer", sm, shape, nd, &train) < 0)
        goto fail;
      if (!(student = proc_transfer(teacher, &other, &train, C, &a->cfg, a->seed, &r))) goto fail;
      have_r = 1;
      printf("transfer %s -> %s: %lld windows, best epoch %d of %d (validation MSE %.5f), %.1f s\n",
             proc_modality_name(tm), proc_modality_name(sm), (long long)train.n, r.best_epoch,
             r.epochs_run, r.best_val_loss, r.seconds);
      snprintf(arch, sizeof arch, "%s_transfer", proc_arch_of(sm));
      if (save(a, student, arch, "transfer", &desc, &r, "teacher", a->teacher) < 0) goto fail;
    } else {
      if (!(student = load_model(a->student, "student", &sm, names, &n))) goto fail;
    }
    if (!(result = proc_pure(student, teacher))) goto fail;
    if (load_split(d, "test", sm, student, &test) < 0) goto fail;
    printf("PureTransfer %s -> %s: %s (the teacher's own output layer, no labels)\n",
           proc_modality_name(tm), proc_modality_name(sm), test_accuracy(acc, sizeof acc, result, &test));
    if (!strcmp(action, "pure") && a->out) {
      snprintf(arch, sizeof arch, "%s_pure", proc_arch_of(sm));
      if (save(a, result, arch, "pure", &desc, NULL, "teacher", a->teacher) < 0) goto fail;
    }
  } else { /* limited */
    if (!a->student) {
      rc = cmact_help_exit("train", 1, "--student is required");
      goto done;
    }
    if (a->epochs) a->cfg.limited_epochs = a->epochs;
    if (!(student = load_model(a->student, "student", &sm, names, &n))) goto fail;
    if (load_split(d, "limited", sm, student, &limited) < 0 || load_split(d, "test", sm, student, &test) < 0)
      goto fail;
    proc_set_draw(&limited, a->cfg.limit_n, a->seed, &train);
    if (!(result = proc_limited(student, &train, C, &a->cfg, a->seed, NULL, &r))) goto fail;
    have_r = 1;
    printf("Transfer+LimitedTrain %s: %lld labelled windows, best epoch %d of %d, %.1f s; %s\n",
           proc_modality_name(sm), (long long)train.n, r.best_epoch, r.epochs_run, r.seconds,
           test_accuracy(acc, sizeof acc, result, &test));
    snprintf(arch, sizeof arch, "%s_limited", proc_arch_of(sm));
    if (save(a, result, arch, "limited", &desc, &r, "student", a->student) < 0) goto fail;
  }
  if (a->out) printf("wrote %s\n", a->out);
  rc = CM_EXIT_OK;
  goto done;
fail:
  rc = cm_fail_error("train");
done:
  if (have_r) proc_fit_result_free(&r);
  nn_model_free(teacher);
  nn_model_free(student);
  nn_model_free(result);
  proc_set_free(&train);
  proc_set_free(&other);
  proc_set_free(&test);
  proc_set_free(&limited);
  cm_dataset_close_reader(d);
  return rc;
}

int proc_cmd_is_action(const char *action) {
  return !strcmp(action, "teacher") || !strcmp(action, "transfer") || !strcmp(action, "pure") ||
         !strcmp(action, "limited") || !strcmp(action, "scratch");
}

int proc_cmd_train(int argc, char **argv) {
  args a;
  int rc = parse(argc, argv, &a);
  if (rc) return rc;
  const char *action = argv[0];
  rc = check_out(&a, strcmp(action, "pure") != 0);
  if (rc) return rc;
  return run(action, &a);
}
