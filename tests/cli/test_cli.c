/* The cmact program's contract: --help, --version, help CMD, and exit codes for usage errors. */
#include <string.h>

#include "cm_util.h"
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

/* A 4 KB corrupted file (found by fuzz_formats_read, session 4) whose object header claims a
 * block of gigabytes: opened as a SWMR reader, HDF5 1.10 read and zero-filled all of it, 46 s
 * per command. The SWMR fallback is now tried only when the superblock says a writer had the
 * file open. */
static void test_huge_metadata_block_fails_fast(void **state) {
  int64_t t0 = cm_monotonic_ns();
  int rc = tu_run(out, sizeof out, "timeout 60 $CMACT validate '%s/tests/data/formats/huge-metadata-block.h5'", CMACT_SRC);
  double s = (double)(cm_monotonic_ns() - t0) * 1e-9;
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "huge-metadata-block.h5: cannot open"));
  if (s > 10) fail_msg("took %.1f s to reject a 4 KB file", s);
}

/* A fuzz finding of session 4: an integer attribute whose datatype says precision 0, offset 64.
 * HDF5 1.10 converted it bit by bit from outside its buffer: `cmact validate` died with SIGBUS.
 * Every read in formats/ now checks the file datatype first (h5u_type_sane). */
static void test_damaged_datatype_is_reported(void **state) {
  int rc = tu_run(out, sizeof out, "timeout 60 $CMACT validate '%s/tests/data/formats/damaged-datatype.h5'", CMACT_SRC);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "damaged-datatype.h5: /: attribute 'audio_dim' should be"));
  rc = tu_run(out, sizeof out, "timeout 60 $CMACT inspect '%s/tests/data/formats/damaged-datatype.h5'", CMACT_SRC);
  assert_int_equal(rc, 1);
  rc = tu_run(out, sizeof out, "d=$(mktemp -d) && timeout 60 $CMACT train fit --model imu_cnn "
              "--data '%s/tests/data/formats/damaged-datatype.h5' --out \"$d/m.h5\" --epochs 1; rc=$?; rm -rf \"$d\"; exit $rc",
              CMACT_SRC);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "damaged-datatype.h5: missing shape or class attributes"));
}

/* Another fuzz finding of session 4: an attribute message whose length runs past its object
 * header. HDF5 1.10.8's attribute decoder reads 8 bytes beyond its buffer (the bug class of
 * CVE-2025-2310, HDFGroup/hdf5#5871, fixed upstream after 1.10); cmact cannot prevent that read.
 * Without the sanitizers it is harmless and the file is rejected in one line; under ASan the
 * report comes from inside libhdf5, so that build skips the case. */
static void test_hdf5_attribute_overread_file(void **state) {
#if defined(__SANITIZE_ADDRESS__)
  print_message("SKIP under ASan: the over-read is inside Debian's libhdf5 1.10.8, not in cmact\n");
  skip();
#endif
  int rc = tu_run(out, sizeof out, "timeout 60 $CMACT validate '%s/tests/data/formats/hdf5-attribute-overread.h5'", CMACT_SRC);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "hdf5-attribute-overread.h5: "));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_help_and_version),
      cmocka_unit_test(test_usage_errors),
      cmocka_unit_test(test_corrupted_swmr_file_fails_fast),
      cmocka_unit_test(test_huge_metadata_block_fails_fast),
      cmocka_unit_test(test_hdf5_attribute_overread_file),
      cmocka_unit_test(test_damaged_datatype_is_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
