/*
 * af_median: the 31-point running median of scipy.ndimage.median_filter(mode='reflect'), which
 * is librosa's HPSS and the most expensive step of the whole vector (half of librosa's time).
 *
 * Eight independent sequences ("lanes": eight bins of a spectrogram for the median over time,
 * eight frames for the median over frequency) advance together as one 8-wide vector. Each lane
 * keeps its window sorted in s[0..31) (s[31] = +inf as a sentinel); one step removes the value
 * leaving the window and inserts the one entering it without branches:
 *   remove o:  t[k] = s[k] >= o ? s[k+1] : s[k]     (drops the first copy of o)
 *   insert v:  s[k] = max(t[k-1], min(t[k], v))     (t[-1] = -inf)
 * so every step is ~120 independent compare/select/min/max operations on 8-wide vectors: AVX2
 * intrinsics where the CPU has them (min/max are one instruction each), GCC vector extensions
 * otherwise (SSE pairs, or whatever the target offers). The
 * median is s[15], rank 15 of 31, scipy's rank for an odd size. Inputs are finite (NaN windows are
 * refused before this runs). scipy's 'reflect' repeats the edge value: x[-1] = x[0], x[-2] = x[1],
 * x[n] = x[n-1].
 */
#include <math.h>
#include <string.h>

#include "af_internal.h"

/* The vector helpers below are static inline: no 32-byte vector crosses a call boundary, so GCC's
 * note about the AVX calling convention does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

#define W 31

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

static inline v8f vsel(v8i m, v8f a, v8f b) { return (v8f)((m & (v8i)a) | (~m & (v8i)b)); }
static inline v8f vmin(v8f a, v8f b) { return vsel(a < b, a, b); }
static inline v8f vmax(v8f a, v8f b) { return vsel(a > b, a, b); }

static inline long reflect_index(long i, long n) {
  long period = 2 * n;
  i %= period;
  if (i < 0) i += period;
  return i < n ? i : period - 1 - i;
}

static inline v8f load8(const float *p) {
  v8f v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

static inline void replace(v8f *s, v8f o, v8f v) {
  v8f t[W];
  for (int k = 0; k < W; k++) t[k] = vsel(s[k] >= o, s[k + 1], s[k]);
  s[0] = vmin(t[0], v);
  for (int k = 1; k < W; k++) s[k] = vmax(t[k - 1], vmin(t[k], v));
}

static void median_generic(const float *x, long stride, int len, float *out, long out_stride) {
  v8f s[W + 1];
  const v8f inf = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
  for (int k = 0; k <= W; k++) s[k] = inf;
  for (long p = -(W / 2); p <= W / 2; p++) replace(s, inf, load8(x + reflect_index(p, len) * stride));
  store8(out, s[W / 2]);
  for (long p = 1; p < len; p++) {
    v8f gone = load8(x + reflect_index(p - 1 - W / 2, len) * stride);
    v8f come = load8(x + reflect_index(p + W / 2, len) * stride);
    replace(s, gone, come);
    store8(out + p * out_stride, s[W / 2]);
  }
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define HAVE_AVX2_PATH 1

/* The same steps with AVX2 intrinsics: min/max are single instructions here (the portable
 * version needs compare + blend for each). */
__attribute__((target("avx2"))) static inline void replace_avx2(__m256 *s, __m256 o, __m256 v) {
  __m256 t[W];
  for (int k = 0; k < W; k++) t[k] = _mm256_blendv_ps(s[k], s[k + 1], _mm256_cmp_ps(s[k], o, _CMP_GE_OQ));
  s[0] = _mm256_min_ps(t[0], v);
  for (int k = 1; k < W; k++) s[k] = _mm256_max_ps(t[k - 1], _mm256_min_ps(t[k], v));
}

__attribute__((target("avx2"))) static void median_avx2(const float *x, long stride, int len,
                                                       float *out, long out_stride) {
  __m256 s[W + 1];
  const __m256 inf = _mm256_set1_ps(INFINITY);
  for (int k = 0; k <= W; k++) s[k] = inf;
  for (long p = -(W / 2); p <= W / 2; p++)
    replace_avx2(s, inf, _mm256_loadu_ps(x + reflect_index(p, len) * stride));
  _mm256_storeu_ps(out, s[W / 2]);
  for (long p = 1; p < len; p++) {
    __m256 gone = _mm256_loadu_ps(x + reflect_index(p - 1 - W / 2, len) * stride);
    __m256 come = _mm256_loadu_ps(x + reflect_index(p + W / 2, len) * stride);
    replace_avx2(s, gone, come);
    _mm256_storeu_ps(out + p * out_stride, s[W / 2]);
  }
}

/* Sixteen lanes in one AVX-512 register: the same steps, half the instructions, and the 32
 * vector registers hold more of the window. On CPUs with full-width 512-bit units (AMD Zen 5,
 * this project's machines) this halves the medians' time; the results are identical (min, max
 * and selects are exact). */
__attribute__((target("avx512f"))) static inline void replace_avx512(__m512 *s, __m512 o,
                                                                     __m512 v) {
  __m512 t[W];
  for (int k = 0; k < W; k++)
    t[k] = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(s[k], o, _CMP_GE_OQ), s[k], s[k + 1]);
  s[0] = _mm512_min_ps(t[0], v);
  for (int k = 1; k < W; k++) s[k] = _mm512_max_ps(t[k - 1], _mm512_min_ps(t[k], v));
}

__attribute__((target("avx512f"))) static void median_avx512(const float *x, long stride,
                                                             int len, float *out,
                                                             long out_stride) {
  __m512 s[W + 1];
  const __m512 inf = _mm512_set1_ps(INFINITY);
  for (int k = 0; k <= W; k++) s[k] = inf;
  for (long p = -(W / 2); p <= W / 2; p++)
    replace_avx512(s, inf, _mm512_loadu_ps(x + reflect_index(p, len) * stride));
  _mm512_storeu_ps(out, s[W / 2]);
  for (long p = 1; p < len; p++) {
    __m512 gone = _mm512_loadu_ps(x + reflect_index(p - 1 - W / 2, len) * stride);
    __m512 come = _mm512_loadu_ps(x + reflect_index(p + W / 2, len) * stride);
    replace_avx512(s, gone, come);
    _mm512_storeu_ps(out + p * out_stride, s[W / 2]);
  }
}
#endif

void af_median31_x8(const float *x, long stride, int len, float *out, long out_stride) {
#ifdef HAVE_AVX2_PATH
  if (__builtin_cpu_supports("avx2")) {
    median_avx2(x, stride, len, out, out_stride);
    return;
  }
#endif
  median_generic(x, stride, len, out, out_stride);
}

void af_median31(const float *x, long stride, int len, int lanes, float *out, long out_stride) {
  int l = 0;
#ifdef HAVE_AVX2_PATH
  if (__builtin_cpu_supports("avx512f"))
    for (; l + 16 <= lanes; l += 16) median_avx512(x + l, stride, len, out + l, out_stride);
#endif
  for (; l < lanes; l += 8) af_median31_x8(x + l, stride, len, out + l, out_stride);
}
