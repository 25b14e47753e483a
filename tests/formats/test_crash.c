/*
 * A session writer killed with SIGKILL at random moments, for real (fork, kill, reopen), many
 * times: the file must open (as an unfinished recording), hold every row appended up to one
 * second before the kill, hold only rows that were appended, with the right values, and
 * `cmact repair` must turn it into an ordinary closed file that h5dump (and h5py, when
 * Debian's python3-h5py is there) read with the same rows.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "testutil.h"

typedef struct {
  int64_t t_ns;
  int64_t n_imu, n_pkt;
} progress_msg;

#define IMU_PER_STEP 4
#define PKT_BYTES 3000

static void writer(const char *path, int fd) {
  cm_session_info info = {"crash", "u", "l", "h"};
  cm_session *s = cm_session_create(path, &info, 1);
  if (!s) _exit(3);
  cm_stream_desc v = {.name = "video", .kind = CM_STREAM_VIDEO, .codec = "h264", .time_base_num = 1,
                      .time_base_den = 1000};
  cm_stream_desc m = {.name = "imu_right", .kind = CM_STREAM_IMU, .nominal_rate = 100};
  int vi = cm_session_add_stream(s, &v), mi = cm_session_add_stream(s, &m);
  if (vi < 0 || mi < 0 || cm_session_start(s) < 0) _exit(4);
  int64_t n_imu = 0, n_pkt = 0;
  uint8_t pkt[PKT_BYTES];
  for (;;) {
    memset(pkt, (int)(n_pkt & 255), sizeof pkt);
    cm_packet_row r = {.size = PKT_BYTES, .key = 1, .pts = n_pkt, .dts = n_pkt, .t_host_ns = n_pkt};
    if (cm_session_append_packet(s, vi, pkt, &r) < 0) _exit(5);
    n_pkt++;
    for (int k = 0; k < IMU_PER_STEP; k++) {
      float x[6];
      for (int c = 0; c < 6; c++) x[c] = (float)(n_imu * 6 + c);
      int64_t t = n_imu;
      if (cm_session_append_imu(s, mi, x, &t, &t, 1) < 0) _exit(6);
      n_imu++;
    }
    progress_msg msg = {cm_monotonic_ns(), n_imu, n_pkt};
    if (write(fd, &msg, sizeof msg) != sizeof msg) _exit(7);
    usleep(1000);
  }
}

static int64_t check_file(const char *path, int64_t must_imu, int64_t max_imu, int expect_unfinished) {
  cm_session *s = cm_session_open(path);
  if (!s) fail_msg("reopen failed: %s", cm_error());
  assert_int_equal(cm_session_get_meta(s)->unfinished, expect_unfinished);
  int mi = cm_session_find_stream(s, "imu_right"), vi = cm_session_find_stream(s, "video");
  cm_stream_info in, vin;
  cm_session_stream_info(s, mi, &in);
  cm_session_stream_info(s, vi, &vin);
  if (in.count < must_imu || in.count > max_imu)
    fail_msg("imu rows %lld, expected between %lld and %lld", (long long)in.count, (long long)must_imu,
             (long long)max_imu);
  float *x = malloc(sizeof(float) * 6 * (in.count + 1));
  int64_t *t = malloc(sizeof(int64_t) * (in.count + 1));
  assert_int_equal(cm_session_read_imu(s, mi, 0, in.count, x, t, NULL), 0);
  for (int64_t i = 0; i < in.count; i++) {
    if (x[i * 6 + 5] != (float)(i * 6 + 5) || t[i] != i) fail_msg("row %lld holds wrong values", (long long)i);
  }
  free(x);
  free(t);
  /* video: index consistent with the byte stream */
  if (vin.count > 0) {
    cm_packet_row last;
    assert_int_equal(cm_session_read_packet_index(s, vi, vin.count - 1, 1, &last), 0);
    assert_true((int64_t)(last.offset + last.size) <= vin.n_blocks);
    uint8_t b[PKT_BYTES];
    assert_int_equal(cm_session_read_packet_bytes(s, vi, last.offset, last.size, b), 0);
    assert_int_equal(b[PKT_BYTES - 1], (int)((vin.count - 1) & 255));
  }
  cm_session_close(s);
  return in.count;
}

static void test_kill_at_random(void **st) {
  char *dir = tu_mkdtemp("crash");
  srand((unsigned)time(NULL) ^ (unsigned)getpid());
  int trials = getenv("CMACT_CRASH_TRIALS") ? atoi(getenv("CMACT_CRASH_TRIALS")) : 12;
  char out[8192];
  int64_t worst_lost_ns = 0;
  int n_checked = 0;
  for (int trial = 0; trial < trials; trial++) {
    const char *path = tu_path(dir, "rec.h5");
    unlink(path);
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
      close(p[0]);
      writer(path, p[1]);
    }
    close(p[1]);
    int delay_ms = 300 + rand() % 2200;
    usleep((useconds_t)delay_ms * 1000);
    int64_t t_kill = cm_monotonic_ns();
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    progress_msg *msgs = malloc(sizeof *msgs * 200000), last = {0, 0, 0};
    size_t n_msgs = 0;
    while (n_msgs < 200000 && read(p[0], &msgs[n_msgs], sizeof *msgs) == sizeof *msgs) last = msgs[n_msgs++];
    /* "At most the last second lost", measured from the writer's last append rather than from
     * the kill: on a loaded machine the writer may not have run at all in its last moments,
     * and a starved writer cannot flush. Without load the two are the same instant. */
    int64_t horizon = (last.t_ns < t_kill ? last.t_ns : t_kill) - 1000000000LL, must = 0;
    for (size_t k = 0; k < n_msgs; k++)
      if (msgs[k].t_ns <= horizon) must = msgs[k].n_imu;
    close(p[0]);
    if (n_msgs == 0) {
      /* Killed before its first append (a loaded machine may not even have run it): the file
       * may hold nothing readable, and every reader must say so in one line, not crash. */
      int rc0 = tu_run(out, sizeof out, "$CMACT validate '%s'", path);
      if (rc0 != 0 && rc0 != 1) fail_msg("validate of a file killed at birth exited %d: %s", rc0, out);
      print_message("trial %d: killed after %d ms before the first append\n", trial, delay_ms);
      free(msgs);
      continue;
    }
    /* The writer may have been killed after an append was committed but before reporting it. */
    int64_t kept = check_file(path, must, last.n_imu + IMU_PER_STEP, 1);
    /* how much was lost, in the writer's time: from the append that made the last kept row to
     * its last append */
    int64_t t_kept = 0;
    for (size_t k = 0; k < n_msgs; k++)
      if (msgs[k].n_imu <= kept) t_kept = msgs[k].t_ns;
    int64_t lost_ns = kept >= last.n_imu ? 0 : last.t_ns - (t_kept ? t_kept : msgs[0].t_ns);
    free(msgs);
    int rc = tu_run(out, sizeof out, "$CMACT validate '%s'", path);
    if (rc != 0 || !strstr(out, "unfinished")) fail_msg("validate (rc %d): %s", rc, out);
    rc = tu_run(out, sizeof out, "$CMACT repair '%s'", path);
    if (rc != 0) fail_msg("repair failed: %s", out);
    check_file(path, must, last.n_imu + IMU_PER_STEP, 0);
    assert_true(tu_file_exists(tu_path(dir, "rec.h5.unrepaired")));
    unlink(tu_path(dir, "rec.h5.unrepaired"));
    rc = tu_run(out, sizeof out, "$CMACT validate '%s'", path);
    if (rc != 0) fail_msg("validate after repair (rc %d): %s", rc, out);
    rc = tu_run(out, sizeof out, "h5dump -H '%s' >/dev/null && h5dump -d /streams/imu_right/data -s %lld -c 1 '%s'",
                path, (long long)(must > 0 ? must - 1 : 0), path);
    if (rc != 0) fail_msg("h5dump cannot read the repaired file: %s", out);
    if (trial == 0 && tu_file_exists("/usr/bin/python3")) {
      rc = tu_run(out, sizeof out,
                  "/usr/bin/python3 -c \"import sys\ntry:\n import h5py\nexcept ImportError:\n print('no h5py'); sys.exit(0)\n"
                  "f=h5py.File('%s','r'); d=f['streams/imu_right/data']; n=d.shape[0]\n"
                  "assert n>=%lld, n\nassert all(d[i,5]==i*6+5 for i in range(0,n,max(1,n//50)))\nprint('h5py ok', n)\"",
                  path, (long long)must);
      if (rc != 0) fail_msg("h5py cannot read the repaired file: %s", out);
    }
    print_message("trial %d: killed after %d ms: %lld imu rows appended, %lld kept (>= %lld required), "
                  "the last %.0f ms lost\n", trial, delay_ms, (long long)last.n_imu, (long long)kept,
                  (long long)must, lost_ns * 1e-6);
    if (lost_ns > worst_lost_ns) worst_lost_ns = lost_ns;
    n_checked++;
  }
  print_message("%d kills checked, repaired and read by h5dump; at most %.0f ms lost (1000 allowed)\n", n_checked,
                worst_lost_ns * 1e-6);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill_at_random)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
