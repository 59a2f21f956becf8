/*
 * stats_sort as of 534faee (the LSD radix sort, eleven-bit digits, six
 * passes), renamed, for bench/sort_bench.c to time against the current one.
 * Do not change: it is the reference the figures are measured against.
 */
#include <gsl/gsl_sort.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int old_stats_sort(double *v, size_t n);

static inline uint64_t key_of(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return (u >> 63) ? ~u : u | 0x8000000000000000ULL;
}

static inline double double_of(uint64_t k)
{
    uint64_t u = (k >> 63) ? k & 0x7fffffffffffffffULL : ~k;
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static void insertion(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* Eleven bits a pass: six passes cover a 64-bit key (eight of eight bits
 * cost a third more, most of it in the scatters), and the six counts of
 * 2048 fit in the first-level cache. */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6

/* Digit p of key k. */
static inline uint32_t digit(uint64_t k, int p)
{
    return (uint32_t)(k >> (RADIX_BITS * p)) & (RADIX_SIZE - 1);
}

int old_stats_sort(double *v, size_t n)
{
    if (n < 64) {
        insertion(v, n);
        return 0;
    }
    uint64_t *a = n <= UINT32_MAX ? malloc(n * sizeof(*a)) : NULL;
    uint64_t *b = a != NULL ? malloc(n * sizeof(*b)) : NULL;
    if (b == NULL) {
        free(a);
        gsl_sort(v, 1, n);
        return n <= UINT32_MAX ? -1 : 0;
    }
    uint32_t count[RADIX_PASSES][RADIX_SIZE];
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(v[i]);
        count[0][digit(k, 0)]++;
        count[1][digit(k, 1)]++;
        count[2][digit(k, 2)]++;
        count[3][digit(k, 3)]++;
        count[4][digit(k, 4)]++;
        count[5][digit(k, 5)]++;
    }
    /* A digit every key shares does not reorder anything: no pass for it. */
    uint64_t k0 = key_of(v[0]);
    int last = -1;
    for (int p = 0; p < RADIX_PASSES; p++)
        if (count[p][digit(k0, p)] != n)
            last = p;
    /* The first pass reads the values (keys made on the fly), the last
     * writes them back (values made on the fly); between, keys go from
     * one buffer to the other. */
    const uint64_t *src = NULL;
    uint64_t *dst = a;
    for (int p = 0; p <= last; p++) {
        uint32_t *c = count[p];
        if (c[digit(k0, p)] == n)
            continue;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < RADIX_SIZE; d++) {
            uint32_t t = c[d];
            c[d] = sum;
            sum += t;
        }
        if (src == NULL) {
            for (size_t i = 0; i < n; i++) {
                uint64_t k = key_of(v[i]);
                dst[c[digit(k, p)]++] = k;
            }
        } else if (p == last) {
            for (size_t i = 0; i < n; i++)
                v[c[digit(src[i], p)]++] = double_of(src[i]);
            break;
        } else {
            for (size_t i = 0; i < n; i++)
                dst[c[digit(src[i], p)]++] = src[i];
        }
        src = dst;
        dst = dst == a ? b : a;
        if (p == last) /* one pass in all: the keys are in src */
            for (size_t i = 0; i < n; i++)
                v[i] = double_of(src[i]);
    }
    free(a);
    free(b);
    return 0;
}
