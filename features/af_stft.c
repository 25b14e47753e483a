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
  af_fftw_lock();
  s->r2c = fftw_plan_dft_r2c_1d(AF_NFFT, s->in, s->spec, FFTW_ESTIMATE);
  s->c2r = fftw_plan_dft_c2r_1d(AF_NFFT, s->spec, s->in, FFTW_ESTIMATE);
  af_fftw_unlock();
  if (!s->r2c || !s->c2r) {
    af_stft_free(s);
    return cm_set_error("FFTW could not plan a %d-point transform", AF_NFFT);
  }
  af_hann_periodic(AF_NFFT, s->window);
  return 0;
}

void af_stft_free(af_stft *s) {
  af_fftw_lock();
  if (s->r2c) fftw_destroy_plan(s->r2c);
  if (s->c2r) fftw_destroy_plan(s->c2r);
  af_fftw_unlock();
  if (s->in) fftw_free(s->in);
  if (s->spec) fftw_free(s->spec);
  memset(s, 0, sizeof *s);
}

void af_stft_forward(af_stft *s, const float *y, int n, int n_frames, float *re, float *im,
                     float *mag) {
  const int pad = AF_NFFT / 2;
  for (int t = 0; t < n_frames; t++) {
    long first = (long)t * AF_HOP - pad; /* sample index of frame position 0 */
    for (int j = 0; j < AF_NFFT; j++) {
      long i = first + j;
      s->in[j] = (i >= 0 && i < n) ? (double)y[i] * s->window[j] : 0.0;
    }
    fftw_execute(s->r2c);
    float *r = re + (long)t * AF_BSTRIDE, *m = im + (long)t * AF_BSTRIDE;
    float *a = mag + (long)t * AF_BSTRIDE;
    for (int k = 0; k < AF_NBINS; k++) {
      r[k] = (float)s->spec[k][0];
      m[k] = (float)s->spec[k][1];
      a[k] = hypotf(r[k], m[k]);
    }
    for (int k = AF_NBINS; k < AF_BSTRIDE; k++) r[k] = m[k] = a[k] = 0.0f;
  }
}

void af_window_sumsquare(const double *window, int n_frames, float *wss) {
  int len = AF_NFFT + AF_HOP * (n_frames - 1);
  for (int i = 0; i < len; i++) wss[i] = 0.0f;
  for (int t = 0; t < n_frames; t++) {
    float *x = wss + (long)t * AF_HOP;
    for (int j = 0; j < AF_NFFT; j++) x[j] = (float)((double)x[j] + window[j] * window[j]);
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
    float *x = ybuf + (long)t * AF_HOP;
    for (int j = 0; j < AF_NFFT; j++)
      x[j] = (float)((double)x[j] + s->window[j] * (s->in[j] * scale));
  }
  for (int i = 0; i < len; i++)
    if (wss[i] > FLT_MIN) ybuf[i] /= wss[i];
  const int start = AF_NFFT / 2;
  for (int i = 0; i < n; i++) y[i] = (start + i < len) ? ybuf[start + i] : 0.0f;
}
