/*
 * Sources: where records come from. Each kind (http, tail, stdin) is one
 * table of callbacks, `struct source_ops`, and each configured input one
 * `struct source`, as Fluent Bit's input plugins are. A source reads and
 * parses; it hands each record to the core through the narrow API at the
 * end of this header and never sees a window, an evaluation or an alert.
 * The daemon starts, stops, reloads and saves sources through the table
 * and names no kind.
 */
#ifndef DRIFTD_AGENT_SOURCE_H
#define DRIFTD_AGENT_SOURCE_H

#include "agent/colmap.h"
#include "agent/config.h"
#include "agent/reader.h"
#include "agent/window.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "stats/baseline.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon; /* the core the sources feed */
struct source;

/* A source's counters as a state save writes them. */
struct source_counts {
    uint64_t records, rejected, reasons[READER_ERR_COUNT];
};

struct source_ops {
    const char *type; /* "http", "tail", "stdin": status and metrics say it */
    /* Begin reading (after the state is loaded); -1 when it cannot. */
    int (*start)(struct source *s);
    /* Stop reading; called again at teardown. */
    void (*stop)(struct source *s);
    /* The configuration or the baseline changed (s->conf is the new row):
     * column maps point into the old baseline. */
    void (*reload)(struct source *s);
    /* A source with a position (tail) saves it with the counters that
     * position includes, as JSON members after them; NULL for the others,
     * whose live counters are saved with marks. */
    void (*save)(const struct source *s, struct source_counts *c, struct sbuf *members);
    /* Resume from the source's state entry (counters already restored). */
    void (*restore)(struct source *s, const cJSON *entry);
    /* The window `id` closed (a source with a position notes where the
     * next window's records begin in it) / was evaluated and its results
     * kept (that place becomes where a start after a crash resumes). */
    void (*window_closed)(struct source *s, uint64_t id);
    void (*window_finished)(struct source *s, uint64_t id);
    /* Extra members of the source's /v1/status entry (a tail's path). */
    void (*status)(const struct source *s, struct sbuf *members);
    /* Why the source cannot read now (a nats input without a server), for
     * /readyz and /v1/status; NULL while it can. */
    const char *(*not_ready)(const struct source *s, char *buf, size_t len);
    /* Its failures by reason (driftd_input_errors_total{input,reason}): fn
     * once for each reason it has. */
    void (*errors)(const struct source *s, void (*fn)(void *arg, const char *reason, uint64_t n),
                   void *arg);
    /* Free what the kind holds (s->ctx). */
    void (*destroy)(struct source *s);
};

/* A counter's reserved mark in the state file: the counter may reach `at`
 * before the next save, and a daemon that did not stop cleanly resumes it
 * from there. Passing it saves the state (with a new mark) before what was
 * counted is acknowledged, so a counter never goes back after kill -9. */
struct state_mark {
    uint64_t at;
    uint64_t block; /* how far ahead of the value the next mark goes */
    double renewed; /* when the mark last moved; blocks grow when that is often */
};

/* One configured input. The counters are the core's (source_record and
 * source_reject keep them); the kind keeps its own in ctx. */
struct source {
    const struct source_ops *ops;
    struct daemon *core;
    struct event_base *base;
    const struct input_conf *conf; /* a row of the running configuration */
    char *name;                    /* "http", "tail:/path", "stdin" */
    uint64_t records, rejected, reasons[READER_ERR_COUNT], checked;
    /* Columns its readers met that are not baseline features (their
     * values are dropped), and the log line that names them. */
    uint64_t unknown_columns;
    struct log_limit unknown_log;
    /* Marks of the counters (state.c); a source with a position saves its
     * counters with it instead, and its marks never pass. */
    struct state_mark mark_records, mark_reasons[READER_ERR_COUNT];
    /* The stream reader of a kind that reads one (source_stream_*). */
    struct reader *reader;
    struct colmap colmap;
    bool partial; /* validate: sampled: the reader holds a line's beginning */
    bool ended;   /* read all it ever will (source_ended) */
    /* The window open at the last stop was resumed from state_dir: a
     * source with a position goes on from it, not from the window's start. */
    bool window_resumed;
    void *ctx;
};

/* A source of kind ops for a configured input (agent/source_table.c
 * picks ops from the input's type); NULL out of memory. conf must outlive
 * it (reloads repoint it). */
struct source *source_make(const struct source_ops *ops, struct daemon *core,
                           struct event_base *base, const struct input_conf *conf);
void source_free(struct source *s);

/* Stream kinds (tail, stdin): a reader of the configured format whose
 * records and errors go to the core; a new one forgets the old one's
 * columns. Then feed it text: with validate: sampled, NDJSON lines the
 * window will not keep are counted by their newline, never parsed. */
bool source_stream_open(struct source *s);
void source_stream_feed(struct source *s, const char *p, size_t n);
/* Feed NDJSON text of a validate: sampled source into r: a complete line
 * the window will not keep is counted by its newline alone, never parsed.
 * *partial says r holds the beginning of a line (false for a new reader).
 * Returns the lines counted unread. */
uint64_t source_feed_sampled(struct source *s, struct reader *r, const char *p, size_t n,
                             bool *partial);

/* ---- The core API: implemented by the daemon, called by sources. ---- */

/* One parsed record; colmap maps the reader's columns to features. A
 * record none of whose columns is a baseline feature is rejected instead
 * (no_feature): false, and nothing was counted as accepted. te, when not
 * NULL, is told of the record's type errors (window_add). */
bool source_record(struct source *s, const struct colmap *colmap, const struct reader_record *rec,
                   bool na_tokens, const struct window_type_errors *te);
/* A record skipped by the reader, for that reason. */
void source_reject(struct source *s, enum reader_error code);
/* A record the window will not keep, counted without parsing it. */
void source_count_unread(struct source *s);
/* How many of the next records the window will not keep. */
uint64_t source_skip(const struct source *s);
/* Map a reader's new column to a baseline feature; the reader callback's
 * answer (0 keep, -1 ignore). */
int source_map_column(struct source *s, struct colmap *colmap, size_t index, const char *name,
                      size_t len);
/* The model's name (config `model`) and the windows' length in seconds. */
const char *source_model(const struct source *s);
/* The configuration file (relative secret names start from its directory). */
const char *source_config_path(const struct source *s);
double source_window_seconds(const struct source *s);
/* The running baseline (its features name what a source expects). */
const struct stats_baseline *source_baseline(const struct source *s);
/* The source has read all it ever will (stdin at its end). When every
 * source has, the daemon evaluates the last window and stops. */
void source_ended(struct source *s);
/* Whether the source may read now: false on a standby replica (with a
 * nats input, agent/replica.c), which starts its sources to connect and
 * show their state but reads once it leads (start is called again then). */
bool source_leading(const struct source *s);
/* The daemon is stopping: read no more. */
bool source_stopping(const struct source *s);
/* A position moved: save soon (source_reserve: now, unless a save failed
 * less than a second ago; 0 when saved). */
void source_position_moved(struct source *s);
int source_reserve(struct source *s);

#endif
