/*
 * `cmact imu-send`: play a wrist sensor on the network, for trying `cmact imu-capture` /
 * `cmact record --imu` without a sensor and for testing them with faults.
 *
 * The motion is a fixed synthetic wrist swing (sines on every axis plus gravity), not the
 * simulator's body model: this command only exercises the transport. The sensor's clock is
 * the host's CLOCK_REALTIME plus --clock-offset, running --drift-ppm fast, so a capture shows
 * a device clock that differs from the host's in a known way. With --realtime (the default)
 * frames leave at the pace the samples would be measured; --no-realtime sends at once.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "imu_sender.h"

int cmd_imu_send(int argc, char **argv) {
  const char *cmd = "imu-send";
  if (cmact_wants_help(argc, argv)) return cmact_help_exit(cmd, 0, NULL);
  const char *to = NULL;
  long sensor = 0, rate = 52, spf = 16, seed = 1;
  double duration = 5, loss = 0, dup = 0, reorder = 0, offset = 0, drift = 0;
  int realtime = 1;
  const cm_opt opts[] = {
      CM_OPT_STRING("to", 0, &to),
      CM_OPT_LONG_IN("sensor", 0, &sensor, 0, 255),
      CM_OPT_LONG_IN("rate", 0, &rate, 1, 10000),
      CM_OPT_DOUBLE_RANGE("duration", 0, &duration, CM_OPT_MIN | CM_OPT_MIN_OPEN, 0, 0),
      CM_OPT_LONG_IN("frame", 0, &spf, 1, 200),
      CM_OPT_DOUBLE_IN("loss", 0, &loss, 0, 1),
      CM_OPT_DOUBLE_IN("dup", 0, &dup, 0, 1),
      CM_OPT_DOUBLE_IN("reorder", 0, &reorder, 0, 1),
      CM_OPT_LONG("seed", 0, &seed),
      CM_OPT_DOUBLE("clock-offset", 0, &offset),
      CM_OPT_DOUBLE("drift-ppm", 0, &drift),
      CM_OPT_SET_INT("no-realtime", 0, &realtime, 0),
      CM_OPT_SET_INT("realtime", 0, &realtime, 1),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit(cmd, 1, "%s", cm_error());
  if (!to) return cmact_help_exit(cmd, 1, "no --to udp:HOST:PORT or tcp:HOST:PORT given");

  cm_imu_sender_opts o;
  cm_imu_sender_opts_default(&o);
  o.samples_per_frame = (int)spf;
  o.loss = loss, o.duplicate = dup, o.reorder = reorder;
  o.seed = (uint64_t)seed;
  cm_imu_sender *s = cm_imu_sender_open(to, (uint8_t)sensor, (double)rate, &o);
  if (!s) return cm_fail_error(cmd);

  long n = (long)ceil(duration * rate);
  int64_t host0 = cm_realtime_ns(), mono0 = cm_monotonic_ns();
  int64_t dev0 = host0 + (int64_t)(offset * 1e9);
  int rc = CM_EXIT_OK;
  for (long i = 0; i < n; i++) {
    double t = (double)i / rate;
    float acc[3] = {(float)(2.0 * sin(2 * M_PI * 1.1 * t)), (float)(-9.80665 + 1.5 * cos(2 * M_PI * 2.2 * t)),
                    (float)(0.8 * sin(2 * M_PI * 0.5 * t))};
    float gyr[3] = {(float)(1.2 * cos(2 * M_PI * 1.1 * t)), (float)(0.4 * sin(2 * M_PI * 2.2 * t)),
                    (float)(-0.6 * sin(2 * M_PI * 0.9 * t))};
    /* a clock running fast counts more than 1e9/rate ns between samples */
    int64_t td = dev0 + (int64_t)llround(i * 1e9 / rate * (1 + drift * 1e-6));
    if (realtime) {
      int64_t due = mono0 + (int64_t)(t * 1e9);
      int64_t wait = due - cm_monotonic_ns();
      if (wait > 0) {
        struct timespec ts = {wait / 1000000000, wait % 1000000000};
        nanosleep(&ts, NULL);
      }
    }
    if (cm_imu_sender_push(s, acc, gyr, &td, 1) < 0) {
      rc = cm_fail_error(cmd);
      break;
    }
  }
  if (rc == CM_EXIT_OK && cm_imu_sender_flush(s) < 0) rc = cm_fail_error(cmd);
  cm_imu_sender_close(s);
  if (rc == CM_EXIT_OK) printf("sent %ld samples of ACC and GYRO at %ld Hz to %s\n", n, rate, to);
  return rc;
}
