/*
 * What every source has (name, marks, free) and the stream reader the
 * tail and stdin kinds share. The table of kinds is agent/source_table.c.
 */
#include "agent/source.h"

#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct source *source_make(const struct source_ops *ops, struct daemon *core,
                           struct event_base *base, const struct input_conf *conf)
{
    struct source *s = calloc(1, sizeof(*s));
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
    if (!source_record(s, &s->colmap, rec, s->conf->format == READER_CSV, NULL) &&
        (s->rejected < 10 || s->rejected % 10000 == 0))
        log_warn("%s: line %llu: none of its columns is a feature of the baseline (record "
                 "skipped; %llu so far)",
                 s->name, (unsigned long long)rec->line, (unsigned long long)s->rejected);
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
    struct reader_limits lim = {0, 0, config_delimiter(s->conf->delimiter)};
    s->reader = reader_new((enum reader_format)s->conf->format, &lim, &ops, s);
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

/* The window will not keep the next record: count it unread. */
static bool sampled_skip(void *arg)
{
    struct source *s = arg;
    if (source_skip(s) == 0)
        return false;
    source_count_unread(s);
    return true;
}

uint64_t source_feed_sampled(struct source *s, struct reader *r, const char *p, size_t n,
                             bool *partial)
{
    return reader_feed_sampled(r, p, n, sampled_skip, s, partial);
}
