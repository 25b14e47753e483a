/*
 * chrony_client: the TRACKING request of chronyd's command protocol over its Unix socket.
 * See chrony_client.h for the design; byte offsets below are those of chrony 4.x candm.h
 * (protocol version 6), which chronyd has spoken since 2.x.
 */
#include "chrony_client.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cm_util.h"

enum {
  PROTO_VERSION = 6,
  PKT_REQUEST = 1,
  PKT_REPLY = 2,
  REQ_TRACKING = 33,
  RPY_TRACKING = 5,
  REPLY_HEADER_LEN = 28,
  FLOAT_EXP_BITS = 7,
  FLOAT_COEF_BITS = 25,
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
static void put32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff;
}

double cm_chrony_float_decode(uint32_t x) {
  /* Both fields are two's complement: the exponent in the top 7 bits, the coefficient (no
   * hidden bit) in the low 25; value = coef * 2^(exp - 25). */
  int32_t exp = (int32_t)(x >> FLOAT_COEF_BITS);
  if (exp >= 1 << (FLOAT_EXP_BITS - 1)) exp -= 1 << FLOAT_EXP_BITS;
  int32_t coef = (int32_t)(x & ((1u << FLOAT_COEF_BITS) - 1));
  if (coef >= 1 << (FLOAT_COEF_BITS - 1)) coef -= 1 << FLOAT_COEF_BITS;
  return ldexp((double)coef, exp - FLOAT_COEF_BITS);
}

void cm_chrony_build_tracking_request(uint8_t *buf, uint32_t sequence) {
  /* Header: version, pkt_type, res1, res2, command, attempt, sequence, pad1, pad2; then zero
   * padding up to the reply's length, which chronyd requires (it refuses to answer with more
   * bytes than it was sent, so that it cannot be used as an amplifier). */
  memset(buf, 0, CM_CHRONY_TRACKING_LEN);
  buf[0] = PROTO_VERSION;
  buf[1] = PKT_REQUEST;
  put16(buf + 4, REQ_TRACKING);
  put16(buf + 6, 0);
  put32(buf + 8, sequence);
}

static const char *status_text(unsigned status) {
  switch (status) {
  case 1: return "failed";
  case 2: return "unauthorised";
  case 3: return "invalid command";
  case 18: return "bad protocol version";
  case 19: return "bad packet length";
  default: return "error";
  }
}

int cm_chrony_parse_tracking(const uint8_t *b, size_t n, uint32_t sequence, cm_chrony_row *out) {
  if (n < REPLY_HEADER_LEN)
    return cm_set_error("chronyd reply too short (%zu bytes)", n);
  if (b[0] != PROTO_VERSION || b[1] != PKT_REPLY)
    return cm_set_error("chronyd reply has protocol version %u type %u (expected 6, 2)", b[0], b[1]);
  if (get32(b + 16) != sequence)
    return cm_set_error("chronyd reply answers another request (sequence %u, expected %u)",
                        get32(b + 16), sequence);
  unsigned status = get16(b + 8);
  if (status != 0)
    return cm_set_error("chronyd refused the tracking request: status %u (%s)", status,
                        status_text(status));
  if (get16(b + 4) != REQ_TRACKING || get16(b + 6) != RPY_TRACKING)
    return cm_set_error("chronyd reply is not a tracking reply (command %u, reply %u)",
                        get16(b + 4), get16(b + 6));
  if (n < CM_CHRONY_TRACKING_LEN)
    return cm_set_error("chronyd tracking reply too short (%zu of %d bytes)", n,
                        CM_CHRONY_TRACKING_LEN);
  memset(out, 0, sizeof *out);
  out->ref_id = get32(b + 28);
  /* 32..51: the reference's IP address; not stored (ref_id identifies it). */
  out->stratum = get16(b + 52);
  out->leap_status = get16(b + 54);
  uint32_t sec_high = get32(b + 56), sec_low = get32(b + 60), nsec = get32(b + 64);
  if (sec_high == 0x7fffffff) sec_high = 0; /* TV_NOHIGHSEC: a 32-bit timestamp */
  int64_t sec = (int64_t)((uint64_t)sec_high << 32 | sec_low);
  out->ref_time_ns = sec * 1000000000LL + (nsec < 1000000000u ? (int64_t)nsec : 0);
  double *dst[9] = {&out->current_correction, &out->last_offset, &out->rms_offset,
                    &out->freq_ppm, &out->resid_freq_ppm, &out->skew_ppm,
                    &out->root_delay, &out->root_dispersion, &out->last_update_interval};
  for (int i = 0; i < 9; i++) *dst[i] = cm_chrony_float_decode(get32(b + 68 + 4 * i));
  return 0;
}

/* Bind a datagram socket to a fresh path: in the server socket's folder when we may write
 * there (as chronyc does), else in $TMPDIR. */
static int bind_client_socket(int fd, const char *server_path, char *bound, size_t cap) {
  static unsigned counter;
  const char *slash = strrchr(server_path, '/');
  char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
  const char *tmp = getenv("TMPDIR");
  const char *dirs[2] = {NULL, tmp && *tmp ? tmp : "/tmp"};
  if (slash && (size_t)(slash - server_path) < sizeof dir) {
    memcpy(dir, server_path, slash - server_path);
    dir[slash - server_path] = 0;
    dirs[0] = slash == server_path ? "/" : dir;
  }
  int last_errno = 0;
  for (int i = 0; i < 2; i++) {
    if (!dirs[i]) continue;
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int len = snprintf(a.sun_path, sizeof a.sun_path, "%s/cmact-chrony.%d.%u.sock", dirs[i],
                       (int)getpid(), counter++);
    if (len < 0 || (size_t)len >= sizeof a.sun_path) continue;
    unlink(a.sun_path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0) {
      /* chronyd may run as its own user: let it send to us. */
      chmod(a.sun_path, 0666);
      snprintf(bound, cap, "%s", a.sun_path);
      return 0;
    }
    last_errno = errno;
  }
  return cm_set_error("chrony socket %s: cannot bind a reply socket: %s", server_path,
                      strerror(last_errno));
}

int cm_chrony_tracking(const char *socket_path, int timeout_ms, cm_chrony_row *out) {
  if (!socket_path || !*socket_path) socket_path = CM_CHRONY_DEFAULT_SOCKET;
  struct sockaddr_un srv = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof srv.sun_path)
    return cm_set_error("chrony socket %s: path too long", socket_path);
  strcpy(srv.sun_path, socket_path);

  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return cm_set_error("chrony socket %s: %s", socket_path, strerror(errno));
  char bound[sizeof srv.sun_path] = "";
  int rc = -1;
  if (bind_client_socket(fd, socket_path, bound, sizeof bound) < 0) goto done;
  if (connect(fd, (struct sockaddr *)&srv, sizeof srv) < 0) {
    cm_set_error("chrony socket %s: %s (is chronyd running?)", socket_path, strerror(errno));
    goto done;
  }
  uint32_t seq = (uint32_t)(cm_monotonic_ns() ^ ((uint64_t)getpid() << 16));
  uint8_t req[CM_CHRONY_TRACKING_LEN];
  cm_chrony_build_tracking_request(req, seq);
  int64_t t_sent = cm_realtime_ns();
  if (send(fd, req, sizeof req, 0) != (ssize_t)sizeof req) {
    cm_set_error("chrony socket %s: send: %s", socket_path, strerror(errno));
    goto done;
  }
  int64_t deadline = cm_monotonic_ns() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    int64_t left_ms = (deadline - cm_monotonic_ns()) / 1000000;
    if (left_ms <= 0) {
      cm_set_error("chrony socket %s: no answer within %d ms", socket_path, timeout_ms);
      goto done;
    }
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int pr = poll(&p, 1, (int)left_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) {
      cm_set_error("chrony socket %s: poll: %s", socket_path, strerror(errno));
      goto done;
    }
    if (pr == 0) continue;
    uint8_t reply[512];
    ssize_t got = recv(fd, reply, sizeof reply, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      cm_set_error("chrony socket %s: %s", socket_path, strerror(errno));
      goto done;
    }
    int64_t t_recv = cm_realtime_ns();
    /* A stale reply to an earlier request of ours would carry another sequence: skip it. */
    if (got >= 20 && got >= REPLY_HEADER_LEN && get32(reply + 16) != seq) continue;
    if (cm_chrony_parse_tracking(reply, (size_t)got, seq, out) < 0) {
      cm_prefix_error("chrony socket %s", socket_path);
      goto done;
    }
    out->t_host_ns = t_sent + (t_recv - t_sent) / 2;
    rc = 0;
    break;
  }
done:
  close(fd);
  if (*bound) unlink(bound);
  return rc;
}
