#include "stats/pooled.h"

#include <stdlib.h>
#include <string.h>

/* One merge walk of x and y into p's table of distinct values and counts. */
int stats_pooled_init(struct stats_pooled *p, const double *x, size_t n1, const double *y,
                      size_t n2)
{
    memset(p, 0, sizeof(*p));
    if (n1 == 0 || n2 == 0 || n1 > UINT32_MAX || n2 > UINT32_MAX)
        return -1;
    size_t cap = n1 + n2;
    p->v = malloc(cap * sizeof(*p->v));
    p->cx = malloc(cap * sizeof(*p->cx));
    p->cy = malloc(cap * sizeof(*p->cy));
    if (p->v == NULL || p->cx == NULL || p->cy == NULL) {
        stats_pooled_free(p);
        return -1;
    }
    p->n1 = n1;
    p->n2 = n2;
    /* The walk of every test it replaces takes the smaller head (x's on a
     * tie) and steps both samples past it. Here one value a step: a new
     * entry where the value grows (so all of a tie, -0 and +0 included,
     * is one entry, holding the value met first), and no branch on which
     * sample the value comes from, which mispredicts half the time. */
    size_t i = 0, j = 0, k = 0;
    double last = x[0] <= y[0] ? x[0] : y[0];
    p->v[0] = last;
    p->cx[0] = p->cy[0] = 0;
    while (i < n1 && j < n2) {
        double a = x[i], b = y[j];
        size_t from_x = a <= b;
        double v = from_x ? a : b;
        if (v > last) {
            k++;
            p->v[k] = v;
            p->cx[k] = p->cy[k] = 0;
            last = v;
        }
        p->cx[k] += (uint32_t)from_x;
        p->cy[k] += (uint32_t)(1 - from_x);
        i += from_x;
        j += 1 - from_x;
    }
    for (; i < n1; i++) { /* what is left of one sample */
        if (x[i] > last) {
            k++;
            p->v[k] = last = x[i];
            p->cx[k] = p->cy[k] = 0;
        }
        p->cx[k]++;
    }
    for (; j < n2; j++) {
        if (y[j] > last) {
            k++;
            p->v[k] = last = y[j];
            p->cx[k] = p->cy[k] = 0;
        }
        p->cy[k]++;
    }
    k++;
    p->nd = k;
    return 0;
}

/* cdf1 - cdf2 at each distinct value, divided once for KS and the CDF distances. */
void stats_pooled_diffs(struct stats_pooled *p)
{
    if (p->diff != NULL || (p->diff = malloc((p->nd ? p->nd : 1) * sizeof(*p->diff))) == NULL)
        return;
    double dn1 = (double)p->n1, dn2 = (double)p->n2;
    size_t i = 0, j = 0;
    for (size_t k = 0; k < p->nd; k++) {
        i += p->cx[k];
        j += p->cy[k];
        p->diff[k] = (double)i / dn1 - (double)j / dn2;
    }
}

/* Free p's arrays and zero it. */
void stats_pooled_free(struct stats_pooled *p)
{
    free(p->diff);
    free(p->v);
    free(p->cx);
    free(p->cy);
    memset(p, 0, sizeof(*p));
}
