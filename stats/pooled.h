/*
 * Two sorted samples pooled: their distinct values in ascending order and
 * how many values of each sample are at each. KS, the CDF distances,
 * Cramer-von Mises, Anderson-Darling and the numerical Hellinger distance
 * all walk these distinct values; with --all-metrics one merge walk builds
 * this table and each test reads it in a plain loop, instead of five
 * merges whose branch on which sample comes next is a coin toss.
 */
#ifndef DRIFTD_STATS_POOLED_H
#define DRIFTD_STATS_POOLED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stats_pooled {
    size_t n1, n2; /* the two samples' sizes */
    size_t nd;     /* distinct pooled values (-0 and +0 are one) */
    double *v;     /* the first of each, as a merge meets it: x's on a tie */
    uint32_t *cx;  /* values of x equal to v[k] */
    uint32_t *cy;  /* values of y equal to v[k] */
    double *diff;  /* NULL, or after stats_pooled_diffs F1 - F2 at v[k] */
};

/* Pool sorted samples x (n1 > 0) and y (n2 > 0), both without NAN. Returns
 * 0, or -1 (p zeroed) when out of memory or a sample has 2^32 values or
 * more; the caller then walks the samples itself. */
int stats_pooled_init(struct stats_pooled *p, const double *x, size_t n1, const double *y,
                      size_t n2);

/* Fill p->diff: cdf1 - cdf2 at each distinct value, i/n1 - j/n2 divided
 * as KS and the CDF distances divide, so that both read it instead of
 * dividing twice each. Without memory p->diff stays NULL (each divides). */
void stats_pooled_diffs(struct stats_pooled *p);

void stats_pooled_free(struct stats_pooled *p);

/* The walks that do not pool: step *i and *j past the smallest value left
 * in sorted x and y, a whole tie of it (-0 and +0 together), so that
 * [i0, *i) of x and [j0, *j) of y are its values; false when both samples
 * are used up. */
static inline bool stats_tie_step(const double *x, size_t n1, const double *y, size_t n2, size_t *i,
                                  size_t *j)
{
    if (*i >= n1 && *j >= n2)
        return false;
    double v = (*j >= n2 || (*i < n1 && x[*i] <= y[*j])) ? x[*i] : y[*j];
    while (*i < n1 && x[*i] <= v)
        (*i)++;
    while (*j < n2 && y[*j] <= v)
        (*j)++;
    return true;
}

#endif
