/*
 * Anderson-Darling k-sample test for k = 2, ported from scipy 1.10's
 * anderson_ksamp (midrank=True). The arithmetic follows scipy's operation
 * order, and its sums use numpy's pairwise summation, so the statistic is
 * normally bit-identical to scipy's; the p-value differs only by the last
 * bits of the least-squares fit.
 */
#include "stats/cvm.h"

#include "stats/pooled.h"

#include <gsl/gsl_linalg.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

/* numpy's pairwise_sum (8 accumulators, blocks of 128), which np.sum uses on a
 * contiguous float64 array; its rounding differs from a left-to-right sum. */
static double pairwise_sum(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++)
            res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        size_t i;
        for (i = 0; i < 8; i++)
            r[i] = a[i];
        for (i = 8; i < n - (n % 8); i += 8)
            for (size_t j = 0; j < 8; j++)
                r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++)
            res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

/* np.sum: the reduction visits the array in chunks of the ufunc buffer size
 * (8192) and adds each chunk's pairwise sum to an accumulator starting at 0. */
static double np_sum(const double *a, size_t n)
{
    double acc = 0.0;
    for (size_t i = 0; i < n; i += 8192)
        acc += pairwise_sum(a + i, n - i < 8192 ? n - i : 8192);
    return acc;
}

/* One distinct value's terms of eq. 7, from the values of x and y below it
 * (i0, j0) and up to it (i, j): both walks call this so that they compute
 * the same bits in the same order. */
static inline void a2akn_term(size_t i0, size_t j0, size_t i, size_t j, size_t n1, size_t n2,
                              double *tx, double *ty)
{
    double N = (double)(n1 + n2);
    size_t cx = i - i0, cy = j - j0, lj = cx + cy;
    double bj = (double)(i0 + j0) + (double)lj / 2.0;
    /* scipy's lj / float(N) and N*lj/4. */
    double w = (double)lj / N;
    double den = bj * (N - bj) - (double)((n1 + n2) * lj) / 4.0;
    double mx = (double)i - (double)cx / 2.0;
    double my = (double)j - (double)cy / 2.0;
    double dx = N * mx - bj * (double)n1;
    double dy = N * my - bj * (double)n2;
    *tx = w * (dx * dx) / den;
    *ty = w * (dy * dy) / den;
}

/* A2akN from the nd terms of each sample, summed as numpy sums them. */
static double a2akn_total(const double *inner_x, const double *inner_y, size_t nd, size_t n1,
                          size_t n2)
{
    double N = (double)(n1 + n2);
    double a2 = 0.0;
    a2 += np_sum(inner_x, nd) / (double)n1;
    a2 += np_sum(inner_y, nd) / (double)n2;
    a2 *= (N - 1.0) / N;
    return a2;
}

/* A2akN, Scholz & Stephens (1987) eq. 7, as scipy's _anderson_ksamp_midrank:
 * one merge walk over the distinct pooled values fills each sample's terms
 * (buf holds 2 (n1 + n2) doubles: x's terms, then y's from n1 + n2) in the
 * order numpy sums them; *nd_out is the number of distinct values
 * (np.unique(Z).size), the result meaningless below 2. */
static double a2akn_midrank(const double *x, size_t n1, const double *y, size_t n2, size_t *nd_out,
                            double *buf)
{
    size_t i = 0, j = 0, z = 0;
    double *inner_x = buf, *inner_y = buf + (n1 + n2);

    for (size_t i0 = 0, j0 = 0; stats_tie_step(x, n1, y, n2, &i, &j); i0 = i, j0 = j) {
        a2akn_term(i0, j0, i, j, n1, n2, &inner_x[z], &inner_y[z]);
        z++;
    }
    size_t nd = z;
    *nd_out = nd;
    return a2akn_total(inner_x, inner_y, nd, n1, n2);
}

/* a2akn_midrank from the pooled table: the same terms in the same order. */
static double a2akn_pooled(const struct stats_pooled *pl, double *buf)
{
    size_t n1 = pl->n1, n2 = pl->n2, i = 0, j = 0;
    double *inner_x = buf, *inner_y = buf + (n1 + n2);

    for (size_t z = 0; z < pl->nd; z++) {
        size_t i0 = i, j0 = j;
        i += pl->cx[z];
        j += pl->cy[z];
        a2akn_term(i0, j0, i, j, n1, n2, &inner_x[z], &inner_y[z]);
    }
    size_t nd = pl->nd;
    return a2akn_total(inner_x, inner_y, nd, n1, n2);
}

/* np.polyfit(x, y, 2) for 7 points: numpy scales the Vandermonde columns to
 * unit norm before its least-squares solve, and so do we (Householder QR
 * instead of LAPACK's SVD; the two agree to a few ulps on this 7x3 system). */
static int polyfit2(const double *x, const double *y, double coef[3])
{
    double a[7 * 3], tau[3], b[7], res[7], c[3], scale[3] = {0.0, 0.0, 0.0};

    for (size_t i = 0; i < 7; i++) {
        a[3 * i] = x[i] * x[i];
        a[3 * i + 1] = x[i];
        a[3 * i + 2] = 1.0;
        b[i] = y[i];
    }
    for (size_t col = 0; col < 3; col++) {
        for (size_t i = 0; i < 7; i++)
            scale[col] += a[3 * i + col] * a[3 * i + col];
        scale[col] = sqrt(scale[col]);
        for (size_t i = 0; i < 7; i++)
            a[3 * i + col] /= scale[col];
    }
    gsl_matrix_view av = gsl_matrix_view_array(a, 7, 3);
    gsl_vector_view tv = gsl_vector_view_array(tau, 3);
    gsl_vector_view bv = gsl_vector_view_array(b, 7);
    gsl_vector_view rv = gsl_vector_view_array(res, 7);
    gsl_vector_view cv = gsl_vector_view_array(c, 3);
    if (gsl_linalg_QR_decomp(&av.matrix, &tv.vector) != 0 ||
        gsl_linalg_QR_lssolve(&av.matrix, &tv.vector, &bv.vector, &cv.vector, &rv.vector) != 0)
        return -1;
    for (size_t col = 0; col < 3; col++)
        coef[col] = c[col] / scale[col];
    return 0;
}

/* The last computed harmonic sums: every feature of an evaluation has the
 * same N, and they cost two divisions per pooled value. */
static pthread_mutex_t hs_lock = PTHREAD_MUTEX_INITIALIZER;
static size_t hs_n;
static double hs_h, hs_g;

/* scipy's h and g sums for N = n >= 4: hs_cs = cumsum(1 / [N-1, ..., 2]),
 * h = hs_cs[-1] + 1, g = sum(hs_cs / [2, ..., N-1]), using buf (n - 2
 * doubles) unless the last call had the same n. */
static void harmonic_sums(size_t n, double *buf, double *h, double *g)
{
    pthread_mutex_lock(&hs_lock);
    bool hit = hs_n == n;
    *h = hs_h;
    *g = hs_g;
    pthread_mutex_unlock(&hs_lock);
    if (hit)
        return;
    double *hs = buf;
    for (size_t i = 0; i < n - 2; i++)
        hs[i] = (i > 0 ? hs[i - 1] : 0.0) + 1.0 / (double)(n - 1 - i);
    *h = hs[n - 3] + 1;
    for (size_t i = 0; i < n - 2; i++)
        hs[i] /= (double)(i + 2);
    *g = np_sum(hs, n - 2);
    pthread_mutex_lock(&hs_lock);
    hs_n = n;
    hs_h = *h;
    hs_g = *g;
    pthread_mutex_unlock(&hs_lock);
}

/* The standardised statistic and its p-value from A2akN of samples of
 * sizes n1 and n2 (n1 + n2 >= 4); buf holds n1 + n2 doubles to spare. */
static int anderson_finish(double a2kn, size_t n1, size_t n2, double *buf, double *a2, double *p)
{
    /* Scholz & Stephens, Table 2: critical values are b0 + b1/sqrt(m) + b2/m. */
    static const double b0[7] = {0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085};
    static const double b1[7] = {-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615};
    static const double b2[7] = {-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154};
    static const double sig[7] = {0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001};
    const double k = 2.0, m = 1.0;
    size_t n = n1 + n2;

    /* Scholz & Stephens eq. 4 variance. */
    double H = 0.0;
    H += 1.0 / (double)n1;
    H += 1.0 / (double)n2;
    double h, g;
    harmonic_sums(n, buf, &h, &g);

    double a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
    double b = (2 * g - 4) * (k * k) + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
    double c = (6 * h + 2 * g - 2) * (k * k) + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
    double d = (2 * h + 6) * (k * k) - 4 * h * k;
    /* Python raises N to a power exactly, then rounds once to double. */
    unsigned __int128 nn = n;
    double dn = (double)n;
    double sigmasq = (a * (double)(nn * nn * nn) + b * (double)(nn * nn) + c * dn + d) /
                     ((dn - 1.0) * (dn - 2.0) * (dn - 3.0));
    /* math.sqrt raises on a negative argument. */
    if (sigmasq < 0)
        return -1;
    *a2 = (a2kn - m) / sqrt(sigmasq);

    double crit[7], logsig[7], cmin = INFINITY, cmax = -INFINITY;
    for (size_t i = 0; i < 7; i++) {
        crit[i] = b0[i] + b1[i] / sqrt(m) + b2[i] / m;
        logsig[i] = log(sig[i]);
        cmin = fmin(cmin, crit[i]);
        cmax = fmax(cmax, crit[i]);
    }
    if (*a2 < cmin) {
        *p = 0.25;
    } else if (*a2 > cmax) {
        *p = 0.001;
    } else {
        /* Interpolate the log significance level quadratically, as scipy. */
        double pf[3];
        if (polyfit2(crit, logsig, pf) != 0) {
            *a2 = NAN;
            return -1;
        }
        double v = 0.0;
        for (size_t i = 0; i < 3; i++)
            v = v * *a2 + pf[i];
        *p = exp(v);
    }
    return 0;
}

/* Anderson-Darling k-sample test for k = 2, scipy's anderson_ksamp
 * (midrank=True) after Scholz & Stephens (1987) eq. 7 and Table 2. */
int stats_anderson_2samp(const double *x, size_t n1, const double *y, size_t n2, double *a2,
                         double *p)
{
    *a2 = NAN;
    *p = NAN;
    if (n1 == 0 || n2 == 0)
        return -1;
    size_t n = n1 + n2, nd;
    /* scipy raises below 2 distinct values; with N = 2 its harmonic sums are
     * empty (IndexError) and with N = 3 sigma^2 divides by N - 3 (NaN). */
    if (n < 4)
        return -1;
    double *buf = malloc(2 * n * sizeof(*buf));
    if (buf == NULL)
        return -1;
    double a2kn = a2akn_midrank(x, n1, y, n2, &nd, buf);
    int rc = nd < 2 ? -1 : anderson_finish(a2kn, n1, n2, buf, a2, p);
    free(buf);
    return rc;
}

/* stats_anderson_2samp from the pooled table: the same terms in the same order. */
int stats_anderson_2samp_pooled(const struct stats_pooled *pl, double *a2, double *p)
{
    *a2 = NAN;
    *p = NAN;
    size_t n = pl->n1 + pl->n2;
    if (pl->n1 == 0 || pl->n2 == 0 || n < 4)
        return -1;
    double *buf = malloc(2 * n * sizeof(*buf));
    if (buf == NULL)
        return -1;
    double a2kn = a2akn_pooled(pl, buf);
    int rc = pl->nd < 2 ? -1 : anderson_finish(a2kn, pl->n1, pl->n2, buf, a2, p);
    free(buf);
    return rc;
}
