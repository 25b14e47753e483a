/*
 * Reader of the reference tensors that tests/train/make_reference.py dumps from PyTorch
 * (format described there), and the one comparison rule of the parity tests:
 * relative error = max |engine - reference| / max |reference|, over the whole tensor or, for
 * a sampled tensor, over its samples plus its sum and sum of absolute values.
 */
#ifndef REFDATA_H
#define REFDATA_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  char name[96];
  int kind; /* 0 float, 1 sampled float, 2 int32 */
  int ndim;
  int64_t dims[8];
  size_t n;          /* elements of the whole tensor */
  float *f;          /* kind 0: n values; kind 1: count values */
  int32_t *i;        /* kind 2 */
  size_t count;      /* kind 1 */
  int64_t *index;    /* kind 1 */
  double sum, sum_abs;
} ref_tensor;

typedef struct {
  ref_tensor *t;
  size_t n;
} ref_file;

/* Load CMACT_SRC/tests/data/train/<name>; aborts the test on a malformed file. */
ref_file *ref_load(const char *name);
void ref_free(ref_file *r);
/* The tensor called name; fails the test if absent. */
const ref_tensor *ref_get(const ref_file *r, const char *name);
/* Relative error of a[n] against the reference (see above); fails the test on a size
 * mismatch. */
double ref_rel_error(const ref_tensor *t, const float *a, size_t n);
/* Fails the test (naming the tensor and the error) when the error is >= tol. */
void ref_expect(const ref_file *r, const char *name, const float *a, size_t n, double tol);

#endif
