/*
 * A model's replicas on NATS JetStream (docs/scale-out.md): the daemon's
 * half of agent/cluster.c. Only the leader reads its nats input, evaluates,
 * alerts and dispatches; a standby runs its API and waits. Taking over
 * resumes the state the last leader shared (window numbering, the alerts'
 * episode, the retraining's cooldown and run), then starts the sources;
 * stepping down stops them, which gives every message not yet acknowledged
 * back to the stream, and drops the windows they were in.
 */
#include "agent/cluster.h"
#include "agent/daemon.h"
#include "agent/daemon_priv.h"
#include "agent/in_nats.h"
#include "agent/state.h"
#include "alerts/artifact.h"
#include "alerts/github.h"
#include "alerts/retrain.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "stats/baseline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_changed(void *arg)
{
    replica_check(arg);
}

int replica_new(struct daemon *d)
{
    const struct input_conf *nats = NULL;
    for (size_t i = 0; i < d->cfg.n_inputs; i++)
        if (d->cfg.inputs[i].type == INPUT_NATS)
            nats = &d->cfg.inputs[i];
    if (nats == NULL)
        return 0;
    d->cluster_log.every = 10;
    d->cluster = cluster_new(d->base, &d->cfg, nats, on_changed, d);
    return d->cluster != NULL ? 0 : -1;
}

int replica_start(struct daemon *d)
{
    /* a standby's sources connect and show their state; they read once
     * it leads (source_leading) */
    if (d->cluster != NULL && cluster_start(d->cluster) != 0)
        return -1;
    return daemon_sources_start(d);
}

bool replica_may_act(struct daemon *d)
{
    if (d->cluster == NULL)
        return true;
    if (d->leading && !cluster_acting(d->cluster))
        replica_check(d);
    return d->leading;
}

/* Where this replica keeps the baseline of that sha256: the configured
 * file when it is that one, else state_dir/baselines/<sha256>.json
 * (malloc'd; NULL out of memory). */
static char *baseline_path_of(struct daemon *d, const char *sha)
{
    if (strcmp(sha, adopt_config_sha(d->adopt)) == 0)
        return strdup(d->cfg.baseline);
    return adopt_path_of(d->adopt, sha);
}

/* Run on the baseline the shared state names, when it is not the one
 * running: the configured file or a stored copy (baseline_path_of), its
 * sha256 checked. -1 (with why) when this replica has neither. */
static int follow_baseline(struct daemon *d, const char *sha, const char *run_url, const char *corr,
                           char *why, size_t len)
{
    if (sha[0] == '\0' || strcmp(sha, d->baseline_sha256) == 0)
        return 0;
    char *path = baseline_path_of(d, sha);
    size_t n;
    char *text = path != NULL ? file_read(path, &n) : NULL;
    struct stats_baseline *b = NULL;
    char err[300] = "";
    if (text != NULL) {
        char got[SHA256_HEX_LEN + 1];
        sha256_hex(text, n, got);
        if (strcmp(got, sha) == 0 && stats_baseline_parse(text, n, path, &b, err, sizeof(err)) != 0)
            b = NULL;
    }
    free(text);
    if (b == NULL) {
        snprintf(why, len,
                 "the leader's baseline %.12s is not in %s/baselines: this replica cannot take "
                 "over until it has it",
                 sha, d->cfg.state_dir);
        free(path);
        return -1;
    }
    log_notice("cluster: running on the shared baseline %.12s (%s)", sha, path);
    /* recorded as adopted here too: status, metrics and a restart say so */
    struct adopt_entry e = {.source = strcmp(sha, adopt_config_sha(d->adopt)) == 0 ? ADOPT_FROM_FILE
                                      : run_url[0]                                 ? ADOPT_FROM_RUN
                                                                                   : ADOPT_FROM_API,
                            .rows = b->rows,
                            .features = b->nfeatures,
                            .at = daemon_now()};
    snprintf(e.sha256, sizeof(e.sha256), "%s", sha);
    snprintf(e.path, sizeof(e.path), "%s", path);
    snprintf(e.run_url, sizeof(e.run_url), "%s", run_url);
    snprintf(e.correlation_id, sizeof(e.correlation_id), "%s", corr);
    daemon_swap_baseline(d, b, sha, path);
    adopt_set_active(d->adopt, &e);
    adopt_event(d->adopt, "baseline_adopted", corr[0] ? corr : NULL, sha,
                run_url[0] ? run_url : NULL, "the leader's baseline, taken over with the lease");
    adopt_save(d->adopt);
    free(path);
    return 0;
}

/* Become the leader: resume the shared state, then start reading. */
static void take_over(struct daemon *d)
{
    char *json = NULL;
    size_t len = 0;
    if (cluster_load(d->cluster, &json, &len) != 0)
        return; /* tried again at the next tick, while the lease is held */
    char sha[SHA256_HEX_LEN + 1] = "", url[512] = "", corr[64] = "", why[600];
    if (json != NULL &&
        (state_shared_load(&d->parts, json, len, sha) != 0 ||
         state_shared_baseline(json, len, sha, url, sizeof(url), corr, sizeof(corr)) != 0))
        log_warn("cluster: the shared state is not driftd's: starting from this replica's");
    free(json);
    if (follow_baseline(d, sha, url, corr, why, sizeof(why)) != 0) {
        log_err("cluster: %s", why);
        cluster_resign(d->cluster, why);
        return;
    }
    daemon_drop_windows(d);
    d->leading = true;
    d->commit_pending = 0;
    log_notice("cluster: leading %s from window %llu", d->cfg.model,
               (unsigned long long)d->counts.next_window_id);
    if (daemon_sources_start(d) != 0)
        log_err("cluster: an input could not start");
}

/* Stop acting: sources stopped (their messages given back), windows
 * dropped. */
static void step_down(struct daemon *d)
{
    d->leading = false;
    log_warn("cluster: no longer leading %s: inputs stopped, open windows dropped (the next "
             "leader reads their records)",
             d->cfg.model);
    daemon_sources_stop(d);
    daemon_drop_windows(d);
    d->commit_pending = 0;
}

/* Whether state_dir/baselines holds the baseline of that sha256, or it is
 * the one running. */
static bool have_baseline(struct daemon *d, const char *sha)
{
    if (strcmp(sha, d->baseline_sha256) == 0)
        return true;
    char *path = baseline_path_of(d, sha), got[SHA256_HEX_LEN + 1];
    bool have = path != NULL && sha256_file_hex(path, got) == 0 && strcmp(got, sha) == 0;
    free(path);
    return have;
}

/* The leader's baseline, fetched from its run's artifact: kept when its
 * sha256 is the one the shared state names; then this replica contends. */
static void on_follow_fetched(void *arg, const struct artifact_result *r)
{
    struct daemon *d = arg;
    d->follow_fetching = false;
    if (d->stopping)
        return;
    char got[SHA256_HEX_LEN + 1], why[400];
    if (!r->ok) {
        snprintf(why, sizeof(why), "the leader's baseline %.12s could not be fetched: %s",
                 d->follow_sha, r->reason);
    } else {
        sha256_hex(r->data, r->len, got);
        if (strcmp(got, d->follow_sha) != 0)
            snprintf(why, sizeof(why),
                     "the run's artifact holds baseline %.12s, not the leader's %.12s", got,
                     d->follow_sha);
        else if (adopt_store(d->adopt, r->data, r->len, got, (size_t)d->cfg.adopt.keep) != 0)
            snprintf(why, sizeof(why), "the leader's baseline %.12s could not be stored: %s",
                     d->follow_sha, strerror(errno));
        else {
            log_notice("cluster: fetched the leader's baseline %.12s from its run", got);
            cluster_contend(d->cluster);
            return;
        }
    }
    log_err("cluster: %s", why);
    cluster_resign(d->cluster, why);
}

/* A standby keeps the baseline the leader runs on: present, it contends
 * for the lease; absent, it fetches it from the run that built it (as the
 * leader did) and does not contend meanwhile; one it cannot get (posted
 * through another replica's API, say) keeps it out, saying why. */
static void follow_leader(struct daemon *d)
{
    double now = daemon_now();
    if (d->follow_fetching || now - d->follow_checked < 2)
        return;
    d->follow_checked = now;
    char *json = NULL, sha[SHA256_HEX_LEN + 1], url[512], corr[64], why[700];
    size_t len;
    if (cluster_load(d->cluster, &json, &len) != 0 || json == NULL)
        return;
    int rc = state_shared_baseline(json, len, sha, url, sizeof(url), corr, sizeof(corr));
    free(json);
    if (rc != 0 || sha[0] == '\0' || have_baseline(d, sha)) {
        cluster_contend(d->cluster);
        return;
    }
    struct github *g = retrain_github(d->retrain);
    const char *tail = strrchr(url, '/');
    uint64_t run_id = tail != NULL ? strtoull(tail + 1, NULL, 10) : 0;
    char name[256], err[300];
    snprintf(d->follow_sha, sizeof(d->follow_sha), "%s", sha);
    if (run_id == 0 || corr[0] == '\0' || g == NULL) {
        snprintf(why, sizeof(why),
                 "lacks the leader's baseline %.12s (in %s/baselines), which no retraining run "
                 "of this replica's retrain.github built: copy it there",
                 sha, d->cfg.state_dir);
        cluster_resign(d->cluster, why);
        return;
    }
    loop_artifact_name(d, corr, name, sizeof(name));
    snprintf(why, sizeof(why), "fetching the leader's baseline %.12s from %s", sha, url);
    cluster_resign(d->cluster, why);
    if (github_fetch_artifact(g, run_id, name, (size_t)d->cfg.adopt.max_bytes, d->cfg.adopt.file,
                              on_follow_fetched, d, err, sizeof(err)) != 0) {
        snprintf(why, sizeof(why), "the leader's baseline %.12s: %s", sha, err);
        cluster_resign(d->cluster, why);
        return;
    }
    d->follow_fetching = true;
    log_notice("cluster: %s", why);
}

void replica_check(struct daemon *d)
{
    if (d->cluster == NULL || d->stopping)
        return;
    bool acting = cluster_acting(d->cluster);
    if (acting && !d->leading)
        take_over(d);
    else if (!acting && d->leading)
        step_down(d);
    if (!d->leading)
        follow_leader(d);
}

/* The "baseline" object of the shared state: the sha256 of the one in
 * use and, when a retraining run built it, that run (where a standby
 * fetches it from). */
static void baseline_json(const struct daemon *d, struct sbuf *out)
{
    const struct adopt_entry *act = adopt_active(d->adopt);
    sbuf_printf(out, "{\"sha256\": \"%s\"", d->baseline_sha256);
    if (act != NULL && strcmp(act->sha256, d->baseline_sha256) == 0 && act->run_url[0] &&
        act->correlation_id[0]) {
        sbuf_adds(out, ", \"run_url\": ");
        sbuf_add_json_string(out, act->run_url, strlen(act->run_url));
        sbuf_adds(out, ", \"correlation_id\": ");
        sbuf_add_json_string(out, act->correlation_id, strlen(act->correlation_id));
    }
    sbuf_adds(out, "}");
}

int replica_commit(struct daemon *d, uint64_t id)
{
    if (d->cluster == NULL)
        return 0;
    struct sbuf s, b;
    sbuf_init(&s);
    sbuf_init(&b);
    baseline_json(d, &b);
    state_shared_json(&d->parts, sbuf_failed(&b) ? "{}" : b.data, &s);
    sbuf_free(&b);
    int rc = sbuf_failed(&s) ? -1 : cluster_commit(d->cluster, s.data, s.len);
    sbuf_free(&s);
    if (rc == 0) {
        d->commit_pending = 0;
        return 0;
    }
    if (rc == -2) { /* another replica leads: this one's windows are its */
        replica_check(d);
        return -1;
    }
    if (d->commit_pending == 0 || id > d->commit_pending)
        d->commit_pending = id;
    log_limited(&d->cluster_log, LOG_WARNING,
                "cluster: window %llu: the shared state could not be written; its messages are "
                "acknowledged once it is",
                (unsigned long long)id);
    return -1;
}

void replica_status_json(const struct daemon *d, struct sbuf *out)
{
    if (d->cluster == NULL)
        sbuf_adds(out, "null");
    else
        cluster_status_json(d->cluster, out);
}

void replica_free(struct daemon *d)
{
    if (d->cluster == NULL)
        return;
    cluster_free(d->cluster);
    d->cluster = NULL;
    /* the client library's own threads, once every connection is gone
     * (the sources are freed before this) */
    nats_CloseAndWait(2000);
}
