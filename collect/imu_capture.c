/*
 * IMU capture sources (API and specs in imu_capture.h).
 *
 * Each source owns one thread that receives (imu_net.c for UDP/TCP, ble_l2cap.c + ble_pmd.c
 * for BLE) and feeds one tracker (imu_stream.c) under the source's mutex; the caller's thread
 * takes rows and events out under the same mutex. The BLE thread reconnects forever with a
 * backoff of 0.5 s doubling to 5 s, and writes the outage as events: "link_lost" when the link
 * drops, "reconnect" (value = seconds without a link) when it is back.
 */
#include "imu_capture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ble_l2cap.h"
#include "ble_pmd.h"
#include "cm_util.h"
#include "imu_net.h"

enum { SRC_BLE = 1, SRC_UDP = 2, SRC_TCP = 3 };

struct cm_imu_source {
  int kind;
  char name[CM_EVENT_STREAM_LEN];
  char device[64], transport[8];
  cm_imu_options o;
  /* BLE */
  char addr[18];
  int random_addr;
  cm_imu_ble_connector connector;
  void *conn_ctx;
  /* network */
  char host[64];
  int port;
  cm_imu_net *net;
  int sensor_filter; /* -1: the first seen */
  int foreign_reported;
  int64_t bad_bytes_reported;
  int tcp_was_up;
  int64_t t_down;
  /* shared */
  pthread_t thread;
  int thread_running;
  atomic_int stop;
  atomic_int connected;
  atomic_llong last_rx;
  pthread_mutex_t mu;
  cm_imu_tracker *trk;
  int finished;
};

void cm_imu_options_default(cm_imu_options *o) {
  memset(o, 0, sizeof *o);
  o->acc_rate = 52;
  o->gyro_rate = 52;
  o->want_gyro = 1;
  o->timeout_ms = 5000;
  cm_imu_tracker_opts_default(&o->tracker);
}

/* ---- spec parsing ---- */

static int parse_spec(const char *spec, cm_imu_source *s) {
  if (!spec) return cm_set_error("IMU source: empty spec");
  if (!strncmp(spec, "ble:", 4)) {
    const char *a = spec + 4;
    const char *slash = strchr(a, '/');
    size_t len = slash ? (size_t)(slash - a) : strlen(a);
    int ok = len == 17;
    for (size_t i = 0; ok && i < 17; i++)
      ok = (i % 3 == 2) ? a[i] == ':' : ((a[i] >= '0' && a[i] <= '9') || ((a[i] | 32) >= 'a' && (a[i] | 32) <= 'f'));
    if (!ok) return cm_set_error("IMU source '%s': expected ble:AA:BB:CC:DD:EE:FF", spec);
    if (slash && strcmp(slash, "/random") != 0)
      return cm_set_error("IMU source '%s': the only BLE suffix is /random", spec);
    if (s) {
      s->kind = SRC_BLE;
      memcpy(s->addr, a, 17);
      s->addr[17] = 0;
      s->random_addr = slash != NULL;
    }
    return 0;
  }
  int is_udp = !strncmp(spec, "udp:", 4), is_tcp = !strncmp(spec, "tcp:", 4);
  if (!is_udp && !is_tcp)
    return cm_set_error("IMU source '%s': expected ble:ADDRESS, udp:HOST:PORT or tcp:HOST:PORT", spec);
  char buf[128];
  snprintf(buf, sizeof buf, "%s", spec + 4);
  long sensor = -1;
  char *slash = strchr(buf, '/');
  if (slash) {
    *slash = 0;
    char *end;
    sensor = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || sensor < 0 || sensor > 255)
      return cm_set_error("IMU source '%s': sensor id after '/' must be 0-255", spec);
  }
  char *colon = strrchr(buf, ':');
  if (!colon) return cm_set_error("IMU source '%s': expected HOST:PORT", spec);
  *colon = 0;
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (*end || end == colon + 1 || port < 0 || port > 65535)
    return cm_set_error("IMU source '%s': port must be 0-65535", spec);
  char *host = buf;
  if (*host == '[') { /* [::1] */
    host++;
    size_t hl = strlen(host);
    if (hl && host[hl - 1] == ']') host[hl - 1] = 0;
  }
  if (s) {
    s->kind = is_udp ? SRC_UDP : SRC_TCP;
    snprintf(s->host, sizeof s->host, "%s", *host ? host : "0.0.0.0");
    s->port = (int)port;
    s->sensor_filter = (int)sensor;
  }
  return 0;
}

int cm_imu_spec_check(const char *spec) { return parse_spec(spec, NULL); }

/* ---- network thread ---- */

static void on_envelope(void *ctx, const cm_imu_envelope *env, int64_t t_host) {
  cm_imu_source *s = ctx;
  pthread_mutex_lock(&s->mu);
  if (s->sensor_filter < 0) s->sensor_filter = env->sensor_id;
  if (env->sensor_id != s->sensor_filter) {
    if (!s->foreign_reported++)
      cm_imu_tracker_event(s->trk, t_host, "foreign_sensor", env->sensor_id,
                           "frames of sensor %d ignored (this stream records sensor %d)",
                           env->sensor_id, s->sensor_filter);
  } else {
    cm_imu_tracker_frame(s->trk, env->pmd, env->n_pmd, 1, env->seq, env->sample_rate,
                         env->factor, t_host);
    atomic_store(&s->last_rx, t_host);
  }
  pthread_mutex_unlock(&s->mu);
}

static void on_tcp_link(void *ctx, int up, const char *peer, int64_t t) {
  cm_imu_source *s = ctx;
  pthread_mutex_lock(&s->mu);
  if (up) {
    if (s->tcp_was_up)
      cm_imu_tracker_event(s->trk, t, "reconnect", (double)(t - s->t_down) / 1e9,
                           "bridge %s connected again after %.3f s", peer, (double)(t - s->t_down) / 1e9);
    else
      cm_imu_tracker_event(s->trk, t, "connected", 0, "bridge %s", peer);
    s->tcp_was_up = 1;
    atomic_store(&s->connected, 1);
  } else {
    cm_imu_tracker_event(s->trk, t, "link_lost", 0, "bridge %s went away", peer);
    cm_imu_tracker_link_lost(s->trk);
    s->t_down = t;
    atomic_store(&s->connected, 0);
  }
  pthread_mutex_unlock(&s->mu);
}

static void *net_thread(void *arg) {
  cm_imu_source *s = arg;
  while (!atomic_load(&s->stop)) {
    int rc = cm_imu_net_poll(s->net, 100);
    int64_t now = cm_realtime_ns();
    pthread_mutex_lock(&s->mu);
    if (rc < 0) {
      cm_imu_tracker_event(s->trk, now, "receive_error", 0, "%s", cm_error());
      pthread_mutex_unlock(&s->mu);
      usleep(100000);
      continue;
    }
    int64_t bad = cm_imu_net_bad_bytes(s->net);
    if (bad > s->bad_bytes_reported) {
      cm_imu_tracker_event(s->trk, now, "bad_bytes", (double)(bad - s->bad_bytes_reported),
                           "bytes that were not cmact IMU envelopes");
      s->bad_bytes_reported = bad;
    }
    cm_imu_tracker_tick(s->trk, now);
    pthread_mutex_unlock(&s->mu);
  }
  return NULL;
}

/* ---- BLE thread ---- */

static void on_ble_frame(void *ctx, const uint8_t *pmd, size_t n, double rate, float factor,
                         int64_t t_host) {
  cm_imu_source *s = ctx;
  pthread_mutex_lock(&s->mu);
  cm_imu_tracker_frame(s->trk, pmd, n, 0, 0, rate, factor, t_host);
  atomic_store(&s->last_rx, t_host);
  pthread_mutex_unlock(&s->mu);
}

static void on_ble_note(void *ctx, const char *what, int64_t t_host) {
  cm_imu_source *s = ctx;
  pthread_mutex_lock(&s->mu);
  cm_imu_tracker_event(s->trk, t_host, "sensor_note", 0, "%s", what);
  pthread_mutex_unlock(&s->mu);
}

static int default_connector(void *ctx, const char *addr, int random_addr, int timeout_ms) {
  return cm_ble_l2cap_connect(addr, random_addr, timeout_ms);
}

/* Sleep up to ms, waking early when asked to stop. */
static void nap(cm_imu_source *s, int ms) {
  for (int t = 0; t < ms && !atomic_load(&s->stop); t += 50) usleep(50000);
}

static void *ble_thread(void *arg) {
  cm_imu_source *s = arg;
  cm_ble_pmd_opts po = {s->o.acc_rate, s->o.gyro_rate, s->o.acc_range, s->o.gyro_range, s->o.want_gyro};
  int ever = 0, failures = 0;
  int64_t t_lost = 0;
  cm_ble_pmd *p = cm_xcalloc(1, sizeof *p);
  while (!atomic_load(&s->stop)) {
    int fd = s->connector(s->conn_ctx, s->addr, s->random_addr, s->o.timeout_ms);
    if (fd >= 0 && cm_ble_pmd_start(p, fd, &po, s->o.timeout_ms, on_ble_frame, on_ble_note, s) < 0) {
      close(fd);
      fd = -1;
    }
    if (fd < 0) {
      pthread_mutex_lock(&s->mu);
      if (failures == 0)
        cm_imu_tracker_event(s->trk, cm_realtime_ns(), "connect_failed", 0, "%s", cm_error());
      pthread_mutex_unlock(&s->mu);
      int backoff = 500 << (failures < 4 ? failures : 4);
      failures++;
      nap(s, backoff > 5000 ? 5000 : backoff);
      continue;
    }
    int64_t now = cm_realtime_ns();
    pthread_mutex_lock(&s->mu);
    if (ever)
      cm_imu_tracker_event(s->trk, now, "reconnect", (double)(now - t_lost) / 1e9,
                           "after %.3f s; %s", (double)(now - t_lost) / 1e9, p->settings_text[0]);
    else
      cm_imu_tracker_event(s->trk, now, "connected", 0, "%s%s%s", p->settings_text[0],
                           p->started[1] ? "; " : "", p->settings_text[1]);
    pthread_mutex_unlock(&s->mu);
    ever = 1;
    failures = 0;
    atomic_store(&s->connected, 1);
    int lost = 0;
    while (!atomic_load(&s->stop)) {
      if (cm_ble_pmd_pump(p, 100) < 0) {
        lost = 1;
        break;
      }
      pthread_mutex_lock(&s->mu);
      cm_imu_tracker_tick(s->trk, cm_realtime_ns());
      pthread_mutex_unlock(&s->mu);
    }
    atomic_store(&s->connected, 0);
    if (lost) {
      t_lost = cm_realtime_ns();
      pthread_mutex_lock(&s->mu);
      cm_imu_tracker_event(s->trk, t_lost, "link_lost", 0, "%s", cm_error());
      cm_imu_tracker_link_lost(s->trk);
      pthread_mutex_unlock(&s->mu);
    } else {
      cm_ble_pmd_stop(p);
    }
    close(fd);
  }
  free(p);
  return NULL;
}

/* ---- public API ---- */

static cm_imu_source *source_new(const char *spec, const char *stream_name, const cm_imu_options *o) {
  cm_imu_source *s = cm_xcalloc(1, sizeof *s);
  if (parse_spec(spec, s) < 0) {
    free(s);
    return NULL;
  }
  if (o) s->o = *o;
  else cm_imu_options_default(&s->o);
  snprintf(s->name, sizeof s->name, "%s", stream_name ? stream_name : "imu");
  pthread_mutex_init(&s->mu, NULL);
  s->trk = cm_imu_tracker_new(s->name, &s->o.tracker);
  return s;
}

static void source_free(cm_imu_source *s) {
  cm_imu_net_close(s->net);
  cm_imu_tracker_free(s->trk);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static cm_imu_source *start(cm_imu_source *s) {
  void *(*fn)(void *) = s->kind == SRC_BLE ? ble_thread : net_thread;
  if (pthread_create(&s->thread, NULL, fn, s) != 0) {
    cm_set_error("IMU source %s: cannot start its thread", s->name);
    source_free(s);
    return NULL;
  }
  s->thread_running = 1;
  return s;
}

cm_imu_source *cm_imu_source_open_ble_with(const char *spec, const char *stream_name,
                                           const cm_imu_options *o, cm_imu_ble_connector c,
                                           void *ctx) {
  cm_imu_source *s = source_new(spec, stream_name, o);
  if (!s) return NULL;
  if (s->kind != SRC_BLE) {
    source_free(s);
    cm_set_error("IMU source '%s' is not a ble: spec", spec);
    return NULL;
  }
  s->connector = c ? c : default_connector;
  s->conn_ctx = ctx;
  snprintf(s->device, sizeof s->device, "Polar PMD sensor %s", s->addr);
  snprintf(s->transport, sizeof s->transport, "ble");
  return start(s);
}

cm_imu_source *cm_imu_source_open(const char *spec, const char *stream_name, const cm_imu_options *o) {
  cm_imu_source *s = source_new(spec, stream_name, o);
  if (!s) return NULL;
  if (s->kind == SRC_BLE) {
    source_free(s);
    return cm_imu_source_open_ble_with(spec, stream_name, o, NULL, NULL);
  }
  int tcp = s->kind == SRC_TCP;
  s->net = cm_imu_net_open(tcp, s->host, s->port, on_envelope, tcp ? on_tcp_link : NULL, s);
  if (!s->net) {
    cm_prefix_error("IMU source %s", spec);
    source_free(s);
    return NULL;
  }
  s->port = cm_imu_net_port(s->net);
  snprintf(s->device, sizeof s->device, "PMD frames via %s port %d", tcp ? "tcp" : "udp", s->port);
  snprintf(s->transport, sizeof s->transport, "%s", tcp ? "tcp" : "udp");
  return start(s);
}

void cm_imu_source_describe(cm_imu_source *s, cm_stream_desc *d) {
  memset(d, 0, sizeof *d);
  d->name = s->name;
  d->kind = CM_STREAM_IMU;
  d->nominal_rate = s->o.acc_rate;
  d->units = "m/s^2,rad/s";
  d->device = s->device;
  d->transport = s->transport;
}

int cm_imu_source_port(cm_imu_source *s) { return s->net ? s->port : 0; }

size_t cm_imu_source_rows(cm_imu_source *s, cm_imu_row *out, size_t max) {
  pthread_mutex_lock(&s->mu);
  size_t n = cm_imu_tracker_take_rows(s->trk, out, max);
  pthread_mutex_unlock(&s->mu);
  return n;
}

size_t cm_imu_source_events(cm_imu_source *s, cm_event_row *out, size_t max) {
  pthread_mutex_lock(&s->mu);
  size_t n = cm_imu_tracker_take_events(s->trk, out, max);
  pthread_mutex_unlock(&s->mu);
  return n;
}

int cm_imu_source_write(cm_imu_source *s, cm_session *session, int stream) {
  enum { CHUNK = 512 };
  cm_imu_row rows[CHUNK];
  float xyz[CHUNK * 6];
  int64_t td[CHUNK], th[CHUNK];
  size_t n;
  while ((n = cm_imu_source_rows(s, rows, CHUNK)) > 0) {
    for (size_t i = 0; i < n; i++) {
      memcpy(xyz + 6 * i, rows[i].xyz6, sizeof rows[i].xyz6);
      td[i] = rows[i].t_device_ns;
      th[i] = rows[i].t_host_ns;
    }
    if (cm_session_append_imu(session, stream, xyz, td, th, n) < 0) return -1;
  }
  cm_event_row ev[64];
  while ((n = cm_imu_source_events(s, ev, 64)) > 0)
    for (size_t i = 0; i < n; i++)
      if (cm_session_append_event(session, &ev[i]) < 0) return -1;
  return 0;
}

void cm_imu_source_finish(cm_imu_source *s) {
  if (s->finished) return;
  atomic_store(&s->stop, 1);
  if (s->thread_running) pthread_join(s->thread, NULL);
  s->thread_running = 0;
  pthread_mutex_lock(&s->mu);
  cm_imu_tracker_finish(s->trk, cm_realtime_ns());
  pthread_mutex_unlock(&s->mu);
  s->finished = 1;
}

cm_imu_stats cm_imu_source_stats(cm_imu_source *s) {
  pthread_mutex_lock(&s->mu);
  cm_imu_stats st = *cm_imu_tracker_stats(s->trk);
  pthread_mutex_unlock(&s->mu);
  return st;
}

double cm_imu_source_rate(cm_imu_source *s) {
  pthread_mutex_lock(&s->mu);
  double r = cm_imu_tracker_rate(s->trk);
  pthread_mutex_unlock(&s->mu);
  return r;
}

int cm_imu_source_connected(cm_imu_source *s) {
  if (s->kind == SRC_UDP) return cm_realtime_ns() - atomic_load(&s->last_rx) < 1000000000LL;
  return atomic_load(&s->connected);
}

void cm_imu_source_close(cm_imu_source *s) {
  if (!s) return;
  cm_imu_source_finish(s);
  source_free(s);
}
