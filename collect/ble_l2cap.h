/*
 * The BLE ATT bearer (L2CAP LE, fixed channel 4) to a sensor, via BlueZ kernel sockets.
 */
#ifndef CM_BLE_L2CAP_H
#define CM_BLE_L2CAP_H

/* Connect to address ("AA:BB:CC:DD:EE:FF"; random_address for a random static address).
 * Returns a blocking SOCK_SEQPACKET descriptor carrying one ATT PDU per message, or -1 with
 * cm_error() set. */
int cm_ble_l2cap_connect(const char *address, int random_address, int timeout_ms);

#endif
