/*
 * nn_threads: the engine's own threads, for the loops that are not matrix products (im2col,
 * pooling, ReLU, dropout, the optimizer). OpenBLAS has its own pool for sgemm.
 *
 * nn_parallel_for splits [0, n) into equal contiguous ranges, one per thread, in a fixed way;
 * the loops given to it compute each index independently of the others, so results do not
 * depend on the number of threads or their timing. Work smaller than `grain` indices per thread
 * runs in the caller alone (waking threads costs more than tiny loops). Workers sleep on a
 * condition variable between jobs: they never spin against OpenBLAS's threads for the cores.
 */
#ifndef NN_THREADS_H
#define NN_THREADS_H

#include <stddef.h>

/* Use n threads in all (the caller included); 1 = no workers. Not to be called while a
 * parallel loop runs. */
void nn_threads_set(int n);
int nn_threads_get(void);

typedef void (*nn_range_fn)(void *ctx, size_t lo, size_t hi);
void nn_parallel_for(size_t n, size_t grain, nn_range_fn fn, void *ctx);

#endif
