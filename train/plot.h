/*
 * plot: line plots with error bars, drawn with cairo to PNG and SVG, for the experiments'
 * figures (accuracy against epochs, labels, offset; Table 3 as points per transfer).
 *
 * A figure is a list of series (x, y, optional symmetric error, a label for the legend, solid
 * or dashed: the paper's numbers are drawn dashed beside ours), axes with "nice" ticks (linear
 * or log10 on x), optional category names on x, a title and axis labels. The same drawing code
 * paints both surfaces, so the PNG and the SVG show the same figure. The legend sits in its own
 * column right of the plot area (the canvas grows to fit it), so it never hides a curve.
 */
#ifndef PLOT_H
#define PLOT_H

#define PLOT_MAX_SERIES 12

typedef struct {
  const char *label;
  int n;
  const double *x, *y;
  const double *err;      /* NULL: no error bars */
  int dashed;             /* reference numbers (the paper's) */
} plot_series;

typedef struct {
  const char *title, *xlabel, *ylabel;
  int log_x;
  double ymin, ymax;      /* NaN: from the data */
  const char *const *x_categories; /* names at x = 0..n_categories-1, or NULL */
  int n_categories;
  int n_series;
  plot_series series[PLOT_MAX_SERIES];
  const char *band_label; /* non-NULL: shade x in [band_x0, band_x1] under the curves, in the legend */
  double band_x0, band_x1;
} plot_spec;

/* Writes BASE.png and BASE.svg. 0, or -1 with the error line set. */
int plot_write(const plot_spec *p, const char *base);

#endif
