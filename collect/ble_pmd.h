/*
 * A Polar sensor's PMD service driven over a GATT client (ble_gatt.h): find the service and its
 * control point and data characteristics, enable their indications and notifications, read
 * the feature bitmap, ask each wanted stream (ACC, GYRO) for its settings, pick the closest
 * ones to what the user asked for, start it and keep the FACTOR the sensor answers with.
 * Afterwards, every data notification reaches the frame callback together with the rate and
 * factor of its stream.
 */
#ifndef CM_BLE_PMD_H
#define CM_BLE_PMD_H

#include <stddef.h>
#include <stdint.h>

#include "ble_gatt.h"

typedef void (*cm_ble_pmd_frame_cb)(void *ctx, const uint8_t *pmd, size_t n, double rate,
                                    float factor, int64_t t_host_ns);
/* Control-point news that is not an answer (e.g. the sensor stopped a stream). */
typedef void (*cm_ble_pmd_note_cb)(void *ctx, const char *what, int64_t t_host_ns);

typedef struct {
  int acc_rate, gyro_rate;     /* Hz wanted; the nearest offered is used */
  int acc_range, gyro_range;   /* G and deg/s wanted; 0 = the largest offered */
  int want_gyro;               /* also start GYRO when the sensor has it */
} cm_ble_pmd_opts;

typedef struct {
  cm_gatt gatt;
  uint16_t cp, data;       /* value handles */
  int64_t features;
  int started[2];          /* ACC, GYRO */
  double rate[2];
  float factor[2];
  char settings_text[2][96];
  cm_ble_pmd_frame_cb frame_cb;
  cm_ble_pmd_note_cb note_cb;
  void *ctx;
} cm_ble_pmd;

void cm_ble_pmd_opts_default(cm_ble_pmd_opts *o);
/* Set up and start streaming on a connected ATT bearer. -1 with cm_error() set. */
int cm_ble_pmd_start(cm_ble_pmd *p, int fd, const cm_ble_pmd_opts *o, int timeout_ms,
                     cm_ble_pmd_frame_cb frame_cb, cm_ble_pmd_note_cb note_cb, void *ctx);
/* Deliver notifications for up to timeout_ms; -1 when the link is gone. */
int cm_ble_pmd_pump(cm_ble_pmd *p, int timeout_ms);
/* Stop the started streams (best effort, before closing). */
void cm_ble_pmd_stop(cm_ble_pmd *p);

#endif
