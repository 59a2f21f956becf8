/*
 * Sorting doubles. GSL's gsl_sort is a heapsort: correct but several times
 * slower than needed on the 10^5-value columns driftd sorts on every check,
 * so this is a radix sort on the IEEE-754 bit patterns (MSD splits where the
 * values crowd, LSD passes on the bits that vary; stats/sort.c says how).
 */
#ifndef DRIFTD_STATS_SORT_H
#define DRIFTD_STATS_SORT_H

#include <stddef.h>

/* Sort ascending in place. Values must not be NAN. Returns 0, or -1 when
 * scratch memory is unavailable (then falls back to gsl_sort: still sorted). */
int stats_sort(double *v, size_t n);

#endif
