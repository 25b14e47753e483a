/*
 * af_tuning: librosa's estimate_tuning (piptrack, then pitch_tuning), a discrete vote that must
 * come out as librosa's does: a one-bin miss costs ~2e-3 in chroma and ~1e-2 in tonnetz, and ties
 * are common. So every step keeps numpy's dtypes exactly:
 *   piptrack (float32 S): per frame, bins with S <= 0.1f * max_f S are zeroed; a peak is a bin
 *     with x[k] > x[k-1] and x[k] >= x[k+1] (edges padded with the edge value) and
 *     150 <= f_k < 4000 Hz; parabolic interpolation in float32:
 *       avg = 0.5f * (S[k+1] - S[k-1]), den = 2*S[k] - S[k+1] - S[k-1] (+1 if |den| < FLT_MIN),
 *       shift = avg / den, pitch = float32((k + shift) * sr / n_fft) (computed in float64),
 *       mag = S[k] + 0.5f * avg * shift;
 *   estimate_tuning: threshold = median of mag over pitch > 0 (float32 mean of the two middle
 *     values for an even count); keep pitch > 0 and mag >= threshold;
 *   pitch_tuning: residual = fmod(bpo * log2(f / 27.5), 1) in float32, minus 1 when >= 0.5;
 *     histogram over 100 bins with edges i * 0.01 - 0.5 (float64, numpy.linspace); the result is
 *     the LEFT edge of the first most populated bin. No pitch at all: 0.0 (librosa warns).
 * The tuning is therefore always one of 100 values; callers get its index so that filter banks
 * can be prepared for each index once.
 */
#include <float.h>
#include <math.h>

#include "af_internal.h"

double af_tuning_value(int j) {
  if (j == AF_NTUNING) return 0.5;
  return j * 0.01 + -0.5; /* numpy.linspace(-0.5, 0.5, 101)[j] */
}

/* The k-th smallest of v[0..n) (v is reordered): quickselect. */
static float select_kth(float *v, int n, int k) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    float pivot = v[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return v[k];
  }
  return v[k];
}

/* max over the 1025 bins of a frame (the padding bins 1025..1031 are 0 and |D| >= 0), eight
 * running maxima so that it vectorises; max is exact, so the order does not matter. */
AF_HOT static float frame_max(const float *s) {
  float m[8] = {0};
  for (int k = 0; k < AF_BSTRIDE; k += 8)
    for (int l = 0; l < 8; l++) m[l] = s[k + l] > m[l] ? s[k + l] : m[l];
  float mx = m[0];
  for (int l = 1; l < 8; l++) mx = m[l] > mx ? m[l] : mx;
  return mx;
}

int af_estimate_tuning(const float *S, int n_frames, int bpo, float *pitch, float *mag,
                       int *n_pitches) {
  const af_melbank *b = af_melbank_get(); /* for fft_frequencies */
  int kmin = 1, kmax = AF_NBINS - 2;
  while (kmin < AF_NBINS && !(150.0 <= b->fft_freqs[kmin])) kmin++;
  while (kmax > 0 && !(b->fft_freqs[kmax] < 4000.0)) kmax--;
  int np_ = 0;
  for (int t = 0; t < n_frames; t++) {
    const float *s = S + (long)t * AF_BSTRIDE;
    float mx = frame_max(s);
    float ref = 0.1f * mx;
    for (int k = kmin; k <= kmax; k++) {
      float x = s[k] > ref ? s[k] : 0.0f;
      float xl = s[k - 1] > ref ? s[k - 1] : 0.0f;
      float xr = s[k + 1] > ref ? s[k + 1] : 0.0f;
      if (!(x > xl && x >= xr)) continue;
      float avg = 0.5f * (s[k + 1] - s[k - 1]);
      float den = 2.0f * s[k] - s[k + 1] - s[k - 1];
      den = den + (fabsf(den) < FLT_MIN ? 1.0f : 0.0f);
      float shift = avg / den;
      float dskew = 0.5f * avg * shift;
      pitch[np_] = (float)(((double)k + (double)shift) * (double)AF_SR / AF_NFFT);
      mag[np_] = s[k] + dskew;
      np_++;
    }
  }
  /* pitch > 0 */
  int m = 0;
  for (int i = 0; i < np_; i++)
    if (pitch[i] > 0.0f) {
      pitch[m] = pitch[i];
      mag[m] = mag[i];
      m++;
    }
  *n_pitches = 0;
  if (m == 0) return 50; /* "empty frequency set": tuning 0.0 = edge 50 */
  /* the median of mag over the kept pitches, on a copy (scratch after the m entries) */
  float *tmp = mag + m;
  for (int i = 0; i < m; i++) tmp[i] = mag[i];
  float threshold;
  if (m % 2) {
    threshold = select_kth(tmp, m, m / 2);
  } else {
    float hi = select_kth(tmp, m, m / 2);
    float lo = tmp[0]; /* after selection, tmp[0 .. m/2) are <= hi: the largest of them */
    for (int i = 1; i < m / 2; i++)
      if (tmp[i] > lo) lo = tmp[i];
    threshold = (lo + hi) / 2.0f;
  }
  int counts[AF_NTUNING] = {0};
  int kept = 0;
  for (int i = 0; i < m; i++) {
    if (!(mag[i] >= threshold)) continue;
    float octs = log2f(pitch[i] / 27.5f);
    float r = (float)bpo * octs;
    float res = fmodf(r, 1.0f);
    if (res != 0.0f && res < 0.0f) res += 1.0f; /* numpy.mod: the sign of the divisor */
    if (res >= 0.5f) res -= 1.0f;
    double x = res;
    if (!(x >= -0.5 && x <= 0.5)) continue; /* also drops NaN from overflowing input */
    int j = (int)floor((x + 0.5) * 100.0);
    if (j > AF_NTUNING - 1) j = AF_NTUNING - 1;
    if (j < 0) j = 0;
    while (j > 0 && x < af_tuning_value(j)) j--;
    while (j < AF_NTUNING - 1 && x >= af_tuning_value(j + 1)) j++;
    counts[j]++;
    kept++;
  }
  *n_pitches = kept;
  if (kept == 0) return 50;
  int best = 0;
  for (int j = 1; j < AF_NTUNING; j++)
    if (counts[j] > counts[best]) best = j;
  return best;
}
