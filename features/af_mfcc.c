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
 * Only the mean over frames is wanted, and the DCT is linear: the mean of the frames' DCTs is the
 * DCT of the frames' mean dB vector (one 40 x 128 product instead of one per frame; float64
 * throughout, so the result differs from the per-frame route by ~1e-16 relative). Constant
 * frames are left out of the mean of coefficients 1..39, where they contribute exact zeros.
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

AF_HOT static float db_block(const float *mel, long total, float *db) {
  float top = -INFINITY;
  for (long i = 0; i < total; i++) {
    float v = mel[i] > 1e-10f ? mel[i] : 1e-10f;
    db[i] = 10.0f * log10f(v);
    top = db[i] > top ? db[i] : top;
  }
  return top;
}

void af_mfcc_mean(const float *mel, int n_frames, float *db, float out[AF_NMFCC]) {
  pthread_once(&dct_once, build_dct);
  long total = (long)AF_NMELS * n_frames;
  float floor_db = db_block(mel, total, db) - 80.0f;
  for (long i = 0; i < total; i++)
    if (db[i] < floor_db) db[i] = floor_db;
  /* Per mel band: the sum of the dB values over all frames, and over the frames that are not
   * constant across bands (those have exactly zero coefficients 1..39). */
  double sum_all[AF_NMELS], sum_varying[AF_NMELS];
  for (int n = 0; n < AF_NMELS; n++) sum_all[n] = sum_varying[n] = 0.0;
  for (int t = 0; t < n_frames; t++) {
    float lo = db[t], hi = db[t];
    for (int n = 1; n < AF_NMELS; n++) {
      float v = db[(long)n * n_frames + t];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    for (int n = 0; n < AF_NMELS; n++) {
      double v = db[(long)n * n_frames + t];
      sum_all[n] += v;
      if (lo != hi) sum_varying[n] += v;
    }
  }
  for (int k = 0; k < AF_NMFCC; k++) {
    const double *sum = k == 0 ? sum_all : sum_varying;
    double acc = 0.0;
    for (int n = 0; n < AF_NMELS; n++) acc += dct_table[k][n] * sum[n];
    out[k] = (float)(acc / n_frames);
  }
}
