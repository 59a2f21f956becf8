/*
 * The daemon (`driftd run`): the core that sources feed. It owns the
 * configuration, the baseline, the window and its evaluation, the alerts
 * and the state; it is built on one event_base handed in. What it is made
 * of stays in daemon.c: the API (agent/api.c) and the command read it
 * through the functions below, status and metrics from one snapshot.
 */
#ifndef DRIFTD_AGENT_DAEMON_H
#define DRIFTD_AGENT_DAEMON_H

#include "agent/adopt.h"
#include "agent/config.h"
#include "agent/drift.h"
#include "agent/source.h"
#include "alerts/outbox.h"
#include "alerts/retrain.h"
#include "lib/errors.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct daemon;

/* Time in seconds since the epoch; replaceable in tests. */
extern double (*daemon_now)(void);

/* driftd run: the daemon and its API on the configuration at path until a
 * signal stops them (agent/run.c); 0, or 2 when they could not start or
 * the loop failed. */
int daemon_run(const char *path);

/* Load the configuration, baseline and state (state_dir locked), make the
 * sources, the outbound client, the outbox and the retraining policy
 * (GitHub), and resume a window a clean stop kept; nothing is bound or
 * read yet. NULL, with the errors printed or logged, when it cannot. */
struct daemon *daemon_new(struct event_base *base, const char *config_path);
/* Start delivering and reading: sinks (their links point at listen_addr,
 * the API's address as bound), the spool's replay, the sources, the window
 * timer; then tell systemd READY=1. -1 when it cannot. */
int daemon_start(struct daemon *d, const char *listen_addr);
/* Free everything (joins an evaluation still running). */
void daemon_free(struct daemon *d);

/* Called after every successful reload (the API takes its new limits). */
void daemon_on_reload(struct daemon *d, void (*fn)(void *arg), void *arg);

/* Close the current window now and evaluate it; -1 when it has fewer than
 * min_records (nothing changes). */
int daemon_evaluate_now(struct daemon *d);
/* Re-read config and baseline; on error keep the old ones and return -1
 * with the errors in errs. */
int daemon_reload(struct daemon *d, struct errlist *errs);
/* Begin a clean stop. */
void daemon_stop(struct daemon *d);

/* What the API reads. The configuration is the running one (a reload
 * replaces it: do not keep the pointer across loop turns). */
const struct config *daemon_config(const struct daemon *d);
const char *daemon_token(const struct daemon *d); /* ingest bearer token, or NULL */
bool daemon_stopping(const struct daemon *d);
uint64_t daemon_window_records(const struct daemon *d);
const char *daemon_last_json(const struct daemon *d); /* the last report, or NULL */
/* GET /v1/history: {"windows": [...]} newest first, at most limit. */
void daemon_history_json(const struct daemon *d, size_t limit, struct sbuf *out);
/* The windows' history, for the live page (agent/history.h). */
struct history;
const struct history *daemon_history(const struct daemon *d);
/* The last window's HTML report (fragment: its body alone, for the live
 * page) appended to out: 0, 1 when no window was evaluated since the start
 * (a report restored from the state has no pictures), -1 out of memory. */
int daemon_last_html(const struct daemon *d, bool fragment, struct sbuf *out);
/* Why the daemon cannot do its whole job now (starting, spool or state
 * not writable), or NULL when it can. */
const char *daemon_not_ready(const struct daemon *d);
/* The configured source of a kind, or NULL. */
struct source *daemon_source_of(const struct daemon *d, const struct source_ops *ops);

/* One sink's delivery counters. */
struct daemon_sink_stats {
    const char *name; /* outbox target, or "log" */
    struct outbox_stats st;
};

/* Everything /v1/status and /metrics show, read at one moment. Pointers
 * are the daemon's, valid until the loop turns. */
struct daemon_snapshot {
    const char *model, *baseline_path;
    double uptime;
    size_t features;
    uint64_t baseline_rows, baseline_sample_rows;
    uint64_t window_id, window_records, min_records;
    size_t window_sampled;
    double window_start;
    bool window_extended;
    uint64_t windows_evaluated, sampled_total;
    double last_eval_at;
    const char *last_json;      /* or NULL */
    const struct report *last;  /* or NULL */
    struct outbox_stats alerts; /* totals; the log sink's events count as sent */
    uint64_t alert_events;
    bool firing;
    const struct daemon_sink_stats *sinks;
    size_t n_sinks;
    const struct retrain *retrain;
    const struct adopt *adopt; /* the closed loop's record */
    const struct adopt_version *versions;
    size_t n_versions;
    uint64_t alerts_lost;   /* decisions never handed to the alerts: out of memory */
    uint64_t client_errors; /* the HTTP client's errors from curl and libevent */
    struct source *const *sources;
    size_t n_sources;
    const char *spool_error, *state_error, *not_ready; /* or NULL */
    int leader; /* replicas on NATS: 1 leading, 0 standby; -1 without a nats input */
    uint64_t lease_acquired, lease_lost;
};
/* The "cluster" object of /v1/status (agent/cluster.c), or null. */
void daemon_cluster_json(const struct daemon *d, struct sbuf *out);
void daemon_snapshot(struct daemon *d, struct daemon_snapshot *v);

/* The closed loop's endpoints (agent/loop.c). Each returns the HTTP status
 * and writes the JSON answer into out. POST /v1/baseline: the body is a
 * baseline file, validated, kept and staged (adopt: and adopted now);
 * POST /v1/baseline/adopt: {"sha256": "..."} of a staged one;
 * POST /v1/baseline/rollback: back to the previous one. */
int daemon_baseline_post(struct daemon *d, const char *body, size_t len, bool adopt,
                         struct sbuf *out);
int daemon_baseline_adopt(struct daemon *d, const char *body, size_t len, struct sbuf *out);
int daemon_baseline_rollback(struct daemon *d, struct sbuf *out);
/* GET /v1/events: the loop's timeline, newest first, at most limit. */
void daemon_events_json(const struct daemon *d, size_t limit, struct sbuf *out);

#endif
