/*
 * The windows' history (history.h): a ring of the newest `keep` lines in
 * memory, an append-only NDJSON file compacted at 2 * keep lines.
 */
#include "agent/history.h"

#include "lib/file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct history {
    char *path; /* NULL: in memory only */
    int fd;     /* path opened for appending, or -1 */
    off_t size; /* of the file: where the next line starts */
    size_t file_lines;
    char **ring; /* keep slots; the newest at (head + keep - 1) % keep */
    size_t keep, head, n;
};

/* Drop every line held and the ring itself. */
static void ring_clear(struct history *h)
{
    for (size_t i = 0; i < h->keep && h->ring != NULL; i++)
        free(h->ring[i]);
    free(h->ring);
    h->ring = NULL;
    h->n = h->head = 0;
}

/* Hold line (taking it), dropping the oldest when the ring is full. */
static void ring_push(struct history *h, char *line)
{
    free(h->ring[h->head]);
    h->ring[h->head] = line;
    h->head = (h->head + 1) % h->keep;
    if (h->n < h->keep)
        h->n++;
}

const char *history_get(const struct history *h, size_t i)
{
    if (i >= h->n)
        return NULL;
    return h->ring[(h->head + h->keep - 1 - i) % h->keep];
}

size_t history_count(const struct history *h)
{
    return h->n;
}

size_t history_file_lines(const struct history *h)
{
    return h->file_lines;
}

/* Whether text (len bytes, no newline) is one JSON object. */
static bool is_object(const char *text, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(text, len);
    bool ok = j != NULL && cJSON_IsObject(j);
    cJSON_Delete(j);
    return ok;
}

/* (Re)open the file for appending at its end. */
static int open_append(struct history *h)
{
    if (h->fd >= 0)
        close(h->fd);
    h->fd = open(h->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (h->fd < 0)
        return -1;
    h->size = lseek(h->fd, 0, SEEK_END);
    return h->size < 0 ? -1 : 0;
}

/* Rewrite the file with the lines held, oldest first (atomically: a
 * crash leaves the old file or the new one), and append to the new one. */
static int compact(struct history *h)
{
    struct sbuf s;
    sbuf_init(&s);
    for (size_t i = h->n; i > 0; i--) {
        sbuf_adds(&s, history_get(h, i - 1));
        sbuf_addc(&s, '\n');
    }
    if (sbuf_failed(&s)) {
        sbuf_free(&s);
        errno = ENOMEM;
        return -1;
    }
    int rc = file_write_atomic(h->path, s.data ? s.data : "", s.len, 0600, 0);
    int err = errno;
    sbuf_free(&s);
    if (rc != 0) {
        errno = err;
        return -1;
    }
    h->file_lines = h->n;
    return open_append(h);
}

/* Read the file's complete lines into the ring; cut an incomplete last
 * line off; rewrite the file when it held lines that are not windows. */
static int load(struct history *h, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = file_read(h->path, &len);
    if (text == NULL && errno != ENOENT) {
        snprintf(err, errlen, "%s: %s", h->path, strerror(errno));
        return -1;
    }
    size_t done = 0, bad = 0;
    for (size_t at = 0; text != NULL && at < len;) {
        char *nl = memchr(text + at, '\n', len - at);
        if (nl == NULL)
            break; /* torn by a crash mid-append */
        size_t n = (size_t)(nl - (text + at));
        if (n > 0 && is_object(text + at, n)) {
            char *line = strndup(text + at, n);
            if (line == NULL) {
                free(text);
                snprintf(err, errlen, "%s: out of memory", h->path);
                return -1;
            }
            ring_push(h, line);
            h->file_lines++;
        } else {
            bad++;
        }
        at += n + 1;
        done = at;
    }
    free(text);
    if (done < len && truncate(h->path, (off_t)done) != 0) {
        snprintf(err, errlen, "%s: cutting off its incomplete last line: %s", h->path,
                 strerror(errno));
        return -1;
    }
    if (open_append(h) != 0 || ((bad > 0 || h->file_lines >= 2 * h->keep) && compact(h) != 0)) {
        snprintf(err, errlen, "%s: %s", h->path, strerror(errno));
        return -1;
    }
    return 0;
}

struct history *history_open(const char *path, size_t keep, char *err, size_t errlen)
{
    struct history *h = calloc(1, sizeof(*h));
    if (h == NULL || keep == 0) {
        snprintf(err, errlen, "%s: %s", path ? path : "history",
                 h == NULL ? "out of memory" : "keep must be at least 1");
        free(h);
        return NULL;
    }
    h->fd = -1;
    h->keep = keep;
    h->ring = calloc(keep, sizeof(*h->ring));
    h->path = path != NULL ? strdup(path) : NULL;
    if (h->ring == NULL || (path != NULL && h->path == NULL)) {
        snprintf(err, errlen, "%s: out of memory", path ? path : "history");
        history_free(h);
        return NULL;
    }
    if (h->path != NULL && load(h, err, errlen) != 0) {
        history_free(h);
        return NULL;
    }
    return h;
}

void history_free(struct history *h)
{
    if (h == NULL)
        return;
    ring_clear(h);
    if (h->fd >= 0)
        close(h->fd);
    free(h->path);
    free(h);
}

/* Write all of buf at the file's end and fsync it; a partial write is
 * cut off again so that the file never holds half a line. */
static int append(struct history *h, const char *buf, size_t len)
{
    if (h->fd < 0 && open_append(h) != 0)
        return -1;
    for (size_t off = 0; off < len;) {
        ssize_t w = write(h->fd, buf + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int err = w < 0 ? errno : ENOSPC;
            if (ftruncate(h->fd, h->size) != 0) {
                /* the torn line stays: the next start cuts it off, and
                 * until then the next line must not be glued to it */
                close(h->fd);
                h->fd = -1;
            }
            errno = err;
            return -1;
        }
        off += (size_t)w;
    }
    h->size += (off_t)len;
    h->file_lines++;
    return fsync(h->fd);
}

int history_add(struct history *h, const char *line)
{
    size_t len = strlen(line);
    if (memchr(line, '\n', len) != NULL || len == 0) {
        errno = EINVAL;
        return -1;
    }
    char *copy = malloc(len + 2);
    if (copy == NULL)
        return -1;
    memcpy(copy, line, len);
    copy[len] = '\n';
    copy[len + 1] = '\0';
    int rc = h->path != NULL ? append(h, copy, len + 1) : 0;
    int err = errno;
    copy[len] = '\0';
    ring_push(h, copy);
    if (rc == 0 && h->path != NULL && h->file_lines >= 2 * h->keep) {
        rc = compact(h);
        err = errno;
    }
    errno = err;
    return rc;
}

int history_set_keep(struct history *h, size_t keep)
{
    if (keep == 0) {
        errno = EINVAL;
        return -1;
    }
    if (keep == h->keep)
        return 0;
    char **ring = calloc(keep, sizeof(*ring));
    if (ring == NULL)
        return -1;
    size_t n = h->n < keep ? h->n : keep;
    /* oldest kept first, so that slot n - 1 is the newest */
    for (size_t i = 0; i < n; i++) {
        size_t from = (h->head + h->keep - n + i) % h->keep;
        ring[i] = h->ring[from];
        h->ring[from] = NULL;
    }
    ring_clear(h);
    h->ring = ring;
    h->keep = keep;
    h->n = n;
    h->head = n % keep;
    return 0;
}

void history_json(const struct history *h, size_t limit, struct sbuf *out)
{
    sbuf_adds(out, "{\"windows\": [");
    for (size_t i = 0; i < h->n && i < limit; i++) {
        sbuf_adds(out, i ? ",\n " : "\n ");
        sbuf_adds(out, history_get(h, i));
    }
    sbuf_printf(out, "], \"count\": %zu, \"keep\": %zu}\n", h->n, h->keep);
}
