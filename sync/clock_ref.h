/*
 * clock_ref: map a recording host's clock onto reference (NTP) time from the chronyd TRACKING
 * answers stored in its session file (/clock/chrony, cm_chrony_row).
 *
 * chrony's current_correction is positive when the system clock is slow of NTP time, so
 * reference = host + current_correction. Between answers the correction is interpolated
 * linearly (chronyd slews smoothly); before the first and after the last it is held. Each
 * answer's own uncertainty is root_delay/2 + root_dispersion (chrony's bound on the error of
 * its reference); between answers the larger of the two neighbours' is used, and held values
 * grow by the stated skew over the holding time.
 *
 * Answers with leap status 3 (unsynchronised) carry no usable correction and are left out. A
 * jump of the correction between two answers faster than chronyd can slew (its default
 * maxslewrate is 83333 ppm) and larger than step_min_s is a clock step: the host clock jumped,
 * and no interpolation can say when between the two answers. Steps are listed so the caller
 * can skip the session (or the windows between the two answers) with the reason.
 */
#ifndef CM_CLOCK_REF_H
#define CM_CLOCK_REF_H

#include <stddef.h>
#include <stdint.h>

#include "cm_session.h"

typedef struct {
  int64_t t_host_ns;
  double correction_s;
  double uncertainty_s;
  double skew_ppm;
} cm_clock_ref_point;

typedef struct {
  int64_t t_before_ns, t_after_ns; /* host times of the two answers around the step */
  double step_s;                   /* change of the correction */
} cm_clock_step;

typedef struct {
  cm_clock_ref_point *pts;
  size_t n;
  size_t n_unsynced; /* answers left out for leap status 3 */
  cm_clock_step *steps;
  size_t n_steps;
} cm_clock_ref;

#define CM_CLOCK_MAX_SLEW 0.083333 /* s/s, chronyd's default maxslewrate */

/* Build from chrony rows (sorted by t_host_ns by the builder). step_min_s: smallest change
 * counted as a step (e.g. 0.02). Fails when no synchronised answer is left. */
int cm_clock_ref_build(const cm_chrony_row *rows, size_t n, double step_min_s, cm_clock_ref *out);
void cm_clock_ref_free(cm_clock_ref *r);

/* Correction (s) to add to a host time to reach reference time, and its uncertainty. */
double cm_clock_ref_correction(const cm_clock_ref *r, int64_t t_host_ns, double *uncertainty_s);
/* Reference time of a host time, and the host time of a reference time (inverse, by fixed
 * point: the correction changes far slower than time itself). */
int64_t cm_clock_ref_to_ref(const cm_clock_ref *r, int64_t t_host_ns);
int64_t cm_clock_ref_to_host(const cm_clock_ref *r, int64_t t_ref_ns);

#endif
