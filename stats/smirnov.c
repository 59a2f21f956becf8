/*
 * Smirnov's one-sided distribution, scipy.special.smirnov (cephes
 * kolmogorov.c by van Mulbregt, with the double-double helpers of scipy's
 * dd_real*.h), for stats/kolmogorov.c's kstwo.
 *
 * The file is compiled twice: as itself (stats_smirnov_sf_plain, Dekker's
 * error-free product, any x86-64) and through smirnov_fma.c with -mfma
 * (stats_smirnov_sf_fma, the product's error from one fused multiply-add).
 * Both give the same bits: the FMA is used only where Dekker's product is
 * exact too (no overflow, no underflow of the partial products), so the two
 * compute the same error term, and everything else is the same operations
 * in the same order. stats_kstwo_sf picks one at run time by the CPU.
 *
 * The error-free transformations need IEEE double arithmetic as written:
 * no contraction into FMAs (the stats library is built with
 * -ffp-contract=off) and no reassociation (no -ffast-math).
 */
#include "stats/smirnov.h"

#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__FAST_MATH__)
#error "stats/smirnov.c needs IEEE arithmetic: build it without -ffast-math"
#endif

#ifndef KS_FMA
#define KS_FMA 0
#endif

/* cephes' MINLOG, log(2^-1075): below it exp() underflows to zero. */
#define CEPHES_MINLOG (-7.451332191019412076235E2)

/* np.clip(p, 0, 1), which lets NAN through so a failed computation shows. */
static double clip01(double p)
{
    if (p < 0.0)
        return 0.0;
    if (p > 1.0)
        return 1.0;
    return p;
}

/* ------------------------------------------------------------------------ */
/* Double-double arithmetic                                                 */
/* ------------------------------------------------------------------------ */

/* A double-double value hi + lo with |lo| <= ulp(hi)/2. */
typedef struct {
    double hi, lo;
} dd_t;

#define DD_SPLITTER 134217729.0               /* 2^27 + 1 */
#define DD_SPLIT_THRESH 6.69692879491417e+299 /* 2^996 */

static const dd_t DD_ZERO = {0.0, 0.0};
static const dd_t DD_ONE = {1.0, 0.0};

/* Error-free a + b assuming |a| >= |b| (Hida, Li & Bailey's QD library,
 * scipy's dd_idefs.h quick_two_sum). Plain doubles: with contraction off
 * and no -ffast-math the compiler keeps every rounding as written. */
static inline double quick_two_sum(double a, double b, double *err)
{
    double s = a + b;
    double c = s - a;
    *err = b - c;
    return s;
}

/* Error-free a + b (Knuth's two-sum, QD's two_sum). */
static inline double two_sum(double a, double b, double *err)
{
    double s = a + b;
    double c = s - a;
    double d = b - c;
    double e = s - c;
    *err = (a - e) + d;
    return s;
}

/* Dekker's split of a into two 26-bit halves (QD's two_split), scaled for
 * huge a so that the splitter product cannot overflow. */
static inline void two_split(double a, double *hi, double *lo)
{
    double temp, tempma;

    if (a > DD_SPLIT_THRESH || a < -DD_SPLIT_THRESH) {
        a *= 3.7252902984619140625e-09; /* 2^-28 */
        temp = DD_SPLITTER * a;
        tempma = temp - a;
        *hi = temp - tempma;
        *lo = a - *hi;
        *hi *= 268435456.0; /* 2^28 */
        *lo *= 268435456.0;
    } else {
        temp = DD_SPLITTER * a;
        tempma = temp - a;
        *hi = temp - tempma;
        *lo = a - *hi;
    }
}

/* Error-free a * b by Dekker's algorithm (QD's two_prod without FMA, as
 * scipy is built for baseline x86-64). */
static inline double two_prod_dekker(double a, double b, double *err)
{
    double a_hi, a_lo, b_hi, b_lo;
    double p = a * b;
    double c, d;

    two_split(a, &a_hi, &a_lo);
    two_split(b, &b_hi, &b_lo);
    c = a_hi * b_hi - p;
    d = c + a_hi * b_lo + a_lo * b_hi;
    *err = d + a_lo * b_lo;
    return p;
}

/* Error-free a * b: Dekker's product, or with KS_FMA the error as
 * fma(a, b, -p) where Dekker's is exact too, so both give the same bits.
 * Dekker's is exact when the split cannot overflow (|a|, |b| < 2^996),
 * both factors are normal, and the partial products stay clear of
 * underflow and overflow: ulp(a) ulp(b) > |p| 2^-106 must be at least
 * 2^-1074, hence |p| >= 2^-968, and |p| < 2^990. Elsewhere (never on the
 * sums kstwo evaluates) both builds run Dekker's. */
static inline double two_prod(double a, double b, double *err)
{
#if KS_FMA
    double p = a * b, ap = fabs(p), aa = fabs(a), ab = fabs(b);
    if (ap >= 0x1p-968 && ap < 0x1p990 && aa >= DBL_MIN && ab >= DBL_MIN && aa < DD_SPLIT_THRESH &&
        ab < DD_SPLIT_THRESH) {
        *err = fma(a, b, -p);
        return p;
    }
#endif
    return two_prod_dekker(a, b, err);
}

/* 2^e for e in [-1022, 1023], built from its bits. */
static inline double pow2i(int e)
{
    uint64_t bits = (uint64_t)(e + 1023) << 52;
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

/* ldexp(x, e) without the call: one multiplication by an exact power of
 * two rounds once, as scalbn does, so the bits are the same (subnormal
 * results included); e beyond a normal power of two goes to ldexp. */
static inline double fast_ldexp(double x, int e)
{
    if (e >= -1022 && e <= 1023)
        return x * pow2i(e);
    return ldexp(x, e);
}

/* frexp(x, e) without the call for a normal x, by rewriting its exponent
 * field; zero, subnormals, infinities and NANs go to frexp. */
static inline double fast_frexp(double x, int *e)
{
    uint64_t bits;
    memcpy(&bits, &x, sizeof(bits));
    unsigned biased = (unsigned)(bits >> 52) & 0x7ffu;
    if (biased == 0 || biased == 0x7ffu)
        return frexp(x, e);
    *e = (int)biased - 1022;
    bits = (bits & ~(UINT64_C(0x7ff) << 52)) | (UINT64_C(1022) << 52);
    memcpy(&x, &bits, sizeof(x));
    return x;
}

/* a + b of two doubles, exactly (QD's dd_add_d_d). */
static dd_t dd_add_d_d(double a, double b)
{
    dd_t r;
    r.hi = two_sum(a, b, &r.lo);
    return r;
}

/* dd + double (QD's dd_add_dd_d). */
static dd_t dd_add_dd_d(dd_t a, double b)
{
    double s1, s2;
    s1 = two_sum(a.hi, b, &s2);
    s2 += a.lo;
    s1 = quick_two_sum(s1, s2, &s2);
    return (dd_t){s1, s2};
}

/* dd - double (QD's dd_sub_dd_d). */
static dd_t dd_sub_dd_d(dd_t a, double b)
{
    double s1, s2;
    s1 = two_sum(a.hi, -b, &s2);
    s2 += a.lo;
    s1 = quick_two_sum(s1, s2, &s2);
    return (dd_t){s1, s2};
}

/* dd + dd with IEEE-style error bound (Briggs & Kahan, QD's dd_ieee_add). */
static dd_t dd_add(dd_t a, dd_t b)
{
    double s1, s2, t1, t2;
    s1 = two_sum(a.hi, b.hi, &s2);
    t1 = two_sum(a.lo, b.lo, &t2);
    s2 += t1;
    s1 = quick_two_sum(s1, s2, &s2);
    s2 += t2;
    s1 = quick_two_sum(s1, s2, &s2);
    return (dd_t){s1, s2};
}

/* dd - dd (QD's dd_sub). */
static dd_t dd_sub(dd_t a, dd_t b)
{
    return dd_add(a, (dd_t){-b.hi, -b.lo});
}

/* double * double, exactly (QD's dd_mul_d_d). */
static dd_t dd_mul_d_d(double a, double b)
{
    dd_t r;
    r.hi = two_prod(a, b, &r.lo);
    return r;
}

/* dd * dd (QD's dd_mul). */
static dd_t dd_mul(dd_t a, dd_t b)
{
    double p1, p2;
    p1 = two_prod(a.hi, b.hi, &p2);
    p2 += (a.hi * b.lo + a.lo * b.hi);
    p1 = quick_two_sum(p1, p2, &p2);
    return (dd_t){p1, p2};
}

/* dd * double (QD's dd_mul_dd_d). */
static dd_t dd_mul_dd_d(dd_t a, double b)
{
    double p1, p2, e1, e2;
    p1 = two_prod(a.hi, b, &e1);
    p2 = two_prod(a.lo, b, &e2);
    p1 = quick_two_sum(p1, e2 + p2 + e1, &e1);
    return (dd_t){p1, e1};
}

/* dd / dd with three quotient digits (QD's dd_accurate_div). */
static dd_t dd_div(dd_t a, dd_t b)
{
    double q1, q2, q3;
    dd_t r;

    q1 = a.hi / b.hi;
    r = dd_sub(a, dd_mul_dd_d(b, q1));
    q2 = r.hi / b.hi;
    r = dd_sub(r, dd_mul_dd_d(b, q2));
    q3 = r.hi / b.hi;
    q1 = quick_two_sum(q1, q2, &q2);
    return dd_add_dd_d((dd_t){q1, q2}, q3);
}

/* double / double in double-double precision (QD's dd_div_d_d). */
static dd_t dd_div_d_d(double a, double b)
{
    return dd_div((dd_t){a, 0.0}, (dd_t){b, 0.0});
}

/* floor of a double-double (QD's dd_floor). */
static dd_t dd_floor(dd_t a)
{
    double hi = floor(a.hi);
    double lo = 0.0;

    if (hi == a.hi) {
        lo = floor(a.lo);
        hi = quick_two_sum(hi, lo, &lo);
    }
    return (dd_t){hi, lo};
}

/* a * 2^expt (QD's dd_ldexp). */
static dd_t dd_ldexp(dd_t a, int expt)
{
    return (dd_t){fast_ldexp(a.hi, expt), fast_ldexp(a.lo, expt)};
}

/* Mantissa in [0.5, 1) and exponent of a double-double (scipy's dd_frexp):
 * |hi| may be 1 - tiny when lo has the opposite sign of a power-of-2 hi. */
static dd_t dd_frexp(dd_t a, int *expt)
{
    int exponent;
    double man = fast_frexp(a.hi, &exponent);
    double b1 = fast_ldexp(a.lo, -exponent);

    if (fabs(man) == 0.5 && man * b1 < 0) {
        man *= 2;
        b1 *= 2;
        exponent -= 1;
    }
    *expt = exponent;
    return (dd_t){man, b1};
}

/* ------------------------------------------------------------------------ */
/* Smirnov's one-sided distribution: scipy.special.smirnov                  */
/* ------------------------------------------------------------------------ */

/* cephes kolmogorov.c: n above this uses an asymptotic formula. */
#define SMIRNOV_MAX_COMPUTE_N 1000000
/* Use the upper sum when it has at most this many terms and n is at least. */
#define SM_UPPER_MAX_TERMS 3
#define SM_UPPERSUM_MIN_N 10
/* Keep exponents of scaled powers below 1023 - 52 so both halves stay normal. */
#define SM_MAX_EXPONENT 960

/* The power of two at or above |x| (cephes kolmogorov.c nextPowerOf2). */
static double next_power_of_2(double x)
{
    double q = ldexp(x, 1 - DBL_MANT_DIG);
    double l = fabs(q + x);

    if (l == 0) {
        l = fabs(x);
    } else {
        int lint = (int)l;
        if (lint == l)
            l = lint;
    }
    return l;
}

/* floor(n*x) and its fractional part computed exactly in double-double
 * (van Mulbregt 2018, arXiv:1802.06966; cephes kolmogorov.c modNX). */
static double mod_nx(int n, double x, int *nxfloor_out, double *nx_out)
{
    dd_t nxd = dd_mul_d_d(n, x);
    dd_t nxfloord = dd_floor(nxd);
    dd_t alphad = dd_sub(nxd, nxfloord);
    double alpha = alphad.hi;
    int nxfloor = (int)nxfloord.hi;

    if (alpha == 1) {
        nxfloor += 1;
        alpha = 0;
    }
    *nx_out = nxd.hi;
    *nxfloor_out = nxfloor;
    return alpha;
}

/* Next binomial coefficient C(n, j+1) from C(n, j), kept as a double-double
 * mantissa in [0.5, 1) and a separate exponent because it overflows a double
 * (cephes kolmogorov.c updateBinomial). */
static void update_binomial(dd_t *cman, int *cexpt, int n, int j)
{
    int expt;
    dd_t rat = dd_div_d_d(n - j, j + 1.0);
    dd_t man2 = dd_mul(*cman, rat);

    man2 = dd_frexp(man2, &expt);
    *cexpt += expt;
    *cman = man2;
}

/* a^m for a double-double a, trading accuracy for speed with libm pow and a
 * first-order correction for the low word (cephes kolmogorov.c pow_D). */
static dd_t pow_dd(dd_t a, int m)
{
    double ans, r, adj;

    if (m <= 0) {
        if (m == 0)
            return DD_ONE;
        return dd_div(DD_ONE, pow_dd(a, -m));
    }
    if (a.hi == 0.0)
        return DD_ZERO;
    ans = pow(a.hi, m);
    r = a.lo / a.hi;
    adj = m * r;
    if (fabs(adj) > 1e-8) {
        if (fabs(adj) < 1e-4) {
            /* First two terms of the Taylor series of (1+r)^m. */
            adj += (m * r) * ((m - 1) / 2.0 * r);
        } else {
            adj = expm1(m * log1p(r));
        }
    }
    return dd_add_d_d(ans, ans * adj);
}

/* (a+b)^m rounded to double (cephes kolmogorov.c pow2). */
static double pow2_d(double a, double b, int m)
{
    return pow_dd(dd_add_d_d(a, b), m).hi;
}

/* a^m as mantissa * 2^exponent, splitting the power so that no intermediate
 * underflows (cephes kolmogorov.c pow2Scaled_D). */
static dd_t pow2_scaled_dd(dd_t a, int m, int *exponent)
{
    dd_t ans, y;
    int ans_e, y_e;
    int max_expt = SM_MAX_EXPONENT;
    int q, r, y2m_e, y2r_e, y2mq_e;
    dd_t y2r, y2m, y2mq;

    if (m <= 0) {
        int a_e1, a_e2;
        if (m == 0) {
            *exponent = 0;
            return DD_ONE;
        }
        ans = pow2_scaled_dd(a, -m, &a_e1);
        ans = dd_frexp(dd_div(DD_ONE, ans), &a_e2);
        *exponent = -a_e1 + a_e2;
        return ans;
    }
    y = dd_frexp(a, &y_e);
    if (m == 1) {
        *exponent = y_e;
        return y;
    }
    /* Quick check whether y^m might drop below 2^-960. */
    if (m * (y.hi - 1) / y.hi < -SM_MAX_EXPONENT * M_LN2) {
        double lg2y = log(y.hi) / M_LN2;
        double lg_ans = m * lg2y;
        if (lg_ans <= -SM_MAX_EXPONENT)
            max_expt = (int)(next_power_of_2(-SM_MAX_EXPONENT / lg2y + 1) / 2);
    }
    if (m <= max_expt) {
        dd_t ans1 = pow_dd(y, m);
        ans = dd_frexp(ans1, &ans_e);
        ans_e += m * y_e;
        *exponent = ans_e;
        return ans;
    }
    q = m / max_expt;
    r = m % max_expt;
    /* y^m = (y^max_expt)^q * y^r */
    y2r = pow2_scaled_dd(y, r, &y2r_e);
    y2m = pow2_scaled_dd(y, max_expt, &y2m_e);
    y2mq = pow2_scaled_dd(y2m, q, &y2mq_e);
    ans = dd_frexp(dd_mul(y2r, y2mq), &ans_e);
    y2mq_e += y2m_e * q;
    ans_e += y2mq_e + y2r_e;
    ans_e += m * y_e;
    *exponent = ans_e;
    return ans;
}

/* ((a+b)/(c+d))^m in double-double (cephes kolmogorov.c pow4_D). */
static dd_t pow4_dd(double a, double b, double c, double d, int m)
{
    dd_t A, C;

    if (m <= 0) {
        if (m == 0)
            return DD_ONE;
        return pow4_dd(c, d, a, b, -m);
    }
    A = dd_add_d_d(a, b);
    C = dd_add_d_d(c, d);
    if (A.hi == 0.0)
        return (C.hi == 0.0) ? (dd_t){NAN, NAN} : DD_ZERO;
    if (C.hi == 0.0)
        return (A.hi < 0.0) ? (dd_t){-INFINITY, -INFINITY} : (dd_t){INFINITY, INFINITY};
    return pow_dd(dd_div(A, C), m);
}

/* One term of the Birnbaum-Tingey sum, C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1)
 * (cephes kolmogorov.c computeAv). */
static dd_t smirnov_term(int n, double x, int v, dd_t cman, int cexpt)
{
    int t1_e, t2_e;
    dd_t t2x = dd_sub_dd_d(dd_div_d_d(n - v, n), x);
    dd_t t2 = pow2_scaled_dd(t2x, n - v, &t2_e);
    dd_t t1x = dd_add_dd_d(dd_div_d_d(v, n), x);
    dd_t t1 = pow2_scaled_dd(t1x, v - 1, &t1_e);
    dd_t ans = dd_mul(dd_mul(t1, t2), cman);

    return dd_ldexp(ans, cexpt + t1_e + t2_e);
}

/* Is term v of the sum certainly below 2^-1100, so that smirnov_term would
 * return exactly zero? Its computed value is cman 2^cexpt t1 t2 to a
 * relative 1e-10 and rounds to zero below 2^-1075; an upper bound of its
 * logarithm is log2 C(n,v) <= cexpt plus the powers of bases rounded up
 * past any rounding error of these doubles (1e-15 absolute is over four
 * times the worst). Past the first terms of a large n most terms are that
 * small: skipping them leaves every bit of the sum as it was. */
static bool term_negligible(int n, double x, int v, int cexpt)
{
    double t2x = (double)(n - v) / n - x + 1e-15;
    double t1x = (double)v / n + x + 1e-15;
    double l2;

    if (!(t2x > 0.0) || !(t1x > 0.0))
        return false;
    l2 = cexpt + (n - v) * log2(t2x) + (v - 1) * log2(t1x);
    return isfinite(l2) && l2 < -1100.0;
}

/* Stop once the remaining terms cannot change the sum (cephes' test after
 * adding term j), or at the first zero term past the middle. */
static inline bool sum_done(dd_t aj, dd_t aj_sum, int j, int n_terms, int vmid)
{
    if (aj.hi != 0.0)
        return (4 * (n_terms - j) * fabs(aj.hi) < DBL_EPSILON * aj_sum.hi) && (j != n_terms - 1);
    return j > vmid;
}

/* Sums of more terms than this compute them ahead in blocks of SM_BLOCK,
 * half of each block on a second thread: at n = 50,000 a sum takes some
 * 40,000 terms of about six libm pow calls each, and the last feature of
 * an evaluation left to one thread kept the other core idle. */
#define SM_PARALLEL_TERMS 8192
#define SM_BLOCK 2048

/* Terms j0 .. j0 + count - 1 of the sum, with the binomial of each. */
struct term_block {
    int n, start, step, j0, count;
    double x;
    dd_t cman[SM_BLOCK];
    int cexpt[SM_BLOCK];
    dd_t aj[SM_BLOCK];
};

/* Terms [from, to) of block t, each as the one-thread loop computes it. */
static void block_terms(struct term_block *t, int from, int to)
{
    for (int k = from; k < to; k++) {
        int v = t->start + (t->j0 + k) * t->step;
        t->aj[k] = term_negligible(t->n, t->x, v, t->cexpt[k])
                       ? DD_ZERO
                       : smirnov_term(t->n, t->x, v, t->cman[k], t->cexpt[k]);
    }
}

/* The second half of a block, on its own thread. */
static void *block_half(void *arg)
{
    struct term_block *t = arg;
    block_terms(t, t->count / 2, t->count);
    return NULL;
}

/* The loop over terms 1 .. n_terms - 1 in blocks: the binomials in order,
 * the terms of a block on two threads (each a function of its j and
 * binomial only, so the same bits), then added in order with the same
 * stopping test; terms past the stop are computed and thrown away. cman,
 * cexpt: the binomial for term 1. Returns the sum. */
static dd_t sum_in_blocks(int n, double x, int start, int step, int n_terms, int vmid, dd_t cman,
                          int cexpt, dd_t aj_sum)
{
    struct term_block *t = malloc(sizeof(*t));
    int j = 1;
    bool done = false;
    while (!done && j < n_terms) {
        int count = n_terms - j < SM_BLOCK ? n_terms - j : SM_BLOCK;
        if (t != NULL) {
            *t = (struct term_block){
                .n = n, .start = start, .step = step, .j0 = j, .count = count, .x = x};
            for (int k = 0; k < count; k++) {
                t->cman[k] = cman;
                t->cexpt[k] = cexpt;
                update_binomial(&cman, &cexpt, n, j + k);
            }
            pthread_t tid;
            bool half = pthread_create(&tid, NULL, block_half, t) == 0;
            block_terms(t, 0, half ? count / 2 : count);
            if (half)
                pthread_join(tid, NULL);
        }
        for (int k = 0; k < count; k++) {
            dd_t aj;
            if (t != NULL) {
                aj = t->aj[k];
            } else { /* no memory for a block: one term at a time */
                int v = start + (j + k) * step;
                aj = term_negligible(n, x, v, cexpt) ? DD_ZERO : smirnov_term(n, x, v, cman, cexpt);
                update_binomial(&cman, &cexpt, n, j + k);
            }
            if (isfinite(aj.hi) && aj.hi != 0.0)
                aj_sum = dd_add(aj_sum, aj);
            if (sum_done(aj, aj_sum, j + k, n_terms, vmid)) {
                done = true;
                break;
            }
        }
        j += count;
    }
    free(t);
    return aj_sum;
}

/* Survival function of Smirnov's one-sided D_n^+: scipy.special.smirnov(n, x),
 * the Smirnov (1944) / Birnbaum-Tingey (1951) sum as evaluated by
 * van Mulbregt (2018, arXiv:1802.06966) in cephes kolmogorov.c _smirnov. */
#if KS_FMA
double stats_smirnov_sf_fma(int n, double x)
#else
double stats_smirnov_sf_plain(int n, double x)
#endif
{
    double nx, alpha, sf;
    int nxfl, n1mxfl, n1mxceil, use_upper;

    if (isnan(x) || !(n > 0 && x >= 0.0 && x <= 1.0))
        return NAN;
    if (n == 1)
        return 1 - x;
    if (x == 0.0)
        return 1.0;
    if (x == 1.0)
        return 0.0;

    alpha = mod_nx(n, x, &nxfl, &nx);
    n1mxfl = n - nxfl - (alpha == 0 ? 0 : 1);
    n1mxceil = n - nxfl;
    /* With alpha == 0 the last term belongs to neither sum. */
    if (alpha == 0) {
        n1mxfl -= 1;
        n1mxceil += 1;
    }

    /* x <= 1/n: closed form. */
    if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {
        double t = pow2_d(1, x, n - 1);
        return 1 - x * t;
    }
    /* The survival function underflows. */
    if (-2 * n * x * x < CEPHES_MINLOG)
        return 0.0;
    /* x >= 1 - 1/n: closed form. */
    if (nxfl >= n - 1)
        return pow2_d(1, -x, n);
    /* Too many terms: p ~ exp(-(6nx+1)^2 / 18n). */
    if (n > SMIRNOV_MAX_COMPUTE_N) {
        double logp = -pow(6.0 * n * x + 1, 2) / 18.0 / n;
        if (logp < -M_LN2)
            return exp(logp);
        return 1 - (-expm1(logp));
    }
    {
        /* The alternating upper sum loses ~1.6 bits per term: use it only
         * when it is short and x small. */
        int n_upper_terms = n - n1mxceil + 1;
        use_upper = (n_upper_terms <= 1 && x < 0.5);
        use_upper = (use_upper || ((n >= SM_UPPERSUM_MIN_N) &&
                                   (n_upper_terms <= SM_UPPER_MAX_TERMS) && (x <= 0.5 / sqrt(n))));
    }
    {
        int start = 0, step = 1, n_terms = n1mxfl + 1;
        int vmid = n / 2;
        dd_t cman = DD_ONE;
        int cexpt = 0;
        dd_t aj, aj_sum = DD_ZERO;
        double prob;

        if (use_upper) {
            start = n;
            step = -1;
            n_terms = n - n1mxceil + 1;
            aj = pow4_dd(1, x, 1, 0, n - 1);
        } else {
            aj = dd_div(pow4_dd(1, -x, 1, 0, n), (dd_t){x, 0.0});
        }
        aj_sum = dd_add(aj_sum, aj);
        update_binomial(&cman, &cexpt, n, 0);

        if (n_terms > SM_PARALLEL_TERMS)
            aj_sum = sum_in_blocks(n, x, start, step, n_terms, vmid, cman, cexpt, aj_sum);
        else
            for (int j = 1; j < n_terms; j++) {
                int v = start + j * step;

                if (term_negligible(n, x, v, cexpt))
                    aj = DD_ZERO;
                else
                    aj = smirnov_term(n, x, v, cman, cexpt);
                if (isfinite(aj.hi) && aj.hi != 0.0)
                    aj_sum = dd_add(aj_sum, aj);
                if (sum_done(aj, aj_sum, j, n_terms, vmid))
                    break;
                update_binomial(&cman, &cexpt, n, j);
            }
        prob = dd_mul_dd_d(aj_sum, x).hi;
        sf = (step < 0) ? 1 - prob : prob;
    }
    return clip01(sf);
}
