/*
 * Binned metrics, distances, chi-square, z-test and the corrections against
 * golden values from tests/golden/gen_metrics.py (Evidently's formulas on
 * scipy 1.10 / numpy). Tolerance: docs/statistics.md, 1e-9 relative or 1e-12
 * absolute near 0; p-values 1e-9 absolute.
 */
#include "stats/evaluate.h"
#include "stats/metrics.h"
#include "testlib.h"

#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double *array_of(const cJSON *a, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = malloc((*n ? *n : 1) * sizeof(double));
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, a) v[i++] = tl_num(e);
    return v;
}

static void check_value(const char *cname, const char *metric, const struct stats_metric *m,
                        const cJSON *want)
{
    char what[128];
    snprintf(what, sizeof(what), "%s.%s", cname, metric);
    CHECKF(m->present, "%s: not computed", what);
    if (cJSON_IsObject(want)) {
        const cJSON *s = cJSON_GetObjectItem(want, "statistic"),
                    *p = cJSON_GetObjectItem(want, "p_value");
        CHECK_CLOSE(m->statistic, tl_num(s), 1e-12, 1e-9, what);
        CHECK_CLOSE(m->p_value, tl_num(p), 1e-9, 0, what);
    } else {
        CHECK_CLOSE(m->statistic, tl_num(want), 1e-12, 1e-9, what);
    }
}

static void run_case(const cJSON *c)
{
    const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
    bool numerical = strcmp(cJSON_GetObjectItem(c, "kind")->valuestring, "numerical") == 0;
    struct stats_feature_data d = {.kind = numerical ? STATS_NUMERICAL : STATS_CATEGORICAL,
                                   .reference_rows = 100};
    struct stats_feature_opts o = {.test = STATS_TEST_AUTO, .threshold = NAN, .all_metrics = true};
    struct stats_feature_result r;
    double *a = NULL, *b = NULL;

    if (numerical) {
        a = array_of(cJSON_GetObjectItem(c, "ref"), &d.n_ref);
        b = array_of(cJSON_GetObjectItem(c, "cur"), &d.n_cur);
        gsl_sort(a, 1, d.n_ref);
        gsl_sort(b, 1, d.n_cur);
        d.ref = a;
        d.cur = b;
    } else {
        a = array_of(cJSON_GetObjectItem(c, "ref_counts"), &d.k);
        b = array_of(cJSON_GetObjectItem(c, "cur_counts"), &d.k);
        d.ref_counts = a;
        d.cur_counts = b;
        d.first = 0; /* keys are stored sorted */
    }
    CHECKF(stats_feature_evaluate(&d, &o, &r) == 0, "%s: evaluate failed", name);
    if (numerical) {
        /* The bin count the binned metrics used equals numpy's. */
        size_t nb = (size_t)cJSON_GetObjectItem(c, "nbins")->valuedouble;
        size_t distinct = 1;
        for (size_t i = 1; i < d.n_ref; i++)
            distinct += a[i] != a[i - 1];
        if (distinct > 20) {
            size_t got = stats_sturges_nbins(fmin(a[0], b[0]), fmax(a[d.n_ref - 1], b[d.n_cur - 1]),
                                             d.n_ref + d.n_cur);
            CHECKF(got == nb, "%s: %zu bins, numpy %zu", name, got, nb);
        }
    }
    const cJSON *exp = cJSON_GetObjectItem(c, "expected"), *e;
    cJSON_ArrayForEach(e, exp)
    {
        int t = stats_test_by_name(e->string);
        CHECKF(t >= 0, "%s: unknown metric %s", name, e->string);
        if (t >= 0)
            check_value(name, e->string, &r.m[t], e);
    }
    free(a);
    free(b);
}

static void run_corrections(const cJSON *c)
{
    const cJSON *p = cJSON_GetObjectItem(c, "p");
    double alpha = cJSON_GetObjectItem(c, "alpha")->valuedouble;
    size_t n = (size_t)cJSON_GetArraySize(p);
    struct stats_feature_result *r = calloc(n, sizeof(*r));
    const char *modes[] = {"fdr", "bonferroni"};
    enum stats_correction corr[] = {STATS_CORRECTION_FDR, STATS_CORRECTION_BONFERRONI};

    for (int m = 0; m < 2; m++) {
        for (size_t i = 0; i < n; i++) {
            memset(&r[i], 0, sizeof(r[i]));
            r[i].test = STATS_KS;
            r[i].p_value = cJSON_GetArrayItem(p, (int)i)->valuedouble;
            r[i].threshold = 0.05;
            r[i].drift = r[i].p_value < 0.05;
            r[i].effect = NAN;
        }
        struct stats_drift_opts o = {0.5, corr[m], alpha, NAN};
        struct stats_dataset_result ds;
        stats_dataset_decide(r, n, NULL, &o, &ds);
        const cJSON *want = cJSON_GetObjectItem(c, modes[m]);
        size_t drifted = 0;
        for (size_t i = 0; i < n; i++) {
            bool w = cJSON_IsTrue(cJSON_GetArrayItem(want, (int)i));
            CHECKF(r[i].drift == w, "%s alpha %g: feature %zu drift %d want %d", modes[m], alpha, i,
                   r[i].drift, w);
            drifted += w;
        }
        CHECK(ds.drifted == drifted);
        CHECK(ds.total == n);
    }
    free(r);
}

/* min_effect: a significant p-value on a tiny effect is not drift. */
static void test_min_effect(void)
{
    struct stats_feature_result r[2] = {0};
    r[0].test = STATS_KS, r[0].p_value = 1e-6, r[0].drift = true, r[0].effect = 0.01;
    r[1].test = STATS_KS, r[1].p_value = 1e-6, r[1].drift = true, r[1].effect = 0.2;
    struct stats_drift_opts o = {0.5, STATS_CORRECTION_NONE, 0.05, 0.05};
    struct stats_dataset_result ds;
    stats_dataset_decide(r, 2, NULL, &o, &ds);
    CHECK(!r[0].drift);
    CHECK(r[1].drift);
    CHECK(ds.drifted == 1 && ds.drift && ds.share == 0.5);
}

/* The auto rule (docs/statistics.md) picks the right test at each boundary. */
static void test_auto_rule(void)
{
    double six[] = {1, 2, 3, 4, 5, 6}, five[] = {1, 2, 3, 4, 5, 5}, two[] = {1, 1, 2, 2, 2, 1};
    struct {
        const double *v;
        size_t rows;
        enum stats_test want;
    } cases[] = {{six, 1000, STATS_KS},
                 {five, 1000, STATS_CHISQUARE},
                 {two, 1000, STATS_Z},
                 {six, 1001, STATS_WASSERSTEIN_NORMED},
                 {five, 1001, STATS_JENSEN_SHANNON},
                 {two, 1001, STATS_JENSEN_SHANNON}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        double s[6];
        memcpy(s, cases[i].v, sizeof(s));
        gsl_sort(s, 1, 6);
        struct stats_feature_data d = {.kind = STATS_NUMERICAL,
                                       .reference_rows = cases[i].rows,
                                       .ref = s,
                                       .cur = s,
                                       .n_ref = 6,
                                       .n_cur = 6};
        struct stats_feature_opts o = {.test = STATS_TEST_AUTO, .threshold = NAN};
        struct stats_feature_result r;
        CHECK(stats_feature_evaluate(&d, &o, &r) == 0);
        CHECKF(r.test == cases[i].want, "auto case %zu: got %s", i, stats_test_info(r.test)->name);
    }
    double rc[] = {5, 5, 5}, cc[] = {3, 3, 4};
    struct stats_feature_data d = {.kind = STATS_CATEGORICAL,
                                   .reference_rows = 15,
                                   .ref_counts = rc,
                                   .cur_counts = cc,
                                   .k = 3};
    struct stats_feature_opts o = {.test = STATS_TEST_AUTO, .threshold = NAN};
    struct stats_feature_result r;
    CHECK(stats_feature_evaluate(&d, &o, &r) == 0 && r.test == STATS_CHISQUARE);
    d.k = 2;
    CHECK(stats_feature_evaluate(&d, &o, &r) == 0 && r.test == STATS_Z);
    /* A test that does not suit the kind is refused, not made up. */
    o.test = STATS_KS;
    CHECK(stats_feature_evaluate(&d, &o, &r) == -1 && !r.drift);
}

/* chi-square with K = 1: no test possible, p null and no drift. */
static void test_chisquare_k1(void)
{
    double rc[] = {10}, cc[] = {7}, s, p;
    CHECK(stats_chisquare(rc, cc, 1, &s, &p) == -1 && isnan(p));
    struct stats_feature_data d = {.kind = STATS_CATEGORICAL,
                                   .reference_rows = 10,
                                   .ref_counts = rc,
                                   .cur_counts = cc,
                                   .k = 1};
    struct stats_feature_opts o = {.test = STATS_CHISQUARE, .threshold = NAN};
    struct stats_feature_result r;
    CHECK(stats_feature_evaluate(&d, &o, &r) == 0);
    CHECK(isnan(r.p_value) && !r.drift);
}

int main(void)
{
    cJSON *root = tl_load_json("golden/metrics.json");
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "cases"))
    {
        run_case(c);
        n++;
    }
    CHECK(n >= 18);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(root, "corrections")) run_corrections(c);
    cJSON_Delete(root);
    test_min_effect();
    test_auto_rule();
    test_chisquare_k1();
    return tl_done();
}
