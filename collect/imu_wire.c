/*
 * The IMU wire envelope (layout in imu_wire.h): encoding and decoding only, no sockets.
 */
#include "imu_wire.h"

#include <string.h>

#include "cm_util.h"

static const uint8_t magic[4] = {'C', 'M', 'I', '1'};

size_t cm_imu_wire_encode(uint8_t *buf, size_t cap, uint8_t sensor_id, uint16_t sample_rate,
                          uint32_t seq, float factor, const uint8_t *pmd, size_t n_pmd) {
  if (n_pmd > CM_IMU_WIRE_MAX_PMD || cap < CM_IMU_WIRE_HEADER + n_pmd) return 0;
  uint32_t fbits;
  memcpy(&fbits, &factor, 4);
  memcpy(buf, magic, 4);
  buf[4] = CM_IMU_WIRE_VERSION;
  buf[5] = sensor_id;
  buf[6] = (uint8_t)sample_rate, buf[7] = (uint8_t)(sample_rate >> 8);
  for (int i = 0; i < 4; i++) buf[8 + i] = (uint8_t)(seq >> (8 * i));
  for (int i = 0; i < 4; i++) buf[12 + i] = (uint8_t)(fbits >> (8 * i));
  buf[16] = (uint8_t)n_pmd, buf[17] = (uint8_t)(n_pmd >> 8);
  memcpy(buf + CM_IMU_WIRE_HEADER, pmd, n_pmd);
  return CM_IMU_WIRE_HEADER + n_pmd;
}

long cm_imu_wire_decode(const uint8_t *buf, size_t n, cm_imu_envelope *out) {
  memset(out, 0, sizeof *out);
  size_t m = n < 4 ? n : 4;
  if (memcmp(buf, magic, m) != 0) return cm_set_error("IMU envelope: bad magic");
  if (n >= 5 && buf[4] != CM_IMU_WIRE_VERSION)
    return cm_set_error("IMU envelope: version %d, this cmact speaks %d", buf[4], CM_IMU_WIRE_VERSION);
  if (n < CM_IMU_WIRE_HEADER) return 0;
  size_t len = buf[16] | (size_t)buf[17] << 8;
  if (n < CM_IMU_WIRE_HEADER + len) return 0;
  out->sensor_id = buf[5];
  out->sample_rate = (uint16_t)(buf[6] | buf[7] << 8);
  uint32_t seq = 0, fbits = 0;
  for (int i = 0; i < 4; i++) seq |= (uint32_t)buf[8 + i] << (8 * i);
  for (int i = 0; i < 4; i++) fbits |= (uint32_t)buf[12 + i] << (8 * i);
  out->seq = seq;
  memcpy(&out->factor, &fbits, 4);
  out->pmd = buf + CM_IMU_WIRE_HEADER;
  out->n_pmd = len;
  return (long)(CM_IMU_WIRE_HEADER + len);
}
