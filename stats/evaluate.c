/*
 * Per-feature evaluation: the auto rule, the selected test, every applicable
 * metric, and the dataset decision with corrections (docs/statistics.md).
 */
#include "stats/evaluate.h"

#include "stats/cvm.h"
#include "stats/kolmogorov.h"
#include "stats/metrics.h"
#include "stats/pooled.h"

#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Default thresholds and comparisons as Evidently's source has them
 * (src/evidently/legacy/calculations/stattests/, the return line of each
 * test): ks and cramer_von_mises drift at p <= threshold, chisquare, z and
 * anderson at p < threshold, energy_distance above the threshold, the other
 * distances at or above it. wasserstein (not normed) and tvd (a distance
 * here, a permutation p-value in Evidently) follow the distances. */
static const struct stats_test_info test_table[STATS_TEST_COUNT] = {
    /* name, has_p, compare, threshold, numerical, categorical */
    [STATS_KS] = {"ks", true, STATS_AT_OR_BELOW, 0.05, true, false},
    [STATS_WASSERSTEIN] = {"wasserstein", false, STATS_AT_OR_ABOVE, 0.1, true, false},
    [STATS_WASSERSTEIN_NORMED] = {"wasserstein_normed", false, STATS_AT_OR_ABOVE, 0.1, true, false},
    [STATS_ENERGY_DISTANCE] = {"energy_distance", false, STATS_ABOVE, 0.1, true, false},
    [STATS_CRAMER_VON_MISES] = {"cramer_von_mises", true, STATS_AT_OR_BELOW, 0.1, true, false},
    [STATS_ANDERSON] = {"anderson", true, STATS_BELOW, 0.1, true, false},
    [STATS_PSI] = {"psi", false, STATS_AT_OR_ABOVE, 0.1, true, true},
    [STATS_KL_DIV] = {"kl_div", false, STATS_AT_OR_ABOVE, 0.1, true, true},
    [STATS_JENSEN_SHANNON] = {"jensen_shannon", false, STATS_AT_OR_ABOVE, 0.1, true, true},
    [STATS_HELLINGER] = {"hellinger", false, STATS_AT_OR_ABOVE, 0.1, true, true},
    [STATS_CHISQUARE] = {"chisquare", true, STATS_BELOW, 0.05, true, true},
    [STATS_Z] = {"z", true, STATS_BELOW, 0.05, true, true},
    [STATS_TVD] = {"tvd", false, STATS_AT_OR_ABOVE, 0.1, false, true},
};

const struct stats_test_info *stats_test_info(enum stats_test t)
{
    if ((int)t < 0 || t >= STATS_TEST_COUNT)
        return NULL;
    return &test_table[t];
}

/* One place decides every test's comparison, so that the report, the
 * alerts and the dataset decision cannot disagree about a value exactly on
 * the threshold. */
bool stats_test_drifts(enum stats_test t, double value, double threshold)
{
    const struct stats_test_info *info = stats_test_info(t);

    if (info == NULL || isnan(value))
        return false;
    switch (info->compare) {
    case STATS_BELOW:
        return value < threshold;
    case STATS_AT_OR_BELOW:
        return value <= threshold;
    case STATS_ABOVE:
        return value > threshold;
    case STATS_AT_OR_ABOVE:
        return value >= threshold;
    }
    return false;
}

int stats_test_by_name(const char *name)
{
    if (strcmp(name, "auto") == 0)
        return STATS_TEST_AUTO;
    for (int t = 0; t < STATS_TEST_COUNT; t++)
        if (strcmp(test_table[t].name, name) == 0)
            return t;
    return -2;
}

const char *stats_kind_name(enum stats_kind k)
{
    return k == STATS_NUMERICAL ? "numerical" : "categorical";
}

/* Distinct values of a sorted array. */
static size_t count_distinct(const double *x, size_t n)
{
    size_t k = n > 0;

    for (size_t i = 1; i < n; i++)
        k += x[i] != x[i - 1];
    return k;
}

/* Counts of each distinct value of the union of two sorted arrays; returns
 * the number of keys (the union's distinct values, ascending), at most
 * limit (0: no limit). */
static size_t union_counts(const double *x, size_t n1, const double *y, size_t n2, double *rc,
                           double *cc, size_t limit)
{
    size_t i = 0, j = 0, k = 0;

    while ((i < n1 || j < n2) && (limit == 0 || k < limit)) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        size_t i0 = i, j0 = j;
        while (i < n1 && x[i] == v)
            i++;
        while (j < n2 && y[j] == v)
            j++;
        if (rc != NULL) {
            rc[k] = (double)(i - i0);
            cc[k] = (double)(j - j0);
        }
        k++;
    }
    return k;
}

/* Binned proportions of a numerical feature, Evidently's get_binned_data:
 * Sturges bins over the pooled data when the reference has more than 20
 * distinct values, else one bin per distinct value of the union. */
static size_t numeric_bins(const struct stats_feature_data *d, double **r, double **c)
{
    size_t k;

    *r = *c = NULL;
    if (count_distinct(d->ref, d->n_ref) > 20) {
        double lo = fmin(d->ref[0], d->cur[0]);
        double hi = fmax(d->ref[d->n_ref - 1], d->cur[d->n_cur - 1]);
        k = stats_sturges_nbins(lo, hi, d->n_ref + d->n_cur);
        double *edges = malloc((k + 1) * sizeof(*edges));
        *r = malloc(k * sizeof(**r));
        *c = malloc(k * sizeof(**c));
        if (edges == NULL || *r == NULL || *c == NULL) {
            free(edges), free(*r), free(*c);
            *r = *c = NULL;
            return 0;
        }
        stats_sturges_edges(lo, hi, k, edges);
        stats_histogram(d->ref, d->n_ref, edges, k, *r);
        stats_histogram(d->cur, d->n_cur, edges, k, *c);
        free(edges);
    } else {
        k = union_counts(d->ref, d->n_ref, d->cur, d->n_cur, NULL, NULL, 0);
        *r = malloc(k * sizeof(**r));
        *c = malloc(k * sizeof(**c));
        if (*r == NULL || *c == NULL) {
            free(*r), free(*c);
            *r = *c = NULL;
            return 0;
        }
        union_counts(d->ref, d->n_ref, d->cur, d->n_cur, *r, *c, 0);
    }
    for (size_t i = 0; i < k; i++) {
        (*r)[i] /= (double)d->n_ref;
        (*c)[i] /= (double)d->n_cur;
    }
    return k;
}

static void set_metric(struct stats_feature_result *r, enum stats_test t, double stat, double p)
{
    r->m[t].present = true;
    r->m[t].statistic = stat;
    r->m[t].p_value = p;
}

/* The binned metrics over proportions r and c (k bins): psi and kl on
 * zero-filled copies, jensen_shannon and hellinger on the raw ones. */
static void binned_metrics(struct stats_feature_result *res, const bool *want, double *r, double *c,
                           size_t k, bool categorical)
{
    if (want[STATS_JENSEN_SHANNON])
        set_metric(res, STATS_JENSEN_SHANNON, stats_jensen_shannon(r, c, k), NAN);
    if (want[STATS_TVD])
        set_metric(res, STATS_TVD, stats_tvd(r, c, k), NAN);
    if (categorical && want[STATS_HELLINGER])
        set_metric(res, STATS_HELLINGER, stats_hellinger_props(r, c, k), NAN);
    if (want[STATS_PSI] || want[STATS_KL_DIV]) {
        stats_fill_zeros(r, k);
        stats_fill_zeros(c, k);
        if (want[STATS_PSI])
            set_metric(res, STATS_PSI, stats_psi(r, c, k), NAN);
        if (want[STATS_KL_DIV])
            set_metric(res, STATS_KL_DIV, stats_kl_div(r, c, k), NAN);
    }
}

/* Evidently's default test for a feature (docs/statistics.md, "The auto rule"). */
static enum stats_test auto_test(enum stats_kind kind, size_t reference_rows, size_t n_unique)
{
    if (reference_rows <= 1000) {
        if (kind == STATS_NUMERICAL && n_unique > 5)
            return STATS_KS;
        return n_unique > 2 ? STATS_CHISQUARE : STATS_Z;
    }
    if (kind == STATS_NUMERICAL && n_unique > 5)
        return STATS_WASSERSTEIN_NORMED;
    return STATS_JENSEN_SHANNON;
}

static void numeric_metrics(const struct stats_feature_data *d, const bool *want,
                            struct stats_feature_result *r)
{
    const double *x = d->ref, *y = d->cur;
    size_t n1 = d->n_ref, n2 = d->n_cur;
    double s, p;
    bool cdf =
        want[STATS_WASSERSTEIN] || want[STATS_WASSERSTEIN_NORMED] || want[STATS_ENERGY_DISTANCE];
    /* Two tests or more that walk the pooled values share one walk. */
    int walks = want[STATS_KS] + cdf + want[STATS_CRAMER_VON_MISES] + want[STATS_ANDERSON] +
                want[STATS_HELLINGER];
    struct stats_pooled pl;
    bool pooled = walks >= 2 && stats_pooled_init(&pl, x, n1, y, n2) == 0;
    if (pooled && want[STATS_KS] && cdf)
        stats_pooled_diffs(&pl);

    if (want[STATS_KS]) {
        if (pooled)
            stats_ks_2samp_pooled(&pl, &s, &p);
        else
            stats_ks_2samp(x, n1, y, n2, &s, &p);
        set_metric(r, STATS_KS, s, p);
    }
    if (cdf) {
        double w, e;
        if (pooled)
            stats_cdf_distances_pooled(&pl, &w, &e);
        else
            stats_cdf_distances(x, n1, y, n2, &w, &e);
        if (want[STATS_WASSERSTEIN])
            set_metric(r, STATS_WASSERSTEIN, w, NAN);
        if (want[STATS_WASSERSTEIN_NORMED])
            set_metric(r, STATS_WASSERSTEIN_NORMED,
                       w / fmax(d->has_ref_std ? d->ref_std : stats_std(x, n1), 0.001), NAN);
        if (want[STATS_ENERGY_DISTANCE])
            set_metric(r, STATS_ENERGY_DISTANCE, e, NAN);
    }
    if (want[STATS_CRAMER_VON_MISES]) {
        if (pooled)
            stats_cvm_2samp_pooled(&pl, &s, &p);
        else
            stats_cvm_2samp(x, n1, y, n2, &s, &p);
        set_metric(r, STATS_CRAMER_VON_MISES, s, p);
    }
    if (want[STATS_ANDERSON]) {
        if (pooled)
            stats_anderson_2samp_pooled(&pl, &s, &p);
        else
            stats_anderson_2samp(x, n1, y, n2, &s, &p);
        set_metric(r, STATS_ANDERSON, s, p);
    }
    if (want[STATS_HELLINGER])
        set_metric(r, STATS_HELLINGER,
                   pooled ? stats_hellinger_numeric_pooled(&pl, x, y)
                          : stats_hellinger_numeric(x, n1, y, n2),
                   NAN);
    if (pooled)
        stats_pooled_free(&pl);
    if (want[STATS_PSI] || want[STATS_KL_DIV] || want[STATS_JENSEN_SHANNON] || want[STATS_TVD]) {
        double *rp, *cp;
        size_t k = numeric_bins(d, &rp, &cp);
        bool binned[STATS_TEST_COUNT];
        memcpy(binned, want, sizeof(binned));
        binned[STATS_HELLINGER] = false;
        if (k > 0)
            binned_metrics(r, binned, rp, cp, k, false);
        free(rp), free(cp);
    }
    if (want[STATS_CHISQUARE] || want[STATS_Z]) {
        size_t k = union_counts(x, n1, y, n2, NULL, NULL, 0);
        double *rc = malloc(k * sizeof(*rc)), *cc = malloc(k * sizeof(*cc));
        if (rc != NULL && cc != NULL) {
            union_counts(x, n1, y, n2, rc, cc, 0);
            if (want[STATS_CHISQUARE]) {
                stats_chisquare(rc, cc, k, &s, &p);
                set_metric(r, STATS_CHISQUARE, s, p);
            }
            if (want[STATS_Z]) {
                stats_ztest(rc, cc, k, 0, &s, &p);
                set_metric(r, STATS_Z, s, p);
            }
        }
        free(rc), free(cc);
    }
}

static void categorical_metrics(const struct stats_feature_data *d, const bool *want,
                                struct stats_feature_result *r)
{
    double s, p;
    double n1 = 0, n2 = 0;

    for (size_t i = 0; i < d->k; i++) {
        n1 += d->ref_counts[i];
        n2 += d->cur_counts[i];
    }
    if (want[STATS_CHISQUARE]) {
        stats_chisquare(d->ref_counts, d->cur_counts, d->k, &s, &p);
        set_metric(r, STATS_CHISQUARE, s, p);
    }
    if (want[STATS_Z]) {
        stats_ztest(d->ref_counts, d->cur_counts, d->k, d->first, &s, &p);
        set_metric(r, STATS_Z, s, p);
    }
    double *rp = malloc((d->k ? d->k : 1) * sizeof(*rp));
    double *cp = malloc((d->k ? d->k : 1) * sizeof(*cp));
    if (rp != NULL && cp != NULL) {
        /* Keys neither sample has are dropped: Evidently's keys are the union. */
        size_t k = 0;
        for (size_t i = 0; i < d->k; i++) {
            if (d->ref_counts[i] == 0 && d->cur_counts[i] == 0)
                continue;
            rp[k] = d->ref_counts[i] / n1;
            cp[k] = d->cur_counts[i] / n2;
            k++;
        }
        binned_metrics(r, want, rp, cp, k, true);
    }
    free(rp), free(cp);
}

int stats_feature_evaluate(const struct stats_feature_data *d, const struct stats_feature_opts *o,
                           struct stats_feature_result *r)
{
    bool want[STATS_TEST_COUNT] = {false};
    bool numerical = d->kind == STATS_NUMERICAL;

    memset(r, 0, sizeof(*r));
    r->statistic = r->p_value = r->threshold = r->effect = NAN;
    for (int t = 0; t < STATS_TEST_COUNT; t++)
        r->m[t].statistic = r->m[t].p_value = NAN;

    if (numerical) {
        /* the auto rule only asks whether there are more than 5 */
        r->n_unique = union_counts(d->ref, d->n_ref, d->cur, d->n_cur, NULL, NULL, 6);
    } else {
        for (size_t i = 0; i < d->k; i++)
            r->n_unique += d->ref_counts[i] > 0 || d->cur_counts[i] > 0;
    }
    r->test = o->test == STATS_TEST_AUTO ? auto_test(d->kind, d->reference_rows, r->n_unique)
                                         : (enum stats_test)o->test;
    const struct stats_test_info *info = stats_test_info(r->test);
    if (info == NULL)
        return -1;
    r->threshold = isnan(o->threshold) ? info->threshold : o->threshold;
    if (numerical ? !info->numerical : !info->categorical)
        return -1;
    /* Summed as doubles: a count is a double, and one of 2^64 or a NAN would
     * not survive a conversion to size_t. */
    double n1 = numerical ? (double)d->n_ref : 0, n2 = numerical ? (double)d->n_cur : 0;
    if (!numerical) {
        for (size_t i = 0; i < d->k; i++) {
            n1 += d->ref_counts[i];
            n2 += d->cur_counts[i];
        }
    }
    if (!(n1 > 0) || !(n2 > 0))
        return -1;

    want[r->test] = true;
    if (o->all_metrics) {
        for (int t = 0; t < STATS_TEST_COUNT; t++) {
            const struct stats_test_info *ti = &test_table[t];
            if (numerical ? ti->numerical : ti->categorical)
                want[t] = true;
        }
        /* chisquare / z / tvd on a numerical feature only when the auto rule
         * treats it as categorical; z only for at most two values. */
        if (numerical) {
            want[STATS_TVD] = r->test == STATS_TVD;
            enum stats_test a = auto_test(d->kind, d->reference_rows, r->n_unique);
            want[STATS_CHISQUARE] = r->test == STATS_CHISQUARE || a == STATS_CHISQUARE;
            want[STATS_Z] = r->test == STATS_Z || a == STATS_Z;
        } else {
            want[STATS_Z] = r->test == STATS_Z || r->n_unique <= 2;
        }
    }
    if (o->need_effect)
        want[numerical ? STATS_WASSERSTEIN_NORMED : STATS_TVD] = true;

    if (numerical)
        numeric_metrics(d, want, r);
    else
        categorical_metrics(d, want, r);

    r->effect = r->m[numerical ? STATS_WASSERSTEIN_NORMED : STATS_TVD].statistic;
    r->statistic = r->m[r->test].statistic;
    r->p_value = r->m[r->test].p_value;
    r->drift = stats_test_drifts(r->test, info->has_p ? r->p_value : r->statistic, r->threshold);
    return 0;
}

void stats_dataset_decide(struct stats_feature_result *r, size_t n, const bool *extra_drift,
                          const struct stats_drift_opts *o, struct stats_dataset_result *out)
{
    size_t m = 0;

    for (size_t i = 0; i < n; i++)
        m += stats_test_info(r[i].test) != NULL && stats_test_info(r[i].test)->has_p &&
             !isnan(r[i].p_value);

    if (o->correction == STATS_CORRECTION_BONFERRONI && m > 0) {
        double level = o->alpha / (double)m;
        for (size_t i = 0; i < n; i++) {
            if (!stats_test_info(r[i].test)->has_p || isnan(r[i].p_value))
                continue;
            r[i].threshold = level;
            /* Strictly below, as Alibi Detect's Bonferroni (p < alpha / m),
             * whatever the test's own comparison with its threshold. */
            r[i].drift = r[i].p_value < level;
        }
    } else if (o->correction == STATS_CORRECTION_FDR && m > 0) {
        double *p = malloc(n * sizeof(*p));
        int *flag = malloc(n * sizeof(*flag));
        size_t *order = malloc(n * sizeof(*order));
        if (p != NULL && flag != NULL && order != NULL) {
            for (size_t i = 0; i < n; i++)
                p[i] = stats_test_info(r[i].test)->has_p ? r[i].p_value : NAN;
            stats_fdr(p, n, o->alpha, flag, order);
            for (size_t i = 0; i < n; i++) {
                if (isnan(p[i]))
                    continue;
                r[i].threshold = o->alpha;
                r[i].drift = flag[i] != 0;
            }
        }
        free(p), free(flag), free(order);
    }
    /* A significant p-value on a tiny effect is not drift. */
    if (!isnan(o->min_effect)) {
        for (size_t i = 0; i < n; i++)
            if (r[i].drift && stats_test_info(r[i].test)->has_p && !(r[i].effect >= o->min_effect))
                r[i].drift = false;
    }
    out->drifted = 0;
    out->total = n;
    for (size_t i = 0; i < n; i++) {
        if (extra_drift != NULL && extra_drift[i])
            r[i].drift = true;
        out->drifted += r[i].drift;
    }
    out->drift_share = o->drift_share;
    out->share = n > 0 ? (double)out->drifted / (double)n : 0.0;
    out->drift = n > 0 && out->share >= o->drift_share;
}
