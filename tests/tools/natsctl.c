/*
 * natsctl: the NATS JetStream tool of driftd's tests and benchmarks (Debian
 * ships nats-server but no `nats` CLI). It sets up streams and KV buckets,
 * publishes a file's records with JetStream acks, reads consumer state and
 * KV entries, and consumes a stream as fast as the client allows, which is
 * the baseline bench/nats.sh compares driftd's nats input with.
 *
 *   natsctl COMMAND --servers URL[,URL...] [options]   (natsctl --help)
 *
 * Every command prints one JSON object on stdout and exits 0 on success;
 * errors go to stderr naming what failed and the client's status text.
 * Administrative calls retry what a cluster answers while a leader is being
 * elected (timeouts, no responders, "JetStream system temporarily
 * unavailable", "insufficient resources") until --timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <nats/nats.h>

/* Everything the command line can say; which command reads what is in usage(). */
struct opts {
    const char *command;
    const char *servers;
    double timeout;
    const char *stream;
    const char *subjects;
    int replicas;
    const char *storage;
    const char *bucket;
    double ttl_seconds;
    int history;
    const char *subject;
    const char *file;
    int per_msg;
    const char *format;
    double rate;
    long long count;
    const char *durable;
    bool ack;
    int batch;
    long long max_ack_pending;
    const char *key;
    const char *value;
    long long last;
    bool raw;
    int window;
    int retries;
    int interval_ms;
    const char *msg_id_prefix;
    const char *token_file;
    const char *creds;
};

/* Print the help: every command and option. */
static void usage(FILE *f)
{
    fputs("usage: natsctl COMMAND --servers URL[,URL...] [options]\n"
          "\n"
          "commands (each prints one JSON object on stdout):\n"
          "  wait-js        wait until JetStream answers (account info); with --replicas N > 1\n"
          "                 also until an R-N stream can be placed (a probe stream, deleted)\n"
          "  stream-add     --stream NAME --subjects 'a.>,b.*' [--replicas N] [--storage "
          "file|memory]\n"
          "  stream-info    --stream NAME: messages, first/last sequence, leader, replicas\n"
          "  kv-add         --bucket NAME [--replicas N] [--ttl-seconds S] [--history N]\n"
          "  pub            --subject S --file F [--per-msg N] [--format ndjson|csv|json]\n"
          "                 [--rate RECORDS_PER_S] [--count RECORDS] [--window N] [--retries N]\n"
          "                 [--msg-id-prefix P]\n"
          "                 publish F's records, N per message (csv: the header in every\n"
          "                 message; json: NDJSON lines sent as one JSON array per message),\n"
          "                 with JetStream acks; --count repeats the file to that many records\n"
          "  consumer-info  --stream S --durable D: num_pending, num_ack_pending,\n"
          "                 num_redelivered, delivered, ack_floor\n"
          "  consumer-wait  --stream S --durable D[,D...] [--last SEQ] [--interval-ms N]\n"
          "                 poll until each durable (another's: driftd's) had a delivery and\n"
          "                 has nothing pending or unacked (with --last: ack floor >= SEQ);\n"
          "                 first_delivery_s and done_s since the start, for benchmarks\n"
          "  kv-get         --bucket B --key K [--raw]: value and revision; exit 1 when absent\n"
          "  kv-put         --bucket B --key K --value V [--last REV] (--last 0: only if absent)\n"
          "  kv-del         --bucket B --key K\n"
          "  kv-history     --bucket B --key K: every revision kept (value, operation),\n"
          "                 oldest first; exit 1 when the key never existed\n"
          "  bench-consume  --stream S --subject SUBJ --durable D --count RECORDS [--ack]\n"
          "                 [--format ndjson|csv|json] [--batch N] [--max-ack-pending N]\n"
          "                 pull-consume until RECORDS records arrived, acking each message\n"
          "                 (--ack) as driftd does; records/s and msgs/s\n"
          "\n"
          "common options:\n"
          "  --servers URLS      comma-separated nats:// URLs (required)\n"
          "  --timeout S         give up after S seconds (default 10; bench-consume 120)\n"
          "  --token-file F      authenticate with the token in F\n"
          "  --creds F           authenticate with a .creds file\n"
          "  --help              this text\n"
          "\n"
          "exit status: 0 done, 1 failed (kv-get: key absent), 2 usage\n",
          f);
}

/* Seconds on the monotonic clock. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Report a failed NATS call: what was tried, the status text, the JetStream
 * error code and the library's last error when it says more. */
static void nats_fail(const char *what, natsStatus s, jsErrCode jerr)
{
    const char *last = nats_GetLastError(NULL);
    fprintf(stderr, "natsctl: %s: %s", what, natsStatus_GetText(s));
    if (jerr != 0)
        fprintf(stderr, " (JetStream error %d)", (int)jerr);
    /* the last error often is "(file.c:N): " and the status text again */
    const char *text = natsStatus_GetText(s);
    size_t ll = last != NULL ? strlen(last) : 0, tl = strlen(text);
    if (ll > 0 && !(ll >= tl && strcmp(last + ll - tl, text) == 0))
        fprintf(stderr, ": %s", last);
    fputc('\n', stderr);
}

/* nats_fail with what said printf-style (up to 300 bytes). */
static void vfailf(natsStatus s, jsErrCode jerr, const char *fmt, va_list ap)
{
    char what[300];
    vsnprintf(what, sizeof(what), fmt, ap);
    nats_fail(what, s, jerr);
}

/* nats_fail with what said printf-style. */
static void failf(natsStatus s, jsErrCode jerr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void failf(natsStatus s, jsErrCode jerr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfailf(s, jerr, fmt, ap);
    va_end(ap);
}

/* failf, then rc: the exit status of the command that failed. */
static int fail_rc(int rc, natsStatus s, jsErrCode jerr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_rc(int rc, natsStatus s, jsErrCode jerr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfailf(s, jerr, fmt, ap);
    va_end(ap);
    return rc;
}

/* Whether a failure is what a cluster answers while it elects a leader or
 * while a node is away, so that trying again later may succeed. */
static bool transient(natsStatus s, jsErrCode jerr)
{
    if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_CONNECTION_DISCONNECTED)
        return true;
    return jerr == JSClusterNotAvailErr || jerr == JSInsufficientResourcesErr ||
           jerr == JSClusterNoPeersErr || jerr == 10074 /* JSClusterNotLeaderErr */;
}

/* Call again what set s while it fails as a cluster does during an election
 * (transient), every 200 ms until deadline; jerr, the JetStream error code
 * the call sets, is cleared before each try after the first. */
#define RETRY_TRANSIENT(s, jerr, deadline, call)                                                   \
    while (((s) = (call)) != NATS_OK && transient((s), (jerr)) && now_s() < (deadline)) {          \
        (jerr) = 0;                                                                                \
        nats_Sleep(200);                                                                           \
    }

/* RETRY_TRANSIENT for the KV calls, which hide the JetStream error code. */
#define RETRY_KV(s, deadline, call)                                                                \
    while (((s) = (call)) != NATS_OK && transient((s), 0) && now_s() < (deadline)) {               \
        nats_Sleep(200);                                                                           \
    }

/* Print a cJSON object on one line and free it. */
static void print_json(cJSON *o)
{
    char *s = cJSON_PrintUnformatted(o);
    if (s != NULL) {
        puts(s);
        free(s);
    }
    cJSON_Delete(o);
    fflush(stdout);
}

/* Read a whole file; NULL with a message naming it on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "natsctl: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf != NULL) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap)
            break;
        cap *= 2;
        char *grown = realloc(buf, cap + 1);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
    }
    if (buf == NULL || ferror(f)) {
        fprintf(stderr, "natsctl: cannot read %s: %s\n", path,
                buf == NULL ? "out of memory" : strerror(errno));
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* Connect to the comma-separated servers with reconnection on, so that a
 * node that goes away moves the client to another one. */
static natsStatus connect_servers(const struct opts *o, natsConnection **nc)
{
    natsOptions *no = NULL;
    natsStatus s = natsOptions_Create(&no);
    char *list = strdup(o->servers);
    const char *urls[16];
    int n = 0;
    for (char *save = NULL, *u = strtok_r(list, ",", &save); u != NULL && n < 16;
         u = strtok_r(NULL, ",", &save))
        urls[n++] = u;
    if (s == NATS_OK)
        s = natsOptions_SetServers(no, urls, n);
    /* A paused node accepts the TCP connection but never greets: give up on
     * it soon and try the next server (loopback answers in milliseconds). */
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(no, 1000);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(no, 1000);
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(no, 100);
    if (s == NATS_OK)
        s = natsOptions_SetName(no, "natsctl");
    if (s == NATS_OK && o->token_file != NULL) {
        size_t len = 0;
        char *tok = read_file(o->token_file, &len);
        if (tok == NULL) {
            s = NATS_ERR;
        } else {
            while (len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
                tok[--len] = '\0';
            s = natsOptions_SetToken(no, tok);
            free(tok);
        }
    }
    if (s == NATS_OK && o->creds != NULL)
        s = natsOptions_SetUserCredentialsFromFiles(no, o->creds, NULL);
    if (s == NATS_OK)
        s = natsConnection_Connect(nc, no);
    natsOptions_Destroy(no);
    free(list);
    return s;
}

/* Open a KV bucket, retrying while the cluster elects; NULL after a message. */
static kvStore *open_kv(const struct opts *o, jsCtx *js)
{
    double deadline = now_s() + o->timeout;
    kvStore *kv = NULL;
    natsStatus s;
    RETRY_KV(s, deadline, js_KeyValue(&kv, js, o->bucket));
    if (s != NATS_OK) {
        failf(s, 0, "opening KV bucket %s", o->bucket);
        return NULL;
    }
    return kv;
}

/* What a command opens: the connection, its JetStream context and, for the
 * KV commands, the bucket (NULL otherwise). */
struct session {
    natsConnection *nc;
    jsCtx *js;
    kvStore *kv;
};

/* Connect, make a JetStream context with options jo and, with bucket, open
 * --bucket; -1 after a message, with nothing left open. */
static int session_open_with(const struct opts *o, jsOptions *jo, bool bucket, struct session *ss)
{
    ss->nc = NULL;
    ss->js = NULL;
    ss->kv = NULL;
    natsStatus s = connect_servers(o, &ss->nc);
    if (s != NATS_OK) {
        failf(s, 0, "connect to %s", o->servers);
        return -1;
    }
    s = natsConnection_JetStream(&ss->js, ss->nc, jo);
    if (s != NATS_OK) {
        nats_fail("JetStream context", s, 0);
        natsConnection_Destroy(ss->nc);
        return -1;
    }
    if (bucket && (ss->kv = open_kv(o, ss->js)) == NULL) {
        jsCtx_Destroy(ss->js);
        natsConnection_Destroy(ss->nc);
        return -1;
    }
    return 0;
}

/* session_open_with a context whose API calls wait up to wait_ms. */
static int session_open(const struct opts *o, int64_t wait_ms, bool bucket, struct session *ss)
{
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = wait_ms;
    return session_open_with(o, &jo, bucket, ss);
}

/* Close what session_open opened. */
static void session_close(struct session *ss)
{
    if (ss->kv != NULL)
        kvStore_Destroy(ss->kv);
    jsCtx_Destroy(ss->js);
    natsConnection_Destroy(ss->nc);
}

/* fail_rc(1, ...) for a command with a session to close: the message first,
 * while the library's last error is still the failed call's. */
static int fail_close(struct session *ss, natsStatus s, jsErrCode jerr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_close(struct session *ss, natsStatus s, jsErrCode jerr, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfailf(s, jerr, fmt, ap);
    va_end(ap);
    session_close(ss);
    return 1;
}

/* Split a comma-separated list in place into at most max items. */
static int split_list(char *s, const char **items, int max)
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(s, ",", &save); t != NULL && n < max;
         t = strtok_r(NULL, ",", &save))
        items[n++] = t;
    return n;
}

/* The JSON of a stream's cluster: leader and each replica's state. */
static void add_cluster(cJSON *o, const jsClusterInfo *ci)
{
    if (ci == NULL)
        return;
    cJSON_AddStringToObject(o, "leader", ci->Leader != NULL ? ci->Leader : "");
    cJSON *reps = cJSON_AddArrayToObject(o, "replicas");
    for (int i = 0; i < ci->ReplicasLen; i++) {
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "name", ci->Replicas[i]->Name);
        cJSON_AddBoolToObject(r, "current", ci->Replicas[i]->Current);
        cJSON_AddBoolToObject(r, "offline", ci->Replicas[i]->Offline);
        cJSON_AddNumberToObject(r, "lag", (double)ci->Replicas[i]->Lag);
        cJSON_AddItemToArray(reps, r);
    }
}

/* wait-js: poll until JetStream answers, and with --replicas N until an R-N
 * stream can be placed, which is what a test's R3 stream needs. */
static int cmd_wait_js(const struct opts *o)
{
    double t0 = now_s(), deadline = t0 + o->timeout;
    char probe[64], probe_subj[80];
    snprintf(probe, sizeof(probe), "NATSCTL_PROBE_%ld", (long)getpid());
    snprintf(probe_subj, sizeof(probe_subj), "natsctl.probe.%ld", (long)getpid());
    natsStatus s = NATS_OK;
    jsErrCode jerr = 0;
    const char *step = "connect";
    double t_js = -1;
    while (now_s() < deadline) {
        natsConnection *nc = NULL;
        jsCtx *js = NULL;
        jerr = 0;
        s = connect_servers(o, &nc);
        if (s == NATS_OK) {
            jsOptions jo;
            jsOptions_Init(&jo);
            jo.Wait = 1000;
            step = "JetStream context";
            s = natsConnection_JetStream(&js, nc, &jo);
        }
        if (s == NATS_OK) {
            jsAccountInfo *ai = NULL;
            step = "JetStream account info";
            s = js_GetAccountInfo(&ai, js, NULL, &jerr);
            jsAccountInfo_Destroy(ai);
        }
        if (s == NATS_OK && t_js < 0)
            t_js = now_s() - t0;
        if (s == NATS_OK && o->replicas > 1) {
            jsStreamConfig cfg;
            jsStreamConfig_Init(&cfg);
            const char *subj[1] = {probe_subj};
            cfg.Name = probe;
            cfg.Subjects = subj;
            cfg.SubjectsLen = 1;
            cfg.Storage = js_MemoryStorage;
            cfg.Replicas = o->replicas;
            jsStreamInfo *si = NULL;
            step = "placing a probe stream with the replicas asked for";
            s = js_AddStream(&si, js, &cfg, NULL, &jerr);
            jsStreamInfo_Destroy(si);
            if (s == NATS_OK) {
                jsErrCode derr = 0;
                natsStatus ds = js_DeleteStream(js, probe, NULL, &derr);
                if (ds != NATS_OK)
                    nats_fail("deleting the probe stream (left behind)", ds, derr);
            }
        }
        if (js != NULL)
            jsCtx_Destroy(js);
        if (nc != NULL)
            natsConnection_Destroy(nc);
        if (s == NATS_OK) {
            cJSON *out = cJSON_CreateObject();
            cJSON_AddNumberToObject(out, "seconds", now_s() - t0);
            cJSON_AddNumberToObject(out, "jetstream_seconds", t_js);
            print_json(out);
            return 0;
        }
        nats_Sleep(200);
    }
    return fail_rc(1, s, jerr, "JetStream not ready after %.0f s (last step: %s)", o->timeout,
                   step);
}

/* stream-add: create the stream (or find it there with the same config). */
static int cmd_stream_add(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, false, &ss) != 0)
        return 1;
    char *subjects = strdup(o->subjects);
    const char *subj[32];
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = o->stream;
    cfg.Subjects = subj;
    cfg.SubjectsLen = split_list(subjects, subj, 32);
    cfg.Replicas = o->replicas;
    cfg.Storage = strcmp(o->storage, "memory") == 0 ? js_MemoryStorage : js_FileStorage;
    double deadline = now_s() + o->timeout;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    RETRY_TRANSIENT(s, jerr, deadline, js_AddStream(&si, ss.js, &cfg, NULL, &jerr));
    int rc = 0;
    if (s != NATS_OK) {
        rc = fail_rc(1, s, jerr, "adding stream %s (subjects %s, %d replicas)", o->stream,
                     o->subjects, o->replicas);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "stream", o->stream);
        cJSON_AddNumberToObject(out, "num_replicas", (double)si->Config->Replicas);
        add_cluster(out, si->Cluster);
        print_json(out);
    }
    jsStreamInfo_Destroy(si);
    free(subjects);
    session_close(&ss);
    return rc;
}

/* stream-info: the stream's state and cluster, for "nothing lost" checks and
 * to find the stream's leader. */
static int cmd_stream_info(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, false, &ss) != 0)
        return 1;
    double deadline = now_s() + o->timeout;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    RETRY_TRANSIENT(s, jerr, deadline, js_GetStreamInfo(&si, ss.js, o->stream, NULL, &jerr));
    int rc = 0;
    if (s != NATS_OK) {
        rc = fail_rc(1, s, jerr, "info of stream %s", o->stream);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "stream", o->stream);
        cJSON_AddNumberToObject(out, "messages", (double)si->State.Msgs);
        cJSON_AddNumberToObject(out, "bytes", (double)si->State.Bytes);
        cJSON_AddNumberToObject(out, "first_seq", (double)si->State.FirstSeq);
        cJSON_AddNumberToObject(out, "last_seq", (double)si->State.LastSeq);
        cJSON_AddNumberToObject(out, "consumers", (double)si->State.Consumers);
        cJSON_AddNumberToObject(out, "num_replicas", (double)si->Config->Replicas);
        add_cluster(out, si->Cluster);
        print_json(out);
    }
    jsStreamInfo_Destroy(si);
    session_close(&ss);
    return rc;
}

/* kv-add: create a KV bucket (TTL: libnats 3.4 takes nanoseconds). */
static int cmd_kv_add(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, false, &ss) != 0)
        return 1;
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = o->bucket;
    cfg.Replicas = o->replicas;
    cfg.History = (uint8_t)o->history;
    cfg.TTL = (int64_t)(o->ttl_seconds * 1e9);
    cfg.StorageType = strcmp(o->storage, "memory") == 0 ? js_MemoryStorage : js_FileStorage;
    double deadline = now_s() + o->timeout;
    kvStore *kv = NULL;
    natsStatus s;
    /* js_CreateKeyValue hides the JetStream error code; its text is in the
     * last error. */
    while ((s = js_CreateKeyValue(&kv, ss.js, &cfg)) != NATS_OK && now_s() < deadline) {
        const char *last = nats_GetLastError(NULL);
        if (!transient(s, 0) && (last == NULL || (strstr(last, "temporarily unavailable") == NULL &&
                                                  strstr(last, "insufficient resources") == NULL &&
                                                  strstr(last, "no suitable peers") == NULL)))
            break;
        nats_Sleep(200);
    }
    int rc = 0;
    if (s != NATS_OK) {
        rc = fail_rc(1, s, 0, "adding KV bucket %s (%d replicas, TTL %g s, history %d)", o->bucket,
                     o->replicas, o->ttl_seconds, o->history);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "bucket", o->bucket);
        cJSON_AddNumberToObject(out, "num_replicas", o->replicas);
        cJSON_AddNumberToObject(out, "ttl_seconds", o->ttl_seconds);
        cJSON_AddNumberToObject(out, "history", o->history);
        print_json(out);
        kvStore_Destroy(kv);
    }
    session_close(&ss);
    return rc;
}

/* kv-get: the key's value and revision; 1 when absent or deleted. */
static int cmd_kv_get(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, true, &ss) != 0)
        return 2;
    double deadline = now_s() + o->timeout;
    kvEntry *e = NULL;
    natsStatus s;
    RETRY_KV(s, deadline, kvStore_Get(&e, ss.kv, o->key));
    int rc = 0;
    if (s == NATS_NOT_FOUND) {
        fprintf(stderr, "natsctl: key %s not found in bucket %s\n", o->key, o->bucket);
        rc = 1;
    } else if (s != NATS_OK) {
        rc = fail_rc(2, s, 0, "getting key %s from bucket %s", o->key, o->bucket);
    } else if (o->raw) {
        fwrite(kvEntry_Value(e), 1, (size_t)kvEntry_ValueLen(e), stdout);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "key", o->key);
        /* the value may hold any bytes; JSON carries it up to a NUL */
        char *v = strndup(kvEntry_Value(e), (size_t)kvEntry_ValueLen(e));
        cJSON_AddStringToObject(out, "value", v != NULL ? v : "");
        free(v);
        cJSON_AddNumberToObject(out, "revision", (double)kvEntry_Revision(e));
        cJSON_AddNumberToObject(out, "created_ns", (double)kvEntry_Created(e));
        print_json(out);
    }
    kvEntry_Destroy(e);
    session_close(&ss);
    return rc;
}

/* kv-put: put the value; with --last REV only over that revision (0: only
 * when absent), as a fencing writer does. */
static int cmd_kv_put(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, true, &ss) != 0)
        return 1;
    uint64_t rev = 0;
    natsStatus s;
    int len = (int)strlen(o->value);
    if (o->last < 0)
        s = kvStore_Put(&rev, ss.kv, o->key, o->value, len);
    else if (o->last == 0)
        s = kvStore_Create(&rev, ss.kv, o->key, o->value, len);
    else
        s = kvStore_Update(&rev, ss.kv, o->key, o->value, len, (uint64_t)o->last);
    int rc = 0;
    if (s != NATS_OK) {
        rc = fail_rc(1, s, 0, "putting key %s in bucket %s (last revision %lld)", o->key, o->bucket,
                     o->last);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "key", o->key);
        cJSON_AddNumberToObject(out, "revision", (double)rev);
        print_json(out);
    }
    session_close(&ss);
    return rc;
}

/* kv-del: delete the key (a delete marker; history keeps the rest). */
static int cmd_kv_del(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, true, &ss) != 0)
        return 1;
    natsStatus s = kvStore_Delete(ss.kv, o->key);
    int rc = 0;
    if (s != NATS_OK) {
        rc = fail_rc(1, s, 0, "deleting key %s from bucket %s", o->key, o->bucket);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "key", o->key);
        cJSON_AddBoolToObject(out, "deleted", true);
        print_json(out);
    }
    session_close(&ss);
    return rc;
}

/* The name of a KV operation, as the JSON says it. */
static const char *kv_op_name(kvOperation op)
{
    switch (op) {
    case kvOp_Put:
        return "PUT";
    case kvOp_Delete:
        return "DEL";
    case kvOp_Purge:
        return "PURGE";
    default:
        return "UNKNOWN";
    }
}

/* kv-history: every revision of a key the bucket keeps (its history
 * setting), oldest first, so that a test can check who wrote a lease when. */
static int cmd_kv_history(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, true, &ss) != 0)
        return 2;
    double deadline = now_s() + o->timeout;
    kvEntryList list = {0};
    natsStatus s;
    RETRY_KV(s, deadline, kvStore_History(&list, ss.kv, o->key, NULL));
    int rc = 0;
    if (s == NATS_NOT_FOUND) {
        fprintf(stderr, "natsctl: key %s has no history in bucket %s\n", o->key, o->bucket);
        rc = 1;
    } else if (s != NATS_OK) {
        rc = fail_rc(2, s, 0, "history of key %s in bucket %s", o->key, o->bucket);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "key", o->key);
        cJSON *h = cJSON_AddArrayToObject(out, "history");
        for (int i = 0; i < list.Count; i++) {
            kvEntry *e = list.Entries[i];
            cJSON *x = cJSON_CreateObject();
            cJSON_AddNumberToObject(x, "revision", (double)kvEntry_Revision(e));
            cJSON_AddStringToObject(x, "operation", kv_op_name(kvEntry_Operation(e)));
            char *v = strndup(kvEntry_Value(e) != NULL ? kvEntry_Value(e) : "",
                              (size_t)kvEntry_ValueLen(e));
            cJSON_AddStringToObject(x, "value", v != NULL ? v : "");
            free(v);
            cJSON_AddNumberToObject(x, "created_ns", (double)kvEntry_Created(e));
            cJSON_AddItemToArray(h, x);
        }
        print_json(out);
        kvEntryList_Destroy(&list);
    }
    session_close(&ss);
    return rc;
}

/* consumer-info: the counters a test waits on ("all acked"). */
static int cmd_consumer_info(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 2000, false, &ss) != 0)
        return 1;
    double deadline = now_s() + o->timeout;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    RETRY_TRANSIENT(s, jerr, deadline,
                    js_GetConsumerInfo(&ci, ss.js, o->stream, o->durable, NULL, &jerr));
    int rc = 0;
    if (s != NATS_OK) {
        rc = fail_rc(1, s, jerr, "info of consumer %s on stream %s", o->durable, o->stream);
    } else {
        cJSON *out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "stream", o->stream);
        cJSON_AddStringToObject(out, "durable", o->durable);
        cJSON_AddNumberToObject(out, "num_pending", (double)ci->NumPending);
        cJSON_AddNumberToObject(out, "num_ack_pending", (double)ci->NumAckPending);
        cJSON_AddNumberToObject(out, "num_redelivered", (double)ci->NumRedelivered);
        cJSON_AddNumberToObject(out, "num_waiting", (double)ci->NumWaiting);
        cJSON *d = cJSON_AddObjectToObject(out, "delivered");
        cJSON_AddNumberToObject(d, "consumer_seq", (double)ci->Delivered.Consumer);
        cJSON_AddNumberToObject(d, "stream_seq", (double)ci->Delivered.Stream);
        cJSON *a = cJSON_AddObjectToObject(out, "ack_floor");
        cJSON_AddNumberToObject(a, "consumer_seq", (double)ci->AckFloor.Consumer);
        cJSON_AddNumberToObject(a, "stream_seq", (double)ci->AckFloor.Stream);
        if (ci->Config != NULL) {
            cJSON_AddNumberToObject(out, "max_ack_pending", (double)ci->Config->MaxAckPending);
            cJSON_AddNumberToObject(out, "ack_wait_ns", (double)ci->Config->AckWait);
        }
        add_cluster(out, ci->Cluster);
        print_json(out);
    }
    jsConsumerInfo_Destroy(ci);
    session_close(&ss);
    return rc;
}

/* consumer-wait: poll durables (made by someone else, e.g. driftd) until
 * each has had a delivery and has nothing pending or unacked; the times are
 * seconds since this command started, so that a benchmark started with its
 * consumers can time them to the poll interval. */
static int cmd_consumer_wait(const struct opts *o)
{
    struct session ss;
    double t0 = now_s(), deadline = t0 + o->timeout;
    if (session_open(o, 2000, false, &ss) != 0)
        return 1;
    char *names = strdup(o->durable);
    const char *dur[64];
    int n = split_list(names, dur, 64);
    double first[64], done[64];
    for (int i = 0; i < n; i++)
        first[i] = done[i] = -1;
    int left = n;
    while (left > 0 && now_s() < deadline) {
        for (int i = 0; i < n; i++) {
            if (done[i] >= 0)
                continue;
            jsConsumerInfo *ci = NULL;
            jsErrCode jerr = 0;
            natsStatus s = js_GetConsumerInfo(&ci, ss.js, o->stream, dur[i], NULL, &jerr);
            double t = now_s() - t0;
            if (s == NATS_OK) {
                if (first[i] < 0 && ci->Delivered.Stream > 0)
                    first[i] = t;
                if (first[i] >= 0 && ci->NumPending == 0 && ci->NumAckPending == 0 &&
                    (o->last < 0 || ci->AckFloor.Stream >= (uint64_t)o->last)) {
                    done[i] = t;
                    left--;
                }
            } else if (s != NATS_NOT_FOUND && jerr != JSConsumerNotFoundErr &&
                       !transient(s, jerr)) {
                failf(s, jerr, "info of consumer %s on stream %s", dur[i], o->stream);
                left = -1;
                break;
            }
            jsConsumerInfo_Destroy(ci);
        }
        if (left > 0)
            nats_Sleep(o->interval_ms);
    }
    cJSON *out = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(out, "durables");
    double lo = -1, hi = -1;
    for (int i = 0; i < n; i++) {
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "durable", dur[i]);
        cJSON_AddNumberToObject(x, "first_delivery_s", first[i]);
        cJSON_AddNumberToObject(x, "done_s", done[i]);
        cJSON_AddItemToArray(arr, x);
        if (first[i] >= 0 && (lo < 0 || first[i] < lo))
            lo = first[i];
        if (done[i] > hi)
            hi = done[i];
    }
    cJSON_AddNumberToObject(out, "first_delivery_s", lo);
    cJSON_AddNumberToObject(out, "done_s", hi);
    print_json(out);
    int rc = 0;
    if (left != 0) {
        if (left > 0)
            fprintf(stderr, "natsctl: consumer-wait: %d of %d durables not done after %.0f s\n",
                    left, n, o->timeout);
        rc = 1;
    }
    free(names);
    session_close(&ss);
    return rc;
}

/* One record of the input file: where it starts and how long it is. */
struct span {
    size_t off, len;
};

/* The records of a publication and how messages are cut from them. */
struct pubset {
    const char *buf;
    struct span header; /* csv only */
    struct span *rec;
    size_t nrec;
    long long total; /* records to publish (the file repeated) */
    int per_msg;
    long long nmsgs;
    int format; /* 0 ndjson, 1 csv, 2 json array */
};

/* Cut the file into lines (the records; csv: the first is the header).
 * Empty lines are no records. */
static int split_records(struct pubset *p, const char *buf, size_t len)
{
    size_t cap = 1024;
    p->buf = buf;
    p->rec = malloc(cap * sizeof(*p->rec));
    p->nrec = 0;
    bool want_header = p->format == 1;
    for (size_t i = 0; i < len && p->rec != NULL;) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - buf) : len;
        size_t l = end - i;
        if (l > 0 && buf[end - 1] == '\r')
            l--;
        if (l > 0) {
            if (want_header) {
                p->header = (struct span){i, l};
                want_header = false;
            } else {
                if (p->nrec == cap) {
                    cap *= 2;
                    struct span *g = realloc(p->rec, cap * sizeof(*p->rec));
                    if (g == NULL) {
                        free(p->rec);
                        p->rec = NULL;
                        break;
                    }
                    p->rec = g;
                }
                p->rec[p->nrec++] = (struct span){i, l};
            }
        }
        i = end + 1;
    }
    return p->rec == NULL ? -1 : 0;
}

/* How many records message k holds. */
static int msg_records(const struct pubset *p, long long k)
{
    long long first = k * p->per_msg, left = p->total - first;
    return left < p->per_msg ? (int)left : p->per_msg;
}

/* Build message k's body into *body (grown as needed); its length. */
static size_t build_body(const struct pubset *p, long long k, char **body, size_t *cap)
{
    size_t need = p->header.len + 3;
    int n = msg_records(p, k);
    long long first = k * p->per_msg;
    for (int j = 0; j < n; j++)
        need += p->rec[(size_t)(first + j) % p->nrec].len + 1;
    if (need > *cap) {
        *cap = need * 2;
        *body = realloc(*body, *cap);
        if (*body == NULL)
            return 0;
    }
    char *w = *body;
    if (p->format == 1) {
        memcpy(w, p->buf + p->header.off, p->header.len);
        w += p->header.len;
        *w++ = '\n';
    } else if (p->format == 2) {
        *w++ = '[';
    }
    for (int j = 0; j < n; j++) {
        const struct span *r = &p->rec[(size_t)(first + j) % p->nrec];
        memcpy(w, p->buf + r->off, r->len);
        w += r->len;
        if (p->format == 2)
            *w++ = j + 1 < n ? ',' : ']';
        else
            *w++ = '\n';
    }
    return (size_t)(w - *body);
}

/* What the publish-ack handler (a library thread) shares with the publisher. */
struct pubstate {
    pthread_mutex_t mu;
    const struct pubset *set;
    const char *prefix;
    unsigned char *acked; /* one flag per message */
    long long acked_msgs, acked_records, duplicates;
    long long *failed; /* message indices to publish again */
    long long nfailed, capfailed;
    long long errors;
    char last_error[256];
};

/* The index of a message from its Nats-Msg-Id (PREFIX-INDEX); -1 if none. */
static long long msg_index(natsMsg *msg)
{
    const char *id = NULL;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) != NATS_OK || id == NULL)
        return -1;
    const char *dash = strrchr(id, '-');
    return dash != NULL ? strtoll(dash + 1, NULL, 10) : -1;
}

/* Remember message k for another try (under the lock). */
static void add_failed(struct pubstate *st, long long k)
{
    if (st->nfailed == st->capfailed) {
        st->capfailed = st->capfailed == 0 ? 256 : st->capfailed * 2;
        long long *g = realloc(st->failed, (size_t)st->capfailed * sizeof(*g));
        if (g == NULL)
            abort();
        st->failed = g;
    }
    st->failed[st->nfailed++] = k;
}

/* Count an acked message once (a retry of a message whose ack was late
 * comes back as a duplicate), or queue a failed one for another try. */
static void on_pub_ack(jsCtx *js, natsMsg *msg, jsPubAck *pa, jsPubAckErr *pae, void *closure)
{
    (void)js;
    struct pubstate *st = closure;
    long long k = msg_index(msg);
    pthread_mutex_lock(&st->mu);
    if (k < 0 || k >= st->set->nmsgs) {
        st->errors++;
        snprintf(st->last_error, sizeof(st->last_error), "an ack for a message of no index");
    } else if (pa != NULL) {
        if (pa->Duplicate)
            st->duplicates++;
        if (!st->acked[k]) {
            st->acked[k] = 1;
            st->acked_msgs++;
            st->acked_records += msg_records(st->set, k);
        }
    } else if (pae != NULL) {
        st->errors++;
        snprintf(st->last_error, sizeof(st->last_error), "%s%s%s", natsStatus_GetText(pae->Err),
                 pae->ErrText != NULL ? ": " : "", pae->ErrText != NULL ? pae->ErrText : "");
        if (!st->acked[k])
            add_failed(st, k);
    }
    pthread_mutex_unlock(&st->mu);
    natsMsg_Destroy(msg);
}

/* Publish message k asynchronously with its dedup id, so that a retry of a
 * message the stream already holds is not stored twice. */
static natsStatus publish_one(jsCtx *js, const struct opts *o, const struct pubset *p, long long k,
                              char **body, size_t *cap)
{
    size_t len = build_body(p, k, body, cap);
    if (len == 0)
        return NATS_NO_MEMORY;
    natsMsg *msg = NULL;
    natsStatus s = natsMsg_Create(&msg, o->subject, NULL, *body, (int)len);
    char id[160];
    snprintf(id, sizeof(id), "%s-%lld", o->msg_id_prefix, k);
    if (s == NATS_OK)
        s = natsMsgHeader_Set(msg, "Nats-Msg-Id", id);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 5000; /* an ack lost with a node times out and is retried */
    if (s == NATS_OK)
        s = js_PublishMsgAsync(js, &msg, &po);
    natsMsg_Destroy(msg); /* NULL when the library took it */
    return s;
}

/* pub: publish the file's records as JetStream messages and wait for every
 * ack; failed messages are published again (same id) up to --retries rounds. */
static int cmd_pub(const struct opts *o)
{
    size_t len = 0;
    char *buf = read_file(o->file, &len);
    if (buf == NULL)
        return 1;
    struct pubset p = {0};
    p.format = strcmp(o->format, "csv") == 0 ? 1 : strcmp(o->format, "json") == 0 ? 2 : 0;
    p.per_msg = o->per_msg;
    if (split_records(&p, buf, len) != 0 || p.nrec == 0) {
        fprintf(stderr, "natsctl: %s: no records%s\n", o->file,
                p.format == 1 ? " after the header" : "");
        free(p.rec);
        free(buf);
        return 1;
    }
    p.total = o->count > 0 ? o->count : (long long)p.nrec;
    p.nmsgs = (p.total + p.per_msg - 1) / p.per_msg;

    struct pubstate st = {.set = &p, .prefix = o->msg_id_prefix};
    pthread_mutex_init(&st.mu, NULL);
    st.acked = calloc((size_t)p.nmsgs, 1);

    struct session ss;
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = 5000;
    jo.PublishAsync.MaxPending = o->window;
    jo.PublishAsync.AckHandler = on_pub_ack;
    jo.PublishAsync.AckHandlerClosure = &st;
    if (session_open_with(o, &jo, false, &ss) != 0) {
        free(st.acked);
        free(p.rec);
        free(buf);
        return 1;
    }
    natsStatus s;

    char *body = NULL;
    size_t cap = 0;
    double t0 = now_s(), deadline = t0 + o->timeout;
    long long published = 0, retried = 0;
    int rc = 0;
    for (long long k = 0; k < p.nmsgs && rc == 0; k++) {
        if (o->rate > 0) {
            double due = t0 + (double)(k * p.per_msg) / o->rate;
            double ahead = due - now_s();
            if (ahead > 0)
                nats_Sleep((int64_t)(ahead * 1000));
        }
        /* A full window stalls the call; NATS_TIMEOUT then means "try again". */
        while ((s = publish_one(ss.js, o, &p, k, &body, &cap)) == NATS_TIMEOUT &&
               now_s() < deadline)
            ;
        if (s != NATS_OK) {
            rc = fail_rc(1, s, 0, "publishing message %lld to %s", k, o->subject);
        }
        published++;
    }
    for (int round = 0; rc == 0; round++) {
        jsPubOptions po;
        jsPubOptions_Init(&po);
        double left = deadline - now_s();
        po.MaxWait = left > 0.1 ? (int64_t)(left * 1000) : 100;
        s = js_PublishAsyncComplete(ss.js, &po);
        if (s == NATS_TIMEOUT) {
            /* still unacked at the deadline: count them as failed */
            natsMsgList pending = {0};
            if (js_PublishAsyncGetPendingList(&pending, ss.js) == NATS_OK) {
                pthread_mutex_lock(&st.mu);
                for (int i = 0; i < pending.Count; i++) {
                    long long k = msg_index(pending.Msgs[i]);
                    if (k >= 0 && k < p.nmsgs && !st.acked[k])
                        add_failed(&st, k);
                }
                pthread_mutex_unlock(&st.mu);
                natsMsgList_Destroy(&pending);
            }
        }
        pthread_mutex_lock(&st.mu);
        long long nf = st.nfailed;
        long long *again = st.failed;
        st.failed = NULL;
        st.nfailed = st.capfailed = 0;
        pthread_mutex_unlock(&st.mu);
        long long n_again = 0; /* the failed ones still not acknowledged: sent again */
        for (long long i = 0; i < nf; i++)
            if (!st.acked[again[i]])
                again[n_again++] = again[i];
        if (n_again == 0 && s == NATS_OK) {
            free(again);
            break;
        }
        if (round >= o->retries || now_s() >= deadline) {
            fprintf(stderr,
                    "natsctl: publishing to %s: %lld of %lld messages not acked after %d "
                    "retries (last error: %s)\n",
                    o->subject, p.nmsgs - st.acked_msgs, p.nmsgs, round,
                    st.last_error[0] != '\0' ? st.last_error : natsStatus_GetText(s));
            free(again);
            rc = 1;
            break;
        }
        nats_Sleep(500);
        for (long long i = 0; i < n_again && rc == 0; i++) {
            while ((s = publish_one(ss.js, o, &p, again[i], &body, &cap)) == NATS_TIMEOUT &&
                   now_s() < deadline)
                ;
            if (s != NATS_OK) {
                nats_fail("publishing again", s, 0);
                rc = 1;
            }
            retried++;
        }
        free(again);
    }
    double secs = now_s() - t0;
    pthread_mutex_lock(&st.mu);
    if (rc == 0 && st.acked_msgs != p.nmsgs) {
        fprintf(stderr, "natsctl: publishing to %s: %lld of %lld messages acked\n", o->subject,
                st.acked_msgs, p.nmsgs);
        rc = 1;
    }
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "subject", o->subject);
    cJSON_AddNumberToObject(out, "records", (double)st.acked_records);
    cJSON_AddNumberToObject(out, "messages", (double)st.acked_msgs);
    cJSON_AddNumberToObject(out, "records_wanted", (double)p.total);
    cJSON_AddNumberToObject(out, "messages_wanted", (double)p.nmsgs);
    cJSON_AddNumberToObject(out, "retried", (double)retried);
    cJSON_AddNumberToObject(out, "duplicates", (double)st.duplicates);
    cJSON_AddNumberToObject(out, "errors", (double)st.errors);
    cJSON_AddNumberToObject(out, "seconds", secs);
    cJSON_AddNumberToObject(out, "records_per_s", secs > 0 ? (double)st.acked_records / secs : 0);
    pthread_mutex_unlock(&st.mu);
    print_json(out);
    (void)published;

    session_close(&ss);
    free(st.failed);
    free(st.acked);
    free(body);
    free(p.rec);
    free(buf);
    pthread_mutex_destroy(&st.mu);
    return rc;
}

/* How many records a message body holds: lines (csv: less the header) or
 * the elements of a JSON array. */
static long long count_records(const char *d, int len, int format)
{
    if (format == 2) {
        cJSON *a = cJSON_ParseWithLength(d, (size_t)len);
        long long n = cJSON_IsArray(a) ? cJSON_GetArraySize(a) : a != NULL ? 1 : 0;
        cJSON_Delete(a);
        return n;
    }
    long long n = 0;
    const char *p = d, *end = d + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl != NULL ? nl : end;
        if (e > p && !(e - p == 1 && *p == '\r'))
            n++;
        p = e + 1;
    }
    return format == 1 && n > 0 ? n - 1 : n;
}

/* bench-consume: pull-consume a durable with explicit acks until --count
 * records arrived; the raw rate driftd's nats input is measured against. */
static int cmd_bench_consume(const struct opts *o)
{
    struct session ss;
    if (session_open(o, 5000, false, &ss) != 0)
        return 1;
    int format = strcmp(o->format, "csv") == 0 ? 1 : strcmp(o->format, "json") == 0 ? 2 : 0;
    double t0 = now_s(), deadline = t0 + o->timeout;

    /* The durable is made here, not by the subscribe call, so that it
     * outlives this process (consumer-info reads it afterwards). */
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = o->durable;
    cc.AckPolicy = o->ack ? js_AckExplicit : js_AckNone;
    cc.DeliverPolicy = js_DeliverAll;
    cc.FilterSubject = o->subject;
    cc.MaxAckPending = o->max_ack_pending;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s;
    RETRY_TRANSIENT(s, jerr, deadline, js_AddConsumer(&ci, ss.js, o->stream, &cc, NULL, &jerr));
    jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK) {
        return fail_close(&ss, s, jerr, "adding durable %s on stream %s (subject %s)", o->durable,
                          o->stream, o->subject);
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = o->stream;
    so.Consumer = o->durable;
    natsSubscription *sub = NULL;
    /* binding reads the consumer's info: its leader may be moving */
    RETRY_TRANSIENT(s, jerr, deadline,
                    js_PullSubscribe(&sub, ss.js, o->subject, o->durable, NULL, &so, &jerr));
    if (s != NATS_OK) {
        return fail_close(&ss, s, jerr, "pull subscription to durable %s on stream %s", o->durable,
                          o->stream);
    }

    /* The clock starts once the consumer exists and is bound: its creation
     * (a Raft group's election at R3) is no part of consuming. */
    double setup = now_s() - t0;
    t0 = now_s();
    deadline = t0 + o->timeout;

    /* stream sequences seen, to tell records lost from records delivered twice */
    size_t bits_cap = 1 << 16;
    unsigned char *seen = calloc(bits_cap / 8, 1);
    long long records = 0, msgs = 0, redelivered = 0, distinct = 0, ack_errors = 0;
    long long fetch_errors = 0;
    uint64_t first_seq = 0, last_seq = 0;
    double t_first = -1;
    int rc = 0;
    while (records < o->count) {
        if (now_s() >= deadline) {
            fprintf(stderr,
                    "natsctl: bench-consume: %lld of %lld records after %.0f s (durable %s)\n",
                    records, o->count, o->timeout, o->durable);
            rc = 1;
            break;
        }
        natsMsgList list = {0};
        jerr = 0;
        s = natsSubscription_Fetch(&list, sub, o->batch, 1000, &jerr);
        if (s == NATS_TIMEOUT)
            continue;
        if (s != NATS_OK) {
            /* a node going away: the client reconnects, the consumer moves */
            if (fetch_errors++ == 0)
                nats_fail("fetch (trying again)", s, jerr);
            nats_Sleep(100);
            continue;
        }
        if (t_first < 0)
            t_first = now_s();
        for (int i = 0; i < list.Count; i++) {
            natsMsg *m = list.Msgs[i];
            records += count_records(natsMsg_GetData(m), natsMsg_GetDataLength(m), format);
            msgs++;
            jsMsgMetaData *md = NULL;
            if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
                uint64_t seq = md->Sequence.Stream;
                if (md->NumDelivered > 1)
                    redelivered++;
                if (first_seq == 0 || seq < first_seq)
                    first_seq = seq;
                if (seq > last_seq)
                    last_seq = seq;
                while (seq >= bits_cap) {
                    unsigned char *g = realloc(seen, bits_cap / 4);
                    if (g == NULL)
                        abort();
                    memset(g + bits_cap / 8, 0, bits_cap / 8);
                    seen = g;
                    bits_cap *= 2;
                }
                if (!(seen[seq / 8] & (1u << (seq % 8)))) {
                    seen[seq / 8] |= (unsigned char)(1u << (seq % 8));
                    distinct++;
                }
                jsMsgMetaData_Destroy(md);
            }
            if (o->ack && natsMsg_Ack(m, NULL) != NATS_OK)
                ack_errors++;
        }
        natsMsgList_Destroy(&list);
    }
    /* the acks are on the wire before the clock stops */
    if (natsConnection_FlushTimeout(ss.nc, 5000) != NATS_OK)
        ack_errors++;
    double secs = now_s() - t0;
    double busy = t_first >= 0 ? now_s() - t_first : 0;
    cJSON *out = cJSON_CreateObject();
    cJSON_AddStringToObject(out, "durable", o->durable);
    cJSON_AddNumberToObject(out, "records", (double)records);
    cJSON_AddNumberToObject(out, "messages", (double)msgs);
    cJSON_AddNumberToObject(out, "distinct_seqs", (double)distinct);
    cJSON_AddNumberToObject(out, "first_seq", (double)first_seq);
    cJSON_AddNumberToObject(out, "last_seq", (double)last_seq);
    cJSON_AddNumberToObject(out, "redelivered", (double)redelivered);
    cJSON_AddNumberToObject(out, "ack_errors", (double)ack_errors);
    cJSON_AddNumberToObject(out, "fetch_errors", (double)fetch_errors);
    cJSON_AddNumberToObject(out, "setup_seconds", setup);
    cJSON_AddNumberToObject(out, "seconds", secs);
    cJSON_AddNumberToObject(out, "seconds_from_first", busy);
    cJSON_AddNumberToObject(out, "records_per_s", secs > 0 ? (double)records / secs : 0);
    cJSON_AddNumberToObject(out, "msgs_per_s", secs > 0 ? (double)msgs / secs : 0);
    print_json(out);
    if (ack_errors > 0) {
        fprintf(stderr, "natsctl: bench-consume: %lld acks failed\n", ack_errors);
        rc = 1;
    }
    free(seen);
    natsSubscription_Destroy(sub);
    session_close(&ss);
    return rc;
}

/* Parse a number option; exit 2 naming the option when it is not one. */
static double num_arg(const char *name, const char *v, double min)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || d < min) {
        fprintf(stderr, "natsctl: --%s: '%s' is not a number >= %g\n", name, v, min);
        exit(2);
    }
    return d;
}

/* Exit 2 naming a missing option of the command. */
static void need(const struct opts *o, const char *v, const char *name)
{
    if (v == NULL) {
        fprintf(stderr, "natsctl %s: --%s is required (natsctl --help)\n", o->command, name);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    static char prefix[96];
    struct opts o = {.timeout = -1,
                     .replicas = 1,
                     .storage = "file",
                     .history = 1,
                     .per_msg = 1,
                     .format = "ndjson",
                     .batch = 256,
                     .max_ack_pending = 100000,
                     .last = -1,
                     .window = 4096,
                     .retries = 10,
                     .interval_ms = 20};
    enum {
        O_SERVERS = 256,
        O_TIMEOUT,
        O_STREAM,
        O_SUBJECTS,
        O_REPLICAS,
        O_STORAGE,
        O_BUCKET,
        O_TTL,
        O_HISTORY,
        O_SUBJECT,
        O_FILE,
        O_PER_MSG,
        O_FORMAT,
        O_RATE,
        O_COUNT,
        O_DURABLE,
        O_ACK,
        O_BATCH,
        O_MAP,
        O_KEY,
        O_VALUE,
        O_LAST,
        O_RAW,
        O_WINDOW,
        O_RETRIES,
        O_PREFIX,
        O_TOKEN,
        O_CREDS,
        O_INTERVAL,
        O_HELP
    };
    static const struct option longopts[] = {{"servers", required_argument, NULL, O_SERVERS},
                                             {"timeout", required_argument, NULL, O_TIMEOUT},
                                             {"stream", required_argument, NULL, O_STREAM},
                                             {"subjects", required_argument, NULL, O_SUBJECTS},
                                             {"replicas", required_argument, NULL, O_REPLICAS},
                                             {"storage", required_argument, NULL, O_STORAGE},
                                             {"bucket", required_argument, NULL, O_BUCKET},
                                             {"ttl-seconds", required_argument, NULL, O_TTL},
                                             {"history", required_argument, NULL, O_HISTORY},
                                             {"subject", required_argument, NULL, O_SUBJECT},
                                             {"file", required_argument, NULL, O_FILE},
                                             {"per-msg", required_argument, NULL, O_PER_MSG},
                                             {"format", required_argument, NULL, O_FORMAT},
                                             {"rate", required_argument, NULL, O_RATE},
                                             {"count", required_argument, NULL, O_COUNT},
                                             {"durable", required_argument, NULL, O_DURABLE},
                                             {"ack", no_argument, NULL, O_ACK},
                                             {"batch", required_argument, NULL, O_BATCH},
                                             {"max-ack-pending", required_argument, NULL, O_MAP},
                                             {"key", required_argument, NULL, O_KEY},
                                             {"value", required_argument, NULL, O_VALUE},
                                             {"last", required_argument, NULL, O_LAST},
                                             {"raw", no_argument, NULL, O_RAW},
                                             {"window", required_argument, NULL, O_WINDOW},
                                             {"retries", required_argument, NULL, O_RETRIES},
                                             {"msg-id-prefix", required_argument, NULL, O_PREFIX},
                                             {"token-file", required_argument, NULL, O_TOKEN},
                                             {"creds", required_argument, NULL, O_CREDS},
                                             {"interval-ms", required_argument, NULL, O_INTERVAL},
                                             {"help", no_argument, NULL, O_HELP},
                                             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_SERVERS:
            o.servers = optarg;
            break;
        case O_TIMEOUT:
            o.timeout = num_arg("timeout", optarg, 0);
            break;
        case O_STREAM:
            o.stream = optarg;
            break;
        case O_SUBJECTS:
            o.subjects = optarg;
            break;
        case O_REPLICAS:
            o.replicas = (int)num_arg("replicas", optarg, 1);
            break;
        case O_STORAGE:
            o.storage = optarg;
            break;
        case O_BUCKET:
            o.bucket = optarg;
            break;
        case O_TTL:
            o.ttl_seconds = num_arg("ttl-seconds", optarg, 0);
            break;
        case O_HISTORY:
            o.history = (int)num_arg("history", optarg, 1);
            break;
        case O_SUBJECT:
            o.subject = optarg;
            break;
        case O_FILE:
            o.file = optarg;
            break;
        case O_PER_MSG:
            o.per_msg = (int)num_arg("per-msg", optarg, 1);
            break;
        case O_FORMAT:
            o.format = optarg;
            break;
        case O_RATE:
            o.rate = num_arg("rate", optarg, 0);
            break;
        case O_COUNT:
            o.count = (long long)num_arg("count", optarg, 1);
            break;
        case O_DURABLE:
            o.durable = optarg;
            break;
        case O_ACK:
            o.ack = true;
            break;
        case O_BATCH:
            o.batch = (int)num_arg("batch", optarg, 1);
            break;
        case O_MAP:
            o.max_ack_pending = (long long)num_arg("max-ack-pending", optarg, 1);
            break;
        case O_KEY:
            o.key = optarg;
            break;
        case O_VALUE:
            o.value = optarg;
            break;
        case O_LAST:
            o.last = (long long)num_arg("last", optarg, 0);
            break;
        case O_RAW:
            o.raw = true;
            break;
        case O_WINDOW:
            o.window = (int)num_arg("window", optarg, 1);
            break;
        case O_RETRIES:
            o.retries = (int)num_arg("retries", optarg, 0);
            break;
        case O_PREFIX:
            o.msg_id_prefix = optarg;
            break;
        case O_TOKEN:
            o.token_file = optarg;
            break;
        case O_CREDS:
            o.creds = optarg;
            break;
        case O_INTERVAL:
            o.interval_ms = (int)num_arg("interval-ms", optarg, 1);
            break;
        case O_HELP:
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    o.command = argv[optind];
    need(&o, o.servers, "servers");
    if (strcmp(o.format, "ndjson") != 0 && strcmp(o.format, "csv") != 0 &&
        strcmp(o.format, "json") != 0) {
        fprintf(stderr, "natsctl: --format: '%s' is not ndjson, csv or json\n", o.format);
        return 2;
    }
    if (strcmp(o.storage, "file") != 0 && strcmp(o.storage, "memory") != 0) {
        fprintf(stderr, "natsctl: --storage: '%s' is not file or memory\n", o.storage);
        return 2;
    }
    if (o.history > 64) {
        fprintf(stderr, "natsctl: --history: at most 64 (JetStream KV's limit)\n");
        return 2;
    }
    if (o.timeout < 0)
        o.timeout = strcmp(o.command, "bench-consume") == 0 ? 120 : 10;
    if (o.msg_id_prefix == NULL) {
        /* distinct per run: a second run of the same file is new messages */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(prefix, sizeof(prefix), "natsctl.%ld.%lld.%09ld", (long)getpid(),
                 (long long)ts.tv_sec, ts.tv_nsec);
        o.msg_id_prefix = prefix;
    }

    int rc;
    const char *cmd = o.command;
    if (strcmp(cmd, "wait-js") == 0) {
        rc = cmd_wait_js(&o);
    } else if (strcmp(cmd, "stream-add") == 0) {
        need(&o, o.stream, "stream");
        need(&o, o.subjects, "subjects");
        rc = cmd_stream_add(&o);
    } else if (strcmp(cmd, "stream-info") == 0) {
        need(&o, o.stream, "stream");
        rc = cmd_stream_info(&o);
    } else if (strcmp(cmd, "kv-add") == 0) {
        need(&o, o.bucket, "bucket");
        rc = cmd_kv_add(&o);
    } else if (strcmp(cmd, "pub") == 0) {
        need(&o, o.subject, "subject");
        need(&o, o.file, "file");
        rc = cmd_pub(&o);
    } else if (strcmp(cmd, "consumer-info") == 0) {
        need(&o, o.stream, "stream");
        need(&o, o.durable, "durable");
        rc = cmd_consumer_info(&o);
    } else if (strcmp(cmd, "consumer-wait") == 0) {
        need(&o, o.stream, "stream");
        need(&o, o.durable, "durable");
        rc = cmd_consumer_wait(&o);
    } else if (strcmp(cmd, "kv-history") == 0) {
        need(&o, o.bucket, "bucket");
        need(&o, o.key, "key");
        rc = cmd_kv_history(&o);
    } else if (strcmp(cmd, "kv-get") == 0 || strcmp(cmd, "kv-put") == 0 ||
               strcmp(cmd, "kv-del") == 0) {
        need(&o, o.bucket, "bucket");
        need(&o, o.key, "key");
        if (cmd[3] == 'p')
            need(&o, o.value, "value");
        rc = cmd[3] == 'g' ? cmd_kv_get(&o) : cmd[3] == 'p' ? cmd_kv_put(&o) : cmd_kv_del(&o);
    } else if (strcmp(cmd, "bench-consume") == 0) {
        need(&o, o.stream, "stream");
        need(&o, o.subject, "subject");
        need(&o, o.durable, "durable");
        if (o.count <= 0) {
            fprintf(stderr, "natsctl bench-consume: --count is required (natsctl --help)\n");
            return 2;
        }
        rc = cmd_bench_consume(&o);
    } else {
        fprintf(stderr, "natsctl: unknown command '%s' (natsctl --help)\n", cmd);
        return 2;
    }
    /* lets the library's threads end, so leak checkers see a clean exit */
    nats_CloseAndWait(2000);
    return rc;
}
