/*
 * The phone camera: the location's scene ray-cast, the body rasterised over it, then the
 * sensor: auto-exposure, shot and read noise, white balance, gamma, 8 bits.
 *
 * Scene: a corridor along x (floor, two walls, ceiling), the ground laid by sim_body (flat floor
 * and flights of stairs, drawn as ramps shaded into treads, risers and nosings), doors and
 * posters on the walls, ceiling lights every few metres that also light the floor below, and a
 * sink where the person washes hands. The background is ray-cast at half resolution and
 * bilinearly enlarged (it is out of focus behind the subject anyway, and that halves the cost
 * of the frame four-fold); the body is drawn at full resolution.
 *
 * Body: every limb a capsule between two joints, the head a sphere, drawn far to near
 * (painter's order) with a cylinder's shading across the limb and a soft shadow on the floor.
 *
 * Camera: handheld, following the person from a per-session azimuth, distance and height with a
 * lag (the camera operator reacts late), with hand shake; the person walks through the
 * corridor, so the background moves past with real parallax.
 *
 * Sensor: exposure follows the previous frames' mean brightness with a time constant of about
 * half a second, as phone auto-exposure does, so a dark location is brightened with more noise;
 * noise comes from a per-frame hash stream, so a frame depends only on (session, frame index)
 * and the exposure history.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cm_util.h"
#include "sim.h"

struct sim_renderer {
  sim_plan plan;
  int W, H, bw, bh;
  float *bg;     /* bw*bh*3 linear radiance */
  float *img;    /* W*H*3 linear radiance */
  double gain;   /* auto-exposure state */
  int have_sink;
  sim_wobble shake[3];
  uint8_t gamma_lut[4096];
  /* camera basis of the last frame (audio asks where the microphone is) */
  vec3 C, f, r, u;
  double fpx;
};

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  x *= 0x846ca68b;
  x ^= x >> 16;
  return x;
}

static double cell_noise(int a, int b, uint32_t salt) {
  return (hash32((uint32_t)a * 73856093u ^ (uint32_t)b * 19349663u ^ salt) & 0xffff) / 65535.0;
}

sim_renderer *sim_renderer_new(const sim_plan *p) {
  sim_renderer *r = cm_xcalloc(1, sizeof *r);
  r->plan = *p;
  r->W = p->camera.width;
  r->H = p->camera.height_px;
  r->bw = (r->W + 1) / 2;
  r->bh = (r->H + 1) / 2;
  r->bg = cm_xmalloc(sizeof(float) * 3 * r->bw * r->bh);
  r->img = cm_xmalloc(sizeof(float) * 3 * r->W * r->H);
  r->gain = -1;
  for (int k = 0; k < p->n_segments; k++)
    if (p->seg[k].activity == SIM_HANDWASHING) r->have_sink = 1;
  sim_rng rng;
  sim_rng_seed(&rng, p->seed, 201);
  for (int i = 0; i < 3; i++) sim_wobble_init(&r->shake[i], &rng, p->camera.shake, 0.3, 2.5);
  for (int i = 0; i < 4096; i++) {
    double v = i / 4095.0;
    v = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055;
    r->gamma_lut[i] = (uint8_t)lrint(clampd(v, 0, 1) * 255);
  }
  return r;
}

void sim_renderer_free(sim_renderer *r) {
  if (!r) return;
  free(r->bg);
  free(r->img);
  free(r);
}

static vec3 v3_norm(vec3 a) { return v3_scale(a, 1.0 / sqrt(v3_dot(a, a))); }

/* The light falling on a point: ceiling lights every light_period metres along x. */
static double illumination(const sim_location *L, double x) {
  double c = cos(M_PI * x / L->light_period_m);
  return L->brightness * (0.55 + 0.45 * c * c);
}

static void shade_floor(const sim_renderer *r, const sim_ground_piece *g, double x, double y,
                        float *out) {
  const sim_location *L = &r->plan.location;
  double c[3];
  double k = 1;
  if (g->stairs) {
    double u = (x - g->x0) / 0.28;
    u = g->slope > 0 ? u - floor(u) : 1 - (u - floor(u));
    /* the part of each step seen as riser (vertical face) is darker; the nosing darkest */
    k = u < 0.38 ? 0.62 : (u < 0.44 ? 0.4 : 1.0);
    for (int i = 0; i < 3; i++) c[i] = L->floor_rgb[i];
  } else {
    switch (L->floor) {
    case FLOOR_TILE: {
      int a = (int)floor(x / L->tile_m), b = (int)floor(y / L->tile_m);
      double fx = x / L->tile_m - a, fy = y / L->tile_m - b;
      const double *src = ((a + b) & 1) ? L->floor_rgb2 : L->floor_rgb;
      for (int i = 0; i < 3; i++) c[i] = src[i];
      if (fx < 0.03 || fy < 0.03) k = 0.55;
      break;
    }
    case FLOOR_WOOD: {
      int b = (int)floor(y / 0.14);
      int a = (int)floor(x / 1.2 + 0.37 * b);
      double n = cell_noise(a, b, 77);
      for (int i = 0; i < 3; i++) c[i] = L->floor_rgb[i] * (0.75 + 0.4 * n);
      if (y / 0.14 - b < 0.05) k = 0.6;
      break;
    }
    case FLOOR_CARPET: {
      double n = cell_noise((int)floor(x / 0.05), (int)floor(y / 0.05), 91);
      for (int i = 0; i < 3; i++) c[i] = L->floor_rgb[i] * (0.9 + 0.15 * n);
      break;
    }
    default: {
      double n = cell_noise((int)floor(x / 0.7), (int)floor(y / 0.7), 13);
      for (int i = 0; i < 3; i++) c[i] = L->floor_rgb[i] * (0.85 + 0.25 * n);
    }
    }
  }
  double li = illumination(L, x) * k;
  for (int i = 0; i < 3; i++) out[i] = (float)(c[i] * li);
}

static void shade_wall(const sim_renderer *r, int side, double x, double zrel, float *out) {
  const sim_location *L = &r->plan.location;
  double P = L->feature_period_m;
  double u = x / P - floor(x / P);
  const double *c = L->wall_rgb;
  double k = 1;
  if (zrel < 0.1) k = 0.45; /* skirting board */
  else if (side > 0 && u > 0.2 && u < 0.2 + 0.9 / P && zrel < 2.05) c = L->feature_rgb; /* door */
  else if (side < 0 && u > 0.55 && u < 0.55 + 0.7 / P && zrel > 1.1 && zrel < 1.9) {
    c = L->feature_rgb; /* poster / window */
    k = 1.3;
  }
  double li = illumination(L, x) * (side > 0 ? 0.95 : 0.8) * (1.0 - 0.12 * zrel / L->ceiling_m);
  for (int i = 0; i < 3; i++) out[i] = (float)(c[i] * li * k);
}

static void ray_scene(const sim_renderer *r, vec3 C, vec3 d, float *out) {
  const sim_plan *p = &r->plan;
  const sim_location *L = &p->location;
  double best = 1e9;
  int kind = 0, piece = -1;
  for (int i = 0; i < p->n_ground; i++) {
    const sim_ground_piece *g = &p->ground[i];
    double den = d.z - g->slope * d.x;
    if (fabs(den) < 1e-9) continue;
    double s = (g->z0 + g->slope * (C.x - g->x0) - C.z) / den;
    if (s <= 0 || s >= best) continue;
    double x = C.x + s * d.x;
    if (x < g->x0 || x >= g->x1) continue;
    best = s;
    kind = 1;
    piece = i;
  }
  double hw = L->width_m / 2;
  if (d.y > 1e-9) {
    double s = (hw - C.y) / d.y;
    if (s > 0 && s < best) { best = s; kind = 2; }
  } else if (d.y < -1e-9) {
    double s = (-hw - C.y) / d.y;
    if (s > 0 && s < best) { best = s; kind = 3; }
  }
  double zc = sim_body_ground_z(p, C.x) + L->ceiling_m;
  if (d.z > 1e-9) {
    double s = (zc - C.z) / d.z;
    if (s > 0 && s < best) { best = s; kind = 4; }
  }
  if (r->have_sink) {
    /* slab method against the sink cabinet */
    double lo[3] = {p->sink_x - 0.32, hw - 0.5, sim_body_ground_z(p, p->sink_x)};
    double hi[3] = {p->sink_x + 0.32, hw, lo[2] + 0.88};
    double o[3] = {C.x, C.y, C.z}, dd[3] = {d.x, d.y, d.z};
    double t0 = 0, t1 = best;
    int ok = 1;
    for (int a = 0; a < 3 && ok; a++) {
      if (fabs(dd[a]) < 1e-12) {
        if (o[a] < lo[a] || o[a] > hi[a]) ok = 0;
        continue;
      }
      double ta = (lo[a] - o[a]) / dd[a], tb = (hi[a] - o[a]) / dd[a];
      if (ta > tb) { double tt = ta; ta = tb; tb = tt; }
      if (ta > t0) t0 = ta;
      if (tb < t1) t1 = tb;
      if (t0 > t1) ok = 0;
    }
    if (ok && t0 > 0 && t0 < best) { best = t0; kind = 5; }
  }
  vec3 h = v3_add(C, v3_scale(d, best));
  switch (kind) {
  case 1: shade_floor(r, &p->ground[piece], h.x, h.y, out); break;
  case 2: shade_wall(r, 1, h.x, h.z - sim_body_ground_z(p, h.x), out); break;
  case 3: shade_wall(r, -1, h.x, h.z - sim_body_ground_z(p, h.x), out); break;
  case 4: {
    double u = h.x / L->light_period_m - floor(h.x / L->light_period_m);
    double lamp = (u < 0.08 || u > 0.92) && fabs(h.y) < 0.4;
    for (int i = 0; i < 3; i++) out[i] = (float)(lamp ? 2.5 : 0.55 * L->brightness * L->wall_rgb[i]);
    break;
  }
  case 5: {
    double top = h.z > sim_body_ground_z(p, p->sink_x) + 0.86;
    for (int i = 0; i < 3; i++) out[i] = (float)((top ? 0.85 : 0.7) * illumination(L, h.x));
    break;
  }
  default:
    for (int i = 0; i < 3; i++) out[i] = 0.02f;
  }
  /* distance haze: far parts of the corridor fade towards a dim grey */
  double fog = exp(-best / 30.0);
  for (int i = 0; i < 3; i++) out[i] = (float)(out[i] * fog + 0.08 * L->brightness * (1 - fog));
}

static int project(const sim_renderer *r, vec3 P, double *sx, double *sy, double *depth) {
  vec3 q = v3_sub(P, r->C);
  double z = v3_dot(q, r->f);
  if (z < 0.15) return 0;
  *sx = r->W / 2.0 + r->fpx * v3_dot(q, r->r) / z;
  *sy = r->H / 2.0 - r->fpx * v3_dot(q, r->u) / z;
  *depth = z;
  return 1;
}

typedef struct {
  vec3 a, b;
  double radius;
  const double *rgb;
  double depth;
} capsule;

static void draw_capsule(sim_renderer *r, const capsule *c, double light) {
  double ax, ay, da, bx, by, db;
  if (!project(r, c->a, &ax, &ay, &da) || !project(r, c->b, &bx, &by, &db)) return;
  double ra = r->fpx * c->radius / da, rb = r->fpx * c->radius / db;
  double rmax = fmax(ra, rb) + 1;
  int x0 = (int)floor(fmin(ax, bx) - rmax), x1 = (int)ceil(fmax(ax, bx) + rmax);
  int y0 = (int)floor(fmin(ay, by) - rmax), y1 = (int)ceil(fmax(ay, by) + rmax);
  if (x0 < 0) x0 = 0;
  if (y0 < 0) y0 = 0;
  if (x1 > r->W - 1) x1 = r->W - 1;
  if (y1 > r->H - 1) y1 = r->H - 1;
  double ex = bx - ax, ey = by - ay, len2 = ex * ex + ey * ey;
  for (int y = y0; y <= y1; y++) {
    for (int x = x0; x <= x1; x++) {
      double px = x + 0.5 - ax, py = y + 0.5 - ay;
      double t = len2 > 1e-9 ? (px * ex + py * ey) / len2 : 0;
      t = clampd(t, 0, 1);
      double dx = px - t * ex, dy = py - t * ey;
      double d = sqrt(dx * dx + dy * dy);
      double rad = ra + (rb - ra) * t;
      if (d >= rad + 0.5) continue;
      double cover = clampd(rad + 0.5 - d, 0, 1);
      double nrm = d < rad ? sqrt(1 - (d / rad) * (d / rad)) : 0;
      /* light from above-left: the upper side of the limb is brighter */
      double sh = light * (0.45 + 0.55 * nrm) * (1.0 - 0.15 * (dy / (rad + 1e-9)));
      float *o = r->img + 3 * ((size_t)y * r->W + x);
      for (int i = 0; i < 3; i++) o[i] = (float)(o[i] * (1 - cover) + c->rgb[i] * sh * cover);
    }
  }
}

static int cmp_capsule(const void *a, const void *b) {
  double da = ((const capsule *)a)->depth, db = ((const capsule *)b)->depth;
  return da < db ? 1 : da > db ? -1 : 0;
}

static void draw_shadow(sim_renderer *r, vec3 centre) {
  double cx, cy, d, ax, ay, bx, by;
  if (!project(r, centre, &cx, &cy, &d)) return;
  if (!project(r, v3_add(centre, v3(0.4, 0, 0)), &ax, &ay, &d)) return;
  if (!project(r, v3_add(centre, v3(0, 0.3, 0)), &bx, &by, &d)) return;
  double a1 = ax - cx, a2 = ay - cy, b1 = bx - cx, b2 = by - cy;
  double det = a1 * b2 - a2 * b1;
  if (fabs(det) < 1e-6) return;
  double ext = fmax(fabs(a1) + fabs(b1), fabs(a2) + fabs(b2)) + 1;
  for (int y = (int)fmax(0, cy - ext); y <= (int)fmin(r->H - 1, cy + ext); y++)
    for (int x = (int)fmax(0, cx - ext); x <= (int)fmin(r->W - 1, cx + ext); x++) {
      double qx = x + 0.5 - cx, qy = y + 0.5 - cy;
      double al = (qx * b2 - qy * b1) / det, be = (a1 * qy - a2 * qx) / det;
      double rr = al * al + be * be;
      if (rr >= 1) continue;
      float *o = r->img + 3 * ((size_t)y * r->W + x);
      float k = (float)(1 - 0.45 * (1 - rr));
      o[0] *= k; o[1] *= k; o[2] *= k;
    }
}

vec3 sim_camera_position(const sim_plan *p, const sim_body *b, double t) {
  const sim_camera *cam = &p->camera;
  sim_pose a, c;
  /* the operator follows where the person was a moment ago */
  sim_body_pose(b, t - cam->follow_lag_s, &a);
  sim_body_pose(b, t - cam->follow_lag_s * 0.5, &c);
  vec3 target = v3_scale(v3_add(a.j[J_PELVIS], c.j[J_PELVIS]), 0.5);
  double hw = p->location.width_m / 2 - 0.35;
  vec3 C = v3(target.x + cam->distance * cos(cam->azimuth),
              target.y + cam->distance * sin(cam->azimuth), 0);
  C.y = clampd(C.y, -hw, hw);
  C.z = sim_body_ground_z(p, C.x) + cam->height;
  return C;
}

static void camera_at(sim_renderer *r, const sim_body *b, double t) {
  const sim_plan *p = &r->plan;
  const sim_camera *cam = &p->camera;
  vec3 C = sim_camera_position(p, b, t);
  sim_pose c;
  sim_body_pose(b, t - cam->follow_lag_s * 0.5, &c);
  vec3 look = v3_add(c.j[J_PELVIS], v3(0, 0, 0.15));
  vec3 f = v3_norm(v3_sub(look, C));
  vec3 rr = v3_norm(v3_cross(f, v3(0, 0, 1)));
  vec3 u = v3_cross(rr, f);
  /* hand shake: small yaw, pitch and roll */
  double yaw = sim_wobble_at(&r->shake[0], t), pitch = sim_wobble_at(&r->shake[1], t),
         roll = sim_wobble_at(&r->shake[2], t);
  vec3 f2 = v3_norm(v3_add(f, v3_add(v3_scale(rr, yaw), v3_scale(u, pitch))));
  vec3 r2 = v3_norm(v3_cross(f2, u));
  vec3 u2 = v3_cross(r2, f2);
  r->C = C;
  r->f = f2;
  r->r = v3_norm(v3_add(r2, v3_scale(u2, roll)));
  r->u = v3_cross(r->r, f2);
  r->fpx = (r->W / 2.0) / tan(cam->hfov / 2);
}


void sim_render_frame(sim_renderer *r, const sim_body *b, double t, long frame_index, uint8_t *rgb) {
  const sim_plan *p = &r->plan;
  camera_at(r, b, t);
  /* background at half resolution */
  for (int y = 0; y < r->bh; y++)
    for (int x = 0; x < r->bw; x++) {
      double px = (2 * x + 1.0 - r->W / 2.0) / r->fpx, py = (r->H / 2.0 - (2 * y + 1.0)) / r->fpx;
      vec3 d = v3_add(r->f, v3_add(v3_scale(r->r, px), v3_scale(r->u, py)));
      ray_scene(r, r->C, d, r->bg + 3 * ((size_t)y * r->bw + x));
    }
  for (int y = 0; y < r->H; y++) {
    double gy = clampd((y - 0.5) / 2.0, 0, r->bh - 1);
    int y0 = (int)gy, y1 = y0 + 1 < r->bh ? y0 + 1 : y0;
    float wy = (float)(gy - y0);
    for (int x = 0; x < r->W; x++) {
      double gx = clampd((x - 0.5) / 2.0, 0, r->bw - 1);
      int x0 = (int)gx, x1 = x0 + 1 < r->bw ? x0 + 1 : x0;
      float wx = (float)(gx - x0);
      const float *a = r->bg + 3 * ((size_t)y0 * r->bw + x0), *bb = r->bg + 3 * ((size_t)y0 * r->bw + x1);
      const float *c = r->bg + 3 * ((size_t)y1 * r->bw + x0), *d = r->bg + 3 * ((size_t)y1 * r->bw + x1);
      float *o = r->img + 3 * ((size_t)y * r->W + x);
      for (int i = 0; i < 3; i++)
        o[i] = (a[i] * (1 - wx) + bb[i] * wx) * (1 - wy) + (c[i] * (1 - wx) + d[i] * wx) * wy;
    }
  }
  /* the body */
  sim_pose ps;
  sim_body_pose(b, t, &ps);
  vec3 feet = v3_scale(v3_add(ps.j[J_ANKLE_L], ps.j[J_ANKLE_R]), 0.5);
  feet.z = sim_body_ground_z(p, ps.j[J_PELVIS].x) + 0.005;
  draw_shadow(r, v3(ps.j[J_PELVIS].x, ps.j[J_PELVIS].y, feet.z));
  const sim_person *pe = &p->person;
  static const double shoe[3] = {0.06, 0.05, 0.05}, hair[3] = {0.08, 0.06, 0.04},
                      water[3] = {0.55, 0.7, 0.9};
  double H = pe->height_m / 1.75;
  capsule caps[32];
  int n = 0;
#define CAP(A, B, R, C) caps[n++] = (capsule){(A), (B), (R) * H, (C), 0}
  vec3 chest = v3_scale(v3_add(ps.j[J_SHOULDER_L], ps.j[J_SHOULDER_R]), 0.5);
  CAP(ps.j[J_PELVIS], v3_add(chest, v3(0, 0, -0.05)), 0.15, pe->shirt);
  CAP(ps.j[J_SHOULDER_L], ps.j[J_SHOULDER_R], 0.07, pe->shirt);
  CAP(ps.j[J_HIP_L], ps.j[J_HIP_R], 0.09, pe->pants);
  CAP(ps.j[J_NECK], ps.j[J_HEAD], 0.05, pe->skin);
  for (int s = 0; s < 2; s++) {
    CAP(ps.j[J_SHOULDER_L + s], ps.j[J_ELBOW_L + s], 0.05, pe->shirt);
    CAP(ps.j[J_ELBOW_L + s], ps.j[J_WRIST_L + s], 0.04, pe->skin);
    CAP(ps.j[J_WRIST_L + s], ps.j[J_HAND_L + s], 0.035, pe->skin);
    CAP(ps.j[J_HIP_L + s], ps.j[J_KNEE_L + s], 0.075, pe->pants);
    CAP(ps.j[J_KNEE_L + s], ps.j[J_ANKLE_L + s], 0.055, pe->pants);
    CAP(ps.j[J_ANKLE_L + s], ps.j[J_TOE_L + s], 0.045, shoe);
  }
  CAP(ps.j[J_HEAD], ps.j[J_HEAD], ps.head_r / H, pe->skin);
  CAP(v3_add(ps.j[J_HEAD], v3(-0.01, 0, 0.03)), v3_add(ps.j[J_HEAD], v3(-0.02, 0, 0.04)),
      ps.head_r / H * 0.9, hair);
  if (ps.water > 0.5 && r->have_sink) {
    double hw = p->location.width_m / 2, gz = sim_body_ground_z(p, p->sink_x);
    CAP(v3(p->sink_x, hw - 0.22, gz + 1.12), v3(p->sink_x, hw - 0.22, gz + 0.9), 0.012, water);
  }
#undef CAP
  for (int i = 0; i < n; i++) {
    vec3 m = v3_scale(v3_add(caps[i].a, caps[i].b), 0.5);
    caps[i].depth = v3_dot(v3_sub(m, r->C), r->f);
  }
  qsort(caps, n, sizeof caps[0], cmp_capsule);
  double light = illumination(&p->location, ps.j[J_PELVIS].x);
  for (int i = 0; i < n; i++) draw_capsule(r, &caps[i], light);
  /* the sensor: auto-exposure on the mean, noise, white balance, gamma */
  size_t np = (size_t)r->W * r->H;
  double sum = 0;
  for (size_t i = 0; i < np * 3; i += 3) sum += r->img[i] + r->img[i + 1] + r->img[i + 2];
  double mean = sum / (3.0 * np) + 1e-4;
  double want = 0.18 / mean * p->camera.exposure_bias;
  if (want > 8) want = 8;
  if (r->gain < 0) r->gain = want;
  else r->gain += (want - r->gain) * (1 - exp(-1.0 / (p->camera.fps * 0.5)));
  double g = r->gain;
  uint32_t st = hash32((uint32_t)(p->seed ^ (p->seed >> 32)) ^ hash32((uint32_t)frame_index + 0x9e37u));
  float rn = (float)(p->camera.read_noise / 255.0 * sqrt(g));
  float kshot = (float)(0.012 * sqrt(g));
  for (size_t i = 0; i < np; i++) {
    for (int c = 0; c < 3; c++) {
      float v = (float)(r->img[3 * i + c] * g * p->camera.white_balance[c]);
      st ^= st << 13;
      st ^= st >> 17;
      st ^= st << 5;
      float n1 = ((st & 0xffff) + (st >> 16)) / 65535.0f - 1.0f; /* triangular, var 1/6 */
      v += n1 * 2.45f * (rn + kshot * sqrtf(v > 0 ? v : 0));
      int idx = (int)(v * 4095.0f);
      idx = idx < 0 ? 0 : idx > 4095 ? 4095 : idx;
      rgb[3 * i + c] = r->gamma_lut[idx];
    }
  }
}
