/*
 * One simulated session -> its session files, laid out as real recordings would be: one file per
 * recording host (DESIGN.md section 4).
 *
 *   <session>_camera.h5  host "camera-phone": streams video (H.264 packets) and audio (PCM), the
 *                        phone's chrony answers, labels, dropped-frame events;
 *   <session>_wrist.h5   host "wrist-phone", the phone the two BLE wrist sensors report to:
 *                        streams imu_left and imu_right, its own chrony answers, labels, link
 *                        gap events.
 * Both carry the same session_id; sync pairs them by it. Each host has its own clock error, so
 * the two files disagree about time exactly as two phones would.
 *
 * Ground truth goes to /truth of each file (only what that host could not know): its clock's
 * error terms; per video frame and per IMU sample the reference time it was really captured;
 * the audio clock's first-sample reference time and rate error; sensor offsets, drifts,
 * latencies and imperfections; the labels as reference-time intervals with class indices; the
 * person and the location. All truth is computed before any stream is written (the file format
 * takes truth only before cm_session_start), which the plan makes possible: frame and sample
 * times, drops and radio losses are all drawn before anything is rendered.
 *
 * Streams are produced in capture order and appended as they are made, so memory stays at one
 * frame and one audio block whatever the session's length.
 *
 * Each file is written as <name>.partial and renamed when it is closed whole; a session that
 * fails (a full disk) leaves no file behind, rather than a short one that validates as a
 * finished simulation, and an earlier file of the same name survives the failed rewrite.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cm_session.h"
#include "cm_util.h"
#include "sim.h"

#define AUDIO_BLOCK 1024

typedef struct {
  cm_session *s;
  int stream;
  int64_t *t_host;  /* per frame index */
  long n_packets, n_frames;
  sim_mp4 *mp4; /* --export-raw */
} video_sink;

static int on_packet(void *ctx, const uint8_t *data, size_t size, int key, int64_t pts, int64_t dts) {
  video_sink *v = ctx;
  cm_packet_row row = {0};
  row.size = (uint32_t)size;
  row.key = (uint8_t)key;
  row.pts = pts;
  row.dts = dts;
  /* no B-frames and zero latency: packets come out one per frame, in capture order */
  row.t_host_ns = v->t_host[v->n_packets < v->n_frames ? v->n_packets : v->n_frames - 1];
  v->n_packets++;
  if (v->mp4 && sim_mp4_video(v->mp4, data, size, key, pts) < 0) return -1;
  return cm_session_append_packet(v->s, v->stream, data, &row);
}

static void label_truth_and_rows(const sim_plan *p, cm_session *s, int put_truth) {
  int64_t st[SIM_MAX_SEGMENTS], en[SIM_MAX_SEGMENTS], cls[SIM_MAX_SEGMENTS];
  int n = 0;
  for (int k = 0; k < p->n_segments; k++) {
    double a = fmax(p->seg[k].start_s, p->label_start_s), b = fmin(p->seg[k].end_s, p->label_end_s);
    if (b <= a) continue;
    st[n] = p->t0_ref_ns + llround(a * 1e9);
    en[n] = p->t0_ref_ns + llround(b * 1e9);
    cls[n] = p->seg[k].activity;
    n++;
  }
  if (put_truth) {
    cm_session_put_truth_i64(s, "labels/start_ref_ns", st, (size_t)n);
    cm_session_put_truth_i64(s, "labels/end_ref_ns", en, (size_t)n);
    cm_session_put_truth_i64(s, "labels/class", cls, (size_t)n);
  } else {
    for (int i = 0; i < n; i++) {
      cm_label_row r = {st[i], en[i], ""};
      snprintf(r.activity, sizeof r.activity, "%s", sim_activity_names[cls[i]]);
      cm_session_append_label(s, &r);
    }
  }
}

static void common_truth(const sim_plan *p, cm_session *s, const sim_host_clock *h) {
  int64_t t0 = p->t0_ref_ns;
  cm_session_put_truth_i64(s, "t0_ref_ns", &t0, 1);
  cm_session_put_truth_attr(s, "seed", (double)(p->seed >> 11));
  cm_session_put_truth_str(s, "generator", "cmact simulate");
  cm_session_put_truth_str(s, "activity",
                           p->n_segments == 1 ? sim_activity_names[p->seg[0].activity] : "schedule");
  cm_session_put_truth_attr(s, "clock/ntp_error_s", h->ntp_error_s);
  cm_session_put_truth_attr(s, "clock/slew0_s", h->slew0_s);
  cm_session_put_truth_attr(s, "clock/slew_ppm", h->slew_ppm);
  cm_session_put_truth_attr(s, "clock/uncertainty_s", h->uncertainty_s);
  cm_session_put_truth_attr(s, "person/id", p->person.id);
  cm_session_put_truth_attr(s, "person/height_m", p->person.height_m);
  cm_session_put_truth_attr(s, "person/mass_kg", p->person.mass_kg);
  cm_session_put_truth_attr(s, "person/tempo", p->person.tempo);
  cm_session_put_truth_str(s, "location/name", p->location.name);
  cm_session_put_truth_attr(s, "location/has_stairs", p->location.has_stairs);
  cm_session_put_truth_attr(s, "location/rt60_s", p->location.rt60_s);
  label_truth_and_rows(p, s, 1);
}

static int put_chrony(const sim_plan *p, cm_session *s, const sim_host_clock *h, int idx, double t0,
                      double t1) {
  size_t cap = (size_t)((t1 - t0) / h->poll_s) + 4;
  cm_chrony_row *rows = cm_xcalloc(cap, sizeof *rows);
  size_t n = sim_chrony_rows(p, h, idx, t0, t1, rows, cap);
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) rc = cm_session_append_chrony(s, &rows[i]);
  free(rows);
  return rc;
}

static char *file_path(const sim_output *o, const sim_plan *p, const char *host) {
  size_t n = strlen(o->out_dir) + strlen(p->session_id) + strlen(host) + 8;
  char *path = cm_xmalloc(n);
  snprintf(path, n, "%s/%s_%s.h5", o->out_dir, p->session_id, host);
  return path;
}

static char *partial_path(const char *path) {
  char *part = cm_xmalloc(strlen(path) + sizeof ".partial");
  sprintf(part, "%s.partial", path);
  return part;
}

static cm_session *create(const sim_output *o, const sim_plan *p, const char *host, char **path) {
  char user[16];
  snprintf(user, sizeof user, "user%d", p->person.id + 1);
  *path = file_path(o, p, host);
  /* created at the session's simulated start, not now: the same seed gives the same bytes */
  char created[32];
  time_t t0 = (time_t)(p->t0_ref_ns / 1000000000LL);
  struct tm tm;
  gmtime_r(&t0, &tm);
  strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm);
  cm_session_info info = {.session_id = p->session_id, .user = user, .location = p->location.name, .host = host,
                          .created_utc = created};
  char *part = partial_path(*path);
  cm_session *s = cm_session_create(part, &info, 1);
  if (!s) unlink(part);
  free(part);
  /* flushes on simulated time only, so the file's layout never depends on the machine's speed */
  if (s) cm_session_set_manual_flush(s, 1);
  return s;
}

/* After cm_session_close: the whole file takes its name, or the partial one goes. */
static int finish(const char *path, int rc) {
  char *part = partial_path(path);
  if (rc == 0 && rename(part, path) < 0) rc = cm_set_error("%s: cannot rename from %s: %s", path, part, strerror(errno));
  if (rc < 0) unlink(part);
  free(part);
  return rc;
}

static int write_camera(const sim_plan *p, const sim_body *body, const sim_output *o) {
  char *path;
  cm_session *s = create(o, p, "camera", &path);
  if (!s) {
    free(path);
    return -1;
  }
  const sim_camera *cam = &p->camera;
  int rc = -1;
  sim_renderer *ren = NULL;
  video_sink sink = {0};
  sim_encoder *enc = NULL;
  sim_audio *aud = NULL;
  uint8_t *rgb = NULL;
  int16_t *pcm = NULL;
  int64_t *fr_host = NULL, *fr_ref = NULL;
  double *fr_t = NULL;
  /* capture schedule: frame k at cam_start + k/fps with a little timing jitter; some dropped */
  sim_rng r;
  sim_rng_seed(&r, p->seed, 501);
  long n_frames = (long)floor((p->cam_end_s - p->cam_start_s) * cam->fps);
  fr_t = cm_xmalloc(sizeof(double) * (size_t)(n_frames + 1));
  fr_host = cm_xmalloc(sizeof(int64_t) * (size_t)(n_frames + 1));
  fr_ref = cm_xmalloc(sizeof(int64_t) * (size_t)(n_frames + 1));
  long n_kept = 0, n_dropped = 0;
  double drop_t[64];
  for (long k = 0; k < n_frames; k++) {
    double t = p->cam_start_s + k / cam->fps + 0.0003 * sim_rng_normal(&r);
    int drop = sim_rng_uniform(&r) < p->frame_drop_prob && k > 0;
    if (drop) {
      if (n_dropped < 64) drop_t[n_dropped] = t;
      n_dropped++;
      continue;
    }
    fr_t[n_kept] = t;
    fr_host[n_kept] = sim_host_time_ns(p, &p->cam_host, t);
    fr_ref[n_kept] = p->t0_ref_ns + llround(t * 1e9);
    n_kept++;
  }
  long n_audio = (long)floor((p->cam_end_s - p->cam_start_s) * p->audio_rate * (1 + p->audio_ppm * 1e-6));
  cm_stream_desc vd = {.name = "video", .kind = CM_STREAM_VIDEO, .nominal_rate = cam->fps,
                       .units = "", .device = "simulated phone camera", .transport = "simulator",
                       .codec = "h264", .width = cam->width, .height = cam->height_px,
                       .time_base_num = 1, .time_base_den = 90000,
                       .start_time_source = "capture"};
  cm_stream_desc ad = {.name = "audio", .kind = CM_STREAM_AUDIO, .nominal_rate = p->audio_rate,
                       .units = "", .device = "simulated phone microphone",
                       .transport = "simulator", .sample_rate = p->audio_rate, .channels = 1,
                       .start_time_source = "capture"};
  int vs = cm_session_add_stream(s, &vd), as = cm_session_add_stream(s, &ad);
  if (vs < 0 || as < 0) goto out;
  common_truth(p, s, &p->cam_host);
  int64_t a0 = p->t0_ref_ns + llround(p->cam_start_s * 1e9);
  if (cm_session_put_truth_i64(s, "video/t_ref_ns", fr_ref, (size_t)n_kept) < 0 ||
      cm_session_put_truth_attr(s, "video/frames_dropped", (double)n_dropped) < 0 ||
      cm_session_put_truth_i64(s, "audio/t_ref_first_ns", &a0, 1) < 0 ||
      cm_session_put_truth_attr(s, "audio/ppm", p->audio_ppm) < 0 ||
      cm_session_put_truth_attr(s, "camera/azimuth_rad", cam->azimuth) < 0 ||
      cm_session_put_truth_attr(s, "camera/distance_m", cam->distance) < 0)
    goto out;
  if (cm_session_start(s) < 0) goto out;
  if (put_chrony(p, s, &p->cam_host, 0, p->cam_start_s, p->cam_end_s) < 0) goto out;
  label_truth_and_rows(p, s, 0);
  for (long i = 0; i < n_dropped && i < 64; i++)
    cm_session_event(s, sim_host_time_ns(p, &p->cam_host, drop_t[i]), "video", "dropped_frames", 1,
                     "camera dropped a frame");
  ren = sim_renderer_new(p);
  enc = sim_encoder_new(cam->width, cam->height_px, cam->fps, (int)lround(cam->fps));
  if (!enc) goto out;
  aud = sim_audio_new(p, body, p->cam_start_s);
  rgb = cm_xmalloc((size_t)cam->width * cam->height_px * 3);
  pcm = cm_xmalloc(sizeof(int16_t) * AUDIO_BLOCK);
  sink = (video_sink){s, vs, fr_host, 0, n_kept, NULL};
  if (o->export_dir && p->n_segments == 1) {
    char mp4[4096];
    snprintf(mp4, sizeof mp4, "%s/%s/%s.mp4", o->export_dir, sim_raw_folders[p->seg[0].activity],
             p->session_id);
    sink.mp4 = sim_mp4_open(mp4, cam->width, cam->height_px, cam->fps, p->audio_rate, fr_host[0]);
    if (!sink.mp4) goto out;
  }
  long a_done = 0;
  double a_dt = 1.0 / (p->audio_rate * (1 + p->audio_ppm * 1e-6));
  for (long k = 0; k <= n_kept; k++) {
    /* audio up to this frame's time, in blocks, as a recorder interleaves them */
    double upto = k < n_kept ? fr_t[k] : p->cam_end_s;
    while (a_done < n_audio && p->cam_start_s + (a_done + AUDIO_BLOCK) * a_dt <= upto + 1e-9) {
      int nb = (int)((n_audio - a_done) < AUDIO_BLOCK ? (n_audio - a_done) : AUDIO_BLOCK);
      sim_audio_render(aud, pcm, nb);
      if (sink.mp4 && sim_mp4_audio(sink.mp4, pcm, nb) < 0) goto out;
      if (cm_session_append_audio(s, as, pcm, nb,
                                  sim_host_time_ns(p, &p->cam_host, p->cam_start_s + a_done * a_dt)) < 0)
        goto out;
      a_done += nb;
    }
    if (k == n_kept) break;
    if (k > 0 && k % (long)lround(cam->fps) == 0 && cm_session_flush(s) < 0) goto out;
    sim_render_frame(ren, body, fr_t[k], k, rgb);
    int64_t pts = llround((double)(fr_host[k] - fr_host[0]) * 90000.0 / 1e9);
    if (sim_encoder_encode(enc, rgb, pts, on_packet, &sink) < 0) goto out;
  }
  while (a_done < n_audio) {
    int nb = (int)((n_audio - a_done) < AUDIO_BLOCK ? (n_audio - a_done) : AUDIO_BLOCK);
    sim_audio_render(aud, pcm, nb);
    if (sink.mp4 && sim_mp4_audio(sink.mp4, pcm, nb) < 0) goto out;
    if (cm_session_append_audio(s, as, pcm, nb,
                                sim_host_time_ns(p, &p->cam_host, p->cam_start_s + a_done * a_dt)) < 0)
      goto out;
    a_done += nb;
  }
  if (sim_encoder_encode(enc, NULL, 0, on_packet, &sink) < 0) goto out;
  if (sink.mp4) {
    int64_t end = sim_host_time_ns(p, &p->cam_host, p->cam_end_s);
    sim_mp4 *m = sink.mp4;
    sink.mp4 = NULL;
    if (sim_mp4_close(m, end) < 0) goto out;
  }
  rc = 0;
out:
  if (sink.mp4) sim_mp4_close(sink.mp4, 0);
  if (rc < 0) cm_prefix_error("%s", path);
  if (cm_session_close(s) < 0 && rc == 0) {
    cm_prefix_error("%s", path);
    rc = -1;
  }
  sim_renderer_free(ren);
  sim_encoder_free(enc);
  sim_audio_free(aud);
  free(rgb);
  free(pcm);
  free(fr_t);
  free(fr_host);
  free(fr_ref);
  rc = finish(path, rc);
  free(path);
  return rc;
}

static int write_wrist(const sim_plan *p, const sim_body *body, const sim_output *o) {
  char *path;
  cm_session *s = create(o, p, "wrist", &path);
  if (!s) {
    free(path);
    return -1;
  }
  static const char *names[2] = {"imu_left", "imu_right"};
  sim_link_result link[2];
  memset(link, 0, sizeof link);
  float *data[2] = {NULL, NULL};
  int rc = -1, ids[2];
  for (int side = 0; side < 2; side++) {
    const sim_sensor *sn = &p->sensor[side];
    sim_link_run(p, sn, &p->imu_host, p->imu_rate, p->imu_start_s, p->imu_end_s,
                 sim_hash64(p->seed, 600 + (uint64_t)side), &link[side]);
    data[side] = cm_xmalloc(sizeof(float) * 6 * (link[side].n + 1));
    sim_rng nr;
    sim_rng_seed(&nr, p->seed, 700 + (uint64_t)side);
    for (size_t i = 0; i < link[side].n; i++) {
      double ideal[2][6];
      sim_imu_ideal(body, link[side].t_sample[i], 1.0 / p->imu_rate, ideal);
      sim_imu_apply_sensor(sn, ideal[side], &nr, data[side] + 6 * i);
    }
    cm_stream_desc d = {.name = names[side], .kind = CM_STREAM_IMU, .nominal_rate = p->imu_rate,
                        .units = "m/s^2,rad/s", .device = "simulated wrist sensor",
                        .transport = "ble"};
    ids[side] = cm_session_add_stream(s, &d);
    if (ids[side] < 0) goto out;
  }
  common_truth(p, s, &p->imu_host);
  for (int side = 0; side < 2; side++) {
    const sim_sensor *sn = &p->sensor[side];
    sim_link_result *l = &link[side];
    char nm[64];
    int64_t *tref = cm_xmalloc(sizeof(int64_t) * (l->n + 1));
    for (size_t i = 0; i < l->n; i++) tref[i] = p->t0_ref_ns + llround(l->t_sample[i] * 1e9);
#define PUTA(key, val) (snprintf(nm, sizeof nm, "%s/" key, names[side]), cm_session_put_truth_attr(s, nm, (val)))
    int bad = (snprintf(nm, sizeof nm, "%s/t_ref_ns", names[side]),
               cm_session_put_truth_i64(s, nm, tref, l->n)) < 0;
    free(tref);
    bad |= (snprintf(nm, sizeof nm, "%s/latency_s", names[side]),
            cm_session_put_truth_f64(s, nm, l->latency_s, l->n)) < 0;
    bad |= PUTA("offset_s", sn->offset_s) < 0;
    bad |= PUTA("drift_ppm", sn->drift_ppm) < 0;
    bad |= PUTA("samples_lost", (double)l->n_lost) < 0;
    bad |= (snprintf(nm, sizeof nm, "%s/acc_bias", names[side]),
            cm_session_put_truth_f64(s, nm, sn->acc_bias, 3)) < 0;
    bad |= (snprintf(nm, sizeof nm, "%s/gyro_bias", names[side]),
            cm_session_put_truth_f64(s, nm, sn->gyro_bias, 3)) < 0;
    bad |= (snprintf(nm, sizeof nm, "%s/acc_scale", names[side]),
            cm_session_put_truth_f64(s, nm, sn->acc_scale, 3)) < 0;
#undef PUTA
    if (bad) goto out;
  }
  if (cm_session_start(s) < 0) goto out;
  if (put_chrony(p, s, &p->imu_host, 1, p->imu_start_s, p->imu_end_s) < 0) goto out;
  label_truth_and_rows(p, s, 0);
  for (int side = 0; side < 2; side++) {
    sim_link_result *l = &link[side];
    for (size_t g = 0; g < l->n_gaps; g++)
      cm_session_event(s, sim_host_time_ns(p, &p->imu_host, l->gap_t[g]), names[side], "gap",
                       l->gap_len[g] / p->imu_rate, "%.0f samples lost in the BLE link",
                       l->gap_len[g]);
    if (cm_session_append_imu(s, ids[side], data[side], l->t_device_ns, l->t_host_ns, l->n) < 0)
      goto out;
  }
  if (o->export_dir && sim_export_imu_part(o->export_dir, p->session_id, data[1], link[1].t_host_ns,
                                           link[1].n, data[0], link[0].t_host_ns, link[0].n) < 0)
    goto out;
  rc = 0;
out:
  if (rc < 0) cm_prefix_error("%s", path);
  if (cm_session_close(s) < 0 && rc == 0) {
    cm_prefix_error("%s", path);
    rc = -1;
  }
  for (int side = 0; side < 2; side++) {
    sim_link_free(&link[side]);
    free(data[side]);
  }
  rc = finish(path, rc);
  free(path);
  return rc;
}

int sim_session_write(const sim_plan *plan, const sim_output *o) {
  sim_plan p = *plan;
  sim_body *body = sim_body_new(&p);
  int rc = write_camera(&p, body, o);
  if (rc == 0) rc = write_wrist(&p, body, o);
  sim_body_free(body);
  return rc;
}
