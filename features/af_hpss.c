/*
 * af_hpss: the STFT of librosa.effects.harmonic(y): hpss(D, kernel_size=31, power=2, margin=1)[0].
 *
 *   mag = |D| (float32), phase = D / |D| (1 where |D| = 0), computed in float32 as magphase does;
 *   harm = 31-frame median of mag along time, perc = 31-bin median along frequency (af_median.c,
 *   scipy 'reflect' edges); mask = (h/Z)^2 / ((h/Z)^2 + (p/Z)^2) with Z = max(h, p), and 0.5
 *   where Z < FLT_MIN (margin 1 means split_zeros); all float32.
 *   D_harm = (mag * mask) * phase, complex64.
 * The median along frequency runs on the bin-major copy of mag (af_transpose, shared with the
 * contrast) so that eight frames form the eight SIMD lanes.
 */
#include <float.h>

#include "af_internal.h"

/* softmask(harm, perc, power=2, split_zeros=True) and (mag * mask) * phase for one frame,
 * branch-free so that it vectorises: the selects reproduce softmask's and magphase's special
 * cases (Z < FLT_MIN -> mask 0.5; |D| = 0 -> phase 1). */
AF_HOT static void mask_frame(const float *restrict r, const float *restrict i,
                              const float *restrict m, const float *restrict h,
                              const float *restrict p, float *restrict rh, float *restrict ih) {
  for (int k = 0; k < AF_NBINS; k++) {
    float hv = h[k], pv = p[k];
    float z = hv > pv ? hv : pv;
    float zs = z < FLT_MIN ? 1.0f : z;
    float a = hv / zs, b = pv / zs;
    a = a * a;
    b = b * b;
    float q = a / (a + b); /* NaN when both medians are ~0: replaced by 0.5 just below */
    float mask = z < FLT_MIN ? 0.5f : q;
    float mk = m[k];
    float nz = mk == 0.0f ? 1.0f : mk;
    float ph_re = r[k] / nz + (mk == 0.0f ? 1.0f : 0.0f);
    float ph_im = i[k] / nz;
    float x = mk * mask;
    rh[k] = x * ph_re;
    ih[k] = x * ph_im;
  }
  for (int k = AF_NBINS; k < AF_BSTRIDE; k++) rh[k] = ih[k] = 0.0f;
}

void af_hpss_harmonic(af_hpss_ws *ws, const float *re, const float *im, const float *mag,
                      const float *magT, int n_frames, float *re_h, float *im_h) {
  const int fs = ws->fstride;
  /* medians over time, all bins side by side (the padding bins 1025..1031 are zeros) */
  af_median31(mag, AF_BSTRIDE, n_frames, AF_BSTRIDE, ws->harm, AF_BSTRIDE);
  /* medians over frequency on the bin-major copy, all frames side by side */
  af_median31(magT, fs, AF_NBINS, fs, ws->percT, fs);
  for (int t0 = 0; t0 < n_frames; t0 += 8) {
    /* eight frames' frequency medians back to frame-major, then the mask frame by frame */
    int nt = n_frames - t0 < 8 ? n_frames - t0 : 8;
    for (int k = 0; k < AF_NBINS; k++)
      for (int j = 0; j < 8; j++) ws->pcol[j * AF_BSTRIDE + k] = ws->percT[(long)k * fs + t0 + j];
    for (int j = 0; j < nt; j++) {
      long off = (long)(t0 + j) * AF_BSTRIDE;
      mask_frame(re + off, im + off, mag + off, ws->harm + off, ws->pcol + j * AF_BSTRIDE,
                 re_h + off, im_h + off);
    }
  }
}
