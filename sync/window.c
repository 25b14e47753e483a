/*
 * Building window content from a plan; see window.h for what each modality's window holds.
 * The session's files are opened here again (plans hold no handles, so plans of a large
 * corpus cost kilobytes), the video is decoded from the keyframe before the run's first frame
 * to just past its last, and only the frames inside the run's span are kept.
 */
#include "window.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "video_decode.h"

int sync_worker_init(sync_worker *w, const sync_opts *o) {
  memset(w, 0, sizeof *w);
  w->af_samples = (int)llround(o->window_s * CM_AUDIOFEAT_SAMPLE_RATE);
  w->af = cm_audiofeat_create(CM_AUDIOFEAT_SAMPLE_RATE, w->af_samples);
  return w->af ? 0 : -1;
}

void sync_worker_free(sync_worker *w) {
  cm_audiofeat_destroy(w->af);
  memset(w, 0, sizeof *w);
}

typedef struct {
  int64_t *t;     /* reference time of each kept frame */
  uint8_t *px;    /* frames, frame_bytes each */
  size_t n, cap;
} frame_buf;

static int decode_span(const sync_session *ss, cm_session *f, int64_t t_lo, int64_t t_hi, int size, frame_buf *fb) {
  const sync_stream *v = &ss->st[SR_VIDEO];
  cm_vdec *d = cm_vdec_open(f, v->stream, size, size, 0);
  if (!d) return -1;
  size_t fbytes = (size_t)size * size * 3;
  /* the pts of t_lo: invert the stream-time map, then back to pts units */
  int64_t t_stream = sync_stream_from_ref(ss, SR_VIDEO, t_lo);
  int num = v->info.time_base_num > 0 ? v->info.time_base_num : 1;
  int den = v->info.time_base_den > 0 ? v->info.time_base_den : 90000;
  int64_t pts_lo = (int64_t)floor((double)t_stream * den / (1e9 * num));
  int rc = cm_vdec_seek_pts(d, pts_lo);
  uint8_t *tmp = cm_xmalloc(fbytes);
  int64_t pts;
  int r = 0;
  while (rc == 0 && (r = cm_vdec_next(d, &pts, tmp)) == 1) {
    int64_t tr = sync_stream_to_ref(ss, SR_VIDEO, sync_video_pts_ns(&v->info, pts));
    if (tr < t_lo) continue;
    if (tr > t_hi) break;
    if (fb->n && tr <= fb->t[fb->n - 1]) continue; /* presentation order must advance */
    if (fb->n == fb->cap) {
      fb->cap = fb->cap ? 2 * fb->cap : 64;
      fb->t = cm_xrealloc(fb->t, fb->cap * sizeof *fb->t);
      fb->px = cm_xrealloc(fb->px, fb->cap * fbytes);
    }
    fb->t[fb->n] = tr;
    memcpy(fb->px + fb->n * fbytes, tmp, fbytes);
    fb->n++;
  }
  if (r < 0) rc = -1;
  free(tmp);
  cm_vdec_close(d);
  if (rc == 0 && fb->n == 0) rc = cm_set_error("video: no decodable frame in %.3f..%.3f s", t_lo * 1e-9, t_hi * 1e-9);
  return rc;
}

static size_t nearest(const int64_t *t, size_t n, int64_t x) {
  size_t lo = 0, hi = n; /* first index with t >= x */
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (t[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == n) return n - 1;
  if (lo > 0 && x - t[lo - 1] <= t[lo] - x) return lo - 1;
  return lo;
}

typedef struct {
  int64_t *t;
  float *x; /* 6 per sample */
  int64_t n;
} imu_buf;

static int load_imu(const sync_session *ss, cm_session *f, int role, imu_buf *b) {
  const sync_stream *s = &ss->st[role];
  b->n = s->info.count;
  b->x = cm_xmalloc((size_t)b->n * 6 * sizeof *b->x);
  int64_t *td = cm_xmalloc((size_t)b->n * sizeof *td), *th = cm_xmalloc((size_t)b->n * sizeof *th);
  b->t = td;
  int rc = cm_session_read_imu(f, s->stream, 0, b->n, b->x, td, th);
  if (rc == 0) {
    int has_device = td[b->n - 1] != td[0];
    for (int64_t i = 0; i < b->n; i++) b->t[i] = sync_stream_to_ref(ss, role, has_device ? td[i] : th[i]);
  }
  free(th);
  return rc;
}

/* 6 channels of `steps` steps of dt from t0 into out (row stride 12). */
static void resample_imu(const imu_buf *b, int64_t t0, int64_t dt, int steps, float *out) {
  size_t i = nearest(b->t, (size_t)b->n, t0);
  while (i > 0 && b->t[i] >= t0) i--;
  for (int k = 0; k < steps; k++) {
    int64_t lo = t0 + k * dt, hi = lo + dt;
    double acc[6] = {0};
    int m = 0;
    while (i < (size_t)b->n && b->t[i] < lo) i++;
    for (size_t j = i; j < (size_t)b->n && b->t[j] < hi; j++, m++)
      for (int c = 0; c < 6; c++) acc[c] += b->x[6 * j + c];
    if (m) {
      for (int c = 0; c < 6; c++) out[12 * k + c] = (float)(acc[c] / m);
      continue;
    }
    int64_t mid = lo + dt / 2;
    size_t r = i < (size_t)b->n ? i : (size_t)b->n - 1, l = r > 0 ? r - 1 : 0;
    double f = b->t[r] > b->t[l] ? (double)(mid - b->t[l]) / (double)(b->t[r] - b->t[l]) : 0;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    for (int c = 0; c < 6; c++) out[12 * k + c] = (float)(b->x[6 * l + c] + f * (b->x[6 * r + c] - b->x[6 * l + c]));
  }
}

int sync_build_windows(const sync_session *ss, int64_t w0, int64_t w1, const sync_opts *o, sync_worker *wk,
                       uint8_t *video, float *imu, float *audio) {
  cm_session *files[SYNC_MAX_FILES] = {0};
  frame_buf fb = {0};
  imu_buf ib[2] = {{0}};
  float *pcmf = NULL;
  int16_t *pcm = NULL;
  int rc = -1;
  for (int i = 0; i < ss->n_files; i++)
    if (!(files[i] = cm_session_open(ss->paths[i]))) goto out;
  int64_t win = (int64_t)llround(o->window_s * 1e9);
  int64_t t_lo = ss->win[w0].t_ns - 500000000LL, t_hi = ss->win[w1 - 1].t_ns + win + 500000000LL;
  if (decode_span(ss, files[ss->st[SR_VIDEO].file], t_lo, t_hi, o->video_size, &fb)) goto out;
  for (int k = 0; k < 2; k++)
    if (load_imu(ss, files[ss->st[SR_IMU_R + k].file], SR_IMU_R + k, &ib[k])) goto out;
  const sync_stream *as = &ss->st[SR_AUDIO];
  int ch = as->info.channels > 0 ? as->info.channels : 1;
  pcm = cm_xmalloc((size_t)wk->af_samples * ch * sizeof *pcm);
  pcmf = cm_xmalloc((size_t)wk->af_samples * sizeof *pcmf);
  size_t fbytes = (size_t)o->video_size * o->video_size * 3;
  int64_t dt_imu = win / o->imu_steps;
  for (int64_t w = w0; w < w1; w++) {
    int64_t t0 = ss->win[w].t_ns;
    int64_t j = w - w0;
    uint8_t *vout = video + (size_t)j * o->video_frames * fbytes;
    for (int k = 0; k < o->video_frames; k++) {
      int64_t target = t0 + (int64_t)llround(((double)k + 0.5) * (double)win / o->video_frames);
      memcpy(vout + (size_t)k * fbytes, fb.px + nearest(fb.t, fb.n, target) * fbytes, fbytes);
    }
    float *iout = imu + (size_t)j * o->imu_steps * 12;
    resample_imu(&ib[0], t0, dt_imu, o->imu_steps, iout);     /* right: channels 0..5 */
    resample_imu(&ib[1], t0, dt_imu, o->imu_steps, iout + 6); /* left: channels 6..11 */
    /* audio: the samples from the frame at t0 on (the window's length in samples is fixed) */
    int64_t first = (int64_t)llround((double)sync_stream_from_ref(ss, SR_AUDIO, t0) * as->info.sample_rate / 1e9);
    int64_t n = wk->af_samples, have_lo = first < 0 ? -first : 0;
    int64_t end = first + n > as->info.count ? as->info.count : first + n;
    memset(pcmf, 0, (size_t)n * sizeof *pcmf);
    if (end > first + have_lo) {
      if (cm_session_read_audio(files[as->file], as->stream, first + have_lo, end - first - have_lo, pcm)) goto out;
      for (int64_t i = 0; i < end - first - have_lo; i++) {
        int32_t acc = 0;
        for (int c = 0; c < ch; c++) acc += pcm[i * ch + c];
        pcmf[have_lo + i] = (float)acc / (32768.0f * ch);
      }
    }
    if (cm_audiofeat_compute(wk->af, pcmf, audio + (size_t)j * CM_AUDIOFEAT_DIM) != CM_AUDIOFEAT_OK) goto out;
  }
  rc = 0;
out:
  if (rc) cm_prefix_error("session %s", ss->session_id);
  for (int i = 0; i < ss->n_files; i++)
    if (files[i]) cm_session_close(files[i]);
  free(fb.t), free(fb.px), free(ib[0].t), free(ib[0].x), free(ib[1].t), free(ib[1].x), free(pcm), free(pcmf);
  return rc;
}
