/*
 * Clocks and the radio link.
 *
 * Host clocks: a host's system clock reads reference time plus its error, which has two parts
 * (sim.h): the part chrony knows and is slewing away (a few milliseconds, reported in every
 * answer as -current_correction) and the NTP error chrony cannot see, drawn per session within
 * the chosen spread and covered by the root_delay/2 + root_dispersion it reports. So the chrony
 * rows are consistent with the truth: applying current_correction leaves exactly the NTP error,
 * and the reported bound holds it.
 *
 * Wrist sensors: each has its own crystal (offset from an arbitrary boot epoch, drift of tens of
 * ppm) and samples at its nominal rate by that crystal, so the true sampling instants drift
 * against reference time. Samples travel in BLE notifications of a few samples each: a packet
 * leaves at the next connection event after its last sample, arrives after a latency plus
 * exponential jitter, is sometimes lost (and losses come in runs), and now and then the link
 * stalls (body shadowing, a busy radio) and releases the queued packets together. The host
 * stamps every sample of a packet with the packet's arrival time on its own clock, which is what
 * a recorder sees: radio latency only ever delays.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_session.h"
#include "cm_util.h"
#include "sim.h"

double sim_host_error_s(const sim_host_clock *h, double t) {
  return h->ntp_error_s + h->slew0_s + h->slew_ppm * 1e-6 * t;
}

int64_t sim_host_time_ns(const sim_plan *p, const sim_host_clock *h, double t) {
  return p->t0_ref_ns + llround((t + sim_host_error_s(h, t)) * 1e9);
}

int64_t sim_device_time_ns(const sim_sensor *s, double t) {
  return llround((s->offset_s + t * (1 + s->drift_ppm * 1e-6)) * 1e9);
}

size_t sim_chrony_rows(const sim_plan *p, const sim_host_clock *h, int host_index, double t0,
                       double t1, void *rows_v, size_t cap) {
  cm_chrony_row *rows = rows_v;
  sim_rng r;
  sim_rng_seed(&r, p->seed, 401 + (uint64_t)host_index);
  size_t n = 0;
  double t = t0 - sim_rng_range(&r, 0, h->poll_s);
  double last_update = sim_rng_range(&r, 8, 64);
  while (t < t1 + h->poll_s && n < cap) {
    cm_chrony_row *c = &rows[n++];
    memset(c, 0, sizeof *c);
    c->t_host_ns = sim_host_time_ns(p, h, t);
    c->ref_id = 0xC0A80001u + (uint32_t)host_index;
    c->stratum = 3;
    c->leap_status = 0;
    /* the last clock update happened last_update seconds before, in (what chrony takes for)
     * NTP time */
    c->ref_time_ns = c->t_host_ns - llround((h->ntp_error_s + last_update) * 1e9);
    c->current_correction = -(h->slew0_s + h->slew_ppm * 1e-6 * t) + 2e-5 * sim_rng_normal(&r);
    c->last_offset = h->slew0_s * sim_rng_range(&r, 0.5, 1.5);
    c->rms_offset = fabs(h->slew0_s) + 0.0005;
    c->freq_ppm = h->freq_ppm;
    c->resid_freq_ppm = h->slew_ppm * 0.2;
    c->skew_ppm = 0.05 + 0.1 * fabs(h->slew_ppm);
    c->root_delay = h->root_delay_s;
    c->root_dispersion = fmax(0.0005, h->uncertainty_s - h->root_delay_s / 2);
    c->last_update_interval = 64;
    t += h->poll_s;
    last_update += h->poll_s;
  }
  return n;
}

void sim_link_run(const sim_plan *p, const sim_sensor *s, const sim_host_clock *host, double rate,
                  double t_start, double t_end, uint64_t seed, sim_link_result *o) {
  memset(o, 0, sizeof *o);
  sim_rng r;
  sim_rng_seed(&r, seed, 0x4C494E4Bull);
  double k1 = 1 + s->drift_ppm * 1e-6;
  double D0 = s->offset_s + t_start * k1;
  size_t n = (size_t)floor((t_end - t_start) * rate * k1);
  o->t_sample = cm_xmalloc((n + 1) * sizeof(double));
  o->t_device_ns = cm_xmalloc((n + 1) * sizeof(int64_t));
  o->t_host_ns = cm_xmalloc((n + 1) * sizeof(int64_t));
  o->latency_s = cm_xmalloc((n + 1) * sizeof(double));
  o->gap_t = cm_xmalloc((n / 2 + 2) * sizeof(double));
  o->gap_len = cm_xmalloc((n / 2 + 2) * sizeof(double));
  int m = s->samples_per_packet > 0 ? s->samples_per_packet : 1;
  /* stalls: a Poisson process over the span */
  double stall_start = t_start + (s->burst_rate_hz > 0 ? -log(1 - sim_rng_uniform(&r)) / s->burst_rate_hz : 1e9);
  double stall_end = stall_start + s->burst_len_s * sim_rng_range(&r, 0.5, 1.5);
  double last_arrival = -1e9;
  int lost_prev = 0;
  double conn = 0.0075 * (1 + sim_rng_int(&r, 4)); /* connection interval */
  for (size_t j = 0; j * m < n; j++) {
    size_t first = j * m, last = first + m < n ? first + m : n;
    double t_last = (D0 + (last - 1) / rate - s->offset_s) / k1;
    double send = t_last + conn * sim_rng_uniform(&r);
    while (send > stall_end) {
      stall_start = stall_end + (s->burst_rate_hz > 0 ? -log(1 - sim_rng_uniform(&r)) / s->burst_rate_hz : 1e9);
      stall_end = stall_start + s->burst_len_s * sim_rng_range(&r, 0.5, 1.5);
    }
    if (send >= stall_start) send = stall_end;
    double arrival = send + s->latency_s - log(1 - sim_rng_uniform(&r)) * s->jitter_s;
    if (arrival < last_arrival + 0.0005) arrival = last_arrival + 0.0005;
    int lost = sim_rng_uniform(&r) < (lost_prev ? 0.5 : s->loss);
    if (lost) {
      if (!lost_prev) {
        o->gap_t[o->n_gaps] = (D0 + first / rate - s->offset_s) / k1;
        o->gap_len[o->n_gaps++] = 0;
      }
      o->gap_len[o->n_gaps - 1] += (double)(last - first);
      o->n_lost += last - first;
      lost_prev = 1;
      continue;
    }
    lost_prev = 0;
    last_arrival = arrival;
    int64_t th = sim_host_time_ns(p, host, arrival);
    for (size_t k = first; k < last; k++) {
      double Dk = D0 + k / rate;
      double tk = (Dk - s->offset_s) / k1;
      o->t_sample[o->n] = tk;
      o->t_device_ns[o->n] = llround(Dk * 1e9);
      o->t_host_ns[o->n] = th;
      o->latency_s[o->n] = arrival - tk;
      o->n++;
    }
  }
}

void sim_link_free(sim_link_result *r) {
  free(r->t_sample);
  free(r->t_device_ns);
  free(r->t_host_ns);
  free(r->latency_s);
  free(r->gap_t);
  free(r->gap_len);
  memset(r, 0, sizeof *r);
}
