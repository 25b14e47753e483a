/*
 * `cmact simulate-probe`: is the simulated world neither trivial nor noise?
 *
 * Until the teacher networks can be trained, this is the difficulty check of issue 3: cut
 * sessions of the cmactivity preset into 2 s windows, describe each window per modality by
 * plain statistics, and classify the activity with two simple probes trained on 80% of the
 * sessions and tested on the other 20% (split by session, as the study splits):
 *   - nearest centroid on standardised features,
 *   - multinomial logistic regression (full-batch gradient descent, L2).
 * Features per window:
 *   video  motion energy (mean absolute frame difference) in a 4x4 grid, its overall mean and
 *          its standard deviation over time, and mean brightness (19);
 *   audio  mean and standard deviation of log energy in 16 log-spaced bands (32);
 *   IMU    mean, standard deviation, minimum and maximum of each of the 12 channels (48).
 * A probe near 100% would mean a modality gives the class away; near chance (1/7) that it
 * carries nothing. The sensors' outputs come from the same generators as the session files
 * (video before H.264 coding, IMU at its nominal sampling instants).
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "sim.h"

enum { MOD_VIDEO, MOD_AUDIO, MOD_IMU, N_MOD };
static const char *mod_names[N_MOD] = {"video", "audio", "imu"};
static const int mod_dim[N_MOD] = {19, 32, 48};
#define MAX_WIN 64

typedef struct {
  int n_win, label, test;
  float *feat[N_MOD]; /* n_win x dim */
} session_feat;

typedef struct {
  sim_preset ps;
  uint64_t seed;
  int n;
  double window, hop;
  session_feat *out;
  atomic_int next;
  int done;
  pthread_mutex_t lock;
  cm_progress progress;
} probe_job;

static void session_features(probe_job *j, int i, session_feat *sf) {
  int idx = (int)((long)i * j->ps.n_sessions / j->n);
  sim_plan p;
  sim_plan_make(&j->ps, j->seed, idx, &p);
  sf->label = p.seg[0].activity;
  sf->test = sim_hash64(j->seed ^ 0x7E57ull, (uint64_t)idx) % 5 == 0;
  sim_body *b = sim_body_new(&p);
  double t0 = p.label_start_s, t1 = p.label_end_s;
  int nw = (int)floor((t1 - t0 - j->window) / j->hop) + 1;
  if (nw > MAX_WIN) nw = MAX_WIN;
  if (nw < 0) nw = 0;
  sf->n_win = nw;
  for (int m = 0; m < N_MOD; m++) sf->feat[m] = cm_xcalloc((size_t)(nw ? nw : 1) * mod_dim[m], sizeof(float));
  /* video: per-frame motion energy in a 4x4 grid */
  int W = p.camera.width, H = p.camera.height_px;
  int nf = (int)floor((t1 - t0) * p.camera.fps);
  float *mot = cm_xcalloc((size_t)nf * 17, sizeof(float)), *lum = cm_xcalloc((size_t)nf, sizeof(float));
  uint8_t *rgb = cm_xmalloc((size_t)W * H * 3), *prev = cm_xmalloc((size_t)W * H);
  sim_renderer *r = sim_renderer_new(&p);
  for (int k = 0; k < nf; k++) {
    sim_render_frame(r, b, t0 + k / p.camera.fps, k, rgb);
    double cell[16] = {0}, tot = 0, l = 0;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        const uint8_t *px = rgb + 3 * ((size_t)y * W + x);
        int g = (px[0] * 77 + px[1] * 150 + px[2] * 29) >> 8;
        l += g;
        if (k) {
          double d = abs(g - prev[y * W + x]);
          cell[(y * 4 / H) * 4 + x * 4 / W] += d;
          tot += d;
        }
        prev[y * W + x] = (uint8_t)g;
      }
    for (int c = 0; c < 16; c++) mot[k * 17 + c] = (float)(cell[c] * 16 / (W * H));
    mot[k * 17 + 16] = (float)(tot / (W * H));
    lum[k] = (float)(l / (W * H));
  }
  sim_renderer_free(r);
  for (int w = 0; w < nw; w++) {
    int a = (int)((w * j->hop) * p.camera.fps) + 1, e = (int)((w * j->hop + j->window) * p.camera.fps);
    if (e > nf) e = nf;
    float *f = sf->feat[MOD_VIDEO] + w * mod_dim[MOD_VIDEO];
    double s2 = 0, s = 0, L = 0;
    for (int k = a; k < e; k++) {
      for (int c = 0; c < 16; c++) f[c] += mot[k * 17 + c] / (e - a);
      s += mot[k * 17 + 16];
      s2 += mot[k * 17 + 16] * mot[k * 17 + 16];
      L += lum[k];
    }
    f[16] = (float)(s / (e - a));
    f[17] = (float)sqrt(fmax(0, s2 / (e - a) - f[16] * f[16]));
    f[18] = (float)(L / (e - a));
  }
  free(mot);
  free(lum);
  free(rgb);
  free(prev);
  /* audio: log band energies over 512-sample frames, hop 256 */
  {
    int rate = p.audio_rate, ns = (int)((t1 - t0) * rate);
    int16_t *x = cm_xmalloc(sizeof(int16_t) * ns);
    sim_audio *au = sim_audio_new(&p, b, t0);
    sim_audio_render(au, x, ns);
    sim_audio_free(au);
    int nfft = 512, hop = 256, nfr;
    double *power = sim_power_frames(x, ns, nfft, hop, &nfr);
    float *band = cm_xcalloc((size_t)(nfr > 0 ? nfr : 1) * 16, sizeof(float));
    for (int fr = 0; fr < nfr; fr++) {
      const double *pw = power + (size_t)fr * (nfft / 2);
      for (int bnd = 0; bnd < 16; bnd++) {
        /* log-spaced edges from 50 Hz to Nyquist */
        double lo = 50 * pow(rate / 2.0 / 50, bnd / 16.0), hi = 50 * pow(rate / 2.0 / 50, (bnd + 1) / 16.0);
        int k0 = (int)(lo * nfft / rate), k1 = (int)(hi * nfft / rate);
        if (k1 <= k0) k1 = k0 + 1;
        double e = 0;
        for (int k = k0; k < k1 && k < nfft / 2; k++) e += pw[k];
        band[fr * 16 + bnd] = (float)log10(e + 1e-10);
      }
    }
    for (int w = 0; w < nw; w++) {
      int a = (int)(w * j->hop * rate / hop), e = (int)((w * j->hop + j->window) * rate / hop);
      if (e > nfr) e = nfr;
      float *f = sf->feat[MOD_AUDIO] + w * mod_dim[MOD_AUDIO];
      for (int bnd = 0; bnd < 16; bnd++) {
        double s = 0, s2 = 0;
        for (int k = a; k < e; k++) {
          s += band[k * 16 + bnd];
          s2 += band[k * 16 + bnd] * band[k * 16 + bnd];
        }
        f[bnd] = (float)(s / (e - a));
        f[16 + bnd] = (float)sqrt(fmax(0, s2 / (e - a) - f[bnd] * f[bnd]));
      }
    }
    free(band);
    free(power);
    free(x);
  }
  /* IMU: both wrists at the nominal rate, through the sensor model */
  {
    int n = (int)((t1 - t0) * p.imu_rate);
    float *v = cm_xmalloc(sizeof(float) * 12 * n);
    sim_rng nr;
    sim_rng_seed(&nr, p.seed, 700);
    for (int k = 0; k < n; k++) {
      double ideal[2][6];
      sim_imu_ideal(b, t0 + k / p.imu_rate, 1 / p.imu_rate, ideal);
      sim_imu_apply_sensor(&p.sensor[1], ideal[1], &nr, v + 12 * k);     /* right first, */
      sim_imu_apply_sensor(&p.sensor[0], ideal[0], &nr, v + 12 * k + 6); /* as DESIGN.md */
    }
    for (int w = 0; w < nw; w++) {
      int a = (int)(w * j->hop * p.imu_rate), e = (int)((w * j->hop + j->window) * p.imu_rate);
      if (e > n) e = n;
      float *f = sf->feat[MOD_IMU] + w * mod_dim[MOD_IMU];
      for (int c = 0; c < 12; c++) {
        double s = 0, s2 = 0, mn = 1e9, mx = -1e9;
        for (int k = a; k < e; k++) {
          double x = v[12 * k + c];
          s += x;
          s2 += x * x;
          mn = fmin(mn, x);
          mx = fmax(mx, x);
        }
        f[4 * c] = (float)(s / (e - a));
        f[4 * c + 1] = (float)sqrt(fmax(0, s2 / (e - a) - f[4 * c] * f[4 * c]));
        f[4 * c + 2] = (float)mn;
        f[4 * c + 3] = (float)mx;
      }
    }
    free(v);
  }
  sim_body_free(b);
}

static void *probe_worker(void *arg) {
  probe_job *j = arg;
  for (;;) {
    int i = atomic_fetch_add(&j->next, 1);
    if (i >= j->n) break;
    session_features(j, i, &j->out[i]);
    pthread_mutex_lock(&j->lock);
    j->done++;
    cm_progress_step(&j->progress, j->done);
    pthread_mutex_unlock(&j->lock);
  }
  return NULL;
}

typedef struct { double nc, lr; int n_train, n_test; } probe_result;

static probe_result run_probes(probe_job *j, int m) {
  int d = mod_dim[m], K = SIM_N_ACTIVITIES;
  int ntr = 0, nte = 0;
  for (int i = 0; i < j->n; i++) *(j->out[i].test ? &nte : &ntr) += j->out[i].n_win;
  double *Xtr = cm_xmalloc(sizeof(double) * (size_t)(ntr ? ntr : 1) * d), *Xte = cm_xmalloc(sizeof(double) * (size_t)(nte ? nte : 1) * d);
  int *ytr = cm_xmalloc(sizeof(int) * (ntr ? ntr : 1)), *yte = cm_xmalloc(sizeof(int) * (nte ? nte : 1));
  int a = 0, b = 0;
  for (int i = 0; i < j->n; i++) {
    session_feat *s = &j->out[i];
    for (int w = 0; w < s->n_win; w++) {
      double *dst = s->test ? Xte + (size_t)b * d : Xtr + (size_t)a * d;
      for (int c = 0; c < d; c++) dst[c] = s->feat[m][w * d + c];
      if (s->test) yte[b++] = s->label;
      else ytr[a++] = s->label;
    }
  }
  probe_result res = {0, 0, ntr, nte};
  if (!ntr || !nte) return res;
  /* standardise with the training statistics */
  double *mu = cm_xcalloc(d, sizeof(double)), *sd = cm_xcalloc(d, sizeof(double));
  for (int i = 0; i < ntr; i++)
    for (int c = 0; c < d; c++) mu[c] += Xtr[(size_t)i * d + c] / ntr;
  for (int i = 0; i < ntr; i++)
    for (int c = 0; c < d; c++) sd[c] += pow(Xtr[(size_t)i * d + c] - mu[c], 2) / ntr;
  for (int c = 0; c < d; c++) sd[c] = sqrt(sd[c]) + 1e-9;
  for (int i = 0; i < ntr; i++)
    for (int c = 0; c < d; c++) Xtr[(size_t)i * d + c] = (Xtr[(size_t)i * d + c] - mu[c]) / sd[c];
  for (int i = 0; i < nte; i++)
    for (int c = 0; c < d; c++) Xte[(size_t)i * d + c] = (Xte[(size_t)i * d + c] - mu[c]) / sd[c];
  /* nearest centroid */
  double *cen = cm_xcalloc((size_t)K * d, sizeof(double));
  int cnt[SIM_N_ACTIVITIES] = {0};
  for (int i = 0; i < ntr; i++) {
    cnt[ytr[i]]++;
    for (int c = 0; c < d; c++) cen[ytr[i] * d + c] += Xtr[(size_t)i * d + c];
  }
  for (int k = 0; k < K; k++)
    for (int c = 0; c < d; c++) cen[k * d + c] /= cnt[k] ? cnt[k] : 1;
  int ok = 0;
  for (int i = 0; i < nte; i++) {
    int best = -1;
    double bd = 1e300;
    for (int k = 0; k < K; k++) {
      if (!cnt[k]) continue;
      double dd = 0;
      for (int c = 0; c < d; c++) dd += pow(Xte[(size_t)i * d + c] - cen[k * d + c], 2);
      if (dd < bd) { bd = dd; best = k; }
    }
    ok += best == yte[i];
  }
  res.nc = (double)ok / nte;
  /* logistic regression */
  double *Wt = cm_xcalloc((size_t)K * (d + 1), sizeof(double)), *G = cm_xmalloc(sizeof(double) * K * (d + 1));
  double prob[SIM_N_ACTIVITIES];
  for (int it = 0; it < 300; it++) {
    memset(G, 0, sizeof(double) * K * (d + 1));
    for (int i = 0; i < ntr; i++) {
      const double *x = Xtr + (size_t)i * d;
      double mx = -1e300, z = 0;
      for (int k = 0; k < K; k++) {
        double s = Wt[k * (d + 1) + d];
        for (int c = 0; c < d; c++) s += Wt[k * (d + 1) + c] * x[c];
        prob[k] = s;
        mx = fmax(mx, s);
      }
      for (int k = 0; k < K; k++) z += (prob[k] = exp(prob[k] - mx));
      for (int k = 0; k < K; k++) {
        double g = prob[k] / z - (k == ytr[i]);
        for (int c = 0; c < d; c++) G[k * (d + 1) + c] += g * x[c];
        G[k * (d + 1) + d] += g;
      }
    }
    for (int q = 0; q < K * (d + 1); q++) Wt[q] -= 0.5 * (G[q] / ntr + 1e-3 * Wt[q]);
  }
  ok = 0;
  for (int i = 0; i < nte; i++) {
    const double *x = Xte + (size_t)i * d;
    int best = 0;
    double bs = -1e300;
    for (int k = 0; k < K; k++) {
      double s = Wt[k * (d + 1) + d];
      for (int c = 0; c < d; c++) s += Wt[k * (d + 1) + c] * x[c];
      if (s > bs) { bs = s; best = k; }
    }
    ok += best == yte[i];
  }
  res.lr = (double)ok / nte;
  free(Wt); free(G); free(cen); free(mu); free(sd);
  free(Xtr); free(Xte); free(ytr); free(yte);
  return res;
}

int cmd_simulate_probe(int argc, char **argv) {
  long n = 140, seed = 1, threads = 2, width = 128, height = 96;
  const char *json = NULL;
  const cm_opt opts[] = {
      CM_OPT_LONG("sessions", 0, &n),
      CM_OPT_LONG("seed", 0, &seed),
      CM_OPT_LONG("threads", 0, &threads),
      CM_OPT_LONG("width", 0, &width),
      CM_OPT_LONG("height", 0, &height),
      CM_OPT_STRING("json", 0, &json),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("simulate-probe", 1, "%s", cm_error());
  if (n < 10 || n > 767) return cmact_help_exit("simulate-probe", 1, "--sessions must be 10..767");
  if (threads < 1 || threads > 64) return cmact_help_exit("simulate-probe", 1, "--threads must be 1..64");
  if (width < 16 || height < 16 || width > 1024 || height > 1024 || width % 4 || height % 4)
    return cmact_help_exit("simulate-probe", 1, "--width/--height must be multiples of 4, 16..1024");
  probe_job j = {.seed = (uint64_t)seed, .n = (int)n, .window = 2.0, .hop = 1.0};
  sim_preset_get("cmactivity", &j.ps);
  j.ps.width = (int)width;
  j.ps.height = (int)height;
  j.out = cm_xcalloc((size_t)n, sizeof *j.out);
  atomic_init(&j.next, 0);
  pthread_mutex_init(&j.lock, NULL);
  int64_t t_start = cm_monotonic_ns();
  cm_progress_begin(&j.progress, "simulate-probe", n);
  pthread_t tid[64];
  for (int i = 0; i < threads; i++) pthread_create(&tid[i], NULL, probe_worker, &j);
  for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
  cm_progress_end(&j.progress);
  pthread_mutex_destroy(&j.lock);
  probe_result res[N_MOD];
  for (int m = 0; m < N_MOD; m++) res[m] = run_probes(&j, m);
  printf("%-6s %8s %10s %10s %8s %16s %10s\n", "modality", "features", "train_win", "test_win",
         "chance", "nearest_centroid", "logistic");
  for (int m = 0; m < N_MOD; m++)
    printf("%-8s %8d %10d %10d %8.3f %16.3f %10.3f\n", mod_names[m], mod_dim[m], res[m].n_train,
           res[m].n_test, 1.0 / SIM_N_ACTIVITIES, res[m].nc, res[m].lr);
  printf("(%ld sessions of the cmactivity preset, seed %ld, 2 s windows, hop 1 s, %.1f s)\n", n,
         seed, (cm_monotonic_ns() - t_start) / 1e9);
  int rc = CM_EXIT_OK;
  if (json) {
    char buf[2048];
    int len = snprintf(buf, sizeof buf, "{\"sessions\": %ld, \"seed\": %ld, \"chance\": %.4f, \"probes\": {", n,
                       seed, 1.0 / SIM_N_ACTIVITIES);
    for (int m = 0; m < N_MOD; m++)
      len += snprintf(buf + len, sizeof buf - len,
                      "%s\"%s\": {\"features\": %d, \"train_windows\": %d, \"test_windows\": %d, "
                      "\"nearest_centroid\": %.4f, \"logistic\": %.4f}",
                      m ? ", " : "", mod_names[m], mod_dim[m], res[m].n_train, res[m].n_test, res[m].nc,
                      res[m].lr);
    len += snprintf(buf + len, sizeof buf - len, "}}\n");
    if (cm_write_file_atomic(json, buf, (size_t)len) < 0) rc = cm_fail_error("simulate-probe");
  }
  for (int i = 0; i < n; i++)
    for (int m = 0; m < N_MOD; m++) free(j.out[i].feat[m]);
  free(j.out);
  return rc;
}
