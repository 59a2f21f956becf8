/*
 * struct daemon, shared by daemon.c (its life, windows, reload) and
 * loop.c (the closed loop: fetching, staging and adopting baselines), and
 * nothing else: every other file goes through daemon.h.
 */
#ifndef DRIFTD_AGENT_DAEMON_PRIV_H
#define DRIFTD_AGENT_DAEMON_PRIV_H

#include "agent/adopt.h"
#include "agent/config.h"
#include "agent/state.h"
#include "alerts/alert.h"
#include "alerts/github.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "lib/sha256.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct report;
struct html_view;
struct history;
struct cell;
struct stats_baseline;

/* A window evaluated on the worker, waiting for the loop to finish it. */
struct closed_window {
    struct closed_window *next;
    double start, end;
    uint64_t id, records;
    size_t sampled;
    bool below_min;         /* the last window of ended inputs, under window.min_records */
    struct report *rep;     /* NULL: out of memory evaluating it */
    struct html_view *view; /* its pictures' numbers (agent/html.h); NULL: out of memory */
};

struct daemon {
    struct event_base *base;
    struct config cfg;
    char *config_path;
    struct stats_baseline *b;
    char baseline_sha256[SHA256_HEX_LEN + 1]; /* of the bytes b was parsed from */
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

    struct event *sig_hup, *sig_term, *sig_int, *reload_ev, *end_ev, *window_timer, *tick,
        *watchdog;
    bool ready, stopping;
    double started;

    /* the counters and the last evaluation, saved by the state */
    struct state *state;
    struct state_counts counts;
    struct state_parts parts;
    char *last_json; /* report + window, as JSON object text */
    struct report *last;
    struct html_view *last_view; /* d->last's pictures, for GET /v1/report/latest.html */
    struct history *history;     /* GET /v1/history: state_dir/history.ndjson */
    struct log_limit history_log;
    uint64_t last_id, last_records; /* d->last's window */
    bool window_extended;
    bool state_dirty;

    /* outbound: one curl multi handle, the durable outbox, sinks, GitHub */
    struct http_client *client;
    struct outbox *outbox;
    struct http_sink **sinks; /* one per name ever configured, reused by reloads */
    size_t n_sinks_made;
    char **sink_names;                    /* per configured sink: outbox target or "log" */
    struct daemon_sink_stats *sink_stats; /* scratch of daemon_snapshot */
    struct retrain *retrain;
    char *github_token;
    char *last_status;    /* the last STATUS= sent */
    uint64_t alerts_lost; /* decisions not handed to the alerts: out of memory */
    struct log_limit alerts_lost_log;

    /* the closed loop (loop.c) */
    struct adopt *adopt;
    char *baseline_path;                 /* the file d->b came from */
    struct event *adopt_ev;              /* adopt `adopt_next` from the loop */
    char adopt_next[SHA256_HEX_LEN + 1]; /* on_success: at the next window boundary */
    /* the run whose artifact is being fetched, and the last run seen started */
    char fetch_corr[64], fetch_run_url[512], fetch_artifact[256];
    uint64_t run_started;
    /* on_version: records by model version, and the version awaited */
    struct adopt_version versions[ADOPT_VERSIONS];
    size_t n_versions;
    char ver_next[128], ver_sha[SHA256_HEX_LEN + 1];
    uint64_t ver_new, ver_old; /* this window's records of the awaited / other versions */

    /* replicas on NATS JetStream (agent/cluster.c): NULL without a nats input */
    struct cluster *cluster;
    bool leading;            /* sources started, acting as the leader */
    uint64_t commit_pending; /* a finished window whose shared state is not written yet */
    struct log_limit cluster_log;
    char not_ready_buf[512]; /* daemon_not_ready's answer from a source or the cluster */
    /* a standby getting the leader's baseline from its run's artifact */
    char follow_sha[SHA256_HEX_LEN + 1];
    bool follow_fetching;
    double follow_checked;
};

/* daemon.c: wait for the window on the worker and finish every closed one */
void daemon_eval_wait(struct daemon *d);
/* daemon.c: close the open window (forced: evaluated and finished now;
 * final: even under window.min_records); -1 when it was not closed */
int daemon_close_window(struct daemon *d, bool forced, bool final);
/* daemon.c: save the state file now */
int daemon_save(struct daemon *d);
/* daemon.c: run on b (parsed from path, whose bytes hash to sha) from now
 * on; the open window must be empty or of the same features (it is kept
 * then, else dropped). The old baseline is freed. */
void daemon_swap_baseline(struct daemon *d, struct stats_baseline *b, const char *sha,
                          const char *path);

/* daemon.c: start or stop every source */
int daemon_sources_start(struct daemon *d);
void daemon_sources_stop(struct daemon *d);
/* daemon.c: forget the windows closed and not finished, and the open one
 * (a replica that stops leading: the next leader reads their records) */
void daemon_drop_windows(struct daemon *d);

/* replica.c: replicas on NATS JetStream (docs/scale-out.md). With a nats
 * input the daemon contends for the model's lease (replica_new, after the
 * state is loaded; replica_start, where the sources would start) and
 * starts its sources only while it leads: replica_check, on a change of
 * role and every tick, takes over (the shared state resumed, the sources
 * started) or steps down (sources stopped, windows dropped). Without one
 * these do nothing and replica_may_act is always true. */
int replica_new(struct daemon *d);
int replica_start(struct daemon *d);
void replica_check(struct daemon *d);
bool replica_may_act(struct daemon *d);
/* Share the state after window id was finished: 0 when written (or no
 * cluster), -1 when not (tried again by the tick; the window's messages
 * wait for it). */
int replica_commit(struct daemon *d, uint64_t id);
void replica_status_json(const struct daemon *d, struct sbuf *out);
void replica_free(struct daemon *d);

/* loop.c: choose the baseline to start on (the adopted one, unless the
 * configuration's file changed since); after the state lock, before the
 * window is set up. -1 only when out of memory. */
int loop_start(struct daemon *d);
/* loop.c: a reload parsed the configuration's baseline into *b: keep the
 * adopted one instead (replacing *b and sha) unless that file changed.
 * Returns the path of the baseline to run on. */
const char *loop_reload(struct daemon *d, struct stats_baseline **b, char sha[SHA256_HEX_LEN + 1]);
/* loop.c: " (the adopted baseline 0123456789ab from RUN_URL)" for the ready
 * line, or "" on the configuration's own. */
void loop_describe(const struct daemon *d, char *buf, size_t len);
/* loop.c: a window closed: a baseline waiting for the boundary is adopted
 * from the loop, after the window is evaluated against the old one. */
void loop_window_closed(struct daemon *d);
void loop_free(struct daemon *d);
/* loop.c: the artifact name of the run with correlation id corr
 * (retrain.adopt.artifact expanded); -1 when it names an unknown variable. */
int loop_artifact_name(struct daemon *d, const char *corr, char *out, size_t len);
/* loop.c: a record carrying a model version in inputs[].version_field:
 * counted, and false when it must be kept out of the active baseline's
 * window (on_version: a record of the version awaited, or after the
 * adoption one of an older version). */
bool loop_record_version(struct daemon *d, const struct cell *version);
/* loop.c: GitHub's news (retrain_on_news): a dispatch failed or a run
 * finished; a run changed status. */
void loop_news(void *arg, enum alert_kind kind, const struct github_state *st);
void loop_run_status(void *arg, const struct github_state *st);
/* loop.c: window id's drift dispatched the workflow with this correlation id. */
void loop_dispatched(struct daemon *d, const char *correlation_id, uint64_t window_id);

#endif
