/*
 * One wrist sensor's stream as it arrives: PMD notifications in, IMU rows and events out.
 *
 * The tracker is where cmact decides what happened to each frame, independent of the transport
 * (BLE or network) that delivered it:
 *   - frames are decoded (pmd_decode.h) and every sample keeps the sensor's time
 *     (t_device_ns, Unix-epoch ns on the sensor's clock) and the host's arrival time of its
 *     frame (t_host_ns, CLOCK_REALTIME);
 *   - with sequence numbers (network envelope): a frame that skips ahead opens a "missing"
 *     entry; if the missing frame turns up within the reorder window it is written where it
 *     arrived and reported as "reordered", otherwise the entry becomes a "dropped_frames"
 *     event naming the sequence numbers; a repeated frame is reported as "duplicate" and not
 *     written twice;
 *   - from the sensor's time stamps (every transport, and the only evidence on BLE): a jump
 *     of more than 1.5 frames' worth of samples is a "gap", time going backwards a
 *     "clock_step", the same time twice without sequence numbers a "duplicate";
 *   - a frame's samples are spread between the previous frame's time and its own (the SDK's
 *     rule) only when that previous frame is its direct predecessor; after a loss, a reorder
 *     or a reconnect the nominal rate is used instead, so no time is ever spread over a gap.
 *     Nothing is resampled or interpolated.
 *
 * ACC and GYRO arrive as separate frames with their own times. A row of the session's IMU
 * table holds both halves (m/s^2, rad/s) when their sensor times lie within pair_tolerance of
 * a sample period (the same sampling instant); otherwise a half arrives alone with NaN in the
 * other. Rows keep each stream's arrival order; t_host_ns of a paired row is the earlier of
 * the two arrivals (radio delay only ever adds, so the earlier bounds the true time better).
 */
#ifndef CM_IMU_STREAM_H
#define CM_IMU_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "cm_session.h"

typedef struct {
  float xyz6[6];       /* acc x y z (m/s^2), gyro x y z (rad/s); NaN where not measured */
  int64_t t_device_ns; /* Unix-epoch ns on the sensor's clock */
  int64_t t_host_ns;   /* CLOCK_REALTIME arrival of the frame */
} cm_imu_row;

typedef struct {
  double pair_tolerance; /* fraction of a sample period; default 0.25 */
  int reorder_window;    /* frames a late frame may trail by; default 64 */
  int64_t hold_ns;       /* longest a half waits for its partner or a loss for its frame; 1 s */
} cm_imu_tracker_opts;

typedef struct {
  int64_t frames, samples, rows;
  int64_t lost_frames, duplicates, reordered, gaps, clock_steps, bad_frames, ignored_frames;
} cm_imu_stats;

typedef struct cm_imu_tracker cm_imu_tracker;

void cm_imu_tracker_opts_default(cm_imu_tracker_opts *o);
/* stream_name goes into every event's stream field (e.g. "imu_left"). */
cm_imu_tracker *cm_imu_tracker_new(const char *stream_name, const cm_imu_tracker_opts *o);
void cm_imu_tracker_free(cm_imu_tracker *t);

/* One PMD notification. has_seq: the transport numbered it (seq per measurement type).
 * rate: the stream's nominal sample rate (Hz, 0 unknown); factor: from the start response. */
void cm_imu_tracker_frame(cm_imu_tracker *t, const uint8_t *pmd, size_t n, int has_seq,
                          uint32_t seq, double rate, float factor, int64_t t_host_ns);
/* An event from the transport (reconnect, link lost, ...). */
void cm_imu_tracker_event(cm_imu_tracker *t, int64_t t_host_ns, const char *kind, double value,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The link dropped: the next frames have no known predecessor, and sequence numbers restart. */
void cm_imu_tracker_link_lost(cm_imu_tracker *t);
/* Release halves that waited hold_ns for a partner and report losses older than hold_ns. */
void cm_imu_tracker_tick(cm_imu_tracker *t, int64_t now_host_ns);
/* End of recording: release everything held and report every loss still open. */
void cm_imu_tracker_finish(cm_imu_tracker *t, int64_t now_host_ns);

size_t cm_imu_tracker_take_rows(cm_imu_tracker *t, cm_imu_row *out, size_t max);
size_t cm_imu_tracker_take_events(cm_imu_tracker *t, cm_event_row *out, size_t max);
const cm_imu_stats *cm_imu_tracker_stats(const cm_imu_tracker *t);
/* Nominal rate seen so far (Hz, 0 if none yet). */
double cm_imu_tracker_rate(const cm_imu_tracker *t);

#endif
