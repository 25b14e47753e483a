/*
 * xcorr: the residual time offset between two streams from the cross-correlation of motion
 * signals that both see (video frame-difference energy, wrist acceleration magnitude, audio
 * onset envelope), with a confidence so that it is applied only where the data supports it.
 *
 * Both signals are given as (time, value) samples on the reference timeline (already mapped by
 * the clock model), resampled here onto one uniform grid, high-passed (a moving mean of
 * hp_window_s subtracted, so slow trends and gravity do not correlate) and standardised. The
 * normalised cross-correlation is evaluated at every grid lag within +-max_lag_s, the peak is
 * refined to sub-grid precision by a parabola through its neighbours, and the confidence is
 * measured two ways:
 *   - peak-to-sidelobe ratio: (peak - mean of the lags outside +-exclusion_s of the peak) /
 *     their standard deviation;
 *   - peak ratio: the peak over the best other local maximum outside the exclusion zone.
 *     Periodic activities (walking, jumping jacks) give several almost equal peaks one period
 *     apart; the ratio is near 1 there and the estimate must not be trusted, whatever the PSR.
 * The near-equal peaks (within alias_ratio of the best) are also counted, with the distance to
 * the farthest: the truth is near one of them, so that distance is what an honest uncertainty
 * of an ambiguous estimate must add.
 *
 * Convention: lag_s is the shift to ADD to the times of signal b to line it up with signal a
 * (if b's clock reads late by 0.1 s, lag_s = -0.1).
 */
#ifndef CM_XCORR_H
#define CM_XCORR_H

#include <stddef.h>

typedef struct {
  double grid_hz;      /* resampling rate, e.g. 100 */
  double max_lag_s;    /* search range */
  double hp_window_s;  /* high-pass moving-mean length, e.g. 1.0 */
  double exclusion_s;  /* half-width of the main lobe excluded from sidelobe statistics */
  double min_psr;      /* confident when psr >= min_psr ... */
  double min_peak_ratio; /* ... and peak_ratio >= min_peak_ratio ... */
  double min_corr;     /* ... and the peak correlation >= min_corr */
  double alias_ratio;  /* other local maxima >= alias_ratio * peak are candidates the truth may be at */
} cm_xcorr_params;

typedef struct {
  double lag_s;       /* shift to add to b's times */
  double corr;        /* normalised correlation at the peak, -1..1 */
  double psr;         /* peak-to-sidelobe ratio */
  double peak_ratio;  /* peak / best other local maximum */
  double overlap_s;   /* length of the common span used */
  double uncertainty_s; /* from the main lobe's width and the grid */
  double hwhm_s;      /* half width of the main lobe at half the peak */
  int n_alias;        /* local maxima outside the main lobe within alias_ratio of the peak */
  double alias_spread_s; /* largest distance from the peak to one of them (0 when none) */
  int confident;
} cm_xcorr_result;

void cm_xcorr_default_params(cm_xcorr_params *p);

/* ta/va (na samples) and tb/vb (nb samples): times in seconds (any common origin), sorted.
 * Returns 0 with *out filled (confident or not), or -1 with cm_error() set when the signals
 * have no usable common span (less than 2 * max_lag_s + hp_window_s of overlap). */
int cm_xcorr_offset(const double *ta, const double *va, size_t na, const double *tb,
                    const double *vb, size_t nb, const cm_xcorr_params *p, cm_xcorr_result *out);

/* The normalised cross-correlation curve alone: c[k] for lag (k - L) / grid_hz, k < 2L + 1 with
 * L = ceil(max_lag_s * grid_hz) (c must hold that many). Same conventions and errors as
 * cm_xcorr_offset; several cue pairs' curves can be summed before a peak is picked. */
int cm_xcorr_curve(const double *ta, const double *va, size_t na, const double *tb, const double *vb, size_t nb,
                   const cm_xcorr_params *p, double *c, size_t *n_lags, double *overlap_s);
/* Peak, PSR, peak ratio, lobe width, lobe-width uncertainty and confidence of a curve (lag_s,
 * corr, psr, peak_ratio, hwhm_s, uncertainty_s, confident of *out; overlap_s is left alone). */
void cm_xcorr_pick(const double *c, size_t n_lags, const cm_xcorr_params *p, cm_xcorr_result *out);

/* Resample (t, v) onto the grid t0 + k/hz, k < n, by linear interpolation (held at the ends).
 * Used by the signal builders too. */
void cm_xcorr_resample(const double *t, const double *v, size_t n, double t0, double hz, double *out,
                       size_t n_out);

#endif
