/*
 * `cmact train`: the training engine's plain entries.
 *   train fit   train one of the study's models on a split of a dataset file, with a
 *               validation part carved from that split, early stopping, checkpoints and
 *               resume; writes a model file.
 *   train show  print a model's layers and parameter counts (an architecture or a model file).
 *   train fusion  the supervised audio+IMU fusion model (cmd_train_fusion.c).
 * The transfer procedures and experiments build on the same engine in their own commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_dataset.h"
#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "nn_arch.h"
#include "nn_data.h"
#include "nn_fit.h"
#include "nn_io.h"
#include "proc.h"
#include "proc_fusion.h"

/* The largest count (epochs, batch, ...) and seed the command line takes. */
#define COUNT_MAX 100000000

/* Build `arch` for the dataset at `data` (its classes and window shape; video at `input`). */
static nn_model *model_for_dataset(const char *arch, const char *data, const char *input,
                                   uint64_t seed, char names[][CM_CLASS_NAME_LEN], int *n_classes) {
  nn_modality mod;
  if (nn_modality_of(arch, &mod) < 0) return NULL;
  cm_dataset *d = cm_dataset_open(data);
  if (!d) return NULL;
  const cm_dataset_desc *desc = cm_dataset_get_desc(d);
  *n_classes = desc->n_classes;
  memcpy(names, desc->class_names, sizeof desc->class_names);
  int shape[4], nd;
  nn_loader_native_shape(d, mod, shape, &nd);
  cm_dataset_close_reader(d);
  if (input) {
    if (mod != NN_MOD_VIDEO) {
      cm_set_error("--input applies to video_c3d only");
      return NULL;
    }
    nn_video_cfg cfg = nn_video_default();
    if (nn_video_parse_input(&cfg, input) < 0) return NULL;
    shape[0] = cfg.frames, shape[1] = shape[2] = cfg.side, shape[3] = cfg.channels;
  }
  return nn_arch_build(arch, shape, nd, *n_classes, seed);
}

static int train_fit(int argc, char **argv) {
  const char *arch = NULL, *out = NULL, *input = NULL;
  nn_fit_opts o = {.split = "pretrain", .epochs = 0, .batch = 128, .lr = 1e-3f, .seed = 1,
                   .val_fraction = 0.1, .checkpoint_every = 1, .threads = 1};
  int overwrite = 0;
  long seed = 1;
  double lr = 1e-3;
  const cm_opt opts[] = {
      CM_OPT_FLAG("resume", 0, &o.resume),
      CM_OPT_FLAG("overwrite", 0, &overwrite),
      CM_OPT_STRING("model", 0, &arch),
      CM_OPT_STRING("data", 0, &o.data),
      CM_OPT_STRING("split", 0, &o.split),
      CM_OPT_STRING("out", 0, &out),
      CM_OPT_STRING("input", 0, &input),
      CM_OPT_STRING("checkpoint", 0, &o.checkpoint),
      CM_OPT_INT_IN("epochs", 0, &o.epochs, 0, COUNT_MAX),
      CM_OPT_INT_IN("batch", 0, &o.batch, 0, COUNT_MAX),
      CM_OPT_INT_IN("patience", 0, &o.patience, 0, COUNT_MAX),
      CM_OPT_INT_IN("checkpoint-every", 0, &o.checkpoint_every, 0, COUNT_MAX),
      CM_OPT_INT_IN("threads", 0, &o.threads, 0, COUNT_MAX),
      CM_OPT_LONG_IN("seed", 0, &seed, 0, COUNT_MAX),
      CM_OPT_DOUBLE_RANGE("lr", 0, &lr, CM_OPT_MIN | CM_OPT_MIN_OPEN, 0, 0),
      CM_OPT_DOUBLE_RANGE("val-fraction", 0, &o.val_fraction, CM_OPT_MIN | CM_OPT_MAX | CM_OPT_MAX_OPEN, 0, 1),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("train", 1, "%s", cm_error());
  o.seed = (uint64_t)seed;
  o.lr = (float)lr;
  if (!arch) return cmact_help_exit("train", 1, "--model is required");
  if (!o.data) return cmact_help_exit("train", 1, "--data is required");
  if (!out) return cmact_help_exit("train", 1, "--out is required");
  if (o.epochs < 1) return cmact_help_exit("train", 1, "--epochs must be at least 1");
  if (o.batch < 1) return cmact_help_exit("train", 1, "--batch must be at least 1");
  if (o.threads < 1) return cmact_help_exit("train", 1, "--threads must be at least 1");
  if (o.resume && !o.checkpoint) return cmact_help_exit("train", 1, "--resume needs --checkpoint");
  if (strcmp(arch, "imu_cnn") && strcmp(arch, "audio_mlp") && strcmp(arch, "video_c3d"))
    return cmact_help_exit("train", 1, "--model '%s': expected imu_cnn, audio_mlp or video_c3d", arch);
  if (!overwrite && access(out, F_OK) == 0)
    return cm_fail(CM_EXIT_FAIL, "train", "%s: already exists (use --overwrite)", out);

  char names[CM_MAX_CLASSES][CM_CLASS_NAME_LEN];
  int n_classes;
  nn_model *m = model_for_dataset(arch, o.data, input, o.seed, names, &n_classes);
  if (!m) return cm_fail_error("train");
  nn_model_print(m, stdout);
  o.log = stdout;
  nn_fit_result r;
  if (nn_fit(m, arch, &o, &r) < 0) {
    nn_model_free(m);
    return cm_fail_error("train");
  }
  const char *class_ptrs[CM_MAX_CLASSES];
  for (int i = 0; i < n_classes; i++) class_ptrs[i] = names[i];
  char epochs[32], best[32], val[32];
  snprintf(epochs, sizeof epochs, "%d", r.history_rows);
  snprintf(best, sizeof best, "%d", r.best_epoch);
  snprintf(val, sizeof val, "%g", o.val_fraction);
  const char *keys[] = {"data", "split", "epochs", "best_epoch", "val_fraction"};
  const char *vals[] = {o.data, o.split, epochs, best, val};
  nn_save_info info = {.architecture = arch, .class_names = class_ptrs, .n_classes = n_classes,
                       .procedure = "fit", .seed = o.seed, .history_columns = NN_HISTORY_COLUMNS,
                       .history = r.history, .history_rows = r.history_rows, .history_cols = 5,
                       .attr_keys = keys, .attr_values = vals, .n_attrs = 5};
  int rc = nn_model_save(m, out, &info, 1);
  if (rc == 0)
    printf("wrote %s: %d epochs (best %d%s), %.1f s\n", out, r.history_rows, r.best_epoch,
           r.stopped_early ? ", stopped early" : "", r.seconds);
  free(r.history);
  nn_model_free(m);
  return rc == 0 ? CM_EXIT_OK : cm_fail_error("train");
}

static int train_show(int argc, char **argv) {
  const char *arch = NULL, *input = NULL, *file = NULL;
  const cm_opt opts[] = {
      CM_OPT_STRING("model", 0, &arch),
      CM_OPT_STRING("input", 0, &input),
      CM_OPT_STRING("file", 0, &file),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("train", 1, "%s", cm_error());
  nn_model *m;
  if (file) {
    char a[64];
    nn_fusion *fu = nn_fusion_load(file, NULL, 0, NULL);
    if (fu) {
      printf("architecture: %s\n", NN_FUSION_ARCH);
      nn_fusion_print(fu, stdout);
      nn_fusion_free(fu);
      return CM_EXIT_OK;
    }
    m = nn_model_load(file, a, sizeof a, NULL, 0, NULL);
    if (!m) return cm_fail_error("train");
    printf("architecture: %s\n", a);
  } else if (arch) {
    if (input) {
      if (strcmp(arch, "video_c3d") != 0) return cmact_help_exit("train", 1, "--input applies to video_c3d only");
      nn_video_cfg cfg = nn_video_default();
      if (nn_video_parse_input(&cfg, input) < 0) return cmact_help_exit("train", 1, "%s", cm_error());
      m = nn_arch_video_c3d(&cfg, 7, 1);
    } else {
      m = nn_arch_build(arch, NULL, 0, 7, 1);
    }
    if (!m) return cm_fail(CM_EXIT_USAGE, "train", "--model: %s", cm_error());
  } else {
    return cmact_help_exit("train", 1, "--model or --file is required");
  }
  nn_model_print(m, stdout);
  nn_model_free(m);
  return CM_EXIT_OK;
}

int cmd_train(int argc, char **argv) {
  if (argc < 2) return cmact_help_exit("train", 1, "which action? (fit, show, fusion, teacher, transfer, pure, limited, scratch)");
  if (argv[1][0] == '-')
    return cmact_help_exit("train", 1, "unknown option '%s' (the action comes first: fit, show, fusion, teacher, transfer, pure, limited or scratch)", argv[1]);
  if (strcmp(argv[1], "fit") == 0) return train_fit(argc - 1, argv + 1);
  if (strcmp(argv[1], "show") == 0) return train_show(argc - 1, argv + 1);
  if (strcmp(argv[1], "fusion") == 0) return proc_cmd_train_fusion(argc - 1, argv + 1); /* cmd_train_fusion.c */
  if (proc_cmd_is_action(argv[1])) return proc_cmd_train(argc - 1, argv + 1); /* proc_cmd.c */
  return cmact_help_exit("train", 1, "unknown action '%s' (expected fit, show, fusion, teacher, transfer, pure, limited or scratch)", argv[1]);
}
