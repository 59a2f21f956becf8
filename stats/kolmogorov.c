/*
 * Kolmogorov-Smirnov distributions and the two-sample KS test, ported from
 * scipy 1.10 so that driftd's p-values are scipy's:
 *   - kstwo (scipy/stats/_ksstats.py: _kolmogn and its helpers), which needs
 *     scipy.special.smirnov (scipy/special/cephes/kolmogorov.c, with the
 *     double-double helpers of scipy/special/cephes/dd_real*.h);
 *   - ks_2samp (scipy/stats/_stats_py.py) and its exact two-sided
 *     probabilities (_compute_prob_outside_square, and the pythran-compiled
 *     _compute_outer_prob_inside_method of scipy/stats/_stats_pythran.py).
 * Where scipy computes in plain IEEE doubles the port repeats the same
 * operations in the same order, because some decisions (an exact
 * probability of 1.0000000000000002 sends scipy to the asymptotic
 * distribution) depend on the last bit. Where numpy evaluates exp/log/pow
 * with its own SIMD kernels the results may differ from libm in the last
 * place; those never feed a branch decision in practice.
 * Smirnov's one-sided distribution, with its double-double arithmetic, is
 * in smirnov.c.
 */
#include "stats/kolmogorov.h"
#include "stats/pooled.h"
#include "stats/smirnov.h"
#include "stats/vec2.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ks_2samp's MAX_AUTO_N: method='auto' is exact up to this sample size. */
#define KS_MAX_AUTO_N 10000

/* _ksstats.py scales intermediate results by 2^+-128 (numpy longdouble). */
#define KS_E128 128
#define KS_EP128 0x1p128
#define KS_EM128 0x1p-128

/* numpy's values of the _ksstats.py module constants (identical to libm's). */
#define KS_SQRT2PI 0x1.40d931ff62705p+1    /* np.sqrt(2 * np.pi) */
#define KS_LOG_2PI 0x1.d67f1c864beb4p+0    /* np.log(2 * np.pi) */
#define KS_SQRT3 0x1.bb67ae8584caap+0      /* np.sqrt(3) */
#define KS_PI_SQUARED 0x1.3bd3cc9be45dep+3 /* np.pi ** 2 */
#define KS_PI_FOUR 0x1.85a2e8c290824p+6    /* np.pi ** 4 */
#define KS_PI_SIX 0x1.e0b1d11856df6p+9     /* np.pi ** 6 */
#define KS_MIN_LOG (-708)

/* np.clip(p, 0, 1), which lets NAN through so a failed computation shows. */
static double clip01(double p)
{
    if (p < 0.0)
        return 0.0;
    if (p > 1.0)
        return 1.0;
    return p;
}

/* Which build of smirnov.c runs: -1 not yet asked, 0 Dekker's, 1 FMA's. */
static int smirnov_use_fma = -1;

/* Does the CPU have FMA (and the OS its AVX state)? */
static int cpu_has_fma(void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("fma") ? 1 : 0;
#else
    return 0;
#endif
}

int stats_kolmogorov_fma(int mode)
{
    int have = cpu_has_fma();
    int use = mode == 0 ? 0 : have;
    __atomic_store_n(&smirnov_use_fma, use, __ATOMIC_RELAXED);
    return use;
}

/* scipy.special.smirnov(n, x) by the build the CPU runs fastest; both give
 * the same bits. */
static double smirnov_sf(int n, double x)
{
    int use = __atomic_load_n(&smirnov_use_fma, __ATOMIC_RELAXED);
    if (use < 0) {
        use = cpu_has_fma();
        __atomic_store_n(&smirnov_use_fma, use, __ATOMIC_RELAXED);
    }
    return use ? stats_smirnov_sf_fma(n, x) : stats_smirnov_sf_plain(n, x);
}

/* ------------------------------------------------------------------------ */
/* Kolmogorov's two-sided distribution for finite n: scipy.stats.kstwo      */
/* ------------------------------------------------------------------------ */

/*
 * numpy promotes a float64 scalar to longdouble when _ksstats.py rescales it
 * by _EP128/_EM128 (numpy longdouble scalars); every later step of that
 * computation, including scipy's 1.0 - p, then runs in x87 extended
 * precision. A wide_t records whether that happened.
 */
typedef struct {
    long double v;
    int wide;
} wide_t;

/* 1 - p in the precision numpy would use. */
static double wide_one_minus(wide_t p)
{
    if (p.wide)
        return (double)(1.0L - p.v);
    return 1.0 - (double)p.v;
}

/* np.clip(p, 0, 1) in the precision numpy would use. */
static wide_t wide_clip(wide_t p)
{
    if (p.v < 0)
        p.v = 0;
    else if (p.v > 1)
        p.v = 1;
    return p;
}

/* C = A * B for m x m row-major matrices, each entry summed in index order
 * from zero as the reference BLAS dgemm behind numpy's matmul does. */
static void matmul(const double *a, const double *b, double *c, size_t m)
{
    for (size_t i = 0; i < m; i++) {
        double *ci = c + i * m;
        for (size_t j = 0; j < m; j++)
            ci[j] = 0.0;
        for (size_t l = 0; l < m; l++) {
            double t = a[i * m + l];
            const double *bl = b + l * m;
            for (size_t j = 0; j < m; j++)
                ci[j] = ci[j] + t * bl[j];
        }
    }
}

/* Pr(D_n <= d) by Durbin's (1968) matrix algorithm with the scaling of
 * Marsaglia, Tsang & Wang (2003) (scipy _kolmogn_DMTW); returns the clipped
 * CDF, or NAN when memory runs out. */
static wide_t kolmogn_dmtw(int n, double d)
{
    wide_t res = {0.0L, 0};
    double nd, h, fac, tt;
    int k, m;
    size_t ms; /* m as an index type */
    double *hm, *hpwr, *tmp, *v, *w;

    if (d >= 1.0) {
        res.v = 1.0L;
        return res;
    }
    nd = n * d;
    if (nd <= 0.5)
        return res;
    k = (int)ceil(nd);
    h = k - nd;
    m = 2 * k - 1;
    ms = (size_t)m;

    hm = calloc(ms * ms, sizeof(double));
    hpwr = calloc(ms * ms, sizeof(double));
    tmp = calloc(ms * ms, sizeof(double));
    v = calloc(ms, sizeof(double));
    w = calloc(ms, sizeof(double));
    if (hm == NULL || hpwr == NULL || tmp == NULL || v == NULL || w == NULL) {
        res.v = NAN;
        goto out;
    }

    /* First column v[j] = (1 - h^(j+1)) / (j+1)!, w[j] = 1/j!. */
    fac = 1.0;
    for (int j = 1; j <= m; j++) {
        v[j - 1] = 1.0 - pow(h, j);
        w[j - 1] = fac;
        fac /= j; /* may underflow, harmlessly */
        v[j - 1] *= fac;
    }
    tt = pow(fmax(2 * h - 1.0, 0), m) - 2 * pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;

    /* Columns 1.. hold w shifted down; v is the first column and, reversed,
     * the last row. */
    for (size_t i = 1; i < ms; i++)
        for (size_t r = i - 1; r < ms; r++)
            hm[r * ms + i] = w[r - (i - 1)];
    for (size_t r = 0; r < ms; r++)
        hm[r * ms] = v[r];
    for (size_t c = 0; c < ms; c++)
        hm[(ms - 1) * ms + c] = v[ms - 1 - c];

    for (size_t r = 0; r < ms; r++)
        hpwr[r * ms + r] = 1.0;

    {
        int nn = n;
        long expnt = 0;  /* scaling of hpwr */
        long hexpnt = 0; /* scaling of hm */
        size_t kk = (size_t)(k - 1) * ms + (size_t)(k - 1);
        double pd;
        long double pl = 0.0L;
        int wide = 0;

        while (nn > 0) {
            double *sw;
            if (nn % 2) {
                matmul(hpwr, hm, tmp, ms);
                sw = hpwr;
                hpwr = tmp;
                tmp = sw;
                expnt += hexpnt;
            }
            matmul(hm, hm, tmp, ms);
            sw = hm;
            hm = tmp;
            tmp = sw;
            hexpnt *= 2;
            if (fabs(hm[kk]) > KS_EP128) {
                for (size_t e = 0; e < ms * ms; e++)
                    hm[e] /= KS_EP128;
                hexpnt += KS_E128;
            }
            nn /= 2;
        }

        /* Multiply by n!/n^n, rescaling so the product does not underflow. */
        pd = hpwr[kk];
        for (int i = 1; i <= n; i++) {
            if (!wide) {
                pd = i * pd / n;
                if (fabs(pd) < KS_EM128) {
                    pl = (long double)pd * (long double)KS_EP128;
                    wide = 1;
                    expnt -= KS_E128;
                }
            } else {
                pl = (long double)i * pl / n;
                if (fabsl(pl) < (long double)KS_EM128) {
                    pl *= (long double)KS_EP128;
                    expnt -= KS_E128;
                }
            }
        }
        if (wide) {
            if (expnt != 0)
                pl = ldexpl(pl, (int)expnt);
            res.v = pl;
        } else {
            if (expnt != 0)
                pd = ldexp(pd, (int)expnt);
            res.v = pd;
        }
        res.wide = wide;
    }
    res = wide_clip(res);

out:
    free(hm);
    free(hpwr);
    free(tmp);
    free(v);
    free(w);
    return res;
}

/* Interval of non-zero entries of row i of Pomeranz's recursion (scipy
 * _pomeranz_compute_j1j2). */
static void pomeranz_j1j2(int i, int n, int ll, int ceil_f, int round_f, int *j1, int *j2)
{
    int a, b;

    if (i == 0) {
        a = -ll - ceil_f - 1;
        b = ll + ceil_f - 1;
    } else {
        int ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2;
        if (ip1mod2 == 0) {
            if (ip1div2 == n + 1) {
                a = n - ll - ceil_f - 1;
                b = n + ll + ceil_f - 1;
            } else {
                a = ip1div2 - 1 - ll - round_f - 1;
                b = ip1div2 + ll - 1 + ceil_f - 1;
            }
        } else {
            a = ip1div2 - 1 - ll - 1;
            b = ip1div2 + ll + round_f - 1;
        }
    }
    *j1 = (a + 2 > 0) ? a + 2 : 0;
    *j2 = (b < n) ? b : n;
}

/* Python's slice bounds: negative start/stop count from the end and both
 * are clamped to [0, len]. */
static void py_slice(long len, long start, long stop, long *s, long *e)
{
    if (start < 0)
        start += len;
    if (stop < 0)
        stop += len;
    if (start < 0)
        start = 0;
    if (start > len)
        start = len;
    if (stop < 0)
        stop = 0;
    if (stop > len)
        stop = len;
    if (stop < start)
        stop = start;
    *s = start;
    *e = stop;
}

/* Pr(D_n <= x) by Pomeranz's (1974) recursion (scipy _kolmogn_Pomeranz);
 * returns the clipped CDF, or NAN when memory runs out or numpy would raise. */
static wide_t kolmogn_pomeranz(int n, double x)
{
    wide_t res = {NAN, 0};
    double t = n * x;
    int ll = (int)floor(t);
    double f = 1.0 * (t - ll);
    double g = fmin(f, 1.0 - f);
    int ceil_f = (f > 0) ? 1 : 0;
    int round_f = (f > 0.5) ? 1 : 0;
    int npwrs = 2 * (ll + 1);
    double *buf = calloc((size_t)npwrs * 5, sizeof(double));
    double *conv = malloc(sizeof(double) * (size_t)(2 * npwrs));
    double *gpower, *twogpower, *onem2gpower, *v0, *v1;
    double g_over_n = g / n, two_g_over_n = 2 * g / n, one_minus_two_g_over_n = (1 - 2 * g) / n;
    long expnt = 0;
    int v0s = 0, v1s = 0, j1, j2;

    if (buf == NULL || conv == NULL)
        goto fail;
    gpower = buf;
    twogpower = buf + npwrs;
    onem2gpower = buf + 2 * npwrs;
    v0 = buf + 3 * npwrs;
    v1 = buf + 4 * npwrs;

    /* (g/n)^m/m! etc.: Poisson probabilities without the normalising factor. */
    gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
    for (int m = 1; m < npwrs; m++) {
        gpower[m] = gpower[m - 1] * g_over_n / m;
        twogpower[m] = twogpower[m - 1] * two_g_over_n / m;
        onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / m;
    }

    v1[0] = 1;
    pomeranz_j1j2(0, n, ll, ceil_f, round_f, &j1, &j2);
    for (int i = 1; i < 2 * n + 2; i++) {
        int k1 = j1, ln2, sw;
        const double *pwrs;
        double *swp;

        swp = v0;
        v0 = v1;
        v1 = swp;
        sw = v0s;
        v0s = v1s;
        v1s = sw;
        for (int e = 0; e < npwrs; e++)
            v1[e] = 0.0;
        pomeranz_j1j2(i, n, ll, ceil_f, round_f, &j1, &j2);
        if (i == 1 || i == 2 * n + 1)
            pwrs = gpower;
        else
            pwrs = (i % 2) ? twogpower : onem2gpower;
        ln2 = j2 - k1 + 1;
        if (ln2 > 0) {
            long as, ae, bs, be, na, nb, nconv, cs, ce, conv_len;
            const double *a, *b;
            double vmax;

            /* np.convolve(V0[k1 - V0s:k1 - V0s + ln2], pwrs[:ln2]): numpy
             * correlates the longer array with the reversed shorter one, and
             * each output is a dot product summed in index order. */
            py_slice(npwrs, k1 - v0s, k1 - v0s + ln2, &as, &ae);
            py_slice(npwrs, 0, ln2, &bs, &be);
            a = v0 + as;
            na = ae - as;
            b = pwrs + bs;
            nb = be - bs;
            if (na == 0 || nb == 0)
                goto fail; /* numpy raises ValueError */
            if (nb > na) {
                const double *tp = a;
                long tn = na;
                a = b;
                na = nb;
                b = tp;
                nb = tn;
            }
            nconv = na + nb - 1;
            for (long c = 0; c < nconv; c++) {
                long lo = (c - (nb - 1) > 0) ? c - (nb - 1) : 0;
                long hi = (c < na - 1) ? c : na - 1;
                double s = 0.0;
                for (long q = lo; q <= hi; q++)
                    s += a[q] * b[c - q];
                conv[c] = s;
            }
            conv_len = j2 - j1 + 1;
            py_slice(nconv, j1 - k1, j1 - k1 + conv_len, &cs, &ce);
            if (conv_len < 0 || conv_len > npwrs || ce - cs != conv_len)
                goto fail; /* numpy raises on the shape mismatch */
            for (long c = 0; c < conv_len; c++)
                v1[c] = conv[cs + c];
            /* Rescale to avoid underflow. */
            vmax = v1[0];
            for (int e = 1; e < npwrs; e++)
                if (v1[e] > vmax)
                    vmax = v1[e];
            if (0 < vmax && vmax < KS_EM128) {
                for (int e = 0; e < npwrs; e++)
                    v1[e] *= KS_EP128;
                expnt -= KS_E128;
            }
            v1s = v0s + j1 - k1;
        }
    }

    {
        /* Multiply by n!, rescaling so the product does not overflow. */
        long idx = n - v1s;
        double ad;
        long double al = 0.0L;
        int wide = 0;

        if (idx < 0)
            idx += npwrs;
        if (idx < 0 || idx >= npwrs)
            goto fail; /* numpy raises IndexError */
        ad = v1[idx];
        for (int m = 1; m <= n; m++) {
            if (!wide) {
                if (fabs(ad) > KS_EP128) {
                    al = (long double)ad * (long double)KS_EM128;
                    wide = 1;
                    expnt += KS_E128;
                    al *= m;
                } else {
                    ad *= m;
                }
            } else {
                if (fabsl(al) > (long double)KS_EP128) {
                    al *= (long double)KS_EM128;
                    expnt += KS_E128;
                }
                al *= m;
            }
        }
        if (wide) {
            if (expnt != 0)
                al = ldexpl(al, (int)expnt);
            res.v = al;
        } else {
            if (expnt != 0)
                ad = ldexp(ad, (int)expnt);
            res.v = ad;
        }
        res.wide = wide;
        res = wide_clip(res);
    }
    free(conv);
    free(buf);
    return res;

fail:
    free(conv);
    free(buf);
    res.v = NAN;
    res.wide = 0;
    return res;
}

/* numpy's pairwise summation of a float64 array (np.sum / np.add.reduce),
 * which unrolls 8 partial sums for more than 7 terms. */
static double np_pairwise_sum(const double *a, long n)
{
    if (n < 8) {
        double res = 0.;
        for (long i = 0; i < n; i++)
            res += a[i];
        return res;
    } else if (n <= 128) {
        double r[8], res;
        long i;
        for (int j = 0; j < 8; j++)
            r[j] = a[j];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++)
                r[j] += a[i + j];
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    } else {
        long n2 = n / 2;
        n2 -= n2 % 8;
        return np_pairwise_sum(a, n2) + np_pairwise_sum(a + n2, n - n2);
    }
}

/* Pelz & Good's (1976) small-x series for Pr(D_n <= x), from the
 * Li-Chien/Korolyuk expansion transformed by Jacobi's theta identity
 * (scipy _kolmogn_PelzGood with cdf=True; unclipped). */
static double kolmogn_pelz_good(int n, double x)
{
    double z, zsquared, zthree, zfour, zsix, qlog, q;
    double k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d;
    double k0to3[4] = {0, 0, 0, 0};
    double sqrt3z, k2extra, k3extra, ksum;
    double terms2[64], terms3[64];
    int maxk;

    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;

    z = sqrt((double)n) * x;
    zsquared = pow(z, 2);
    zthree = pow(z, 3);
    zfour = pow(z, 4);
    zsix = pow(z, 6);

    qlog = -KS_PI_SQUARED / 8 / zsquared;
    if (qlog < KS_MIN_LOG) /* z ~ 0.0417 */
        return 0.0;
    q = exp(qlog);

    k1a = -zsquared;
    k1b = KS_PI_SQUARED / 4;
    k2a = 6 * zsix + 2 * zfour;
    k2b = (2 * zfour - 5 * zsquared) * KS_PI_SQUARED / 4;
    k2c = KS_PI_FOUR * (1 - 2 * zsquared) / 16;
    k3d = KS_PI_SIX * (5 - 30 * zsquared) / 64;
    k3c = KS_PI_FOUR * (-60 * zsquared + 212 * zfour) / 16;
    k3b = KS_PI_SQUARED * (135 * zfour - 96 * zsix) / 4;
    k3a = -30 * zsix - 90 * pow(z, 8);

    /* Horner scheme for sum c_i q^(i^2) over odd i. */
    maxk = (int)ceil(16 * z / M_PI);
    if (maxk > 64)
        return NAN; /* only reached for x far outside Pelz-Good's region */
    for (int k = maxk; k > 0; k--) {
        double m = 2 * k - 1;
        double msquared = m * m, mfour = msquared * msquared, msix = mfour * msquared;
        double qpower = pow(q, 8 * k);
        double coeffs[4] = {1.0, k1a + k1b * msquared, k2a + k2b * msquared + k2c * mfour,
                            k3a + k3b * msquared + k3c * mfour + k3d * msix};
        for (int i = 0; i < 4; i++) {
            k0to3[i] *= qpower;
            k0to3[i] += coeffs[i];
        }
    }
    for (int i = 0; i < 4; i++) {
        k0to3[i] *= q;
        k0to3[i] *= KS_SQRT2PI;
    }
    k0to3[0] /= z;
    k0to3[1] /= 6 * zfour;
    k0to3[2] /= 72 * pow(z, 7);
    k0to3[3] /= 6480 * pow(z, 10);

    /* The remaining sums over all integers k, summed directly. */
    q = exp(-KS_PI_SQUARED / 2 / zsquared);
    sqrt3z = KS_SQRT3 * z;
    for (int i = 0; i < maxk; i++) {
        double kk = maxk - i;
        double ksquared = kk * kk;
        double kspi = M_PI * kk;
        double qpwers = pow(q, ksquared);
        terms2[i] = ksquared * qpwers;
        terms3[i] = (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qpwers;
    }
    k2extra = np_pairwise_sum(terms2, maxk);
    k2extra *= KS_PI_SQUARED * KS_SQRT2PI / (-36 * zthree);
    k0to3[2] += k2extra;
    k3extra = np_pairwise_sum(terms3, maxk);
    k3extra *= KS_PI_SQUARED * KS_SQRT2PI / (216 * zsix);
    k0to3[3] += k3extra;
    for (int i = 1; i < 4; i++)
        k0to3[i] /= pow(n * 1.0, i / 2.0);

    ksum = 0;
    for (int i = 0; i < 4; i++)
        ksum += k0to3[i];
    return ksum;
}

/* log(n!/n^n) by Stirling's series with n log n removed up front (scipy
 * _log_nfactorial_div_n_pow_n). */
static double log_nfactorial_div_n_pow_n(int n)
{
    static const double stirling[8] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                       -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                       -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                       -2.7777777777777777778e-3, 8.3333333333333333333e-2};
    double rn = 1.0 / n;
    double x = rn / n, y = 0.0;

    for (int i = 0; i < 8; i++)
        y = y * x + stirling[i];
    return log((double)n) / 2 - n + KS_LOG_2PI / 2 + rn * y;
}

/* Pr(D_n <= x) (cdf) or Pr(D_n > x) (!cdf) for integer n >= 1, choosing the
 * method by the regions of Simard & L'Ecuyer (2011) as scipy's _kolmogn does:
 * Ruben-Gambino closed forms near the ends, Smirnov's one-sided formula for
 * x >= 1/2 and the upper tail, Durbin/MTW for small n x^2, Pomeranz for
 * n <= 140, Pelz-Good otherwise. */
static double kolmogn(int n, double x, int cdf)
{
    double t, nxsquared, prob;
    wide_t w;

    if (x >= 1.0)
        return cdf ? 1.0 : 0.0;
    if (x <= 0.0)
        return cdf ? 0.0 : 1.0;
    t = n * x;
    if (t <= 1.0) { /* Ruben-Gambino: 1/2n <= x <= 1/n */
        if (t <= 0.5)
            return cdf ? 0.0 : 1.0;
        if (n <= 140) {
            double base = 2 * t - 1, r = 1.0 / n;
            prob = 1.0;
            for (int i = 1; i <= n; i++)
                prob *= ((double)i * r) * base;
        } else {
            prob = exp(log_nfactorial_div_n_pow_n(n) + n * log(2 * t - 1));
        }
        return clip01(cdf ? prob : 1.0 - prob);
    }
    if (t >= n - 1) { /* Ruben-Gambino */
        prob = 2 * pow(1.0 - x, n);
        return clip01(cdf ? 1 - prob : prob);
    }
    if (x >= 0.5) { /* exact: 2 * smirnov */
        prob = 2 * smirnov_sf(n, x);
        return clip01(cdf ? 1.0 - prob : prob);
    }

    nxsquared = t * x;
    if (n <= 140) {
        if (nxsquared <= 0.754693)
            w = kolmogn_dmtw(n, x);
        else if (nxsquared <= 4)
            w = kolmogn_pomeranz(n, x);
        else {
            /* Miller's approximation, 2 * smirnov */
            prob = 2 * smirnov_sf(n, x);
            return clip01(cdf ? 1.0 - prob : prob);
        }
        if (cdf)
            return (double)wide_clip(w).v;
        return clip01(wide_one_minus(w));
    }

    /* The CDF and SF have different cut-offs on n x^2. */
    if (!cdf) {
        if (nxsquared >= 370.0)
            return 0.0;
        if (nxsquared >= 2.2)
            return clip01(2 * smirnov_sf(n, x));
    }
    if (nxsquared >= 18.0) {
        w.v = 1.0L;
        w.wide = 0;
    } else if (n <= 100000 && n * pow(x, 1.5) <= 1.4) {
        w = kolmogn_dmtw(n, x);
    } else {
        w.v = kolmogn_pelz_good(n, x);
        w.wide = 0;
    }
    if (cdf)
        return (double)wide_clip(w).v;
    return clip01(wide_one_minus(w));
}

/* kstwo's argument checks (scipy rv_continuous.sf/cdf with kstwo_gen's
 * _argcheck and support (0.5/n, 1)); returns 0 and the integer n when the
 * core must be evaluated, or 1 with *out set. */
static int kstwo_prepare(double d, double n, int sf, int *ni, double *out)
{
    double a;

    if (isnan(d) || isnan(n) || !(n >= 1) || n != round(n) || isinf(n) || n > INT_MAX) {
        *out = NAN;
        return 1;
    }
    a = 0.5 / n;
    if (d <= a) {
        *out = sf ? 1.0 : 0.0;
        return 1;
    }
    if (d >= 1.0) {
        *out = sf ? 0.0 : 1.0;
        return 1;
    }
    *ni = (int)n;
    return 0;
}

/* scipy.stats.kstwo.sf(d, n): Simard & L'Ecuyer's (2011) dispatch. */
double stats_kstwo_sf(double d, double n)
{
    int ni;
    double out;

    if (kstwo_prepare(d, n, 1, &ni, &out))
        return out;
    return kolmogn(ni, d, 0);
}

/* scipy.stats.kstwo.cdf(d, n), whose cut-offs differ from the sf's for n > 140. */
double stats_kstwo_cdf(double d, double n)
{
    int ni;
    double out;

    if (kstwo_prepare(d, n, 0, &ni, &out))
        return out;
    return kolmogn(ni, d, 1);
}

/* ------------------------------------------------------------------------ */
/* Two-sample test                                                          */
/* ------------------------------------------------------------------------ */

/* Pr(D_{n,n} >= h/n): Gnedenko-Korolyuk's alternating binomial sum
 * 2 sum_k (-1)^(k+1) C(2n, n-kh)/C(2n, n) nested Horner-style to avoid
 * cancellation (scipy _compute_prob_outside_square, in Python floats). */
static double prob_outside_square(long n, long h)
{
    double p = 0.0;
    long k = (long)floor((double)n / (double)h);

    while (k >= 0) {
        double p1 = 1.0;
        for (long j = 0; j < h; j++)
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        p = p1 * (1.0 - p);
        k -= 1;
    }
    return 2 * p;
}

/* Columns of the lattice processed together by outer_prob_inside, two at a
 * time in a GCC vector of two doubles (SSE2 on x86-64). */
#define KS_LANES 32

/* Proportion of lattice paths from (0,0) to (m,n) that leave the band
 * |x/m - y/n| < h/lcm(m,n): Hodges' (1958) inside method rewritten by
 * Viehmann (2021, arXiv:2102.08037) to carry 1 - p in one sliding column
 * (scipy _compute_outer_prob_inside_method); NAN when memory runs out.
 *
 * Every entry is scipy's (A[j]*i + val*j)/(i + j) on the same operands, so
 * the result is bit-identical, but the evaluation order differs for speed:
 * scipy walks one column at a time, a chain of dependent divisions. Here
 * KS_LANES consecutive columns advance together along a skewed wavefront
 * (column i0+c works on row s-c at step s), so each step is KS_LANES
 * independent divisions. Stretches where a whole step and the previous
 * column are exact zeros, which stay zero, are skipped; for large D they
 * are most of the lattice. Rows at or above a column's window read as 1.0,
 * the value scipy's array holds there.
 */
static double outer_prob_inside(long m, long n, long g, long h)
{
    long mg, ng, lena, z0, z1;
    long *lo = NULL, *hi = NULL;
    double *col = NULL;
    double res = NAN;

    if (m < n) {
        long t = m;
        m = n;
        n = t;
    }
    mg = m / g;
    ng = n / g;

    /* Each column's window [lo, hi) of rows inside the band, as scipy's
     * minj/maxj; scipy returns 1.0 at the first empty window. */
    lo = malloc(sizeof(long) * (size_t)(m + 1));
    hi = malloc(sizeof(long) * (size_t)(m + 1));
    col = malloc(sizeof(double) * (size_t)(n + 1));
    if (lo == NULL || hi == NULL || col == NULL)
        goto out;
    lo[0] = 0;
    hi[0] = (long)ceil((double)h / (double)mg);
    if (hi[0] > n + 1)
        hi[0] = n + 1;
    lena = 2 * hi[0] + 2;
    if (lena > n + 1)
        lena = n + 1;
    for (long i = 1; i <= m; i++) {
        lo[i] = (long)floor((double)(ng * i - h) / (double)mg) + 1;
        if (lo[i] < 0)
            lo[i] = 0;
        if (lo[i] > n)
            lo[i] = n;
        hi[i] = (long)ceil((double)(ng * i + h) / (double)mg);
        if (hi[i] > n + 1)
            hi[i] = n + 1;
        if (hi[i] <= lo[i]) {
            res = 1.0;
            goto out;
        }
        if (hi[i] - lo[i - 1] > lena)
            goto out; /* scipy would index past its array */
    }

    /* Column 0: zeros inside the window. [z0, z1) is the longest run of
     * exact zeros in the current column. */
    for (long j = 0; j < hi[0]; j++)
        col[j] = 0.0;
    z0 = 0;
    z1 = hi[0];

    for (long i0 = 1; i0 <= m; i0 += KS_LANES) {
        int nl = (m - i0 + 1 < KS_LANES) ? (int)(m - i0 + 1) : KS_LANES;
        /* bufs[k][0] holds the previous column's value at the current row,
         * bufs[k][1 + c] lane c's value at its previous row. */
        double bufs[2][KS_LANES + 1], di[KS_LANES], dc[KS_LANES];
        double *prv = bufs[0], *cur = bufs[1];
        long prevhi = hi[i0 - 1], lastlo = lo[i0 + nl - 1], lasthi = hi[i0 + nl - 1];
        long send = lasthi + nl - 1, stay = LONG_MAX, sa = 0;
        long rs = -1, bz0 = 0, bz1 = 0;

        for (int c = 0; c < KS_LANES; c++) {
            /* Lanes past the last column just shadow the first one. */
            long ic = (c < nl) ? i0 + c : i0;
            di[c] = (double)ic;
            dc[c] = (double)c;
            /* scipy's val before the first row: 0 on the axis, else 1. */
            prv[1 + c] = (lo[ic] != 0) ? 1.0 : 0.0;
            if (c < nl && hi[ic] + c < stay)
                stay = hi[ic] + c;
            if (c < nl && lo[ic] + c > sa)
                sa = lo[ic] + c;
        }

        for (long s = lo[i0]; s < send; s++) {
            double ds = (double)s;
            long jl = s - (nl - 1);
            int allzero;

            prv[0] = (s < prevhi) ? col[s] : 1.0;
            if (s >= sa && s < stay) {
                /* Every lane inside its window: plain arithmetic, which the
                 * compiler vectorises. */
                stats_v2d vs = {ds, ds};
                for (int c = 0; c < KS_LANES; c += 2) {
                    stats_v2d p, v, vi, vc, vj, q;
                    memcpy(&p, prv + c, sizeof(p));
                    memcpy(&v, prv + 1 + c, sizeof(v));
                    memcpy(&vi, di + c, sizeof(vi));
                    memcpy(&vc, dc + c, sizeof(vc));
                    vj = vs - vc;
                    q = (p * vi + v * vj) / (vi + vj);
                    memcpy(cur + 1 + c, &q, sizeof(q));
                }
            } else {
                for (int c = 0; c < KS_LANES; c++) {
                    long ic = (c < nl) ? i0 + c : i0, j = s - c;
                    if (j < lo[ic])
                        cur[1 + c] = (lo[ic] != 0) ? 1.0 : 0.0;
                    else if (j >= hi[ic])
                        cur[1 + c] = 1.0;
                    else
                        cur[1 + c] = (prv[c] * di[c] + prv[1 + c] * (double)j) / (double)(ic + j);
                }
            }
            if (jl >= lastlo && jl < lasthi) {
                double v = cur[nl];
                col[jl] = v;
                if (v == 0.0) {
                    if (rs < 0)
                        rs = jl;
                } else if (rs >= 0) {
                    if (jl - rs > bz1 - bz0) {
                        bz0 = rs;
                        bz1 = jl;
                    }
                    rs = -1;
                }
            }

            /* Skip ahead while every lane stays zero: all lanes inside their
             * windows and zero now, and the previous column zero ahead. */
            allzero = (cur[1] == 0.0 && cur[nl] == 0.0 && s >= sa && s + 1 < stay && s + 1 >= z0 &&
                       s + 1 < z1);
            for (int c = 0; allzero && c < nl; c++)
                allzero = (cur[1 + c] == 0.0);
            if (allzero) {
                long t = (z1 < stay) ? z1 : stay;
                for (long j = s + 1 - (nl - 1); j < t - (nl - 1); j++) {
                    col[j] = 0.0;
                    if (rs < 0)
                        rs = j;
                }
                s = t - 1;
            }
            {
                double *sw = prv;
                prv = cur;
                cur = sw;
            }
        }
        if (rs >= 0 && lasthi - rs > bz1 - bz0) {
            bz0 = rs;
            bz1 = lasthi;
        }
        z0 = bz0;
        z1 = bz1;
    }
    res = col[hi[m] - 1];

out:
    free(lo);
    free(hi);
    free(col);
    return res;
}

/* Euclid's greatest common divisor (math.gcd in ks_2samp). */
static size_t gcd_size(size_t a, size_t b)
{
    while (b != 0) {
        size_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* scipy _attempt_exact_2kssamp, two-sided: Gnedenko-Korolyuk for n1 == n2,
 * Hodges/Viehmann otherwise, after rounding d to the lattice h/lcm. */
int stats_ks2_exact(double *d, size_t n1, size_t n2, double *p)
{
    size_t g;
    double lcm, hd, prob;
    long h;

    *p = NAN;
    if (n1 == 0 || n2 == 0 || n1 > LONG_MAX / 2 || n2 > LONG_MAX / 2 || isnan(*d) || *d < 0.0 ||
        *d > 1.0)
        return -1;
    g = gcd_size(n1, n2);
    lcm = (double)((n1 / g) * n2);
    /* scipy: h = int(np.round(d * lcm)); d = h * 1.0 / lcm */
    hd = rint(*d * lcm);
    h = (long)hd;
    *d = hd / lcm;
    if (h == 0) {
        *p = 1.0;
        return 0;
    }
    if (n1 == n2)
        prob = prob_outside_square((long)n1, h);
    else
        prob = outer_prob_inside((long)n1, (long)n2, (long)g, h);
    /* scipy falls back to the asymptotic distribution when the exact value
     * is not a probability: NAN, or rounding pushing it just past 1. Its
     * FloatingPointError/OverflowError handlers never fire on this path
     * (Python floats and pythran ignore np.errstate). */
    if (!(0 <= prob && prob <= 1))
        return -1;
    *p = prob;
    return 0;
}

/* The statistic from the largest and smallest cdf1 - cdf2. */
static double ks_pick(double maxs, double mins)
{
    mins = -mins;
    if (mins < 0)
        mins = 0; /* np.clip(-cddiffs[argminS], 0, 1) */
    return (mins > maxs) ? mins : maxs;
}

/* The two-sample statistic on sorted samples by one merge walk: at every
 * distinct pooled value both ECDFs step past all tied values at once, as
 * scipy's searchsorted(side='right') does; max(cdf1 - cdf2) and
 * max(cdf2 - cdf1) are kept apart to pick the same value scipy does. */
static double ks_statistic(const double *x, size_t n1, const double *y, size_t n2)
{
    size_t i = 0, j = 0;
    double dn1 = (double)n1, dn2 = (double)n2;
    double maxs = -INFINITY, mins = INFINITY;

    while (i < n1 || j < n2) {
        double v, diff;
        if (j >= n2 || (i < n1 && x[i] <= y[j]))
            v = x[i];
        else
            v = y[j];
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        diff = (double)i / dn1 - (double)j / dn2;
        if (diff > maxs)
            maxs = diff;
        if (diff < mins)
            mins = diff;
    }
    return ks_pick(maxs, mins);
}

/* ks_statistic from the pooled table: the same quotients in the same order. */
static double ks_statistic_pooled(const struct stats_pooled *pl)
{
    size_t i = 0, j = 0;
    double dn1 = (double)pl->n1, dn2 = (double)pl->n2;
    double maxs = -INFINITY, mins = INFINITY;

    for (size_t k = 0; k < pl->nd; k++) {
        i += pl->cx[k];
        j += pl->cy[k];
        double diff = pl->diff != NULL ? pl->diff[k] : (double)i / dn1 - (double)j / dn2;
        if (diff > maxs)
            maxs = diff;
        if (diff < mins)
            mins = diff;
    }
    return ks_pick(maxs, mins);
}

/* The p-value of statistic stat for sizes n1 and n2, scipy's method='auto'. */
static int ks_finish(double stat, size_t n1, size_t n2, double *d, double *p)
{
    double prob = NAN;
    int exact = (n1 > n2 ? n1 : n2) <= KS_MAX_AUTO_N;
    if (exact && stats_ks2_exact(&stat, n1, n2, &prob) != 0)
        exact = 0; /* stat keeps scipy's lattice rounding */
    if (!exact) {
        /* Smirnov's asymptotic: the finite-n one-sample distribution at the
         * effective size m n / (m + n), rounded half to even. */
        double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1);
        double en = m * n / (m + n);
        prob = stats_kstwo_sf(stat, rint(en));
    }
    *d = stat;
    *p = clip01(prob);
    return 0;
}

/* scipy ks_2samp(x, y, alternative='two-sided', method='auto'). */
int stats_ks_2samp(const double *x, size_t n1, const double *y, size_t n2, double *d, double *p)
{
    if (n1 == 0 || n2 == 0) {
        *d = NAN;
        *p = NAN;
        return -1;
    }
    return ks_finish(ks_statistic(x, n1, y, n2), n1, n2, d, p);
}

/* stats_ks_2samp from the pooled table instead of a walk of its own. */
int stats_ks_2samp_pooled(const struct stats_pooled *pl, double *d, double *p)
{
    if (pl->n1 == 0 || pl->n2 == 0) {
        *d = NAN;
        *p = NAN;
        return -1;
    }
    return ks_finish(ks_statistic_pooled(pl), pl->n1, pl->n2, d, p);
}
