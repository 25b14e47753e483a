/* Host -> reference time from chrony answers: interpolation, the sign of current_correction,
 * stated uncertainty, unsynchronised answers left out, and clock steps detected. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock_ref.h"
#include "cm_util.h"
#include "testutil.h"

static cm_chrony_row row(double t_s, double corr, double delay, double disp, int leap) {
  cm_chrony_row r;
  memset(&r, 0, sizeof r);
  r.t_host_ns = 1795563274000000000LL + (int64_t)llround(t_s * 1e9);
  r.current_correction = corr;
  r.root_delay = delay;
  r.root_dispersion = disp;
  r.leap_status = (uint16_t)leap;
  r.skew_ppm = 10;
  return r;
}

static void test_interpolation(void **s) {
  cm_chrony_row rows[3] = {row(4, 0.30, 0.02, 0.001, 0), row(0, 0.25, 0.01, 0.002, 0),
                           row(8, 0.30, 0.01, 0.001, 0)}; /* unsorted on purpose */
  cm_clock_ref r;
  assert_int_equal(cm_clock_ref_build(rows, 3, 0.02, &r), 0);
  assert_int_equal(r.n_steps, 0);
  double u;
  int64_t base = rows[1].t_host_ns;
  assert_true(fabs(cm_clock_ref_correction(&r, base + 2000000000LL, &u) - 0.275) < 1e-9);
  assert_true(fabs(u - 0.011) < 1e-9); /* max of 0.007 and 0.011 */
  /* held before the first answer, uncertainty growing with skew */
  assert_true(fabs(cm_clock_ref_correction(&r, base - 10000000000LL, &u) - 0.25) < 1e-12);
  assert_true(fabs(u - (0.007 + 10e-6 * 10)) < 1e-9);
  /* positive correction = host clock slow: reference is later */
  int64_t h = base + 6000000000LL;
  int64_t ref = cm_clock_ref_to_ref(&r, h);
  assert_int_equal(ref - h, 300000000LL);
  assert_true(llabs(cm_clock_ref_to_host(&r, ref) - h) <= 1);
  cm_clock_ref_free(&r);
}

static void test_unsynced_and_empty(void **s) {
  cm_chrony_row rows[3] = {row(0, 5.0, 0, 0, 3), row(1, 0.1, 0.01, 0.0, 0), row(2, 0.1, 0.01, 0, 0)};
  cm_clock_ref r;
  assert_int_equal(cm_clock_ref_build(rows, 3, 0.02, &r), 0);
  assert_int_equal(r.n_unsynced, 1);
  assert_true(fabs(cm_clock_ref_correction(&r, rows[0].t_host_ns, NULL) - 0.1) < 1e-12);
  cm_clock_ref_free(&r);
  assert_int_equal(cm_clock_ref_build(rows, 1, 0.02, &r), -1);
  assert_non_null(strstr(cm_error(), "no synchronised chrony answer"));
  assert_int_equal(cm_clock_ref_build(rows, 0, 0.02, &r), -1);
  assert_non_null(strstr(cm_error(), "no chrony answers"));
}

static void test_step_vs_slew(void **s) {
  /* 0.5 s step within 2 s: faster than chronyd can slew -> a step */
  cm_chrony_row a[3] = {row(0, 0.5, 0.01, 0, 0), row(2, 0.0, 0.01, 0, 0), row(4, 0.0, 0.01, 0, 0)};
  cm_clock_ref r;
  assert_int_equal(cm_clock_ref_build(a, 3, 0.02, &r), 0);
  assert_int_equal(r.n_steps, 1);
  assert_true(fabs(r.steps[0].step_s + 0.5) < 1e-12);
  assert_int_equal(r.steps[0].t_before_ns, a[0].t_host_ns);
  cm_clock_ref_free(&r);
  /* 0.1 s over 4 s is a slew (25 ms/s), not a step */
  cm_chrony_row b[2] = {row(0, 0.1, 0.01, 0, 0), row(4, 0.0, 0.01, 0, 0)};
  assert_int_equal(cm_clock_ref_build(b, 2, 0.02, &r), 0);
  assert_int_equal(r.n_steps, 0);
  cm_clock_ref_free(&r);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_interpolation),
      cmocka_unit_test(test_unsynced_and_empty),
      cmocka_unit_test(test_step_vs_slew),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
