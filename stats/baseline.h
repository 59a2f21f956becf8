/*
 * The training baseline (docs/statistics.md, "The baseline"): per-feature summary
 * statistics and the reference sample, serialised as versioned JSON whose
 * numbers read back bit-exact. Parsing takes text handed in by the caller.
 */
#ifndef DRIFTD_STATS_BASELINE_H
#define DRIFTD_STATS_BASELINE_H

#include "stats/evaluate.h"

#include <stddef.h>
#include <stdint.h>

#define STATS_BASELINE_FORMAT "driftd-baseline"
#define STATS_BASELINE_VERSION 1

struct stats_bfeature {
    char *name;
    enum stats_kind kind;
    uint64_t count;             /* present values in the training data */
    uint64_t missing;           /* missing values in the training data */
    uint64_t distinct;          /* distinct present values in the training data */
    double min, max, mean, std; /* numerical; NAN when count == 0 */
    /* Numerical: present values of the sampled rows, ascending. */
    double *sample;
    size_t n_sample;
    /* Categorical: categories sorted by byte order, each with its count in
     * the training data and in the sampled rows. */
    size_t n_cats;
    char **cats;
    uint64_t *cat_count;
    uint64_t *cat_sample;
    uint64_t sample_missing; /* missing values among the sampled rows */
};

struct stats_baseline {
    uint64_t rows;        /* training rows */
    uint64_t sample_rows; /* rows in the reference sample */
    uint64_t max_sample, seed;
    size_t nfeatures;
    struct stats_bfeature *features;
};

/* Parse and validate a baseline. On error returns -1 and writes a message
 * naming the place (line:column for JSON syntax, the key path otherwise),
 * prefixed with `source`, into err. */
int stats_baseline_parse(const char *text, size_t len, const char *source,
                         struct stats_baseline **out, char *err, size_t errlen);

/* Serialise deterministically (same baseline, same bytes). NULL on ENOMEM. */
char *stats_baseline_serialize(const struct stats_baseline *b, size_t *len);

/* Index of a feature by name, or -1. */
int stats_baseline_find(const struct stats_baseline *b, const char *name);

/* Index of a category of a categorical feature by name (binary search), or -1. */
long stats_bfeature_find_cat(const struct stats_bfeature *f, const char *name, size_t len);

void stats_baseline_free(struct stats_baseline *b);

#endif
