#include "stats/sort.h"

#include <gsl/gsl_sort.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Order-preserving map of a double's bits to an unsigned key (Herf,
 * "Radix Tricks", 2001): flip all bits of negatives, the sign bit of the rest. */
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

int stats_sort(double *v, size_t n)
{
    if (n < 64) {
        insertion(v, n);
        return 0;
    }
    uint64_t *a = malloc(n * sizeof(*a)), *b = malloc(n * sizeof(*b));
    if (a == NULL || b == NULL) {
        free(a), free(b);
        gsl_sort(v, 1, n);
        return -1;
    }
    size_t count[8][256];
    memset(count, 0, sizeof(count));
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(v[i]);
        a[i] = k;
        for (int p = 0; p < 8; p++)
            count[p][(k >> (8 * p)) & 0xff]++;
    }
    for (int p = 0; p < 8; p++) {
        size_t *c = count[p];
        /* A byte that every key shares does not reorder anything. */
        if (c[(a[0] >> (8 * p)) & 0xff] == n)
            continue;
        size_t sum = 0;
        for (int i = 0; i < 256; i++) {
            size_t t = c[i];
            c[i] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++)
            b[c[(a[i] >> (8 * p)) & 0xff]++] = a[i];
        uint64_t *t = a;
        a = b;
        b = t;
    }
    for (size_t i = 0; i < n; i++)
        v[i] = double_of(a[i]);
    free(a);
    free(b);
    return 0;
}
