/*
 * pool: an ordered parallel map. Jobs 0..n-1 run on a fixed number of worker threads; their
 * results are consumed on the calling thread strictly in job order. A worker may run at most
 * `ahead` jobs past the oldest unconsumed one, so memory held by finished-but-unconsumed
 * results is bounded whatever n is, and the consumer sees the same sequence at any thread
 * count: that is what makes `cmact sync` output identical bit for bit with 1 or 2 threads.
 */
#ifndef CM_SYNC_POOL_H
#define CM_SYNC_POOL_H

#include <stdint.h>

typedef struct {
  int n_threads;
  int ahead;
  /* per-thread state: init returns 0 or -1 (then the run fails with cm_error()) */
  int (*thread_init)(void *user, void **thread_state);
  void (*thread_free)(void *user, void *thread_state);
  /* run job i on a worker; returns 0 or -1 (the error line is kept for the consumer) */
  int (*work)(void *user, void *thread_state, int64_t i);
  /* consume job i on the calling thread, in order; rc is work's; a non-zero return stops the run */
  int (*consume)(void *user, int64_t i, int rc, const char *error);
  void *user;
} cm_pool;

/* Run n jobs. Returns 0, or -1 when consume stopped the run or a thread_init failed. */
int cm_pool_run(const cm_pool *p, int64_t n);

#endif
