/*
 * Polar PMD encoding and decoding (see pmd_decode.h for the layers and the two deliberate
 * differences from Polar's SDK).
 *
 * Everything works on byte buffers the caller owns and never allocates, so that the same code
 * serves the BLE path, the network path, the fuzzer and the benchmark. Every length is
 * checked before a byte is read: the input is radio data and may be anything.
 */
#include "pmd_decode.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"

/* FB005C8x-02E7-F387-1CAD-8ACD2D8DF0C8, least significant byte first. */
#define PMD_UUID_LE(last) \
  { 0xC8, 0xF0, 0x8D, 0x2D, 0xCD, 0x8A, 0xAD, 0x1C, 0x87, 0xF3, 0xE7, 0x02, last, 0x5C, 0x00, 0xFB }
const uint8_t cm_pmd_service_uuid[16] = PMD_UUID_LE(0x80);
const uint8_t cm_pmd_cp_uuid[16] = PMD_UUID_LE(0x81);
const uint8_t cm_pmd_data_uuid[16] = PMD_UUID_LE(0x82);

#define G_TO_MS2 9.80665
#define DEG_TO_RAD (3.14159265358979323846 / 180.0)

/* ---- control point ---- */

static int setting_field_size(int type) {
  switch (type) {
  case CM_PMD_SET_SAMPLE_RATE: case CM_PMD_SET_RESOLUTION: case CM_PMD_SET_RANGE: return 2;
  case CM_PMD_SET_RANGE_MILLIUNIT: case CM_PMD_SET_FACTOR: return 4;
  case CM_PMD_SET_CHANNELS: return 1;
  case CM_PMD_SET_SECURITY: return 16;
  default: return -1;
  }
}

int cm_pmd_settings_parse(const uint8_t *p, size_t n, cm_pmd_settings *out) {
  memset(out, 0, sizeof *out);
  size_t off = 0;
  while (off < n) {
    int type = p[off];
    int size = setting_field_size(type);
    if (size < 0) return cm_set_error("PMD settings: unknown setting type %d at byte %zu", type, off);
    if (off + 2 > n) return cm_set_error("PMD settings: list cut off at byte %zu", off);
    int count = p[off + 1];
    off += 2;
    if (off + (size_t)count * size > n)
      return cm_set_error("PMD settings: %d values of type %d need %d bytes, %zu left", count,
                          type, count * size, n - off);
    for (int i = 0; i < count; i++, off += size) {
      if (type == CM_PMD_SET_SECURITY) continue;
      uint32_t v = 0;
      for (int b = 0; b < size; b++) v |= (uint32_t)p[off + b] << (8 * b);
      if (out->n[type] < CM_PMD_MAX_SETTING_VALUES) out->v[type][out->n[type]++] = v;
    }
    if (type == CM_PMD_SET_SECURITY) out->n[type] += count;
  }
  return 0;
}

float cm_pmd_settings_factor(const cm_pmd_settings *s) {
  if (s->n[CM_PMD_SET_FACTOR] < 1) return 1.0f;
  float f;
  uint32_t bits = s->v[CM_PMD_SET_FACTOR][0];
  memcpy(&f, &bits, 4);
  return f;
}

size_t cm_pmd_cmd_get_settings(uint8_t *buf, int measurement) {
  buf[0] = CM_PMD_OP_GET_SETTINGS;
  buf[1] = (uint8_t)measurement; /* bit 7 clear: online streaming, not offline recording */
  return 2;
}

static size_t put_setting(uint8_t *buf, int type, uint32_t v) {
  int size = setting_field_size(type);
  buf[0] = (uint8_t)type;
  buf[1] = 1;
  for (int b = 0; b < size; b++) buf[2 + b] = (uint8_t)(v >> (8 * b));
  return 2 + size;
}

size_t cm_pmd_cmd_start(uint8_t *buf, int measurement, const cm_pmd_selection *sel) {
  size_t n = 0;
  buf[n++] = CM_PMD_OP_START;
  buf[n++] = (uint8_t)measurement;
  if (sel->sample_rate > 0) n += put_setting(buf + n, CM_PMD_SET_SAMPLE_RATE, sel->sample_rate);
  if (sel->resolution > 0) n += put_setting(buf + n, CM_PMD_SET_RESOLUTION, sel->resolution);
  if (sel->range > 0) n += put_setting(buf + n, CM_PMD_SET_RANGE, sel->range);
  if (sel->channels > 0) n += put_setting(buf + n, CM_PMD_SET_CHANNELS, sel->channels);
  return n;
}

size_t cm_pmd_cmd_stop(uint8_t *buf, int measurement) {
  buf[0] = CM_PMD_OP_STOP;
  buf[1] = (uint8_t)measurement;
  return 2;
}

int cm_pmd_cp_parse_response(const uint8_t *p, size_t n, cm_pmd_cp_response *out) {
  memset(out, 0, sizeof *out);
  if (n < 4) return cm_set_error("PMD control point response: %zu bytes, need at least 4", n);
  if (p[0] != CM_PMD_CP_RESPONSE)
    return cm_set_error("PMD control point: byte 0 is 0x%02X, not a response (0xF0)", p[0]);
  out->op = p[1];
  out->measurement = p[2];
  out->status = p[3];
  /* As the SDK reads it: "more" and parameters exist only in a successful answer. */
  if (out->status == 0) {
    out->more = n > 4 && p[4] != 0;
    if (n > 5) {
      out->params = p + 5;
      out->n_params = n - 5;
    }
  }
  return 0;
}

const char *cm_pmd_status_name(int status) {
  static const char *names[] = {"success", "invalid op code", "invalid measurement type",
                                "not supported", "invalid length", "invalid parameter",
                                "already in state", "invalid resolution", "invalid sample rate",
                                "invalid range", "invalid MTU", "invalid number of channels",
                                "invalid state", "device in charger", "disk full"};
  if (status >= 0 && status < (int)(sizeof names / sizeof names[0])) return names[status];
  return "unknown status";
}

int64_t cm_pmd_parse_features(const uint8_t *p, size_t n) {
  if (n < 2 || p[0] != 0x0F) {
    cm_set_error("PMD features: expected 0x0F and a bitmap, got %zu bytes", n);
    return -1;
  }
  int64_t mask = 0;
  for (size_t i = 1; i < n && i < 5; i++) mask |= (int64_t)p[i] << (8 * (i - 1));
  return mask;
}

/* ---- data frames ---- */

static int known_frame_type(int t) { return (t >= 0 && t <= 10) || t == 13 || t == 14; }

int cm_pmd_frame_parse(const uint8_t *p, size_t n, cm_pmd_frame *out) {
  memset(out, 0, sizeof *out);
  if (n < CM_PMD_HEADER_SIZE)
    return cm_set_error("PMD frame: %zu bytes, shorter than its 10-byte header", n);
  out->measurement = p[0] & 0x3F;
  uint64_t t = 0;
  for (int b = 0; b < 8; b++) t |= (uint64_t)p[1 + b] << (8 * b);
  out->t_sensor_ns = t;
  out->frame_type = p[9] & 0x7F;
  out->compressed = (p[9] & 0x80) != 0;
  if (!known_frame_type(out->frame_type))
    return cm_set_error("PMD frame: unknown frame type %d", out->frame_type);
  out->payload = p + CM_PMD_HEADER_SIZE;
  out->n_payload = n - CM_PMD_HEADER_SIZE;
  return 0;
}

static inline int32_t sign_extend(uint32_t v, int bits) {
  if (bits >= 32) return (int32_t)v;
  uint32_t m = 1u << (bits - 1);
  return (int32_t)((v ^ m) - m);
}

int cm_pmd_unpack_delta(const uint8_t *p, size_t n, int channels, int bits, int32_t *out,
                        size_t max, size_t *n_samples) {
  *n_samples = 0;
  if (channels < 1 || channels > 8 || (bits != 8 && bits != 16 && bits != 24 && bits != 32))
    return cm_set_error("PMD delta frame: unsupported layout %d channels x %d bits", channels, bits);
  int ref_bytes = bits / 8;
  size_t need = (size_t)channels * ref_bytes;
  if (n < need) return cm_set_error("PMD delta frame: %zu bytes, reference sample needs %zu", n, need);
  if (max < 1) return cm_set_error("PMD delta frame: no room for samples");
  for (int c = 0; c < channels; c++) {
    uint32_t v = 0;
    for (int b = 0; b < ref_bytes; b++) v |= (uint32_t)p[c * ref_bytes + b] << (8 * b);
    /* float32 references are bit patterns; as int32 they are the same 32 bits either way. */
    out[c] = sign_extend(v, bits);
  }
  size_t count = 1, off = need;
  while (off < n) {
    if (off + 2 > n) {
      *n_samples = count;
      return cm_set_error("PMD delta frame: block header cut off at byte %zu after %zu samples", off, count);
    }
    int width = p[off], blk = p[off + 1];
    off += 2;
    if (width < 1 || width > 32) {
      *n_samples = count;
      return cm_set_error("PMD delta frame: delta width %d bits at byte %zu", width, off - 2);
    }
    size_t bytes = ((size_t)width * blk * channels + 7) / 8;
    if (off + bytes > n) {
      *n_samples = count;
      return cm_set_error("PMD delta frame: block of %d x %d-bit deltas needs %zu bytes, %zu left "
                          "after %zu samples", blk, width, bytes, n - off, count);
    }
    if (count + blk > max) {
      *n_samples = count;
      return cm_set_error("PMD delta frame: more than %zu samples", max);
    }
    const uint8_t *q = p + off;
    uint64_t acc = 0;
    int acc_bits = 0;
    uint32_t mask = width == 32 ? 0xFFFFFFFFu : ((1u << width) - 1);
    for (int s = 0; s < blk; s++) {
      const int32_t *prev = out + (count - 1) * channels;
      int32_t *cur = out + count * channels;
      for (int c = 0; c < channels; c++) {
        while (acc_bits < width) {
          acc |= (uint64_t)*q++ << acc_bits;
          acc_bits += 8;
        }
        uint32_t d = (uint32_t)acc & mask;
        acc >>= width;
        acc_bits -= width;
        /* Wrapping addition: the float32 GYRO stream adds deltas to bit patterns mod 2^32. */
        cur[c] = (int32_t)((uint32_t)prev[c] + (uint32_t)sign_extend(d, width));
      }
      count++;
    }
    off += bytes;
  }
  *n_samples = count;
  return 0;
}

size_t cm_pmd_max_samples(const cm_pmd_frame *f) {
  if (!f->compressed) return f->n_payload / 3 + 1; /* int8 x3 is the smallest raw sample */
  /* A reference sample, then at least 3 bits (1-bit deltas x 3 channels) per sample. */
  return 1 + (f->n_payload * 8) / 3;
}

/* The samples of one frame as integers, and the layout they came in. */
static long unpack_frame(const cm_pmd_frame *f, int32_t *raw, size_t max, int *bits_out) {
  const int ch = 3;
  if (f->measurement != CM_PMD_ACC && f->measurement != CM_PMD_GYRO) {
    cm_set_error("PMD frame: measurement type %d is not ACC or GYRO", f->measurement);
    return -1;
  }
  if (f->compressed) {
    int bits;
    if (f->measurement == CM_PMD_ACC && f->frame_type <= 1) bits = 16;
    else if (f->measurement == CM_PMD_GYRO && f->frame_type == 0) bits = 16;
    else if (f->measurement == CM_PMD_GYRO && f->frame_type == 1) bits = 32;
    else {
      cm_set_error("PMD frame: compressed %s frame type %d is not supported",
                   f->measurement == CM_PMD_ACC ? "ACC" : "GYRO", f->frame_type);
      return -1;
    }
    size_t n;
    if (cm_pmd_unpack_delta(f->payload, f->n_payload, ch, bits, raw, max, &n) < 0) return -1;
    *bits_out = bits;
    return (long)n;
  }
  if (f->measurement != CM_PMD_ACC || f->frame_type > 2) {
    cm_set_error("PMD frame: uncompressed %s frame type %d is not supported",
                 f->measurement == CM_PMD_ACC ? "ACC" : "GYRO", f->frame_type);
    return -1;
  }
  int bytes = f->frame_type + 1; /* int8, int16, int24 */
  size_t sample_size = (size_t)bytes * ch;
  if (f->n_payload == 0 || f->n_payload % sample_size != 0) {
    cm_set_error("PMD frame: raw ACC type %d payload of %zu bytes is not a whole number of "
                 "%zu-byte samples", f->frame_type, f->n_payload, sample_size);
    return -1;
  }
  size_t n = f->n_payload / sample_size;
  if (n > max) {
    cm_set_error("PMD frame: more than %zu samples", max);
    return -1;
  }
  const uint8_t *q = f->payload;
  for (size_t i = 0; i < n * ch; i++, q += bytes) {
    uint32_t v = 0;
    for (int b = 0; b < bytes; b++) v |= (uint32_t)q[b] << (8 * b);
    raw[i] = sign_extend(v, 8 * bytes);
  }
  *bits_out = 8 * bytes;
  return (long)n;
}

long cm_pmd_decode_values(const cm_pmd_frame *f, float factor, cm_pmd_value *out, size_t max) {
  /* Integers first, into a stack buffer big enough for any BLE notification (a 512-byte
   * payload of 1-bit deltas holds at most 1366 samples); only bigger network frames allocate. */
  int32_t stack_raw[3 * 2048];
  int32_t *raw = stack_raw;
  size_t cap = cm_pmd_max_samples(f);
  if (cap > max) cap = max;
  int32_t *heap = NULL;
  if (cap > 2048) raw = heap = cm_xmalloc(cap * 3 * sizeof(int32_t));
  int bits = 0;
  long n = unpack_frame(f, raw, cap, &bits);
  if (n < 0) {
    free(heap);
    return -1;
  }
  if (n == 0) {
    free(heap);
    cm_set_error("PMD frame: no samples");
    return -1;
  }
  const float f1000 = factor * 1000.0f;
  for (long i = 0; i < n; i++) {
    const int32_t *r = raw + 3 * i;
    cm_pmd_value *v = out + i;
    for (int c = 0; c < 3; c++) {
      if (f->measurement == CM_PMD_ACC) {
        if (!f->compressed) {
          v->sdk[c] = (float)r[c];
          v->si[c] = (float)(r[c] * (G_TO_MS2 / 1000.0));
        } else if (f->frame_type == 0) { /* in G: factor x 1000 gives mG */
          v->sdk[c] = truncf((float)r[c] * f1000);
          v->si[c] = (float)((double)r[c] * factor * G_TO_MS2);
        } else { /* in mG, scaled only when a factor is given */
          v->sdk[c] = factor != 1.0f ? truncf((float)r[c] * factor) : (float)r[c];
          v->si[c] = (float)((double)r[c] * factor * (G_TO_MS2 / 1000.0));
        }
      } else {
        float dps;
        if (bits == 32) {
          float asf;
          memcpy(&asf, &r[c], 4);
          dps = asf;
        } else {
          dps = (float)r[c];
        }
        v->sdk[c] = dps * factor;
        v->si[c] = (float)((double)dps * factor * DEG_TO_RAD);
      }
    }
  }
  free(heap);
  return n;
}

/* base + d rounded half to even, exactly as round(base_as_real + d) would be when both are
 * exact: the integer part is taken out first so that a base of 8e17 ns loses no precision. */
static uint64_t add_round_half_even(uint64_t base, double d) {
  double fl = floor(d);
  double fr = d - fl;
  uint64_t b = fl >= 0 ? base + (uint64_t)fl : base - (uint64_t)(-fl);
  if (fr > 0.5 || (fr == 0.5 && (b & 1))) b++;
  return b;
}

int cm_pmd_sample_times(uint64_t prev, uint64_t t, size_t n, double rate, uint64_t *out) {
  if (n == 0) return cm_set_error("PMD times: frame without samples");
  /* 2^63 ns is 292 years after 2000; beyond it a time is garbage, and keeping below it keeps
   * every offset computed here within int64/uint64 range */
  if (t > (uint64_t)INT64_MAX) return cm_set_error("PMD times: frame time %llu is beyond 2^63-1 ns", (unsigned long long)t);
  if (prev == 0 && !(rate > 0))
    return cm_set_error("PMD times: no previous frame and no sample rate");
  if (prev != 0 && prev >= t)
    return cm_set_error("PMD times: frame time %llu not after the previous frame's %llu",
                        (unsigned long long)t, (unsigned long long)prev);
  double step = prev ? (double)(t - prev) / (double)n : (1.0 / rate) * 1e9;
  if ((double)t < step * (double)n)
    return cm_set_error("PMD times: frame time %llu minus %zu samples of %.0f ns is before the "
                        "sensor's epoch", (unsigned long long)t, n, step);
  for (size_t i = 0; i + 1 < n; i++)
    out[i] = prev ? add_round_half_even(prev, step * (double)(i + 1))
                  : add_round_half_even(t, -step * (double)(n - 1 - i));
  out[n - 1] = t;
  return 0;
}

uint64_t cm_pmd_prev_get(const cm_pmd_prev_times *p, const cm_pmd_frame *f) {
  return p->t[f->measurement & 63][f->frame_type & 15];
}

uint64_t cm_pmd_prev_swap(cm_pmd_prev_times *p, const cm_pmd_frame *f) {
  uint64_t *slot = &p->t[f->measurement & 63][f->frame_type & 15];
  uint64_t old = *slot;
  *slot = f->t_sensor_ns;
  return old;
}

void cm_pmd_prev_reset(cm_pmd_prev_times *p) { memset(p, 0, sizeof *p); }
