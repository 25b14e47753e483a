/*
 * `cmact experiment fusion-sync`: the supervised audio+IMU fusion model (nn_fusion.h) against
 * an IMU clock offset, beside the one published curve on this dataset (Sandha et al., IoTDI
 * 2020: 96.1 % at 0 s, 91.6 % at 0.5 s, 82.8 % at 2 s; 97.2 / 95.9 / 86.7 % when trained with
 * shifts up to 1 s).
 *
 * Training (nothing here ever looks at a test window to choose weights):
 *   aligned      the fusion model on --data's labelled training splits, pretrain + limited
 *                (the teacher's data and LimitTrainSet's pool), a validation part carved from
 *                them by the seed;
 *   augmented    the same windows plus a shifted copy of them: the sessions of --train-sessions
 *                that have windows in those splits (an --aug-fraction of them, drawn by the
 *                seed) are split round-robin over --aug-offsets (default -1, -0.5, -0.25,
 *                0.25, 0.5, 1 s: spread over [-1, +1] s, as Sandha's "shifts up to 1 s") and
 *                each group is windowed by `cmact sync --inject-offset imu=S`; of those windows
 *                the ones whose session has a pretrain/limited window within half a hop are kept
 *                (the window grid moves with the offset), so the shifted copies are copies of the
 *                same training moments, not new ones;
 *   IMU alone, audio alone   the study's IMU CNN and audio MLP on the same aligned windows.
 *
 * Test: the sessions of --sessions that change activity (multi-activity schedules; a shift
 * only pairs different moments where something changes) and are in no split of --data,
 * windowed for each offset S of --offsets by `cmact sync --inject-offset imu=S`. The two
 * fusion models are measured at every offset; the single-modality models on the aligned
 * (S = 0) windows only: a system of one modality needs no cross-device alignment, so its
 * accuracy does not depend on the offset, and the better of the two is the line fusion must
 * stay above. Every offset where a fusion model falls below it is marked. Also reported: the
 * share of test windows whose IMU data (recorded S s off) come mostly from another activity
 * than the label, and all four models on --data's own aligned test split (single-activity
 * clips). All windows are put on --data's standardisation.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "exp.h"
#include "exp_report.h"
#include "exp_sync_build.h"
#include "exp_sync_sessions.h"
#include "nn_rng.h"
#include "plot.h"
#include "proc_fusion.h"
#include "stats.h"

#define MAX_OFFSETS 40
enum { K_ALIGNED, K_AUGMENTED, K_IMU, K_AUDIO, N_KINDS };

typedef struct {
  const exp_opts *o;
  cm_dataset_desc desc;
  proc_set tr_i, tr_a, aug_i, aug_a, dt_i, dt_a;
  int n_off, n_aug, k0;
  double offs[MAX_OFFSETS], aug_offs[MAX_OFFSETS], mismatch[MAX_OFFSETS];
  proc_set te_i[MAX_OFFSETS], te_a[MAX_OFFSETS];
  exp_session_list test_l, train_l;
  size_t *used, n_used, n_excluded, n_aug_sessions;
  double *acc;      /* [kind][run][offset]: fusion at every offset; single models at k0 only */
  double *acc_data; /* [kind][run]: on --data's test split */
} fsweep;

static uint64_t run_seed(const fsweep *c, int r) { return c->o->seed + 1 + (uint64_t)r; }
static double *at(const fsweep *c, int kind, int run, int k) {
  return &c->acc[((size_t)kind * c->o->runs + run) * c->n_off + k];
}

static int parse_list(const char *s, const char *opt, double *v, int *n) {
  char *copy = cm_xstrdup(s), *save = NULL;
  *n = 0;
  for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (*n == MAX_OFFSETS || cm_parse_double(t, opt, &v[*n]) < 0 || fabs(v[*n]) > 60) {
      free(copy);
      return cm_set_error("%s '%s': expected up to %d numbers of seconds within +-60", opt, s, MAX_OFFSETS);
    }
    (*n)++;
  }
  free(copy);
  return *n ? 0 : cm_set_error("%s '%s': no offsets", opt, s);
}

static int job(void *arg, int j) {
  fsweep *c = arg;
  const int kind = j % N_KINDS, run = j / N_KINDS, C = c->desc.n_classes;
  const exp_opts *o = c->o;
  proc_fit_result r;
  if (kind == K_ALIGNED || kind == K_AUGMENTED) {
    const proc_set *xi = kind == K_ALIGNED ? &c->tr_i : &c->aug_i, *xa = kind == K_ALIGNED ? &c->tr_a : &c->aug_a;
    proc_fit_opts fo = {o->cfg.teacher_epochs, o->cfg.batch, o->cfg.lr, run_seed(c, run), o->cfg.val_fraction,
                        o->cfg.patience, NULL};
    nn_fusion *f = nn_fusion_new(c->tr_i.shape[0], c->tr_i.shape[1], (int)c->tr_a.dim, C, run_seed(c, run));
    if (!f || proc_fit_fusion(f, xi, xa, &fo, &r) < 0) {
      nn_fusion_free(f);
      return cm_prefix_error("fusion (%s)", kind == K_ALIGNED ? "aligned" : "augmented");
    }
    proc_fit_result_free(&r);
    for (int k = 0; k < c->n_off; k++) *at(c, kind, run, k) = proc_fusion_accuracy(f, &c->te_i[k], &c->te_a[k]);
    c->acc_data[kind * o->runs + run] = proc_fusion_accuracy(f, &c->dt_i, &c->dt_a);
    nn_fusion_free(f);
    return 0;
  }
  const proc_set *tr = kind == K_IMU ? &c->tr_i : &c->tr_a;
  nn_model *m = proc_teacher(tr, C, &o->cfg, run_seed(c, run), &r);
  if (!m) return cm_prefix_error("%s alone", kind == K_IMU ? "IMU" : "audio");
  proc_fit_result_free(&r);
  for (int k = 0; k < c->n_off; k++) *at(c, kind, run, k) = NAN;
  *at(c, kind, run, c->k0) = proc_accuracy(m, kind == K_IMU ? &c->te_i[c->k0] : &c->te_a[c->k0]);
  c->acc_data[kind * o->runs + run] = proc_accuracy(m, kind == K_IMU ? &c->dt_i : &c->dt_a);
  nn_model_free(m);
  return 0;
}

/* Names of the sessions with windows in the given splits of --data. */
static int split_names(const char *data, const char *const *splits, int n, char (**names)[CM_SESSION_NAME_LEN],
                       size_t *count) {
  cm_dataset *d = cm_dataset_open(data);
  if (!d) return -1;
  int rc = 0;
  for (int i = 0; i < n && rc == 0; i++) rc = exp_split_session_names(d, splits[i], names, count);
  cm_dataset_close_reader(d);
  return rc;
}

static int has_name(char (*names)[CM_SESSION_NAME_LEN], size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return 1;
  return 0;
}

/* The test sessions: those of --sessions that change activity and are in no split of --data. */
static int choose_test_sessions(fsweep *c) {
  if (exp_sessions_scan(c->o->sessions, &c->test_l) < 0) return -1;
  static const char *const all[6] = {"pretrain", "transfer", "limited", "test", "personal_train", "personal_test"};
  char(*in_data)[CM_SESSION_NAME_LEN] = NULL;
  size_t n_in = 0;
  int rc = split_names(c->o->data, all, 6, &in_data, &n_in);
  c->used = cm_xmalloc(sizeof(size_t) * (c->test_l.n + 1));
  for (size_t i = 0; i < c->test_l.n && rc == 0; i++) {
    if (c->test_l.v[i].n_activities < 2) continue;
    if (has_name(in_data, n_in, c->test_l.v[i].name)) c->n_excluded++;
    else c->used[c->n_used++] = i;
  }
  free(in_data);
  if (rc == 0 && c->n_used == 0)
    rc = cm_set_error("%s: no session with an activity change that is not in %s (simulate some with "
                      "`cmact simulate --schedules N`)", c->o->sessions, c->o->data);
  return rc;
}

typedef struct {
  char name[CM_SESSION_NAME_LEN];
  int64_t t;
} named_time;

static int by_name_time(const void *a, const void *b) {
  const named_time *x = a, *y = b;
  int s = strcmp(x->name, y->name);
  return s ? s : (x->t > y->t) - (x->t < y->t);
}

/* (session name, window start) of every row of s, session indices resolved through tab. */
static named_time *window_keys(const proc_set *s, const cm_dataset_session_row *tab, size_t n_tab) {
  named_time *k = cm_xmalloc(sizeof *k * (size_t)(s->n ? s->n : 1));
  for (int64_t i = 0; i < s->n; i++) {
    int32_t si = s->session[i];
    snprintf(k[i].name, sizeof k[i].name, "%s", si >= 0 && (size_t)si < n_tab ? tab[si].name : "?");
    k[i].t = s->t_start_ns[i];
  }
  return k;
}

static int session_table(const char *path, cm_dataset_session_row **tab, size_t *n) {
  cm_dataset *d = cm_dataset_open(path);
  if (!d) return -1;
  int rc = cm_dataset_get_sessions(d, tab, n);
  cm_dataset_close_reader(d);
  return rc;
}

/* The shift-augmented training set: the aligned windows plus shifted copies (see the top). */
static int build_augmented(fsweep *c, const char *split, cm_dataset *base) {
  const exp_opts *o = c->o;
  int rc = proc_set_concat(&c->tr_i, &(proc_set){.mod = NN_MOD_IMU, .dim = c->tr_i.dim}, &c->aug_i);
  if (rc == 0) rc = proc_set_concat(&c->tr_a, &(proc_set){.mod = NN_MOD_AUDIO, .dim = c->tr_a.dim}, &c->aug_a);
  if (rc < 0 || o->aug_fraction <= 0) return rc;
  if (exp_sessions_scan(o->train_sessions, &c->train_l) < 0) return -1;
  static const char *const train_splits[2] = {"pretrain", "limited"},
                           *const held[3] = {"test", "personal_train", "personal_test"};
  char(*tn)[CM_SESSION_NAME_LEN] = NULL, (*hn)[CM_SESSION_NAME_LEN] = NULL;
  size_t n_tn = 0, n_hn = 0;
  rc = split_names(o->data, train_splits, 2, &tn, &n_tn);
  if (rc == 0) rc = split_names(o->data, held, 3, &hn, &n_hn);
  /* candidates in a seeded order; the first aug_fraction of them are shifted */
  typedef struct {
    uint64_t key;
    size_t i;
  } cand;
  cand *cs = cm_xmalloc(sizeof *cs * (c->train_l.n + 1));
  size_t n_c = 0;
  for (size_t i = 0; i < c->train_l.n && rc == 0; i++)
    if (has_name(tn, n_tn, c->train_l.v[i].name) && !has_name(hn, n_hn, c->train_l.v[i].name))
      cs[n_c].key = nn_u64(nn_key(o->seed, 0x415547, 0, 0), i), cs[n_c++].i = i;
  for (size_t i = 1; i < n_c; i++)
    for (size_t j = i; j > 0 && cs[j - 1].key > cs[j].key; j--) {
      cand t = cs[j];
      cs[j] = cs[j - 1], cs[j - 1] = t;
    }
  size_t take = (size_t)ceil(o->aug_fraction * (double)n_c);
  if (take > n_c) take = n_c;
  c->n_aug_sessions = take;
  if (rc == 0 && take == 0)
    rc = cm_set_error("%s: no session file of %s's pretrain/limited splits (give the corpus's session folder)",
                      o->train_sessions, o->data);
  /* the aligned training windows' (session, start), to keep only copies of the same moments */
  cm_dataset_session_row *btab = NULL;
  size_t n_btab = 0;
  named_time *bk = NULL;
  if (rc == 0 && (rc = session_table(o->data, &btab, &n_btab)) == 0) {
    bk = window_keys(&c->tr_i, btab, n_btab);
    qsort(bk, (size_t)c->tr_i.n, sizeof *bk, by_name_time);
  }
  const int64_t half_hop = (int64_t)llround(c->desc.hop_s * 0.5e9);
  size_t *group = cm_xmalloc(sizeof(size_t) * (take + 1));
  cm_progress pr;
  cm_progress_begin(&pr, "cmact sync of the shifted training sessions", c->n_aug);
  for (int g = 0; g < c->n_aug && rc == 0; g++) {
    size_t ng = 0;
    for (size_t i = (size_t)g; i < take; i += (size_t)c->n_aug) group[ng++] = cs[i].i;
    if (ng == 0) continue;
    char path[4200];
    snprintf(path, sizeof path, "%s/sync/train_imu%+.3f.h5", o->out, c->aug_offs[g]);
    if ((rc = exp_sync_run(o, &c->train_l, group, ng, "imu", c->aug_offs[g], split, path)) < 0) break;
    cm_dataset *d = cm_dataset_open(path);
    proc_set si, sa, ki, ka, ji, ja;
    if (!d) {
      rc = -1;
      break;
    }
    rc = proc_set_load(d, "transfer", NN_MOD_IMU, c->tr_i.shape, c->tr_i.ndim, &si);
    if (rc == 0 && (rc = proc_set_load(d, "transfer", NN_MOD_AUDIO, c->tr_a.shape, c->tr_a.ndim, &sa)) < 0)
      proc_set_free(&si);
    cm_dataset_close_reader(d);
    if (rc < 0) break;
    exp_restandardise(&si, path, base, &c->desc);
    exp_restandardise(&sa, path, base, &c->desc);
    cm_dataset_session_row *tab = NULL;
    size_t n_tab = 0;
    if ((rc = session_table(path, &tab, &n_tab)) == 0) {
      named_time *k = window_keys(&si, tab, n_tab);
      int64_t *keep = cm_xmalloc(sizeof(int64_t) * (size_t)(si.n ? si.n : 1)), nk = 0;
      for (int64_t i = 0; i < si.n; i++) {
        named_time lo = k[i];
        lo.t -= half_hop;
        size_t a = 0, b = (size_t)c->tr_i.n;
        while (a < b) { /* first base key >= lo */
          size_t mid = (a + b) / 2;
          if (by_name_time(&bk[mid], &lo) < 0) a = mid + 1;
          else b = mid;
        }
        if (a < (size_t)c->tr_i.n && strcmp(bk[a].name, k[i].name) == 0 && bk[a].t <= k[i].t + half_hop) keep[nk++] = i;
      }
      proc_set_subset(&si, keep, nk, &ki);
      proc_set_subset(&sa, keep, nk, &ka);
      rc = proc_set_concat(&c->aug_i, &ki, &ji);
      if (rc == 0) rc = proc_set_concat(&c->aug_a, &ka, &ja);
      if (rc == 0) {
        proc_set_free(&c->aug_i), proc_set_free(&c->aug_a);
        c->aug_i = ji, c->aug_a = ja;
      }
      proc_set_free(&ki), proc_set_free(&ka);
      free(keep);
      free(k);
      free(tab);
    }
    proc_set_free(&si), proc_set_free(&sa);
    cm_progress_step(&pr, g + 1);
  }
  cm_progress_end(&pr);
  free(group), free(bk), free(btab), free(cs), free(tn), free(hn);
  return rc;
}

/* Share of test windows whose IMU data come mostly from another activity than the label. */
static void measure_mismatch(fsweep *c, int k, const char *path) {
  c->mismatch[k] = NAN;
  cm_dataset_session_row *tab = NULL;
  size_t n_tab = 0;
  if (session_table(path, &tab, &n_tab) < 0) return;
  const proc_set *s = &c->te_i[k];
  double *cover = cm_xmalloc(sizeof(double) * (size_t)(s->n ? s->n : 1));
  int64_t have = exp_student_label_cover(s, c->offs[k], c->desc.window_s, tab, n_tab,
                                         (const char(*)[CM_CLASS_NAME_LEN])c->desc.class_names, &c->test_l, cover);
  int64_t mis = 0;
  for (int64_t i = 0; i < s->n; i++) mis += isfinite(cover[i]) && cover[i] < 0.5;
  c->mismatch[k] = have ? (double)mis / (double)have : NAN;
  free(cover);
  free(tab);
}

static int load_base(fsweep *c) {
  cm_dataset *d = cm_dataset_open(c->o->data);
  if (!d) return -1;
  c->desc = *cm_dataset_get_desc(d);
  proc_set p, l;
  int rc = 0;
  for (int m = 0; m < 2 && rc == 0; m++) {
    nn_modality mod = m ? NN_MOD_AUDIO : NN_MOD_IMU;
    proc_set *tr = m ? &c->tr_a : &c->tr_i, *dt = m ? &c->dt_a : &c->dt_i;
    if ((rc = proc_set_load(d, "pretrain", mod, NULL, 0, &p)) < 0) break;
    if ((rc = proc_set_load(d, "limited", mod, NULL, 0, &l)) == 0) {
      rc = proc_set_concat(&p, &l, tr);
      proc_set_free(&l);
    }
    proc_set_free(&p);
    if (rc == 0) rc = proc_set_load(d, "test", mod, NULL, 0, dt);
  }
  cm_dataset_close_reader(d);
  if (rc < 0) cm_prefix_error("%s", c->o->data);
  return rc;
}

static void mean_sd(const double *v, int n, double *m, double *s) {
  double buf[256];
  int k = 0;
  for (int i = 0; i < n && k < 256; i++)
    if (isfinite(v[i])) buf[k++] = v[i];
  *m = k ? stats_mean(buf, k) : NAN;
  *s = k > 1 ? stats_sd(buf, k) : 0;
}

static int report(fsweep *c) {
  const exp_opts *o = c->o;
  const int R = o->runs, K = c->n_off;
  char settings[1024], a[32], b[32], d[32], e[32], path[4096];
  /* not exp_settings_line: that one states the video network and the transfer procedures'
   * epochs, which this experiment does not use, and read as if it did */
  snprintf(settings, sizeof settings,
           "Inputs: audio %d, IMU %dx%d; video not used. %d run%s (seeds %llu..%llu). Fusion, IMU alone and "
           "audio alone train %d epochs each (--teacher-epochs); Adam lr %g, batch %d. Model selection: the "
           "epoch of lowest loss on a validation part (%.0f%%) of the training windows; the test windows are "
           "never used for selection.",
           c->tr_a.shape[0], c->tr_i.shape[0], c->tr_i.shape[1], R, R > 1 ? "s" : "", (unsigned long long)o->seed + 1,
           (unsigned long long)o->seed + R, o->cfg.teacher_epochs, o->cfg.lr, o->cfg.batch,
           100 * o->cfg.val_fraction);
  double single[2][2], row[256];
  for (int s = 0; s < 2; s++) {
    for (int r = 0; r < R; r++) row[r] = *at(c, s ? K_AUDIO : K_IMU, r, c->k0);
    mean_sd(row, R, &single[s][0], &single[s][1]);
  }
  const double better = fmax(single[0][0], single[1][0]);
  const char *better_name = single[0][0] >= single[1][0] ? "IMU" : "audio";
  double x[MAX_OFFSETS], ma[MAX_OFFSETS], sa[MAX_OFFSETS], mg[MAX_OFFSETS], sg[MAX_OFFSETS], imu_l[MAX_OFFSETS],
      aud_l[MAX_OFFSETS], mis[MAX_OFFSETS];
  strbuf md = {0}, csv = {0};
  sb_printf(&md, "## Fusion against an IMU clock offset: audio+IMU fusion, supervised (%d run%s)\n\n", R, R > 1 ? "s" : "");
  sb_printf(&md, "| IMU offset (s) | test windows | IMU data mostly from another activity | fusion, aligned training | "
                 "fusion, trained with shifts | below the better single modality (%s, %s%%) |\n|---|---|---|---|---|---|\n",
            better_name, exp_pct(better, a, sizeof a));
  sb_printf(&csv, "offset_s,model,run,accuracy\n");
  cJSON *root = cJSON_CreateObject(), *rows = cJSON_CreateArray();
  for (int k = 0; k < K; k++) {
    double va[256], vg[256];
    for (int r = 0; r < R; r++) va[r] = *at(c, K_ALIGNED, r, k), vg[r] = *at(c, K_AUGMENTED, r, k);
    x[k] = c->offs[k];
    mean_sd(va, R, &ma[k], &sa[k]);
    mean_sd(vg, R, &mg[k], &sg[k]);
    imu_l[k] = 100 * single[0][0], aud_l[k] = 100 * single[1][0], mis[k] = 100 * c->mismatch[k];
    const int ba = ma[k] < better, bg = mg[k] < better;
    const char *below = ba && bg ? "**both**" : ba ? "**aligned**" : bg ? "**shift-trained**" : "";
    sb_printf(&md, "| %+.2f | %lld | %.1f%% | %s ± %s | %s ± %s | %s |\n", c->offs[k], (long long)c->te_i[k].n, mis[k],
              exp_pct(ma[k], a, sizeof a), exp_pct(sa[k], b, sizeof b), exp_pct(mg[k], d, sizeof d),
              exp_pct(sg[k], e, sizeof e), below);
    for (int r = 0; r < R; r++)
      sb_printf(&csv, "%.6f,fusion_aligned,%d,%.6f\n%.6f,fusion_shift_trained,%d,%.6f\n", c->offs[k], r + 1, va[r],
                c->offs[k], r + 1, vg[r]);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "offset_s", c->offs[k]);
    cJSON_AddNumberToObject(j, "test_windows", (double)c->te_i[k].n);
    cJSON_AddNumberToObject(j, "imu_other_activity_fraction", isfinite(c->mismatch[k]) ? c->mismatch[k] : -1);
    cJSON_AddItemToObject(j, "fusion_aligned", exp_json_array(va, R));
    cJSON_AddItemToObject(j, "fusion_shift_trained", exp_json_array(vg, R));
    cJSON_AddBoolToObject(j, "aligned_below_single", ba);
    cJSON_AddBoolToObject(j, "shift_trained_below_single", bg);
    cJSON_AddItemToArray(rows, j);
    mg[k] *= 100, sg[k] *= 100, ma[k] *= 100, sa[k] *= 100;
  }
  /* the accuracy of always answering the test windows' most common class: chance here */
  int64_t counts[CM_MAX_CLASSES] = {0}, top = 0;
  for (int64_t i = 0; i < c->te_i[c->k0].n; i++) {
    int32_t y = c->te_i[c->k0].y[i];
    if (y >= 0 && y < CM_MAX_CLASSES && ++counts[y] > top) top = counts[y];
  }
  const double majority = c->te_i[c->k0].n ? (double)top / (double)c->te_i[c->k0].n : NAN;
  cJSON_AddNumberToObject(root, "majority_class_fraction", majority);
  double dm[N_KINDS], ds[N_KINDS];
  for (int kind = 0; kind < N_KINDS; kind++) mean_sd(c->acc_data + kind * R, R, &dm[kind], &ds[kind]);
  for (int r = 0; r < R; r++)
    sb_printf(&csv, "0,imu_alone,%d,%.6f\n0,audio_alone,%d,%.6f\n", r + 1, *at(c, K_IMU, r, c->k0), r + 1,
              *at(c, K_AUDIO, r, c->k0));
  char t1[32], t2[32], t3[32], t4[32], t5[32];
  sb_printf(&md, "\nSingle modality on the same test windows, aligned (a one-modality system needs no cross-device "
                 "alignment): IMU alone %s ± %s%%, audio alone %s ± %s%%; always answering the most common "
                 "class: %s%%. On %s's own aligned test split (%lld "
                 "single-activity windows): fusion %s%%, fusion trained with shifts %s%%, IMU alone %s%%, audio alone %s%%.\n\n",
            exp_pct(single[0][0], a, sizeof a), exp_pct(single[0][1], b, sizeof b), exp_pct(single[1][0], d, sizeof d),
            exp_pct(single[1][1], e, sizeof e), exp_pct(majority, t5, sizeof t5), o->data, (long long)c->dt_i.n, exp_pct(dm[0], t1, sizeof t1),
            exp_pct(dm[1], t2, sizeof t2), exp_pct(dm[2], t3, sizeof t3), exp_pct(dm[3], t4, sizeof t4));
  sb_printf(&md, "Test windows: %zu multi-activity sessions of %s (%zu more are in %s and were left out), windowed for "
                 "each offset by `cmact sync --inject-offset imu=S`. Training: %s's pretrain + limited splits (%lld "
                 "windows; %.0f%% of them for validation, by the seed); the shift-trained fusion model also sees a "
                 "copy of them from %zu of its sessions synced with the IMU shifted by one of {",
            c->n_used, o->sessions, c->n_excluded, o->data, o->data, (long long)c->tr_i.n, 100 * o->cfg.val_fraction,
            c->n_aug_sessions);
  for (int g = 0; g < c->n_aug; g++) sb_printf(&md, "%s%+g", g ? ", " : "", c->aug_offs[g]);
  char sandha[256];
  sb_printf(&md, "} s (round-robin over sessions; %lld windows in all). %s; their test set: CMActivity's clips "
                 "shifted, not multi-activity sessions. %s\n",
            (long long)c->aug_i.n, exp_sandha_text(sandha, sizeof sandha), settings);
  fputs(md.s, o->log ? o->log : stdout);
  cJSON_AddStringToObject(root, "experiment", "fusion-sync");
  cJSON_AddStringToObject(root, "settings", settings);
  cJSON *names = cJSON_AddArrayToObject(root, "test_sessions");
  for (size_t i = 0; i < c->n_used; i++) cJSON_AddItemToArray(names, cJSON_CreateString(c->test_l.v[c->used[i]].name));
  cJSON_AddNumberToObject(root, "training_windows", (double)c->tr_i.n);
  cJSON_AddNumberToObject(root, "shift_trained_windows", (double)c->aug_i.n);
  cJSON_AddItemToObject(root, "aug_offsets_s", exp_json_array(c->aug_offs, c->n_aug));
  double v[256];
  for (int s = 0; s < 2; s++) {
    for (int r = 0; r < R; r++) v[r] = *at(c, s ? K_AUDIO : K_IMU, r, c->k0);
    cJSON_AddItemToObject(root, s ? "audio_alone" : "imu_alone", exp_json_array(v, R));
  }
  cJSON *dj = cJSON_AddObjectToObject(root, "data_test_split");
  static const char *const kn[N_KINDS] = {"fusion_aligned", "fusion_shift_trained", "imu_alone", "audio_alone"};
  for (int kind = 0; kind < N_KINDS; kind++) cJSON_AddItemToObject(dj, kn[kind], exp_json_array(c->acc_data + kind * R, R));
  cJSON_AddItemToObject(root, "by_offset", rows);
  int rc = exp_write_text(exp_path(o, "fusion_sync.md", path, sizeof path), &md);
  if (rc == 0) rc = exp_write_text(exp_path(o, "fusion_sync.csv", path, sizeof path), &csv);
  if (rc == 0) rc = exp_write_json(exp_path(o, "fusion_sync.json", path, sizeof path), root);
  plot_spec ps = {.title = "Audio+IMU fusion against an IMU clock offset",
                  .xlabel = "offset injected into the IMU stream (s)",
                  .ylabel = "accuracy on multi-activity sessions (%)", .ymin = 0, .ymax = 100, .n_series = 7};
  ps.series[0] = (plot_series){"fusion, aligned training", K, x, ma, sa, 0};
  ps.series[1] = (plot_series){"fusion, trained with shifts in [-1, 1] s", K, x, mg, sg, 0};
  ps.series[2] = (plot_series){"IMU alone (aligned)", K, x, imu_l, NULL, 1};
  ps.series[3] = (plot_series){"audio alone", K, x, aud_l, NULL, 1};
  ps.series[4] = (plot_series){"windows with IMU data from another activity (%)", K, x, mis, NULL, 1};
  ps.series[5] = (plot_series){"Sandha et al. fusion (published)", EXP_SANDHA_N, exp_sandha_offset_s, exp_sandha_acc, NULL, 1};
  ps.series[6] = (plot_series){"Sandha et al., trained with shifts (published)", EXP_SANDHA_N, exp_sandha_offset_s,
                               exp_sandha_acc_shifted, NULL, 1};
  if (rc == 0) rc = plot_write(&ps, exp_path(o, "fusion_sync", path, sizeof path));
  cJSON_Delete(root);
  sb_free(&md), sb_free(&csv);
  return rc;
}

int exp_fusion_sync(const exp_opts *o) {
  fsweep c;
  memset(&c, 0, sizeof c);
  c.o = o;
  if (parse_list(o->offsets, "--offsets", c.offs, &c.n_off) < 0) return -1;
  if (parse_list(o->aug_offsets, "--aug-offsets", c.aug_offs, &c.n_aug) < 0) return -1;
  for (int i = 1; i < c.n_off; i++)
    for (int j = i; j > 0 && c.offs[j - 1] > c.offs[j]; j--) {
      double t = c.offs[j];
      c.offs[j] = c.offs[j - 1], c.offs[j - 1] = t;
    }
  c.k0 = -1;
  for (int k = 0; k < c.n_off; k++)
    if (c.offs[k] == 0) c.k0 = k;
  if (c.k0 < 0) return cm_set_error("--offsets '%s' must include 0 (the aligned base)", o->offsets);
  if (o->runs > 256) return cm_set_error("--runs %d: at most 256 for fusion-sync", o->runs);
  if (exp_mkdir(o->out) < 0) return -1;
  char split[4096];
  int rc = choose_test_sessions(&c);
  if (rc == 0) rc = load_base(&c);
  if (rc == 0) rc = exp_sync_split_file(o, split, sizeof split);
  cm_dataset *base = rc == 0 ? cm_dataset_open(o->data) : NULL;
  if (rc == 0 && !base) rc = -1;
  if (rc == 0) {
    fprintf(o->log ? o->log : stdout, "fusion-sync: %zu test sessions with an activity change in %s; %lld training windows\n",
            c.n_used, o->sessions, (long long)c.tr_i.n);
    cm_progress pr;
    cm_progress_begin(&pr, "cmact sync of the test sessions per offset", c.n_off);
    for (int k = 0; k < c.n_off && rc == 0; k++) {
      char path[4200];
      snprintf(path, sizeof path, "%s/sync/test_imu%+.3f.h5", o->out, c.offs[k]);
      if ((rc = exp_sync_run(o, &c.test_l, c.used, c.n_used, "imu", c.offs[k], split, path)) < 0) break;
      cm_dataset *d = cm_dataset_open(path);
      if (!d) {
        rc = -1;
        break;
      }
      rc = proc_set_load(d, "transfer", NN_MOD_IMU, c.tr_i.shape, c.tr_i.ndim, &c.te_i[k]);
      if (rc == 0) rc = proc_set_load(d, "transfer", NN_MOD_AUDIO, c.tr_a.shape, c.tr_a.ndim, &c.te_a[k]);
      cm_dataset_close_reader(d);
      if (rc == 0 && c.te_i[k].n == 0) rc = cm_set_error("%s: no windows", path);
      if (rc < 0) break;
      exp_restandardise(&c.te_i[k], path, base, &c.desc);
      exp_restandardise(&c.te_a[k], path, base, &c.desc);
      measure_mismatch(&c, k, path);
      cm_progress_step(&pr, k + 1);
    }
    cm_progress_end(&pr);
  }
  if (rc == 0) rc = build_augmented(&c, split, base);
  if (base) cm_dataset_close_reader(base);
  const int R = o->runs;
  c.acc = cm_xcalloc((size_t)N_KINDS * R * c.n_off, sizeof(double));
  c.acc_data = cm_xcalloc((size_t)N_KINDS * R, sizeof(double));
  if (rc == 0) {
    double *w = cm_xmalloc(sizeof(double) * N_KINDS * R);
    static const double kw[N_KINDS] = {1.2, 2.4, 0.3, 1.0};
    for (int j = 0; j < N_KINDS * R; j++) w[j] = kw[j % N_KINDS];
    rc = exp_pool_run(N_KINDS * R, o->threads, w, job, &c, "fusion and single-modality models");
    free(w);
  }
  if (rc == 0) rc = report(&c);
  free(c.acc), free(c.acc_data), free(c.used);
  for (int k = 0; k < MAX_OFFSETS; k++) proc_set_free(&c.te_i[k]), proc_set_free(&c.te_a[k]);
  proc_set_free(&c.tr_i), proc_set_free(&c.tr_a), proc_set_free(&c.aug_i), proc_set_free(&c.aug_a);
  proc_set_free(&c.dt_i), proc_set_free(&c.dt_a);
  exp_sessions_free(&c.test_l);
  exp_sessions_free(&c.train_l);
  return rc;
}
