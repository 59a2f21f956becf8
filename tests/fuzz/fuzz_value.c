/*
 * libFuzzer target: value_parse (agent/value.c) against a second opinion.
 * An independent grammar says which texts are decimal numbers; for those,
 * the C library's strtod (correctly rounded in glibc) gives the value the
 * fast path must reproduce bit for bit, or an infinity that must come out
 * missing.
 */
#include "agent/value.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* [+-]? (d+ (. d*)? | . d+) ([eE] [+-]? d+)? over the whole of s[0..len). */
static bool decimal_grammar(const char *s, size_t len)
{
    size_t i = 0, d = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < len && is_digit(s[i]))
        i++, d++;
    if (i < len && s[i] == '.') {
        i++;
        while (i < len && is_digit(s[i]))
            i++, d++;
    }
    if (d == 0)
        return false;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = 0;
        while (i < len && is_digit(s[i]))
            i++, e++;
        if (e == 0)
            return false;
    }
    return i == len;
}

/* inf, infinity, nan in any case, after an optional sign. */
static bool special_word(const char *s, size_t len)
{
    static const char *const words[] = {"inf", "infinity", "nan"};
    if (len > 0 && (s[0] == '+' || s[0] == '-'))
        s++, len--;
    for (size_t w = 0; w < 3; w++) {
        size_t n = strlen(words[w]);
        if (len != n)
            continue;
        size_t k = 0;
        while (k < n && (s[k] | 0x20) == words[w][k])
            k++;
        if (k == n)
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;

    /* The trimming value.h promises, done independently. */
    size_t a = 0, b = size;
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r'))
        b--;
    const char *t = s + a;
    size_t tlen = b - a;
    bool grammar = decimal_grammar(t, tlen);
    bool na = value_is_na_token(t, tlen);
    FUZZ_CHECK(!na || tlen <= 8);

    double want = 0;
    if (grammar) {
        char *copy = malloc(tlen + 1);
        FUZZ_CHECK(copy != NULL);
        memcpy(copy, t, tlen);
        copy[tlen] = '\0';
        char *end;
        want = strtod(copy, &end);
        FUZZ_CHECK(end == copy + tlen);
        free(copy);
    }

    for (int na_tokens = 0; na_tokens < 2; na_tokens++) {
        double got = 12345.678; /* must be left alone unless a number */
        enum value_class vc = value_parse(s, size, na_tokens, &got);
        if (tlen == 0 || (na_tokens && na)) {
            FUZZ_CHECK(vc == VALUE_MISSING);
        } else if (grammar) {
            if (isfinite(want)) {
                FUZZ_CHECK(vc == VALUE_NUMBER);
                FUZZ_CHECK(memcmp(&got, &want, sizeof(got)) == 0); /* sign of zero too */
            } else {
                FUZZ_CHECK(vc == VALUE_MISSING);
            }
        } else if (special_word(t, tlen)) {
            FUZZ_CHECK(vc == VALUE_MISSING);
        } else {
            FUZZ_CHECK(vc == VALUE_TEXT);
        }
        if (vc != VALUE_NUMBER)
            FUZZ_CHECK(got == 12345.678);
    }
    return 0;
}
