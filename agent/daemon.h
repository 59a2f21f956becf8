/*
 * The daemon (`driftd run`): one event_base, created in main and passed in;
 * inputs feed the current window; windows are evaluated against the
 * baseline; decisions go to the alerts; state survives restarts.
 * This header is shared by the daemon's files (daemon.c, http.c, tail.c,
 * state.c); nothing outside the agent sees it.
 */
#ifndef DRIFTD_AGENT_DAEMON_H
#define DRIFTD_AGENT_DAEMON_H

#include "agent/config.h"
#include "agent/dataset.h"
#include "agent/drift.h"
#include "lib/log.h"
#include "agent/notify.h"
#include "agent/reader.h"
#include "agent/window.h"
#include "alerts/alert.h"
#include "alerts/github.h"
#include "alerts/http_client.h"
#include "alerts/outbox.h"
#include "alerts/secret.h"
#include "alerts/sinks.h"
#include "stats/baseline.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;

/* A counter's reserved mark in the state file: the counter may reach `at`
 * before the next save, and a daemon that did not stop cleanly resumes it
 * from there. Passing it saves the state (with a new mark) before what was
 * counted is acknowledged, so a counter never goes back after kill -9. */
struct state_mark {
    uint64_t at;
    uint64_t block; /* how far ahead of the value the next mark goes */
    double renewed; /* when the mark last moved; blocks grow when that is often */
};
struct http_conns;

/* One configured input and its counters. */
struct source {
    struct daemon *d;
    const struct input_conf *conf; /* points into d->cfg; refreshed on reload */
    enum input_type type;
    char *name; /* "http", "tail:/path", "stdin" */
    uint64_t records, rejected, reasons[READER_ERR_COUNT], checked;
    /* stdin and tail */
    struct reader *reader;
    long *colmap;
    size_t cap_colmap;
    bool partial; /* validate: sampled: the reader holds a line's beginning */
    struct event *ev;
    /* tail */
    struct tail *tail;
    /* Marks of the counters (state.c); a tail input's counters are instead
     * saved with its position, and its marks never pass. */
    struct state_mark mark_records, mark_reasons[READER_ERR_COUNT];
};

struct daemon {
    struct event_base *base;
    struct config cfg;
    char *config_path;
    struct stats_baseline *b;
    struct window *win;
    struct dataset *ds;
    /* A closed window is evaluated on a worker thread while the loop goes
     * on filling the next one; the loop finishes it (report, alerts) when
     * the worker signals eval_fd, or at once when it needs it done. */
    struct {
        bool running;
        pthread_t thread;
        int fd; /* eventfd */
        struct event *ev;
        double start, end;
        uint64_t id, records;
        size_t sampled;
        struct report *rep; /* the worker's result; NULL: out of memory */
    } eval;
    struct notify *notify;
    struct alerts *alerts;
    char *token; /* ingest bearer token, or NULL */

    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct http_conns *conns; /* cap, head deadline, early refusals */
    char listen_addr[128];    /* as bound: host:port */

    struct source *inputs;
    size_t n_inputs;
    struct source *http_input; /* or NULL */

    struct event *sig_hup, *sig_term, *sig_int, *window_timer, *tick, *watchdog;
    bool ready, stopping, reload_pending;
    double started;

    /* last evaluation */
    uint64_t windows_evaluated, next_window_id;
    double last_eval_at;
    char *last_json; /* report + window, as JSON object text */
    struct report *last;
    bool window_extended;
    uint64_t sampled_total;
    bool state_dirty;
    uint64_t consecutive_drift;

    /* outbound: one curl multi handle, the durable outbox, sinks, GitHub */
    struct http_client *http_out;
    struct outbox *outbox;
    struct http_sink **sinks; /* one per name ever configured, reused by reloads */
    size_t n_sinks_made;
    char **sink_names; /* per configured sink: outbox target or "log" */
    struct github *github;
    char *github_token;
    double last_dispatch_at, cooldown_until;
    char *last_status; /* the last STATUS= sent */

    /* state.c: the state_dir lock (held until exit), the marks of the
     * window numbering and of the global counters, and the health of
     * state writes: state_error is empty while the last write succeeded,
     * else it names the file and the error. */
    int state_lock_fd;
    struct state_mark mark_window_id, mark_windows, mark_sampled;
    double state_retry_at; /* no save for a mark before this, after a failure */
    uint64_t state_failures;
    struct log_limit state_log;
    char state_error[512];
};

/* Time in seconds since the epoch; replaceable in tests. */
extern double (*daemon_now)(void);

/* driftd run: the daemon on the configuration at path until a signal stops
 * it; 0, or 2 when it could not start or its loop failed. */
int daemon_run(const char *path);

int daemon_setup(struct daemon *d, struct event_base *base, const char *config_path);
void daemon_teardown(struct daemon *d);

/* Feed a record from any input into the current window (closing it when full). */
void daemon_record(struct daemon *d, struct source *in, const struct reader_record *rec,
                   bool na_tokens);
/* Count a record the window will not keep without parsing it (an input
 * with validate: sampled), and how many of the next records it will not keep. */
void daemon_count_unread(struct daemon *d, struct source *in);
uint64_t daemon_skip(const struct daemon *d);
/* Feed NDJSON text of an input with validate: sampled into its reader: a
 * complete line the window will not keep is counted by its newline alone,
 * never parsed. *partial says the reader holds the beginning of a line (the
 * previous text ended without a newline); false for a new reader. Returns
 * the lines counted unread. */
uint64_t daemon_feed_sampled(struct daemon *d, struct source *in, struct reader *r, const char *p,
                             size_t n, bool *partial);
/* Note a rejected record of an input. */
void daemon_reject(struct daemon *d, struct source *in, enum reader_error code);
/* Map a new reader column to a baseline feature in a colmap; returns the
 * reader callback's answer (0 keep, -1 ignore). */
int daemon_map_column(struct daemon *d, long **colmap, size_t *cap, size_t index, const char *name,
                      size_t len);

/* Close the current window now and evaluate it; -1 when it has fewer than
 * min_records (nothing changes). */
int daemon_evaluate_now(struct daemon *d);
/* Re-read config and baseline; on error keep the old ones and return -1
 * with the errors in errs. */
int daemon_reload(struct daemon *d, struct errlist *errs);
/* Begin a clean stop. */
void daemon_stop(struct daemon *d);

/* HTTP API (http.c). */
enum body_kind { BODY_NDJSON, BODY_JSON, BODY_CSV, BODY_UNKNOWN };
/* One POST /v1/ingest body of a Content-Type kind (not BODY_UNKNOWN) into
 * the http input, in nseg pieces (a JSON body: one): writes the JSON
 * answer to out and returns the status, 202 when a record was accepted,
 * 400 when none was, 500 out of memory. */
int http_ingest_body(struct daemon *d, enum body_kind kind, const struct evbuffer_iovec *seg,
                     size_t nseg, struct sbuf *out);
/* Drop the http input's kept reader and column map (a reload). */
void http_input_forget(struct daemon *d);
int http_start(struct daemon *d);
/* Limits of the configuration onto the server (start, reload). */
void http_configure(struct daemon *d);
void http_stop(struct daemon *d);
/* JSON of /v1/status, and the Prometheus text of /metrics. */
void status_json(struct daemon *d, struct sbuf *out);
void metrics_text(struct daemon *d, struct sbuf *out);

/* Inputs (tail.c): name them (before state_load), start and stop the
 * stream ones, free them. */
int sources_init(struct daemon *d);
int inputs_start(struct daemon *d);
void inputs_stop(struct daemon *d);
void source_free(struct source *in);
/* A tail input's committed position: the byte after the last complete
 * line fed, with the counters that include that line and no later one, and
 * a fingerprint of the bytes before it (a file truncated and rewritten
 * past it in place has other bytes there). */
struct tail_commit {
    uint64_t dev, ino, off;
    uint64_t fp;   /* 64-bit FNV-1a of the fp_len bytes before off */
    size_t fp_len; /* 0: no fingerprint (an older state file) */
    uint64_t records, rejected, reasons[READER_ERR_COUNT];
};
/* Where a tail input is, for a state save; and where to resume it after a
 * restart (the counters are taken from the source, loaded before). */
void tail_position(const struct source *in, struct tail_commit *c);
void tail_restore(struct source *in, const struct tail_commit *c);

/* State under state_dir (state.c). state_lock makes the directory this
 * process's (-1, logged, when another driftd holds it); state_load resumes
 * the counters (from their marks after an unclean stop); state_save writes
 * atomically, 0600, and keeps d->state_error. */
int state_lock(struct daemon *d);
int state_load(struct daemon *d);
int state_save(struct daemon *d);
/* Save now, unless a save failed less than a second ago: for a counter
 * past its mark, and for a tail input's new position. 0 when saved. */
int state_reserve(struct daemon *d);
/* The id of the next window, reserved in the state file first. */
uint64_t state_next_window_id(struct daemon *d);
/* The retrain part of the state, once GitHub is set up; the cooldown is
 * also saved on its own at each dispatch (retrain.json). */
void state_load_retrain(struct daemon *d);
int state_save_retrain(struct daemon *d);

#endif
