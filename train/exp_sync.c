/*
 * `cmact experiment sync-error`: how clock-sync error degrades cross-modal transfer, the
 * question the study left open.
 *
 * A clock offset only corrupts transfer where it pairs different activities: in a clip of one
 * activity a teacher window shifted by 2 s still meets the same activity. So the sweep's transfer
 * data come from the sessions of --sessions that change activity (their labels name two or more
 * activities; the simulator's --schedules sessions, or real recordings with transitions), minus
 * any that lie in the test or personalisation splits of --data. For each offset S of --offsets
 * they are windowed by running `cmact sync FILES --inject-offset STUDENT=S` with a split file that
 * puts every window into 'transfer' (the shift is applied to the student modality's raw stream by
 * timestamp before windowing, never by splicing finished windows). Everything else comes from
 * --data, the aligned study dataset: the teacher is trained once on its pretrain split,
 * LimitTrainSet is drawn from its limited split and every model is tested on its test split, so
 * only the transfer pairing is corrupted. The sweep's windows are restandardised with --data's
 * statistics, so the student sees its inputs on the same scale at transfer and at test time.
 *
 * Reported per offset: the transfer windows, the fraction of them whose student data (recorded
 * S seconds off) come mostly from another activity than the window's label, and the mean share of
 * student time outside the label's activity, both from the session files' labels
 * (exp_sync_sessions.c); |S| in units of --data's median measured alignment uncertainty, which is
 * also shaded on the figure; PureTransfer and Transfer+LimitedTrain (mean, sd); and the student
 * alone (scratch on the same LimitTrainSet, aligned), to mark where transfer falls below it.
 * The one published curve on this dataset (Sandha et al., IoTDI 2020, an audio+IMU fusion model)
 * stands beside ours; `cmact experiment fusion-sync` (exp_fusion.c) rebuilds it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_util.h"
#include "exp.h"
#include "exp_report.h"
#include "exp_sync_build.h"
#include "exp_sync_sessions.h"
#include "plot.h"
#include "stats.h"

#define MAX_OFFSETS 40

typedef struct {
  const exp_opts *o;
  nn_modality T, S;
  exp_data base;
  proc_set tr_t[MAX_OFFSETS], tr_s[MAX_OFFSETS];
  int n_off;
  double offs[MAX_OFFSETS], mismatch[MAX_OFFSETS], outside[MAX_OFFSETS];
  int64_t n_win[MAX_OFFSETS];
  exp_session_list sessions;   /* every session of --sessions, with labels */
  size_t *used;                /* indices into sessions.v: the multi-activity ones taken */
  size_t n_used, n_multi_excluded;
  nn_model *teacher;
  double *pure, *lim; /* [offset][run] */
} sweep;

static uint64_t run_seed(const sweep *c, int r) { return c->o->seed + 1 + (uint64_t)r; }

static int job(void *arg, int j) {
  sweep *c = arg;
  const int R = c->o->runs, k = j / R, run = j % R;
  const int C = c->base.desc.n_classes;
  proc_fit_result r;
  nn_model *g = proc_transfer(c->teacher, &c->tr_t[k], &c->tr_s[k], C, &c->o->cfg, run_seed(c, run), &r);
  if (!g) return cm_prefix_error("offset %g s", c->offs[k]);
  proc_fit_result_free(&r);
  nn_model *p = proc_pure(g, c->teacher);
  c->pure[j] = p ? proc_accuracy(p, &c->base.test[c->S]) : NAN;
  nn_model_free(p);
  proc_set l;
  proc_set_draw(&c->base.limited[c->S], c->o->cfg.limit_n, run_seed(c, run), &l);
  nn_model *m = proc_limited(g, &l, C, &c->o->cfg, run_seed(c, run), NULL, &r);
  proc_set_free(&l);
  nn_model_free(g);
  if (!m) return -1;
  proc_fit_result_free(&r);
  c->lim[j] = proc_accuracy(m, &c->base.test[c->S]);
  nn_model_free(m);
  return 0;
}

static int parse_offsets(sweep *c, const char *s) {
  char *copy = cm_xstrdup(s), *save = NULL;
  int has_zero = 0;
  c->n_off = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    double v;
    if (c->n_off == MAX_OFFSETS || cm_parse_double(t, "--offsets", &v) < 0) {
      free(copy);
      return cm_set_error("--offsets '%s': expected up to %d numbers (seconds)", s, MAX_OFFSETS);
    }
    has_zero |= v == 0;
    c->offs[c->n_off++] = v;
  }
  free(copy);
  if (!has_zero) return cm_set_error("--offsets '%s' must include 0 (the aligned base)", s);
  return 0;
}

/* DIR/sync/offset_<S>.h5 from the chosen sessions, with the cmact binary (exp_sync_build.h). */
static int build_dataset(const sweep *c, double off, const char *split, char *path, size_t n) {
  snprintf(path, n, "%s/sync/offset_%+.3f.h5", c->o->out, off);
  return exp_sync_run(c->o, &c->sessions, c->used, c->n_used, proc_modality_name(c->S), off, split, path);
}

/* Choose the sessions of --sessions that change activity and are not in --data's test or
 * personalisation splits (their windows must not be seen, even unlabelled). */
static int choose_sessions(sweep *c) {
  if (exp_sessions_scan(c->o->sessions, &c->sessions) < 0) return -1;
  cm_dataset *d = cm_dataset_open(c->o->data);
  if (!d) return -1;
  char(*held)[CM_SESSION_NAME_LEN] = NULL;
  size_t n_held = 0;
  static const char *held_splits[3] = {"test", "personal_train", "personal_test"};
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; i++) rc = exp_split_session_names(d, held_splits[i], &held, &n_held);
  cm_dataset_close_reader(d);
  c->used = cm_xmalloc(sizeof(size_t) * (c->sessions.n + 1));
  for (size_t i = 0; i < c->sessions.n && rc == 0; i++) {
    if (c->sessions.v[i].n_activities < 2) continue;
    int is_held = 0;
    for (size_t j = 0; j < n_held && !is_held; j++) is_held = strcmp(held[j], c->sessions.v[i].name) == 0;
    if (is_held) c->n_multi_excluded++;
    else c->used[c->n_used++] = i;
  }
  free(held);
  if (rc == 0 && c->n_used == 0)
    rc = cm_set_error("%s: no session with an activity change%s (a shift only pairs different activities "
                      "where the activity changes; simulate some with `cmact simulate --schedules N`)",
                      c->o->sessions, c->n_multi_excluded ? " outside the test and personalisation splits" : "");
  return rc;
}

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

/* Median and 95th percentile of the measured alignment uncertainty of a split's windows. */
static void uncertainty(const char *path, const char *split, double *med, double *p95) {
  *med = *p95 = NAN;
  cm_dataset *d = cm_dataset_open(path);
  if (!d) return;
  int sp = cm_dataset_find_split(d, split);
  int64_t n = sp >= 0 ? cm_dataset_split_size(d, sp) : 0;
  if (n > 0) {
    float *u = cm_xmalloc(sizeof(float) * (size_t)n);
    if (cm_dataset_read(d, sp, 0, n, NULL, NULL, NULL, NULL, NULL, NULL, u) == 0) {
      qsort(u, (size_t)n, sizeof *u, cmp_float);
      *med = u[n / 2], *p95 = u[(int64_t)(0.95 * (double)(n - 1))];
    }
    free(u);
  }
  cm_dataset_close_reader(d);
}

/* Per offset dataset: the student-data/label mismatch of its transfer windows. */
static int measure_mismatch(sweep *c, int k, const char *path) {
  cm_dataset *d = cm_dataset_open(path);
  if (!d) return -1;
  cm_dataset_session_row *tab = NULL;
  size_t n_tab = 0;
  int rc = cm_dataset_get_sessions(d, &tab, &n_tab);
  cm_dataset_close_reader(d);
  if (rc < 0) return -1;
  const proc_set *s = &c->tr_s[k];
  double *cover = cm_xmalloc(sizeof(double) * (size_t)(s->n ? s->n : 1));
  int64_t have = exp_student_label_cover(s, c->offs[k], c->base.desc.window_s, tab, n_tab,
                                         (const char(*)[CM_CLASS_NAME_LEN])c->base.desc.class_names, &c->sessions, cover);
  int64_t mis = 0;
  double out = 0;
  for (int64_t i = 0; i < s->n; i++) {
    if (!isfinite(cover[i])) continue;
    mis += cover[i] < 0.5;
    out += 1 - cover[i];
  }
  c->n_win[k] = s->n;
  c->mismatch[k] = have ? (double)mis / (double)have : NAN;
  c->outside[k] = have ? out / (double)have : NAN;
  free(cover);
  free(tab);
  return 0;
}

int exp_sync_error(const exp_opts *o) {
  sweep c;
  memset(&c, 0, sizeof c);
  c.o = o;
  if (exp_pair_parse(o->pair, &c.T, &c.S) < 0 || parse_offsets(&c, o->offsets) < 0) return -1;
  if (exp_mkdir(o->out) < 0) return -1;
  /* sort offsets so the curve is drawn left to right */
  for (int i = 1; i < c.n_off; i++)
    for (int j = i; j > 0 && c.offs[j - 1] > c.offs[j]; j--) {
      double t = c.offs[j];
      c.offs[j] = c.offs[j - 1], c.offs[j - 1] = t;
    }
  char paths[MAX_OFFSETS][4096], split[4096];
  int rc = choose_sessions(&c);
  if (rc == 0) rc = exp_data_load(&c.base, o->data, (1u << c.T) | (1u << c.S), o->video_input);
  if (rc == 0) rc = exp_sync_split_file(o, split, sizeof split);
  if (rc == 0) {
    fprintf(o->log ? o->log : stdout, "sync-error: %zu sessions with an activity change in %s%s\n", c.n_used,
            o->sessions, c.n_multi_excluded ? " (more are in --data's test/personalisation splits: left out)" : "");
    cm_progress pr;
    cm_progress_begin(&pr, "cmact sync per offset", c.n_off);
    for (int k = 0; k < c.n_off && rc == 0; k++) {
      rc = build_dataset(&c, c.offs[k], split, paths[k], sizeof paths[k]);
      cm_progress_step(&pr, k + 1);
    }
    cm_progress_end(&pr);
  }
  cm_dataset *base_ds = rc == 0 ? cm_dataset_open(o->data) : NULL;
  if (rc == 0 && !base_ds) rc = -1;
  for (int k = 0; k < c.n_off && rc == 0; k++) {
    cm_dataset *d = cm_dataset_open(paths[k]);
    if (!d) {
      rc = -1;
      break;
    }
    rc = proc_set_load(d, "transfer", c.T, c.base.transfer[c.T].shape, c.base.transfer[c.T].ndim, &c.tr_t[k]);
    if (rc == 0)
      rc = proc_set_load(d, "transfer", c.S, c.base.transfer[c.S].shape, c.base.transfer[c.S].ndim, &c.tr_s[k]);
    cm_dataset_close_reader(d);
    if (rc == 0 && c.tr_s[k].n == 0) rc = cm_set_error("%s: no transfer windows", paths[k]);
    if (rc < 0) break;
    exp_restandardise(&c.tr_t[k], paths[k], base_ds, &c.base.desc);
    exp_restandardise(&c.tr_s[k], paths[k], base_ds, &c.base.desc);
    rc = measure_mismatch(&c, k, paths[k]);
  }
  if (base_ds) cm_dataset_close_reader(base_ds);
  const int R = o->runs, K = c.n_off;
  if (rc == 0) {
    proc_fit_result r;
    c.teacher = proc_teacher(&c.base.pre[c.T], c.base.desc.n_classes, &o->cfg, o->seed + 1000, &r);
    if (!c.teacher) rc = -1;
    else proc_fit_result_free(&r);
  }
  c.pure = cm_xcalloc((size_t)K * R, sizeof(double));
  c.lim = cm_xcalloc((size_t)K * R, sizeof(double));
  if (rc == 0) rc = exp_pool_run(K * R, o->threads, NULL, job, &c, "transfers per offset");
  if (rc == 0) {
    /* the student alone: scratch on the same LimitTrainSet, aligned (no transfer involved) */
    double scr[64];
    int Rs = R < 64 ? R : 64;
    for (int r = 0; r < Rs && rc == 0; r++) {
      proc_set l;
      proc_fit_result fr;
      proc_set_draw(&c.base.limited[c.S], o->cfg.limit_n, run_seed(&c, r), &l);
      nn_model *m = proc_scratch(c.S, &l, c.base.desc.n_classes, &o->cfg, run_seed(&c, r), NULL, &fr);
      proc_set_free(&l);
      if (!m) rc = -1;
      else {
        proc_fit_result_free(&fr);
        scr[r] = proc_accuracy(m, &c.base.test[c.S]);
        nn_model_free(m);
      }
    }
    double unc, unc95, sm = stats_mean(scr, Rs);
    uncertainty(o->data, "test", &unc, &unc95);
    char settings[1024], a[32], b[32], d[32], e[32], path[4096];
    exp_settings_line(o, &c.base, settings, sizeof settings);
    strbuf md = {0}, csv = {0};
    sb_printf(&md, "## Sync error: %s, offset injected into the %s stream (%d runs)\n\n", o->pair,
              proc_modality_name(c.S), R);
    sb_printf(&md, "| offset (s) | \\|offset\\| / median uncertainty | transfer windows | student data mostly from another "
                   "activity | student time outside the label's activity | PureTransfer | Transfer+Limited | below "
                   "scratch (%s) |\n|---|---|---|---|---|---|---|---|\n", exp_pct(sm, a, sizeof a));
    sb_printf(&csv, "offset_s,procedure,run,accuracy\n");
    double x[MAX_OFFSETS], mp[MAX_OFFSETS], sp[MAX_OFFSETS], ml[MAX_OFFSETS], sl[MAX_OFFSETS], ch[MAX_OFFSETS],
        scrl[MAX_OFFSETS];
    cJSON *root = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    for (int k = 0; k < K; k++) {
      double *pu = c.pure + k * R, *li = c.lim + k * R;
      x[k] = c.offs[k];
      mp[k] = 100 * stats_mean(pu, R), sp[k] = 100 * stats_sd(pu, R);
      ml[k] = 100 * stats_mean(li, R), sl[k] = 100 * stats_sd(li, R);
      ch[k] = 100 * c.mismatch[k], scrl[k] = 100 * sm;
      const char *below = ml[k] < scrl[k] && mp[k] < scrl[k] ? "both" : ml[k] < scrl[k] ? "Limited" : mp[k] < scrl[k] ? "Pure" : "";
      sb_printf(&md, "| %+.2f | %.2f | %lld | %.1f%% | %.1f%% | %s ± %s | %s ± %s | %s |\n", c.offs[k],
                fabs(c.offs[k]) / unc, (long long)c.n_win[k], ch[k], 100 * c.outside[k],
                exp_pct(mp[k] / 100, a, sizeof a), exp_pct(sp[k] / 100, b, sizeof b), exp_pct(ml[k] / 100, d, sizeof d),
                exp_pct(sl[k] / 100, e, sizeof e), below);
      for (int r = 0; r < R; r++)
        sb_printf(&csv, "%.6f,pure,%d,%.6f\n%.6f,limited,%d,%.6f\n", c.offs[k], r + 1, pu[r], c.offs[k], r + 1, li[r]);
      cJSON *j = cJSON_CreateObject();
      cJSON_AddNumberToObject(j, "offset_s", c.offs[k]);
      cJSON_AddNumberToObject(j, "offset_over_median_uncertainty", isfinite(unc) && unc > 0 ? fabs(c.offs[k]) / unc : -1);
      cJSON_AddNumberToObject(j, "transfer_windows", (double)c.n_win[k]);
      cJSON_AddNumberToObject(j, "student_other_activity_fraction", isfinite(c.mismatch[k]) ? c.mismatch[k] : -1);
      cJSON_AddNumberToObject(j, "student_time_outside_label", isfinite(c.outside[k]) ? c.outside[k] : -1);
      cJSON_AddItemToObject(j, "pure", exp_json_array(pu, R));
      cJSON_AddItemToObject(j, "limited", exp_json_array(li, R));
      cJSON_AddItemToArray(rows, j);
    }
    char sandha[256];
    sb_printf(&md, "\nTransfer windows: %zu sessions with activity changes from %s (%zu more left out: they are in "
                   "the test or personalisation splits of the dataset), windowed per offset by `cmact sync "
                   "--inject-offset %s=S`; teacher, LimitTrainSet and test from the aligned dataset. \"Student data "
                   "mostly from another activity\": windows whose student samples (recorded S s off) lie less than "
                   "half in the label's activity, by the sessions' labels. Measured alignment uncertainty of the "
                   "dataset's test windows: median %.3f s, 95th percentile %.3f s (shaded: ± the median). Scratch "
                   "(student alone, aligned, %d runs): %s%%. %s; cmact rebuilds that model in `cmact experiment "
                   "fusion-sync`. %s\n",
              c.n_used, o->sessions, c.n_multi_excluded, proc_modality_name(c.S), unc, unc95, Rs,
              exp_pct(sm, a, sizeof a), exp_sandha_text(sandha, sizeof sandha), settings);
    fputs(md.s, o->log ? o->log : stdout);
    cJSON_AddStringToObject(root, "experiment", "sync-error");
    cJSON_AddStringToObject(root, "pair", o->pair);
    cJSON_AddStringToObject(root, "settings", settings);
    cJSON_AddNumberToObject(root, "median_uncertainty_s", isfinite(unc) ? unc : -1);
    cJSON_AddNumberToObject(root, "p95_uncertainty_s", isfinite(unc95) ? unc95 : -1);
    cJSON *names = cJSON_AddArrayToObject(root, "transfer_sessions");
    for (size_t i = 0; i < c.n_used; i++) cJSON_AddItemToArray(names, cJSON_CreateString(c.sessions.v[c.used[i]].name));
    cJSON_AddItemToObject(root, "scratch", exp_json_array(scr, Rs));
    cJSON_AddItemToObject(root, "by_offset", rows);
    rc = exp_write_text(exp_path(o, "sync_error.md", path, sizeof path), &md);
    if (rc == 0) rc = exp_write_text(exp_path(o, "sync_error.csv", path, sizeof path), &csv);
    if (rc == 0) rc = exp_write_json(exp_path(o, "sync_error.json", path, sizeof path), root);
    /* published at shifts of 0, 0.5 and 2 s */
    char title[160], band[96];
    snprintf(title, sizeof title, "Sync error: %s, accuracy against the injected %s offset", o->pair,
             proc_modality_name(c.S));
    snprintf(band, sizeof band, "measured alignment uncertainty (± median %.2f s)", unc);
    plot_spec ps = {.title = title, .xlabel = "offset injected into the student stream (s)",
                    .ylabel = "accuracy on the aligned test split (%)", .ymin = 0, .ymax = 100, .n_series = 6};
    ps.series[0] = (plot_series){"PureTransfer", K, x, mp, sp, 0};
    ps.series[1] = (plot_series){"Transfer+LimitedTrain", K, x, ml, sl, 0};
    ps.series[2] = (plot_series){"Scratch, student alone (aligned)", K, x, scrl, NULL, 1};
    ps.series[3] = (plot_series){"windows with student data from another activity (%)", K, x, ch, NULL, 1};
    ps.series[4] = (plot_series){"Sandha et al. fusion (published)", EXP_SANDHA_N, exp_sandha_offset_s, exp_sandha_acc, NULL, 1};
    ps.series[5] = (plot_series){"Sandha et al., shift-augmented", EXP_SANDHA_N, exp_sandha_offset_s, exp_sandha_acc_shifted,
                                 NULL, 1};
    if (isfinite(unc) && unc > 0) ps.band_label = band, ps.band_x0 = -unc, ps.band_x1 = unc;
    if (rc == 0) rc = plot_write(&ps, exp_path(o, "sync_error", path, sizeof path));
    cJSON_Delete(root);
    sb_free(&md), sb_free(&csv);
  }
  nn_model_free(c.teacher);
  free(c.pure), free(c.lim), free(c.used);
  for (int k = 0; k < MAX_OFFSETS; k++) proc_set_free(&c.tr_t[k]), proc_set_free(&c.tr_s[k]);
  exp_data_free(&c.base);
  exp_sessions_free(&c.sessions);
  return rc;
}
