/*
 * What every fuzz target shares: FUZZ_CHECK, which aborts with a message
 * libFuzzer shows next to the crashing input, and a small baseline (one
 * numerical and one categorical feature, as `driftd baseline` writes it)
 * for the targets that need one.
 */
#ifndef DRIFTD_FUZZ_CHECK_H
#define DRIFTD_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static const char fuzz_baseline_text[] =
    "{\"format\": \"driftd-baseline\", \"version\": 1, \"rows\": 3, \"sample_rows\": 3,\n"
    "\"max_sample\": 50000, \"seed\": 1, \"features\": [\n"
    "{\"name\": \"petal_width\", \"kind\": \"numerical\", \"count\": 3, \"missing\": 0,"
    " \"distinct\": 2, \"sample_missing\": 0, \"min\": 0.2, \"max\": 1.3, \"mean\": "
    "0.5666666666666667,"
    " \"std\": 0.5196152422706632, \"sample\": [0.2,0.2,1.3]},\n"
    "{\"name\": \"species\", \"kind\": \"categorical\", \"count\": 3, \"missing\": 0,"
    " \"distinct\": 2, \"sample_missing\": 0, \"categories\": [[\"setosa\", 2, 2],"
    " [\"versicolor\", 1, 1]]}\n]}\n";

/* The same features, petal_width with 24 distinct values (the binned
 * metrics bin by Sturges' rule past 20). */
__attribute__((unused)) static const char fuzz_baseline_text_wide[] =
    "{\"format\": \"driftd-baseline\", \"version\": 1, \"rows\": 24, \"sample_rows\": 24,\n"
    "\"max_sample\": 50000, \"seed\": 1, \"features\": [\n"
    "{\"name\": \"petal_width\", \"kind\": \"numerical\", \"count\": 24, \"missing\": 0,"
    " \"distinct\": 24, \"sample_missing\": 0, \"min\": 0.1, \"max\": 2.4, \"mean\": 1.25,"
    " \"std\": 0.7071067811865476, \"sample\": [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0,1.1,"
    "1.2,1.3,1.4,1.5,1.6,1.7,1.8,1.9,2.0,2.1,2.2,2.3,2.4]},\n"
    "{\"name\": \"species\", \"kind\": \"categorical\", \"count\": 24, \"missing\": 0,"
    " \"distinct\": 2, \"sample_missing\": 0, \"categories\": [[\"setosa\", 12, 12],"
    " [\"versicolor\", 12, 12]]}\n]}\n";

#endif
