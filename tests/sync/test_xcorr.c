/* Cross-correlation offsets: a known shift between two noisy views of the same irregular
 * motion is recovered to within a grid step and marked confident; a periodic motion (whose
 * correlation has equal peaks one period apart) and unrelated signals are marked not
 * confident; too short an overlap is an error. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "testutil.h"
#include "xcorr.h"

static uint64_t rs;
static double urand(void) {
  rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
  return (double)(rs >> 11) / 9007199254740992.0;
}
static double gauss(void) { return sqrt(-2 * log(1 - urand())) * cos(6.283185307179586 * urand()); }

/* Motion energy: bursts at irregular times (steps of an uneven activity). */
static double motion(double t, const double *ev, int ne, double period) {
  double v = 0;
  if (period > 0) return 1 + sin(6.283185307179586 * t / period);
  for (int i = 0; i < ne; i++) v += exp(-(t - ev[i]) * (t - ev[i]) / (2 * 0.03 * 0.03));
  return v;
}

static void run_case(double shift, double period, double noise, int related, cm_xcorr_result *r) {
  enum { NA = 300, NB = 1000 }; /* 30 fps video, 100 Hz IMU over 10 s */
  double ev[40], ev2[40];
  for (int i = 0; i < 40; i++) ev[i] = urand() * 10, ev2[i] = urand() * 10;
  static double ta[NA], va[NA], tb[NB], vb[NB];
  for (int i = 0; i < NA; i++) ta[i] = i / 30.0, va[i] = motion(ta[i], ev, 40, period) + noise * gauss();
  /* b's clock reads late by `shift`: its sample of true time t is stamped t + shift */
  for (int i = 0; i < NB; i++) {
    double t_true = i / 100.0;
    tb[i] = t_true + shift;
    vb[i] = motion(t_true, related ? ev : ev2, 40, period) + noise * gauss();
  }
  cm_xcorr_params p;
  cm_xcorr_default_params(&p);
  assert_int_equal(cm_xcorr_offset(ta, va, NA, tb, vb, NB, &p, r), 0);
}

static void test_recovers_shift(void **s) {
  double shifts[] = {0.0, 0.137, -0.42, 0.8, -0.05};
  for (int k = 0; k < 5; k++) {
    rs = 1000 + k;
    cm_xcorr_result r;
    run_case(shifts[k], 0, 0.2, 1, &r);
    assert_true(fabs(r.lag_s + shifts[k]) < 0.01);
    assert_true(r.confident);
    assert_true(fabs(r.lag_s + shifts[k]) <= r.uncertainty_s);
  }
}

static void test_periodic_not_confident(void **s) {
  rs = 77;
  cm_xcorr_result r;
  run_case(0.2, 0.5, 0.05, 1, &r);
  assert_false(r.confident);
  assert_true(r.peak_ratio < 1.15);
}

/* Rival peaks: a periodic motion leaves near-equal peaks a period apart, counted with the
 * distance to the farthest (what an honest uncertainty must add); an irregular one leaves none. */
static void test_rival_peaks(void **s) {
  rs = 78;
  cm_xcorr_result r;
  run_case(0.2, 0.5, 0.05, 1, &r);
  assert_true(r.n_alias >= 2);
  assert_true(r.alias_spread_s >= 0.45 && r.alias_spread_s <= 1.05);
  rs = 1000;
  run_case(0.137, 0, 0.2, 1, &r);
  assert_int_equal(r.n_alias, 0);
  assert_true(r.alias_spread_s == 0);
}

/* The main lobe's half width at half maximum: a sinusoid of period P correlates as cos(2 pi
 * lag / P), above half its peak for |lag| < P / 6; bursts 30 ms wide (sigma) as a Gaussian
 * of sigma 42 ms, half height at 50 ms. */
static void test_lobe_width(void **s) {
  rs = 79;
  cm_xcorr_result r;
  run_case(0.2, 0.5, 0.05, 1, &r);
  assert_true(r.hwhm_s > 0.5 / 6 - 0.02 && r.hwhm_s < 0.5 / 6 + 0.02);
  rs = 1000;
  run_case(0.137, 0, 0.2, 1, &r);
  assert_true(r.hwhm_s > 0.035 && r.hwhm_s < 0.07);
}

/* Curves of two cue pairs (two noisy views of the same events), summed, peak at the shared lag
 * and no lower than either alone. */
static void test_curve_sum(void **s) {
  enum { N = 1000 };
  static double t[N], a[N], b[N], b2[N];
  double ev[30];
  rs = 99;
  for (int i = 0; i < 30; i++) ev[i] = urand() * 10;
  /* b and b2 see the events 0.3 s late: their clocks read late by 0.3 s, so lag = -0.3 */
  for (int i = 0; i < N; i++) {
    t[i] = i / 100.0;
    a[i] = motion(t[i], ev, 30, 0) + 0.3 * gauss();
    b[i] = motion(t[i] - 0.3, ev, 30, 0) + 0.8 * gauss();
    b2[i] = motion(t[i] - 0.3, ev, 30, 0) + 0.8 * gauss();
  }
  cm_xcorr_params p;
  cm_xcorr_default_params(&p);
  size_t nl = 2 * (size_t)ceil(p.max_lag_s * p.grid_hz) + 1, k;
  double *c1 = malloc(nl * sizeof *c1), *c2 = malloc(nl * sizeof *c2);
  assert_int_equal(cm_xcorr_curve(t, a, N, t, b, N, &p, c1, &k, NULL), 0);
  assert_int_equal(k, nl);
  assert_int_equal(cm_xcorr_curve(t, a, N, t, b2, N, &p, c2, &k, NULL), 0);
  cm_xcorr_result r1, r2, rs_;
  cm_xcorr_pick(c1, nl, &p, &r1);
  cm_xcorr_pick(c2, nl, &p, &r2);
  for (size_t i = 0; i < nl; i++) c1[i] = 0.5 * (c1[i] + c2[i]);
  cm_xcorr_pick(c1, nl, &p, &rs_);
  assert_true(fabs(rs_.lag_s + 0.3) < 0.02);
  assert_true(rs_.psr >= fmin(r1.psr, r2.psr));
  free(c1), free(c2);
}

static void test_unrelated_not_confident(void **s) {
  int confident = 0;
  for (int k = 0; k < 10; k++) {
    rs = 500 + k;
    cm_xcorr_result r;
    run_case(0.0, 0, 0.5, 0, &r);
    confident += r.confident;
  }
  assert_true(confident <= 1);
}

static void test_short_overlap(void **s) {
  double t[10], v[10];
  for (int i = 0; i < 10; i++) t[i] = i * 0.1, v[i] = i;
  cm_xcorr_params p;
  cm_xcorr_default_params(&p);
  cm_xcorr_result r;
  assert_int_equal(cm_xcorr_offset(t, v, 10, t, v, 10, &p, &r), -1);
  assert_non_null(strstr(cm_error(), "overlap"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_recovers_shift),
      cmocka_unit_test(test_periodic_not_confident),
      cmocka_unit_test(test_unrelated_not_confident),
      cmocka_unit_test(test_rival_peaks),
      cmocka_unit_test(test_lobe_width),
      cmocka_unit_test(test_curve_sum),
      cmocka_unit_test(test_short_overlap),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
