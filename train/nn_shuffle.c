/* Row permutations by key; see nn_shuffle.h. */
#include "nn_shuffle.h"

#include <stdlib.h>

#include "cm_util.h"
#include "nn_rng.h"

typedef struct {
  uint64_t key;
  int64_t row;
} keyed_row;

static int by_key(const void *a, const void *b) {
  const keyed_row *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

static int by_row(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

void nn_shuffle_rows(int64_t *rows, size_t n, uint64_t key) {
  keyed_row *k = cm_xmalloc(sizeof *k * (n ? n : 1));
  for (size_t i = 0; i < n; i++) k[i].row = rows[i], k[i].key = nn_u64(key, (uint64_t)rows[i]);
  qsort(k, n, sizeof *k, by_key);
  for (size_t i = 0; i < n; i++) rows[i] = k[i].row;
  free(k);
}

int64_t *nn_draw_rows(int64_t N, int64_t n, uint64_t key) {
  int64_t *rows = cm_xmalloc(sizeof(int64_t) * (size_t)(N ? N : 1));
  for (int64_t i = 0; i < N; i++) rows[i] = i;
  nn_shuffle_rows(rows, (size_t)N, key);
  qsort(rows, (size_t)n, sizeof *rows, by_row);
  return rows;
}
