/*
 * Two doubles as one vector (GCC's and clang's vector extension, SSE2's
 * width on x86-64; the compiler splits or lowers it elsewhere), and two
 * 64-bit integers, the type a comparison of two such vectors gives: -1 in
 * a lane where it holds, 0 where not.
 */
#ifndef DRIFTD_STATS_VEC2_H
#define DRIFTD_STATS_VEC2_H

#include <stdint.h>

typedef double stats_v2d __attribute__((vector_size(2 * sizeof(double))));
typedef int64_t stats_v2i __attribute__((vector_size(2 * sizeof(int64_t))));

#endif
