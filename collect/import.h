/*
 * import: turning existing recordings (phone MP4s, wristband CSV logs, the CMActivity raw
 * layout) into session files. The pieces, one file each:
 *
 *   import_imu.c    CSV logs (plain or gzip, read with zlib) -> a time-sorted table of
 *                   (t_ns, x, y, z); a span of an accelerometer table merged with a gyroscope
 *                   table into the N x 6 rows of an IMU stream.
 *   import_time.c   the start time of a video from the best evidence: container creation
 *                   time, a sidecar file, or the study's heuristic (mtime minus duration).
 *   import_media.c  libavformat/libavcodec: video packets copied as they are (H.264 turned
 *                   into Annex B by the h264_mp4toannexb bitstream filter), audio decoded to
 *                   int16 PCM at its own rate.
 *   import_video.c  one video plus its IMU tables -> one session file, written under a
 *                   temporary name and renamed only when complete, so a bad input never
 *                   leaves a half file behind.
 *   import_raw.c    the CMActivity raw layout: finds the videos, their activity labels, the
 *                   manifest, and the four IMU folders.
 *   cmd_import.c    the command line, progress and the summary.
 *
 * Every function returns 0/handle on success, -1/NULL with the reason in cm_error().
 */
#ifndef CM_IMPORT_H
#define CM_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cm_session.h"

/* ---- IMU logs ---- */

/* Where the fields are in a CSV row: a 0-based column index, or a header name (then the
 * first line of the file must be a header). Order: t, x, y, z. */
typedef struct {
  int index[4];
  char name[4][48];
} imp_columns;

/* CMActivity raw rows `timestamp_ms,<unused>,x,y,z`. */
void imp_columns_cmactivity(imp_columns *c);
/* Parse "t=NAME|#IDX,x=...,y=...,z=..." (any order, all four needed). */
int imp_columns_parse(imp_columns *c, const char *spec);

typedef struct {
  size_t n, cap;
  int64_t *t_ns;
  float *xyz; /* n x 3 */
  int sorted;
} imp_table;

void imp_table_free(imp_table *t);
/* Append every row of a CSV file (gzip or plain). `ns_per_unit` converts the time column
 * (1e6 for milliseconds). The whole file is refused (nothing appended) on any row that does
 * not parse, naming FILE:LINE. */
int imp_table_load(imp_table *t, const char *path, const imp_columns *c, int64_t ns_per_unit);
/* Sort by time (stable: rows with equal times keep their file order). */
void imp_table_sort(imp_table *t);
/* Rows with t0 <= t < t1: [*lo, *hi). The table must be sorted. */
void imp_table_span(const imp_table *t, int64_t t0, int64_t t1, size_t *lo, size_t *hi);

/* What merging acc and gyro into rows did (for the /events table). */
typedef struct {
  size_t n;                 /* rows produced (= accelerometer rows in the span) */
  size_t n_gyro_in_span;    /* gyroscope samples inside the span */
  size_t n_exact;           /* rows whose gyro values are a gyro sample taken unchanged */
  double max_gyro_dist_s;   /* largest distance from a row's time to its nearest gyro sample */
} imp_merge_stats;

/* The rows of one IMU stream over [t0, t1): one per accelerometer sample (its time kept
 * exactly), acc columns copied, gyro columns linearly interpolated from the gyro samples
 * around that time (the gyro sample itself when the times are equal; the nearest sample held
 * beyond either end of the gyro log). Fails when the span holds no acc row, or no gyro sample
 * lies within 1 s of the span. xyz6 and t_ns are malloc'd. */
int imp_merge_span(const imp_table *acc, const imp_table *gyro, int64_t t0, int64_t t1,
                   float **xyz6, int64_t **t_ns, imp_merge_stats *st);

/* Parse a decimal number of `unit`s (e.g. "1542.25" ms) into integer ns exactly (no double
 * rounding for up to 9 fractional digits of ns). */
int imp_parse_time_ns(const char *s, const char *end, int64_t ns_per_unit, int64_t *out);

/* ---- start time ---- */

typedef enum {
  IMP_START_AUTO = 0,       /* best evidence available, in the order below */
  IMP_START_CREATION_TIME,  /* container creation time */
  IMP_START_SIDECAR,        /* a sidecar file */
  IMP_START_MTIME,          /* file modification time minus duration (the study's way) */
} imp_start_source;

typedef struct {
  imp_start_source force;       /* AUTO: best evidence */
  const char *sidecar;          /* explicit sidecar path, or NULL: VIDEO.start if present */
  int creation_tz_set;          /* the camera wrote local time in creation_time ... */
  int64_t creation_tz_offset_s; /* ... at this offset east of UTC */
  int creation_marks_end;       /* creation_time is when recording stopped */
  double mtime_uncertainty_s;   /* the heuristic's stated uncertainty */
} imp_start_options;

typedef struct {
  int64_t start_ns;             /* UTC ns of presentation time 0 of the file */
  const char *source;           /* "creation_time", "sidecar", "mtime" */
  double uncertainty_s;
  char detail[96];              /* which tag or file, for the event row */
  int tz_suspect;               /* creation_time and mtime-duration differ by whole hours */
  double tz_suspect_diff_s;
} imp_start;

/* Metadata the decision needs (filled from the container by import_media.c). */
typedef struct {
  int64_t duration_ns;
  char creation_time[64];       /* "creation_time" tag (mvhd; UTC by the spec), "" if none */
  char apple_creationdate[64];  /* com.apple.quicktime.creationdate (local time + offset) */
} imp_time_tags;

/* Parse ISO 8601 "YYYY-MM-DD[T ]hh:mm:ss[.frac][Z|+hh[:]mm|-hh[:]mm]" to UTC ns. With no
 * zone the time is taken as UTC. */
int imp_parse_iso8601_ns(const char *s, int64_t *out, int *has_zone);
int imp_decide_start(const char *video_path, const imp_time_tags *tags,
                     const imp_start_options *opt, imp_start *out);

/* ---- media ---- */

typedef struct imp_media imp_media;
typedef struct {
  imp_time_tags tags;
  int has_audio;
  char video_codec[16];
  char device[64];
} imp_media_info;

imp_media *imp_media_open(const char *path);
const imp_media_info *imp_media_get_info(imp_media *m);
/* Declare "video" (and "audio" when present) in s, before cm_session_start(). */
int imp_media_declare(imp_media *m, cm_session *s, const imp_start *start);
/* After cm_session_start(): copy every video packet and decode all audio. */
int imp_media_copy(imp_media *m, cm_session *s, int64_t start_ns);
void imp_media_close(imp_media *m);

/* ---- one video -> one session file ---- */

typedef struct {
  const char *stream;        /* "imu_left", "imu_right", ... */
  const imp_table *acc, *gyro;
} imp_imu_source;

typedef struct {
  const char *video;
  const char *out;
  const char *session_id, *user, *location, *activity; /* activity may be NULL: no label */
  const imp_imu_source *imu;
  int n_imu;
  double pad_s;              /* IMU rows taken from [start - pad, end + pad) */
  int overwrite;
  imp_start_options start;
} imp_video_job;

typedef struct {
  imp_start start;
  size_t imu_rows[8];
  int64_t duration_ns;
} imp_video_result;

int imp_import_video(const imp_video_job *job, imp_video_result *res);

/* ---- the CMActivity raw layout ---- */

/* Map a study folder name (downstair, upstair, ...) or a class name to the class name;
 * NULL when it is neither. */
const char *imp_activity_from_folder(const char *name);

typedef struct {
  char *path;            /* as found (DIR/...) */
  char *rel;             /* relative to DIR */
  const char *activity;  /* class name from the nearest activity folder, or NULL */
} imp_video_entry;

/* Every video (.mp4 .mov .m4v, any case) under dir, raw* folders excepted, sorted by path. */
int imp_find_videos(const char *dir, imp_video_entry **out, size_t *n);
void imp_free_videos(imp_video_entry *v, size_t n);

/* The manifest: a CSV with a header naming at least video (or file), user, location
 * (session_id optional; other columns ignored). `video` is matched against the path relative to DIR, then the file name. */
typedef struct {
  size_t n;
  char **video, **user, **location, **session_id;
} imp_manifest;
int imp_manifest_load(imp_manifest *m, const char *path);
/* Row index or -1. */
long imp_manifest_find(const imp_manifest *m, const char *rel);
void imp_manifest_free(imp_manifest *m);

/* The files of one raw folder (*.csv.gz, *.csv), sorted. */
int imp_list_logs(const char *folder, char ***files, size_t *n);

#endif
