/* cmact import: round trips against FFmpeg's own tools and the written logs, the start-time
 * evidence chain, the CMActivity raw layout, and one test per kind of bad input.
 *
 * The inputs are made here: small MP4s by the `ffmpeg` command (testsrc2 + a 440 Hz sine,
 * libx264 with B-frames + AAC, 2 s, 160x120), IMU logs as gzip CSV through zlib. References
 * come from independent tools: `ffmpeg -c copy -bsf:v h264_mp4toannexb -f h264` for the video
 * bytes, `ffprobe -show_packets` for pts/dts/key, the analytic sine for the audio, and the
 * values this test wrote for the IMU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "cm_session.h"
#include "cm_util.h"
#include "import.h"
#include "sim.h"
#include "testutil.h"

static char *dir;
static char out[65536];

/* 2026-11-25T10:00:00Z */
#define T_CREATION_S 1795600800LL
#define T_CREATION_NS (T_CREATION_S * 1000000000LL)

static int make_mp4(const char *path, const char *creation, int faststart) {
  char meta[128] = "";
  if (creation) snprintf(meta, sizeof meta, "-metadata creation_time=%s", creation);
  return tu_run(out, sizeof out,
                "ffmpeg -hide_banner -loglevel error -y -f lavfi -i testsrc2=size=160x120:rate=30 "
                "-f lavfi -i sine=frequency=440:sample_rate=44100 -t 2 -c:v libx264 -preset veryfast "
                "-pix_fmt yuv420p -c:a aac -b:a 96k %s %s '%s'",
                meta, faststart ? "-movflags +faststart" : "", path);
}

/* A log of n rows from t0_ms every step_ms (+ shift_ms), values that encode the row index. */
static void write_log(const char *path, int64_t t0_ms, int n, int step_ms, int shift_ms, float base) {
  gzFile f = gzopen(path, "wb");
  assert_non_null(f);
  for (int i = 0; i < n; i++)
    gzprintf(f, "%lld,7,%.4f,%.3f,%.2f\n", (long long)(t0_ms + (int64_t)i * step_ms + shift_ms),
             base + i * 0.001f, -i * 0.25f, 9.81f);
  gzclose(f);
}

static float log_value(int i, int axis, float base) {
  char buf[64];
  if (axis == 0) snprintf(buf, sizeof buf, "%.4f", base + i * 0.001f);
  if (axis == 1) snprintf(buf, sizeof buf, "%.3f", -i * 0.25f);
  if (axis == 2) snprintf(buf, sizeof buf, "%.2f", 9.81f);
  return strtof(buf, NULL);
}

static int make_raw_template(void);

static int group_setup(void **st) {
  (void)st;
  if (tu_run(out, sizeof out, "ffmpeg -hide_banner -version >/dev/null 2>&1") != 0) {
    fprintf(stderr, "ffmpeg not found\n");
    return -1;
  }
  dir = tu_mkdtemp("import");
  if (!dir) return -1;
  if (make_mp4(tu_path(dir, "clip.mp4"), "2026-11-25T10:00:00Z", 1) != 0) return -1;
  if (make_mp4(tu_path(dir, "noct.mp4"), NULL, 0) != 0) return -1;
  return make_raw_template();
}

static int group_teardown(void **st) {
  (void)st;
  tu_rmtree(dir);
  free(dir);
  return 0;
}

static cm_session *open_session(const char *path) {
  cm_session *s = cm_session_open(path);
  if (!s) fail_msg("%s: %s", path, cm_error());
  return s;
}

static void assert_valid(const char *path) {
  int rc = tu_run(out, sizeof out, "$CMACT validate '%s'", path);
  if (rc != 0) fail_msg("validate %s: %s", path, out);
}

/* ---- video + audio + IMU round trip ---- */

static void test_video_roundtrip(void **st) {
  (void)st;
  const char *acc = tu_path(dir, "acc.csv.gz"), *gyr = tu_path(dir, "gyr.csv.gz");
  const char *acc2 = tu_path(dir, "acc2.csv.gz"), *gyr2 = tu_path(dir, "gyr2.csv.gz");
  int64_t t0_ms = T_CREATION_S * 1000 - 3000; /* 3 s before the video, 8 s of rows at 50 Hz */
  write_log(acc, t0_ms, 400, 20, 0, 1.0f);
  write_log(gyr, t0_ms, 400, 20, 0, 2.0f); /* same stamps: gyro exact */
  write_log(acc2, t0_ms, 400, 20, 0, 3.0f);
  write_log(gyr2, t0_ms, 400, 20, 7, 4.0f); /* 7 ms later: interpolated */
  const char *h5 = tu_path(dir, "rt.h5");
  int rc = tu_run(out, sizeof out,
                  "$CMACT import video '%s/clip.mp4' --out '%s' --label downstair --user u1 --location lab "
                  "--imu imu_right=%s,%s --imu imu_left=%s,%s",
                  dir, h5, acc, gyr, acc2, gyr2);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "imported 1 of 1"));
  assert_valid(h5);
  /* references from FFmpeg's own tools */
  const char *ref = tu_path(dir, "ref.h264");
  assert_int_equal(tu_run(out, sizeof out,
                          "ffmpeg -hide_banner -loglevel error -y -i '%s/clip.mp4' -map 0:v -c copy "
                          "-bsf:v h264_mp4toannexb -f h264 '%s'",
                          dir, ref),
                   0);
  size_t ref_n;
  char *ref_bytes = tu_read_file(ref, &ref_n);
  assert_non_null(ref_bytes);
  static char probe[1 << 16];
  assert_int_equal(tu_run(probe, sizeof probe,
                          "ffprobe -v error -select_streams v:0 -show_entries packet=pts,dts,flags "
                          "-of csv=p=0 '%s/clip.mp4'",
                          dir),
                   0);

  cm_session *s = open_session(h5);
  const cm_session_meta *m = cm_session_get_meta(s);
  assert_string_equal(m->session_id, "clip");
  assert_string_equal(m->user, "u1");
  assert_string_equal(m->location, "lab");
  int vi = cm_session_find_stream(s, "video");
  assert_true(vi >= 0);
  cm_stream_info vinfo;
  assert_int_equal(cm_session_stream_info(s, vi, &vinfo), 0);
  assert_string_equal(vinfo.codec, "h264");
  assert_string_equal(vinfo.start_time_source, "creation_time");
  assert_true(fabs(vinfo.start_time_uncertainty_s - 1.0) < 1e-12);
  assert_int_equal(vinfo.width, 160);
  assert_int_equal(vinfo.n_blocks, (int64_t)ref_n);
  char *bytes = malloc(ref_n);
  assert_int_equal(cm_session_read_packet_bytes(s, vi, 0, ref_n, bytes), 0);
  assert_memory_equal(bytes, ref_bytes, ref_n);
  free(bytes);
  free(ref_bytes);
  /* index: one row per ffprobe packet, same pts, dts, key flag; t_host = start + pts */
  cm_packet_row *rows = calloc((size_t)vinfo.count, sizeof *rows);
  assert_int_equal(cm_session_read_packet_index(s, vi, 0, vinfo.count, rows), 0);
  int64_t k = 0, n_b = 0;
  uint64_t off = 0;
  for (char *line = strtok(probe, "\n"); line; line = strtok(NULL, "\n"), k++) {
    long long pts, dts;
    char flags[16];
    assert_int_equal(sscanf(line, "%lld,%lld,%15s", &pts, &dts, flags), 3);
    assert_true(k < vinfo.count);
    assert_int_equal(rows[k].pts, pts);
    assert_int_equal(rows[k].dts, dts);
    assert_int_equal(rows[k].key, flags[0] == 'K');
    assert_int_equal(rows[k].offset, off);
    off += rows[k].size;
    int64_t want = T_CREATION_NS + (int64_t)llround((double)pts * 1e9 * vinfo.time_base_num / vinfo.time_base_den);
    assert_true(llabs(rows[k].t_host_ns - want) <= 1);
    n_b += rows[k].pts != rows[k].dts;
  }
  assert_int_equal(k, vinfo.count);
  assert_int_equal(k, 60);
  assert_true(n_b > 0); /* B-frames: pts and dts differ, both kept */
  free(rows);
  /* audio: the sine at 1/8 of full scale, within AAC's error */
  int ai = cm_session_find_stream(s, "audio");
  cm_stream_info ainfo;
  assert_int_equal(cm_session_stream_info(s, ai, &ainfo), 0);
  assert_int_equal(ainfo.sample_rate, 44100);
  assert_int_equal(ainfo.channels, 1);
  assert_true(ainfo.count >= 88200);
  int16_t *pcm = malloc(ainfo.count * sizeof *pcm);
  assert_int_equal(cm_session_read_audio(s, ai, 0, ainfo.count, pcm), 0);
  double e2 = 0, s2 = 0;
  for (int i = 4410; i < 88200 - 4410; i++) {
    double want = 32767.0 / 8 * sin(2 * M_PI * 440 * i / 44100.0);
    e2 += (pcm[i] - want) * (pcm[i] - want);
    s2 += want * want;
  }
  assert_true(sqrt(e2 / s2) < 0.1);
  free(pcm);
  cm_audio_block_row b0;
  assert_int_equal(cm_session_read_audio_blocks(s, ai, 0, 1, &b0), 0);
  assert_int_equal(b0.first_frame, 0);
  assert_int_equal(b0.t_host_ns, T_CREATION_NS);
  /* IMU: the rows of [start, start + 2 s): log rows 150..249, acc exact, gyro exact when the
   * stamps are shared, interpolated when they are 7 ms later */
  const char *names[2] = {"imu_right", "imu_left"};
  float bases[2][2] = {{1.0f, 2.0f}, {3.0f, 4.0f}};
  for (int si = 0; si < 2; si++) {
    int ii = cm_session_find_stream(s, names[si]);
    cm_stream_info ii_info;
    assert_int_equal(cm_session_stream_info(s, ii, &ii_info), 0);
    assert_int_equal(ii_info.count, 100);
    float x[100 * 6];
    int64_t td[100], th[100];
    assert_int_equal(cm_session_read_imu(s, ii, 0, 100, x, td, th), 0);
    for (int r = 0; r < 100; r++) {
      int i = 150 + r;
      assert_int_equal(td[r], (t0_ms + i * 20) * 1000000LL);
      assert_int_equal(th[r], td[r]);
      for (int a = 0; a < 3; a++) assert_true(x[6 * r + a] == log_value(i, a, bases[si][0]));
      for (int a = 0; a < 3; a++) {
        if (si == 0) {
          assert_true(x[6 * r + 3 + a] == log_value(i, a, bases[si][1]));
        } else { /* gyro sample i-1 at t-13 ms and i at t+7 ms: weight 13/20 on sample i */
          double g0 = log_value(i - 1, a, bases[si][1]), g1 = log_value(i, a, bases[si][1]);
          double want = g0 + (g1 - g0) * 13.0 / 20.0;
          assert_true(fabs(x[6 * r + 3 + a] - want) < 1e-5);
        }
      }
    }
  }
  cm_label_row l;
  assert_int_equal(m->n_labels, 1);
  assert_int_equal(cm_session_read_labels(s, 0, 1, &l), 0);
  assert_string_equal(l.activity, "downstairs");
  assert_int_equal(l.start_ns, T_CREATION_NS);
  assert_int_equal(l.end_ns, T_CREATION_NS + 2000000000LL);
  cm_event_row ev[8];
  assert_true(m->n_events >= 3 && m->n_events <= 8);
  assert_int_equal(cm_session_read_events(s, 0, m->n_events, ev), 0);
  int seen_start = 0, seen_merge = 0;
  for (int i = 0; i < m->n_events; i++) {
    if (strcmp(ev[i].kind, "start_time") == 0) {
      seen_start = 1;
      assert_non_null(strstr(ev[i].detail, "creation_time"));
      assert_true(ev[i].value == 1.0);
    }
    if (strcmp(ev[i].kind, "imu_merge") == 0 && strcmp(ev[i].stream, "imu_left") == 0) {
      seen_merge = 1;
      assert_true(fabs(ev[i].value - 0.007) < 1e-9);
    }
  }
  assert_true(seen_start && seen_merge);
  cm_session_close(s);
  /* again without --overwrite: refused, the file is kept */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s/clip.mp4' --out '%s' --imu imu_right=%s,%s",
                          dir, h5, acc, gyr),
                   1);
  assert_non_null(strstr(out, "exists"));
  assert_true(tu_file_exists(h5));
}

/* ---- start time evidence ---- */

static int64_t start_of(const char *h5, char *source, double *unc) {
  cm_session *s = open_session(h5);
  int vi = cm_session_find_stream(s, "video");
  cm_stream_info in;
  assert_int_equal(cm_session_stream_info(s, vi, &in), 0);
  strcpy(source, in.start_time_source);
  *unc = in.start_time_uncertainty_s;
  cm_packet_row r;
  assert_int_equal(cm_session_read_packet_index(s, vi, 0, 1, &r), 0);
  cm_session_close(s);
  return r.t_host_ns - (int64_t)llround((double)r.pts * 1e9 * in.time_base_num / in.time_base_den);
}

static void test_start_time_sources(void **st) {
  (void)st;
  char src[32];
  double unc;
  const char *noct = tu_path(dir, "noct.mp4");
  /* mtime - duration: set the mtime to 10:00:05.5Z, the video lasts 2 s */
  assert_int_equal(tu_run(out, sizeof out, "touch -d '2026-11-25 10:00:05.5Z' '%s'", noct), 0);
  const char *h5 = tu_path(dir, "st.h5");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite", noct, h5), 0);
  assert_int_equal(start_of(h5, src, &unc), T_CREATION_NS + 3500000000LL);
  assert_string_equal(src, "mtime");
  assert_true(unc == 2.0);
  /* sidecar beside the video wins over mtime */
  FILE *f = fopen(tu_path(dir, "noct.mp4.start"), "w");
  fprintf(f, "# phone clock checked against NTP\nstart_utc = 2026-11-25T11:00:00.250+01:00\nuncertainty_s = 0.05\n");
  fclose(f);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite", noct, h5), 0);
  assert_int_equal(start_of(h5, src, &unc), T_CREATION_NS + 250000000LL);
  assert_string_equal(src, "sidecar");
  assert_true(unc == 0.05);
  /* --sidecar names one explicitly (integer ns form); a broken one is a failure with its line */
  const char *sc = tu_path(dir, "explicit.start");
  f = fopen(sc, "w");
  fprintf(f, "start_utc_ns %lld\n", (long long)(T_CREATION_NS + 42));
  fclose(f);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite --sidecar '%s'", noct, h5, sc), 0);
  assert_int_equal(start_of(h5, src, &unc), T_CREATION_NS + 42);
  assert_true(unc == 1.0);
  f = fopen(sc, "w");
  fprintf(f, "start_utc = yesterday\n");
  fclose(f);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite --sidecar '%s'", noct, h5, sc), 1);
  assert_non_null(strstr(out, "explicit.start:1"));
  /* creation_time wins over a sidecar; --creation-tz reads it as local time; --start-from forces */
  const char *clip = tu_path(dir, "clip.mp4");
  assert_int_equal(tu_run(out, sizeof out, "touch -d '2026-11-25 12:00:02Z' '%s'", clip), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite", clip, h5), 0);
  assert_int_equal(start_of(h5, src, &unc), T_CREATION_NS);
  assert_string_equal(src, "creation_time");
  /* the mtime says 2 h later: flagged as a possible time-zone mistake */
  cm_session *s = open_session(h5);
  const cm_session_meta *m = cm_session_get_meta(s);
  cm_event_row ev[4];
  assert_true(m->n_events >= 2 && m->n_events <= 4);
  assert_int_equal(cm_session_read_events(s, 0, m->n_events, ev), 0);
  assert_string_equal(ev[1].kind, "start_time_tz_suspect");
  assert_true(fabs(ev[1].value - -7200.0) < 1e-6);
  cm_session_close(s);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite --creation-tz +02:00", clip, h5), 0);
  assert_int_equal(start_of(h5, src, &unc), T_CREATION_NS - 7200LL * 1000000000LL);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite --creation-marks end", clip, h5), 0);
  assert_int_equal(start_of(h5, src, &unc), T_CREATION_NS - 2000000000LL);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite --start-from mtime", clip, h5), 0);
  assert_int_equal(start_of(h5, src, &unc), T_CREATION_NS + 7200LL * 1000000000LL);
  assert_string_equal(src, "mtime");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --overwrite --start-from sidecar", clip, h5), 1);
  assert_non_null(strstr(out, "no sidecar"));
  unlink(tu_path(dir, "noct.mp4.start"));
}

/* ---- the CMActivity raw layout ---- */

/* The raw layout every raw test starts from (built once in the group setup): two videos
 * (walk, downstair) 60 s apart, logs covering both at 25 Hz, a manifest. */
static int make_raw_template(void) {
  char root[4096];
  snprintf(root, sizeof root, "%s/raw_tpl", dir);
  if (tu_run(out, sizeof out,
             "mkdir -p '%s/walk' '%s/video/downstair' '%s/raw3' '%s/raw4' '%s/raw11' '%s/raw12' && "
             "cp '%s/clip.mp4' '%s/walk/a.mp4' && "
             "ffmpeg -hide_banner -loglevel error -y -i '%s/clip.mp4' -c copy -map 0 "
             "-metadata creation_time=2026-11-25T10:01:00Z -movflags +faststart '%s/video/downstair/b.mp4'",
             root, root, root, root, root, root, dir, root, dir, root) != 0)
    return -1;
  int64_t t0_ms = T_CREATION_S * 1000 - 1000; /* rows over 70 s at 25 Hz */
  const char *sub[4] = {"raw3", "raw4", "raw11", "raw12"};
  for (int k = 0; k < 4; k++) {
    char p[4200];
    snprintf(p, sizeof p, "%s/%s/day1.csv.gz", root, sub[k]);
    write_log(p, t0_ms, 1750, 40, 0, (float)k);
  }
  char p[4200];
  snprintf(p, sizeof p, "%s/manifest.csv", root);
  FILE *f = fopen(p, "w");
  if (!f) return -1;
  fprintf(f, "video,user,location,session_id\nwalk/a.mp4,u1,loc1,s_walk\nb.mp4,u2,loc6,\n");
  fclose(f);
  return 0;
}

static const char *make_raw(const char *name) {
  static char root[4096];
  snprintf(root, sizeof root, "%s/%s", dir, name);
  assert_int_equal(tu_run(out, sizeof out, "cp -a '%s/raw_tpl' '%s'", dir, root), 0);
  return root;
}

/* A session file that opens and holds video (cheaper than running `cmact validate`). */
static void assert_session_ok(const char *path) {
  cm_session *s = open_session(path);
  assert_true(cm_session_find_stream(s, "video") >= 0);
  assert_false(cm_session_get_meta(s)->unfinished);
  cm_session_close(s);
}

static void test_raw_layout(void **st) {
  (void)st;
  const char *root = make_raw("raw_ok");
  const char *sess = tu_path(dir, "sess_ok");
  int rc = tu_run(out, sizeof out, "$CMACT import cmactivity-raw '%s' --out '%s' --summary '%s/sum.csv'", root, sess, dir);
  if (rc != 0) fail_msg("%s", out);
  assert_non_null(strstr(out, "imported 2 of 2"));
  const char *fa = tu_path(sess, "s_walk.h5"), *fb = tu_path(sess, "b.h5");
  rc = tu_run(out, sizeof out, "$CMACT validate '%s' '%s'", fa, fb);
  if (rc != 0) fail_msg("validate: %s", out);
  struct {
    const char *path, *user, *loc, *act;
    int64_t start_ns;
  } want[2] = {{fa, "u1", "loc1", "walk", T_CREATION_NS}, {fb, "u2", "loc6", "downstairs", T_CREATION_NS + 60000000000LL}};
  for (int w = 0; w < 2; w++) {
    cm_session *s = open_session(want[w].path);
    const cm_session_meta *m = cm_session_get_meta(s);
    assert_string_equal(m->user, want[w].user);
    assert_string_equal(m->location, want[w].loc);
    cm_label_row l;
    assert_int_equal(cm_session_read_labels(s, 0, 1, &l), 0);
    assert_string_equal(l.activity, want[w].act);
    assert_int_equal(l.start_ns, want[w].start_ns);
    /* each session takes exactly the rows in its own 2 s: 50 rows at 25 Hz from its start */
    for (int side = 0; side < 2; side++) {
      int ii = cm_session_find_stream(s, side ? "imu_left" : "imu_right");
      cm_stream_info in;
      assert_int_equal(cm_session_stream_info(s, ii, &in), 0);
      assert_int_equal(in.count, 50);
      float x[50 * 6];
      int64_t td[50], th[50];
      assert_int_equal(cm_session_read_imu(s, ii, 0, 50, x, td, th), 0);
      assert_int_equal(td[0], want[w].start_ns);
      assert_int_equal(td[49], want[w].start_ns + 49 * 40000000LL);
      int i0 = (int)((want[w].start_ns / 1000000 - (T_CREATION_S * 1000 - 1000)) / 40);
      float acc_base = side ? 2.0f : 0.0f, gyr_base = side ? 3.0f : 1.0f; /* raw11/12 left, raw3/4 right */
      assert_true(x[0] == log_value(i0, 0, acc_base));
      assert_true(x[3] == log_value(i0, 0, gyr_base));
    }
    cm_session_close(s);
  }
  char *sum = tu_read_file(tu_path(dir, "sum.csv"), NULL);
  assert_non_null(sum);
  assert_non_null(strstr(sum, "imported"));
  free(sum);
}

/* ---- bad inputs: one per kind, each reported with its reason and skipped ---- */

/* Runs a raw import where `fault` damages the layout; expects exit 1, `reason` in the output,
 * `bad` not written and `good` written. */
static void raw_with_fault(const char *name, const char *fault, const char *reason, const char *bad, const char *good) {
  const char *root = make_raw(name);
  assert_int_equal(tu_run(out, sizeof out, "cd '%s' && %s", root, fault), 0);
  char sess[4200];
  snprintf(sess, sizeof sess, "%s/%s_out", dir, name);
  int rc = tu_run(out, sizeof out, "$CMACT import cmactivity-raw '%s' --out '%s'", root, sess);
  if (rc != 1 || !strstr(out, reason)) fail_msg("exit %d, want 1 and '%s':\n%s", rc, reason, out);
  assert_non_null(strstr(out, "skipped"));
  if (bad) assert_false(tu_file_exists(tu_path(sess, bad)));
  if (good) assert_session_ok(tu_path(sess, good));
  assert_false(tu_file_exists(tu_path(sess, "b.h5.part")));
}

static void test_bad_truncated_mp4(void **st) {
  (void)st;
  /* faststart: the index survives at the front, the data is cut short */
  raw_with_fault("trunc", "truncate -s $(( $(stat -c %s video/downstair/b.mp4) * 6 / 10 )) video/downstair/b.mp4", "truncated", "b.h5", "s_walk.h5");
}

static void test_bad_truncated_mp4_no_index(void **st) {
  (void)st;
  /* index (moov) at the end, cut off: FFmpeg cannot open it at all */
  const char *p = tu_path(dir, "noct_cut.mp4");
  assert_int_equal(tu_run(out, sizeof out, "head -c 20000 '%s/noct.mp4' > '%s'", dir, p), 0);
  int rc = tu_run(out, sizeof out, "$CMACT import video '%s' '%s/noct.mp4' --out '%s/cutdir'", p, dir, dir);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "noct_cut.mp4: not a media file"));
  assert_non_null(strstr(out, "imported 1 of 2"));
}

static void test_bad_undecodable_audio(void **st) {
  (void)st;
  /* the AAC AudioSpecificConfig in the esds box says object type 0 (none): the stream is
   * there but the decoder refuses it */
  raw_with_fault("noaud",
                 "perl -0777 -pi -e 's/(\\x05\\x80\\x80\\x80[\\x02-\\x05])\\x12\\x08/${1}\\x02\\x08/' video/downstair/b.mp4 && "
                 "! cmp -s video/downstair/b.mp4 walk/a.mp4",
                 "audio cannot be decoded", "b.h5", "s_walk.h5");
}

static void test_bad_csv_garbage(void **st) {
  (void)st;
  /* a garbage row in the left accelerometer log: the log is refused (naming its line), and
   * with no other left log no session has left-wrist rows */
  raw_with_fault("garbage",
                 "gzip -dc raw11/day1.csv.gz | sed '5s/.*/1795600800000,0,abc,1,2/' | gzip > raw11/x && mv raw11/x raw11/day1.csv.gz",
                 "day1.csv.gz:5: x value 'abc'", "b.h5", NULL);
  assert_non_null(strstr(out, "imu_left: no accelerometer rows"));
}

static void test_bad_truncated_gzip(void **st) {
  (void)st;
  raw_with_fault("gzcut", "truncate -s 3000 raw4/day1.csv.gz", "cut short", "b.h5", NULL);
}

static void test_bad_no_imu_rows(void **st) {
  (void)st;
  /* a video recorded an hour after the logs end */
  raw_with_fault("norows",
                 "ffmpeg -hide_banner -loglevel error -y -i walk/a.mp4 -c copy -map 0 "
                 "-metadata creation_time=2026-11-25T11:00:00Z walk/late.mp4",
                 "no accelerometer rows in the video's time span", "late.h5", "b.h5");
}

static void test_bad_not_in_activity_folder(void **st) {
  (void)st;
  raw_with_fault("nolabel", "mkdir -p misc && cp walk/a.mp4 misc/c.mp4", "not inside an activity folder", "c.h5", "b.h5");
}

/* The MP4 writer of the simulator's export (libavformat, AAC flushed to the end) gives, for
 * some sample counts, one more AAC packet in the index than the demuxer returns: the edit list
 * ends before the encoder's last padding packet, which is dropped. 233476 samples at 22050 Hz
 * (clip S0398 of the cmactivity preset) is such a count. The file is whole and must import. */
static int mp4_packet(void *ctx, const uint8_t *data, size_t size, int key, int64_t pts, int64_t dts) {
  (void)dts;
  return sim_mp4_video(ctx, data, size, key, pts);
}

static void test_aac_edit_list_is_not_truncation(void **st) {
  (void)st;
  const char *mp4 = tu_path(dir, "editlist.mp4");
  int64_t start = (int64_t)T_CREATION_S * 1000000000LL;
  sim_mp4 *m = sim_mp4_open(mp4, 64, 48, 29.0, 22050, start);
  assert_non_null(m);
  sim_encoder *e = sim_encoder_new(64, 48, 29.0, 29);
  assert_non_null(e);
  uint8_t rgb[64 * 48 * 3];
  for (int f = 0; f < 307; f++) {
    memset(rgb, (f * 7) & 0xff, sizeof rgb);
    assert_int_equal(sim_encoder_encode(e, rgb, (int64_t)f * 90000 / 29, mp4_packet, m), 0);
  }
  assert_int_equal(sim_encoder_encode(e, NULL, 0, mp4_packet, m), 0);
  sim_encoder_free(e);
  enum { N = 233476 };
  int16_t *pcm = malloc(N * sizeof *pcm);
  for (int i = 0; i < N; i++) pcm[i] = (int16_t)(8000 * sin(i * 0.1));
  assert_int_equal(sim_mp4_audio(m, pcm, N), 0);
  free(pcm);
  assert_int_equal(sim_mp4_close(m, start + (int64_t)N * 1000000000LL / 22050), 0);
  static char probe[4096];
  assert_int_equal(tu_run(probe, sizeof probe,
                          "ffprobe -v error -count_packets -select_streams a:0 "
                          "-show_entries stream=nb_frames,nb_read_packets -of csv=p=0 '%s'", mp4), 0);
  int listed = 0, read = 0;
  assert_int_equal(sscanf(probe, "%d,%d", &listed, &read), 2);
  printf("AAC packets: %d in the index, %d read by the demuxer\n", listed, read);
  assert_int_equal(listed, read + 1); /* the case this test is about */
  int rc = tu_run(out, sizeof out, "$CMACT import video '%s' --out '%s' --label walk --user u1 --location lab", mp4,
                  tu_path(dir, "editlist.h5"));
  if (rc != 0) fail_msg("%s", out);
  assert_non_null(strstr(out, "imported 1 of 1"));
}

static void test_usage_errors(void **st) {
  (void)st;
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import tarball x --out y"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video '%s/clip.mp4'", dir), 2);
  assert_non_null(strstr(out, "--out"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video a.mp4 --out x.h5 --imu imu_left=a.csv"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video a.mp4 --out x.h5 --columns t=#0,x=#1"), 2);
  assert_non_null(strstr(out, "role 'y' missing"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import video a.mp4 b.mp4 --out x.h5"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT import cmactivity-raw '%s/none' --out '%s/x'", dir, dir), 2);
}

/* ---- generic CSV with named columns; the parsers ---- */

static void test_generic_csv(void **st) {
  (void)st;
  const char *p = tu_path(dir, "phone.csv");
  FILE *f = fopen(p, "w");
  fprintf(f, "ax,ay,az,gx,gy,gz,time_s\r\n");
  for (int i = 0; i < 300; i++)
    fprintf(f, "%d.5,%d,%d,0.%d,0,0,%lld.%03d\r\n", i, -i, 2 * i, i % 10, (long long)T_CREATION_S - 1 + i / 100,
            (i % 100) * 10);
  fclose(f);
  const char *h5 = tu_path(dir, "gen.h5");
  int rc = tu_run(out, sizeof out,
                  "$CMACT import video '%s/clip.mp4' --out '%s' --overwrite --time-unit s --imu phone=%s,%s "
                  "--acc-columns t=time_s,x=ax,y=ay,z=az --gyro-columns t=time_s,x=gx,y=gy,z=gz",
                  dir, h5, p, p);
  if (rc != 0) fail_msg("%s", out);
  cm_session *s = open_session(h5);
  int ii = cm_session_find_stream(s, "phone");
  cm_stream_info in;
  assert_int_equal(cm_session_stream_info(s, ii, &in), 0);
  assert_int_equal(in.count, 200); /* 100 Hz over 2 s */
  float x[6];
  int64_t td, th;
  assert_int_equal(cm_session_read_imu(s, ii, 0, 1, x, &td, &th), 0);
  assert_int_equal(td, T_CREATION_NS);
  assert_true(x[0] == 100.5f && x[1] == -100.0f && x[2] == 200.0f && x[3] == 0.0f);
  cm_session_close(s);
  /* runs of equal stamps (a radio frame's samples stamped at arrival) pair acc and gyro rows
   * in file order */
  imp_table a = {0}, g = {0}; /* two frames of 5 samples each */
  const char *pa = tu_path(dir, "frames_acc.csv"), *pg = tu_path(dir, "frames_gyr.csv");
  FILE *fa = fopen(pa, "w"), *fg = fopen(pg, "w");
  for (int i = 0; i < 10; i++) {
    fprintf(fa, "%lld,0,%d,0,0\n", (long long)(T_CREATION_S * 1000 + (i / 5) * 200), i);
    fprintf(fg, "%lld,0,%d,0,0\n", (long long)(T_CREATION_S * 1000 + (i / 5) * 200), 100 + i);
  }
  fclose(fa);
  fclose(fg);
  imp_columns c;
  imp_columns_cmactivity(&c);
  assert_int_equal(imp_table_load(&a, pa, &c, 1000000LL), 0);
  assert_int_equal(imp_table_load(&g, pg, &c, 1000000LL), 0);
  imp_table_sort(&a);
  imp_table_sort(&g);
  float *x6;
  int64_t *tt;
  imp_merge_stats ms;
  assert_int_equal(imp_merge_span(&a, &g, T_CREATION_NS + 200000000LL, T_CREATION_NS + 1000000000LL, &x6, &tt, &ms), 0);
  assert_int_equal(ms.n, 5);
  for (int r = 0; r < 5; r++) {
    assert_true(x6[6 * r] == (float)(5 + r));
    assert_true(x6[6 * r + 3] == (float)(105 + r));
  }
  assert_int_equal(ms.n_exact, 5);
  free(x6);
  free(tt);
  imp_table_free(&a);
  imp_table_free(&g);
  /* a named column that is not in the header */
  rc = tu_run(out, sizeof out, "$CMACT import video '%s/clip.mp4' --out '%s' --overwrite --imu phone=%s,%s --columns t=time,x=ax,y=ay,z=az",
              dir, h5, p, p);
  assert_int_equal(rc, 1);
  assert_non_null(strstr(out, "no column named 'time'"));
}

static void test_parsers(void **st) {
  (void)st;
  int64_t v;
  const char *s = "1542.25";
  assert_int_equal(imp_parse_time_ns(s, s + strlen(s), 1000000, &v), 0);
  assert_int_equal(v, 1542250000LL);
  s = "1795600800123.456789";
  assert_int_equal(imp_parse_time_ns(s, s + strlen(s), 1000000, &v), 0);
  assert_int_equal(v, 1795600800123456789LL);
  s = "12a";
  assert_int_equal(imp_parse_time_ns(s, s + strlen(s), 1, &v), -1);
  s = "";
  assert_int_equal(imp_parse_time_ns(s, s, 1, &v), -1);
  int zone;
  assert_int_equal(imp_parse_iso8601_ns("2026-11-25T10:00:00.000000Z", &v, &zone), 0);
  assert_int_equal(v, T_CREATION_NS);
  assert_int_equal(zone, 1);
  assert_int_equal(imp_parse_iso8601_ns("2026-11-25T05:30:00.5-0430", &v, &zone), 0);
  assert_int_equal(v, T_CREATION_NS + 500000000LL);
  assert_int_equal(imp_parse_iso8601_ns("2026-11-25 10:00:00", &v, &zone), 0);
  assert_int_equal(zone, 0);
  assert_int_equal(imp_parse_iso8601_ns("2026-13-25T10:00:00Z", &v, &zone), -1);
  assert_int_equal(imp_parse_iso8601_ns("2026-11-25T10:00Z", &v, &zone), -1);
  assert_string_equal(imp_activity_from_folder("downstair"), "downstairs");
  assert_string_equal(imp_activity_from_folder("upstair"), "upstairs");
  assert_string_equal(imp_activity_from_folder("exercise"), "exercise");
  assert_null(imp_activity_from_folder("raw3"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parsers),
      cmocka_unit_test(test_video_roundtrip),
      cmocka_unit_test(test_start_time_sources),
      cmocka_unit_test(test_generic_csv),
      cmocka_unit_test(test_raw_layout),
      cmocka_unit_test(test_bad_truncated_mp4),
      cmocka_unit_test(test_aac_edit_list_is_not_truncation),
      cmocka_unit_test(test_bad_truncated_mp4_no_index),
      cmocka_unit_test(test_bad_undecodable_audio),
      cmocka_unit_test(test_bad_csv_garbage),
      cmocka_unit_test(test_bad_truncated_gzip),
      cmocka_unit_test(test_bad_no_imu_rows),
      cmocka_unit_test(test_bad_not_in_activity_folder),
      cmocka_unit_test(test_usage_errors),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
