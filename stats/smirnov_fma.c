/*
 * smirnov.c again, compiled with -mfma (stats/CMakeLists.txt) into
 * stats_smirnov_sf_fma: the error of each double-double product comes from
 * one fused multiply-add instead of Dekker's seven operations. Only called
 * when the CPU has FMA (kolmogorov.c asks it).
 */
#define KS_FMA 1
#include "stats/smirnov.c"
