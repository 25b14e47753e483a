/*
 * cmact import: existing recordings -> session files.
 *
 *   cmact import cmactivity-raw DIR --out SESSIONS/ [options]
 *   cmact import video FILE... --out OUT [--imu STREAM=ACC,GYRO]... [options]
 *
 * Both forms end in imp_import_video() once per video. A bad input (an IMU log that does not
 * parse, a truncated MP4, audio that does not decode, no IMU rows in a video's span) is
 * reported on stderr with its reason and skipped; the import goes on, a progress bar shows
 * how far it is, and a summary at the end says what was imported and what was not.
 * Exit status: 0 when every input went in, 1 when anything was skipped (so that a script
 * notices a partial import; the sessions that did go in are complete and kept), 2 on a usage
 * error. `--summary FILE.csv` writes one row per input with its outcome.
 */
#include <errno.h>
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "import.h"

#define CMD "import"

typedef struct {
  const char *out;
  const char *manifest;
  const char *summary;
  double pad_s;
  int overwrite;
  imp_start_options start;
  /* video form */
  const char *imu_spec[8];
  int n_imu;
  imp_columns acc_cols, gyro_cols;
  int64_t ns_per_unit;
  const char *label, *user, *location, *session_id;
} import_opts;

typedef struct {
  int imported, skipped, bad_logs;
  FILE *summary;
} tally;

static int parse_tz(const char *s, int64_t *out) {
  int sign = 1;
  if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
  int h = 0, m = 0;
  if (sscanf(s, "%d:%d", &h, &m) < 1 || h > 14 || m > 59 || m < 0 || h < 0)
    return cm_set_error("--creation-tz '%s' is not +HH:MM", s);
  *out = sign * (h * 3600 + m * 60);
  return 0;
}

static int time_unit(const char *s, int64_t *out) {
  if (strcmp(s, "s") == 0) *out = 1000000000LL;
  else if (strcmp(s, "ms") == 0) *out = 1000000LL;
  else if (strcmp(s, "us") == 0) *out = 1000LL;
  else if (strcmp(s, "ns") == 0) *out = 1LL;
  else return cm_set_error("--time-unit '%s' is not s, ms, us or ns", s);
  return 0;
}

/* The option callbacks (cm_opts.h): each stores its value in the import_opts it is given. */
static int opt_start_from(const char *v, void *dest) {
  import_opts *o = dest;
  if (strcmp(v, "auto") == 0) o->start.force = IMP_START_AUTO;
  else if (strcmp(v, "creation_time") == 0) o->start.force = IMP_START_CREATION_TIME;
  else if (strcmp(v, "sidecar") == 0) o->start.force = IMP_START_SIDECAR;
  else if (strcmp(v, "mtime") == 0) o->start.force = IMP_START_MTIME;
  else return cm_set_error("--start-from '%s' is not auto, creation_time, sidecar or mtime", v);
  return 0;
}

static int opt_creation_tz(const char *v, void *dest) {
  import_opts *o = dest;
  if (parse_tz(v, &o->start.creation_tz_offset_s) < 0) return -1;
  o->start.creation_tz_set = 1;
  return 0;
}

static int opt_creation_marks(const char *v, void *dest) {
  import_opts *o = dest;
  if (strcmp(v, "start") == 0) o->start.creation_marks_end = 0;
  else if (strcmp(v, "end") == 0) o->start.creation_marks_end = 1;
  else return cm_set_error("--creation-marks '%s' is not start or end", v);
  return 0;
}

static int opt_imu(const char *v, void *dest) {
  import_opts *o = dest;
  if (o->n_imu == 8) return cm_set_error("at most 8 --imu streams");
  const char *eq = strchr(v, '='), *comma = eq ? strchr(eq, ',') : NULL;
  if (!eq || eq == v || !comma || comma == eq + 1 || !comma[1])
    return cm_set_error("--imu '%s' is not STREAM=ACC_FILE,GYRO_FILE", v);
  o->imu_spec[o->n_imu++] = v;
  return 0;
}

/* --columns sets both sensors' columns, --acc-columns and --gyro-columns one each. */
static int opt_columns(const char *v, void *dest) {
  import_opts *o = dest;
  imp_columns c;
  if (imp_columns_parse(&c, v) < 0) return -1;
  o->acc_cols = o->gyro_cols = c;
  return 0;
}

static int opt_acc_columns(const char *v, void *dest) {
  return imp_columns_parse(&((import_opts *)dest)->acc_cols, v);
}

static int opt_gyro_columns(const char *v, void *dest) {
  return imp_columns_parse(&((import_opts *)dest)->gyro_cols, v);
}

static int opt_time_unit(const char *v, void *dest) { return time_unit(v, &((import_opts *)dest)->ns_per_unit); }

static int opt_label(const char *v, void *dest) {
  import_opts *o = dest;
  o->label = imp_activity_from_folder(v);
  if (!o->label) return cm_set_error("--label '%s' is not an activity", v);
  return 0;
}

/* Parses the options after the form (argv[1]); the positional arguments end up in
 * argv[2..*npos+1]. Returns 0 or the exit code. */
static int parse_opts(int argc, char **argv, import_opts *o, int *npos) {
  memset(o, 0, sizeof *o);
  o->ns_per_unit = 1000000LL;
  o->start.mtime_uncertainty_s = 2.0;
  imp_columns_cmactivity(&o->acc_cols);
  imp_columns_cmactivity(&o->gyro_cols);
  const cm_opt opts[] = {
      CM_OPT_STRING("out", 0, &o->out),
      CM_OPT_STRING("manifest", 0, &o->manifest),
      CM_OPT_STRING("summary", 0, &o->summary),
      CM_OPT_FLAG("overwrite", 0, &o->overwrite),
      CM_OPT_DOUBLE_IN("pad", 0, &o->pad_s, 0, 3600),
      CM_OPT_CALLBACK("start-from", 0, opt_start_from, o),
      CM_OPT_STRING("sidecar", 0, &o->start.sidecar),
      CM_OPT_CALLBACK("creation-tz", 0, opt_creation_tz, o),
      CM_OPT_CALLBACK("creation-marks", 0, opt_creation_marks, o),
      CM_OPT_DOUBLE_RANGE("mtime-uncertainty", 0, &o->start.mtime_uncertainty_s, CM_OPT_MIN | CM_OPT_MIN_OPEN, 0, 0),
      CM_OPT_CALLBACK("imu", 0, opt_imu, o),
      CM_OPT_CALLBACK("columns", 0, opt_columns, o),
      CM_OPT_CALLBACK("acc-columns", 0, opt_acc_columns, o),
      CM_OPT_CALLBACK("gyro-columns", 0, opt_gyro_columns, o),
      CM_OPT_CALLBACK("time-unit", 0, opt_time_unit, o),
      CM_OPT_CALLBACK("label", 0, opt_label, o),
      CM_OPT_STRING("user", 0, &o->user),
      CM_OPT_STRING("location", 0, &o->location),
      CM_OPT_STRING("session-id", 0, &o->session_id),
      CM_OPT_END,
  };
  *npos = cm_opts_parse(opts, argc - 1, argv + 1, CM_OPTS_ANY);
  if (*npos < 0) return cmact_help_exit(CMD, 1, "%s", cm_error());
  if (!o->out) return cmact_help_exit(CMD, 1, "--out is required");
  return 0;
}

static void csv_field(FILE *f, const char *s) {
  fputc('"', f);
  for (; s && *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void record(tally *t, const char *input, const char *out, const imp_video_result *r, const char *reason) {
  if (reason) {
    t->skipped++;
    fprintf(stderr, "%scmact import: skipped %s: %s\n", isatty(2) ? "\r" : "", input, reason);
  } else {
    t->imported++;
  }
  if (t->summary) {
    csv_field(t->summary, input);
    fprintf(t->summary, ",%s,", reason ? "skipped" : "imported");
    csv_field(t->summary, reason ? "" : out);
    fprintf(t->summary, ",%s,%.3f,", reason || !r ? "" : r->start.source, reason || !r ? 0.0 : r->start.uncertainty_s);
    csv_field(t->summary, reason ? reason : "");
    fputc('\n', t->summary);
  }
}

static int is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int ensure_dir(const char *p) {
  if (is_dir(p)) return 0;
  if (mkdir(p, 0777) == 0) return 0;
  return cm_set_error("--out %s: cannot create folder: %s", p, strerror(errno));
}

static void session_id_from_path(const char *path, char *out, size_t n) {
  const char *b = strrchr(path, '/');
  snprintf(out, n, "%s", b ? b + 1 : path);
  char *dot = strrchr(out, '.');
  if (dot && dot != out) *dot = 0;
}

/* Loads every log of one raw folder into one table; bad files are reported and counted. */
static int load_folder(const char *dir, const char *sub, imp_table *t, tally *ty) {
  char folder[4096];
  snprintf(folder, sizeof folder, "%s/%s", dir, sub);
  char **files;
  size_t n;
  if (imp_list_logs(folder, &files, &n) < 0) return -1;
  imp_columns c;
  imp_columns_cmactivity(&c);
  for (size_t i = 0; i < n; i++) {
    if (imp_table_load(t, files[i], &c, 1000000LL) < 0) {
      fprintf(stderr, "cmact import: skipped IMU log %s\n", cm_error());
      ty->bad_logs++;
      if (ty->summary) {
        csv_field(ty->summary, files[i]);
        fprintf(ty->summary, ",skipped,\"\",,0,");
        csv_field(ty->summary, cm_error());
        fputc('\n', ty->summary);
      }
    }
    free(files[i]);
  }
  free(files);
  imp_table_sort(t);
  return 0;
}

static void print_summary(const tally *t, int total, double secs) {
  printf("imported %d of %d videos in %.1f s (%.2f sessions/s)", t->imported, total, secs,
         secs > 0 ? t->imported / secs : 0.0);
  if (t->skipped) printf("; %d skipped", t->skipped);
  if (t->bad_logs) printf("; %d IMU log(s) unreadable", t->bad_logs);
  printf("\n");
}

static int run_raw(const import_opts *o, const char *dir, tally *ty) {
  if (!is_dir(dir)) return cm_fail(CM_EXIT_USAGE, CMD, "%s: not a folder", dir);
  if (ensure_dir(o->out) < 0) return cm_fail_error(CMD);
  int64_t t_begin = cm_monotonic_ns();
  static const char *subs[4] = {"raw3", "raw4", "raw11", "raw12"};
  imp_table tab[4] = {{0}};
  for (int k = 0; k < 4; k++)
    if (load_folder(dir, subs[k], &tab[k], ty) < 0) {
      for (int j = 0; j < 4; j++) imp_table_free(&tab[j]);
      return cm_fail_error(CMD);
    }
  imp_manifest man = {0};
  char mpath[4096];
  const char *mp = o->manifest;
  if (!mp) {
    snprintf(mpath, sizeof mpath, "%s/manifest.csv", dir);
    if (access(mpath, F_OK) == 0) mp = mpath;
  }
  if (mp && imp_manifest_load(&man, mp) < 0) {
    for (int j = 0; j < 4; j++) imp_table_free(&tab[j]);
    return cm_fail_error(CMD);
  }
  imp_video_entry *v;
  size_t nv;
  if (imp_find_videos(dir, &v, &nv) < 0) {
    imp_manifest_free(&man);
    for (int j = 0; j < 4; j++) imp_table_free(&tab[j]);
    return cm_fail_error(CMD);
  }
  imp_imu_source imu[2] = {{"imu_right", &tab[0], &tab[1]}, {"imu_left", &tab[2], &tab[3]}};
  cm_progress pr;
  cm_progress_begin(&pr, "import", (int64_t)nv);
  int no_manifest = 0;
  for (size_t i = 0; i < nv; i++) {
    char sid[256], out[4096];
    long row = imp_manifest_find(&man, v[i].rel);
    if (row >= 0 && man.session_id[row])
      snprintf(sid, sizeof sid, "%s", man.session_id[row]);
    else
      session_id_from_path(v[i].path, sid, sizeof sid);
    if (row < 0) no_manifest++;
    snprintf(out, sizeof out, "%s/%s.h5", o->out, sid);
    imp_video_job job = {.video = v[i].path, .out = out, .session_id = sid,
                         .user = row >= 0 ? man.user[row] : "", .location = row >= 0 ? man.location[row] : "",
                         .activity = v[i].activity, .imu = imu, .n_imu = 2, .pad_s = o->pad_s,
                         .overwrite = o->overwrite, .start = o->start};
    imp_video_result r;
    if (!v[i].activity)
      record(ty, v[i].path, out, NULL, "not inside an activity folder (downstair upstair run jump walk handwashing exercise)");
    else if (imp_import_video(&job, &r) < 0)
      record(ty, v[i].path, out, NULL, cm_error());
    else
      record(ty, v[i].path, out, &r, NULL);
    cm_progress_step(&pr, (int64_t)i + 1);
  }
  cm_progress_end(&pr);
  if (mp && no_manifest)
    fprintf(stderr, "cmact import: %d video(s) have no manifest row (user and location left empty)\n", no_manifest);
  print_summary(ty, (int)nv, (cm_monotonic_ns() - t_begin) * 1e-9);
  imp_free_videos(v, nv);
  imp_manifest_free(&man);
  for (int j = 0; j < 4; j++) imp_table_free(&tab[j]);
  return ty->skipped || ty->bad_logs ? CM_EXIT_FAIL : CM_EXIT_OK;
}

static int run_video(const import_opts *o, char **files, int nfiles, tally *ty) {
  if (nfiles == 0) return cmact_help_exit(CMD, 1, "no video file given");
  size_t olen = strlen(o->out);
  int single = olen > 3 && strcmp(o->out + olen - 3, ".h5") == 0;
  if (single && nfiles > 1) return cmact_help_exit(CMD, 1, "--out %s is one file but %d videos were given", o->out, nfiles);
  if (single && o->session_id && nfiles > 1) return cmact_help_exit(CMD, 1, "--session-id needs a single video");
  if (!single && ensure_dir(o->out) < 0) return cm_fail_error(CMD);
  int64_t t_begin = cm_monotonic_ns();
  imp_table tabs[16] = {{0}};
  imp_imu_source imu[8];
  char names[8][64];
  int rc = 0;
  for (int k = 0; k < o->n_imu && rc == 0; k++) {
    const char *spec = o->imu_spec[k];
    const char *eq = strchr(spec, '='), *comma = strchr(eq, ',');
    snprintf(names[k], sizeof names[k], "%.*s", (int)(eq - spec), spec);
    char acc[4096], gyro[4096];
    snprintf(acc, sizeof acc, "%.*s", (int)(comma - eq - 1), eq + 1);
    snprintf(gyro, sizeof gyro, "%s", comma + 1);
    if (imp_table_load(&tabs[2 * k], acc, &o->acc_cols, o->ns_per_unit) < 0 ||
        imp_table_load(&tabs[2 * k + 1], gyro, &o->gyro_cols, o->ns_per_unit) < 0) {
      rc = -1;
      break;
    }
    imp_table_sort(&tabs[2 * k]);
    imp_table_sort(&tabs[2 * k + 1]);
    imu[k] = (imp_imu_source){names[k], &tabs[2 * k], &tabs[2 * k + 1]};
  }
  if (rc < 0) {
    /* In this form the logs belong to the videos given: without them nothing can be imported. */
    for (int k = 0; k < 16; k++) imp_table_free(&tabs[k]);
    return cm_fail_error(CMD);
  }
  cm_progress pr;
  cm_progress_begin(&pr, "import", nfiles);
  for (int i = 0; i < nfiles; i++) {
    char sid[256], out[4096];
    if (o->session_id)
      snprintf(sid, sizeof sid, "%s", o->session_id);
    else
      session_id_from_path(files[i], sid, sizeof sid);
    if (single)
      snprintf(out, sizeof out, "%s", o->out);
    else
      snprintf(out, sizeof out, "%s/%s.h5", o->out, sid);
    imp_video_job job = {.video = files[i], .out = out, .session_id = sid, .user = o->user,
                         .location = o->location, .activity = o->label, .imu = imu, .n_imu = o->n_imu,
                         .pad_s = o->pad_s, .overwrite = o->overwrite, .start = o->start};
    imp_video_result r;
    if (imp_import_video(&job, &r) < 0)
      record(ty, files[i], out, NULL, cm_error());
    else
      record(ty, files[i], out, &r, NULL);
    cm_progress_step(&pr, i + 1);
  }
  cm_progress_end(&pr);
  print_summary(ty, nfiles, (cm_monotonic_ns() - t_begin) * 1e-9);
  for (int k = 0; k < 16; k++) imp_table_free(&tabs[k]);
  return ty->skipped ? CM_EXIT_FAIL : CM_EXIT_OK;
}

int cmd_import(int argc, char **argv) {
  if (argc < 2) return cmact_help_exit(CMD, 1, "which form: cmactivity-raw or video");
  const char *form = argv[1];
  if (form[0] == '-')
    return cmact_help_exit(CMD, 1, "unknown option '%s' (the form comes first: cmactivity-raw or video)", form);
  int is_raw = strcmp(form, "cmactivity-raw") == 0, is_video = strcmp(form, "video") == 0;
  if (!is_raw && !is_video) return cmact_help_exit(CMD, 1, "'%s' is not a form (cmactivity-raw, video)", form);
  import_opts o;
  int npos;
  int r = parse_opts(argc, argv, &o, &npos);
  if (r) return r;
  char **pos = argv + 2; /* where parse_opts put the positional arguments */
  if (is_raw && npos != 1) return cmact_help_exit(CMD, 1, "cmactivity-raw takes one folder");
  if (is_raw && o.n_imu) return cmact_help_exit(CMD, 1, "--imu is for the video form; the raw layout has its own logs");
  if (!getenv("CMACT_FFMPEG_LOG")) av_log_set_level(AV_LOG_QUIET);
  tally ty = {0};
  if (o.summary) {
    ty.summary = fopen(o.summary, "w");
    if (!ty.summary)
      return cm_fail(CM_EXIT_FAIL, CMD, "--summary %s: cannot create: %s", o.summary, strerror(errno));
    fprintf(ty.summary, "input,status,session_file,start_time_source,start_time_uncertainty_s,reason\n");
  }
  r = is_raw ? run_raw(&o, pos[0], &ty) : run_video(&o, pos, npos, &ty);
  if (ty.summary && fclose(ty.summary) != 0 && r == 0)
    r = cm_fail(CM_EXIT_FAIL, CMD, "--summary %s: write failed", o.summary);
  return r;
}
