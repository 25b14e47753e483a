/*
 * window: the content of planned windows (video frames, IMU steps, audio 193-vector), built
 * for a run of consecutive windows of one session at a time so that memory is bounded by the
 * run's length, never by the session's.
 *
 *   video: 45 frames chosen by time: frame k is the decoded frame nearest to
 *          t + (k + 0.5) * window / 45 on the reference timeline, scaled to 64x64 RGB;
 *   imu:   40 steps x 12 channels [acc_R xyz, gyro_R xyz, acc_L xyz, gyro_L xyz]: step k is
 *          the mean of the samples inside [t + k*dt, t + (k+1)*dt) (a box filter: the wrists
 *          sample faster than 20 Hz, and plain decimation would alias), or the linear
 *          interpolation at the step's centre when no sample falls inside;
 *   audio: the window's samples (window_s * 22050, mono, int16 / 32768) through features/.
 */
#ifndef CM_SYNC_WINDOW_H
#define CM_SYNC_WINDOW_H

#include "audio_features.h"
#include "sync_session.h"

/* Per-thread state (the audio extractor owns its buffers). */
typedef struct {
  cm_audiofeat *af;
  int af_samples;
} sync_worker;

int sync_worker_init(sync_worker *w, const sync_opts *o);
void sync_worker_free(sync_worker *w);

/* Windows [w0, w1) of a planned session: video (F*S*S*3 bytes each), imu (steps*12 floats),
 * audio (193 floats). Returns 0 or -1 with cm_error() set. */
int sync_build_windows(const sync_session *ss, int64_t w0, int64_t w1, const sync_opts *o, sync_worker *wk,
                       uint8_t *video, float *imu, float *audio);

#endif
