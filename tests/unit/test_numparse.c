/*
 * stats_parse_number against glibc's strtod, bit for bit, with the end it
 * returns: random numbers of the shape its eight-digits-at-a-time path
 * takes ([+-]d{1,7}(.d{1,7})?), of the shapes next to it (eight digits, an
 * exponent, a second dot, no digit after the dot, leading zeros), each
 * followed by a byte that ends a number and enough bytes that the path
 * runs, and again at the very end of the buffer where it must not.
 */
#include "stats/numparse.h"
#include "testlib.h"

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

/* Append n random digits to p. */
static char *digits(char *p, int n, uint64_t *s)
{
    for (int i = 0; i < n; i++)
        *p++ = (char)('0' + next_u64(s) % 10);
    return p;
}

/* Write a number of a random shape at buf; returns its length. */
static size_t number(char *buf, uint64_t *s)
{
    char *p = buf;
    int shape = (int)(next_u64(s) % 10);
    if (next_u64(s) % 3 == 0)
        *p++ = next_u64(s) % 4 ? '-' : '+';
    p = digits(p, 1 + (int)(next_u64(s) % (shape == 1 ? 12 : 7)), s);
    if (shape != 2) {
        *p++ = '.';
        p = digits(p, shape == 3 ? 0 : 1 + (int)(next_u64(s) % (shape == 4 ? 12 : 7)), s);
    }
    if (shape == 5) {
        *p++ = next_u64(s) % 2 ? 'e' : 'E';
        if (next_u64(s) % 2)
            *p++ = '-';
        p = digits(p, 1 + (int)(next_u64(s) % 3), s);
    }
    return (size_t)(p - buf);
}

/* Compare stats_parse_number on buf[0, len) (the number ends at nlen) with
 * strtod on the same number. */
static void compare(const char *buf, size_t len, size_t nlen)
{
    char copy[64];
    memcpy(copy, buf, nlen);
    copy[nlen] = '\0';
    char *want_end;
    double want = strtod(copy, &want_end);
    double got = 0;
    const char *end = stats_parse_number(buf, buf + len, &got);
    CHECKF(end != NULL && (size_t)(end - buf) == (size_t)(want_end - copy) &&
               memcmp(&got, &want, sizeof(got)) == 0,
           "\"%s\": got %a ending at %td, strtod %a ending at %td", copy, got, end ? end - buf : -1,
           want, want_end - copy);
}

int main(void)
{
    static const char stops[] = ",] \n\r\t}x";
    uint64_t s = 15;
    char buf[128];
    for (int i = 0; i < 200000; i++) {
        size_t n = number(buf, &s);
        buf[n] = stops[next_u64(&s) % (sizeof(stops) - 1)];
        /* a second dot right after a number is its end too */
        if (i % 50 == 0)
            buf[n] = '.';
        memset(buf + n + 1, '7', 40);
        /* strtod would read on through the digits after an 'x' or a dot */
        if (buf[n] == '.')
            continue;
        compare(buf, n + 41, n);
        /* at the end of the buffer: fewer than 16 bytes to read */
        compare(buf, n, n);
    }
    /* a few by hand, with room after them */
    static const char *const cases[] = {"0.5",      "-0",      "-0.0",      "1234567.7654321",
                                        "9999999",  "0000001", "0.0000001", "+3.25",
                                        "12345678", "1.",      "1e5",       "7.5E-3"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = strlen(cases[i]);
        memcpy(buf, cases[i], n);
        memset(buf + n, ',', 40);
        compare(buf, n + 40, n);
    }
    return tl_done();
}
