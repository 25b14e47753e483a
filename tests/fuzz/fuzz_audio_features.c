/*
 * libFuzzer target: arbitrary bytes as an audio window for cm_audiofeat_compute. The first byte
 * picks how the rest becomes samples (raw float32 bit patterns: NaN, infinities, denormals,
 * huge values; or int16 / 32768 as libsndfile reads a WAV), repeated to fill a 4096-sample
 * window. Expected: no crash and no sanitizer report; CM_AUDIOFEAT_NONFINITE exactly when a
 * sample is NaN or infinite (then every output is NaN); int16 input always gives finite values.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audio_features.h"

#define WIN 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cm_audiofeat *ex;
  static float x[WIN];
  if (!ex) ex = cm_audiofeat_create(CM_AUDIOFEAT_SAMPLE_RATE, WIN);
  if (!ex || size < 3) return 0;
  int mode = data[0] & 1;
  data++;
  size--;
  int nonfinite = 0;
  if (mode == 0) {
    size_t n = size / sizeof(float);
    if (n == 0) return 0;
    for (size_t i = 0; i < WIN; i++) memcpy(&x[i], data + (i % n) * sizeof(float), sizeof(float));
  } else {
    size_t n = size / 2;
    for (size_t i = 0; i < WIN; i++) {
      int16_t v;
      memcpy(&v, data + (i % n) * 2, 2);
      x[i] = v / 32768.0f;
    }
  }
  for (size_t i = 0; i < WIN; i++) nonfinite |= !isfinite(x[i]);
  float out[CM_AUDIOFEAT_DIM];
  int rc = cm_audiofeat_compute(ex, x, out);
  if (rc != (nonfinite ? CM_AUDIOFEAT_NONFINITE : CM_AUDIOFEAT_OK)) abort();
  for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) {
    if (nonfinite && !isnan(out[i])) abort();
    if (mode == 1 && !isfinite(out[i])) abort();
  }
  return 0;
}
