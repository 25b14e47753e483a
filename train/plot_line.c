/*
 * Line plots with cairo (see plot.h). Layout: a plot area of fixed size (820x440 points) inset
 * for tick labels and axis titles, and the legend in its own column to the right of the plot
 * area, the canvas widened to fit the longest label: a legend inside the plot area hid curves
 * (the published reference curves ran right under it), and no placement inside can be safe for
 * every figure. Text uses cairo's "toy" text API with a sans-serif face: enough for axis
 * labels, and it needs no font files beyond what fontconfig finds.
 */
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cm_util.h"
#include "plot.h"

#define W 900.0 /* canvas width without the legend column */
#define H 560.0
#define LEGEND_GAP 16.0
#define BAND_RGB 0.96, 0.94, 0.86
#define LEFT 80.0
#define RIGHT 30.0
#define TOP 50.0
#define BOTTOM 70.0

static const double palette[][3] = {
    {0.12, 0.47, 0.71}, {0.84, 0.15, 0.16}, {0.17, 0.63, 0.17}, {1.00, 0.50, 0.05},
    {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29}, {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50},
    {0.74, 0.74, 0.13}, {0.09, 0.75, 0.81}, {0.20, 0.20, 0.20}, {0.60, 0.80, 0.20}};

typedef struct {
  double x0, x1, y0, y1;
  int log_x;
  double width;  /* canvas width: W plus the legend column */
  double legend_w; /* widest legend label */
} frame;

static double tx(const frame *f, double x) {
  double a = f->log_x ? log10(x) : x, lo = f->log_x ? log10(f->x0) : f->x0,
         hi = f->log_x ? log10(f->x1) : f->x1;
  return LEFT + (a - lo) / (hi - lo) * (W - LEFT - RIGHT);
}
static double ty(const frame *f, double y) {
  return H - BOTTOM - (y - f->y0) / (f->y1 - f->y0) * (H - TOP - BOTTOM);
}

/* A step of 1, 2 or 5 times a power of ten giving about `want` intervals over span. */
static double nice_step(double span, int want) {
  double raw = span / want, p = pow(10, floor(log10(raw))), r = raw / p;
  return (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10) * p;
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double align_x, double align_y) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - e.width * align_x - e.x_bearing, y - e.height * align_y - e.y_bearing);
  cairo_show_text(cr, s);
}

static void fmt_tick(char *buf, size_t n, double v, double step) {
  if (fabs(v) < step * 1e-6) v = 0;
  int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
  snprintf(buf, n, "%.*f", dec, v);
}

static int bounds(const plot_spec *p, frame *f) {
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (int s = 0; s < p->n_series; s++) {
    const plot_series *q = &p->series[s];
    for (int i = 0; i < q->n; i++) {
      double e = q->err && isfinite(q->err[i]) ? q->err[i] : 0;
      if (!isfinite(q->x[i]) || !isfinite(q->y[i]) || (p->log_x && q->x[i] <= 0)) continue;
      x0 = fmin(x0, q->x[i]), x1 = fmax(x1, q->x[i]);
      y0 = fmin(y0, q->y[i] - e), y1 = fmax(y1, q->y[i] + e);
    }
  }
  if (p->x_categories) x0 = -0.5, x1 = p->n_categories - 0.5;
  if (!isfinite(x0)) return cm_set_error("plot '%s': no finite points", p->title ? p->title : "");
  if (isfinite(p->ymin)) y0 = p->ymin;
  if (isfinite(p->ymax)) y1 = p->ymax;
  if (x1 <= x0) x0 -= 1, x1 += 1;
  if (y1 <= y0) y0 -= 1, y1 += 1;
  if (p->log_x) {
    double pad = (log10(x1) - log10(x0)) * 0.04 + 0.02;
    x0 = pow(10, log10(x0) - pad), x1 = pow(10, log10(x1) + pad);
  } else if (!p->x_categories) {
    double pad = (x1 - x0) * 0.03;
    x0 -= pad, x1 += pad;
  }
  if (!isfinite(p->ymin) || !isfinite(p->ymax)) {
    double pad = (y1 - y0) * 0.04;
    if (!isfinite(p->ymin)) y0 -= pad;
    if (!isfinite(p->ymax)) y1 += pad;
    double st = nice_step(y1 - y0, 6);
    if (!isfinite(p->ymin)) y0 = floor(y0 / st) * st;
    if (!isfinite(p->ymax)) y1 = ceil(y1 / st) * st;
  }
  f->x0 = x0, f->x1 = x1, f->y0 = y0, f->y1 = y1, f->log_x = p->log_x;
  return 0;
}

static void draw(cairo_t *cr, const plot_spec *p, const frame *f) {
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_line_width(cr, 1);
  /* grid and ticks */
  char buf[64];
  cairo_set_font_size(cr, 13);
  double ys = nice_step(f->y1 - f->y0, 6);
  for (double y = ceil(f->y0 / ys - 1e-9) * ys; y <= f->y1 + ys * 1e-9; y += ys) {
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    cairo_move_to(cr, LEFT, ty(f, y));
    cairo_line_to(cr, W - RIGHT, ty(f, y));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    fmt_tick(buf, sizeof buf, y, ys);
    text_at(cr, LEFT - 8, ty(f, y), buf, 1.0, 0.5);
  }
  if (p->x_categories) {
    for (int i = 0; i < p->n_categories; i++) {
      cairo_set_source_rgb(cr, 0, 0, 0);
      text_at(cr, tx(f, i), H - BOTTOM + 8, p->x_categories[i], 0.5, 0.0);
    }
  } else if (f->log_x) {
    for (double dec = pow(10, floor(log10(f->x0))); dec <= f->x1; dec *= 10)
      for (int k = 1; k <= 5; k += (k == 1 ? 1 : 3)) {
        double x = dec * k;
        if (x < f->x0 || x > f->x1) continue;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, tx(f, x), TOP);
        cairo_line_to(cr, tx(f, x), H - BOTTOM);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        snprintf(buf, sizeof buf, "%g", x);
        text_at(cr, tx(f, x), H - BOTTOM + 8, buf, 0.5, 0.0);
      }
  } else {
    double xs = nice_step(f->x1 - f->x0, 8);
    for (double x = ceil(f->x0 / xs - 1e-9) * xs; x <= f->x1 + xs * 1e-9; x += xs) {
      cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
      cairo_move_to(cr, tx(f, x), TOP);
      cairo_line_to(cr, tx(f, x), H - BOTTOM);
      cairo_stroke(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      fmt_tick(buf, sizeof buf, x, xs);
      text_at(cr, tx(f, x), H - BOTTOM + 8, buf, 0.5, 0.0);
    }
  }
  /* axes box */
  cairo_set_source_rgb(cr, 0, 0, 0);
  cairo_rectangle(cr, LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
  cairo_stroke(cr);
  /* titles */
  cairo_set_font_size(cr, 15);
  if (p->xlabel) text_at(cr, LEFT + (W - LEFT - RIGHT) / 2, H - 18, p->xlabel, 0.5, 1.0);
  if (p->ylabel) {
    cairo_save(cr);
    cairo_translate(cr, 22, TOP + (H - TOP - BOTTOM) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, p->ylabel, 0.5, 0.5);
    cairo_restore(cr);
  }
  cairo_set_font_size(cr, 17);
  if (p->title) text_at(cr, W / 2, 18, p->title, 0.5, 0.0);
  /* series, clipped to the plot area */
  cairo_save(cr);
  cairo_rectangle(cr, LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
  cairo_clip(cr);
  if (p->band_label) {
    /* a shaded x range (e.g. the measured alignment uncertainty), under the curves */
    double a = tx(f, fmax(p->band_x0, f->x0)), b = tx(f, fmin(p->band_x1, f->x1));
    cairo_set_source_rgb(cr, BAND_RGB);
    cairo_rectangle(cr, a, TOP, b - a, H - TOP - BOTTOM);
    cairo_fill(cr);
  }
  for (int s = 0; s < p->n_series; s++) {
    const plot_series *q = &p->series[s];
    const double *c = palette[s % PLOT_MAX_SERIES];
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
    cairo_set_line_width(cr, 2);
    double dash[] = {7, 4};
    cairo_set_dash(cr, dash, q->dashed ? 2 : 0, 0);
    int pen = 0;
    for (int i = 0; i < q->n; i++) {
      if (!isfinite(q->y[i]) || !isfinite(q->x[i]) || (f->log_x && q->x[i] <= 0)) {
        pen = 0;
        continue;
      }
      if (pen) cairo_line_to(cr, tx(f, q->x[i]), ty(f, q->y[i]));
      else cairo_move_to(cr, tx(f, q->x[i]), ty(f, q->y[i]));
      pen = 1;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, dash, 0, 0);
    cairo_set_line_width(cr, 1.5);
    for (int i = 0; i < q->n; i++) {
      if (!isfinite(q->y[i]) || !isfinite(q->x[i]) || (f->log_x && q->x[i] <= 0)) continue;
      double X = tx(f, q->x[i]), Y = ty(f, q->y[i]);
      if (q->err && isfinite(q->err[i]) && q->err[i] > 0) {
        double a = ty(f, q->y[i] - q->err[i]), b = ty(f, q->y[i] + q->err[i]);
        cairo_move_to(cr, X, a), cairo_line_to(cr, X, b);
        cairo_move_to(cr, X - 4, a), cairo_line_to(cr, X + 4, a);
        cairo_move_to(cr, X - 4, b), cairo_line_to(cr, X + 4, b);
        cairo_stroke(cr);
      }
      if (q->n <= 60) {
        cairo_arc(cr, X, Y, q->dashed ? 3 : 3.5, 0, 2 * M_PI);
        if (q->dashed) cairo_stroke(cr);
        else cairo_fill(cr);
      }
    }
  }
  cairo_restore(cr);
  /* legend, in its own column right of the plot area */
  cairo_set_font_size(cr, 13);
  int n_leg = p->n_series + (p->band_label ? 1 : 0);
  if (n_leg > 0) {
    double bx = W - RIGHT + LEGEND_GAP, by = TOP, bh = 20.0 * n_leg + 8;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, bx, by, f->legend_w + 52, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (int s = 0; s < p->n_series; s++) {
      const double *c = palette[s % PLOT_MAX_SERIES];
      double y = by + 14 + 20.0 * s;
      double dash[] = {7, 4};
      cairo_set_source_rgb(cr, c[0], c[1], c[2]);
      cairo_set_line_width(cr, 2);
      cairo_set_dash(cr, dash, p->series[s].dashed ? 2 : 0, 0);
      cairo_move_to(cr, bx + 8, y), cairo_line_to(cr, bx + 38, y);
      cairo_stroke(cr);
      cairo_set_dash(cr, dash, 0, 0);
      cairo_set_source_rgb(cr, 0, 0, 0);
      text_at(cr, bx + 44, y, p->series[s].label ? p->series[s].label : "", 0.0, 0.5);
    }
    if (p->band_label) {
      double y = by + 14 + 20.0 * p->n_series;
      cairo_set_source_rgb(cr, BAND_RGB);
      cairo_rectangle(cr, bx + 8, y - 6, 30, 12);
      cairo_fill(cr);
      cairo_set_source_rgb(cr, 0, 0, 0);
      text_at(cr, bx + 44, y, p->band_label, 0.0, 0.5);
    }
  }
}

/* The widest legend label, measured on a scratch surface before the canvas is made. */
static double legend_width(const plot_spec *p) {
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 8, 8);
  cairo_t *cr = cairo_create(img);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 13);
  double lw = 0;
  for (int s = 0; s <= p->n_series; s++) {
    const char *l = s < p->n_series ? p->series[s].label : p->band_label;
    if (!l) continue;
    cairo_text_extents_t e;
    cairo_text_extents(cr, l, &e);
    if (e.x_advance > lw) lw = e.x_advance;
  }
  cairo_destroy(cr);
  cairo_surface_destroy(img);
  return lw;
}

/* cairo's text goes through fontconfig, which keeps its caches until FcFini; freeing them at
 * exit (when no thread draws any more) keeps leak checkers quiet about memory that is not lost. */
static void free_font_caches(void) {
  cairo_debug_reset_static_data();
  FcFini();
}
static void register_cleanup(void) { atexit(free_font_caches); }
static pthread_once_t cleanup_once = PTHREAD_ONCE_INIT;

int plot_write(const plot_spec *p, const char *base) {
  pthread_once(&cleanup_once, register_cleanup);
  frame f;
  if (bounds(p, &f) < 0) return -1;
  f.legend_w = legend_width(p);
  f.width = p->n_series > 0 || p->band_label ? W - RIGHT + LEGEND_GAP + f.legend_w + 52 + 12 : W;
  char path[4096];
  snprintf(path, sizeof path, "%s.png", base);
  cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)ceil(f.width), (int)H);
  cairo_t *cr = cairo_create(img);
  draw(cr, p, &f);
  cairo_destroy(cr);
  cairo_status_t st = cairo_surface_write_to_png(img, path);
  cairo_surface_destroy(img);
  if (st != CAIRO_STATUS_SUCCESS) return cm_set_error("%s: cannot write PNG: %s", path, cairo_status_to_string(st));
  snprintf(path, sizeof path, "%s.svg", base);
  cairo_surface_t *svg = cairo_svg_surface_create(path, ceil(f.width), H);
  cr = cairo_create(svg);
  draw(cr, p, &f);
  cairo_destroy(cr);
  cairo_surface_finish(svg);
  st = cairo_surface_status(svg);
  cairo_surface_destroy(svg);
  if (st != CAIRO_STATUS_SUCCESS) return cm_set_error("%s: cannot write SVG: %s", path, cairo_status_to_string(st));
  return 0;
}
