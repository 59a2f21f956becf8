/*
 * What the daemon is made of, shared by daemon.c and state.c only (state.c
 * saves and resumes its counters). Everything else reads the daemon
 * through daemon.h.
 */
#ifndef DRIFTD_AGENT_DAEMON_PRIV_H
#define DRIFTD_AGENT_DAEMON_PRIV_H

#include "agent/daemon.h"
#include "agent/dataset.h"
#include "agent/notify.h"
#include "agent/window.h"
#include "alerts/alert.h"
#include "alerts/http_client.h"
#include "alerts/secret.h"
#include "alerts/sinks.h"
#include "lib/log.h"
#include "stats/baseline.h"

#include <pthread.h>

/* A window evaluated on the worker, waiting for the loop to finish it. */
struct closed_window {
    struct closed_window *next;
    double start, end;
    uint64_t id, records;
    size_t sampled;
    struct report *rep; /* NULL: out of memory evaluating it */
};

struct daemon {
    struct event_base *base;
    struct config cfg;
    char *config_path;
    struct stats_baseline *b;
    struct window *win;
    struct dataset *ds;
    /* A closed window is evaluated on a worker thread while the loop goes
     * on filling the next one. A window that fills inside a source's
     * callback is only closed there (its sample copied, the worker
     * started); what follows (report, alerts, dispatch, state) is done
     * from the loop, by `finish`, for each window in `done` in order. */
    struct {
        bool running;
        pthread_t thread;
        int fd; /* eventfd */
        struct event *ev;
        struct closed_window cur; /* the one on the worker */
        struct closed_window *done, **done_tail;
        struct event *finish;
    } eval;
    struct notify *notify;
    struct alerts *alerts;
    char *token;           /* ingest bearer token, or NULL */
    char listen_addr[128]; /* the API's, for links in notifications */
    void (*on_reload)(void *arg);
    void *on_reload_arg;

    struct source **sources;
    size_t n_sources;

    struct event *sig_hup, *sig_term, *sig_int, *reload_ev, *window_timer, *tick, *watchdog;
    bool ready, stopping;
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
    struct http_client *client;
    struct outbox *outbox;
    struct http_sink **sinks; /* one per name ever configured, reused by reloads */
    size_t n_sinks_made;
    char **sink_names;                    /* per configured sink: outbox target or "log" */
    struct daemon_sink_stats *sink_stats; /* scratch of daemon_snapshot */
    struct github *github;
    char *github_token;
    double last_dispatch_at, cooldown_until;
    char *last_status;    /* the last STATUS= sent */
    uint64_t alerts_lost; /* decisions not handed to the alerts: out of memory */
    struct log_limit alerts_lost_log;

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
