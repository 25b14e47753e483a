/*
 * af_cqt: the constant-Q transform inside tonnetz, |cqt(harm, sr=22050, hop_length=512,
 * fmin=C1, n_bins=252, bins_per_octave=36, tuning)| as librosa 0.9.2 computes it (vqt with
 * gamma 0: filter_scale 1, L1-normalised Hann wavelets, sparsity 0.01, scale=True, zero padding).
 *
 * librosa works octave by octave, top octave first: octave i runs at sr_i = 22050 / 2^i with hop
 * 512 / 2^i on a signal downsampled i times by resampy's kaiser_fast (af_resample.c); no early
 * downsampling happens at 22050 Hz. Each octave takes the rectangular-window STFT (n_fft 1024,
 * centred, zero padding, complex64) of its signal and multiplies it by a sparse basis: the
 * 1024-point FFTs of the octave's 36 wavelets, each row thinned by dropping its smallest entries
 * while their cumulative magnitude stays under 1% of the row's L1 norm, times sqrt(22050 / sr_i).
 * Rows are stacked lowest octave first and divided by sqrt(wavelet length at 22050 Hz).
 *
 * The bases: the wavelets of octave i at sr_i are those of the top octave at 22050 Hz (same
 * f / sr, same lengths in samples), so one set of 36 rows per tuning serves all 7 octaves, with
 * the octave's float32 scale factor applied as librosa applies it. The 100 possible tunings (the
 * estimate is a histogram edge) are all built once per process (~0.1 s) and shared read-only.
 * Precision: librosa transforms each frame in float64 and multiplies in complex64; here the
 * 609 frame FFTs (the largest cost of the whole vector after the medians) run in float32 and
 * the sparse products accumulate in float32: tonnetz moves by ~1e-6 block-relative, against a
 * 1e-2 target, and the transform costs half as much.
 * Wavelet construction follows filters.wavelet: n = arange(floor(-len/2), floor(len/2)),
 * sig = exp(i * ((2n * pi) * f) * (1/sr)) (numpy's complex arithmetic), a periodic Hann of the
 * same length, L1 normalisation, stored complex64, centred in 1024, scaled by len/1024 (rounded
 * to complex64), FFT in float64.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "af_internal.h"
#include "cm_util.h"

typedef struct cqt_basis {
  int off[AF_CQT_BPO + 1];           /* row r's entries: [off[r], off[r+1]) */
  uint16_t *col;                     /* FFT bin of each entry */
  float *val;                        /* [AF_CQT_OCTAVES][nnz][2]: re, im scaled per octave */
  int nnz, col_lo, col_hi;           /* columns used: [col_lo, col_hi] */
  double inv_sqrt_len[AF_CQT_BINS];  /* 1 / sqrt(wavelet length at 22050 Hz), per bin */
} cqt_basis;

static cqt_basis bases[AF_NTUNING];
static pthread_once_t bases_once = PTHREAD_ONCE_INIT;

static const double C1_HZ = 32.70319566257483; /* note_to_hz('C1') = 440 * 2^((24 - 69) / 12) */

/* wavelet_lengths: per-bin alpha from the log-frequency spacing, Q = 1 / alpha, len = Q sr / f. */
static void wavelet_lengths(const double *freqs, int n, double sr, double *lengths) {
  for (int k = 0; k < n; k++) {
    double bpo;
    if (k == 0) bpo = 1 / (log2(freqs[1]) - log2(freqs[0]));
    else if (k == n - 1) bpo = 1 / (log2(freqs[n - 1]) - log2(freqs[n - 2]));
    else bpo = 2 / (log2(freqs[k + 1]) - log2(freqs[k - 1]));
    double r = pow(2.0, 2 / bpo);
    double alpha = (r - 1) / (r + 1);
    double Q = 1.0 / alpha;
    lengths[k] = Q * sr / (freqs[k] + 0.0);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void build_basis(double tuning, cqt_basis *b, fftw_complex *buf, fftw_plan plan) {
  double freqs[AF_CQT_BINS], lengths[AF_CQT_BINS];
  double fmin = C1_HZ * pow(2.0, tuning / AF_CQT_BPO);
  for (int k = 0; k < AF_CQT_BINS; k++) freqs[k] = (1.0 * fmin) * pow(2.0, k / (double)AF_CQT_BPO);
  wavelet_lengths(freqs, AF_CQT_BINS, AF_SR, lengths);
  for (int k = 0; k < AF_CQT_BINS; k++) b->inv_sqrt_len[k] = 1.0 / sqrt(lengths[k]);

  /* the top octave's 36 wavelets at 22050 Hz */
  const double *f = freqs + AF_CQT_BINS - AF_CQT_BPO;
  double len[AF_CQT_BPO];
  wavelet_lengths(f, AF_CQT_BPO, AF_SR, len);
  static double mags[AF_CQT_NSPEC], sorted[AF_CQT_NSPEC];
  static float kept_re[AF_CQT_BPO][AF_CQT_NSPEC], kept_im[AF_CQT_BPO][AF_CQT_NSPEC];
  static uint16_t kept_col[AF_CQT_BPO][AF_CQT_NSPEC];
  int nkept[AF_CQT_BPO];
  for (int r = 0; r < AF_CQT_BPO; r++) {
    double ilen = len[r];
    long a = (long)floor(-ilen / 2), e = (long)floor(ilen / 2);
    int N = (int)(e - a);
    double win[AF_CQT_NFFT];
    af_hann_periodic(N, win);
    static double sre[AF_CQT_NFFT], sim[AF_CQT_NFFT];
    double l1 = 0.0;
    for (int j = 0; j < N; j++) {
      double n = (double)(a + j);
      double theta = ((n * 2) * M_PI) * f[r] * (1.0 / AF_SR);
      sre[j] = cos(theta) * win[j];
      sim[j] = sin(theta) * win[j];
      l1 += hypot(sre[j], sim[j]);
    }
    double inv = 1.0 / l1;
    int lpad = (AF_CQT_NFFT - N) / 2;
    for (int j = 0; j < AF_CQT_NFFT; j++) buf[j][0] = buf[j][1] = 0.0;
    double sc = ilen / AF_CQT_NFFT;
    for (int j = 0; j < N; j++) {
      float cre = (float)(sre[j] * inv), cim = (float)(sim[j] * inv); /* complex64 filters */
      buf[lpad + j][0] = (float)(cre * sc);                          /* basis *= len / n_fft */
      buf[lpad + j][1] = (float)(cim * sc);
    }
    fftw_execute(plan);
    double norm = 0.0;
    for (int c = 0; c < AF_CQT_NSPEC; c++) {
      mags[c] = hypot(buf[c][0], buf[c][1]);
      sorted[c] = mags[c];
      norm += mags[c];
    }
    qsort(sorted, AF_CQT_NSPEC, sizeof(double), cmp_double);
    double cum = 0.0;
    int jt = 0;
    for (jt = 0; jt < AF_CQT_NSPEC; jt++) {
      cum += sorted[jt] / norm;
      if (!(cum < 0.01)) break;
    }
    if (jt == AF_CQT_NSPEC) jt = 0; /* numpy argmin of an all-True mask */
    double thr = sorted[jt];
    int m = 0;
    for (int c = 0; c < AF_CQT_NSPEC; c++)
      if (mags[c] >= thr) {
        kept_col[r][m] = (uint16_t)c;
        kept_re[r][m] = (float)buf[c][0];
        kept_im[r][m] = (float)buf[c][1];
        m++;
      }
    nkept[r] = m;
  }
  int nnz = 0;
  for (int r = 0; r < AF_CQT_BPO; r++) {
    b->off[r] = nnz;
    nnz += nkept[r];
  }
  b->off[AF_CQT_BPO] = nnz;
  b->nnz = nnz;
  b->col = cm_xmalloc(sizeof(uint16_t) * nnz);
  b->val = cm_xmalloc(sizeof(float) * 2 * nnz * AF_CQT_OCTAVES);
  b->col_lo = AF_CQT_NSPEC;
  b->col_hi = 0;
  for (int r = 0; r < AF_CQT_BPO; r++)
    for (int i = 0; i < nkept[r]; i++) {
      int c = kept_col[r][i];
      b->col[b->off[r] + i] = (uint16_t)c;
      if (c < b->col_lo) b->col_lo = c;
      if (c > b->col_hi) b->col_hi = c;
    }
  double sr_i = AF_SR;
  for (int o = 0; o < AF_CQT_OCTAVES; o++) {
    float s = (float)sqrt(AF_SR / sr_i);
    float *v = b->val + (long)o * 2 * nnz;
    for (int r = 0; r < AF_CQT_BPO; r++)
      for (int i = 0; i < nkept[r]; i++) {
        v[2 * (b->off[r] + i)] = kept_re[r][i] * s;
        v[2 * (b->off[r] + i) + 1] = kept_im[r][i] * s;
      }
    sr_i /= 2.0;
  }
}

static void build_bases(void) {
  fftw_complex *buf = fftw_malloc(sizeof(fftw_complex) * AF_CQT_NFFT);
  if (!buf) abort();
  cm_fftw_lock();
  fftw_plan plan = fftw_plan_dft_1d(AF_CQT_NFFT, buf, buf, FFTW_FORWARD, FFTW_ESTIMATE);
  cm_fftw_unlock();
  for (int j = 0; j < AF_NTUNING; j++) build_basis(af_tuning_value(j), &bases[j], buf, plan);
  cm_fftw_lock();
  fftw_destroy_plan(plan);
  cm_fftw_unlock();
  fftw_free(buf);
}

void af_cqt_tables_init(void) { pthread_once(&bases_once, build_bases); }

int af_cqt_ws_init(af_cqt_ws *ws, int n) {
  memset(ws, 0, sizeof *ws);
  ws->n = n;
  int len = n, hop = AF_HOP, frames = -1;
  for (int o = 0; o < AF_CQT_OCTAVES; o++) {
    ws->len[o] = len;
    int fr = 1 + len / hop;
    if (frames < 0 || fr < frames) frames = fr;
    len = (len + 1) / 2;
    hop /= 2;
  }
  ws->n_frames = frames;
  ws->fstride = (frames + 7) / 8 * 8;
  ws->sre = cm_xmalloc(sizeof(float) * AF_CQT_NSPEC * ws->fstride);
  ws->sim = cm_xmalloc(sizeof(float) * AF_CQT_NSPEC * ws->fstride);
  ws->acc_re = cm_xmalloc(sizeof(float) * ws->fstride);
  ws->acc_im = cm_xmalloc(sizeof(float) * ws->fstride);
  ws->y[0] = cm_xmalloc(sizeof(float) * (n / 2 + 2));
  ws->y[1] = cm_xmalloc(sizeof(float) * (n / 2 + 2));
  ws->rs_scratch = cm_xmalloc(sizeof(float) * AF_RESAMPLE_SCRATCH(n));
  ws->padded = cm_xmalloc(sizeof(float) * ((long)(frames - 1) * AF_HOP + AF_CQT_NFFT));
  ws->in = fftwf_malloc(sizeof(float) * AF_CQT_NFFT);
  ws->spec = fftwf_malloc(sizeof(fftwf_complex) * AF_CQT_NSPEC);
  if (!ws->in || !ws->spec) {
    af_cqt_ws_free(ws);
    return cm_set_error("out of memory for the CQT buffers");
  }
  cm_fftw_lock();
  ws->r2c = fftwf_plan_dft_r2c_1d(AF_CQT_NFFT, ws->in, ws->spec, FFTW_ESTIMATE);
  cm_fftw_unlock();
  if (!ws->r2c) {
    af_cqt_ws_free(ws);
    return cm_set_error("FFTW could not plan a %d-point transform", AF_CQT_NFFT);
  }
  af_cqt_tables_init();
  return 0;
}

void af_cqt_ws_free(af_cqt_ws *ws) {
  cm_fftw_lock();
  if (ws->r2c) fftwf_destroy_plan(ws->r2c);
  cm_fftw_unlock();
  if (ws->in) fftwf_free(ws->in);
  if (ws->spec) fftwf_free(ws->spec);
  free(ws->padded);
  free(ws->sre);
  free(ws->sim);
  free(ws->acc_re);
  free(ws->acc_im);
  free(ws->y[0]);
  free(ws->y[1]);
  free(ws->rs_scratch);
  memset(ws, 0, sizeof *ws);
}

/* The sparse product for all frames at once: frames are the inner, contiguous dimension, so the
 * multiply-adds run 8 frames wide. sre/sim hold the octave's STFT bins [col_lo, col_hi] as
 * [bin - col_lo][frame] rows of fs floats. */
AF_HOT
static void octave_product(const cqt_basis *b, const float *v, const float *sre, const float *sim,
                           int fs, int F, int row0, float *acc_re, float *acc_im, float *C) {
  for (int r = 0; r < AF_CQT_BPO; r++) {
    for (int t = 0; t < fs; t++) acc_re[t] = acc_im[t] = 0.0f;
    for (int e = b->off[r]; e < b->off[r + 1]; e++) {
      const float br = v[2 * e], bi = v[2 * e + 1];
      const float *xr = sre + (long)(b->col[e] - b->col_lo) * fs;
      const float *xi = sim + (long)(b->col[e] - b->col_lo) * fs;
      for (int t = 0; t < fs; t++) {
        acc_re[t] += br * xr[t] - bi * xi[t];
        acc_im[t] += br * xi[t] + bi * xr[t];
      }
    }
    const int k = row0 + r;
    const double s = b->inv_sqrt_len[k];
    float *out = C + (long)k * F;
    for (int t = 0; t < F; t++) {
      float re = (float)((double)acc_re[t] * s), im = (float)((double)acc_im[t] * s);
      out[t] = af_cabsf(re, im);
    }
  }
}

void af_cqt_mag(af_cqt_ws *ws, const float *y, int tuning_index, float *C) {
  const cqt_basis *b = &bases[tuning_index];
  const int F = ws->n_frames, fs = ws->fstride, half = AF_CQT_NFFT / 2;
  const float *yi = y;
  int hop = AF_HOP;
  for (int o = 0; o < AF_CQT_OCTAVES; o++) {
    const int len = ws->len[o];
    /* the octave's signal with librosa's centring: 512 zeros before, zeros after */
    float *padded = ws->padded;
    long plen = (long)(F - 1) * hop + AF_CQT_NFFT;
    long body = len < plen - half ? len : plen - half;
    memset(padded, 0, sizeof(float) * half);
    memcpy(padded + half, yi, sizeof(float) * body);
    memset(padded + half + body, 0, sizeof(float) * (plen - half - body));
    for (int t = 0; t < F; t++) {
      memcpy(ws->in, padded + (long)t * hop, sizeof(float) * AF_CQT_NFFT);
      fftwf_execute(ws->r2c);
      for (int c = b->col_lo; c <= b->col_hi; c++) {
        ws->sre[(long)(c - b->col_lo) * fs + t] = ws->spec[c][0];
        ws->sim[(long)(c - b->col_lo) * fs + t] = ws->spec[c][1];
      }
    }
    for (int c = b->col_lo; c <= b->col_hi; c++)
      for (int t = F; t < fs; t++) ws->sre[(long)(c - b->col_lo) * fs + t] = ws->sim[(long)(c - b->col_lo) * fs + t] = 0.0f;
    octave_product(b, b->val + (long)o * 2 * b->nnz, ws->sre, ws->sim, fs, F,
                   AF_CQT_BINS - AF_CQT_BPO * (o + 1), ws->acc_re, ws->acc_im, C);
    if (o + 1 < AF_CQT_OCTAVES) {
      float *next = ws->y[o % 2];
      af_resample_half(yi, len, next, ws->rs_scratch);
      yi = next;
      hop /= 2;
    }
  }
}
