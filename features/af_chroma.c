/*
 * af_chroma: chroma_stft(S=|D|, sr) as the study calls it: S is the MAGNITUDE spectrogram (not
 * the power chroma_stft(y=...) would square), tuning estimated per window at 12 bins per octave
 * (af_tuning.c), filter bank filters.chroma(sr, 2048, tuning) (Ellis' chromagram: Gaussian bumps
 * in log-frequency around each pitch class, columns L2-normalised, weighted by a Gaussian over
 * octaves centred on octave 5 with width 2, rows rolled so that row 0 is C), then each frame
 * divided by its largest value (frames whose largest value is below float32's smallest normal are
 * left as they are: silence stays 0).
 *
 * The bank depends on the tuning only, and the tuning is one of 100 histogram edges, so all 100
 * banks are built once per process (4.9 MB, a few tens of ms) and shared read-only.
 */
#include <float.h>
#include <math.h>
#include <pthread.h>

#include "af_internal.h"
#include "cm_util.h"

static float *banks; /* [AF_NTUNING][AF_NCHROMA][AF_BSTRIDE] */
static pthread_once_t banks_once = PTHREAD_ONCE_INIT;

static double py_mod(double a, double b) { /* numpy.remainder for floats */
  double m = fmod(a, b);
  if (m != 0.0 && ((b < 0) != (m < 0))) m += b;
  return m;
}

static void build_bank(double tuning, float *out) {
  enum { N = AF_NFFT, C = AF_NCHROMA };
  static double frqbins[N], binwidth[N], wts[C][N];
  const double A440 = 440.0 * pow(2.0, tuning / C);
  /* frequencies = linspace(0, sr, n_fft, endpoint=False)[1:] */
  const double step = (double)AF_SR / N;
  for (int k = 1; k < N; k++) {
    double f = k * step;
    frqbins[k] = C * log2(f / (A440 / 16));
  }
  frqbins[0] = frqbins[1] - 1.5 * C;
  for (int k = 0; k < N - 1; k++) binwidth[k] = fmax(frqbins[k + 1] - frqbins[k], 1.0);
  binwidth[N - 1] = 1.0;
  const double half = 6.0; /* np.round(n_chroma / 2) */
  for (int c = 0; c < C; c++)
    for (int k = 0; k < N; k++) {
      double D = py_mod(frqbins[k] - c + half + 10 * C, C) - half;
      double z = 2 * D / binwidth[k];
      wts[c][k] = exp(-0.5 * (z * z));
    }
  for (int k = 0; k < N; k++) { /* normalize(norm=2, axis=0) */
    double ss = 0.0;
    for (int c = 0; c < C; c++) ss += wts[c][k] * wts[c][k];
    double len = sqrt(ss);
    if (len < DBL_MIN) len = 1.0;
    double oct = (frqbins[k] / C - 5.0) / 2.0;
    double octw = exp(-0.5 * (oct * oct));
    for (int c = 0; c < C; c++) wts[c][k] = wts[c][k] / len * octw;
  }
  for (int c = 0; c < C; c++) /* roll by -3 so that row 0 is C */
    for (int k = 0; k < AF_BSTRIDE; k++)
      out[c * AF_BSTRIDE + k] = k < AF_NBINS ? (float)wts[(c + 3) % C][k] : 0.0f;
}

static void build_banks(void) {
  banks = cm_xmalloc(sizeof(float) * AF_NTUNING * AF_NCHROMA * AF_BSTRIDE);
  for (int j = 0; j < AF_NTUNING; j++)
    build_bank(af_tuning_value(j), banks + (long)j * AF_NCHROMA * AF_BSTRIDE);
}

void af_chroma_tables_init(void) { pthread_once(&banks_once, build_banks); }

void af_chroma_stft(const float *mag, int n_frames, int j, float *chroma) {
  af_chroma_tables_init();
  const float *fb = banks + (long)j * AF_NCHROMA * AF_BSTRIDE;
  for (int t = 0; t < n_frames; t++) {
    const float *s = mag + (long)t * AF_BSTRIDE;
    double raw[AF_NCHROMA];
    double mx = 0.0;
    for (int c = 0; c < AF_NCHROMA; c++) {
      const float *w = fb + c * AF_BSTRIDE;
      float acc[8] = {0};
      for (int k = 0; k < AF_BSTRIDE; k += 8)
        for (int l = 0; l < 8; l++) acc[l] += w[k + l] * s[k + l];
      float r = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      raw[c] = r;
      if (fabs(raw[c]) > mx) mx = fabs(raw[c]);
    }
    if (mx < FLT_MIN) mx = 1.0;
    for (int c = 0; c < AF_NCHROMA; c++) chroma[(long)c * n_frames + t] = (float)(raw[c] / mx);
  }
}
