/*
 * `cmact experiment labels`: accuracy against the number of labelled windows (the study's
 * Fig. 4) for one transfer (--pair, default video-imu). Per run: one transfer, then
 * Transfer+LimitedTrain on n windows drawn from `limited` for each n of --label-counts; scratch
 * on the same draws. Counts larger than the `limited` split are clamped to it (and reported).
 * PureTransfer, which uses no labels, is drawn as a flat line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp.h"
#include "exp_report.h"
#include "plot.h"
#include "stats.h"

#define MAX_COUNTS 32

typedef struct {
  const exp_opts *o;
  exp_data d;
  nn_modality T, S;
  nn_model *teacher;
  int nc, counts[MAX_COUNTS];
  double *pure, *lim, *scr; /* [run], [run][count], [run][count] */
} lab;

static uint64_t run_seed(const lab *c, int r) { return c->o->seed + 1 + (uint64_t)r; }

static int job_transfer(void *arg, int run) {
  lab *c = arg;
  const int C = c->d.desc.n_classes;
  proc_fit_result r;
  nn_model *g = proc_transfer(c->teacher, &c->d.transfer[c->T], &c->d.transfer[c->S], C, &c->o->cfg,
                              run_seed(c, run), &r);
  if (!g) return -1;
  proc_fit_result_free(&r);
  nn_model *pure = proc_pure(g, c->teacher);
  c->pure[run] = pure ? proc_accuracy(pure, &c->d.test[c->S]) : NAN;
  nn_model_free(pure);
  for (int k = 0; k < c->nc; k++) {
    proc_set l;
    proc_set_draw(&c->d.limited[c->S], c->counts[k], run_seed(c, run), &l);
    nn_model *m = proc_limited(g, &l, C, &c->o->cfg, run_seed(c, run), NULL, &r);
    proc_set_free(&l);
    if (!m) {
      nn_model_free(g);
      return -1;
    }
    proc_fit_result_free(&r);
    c->lim[run * c->nc + k] = proc_accuracy(m, &c->d.test[c->S]);
    nn_model_free(m);
  }
  nn_model_free(g);
  return 0;
}

static int job_scratch(void *arg, int job) {
  lab *c = arg;
  if (job == 0 && !c->teacher) { /* the teacher runs beside the scratch models */
    proc_fit_result r;
    c->teacher = proc_teacher(&c->d.pre[c->T], c->d.desc.n_classes, &c->o->cfg, c->o->seed + 1000, &r);
    if (!c->teacher) return -1;
    proc_fit_result_free(&r);
    return 0;
  }
  job -= 1;
  int run = job / c->nc, k = job % c->nc;
  proc_set l;
  proc_set_draw(&c->d.limited[c->S], c->counts[k], run_seed(c, run), &l);
  proc_fit_result r;
  nn_model *m = proc_scratch(c->S, &l, c->d.desc.n_classes, &c->o->cfg, run_seed(c, run), NULL, &r);
  proc_set_free(&l);
  if (!m) return -1;
  proc_fit_result_free(&r);
  c->scr[run * c->nc + k] = proc_accuracy(m, &c->d.test[c->S]);
  nn_model_free(m);
  return 0;
}

static int parse_counts(lab *c, const char *s) {
  c->nc = 0;
  char *copy = cm_xstrdup(s), *save = NULL;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    long v;
    if (c->nc == MAX_COUNTS || cm_parse_long(t, "--label-counts", &v) < 0 || v < 2) {
      free(copy);
      return cm_set_error("--label-counts '%s': expected up to %d integers >= 2", s, MAX_COUNTS);
    }
    c->counts[c->nc++] = (int)v;
  }
  free(copy);
  return c->nc ? 0 : cm_set_error("--label-counts is empty");
}

int exp_labels(const exp_opts *o) {
  lab c;
  memset(&c, 0, sizeof c);
  c.o = o;
  if (exp_pair_parse(o->pair, &c.T, &c.S) < 0 || parse_counts(&c, o->label_counts) < 0) return -1;
  if (exp_mkdir(o->out) < 0) return -1;
  if (exp_data_load(&c.d, o->data, (1u << c.T) | (1u << c.S), o->video_input) < 0) return -1;
  int clamped = 0;
  for (int k = 0; k < c.nc; k++)
    if (c.counts[k] > c.d.limited[c.S].n) c.counts[k] = (int)c.d.limited[c.S].n, clamped = 1;
  const int R = o->runs, nc = c.nc;
  c.pure = cm_xcalloc(R, sizeof(double));
  c.lim = cm_xcalloc((size_t)R * nc, sizeof(double));
  c.scr = cm_xcalloc((size_t)R * nc, sizeof(double));
  int rc = exp_pool_run(1 + R * nc, o->threads, NULL, job_scratch, &c, "teacher and scratch");
  if (rc == 0) rc = exp_pool_run(R, o->threads, NULL, job_transfer, &c, "transfers");
  if (rc == 0) {
    char settings[1024], a[32], b[32], d[32], e[32], f[32], path[4096];
    exp_settings_line(o, &c.d, settings, sizeof settings);
    strbuf md = {0}, csv = {0};
    sb_printf(&md, "## Fig. 4 analogue: %s, test accuracy (%%) against labelled windows, %d runs\n\n", o->pair, R);
    sb_printf(&md, "| labelled windows | Transfer+Limited | Scratch | p (Welch) |\n|---|---|---|---|\n");
    sb_printf(&csv, "labels,procedure,run,accuracy\n");
    double x[MAX_COUNTS], ml[MAX_COUNTS], sl[MAX_COUNTS], ms[MAX_COUNTS], ss[MAX_COUNTS], mp[MAX_COUNTS];
    double *col1 = cm_xmalloc(sizeof(double) * R), *col2 = cm_xmalloc(sizeof(double) * R);
    double pm = stats_mean(c.pure, R), psd = stats_sd(c.pure, R);
    cJSON *root = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "experiment", "labels");
    cJSON_AddStringToObject(root, "pair", o->pair);
    cJSON_AddStringToObject(root, "settings", settings);
    cJSON_AddItemToObject(root, "pure", exp_json_array(c.pure, R));
    for (int k = 0; k < nc; k++) {
      for (int r = 0; r < R; r++) {
        col1[r] = c.lim[r * nc + k], col2[r] = c.scr[r * nc + k];
        sb_printf(&csv, "%d,limited,%d,%.6f\n%d,scratch,%d,%.6f\n", c.counts[k], r + 1, col1[r],
                  c.counts[k], r + 1, col2[r]);
      }
      stats_welch w = stats_welch_test(col1, R, col2, R);
      x[k] = c.counts[k];
      ml[k] = 100 * stats_mean(col1, R), sl[k] = 100 * stats_sd(col1, R);
      ms[k] = 100 * stats_mean(col2, R), ss[k] = 100 * stats_sd(col2, R);
      mp[k] = 100 * pm;
      sb_printf(&md, "| %d | %s ± %s | %s ± %s | %s |\n", c.counts[k], exp_pct(ml[k] / 100, a, sizeof a),
                exp_pct(sl[k] / 100, b, sizeof b), exp_pct(ms[k] / 100, d, sizeof d),
                exp_pct(ss[k] / 100, e, sizeof e), exp_p(w.p, f, sizeof f));
      cJSON *j = cJSON_CreateObject();
      cJSON_AddNumberToObject(j, "labels", c.counts[k]);
      cJSON_AddItemToObject(j, "limited", exp_json_array(col1, R));
      cJSON_AddItemToObject(j, "scratch", exp_json_array(col2, R));
      cJSON_AddItemToArray(rows, j);
    }
    cJSON_AddItemToObject(root, "by_labels", rows);
    sb_printf(&md, "\nPureTransfer (no labels): %s ± %s. The paper: transfer reaches its best with about 50 "
                   "labelled windows.%s\n%s\n",
              exp_pct(pm, a, sizeof a), exp_pct(psd, b, sizeof b),
              clamped ? " Counts above the limited split's size were clamped to it." : "", settings);
    fputs(md.s, o->log ? o->log : stdout);
    rc = exp_write_text(exp_path(o, "labels.md", path, sizeof path), &md);
    if (rc == 0) rc = exp_write_text(exp_path(o, "labels.csv", path, sizeof path), &csv);
    if (rc == 0) rc = exp_write_json(exp_path(o, "labels.json", path, sizeof path), root);
    char title[128];
    snprintf(title, sizeof title, "Fig. 4 analogue: %s, accuracy against labelled windows (%d runs)", o->pair, R);
    plot_spec ps = {.title = title, .xlabel = "labelled windows", .ylabel = "accuracy on the test split (%)",
                    .log_x = 1, .ymin = NAN, .ymax = NAN, .n_series = 3};
    ps.series[0] = (plot_series){"Transfer+LimitedTrain", nc, x, ml, sl, 0};
    ps.series[1] = (plot_series){"Scratch", nc, x, ms, ss, 0};
    ps.series[2] = (plot_series){"PureTransfer (no labels)", nc, x, mp, NULL, 1};
    if (rc == 0) rc = plot_write(&ps, exp_path(o, "fig4_labels", path, sizeof path));
    cJSON_Delete(root);
    sb_free(&md), sb_free(&csv);
    free(col1), free(col2);
  }
  nn_model_free(c.teacher);
  free(c.pure), free(c.lim), free(c.scr);
  exp_data_free(&c.d);
  return rc;
}
