/*
 * `cmact experiment related`: transfer to a related task (the study's Fig. 5). A video teacher
 * with all classes (trained on `pretrain`) teaches an IMU student on `transfer`; the student is
 * then personalised to the classes present at the held-out location (`personal_train`, 5
 * classes in the study: no stairs) with a new output layer (Transfer+LimitedTrain) and compared
 * with an IMU model trained from scratch on `personal_train`; both are tested on
 * `personal_test`, whose accuracy per epoch is recorded for the figure. The paper: 91.58% vs
 * 61.86%.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp.h"
#include "exp_report.h"
#include "plot.h"
#include "stats.h"

#define PAPER_LIMITED 91.58
#define PAPER_SCRATCH 61.86

typedef struct {
  const exp_opts *o;
  exp_data d;
  proc_set ptrain, ptest;
  int n_sub;
  nn_model *teacher;
  double *lim, *scr, *lim_curve, *scr_curve;
} rel;

static uint64_t run_seed(const rel *c, int r) { return c->o->seed + 1 + (uint64_t)r; }

static int job(void *arg, int j) {
  rel *c = arg;
  const int R = c->o->runs, EL = c->o->cfg.limited_epochs, ES = c->o->cfg.scratch_epochs;
  proc_fit_result r;
  if (j < R) { /* transfer + personalisation */
    nn_model *g = proc_transfer(c->teacher, &c->d.transfer[NN_MOD_VIDEO], &c->d.transfer[NN_MOD_IMU],
                                c->d.desc.n_classes, &c->o->cfg, run_seed(c, j), &r);
    if (!g) return -1;
    proc_fit_result_free(&r);
    nn_model *m = proc_limited(g, &c->ptrain, c->n_sub, &c->o->cfg, run_seed(c, j), &c->ptest, &r);
    nn_model_free(g);
    if (!m) return -1;
    c->lim[j] = proc_accuracy(m, &c->ptest);
    for (int e = 0; e < EL; e++) c->lim_curve[(size_t)j * EL + e] = e < r.epochs_run ? r.curve[e * PROC_CURVE_COLS + 4] : NAN;
    proc_fit_result_free(&r);
    nn_model_free(m);
    return 0;
  }
  j -= R;
  nn_model *m = proc_scratch(NN_MOD_IMU, &c->ptrain, c->n_sub, &c->o->cfg, run_seed(c, j), &c->ptest, &r);
  if (!m) return -1;
  c->scr[j] = proc_accuracy(m, &c->ptest);
  for (int e = 0; e < ES; e++) c->scr_curve[(size_t)j * ES + e] = e < r.epochs_run ? r.curve[e * PROC_CURVE_COLS + 4] : NAN;
  proc_fit_result_free(&r);
  nn_model_free(m);
  return 0;
}

static void curve_stats(const double *curve, int R, int E, double *x, double *m, double *s) {
  double *col = cm_xmalloc(sizeof(double) * R);
  for (int e = 0; e < E; e++) {
    for (int r = 0; r < R; r++) col[r] = 100 * curve[(size_t)r * E + e];
    x[e] = e + 1, m[e] = stats_mean(col, R), s[e] = stats_sd(col, R);
  }
  free(col);
}

int exp_related(const exp_opts *o) {
  rel c;
  memset(&c, 0, sizeof c);
  c.o = o;
  if (exp_mkdir(o->out) < 0) return -1;
  if (exp_data_load(&c.d, o->data, (1u << NN_MOD_VIDEO) | (1u << NN_MOD_IMU), o->video_input) < 0) return -1;
  cm_dataset *ds = cm_dataset_open(o->data);
  int rc = ds ? 0 : -1;
  if (rc == 0) rc = proc_set_load(ds, "personal_train", NN_MOD_IMU, NULL, 0, &c.ptrain);
  if (rc == 0) rc = proc_set_load(ds, "personal_test", NN_MOD_IMU, NULL, 0, &c.ptest);
  if (ds) cm_dataset_close_reader(ds);
  /* the classes present at the held-out location, renumbered 0..n_sub-1 in class order */
  int map[CM_MAX_CLASSES], present[CM_MAX_CLASSES] = {0};
  char classes[256] = "";
  if (rc == 0) {
    for (int64_t i = 0; i < c.ptrain.n; i++) present[c.ptrain.y[i]] = 1;
    for (int k = 0; k < c.d.desc.n_classes; k++) {
      map[k] = present[k] ? c.n_sub++ : -1;
      if (present[k])
        snprintf(classes + strlen(classes), sizeof classes - strlen(classes), "%s%s", c.n_sub > 1 ? ", " : "",
                 c.d.desc.class_names[k]);
    }
    proc_set_relabel(&c.ptrain, map);
    proc_set_relabel(&c.ptest, map);
    if (c.n_sub < 2 || c.ptrain.n < 2 || c.ptest.n < 1)
      rc = cm_set_error("%s: the personalisation splits hold too little (%d classes, %lld + %lld windows)",
                        o->data, c.n_sub, (long long)c.ptrain.n, (long long)c.ptest.n);
  }
  const int R = o->runs, EL = o->cfg.limited_epochs, ES = o->cfg.scratch_epochs;
  if (rc == 0) {
    proc_fit_result r;
    c.teacher = proc_teacher(&c.d.pre[NN_MOD_VIDEO], c.d.desc.n_classes, &o->cfg, o->seed + 1000, &r);
    if (!c.teacher) rc = -1;
    else proc_fit_result_free(&r);
  }
  c.lim = cm_xcalloc(R, sizeof(double));
  c.scr = cm_xcalloc(R, sizeof(double));
  c.lim_curve = cm_xcalloc((size_t)R * EL, sizeof(double));
  c.scr_curve = cm_xcalloc((size_t)R * ES, sizeof(double));
  if (rc == 0) rc = exp_pool_run(2 * R, o->threads, NULL, job, &c, "transfer and scratch runs");
  if (rc == 0) {
    char settings[1024], a[32], b[32], d[32], e[32], f[32], path[4096];
    exp_settings_line(o, &c.d, settings, sizeof settings);
    stats_welch w = stats_welch_test(c.lim, R, c.scr, R);
    strbuf md = {0}, csv = {0};
    sb_printf(&md, "## Fig. 5 analogue: video teacher (%d classes) -> IMU personalised to %d classes (%s)\n\n",
              c.d.desc.n_classes, c.n_sub, classes);
    sb_printf(&md, "| procedure | paper | ours (mean ± sd, %d runs) |\n|---|---|---|\n", R);
    sb_printf(&md, "| Transfer+LimitedTrain | %.2f | %s ± %s |\n| Scratch | %.2f | %s ± %s |\n", PAPER_LIMITED,
              exp_pct(stats_mean(c.lim, R), a, sizeof a), exp_pct(stats_sd(c.lim, R), b, sizeof b), PAPER_SCRATCH,
              exp_pct(stats_mean(c.scr, R), d, sizeof d), exp_pct(stats_sd(c.scr, R), e, sizeof e));
    sb_printf(&md, "\nWelch p = %s. personal_train %lld windows, personal_test %lld. %s\n", exp_p(w.p, f, sizeof f),
              (long long)c.ptrain.n, (long long)c.ptest.n, settings);
    sb_printf(&csv, "procedure,run,accuracy\n");
    for (int r = 0; r < R; r++) sb_printf(&csv, "limited,%d,%.6f\nscratch,%d,%.6f\n", r + 1, c.lim[r], r + 1, c.scr[r]);
    fputs(md.s, o->log ? o->log : stdout);
    double *xl = cm_xmalloc(sizeof(double) * EL), *ml = cm_xmalloc(sizeof(double) * EL), *sl = cm_xmalloc(sizeof(double) * EL);
    double *xs = cm_xmalloc(sizeof(double) * ES), *ms = cm_xmalloc(sizeof(double) * ES), *ss = cm_xmalloc(sizeof(double) * ES);
    curve_stats(c.lim_curve, R, EL, xl, ml, sl);
    curve_stats(c.scr_curve, R, ES, xs, ms, ss);
    double px[2] = {1, ES > EL ? ES : EL}, pl[2] = {PAPER_LIMITED, PAPER_LIMITED}, pscr[2] = {PAPER_SCRATCH, PAPER_SCRATCH};
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "experiment", "related");
    cJSON_AddStringToObject(root, "classes", classes);
    cJSON_AddStringToObject(root, "settings", settings);
    cJSON_AddItemToObject(root, "limited", exp_json_array(c.lim, R));
    cJSON_AddItemToObject(root, "scratch", exp_json_array(c.scr, R));
    cJSON_AddNumberToObject(root, "welch_p", isfinite(w.p) ? w.p : -1);
    cJSON_AddItemToObject(root, "limited_curve_mean_pct", exp_json_array(ml, EL));
    cJSON_AddItemToObject(root, "scratch_curve_mean_pct", exp_json_array(ms, ES));
    rc = exp_write_text(exp_path(o, "related.md", path, sizeof path), &md);
    if (rc == 0) rc = exp_write_text(exp_path(o, "related.csv", path, sizeof path), &csv);
    if (rc == 0) rc = exp_write_json(exp_path(o, "related.json", path, sizeof path), root);
    plot_spec ps = {.title = "Fig. 5 analogue: video -> IMU, personalised at the held-out location",
                    .xlabel = "epoch", .ylabel = "accuracy on personal_test (%)", .log_x = 1, .ymin = 0,
                    .ymax = 100, .n_series = 4};
    ps.series[0] = (plot_series){"Transfer+LimitedTrain (ours)", EL, xl, ml, EL <= 60 ? sl : NULL, 0};
    ps.series[1] = (plot_series){"Scratch (ours)", ES, xs, ms, ES <= 60 ? ss : NULL, 0};
    ps.series[2] = (plot_series){"Transfer+LimitedTrain (paper, final)", 2, px, pl, NULL, 1};
    ps.series[3] = (plot_series){"Scratch (paper, final)", 2, px, pscr, NULL, 1};
    if (rc == 0) rc = plot_write(&ps, exp_path(o, "fig5_related", path, sizeof path));
    cJSON_Delete(root);
    sb_free(&md), sb_free(&csv);
    free(xl), free(ml), free(sl), free(xs), free(ms), free(ss);
  }
  nn_model_free(c.teacher);
  free(c.lim), free(c.scr), free(c.lim_curve), free(c.scr_curve);
  proc_set_free(&c.ptrain);
  proc_set_free(&c.ptest);
  exp_data_free(&c.d);
  return rc;
}
