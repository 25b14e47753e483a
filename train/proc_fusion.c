/*
 * The fusion model's training (see proc_fusion.h): proc_fit_loop (proc_fit.c) with a pass that
 * feeds two inputs. Its own tags keep its batch order apart from the single-modality models'.
 */
#include "proc_fusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "nn_optim.h"

enum { TAG_VAL = 0x46564c, TAG_ORDER = 0x464f52 };

typedef struct {
  const proc_set *imu, *audio;
  float *xi, *xa, *dl;
  int32_t *y;
  int B;
} batcher;

static void gather(batcher *b, const int64_t *rows, int n) {
  const size_t di = b->imu->dim, da = b->audio->dim;
  for (int i = 0; i < n; i++) {
    memcpy(b->xi + (size_t)i * di, b->imu->x + (size_t)rows[i] * di, sizeof(float) * di);
    memcpy(b->xa + (size_t)i * da, b->audio->x + (size_t)rows[i] * da, sizeof(float) * da);
    b->y[i] = b->imu->y[rows[i]];
  }
}

static int pass(nn_fusion *f, batcher *b, const int64_t *rows, int64_t n, int training,
                const nn_optimizer *opt, double *loss, double *acc) {
  const int C = nn_fusion_classes(f);
  double sum = 0;
  long right = 0;
  if (n == 0) {
    *loss = *acc = NAN;
    return 0;
  }
  for (int64_t first = 0; first < n; first += b->B) {
    int cnt = (int)(n - first < b->B ? n - first : b->B), correct;
    gather(b, rows + first, cnt);
    float *z = nn_fusion_forward(f, b->xi, b->xa, cnt, training);
    double l = nn_softmax_xent(z, b->y, cnt, C, training ? b->dl : NULL, &correct);
    if (!isfinite(l)) return cm_set_error("loss is not finite (learning rate too high?)");
    sum += l * cnt;
    right += correct;
    if (training) {
      nn_fusion_backward(f, b->dl, NULL, NULL);
      nn_fusion_step(opt, f);
    }
  }
  *loss = sum / (double)n;
  *acc = (double)right / (double)n;
  return 0;
}

static int check_pairs(const nn_fusion *f, const proc_set *imu, const proc_set *audio) {
  if (imu->mod != NN_MOD_IMU || audio->mod != NN_MOD_AUDIO)
    return cm_set_error("fusion: expected IMU and audio windows");
  if (imu->n != audio->n)
    return cm_set_error("fusion: %lld IMU windows but %lld audio windows", (long long)imu->n, (long long)audio->n);
  if (imu->dim != f->imu->in_size || audio->dim != f->audio->in_size)
    return cm_set_error("fusion: windows of %zu IMU and %zu audio values, the model takes %zu and %zu", imu->dim,
                        audio->dim, f->imu->in_size, f->audio->in_size);
  for (int64_t i = 0; i < imu->n; i++)
    if (imu->y[i] != audio->y[i])
      return cm_set_error("fusion: window %lld has label %d for IMU but %d for audio (not the same windows)",
                          (long long)i, imu->y[i], audio->y[i]);
  return 0;
}

typedef struct {
  nn_fusion *f;
  batcher *b;
} fusion_ctx;

static int fusion_pass(void *ctx, const int64_t *rows, int64_t n, int training, const nn_optimizer *opt,
                       double *loss, double *acc) {
  fusion_ctx *c = ctx;
  return pass(c->f, c->b, rows, n, training, opt, loss, acc);
}
static void fusion_get(void *ctx, float *out) { nn_fusion_get_params(((fusion_ctx *)ctx)->f, out); }
static void fusion_set(void *ctx, const float *in) { nn_fusion_set_params(((fusion_ctx *)ctx)->f, in); }

int proc_fit_fusion(nn_fusion *f, const proc_set *imu, const proc_set *audio, const proc_fit_opts *o,
                    proc_fit_result *r) {
  memset(r, 0, sizeof *r);
  if (o->epochs < 1 || o->batch < 1) return cm_set_error("epochs and batch must be positive");
  if (check_pairs(f, imu, audio) < 0) return -1;
  if (imu->n < 2) return cm_set_error("%lld windows are too few to train on", (long long)imu->n);
  const int C = nn_fusion_classes(f);
  batcher b = {imu, audio, NULL, NULL, NULL, NULL, o->batch};
  b.xi = cm_xmalloc(sizeof(float) * imu->dim * o->batch);
  b.xa = cm_xmalloc(sizeof(float) * audio->dim * o->batch);
  b.dl = cm_xmalloc(sizeof(float) * C * o->batch);
  b.y = cm_xmalloc(sizeof(int32_t) * o->batch);
  fusion_ctx ctx = {f, &b};
  proc_trainee t = {&ctx, fusion_pass, nn_fusion_params(f), fusion_get, fusion_set, NULL, TAG_VAL, TAG_ORDER};
  int rc = proc_fit_loop(&t, imu->n, o, r);
  free(b.xi), free(b.xa), free(b.dl), free(b.y);
  return rc;
}

#define EVAL_BATCH 256

double proc_fusion_accuracy(nn_fusion *f, const proc_set *imu, const proc_set *audio) {
  if (imu->n == 0 || check_pairs(f, imu, audio) < 0) return NAN;
  const int C = nn_fusion_classes(f);
  long right = 0;
  for (int64_t first = 0; first < imu->n; first += EVAL_BATCH) {
    int cnt = (int)(imu->n - first < EVAL_BATCH ? imu->n - first : EVAL_BATCH);
    const float *z = nn_fusion_forward(f, imu->x + (size_t)first * imu->dim, audio->x + (size_t)first * audio->dim,
                                       cnt, 0);
    for (int i = 0; i < cnt; i++) {
      const float *row = z + (size_t)i * C;
      int arg = 0;
      for (int c = 1; c < C; c++)
        if (row[c] > row[arg]) arg = c;
      right += arg == imu->y[first + i];
    }
  }
  return (double)right / (double)imu->n;
}

int proc_set_concat(const proc_set *a, const proc_set *b, proc_set *o) {
  memset(o, 0, sizeof *o);
  if (a->mod != b->mod || a->dim != b->dim)
    return cm_set_error("cannot join windows of %s (%zu values) and %s (%zu values)", proc_modality_name(a->mod),
                        a->dim, proc_modality_name(b->mod), b->dim);
  const int64_t n = a->n + b->n;
  *o = *a;
  o->n = n;
  o->x = cm_xmalloc(sizeof(float) * a->dim * (size_t)(n ? n : 1));
  o->y = cm_xmalloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  o->session = cm_xmalloc(sizeof(int32_t) * (size_t)(n ? n : 1));
  o->t_start_ns = cm_xmalloc(sizeof(int64_t) * (size_t)(n ? n : 1));
  const proc_set *src[2] = {a, b};
  int64_t at = 0;
  for (int s = 0; s < 2; s++) {
    const proc_set *p = src[s];
    if (!p->n) continue;
    memcpy(o->x + (size_t)at * a->dim, p->x, sizeof(float) * a->dim * (size_t)p->n);
    memcpy(o->y + at, p->y, sizeof(int32_t) * (size_t)p->n);
    for (int64_t i = 0; i < p->n; i++) {
      o->session[at + i] = p->session ? p->session[i] : 0;
      o->t_start_ns[at + i] = p->t_start_ns ? p->t_start_ns[i] : 0;
    }
    at += p->n;
  }
  return 0;
}
