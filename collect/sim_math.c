/*
 * The simulator's arithmetic: a counter-free deterministic random generator (xoshiro256**
 * seeded through splitmix64, so that every component of every session draws from its own
 * stream: changing how the audio uses randomness never changes the body or the video), smooth
 * random functions of time, and 3x3 rotations.
 */
#include <math.h>

#include "sim.h"

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t sim_hash64(uint64_t a, uint64_t b) {
  uint64_t x = a ^ (b * 0xD1B54A32D192ED03ull);
  splitmix(&x);
  return splitmix(&x);
}

void sim_rng_seed(sim_rng *r, uint64_t seed, uint64_t stream) {
  uint64_t x = sim_hash64(seed, stream);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rng_u64(sim_rng *r) {
  uint64_t *s = r->s;
  uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return out;
}

double sim_rng_uniform(sim_rng *r) { return (double)(sim_rng_u64(r) >> 11) * 0x1.0p-53; }
double sim_rng_range(sim_rng *r, double lo, double hi) { return lo + (hi - lo) * sim_rng_uniform(r); }
int sim_rng_int(sim_rng *r, int n) { return (int)(sim_rng_uniform(r) * n); }

double sim_rng_normal(sim_rng *r) {
  /* Box-Muller without caching, so that the stream position never depends on call history. */
  double u1 = sim_rng_uniform(r), u2 = sim_rng_uniform(r);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void sim_wobble_init(sim_wobble *w, sim_rng *r, double amplitude, double f_lo, double f_hi) {
  for (int i = 0; i < SIM_WOBBLE_N; i++) {
    w->a[i] = amplitude * sim_rng_range(r, 0.4, 1.0) / sqrt((double)SIM_WOBBLE_N);
    w->w[i] = 2.0 * M_PI * sim_rng_range(r, f_lo, f_hi);
    w->p[i] = sim_rng_range(r, 0, 2 * M_PI);
  }
}

double sim_wobble_at(const sim_wobble *w, double t) {
  double v = 0;
  for (int i = 0; i < SIM_WOBBLE_N; i++) v += w->a[i] * sin(w->w[i] * t + w->p[i]);
  return v;
}

double sim_wobble_integral(const sim_wobble *w, double t) {
  double v = 0;
  for (int i = 0; i < SIM_WOBBLE_N; i++)
    v += w->a[i] / w->w[i] * (cos(w->p[i]) - cos(w->w[i] * t + w->p[i]));
  return v;
}

mat3 m3_identity(void) {
  mat3 m = {{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
  return m;
}

mat3 m3_mul(mat3 a, mat3 b) {
  mat3 c;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      c.m[i][j] = a.m[i][0] * b.m[0][j] + a.m[i][1] * b.m[1][j] + a.m[i][2] * b.m[2][j];
  return c;
}

vec3 m3_apply(mat3 a, vec3 v) {
  return v3(a.m[0][0] * v.x + a.m[0][1] * v.y + a.m[0][2] * v.z,
            a.m[1][0] * v.x + a.m[1][1] * v.y + a.m[1][2] * v.z,
            a.m[2][0] * v.x + a.m[2][1] * v.y + a.m[2][2] * v.z);
}

vec3 m3_apply_t(mat3 a, vec3 v) {
  return v3(a.m[0][0] * v.x + a.m[1][0] * v.y + a.m[2][0] * v.z,
            a.m[0][1] * v.x + a.m[1][1] * v.y + a.m[2][1] * v.z,
            a.m[0][2] * v.x + a.m[1][2] * v.y + a.m[2][2] * v.z);
}

mat3 m3_rot_x(double a) {
  double c = cos(a), s = sin(a);
  mat3 m = {{{1, 0, 0}, {0, c, -s}, {0, s, c}}};
  return m;
}

mat3 m3_rot_y(double a) {
  double c = cos(a), s = sin(a);
  mat3 m = {{{c, 0, s}, {0, 1, 0}, {-s, 0, c}}};
  return m;
}

mat3 m3_rot_z(double a) {
  double c = cos(a), s = sin(a);
  mat3 m = {{{c, -s, 0}, {s, c, 0}, {0, 0, 1}}};
  return m;
}

vec3 m3_angular_velocity(mat3 a, mat3 b, double dt) {
  /* d = a^T b is the rotation over dt in a's frame; its axis-angle over dt is the mean rate. */
  mat3 d;
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++)
      d.m[i][j] = a.m[0][i] * b.m[0][j] + a.m[1][i] * b.m[1][j] + a.m[2][i] * b.m[2][j];
  double tr = d.m[0][0] + d.m[1][1] + d.m[2][2];
  double c = (tr - 1) / 2;
  if (c > 1) c = 1;
  if (c < -1) c = -1;
  double ang = acos(c), s = sin(ang);
  double k = (fabs(s) < 1e-9) ? 0.5 : ang / (2 * s);
  vec3 w = v3(d.m[2][1] - d.m[1][2], d.m[0][2] - d.m[2][0], d.m[1][0] - d.m[0][1]);
  return v3_scale(w, k / dt);
}
