/*
 * audio_ref: reading the librosa reference data copied into tests/data/librosa/ (clips as WAV,
 * features.csv and diagnostics.csv per clip), and the parity measure the feature tests state.
 *
 * Parity measure, per window and per block (mfcc, chroma, mel, contrast, tonnetz):
 *     err = max_i |ours_i - librosa_i| / max_i |librosa_i|
 * i.e. the largest deviation relative to the block's largest magnitude in that window (a block
 * mixes values of very different sizes: high mel bands are ~1e-9 of the low ones). Where the
 * reference block is all zeros (digital silence) the denominator is 1 (absolute error).
 */
#ifndef AUDIO_REF_H
#define AUDIO_REF_H

#include "audio_features.h"

#define AR_MAX_WINDOWS 64

typedef struct ar_clip {
  int n_windows;
  long start[AR_MAX_WINDOWS], end[AR_MAX_WINDOWS];
  double vec[AR_MAX_WINDOWS][CM_AUDIOFEAT_DIM];
  double tuning_stft[AR_MAX_WINDOWS], tuning_cqt[AR_MAX_WINDOWS];
  int margin_stft[AR_MAX_WINDOWS], margin_cqt[AR_MAX_WINDOWS];
  float *samples;
  long n_samples;
} ar_clip;

enum { AR_MFCC, AR_CHROMA, AR_MEL, AR_CONTRAST, AR_TONNETZ, AR_NBLOCKS };
extern const char *const ar_block_name[AR_NBLOCKS];
extern const int ar_block_start[AR_NBLOCKS], ar_block_len[AR_NBLOCKS];

/* The test data folder (CMACT_SRC/tests/data/librosa). */
const char *ar_data_dir(void);
/* Load clip NAME: samples, reference rows and diagnostics. 0 or -1 (message printed). */
int ar_load(const char *name, ar_clip *c);
void ar_free(ar_clip *c);
/* The parity measure above for block b. */
double ar_block_error(const float *ours, const double *ref, int b);
/* Read a mono WAV as float (libsndfile normalisation). */
float *ar_read_wav(const char *path, long *n, int *sr);

#endif
