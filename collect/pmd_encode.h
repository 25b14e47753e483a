/*
 * Writing Polar PMD data frames: what a sensor (or the simulator standing in for one) sends.
 * The inverse of pmd_decode.h's frame layer, for the test sender (imu_sender.h), the
 * simulator's live mode and the benchmarks. Deltas are packed LSB first in blocks of at most
 * 255 samples, each block with the smallest two's-complement width that holds its deltas.
 */
#ifndef CM_PMD_ENCODE_H
#define CM_PMD_ENCODE_H

#include <stddef.h>
#include <stdint.h>

/* A delta-compressed frame (frame type byte = 0x80 | frame_type) of n samples of 3 channels
 * of `bits` (16, or 32 for float32 patterns) with time t_sensor_ns of the last sample.
 * Returns the frame's size, or 0 if cap is too small. */
size_t cm_pmd_encode_delta(uint8_t *buf, size_t cap, int measurement, int frame_type,
                           uint64_t t_sensor_ns, const int32_t *raw3, size_t n, int bits);
/* An uncompressed ACC frame of int8/int16/int24 samples (frame_type 0, 1, 2), in mG. */
size_t cm_pmd_encode_raw(uint8_t *buf, size_t cap, int frame_type, uint64_t t_sensor_ns,
                         const int32_t *raw3, size_t n);

#endif
