/*
 * The column map of one reader: reader column index -> baseline feature
 * index (-1: not a feature). Readers number columns densely as they first
 * see them (a CSV header field, an NDJSON key), so the map grows by index;
 * every consumer of a reader against a baseline (`driftd check`, the
 * dataset reader, the daemon's sources) keeps one.
 */
#ifndef DRIFTD_AGENT_COLMAP_H
#define DRIFTD_AGENT_COLMAP_H

#include "stats/baseline.h"

#include <stdbool.h>
#include <stddef.h>

/* Embedded by its owner; the fields are the functions' business. */
struct colmap {
    long *map;      /* cap entries; -1 where nothing is mapped */
    size_t cap;     /* entries allocated */
    size_t n;       /* columns announced: 1 + the highest index mapped */
    bool failed;    /* a column could not be mapped for lack of memory */
    size_t version; /* 1 + the column of inputs[].version_field (not a feature); 0: none,
                     * so a zeroed map has none */
};

/* An empty map (no allocation). */
void colmap_init(struct colmap *m);

/* Map reader column `index`, named by the len bytes of name (up to a NUL
 * byte, as a C string would read), to its feature in b, replacing what the
 * index mapped before (reader_remap_columns asks again after a reload).
 * Returns the answer a reader's column callback gives: 0 keep the column,
 * -1 ignore it (not a feature of b, or out of memory: colmap_failed). */
int colmap_map(struct colmap *m, const struct stats_baseline *b, size_t index, const char *name,
               size_t len);

/* The feature of reader column `index`, or -1 (not a feature, never mapped). */
static inline long colmap_get(const struct colmap *m, size_t index)
{
    return index < m->n ? m->map[index] : -1;
}

/* Columns announced so far: 1 + the highest index given to colmap_map. */
size_t colmap_size(const struct colmap *m);

/* True once a column could not be mapped for lack of memory (sticky until
 * colmap_reset): the data read since is missing that column. */
bool colmap_failed(const struct colmap *m);

/* Forget every column (a new input with other columns), keeping the memory. */
void colmap_reset(struct colmap *m);

/* Free the memory; the map is empty again and may be reused. */
void colmap_free(struct colmap *m);

#endif
