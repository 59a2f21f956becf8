/*
 * The reference samples of a baseline's JSON text, parsed before cJSON sees
 * the rest (stats/baseline.c). Internal to stats/.
 */
#ifndef DRIFTD_STATS_BSAMPLES_H
#define DRIFTD_STATS_BSAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A number no hand-written baseline holds by accident: each parsed array
 * is replaced in the text given to cJSON by BSAMPLES_BASE + its index
 * (2^52 + index is exact in a double). A bare index would let a
 * hand-written "sample": 0 take over another key's array. */
#define BSAMPLES_BASE ((uint64_t)1 << 52)

struct bsamples_span;

/* What bsamples_extract found: the arrays by index (v[i], n[i] values;
 * a taken array is NULL; nonfinite[i] the index of its first infinity or
 * n[i]; sorted[i] whether it is in ascending order) and the text for cJSON,
 * in which each parsed array is the number BSAMPLES_BASE + i. */
struct bsamples {
    double **v;
    size_t *n;
    size_t *nonfinite;
    bool *sorted;
    size_t count;
    char *text; /* NUL-terminated, len bytes */
    size_t len;
    struct bsamples_span *spans; /* where text was shortened */
    size_t nspans;
};

/* Find every "sample": [numbers] array of text (strings respected) and
 * parse it, on several threads when there are megabytes of them; an array
 * holding anything but numbers is left in the text for cJSON and its
 * errors. -1 when out of memory. */
int bsamples_extract(const char *text, size_t len, struct bsamples *out);

/* The offset in the original text of offset off of out->text, so that
 * cJSON's error positions name the line and column of the file. */
size_t bsamples_source_offset(const struct bsamples *s, size_t off);

void bsamples_free(struct bsamples *s);

#endif
