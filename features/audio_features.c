/*
 * audio_features: the extractor object and the order in which one window's 193-vector is made
 * (the public contract is in audio_features.h; each step lives in its own af_*.c file).
 *
 *   1. validate: any NaN/inf -> CM_AUDIOFEAT_NONFINITE, outputs NaN;
 *   2. STFT D of the window (af_stft.c) -> |D|;
 *   3. |D| bin-major (af_transpose, for the mel, contrast and HPSS), mel power (af_mel.c) and
 *      the MFCC means (af_mfcc.c) from |D|^2 — librosa recomputes the same STFT
 *      for each of them; it is computed once here;
 *   4. chroma_stft (af_tuning.c at 12 bins/octave, af_chroma.c) and spectral contrast
 *      (af_contrast.c) from |D|;
 *   5. the harmonic signal: HPSS mask on D (af_median.c, af_hpss.c), inverse STFT;
 *   6. tuning of the harmonic at 36 bins/octave (its own STFT), CQT (af_cqt.c, af_resample.c),
 *      chroma_cqt and tonnetz (af_tonnetz.c);
 *   7. means over frames, packed in the study's order: mfcc, chroma, mel, contrast, tonnetz.
 * Every buffer is allocated by cm_audiofeat_create for the window size, so compute allocates
 * nothing; shared tables are built once per process and only read afterwards.
 */
#include <math.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "af_internal.h"
#include "audio_features.h"
#include "cm_util.h"

struct cm_audiofeat {
  int n, n_frames;
  af_stft stft;
  af_hpss_ws hpss;
  af_cqt_ws cqt;
  float *re, *im, *mag;     /* n_frames * AF_BSTRIDE: D, then the STFT of the harmonic */
  float *re_h, *im_h;       /* n_frames * AF_BSTRIDE: the harmonic STFT */
  float *magT;              /* AF_NBINS * fstride: |D| bin-major */
  float *mel, *db, *chroma, *cqt_mag;
  double *contrast_scratch;
  float *ybuf, *wss, *harm; /* istft buffers and the harmonic signal */
  float *pitch, *pmag;      /* tuning scratch */
  cm_audiofeat_diag diag;
};

cm_audiofeat *cm_audiofeat_create(int sample_rate, int window_samples) {
  if (sample_rate != CM_AUDIOFEAT_SAMPLE_RATE) {
    cm_set_error("sample rate %d Hz: the librosa-compatible audio features are defined at %d Hz "
                 "(resample first)", sample_rate, CM_AUDIOFEAT_SAMPLE_RATE);
    return NULL;
  }
  if (window_samples < CM_AUDIOFEAT_MIN_WINDOW || window_samples > CM_AUDIOFEAT_MAX_WINDOW) {
    cm_set_error("window of %d samples: must be between %d and %d samples", window_samples,
                 CM_AUDIOFEAT_MIN_WINDOW, CM_AUDIOFEAT_MAX_WINDOW);
    return NULL;
  }
  cm_audiofeat *ex = cm_xcalloc(1, sizeof *ex);
  ex->n = window_samples;
  ex->n_frames = 1 + window_samples / AF_HOP;
  const long F = ex->n_frames, spec = F * AF_BSTRIDE;
  if (af_stft_init(&ex->stft) < 0) {
    free(ex);
    return NULL;
  }
  if (af_cqt_ws_init(&ex->cqt, window_samples) < 0) {
    af_stft_free(&ex->stft);
    free(ex);
    return NULL;
  }
  ex->hpss.fstride = (int)((F + 7) / 8 * 8);
  ex->hpss.harm = cm_xcalloc(spec, sizeof(float));
  ex->hpss.pcol = cm_xcalloc(8 * AF_BSTRIDE, sizeof(float));
  ex->magT = cm_xcalloc((long)AF_NBINS * ex->hpss.fstride, sizeof(float));
  ex->hpss.percT = cm_xcalloc((long)AF_NBINS * ex->hpss.fstride, sizeof(float));
  ex->re = cm_xcalloc(spec, sizeof(float));
  ex->im = cm_xcalloc(spec, sizeof(float));
  ex->mag = cm_xcalloc(spec, sizeof(float));
  ex->re_h = cm_xcalloc(spec, sizeof(float));
  ex->im_h = cm_xcalloc(spec, sizeof(float));
  ex->mel = cm_xcalloc(AF_NMELS * F, sizeof(float));
  ex->db = cm_xcalloc(AF_NMELS * F, sizeof(float));
  ex->chroma = cm_xcalloc(AF_NCHROMA * F, sizeof(float));
  ex->cqt_mag = cm_xcalloc((long)AF_CQT_BINS * ex->cqt.n_frames, sizeof(float));
  ex->contrast_scratch = cm_xcalloc(2 * AF_NBANDS * ex->hpss.fstride, sizeof(double));
  long ylen = AF_NFFT + AF_HOP * (F - 1);
  ex->ybuf = cm_xcalloc(ylen, sizeof(float));
  ex->wss = cm_xcalloc(ylen, sizeof(float));
  ex->harm = cm_xcalloc(window_samples, sizeof(float));
  ex->pitch = cm_xcalloc(F * AF_NBINS, sizeof(float));
  ex->pmag = cm_xcalloc(2 * F * AF_NBINS, sizeof(float));
  af_window_sumsquare(ex->stft.window, (int)F, ex->wss);
  /* shared tables, so that the first compute does not pay for them */
  af_melbank_get();
  af_chroma_tables_init();
  return ex;
}

void cm_audiofeat_destroy(cm_audiofeat *ex) {
  if (!ex) return;
  af_stft_free(&ex->stft);
  af_cqt_ws_free(&ex->cqt);
  free(ex->hpss.harm);
  free(ex->hpss.pcol);
  free(ex->magT);
  free(ex->hpss.percT);
  free(ex->re);
  free(ex->im);
  free(ex->mag);
  free(ex->re_h);
  free(ex->im_h);
  free(ex->mel);
  free(ex->db);
  free(ex->chroma);
  free(ex->cqt_mag);
  free(ex->contrast_scratch);
  free(ex->ybuf);
  free(ex->wss);
  free(ex->harm);
  free(ex->pitch);
  free(ex->pmag);
  free(ex);
}

int cm_audiofeat_window_samples(const cm_audiofeat *ex) { return ex->n; }

void cm_audiofeat_last_diag(const cm_audiofeat *ex, cm_audiofeat_diag *diag) { *diag = ex->diag; }

static void mean_rows(const float *x, int rows, int n_frames, float *out) {
  for (int r = 0; r < rows; r++) {
    double acc = 0.0;
    for (int t = 0; t < n_frames; t++) acc += x[(long)r * n_frames + t];
    out[r] = (float)(acc / n_frames);
  }
}

/* The index of the first NaN or infinity, or -1: an OR over exponent fields first (vectorised),
 * the search only when something was found. */
AF_HOT static int first_nonfinite(const float *x, int n) {
  uint32_t any = 0;
  for (int i = 0; i < n; i++) {
    uint32_t b;
    memcpy(&b, &x[i], sizeof b);
    any |= (b & 0x7f800000u) == 0x7f800000u;
  }
  if (!any) return -1;
  for (int i = 0; i < n; i++)
    if (!isfinite(x[i])) return i;
  return -1;
}

int cm_audiofeat_compute(cm_audiofeat *ex, const float *window, float out[CM_AUDIOFEAT_DIM]) {
  int bad = first_nonfinite(window, ex->n);
  if (bad >= 0) {
    for (int k = 0; k < CM_AUDIOFEAT_DIM; k++) out[k] = NAN;
    cm_set_error("sample %d of the window is not a finite number", bad);
    return CM_AUDIOFEAT_NONFINITE;
  }
  const int F = ex->n_frames;
  af_stft_forward(&ex->stft, window, ex->n, F, ex->re, ex->im, ex->mag);

  af_transpose(ex->mag, F, ex->hpss.fstride, ex->magT);
  af_mel_power(ex->magT, F, ex->hpss.fstride, ex->mel);
  mean_rows(ex->mel, AF_NMELS, F, out + CM_AUDIOFEAT_MEL);
  af_mfcc_mean(ex->mel, F, ex->db, out + CM_AUDIOFEAT_MFCC);

  int n_pitches = 0;
  int tj = af_estimate_tuning(ex->mag, F, 12, ex->pitch, ex->pmag, &n_pitches);
  ex->diag.tuning_stft = af_tuning_value(tj);
  ex->diag.n_pitches_stft = n_pitches;
  af_chroma_stft(ex->mag, F, tj, ex->chroma);
  mean_rows(ex->chroma, AF_NCHROMA, F, out + CM_AUDIOFEAT_CHROMA);

  double contrast[AF_NBANDS];
  af_contrast_mean(ex->magT, F, ex->hpss.fstride, ex->contrast_scratch, contrast);
  for (int k = 0; k < AF_NBANDS; k++) out[CM_AUDIOFEAT_CONTRAST + k] = (float)contrast[k];

  af_hpss_harmonic(&ex->hpss, ex->re, ex->im, ex->mag, ex->magT, F, ex->re_h, ex->im_h);
  af_istft(&ex->stft, ex->re_h, ex->im_h, F, ex->n, ex->ybuf, ex->wss, ex->harm);

  af_stft_forward(&ex->stft, ex->harm, ex->n, F, ex->re, ex->im, ex->mag);
  int cj = af_estimate_tuning(ex->mag, F, AF_CQT_BPO, ex->pitch, ex->pmag, &n_pitches);
  ex->diag.tuning_cqt = af_tuning_value(cj);
  ex->diag.n_pitches_cqt = n_pitches;
  af_cqt_mag(&ex->cqt, ex->harm, cj, ex->cqt_mag);
  double tonnetz[6];
  af_tonnetz_mean(ex->cqt_mag, ex->cqt.n_frames, tonnetz);
  for (int k = 0; k < 6; k++) out[CM_AUDIOFEAT_TONNETZ + k] = (float)tonnetz[k];
  return CM_AUDIOFEAT_OK;
}

static char column_names[CM_AUDIOFEAT_DIM][16];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void build_names(void) {
  for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) {
    char *s = column_names[i];
    if (i < CM_AUDIOFEAT_CHROMA) snprintf(s, 16, "mfcc_%02d", i);
    else if (i < CM_AUDIOFEAT_MEL) snprintf(s, 16, "chroma_%02d", i - CM_AUDIOFEAT_CHROMA);
    else if (i < CM_AUDIOFEAT_CONTRAST) snprintf(s, 16, "mel_%03d", i - CM_AUDIOFEAT_MEL);
    else if (i < CM_AUDIOFEAT_TONNETZ) snprintf(s, 16, "contrast_%d", i - CM_AUDIOFEAT_CONTRAST);
    else snprintf(s, 16, "tonnetz_%d", i - CM_AUDIOFEAT_TONNETZ);
  }
}

const char *cm_audiofeat_column_name(int i) {
  if (i < 0 || i >= CM_AUDIOFEAT_DIM) return NULL;
  pthread_once(&names_once, build_names);
  return column_names[i];
}
