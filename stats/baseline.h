/*
 * The training baseline (docs/statistics.md, "The baseline"): per-feature summary
 * statistics and the reference sample, serialised as versioned JSON whose
 * numbers read back bit-exact. Parsing takes text handed in by the caller.
 */
#ifndef DRIFTD_STATS_BASELINE_H
#define DRIFTD_STATS_BASELINE_H

#include "stats/evaluate.h"

#include "lib/sbuf.h"
#include "lib/sha256.h"

#include <stdbool.h>
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
    /* stats_std of the sample when a cache recorded it (has_sample_std),
     * so that the evaluation need not compute it again */
    bool has_sample_std;
    double sample_std;
    /* Categorical: categories sorted by byte order, each with its count in
     * the training data and in the sampled rows. */
    size_t n_cats;
    char **cats;
    uint64_t *cat_count;
    uint64_t *cat_sample;
    uint64_t sample_missing; /* missing values among the sampled rows */
};

/* One label of a baseline (`driftd baseline --label KEY=VALUE`). */
struct stats_label {
    char *key; /* non-empty, of [A-Za-z0-9_.-] */
    char *value;
};

/* Where a baseline came from (docs/statistics.md, "Provenance"): the
 * "provenance" object of the file. */
struct stats_provenance {
    char *input_path;                       /* as given to --input; "-" for stdin */
    char input_sha256[SHA256_HEX_LEN + 1];  /* of the input's bytes as read, lowercase hex */
    uint64_t input_bytes;                   /* size of the input */
    uint64_t input_rows;                    /* records read, skipped bad ones included */
    char *input_format;                     /* "csv" or "ndjson" */
    uint64_t max_sample, seed, sample_rows; /* equal to the baseline's own */
    char *driftd_version;                   /* of the driftd that wrote it */
    char *created_at;                       /* RFC 3339 UTC, or NULL (not recorded) */
    size_t nlabels;
    struct stats_label *labels; /* sorted by key (byte order), keys unique */
};

struct stats_baseline {
    uint64_t rows;        /* training rows */
    uint64_t sample_rows; /* rows in the reference sample */
    uint64_t max_sample, seed;
    size_t nfeatures;
    struct stats_bfeature *features;
    /* NULL in a baseline written before driftd recorded provenance; the
     * baseline owns it (stats_baseline_free frees it). */
    struct stats_provenance *provenance;
    /* The mapped cache its samples were read from, or NULL: those samples
     * point into it (read-only), and stats_baseline_free unmaps it. */
    void *map;
    size_t maplen;
};

/* Parse and validate a baseline. On error returns -1 and writes a message
 * naming the place (line:column for JSON syntax, the key path otherwise),
 * prefixed with `source`, into err. */
int stats_baseline_parse(const char *text, size_t len, const char *source,
                         struct stats_baseline **out, char *err, size_t errlen);

/* A cache of a baseline's sample arrays (agent/bcache.c keeps it in a
 * file beside the baseline): parsing them is most of a large baseline's
 * load, reading them from a mapped file next to nothing. */
struct stats_baseline_cache {
    /* In: a mapped cache made for this very text (the caller checked its
     * hash), or NULL. Taken: the baseline keeps it when its samples came
     * from it (used), else it is unmapped before the parse returns. */
    void *map;
    size_t maplen;
    size_t payload; /* where the samples' part starts in map (a multiple of 8) */
    /* In: NULL, or where to append the samples' part of a new cache when
     * they were parsed from the text (nothing is appended when the
     * baseline cannot be cached: unsorted or infinite samples). */
    struct sbuf *out;
    bool used; /* out: the samples were read from map */
};

/* stats_baseline_parse, with the samples read from a cache when it fits
 * the text (else parsed, and written into cache->out). cache may be NULL. */
int stats_baseline_parse_cached(const char *text, size_t len, const char *source,
                                struct stats_baseline_cache *cache, struct stats_baseline **out,
                                char *err, size_t errlen);

/* Serialise deterministically (same baseline, same bytes). NULL on ENOMEM. */
char *stats_baseline_serialize(const struct stats_baseline *b, size_t *len);

/* Index of a feature by name, or -1. */
int stats_baseline_find(const struct stats_baseline *b, const char *name);

/* Index of a category of a categorical feature by name (binary search), or -1. */
long stats_bfeature_find_cat(const struct stats_bfeature *f, const char *name, size_t len);

void stats_baseline_free(struct stats_baseline *b);

/* The value of a label of b's provenance (e.g. "model_version"), or NULL
 * when b has no provenance or no such label. Owned by b. */
const char *stats_baseline_label(const struct stats_baseline *b, const char *key);

/* Whether key[0..len) is a valid label key: non-empty, of [A-Za-z0-9_.-]. */
bool stats_label_key_valid(const char *key, size_t len);

/* Check that s is an RFC 3339 date-time in UTC, YYYY-MM-DDTHH:MM:SS with
 * an optional fraction and a final Z, and a real date. true when it is;
 * else false with what is wrong written into why (no prefix). */
bool stats_time_check(const char *s, char *why, size_t whylen);

/* Add a label to p, keeping the labels sorted. 0; 1 when the key is there
 * already (nothing changes); -1 on ENOMEM. The strings are copied; the key
 * is not checked (see stats_label_key_valid). */
int stats_provenance_add_label(struct stats_provenance *p, const char *key, const char *value);

/* The provenance as the JSON object the baseline file holds, appended to
 * out (deterministic: same provenance, same bytes). */
void stats_provenance_json(const struct stats_provenance *p, struct sbuf *out);

/* The labels alone as a JSON object ({} when there are none or p is NULL),
 * appended to out. */
void stats_labels_json(const struct stats_provenance *p, struct sbuf *out);

void stats_provenance_free(struct stats_provenance *p);

#endif
