/*
 * UDP end to end on 127.0.0.1: the network sender (the simulator's live mode uses the same
 * code) streams a 200 Hz wrist sensor, ACC and GYRO, with frames dropped, duplicated and
 * reordered on purpose; a capture source receives it on its own thread and writes a real
 * session file; the test reads the file back.
 *
 * What must hold, checked against the sender's own log of what went on the wire:
 *   - the file holds exactly the frames that arrived, each once, in arrival order: per stream,
 *     the sequence of (t_device_ns, value) halves equals the samples of the arrived frames;
 *   - t_device_ns is the sender's sample time to the ns, values agree within quantisation;
 *   - "dropped_frames" events name exactly the sequence numbers that were never sent;
 *   - one "duplicate" event per frame sent twice, one "reordered" per frame sent late.
 * The same runs over TCP with no faults (TCP has none to inject), to check the stream framing.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "imu_capture.h"
#include "imu_sender.h"
#include "pmd_decode.h"
#include "testutil.h"

#define RATE 200
#define N 1200 /* 6 s of sensor time, sent as fast as the pacing below allows */
#define SPF 8
#define T0 1700000000000000000LL

typedef struct {
  int meas;
  uint32_t seq;
  int fate;
} wire_entry;

typedef struct {
  wire_entry e[4096];
  int n;
} wire_log;

static void on_wire(void *ctx, int meas, uint32_t seq, int fate, const uint8_t *pmd, size_t n) {
  wire_log *w = ctx;
  if (w->n < 4096) w->e[w->n++] = (wire_entry){meas, seq, fate};
}

static void motion(int i, float *acc, float *gyro, int64_t *t) {
  double s = i / (double)RATE;
  acc[0] = (float)(3 * sin(2 * M_PI * 1.3 * s));
  acc[1] = (float)(-9.80665 + 0.5 * cos(2 * M_PI * 2.1 * s));
  acc[2] = (float)(1.5 * sin(2 * M_PI * 0.7 * s + 1));
  gyro[0] = (float)(2 * sin(2 * M_PI * 0.9 * s));
  gyro[1] = (float)(-1 * cos(2 * M_PI * 1.7 * s));
  gyro[2] = (float)(0.3 * sin(2 * M_PI * 3.1 * s));
  *t = T0 + (int64_t)i * (1000000000 / RATE);
}

/* Which frames arrived first, in order, per measurement: seqs into out[meas][]. */
static int arrived(const wire_log *w, int meas, uint32_t *out) {
  int n = 0;
  static uint8_t seen[2][4096];
  memset(seen[meas == CM_PMD_ACC], 0, sizeof seen[0]);
  for (int i = 0; i < w->n; i++) {
    const wire_entry *e = &w->e[i];
    if (e->meas != meas || e->fate == CM_IMU_DROPPED) continue;
    if (seen[meas == CM_PMD_ACC][e->seq]) continue;
    seen[meas == CM_PMD_ACC][e->seq] = 1;
    out[n++] = e->seq;
  }
  return n;
}

static void run(const char *proto, double loss, double dup, double reorder, int expect_faults) {
  char *dir = tu_mkdtemp("imu_udp");
  const char *path = tu_path(dir, "s.h5");
  cm_imu_options io;
  cm_imu_options_default(&io);
  io.acc_rate = RATE;
  char spec[64];
  snprintf(spec, sizeof spec, "%s:127.0.0.1:0", proto);
  cm_imu_source *src = cm_imu_source_open(spec, "imu_left", &io);
  if (!src) fail_msg("%s", cm_error());
  int port = cm_imu_source_port(src);
  assert_true(port > 0);

  cm_session_info info = {.session_id = "e2e", .user = "tester", .location = "lab", .host = "localhost"};
  cm_session *ses = cm_session_create(path, &info, 0);
  if (!ses) fail_msg("%s", cm_error());
  cm_stream_desc d;
  cm_imu_source_describe(src, &d);
  int sid = cm_session_add_stream(ses, &d);
  assert_true(sid >= 0);
  assert_int_equal(cm_session_start(ses), 0);

  static wire_log w;
  memset(&w, 0, sizeof w);
  cm_imu_sender_opts so;
  cm_imu_sender_opts_default(&so);
  so.samples_per_frame = SPF;
  so.loss = loss, so.duplicate = dup, so.reorder = reorder;
  so.seed = 20261125;
  so.log = on_wire;
  so.log_ctx = &w;
  char dest[64];
  snprintf(dest, sizeof dest, "%s:127.0.0.1:%d", proto, port);
  cm_imu_sender *snd = cm_imu_sender_open(dest, 3, RATE, &so);
  if (!snd) fail_msg("%s", cm_error());

  static float acc[N * 3], gyro[N * 3];
  static int64_t t[N];
  for (int i = 0; i < N; i++) motion(i, acc + 3 * i, gyro + 3 * i, t + i);
  for (int i = 0; i < N; i += 40) {
    assert_int_equal(cm_imu_sender_push(snd, acc + 3 * i, gyro + 3 * i, t + i, 40), 0);
    usleep(2000);
    assert_int_equal(cm_imu_source_write(src, ses, sid), 0); /* the recorder's loop */
  }
  assert_int_equal(cm_imu_sender_flush(snd), 0);
  int sent = 0;
  for (int i = 0; i < w.n; i++) sent += w.e[i].fate != CM_IMU_DROPPED;
  for (int tries = 0; tries < 200; tries++) { /* until everything sent was received */
    cm_imu_stats st = cm_imu_source_stats(src);
    if (st.frames + st.duplicates >= sent) break;
    usleep(10000);
  }
  cm_imu_sender_close(snd);
  cm_imu_source_finish(src);
  assert_int_equal(cm_imu_source_write(src, ses, sid), 0);
  cm_imu_stats st = cm_imu_source_stats(src);
  cm_imu_source_close(src);
  assert_int_equal(cm_session_close(ses), 0);

  /* ---- read the file back ---- */
  ses = cm_session_open(path);
  if (!ses) fail_msg("%s", cm_error());
  int id = cm_session_find_stream(ses, "imu_left");
  assert_true(id >= 0);
  cm_stream_info si;
  assert_int_equal(cm_session_stream_info(ses, id, &si), 0);
  assert_string_equal(si.units, "m/s^2,rad/s");
  assert_string_equal(si.transport, proto);
  size_t rows = (size_t)si.count;
  float *xyz = malloc(rows * 6 * sizeof *xyz);
  int64_t *td = malloc(rows * sizeof *td), *th = malloc(rows * sizeof *th);
  assert_int_equal(cm_session_read_imu(ses, id, 0, (int64_t)rows, xyz, td, th), 0);

  int n_drop = 0, n_dup = 0, n_sent_again = 0, n_late_events = 0;
  for (int k = 0; k < 2; k++) {
    int meas = k ? CM_PMD_GYRO : CM_PMD_ACC;
    static uint32_t order[4096];
    int nf = arrived(&w, meas, order);
    /* the halves of this measurement, in row order */
    size_t h = 0;
    for (int f = 0; f < nf; f++)
      for (int s = 0; s < SPF; s++) {
        int i = (int)order[f] * SPF + s;
        while (h < rows && isnan(xyz[h * 6 + 3 * k])) h++;
        if (h == rows) fail_msg("%s %s: file ends before frame seq %u", proto, k ? "GYRO" : "ACC", order[f]);
        if (td[h] != t[i]) fail_msg("%s %s: row %zu t_device %lld, sent %lld (frame seq %u)", proto, k ? "GYRO" : "ACC", h, (long long)td[h], (long long)t[i], order[f]);
        for (int c = 0; c < 3; c++) {
          double want = k ? gyro[3 * i + c] : acc[3 * i + c];
          double tol = k ? 0.51 * CM_IMU_SENDER_GYRO_FACTOR * M_PI / 180 : 0.51 * CM_IMU_SENDER_ACC_FACTOR * 9.80665;
          if (fabs(xyz[h * 6 + 3 * k + c] - want) > tol + 1e-6)
            fail_msg("%s row %zu ch %d: %g, sent %g", proto, h, 3 * k + c, xyz[h * 6 + 3 * k + c], want);
        }
        h++;
      }
    while (h < rows && isnan(xyz[h * 6 + 3 * k])) h++;
    assert_int_equal(h, rows); /* nothing more than what arrived */

    /* lost = never sent; compare with the events */
    static uint8_t lost[4096], reported[4096];
    memset(lost, 0, sizeof lost), memset(reported, 0, sizeof reported);
    uint32_t max_seq = 0;
    for (int i = 0; i < w.n; i++)
      if (w.e[i].meas == meas && w.e[i].seq > max_seq) max_seq = w.e[i].seq;
    /* a loss is visible between the first and the last frame that arrived */
    uint32_t lo = order[0], hi_seq = order[0];
    for (int f = 0; f < nf; f++) {
      if (order[f] < lo) lo = order[f];
      if (order[f] > hi_seq) hi_seq = order[f];
    }
    for (uint32_t q = lo; q <= hi_seq; q++) lost[q] = 1;
    for (int f = 0; f < nf; f++) lost[order[f]] = 0;
    const cm_session_meta *meta = cm_session_get_meta(ses);
    cm_event_row *ev = malloc((meta->n_events + 1) * sizeof *ev);
    assert_int_equal(cm_session_read_events(ses, 0, meta->n_events, ev), 0);
    const char *name = k ? "GYRO" : "ACC";
    for (int64_t e = 0; e < meta->n_events; e++) {
      assert_string_equal(ev[e].stream, "imu_left");
      char mname[8];
      unsigned a, b;
      if (!strcmp(ev[e].kind, "dropped_frames")) {
        int got = sscanf(ev[e].detail, "%7s seq %u-%u", mname, &a, &b);
        if (strcmp(mname, name)) continue;
        if (got == 2) b = a;
        assert_true(got >= 2 && b >= a && b <= max_seq);
        assert_true(ev[e].value == b - a + 1);
        for (unsigned q = a; q <= b; q++) {
          if (!lost[q]) fail_msg("%s: event says %s seq %u lost, but it arrived", proto, name, q);
          reported[q] = 1;
        }
      } else if (!strcmp(ev[e].kind, "duplicate") && sscanf(ev[e].detail, "%7s", mname) == 1 && !strcmp(mname, name)) {
        n_dup++;
      } else if (!strcmp(ev[e].kind, "reordered") && sscanf(ev[e].detail, "%7s", mname) == 1 && !strcmp(mname, name)) {
        n_late_events++;
      }
    }
    for (uint32_t q = 0; q <= max_seq; q++) {
      if (lost[q] && !reported[q]) fail_msg("%s: %s seq %u never arrived and no event names it", proto, name, q);
      n_drop += lost[q];
    }
    free(ev);
  }
  /* frames sent late: sent after a higher seq of their stream */
  int n_late = 0;
  uint32_t hi[8] = {0};
  int any[8] = {0};
  for (int i = 0; i < w.n; i++) {
    if (w.e[i].fate == CM_IMU_SENT_AGAIN) n_sent_again++;
    if (w.e[i].fate != CM_IMU_SENT) continue;
    int m = w.e[i].meas;
    if (any[m] && w.e[i].seq < hi[m]) n_late++;
    if (!any[m] || w.e[i].seq > hi[m]) hi[m] = w.e[i].seq, any[m] = 1;
  }
  assert_int_equal(n_dup, n_sent_again);
  assert_int_equal(n_late_events, n_late);
  assert_int_equal(st.lost_frames, n_drop);
  print_message("%s: %zu rows from %lld frames; lost %d, duplicated %d, reordered %d (all named in events)\n",
                proto, rows, (long long)st.frames, n_drop, n_sent_again, n_late);
  if (expect_faults) assert_true(n_drop > 0 && n_sent_again > 0 && n_late > 0);
  for (size_t r = 0; r < rows; r++) assert_true(th[r] > T0 && th[r] <= cm_realtime_ns());
  free(xyz), free(td), free(th);
  cm_session_close(ses);
  tu_rmtree(dir);
  free(dir);
}

static void test_udp_with_loss_duplication_reordering(void **st) { run("udp", 0.08, 0.05, 0.08, 1); }
static void test_udp_clean(void **st) { run("udp", 0, 0, 0, 0); }
static void test_tcp_bridge(void **st) { run("tcp", 0, 0, 0, 0); }

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_udp_with_loss_duplication_reordering),
      cmocka_unit_test(test_udp_clean),
      cmocka_unit_test(test_tcp_bridge),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
