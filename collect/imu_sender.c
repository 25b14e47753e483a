/*
 * The network IMU sender (see imu_sender.h). One socket; per stream a frame being filled, a
 * sequence counter and at most one frame held back for reordering.
 */
#include "imu_sender.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cm_util.h"
#include "imu_wire.h"
#include "pmd_decode.h"
#include "pmd_encode.h"

#define MAX_SPF 200 /* keeps a frame of 17-bit deltas under 4 KiB */
#define DEG_PER_RAD (180.0 / 3.14159265358979323846)

typedef struct {
  int meas;
  float factor;
  int32_t raw[MAX_SPF * 3];
  int64_t t_last;
  size_t n;
  uint32_t seq;
  uint8_t held[CM_IMU_WIRE_HEADER + 4096];
  size_t n_held;
  uint32_t held_seq;
} stream_out;

struct cm_imu_sender {
  int fd, is_tcp;
  uint8_t sensor_id;
  double rate;
  cm_imu_sender_opts o;
  uint64_t rng;
  stream_out st[2];
};

void cm_imu_sender_opts_default(cm_imu_sender_opts *o) {
  memset(o, 0, sizeof *o);
  o->samples_per_frame = 16;
  o->seed = 1;
}

static double uniform(cm_imu_sender *s) { /* splitmix64 */
  uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (double)(z >> 11) / 9007199254740992.0;
}

cm_imu_sender *cm_imu_sender_open(const char *dest, uint8_t sensor_id, double rate,
                                  const cm_imu_sender_opts *o) {
  int is_udp = dest && !strncmp(dest, "udp:", 4), is_tcp = dest && !strncmp(dest, "tcp:", 4);
  if (!is_udp && !is_tcp) {
    cm_set_error("IMU sender '%s': expected udp:HOST:PORT or tcp:HOST:PORT", dest ? dest : "");
    return NULL;
  }
  char host[128];
  snprintf(host, sizeof host, "%s", dest + 4);
  char *colon = strrchr(host, ':');
  if (!colon) {
    cm_set_error("IMU sender '%s': expected HOST:PORT", dest);
    return NULL;
  }
  *colon = 0;
  struct addrinfo hints = {0}, *ai;
  hints.ai_socktype = is_tcp ? SOCK_STREAM : SOCK_DGRAM;
  int rc = getaddrinfo(host, colon + 1, &hints, &ai);
  if (rc) {
    cm_set_error("IMU sender '%s': %s", dest, gai_strerror(rc));
    return NULL;
  }
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
    cm_set_error("IMU sender '%s': %s", dest, strerror(errno));
    if (fd >= 0) close(fd);
    freeaddrinfo(ai);
    return NULL;
  }
  freeaddrinfo(ai);
  cm_imu_sender *s = cm_xcalloc(1, sizeof *s);
  s->fd = fd;
  s->is_tcp = is_tcp;
  s->sensor_id = sensor_id;
  s->rate = rate;
  if (o) s->o = *o;
  else cm_imu_sender_opts_default(&s->o);
  if (s->o.samples_per_frame < 1) s->o.samples_per_frame = 1;
  if (s->o.samples_per_frame > MAX_SPF) s->o.samples_per_frame = MAX_SPF;
  s->rng = s->o.seed;
  s->st[0].meas = CM_PMD_ACC;
  s->st[0].factor = CM_IMU_SENDER_ACC_FACTOR;
  s->st[1].meas = CM_PMD_GYRO;
  s->st[1].factor = CM_IMU_SENDER_GYRO_FACTOR;
  return s;
}

static int send_bytes(cm_imu_sender *s, const uint8_t *b, size_t n) {
  ssize_t w = send(s->fd, b, n, MSG_NOSIGNAL);
  /* UDP to a port nobody listens on yet answers ECONNREFUSED: a lost frame, not an error */
  if (w < 0 && !s->is_tcp && errno == ECONNREFUSED) return 0;
  if (w != (ssize_t)n) return cm_set_error("IMU sender: %s", w < 0 ? strerror(errno) : "short send");
  return 0;
}

static void log_frame(cm_imu_sender *s, stream_out *o, uint32_t seq, int fate, const uint8_t *env) {
  if (s->o.log) s->o.log(s->o.log_ctx, o->meas, seq, fate, env + CM_IMU_WIRE_HEADER,
                         env[16] | (size_t)env[17] << 8);
}

static int send_frame(cm_imu_sender *s, stream_out *o) {
  uint8_t pmd[4096], env[sizeof o->held];
  uint64_t t_sensor = (uint64_t)(o->t_last - CM_PMD_EPOCH_OFFSET_NS);
  size_t np = cm_pmd_encode_delta(pmd, sizeof pmd, o->meas, 0, t_sensor, o->raw, o->n, 16);
  o->n = 0;
  if (!np) return cm_set_error("IMU sender: frame does not fit");
  uint32_t seq = o->seq++;
  size_t ne = cm_imu_wire_encode(env, sizeof env, s->sensor_id, (uint16_t)lround(s->rate), seq,
                                 o->factor, pmd, np);
  if (uniform(s) < s->o.loss) {
    log_frame(s, o, seq, CM_IMU_DROPPED, env);
    return 0;
  }
  if (!o->n_held && uniform(s) < s->o.reorder) { /* hold it; it goes after the next frame */
    memcpy(o->held, env, ne);
    o->n_held = ne;
    o->held_seq = seq;
    return 0;
  }
  if (send_bytes(s, env, ne) < 0) return -1;
  log_frame(s, o, seq, CM_IMU_SENT, env);
  if (uniform(s) < s->o.duplicate) {
    if (send_bytes(s, env, ne) < 0) return -1;
    log_frame(s, o, seq, CM_IMU_SENT_AGAIN, env);
  }
  if (o->n_held) {
    if (send_bytes(s, o->held, o->n_held) < 0) return -1;
    log_frame(s, o, o->held_seq, CM_IMU_SENT, o->held);
    o->n_held = 0;
  }
  return 0;
}

static int32_t clamp16(double v) {
  long r = lround(v);
  return (int32_t)(r > 32767 ? 32767 : r < -32768 ? -32768 : r);
}

int cm_imu_sender_push(cm_imu_sender *s, const float *acc, const float *gyro,
                       const int64_t *t_device_ns, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (int k = 0; k < (gyro ? 2 : 1); k++) {
      stream_out *o = &s->st[k];
      const float *v = k ? gyro + 3 * i : acc + 3 * i;
      for (int c = 0; c < 3; c++) {
        double counts = k ? v[c] * DEG_PER_RAD / o->factor : v[c] / 9.80665 / o->factor;
        o->raw[o->n * 3 + c] = clamp16(counts);
      }
      o->n++;
      o->t_last = t_device_ns[i];
      if ((int)o->n == s->o.samples_per_frame && send_frame(s, o) < 0) return -1;
    }
  }
  return 0;
}

int cm_imu_sender_flush(cm_imu_sender *s) {
  for (int k = 0; k < 2; k++) {
    stream_out *o = &s->st[k];
    if (o->n && send_frame(s, o) < 0) return -1;
    if (o->n_held) {
      if (send_bytes(s, o->held, o->n_held) < 0) return -1;
      log_frame(s, o, o->held_seq, CM_IMU_SENT, o->held);
      o->n_held = 0;
    }
  }
  return 0;
}

void cm_imu_sender_close(cm_imu_sender *s) {
  if (!s) return;
  close(s->fd);
  free(s);
}
