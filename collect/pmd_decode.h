/*
 * Polar PMD (Polar Measurement Data) protocol: the bytes a Verity Sense / OH1 / H10 speaks over
 * its PMD GATT service, encoded and decoded without any I/O (../shared/PROTOCOLS.md section 1
 * gathers the facts and their sources in Polar's BLE SDK).
 *
 * Three layers, each usable alone:
 *   - control point: build "get settings", "start", "stop" commands; parse the 0xF0 response
 *     and the settings TLV list (type, count, values) it carries;
 *   - data frame: the 10-byte header (measurement type, u64 sensor time of the LAST sample,
 *     frame type with bit 7 = delta compressed) and the payload, unpacked into integer samples
 *     (raw int8/16/24 frames, or a reference sample followed by delta blocks);
 *   - values and times: samples turned into the Polar SDK's own units (mG, deg/s: what Polar's
 *     tests assert) and into SI (m/s^2, rad/s: what cmact stores), and the frame's one time
 *     stamp spread over its samples exactly as the SDK does it.
 *
 * Two deliberate differences from the SDK, both documented in docs/design.md: a 1-bit delta
 * is sign-extended as true two's complement (the SDK turns 1 into +2^31-1), and SI values are
 * computed from the unrounded product raw x factor (the SDK truncates ACC to whole mG first;
 * cm_pmd_value.sdk keeps the SDK's truncated number too).
 *
 * Sensor times here are the sensor's own nanoseconds since 2000-01-01T00:00:00Z (uint64, as on
 * the wire). cmact stores t_device_ns on the Unix epoch: add CM_PMD_EPOCH_OFFSET_NS.
 */
#ifndef CM_PMD_DECODE_H
#define CM_PMD_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* 2000-01-01T00:00:00Z in Unix ns. */
#define CM_PMD_EPOCH_OFFSET_NS (946684800LL * 1000000000LL)

#define CM_PMD_SERVICE_UUID_STR "FB005C80-02E7-F387-1CAD-8ACD2D8DF0C8"
#define CM_PMD_CP_UUID_STR "FB005C81-02E7-F387-1CAD-8ACD2D8DF0C8"
#define CM_PMD_DATA_UUID_STR "FB005C82-02E7-F387-1CAD-8ACD2D8DF0C8"
/* The same three UUIDs in ATT byte order (little-endian), as they appear in PDUs. */
extern const uint8_t cm_pmd_service_uuid[16];
extern const uint8_t cm_pmd_cp_uuid[16];
extern const uint8_t cm_pmd_data_uuid[16];

enum {
  CM_PMD_ECG = 0, CM_PMD_PPG = 1, CM_PMD_ACC = 2, CM_PMD_PPI = 3, CM_PMD_GYRO = 5,
  CM_PMD_MAG = 6, CM_PMD_SKIN_TEMP = 7, CM_PMD_SDK_MODE = 9
};

enum {
  CM_PMD_OP_GET_SETTINGS = 1, CM_PMD_OP_START = 2, CM_PMD_OP_STOP = 3,
  CM_PMD_OP_GET_SDK_MODE_SETTINGS = 4, CM_PMD_OP_GET_STATUS = 5
};
#define CM_PMD_CP_RESPONSE 0xF0
/* A control-point indication from the sensor that is not a response: it stopped streams. */
#define CM_PMD_CP_MEASUREMENT_STOPPED 0x01

enum {
  CM_PMD_SET_SAMPLE_RATE = 0, CM_PMD_SET_RESOLUTION = 1, CM_PMD_SET_RANGE = 2,
  CM_PMD_SET_RANGE_MILLIUNIT = 3, CM_PMD_SET_CHANNELS = 4, CM_PMD_SET_FACTOR = 5,
  CM_PMD_SET_SECURITY = 6, CM_PMD_SET_COUNT = 7
};

/* ---- control point ---- */

#define CM_PMD_MAX_SETTING_VALUES 16
/* A settings list: for each setting type, the values offered (get-settings response) or
 * chosen (start command / start response). FACTOR values are float32 bit patterns. SECURITY
 * values (16 bytes) are skipped, only counted. */
typedef struct {
  int n[CM_PMD_SET_COUNT];
  uint32_t v[CM_PMD_SET_COUNT][CM_PMD_MAX_SETTING_VALUES];
} cm_pmd_settings;

/* Parse a TLV settings list. -1 with cm_error() set on an unknown type or a cut-off list. */
int cm_pmd_settings_parse(const uint8_t *p, size_t n, cm_pmd_settings *out);
/* The FACTOR in a settings list as a float, or 1.0 when absent (the SDK's default). */
float cm_pmd_settings_factor(const cm_pmd_settings *s);

/* What to start with; a field <= 0 is left out of the command. */
typedef struct {
  int sample_rate, resolution, range, channels;
} cm_pmd_selection;

/* Commands; each returns its length in bytes (buf needs 16 bytes). */
size_t cm_pmd_cmd_get_settings(uint8_t *buf, int measurement);
size_t cm_pmd_cmd_start(uint8_t *buf, int measurement, const cm_pmd_selection *sel);
size_t cm_pmd_cmd_stop(uint8_t *buf, int measurement);

typedef struct {
  uint8_t op;          /* the command answered */
  uint8_t measurement;
  uint8_t status;      /* 0 = success, see cm_pmd_status_name */
  uint8_t more;        /* more response parts follow */
  const uint8_t *params; /* points into the parsed bytes */
  size_t n_params;
} cm_pmd_cp_response;

/* Parse a control-point indication that answers a command (byte 0 = 0xF0). */
int cm_pmd_cp_parse_response(const uint8_t *p, size_t n, cm_pmd_cp_response *out);
const char *cm_pmd_status_name(int status);
/* The control point's read value: byte 0 = 0x0F, byte 1.. a bitmap of measurement types.
 * Returns the bitmap (bit k = measurement type k) or -1. */
int64_t cm_pmd_parse_features(const uint8_t *p, size_t n);

/* ---- data frames ---- */

#define CM_PMD_HEADER_SIZE 10
typedef struct {
  uint8_t measurement;   /* byte0 & 0x3F */
  uint64_t t_sensor_ns;  /* of the last sample, ns since 2000 on the sensor's clock */
  uint8_t frame_type;    /* byte9 & 0x7F */
  uint8_t compressed;    /* byte9 bit 7 */
  const uint8_t *payload;
  size_t n_payload;
} cm_pmd_frame;

/* Split a data notification into header and payload. Frame types outside 0..10, 13, 14 are
 * rejected, as the SDK rejects them. */
int cm_pmd_frame_parse(const uint8_t *p, size_t n, cm_pmd_frame *out);

/* Unpack a delta-compressed payload: a reference sample of `channels` fields of `bits` bits
 * (sign-extended when bits < 32), then blocks [width u8][count u8][packed deltas, LSB first].
 * Every sample is the previous one plus its deltas, with 32-bit wrap-around. Writes up to
 * `max` samples (x channels int32) to out and the number found to *n_samples; returns 0, or -1
 * with cm_error() set when the payload is cut off or malformed (*n_samples then counts the
 * whole samples before the fault), or when more than `max` samples are present. */
int cm_pmd_unpack_delta(const uint8_t *p, size_t n, int channels, int bits, int32_t *out,
                        size_t max, size_t *n_samples);

/* An upper bound on the number of samples a frame holds (for sizing buffers). */
size_t cm_pmd_max_samples(const cm_pmd_frame *f);

typedef struct {
  float sdk[3];  /* what Polar's SDK reports: ACC mG (whole numbers), GYRO deg/s */
  float si[3];   /* m/s^2 or rad/s */
} cm_pmd_value;

/* Decode an ACC or GYRO frame's samples. factor: the FACTOR from the start response (1.0 when
 * the sensor gave none). Returns the sample count (>= 1), or -1 with cm_error() set
 * (unsupported measurement or frame type, cut-off payload, more than max samples). */
long cm_pmd_decode_values(const cm_pmd_frame *f, float factor, cm_pmd_value *out, size_t max);

/* Sample times of a frame with n samples, time t (of the last sample), the previous frame's
 * time `prev` of the same stream (0 = none) and the nominal sample rate: with a previous
 * frame step = (t - prev) / n and the samples are at prev + step, ..., t; without one
 * step = 1e9 / rate counted back from t. Every time but the last is rounded to a whole ns
 * (half to even, as Polar's Android SDK); the last is t itself. -1 with cm_error() set when
 * neither prev nor rate is known, when prev >= t, when a time would fall before the epoch, or
 * when t is beyond 2^63-1. */
int cm_pmd_sample_times(uint64_t prev, uint64_t t, size_t n, double rate, uint64_t *out);

/* The previous frame's time per (measurement, frame type & 0x7F), as the SDK keys it: raw and
 * compressed frames of one type share a slot; a slot is updated before its frame is decoded,
 * even when time goes backwards. 0 = no previous frame. */
typedef struct {
  uint64_t t[64][16];
} cm_pmd_prev_times;
uint64_t cm_pmd_prev_get(const cm_pmd_prev_times *p, const cm_pmd_frame *f);
/* Returns the previous time and stores this frame's. */
uint64_t cm_pmd_prev_swap(cm_pmd_prev_times *p, const cm_pmd_frame *f);
void cm_pmd_prev_reset(cm_pmd_prev_times *p);

#endif
