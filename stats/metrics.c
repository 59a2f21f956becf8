/*
 * Distances and binned metrics, written to give scipy 1.10's and Evidently's
 * numbers (docs/statistics.md). Sums run in the order the Python code runs them
 * where that matters for the last bits; elsewhere plain left-to-right sums
 * stay well inside the 1e-9 relative tolerance.
 */
#include "stats/metrics.h"

#include "stats/pooled.h"
#include "stats/vec2.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* stats_cdf_distances over samples with many ties: for each distinct
 * pooled value, step both samples past it (runs of a tie in tight,
 * well-predicted loops), then add its term. */
static void cdf_walk_runs(const double *x, size_t n1, const double *y, size_t n2, double *s1,
                          double *s2)
{
    size_t i = 0, j = 0;
    double v = x[0] <= y[0] ? x[0] : y[0];
    for (;;) {
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        double next;
        if (i < n1 && (j >= n2 || x[i] <= y[j]))
            next = x[i];
        else if (j < n2)
            next = y[j];
        else
            break;
        /* i/n1 - j/n2 as scipy divides, for the same last bits */
        double diff = fabs((double)i / (double)n1 - (double)j / (double)n2);
        double delta = next - v;
        *s1 += diff * delta;
        *s2 += diff * diff * delta;
        v = next;
    }
}

/* The same terms in the same order over samples of values that mostly
 * differ, one value a step as stats_pooled_init walks, without a branch:
 * not on which sample comes next (a coin toss), nor on whether the value
 * ties the last one (as often as a value in ten, for numbers written with
 * six digits). A tie's term is diff * 0 = +0, which leaves both sums as
 * they were; otherwise i and j count the values at or below last, and
 * last's term is added. */
static void cdf_walk_steps(const double *x, size_t n1, const double *y, size_t n2, double *s1,
                           double *s2)
{
    size_t i = 0, j = 0;
    const double dn1 = (double)n1, dn2 = (double)n2;
    double last = x[0] <= y[0] ? x[0] : y[0];
/* the term of the distinct value last, the next one being v; the counts
 * converted as signed (the same doubles: they are far below 2^63), which
 * spares the unsigned conversion's test and branch */
#define CDF_TERM(v)                                                                                \
    do {                                                                                           \
        double diff = fabs((double)(int64_t)i / dn1 - (double)(int64_t)j / dn2);                   \
        double delta = (v)-last;                                                                   \
        *s1 += diff * delta;                                                                       \
        *s2 += diff * diff * delta;                                                                \
        last = (v);                                                                                \
    } while (0)
    while (i < n1 && j < n2) {
        double a = x[i], b = y[j];
        size_t from_x = a <= b;
        double v = from_x ? a : b;
        CDF_TERM(v);
        i += from_x;
        j += 1 - from_x;
    }
    for (; i < n1; i++)
        CDF_TERM(x[i]);
    for (; j < n2; j++)
        CDF_TERM(y[j]);
#undef CDF_TERM
}

/* How many of the n values equal the one before them: two comparisons a
 * step as a vector of two (stats/vec2.h), not one chain of them. */
static size_t repeats(const double *x, size_t n)
{
    stats_v2i acc = {0, 0};
    size_t i = 1;
    for (; i + 2 <= n; i += 2) {
        stats_v2d cur, prev;
        memcpy(&cur, x + i, sizeof(cur));
        memcpy(&prev, x + i - 1, sizeof(prev));
        acc -= cur == prev;
    }
    size_t r = (size_t)(acc[0] + acc[1]);
    for (; i < n; i++)
        r += x[i] == x[i - 1];
    return r;
}

/* Integrate |F1 - F2| and (F1 - F2)^2 over the distinct pooled values
 * (scipy's _cdf_distance for p = 1 and p = 2). Both walks give the same
 * terms in the same order; the one taken is the faster for x's ties: by
 * steps unless half of x's values repeat the one before them (by steps
 * 0.68 ms for 100k values against 100k, whatever the ties; by runs 1.2 to
 * 1.4 ms where a value in six to eight repeats, 0.1 ms where a few values
 * repeat throughout). */
void stats_cdf_distances(const double *x, size_t n1, const double *y, size_t n2, double *w1,
                         double *e2)
{
    double s1 = 0.0, s2 = 0.0;

    *w1 = *e2 = NAN;
    if (n1 == 0 || n2 == 0)
        return;
    if (repeats(x, n1) <= n1 / 2)
        cdf_walk_steps(x, n1, y, n2, &s1, &s2);
    else
        cdf_walk_runs(x, n1, y, n2, &s1, &s2);
    *w1 = s1;
    *e2 = sqrt(2.0) * sqrt(s2);
}

/* stats_cdf_distances from the pooled table: the same terms in the same order. */
void stats_cdf_distances_pooled(const struct stats_pooled *pl, double *w1, double *e2)
{
    double s1 = 0.0, s2 = 0.0;
    size_t i = 0, j = 0;

    *w1 = *e2 = NAN;
    if (pl->n1 == 0 || pl->n2 == 0)
        return;
    for (size_t k = 0; k + 1 < pl->nd; k++) {
        i += pl->cx[k];
        j += pl->cy[k];
        double diff =
            fabs(pl->diff != NULL ? pl->diff[k]
                                  : (double)i / (double)pl->n1 - (double)j / (double)pl->n2);
        double delta = pl->v[k + 1] - pl->v[k];
        s1 += diff * delta;
        s2 += diff * diff * delta;
    }
    *w1 = s1;
    *e2 = sqrt(2.0) * sqrt(s2);
}

double stats_wasserstein(const double *x, size_t n1, const double *y, size_t n2)
{
    double w, e;
    stats_cdf_distances(x, n1, y, n2, &w, &e);
    return w;
}

double stats_energy_distance(const double *x, size_t n1, const double *y, size_t n2)
{
    double w, e;
    stats_cdf_distances(x, n1, y, n2, &w, &e);
    return e;
}

double stats_std(const double *x, size_t n)
{
    double sum = 0.0, ss = 0.0;

    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double mean = sum / (double)n;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)n);
}

/* numpy.histogram_bin_edges(bins="sturges"): width = ptp/(log2 n + 1), then
 * ceil(ptp/width) bins; the two divisions are kept as numpy does them. When
 * hi - lo overflows (numpy would then take int(NaN)), both are done on the
 * halved range: halving is exact at those magnitudes and leaves ptp/width
 * unchanged, so the count is the one numpy would find with a wider exponent.
 * A count is never taken from a NAN or an infinity. */
size_t stats_sturges_nbins(double lo, double hi, size_t n)
{
    if (n == 0 || !(hi > lo))
        return 1;
    double ptp = hi - lo;
    if (isinf(ptp))
        ptp = hi / 2 - lo / 2;
    if (!isfinite(ptp))
        return 1; /* an infinite bound: no finite range to cut */
    double width = ptp / (log2((double)n) + 1.0);
    if (width == 0.0)
        return 1;
    /* About log2 n + 1 (at most 65); a subnormal width, rounded to whole
     * ulps, can add a few, nowhere near the cap. */
    double nb = ceil(ptp / width);
    if (!(nb >= 1.0))
        return 1;
    return nb >= (double)STATS_STURGES_MAX_BINS ? STATS_STURGES_MAX_BINS : (size_t)nb;
}

/* numpy.linspace(lo, hi, nbins + 1): i*step + lo, last edge exactly hi; equal
 * bounds widen to [lo - 0.5, hi + 0.5] first, as numpy's _get_outer_edges.
 * A range wider than DBL_MAX is laid out halved and doubled back (exact, so
 * the edges are linspace's with a wider exponent); an edge that rounds past
 * a bound is clamped to it, which keeps the edges ordered. */
void stats_sturges_edges(double lo, double hi, size_t nbins, double *edges)
{
    if (lo == hi) {
        lo -= 0.5;
        hi += 0.5;
    }
    double delta = hi - lo, start = lo, scale = 1.0;
    if (isinf(delta) && isfinite(lo) && isfinite(hi)) {
        start = lo / 2;
        delta = hi / 2 - start;
        scale = 2.0;
    }
    double step = delta / (double)nbins;
    for (size_t i = 0; i <= nbins; i++) {
        double e;
        if (step == 0.0)
            e = (double)i / (double)nbins * delta + start;
        else
            e = (double)i * step + start;
        edges[i] = fmin(fmax(e * scale, lo), hi);
    }
    edges[nbins] = hi;
}

void stats_histogram(const double *sorted, size_t n, const double *edges, size_t nbins,
                     double *counts)
{
    size_t i = 0;

    /* numpy: searchsorted(edges[:-1], 'left') and searchsorted(edges[-1], 'right'). */
    while (i < n && sorted[i] < edges[0])
        i++;
    for (size_t b = 0; b < nbins; b++) {
        size_t start = i;
        if (b + 1 < nbins) {
            while (i < n && sorted[i] < edges[b + 1])
                i++;
        } else {
            while (i < n && sorted[i] <= edges[nbins])
                i++;
        }
        counts[b] = (double)(i - start);
    }
}

void stats_fill_zeros(double *p, size_t k)
{
    double min = INFINITY;

    for (size_t i = 0; i < k; i++)
        if (p[i] != 0.0 && p[i] < min)
            min = p[i];
    if (isinf(min))
        return;
    double fill = min <= 0.0001 ? min / 1e6 : 0.0001;
    for (size_t i = 0; i < k; i++)
        if (p[i] == 0.0)
            p[i] = fill;
}

double stats_psi(const double *r, const double *c, size_t k)
{
    double sum = 0.0;

    for (size_t i = 0; i < k; i++)
        sum += (r[i] - c[i]) * log(r[i] / c[i]);
    return sum;
}

/* scipy.special.rel_entr. */
static double rel_entr(double x, double y)
{
    if (isnan(x) || isnan(y))
        return NAN;
    if (x > 0 && y > 0)
        return x * log(x / y);
    if (x == 0 && y >= 0)
        return 0.0;
    return INFINITY;
}

static double sum_of(const double *p, size_t k)
{
    double s = 0.0;

    for (size_t i = 0; i < k; i++)
        s += p[i];
    return s;
}

double stats_kl_div(const double *r, const double *c, size_t k)
{
    /* scipy.stats.entropy normalises both arrays to sum 1 first. */
    double sr = sum_of(r, k), sc = sum_of(c, k), s = 0.0;

    for (size_t i = 0; i < k; i++)
        s += rel_entr(r[i] / sr, c[i] / sc);
    return s;
}

double stats_jensen_shannon(const double *r, const double *c, size_t k)
{
    double sr = sum_of(r, k), sc = sum_of(c, k), left = 0.0, right = 0.0;

    for (size_t i = 0; i < k; i++) {
        double p = r[i] / sr, q = c[i] / sc;
        double m = (p + q) / 2.0;
        left += rel_entr(p, m);
        right += rel_entr(q, m);
    }
    double js = (left + right) / 2.0;
    return sqrt(js < 0 ? 0.0 : js);
}

double stats_tvd(const double *r, const double *c, size_t k)
{
    double s = 0.0;

    for (size_t i = 0; i < k; i++)
        s += fabs(r[i] - c[i]);
    return 0.5 * s;
}

double stats_hellinger_props(const double *r, const double *c, size_t k)
{
    double bc = 0.0;

    for (size_t i = 0; i < k; i++)
        bc += sqrt(r[i] * c[i]);
    bc = bc < 0 ? 0 : bc > 1 ? 1 : bc;
    return sqrt(1.0 - bc);
}

/* Number of distinct values in the union of two sorted arrays. */
static size_t union_distinct(const double *x, size_t n1, const double *y, size_t n2, double *out)
{
    size_t i = 0, j = 0, k = 0;

    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        while (i < n1 && x[i] == v)
            i++;
        while (j < n2 && y[j] == v)
            j++;
        if (out != NULL)
            out[k] = v;
        k++;
    }
    return k;
}

/* One bin's share of the Bhattacharyya coefficient, Evidently's
 * sqrt(p1 p2) * width with densities p = count / db / n, rearranged as
 * sqrt(count1/n1 * count2/n2) * (width / db) so that nothing leaves the
 * range of a double: the product of two densities underflows on ranges
 * above about 1e154, a density overflows on subnormal ones. Bins are equal
 * in exact arithmetic, so where rounding makes a bin or the width 0 (one
 * repeated value so large that v - 0.5 and v + 0.5 round to v, where numpy
 * gives NaN) the ratio width / db counts as the 1 it is exactly. */
static double bc_term(double h1, double n1, double h2, double n2, double width, double db)
{
    if (h1 == 0.0 || h2 == 0.0)
        return 0.0;
    double ratio = db > 0.0 && width > 0.0 ? width / db : 1.0;
    if (!isfinite(ratio))
        ratio = 1.0;
    return sqrt(h1 / n1 * (h2 / n2)) * ratio;
}

/* stats_hellinger_numeric with nk distinct pooled values (n1, n2 > 0). */
static double hellinger_numeric(const double *x, size_t n1, const double *y, size_t n2, size_t nk)
{
    /* The first and last distinct values as the union walk takes them: x's
     * where the two are equal (-0 and +0 included). */
    double lo = x[0] <= y[0] ? x[0] : y[0];
    double hi = x[n1 - 1] >= y[n2 - 1] ? x[n1 - 1] : y[n2 - 1];

    size_t nb = stats_sturges_nbins(lo, hi, nk);
    double *edges = malloc((nb + 1) * sizeof(*edges));
    double *h1 = malloc(nb * sizeof(*h1));
    double *h2 = malloc(nb * sizeof(*h2));
    if (edges == NULL || h1 == NULL || h2 == NULL) {
        free(edges), free(h1), free(h2);
        return NAN;
    }
    stats_sturges_edges(lo, hi, nb, edges);
    stats_histogram(x, n1, edges, nb, h1);
    stats_histogram(y, n2, edges, nb, h2);
    /* numpy density: count / bin width / total; Evidently then multiplies
     * by (last edge - first edge) / nbins, the mean bin width. Taken from
     * the edges, not from the data's max - min: one repeated value v has
     * the bin [v - 0.5, v + 0.5] of width 1, so identical constant samples
     * are at distance 0 (with max - min they would be at 1). Widths of a
     * range wider than DBL_MAX are taken halved: every term is a ratio of
     * two. */
    double s = isinf(hi - lo) ? 0.5 : 1.0;
    double width = (edges[nb] * s - edges[0] * s) / (double)nb, bc = 0.0;
    for (size_t b = 0; b < nb; b++) {
        double db = edges[b + 1] * s - edges[b] * s;
        double p1 = h1[b] / db / (double)n1;
        double p2 = h2[b] / db / (double)n2;
        double term = sqrt(p1 * p2) * width;
        /* Evidently's formula, to its last bits, wherever nothing in it
         * under- or overflows. */
        if (!isnormal(p1 * p2) || !isfinite(term))
            term = bc_term(h1[b], (double)n1, h2[b], (double)n2, width, db);
        bc += term;
    }
    free(edges), free(h1), free(h2);
    bc = bc < 0 ? 0 : bc > 1 ? 1 : bc;
    return sqrt(1.0 - bc);
}

/* Evidently's numerical Hellinger distance, counting the distinct values itself. */
double stats_hellinger_numeric(const double *x, size_t n1, const double *y, size_t n2)
{
    if (n1 == 0 || n2 == 0)
        return NAN;
    return hellinger_numeric(x, n1, y, n2, union_distinct(x, n1, y, n2, NULL));
}

/* The same with the distinct values counted by the pooled table. */
double stats_hellinger_numeric_pooled(const struct stats_pooled *pl, const double *x,
                                      const double *y)
{
    if (pl->n1 == 0 || pl->n2 == 0)
        return NAN;
    return hellinger_numeric(x, pl->n1, y, pl->n2, pl->nd);
}

int stats_chisquare(const double *ref_counts, const double *cur_counts, size_t k, double *stat,
                    double *p)
{
    double n1 = sum_of(ref_counts, k), n2 = sum_of(cur_counts, k), x2 = 0.0;

    *stat = *p = NAN;
    if (n1 <= 0 || n2 <= 0)
        return -1;
    double norm = n2 / n1;
    size_t used = 0;
    for (size_t i = 0; i < k; i++) {
        double e = ref_counts[i] * norm, o = cur_counts[i];
        if (e == 0.0 && o == 0.0)
            continue; /* a category neither sample has is no category */
        used++;
        x2 += (o - e) * (o - e) / e;
    }
    if (used < 2) {
        /* K = 1: scipy's statistic (0 up to rounding) with no degrees of
         * freedom, so no p-value and no test (docs/statistics.md, "Chi-square"). */
        *stat = used == 1 ? x2 : NAN;
        return -1;
    }
    *stat = x2;
    *p = isinf(x2) ? 0.0 : gsl_cdf_chisq_Q(x2, (double)(used - 1));
    return 0;
}

int stats_ztest(const double *ref_counts, const double *cur_counts, size_t k, size_t first,
                double *stat, double *p)
{
    double n1 = sum_of(ref_counts, k), n2 = sum_of(cur_counts, k);

    *stat = *p = NAN;
    if (n1 <= 0 || n2 <= 0 || first >= k)
        return -1;
    size_t nz_ref = 0, nz_cur = 0;
    for (size_t i = 0; i < k; i++) {
        nz_ref += ref_counts[i] > 0;
        nz_cur += cur_counts[i] > 0;
    }
    /* Evidently: both samples constant and equal -> p = 1, no difference. */
    if (nz_ref == 1 && nz_cur == 1) {
        size_t a = 0, b = 0;
        for (size_t i = 0; i < k; i++) {
            if (ref_counts[i] > 0)
                a = i;
            if (cur_counts[i] > 0)
                b = i;
        }
        if (a == b) {
            /* z is 0/0 here; Evidently skips it and says p = 1. */
            *stat = NAN;
            *p = 1.0;
            return 0;
        }
    }
    double p1 = (n1 - ref_counts[first]) / n1;
    double p2 = (n2 - cur_counts[first]) / n2;
    double pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    double z = (p1 - p2) / sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
    *stat = z;
    *p = 2.0 * (1.0 - gsl_cdf_ugaussian_P(fabs(z)));
    return 0;
}

void stats_fdr(const double *p, size_t m, double q, int *flag, size_t *order)
{
    size_t tested = 0, last = 0;
    double *vals = calloc(m ? m : 1, sizeof(*vals));
    size_t *map = malloc((m ? m : 1) * sizeof(*map));

    for (size_t i = 0; i < m; i++)
        flag[i] = 0;
    if (vals == NULL || map == NULL) {
        free(vals), free(map);
        return;
    }
    /* NAN p-values (tests that could not run) take no part in the ranking. */
    for (size_t i = 0; i < m; i++) {
        if (!isnan(p[i])) {
            vals[tested] = p[i];
            map[tested++] = i;
        }
    }
    gsl_sort_index(order, vals, 1, tested);
    for (size_t r = 1; r <= tested; r++)
        if (vals[order[r - 1]] < q * (double)r / (double)tested)
            last = r;
    for (size_t r = 1; r <= last; r++)
        flag[map[order[r - 1]]] = 1;
    free(vals), free(map);
}
