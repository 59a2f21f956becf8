/*
 * Each HTTP sink's request as a receiver gets it, from a loopback server
 * (127.0.0.1, port 0) on the test's own event loop: the webhook's JSON,
 * Slack's text and blocks, Alertmanager's alerts (DataDrift and one
 * FeatureDrift per drifted feature while firing, the same label sets with
 * endsAt when resolved, RetrainFailed) posted to /api/v2/alerts; each body
 * parsed with cJSON and compared field by field, with the configured
 * headers. The clock is injected.
 */
#include "alerts/alert.h"
#include "alerts/outbox.h"
#include "alerts/sinks.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double fake_time = 1800000000.0; /* 2027-01-15T08:00:00Z */

/* The injected clock. */
static double fake_now(void)
{
    return fake_time;
}

/* Requests the server received. */
struct req {
    char path[128], content_type[64], token[64];
    cJSON *body;
};
static struct req reqs[16];
static size_t nreqs;

/* Keep the request and answer 200. */
static void serve(struct evhttp_request *r, void *arg)
{
    (void)arg;
    if (nreqs < 16) {
        struct req *q = &reqs[nreqs++];
        snprintf(q->path, sizeof(q->path), "%s", evhttp_request_get_uri(r));
        struct evkeyvalq *h = evhttp_request_get_input_headers(r);
        const char *ct = evhttp_find_header(h, "Content-Type");
        const char *tk = evhttp_find_header(h, "X-Token");
        snprintf(q->content_type, sizeof(q->content_type), "%s", ct ? ct : "");
        snprintf(q->token, sizeof(q->token), "%s", tk ? tk : "");
        struct evbuffer *in = evhttp_request_get_input_buffer(r);
        size_t n = evbuffer_get_length(in);
        char *text = malloc(n + 1);
        if (text != NULL) {
            evbuffer_copyout(in, text, n);
            q->body = cJSON_ParseWithLength(text, n);
            free(text);
        }
    }
    evhttp_send_reply(r, 200, "OK", NULL);
}

/* Run the loop until n requests arrived in all, or about two seconds pass. */
static void run_until(struct event_base *base, size_t n)
{
    for (int i = 0; i < 200 && nreqs < n; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

/* Forget the requests kept. */
static void clear_reqs(void)
{
    for (size_t i = 0; i < nreqs; i++)
        cJSON_Delete(reqs[i].body);
    nreqs = 0;
}

static struct alert_feature feats[3] = {
    {"age", "ks", 0.41, 0.0012, 0.05, true},
    {"income", "psi", 0.02, NAN, 0.1, false},
    {"city", "chisquare", 31.5, 0.0001, 0.05, true},
};

/* The decision of window id ending at end; drifted: age and city. */
static struct alert_decision decision(uint64_t id, bool drift, double end)
{
    struct alert_decision d = {
        .drift = drift,
        .share = drift ? 2.0 / 3 : 0,
        .drift_share = 0.5,
        .drifted = drift ? 2 : 0,
        .total = 3,
        .features = feats,
        .nfeatures = 3,
        .window = {id, 1000, 500, end - 600, end},
    };
    feats[0].drift = feats[2].drift = drift;
    return d;
}

/* Helpers for the comparisons. */
static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static bool str_is(const cJSON *o, const char *k, const char *want)
{
    const cJSON *v = get(o, k);
    bool ok = cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
    if (!ok)
        fprintf(stderr, "  %s: got %s, want \"%s\"\n", k,
                cJSON_IsString(v) ? v->valuestring : "(not a string)", want);
    return ok;
}

static bool num_is(const cJSON *o, const char *k, double want)
{
    const cJSON *v = get(o, k);
    bool ok = cJSON_IsNumber(v) && fabs(v->valuedouble - want) <= 1e-12 * fabs(want);
    if (!ok)
        fprintf(stderr, "  %s: got %g, want %g\n", k, cJSON_IsNumber(v) ? v->valuedouble : NAN,
                want);
    return ok;
}

static bool matches(const char *s, const char *re)
{
    regex_t r;
    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

#define UUID_RE "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

/* A sink of type on the server, added to a new alerts. */
struct fixture {
    struct alerts *alerts;
    struct http_sink *sink;
};

static struct fixture make(enum http_sink_type type, const char *name, const char *url,
                           struct outbox *ob, struct event_base *base)
{
    static const struct http_header hs[] = {{"X-Token", "s3cret"}};
    struct http_sink_conf conf = {
        .type = type,
        .name = name,
        .url = url,
        .headers = hs,
        .n_headers = 1,
        .timeout = 5,
        .resend_seconds = 3600,
        .max_age = 3600,
        .generator_url = "http://127.0.0.1:8080/v1/status",
    };
    struct alerts_conf ac = {"iris", 1, 14400};
    struct fixture f = {alerts_new(&ac), http_sink_new(&conf, ob, base, fake_now)};
    CHECK(f.alerts != NULL && f.sink != NULL);
    if (f.alerts != NULL && f.sink != NULL)
        alerts_add_sink(f.alerts, &http_sink_ops, f.sink);
    return f;
}

static void test_webhook(struct event_base *base, struct outbox *ob, const char *url)
{
    struct fixture f = make(HTTP_SINK_WEBHOOK, "webhook-0", url, ob, base);
    if (f.sink == NULL)
        return;
    clear_reqs();
    struct alert_decision d = decision(42, true, fake_time);
    d.correlation_id = "driftd-42-a1b2c3";
    alerts_window(f.alerts, &d, fake_time + 1);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu webhook requests", nreqs);
    if (nreqs != 1)
        goto out;
    const struct req *q = &reqs[0];
    CHECK(strcmp(q->path, "/hook") == 0 && strcmp(q->content_type, "application/json") == 0);
    CHECK(strcmp(q->token, "s3cret") == 0);
    const cJSON *b = q->body;
    CHECK(cJSON_IsObject(b));
    CHECK(str_is(b, "version", "1") && str_is(b, "source", "driftd") && str_is(b, "model", "iris"));
    CHECK(cJSON_IsString(get(b, "id")) && matches(get(b, "id")->valuestring, UUID_RE));
    CHECK(str_is(b, "status", "firing") && str_is(b, "severity", "warning"));
    CHECK(cJSON_IsString(get(b, "fingerprint")) &&
          matches(get(b, "fingerprint")->valuestring, "^[0-9a-f]{16}$"));
    CHECK(str_is(b, "starts_at", "2027-01-15T08:00:00Z") && cJSON_IsNull(get(b, "ends_at")));
    CHECK(str_is(b, "summary", "Data drift on iris: 2 of 3 features drifted (age, city)"));
    const cJSON *w = get(b, "window");
    CHECK(num_is(w, "id", 42) && num_is(w, "records", 1000) && num_is(w, "sampled", 500));
    CHECK(str_is(w, "start", "2027-01-15T07:50:00Z") && str_is(w, "end", "2027-01-15T08:00:00Z"));
    const cJSON *ds = get(b, "dataset");
    CHECK(cJSON_IsTrue(get(ds, "drift")) && num_is(ds, "share", 2.0 / 3));
    CHECK(num_is(ds, "drifted_features", 2) && num_is(ds, "total_features", 3));
    const cJSON *fs = get(b, "features");
    CHECKF(cJSON_GetArraySize(fs) == 2, "%d features, want the 2 drifted", cJSON_GetArraySize(fs));
    const cJSON *f0 = cJSON_GetArrayItem(fs, 0), *f1 = cJSON_GetArrayItem(fs, 1);
    CHECK(str_is(f0, "name", "age") && str_is(f0, "test", "ks") && num_is(f0, "statistic", 0.41));
    CHECK(num_is(f0, "p_value", 0.0012) && num_is(f0, "threshold", 0.05) &&
          cJSON_IsTrue(get(f0, "drift")));
    CHECK(str_is(f1, "name", "city") && str_is(f1, "test", "chisquare") &&
          num_is(f1, "statistic", 31.5));
    const cJSON *rt = get(b, "retrain");
    CHECK(cJSON_IsTrue(get(rt, "dispatched")) && str_is(rt, "correlation_id", "driftd-42-a1b2c3"));

    /* resolved: status, ends_at, and no dispatch */
    clear_reqs();
    d = decision(43, false, fake_time + 600);
    alerts_window(f.alerts, &d, fake_time + 601);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu webhook requests for resolved", nreqs);
    if (nreqs == 1) {
        b = reqs[0].body;
        CHECK(str_is(b, "status", "resolved") && str_is(b, "ends_at", "2027-01-15T08:10:01Z"));
        CHECK(str_is(b, "starts_at", "2027-01-15T08:00:00Z"));
        CHECK(str_is(b, "summary", "Data drift on iris resolved: 0 of 3 features drifted"));
        CHECK(cJSON_GetArraySize(get(b, "features")) == 0);
        CHECK(cJSON_IsFalse(get(get(b, "retrain"), "dispatched")) &&
              cJSON_IsNull(get(get(b, "retrain"), "correlation_id")));
    }

    /* a failed retrain */
    clear_reqs();
    alerts_retrain(f.alerts, ALERT_RETRAIN_FAILED, "driftd-44-000001", "Bad credentials", NULL, 401,
                   fake_time + 700);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu webhook requests for retrain_failed", nreqs);
    if (nreqs == 1) {
        b = reqs[0].body;
        CHECK(str_is(b, "status", "retrain_failed") && str_is(b, "severity", "critical"));
        CHECK(get(b, "window") == NULL && get(b, "features") == NULL);
        rt = get(b, "retrain");
        CHECK(cJSON_IsFalse(get(rt, "dispatched")) &&
              str_is(rt, "correlation_id", "driftd-44-000001"));
        CHECK(str_is(rt, "message", "Bad credentials") && cJSON_IsNull(get(rt, "run_url")) &&
              num_is(rt, "http_status", 401));
    }
out:
    alerts_free(f.alerts);
    http_sink_retire(f.sink);
    clear_reqs();
    /* the sink stays for the outbox's sake; freed at the end */
    http_sink_free(f.sink);
}

static void test_slack(struct event_base *base, struct outbox *ob, const char *url)
{
    struct fixture f = make(HTTP_SINK_SLACK, "slack-0", url, ob, base);
    if (f.sink == NULL)
        return;
    clear_reqs();
    struct alert_decision d = decision(7, true, fake_time);
    alerts_window(f.alerts, &d, fake_time);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu slack requests", nreqs);
    if (nreqs == 1) {
        const cJSON *b = reqs[0].body;
        CHECK(strcmp(reqs[0].path, "/hook") == 0 && strcmp(reqs[0].token, "s3cret") == 0);
        const char *text = ":warning: Data drift on iris: 2 of 3 features drifted (age, city)";
        CHECK(str_is(b, "text", text));
        const cJSON *bl = get(b, "blocks");
        CHECKF(cJSON_GetArraySize(bl) == 3, "%d blocks", cJSON_GetArraySize(bl));
        const cJSON *b0 = cJSON_GetArrayItem(bl, 0), *b1 = cJSON_GetArrayItem(bl, 1),
                    *b2 = cJSON_GetArrayItem(bl, 2);
        CHECK(str_is(b0, "type", "section") && cJSON_IsString(get(b0, "block_id")) &&
              matches(get(b0, "block_id")->valuestring, UUID_RE));
        CHECK(str_is(get(b0, "text"), "type", "mrkdwn") && str_is(get(b0, "text"), "text", text));
        const cJSON *t1 = get(get(b1, "text"), "text");
        CHECK(cJSON_IsString(t1) && strncmp(t1->valuestring, "```feature ", 11) == 0);
        CHECK(cJSON_IsString(t1) && strstr(t1->valuestring, "\nage ") != NULL &&
              strstr(t1->valuestring, "\ncity ") != NULL &&
              strstr(t1->valuestring, "income") == NULL);
        CHECK(str_is(b2, "type", "context"));
        CHECK(str_is(cJSON_GetArrayItem(get(b2, "elements"), 0), "text",
                     "window 7: 1000 records, drift share 0.67 (threshold 0.50)"));
    }
    clear_reqs();
    d = decision(8, false, fake_time + 600);
    alerts_window(f.alerts, &d, fake_time + 600);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu slack requests for resolved", nreqs);
    if (nreqs == 1) {
        const cJSON *b = reqs[0].body;
        CHECK(str_is(b, "text",
                     ":white_check_mark: Data drift on iris resolved: 0 of 3 features drifted"));
        CHECK(cJSON_GetArraySize(get(b, "blocks")) == 1);
    }
    alerts_free(f.alerts);
    clear_reqs();
    http_sink_free(f.sink);
}

/* Find the alert of alertname (and feature, or none) in an Alertmanager body. */
static const cJSON *am_find(const cJSON *arr, const char *alertname, const char *feature)
{
    const cJSON *a;
    cJSON_ArrayForEach(a, arr)
    {
        const cJSON *l = get(a, "labels");
        const cJSON *n = get(l, "alertname"), *f = get(l, "feature");
        if (!cJSON_IsString(n) || strcmp(n->valuestring, alertname) != 0)
            continue;
        if (feature == NULL ? f == NULL : cJSON_IsString(f) && strcmp(f->valuestring, feature) == 0)
            return a;
    }
    return NULL;
}

static void test_alertmanager(struct event_base *base, struct outbox *ob, const char *url)
{
    char base_url[128];
    snprintf(base_url, sizeof(base_url), "%.*s/", (int)(strlen(url) - 5), url); /* no /hook */
    struct fixture f = make(HTTP_SINK_ALERTMANAGER, "alertmanager-0", base_url, ob, base);
    if (f.sink == NULL)
        return;
    clear_reqs();
    struct alert_decision d = decision(9, true, fake_time);
    alerts_window(f.alerts, &d, fake_time);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu alertmanager requests", nreqs);
    if (nreqs == 1) {
        const cJSON *b = reqs[0].body;
        CHECKF(strcmp(reqs[0].path, "/api/v2/alerts") == 0, "path %s", reqs[0].path);
        CHECK(strcmp(reqs[0].token, "s3cret") == 0);
        CHECKF(cJSON_GetArraySize(b) == 3, "%d alerts, want DataDrift + 2 FeatureDrift",
               cJSON_GetArraySize(b));
        const cJSON *dd = am_find(b, "DataDrift", NULL);
        const cJSON *l = get(dd, "labels");
        CHECK(str_is(l, "model", "iris") && str_is(l, "severity", "warning") &&
              str_is(l, "service", "driftd"));
        CHECK(str_is(get(dd, "annotations"), "summary",
                     "Data drift on iris: 2 of 3 features drifted (age, city)"));
        CHECK(str_is(get(dd, "annotations"), "description",
                     "2 features of iris drifted from the training baseline"));
        CHECK(str_is(dd, "startsAt", "2027-01-15T08:00:00Z") && get(dd, "endsAt") == NULL);
        CHECK(str_is(dd, "generatorURL", "http://127.0.0.1:8080/v1/status"));
        const cJSON *fa = am_find(b, "FeatureDrift", "age");
        CHECK(fa != NULL && am_find(b, "FeatureDrift", "city") != NULL &&
              am_find(b, "FeatureDrift", "income") == NULL);
        CHECK(str_is(get(fa, "annotations"), "summary", "Feature age of iris drifted"));
        CHECK(str_is(get(fa, "labels"), "model", "iris") && get(fa, "endsAt") == NULL);
    }

    /* city stops drifting while age goes on: city is posted with endsAt */
    clear_reqs();
    d = decision(10, true, fake_time + 600);
    feats[2].drift = false;
    d.drifted = 1;
    fake_time += 600;
    alerts_tick(f.alerts, fake_time); /* nothing: repeat_seconds not reached */
    struct alerts_conf ac = {"iris", 1, 1};
    alerts_configure(f.alerts, &ac); /* every window re-posts now */
    alerts_window(f.alerts, &d, fake_time);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu alertmanager requests for a changed set", nreqs);
    if (nreqs == 1) {
        const cJSON *b = reqs[0].body;
        const cJSON *city = am_find(b, "FeatureDrift", "city");
        CHECK(str_is(city, "endsAt", "2027-01-15T08:10:00Z"));
        CHECK(get(am_find(b, "FeatureDrift", "age"), "endsAt") == NULL);
    }

    /* resolved: the same label sets with endsAt */
    clear_reqs();
    d = decision(11, false, fake_time + 600);
    fake_time += 600;
    alerts_window(f.alerts, &d, fake_time);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu alertmanager requests for resolved", nreqs);
    if (nreqs == 1) {
        const cJSON *b = reqs[0].body;
        CHECKF(cJSON_GetArraySize(b) == 2, "%d alerts resolved, want DataDrift + age",
               cJSON_GetArraySize(b));
        CHECK(str_is(am_find(b, "DataDrift", NULL), "endsAt", "2027-01-15T08:20:00Z"));
        CHECK(str_is(am_find(b, "FeatureDrift", "age"), "endsAt", "2027-01-15T08:20:00Z"));
    }

    /* a failed retrain fires RetrainFailed for an hour; a finished one posts nothing */
    clear_reqs();
    alerts_retrain(f.alerts, ALERT_RETRAIN_FINISHED, "driftd-11-000002", "success", NULL, 200,
                   fake_time);
    alerts_retrain(f.alerts, ALERT_RETRAIN_FAILED, "driftd-11-000003", "Bad credentials", NULL, 401,
                   fake_time);
    run_until(base, 1);
    CHECKF(nreqs == 1, "%zu alertmanager requests for retrain news", nreqs);
    if (nreqs == 1) {
        const cJSON *rf = am_find(reqs[0].body, "RetrainFailed", NULL);
        CHECK(str_is(get(rf, "labels"), "severity", "critical"));
        CHECK(str_is(get(rf, "annotations"), "description", "Bad credentials"));
        CHECK(str_is(rf, "startsAt", "2027-01-15T08:20:00Z") &&
              str_is(rf, "endsAt", "2027-01-15T09:20:00Z"));
    }
    alerts_free(f.alerts);
    clear_reqs();
    http_sink_free(f.sink);
}

int main(void)
{
    char root[] = "/tmp/driftd-sinks.XXXXXX";
    if (mkdtemp(root) == NULL)
        return 1;
    struct event_base *base = event_base_new();
    struct evhttp *srv = evhttp_new(base);
    struct evhttp_bound_socket *sock = evhttp_bind_socket_with_handle(srv, "127.0.0.1", 0);
    CHECK(sock != NULL);
    if (sock == NULL)
        return tl_done();
    evhttp_set_gencb(srv, serve, NULL);
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sa, &sl);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(sa.sin_port));
    struct http_client *http = http_client_new(base, "driftd-test");
    struct outbox *ob = outbox_new(base, http, root, fake_now);
    CHECK(http != NULL && ob != NULL);
    if (ob != NULL) {
        test_webhook(base, ob, url);
        test_slack(base, ob, url);
        test_alertmanager(base, ob, url);
    }
    outbox_free(ob);
    http_client_free(http);
    evhttp_free(srv);
    event_base_free(base);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", root);
    return tl_done();
}
