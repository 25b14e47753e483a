/*
 * GATT client over an ATT bearer descriptor (see ble_gatt.h).
 *
 * One receive loop, recv_pdu(), serves every wait: it reads one PDU, delivers notifications
 * and indications (confirming the latter), answers the one request a server may send us (MTU
 * exchange), and returns anything else to the request that is waiting for it.
 */
#include "ble_gatt.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cm_util.h"

void cm_gatt_init(cm_gatt *g, int fd, int timeout_ms, cm_gatt_notify_cb cb, void *ctx) {
  memset(g, 0, sizeof *g);
  g->fd = fd;
  g->mtu = ATT_DEFAULT_LE_MTU;
  g->timeout_ms = timeout_ms;
  g->cb = cb;
  g->ctx = ctx;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one); /* best effort */
}

static int send_pdu(cm_gatt *g, const uint8_t *p, size_t n) {
  if (n > g->mtu) return cm_set_error("ATT: PDU of %zu bytes exceeds the MTU %u", n, g->mtu);
  ssize_t w = send(g->fd, p, n, MSG_NOSIGNAL);
  if (w != (ssize_t)n) return cm_set_error("ATT send: %s", w < 0 ? strerror(errno) : "short write");
  return 0;
}

/* Read one PDU, waiting up to timeout_ms. Returns its length, 0 on timeout, -1 when the link
 * is gone. Notifications and indications are delivered here and reported as length 0 with
 * *handled set. */
static long recv_pdu(cm_gatt *g, int timeout_ms, int *handled) {
  *handled = 0;
  struct pollfd p = {g->fd, POLLIN, 0};
  int r = poll(&p, 1, timeout_ms);
  if (r < 0) return errno == EINTR ? 0 : cm_set_error("ATT poll: %s", strerror(errno));
  if (r == 0) return 0;
  struct iovec iov = {g->rx, sizeof g->rx};
  char cbuf[CMSG_SPACE(sizeof(struct timespec))];
  struct msghdr msg = {0};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n = recvmsg(g->fd, &msg, 0);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return 0;
    return cm_set_error("ATT receive: %s", strerror(errno));
  }
  if (n == 0) return cm_set_error("ATT: the sensor closed the link");
  int64_t t_host = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      t_host = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
  if (!t_host) t_host = cm_realtime_ns();
  uint8_t op = g->rx[0];
  if (op == ATT_NOTIFY || op == ATT_INDICATE) {
    uint16_t h;
    const uint8_t *v;
    size_t nv;
    *handled = 1;
    if (att_dec_handle_value(g->rx, (size_t)n, &h, &v, &nv) < 0) return 0; /* ignore junk */
    if (op == ATT_INDICATE) {
      uint8_t c[1];
      if (send_pdu(g, c, att_enc_confirm(c)) < 0) return -1;
    }
    if (op == ATT_INDICATE && g->want_ind_handle && h == g->want_ind_handle && !g->got_ind) {
      memcpy(g->ind, v, nv);
      g->n_ind = nv;
      g->got_ind = 1;
    } else if (g->cb) {
      g->cb(g->ctx, h, v, nv, op == ATT_INDICATE, t_host);
    }
    return 0;
  }
  if (op == ATT_MTU_REQ && n == 3) { /* the server may ask too; answer with ours */
    *handled = 1;
    uint8_t rsp[3] = {ATT_MTU_RSP, (uint8_t)g->mtu, (uint8_t)(g->mtu >> 8)};
    if (send(g->fd, rsp, 3, MSG_NOSIGNAL) != 3) return cm_set_error("ATT send: %s", strerror(errno));
    return 0;
  }
  return (long)n;
}

/* Send a request and wait for its response (or an error response to it). */
static long transact(cm_gatt *g, size_t n_req, uint8_t rsp_op, const char *what) {
  uint8_t req_op = g->tx[0];
  if (send_pdu(g, g->tx, n_req) < 0) return -1;
  int64_t deadline = cm_monotonic_ns() + (int64_t)g->timeout_ms * 1000000;
  for (;;) {
    int64_t left = (deadline - cm_monotonic_ns()) / 1000000;
    if (left <= 0) return cm_set_error("ATT %s: no response within %d ms", what, g->timeout_ms);
    int handled;
    long n = recv_pdu(g, (int)left, &handled);
    if (n < 0) return -1;
    if (n == 0) continue;
    if (g->rx[0] == rsp_op) return n;
    att_error e;
    if (g->rx[0] == ATT_ERROR_RSP && att_dec_error(g->rx, (size_t)n, &e) == 0 && e.req_opcode == req_op) {
      cm_set_error("ATT %s: %s (0x%02X) at handle 0x%04X", what, att_error_name(e.code), e.code, e.handle);
      return -(1000 + e.code); /* lets a caller tell "attribute not found" from failure */
    }
    /* anything else is stale or unsolicited: ignore it and keep waiting */
  }
}

int cm_gatt_exchange_mtu(cm_gatt *g, uint16_t want) {
  long n = transact(g, att_enc_mtu_req(g->tx, want), ATT_MTU_RSP, "MTU exchange");
  if (n < 0) return -1;
  uint16_t server;
  if (att_dec_mtu_rsp(g->rx, (size_t)n, &server) < 0) return -1;
  g->mtu = server < want ? server : want;
  return 0;
}

int cm_gatt_find_service(cm_gatt *g, const uint8_t uuid[16], uint16_t *start, uint16_t *end) {
  long n = transact(g, att_enc_find_by_type_req(g->tx, 1, 0xFFFF, GATT_PRIMARY_SERVICE, uuid, 16),
                    ATT_FIND_BY_TYPE_RSP, "service discovery");
  if (n == -(1000 + ATT_ECODE_ATTR_NOT_FOUND)) return cm_set_error("the sensor has no PMD service");
  if (n < 0) return -1;
  att_range r[8];
  size_t count;
  if (att_dec_find_by_type_rsp(g->rx, (size_t)n, r, 8, &count) < 0) return -1;
  *start = r[0].start;
  *end = r[0].end;
  return 0;
}

int cm_gatt_find_char(cm_gatt *g, uint16_t start, uint16_t end, const uint8_t uuid[16],
                      att_char *out, uint16_t *cccd) {
  int found = 0;
  uint16_t next_decl = 0; /* the declaration after ours bounds our descriptors */
  uint32_t at = start;
  while (at <= end && !(found && next_decl)) {
    long n = transact(g, att_enc_read_by_type_req(g->tx, (uint16_t)at, end, GATT_CHARACTERISTIC),
                      ATT_READ_BY_TYPE_RSP, "characteristic discovery");
    if (n == -(1000 + ATT_ECODE_ATTR_NOT_FOUND)) break;
    if (n < 0) return -1;
    att_char c[32];
    size_t count;
    if (att_dec_char_decls(g->rx, (size_t)n, c, 32, &count) < 0) return -1;
    if (count == 0) break;
    for (size_t i = 0; i < count; i++) {
      if (found && !next_decl) next_decl = c[i].decl_handle;
      if (!found && att_uuid_eq128(&c[i].uuid, uuid)) {
        *out = c[i];
        found = 1;
      }
    }
    if (c[count - 1].value_handle <= at) return cm_set_error("ATT: characteristic discovery does not advance");
    at = (uint32_t)c[count - 1].value_handle + 1;
  }
  if (!found) return cm_set_error("the PMD service lacks a characteristic it needs");
  *cccd = 0;
  uint32_t dstart = (uint32_t)out->value_handle + 1, dend = next_decl ? (uint32_t)next_decl - 1 : end;
  while (dstart <= dend) {
    long n = transact(g, att_enc_find_info_req(g->tx, (uint16_t)dstart, (uint16_t)dend),
                      ATT_FIND_INFO_RSP, "descriptor discovery");
    if (n == -(1000 + ATT_ECODE_ATTR_NOT_FOUND)) break;
    if (n < 0) return -1;
    att_info info[32];
    size_t count;
    if (att_dec_find_info_rsp(g->rx, (size_t)n, info, 32, &count) < 0) return -1;
    for (size_t i = 0; i < count; i++)
      if (att_uuid_is16(&info[i].uuid, GATT_CCCD)) {
        *cccd = info[i].handle;
        return 0;
      }
    if (count == 0 || info[count - 1].handle < dstart) break;
    dstart = (uint32_t)info[count - 1].handle + 1;
  }
  return 0;
}

int cm_gatt_write(cm_gatt *g, uint16_t handle, const uint8_t *value, size_t n) {
  if (3 + n > g->mtu) return cm_set_error("ATT write of %zu bytes exceeds the MTU %u", n, g->mtu);
  return transact(g, att_enc_write_req(g->tx, handle, value, n), ATT_WRITE_RSP, "write") < 0 ? -1 : 0;
}

int cm_gatt_read(cm_gatt *g, uint16_t handle, uint8_t *out, size_t cap, size_t *n_out) {
  long n = transact(g, att_enc_read_req(g->tx, handle), ATT_READ_RSP, "read");
  if (n < 0) return -1;
  *n_out = (size_t)n - 1 < cap ? (size_t)n - 1 : cap;
  memcpy(out, g->rx + 1, *n_out);
  return 0;
}

int cm_gatt_write_await_indication(cm_gatt *g, uint16_t handle, const uint8_t *value, size_t n,
                                   uint16_t ind_handle, uint8_t *out, size_t cap, size_t *n_out) {
  g->want_ind_handle = ind_handle;
  g->got_ind = 0;
  int rc = cm_gatt_write(g, handle, value, n);
  int64_t deadline = cm_monotonic_ns() + (int64_t)g->timeout_ms * 1000000;
  while (rc == 0 && !g->got_ind) {
    int64_t left = (deadline - cm_monotonic_ns()) / 1000000;
    if (left <= 0) {
      rc = cm_set_error("control point: no answer within %d ms", g->timeout_ms);
      break;
    }
    int handled;
    if (recv_pdu(g, (int)left, &handled) < 0) rc = -1;
  }
  g->want_ind_handle = 0;
  if (rc < 0) return -1;
  *n_out = g->n_ind < cap ? g->n_ind : cap;
  memcpy(out, g->ind, *n_out);
  return 0;
}

int cm_gatt_pump(cm_gatt *g, int timeout_ms) {
  int64_t deadline = cm_monotonic_ns() + (int64_t)timeout_ms * 1000000;
  for (;;) {
    int64_t left = (deadline - cm_monotonic_ns()) / 1000000;
    int handled;
    long n = recv_pdu(g, left > 0 ? (int)left : 0, &handled);
    if (n < 0) return -1;
    if (n == 0 && !handled) return 0; /* timed out */
    if (left <= 0) return 0;
  }
}
