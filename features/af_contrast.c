/*
 * af_contrast: spectral_contrast(S=|D|, sr) at librosa's defaults (fmin 200 Hz, 6 bands,
 * quantile 0.02), on the MAGNITUDE as the study passes it.
 *
 * Bands: edges [0, 200, 400, ..., 12800] Hz; band k holds the bins with f_low <= f <= f_high, plus
 * (k > 0) the bin just below, plus (last band) every bin above. For k < 6 the band's highest bin
 * is then dropped from the values (but still counted). q = max(1, rint(0.02 * count)); valley =
 * float32 mean of the q smallest values, peak = float32 mean of the q largest (summed in ascending
 * order as numpy's mean over the sorted band does). The result is
 * power_to_db(peak) - power_to_db(valley) in float64: 10*log10 of MAGNITUDES, amin 1e-10, and
 * top_db 80 applied to the whole 7 x T peak matrix and to the whole valley matrix separately.
 * Only the q extreme values are needed (q <= 9), so each band keeps them in small sorted vectors
 * updated branch-free, eight frames at a time, instead of sorting the band.
 */
#include <math.h>
#include <pthread.h>
#include <string.h>

#include "af_internal.h"

typedef struct band {
  int lo, hi; /* values taken from bins [lo, hi) */
  int q;
} band;

static band bands[AF_NBANDS];
static pthread_once_t bands_once = PTHREAD_ONCE_INIT;

static void build_bands(void) {
  const af_melbank *b = af_melbank_get();
  double octa[AF_NBANDS + 1];
  octa[0] = 0.0;
  for (int i = 1; i <= AF_NBANDS; i++) octa[i] = 200.0 * pow(2.0, i - 1);
  for (int k = 0; k < AF_NBANDS; k++) {
    int first = -1, last = -1;
    for (int i = 0; i < AF_NBINS; i++)
      if (b->fft_freqs[i] >= octa[k] && b->fft_freqs[i] <= octa[k + 1]) {
        if (first < 0) first = i;
        last = i;
      }
    int lo = first, hi = last + 1;
    if (k > 0) lo = first - 1;
    if (k == AF_NBANDS - 1) hi = AF_NBINS;
    int count = hi - lo;
    if (k < AF_NBANDS - 1) hi--; /* the band's last bin is dropped from the values */
    double q = rint(0.02 * count);
    bands[k].lo = lo;
    bands[k].hi = hi;
    bands[k].q = q < 1 ? 1 : (int)q;
  }
}

#define QMAX 16

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
#pragma GCC diagnostic ignored "-Wpsabi" /* static inline vector helpers only */
static inline v8f vsel(v8i m, v8f a, v8f b) { return (v8f)((m & (v8i)a) | (~m & (v8i)b)); }
static inline v8f vmin(v8f a, v8f b) { return vsel(a < b, a, b); }
static inline v8f vmax(v8f a, v8f b) { return vsel(a > b, a, b); }

static double db_of(double x) { return 10.0 * log10(x > 1e-10 ? x : 1e-10); }

/* Eight frames at a time (magT is bin-major): lo[] keeps the q smallest values ascending, hi[]
 * the q largest descending, each updated by the branch-free merge of one new value. */
AF_HOT static void band_extremes(const float *magT, int fs, int t0, const band *bd, float *valley,
                                 float *peak) {
  const int q = bd->q < QMAX ? bd->q : QMAX;
  v8f lo[QMAX], hi[QMAX];
  for (int j = 0; j < QMAX; j++) {
    for (int l = 0; l < 8; l++) {
      lo[j][l] = INFINITY;
      hi[j][l] = -INFINITY;
    }
  }
  for (int i = bd->lo; i < bd->hi; i++) {
    v8f v;
    memcpy(&v, magT + (long)i * fs + t0, sizeof v);
    for (int j = q - 1; j > 0; j--) {
      lo[j] = vmax(lo[j - 1], vmin(lo[j], v));
      hi[j] = vmin(hi[j - 1], vmax(hi[j], v));
    }
    lo[0] = vmin(lo[0], v);
    hi[0] = vmax(hi[0], v);
  }
  v8f vs = lo[0], ps = hi[q - 1];
  for (int j = 1; j < q; j++) vs += lo[j];          /* ascending, in float32 */
  for (int j = q - 2; j >= 0; j--) ps += hi[j];
  for (int l = 0; l < 8; l++) {
    valley[l] = vs[l] / (float)q;
    peak[l] = ps[l] / (float)q;
  }
}

void af_contrast_mean(const float *magT, int n_frames, int fs, double *scratch,
                      double out[AF_NBANDS]) {
  pthread_once(&bands_once, build_bands);
  double *peak = scratch, *valley = scratch + AF_NBANDS * fs;
  for (int k = 0; k < AF_NBANDS; k++)
    for (int t0 = 0; t0 < fs; t0 += 8) {
      float v[8], p[8];
      band_extremes(magT, fs, t0, &bands[k], v, p);
      for (int l = 0; l < 8; l++) {
        valley[k * fs + t0 + l] = v[l];
        peak[k * fs + t0 + l] = p[l];
      }
    }
  double pmax = -INFINITY, vmax_ = -INFINITY;
  for (int k = 0; k < AF_NBANDS; k++)
    for (int t = 0; t < n_frames; t++) {
      double *pp = &peak[k * fs + t], *vv = &valley[k * fs + t];
      *pp = db_of(*pp);
      *vv = db_of(*vv);
      if (*pp > pmax) pmax = *pp;
      if (*vv > vmax_) vmax_ = *vv;
    }
  for (int k = 0; k < AF_NBANDS; k++) {
    double acc = 0.0;
    for (int t = 0; t < n_frames; t++) {
      double p = peak[k * fs + t], v = valley[k * fs + t];
      if (p < pmax - 80.0) p = pmax - 80.0;
      if (v < vmax_ - 80.0) v = vmax_ - 80.0;
      acc += p - v;
    }
    out[k] = acc / n_frames;
  }
}
