#include "lib/threads.h"

#include <stdlib.h>
#include <unistd.h>

size_t threads_wanted(size_t most)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    const char *env = getenv("DRIFTD_THREADS");
    if (env != NULL && atoi(env) > 0)
        n = atoi(env);
    if (n < 1)
        n = 1;
    return (size_t)n < most ? (size_t)n : most;
}
