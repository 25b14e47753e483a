/*
 * The phone's microphone: what the body's motion sounds like in the location, heard from where
 * the camera is.
 *
 * Sources, all driven by the same body model as the video and the IMU:
 *  - impacts (footfalls, landings): at each contact event of sim_body, a click of filtered
 *    noise whose brightness and decay are the floor's (tile bright and short, wood lower and
 *    ringing, carpet dull and soft, concrete in between), plus a damped low resonance for
 *    hollow floors and stairs, loudness rising with the contact force (running and jumping
 *    louder than walking);
 *  - claps at the top of a jumping jack (for people who clap);
 *  - clothing rustle: high-passed noise whose level follows the wrists' speed (big in jumping
 *    jacks and running, faint in walking);
 *  - hand washing: running water (band-passed noise with bubbling droplets) while the tap is on,
 *    and rubbing noise following the hands' relative speed;
 *  - the room: pink noise at the location's level and, where there is one, mains hum.
 * Each source is attenuated by its distance to the microphone and delayed by the travel time of
 * sound; the sources (not the room noise) go through a Schroeder reverberator (four combs and two
 * all-passes) tuned to the location's RT60; the microphone adds its gain, a DC-blocking high-pass
 * and int16 clipping. The microphone's sample clock runs `audio_ppm` off nominal.
 *
 * Motion-driven envelopes (wrist speeds, hand rubbing, distance) are sampled from the body every
 * 10 ms and interpolated: cheap, and far finer than any of those envelopes change.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "sim.h"

#define ENV_DT 0.01
#define MAX_VOICES 24
#define SOUND_SPEED 343.0

typedef struct {
  double t0, amp, f_res, tau_res, tau_noise, bright;
  double s1, s2; /* state-variable filter */
  int active;
} voice;

typedef struct { float *buf; int n, i; double g; } delay_line;

struct sim_audio {
  sim_plan plan;
  const sim_body *body;
  double rate, t_start, dt;
  long n_done;
  sim_contact *ev;
  size_t n_ev, next_ev;
  voice v[MAX_VOICES];
  double env_t0;
  size_t n_env;
  float *env_rustle, *env_rub, *env_water, *env_dist;
  delay_line comb[4], ap[2];
  double comb_lp[4];
  double pink[7], hp_x, hp_y, water_s1, water_s2, rub_s1, rub_s2, rustle_prev, bubble;
  uint64_t rng;
  double noise_amp, wet;
};

static inline double urand(sim_audio *a) {
  a->rng ^= a->rng << 13;
  a->rng ^= a->rng >> 7;
  a->rng ^= a->rng << 17;
  return (double)(a->rng >> 11) * 0x1.0p-52 - 1.0; /* [-1,1) */
}

static void delay_init(delay_line *d, double seconds, double rate, double g) {
  d->n = (int)(seconds * rate) + 1;
  d->buf = cm_xcalloc((size_t)d->n, sizeof(float));
  d->i = 0;
  d->g = g;
}

sim_audio *sim_audio_new(const sim_plan *p, const sim_body *b, double t_start) {
  sim_audio *a = cm_xcalloc(1, sizeof *a);
  a->plan = *p;
  a->body = b;
  a->rate = p->audio_rate;
  a->t_start = t_start;
  a->dt = 1.0 / (p->audio_rate * (1 + p->audio_ppm * 1e-6));
  double t_end = p->cam_end_s + 1.0;
  size_t cap = (size_t)((t_end - t_start + 2) * 12) + 16;
  a->ev = cm_xmalloc(cap * sizeof *a->ev);
  a->n_ev = sim_body_contacts(b, t_start - 0.5, t_end, a->ev, cap);
  /* envelopes */
  a->env_t0 = t_start - 0.5;
  a->n_env = (size_t)((t_end - a->env_t0) / ENV_DT) + 3;
  a->env_rustle = cm_xmalloc(a->n_env * sizeof(float));
  a->env_rub = cm_xmalloc(a->n_env * sizeof(float));
  a->env_water = cm_xmalloc(a->n_env * sizeof(float));
  a->env_dist = cm_xmalloc(a->n_env * sizeof(float));
  sim_pose prev, cur;
  sim_body_pose(b, a->env_t0 - ENV_DT, &prev);
  for (size_t i = 0; i < a->n_env; i++) {
    double t = a->env_t0 + i * ENV_DT;
    sim_body_pose(b, t, &cur);
    double vl = sqrt(v3_dot(v3_sub(cur.j[J_WRIST_L], prev.j[J_WRIST_L]),
                            v3_sub(cur.j[J_WRIST_L], prev.j[J_WRIST_L]))) / ENV_DT;
    double vr = sqrt(v3_dot(v3_sub(cur.j[J_WRIST_R], prev.j[J_WRIST_R]),
                            v3_sub(cur.j[J_WRIST_R], prev.j[J_WRIST_R]))) / ENV_DT;
    vec3 rel_now = v3_sub(cur.j[J_HAND_L], cur.j[J_HAND_R]);
    vec3 rel_prev = v3_sub(prev.j[J_HAND_L], prev.j[J_HAND_R]);
    vec3 dr = v3_sub(rel_now, rel_prev);
    double vrel = sqrt(v3_dot(dr, dr)) / ENV_DT;
    a->env_rustle[i] = (float)(0.0025 * pow(vl + vr, 1.5));
    a->env_rub[i] = (float)(cur.rub * (0.02 + 0.05 * vrel));
    a->env_water[i] = (float)cur.water;
    vec3 mic = sim_camera_position(p, b, t);
    vec3 d = v3_sub(cur.j[J_PELVIS], mic);
    a->env_dist[i] = (float)fmax(0.5, sqrt(v3_dot(d, d)));
    prev = cur;
  }
  /* Schroeder reverberator: comb gains from RT60 (each comb decays 60 dB in rt60 seconds) */
  static const double comb_s[4] = {0.0297, 0.0371, 0.0411, 0.0437};
  for (int i = 0; i < 4; i++)
    delay_init(&a->comb[i], comb_s[i], a->rate, pow(10.0, -3.0 * comb_s[i] / p->location.rt60_s));
  delay_init(&a->ap[0], 0.005, a->rate, 0.7);
  delay_init(&a->ap[1], 0.0017, a->rate, 0.7);
  a->rng = sim_hash64(p->seed, 301) | 1;
  a->noise_amp = pow(10.0, p->location.noise_db / 20.0);
  a->wet = 0.25 + 0.3 * fmin(1.0, p->location.rt60_s);
  return a;
}

void sim_audio_free(sim_audio *a) {
  if (!a) return;
  free(a->ev);
  free(a->env_rustle);
  free(a->env_rub);
  free(a->env_water);
  free(a->env_dist);
  for (int i = 0; i < 4; i++) free(a->comb[i].buf);
  for (int i = 0; i < 2; i++) free(a->ap[i].buf);
  free(a);
}

static double env_at(const sim_audio *a, const float *e, double t) {
  double g = (t - a->env_t0) / ENV_DT;
  if (g <= 0) return e[0];
  size_t i = (size_t)g;
  if (i >= a->n_env - 1) return e[a->n_env - 1];
  double w = g - i;
  return e[i] * (1 - w) + e[i + 1] * w;
}

/* Start a voice for a contact event. */
static void start_voice(sim_audio *a, const sim_contact *c, double dist) {
  const sim_location *L = &a->plan.location;
  voice *v = NULL;
  for (int i = 0; i < MAX_VOICES; i++)
    if (!a->v[i].active) { v = &a->v[i]; break; }
  if (!v) return;
  memset(v, 0, sizeof *v);
  v->active = 1;
  v->t0 = c->t + dist / SOUND_SPEED;
  double on_stairs = 0;
  for (int i = 0; i < a->plan.n_ground; i++)
    if (a->plan.ground[i].stairs && c->at.x >= a->plan.ground[i].x0 && c->at.x < a->plan.ground[i].x1)
      on_stairs = 1;
  if (c->kind == EV_CLAP) {
    v->amp = 0.5 / dist;
    v->bright = 0.55;
    v->tau_noise = 0.006;
    v->f_res = 0;
    return;
  }
  static const double bright[4] = {0.55, 0.25, 0.08, 0.35};
  static const double tau[4] = {0.010, 0.018, 0.006, 0.009};
  double force = c->force / (70 * 9.81); /* in body weights */
  v->amp = 0.06 * pow(force, 1.3) / dist * (L->floor == FLOOR_CARPET ? 0.35 : 1.0);
  v->bright = bright[L->floor];
  v->tau_noise = tau[L->floor] * (0.8 + 0.4 * force / 3);
  double hollow = fmin(1.0, L->floor_hollow + 0.6 * on_stairs);
  v->f_res = (on_stairs ? 160 : 95) * (1 + 0.1 * urand(a)) * (1 + 0.4 * (1 - hollow));
  v->tau_res = 0.015 + 0.07 * hollow;
}

static double run_voice(sim_audio *a, voice *v, double t) {
  double age = t - v->t0;
  if (age < 0) return 0;
  if (age > 6 * fmax(v->tau_noise, v->tau_res) + 0.01) {
    v->active = 0;
    return 0;
  }
  /* noise through a one-pole pair: `bright` sets how much high frequency survives */
  double n = urand(a) * exp(-age / v->tau_noise);
  v->s1 += v->bright * (n - v->s1);
  double out = v->s1 + 0.3 * v->bright * (n - v->s1);
  if (v->f_res > 0) out += 1.6 * sin(2 * M_PI * v->f_res * age) * exp(-age / v->tau_res) *
                           (age < 0.002 ? age / 0.002 : 1);
  return v->amp * out;
}

static float reverb(sim_audio *a, double x) {
  double y = 0;
  for (int i = 0; i < 4; i++) {
    delay_line *d = &a->comb[i];
    double o = d->buf[d->i];
    a->comb_lp[i] += 0.35 * (o - a->comb_lp[i]); /* air and walls absorb highs */
    d->buf[d->i] = (float)(x + d->g * a->comb_lp[i]);
    d->i = (d->i + 1) % d->n;
    y += o;
  }
  y *= 0.25;
  for (int i = 0; i < 2; i++) {
    delay_line *d = &a->ap[i];
    double o = d->buf[d->i];
    double w = y + d->g * o;
    d->buf[d->i] = (float)w;
    d->i = (d->i + 1) % d->n;
    y = o - d->g * w;
  }
  return (float)y;
}

void sim_audio_render(sim_audio *a, int16_t *out, int n) {
  const sim_location *L = &a->plan.location;
  for (int k = 0; k < n; k++) {
    double t = a->t_start + (a->n_done + k) * a->dt;
    double dist = env_at(a, a->env_dist, t);
    /* events that start within the next sample (including travel time) */
    while (a->next_ev < a->n_ev && a->ev[a->next_ev].t + dist / SOUND_SPEED <= t + a->dt) {
      start_voice(a, &a->ev[a->next_ev], dist);
      a->next_ev++;
    }
    double src = 0;
    for (int i = 0; i < MAX_VOICES; i++)
      if (a->v[i].active) src += run_voice(a, &a->v[i], t);
    /* rustle: differentiated noise (high-passed) scaled by wrist speed */
    double wn = urand(a);
    src += env_at(a, a->env_rustle, t) * (wn - a->rustle_prev) * 0.5 / dist;
    a->rustle_prev = wn;
    double water = env_at(a, a->env_water, t);
    if (water > 0.001) {
      /* tap water: band-passed noise (state-variable filter near 1.8 kHz) with bubbling */
      double f = 2 * sin(M_PI * 1800 / a->rate), q = 0.7;
      double x = urand(a);
      a->water_s2 += f * a->water_s1;
      double hp = x - a->water_s2 - q * a->water_s1;
      a->water_s1 += f * hp;
      if (urand(a) > 0.9994) a->bubble = 1;
      a->bubble *= 0.9985;
      double bub = a->bubble * sin(2 * M_PI * (600 + 900 * a->bubble) * t);
      src += water * (0.05 * a->water_s1 + 0.02 * bub) / fmax(1.0, dist * 0.7);
      /* rubbing: soft broadband scratch following the hands */
      double r = urand(a);
      a->rub_s1 += 0.3 * (r - a->rub_s1);
      src += env_at(a, a->env_rub, t) * (r - a->rub_s1) / dist;
    }
    double wet = reverb(a, src);
    /* room: pink noise (Paul Kellet's filter) and hum */
    double w = urand(a);
    double *b = a->pink;
    b[0] = 0.99886 * b[0] + w * 0.0555179;
    b[1] = 0.99332 * b[1] + w * 0.0750759;
    b[2] = 0.96900 * b[2] + w * 0.1538520;
    b[3] = 0.86650 * b[3] + w * 0.3104856;
    b[4] = 0.55000 * b[4] + w * 0.5329522;
    b[5] = -0.7616 * b[5] - w * 0.0168980;
    double pink = (b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + w * 0.5362) * 0.11;
    b[6] = w * 0.115926;
    double room = a->noise_amp * pink;
    if (L->hum_hz > 0)
      room += a->noise_amp * 0.3 * (sin(2 * M_PI * L->hum_hz * t) + 0.5 * sin(4 * M_PI * L->hum_hz * t));
    double x = a->plan.mic_gain * (src * (1 - a->wet * 0.5) + a->wet * 1.5 * wet + room);
    /* microphone: DC-blocking high-pass, int16 with clipping */
    double y = x - a->hp_x + 0.995 * a->hp_y;
    a->hp_x = x;
    a->hp_y = y;
    double s = y * 32767.0;
    out[k] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : lrint(s));
  }
  a->n_done += n;
}
