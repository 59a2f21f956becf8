/*
 * How many threads a parallel part of driftd takes: one per online CPU,
 * or DRIFTD_THREADS, within [1, most]. The evaluation and check's reading
 * of large files both ask, so that one setting governs both.
 */
#ifndef DRIFTD_LIB_THREADS_H
#define DRIFTD_LIB_THREADS_H

#include <stddef.h>

size_t threads_wanted(size_t most);

#endif
