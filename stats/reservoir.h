/*
 * Uniform reservoir sampling with a seeded GSL generator: Li's Algorithm L
 * (ACM TOMS 20(4), 1994), which draws random numbers only for the items it
 * keeps, so a caller can skip everything in between without looking at it.
 * Same seed and same stream give the same sample.
 */
#ifndef DRIFTD_STATS_RESERVOIR_H
#define DRIFTD_STATS_RESERVOIR_H

#include <stddef.h>
#include <stdint.h>

#define STATS_RESERVOIR_DROP ((size_t)-1)

struct stats_reservoir;

/* A reservoir of `capacity` slots (> 0) seeded with `seed`; NULL on ENOMEM. */
struct stats_reservoir *stats_reservoir_new(size_t capacity, uint64_t seed);
void stats_reservoir_free(struct stats_reservoir *r);

/* Offer the next item of the stream: returns the slot to store it in
 * (replacing what was there), or STATS_RESERVOIR_DROP. */
size_t stats_reservoir_offer(struct stats_reservoir *r);

/* How many of the next items will be dropped before one is kept (0 when the
 * next is kept); lets a caller skip records without parsing them. */
uint64_t stats_reservoir_skip(const struct stats_reservoir *r);

/* Items offered so far, and slots filled (min(seen, capacity)). */
uint64_t stats_reservoir_seen(const struct stats_reservoir *r);
size_t stats_reservoir_size(const struct stats_reservoir *r);
size_t stats_reservoir_capacity(const struct stats_reservoir *r);

/* The sampling state beyond the kept items (Algorithm L's running weight
 * and the index of the next item to keep), to resume a stream in another
 * process: refill the same items in the same slots, then restore. Returns
 * -1 (nothing changed) for a state that cannot be this reservoir's. */
void stats_reservoir_state(const struct stats_reservoir *r, uint64_t *seen, double *w,
                           uint64_t *next);
int stats_reservoir_restore(struct stats_reservoir *r, uint64_t seen, double w, uint64_t next);

/* Start a new stream (a new window); the generator continues its sequence. */
void stats_reservoir_reset(struct stats_reservoir *r);

#endif
