/*
 * The tests that read the pooled table (stats/pooled.h) against the same
 * tests walking the two samples themselves: bit for bit, on random samples
 * with many ties, with -0 and +0, one sample inside the other, constant
 * samples and sizes from 1 up.
 */
#include "stats/cvm.h"
#include "stats/kolmogorov.h"
#include "stats/metrics.h"
#include "stats/pooled.h"
#include "stats/sort.h"
#include "testlib.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixed pseudo-random sequence (splitmix64). */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* n sorted values of one of several shapes: few distinct values (ties),
 * zeros of both signs, a wide spread, one value throughout, values drawn
 * from 0.8 n (some four in ten repeat one before them: still walked by
 * steps), or a spread with one value in ten a zero of either sign. */
static double *sample(size_t n, int shape, double shift, uint64_t *s)
{
    double *v = malloc((n ? n : 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_u64(s);
        switch (shape) {
        case 0: /* ties */
            v[i] = (double)(r % 7) + shift;
            break;
        case 1: /* signed zeros among a few values */
            v[i] = r % 3 == 0 ? 0.0 : r % 3 == 1 ? -0.0 : (double)(r % 5) - 2.0;
            break;
        case 2: /* spread, distinct */
            v[i] = ((double)(r >> 11) / 9007199254740992.0 - 0.5) * 1e3 + shift;
            break;
        case 3: /* constant */
            v[i] = 1.5;
            break;
        case 4: /* partly tied */
            v[i] = (double)(r % (n * 4 / 5 + 1)) * 0.001 + shift;
            break;
        default: /* spread around signed zeros */
            v[i] = r % 10 == 0   ? (r % 20 == 0 ? -0.0 : 0.0)
                   : r % 10 == 1 ? -((double)(r >> 11) / 9007199254740992.0)
                                 : (double)(r >> 11) / 9007199254740992.0 + shift;
            break;
        }
    }
    stats_sort(v, n);
    return v;
}

/* Bit equality of two doubles (NAN equals NAN). */
static int same(double a, double b)
{
    return memcmp(&a, &b, sizeof(a)) == 0 || (isnan(a) && isnan(b));
}

static void compare(const double *x, size_t n1, const double *y, size_t n2, const char *what)
{
    struct stats_pooled pl;
    if (n1 == 0 || n2 == 0) {
        CHECKF(stats_pooled_init(&pl, x, n1, y, n2) == -1, "%s: empty sample pooled", what);
        return;
    }
    CHECKF(stats_pooled_init(&pl, x, n1, y, n2) == 0, "%s: pooled", what);
    double a, b, c, d;
    int r1 = stats_ks_2samp(x, n1, y, n2, &a, &b), r2 = stats_ks_2samp_pooled(&pl, &c, &d);
    CHECKF(r1 == r2 && same(a, c) && same(b, d), "%s: ks %.17g %.17g / %.17g %.17g", what, a, b, c,
           d);
    stats_cdf_distances(x, n1, y, n2, &a, &b);
    stats_cdf_distances_pooled(&pl, &c, &d);
    CHECKF(same(a, c) && same(b, d), "%s: cdf %.17g %.17g / %.17g %.17g", what, a, b, c, d);
    r1 = stats_cvm_2samp(x, n1, y, n2, &a, &b);
    r2 = stats_cvm_2samp_pooled(&pl, &c, &d);
    CHECKF(r1 == r2 && same(a, c) && same(b, d), "%s: cvm %.17g %.17g / %.17g %.17g", what, a, b, c,
           d);
    r1 = stats_anderson_2samp(x, n1, y, n2, &a, &b);
    r2 = stats_anderson_2samp_pooled(&pl, &c, &d);
    CHECKF(r1 == r2 && same(a, c) && same(b, d), "%s: anderson %.17g %.17g / %.17g %.17g", what, a,
           b, c, d);
    /* KS and the CDF distances again, reading the shared quotients */
    stats_pooled_diffs(&pl);
    CHECKF(pl.diff != NULL, "%s: no diffs", what);
    stats_ks_2samp(x, n1, y, n2, &a, &b);
    stats_ks_2samp_pooled(&pl, &c, &d);
    CHECKF(same(a, c) && same(b, d), "%s: ks (diffs) %.17g %.17g / %.17g %.17g", what, a, b, c, d);
    stats_cdf_distances(x, n1, y, n2, &a, &b);
    stats_cdf_distances_pooled(&pl, &c, &d);
    CHECKF(same(a, c) && same(b, d), "%s: cdf (diffs) %.17g %.17g / %.17g %.17g", what, a, b, c, d);
    a = stats_hellinger_numeric(x, n1, y, n2);
    c = stats_hellinger_numeric_pooled(&pl, x, y);
    CHECKF(same(a, c), "%s: hellinger %.17g / %.17g", what, a, c);
    stats_pooled_free(&pl);
}

int main(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 5, 17, 21, 200, 3000, 12000};
    uint64_t s = 42;
    char what[96];
    for (size_t a = 0; a < sizeof(sizes) / sizeof(sizes[0]); a++)
        for (size_t b = 0; b < sizeof(sizes) / sizeof(sizes[0]); b++)
            for (int sx = 0; sx < 6; sx++) {
                int sy = (sx + (int)b) % 6;
                double *x = sample(sizes[a], sx, 0.0, &s);
                double *y = sample(sizes[b], sy, sx == 2 ? 0.25 : 1.0, &s);
                snprintf(what, sizeof(what), "n1=%zu shape %d, n2=%zu shape %d", sizes[a], sx,
                         sizes[b], sy);
                compare(x, sizes[a], y, sizes[b], what);
                compare(y, sizes[b], x, sizes[a], what);
                free(x);
                free(y);
            }
    /* one sample inside the other's range, and equal samples */
    double *x = sample(5000, 2, 0.0, &s), *y = malloc(100 * sizeof(double));
    for (size_t i = 0; i < 100; i++)
        y[i] = x[2000 + i];
    compare(x, 5000, y, 100, "inside");
    compare(x, 5000, x, 5000, "equal");
    free(x);
    free(y);
    return tl_done();
}
