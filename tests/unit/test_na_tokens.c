/*
 * value_is_na_token (agent/value.c) against pandas.read_csv's default
 * na_values, listed here on their own: each is an NA string, and so is the
 * empty text; each cut short, grown by a byte, or with one byte changed is
 * one only when that text is itself on the list; case matters.
 */
#include "agent/value.h"
#include "testlib.h"

#include <stdbool.h>
#include <string.h>

/* pandas 1.5 / 2.x, pandas/_libs/parsers.pyx STR_NA_VALUES */
static const char *const pandas_na[] = {
    "-1.#IND", "1.#QNAN", "1.#IND", "-1.#QNAN", "#N/A N/A", "#N/A", "N/A", "n/a",  "NA",
    "<NA>",    "#NA",     "NULL",   "null",     "NaN",      "-NaN", "nan", "-nan", "None",
};
#define NNA (sizeof(pandas_na) / sizeof(pandas_na[0]))

/* Is s[0..len) on the list above (the empty text too)? */
static bool listed(const char *s, size_t len)
{
    if (len == 0)
        return true;
    for (size_t i = 0; i < NNA; i++)
        if (strlen(pandas_na[i]) == len && memcmp(pandas_na[i], s, len) == 0)
            return true;
    return false;
}

static void expect(const char *s, size_t len)
{
    CHECKF(value_is_na_token(s, len) == listed(s, len), "\"%.*s\": %s", (int)len, s,
           listed(s, len) ? "an NA string, not seen as one" : "seen as an NA string");
}

int main(void)
{
    expect("", 0);
    for (size_t i = 0; i < NNA; i++) {
        const char *t = pandas_na[i];
        size_t n = strlen(t);
        CHECKF(value_is_na_token(t, n), "\"%s\" is not an NA string", t);
        char buf[16];
        for (size_t cut = 0; cut < n; cut++)
            expect(t, cut); /* cut short */
        static const char extra[] = " aANn/#.-1<>";
        for (size_t e = 0; e < sizeof(extra) - 1; e++) {
            memcpy(buf, t, n); /* grown by a byte, at the end and at the start */
            buf[n] = extra[e];
            expect(buf, n + 1);
            buf[0] = extra[e];
            memcpy(buf + 1, t, n);
            expect(buf, n + 1);
        }
        for (size_t at = 0; at < n; at++)
            for (int c = 32; c < 127; c++) { /* one byte changed */
                memcpy(buf, t, n);
                buf[at] = (char)c;
                expect(buf, n);
            }
    }
    /* what the bench's categories look like, and words near the list */
    static const char *const others[] = {"no", "yes", "nA", "Na", "NONE", "none", "NAN",     "inf",
                                         "N",  "n",   "#",  "-",  "1",    "<",    "tier_02", "NA "};
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        expect(others[i], strlen(others[i]));
    return tl_done();
}
