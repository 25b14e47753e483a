/*
 * Polar PMD over GATT (see ble_pmd.h). The order follows what Polar's SDK does before a stream
 * starts: MTU exchange (the sensor refuses to stream over a small MTU), discovery, indications
 * on the control point and notifications on the data characteristic, the feature read, then
 * per stream "get settings" and "start" with one value per setting.
 */
#include "ble_pmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "pmd_decode.h"

void cm_ble_pmd_opts_default(cm_ble_pmd_opts *o) {
  o->acc_rate = 52;
  o->gyro_rate = 52;
  o->acc_range = 0;
  o->gyro_range = 0;
  o->want_gyro = 1;
}

static void on_notify(void *ctx, uint16_t handle, const uint8_t *v, size_t n, int ind, int64_t t) {
  cm_ble_pmd *p = ctx;
  if (handle == p->data && n >= 1) {
    int meas = v[0] & 0x3F;
    int k = meas == CM_PMD_ACC ? 0 : meas == CM_PMD_GYRO ? 1 : -1;
    if (p->frame_cb) p->frame_cb(p->ctx, v, n, k >= 0 ? p->rate[k] : 0, k >= 0 ? p->factor[k] : 1.0f, t);
  } else if (handle == p->cp && n >= 1 && v[0] == CM_PMD_CP_MEASUREMENT_STOPPED && p->note_cb) {
    char what[64];
    snprintf(what, sizeof what, "sensor stopped measurement type %d", n > 1 ? v[1] : -1);
    p->note_cb(p->ctx, what, t);
  }
}

/* The offered value nearest to `want` (the largest when want <= 0). */
static uint32_t pick(const cm_pmd_settings *s, int type, int want) {
  uint32_t best = 0;
  for (int i = 0; i < s->n[type]; i++) {
    uint32_t v = s->v[type][i];
    if (i == 0) best = v;
    else if (want <= 0) best = v > best ? v : best;
    else if (labs((long)v - want) < labs((long)best - want)) best = v;
  }
  return best;
}

static int control(cm_ble_pmd *p, const uint8_t *cmd, size_t n, cm_pmd_cp_response *r,
                   uint8_t *buf, size_t cap) {
  size_t got;
  if (cm_gatt_write_await_indication(&p->gatt, p->cp, cmd, n, p->cp, buf, cap, &got) < 0) return -1;
  if (cm_pmd_cp_parse_response(buf, got, r) < 0) return -1;
  if (r->op != cmd[0]) return cm_set_error("control point answered op %d to op %d", r->op, cmd[0]);
  return 0;
}

static int start_stream(cm_ble_pmd *p, int meas, int rate, int range) {
  int k = meas == CM_PMD_ACC ? 0 : 1;
  const char *name = k ? "GYRO" : "ACC";
  uint8_t cmd[32], buf[ATT_MAX_MTU];
  cm_pmd_cp_response r;
  if (control(p, cmd, cm_pmd_cmd_get_settings(cmd, meas), &r, buf, sizeof buf) < 0) return -1;
  if (r.status != 0)
    return cm_set_error("%s settings: %s", name, cm_pmd_status_name(r.status));
  cm_pmd_settings s;
  if (cm_pmd_settings_parse(r.params, r.n_params, &s) < 0) return -1;
  cm_pmd_selection sel = {(int)pick(&s, CM_PMD_SET_SAMPLE_RATE, rate),
                          (int)pick(&s, CM_PMD_SET_RESOLUTION, 0),
                          (int)pick(&s, CM_PMD_SET_RANGE, range),
                          (int)pick(&s, CM_PMD_SET_CHANNELS, 0)};
  if (sel.sample_rate <= 0) return cm_set_error("%s: the sensor offers no sample rate", name);
  size_t n = cm_pmd_cmd_start(cmd, meas, &sel);
  if (control(p, cmd, n, &r, buf, sizeof buf) < 0) return -1;
  /* "already in state": a stream left running by an earlier connection is fine */
  if (r.status != 0 && r.status != 6)
    return cm_set_error("start %s at %d Hz: %s", name, sel.sample_rate, cm_pmd_status_name(r.status));
  cm_pmd_settings got;
  p->factor[k] = 1.0f;
  if (r.n_params && cm_pmd_settings_parse(r.params, r.n_params, &got) == 0)
    p->factor[k] = cm_pmd_settings_factor(&got);
  p->rate[k] = sel.sample_rate;
  p->started[k] = 1;
  snprintf(p->settings_text[k], sizeof p->settings_text[k], "%s %d Hz, %d bit, range %d, factor %g",
           name, sel.sample_rate, sel.resolution, sel.range, (double)p->factor[k]);
  return 0;
}

int cm_ble_pmd_start(cm_ble_pmd *p, int fd, const cm_ble_pmd_opts *o, int timeout_ms,
                     cm_ble_pmd_frame_cb frame_cb, cm_ble_pmd_note_cb note_cb, void *ctx) {
  memset(p, 0, sizeof *p);
  p->frame_cb = frame_cb;
  p->note_cb = note_cb;
  p->ctx = ctx;
  cm_gatt_init(&p->gatt, fd, timeout_ms, on_notify, p);
  if (cm_gatt_exchange_mtu(&p->gatt, ATT_MAX_MTU) < 0) return -1;
  uint16_t start, end, cp_cccd, data_cccd;
  if (cm_gatt_find_service(&p->gatt, cm_pmd_service_uuid, &start, &end) < 0) return -1;
  att_char cp, data;
  if (cm_gatt_find_char(&p->gatt, start, end, cm_pmd_cp_uuid, &cp, &cp_cccd) < 0) return -1;
  if (cm_gatt_find_char(&p->gatt, start, end, cm_pmd_data_uuid, &data, &data_cccd) < 0) return -1;
  if (!cp_cccd || !data_cccd) return cm_set_error("PMD characteristics without a CCCD");
  p->cp = cp.value_handle;
  p->data = data.value_handle;
  const uint8_t indicate[2] = {0x02, 0x00}, notify[2] = {0x01, 0x00};
  if (cm_gatt_write(&p->gatt, cp_cccd, indicate, 2) < 0) return -1;
  if (cm_gatt_write(&p->gatt, data_cccd, notify, 2) < 0) return -1;
  uint8_t feat[32];
  size_t nf;
  if (cm_gatt_read(&p->gatt, p->cp, feat, sizeof feat, &nf) < 0) return -1;
  p->features = cm_pmd_parse_features(feat, nf);
  if (p->features < 0) return -1;
  if (!(p->features & (1 << CM_PMD_ACC))) return cm_set_error("the sensor offers no ACC stream");
  if (start_stream(p, CM_PMD_ACC, o->acc_rate, o->acc_range) < 0) return -1;
  if (o->want_gyro && (p->features & (1 << CM_PMD_GYRO)))
    if (start_stream(p, CM_PMD_GYRO, o->gyro_rate, o->gyro_range) < 0) return -1;
  return 0;
}

int cm_ble_pmd_pump(cm_ble_pmd *p, int timeout_ms) { return cm_gatt_pump(&p->gatt, timeout_ms); }

void cm_ble_pmd_stop(cm_ble_pmd *p) {
  uint8_t cmd[4], buf[ATT_MAX_MTU];
  cm_pmd_cp_response r;
  const int meas[2] = {CM_PMD_ACC, CM_PMD_GYRO};
  for (int k = 0; k < 2; k++)
    if (p->started[k]) {
      (void)control(p, cmd, cm_pmd_cmd_stop(cmd, meas[k]), &r, buf, sizeof buf);
      p->started[k] = 0;
    }
}
