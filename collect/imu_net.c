/*
 * UDP and TCP receivers for IMU wire envelopes (see imu_net.h).
 *
 * UDP: recvmsg() with SO_TIMESTAMPNS; every whole envelope in the datagram is delivered; bytes
 * that do not parse end that datagram's processing and are counted. TCP: a listening socket
 * and at most one connected bridge; bytes collect in a buffer and whole envelopes are
 * delivered as they complete; a bad magic closes the connection (framing is lost) and the
 * receiver waits for the bridge to connect again.
 */
#include "imu_net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cm_util.h"

#define TCP_BUF (2 * (CM_IMU_WIRE_HEADER + CM_IMU_WIRE_MAX_PMD))

struct cm_imu_net {
  int is_tcp;
  int fd;      /* UDP socket or TCP listener */
  int conn;    /* TCP: connected bridge or -1 */
  int port;
  char peer[64];
  cm_imu_net_cb cb;
  cm_imu_net_link_cb link_cb;
  void *ctx;
  uint8_t *buf;
  size_t fill;
  int64_t bad_bytes;
};

cm_imu_net *cm_imu_net_open(int is_tcp, const char *host, int port, cm_imu_net_cb cb,
                            cm_imu_net_link_cb link_cb, void *ctx) {
  struct addrinfo hints = {0}, *ai = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = is_tcp ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  int rc = getaddrinfo(host && *host ? host : NULL, ps, &hints, &ai);
  if (rc != 0) {
    cm_set_error("%s:%d: %s", host, port, gai_strerror(rc));
    return NULL;
  }
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    cm_set_error("%s:%d: socket: %s", host, port, strerror(errno));
    freeaddrinfo(ai);
    return NULL;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (!is_tcp) {
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    int rcvbuf = 4 << 20; /* two sensors for seconds of a stalled recorder */
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || (is_tcp && listen(fd, 4) < 0)) {
    cm_set_error("%s %s:%d: %s", is_tcp ? "tcp" : "udp", host, port, strerror(errno));
    close(fd);
    freeaddrinfo(ai);
    return NULL;
  }
  freeaddrinfo(ai);
  cm_imu_net *n = cm_xcalloc(1, sizeof *n);
  n->is_tcp = is_tcp;
  n->fd = fd;
  n->conn = -1;
  n->cb = cb;
  n->link_cb = link_cb;
  n->ctx = ctx;
  n->buf = cm_xmalloc(is_tcp ? TCP_BUF : 65536);
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  getsockname(fd, (struct sockaddr *)&ss, &sl);
  n->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
  return n;
}

int cm_imu_net_port(const cm_imu_net *n) { return n->port; }
int64_t cm_imu_net_bad_bytes(const cm_imu_net *n) { return n->bad_bytes; }

/* Deliver the whole envelopes at the start of buf; returns the bytes consumed, or -1 after
 * bytes that are not an envelope (their count is added to bad_bytes by the caller). */
static long deliver(cm_imu_net *n, const uint8_t *buf, size_t len, int64_t t_host) {
  size_t off = 0;
  while (off < len) {
    cm_imu_envelope env;
    long k = cm_imu_wire_decode(buf + off, len - off, &env);
    if (k < 0) return -1;
    if (k == 0) break;
    n->cb(n->ctx, &env, t_host);
    off += (size_t)k;
  }
  return (long)off;
}

static int poll_udp(cm_imu_net *n) {
  for (;;) {
    struct iovec iov = {n->buf, 65536};
    char cbuf[CMSG_SPACE(sizeof(struct timespec))];
    struct msghdr msg = {0};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    ssize_t r = recvmsg(n->fd, &msg, MSG_DONTWAIT);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
      return cm_set_error("udp port %d: %s", n->port, strerror(errno));
    }
    int64_t t_host = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof ts);
        t_host = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
      }
    if (!t_host) t_host = cm_realtime_ns();
    long used = deliver(n, n->buf, (size_t)r, t_host);
    if (used < 0) n->bad_bytes += r;
    else n->bad_bytes += r - used; /* a datagram ending in half an envelope */
  }
}

static void drop_conn(cm_imu_net *n) {
  close(n->conn);
  n->conn = -1;
  n->fill = 0;
  if (n->link_cb) n->link_cb(n->ctx, 0, n->peer, cm_realtime_ns());
}

static int poll_tcp(cm_imu_net *n, short listen_ev, short conn_ev) {
  if (listen_ev & POLLIN) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int c = accept(n->fd, (struct sockaddr *)&ss, &sl);
    if (c >= 0) fcntl(c, F_SETFD, FD_CLOEXEC);
    if (c >= 0) {
      if (n->conn >= 0) {
        close(c); /* one bridge per source: the first one keeps the line */
      } else {
        n->conn = c;
        char host[48] = "?";
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, NULL, 0, NI_NUMERICHOST);
        snprintf(n->peer, sizeof n->peer, "%s", host);
        if (n->link_cb) n->link_cb(n->ctx, 1, n->peer, cm_realtime_ns());
      }
    }
  }
  if (n->conn >= 0 && (conn_ev & (POLLIN | POLLHUP | POLLERR))) {
    ssize_t r = read(n->conn, n->buf + n->fill, TCP_BUF - n->fill);
    if (r <= 0) {
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
      drop_conn(n);
      return 0;
    }
    n->fill += (size_t)r;
    long used = deliver(n, n->buf, n->fill, cm_realtime_ns());
    if (used < 0) {
      n->bad_bytes += n->fill;
      drop_conn(n);
      return 0;
    }
    memmove(n->buf, n->buf + used, n->fill - (size_t)used);
    n->fill -= (size_t)used;
  }
  return 0;
}

int cm_imu_net_poll(cm_imu_net *n, int timeout_ms) {
  struct pollfd p[2] = {{n->fd, POLLIN, 0}, {n->conn, POLLIN, 0}};
  int np = n->is_tcp && n->conn >= 0 ? 2 : 1;
  int r = poll(p, np, timeout_ms);
  if (r < 0) return errno == EINTR ? 0 : cm_set_error("poll: %s", strerror(errno));
  if (r == 0) return 0;
  if (!n->is_tcp) return poll_udp(n);
  return poll_tcp(n, p[0].revents, np == 2 ? p[1].revents : 0);
}

void cm_imu_net_close(cm_imu_net *n) {
  if (!n) return;
  if (n->conn >= 0) close(n->conn);
  close(n->fd);
  free(n->buf);
  free(n);
}
