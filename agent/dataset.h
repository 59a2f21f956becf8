/*
 * The current data of one evaluation, column by column, against a baseline:
 * numerical values, categorical counts, and the data-quality counters
 * (missing, type errors, unseen categories, out-of-range values). Used by
 * `driftd check` for a whole file and by the daemon for a window's sample.
 */
#ifndef DRIFTD_AGENT_DATASET_H
#define DRIFTD_AGENT_DATASET_H

#include "agent/dict.h"
#include "agent/reader.h"
#include "stats/baseline.h"

#include <stdbool.h>
#include <stdint.h>

struct dataset_col {
    double *vals; /* numerical: present values */
    size_t n, cap;
    struct dict *cats; /* categorical: categories of the current data */
    double *counts;    /* per cats id */
    size_t cap_counts;
    uint64_t present, missing, type_errors, unseen, out_of_range;
};

struct dataset {
    const struct stats_baseline *b;
    struct dataset_col *cols; /* one per baseline feature, baseline order */
    bool na_tokens;           /* CSV input: pandas' NA strings are missing */
    uint64_t records;         /* records added */
};

/* An empty dataset for the features of b (b must outlive it). */
struct dataset *dataset_new(const struct stats_baseline *b);
void dataset_free(struct dataset *ds);
void dataset_clear(struct dataset *ds);

/* A cell read as a value of a feature of the given kind. */
enum cell_class { CC_MISSING, CC_NUMBER, CC_TEXT, CC_TYPE_ERROR };

/* Classify a cell for a feature kind: numbers (numerical), category text
 * (categorical; a JSON number becomes its shortest decimal text, written to
 * tmp), missing, or a type error. na_tokens: pandas' NA strings are missing. */
enum cell_class cell_classify(enum stats_kind kind, const struct cell *c, bool na_tokens,
                              double *num, const char **str, size_t *len, char tmp[40]);

/* Add one value of feature f; returns false on ENOMEM. */
bool dataset_add_cell(struct dataset *ds, size_t f, const struct cell *c);

/* Add a value of a numerical feature already read as a number elsewhere
 * (type: the cell's type; cls, v: value_parse's answer for its text). */
bool dataset_add_read(struct dataset *ds, size_t f, enum cell_type type, int cls, double v);

/* Room for n values in each numerical column, so that adding n records
 * does not grow the columns by doublings (each a copy, and the blocks
 * left behind are memory touched for nothing). Only a hint: when memory
 * is short, the columns stay as they are and grow as they fill. */
void dataset_reserve(struct dataset *ds, size_t n);

/* Count, for every feature, the records that had no cell of it at all (its
 * column absent from the input, or met only later) as missing: a window
 * counts a record without a feature's column so, and check must agree. */
void dataset_count_absent(struct dataset *ds);

/* Read a whole CSV/NDJSON text into ds (columns matched to baseline features
 * by name, bad records skipped). Returns the records added, or -1 on ENOMEM. */
long dataset_read(struct dataset *ds, const char *data, size_t len, enum reader_format fmt);

/* Category limit per feature in the current data (bounded memory). */
#define DATASET_MAX_CATEGORIES 65536

#endif
