#include "stats/pooled.h"

#include <stdlib.h>
#include <string.h>

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
    /* The walk of every test it replaces: the next value is the smaller
     * head (x's on a tie), then both samples advance past it. */
    size_t i = 0, j = 0, k = 0;
    while (i < n1 || j < n2) {
        double v = (j >= n2 || (i < n1 && x[i] <= y[j])) ? x[i] : y[j];
        size_t i0 = i, j0 = j;
        while (i < n1 && x[i] <= v)
            i++;
        while (j < n2 && y[j] <= v)
            j++;
        p->v[k] = v;
        p->cx[k] = (uint32_t)(i - i0);
        p->cy[k] = (uint32_t)(j - j0);
        k++;
    }
    p->nd = k;
    return 0;
}

void stats_pooled_free(struct stats_pooled *p)
{
    free(p->v);
    free(p->cx);
    free(p->cy);
    memset(p, 0, sizeof(*p));
}
