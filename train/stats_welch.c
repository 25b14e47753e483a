/* Welch's t-test and what it needs (see stats.h). */
#include <math.h>

#include "stats.h"

double stats_mean(const double *x, size_t n) {
  if (n == 0) return NAN;
  double s = 0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s / (double)n;
}

double stats_sd(const double *x, size_t n) {
  if (n < 2) return 0;
  double m = stats_mean(x, n), s = 0;
  for (size_t i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return sqrt(s / (double)(n - 1));
}

/* Continued fraction of I_x(a, b) (modified Lentz), converging fast for x < (a+1)/(a+b+2). */
static double betacf(double a, double b, double x) {
  const double tiny = 1e-300, eps = 1e-15;
  double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
  if (fabs(d) < tiny) d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; m++) {
    int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (fabs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (fabs(c) < tiny) c = tiny;
    d = 1 / d;
    double del = d * c;
    h *= del;
    if (fabs(del - 1) < eps) break;
  }
  return h;
}

double stats_betai(double a, double b, double x) {
  if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1)) return NAN;
  if (x == 0 || x == 1) return x;
  double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return exp(lbt) * betacf(a, b, x) / a;
  return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double stats_t_two_sided_p(double t, double df) {
  if (!(df > 0) || isnan(t)) return NAN;
  if (isinf(t)) return 0;
  return stats_betai(df / 2, 0.5, df / (df + t * t));
}

stats_welch stats_welch_test(const double *a, size_t na, const double *b, size_t nb) {
  stats_welch w = {NAN, NAN, NAN};
  if (na < 2 || nb < 2) return w;
  double ma = stats_mean(a, na), mb = stats_mean(b, nb);
  double va = stats_sd(a, na), vb = stats_sd(b, nb);
  va = va * va / (double)na, vb = vb * vb / (double)nb;
  double se2 = va + vb;
  if (se2 == 0) {
    if (ma != mb) w.t = ma > mb ? INFINITY : -INFINITY, w.df = (double)(na + nb - 2), w.p = 0;
    return w;
  }
  w.t = (ma - mb) / sqrt(se2);
  w.df = se2 * se2 / (va * va / (double)(na - 1) + vb * vb / (double)(nb - 1));
  w.p = stats_t_two_sided_p(w.t, w.df);
  return w;
}
