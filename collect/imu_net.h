/*
 * Network transports of the IMU capture: PMD frames in cmact wire envelopes (imu_wire.h) over
 * UDP (one or more envelopes per datagram) or TCP (a stream of envelopes; the recorder listens
 * and a bridge connects, one connection at a time).
 *
 * A receiver owns its socket and hands each envelope, with the host time it arrived, to a
 * callback. UDP arrival times come from the kernel (SO_TIMESTAMPNS, CLOCK_REALTIME at the
 * moment the datagram was queued), so a busy recorder does not add its own delay to
 * t_host_ns; TCP bytes get the time they were read.
 */
#ifndef CM_IMU_NET_H
#define CM_IMU_NET_H

#include <stdint.h>

#include "imu_wire.h"

typedef void (*cm_imu_net_cb)(void *ctx, const cm_imu_envelope *env, int64_t t_host_ns);
/* Connection news for TCP: 1 = a bridge connected, 0 = it went away. */
typedef void (*cm_imu_net_link_cb)(void *ctx, int up, const char *peer, int64_t t_host_ns);

typedef struct cm_imu_net cm_imu_net;

/* is_tcp: listen for TCP instead of binding UDP. host may be "0.0.0.0", "127.0.0.1", "::".
 * port 0 picks a free port (see cm_imu_net_port). NULL with cm_error() set on failure. */
cm_imu_net *cm_imu_net_open(int is_tcp, const char *host, int port, cm_imu_net_cb cb,
                            cm_imu_net_link_cb link_cb, void *ctx);
int cm_imu_net_port(const cm_imu_net *n);
/* Wait up to timeout_ms for traffic and deliver every whole envelope. Returns 0, or -1 with
 * cm_error() set on a socket failure that ends the receiver. Malformed input is counted, not
 * fatal. */
int cm_imu_net_poll(cm_imu_net *n, int timeout_ms);
int64_t cm_imu_net_bad_bytes(const cm_imu_net *n);
void cm_imu_net_close(cm_imu_net *n);

#endif
