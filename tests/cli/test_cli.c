/* The cmact program's contract: --help, --version, help CMD, and exit codes for usage errors. */
#include <string.h>

#include "testutil.h"

static char out[65536];

static void test_help_and_version(void **state) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT --help"), 0);
  assert_non_null(strstr(out, "usage: cmact"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT --version"), 0);
  assert_non_null(strstr(out, "cmact " CMACT_VERSION));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT help"), 0);
}

static void test_usage_errors(void **state) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT no-such-command"), 2);
  assert_non_null(strstr(out, "'no-such-command' is not a cmact command"));
  /* one line */
  assert_null(strchr(out, '\n') == out + strlen(out) - 1 ? NULL : out);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT help no-such-command"), 2);
}

/* A corrupted SWMR file whose metadata checksums fail: HDF5's default retry loop (100 attempts,
 * doubling sleeps) hung here for ever; the reader must answer with one line, quickly. */
static void test_corrupted_swmr_file_fails_fast(void **state) {
  int rc = tu_run(out, sizeof out,
                  "timeout 60 $CMACT validate '%s/tests/fuzz/corpus/formats/swmr-checksum-retry-hang.h5'",
                  CMACT_SRC);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "swmr-checksum-retry-hang.h5"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_help_and_version),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_corrupted_swmr_file_fails_fast),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
