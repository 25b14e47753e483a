/*
 * `cmact simulate --live`: one simulated session played in real time as the devices of a
 * recording would send it over the network, so that `cmact record` is tested through its real
 * receiving code (issue 3's live mode, issue 5's UDP end-to-end test).
 *
 *   - each wrist sensor (left, right) measures its samples at the session's IMU rate on its own
 *     clock and sends them as Polar PMD frames in cmact wire envelopes (imu_sender.h, the same
 *     bytes a phone app relaying a Polar sensor sends) to a UDP or TCP destination, with loss,
 *     duplication and reordering on that link if asked;
 *   - the phone camera sends its H.264 video (the simulator's encoder, SPS/PPS with every
 *     keyframe) as RTP (rtph264pay, payload 96, clock 90000) and its microphone as L16 RTP
 *     (rtpL16pay, payload 96, mono at the session's audio rate), GStreamer appsrc -> udpsink.
 *
 * Everything is paced against CLOCK_MONOTONIC from the moment streaming starts: a sample, a
 * frame or an audio block leaves when the simulated device would have finished measuring it.
 * What is sent is deterministic for (preset, seed, session): the same pixels, sound, IMU
 * values, sensor timestamps and link faults every run; only arrival times are real.
 *
 * The sensors' clocks: sensor time = the session's reference time plus the plan's offset and
 * drift for that sensor (sim_device_time_ns), so t_device_ns is a plausible Unix-epoch date on
 * the sensor's own clock. The BLE link model of the offline simulator (latency, bursts of
 * loss) is not applied here: on the live link the faults are the ones asked for (--loss etc.).
 *
 * The wire log (--wire-log FILE, CSV) is the truth a test compares a recording with:
 *   S,side,index,t_device_ns,ax,ay,az,gx,gy,gz   every sample measured (m/s^2, rad/s, before
 *                                                the sender's 16-bit encoding); frame seq k of
 *                                                a side holds samples k*frame .. k*frame+frame-1
 *   F,side,meas,seq,fate                         every frame's fate on the wire, in send order
 *                                                (meas 2 ACC, 5 GYRO; fate 0 sent, 1 dropped,
 *                                                2 sent again)
 * side is 0 for the left wrist, 1 for the right.
 */
#ifndef CM_SIM_LIVE_H
#define CM_SIM_LIVE_H

#include <stdint.h>

#include "sim.h"

typedef struct {
  uint64_t seed;
  int session;             /* index into the preset's sessions */
  double duration_s;       /* 0: the whole recorded span of the session */
  const char *imu_to[2];   /* left, right: udp:HOST:PORT or tcp:HOST:PORT; NULL: not sent */
  const char *video_to;    /* HOST:PORT for RTP H.264; NULL: not sent */
  const char *audio_to;    /* HOST:PORT for RTP L16; NULL: not sent */
  int imu_frame;           /* samples per PMD frame (default 0: about 80 ms worth, >= 1) */
  double loss, duplicate, reorder; /* per IMU frame */
  const char *wire_log;    /* CSV path or NULL */
  int quiet;               /* no summary on stdout */
} sim_live_opts;

/* Play the session until its end or duration_s; 0, or -1 with cm_error(). */
int sim_live_run(const sim_preset *ps, const sim_live_opts *o);

#endif
