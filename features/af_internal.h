/*
 * af_internal: what the files of the audio-feature extractor share with each other (not part of
 * the public API, which is audio_features.h).
 *
 * Layout conventions, used everywhere below:
 *   - a spectrogram is stored frame-major: element (frame t, bin k) at [t * AF_BSTRIDE + k], so
 *     one frame is contiguous (what the FFT writes) and 8 neighbouring bins of one frame can be
 *     processed as one SIMD group; AF_BSTRIDE pads 1025 bins to a multiple of 8 (padding = 0);
 *   - feature blocks (mel, mfcc, chroma, CQT) are stored row-major [row][frame] like librosa's
 *     (n_features x T) arrays.
 * Precision follows librosa's: float32 data with float64 FFTs where librosa has them (the
 * reference notes, section 7, show double precision elsewhere changes nothing measurable, but
 * the discrete tuning votes need float32 inputs reproduced exactly).
 *
 * Tables that depend only on constants (mel bank, DCT, chroma banks for each of the 100
 * possible tuning estimates, CQT bases for each tuning) are built once per process behind
 * pthread_once and shared read-only by every extractor.
 */
#ifndef AF_INTERNAL_H
#define AF_INTERNAL_H

#include "cm_fftw.h"
#include <fftw3.h>
#include <stdint.h>

#define AF_SR 22050
#define AF_NFFT 2048
#define AF_HOP 512
#define AF_NBINS 1025
#define AF_BSTRIDE 1032 /* 1025 bins padded to a multiple of 8 */
#define AF_NMELS 128
#define AF_NMFCC 40
#define AF_NCHROMA 12
#define AF_NBANDS 7 /* spectral contrast: 6 octave bands + the rest */
#define AF_NTUNING 100 /* tuning estimates are histogram edges -0.50, -0.49, ..., 0.49 */

#define AF_CQT_BPO 36
#define AF_CQT_OCTAVES 7
#define AF_CQT_BINS (AF_CQT_BPO * AF_CQT_OCTAVES) /* 252 */
#define AF_CQT_NFFT 1024
#define AF_CQT_NSPEC 513

/* Hot loops are compiled twice, for AVX2 and for the x86-64 baseline, and the loader picks the
 * one the CPU runs (GCC function multiversioning); results are identical (no FMA contraction,
 * no reassociation: see features/CMakeLists.txt). */
#if defined(__x86_64__) && !defined(__clang__)
#define AF_HOT __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define AF_HOT
#endif

/* |re + i im| of a complex64 value as numpy's np.abs gives it (glibc's hypotf, which computes
 * exactly this in double and rounds once), inline so that loops over spectra vectorise. */
static inline float af_cabsf(float re, float im) {
  return (float)__builtin_sqrt((double)re * re + (double)im * im);
}

/* ---- af_fftw.c: FFTW's planner is not thread-safe; every plan is made and destroyed under
 * this one process-wide lock (executing plans needs none). */

/* ---- af_stft.c: librosa.stft / istft with n_fft 2048, hop 512, periodic Hann, centred with
 * zero padding. */
typedef struct af_stft {
  double *in;         /* AF_NFFT, fftw_malloc'd */
  fftw_complex *spec; /* AF_NBINS */
  fftw_plan r2c, c2r;
  double window[AF_NFFT];
} af_stft;
int af_stft_init(af_stft *s);
void af_stft_free(af_stft *s);
/* The periodic Hann window as scipy.signal.get_window('hann', n) computes it. */
void af_hann_periodic(int n, double *w);
/* Frames of y[0..n): complex64 STFT (re, im) and its magnitude |D| as float32 (np.abs). */
void af_stft_forward(af_stft *s, const float *y, int n, int n_frames, float *re, float *im,
                     float *mag);
/* istft(D, length=n, dtype=float32): ybuf holds AF_NFFT + AF_HOP*(n_frames-1) floats, wss the
 * window sum-square from af_window_sumsquare. */
void af_istft(af_stft *s, const float *re, const float *im, int n_frames, int n, float *ybuf,
              const float *wss, float *y);
void af_window_sumsquare(const double *window, int n_frames, float *wss);

/* ---- af_mel.c: Slaney mel filter bank (128 x 1025, sparse rows) and the mel power block. */
typedef struct af_melbank {
  int lo[AF_NMELS], hi[AF_NMELS]; /* nonzero bins of row m: [lo, hi) */
  int off[AF_NMELS];              /* row m's weights at w[off[m]] */
  float w[8 * AF_NBINS];
  double fft_freqs[AF_NBINS];     /* librosa.fft_frequencies(sr, 2048) */
} af_melbank;
const af_melbank *af_melbank_get(void);
/* power = |D|^2 (float32) -> mel[m * n_frames + t], from the bin-major |D| (af_transpose). */
void af_mel_power(const float *magT, int n_frames, int fstride, float *mel);

/* ---- af_mfcc.c: power_to_db (top_db 80 over the window) and the orthonormal DCT-II, averaged
 * over the frames: out[k] = mean over t of mfcc[k][t]. */
void af_mfcc_mean(const float *mel, int n_frames, float *db_scratch, float out[AF_NMFCC]);

/* ---- af_tuning.c: piptrack + estimate_tuning + pitch_tuning. S is a magnitude spectrogram
 * (frame-major). Returns the index j of the winning histogram bin (tuning = af_tuning_value(j)),
 * 50 (tuning 0.0) when there is no pitch at all; scratch holds n_frames * AF_NBINS floats twice. */
int af_estimate_tuning(const float *S, int n_frames, int bins_per_octave, float *scratch_pitch,
                       float *scratch_mag, int *n_pitches);
double af_tuning_value(int j);

/* ---- af_chroma.c: chroma_stft(S=|D|) with the filter bank of tuning index j. */
void af_chroma_stft(const float *mag, int n_frames, int tuning_index, float *chroma);
void af_chroma_tables_init(void);

/* ---- af_contrast.c: spectral_contrast(S=|D|), its mean over frames, from the bin-major |D|
 * (magT[k * fstride + t], af_transpose). scratch: 2 * 7 * fstride doubles. */
void af_contrast_mean(const float *magT, int n_frames, int fstride, double *scratch,
                      double out[AF_NBANDS]);

/* ---- af_stft.c: frame-major spectrogram -> bin-major copy (fstride = n_frames rounded up to 8,
 * padding frames set to 0). */
void af_transpose(const float *mag, int n_frames, int fstride, float *magT);

/* ---- af_median.c: scipy.ndimage.median_filter(size=31, mode='reflect') along one axis, 8
 * independent sequences (lanes) at a time. Element (position p, lane l) is at
 * x[p * stride + l]; len positions. */
void af_median31_x8(const float *x, long stride, int len, float *out, long out_stride);
/* The same for `lanes` (a multiple of 8) neighbouring lanes: 16 at a time where the CPU has
 * AVX-512, the rest 8 at a time. */
void af_median31(const float *x, long stride, int len, int lanes, float *out, long out_stride);

/* ---- af_hpss.c: the harmonic part of the STFT (hpss(kernel 31, power 2, margin 1)[0]). */
typedef struct af_hpss_ws {
  float *harm;  /* n_frames * AF_BSTRIDE: time medians */
  float *percT; /* AF_NBINS * fstride: frequency medians, bin-major */
  float *pcol;  /* 8 * AF_BSTRIDE: eight frames' frequency medians */
  int fstride;  /* n_frames rounded up to a multiple of 8 */
} af_hpss_ws;
void af_hpss_harmonic(af_hpss_ws *ws, const float *re, const float *im, const float *mag,
                      const float *magT, int n_frames, float *re_h, float *im_h);

/* ---- af_resample.c: resampy kaiser_fast 2 -> 1 with librosa's scale=True. Returns the output
 * length ceil(n / 2). scratch: AF_RESAMPLE_SCRATCH(n) floats. */
#define AF_RESAMPLE_SCRATCH(n) ((n) + 4 * 24 + 4)
int af_resample_half(const float *x, int n, float *y, float *scratch);

/* ---- af_cqt.c: |cqt(y, sr=22050, hop 512, fmin=C1, 252 bins, 36 per octave)| for a tuning
 * index (36 bins per octave). */
typedef struct af_cqt_ws {
  int n, n_frames;                     /* input length, frames (min over octaves) */
  int fstride;                         /* n_frames rounded up to a multiple of 8 */
  float *sre, *sim;                    /* one octave's STFT, [bin][frame] */
  float *acc_re, *acc_im;              /* fstride each */
  int len[AF_CQT_OCTAVES];             /* signal length at each octave */
  float *y[2];                         /* ping-pong resampling buffers, n/2 + 2 floats each */
  float *rs_scratch;                   /* AF_RESAMPLE_SCRATCH(n) */
  float *padded;                       /* one octave's signal with the centring zeros */
  float *in;                           /* AF_CQT_NFFT, fftwf_malloc'd */
  fftwf_complex *spec;                 /* AF_CQT_NSPEC */
  fftwf_plan r2c;
} af_cqt_ws;
int af_cqt_ws_init(af_cqt_ws *ws, int n);
void af_cqt_ws_free(af_cqt_ws *ws);
void af_cqt_tables_init(void);
/* C[k * n_frames + t], k = 0 (C1 tuned) .. 251; n_frames = ws->n_frames. */
void af_cqt_mag(af_cqt_ws *ws, const float *y, int tuning_index, float *C);

/* ---- af_tonnetz.c: chroma_cqt (cq_to_chroma, inf-norm) and tonnetz, mean over frames. */
void af_tonnetz_mean(const float *C, int n_frames, double out[6]);

#endif
