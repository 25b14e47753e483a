/*
 * The audio features' defined behaviour at the edges (audio_features.h): digital silence, DC,
 * clipping and samples beyond [-1, 1], NaN/inf windows, too-short windows and files; plus
 * determinism and use from several threads with one extractor each, and the command line.
 * (Parity with librosa on the reference clips, which include silence/DC/clipped-sine windows, is
 * test_audio_parity.)
 */
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_ref.h"
#include "cm_util.h"
#include "testutil.h"

#define N 44100

static float *sine(double amp, double hz, int n) {
  float *x = malloc(sizeof(float) * n);
  for (int i = 0; i < n; i++) x[i] = (float)(amp * sin(2 * M_PI * hz * i / 22050.0));
  return x;
}

static void test_silence(void **state) {
  cm_audiofeat *ex = cm_audiofeat_create(22050, N);
  assert_non_null(ex);
  float *x = calloc(N, sizeof(float));
  float v[CM_AUDIOFEAT_DIM];
  assert_int_equal(cm_audiofeat_compute(ex, x, v), CM_AUDIOFEAT_OK);
  /* librosa: every mel value is -100 dB, so mfcc_00 = -100 * sqrt(128), the rest exactly 0 */
  assert_true(fabs(v[0] - (-100.0 * sqrt(128.0))) < 1e-3);
  for (int i = 1; i < CM_AUDIOFEAT_DIM; i++) {
    if (v[i] != 0.0f) fail_msg("silence: %s = %g, expected exactly 0", cm_audiofeat_column_name(i), v[i]);
  }
  cm_audiofeat_diag d;
  cm_audiofeat_last_diag(ex, &d);
  assert_true(d.tuning_stft == 0.0 && d.tuning_cqt == 0.0);
  assert_int_equal(d.n_pitches_stft, 0);
  assert_int_equal(d.n_pitches_cqt, 0);
  free(x);
  cm_audiofeat_destroy(ex);
}

/* DC: linear in power (mel scales by a^2) and a shift of every dB value by 20 log10(a), so only
 * mfcc_00 moves (by that shift times sqrt(128)); the reference clip's DC windows are checked
 * against librosa in test_audio_parity. */
static void test_dc(void **state) {
  cm_audiofeat *ex = cm_audiofeat_create(22050, N);
  float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N);
  for (int i = 0; i < N; i++) {
    a[i] = 0.25f;
    b[i] = 0.5f;
  }
  float va[CM_AUDIOFEAT_DIM], vb[CM_AUDIOFEAT_DIM];
  assert_int_equal(cm_audiofeat_compute(ex, a, va), CM_AUDIOFEAT_OK);
  assert_int_equal(cm_audiofeat_compute(ex, b, vb), CM_AUDIOFEAT_OK);
  for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) assert_true(isfinite(va[i]) && isfinite(vb[i]));
  for (int m = 0; m < CM_AUDIOFEAT_N_MEL; m++) {
    double x = va[CM_AUDIOFEAT_MEL + m], y = vb[CM_AUDIOFEAT_MEL + m];
    if (y != 0.0) assert_true(fabs(y / x - 4.0) < 1e-4);
  }
  double shift = 10.0 * log10(4.0) * sqrt(128.0);
  assert_true(fabs((vb[0] - va[0]) - shift) < 1e-2);
  for (int k = 1; k < CM_AUDIOFEAT_N_MFCC; k++) assert_true(fabs(vb[k] - va[k]) < 1e-3);
  /* DC has most of its energy in the lowest mel band */
  for (int m = 1; m < CM_AUDIOFEAT_N_MEL; m++)
    assert_true(vb[CM_AUDIOFEAT_MEL] > vb[CM_AUDIOFEAT_MEL + m]);
  free(a);
  free(b);
  cm_audiofeat_destroy(ex);
}

/* Samples beyond [-1, 1] are used as they are, as librosa does (no clamping): a sine of
 * amplitude 2 gives 4x the mel power of amplitude 1. A hard-clipped sine gives finite values and
 * odd harmonics (the mel band of 3 x 440 Hz gains energy). */
static void test_clipping(void **state) {
  cm_audiofeat *ex = cm_audiofeat_create(22050, N);
  float *s1 = sine(1.0, 440.0, N), *s2 = sine(2.0, 440.0, N), *s3 = sine(3.0, 440.0, N);
  for (int i = 0; i < N; i++) s3[i] = s3[i] > 1.0f ? 1.0f : s3[i] < -1.0f ? -1.0f : s3[i];
  float v1[CM_AUDIOFEAT_DIM], v2[CM_AUDIOFEAT_DIM], v3[CM_AUDIOFEAT_DIM];
  assert_int_equal(cm_audiofeat_compute(ex, s1, v1), CM_AUDIOFEAT_OK);
  assert_int_equal(cm_audiofeat_compute(ex, s2, v2), CM_AUDIOFEAT_OK);
  assert_int_equal(cm_audiofeat_compute(ex, s3, v3), CM_AUDIOFEAT_OK);
  double top = 0;
  for (int m = 0; m < CM_AUDIOFEAT_N_MEL; m++)
    if (v1[CM_AUDIOFEAT_MEL + m] > top) top = v1[CM_AUDIOFEAT_MEL + m];
  for (int m = 0; m < CM_AUDIOFEAT_N_MEL; m++) {
    double x = v1[CM_AUDIOFEAT_MEL + m], y = v2[CM_AUDIOFEAT_MEL + m];
    assert_true(fabs(y - 4.0 * x) <= 1e-5 * 4.0 * top);
  }
  for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) assert_true(isfinite(v3[i]));
  /* clipping adds odd harmonics: the mel bands well above the fundamental's gain energy */
  int m0 = 0;
  for (int m = 1; m < CM_AUDIOFEAT_N_MEL; m++)
    if (v1[CM_AUDIOFEAT_MEL + m] > v1[CM_AUDIOFEAT_MEL + m0]) m0 = m;
  double h1 = 0, h3 = 0;
  for (int m = m0 + 8; m < CM_AUDIOFEAT_N_MEL; m++) {
    h1 += v1[CM_AUDIOFEAT_MEL + m];
    h3 += v3[CM_AUDIOFEAT_MEL + m];
  }
  assert_true(h3 > 100.0 * h1);
  /* chroma of A440, clipped or not: A (chroma_09) is the loudest pitch class */
  for (int c = 0; c < 12; c++) {
    if (c == 9) continue;
    assert_true(v1[CM_AUDIOFEAT_CHROMA + 9] > v1[CM_AUDIOFEAT_CHROMA + c]);
    assert_true(v3[CM_AUDIOFEAT_CHROMA + 9] > v3[CM_AUDIOFEAT_CHROMA + c]);
  }
  free(s1);
  free(s2);
  free(s3);
  cm_audiofeat_destroy(ex);
}

static void test_nonfinite(void **state) {
  cm_audiofeat *ex = cm_audiofeat_create(22050, N);
  float *x = sine(0.3, 300.0, N);
  float ref[CM_AUDIOFEAT_DIM], v[CM_AUDIOFEAT_DIM];
  assert_int_equal(cm_audiofeat_compute(ex, x, ref), CM_AUDIOFEAT_OK);
  const float bad[3] = {NAN, INFINITY, -INFINITY};
  for (int b = 0; b < 3; b++) {
    float keep = x[1000];
    x[1000] = bad[b];
    assert_int_equal(cm_audiofeat_compute(ex, x, v), CM_AUDIOFEAT_NONFINITE);
    for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) assert_true(isnan(v[i]));
    assert_non_null(strstr(cm_error(), "sample 1000"));
    x[1000] = keep;
  }
  /* the extractor is unharmed: the same window gives the same vector again */
  assert_int_equal(cm_audiofeat_compute(ex, x, v), CM_AUDIOFEAT_OK);
  assert_memory_equal(v, ref, sizeof ref);
  free(x);
  cm_audiofeat_destroy(ex);
}

static void test_too_short(void **state) {
  assert_null(cm_audiofeat_create(22050, CM_AUDIOFEAT_MIN_WINDOW - 1));
  assert_non_null(strstr(cm_error(), "window of 2047 samples"));
  assert_null(cm_audiofeat_create(44100, N));
  assert_non_null(strstr(cm_error(), "44100"));
  /* the shortest window works and gives finite values (frames: 1 + 2048/512 = 5) */
  cm_audiofeat *ex = cm_audiofeat_create(22050, CM_AUDIOFEAT_MIN_WINDOW);
  assert_non_null(ex);
  float *x = sine(0.5, 440.0, CM_AUDIOFEAT_MIN_WINDOW);
  float v[CM_AUDIOFEAT_DIM];
  assert_int_equal(cm_audiofeat_compute(ex, x, v), CM_AUDIOFEAT_OK);
  for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) assert_true(isfinite(v[i]));
  free(x);
  cm_audiofeat_destroy(ex);
}

/* Several threads, one extractor each, give bit-identical vectors to one thread alone. */
typedef struct job {
  const float *y;
  long n_windows;
  float (*out)[CM_AUDIOFEAT_DIM];
} job;

static void *run_job(void *arg) {
  job *j = arg;
  cm_audiofeat *ex = cm_audiofeat_create(22050, N);
  if (!ex) return NULL;
  for (long w = 0; w < j->n_windows; w++) cm_audiofeat_compute(ex, j->y + w * 8820, j->out[w]);
  cm_audiofeat_destroy(ex);
  return arg;
}

static void test_threads(void **state) {
  ar_clip c;
  assert_int_equal(ar_load("tones_alarm_clock", &c), 0);
  long nw = c.n_windows < 6 ? c.n_windows : 6;
  enum { T = 3 };
  float(*out)[CM_AUDIOFEAT_DIM] = malloc(sizeof(float) * CM_AUDIOFEAT_DIM * nw * (T + 1));
  job seq = {c.samples, nw, out};
  assert_non_null(run_job(&seq));
  pthread_t th[T];
  job jobs[T];
  for (int t = 0; t < T; t++) {
    jobs[t] = (job){c.samples, nw, out + nw * (t + 1)};
    assert_int_equal(pthread_create(&th[t], NULL, run_job, &jobs[t]), 0);
  }
  for (int t = 0; t < T; t++) {
    void *r;
    pthread_join(th[t], &r);
    assert_non_null(r);
  }
  for (int t = 0; t < T; t++)
    assert_memory_equal(out, out + nw * (t + 1), sizeof(float) * CM_AUDIOFEAT_DIM * nw);
  free(out);
  ar_free(&c);
}

static int write_wav(const char *path, int sr, int channels, const float *x, long frames) {
  SF_INFO info = {.samplerate = sr, .channels = channels, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
  SNDFILE *f = sf_open(path, SFM_WRITE, &info);
  if (!f) return -1;
  sf_writef_float(f, x, frames);
  sf_close(f);
  return 0;
}

static void test_cli(void **state) {
  char *dir = tu_mkdtemp("features");
  char out[8192];
  /* shorter than one window: header only, exit 0 */
  float *x = sine(0.5, 440.0, 22050);
  assert_int_equal(write_wav(tu_path(dir, "short.wav"), 22050, 1, x, 22050), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features audio --csv %s/short.csv %s/short.wav",
                          dir, dir), 0);
  assert_non_null(strstr(out, "no windows"));
  char *csv = tu_read_file(tu_path(dir, "short.csv"), NULL);
  assert_non_null(csv);
  assert_int_equal(strchr(csv, '\n') - csv + 1, (long)strlen(csv)); /* one line */
  assert_true(strncmp(csv, "window,start,end,mfcc_00,", 25) == 0);
  free(csv);
  /* another sample rate: one line, exit 1 */
  assert_int_equal(write_wav(tu_path(dir, "44k.wav"), 44100, 1, x, 22050), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features audio %s/44k.wav", dir), 1);
  assert_non_null(strstr(out, "sample rate 44100 Hz"));
  assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
  /* missing file, usage errors */
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features audio %s/none.wav", dir), 1);
  assert_non_null(strstr(out, "none.wav"));
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features audio"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features audio --bogus x.wav"), 2);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features nothing"), 2);
  /* stereo: channels are averaged (librosa.to_mono), so L = R = x gives x's vector */
  float *st = malloc(sizeof(float) * 2 * 66150);
  float *mono = sine(0.5, 523.25, 66150);
  for (long i = 0; i < 66150; i++) st[2 * i] = st[2 * i + 1] = mono[i];
  assert_int_equal(write_wav(tu_path(dir, "st.wav"), 22050, 2, st, 66150), 0);
  assert_int_equal(write_wav(tu_path(dir, "mono.wav"), 22050, 1, mono, 66150), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features audio --csv %s/st.csv %s/st.wav && "
                          "$CMACT features audio %s/mono.wav > %s/mono.csv", dir, dir, dir, dir), 0);
  assert_true(tu_files_equal(tu_path(dir, "st.csv"), tu_path(dir, "mono.csv")));
  /* a reference clip through the command line: same windows as librosa's features.csv */
  ar_clip c;
  assert_int_equal(ar_load("speech_apollo11", &c), 0);
  assert_int_equal(tu_run(out, sizeof out, "$CMACT features audio --csv %s/speech.csv "
                          "%s/clips/speech_apollo11.wav", dir, ar_data_dir()), 0);
  FILE *f = fopen(tu_path(dir, "speech.csv"), "r");
  static char line[65536];
  assert_non_null(fgets(line, sizeof line, f));
  int w = 0;
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    long win = strtol(p, &p, 10), s = strtol(p + 1, &p, 10), e = strtol(p + 1, &p, 10);
    assert_int_equal(win, w);
    assert_int_equal(s, c.start[w]);
    assert_int_equal(e, c.end[w]);
    float v[CM_AUDIOFEAT_DIM];
    for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) v[i] = strtof(p + 1, &p);
    assert_true(ar_block_error(v, c.vec[w], AR_MFCC) < 1e-4);
    assert_true(ar_block_error(v, c.vec[w], AR_TONNETZ) < 1e-2);
    w++;
  }
  fclose(f);
  assert_int_equal(w, c.n_windows);
  ar_free(&c);
  free(x);
  free(st);
  free(mono);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_silence),  cmocka_unit_test(test_dc),
      cmocka_unit_test(test_clipping), cmocka_unit_test(test_nonfinite),
      cmocka_unit_test(test_too_short), cmocka_unit_test(test_threads),
      cmocka_unit_test(test_cli),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
