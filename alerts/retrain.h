/*
 * The retraining policy, beside the GitHub client that carries it out:
 * dispatch the workflow once dataset drift has held for `consecutive`
 * evaluated windows and the cooldown since the last dispatch has passed,
 * tag the dispatch and the drift alert with one correlation id
 * ("driftd-<window id>-<6 hex>"), and route GitHub's results (a dispatch
 * that failed, a run that finished) to the alerts' sinks.
 *
 * Its state survives restarts in two places: the "retrain" member of the
 * daemon's state file (retrain_state_json / retrain_state_load), and
 * state_dir/retrain.json, written at each dispatch so that a crash in the
 * next second cannot lose the cooldown; the later of the two wins.
 */
#ifndef DRIFTD_ALERTS_RETRAIN_H
#define DRIFTD_ALERTS_RETRAIN_H

#include "alerts/alert.h"
#include "alerts/github.h"
#include "alerts/http_client.h"
#include "alerts/outbox.h"
#include "lib/sbuf.h"

#include <cjson/cJSON.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct retrain_conf {
    const char *model;
    uint64_t consecutive; /* drifted windows in a row before a dispatch (0 counts as 1) */
    double cooldown;      /* seconds from a dispatch to the next one */
    bool dry_run;         /* log the dispatch instead of sending it */
    /* NULL: no GitHub retraining configured. Its token is a string handed
     * in (reading token_file is the caller's job); its dry_run is replaced
     * by the one above. */
    const struct github_settings *github;
};

struct retrain;

/* A policy whose dispatches go through ob and http on base and whose
 * news goes to alerts; now is its only clock. retrain_file is where the
 * cooldown is written at each dispatch (state_dir/retrain.json); changed,
 * when not NULL, is called with arg when GitHub's answer changed the state
 * (a reason to save it soon). NULL on failure (out of memory, a GitHub
 * client that could not be made). */
struct retrain *retrain_new(const struct retrain_conf *conf, struct alerts *alerts,
                            struct outbox *ob, struct http_client *http, struct event_base *base,
                            double (*now)(void), const char *retrain_file,
                            void (*changed)(void *arg), void *arg);
void retrain_free(struct retrain *rt);

/* New settings (reload). The counts, the cooldown and a run being followed
 * are kept. A configuration without GitHub keeps a client made before (a
 * restart drops it), as the daemon always did. Returns 0 or -1. */
int retrain_configure(struct retrain *rt, const struct retrain_conf *conf);

/* What happened to retrain.json in retrain_window. */
enum retrain_write {
    RETRAIN_NOT_WRITTEN,  /* no dispatch, nothing to write */
    RETRAIN_WRITTEN,      /* a dispatch, and its cooldown is on disk */
    RETRAIN_WRITE_FAILED, /* a dispatch whose cooldown could not be written (errno says why) */
};

/* One evaluated window, in one step: count it, dispatch the workflow when
 * the policy says so, then hand the decision, with the dispatch's
 * correlation id when there was one, to alerts_window at `now`. The
 * caller's decision is not changed (its correlation_id is ignored). */
enum retrain_write retrain_window(struct retrain *rt, const struct alert_decision *d, double now);

/* Drifted windows in a row so far; the state file keeps it at its top
 * level ("consecutive_drift"), so it is restored on its own. */
uint64_t retrain_consecutive(const struct retrain *rt);
void retrain_restore_consecutive(struct retrain *rt, uint64_t n);

/* The "retrain" member of the state file: a JSON object with
 * last_dispatch_at and cooldown_until, and with GitHub the last result,
 * the run followed and the counters. */
void retrain_state_json(const struct retrain *rt, struct sbuf *out);
/* Resume from the state file's "retrain" member (NULL: none, or no state
 * file), then from retrain.json, whose times win when they are later. A
 * run that was being followed is followed again. Call once GitHub is
 * configured. */
void retrain_state_load(struct retrain *rt, const cJSON *member);

/* The "retrain" member of /v1/status: configured, dry_run, the times, the
 * last result, the run, consecutive_drift and consecutive. run_extra, when
 * not NULL, is JSON text (", \"key\": value...") added inside the run
 * object (the closed loop's artifact and adoption). */
void retrain_status_json(const struct retrain *rt, const char *run_extra, struct sbuf *out);

/* Dispatches by result since the state began (zeros without GitHub). */
struct retrain_counts {
    uint64_t ok, failed, dry_runs;
};
struct retrain_counts retrain_counts(const struct retrain *rt);

/* Who else hears GitHub's news (the closed loop): news(arg, kind, st)
 * after the sinks, for a failed dispatch or a finished run; run_status(arg,
 * st) whenever the run followed changes status. */
void retrain_on_news(struct retrain *rt,
                     void (*news)(void *arg, enum alert_kind kind, const struct github_state *st),
                     void (*run_status)(void *arg, const struct github_state *st), void *arg);
/* The GitHub client (NULL without retrain.github): the loop fetches the
 * run's artifact with its token. */
struct github *retrain_github(struct retrain *rt);
/* The correlation id of the last dispatch ("" before any). */
const char *retrain_correlation_id(const struct retrain *rt);

#endif
