/* The lower-envelope clock fit against synthetic clocks with known offset, drift and latency
 * distributions: the fit must recover them, its stated uncertainty must cover the true offset
 * error, glitches below the envelope must be rejected and backwards clocks refused. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock_fit.h"
#include "cm_util.h"
#include "testutil.h"

static uint64_t rng_state;
static double urand(void) {
  rng_state ^= rng_state << 13, rng_state ^= rng_state >> 7, rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

enum { LAT_EXP, LAT_UNIFORM, LAT_BURST };

/* A 60 s, 50 Hz sensor whose clock starts at 1e12 ns with the given offset/drift; host times
 * are epoch-sized. BURST: samples travel in packets of 5 that arrive together (BLE). */
static void make(size_t n, double offset_s, double drift_ppm, int lat, int64_t *dev, int64_t *host) {
  const int64_t dev0 = 1000000000000LL, host0 = 1795563274000000000LL;
  double pending = 0;
  for (size_t i = 0; i < n; i++) {
    double td = (double)i * 0.02;
    dev[i] = dev0 + (int64_t)llround(td * 1e9);
    double latency;
    if (lat == LAT_EXP)
      latency = 0.001 - 0.015 * log(1 - urand());
    else if (lat == LAT_UNIFORM)
      latency = 0.050 * urand();
    else {
      if (i % 5 == 0) pending = 0.0075 - 0.010 * log(1 - urand());
      latency = pending + (4 - (double)(i % 5)) * 0.02; /* earlier samples wait for the packet */
    }
    double th = offset_s + td * (1 + drift_ppm * 1e-6) + latency;
    host[i] = host0 + (int64_t)llround(th * 1e9);
  }
}

/* True minus estimated host time at device index i (s), with the latency floor removed. */
static double err_at(const cm_clock_fit *f, const int64_t *dev, size_t i, double offset_s,
                     double drift_ppm, double floor_s) {
  const int64_t host0 = 1795563274000000000LL;
  double td = (double)(dev[i] - dev[0]) * 1e-9;
  double truth = offset_s + td * (1 + drift_ppm * 1e-6) + floor_s;
  return (double)(cm_clock_fit_host(f, dev[i]) - host0) * 1e-9 - truth;
}

static void check_distribution(int lat, double floor_s) {
  enum { N = 3000 };
  int64_t *dev = malloc(N * sizeof *dev), *host = malloc(N * sizeof *host);
  int covered = 0, trials = 20;
  for (int t = 0; t < trials; t++) {
    rng_state = 0x9e3779b97f4a7c15ULL + (uint64_t)t * 7919 + (uint64_t)lat;
    double off = 2.5 + t * 0.1, drift = -80 + 8.0 * t;
    make(N, off, drift, lat, dev, host);
    cm_clock_fit f;
    assert_int_equal(cm_clock_fit_lower(dev, host, N, &f), 0);
    assert_true(fabs(f.drift_ppm - drift) < 40.0); /* the data pin drift to ~10 ppm over 60 s */
    double worst = 0;
    for (size_t i = 0; i < N; i += 100) {
      double e = fabs(err_at(&f, dev, i, off, drift, floor_s));
      if (e > worst) worst = e;
    }
    assert_true(worst < 0.005); /* within 5 ms everywhere on the span */
    if (worst <= f.uncertainty_s) covered++;
    assert_int_equal(f.n_rejected, 0);
  }
  free(dev), free(host);
  /* The stated uncertainty covers the true error in at least 95 % of trials. */
  assert_true(covered >= trials * 95 / 100);
}

static void test_exponential(void **s) { check_distribution(LAT_EXP, 0.001); }
static void test_uniform(void **s) { check_distribution(LAT_UNIFORM, 0.0); }
static void test_bursty_ble(void **s) { check_distribution(LAT_BURST, 0.0075); }

static void test_glitch_rejected(void **s) {
  enum { N = 2000 };
  int64_t dev[N], host[N];
  rng_state = 12345;
  make(N, 1.0, 25, LAT_EXP, dev, host);
  host[700] -= 300000000; /* arrived 0.3 s before it was sent: impossible */
  host[701] -= 250000000;
  cm_clock_fit f;
  assert_int_equal(cm_clock_fit_lower(dev, host, N, &f), 0);
  assert_int_equal(f.n_rejected, 2);
  assert_true(fabs(f.drift_ppm - 25) < 5);
  assert_true(fabs(err_at(&f, dev, 1000, 1.0, 25, 0.001)) < 0.003);
}

static void test_backwards_refused(void **s) {
  int64_t dev[5] = {0, 10, 20, 15, 30}, host[5] = {0, 10, 20, 30, 40};
  cm_clock_fit f;
  assert_int_equal(cm_clock_fit_lower(dev, host, 5, &f), -1);
  assert_non_null(strstr(cm_error(), "backwards at sample 3"));
  int64_t same[3] = {7, 7, 7};
  assert_int_equal(cm_clock_fit_lower(same, host, 3, &f), -1);
  assert_int_equal(cm_clock_fit_lower(dev, host, 1, &f), -1);
}

static void test_inverse(void **s) {
  enum { N = 500 };
  int64_t dev[N], host[N];
  rng_state = 99;
  make(N, -4.0, 300, LAT_UNIFORM, dev, host);
  cm_clock_fit f;
  assert_int_equal(cm_clock_fit_lower(dev, host, N, &f), 0);
  for (size_t i = 0; i < N; i += 37) {
    int64_t h = cm_clock_fit_host(&f, dev[i]);
    assert_true(llabs(cm_clock_fit_dev(&f, h) - dev[i]) <= 2);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_exponential),    cmocka_unit_test(test_uniform),
      cmocka_unit_test(test_bursty_ble),     cmocka_unit_test(test_glitch_rejected),
      cmocka_unit_test(test_backwards_refused), cmocka_unit_test(test_inverse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
