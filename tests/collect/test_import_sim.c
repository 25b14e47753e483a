/* Issue 6 item 1: a round trip with the simulator. `cmact simulate --export-raw` writes the
 * sessions as a phone and wrist loggers would have left them; `cmact import cmactivity-raw`
 * must give back sessions whose streams match the simulator's own session files: the same
 * video packets byte for byte with the same pts, the same IMU samples (to the 6 decimals and
 * the millisecond stamps of the CSV text), audio within the AAC codec's error, and start times
 * within the uncertainty the importer states. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_session.h"
#include "cm_util.h"
#include "testutil.h"

static char out[65536];

static cm_session *open_or_fail(const char *path) {
  cm_session *s = cm_session_open(path);
  if (!s) fail_msg("%s: %s", path, cm_error());
  return s;
}

static void compare_video(cm_session *sim, cm_session *imp, double *start_err, double *unc) {
  int va = cm_session_find_stream(sim, "video"), vb = cm_session_find_stream(imp, "video");
  cm_stream_info a, b;
  assert_int_equal(cm_session_stream_info(sim, va, &a), 0);
  assert_int_equal(cm_session_stream_info(imp, vb, &b), 0);
  assert_int_equal(a.count, b.count);
  assert_int_equal(a.n_blocks, b.n_blocks); /* packet bytes */
  char *pa = malloc((size_t)a.n_blocks), *pb = malloc((size_t)b.n_blocks);
  assert_int_equal(cm_session_read_packet_bytes(sim, va, 0, (size_t)a.n_blocks, pa), 0);
  assert_int_equal(cm_session_read_packet_bytes(imp, vb, 0, (size_t)b.n_blocks, pb), 0);
  assert_memory_equal(pa, pb, (size_t)a.n_blocks);
  free(pa);
  free(pb);
  cm_packet_row *ra = calloc((size_t)a.count, sizeof *ra), *rb = calloc((size_t)b.count, sizeof *rb);
  assert_int_equal(cm_session_read_packet_index(sim, va, 0, a.count, ra), 0);
  assert_int_equal(cm_session_read_packet_index(imp, vb, 0, b.count, rb), 0);
  for (int64_t k = 0; k < a.count; k++) {
    assert_int_equal(ra[k].size, rb[k].size);
    assert_int_equal(ra[k].key, rb[k].key);
    /* same instants, whatever the time bases */
    double ta = (double)ra[k].pts * a.time_base_num / a.time_base_den;
    double tb = (double)rb[k].pts * b.time_base_num / b.time_base_den;
    assert_true(fabs(ta - tb) < 1e-4);
  }
  *start_err = (double)(rb[0].t_host_ns - ra[0].t_host_ns) * 1e-9;
  *unc = b.start_time_uncertainty_s;
  free(ra);
  free(rb);
}

static void compare_audio(cm_session *sim, cm_session *imp) {
  int aa = cm_session_find_stream(sim, "audio"), ab = cm_session_find_stream(imp, "audio");
  cm_stream_info a, b;
  assert_int_equal(cm_session_stream_info(sim, aa, &a), 0);
  assert_int_equal(cm_session_stream_info(imp, ab, &b), 0);
  assert_int_equal(a.sample_rate, b.sample_rate);
  assert_true(llabs(a.count - b.count) <= 2048); /* AAC frames of 1024 with end padding */
  int64_t n = a.count < b.count ? a.count : b.count;
  int16_t *x = malloc((size_t)a.count * a.channels * 2), *y = malloc((size_t)b.count * b.channels * 2);
  assert_int_equal(cm_session_read_audio(sim, aa, 0, a.count, x), 0);
  assert_int_equal(cm_session_read_audio(imp, ab, 0, b.count, y), 0);
  double s2 = 0, e2 = 0;
  for (int64_t i = 0; i < n; i++) {
    s2 += (double)x[i * a.channels] * x[i * a.channels];
    e2 += ((double)x[i * a.channels] - y[i * b.channels]) * ((double)x[i * a.channels] - y[i * b.channels]);
  }
  /* AAC-LC at 64 kbit/s on the simulator's noise-like scenes measured 10-20 dB */
  double snr = 10 * log10(s2 / (e2 + 1e-9));
  if (snr < 8) fail_msg("audio SNR %.1f dB against the simulator's PCM", snr);
  free(x);
  free(y);
}

/* Every imported IMU row is one of the simulator's rows, in order, as the CSV text carries it. */
static void compare_imu(cm_session *sim, cm_session *imp, const char *name) {
  int ia = cm_session_find_stream(sim, name), ib = cm_session_find_stream(imp, name);
  cm_stream_info a, b;
  assert_int_equal(cm_session_stream_info(sim, ia, &a), 0);
  assert_int_equal(cm_session_stream_info(imp, ib, &b), 0);
  assert_true(b.count > 0 && b.count <= a.count);
  float *xa = malloc((size_t)a.count * 6 * sizeof *xa), *xb = malloc((size_t)b.count * 6 * sizeof *xb);
  int64_t *ta = malloc((size_t)a.count * 8), *tb = malloc((size_t)b.count * 8), *td = malloc((size_t)a.count * 8);
  assert_int_equal(cm_session_read_imu(sim, ia, 0, a.count, xa, td, ta), 0);
  assert_int_equal(cm_session_read_imu(imp, ib, 0, b.count, xb, tb, tb), 0);
  int64_t start = -1;
  for (int64_t s0 = 0; s0 + b.count <= a.count && start < 0; s0++) {
    int ok = 1;
    for (int64_t r = 0; r < b.count && ok; r++)
      for (int c = 0; c < 6 && ok; c++) ok = fabsf(xa[(s0 + r) * 6 + c] - xb[r * 6 + c]) <= 1.01e-6f + 1e-6f * fabsf(xa[(s0 + r) * 6 + c]);
    if (ok) start = s0;
  }
  if (start < 0) fail_msg("%s: the imported rows are not a run of the simulator's rows", name);
  for (int64_t r = 0; r < b.count; r++) assert_true(llabs(ta[start + r] - tb[r]) < 1000000);
  free(xa), free(xb), free(ta), free(tb), free(td);
}

static void test_simulator_round_trip(void **st) {
  (void)st;
  char *dir = tu_mkdtemp("import-sim");
  int rc = tu_run(out, sizeof out,
                  "$CMACT simulate --preset quick --seed 3 --sessions 3 --schedules 0 --threads 1 "
                  "--out '%s/q' --export-raw '%s/x' >/dev/null && "
                  "$CMACT import cmactivity-raw '%s/x' --out '%s/i'",
                  dir, dir, dir, dir);
  if (rc != 0) fail_msg("exit %d: %s", rc, out);
  assert_non_null(strstr(out, "imported 3 of 3"));
  for (int k = 1; k <= 3; k++) {
    char id[16];
    snprintf(id, sizeof id, "S%04d", k);
    char pq[4200], pw[4200], pi[4200];
    snprintf(pq, sizeof pq, "%s/q/%s_camera.h5", dir, id);
    snprintf(pw, sizeof pw, "%s/q/%s_wrist.h5", dir, id);
    snprintf(pi, sizeof pi, "%s/i/%s.h5", dir, id);
    cm_session *cam = open_or_fail(pq), *wr = open_or_fail(pw), *imp = open_or_fail(pi);
    double err, unc;
    compare_video(cam, imp, &err, &unc);
    if (!(fabs(err) <= unc)) fail_msg("%s: start time off by %.3f s, stated uncertainty %.3f s", id, err, unc);
    compare_audio(cam, imp);
    compare_imu(wr, imp, "imu_left");
    compare_imu(wr, imp, "imu_right");
    const cm_session_meta *m = cm_session_get_meta(imp), *mq = cm_session_get_meta(cam);
    assert_string_equal(m->user, mq->user);
    assert_string_equal(m->location, mq->location);
    cm_session_close(cam);
    cm_session_close(wr);
    cm_session_close(imp);
  }
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_simulator_round_trip)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
