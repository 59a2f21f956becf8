/*
 * The floor for full validation: parse every line of an NDJSON file with
 * cJSON and free it, nothing else. bench/ingest.sh compares driftd's
 * every-record-kept ingest with this, timed in the same run.
 * usage: bench_cjson_loop FILE.ndjson [REPEAT]
 */
#include "agent/memfile.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv)
{
    struct memfile in;
    if (argc < 2 || memfile_open(&in, argv[1]) != 0)
        return 2;
    int repeat = argc > 2 ? atoi(argv[2]) : 10;
    struct timespec t0, t1;
    size_t records = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < repeat; r++) {
        const char *p = in.data, *end = in.data + in.len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            cJSON *j = cJSON_ParseWithLength(p, n);
            if (j != NULL)
                records++;
            cJSON_Delete(j);
            p += n + 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f\n", (double)records / s);
    memfile_close(&in);
    return 0;
}
