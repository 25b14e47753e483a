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
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cm_util.h"
#include "cmds.h"
#include "imu_sender.h"

int cmd_imu_send(int argc, char **argv) {
  const char *cmd = "imu-send";
  if (cmact_wants_help(argc, argv)) return cmact_help_exit(cmd, 0, NULL);
  static const struct option opts[] = {
      {"to", required_argument, 0, 't'},          {"sensor", required_argument, 0, 'S'},
      {"rate", required_argument, 0, 'r'},        {"duration", required_argument, 0, 'd'},
      {"frame", required_argument, 0, 'f'},       {"loss", required_argument, 0, 'L'},
      {"dup", required_argument, 0, 'D'},         {"reorder", required_argument, 0, 'R'},
      {"seed", required_argument, 0, 's'},        {"clock-offset", required_argument, 0, 'o'},
      {"drift-ppm", required_argument, 0, 'p'},   {"no-realtime", no_argument, 0, 'n'},
      {"realtime", no_argument, 0, 'T'},          {0, 0, 0, 0}};
  const char *to = NULL;
  long sensor = 0, rate = 52, spf = 16, seed = 1;
  double duration = 5, loss = 0, dup = 0, reorder = 0, offset = 0, drift = 0;
  int realtime = 1;
  optind = 1;
  opterr = 0;
  int c;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    int bad = 0;
    switch (c) {
    case 't': to = optarg; break;
    case 'S': bad = cm_parse_long(optarg, "--sensor", &sensor) < 0 || sensor < 0 || sensor > 255; break;
    case 'r': bad = cm_parse_long(optarg, "--rate", &rate) < 0 || rate < 1 || rate > 10000; break;
    case 'd': bad = cm_parse_double(optarg, "--duration", &duration) < 0 || duration <= 0; break;
    case 'f': bad = cm_parse_long(optarg, "--frame", &spf) < 0 || spf < 1 || spf > 200; break;
    case 'L': bad = cm_parse_double(optarg, "--loss", &loss) < 0 || loss < 0 || loss > 1; break;
    case 'D': bad = cm_parse_double(optarg, "--dup", &dup) < 0 || dup < 0 || dup > 1; break;
    case 'R': bad = cm_parse_double(optarg, "--reorder", &reorder) < 0 || reorder < 0 || reorder > 1; break;
    case 's': bad = cm_parse_long(optarg, "--seed", &seed) < 0; break;
    case 'o': bad = cm_parse_double(optarg, "--clock-offset", &offset) < 0; break;
    case 'p': bad = cm_parse_double(optarg, "--drift-ppm", &drift) < 0; break;
    case 'n': realtime = 0; break;
    case 'T': realtime = 1; break;
    default: return cmact_help_exit(cmd, 1, "unknown option '%s'", argv[optind - 1]);
    }
    if (bad) return cmact_help_exit(cmd, 1, "%s '%s': out of range", argv[optind - 1], optarg);
  }
  if (optind < argc) return cmact_help_exit(cmd, 1, "unexpected argument '%s'", argv[optind]);
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
