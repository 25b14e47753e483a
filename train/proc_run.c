/*
 * The RecycleML procedures (see proc.h for what each one is). Each takes its data in memory
 * and a seed and returns a new model; the caller evaluates it and frees it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "nn_arch.h"
#include "proc.h"

/* Seeds of a run's parts, so that e.g. the scratch model of run r never shares initial
 * weights with the student of run r. */
enum { SEED_TEACHER = 1, SEED_STUDENT = 2, SEED_HEAD = 3, SEED_SCRATCH = 4, SEED_DRAW = 5 };

static uint64_t part_seed(uint64_t seed, int part) { return seed * 16 + (uint64_t)part; }

proc_config proc_config_study(void) {
  proc_config c = {.teacher_epochs = 100, .transfer_epochs = 500, .limited_epochs = 100,
                   .scratch_epochs = 500, .batch = 128, .lr = 1e-3f, .val_fraction = 0.1,
                   .patience = 0, .limit_n = 500};
  nn_video_cfg v = nn_video_default();
  memcpy(c.video_conv, v.conv, sizeof c.video_conv);
  c.video_fc = v.fc;
  return c;
}

static proc_fit_opts opts(const proc_config *c, int epochs, uint64_t seed, const proc_set *monitor) {
  proc_fit_opts o = {.epochs = epochs, .batch = c->batch, .lr = c->lr, .seed = seed,
                     .val_fraction = c->val_fraction, .patience = c->patience, .monitor = monitor};
  return o;
}

static nn_model *build(nn_modality mod, const proc_set *s, int n_classes, const proc_config *c,
                       uint64_t seed) {
  if (mod == NN_MOD_VIDEO) {
    if (s->ndim != 4 || s->shape[1] != s->shape[2])
      return cm_set_error("video input must be FxSxSxC"), NULL;
    nn_video_cfg v = nn_video_default();
    v.frames = s->shape[0], v.side = s->shape[1], v.channels = s->shape[3];
    if (c->video_fc > 0) {
      memcpy(v.conv, c->video_conv, sizeof v.conv);
      v.fc = c->video_fc;
    }
    return nn_arch_video_c3d(&v, n_classes, seed);
  }
  return nn_arch_build(proc_arch_of(mod), s->shape, s->ndim, n_classes, seed);
}

nn_model *proc_teacher(const proc_set *pretrain, int n_classes, const proc_config *c, uint64_t seed,
                       proc_fit_result *r) {
  nn_model *m = build(pretrain->mod, pretrain, n_classes, c, part_seed(seed, SEED_TEACHER));
  if (!m) return NULL;
  proc_fit_opts o = opts(c, c->teacher_epochs, part_seed(seed, SEED_TEACHER), NULL);
  if (proc_fit_classifier(m, pretrain, &o, r) < 0) {
    nn_model_free(m);
    return NULL;
  }
  return m;
}

nn_model *proc_transfer(nn_model *teacher, const proc_set *teacher_in, const proc_set *student_in,
                        int n_classes, const proc_config *c, uint64_t seed, proc_fit_result *r) {
  if (teacher_in->n != student_in->n)
    return cm_set_error("teacher and student sets differ in length (%lld, %lld)",
                        (long long)teacher_in->n, (long long)student_in->n), NULL;
  nn_model *f = nn_model_cut(teacher, "DENSE_1");
  if (!f) return NULL;
  float *targets = proc_predict(f, teacher_in);
  size_t tdim = nn_output_size(f);
  nn_model_free(f);
  nn_model *full = build(student_in->mod, student_in, n_classes, c, part_seed(seed, SEED_STUDENT));
  nn_model *g = full ? nn_model_cut(full, "DENSE_1") : NULL;
  nn_model_free(full);
  if (g) {
    proc_fit_opts o = opts(c, c->transfer_epochs, part_seed(seed, SEED_STUDENT), NULL);
    if (proc_fit_regress(g, student_in, targets, tdim, &o, r) < 0) {
      nn_model_free(g);
      g = NULL;
    }
  }
  free(targets);
  return g;
}

nn_model *proc_pure(const nn_model *g, const nn_model *teacher) {
  nn_model *p = nn_model_clone(g);
  if (p && nn_model_graft(p, teacher, "DENSE_1") < 0) {
    nn_model_free(p);
    return NULL;
  }
  return p;
}

nn_model *proc_limited(const nn_model *g, const proc_set *labelled, int n_classes,
                       const proc_config *c, uint64_t seed, const proc_set *monitor,
                       proc_fit_result *r) {
  nn_model *lower = nn_model_clone(g);
  if (!lower) return NULL;
  nn_freeze_through(lower, NULL, 1);
  /* g is frozen: its outputs are computed once and the head trains on them */
  proc_set feat = *labelled, mon = {0};
  const size_t D = nn_output_size(lower);
  feat.x = proc_predict(lower, labelled);
  feat.dim = D, feat.ndim = 1, feat.shape[0] = (int)D;
  if (monitor) {
    mon = *monitor;
    mon.x = proc_predict(lower, monitor);
    mon.dim = D, mon.ndim = 1, mon.shape[0] = (int)D;
  }
  int shape[1] = {(int)D};
  nn_model *head = nn_model_new(shape, 1, part_seed(seed, SEED_HEAD));
  nn_model *out = NULL;
  if (head && nn_add_relu(head, "DENSE_1_relu") == 0 && nn_add_dense(head, "output", n_classes) == 0) {
    proc_fit_opts o = opts(c, c->limited_epochs, part_seed(seed, SEED_HEAD), monitor ? &mon : NULL);
    if (proc_fit_classifier(head, &feat, &o, r) == 0 && nn_model_graft(lower, head, NULL) == 0) {
      out = lower;
      lower = NULL;
    }
  }
  free(feat.x);
  free(mon.x);
  nn_model_free(head);
  nn_model_free(lower);
  return out;
}

nn_model *proc_scratch(nn_modality mod, const proc_set *labelled, int n_classes, const proc_config *c,
                       uint64_t seed, const proc_set *monitor, proc_fit_result *r) {
  nn_model *m = build(mod, labelled, n_classes, c, part_seed(seed, SEED_SCRATCH));
  if (!m) return NULL;
  proc_fit_opts o = opts(c, c->scratch_epochs, part_seed(seed, SEED_SCRATCH), monitor);
  if (proc_fit_classifier(m, labelled, &o, r) < 0) {
    nn_model_free(m);
    return NULL;
  }
  return m;
}
