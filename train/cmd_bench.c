/*
 * `cmact bench train`: training throughput of one of the study's models on synthetic data
 * (batch 128 by default, Adam, dropout on), in samples per second, with the dense layers'
 * GFLOP/s set against OpenBLAS's own sgemm peak measured in the same process, and the peak
 * resident memory, and the OpenBLAS kernel set in use (blas_core: its choice for this CPU, or
 * the OPENBLAS_CORETYPE environment variable's). scripts/bench-train.sh runs it next to the same
 * network in PyTorch.
 *
 * Output is "key: value" lines (stable, so scripts can parse them).
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "nn_arch.h"
#include "nn_optim.h"
#include "nn_rng.h"
#include "nn_threads.h"

/* sgemm GFLOP/s on square matrices of side n, best of a few runs (after a warm-up). */
static double sgemm_peak_gflops(int n) {
  float *a = cm_xmalloc(sizeof(float) * n * n), *b = cm_xmalloc(sizeof(float) * n * n),
        *c = cm_xmalloc(sizeof(float) * n * n);
  for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
  double best = 0;
  for (int r = 0; r < 4; r++) {
    int64_t t0 = cm_monotonic_ns();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    double s = (double)(cm_monotonic_ns() - t0) * 1e-9, g = 2.0 * n * n * (double)n / s * 1e-9;
    if (r > 0 && g > best) best = g;
  }
  free(a), free(b), free(c);
  return best;
}

static int bench_train(int argc, char **argv) {
  const char *model = NULL, *input = NULL;
  long steps = 10, threads = 1, batch = 128;
  const cm_opt opts[] = {
      CM_OPT_STRING("model", 0, &model),
      CM_OPT_STRING("input", 0, &input),
      CM_OPT_LONG_RANGE("steps", 0, &steps, CM_OPT_MIN, 1, 0),
      CM_OPT_LONG_IN("threads", 0, &threads, 1, 256),
      CM_OPT_LONG_IN("batch", 0, &batch, 1, 65536),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("bench", 1, "%s", cm_error());
  if (!model) return cmact_help_exit("bench", 1, "--model is required");
  openblas_set_num_threads((int)threads);
  nn_threads_set((int)threads);
  nn_model *m;
  if (strcmp(model, "video_c3d") == 0) {
    nn_video_cfg cfg = nn_video_default();
    if (input && nn_video_parse_input(&cfg, input) < 0) return cmact_help_exit("bench", 1, "%s", cm_error());
    m = nn_arch_video_c3d(&cfg, 7, 1);
  } else {
    if (input) return cmact_help_exit("bench", 1, "--input applies to video_c3d only");
    m = nn_arch_build(model, NULL, 0, 7, 1);
  }
  if (!m) return cm_fail(CM_EXIT_USAGE, "bench", "--model: %s", cm_error());

  const int B = (int)batch;
  const size_t C = nn_output_size(m);
  float *x = cm_xmalloc(sizeof(float) * m->in_size * B), *dl = cm_xmalloc(sizeof(float) * C * B);
  int32_t *labels = cm_xmalloc(sizeof(int32_t) * B);
  uint64_t key = nn_key(1, 99, 0, 0);
  for (size_t i = 0; i < m->in_size * B; i++) x[i] = 2.0f * nn_uniform(key, i) - 1.0f;
  for (int b = 0; b < B; b++) labels[b] = b % (int)C;
  nn_optimizer opt = nn_adam(1e-3f);

  double peak = sgemm_peak_gflops(1024);
  cm_progress prog;
  cm_progress_begin(&prog, "bench train", steps + 1);
  double loss = 0;
  int64_t t0 = 0;
  for (long s = 0; s <= steps; s++) {
    if (s == 1) { /* step 0 is the warm-up: buffers allocated, pages touched */
      t0 = cm_monotonic_ns();
      memset(&nn_prof, 0, sizeof nn_prof);
      nn_prof.enabled = 1;
    }
    float *z = nn_forward(m, x, B, 1);
    loss = nn_softmax_xent(z, labels, B, (int)C, dl, NULL);
    nn_backward(m, dl, NULL);
    nn_optim_step(&opt, m);
    cm_progress_step(&prog, s + 1);
  }
  double secs = (double)(cm_monotonic_ns() - t0) * 1e-9;
  cm_progress_end(&prog);
  nn_prof.enabled = 0;

  char shape[64] = "";
  size_t k = 0;
  for (int i = 0; i < m->in_ndim; i++)
    k += snprintf(shape + k, sizeof shape - k, i ? "x%d" : "%d", m->in_shape[i]);
  double dense_g = nn_prof.dense_seconds > 0 ? nn_prof.dense_flop / nn_prof.dense_seconds * 1e-9 : 0;
  printf("engine: cmact\nmodel: %s\ninput: %s\nparameters: %zu\nbatch: %d\nthreads: %ld\n"
         "steps: %ld\nseconds: %.3f\nsamples_per_s: %.4g\nfinal_loss: %.4f\n"
         "dense_gflops: %.2f\ndense_share: %.3f\nsgemm_peak_gflops: %.2f\nblas_core: %s\n"
         "peak_rss_mib: %.1f\n",
         model, shape, m->n_params, B, threads, steps, secs, (double)steps * B / secs, loss,
         dense_g, nn_prof.dense_seconds / secs, peak, openblas_get_corename(),
         cm_peak_rss_kib() / 1024.0);
  free(x), free(dl), free(labels);
  nn_model_free(m);
  return CM_EXIT_OK;
}

int cmd_bench(int argc, char **argv) {
  if (argc < 2) return cmact_help_exit("bench", 1, "which benchmark? (train)");
  if (argv[1][0] == '-')
    return cmact_help_exit("bench", 1, "unknown option '%s' (the benchmark comes first: train)", argv[1]);
  if (strcmp(argv[1], "train") == 0) return bench_train(argc - 1, argv + 1);
  return cmact_help_exit("bench", 1, "unknown benchmark '%s' (expected train)", argv[1]);
}
