/*
 * Numbers read back from JSON that any program could have written (the
 * state file, a shared bucket, tail positions): a count is one a uint64_t
 * holds, a time (seconds since the epoch) one before the year 5000, which
 * is printed back with %.3f. 1e300 converted to uint64_t is undefined
 * behaviour, and an infinity printed back is not JSON. Header only: its
 * users link cJSON, lib does not.
 */
#ifndef DRIFTD_LIB_JNUM_H
#define DRIFTD_LIB_JNUM_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* v as a count into *out; false (*out as it was) when v is none. */
static inline bool jnum_count(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 18446744073709551616.0))
        return false;
    *out = (uint64_t)v->valuedouble;
    return true;
}

/* v as a time into *out; false (*out as it was) when v is none. */
static inline bool jnum_time(const cJSON *v, double *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble < 1e11))
        return false;
    *out = v->valuedouble;
    return true;
}

/* The count, or 0 when v is none. */
static inline uint64_t jnum_count_or0(const cJSON *v)
{
    uint64_t n = 0;
    jnum_count(v, &n);
    return n;
}

/* The time, or 0 when v is none. */
static inline double jnum_time_or0(const cJSON *v)
{
    double t = 0;
    jnum_time(v, &t);
    return t;
}

#endif
