/*
 * The cmact IMU wire envelope: how a PMD notification travels over UDP or TCP from a phone
 * app, a gateway relaying a real sensor, or the simulator's live mode, to `cmact record`.
 *
 * The radio link gives the receiver things the bytes alone do not carry: which sensor spoke,
 * the stream's sample rate and FACTOR (agreed on the control point), and, once the frame has
 * left the radio, a way to tell lost, repeated and reordered frames apart. The envelope adds
 * exactly those, and carries the notification byte for byte, so the receiver runs the same
 * decoder as the BLE path. All fields little-endian:
 *
 *   offset size field
 *   0      4    magic "CMI1"
 *   4      1    version = 1
 *   5      1    sensor id (0..255, the sender's own numbering)
 *   6      2    sample rate in Hz of the frame's stream (0 = unknown)
 *   8      4    sequence number, per (sensor id, measurement type): +1 per frame, wraps
 *   12     4    FACTOR as float32 bits (1.0 when the sensor gave none)
 *   16     2    n = length of the PMD notification
 *   18     n    the PMD data notification exactly as the sensor sent it
 *
 * A UDP datagram carries one or more envelopes back to back; a TCP connection is a stream of
 * them. Anything after a bad magic is discarded (UDP: the rest of the datagram; TCP: the
 * connection, since framing is lost).
 */
#ifndef CM_IMU_WIRE_H
#define CM_IMU_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define CM_IMU_WIRE_HEADER 18
#define CM_IMU_WIRE_VERSION 1
#define CM_IMU_WIRE_MAX_PMD 65535

typedef struct {
  uint8_t sensor_id;
  uint16_t sample_rate;
  uint32_t seq;
  float factor;
  const uint8_t *pmd; /* points into the parsed buffer */
  size_t n_pmd;
} cm_imu_envelope;

/* Write one envelope around a notification; returns its total size, or 0 if cap is too small
 * or the notification longer than 65535 bytes. */
size_t cm_imu_wire_encode(uint8_t *buf, size_t cap, uint8_t sensor_id, uint16_t sample_rate,
                          uint32_t seq, float factor, const uint8_t *pmd, size_t n_pmd);
/* Parse the envelope at the start of buf. Returns its total size (> 0), 0 when buf holds only
 * part of one (wait for more bytes), or -1 with cm_error() set when it is not an envelope. */
long cm_imu_wire_decode(const uint8_t *buf, size_t n, cm_imu_envelope *out);

#endif
