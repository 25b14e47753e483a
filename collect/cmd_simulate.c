/*
 * `cmact simulate`: make a corpus of simulated sessions (sim.h) in a folder.
 *
 * Sessions are independent (each is drawn from hash(seed, index)), so a small pool of worker
 * threads takes them one at a time from a shared counter; each worker holds one session's state
 * (a frame, an audio block, the body's path), so memory is bounded by the thread count, not the
 * corpus. Files are byte-identical whatever the thread count. A sessions.csv manifest lists
 * every session with its files, user, location, activity and duration.
 *
 * With --live, one session is played in real time over the network instead (sim_live.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libavutil/log.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "sim.h"
#include "sim_live.h"

typedef struct {
  const sim_preset *ps;
  uint64_t seed;
  sim_output out;
  int n, every;
  atomic_int next;
  atomic_int failed;
  pthread_mutex_t lock;
  char error[1024];
  cm_progress progress;
  int done;
} job;

static void *worker(void *arg) {
  job *j = arg;
  for (;;) {
    if (atomic_load(&j->failed)) break;
    int k = atomic_fetch_add(&j->next, 1);
    if (k >= j->n) break;
    int i = k * j->every; /* --every: a sample spread over the whole corpus */
    sim_plan p;
    sim_plan_make(j->ps, j->seed, i, &p);
    int rc = sim_session_write(&p, &j->out);
    pthread_mutex_lock(&j->lock);
    if (rc < 0 && !atomic_exchange(&j->failed, 1))
      snprintf(j->error, sizeof j->error, "%s", cm_error());
    j->done++;
    cm_progress_step(&j->progress, j->done);
    pthread_mutex_unlock(&j->lock);
  }
  return NULL;
}

static int mkdir_p(const char *dir) {
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", dir);
  for (char *c = buf + 1; *c; c++) {
    if (*c != '/') continue;
    *c = 0;
    if (mkdir(buf, 0777) < 0 && errno != EEXIST) return cm_set_error("%s: %s", buf, strerror(errno));
    *c = '/';
  }
  if (mkdir(buf, 0777) < 0 && errno != EEXIST) return cm_set_error("%s: %s", buf, strerror(errno));
  return 0;
}

static int write_manifest(const char *dir, const sim_preset *ps, uint64_t seed, int n, int every,
                          double *minutes) {
  size_t cap = 256 + (size_t)n * 160, len = 0;
  char *buf = cm_xmalloc(cap);
  len += snprintf(buf + len, cap - len,
                  "session_id,camera_file,wrist_file,user,location,has_stairs,activity,duration_s\n");
  *minutes = 0;
  for (int k = 0; k < n; k++) {
    sim_plan p;
    sim_plan_make(ps, seed, k * every, &p);
    double d = p.label_end_s - p.label_start_s;
    *minutes += d / 60;
    len += snprintf(buf + len, cap - len, "%s,%s_camera.h5,%s_wrist.h5,user%d,%s,%d,%s,%.3f\n",
                    p.session_id, p.session_id, p.session_id, p.person.id + 1, p.location.name,
                    p.location.has_stairs,
                    p.n_segments == 1 ? sim_activity_names[p.seg[0].activity] : "schedule", d);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/sessions.csv", dir);
  int rc = cm_write_file_atomic(path, buf, len);
  free(buf);
  return rc;
}

int cmd_simulate(int argc, char **argv) {
  const char *preset = "quick", *out = NULL, *export_dir = NULL;
  long seed = 1, threads = 2, sessions = -1, every = 1, schedules = -1, width = 0, height = 0, audio_rate = 0;
  double imu_rate = 0, fps = 0, spread = -1;
  int live = 0;
  long session = 0, imu_frame = 0;
  double live_duration = 0, loss = 0, dup = 0, reorder = 0;
  const char *imu_left = NULL, *imu_right = NULL, *video_to = NULL, *audio_to = NULL, *wire_log = NULL;
  const cm_opt opts[] = {
      CM_OPT_STRING("preset", 0, &preset),
      CM_OPT_STRING("out", 0, &out),
      CM_OPT_STRING("export-raw", 0, &export_dir),
      CM_OPT_LONG("seed", 0, &seed),
      CM_OPT_LONG("threads", 0, &threads),
      CM_OPT_LONG("sessions", 0, &sessions),
      CM_OPT_LONG("every", 0, &every),
      CM_OPT_LONG("schedules", 0, &schedules),
      CM_OPT_LONG("width", 0, &width),
      CM_OPT_LONG("height", 0, &height),
      CM_OPT_DOUBLE("fps", 0, &fps),
      CM_OPT_LONG("audio-rate", 0, &audio_rate),
      CM_OPT_DOUBLE("imu-rate", 0, &imu_rate),
      CM_OPT_DOUBLE("ntp-spread", 0, &spread),
      CM_OPT_FLAG("live", 0, &live),
      CM_OPT_LONG("session", 0, &session),
      CM_OPT_DOUBLE("duration", 0, &live_duration),
      CM_OPT_STRING("imu-left", 0, &imu_left),
      CM_OPT_STRING("imu-right", 0, &imu_right),
      CM_OPT_STRING("video-to", 0, &video_to),
      CM_OPT_STRING("audio-to", 0, &audio_to),
      CM_OPT_LONG("imu-frame", 0, &imu_frame),
      CM_OPT_DOUBLE("loss", 0, &loss),
      CM_OPT_DOUBLE("dup", 0, &dup),
      CM_OPT_DOUBLE("reorder", 0, &reorder),
      CM_OPT_STRING("wire-log", 0, &wire_log),
      CM_OPT_END,
  };
  /* the ranges depend on each other and on the preset: checked below, after parsing */
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("simulate", 1, "%s", cm_error());
  if (!live && (imu_left || imu_right || video_to || audio_to || wire_log || session || live_duration > 0))
    return cmact_help_exit("simulate", 1, "--session, --duration, --imu-*, --video-to, --audio-to "
                                          "and --wire-log need --live");
  if (!out && !live) return cmact_help_exit("simulate", 1, "--out DIR is required");
  if (live && (out || export_dir))
    return cmact_help_exit("simulate", 1, "--live sends over the network: no --out/--export-raw");
  sim_preset ps;
  if (sim_preset_get(preset, &ps) < 0) return cmact_help_exit("simulate", 1, "--preset: %s", cm_error());
  if (threads < 1 || threads > 256) return cmact_help_exit("simulate", 1, "--threads must be 1..256");
  if (schedules >= 0) {
    ps.n_sessions += (int)schedules - ps.schedule_sessions;
    ps.schedule_sessions = (int)schedules;
  }
  if (width || height) {
    if (width < 16 || height < 16 || width > 4096 || height > 4096 || width % 2 || height % 2)
      return cmact_help_exit("simulate", 1, "--width/--height must be even, 16..4096");
    ps.width = (int)width;
    ps.height = (int)height;
  }
  if (fps != 0) {
    if (fps < 1 || fps > 120) return cmact_help_exit("simulate", 1, "--fps must be 1..120");
    ps.fps = fps;
  }
  if (audio_rate) {
    if (audio_rate != 22050 && audio_rate != 44100 && audio_rate != 48000 && audio_rate != 16000)
      return cmact_help_exit("simulate", 1, "--audio-rate must be 16000, 22050, 44100 or 48000");
    ps.audio_rate = (int)audio_rate;
  }
  if (imu_rate != 0) {
    if (imu_rate < 5 || imu_rate > 1000) return cmact_help_exit("simulate", 1, "--imu-rate must be 5..1000");
    ps.imu_rate = imu_rate;
  }
  if (spread >= 0) {
    if (spread > 10) return cmact_help_exit("simulate", 1, "--ntp-spread must be 0..10 s");
    ps.ntp_spread_s = spread > 1e-4 ? spread : 1e-4;
  }
  if (live) {
    if (live_duration < 0) return cmact_help_exit("simulate", 1, "--duration must be >= 0");
    if (imu_frame < 0 || imu_frame > 200) return cmact_help_exit("simulate", 1, "--imu-frame must be 1..200");
    if (loss < 0 || loss > 1 || dup < 0 || dup > 1 || reorder < 0 || reorder > 1)
      return cmact_help_exit("simulate", 1, "--loss, --dup and --reorder are probabilities, 0..1");
    if (session < 0 || session >= ps.n_sessions)
      return cmact_help_exit("simulate", 1, "--session %ld: preset %s has sessions 0..%d", session,
                             preset, ps.n_sessions - 1);
    sim_live_opts lo = {.seed = (uint64_t)seed, .session = (int)session, .duration_s = live_duration,
                        .imu_to = {imu_left, imu_right}, .video_to = video_to, .audio_to = audio_to,
                        .imu_frame = (int)imu_frame, .loss = loss, .duplicate = dup, .reorder = reorder,
                        .wire_log = wire_log};
    const char *dests[4] = {video_to, audio_to, imu_left, imu_right};
    const char *what[4] = {"--video-to", "--audio-to", "--imu-left", "--imu-right"};
    for (int k = 0; k < 4; k++) {
      const char *d = dests[k], *colon = d ? strrchr(d, ':') : NULL;
      if (!d) continue;
      int net = k >= 2 ? !strncmp(d, "udp:", 4) || !strncmp(d, "tcp:", 4) : 1;
      if (!net || !colon || colon == d + (k >= 2 ? 3 : 0) || atoi(colon + 1) <= 0 || atoi(colon + 1) > 65535)
        return cmact_help_exit("simulate", 1, "%s '%s': expected %sHOST:PORT", what[k], d,
                               k >= 2 ? "udp: or tcp:" : "");
    }
    if (!imu_left && !imu_right && !video_to && !audio_to)
      return cmact_help_exit("simulate", 1, "--live: give --imu-left, --imu-right, --video-to or --audio-to");
    if (sim_live_run(&ps, &lo) < 0) return cm_fail(CM_EXIT_FAIL, "simulate", "--live: %s", cm_error());
    return CM_EXIT_OK;
  }
  if (every < 1 || every > 1000) return cmact_help_exit("simulate", 1, "--every must be 1..1000");
  if (every > 1 && export_dir) return cmact_help_exit("simulate", 1, "--every cannot be used with --export-raw");
  int n = (ps.n_sessions + (int)every - 1) / (int)every;
  if (sessions >= 0) {
    if (sessions == 0) return cmact_help_exit("simulate", 1, "--sessions must be at least 1");
    if (sessions < n) n = (int)sessions;
  }
  if (mkdir_p(out) < 0) return cm_fail(CM_EXIT_FAIL, "simulate", "--out: %s", cm_error());
  if (export_dir && (mkdir_p(export_dir) < 0 || sim_export_prepare(export_dir) < 0))
    return cm_fail(CM_EXIT_FAIL, "simulate", "--export-raw: %s", cm_error());
  av_log_set_level(AV_LOG_ERROR);
  int64_t t_start = cm_monotonic_ns();
  job j = {.ps = &ps, .seed = (uint64_t)seed, .out = {out, export_dir}, .n = n, .every = (int)every};
  atomic_init(&j.next, 0);
  atomic_init(&j.failed, 0);
  pthread_mutex_init(&j.lock, NULL);
  cm_progress_begin(&j.progress, "simulate", n);
  int nt = (int)(threads < n ? threads : n);
  pthread_t *tid = cm_xcalloc((size_t)nt, sizeof *tid);
  for (int i = 0; i < nt; i++) pthread_create(&tid[i], NULL, worker, &j);
  for (int i = 0; i < nt; i++) pthread_join(tid[i], NULL);
  free(tid);
  cm_progress_end(&j.progress);
  pthread_mutex_destroy(&j.lock);
  if (atomic_load(&j.failed)) return cm_fail(CM_EXIT_FAIL, "simulate", "%s", j.error);
  double minutes;
  if (write_manifest(out, &ps, (uint64_t)seed, n, (int)every, &minutes) < 0) return cm_fail_error("simulate");
  if (export_dir && sim_export_finish(export_dir, &ps, (uint64_t)seed, n) < 0)
    return cm_fail(CM_EXIT_FAIL, "simulate", "--export-raw: %s", cm_error());
  double wall = (cm_monotonic_ns() - t_start) / 1e9;
  printf("%-10s %8s %8s %14s %10s %10s %10s\n", "preset", "sessions", "files", "min/modality",
         "wall_s", "cpu_s", "peak_MiB");
  printf("%-10s %8d %8d %14.1f %10.1f %10.1f %10.1f\n", preset, n, 2 * n, minutes, wall,
         cm_cpu_seconds(), cm_peak_rss_kib() / 1024.0);
  return CM_EXIT_OK;
}
