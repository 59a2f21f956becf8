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

#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* o's member k, for the comparisons. */
static const cJSON *get(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

/* Is o's member k the string want? Says what it is instead when not. */
static bool str_is(const cJSON *o, const char *k, const char *want)
{
    const cJSON *v = get(o, k);
    bool ok = cJSON_IsString(v) && strcmp(v->valuestring, want) == 0;
    if (!ok)
        fprintf(stderr, "  %s: got %s, want \"%s\"\n", k,
                cJSON_IsString(v) ? v->valuestring : "(not a string)", want);
    return ok;
}

/* Is o's member k the number want (to 1e-12 of it)? Says what it is instead when not. */
static bool num_is(const cJSON *o, const char *k, double want)
{
    const cJSON *v = get(o, k);
    bool ok = cJSON_IsNumber(v) && fabs(v->valuedouble - want) <= 1e-12 * fabs(want);
    if (!ok)
        fprintf(stderr, "  %s: got %g, want %g\n", k, cJSON_IsNumber(v) ? v->valuedouble : NAN,
                want);
    return ok;
}

#define UUID_RE "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"

/* A sink of type on the server, added to a new alerts. */
struct fixture {
    struct alerts *alerts;
    struct http_sink *sink;
};

/* The alerts of model iris with one sink of type, posting through ob to
 * path on the server, whose earlier requests are forgotten. */
static struct fixture make(enum http_sink_type type, const char *name, struct tl_server *srv,
                           const char *path, struct outbox *ob, struct event_base *base)
{
    static const struct http_header hs[] = {{"X-Token", "s3cret"}};
    char url[128];
    snprintf(url, sizeof(url), "%s%s", tl_server_url(srv), path);
    tl_server_clear(srv);
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
    struct fixture f = {alerts_new(&ac), http_sink_new(&conf, ob, base, tl_now)};
    CHECK(f.alerts != NULL && f.sink != NULL);
    if (f.alerts != NULL && f.sink != NULL)
        alerts_add_sink(f.alerts, &http_sink_ops, f.sink);
    return f;
}

/* Wait for the request the sink makes and check that it is the only one
 * (what names them in the failure message); NULL unless there is one. */
static const struct tl_request *one_request(struct tl_server *srv, const char *what)
{
    tl_server_wait(srv, 1, 2);
    size_t n = tl_server_count(srv);
    CHECKF(n == 1, "%zu %s", n, what);
    return n == 1 ? tl_server_request(srv, 0) : NULL;
}

/* The webhook's JSON: firing, resolved and a failed retrain. */
static void test_webhook(struct event_base *base, struct outbox *ob, struct tl_server *srv)
{
    struct fixture f = make(HTTP_SINK_WEBHOOK, "webhook-0", srv, "/hook", ob, base);
    if (f.sink == NULL)
        return;
    struct alert_decision d = decision(42, true, tl_time);
    d.correlation_id = "driftd-42-a1b2c3";
    alerts_window(f.alerts, &d, tl_time + 1);
    const struct tl_request *q = one_request(srv, "webhook requests");
    if (q == NULL)
        goto out;
    CHECK(strcmp(q->path, "/hook") == 0 &&
          strcmp(tl_request_header(q, "Content-Type"), "application/json") == 0);
    CHECK(strcmp(tl_request_header(q, "X-Token"), "s3cret") == 0);
    const cJSON *b = q->json;
    CHECK(cJSON_IsObject(b));
    CHECK(str_is(b, "version", "1") && str_is(b, "source", "driftd") && str_is(b, "model", "iris"));
    CHECK(cJSON_IsString(get(b, "id")) && tl_matches(get(b, "id")->valuestring, UUID_RE));
    CHECK(str_is(b, "status", "firing") && str_is(b, "severity", "warning"));
    CHECK(cJSON_IsString(get(b, "fingerprint")) &&
          tl_matches(get(b, "fingerprint")->valuestring, "^[0-9a-f]{16}$"));
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
    tl_server_clear(srv);
    d = decision(43, false, tl_time + 600);
    alerts_window(f.alerts, &d, tl_time + 601);
    q = one_request(srv, "webhook requests for resolved");
    if (q != NULL) {
        b = q->json;
        CHECK(str_is(b, "status", "resolved") && str_is(b, "ends_at", "2027-01-15T08:10:01Z"));
        CHECK(str_is(b, "starts_at", "2027-01-15T08:00:00Z"));
        CHECK(str_is(b, "summary", "Data drift on iris resolved: 0 of 3 features drifted"));
        CHECK(cJSON_GetArraySize(get(b, "features")) == 0);
        CHECK(cJSON_IsFalse(get(get(b, "retrain"), "dispatched")) &&
              cJSON_IsNull(get(get(b, "retrain"), "correlation_id")));
    }

    /* a failed retrain */
    tl_server_clear(srv);
    alerts_retrain(f.alerts, ALERT_RETRAIN_FAILED, "driftd-44-000001", "Bad credentials", NULL, 401,
                   tl_time + 700);
    q = one_request(srv, "webhook requests for retrain_failed");
    if (q != NULL) {
        b = q->json;
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
    tl_server_clear(srv);
    /* the sink stays for the outbox's sake; freed at the end */
    http_sink_free(f.sink);
}

/* Slack's text and blocks, firing and resolved. */
static void test_slack(struct event_base *base, struct outbox *ob, struct tl_server *srv)
{
    struct fixture f = make(HTTP_SINK_SLACK, "slack-0", srv, "/hook", ob, base);
    if (f.sink == NULL)
        return;
    struct alert_decision d = decision(7, true, tl_time);
    alerts_window(f.alerts, &d, tl_time);
    const struct tl_request *q = one_request(srv, "slack requests");
    if (q != NULL) {
        const cJSON *b = q->json;
        CHECK(strcmp(q->path, "/hook") == 0 &&
              strcmp(tl_request_header(q, "X-Token"), "s3cret") == 0);
        const char *text = ":warning: Data drift on iris: 2 of 3 features drifted (age, city)";
        CHECK(str_is(b, "text", text));
        const cJSON *bl = get(b, "blocks");
        CHECKF(cJSON_GetArraySize(bl) == 3, "%d blocks", cJSON_GetArraySize(bl));
        const cJSON *b0 = cJSON_GetArrayItem(bl, 0), *b1 = cJSON_GetArrayItem(bl, 1),
                    *b2 = cJSON_GetArrayItem(bl, 2);
        CHECK(str_is(b0, "type", "section") && cJSON_IsString(get(b0, "block_id")) &&
              tl_matches(get(b0, "block_id")->valuestring, UUID_RE));
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
    tl_server_clear(srv);
    d = decision(8, false, tl_time + 600);
    alerts_window(f.alerts, &d, tl_time + 600);
    q = one_request(srv, "slack requests for resolved");
    if (q != NULL) {
        const cJSON *b = q->json;
        CHECK(str_is(b, "text",
                     ":white_check_mark: Data drift on iris resolved: 0 of 3 features drifted"));
        CHECK(cJSON_GetArraySize(get(b, "blocks")) == 1);
    }
    alerts_free(f.alerts);
    tl_server_clear(srv);
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

/* Alertmanager's alerts: firing, a changed set, resolved, RetrainFailed. */
static void test_alertmanager(struct event_base *base, struct outbox *ob, struct tl_server *srv)
{
    /* the sink adds api/v2/alerts to the base URL */
    struct fixture f = make(HTTP_SINK_ALERTMANAGER, "alertmanager-0", srv, "/", ob, base);
    if (f.sink == NULL)
        return;
    struct alert_decision d = decision(9, true, tl_time);
    alerts_window(f.alerts, &d, tl_time);
    const struct tl_request *q = one_request(srv, "alertmanager requests");
    if (q != NULL) {
        const cJSON *b = q->json;
        CHECKF(strcmp(q->path, "/api/v2/alerts") == 0, "path %s", q->path);
        CHECK(strcmp(tl_request_header(q, "X-Token"), "s3cret") == 0);
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
    tl_server_clear(srv);
    d = decision(10, true, tl_time + 600);
    feats[2].drift = false;
    d.drifted = 1;
    tl_time += 600;
    alerts_tick(f.alerts, tl_time); /* nothing: repeat_seconds not reached */
    struct alerts_conf ac = {"iris", 1, 1};
    alerts_configure(f.alerts, &ac); /* every window re-posts now */
    alerts_window(f.alerts, &d, tl_time);
    q = one_request(srv, "alertmanager requests for a changed set");
    if (q != NULL) {
        const cJSON *b = q->json;
        const cJSON *city = am_find(b, "FeatureDrift", "city");
        CHECK(str_is(city, "endsAt", "2027-01-15T08:10:00Z"));
        CHECK(get(am_find(b, "FeatureDrift", "age"), "endsAt") == NULL);
    }

    /* resolved: the same label sets with endsAt */
    tl_server_clear(srv);
    d = decision(11, false, tl_time + 600);
    tl_time += 600;
    alerts_window(f.alerts, &d, tl_time);
    q = one_request(srv, "alertmanager requests for resolved");
    if (q != NULL) {
        const cJSON *b = q->json;
        CHECKF(cJSON_GetArraySize(b) == 2, "%d alerts resolved, want DataDrift + age",
               cJSON_GetArraySize(b));
        CHECK(str_is(am_find(b, "DataDrift", NULL), "endsAt", "2027-01-15T08:20:00Z"));
        CHECK(str_is(am_find(b, "FeatureDrift", "age"), "endsAt", "2027-01-15T08:20:00Z"));
    }

    /* a failed retrain fires RetrainFailed for an hour; a finished one posts nothing */
    tl_server_clear(srv);
    alerts_retrain(f.alerts, ALERT_RETRAIN_FINISHED, "driftd-11-000002", "success", NULL, 200,
                   tl_time);
    alerts_retrain(f.alerts, ALERT_RETRAIN_FAILED, "driftd-11-000003", "Bad credentials", NULL, 401,
                   tl_time);
    q = one_request(srv, "alertmanager requests for retrain news");
    if (q != NULL) {
        const cJSON *rf = am_find(q->json, "RetrainFailed", NULL);
        CHECK(str_is(get(rf, "labels"), "severity", "critical"));
        CHECK(str_is(get(rf, "annotations"), "description", "Bad credentials"));
        CHECK(str_is(rf, "startsAt", "2027-01-15T08:20:00Z") &&
              str_is(rf, "endsAt", "2027-01-15T09:20:00Z"));
    }
    alerts_free(f.alerts);
    tl_server_clear(srv);
    http_sink_free(f.sink);
}

int main(void)
{
    char *root = tl_tmpdir("sinks");
    struct event_base *base = event_base_new();
    struct tl_server *srv = tl_server_new(base);
    CHECK(srv != NULL);
    if (srv == NULL)
        return tl_done();
    struct http_client *http = http_client_new(base, "driftd-test");
    struct outbox *ob = outbox_new(base, http, root, tl_now);
    CHECK(http != NULL && ob != NULL);
    if (ob != NULL) {
        test_webhook(base, ob, srv);
        test_slack(base, ob, srv);
        test_alertmanager(base, ob, srv);
    }
    outbox_free(ob);
    http_client_free(http);
    tl_server_free(srv);
    event_base_free(base);
    tl_tmpdir_remove(root);
    return tl_done();
}
