/*
 * stats_sort (stats/sort.c) against the LSD radix sort it replaced
 * (bench/sort_old.c), in ns per element, on the numeric columns of a CSV
 * (every non-empty cell of the column a number, as bench/data/cur.csv's
 * 20 n_* columns; empty cells are missing values and left out) and on synthetic adversarial
 * columns. Each figure is the best of RUNS, old and new alternating so that both see the same
 * noise; every output of the new sort is compared with the old one's bit for bit (exit 1 on a
 * difference). malloc is set up as the daemon sets it (agent/main.c): without that every call maps
 * fresh buffers and page-faults.
 *
 * usage: bench_sort_bench [-r RUNS] [-n N] [-s] [CSV]
 *   CSV   time its numeric columns (the first N rows with -n)
 *   -s    time the synthetic columns too, N values each (default 100000)
 *   -r    runs per column and sort (default 21)
 */
#include "stats/sort.h"

#include <malloc.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int old_stats_sort(double *v, size_t n);

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A fixed pseudo-random sequence (splitmix64). */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) / 9007199254740992.0;
}

static double gauss(uint64_t *s)
{
    double u = unit(s), w = unit(s);
    return sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * w);
}

/* Six significant digits, as a CSV written with %g holds them. */
static double g6(double x)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%g", x);
    return strtod(buf, NULL);
}

#define NSYN 21
static const char *const syn_names[NSYN] = {
    "syn_uniform",     "syn_normal_g6",   "syn_lognormal3",   "syn_pareto1",  "syn_mixture_far",
    "syn_ints0_9",     "syn_all_equal",   "syn_two_values",   "syn_any_bits", "syn_sorted",
    "syn_reversed",    "syn_decades",     "syn_subnormal",    "syn_nested",   "syn_zeros_pm",
    "syn_one_outlier", "syn_near_sorted", "syn_100_distinct", "syn_sawtooth", "syn_zero_inflated",
    "syn_spike_noise"};

/* Value i of synthetic column c. */
static double synthetic(int c, size_t i, size_t n, uint64_t *s)
{
    uint64_t r;
    double d;
    switch (c) {
    case 0:
        return unit(s);
    case 1:
        return g6(gauss(s));
    case 2:
        return exp(3.0 * gauss(s));
    case 3:
        return 1.0 / (1.0 - unit(s) + 1e-300);
    case 4: /* two far clusters, one negative */
        return next_u64(s) & 1 ? 1e6 + gauss(s) : -3.0 + 1e-3 * gauss(s);
    case 5:
        return (double)(next_u64(s) % 10);
    case 6:
        return 42.5;
    case 7:
        return next_u64(s) & 1 ? -1.25 : 7.0;
    case 8: /* any finite bits */
        do {
            r = next_u64(s);
            memcpy(&d, &r, sizeof(d));
        } while (!isfinite(d));
        return d;
    case 9:
        return (double)i * 0.5 - 1000.0;
    case 10:
        return (double)(n - i) * 0.25;
    case 11: /* +-10^-300 .. 10^300 */
        return (next_u64(s) & 1 ? -1 : 1) * pow(10.0, 600.0 * unit(s) - 300.0);
    case 12:
        r = next_u64(s) & 0x800FFFFFFFFFFFFFULL;
        memcpy(&d, &r, sizeof(d));
        return d;
    case 13: /* clusters inside clusters: each radix level splits off little */
        r = next_u64(s);
        return 1.0 + ldexp(unit(s), -(int)(11 * (r % 5)));
    case 14:
        return next_u64(s) % 3 == 0 ? -0.0 : (next_u64(s) & 1 ? 0.0 : unit(s) - 0.5);
    case 15:
        return i == n / 2 ? 1e300 : unit(s);
    case 16: /* a time column with jitter */
        return (double)i + 20.0 * gauss(s);
    case 17: /* 100 distinct values, any exponent */
        r = next_u64(s) % 100;
        return exp(0.37 * (double)r - 18.0) * (r & 1 ? -1.0 : 1.0);
    case 18: /* ascending runs of 1000 */
        return (double)(i % 1000) * 0.001;
    case 19: /* 80 % zeros, the rest lognormal: amounts, counts of events */
        return next_u64(s) % 5 ? 0.0 : g6(exp(gauss(s)));
    default: /* 80 % one value with noise in its last bits, the rest spread */
        return next_u64(s) % 5 ? 100.0 + 1e-9 * unit(s) : 1000.0 * unit(s);
    }
}

typedef struct {
    char name[64];
    double *v;
    size_t n;
} column;

/* The columns of a CSV whose every cell is a number, the first max rows. */
static size_t read_csv(const char *path, size_t max, column *cols, size_t maxcols)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    char *line = NULL;
    size_t cap = 0;
    if (getline(&line, &cap, f) < 0) {
        fprintf(stderr, "%s: no header\n", path);
        exit(2);
    }
    size_t nc = 0;
    column all[256];
    int numeric[256];
    for (char *tok = strtok(line, ",\r\n"); tok != NULL && nc < 256; tok = strtok(NULL, ",\r\n")) {
        snprintf(all[nc].name, sizeof(all[nc].name), "%s", tok);
        all[nc].v = NULL;
        all[nc].n = 0;
        numeric[nc++] = 1;
    }
    size_t rows = 0, rcap = 0;
    while (rows < max && getline(&line, &cap, f) > 0) {
        if (rows == rcap) {
            rcap = rcap ? 2 * rcap : 65536;
            for (size_t c = 0; c < nc; c++)
                all[c].v = realloc(all[c].v, rcap * sizeof(double));
        }
        char *p = line;
        for (size_t c = 0; c < nc; c++) {
            char *end;
            double d = strtod(p, &end);
            int empty = *p == ',' || *p == '\n' || *p == '\r' || *p == '\0';
            if (!empty &&
                (end == p || (*end != ',' && *end != '\n' && *end != '\r' && *end != '\0')))
                numeric[c] = 0;
            if (!empty) /* a missing value: not in the column, as check drops it */
                all[c].v[all[c].n++] = d;
            p = strchr(p, ',');
            if (p == NULL)
                break;
            p++;
        }
        rows++;
    }
    free(line);
    fclose(f);
    size_t k = 0;
    for (size_t c = 0; c < nc; c++) {
        if (numeric[c] && k < maxcols && all[c].n > 0) {
            cols[k++] = all[c];
        } else {
            free(all[c].v);
        }
    }
    return k;
}

/* Best-of-runs ns per element of old and new on one column; 0 when the
 * outputs agree bit for bit. */
static int bench_column(const column *col, int runs, double *old_ns, double *new_ns)
{
    size_t n = col->n;
    double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
    double best_old = INFINITY, best_new = INFINITY;
    int rc = 0;
    for (int r = 0; r < runs; r++) {
        memcpy(a, col->v, n * sizeof(double));
        double t0 = now_ns();
        old_stats_sort(a, n);
        double t1 = now_ns();
        memcpy(b, col->v, n * sizeof(double));
        double t2 = now_ns();
        stats_sort(b, n);
        double t3 = now_ns();
        best_old = fmin(best_old, t1 - t0);
        best_new = fmin(best_new, t3 - t2);
        if (memcmp(a, b, n * sizeof(double)) != 0)
            rc = 1;
    }
    *old_ns = best_old / (double)n;
    *new_ns = best_new / (double)n;
    free(a);
    free(b);
    return rc;
}

int main(int argc, char **argv)
{
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    int runs = 21, syn = 0, opt;
    size_t n = 0;
    while ((opt = getopt(argc, argv, "r:n:s")) != -1) {
        switch (opt) {
        case 'r':
            runs = atoi(optarg);
            break;
        case 'n':
            n = strtoull(optarg, NULL, 10);
            break;
        case 's':
            syn = 1;
            break;
        default:
            fprintf(stderr, "usage: %s [-r RUNS] [-n N] [-s] [CSV]\n", argv[0]);
            return 2;
        }
    }
    column cols[256];
    size_t nc = 0;
    if (optind < argc)
        nc = read_csv(argv[optind], n ? n : SIZE_MAX, cols, 256 - NSYN);
    if (syn) {
        size_t m = n ? n : 100000;
        uint64_t s = 12345;
        for (int c = 0; c < NSYN; c++, nc++) {
            snprintf(cols[nc].name, sizeof(cols[nc].name), "%s", syn_names[c]);
            cols[nc].n = m;
            cols[nc].v = malloc(m * sizeof(double));
            for (size_t i = 0; i < m; i++)
                cols[nc].v[i] = synthetic(c, i, m, &s);
        }
    }
    if (nc == 0) {
        fprintf(stderr, "no column to sort (give a CSV or -s)\n");
        return 2;
    }
    printf("%-18s %9s %9s %9s %7s\n", "column", "n", "old_ns", "new_ns", "new/old");
    double sum_old = 0, sum_new = 0, csv_old = 0, csv_new = 0;
    size_t elems = 0, csv_elems = 0;
    int bad = 0;
    for (size_t c = 0; c < nc; c++) {
        double o, w;
        int diff = bench_column(&cols[c], runs, &o, &w);
        bad |= diff;
        printf("%-18s %9zu %9.2f %9.2f %7.3f%s\n", cols[c].name, cols[c].n, o, w, w / o,
               diff ? "  OUTPUT DIFFERS" : "");
        sum_old += o * (double)cols[c].n;
        sum_new += w * (double)cols[c].n;
        elems += cols[c].n;
        if (strncmp(cols[c].name, "syn_", 4) != 0) {
            csv_old += o * (double)cols[c].n;
            csv_new += w * (double)cols[c].n;
            csv_elems += cols[c].n;
        }
        free(cols[c].v);
    }
    if (csv_elems > 0)
        printf("%-18s %9zu %9.2f %9.2f %7.3f\n", "ALL_CSV", csv_elems, csv_old / (double)csv_elems,
               csv_new / (double)csv_elems, csv_new / csv_old);
    printf("%-18s %9zu %9.2f %9.2f %7.3f\n", "ALL", elems, sum_old / (double)elems,
           sum_new / (double)elems, sum_new / sum_old);
    return bad;
}
