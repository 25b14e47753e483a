/*
 * rec_recorder: the body of `cmact record`. It runs the capture pipeline (rec_capture.h), asks
 * chronyd for the clock's state every few seconds (chrony_client.h), and writes everything into
 * one session file through formats/cm_session.h, on one thread, so the file's writer is never
 * shared. Video packets are stored exactly as the encoder made them; audio as PCM blocks with
 * the capture time of each block's first frame.
 *
 * What a user must know about a recording is written as an event next to the data: frames
 * missing (a gap in the video timestamps larger than 1.5 frame periods), audio discontinuities
 * (a block that does not start where the previous one ended), items the writer could not keep up
 * with, the clock becoming unsynchronised (chronyd unreachable or reporting leap status 3) and
 * synchronised again, and why the recording ended.
 *
 * Wrist IMUs (--imu NAME=SPEC, imu_capture.h) are opened first, each on its own thread, and
 * stored as streams "imu_NAME" next to the camera, or alone when there is no camera: their rows
 * and the stream tracker's events (lost, duplicated, reordered frames, gaps, reconnects) are
 * moved into the file every 100 ms from the same loop, so the file still has one writer.
 *
 * Ending: --duration, rec_request_stop() (from SIGINT/SIGTERM), or the sources' own end of
 * stream all drain the pipeline and close the file cleanly. A write error (a full disk) stops
 * the recording at once; the file keeps everything its last successful flush committed, which
 * is at most about a second behind.
 */
#ifndef REC_RECORDER_H
#define REC_RECORDER_H

#include <stdint.h>

#include "rec_capture.h"

#define REC_MAX_IMU 4

typedef struct {
  rec_capture_opts capture;
  const char *out_path;
  int overwrite;
  double duration_s;            /* 0: until stopped or the sources end */
  const char *chrony_socket;    /* NULL: chronyd's default socket */
  double chrony_interval_s;     /* 0: never ask chronyd */
  const char *label;            /* activity of the whole recording, or NULL */
  const char *session_id, *user, *location; /* NULL: generated / "" */
  int status_line;              /* draw the one-line live status on stderr */
  int n_imu;                    /* --imu NAME=SPEC */
  const char *imu_name[REC_MAX_IMU];
  const char *imu_spec[REC_MAX_IMU];
  int imu_rate;                 /* Hz asked of BLE sensors and the streams' nominal rate; 0: 52 */
} rec_options;

typedef struct {
  int64_t video_packets, video_dropped, audio_frames, audio_discontinuities;
  int64_t imu_samples;          /* rows stored over every IMU stream */
  int64_t imu_lost;             /* frames never received plus time gaps, every IMU stream */
  int64_t chrony_answers, chrony_failures;
  int64_t file_bytes;
  double seconds;           /* from the first to the last stored item */
  double cpu_seconds;       /* process CPU time while recording */
  const char *ended_by;     /* "duration", "signal", "end of stream", "write error" */
} rec_summary;

/* Record until the end; 0 on success, -1 with cm_error() (the file, if it was created, is
 * closed and keeps what was committed). */
int rec_run(const rec_options *o, rec_summary *sum);

/* Ask a running rec_run to end cleanly; async-signal-safe. */
void rec_request_stop(void);

#endif
