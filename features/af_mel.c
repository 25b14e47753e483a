/*
 * af_mel: the mel power block, librosa.feature.melspectrogram(y, sr=22050) at its defaults:
 * power |D|^2, 128 mels from 0 Hz to 11025 Hz on the Slaney scale (htk=False: linear 200/3 Hz per
 * mel below 1 kHz, logarithmic above) with Slaney area normalisation (each triangle times
 * 2 / (f[i+2] - f[i])).
 *
 * The bank is built as librosa builds it: triangles in float64, stored float32, then scaled in
 * place by the float64 Slaney factor and rounded to float32 again. Each row is nonzero over a
 * short run of bins, so the product keeps only [lo, hi) per row: ~2 multiplies per bin instead of
 * librosa's dense 128 x 1025 GEMM, run with frames as the SIMD lanes. Sums are float64 (librosa's sgemm sums in float32; the
 * difference is far below the 1e-4 target).
 */
#include <math.h>
#include <pthread.h>

#include "af_internal.h"

static af_melbank bank;
static pthread_once_t bank_once = PTHREAD_ONCE_INIT;

static double hz_to_mel(double f) {
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = log(6.4) / 27.0;
  if (f >= min_log_hz) return min_log_mel + log(f / min_log_hz) / logstep;
  return (f - 0.0) / f_sp;
}

static double mel_to_hz(double m) {
  const double f_sp = 200.0 / 3, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
  const double logstep = log(6.4) / 27.0;
  if (m >= min_log_mel) return min_log_hz * exp(logstep * (m - min_log_mel));
  return 0.0 + f_sp * m;
}

static void build_bank(void) {
  /* fft_frequencies = rfftfreq(n_fft, d=1/sr): k * (1 / (n * d)). */
  const double d = 1.0 / AF_SR, val = 1.0 / (AF_NFFT * d);
  for (int k = 0; k < AF_NBINS; k++) bank.fft_freqs[k] = k * val;
  /* mel_frequencies(130, 0, 11025): linspace in mel (k * step + start, last = stop). */
  enum { NPTS = AF_NMELS + 2 };
  double mel_f[NPTS];
  double min_mel = hz_to_mel(0.0), max_mel = hz_to_mel(AF_SR / 2.0);
  double step = (max_mel - min_mel) / (NPTS - 1);
  for (int i = 0; i < NPTS; i++) mel_f[i] = mel_to_hz(i == NPTS - 1 ? max_mel : i * step + min_mel);
  int used = 0;
  for (int m = 0; m < AF_NMELS; m++) {
    double fdiff_lo = mel_f[m + 1] - mel_f[m], fdiff_hi = mel_f[m + 2] - mel_f[m + 1];
    double enorm = 2.0 / (mel_f[m + 2] - mel_f[m]);
    int lo = -1, hi = -1;
    float row[AF_NBINS];
    for (int k = 0; k < AF_NBINS; k++) {
      double lower = -(mel_f[m] - bank.fft_freqs[k]) / fdiff_lo;
      double upper = (mel_f[m + 2] - bank.fft_freqs[k]) / fdiff_hi;
      double w = fmax(0.0, fmin(lower, upper));
      row[k] = (float)((double)(float)w * enorm);
      if (row[k] != 0.0f) {
        if (lo < 0) lo = k;
        hi = k + 1;
      }
    }
    if (lo < 0) lo = hi = 0;
    bank.lo[m] = lo;
    bank.hi[m] = hi;
    bank.off[m] = used;
    for (int k = lo; k < hi; k++) bank.w[used++] = row[k];
  }
}

const af_melbank *af_melbank_get(void) {
  pthread_once(&bank_once, build_bank);
  return &bank;
}

/* Frames are the inner, contiguous dimension (the bin-major copy of |D|), so one bin's weight
 * multiplies a run of frames at once and the float64 sums vectorise across frames; each frame's
 * sum still adds its bins in ascending order, as the frame-by-frame loop did. */
AF_HOT void af_mel_power(const float *magT, int n_frames, int fstride, float *mel) {
  const af_melbank *b = af_melbank_get();
  enum { CHUNK = 32 };
  for (int t0 = 0; t0 < n_frames; t0 += CHUNK) {
    const int nt = n_frames - t0 < CHUNK ? n_frames - t0 : CHUNK;
    for (int m = 0; m < AF_NMELS; m++) {
      const float *w = b->w + b->off[m];
      double acc[CHUNK] = {0};
      for (int k = b->lo[m]; k < b->hi[m]; k++) {
        const double wk = w[k - b->lo[m]];
        const float *a = magT + (long)k * fstride + t0;
        for (int t = 0; t < nt; t++) {
          float p = a[t] * a[t]; /* |D|**2 in float32 */
          acc[t] += wk * p;
        }
      }
      for (int t = 0; t < nt; t++) mel[(long)m * n_frames + t0 + t] = (float)acc[t];
    }
  }
}
