/*
 * af_mfcc: librosa.feature.mfcc(y, sr, n_mfcc=40): power_to_db of the mel power block, then the
 * orthonormal DCT-II along the mel axis, first 40 coefficients, no liftering.
 *
 * power_to_db(ref=1, amin=1e-10, top_db=80) in float32 as numpy does it: 10*log10(max(1e-10, S)),
 * then everything below (the maximum over the WHOLE window's 128 x T values) - 80 dB is raised to
 * that floor. The DCT runs in float64 from a table (scipy's single-precision FFTPACK transform
 * differs by ~1e-7 relative). A frame whose 128 dB values are all equal (digital silence gives
 * -100 dB everywhere) has exactly zero coefficients 1..39, as the DCT does mathematically:
 * rounding noise from the table would otherwise leave ~1e-14 there.
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
  for (int t = 0; t < n_frames; t++) {
    double col[AF_NMELS];
    double lo = INFINITY, hi = -INFINITY;
    for (int n = 0; n < AF_NMELS; n++) {
      col[n] = db[(long)n * n_frames + t];
      if (col[n] < lo) lo = col[n];
      if (col[n] > hi) hi = col[n];
    }
    int constant = lo == hi;
    for (int k = 0; k < AF_NMFCC; k++) {
      double acc = 0.0;
      if (!constant || k == 0)
        for (int n = 0; n < AF_NMELS; n++) acc += dct_table[k][n] * col[n];
      mfcc[(long)k * n_frames + t] = (float)acc;
    }
  }
}
