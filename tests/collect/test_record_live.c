/*
 * The live device path end to end, through the programs themselves, on 127.0.0.1 with ports
 * picked free at run time: `cmact simulate --live` plays a simulated session in real time as
 * its devices would send it, and `cmact record` receives it through its real code (UDP IMU
 * sources, GStreamer udpsrc + RTP depayloaders). The simulator's wire log (sim_live.h) is the
 * truth every check compares with.
 *
 *   test_imu_udp_faults_into_record: both wrists over UDP with loss, duplication and
 *     reordering switched on, into an IMU-only recording. The file holds exactly the frames
 *     that arrived, each once, in arrival order; every sample's values and sensor time are
 *     the simulator's (values within the 16-bit encoding, the frame's own time exact, the
 *     others within the SDK's spreading rule); "dropped_frames" events name exactly the
 *     sequence numbers that never arrived; one "duplicate" per frame sent twice and one
 *     "reordered" per frame sent late.
 *   test_camera_rtp_and_imu_into_one_file: the simulator's RTP H.264 video and L16 audio
 *     recorded with `record --video 'udpsrc ... ! rtph264depay ! avdec_h264' --audio
 *     'udpsrc ... ! rtpL16depay'` together with both IMUs into one file that `cmact validate`
 *     accepts, with plausible counts, and whose `cmact export --mp4` ffprobe reads.
 *   test_decoder_on_live_frames: the PMD decoder on the frames the simulator put on the wire,
 *     received here on a plain UDP socket: every frame parses, its values are the measured
 *     ones, its time stamp the last sample's sensor time.
 *   test_imu_tcp_into_record: the same over TCP bridges, without faults: every sample; without
 *     --imu-rate the stored nominal rate is the default, and an event says what was sent.
 *   test_cli: usage errors, a port in use, a BLE sensor on a machine without Bluetooth.
 *   test_live_is_deterministic: the same seed sends the same samples and faults.
 */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "imu_sender.h"
#include "imu_wire.h"
#include "pmd_decode.h"
#include "testutil.h"

extern char **environ;
static char out[65536];

/* ---- ports and processes ---- */

/* n distinct free ports on 127.0.0.1 (all bound at once, so they differ, then released). */
static void free_ports(int type, int *ports, int n) {
  int fds[8];
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, type, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fds[i], (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fds[i], (struct sockaddr *)&a, &len), 0);
    ports[i] = ntohs(a.sin_port);
  }
  for (int i = 0; i < n; i++) close(fds[i]);
}
static void free_udp_ports(int *ports, int n) { free_ports(SOCK_DGRAM, ports, n); }

/* Is something bound to port `port` (any address)? From /proc/net/udp, or /proc/net/tcp for a
 * negative port number (a TCP listener). */
static int udp_port_bound(int port) {
  FILE *f = fopen(port < 0 ? "/proc/net/tcp" : "/proc/net/udp", "r");
  if (port < 0) port = -port;
  if (!f) return 0;
  char line[512], want[16];
  snprintf(want, sizeof want, ":%04X ", port);
  int found = 0;
  if (fgets(line, sizeof line, f)) /* header */
    while (!found && fgets(line, sizeof line, f)) {
      char *local = strchr(line, ':'); /* "  sl: local rem ..." */
      if (local && (local = strchr(local + 1, ':')) && strncmp(local, want, strlen(want)) == 0) found = 1;
    }
  fclose(f);
  return found;
}

/* Start `cmact record ARGS` in the background with its output in log; wait (at most 20 s)
 * until every port in ports[] is bound, i.e. the recorder listens (negative: TCP). */
static pid_t start_recorder(const char *args, const char *log, const int *ports, int n) {
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "exec '%s' record %s > '%s' 2>&1", CMACT_BIN, args, log);
  char *argv[] = {"sh", "-c", cmd, NULL};
  pid_t pid;
  assert_int_equal(posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ), 0);
  for (int tries = 0; tries < 400; tries++) {
    int all = 1;
    for (int i = 0; i < n; i++) all &= udp_port_bound(ports[i]);
    if (all) return pid;
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      char *text = tu_read_file(log, NULL);
      fail_msg("recorder ended before listening: %s", text ? text : "");
    }
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  fail_msg("recorder did not bind its ports within 20 s");
  return -1;
}

/* End the recorder as Ctrl-C would and return its exit status. */
static int stop_recorder(pid_t pid) {
  kill(pid, SIGINT);
  int st;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- the simulator's wire log ---- */

typedef struct {
  int meas;
  uint32_t seq;
  int fate;
} wire_frame;

typedef struct {
  int n_samples;
  int64_t *td;
  float *v; /* 6 per sample */
  int n_frames;
  wire_frame *f;
} wire_side;

static void read_wire_log(const char *path, wire_side w[2]) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  memset(w, 0, 2 * sizeof *w);
  int cap_s[2] = {0, 0}, cap_f[2] = {0, 0};
  char line[512];
  while (fgets(line, sizeof line, f)) {
    int side, meas, fate;
    long idx;
    long long td;
    unsigned seq;
    float v[6];
    if (sscanf(line, "S,%d,%ld,%lld,%f,%f,%f,%f,%f,%f", &side, &idx, &td, v, v + 1, v + 2, v + 3,
               v + 4, v + 5) == 9) {
      assert_true(side == 0 || side == 1);
      wire_side *s = &w[side];
      assert_int_equal(idx, s->n_samples); /* samples logged in order */
      if (s->n_samples == cap_s[side]) {
        cap_s[side] = cap_s[side] ? 2 * cap_s[side] : 256;
        s->td = realloc(s->td, sizeof *s->td * (size_t)cap_s[side]);
        s->v = realloc(s->v, sizeof *s->v * 6 * (size_t)cap_s[side]);
      }
      s->td[s->n_samples] = td;
      memcpy(s->v + 6 * s->n_samples, v, sizeof v);
      s->n_samples++;
    } else if (sscanf(line, "F,%d,%d,%u,%d", &side, &meas, &seq, &fate) == 4) {
      wire_side *s = &w[side];
      if (s->n_frames == cap_f[side]) {
        cap_f[side] = cap_f[side] ? 2 * cap_f[side] : 256;
        s->f = realloc(s->f, sizeof *s->f * (size_t)cap_f[side]);
      }
      s->f[s->n_frames++] = (wire_frame){meas, seq, fate};
    }
  }
  fclose(f);
}

static void free_wire(wire_side w[2]) {
  for (int i = 0; i < 2; i++) free(w[i].td), free(w[i].v), free(w[i].f);
}

/* What the sender's 16-bit encoding can represent: the value clamped to its range. */
static double encodable(double v, int gyro) {
  double lim = gyro ? 32767 * CM_IMU_SENDER_GYRO_FACTOR * M_PI / 180 : 32767 * CM_IMU_SENDER_ACC_FACTOR * 9.80665;
  return v > lim ? lim : v < -lim ? -lim : v;
}
static double value_tol(int gyro) {
  return gyro ? 0.51 * CM_IMU_SENDER_GYRO_FACTOR * M_PI / 180 + 1e-6
              : 0.51 * CM_IMU_SENDER_ACC_FACTOR * 9.80665 + 1e-6;
}

/* ---- (a) UDP with faults into an IMU-only recording ---- */

#define SPF 5
#define RATE 100

/* One side and one measurement against the file's stream. Returns counts of faults seen. */
static void check_half(const wire_side *w, int gyro, const float *xyz, const int64_t *td, size_t rows,
                       const cm_event_row *ev, int64_t n_ev, const char *stream, int *n_lost,
                       int *n_dup, int *n_late) {
  int meas = gyro ? CM_PMD_GYRO : CM_PMD_ACC;
  const char *name = gyro ? "GYRO" : "ACC";
  int n_frames_max = w->n_samples / SPF + 2;
  uint8_t *seen = calloc((size_t)n_frames_max, 1), *lost = calloc((size_t)n_frames_max, 1),
          *reported = calloc((size_t)n_frames_max, 1);
  uint32_t *order = calloc((size_t)n_frames_max, sizeof *order);
  int nf = 0, sent_again = 0, late = 0, any = 0;
  uint32_t hi = 0, max_seq = 0;
  for (int i = 0; i < w->n_frames; i++) {
    const wire_frame *f = &w->f[i];
    if (f->meas != meas) continue;
    assert_true((int)f->seq < n_frames_max);
    if (f->seq > max_seq) max_seq = f->seq;
    if (f->fate == CM_IMU_SENT_AGAIN) sent_again++;
    if (f->fate != CM_IMU_SENT) continue;
    if (any && f->seq < hi) late++;
    if (!any || f->seq > hi) hi = f->seq, any = 1;
    if (!seen[f->seq]) seen[f->seq] = 1, order[nf++] = f->seq;
  }
  assert_true(nf > 0);
  /* the file's halves of this measurement, in row order, are the arrived frames' samples */
  double max_dt = 0;
  size_t h = 0;
  for (int k = 0; k < nf; k++) {
    int first = (int)order[k] * SPF, last = first + SPF < w->n_samples ? first + SPF : w->n_samples;
    for (int i = first; i < last; i++) {
      while (h < rows && isnan(xyz[h * 6 + 3 * gyro])) h++;
      if (h == rows) fail_msg("%s %s: the file ends before frame seq %u", stream, name, order[k]);
      /* the frame's own time (its last sample) exactly; the others as the SDK spreads them:
       * over the time since the previous frame, or at the nominal rate after a loss, which
       * is off by the sensor's drift (tens of ppm) over at most SPF-1 periods */
      int64_t dt = td[h] - w->td[i];
      if (i == last - 1 ? dt != 0 : llabs(dt) > 2 + (int64_t)(200e-6 * (SPF - 1) * 1e9 / RATE))
        fail_msg("%s %s row %zu: t_device %lld, the simulator measured sample %d at %lld", stream,
                 name, h, (long long)td[h], i, (long long)w->td[i]);
      if (fabs((double)dt) > max_dt) max_dt = fabs((double)dt);
      for (int c = 0; c < 3; c++) {
        double want = encodable(w->v[6 * i + 3 * gyro + c], gyro);
        if (fabs(xyz[h * 6 + 3 * gyro + c] - want) > value_tol(gyro))
          fail_msg("%s %s row %zu axis %d: %g, the simulator measured %g", stream, name, h, c,
                   xyz[h * 6 + 3 * gyro + c], want);
      }
      h++;
    }
  }
  while (h < rows && isnan(xyz[h * 6 + 3 * gyro])) h++;
  assert_int_equal(h, rows); /* nothing more than what arrived */

  /* losses between the first and the last frame that arrived, against the events */
  uint32_t lo = order[0], top = order[0];
  for (int k = 0; k < nf; k++) {
    if (order[k] < lo) lo = order[k];
    if (order[k] > top) top = order[k];
  }
  for (uint32_t q = lo; q <= top; q++) lost[q] = !seen[q];
  int dup_ev = 0, late_ev = 0;
  for (int64_t e = 0; e < n_ev; e++) {
    if (strcmp(ev[e].stream, stream)) continue;
    char m[8];
    unsigned a, b;
    if (!strcmp(ev[e].kind, "dropped_frames")) {
      int got = sscanf(ev[e].detail, "%7s seq %u-%u", m, &a, &b);
      if (strcmp(m, name)) continue;
      if (got == 2) b = a;
      assert_true(got >= 2 && b >= a && b <= max_seq);
      assert_true(ev[e].value == b - a + 1);
      for (unsigned q = a; q <= b; q++) {
        if (!lost[q]) fail_msg("%s: an event says %s seq %u was lost, but it arrived", stream, name, q);
        reported[q] = 1;
      }
    } else if (!strcmp(ev[e].kind, "duplicate") && sscanf(ev[e].detail, "%7s", m) == 1 && !strcmp(m, name)) {
      dup_ev++;
    } else if (!strcmp(ev[e].kind, "reordered") && sscanf(ev[e].detail, "%7s", m) == 1 && !strcmp(m, name)) {
      late_ev++;
    }
  }
  int lost_n = 0;
  for (uint32_t q = 0; q <= max_seq; q++) {
    if (lost[q] && !reported[q]) fail_msg("%s: %s seq %u never arrived and no event names it", stream, name, q);
    lost_n += lost[q];
  }
  assert_int_equal(dup_ev, sent_again);
  assert_int_equal(late_ev, late);
  print_message("%s %s: %d frames arrived, %d lost, %d duplicated, %d late; largest t_device "
                "difference %.0f ns\n", stream, name, nf, lost_n, sent_again, late, max_dt);
  *n_lost += lost_n, *n_dup += sent_again, *n_late += late;
  free(seen), free(lost), free(reported), free(order);
}

static void test_imu_udp_faults_into_record(void **state) {
  char *dir = tu_mkdtemp("live_imu");
  int port[2];
  free_udp_ports(port, 2);
  const char *h5 = tu_path(dir, "a.h5"), *wire = tu_path(dir, "wire.csv");
  char args[2048];
  snprintf(args, sizeof args,
           "--imu left=udp:127.0.0.1:%d --imu right=udp:127.0.0.1:%d --imu-rate %d "
           "--chrony-interval 0 --session-id live-a --status --out '%s'",
           port[0], port[1], RATE, h5);
  char log[4096];
  snprintf(log, sizeof log, "%s", tu_path(dir, "record.log"));
  pid_t rec = start_recorder(args, log, port, 2);
  int rc = tu_run(out, sizeof out,
                  "$CMACT simulate --live --preset quick --seed 5 --session 4 --imu-rate %d "
                  "--imu-frame %d --duration 3 --imu-left udp:127.0.0.1:%d --imu-right "
                  "udp:127.0.0.1:%d --loss 0.08 --dup 0.06 --reorder 0.08 --wire-log '%s'",
                  RATE, SPF, port[0], port[1], wire);
  printf("%s", out);
  usleep(300000); /* the last datagrams reach the recorder */
  int rrc = stop_recorder(rec);
  char *text = tu_read_file(log, NULL);
  printf("%s", text ? text : "");
  assert_int_equal(rc, 0);
  assert_int_equal(rrc, 0);
  assert_non_null(strstr(text, "ended by                 signal"));
  /* the live status line counts IMU rows and losses; the last one is drawn at the end */
  char *st = strrchr(text, '\r');
  assert_non_null(st);
  long st_rows = 0, st_lost = 0;
  char *imu = strstr(st, "  imu ");
  assert_non_null(imu);
  assert_int_equal(sscanf(imu, "  imu %ld (%*d/2 live, %ld lost)", &st_rows, &st_lost), 2);
  long sum_rows = 0, sum_lost = 0;
  char *line = strstr(text, "imu samples");
  assert_non_null(line);
  assert_int_equal(sscanf(line + 24, "%ld rows in 2 stream(s), %ld", &sum_rows, &sum_lost), 2);
  assert_int_equal(st_rows, sum_rows);
  assert_true(st_lost > 0 && st_lost == sum_lost);
  free(text);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate '%s'", h5), 0);

  wire_side w[2];
  read_wire_log(wire, w);
  assert_int_equal(w[0].n_samples, 3 * RATE);
  assert_int_equal(w[1].n_samples, 3 * RATE);
  cm_session *s = cm_session_open(h5);
  assert_non_null(s);
  const cm_session_meta *m = cm_session_get_meta(s);
  cm_event_row *ev = calloc((size_t)m->n_events + 1, sizeof *ev);
  assert_int_equal(cm_session_read_events(s, 0, m->n_events, ev), 0);
  int n_lost = 0, n_dup = 0, n_late = 0;
  for (int side = 0; side < 2; side++) {
    const char *stream = side ? "imu_right" : "imu_left";
    int id = cm_session_find_stream(s, stream);
    assert_true(id >= 0);
    cm_stream_info si;
    assert_int_equal(cm_session_stream_info(s, id, &si), 0);
    assert_string_equal(si.transport, "udp");
    assert_true(fabs(si.nominal_rate - RATE) < 1e-9);
    size_t rows = (size_t)si.count;
    float *xyz = malloc(rows * 6 * sizeof *xyz);
    int64_t *td = malloc(rows * sizeof *td), *th = malloc(rows * sizeof *th);
    assert_int_equal(cm_session_read_imu(s, id, 0, (int64_t)rows, xyz, td, th), 0);
    check_half(&w[side], 0, xyz, td, rows, ev, m->n_events, stream, &n_lost, &n_dup, &n_late);
    check_half(&w[side], 1, xyz, td, rows, ev, m->n_events, stream, &n_lost, &n_dup, &n_late);
    for (size_t r = 1; r < rows; r++) assert_true(th[r] >= th[r - 1]);
    free(xyz), free(td), free(th);
  }
  /* the seed puts every kind of fault on the wire */
  assert_true(n_lost > 0 && n_dup > 0 && n_late > 0);
  free(ev);
  cm_session_close(s);
  free_wire(w);
  tu_rmtree(dir);
  free(dir);
}

/* ---- (b) the camera's RTP video and audio with both IMUs into one file ---- */

static void test_camera_rtp_and_imu_into_one_file(void **state) {
  char *dir = tu_mkdtemp("live_cam");
  int port[4]; /* video, audio, left, right */
  free_udp_ports(port, 4);
  const char *h5 = tu_path(dir, "b.h5");
  char args[4096];
  snprintf(args, sizeof args,
           "--video 'udpsrc address=127.0.0.1 port=%d caps=\"application/x-rtp,media=video,"
           "clock-rate=90000,encoding-name=H264,payload=96\" ! rtpjitterbuffer latency=100 ! "
           "rtph264depay ! avdec_h264' "
           "--audio 'udpsrc address=127.0.0.1 port=%d caps=\"application/x-rtp,media=audio,"
           "clock-rate=22050,encoding-name=L16,encoding-params=1,channels=1,payload=96\" ! "
           "rtpjitterbuffer latency=100 mode=synced ! rtpL16depay' "
           "--imu left=udp:127.0.0.1:%d --imu right=udp:127.0.0.1:%d --imu-rate 25 "
           "--chrony-interval 0 --session-id live-b --label walk --out '%s' --summary-json '%s'",
           port[0], port[1], port[2], port[3], h5, tu_path(dir, "b.json"));
  char log[4096];
  snprintf(log, sizeof log, "%s", tu_path(dir, "record.log"));
  pid_t rec = start_recorder(args, log, port, 4);
  int rc = tu_run(out, sizeof out,
                  "$CMACT simulate --live --preset quick --seed 3 --session 4 --duration 3 "
                  "--video-to 127.0.0.1:%d --audio-to 127.0.0.1:%d --imu-left udp:127.0.0.1:%d "
                  "--imu-right udp:127.0.0.1:%d",
                  port[0], port[1], port[2], port[3]);
  printf("%s", out);
  usleep(500000); /* the jitter buffers' latency, the decoder and encoder drain */
  int rrc = stop_recorder(rec);
  char *text = tu_read_file(log, NULL);
  printf("%s", text ? text : "");
  assert_int_equal(rc, 0);
  assert_int_equal(rrc, 0);
  free(text);
  long sent_frames = 0, sent_audio = 0, sent_imu = 0;
  char *p;
  assert_non_null(p = strstr(out, "video frames"));
  sent_frames = strtol(p + 24, NULL, 10);
  assert_non_null(p = strstr(out, "audio samples"));
  sent_audio = strtol(p + 24, NULL, 10);
  assert_non_null(p = strstr(out, "imu samples"));
  sent_imu = strtol(p + 24, NULL, 10);
  assert_true(sent_frames >= 80 && sent_audio >= 60000 && sent_imu >= 70);

  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate '%s'", h5), 0);
  printf("%s", out);
  cm_session *s = cm_session_open(h5);
  assert_non_null(s);
  int v = cm_session_find_stream(s, "video"), a = cm_session_find_stream(s, "audio");
  int l = cm_session_find_stream(s, "imu_left"), r = cm_session_find_stream(s, "imu_right");
  assert_true(v >= 0 && a >= 0 && l >= 0 && r >= 0);
  cm_stream_info vi, ai, li, ri;
  assert_int_equal(cm_session_stream_info(s, v, &vi), 0);
  assert_int_equal(cm_session_stream_info(s, a, &ai), 0);
  assert_int_equal(cm_session_stream_info(s, l, &li), 0);
  assert_int_equal(cm_session_stream_info(s, r, &ri), 0);
  printf("stored: video %lld of %ld frames sent, audio %lld of %ld samples, imu %lld + %lld rows "
         "of %ld samples per wrist\n",
         (long long)vi.count, sent_frames, (long long)ai.count, sent_audio, (long long)li.count,
         (long long)ri.count, sent_imu);
  /* Everything sent is received on loopback; a loaded machine may lose the first frames while
   * the decoder waits for its first keyframe or the pipeline is still starting. */
  assert_string_equal(vi.codec, "h264");
  assert_int_equal(vi.width, 160);
  assert_int_equal(ai.sample_rate, 22050);
  assert_true(vi.count >= sent_frames / 2 && vi.count <= sent_frames);
  assert_true(ai.count >= sent_audio / 2 && ai.count <= sent_audio);
  /* the IMU rows: both halves pair (same instants), so one row per sample sent */
  assert_true(li.count >= sent_imu * 9 / 10 && li.count <= sent_imu);
  assert_true(ri.count >= sent_imu * 9 / 10 && ri.count <= sent_imu);
  /* one recording: the streams overlap in host time */
  cm_packet_row first, last;
  assert_int_equal(cm_session_read_packet_index(s, v, 0, 1, &first), 0);
  assert_int_equal(cm_session_read_packet_index(s, v, vi.count - 1, 1, &last), 0);
  float x6[6];
  int64_t td, th_first, th_last;
  assert_int_equal(cm_session_read_imu(s, l, 0, 1, x6, &td, &th_first), 0);
  assert_int_equal(cm_session_read_imu(s, l, li.count - 1, 1, x6, &td, &th_last), 0);
  assert_true(th_first < last.t_host_ns && first.t_host_ns < th_last);
  /* the audio's first block is placed where it arrived, next to the first video frame (a
   * jitter buffer in mode=none would put it at the pipeline's start, seconds earlier) */
  cm_audio_block_row ab;
  assert_int_equal(cm_session_read_audio_blocks(s, a, 0, 1, &ab), 0);
  printf("first audio block %.3f s after the first video frame\n", (ab.t_host_ns - first.t_host_ns) / 1e9);
  assert_true(llabs(ab.t_host_ns - first.t_host_ns) < 500000000LL);
  cm_session_close(s);

  const char *mp4 = tu_path(dir, "b.mp4");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT export '%s' --mp4 '%s'", h5, mp4), 0);
  assert_int_equal(tu_run(out, sizeof out,
                          "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                          "stream=codec_name,width,height,nb_read_frames -of csv=p=0 '%s'", mp4),
                   0);
  printf("ffprobe video: %s", out);
  char expect[128];
  snprintf(expect, sizeof expect, "h264,160,120,%lld", (long long)vi.count);
  assert_non_null(strstr(out, expect));
  assert_int_equal(tu_run(out, sizeof out,
                          "ffprobe -v error -select_streams a:0 -show_entries "
                          "stream=codec_name,sample_rate -of csv=p=0 '%s'", mp4),
                   0);
  printf("ffprobe audio: %s", out);
  assert_non_null(strstr(out, "aac,22050"));
  tu_rmtree(dir);
  free(dir);
}

/* ---- (c) the PMD decoder on the simulator's live frames ---- */

static void test_decoder_on_live_frames(void **state) {
  char *dir = tu_mkdtemp("live_dec");
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
  int big = 1 << 21;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  socklen_t len = sizeof addr;
  assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
  const char *wire = tu_path(dir, "wire.csv");
  /* the right wrist alone, 52 Hz, 9 samples per frame (delta-compressed type 0, as a Polar
   * sensor sends ACC and GYRO) */
  assert_int_equal(tu_run(out, sizeof out,
                          "$CMACT simulate --live --preset quick --seed 11 --session 2 "
                          "--imu-rate 52 --imu-frame 9 --duration 1.5 --imu-right udp:127.0.0.1:%d "
                          "--wire-log '%s'",
                          ntohs(addr.sin_port), wire),
                   0);
  wire_side w[2];
  read_wire_log(wire, w);
  assert_int_equal(w[0].n_samples, 0);
  assert_true(w[1].n_samples >= 75);
  uint8_t buf[65536];
  int frames = 0, samples = 0;
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    size_t off = 0;
    while (off < (size_t)n) {
      cm_imu_envelope env;
      long k = cm_imu_wire_decode(buf + off, (size_t)n - off, &env);
      if (k <= 0) fail_msg("datagram %d: not a whole envelope: %s", frames, cm_error());
      off += (size_t)k;
      assert_int_equal(env.sensor_id, 1);
      assert_int_equal(env.sample_rate, 52);
      cm_pmd_frame f;
      if (cm_pmd_frame_parse(env.pmd, env.n_pmd, &f) < 0) fail_msg("frame %d: %s", frames, cm_error());
      int gyro = f.measurement == CM_PMD_GYRO;
      assert_true(gyro || f.measurement == CM_PMD_ACC);
      cm_pmd_value vals[64];
      long ns = cm_pmd_decode_values(&f, env.factor, vals, 64);
      if (ns < 0) fail_msg("frame %d: %s", frames, cm_error());
      int first = (int)env.seq * 9;
      assert_true(first + ns <= w[1].n_samples);
      assert_true(ns == 9 || first + ns == w[1].n_samples); /* the last frame may be short */
      /* the frame's time is its last sample's sensor time, on the 2000 epoch */
      assert_int_equal((int64_t)f.t_sensor_ns + CM_PMD_EPOCH_OFFSET_NS, w[1].td[first + ns - 1]);
      for (long i = 0; i < ns; i++)
        for (int c = 0; c < 3; c++) {
          double want = encodable(w[1].v[6 * (first + i) + 3 * gyro + c], gyro);
          if (fabs(vals[i].si[c] - want) > value_tol(gyro))
            fail_msg("frame seq %u sample %ld axis %d: decoded %g, measured %g", env.seq, i, c,
                     vals[i].si[c], want);
        }
      frames++;
      samples += (int)ns;
    }
  }
  close(fd);
  print_message("decoded %d live frames, %d samples, all equal to the simulator's\n", frames, samples);
  /* every sample, ACC and GYRO, in frames that all arrived on loopback */
  assert_int_equal(samples, 2 * w[1].n_samples);
  free_wire(w);
  tu_rmtree(dir);
  free(dir);
}

/* ---- TCP bridges, the command line, determinism ---- */

/* Both wrists over TCP (a bridge connects to the recorder), no faults: every sample arrives,
 * paired, in order, with the simulator's sensor times. */
static void test_imu_tcp_into_record(void **state) {
  char *dir = tu_mkdtemp("live_tcp");
  int port[2];
  free_ports(SOCK_STREAM, port, 2);
  const char *h5 = tu_path(dir, "t.h5"), *wire = tu_path(dir, "wire.csv");
  char args[2048], log[4096];
  snprintf(args, sizeof args,
           "--imu left=tcp:127.0.0.1:%d --imu right=tcp:127.0.0.1:%d "
           "--chrony-interval 0 --out '%s'", port[0], port[1], h5);
  snprintf(log, sizeof log, "%s", tu_path(dir, "record.log"));
  int listen_ports[2] = {-port[0], -port[1]};
  pid_t rec = start_recorder(args, log, listen_ports, 2);
  int rc = tu_run(out, sizeof out,
                  "$CMACT simulate --live --seed 2 --session 6 --imu-rate 50 --duration 1.5 "
                  "--imu-left tcp:127.0.0.1:%d --imu-right tcp:127.0.0.1:%d --wire-log '%s'",
                  port[0], port[1], wire);
  printf("%s", out);
  usleep(300000);
  int rrc = stop_recorder(rec);
  char *text = tu_read_file(log, NULL);
  printf("%s", text ? text : "");
  free(text);
  assert_int_equal(rc, 0);
  assert_int_equal(rrc, 0);
  wire_side w[2];
  read_wire_log(wire, w);
  cm_session *s = cm_session_open(h5);
  assert_non_null(s);
  /* no --imu-rate: the streams say the default 52 Hz, and an event per stream says the
   * sensor sent 50 */
  const cm_session_meta *m = cm_session_get_meta(s);
  int mismatches = 0;
  for (int64_t i = 0; i < m->n_events; i++) {
    cm_event_row e;
    assert_int_equal(cm_session_read_events(s, i, 1, &e), 0);
    if (!strcmp(e.kind, "rate_mismatch")) {
      printf("%s: %s\n", e.stream, e.detail);
      assert_true(e.value == 50);
      mismatches++;
    }
  }
  assert_int_equal(mismatches, 2);
  for (int side = 0; side < 2; side++) {
    int id = cm_session_find_stream(s, side ? "imu_right" : "imu_left");
    cm_stream_info si;
    assert_int_equal(cm_session_stream_info(s, id, &si), 0);
    assert_string_equal(si.transport, "tcp");
    assert_int_equal(si.count, w[side].n_samples);
    size_t n = (size_t)si.count;
    float *xyz = malloc(n * 6 * sizeof *xyz);
    int64_t *td = malloc(n * sizeof *td), *th = malloc(n * sizeof *th);
    assert_int_equal(cm_session_read_imu(s, id, 0, si.count, xyz, td, th), 0);
    for (size_t i = 0; i < n; i++) {
      /* every frame after the first follows its predecessor: the SDK's spreading gives the
       * times to a ns; the first frame's (4 samples at 50 Hz) are counted back from its own
       * time at the nominal rate, off by the sensor's drift (tens of ppm) */
      int64_t tol = i < 4 ? 2 + (int64_t)(200e-6 * 3 * 1e9 / 50) : 1;
      if (llabs(td[i] - w[side].td[i]) > tol)
        fail_msg("side %d row %zu: t_device %lld, measured at %lld", side, i, (long long)td[i],
                 (long long)w[side].td[i]);
      for (int c = 0; c < 6; c++)
        assert_true(fabs(xyz[6 * i + c] - encodable(w[side].v[6 * i + c], c >= 3)) <= value_tol(c >= 3));
    }
    free(xyz), free(td), free(th);
  }
  cm_session_close(s);
  free_wire(w);
  tu_rmtree(dir);
  free(dir);
}

/* Usage errors are one line and exit 2; a port in use fails before any file is made; a BLE
 * sensor that cannot be reached (this machine has no Bluetooth) is an event, not a failure. */
static void test_cli(void **state) {
  char *dir = tu_mkdtemp("live_cli");
  const char *h5 = tu_path(dir, "x.h5");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --imu left=udp:nohostport --out '%s'", h5), 2);
  assert_non_null(strstr(out, "udp:nohostport"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --imu left --out '%s'", h5), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --imu left=ble:12:34 --out '%s'", h5), 2);
  assert_int_equal(tu_run(out, sizeof out,
                          "$CMACT record --imu left=udp:127.0.0.1:9 --imu left=udp:127.0.0.1:10 --out '%s'", h5), 2);
  assert_non_null(strstr(out, "used twice"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --imu left=udp:127.0.0.1:9 --imu-rate 0 --out '%s'", h5), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --live"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --live --session 99 --imu-left udp:127.0.0.1:9"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --live --video-to localhost"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --live --imu-left 127.0.0.1:9"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --live --imu-left udp:127.0.0.1:9 --loss 2"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT simulate --imu-left udp:127.0.0.1:9 --out '%s'", dir), 2);

  /* a port someone else holds: one line naming it, exit 1, no file */
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr *)&a, &len);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --imu right=udp:127.0.0.1:%d --duration 1 --out '%s'",
                          ntohs(a.sin_port), h5), 1);
  close(fd);
  printf("%s", out);
  assert_non_null(strstr(out, "--imu right"));
  assert_null(strchr(strchr(out, '\n') + 1, '\n')); /* one line */
  assert_false(tu_file_exists(h5));

  /* BLE without Bluetooth: the recording goes on, the source says why it has no data */
  assert_int_equal(tu_run(out, sizeof out,
                          "$CMACT record --imu left=ble:A0:9E:1A:00:00:01 --duration 0.5 "
                          "--chrony-interval 0 --out '%s'", h5), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate '%s'", h5), 0);
  cm_session *s = cm_session_open(h5);
  assert_non_null(s);
  const cm_session_meta *m = cm_session_get_meta(s);
  int found = 0;
  for (int64_t i = 0; i < m->n_events; i++) {
    cm_event_row e;
    assert_int_equal(cm_session_read_events(s, i, 1, &e), 0);
    if (!strcmp(e.kind, "connect_failed") && !strcmp(e.stream, "imu_left")) {
      printf("BLE event: %s\n", e.detail);
      found = 1;
    }
  }
  assert_true(found);
  int id = cm_session_find_stream(s, "imu_left");
  cm_stream_info si;
  assert_int_equal(cm_session_stream_info(s, id, &si), 0);
  assert_string_equal(si.transport, "ble");
  assert_int_equal(si.count, 0);
  cm_session_close(s);
  tu_rmtree(dir);
  free(dir);
}

/* What the simulator sends is the same for a seed: two runs, byte-identical wire logs (every
 * measured sample and every frame's fate); another seed differs. Sent to a port nobody
 * listens on (UDP: the frames are simply lost). */
static void test_live_is_deterministic(void **state) {
  char *dir = tu_mkdtemp("live_det");
  int port;
  free_udp_ports(&port, 1);
  char *logs[3];
  for (int k = 0; k < 3; k++) {
    char name[16];
    snprintf(name, sizeof name, "w%d.csv", k);
    assert_int_equal(tu_run(out, sizeof out,
                            "$CMACT simulate --live --seed %d --session 1 --imu-rate 100 --duration 0.6 "
                            "--imu-left udp:127.0.0.1:%d --imu-right udp:127.0.0.1:%d --loss 0.2 "
                            "--dup 0.2 --reorder 0.2 --wire-log '%s'",
                            k == 2 ? 9 : 8, port, port, tu_path(dir, name)),
                     0);
    logs[k] = tu_read_file(tu_path(dir, name), NULL);
    assert_non_null(logs[k]);
  }
  assert_true(strlen(logs[0]) > 1000);
  assert_string_equal(logs[0], logs[1]);
  assert_true(strcmp(logs[0], logs[2]) != 0);
  for (int k = 0; k < 3; k++) free(logs[k]);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_decoder_on_live_frames),
      cmocka_unit_test(test_imu_udp_faults_into_record),
      cmocka_unit_test(test_camera_rtp_and_imu_into_one_file),
      cmocka_unit_test(test_imu_tcp_into_record),
      cmocka_unit_test(test_cli),
      cmocka_unit_test(test_live_is_deterministic),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
