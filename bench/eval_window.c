/*
 * Evaluation of one window, timed alone (no file parsing): the baseline is
 * loaded and the window's records read into memory first, then
 * drift_evaluate runs RUNS times with the default (auto) tests and RUNS
 * times with every metric. Prints the best and median milliseconds of each.
 *
 * usage: bench_eval_window BASELINE.json WINDOW.csv [RUNS]
 */
#include "agent/bcache.h"
#include "agent/dataset.h"
#include "agent/drift.h"
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
        fprintf(stderr, "usage: %s BASELINE.json WINDOW.csv [RUNS]\n", argv[0]);
        return 2;
    }
    int runs = argc > 3 ? atoi(argv[3]) : 20;
    struct stats_baseline *b = load_baseline(argv[1], NULL);
    struct memfile in;
    if (b == NULL || memfile_open(&in, argv[2]) != 0)
        return 2;
    struct dataset *ds = dataset_new(b);
    if (ds == NULL || dataset_read(ds, in.data, in.len, READER_CSV) < 0)
        return 2;
    printf("window: %llu records x %zu features; reference sample %llu rows\n",
           (unsigned long long)ds->records, b->nfeatures, (unsigned long long)b->sample_rows);
    for (int all = 0; all <= 1; all++) {
        struct drift_opts o;
        drift_opts_init(&o);
        o.all_metrics = all;
        double *t = malloc((size_t)runs * sizeof(double));
        for (int i = 0; i < runs; i++) {
            double t0 = now_ms();
            struct report *rep = drift_evaluate(ds, &o);
            t[i] = now_ms() - t0;
            report_free(rep);
        }
        qsort(t, (size_t)runs, sizeof(double), cmp);
        printf("%s: best %.2f ms, median %.2f ms (%d runs)\n",
               all ? "all metrics " : "auto tests  ", t[0], t[runs / 2], runs);
        free(t);
    }
    memfile_close(&in);
    dataset_free(ds);
    stats_baseline_free(b);
    return 0;
}
