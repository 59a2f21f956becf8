/*
 * Evaluating a dataset against its baseline: per-feature tests with the
 * configured overrides, data-quality signals, the dataset decision, and the
 * report in JSON (docs/report.md) or as a table for a terminal.
 */
#ifndef DRIFTD_AGENT_DRIFT_H
#define DRIFTD_AGENT_DRIFT_H

#include "agent/dataset.h"
#include "stats/evaluate.h"
#include "lib/sbuf.h"
#include "lib/sha256.h"

#include <stdbool.h>
#include <stdio.h>

enum quality_signal { Q_MISSING, Q_TYPE_ERROR, Q_UNSEEN, Q_OUT_OF_RANGE, Q_COUNT };

struct feature_override {
    char *name;
    int test;                /* STATS_TEST_AUTO: the global method */
    double threshold;        /* NAN: the test's default */
    double quality[Q_COUNT]; /* NAN: the global value */
};

struct drift_opts {
    int method; /* default test of every feature (STATS_TEST_AUTO) */
    struct stats_drift_opts drift;
    char **include, **exclude; /* feature names; include empty = all */
    size_t n_include, n_exclude;
    struct feature_override *overrides;
    size_t n_overrides;
    double quality[Q_COUNT]; /* drift when a rate exceeds it; NAN = off */
    bool all_metrics;
};

/* The defaults (docs/statistics.md, "The auto rule" and "The dataset
 * decision"): auto tests, drift_share 0.5, no correction. */
void drift_opts_init(struct drift_opts *o);
void drift_opts_clear(struct drift_opts *o);

struct report_feature {
    char *name; /* its own copy: the report may outlive its baseline */
    enum stats_kind kind;
    bool evaluated; /* false: no data to test (values null) */
    struct stats_feature_result r;
    uint64_t reference_count, current_count;
    double quality[Q_COUNT];
    bool quality_drift;
};

struct report {
    struct stats_dataset_result dataset;
    size_t n;
    struct report_feature *features;
    /* Where it came from (report_set_origin); what is unset stays out of
     * the JSON. */
    double generated_at;                      /* seconds since the epoch; 0: unset */
    char *baseline_path;                      /* NULL: unset */
    char baseline_sha256[SHA256_HEX_LEN + 1]; /* "": unknown */
    char *input;                              /* NULL: unset */
    char *baseline_labels; /* the baseline's labels as a JSON object; NULL: unset */
};

/* Evaluate ds (its numerical columns get sorted in place). NULL on ENOMEM. */
struct report *drift_evaluate(struct dataset *ds, const struct drift_opts *o);
void report_free(struct report *r);

/* Record where the report came from, for its JSON ("generated_at",
 * "baseline", "input"): when it was made (seconds since the epoch, from
 * the caller's clock; 0 leaves it out), the baseline file and the SHA-256
 * of its bytes (64 hex digits; NULL: unknown), and the name of the input
 * (NULL leaves it out). The strings are copied. -1 on ENOMEM, the report
 * then carrying no origin at all. */
int report_set_origin(struct report *r, double generated_at, const char *baseline_path,
                      const char *baseline_sha256, const char *input);

/* Record the labels of the baseline's provenance, shown as "labels" in
 * the report's "baseline" object (which report_set_origin's baseline path
 * brings); a baseline without labels leaves the member out. -1 on ENOMEM,
 * the labels then left out. */
int report_set_baseline_labels(struct report *r, const struct stats_baseline *b);

/* The report JSON object's members, without the enclosing braces, so the
 * daemon can add its "window". */
void report_json_members(const struct report *r, bool all_metrics, struct sbuf *out);
/* The whole report as a JSON document with a trailing newline. */
void report_json(const struct report *r, bool all_metrics, struct sbuf *out);
/* A table for a person at a terminal. */
void report_table(const struct report *r, bool all_metrics, FILE *out);

extern const char *const quality_names[Q_COUNT];

#endif
