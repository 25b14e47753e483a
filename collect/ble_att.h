/*
 * ATT (Bluetooth Core Spec vol 3 part F) PDUs that a GATT client needs to drive a Polar PMD
 * sensor, encoded and decoded as plain bytes. No sockets here: ble_gatt.c sends and receives
 * these over an L2CAP LE channel on CID 4 (one ATT PDU per SOCK_SEQPACKET message), and the
 * tests feed recorded PDU sequences through a socketpair standing in for that channel.
 *
 * Multi-byte fields are little-endian; 16-bit UUIDs are the Bluetooth base UUID's short form,
 * 128-bit UUIDs are stored least significant byte first, as on the air.
 */
#ifndef CM_BLE_ATT_H
#define CM_BLE_ATT_H

#include <stddef.h>
#include <stdint.h>

enum {
  ATT_ERROR_RSP = 0x01,
  ATT_MTU_REQ = 0x02, ATT_MTU_RSP = 0x03,
  ATT_FIND_INFO_REQ = 0x04, ATT_FIND_INFO_RSP = 0x05,
  ATT_FIND_BY_TYPE_REQ = 0x06, ATT_FIND_BY_TYPE_RSP = 0x07,
  ATT_READ_BY_TYPE_REQ = 0x08, ATT_READ_BY_TYPE_RSP = 0x09,
  ATT_READ_REQ = 0x0A, ATT_READ_RSP = 0x0B,
  ATT_READ_BY_GROUP_REQ = 0x10, ATT_READ_BY_GROUP_RSP = 0x11,
  ATT_WRITE_REQ = 0x12, ATT_WRITE_RSP = 0x13,
  ATT_WRITE_CMD = 0x52,
  ATT_NOTIFY = 0x1B, ATT_INDICATE = 0x1D, ATT_CONFIRM = 0x1E
};

enum { ATT_ECODE_ATTR_NOT_FOUND = 0x0A };

#define ATT_DEFAULT_LE_MTU 23
#define ATT_MAX_MTU 517
#define GATT_PRIMARY_SERVICE 0x2800
#define GATT_CHARACTERISTIC 0x2803
#define GATT_CCCD 0x2902
/* characteristic properties */
#define GATT_PROP_READ 0x02
#define GATT_PROP_WRITE 0x08
#define GATT_PROP_NOTIFY 0x10
#define GATT_PROP_INDICATE 0x20

/* A UUID as ATT carries it: 2 or 16 bytes, least significant first. */
typedef struct {
  uint8_t len;
  uint8_t b[16];
} att_uuid;

/* Requests; each writes into buf (at least `mtu` bytes) and returns the PDU length. */
size_t att_enc_mtu_req(uint8_t *buf, uint16_t mtu);
size_t att_enc_find_info_req(uint8_t *buf, uint16_t start, uint16_t end);
size_t att_enc_find_by_type_req(uint8_t *buf, uint16_t start, uint16_t end, uint16_t type,
                                const uint8_t *value, size_t n_value);
size_t att_enc_read_by_type_req(uint8_t *buf, uint16_t start, uint16_t end, uint16_t type);
size_t att_enc_read_req(uint8_t *buf, uint16_t handle);
size_t att_enc_write_req(uint8_t *buf, uint16_t handle, const uint8_t *value, size_t n);
size_t att_enc_confirm(uint8_t *buf);

/* Responses and server-initiated PDUs. Each returns 0, or -1 with cm_error() set when the PDU
 * is not of that kind or is malformed. */
typedef struct {
  uint8_t req_opcode;
  uint16_t handle;
  uint8_t code;
} att_error;
int att_dec_error(const uint8_t *p, size_t n, att_error *out);
const char *att_error_name(int code);
int att_dec_mtu_rsp(const uint8_t *p, size_t n, uint16_t *mtu);

/* Find By Type Value response: (found handle, group end) pairs. */
typedef struct {
  uint16_t start, end;
} att_range;
int att_dec_find_by_type_rsp(const uint8_t *p, size_t n, att_range *out, size_t max, size_t *count);

/* Read By Type response to a characteristic-declaration read. */
typedef struct {
  uint16_t decl_handle;
  uint8_t props;
  uint16_t value_handle;
  att_uuid uuid;
} att_char;
int att_dec_char_decls(const uint8_t *p, size_t n, att_char *out, size_t max, size_t *count);

/* Find Information response: (handle, uuid) pairs. */
typedef struct {
  uint16_t handle;
  att_uuid uuid;
} att_info;
int att_dec_find_info_rsp(const uint8_t *p, size_t n, att_info *out, size_t max, size_t *count);

/* Notification or indication: the handle and the value (pointing into p). */
int att_dec_handle_value(const uint8_t *p, size_t n, uint16_t *handle, const uint8_t **value,
                         size_t *n_value);

int att_uuid_is16(const att_uuid *u, uint16_t v);
int att_uuid_eq128(const att_uuid *u, const uint8_t *b16);

#endif
