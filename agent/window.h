/*
 * An evaluation window: counts every record offered and keeps a uniform
 * reservoir of at most `sample` of them (Algorithm L), so memory is fixed
 * by the configuration, whatever the traffic.
 */
#ifndef DRIFTD_AGENT_WINDOW_H
#define DRIFTD_AGENT_WINDOW_H

#include "agent/colmap.h"
#include "agent/dataset.h"
#include "agent/reader.h"
#include "lib/sbuf.h"
#include "stats/baseline.h"

#include <stdbool.h>
#include <stdint.h>

struct window;

/* A window for the features of b keeping `sample` records; NULL on ENOMEM. */
struct window *window_new(const struct stats_baseline *b, size_t sample, uint64_t seed);
void window_free(struct window *w);

/* Use another baseline with the same features (names and kinds, same
 * order) without losing the sample. */
void window_set_baseline(struct window *w, const struct stats_baseline *b);

/* Start window `id` at time `start` (seconds since the epoch), empty. */
void window_reset(struct window *w, uint64_t id, double start);

/* Who is told of a record's type errors (a text in a numerical column, a
 * nested JSON value): the record, the cell and the feature. */
struct window_type_errors {
    void (*fn)(void *arg, const struct reader_record *rec, size_t cell, size_t feature);
    void *arg;
};

/* Offer one record: colmap maps the record's cells to baseline features
 * (-1: not a feature). Returns true when the reservoir kept it. With te,
 * every type error of the record is told, kept or not (each cell is
 * classified once either way). */
bool window_add(struct window *w, const struct colmap *colmap, const struct reader_record *rec,
                bool na_tokens, const struct window_type_errors *te);

/* Count a record the reservoir skips without looking at it. */
void window_count_unread(struct window *w, uint64_t n);

/* How many of the next records the reservoir will not keep. */
uint64_t window_skip(const struct window *w);

/* Fill ds (cleared first) with the sampled records. */
bool window_dataset(const struct window *w, struct dataset *ds);

/* The open window, to survive a clean stop: a JSON header (id, counts,
 * start, the reservoir's state, the feature names) and the sampled records
 * as NDJSON, one per slot in slot order. Appends to head and recs; false
 * out of memory. */
bool window_save(const struct window *w, struct sbuf *head, struct sbuf *recs);
/* Resume a saved window into w (empty, of the same baseline and sample
 * size): its records are read back through the NDJSON reader. -1 with the
 * reason in err when the save is not this window's (other features, other
 * sample size, broken text); w is then empty again. */
int window_restore(struct window *w, const char *head, size_t head_len, const char *recs,
                   size_t recs_len, char *err, size_t errlen);

uint64_t window_id(const struct window *w);
uint64_t window_records(const struct window *w);
size_t window_sampled(const struct window *w);
double window_start(const struct window *w);

#endif
