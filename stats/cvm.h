/*
 * Two-sample Cramer-von Mises and Anderson-Darling k-sample tests.
 *
 * Numbers match scipy 1.10 (scipy.stats.cramervonmises_2samp with
 * method='auto' and scipy.stats.anderson_ksamp with midrank=True for k=2).
 */
#ifndef DRIFTD_STATS_CVM_H
#define DRIFTD_STATS_CVM_H

#include <stddef.h>

/* Cramer-von Mises two-sample test of sorted samples x (n1) and y (n2)
 * without NAN. T uses midranks; p is exact when max(n1, n2) <= 20, else
 * scipy's asymptotic series. Returns 0, or -1 when either sample has fewer
 * than 2 values (scipy's requirement; outputs set to NAN). */
int stats_cvm_2samp(const double *x, size_t n1, const double *y, size_t n2, double *t, double *p);

/* The same tests from the samples pooled (stats/pooled.h): the same bits. */
struct stats_pooled;
int stats_cvm_2samp_pooled(const struct stats_pooled *pl, double *t, double *p);
int stats_anderson_2samp_pooled(const struct stats_pooled *pl, double *a2, double *p);

/* Anderson-Darling k-sample test for k = 2, sorted samples without NAN:
 * standardised statistic and p-value capped to [0.001, 0.25] as scipy does.
 * Returns 0, or -1 when it cannot be computed (an empty sample, or fewer
 * than 2 distinct values or fewer than 4 values in the pooled sample, where
 * scipy fails too; outputs set to NAN). */
int stats_anderson_2samp(const double *x, size_t n1, const double *y, size_t n2, double *a2,
                         double *p);

#endif
