/*
 * The reference samples of a baseline's JSON text, parsed before cJSON sees
 * the rest (stats/baseline.c). Internal to stats/.
 */
#ifndef DRIFTD_STATS_BSAMPLES_H
#define DRIFTD_STATS_BSAMPLES_H

#include "lib/sbuf.h"

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
    /* stats_std of each array as a cache payload recorded it (its arrays
     * are sorted), NAN when not known: bsamples_extract does not compute it */
    double *stddev;
    size_t count;
    char *text; /* NUL-terminated, len bytes */
    size_t len;
    struct bsamples_span *spans; /* where text was shortened */
    size_t nspans;
    bool borrowed; /* v[i] point into a payload (bsamples_from_payload) */
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

/* The parsed arrays of s (after bsamples_extract) as a payload for a cache
 * of the same text: where each replaced array is, its values, and a
 * checksum, appended to out. -1 when an array is unsorted or holds an
 * infinity (such a baseline is not cached; its reader sorts or rejects
 * it) or out of memory. */
int bsamples_payload(const struct bsamples *s, struct sbuf *out);

/* bsamples_extract of text from a payload bsamples_payload made for the
 * same text (the caller knows by its hash): no number is parsed, and
 * v[i] point into payload (8-byte aligned), which must outlive s and the
 * baseline that takes them over. 0; 1 when the payload does not fit the
 * text or fails its checksum, its order or finiteness (s is then empty);
 * -1 out of memory. */
/* The checksum a payload ends with, of its n words before it (any
 * alignment); for the fuzz target, which forges payloads past it. */
uint64_t bsamples_checksum(const void *p, size_t n);

int bsamples_from_payload(const char *text, size_t len, const void *payload, size_t plen,
                          struct bsamples *out);

#endif
