/* Reference data for the audio-feature tests; see audio_ref.h. */
#include "audio_ref.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ar_block_name[AR_NBLOCKS] = {"mfcc", "chroma", "mel", "contrast", "tonnetz"};
const int ar_block_start[AR_NBLOCKS] = {CM_AUDIOFEAT_MFCC, CM_AUDIOFEAT_CHROMA, CM_AUDIOFEAT_MEL,
                                        CM_AUDIOFEAT_CONTRAST, CM_AUDIOFEAT_TONNETZ};
const int ar_block_len[AR_NBLOCKS] = {CM_AUDIOFEAT_N_MFCC, CM_AUDIOFEAT_N_CHROMA,
                                      CM_AUDIOFEAT_N_MEL, CM_AUDIOFEAT_N_CONTRAST,
                                      CM_AUDIOFEAT_N_TONNETZ};

const char *ar_data_dir(void) { return CMACT_SRC "/tests/data/librosa"; }

float *ar_read_wav(const char *path, long *n, int *sr) {
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) {
    fprintf(stderr, "cannot open %s: %s\n", path, sf_strerror(NULL));
    return NULL;
  }
  float *x = malloc(sizeof(float) * (info.frames * info.channels + 1));
  sf_count_t got = sf_readf_float(f, x, info.frames);
  sf_close(f);
  *n = (long)got;
  *sr = info.samplerate;
  return x;
}

static char *next_field(char **p) {
  char *s = *p, *e = strchr(s, ',');
  if (e) {
    *e = 0;
    *p = e + 1;
  } else {
    *p = s + strlen(s);
  }
  return s;
}

int ar_load(const char *name, ar_clip *c) {
  memset(c, 0, sizeof *c);
  char path[4096];
  int sr = 0;
  snprintf(path, sizeof path, "%s/clips/%s.wav", ar_data_dir(), name);
  c->samples = ar_read_wav(path, &c->n_samples, &sr);
  if (!c->samples) return -1;
  snprintf(path, sizeof path, "%s/ref/%s/features.csv", ar_data_dir(), name);
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  static char line[65536];
  if (!fgets(line, sizeof line, f)) return -1; /* header */
  while (fgets(line, sizeof line, f) && c->n_windows < AR_MAX_WINDOWS) {
    char *p = line;
    int w = c->n_windows++;
    next_field(&p);
    c->start[w] = atol(next_field(&p));
    c->end[w] = atol(next_field(&p));
    for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) c->vec[w][i] = strtod(next_field(&p), NULL);
  }
  fclose(f);
  snprintf(path, sizeof path, "%s/ref/%s/diagnostics.csv", ar_data_dir(), name);
  f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return -1;
  }
  if (!fgets(line, sizeof line, f)) return -1;
  int w = 0;
  while (fgets(line, sizeof line, f) && w < c->n_windows) {
    /* window,start,end,tuning_stft,n_pitches_stft,top_count_stft,margin_stft,tuning_cqt,... */
    char *p = line;
    for (int i = 0; i < 3; i++) next_field(&p);
    c->tuning_stft[w] = strtod(next_field(&p), NULL);
    next_field(&p);
    next_field(&p);
    c->margin_stft[w] = atoi(next_field(&p));
    c->tuning_cqt[w] = strtod(next_field(&p), NULL);
    next_field(&p);
    next_field(&p);
    c->margin_cqt[w] = atoi(next_field(&p));
    w++;
  }
  fclose(f);
  return 0;
}

void ar_free(ar_clip *c) { free(c->samples); }

double ar_block_error(const float *ours, const double *ref, int b) {
  double mx = 0.0, err = 0.0;
  for (int i = 0; i < ar_block_len[b]; i++) {
    int k = ar_block_start[b] + i;
    if (fabs(ref[k]) > mx) mx = fabs(ref[k]);
    double d = fabs((double)ours[k] - ref[k]);
    if (!(d <= err)) err = d; /* NaN propagates as a failure */
  }
  return err / (mx > 0.0 ? mx : 1.0);
}
