/*
 * libFuzzer target: everything else that parses bytes from a peer on the IMU path — the ATT
 * response and notification decoders, the network wire envelope, and the stream tracker
 * behind them (sequence bookkeeping, time checks, ACC/GYRO pairing) fed a whole session's
 * worth of envelopes cut from the input. Asserts the tracker's promise that every sample it
 * decoded comes out in exactly one row, and that a row holds one or two samples.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ble_att.h"
#include "imu_stream.h"
#include "imu_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint16_t mtu, h;
  const uint8_t *v;
  size_t n, nv;
  att_error e;
  att_range r[8];
  att_char c[8];
  att_info in[8];
  (void)att_dec_mtu_rsp(data, size, &mtu);
  (void)att_dec_error(data, size, &e);
  (void)att_dec_find_by_type_rsp(data, size, r, 8, &n);
  (void)att_dec_char_decls(data, size, c, 8, &n);
  (void)att_dec_find_info_rsp(data, size, in, 8, &n);
  (void)att_dec_handle_value(data, size, &h, &v, &nv);

  cm_imu_tracker *t = cm_imu_tracker_new("fuzz", NULL);
  int64_t host = 1700000000000000000LL;
  size_t off = 0;
  while (off < size) {
    cm_imu_envelope env;
    long k = cm_imu_wire_decode(data + off, size - off, &env);
    if (k <= 0) break;
    cm_imu_tracker_frame(t, env.pmd, env.n_pmd, !(env.sensor_id & 1), env.seq, env.sample_rate,
                         env.factor, host);
    if (env.sensor_id & 2) cm_imu_tracker_link_lost(t);
    host += 1000000LL * (env.sensor_id >> 2);
    cm_imu_tracker_tick(t, host);
    off += (size_t)k;
  }
  cm_imu_tracker_finish(t, host + 2000000000LL);
  const cm_imu_stats *st = cm_imu_tracker_stats(t);
  /* every decoded sample is in exactly one row, and a row holds one or two samples */
  if (st->rows > st->samples || 2 * st->rows < st->samples) abort();
  cm_imu_row rows[64];
  int64_t taken = 0;
  size_t got;
  while ((got = cm_imu_tracker_take_rows(t, rows, 64)) > 0) taken += (int64_t)got;
  if (taken != st->rows) abort();
  cm_event_row ev[16];
  while (cm_imu_tracker_take_events(t, ev, 16) > 0) {
  }
  cm_imu_tracker_free(t);
  return 0;
}
