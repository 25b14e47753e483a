/*
 * The stream tracker's decisions (imu_stream.h), one situation per test: frames in order,
 * lost, reordered, duplicated, numbered (network) or not (BLE), with and without a GYRO
 * partner; plus the PMD encoder's round trip through the decoder for every width it picks.
 *
 * Frames: 4 samples at 50 Hz (20 ms apart, so every sample time is a whole ns and the
 * expected times are exact), ACC counts of 1/4096 G and GYRO counts of 1/16 deg/s.
 */
#include <math.h>
#include <string.h>

#include "cm_util.h"
#include "imu_stream.h"
#include "pmd_decode.h"
#include "pmd_encode.h"
#include "testutil.h"

#define RATE 50.0
#define STEP 20000000LL
#define NS 4
#define T_BASE 800000000000000000ULL /* sensor ns since 2000 */
#define HOST0 1700000000000000000LL

/* Frame k of a stream covers samples 4k .. 4k+3; sample j's counts are (j, -j, 1000+j). */
static size_t frame(uint8_t *b, int meas, int k) {
  int32_t raw[NS * 3];
  for (int i = 0; i < NS; i++) {
    int j = k * NS + i;
    raw[i * 3] = j, raw[i * 3 + 1] = -j, raw[i * 3 + 2] = 1000 + j;
  }
  uint64_t t_last = T_BASE + (uint64_t)(k * NS + NS - 1) * STEP;
  return cm_pmd_encode_delta(b, 512, meas, 0, t_last, raw, NS, 16);
}

static int64_t t_dev_of(int j) { return (int64_t)(T_BASE + (uint64_t)j * STEP) + CM_PMD_EPOCH_OFFSET_NS; }

static void feed(cm_imu_tracker *t, int meas, int k, int has_seq, uint32_t seq, int64_t host) {
  uint8_t b[512];
  size_t n = frame(b, meas, k);
  float factor = meas == CM_PMD_ACC ? 1.0f / 4096 : 1.0f / 16;
  cm_imu_tracker_frame(t, b, n, has_seq, seq, RATE, factor, host);
}

static size_t take(cm_imu_tracker *t, cm_imu_row *rows, size_t max) { return cm_imu_tracker_take_rows(t, rows, max); }

static int events(cm_imu_tracker *t, cm_event_row *ev, int max) { return (int)cm_imu_tracker_take_events(t, ev, max); }

static void check_acc_sample(const cm_imu_row *r, int j) {
  assert_true(r->t_device_ns == t_dev_of(j));
  assert_float_equal(r->xyz6[0], j / 4096.0 * 9.80665, 1e-5);
  assert_float_equal(r->xyz6[2], (1000 + j) / 4096.0 * 9.80665, 1e-5);
}

static void test_in_order_pairs_acc_and_gyro(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  cm_imu_row rows[64];
  for (int k = 0; k < 3; k++) {
    feed(t, CM_PMD_ACC, k, 1, k, HOST0 + k * 100);
    feed(t, CM_PMD_GYRO, k, 1, k, HOST0 + k * 100 + 7);
  }
  cm_imu_tracker_finish(t, HOST0 + 1000);
  size_t n = take(t, rows, 64);
  assert_int_equal(n, 12);
  for (int j = 0; j < 12; j++) {
    check_acc_sample(&rows[j], j);
    assert_float_equal(rows[j].xyz6[3], j / 16.0 * M_PI / 180, 1e-6);
    assert_true(rows[j].t_host_ns == HOST0 + (j / 4) * 100); /* the earlier of the two arrivals */
  }
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 0);
  const cm_imu_stats *s = cm_imu_tracker_stats(t);
  assert_int_equal(s->frames, 6);
  assert_int_equal(s->samples, 24);
  cm_imu_tracker_free(t);
}

static void test_lost_frames_are_named(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  /* ACC only; seq 2 and 3 never arrive */
  int ks[] = {0, 1, 4, 5};
  for (int i = 0; i < 4; i++) feed(t, CM_PMD_ACC, ks[i], 1, (uint32_t)ks[i], HOST0 + i);
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 0); /* still inside the reorder window */
  cm_imu_tracker_finish(t, HOST0 + 10);
  assert_int_equal(events(t, ev, 8), 1);
  assert_string_equal(ev[0].kind, "dropped_frames");
  assert_string_equal(ev[0].stream, "imu_left");
  assert_string_equal(ev[0].detail, "ACC seq 2-3");
  assert_true(ev[0].value == 2);
  cm_imu_row rows[64];
  size_t n = take(t, rows, 64);
  assert_int_equal(n, 16);
  /* frame 4 follows a loss: its times come from the rate, not spread over the gap */
  for (int i = 0; i < 8; i++) check_acc_sample(&rows[i], i);
  for (int i = 8; i < 16; i++) check_acc_sample(&rows[i], i + 8);
  assert_true(isnan(rows[0].xyz6[3]));
  assert_int_equal(cm_imu_tracker_stats(t)->lost_frames, 2);
  cm_imu_tracker_free(t);
}

static void test_window_reports_loss_before_the_end(void **st) {
  cm_imu_tracker_opts o;
  cm_imu_tracker_opts_default(&o);
  o.reorder_window = 3;
  cm_imu_tracker *t = cm_imu_tracker_new("imu_right", &o);
  feed(t, CM_PMD_ACC, 0, 1, 0, HOST0);
  feed(t, CM_PMD_ACC, 2, 1, 2, HOST0 + 1);
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 0);
  for (int k = 3; k < 6; k++) feed(t, CM_PMD_ACC, k, 1, (uint32_t)k, HOST0 + k);
  assert_int_equal(events(t, ev, 8), 1); /* seq 1 is 4 frames behind: given up */
  assert_string_equal(ev[0].detail, "ACC seq 1");
  /* and it arriving after all is reported as such, and still written */
  feed(t, CM_PMD_ACC, 1, 1, 1, HOST0 + 9);
  assert_int_equal(events(t, ev, 8), 1);
  assert_string_equal(ev[0].kind, "reordered");
  assert_non_null(strstr(ev[0].detail, "already reported lost"));
  cm_imu_tracker_finish(t, HOST0 + 20);
  cm_imu_row rows[64];
  assert_int_equal(take(t, rows, 64), 24);
  check_acc_sample(&rows[20], 4);
  cm_imu_tracker_free(t);
}

static void test_reordered_frame_written_where_it_arrived(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  int order[] = {0, 1, 3, 2, 4};
  for (int i = 0; i < 5; i++) feed(t, CM_PMD_ACC, order[i], 1, (uint32_t)order[i], HOST0 + i);
  cm_imu_tracker_finish(t, HOST0 + 10);
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 1);
  assert_string_equal(ev[0].kind, "reordered");
  assert_string_equal(ev[0].detail, "ACC seq 2 after seq 3");
  cm_imu_row rows[64];
  assert_int_equal(take(t, rows, 64), 20);
  for (int i = 0; i < 5; i++)
    for (int s = 0; s < 4; s++) check_acc_sample(&rows[i * 4 + s], order[i] * 4 + s);
  assert_int_equal(cm_imu_tracker_stats(t)->reordered, 1);
  assert_int_equal(cm_imu_tracker_stats(t)->lost_frames, 0);
  cm_imu_tracker_free(t);
}

static void test_duplicate_written_once(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  int seqs[] = {0, 1, 1, 2, 0};
  for (int i = 0; i < 5; i++) feed(t, CM_PMD_ACC, seqs[i], 1, (uint32_t)seqs[i], HOST0 + i);
  cm_imu_tracker_finish(t, HOST0 + 10);
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 2);
  assert_string_equal(ev[0].kind, "duplicate");
  assert_string_equal(ev[0].detail, "ACC seq 1");
  assert_string_equal(ev[1].detail, "ACC seq 0");
  cm_imu_row rows[64];
  assert_int_equal(take(t, rows, 64), 12);
  for (int j = 0; j < 12; j++) check_acc_sample(&rows[j], j);
  cm_imu_tracker_free(t);
}

static void test_ble_without_sequence_numbers(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  feed(t, CM_PMD_ACC, 0, 0, 0, HOST0);
  feed(t, CM_PMD_ACC, 1, 0, 0, HOST0 + 1);
  feed(t, CM_PMD_ACC, 1, 0, 0, HOST0 + 2); /* same sensor time again */
  feed(t, CM_PMD_ACC, 4, 0, 0, HOST0 + 3); /* 2 frames missing: seen only in the time */
  feed(t, CM_PMD_ACC, 2, 0, 0, HOST0 + 4); /* time goes back */
  cm_imu_tracker_finish(t, HOST0 + 10);
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 3);
  assert_string_equal(ev[0].kind, "duplicate");
  assert_string_equal(ev[1].kind, "gap");
  assert_float_equal(ev[1].value, 8 * 0.02, 1e-9); /* 8 samples' worth beyond the frame */
  assert_string_equal(ev[2].kind, "clock_step");
  assert_float_equal(ev[2].value, -0.16, 1e-9);
  cm_imu_row rows[64];
  assert_int_equal(take(t, rows, 64), 16);
  for (int j = 0; j < 8; j++) check_acc_sample(&rows[j], j);
  for (int j = 8; j < 12; j++) check_acc_sample(&rows[j], j + 8); /* from the rate, not the gap */
  for (int j = 12; j < 16; j++) check_acc_sample(&rows[j], j - 4);
  cm_imu_tracker_free(t);
}

static void test_link_lost_forgets_predecessor(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  feed(t, CM_PMD_ACC, 0, 1, 100, HOST0);
  cm_imu_tracker_link_lost(t);
  feed(t, CM_PMD_ACC, 3, 1, 0, HOST0 + 5); /* sequence numbers restarted with the link */
  cm_imu_tracker_finish(t, HOST0 + 10);
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 0);
  cm_imu_row rows[64];
  assert_int_equal(take(t, rows, 64), 8);
  for (int j = 4; j < 8; j++) check_acc_sample(&rows[j], j + 8);
  cm_imu_tracker_free(t);
}

static void test_half_waits_for_partner_then_goes_alone(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  feed(t, CM_PMD_GYRO, 0, 1, 0, HOST0);
  feed(t, CM_PMD_ACC, 0, 1, 0, HOST0);
  cm_imu_row rows[64];
  assert_int_equal(take(t, rows, 64), 4);
  feed(t, CM_PMD_ACC, 1, 1, 1, HOST0 + 10);
  assert_int_equal(take(t, rows, 64), 0); /* GYRO is active: wait for frame 1 */
  cm_imu_tracker_tick(t, HOST0 + 500000000);
  assert_int_equal(take(t, rows, 64), 0);
  cm_imu_tracker_tick(t, HOST0 + 1000000010LL); /* a second later: give up waiting */
  assert_int_equal(take(t, rows, 64), 4);
  assert_true(isnan(rows[0].xyz6[3]) && !isnan(rows[0].xyz6[0]));
  check_acc_sample(&rows[0], 4);
  cm_imu_tracker_free(t);
}

static void test_bad_frames_are_events(void **st) {
  cm_imu_tracker *t = cm_imu_tracker_new("imu_left", NULL);
  uint8_t b[512];
  size_t n = frame(b, CM_PMD_ACC, 0);
  cm_imu_tracker_frame(t, b, 5, 0, 0, RATE, 1.0f, HOST0);     /* cut header */
  cm_imu_tracker_frame(t, b, n, 0, 0, 0, 1.0f, HOST0);        /* no rate, no predecessor */
  cm_imu_tracker_frame(t, b, n - 1, 0, 0, RATE, 1.0f, HOST0); /* cut payload */
  b[0] = CM_PMD_PPG;
  cm_imu_tracker_frame(t, b, n, 0, 0, RATE, 1.0f, HOST0); /* not IMU: ignored silently */
  cm_event_row ev[8];
  assert_int_equal(events(t, ev, 8), 3);
  for (int i = 0; i < 3; i++) assert_string_equal(ev[i].kind, "bad_frame");
  assert_int_equal(cm_imu_tracker_stats(t)->bad_frames, 3);
  assert_int_equal(cm_imu_tracker_stats(t)->ignored_frames, 1);
  cm_imu_row rows[4];
  cm_imu_tracker_finish(t, HOST0);
  assert_int_equal(take(t, rows, 4), 0);
  cm_imu_tracker_free(t);
}

static void test_encoder_round_trip(void **st) {
  /* every width from 1 to 17 bits, several blocks (300 samples > 255 per block) */
  static int32_t raw[300 * 3], back[300 * 3];
  for (int w = 1; w <= 17; w++) {
    /* values swing between -span/2 and +span/2: deltas of +-span need about w bits */
    int32_t span = w == 1 ? 1 : (1 << (w - 2));
    for (int i = 0; i < 300; i++)
      for (int c = 0; c < 3; c++)
        raw[i * 3 + c] = w == 1 ? -((i + c) % 2) : ((i + c) % 2 ? span / 2 : -(span / 2));
    uint8_t b[4096];
    size_t n = cm_pmd_encode_delta(b, sizeof b, CM_PMD_GYRO, 0, 12345, raw, 300, 16);
    assert_true(n > 0);
    cm_pmd_frame f;
    assert_int_equal(cm_pmd_frame_parse(b, n, &f), 0);
    size_t got;
    assert_int_equal(cm_pmd_unpack_delta(f.payload, f.n_payload, 3, 16, back, 300, &got), 0);
    assert_int_equal(got, 300);
    assert_memory_equal(raw, back, sizeof raw);
  }
  int32_t r3[6] = {-8388608, 8388607, 0, 1, -1, 2};
  for (int ft = 0; ft <= 2; ft++) {
    uint8_t b[64];
    int32_t in[6];
    for (int i = 0; i < 6; i++) in[i] = ft == 0 ? (int8_t)r3[i] : ft == 1 ? (int16_t)r3[i] : r3[i];
    size_t n = cm_pmd_encode_raw(b, sizeof b, ft, 99, in, 2);
    cm_pmd_frame f;
    assert_int_equal(cm_pmd_frame_parse(b, n, &f), 0);
    cm_pmd_value v[2];
    assert_int_equal(cm_pmd_decode_values(&f, 1.0f, v, 2), 2);
    for (int i = 0; i < 6; i++) assert_true(v[i / 3].sdk[i % 3] == (float)in[i]);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_in_order_pairs_acc_and_gyro),
      cmocka_unit_test(test_lost_frames_are_named),
      cmocka_unit_test(test_window_reports_loss_before_the_end),
      cmocka_unit_test(test_reordered_frame_written_where_it_arrived),
      cmocka_unit_test(test_duplicate_written_once),
      cmocka_unit_test(test_ble_without_sequence_numbers),
      cmocka_unit_test(test_link_lost_forgets_predecessor),
      cmocka_unit_test(test_half_waits_for_partner_then_goes_alone),
      cmocka_unit_test(test_bad_frames_are_events),
      cmocka_unit_test(test_encoder_round_trip),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
