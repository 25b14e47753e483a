/*
 * Alignment error against the simulator's ground truth (files written by `cmact simulate` hold
 * /truth: the reference time each video frame and each IMU sample was really captured, and the
 * audio clock's first-sample time and rate error).
 *
 * For each stream the error of a sample is (reference time sync assigns it) - (true time). What
 * matters for a window is how far the modalities are apart, so the session's figure is the
 * largest |error(stream) - error(video)| at mid-session, with and without the cross-modal
 * refinement; and per window the same evaluated at the samples nearest the window's middle,
 * which is what the window's stated uncertainty must cover. Injected offsets are left out
 * (they are deliberate), so the figures measure the aligner alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "sync_session.h"

typedef struct {
  int64_t *est, *est_clock, *truth; /* per sample, sorted by est */
  size_t n;
} stream_truth;

static void st_free(stream_truth *t) { free(t->est), free(t->est_clock), free(t->truth), memset(t, 0, sizeof *t); }

/* The shift an injection adds at reference time t (removed so only the aligner is judged). */
static int64_t injected_ns(const sync_stream *s, int64_t t) {
  return (int64_t)llround((s->inject_offset_s + s->inject_drift_ppm * 1e-6 * (double)(t - s->inject_anchor_ns) * 1e-9) * 1e9);
}

static int load_truth(const sync_session *ss, cm_session *f, int role, stream_truth *t) {
  const sync_stream *s = &ss->st[role];
  char name[64];
  if (role == SR_VIDEO) {
    int64_t *tr;
    size_t n;
    if (cm_session_get_truth_i64(f, "video/t_ref_ns", &tr, &n)) return -1;
    if ((int64_t)n != s->info.count) {
      free(tr);
      return cm_set_error("video truth has %zu frames, the stream %lld packets", n, (long long)s->info.count);
    }
    cm_packet_row *idx = cm_xmalloc((n + 1) * sizeof *idx);
    if (cm_session_read_packet_index(f, s->stream, 0, (int64_t)n, idx)) {
      free(tr), free(idx);
      return -1;
    }
    t->n = n, t->truth = tr;
    t->est = cm_xmalloc((n + 1) * sizeof *t->est), t->est_clock = cm_xmalloc((n + 1) * sizeof *t->est_clock);
    for (size_t i = 0; i < n; i++) {
      int64_t d = sync_video_pts_ns(&s->info, idx[i].pts);
      t->est_clock[i] = sync_stream_to_ref_clock(ss, role, d);
      t->est[i] = sync_stream_to_ref(ss, role, d);
      t->est[i] -= injected_ns(s, t->est[i]);
    }
    free(idx);
    return 0;
  }
  if (role == SR_AUDIO) {
    int64_t *a0;
    size_t n;
    double ppm;
    if (cm_session_get_truth_i64(f, "audio/t_ref_first_ns", &a0, &n)) return -1;
    int64_t first = n ? a0[0] : 0;
    free(a0);
    if (cm_session_get_truth_attr(f, "audio/ppm", &ppm)) return -1;
    /* one point every 0.1 s is plenty for a linear clock */
    double sr = s->info.sample_rate;
    size_t step = (size_t)(sr / 10), np = (size_t)(s->info.count / (int64_t)step) + 1;
    t->n = np;
    t->truth = cm_xmalloc(np * sizeof *t->truth), t->est = cm_xmalloc(np * sizeof *t->est);
    t->est_clock = cm_xmalloc(np * sizeof *t->est_clock);
    for (size_t i = 0; i < np; i++) {
      int64_t frame = (int64_t)(i * step);
      t->truth[i] = first + (int64_t)llround((double)frame / (sr * (1 + ppm * 1e-6)) * 1e9);
      int64_t d = (int64_t)llround((double)frame * 1e9 / sr);
      t->est_clock[i] = sync_stream_to_ref_clock(ss, role, d);
      t->est[i] = sync_stream_to_ref(ss, role, d);
      t->est[i] -= injected_ns(s, t->est[i]);
    }
    return 0;
  }
  snprintf(name, sizeof name, "%s/t_ref_ns", sync_role_names[role]);
  int64_t *tr;
  size_t n;
  if (cm_session_get_truth_i64(f, name, &tr, &n)) return -1;
  if ((int64_t)n != s->info.count) {
    free(tr);
    return cm_set_error("%s truth has %zu samples, the stream %lld", name, n, (long long)s->info.count);
  }
  int64_t *td = cm_xmalloc((n + 1) * sizeof *td), *th = cm_xmalloc((n + 1) * sizeof *th);
  if (cm_session_read_imu(f, s->stream, 0, (int64_t)n, NULL, td, th)) {
    free(tr), free(td), free(th);
    return -1;
  }
  int has_device = n > 1 && td[n - 1] != td[0];
  t->n = n, t->truth = tr;
  t->est = cm_xmalloc((n + 1) * sizeof *t->est), t->est_clock = cm_xmalloc((n + 1) * sizeof *t->est_clock);
  for (size_t i = 0; i < n; i++) {
    int64_t d = has_device ? td[i] : th[i];
    t->est_clock[i] = sync_stream_to_ref_clock(ss, role, d);
    t->est[i] = sync_stream_to_ref(ss, role, d);
    t->est[i] -= injected_ns(s, t->est[i]);
  }
  free(td), free(th);
  return 0;
}

/* Error (s) of the stream's sample nearest to reference time x (by its estimated time). */
static double err_at(const stream_truth *t, int64_t x, int clock_only) {
  const int64_t *e = clock_only ? t->est_clock : t->est;
  size_t lo = 0, hi = t->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (e[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == t->n) lo = t->n - 1;
  if (lo > 0 && x - e[lo - 1] < e[lo] - x) lo--;
  return (double)(e[lo] - t->truth[lo]) * 1e-9;
}

void sync_truth_compare(sync_session *ss, cm_session **files) {
  for (int fi = 0; fi < ss->n_files; fi++)
    if (!cm_session_has_truth(files[fi])) return;
  stream_truth t[SR_COUNT];
  memset(t, 0, sizeof t);
  for (int r = 0; r < SR_COUNT; r++)
    if (load_truth(ss, files[ss->st[r].file], r, &t[r]) || t[r].n == 0) goto out;
  ss->has_truth = 1;
  int64_t mid = ss->span_start_ns / 2 + ss->span_end_ns / 2;
  double ev = err_at(&t[SR_VIDEO], mid, 0), ev_clock = err_at(&t[SR_VIDEO], mid, 1);
  ss->truth_rel_err_s = ss->truth_err_norefine_s = 0;
  for (int r = 0; r < SR_COUNT; r++) {
    ss->truth_err_s[r] = err_at(&t[r], mid, 0);
    ss->truth_clock_rel_s[r] = err_at(&t[r], mid, 1) - ev_clock;
    double rel = fabs(ss->truth_err_s[r] - ev), rel_clock = fabs(ss->truth_clock_rel_s[r]);
    if (rel > ss->truth_rel_err_s) ss->truth_rel_err_s = rel;
    if (rel_clock > ss->truth_err_norefine_s) ss->truth_err_norefine_s = rel_clock;
  }
  ss->win_truth_err = cm_xmalloc((size_t)(ss->n_win + 1) * sizeof *ss->win_truth_err);
  for (int64_t w = 0; w < ss->n_win; w++) {
    int64_t x = ss->win[w].t_ns + (ss->win_len_ns / 2);
    double v = err_at(&t[SR_VIDEO], x, 0), worst = 0;
    for (int r = SR_AUDIO; r < SR_COUNT; r++) {
      double rel = fabs(err_at(&t[r], x, 0) - v);
      if (rel > worst) worst = rel;
    }
    ss->win_truth_err[w] = (float)worst;
  }
out:
  for (int r = 0; r < SR_COUNT; r++) st_free(&t[r]);
}
