/*
 * libFuzzer target: stats_sort (stats/sort.c) against qsort on the same keys
 * (a double's bits mapped so that unsigned order is numeric order, -0 before
 * +0, NANs by their bits), bit for bit from 64 values on; below, the sort is
 * by value (insertion), so only the values are compared.
 *
 * The first byte picks how the rest becomes values, the second how many:
 *   mode & 3 == 0  eight bytes a value, any bits
 *            == 1  a byte a value from a table of edge cases (both zeros,
 *                  infinities, NANs, subnormals, neighbours of 1.0)
 *            == 2  eight bytes of a base, then two bytes a value put into
 *                  the base's bits at a shift (keys sharing their top or
 *                  bottom bits: the sort's splits, fills and LSD passes)
 *            == 3  the values of mode 0, repeated up to 64 Ki values with
 *                  their low bits stirred (sizes about the thresholds)
 *   mode & 4       sorted ascending first, mode & 8 descending, and
 *   mode & 16      then one value moved to the end (monotone shortcuts)
 */
#include "stats/sort.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static int by_key_down(const void *a, const void *b)
{
    return by_key(b, a);
}

static double from_bits(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static uint64_t load64(const uint8_t *p)
{
    uint64_t u;
    memcpy(&u, p, sizeof(u));
    return u;
}

static const uint64_t edge[16] = {
    0x0000000000000000ULL, 0x8000000000000000ULL, 0x7FF0000000000000ULL, 0xFFF0000000000000ULL,
    0x7FF8000000000000ULL, 0xFFF8000000000001ULL, 0x0000000000000001ULL, 0x800FFFFFFFFFFFFFULL,
    0x3FF0000000000000ULL, 0x3FF0000000000001ULL, 0x3FEFFFFFFFFFFFFFULL, 0xBFF0000000000000ULL,
    0x7FEFFFFFFFFFFFFFULL, 0x0010000000000000ULL, 0x4000000000000000ULL, 0xC000000000000000ULL};

/* The values the input describes; *n their count. */
static double *make_values(const uint8_t *data, size_t size, size_t *n)
{
    uint8_t mode = data[0], many = data[1];
    data += 2;
    size -= 2;
    size_t m = 0;
    double *v = NULL;
    switch (mode & 3) {
    case 0:
        m = size / 8;
        v = malloc((m ? m : 1) * sizeof(*v));
        for (size_t i = 0; i < m; i++)
            v[i] = from_bits(load64(data + 8 * i));
        break;
    case 1:
        m = size;
        v = malloc((m ? m : 1) * sizeof(*v));
        for (size_t i = 0; i < m; i++)
            v[i] = from_bits(edge[data[i] & 15] ^ (uint64_t)(data[i] >> 4));
        break;
    case 2: {
        if (size < 8)
            break;
        uint64_t base = load64(data);
        int shift = many % 49;
        m = (size - 8) / 2;
        v = malloc((m ? m : 1) * sizeof(*v));
        for (size_t i = 0; i < m; i++) {
            uint64_t b = (uint64_t)data[8 + 2 * i] | (uint64_t)data[9 + 2 * i] << 8;
            v[i] = from_bits((base & ~(0xFFFFULL << shift)) | b << shift);
        }
        break;
    }
    default: {
        size_t k = size / 8;
        if (k == 0)
            break;
        m = ((size_t)many + 1) * 256;
        v = malloc(m * sizeof(*v));
        for (size_t i = 0; i < m; i++)
            v[i] = from_bits(load64(data + 8 * (i % k)) ^ (uint64_t)(i / k % 4096));
        break;
    }
    }
    if (v != NULL && m > 1 && (mode & 12)) {
        qsort(v, m, sizeof(*v), (mode & 4) ? by_key : by_key_down);
        if (mode & 16) {
            double t = v[0];
            memmove(v, v + 1, (m - 1) * sizeof(*v));
            v[m - 1] = t;
        }
    }
    *n = m;
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t n = 0;
    double *v = make_values(data, size, &n);
    if (v == NULL)
        return 0;
    double *want = malloc((n ? n : 1) * sizeof(*want));
    memcpy(want, v, n * sizeof(*v));
    qsort(want, n, sizeof(*want), by_key);
    FUZZ_CHECK(stats_sort(v, n) == 0);
    if (n < 64)
        qsort(v, n, sizeof(*v), by_key); /* insertion by value: the same values */
    FUZZ_CHECK(memcmp(v, want, n * sizeof(*v)) == 0);
    free(v);
    free(want);
    return 0;
}
