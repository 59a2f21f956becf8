/*
 * stats_sort against qsort on the same keys (a double's bits mapped so
 * that unsigned order is numeric order, -0 before +0; below 64 values,
 * sorted by value with the same values): random values of
 * several shapes, keys that share some of their eleven-bit digits (those
 * passes are skipped) or all of them, every size from 0 to 300 and large
 * arrays.
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

/* A value of shape s: any bits (but NAN), small integers with both
 * zeros, decimals of six digits, values sharing all but their lowest bits,
 * or all the same. */
static double value(int shape, uint64_t *s)
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
    case 5: /* few small integers: their keys differ in a few low bits */
        return (double)(r % 13);
    case 6: /* clusters inside clusters: each split leaves most keys together */
        return 1.0 + ldexp((double)(r >> 11) / 9007199254740992.0, -(int)(11 * (r % 5)));
    case 7: /* two narrow clusters, one negative */
        return r & 1 ? 1e6 + (double)(r >> 40) * 1e-6 : -3.0 - (double)(r >> 44) * 1e-9;
    case 8: /* subnormals of both signs */
        r &= 0x800FFFFFFFFFFFFFULL;
        memcpy(&d, &r, sizeof(d));
        return d;
    default: /* ascending then descending halves */
        return (double)(*s % 100000) * ((*s & 1) ? 1.0 : -1.0);
    }
}

static void check_sort(size_t n, int shape, uint64_t *s)
{
    double *v = malloc((n ? n : 1) * sizeof(*v)), *w = malloc((n ? n : 1) * sizeof(*w));
    for (size_t i = 0; i < n; i++)
        v[i] = w[i] = value(shape, s);
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
    for (int shape = 0; shape < 10; shape++) {
        for (size_t n = 0; n <= 300; n++)
            check_sort(n, shape, &s);
        /* around the bucket sizes where the sort changes method */
        static const size_t sizes[] = {511, 512, 513, 2047, 2049, 4095, 4097, 65535, 65537};
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
            check_sort(sizes[i], shape, &s);
        check_sort(100000, shape, &s);
        check_sort(262147, shape, &s);
    }
    return tl_done();
}
