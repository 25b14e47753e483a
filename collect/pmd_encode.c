/*
 * PMD frame writer (see pmd_encode.h).
 */
#include "pmd_encode.h"

#include <string.h>

#include "pmd_decode.h"

static size_t put_header(uint8_t *b, int meas, uint64_t t, int ftype_byte) {
  b[0] = (uint8_t)meas;
  for (int i = 0; i < 8; i++) b[1 + i] = (uint8_t)(t >> (8 * i));
  b[9] = (uint8_t)ftype_byte;
  return CM_PMD_HEADER_SIZE;
}

/* Smallest two's-complement width holding d (1..32). */
static int width_of(int32_t d) {
  int w = 1;
  while (w < 32 && (d < -(1LL << (w - 1)) || d > (1LL << (w - 1)) - 1)) w++;
  return w;
}

size_t cm_pmd_encode_delta(uint8_t *buf, size_t cap, int measurement, int frame_type,
                           uint64_t t_sensor_ns, const int32_t *raw3, size_t n, int bits) {
  if (n == 0 || (bits != 16 && bits != 32)) return 0;
  size_t ref = 3 * (size_t)bits / 8;
  if (cap < CM_PMD_HEADER_SIZE + ref) return 0;
  size_t off = put_header(buf, measurement, t_sensor_ns, 0x80 | frame_type);
  for (int c = 0; c < 3; c++)
    for (int k = 0; k < bits / 8; k++) buf[off++] = (uint8_t)((uint32_t)raw3[c] >> (8 * k));
  for (size_t s = 1; s < n;) {
    size_t blk = n - s < 255 ? n - s : 255;
    int w = 1;
    for (size_t i = s; i < s + blk; i++)
      for (int c = 0; c < 3; c++) {
        int32_t d = (int32_t)((uint32_t)raw3[i * 3 + c] - (uint32_t)raw3[(i - 1) * 3 + c]);
        int wd = width_of(d);
        if (wd > w) w = wd;
      }
    size_t bytes = ((size_t)w * blk * 3 + 7) / 8;
    if (off + 2 + bytes > cap) return 0;
    buf[off++] = (uint8_t)w;
    buf[off++] = (uint8_t)blk;
    memset(buf + off, 0, bytes);
    uint64_t acc = 0;
    int acc_bits = 0;
    uint8_t *q = buf + off;
    uint64_t mask = w == 32 ? 0xFFFFFFFFull : ((1ull << w) - 1);
    for (size_t i = s; i < s + blk; i++)
      for (int c = 0; c < 3; c++) {
        uint32_t d = (uint32_t)raw3[i * 3 + c] - (uint32_t)raw3[(i - 1) * 3 + c];
        acc |= ((uint64_t)d & mask) << acc_bits;
        acc_bits += w;
        while (acc_bits >= 8) {
          *q++ = (uint8_t)acc;
          acc >>= 8;
          acc_bits -= 8;
        }
      }
    if (acc_bits > 0) *q++ = (uint8_t)acc;
    off += bytes;
    s += blk;
  }
  return off;
}

size_t cm_pmd_encode_raw(uint8_t *buf, size_t cap, int frame_type, uint64_t t_sensor_ns,
                         const int32_t *raw3, size_t n) {
  if (frame_type < 0 || frame_type > 2 || n == 0) return 0;
  int bytes = frame_type + 1;
  if (cap < CM_PMD_HEADER_SIZE + n * 3 * bytes) return 0;
  size_t off = put_header(buf, CM_PMD_ACC, t_sensor_ns, frame_type);
  for (size_t i = 0; i < n * 3; i++)
    for (int k = 0; k < bytes; k++) buf[off++] = (uint8_t)((uint32_t)raw3[i] >> (8 * k));
  return off;
}
