/*
 * Algorithm L (Kim-Hung Li, "Reservoir-sampling algorithms of time
 * complexity O(n(1 + log(N/n)))", ACM TOMS 1994): after the reservoir is
 * full, the gap to the next kept item is geometric with a weight W that
 * shrinks as the stream grows.
 */
#include "stats/reservoir.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>

struct stats_reservoir {
    gsl_rng *rng;
    size_t capacity;
    uint64_t seen; /* items offered */
    uint64_t next; /* index of the next item to keep once full */
    double w;
};

/* Draw the index of the next kept item after the one at `seen - 1`. */
static void advance(struct stats_reservoir *r)
{
    double u = gsl_rng_uniform_pos(r->rng);
    double gap = floor(log(u) / log1p(-r->w));
    if (!(gap < 9e18))
        gap = 9e18; /* W so small that nothing will be kept again */
    r->next = r->seen + (uint64_t)gap;
    r->w *= exp(log(gsl_rng_uniform_pos(r->rng)) / (double)r->capacity);
}

struct stats_reservoir *stats_reservoir_new(size_t capacity, uint64_t seed)
{
    struct stats_reservoir *r;

    if (capacity == 0 || (r = calloc(1, sizeof(*r))) == NULL)
        return NULL;
    if ((r->rng = gsl_rng_alloc(gsl_rng_mt19937)) == NULL) {
        free(r);
        return NULL;
    }
    gsl_rng_set(r->rng, (unsigned long)seed);
    r->capacity = capacity;
    stats_reservoir_reset(r);
    return r;
}

void stats_reservoir_free(struct stats_reservoir *r)
{
    if (r == NULL)
        return;
    gsl_rng_free(r->rng);
    free(r);
}

void stats_reservoir_reset(struct stats_reservoir *r)
{
    r->seen = 0;
    r->next = 0;
    r->w = 0;
}

size_t stats_reservoir_offer(struct stats_reservoir *r)
{
    uint64_t i = r->seen++;

    if (i < r->capacity) {
        if (i + 1 == r->capacity) {
            r->w = exp(log(gsl_rng_uniform_pos(r->rng)) / (double)r->capacity);
            advance(r);
        }
        return (size_t)i;
    }
    if (i < r->next)
        return STATS_RESERVOIR_DROP;
    size_t slot = (size_t)gsl_rng_uniform_int(r->rng, r->capacity);
    advance(r);
    return slot;
}

void stats_reservoir_state(const struct stats_reservoir *r, uint64_t *seen, double *w,
                           uint64_t *next)
{
    *seen = r->seen;
    *w = r->w;
    *next = r->next;
}

int stats_reservoir_restore(struct stats_reservoir *r, uint64_t seen, double w, uint64_t next)
{
    if (seen < r->capacity) {
        if (seen != r->seen)
            return -1; /* the items themselves were not refilled */
        return 0;
    }
    if (r->seen != r->capacity || !(w > 0 && w <= 1) || next < seen)
        return -1;
    r->seen = seen;
    r->w = w;
    r->next = next;
    return 0;
}

uint64_t stats_reservoir_skip(const struct stats_reservoir *r)
{
    if (r->seen < r->capacity)
        return 0;
    return r->next - r->seen;
}

uint64_t stats_reservoir_seen(const struct stats_reservoir *r)
{
    return r->seen;
}

size_t stats_reservoir_size(const struct stats_reservoir *r)
{
    return r->seen < r->capacity ? (size_t)r->seen : r->capacity;
}

size_t stats_reservoir_capacity(const struct stats_reservoir *r)
{
    return r->capacity;
}
