/*
 * Decimal number parsing, correctly rounded: Clinger's fast path (an
 * integer mantissa below 2^53 scaled by an exact power of ten up to 1e22)
 * for the common short numbers, strtod for the rest.
 */
#ifndef DRIFTD_STATS_NUMPARSE_H
#define DRIFTD_STATS_NUMPARSE_H

#include <stddef.h>

/* Parse one number at s (before end): [+-]? (digits [. digits?] | . digits)
 * ([eE] [+-]? digits)?. Returns the end of the number, or NULL when s does
 * not start with one. The result may be +-inf on overflow. */
const char *stats_parse_number(const char *s, const char *end, double *out);

#endif
