/*
 * ATT PDU encoding and decoding (see ble_att.h). Every decoder checks the opcode and every
 * length before reading, since the bytes come from a radio peer.
 */
#include "ble_att.h"

#include <string.h>

#include "cm_util.h"

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

size_t att_enc_mtu_req(uint8_t *buf, uint16_t mtu) {
  buf[0] = ATT_MTU_REQ;
  put16(buf + 1, mtu);
  return 3;
}

size_t att_enc_find_info_req(uint8_t *buf, uint16_t start, uint16_t end) {
  buf[0] = ATT_FIND_INFO_REQ;
  put16(buf + 1, start);
  put16(buf + 3, end);
  return 5;
}

size_t att_enc_find_by_type_req(uint8_t *buf, uint16_t start, uint16_t end, uint16_t type,
                                const uint8_t *value, size_t n_value) {
  buf[0] = ATT_FIND_BY_TYPE_REQ;
  put16(buf + 1, start);
  put16(buf + 3, end);
  put16(buf + 5, type);
  memcpy(buf + 7, value, n_value);
  return 7 + n_value;
}

size_t att_enc_read_by_type_req(uint8_t *buf, uint16_t start, uint16_t end, uint16_t type) {
  buf[0] = ATT_READ_BY_TYPE_REQ;
  put16(buf + 1, start);
  put16(buf + 3, end);
  put16(buf + 5, type);
  return 7;
}

size_t att_enc_read_req(uint8_t *buf, uint16_t handle) {
  buf[0] = ATT_READ_REQ;
  put16(buf + 1, handle);
  return 3;
}

size_t att_enc_write_req(uint8_t *buf, uint16_t handle, const uint8_t *value, size_t n) {
  buf[0] = ATT_WRITE_REQ;
  put16(buf + 1, handle);
  memcpy(buf + 3, value, n);
  return 3 + n;
}

size_t att_enc_confirm(uint8_t *buf) {
  buf[0] = ATT_CONFIRM;
  return 1;
}

int att_dec_error(const uint8_t *p, size_t n, att_error *out) {
  if (n != 5 || p[0] != ATT_ERROR_RSP) return cm_set_error("ATT: not an error response");
  out->req_opcode = p[1];
  out->handle = get16(p + 2);
  out->code = p[4];
  return 0;
}

const char *att_error_name(int code) {
  switch (code) {
  case 0x01: return "invalid handle";
  case 0x02: return "read not permitted";
  case 0x03: return "write not permitted";
  case 0x04: return "invalid PDU";
  case 0x05: return "insufficient authentication";
  case 0x06: return "request not supported";
  case 0x07: return "invalid offset";
  case 0x08: return "insufficient authorization";
  case 0x0A: return "attribute not found";
  case 0x0D: return "invalid attribute value length";
  case 0x0E: return "unlikely error";
  case 0x0F: return "insufficient encryption";
  case 0x11: return "insufficient resources";
  default: return "ATT error";
  }
}

int att_dec_mtu_rsp(const uint8_t *p, size_t n, uint16_t *mtu) {
  if (n != 3 || p[0] != ATT_MTU_RSP) return cm_set_error("ATT: not an MTU response");
  *mtu = get16(p + 1);
  if (*mtu < ATT_DEFAULT_LE_MTU) return cm_set_error("ATT: server MTU %u below 23", *mtu);
  return 0;
}

int att_dec_find_by_type_rsp(const uint8_t *p, size_t n, att_range *out, size_t max, size_t *count) {
  *count = 0;
  if (n < 5 || p[0] != ATT_FIND_BY_TYPE_RSP || (n - 1) % 4 != 0)
    return cm_set_error("ATT: malformed Find By Type Value response (%zu bytes)", n);
  for (size_t off = 1; off + 4 <= n && *count < max; off += 4) {
    out[*count].start = get16(p + off);
    out[*count].end = get16(p + off + 2);
    if (out[*count].start == 0 || out[*count].end < out[*count].start)
      return cm_set_error("ATT: service range %u-%u is not valid", out[*count].start, out[*count].end);
    (*count)++;
  }
  return 0;
}

int att_dec_char_decls(const uint8_t *p, size_t n, att_char *out, size_t max, size_t *count) {
  *count = 0;
  if (n < 2 || p[0] != ATT_READ_BY_TYPE_RSP) return cm_set_error("ATT: not a Read By Type response");
  size_t len = p[1];
  if ((len != 7 && len != 21) || (n - 2) % len != 0)
    return cm_set_error("ATT: characteristic declarations of %zu bytes in %zu", len, n);
  for (size_t off = 2; off + len <= n && *count < max; off += len) {
    att_char *c = &out[(*count)++];
    c->decl_handle = get16(p + off);
    c->props = p[off + 2];
    c->value_handle = get16(p + off + 3);
    c->uuid.len = (uint8_t)(len - 5);
    memcpy(c->uuid.b, p + off + 5, c->uuid.len);
    if (c->decl_handle == 0 || c->value_handle <= c->decl_handle)
      return cm_set_error("ATT: characteristic value handle %u not after its declaration %u",
                          c->value_handle, c->decl_handle);
  }
  return 0;
}

int att_dec_find_info_rsp(const uint8_t *p, size_t n, att_info *out, size_t max, size_t *count) {
  *count = 0;
  if (n < 2 || p[0] != ATT_FIND_INFO_RSP) return cm_set_error("ATT: not a Find Information response");
  size_t ulen = p[1] == 1 ? 2 : p[1] == 2 ? 16 : 0;
  if (!ulen || (n - 2) % (2 + ulen) != 0 || n == 2)
    return cm_set_error("ATT: malformed Find Information response (format %d, %zu bytes)", p[1], n);
  for (size_t off = 2; off + 2 + ulen <= n && *count < max; off += 2 + ulen) {
    att_info *i = &out[(*count)++];
    i->handle = get16(p + off);
    i->uuid.len = (uint8_t)ulen;
    memcpy(i->uuid.b, p + off + 2, ulen);
  }
  return 0;
}

int att_dec_handle_value(const uint8_t *p, size_t n, uint16_t *handle, const uint8_t **value,
                         size_t *n_value) {
  if (n < 3 || (p[0] != ATT_NOTIFY && p[0] != ATT_INDICATE))
    return cm_set_error("ATT: not a notification or indication");
  *handle = get16(p + 1);
  *value = p + 3;
  *n_value = n - 3;
  return 0;
}

int att_uuid_is16(const att_uuid *u, uint16_t v) { return u->len == 2 && get16(u->b) == v; }
int att_uuid_eq128(const att_uuid *u, const uint8_t *b16) {
  return u->len == 16 && memcmp(u->b, b16, 16) == 0;
}
