#include "agent/value.h"

#include "stats/numparse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* pandas.read_csv's default na_values (pandas 1.5 / 2.x), with lengths,
 * shortest first: a lookup stops at the first longer than the text. */
#define NA(x)                                                                                      \
    {                                                                                              \
        x, sizeof(x) - 1                                                                           \
    }
static const struct {
    const char *s;
    size_t len;
} na_tokens_list[] = {
    NA("NA"),   NA("#NA"),    NA("N/A"),     NA("NaN"),     NA("n/a"),      NA("nan"),
    NA("#N/A"), NA("-NaN"),   NA("-nan"),    NA("<NA>"),    NA("NULL"),     NA("None"),
    NA("null"), NA("1.#IND"), NA("-1.#IND"), NA("1.#QNAN"), NA("#N/A N/A"), NA("-1.#QNAN"),
};
#undef NA

bool value_is_na_token(const char *s, size_t len)
{
    if (len == 0)
        return true;
    /* every NA string is at most 8 bytes and starts with one of these
     * (a switch: one jump, where strchr was a call) */
    if (len > 8)
        return false;
    switch (s[0]) {
    case '#':
    case '-':
    case '1':
    case '<':
    case 'N':
    case 'n':
        break;
    default:
        return false;
    }
    for (size_t i = 0; i < sizeof(na_tokens_list) / sizeof(na_tokens_list[0]); i++) {
        if (na_tokens_list[i].len > len)
            break;
        if (na_tokens_list[i].len == len && memcmp(na_tokens_list[i].s, s, len) == 0)
            return true;
    }
    return false;
}

/* Case-insensitive match of s[0..len) against a lower-case word. */
static bool word_is(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

enum value_class value_parse(const char *s, size_t len, bool na_tokens, double *out)
{
    while (len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    if (len == 0)
        return VALUE_MISSING;
    /* Numbers first: no NA string is a number, and numbers are the common case. */
    double v;
    const char *end = stats_parse_number(s, s + len, &v);
    if (end == s + len) {
        if (!isfinite(v))
            return VALUE_MISSING; /* overflow to infinity is an infinity, hence missing */
        *out = v;
        return VALUE_NUMBER;
    }
    if (na_tokens && value_is_na_token(s, len))
        return VALUE_MISSING;
    size_t i = s[0] == '+' || s[0] == '-';
    if (word_is(s + i, len - i, "inf") || word_is(s + i, len - i, "infinity") ||
        word_is(s + i, len - i, "nan"))
        return VALUE_MISSING;
    return VALUE_TEXT;
}
