/*
 * stats_sort against qsort on the same keys (a double's bits mapped so
 * that unsigned order is numeric order, -0 before +0, NANs by their bits;
 * below 64 values, sorted by value with the same values): values of shapes
 * that take each of the sort's ways (value() says which), every size from
 * 0 to 300 and sizes about its thresholds up to 262147.
 */
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

static uint64_t key(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return (u >> 63) ? ~u : u | 0x8000000000000000ULL;
}

static int by_key(const void *a, const void *b)
{
    uint64_t x = key(*(const double *)a), y = key(*(const double *)b);
    return x < y ? -1 : x > y;
}

#define SHAPES 19

/* Value i of n of shape `shape`: any bits (but NAN), small integers with
 * both zeros, decimals of six digits, values sharing all but their lowest
 * bits, all the same, few small integers (counted, not moved), clusters
 * inside clusters (a split leaves most together: LSD on every bit), two
 * narrow clusters, subnormals, ascending with ties and both zeros,
 * descending, nearly ascending (long runs of a digit: the sort's two
 * streams), a lognormal (keys crowd into a few exponents: splits), keys
 * whose top bits are even but the next ones the same (the insertion sort
 * after the top bits gives up), any bits with NANs and infinities (ordered
 * by key, but below 64 values), exactly two values, ascending but for the
 * last value, most keys in one top digit with bits between the lowest and
 * the top ones all the same (LSD passes skipped), descending but for the
 * last value. */
static double value(int shape, size_t i, size_t n, uint64_t *s)
{
    uint64_t r = next_u64(s);
    double d;
    switch (shape) {
    case 0:
        memcpy(&d, &r, sizeof(d));
        return isnan(d) ? 1.0 : d;
    case 1:
        return r % 5 == 0 ? -0.0 : (double)((int)(r % 11) - 5) * (r % 7 == 0 ? 0.0 : 1.0);
    case 2:
        return round(((double)(r >> 11) / 9007199254740992.0 - 0.3) * 1e6) / 1e3;
    case 3:
        r = 0x3FF0000000000000ULL | (r & 0xFFFFF); /* 1.0 plus low bits */
        memcpy(&d, &r, sizeof(d));
        return d;
    case 4:
        return -2.5;
    case 5:
        return (double)(r % 13);
    case 6:
        return 1.0 + ldexp((double)(r >> 11) / 9007199254740992.0, -(int)(11 * (r % 5)));
    case 7:
        return r & 1 ? 1e6 + (double)(r >> 40) * 1e-6 : -3.0 - (double)(r >> 44) * 1e-9;
    case 8:
        r &= 0x800FFFFFFFFFFFFFULL;
        memcpy(&d, &r, sizeof(d));
        return d;
    case 9:
        return i == n / 2 ? -0.0 : i == n / 2 + 1 ? 0.0 : (double)((int64_t)i / 3 - 40);
    case 10:
        return (double)(n - i) * 0.25 - 7.0;
    case 11:
        return (double)i + (double)(r % 64) - 32.0;
    case 12: {
        double u = (double)(r >> 11) / 9007199254740992.0, w = (double)(next_u64(s) >> 11);
        return exp(3.0 * sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(w * 6.9757e-16));
    }
    case 13: /* exponent 0x3FF, mantissa bits 41-51 and 0-29 random */
        r = 0x3FF0000000000000ULL | (r & 0x000FFE0000000000ULL) | (r & 0x3FFFFFFFULL);
        memcpy(&d, &r, sizeof(d));
        return d;
    case 14:
        if (r % 17 == 0)
            return r & 1 ? NAN : -NAN;
        if (r % 19 == 0)
            return r & 1 ? INFINITY : -INFINITY;
        r = next_u64(s);
        memcpy(&d, &r, sizeof(d));
        return d;
    case 15:
        return r & 1 ? 1.5 : -1.5;
    case 16:
        return i == n - 1 ? -1.0 : (double)i;
    case 17:
        return (r % 5 == 0 ? 1.5 : 1.0) + ldexp((double)(next_u64(s) & 0x7FF), -52);
    default:
        return i == n - 1 ? 1e9 : (double)(n - i);
    }
}

static void check_sort(size_t n, int shape, uint64_t *s)
{
    if (shape == 14 && n < 64)
        return; /* insertion by value: NAN compares false */
    double *v = malloc((n ? n : 1) * sizeof(*v)), *w = malloc((n ? n : 1) * sizeof(*w));
    for (size_t i = 0; i < n; i++)
        v[i] = w[i] = value(shape, i, n, s);
    CHECKF(stats_sort(v, n) == 0, "n=%zu shape %d: stats_sort failed", n, shape);
    qsort(w, n, sizeof(*w), by_key);
    if (n >= 64) {
        CHECKF(memcmp(v, w, n * sizeof(*v)) == 0, "n=%zu shape %d: order differs", n, shape);
    } else {
        /* insertion sort by value: -0 and +0 keep their order */
        for (size_t i = 1; i < n; i++)
            CHECKF(v[i - 1] <= v[i], "n=%zu shape %d: not sorted at %zu", n, shape, i);
        qsort(v, n, sizeof(*v), by_key);
        CHECKF(n == 0 || memcmp(v, w, n * sizeof(*v)) == 0, "n=%zu shape %d: values differ", n,
               shape);
    }
    free(v);
    free(w);
}

int main(void)
{
    uint64_t s = 7;
    for (int shape = 0; shape < SHAPES; shape++) {
        for (size_t n = 0; n <= 300; n++)
            check_sort(n, shape, &s);
        /* around the sizes where the sort changes method: one pass of fewer
         * bits below 512 keys, whole digits from 2048 */
        static const size_t sizes[] = {511,  512,  513,  1023,  1024,  2047,   2048,
                                       2049, 4095, 4097, 65535, 65537, 100000, 262147};
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            check_sort(sizes[i], shape, &s);
    }
    return tl_done();
}
