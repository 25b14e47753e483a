/*
 * `cmact simulate-look`: pictures of the simulated world, to look at it rather than trust it.
 *
 *   contact_sheet.png        one frame per activity (rows) and location (columns) of the
 *                            cmactivity preset, as the phone camera sees it (after auto-exposure
 *                            settles; stair activities are absent from the stairless location);
 *   spectrogram_<act>.png    the microphone over 4 s of each activity (log power, 0-11 kHz);
 *   imu_<act>.png            both wrists' accelerometer and gyroscope over 4 s of each activity.
 *
 * Everything comes straight from the generators the session files are made from (sim.h), for
 * the same seed and preset, drawn with cairo. The spectrogram uses a small radix-2 FFT of its
 * own: 512-point Hann frames with a hop of 128.
 */
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cm_opts.h"
#include "cm_util.h"
#include "cmds.h"
#include "sim.h"

#define CELL_W 160
#define CELL_H 120

/* A session plan of the cmactivity preset doing `activity` at location `loc`. */
static void plan_for(uint64_t seed, int activity, int loc, sim_plan *p) {
  sim_preset ps;
  sim_preset_get("cmactivity", &ps);
  ps.width = CELL_W;
  ps.height = CELL_H;
  int start = 0;
  for (int a = 0; a < activity; a++) start += ps.counts[a];
  /* a clip of that activity; which one varies with the location so users vary too */
  sim_plan_make(&ps, seed, start + 3 * loc + 1, p);
  sim_location_make(seed, loc, loc != ps.stairless_location, &p->location);
}

static void fill_pixels(cairo_surface_t *s, int x0, int y0, int w, int h, const uint8_t *rgb) {
  cairo_surface_flush(s);
  unsigned char *d = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) {
      const uint8_t *p = rgb + 3 * ((size_t)y * w + x);
      uint32_t v = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
      memcpy(d + (size_t)(y0 + y) * stride + 4 * (x0 + x), &v, 4);
    }
  cairo_surface_mark_dirty(s);
}

static void text(cairo_t *cr, double x, double y, double size, const char *s) {
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, s);
}

static int save(cairo_surface_t *s, const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (cairo_surface_write_to_png(s, path) != CAIRO_STATUS_SUCCESS)
    return cm_set_error("%s: cannot write the PNG", path);
  printf("%s\n", path);
  return 0;
}

static int contact_sheet(const char *dir, uint64_t seed) {
  sim_preset ps;
  sim_preset_get("cmactivity", &ps);
  int L = ps.n_locations, A = SIM_N_ACTIVITIES, lw = 90, th = 22;
  int W = lw + L * CELL_W, H = th + A * CELL_H;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  uint8_t *rgb = cm_xmalloc(CELL_W * CELL_H * 3);
  for (int l = 0; l < L; l++) {
    sim_location loc;
    sim_location_make(seed, l, l != ps.stairless_location, &loc);
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, lw + l * CELL_W + 4, 16, 12, loc.name);
  }
  for (int a = 0; a < A; a++) {
    cairo_set_source_rgb(cr, 0, 0, 0);
    text(cr, 4, th + a * CELL_H + CELL_H / 2, 12, sim_activity_names[a]);
    for (int l = 0; l < L; l++) {
      if ((a == SIM_UPSTAIRS || a == SIM_DOWNSTAIRS) && l == ps.stairless_location) continue;
      sim_plan p;
      plan_for(seed, a, l, &p);
      sim_body *b = sim_body_new(&p);
      sim_renderer *r = sim_renderer_new(&p);
      /* let auto-exposure settle over a second, then take the frame at 2.3 s */
      for (int k = 0; k <= 38; k++) sim_render_frame(r, b, 1.0 + k / 29.0, k, rgb);
      fill_pixels(s, lw + l * CELL_W, th + a * CELL_H, CELL_W, CELL_H, rgb);
      sim_renderer_free(r);
      sim_body_free(b);
    }
  }
  free(rgb);
  cairo_destroy(cr);
  int rc = save(s, dir, "contact_sheet.png");
  cairo_surface_destroy(s);
  return rc;
}

/* A perceptual-ish colour ramp (dark blue -> purple -> orange -> yellow). */
static void ramp(double v, double *r, double *g, double *b) {
  v = v < 0 ? 0 : v > 1 ? 1 : v;
  *r = fmin(1, 1.6 * v);
  *g = v < 0.5 ? 0.2 * v : 0.1 + 1.8 * (v - 0.5);
  *b = v < 0.5 ? 0.3 + 0.8 * v : 0.7 - 1.2 * (v - 0.5);
  if (*g > 1) *g = 1;
  if (*b < 0) *b = 0;
}

static int spectrogram(const char *dir, uint64_t seed, int a) {
  sim_plan p;
  plan_for(seed, a, 0, &p);
  sim_body *b = sim_body_new(&p);
  sim_audio *au = sim_audio_new(&p, b, 0.5);
  int rate = p.audio_rate, n = rate * 4, nfft = 512, hop = 128;
  int16_t *x = cm_xmalloc(sizeof(int16_t) * n);
  sim_audio_render(au, x, n);
  int frames, bins = nfft / 2;
  double *db = sim_power_frames(x, n, nfft, hop, &frames);
  /* power per bin relative to a full-scale sine (Hann window: sum w = nfft/2) */
  double ref = (nfft / 4.0) * (nfft / 4.0);
  for (int i = 0; i < frames * bins; i++) db[i] = 10 * log10(db[i] / ref + 1e-14);
  int ml = 50, mb = 30, W = ml + frames + 10, H = 20 + bins + mb;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  uint8_t *img = cm_xmalloc((size_t)frames * bins * 3);
  for (int f = 0; f < frames; f++)
    for (int k = 0; k < bins; k++) {
      double v = (db[f * bins + k] + 120) / 90.0, r, g, bl;
      ramp(v, &r, &g, &bl);
      uint8_t *o = img + 3 * ((size_t)(bins - 1 - k) * frames + f);
      o[0] = (uint8_t)(r * 255);
      o[1] = (uint8_t)(g * 255);
      o[2] = (uint8_t)(bl * 255);
    }
  fill_pixels(s, ml, 20, frames, bins, img);
  cairo_set_source_rgb(cr, 0, 0, 0);
  char t[128];
  snprintf(t, sizeof t, "%s: microphone, %s, log power -120..-30 dBFS", sim_activity_names[a],
           p.location.name);
  text(cr, ml, 14, 11, t);
  for (int khz = 0; khz <= 10; khz += 2) {
    snprintf(t, sizeof t, "%d kHz", khz);
    text(cr, 4, 20 + bins - khz * 1000.0 / (rate / 2.0) * bins + 4, 9, t);
  }
  for (int sec = 0; sec <= 4; sec++) {
    snprintf(t, sizeof t, "%d s", sec);
    text(cr, ml + sec * (double)rate / hop - 6, H - 10, 9, t);
  }
  cairo_destroy(cr);
  char name[64];
  snprintf(name, sizeof name, "spectrogram_%s.png", sim_activity_names[a]);
  int rc = save(s, dir, name);
  cairo_surface_destroy(s);
  free(img);
  free(db);
  free(x);
  sim_audio_free(au);
  sim_body_free(b);
  return rc;
}

static int imu_traces(const char *dir, uint64_t seed, int a) {
  sim_plan p;
  plan_for(seed, a, 0, &p);
  sim_body *b = sim_body_new(&p);
  int n = (int)(4 * p.imu_rate);
  double (*v)[2][6] = cm_xmalloc(sizeof *v * n);
  for (int side = 0; side < 2; side++) {
    sim_rng nr;
    sim_rng_seed(&nr, p.seed, 700 + (uint64_t)side);
    for (int i = 0; i < n; i++) {
      double ideal[2][6];
      float o[6];
      sim_imu_ideal(b, 0.5 + i / p.imu_rate, 1 / p.imu_rate, ideal);
      sim_imu_apply_sensor(&p.sensor[side], ideal[side], &nr, o);
      for (int c = 0; c < 6; c++) v[i][side][c] = o[c];
    }
  }
  int pw = 380, ph = 150, W = 2 * pw + 60, H = 2 * ph + 70;
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create(s);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  static const double col[3][3] = {{0.85, 0.1, 0.1}, {0.1, 0.6, 0.1}, {0.1, 0.2, 0.85}};
  char t[128];
  cairo_set_source_rgb(cr, 0, 0, 0);
  snprintf(t, sizeof t, "%s: wrist IMU at %.0f Hz, x red, y green, z blue", sim_activity_names[a],
           p.imu_rate);
  text(cr, 10, 16, 12, t);
  for (int side = 0; side < 2; side++)
    for (int g = 0; g < 2; g++) {
      double x0 = 40 + side * (pw + 10), y0 = 30 + g * (ph + 20);
      double range = g == 0 ? 40 : 15; /* m/s^2, rad/s */
      cairo_set_source_rgb(cr, 0.95, 0.95, 0.95);
      cairo_rectangle(cr, x0, y0, pw, ph);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
      cairo_set_line_width(cr, 0.5);
      cairo_move_to(cr, x0, y0 + ph / 2);
      cairo_line_to(cr, x0 + pw, y0 + ph / 2);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      snprintf(t, sizeof t, "%s %s (+-%.0f %s)", side ? "right" : "left", g ? "gyro" : "acc",
               range, g ? "rad/s" : "m/s^2");
      text(cr, x0 + 4, y0 + 12, 10, t);
      cairo_set_line_width(cr, 1.2);
      for (int c = 0; c < 3; c++) {
        cairo_set_source_rgb(cr, col[c][0], col[c][1], col[c][2]);
        for (int i = 0; i < n; i++) {
          double val = v[i][side][3 * g + c] / range;
          val = val > 1 ? 1 : val < -1 ? -1 : val;
          double x = x0 + pw * i / (double)(n - 1), y = y0 + ph / 2 - val * ph / 2;
          if (i == 0) cairo_move_to(cr, x, y);
          else cairo_line_to(cr, x, y);
        }
        cairo_stroke(cr);
      }
    }
  cairo_destroy(cr);
  char name[64];
  snprintf(name, sizeof name, "imu_%s.png", sim_activity_names[a]);
  int rc = save(s, dir, name);
  cairo_surface_destroy(s);
  free(v);
  sim_body_free(b);
  return rc;
}

int cmd_simulate_look(int argc, char **argv) {
  const char *out = NULL;
  long seed = 1;
  const cm_opt opts[] = {
      CM_OPT_STRING("out", 0, &out),
      CM_OPT_LONG("seed", 0, &seed),
      CM_OPT_END,
  };
  if (cm_opts_parse(opts, argc, argv, 0) < 0) return cmact_help_exit("simulate-look", 1, "%s", cm_error());
  if (!out) return cmact_help_exit("simulate-look", 1, "--out DIR is required");
  if (mkdir(out, 0777) < 0 && errno != EEXIST)
    return cm_fail(CM_EXIT_FAIL, "simulate-look", "%s: %s", out, strerror(errno));
  if (contact_sheet(out, (uint64_t)seed) < 0) return cm_fail_error("simulate-look");
  for (int a = 0; a < SIM_N_ACTIVITIES; a++)
    if (spectrogram(out, (uint64_t)seed, a) < 0 || imu_traces(out, (uint64_t)seed, a) < 0)
      return cm_fail_error("simulate-look");
  return CM_EXIT_OK;
}
