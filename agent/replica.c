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
#include "agent/daemon_priv.h"
#include "agent/state.h"
#include "alerts/retrain.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "stats/baseline.h"

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

/* Run on the baseline the shared state names, when it is not the one
 * running: a stored copy of it (state_dir/baselines/) or the configured
 * file. -1 (with why) when this replica has neither. */
static int follow_baseline(struct daemon *d, const char *sha, char *why, size_t len)
{
    if (sha[0] == '\0' || strcmp(sha, d->baseline_sha256) == 0)
        return 0;
    char *path = adopt_path_of(d->adopt, sha);
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
    daemon_swap_baseline(d, b, sha, path);
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
    char sha[SHA256_HEX_LEN + 1] = "", why[600];
    if (json != NULL && state_shared_load(&d->parts, json, len, sha) != 0)
        log_warn("cluster: the shared state is not driftd's: starting from this replica's");
    free(json);
    if (follow_baseline(d, sha, why, sizeof(why)) != 0) {
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

void replica_check(struct daemon *d)
{
    if (d->cluster == NULL || d->stopping)
        return;
    bool acting = cluster_acting(d->cluster);
    if (acting && !d->leading)
        take_over(d);
    else if (!acting && d->leading)
        step_down(d);
}

int replica_commit(struct daemon *d, uint64_t id)
{
    if (d->cluster == NULL)
        return 0;
    struct sbuf s;
    sbuf_init(&s);
    state_shared_json(&d->parts, d->baseline_sha256, &s);
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
    cluster_free(d->cluster);
    d->cluster = NULL;
}
