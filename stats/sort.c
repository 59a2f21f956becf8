#include "stats/sort.h"

/*
 * The sort works on keys (key_of) in two buffers and writes the values back
 * in order. Where the old LSD sort made six passes of eleven bits over the
 * whole array whatever the data, this one looks at which bits vary (the OR
 * of every key's difference with the first) and at the counts of the top
 * digits before it moves anything:
 *
 *  - keys varying in 8 bits or fewer (integers, few distinct values) are
 *    counted and written from the counts;
 *  - keys varying in at most the bits two passes cover are LSD-sorted on
 *    them, exactly;
 *  - otherwise an LSD sort on the top log2(n) + 3 varying bits leaves each
 *    key next to the few that share them, and one insertion sort finishes
 *    (giving up for an LSD sort on every bit if it moves too much);
 *  - unless the counts show the keys crowded into a few top digits (the
 *    exponents of a float column): then an MSD split on the top digit, and
 *    each part sorted the same way while it is in cache.
 *
 * Most columns take two or three passes instead of six or seven. Input
 * already in order, up or down, is detected first. Counts and scatters run
 * two halves of the input side by side where runs of one digit would make
 * each key wait for the previous one's counter.
 */

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

/* At most eleven bits a digit: six passes cover a 64-bit key and the six
 * counts of 2048 fit in the first-level cache. */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 6

/* Tuned on bench/sort_bench.c (bench/data/cur.csv's columns and synthetic
 * ones, 10^4 to 10^6 values). Up to SMALL keys are sorted by insertion. */
#define SMALL 16
/* Keys sorted on log2(n) + SLACK of their top bits are nearly in order. */
#define SLACK 3
/* Moves an insertion sort may make a key, on average, before giving up. */
#define BUDGET 4
/* More than CROWD keys a key sharing a slot of the top bits: split. */
#define CROWD 2
/* Keys that vary in at most FILL_BITS bits are counted, not moved. */
#define FILL_BITS 8
/* A split where one part keeps more than 1 - 1/DOMINANT of the keys does
 * not pay, but for the first (it separates a value most keys have, as
 * zeros, from the rest): LSD on every bit instead. */
#define DOMINANT 4
/* Two streams when more than 1/RUNS of the keys have the digit of the key
 * before them. */
#define RUNS 4
/* From WIDE_N keys, whole eleven-bit digits (fewer below: the counts are
 * then what costs). */
#define WIDE_N 2048
/* Splits inside splits at most: each holds 33 KiB of counts on the stack. */
#define MAX_DEPTH 2

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

static void write_values(double *out, const uint64_t *k, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = double_of(k[i]);
}

static int floor_log2(size_t n)
{
    return 63 - __builtin_clzll((unsigned long long)n);
}

static void counts_to_starts(uint32_t *c, uint32_t nb)
{
    uint32_t sum = 0;
    for (uint32_t d = 0; d < nb; d++) {
        uint32_t t = c[d];
        c[d] = sum;
        sum += t;
    }
}

/* One LSD pass: src to dst, stable, on the w-bit digit at bit sh, with the
 * digit's counts turned to starts. */
static void scatter(const uint64_t *src, uint64_t *dst, size_t n, int sh, uint32_t mask,
                    uint32_t *start)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t y = src[i];
        dst[start[(y >> sh) & mask]++] = y;
    }
}

/* LSD radix sort of k[0..n) on its bits [lo, lo + bits), the keys' other
 * bits being the same or not mattering, the values written to out by the
 * last pass; tmp, the same size as k, is scratch. Digits of at most
 * RADIX_BITS, as even as can be; a digit every key shares has no pass. */
static void lsd(uint64_t *k, uint64_t *tmp, double *out, size_t n, int lo, int bits)
{
    int passes = (bits + RADIX_BITS - 1) / RADIX_BITS;
    int w = (bits + passes - 1) / passes;
    uint32_t nb = 1u << w, mask = nb - 1;
    uint32_t count[RADIX_PASSES][RADIX_SIZE];
    for (int p = 0; p < passes; p++)
        memset(count[p], 0, nb * sizeof(count[p][0]));
    for (size_t i = 0; i < n; i++) {
        uint64_t y = k[i] >> lo;
        for (int p = 0; p < passes; p++)
            count[p][(y >> (w * p)) & mask]++;
    }
    int last = -1;
    for (int p = 0; p < passes; p++)
        if (count[p][(k[0] >> (lo + w * p)) & mask] != n)
            last = p;
    uint64_t *src = k, *dst = tmp;
    for (int p = 0; p <= last; p++) {
        int sh = lo + w * p;
        if (count[p][(k[0] >> sh) & mask] == n)
            continue;
        counts_to_starts(count[p], nb);
        if (p == last) {
            uint32_t *start = count[p];
            for (size_t i = 0; i < n; i++) {
                uint64_t y = src[i];
                out[start[(y >> sh) & mask]++] = double_of(y);
            }
            return;
        }
        scatter(src, dst, n, sh, mask, count[p]);
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    write_values(out, src, n); /* not reached: bit lo + bits - 1 varies */
}

/* Keys that differ only in their bits [lo, lo + bits), bits <= FILL_BITS:
 * counted, then written in order from the counts, none moved. Four counts a
 * digit so that a run of one digit does not wait on one counter. */
static void count_fill(const uint64_t *k, double *out, size_t n, int lo, int bits)
{
    uint32_t c[4][1u << FILL_BITS];
    uint32_t nb = 1u << bits, mask = nb - 1;
    memset(c, 0, sizeof(c));
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        c[0][(k[i] >> lo) & mask]++;
        c[1][(k[i + 1] >> lo) & mask]++;
        c[2][(k[i + 2] >> lo) & mask]++;
        c[3][(k[i + 3] >> lo) & mask]++;
    }
    for (; i < n; i++)
        c[0][(k[i] >> lo) & mask]++;
    uint64_t high = k[0] & ~((uint64_t)mask << lo);
    size_t o = 0;
    for (uint32_t d = 0; d < nb; d++) {
        uint32_t m = c[0][d] + c[1][d] + c[2][d] + c[3][d];
        double v = double_of(high | (uint64_t)d << lo);
        for (uint32_t j = 0; j < m; j++)
            out[o++] = v;
    }
}

static void sort_varying(uint64_t *k, uint64_t *tmp, double *out, size_t n, int low, int high,
                         int depth);

/* Sort keys k[0..n), n > SMALL (tmp, the same size, is scratch) and write
 * their values to out. */
static void sort_keys(uint64_t *k, uint64_t *tmp, double *out, size_t n, int depth)
{
    uint64_t k0 = k[0], x = 0;
    for (size_t i = 0; i < n; i++)
        x |= k[i] ^ k0;
    if (x == 0)
        write_values(out, k, n);
    else
        sort_varying(k, tmp, out, n, __builtin_ctzll(x), 64 - __builtin_clzll(x), depth);
}

/* A digit's counts in each half of the keys: the scatters run the two
 * halves side by side, so that a run of keys of one digit (sorted input,
 * ties) does not have each key wait for the last one's counter. */
/* (the rows 64 bytes off a multiple of 4 KiB: a load from one would wait
 * on a store to the other at the same place in its page) */
typedef uint32_t halves[2][RADIX_SIZE + 16];

/* Where each half's keys of each digit go, from the counts. */
static void halves_to_starts(halves h, uint32_t nb)
{
    uint32_t sum = 0;
    for (uint32_t d = 0; d < nb; d++) {
        uint32_t c0 = h[0][d], c1 = h[1][d];
        h[0][d] = sum;
        h[1][d] = sum + c0;
        sum += c0 + c1;
    }
}

/* One stable pass from src to dst on the digit at bit sh. */
static void scatter_halves(const uint64_t *src, uint64_t *dst, size_t n, int sh, uint32_t mask,
                           halves start)
{
    size_t half = n / 2;
    const uint64_t *src1 = src + half;
    uint32_t *s0 = start[0], *s1 = start[1];
    for (size_t i = 0; i < half; i++) {
        uint64_t y = src[i], z = src1[i];
        dst[s0[(y >> sh) & mask]++] = y;
        dst[s1[(z >> sh) & mask]++] = z;
    }
    if (n & 1)
        dst[s1[(src[n - 1] >> sh) & mask]++] = src[n - 1];
}

/* scatter_halves for a first pass of two: counts the digit at bit sh2 in
 * each half of dst, for the second (next[] zero on entry). */
static void scatter_halves_next(const uint64_t *src, uint64_t *dst, size_t n, int sh, uint32_t mask,
                                halves start, int sh2, halves next)
{
    size_t half = n / 2;
    const uint64_t *src1 = src + half;
    uint32_t *s0 = start[0], *s1 = start[1];
    for (size_t i = 0; i < half; i++) {
        uint64_t y = src[i], z = src1[i];
        uint32_t py = s0[(y >> sh) & mask]++, pz = s1[(z >> sh) & mask]++;
        dst[py] = y;
        dst[pz] = z;
        next[py >= half][(y >> sh2) & mask]++;
        next[pz >= half][(z >> sh2) & mask]++;
    }
    if (n & 1) {
        uint64_t z = src[n - 1];
        uint32_t pz = s1[(z >> sh) & mask]++;
        dst[pz] = z;
        next[pz >= half][(z >> sh2) & mask]++;
    }
}

/* The same, the last pass: values to out. */
static void scatter_halves_out(const uint64_t *src, double *out, size_t n, int sh, uint32_t mask,
                               halves start)
{
    size_t half = n / 2;
    const uint64_t *src1 = src + half;
    uint32_t *s0 = start[0], *s1 = start[1];
    for (size_t i = 0; i < half; i++) {
        uint64_t y = src[i], z = src1[i];
        out[s0[(y >> sh) & mask]++] = double_of(y);
        out[s1[(z >> sh) & mask]++] = double_of(z);
    }
    if (n & 1)
        out[s1[(src[n - 1] >> sh) & mask]++] = double_of(src[n - 1]);
}

/* Scatter k[0..n) to tmp on its bits [shift, shift + bits), whose counts
 * are in count, then sort each bucket while it is in cache, runs of small
 * buckets by one insertion sort (no key moves out of its bucket). */
static void split(uint64_t *k, uint64_t *tmp, double *out, size_t n, int shift, int bits,
                  halves count, int depth)
{
    uint32_t nb = 1u << bits;
    halves_to_starts(count, nb);
    scatter_halves(k, tmp, n, shift, nb - 1, count);
    /* count[1][d] is now the end of bucket d */
    uint32_t begin = 0, run = 0;
    for (uint32_t d = 0; d <= nb; d++) {
        uint32_t end = d < nb ? count[1][d] : (uint32_t)n;
        if (end - begin > SMALL || d == nb) {
            insertion_keys(tmp + run, begin - run);
            write_values(out + run, tmp + run, begin - run);
            if (d < nb)
                sort_keys(tmp + begin, k + begin, out + begin, end - begin, depth + 1);
            run = end;
        }
        begin = end;
    }
}

/* sort_keys for keys whose bits below low and from high on are all the
 * same, bits low and high - 1 not. */
static void sort_varying(uint64_t *k, uint64_t *tmp, double *out, size_t n, int low, int high,
                         int depth)
{
    int span = high - low;
    if (span <= FILL_BITS) {
        count_fill(k, out, n, low, span);
        return;
    }
    /* Sorted on their top `need` bits, keys are out of order only among
     * those that share them: few, for n keys in 2^need slots, unless the
     * keys crowd into a part of the range. Two passes at most; when they
     * cover every bit that varies, the sort is exact. */
    int need = floor_log2(n) + SLACK;
    int passes = need > RADIX_BITS ? 2 : 1;
    bool exact = span <= passes * RADIX_BITS;
    int w, lo;
    if (exact) {
        passes = (span + RADIX_BITS - 1) / RADIX_BITS;
        w = (span + passes - 1) / passes;
        lo = low;
    } else {
        w = n >= WIDE_N ? RADIX_BITS : (need + passes - 1) / passes;
        lo = high - w * passes;
    }
    uint32_t nb = 1u << w, mask = nb - 1;
    halves count[2];
    size_t half = n / 2, same = 0; /* keys of the top digit of the one before */
    const uint64_t *k1 = k + half;
    for (int p = 0; p < passes; p++)
        for (int h = 0; h < 2; h++)
            memset(count[p][h], 0, nb * sizeof(count[p][h][0]));
    if (passes == 1) {
        for (size_t i = 0; i < half; i++) {
            count[0][0][(k[i] >> lo) & mask]++;
            count[0][1][(k1[i] >> lo) & mask]++;
        }
    } else {
        uint32_t prev = 0;
        for (size_t i = 0; i < half; i++) {
            uint64_t y = k[i] >> lo, z = k1[i] >> lo;
            uint32_t ty = (uint32_t)(y >> w) & mask;
            count[0][0][y & mask]++;
            count[1][0][ty]++;
            count[0][1][z & mask]++;
            count[1][1][(z >> w) & mask]++;
            same += ty == prev;
            prev = ty;
        }
    }
    if (n & 1)
        for (int p = 0; p < passes; p++)
            count[p][1][(k[n - 1] >> (lo + w * p)) & mask]++;
    if (!exact) {
        /* Keys crowded into a few top digits would be left with many others
         * in their slot of the lower digit (about sum c^2 / 2^w pairs, if
         * that digit is even within them): split on the top digit instead. */
        uint32_t(*top)[RADIX_SIZE + 16] = count[passes - 1];
        uint64_t pairs = 0;
        uint32_t most = 0;
        for (uint32_t d = 0; d < nb; d++) {
            uint32_t c = top[0][d] + top[1][d];
            pairs += (uint64_t)c * c;
            most = c > most ? c : most;
        }
        pairs >>= passes == 1 ? 0 : w;
        if (pairs > (uint64_t)n * CROWD) {
            /* unless one top digit holds nearly all, below the first split
             * (DOMINANT): another would leave most keys to sort on the same
             * bits again, where an LSD pass a digit costs less; and splits
             * nest MAX_DEPTH deep at most */
            if ((most > n - n / DOMINANT && depth > 0) || depth >= MAX_DEPTH)
                lsd(k, tmp, out, n, low, span);
            else
                split(k, tmp, out, n, high - w, w, top, depth);
            return;
        }
    }
    int last = -1;
    for (int p = 0; p < passes; p++) {
        uint32_t d0 = (uint32_t)(k[0] >> (lo + w * p)) & mask;
        if (count[p][0][d0] + count[p][1][d0] != n)
            last = p;
    }
    uint64_t *src = k, *dst = tmp;
    for (int p = 0; p <= last; p++) {
        int sh = lo + w * p;
        uint32_t d0 = (uint32_t)(k[0] >> sh) & mask;
        if (count[p][0][d0] + count[p][1][d0] == n)
            continue;
        if (same < half / RUNS) {
            /* no long runs of a digit: one stream is faster */
            uint32_t *c = count[p][0];
            for (uint32_t d = 0; d < nb; d++)
                c[d] += count[p][1][d];
            counts_to_starts(c, nb);
            if (exact && p == last) {
                for (size_t i = 0; i < n; i++) {
                    uint64_t y = src[i];
                    out[c[(y >> sh) & mask]++] = double_of(y);
                }
                return;
            }
            scatter(src, dst, n, sh, mask, c);
            uint64_t *t = src;
            src = dst;
            dst = t;
            continue;
        }
        halves_to_starts(count[p], nb);
        if (exact && p == last) {
            scatter_halves_out(src, out, n, sh, mask, count[p]);
            return;
        }
        if (p < last) {
            /* the next pass's halves are those of dst: counted anew */
            memset(count[p + 1][0], 0, nb * sizeof(count[p + 1][0][0]));
            memset(count[p + 1][1], 0, nb * sizeof(count[p + 1][1][0]));
            scatter_halves_next(src, dst, n, sh, mask, count[p], sh + w, count[p + 1]);
        } else {
            scatter_halves(src, dst, n, sh, mask, count[p]);
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    /* Too many keys share their top bits after all: sort on every bit. */
    if (insertion_bounded(src, n, BUDGET * n))
        write_values(out, src, n);
    else
        lsd(src, dst, out, n, low, span);
}

int stats_sort(double *v, size_t n)
{
    if (n < 64) {
        insertion(v, n);
        return 0;
    }
    /* Columns read in the order of a time or an id are in order already, up
     * or down: nothing to sort, or only to reverse. Other inputs stop these
     * scans within a few values. */
    size_t i = 1;
    while (i < n && key_of(v[i - 1]) <= key_of(v[i]))
        i++;
    if (i == n)
        return 0;
    for (i = 1; i < n && key_of(v[i - 1]) >= key_of(v[i]); i++)
        ;
    if (i == n) {
        for (size_t j = 0, m = n - 1; j < m; j++, m--) {
            double t = v[j];
            v[j] = v[m];
            v[m] = t;
        }
        return 0;
    }
    uint64_t *a = n <= UINT32_MAX ? malloc(n * sizeof(*a)) : NULL;
    uint64_t *b = a != NULL ? malloc(n * sizeof(*b)) : NULL;
    if (b == NULL) {
        free(a);
        gsl_sort(v, 1, n);
        return n <= UINT32_MAX ? -1 : 0;
    }
    uint64_t k0 = key_of(v[0]), x = 0;
    for (i = 0; i < n; i++) {
        uint64_t k = key_of(v[i]);
        a[i] = k;
        x |= k ^ k0;
    }
    if (x != 0)
        sort_varying(a, b, v, n, __builtin_ctzll(x), 64 - __builtin_clzll(x), 0);
    free(a);
    free(b);
    return 0;
}
