/*
 * The fusion model's training loop (see proc_fusion.h): proc_fit.c's loop with two inputs.
 * Batch order and the validation carve are pure functions of (seed, epoch), as there.
 */
#include "proc_fusion.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "nn_optim.h"
#include "nn_rng.h"

enum { TAG_VAL = 0x46564c, TAG_ORDER = 0x464f52 };

typedef struct {
  uint64_t key;
  int64_t row;
} keyed;

static int by_key(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

static void permute(int64_t *rows, int64_t n, uint64_t key) {
  keyed *k = cm_xmalloc(sizeof *k * (size_t)(n ? n : 1));
  for (int64_t i = 0; i < n; i++) k[i].row = rows[i], k[i].key = nn_u64(key, (uint64_t)rows[i]);
  qsort(k, (size_t)n, sizeof *k, by_key);
  for (int64_t i = 0; i < n; i++) rows[i] = k[i].row;
  free(k);
}

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

int proc_fit_fusion(nn_fusion *f, const proc_set *imu, const proc_set *audio, const proc_fit_opts *o,
                    proc_fit_result *r) {
  memset(r, 0, sizeof *r);
  int64_t t0 = cm_monotonic_ns();
  if (o->epochs < 1 || o->batch < 1) return cm_set_error("epochs and batch must be positive");
  if (check_pairs(f, imu, audio) < 0) return -1;
  if (imu->n < 2) return cm_set_error("%lld windows are too few to train on", (long long)imu->n);
  const int64_t N = imu->n;
  const int C = nn_fusion_classes(f);
  int64_t *rows = cm_xmalloc(sizeof(int64_t) * (size_t)N);
  for (int64_t i = 0; i < N; i++) rows[i] = i;
  permute(rows, N, nn_key(o->seed, TAG_VAL, 0, 0));
  int64_t n_val = (int64_t)llround(o->val_fraction * (double)N);
  if (o->val_fraction > 0 && n_val < 1) n_val = 1;
  if (n_val >= N) n_val = N - 1;
  int64_t *val = rows, *train = rows + n_val;
  const int64_t n_train = N - n_val;
  batcher b = {imu, audio, NULL, NULL, NULL, NULL, o->batch};
  b.xi = cm_xmalloc(sizeof(float) * imu->dim * o->batch);
  b.xa = cm_xmalloc(sizeof(float) * audio->dim * o->batch);
  b.dl = cm_xmalloc(sizeof(float) * C * o->batch);
  b.y = cm_xmalloc(sizeof(int32_t) * o->batch);
  const size_t np = nn_fusion_params(f);
  float *best = cm_xmalloc(sizeof(float) * np);
  nn_fusion_get_params(f, best);
  r->curve = cm_xcalloc((size_t)o->epochs * PROC_CURVE_COLS, sizeof(double));
  r->best_val_loss = INFINITY;
  nn_optimizer opt = nn_adam(o->lr);
  int bad = 0, rc = 0;
  for (int e = 0; e < o->epochs; e++) {
    permute(train, n_train, nn_key(o->seed, TAG_ORDER, (uint64_t)e, 0));
    double loss, acc, vloss = NAN, vacc = NAN;
    if ((rc = pass(f, &b, train, n_train, 1, &opt, &loss, &acc)) < 0) break;
    if (n_val > 0 && (rc = pass(f, &b, val, n_val, 0, NULL, &vloss, &vacc)) < 0) break;
    double *c = r->curve + (size_t)e * PROC_CURVE_COLS;
    c[0] = e + 1, c[1] = loss, c[2] = vloss, c[3] = vacc, c[4] = NAN;
    r->epochs_run = e + 1;
    double crit = n_val > 0 ? vloss : -(double)e; /* no validation: the last epoch */
    if (crit < r->best_val_loss) {
      r->best_val_loss = crit;
      r->best_epoch = e + 1;
      bad = 0;
      nn_fusion_get_params(f, best);
    } else if (o->patience > 0 && ++bad >= o->patience) {
      break;
    }
  }
  if (n_val == 0) r->best_val_loss = NAN;
  if (rc == 0) nn_fusion_set_params(f, best);
  free(rows), free(b.xi), free(b.xa), free(b.dl), free(b.y), free(best);
  r->seconds = (double)(cm_monotonic_ns() - t0) * 1e-9;
  if (rc < 0) proc_fit_result_free(r);
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
