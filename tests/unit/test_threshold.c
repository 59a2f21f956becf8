/*
 * The drift decision of each test against Evidently's source
 * (tests/golden/gen_threshold.py writes tests/golden/threshold.json): the
 * default threshold of every test, whether a value exactly on the threshold
 * drifts, and the cases where scipy's exact p-value or Evidently's hellinger
 * lands exactly on it.
 */
#include "stats/evaluate.h"

#include "testlib.h"

#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Copy a JSON array of numbers, sorted as stats_feature_evaluate wants. */
static double *sorted_array(const cJSON *arr, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(arr);
    double *v = malloc((*n ? *n : 1) * sizeof(*v));
    if (v == NULL)
        abort();
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) v[i++] = tl_num(it);
    gsl_sort(v, 1, *n);
    return v;
}

/* A golden case: driftd's value equals scipy's (bit for bit when it is on
 * the threshold, since that is the point of the case) and the verdict with
 * the default threshold is Evidently's. */
static void run_case(const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    int t = stats_test_by_name(cJSON_GetObjectItem(c, "test")->valuestring);
    CHECKF(t >= 0, "%s: unknown test", name);
    if (t < 0)
        return;
    struct stats_feature_data d = {.kind = STATS_NUMERICAL, .reference_rows = 100};
    double *x = sorted_array(cJSON_GetObjectItem(c, "ref"), &d.n_ref);
    double *y = sorted_array(cJSON_GetObjectItem(c, "cur"), &d.n_cur);
    d.ref = x;
    d.cur = y;
    struct stats_feature_opts o = {.test = t, .threshold = NAN};
    struct stats_feature_result r;
    CHECKF(stats_feature_evaluate(&d, &o, &r) == 0, "%s: evaluate failed", name);

    double thr = tl_num(cJSON_GetObjectItem(c, "threshold"));
    double want_s = tl_num(cJSON_GetObjectItem(c, "statistic"));
    double want_p = tl_num(cJSON_GetObjectItem(c, "p_value"));
    bool on = cJSON_IsTrue(cJSON_GetObjectItem(c, "on_threshold"));
    bool drift = cJSON_IsTrue(cJSON_GetObjectItem(c, "drift"));
    char what[160];
    snprintf(what, sizeof(what), "%s statistic", name);
    CHECK_CLOSE(r.statistic, want_s, 1e-12, 1e-9, what);
    if (stats_test_info(r.test)->has_p) {
        snprintf(what, sizeof(what), "%s p_value", name);
        if (on)
            CHECKF(r.p_value == want_p, "%s: got %.17g, exactly %.17g wanted", what, r.p_value,
                   want_p);
        else
            CHECK_CLOSE(r.p_value, want_p, 1e-9, 0, what);
    }
    CHECKF(r.threshold == thr, "%s: threshold %g, Evidently %g", name, r.threshold, thr);
    CHECKF(r.drift == drift, "%s: drift %d, Evidently %d (p %.17g, statistic %.17g)", name, r.drift,
           drift, r.p_value, r.statistic);
    free(x);
    free(y);
}

/* Data on which every test gives a finite value above 0, so a threshold
 * can be set exactly on it: 30 and 25 values with ties, the current ones
 * shifted but all among the reference's (chisquare stays finite). */
static void sample(double *x, double *y)
{
    for (int i = 0; i < 30; i++)
        x[i] = (double)(i % 12);
    for (int i = 0; i < 25; i++)
        y[i] = (double)(i % 10) + 1.0;
    gsl_sort(x, 1, 30);
    gsl_sort(y, 1, 25);
}

/* Evaluate test t with the given threshold on sample(); returns the drift
 * flag and the compared value (p-value or distance) in *value. */
static bool verdict(enum stats_test t, double threshold, double *value)
{
    double x[30], y[25];
    sample(x, y);
    struct stats_feature_data d = {.kind = STATS_NUMERICAL,
                                   .reference_rows = 30,
                                   .ref = x,
                                   .cur = y,
                                   .n_ref = 30,
                                   .n_cur = 25};
    struct stats_feature_opts o = {.test = t, .threshold = threshold};
    struct stats_feature_result r;
    CHECKF(stats_feature_evaluate(&d, &o, &r) == 0, "%s: evaluate failed",
           stats_test_info(t)->name);
    *value = stats_test_info(t)->has_p ? r.p_value : r.statistic;
    return r.drift;
}

/* Categorical counts for tvd, the one test that takes no numerical feature. */
static bool verdict_categorical(enum stats_test t, double threshold, double *value)
{
    double rc[] = {12, 9, 9}, cc[] = {5, 11, 9};
    struct stats_feature_data d = {.kind = STATS_CATEGORICAL,
                                   .reference_rows = 30,
                                   .ref_counts = rc,
                                   .cur_counts = cc,
                                   .k = 3};
    struct stats_feature_opts o = {.test = t, .threshold = threshold};
    struct stats_feature_result r;
    CHECKF(stats_feature_evaluate(&d, &o, &r) == 0, "%s: evaluate failed",
           stats_test_info(t)->name);
    *value = stats_test_info(t)->has_p ? r.p_value : r.statistic;
    return r.drift;
}

/* Each test's default threshold and comparison as Evidently's source has
 * them: with the threshold set exactly on the test's own value, the test
 * drifts only when its comparison includes equality; one ulp to either
 * side decides it by direction alone. Tests that Evidently does not have
 * in this form (wasserstein, tvd) compare as the distances, >=. */
static void test_comparisons(const cJSON *table)
{
    int seen = 0;
    for (int t = 0; t < STATS_TEST_COUNT; t++) {
        const struct stats_test_info *info = stats_test_info((enum stats_test)t);
        const cJSON *e = cJSON_GetObjectItem(table, info->name);
        const char *cmp = e != NULL ? cJSON_GetObjectItem(e, "comparison")->valuestring : ">=";
        if (e != NULL) {
            seen++;
            double thr = tl_num(cJSON_GetObjectItem(e, "threshold"));
            CHECKF(info->threshold == thr, "%s: default threshold %g, Evidently %g", info->name,
                   info->threshold, thr);
        }
        bool below = cmp[0] == '<', equal = cmp[1] == '=';
        CHECKF(info->has_p == below, "%s: has_p %d but Evidently compares with %s", info->name,
               info->has_p, cmp);
        bool (*run)(enum stats_test, double, double *) =
            info->numerical ? verdict : verdict_categorical;
        double v, ignored;
        run((enum stats_test)t, NAN, &v);
        CHECKF(isfinite(v) && v > 0, "%s: value %g, not usable", info->name, v);
        if (!isfinite(v))
            continue;
        bool at = run((enum stats_test)t, v, &ignored);
        bool up = run((enum stats_test)t, nextafter(v, INFINITY), &ignored);
        bool down = run((enum stats_test)t, nextafter(v, -INFINITY), &ignored);
        CHECKF(at == equal, "%s: value %.17g exactly on the threshold: drift %d, Evidently %s",
               info->name, v, at, cmp);
        CHECKF(up == below && down == !below,
               "%s: threshold one ulp above: drift %d, below: drift %d (%s)", info->name, up, down,
               cmp);
    }
    CHECKF(seen == cJSON_GetArraySize(table), "%d of %d Evidently tests known to driftd", seen,
           cJSON_GetArraySize(table));
}

int main(void)
{
    cJSON *root = tl_load_json("golden/threshold.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
    {
        run_case(c);
        n++;
    }
    CHECK(n >= 6);
    test_comparisons(cJSON_GetObjectItem(root, "evidently"));
    cJSON_Delete(root);
    return tl_done();
}
