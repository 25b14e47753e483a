/*
 * The procedures' training loop, on sets in memory (see proc.h): Adam over seeded batches,
 * a validation part carved from the training data by the seed, the weights of the lowest
 * validation loss kept. One loop serves classification (softmax cross-entropy on labels) and
 * regression (MSE on target rows): only the loss differs.
 *
 * Batch order and the validation carve are pure functions of (seed, epoch), as in nn_fit, so a
 * run gives the same bits whatever else runs beside it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "nn_optim.h"
#include "nn_rng.h"
#include "nn_shuffle.h"
#include "proc.h"

enum { TAG_VAL = 0x56414c, TAG_ORDER = 0x4f5244 };

typedef struct {
  const proc_set *set;
  const float *targets;  /* NULL: classification */
  size_t tdim;
  float *xb, *tb, *dl;
  int32_t *yb;
  int B;
} batcher;

static void gather(batcher *b, const int64_t *rows, int n) {
  const proc_set *s = b->set;
  for (int i = 0; i < n; i++) {
    memcpy(b->xb + (size_t)i * s->dim, s->x + (size_t)rows[i] * s->dim, sizeof(float) * s->dim);
    if (b->targets)
      memcpy(b->tb + (size_t)i * b->tdim, b->targets + (size_t)rows[i] * b->tdim, sizeof(float) * b->tdim);
    else
      b->yb[i] = s->y[rows[i]];
  }
}

/* One pass over rows; training or evaluation. Mean loss into *loss, accuracy into *acc. */
static int pass(nn_model *m, batcher *b, const int64_t *rows, int64_t n, int training,
                const nn_optimizer *opt, double *loss, double *acc) {
  const int C = (int)nn_output_size(m);
  double sum = 0;
  long right = 0;
  if (n == 0) {
    *loss = *acc = NAN;
    return 0;
  }
  for (int64_t first = 0; first < n; first += b->B) {
    int cnt = (int)(n - first < b->B ? n - first : b->B);
    gather(b, rows + first, cnt);
    float *z = nn_forward(m, b->xb, cnt, training);
    double l;
    if (b->targets) {
      l = nn_mse(z, b->tb, cnt, C, training ? b->dl : NULL);
    } else {
      int correct;
      l = nn_softmax_xent(z, b->yb, cnt, C, training ? b->dl : NULL, &correct);
      right += correct;
    }
    if (!isfinite(l)) return cm_set_error("loss is not finite (learning rate too high?)");
    sum += l * cnt;
    if (training) {
      nn_backward(m, b->dl, NULL);
      nn_optim_step(opt, m);
    }
  }
  *loss = sum / (double)n;
  *acc = b->targets ? NAN : (double)right / (double)n;
  return 0;
}

int proc_fit_loop(const proc_trainee *t, int64_t N, const proc_fit_opts *o, proc_fit_result *r) {
  memset(r, 0, sizeof *r);
  int64_t t0 = cm_monotonic_ns();
  int64_t *rows = cm_xmalloc(sizeof(int64_t) * (size_t)N);
  for (int64_t i = 0; i < N; i++) rows[i] = i;
  nn_shuffle_rows(rows, (size_t)N, nn_key(o->seed, t->tag_val, 0, 0));
  int64_t n_val = (int64_t)llround(o->val_fraction * (double)N);
  if (o->val_fraction > 0 && n_val < 1) n_val = 1;
  if (n_val >= N) n_val = N - 1;
  int64_t *val = rows, *train = rows + n_val;
  const int64_t n_train = N - n_val;
  float *best = cm_xmalloc(sizeof(float) * t->n_params);
  t->get_params(t->ctx, best);
  r->curve = cm_xcalloc((size_t)o->epochs * PROC_CURVE_COLS, sizeof(double));
  r->best_val_loss = INFINITY;
  nn_optimizer opt = nn_adam(o->lr);
  int bad = 0, rc = 0;
  for (int e = 0; e < o->epochs; e++) {
    nn_shuffle_rows(train, (size_t)n_train, nn_key(o->seed, t->tag_order, (uint64_t)e, 0));
    double loss, acc, vloss = NAN, vacc = NAN;
    if ((rc = t->pass(t->ctx, train, n_train, 1, &opt, &loss, &acc)) < 0) break;
    if (n_val > 0 && (rc = t->pass(t->ctx, val, n_val, 0, NULL, &vloss, &vacc)) < 0) break;
    double *c = r->curve + (size_t)e * PROC_CURVE_COLS;
    c[0] = e + 1, c[1] = loss, c[2] = vloss, c[3] = vacc, c[4] = t->monitor ? t->monitor(t->ctx) : NAN;
    r->epochs_run = e + 1;
    double crit = n_val > 0 ? vloss : -(double)e; /* no validation: the last epoch */
    if (crit < r->best_val_loss) {
      r->best_val_loss = crit;
      r->best_epoch = e + 1;
      bad = 0;
      t->get_params(t->ctx, best);
    } else if (o->patience > 0 && ++bad >= o->patience) {
      break;
    }
  }
  if (n_val == 0) r->best_val_loss = NAN;
  if (rc == 0) t->set_params(t->ctx, best);
  free(rows);
  free(best);
  r->seconds = (double)(cm_monotonic_ns() - t0) * 1e-9;
  if (rc < 0) proc_fit_result_free(r);
  return rc;
}

/* proc_trainee callbacks for one nn_model */
typedef struct {
  nn_model *m;
  batcher *b;
  const proc_set *monitor; /* NULL: none */
} model_ctx;

static int model_pass(void *ctx, const int64_t *rows, int64_t n, int training, const nn_optimizer *opt,
                      double *loss, double *acc) {
  model_ctx *c = ctx;
  return pass(c->m, c->b, rows, n, training, opt, loss, acc);
}
static void model_get(void *ctx, float *out) {
  const nn_model *m = ((model_ctx *)ctx)->m;
  memcpy(out, m->params, sizeof(float) * m->n_params);
}
static void model_set(void *ctx, const float *in) {
  nn_model *m = ((model_ctx *)ctx)->m;
  memcpy(m->params, in, sizeof(float) * m->n_params);
}
static double model_monitor(void *ctx) {
  model_ctx *c = ctx;
  return proc_accuracy(c->m, c->monitor);
}

static int fit(nn_model *m, const proc_set *set, const float *targets, size_t tdim,
               const proc_fit_opts *o, proc_fit_result *r) {
  memset(r, 0, sizeof *r);
  if (o->epochs < 1 || o->batch < 1) return cm_set_error("epochs and batch must be positive");
  if (set->n < 2) return cm_set_error("%lld windows are too few to train on", (long long)set->n);
  if (set->dim != m->in_size)
    return cm_set_error("the data has %zu values per window, the model takes %zu", set->dim, m->in_size);
  const size_t C = nn_output_size(m);
  if (targets && tdim != C) return cm_set_error("targets are %zu wide, the model gives %zu", tdim, C);
  batcher b = {set, targets, tdim, NULL, NULL, NULL, NULL, o->batch};
  b.xb = cm_xmalloc(sizeof(float) * set->dim * o->batch);
  b.tb = cm_xmalloc(sizeof(float) * (tdim ? tdim : 1) * o->batch);
  b.dl = cm_xmalloc(sizeof(float) * C * o->batch);
  b.yb = cm_xmalloc(sizeof(int32_t) * o->batch);
  model_ctx ctx = {m, &b, o->monitor && !targets ? o->monitor : NULL};
  proc_trainee t = {&ctx, model_pass, m->n_params, model_get, model_set, ctx.monitor ? model_monitor : NULL,
                    TAG_VAL, TAG_ORDER};
  int rc = proc_fit_loop(&t, set->n, o, r);
  free(b.xb);
  free(b.tb);
  free(b.dl);
  free(b.yb);
  return rc;
}

int proc_fit_classifier(nn_model *m, const proc_set *set, const proc_fit_opts *o, proc_fit_result *r) {
  return fit(m, set, NULL, 0, o, r);
}

int proc_fit_regress(nn_model *m, const proc_set *set, const float *targets, size_t tdim,
                     const proc_fit_opts *o, proc_fit_result *r) {
  return fit(m, set, targets, tdim, o, r);
}

#define EVAL_BATCH 256

float *proc_predict(nn_model *m, const proc_set *s) {
  const size_t C = nn_output_size(m);
  float *out = cm_xmalloc(sizeof(float) * C * (size_t)(s->n ? s->n : 1));
  for (int64_t first = 0; first < s->n; first += EVAL_BATCH) {
    int cnt = (int)(s->n - first < EVAL_BATCH ? s->n - first : EVAL_BATCH);
    /* passed as they are: only a leading ReLU writes its input, in place, and ReLU twice is ReLU */
    float *z = nn_forward(m, s->x + (size_t)first * s->dim, cnt, 0);
    memcpy(out + (size_t)first * C, z, sizeof(float) * C * cnt);
  }
  return out;
}

double proc_accuracy(nn_model *m, const proc_set *s) {
  if (s->n == 0) return NAN;
  const size_t C = nn_output_size(m);
  long right = 0;
  for (int64_t first = 0; first < s->n; first += EVAL_BATCH) {
    int cnt = (int)(s->n - first < EVAL_BATCH ? s->n - first : EVAL_BATCH);
    float *z = nn_forward(m, s->x + (size_t)first * s->dim, cnt, 0);
    for (int i = 0; i < cnt; i++) {
      const float *row = z + (size_t)i * C;
      size_t arg = 0;
      for (size_t c = 1; c < C; c++)
        if (row[c] > row[arg]) arg = c;
      right += (int32_t)arg == s->y[first + i];
    }
  }
  return (double)right / (double)s->n;
}

void proc_fit_result_free(proc_fit_result *r) {
  free(r->curve);
  r->curve = NULL;
}
