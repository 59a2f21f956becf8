/*
 * lib/jnum.h: the counts and times read back from JSON any program could
 * have written. What a uint64_t or a %.3f time cannot hold is refused and
 * leaves the value as it was; what it can is taken as it is.
 */
#include "lib/jnum.h"
#include "testlib.h"

#include <stdlib.h>

/* The first value of a JSON array text. */
static cJSON *first(cJSON *arr)
{
    return cJSON_GetArrayItem(arr, 0);
}

int main(void)
{
    static const struct {
        const char *json;
        bool count, time;
        double value;
    } cases[] = {
        {"[0]", true, true, 0},
        {"[42]", true, true, 42},
        {"[1733356800.125]", true, true, 1733356800.125},
        {"[99999999999]", true, true, 99999999999.0},
        {"[1e11]", true, false, 1e11},
        {"[18446744073709549568]", true, false, 18446744073709549568.0}, /* 2^64 - 2048 */
        {"[18446744073709551616]", false, false, 0},                     /* 2^64 */
        {"[1e300]", false, false, 0},
        {"[1e3088]", false, false, 0}, /* cJSON reads an infinity */
        {"[-1]", false, false, 0},
        {"[\"5\"]", false, false, 0},
        {"[null]", false, false, 0},
        {"[true]", false, false, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cJSON *arr = cJSON_Parse(cases[i].json);
        CHECKF(arr != NULL, "%s parses", cases[i].json);
        uint64_t n = 7;
        double t = 7;
        bool c = jnum_count(first(arr), &n), m = jnum_time(first(arr), &t);
        CHECKF(c == cases[i].count, "%s: count %d", cases[i].json, c);
        CHECKF(m == cases[i].time, "%s: time %d", cases[i].json, m);
        CHECKF(c ? n == (uint64_t)cases[i].value : n == 7, "%s: count value", cases[i].json);
        CHECKF(m ? t == cases[i].value : t == 7, "%s: time value", cases[i].json);
        CHECKF(jnum_count_or0(first(arr)) == (c ? n : 0), "%s: count or 0", cases[i].json);
        CHECKF(jnum_time_or0(first(arr)) == (m ? t : 0), "%s: time or 0", cases[i].json);
        cJSON_Delete(arr);
    }
    CHECK(!jnum_count(NULL, &(uint64_t){0}) && !jnum_time(NULL, &(double){0}));
    return tl_done();
}
