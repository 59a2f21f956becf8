#include "agent/value.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* pandas.read_csv's default na_values (pandas 1.5 / 2.x). */
static const char *const na_tokens_list[] = {
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A",      "NA",  "NULL",    "NaN",      "None", "n/a",  "nan",    "null",
};

bool value_is_na_token(const char *s, size_t len)
{
    if (len == 0)
        return true;
    if (len > 8)
        return false;
    for (size_t i = 0; i < sizeof(na_tokens_list) / sizeof(na_tokens_list[0]); i++)
        if (strlen(na_tokens_list[i]) == len && memcmp(na_tokens_list[i], s, len) == 0)
            return true;
    return false;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

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
    if (len == 0 || (na_tokens && value_is_na_token(s, len)))
        return VALUE_MISSING;

    /* Grammar check and a fast exact path (Clinger: an integer mantissa
     * below 2^53 times an exact power of ten rounds correctly). */
    size_t i = 0;
    bool neg = false;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    if (i < len && (s[i] < '0' || s[i] > '9') && s[i] != '.') {
        const char *w = s + i;
        size_t wl = len - i;
        if (word_is(w, wl, "inf") || word_is(w, wl, "infinity") || word_is(w, wl, "nan"))
            return VALUE_MISSING;
        return VALUE_TEXT;
    }
    uint64_t mant = 0;
    int digits = 0, frac_digits = 0, dropped = 0;
    bool any = false, dot = false;
    for (; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9') {
            any = true;
            if (mant == 0 && c == '0' && !dot)
                continue;
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(c - '0');
                if (mant != 0)
                    digits++;
                if (dot)
                    frac_digits++;
            } else {
                dropped++; /* too many digits for the fast path */
                if (dot)
                    frac_digits++;
            }
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!any)
        return VALUE_TEXT;
    long exp10 = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        bool eneg = false;
        if (j < len && (s[j] == '+' || s[j] == '-'))
            eneg = s[j++] == '-';
        if (j >= len || s[j] < '0' || s[j] > '9')
            return VALUE_TEXT;
        for (; j < len && s[j] >= '0' && s[j] <= '9'; j++)
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (s[j] - '0');
        if (eneg)
            exp10 = -exp10;
        i = j;
    }
    if (i != len)
        return VALUE_TEXT;

    long e = exp10 - frac_digits;
    if (dropped == 0 && mant < (1ULL << 53) && e >= -22 && e <= 22) {
        double v = (double)mant;
        v = e < 0 ? v / pow10_exact[-e] : v * pow10_exact[e];
        *out = neg ? -v : v;
        return VALUE_NUMBER;
    }
    char buf[128];
    char *copy = len < sizeof(buf) ? buf : malloc(len + 1);
    if (copy == NULL)
        return VALUE_TEXT;
    memcpy(copy, s, len);
    copy[len] = '\0';
    double v = strtod(copy, NULL);
    if (copy != buf)
        free(copy);
    if (!isfinite(v))
        return VALUE_MISSING; /* overflow to infinity is an infinity, hence missing */
    *out = v;
    return VALUE_NUMBER;
}
