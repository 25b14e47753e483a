/*
 * What every experiment shares (see exp.h): the thread pool that runs independent jobs with a
 * progress line and time left, loading the study's splits into memory, and small helpers.
 *
 * The pool is the simplest that works: workers take the next job index under a mutex. HDF5 is
 * never entered by a worker (the data are loaded before the pool starts). OpenBLAS is set to
 * one thread for the whole run, so each job's BLAS calls are single-threaded and a job's result
 * does not depend on how many run beside it.
 */
#include <cblas.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include "cm_util.h"
#include "exp.h"

exp_opts exp_opts_default(void) {
  exp_opts o = {.runs = 10, .threads = 2, .cfg = proc_config_study(), .seed = 0,
                .pair = "video-imu", .label_counts = "10,20,50,100,200,500,976",
                .offsets = "-4,-2,-1,-0.5,-0.25,-0.1,-0.05,0,0.05,0.1,0.25,0.5,1,2,4",
                .aug_offsets = "-1,-0.5,-0.25,0.25,0.5,1", .aug_fraction = 1.0, .log = NULL};
  return o;
}

typedef struct {
  pthread_mutex_t mu;
  int next, n, failed;
  double done_w, total_w;
  const double *weights;
  exp_job_fn fn;
  void *ctx;
  cm_progress progress;
  char error[512];
} pool;

static void *worker(void *arg) {
  pool *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    int job = p->failed ? p->n : p->next++;
    pthread_mutex_unlock(&p->mu);
    if (job >= p->n) return NULL;
    int rc = p->fn(p->ctx, job);
    pthread_mutex_lock(&p->mu);
    if (rc < 0 && !p->failed) {
      p->failed = 1;
      snprintf(p->error, sizeof p->error, "%s", cm_error());
    }
    p->done_w += p->weights ? p->weights[job] : 1;
    cm_progress_step(&p->progress, (int64_t)(1000 * p->done_w / p->total_w));
    pthread_mutex_unlock(&p->mu);
  }
}

int exp_pool_run(int n, int threads, const double *weights, exp_job_fn fn, void *ctx, const char *what) {
  if (n <= 0) return 0;
  if (threads < 1) threads = 1;
  if (threads > n) threads = n;
  openblas_set_num_threads(1);
  pool p;
  memset(&p, 0, sizeof p);
  pthread_mutex_init(&p.mu, NULL);
  p.n = n, p.fn = fn, p.ctx = ctx, p.weights = weights;
  for (int i = 0; i < n; i++) p.total_w += weights ? weights[i] : 1;
  if (p.total_w <= 0) p.total_w = 1;
  cm_progress_begin(&p.progress, what, 1000);
  pthread_t *t = cm_xmalloc(sizeof *t * (size_t)threads);
  int started = 0;
  for (int i = 0; i < threads; i++)
    if (pthread_create(&t[i], NULL, worker, &p) == 0) started++;
  if (started == 0) worker(&p);
  for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
  cm_progress_end(&p.progress);
  free(t);
  pthread_mutex_destroy(&p.mu);
  if (p.failed) return cm_set_error("%s", p.error);
  return 0;
}

int exp_data_load(exp_data *d, const char *path, unsigned mask, const char *video_input) {
  memset(d, 0, sizeof *d);
  cm_dataset *ds = cm_dataset_open(path);
  if (!ds) return -1;
  d->desc = *cm_dataset_get_desc(ds);
  static const char *splits[4] = {"pretrain", "transfer", "limited", "test"};
  int rc = 0;
  for (int m = 0; m < 3 && rc == 0; m++) {
    if (!(mask & (1u << m))) continue;
    int shape[4], nd;
    if ((rc = proc_input_shape(ds, (nn_modality)m, video_input, shape, &nd)) < 0) break;
    proc_set *dst[4] = {&d->pre[m], &d->transfer[m], &d->limited[m], &d->test[m]};
    for (int s = 0; s < 4 && rc == 0; s++) rc = proc_set_load(ds, splits[s], (nn_modality)m, shape, nd, dst[s]);
  }
  cm_dataset_close_reader(ds);
  if (rc < 0) {
    cm_prefix_error("%s", path);
    exp_data_free(d);
  }
  return rc;
}

void exp_data_free(exp_data *d) {
  for (int m = 0; m < 3; m++) {
    proc_set_free(&d->pre[m]);
    proc_set_free(&d->transfer[m]);
    proc_set_free(&d->limited[m]);
    proc_set_free(&d->test[m]);
  }
}

int exp_pair_parse(const char *s, nn_modality *teacher, nn_modality *student) {
  char a[16], b[16];
  const char *dash = strchr(s, '-');
  if (!dash || dash - s >= 16 || strlen(dash + 1) >= 16)
    return cm_set_error("pair '%s': expected TEACHER-STUDENT, e.g. video-imu", s);
  memcpy(a, s, (size_t)(dash - s));
  a[dash - s] = 0;
  strcpy(b, dash + 1);
  if (proc_modality_parse(a, teacher) < 0 || proc_modality_parse(b, student) < 0) return -1;
  if (*teacher == *student) return cm_set_error("pair '%s': teacher and student must differ", s);
  return 0;
}

/* Folders this run created, so that a run failing before it wrote anything leaves no empty
 * output folder behind that looks like a finished experiment's. */
#define MAX_CREATED 16
static char *created[MAX_CREATED];
static int n_created;

int exp_mkdir(const char *path) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == 0) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, 0777) == 0) {
        if (n_created < MAX_CREATED) created[n_created++] = cm_xstrdup(buf);
      } else if (errno != EEXIST) {
        return cm_set_error("%s: cannot create: %s", buf, strerror(errno));
      }
      *p = c;
      if (!c) break;
    }
  }
  return 0;
}

void exp_remove_empty_created(void) {
  /* newest first: a folder's parent is emptied by removing the folder; rmdir keeps any that hold files */
  while (n_created > 0) {
    char *d = created[--n_created];
    rmdir(d);
    free(d);
  }
}

const double exp_sandha_offset_s[EXP_SANDHA_N] = {0, 0.5, 2}, exp_sandha_acc[EXP_SANDHA_N] = {96.1, 91.6, 82.8},
             exp_sandha_acc_shifted[EXP_SANDHA_N] = {97.2, 95.9, 86.7};

const char *exp_sandha_text(char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "Sandha et al. (IoTDI 2020), audio+IMU fusion on CMActivity:");
  for (int i = 0; i < EXP_SANDHA_N && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s %.1f%% at %g s", i ? "," : "", exp_sandha_acc[i], exp_sandha_offset_s[i]);
  for (int i = 0; i < EXP_SANDHA_N && k < n; i++)
    k += (size_t)snprintf(buf + k, n - k, "%s%.1f", i ? " / " : " (", exp_sandha_acc_shifted[i]);
  if (k < n) snprintf(buf + k, n - k, "%% trained with shifts up to 1 s)");
  return buf;
}

const char *exp_path(const exp_opts *o, const char *name, char *buf, size_t n) {
  snprintf(buf, n, "%s/%s", o->out, name);
  return buf;
}

static void shape_str(const proc_set *s, char *buf, size_t n) {
  if (s->ndim == 4) snprintf(buf, n, "%dx%dx%dx%d", s->shape[0], s->shape[1], s->shape[2], s->shape[3]);
  else if (s->ndim == 2) snprintf(buf, n, "%dx%d", s->shape[0], s->shape[1]);
  else snprintf(buf, n, "%d", s->shape[0]);
}

void exp_settings_line(const exp_opts *o, const exp_data *d, char *buf, size_t n) {
  char v[48] = "not used", a[48] = "not used", im[48] = "not used";
  if (d->pre[NN_MOD_VIDEO].n) shape_str(&d->pre[NN_MOD_VIDEO], v, sizeof v);
  if (d->pre[NN_MOD_AUDIO].n) shape_str(&d->pre[NN_MOD_AUDIO], a, sizeof a);
  if (d->pre[NN_MOD_IMU].n) shape_str(&d->pre[NN_MOD_IMU], im, sizeof im);
  const proc_config *c = &o->cfg;
  snprintf(buf, n,
           "Inputs: video %s (the paper: 45x64x64x3; video_c3d conv widths %d/%d/%d/%d, fc %d; the "
           "paper's 32/64/128/128, 372), audio %s, IMU %s. %d runs (seeds %llu..%llu). "
           "Epochs: teacher %d, transfer %d, limited %d, scratch %d; Adam lr %g, batch %d; "
           "LimitTrainSet %d windows. Model selection: the epoch of lowest loss on a validation part "
           "(%.0f%%) carved from each procedure's own training data; the test split is never used "
           "for selection (the study's code picked the best test epoch).",
           v, c->video_conv[0], c->video_conv[1], c->video_conv[2], c->video_conv[3], c->video_fc, a, im, o->runs, (unsigned long long)o->seed + 1, (unsigned long long)o->seed + o->runs,
           c->teacher_epochs, c->transfer_epochs, c->limited_epochs, c->scratch_epochs, c->lr, c->batch,
           c->limit_n, 100 * c->val_fraction);
}
