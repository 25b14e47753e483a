/*
 * audio_features: the RecycleML audio 193-vector, computed as librosa 0.9.2 computes it.
 *
 * Per window of mono audio at 22050 Hz (2 s = 44100 samples in the study), the vector is the
 * mean over STFT frames of
 *     out[  0.. 39]  40 MFCC              (librosa.feature.mfcc, n_mfcc=40)
 *     out[ 40.. 51]  12 chroma_stft        (S = |STFT| magnitude, its own tuning estimate; 0 = C)
 *     out[ 52..179] 128 mel power          (librosa.feature.melspectrogram, Slaney)
 *     out[180..186]   7 spectral contrast  (S = |STFT| magnitude)
 *     out[187..192]   6 tonnetz            (of librosa.effects.harmonic(y): HPSS, CQT chroma)
 * in the order and with the choices documented step by step in the reference notes the
 * project's tests were built from (docs/design.md, "Audio features").
 *
 * Use: create one extractor per thread, then call cm_audiofeat_compute for every window. The
 * extractor owns every buffer compute needs, so compute never allocates; extractors share only
 * read-only tables (filter banks for every possible tuning estimate), built once per process.
 *
 * Defined behaviour at the edges (tested in tests/features/):
 *   - digital silence (all zeros): mfcc_00 = -100*sqrt(128) = -1131.3708, every other value 0,
 *     as librosa gives (both tuning estimates find no pitch and fall back to 0.0);
 *   - DC and clipped windows: computed like any other window (librosa does not clamp: samples
 *     beyond [-1, 1] are used as they are);
 *   - finite samples so large that their power overflows float32 (|x| beyond ~1e15) give
 *     non-finite outputs, as librosa's float32 arithmetic does; int16-range input never does;
 *   - a window holding any NaN or infinity: compute returns CM_AUDIOFEAT_NONFINITE, fills all
 *     193 outputs with NaN (so an ignored return value cannot pass for data) and sets the
 *     thread's error line (librosa raises on such input);
 *   - too-short input: windows shorter than CM_AUDIOFEAT_MIN_WINDOW samples are refused by
 *     cm_audiofeat_create; a file shorter than one window has no windows (the study's loop
 *     `while end <= len` never runs).
 */
#ifndef CM_AUDIO_FEATURES_H
#define CM_AUDIO_FEATURES_H

#define CM_AUDIOFEAT_DIM 193
#define CM_AUDIOFEAT_SAMPLE_RATE 22050
#define CM_AUDIOFEAT_MIN_WINDOW 2048     /* one full STFT frame */
#define CM_AUDIOFEAT_MAX_WINDOW 2646000  /* 120 s at 22050 Hz */

/* Offsets of the blocks inside the 193-vector. */
enum {
  CM_AUDIOFEAT_MFCC = 0,       CM_AUDIOFEAT_N_MFCC = 40,
  CM_AUDIOFEAT_CHROMA = 40,    CM_AUDIOFEAT_N_CHROMA = 12,
  CM_AUDIOFEAT_MEL = 52,       CM_AUDIOFEAT_N_MEL = 128,
  CM_AUDIOFEAT_CONTRAST = 180, CM_AUDIOFEAT_N_CONTRAST = 7,
  CM_AUDIOFEAT_TONNETZ = 187,  CM_AUDIOFEAT_N_TONNETZ = 6,
};

/* Return values of cm_audiofeat_compute. */
enum { CM_AUDIOFEAT_OK = 0, CM_AUDIOFEAT_NONFINITE = -1 };

typedef struct cm_audiofeat cm_audiofeat;

/* What the last compute decided on the way, for diagnostics and tests: the two tuning
 * estimates (fractions of a bin, librosa's histogram left edges) and how many pitches voted. */
typedef struct cm_audiofeat_diag {
  double tuning_stft;  /* chroma_stft's estimate, 12 bins per octave */
  double tuning_cqt;   /* the CQT's estimate inside tonnetz, 36 bins per octave */
  int n_pitches_stft, n_pitches_cqt;
} cm_audiofeat_diag;

/* An extractor for windows of window_samples samples at sample_rate Hz. Only 22050 Hz is
 * supported (the vector is defined there; resample first). NULL with the error line set
 * (cm_error) on a bad argument. Safe to call from several threads. */
cm_audiofeat *cm_audiofeat_create(int sample_rate, int window_samples);
void cm_audiofeat_destroy(cm_audiofeat *ex);
int cm_audiofeat_window_samples(const cm_audiofeat *ex);

/* The 193-vector of one window of window_samples float samples (libsndfile's normalisation:
 * int16 / 32768). CM_AUDIOFEAT_OK, or CM_AUDIOFEAT_NONFINITE (see above). No allocation; one
 * extractor must not be used by two threads at once. */
int cm_audiofeat_compute(cm_audiofeat *ex, const float *window, float out[CM_AUDIOFEAT_DIM]);

/* The decisions of the last successful compute on this extractor. */
void cm_audiofeat_last_diag(const cm_audiofeat *ex, cm_audiofeat_diag *diag);

/* The column name of element i of the vector ("mfcc_00" ... "tonnetz_5"), as in the reference
 * features.csv. */
const char *cm_audiofeat_column_name(int i);

#endif
