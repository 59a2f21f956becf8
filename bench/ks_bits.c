/*
 * The Kolmogorov distributions on a fixed grid of (d, n), printed as hex
 * floats, so that two builds (say, before and after a change to
 * stats/kolmogorov.c, or with and without FMA) can be compared bit for bit
 * with cmp; and the time of the p-value of a large two-sample KS test.
 *
 * usage: bench_ks_bits bits [N]   print sf and cdf on the grid (N random
 *                                 points per n, default 2000)
 *        bench_ks_bits time [RUNS] ms of kstwo_sf(d, 50000) for the d of
 *                                 a 0.1 sd shift (the bench data's case)
 * DRIFTD_KS_PLAIN=1 in the environment forces Dekker's products (no FMA).
 */
#include "stats/kolmogorov.h"

#include <math.h>
#include <stdint.h>
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

/* A fixed pseudo-random sequence (splitmix64), the same on every build. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* A uniform double in [0, 1) from the sequence. */
static double next_unit(uint64_t *s)
{
    return (double)(next_u64(s) >> 11) * 0x1p-53;
}

/* Print sf and cdf at (d, n) as hex floats. */
static void show(double d, double n)
{
    printf("%a %a %a %a\n", d, n, stats_kstwo_sf(d, n), stats_kstwo_cdf(d, n));
}

/* The grid: every region of kolmogn's dispatch, the lattice points k/n and
 * their neighbours, and random d spread over [0, 1] and near 0 in scale. */
static void bits(int per_n)
{
    static const double big[] = {141,    150,    200,     500,     1000,   2000,   5000,
                                 10000,  20000,  33333,   50000,   99999,  100000, 250000,
                                 500000, 999999, 1000000, 1000001, 2000000};
    uint64_t s = 42;
    size_t nbig = sizeof(big) / sizeof(big[0]);
    for (size_t i = 0; i < 140 + nbig; i++) {
        double n = i < 140 ? (double)(i + 1) : big[i - 140];
        for (int k = 0; k <= 64; k++) {
            double d = (double)k / 64.0;
            show(d, n);
            show(nextafter(d, 0), n);
            show(nextafter(d, 1), n);
        }
        for (int k = 1; k <= 40 && k <= n; k++) {
            show(k / n, n);
            show(nextafter(k / n, 0), n);
            show(nextafter(k / n, 1), n);
        }
        for (int r = 0; r < per_n; r++) {
            double u = next_unit(&s);
            /* half uniform, half log-uniform around the typical 1/sqrt(n) */
            double d = (r % 2) ? u : exp(log(0.5 / n) + u * (log(1.0) - log(0.5 / n)));
            show(d, n);
        }
    }
}

/* The time of the p-value of a KS test between two 100k samples whose
 * statistic lies where a 0.1 sd shift puts it. */
static void timing(int runs)
{
    double best = INFINITY, sum = 0, acc = 0;
    static const double ds[] = {0.004, 0.006, 0.008, 0.01, 0.02, 0.04};
    for (int r = 0; r < runs; r++) {
        double t0 = now_ms();
        for (size_t i = 0; i < sizeof(ds) / sizeof(ds[0]); i++)
            acc += stats_kstwo_sf(ds[i], 50000);
        double t = now_ms() - t0;
        sum += t;
        if (t < best)
            best = t;
    }
    printf("kstwo_sf(d, 50000) for %zu d: best %.3f ms, mean %.3f ms (checksum %a)\n",
           sizeof(ds) / sizeof(ds[0]), best, sum / runs, acc);
}

int main(int argc, char **argv)
{
    const char *plain = getenv("DRIFTD_KS_PLAIN");
    int fma = stats_kolmogorov_fma(plain != NULL && plain[0] == '1' ? 0 : 1);
    fprintf(stderr, "smirnov: %s\n", fma ? "FMA" : "Dekker");
    if (argc >= 2 && strcmp(argv[1], "bits") == 0) {
        bits(argc > 2 ? atoi(argv[2]) : 2000);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "time") == 0) {
        timing(argc > 2 ? atoi(argv[2]) : 50);
        return 0;
    }
    fprintf(stderr, "usage: %s bits [N] | time [RUNS]\n", argv[0]);
    return 2;
}
