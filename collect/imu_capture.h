/*
 * IMU capture: the API `cmact record --imu NAME=SPEC` uses to record a wrist sensor.
 *
 * A source is opened from a spec string and runs on its own thread from then on (a BLE
 * reconnect can block for seconds and must not stall the camera or the other wrist). The
 * caller collects what has arrived whenever it likes, typically every 100 ms:
 *
 *   cm_imu_options o; cm_imu_options_default(&o);
 *   cm_imu_source *src = cm_imu_source_open("udp:0.0.0.0:9001", "imu_right", &o);
 *   cm_stream_desc d; cm_imu_source_describe(src, &d);
 *   int sid = cm_session_add_stream(session, &d);            ... cm_session_start(session) ...
 *   while (recording) { cm_imu_source_write(src, session, sid); sleep 100 ms; }
 *   cm_imu_source_finish(src); cm_imu_source_write(src, session, sid); cm_imu_source_close(src);
 *
 * or, without a session, cm_imu_source_rows() / cm_imu_source_events().
 *
 * Specs:
 *   ble:AA:BB:CC:DD:EE:FF[/random]  a Polar PMD sensor (Verity Sense, OH1, H10) over BlueZ;
 *                                   /random for a random static address
 *   udp:HOST:PORT[/SENSOR]          wire envelopes (imu_wire.h) arriving on a UDP port
 *   tcp:HOST:PORT[/SENSOR]          wire envelopes from a bridge that connects to this port
 * SENSOR picks one sensor id among several senders on one port; without it the first id seen
 * is kept and others are reported once as "foreign_sensor" and ignored.
 *
 * Rows: float[6] acc xyz m/s^2 + gyro xyz rad/s (NaN where that half was not measured at
 * that instant), t_device_ns (Unix-epoch ns on the sensor's clock) and t_host_ns (arrival,
 * CLOCK_REALTIME). Events: cm_event_row with stream = the source's stream name (imu_stream.h
 * lists the kinds; the transports add "link_lost", "reconnect", "connect_failed",
 * "sensor_note", "foreign_sensor", "bad_bytes").
 */
#ifndef CM_IMU_CAPTURE_H
#define CM_IMU_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "cm_session.h"
#include "imu_stream.h"

typedef struct {
  int acc_rate, gyro_rate;    /* BLE: Hz wanted (nearest offered is used); default 52 */
  int acc_range, gyro_range;  /* BLE: G, deg/s; 0 = largest offered */
  int want_gyro;              /* BLE: default 1 */
  int timeout_ms;             /* BLE: connect and control-point timeout; default 5000 */
  cm_imu_tracker_opts tracker;
} cm_imu_options;

typedef struct cm_imu_source cm_imu_source;

/* For tests and bridges: how a BLE source obtains its ATT bearer. The default opens an L2CAP
 * LE socket (ble_l2cap.h); a test passes a function returning one end of a socketpair. */
typedef int (*cm_imu_ble_connector)(void *ctx, const char *address, int random_address,
                                    int timeout_ms);

void cm_imu_options_default(cm_imu_options *o);
/* Check a spec without opening anything: 0 or -1 with cm_error() naming the problem. */
int cm_imu_spec_check(const char *spec);
/* Open and start the source's thread. stream_name (e.g. "imu_left") labels its events.
 * Network sources fail here if the port cannot be bound; a BLE source starts connecting in
 * the background and reports failures as events (it keeps retrying until closed). */
cm_imu_source *cm_imu_source_open(const char *spec, const char *stream_name,
                                  const cm_imu_options *o);
cm_imu_source *cm_imu_source_open_ble_with(const char *spec, const char *stream_name,
                                           const cm_imu_options *o, cm_imu_ble_connector c,
                                           void *ctx);
/* The stream description for cm_session_add_stream (strings owned by the source). */
void cm_imu_source_describe(cm_imu_source *s, cm_stream_desc *d);
/* Bound port of a network source (useful with port 0), else 0. */
int cm_imu_source_port(cm_imu_source *s);
/* Take what is ready (never blocks). */
size_t cm_imu_source_rows(cm_imu_source *s, cm_imu_row *out, size_t max);
size_t cm_imu_source_events(cm_imu_source *s, cm_event_row *out, size_t max);
/* Take what is ready and append it to a session stream. -1 with cm_error() on a write error. */
int cm_imu_source_write(cm_imu_source *s, cm_session *session, int stream);
/* Stop receiving, stop the sensor's streams, release held rows and report open losses; the
 * rest can then be taken or written. */
void cm_imu_source_finish(cm_imu_source *s);
/* A copy of the counters so far. */
cm_imu_stats cm_imu_source_stats(cm_imu_source *s);
/* The sample rate the sensor's frames announce (network envelope, BLE settings), Hz; 0 while
 * none has arrived. */
double cm_imu_source_rate(cm_imu_source *s);
/* Connected now (BLE link up / TCP bridge connected / UDP: traffic within the last second). */
int cm_imu_source_connected(cm_imu_source *s);
void cm_imu_source_close(cm_imu_source *s);

#endif
