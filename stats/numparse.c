#include "stats/numparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

const char *stats_parse_number(const char *s, const char *end, double *out)
{
    const char *p = s;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    /* Up to 19 significant digits go into mant; frac counts the digits
     * taken after the point. More digits: strtod below. */
    uint64_t mant = 0;
    int nd = 0, frac = 0, any = 0, dropped = 0;
    int dot = 0;
    for (; p < end; p++) {
        unsigned d = (unsigned)(unsigned char)*p - '0';
        if (d > 9) {
            if (*p == '.' && !dot) {
                dot = 1;
                continue;
            }
            break;
        }
        any = 1;
        if (nd < 19) {
            mant = mant * 10 + d;
            nd += mant != 0;
            frac += dot;
        } else {
            dropped = 1;
        }
    }
    if (!any)
        return NULL;
    long e10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int eneg = 0;
        if (q < end && (*q == '+' || *q == '-'))
            eneg = *q++ == '-';
        if (q >= end || *q < '0' || *q > '9')
            return NULL;
        for (; q < end && *q >= '0' && *q <= '9'; q++)
            if (e10 < 100000)
                e10 = e10 * 10 + (*q - '0');
        e10 = eneg ? -e10 : e10;
        p = q;
    }
    long e = e10 - frac;
    if (!dropped && mant < (1ULL << 53) && e >= -22 && e <= 22) {
        double v = (double)mant;
        v = e < 0 ? v / pow10_exact[-e] : v * pow10_exact[e];
        *out = neg ? -v : v;
        return p;
    }
    /* The slow path needs a NUL-terminated copy of just this number. */
    size_t len = (size_t)(p - s);
    char buf[64];
    char *copy = len < sizeof(buf) ? buf : malloc(len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    *out = strtod(copy, NULL);
    if (copy != buf)
        free(copy);
    return p;
}
