/*
 * Host clock -> reference time from chronyd answers; see clock_ref.h for the model. The table
 * is tiny (one answer every few seconds), so lookups are a binary search and nothing more.
 */
#include "clock_ref.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

static int cmp_row(const void *a, const void *b) {
  int64_t x = ((const cm_chrony_row *)a)->t_host_ns, y = ((const cm_chrony_row *)b)->t_host_ns;
  return (x > y) - (x < y);
}

int cm_clock_ref_build(const cm_chrony_row *rows, size_t n, double step_min_s, cm_clock_ref *out) {
  memset(out, 0, sizeof *out);
  cm_chrony_row *sorted = cm_xmalloc((n ? n : 1) * sizeof *sorted);
  memcpy(sorted, rows, n * sizeof *rows);
  qsort(sorted, n, sizeof *sorted, cmp_row);
  out->pts = cm_xmalloc((n ? n : 1) * sizeof *out->pts);
  for (size_t i = 0; i < n; i++) {
    const cm_chrony_row *c = &sorted[i];
    if (c->leap_status == 3 || !isfinite(c->current_correction)) {
      out->n_unsynced++;
      continue;
    }
    if (out->n && out->pts[out->n - 1].t_host_ns == c->t_host_ns) continue;
    cm_clock_ref_point *p = &out->pts[out->n++];
    p->t_host_ns = c->t_host_ns;
    p->correction_s = c->current_correction;
    double u = fabs(c->root_delay) / 2 + fabs(c->root_dispersion);
    p->uncertainty_s = isfinite(u) ? u : 1.0;
    p->skew_ppm = isfinite(c->skew_ppm) ? fabs(c->skew_ppm) : 0;
  }
  free(sorted);
  if (out->n == 0) {
    cm_clock_ref_free(out);
    if (n) return cm_set_error("no synchronised chrony answer (%zu unsynchronised)", n);
    return cm_set_error("no chrony answers (/clock/chrony is empty)");
  }
  out->steps = cm_xmalloc(out->n * sizeof *out->steps);
  for (size_t i = 1; i < out->n; i++) {
    const cm_clock_ref_point *a = &out->pts[i - 1], *b = &out->pts[i];
    double d = b->correction_s - a->correction_s;
    double dt = (double)(b->t_host_ns - a->t_host_ns) * 1e-9;
    if (fabs(d) > step_min_s && fabs(d) > CM_CLOCK_MAX_SLEW * dt) {
      cm_clock_step *s = &out->steps[out->n_steps++];
      s->t_before_ns = a->t_host_ns;
      s->t_after_ns = b->t_host_ns;
      s->step_s = d;
    }
  }
  return 0;
}

void cm_clock_ref_free(cm_clock_ref *r) {
  free(r->pts);
  free(r->steps);
  memset(r, 0, sizeof *r);
}

double cm_clock_ref_correction(const cm_clock_ref *r, int64_t t, double *uncertainty_s) {
  const cm_clock_ref_point *p = r->pts;
  size_t n = r->n;
  double corr, unc;
  if (t <= p[0].t_host_ns) {
    double held = (double)(p[0].t_host_ns - t) * 1e-9;
    corr = p[0].correction_s;
    unc = p[0].uncertainty_s + p[0].skew_ppm * 1e-6 * held;
  } else if (t >= p[n - 1].t_host_ns) {
    double held = (double)(t - p[n - 1].t_host_ns) * 1e-9;
    corr = p[n - 1].correction_s;
    unc = p[n - 1].uncertainty_s + p[n - 1].skew_ppm * 1e-6 * held;
  } else {
    size_t lo = 0, hi = n - 1; /* p[lo].t < t <= p[hi].t */
    while (hi - lo > 1) {
      size_t mid = (lo + hi) / 2;
      if (p[mid].t_host_ns < t)
        lo = mid;
      else
        hi = mid;
    }
    double f = (double)(t - p[lo].t_host_ns) / (double)(p[hi].t_host_ns - p[lo].t_host_ns);
    corr = p[lo].correction_s + f * (p[hi].correction_s - p[lo].correction_s);
    unc = p[lo].uncertainty_s > p[hi].uncertainty_s ? p[lo].uncertainty_s : p[hi].uncertainty_s;
  }
  if (uncertainty_s) *uncertainty_s = unc;
  return corr;
}

int64_t cm_clock_ref_to_ref(const cm_clock_ref *r, int64_t t_host_ns) {
  return t_host_ns + (int64_t)llround(cm_clock_ref_correction(r, t_host_ns, NULL) * 1e9);
}

int64_t cm_clock_ref_to_host(const cm_clock_ref *r, int64_t t_ref_ns) {
  int64_t h = t_ref_ns;
  for (int it = 0; it < 4; it++) h = t_ref_ns - (int64_t)llround(cm_clock_ref_correction(r, h, NULL) * 1e9);
  return h;
}
