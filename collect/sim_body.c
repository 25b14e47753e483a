/*
 * The jointed body: pelvis, trunk, head, upper and lower arms, hands, thighs, shanks and feet,
 * driven through each activity by joint-angle curves in the spirit of clinical gait charts
 * (hip flexion roughly sinusoidal, knee with a loading bump and a swing peak, arms in
 * counter-phase), scaled by the person's size, tempo, amplitude and style.
 *
 * Everything is a pure function of time: each activity has its own phase, advanced at the
 * person's cadence times a slow random tempo wobble (cycle-to-cycle variation without
 * discontinuities), and its own amplitude wobble. A schedule is a sequence of segments; near a
 * boundary the joint angles, speed, heading and lateral position of the two activities are
 * blended with a smoothstep over `transition_s`, so motion stays smooth and the wrist IMU (which
 * differentiates the wrist path twice) sees physical accelerations. The only non-smooth moments
 * are real ones: landings of jumps and jumping jacks, where the pelvis velocity changes within
 * one contact, as a body's does.
 *
 * The forward position along the corridor is the integral of the blended speed, precomputed on
 * a 2 ms grid and evaluated between grid points as the exact integral of the linearly
 * interpolated speed. From that path the ground is laid: a flight of stairs under every stair
 * segment, flat floor elsewhere, and the sink where the person stops to wash hands.
 *
 * Forward kinematics: a segment's rest direction is straight down (local -z); F(a) swings it
 * forward by a (flexion), abduction swings it sideways away from the body, internal rotation
 * and pronation turn it about its own axis. Wrist sensors sit on the back of the wrist: x along
 * the forearm (towards the hand on the left wrist, towards the elbow on the right, as the same
 * watch worn on the other arm), z out of the back of the wrist.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "sim.h"

#define DEG (M_PI / 180.0)
#define GRAV 9.81
#define GRID_DT 0.002
#define STAIR_RISE 0.17
#define STAIR_TREAD 0.28

/* Joint angles and root quantities of one activity at one instant (index 0 left, 1 right). */
typedef struct {
  double hipF[2], hipA[2], knee[2], ankle[2];
  double shF[2], shA[2], shR[2], elbow[2], pron[2];
  double lean, roll, bob; /* trunk pitch, roll; pelvis height offset (m) */
  double speed;           /* forward speed (m/s) */
  double lat_y;           /* lateral position target */
  double heading;
  double rub, water;
} act_q;
#define ACT_Q_N (sizeof(act_q) / sizeof(double))

typedef struct {
  double freq;  /* cycles per second */
  double speed; /* m/s for locomotion */
  double amp;
  sim_wobble tempo, ampw;
} act_param;

struct sim_body {
  sim_plan plan;
  act_param act[SIM_N_ACTIVITIES];
  /* body dimensions */
  double thigh, shank, foot, upper_arm, forearm, hand, trunk, hip_w, sh_w, leg_h, head_r, neck;
  double track_y, wash_y;
  /* forward path grid */
  double t_min;
  size_t n_grid;
  double *v, *x;
};

const char *const sim_activity_names[SIM_N_ACTIVITIES] = {
    "downstairs", "upstairs", "run", "jump", "walk", "handwashing", "exercise"};

int sim_activity_from_name(const char *name) {
  for (int i = 0; i < SIM_N_ACTIVITIES; i++)
    if (strcmp(name, sim_activity_names[i]) == 0) return i;
  return -1;
}

static double smoothstep(double u) {
  if (u <= 0) return 0;
  if (u >= 1) return 1;
  return u * u * u * (u * (u * 6 - 15) + 10); /* C2: keeps accelerations continuous */
}

/* A bump on the unit circle of phase, centred at c with width w. */
static double bump(double phase, double c, double w) {
  double d = phase - c;
  d -= floor(d + 0.5);
  return exp(-0.5 * d * d / (w * w));
}

static double frac(double x) { return x - floor(x); }

/* Phase (in cycles) of activity a at time t. */
static double act_phase(const sim_body *b, int a, double t) {
  const act_param *p = &b->act[a];
  return p->freq * (t + sim_wobble_integral(&p->tempo, t));
}

/* Rate of phase, cycles/s. */
static double act_rate(const sim_body *b, int a, double t) {
  const act_param *p = &b->act[a];
  return p->freq * (1 + sim_wobble_at(&p->tempo, t));
}

/* Vertical hop profile over a half cycle u in [0,1): ground phase (crouch) then flight. */
static double hop_z(double u, double flight_frac, double height, double crouch) {
  double g = 1 - flight_frac;
  if (u < g) return -crouch * sin(M_PI * u / g);
  double v = (u - g) / flight_frac;
  return 4 * height * v * (1 - v);
}

static void gait(const sim_body *b, int a, double t, act_q *q) {
  const sim_person *pe = &b->plan.person;
  const act_param *ap = &b->act[a];
  double ph = act_phase(b, a, t);
  double amp = ap->amp * (1 + sim_wobble_at(&ap->ampw, t));
  double hipA_amp, hip_off, knee_load, knee_swing, arm, elbow0, lean, bob;
  switch (a) {
  case SIM_RUN:
    hipA_amp = 38; hip_off = 8; knee_load = 35; knee_swing = 95; arm = 28; elbow0 = 85;
    lean = 10; bob = 0.05;
    break;
  case SIM_UPSTAIRS:
    hipA_amp = 28; hip_off = 22; knee_load = 55; knee_swing = 90; arm = 10; elbow0 = 20;
    lean = 12; bob = 0.025;
    break;
  case SIM_DOWNSTAIRS:
    hipA_amp = 20; hip_off = 8; knee_load = 45; knee_swing = 65; arm = 12; elbow0 = 18;
    lean = -2; bob = 0.03;
    break;
  default: /* walk */
    hipA_amp = 24; hip_off = 4; knee_load = 15; knee_swing = 60; arm = 18; elbow0 = 18;
    lean = 3; bob = 0.022;
    break;
  }
  for (int s = 0; s < 2; s++) {
    double p = ph + (s == 0 ? 0.5 : 0.0); /* right heel strike at phase 0, left at 0.5 */
    double c = cos(2 * M_PI * p);
    q->hipF[s] = (hip_off + hipA_amp * amp * pe->stride * c) * DEG;
    q->hipA[s] = (2 + 2 * cos(2 * M_PI * p + 1.0)) * DEG;
    q->knee[s] = (5 + knee_load * amp * bump(p, 0.13, 0.07) + knee_swing * amp * bump(p, 0.72, 0.11)) * DEG;
    q->ankle[s] = (5 * sin(2 * M_PI * p) - 12 * bump(p, 0.6, 0.06)) * DEG;
    double sw = -arm * amp * pe->arm_swing * c; /* arm opposite to the same-side leg */
    double rail = (pe->rail_hand == 1 + (s == 1)) && (a == SIM_UPSTAIRS || a == SIM_DOWNSTAIRS);
    q->shF[s] = rail ? 25 * DEG + 0.3 * sw * DEG : (4 + sw) * DEG;
    q->shA[s] = rail ? 30 * DEG : (8 + 2 * sin(2 * M_PI * p)) * DEG;
    q->shR[s] = 0;
    q->elbow[s] = (elbow0 * pe->elbow_bend + (a == SIM_RUN ? 15 : 8) * amp * (1 + c) / 2) * DEG;
    if (rail) q->elbow[s] = 35 * DEG;
    q->pron[s] = 10 * DEG * sin(2 * M_PI * p) + pe->pron_offset;
    if (pe->carry_hand == 1 + (s == 1) && !rail) {
      /* carrying a phone or a cup: forearm up, hardly any swing */
      q->shF[s] = (10 + 0.15 * sw) * DEG;
      q->elbow[s] = 75 * DEG;
      q->pron[s] = 60 * DEG + pe->pron_offset;
    }
  }
  q->lean = (lean + 3 * pe->lean) * DEG;
  q->roll = 3 * DEG * sin(2 * M_PI * ph);
  /* two vertical excursions per stride, lowest at heel strikes (walking) or highest in flight
   * (running) */
  double step = frac(2 * ph);
  if (a == SIM_RUN)
    q->bob = bob * pe->bounce * (hop_z(step, 0.35, 1.0, 0.6));
  else
    q->bob = -bob * pe->bounce * cos(4 * M_PI * ph);
  double rate = act_rate(b, a, t) / ap->freq;
  q->speed = ap->speed * rate * (1 + (a == SIM_RUN ? 0.04 : 0.06) * cos(4 * M_PI * ph));
  q->lat_y = b->track_y;
  q->heading = 0;
}

static void jump(const sim_body *b, double t, act_q *q) {
  const sim_person *pe = &b->plan.person;
  const act_param *ap = &b->act[SIM_JUMP];
  double ph = act_phase(b, SIM_JUMP, t), u = frac(ph);
  double amp = ap->amp * (1 + sim_wobble_at(&ap->ampw, t));
  double h = 0.22 * amp * pe->bounce, ff = 2 * sqrt(2 * h / GRAV) * ap->freq;
  if (ff > 0.6) ff = 0.6;
  double crouch = 0.18 * amp;
  double z = hop_z(u, ff, h, crouch);
  double dip = z < 0 ? -z / crouch : 0; /* 0 standing/flight .. 1 deepest crouch */
  double g = 1 - ff;
  double arm_up = u < g ? -40 * sin(M_PI * u / g) + 100 * smoothstep((u - 0.6 * g) / (0.4 * g))
                        : 100 * (1 - smoothstep((u - g) / ff)) + 0 ;
  for (int s = 0; s < 2; s++) {
    q->knee[s] = (8 + 85 * dip) * DEG;
    q->hipF[s] = (5 + 55 * dip) * DEG;
    q->hipA[s] = 4 * DEG;
    q->ankle[s] = (u >= g ? -25 * sin(M_PI * (u - g) / ff) : 20 * dip) * DEG;
    q->shF[s] = arm_up * pe->arm_swing * DEG;
    q->shA[s] = 10 * DEG;
    q->shR[s] = 0;
    q->elbow[s] = (15 + 10 * dip) * pe->elbow_bend * DEG;
    q->pron[s] = 0;
  }
  q->lean = (10 + 30 * dip) * DEG;
  q->roll = 0;
  q->bob = z;
  q->speed = 0;
  q->lat_y = b->track_y;
  q->heading = b->plan.heading_face;
}

static void jumping_jack(const sim_body *b, double t, act_q *q) {
  const sim_person *pe = &b->plan.person;
  const act_param *ap = &b->act[SIM_EXERCISE];
  double ph = act_phase(b, SIM_EXERCISE, t);
  double amp = ap->amp * (1 + sim_wobble_at(&ap->ampw, t));
  double open = (1 - cos(2 * M_PI * ph)) / 2; /* 0 closed, 1 open (arms up, legs apart) */
  double h = 0.06 * pe->bounce * amp;
  double z = hop_z(frac(2 * ph), 0.45, h, 0.05);
  for (int s = 0; s < 2; s++) {
    q->hipA[s] = (2 + 16 * amp * open) * DEG;
    q->hipF[s] = (3 + (z < 0 ? -z * 300 : 0)) * DEG;
    q->knee[s] = (5 + (z < 0 ? -z * 500 : 0)) * DEG;
    q->ankle[s] = 0;
    q->shA[s] = (12 + (pe->claps ? 163 : 150) * fmin(1.0, amp) * open) * DEG;
    q->shF[s] = 6 * DEG;
    q->shR[s] = 0;
    q->elbow[s] = (10 + 15 * (1 - open)) * pe->elbow_bend * DEG;
    q->pron[s] = -60 * open * DEG;
  }
  q->lean = 3 * DEG;
  q->roll = 0;
  q->bob = z;
  q->speed = 0;
  q->lat_y = b->track_y;
  q->heading = b->plan.heading_face;
}

static void handwashing(const sim_body *b, double t, act_q *q) {
  const sim_person *pe = &b->plan.person;
  const act_param *ap = &b->act[SIM_HANDWASHING];
  double ph = act_phase(b, SIM_HANDWASHING, t);
  double amp = ap->amp * (1 + sim_wobble_at(&ap->ampw, t));
  /* Rubbing comes in bouts: soap and scrub, then rinse under the tap with slower movements. */
  double bout = 0.5 + 0.5 * sin(2 * M_PI * 0.17 * t + 1.3 * sim_wobble_at(&ap->tempo, t * 0.5) * 20);
  double rub = 0.35 + 0.65 * bout;
  for (int s = 0; s < 2; s++) {
    double sg = s == 0 ? 1 : -1;
    double w = 2 * M_PI * ph;
    q->hipF[s] = 6 * DEG;
    q->hipA[s] = 3 * DEG;
    q->knee[s] = 6 * DEG;
    q->ankle[s] = 0;
    q->shF[s] = (32 + 3 * rub * amp * sin(w + (s ? M_PI : 0))) * DEG;
    q->shA[s] = (-4 + 2.5 * rub * amp * cos(w + (s ? M_PI : 0))) * DEG;
    q->shR[s] = (42 + 5 * rub * amp * sg * sin(w)) * DEG;
    q->elbow[s] = (62 + 5 * rub * amp * cos(w)) * DEG;
    q->pron[s] = (20 + 35 * rub * amp * sin(w + (s ? 0.6 : 0))) * DEG;
  }
  q->lean = (14 + 2 * sin(2 * M_PI * 0.2 * t)) * DEG;
  q->roll = 1.5 * DEG * sin(2 * M_PI * 0.13 * t);
  q->bob = -0.01;
  q->speed = 0;
  q->lat_y = b->wash_y;
  q->heading = M_PI / 2;
  q->rub = rub;
  q->water = 1;
  (void)pe;
}

static void act_pose(const sim_body *b, int a, double t, act_q *q) {
  memset(q, 0, sizeof *q);
  switch (a) {
  case SIM_JUMP: jump(b, t, q); break;
  case SIM_EXERCISE: jumping_jack(b, t, q); break;
  case SIM_HANDWASHING: handwashing(b, t, q); break;
  default: gait(b, a, t, q); break;
  }
}

/* The (at most two) activities active at t and their weights. */
static int weights_at(const sim_plan *p, double t, int act[2], double w[2]) {
  int k = 0;
  while (k < p->n_segments - 1 && t >= p->seg[k].end_s) k++;
  double tau = p->transition_s;
  act[0] = p->seg[k].activity;
  w[0] = 1;
  if (k > 0 && t - p->seg[k].start_s < tau / 2) {
    double wk = smoothstep(0.5 + (t - p->seg[k].start_s) / tau);
    act[1] = p->seg[k - 1].activity;
    w[0] = wk;
    w[1] = 1 - wk;
    return 2;
  }
  if (k < p->n_segments - 1 && p->seg[k].end_s - t < tau / 2) {
    double wk = smoothstep(0.5 + (p->seg[k].end_s - t) / tau);
    act[1] = p->seg[k + 1].activity;
    w[0] = wk;
    w[1] = 1 - wk;
    return 2;
  }
  return 1;
}

static void blended_q(const sim_body *b, double t, act_q *q) {
  int act[2];
  double w[2];
  int n = weights_at(&b->plan, t, act, w);
  act_pose(b, act[0], t, q);
  if (n == 2 && act[1] != act[0]) {
    act_q q2;
    act_pose(b, act[1], t, &q2);
    double *d = (double *)q, *e = (double *)&q2;
    for (size_t i = 0; i < ACT_Q_N; i++) d[i] = w[0] * d[i] + w[1] * e[i];
  }
}

int sim_plan_activity_at(const sim_plan *p, double t) {
  for (int k = 0; k < p->n_segments; k++)
    if (t >= p->seg[k].start_s && t < p->seg[k].end_s) return p->seg[k].activity;
  return -1;
}

static double path_x(const sim_body *b, double t) {
  double g = (t - b->t_min) / GRID_DT;
  if (g < 0) return b->x[0] + b->v[0] * (t - b->t_min);
  size_t i = (size_t)g;
  if (i >= b->n_grid - 1) {
    size_t l = b->n_grid - 1;
    return b->x[l] + b->v[l] * (t - (b->t_min + l * GRID_DT));
  }
  double u = (g - i) * GRID_DT;
  return b->x[i] + b->v[i] * u + (b->v[i + 1] - b->v[i]) * u * u / (2 * GRID_DT);
}

double sim_body_ground_z(const sim_plan *p, double x) {
  for (int i = 0; i < p->n_ground; i++) {
    const sim_ground_piece *g = &p->ground[i];
    if (x >= g->x0 && x < g->x1) return g->z0 + g->slope * (x - g->x0);
  }
  if (p->n_ground == 0) return 0;
  const sim_ground_piece *g = x < p->ground[0].x0 ? &p->ground[0] : &p->ground[p->n_ground - 1];
  return g->z0 + g->slope * (x - g->x0);
}

static void person_params(sim_body *b) {
  const sim_plan *p = &b->plan;
  const sim_person *pe = &p->person;
  sim_rng r;
  sim_rng_seed(&r, p->seed, 101);
  double H = pe->height_m;
  b->thigh = 0.245 * H; b->shank = 0.246 * H; b->foot = 0.152 * H * 0.85;
  b->upper_arm = 0.186 * H; b->forearm = 0.146 * H; b->hand = 0.108 * H * 0.8;
  b->trunk = 0.288 * H; b->hip_w = 0.11 * H; b->sh_w = 0.21 * H;
  b->leg_h = b->thigh + b->shank + 0.039 * H;
  b->head_r = 0.065 * H; b->neck = 0.04 * H;
  b->track_y = 0;
  b->wash_y = p->location.width_m / 2 - 0.55;
  /* Cadence and speed per activity: typical adult values (walking about 1.8 steps/s at
   * 1.3 m/s, running about 2.8 steps/s, stairs one step per step), scaled by the person. */
  static const double base_freq[SIM_N_ACTIVITIES] = {0.95, 0.85, 1.42, 0.75, 0.92, 2.6, 1.05};
  for (int a = 0; a < SIM_N_ACTIVITIES; a++) {
    act_param *ap = &b->act[a];
    double tempo = pe->tempo * sim_rng_range(&r, 0.93, 1.07);
    ap->freq = base_freq[a] * tempo;
    if (a == SIM_HANDWASHING) ap->freq = pe->wash_rate_hz;
    ap->amp = pe->amplitude * sim_rng_range(&r, 0.92, 1.08);
    double stride = 2 * ap->freq;
    switch (a) {
    case SIM_WALK: ap->speed = stride * 0.36 * H * pe->stride; break;
    case SIM_RUN: ap->speed = stride * 0.62 * H * pe->stride; break;
    case SIM_UPSTAIRS: case SIM_DOWNSTAIRS: ap->speed = stride * STAIR_TREAD; break;
    default: ap->speed = 0;
    }
    sim_wobble_init(&ap->tempo, &r, a == SIM_HANDWASHING ? 0.12 : 0.05, 0.05, 0.35);
    sim_wobble_init(&ap->ampw, &r, 0.08, 0.08, 0.5);
  }
}

sim_body *sim_body_new(sim_plan *p) {
  sim_body *b = cm_xcalloc(1, sizeof *b);
  b->plan = *p;
  person_params(b);
  double t0 = fmin(p->cam_start_s, p->imu_start_s) - 2, t1 = fmax(p->cam_end_s, p->imu_end_s) + 2;
  t0 = fmin(t0, p->seg[0].start_s - 2);
  t1 = fmax(t1, p->seg[p->n_segments - 1].end_s + 2);
  b->t_min = t0;
  b->n_grid = (size_t)((t1 - t0) / GRID_DT) + 2;
  b->v = cm_xmalloc(b->n_grid * sizeof(double));
  b->x = cm_xmalloc(b->n_grid * sizeof(double));
  for (size_t i = 0; i < b->n_grid; i++) {
    act_q q;
    blended_q(b, t0 + i * GRID_DT, &q);
    b->v[i] = q.speed;
    b->x[i] = i == 0 ? 0 : b->x[i - 1] + 0.5 * (b->v[i - 1] + b->v[i]) * GRID_DT;
  }
  /* Lay the ground: stairs under stair segments, flat elsewhere; the sink where the person
   * stands to wash. */
  sim_plan *bp = &b->plan;
  bp->n_ground = 0;
  double z = 0, xprev = -1000;
  for (int k = 0; k < bp->n_segments && bp->n_ground < SIM_MAX_GROUND - 2; k++) {
    int a = bp->seg[k].activity;
    if (a != SIM_UPSTAIRS && a != SIM_DOWNSTAIRS) continue;
    double xa = path_x(b, bp->seg[k].start_s), xb = path_x(b, bp->seg[k].end_s);
    if (k == 0) xa = path_x(b, t0);
    if (k == bp->n_segments - 1) xb = path_x(b, t1);
    if (xa > xprev) bp->ground[bp->n_ground++] = (sim_ground_piece){xprev, xa, z, 0, 0};
    double slope = (a == SIM_UPSTAIRS ? 1 : -1) * STAIR_RISE / STAIR_TREAD;
    bp->ground[bp->n_ground++] = (sim_ground_piece){xa, xb, z, slope, 1};
    z += slope * (xb - xa);
    xprev = xb;
  }
  bp->ground[bp->n_ground++] = (sim_ground_piece){xprev, 1000, z, 0, 0};
  bp->sink_x = 0;
  for (int k = 0; k < bp->n_segments; k++)
    if (bp->seg[k].activity == SIM_HANDWASHING) {
      bp->sink_x = path_x(b, 0.5 * (bp->seg[k].start_s + bp->seg[k].end_s));
      break;
    }
  p->n_ground = bp->n_ground;
  memcpy(p->ground, bp->ground, sizeof p->ground);
  p->sink_x = bp->sink_x;
  return b;
}

void sim_body_free(sim_body *b) {
  if (!b) return;
  free(b->v);
  free(b->x);
  free(b);
}

static mat3 flex(double a) { return m3_rot_y(-a); }

void sim_body_pose(const sim_body *b, double t, sim_pose *o) {
  act_q q;
  blended_q(b, t, &q);
  double x = path_x(b, t);
  vec3 P = v3(x, q.lat_y, sim_body_ground_z(&b->plan, x) + b->leg_h * 0.98 + q.bob);
  mat3 Ry = m3_rot_z(q.heading);
  mat3 Rt = m3_mul(m3_mul(Ry, m3_rot_y(q.lean)), m3_rot_x(q.roll));
  o->heading = q.heading;
  o->head_r = b->head_r;
  o->rub = q.rub;
  o->water = q.water;
  o->j[J_PELVIS] = P;
  o->j[J_NECK] = v3_add(P, m3_apply(Rt, v3(0, 0, b->trunk)));
  o->j[J_HEAD] = v3_add(o->j[J_NECK], m3_apply(Rt, v3(0.01, 0, b->neck + b->head_r)));
  for (int s = 0; s < 2; s++) {
    double side = s == 0 ? 1 : -1;
    /* leg */
    vec3 hip = v3_add(P, m3_apply(Ry, v3(0, side * b->hip_w / 2, 0)));
    mat3 Rth = m3_mul(m3_mul(Ry, m3_rot_x(side * q.hipA[s])), flex(q.hipF[s]));
    vec3 knee = v3_add(hip, m3_apply(Rth, v3(0, 0, -b->thigh)));
    mat3 Rsh = m3_mul(Rth, flex(-q.knee[s]));
    vec3 ankle = v3_add(knee, m3_apply(Rsh, v3(0, 0, -b->shank)));
    mat3 Rft = m3_mul(Rsh, flex(q.ankle[s]));
    vec3 toe = v3_add(ankle, m3_apply(Rft, v3(b->foot, 0, -0.02)));
    o->j[J_HIP_L + s] = hip;
    o->j[J_KNEE_L + s] = knee;
    o->j[J_ANKLE_L + s] = ankle;
    o->j[J_TOE_L + s] = toe;
    /* arm */
    vec3 sh = v3_add(o->j[J_NECK], m3_apply(Rt, v3(0, side * b->sh_w / 2, -0.03)));
    mat3 Rua = m3_mul(m3_mul(m3_mul(Rt, m3_rot_x(side * q.shA[s])), flex(q.shF[s])),
                      m3_rot_z(-side * q.shR[s]));
    vec3 el = v3_add(sh, m3_apply(Rua, v3(0, 0, -b->upper_arm)));
    mat3 Rfa = m3_mul(Rua, flex(q.elbow[s]));
    vec3 wr = v3_add(el, m3_apply(Rfa, v3(0, 0, -b->forearm)));
    mat3 Rwr = m3_mul(Rfa, m3_rot_z(side * q.pron[s]));
    vec3 hand = v3_add(wr, m3_apply(Rwr, v3(0.01, 0, -b->hand)));
    o->j[J_SHOULDER_L + s] = sh;
    o->j[J_ELBOW_L + s] = el;
    o->j[J_WRIST_L + s] = wr;
    o->j[J_HAND_L + s] = hand;
    /* sensor axes in the wrist's local frame (columns): see the file comment */
    mat3 S = s == 0 ? (mat3){{{0, -1, 0}, {0, 0, 1}, {-1, 0, 0}}}
                    : (mat3){{{0, -1, 0}, {0, 0, -1}, {1, 0, 0}}};
    o->wrist[s] = m3_mul(Rwr, S);
  }
}

size_t sim_body_contacts(const sim_body *b, double t0, double t1, sim_contact *out, size_t cap) {
  size_t n = 0;
  const sim_plan *p = &b->plan;
  const double dt = 0.004;
  const double mg = p->person.mass_kg * GRAV;
  for (double t = t0; t < t1 && n < cap; t += dt) {
    double te = fmin(t + dt, t1);
    int act[2];
    double w[2];
    int na = weights_at(p, t, act, w);
    int a = act[0];
    if (na == 2 && w[1] > w[0]) a = act[1];
    double pa = act_phase(b, a, t), pb = act_phase(b, a, te);
    double amp = b->act[a].amp;
    switch (a) {
    case SIM_HANDWASHING: break;
    case SIM_JUMP:
      if (floor(pb) > floor(pa)) {
        double tc = t + (floor(pb) - pa) / (pb - pa) * (te - t);
        sim_pose ps;
        sim_body_pose(b, tc, &ps);
        double h = 0.22 * amp * p->person.bounce;
        out[n++] = (sim_contact){tc, mg * (1 + sqrt(2 * GRAV * h) / (GRAV * 0.12)), EV_LAND,
                                 v3_scale(v3_add(ps.j[J_ANKLE_L], ps.j[J_ANKLE_R]), 0.5)};
      }
      break;
    case SIM_EXERCISE:
      if (floor(2 * pb) > floor(2 * pa) && n < cap) {
        double tc = t + (floor(2 * pb) - 2 * pa) / (2 * pb - 2 * pa) * (te - t);
        sim_pose ps;
        sim_body_pose(b, tc, &ps);
        double h = 0.06 * p->person.bounce * amp;
        out[n++] = (sim_contact){tc, mg * (1 + sqrt(2 * GRAV * h) / (GRAV * 0.1)), EV_LAND,
                                 v3_scale(v3_add(ps.j[J_ANKLE_L], ps.j[J_ANKLE_R]), 0.5)};
      }
      if (p->person.claps && floor(pb - 0.5) > floor(pa - 0.5) && n < cap) {
        double tc = t + (floor(pb - 0.5) - (pa - 0.5)) / (pb - pa) * (te - t);
        sim_pose ps;
        sim_body_pose(b, tc, &ps);
        out[n++] = (sim_contact){tc, 1.0, EV_CLAP,
                                 v3_scale(v3_add(ps.j[J_HAND_L], ps.j[J_HAND_R]), 0.5)};
      }
      break;
    default: {
      /* heel strikes: right at integer phase, left at half phase */
      double f = a == SIM_RUN ? 2.6 : a == SIM_DOWNSTAIRS ? 1.7 : a == SIM_UPSTAIRS ? 1.25 : 1.15;
      if (floor(2 * pb) > floor(2 * pa)) {
        double k = floor(2 * pb);
        double tc = t + (k - 2 * pa) / (2 * pb - 2 * pa) * (te - t);
        int left = ((long)k) % 2 != 0;
        sim_pose ps;
        sim_body_pose(b, tc, &ps);
        double force = mg * f * (0.9 + 0.2 * amp) * (w[0] >= 0.5 || na == 1 ? 1 : 0.7);
        out[n++] = (sim_contact){tc, force, left ? EV_FOOT_L : EV_FOOT_R,
                                 ps.j[left ? J_ANKLE_L : J_ANKLE_R]};
      }
    }
    }
  }
  return n;
}
