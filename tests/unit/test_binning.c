/*
 * Sturges binning and the binned metrics on every finite range: ranges whose
 * width overflows a double (1e308 - -1e308, +-DBL_MAX), subnormal ranges, one
 * repeated value, and sample sizes up to SIZE_MAX. Bin counts and edges are
 * checked against the same range scaled by a power of two (exact, so numpy's
 * rule computed with a wider exponent must give the same bins), and the
 * metrics against the same data scaled down so that nothing overflows.
 */
#include "stats/evaluate.h"
#include "stats/metrics.h"
#include "testlib.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const enum stats_test binned[] = {STATS_PSI, STATS_KL_DIV, STATS_JENSEN_SHANNON,
                                         STATS_HELLINGER};

/* Bins and edges of [lo, hi] are finite, ordered, between lo and hi, and
 * equal to those of [lo, hi] * 2^-scale times 2^scale (scale 0: no check). */
static void check_edges(double lo, double hi, size_t n, int scale)
{
    size_t nb = stats_sturges_nbins(lo, hi, n);
    CHECKF(nb >= 1 && nb <= STATS_STURGES_MAX_BINS, "[%g, %g] n=%zu: %zu bins", lo, hi, n, nb);
    if (nb < 1 || nb > STATS_STURGES_MAX_BINS)
        return;
    double *e = malloc((nb + 1) * sizeof(*e)), *s = malloc((nb + 1) * sizeof(*s));
    stats_sturges_edges(lo, hi, nb, e);
    double first = lo == hi ? lo - 0.5 : lo, last = lo == hi ? hi + 0.5 : hi;
    CHECKF(e[0] == first && e[nb] == last, "[%g, %g]: edges %g .. %g", lo, hi, e[0], e[nb]);
    for (size_t i = 0; i <= nb; i++) {
        CHECKF(isfinite(e[i]), "[%g, %g] edge %zu: %g", lo, hi, i, e[i]);
        if (i > 0)
            CHECKF(e[i] >= e[i - 1], "[%g, %g] edge %zu: %g < %g", lo, hi, i, e[i], e[i - 1]);
    }
    if (scale != 0) {
        double slo = ldexp(lo, -scale), shi = ldexp(hi, -scale);
        size_t snb = stats_sturges_nbins(slo, shi, n);
        CHECKF(snb == nb, "[%g, %g] n=%zu: %zu bins, scaled %zu", lo, hi, n, nb, snb);
        if (snb == nb) {
            stats_sturges_edges(slo, shi, nb, s);
            for (size_t i = 0; i <= nb; i++)
                CHECKF(e[i] == ldexp(s[i], scale), "[%g, %g] edge %zu: %.17g, scaled %.17g", lo, hi,
                       i, e[i], ldexp(s[i], scale));
        }
    }
    free(e);
    free(s);
}

static void test_edges(void)
{
    size_t ns[] = {1, 2, 21, 80, 1000, 123457, SIZE_MAX};
    for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        check_edges(-1e308, 1e308, ns[i], 8);
        check_edges(-DBL_MAX, DBL_MAX, ns[i], 8);
        check_edges(-DBL_MAX, 1e300, ns[i], 8);
        check_edges(-1.0, DBL_MAX, ns[i], 8);
        check_edges(0.0, 1e-310, ns[i], 0);
        check_edges(1e-310, 2e-310, ns[i], 0);
        check_edges(0.0, 5e-324, ns[i], 0);
        check_edges(-5e-324, 5e-324, ns[i], 0);
        check_edges(5.0, 5.0, ns[i], 0);
        check_edges(DBL_MAX, DBL_MAX, ns[i], 0);
        check_edges(-DBL_MAX, -DBL_MAX, ns[i], 0);
        check_edges(0.0, 1.0, ns[i], 900);
    }
    /* numpy's rule: ceil(log2 n + 1) up to rounding, whatever the range. */
    CHECK(stats_sturges_nbins(0, 1, 1) == 1);
    CHECK(stats_sturges_nbins(-1e308, 1e308, 1) == 1);
    size_t big = stats_sturges_nbins(-DBL_MAX, DBL_MAX, SIZE_MAX);
    CHECKF(big == 65 || big == 66, "SIZE_MAX values: %zu bins", big);
    /* Not a finite range: one bin, never a size from a NAN. */
    CHECK(stats_sturges_nbins(NAN, 1, 100) == 1);
    CHECK(stats_sturges_nbins(-INFINITY, INFINITY, 100) == 1);
    CHECK(stats_sturges_nbins(0, INFINITY, 100) == 1);
}

/* Evaluate ref against cur (sorted, n values each, times 2^scale) with
 * every metric. */
static void evaluate_scaled(const double *ref, size_t n1, const double *cur, size_t n2, int scale,
                            struct stats_feature_result *r)
{
    double *a = malloc(n1 * sizeof(*a)), *b = malloc(n2 * sizeof(*b));
    for (size_t i = 0; i < n1; i++)
        a[i] = ldexp(ref[i], scale);
    for (size_t i = 0; i < n2; i++)
        b[i] = ldexp(cur[i], scale);
    struct stats_feature_data d = {.kind = STATS_NUMERICAL,
                                   .reference_rows = n1,
                                   .ref = a,
                                   .cur = b,
                                   .n_ref = n1,
                                   .n_cur = n2};
    struct stats_feature_opts o = {.test = STATS_PSI, .threshold = NAN, .all_metrics = true};
    CHECK(stats_feature_evaluate(&d, &o, r) == 0);
    free(a);
    free(b);
}

/* The binned metrics of data whose range overflows a double equal those of
 * the same data scaled by 2^-16 and by 2^-1000 (they are scale-free). */
static void test_overflowing_range(const char *what, double top)
{
    double ref[30], cur[14];
    for (int i = 0; i < 30; i++)
        ref[i] = i;
    cur[0] = -top;
    for (int i = 1; i < 13; i++)
        cur[i] = i - 1;
    cur[13] = top;
    struct stats_feature_result r, s, t;
    evaluate_scaled(ref, 30, cur, 14, 0, &r);
    evaluate_scaled(ref, 30, cur, 14, -16, &s);
    evaluate_scaled(ref, 30, cur, 14, -1000, &t);
    for (size_t i = 0; i < sizeof(binned) / sizeof(binned[0]); i++) {
        const struct stats_metric *m = &r.m[binned[i]];
        const char *name = stats_test_info(binned[i])->name;
        CHECKF(m->present && isfinite(m->statistic) && m->statistic >= 0, "%s %s: %g", what, name,
               m->statistic);
        CHECK_CLOSE(m->statistic, s.m[binned[i]].statistic, 0, 1e-12, name);
        CHECK_CLOSE(m->statistic, t.m[binned[i]].statistic, 0, 1e-12, name);
    }
    /* Every reference value shares one bin; the extremes have bins of their own. */
    CHECK(r.m[STATS_JENSEN_SHANNON].statistic > 0.1 && r.drift);
    CHECK(r.m[STATS_HELLINGER].statistic <= 1.0);
}

/* Subnormal values (multiples of 1e-320, far apart in ulps, so rounding
 * moves no value across an edge): the metrics are those of the same data
 * scaled into the normal range; hellinger's bin widths keep only about
 * 13 bits there (widths of some 8,000 ulps), hence its looser tolerance. */
static void test_subnormal_range(void)
{
    double ref[30], cur[10];
    for (int i = 0; i < 30; i++)
        ref[i] = (i + 1) * 1e-320;
    for (int i = 0; i < 10; i++)
        cur[i] = (i + 20) * 1e-320;
    struct stats_feature_result r, s;
    evaluate_scaled(ref, 30, cur, 10, 0, &r);
    evaluate_scaled(ref, 30, cur, 10, 1000, &s);
    for (size_t i = 0; i < sizeof(binned) / sizeof(binned[0]); i++) {
        double v = r.m[binned[i]].statistic;
        const char *name = stats_test_info(binned[i])->name;
        CHECKF(isfinite(v) && v >= 0, "subnormal %s: %g", name, v);
        double rel = binned[i] == STATS_HELLINGER ? 1e-3 : 1e-9;
        CHECK_CLOSE(v, s.m[binned[i]].statistic, 1e-12, rel, name);
    }
    CHECK(r.m[STATS_HELLINGER].statistic <= 1.0);
    CHECK(r.m[STATS_JENSEN_SHANNON].statistic > 0.1);
}

/* One repeated value, however large: psi, kl_div, jensen_shannon and
 * hellinger 0 (Evidently's bin width comes from the edges v - 0.5 and
 * v + 0.5; where those round to v, numpy's NaN is replaced by the exact
 * value), never NAN. */
static void test_all_equal(void)
{
    double vals[] = {5.0, 0.0, -1e300, 9007199254740993.0, DBL_MAX, -DBL_MAX, 5e-324};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        double a[40], b[25];
        for (int j = 0; j < 40; j++)
            a[j] = vals[i];
        for (int j = 0; j < 25; j++)
            b[j] = vals[i];
        struct stats_feature_result r;
        evaluate_scaled(a, 40, b, 25, 0, &r);
        CHECKF(r.m[STATS_PSI].statistic == 0 && r.m[STATS_KL_DIV].statistic == 0 &&
                   r.m[STATS_JENSEN_SHANNON].statistic == 0,
               "all %g: psi %g kl %g js %g", vals[i], r.m[STATS_PSI].statistic,
               r.m[STATS_KL_DIV].statistic, r.m[STATS_JENSEN_SHANNON].statistic);
        CHECKF(r.m[STATS_HELLINGER].statistic == 0.0, "all %g: hellinger %g", vals[i],
               r.m[STATS_HELLINGER].statistic);
        CHECK(stats_hellinger_numeric(a, 40, b, 25) == 0.0);
    }
}

int main(void)
{
    test_edges();
    test_overflowing_range("1e308", 1e308);
    test_overflowing_range("DBL_MAX", DBL_MAX);
    test_subnormal_range();
    test_all_equal();
    return tl_done();
}
