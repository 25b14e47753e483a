/*
 * Planning the corpus: presets, people, locations, and one plan per session.
 *
 * A plan holds every random choice of a session (who, where, what, how long, camera pose,
 * clocks, sensor imperfections) and is drawn from hash(seed, session index) alone, so sessions
 * can be made in any order and in parallel and still come out byte-identical. People and
 * locations are drawn from hash(seed, user or location index): the same person has the same
 * body and style in every session, the same location the same floor, walls, light and sound.
 *
 * The `cmactivity` preset follows the study's corpus: 767 clips of about 10 s (125 minutes per
 * modality), 2 users, 6 locations; the 6th has no stairs, so it holds only the five other
 * activities (the study's personalisation set, 72 clips). The study's Table 1 per-activity
 * counts are not available here; the preset spreads clips about evenly over the activities,
 * slightly fewer stair clips (stairs are not in the 6th location), which gives the window
 * counts of DESIGN.md within a few percent. `quick` is one short clip per activity plus one
 * multi-activity schedule at low resolution, for the tests.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cm_util.h"
#include "sim.h"

int sim_preset_get(const char *name, sim_preset *o) {
  memset(o, 0, sizeof *o);
  o->audio_rate = 22050;
  o->imu_rate = 25;
  o->fps = 29;
  o->ntp_spread_s = 0.5;
  if (strcmp(name, "cmactivity") == 0) {
    static const int counts[SIM_N_ACTIVITIES] = {100, 100, 113, 112, 114, 114, 114};
    o->n_users = 2;
    o->n_locations = 6;
    o->stairless_location = 5;
    o->stairless_clips = 72;
    o->clip_s = 9.8;
    o->width = 320;
    o->height = 240;
    memcpy(o->counts, counts, sizeof counts);
    o->schedule_sessions = 0;
  } else if (strcmp(name, "quick") == 0) {
    o->n_users = 2;
    o->n_locations = 2;
    o->stairless_location = 1;
    o->stairless_clips = 5;
    o->clip_s = 4;
    o->width = 160;
    o->height = 120;
    for (int a = 0; a < SIM_N_ACTIVITIES; a++) o->counts[a] = 1;
    o->schedule_sessions = 1;
  } else {
    return cm_set_error("unknown preset '%s' (known: quick, cmactivity)", name);
  }
  o->n_sessions = o->schedule_sessions;
  for (int a = 0; a < SIM_N_ACTIVITIES; a++) o->n_sessions += o->counts[a];
  return 0;
}

static void rgb(double *c, sim_rng *r, double lo, double hi) {
  for (int i = 0; i < 3; i++) c[i] = sim_rng_range(r, lo, hi);
}

void sim_person_make(uint64_t seed, int index, sim_person *o) {
  sim_rng r;
  sim_rng_seed(&r, sim_hash64(seed, 0x5045524Full), (uint64_t)index);
  memset(o, 0, sizeof *o);
  o->id = index;
  o->height_m = sim_rng_range(&r, 1.58, 1.88);
  o->mass_kg = 22.0 * o->height_m * o->height_m * sim_rng_range(&r, 0.9, 1.15);
  o->tempo = sim_rng_range(&r, 0.88, 1.12);
  o->amplitude = sim_rng_range(&r, 0.85, 1.15);
  o->arm_swing = sim_rng_range(&r, 0.6, 1.3);
  o->elbow_bend = sim_rng_range(&r, 0.7, 1.3);
  o->lean = sim_rng_range(&r, -0.5, 1.0);
  o->bounce = sim_rng_range(&r, 0.75, 1.25);
  o->stride = sim_rng_range(&r, 0.9, 1.1);
  o->wash_rate_hz = sim_rng_range(&r, 1.6, 2.8);
  o->claps = sim_rng_uniform(&r) < 0.5;
  o->rail_hand = sim_rng_int(&r, 3);
  rgb(o->shirt, &r, 0.05, 0.9);
  rgb(o->pants, &r, 0.05, 0.45);
  double tone = sim_rng_range(&r, 0.35, 0.95);
  o->skin[0] = tone;
  o->skin[1] = tone * 0.75;
  o->skin[2] = tone * 0.6;
}

void sim_location_make(uint64_t seed, int index, int has_stairs, sim_location *o) {
  static const char *names[] = {"hallway", "stairwell", "lobby", "office", "kitchen", "lab",
                                "corridor", "garage"};
  sim_rng r;
  sim_rng_seed(&r, sim_hash64(seed, 0x4C4F43ull), (uint64_t)index);
  memset(o, 0, sizeof *o);
  o->id = index;
  snprintf(o->name, sizeof o->name, "%s%d", names[index % 8], index + 1);
  o->has_stairs = has_stairs;
  o->floor = sim_rng_int(&r, 4);
  o->width_m = sim_rng_range(&r, 4.0, 6.5);
  o->ceiling_m = sim_rng_range(&r, 2.6, 3.6);
  rgb(o->floor_rgb, &r, 0.15, 0.7);
  for (int i = 0; i < 3; i++) o->floor_rgb2[i] = o->floor_rgb[i] * sim_rng_range(&r, 0.6, 0.95);
  rgb(o->wall_rgb, &r, 0.45, 0.95);
  rgb(o->feature_rgb, &r, 0.05, 0.6);
  o->tile_m = sim_rng_range(&r, 0.3, 0.6);
  o->feature_period_m = sim_rng_range(&r, 2.0, 5.0);
  o->light_period_m = sim_rng_range(&r, 2.0, 4.0);
  o->brightness = sim_rng_range(&r, 0.45, 1.1);
  /* Hard floors ring, carpet damps; bigger/harder rooms reverberate longer. */
  static const double hollow[4] = {0.5, 0.8, 0.15, 0.35};
  o->floor_hollow = hollow[o->floor] * sim_rng_range(&r, 0.8, 1.2);
  o->rt60_s = sim_rng_range(&r, 0.3, 0.9) * (o->floor == FLOOR_CARPET ? 0.6 : 1.0);
  o->noise_db = sim_rng_range(&r, -62, -44);
  o->hum_hz = sim_rng_uniform(&r) < 0.5 ? 50 : 0;
}

/* Clocks and the radio: the spreads below are those of phones on Wi-Fi NTP and of BLE wrist
 * sensors (crystals of tens of ppm, 7.5-50 ms connection intervals, losses under a percent
 * with occasional bursts when the body shadows the antenna). */
static void plan_clocks(sim_plan *p, sim_rng *r, double spread) {
  sim_host_clock *hosts[2] = {&p->cam_host, &p->imu_host};
  for (int h = 0; h < 2; h++) {
    sim_host_clock *c = hosts[h];
    c->uncertainty_s = spread * sim_rng_range(r, 0.25, 1.0);
    c->ntp_error_s = c->uncertainty_s * sim_rng_range(r, -0.95, 0.95);
    c->root_delay_s = c->uncertainty_s * sim_rng_range(r, 0.4, 1.2);
    c->slew0_s = 0.003 * sim_rng_normal(r);
    c->slew_ppm = 0.5 * sim_rng_normal(r);
    c->freq_ppm = 15 * sim_rng_normal(r);
    c->poll_s = 2.0;
  }
  for (int s = 0; s < 2; s++) {
    sim_sensor *n = &p->sensor[s];
    n->offset_s = sim_rng_range(r, 100, 90000);
    n->drift_ppm = sim_rng_range(r, -40, 40);
    n->latency_s = sim_rng_range(r, 0.015, 0.05);
    n->jitter_s = sim_rng_range(r, 0.003, 0.02);
    n->loss = sim_rng_range(r, 0.0, 0.01);
    n->burst_rate_hz = sim_rng_range(r, 0.0, 0.08);
    n->burst_len_s = sim_rng_range(r, 0.1, 0.8);
    for (int i = 0; i < 3; i++) {
      n->acc_bias[i] = 0.15 * sim_rng_normal(r);
      n->gyro_bias[i] = 0.01 * sim_rng_normal(r);
      n->acc_scale[i] = 1 + 0.015 * sim_rng_normal(r);
      n->gyro_scale[i] = 1 + 0.015 * sim_rng_normal(r);
    }
    n->acc_noise = 0.03;   /* m/s^2 rms at 25 Hz */
    n->gyro_noise = 0.006; /* rad/s rms */
    n->acc_range = 8 * 9.81;
    n->gyro_range = 2000 * M_PI / 180;
    n->samples_per_packet = (int)fmax(1, round(p->imu_rate * 0.2));
    /* a band is never worn the same way twice: turned about the forearm, tilted a little */
    n->mount_roll = 0.35 * sim_rng_normal(r);
    n->mount_pitch = 0.12 * sim_rng_normal(r);
  }
  p->audio_ppm = sim_rng_range(r, -30, 30);
  p->frame_drop_prob = sim_rng_range(r, 0.0, 0.004);
}

static void plan_camera(sim_plan *p, sim_rng *r, const sim_preset *ps) {
  sim_camera *c = &p->camera;
  /* Handheld phone following the person: side, front-oblique or back-oblique. */
  static const double az[3] = {-M_PI / 2, -M_PI / 4, -3 * M_PI / 4};
  c->azimuth = az[sim_rng_int(r, 3)] + sim_rng_range(r, -0.25, 0.25);
  c->distance = sim_rng_range(r, 2.6, 4.2);
  c->height = sim_rng_range(r, 1.0, 1.6);
  c->hfov = sim_rng_range(r, 55, 70) * M_PI / 180;
  c->follow_lag_s = sim_rng_range(r, 0.3, 0.8);
  c->shake = sim_rng_range(r, 0.003, 0.015);
  c->exposure_bias = sim_rng_range(r, 0.85, 1.15);
  c->read_noise = sim_rng_range(r, 1.5, 4.0);
  for (int i = 0; i < 3; i++) c->white_balance[i] = sim_rng_range(r, 0.92, 1.08);
  c->width = ps->width;
  c->height_px = ps->height;
  c->fps = ps->fps;
}

/* Which activity, user and location session `index` is. Clips come first, in activity order
 * (the 6th location's share of each non-stair activity first), then schedules. */
static void assign(const sim_preset *ps, uint64_t seed, int index, int *activity, int *user,
                   int *loc, int *is_schedule) {
  sim_rng r;
  sim_rng_seed(&r, seed, 0x41535347ull + (uint64_t)index);
  int i = index;
  *is_schedule = 0;
  *activity = -1;
  for (int a = 0; a < SIM_N_ACTIVITIES; a++) {
    if (i < ps->counts[a]) {
      *activity = a;
      break;
    }
    i -= ps->counts[a];
  }
  if (*activity < 0) *is_schedule = 1;
  *user = sim_rng_int(&r, ps->n_users);
  int stairs = *activity == SIM_UPSTAIRS || *activity == SIM_DOWNSTAIRS || *is_schedule;
  int n_stair_locs = ps->n_locations - (ps->stairless_location >= 0 ? 1 : 0);
  if (stairs || ps->stairless_location < 0) {
    *loc = sim_rng_int(&r, n_stair_locs);
    if (*loc >= ps->stairless_location && ps->stairless_location >= 0) (*loc)++;
  } else {
    /* the stairless location takes the first clips of each of the five other activities */
    int rank = *activity == SIM_RUN ? 0 : *activity == SIM_JUMP ? 1 : *activity == SIM_WALK ? 2
             : *activity == SIM_HANDWASHING ? 3 : 4;
    int share = ps->stairless_clips / 5 + (rank < ps->stairless_clips % 5);
    if (i < share) {
      *loc = ps->stairless_location;
    } else {
      *loc = sim_rng_int(&r, n_stair_locs);
      if (*loc >= ps->stairless_location) (*loc)++;
    }
  }
}

void sim_plan_make(const sim_preset *ps, uint64_t seed, int index, sim_plan *p) {
  memset(p, 0, sizeof *p);
  int activity, user, loc, sched;
  assign(ps, seed, index, &activity, &user, &loc, &sched);
  p->seed = sim_hash64(seed, 0x53455353ull + (uint64_t)index);
  p->index = index;
  snprintf(p->session_id, sizeof p->session_id, "S%04d", index + 1);
  sim_rng r;
  sim_rng_seed(&r, p->seed, 1);
  /* Sessions of one corpus are spread over days: 2018-03-05 09:00 UTC plus 7 minutes each. */
  p->t0_ref_ns = 1520240400LL * 1000000000LL + (int64_t)index * 420LL * 1000000000LL +
                 (int64_t)(sim_rng_range(&r, 0, 60) * 1e9);
  sim_person_make(seed, user, &p->person);
  sim_location_make(seed, loc, loc != ps->stairless_location, &p->location);
  /* the same person moves a little differently every session: tired or fresh, hurried or not,
   * something in one hand */
  sim_person *pe = &p->person;
  pe->tempo *= sim_rng_range(&r, 0.88, 1.12);
  pe->amplitude *= sim_rng_range(&r, 0.82, 1.18);
  pe->arm_swing *= sim_rng_range(&r, 0.6, 1.4);
  pe->elbow_bend *= sim_rng_range(&r, 0.75, 1.25);
  pe->lean += sim_rng_range(&r, -0.6, 0.6);
  pe->bounce *= sim_rng_range(&r, 0.8, 1.2);
  pe->stride *= sim_rng_range(&r, 0.9, 1.1);
  pe->wash_rate_hz *= sim_rng_range(&r, 0.8, 1.2);
  pe->carry_hand = sim_rng_uniform(&r) < 0.3 ? 1 + sim_rng_int(&r, 2) : 0;
  pe->pron_offset = 0.3 * sim_rng_normal(&r);
  if (sim_rng_uniform(&r) < 0.3) pe->rail_hand = sim_rng_int(&r, 3);
  p->imu_rate = ps->imu_rate;
  p->audio_rate = ps->audio_rate;
  p->mic_gain = sim_rng_range(&r, 0.6, 1.4);
  p->transition_s = 1.2;
  p->heading_face = sim_rng_range(&r, -2.2, -0.9); /* roughly facing a camera on the -y side */
  if (!sched) {
    double d = ps->clip_s * sim_rng_range(&r, 0.9, 1.1);
    p->n_segments = 1;
    p->seg[0] = (sim_segment){activity, -5, d + 5};
    p->label_start_s = 0;
    p->label_end_s = d;
  } else {
    /* a walk through the building: walk, stairs, walk, an in-place activity, walk, ... */
    static const int pattern[] = {SIM_WALK, SIM_UPSTAIRS, SIM_WALK, SIM_HANDWASHING, SIM_WALK,
                                  SIM_DOWNSTAIRS, SIM_RUN, SIM_JUMP, SIM_WALK, SIM_EXERCISE};
    int n = ps->clip_s < 6 ? 4 : 10;
    double t = 0;
    for (int k = 0; k < n; k++) {
      double d = (ps->clip_s < 6 ? 3.5 : 8) * sim_rng_range(&r, 0.8, 1.3);
      p->seg[k] = (sim_segment){pattern[k], t, t + d};
      t += d;
    }
    p->n_segments = n;
    p->label_start_s = 0;
    p->label_end_s = t;
    p->seg[0].start_s = -5;
    p->seg[n - 1].end_s = t + 5;
  }
  /* The camera records the labelled span (a clip is what the phone recorded); the wrist
   * sensors were started earlier and stopped later, as a person would. */
  p->cam_start_s = p->label_start_s;
  p->cam_end_s = p->label_end_s;
  p->imu_start_s = p->label_start_s - sim_rng_range(&r, 0.8, 3.0);
  p->imu_end_s = p->label_end_s + sim_rng_range(&r, 0.8, 3.0);
  plan_camera(p, &r, ps);
  plan_clocks(p, &r, ps->ntp_spread_s);
}
