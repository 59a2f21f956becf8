/*
 * Per-feature drift evaluation and the dataset-level decision
 * (docs/statistics.md: "The auto rule", "The tests", "The dataset decision").
 */
#ifndef DRIFTD_STATS_EVALUATE_H
#define DRIFTD_STATS_EVALUATE_H

#include <stdbool.h>
#include <stddef.h>

enum stats_kind { STATS_NUMERICAL, STATS_CATEGORICAL };

/* Every metric driftd knows; the order is the order of "metrics" in a report. */
enum stats_test {
    STATS_KS,
    STATS_WASSERSTEIN,
    STATS_WASSERSTEIN_NORMED,
    STATS_ENERGY_DISTANCE,
    STATS_CRAMER_VON_MISES,
    STATS_ANDERSON,
    STATS_PSI,
    STATS_KL_DIV,
    STATS_JENSEN_SHANNON,
    STATS_HELLINGER,
    STATS_CHISQUARE,
    STATS_Z,
    STATS_TVD,
    STATS_TEST_COUNT,
    STATS_TEST_AUTO = -1
};

/* How a test's value is compared with its threshold to call drift: a
 * p-value drifts below it, a distance above it; whether a value exactly on
 * the threshold drifts differs from test to test in Evidently's source,
 * which driftd follows (docs/statistics.md, "Thresholds as Evidently
 * compares them"). */
enum stats_compare {
    STATS_BELOW,       /* value < threshold */
    STATS_AT_OR_BELOW, /* value <= threshold */
    STATS_ABOVE,       /* value > threshold */
    STATS_AT_OR_ABOVE  /* value >= threshold */
};

struct stats_test_info {
    const char *name;           /* report and config name */
    bool has_p;                 /* the value is a p-value (compare is BELOW or AT_OR_BELOW) */
    enum stats_compare compare; /* when the value drifts against the threshold */
    double threshold;           /* default threshold */
    bool numerical;             /* applies to numerical features */
    bool categorical;           /* applies to categorical features */
};

/* The table entry of a test; NULL for an out-of-range value. */
const struct stats_test_info *stats_test_info(enum stats_test t);

/* Does test t's value (p-value or distance) drift against threshold, by the
 * test's own comparison? A NAN value (not computable) never drifts. */
bool stats_test_drifts(enum stats_test t, double value, double threshold);

/* Test by its report name, or STATS_TEST_AUTO for "auto"; -2 when unknown. */
int stats_test_by_name(const char *name);

const char *stats_kind_name(enum stats_kind k);

/* The data of one feature. Numerical: sorted values without missing ones.
 * Categorical: counts of the k keys of the union of both samples (keys
 * neither sample has may be present with two zero counts); `first` is the
 * index of the smallest key in sorted order (the z-test's 0 category). */
struct stats_feature_data {
    enum stats_kind kind;
    size_t reference_rows; /* rows of the reference sample, for the auto rule */
    const double *ref, *cur;
    size_t n_ref, n_cur;
    bool has_ref_std; /* ref_std is stats_std(ref, n_ref), known beforehand */
    double ref_std;
    const double *ref_counts, *cur_counts;
    size_t k, first;
};

struct stats_feature_opts {
    int test;         /* enum stats_test or STATS_TEST_AUTO */
    double threshold; /* NAN: the test's default */
    bool all_metrics; /* compute every applicable metric */
    bool need_effect; /* compute the effect size used by min_effect */
};

struct stats_metric {
    bool present;     /* computed for this feature */
    double statistic; /* the distance or test statistic (NAN: not computable) */
    double p_value;   /* NAN for distances or when not computable */
};

struct stats_feature_result {
    enum stats_test test;
    double statistic, p_value, threshold;
    bool drift;
    size_t n_unique; /* distinct values (numerical: counted up to 6, all the auto rule asks) */
    double effect;   /* wasserstein_normed (numerical) or tvd (categorical) */
    struct stats_metric m[STATS_TEST_COUNT];
};

/* Evaluate one feature: choose the test (auto rule or the given one),
 * compute it and, with all_metrics, every applicable metric. Returns 0, or
 * -1 with r->drift false when the test does not apply to the feature kind
 * or a sample is empty (values NAN, reported as null). */
int stats_feature_evaluate(const struct stats_feature_data *d, const struct stats_feature_opts *o,
                           struct stats_feature_result *r);

enum stats_correction { STATS_CORRECTION_NONE, STATS_CORRECTION_BONFERRONI, STATS_CORRECTION_FDR };

struct stats_drift_opts {
    double drift_share; /* default 0.5 */
    enum stats_correction correction;
    double alpha;      /* level for bonferroni / fdr, default 0.05 */
    double min_effect; /* NAN: no floor */
};

struct stats_dataset_result {
    bool drift;
    size_t drifted, total;
    double share, drift_share;
};

/* Apply the correction and the effect floor to the p-value tests of r[0..n)
 * (updating each drift flag and threshold), then decide dataset drift.
 * extra_drift[i], when not NULL, forces feature i to drift (data-quality
 * thresholds). */
void stats_dataset_decide(struct stats_feature_result *r, size_t n, const bool *extra_drift,
                          const struct stats_drift_opts *o, struct stats_dataset_result *out);

#endif
