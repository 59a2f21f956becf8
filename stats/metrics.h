/*
 * Distances and binned metrics between a reference and a current sample,
 * defined as scipy 1.10 and Evidently compute them (docs/statistics.md).
 * Pure computation: inputs are handed in, nothing is kept.
 */
#ifndef DRIFTD_STATS_METRICS_H
#define DRIFTD_STATS_METRICS_H

#include <stddef.h>

/* Wasserstein-1 distance between sorted samples of finite values, as every
 * sample of a baseline or a window is (scipy.stats.wasserstein_distance). */
double stats_wasserstein(const double *x, size_t n1, const double *y, size_t n2);

/* Both at once, one pass over the pooled values. */
void stats_cdf_distances(const double *x, size_t n1, const double *y, size_t n2, double *w1,
                         double *e2);

/* The same from the samples pooled (stats/pooled.h): the same bits. */
struct stats_pooled;
void stats_cdf_distances_pooled(const struct stats_pooled *pl, double *w1, double *e2);

/* Energy distance between sorted samples (scipy.stats.energy_distance). */
double stats_energy_distance(const double *x, size_t n1, const double *y, size_t n2);

/* Population standard deviation (ddof = 0) of x, as numpy.std. */
double stats_std(const double *x, size_t n);

/* Most bins stats_sturges_nbins returns: the rule gives ceil(log2 n + 1),
 * at most 65 for any size_t n, give or take rounding. */
#define STATS_STURGES_MAX_BINS 1024

/* numpy's Sturges bin count for a pooled sample of n values over [lo, hi],
 * written out literally (docs/statistics.md, "Binned metrics"), in
 * [1, STATS_STURGES_MAX_BINS] for any input. Any finite range works: a
 * range wider than DBL_MAX gives the bins numpy would give with a wider
 * exponent; subnormal ranges the bins numpy gives. lo == hi (one repeated
 * value), n == 0 or a range that is not finite: one bin. */
size_t stats_sturges_nbins(double lo, double hi, size_t n);

/* numpy.linspace's nbins + 1 edges over [lo, hi] (equal bounds widen to
 * [lo - 0.5, hi + 0.5] first, as numpy does); edges has nbins + 1 slots and
 * nbins >= 1. For finite bounds the edges are finite, ordered, between the
 * bounds, the first and last equal to them. */
void stats_sturges_edges(double lo, double hi, size_t nbins, double *edges);

/* Count sorted values into bins [e_i, e_{i+1}), the last one closed, as
 * numpy.histogram with explicit edges. counts has nbins slots. */
void stats_histogram(const double *sorted, size_t n, const double *edges, size_t nbins,
                     double *counts);

/* Evidently's zero fill for PSI and KL: zeros of one proportion array become
 * 1e-4, or (smallest non-zero)/1e6 when that is <= 1e-4. In place. */
void stats_fill_zeros(double *p, size_t k);

/* Metrics over proportion arrays r (reference) and c (current) of k bins. */
double stats_psi(const double *r, const double *c, size_t k);            /* zero-filled input */
double stats_kl_div(const double *r, const double *c, size_t k);         /* zero-filled input */
double stats_jensen_shannon(const double *r, const double *c, size_t k); /* raw proportions */
double stats_tvd(const double *r, const double *c, size_t k);
/* Categorical Hellinger distance: sqrt(1 - clip(sum sqrt(r c), 0, 1)). */
double stats_hellinger_props(const double *r, const double *c, size_t k);

/* Numerical Hellinger distance as Evidently computes it: Sturges edges over
 * the distinct values of the union, density histograms, Bhattacharyya
 * coefficient times the bin width (last edge - first edge) / nbins. x, y
 * sorted. A number in [0, 1] for any finite values: one repeated value in
 * both samples gives 0 (one bin [v - 0.5, v + 0.5] of width 1); NAN only
 * for an empty sample or when out of memory. */
double stats_hellinger_numeric(const double *x, size_t n1, const double *y, size_t n2);

/* The same with the distinct values counted in pl, the pooling of x and y. */
double stats_hellinger_numeric_pooled(const struct stats_pooled *pl, const double *x,
                                      const double *y);

/* Chi-square goodness of fit of current counts o against reference counts
 * scaled to the current total (Evidently). *stat is INFINITY and *p 0 when
 * a category has expected 0 and observed > 0; returns -1 (p NAN) when k < 2. */
int stats_chisquare(const double *ref_counts, const double *cur_counts, size_t k, double *stat,
                    double *p);

/* Two-proportion z-test (Evidently): category index `first` (the smallest
 * key of the sorted union) scores 0, every other category 1. Returns -1
 * when a sample is empty. */
int stats_ztest(const double *ref_counts, const double *cur_counts, size_t k, size_t first,
                double *stat, double *p);

/* Benjamini-Hochberg at level q over m p-values: sets flag[i] = 1 for every
 * p-value up to the largest p_(i) < q*i/m (NAN p-values never reject).
 * order is scratch of m entries. */
void stats_fdr(const double *p, size_t m, double q, int *flag, size_t *order);

#endif
