/* The worker pool of nn_threads.h: one job at a time, a generation counter to wake workers. */
#include "nn_threads.h"

#include <pthread.h>
#include <stdlib.h>

#define MAX_THREADS 64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static pthread_t workers[MAX_THREADS];
static int n_threads = 1, n_workers = 0, quitting = 0, pending = 0;
static unsigned long generation = 0;
static struct {
  nn_range_fn fn;
  void *ctx;
  size_t n;
  int parts;
} job;

static void run_part(int t) {
  size_t lo = job.n * (size_t)t / (size_t)job.parts, hi = job.n * (size_t)(t + 1) / (size_t)job.parts;
  if (lo < hi) job.fn(job.ctx, lo, hi);
}

static void *worker(void *arg) {
  int id = (int)(size_t)arg; /* 1 .. n_workers */
  unsigned long seen = 0;
  pthread_mutex_lock(&mu);
  for (;;) {
    while (generation == seen && !quitting) pthread_cond_wait(&wake, &mu);
    if (quitting) break;
    seen = generation;
    int parts = job.parts;
    pthread_mutex_unlock(&mu);
    if (id < parts) run_part(id);
    pthread_mutex_lock(&mu);
    if (--pending == 0) pthread_cond_signal(&done_cv);
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void stop_workers(void) {
  pthread_mutex_lock(&mu);
  quitting = 1;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < n_workers; i++) pthread_join(workers[i], NULL);
  quitting = 0;
  n_workers = 0;
}

static void at_exit_stop(void) { stop_workers(); }

void nn_threads_set(int n) {
  static int registered = 0;
  if (n < 1) n = 1;
  if (n > MAX_THREADS) n = MAX_THREADS;
  if (n == n_threads) return;
  stop_workers();
  n_threads = n;
  for (int i = 0; i < n - 1; i++) {
    if (pthread_create(&workers[i], NULL, worker, (void *)(size_t)(i + 1)) != 0) break;
    n_workers++;
  }
  n_threads = n_workers + 1;
  if (!registered) {
    atexit(at_exit_stop);
    registered = 1;
  }
}

int nn_threads_get(void) { return n_threads; }

void nn_parallel_for(size_t n, size_t grain, nn_range_fn fn, void *ctx) {
  int parts = n_threads;
  if (grain < 1) grain = 1;
  if ((size_t)parts > n / grain) parts = (int)(n / grain);
  if (parts <= 1 || n_workers == 0) {
    if (n) fn(ctx, 0, n);
    return;
  }
  pthread_mutex_lock(&mu);
  job.fn = fn;
  job.ctx = ctx;
  job.n = n;
  job.parts = parts;
  pending = n_workers;
  generation++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&mu);
  run_part(0);
  pthread_mutex_lock(&mu);
  while (pending > 0) pthread_cond_wait(&done_cv, &mu);
  pthread_mutex_unlock(&mu);
}
