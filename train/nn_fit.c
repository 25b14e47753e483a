/* The training loop of nn_fit.h. */
#include "nn_fit.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cm_dataset.h"
#include "cm_util.h"
#include "nn_data.h"
#include "nn_io.h"
#include "nn_optim.h"
#include "nn_rng.h"
#include "nn_shuffle.h"
#include "nn_threads.h"

static int by_row(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* One pass over rows: training (forward, backward, Adam) or evaluation. Sums into *loss
 * (mean over samples) and *acc. */
static int run_epoch(nn_model *m, nn_prefetch *pf, const int64_t *rows, size_t n, int B,
                     int training, const nn_optimizer *opt, float *dl, double *loss, double *acc) {
  const size_t nb = (n + B - 1) / B;
  const int C = (int)nn_output_size(m);
  double loss_sum = 0;
  long right = 0;
  if (nb == 0) {
    *loss = *acc = NAN;
    return 0;
  }
  nn_prefetch_start(pf, 0, rows, (int)(n < (size_t)B ? n : (size_t)B));
  for (size_t b = 0; b < nb; b++) {
    int slot = (int)(b % 2), cnt = (int)(b + 1 < nb ? B : n - b * B);
    if (nn_prefetch_wait(pf, slot) < 0) return -1;
    if (b + 1 < nb) {
      size_t next = (b + 1) * B;
      nn_prefetch_start(pf, 1 - slot, rows + next, (int)(n - next < (size_t)B ? n - next : (size_t)B));
    }
    float *z = nn_forward(m, pf->x[slot], cnt, training);
    int correct;
    double l = nn_softmax_xent(z, pf->y[slot], cnt, C, training ? dl : NULL, &correct);
    if (!isfinite(l)) {
      nn_prefetch_wait(pf, 1 - slot);
      return cm_set_error("loss is not finite at batch %zu (learning rate too high?)", b);
    }
    loss_sum += l * cnt;
    right += correct;
    if (training) {
      nn_backward(m, dl, NULL);
      nn_optim_step(opt, m);
    }
  }
  *loss = loss_sum / (double)n;
  *acc = (double)right / (double)n;
  return 0;
}

static uint64_t fingerprint(const nn_model *m, const nn_fit_opts *o, int64_t n) {
  char *spec = nn_model_spec(m);
  char buf[1024];
  snprintf(buf, sizeof buf, "%s|%s|%lld|%d|%.9g|%llu|%.9g|%d|%d", o->data, o->split, (long long)n,
           o->batch, o->lr, (unsigned long long)o->seed, o->val_fraction, o->patience, o->threads);
  uint64_t h = nn_fnv1a(nn_fnv1a(0, spec, strlen(spec)), buf, strlen(buf));
  free(spec);
  return h;
}

int nn_fit(nn_model *m, const char *architecture, const nn_fit_opts *o, nn_fit_result *res) {
  memset(res, 0, sizeof *res);
  if (o->epochs < 1 || o->batch < 1) return cm_set_error("epochs and batch must be positive");
  nn_modality mod;
  if (nn_modality_of(architecture, &mod) < 0) return -1;
  cm_dataset *d = cm_dataset_open(o->data);
  if (!d) return -1;
  int rc = -1, split = cm_dataset_find_split(d, o->split);
  int64_t *rows = NULL;
  float *dl = NULL, *best = NULL;
  double *hist = NULL;
  nn_loader L;
  nn_prefetch pf;
  int have_loader = 0, have_pf = 0;
  int64_t t0 = cm_monotonic_ns();
  if (split < 0) goto out;
  const int64_t N = cm_dataset_split_size(d, split);
  if (N < 2) {
    cm_set_error("%s: split '%s' has %lld windows, too few to train on", o->data, o->split, (long long)N);
    goto out;
  }
  if ((size_t)cm_dataset_get_desc(d)->n_classes != nn_output_size(m)) {
    cm_set_error("%s: %d classes, but the model has %zu outputs", o->data,
                 cm_dataset_get_desc(d)->n_classes, nn_output_size(m));
    goto out;
  }
  if (nn_loader_init(&L, d, split, mod, m->in_shape, m->in_ndim, o->batch) < 0) {
    cm_prefix_error("%s", o->data);
    goto out;
  }
  have_loader = 1;
  nn_prefetch_init(&pf, &L, o->batch);
  have_pf = 1;
  openblas_set_num_threads(o->threads > 0 ? o->threads : 1);
  nn_threads_set(o->threads > 0 ? o->threads : 1);

  /* validation rows: the first n_val of a seeded permutation of the split */
  rows = cm_xmalloc(sizeof(int64_t) * N);
  for (int64_t i = 0; i < N; i++) rows[i] = i;
  nn_shuffle_rows(rows, (size_t)N, nn_key(o->seed, NN_TAG_SPLIT, 0, 0));
  int64_t n_val = (int64_t)llround(o->val_fraction * (double)N);
  if (o->val_fraction > 0 && n_val < 1) n_val = 1;
  if (n_val >= N) n_val = N - 1;
  int64_t *val = rows, *train = rows + n_val;
  const int64_t n_train = N - n_val;
  /* visiting the validation rows in file order reads the file sequentially */
  qsort(val, (size_t)n_val, sizeof *val, by_row);
  dl = cm_xmalloc(sizeof(float) * nn_output_size(m) * o->batch);
  best = cm_xmalloc(sizeof(float) * m->n_params);
  memcpy(best, m->params, sizeof(float) * m->n_params);
  hist = cm_xcalloc((size_t)o->epochs * 5 + 5, sizeof(double));
  nn_optimizer opt = nn_adam(o->lr);
  const uint64_t fp = fingerprint(m, o, N);
  int start = 0, best_epoch = 0, bad = 0, rows_done = 0;
  double best_val = INFINITY;

  struct stat st;
  if (o->resume && o->checkpoint && stat(o->checkpoint, &st) == 0) {
    nn_ckpt_state s;
    if (nn_checkpoint_load(o->checkpoint, m, &s) < 0) goto out;
    if (s.fingerprint != fp) {
      free(s.best_params);
      free(s.history);
      cm_set_error("%s: checkpoint was made by a run with other settings (data, split, batch, "
                   "learning rate, seed, validation, patience or threads)", o->checkpoint);
      goto out;
    }
    start = s.epochs_done;
    best_epoch = s.best_epoch;
    bad = s.bad_epochs;
    best_val = s.best_val;
    if (s.best_params) memcpy(best, s.best_params, sizeof(float) * m->n_params);
    rows_done = s.history_rows < o->epochs ? s.history_rows : o->epochs;
    memcpy(hist, s.history, sizeof(double) * 5 * rows_done);
    free(s.best_params);
    free(s.history);
    if (o->log) fprintf(o->log, "resumed from %s after epoch %d\n", o->checkpoint, start);
  }

  int stop = o->patience > 0 && bad >= o->patience;
  for (int e = start; e < o->epochs && !stop; e++) {
    nn_shuffle_rows(train, (size_t)n_train, nn_key(o->seed, NN_TAG_SHUFFLE, (uint64_t)e, 0));
    double loss, acc, vloss = NAN, vacc = NAN;
    if (run_epoch(m, &pf, train, (size_t)n_train, o->batch, 1, &opt, dl, &loss, &acc) < 0) goto out;
    if (n_val > 0 && run_epoch(m, &pf, val, (size_t)n_val, o->batch, 0, NULL, NULL, &vloss, &vacc) < 0)
      goto out;
    double *h = hist + 5 * (size_t)e;
    h[0] = e + 1, h[1] = loss, h[2] = acc, h[3] = vloss, h[4] = vacc;
    rows_done = e + 1;
    res->epochs_run++;
    double crit = n_val > 0 ? vloss : loss;
    if (crit < best_val) {
      best_val = crit;
      best_epoch = e + 1;
      bad = 0;
      memcpy(best, m->params, sizeof(float) * m->n_params);
    } else {
      bad++;
    }
    if (o->patience > 0 && bad >= o->patience) stop = 1;
    if (o->log)
      fprintf(o->log, "epoch %4d/%d  loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f%s\n", e + 1,
              o->epochs, loss, acc, vloss, vacc, stop ? "  (early stop)" : "");
    if (o->checkpoint && ((o->checkpoint_every > 0 && (e + 1) % o->checkpoint_every == 0) ||
                          e + 1 == o->epochs || stop)) {
      nn_ckpt_state s = {fp, e + 1, best_epoch, bad, best_val, best, hist, rows_done, 5};
      if (nn_checkpoint_save(o->checkpoint, m, &s) < 0) goto out;
    }
  }
  res->stopped_early = stop;
  memcpy(m->params, best, sizeof(float) * m->n_params);
  res->history = hist;
  res->history_rows = rows_done;
  res->best_epoch = best_epoch;
  hist = NULL;
  rc = 0;
out:
  res->seconds = (double)(cm_monotonic_ns() - t0) * 1e-9;
  if (have_pf) nn_prefetch_free(&pf);
  if (have_loader) nn_loader_free(&L);
  free(rows);
  free(dl);
  free(best);
  free(hist);
  cm_dataset_close_reader(d);
  return rc;
}
