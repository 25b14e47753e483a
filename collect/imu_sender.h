/*
 * A wrist sensor on the network: IMU samples in, PMD frames in wire envelopes out over UDP or
 * TCP — what a phone app relaying a Polar sensor sends, and what the simulator's live mode and
 * the tests use to drive `cmact record` through its real receiving code.
 *
 * Samples are grouped per stream (ACC, GYRO) into frames of samples_per_frame and encoded as
 * the sensor would: ACC as compressed type 0 (int16 counts of 1/4096 G: +-8 G), GYRO as
 * compressed type 0 (int16 counts of 2000/32768 deg/s: +-2000 deg/s), factors in the
 * envelope. Each frame gets the sensor time of its last sample and the next sequence number of
 * its stream.
 *
 * Faults on purpose, drawn from a seeded generator so a test can replay them: a frame may be
 * dropped (its sequence number is used up), sent twice, or held back and sent after the next
 * frame of its stream. Every frame's fate is reported to a log callback, so a test knows
 * exactly what went on the wire.
 */
#ifndef CM_IMU_SENDER_H
#define CM_IMU_SENDER_H

#include <stddef.h>
#include <stdint.h>

enum { CM_IMU_SENT = 0, CM_IMU_DROPPED = 1, CM_IMU_SENT_AGAIN = 2 };

typedef void (*cm_imu_sender_log)(void *ctx, int measurement, uint32_t seq, int fate,
                                  const uint8_t *pmd, size_t n);

typedef struct {
  int samples_per_frame; /* default 16 */
  double loss, duplicate, reorder; /* probabilities per frame, default 0 */
  uint64_t seed;
  cm_imu_sender_log log;
  void *log_ctx;
} cm_imu_sender_opts;

typedef struct cm_imu_sender cm_imu_sender;

void cm_imu_sender_opts_default(cm_imu_sender_opts *o);
/* dest: "udp:HOST:PORT" or "tcp:HOST:PORT" (connects). rate: the nominal sample rate (Hz). */
cm_imu_sender *cm_imu_sender_open(const char *dest, uint8_t sensor_id, double rate,
                                  const cm_imu_sender_opts *o);
/* n samples: acc (m/s^2 x3 each), gyro (rad/s x3 each, or NULL for an ACC-only sensor), and
 * their sensor times (Unix-epoch ns on the sensor's clock, increasing). Whole frames are sent
 * as they fill. -1 with cm_error() on a socket error. */
int cm_imu_sender_push(cm_imu_sender *s, const float *acc, const float *gyro,
                       const int64_t *t_device_ns, size_t n);
/* Send the partly filled frames and any frame held back for reordering. */
int cm_imu_sender_flush(cm_imu_sender *s);
void cm_imu_sender_close(cm_imu_sender *s);

/* The quantisation the sender applies (for tests comparing what arrives): */
#define CM_IMU_SENDER_ACC_FACTOR (1.0f / 4096.0f)       /* G per count */
#define CM_IMU_SENDER_GYRO_FACTOR (2000.0f / 32768.0f)  /* deg/s per count */

#endif
