/*
 * Planning a session: from its files to a list of labelled windows on the reference timeline,
 * each with its alignment uncertainty (see sync_session.h for the clock model).
 *
 * Order of work, each step able to skip the session with a one-line reason:
 *   1. open the files; they must share one session_id;
 *   2. per file, the host -> reference map from chrony; a clock step (or a "clock_step" event)
 *      skips the session: no interpolation can say when between two answers the clock jumped;
 *   3. per role, find the stream and fit its own clock onto its host's clock on the lower
 *      envelope; a device clock that goes backwards, or host stamps that go back by more than
 *      50 ms (a host clock step the chrony answers missed), skip the session;
 *   4. the labels, which must all name known classes;
 *   5. cross-modal refinement: the audio, when another host than the camera recorded it,
 *      against the camera's frame-difference energy; each wrist against the microphone's onset
 *      envelope, with the wrist feature the labelled activity calls for (imu_cue), or, where
 *      the activity makes no sound to hear (hand washing), the slow level envelope of the
 *      microphone against that of the wrist's motion;
 *   6. holes longer than max_gap_s in any stream (from the timestamps, and "gap" events);
 *   7. windows every hop inside the span all four streams cover, labelled from the label
 *      intervals; windows over a hole, without a label, or straddling a transition (unless
 *      kept) are dropped and counted.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio_features.h"
#include "cm_util.h"
#include "sync_session.h"
#include "video_decode.h"

const char *const sync_role_names[SR_COUNT] = {"video", "audio", "imu_right", "imu_left"};

void sync_opts_default(sync_opts *o) {
  memset(o, 0, sizeof *o);
  o->window_s = 2.0;
  o->hop_s = 0.4;
  o->video_frames = 45;
  o->video_size = 64;
  o->imu_steps = 40;
  o->refine = SYNC_REFINE_BEST;
  o->max_gap_s = 0.5;
  o->step_min_s = 0.02;
  cm_xcorr_default_params(&o->xc);
  o->wrist_max_lag_s = 1.5;
  o->wrist_min_corr = 0.07;
  o->wrist_confident_corr = 0.12;
  o->wrist_confident_ratio = 2.0;
  o->wrist_min_span_s = 6;
  o->cue_bias_s = 0.05;
  o->wash_smooth_s = 0.5;
  o->wash_hp_s = 5.0;
  o->wash_min_corr = 0.5;
}

static int skip(sync_session *ss, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int skip(sync_session *ss, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(ss->reason, sizeof ss->reason, fmt, ap);
  va_end(ap);
  for (char *c = ss->reason; *c; c++)
    if (*c == '\n') *c = ' ';
  ss->skipped = 1;
  return -1;
}

int64_t sync_video_pts_ns(const cm_stream_info *vi, int64_t pts) {
  int num = vi->time_base_num > 0 ? vi->time_base_num : 1;
  int den = vi->time_base_den > 0 ? vi->time_base_den : 90000;
  return (int64_t)llround((double)pts * 1e9 * num / den);
}

static int64_t audio_frame_ns(const cm_stream_info *ai, int64_t frame) {
  double sr = ai->sample_rate > 0 ? ai->sample_rate : 22050;
  return (int64_t)llround((double)frame * 1e9 / sr);
}

int64_t sync_stream_to_ref_clock(const sync_session *ss, int role, int64_t t) {
  const sync_stream *s = &ss->st[role];
  return cm_clock_ref_to_ref(&ss->ref[s->file], cm_clock_fit_host(&s->fit, t));
}

static double inject_s(const sync_stream *s, int64_t t_ref) {
  return s->inject_offset_s + s->inject_drift_ppm * 1e-6 * (double)(t_ref - s->inject_anchor_ns) * 1e-9;
}

int64_t sync_stream_to_ref(const sync_session *ss, int role, int64_t t) {
  int64_t r = sync_stream_to_ref_clock(ss, role, t) + (int64_t)llround(ss->st[role].refine_s * 1e9);
  return r + (int64_t)llround(inject_s(&ss->st[role], r) * 1e9);
}

int64_t sync_stream_from_ref(const sync_session *ss, int role, int64_t t_ref) {
  const sync_stream *s = &ss->st[role];
  int64_t clock_ref = t_ref - (int64_t)llround(s->refine_s * 1e9);
  clock_ref -= (int64_t)llround(inject_s(s, t_ref) * 1e9);
  return cm_clock_fit_dev(&s->fit, cm_clock_ref_to_host(&ss->ref[s->file], clock_ref));
}

void sync_session_free(sync_session *ss) {
  for (int i = 0; i < ss->n_files; i++) {
    free(ss->paths[i]);
    cm_clock_ref_free(&ss->ref[i]);
  }
  free(ss->win);
  free(ss->win_truth_err);
  memset(ss, 0, sizeof *ss);
}

/* ---- step 3: stream clocks ---- */

typedef struct {
  int64_t dev, host;
} pair;
static int cmp_pair(const void *a, const void *b) {
  int64_t x = ((const pair *)a)->dev, y = ((const pair *)b)->dev;
  return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int fit_pairs(sync_session *ss, int role, pair *p, size_t n) {
  int64_t *d = cm_xmalloc((n + 1) * sizeof *d), *h = cm_xmalloc((n + 1) * sizeof *h);
  for (size_t i = 0; i < n; i++) d[i] = p[i].dev, h[i] = p[i].host;
  int rc = cm_clock_fit_lower(d, h, n, &ss->st[role].fit);
  free(d), free(h);
  if (rc) return skip(ss, "%s: %s", sync_role_names[role], cm_error());
  return 0;
}

/* Host stamps, in the order the samples were taken, must not go back by more than 50 ms. */
static int check_host_monotonic(sync_session *ss, int role, const pair *p, size_t n) {
  int64_t hi = p[0].host;
  for (size_t i = 1; i < n; i++) {
    if (p[i].host < hi - 50000000LL)
      return skip(ss, "%s: host timestamps go backwards by %.3f s at sample %zu (host clock step?)",
                  sync_role_names[role], (double)(hi - p[i].host) * 1e-9, i);
    if (p[i].host > hi) hi = p[i].host;
  }
  return 0;
}

static int fit_stream(sync_session *ss, cm_session *f, int role) {
  sync_stream *s = &ss->st[role];
  int64_t n = s->info.count;
  pair *p = NULL;
  size_t np = 0;
  int rc = -1;
  if (role == SR_VIDEO) {
    if (n < 2) return skip(ss, "video: %lld packets", (long long)n);
    cm_packet_row *idx = cm_xmalloc((size_t)n * sizeof *idx);
    if (cm_session_read_packet_index(f, s->stream, 0, n, idx)) {
      free(idx);
      return skip(ss, "video: %s", cm_error());
    }
    p = cm_xmalloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[np].dev = sync_video_pts_ns(&s->info, idx[i].pts), p[np++].host = idx[i].t_host_ns;
    free(idx);
    /* Packets come in decode order; B-frames make pts jump around, so sort by pts. */
    qsort(p, np, sizeof *p, cmp_pair);
    for (size_t i = 1; i < np; i++)
      if (p[i].dev == p[i - 1].dev) {
        free(p);
        return skip(ss, "video: two packets with the same pts");
      }
  } else if (role == SR_AUDIO) {
    int64_t nb = s->info.n_blocks;
    if (nb < 2) return skip(ss, "audio: %lld timestamped blocks", (long long)nb);
    cm_audio_block_row *b = cm_xmalloc((size_t)nb * sizeof *b);
    if (cm_session_read_audio_blocks(f, s->stream, 0, nb, b)) {
      free(b);
      return skip(ss, "audio: %s", cm_error());
    }
    p = cm_xmalloc((size_t)nb * sizeof *p);
    for (int64_t i = 0; i < nb; i++) {
      if (i && b[i].first_frame < b[i - 1].first_frame) {
        free(b), free(p);
        return skip(ss, "audio: block frame indices go backwards at block %lld", (long long)i);
      }
      p[np].dev = audio_frame_ns(&s->info, b[i].first_frame), p[np++].host = b[i].t_host_ns;
    }
    free(b);
  } else {
    if (n < 2) return skip(ss, "%s: %lld samples", sync_role_names[role], (long long)n);
    int64_t *td = cm_xmalloc((size_t)n * sizeof *td), *th = cm_xmalloc((size_t)n * sizeof *th);
    if (cm_session_read_imu(f, s->stream, 0, n, NULL, td, th)) {
      free(td), free(th);
      return skip(ss, "%s: %s", sync_role_names[role], cm_error());
    }
    p = cm_xmalloc((size_t)n * sizeof *p);
    int has_device = td[n - 1] != td[0];
    for (int64_t i = 0; i < n; i++) p[np].dev = has_device ? td[i] : th[i], p[np++].host = th[i];
    free(td), free(th);
    for (size_t i = 1; i < np; i++)
      if (p[i].dev < p[i - 1].dev) {
        double back = (double)(p[i - 1].dev - p[i].dev) * 1e-9;
        free(p);
        return skip(ss, "%s: device timestamps go backwards at sample %zu (by %.3f s)", sync_role_names[role], i, back);
      }
  }
  if (check_host_monotonic(ss, role, p, np) == 0 && fit_pairs(ss, role, p, np) == 0) {
    s->ref_first_ns = sync_stream_to_ref_clock(ss, role, p[0].dev);
    s->ref_last_ns = sync_stream_to_ref_clock(ss, role, p[np - 1].dev);
    if (role == SR_AUDIO) /* the last block runs on to the end of the PCM */
      s->ref_last_ns = sync_stream_to_ref_clock(ss, role, audio_frame_ns(&s->info, s->info.count));
    int64_t mid_host = cm_clock_fit_host(&s->fit, p[np / 2].dev);
    s->chrony_corr_s = cm_clock_ref_correction(&ss->ref[s->file], mid_host, &s->chrony_unc_s);
    s->inject_anchor_ns = s->ref_first_ns;
    rc = 0;
  }
  free(p);
  return rc;
}

/* ---- step 5: motion signals and refinement ---- */

typedef struct {
  double *t, *v;
  size_t n;
} signal;
static void signal_free(signal *s) { free(s->t), free(s->v), memset(s, 0, sizeof *s); }

/* Mean absolute difference of consecutive 32x32 grey frames, stamped between the two. */
static int video_energy(sync_session *ss, cm_session *f, signal *out) {
  sync_stream *s = &ss->st[SR_VIDEO];
  cm_vdec *d = cm_vdec_open(f, s->stream, 32, 32, 1);
  if (!d) return -1;
  int64_t min_pts = INT64_MAX;
  for (int64_t i = 0; i < cm_vdec_n_packets(d); i++)
    if (cm_vdec_packets(d)[i].pts < min_pts) min_pts = cm_vdec_packets(d)[i].pts;
  if (cm_vdec_seek_pts(d, min_pts)) {
    cm_vdec_close(d);
    return -1;
  }
  size_t cap = (size_t)cm_vdec_n_packets(d) + 1;
  out->t = cm_xmalloc(cap * sizeof *out->t), out->v = cm_xmalloc(cap * sizeof *out->v);
  uint8_t prev[1024], cur[1024];
  int64_t pts, prev_pts = 0;
  int have = 0, r;
  while ((r = cm_vdec_next(d, &pts, cur)) == 1) {
    if (have && pts > prev_pts && out->n < cap) {
      long acc = 0;
      for (int i = 0; i < 1024; i++) acc += abs((int)cur[i] - (int)prev[i]);
      int64_t tr = sync_stream_to_ref_clock(ss, SR_VIDEO, (sync_video_pts_ns(&s->info, pts) + sync_video_pts_ns(&s->info, prev_pts)) / 2);
      out->t[out->n] = (double)(tr - s->ref_first_ns) * 1e-9;
      out->v[out->n++] = (double)acc / 1024.0;
    }
    memcpy(prev, cur, sizeof prev);
    prev_pts = pts;
    have = 1;
  }
  cm_vdec_close(d);
  return r < 0 ? -1 : 0;
}

/* Which wrist feature coincides with the sounds of the body depends on the motion (measured
 * against the simulator's truth, docs/design.md, Sync):
 *   CUE_ACC   |acc|: in gait the arms reach the end of their swing at each heel strike;
 *   CUE_DYN   |acc - its 1 s mean| per axis: jumping jacks land with the arms at an end;
 *   CUE_RISE  the rise of |acc| (half-wave rectified difference): a jump's landing is the onset
 *             of the jolt (|acc| peaks as much at the push-off, which makes no sound);
 *   CUE_MIX   the mean of ACC and DYN, for motion without a clear model (running, no label);
 *   CUE_NONE  no impact to hear (hand washing): the span adds nothing to the onset correlation;
 *             its scrubbing comes in bouts, louder and stronger together, which the level
 *             envelopes compare (imu_cue's env, refine_wrists). */
enum { CUE_ACC, CUE_DYN, CUE_RISE, CUE_MIX, CUE_NONE };

static int cue_for_activity(const char *name) {
  static const struct {
    const char *name;
    int cue;
  } table[] = {{"walk", CUE_ACC}, {"upstairs", CUE_ACC}, {"downstairs", CUE_ACC}, {"jump", CUE_RISE},
               {"exercise", CUE_DYN}, {"run", CUE_MIX}, {"handwashing", CUE_NONE}};
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(name, table[i].name) == 0) return table[i].cue;
  return CUE_MIX;
}

/* The cue model at reference time t (seconds from the camera's first frame): the labelled
 * activity there, or the nearest label's. */
static int cue_at(const sync_session *ss, const cm_label_row *l, size_t nl, double t) {
  if (nl == 0) return CUE_MIX;
  int64_t x = ss->st[SR_VIDEO].ref_first_ns + (int64_t)llround(t * 1e9);
  size_t best = 0;
  int64_t best_d = INT64_MAX;
  for (size_t i = 0; i < nl; i++) {
    int64_t d = x < l[i].start_ns ? l[i].start_ns - x : x >= l[i].end_ns ? x - l[i].end_ns + 1 : 0;
    if (d < best_d) best_d = d, best = i;
  }
  return cue_for_activity(l[best].activity);
}

/* Centred moving mean of 2 * half + 1 samples (prefix sums; the window shrinks at the ends). */
static void moving_mean(double *v, size_t n, size_t half) {
  double *cum = cm_xmalloc((n + 1) * sizeof *cum);
  cum[0] = 0;
  for (size_t i = 0; i < n; i++) cum[i + 1] = cum[i] + v[i];
  for (size_t i = 0; i < n; i++) {
    size_t lo = i >= half ? i - half : 0, hi = i + half + 1 < n ? i + half + 1 : n;
    v[i] = (cum[hi] - cum[lo]) / (double)(hi - lo);
  }
  free(cum);
}

static void zscore(double *v, size_t n) {
  double m = 0, q = 0;
  for (size_t i = 0; i < n; i++) m += v[i];
  m /= n ? (double)n : 1;
  for (size_t i = 0; i < n; i++) q += (v[i] - m) * (v[i] - m);
  double sd = n > 1 ? sqrt(q / (double)(n - 1)) : 0;
  for (size_t i = 0; i < n; i++) v[i] = sd > 0 ? (v[i] - m) / sd : 0;
}

/* The wrist's cue signal on the reference timeline (seconds from the camera's first frame):
 * at each sample the feature the activity labelled there calls for, each feature standardised
 * over the session first so that pieces join at one level. *n_used counts the samples with a
 * cue (not CUE_NONE), *n_mix those with CUE_MIX (no model validated for the motion). *env gets
 * the wrist's motion level where it has no onset cue (hand washing): the dynamic |acc|, a
 * moving mean over wash_smooth_s (longer than a scrubbing stroke, so only the bouts remain),
 * and 0 elsewhere. */
static int imu_cue(sync_session *ss, cm_session *f, int role, const cm_label_row *labels, size_t n_labels,
                   const sync_opts *o, signal *out, signal *env, size_t *n_used, size_t *n_mix) {
  sync_stream *s = &ss->st[role];
  int64_t n = s->info.count;
  *n_used = *n_mix = 0;
  if (n < 3) return cm_set_error("%s: too few samples", sync_role_names[role]);
  float *x = cm_xmalloc((size_t)n * 6 * sizeof *x);
  int64_t *td = cm_xmalloc((size_t)n * sizeof *td), *th = cm_xmalloc((size_t)n * sizeof *th);
  if (cm_session_read_imu(f, s->stream, 0, n, x, td, th)) {
    free(x), free(td), free(th);
    return -1;
  }
  int has_device = td[n - 1] != td[0];
  double *t = cm_xmalloc((size_t)n * sizeof *t), *acc = cm_xmalloc((size_t)n * sizeof *acc);
  double *dyn = cm_xmalloc((size_t)n * sizeof *dyn), *rise = cm_xmalloc((size_t)n * sizeof *rise);
  for (int64_t i = 0; i < n; i++) {
    int64_t tr = sync_stream_to_ref_clock(ss, role, has_device ? td[i] : th[i]);
    t[i] = (double)(tr - ss->st[SR_VIDEO].ref_first_ns) * 1e-9;
    const float *a = x + 6 * i;
    acc[i] = sqrt((double)a[0] * a[0] + (double)a[1] * a[1] + (double)a[2] * a[2]);
  }
  /* dynamic acceleration: each axis less its centred 1 s moving mean, then the magnitude */
  double rate = s->info.nominal_rate > 0 ? s->info.nominal_rate : 25;
  int64_t h = (int64_t)(0.5 * rate);
  double *pre = cm_xcalloc((size_t)(n + 1) * 3, sizeof *pre);
  for (int64_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++) pre[3 * (i + 1) + c] = pre[3 * i + c] + x[6 * i + c];
  for (int64_t i = 0; i < n; i++) {
    int64_t lo = i >= h ? i - h : 0, hi = i + h + 1 < n ? i + h + 1 : n;
    double m2 = 0;
    for (int c = 0; c < 3; c++) {
      double d = x[6 * i + c] - (pre[3 * hi + c] - pre[3 * lo + c]) / (double)(hi - lo);
      m2 += d * d;
    }
    dyn[i] = sqrt(m2);
  }
  /* the rise into sample i, stamped at sample i (the onset is complete by then) */
  rise[0] = 0;
  for (int64_t i = 1; i < n; i++) rise[i] = acc[i] > acc[i - 1] ? acc[i] - acc[i - 1] : 0;
  env->t = cm_xmalloc((size_t)n * sizeof *env->t), env->v = cm_xmalloc((size_t)n * sizeof *env->v);
  env->n = (size_t)n;
  memcpy(env->t, t, (size_t)n * sizeof *t);
  memcpy(env->v, dyn, (size_t)n * sizeof *dyn);
  moving_mean(env->v, (size_t)n, (size_t)(o->wash_smooth_s / 2 * rate));
  zscore(acc, (size_t)n), zscore(dyn, (size_t)n), zscore(rise, (size_t)n);
  out->t = t, out->v = cm_xmalloc((size_t)n * sizeof *out->v), out->n = (size_t)n;
  for (int64_t i = 0; i < n; i++) {
    int cue = cue_at(ss, labels, n_labels, t[i]);
    out->v[i] = cue == CUE_ACC ? acc[i] : cue == CUE_DYN ? dyn[i] : cue == CUE_RISE ? rise[i]
              : cue == CUE_MIX ? 0.5 * (acc[i] + dyn[i]) : 0;
    if (cue != CUE_NONE) env->v[i] = 0;
    *n_used += cue != CUE_NONE;
    *n_mix += cue == CUE_MIX;
  }
  free(pre), free(acc), free(dyn), free(rise), free(x), free(td), free(th);
  return 0;
}

/* Onset envelope: the rise of log RMS energy in 10 ms frames (half-wave rectified); and *level,
 * that log RMS energy itself. */
static int audio_onsets(sync_session *ss, cm_session *f, signal *out, signal *level) {
  sync_stream *s = &ss->st[SR_AUDIO];
  int ch = s->info.channels > 0 ? s->info.channels : 1;
  int sr = s->info.sample_rate > 0 ? s->info.sample_rate : 22050;
  int hop = sr / 100;
  int64_t nf = s->info.count / hop;
  if (nf < 2) return cm_set_error("audio too short");
  out->t = cm_xmalloc((size_t)nf * sizeof *out->t), out->v = cm_xmalloc((size_t)nf * sizeof *out->v);
  level->t = cm_xmalloc((size_t)nf * sizeof *level->t), level->v = cm_xmalloc((size_t)nf * sizeof *level->v);
  int64_t per_read = (int64_t)hop * 100;
  int16_t *buf = cm_xmalloc((size_t)(per_read * ch) * sizeof *buf);
  double prev = 0;
  for (int64_t k0 = 0; k0 < nf; k0 += 100) {
    int64_t k1 = k0 + 100 < nf ? k0 + 100 : nf;
    if (cm_session_read_audio(f, s->stream, k0 * hop, (k1 - k0) * hop, buf)) {
      free(buf);
      return -1;
    }
    for (int64_t k = k0; k < k1; k++) {
      double e = 0;
      const int16_t *b = buf + (k - k0) * hop * ch;
      for (int i = 0; i < hop * ch; i++) e += (double)b[i] * b[i];
      double l = log(1e-3 + sqrt(e / (hop * ch)) / 32768.0);
      double on = k ? (l > prev ? l - prev : 0) : 0;
      prev = l;
      int64_t tr = sync_stream_to_ref_clock(ss, SR_AUDIO, audio_frame_ns(&s->info, k * hop + hop / 2));
      out->t[out->n] = (double)(tr - ss->st[SR_VIDEO].ref_first_ns) * 1e-9;
      level->t[level->n] = out->t[out->n];
      level->v[level->n++] = l;
      out->v[out->n++] = on;
    }
  }
  free(buf);
  return 0;
}

/* Uncertainty of stream `role` relative to stream `other` from the clock model alone: both
 * fits, plus both hosts' chrony bounds when they are on different hosts. */
static double clock_rel_unc_to(const sync_session *ss, int role, int other) {
  const sync_stream *s = &ss->st[role], *v = &ss->st[other];
  double u = s->fit.uncertainty_s + v->fit.uncertainty_s;
  if (s->file != v->file) u += s->chrony_unc_s + v->chrony_unc_s;
  return u;
}
static double clock_rel_unc(const sync_session *ss, int role) { return clock_rel_unc_to(ss, role, SR_VIDEO); }

/* The microphone against the camera, when they are on different hosts: frame-difference
 * energy against the onset envelope, applied only when confident. */
static void refine_audio(sync_session *ss, cm_session **files, const sync_opts *o, const signal *ve, const signal *au) {
  sync_stream *s = &ss->st[SR_AUDIO];
  cm_xcorr_params p = o->xc;
  double lag = 3 * clock_rel_unc(ss, SR_AUDIO) + 0.1;
  p.max_lag_s = lag < 0.25 ? 0.25 : lag > o->xc.max_lag_s ? o->xc.max_lag_s : lag;
  if (cm_xcorr_offset(ve->t, ve->v, ve->n, au->t, au->v, au->n, &p, &s->xc) == 0) {
    s->refine_tried = 1;
    if (s->xc.confident) s->refine_s = s->xc.lag_s, s->refine_applied = 1;
  }
}

/* The wrists against the microphone: the sounds of the body (the onset envelope: foot impacts,
 * landings, claps) against the wrist feature the labelled activity calls for (imu_cue). The
 * two wrists' curves are averaged when they are on one host (one clock error); the search spans
 * the clock model's relative bound. The best peak is "confident" when its correlation reaches
 * wrist_confident_corr, it is at least wrist_confident_ratio times the best other local
 * maximum (periodic motion leaves rivals a period apart; the best one is usually, not always,
 * the true one), and at most a quarter of the samples use CUE_MIX, the model no activity
 * validated (running: its peaks sit 0.07-0.14 s off). It is applied when its correlation
 * reaches wrist_min_corr and it is confident or the span is at least wrist_min_span_s. Stated
 * uncertainty: when confident, the main lobe + cue_bias_s; otherwise what the clock model
 * guarantees, its bound plus the shift applied, so an aliased or noisy peak can never make the
 * statement false.
 *
 * Where at least three quarters of the samples have no onset cue (hand washing), the level
 * envelopes are compared instead: the microphone's log energy and the wrist's dynamic |acc|,
 * both moving means over wash_smooth_s, high-passed over wash_hp_s. The scrubbing comes in
 * bouts seconds long, louder and stronger together, so the curve has one broad peak and no
 * rivals a stroke apart. It is applied (never "confident": the lobe is a few hundred ms wide)
 * when its correlation reaches wash_min_corr and it is not on the edge of the search range, and
 * states its lobe's half width + cue_bias_s, or the clock model's bound where that is smaller. */
static void refine_wrists(sync_session *ss, cm_session **files, const sync_opts *o, const signal *au,
                          const signal *level, const cm_label_row *labels, size_t n_labels) {
  signal cue[2] = {{0}}, env[2] = {{0}};
  int ok[2];
  size_t used[2] = {0, 0}, mix[2] = {0, 0};
  for (int w = 0; w < 2; w++)
    ok[w] = imu_cue(ss, files[ss->st[SR_IMU_R + w].file], SR_IMU_R + w, labels, n_labels, o, &cue[w], &env[w], &used[w],
                    &mix[w]) == 0;
  int shared = ss->st[SR_IMU_R].file == ss->st[SR_IMU_L].file && ok[0] && ok[1];
  double span = au->n ? au->t[au->n - 1] - au->t[0] : 0;
  /* the microphone's level envelope, for the spans without onsets */
  signal lev = {0};
  lev.n = level->n, lev.t = cm_xmalloc((lev.n + 1) * sizeof *lev.t), lev.v = cm_xmalloc((lev.n + 1) * sizeof *lev.v);
  if (lev.n) memcpy(lev.t, level->t, lev.n * sizeof *lev.t), memcpy(lev.v, level->v, lev.n * sizeof *lev.v);
  moving_mean(lev.v, lev.n, (size_t)(o->wash_smooth_s / 2 * 100));
  for (int w = 0; w < 2; w++) {
    if (!ok[w] || (shared && w == 1)) continue;
    int envelope = used[w] < cue[w].n / 4;
    const signal *sa = envelope ? &lev : au;
    int role = SR_IMU_R + w;
    double bound = clock_rel_unc_to(ss, role, SR_AUDIO);
    if (shared) bound = fmax(bound, clock_rel_unc_to(ss, SR_IMU_L, SR_AUDIO));
    cm_xcorr_params p = o->xc;
    if (envelope) p.hp_window_s = o->wash_hp_s;
    p.max_lag_s = fmin(bound + 0.05, fmin(o->wrist_max_lag_s, (span - p.hp_window_s) / 2 - 0.05));
    if (p.max_lag_s < 0.1) continue;
    size_t nl = 2 * (size_t)ceil(p.max_lag_s * p.grid_hz) + 1, k = 0;
    double *c = cm_xcalloc(nl, sizeof *c), *cw = cm_xmalloc(nl * sizeof *cw);
    int n_curves = 0, bad = 0;
    for (int x = w; x <= (shared ? 1 : w) && !bad; x++) {
      const signal *sb = envelope ? &env[x] : &cue[x];
      if (cm_xcorr_curve(sa->t, sa->v, sa->n, sb->t, sb->v, sb->n, &p, cw, &k, NULL)) bad = 1;
      for (size_t i = 0; !bad && i < nl; i++) c[i] += cw[i];
      n_curves++;
    }
    if (!bad) {
      for (size_t i = 0; i < nl; i++) c[i] /= n_curves;
      cm_xcorr_result r;
      memset(&r, 0, sizeof r);
      r.overlap_s = span;
      cm_xcorr_pick(c, nl, &p, &r);
      int on_edge = fabs(r.lag_s) > p.max_lag_s - 1.5 / p.grid_hz;
      /* relative to the camera: the microphone's own refinement and uncertainty come on top */
      const sync_stream *a = &ss->st[SR_AUDIO];
      double a_unc = 0;
      if (a->file != ss->st[SR_VIDEO].file) a_unc = a->refine_applied ? a->xc.uncertainty_s : clock_rel_unc(ss, SR_AUDIO);
      r.lag_s += a->refine_s;
      double via_clock = fmax(clock_rel_unc(ss, SR_IMU_R), clock_rel_unc(ss, SR_IMU_L)) + fabs(r.lag_s);
      int apply;
      if (envelope) {
        r.confident = 0;
        apply = o->refine != SYNC_REFINE_CONFIDENT && r.corr >= o->wash_min_corr && !on_edge;
        r.uncertainty_s = apply ? fmin(r.hwhm_s + o->cue_bias_s + a_unc, via_clock) : via_clock;
      } else {
        r.confident = r.corr >= o->wrist_confident_corr && r.peak_ratio >= o->wrist_confident_ratio &&
                      mix[w] * 4 <= used[w];
        r.uncertainty_s = r.confident ? fmin(r.uncertainty_s + o->cue_bias_s + a_unc, via_clock) : via_clock;
        /* Choosing among rival peaks relies on the cycle-to-cycle variation of many cycles: on
         * a 4 s clip the best one was the true one in 1 of 5 ambiguous sessions, so shorter
         * spans keep the clock model unless the peak stands alone. */
        apply = r.corr >= o->wrist_min_corr &&
                (r.confident || (o->refine != SYNC_REFINE_CONFIDENT && span >= o->wrist_min_span_s));
      }
      for (int x = w; x <= (shared ? 1 : w); x++) {
        sync_stream *s = &ss->st[SR_IMU_R + x];
        s->xc = r;
        s->refine_tried = 1;
        s->refine_envelope = envelope;
        if (apply) s->refine_s = r.lag_s, s->refine_applied = 1;
      }
    }
    free(c), free(cw);
  }
  for (int w = 0; w < 2; w++) signal_free(&cue[w]), signal_free(&env[w]);
  signal_free(&lev);
}

static void refine(sync_session *ss, cm_session **files, const sync_opts *o, const cm_label_row *labels, size_t n_labels) {
  signal au = {0}, level = {0};
  if (audio_onsets(ss, files[ss->st[SR_AUDIO].file], &au, &level)) {
    signal_free(&au), signal_free(&level);
    return; /* no refinement; reported as not tried */
  }
  /* The microphone shares the camera's clock when they are on one host. */
  if (ss->st[SR_AUDIO].file != ss->st[SR_VIDEO].file) {
    signal ve = {0};
    if (video_energy(ss, files[ss->st[SR_VIDEO].file], &ve) == 0) refine_audio(ss, files, o, &ve, &au);
    signal_free(&ve);
  }
  refine_wrists(ss, files, o, &au, &level, labels, n_labels);
  signal_free(&au), signal_free(&level);
}

/* ---- step 6: holes ---- */

typedef struct {
  int64_t a, b;
} interval;
typedef struct {
  interval *v;
  size_t n, cap;
} intervals;
static void add_interval(intervals *l, int64_t a, int64_t b) {
  if (l->n == l->cap) l->cap = l->cap ? 2 * l->cap : 16, l->v = cm_xrealloc(l->v, l->cap * sizeof *l->v);
  l->v[l->n].a = a, l->v[l->n++].b = b;
}

static int find_holes(sync_session *ss, cm_session **files, const sync_opts *o, intervals *holes) {
  int64_t max_gap = (int64_t)llround(o->max_gap_s * 1e9);
  /* video frames */
  sync_stream *v = &ss->st[SR_VIDEO];
  int64_t n = v->info.count;
  int64_t *t = cm_xmalloc((size_t)(n + 1) * sizeof *t);
  cm_packet_row *idx = cm_xmalloc((size_t)(n + 1) * sizeof *idx);
  if (cm_session_read_packet_index(files[v->file], v->stream, 0, n, idx)) {
    free(t), free(idx);
    return skip(ss, "video: %s", cm_error());
  }
  for (int64_t i = 0; i < n; i++) t[i] = sync_video_pts_ns(&v->info, idx[i].pts);
  free(idx);
  qsort(t, (size_t)n, sizeof *t, cmp_i64);
  for (int64_t i = 1; i < n; i++)
    if (t[i] - t[i - 1] > max_gap) add_interval(holes, sync_stream_to_ref(ss, SR_VIDEO, t[i - 1]), sync_stream_to_ref(ss, SR_VIDEO, t[i]));
  free(t);
  /* IMU samples (lost BLE packets) */
  for (int role = SR_IMU_R; role <= SR_IMU_L; role++) {
    sync_stream *s = &ss->st[role];
    n = s->info.count;
    int64_t *td = cm_xmalloc((size_t)n * sizeof *td), *th = cm_xmalloc((size_t)n * sizeof *th);
    if (cm_session_read_imu(files[s->file], s->stream, 0, n, NULL, td, th)) {
      free(td), free(th);
      return skip(ss, "%s: %s", sync_role_names[role], cm_error());
    }
    int has_device = td[n - 1] != td[0];
    for (int64_t i = 1; i < n; i++) {
      int64_t a = has_device ? td[i - 1] : th[i - 1], b = has_device ? td[i] : th[i];
      if (b - a > max_gap) add_interval(holes, sync_stream_to_ref(ss, role, a), sync_stream_to_ref(ss, role, b));
    }
    free(td), free(th);
  }
  /* "gap" events of any file: value is the hole's length in seconds */
  for (int fi = 0; fi < ss->n_files; fi++) {
    const cm_session_meta *m = cm_session_get_meta(files[fi]);
    if (m->n_events <= 0) continue;
    cm_event_row *ev = cm_xmalloc((size_t)m->n_events * sizeof *ev);
    if (cm_session_read_events(files[fi], 0, m->n_events, ev) == 0) {
      for (int64_t i = 0; i < m->n_events; i++) {
        if (strcmp(ev[i].kind, "gap") != 0 || !(ev[i].value > o->max_gap_s)) continue;
        int64_t a = cm_clock_ref_to_ref(&ss->ref[fi], ev[i].t_host_ns);
        add_interval(holes, a, a + (int64_t)llround(ev[i].value * 1e9));
      }
    }
    free(ev);
  }
  return 0;
}

/* ---- the planner ---- */

static int open_files(sync_session *ss, cm_session **files) {
  for (int i = 0; i < ss->n_files; i++) {
    files[i] = cm_session_open(ss->paths[i]);
    if (!files[i]) return skip(ss, "%s", cm_error());
    const cm_session_meta *m = cm_session_get_meta(files[i]);
    if (i == 0) {
      snprintf(ss->session_id, sizeof ss->session_id, "%s", m->session_id);
      snprintf(ss->user, sizeof ss->user, "%s", m->user);
      snprintf(ss->location, sizeof ss->location, "%s", m->location);
    } else if (strcmp(m->session_id, ss->session_id) != 0) {
      return skip(ss, "%s: session_id '%s' differs from '%s'", ss->paths[i], m->session_id, ss->session_id);
    }
  }
  return 0;
}

static int host_clocks(sync_session *ss, cm_session **files, const sync_opts *o) {
  for (int i = 0; i < ss->n_files; i++) {
    const cm_session_meta *m = cm_session_get_meta(files[i]);
    cm_chrony_row *rows = cm_xmalloc((size_t)(m->n_chrony + 1) * sizeof *rows);
    if (m->n_chrony > 0 && cm_session_read_chrony(files[i], 0, m->n_chrony, rows)) {
      free(rows);
      return skip(ss, "%s: %s", ss->paths[i], cm_error());
    }
    int rc = cm_clock_ref_build(rows, (size_t)m->n_chrony, o->step_min_s, &ss->ref[i]);
    free(rows);
    if (rc) return skip(ss, "%s: %s", ss->paths[i], cm_error());
    if (ss->ref[i].n_steps) {
      const cm_clock_step *st = &ss->ref[i].steps[0];
      return skip(ss, "%s: host clock stepped by %+.3f s between chrony answers %.1f s apart", ss->paths[i],
                  st->step_s, (double)(st->t_after_ns - st->t_before_ns) * 1e-9);
    }
    if (m->n_events > 0) {
      cm_event_row *ev = cm_xmalloc((size_t)m->n_events * sizeof *ev);
      int bad = -1;
      if (cm_session_read_events(files[i], 0, m->n_events, ev) == 0)
        for (int64_t k = 0; k < m->n_events && bad < 0; k++)
          if (strcmp(ev[k].kind, "clock_step") == 0) bad = (int)k;
      if (bad >= 0) {
        double v = ev[bad].value;
        free(ev);
        return skip(ss, "%s: host clock stepped by %+.3f s (event)", ss->paths[i], v);
      }
      free(ev);
    }
  }
  return 0;
}

static int find_streams(sync_session *ss, cm_session **files) {
  for (int role = 0; role < SR_COUNT; role++) {
    sync_stream *s = &ss->st[role];
    for (int fi = 0; fi < ss->n_files && !s->present; fi++) {
      int id = cm_session_find_stream(files[fi], sync_role_names[role]);
      if (id < 0) continue;
      s->present = 1, s->file = fi, s->stream = id;
      if (cm_session_stream_info(files[fi], id, &s->info)) return skip(ss, "%s", cm_error());
      cm_stream_kind want = role == SR_VIDEO ? CM_STREAM_VIDEO : role == SR_AUDIO ? CM_STREAM_AUDIO : CM_STREAM_IMU;
      if (s->info.kind != want) return skip(ss, "stream '%s' is not of the %s kind", sync_role_names[role], role < 2 ? sync_role_names[role] : "imu");
    }
    if (!s->present) return skip(ss, "missing stream '%s'", sync_role_names[role]);
  }
  return 0;
}

static cm_label_row *read_labels(sync_session *ss, cm_session **files, const sync_opts *o, size_t *n_out) {
  size_t n = 0;
  cm_label_row *all = NULL;
  for (int fi = 0; fi < ss->n_files; fi++) {
    const cm_session_meta *m = cm_session_get_meta(files[fi]);
    if (m->n_labels <= 0) continue;
    all = cm_xrealloc(all, (n + (size_t)m->n_labels) * sizeof *all);
    if (cm_session_read_labels(files[fi], 0, m->n_labels, all + n)) {
      free(all);
      skip(ss, "%s: %s", ss->paths[fi], cm_error());
      return NULL;
    }
    n += (size_t)m->n_labels;
  }
  if (n == 0) {
    skip(ss, "no labels");
    return NULL;
  }
  /* Every host's file may carry the session's labels: the same interval twice is one label. */
  size_t u = 0;
  for (size_t i = 0; i < n; i++) {
    int dup = 0;
    for (size_t j = 0; j < u && !dup; j++)
      dup = all[j].start_ns == all[i].start_ns && all[j].end_ns == all[i].end_ns &&
            strncmp(all[j].activity, all[i].activity, CM_LABEL_LEN) == 0;
    if (!dup) all[u++] = all[i];
  }
  n = u;
  for (size_t i = 0; i < n; i++) {
    all[i].activity[CM_LABEL_LEN - 1] = 0;
    if (cm_split_class_index(o->split, all[i].activity) < 0) {
      skip(ss, "unknown label '%s'", all[i].activity);
      free(all);
      return NULL;
    }
    if (all[i].end_ns <= all[i].start_ns) {
      skip(ss, "label '%s' ends before it starts", all[i].activity);
      free(all);
      return NULL;
    }
  }
  *n_out = n;
  return all;
}

/* The label of [a, b): the class covering all of it, or with keep_straddling the class covering
 * most of it (at least half). -1: none; -2: straddles a transition. */
static int window_label(const cm_label_row *l, size_t n, int64_t a, int64_t b, const sync_opts *o) {
  double cover[CM_MAX_CLASSES] = {0};
  for (size_t i = 0; i < n; i++) {
    int64_t lo = l[i].start_ns > a ? l[i].start_ns : a, hi = l[i].end_ns < b ? l[i].end_ns : b;
    if (hi <= lo) continue;
    int c = cm_split_class_index(o->split, l[i].activity);
    cover[c] += (double)(hi - lo);
  }
  int best = -1;
  double len = (double)(b - a), total = 0;
  for (int c = 0; c < o->split->n_classes; c++) {
    total += cover[c];
    if (cover[c] > 0 && (best < 0 || cover[c] > cover[best])) best = c;
  }
  if (best < 0) return -1;
  if (cover[best] >= len * (1 - 1e-9) && total <= len * (1 + 1e-9)) return best;
  if (total < 0.5 * len) return -1;
  return o->keep_straddling && cover[best] >= 0.5 * len ? best : -2;
}

static double window_uncertainty(const sync_session *ss, int64_t t_mid) {
  const sync_stream *v = &ss->st[SR_VIDEO];
  double vu;
  cm_clock_ref_correction(&ss->ref[v->file], t_mid, &vu);
  double worst = 0;
  for (int role = SR_AUDIO; role < SR_COUNT; role++) {
    const sync_stream *s = &ss->st[role];
    double u;
    if (s->refine_applied) {
      u = s->xc.uncertainty_s + v->fit.uncertainty_s;
    } else {
      u = s->fit.uncertainty_s + v->fit.uncertainty_s;
      if (s->file != v->file) {
        double su;
        cm_clock_ref_correction(&ss->ref[s->file], t_mid, &su);
        u += su + vu;
      }
    }
    if (u > worst) worst = u;
  }
  return worst;
}

static void make_windows(sync_session *ss, const cm_label_row *labels, size_t n_labels, const intervals *holes,
                         const sync_opts *o, int personal) {
  int64_t a = INT64_MIN, b = INT64_MAX;
  for (int role = 0; role < SR_COUNT; role++) {
    /* with the refinement and injected shifts, which move the stream's span too */
    const sync_stream *s = &ss->st[role];
    int64_t shift = (int64_t)llround(s->refine_s * 1e9);
    int64_t first = s->ref_first_ns + shift, last = s->ref_last_ns + shift;
    first += (int64_t)llround(inject_s(s, first) * 1e9);
    last += (int64_t)llround(inject_s(s, last) * 1e9);
    if (first > a) a = first;
    if (last < b) b = last;
  }
  ss->span_start_ns = a, ss->span_end_ns = b;
  int64_t w = (int64_t)llround(o->window_s * 1e9), hop = (int64_t)llround(o->hop_s * 1e9);
  if (b - a < w) {
    skip(ss, b <= a ? "streams do not overlap in time" : "streams overlap for %.2f s, less than one window",
         (double)(b - a) * 1e-9);
    return;
  }
  int64_t cap = (b - a - w) / hop + 1;
  ss->win = cm_xmalloc((size_t)cap * sizeof *ss->win);
  for (int64_t k = 0; k < cap; k++) {
    int64_t t0 = a + k * hop, t1 = t0 + w;
    int hit = 0;
    for (size_t h = 0; h < holes->n && !hit; h++) hit = holes->v[h].a < t1 && holes->v[h].b > t0;
    if (hit) {
      ss->n_drop_gap++;
      continue;
    }
    int lab = window_label(labels, n_labels, t0, t1, o);
    if (lab == -1) {
      ss->n_drop_unlabeled++;
      continue;
    }
    if (lab == -2) {
      ss->n_drop_straddle++;
      continue;
    }
    if (personal && cm_name_list_has(&o->split->personal_exclude_classes, o->split->classes[lab])) {
      ss->n_drop_excluded++;
      continue;
    }
    sync_window *sw = &ss->win[ss->n_win++];
    sw->t_ns = t0;
    sw->label = lab;
    sw->uncertainty_s = (float)window_uncertainty(ss, t0 + w / 2);
  }
  if (ss->n_win == 0) skip(ss, "no usable windows (%lld over holes, %lld unlabelled, %lld straddling, %lld excluded)",
                           (long long)ss->n_drop_gap, (long long)ss->n_drop_unlabeled, (long long)ss->n_drop_straddle,
                           (long long)ss->n_drop_excluded);
}

void sync_plan_session(sync_session *ss, const sync_opts *o) {
  cm_session *files[SYNC_MAX_FILES] = {0};
  cm_label_row *labels = NULL;
  size_t n_labels = 0;
  intervals holes = {0};
  for (int r = 0; r < SR_COUNT; r++) ss->truth_err_s[r] = ss->truth_clock_rel_s[r] = NAN;
  ss->truth_rel_err_s = ss->truth_err_norefine_s = NAN;
  if (open_files(ss, files) || host_clocks(ss, files, o) || find_streams(ss, files)) goto out;
  if (ss->st[SR_AUDIO].info.sample_rate != CM_AUDIOFEAT_SAMPLE_RATE) {
    skip(ss, "audio at %d Hz; the 193-vector is defined at %d Hz", ss->st[SR_AUDIO].info.sample_rate,
         CM_AUDIOFEAT_SAMPLE_RATE);
    goto out;
  }
  for (int role = 0; role < SR_COUNT; role++) {
    ss->st[role].inject_offset_s = o->inject.offset_s[role];
    ss->st[role].inject_drift_ppm = o->inject.drift_ppm[role];
    if (fit_stream(ss, files[ss->st[role].file], role)) goto out;
  }
  if (!(labels = read_labels(ss, files, o, &n_labels))) goto out;
  if (o->refine) refine(ss, files, o, labels, n_labels);
  if (find_holes(ss, files, o, &holes)) goto out;
  int personal = ss->role == CM_ROLE_PERSONAL_TRAIN || ss->role == CM_ROLE_PERSONAL_TEST;
  make_windows(ss, labels, n_labels, &holes, o, personal);
  ss->win_len_ns = (int64_t)llround(o->window_s * 1e9);
  if (!ss->skipped) sync_truth_compare(ss, files);
out:
  free(labels);
  free(holes.v);
  for (int i = 0; i < ss->n_files; i++)
    if (files[i]) cm_session_close(files[i]);
}
