/*
 * The table of source kinds, what every source has (name, marks, free),
 * and the stream reader the tail and stdin kinds share.
 */
#include "agent/source.h"

#include "agent/in_http.h"
#include "agent/in_stdin.h"
#include "agent/in_tail.h"
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The kinds, by the configuration's input type. */
static const struct source_ops *ops_of(enum input_type t)
{
    switch (t) {
    case INPUT_HTTP:
        return &in_http_ops;
    case INPUT_TAIL:
        return &in_tail_ops;
    case INPUT_STDIN:
        return &in_stdin_ops;
    }
    return NULL;
}

struct source *source_new(struct daemon *core, struct event_base *base,
                          const struct input_conf *conf)
{
    const struct source_ops *ops = ops_of(conf->type);
    struct source *s = ops != NULL ? calloc(1, sizeof(*s)) : NULL;
    if (s == NULL)
        return NULL;
    s->ops = ops;
    s->core = core;
    s->base = base;
    s->conf = conf;
    size_t n = strlen(ops->type) + (conf->path ? strlen(conf->path) : 0) + 2;
    if ((s->name = malloc(n)) == NULL) {
        free(s);
        return NULL;
    }
    /* a kind with a path is named by it: "tail:/var/log/x" */
    if (conf->type == INPUT_TAIL)
        snprintf(s->name, n, "%s:%s", ops->type, conf->path);
    else
        snprintf(s->name, n, "%s", ops->type);
    if (ops->save != NULL) { /* counted with the position instead */
        s->mark_records.at = UINT64_MAX;
        for (int r = 0; r < READER_ERR_COUNT; r++)
            s->mark_reasons[r].at = UINT64_MAX;
    }
    return s;
}

void source_free(struct source *s)
{
    if (s == NULL)
        return;
    if (s->ops->destroy != NULL)
        s->ops->destroy(s);
    reader_free(s->reader);
    colmap_free(&s->colmap);
    free(s->name);
    free(s);
}

static int stream_column(void *arg, size_t index, const char *name, size_t len)
{
    struct source *s = arg;
    return source_map_column(s, &s->colmap, index, name, len);
}

static void stream_record(void *arg, const struct reader_record *rec)
{
    struct source *s = arg;
    source_record(s, &s->colmap, rec, s->conf->format == READER_CSV);
}

static void stream_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                         const char *msg)
{
    struct source *s = arg;
    if (index == 0) {
        log_warn("%s: line %llu: %s", s->name, (unsigned long long)line, msg);
        return;
    }
    if (s->rejected < 10 || s->rejected % 10000 == 0)
        log_warn("%s: line %llu: %s (record skipped; %llu so far)", s->name,
                 (unsigned long long)line, msg, (unsigned long long)s->rejected + 1);
    source_reject(s, code);
}

bool source_stream_open(struct source *s)
{
    static const struct reader_ops ops = {stream_column, stream_record, stream_error};
    reader_free(s->reader);
    colmap_reset(&s->colmap);
    s->reader = reader_new((enum reader_format)s->conf->format, NULL, &ops, s);
    s->partial = false;
    return s->reader != NULL;
}

void source_stream_feed(struct source *s, const char *p, size_t n)
{
    if (s->conf->validate == VALIDATE_SAMPLED && s->conf->format == READER_NDJSON)
        source_feed_sampled(s, s->reader, p, n, &s->partial);
    else
        reader_feed(s->reader, p, n);
}

uint64_t source_feed_sampled(struct source *s, struct reader *r, const char *p, size_t n,
                             bool *partial)
{
    const char *end = p + n;
    uint64_t unread = 0;
    if (*partial) { /* the rest of a line the reader began */
        const char *nl = memchr(p, '\n', n);
        if (nl == NULL) {
            reader_feed(r, p, n);
            return 0;
        }
        reader_feed(r, p, (size_t)(nl + 1 - p));
        p = nl + 1;
        *partial = false;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) { /* its rest may come with the next text */
            reader_feed(r, p, (size_t)(end - p));
            *partial = true;
            break;
        }
        const char *q = p;
        if (reader_lines(r) == 0 && nl - q >= 3 && memcmp(q, "\xEF\xBB\xBF", 3) == 0)
            q += 3; /* a BOM opening the input is not content, as for the reader */
        while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < nl && source_skip(s) > 0) {
            source_count_unread(s);
            reader_skip(r, 1, 1);
            unread++;
        } else { /* kept, or blank (the reader counts it) */
            reader_feed(r, p, (size_t)(nl + 1 - p));
        }
        p = nl + 1;
    }
    return unread;
}
