/*
 * chrony_client: asks a running chronyd how far the system clock is from NTP time, the way
 * `chronyc tracking` does, so that every session file carries the host's clock quality.
 *
 * chronyd answers its command protocol ("cmdmon", defined in chrony's candm.h) on a Unix
 * datagram socket (/run/chrony/chronyd.sock by default). A datagram socket replies to the
 * sender's address, so the client binds its own socket to a path first: next to the server's
 * socket like chronyc does, or, when that folder is not writable, in $TMPDIR (made 0666 so a
 * chronyd that dropped root can still send to it). One TRACKING request of 104 bytes (it must
 * be padded to the size of the reply) gets one 104-byte reply; all integers are big-endian
 * and the measurements use chrony's own 32-bit "Float" (7-bit exponent, 25-bit coefficient).
 *
 * The packet encoding and decoding are separate pure functions so that they can be tested
 * and fuzzed without a daemon.
 */
#ifndef CHRONY_CLIENT_H
#define CHRONY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "cm_session.h"

#define CM_CHRONY_DEFAULT_SOCKET "/run/chrony/chronyd.sock"
#define CM_CHRONY_TRACKING_LEN 104 /* request (padded) and reply size */

/* Decode one chrony Float (as it arrives, network byte order already converted to host). */
double cm_chrony_float_decode(uint32_t word);

/* Fill buf (CM_CHRONY_TRACKING_LEN bytes) with a TRACKING request carrying `sequence`. */
void cm_chrony_build_tracking_request(uint8_t *buf, uint32_t sequence);

/* Parse a TRACKING reply of n bytes that must echo `sequence`. Fills every field of *out except
 * t_host_ns. Returns 0, or -1 with the reason in cm_error() (short packet, wrong version,
 * chronyd status code, sequence mismatch). */
int cm_chrony_parse_tracking(const uint8_t *buf, size_t n, uint32_t sequence, cm_chrony_row *out);

/* Ask the chronyd listening on `socket_path` (NULL: the default) for its tracking state,
 * waiting at most timeout_ms for the answer. out->t_host_ns is CLOCK_REALTIME halfway between
 * sending and receiving. Returns 0, or -1 with a one-line reason naming the socket. */
int cm_chrony_tracking(const char *socket_path, int timeout_ms, cm_chrony_row *out);

#endif
