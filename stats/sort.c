#include "stats/sort.h"

#include <gsl/gsl_sort.h>
#include <stdbool.h>
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

/* The old LSD sort, kept whole for now (renamed) while the MSD one is tuned. */
static int lsd_sort(double *v, size_t n, uint64_t *a, uint64_t *b)
{
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
    uint64_t k0 = key_of(v[0]);
    int last = -1;
    for (int p = 0; p < RADIX_PASSES; p++)
        if (count[p][digit(k0, p)] != n)
            last = p;
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
        if (p == last)
            for (size_t i = 0; i < n; i++)
                v[i] = double_of(src[i]);
    }
    return 0;
}

#ifndef SMALL
#define SMALL 16
#endif
#ifndef SLACK
#define SLACK 2
#endif
#ifndef BUDGET
#define BUDGET 4
#endif
#ifndef CROWD
#define CROWD 4
#endif
#ifndef TOP_BITS
#define TOP_BITS 11
#endif

static void insertion_keys(uint64_t *k, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = k[i];
        size_t j = i;
        while (j > 0 && k[j - 1] > x) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = x;
    }
}

/* Insertion sort that gives up (returns false) after budget moves. */
static bool insertion_bounded(uint64_t *k, size_t n, size_t budget)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = k[i];
        size_t j = i;
        while (j > 0 && k[j - 1] > x) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = x;
        if (i - j > budget)
            return false;
        budget -= i - j;
    }
    return true;
}

static int floor_log2(size_t n)
{
    return 63 - __builtin_clzll((unsigned long long)n);
}

/* LSD radix sort of k[0..n) on the bits [lo, lo + w * passes) of the keys,
 * digits of w bits (passes <= RADIX_PASSES, w <= RADIX_BITS), tmp the same
 * size as scratch. Returns the buffer holding the result (k or tmp). */
static uint64_t *lsd_bits(uint64_t *k, uint64_t *tmp, size_t n, int lo, int w, int passes)
{
    uint32_t count[RADIX_PASSES][RADIX_SIZE];
    uint32_t nb = 1u << w, mask = nb - 1;
    for (int p = 0; p < passes; p++)
        memset(count[p], 0, nb * sizeof(count[p][0]));
    if (passes == 2) {
        for (size_t i = 0; i < n; i++) {
            uint64_t y = k[i] >> lo;
            count[0][y & mask]++;
            count[1][(y >> w) & mask]++;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            uint64_t y = k[i] >> lo;
            for (int p = 0; p < passes; p++)
                count[p][(y >> (w * p)) & mask]++;
        }
    }
    uint64_t *src = k, *dst = tmp;
    for (int p = 0; p < passes; p++) {
        uint32_t *c = count[p];
        int sh = lo + w * p;
        if (c[(k[0] >> sh) & mask] == n)
            continue;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < nb; d++) {
            uint32_t t = c[d];
            c[d] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t y = src[i];
            dst[c[(y >> sh) & mask]++] = y;
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

static void write_values(double *out, const uint64_t *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = double_of(k[i]);
}

/* LSD on the low `bits` bits, digits as even as RADIX_BITS allows. */
static uint64_t *lsd_low(uint64_t *k, uint64_t *tmp, size_t n, int lo, int bits)
{
    int passes = (bits + RADIX_BITS - 1) / RADIX_BITS;
    int w = (bits + passes - 1) / passes;
    return lsd_bits(k, tmp, n, lo, w, passes);
}

#define FILL_BITS 8

/* Keys that differ only in their low width (<= FILL_BITS) bits: counted,
 * then written in order from the counts, without moving any. Four counts a
 * digit so that runs of one digit do not wait on one counter. */
static void count_fill(const uint64_t *k, double *out, size_t n, int width)
{
    uint32_t c[4][1u << FILL_BITS];
    uint32_t nb = 1u << width, mask = nb - 1;
    memset(c, 0, sizeof(c));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        c[0][k[i] & mask]++;
        c[1][k[i + 1] & mask]++;
        c[2][k[i + 2] & mask]++;
        c[3][k[i + 3] & mask]++;
    }
    for (; i < n; i++)
        c[0][k[i] & mask]++;
    uint64_t high = k[0] & ~(uint64_t)mask;
    size_t o = 0;
    for (uint32_t d = 0; d < nb; d++) {
        uint32_t m = c[0][d] + c[1][d] + c[2][d] + c[3][d];
        double v = double_of(high | d);
        for (uint32_t j = 0; j < m; j++)
            out[o++] = v;
    }
}

static void split(uint64_t *k, uint64_t *tmp, double *out, size_t n, int shift, int bits,
                  uint32_t *count);

/* Sort keys k[0..n) (tmp, the same size, is scratch) and write their values
 * to out. */
static void sort_bucket(uint64_t *k, uint64_t *tmp, double *out, size_t n)
{
    if (n <= SMALL) {
        insertion_keys(k, n);
        write_values(out, k, n);
        return;
    }
    uint64_t k0 = k[0], x = 0;
    for (size_t i = 0; i < n; i++)
        x |= k[i] ^ k0;
    if (x == 0) {
        write_values(out, k, n);
        return;
    }
    int width = 64 - __builtin_clzll(x); /* bits that vary */
    if (width <= FILL_BITS) {
        count_fill(k, out, n, width);
        return;
    }
    int need = floor_log2(n) + SLACK;
    if (need >= width) {
        write_values(out, lsd_low(k, tmp, n, 0, width), n);
        return;
    }
    /* Sorted on the top `need` varying bits (LSD, two digits at most while
     * n < 2^20), keys are out of order only among those sharing them: few,
     * unless most keys share the top digit and the bits below decide. Then
     * split on that digit instead, with the counts already made. */
    int passes = (need + RADIX_BITS - 1) / RADIX_BITS;
    if (passes > 2)
        passes = 2, need = 2 * RADIX_BITS;
    int w = (need + passes - 1) / passes;
    need = w * passes;
    int lo = width - need;
    uint32_t nb = 1u << w, mask = nb - 1;
    uint32_t count[2][RADIX_SIZE];
    memset(count[0], 0, nb * sizeof(count[0][0]));
    memset(count[1], 0, nb * sizeof(count[1][0]));
    for (size_t i = 0; i < n; i++) {
        uint64_t y = k[i] >> lo;
        count[0][y & mask]++;
        count[1][(y >> w) & mask]++;
    }
    uint32_t *top = count[passes - 1], most = 0;
    for (uint32_t d = 0; d < nb; d++)
        most = top[d] > most ? top[d] : most;
    if (most > n / CROWD) {
        split(k, tmp, out, n, width - w, w, top);
        return;
    }
    uint64_t *src = k, *dst = tmp;
    for (int p = 0; p < passes; p++) {
        uint32_t *c = count[p];
        int sh = lo + w * p;
        uint32_t sum = 0;
        for (uint32_t d = 0; d < nb; d++) {
            uint32_t t = c[d];
            c[d] = sum;
            sum += t;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t y = src[i];
            dst[c[(y >> sh) & mask]++] = y;
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (!insertion_bounded(src, n, BUDGET * n))
        src = lsd_low(src, dst, n, 0, width);
    write_values(out, src, n);
}

/* Scatter k[0..n) to tmp on the bits [shift, shift + bits), count[] their
 * histogram, then sort each bucket while it is in cache, runs of small
 * buckets by one insertion sort (no key moves out of its bucket). */
static void split(uint64_t *k, uint64_t *tmp, double *out, size_t n, int shift, int bits,
                  uint32_t *count)
{
    uint32_t nb = 1u << bits, mask = nb - 1;
    uint32_t sum = 0;
    for (uint32_t d = 0; d < nb; d++) {
        uint32_t t = count[d];
        count[d] = sum;
        sum += t;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t y = k[i];
        tmp[count[(uint32_t)(y >> shift) & mask]++] = y;
    }
    /* count[d] is now the end of bucket d */
    uint32_t begin = 0, run = 0;
    for (uint32_t d = 0; d <= nb; d++) {
        uint32_t end = d < nb ? count[d] : (uint32_t)n;
        if (end - begin > SMALL || d == nb) {
            insertion_keys(tmp + run, begin - run);
            write_values(out + run, tmp + run, begin - run);
            if (d < nb)
                sort_bucket(tmp + begin, k + begin, out + begin, end - begin);
            run = end;
        }
        begin = end;
    }
}

/* Keys k[0..n), their bits above top all the same: split them on the
 * TOP_BITS below. */
static void msd(uint64_t *k, uint64_t *tmp, double *out, size_t n, int top)
{
    int bits = TOP_BITS;
    if (bits > top + 1)
        bits = top + 1;
    int shift = top + 1 - bits;
    uint32_t nb = 1u << bits, mask = nb - 1;
    uint32_t count[1u << TOP_BITS];
    memset(count, 0, nb * sizeof(count[0]));
    for (size_t i = 0; i < n; i++)
        count[(uint32_t)(k[i] >> shift) & mask]++;
    split(k, tmp, out, n, shift, bits, count);
}

int stats_sort(double *v, size_t n)
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
#ifdef USE_LSD
    lsd_sort(v, n, a, b);
#else
    uint64_t k0 = key_of(v[0]), x = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(v[i]);
        a[i] = k;
        x |= k ^ k0;
    }
    if (x != 0)
        msd(a, b, v, n, 63 - __builtin_clzll(x));
#endif
    free(a);
    free(b);
    return 0;
}
