/* The bad-input corpus, one test per fault: each faulty session sits next to a good one, and
 * `cmact sync` must skip exactly the faulty one with its reason in the report (or, for a
 * radio hole, drop only the windows over it), never align it silently. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "sessgen.h"
#include "testutil.h"

static char out[1 << 16];

/* Write a good session and a faulty one, run sync over both, return the output. */
static int run_fault(void (*fault)(sg_params *), char **dir_out) {
  char *dir = tu_mkdtemp("sync_bad");
  sg_params p;
  sg_defaults(&p, dir, "good");
  p.duration_s = 4;
  if (sg_write(&p)) fail_msg("sessgen: %s", cm_error());
  sg_defaults(&p, dir, "bad");
  p.duration_s = 4;
  p.seed = 2;
  fault(&p);
  if (sg_write(&p)) fail_msg("sessgen: %s", cm_error());
  /* small windows: the faults are found while planning, and the suite runs under ASan too */
  int rc = tu_run(out, sizeof out, "$CMACT sync %s --out %s/d.h5 --no-refine --window 1 --hop 0.5 --frames 9", dir, dir);
  print_message("%s", out);
  *dir_out = dir;
  return rc;
}

static void expect_skip(void (*fault)(sg_params *), const char *reason) {
  char *dir;
  assert_int_equal(run_fault(fault, &dir), 0);
  assert_non_null(strstr(out, "sessions: 1 used, 1 skipped"));
  assert_non_null(strstr(out, "skipped bad: "));
  assert_non_null(strstr(out, reason));
  char *rep = tu_read_file(tu_path(dir, "d.h5.report.json"), NULL);
  assert_non_null(strstr(rep, reason));
  free(rep);
  tu_rmtree(dir);
  free(dir);
}

static void f_missing(sg_params *p) { p->omit_imu_left = 1; }
static void f_no_overlap(sg_params *p) { p->imu_start_delay_s = 100; }
static void f_backwards(sg_params *p) { p->imu_backwards = 1; }
static void f_step(sg_params *p) { p->clock_step = 1; }
static void f_label(sg_params *p) { p->label = "juggling"; }
static void f_gap(sg_params *p) { p->duration_s = 7, p->imu_gap_at_s = 3.0, p->imu_gap_len_s = 1.6; }

static void test_missing_stream(void **s) { expect_skip(f_missing, "missing stream 'imu_left'"); }
static void test_no_overlap(void **s) { expect_skip(f_no_overlap, "do not overlap"); }
static void test_backwards(void **s) { expect_skip(f_backwards, "go backwards"); }
static void test_clock_step(void **s) { expect_skip(f_step, "host clock stepped"); }
static void test_unknown_label(void **s) { expect_skip(f_label, "unknown label 'juggling'"); }

static void test_gap_longer_than_window(void **s) {
  char *dir;
  assert_int_equal(run_fault(f_gap, &dir), 0);
  assert_non_null(strstr(out, "sessions: 2 used, 0 skipped"));
  char *rep = tu_read_file(tu_path(dir, "d.h5.report.json"), NULL);
  const char *bad = strstr(rep, "\"session_id\":\t\"bad\"");
  assert_non_null(bad);
  const char *g = strstr(bad, "\"gap\":\t");
  assert_non_null(g);
  /* a 1.6 s hole (longer than the 1 s window) drops every window touching it:
   * (1.6 + 1) / 0.5 = 5 give or take one */
  int n_gap = atoi(g + 7);
  assert_true(n_gap >= 4 && n_gap <= 6);
  free(rep);
  tu_rmtree(dir);
  free(dir);
}

static void test_unreadable_file(void **s) {
  char *dir = tu_mkdtemp("sync_bad");
  sg_params p;
  sg_defaults(&p, dir, "good");
  p.duration_s = 4;
  if (sg_write(&p)) fail_msg("sessgen: %s", cm_error());
  FILE *f = fopen(tu_path(dir, "junk.h5"), "w");
  fputs("not hdf5", f);
  fclose(f);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT sync %s --out %s/d.h5 --window 1 --hop 0.5 --frames 9", dir, dir), 0);
  assert_non_null(strstr(out, "sessions: 1 used, 1 skipped"));
  assert_non_null(strstr(out, "junk.h5"));
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_missing_stream), cmocka_unit_test(test_no_overlap),
      cmocka_unit_test(test_backwards),      cmocka_unit_test(test_clock_step),
      cmocka_unit_test(test_unknown_label),  cmocka_unit_test(test_gap_longer_than_window),
      cmocka_unit_test(test_unreadable_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
