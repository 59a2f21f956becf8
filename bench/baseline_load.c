/*
 * The time to load a baseline, in two parts: stats_baseline_parse on text
 * already in memory (the reference sample ready to use), and load_baseline
 * as `driftd check` calls it (read the file, parse, SHA-256 beside it).
 * Prints the best and median milliseconds of RUNS runs of each.
 *
 * usage: bench_baseline_load BASELINE.json [RUNS]
 */
#include "agent/bcache.h"
#include "lib/file.h"
#include "stats/baseline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Milliseconds of a monotonic clock. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* qsort's order of doubles. */
static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Print the best and median of the n times in t (sorted in place). */
static void show(const char *what, double *t, int n)
{
    qsort(t, (size_t)n, sizeof(*t), cmp);
    printf("%-40s best %7.2f ms  median %7.2f ms\n", what, t[0], t[n / 2]);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s BASELINE.json [RUNS]\n", argv[0]);
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 20;
    if (runs < 1)
        runs = 1;
    size_t len;
    char *text = file_read(argv[1], &len);
    if (text == NULL) {
        perror(argv[1]);
        return 2;
    }
    double *t = calloc((size_t)runs, sizeof(*t));
    if (t == NULL)
        return 2;
    size_t nsample = 0;
    for (int r = 0; r < runs; r++) {
        struct stats_baseline *b = NULL;
        char err[256];
        double t0 = now_ms();
        if (stats_baseline_parse(text, len, argv[1], &b, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        t[r] = now_ms() - t0;
        nsample = 0;
        for (size_t i = 0; i < b->nfeatures; i++)
            nsample += b->features[i].n_sample;
        stats_baseline_free(b);
    }
    printf("%s: %zu bytes, %zu sample values\n", argv[1], len, nsample);
    show("stats_baseline_parse (text in memory)", t, runs);
    for (int r = 0; r < runs; r++) {
        char sha[SHA256_HEX_LEN + 1];
        double t0 = now_ms();
        struct stats_baseline *b = load_baseline(argv[1], sha);
        t[r] = now_ms() - t0;
        if (b == NULL)
            return 1;
        stats_baseline_free(b);
    }
    show("load_baseline (read, parse, sha256)", t, runs);
    free(t);
    free(text);
    return 0;
}
