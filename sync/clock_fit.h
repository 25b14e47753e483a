/*
 * clock_fit: map a device's clock onto the clock of the host that received its samples.
 *
 * Every sample carries the time the device stamped it (t_device) and the time the host saw it
 * (t_host). Transport latency (radio, USB, the capture pipeline) only ever delays, so
 * t_host = offset + (1 + drift) * t_device + latency with latency >= 0, and the line we want
 * is the lower envelope of the points, not a least-squares line through their middle.
 *
 * The fit is the NTP-style linear programme: the line lying below every point that minimises
 * the summed distance to the points. Its optimum is the edge of the lower convex hull that
 * spans the mean device time, found in O(n) by Andrew's monotone chain. A single point that
 * arrived impossibly early (a glitch) would tilt a hull, so a robust first pass (Theil-Sen on
 * per-bin minima) flags points far below the envelope of their neighbours, and the hull is
 * taken over the rest.
 *
 * Times are int64 nanoseconds; all arithmetic is done relative to the first sample so that
 * doubles keep sub-microsecond precision on epoch-sized values.
 */
#ifndef CM_CLOCK_FIT_H
#define CM_CLOCK_FIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  int64_t dev0_ns, host0_ns; /* origin of the fit (the first sample) */
  double a_ns;               /* host - host0 at dev0, on the envelope */
  double slope;              /* d host / d device, 1 + drift */
  double drift_ppm;          /* (slope - 1) * 1e6 */
  double span_s;             /* device-time span of the samples */
  double resid_median_s;     /* median latency above the envelope */
  double resid_p95_s;
  double uncertainty_s;      /* stated bound on the envelope's offset error (see .c) */
  size_t n_used, n_rejected; /* points in the hull fit; points dropped as below-envelope glitches */
  int drift_fixed;           /* the span was too short to measure drift: taken as 0 */
} cm_clock_fit;

/* Drift a clock is assumed to stay within (100 ppm, as a fraction). */
#define CM_CLOCK_DRIFT_PRIOR 100e-6

/* Fit host time against device time. dev_ns must be non-decreasing (a device clock that goes
 * backwards is an error, reported with the sample index). Needs at least 2 distinct device
 * times. Returns 0, or -1 with cm_error() set. */
int cm_clock_fit_lower(const int64_t *dev_ns, const int64_t *host_ns, size_t n, cm_clock_fit *out);

/* A fit from a known offset and slope (for streams whose device clock is the host's). */
void cm_clock_fit_identity(cm_clock_fit *f, int64_t dev0_ns, int64_t host0_ns);

/* Host time of a device time, and the inverse (ns, rounded). */
int64_t cm_clock_fit_host(const cm_clock_fit *f, int64_t dev_ns);
int64_t cm_clock_fit_dev(const cm_clock_fit *f, int64_t host_ns);

#endif
