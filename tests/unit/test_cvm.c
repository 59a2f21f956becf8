/*
 * Golden tests for stats/cvm.h against scipy 1.10 (tests/golden/gen_cvm.py):
 * statistic within 1e-9 relative (1e-12 absolute near 0), p within 1e-9
 * absolute, and -1 with NAN outputs wherever scipy raises.
 */
#include "stats/cvm.h"

#include "testlib.h"

#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest deviations seen per test, printed so a run shows the margin. */
static double max_stat_rel[2], max_p_abs[2];

/* Copy a JSON array of numbers; the generator stores samples sorted. */
static double *load_array(const cJSON *arr, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(arr);
    double *v = malloc((*n ? *n : 1) * sizeof(*v));
    if (v == NULL)
        abort();
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, arr) v[i++] = tl_num(it);
    return v;
}

/* Replay gen_cvm.py's lcg_samples: one 32-bit LCG stream, x then y, each sorted. */
static void gen_samples(const cJSON *gen, double **x, size_t *n1, double **y, size_t *n2)
{
    uint32_t s = (uint32_t)tl_num(cJSON_GetObjectItem(gen, "seed"));
    double div = tl_num(cJSON_GetObjectItem(gen, "div"));
    uint32_t shift = (uint32_t)tl_num(cJSON_GetObjectItem(gen, "shift"));
    size_t n[2] = {(size_t)tl_num(cJSON_GetObjectItem(gen, "n1")),
                   (size_t)tl_num(cJSON_GetObjectItem(gen, "n2"))};
    uint32_t r[2] = {(uint32_t)tl_num(cJSON_GetObjectItem(gen, "r1")),
                     (uint32_t)tl_num(cJSON_GetObjectItem(gen, "r2"))};
    double *out[2];

    for (int k = 0; k < 2; k++) {
        out[k] = malloc(n[k] * sizeof(double));
        if (out[k] == NULL)
            abort();
        for (size_t i = 0; i < n[k]; i++) {
            s = 1664525u * s + 1013904223u;
            out[k][i] = (double)((s >> 8) % r[k] + (k == 1 ? shift : 0)) / div;
        }
        gsl_sort(out[k], 1, n[k]);
    }
    *x = out[0];
    *n1 = n[0];
    *y = out[1];
    *n2 = n[1];
}

/* Run one golden case through the C function its "test" names. */
static void run_case(const cJSON *c, int idx)
{
    const char *test = cJSON_GetObjectItem(c, "test")->valuestring;
    const char *cat = cJSON_GetObjectItem(c, "category")->valuestring;
    const cJSON *gen = cJSON_GetObjectItem(c, "gen");
    double *x, *y, st, p;
    size_t n1, n2;
    int is_cvm = strcmp(test, "cvm") == 0;
    char what[128];

    if (gen != NULL) {
        gen_samples(gen, &x, &n1, &y, &n2);
    } else {
        x = load_array(cJSON_GetObjectItem(c, "x"), &n1);
        y = load_array(cJSON_GetObjectItem(c, "y"), &n2);
    }
    int rc = is_cvm ? stats_cvm_2samp(x, n1, y, n2, &st, &p)
                    : stats_anderson_2samp(x, n1, y, n2, &st, &p);
    int want_rc = (int)tl_num(cJSON_GetObjectItem(c, "rc"));
    double want_st = tl_num(cJSON_GetObjectItem(c, "stat"));
    double want_p = tl_num(cJSON_GetObjectItem(c, "p"));

    CHECKF(rc == want_rc, "case %d (%s %s n1=%zu n2=%zu): rc %d want %d", idx, test, cat, n1, n2,
           rc, want_rc);
    snprintf(what, sizeof(what), "case %d (%s %s n1=%zu n2=%zu) statistic", idx, test, cat, n1, n2);
    CHECK_CLOSE(st, want_st, 1e-12, 1e-9, what);
    snprintf(what, sizeof(what), "case %d (%s %s n1=%zu n2=%zu) p", idx, test, cat, n1, n2);
    CHECK_CLOSE(p, want_p, 1e-9, 0.0, what);
    if (rc == 0 && !isnan(want_st)) {
        double rel = want_st == 0 ? fabs(st) : fabs(st - want_st) / fabs(want_st);
        double dp = fabs(p - want_p);
        if (rel > max_stat_rel[is_cvm])
            max_stat_rel[is_cvm] = rel;
        if (dp > max_p_abs[is_cvm])
            max_p_abs[is_cvm] = dp;
    }
    free(x);
    free(y);
}

int main(void)
{
    cJSON *root = tl_load_json("golden/cvm.json");
    const cJSON *cases = cJSON_GetObjectItem(root, "cases");
    const cJSON *c;
    int idx = 0;

    CHECK(cJSON_GetArraySize(cases) > 0);
    cJSON_ArrayForEach(c, cases) run_case(c, idx++);
    printf("cvm: max statistic rel dev %.3g, max p abs dev %.3g\n", max_stat_rel[1], max_p_abs[1]);
    printf("anderson: max statistic rel dev %.3g, max p abs dev %.3g\n", max_stat_rel[0],
           max_p_abs[0]);
    cJSON_Delete(root);
    return tl_done();
}
