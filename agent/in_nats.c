/*
 * The nats source: a durable JetStream pull consumer (docs/scale-out.md).
 *
 * The client library is synchronous where it matters (a fetch waits for
 * messages), so it never runs on the loop: a thread fetches batches while
 * the queue has room and hands them over through a bounded queue and an
 * eventfd; when the queue is full it stops fetching, and the server keeps
 * the rest (back-pressure, never a drop). On the loop each message body
 * goes through the same readers as an HTTP body (NDJSON, a JSON array,
 * CSV with its header), and its reply subject is kept with the window that
 * holds its last record. A window's messages are acknowledged when the
 * window is finished (evaluated, its outcome saved and shared), on the
 * next turn of the loop, so a crash before that redelivers them instead of
 * losing them. While a window is open longer than half the ack wait its
 * messages are told "in progress", so the server does not deliver them
 * again meanwhile. Stopping (a lost lease) gives back every message not
 * yet acknowledged (-NAK), for the next leader to read at once.
 */
#include "agent/in_nats.h"

#include "agent/in_http.h"
#include "alerts/secret.h"
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

/* The hand-off queue: at most this many messages or bytes wait for the
 * loop; the thread fetches no more until they are read. */
#define QUEUE_MSGS 4096
#define QUEUE_BYTES (64u << 20)
#define FETCH_BATCH 256
#define FETCH_WAIT_MS 500

enum nats_reason {
    NR_CONNECT,    /* the first connection failed */
    NR_DISCONNECT, /* a connection was lost */
    NR_RECONNECT,  /* connected again (possibly to another server) */
    NR_AUTH,       /* the server refused the credentials */
    NR_CONSUMER,   /* the stream or consumer cannot be used */
    NR_FETCH,      /* a fetch failed (not a timeout) */
    NR_ACK,        /* an acknowledgement could not be sent */
    NR_BODY,       /* a message none of whose records could be read */
    NR_ASYNC,      /* an error the library reported on its own thread */
    NR_COUNT
};

static const char *const reason_names[NR_COUNT] = {
    "connect", "disconnect", "reconnect", "auth", "consumer", "fetch", "ack", "body", "async",
};

/* Reply subjects of the messages whose last record went into one window. */
struct acks {
    struct acks *next;
    uint64_t window; /* 0: the open window */
    bool finished;   /* the window is finished: acknowledge on the next turn */
    double pinged;   /* when its messages were last told "in progress" */
    char *subj;      /* NUL-separated */
    size_t len, cap, n;
};

struct nats_in {
    struct source *s;
    char *subject, *durable;
    natsOptions *opts;
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub; /* the fetching thread's */
    double ack_wait;       /* seconds */

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* under mu */
    natsMsg **q;
    size_t qhead, qn, qbytes;
    bool fetching, quit, connected, ever_connected;
    struct nats_closing closing;
    uint64_t errors[NR_COUNT];
    char last_error[256];
    char url[256];
    uint64_t fetched;
    double q_pinged; /* when the queued messages were last told "in progress" */

    int efd;
    struct event *ev, *ack_ev, *ping_timer;
    struct acks *open; /* the open window's */
    /* the window that closed while a message was read, and the records
     * counted then: a message none of whose records followed the close
     * belongs to that window, not to the next */
    struct acks *just_closed;
    uint64_t records_at_close;
    struct acks *closed;            /* oldest first */
    uint64_t acked, naked, pending; /* messages: acknowledged, given back, held */
    struct sbuf answer;             /* in_http_ingest's answer, unused */
    struct log_limit err_log;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *in_nats_expand(const char *tmpl, const char *model)
{
    static const char var[] = "${model}";
    size_t n = 0, vl = sizeof(var) - 1, ml = strlen(model);
    for (const char *p = tmpl; (p = strstr(p, var)) != NULL; p += vl)
        n++;
    char *out = malloc(strlen(tmpl) + n * ml + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const char *p = tmpl, *q; *p; p = q + vl) {
        if ((q = strstr(p, var)) == NULL) {
            strcpy(o, p);
            return out;
        }
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, model, ml);
        o += ml;
    }
    *o = '\0';
    return out;
}

/* Note a failure (under mu): counted, kept for the status, logged at most
 * once every 10 seconds per input. */
static void fail_locked(struct nats_in *ni, enum nats_reason r, natsStatus st, const char *what)
{
    ni->errors[r]++;
    const char *detail = nats_GetLastError(NULL);
    snprintf(ni->last_error, sizeof(ni->last_error), "%s: %s%s%s", what, natsStatus_GetText(st),
             detail != NULL && *detail ? ": " : "", detail != NULL ? detail : "");
    log_limited(&ni->err_log, LOG_WARNING, "%s: %s", ni->s->name, ni->last_error);
}

static void fail(struct nats_in *ni, enum nats_reason r, natsStatus st, const char *what)
{
    pthread_mutex_lock(&ni->mu);
    fail_locked(ni, r, st, what);
    pthread_mutex_unlock(&ni->mu);
}

/* The library's connection callbacks (its own threads). */
static void on_disconnected(natsConnection *nc, void *arg)
{
    struct nats_in *ni = arg;
    (void)nc;
    pthread_mutex_lock(&ni->mu);
    if (ni->connected) {
        ni->connected = false;
        ni->errors[NR_DISCONNECT]++;
        snprintf(ni->last_error, sizeof(ni->last_error), "disconnected from %s", ni->url);
        log_limited(&ni->err_log, LOG_WARNING, "%s: %s", ni->s->name, ni->last_error);
    }
    pthread_mutex_unlock(&ni->mu);
}

void in_nats_on_closed(natsConnection *nc, void *closing)
{
    struct nats_closing *w = closing;
    (void)nc;
    pthread_mutex_lock(w->mu);
    w->closed = true;
    pthread_mutex_unlock(w->mu);
    pthread_cond_broadcast(w->cv);
}

void in_nats_close(struct nats_closing *w, natsConnection *nc)
{
    if (nc == NULL)
        return;
    natsConnection_Close(nc);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(w->mu);
    while (!w->closed && pthread_cond_timedwait(w->cv, w->mu, &until) == 0)
        ;
    w->closed = false;
    pthread_mutex_unlock(w->mu);
    natsConnection_Destroy(nc);
}

static void on_connected(natsConnection *nc, void *arg)
{
    struct nats_in *ni = arg;
    char url[256] = "";
    natsConnection_GetConnectedUrl(nc, url, sizeof(url));
    pthread_mutex_lock(&ni->mu);
    if (ni->ever_connected)
        ni->errors[NR_RECONNECT]++;
    ni->connected = ni->ever_connected = true;
    snprintf(ni->url, sizeof(ni->url), "%s", url);
    pthread_mutex_unlock(&ni->mu);
    log_info("%s: connected to %s", ni->s->name, url);
    pthread_cond_broadcast(&ni->cv);
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *arg)
{
    struct nats_in *ni = arg;
    (void)nc, (void)sub;
    fail(ni, err == NATS_CONNECTION_AUTH_FAILED || err == NATS_NOT_PERMITTED ? NR_AUTH : NR_ASYNC,
         err, "asynchronous error");
}

int in_nats_options(const struct input_conf *conf, const char *cfgpath, const char *name,
                    natsOptions **out, char *err, size_t errlen)
{
    natsOptions *o = NULL;
    natsStatus st = natsOptions_Create(&o);
    if (st == NATS_OK)
        st = natsOptions_SetServers(o, (const char **)conf->servers, (int)conf->n_servers);
    if (st == NATS_OK)
        st = natsOptions_SetName(o, name);
    if (st == NATS_OK)
        st = natsOptions_SetMaxReconnect(o, -1);
    if (st == NATS_OK)
        st = natsOptions_SetReconnectWait(o, 500);
    if (st == NATS_OK)
        st = natsOptions_SetTimeout(o, 2000);
    if (st == NATS_OK && conf->creds_file != NULL)
        st = natsOptions_SetUserCredentialsFromFiles(o, conf->creds_file, NULL);
    if (st == NATS_OK && conf->token_file != NULL) {
        struct errlist errs = {0};
        char *token = config_read_secret(conf->token_file, "inputs[].token_file", &errs, cfgpath);
        if (token == NULL) {
            snprintf(err, errlen, "%s", errs.n ? errs.msgs[0] : "cannot read token_file");
            errlist_free(&errs);
            natsOptions_Destroy(o);
            return -1;
        }
        size_t n = strcspn(token, "\r\n");
        token[n] = '\0';
        st = natsOptions_SetToken(o, token);
        secret_free(token);
    }
    if (st != NATS_OK) {
        snprintf(err, errlen, "NATS options: %s", natsStatus_GetText(st));
        natsOptions_Destroy(o);
        return -1;
    }
    *out = o;
    return 0;
}

/* Make the durable consumer (the same configuration each time, so a second
 * replica's call finds it as made) and bind a pull subscription to it.
 * Bound, not made by the subscription: destroying the subscription never
 * deletes the consumer the replicas share. */
static natsStatus subscribe(struct nats_in *ni)
{
    const struct input_conf *c = ni->s->conf;
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = ni->durable;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = (int64_t)(ni->ack_wait * 1e9);
    cc.MaxAckPending = (int64_t)c->max_ack_pending;
    cc.FilterSubject = ni->subject;
    cc.DeliverPolicy = js_DeliverAll;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus st = js_AddConsumer(&ci, ni->js, c->stream, &cc, NULL, &jerr);
    jsConsumerInfo_Destroy(ci);
    if (st != NATS_OK && jerr != JSConsumerNameExistErr && jerr != JSConsumerExistingActiveErr) {
        char what[300];
        snprintf(what, sizeof(what), "consumer %s on stream %s%s", ni->durable, c->stream,
                 jerr == JSStreamNotFoundErr ? " (no such stream)" : "");
        fail(ni, NR_CONSUMER, st, what);
        return st;
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = c->stream;
    so.Consumer = ni->durable;
    st = js_PullSubscribe(&ni->sub, ni->js, ni->subject, ni->durable, NULL, &so, &jerr);
    if (st != NATS_OK)
        fail(ni, NR_CONSUMER, st, "pull subscription");
    return st;
}

/* Wait on the condition for at most ms (under mu). */
static void wait_ms(struct nats_in *ni, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&ni->cv, &ni->mu, &ts);
}

/* Connect and make the JetStream context; on failure counted (auth or
 * connect), and the thread tries again. The library reconnects a
 * connection once made by itself. */
static void connect_once(struct nats_in *ni)
{
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    natsStatus st = natsConnection_Connect(&nc, ni->opts);
    if (st == NATS_NOT_YET_CONNECTED) {
        fail(ni, NR_CONNECT, st, "connect (trying again)");
        st = NATS_OK;
    }
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 2000;
    if (st == NATS_OK)
        st = natsConnection_JetStream(&js, nc, &jo);
    if (st != NATS_OK) {
        fail(ni,
             st == NATS_CONNECTION_AUTH_FAILED || st == NATS_NOT_PERMITTED ? NR_AUTH : NR_CONNECT,
             st, "connect");
        jsCtx_Destroy(js);
        in_nats_close(&ni->closing, nc);
        return;
    }
    pthread_mutex_lock(&ni->mu);
    ni->nc = nc;
    ni->js = js;
    pthread_mutex_unlock(&ni->mu);
    if (natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED)
        on_connected(nc, ni);
}

/* The connection, or NULL before one was made (the loop's side). */
static natsConnection *conn(struct nats_in *ni)
{
    pthread_mutex_lock(&ni->mu);
    natsConnection *nc = ni->nc;
    pthread_mutex_unlock(&ni->mu);
    return nc;
}

/* The fetching thread: while fetching and the queue has room, fetch a
 * batch and queue it; else wait. */
static void *fetch_main(void *arg)
{
    struct nats_in *ni = arg;
    pthread_mutex_lock(&ni->mu);
    while (!ni->quit) {
        if (ni->nc == NULL) {
            pthread_mutex_unlock(&ni->mu);
            connect_once(ni);
            pthread_mutex_lock(&ni->mu);
            if (ni->nc == NULL)
                wait_ms(ni, 2000);
            continue;
        }
        /* messages waiting for a slow loop must not be delivered again */
        if (ni->qn > 0 && mono_now() - ni->q_pinged >= ni->ack_wait / 2) {
            for (size_t i = 0; i < ni->qn; i++)
                natsMsg_InProgress(ni->q[(ni->qhead + i) % QUEUE_MSGS], NULL);
            ni->q_pinged = mono_now();
        }
        size_t room = ni->qn < QUEUE_MSGS && ni->qbytes < QUEUE_BYTES ? QUEUE_MSGS - ni->qn : 0;
        if (!ni->fetching || room == 0 || !ni->connected) {
            wait_ms(ni, 1000);
            continue;
        }
        pthread_mutex_unlock(&ni->mu);
        natsStatus st = NATS_OK;
        if (ni->sub == NULL && (st = subscribe(ni)) != NATS_OK) {
            pthread_mutex_lock(&ni->mu);
            wait_ms(ni, 1000);
            continue;
        }
        natsMsgList list = {0};
        jsErrCode jerr = 0;
        int batch = room < FETCH_BATCH ? (int)room : FETCH_BATCH;
        st = natsSubscription_Fetch(&list, ni->sub, batch, FETCH_WAIT_MS, &jerr);
        pthread_mutex_lock(&ni->mu);
        if (st == NATS_TIMEOUT)
            continue;
        if (st != NATS_OK) {
            fail_locked(ni, NR_FETCH, st, "fetch");
            if (st == NATS_INVALID_SUBSCRIPTION || st == NATS_CONNECTION_CLOSED) {
                natsSubscription_Destroy(ni->sub);
                ni->sub = NULL;
            }
            wait_ms(ni, 500);
            continue;
        }
        bool was_empty = ni->qn == 0;
        if (was_empty)
            ni->q_pinged = mono_now();
        for (int i = 0; i < list.Count; i++) {
            natsMsg *m = list.Msgs[i];
            list.Msgs[i] = NULL;
            if (!ni->fetching) { /* stopped meanwhile: give it back */
                natsMsg_Nak(m, NULL);
                natsMsg_Destroy(m);
                continue;
            }
            ni->q[(ni->qhead + ni->qn) % QUEUE_MSGS] = m;
            ni->qn++;
            ni->qbytes += (size_t)natsMsg_GetDataLength(m);
            ni->fetched++;
        }
        natsMsgList_Destroy(&list);
        if (was_empty && ni->qn > 0)
            wake_post(ni->efd);
    }
    pthread_mutex_unlock(&ni->mu);
    return NULL;
}

/* Keep a reply subject with the messages of a window: to (one closed
 * while the message was read), else the open one. */
static void hold(struct nats_in *ni, const char *reply, struct acks *to)
{
    if (to == NULL && ni->open == NULL && (ni->open = calloc(1, sizeof(*ni->open))) != NULL)
        ni->open->pinged = mono_now();
    struct acks *a = to != NULL ? to : ni->open;
    size_t n = strlen(reply) + 1;
    if (a == NULL)
        goto lost;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        while (cap < a->len + n)
            cap *= 2;
        char *p = realloc(a->subj, cap);
        if (p == NULL)
            goto lost;
        a->subj = p;
        a->cap = cap;
    }
    memcpy(a->subj + a->len, reply, n);
    a->len += n;
    a->n++;
    ni->pending++;
    return;
lost:
    /* out of memory: acknowledged now, so that it is not delivered again
     * into a later window (its records are counted already) */
    natsConnection_PublishString(ni->nc, reply, "+ACK");
}

/* Publish payload to every reply subject of a (ack, nak, in progress). */
static uint64_t answer_all(struct nats_in *ni, const struct acks *a, const char *payload)
{
    uint64_t failed = 0;
    for (size_t off = 0; off < a->len; off += strlen(a->subj + off) + 1)
        if (natsConnection_PublishString(ni->nc, a->subj + off, payload) != NATS_OK)
            failed++;
    return failed;
}

static void acks_free(struct acks *a)
{
    if (a != NULL)
        free(a->subj);
    free(a);
}

/* Read one message's body as an HTTP body of its kind: NDJSON (or a JSON
 * array when it begins with '['), CSV with its header. */
static void read_message(struct nats_in *ni, natsMsg *m)
{
    const char *data = natsMsg_GetData(m);
    int len = natsMsg_GetDataLength(m);
    const char *ct = NULL;
    enum body_kind kind = BODY_UNKNOWN;
    if (natsMsgHeader_Get(m, "Content-Type", &ct) == NATS_OK)
        kind = in_http_body_kind(ct);
    if (kind == BODY_UNKNOWN) { /* by its first character: '{' NDJSON, '[' JSON, else CSV */
        size_t i = 0;
        while (i < (size_t)len &&
               (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t'))
            i++;
        kind = i < (size_t)len && data[i] == '['   ? BODY_JSON
               : i < (size_t)len && data[i] != '{' ? BODY_CSV
                                                   : BODY_NDJSON;
    }
    struct evbuffer_iovec seg = {(void *)data, (size_t)(len > 0 ? len : 0)};
    sbuf_reset(&ni->answer);
    int code = in_http_ingest(ni->s, kind, 0, &seg, 1, &ni->answer);
    if (code != 202 && len > 0) {
        pthread_mutex_lock(&ni->mu);
        ni->errors[NR_BODY]++;
        snprintf(ni->last_error, sizeof(ni->last_error), "a message on %s: %.200s",
                 natsMsg_GetSubject(m), ni->answer.data ? ni->answer.data : "");
        log_limited(&ni->err_log, LOG_WARNING, "%s: %s", ni->s->name, ni->last_error);
        pthread_mutex_unlock(&ni->mu);
    }
}

/* The loop's half: read the queued messages, in order. */
static void on_messages(evutil_socket_t fd, short what, void *arg)
{
    struct nats_in *ni = arg;
    (void)what;
    (void)wake_drain(fd); /* the queue is looked at whatever */
    /* a few batches a turn: the fetching thread may refill the queue as
     * fast as it empties, and the loop has timers, windows and the API */
    for (int turn = 0;; turn++) {
        pthread_mutex_lock(&ni->mu);
        if (ni->qn == 0 || !ni->fetching || source_stopping(ni->s)) {
            pthread_mutex_unlock(&ni->mu);
            break;
        }
        if (turn == 8) { /* more next turn */
            pthread_mutex_unlock(&ni->mu);
            wake_post(ni->efd);
            break;
        }
        natsMsg *batch[FETCH_BATCH];
        size_t k = 0;
        while (ni->qn > 0 && k < FETCH_BATCH) {
            natsMsg *m = ni->q[ni->qhead];
            ni->qhead = (ni->qhead + 1) % QUEUE_MSGS;
            ni->qn--;
            ni->qbytes -= (size_t)natsMsg_GetDataLength(m);
            batch[k++] = m;
        }
        pthread_mutex_unlock(&ni->mu);
        pthread_cond_broadcast(&ni->cv); /* room again */
        for (size_t i = 0; i < k; i++) {
            ni->just_closed = NULL;
            uint64_t before = ni->s->records;
            read_message(ni, batch[i]);
            const char *reply = natsMsg_GetReply(batch[i]);
            if (reply == NULL || *reply == '\0')
                ;
            else if (ni->s->records == before) /* no record for any window: done with */
                natsConnection_PublishString(ni->nc, reply, "+ACK");
            else
                hold(ni, reply,
                     ni->just_closed != NULL && ni->s->records == ni->records_at_close
                         ? ni->just_closed
                         : NULL);
            natsMsg_Destroy(batch[i]);
        }
        ni->just_closed = NULL;
    }
}

/* Acknowledge the finished windows' messages. */
static void on_ack(evutil_socket_t fd, short what, void *arg)
{
    struct nats_in *ni = arg;
    (void)fd, (void)what;
    while (ni->closed != NULL && ni->closed->finished) {
        struct acks *a = ni->closed;
        ni->closed = a->next;
        uint64_t failed = answer_all(ni, a, "+ACK");
        ni->acked += a->n - failed;
        ni->pending -= a->n;
        if (failed > 0) {
            pthread_mutex_lock(&ni->mu);
            ni->errors[NR_ACK] += failed;
            snprintf(ni->last_error, sizeof(ni->last_error),
                     "window %" PRIu64 ": %" PRIu64 " acknowledgements not sent (they will be "
                     "delivered again)",
                     a->window, failed);
            log_limited(&ni->err_log, LOG_WARNING, "%s: %s", ni->s->name, ni->last_error);
            pthread_mutex_unlock(&ni->mu);
        }
        acks_free(a);
    }
    natsConnection *nc = conn(ni);
    if (nc != NULL)
        natsConnection_Flush(nc);
}

/* Windows held longer than half the ack wait: "in progress", so the server
 * waits another ack wait before it delivers their messages again. */
static void on_ping(evutil_socket_t fd, short what, void *arg)
{
    struct nats_in *ni = arg;
    (void)fd, (void)what;
    double now = mono_now();
    for (struct acks *a = ni->closed; a != NULL; a = a->next)
        if (now - a->pinged >= ni->ack_wait / 2) {
            answer_all(ni, a, "+WPI");
            a->pinged = now;
        }
    if (ni->open != NULL && now - ni->open->pinged >= ni->ack_wait / 2) {
        answer_all(ni, ni->open, "+WPI");
        ni->open->pinged = now;
    }
}

static void nats_window_closed(struct source *s, uint64_t id)
{
    struct nats_in *ni = s->ctx;
    if (ni == NULL)
        return;
    if (ni->open == NULL) { /* a window none of whose messages is held */
        if ((ni->open = calloc(1, sizeof(*ni->open))) == NULL)
            return;
        ni->open->pinged = mono_now();
    }
    struct acks **tail = &ni->closed;
    while (*tail != NULL)
        tail = &(*tail)->next;
    ni->open->window = id;
    *tail = ni->open;
    ni->just_closed = ni->open;
    ni->records_at_close = s->records;
    ni->open = NULL;
}

static void nats_window_finished(struct source *s, uint64_t id)
{
    struct nats_in *ni = s->ctx;
    if (ni == NULL)
        return;
    bool any = false;
    for (struct acks *a = ni->closed; a != NULL; a = a->next)
        if (a->window <= id && !a->finished)
            a->finished = any = true;
    if (any) /* after the state is saved, which follows this call */
        event_active(ni->ack_ev, EV_TIMEOUT, 0);
}

/* Give back (-NAK) what is held and queued: the next leader reads it now
 * rather than after the ack wait. */
static void give_back(struct nats_in *ni)
{
    on_ack(-1, 0, ni); /* the finished windows' are acknowledged first */
    struct acks *lists[2] = {ni->closed, ni->open};
    for (int k = 0; k < 2; k++)
        for (struct acks *a = lists[k], *next; a != NULL; a = next) {
            next = k == 0 ? a->next : NULL;
            answer_all(ni, a, "-NAK");
            ni->naked += a->n;
            ni->pending -= a->n;
            acks_free(a);
        }
    ni->closed = ni->open = ni->just_closed = NULL;
    pthread_mutex_lock(&ni->mu);
    while (ni->qn > 0) {
        natsMsg *m = ni->q[ni->qhead];
        ni->qhead = (ni->qhead + 1) % QUEUE_MSGS;
        ni->qn--;
        ni->naked++;
        natsMsg_Nak(m, NULL);
        natsMsg_Destroy(m);
    }
    ni->qbytes = 0;
    pthread_mutex_unlock(&ni->mu);
    natsConnection *nc = conn(ni);
    if (nc != NULL)
        natsConnection_FlushTimeout(nc, 1000);
}

static void nats_destroy(struct source *s);

static int nats_start(struct source *s)
{
    struct nats_in *ni = s->ctx;
    if (ni != NULL) { /* started again: this replica leads now */
        pthread_mutex_lock(&ni->mu);
        ni->fetching = source_leading(s);
        pthread_mutex_unlock(&ni->mu);
        pthread_cond_broadcast(&ni->cv);
        return 0;
    }
    const struct input_conf *c = s->conf;
    const char *model = source_model(s);
    char err[1100];
    if ((ni = calloc(1, sizeof(*ni))) == NULL)
        return -1;
    s->ctx = ni;
    ni->s = s;
    ni->efd = -1;
    ni->err_log.every = 10;
    sbuf_init(&ni->answer);
    pthread_mutex_init(&ni->mu, NULL);
    pthread_cond_init(&ni->cv, NULL);
    ni->closing = (struct nats_closing){&ni->mu, &ni->cv, false};
    double ws = source_window_seconds(s);
    ni->ack_wait = c->ack_wait_seconds > 0 ? c->ack_wait_seconds : ws + fmax(30, ws / 2);
    ni->subject = in_nats_expand(c->subject, model);
    ni->durable = in_nats_expand(c->durable, model);
    ni->q = calloc(QUEUE_MSGS, sizeof(*ni->q));
    ni->efd = wake_open();
    if (ni->subject == NULL || ni->durable == NULL || ni->q == NULL || ni->efd < 0 ||
        (ni->ev = event_new(s->base, ni->efd, EV_READ | EV_PERSIST, on_messages, ni)) == NULL ||
        (ni->ack_ev = event_new(s->base, -1, 0, on_ack, ni)) == NULL ||
        (ni->ping_timer = event_new(s->base, -1, EV_PERSIST, on_ping, ni)) == NULL ||
        event_add(ni->ev, NULL) != 0) {
        log_err("%s: out of memory", s->name);
        return -1;
    }
    struct timeval every = {1, 0};
    event_add(ni->ping_timer, &every);
    char name[300];
    snprintf(name, sizeof(name), "driftd %s", model);
    if (in_nats_options(c, source_config_path(s), name, &ni->opts, err, sizeof(err)) != 0) {
        log_err("%s: %s", s->name, err);
        return -1;
    }
    natsOptions_SetDisconnectedCB(ni->opts, on_disconnected, ni);
    natsOptions_SetClosedCB(ni->opts, in_nats_on_closed, &ni->closing);
    natsOptions_SetReconnectedCB(ni->opts, on_connected, ni);
    natsOptions_SetErrorHandler(ni->opts, on_async_error, ni);
    /* a cluster not up yet is not fatal: the library goes on trying */
    natsOptions_SetRetryOnFailedConnect(ni->opts, true, on_connected, ni);
    connect_once(ni); /* else the thread tries again */
    ni->fetching = source_leading(s);
    if (pthread_create(&ni->thread, NULL, fetch_main, ni) != 0) {
        log_err("%s: cannot start its thread: %s", s->name, strerror(errno));
        return -1;
    }
    ni->thread_started = true;
    log_info("%s: %s %s (stream %s, durable %s, ack wait %.0f s)", s->name,
             ni->fetching ? "consuming" : "ready to consume, once leading,", ni->subject, c->stream,
             ni->durable, ni->ack_wait);
    return 0;
}

/* Stop fetching and give back what is not acknowledged; the connection
 * stays for a later start. */
static void nats_stop(struct source *s)
{
    struct nats_in *ni = s->ctx;
    if (ni == NULL)
        return;
    pthread_mutex_lock(&ni->mu);
    ni->fetching = false;
    pthread_mutex_unlock(&ni->mu);
    pthread_cond_broadcast(&ni->cv);
    give_back(ni);
}

static void nats_destroy(struct source *s)
{
    struct nats_in *ni = s->ctx;
    if (ni == NULL)
        return;
    if (ni->thread_started) {
        pthread_mutex_lock(&ni->mu);
        ni->quit = true;
        ni->fetching = false;
        pthread_mutex_unlock(&ni->mu);
        pthread_cond_broadcast(&ni->cv);
        pthread_join(ni->thread, NULL);
    }
    if (ni->nc != NULL)
        give_back(ni);
    if (ni->sub != NULL)
        natsSubscription_Destroy(ni->sub);
    jsCtx_Destroy(ni->js);
    in_nats_close(&ni->closing, ni->nc);
    natsOptions_Destroy(ni->opts);
    if (ni->ev != NULL)
        event_free(ni->ev);
    if (ni->ack_ev != NULL)
        event_free(ni->ack_ev);
    if (ni->ping_timer != NULL)
        event_free(ni->ping_timer);
    if (ni->efd >= 0)
        close(ni->efd);
    for (size_t i = 0; ni->q != NULL && i < ni->qn; i++)
        natsMsg_Destroy(ni->q[(ni->qhead + i) % QUEUE_MSGS]);
    free(ni->q);
    free(ni->subject), free(ni->durable);
    sbuf_free(&ni->answer);
    pthread_mutex_destroy(&ni->mu);
    pthread_cond_destroy(&ni->cv);
    free(ni);
    s->ctx = NULL;
}

/* The readers point into the old baseline: the next message makes them
 * again. */
static void nats_reload(struct source *s)
{
    reader_free(s->reader);
    colmap_free(&s->colmap);
    s->reader = NULL;
}

static void nats_status(const struct source *s, struct sbuf *out)
{
    struct nats_in *ni = s->ctx;
    if (ni == NULL)
        return;
    pthread_mutex_lock(&ni->mu);
    sbuf_adds(out, ", \"subject\": ");
    sbuf_add_json_string(out, ni->subject, strlen(ni->subject));
    sbuf_adds(out, ", \"durable\": ");
    sbuf_add_json_string(out, ni->durable, strlen(ni->durable));
    sbuf_printf(out, ", \"connected\": %s, \"fetching\": %s, \"server\": ",
                ni->connected ? "true" : "false", ni->fetching ? "true" : "false");
    sbuf_add_json_string(out, ni->url, strlen(ni->url));
    sbuf_printf(out,
                ", \"messages\": {\"fetched\": %" PRIu64 ", \"queued\": %zu, \"held\": %" PRIu64
                ", \"acked\": %" PRIu64 ", \"given_back\": %" PRIu64
                "}, \"ack_wait_seconds\": %.3f",
                ni->fetched, ni->qn, ni->pending, ni->acked, ni->naked, ni->ack_wait);
    sbuf_adds(out, ", \"errors\": {");
    for (int r = 0; r < NR_COUNT; r++)
        sbuf_printf(out, "%s\"%s\": %" PRIu64, r ? ", " : "", reason_names[r], ni->errors[r]);
    sbuf_adds(out, "}, \"last_error\": ");
    if (ni->last_error[0])
        sbuf_add_json_string(out, ni->last_error, strlen(ni->last_error));
    else
        sbuf_adds(out, "null");
    pthread_mutex_unlock(&ni->mu);
}

static const char *nats_not_ready(const struct source *s, char *buf, size_t len)
{
    struct nats_in *ni = s->ctx;
    if (ni == NULL)
        return NULL;
    pthread_mutex_lock(&ni->mu);
    bool up = ni->connected;
    if (!up)
        snprintf(buf, len, "%s: no NATS server%s%s", s->name, ni->last_error[0] ? ": " : "",
                 ni->last_error);
    pthread_mutex_unlock(&ni->mu);
    return up ? NULL : buf;
}

static void nats_errors(const struct source *s,
                        void (*fn)(void *arg, const char *reason, uint64_t n), void *arg)
{
    struct nats_in *ni = s->ctx;
    if (ni == NULL)
        return;
    uint64_t e[NR_COUNT];
    pthread_mutex_lock(&ni->mu);
    memcpy(e, ni->errors, sizeof(e));
    pthread_mutex_unlock(&ni->mu);
    for (int r = 0; r < NR_COUNT; r++)
        fn(arg, reason_names[r], e[r]);
}

const struct source_ops in_nats_ops = {
    .type = "nats",
    .start = nats_start,
    .stop = nats_stop,
    .reload = nats_reload,
    .window_closed = nats_window_closed,
    .window_finished = nats_window_finished,
    .status = nats_status,
    .not_ready = nats_not_ready,
    .errors = nats_errors,
    .destroy = nats_destroy,
};
