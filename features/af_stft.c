/*
 * af_stft: librosa 0.9.2's stft and istft at its defaults (n_fft 2048, hop 512, periodic Hann,
 * center=True with ZERO padding of 1024 samples each side; 0.8 and earlier reflected).
 *
 * Precision as numpy: each float32 frame is multiplied by the float64 window, transformed in
 * float64 (FFTW r2c here, pocketfft there) and stored complex64; |D| is float32 hypot of the
 * complex64 parts (np.abs). The inverse: float64 irfft (scaled by 1/n_fft), times the window,
 * overlap-added into a float32 buffer one frame after the other (each addition rounded to float32
 * as librosa's numba loop does), divided by the float32 window sum-square where it exceeds
 * float32's smallest normal, the first 1024 samples dropped and the rest cut or zero-padded to the
 * input length.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "af_internal.h"
#include "cm_util.h"

void af_hann_periodic(int n, double *w) {
  /* scipy: general_cosine(n + 1, [0.5, 0.5]) truncated: fac = linspace(-pi, pi, n + 1),
   * w = 0.5 + 0.5 cos(fac). linspace's values are k * step + start. */
  const double step = (M_PI - -M_PI) / n;
  for (int k = 0; k < n; k++) {
    double fac = k * step + -M_PI;
    w[k] = 0.5 + 0.5 * cos(fac);
  }
}

int af_stft_init(af_stft *s) {
  memset(s, 0, sizeof *s);
  s->in = fftw_malloc(sizeof(double) * AF_NFFT);
  s->spec = fftw_malloc(sizeof(fftw_complex) * AF_NBINS);
  if (!s->in || !s->spec) {
    af_stft_free(s);
    return cm_set_error("out of memory for the STFT buffers");
  }
  cm_fftw_lock();
  s->r2c = fftw_plan_dft_r2c_1d(AF_NFFT, s->in, s->spec, FFTW_ESTIMATE);
  s->c2r = fftw_plan_dft_c2r_1d(AF_NFFT, s->spec, s->in, FFTW_ESTIMATE);
  cm_fftw_unlock();
  if (!s->r2c || !s->c2r) {
    af_stft_free(s);
    return cm_set_error("FFTW could not plan a %d-point transform", AF_NFFT);
  }
  af_hann_periodic(AF_NFFT, s->window);
  return 0;
}

void af_stft_free(af_stft *s) {
  cm_fftw_lock();
  if (s->r2c) fftw_destroy_plan(s->r2c);
  if (s->c2r) fftw_destroy_plan(s->c2r);
  cm_fftw_unlock();
  if (s->in) fftw_free(s->in);
  if (s->spec) fftw_free(s->spec);
  memset(s, 0, sizeof *s);
}

AF_HOT static void window_frame(const float *src, const double *window, int j0, int j1,
                                double *in) {
  for (int j = 0; j < j0; j++) in[j] = 0.0;
  for (int j = j0; j < j1; j++) in[j] = (double)src[j] * window[j];
  for (int j = j1; j < AF_NFFT; j++) in[j] = 0.0;
}

AF_HOT static void store_frame(const fftw_complex *spec, float *r, float *m, float *a) {
  for (int k = 0; k < AF_NBINS; k++) {
    r[k] = (float)spec[k][0];
    m[k] = (float)spec[k][1];
  }
  for (int k = 0; k < AF_NBINS; k++) a[k] = af_cabsf(r[k], m[k]);
  for (int k = AF_NBINS; k < AF_BSTRIDE; k++) r[k] = m[k] = a[k] = 0.0f;
}

void af_stft_forward(af_stft *s, const float *y, int n, int n_frames, float *re, float *im,
                     float *mag) {
  const int pad = AF_NFFT / 2;
  for (int t = 0; t < n_frames; t++) {
    long first = (long)t * AF_HOP - pad; /* sample index of frame position 0 */
    /* positions [j0, j1) fall inside the signal; the rest is the zero padding */
    int j0 = first < 0 ? (int)-first : 0;
    long j1l = (long)n - first;
    int j1 = j1l < AF_NFFT ? (int)(j1l > 0 ? j1l : 0) : AF_NFFT;
    if (j1 < j0) j1 = j0;
    window_frame(y + first, s->window, j0, j1, s->in);
    fftw_execute(s->r2c);
    store_frame((const fftw_complex *)s->spec, re + (long)t * AF_BSTRIDE,
                im + (long)t * AF_BSTRIDE, mag + (long)t * AF_BSTRIDE);
  }
}

/* 8 x 8 tiles, so that both the reads and the writes stay within a few cache lines. */
void af_transpose(const float *mag, int n_frames, int fstride, float *magT) {
  for (int t0 = 0; t0 < fstride; t0 += 8)
    for (int k0 = 0; k0 < AF_BSTRIDE; k0 += 8)
      for (int k = k0; k < k0 + 8 && k < AF_NBINS; k++)
        for (int t = t0; t < t0 + 8; t++)
          magT[(long)k * fstride + t] = t < n_frames ? mag[(long)t * AF_BSTRIDE + k] : 0.0f;
}

void af_window_sumsquare(const double *window, int n_frames, float *wss) {
  int len = AF_NFFT + AF_HOP * (n_frames - 1);
  for (int i = 0; i < len; i++) wss[i] = 0.0f;
  for (int t = 0; t < n_frames; t++) {
    float *x = wss + (long)t * AF_HOP;
    for (int j = 0; j < AF_NFFT; j++) x[j] = (float)((double)x[j] + window[j] * window[j]);
  }
}

AF_HOT static void overlap_add(const double *frame, const double *window, double scale,
                               float *x) {
  for (int j = 0; j < AF_NFFT; j++) x[j] = (float)((double)x[j] + window[j] * (frame[j] * scale));
}

AF_HOT static void normalize_by_window(float *y, const float *wss, int len) {
  for (int i = 0; i < len; i++) {
    float w = wss[i] > FLT_MIN ? wss[i] : 1.0f;
    y[i] = y[i] / w;
  }
}

void af_istft(af_stft *s, const float *re, const float *im, int n_frames, int n, float *ybuf,
              const float *wss, float *y) {
  /* librosa: n_frames = min(frames, ceil((length + n_fft) / hop)). */
  int need = (n + AF_NFFT + AF_HOP - 1) / AF_HOP;
  if (need < n_frames) n_frames = need;
  int len = AF_NFFT + AF_HOP * (n_frames - 1);
  for (int i = 0; i < len; i++) ybuf[i] = 0.0f;
  const double scale = 1.0 / AF_NFFT;
  for (int t = 0; t < n_frames; t++) {
    const float *r = re + (long)t * AF_BSTRIDE, *m = im + (long)t * AF_BSTRIDE;
    for (int k = 0; k < AF_NBINS; k++) {
      s->spec[k][0] = r[k];
      s->spec[k][1] = m[k];
    }
    fftw_execute(s->c2r);
    overlap_add(s->in, s->window, scale, ybuf + (long)t * AF_HOP);
  }
  normalize_by_window(ybuf, wss, len);
  const int start = AF_NFFT / 2;
  for (int i = 0; i < n; i++) y[i] = (start + i < len) ? ybuf[start + i] : 0.0f;
}
