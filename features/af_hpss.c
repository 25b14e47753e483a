/*
 * af_hpss: the STFT of librosa.effects.harmonic(y): hpss(D, kernel_size=31, power=2, margin=1)[0].
 *
 *   mag = |D| (float32), phase = D / |D| (1 where |D| = 0), computed in float32 as magphase does;
 *   harm = 31-frame median of mag along time, perc = 31-bin median along frequency (af_median.c,
 *   scipy 'reflect' edges); mask = (h/Z)^2 / ((h/Z)^2 + (p/Z)^2) with Z = max(h, p), and 0.5
 *   where Z < FLT_MIN (margin 1 means split_zeros); all float32.
 *   D_harm = (mag * mask) * phase, complex64.
 * The median along frequency runs on a bin-major copy of mag so that eight frames form the eight
 * SIMD lanes.
 */
#include <float.h>

#include "af_internal.h"

void af_hpss_harmonic(af_hpss_ws *ws, const float *re, const float *im, const float *mag,
                      int n_frames, float *re_h, float *im_h) {
  const int fs = ws->fstride;
  /* medians over time: eight bins per call (the padding bins 1025..1031 are zeros) */
  for (int k = 0; k < AF_BSTRIDE; k += 8)
    af_median31_x8(mag + k, AF_BSTRIDE, n_frames, ws->harm + k, AF_BSTRIDE);
  /* medians over frequency: transpose, eight frames per call (padding frames are zeros) */
  for (int k = 0; k < AF_NBINS; k++) {
    float *row = ws->magT + (long)k * fs;
    for (int t = 0; t < n_frames; t++) row[t] = mag[(long)t * AF_BSTRIDE + k];
    for (int t = n_frames; t < fs; t++) row[t] = 0.0f;
  }
  for (int t = 0; t < fs; t += 8) af_median31_x8(ws->magT + t, fs, AF_NBINS, ws->percT + t, fs);
  for (int t = 0; t < n_frames; t++) {
    const float *r = re + (long)t * AF_BSTRIDE, *i = im + (long)t * AF_BSTRIDE;
    const float *m = mag + (long)t * AF_BSTRIDE, *h = ws->harm + (long)t * AF_BSTRIDE;
    float *rh = re_h + (long)t * AF_BSTRIDE, *ih = im_h + (long)t * AF_BSTRIDE;
    for (int k = 0; k < AF_NBINS; k++) {
      float hv = h[k], pv = ws->percT[(long)k * fs + t];
      float z = hv > pv ? hv : pv;
      float mask;
      if (z < FLT_MIN) {
        mask = 0.5f;
      } else {
        float a = hv / z, b = pv / z;
        a = a * a;
        b = b * b;
        mask = a / (a + b);
      }
      float nz = m[k] == 0.0f ? 1.0f : m[k];
      float ph_re = r[k] / nz + (m[k] == 0.0f ? 1.0f : 0.0f);
      float ph_im = i[k] / nz;
      float x = m[k] * mask;
      rh[k] = x * ph_re;
      ih[k] = x * ph_im;
    }
    for (int k = AF_NBINS; k < AF_BSTRIDE; k++) rh[k] = ih[k] = 0.0f;
  }
}
