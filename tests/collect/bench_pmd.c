/*
 * Benchmark: Polar PMD frames decoded per second on one core, against the target of 1000x
 * the frame rate of two wrist sensors streaming ACC and GYRO at 200 Hz each.
 *
 * Two paths are timed over a fixed set of frames built from a noisy wrist-like motion:
 *   decode   cm_pmd_frame_parse + cm_pmd_decode_values + cm_pmd_sample_times per frame;
 *   capture  the whole capture path behind the socket: the stream tracker (sequence
 *            bookkeeping, time checks, decoding, ACC/GYRO pairing into rows), rows taken out.
 * Frame sizes: 36 samples (what a Verity Sense sends per notification at a 232-byte MTU) and
 * 1 sample (the worst case: one notification per sample). The target scales with the frame
 * size: two sensors x (ACC + GYRO) x 200 Hz = 800 samples/s, i.e. 800/n frames/s, x 1000.
 *
 *   bench_pmd [--seconds S]   (default 2 s per measurement; prints a Markdown table)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "imu_stream.h"
#include "imu_wire.h"
#include "pmd_decode.h"
#include "pmd_encode.h"

#define N_FRAMES 512

typedef struct {
  uint8_t b[600];
  size_t n;
} frame_buf;

static uint64_t rng = 88172645463325252ull;
static double noise(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return ((rng >> 11) / 9007199254740992.0 - 0.5) * 2;
}

/* frames alternate ACC (compressed type 1, mG) and GYRO (compressed type 0, 1/16 deg/s), or
 * raw int16 ACC when raw is set */
static void build(frame_buf *f, int spf, int raw) {
  uint64_t t = 800000000000000000ULL;
  int j = 0;
  for (int k = 0; k < N_FRAMES; k += 2) {
    int32_t acc[36 * 3], gyr[36 * 3];
    for (int i = 0; i < spf; i++, j++) {
      double s = j / 200.0;
      acc[i * 3 + 0] = (int32_t)lround(300 * sin(2 * M_PI * 1.7 * s) + 8 * noise());
      acc[i * 3 + 1] = (int32_t)lround(-1000 + 150 * cos(2 * M_PI * 1.7 * s) + 8 * noise());
      acc[i * 3 + 2] = (int32_t)lround(120 * sin(2 * M_PI * 0.6 * s) + 8 * noise());
      gyr[i * 3 + 0] = (int32_t)lround(1600 * sin(2 * M_PI * 1.7 * s) + 20 * noise());
      gyr[i * 3 + 1] = (int32_t)lround(900 * cos(2 * M_PI * 0.9 * s) + 20 * noise());
      gyr[i * 3 + 2] = (int32_t)lround(400 * sin(2 * M_PI * 2.3 * s) + 20 * noise());
    }
    t += (uint64_t)spf * 5000000ULL;
    f[k].n = raw ? cm_pmd_encode_raw(f[k].b, sizeof f[k].b, 1, t, acc, spf)
                 : cm_pmd_encode_delta(f[k].b, sizeof f[k].b, CM_PMD_ACC, 1, t, acc, spf, 16);
    f[k + 1].n = cm_pmd_encode_delta(f[k + 1].b, sizeof f[k + 1].b, CM_PMD_GYRO, 0, t, gyr, spf, 16);
    if (!f[k].n || !f[k + 1].n) {
      fprintf(stderr, "bench_pmd: frame does not fit\n");
      exit(1);
    }
  }
}

static double bench_decode(const frame_buf *f, double seconds, int64_t *frames_out) {
  static cm_pmd_value v[4096];
  static uint64_t times[4096];
  int64_t frames = 0;
  double c0 = cm_cpu_seconds(), el;
  uint64_t prev[2] = {0, 0};
  do {
    for (int k = 0; k < N_FRAMES; k++) {
      cm_pmd_frame fr;
      if (cm_pmd_frame_parse(f[k].b, f[k].n, &fr) < 0) exit(1);
      long n = cm_pmd_decode_values(&fr, 1.0f, v, 4096);
      if (n < 0) {
        fprintf(stderr, "bench_pmd: %s\n", cm_error());
        exit(1);
      }
      int m = fr.measurement == CM_PMD_ACC ? 0 : 1;
      if (cm_pmd_sample_times(prev[m] < fr.t_sensor_ns ? prev[m] : 0, fr.t_sensor_ns, (size_t)n, 200, times) < 0) exit(1);
      prev[m] = fr.t_sensor_ns;
    }
    frames += N_FRAMES;
    prev[0] = prev[1] = 0;
    el = cm_cpu_seconds() - c0;
  } while (el < seconds);
  *frames_out = frames;
  return el;
}

static double bench_capture(const frame_buf *f, double seconds, int64_t *frames_out) {
  static cm_imu_row rows[8192];
  int64_t frames = 0;
  double c0 = cm_cpu_seconds(), el;
  cm_imu_tracker *t = cm_imu_tracker_new("bench", NULL);
  uint32_t seq[2] = {0, 0};
  int64_t host = 1700000000000000000LL;
  do {
    cm_imu_tracker_link_lost(t); /* the frame set restarts its times */
    for (int k = 0; k < N_FRAMES; k++) {
      int m = k & 1;
      cm_imu_tracker_frame(t, f[k].b, f[k].n, 1, seq[m]++, 200, m ? 1.0f / 16 : 1.0f, host += 1000);
      if ((k & 63) == 63) cm_imu_tracker_take_rows(t, rows, 8192);
    }
    frames += N_FRAMES;
    el = cm_cpu_seconds() - c0;
  } while (el < seconds);
  cm_imu_tracker_finish(t, host);
  cm_imu_tracker_take_rows(t, rows, 8192);
  if (cm_imu_tracker_stats(t)->bad_frames) {
    fprintf(stderr, "bench_pmd: the tracker rejected frames\n");
    exit(1);
  }
  cm_imu_tracker_free(t);
  *frames_out = frames;
  return el;
}

int main(int argc, char **argv) {
  double seconds = 2;
  if (argc == 3 && !strcmp(argv[1], "--seconds")) seconds = atof(argv[2]);
  static frame_buf f[N_FRAMES];
  printf("| frames | path | frames/s | samples/s | target frames/s (1000 x 2 sensors x ACC+GYRO x 200 Hz) | x target |\n");
  printf("|---|---|---|---|---|---|\n");
  struct { int spf, raw; const char *what; } kinds[] = {
      {36, 0, "36-sample delta (ACC type 1 + GYRO type 0)"},
      {36, 1, "36-sample raw int16 ACC + delta GYRO"},
      {1, 0, "1-sample delta (worst case)"}};
  for (int i = 0; i < 3; i++) {
    build(f, kinds[i].spf, kinds[i].raw);
    double target = 1000.0 * 800.0 / kinds[i].spf;
    for (int p = 0; p < 2; p++) {
      int64_t frames;
      double el = p ? bench_capture(f, seconds, &frames) : bench_decode(f, seconds, &frames);
      double fps = frames / el;
      printf("| %s | %s | %.3g | %.3g | %.3g | %.1f |\n", kinds[i].what, p ? "capture" : "decode", fps,
             fps * kinds[i].spf, target, fps / target);
      fflush(stdout);
    }
  }
  return 0;
}
