/*
 * sessgen: small synthetic sessions for the sync tests, written through the formats API with
 * every clock known, so tests can check what `cmact sync` recovers and how it refuses bad input.
 *
 * A session is two files, as the study's setup records it: the camera host (H.264 video from
 * libx264, 22050 Hz audio) and the wrist host (two IMUs over a simulated BLE link: packets of
 * 5 samples, latency 7.5 ms + exponential). Motion happens at irregular event times: the
 * camera sees a square jump, the microphone a click, both wrists an acceleration pulse.
 * Each host's clock is off reference time by a known error, of which chrony reports all but a
 * small unknown part (inside its stated root_delay/2 + root_dispersion).
 */
#ifndef SESSGEN_H
#define SESSGEN_H

#include <stdint.h>

typedef struct {
  const char *dir;
  const char *session_id, *user, *location;
  uint64_t seed;
  double duration_s;          /* 8 */
  double cam_host_err_s, imu_host_err_s;       /* host minus reference */
  double cam_unknown_s, imu_unknown_s;         /* the part chrony does not see */
  double imu_dev_offset_s, imu_drift_ppm;      /* wrist device clocks */
  /* faults */
  int omit_imu_left;
  double imu_start_delay_s;   /* wrists start recording this much later */
  int imu_backwards;          /* device timestamps jump back once */
  double imu_gap_at_s, imu_gap_len_s; /* a radio hole */
  int clock_step;             /* the camera host's clock steps by 0.5 s mid-session */
  const char *label;          /* activity name (default "walk") */
  int two_activities;         /* walk then run */
} sg_params;

void sg_defaults(sg_params *p, const char *dir, const char *session_id);
/* Writes DIR/<session_id>_cam.h5 and DIR/<session_id>_imu.h5. 0 or -1 (cm_error). */
int sg_write(const sg_params *p);
/* The true relative offset the clock model cannot see: (imu_unknown - cam_unknown). */

#endif
