/*
 * Opening the ATT bearer to a BLE sensor with BlueZ's kernel sockets (libbluetooth): an
 * L2CAP SOCK_SEQPACKET socket bound to the LE ATT fixed channel (CID 4) and connected to the
 * sensor's address. The kernel's LE connection does the radio work; bluetoothd does not need
 * to run, but if it does it must not hold the sensor (disconnect it in bluetoothctl first).
 *
 * This is the only file that touches AF_BLUETOOTH. On a kernel without Bluetooth (like the
 * build machine), socket() fails with EAFNOSUPPORT and the message says so.
 */
#include "ble_l2cap.h"

#include <bluetooth/bluetooth.h>
#include <bluetooth/l2cap.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cm_util.h"

#define ATT_CID 4

int cm_ble_l2cap_connect(const char *address, int random_address, int timeout_ms) {
  bdaddr_t dst;
  if (str2ba(address, &dst) < 0 || strlen(address) != 17)
    return cm_set_error("ble:%s: not a Bluetooth address (AA:BB:CC:DD:EE:FF)", address);
  int fd = socket(AF_BLUETOOTH, SOCK_SEQPACKET | SOCK_CLOEXEC, BTPROTO_L2CAP);
  if (fd < 0) {
    if (errno == EAFNOSUPPORT)
      return cm_set_error("ble:%s: this kernel has no Bluetooth sockets (EAFNOSUPPORT); "
                          "use a machine with a Bluetooth adapter, or a network bridge (udp:/tcp:)",
                          address);
    return cm_set_error("ble:%s: socket: %s", address, strerror(errno));
  }
  struct sockaddr_l2 src = {0};
  src.l2_family = AF_BLUETOOTH;
  bacpy(&src.l2_bdaddr, BDADDR_ANY);
  src.l2_cid = htobs(ATT_CID);
  src.l2_bdaddr_type = BDADDR_LE_PUBLIC;
  if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) {
    int e = errno;
    close(fd);
    return cm_set_error("ble:%s: bind to the local adapter: %s", address, strerror(e));
  }
  /* Low security: PMD streaming needs no pairing. A sensor that demands it answers with
   * "insufficient authentication"; pair it once with bluetoothctl (see README). */
  struct bt_security sec = {.level = BT_SECURITY_LOW};
  setsockopt(fd, SOL_BLUETOOTH, BT_SECURITY, &sec, sizeof sec);
  struct sockaddr_l2 dst_addr = {0};
  dst_addr.l2_family = AF_BLUETOOTH;
  bacpy(&dst_addr.l2_bdaddr, &dst);
  dst_addr.l2_cid = htobs(ATT_CID);
  dst_addr.l2_bdaddr_type = random_address ? BDADDR_LE_RANDOM : BDADDR_LE_PUBLIC;
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  int rc = connect(fd, (struct sockaddr *)&dst_addr, sizeof dst_addr);
  if (rc < 0 && errno == EINPROGRESS) {
    struct pollfd p = {fd, POLLOUT, 0};
    rc = poll(&p, 1, timeout_ms);
    if (rc == 0) {
      close(fd);
      return cm_set_error("ble:%s: no connection within %d ms (sensor off, out of range, or "
                          "connected to another device?)", address, timeout_ms);
    }
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (rc > 0 && err == 0) rc = 0;
    else {
      errno = err ? err : errno;
      rc = -1;
    }
  }
  if (rc < 0) {
    int e = errno;
    close(fd);
    return cm_set_error("ble:%s: connect: %s", address, strerror(e));
  }
  fcntl(fd, F_SETFL, fl);
  return fd;
}
