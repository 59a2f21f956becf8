/*
 * Two-sample Cramer-von Mises test, ported from scipy 1.10's
 * cramervonmises_2samp (method='auto') so that T and p agree with it to the
 * last bits where the Python code is exact: the rank sums are integers in
 * quarter units, and every place where scipy divides Python integers (which
 * rounds once, correctly) is done here on exact 128-bit integers.
 */
#include "stats/cvm.h"

#include "stats/pooled.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_sf_gamma.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

/* Python's int / int true division, rounded once to nearest-even, so the
 * normalisation constants equal scipy's bit for bit (num, den > 0, < 2^120). */
static double div_exact(u128 num, u128 den)
{
    int e = 0;
    uint64_t m = 0;

    if (num == 0)
        return 0.0;
    /* Scale so that den <= num < 2*den; the quotient is then 1.xxx * 2^e. */
    while (num >= (den << 1)) {
        den <<= 1;
        e++;
    }
    while (num < den) {
        num <<= 1;
        e--;
    }
    /* 53 significant bits plus one rounding bit; the remainder is the sticky bit. */
    for (int i = 0; i < 54; i++) {
        m <<= 1;
        if (num >= den) {
            m |= 1;
            num -= den;
        }
        num <<= 1;
    }
    uint64_t mant = m >> 1;
    if ((m & 1) && (num != 0 || (mant & 1)))
        mant++;
    return ldexp((double)mant, e - 52);
}

/* Python's float // float (CPython's float_floor_div, numpy's npy_divmod): a
 * plain floor(a / b) can land one off when a / b rounds up to an integer. */
static double py_floordiv(double a, double b)
{
    double mod = fmod(a, b);
    double div = (a - mod) / b;

    if (mod != 0.0) {
        if ((b < 0) != (mod < 0))
            div -= 1.0;
    }
    if (div != 0.0) {
        double floordiv = floor(div);
        if (div - floordiv > 0.5)
            floordiv += 1.0;
        return floordiv;
    }
    return copysign(0.0, a / b);
}

/* One cell of Xiao et al.'s frequency table: distinct partial sums, ascending. */
struct gtab {
    int64_t *val;
    uint64_t *freq;
    size_t len, cap;
};

/* Make room for n entries; returns -1 when out of memory. */
static int gtab_reserve(struct gtab *g, size_t n)
{
    if (n <= g->cap)
        return 0;
    size_t cap = g->cap ? g->cap : 16;
    while (cap < n)
        cap *= 2;
    int64_t *v = realloc(g->val, cap * sizeof(*v));
    if (v == NULL)
        return -1;
    g->val = v;
    uint64_t *f = realloc(g->freq, cap * sizeof(*f));
    if (f == NULL)
        return -1;
    g->freq = f;
    g->cap = cap;
    return 0;
}

/* out = (left merged with up, equal sums pooled) shifted by d, every sum at or
 * above cap folded into one entry: sums only grow along a path, so once a
 * partial sum reaches zeta the path is counted whatever follows, and folding
 * keeps the table small without changing the final count. */
static int gtab_step(struct gtab *out, const struct gtab *left, const struct gtab *up, int64_t d,
                     int64_t cap)
{
    size_t i = 0, j = 0;

    out->len = 0;
    if (gtab_reserve(out, left->len + up->len) != 0)
        return -1;
    while (i < left->len || j < up->len) {
        int64_t v;
        uint64_t f = 0;
        if (j >= up->len || (i < left->len && left->val[i] <= up->val[j]))
            v = left->val[i];
        else
            v = up->val[j];
        if (i < left->len && left->val[i] == v)
            f += left->freq[i++];
        if (j < up->len && up->val[j] == v)
            f += up->freq[j++];
        v += d;
        if (v >= cap) {
            v = cap;
            if (out->len > 0 && out->val[out->len - 1] == cap) {
                out->freq[out->len - 1] += f;
                continue;
            }
        }
        out->val[out->len] = v;
        out->freq[out->len] = f;
        out->len++;
    }
    return 0;
}

/* Greatest common divisor, for the lattice step lcm(m, n). */
static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* Exact P(U >= s) by Xiao, Gordon & Yakovlev (2007), Algorithm 1, as scipy's
 * _pval_cvm_2samp_exact; m, n <= 20 so every count fits in 64 bits. Returns
 * NAN when out of memory. */
static double pval_cvm_exact(double s, uint64_t m, uint64_t n)
{
    uint64_t lcm = m / gcd_u64(m, n) * n;
    int64_t a = (int64_t)(lcm / m), b = (int64_t)(lcm / n);
    uint64_t mn = m * n;
    /* Same operation order as scipy: the product is exact in double, the
     * floor division then rounds once. */
    double zeta = (double)(lcm * lcm * (m + n)) * (6.0 * s - (double)(mn * (4 * mn - 1)));
    zeta = py_floordiv(zeta, (double)(6 * mn * mn));
    uint64_t comb = 1;
    for (uint64_t i = 1; i <= m; i++)
        comb = comb * (n + i) / i;
    /* Every sum is >= 0, so every path counts: scipy's comb / comb. */
    if (zeta <= 0.0)
        return 1.0;

    int64_t cap = (int64_t)zeta;
    struct gtab *gs = calloc(m + 1, sizeof(*gs));
    struct gtab scratch = {0};
    double p = NAN;
    if (gs == NULL)
        return NAN;
    if (gtab_reserve(&gs[0], 1) != 0)
        goto out;
    gs[0].val[0] = 0;
    gs[0].freq[0] = 1;
    gs[0].len = 1;
    for (uint64_t u = 0; u <= n; u++) {
        for (uint64_t v = 0; v <= m; v++) {
            static const struct gtab empty = {0};
            int64_t d = a * (int64_t)v - b * (int64_t)u;
            /* Row u, column v from row u-1 (gs[v], not yet replaced) and
             * column v-1 of row u (already replaced). */
            if (gtab_step(&scratch, v > 0 ? &gs[v - 1] : &empty, &gs[v], d * d, cap) != 0)
                goto out;
            struct gtab t = gs[v];
            gs[v] = scratch;
            scratch = t;
        }
    }
    uint64_t hits = 0;
    for (size_t i = 0; i < gs[m].len; i++)
        if ((double)gs[m].val[i] >= zeta)
            hits += gs[m].freq[i];
    p = (double)hits / (double)comb;
out:
    for (uint64_t v = 0; v <= m; v++) {
        free(gs[v].val);
        free(gs[v].freq);
    }
    free(gs);
    free(scratch.val);
    free(scratch.freq);
    return p;
}

/* Limiting CDF of the one-sample statistic, Csorgo & Faraway (1996) eq. 1.2
 * as scipy's _cdf_cvm_inf: add terms until the first one below 1e-7. */
static double cdf_cvm_inf(double x)
{
    double tot = 0.0;

    /* scipy has no bound; terms fall like exp(-k^2/x), so this is never reached
     * for a finite x and only guards against a runaway loop. */
    for (int k = 0; k < 10000000; k++) {
        gsl_sf_result lg1, lg2, kv;
        double y = 4.0 * k + 1.0;
        double q = y * y / (16.0 * x);
        double z;
        /* K_{1/4}(q) underflows past q ~ 705 (scipy's kv returns 0 there; GSL
         * would call its error handler); the term is below 1e-300 anyway. */
        if (q > 700.0 || gsl_sf_lngamma_e(k + 0.5, &lg1) != GSL_SUCCESS ||
            gsl_sf_lngamma_e(k + 1.0, &lg2) != GSL_SUCCESS ||
            gsl_sf_bessel_Knu_e(0.25, q, &kv) != GSL_SUCCESS) {
            z = 0.0;
        } else {
            double u = exp(lg1.val - lg2.val) / (pow(M_PI, 1.5) * sqrt(x));
            z = u * sqrt(y) * exp(-q) * kv.val;
        }
        tot = tot + z;
        if (!(fabs(z) >= 1e-7))
            break;
    }
    return tot;
}

/* T and p from the rank sums sx and sy (in quarter units). */
static int cvm_finish(u128 sx, u128 sy, size_t n1, size_t n2, double *t, double *p)
{
    u128 nx = n1, ny = n2, k = nx * ny, N = nx + ny;
    double u = (double)nx * ((double)sx / 4.0);
    u += (double)ny * ((double)sy / 4.0);
    *t = u / (double)(k * N) - div_exact(4 * k - 1, 6 * N);

    if (n1 <= 20 && n2 <= 20) {
        *p = pval_cvm_exact(u, n1, n2);
        return isnan(*p) ? -1 : 0;
    }
    double et = (1.0 + 1.0 / (double)N) / 6.0;
    double vt;
    /* 45 * N^2 * 4 * k stays below 2^126 while N < 2^29; past that (never in
     * driftd) fall back to rounding each step. */
    if (N < ((u128)1 << 29)) {
        vt = div_exact((N + 1) * (4 * k * N - 3 * (nx * nx + ny * ny) - 2 * k), 45 * N * N * 4 * k);
    } else {
        double dn = (double)N, dk = (double)k;
        vt = (dn + 1) *
             (4 * dk * dn - 3 * ((double)nx * (double)nx + (double)ny * (double)ny) - 2 * dk);
        vt = vt / (45 * dn * dn * 4 * dk);
    }
    double tn = 1.0 / 6.0 + (*t - et) / sqrt(45 * vt);
    /* scipy: below 0.003 the CDF is under 1.3e-18, so p is 1 outright. */
    if (tn < 0.003) {
        *p = 1.0;
    } else {
        double q = 1.0 - cdf_cvm_inf(tn);
        /* Python's max(0, q): the series overshoots 1 for large tn. */
        *p = 0 > q ? 0.0 : q;
    }
    return 0;
}

/* Add one distinct value's terms to the rank sums, from the values of x and
 * y below it (i0, j0) and up to it (i, j): (2 * (midrank - position))^2 for
 * each value at it, integers, so exact in any order. */
static inline void cvm_rank_terms(size_t i0, size_t j0, size_t i, size_t j, u128 *sx, u128 *sy)
{
    int64_t tworank = (int64_t)(2 * (i0 + j0) + (i - i0) + (j - j0) + 1);
    for (size_t r = i0; r < i; r++) {
        uint64_t d = (uint64_t)llabs(tworank - 2 * (int64_t)(r + 1));
        *sx += (u128)d * d;
    }
    for (size_t r = j0; r < j; r++) {
        uint64_t d = (uint64_t)llabs(tworank - 2 * (int64_t)(r + 1));
        *sy += (u128)d * d;
    }
}

/* Cramer-von Mises two-sample test, scipy's cramervonmises_2samp (method='auto')
 * after Anderson (1962) eqs. 9-15. */
int stats_cvm_2samp(const double *x, size_t n1, const double *y, size_t n2, double *t, double *p)
{
    size_t i = 0, j = 0;
    u128 sx = 0, sy = 0;

    *t = NAN;
    *p = NAN;
    if (n1 < 2 || n2 < 2)
        return -1;
    /* Sums of (2 * (midrank - position))^2: integers, so exact in any order. */
    for (size_t i0 = 0, j0 = 0; stats_tie_step(x, n1, y, n2, &i, &j); i0 = i, j0 = j)
        cvm_rank_terms(i0, j0, i, j, &sx, &sy);

    return cvm_finish(sx, sy, n1, n2, t, p);
}

/* stats_cvm_2samp from the pooled table: the same integer rank sums. */
int stats_cvm_2samp_pooled(const struct stats_pooled *pl, double *t, double *p)
{
    size_t n1 = pl->n1, n2 = pl->n2, i = 0, j = 0;
    u128 sx = 0, sy = 0;

    *t = NAN;
    *p = NAN;
    if (n1 < 2 || n2 < 2)
        return -1;
    for (size_t z = 0; z < pl->nd; z++) {
        size_t i0 = i, j0 = j;
        i += pl->cx[z];
        j += pl->cy[z];
        cvm_rank_terms(i0, j0, i, j, &sx, &sy);
    }
    return cvm_finish(sx, sy, n1, n2, t, p);
}
