/*
 * Cross-correlation offset estimate; see xcorr.h for the method and the sign convention.
 * The direct O(N * lags) sum is used: a 10 s clip at 100 Hz with +-1 s of lags is 200k
 * multiply-adds, and even an hour is a fraction of a second, so an FFT buys nothing here and
 * the per-lag Pearson normalisation (over exactly the overlapping samples) stays simple.
 */
#include "xcorr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

void cm_xcorr_default_params(cm_xcorr_params *p) {
  p->grid_hz = 100;
  p->max_lag_s = 1.0;
  p->hp_window_s = 1.0;
  p->exclusion_s = 0.15;
  p->min_psr = 6.0;
  p->min_peak_ratio = 1.15;
  p->min_corr = 0.3;
  p->alias_ratio = 0.8;
}

void cm_xcorr_resample(const double *t, const double *v, size_t n, double t0, double hz, double *out,
                       size_t n_out) {
  size_t j = 0;
  for (size_t k = 0; k < n_out; k++) {
    double x = t0 + (double)k / hz;
    if (n == 0) {
      out[k] = 0;
      continue;
    }
    if (x <= t[0]) {
      out[k] = v[0];
      continue;
    }
    if (x >= t[n - 1]) {
      out[k] = v[n - 1];
      continue;
    }
    while (j + 1 < n && t[j + 1] < x) j++;
    double dt = t[j + 1] - t[j];
    double f = dt > 0 ? (x - t[j]) / dt : 0;
    out[k] = v[j] + f * (v[j + 1] - v[j]);
  }
}

/* Subtract a centred moving mean of w samples (prefix sums; the window shrinks at the ends). */
static void highpass(double *x, size_t n, size_t w) {
  double *cum = cm_xmalloc((n + 1) * sizeof *cum);
  cum[0] = 0;
  for (size_t i = 0; i < n; i++) cum[i + 1] = cum[i] + x[i];
  size_t h = w / 2;
  for (size_t i = 0; i < n; i++) {
    size_t lo = i >= h ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;
    x[i] -= (cum[hi] - cum[lo]) / (double)(hi - lo);
  }
  free(cum);
}

int cm_xcorr_curve(const double *ta, const double *va, size_t na, const double *tb, const double *vb, size_t nb,
                   const cm_xcorr_params *p, double *c, size_t *n_lags, double *overlap_s) {
  if (na < 2 || nb < 2) return cm_set_error("cross-correlation needs two signals (got %zu and %zu samples)", na, nb);
  double s0 = ta[0] > tb[0] ? ta[0] : tb[0];
  double s1 = ta[na - 1] < tb[nb - 1] ? ta[na - 1] : tb[nb - 1];
  double need = 2 * p->max_lag_s + p->hp_window_s;
  if (s1 - s0 < need)
    return cm_set_error("signals overlap for %.2f s, cross-correlation needs %.2f s", s1 - s0, need);
  size_t n = (size_t)floor((s1 - s0) * p->grid_hz) + 1;
  size_t L = (size_t)ceil(p->max_lag_s * p->grid_hz);
  double *A = cm_xmalloc(n * sizeof *A), *B = cm_xmalloc(n * sizeof *B);
  cm_xcorr_resample(ta, va, na, s0, p->grid_hz, A, n);
  cm_xcorr_resample(tb, vb, nb, s0, p->grid_hz, B, n);
  size_t w = (size_t)llround(p->hp_window_s * p->grid_hz);
  if (w >= 3) {
    highpass(A, n, w);
    highpass(B, n, w);
  }
  /* c[k] for lag index k in [0, 2L]: lag = (k - L) / hz; A[i] against B[i - (k - L)], i over the
   * core [L, n - L) so every lag uses the same A samples. */
  size_t nl = 2 * L + 1;
  for (size_t k = 0; k < nl; k++) {
    long sh = (long)k - (long)L;
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    size_t m = 0;
    for (size_t i = L; i + L < n; i++) {
      double a = A[i], b = B[(long)i - sh];
      sa += a, sb += b, saa += a * a, sbb += b * b, sab += a * b;
      m++;
    }
    double cov = sab - sa * sb / m, va_ = saa - sa * sa / m, vb_ = sbb - sb * sb / m;
    c[k] = (va_ > 0 && vb_ > 0) ? cov / sqrt(va_ * vb_) : 0;
  }
  free(A), free(B);
  *n_lags = nl;
  if (overlap_s) *overlap_s = s1 - s0;
  return 0;
}

void cm_xcorr_pick(const double *c, size_t nl, const cm_xcorr_params *p, cm_xcorr_result *out) {
  size_t L = nl / 2;
  size_t kp = 0;
  for (size_t k = 1; k < nl; k++)
    if (c[k] > c[kp]) kp = k;
  double delta = 0;
  if (kp > 0 && kp + 1 < nl) {
    double den = c[kp - 1] - 2 * c[kp] + c[kp + 1];
    if (den < 0) delta = 0.5 * (c[kp - 1] - c[kp + 1]) / den;
  }
  /* A at t matches B at t - lag: B's times + lag = A's times. */
  out->lag_s = ((double)kp - (double)L + delta) / p->grid_hz;
  out->corr = c[kp];
  size_t ex = (size_t)ceil(p->exclusion_s * p->grid_hz);
  double sum = 0, sum2 = 0, best_other = -1;
  size_t ms = 0;
  out->n_alias = 0, out->alias_spread_s = 0;
  for (size_t k = 0; k < nl; k++) {
    size_t d = k > kp ? k - kp : kp - k;
    if (d <= ex) continue;
    sum += c[k], sum2 += c[k] * c[k], ms++;
    /* a maximum on the edge of the search range counts too: the curve may rise beyond it */
    int is_max = (k == 0 || c[k] >= c[k - 1]) && (k + 1 == nl || c[k] >= c[k + 1]);
    if (is_max && c[k] > best_other) best_other = c[k];
    if (is_max && c[kp] > 0 && c[k] >= p->alias_ratio * c[kp]) {
      out->n_alias++;
      if ((double)d / p->grid_hz > out->alias_spread_s) out->alias_spread_s = (double)d / p->grid_hz;
    }
  }
  out->psr = 0;
  if (ms >= 2) {
    double mean = sum / ms, sd = sqrt(fmax(sum2 / ms - mean * mean, 1e-12));
    out->psr = (c[kp] - mean) / sd;
  }
  out->peak_ratio = best_other > 0 ? c[kp] / best_other : (c[kp] > 0 ? 99 : 0);
  /* Main lobe half width at half peak, in s. */
  size_t lo = kp, hi = kp;
  while (lo > 0 && c[lo - 1] > c[kp] / 2) lo--;
  while (hi + 1 < nl && c[hi + 1] > c[kp] / 2) hi++;
  double hwhm = 0.5 * (double)(hi - lo + 1) / p->grid_hz;
  out->hwhm_s = hwhm;
  out->uncertainty_s = 1.0 / p->grid_hz + 3 * hwhm / fmax(out->psr, 1.0);
  out->confident = out->psr >= p->min_psr && out->peak_ratio >= p->min_peak_ratio && out->corr >= p->min_corr;
}

int cm_xcorr_offset(const double *ta, const double *va, size_t na, const double *tb,
                    const double *vb, size_t nb, const cm_xcorr_params *p, cm_xcorr_result *out) {
  memset(out, 0, sizeof *out);
  size_t nl = 2 * (size_t)ceil(p->max_lag_s * p->grid_hz) + 1;
  double *c = cm_xmalloc(nl * sizeof *c);
  if (cm_xcorr_curve(ta, va, na, tb, vb, nb, p, c, &nl, &out->overlap_s)) {
    free(c);
    return -1;
  }
  cm_xcorr_pick(c, nl, p, out);
  free(c);
  return 0;
}
