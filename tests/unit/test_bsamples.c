/*
 * The samples' part of check's baseline cache (stats/bsamples.c): a payload
 * made from a baseline's text reads back to what the parse gave, bit for
 * bit, with the same text for cJSON; a payload that does not fit the text
 * is refused even when its checksum is right (spans out of the text, out
 * of order, not on brackets or too short for their number; values out of
 * order or not finite; counts that do not add up); a wrong checksum is
 * refused; and a baseline whose samples the parse had to sort is not
 * cached at all. Arrays longer than the block the reader checks at a
 * time are refused for a disorder or a non-finite value at any place
 * around the blocks' edges, and taken when each is in order on its own.
 */
#include "lib/sbuf.h"
#include "stats/bsamples.h"
#include "stats/metrics.h"
#include "testlib.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A text with two sample arrays long enough to be replaced and a short
 * one that is not, around the rest of a baseline's shapes. */
static const char text[] = "{\"features\": [\n"
                           "{\"name\": \"a\", \"sample\": [-1.5,0,0.25,3,7.125,8,9.5,10]},\n"
                           "{\"name\": \"b\", \"sample\": []},\n"
                           "{\"name\": \"c\", \"sample\": [1e-3,2.5e-3,1,2,3,4,5,6,7,8,9,10]},\n"
                           "{\"name\": \"d\", \"categories\": [[\"x\", 1, 1]]}\n"
                           "]}\n";

/* The payload's words, copied to an aligned buffer (as a mapping is). */
static uint64_t *words_of(const struct sbuf *p, size_t *n)
{
    *n = p->len / 8;
    uint64_t *w = malloc(p->len);
    memcpy(w, p->data, p->len);
    return w;
}

/* Put the checksum of the words before it in the last word. */
static void reseal(uint64_t *w, size_t n)
{
    w[n - 1] = bsamples_checksum(w, n - 1);
}

/* bsamples_from_payload of the words; 1 refused, 0 taken. */
static int read_words(const uint64_t *w, size_t n)
{
    struct bsamples s;
    int rc = bsamples_from_payload(text, sizeof(text) - 1, w, n * 8, &s);
    if (rc == 0)
        bsamples_free(&s);
    return rc;
}

/* Two arrays of LARGE values 0..LARGE-1, so that each crosses the reader's
 * 4096-word blocks; the second starts below where the first ends. */
#define LARGE 5000
static void large_arrays(void)
{
    struct sbuf t;
    sbuf_init(&t);
    sbuf_adds(&t, "{\"features\": [");
    for (int a = 0; a < 2; a++) {
        sbuf_printf(&t, "%s{\"name\": \"f%d\", \"sample\": [", a ? ", " : "", a);
        for (int i = 0; i < LARGE; i++)
            sbuf_printf(&t, "%s%d", i ? "," : "", i);
        sbuf_adds(&t, "]}");
    }
    sbuf_adds(&t, "]}\n");
    CHECK(!sbuf_failed(&t));
    struct bsamples parsed, back;
    CHECK(bsamples_extract(t.data, t.len, &parsed) == 0 && parsed.count == 2);
    struct sbuf p;
    sbuf_init(&p);
    CHECK(bsamples_payload(&parsed, &p) == 0);
    size_t n;
    uint64_t *w = words_of(&p, &n);
    CHECK(bsamples_from_payload(t.data, t.len, w, n * 8, &back) == 0);
    bsamples_free(&back);
    /* the values start at word 10 (2 + 4 per array); the blocks' edges
     * are at words 4096 and 8192, and the second array starts at 5010 */
    double *v = (double *)(w + 10);
    size_t edges[] = {0, 4096 - 10, 2 * 4096 - 10, LARGE, 2 * LARGE - 1};
    for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++)
        for (size_t i = edges[e] > 2 ? edges[e] - 2 : 0; i <= edges[e] + 2 && i < 2 * LARGE; i++) {
            double keep = v[i];
            v[i] = i % LARGE == 0 ? 2 : v[i] - 1.5; /* out of order within its array */
            reseal(w, n);
            bool taken = bsamples_from_payload(t.data, t.len, w, n * 8, &back) == 0;
            if (taken)
                bsamples_free(&back);
            CHECKF(!taken, "value %zu out of order and taken", i);
            v[i] = i % 2 ? INFINITY : NAN;
            reseal(w, n);
            taken = bsamples_from_payload(t.data, t.len, w, n * 8, &back) == 0;
            if (taken)
                bsamples_free(&back);
            CHECKF(!taken, "value %zu not finite and taken", i);
            v[i] = keep;
        }
    reseal(w, n);
    CHECK(bsamples_from_payload(t.data, t.len, w, n * 8, &back) == 0);
    bsamples_free(&back);
    free(w);
    sbuf_free(&p);
    sbuf_free(&t);
    bsamples_free(&parsed);
}

int main(void)
{
    large_arrays();
    size_t len = sizeof(text) - 1;
    struct bsamples parsed;
    CHECK(bsamples_extract(text, len, &parsed) == 0);
    CHECKF(parsed.count == 2, "replaced arrays: %zu", parsed.count);
    struct sbuf p;
    sbuf_init(&p);
    CHECK(bsamples_payload(&parsed, &p) == 0);
    /* its size known, the buffer is sized once: no doubling */
    CHECKF(p.cap == p.len + 1, "payload of %zu bytes in a buffer of %zu", p.len, p.cap);
    size_t n;
    uint64_t *w = words_of(&p, &n);

    /* read back: the same arrays, bit for bit, and the same text */
    struct bsamples back;
    CHECK(bsamples_from_payload(text, len, w, n * 8, &back) == 0);
    CHECK(back.count == parsed.count && back.borrowed);
    for (size_t i = 0; i < back.count && i < parsed.count; i++) {
        CHECKF(back.n[i] == parsed.n[i], "array %zu: %zu values, parsed %zu", i, back.n[i],
               parsed.n[i]);
        CHECKF(memcmp(back.v[i], parsed.v[i], parsed.n[i] * sizeof(double)) == 0,
               "array %zu differs", i);
        CHECK(back.sorted[i] && back.nonfinite[i] == back.n[i]);
        /* the standard deviation the payload recorded: stats_std's bits */
        double sd = stats_std(parsed.v[i], parsed.n[i]);
        CHECKF(memcmp(&back.stddev[i], &sd, sizeof(sd)) == 0, "array %zu: stddev %.17g, not %.17g",
               i, back.stddev[i], sd);
        CHECK(isnan(parsed.stddev[i])); /* the parse does not compute it */
        CHECK(back.v[i] >= (double *)w && back.v[i] < (double *)(w + n)); /* not copied */
    }
    CHECK(back.len == parsed.len && memcmp(back.text, parsed.text, parsed.len) == 0);
    /* every place of cJSON's text maps to the same place of the file */
    size_t moved = 0;
    for (size_t off = 0; off <= back.len && off <= parsed.len; off++)
        moved += bsamples_source_offset(&back, off) != bsamples_source_offset(&parsed, off);
    CHECKF(moved == 0, "%zu places of cJSON's text map elsewhere", moved);
    bsamples_free(&back);
    CHECK(read_words(w, n) == 0);

    /* a flipped bit anywhere: refused by the checksum */
    for (size_t i = 0; i < n; i++) {
        w[i] ^= 1ULL << (i % 64);
        CHECKF(read_words(w, n) == 1, "word %zu flipped and taken", i);
        w[i] ^= 1ULL << (i % 64);
    }
    /* with a right checksum, each thing that does not fit: words 2, 3, 4
     * are the first array's start, end and count (5 its standard
     * deviation), 6, 7, 8 the second's (9), the values from 10 */
    struct {
        size_t word;
        uint64_t value;
        const char *what;
    } bad[] = {
        {2, w[2] + 1, "a start not on '['"},
        {3, w[3] - 1, "an end not on ']'"},
        {3, len + 7, "an end past the text"},
        {2, w[6], "a first array starting where the second does"},
        {6, w[2], "the second array before the first"},
        {7, w[6] + 2, "an array too short for its number"},
        {4, w[4] + 1, "a count the values do not give"},
        {1, 1000000, "more arrays than the payload holds"},
        /* counts that wrap to the right sum: 2^63 + 2^63 + (n - 0) */
        {4, 0x8000000000000000ULL, "a count past the words, wrapping"},
        {10, 0x7ff0000000000000ULL, "an infinity"},
        {10, 0x7ff8000000000000ULL, "a NAN"},
        {11, 0xc08f400000000000ULL, "values out of order (-1000 after -1.5)"},
        {0, 0, "no magic"},
    };
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        uint64_t keep = w[bad[k].word];
        w[bad[k].word] = bad[k].value;
        reseal(w, n);
        CHECKF(read_words(w, n) == 1, "taken: %s", bad[k].what);
        w[bad[k].word] = keep;
        reseal(w, n);
    }
    CHECK(read_words(w, n) == 0);
    /* a standard deviation that is not one: taken, but as unknown */
    static const double not_sd[] = {-1.0, INFINITY, NAN};
    for (size_t k = 0; k < sizeof(not_sd) / sizeof(not_sd[0]); k++) {
        uint64_t keep = w[5];
        memcpy(&w[5], &not_sd[k], sizeof(double));
        reseal(w, n);
        CHECK(bsamples_from_payload(text, len, w, n * 8, &back) == 0);
        CHECKF(isnan(back.stddev[0]) && !isnan(back.stddev[1]), "stddev %g read as %g", not_sd[k],
               back.stddev[0]);
        bsamples_free(&back);
        w[5] = keep;
        reseal(w, n);
    }
    /* "b"'s empty array: on its brackets, in the text, but too short to
     * hold the number cJSON's text would put there */
    const char *empty = strstr(text, "[]");
    uint64_t one[7] = {w[0], 1, (uint64_t)(empty - text), (uint64_t)(empty - text) + 1, 0, 0, 0};
    reseal(one, 7);
    CHECK(read_words(one, 7) == 1);
    /* cut short, a length not of words, a place not aligned */
    CHECK(bsamples_from_payload(text, len, w, (n - 1) * 8, &back) == 1);
    CHECK(bsamples_from_payload(text, len, w, n * 8 - 3, &back) == 1);
    char *odd = malloc(n * 8 + 1);
    memcpy(odd + 1, w, n * 8);
    CHECK(bsamples_from_payload(text, len, odd + 1, n * 8, &back) == 1);
    free(odd);
    CHECK(bsamples_from_payload(text, len, w, 0, &back) == 1);

    /* samples the parse must sort: not cached */
    char unsorted[sizeof(text)];
    memcpy(unsorted, text, sizeof(text));
    memcpy(strstr(unsorted, "-1.5,0"), "0,-1.5", 6);
    struct bsamples u;
    CHECK(bsamples_extract(unsorted, len, &u) == 0);
    struct sbuf q;
    sbuf_init(&q);
    CHECK(bsamples_payload(&u, &q) == -1);
    bsamples_free(&u);
    sbuf_free(&q);

    free(w);
    sbuf_free(&p);
    bsamples_free(&parsed);
    return tl_done();
}
