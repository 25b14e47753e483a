/*
 * Welch's t-test against values known independently (closed forms of Student's t for 1 and 2
 * degrees of freedom, a numerical integral of the density for others, a textbook example), and
 * the plotting module: the PNG decodes to the canvas size with drawn pixels, the SVG is a
 * non-trivial SVG document.
 */
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "stats.h"
#include "testutil.h"

/* Two-sided tail of Student's t by Simpson's rule on the density: an independent check. */
static double tail_by_integral(double t, double df) {
  double c = exp(lgamma((df + 1) / 2) - lgamma(df / 2)) / sqrt(df * M_PI);
  /* P(|T| > t) = 1 - 2 * integral_0^t pdf */
  int n = 200000;
  double h = fabs(t) / n, s = 0;
  for (int i = 0; i <= n; i++) {
    double x = i * h, f = c * pow(1 + x * x / df, -(df + 1) / 2);
    s += f * (i == 0 || i == n ? 1 : i % 2 ? 4 : 2);
  }
  return 1 - 2 * s * h / 3;
}

static void test_t_tail(void **st) {
  (void)st;
  double ts[] = {0.1, 0.7, 1.5, 2.0, 3.3, 8.0};
  for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
    double t = ts[i];
    assert_true(fabs(stats_t_two_sided_p(t, 1) - (1 - 2 / M_PI * atan(t))) < 1e-10);
    assert_true(fabs(stats_t_two_sided_p(-t, 2) - (1 - t / sqrt(2 + t * t))) < 1e-10);
    assert_true(fabs(stats_t_two_sided_p(t, 8) - tail_by_integral(t, 8)) < 1e-8);
    assert_true(fabs(stats_t_two_sided_p(t, 5.5) - tail_by_integral(t, 5.5)) < 1e-8);
    assert_true(fabs(stats_t_two_sided_p(t, 37.2) - tail_by_integral(t, 37.2)) < 1e-8);
  }
  assert_true(fabs(stats_t_two_sided_p(0, 4) - 1) < 1e-12);
  /* the t-table: 2.306 is the two-sided 5% point for 8 degrees of freedom */
  assert_true(fabs(stats_t_two_sided_p(2.306, 8) - 0.05) < 2e-4);
  assert_true(fabs(stats_betai(2, 3, 0.4) - 0.5248) < 1e-12); /* I_x(2,3) = 6x^2 - 8x^3 + 3x^4 */
}

static void test_welch(void **st) {
  (void)st;
  /* equal variances and sizes: t = -2, df = 8 (scipy.stats.ttest_ind(..., equal_var=False)
   * gives p = 0.0805) */
  double a[] = {1, 2, 3, 4, 5}, b[] = {3, 4, 5, 6, 7};
  stats_welch w = stats_welch_test(a, 5, b, 5);
  assert_true(fabs(w.t + 2) < 1e-12);
  assert_true(fabs(w.df - 8) < 1e-12);
  assert_true(fabs(w.p - tail_by_integral(2, 8)) < 1e-8);
  assert_true(fabs(w.p - 0.0805) < 5e-4);
  /* unequal: the Welch-Satterthwaite degrees of freedom by hand */
  double c[] = {10.1, 9.8, 10.4, 10.0}, d[] = {11.5, 8.2, 13.9, 9.1, 12.6, 10.7};
  double va = 0.0625 / 4, mc = 10.075, md = 11.0, vd = 0;
  for (int i = 0; i < 6; i++) vd += (d[i] - md) * (d[i] - md);
  vd = vd / 5 / 6;
  va = 0;
  for (int i = 0; i < 4; i++) va += (c[i] - mc) * (c[i] - mc);
  va = va / 3 / 4;
  double df = (va + vd) * (va + vd) / (va * va / 3 + vd * vd / 5);
  w = stats_welch_test(c, 4, d, 6);
  assert_true(fabs(w.t - (mc - md) / sqrt(va + vd)) < 1e-12);
  assert_true(fabs(w.df - df) < 1e-9);
  assert_true(fabs(w.p - tail_by_integral(w.t, w.df)) < 1e-7);
  assert_true(isnan(stats_welch_test(a, 1, b, 5).p));
  assert_true(fabs(stats_mean(a, 5) - 3) < 1e-15 && fabs(stats_sd(a, 5) - sqrt(2.5)) < 1e-15);
}

static void test_plot_files(void **st) {
  (void)st;
  char *dir = tu_mkdtemp("plot");
  double x[5] = {10, 20, 50, 100, 976}, y1[5] = {40, 55, 70, 80, 85}, e1[5] = {3, 2, 2, 1, 1},
         y2[5] = {20, 25, 40, 60, 70};
  plot_spec p = {.title = "test figure", .xlabel = "labelled windows", .ylabel = "accuracy (%)", .log_x = 1,
                 .ymin = NAN, .ymax = NAN, .n_series = 2};
  p.series[0] = (plot_series){"ours", 5, x, y1, e1, 0};
  p.series[1] = (plot_series){"paper", 5, x, y2, NULL, 1};
  char base[4096];
  snprintf(base, sizeof base, "%s/fig", dir);
  assert_int_equal(plot_write(&p, base), 0);
  cairo_surface_t *s = cairo_image_surface_create_from_png(tu_path(dir, "fig.png"));
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
  assert_true(w > 900); /* the plot area and, right of it, the legend's column */
  assert_int_equal(h, 560);
  cairo_surface_flush(s);
  const unsigned char *px = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  long coloured = 0, dark = 0, drawn = 0;
  for (int r = 0; r < h; r++)
    for (int c = 0; c < w; c++) {
      const unsigned char *q = px + (size_t)r * stride + 4 * c; /* B G R x */
      if (q[0] != q[1] || q[1] != q[2]) coloured++;
      if (q[0] < 100 && q[1] < 100 && q[2] < 100) dark++;
      if (q[0] < 250 || q[1] < 250 || q[2] < 250) drawn++;
    }
  cairo_surface_destroy(s);
  assert_true(coloured > 2000); /* the two series */
  assert_true(dark > 1000);     /* axes, ticks, text */
  assert_true(drawn > 10000);   /* and the grid */
  size_t n;
  char *svg = tu_read_file(tu_path(dir, "fig.svg"), &n);
  assert_non_null(svg);
  assert_true(n > 5000);
  assert_non_null(strstr(svg, "<svg"));
  free(svg);
  /* The legend never hides a curve: a series along the top of the plot area (where a legend
   * inside the area would sit) stays visible over its whole length. At ymin 0, ymax 100 the
   * value 98 is drawn at row 490 - 0.98 * 440 = 58.8 of the 80..870 point wide plot area. */
  double xt[2] = {10, 976}, yt[2] = {98, 98};
  plot_spec top = {.title = "top", .ymin = 0, .ymax = 100, .n_series = 3};
  top.series[0] = (plot_series){"a series along the top", 2, xt, yt, NULL, 0};
  top.series[1] = (plot_series){"a second label, long enough to make a wide legend box", 5, x, y1, NULL, 0};
  top.series[2] = (plot_series){"a third", 5, x, y2, NULL, 1};
  top.band_label = "a shaded range", top.band_x0 = 100, top.band_x1 = 300;
  assert_int_equal(plot_write(&top, base), 0);
  s = cairo_image_surface_create_from_png(tu_path(dir, "fig.png"));
  assert_int_equal(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  cairo_surface_flush(s);
  px = cairo_image_surface_get_data(s);
  stride = cairo_image_surface_get_stride(s);
  long blue = 0, cols = 0;
  for (int c = 100; c < 850; c++, cols++) {
    int hit = 0;
    for (int r = 57; r <= 60 && !hit; r++) {
      const unsigned char *q = px + (size_t)r * stride + 4 * c; /* B G R x; the series is (0.12, 0.47, 0.71) */
      hit = q[0] > q[2] + 60;
    }
    blue += hit;
  }
  cairo_surface_destroy(s);
  if (blue < cols) fail_msg("the top series is hidden in %ld of %ld columns", cols - blue, cols);
  /* nothing to draw is an error, not an empty figure */
  plot_spec empty = {.title = "empty", .ymin = NAN, .ymax = NAN, .n_series = 0};
  assert_int_equal(plot_write(&empty, base), -1);
  tu_rmtree(dir);
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_t_tail), cmocka_unit_test(test_welch),
                                     cmocka_unit_test(test_plot_files)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
