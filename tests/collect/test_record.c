/*
 * cmact record / label / export end to end, through the program itself, against real
 * components: live GStreamer test sources, a chronyd pair on loopback with a known 0.25 s
 * offset, the stored file read back with the formats library, and the exported MP4 checked
 * with ffprobe. The PulseAudio, crash and full-disk tests are in test_record_faults.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_session.h"
#include "cm_util.h"
#include "rec_env.h"
#include "testutil.h"

static char out[65536];

static int find_event(cm_session *s, const char *kind, cm_event_row *ev) {
  const cm_session_meta *m = cm_session_get_meta(s);
  for (int64_t i = 0; i < m->n_events; i++) {
    cm_event_row e;
    assert_int_equal(cm_session_read_events(s, i, 1, &e), 0);
    if (strcmp(e.kind, kind) == 0) {
      if (ev) *ev = e;
      return 1;
    }
  }
  return 0;
}

static double csv_field(const char *line, int k) {
  const char *p = line;
  for (int i = 0; i < k && p; i++) {
    p = strchr(p, ',');
    if (p) p++;
  }
  assert_non_null(p);
  return strtod(p, NULL);
}

static void test_record_with_chrony(void **state) {
  char *dir = tu_mkdtemp("rec");
  char sock[512];
  if (rec_env_chrony_start(dir, 0.25, sock, sizeof sock) != 0) {
    rec_env_chrony_stop(dir);
    fail_msg("chronyd did not start");
  }
  const char *h5 = tu_path(dir, "s.h5");
  int64_t t0 = cm_realtime_ns();
  int rc = tu_run(out, sizeof out,
                  "$CMACT record --video 'videotestsrc is-live=true pattern=ball' "
                  "--audio 'audiotestsrc is-live=true freq=440' --size 320x240 --fps 29 "
                  "--audio-rate 48000 --audio-channels 2 --duration 2.5 --chrony-socket '%s' "
                  "--chrony-interval 0.5 --label walk --user alice --location lab "
                  "--session-id s1 --out '%s' --summary-json '%s'",
                  sock, h5, tu_path(dir, "s.json"));
  int64_t t1 = cm_realtime_ns();
  char chronyc[1024];
  int crc = tu_run(chronyc, sizeof chronyc, "chronyc -h '%s' -c tracking", sock);
  rec_env_chrony_stop(dir);
  printf("%s", out);
  assert_int_equal(rc, 0);
  assert_int_equal(crc, 0);
  assert_non_null(strstr(out, "ended by                 duration"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT validate '%s'", h5), 0);

  cm_session *s = cm_session_open(h5);
  assert_non_null(s);
  const cm_session_meta *m = cm_session_get_meta(s);
  assert_int_equal(m->unfinished, 0);
  assert_string_equal(m->session_id, "s1");
  assert_string_equal(m->user, "alice");
  assert_string_equal(m->location, "lab");
  int v = cm_session_find_stream(s, "video"), a = cm_session_find_stream(s, "audio");
  assert_true(v >= 0 && a >= 0);
  cm_stream_info vi, ai;
  assert_int_equal(cm_session_stream_info(s, v, &vi), 0);
  assert_int_equal(cm_session_stream_info(s, a, &ai), 0);
  assert_string_equal(vi.codec, "h264");
  assert_int_equal(vi.width, 320);
  assert_int_equal(vi.height, 240);
  assert_true(fabs(vi.nominal_rate - 29) < 1e-9);
  assert_int_equal(ai.sample_rate, 48000);
  assert_int_equal(ai.channels, 2);
  /* 2.5 s at 29 fps, give or take the drain at the end and a loaded machine's delays (the
   * sanitizer build runs this beside other tests); frame continuity is checked below. */
  printf("video %lld packets, audio %lld frames\n", (long long)vi.count, (long long)ai.count);
  assert_true(vi.count >= 50 && vi.count <= 110);
  assert_true(ai.count >= 1.8 * 48000 && ai.count <= 3.8 * 48000);

  /* Packets are consecutive frames: pts steps of one frame period, capture times between the
   * start and the end of the command, first packet a keyframe. */
  cm_packet_row *rows = cm_xcalloc(vi.count, sizeof *rows);
  assert_int_equal(cm_session_read_packet_index(s, v, 0, vi.count, rows), 0);
  assert_int_equal(rows[0].key, 1);
  for (int64_t i = 1; i < vi.count; i++) {
    assert_true(llabs(rows[i].pts - rows[i - 1].pts - 90000 / 29) <= 1);
    assert_true(rows[i].offset == rows[i - 1].offset + rows[i - 1].size);
    double dt = (rows[i].t_host_ns - rows[i - 1].t_host_ns) / 1e9;
    assert_true(fabs(dt - 1.0 / 29) < 0.002);
  }
  assert_true(rows[0].t_host_ns > t0 && rows[vi.count - 1].t_host_ns < t1);
  uint8_t head[5];
  assert_int_equal(cm_session_read_packet_bytes(s, v, 0, 5, head), 0);
  assert_true(head[0] == 0 && head[1] == 0 && (head[2] == 1 || (head[2] == 0 && head[3] == 1)));
  free(rows);

  /* The 440 Hz test tone arrives as 440 Hz (zero crossings of the left channel over 1 s). */
  int16_t *pcm = cm_xmalloc(sizeof(int16_t) * 2 * 48000);
  assert_int_equal(cm_session_read_audio(s, a, 0, 48000, pcm), 0);
  int crossings = 0;
  for (int i = 1; i < 48000; i++) crossings += (pcm[2 * i - 2] < 0) != (pcm[2 * i] < 0);
  printf("audio zero crossings in 1 s: %d\n", crossings);
  assert_true(abs(crossings - 880) <= 4);
  free(pcm);

  /* chrony: up to 6 answers (every 0.5 s; fewer when a loaded machine slows the loop), each
   * saying the clock is 0.25 s slow, matching what chronyc reports against the same daemon. */
  printf("chrony rows %lld; chronyc: %s", (long long)m->n_chrony, chronyc);
  assert_true(m->n_chrony >= 2);
  cm_chrony_row c;
  assert_int_equal(cm_session_read_chrony(s, m->n_chrony - 1, 1, &c), 0);
  assert_true(fabs(c.current_correction - csv_field(chronyc, 4)) < 1e-3);
  assert_true(fabs(c.current_correction - 0.25) < 0.01);
  assert_int_equal(c.stratum, (int)csv_field(chronyc, 2));
  assert_int_equal(c.ref_id, (uint32_t)strtoul(chronyc, NULL, 16));
  /* Every answer is stored; chronyd may briefly report itself unsynchronised (leap status 3)
   * when a loaded machine delays its 0.25 s polls; then, and only then, an event says so. */
  int n_unsynced_rows = 0;
  for (int64_t i = 0; i < m->n_chrony; i++) {
    cm_chrony_row ci;
    assert_int_equal(cm_session_read_chrony(s, i, 1, &ci), 0);
    printf("chrony row %lld: leap %u stratum %u correction %.9f\n", (long long)i, ci.leap_status,
           ci.stratum, ci.current_correction);
    if (ci.leap_status == 3) n_unsynced_rows++;
    else assert_true(fabs(ci.current_correction - 0.25) < 0.01);
  }
  cm_event_row ev;
  int has_unsynced = find_event(s, "clock_unsynced", &ev);
  if (has_unsynced) printf("clock_unsynced event: %s\n", ev.detail);
  assert_int_equal(has_unsynced, n_unsynced_rows > 0);
  assert_int_equal(find_event(s, "dropped_frames", NULL), 0);
  assert_int_equal(find_event(s, "recording_end", NULL), 1);

  /* --label walk covers the recording, in reference time (host + 0.25 s). */
  assert_int_equal(m->n_labels, 1);
  cm_label_row l;
  assert_int_equal(cm_session_read_labels(s, 0, 1, &l), 0);
  assert_string_equal(l.activity, "walk");
  assert_true(l.start_ns > t0 + 200000000LL && l.end_ns < t1 + 300000000LL);
  assert_true((l.end_ns - l.start_ns) / 1e9 > 2.0);
  int64_t n_video = vi.count;
  cm_session_close(s);

  /* cmact label: relabel a middle second as run; the walk label splits around it. */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT label '%s' 1 2 run", h5), 0);
  s = cm_session_open(h5);
  m = cm_session_get_meta(s);
  assert_int_equal(m->n_labels, 3);
  cm_label_row ls[3];
  assert_int_equal(cm_session_read_labels(s, 0, 3, ls), 0);
  assert_string_equal(ls[0].activity, "walk");
  assert_string_equal(ls[1].activity, "run");
  assert_string_equal(ls[2].activity, "walk");
  assert_true(ls[1].end_ns - ls[1].start_ns == 1000000000LL);
  assert_true(ls[0].end_ns == ls[1].start_ns && ls[1].end_ns == ls[2].start_ns);
  assert_true(ls[0].start_ns == l.start_ns && ls[2].end_ns == l.end_ns);
  cm_session_close(s);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT label '%s' 0 9 none", h5), 0);
  s = cm_session_open(h5);
  assert_int_equal(cm_session_get_meta(s)->n_labels, 0);
  cm_session_close(s);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT label '%s' 1 2 dancing", h5), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT label '%s' 2 1 run", h5), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT label '%s' x 1 run", h5), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT label '%s' 1 2 run", tu_path(dir, "none.h5")), 1);
  assert_non_null(strstr(out, "none.h5"));

  /* cmact export: an MP4 whose video is the stored stream, frame for frame, decodable. */
  const char *mp4 = tu_path(dir, "s.mp4");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT export '%s' --mp4 '%s'", h5, mp4), 0);
  assert_int_equal(tu_run(out, sizeof out,
                          "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
                          "stream=codec_name,profile,nb_read_frames,nb_frames,width -of csv=p=0 '%s'",
                          mp4),
                   0);
  printf("ffprobe video: %s", out);
  char expect[128];
  snprintf(expect, sizeof expect, "h264,Constrained Baseline,320,%lld,%lld", (long long)n_video,
           (long long)n_video);
  assert_non_null(strstr(out, expect));
  assert_int_equal(tu_run(out, sizeof out,
                          "ffprobe -v error -select_streams a:0 -show_entries "
                          "stream=codec_name,sample_rate,channels,duration -of csv=p=0 '%s'", mp4),
                   0);
  printf("ffprobe audio: %s", out);
  assert_non_null(strstr(out, "aac,48000,2,"));
  double adur = strtod(strrchr(out, ',') + 1, NULL);
  assert_true(fabs(adur - ai.count / 48000.0) < 0.05);
  /* refuses to overwrite without --force */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT export '%s' --mp4 '%s'", h5, mp4), 1);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT export '%s' --mp4 '%s' --force", h5, mp4), 0);
  tu_rmtree(dir);
  free(dir);
}

static void test_mjpeg_no_chrony(void **state) {
  char *dir = tu_mkdtemp("rec-mjpeg");
  const char *h5 = tu_path(dir, "m.h5");
  int rc = tu_run(out, sizeof out,
                  "$CMACT record --video 'videotestsrc is-live=true num-buffers=20' --no-audio "
                  "--video-codec mjpeg --size 160x120 --fps 20 --chrony-socket '%s/none.sock' "
                  "--out '%s'",
                  dir, h5);
  printf("%s", out);
  assert_int_equal(rc, 0);
  assert_non_null(strstr(out, "end of stream"));
  cm_session *s = cm_session_open(h5);
  assert_non_null(s);
  assert_int_equal(cm_session_find_stream(s, "audio"), -1);
  cm_stream_info vi;
  assert_int_equal(cm_session_stream_info(s, cm_session_find_stream(s, "video"), &vi), 0);
  assert_string_equal(vi.codec, "mjpeg");
  assert_int_equal(vi.count, 20);
  /* No chronyd: the recording went on and says the clock is unsynchronised. */
  cm_event_row e;
  assert_int_equal(find_event(s, "clock_unsynced", &e), 1);
  assert_non_null(strstr(e.detail, "none.sock"));
  assert_int_equal(cm_session_get_meta(s)->n_chrony, 0);
  cm_session_close(s);
  const char *mp4 = tu_path(dir, "m.mp4");
  assert_int_equal(tu_run(out, sizeof out, "$CMACT export '%s' --mp4 '%s'", h5, mp4), 0);
  assert_int_equal(tu_run(out, sizeof out,
                          "ffprobe -v error -count_frames -show_entries "
                          "stream=codec_name,nb_read_frames -of csv=p=0 '%s'", mp4),
                   0);
  assert_non_null(strstr(out, "mjpeg,20"));
  tu_rmtree(dir);
  free(dir);
}

static void test_usage_errors(void **state) {
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --video videotestsrc"), 2);
  assert_non_null(strstr(out, "--out"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --out x.h5 --label dancing"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --out x.h5 --size 12"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --out x.h5 --fps 0"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --out x.h5 --no-video --no-audio"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT record --out x.h5 --bogus"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT export"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT export a.h5"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT label a.h5 1 2"), 2);
  /* a source that does not exist: one line naming it, exit 1, no file left behind */
  char *dir = tu_mkdtemp("rec-bad");
  assert_int_equal(tu_run(out, sizeof out,
                          "$CMACT record --video 'v4l2src device=/dev/cmact-none' --no-audio "
                          "--chrony-interval 0 --out '%s'",
                          tu_path(dir, "b.h5")),
                   1);
  assert_non_null(strstr(out, "cmact-none"));
  assert_int_equal(tu_file_exists(tu_path(dir, "b.h5")), 0);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_record_with_chrony),
      cmocka_unit_test(test_mjpeg_no_chrony),
      cmocka_unit_test(test_usage_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
