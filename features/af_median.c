/*
 * af_median: the 31-point running median of scipy.ndimage.median_filter(mode='reflect'), which
 * is librosa's HPSS and the most expensive step of the whole vector (half of librosa's time).
 *
 * Eight independent sequences ("lanes": eight bins of a spectrogram for the median over time,
 * eight frames for the median over frequency) advance together. Each lane keeps its window sorted
 * in s[0..31) (s[31] = +inf as a sentinel); one step removes the value leaving the window and
 * inserts the one entering it without branches:
 *   remove o:  t[k] = s[k] >= o ? s[k+1] : s[k]     (drops the first copy of o)
 *   insert v:  s[k] = max(t[k-1], min(t[k], v))     (t[-1] = -inf)
 * so every step is ~120 independent compare/min/max operations on 8-wide vectors, which the
 * compiler turns into SIMD code (this file is built with -O3). The median is s[15], rank 15 of 31,
 * scipy's rank for an odd size. Inputs are finite (NaN windows are refused before this runs).
 * scipy's 'reflect' repeats the edge value: x[-1] = x[0], x[-2] = x[1], x[n] = x[n-1].
 */
#include <math.h>

#include "af_internal.h"

#define W 31
#define L 8

static inline long reflect_index(long i, long n) {
  long period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

static inline void replace(float s[W + 1][L], const float o[L], const float v[L]) {
  float t[W + 1][L];
  for (int k = 0; k < W; k++)
    for (int l = 0; l < L; l++) t[k][l] = s[k][l] >= o[l] ? s[k + 1][l] : s[k][l];
  for (int l = 0; l < L; l++) s[0][l] = t[0][l] < v[l] ? t[0][l] : v[l];
  for (int k = 1; k < W; k++)
    for (int l = 0; l < L; l++) {
      float m = t[k][l] < v[l] ? t[k][l] : v[l];
      s[k][l] = t[k - 1][l] > m ? t[k - 1][l] : m;
    }
}

void af_median31_x8(const float *x, long stride, int len, float *out, long out_stride) {
  float s[W + 1][L];
  float o[L], v[L];
  for (int k = 0; k <= W; k++)
    for (int l = 0; l < L; l++) s[k][l] = INFINITY;
  for (int l = 0; l < L; l++) o[l] = INFINITY;
  for (long p = -(W / 2); p <= W / 2; p++) {
    const float *src = x + reflect_index(p, len) * stride;
    for (int l = 0; l < L; l++) v[l] = src[l];
    replace(s, o, v);
  }
  for (int l = 0; l < L; l++) out[l] = s[W / 2][l];
  for (long p = 1; p < len; p++) {
    const float *gone = x + reflect_index(p - 1 - W / 2, len) * stride;
    const float *come = x + reflect_index(p + W / 2, len) * stride;
    for (int l = 0; l < L; l++) {
      o[l] = gone[l];
      v[l] = come[l];
    }
    replace(s, o, v);
    for (int l = 0; l < L; l++) out[p * out_stride + l] = s[W / 2][l];
  }
}
