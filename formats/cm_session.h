/*
 * Session files: one recording host's streams of one session (DESIGN.md section 4).
 *
 * The writer is built for recorders. A file is created, every stream is declared, then
 * cm_session_start() switches the file to SWMR writing; from then on only appends happen.
 * Appends go to in-memory buffers (no HDF5 call per sample); the buffers are written out and
 * the file flushed whenever a buffer fills and at least once a second (checked on every
 * append), and on cm_session_flush()/cm_session_close(). After each flush a small fixed-size
 * dataset, /committed, records how many rows of every table are complete; readers trust only
 * that many, so a writer killed at any moment leaves a file that opens with at most the last
 * second lost (rows past the committed count, which HDF5 may have half-written, are ignored).
 *
 * Every function returns 0 (or a handle) on success and -1 (or NULL) on failure with the
 * reason in cm_error(), naming the file. Handles are not shared between threads; the library
 * serialises its own HDF5 calls, so different handles may be used from different threads.
 *
 * Layout written (see schemas/session.json for the authoritative description):
 *   /                    attrs schema="cmact.session", schema_version, session_id, user,
 *                        location, host, software_version, created_utc
 *   /committed           int64 [n_tables] rows committed per table (order: attr "tables")
 *   /clock/chrony        compound table of chronyd TRACKING answers (cm_chrony_row)
 *   /streams/<name>/     one group per stream, attrs kind, nominal_rate, units, device, transport
 *      video: packets (uint8 [bytes]), index (compound cm_packet_row), extradata (uint8)
 *      audio: pcm (int16 [frames x channels]), blocks (compound cm_audio_block_row)
 *      imu:   data (float32 [N x 6]), t_device_ns (int64 [N]), t_host_ns (int64 [N])
 *   /labels              compound (start_ns, end_ns, activity) in reference time
 *   /events              compound (t_host_ns, stream, kind, value, detail)
 *   /truth/...           optional, written by the simulator: attrs and arrays of ground truth
 */
#ifndef CM_SESSION_H
#define CM_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define CM_SESSION_SCHEMA "cmact.session"
#define CM_SESSION_SCHEMA_VERSION 1

typedef struct cm_session cm_session;

typedef enum { CM_STREAM_VIDEO = 1, CM_STREAM_AUDIO = 2, CM_STREAM_IMU = 3 } cm_stream_kind;

typedef struct {
  const char *session_id; /* several files (hosts) may share one session id */
  const char *user;
  const char *location;
  const char *host;
  const char *created_utc; /* ISO 8601 UTC; NULL: now. The simulator gives its session's simulated
                            * start, so that its files are byte-identical from run to run. */
} cm_session_info;

/* A stream's description. Strings may be NULL (stored as ""). */
typedef struct {
  const char *name;       /* "video", "audio", "imu_left", "imu_right", ... */
  cm_stream_kind kind;
  double nominal_rate;    /* frames/s, samples/s */
  const char *units;      /* "m/s^2,rad/s" for IMU; "" otherwise */
  const char *device;     /* device model: "Polar Verity Sense", "simulated phone" */
  const char *transport;  /* "gstreamer", "ble", "udp", "import", "simulator" */
  /* video only */
  const char *codec;      /* "h264" (Annex B byte stream) or "mjpeg" */
  int width, height;
  int time_base_num, time_base_den; /* of pts in the packet index */
  const uint8_t *extradata;         /* codec extradata, may be NULL */
  size_t extradata_size;
  /* audio only */
  int sample_rate, channels;        /* PCM is int16 interleaved */
  /* free-form provenance of the start time (import): "creation_time", "sidecar", "mtime" */
  const char *start_time_source;
  double start_time_uncertainty_s;  /* 0 when the clock metadata is authoritative */
} cm_stream_desc;

/* One video packet in the index. `offset` is filled in by the writer. */
typedef struct {
  uint64_t offset;  /* byte offset into packets */
  uint32_t size;
  uint8_t key;      /* 1 = keyframe */
  int64_t pts;      /* presentation time in the stream's time base */
  int64_t dts;
  int64_t t_host_ns;   /* capture time of the frame, CLOCK_REALTIME of the recording host */
} cm_packet_row;

typedef struct {
  int64_t first_frame; /* index of the block's first PCM frame */
  int32_t n_frames;
  int64_t t_host_ns;   /* capture time of the first frame */
} cm_audio_block_row;

typedef struct {
  int64_t t_host_ns;          /* when the answer was taken (host clock) */
  uint32_t ref_id;
  uint16_t stratum;
  uint16_t leap_status;       /* 0 normal, 1 insert, 2 delete, 3 unsynchronised */
  int64_t ref_time_ns;
  double current_correction;  /* s; positive: system clock slow of NTP time */
  double last_offset, rms_offset, freq_ppm, resid_freq_ppm, skew_ppm;
  double root_delay, root_dispersion, last_update_interval;
} cm_chrony_row;

#define CM_LABEL_LEN 24
typedef struct {
  int64_t start_ns, end_ns;        /* reference time */
  char activity[CM_LABEL_LEN];
} cm_label_row;

#define CM_EVENT_STREAM_LEN 16
#define CM_EVENT_KIND_LEN 24
#define CM_EVENT_DETAIL_LEN 96
typedef struct {
  int64_t t_host_ns;
  char stream[CM_EVENT_STREAM_LEN]; /* "" for the whole session */
  char kind[CM_EVENT_KIND_LEN];     /* "gap", "dropped_frames", "reconnect", "clock_unsynced" */
  double value;                     /* e.g. number of frames lost, gap length in s */
  char detail[CM_EVENT_DETAIL_LEN];
} cm_event_row;

/* ---- writing ---- */

/* Create a new file (fails if it exists unless overwrite). The file is written as
 * PATH and is valid from the first flush on. */
cm_session *cm_session_create(const char *path, const cm_session_info *info, int overwrite);
/* Declare a stream; only before cm_session_start(). Returns the stream id (>= 0). */
int cm_session_add_stream(cm_session *s, const cm_stream_desc *d);
/* Ground truth (simulator): before cm_session_start() only. `path` is relative to /truth,
 * e.g. "clock/imu_left_offset_ns". */
int cm_session_put_truth_f64(cm_session *s, const char *name, const double *v, size_t n);
int cm_session_put_truth_i64(cm_session *s, const char *name, const int64_t *v, size_t n);
int cm_session_put_truth_attr(cm_session *s, const char *name, double v);
int cm_session_put_truth_str(cm_session *s, const char *name, const char *v);
/* Switch to SWMR writing. No new stream or truth after this. */
int cm_session_start(cm_session *s);

int cm_session_append_packet(cm_session *s, int stream, const void *data, const cm_packet_row *r);
int cm_session_append_audio(cm_session *s, int stream, const int16_t *pcm, int n_frames,
                            int64_t t_host_ns);
int cm_session_append_imu(cm_session *s, int stream, const float *xyz6, const int64_t *t_device_ns,
                          const int64_t *t_host_ns, size_t n);
int cm_session_append_chrony(cm_session *s, const cm_chrony_row *r);
int cm_session_append_label(cm_session *s, const cm_label_row *r);
int cm_session_append_event(cm_session *s, const cm_event_row *r);
/* Convenience: an event from parts. */
int cm_session_event(cm_session *s, int64_t t_host_ns, const char *stream, const char *kind,
                     double value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Flush only when a buffer fills or on cm_session_flush(), never by the wall clock: for writers
 * whose file layout must not depend on timing (the simulator's byte-identical files). */
void cm_session_set_manual_flush(cm_session *s, int on);
/* Write buffers out and make everything appended so far durable in the file. */
int cm_session_flush(cm_session *s);
/* Bytes in the file so far (for a recorder's status line). */
int64_t cm_session_file_size(cm_session *s);
/* Flush and close. Returns -1 if the final flush failed (the file keeps what was committed). */
int cm_session_close(cm_session *s);

/* ---- reading ---- */

typedef struct {
  char name[32];
  cm_stream_kind kind;
  double nominal_rate;
  char units[32], device[64], transport[32], codec[16];
  int width, height, time_base_num, time_base_den;
  int sample_rate, channels;
  char start_time_source[32];
  double start_time_uncertainty_s;
  int64_t count;  /* committed: packets, PCM frames or IMU samples */
  int64_t n_blocks; /* audio: committed blocks; video: packet bytes */
} cm_stream_info;

typedef struct {
  char session_id[64], user[64], location[64], host[64];
  char software_version[32], created_utc[32];
  int schema_version;
  int unfinished;  /* the writer never closed the file (crash, power loss, still recording) */
  int n_streams;
  int64_t n_chrony, n_labels, n_events;
} cm_session_meta;

/* Open for reading. A file whose writer died is opened too (meta.unfinished = 1). */
cm_session *cm_session_open(const char *path);
const cm_session_meta *cm_session_get_meta(cm_session *s);
const char *cm_session_path(cm_session *s);
int cm_session_stream_info(cm_session *s, int stream, cm_stream_info *out);
int cm_session_find_stream(cm_session *s, const char *name); /* id or -1 (no error set) */

/* Read rows [first, first+n). Row counts are the committed counts of cm_stream_info. */
int cm_session_read_packet_index(cm_session *s, int stream, int64_t first, int64_t n, cm_packet_row *out);
int cm_session_read_packet_bytes(cm_session *s, int stream, uint64_t offset, size_t n, void *out);
int cm_session_read_extradata(cm_session *s, int stream, uint8_t **data, size_t *size); /* malloc'd */
int cm_session_read_audio(cm_session *s, int stream, int64_t first_frame, int64_t n_frames, int16_t *out);
int cm_session_read_audio_blocks(cm_session *s, int stream, int64_t first, int64_t n, cm_audio_block_row *out);
int cm_session_read_imu(cm_session *s, int stream, int64_t first, int64_t n, float *xyz6,
                        int64_t *t_device_ns, int64_t *t_host_ns);
int cm_session_read_chrony(cm_session *s, int64_t first, int64_t n, cm_chrony_row *out);
int cm_session_read_labels(cm_session *s, int64_t first, int64_t n, cm_label_row *out);
int cm_session_read_events(cm_session *s, int64_t first, int64_t n, cm_event_row *out);
/* Ground truth: -1 with an error when absent. Arrays are malloc'd. */
int cm_session_get_truth_f64(cm_session *s, const char *name, double **v, size_t *n);
int cm_session_get_truth_i64(cm_session *s, const char *name, int64_t **v, size_t *n);
int cm_session_get_truth_attr(cm_session *s, const char *name, double *v);
int cm_session_get_truth_str(cm_session *s, const char *name, char *buf, size_t len);
int cm_session_has_truth(cm_session *s);

/* Reopen a closed session file to replace its labels (cmact label). */
int cm_session_rewrite_labels(const char *path, const cm_label_row *rows, size_t n);

#endif
