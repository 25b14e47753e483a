/*
 * Dataset files: the windowed, split CMActivity dataset that `cmact sync` builds and the
 * training stage reads (DESIGN.md section 4).
 *
 * One group per split (pretrain, transfer, limited, test, personal_train, personal_test, or
 * whatever the split file names), each holding per window:
 *   video            uint8  [N, F, H, W, C]   chunk = one window
 *   audio_features   float32[N, A]            chunk = 256 windows (one chunk per read of a window)
 *   imu              float32[N, T, 12]        chunk = 256 windows
 *   label            int32  [N]               index into the root attribute class_names
 *   session          int32  [N]               index into /sessions
 *   t_start_ns       int64  [N]               window start on the reference timeline
 *   sync_uncertainty_s float32 [N]            residual alignment uncertainty of the window
 * /sessions: per-session table (name, user, location, offsets applied, uncertainty).
 * /stats: normalisation statistics (imu_mean, imu_std, audio_mean, audio_std) of the training
 * windows. Root attributes: schema="cmact.dataset", schema_version, window_s, hop_s,
 * class_names, seed, command_line, video_shape, software_version.
 *
 * The writer writes to PATH.partial and renames it to PATH only on a successful close, so a
 * dataset that looks finished is finished. Appends are buffered. Errors as in cm_session.h.
 */
#ifndef CM_DATASET_H
#define CM_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define CM_DATASET_SCHEMA "cmact.dataset"
#define CM_DATASET_SCHEMA_VERSION 1
#define CM_MAX_CLASSES 16
#define CM_CLASS_NAME_LEN 24

typedef struct cm_dataset cm_dataset;

typedef struct {
  int video_frames, video_height, video_width, video_channels; /* 45, 64, 64, 3 */
  int audio_dim;                                                /* 193 */
  int imu_steps, imu_channels;                                  /* 40, 12 */
  int n_classes;
  char class_names[CM_MAX_CLASSES][CM_CLASS_NAME_LEN];
  double window_s, hop_s;
  uint64_t seed;
  char command_line[1024];
} cm_dataset_desc;

typedef struct {
  const uint8_t *video;   /* F*H*W*C */
  const float *audio;     /* audio_dim */
  const float *imu;       /* imu_steps * imu_channels */
  int32_t label;
  int32_t session;
  int64_t t_start_ns;
  float sync_uncertainty_s;
} cm_window;

#define CM_SESSION_NAME_LEN 64
typedef struct {
  char name[CM_SESSION_NAME_LEN];
  char user[32], location[32];
  double offset_video_s, offset_audio_s, offset_imu_s; /* offsets applied to reach reference time */
  double uncertainty_s;
  double injected_offset_s;  /* --inject-offset, 0 if none */
} cm_dataset_session_row;

/* ---- writing ---- */
cm_dataset *cm_dataset_create(const char *path, const cm_dataset_desc *desc, int overwrite);
int cm_dataset_add_split(cm_dataset *d, const char *name); /* returns split id */
int cm_dataset_append(cm_dataset *d, int split, const cm_window *w);
int cm_dataset_set_sessions(cm_dataset *d, const cm_dataset_session_row *rows, size_t n);
int cm_dataset_set_stats(cm_dataset *d, const char *name, const float *v, size_t n);
int cm_dataset_set_attr_str(cm_dataset *d, const char *name, const char *value);
int cm_dataset_set_attr_f64(cm_dataset *d, const char *name, double value);
/* Finish: flush, close, rename PATH.partial -> PATH. */
int cm_dataset_close(cm_dataset *d);
/* Give up: close and delete the partial file. */
void cm_dataset_abort(cm_dataset *d);

/* ---- reading ---- */
cm_dataset *cm_dataset_open(const char *path);
const cm_dataset_desc *cm_dataset_get_desc(cm_dataset *d);
int cm_dataset_n_splits(cm_dataset *d);
const char *cm_dataset_split_name(cm_dataset *d, int split);
int cm_dataset_find_split(cm_dataset *d, const char *name); /* id or -1 (error set) */
int64_t cm_dataset_split_size(cm_dataset *d, int split);
/* Read windows [first, first+n) of a split; any output pointer may be NULL to skip it. */
int cm_dataset_read(cm_dataset *d, int split, int64_t first, int64_t n, uint8_t *video,
                    float *audio, float *imu, int32_t *label, int32_t *session,
                    int64_t *t_start_ns, float *sync_uncertainty_s);
/* Gather arbitrary rows (shuffled batches); rows need not be sorted. */
int cm_dataset_read_rows(cm_dataset *d, int split, const int64_t *rows, size_t n, uint8_t *video,
                         float *audio, float *imu, int32_t *label);
int cm_dataset_get_sessions(cm_dataset *d, cm_dataset_session_row **rows, size_t *n); /* malloc'd */
int cm_dataset_get_stats(cm_dataset *d, const char *name, float *v, size_t n);
int cm_dataset_get_attr_str(cm_dataset *d, const char *name, char *buf, size_t len);
int cm_dataset_get_attr_f64(cm_dataset *d, const char *name, double *v);
void cm_dataset_close_reader(cm_dataset *d);

#endif
