/* The reference-tensor reader of refdata.h. */
#include "refdata.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void take(void *dst, const char **p, const char *end, size_t n) {
  if (*p + n > end) fail_msg("reference file truncated");
  memcpy(dst, *p, n);
  *p += n;
}

ref_file *ref_load(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/data/train/%s", CMACT_SRC, name);
  size_t len;
  char *buf = tu_read_file(path, &len);
  if (!buf) fail_msg("cannot read %s", path);
  if (len < 8 || memcmp(buf, "CMTREF01", 8) != 0) fail_msg("%s is not a reference file", path);
  ref_file *r = calloc(1, sizeof *r);
  const char *p = buf + 8, *end = buf + len;
  while (p < end) {
    r->t = realloc(r->t, sizeof(ref_tensor) * (r->n + 1));
    ref_tensor *t = &r->t[r->n++];
    memset(t, 0, sizeof *t);
    uint32_t nl, kind, nd;
    take(&nl, &p, end, 4);
    if (nl >= sizeof t->name) fail_msg("reference name too long");
    take(t->name, &p, end, nl);
    take(&kind, &p, end, 4);
    take(&nd, &p, end, 4);
    if (nd > 8) fail_msg("reference tensor of %u dimensions", nd);
    t->kind = (int)kind;
    t->ndim = (int)nd;
    take(t->dims, &p, end, 8 * nd);
    t->n = 1;
    for (uint32_t d = 0; d < nd; d++) t->n *= (size_t)t->dims[d];
    if (kind == 0) {
      t->f = malloc(4 * t->n + 4);
      take(t->f, &p, end, 4 * t->n);
    } else if (kind == 2) {
      t->i = malloc(4 * t->n + 4);
      take(t->i, &p, end, 4 * t->n);
    } else if (kind == 1) {
      uint32_t c;
      take(&c, &p, end, 4);
      t->count = c;
      t->index = malloc(8 * c + 8);
      t->f = malloc(4 * c + 4);
      take(t->index, &p, end, 8 * c);
      take(t->f, &p, end, 4 * c);
      take(&t->sum, &p, end, 8);
      take(&t->sum_abs, &p, end, 8);
    } else {
      fail_msg("reference tensor kind %u", kind);
    }
  }
  free(buf);
  return r;
}

void ref_free(ref_file *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->t[i].f);
    free(r->t[i].i);
    free(r->t[i].index);
  }
  free(r->t);
  free(r);
}

const ref_tensor *ref_get(const ref_file *r, const char *name) {
  for (size_t i = 0; i < r->n; i++)
    if (strcmp(r->t[i].name, name) == 0) return &r->t[i];
  fail_msg("no reference tensor '%s'", name);
  return NULL;
}

double ref_rel_error(const ref_tensor *t, const float *a, size_t n) {
  if (t->kind == 2) fail_msg("'%s' holds integers", t->name);
  if (n != t->n) fail_msg("'%s': engine has %zu elements, reference %zu", t->name, n, t->n);
  double maxref = 0, maxdiff = 0;
  if (t->kind == 0) {
    for (size_t i = 0; i < n; i++) {
      maxref = fmax(maxref, fabs(t->f[i]));
      maxdiff = fmax(maxdiff, fabs((double)a[i] - t->f[i]));
    }
  } else {
    for (size_t j = 0; j < t->count; j++) {
      maxref = fmax(maxref, fabs(t->f[j]));
      maxdiff = fmax(maxdiff, fabs((double)a[t->index[j]] - t->f[j]));
    }
  }
  double err = maxref > 0 ? maxdiff / maxref : maxdiff;
  if (t->kind == 1) {
    double s = 0, sa = 0;
    for (size_t i = 0; i < n; i++) s += a[i], sa += fabs(a[i]);
    if (t->sum_abs > 0) {
      err = fmax(err, fabs(s - t->sum) / t->sum_abs);
      err = fmax(err, fabs(sa - t->sum_abs) / t->sum_abs);
    }
  }
  return err;
}

void ref_expect(const ref_file *r, const char *name, const float *a, size_t n, double tol) {
  double e = ref_rel_error(ref_get(r, name), a, n);
  if (!(e < tol)) fail_msg("%s: relative error %.3g (tolerance %.1g)", name, e, tol);
}
