/*
 * stats/kolmogorov.h against scipy 1.10 (tests/golden/ks.json, written by
 * tests/golden/gen_ks.py): kstwo.sf/cdf in every region of scipy's dispatch,
 * ks_2samp on stored and on regenerated samples, and the exact two-sample
 * probability called directly. D must match exactly, p to 1e-9 absolute.
 */
#include "stats/kolmogorov.h"
#include "testlib.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P_TOL 1e-9

/* Largest |p - scipy| seen per section, reported at the end. */
static double max_err_kstwo, max_err_ks2, max_err_gen, max_err_exact;

static void track(double *worst, double got, double want)
{
    double e = fabs(got - want);

    if (!isnan(e) && e > *worst)
        *worst = e;
}

static const cJSON *field(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (it == NULL) {
        fprintf(stderr, "golden/ks.json: missing key \"%s\"\n", key);
        exit(2);
    }
    return it;
}

static const char *label(const cJSON *obj)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, "name");

    return cJSON_IsString(it) ? it->valuestring : "?";
}

static double *num_array(const cJSON *arr, size_t *n)
{
    size_t len = (size_t)cJSON_GetArraySize(arr), i = 0;
    double *v = malloc((len ? len : 1) * sizeof(double));
    const cJSON *it;

    if (v == NULL)
        exit(2);
    cJSON_ArrayForEach(it, arr) v[i++] = tl_num(it);
    *n = len;
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* The generator's recipe: 64-bit LCG (MMIX constants), r = s >> 33,
 * value = (r % mod + add [+ mod for the last `bump` draws]) / div, sorted. */
static double *lcg_sample(const cJSON *rec, size_t *n_out)
{
    uint64_t s = (uint64_t)tl_num(field(rec, "seed"));
    size_t n = (size_t)tl_num(field(rec, "n"));
    uint64_t mod = (uint64_t)tl_num(field(rec, "mod"));
    double add = tl_num(field(rec, "add")), div = tl_num(field(rec, "div"));
    size_t bump = (size_t)tl_num(field(rec, "bump"));
    double *v = malloc(n * sizeof(double));

    if (v == NULL)
        exit(2);
    for (size_t i = 0; i < n; i++) {
        uint64_t r, extra;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        r = s >> 33;
        extra = (i >= n - bump) ? mod : 0;
        v[i] = ((double)(r % mod) + add + (double)extra) / div;
    }
    qsort(v, n, sizeof(double), cmp_double);
    *n_out = n;
    return v;
}

static void test_kstwo(const cJSON *cases)
{
    const cJSON *c;
    int count = 0;

    cJSON_ArrayForEach(c, cases)
    {
        double n = tl_num(field(c, "n")), d = tl_num(field(c, "d"));
        double sf = stats_kstwo_sf(d, n), cdf = stats_kstwo_cdf(d, n);
        double want_sf = tl_num(field(c, "sf")), want_cdf = tl_num(field(c, "cdf"));
        char what[160];

        snprintf(what, sizeof(what), "kstwo.sf(%.17g, %.17g) [%s]", d, n,
                 field(c, "branch_sf")->valuestring);
        CHECK_CLOSE(sf, want_sf, P_TOL, 0.0, what);
        snprintf(what, sizeof(what), "kstwo.cdf(%.17g, %.17g) [%s]", d, n,
                 field(c, "branch_cdf")->valuestring);
        CHECK_CLOSE(cdf, want_cdf, P_TOL, 0.0, what);
        CHECKF(isnan(sf) || (sf >= 0.0 && sf <= 1.0), "kstwo.sf(%g, %g) = %g outside [0, 1]", d, n,
               sf);
        track(&max_err_kstwo, sf, want_sf);
        track(&max_err_kstwo, cdf, want_cdf);
        count++;
    }
    CHECK(count > 100);
}

static void check_2samp(const char *name, const double *x, size_t n1, const double *y, size_t n2,
                        const cJSON *c, double *worst)
{
    double d = NAN, p = NAN;
    double want_d = tl_num(field(c, "d")), want_p = tl_num(field(c, "p"));
    char what[200];
    int rc = stats_ks_2samp(x, n1, y, n2, &d, &p);

    CHECKF(rc == 0, "%s: stats_ks_2samp returned %d", name, rc);
    CHECKF(d == want_d, "%s: D = %.17g, scipy %.17g", name, d, want_d);
    snprintf(what, sizeof(what), "%s: p (%s)", name, field(c, "path")->valuestring);
    CHECK_CLOSE(p, want_p, P_TOL, 0.0, what);
    track(worst, p, want_p);
}

static void test_ks2(const cJSON *cases)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, cases)
    {
        size_t n1, n2;
        double *x = num_array(field(c, "x"), &n1), *y = num_array(field(c, "y"), &n2);

        check_2samp(label(c), x, n1, y, n2, c, &max_err_ks2);
        /* The test is symmetric: swapping the samples changes nothing. */
        check_2samp(label(c), y, n2, x, n1, c, &max_err_ks2);
        free(x);
        free(y);
    }
}

static void test_ks2_gen(const cJSON *cases)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, cases)
    {
        size_t n1, n2;
        double *x = lcg_sample(field(c, "x"), &n1), *y = lcg_sample(field(c, "y"), &n2);

        check_2samp(label(c), x, n1, y, n2, c, &max_err_gen);
        free(x);
        free(y);
    }
}

static void test_ks2_exact(const cJSON *cases)
{
    const cJSON *c;

    cJSON_ArrayForEach(c, cases)
    {
        double d = tl_num(field(c, "d_in")), p = NAN;
        size_t n1 = (size_t)tl_num(field(c, "n1")), n2 = (size_t)tl_num(field(c, "n2"));
        int ok = cJSON_IsTrue(field(c, "ok"));
        double want_d = tl_num(field(c, "d")), want_p = tl_num(field(c, "p"));
        int rc = stats_ks2_exact(&d, n1, n2, &p);
        char what[120];

        CHECKF((rc == 0) == ok, "ks2_exact(%zu, %zu): rc %d, scipy success %d", n1, n2, rc, ok);
        CHECKF(d == want_d, "ks2_exact(%zu, %zu): d = %.17g, scipy %.17g", n1, n2, d, want_d);
        if (ok) {
            snprintf(what, sizeof(what), "ks2_exact(%zu, %zu) p", n1, n2);
            CHECK_CLOSE(p, want_p, P_TOL, 0.0, what);
            track(&max_err_exact, p, want_p);
        }
    }
}

/* Contract checks not covered by the fixture. */
static void test_edges(void)
{
    double x[3] = {1, 2, 3}, d = 0, p = 0;

    CHECK(stats_ks_2samp(x, 0, x, 3, &d, &p) == -1);
    CHECK(isnan(d) && isnan(p));
    CHECK(stats_ks_2samp(x, 3, x, 0, &d, &p) == -1);
    CHECK(stats_ks_2samp(x, 3, x, 3, &d, &p) == 0);
    CHECK(d == 0.0 && p == 1.0);
    CHECK(isnan(stats_kstwo_sf(0.3, 0.0)));
    CHECK(isnan(stats_kstwo_cdf(NAN, 10)));
    d = NAN;
    CHECK(stats_ks2_exact(&d, 5, 7, &p) == -1);
}

/* The two builds of the Smirnov sum, Dekker's products and FMA's, give the
 * same bits on every region of the dispatch that reaches it (on a CPU
 * without FMA both runs are Dekker's and this only checks determinism). */
static void test_fma_same_bits(void)
{
    static const double ns[] = {7, 30, 140, 141, 999, 5000, 50000};
    int have = stats_kolmogorov_fma(1);
    size_t compared = 0;

    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        double n = ns[i];
        for (int k = 0; k <= 60; k++) {
            /* log-spaced from 0.5/n to 1, and the lattice point k/n */
            double ds[2] = {exp(log(0.5 / n) * (1 - k / 60.0)), fmin(k / n, 1.0)};
            for (int j = 0; j < 2; j++) {
                double fma_sf, fma_cdf, plain_sf, plain_cdf;
                stats_kolmogorov_fma(1);
                fma_sf = stats_kstwo_sf(ds[j], n);
                fma_cdf = stats_kstwo_cdf(ds[j], n);
                stats_kolmogorov_fma(0);
                plain_sf = stats_kstwo_sf(ds[j], n);
                plain_cdf = stats_kstwo_cdf(ds[j], n);
                CHECKF(memcmp(&fma_sf, &plain_sf, sizeof(double)) == 0 &&
                           memcmp(&fma_cdf, &plain_cdf, sizeof(double)) == 0,
                       "kstwo(%a, %g): FMA sf %a cdf %a, Dekker sf %a cdf %a", ds[j], n, fma_sf,
                       fma_cdf, plain_sf, plain_cdf);
                compared++;
            }
        }
    }
    stats_kolmogorov_fma(1);
    printf("FMA %s: %zu points compared with Dekker's products\n",
           have ? "available" : "not available", compared);
}

int main(void)
{
    cJSON *root = tl_load_json("golden/ks.json");

    test_kstwo(field(root, "kstwo"));
    /* the fixture again with Dekker's products, as a CPU without FMA runs */
    stats_kolmogorov_fma(0);
    test_kstwo(field(root, "kstwo"));
    stats_kolmogorov_fma(1);
    test_fma_same_bits();
    test_ks2(field(root, "ks2"));
    test_ks2_gen(field(root, "ks2_gen"));
    test_ks2_exact(field(root, "ks2_exact"));
    test_edges();
    printf("max |p - scipy|: kstwo %.3g, ks2 %.3g, ks2_gen %.3g, ks2_exact %.3g\n", max_err_kstwo,
           max_err_ks2, max_err_gen, max_err_exact);
    cJSON_Delete(root);
    return tl_done();
}
