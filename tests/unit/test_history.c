/*
 * The windows' history (agent/history.c): bound, order, the file across
 * reopenings, an incomplete last line, compaction, a smaller bound.
 */
#include "agent/history.h"
#include "lib/file.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The line of window id. */
static const char *line_of(unsigned id, char *buf, size_t len)
{
    snprintf(buf, len, "{\"id\": %u, \"share\": 0.%u}", id, id % 10);
    return buf;
}

/* The id of window i (0: newest) of h, or 0. */
static unsigned id_at(const struct history *h, size_t i)
{
    const char *l = history_get(h, i);
    cJSON *j = l ? cJSON_Parse(l) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    unsigned v = cJSON_IsNumber(id) ? (unsigned)id->valuedouble : 0;
    cJSON_Delete(j);
    return v;
}

/* Complete lines of the file at path (-1 when unreadable), and whether it
 * ends with a newline. */
static long file_lines(const char *path, int *ends_nl)
{
    size_t len;
    char *t = file_read(path, &len);
    if (t == NULL)
        return -1;
    long n = 0;
    for (size_t i = 0; i < len; i++)
        n += t[i] == '\n';
    *ends_nl = len == 0 || t[len - 1] == '\n';
    free(t);
    return n;
}

/* In memory: the bound holds and the order is newest first. */
static void test_memory_bound(void)
{
    char err[256], buf[64];
    struct history *h = history_open(NULL, 10, err, sizeof(err));
    CHECK(h != NULL);
    CHECK(history_count(h) == 0 && history_get(h, 0) == NULL);
    for (unsigned i = 1; i <= 25; i++)
        CHECK(history_add(h, line_of(i, buf, sizeof(buf))) == 0);
    CHECK(history_count(h) == 10);
    CHECKF(id_at(h, 0) == 25 && id_at(h, 9) == 16, "newest %u, oldest %u", id_at(h, 0),
           id_at(h, 9));
    CHECK(history_get(h, 10) == NULL);
    errno = 0;
    CHECK(history_add(h, "{\"a\":\n1}") == -1 && errno == EINVAL);
    CHECK(history_count(h) == 10);

    struct sbuf s;
    sbuf_init(&s);
    history_json(h, 3, &s);
    cJSON *j = cJSON_Parse(s.data);
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(j, "windows");
    CHECK(cJSON_GetArraySize(w) == 3);
    const cJSON *first = cJSON_GetArrayItem(w, 0), *last = cJSON_GetArrayItem(w, 2);
    CHECK(cJSON_GetObjectItemCaseSensitive(first, "id")->valuedouble == 25);
    CHECK(cJSON_GetObjectItemCaseSensitive(last, "id")->valuedouble == 23);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "count")->valuedouble == 10);
    CHECK(cJSON_GetObjectItemCaseSensitive(j, "keep")->valuedouble == 10);
    cJSON_Delete(j);
    sbuf_free(&s);

    /* a smaller bound keeps the newest */
    CHECK(history_set_keep(h, 4) == 0);
    CHECK(history_count(h) == 4 && id_at(h, 0) == 25 && id_at(h, 3) == 22);
    CHECK(history_add(h, line_of(26, buf, sizeof(buf))) == 0);
    CHECK(history_count(h) == 4 && id_at(h, 0) == 26 && id_at(h, 3) == 23);
    /* a larger one keeps them all and grows */
    CHECK(history_set_keep(h, 6) == 0);
    CHECK(history_add(h, line_of(27, buf, sizeof(buf))) == 0);
    CHECK(history_count(h) == 5 && id_at(h, 0) == 27 && id_at(h, 4) == 23);
    history_free(h);
}

/* On file: reopening restores the newest windows; the file is compacted
 * at 2 * keep lines and never grows beyond. */
static void test_file_compaction(void)
{
    char *dir = tl_tmpdir("history");
    char path[512], err[256], buf[64];
    snprintf(path, sizeof(path), "%s/history.ndjson", dir);
    struct history *h = history_open(path, 10, err, sizeof(err));
    CHECKF(h != NULL, "open: %s", err);
    size_t most = 0;
    int nl;
    for (unsigned i = 1; i <= 95; i++) {
        CHECK(history_add(h, line_of(i, buf, sizeof(buf))) == 0);
        long n = file_lines(path, &nl);
        CHECK(n > 0 && nl);
        if ((size_t)n > most)
            most = (size_t)n;
        CHECK((size_t)n == history_file_lines(h));
    }
    CHECKF(most == 19, "the file held up to %zu lines (2 * keep - 1 expected)", most);
    /* 95 windows: compacted to 10 lines at 20, then every 10 more: 15 */
    CHECKF(history_file_lines(h) == 15, "%zu lines", history_file_lines(h));
    history_free(h);

    h = history_open(path, 10, err, sizeof(err));
    CHECKF(h != NULL, "reopen: %s", err);
    CHECK(history_count(h) == 10 && id_at(h, 0) == 95 && id_at(h, 9) == 86);
    CHECKF(history_file_lines(h) == 15, "%zu lines after load", history_file_lines(h));
    history_free(h);
    /* a smaller bound at the next start: 15 lines, 2 * 5 or more, are
     * compacted at load */
    h = history_open(path, 5, err, sizeof(err));
    CHECKF(h != NULL, "reopen: %s", err);
    CHECK(history_count(h) == 5 && id_at(h, 0) == 95 && id_at(h, 4) == 91);
    CHECKF(history_file_lines(h) == 5, "%zu lines after load", history_file_lines(h));
    CHECK(file_lines(path, &nl) == 5);
    history_free(h);
    tl_tmpdir_remove(dir);
}

/* A crash mid-append: the incomplete last line is skipped and cut off,
 * and the next window starts on a line of its own; a line that is not a
 * window is skipped too. */
static void test_torn_line(void)
{
    char *dir = tl_tmpdir("history");
    char path[512], err[256], buf[64];
    snprintf(path, sizeof(path), "%s/history.ndjson", dir);
    const char *torn = "{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3, \"sha";
    CHECK(file_write_atomic(path, torn, strlen(torn), 0600, 0) == 0);
    struct history *h = history_open(path, 10, err, sizeof(err));
    CHECKF(h != NULL, "open: %s", err);
    CHECK(history_count(h) == 2 && id_at(h, 0) == 2);
    int nl;
    CHECK(file_lines(path, &nl) == 2 && nl);
    CHECK(history_add(h, line_of(4, buf, sizeof(buf))) == 0);
    history_free(h);
    h = history_open(path, 10, err, sizeof(err));
    CHECKF(h != NULL, "reopen: %s", err);
    CHECK(history_count(h) == 3 && id_at(h, 0) == 4 && id_at(h, 2) == 1);
    history_free(h);

    const char *junk = "{\"id\": 1}\nnot json\n[1]\n{\"id\": 5}\n";
    CHECK(file_write_atomic(path, junk, strlen(junk), 0600, 0) == 0);
    h = history_open(path, 10, err, sizeof(err));
    CHECKF(h != NULL, "open junk: %s", err);
    CHECK(history_count(h) == 2 && id_at(h, 0) == 5 && id_at(h, 1) == 1);
    CHECK(file_lines(path, &nl) == 2); /* rewritten without the junk */
    history_free(h);

    /* a directory where the file should be: an error naming it */
    char sub[600];
    snprintf(sub, sizeof(sub), "%s/d", dir);
    CHECK(file_mkdir_p(sub, 0700, 0700) == 0);
    h = history_open(sub, 10, err, sizeof(err));
    CHECKF(h == NULL && strstr(err, sub) != NULL, "error: %s", err);
    history_free(h);
    tl_tmpdir_remove(dir);
}

int main(void)
{
    test_memory_bound();
    test_file_compaction();
    test_torn_line();
    return tl_done();
}
