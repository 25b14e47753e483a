/*
 * The PMD decoder against frames written out byte by byte from the published format
 * (../shared/PROTOCOLS.md section 1): every ACC and GYRO frame type the format defines, every
 * raw resolution (8, 16, 24 bits), every delta width from 1 to 32 bits, the control-point
 * commands and responses, the time stamps, and the malformed inputs a radio can deliver.
 *
 * The hand-written frames spell out their expected numbers in the comments. The width sweep
 * builds its payloads with a bit writer of its own (one bit at a time, unlike the decoder's
 * word-wise reader), so the test and the decoder share no code.
 */
#include <math.h>
#include <string.h>

#include "cm_util.h"
#include "pmd_decode.h"
#include "testutil.h"

#define T0 0x0000000100000000ULL /* a frame time: 4.29 s after 2000-01-01 on the sensor */

/* header: measurement, u64 LE time, frame-type byte */
static size_t header(uint8_t *b, int meas, uint64_t t, int ftype) {
  b[0] = (uint8_t)meas;
  for (int i = 0; i < 8; i++) b[1 + i] = (uint8_t)(t >> (8 * i));
  b[9] = (uint8_t)ftype;
  return 10;
}

static long decode(const uint8_t *b, size_t n, float factor, cm_pmd_value *v, size_t max) {
  cm_pmd_frame f;
  assert_int_equal(cm_pmd_frame_parse(b, n, &f), 0);
  return cm_pmd_decode_values(&f, factor, v, max);
}

static void test_acc_raw_all_resolutions(void **st) {
  uint8_t b[64];
  cm_pmd_value v[4];
  /* int8: (1,-2,3), (-128,127,0) mG */
  size_t n = header(b, CM_PMD_ACC, T0, 0x00);
  const uint8_t p8[] = {0x01, 0xFE, 0x03, 0x80, 0x7F, 0x00};
  memcpy(b + n, p8, sizeof p8);
  assert_int_equal(decode(b, n + sizeof p8, 1.0f, v, 4), 2);
  assert_true(v[0].sdk[0] == 1 && v[0].sdk[1] == -2 && v[0].sdk[2] == 3);
  assert_true(v[1].sdk[0] == -128 && v[1].sdk[1] == 127 && v[1].sdk[2] == 0);
  assert_float_equal(v[1].si[0], -128 * 9.80665e-3, 1e-6);
  /* int16: (1000,-1000,-1) mG; a factor never applies to raw frames */
  n = header(b, CM_PMD_ACC, T0, 0x01);
  const uint8_t p16[] = {0xE8, 0x03, 0x18, 0xFC, 0xFF, 0xFF};
  memcpy(b + n, p16, sizeof p16);
  assert_int_equal(decode(b, n + sizeof p16, 0.5f, v, 4), 1);
  assert_true(v[0].sdk[0] == 1000 && v[0].sdk[1] == -1000 && v[0].sdk[2] == -1);
  assert_float_equal(v[0].si[0], 9.80665, 1e-5);
  /* int24: (-8388608, 8388607, 1000) mG */
  n = header(b, CM_PMD_ACC, T0, 0x02);
  const uint8_t p24[] = {0x00, 0x00, 0x80, 0xFF, 0xFF, 0x7F, 0xE8, 0x03, 0x00};
  memcpy(b + n, p24, sizeof p24);
  assert_int_equal(decode(b, n + sizeof p24, 1.0f, v, 4), 1);
  assert_true(v[0].sdk[0] == -8388608.0f && v[0].sdk[1] == 8388607.0f && v[0].sdk[2] == 1000);
  /* a cut-off sample is an error, not a silently shorter frame */
  assert_int_equal(decode(b, n + sizeof p24 - 1, 1.0f, v, 4), -1);
  assert_non_null(strstr(cm_error(), "whole number"));
}

static void test_acc_delta_type0_in_g(void **st) {
  /* reference (4096,-4096,0); one block of width 4, 2 samples: deltas (1,-1,7), (-8,0,2)
   * nibbles LSB first: 0xF1 = 1|-1, 0x87 = 7|-8, 0x20 = 0|2
   * -> (4097,-4097,7), (4089,-4097,9); factor 2^-12 G per count */
  uint8_t b[64];
  size_t n = header(b, CM_PMD_ACC, T0, 0x80);
  const uint8_t p[] = {0x00, 0x10, 0x00, 0xF0, 0x00, 0x00, 0x04, 0x02, 0xF1, 0x87, 0x20};
  memcpy(b + n, p, sizeof p);
  cm_pmd_value v[8];
  assert_int_equal(decode(b, n + sizeof p, 1.0f / 4096, v, 8), 3);
  assert_true(v[0].sdk[0] == 1000 && v[0].sdk[1] == -1000 && v[0].sdk[2] == 0); /* 1 G = 1000 mG */
  assert_float_equal(v[0].si[0], 9.80665, 1e-5);
  /* 4097/4096 G = 1000.244 mG, truncated toward zero by the SDK; SI keeps the fraction */
  assert_true(v[1].sdk[0] == 1000 && v[1].sdk[1] == -1000 && v[1].sdk[2] == 1);
  assert_float_equal(v[1].si[0], 4097.0 / 4096 * 9.80665, 1e-5);
  assert_float_equal(v[1].si[2], 7.0 / 4096 * 9.80665, 1e-6);
  assert_true(v[2].sdk[0] == 998 && v[2].sdk[1] == -1000 && v[2].sdk[2] == 2);
}

static void test_acc_delta_type1_in_mg(void **st) {
  /* reference (10,-20,1000); width 2, 3 samples: (1,-2,0), (-1,1,1), (0,0,-1)
   * 2-bit fields LSB first: 0xC9 = 01 10 00 11, 0x05 = 01 01 00 00, 0x03 = 11 */
  uint8_t b[64];
  size_t n = header(b, CM_PMD_ACC, T0, 0x81);
  const uint8_t p[] = {0x0A, 0x00, 0xEC, 0xFF, 0xE8, 0x03, 0x02, 0x03, 0xC9, 0x05, 0x03};
  memcpy(b + n, p, sizeof p);
  cm_pmd_value v[8];
  assert_int_equal(decode(b, n + sizeof p, 1.0f, v, 8), 4);
  const float want[4][3] = {{10, -20, 1000}, {11, -22, 1000}, {10, -21, 1001}, {10, -21, 1000}};
  for (int i = 0; i < 4; i++)
    for (int c = 0; c < 3; c++) {
      assert_true(v[i].sdk[c] == want[i][c]);
      assert_float_equal(v[i].si[c], want[i][c] * 9.80665e-3, 1e-6);
    }
  /* with a factor != 1 the SDK scales and truncates: 11 x 0.5 = 5.5 -> 5, -21 x 0.5 -> -10 */
  assert_int_equal(decode(b, n + sizeof p, 0.5f, v, 8), 4);
  assert_true(v[1].sdk[0] == 5 && v[2].sdk[1] == -10);
  assert_float_equal(v[1].si[0], 5.5 * 9.80665e-3, 1e-7);
}

static void test_gyro_delta_type0(void **st) {
  /* reference (100,-100,0) x factor 2000/32768 deg/s; width 8, 1 sample: (+1,-1,-128) */
  uint8_t b[64];
  size_t n = header(b, CM_PMD_GYRO, T0, 0x80);
  const uint8_t p[] = {0x64, 0x00, 0x9C, 0xFF, 0x00, 0x00, 0x08, 0x01, 0x01, 0xFF, 0x80};
  memcpy(b + n, p, sizeof p);
  cm_pmd_value v[4];
  const float k = 0.06103515625f; /* float32 0x3D7A0000 */
  assert_int_equal(decode(b, n + sizeof p, k, v, 4), 2);
  assert_true(v[0].sdk[0] == 100 * k && v[0].sdk[1] == -100 * k && v[0].sdk[2] == 0);
  assert_true(v[1].sdk[0] == 101 * k && v[1].sdk[1] == -101 * k && v[1].sdk[2] == -128 * k);
  assert_float_equal(v[1].si[2], -128 * 0.06103515625 * M_PI / 180, 1e-7);
}

static void test_gyro_delta_type1_float_patterns(void **st) {
  /* reference 1.5f (3FC00000), -2.0f (C0000000), 0.0f; width 32, 1 sample: deltas
   * 0x00800000, 0x00800000, 0x3E800000 -> 3.0f (40400000), -4.0f (C0800000), 0.25f */
  uint8_t b[64];
  size_t n = header(b, CM_PMD_GYRO | 0x40, T0, 0x81); /* bits 6-7 of byte 0 are not the type */
  const uint8_t p[] = {0x00, 0x00, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x00,
                       0x20, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x00,
                       0x00, 0x00, 0x80, 0x3E};
  memcpy(b + n, p, sizeof p);
  cm_pmd_value v[4];
  assert_int_equal(decode(b, n + sizeof p, 1.0f, v, 4), 2);
  assert_true(v[0].sdk[0] == 1.5f && v[0].sdk[1] == -2.0f && v[0].sdk[2] == 0.0f);
  assert_true(v[1].sdk[0] == 3.0f && v[1].sdk[1] == -4.0f && v[1].sdk[2] == 0.25f);
  assert_int_equal(decode(b, n + sizeof p, 2.0f, v, 4), 2);
  assert_true(v[1].sdk[0] == 6.0f);
  assert_float_equal(v[1].si[1], -8.0 * M_PI / 180, 1e-7);
}

/* ---- every delta width, through an independent bit writer ---- */

typedef struct {
  uint8_t *buf;
  size_t bit;
} bitw;

static void put_bits(bitw *w, uint32_t v, int width) {
  for (int i = 0; i < width; i++, w->bit++)
    if ((v >> i) & 1) w->buf[w->bit / 8] |= (uint8_t)(1u << (w->bit % 8));
}

static void test_every_delta_width(void **st) {
  for (int width = 1; width <= 32; width++) {
    int bits = width <= 16 ? 16 : 32;
    int ftype = bits == 16 ? 0x80 : 0x81;
    uint8_t b[512] = {0};
    size_t n = header(b, CM_PMD_GYRO, T0, ftype);
    int32_t ref[3] = {-5, 7, bits == 16 ? 32767 : 123456};
    for (int c = 0; c < 3; c++)
      for (int k = 0; k < bits / 8; k++) b[n++] = (uint8_t)((uint32_t)ref[c] >> (8 * k));
    /* deltas: the extremes of the width and a few in between, 5 samples of 3 channels */
    int64_t lo = -(1LL << (width - 1)), hi = (1LL << (width - 1)) - 1;
    int64_t d[15] = {lo, hi, 0, -1 < lo ? 0 : -1, hi > 0 ? 1 : 0, lo / 2, hi / 3, lo, 0, hi,
                     0, 0, hi, lo, -1 >= lo ? -1 : 0};
    b[n++] = (uint8_t)width;
    b[n++] = 5;
    bitw w = {b + n, 0};
    for (int i = 0; i < 15; i++) put_bits(&w, (uint32_t)d[i], width);
    n += (w.bit + 7) / 8;
    cm_pmd_frame f;
    assert_int_equal(cm_pmd_frame_parse(b, n, &f), 0);
    int32_t raw[6 * 3];
    size_t got;
    assert_int_equal(cm_pmd_unpack_delta(f.payload, f.n_payload, 3, bits, raw, 6, &got), 0);
    assert_int_equal(got, 6);
    uint32_t cur[3] = {(uint32_t)ref[0], (uint32_t)ref[1], (uint32_t)ref[2]};
    for (int s = 1; s < 6; s++)
      for (int c = 0; c < 3; c++) {
        cur[c] += (uint32_t)d[(s - 1) * 3 + c];
        if (raw[s * 3 + c] != (int32_t)cur[c])
          fail_msg("width %d sample %d channel %d: %d, want %d", width, s, c, raw[s * 3 + c],
                   (int32_t)cur[c]);
      }
  }
}

static void test_one_bit_delta_is_twos_complement(void **st) {
  /* width 1: field 1 is -1 (Polar's SDK would make it +2^31-1, see docs/design.md) */
  const uint8_t p[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x39}; /* 111 001 */
  int32_t raw[9];
  size_t got;
  assert_int_equal(cm_pmd_unpack_delta(p, sizeof p, 3, 16, raw, 3, &got), 0);
  assert_int_equal(got, 3);
  assert_true(raw[3] == -1 && raw[4] == 0 && raw[5] == 0);
  assert_true(raw[6] == -2 && raw[7] == -1 && raw[8] == -1);
}

static void test_several_blocks_and_limits(void **st) {
  /* ref (0,0,0); block 4-bit x1 (+1,+2,+3); block 8-bit x1 (-1,-2,-3) */
  const uint8_t p[] = {0, 0, 0, 0, 0, 0, 0x04, 0x01, 0x21, 0x03, 0x08, 0x01, 0xFF, 0xFE, 0xFD};
  int32_t raw[9];
  size_t got;
  assert_int_equal(cm_pmd_unpack_delta(p, sizeof p, 3, 16, raw, 3, &got), 0);
  assert_int_equal(got, 3);
  assert_true(raw[3] == 1 && raw[4] == 2 && raw[5] == 3 && raw[6] == 0 && raw[7] == 0 && raw[8] == 0);
  /* room for 2 samples only */
  assert_int_equal(cm_pmd_unpack_delta(p, sizeof p, 3, 16, raw, 2, &got), -1);
  /* cut inside the second block: the first two samples are whole */
  assert_int_equal(cm_pmd_unpack_delta(p, sizeof p - 1, 3, 16, raw, 3, &got), -1);
  assert_int_equal(got, 2);
  assert_non_null(strstr(cm_error(), "after 2 samples"));
  /* a lone byte where a block header should be */
  assert_int_equal(cm_pmd_unpack_delta(p, 7, 3, 16, raw, 3, &got), -1);
  assert_int_equal(got, 1);
  /* width 0 and width 33 are not deltas */
  uint8_t q[sizeof p];
  memcpy(q, p, sizeof p);
  q[6] = 0;
  assert_int_equal(cm_pmd_unpack_delta(q, sizeof q, 3, 16, raw, 3, &got), -1);
  q[6] = 33;
  assert_int_equal(cm_pmd_unpack_delta(q, sizeof q, 3, 16, raw, 3, &got), -1);
  /* reference cut off */
  assert_int_equal(cm_pmd_unpack_delta(p, 5, 3, 16, raw, 3, &got), -1);
}

static void test_frame_header_and_rejections(void **st) {
  uint8_t b[32];
  size_t n = header(b, 0xC2, 0x0123456789ABCDEFULL, 0x8D); /* type 13 compressed */
  cm_pmd_frame f;
  assert_int_equal(cm_pmd_frame_parse(b, n, &f), 0);
  assert_int_equal(f.measurement, CM_PMD_ACC);
  assert_true(f.t_sensor_ns == 0x0123456789ABCDEFULL);
  assert_int_equal(f.frame_type, 13);
  assert_int_equal(f.compressed, 1);
  assert_int_equal(f.n_payload, 0);
  cm_pmd_value v[4];
  assert_int_equal(cm_pmd_decode_values(&f, 1.0f, v, 4), -1); /* ACC type 13: not ACC data */
  b[9] = 0x7F; /* unknown type */
  assert_int_equal(cm_pmd_frame_parse(b, n, &f), -1);
  b[9] = 0x0B;
  assert_int_equal(cm_pmd_frame_parse(b, n, &f), -1);
  assert_int_equal(cm_pmd_frame_parse(b, 9, &f), -1); /* header cut off */
  /* raw GYRO is not decoded (the SDK decodes none either) */
  n = header(b, CM_PMD_GYRO, T0, 0x01);
  memset(b + n, 0, 6);
  assert_int_equal(decode(b, n + 6, 1.0f, v, 4), -1);
  /* a PPG frame is not IMU data */
  n = header(b, CM_PMD_PPG, T0, 0x00);
  assert_int_equal(decode(b, n + 6, 1.0f, v, 4), -1);
  /* compressed ACC type 2 does not exist */
  n = header(b, CM_PMD_ACC, T0, 0x82);
  assert_int_equal(decode(b, n + 6, 1.0f, v, 4), -1);
  /* more samples than room */
  n = header(b, CM_PMD_ACC, T0, 0x00);
  assert_int_equal(decode(b, n + 6, 1.0f, v, 1), -1);
}

static void test_sample_times(void **st) {
  uint64_t t[8];
  /* from the previous frame: step (T - P)/n, samples at P+step .. T */
  uint64_t P = 800000000000000000ULL, T = P + 30000000;
  assert_int_equal(cm_pmd_sample_times(P, T, 3, 52, t), 0);
  assert_true(t[0] == P + 10000000 && t[1] == P + 20000000 && t[2] == T);
  /* a third of a ns away from whole: rounded to the nearest ns, the last exact */
  assert_int_equal(cm_pmd_sample_times(P, P + 1000, 3, 0, t), 0);
  assert_true(t[0] == P + 333 && t[1] == P + 667 && t[2] == P + 1000);
  /* ties go to even: P=100, T=101, n=2 -> 100.5 -> 100 */
  assert_int_equal(cm_pmd_sample_times(100, 101, 2, 0, t), 0);
  assert_true(t[0] == 100 && t[1] == 101);
  assert_int_equal(cm_pmd_sample_times(101, 102, 2, 0, t), 0);
  assert_true(t[0] == 102 && t[1] == 102); /* 101.5 -> 102 */
  /* first frame: 1e9/rate counted back from T */
  assert_int_equal(cm_pmd_sample_times(0, T, 4, 200, t), 0);
  assert_true(t[0] == T - 15000000 && t[1] == T - 10000000 && t[2] == T - 5000000 && t[3] == T);
  /* the largest time stays exact (a double would make it 2^63) */
  assert_int_equal(cm_pmd_sample_times(0, 0x7FFFFFFFFFFFFFFFULL, 2, 52, t), 0);
  assert_true(t[1] == 0x7FFFFFFFFFFFFFFFULL);
  /* errors: no rate and no previous, previous not before, before the epoch, no samples */
  assert_int_equal(cm_pmd_sample_times(0, T, 4, 0, t), -1);
  assert_int_equal(cm_pmd_sample_times(T, T, 4, 52, t), -1);
  assert_int_equal(cm_pmd_sample_times(T + 1, T, 4, 52, t), -1);
  assert_int_equal(cm_pmd_sample_times(0, 1000, 4, 52, t), -1);
  assert_int_equal(cm_pmd_sample_times(0, T, 0, 52, t), -1);
  assert_int_equal(cm_pmd_sample_times(1, 0x8000000000000000ULL, 2, 52, t), -1);
  assert_int_equal(cm_pmd_sample_times(0, 0xFFFFFFFFFFFFFFFFULL, 2, 1e-9, t), -1);
}

static void test_control_point(void **st) {
  uint8_t b[32];
  assert_int_equal(cm_pmd_cmd_get_settings(b, CM_PMD_ACC), 2);
  assert_true(b[0] == 0x01 && b[1] == 0x02);
  cm_pmd_selection sel = {52, 16, 8, 3};
  const uint8_t want_start[] = {0x02, 0x02, 0x00, 0x01, 0x34, 0x00, 0x01, 0x01, 0x10, 0x00,
                                0x02, 0x01, 0x08, 0x00, 0x04, 0x01, 0x03};
  assert_int_equal(cm_pmd_cmd_start(b, CM_PMD_ACC, &sel), sizeof want_start);
  assert_memory_equal(b, want_start, sizeof want_start);
  cm_pmd_selection rate_only = {208, 0, 0, 0};
  const uint8_t want_gyro[] = {0x02, 0x05, 0x00, 0x01, 0xD0, 0x00};
  assert_int_equal(cm_pmd_cmd_start(b, CM_PMD_GYRO, &rate_only), sizeof want_gyro);
  assert_memory_equal(b, want_gyro, sizeof want_gyro);
  assert_int_equal(cm_pmd_cmd_stop(b, CM_PMD_GYRO), 2);
  assert_true(b[0] == 0x03 && b[1] == 0x05);

  /* get-settings answer: rates 52, 104; resolution 16; ranges 2, 4, 8 G; 3 channels */
  const uint8_t resp[] = {0xF0, 0x01, 0x02, 0x00, 0x00, 0x00, 0x02, 0x34, 0x00, 0x68, 0x00,
                          0x01, 0x01, 0x10, 0x00, 0x02, 0x03, 0x02, 0x00, 0x04, 0x00, 0x08,
                          0x00, 0x04, 0x01, 0x03};
  cm_pmd_cp_response r;
  assert_int_equal(cm_pmd_cp_parse_response(resp, sizeof resp, &r), 0);
  assert_true(r.op == 1 && r.measurement == 2 && r.status == 0 && !r.more);
  cm_pmd_settings s;
  assert_int_equal(cm_pmd_settings_parse(r.params, r.n_params, &s), 0);
  assert_int_equal(s.n[CM_PMD_SET_SAMPLE_RATE], 2);
  assert_true(s.v[CM_PMD_SET_SAMPLE_RATE][0] == 52 && s.v[CM_PMD_SET_SAMPLE_RATE][1] == 104);
  assert_int_equal(s.n[CM_PMD_SET_RANGE], 3);
  assert_true(s.v[CM_PMD_SET_RANGE][2] == 8 && s.v[CM_PMD_SET_CHANNELS][0] == 3);
  assert_true(cm_pmd_settings_factor(&s) == 1.0f);
  /* start answer carrying the factor 2000/32768 (0x3D7A0000), and a security blob skipped */
  const uint8_t start_resp[] = {0xF0, 0x02, 0x05, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x7A, 0x3D,
                                0x06, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  assert_int_equal(cm_pmd_cp_parse_response(start_resp, sizeof start_resp, &r), 0);
  assert_int_equal(cm_pmd_settings_parse(r.params, r.n_params, &s), 0);
  assert_true(cm_pmd_settings_factor(&s) == 0.06103515625f);
  assert_int_equal(s.n[CM_PMD_SET_SECURITY], 1);
  /* an error answer: invalid sample rate, no parameters read */
  const uint8_t err[] = {0xF0, 0x02, 0x02, 0x08, 0x01, 0x55};
  assert_int_equal(cm_pmd_cp_parse_response(err, sizeof err, &r), 0);
  assert_int_equal(r.status, 8);
  assert_string_equal(cm_pmd_status_name(r.status), "invalid sample rate");
  assert_int_equal(r.n_params, 0);
  assert_int_equal(r.more, 0);
  /* malformed */
  assert_int_equal(cm_pmd_cp_parse_response(err, 3, &r), -1);
  const uint8_t not_resp[] = {0x01, 0x02, 0x05, 0x00};
  assert_int_equal(cm_pmd_cp_parse_response(not_resp, 4, &r), -1);
  const uint8_t bad_type[] = {0x09, 0x01, 0x00};
  assert_int_equal(cm_pmd_settings_parse(bad_type, 3, &s), -1);
  const uint8_t cut[] = {0x00, 0x02, 0x34, 0x00, 0x68};
  assert_int_equal(cm_pmd_settings_parse(cut, sizeof cut, &s), -1);
  /* features read: ACC, GYRO, PPG */
  const uint8_t feat[] = {0x0F, 0x26, 0x00};
  assert_int_equal(cm_pmd_parse_features(feat, sizeof feat), (1 << CM_PMD_ACC) | (1 << CM_PMD_GYRO) | (1 << CM_PMD_PPG));
  assert_int_equal(cm_pmd_parse_features(feat, 1), -1);
}

static void test_uuids(void **st) {
  /* the little-endian tables must spell the published strings backwards */
  const uint8_t *u[3] = {cm_pmd_service_uuid, cm_pmd_cp_uuid, cm_pmd_data_uuid};
  const char *s[3] = {CM_PMD_SERVICE_UUID_STR, CM_PMD_CP_UUID_STR, CM_PMD_DATA_UUID_STR};
  for (int k = 0; k < 3; k++) {
    char hex[33];
    int j = 0;
    for (const char *c = s[k]; *c; c++)
      if (*c != '-') hex[j++] = *c;
    hex[j] = 0;
    for (int i = 0; i < 16; i++) {
      unsigned byte;
      sscanf(hex + 2 * (15 - i), "%2x", &byte);
      assert_int_equal(u[k][i], byte);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_acc_raw_all_resolutions),
      cmocka_unit_test(test_acc_delta_type0_in_g),
      cmocka_unit_test(test_acc_delta_type1_in_mg),
      cmocka_unit_test(test_gyro_delta_type0),
      cmocka_unit_test(test_gyro_delta_type1_float_patterns),
      cmocka_unit_test(test_every_delta_width),
      cmocka_unit_test(test_one_bit_delta_is_twos_complement),
      cmocka_unit_test(test_several_blocks_and_limits),
      cmocka_unit_test(test_frame_header_and_rejections),
      cmocka_unit_test(test_sample_times),
      cmocka_unit_test(test_control_point),
      cmocka_unit_test(test_uuids),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
