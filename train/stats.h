/*
 * stats: the statistics the experiments report: mean, sample standard deviation, and Welch's
 * unequal-variance t-test with its two-sided p-value (the study reports significance by a
 * t-test over 10 runs; Welch's form does not assume the two procedures vary alike).
 *
 * The p-value is the Student t tail through the regularised incomplete beta function,
 * p = I_{df/(df+t^2)}(df/2, 1/2), evaluated by its continued fraction (modified Lentz), the
 * standard method (e.g. Press et al., Numerical Recipes, section 6.4).
 */
#ifndef STATS_H
#define STATS_H

#include <stddef.h>

double stats_mean(const double *x, size_t n);
/* Sample standard deviation (n - 1 in the denominator); 0 for n < 2. */
double stats_sd(const double *x, size_t n);
/* Regularised incomplete beta I_x(a, b), a, b > 0, 0 <= x <= 1. */
double stats_betai(double a, double b, double x);
/* Two-sided p-value of Student's t with df degrees of freedom (df > 0, not necessarily whole). */
double stats_t_two_sided_p(double t, double df);

typedef struct {
  double t, df, p;   /* p is NaN when the test is undefined (fewer than 2 values a side, or both
                        samples constant and equal) */
} stats_welch;

stats_welch stats_welch_test(const double *a, size_t na, const double *b, size_t nb);

#endif
