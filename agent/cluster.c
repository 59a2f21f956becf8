/*
 * The lease and the shared state of a model's replicas (agent/cluster.h,
 * docs/scale-out.md), in two JetStream key-value buckets: kv.lease_bucket
 * (TTL lease_seconds; key leader.<model>, the holder's instance id) and
 * kv.state_bucket (no TTL; key state.<model>, the leader's state).
 *
 * Taking the lease is Create (fails while another holds it) or, when the
 * last holder gave it up by writing an empty value, Update over that
 * revision; renewing is Update over the revision last written. Either
 * fails when another replica wrote first, so two can never both hold it.
 */
#include "agent/cluster.h"

#include "agent/in_nats.h"
#include "lib/log.h"
#include "lib/wake.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct cluster {
    struct event_base *base;
    void (*changed)(void *arg);
    void *arg;
    char *model, *lease_bucket, *state_bucket;
    char lease_key[300], state_key[300];
    char id[128]; /* this instance: host-pid-random */
    double lease; /* seconds */
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    kvStore *lkv, *skv;

    pthread_t thread;
    bool thread_started;
    int efd;
    struct event *ev;

    /* under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit, connected, leader, resigned;
    bool unsafe_ttl; /* the lease bucket's TTL is shorter than the lease: never contend */
    struct nats_closing closing; /* the connection's closed callback */
    double renewed;              /* when the last renewal that worked was sent (monotonic) */
    uint64_t lease_rev;          /* of our lease, while leader; else the holder's */
    char holder[128];            /* as last read */
    char why[300];               /* resigned: why; or the last error */
    uint64_t state_rev;          /* of the shared state, last read or written */
    struct cluster_counts n;     /* leader is kept in `leader` */
    struct log_limit log;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether a KV write failed because another replica wrote first (the
 * server's "wrong last sequence"), rather than for want of an answer. */
static bool lost_race(natsStatus st)
{
    if (st == NATS_OK || st == NATS_TIMEOUT || st == NATS_NO_RESPONDERS ||
        st == NATS_CONNECTION_CLOSED || st == NATS_CONNECTION_DISCONNECTED ||
        st == NATS_NOT_YET_CONNECTED || st == NATS_IO_ERROR)
        return false;
    const char *e = nats_GetLastError(NULL);
    return e != NULL && (strstr(e, "wrong last sequence") != NULL || strstr(e, "10071") != NULL ||
                         strstr(e, "key exists") != NULL);
}

/* Tell the loop the role may have changed (any thread). */
static void poke(struct cluster *c)
{
    wake_post(c->efd);
}

static void on_poke(evutil_socket_t fd, short what, void *arg)
{
    struct cluster *c = arg;
    (void)what;
    (void)wake_drain(fd); /* the role is read from the lease whatever */
    c->changed(c->arg);
}

static void on_disconnected(natsConnection *nc, void *arg)
{
    struct cluster *c = arg;
    (void)nc;
    pthread_mutex_lock(&c->mu);
    c->connected = false;
    pthread_mutex_unlock(&c->mu);
}

static void on_connected(natsConnection *nc, void *arg)
{
    struct cluster *c = arg;
    (void)nc;
    pthread_mutex_lock(&c->mu);
    c->connected = true;
    pthread_mutex_unlock(&c->mu);
    pthread_cond_broadcast(&c->cv);
}

struct cluster *cluster_new(struct event_base *base, const struct config *cfg,
                            const struct input_conf *nats, void (*changed)(void *arg), void *arg)
{
    struct cluster *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->base = base;
    c->changed = changed;
    c->arg = arg;
    c->efd = -1;
    c->lease = cfg->lease_seconds;
    c->log.every = 10;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->closing = (struct nats_closing){&c->mu, &c->cv, false};
    c->model = strdup(cfg->model);
    c->lease_bucket = strdup(cfg->kv_lease_bucket);
    c->state_bucket = strdup(cfg->kv_state_bucket);
    snprintf(c->lease_key, sizeof(c->lease_key), "leader.%s", cfg->model);
    snprintf(c->state_key, sizeof(c->state_key), "state.%s", cfg->model);
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(c->id, sizeof(c->id), "%s-%ld-%06lx", host, (long)getpid(),
             (unsigned long)((uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 8)) & 0xffffff);
    char err[1100], name[300];
    snprintf(name, sizeof(name), "driftd %s lease %s", cfg->model, c->id);
    if (c->model == NULL || c->lease_bucket == NULL || c->state_bucket == NULL ||
        (c->efd = wake_open()) < 0 ||
        (c->ev = event_new(base, c->efd, EV_READ | EV_PERSIST, on_poke, c)) == NULL ||
        event_add(c->ev, NULL) != 0) {
        log_err("cluster: out of memory");
        cluster_free(c);
        return NULL;
    }
    if (in_nats_options(nats, cfg->path, name, &c->opts, err, sizeof(err)) != 0) {
        log_err("cluster: %s", err);
        cluster_free(c);
        return NULL;
    }
    natsOptions_SetDisconnectedCB(c->opts, on_disconnected, c);
    natsOptions_SetClosedCB(c->opts, in_nats_on_closed, &c->closing);
    natsOptions_SetReconnectedCB(c->opts, on_connected, c);
    natsOptions_SetRetryOnFailedConnect(c->opts, true, on_connected, c);
    return c;
}

/* Open a bucket; one that does not exist is made with one replica (the
 * lease bucket with its TTL) and a notice that a cluster wants three. */
static natsStatus open_bucket(struct cluster *c, kvStore **kv, const char *bucket, double ttl)
{
    natsStatus st = js_KeyValue(kv, c->js, bucket);
    if (st != NATS_NOT_FOUND)
        return st;
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = bucket;
    kc.History = 1;
    kc.TTL = (int64_t)(ttl * 1e9); /* libnats 3.4: nanoseconds */
    kc.Replicas = 1;
    st = js_CreateKeyValue(kv, c->js, &kc);
    if (st == NATS_OK)
        log_notice("cluster: made the bucket %s (1 replica%s): make it with 3 replicas in a "
                   "cluster (docs/scale-out.md)",
                   bucket, ttl > 0 ? ", TTL lease_seconds" : "");
    return st;
}

/* Read the lease's holder (under no lock); "" when none. */
static void read_holder(struct cluster *c, char *holder, size_t len, uint64_t *rev)
{
    kvEntry *e = NULL;
    holder[0] = '\0';
    *rev = 0;
    if (kvStore_Get(&e, c->lkv, c->lease_key) == NATS_OK && e != NULL) {
        int n = kvEntry_ValueLen(e);
        snprintf(holder, len, "%.*s", n, (const char *)kvEntry_Value(e));
        *rev = kvEntry_Revision(e);
    }
    kvEntry_Destroy(e);
}

static void wait_s(struct cluster *c, double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 + s;
    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - floor(t)) * 1e9);
    pthread_cond_timedwait(&c->cv, &c->mu, &ts);
}

/* The lease bucket's TTL (seconds; -1 unknown) against lease_seconds
 * (under mu): shorter, a leader's key could expire while it still acts,
 * so this replica does not contend; none or longer, a dead leader is
 * replaced only that much later (said, not refused). */
static void check_ttl(struct cluster *c, double ttl)
{
    if (ttl < 0 || fabs(ttl - c->lease) <= c->lease * 0.01)
        return;
    if (ttl > 0 && ttl < c->lease) {
        snprintf(c->why, sizeof(c->why),
                 "the bucket %s has a TTL of %.3g s, shorter than lease_seconds (%.3g s): two "
                 "replicas could lead at once; not contending (make its TTL lease_seconds)",
                 c->lease_bucket, ttl, c->lease);
        c->unsafe_ttl = true;
        log_err("cluster: %s", c->why);
        return;
    }
    snprintf(c->why, sizeof(c->why),
             "the bucket %s has %s TTL, not lease_seconds (%.3g s): a dead leader is replaced "
             "only when its key expires",
             c->lease_bucket, ttl == 0 ? "no" : "a longer", c->lease);
    log_warn("cluster: %s", c->why);
}

/* Leadership ends (under mu). */
static void lose_locked(struct cluster *c, const char *why)
{
    if (!c->leader)
        return;
    c->leader = false;
    c->n.lost++;
    log_warn("cluster: %s: no longer the leader of %s (%s)", c->id, c->model, why);
    poke(c);
}

static int connect_once(struct cluster *c);

/* The lease thread. */
static void *lease_main(void *arg)
{
    struct cluster *c = arg;
    double poll = fmin(1.0, c->lease / 3);
    pthread_mutex_lock(&c->mu);
    while (!c->quit) {
        if (c->leader && mono_now() >= c->renewed + c->lease * 2 / 3)
            lose_locked(c, "the lease could not be renewed in time");
        if (c->nc == NULL) {
            pthread_mutex_unlock(&c->mu);
            int rc = connect_once(c);
            pthread_mutex_lock(&c->mu);
            if (rc != 0)
                wait_s(c, 2);
            continue;
        }
        if (!c->connected) {
            wait_s(c, poll);
            continue;
        }
        if (c->lkv == NULL || c->skv == NULL) {
            kvStore *lkv = c->lkv, *skv = c->skv;
            pthread_mutex_unlock(&c->mu);
            natsStatus st = NATS_OK;
            if (lkv == NULL)
                st = open_bucket(c, &lkv, c->lease_bucket, c->lease);
            if (st == NATS_OK && skv == NULL)
                st = open_bucket(c, &skv, c->state_bucket, 0);
            double ttl = -1;
            kvStatus *ks = NULL;
            if (st == NATS_OK && c->lkv == NULL && kvStore_Status(&ks, lkv) == NATS_OK)
                ttl = (double)kvStatus_TTL(ks) / 1e9;
            kvStatus_Destroy(ks);
            pthread_mutex_lock(&c->mu);
            c->lkv = lkv;
            c->skv = skv;
            check_ttl(c, ttl);
            if (st != NATS_OK) {
                snprintf(c->why, sizeof(c->why), "buckets %s, %s: %s", c->lease_bucket,
                         c->state_bucket, natsStatus_GetText(st));
                log_limited(&c->log, LOG_WARNING, "cluster: %s", c->why);
                wait_s(c, poll);
            }
            continue;
        }
        if (c->resigned || c->unsafe_ttl) {
            if (c->leader)
                lose_locked(c, c->why);
            wait_s(c, poll);
            continue;
        }
        if (!c->leader) {
            char holder[128];
            uint64_t rev, nrev = 0;
            pthread_mutex_unlock(&c->mu);
            double t = mono_now();
            read_holder(c, holder, sizeof(holder), &rev);
            natsStatus st = NATS_ERR;
            if (rev == 0)
                st = kvStore_CreateString(&nrev, c->lkv, c->lease_key, c->id);
            else if (holder[0] == '\0') /* given up by its last holder */
                st = kvStore_UpdateString(&nrev, c->lkv, c->lease_key, c->id, rev);
            pthread_mutex_lock(&c->mu);
            if (st == NATS_OK && !c->resigned && !c->quit) {
                c->leader = true;
                c->renewed = t;
                c->lease_rev = nrev;
                snprintf(c->holder, sizeof(c->holder), "%s", c->id);
                c->n.acquired++;
                log_notice("cluster: %s leads %s (lease revision %" PRIu64 ")", c->id, c->model,
                           nrev);
                poke(c);
                continue;
            }
            snprintf(c->holder, sizeof(c->holder), "%s", holder);
            c->lease_rev = nrev ? nrev : rev;
            wait_s(c, poll);
            continue;
        }
        double next = c->renewed + c->lease / 3;
        if (mono_now() < next) {
            wait_s(c, next - mono_now());
            continue;
        }
        uint64_t rev = c->lease_rev, nrev = 0;
        pthread_mutex_unlock(&c->mu);
        double t = mono_now();
        natsStatus st = kvStore_UpdateString(&nrev, c->lkv, c->lease_key, c->id, rev);
        bool lost = st != NATS_OK && lost_race(st);
        pthread_mutex_lock(&c->mu);
        if (st == NATS_OK && c->leader) {
            c->renewed = t;
            c->lease_rev = nrev;
        } else if (lost) {
            lose_locked(c, "another replica holds the lease");
        } else if (st != NATS_OK) {
            c->n.renew_failed++;
            snprintf(c->why, sizeof(c->why), "renewing the lease: %s", natsStatus_GetText(st));
            log_limited(&c->log, LOG_WARNING, "cluster: %s", c->why);
            wait_s(c, 0.2);
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Connect and make the JetStream context (on the lease thread, which
 * tries again while it fails); 0 or -1. */
static int connect_once(struct cluster *c)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus st = natsConnection_Connect(&nc, c->opts);
    bool up = st == NATS_OK;
    if (st == NATS_NOT_YET_CONNECTED)
        st = NATS_OK;
    jsOptions jo;
    jsOptions_Init(&jo);
    /* an answer later than a sixth of the lease is no answer: the renewal
     * is tried again before the fence */
    jo.Wait = (int64_t)fmax(250, c->lease * 1000 / 6);
    if (st == NATS_OK)
        st = natsConnection_JetStream(&js, nc, &jo);
    if (st != NATS_OK) {
        pthread_mutex_lock(&c->mu);
        snprintf(c->why, sizeof(c->why), "connect: %s", natsStatus_GetText(st));
        log_limited(&c->log, LOG_WARNING, "cluster: %s", c->why);
        pthread_mutex_unlock(&c->mu);
        jsCtx_Destroy(js);
        in_nats_close(&c->closing, nc);
        return -1;
    }
    pthread_mutex_lock(&c->mu);
    c->nc = nc;
    c->js = js;
    if (up)
        c->connected = true;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int cluster_start(struct cluster *c)
{
    if (pthread_create(&c->thread, NULL, lease_main, c) != 0) {
        log_err("cluster: cannot start the lease thread: %s", strerror(errno));
        return -1;
    }
    c->thread_started = true;
    log_info("cluster: %s contends for %s/%s (lease %.0f s)", c->id, c->lease_bucket, c->lease_key,
             c->lease);
    return 0;
}

void cluster_free(struct cluster *c)
{
    if (c == NULL)
        return;
    if (c->thread_started) {
        pthread_mutex_lock(&c->mu);
        c->quit = true;
        pthread_mutex_unlock(&c->mu);
        pthread_cond_broadcast(&c->cv);
        pthread_join(c->thread, NULL);
        /* give the lease up over our revision (harmless when it is no longer
         * ours): a standby takes it now, not when it expires */
        if (c->leader && c->lkv != NULL) {
            uint64_t nrev;
            if (kvStore_UpdateString(&nrev, c->lkv, c->lease_key, "", c->lease_rev) == NATS_OK)
                log_notice("cluster: %s gave up the lease of %s", c->id, c->model);
            c->leader = false;
        }
    }
    kvStore_Destroy(c->lkv);
    kvStore_Destroy(c->skv);
    jsCtx_Destroy(c->js);
    in_nats_close(&c->closing, c->nc);
    natsOptions_Destroy(c->opts);
    if (c->ev != NULL)
        event_free(c->ev);
    if (c->efd >= 0)
        close(c->efd);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->model), free(c->lease_bucket), free(c->state_bucket);
    free(c);
}

bool cluster_acting(const struct cluster *c)
{
    struct cluster *m = (struct cluster *)c;
    pthread_mutex_lock(&m->mu);
    bool acting =
        c->leader && !c->resigned && !c->unsafe_ttl && mono_now() < c->renewed + c->lease * 2 / 3;
    pthread_mutex_unlock(&m->mu);
    return acting;
}

void cluster_resign(struct cluster *c, const char *why)
{
    pthread_mutex_lock(&c->mu);
    c->resigned = true;
    snprintf(c->why, sizeof(c->why), "%s", why);
    pthread_mutex_unlock(&c->mu);
    pthread_cond_broadcast(&c->cv);
}

void cluster_contend(struct cluster *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->resigned && !c->unsafe_ttl)
        c->why[0] = '\0'; /* the reason is gone */
    c->resigned = false;
    pthread_mutex_unlock(&c->mu);
    pthread_cond_broadcast(&c->cv);
}

int cluster_load(struct cluster *c, char **json, size_t *len)
{
    *json = NULL;
    *len = 0;
    if (c->skv == NULL)
        return -1;
    kvEntry *e = NULL;
    natsStatus st = kvStore_Get(&e, c->skv, c->state_key);
    if (st == NATS_NOT_FOUND) {
        pthread_mutex_lock(&c->mu);
        c->state_rev = 0;
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    if (st != NATS_OK) {
        log_warn("cluster: cannot read %s/%s: %s", c->state_bucket, c->state_key,
                 natsStatus_GetText(st));
        return -1;
    }
    int n = kvEntry_ValueLen(e);
    if ((*json = malloc((size_t)n + 1)) != NULL) {
        memcpy(*json, kvEntry_Value(e), (size_t)n);
        (*json)[n] = '\0';
        *len = (size_t)n;
    }
    pthread_mutex_lock(&c->mu);
    c->state_rev = kvEntry_Revision(e);
    pthread_mutex_unlock(&c->mu);
    kvEntry_Destroy(e);
    return *json != NULL ? 0 : -1;
}

int cluster_commit(struct cluster *c, const char *json, size_t len)
{
    if (!cluster_acting(c) || c->skv == NULL)
        return -2;
    pthread_mutex_lock(&c->mu);
    uint64_t rev = c->state_rev, nrev = 0;
    pthread_mutex_unlock(&c->mu);
    natsStatus st = rev == 0 ? kvStore_Create(&nrev, c->skv, c->state_key, json, (int)len)
                             : kvStore_Update(&nrev, c->skv, c->state_key, json, (int)len, rev);
    pthread_mutex_lock(&c->mu);
    int rc = 0;
    if (st == NATS_OK) {
        c->state_rev = nrev;
        c->n.commits++;
    } else if (lost_race(st)) {
        c->n.commit_failed++;
        lose_locked(c, "another replica wrote the shared state");
        rc = -2;
    } else {
        c->n.commit_failed++;
        snprintf(c->why, sizeof(c->why), "writing the shared state: %s", natsStatus_GetText(st));
        log_limited(&c->log, LOG_WARNING, "cluster: %s", c->why);
        rc = -1;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

void cluster_status_json(const struct cluster *c, struct sbuf *out)
{
    struct cluster *m = (struct cluster *)c;
    bool acting = cluster_acting(c);
    pthread_mutex_lock(&m->mu);
    sbuf_printf(out, "{\"role\": \"%s\", \"instance\": ", acting ? "leader" : "standby");
    sbuf_add_json_string(out, c->id, strlen(c->id));
    sbuf_adds(out, ", \"lease\": {\"bucket\": ");
    sbuf_add_json_string(out, c->lease_bucket, strlen(c->lease_bucket));
    sbuf_adds(out, ", \"key\": ");
    sbuf_add_json_string(out, c->lease_key, strlen(c->lease_key));
    sbuf_adds(out, ", \"holder\": ");
    if (c->holder[0])
        sbuf_add_json_string(out, c->holder, strlen(c->holder));
    else
        sbuf_adds(out, "null");
    sbuf_printf(out,
                ", \"revision\": %" PRIu64 ", \"seconds\": %.3f}, \"state_revision\": %" PRIu64
                ", \"connected\": %s, \"resigned\": %s, \"acquired\": %" PRIu64
                ", \"lost\": %" PRIu64 ", \"renew_failed\": %" PRIu64 ", \"commits\": %" PRIu64
                ", \"commit_failed\": %" PRIu64 ", \"message\": ",
                c->lease_rev, c->lease, c->state_rev, c->connected ? "true" : "false",
                c->resigned || c->unsafe_ttl ? "true" : "false", c->n.acquired, c->n.lost,
                c->n.renew_failed, c->n.commits, c->n.commit_failed);
    if (c->why[0])
        sbuf_add_json_string(out, c->why, strlen(c->why));
    else
        sbuf_adds(out, "null");
    sbuf_adds(out, "}");
    pthread_mutex_unlock(&m->mu);
}

const char *cluster_not_ready(const struct cluster *c, char *buf, size_t len)
{
    struct cluster *m = (struct cluster *)c;
    pthread_mutex_lock(&m->mu);
    bool up = c->connected && c->lkv != NULL && c->skv != NULL;
    if (!up)
        snprintf(buf, len, "cluster: %s%s", c->connected ? "" : "no NATS server",
                 c->connected ? c->why : "");
    pthread_mutex_unlock(&m->mu);
    return up ? NULL : buf;
}

struct cluster_counts cluster_counts(const struct cluster *c)
{
    struct cluster *m = (struct cluster *)c;
    pthread_mutex_lock(&m->mu);
    struct cluster_counts n = c->n;
    pthread_mutex_unlock(&m->mu);
    n.leader = cluster_acting(c);
    return n;
}
