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
 * Only the q extreme values are needed, so each band keeps them in a small sorted buffer
 * instead of sorting the band.
 */
#include <math.h>
#include <pthread.h>

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

#define QMAX 64

static double db_of(double x) { return 10.0 * log10(x > 1e-10 ? x : 1e-10); }

void af_contrast_mean(const float *mag, int n_frames, double *scratch, double out[AF_NBANDS]) {
  pthread_once(&bands_once, build_bands);
  double *peak = scratch, *valley = scratch + AF_NBANDS * n_frames;
  for (int t = 0; t < n_frames; t++) {
    const float *s = mag + (long)t * AF_BSTRIDE;
    for (int k = 0; k < AF_NBANDS; k++) {
      const band *bd = &bands[k];
      int q = bd->q < QMAX ? bd->q : QMAX;
      float lo[QMAX], hi[QMAX]; /* lo ascending: q smallest; hi descending: q largest */
      int nlo = 0, nhi = 0;
      for (int i = bd->lo; i < bd->hi; i++) {
        float v = s[i];
        if (nlo < q || v < lo[nlo - 1]) {
          int j = nlo < q ? nlo++ : q - 1;
          while (j > 0 && lo[j - 1] > v) {
            lo[j] = lo[j - 1];
            j--;
          }
          lo[j] = v;
        }
        if (nhi < q || v > hi[nhi - 1]) {
          int j = nhi < q ? nhi++ : q - 1;
          while (j > 0 && hi[j - 1] < v) {
            hi[j] = hi[j - 1];
            j--;
          }
          hi[j] = v;
        }
      }
      float vs = 0.0f, ps = 0.0f;
      for (int i = 0; i < nlo; i++) vs += lo[i];
      for (int i = nhi - 1; i >= 0; i--) ps += hi[i];
      valley[k * n_frames + t] = vs / (float)nlo;
      peak[k * n_frames + t] = ps / (float)nhi;
    }
  }
  long total = (long)AF_NBANDS * n_frames;
  double pmax = -INFINITY, vmax = -INFINITY;
  for (long i = 0; i < total; i++) {
    peak[i] = db_of(peak[i]);
    valley[i] = db_of(valley[i]);
    if (peak[i] > pmax) pmax = peak[i];
    if (valley[i] > vmax) vmax = valley[i];
  }
  for (int k = 0; k < AF_NBANDS; k++) {
    double acc = 0.0;
    for (int t = 0; t < n_frames; t++) {
      double p = peak[k * n_frames + t], v = valley[k * n_frames + t];
      if (p < pmax - 80.0) p = pmax - 80.0;
      if (v < vmax - 80.0) v = vmax - 80.0;
      acc += p - v;
    }
    out[k] = acc / n_frames;
  }
}
