/*
 * The lower-envelope clock fit declared in clock_fit.h.
 *
 * Steps:
 *   1. Check device time never goes backwards (a device clock that steps back cannot be
 *      mapped by one line; the caller skips the stream with this reason).
 *   2. Robust first pass: split the samples into up to 32 equal-count bins by device time,
 *      keep each bin's lowest point (the least-delayed arrival), and fit those minima by
 *      Theil-Sen (median of pairwise slopes, median intercept). Points lying more than
 *      max(8 robust sigmas of the minima, 2 ms) below that line are glitches (a host clock
 *      that was stepped back for a moment, a mis-stamped packet): latency cannot be negative.
 *   3. Lower convex hull of the remaining points; the edge spanning the mean device time is
 *      the line below all points with the least summed residual (the LP optimum).
 *   4. Uncertainty. The envelope is only as good as the least-delayed arrivals near it: if
 *      every packet is late by at least L, the envelope is biased by L and nothing in the data
 *      can show it. What the data can show is how loosely the minima hug the line (the median
 *      bin-minimum residual: with few near-minimal arrivals it is large) and how much the
 *      robust and hull slopes disagree across the span. The stated uncertainty is
 *      2 * median bin-minimum residual + |slope difference| * span / 2 + 50 us, which the unit
 *      tests check covers the true offset error on exponential, uniform and bursty latencies.
 */
#include "clock_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of v[0..n) (reorders v). */
static double median_inplace(double *v, size_t n) {
  if (n == 0) return 0;
  qsort(v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double quantile_sorted(const double *v, size_t n, double q) {
  if (n == 0) return 0;
  double pos = q * (double)(n - 1);
  size_t i = (size_t)pos;
  if (i + 1 >= n) return v[n - 1];
  double f = pos - (double)i;
  return v[i] * (1 - f) + v[i + 1] * f;
}

typedef struct {
  double x, y;
} pt;

/* Cross product of (b - a) x (c - a): > 0 when a, b, c turn left. */
static double cross(pt a, pt b, pt c) { return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x); }

void cm_clock_fit_identity(cm_clock_fit *f, int64_t dev0_ns, int64_t host0_ns) {
  memset(f, 0, sizeof *f);
  f->dev0_ns = dev0_ns;
  f->host0_ns = host0_ns;
  f->slope = 1.0;
}

int64_t cm_clock_fit_host(const cm_clock_fit *f, int64_t dev_ns) {
  double d = (double)(dev_ns - f->dev0_ns);
  return f->host0_ns + (int64_t)llround(f->a_ns + f->slope * d);
}

int64_t cm_clock_fit_dev(const cm_clock_fit *f, int64_t host_ns) {
  double h = (double)(host_ns - f->host0_ns);
  return f->dev0_ns + (int64_t)llround((h - f->a_ns) / f->slope);
}

int cm_clock_fit_lower(const int64_t *dev_ns, const int64_t *host_ns, size_t n, cm_clock_fit *out) {
  memset(out, 0, sizeof *out);
  if (n < 2) return cm_set_error("clock fit needs at least 2 samples, got %zu", n);
  for (size_t i = 1; i < n; i++)
    if (dev_ns[i] < dev_ns[i - 1])
      return cm_set_error("device timestamps go backwards at sample %zu (by %.6f s)", i,
                          (double)(dev_ns[i - 1] - dev_ns[i]) * 1e-9);
  if (dev_ns[n - 1] == dev_ns[0]) return cm_set_error("device timestamps do not advance");

  out->dev0_ns = dev_ns[0];
  out->host0_ns = host_ns[0];
  pt *p = cm_xmalloc(n * sizeof *p);
  for (size_t i = 0; i < n; i++) {
    p[i].x = (double)(dev_ns[i] - dev_ns[0]);
    p[i].y = (double)(host_ns[i] - host_ns[0]) - p[i].x; /* fit the difference: keeps slope near 0 */
  }
  double span = p[n - 1].x;

  /* 2. Theil-Sen on bin minima. */
  size_t nb = n / 4 < 32 ? n / 4 : 32;
  if (nb < 2) nb = n < 32 ? n : 32;
  pt *mins = cm_xmalloc(nb * sizeof *mins);
  size_t nm = 0;
  for (size_t b = 0; b < nb; b++) {
    size_t lo = b * n / nb, hi = (b + 1) * n / nb;
    if (hi <= lo) continue;
    pt best = p[lo];
    for (size_t i = lo + 1; i < hi; i++)
      if (p[i].y < best.y) best = p[i];
    mins[nm++] = best;
  }
  double *tmp = cm_xmalloc((nm * nm / 2 + n + 1) * sizeof *tmp);
  size_t ns = 0;
  for (size_t i = 0; i < nm; i++)
    for (size_t j = i + 1; j < nm; j++)
      if (mins[j].x > mins[i].x) tmp[ns++] = (mins[j].y - mins[i].y) / (mins[j].x - mins[i].x);
  double ts_slope = ns ? median_inplace(tmp, ns) : 0.0;
  for (size_t i = 0; i < nm; i++) tmp[i] = mins[i].y - ts_slope * mins[i].x;
  double ts_icpt = median_inplace(tmp, nm);
  for (size_t i = 0; i < nm; i++) tmp[i] = fabs(mins[i].y - ts_slope * mins[i].x - ts_icpt);
  double sigma = 1.4826 * median_inplace(tmp, nm);
  double cut = 8 * sigma > 2e6 ? 8 * sigma : 2e6; /* ns */

  /* Keep points not far below the robust envelope. */
  pt *keep = cm_xmalloc(n * sizeof *keep);
  size_t nk = 0;
  for (size_t i = 0; i < n; i++) {
    double r = p[i].y - (ts_icpt + ts_slope * p[i].x);
    if (r < -cut)
      out->n_rejected++;
    else
      keep[nk++] = p[i];
  }
  if (nk < 2 || keep[nk - 1].x == keep[0].x) {
    free(p), free(mins), free(tmp), free(keep);
    return cm_set_error("clock fit: too few consistent samples (%zu of %zu)", nk, n);
  }

  /* 3. Lower hull (x non-decreasing; for equal x only the lowest point can be on it). */
  pt *hull = cm_xmalloc(nk * sizeof *hull);
  size_t nh = 0;
  double xmean = 0;
  for (size_t i = 0; i < nk; i++) {
    xmean += keep[i].x;
    if (nh && hull[nh - 1].x == keep[i].x) {
      if (keep[i].y >= hull[nh - 1].y) continue;
      nh--;
    }
    while (nh >= 2 && cross(hull[nh - 2], hull[nh - 1], keep[i]) <= 0) nh--;
    hull[nh++] = keep[i];
  }
  xmean /= (double)nk;
  size_t e = 0;
  while (e + 2 < nh && hull[e + 1].x < xmean) e++;
  pt a = hull[e], b = hull[e + 1];
  double slope = (b.y - a.y) / (b.x - a.x);
  double icpt = a.y - slope * a.x;

  /* The hull edge at the mean may be short, its slope set by two neighbouring arrivals. The
   * slope is re-estimated by least squares over the points hugging the envelope: in each of
   * the bins, those within the bin's lowest 10 % of residuals (per bin, so that a tilted
   * first line cannot favour one end). Twice, then the line is lowered to touch them. */
  char *sel = cm_xmalloc(nk);
  double slope_se = INFINITY;
  for (int iter = 0; iter < 2; iter++) {
    for (size_t b = 0; b < nb; b++) {
      size_t lo = b * nk / nb, hi = (b + 1) * nk / nb, m = hi - lo;
      if (m == 0) continue;
      for (size_t i = lo; i < hi; i++) tmp[i - lo] = keep[i].y - icpt - slope * keep[i].x;
      qsort(tmp, m, sizeof *tmp, cmp_double);
      double tau = tmp[m / 10];
      for (size_t i = lo; i < hi; i++) sel[i] = keep[i].y - icpt - slope * keep[i].x <= tau;
    }
    double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
    for (size_t i = 0; i < nk; i++) {
      if (!sel[i]) continue;
      double x = keep[i].x - xmean;
      sx += x, sy += keep[i].y, sxx += x * x, sxy += x * keep[i].y, m++;
    }
    double den = m * sxx - sx * sx;
    if (m < 3 || den <= 0) break;
    double ls = (m * sxy - sx * sy) / den;
    double lo = INFINITY;
    for (size_t i = 0; i < nk; i++) {
      if (!sel[i]) continue;
      double c = keep[i].y - ls * keep[i].x;
      if (c < lo) lo = c;
    }
    /* standard error of that slope, from the selected points' scatter about it */
    double rss = 0;
    for (size_t i = 0; i < nk; i++)
      if (sel[i]) {
        double r = keep[i].y - ls * keep[i].x - (sy - ls * sx - ls * xmean * m) / m;
        rss += r * r;
      }
    double sxx_c = sxx - sx * sx / m;
    slope_se = m > 2 && sxx_c > 0 ? sqrt(rss / (m - 2) / sxx_c) : INFINITY;
    slope = ls;
    icpt = lo;
  }
  free(sel);
  /* A short recording cannot measure drift: over 10 s of BLE arrivals the slope's standard
   * error is hundreds of ppm, far worse than assuming none (crystals are within ~100 ppm,
   * and 100 ppm over 10 s is 1 ms). When the data pin the slope no better than that prior,
   * or the slope is beyond any crystal, the drift is taken as zero and the line is the
   * envelope at slope 1. */
  if (slope_se > CM_CLOCK_DRIFT_PRIOR || fabs(slope) > 20 * CM_CLOCK_DRIFT_PRIOR) {
    slope = 0;
    icpt = INFINITY;
    for (size_t i = 0; i < nk; i++)
      if (keep[i].y < icpt) icpt = keep[i].y;
    out->drift_fixed = 1;
  }
  out->a_ns = icpt;
  out->slope = 1.0 + slope;
  out->drift_ppm = slope * 1e6;
  out->span_s = span * 1e-9;
  out->n_used = nk;

  /* 4. Residuals and uncertainty. */
  for (size_t i = 0; i < nk; i++) tmp[i] = (keep[i].y - icpt - slope * keep[i].x) * 1e-9;
  qsort(tmp, nk, sizeof *tmp, cmp_double);
  out->resid_median_s = quantile_sorted(tmp, nk, 0.5);
  out->resid_p95_s = quantile_sorted(tmp, nk, 0.95);
  for (size_t i = 0; i < nm; i++) {
    double r = mins[i].y - icpt - slope * mins[i].x;
    tmp[i] = r > 0 ? r : 0;
  }
  double env = median_inplace(tmp, nm) * 1e-9;
  out->uncertainty_s = 2 * env + 50e-6 +
                       (out->drift_fixed ? CM_CLOCK_DRIFT_PRIOR : fabs(slope - ts_slope)) * span * 1e-9 / 2;

  free(p), free(mins), free(tmp), free(keep), free(hull);
  return 0;
}
