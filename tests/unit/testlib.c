#include "testlib.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tl_passed, tl_failed;

int tl_check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        tl_passed++;
        return 1;
    }
    tl_failed++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

int tl_close(double got, double want, double abs_tol, double rel_tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    double diff = fabs(got - want);
    return diff <= abs_tol || diff <= rel_tol * fabs(want);
}

cJSON *tl_load_json(const char *relpath)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", DRIFTD_TEST_DATA_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    buf[len] = '\0';
    fclose(f);
    cJSON *json = cJSON_Parse(buf);
    free(buf);
    if (json == NULL) {
        fprintf(stderr, "%s: invalid JSON\n", path);
        exit(2);
    }
    return json;
}

double tl_num(const cJSON *item)
{
    if (cJSON_IsNumber(item))
        return item->valuedouble;
    if (cJSON_IsString(item)) {
        if (strcmp(item->valuestring, "inf") == 0)
            return INFINITY;
        if (strcmp(item->valuestring, "-inf") == 0)
            return -INFINITY;
    }
    return NAN;
}

int tl_done(void)
{
    printf("%d passed, %d failed\n", tl_passed, tl_failed);
    return tl_failed == 0 && tl_passed > 0 ? 0 : 1;
}
