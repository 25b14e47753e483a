/*
 * The two IMU commands end to end, as a user runs them: `cmact imu-capture` listening on a UDP
 * port, `cmact imu-send` playing a 100 Hz sensor into it with dropped, duplicated and late
 * frames; then the session file is opened and checked against the capture's own table and the
 * sender's sample count. Also the one-line usage errors (exit 2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "testutil.h"

static char out[1 << 16];

static void test_capture_what_send_sends(void **st) {
  char *dir = tu_mkdtemp("imu_cli");
  char path[4096];
  snprintf(path, sizeof path, "%s/s.h5", dir);
  int port = 20000 + getpid() % 20000;
  int rc = tu_run(out, sizeof out,
                  "$CMACT imu-capture --imu left=udp:127.0.0.1:%d --duration 2 --session cli --out %s & "
                  "sleep 0.5; $CMACT imu-send --to udp:127.0.0.1:%d --rate 100 --duration 1 --frame 10 "
                  "--loss 0.2 --dup 0.2 --reorder 0.2 --seed 3 --no-realtime; wait $!",
                  port, path, port);
  if (rc != 0) fail_msg("exit %d: %s", rc, out);
  assert_non_null(strstr(out, "sent 100 samples"));
  long long frames, samples, rows, lost, dup, late;
  const char *line = strstr(out, "imu_left ");
  assert_non_null(line);
  assert_int_equal(sscanf(line, "imu_left %*s %lld %lld %lld %lld %lld %lld", &frames, &samples, &rows, &lost, &dup, &late), 6);
  /* 10 ACC + 10 GYRO frames of 10 samples went out; each is recorded or reported lost, except
   * that a loss before a stream's first or after its last arriving frame leaves no trace in
   * the sequence numbers (at most one frame at each end of each stream here) */
  assert_true(frames + lost <= 20 && frames + lost >= 16);
  assert_true(late > 0);
  assert_int_equal(samples, frames * 10);
  assert_true(lost > 0 && dup > 0);

  cm_session *s = cm_session_open(path);
  if (!s) fail_msg("%s", cm_error());
  const cm_session_meta *m = cm_session_get_meta(s);
  assert_string_equal(m->session_id, "cli");
  int id = cm_session_find_stream(s, "imu_left");
  cm_stream_info si;
  assert_int_equal(cm_session_stream_info(s, id, &si), 0);
  assert_int_equal(si.count, rows);
  cm_event_row *ev = calloc(m->n_events + 1, sizeof *ev);
  assert_int_equal(cm_session_read_events(s, 0, m->n_events, ev), 0);
  long long named_lost = 0, named_dup = 0;
  for (int64_t i = 0; i < m->n_events; i++) {
    if (!strcmp(ev[i].kind, "dropped_frames")) named_lost += (long long)ev[i].value;
    if (!strcmp(ev[i].kind, "duplicate")) named_dup++;
  }
  assert_int_equal(named_lost, lost);
  assert_int_equal(named_dup, dup);
  free(ev);
  cm_session_close(s);
  tu_rmtree(dir);
  free(dir);
}

static void test_usage_errors(void **st) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT imu-capture --out x.h5"), 2);
  assert_non_null(strstr(out, "no --imu"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT imu-capture --imu left=ble:12 --out x.h5"), 2);
  assert_non_null(strstr(out, "ble:AA:BB:CC:DD:EE:FF"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT imu-capture --imu left=udp:1.2.3.4:5 --imu left=udp:1.2.3.4:6 --out x.h5"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT imu-send --to udp:127.0.0.1:9 --loss 2"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT imu-send"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT imu-capture --help"), 0);
  assert_non_null(strstr(out, "usage: cmact imu-capture"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_capture_what_send_sends),
      cmocka_unit_test(test_usage_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
