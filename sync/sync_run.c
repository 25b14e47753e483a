/*
 * The `cmact sync` job; see sync_run.h for its steps. Determinism: sessions are ordered by id,
 * every random draw is seeded from the split spec, workers only compute, and the one thread
 * that writes the dataset consumes their results in job order (pool.h), so the file does not
 * depend on the thread count. Statistics are summed in that same order, in double precision.
 */
#include "sync_run.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cm_dataset.h"
#include "cm_util.h"
#include "pool.h"
#include "window.h"

#define RUN_WINDOWS 32

/* ---- step 0: inputs ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct {
  char **v;
  size_t n, cap;
} strvec;
static void sv_add(strvec *s, const char *x) {
  if (s->n == s->cap) s->cap = s->cap ? 2 * s->cap : 64, s->v = cm_xrealloc(s->v, s->cap * sizeof *s->v);
  s->v[s->n++] = cm_xstrdup(x);
}

/* Files named on the command line are taken as they are; a folder contributes its *.h5 files
 * except the dataset being written (so `cmact sync DIR --out DIR/d.h5` can be rerun). */
static int expand_inputs(char **in, int n, const char *out_path, strvec *out) {
  const char *out_base = strrchr(out_path, '/') ? strrchr(out_path, '/') + 1 : out_path;
  for (int i = 0; i < n; i++) {
    struct stat st;
    if (stat(in[i], &st) != 0) return cm_set_error("%s: no such file or folder", in[i]);
    if (!S_ISDIR(st.st_mode)) {
      sv_add(out, in[i]);
      continue;
    }
    DIR *d = opendir(in[i]);
    if (!d) return cm_set_error("%s: cannot read the folder", in[i]);
    struct dirent *e;
    size_t before = out->n;
    while ((e = readdir(d))) {
      size_t l = strlen(e->d_name);
      if (l > 3 && strcmp(e->d_name + l - 3, ".h5") == 0 && strcmp(e->d_name, out_base) != 0) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", in[i], e->d_name);
        sv_add(out, p);
      }
    }
    closedir(d);
    if (out->n == before) return cm_set_error("%s: no .h5 session files in the folder", in[i]);
  }
  qsort(out->v, out->n, sizeof *out->v, cmp_str);
  return 0;
}

typedef struct {
  char id[64], user[64], location[64];
  char *path;
  char error[256];
  int has_excluded_class; /* a label of a class the personalization set leaves out */
} file_meta;
static int cmp_meta(const void *a, const void *b) {
  const file_meta *x = a, *y = b;
  int c = strcmp(x->id, y->id);
  return c ? c : strcmp(x->path, y->path);
}

/* ---- the job state ---- */

typedef struct {
  sync_run_args *a;
  sync_session *ss;
  size_t n_ss;
  cm_progress prog;
  /* build pass */
  cm_dataset *ds;
  int split_id[CM_SPLIT_COUNT];
  int8_t **win_split;     /* per session, per window: split (-1 = none) */
  int32_t *ds_session;    /* per session: index in /sessions (-1 when skipped) */
  struct run_job {
    size_t s;
    int64_t w0, w1;
    uint8_t *video;
    float *imu, *audio;
  } *jobs;
  int64_t n_jobs;
  int64_t counts[CM_SPLIT_COUNT][CM_MAX_CLASSES];
  double imu_sum[12], imu_sq[12], audio_sum[CM_AUDIOFEAT_DIM], audio_sq[CM_AUDIOFEAT_DIM];
  int64_t n_imu_rows, n_audio_rows;
  int64_t windows_done;
} run_state;

static int plan_work(void *u, void *ts, int64_t i) {
  run_state *r = u;
  if (!r->ss[i].skipped) sync_plan_session(&r->ss[i], &r->a->opts); /* unreadable files */
  return 0;
}
static int plan_consume(void *u, int64_t i, int rc, const char *err) {
  run_state *r = u;
  cm_progress_step(&r->prog, i + 1);
  return 0;
}

static int build_init(void *u, void **ts) {
  run_state *r = u;
  sync_worker *w = cm_xmalloc(sizeof *w);
  if (sync_worker_init(w, &r->a->opts)) {
    free(w);
    return -1;
  }
  *ts = w;
  return 0;
}
static void build_free(void *u, void *ts) {
  sync_worker_free(ts);
  free(ts);
}

static int build_work(void *u, void *ts, int64_t i) {
  run_state *r = u;
  struct run_job *j = &r->jobs[i];
  const sync_opts *o = &r->a->opts;
  int64_t n = j->w1 - j->w0;
  j->video = cm_xmalloc((size_t)n * o->video_frames * o->video_size * o->video_size * 3);
  j->imu = cm_xmalloc((size_t)n * o->imu_steps * 12 * sizeof(float));
  j->audio = cm_xmalloc((size_t)n * CM_AUDIOFEAT_DIM * sizeof(float));
  return sync_build_windows(&r->ss[j->s], j->w0, j->w1, o, ts, j->video, j->imu, j->audio);
}

static int build_consume(void *u, int64_t i, int rc, const char *err) {
  run_state *r = u;
  struct run_job *j = &r->jobs[i];
  const sync_opts *o = &r->a->opts;
  int stop = 0;
  if (rc) {
    cm_set_error("%s", err);
    stop = 1;
  }
  size_t vbytes = (size_t)o->video_frames * o->video_size * o->video_size * 3;
  for (int64_t w = j->w0; w < j->w1 && !stop; w++) {
    const sync_session *ss = &r->ss[j->s];
    int sp = r->win_split[j->s][w];
    if (sp < 0) continue;
    int64_t k = w - j->w0;
    cm_window cw;
    cw.video = j->video + (size_t)k * vbytes;
    cw.imu = j->imu + (size_t)k * o->imu_steps * 12;
    cw.audio = j->audio + (size_t)k * CM_AUDIOFEAT_DIM;
    cw.label = ss->win[w].label;
    cw.session = r->ds_session[j->s];
    cw.t_start_ns = ss->win[w].t_ns;
    cw.sync_uncertainty_s = ss->win[w].uncertainty_s;
    if (cm_dataset_append(r->ds, r->split_id[sp], &cw)) {
      stop = 1;
      break;
    }
    r->counts[sp][cw.label]++;
    if (sp <= CM_SPLIT_LIMITED) {
      for (int t = 0; t < o->imu_steps; t++)
        for (int c = 0; c < 12; c++) {
          double x = cw.imu[12 * t + c];
          r->imu_sum[c] += x, r->imu_sq[c] += x * x;
        }
      r->n_imu_rows += o->imu_steps;
      for (int c = 0; c < CM_AUDIOFEAT_DIM; c++) {
        double x = cw.audio[c];
        r->audio_sum[c] += x, r->audio_sq[c] += x * x;
      }
      r->n_audio_rows++;
    }
  }
  r->windows_done += j->w1 - j->w0;
  cm_progress_step(&r->prog, r->windows_done);
  free(j->video), free(j->imu), free(j->audio);
  j->video = NULL, j->imu = NULL, j->audio = NULL;
  return stop;
}

/* ---- report ---- */

static int cmp_float(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static cJSON *session_json(const sync_session *ss) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "session_id", ss->session_id);
  cJSON *files = cJSON_AddArrayToObject(o, "files");
  for (int i = 0; i < ss->n_files; i++) cJSON_AddItemToArray(files, cJSON_CreateString(ss->paths[i]));
  cJSON_AddStringToObject(o, "user", ss->user);
  cJSON_AddStringToObject(o, "location", ss->location);
  static const char *roles[] = {"train", "test", "personal_train", "personal_test"};
  cJSON_AddStringToObject(o, "role", roles[ss->role]);
  cJSON_AddStringToObject(o, "status", ss->skipped ? "skipped" : "used");
  if (ss->skipped) {
    cJSON_AddStringToObject(o, "reason", ss->reason);
    return o;
  }
  cJSON_AddNumberToObject(o, "windows", (double)ss->n_win);
  cJSON *drop = cJSON_AddObjectToObject(o, "dropped");
  cJSON_AddNumberToObject(drop, "gap", (double)ss->n_drop_gap);
  cJSON_AddNumberToObject(drop, "unlabelled", (double)ss->n_drop_unlabeled);
  cJSON_AddNumberToObject(drop, "straddling", (double)ss->n_drop_straddle);
  cJSON_AddNumberToObject(drop, "excluded_class", (double)ss->n_drop_excluded);
  cJSON *streams = cJSON_AddObjectToObject(o, "streams");
  for (int r = 0; r < SR_COUNT; r++) {
    const sync_stream *s = &ss->st[r];
    cJSON *x = cJSON_AddObjectToObject(streams, sync_role_names[r]);
    cJSON_AddNumberToObject(x, "file", s->file);
    cJSON_AddNumberToObject(x, "drift_ppm", s->fit.drift_ppm);
    cJSON_AddNumberToObject(x, "fit_uncertainty_s", s->fit.uncertainty_s);
    cJSON_AddNumberToObject(x, "latency_median_s", s->fit.resid_median_s);
    cJSON_AddNumberToObject(x, "rejected_samples", (double)s->fit.n_rejected);
    cJSON_AddNumberToObject(x, "chrony_correction_s", s->chrony_corr_s);
    cJSON_AddNumberToObject(x, "chrony_uncertainty_s", s->chrony_unc_s);
    if (s->refine_tried) {
      cJSON *rf = cJSON_AddObjectToObject(x, "refinement");
      cJSON_AddBoolToObject(rf, "applied", s->refine_applied);
      cJSON_AddStringToObject(rf, "cue", s->refine_envelope ? "level envelope" : "onsets");
      cJSON_AddNumberToObject(rf, "lag_s", s->xc.lag_s);
      cJSON_AddNumberToObject(rf, "corr", s->xc.corr);
      cJSON_AddNumberToObject(rf, "psr", s->xc.psr);
      cJSON_AddNumberToObject(rf, "peak_ratio", s->xc.peak_ratio);
      cJSON_AddBoolToObject(rf, "confident", s->xc.confident);
      cJSON_AddNumberToObject(rf, "rival_peaks", s->xc.n_alias);
      cJSON_AddNumberToObject(rf, "rival_spread_s", s->xc.alias_spread_s);
      cJSON_AddNumberToObject(rf, "uncertainty_s", s->xc.uncertainty_s);
    }
    if (s->inject_offset_s != 0 || s->inject_drift_ppm != 0) {
      cJSON_AddNumberToObject(x, "injected_offset_s", s->inject_offset_s);
      cJSON_AddNumberToObject(x, "injected_drift_ppm", s->inject_drift_ppm);
    }
    if (ss->has_truth && isfinite(ss->truth_err_s[r])) cJSON_AddNumberToObject(x, "truth_error_s", ss->truth_err_s[r]);
    if (ss->has_truth && isfinite(ss->truth_clock_rel_s[r]))
      cJSON_AddNumberToObject(x, "truth_clock_error_vs_video_s", ss->truth_clock_rel_s[r]);
  }
  if (ss->has_truth) {
    cJSON_AddNumberToObject(o, "truth_relative_error_s", ss->truth_rel_err_s);
    cJSON_AddNumberToObject(o, "truth_relative_error_norefine_s", ss->truth_err_norefine_s);
  }
  float umax = 0;
  for (int64_t w = 0; w < ss->n_win; w++)
    if (ss->win[w].uncertainty_s > umax) umax = ss->win[w].uncertainty_s;
  cJSON_AddNumberToObject(o, "uncertainty_max_s", umax);
  return o;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Alignment error against the simulator's truth (sessions whose files hold /truth). */
static void truth_summary(run_state *r, FILE *t, cJSON *summary) {
  double *with = cm_xmalloc((r->n_ss + 1) * sizeof *with), *without = cm_xmalloc((r->n_ss + 1) * sizeof *without);
  size_t n = 0;
  int64_t n_win = 0, covered = 0, n_narrow = 0, covered_narrow = 0;
  for (size_t i = 0; i < r->n_ss; i++) {
    const sync_session *ss = &r->ss[i];
    if (ss->skipped || !ss->has_truth) continue;
    with[n] = ss->truth_rel_err_s, without[n++] = ss->truth_err_norefine_s;
    for (int64_t w = 0; w < ss->n_win; w++) {
      int ok = ss->win_truth_err[w] <= ss->win[w].uncertainty_s;
      n_win++, covered += ok;
      if (ss->win[w].uncertainty_s <= 0.1) n_narrow++, covered_narrow += ok;
    }
  }
  if (n == 0) {
    free(with), free(without);
    return;
  }
  cJSON *tj = cJSON_AddObjectToObject(summary, "truth");
  cJSON_AddNumberToObject(tj, "sessions", (double)n);
  static const double within[4] = {0.034, 0.100, 0.300, 0.700};
  fprintf(t, "alignment error against the simulator's truth (%zu sessions; largest stream-to-camera error):\n", n);
  for (int k = 0; k < 2; k++) {
    double *v = k ? without : with;
    qsort(v, n, sizeof *v, cmp_double);
    double med = v[n / 2], p95 = v[(size_t)(0.95 * (double)(n - 1) + 0.5)];
    double frac[4];
    for (int j = 0; j < 4; j++) {
      size_t c = 0;
      for (size_t i = 0; i < n; i++) c += v[i] <= within[j];
      frac[j] = (double)c / (double)n;
    }
    const char *name = k ? "clock model only" : "with refinement";
    fprintf(t, "  %-17s median %6.1f ms, p95 %6.1f ms, within 34/100/300/700 ms: %5.1f%% %5.1f%% %5.1f%% %5.1f%%\n", name,
            med * 1e3, p95 * 1e3, 100 * frac[0], 100 * frac[1], 100 * frac[2], 100 * frac[3]);
    cJSON *x = cJSON_AddObjectToObject(tj, k ? "clock_model_only" : "with_refinement");
    cJSON_AddNumberToObject(x, "median_s", med);
    cJSON_AddNumberToObject(x, "p95_s", p95);
    cJSON *fr = cJSON_AddArrayToObject(x, "fraction_within_34_100_300_700_ms");
    for (int j = 0; j < 4; j++) cJSON_AddItemToArray(fr, cJSON_CreateNumber(frac[j]));
  }
  double cov = n_win ? (double)covered / (double)n_win : 0;
  fprintf(t, "  stated window uncertainty covers the true error in %.1f%% of %lld windows\n", 100 * cov, (long long)n_win);
  cJSON_AddNumberToObject(tj, "uncertainty_coverage", cov);
  if (n_narrow)
    fprintf(t, "  of which %lld windows state 0.1 s or less; it covers the true error in %.1f%% of those\n", (long long)n_narrow,
            100.0 * (double)covered_narrow / (double)n_narrow);
  cJSON_AddNumberToObject(tj, "narrow_windows", (double)n_narrow);
  cJSON_AddNumberToObject(tj, "narrow_coverage", n_narrow ? (double)covered_narrow / (double)n_narrow : 0);
  cJSON_AddNumberToObject(tj, "windows", (double)n_win);
  free(with), free(without);
}

static void print_report(run_state *r, FILE *t, cJSON *summary) {
  const sync_run_args *a = r->a;
  size_t used = 0, skipped = 0, n_refined = 0, n_tried = 0, n_confident = 0;
  int64_t total_w = 0;
  for (size_t i = 0; i < r->n_ss; i++) {
    if (r->ss[i].skipped) {
      skipped++;
      continue;
    }
    used++;
    total_w += r->ss[i].n_win;
    for (int s = SR_AUDIO; s < SR_COUNT; s++) {
      const sync_stream *st = &r->ss[i].st[s];
      n_tried += st->refine_tried, n_refined += st->refine_applied, n_confident += st->refine_applied && st->xc.confident;
    }
  }
  fprintf(t, "sessions: %zu used, %zu skipped\n", used, skipped);
  for (size_t i = 0; i < r->n_ss; i++)
    if (r->ss[i].skipped) fprintf(t, "  skipped %s: %s\n", r->ss[i].session_id[0] ? r->ss[i].session_id : r->ss[i].paths[0], r->ss[i].reason);
  fprintf(t, "cross-modal refinement: applied to %zu of %zu stream pairs tried (%zu confident, the others with the clock model's uncertainty)\n",
          n_refined, n_tried, n_confident);
  /* uncertainty distribution over windows */
  float *u = cm_xmalloc((size_t)(total_w + 1) * sizeof *u);
  int64_t k = 0;
  for (size_t i = 0; i < r->n_ss; i++)
    for (int64_t w = 0; w < (r->ss[i].skipped ? 0 : r->ss[i].n_win); w++) u[k++] = r->ss[i].win[w].uncertainty_s;
  qsort(u, (size_t)k, sizeof *u, cmp_float);
  if (k) {
    fprintf(t, "window alignment uncertainty: median %.4f s, p95 %.4f s, max %.4f s\n", u[k / 2],
            u[(int64_t)(0.95 * (double)(k - 1))], u[k - 1]);
    cJSON *uj = cJSON_AddObjectToObject(summary, "uncertainty_s");
    cJSON_AddNumberToObject(uj, "median", u[k / 2]);
    cJSON_AddNumberToObject(uj, "p95", u[(int64_t)(0.95 * (double)(k - 1))]);
    cJSON_AddNumberToObject(uj, "max", u[k - 1]);
  }
  free(u);
  fprintf(t, "%-15s %8s", "split", "windows");
  for (int c = 0; c < a->split.n_classes; c++) fprintf(t, " %11.11s", a->split.classes[c]);
  fprintf(t, "\n");
  cJSON *cc = cJSON_AddObjectToObject(summary, "class_counts");
  for (int s = 0; s < CM_SPLIT_COUNT; s++) {
    int64_t n = 0;
    cJSON *arr = cJSON_AddArrayToObject(cc, cm_split_names[s]);
    for (int c = 0; c < a->split.n_classes; c++) n += r->counts[s][c], cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)r->counts[s][c]));
    fprintf(t, "%-15s %8lld", cm_split_names[s], (long long)n);
    for (int c = 0; c < a->split.n_classes; c++) fprintf(t, " %11lld", (long long)r->counts[s][c]);
    fprintf(t, "\n");
  }
  truth_summary(r, t, summary);
  cJSON_AddNumberToObject(summary, "sessions_used", (double)used);
  cJSON_AddNumberToObject(summary, "sessions_skipped", (double)skipped);
  cJSON_AddNumberToObject(summary, "refined_streams", (double)n_refined);
  cJSON_AddNumberToObject(summary, "refinement_tried", (double)n_tried);
  cJSON_AddNumberToObject(summary, "refinement_confident", (double)n_confident);
}

/* ---- the job ---- */

/* Whether any label of the session names a class the personalization set excludes (stairs):
 * the default personalization location is the one whose sessions never do. */
static int labels_have_excluded_class(cm_session *s, const cm_session_meta *m, const cm_name_list *excluded) {
  int found = 0;
  for (int64_t first = 0; first < m->n_labels && !found; first += 64) {
    cm_label_row rows[64];
    int64_t n = m->n_labels - first < 64 ? m->n_labels - first : 64;
    if (cm_session_read_labels(s, first, n, rows) < 0) return 0;
    for (int64_t k = 0; k < n && !found; k++) found = cm_name_list_has(excluded, rows[k].activity);
  }
  return found;
}

static int group_sessions(run_state *r, const strvec *files) {
  file_meta *fm = cm_xcalloc(files->n + 1, sizeof *fm);
  for (size_t i = 0; i < files->n; i++) {
    fm[i].path = files->v[i];
    cm_session *s = cm_session_open(files->v[i]);
    if (!s) {
      snprintf(fm[i].error, sizeof fm[i].error, "%s", cm_error());
      snprintf(fm[i].id, sizeof fm[i].id, "~%s", files->v[i]); /* unreadable files sort last, alone */
      continue;
    }
    const cm_session_meta *m = cm_session_get_meta(s);
    snprintf(fm[i].id, sizeof fm[i].id, "%s", m->session_id);
    snprintf(fm[i].user, sizeof fm[i].user, "%s", m->user);
    snprintf(fm[i].location, sizeof fm[i].location, "%s", m->location);
    fm[i].has_excluded_class = labels_have_excluded_class(s, m, &r->a->split.personal_exclude_classes);
    cm_session_close(s);
  }
  qsort(fm, files->n, sizeof *fm, cmp_meta);
  r->ss = cm_xcalloc(files->n + 1, sizeof *r->ss);
  for (size_t i = 0; i < files->n; i++) {
    sync_session *cur = r->n_ss ? &r->ss[r->n_ss - 1] : NULL;
    if (!cur || fm[i].error[0] || strcmp(cur->session_id, fm[i].id) != 0 || cur->skipped) {
      cur = &r->ss[r->n_ss++];
      snprintf(cur->session_id, sizeof cur->session_id, "%s", fm[i].error[0] ? "" : fm[i].id);
      snprintf(cur->user, sizeof cur->user, "%s", fm[i].user);
      snprintf(cur->location, sizeof cur->location, "%s", fm[i].location);
      if (fm[i].error[0]) cur->skipped = 1, snprintf(cur->reason, sizeof cur->reason, "%s", fm[i].error);
    }
    if (cur->n_files == SYNC_MAX_FILES) {
      cur->skipped = 1;
      snprintf(cur->reason, sizeof cur->reason, "more than %d files share this session id", SYNC_MAX_FILES);
      continue;
    }
    cur->paths[cur->n_files++] = cm_xstrdup(fm[i].path);
    cur->has_excluded_class |= fm[i].has_excluded_class;
  }
  free(fm);
  return 0;
}

static void free_state(run_state *r) {
  for (size_t i = 0; i < r->n_ss; i++) {
    if (r->win_split) free(r->win_split[i]);
    sync_session_free(&r->ss[i]);
  }
  free(r->win_split);
  free(r->ss);
  free(r->ds_session);
  if (r->jobs)
    for (int64_t i = 0; i < r->n_jobs; i++) free(r->jobs[i].video), free(r->jobs[i].imu), free(r->jobs[i].audio);
  free(r->jobs);
}

int sync_run(sync_run_args *a, FILE *table) {
  run_state r;
  memset(&r, 0, sizeof r);
  r.a = a;
  a->opts.split = &a->split;
  strvec files = {0};
  int rc = -1;
  cJSON *report = NULL;
  if (expand_inputs(a->inputs, a->n_inputs, a->out_path, &files)) goto out;
  if (group_sessions(&r, &files)) goto out;

  /* 1. roles (every session, usable or not, so a skip never moves another session's role) */
  cm_split_session *sv = cm_xmalloc((r.n_ss + 1) * sizeof *sv);
  int *role = cm_xmalloc((r.n_ss + 1) * sizeof *role);
  for (size_t i = 0; i < r.n_ss; i++)
    sv[i].name = r.ss[i].session_id, sv[i].user = r.ss[i].user, sv[i].location = r.ss[i].location,
    sv[i].has_excluded_class = r.ss[i].has_excluded_class;
  char ploc[CM_SPLIT_NAME_LEN];
  cm_split_assign_sessions(&a->split, sv, r.n_ss, role, ploc);
  for (size_t i = 0; i < r.n_ss; i++) r.ss[i].role = role[i];
  free(sv), free(role);

  /* 2. plan */
  cm_pool pool = {a->threads, 2 * a->threads, NULL, NULL, plan_work, plan_consume, &r};
  cm_progress_begin(&r.prog, "planning sessions", (int64_t)r.n_ss);
  if (cm_pool_run(&pool, (int64_t)r.n_ss)) goto out;
  cm_progress_end(&r.prog);

  /* 3. deal the training windows */
  r.win_split = cm_xcalloc(r.n_ss + 1, sizeof *r.win_split);
  r.ds_session = cm_xmalloc((r.n_ss + 1) * sizeof *r.ds_session);
  int64_t n_train = 0, n_used = 0, n_windows = 0;
  for (size_t i = 0; i < r.n_ss; i++) {
    r.ds_session[i] = r.ss[i].skipped ? -1 : (int32_t)n_used++;
    if (!r.ss[i].skipped && r.ss[i].role == CM_ROLE_TRAIN) n_train += r.ss[i].n_win;
  }
  if (n_used == 0) {
    cm_set_error("no usable session among %zu (first reason: %s)", r.n_ss, r.n_ss ? r.ss[0].reason : "no input");
    goto out;
  }
  int *deal = cm_xmalloc((size_t)(n_train + 1) * sizeof *deal);
  cm_split_assign_train_windows(&a->split, (size_t)n_train, deal);
  int64_t k = 0;
  for (size_t i = 0; i < r.n_ss; i++) {
    sync_session *ss = &r.ss[i];
    if (ss->skipped) continue;
    r.win_split[i] = cm_xmalloc((size_t)ss->n_win + 1);
    for (int64_t w = 0; w < ss->n_win; w++)
      r.win_split[i][w] = (int8_t)(ss->role == CM_ROLE_TRAIN ? deal[k++]
                                   : ss->role == CM_ROLE_TEST ? CM_SPLIT_TEST
                                   : ss->role == CM_ROLE_PERSONAL_TRAIN ? CM_SPLIT_PERSONAL_TRAIN
                                                                         : CM_SPLIT_PERSONAL_TEST);
    n_windows += ss->n_win;
  }
  free(deal);

  /* 4. the dataset */
  cm_dataset_desc desc;
  memset(&desc, 0, sizeof desc);
  desc.video_frames = a->opts.video_frames, desc.video_height = desc.video_width = a->opts.video_size;
  desc.video_channels = 3, desc.audio_dim = CM_AUDIOFEAT_DIM, desc.imu_steps = a->opts.imu_steps, desc.imu_channels = 12;
  desc.n_classes = a->split.n_classes;
  for (int c = 0; c < desc.n_classes; c++) snprintf(desc.class_names[c], CM_CLASS_NAME_LEN, "%s", a->split.classes[c]);
  desc.window_s = a->opts.window_s, desc.hop_s = a->opts.hop_s, desc.seed = a->split.seed;
  snprintf(desc.command_line, sizeof desc.command_line, "%s", a->command_line ? a->command_line : "");
  if (!(r.ds = cm_dataset_create(a->out_path, &desc, a->overwrite))) goto out;
  for (int s = 0; s < CM_SPLIT_COUNT; s++)
    if ((r.split_id[s] = cm_dataset_add_split(r.ds, cm_split_names[s])) < 0) goto fail_ds;
  r.jobs = cm_xcalloc((size_t)(n_windows / RUN_WINDOWS + r.n_ss + 1), sizeof *r.jobs);
  for (size_t i = 0; i < r.n_ss; i++) {
    if (r.ss[i].skipped) continue;
    for (int64_t w = 0; w < r.ss[i].n_win; w += RUN_WINDOWS) {
      struct run_job *j = &r.jobs[r.n_jobs++];
      j->s = i, j->w0 = w, j->w1 = w + RUN_WINDOWS < r.ss[i].n_win ? w + RUN_WINDOWS : r.ss[i].n_win;
    }
  }
  cm_pool bpool = {a->threads, 2 * a->threads, build_init, build_free, build_work, build_consume, &r};
  cm_progress_begin(&r.prog, "building windows", n_windows);
  if (cm_pool_run(&bpool, r.n_jobs)) goto fail_ds;
  cm_progress_end(&r.prog);

  /* 5. sessions table, statistics, provenance */
  cm_dataset_session_row *rows = cm_xcalloc((size_t)n_used, sizeof *rows);
  for (size_t i = 0; i < r.n_ss; i++) {
    const sync_session *ss = &r.ss[i];
    if (ss->skipped) continue;
    cm_dataset_session_row *row = &rows[r.ds_session[i]];
    snprintf(row->name, sizeof row->name, "%s", ss->session_id);
    snprintf(row->user, sizeof row->user, "%.31s", ss->user);
    snprintf(row->location, sizeof row->location, "%.31s", ss->location);
    const sync_stream *st = ss->st;
    row->offset_video_s = st[SR_VIDEO].chrony_corr_s + st[SR_VIDEO].refine_s + st[SR_VIDEO].inject_offset_s;
    row->offset_audio_s = st[SR_AUDIO].chrony_corr_s + st[SR_AUDIO].refine_s + st[SR_AUDIO].inject_offset_s;
    row->offset_imu_s = st[SR_IMU_R].chrony_corr_s + st[SR_IMU_R].refine_s + st[SR_IMU_R].inject_offset_s;
    float umax = 0;
    for (int64_t w = 0; w < ss->n_win; w++)
      if (ss->win[w].uncertainty_s > umax) umax = ss->win[w].uncertainty_s;
    row->uncertainty_s = umax;
    row->injected_offset_s = a->inject_any_s;
  }
  int bad = cm_dataset_set_sessions(r.ds, rows, (size_t)n_used);
  free(rows);
  if (bad) goto fail_ds;
  float imu_mean[12], imu_std[12], au_mean[CM_AUDIOFEAT_DIM], au_std[CM_AUDIOFEAT_DIM];
  for (int c = 0; c < 12; c++) {
    double n = r.n_imu_rows ? (double)r.n_imu_rows : 1, m = r.imu_sum[c] / n;
    imu_mean[c] = (float)m, imu_std[c] = (float)sqrt(fmax(r.imu_sq[c] / n - m * m, 0));
  }
  for (int c = 0; c < CM_AUDIOFEAT_DIM; c++) {
    double n = r.n_audio_rows ? (double)r.n_audio_rows : 1, m = r.audio_sum[c] / n;
    au_mean[c] = (float)m, au_std[c] = (float)sqrt(fmax(r.audio_sq[c] / n - m * m, 0));
  }
  if (cm_dataset_set_stats(r.ds, "imu_mean", imu_mean, 12) || cm_dataset_set_stats(r.ds, "imu_std", imu_std, 12) ||
      cm_dataset_set_stats(r.ds, "audio_mean", au_mean, CM_AUDIOFEAT_DIM) ||
      cm_dataset_set_stats(r.ds, "audio_std", au_std, CM_AUDIOFEAT_DIM))
    goto fail_ds;

  report = cJSON_CreateObject();
  cJSON *summary = cJSON_AddObjectToObject(report, "summary");
  print_report(&r, table, summary);
  char *spec = cm_split_spec_json(&a->split);
  cJSON *cc = cJSON_GetObjectItemCaseSensitive(summary, "class_counts");
  char *ccs = cJSON_PrintUnformatted(cc);
  int attr_bad = cm_dataset_set_attr_str(r.ds, "split_spec", spec) || cm_dataset_set_attr_str(r.ds, "class_counts", ccs) ||
                 cm_dataset_set_attr_str(r.ds, "personal_location", ploc);
  free(spec);
  cJSON_free(ccs);
  if (attr_bad) goto fail_ds;
  if (cm_dataset_close(r.ds)) {
    r.ds = NULL;
    goto out;
  }
  r.ds = NULL;
  cJSON *sessions = cJSON_AddArrayToObject(report, "sessions");
  for (size_t i = 0; i < r.n_ss; i++) cJSON_AddItemToArray(sessions, session_json(&r.ss[i]));
  char *txt = cJSON_Print(report);
  char rp[4096];
  if (a->report_path)
    snprintf(rp, sizeof rp, "%s", a->report_path);
  else
    snprintf(rp, sizeof rp, "%s.report.json", a->out_path);
  int wr = cm_write_file_atomic(rp, txt, strlen(txt));
  cJSON_free(txt);
  if (wr) goto out;
  fprintf(table, "report: %s\n", rp);
  rc = 0;
  goto out;
fail_ds:
  cm_prefix_error("%s", a->out_path);
  {
    char saved[1024];
    snprintf(saved, sizeof saved, "%s", cm_error());
    cm_dataset_abort(r.ds);
    cm_set_error("%s", saved);
  }
  r.ds = NULL;
out:
  if (r.ds) cm_dataset_abort(r.ds);
  cJSON_Delete(report);
  for (size_t i = 0; i < files.n; i++) free(files.v[i]);
  free(files.v);
  free_state(&r);
  return rc;
}
