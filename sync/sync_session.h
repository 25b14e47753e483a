/*
 * sync_session: one session on the reference timeline, as the sync stage sees it.
 *
 * A session is one or more session files sharing a session_id (the camera's host and the wrist
 * sensors' host record separately). It needs four streams, each with a role:
 *   video (the camera), audio (its microphone), imu_right and imu_left (the wrists).
 * For each stream the clock model is (DESIGN.md section 3):
 *   stream time --clock_fit--> host time --clock_ref (that file's chrony)--> reference time
 *   + the cross-modal refinement (when confident) + the injected offset/drift (experiments).
 * "Stream time" is the device's own clock where it has one: the IMU's t_device_ns, the
 * video's pts in its time base, the audio's sample index at its nominal rate; so the audio
 * and video are fitted on their own sample clocks too, and the frame/sample spacing is smooth
 * even when the host stamps jitter.
 *
 * Planning (plan.c) reads timestamps, labels and motion signals but no window content; it
 * decides which windows exist, with which label and which alignment uncertainty. Building the
 * windows (window.c) comes later, in chunks, from the plan.
 */
#ifndef CM_SYNC_SESSION_H
#define CM_SYNC_SESSION_H

/* --refine: best applies the strongest peak on clips long enough to choose among rivals (the
 * default, with the clock model's bound stated where it is not confident); confident applies
 * only peaks that stand alone. */
#define SYNC_REFINE_BEST 1
#define SYNC_REFINE_CONFIDENT 2

#include <stdint.h>

#include "clock_fit.h"
#include "clock_ref.h"
#include "cm_session.h"
#include "splits.h"
#include "xcorr.h"

enum { SR_VIDEO, SR_AUDIO, SR_IMU_R, SR_IMU_L, SR_COUNT };
extern const char *const sync_role_names[SR_COUNT]; /* "video", "audio", "imu_right", "imu_left" */

#define SYNC_MAX_FILES 4

typedef struct {
  double offset_s[SR_COUNT];
  double drift_ppm[SR_COUNT];
} sync_inject;

typedef struct {
  double window_s, hop_s;
  int video_frames, video_size; /* 45, 64 */
  int imu_steps;                /* 40 */
  int keep_straddling;          /* label a window that straddles a transition by its majority */
  int refine;                   /* cross-modal refinement: 0 off, SYNC_REFINE_BEST, SYNC_REFINE_CONFIDENT */
  double max_gap_s;             /* a hole in a stream longer than this drops the windows over it */
  double step_min_s;            /* clock steps below this are slews */
  cm_xcorr_params xc;
  double wrist_max_lag_s; /* the wrists' search range never exceeds this */
  double wrist_min_corr;  /* the wrists' averaged cue correlation must reach this to be applied */
  double wrist_confident_corr; /* ... and this to be confident, ... */
  double wrist_confident_ratio; /* ... with no other peak above 1/ratio of it */
  double wrist_min_span_s;     /* an ambiguous peak is applied only over at least this much audio */
  double cue_bias_s;      /* how far a cue's peak may sit from the true offset (physics, sampling) */
  double wash_smooth_s;   /* hand washing: the level envelopes are moving means over this ... */
  double wash_hp_s;       /* ... high-passed over this (the scrubbing comes in bouts of seconds) */
  double wash_min_corr;   /* ... and their correlation must reach this to be applied */
  sync_inject inject;
  const cm_split_spec *split;
} sync_opts;

void sync_opts_default(sync_opts *o);

typedef struct {
  int present;
  int file;      /* index into the session's files */
  int stream;    /* stream id in that file */
  cm_stream_info info;
  cm_clock_fit fit;       /* stream time -> host time */
  double chrony_corr_s;   /* host -> reference correction at the stream's middle */
  double chrony_unc_s;
  double refine_s;        /* cross-modal shift applied (0 when not confident) */
  int refine_tried, refine_applied;
  int refine_envelope;    /* the wrists' shift came from the hand-washing level envelopes */
  cm_xcorr_result xc;     /* against the video */
  int64_t ref_first_ns, ref_last_ns; /* reference times of the first and last sample */
  double inject_offset_s, inject_drift_ppm; /* --inject-offset / --inject-drift for this stream */
  int64_t inject_anchor_ns;                 /* drift is counted from the stream's first sample */
} sync_stream;

typedef struct {
  int64_t t_ns;
  int32_t label;
  float uncertainty_s;
} sync_window;

typedef struct {
  char session_id[64], user[64], location[64];
  int n_files;
  char *paths[SYNC_MAX_FILES];
  int skipped;
  char reason[256];
  int role; /* CM_ROLE_* */
  int has_excluded_class; /* labels name a class the personalization set leaves out */
  sync_stream st[SR_COUNT];
  cm_clock_ref ref[SYNC_MAX_FILES];
  int64_t span_start_ns, span_end_ns;
  sync_window *win;
  int64_t n_win;
  int64_t n_drop_gap, n_drop_straddle, n_drop_unlabeled, n_drop_excluded, n_drop_step;
  /* against the simulator's truth, when the files hold it (NaN otherwise) */
  double truth_err_s[SR_COUNT];     /* estimated minus true reference time, mid-session */
  double truth_rel_err_s;           /* max over streams of |err - err_video| */
  double truth_err_norefine_s;      /* the same before refinement */
  double truth_clock_rel_s[SR_COUNT]; /* clock model's error relative to the video (signed): the
                                         refinement's lag should be minus this */
  int has_truth;
  float *win_truth_err;             /* per window: the relative error the uncertainty must cover */
  int64_t win_len_ns;
} sync_session;

/* Plan one session: the files' paths share a session_id. Never fails hard: a session that
 * cannot be used comes back with skipped = 1 and the reason. */
void sync_plan_session(sync_session *ss, const sync_opts *o);
void sync_session_free(sync_session *ss);

/* Fill the truth_* fields when every file of the session holds the simulator's /truth
 * (truth.c); silently nothing otherwise. */
void sync_truth_compare(sync_session *ss, cm_session **files);

/* Reference time of stream time t (ns) with every correction, and its inverse. */
int64_t sync_stream_to_ref(const sync_session *ss, int role, int64_t t_stream_ns);
int64_t sync_stream_from_ref(const sync_session *ss, int role, int64_t t_ref_ns);
/* The same, without refinement and injection (the pure clock model). */
int64_t sync_stream_to_ref_clock(const sync_session *ss, int role, int64_t t_stream_ns);

/* Stream time of a video pts / audio frame index (ns on the stream's own clock). */
int64_t sync_video_pts_ns(const cm_stream_info *vi, int64_t pts);

#endif
