/*
 * Append throughput of the session writer, on one core, into a real file with the writer's
 * own flushes (twice a second of wall time) included.
 *
 * The reference load is what a recorder must sustain: a 640x480 29 fps H.264 stream (packets
 * of realistic sizes: a 60 KB keyframe every 29 frames, ~9 KB otherwise, about 2.3 Mbit/s)
 * plus two wrist IMUs at 100 Hz. The benchmark appends that mix as fast as it can and prints
 * how many times real time it ran (target: >= 100x), plus the IMU-only and video-only rates.
 *
 * usage: bench_session_append [DIR] [SECONDS_OF_RECORDING]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "/tmp";
  double rec_s = argc > 2 ? atof(argv[2]) : 600; /* ten minutes of recording */
  char path[4096];
  snprintf(path, sizeof path, "%s/bench-append-%d.h5", dir, (int)getpid());
  static uint8_t pkt[65536];
  for (size_t i = 0; i < sizeof pkt; i++) pkt[i] = (uint8_t)(i * 131);
  int64_t frames = (int64_t)(rec_s * 29), imu_per_frame_num = 200; /* 200 samples/s over 29 frames/s */

  /* 1. the mixed real-time load */
  cm_session *s = cm_session_create(path, NULL, 1);
  if (!s) return cm_fail_error("bench");
  cm_stream_desc v = {.name = "video", .kind = CM_STREAM_VIDEO, .codec = "h264", .width = 640, .height = 480,
                      .time_base_num = 1, .time_base_den = 90000, .nominal_rate = 29};
  cm_stream_desc l = {.name = "imu_left", .kind = CM_STREAM_IMU, .nominal_rate = 100};
  cm_stream_desc r = {.name = "imu_right", .kind = CM_STREAM_IMU, .nominal_rate = 100};
  int vi = cm_session_add_stream(s, &v), li = cm_session_add_stream(s, &l), ri = cm_session_add_stream(s, &r);
  if (cm_session_start(s) < 0) return cm_fail_error("bench");
  double cpu0 = cm_cpu_seconds();
  int64_t t0 = cm_monotonic_ns(), bytes = 0, imu = 0, acc = 0;
  for (int64_t f = 0; f < frames; f++) {
    cm_packet_row row = {.size = f % 29 == 0 ? 60000 : 9000 + (uint32_t)(f * 7919 % 2000), .key = f % 29 == 0,
                         .pts = f * 3103, .dts = f * 3103, .t_host_ns = f * 34482758LL};
    if (cm_session_append_packet(s, vi, pkt, &row) < 0) return cm_fail_error("bench");
    bytes += row.size;
    acc += imu_per_frame_num;
    while (acc >= 29) { /* 200/29 IMU samples per frame, split over the two wrists */
      acc -= 29;
      float x[6] = {0.1f, 0.2f, 9.8f, 0.01f, 0.02f, 0.03f};
      int64_t t = imu * 10000000LL;
      if (cm_session_append_imu(s, (imu & 1) ? ri : li, x, &t, &t, 1) < 0) return cm_fail_error("bench");
      imu++;
    }
  }
  if (cm_session_close(s) < 0) return cm_fail_error("bench");
  double wall = (cm_monotonic_ns() - t0) * 1e-9, cpu = cm_cpu_seconds() - cpu0;
  printf("mixed load: %.0f s of 640x480@29fps H.264 (%.1f MB) + 2 x 100 Hz IMU (%lld samples)\n", rec_s, bytes / 1e6,
         (long long)imu);
  printf("  wall %.3f s, cpu %.3f s -> %.0fx real time (target >= 100x)\n", wall, cpu, rec_s / wall);
  unlink(path);

  /* 2. IMU rows alone, one sample per call */
  s = cm_session_create(path, NULL, 1);
  li = cm_session_add_stream(s, &l);
  cm_session_start(s);
  int64_t n = 5000000;
  t0 = cm_monotonic_ns();
  for (int64_t i = 0; i < n; i++) {
    float x[6] = {0};
    int64_t t = i;
    if (cm_session_append_imu(s, li, x, &t, &t, 1) < 0) return cm_fail_error("bench");
  }
  cm_session_close(s);
  wall = (cm_monotonic_ns() - t0) * 1e-9;
  printf("imu rows alone: %.2f M samples/s (one call per sample; %.0fx two 100 Hz sensors)\n", n / wall / 1e6,
         n / wall / 200);
  unlink(path);

  /* 3. video packets alone */
  s = cm_session_create(path, NULL, 1);
  vi = cm_session_add_stream(s, &v);
  cm_session_start(s);
  int64_t np = 20000;
  bytes = 0;
  t0 = cm_monotonic_ns();
  for (int64_t f = 0; f < np; f++) {
    cm_packet_row row = {.size = 9000 + (uint32_t)(f % 1000), .pts = f, .dts = f, .t_host_ns = f};
    if (cm_session_append_packet(s, vi, pkt, &row) < 0) return cm_fail_error("bench");
    bytes += row.size;
  }
  cm_session_close(s);
  wall = (cm_monotonic_ns() - t0) * 1e-9;
  printf("video packets alone: %.0f MB/s, %.0f packets/s (%.0fx a 2.3 Mbit/s stream)\n", bytes / wall / 1e6, np / wall,
         bytes / wall / (2.3e6 / 8));
  printf("peak RSS %ld KiB\n", cm_peak_rss_kib());
  unlink(path);
  return 0;
}
