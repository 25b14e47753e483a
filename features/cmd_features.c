/*
 * `cmact features`: the audio 193-vector of a WAV file's windows, and its benchmark.
 *
 *   cmact features audio [--csv OUT.csv] FILE.wav
 *     Reads FILE with libsndfile (float samples, libsndfile's normalisation: int16 / 32768, as
 *     librosa.load does through soundfile), averages channels to mono as librosa does (float32
 *     mean), and cuts the study's windows: start = 0, end = start + 44100; while end <= length;
 *     start += 8820 (2 s, hop 0.4 s at 22050 Hz). Writes one CSV row per window in the column
 *     layout of the librosa reference features.csv (window,start,end, then mfcc_00 ... tonnetz_5,
 *     printed %.9g): to OUT.csv (written atomically) with a one-line summary on stdout, or to
 *     stdout when --csv is not given. A file shorter than one window has no windows: the CSV
 *     holds the header only and the summary says so. Files not at 22050 Hz are refused (the
 *     study resampled with resampy's kaiser_best, which cmact does not reproduce).
 *
 *   cmact features bench [--seconds S] [FILE.wav]
 *     Computes windows on one core for about S seconds of CPU time (default 3) and prints the
 *     time per window (thread CPU time and wall time), windows per second and the ratio to
 *     librosa's 152.9 ms per window measured on this machine kind with one thread
 *     (tests/data/librosa/timing_librosa_1t.json). Without FILE it uses a fixed synthetic
 *     signal (tones, noise and clicks).
 */
#include <stdarg.h>
#include <stdint.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio_features.h"
#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"

#define WINDOW 44100
#define HOP 8820
#define LIBROSA_MS_PER_WINDOW 152.9 /* timing_librosa_1t.json: "full" median, one thread */

/* Mono float samples of a WAV (or any libsndfile format). NULL with the error line set. */
static float *read_mono(const char *path, long *n_out) {
  SF_INFO info;
  memset(&info, 0, sizeof info);
  SNDFILE *f = sf_open(path, SFM_READ, &info);
  if (!f) {
    cm_set_error("%s: cannot read as audio: %s", path, sf_strerror(NULL));
    return NULL;
  }
  if (info.samplerate != CM_AUDIOFEAT_SAMPLE_RATE) {
    sf_close(f);
    cm_set_error("%s: sample rate %d Hz; the audio features are defined at %d Hz (resample "
                 "first, e.g. sox IN -r 22050 OUT.wav)", path, info.samplerate,
                 CM_AUDIOFEAT_SAMPLE_RATE);
    return NULL;
  }
  if (info.frames < 0 || info.frames > (sf_count_t)1 << 32 || info.channels < 1) {
    sf_close(f);
    cm_set_error("%s: unsupported length or channel count", path);
    return NULL;
  }
  long n = (long)info.frames;
  int ch = info.channels;
  float *inter = cm_xmalloc(sizeof(float) * ((size_t)n * ch + 1));
  sf_count_t got = sf_readf_float(f, inter, n);
  sf_close(f);
  if (got < 0) got = 0;
  n = (long)got;
  float *mono = cm_xmalloc(sizeof(float) * ((size_t)n + 1));
  for (long i = 0; i < n; i++) {
    float acc = 0.0f; /* librosa.to_mono: np.mean over channels in float32 */
    for (int c = 0; c < ch; c++) acc += inter[(size_t)i * ch + c];
    mono[i] = ch == 1 ? acc : acc / (float)ch;
  }
  free(inter);
  *n_out = n;
  return mono;
}

typedef struct buf {
  char *p;
  size_t n, cap;
} buf;

static void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(buf *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (k >= 0 && (size_t)k < b->cap - b->n) {
      b->n += (size_t)k;
      return;
    }
    b->cap = b->cap * 2 + (size_t)(k > 0 ? k : 0) + 4096;
    b->p = cm_xrealloc(b->p, b->cap);
  }
}

static int features_audio(int argc, char **argv) {
  const char *csv = NULL;
  const cm_opt opts[] = {CM_OPT_STRING("csv", 0, &csv), CM_OPT_END};
  int npos = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY);
  if (npos < 0) return cmact_help_exit("features", 1, "%s", cm_error());
  if (npos != 1) return cmact_help_exit("features", 1, "give exactly one audio FILE");
  const char *path = argv[1];
  long n = 0;
  float *y = read_mono(path, &n);
  if (!y) return cm_fail_error("features");
  cm_audiofeat *ex = cm_audiofeat_create(CM_AUDIOFEAT_SAMPLE_RATE, WINDOW);
  if (!ex) {
    free(y);
    return cm_fail_error("features");
  }
  long n_windows = n >= WINDOW ? (n - WINDOW) / HOP + 1 : 0;
  buf out = {cm_xmalloc(65536), 0, 65536};
  buf_printf(&out, "window,start,end");
  for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) buf_printf(&out, ",%s", cm_audiofeat_column_name(i));
  buf_printf(&out, "\n");
  cm_progress prog;
  cm_progress_begin(&prog, "windows", n_windows);
  double cpu0 = cm_cpu_seconds();
  int rc = CM_EXIT_OK;
  long w = 0;
  for (long start = 0, end = WINDOW; end <= n; start += HOP, end = start + WINDOW, w++) {
    float v[CM_AUDIOFEAT_DIM];
    if (cm_audiofeat_compute(ex, y + start, v) != CM_AUDIOFEAT_OK) {
      rc = cm_fail(CM_EXIT_FAIL, "features", "%s: window %ld (samples %ld..%ld): %s", path, w,
                   start, end, cm_error());
      break;
    }
    buf_printf(&out, "%ld,%ld,%ld", w, start, end);
    for (int i = 0; i < CM_AUDIOFEAT_DIM; i++) buf_printf(&out, ",%.9g", (double)v[i]);
    buf_printf(&out, "\n");
    cm_progress_step(&prog, w + 1);
  }
  cm_progress_end(&prog);
  double cpu = cm_cpu_seconds() - cpu0;
  if (rc == CM_EXIT_OK) {
    if (!csv) {
      if (fwrite(out.p, 1, out.n, stdout) != out.n || fflush(stdout) != 0)
        rc = cm_fail(CM_EXIT_FAIL, "features", "cannot write to stdout");
    } else if (cm_write_file_atomic(csv, out.p, out.n) < 0) {
      rc = cm_fail_error("features");
    } else if (n_windows == 0) {
      printf("%s: %.2f s of audio, shorter than one 2-s window: no windows; %s has the header "
             "only\n", path, n / (double)CM_AUDIOFEAT_SAMPLE_RATE, csv);
    } else {
      printf("%s: %ld windows (2 s, hop 0.4 s) -> %s  (%.2f ms per window)\n", path, n_windows,
             csv, cpu * 1e3 / (double)n_windows);
    }
  }
  free(out.p);
  free(y);
  cm_audiofeat_destroy(ex);
  return rc;
}

static double thread_cpu_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A fixed test signal: two tones with harmonics, noise and a click every 0.5 s. */
static float *synthetic(long n) {
  float *y = cm_xmalloc(sizeof(float) * (size_t)n);
  uint32_t s = 12345;
  for (long i = 0; i < n; i++) {
    double t = i / (double)CM_AUDIOFEAT_SAMPLE_RATE;
    s = s * 1664525u + 1013904223u;
    double noise = ((s >> 8) / 16777216.0 - 0.5) * 0.05;
    double v = 0.2 * sin(2 * M_PI * 220.0 * t) + 0.1 * sin(2 * M_PI * 440.0 * t) +
               0.08 * sin(2 * M_PI * 329.6 * t) + noise;
    if (i % 11025 < 64) v += 0.5 * exp(-(i % 11025) / 8.0);
    y[i] = (float)v;
  }
  return y;
}

static int features_bench(int argc, char **argv) {
  double seconds = 3.0;
  const cm_opt opts[] = {
      CM_OPT_DOUBLE_RANGE("seconds", 0, &seconds, CM_OPT_MIN | CM_OPT_MIN_OPEN | CM_OPT_MAX, 0, 3600),
      CM_OPT_END,
  };
  int npos = cm_opts_parse(opts, argc, argv, CM_OPTS_ANY);
  if (npos < 0) return cmact_help_exit("features", 1, "%s", cm_error());
  if (npos > 1) return cmact_help_exit("features", 1, "give at most one audio FILE");
  const char *path = npos ? argv[1] : NULL;
  long n = 0;
  float *y;
  if (path) {
    y = read_mono(path, &n);
    if (!y) return cm_fail_error("features");
    if (n < WINDOW) {
      free(y);
      return cm_fail(CM_EXIT_FAIL, "features", "%s: shorter than one 2-s window", path);
    }
  } else {
    n = 10L * CM_AUDIOFEAT_SAMPLE_RATE;
    y = synthetic(n);
  }
  long n_windows = (n - WINDOW) / HOP + 1;
  double t0 = thread_cpu_s();
  cm_audiofeat *ex = cm_audiofeat_create(CM_AUDIOFEAT_SAMPLE_RATE, WINDOW);
  double create_s = thread_cpu_s() - t0;
  if (!ex) {
    free(y);
    return cm_fail_error("features");
  }
  float v[CM_AUDIOFEAT_DIM];
  cm_audiofeat_compute(ex, y, v); /* warm caches */
  size_t cap = 1024, k = 0;
  double *cpu = cm_xmalloc(sizeof(double) * cap);
  double total_cpu = 0.0;
  int64_t wall0 = cm_monotonic_ns();
  while (total_cpu < seconds || k < 10) {
    long w = (long)(k % (size_t)n_windows);
    double a = thread_cpu_s();
    cm_audiofeat_compute(ex, y + w * HOP, v);
    double d = thread_cpu_s() - a;
    if (k == cap) cpu = cm_xrealloc(cpu, sizeof(double) * (cap *= 2));
    cpu[k++] = d;
    total_cpu += d;
  }
  double wall = (cm_monotonic_ns() - wall0) * 1e-9;
  qsort(cpu, k, sizeof(double), cmp_double);
  double median = cpu[k / 2], p10 = cpu[k / 10], p90 = cpu[(k * 9) / 10];
  printf("audio 193-vector, one core, %s: %zu windows\n", path ? path : "synthetic signal", k);
  printf("  per window (thread CPU time): median %.3f ms, min %.3f ms, p10 %.3f ms, p90 %.3f ms\n",
         median * 1e3, cpu[0] * 1e3, p10 * 1e3, p90 * 1e3);
  printf("  per window (wall time, mean): %.3f ms\n", wall * 1e3 / (double)k);
  printf("  windows per second (median):  %.1f\n", 1.0 / median);
  printf("  extractor creation:           %.1f ms (shared tables, once per process)\n",
         create_s * 1e3);
  printf("  librosa 0.9.2, one thread:    %.1f ms per window (timing_librosa_1t.json)\n",
         LIBROSA_MS_PER_WINDOW);
  printf("  speed-up over librosa:        %.1fx (median; target >= 50x = <= %.2f ms)\n",
         LIBROSA_MS_PER_WINDOW / (median * 1e3), LIBROSA_MS_PER_WINDOW / 50.0);
  free(cpu);
  free(y);
  cm_audiofeat_destroy(ex);
  return CM_EXIT_OK;
}

int cmd_features(int argc, char **argv) {
  if (argc < 2) return cmact_help_exit("features", 1, "give a subcommand: audio or bench");
  if (argv[1][0] == '-')
    return cmact_help_exit("features", 1, "unknown option '%s' (the subcommand comes first: audio or bench)", argv[1]);
  if (strcmp(argv[1], "audio") == 0) return features_audio(argc - 1, argv + 1);
  if (strcmp(argv[1], "bench") == 0) return features_bench(argc - 1, argv + 1);
  return cmact_help_exit("features", 1, "unknown subcommand '%s' (audio or bench)", argv[1]);
}
