/*
 * `cmact experiment table3` and `epochs`: the study's four transfers (video->audio, video->IMU,
 * IMU->video, IMU->audio), each run with its own seed: transfer, PureTransfer,
 * Transfer+LimitedTrain; Scratch per student modality; mean, standard deviation and Welch's
 * t-test against scratch. `epochs` runs the same jobs and also records the test accuracy after
 * every epoch of Transfer+LimitedTrain and Scratch (the study's Fig. 3); the recorded numbers
 * are for the figure only, never for choosing weights (see proc.h).
 *
 * Phases: (1) the two teachers (video, IMU; one per modality, trained with the base seed) and
 * every scratch model, all independent; (2) one job per (transfer, run). Teachers are shared
 * read-only by the phase-2 jobs.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp.h"
#include "exp_report.h"
#include "nn_arch.h"
#include "plot.h"
#include "stats.h"

#define N_PAIRS 4
static const nn_modality PAIR_T[N_PAIRS] = {NN_MOD_VIDEO, NN_MOD_VIDEO, NN_MOD_IMU, NN_MOD_IMU};
static const nn_modality PAIR_S[N_PAIRS] = {NN_MOD_AUDIO, NN_MOD_IMU, NN_MOD_VIDEO, NN_MOD_AUDIO};
static const char *PAIR_NAME[N_PAIRS] = {"video -> audio", "video -> IMU", "IMU -> video", "IMU -> audio"};
static const char *PAIR_ID[N_PAIRS] = {"video-audio", "video-imu", "imu-video", "imu-audio"};
/* The paper's Table 3 (accuracy on the test set, %): teacher, Pure, Transfer+Limited, Scratch. */
static const double PAPER[N_PAIRS][4] = {{90.92, 90.20, 90.36, 84.12},
                                         {90.92, 94.19, 94.37, 70.73},
                                         {90.99, 74.00, 75.13, 72.26},
                                         {90.99, 84.82, 87.82, 84.28}};

typedef struct {
  const exp_opts *o;
  exp_data d;
  int curves;
  nn_model *teacher[3];
  double teacher_acc[3];
  double *pure, *limited, *scratch;       /* [pair or modality][run] */
  double *lim_curve, *scr_curve;           /* [pair or mod][run][epoch] test accuracy */
} t3;

static uint64_t run_seed(const t3 *c, int run) { return c->o->seed + 1 + (uint64_t)run; }

static int phase1(void *arg, int job) {
  t3 *c = arg;
  const int R = c->o->runs;
  if (job < 2) { /* teachers: video, IMU */
    nn_modality m = job == 0 ? NN_MOD_VIDEO : NN_MOD_IMU;
    proc_fit_result r;
    nn_model *t = proc_teacher(&c->d.pre[m], c->d.desc.n_classes, &c->o->cfg, c->o->seed + 1000, &r);
    if (!t) return cm_prefix_error("teacher %s", proc_modality_name(m));
    proc_fit_result_free(&r);
    c->teacher_acc[m] = proc_accuracy(t, &c->d.test[m]);
    c->teacher[m] = t;
    return 0;
  }
  job -= 2;
  nn_modality m = (nn_modality)(job / R);
  int run = job % R;
  proc_set lim;
  proc_set_draw(&c->d.limited[m], c->o->cfg.limit_n, run_seed(c, run), &lim);
  proc_fit_result r;
  nn_model *s = proc_scratch(m, &lim, c->d.desc.n_classes, &c->o->cfg, run_seed(c, run),
                             c->curves ? &c->d.test[m] : NULL, &r);
  proc_set_free(&lim);
  if (!s) return cm_prefix_error("scratch %s run %d", proc_modality_name(m), run + 1);
  c->scratch[m * R + run] = proc_accuracy(s, &c->d.test[m]);
  if (c->curves) {
    int E = c->o->cfg.scratch_epochs;
    for (int e = 0; e < E; e++)
      c->scr_curve[((size_t)m * R + run) * E + e] = e < r.epochs_run ? r.curve[e * PROC_CURVE_COLS + 4] : NAN;
  }
  proc_fit_result_free(&r);
  nn_model_free(s);
  return 0;
}

static int phase2(void *arg, int job) {
  t3 *c = arg;
  const int R = c->o->runs, p = job / R, run = job % R;
  const nn_modality T = PAIR_T[p], S = PAIR_S[p];
  const int C = c->d.desc.n_classes;
  proc_fit_result r;
  nn_model *g = proc_transfer(c->teacher[T], &c->d.transfer[T], &c->d.transfer[S], C, &c->o->cfg,
                              run_seed(c, run), &r);
  if (!g) return cm_prefix_error("transfer %s run %d", PAIR_ID[p], run + 1);
  proc_fit_result_free(&r);
  nn_model *pure = proc_pure(g, c->teacher[T]);
  if (!pure) {
    nn_model_free(g);
    return -1;
  }
  c->pure[p * R + run] = proc_accuracy(pure, &c->d.test[S]);
  nn_model_free(pure);
  proc_set lim;
  proc_set_draw(&c->d.limited[S], c->o->cfg.limit_n, run_seed(c, run), &lim);
  nn_model *l = proc_limited(g, &lim, C, &c->o->cfg, run_seed(c, run), c->curves ? &c->d.test[S] : NULL, &r);
  proc_set_free(&lim);
  nn_model_free(g);
  if (!l) return cm_prefix_error("limited %s run %d", PAIR_ID[p], run + 1);
  c->limited[p * R + run] = proc_accuracy(l, &c->d.test[S]);
  if (c->curves) {
    int E = c->o->cfg.limited_epochs;
    for (int e = 0; e < E; e++)
      c->lim_curve[((size_t)p * R + run) * E + e] = e < r.epochs_run ? r.curve[e * PROC_CURVE_COLS + 4] : NAN;
  }
  proc_fit_result_free(&r);
  nn_model_free(l);
  return 0;
}

/* Relative cost of training on one window of a modality (for the progress estimate only). */
static double cost(const t3 *c, nn_modality m) {
  return m == NN_MOD_VIDEO ? (double)c->d.pre[m].dim / 200.0 : m == NN_MOD_AUDIO ? 4 : 1;
}

/* First epoch whose mean accuracy reaches 95% of the run's best mean (Fig. 3's "converges"). */
static int epochs_to_95(const double *curve, int R, int E) {
  double best = -1, *mean = cm_xmalloc(sizeof(double) * E);
  for (int e = 0; e < E; e++) {
    double s = 0;
    int k = 0;
    for (int r = 0; r < R; r++)
      if (isfinite(curve[(size_t)r * E + e])) s += curve[(size_t)r * E + e], k++;
    mean[e] = k ? s / k : NAN;
    if (isfinite(mean[e]) && mean[e] > best) best = mean[e];
  }
  int at = -1;
  for (int e = 0; e < E && at < 0; e++)
    if (isfinite(mean[e]) && mean[e] >= 0.95 * best) at = e + 1;
  free(mean);
  return at;
}

static int write_fig3(t3 *c, cJSON *root) {
  const int R = c->o->runs, EL = c->o->cfg.limited_epochs, ES = c->o->cfg.scratch_epochs;
  cJSON *jc = cJSON_AddObjectToObject(root, "epochs");
  for (int p = 0; p < N_PAIRS; p++) {
    nn_modality S = PAIR_S[p];
    double *xl = cm_xmalloc(sizeof(double) * EL), *ml = cm_xmalloc(sizeof(double) * EL),
           *sl = cm_xmalloc(sizeof(double) * EL);
    double *xs = cm_xmalloc(sizeof(double) * ES), *ms = cm_xmalloc(sizeof(double) * ES),
           *ss = cm_xmalloc(sizeof(double) * ES);
    double *col = cm_xmalloc(sizeof(double) * R);
    for (int e = 0; e < EL; e++) {
      for (int r = 0; r < R; r++) col[r] = 100 * c->lim_curve[((size_t)p * R + r) * EL + e];
      xl[e] = e + 1, ml[e] = stats_mean(col, R), sl[e] = stats_sd(col, R);
    }
    for (int e = 0; e < ES; e++) {
      for (int r = 0; r < R; r++) col[r] = 100 * c->scr_curve[((size_t)S * R + r) * ES + e];
      xs[e] = e + 1, ms[e] = stats_mean(col, R), ss[e] = stats_sd(col, R);
    }
    cJSON *jp = cJSON_AddObjectToObject(jc, PAIR_ID[p]);
    cJSON_AddItemToObject(jp, "limited_mean_pct", exp_json_array(ml, EL));
    cJSON_AddItemToObject(jp, "limited_sd_pct", exp_json_array(sl, EL));
    cJSON_AddItemToObject(jp, "scratch_mean_pct", exp_json_array(ms, ES));
    cJSON_AddItemToObject(jp, "scratch_sd_pct", exp_json_array(ss, ES));
    cJSON_AddNumberToObject(jp, "limited_epochs_to_95pct_of_best",
                            epochs_to_95(c->lim_curve + (size_t)p * R * EL, R, EL));
    cJSON_AddNumberToObject(jp, "scratch_epochs_to_95pct_of_best",
                            epochs_to_95(c->scr_curve + (size_t)S * R * ES, R, ES));
    char title[128], base[4096], name[64];
    snprintf(title, sizeof title, "Fig. 3 analogue: %s, test accuracy per epoch (%d runs)", PAIR_NAME[p], R);
    plot_spec ps = {.title = title, .xlabel = "epoch", .ylabel = "accuracy on the test split (%)",
                    .log_x = 1, .ymin = NAN, .ymax = NAN, .n_series = 2};
    ps.series[0] = (plot_series){"Transfer+LimitedTrain (mean, sd)", EL, xl, ml, EL <= 60 ? sl : NULL, 0};
    ps.series[1] = (plot_series){"Scratch (mean, sd)", ES, xs, ms, ES <= 60 ? ss : NULL, 0};
    snprintf(name, sizeof name, "fig3_%s", PAIR_ID[p]);
    int rc = plot_write(&ps, exp_path(c->o, name, base, sizeof base));
    free(xl), free(ml), free(sl), free(xs), free(ms), free(ss), free(col);
    if (rc < 0) return -1;
  }
  return 0;
}

static int report(t3 *c) {
  const exp_opts *o = c->o;
  const int R = o->runs;
  char settings[1024], a[32], b[32], path[4096];
  exp_settings_line(o, &c->d, settings, sizeof settings);
  strbuf md = {0}, csv = {0};
  sb_printf(&md, "## Table 3 analogue: accuracy on the test split (%%), mean ± sd over %d runs\n\n", R);
  sb_printf(&md, "| transfer | teacher (paper) | teacher | Pure (paper) | Pure | Transfer+Limited (paper) | "
                 "Transfer+Limited | Scratch (paper) | Scratch | p Limited vs Scratch | p Pure vs Scratch |\n");
  sb_printf(&md, "|---|---|---|---|---|---|---|---|---|---|---|\n");
  sb_printf(&csv, "transfer,procedure,run,seed,accuracy\n");
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "experiment", c->curves ? "epochs" : "table3");
  cJSON_AddStringToObject(root, "data", o->data);
  cJSON_AddStringToObject(root, "settings", settings);
  cJSON *jt = cJSON_AddArrayToObject(root, "table3");
  double mean[N_PAIRS][3], sd[N_PAIRS][3];
  for (int p = 0; p < N_PAIRS; p++) {
    nn_modality T = PAIR_T[p], S = PAIR_S[p];
    double *pu = c->pure + p * R, *li = c->limited + p * R, *sc = c->scratch + S * R;
    double *cols[3] = {pu, li, sc};
    for (int k = 0; k < 3; k++) mean[p][k] = stats_mean(cols[k], R), sd[p][k] = stats_sd(cols[k], R);
    stats_welch wl = stats_welch_test(li, R, sc, R), wp = stats_welch_test(pu, R, sc, R);
    char v[8][32];
    sb_printf(&md, "| %s | %.2f | %s | %.2f | %s ± %s | %.2f | %s ± %s | %.2f | %s ± %s | %s | %s |\n",
              PAIR_NAME[p], PAPER[p][0], exp_pct(c->teacher_acc[T], v[0], 32), PAPER[p][1],
              exp_pct(mean[p][0], v[1], 32), exp_pct(sd[p][0], v[2], 32), PAPER[p][2],
              exp_pct(mean[p][1], v[3], 32), exp_pct(sd[p][1], v[4], 32), PAPER[p][3],
              exp_pct(mean[p][2], v[5], 32), exp_pct(sd[p][2], v[6], 32), exp_p(wl.p, a, sizeof a),
              exp_p(wp.p, b, sizeof b));
    static const char *proc_names[3] = {"pure", "limited", "scratch"};
    for (int k = 0; k < 3; k++)
      for (int r = 0; r < R; r++)
        sb_printf(&csv, "%s,%s,%d,%llu,%.6f\n", PAIR_ID[p], proc_names[k], r + 1,
                  (unsigned long long)run_seed(c, r), cols[k][r]);
    cJSON *jp = cJSON_CreateObject();
    cJSON_AddStringToObject(jp, "transfer", PAIR_ID[p]);
    cJSON_AddNumberToObject(jp, "teacher", c->teacher_acc[T]);
    cJSON_AddItemToObject(jp, "pure", exp_json_array(pu, R));
    cJSON_AddItemToObject(jp, "limited", exp_json_array(li, R));
    cJSON_AddItemToObject(jp, "scratch", exp_json_array(sc, R));
    cJSON_AddNumberToObject(jp, "welch_p_limited_vs_scratch", isfinite(wl.p) ? wl.p : -1);
    cJSON_AddNumberToObject(jp, "welch_p_pure_vs_scratch", isfinite(wp.p) ? wp.p : -1);
    cJSON_AddItemToObject(jp, "paper_pct", exp_json_array(PAPER[p], 4));
    cJSON_AddItemToArray(jt, jp);
  }
  sb_printf(&md, "\n%s Teachers: one per modality (seed %llu). p: Welch's t-test, two-sided "
                 "(– when undefined, e.g. fewer than 2 runs).\n",
            settings, (unsigned long long)o->seed + 1000);
  fputs(md.s, o->log ? o->log : stdout);
  int rc = exp_write_text(exp_path(o, "table3.md", path, sizeof path), &md);
  if (rc == 0) rc = exp_write_text(exp_path(o, "table3.csv", path, sizeof path), &csv);
  /* figure: the four transfers side by side, ours with sd bars, the paper's dashed */
  double x[N_PAIRS], ym[3][N_PAIRS], ys[3][N_PAIRS], pp[3][N_PAIRS];
  for (int p = 0; p < N_PAIRS; p++) {
    x[p] = p;
    for (int k = 0; k < 3; k++) ym[k][p] = 100 * mean[p][k], ys[k][p] = 100 * sd[p][k], pp[k][p] = PAPER[p][k + 1];
  }
  plot_spec ps = {.title = "Table 3 analogue: accuracy of the student on the test split",
                  .xlabel = "transfer (teacher -> student)", .ylabel = "accuracy (%)", .ymin = NAN,
                  .ymax = NAN, .x_categories = PAIR_NAME, .n_categories = N_PAIRS, .n_series = 6};
  ps.series[0] = (plot_series){"PureTransfer (ours)", N_PAIRS, x, ym[0], ys[0], 0};
  ps.series[1] = (plot_series){"Transfer+LimitedTrain (ours)", N_PAIRS, x, ym[1], ys[1], 0};
  ps.series[2] = (plot_series){"Scratch (ours)", N_PAIRS, x, ym[2], ys[2], 0};
  ps.series[3] = (plot_series){"PureTransfer (paper)", N_PAIRS, x, pp[0], NULL, 1};
  ps.series[4] = (plot_series){"Transfer+LimitedTrain (paper)", N_PAIRS, x, pp[1], NULL, 1};
  ps.series[5] = (plot_series){"Scratch (paper)", N_PAIRS, x, pp[2], NULL, 1};
  if (rc == 0) rc = plot_write(&ps, exp_path(o, "table3", path, sizeof path));
  if (rc == 0 && c->curves) rc = write_fig3(c, root);
  if (rc == 0) rc = exp_write_json(exp_path(o, "table3.json", path, sizeof path), root);
  cJSON_Delete(root);
  sb_free(&md);
  sb_free(&csv);
  return rc;
}

int exp_table3(const exp_opts *o, int with_curves) {
  t3 c;
  memset(&c, 0, sizeof c);
  c.o = o;
  c.curves = with_curves;
  if (exp_mkdir(o->out) < 0) return -1;
  if (exp_data_load(&c.d, o->data, 7u, o->video_input) < 0) return -1;
  const int R = o->runs;
  c.pure = cm_xcalloc((size_t)N_PAIRS * R, sizeof(double));
  c.limited = cm_xcalloc((size_t)N_PAIRS * R, sizeof(double));
  c.scratch = cm_xcalloc((size_t)3 * R, sizeof(double));
  if (with_curves) {
    c.lim_curve = cm_xcalloc((size_t)N_PAIRS * R * o->cfg.limited_epochs, sizeof(double));
    c.scr_curve = cm_xcalloc((size_t)3 * R * o->cfg.scratch_epochs, sizeof(double));
  }
  int n1 = 2 + 3 * R, n2 = N_PAIRS * R;
  double *w1 = cm_xmalloc(sizeof(double) * n1), *w2 = cm_xmalloc(sizeof(double) * n2);
  w1[0] = cost(&c, NN_MOD_VIDEO) * c.d.pre[NN_MOD_VIDEO].n * o->cfg.teacher_epochs;
  w1[1] = cost(&c, NN_MOD_IMU) * c.d.pre[NN_MOD_IMU].n * o->cfg.teacher_epochs;
  for (int j = 0; j < 3 * R; j++) w1[2 + j] = cost(&c, (nn_modality)(j / R)) * o->cfg.limit_n * o->cfg.scratch_epochs;
  for (int j = 0; j < n2; j++)
    w2[j] = cost(&c, PAIR_S[j / R]) * c.d.transfer[PAIR_S[j / R]].n * o->cfg.transfer_epochs;
  int rc = exp_pool_run(n1, o->threads, w1, phase1, &c, "teachers and scratch");
  if (rc == 0) rc = exp_pool_run(n2, o->threads, w2, phase2, &c, "transfers");
  if (rc == 0) rc = report(&c);
  free(w1), free(w2);
  for (int m = 0; m < 3; m++) nn_model_free(c.teacher[m]);
  free(c.pure), free(c.limited), free(c.scratch), free(c.lim_curve), free(c.scr_curve);
  exp_data_free(&c.d);
  return rc;
}
