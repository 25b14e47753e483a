/*
 * The chrony client: Float decoding and reply parsing on hand-built packets (encoded here by an
 * independent encoder written from candm.h's description), then the real thing: a chronyd
 * client synchronised to a chronyd server on loopback with a known 0.25 s offset, asked by
 * cm_chrony_tracking() and by `chronyc -c tracking` against the same socket; the answers must
 * agree.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chrony_client.h"
#include "cm_util.h"
#include "rec_env.h"
#include "testutil.h"

/* Encode a double the way candm.h describes: largest exponent keeping the coefficient in 25
 * signed bits. */
static uint32_t float_encode(double x) {
  if (x == 0) return 0;
  int e;
  frexp(x, &e); /* |x| = m * 2^e, 0.5 <= m < 1 */
  int exp = e - 24 + 25; /* coef = x * 2^(25 - exp) lands in [2^23, 2^24) */
  if (exp > 63) exp = 63;
  if (exp < -64) exp = -64;
  long coef = lround(ldexp(x, 25 - exp));
  return ((uint32_t)(exp & 0x7f) << 25) | ((uint32_t)coef & 0x1ffffff);
}

static void put32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

static void test_float_decode(void **state) {
  assert_true(cm_chrony_float_decode(0) == 0.0);
  /* exp 0, coef 1: 2^-25 */
  assert_true(cm_chrony_float_decode(1) == ldexp(1, -25));
  /* exp 0, coef -1 (all 25 bits set) */
  assert_true(cm_chrony_float_decode(0x1ffffff) == -ldexp(1, -25));
  /* exp 25, coef 3: 3.0 */
  assert_true(cm_chrony_float_decode((25u << 25) | 3) == 3.0);
  /* exp -1 (0x7f), coef 1: 2^-26 */
  assert_true(cm_chrony_float_decode((0x7fu << 25) | 1) == ldexp(1, -26));
  double values[] = {0.25, -0.000123456, 1e-9, 123.456, -42.0, 0.3};
  for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
    double v = cm_chrony_float_decode(float_encode(values[i]));
    assert_true(fabs(v - values[i]) <= fabs(values[i]) * 1e-7);
  }
}

static void build_reply(uint8_t *b, uint32_t seq) {
  memset(b, 0, 104);
  b[0] = 6; b[1] = 2;
  b[4] = 0; b[5] = 33; /* command echo */
  b[6] = 0; b[7] = 5;  /* RPY_TRACKING */
  put32(b + 16, seq);
  put32(b + 28, 0x7F000001);
  b[48] = 0; b[49] = 1; /* IPv4 */
  b[53] = 9;            /* stratum */
  b[55] = 0;            /* leap normal */
  /* The live example of COMPONENTS.md: ref_time 1795563274.923011290 */
  put32(b + 56, 0); put32(b + 60, 0x6b061f0a); put32(b + 64, 0x370408da);
  double f[9] = {0.25, -1.9e-8, 7.1e-6, 0.281, -0.002, 6.835, 1.2e-5, 5.8e-6, 0.3};
  for (int i = 0; i < 9; i++) put32(b + 68 + 4 * i, float_encode(f[i]));
}

static void test_parse_tracking(void **state) {
  uint8_t b[104];
  cm_chrony_row r;
  build_reply(b, 77);
  assert_int_equal(cm_chrony_parse_tracking(b, sizeof b, 77, &r), 0);
  assert_int_equal(r.ref_id, 0x7F000001);
  assert_int_equal(r.stratum, 9);
  assert_int_equal(r.leap_status, 0);
  assert_true(r.ref_time_ns == 1795563274LL * 1000000000LL + 923011290LL);
  assert_true(fabs(r.current_correction - 0.25) < 1e-8);
  assert_true(fabs(r.freq_ppm - 0.281) < 1e-6);
  assert_true(fabs(r.root_delay - 1.2e-5) < 1e-12);
  assert_true(fabs(r.last_update_interval - 0.3) < 1e-7);

  /* TV_NOHIGHSEC in the high word means a 32-bit timestamp. */
  put32(b + 56, 0x7fffffff);
  assert_int_equal(cm_chrony_parse_tracking(b, sizeof b, 77, &r), 0);
  assert_true(r.ref_time_ns == 1795563274LL * 1000000000LL + 923011290LL);

  /* Refusals name the reason. */
  assert_int_equal(cm_chrony_parse_tracking(b, sizeof b, 78, &r), -1);
  assert_non_null(strstr(cm_error(), "sequence"));
  assert_int_equal(cm_chrony_parse_tracking(b, 20, 77, &r), -1);
  assert_non_null(strstr(cm_error(), "too short"));
  assert_int_equal(cm_chrony_parse_tracking(b, 60, 77, &r), -1);
  b[9] = 19; /* BADPKTLENGTH */
  assert_int_equal(cm_chrony_parse_tracking(b, 28, 77, &r), -1);
  assert_non_null(strstr(cm_error(), "bad packet length"));
  b[9] = 0;
  b[0] = 5;
  assert_int_equal(cm_chrony_parse_tracking(b, sizeof b, 77, &r), -1);
  assert_non_null(strstr(cm_error(), "version"));
}

static void test_request_bytes(void **state) {
  uint8_t q[CM_CHRONY_TRACKING_LEN];
  memset(q, 0xAA, sizeof q);
  cm_chrony_build_tracking_request(q, 0x01020304);
  const uint8_t head[12] = {6, 1, 0, 0, 0, 33, 0, 0, 1, 2, 3, 4};
  assert_memory_equal(q, head, 12);
  for (int i = 12; i < CM_CHRONY_TRACKING_LEN; i++) assert_int_equal(q[i], 0);
}

static void test_unreachable(void **state) {
  cm_chrony_row r;
  char *dir = tu_mkdtemp("chrony-none");
  assert_int_equal(cm_chrony_tracking(tu_path(dir, "no.sock"), 200, &r), -1);
  assert_non_null(strstr(cm_error(), "no.sock"));
  tu_rmtree(dir);
  free(dir);
}

/* Field k (0-based) of chronyc's CSV line. */
static double csv_field(const char *line, int k) {
  const char *p = line;
  for (int i = 0; i < k && p; i++) {
    p = strchr(p, ',');
    if (p) p++;
  }
  assert_non_null(p);
  return strtod(p, NULL);
}

static void test_live_chronyd(void **state) {
  char *dir = tu_mkdtemp("chrony");
  char sock[512], out[4096];
  assert_non_null(dir);
  if (rec_env_chrony_start(dir, 0.25, sock, sizeof sock) != 0) {
    rec_env_chrony_stop(dir);
    fail_msg("chronyd did not start");
  }
  cm_chrony_row r;
  int rc = cm_chrony_tracking(sock, 1000, &r);
  int crc = tu_run(out, sizeof out, "chronyc -h '%s' -c tracking", sock);
  rec_env_chrony_stop(dir);
  if (rc != 0) fail_msg("cm_chrony_tracking: %s", cm_error());
  assert_int_equal(crc, 0);
  printf("chronyc: %s", out);
  printf("ours: ref %08X stratum %u leap %u corr %.9f delay %.9f disp %.9f freq %.3f\n",
         r.ref_id, r.stratum, r.leap_status, r.current_correction, r.root_delay,
         r.root_dispersion, r.freq_ppm);
  assert_int_equal(r.ref_id, (uint32_t)strtoul(out, NULL, 16));
  assert_int_equal(r.stratum, (int)csv_field(out, 2));
  assert_int_equal(r.leap_status, 0);
  assert_non_null(strstr(out, ",Normal"));
  /* The two answers are a few ms apart; the virtual correction moves by microseconds. */
  assert_true(fabs(r.current_correction - csv_field(out, 4)) < 2e-4);
  assert_true(fabs(r.current_correction - 0.25) < 0.01);
  assert_true(fabs(r.ref_time_ns / 1e9 - csv_field(out, 3)) < 2.0);
  assert_true(fabs(r.root_delay - csv_field(out, 10)) < 1e-3);
  assert_true(fabs(r.freq_ppm - csv_field(out, 7)) < 50);
  assert_true(llabs(r.t_host_ns - cm_realtime_ns()) < 5000000000LL);
  /* The reply socket was removed again. */
  assert_int_equal(tu_run(out, sizeof out, "ls '%s/chr/cli' | grep -c cmact-chrony", dir), 1);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_float_decode),
      cmocka_unit_test(test_parse_tracking),
      cmocka_unit_test(test_request_bytes),
      cmocka_unit_test(test_unreachable),
      cmocka_unit_test(test_live_chronyd),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
