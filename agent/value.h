/*
 * Reading one cell's text as a number the way pandas reads a CSV column:
 * empty fields and pandas' default NA strings are missing, NaN and
 * infinities are missing (docs/statistics.md, "Data quality"), anything
 * else must be a decimal number.
 */
#ifndef DRIFTD_AGENT_VALUE_H
#define DRIFTD_AGENT_VALUE_H

#include <stdbool.h>
#include <stddef.h>

enum value_class { VALUE_NUMBER, VALUE_MISSING, VALUE_TEXT };

/* Classify s[0..len) and, for VALUE_NUMBER, store the (correctly rounded,
 * finite) value. Surrounding spaces are ignored. NaN and +-inf spellings
 * are VALUE_MISSING; na_tokens adds pandas' NA strings ("NA", "null", ...). */
enum value_class value_parse(const char *s, size_t len, bool na_tokens, double *out);

/* True for pandas' default NA strings and the empty string. */
bool value_is_na_token(const char *s, size_t len);

#endif
