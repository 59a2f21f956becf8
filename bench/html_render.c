/*
 * The HTML report's own cost, timed alone (bench/html.sh): the baseline is
 * loaded, the current CSV read and evaluated once with the auto tests and
 * once with every metric (KS, and so the KS point, on every numerical
 * feature), then html_view_new and html_render run RUNS times each. Prints
 * the best and median milliseconds of both steps and the page's size.
 *
 * usage: bench_html_render BASELINE.json CURRENT.csv [RUNS]
 */
#include "agent/bcache.h"
#include "agent/dataset.h"
#include "agent/drift.h"
#include "agent/html.h"
#include "agent/memfile.h"
#include "agent/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BASELINE.json CURRENT.csv [RUNS]\n", argv[0]);
        return 2;
    }
    int runs = argc > 3 ? atoi(argv[3]) : 20;
    if (runs < 1)
        runs = 1;
    struct stats_baseline *b = load_baseline(argv[1], NULL);
    struct memfile in;
    if (b == NULL || memfile_open(&in, argv[2]) != 0)
        return 2;
    struct dataset *ds = dataset_new(b);
    if (ds == NULL || dataset_read(ds, in.data, in.len, READER_CSV) < 0)
        return 2;
    dataset_count_absent(ds);
    printf("current: %llu records x %zu features; reference sample %llu rows\n",
           (unsigned long long)ds->records, b->nfeatures, (unsigned long long)b->sample_rows);
    double *tv = malloc((size_t)runs * sizeof(double)), *tr = malloc((size_t)runs * sizeof(double));
    for (int all = 0; all <= 1 && tv != NULL && tr != NULL; all++) {
        struct drift_opts o;
        drift_opts_init(&o);
        o.all_metrics = all;
        struct report *rep = drift_evaluate(ds, &o);
        if (rep == NULL)
            return 2;
        size_t size = 0;
        for (int i = 0; i < runs; i++) {
            double t0 = now_ms();
            struct html_view *v = html_view_new(rep, b, ds);
            double t1 = now_ms();
            struct sbuf s;
            sbuf_init(&s);
            struct html_meta m = {.all_metrics = all};
            if (v == NULL || html_render(rep, v, &m, &s) != 0)
                return 2;
            tr[i] = now_ms() - t1;
            tv[i] = t1 - t0;
            size = s.len;
            sbuf_free(&s);
            html_view_free(v);
        }
        qsort(tv, (size_t)runs, sizeof(double), cmp);
        qsort(tr, (size_t)runs, sizeof(double), cmp);
        printf("%s: view best %.2f ms, median %.2f ms; render best %.2f ms, median %.2f ms; "
               "page %zu bytes (%d runs)\n",
               all ? "all metrics" : "auto tests ", tv[0], tv[runs / 2], tr[0], tr[runs / 2], size,
               runs);
        report_free(rep);
    }
    free(tv);
    free(tr);
    memfile_close(&in);
    dataset_free(ds);
    stats_baseline_free(b);
    return 0;
}
