/*
 * Smirnov's one-sided distribution for stats/kolmogorov.c, in two builds of
 * the same code that give the same bits: one for any x86-64 and one for
 * CPUs with fused multiply-add (see smirnov.c). Callers use
 * stats_kstwo_sf/cdf; these are internal to stats/.
 */
#ifndef DRIFTD_STATS_SMIRNOV_H
#define DRIFTD_STATS_SMIRNOV_H

/* Survival function of D_n^+, scipy.special.smirnov(n, x), with Dekker's
 * error-free products (any CPU). */
double stats_smirnov_sf_plain(int n, double x);

/* The same with FMA-based products; call only where the CPU has FMA. */
double stats_smirnov_sf_fma(int n, double x);

#endif
