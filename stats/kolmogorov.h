/*
 * Kolmogorov-Smirnov distributions and the two-sample KS test.
 *
 * Numbers match scipy 1.10 (scipy.stats.ks_2samp with method='auto' and
 * scipy.stats.kstwo) to within 1e-9 absolute on the p-value; the statistic
 * is exactly scipy's. Pure computation: no I/O; the one global is which
 * build of the Smirnov sum the CPU runs (stats_kolmogorov_fma).
 */
#ifndef DRIFTD_STATS_KOLMOGOROV_H
#define DRIFTD_STATS_KOLMOGOROV_H

#include <stddef.h>

/* Survival function of the one-sample Kolmogorov statistic D_n for finite n
 * (scipy.stats.kstwo.sf(d, n)), following the Simard & L'Ecuyer (2011)
 * dispatch. Returns a value in [0, 1]; NAN when n < 1 or d is NAN. */
double stats_kstwo_sf(double d, double n);

/* Cumulative distribution function of D_n (scipy.stats.kstwo.cdf). */
double stats_kstwo_cdf(double d, double n);

/* Exact two-sided p-value of the two-sample statistic for samples of size
 * n1 and n2 (scipy's _attempt_exact_2kssamp). *d is rounded to the lattice
 * h/lcm(n1, n2) in place, as scipy does. Returns 0 and sets *p on success,
 * -1 when the computation overflows or leaves [0, 1] (the caller then uses
 * the asymptotic distribution). */
int stats_ks2_exact(double *d, size_t n1, size_t n2, double *p);

/* Two-sided two-sample KS test of sorted samples x (n1) and y (n2), both
 * without NAN: statistic D and p-value, scipy's method='auto' (exact when
 * max(n1, n2) <= 10000, else kstwo.sf(D, rint(n1*n2/(n1+n2)))).
 * Returns 0, or -1 when a sample is empty (outputs set to NAN). */
int stats_ks_2samp(const double *x, size_t n1, const double *y, size_t n2, double *d, double *p);

/* The same test from the samples pooled (stats/pooled.h): the same bits. */
struct stats_pooled;
int stats_ks_2samp_pooled(const struct stats_pooled *pl, double *d, double *p);

/* Which build of the finite-n Smirnov sum runs (smirnov.c; for tests and
 * benchmarks): mode 0 forces Dekker's products, any other mode lets the CPU
 * choose (FMA when it has it). Returns 1 when FMA is now used, else 0. The
 * results are the same bits either way. */
int stats_kolmogorov_fma(int mode);

#endif
