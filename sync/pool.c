/*
 * The ordered parallel map of pool.h on POSIX threads: one mutex, one condition variable,
 * a claim counter and a ring of per-job states sized to the look-ahead.
 */
#include "pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

typedef struct {
  int done, rc;
  char error[512];
} slot;

typedef struct {
  const cm_pool *p;
  int64_t n, next_claim, next_consume;
  int stop, init_failed;
  char init_error[512];
  slot *ring;
  int ring_n;
  pthread_mutex_t mu;
  pthread_cond_t cv;
} shared;

static void *worker(void *arg) {
  shared *s = arg;
  void *ts = NULL;
  if (s->p->thread_init && s->p->thread_init(s->p->user, &ts)) {
    pthread_mutex_lock(&s->mu);
    s->init_failed = 1, s->stop = 1;
    snprintf(s->init_error, sizeof s->init_error, "%s", cm_error());
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
  }
  pthread_mutex_lock(&s->mu);
  for (;;) {
    while (!s->stop && s->next_claim < s->n && s->next_claim >= s->next_consume + s->ring_n)
      pthread_cond_wait(&s->cv, &s->mu);
    if (s->stop || s->next_claim >= s->n) break;
    int64_t i = s->next_claim++;
    pthread_mutex_unlock(&s->mu);
    int rc = s->p->work(s->p->user, ts, i);
    pthread_mutex_lock(&s->mu);
    slot *sl = &s->ring[i % s->ring_n];
    sl->rc = rc;
    snprintf(sl->error, sizeof sl->error, "%s", rc ? cm_error() : "");
    sl->done = 1;
    pthread_cond_broadcast(&s->cv);
  }
  pthread_mutex_unlock(&s->mu);
  if (s->p->thread_free) s->p->thread_free(s->p->user, ts);
  return NULL;
}

int cm_pool_run(const cm_pool *p, int64_t n) {
  shared s;
  memset(&s, 0, sizeof s);
  s.p = p, s.n = n;
  int nt = p->n_threads > 0 ? p->n_threads : 1;
  s.ring_n = p->ahead > nt ? p->ahead : nt;
  s.ring = cm_xcalloc((size_t)s.ring_n, sizeof *s.ring);
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.cv, NULL);
  pthread_t *th = cm_xmalloc((size_t)nt * sizeof *th);
  for (int t = 0; t < nt; t++) pthread_create(&th[t], NULL, worker, &s);
  int rc = 0;
  pthread_mutex_lock(&s.mu);
  while (s.next_consume < n) {
    slot *sl = &s.ring[s.next_consume % s.ring_n];
    while (!sl->done && !s.init_failed) pthread_cond_wait(&s.cv, &s.mu);
    if (!sl->done) break;
    slot copy = *sl;
    pthread_mutex_unlock(&s.mu);
    int stop = p->consume(p->user, s.next_consume, copy.rc, copy.error);
    pthread_mutex_lock(&s.mu);
    memset(sl, 0, sizeof *sl);
    s.next_consume++;
    pthread_cond_broadcast(&s.cv);
    if (stop) {
      s.stop = 1;
      rc = -1;
      break;
    }
  }
  if (s.init_failed) {
    rc = -1;
    cm_set_error("%s", s.init_error);
  }
  s.stop = 1;
  pthread_cond_broadcast(&s.cv);
  pthread_mutex_unlock(&s.mu);
  for (int t = 0; t < nt; t++) pthread_join(th[t], NULL);
  pthread_mutex_destroy(&s.mu);
  pthread_cond_destroy(&s.cv);
  free(th);
  free(s.ring);
  return rc;
}
