/*
 * A minimal GATT client over an ATT bearer given as a file descriptor: one ATT PDU per
 * message, as an L2CAP LE socket on CID 4 delivers them (ble_l2cap.c opens one) and as a
 * SOCK_SEQPACKET socketpair does in the tests. Everything above the descriptor is the same
 * code in both cases.
 *
 * Requests are sequential (ATT allows one outstanding request). While the client waits for a
 * response, notifications and indications keep arriving; they are handed to the callback
 * with their arrival time (SO_TIMESTAMPNS when the socket provides it), and indications are
 * confirmed, so streaming data is never lost during a control-point exchange.
 */
#ifndef CM_BLE_GATT_H
#define CM_BLE_GATT_H

#include <stddef.h>
#include <stdint.h>

#include "ble_att.h"

typedef void (*cm_gatt_notify_cb)(void *ctx, uint16_t handle, const uint8_t *value, size_t n,
                                  int indication, int64_t t_host_ns);

typedef struct {
  int fd;
  uint16_t mtu;
  int timeout_ms;
  cm_gatt_notify_cb cb;
  void *ctx;
  /* an indication being waited for (control-point responses) */
  uint16_t want_ind_handle;
  int got_ind;
  uint8_t ind[ATT_MAX_MTU];
  size_t n_ind;
  uint8_t rx[ATT_MAX_MTU + 8];
  uint8_t tx[ATT_MAX_MTU + 8];
} cm_gatt;

void cm_gatt_init(cm_gatt *g, int fd, int timeout_ms, cm_gatt_notify_cb cb, void *ctx);
/* Exchange MTU; g->mtu becomes min(want, server's). */
int cm_gatt_exchange_mtu(cm_gatt *g, uint16_t want);
/* Find a primary service by 128-bit UUID (Find By Type Value). */
int cm_gatt_find_service(cm_gatt *g, const uint8_t uuid[16], uint16_t *start, uint16_t *end);
/* Find a characteristic by 128-bit UUID inside [start, end], and its CCCD handle (0 if none). */
int cm_gatt_find_char(cm_gatt *g, uint16_t start, uint16_t end, const uint8_t uuid[16],
                      att_char *out, uint16_t *cccd);
int cm_gatt_write(cm_gatt *g, uint16_t handle, const uint8_t *value, size_t n);
int cm_gatt_read(cm_gatt *g, uint16_t handle, uint8_t *out, size_t cap, size_t *n);
/* Write a value and wait for the indication it causes on `ind_handle` (a control point). */
int cm_gatt_write_await_indication(cm_gatt *g, uint16_t handle, const uint8_t *value, size_t n,
                                   uint16_t ind_handle, uint8_t *out, size_t cap, size_t *n_out);
/* Receive for up to timeout_ms, delivering notifications. 0 = fine, -1 = the link is gone. */
int cm_gatt_pump(cm_gatt *g, int timeout_ms);

#endif
