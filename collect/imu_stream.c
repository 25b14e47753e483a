/*
 * The per-sensor stream tracker (what it decides and why: imu_stream.h).
 *
 * State per measurement (ACC, GYRO): the next expected sequence number, a ring of recently
 * seen ones (duplicates), the sorted list of missing ones still waiting for a late arrival,
 * the newest in-order frame's sensor time, and a FIFO of decoded half-rows waiting for their
 * partner. Output rows and events accumulate in growable arrays until the caller takes them.
 * Not thread-safe: the capture layer serialises access.
 */
#include "imu_stream.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "pmd_decode.h"

#define SEEN_RING 4096
#define MAX_PENDING 4096
#define SEQ_RESET_JUMP 100000 /* a jump this large is a restarted sender, not a loss */

typedef struct {
  float v[3];
  int64_t t_dev, t_host;
} half;

typedef struct {
  half *q;
  size_t head, len, cap;
} half_fifo;

typedef struct {
  uint32_t seq;
  int64_t t_detected;
} pending;

typedef struct {
  const char *name;      /* "ACC" / "GYRO" */
  int active;
  int seq_started;
  uint32_t next_seq;
  uint32_t seen[SEEN_RING];
  uint8_t seen_ok[SEEN_RING];
  pending pend[MAX_PENDING];
  size_t n_pend;
  uint64_t last_t;       /* newest in-order frame's sensor time, 0 = none */
  double rate;
  int64_t last_arrival;  /* host time of the last frame of this measurement */
  half_fifo fifo;
} meas_state;

struct cm_imu_tracker {
  char name[CM_EVENT_STREAM_LEN];
  cm_imu_tracker_opts o;
  meas_state m[2]; /* 0 ACC, 1 GYRO */
  cm_imu_row *rows;
  size_t n_rows, cap_rows;
  cm_event_row *ev;
  size_t n_ev, cap_ev;
  cm_pmd_value *vals;
  uint64_t *times;
  size_t cap_vals;
  cm_imu_stats st;
  int64_t t_first; /* host time of the first frame */
};

void cm_imu_tracker_opts_default(cm_imu_tracker_opts *o) {
  o->pair_tolerance = 0.25;
  o->reorder_window = 64;
  o->hold_ns = 1000000000LL;
}

cm_imu_tracker *cm_imu_tracker_new(const char *stream_name, const cm_imu_tracker_opts *o) {
  cm_imu_tracker *t = cm_xcalloc(1, sizeof *t);
  snprintf(t->name, sizeof t->name, "%s", stream_name ? stream_name : "");
  if (o) t->o = *o;
  else cm_imu_tracker_opts_default(&t->o);
  t->m[0].name = "ACC";
  t->m[1].name = "GYRO";
  return t;
}

void cm_imu_tracker_free(cm_imu_tracker *t) {
  if (!t) return;
  for (int i = 0; i < 2; i++) free(t->m[i].fifo.q);
  free(t->rows), free(t->ev), free(t->vals), free(t->times);
  free(t);
}

static void add_eventv(cm_imu_tracker *t, int64_t t_host, const char *kind, double value,
                       const char *fmt, va_list ap) {
  if (t->n_ev == t->cap_ev) {
    t->cap_ev = t->cap_ev ? 2 * t->cap_ev : 16;
    t->ev = cm_xrealloc(t->ev, t->cap_ev * sizeof *t->ev);
  }
  cm_event_row *e = &t->ev[t->n_ev++];
  memset(e, 0, sizeof *e);
  e->t_host_ns = t_host;
  snprintf(e->stream, sizeof e->stream, "%s", t->name);
  snprintf(e->kind, sizeof e->kind, "%s", kind);
  e->value = value;
  vsnprintf(e->detail, sizeof e->detail, fmt, ap);
}

void cm_imu_tracker_event(cm_imu_tracker *t, int64_t t_host_ns, const char *kind, double value,
                          const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  add_eventv(t, t_host_ns, kind, value, fmt, ap);
  va_end(ap);
}

#define EVENT cm_imu_tracker_event

static void push_row(cm_imu_tracker *t, const half *a, const half *g) {
  if (t->n_rows == t->cap_rows) {
    t->cap_rows = t->cap_rows ? 2 * t->cap_rows : 256;
    t->rows = cm_xrealloc(t->rows, t->cap_rows * sizeof *t->rows);
  }
  cm_imu_row *r = &t->rows[t->n_rows++];
  for (int c = 0; c < 3; c++) {
    r->xyz6[c] = a ? a->v[c] : NAN;
    r->xyz6[3 + c] = g ? g->v[c] : NAN;
  }
  r->t_device_ns = a ? a->t_dev : g->t_dev;
  if (a && g) r->t_host_ns = a->t_host < g->t_host ? a->t_host : g->t_host;
  else r->t_host_ns = a ? a->t_host : g->t_host;
  t->st.rows++;
}

static void fifo_push(half_fifo *f, const half *h) {
  if (f->head + f->len == f->cap) {
    if (f->head > 0) {
      memmove(f->q, f->q + f->head, f->len * sizeof *f->q);
      f->head = 0;
    }
    if (f->len == f->cap) {
      f->cap = f->cap ? 2 * f->cap : 256;
      f->q = cm_xrealloc(f->q, f->cap * sizeof *f->q);
    }
  }
  f->q[f->head + f->len++] = *h;
}

static const half *fifo_head(const half_fifo *f) { return f->len ? &f->q[f->head] : NULL; }
static void fifo_pop(half_fifo *f) {
  f->head++;
  if (--f->len == 0) f->head = 0;
}

/* Pair or release queued halves. A half waits for its partner while the other measurement is
 * active and has not been silent for hold_ns; `all` releases everything (end of recording). */
static void drain(cm_imu_tracker *t, int64_t now, int all) {
  half_fifo *A = &t->m[0].fifo, *G = &t->m[1].fifo;
  double rate = t->m[0].rate > 0 ? t->m[0].rate : t->m[1].rate;
  int64_t tol = rate > 0 ? (int64_t)(t->o.pair_tolerance * 1e9 / rate) : 0;
  for (;;) {
    const half *a = fifo_head(A), *g = fifo_head(G);
    if (a && g) {
      int64_t d = a->t_dev - g->t_dev;
      if (d <= tol && d >= -tol) {
        push_row(t, a, g);
        fifo_pop(A), fifo_pop(G);
      } else if (d < 0) {
        push_row(t, a, NULL);
        fifo_pop(A);
      } else {
        push_row(t, NULL, g);
        fifo_pop(G);
      }
      continue;
    }
    const half *h = a ? a : g;
    if (!h) break;
    meas_state *other = a ? &t->m[1] : &t->m[0];
    /* A partner is expected while the other measurement streams, and during the first
     * hold_ns of the recording, before it had a chance to show up. */
    int wait = !all && now - h->t_host < t->o.hold_ns &&
               (other->active || now - t->t_first < t->o.hold_ns);
    if (wait) break;
    if (a) push_row(t, a, NULL), fifo_pop(A);
    else push_row(t, NULL, g), fifo_pop(G);
  }
}

/* ---- sequence bookkeeping ---- */

static int seen_before(meas_state *m, uint32_t seq) {
  size_t k = seq % SEEN_RING;
  return m->seen_ok[k] && m->seen[k] == seq;
}
static void mark_seen(meas_state *m, uint32_t seq) {
  size_t k = seq % SEEN_RING;
  m->seen[k] = seq;
  m->seen_ok[k] = 1;
}

/* Report missing frames as lost: all of them, or those overdue by window or time. */
static void report_losses(cm_imu_tracker *t, meas_state *m, int64_t now, int all) {
  size_t keep = 0, i = 0;
  while (i < m->n_pend) {
    pending *p = &m->pend[i];
    int overdue = all || (int32_t)(m->next_seq - p->seq) > t->o.reorder_window ||
                  now - p->t_detected >= t->o.hold_ns;
    if (!overdue) {
      m->pend[keep++] = m->pend[i++];
      continue;
    }
    /* one event per run of consecutive sequence numbers */
    size_t j = i + 1;
    while (j < m->n_pend && m->pend[j].seq == m->pend[j - 1].seq + 1) j++;
    uint32_t first = p->seq, last = m->pend[j - 1].seq;
    size_t n = j - i;
    if (n == 1) EVENT(t, p->t_detected, "dropped_frames", 1, "%s seq %u", m->name, first);
    else EVENT(t, p->t_detected, "dropped_frames", (double)n, "%s seq %u-%u", m->name, first, last);
    t->st.lost_frames += (int64_t)n;
    i = j;
  }
  m->n_pend = keep;
}

static int take_pending(meas_state *m, uint32_t seq) {
  for (size_t i = 0; i < m->n_pend; i++)
    if (m->pend[i].seq == seq) {
      memmove(m->pend + i, m->pend + i + 1, (m->n_pend - i - 1) * sizeof *m->pend);
      m->n_pend--;
      return 1;
    }
  return 0;
}

/* Decide where a numbered frame stands. Returns 1 = next in order, 0 = out of order (late, or
 * after a loss), -1 = drop it (duplicate). */
static int sequence_check(cm_imu_tracker *t, meas_state *m, uint32_t seq, int64_t now) {
  if (!m->seq_started) {
    m->seq_started = 1;
    m->next_seq = seq + 1;
    mark_seen(m, seq);
    return 0; /* a first frame has no predecessor */
  }
  int32_t d = (int32_t)(seq - m->next_seq);
  if (d == 0) {
    m->next_seq++;
    mark_seen(m, seq);
    return 1;
  }
  if (d > SEQ_RESET_JUMP || d < -SEQ_RESET_JUMP) {
    EVENT(t, now, "sequence_reset", (double)d, "%s seq jumped from %u to %u (sender restarted?)",
          m->name, m->next_seq - 1, seq);
    report_losses(t, m, now, 1);
    memset(m->seen_ok, 0, sizeof m->seen_ok);
    m->next_seq = seq + 1;
    mark_seen(m, seq);
    return 0;
  }
  if (d > 0) {
    for (uint32_t s = m->next_seq; s != seq; s++) {
      if (m->n_pend == MAX_PENDING) report_losses(t, m, now, 1);
      m->pend[m->n_pend].seq = s;
      m->pend[m->n_pend++].t_detected = now;
    }
    m->next_seq = seq + 1;
    mark_seen(m, seq);
    return 0;
  }
  if (seen_before(m, seq)) {
    EVENT(t, now, "duplicate", 1, "%s seq %u", m->name, seq);
    t->st.duplicates++;
    return -1;
  }
  mark_seen(m, seq);
  t->st.reordered++;
  if (take_pending(m, seq))
    EVENT(t, now, "reordered", (double)-d, "%s seq %u after seq %u", m->name, seq, m->next_seq - 1);
  else
    EVENT(t, now, "reordered", (double)-d, "%s seq %u after seq %u, already reported lost",
          m->name, seq, m->next_seq - 1);
  return 0;
}

void cm_imu_tracker_frame(cm_imu_tracker *t, const uint8_t *pmd, size_t n, int has_seq,
                          uint32_t seq, double rate, float factor, int64_t t_host_ns) {
  cm_pmd_frame f;
  if (cm_pmd_frame_parse(pmd, n, &f) < 0) {
    t->st.bad_frames++;
    EVENT(t, t_host_ns, "bad_frame", 1, "%s", cm_error());
    return;
  }
  if (f.measurement != CM_PMD_ACC && f.measurement != CM_PMD_GYRO) {
    t->st.ignored_frames++;
    return;
  }
  meas_state *m = &t->m[f.measurement == CM_PMD_ACC ? 0 : 1];
  if (!t->m[0].active && !t->m[1].active) t->t_first = t_host_ns;
  m->active = 1;
  m->last_arrival = t_host_ns;
  if (rate > 0) m->rate = rate;
  int in_order = 1;
  if (has_seq) {
    int r = sequence_check(t, m, seq, t_host_ns);
    if (r < 0) return;
    in_order = r;
  }
  report_losses(t, m, t_host_ns, 0);

  size_t cap = cm_pmd_max_samples(&f);
  if (cap > t->cap_vals) {
    t->cap_vals = cap;
    t->vals = cm_xrealloc(t->vals, cap * sizeof *t->vals);
    t->times = cm_xrealloc(t->times, cap * sizeof *t->times);
  }
  long ns = cm_pmd_decode_values(&f, factor, t->vals, cap);
  if (ns < 0) {
    t->st.bad_frames++;
    EVENT(t, t_host_ns, "bad_frame", 1, "%s", cm_error());
    return;
  }
  t->st.frames++;

  /* What the sensor's own time says about this frame's place. */
  uint64_t prev = 0;
  int late = has_seq && !in_order && m->seq_started && m->last_t && f.t_sensor_ns < m->last_t;
  if (m->last_t && !late) {
    if (f.t_sensor_ns == m->last_t && !has_seq) {
      EVENT(t, t_host_ns, "duplicate", 1, "%s frame at sensor time %llu repeated", m->name,
            (unsigned long long)f.t_sensor_ns);
      t->st.duplicates++;
      return;
    }
    if (f.t_sensor_ns <= m->last_t) {
      EVENT(t, t_host_ns, "clock_step", -((double)(m->last_t - f.t_sensor_ns)) / 1e9,
            "%s sensor time went back %.6f s", m->name, (double)(m->last_t - f.t_sensor_ns) / 1e9);
      t->st.clock_steps++;
      in_order = 0;
    } else if (m->rate > 0) {
      double span = (double)(f.t_sensor_ns - m->last_t) / 1e9, nominal = ns / m->rate;
      if (span > 1.5 * nominal) {
        if (in_order) { /* sequence numbers saw nothing missing: the loss is before the relay */
          EVENT(t, t_host_ns, "gap", span - nominal, "%s %.3f s between frames, about %.0f samples missing",
                m->name, span, (span - nominal) * m->rate);
          t->st.gaps++;
        }
        in_order = 0;
      }
    }
    if (in_order) prev = m->last_t;
  }
  if (cm_pmd_sample_times(prev, f.t_sensor_ns, (size_t)ns, m->rate, t->times) < 0) {
    t->st.bad_frames++;
    EVENT(t, t_host_ns, "bad_frame", 1, "%s", cm_error());
    return;
  }
  if (!late) m->last_t = f.t_sensor_ns;
  for (long i = 0; i < ns; i++) {
    if (t->times[i] > (uint64_t)(INT64_MAX - CM_PMD_EPOCH_OFFSET_NS)) {
      t->st.bad_frames++;
      EVENT(t, t_host_ns, "bad_frame", 1, "%s sensor time %llu out of range", m->name,
            (unsigned long long)t->times[i]);
      return;
    }
  }
  for (long i = 0; i < ns; i++) {
    half h;
    memcpy(h.v, t->vals[i].si, sizeof h.v);
    h.t_dev = (int64_t)t->times[i] + CM_PMD_EPOCH_OFFSET_NS;
    h.t_host = t_host_ns;
    fifo_push(&m->fifo, &h);
  }
  t->st.samples += ns;
  drain(t, t_host_ns, 0);
}

void cm_imu_tracker_link_lost(cm_imu_tracker *t) {
  for (int i = 0; i < 2; i++) {
    meas_state *m = &t->m[i];
    m->last_t = 0;
    m->seq_started = 0;
    m->n_pend = 0;
    memset(m->seen_ok, 0, sizeof m->seen_ok);
  }
}

void cm_imu_tracker_tick(cm_imu_tracker *t, int64_t now) {
  for (int i = 0; i < 2; i++) report_losses(t, &t->m[i], now, 0);
  drain(t, now, 0);
}

void cm_imu_tracker_finish(cm_imu_tracker *t, int64_t now) {
  for (int i = 0; i < 2; i++) report_losses(t, &t->m[i], now, 1);
  drain(t, now, 1);
}

size_t cm_imu_tracker_take_rows(cm_imu_tracker *t, cm_imu_row *out, size_t max) {
  size_t n = t->n_rows < max ? t->n_rows : max;
  if (!n) return 0;
  memcpy(out, t->rows, n * sizeof *out);
  memmove(t->rows, t->rows + n, (t->n_rows - n) * sizeof *t->rows);
  t->n_rows -= n;
  return n;
}

size_t cm_imu_tracker_take_events(cm_imu_tracker *t, cm_event_row *out, size_t max) {
  size_t n = t->n_ev < max ? t->n_ev : max;
  if (!n) return 0;
  memcpy(out, t->ev, n * sizeof *out);
  memmove(t->ev, t->ev + n, (t->n_ev - n) * sizeof *t->ev);
  t->n_ev -= n;
  return n;
}

const cm_imu_stats *cm_imu_tracker_stats(const cm_imu_tracker *t) { return &t->st; }

double cm_imu_tracker_rate(const cm_imu_tracker *t) {
  return t->m[0].rate > 0 ? t->m[0].rate : t->m[1].rate;
}
