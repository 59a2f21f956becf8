#include "stats/numparse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static const uint64_t pow10_int[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};

/* Eight bytes at p, the first in the lowest byte. */
static inline uint64_t load8(const char *p)
{
    uint64_t x;
    memcpy(&x, p, sizeof(x));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    x = __builtin_bswap64(x);
#endif
    return x;
}

/* How many of the eight bytes of x (p's bytes minus '0' each) are digits,
 * from the first: a byte is a digit when x's byte is at most 9; a carry out
 * of a non-digit byte only reaches the bytes after it. */
static inline int digit_run(uint64_t x)
{
    uint64_t nd = ((x + 0x7676767676767676ULL) | x) & 0x8080808080808080ULL;
    return nd ? __builtin_ctzll(nd) / 8 : 8;
}

/* The value of the first n (1..7) digits of x (bytes 0..9), by three
 * multiply-and-mask steps on all eight lanes (Lemire's SWAR conversion)
 * after shifting the digits to the top so the lanes below read as zeros. */
static inline uint64_t digits_value(uint64_t x, int n)
{
    x <<= 8 * (8 - n);
    x = (x * 10 + (x >> 8)) & 0x00FF00FF00FF00FFULL;
    x = (x * 100 + (x >> 16)) & 0x0000FFFF0000FFFFULL;
    return (x * 10000 + (x >> 32)) & 0xFFFFFFFFULL;
}

/* The common short number, [+-]? d{1,7} (. d{1,7})? without exponent,
 * eight digits at a time; the value is the slow path's (both are the
 * exact integer mantissa divided by an exact power of ten, correctly
 * rounded). Returns its end, or NULL to let the general parser decide
 * (any other shape, or fewer than 16 bytes left to read from p). */
static inline const char *parse_short(const char *p, const char *end, int neg, double *out)
{
    if (end - p < 16)
        return NULL;
    uint64_t x = load8(p) - 0x3030303030303030ULL;
    int a = digit_run(x);
    if (a == 0 || a == 8)
        return NULL;
    uint64_t mant = digits_value(x, a);
    const char *q = p + a;
    int b = 0;
    if (*q == '.') {
        uint64_t y = load8(q + 1) - 0x3030303030303030ULL;
        b = digit_run(y);
        if (b == 0 || b == 8)
            return NULL;
        mant = mant * pow10_int[b] + digits_value(y, b);
        q += 1 + b;
    }
    if (*q == 'e' || *q == 'E' || *q == '.')
        return NULL;
    double v = (double)mant / pow10_exact[b];
    *out = neg ? -v : v;
    return q;
}

/* The same short numbers when fewer than 16 bytes are left (a CSV cell):
 * at most 15 digits with an optional fraction, no exponent, one digit at
 * a time; the value is again the exact mantissa over an exact power of
 * ten. NULL: let the general parser decide. */
static inline const char *short_cell(const char *p, const char *end, int neg, double *out)
{
    const char *q = p;
    uint64_t mant = 0;
    unsigned d;
    while (q < end && (d = (unsigned)(unsigned char)*q - '0') <= 9) {
        mant = mant * 10 + d;
        q++;
    }
    size_t a = (size_t)(q - p), b = 0;
    if (a == 0)
        return NULL;
    if (q < end && *q == '.') {
        const char *f = ++q;
        while (q < end && (d = (unsigned)(unsigned char)*q - '0') <= 9) {
            mant = mant * 10 + d;
            q++;
        }
        b = (size_t)(q - f);
    }
    if (a + b > 15 || (q < end && (*q == 'e' || *q == 'E' || *q == '.')))
        return NULL;
    double v = (double)mant / pow10_exact[b];
    *out = neg ? -v : v;
    return q;
}

const char *stats_parse_number(const char *s, const char *end, double *out)
{
    const char *p = s;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    const char *fast = end - p >= 16 ? parse_short(p, end, neg, out) : short_cell(p, end, neg, out);
    if (fast != NULL)
        return fast;
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
