/*
 * af_mfcc: librosa.feature.mfcc(y, sr, n_mfcc=40): power_to_db of the mel power block, then the
 * orthonormal DCT-II along the mel axis, first 40 coefficients, no liftering.
 *
 * power_to_db(ref=1, amin=1e-10, top_db=80) in float32 as numpy does it: 10*log10(max(1e-10, S)),
 * then everything below (the maximum over the WHOLE window's 128 x T values) - 80 dB is raised to
 * that floor. The DCT runs in float64 from a table (scipy's single-precision FFTPACK transform
 * differs by ~1e-7 relative). A frame whose 128 dB values are all equal (digital silence gives
 * -100 dB everywhere) has exactly zero coefficients 1..39, as the DCT does mathematically:
 * rounding noise from the table would otherwise leave ~1e-14 there. The DCT runs over blocks of
 * frames so that its inner loop is contiguous (vectorised).
 */
#include <math.h>
#include <pthread.h>

#include "af_internal.h"

static double dct_table[AF_NMFCC][AF_NMELS];
static pthread_once_t dct_once = PTHREAD_ONCE_INIT;

static void build_dct(void) {
  for (int k = 0; k < AF_NMFCC; k++) {
    double s = k == 0 ? sqrt(1.0 / AF_NMELS) : sqrt(2.0 / AF_NMELS);
    for (int n = 0; n < AF_NMELS; n++)
      dct_table[k][n] = s * cos(M_PI * k * (2.0 * n + 1.0) / (2.0 * AF_NMELS));
  }
}

void af_mfcc(const float *mel, int n_frames, float *db, float *mfcc) {
  pthread_once(&dct_once, build_dct);
  long total = (long)AF_NMELS * n_frames;
  float top = -INFINITY;
  for (long i = 0; i < total; i++) {
    float v = mel[i] > 1e-10f ? mel[i] : 1e-10f;
    db[i] = 10.0f * log10f(v);
    if (db[i] > top) top = db[i];
  }
  float floor_db = top - 80.0f;
  for (long i = 0; i < total; i++)
    if (db[i] < floor_db) db[i] = floor_db;
  /* DCT over the mel axis for all frames at once: the inner loop runs over contiguous frames */
  enum { CHUNK = 64 };
  for (int t0 = 0; t0 < n_frames; t0 += CHUNK) {
    const int nt = n_frames - t0 < CHUNK ? n_frames - t0 : CHUNK;
    for (int k = 0; k < AF_NMFCC; k++) {
      double acc[CHUNK] = {0};
      for (int n = 0; n < AF_NMELS; n++) {
        const double c = dct_table[k][n];
        const float *row = db + (long)n * n_frames + t0;
        for (int t = 0; t < nt; t++) acc[t] += c * row[t];
      }
      for (int t = 0; t < nt; t++) mfcc[(long)k * n_frames + t0 + t] = (float)acc[t];
    }
  }
  for (int t = 0; t < n_frames; t++) { /* constant frames: exact zeros beyond c0 */
    float lo = db[t], hi = db[t];
    for (int n = 1; n < AF_NMELS; n++) {
      float v = db[(long)n * n_frames + t];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    if (lo == hi)
      for (int k = 1; k < AF_NMFCC; k++) mfcc[(long)k * n_frames + t] = 0.0f;
  }
}
