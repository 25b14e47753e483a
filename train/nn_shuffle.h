/*
 * nn_shuffle: the engine's one row permutation. rows[] are put in the order of
 * nn_u64(key, row) (ties, which do not happen in practice, by row), so the order is a pure
 * function of key and the row numbers: batch order and validation carves never depend on
 * threads, on what ran before, or on whether a run was resumed.
 */
#ifndef NN_SHUFFLE_H
#define NN_SHUFFLE_H

#include <stddef.h>
#include <stdint.h>

void nn_shuffle_rows(int64_t *rows, size_t n, uint64_t key);

/* The first n rows of nn_shuffle_rows over 0..N-1, in increasing order (malloc'd). */
int64_t *nn_draw_rows(int64_t N, int64_t n, uint64_t key);

#endif
