/*
 * The retraining policy with an injected clock: a dispatch only after
 * `consecutive` drifted windows, none inside the cooldown, a clean window
 * starting the count again; the correlation id's format and the same id in
 * the dispatch and in the drift alert that follows it; dry run; the state
 * file's member and retrain.json round trip (the later time wins); the
 * /v1/status member and the metrics; and GitHub's answers (a failed
 * dispatch, a finished run) routed to the sinks, against a loopback mock
 * of GitHub on 127.0.0.1.
 */
#include "alerts/retrain.h"
#include "lib/file.h"
#include "testlib.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the capturing sink saw. */
struct seen {
    unsigned drift, failed, finished;
    char corr[64];     /* of the last event */
    bool corr_null;    /* the last event carried no correlation id */
    char message[256]; /* of the last retrain event */
};

/* A sink that keeps what it is told. */
static void capture(void *ctx, const struct alert_event *ev)
{
    struct seen *s = ctx;
    const char *c = ev->decision->correlation_id;
    s->corr_null = c == NULL;
    snprintf(s->corr, sizeof(s->corr), "%s", c ? c : "");
    if (ev->kind == ALERT_DRIFT) {
        s->drift++;
        return;
    }
    if (ev->kind == ALERT_RETRAIN_FAILED)
        s->failed++;
    else
        s->finished++;
    snprintf(s->message, sizeof(s->message), "%s", ev->message ? ev->message : "");
}

static const struct alert_sink_ops capture_ops = {"capture", capture};

static struct alert_feature feats[2] = {{"age", "ks", 0.4, 0.001, 0.05, true},
                                        {"income", "psi", 0.01, NAN, 0.1, false}};

/* The decision of window id ending at end. */
static struct alert_decision window(uint64_t id, bool drift, double end)
{
    struct alert_decision d = {
        .drift = drift,
        .share = drift ? 0.5 : 0,
        .drift_share = 0.5,
        .drifted = drift ? 1 : 0,
        .total = 2,
        .features = feats,
        .nfeatures = 2,
        .window = {id, 100, 100, end - 60, end},
        .correlation_id = "not-mine", /* must not reach the alert */
    };
    feats[0].drift = drift;
    return d;
}

static const struct github_input inputs[] = {{"correlation_id", "${correlation_id}"},
                                             {"features", "${drifted_features}"}};

/* GitHub settings for a mock at api (NULL: an address never reached). */
static struct github_settings gh(const char *api)
{
    struct github_settings s = {
        .api_url = api ? api : "http://127.0.0.1:9",
        .repository = "o/r",
        .workflow = "w.yml",
        .ref = "main",
        .token = "t0ken",
        .inputs = inputs,
        .n_inputs = 2,
        .timeout = 5,
        .follow_seconds = 0.01,
        .max_age = 86400,
    };
    return s;
}

/* The state member as text, for comparing two policies. */
static char *state_text(const struct retrain *rt)
{
    struct sbuf s;
    sbuf_init(&s);
    retrain_state_json(rt, &s);
    return sbuf_steal(&s, NULL);
}

/* The alerts of model iris, reminding at every window, told to the
 * capturing sink that fills seen. */
static struct alerts *captured_alerts(struct seen *seen)
{
    struct alerts_conf ac = {"iris", 1, 1};
    struct alerts *al = alerts_new(&ac);
    alerts_add_sink(al, &capture_ops, seen);
    return al;
}

/* consecutive, cooldown, the correlation id, dry run, state and status. */
static void test_policy(struct event_base *base, struct outbox *ob, struct http_client *http,
                        const char *file)
{
    struct seen seen = {0};
    struct alerts *al = captured_alerts(&seen);
    struct github_settings s = gh(NULL);
    struct retrain_conf rc = {"iris", 2, 3600, true, &s};
    struct retrain *rt = retrain_new(&rc, al, ob, http, base, tl_now, file, NULL, NULL);
    CHECK(rt != NULL);
    if (rt == NULL)
        return;

    /* one drifted window is not enough for consecutive = 2 */
    double t = tl_time;
    struct alert_decision d = window(1, true, t);
    CHECK(retrain_window(rt, &d, t) == RETRAIN_NOT_WRITTEN);
    CHECK(seen.drift == 1 && seen.corr_null);
    CHECK(retrain_consecutive(rt) == 1 && retrain_counts(rt).dry_runs == 0);

    /* the second dispatches (dry run) and the alert carries its id */
    tl_log_clear();
    d = window(2, true, t + 60);
    CHECK(retrain_window(rt, &d, t + 60) == RETRAIN_WRITTEN);
    CHECKF(tl_matches(seen.corr, "^driftd-2-[0-9a-f]{6}$"), "correlation id %s", seen.corr);
    CHECK(retrain_counts(rt).dry_runs == 1 && retrain_counts(rt).ok == 0);
    char want[128];
    snprintf(want, sizeof(want), "\"correlation_id\": \"%s\"", seen.corr);
    CHECKF(strstr(tl_log_text(), "github: dry run: POST") != NULL &&
               strstr(tl_log_text(), want) != NULL,
           "dry run log: %s", tl_log_text());
    CHECK(strstr(tl_log_text(), "t0ken") == NULL);
    CHECK(strcmp(d.correlation_id, "not-mine") == 0); /* the caller's decision is untouched */
    size_t len;
    char *text = file_read(file, &len);
    CHECKF(text != NULL && strcmp(text, "{\"last_dispatch_at\": 1800000060.000, "
                                        "\"cooldown_until\": 1800003660.000}\n") == 0,
           "retrain.json: %s", text ? text : "(none)");
    free(text);
    char first[64];
    snprintf(first, sizeof(first), "%s", seen.corr);

    /* drifted, but inside the cooldown: no dispatch, no id */
    tl_log_clear();
    d = window(3, true, t + 120);
    CHECK(retrain_window(rt, &d, t + 120) == RETRAIN_NOT_WRITTEN);
    CHECK(seen.corr_null && retrain_counts(rt).dry_runs == 1);
    CHECKF(strstr(tl_log_text(),
                  "retrain: dataset drift for 3 windows, but the cooldown lasts until "
                  "1800003660") != NULL,
           "cooldown log: %s", tl_log_text());

    /* a clean window starts the count again: after the cooldown one
     * drifted window is not enough, two are */
    d = window(4, false, t + 180);
    retrain_window(rt, &d, t + 180);
    CHECK(retrain_consecutive(rt) == 0);
    d = window(5, true, t + 4000);
    CHECK(retrain_window(rt, &d, t + 4000) == RETRAIN_NOT_WRITTEN && seen.corr_null);
    d = window(6, true, t + 4060);
    CHECK(retrain_window(rt, &d, t + 4060) == RETRAIN_WRITTEN);
    CHECKF(tl_matches(seen.corr, "^driftd-6-[0-9a-f]{6}$"), "correlation id %s", seen.corr);
    CHECK(retrain_counts(rt).dry_runs == 2);

    /* status and metrics */
    struct sbuf st;
    sbuf_init(&st);
    retrain_status_json(rt, NULL, &st);
    char wst[1024];
    snprintf(wst, sizeof(wst),
             "{\"configured\": true, \"dry_run\": true, \"last_dispatch_at\": "
             "\"2027-01-15T09:07:40Z\", \"cooldown_until\": \"2027-01-15T10:07:40Z\", "
             "\"last_result\": {\"status\": \"dry_run\", \"http_status\": 0, \"message\": null, "
             "\"correlation_id\": \"%s\"}, \"last_run_url\": null, \"run\": null, "
             "\"consecutive_drift\": 2, \"consecutive\": 2}",
             seen.corr);
    CHECKF(st.data != NULL && strcmp(st.data, wst) == 0, "status\n got %s\nwant %s", st.data, wst);
    cJSON *j = cJSON_Parse(st.data);
    CHECK(cJSON_IsObject(j));
    cJSON_Delete(j);
    sbuf_reset(&st);
    struct retrain_counts counts = retrain_counts(rt);
    CHECKF(counts.ok == 0 && counts.failed == 0 && counts.dry_runs == 2,
           "counts ok %llu failed %llu dry_run %llu, want 0 0 2", (unsigned long long)counts.ok,
           (unsigned long long)counts.failed, (unsigned long long)counts.dry_runs);

    /* the state round trip: a new policy resumes where this one was */
    sbuf_reset(&st);
    sbuf_adds(&st, "{\"retrain\": ");
    retrain_state_json(rt, &st);
    sbuf_adds(&st, "}");
    cJSON *root = cJSON_Parse(st.data);
    CHECKF(cJSON_IsObject(root), "state member is not JSON: %s", st.data);
    unlink(file); /* the state file's member alone */
    struct retrain *rt2 = retrain_new(&rc, al, ob, http, base, tl_now, file, NULL, NULL);
    CHECK(rt2 != NULL);
    if (rt2 != NULL) {
        retrain_state_load(rt2, cJSON_GetObjectItemCaseSensitive(root, "retrain"));
        retrain_restore_consecutive(rt2, retrain_consecutive(rt));
        char *a = state_text(rt), *b = state_text(rt2);
        CHECKF(a && b && strcmp(a, b) == 0, "state round trip\n got %s\nwant %s", b, a);
        free(a), free(b);
        /* a later retrain.json (a dispatch after the last state save) wins */
        const char *later = "{\"last_dispatch_at\": 1900000000.000, "
                            "\"cooldown_until\": 1900003600.000}\n";
        CHECK(file_write_atomic(file, later, strlen(later), 0600, 0) == 0);
        retrain_state_load(rt2, cJSON_GetObjectItemCaseSensitive(root, "retrain"));
        a = state_text(rt2);
        CHECKF(a && strncmp(a,
                            "{\"last_dispatch_at\": 1900000000.000, \"cooldown_until\": "
                            "1900003600.000, \"result\": \"dry_run\"",
                            78) == 0,
               "after retrain.json: %s", a);
        free(a);
        /* so the next drifted window is inside the cooldown */
        d = window(7, true, 1900000100);
        CHECK(retrain_window(rt2, &d, 1900000100) == RETRAIN_NOT_WRITTEN && seen.corr_null);
        retrain_free(rt2);
    }
    cJSON_Delete(root);
    sbuf_free(&st);
    retrain_free(rt);

    /* without GitHub: windows are counted, nothing is dispatched */
    struct retrain_conf none = {"iris", 1, 0, false, NULL};
    rt = retrain_new(&none, al, ob, http, base, tl_now, file, NULL, NULL);
    CHECK(rt != NULL);
    if (rt != NULL) {
        d = window(8, true, 1900000200);
        CHECK(retrain_window(rt, &d, 1900000200) == RETRAIN_NOT_WRITTEN && seen.corr_null);
        sbuf_init(&st);
        retrain_status_json(rt, NULL, &st);
        CHECKF(st.data && strcmp(st.data, "{\"configured\": false, \"consecutive_drift\": 1, "
                                          "\"consecutive\": 1}") == 0,
               "status %s", st.data);
        sbuf_free(&st);
        retrain_free(rt);
    }
    alerts_free(al);
}

/* The mock GitHub: a dispatch with a "features" input of "bad" is refused
 * with 422, any other is accepted with its run; the run is completed. */
static void mock_github(struct evhttp_request *req, const struct tl_request *got, void *arg)
{
    (void)arg;
    struct evbuffer *out = evbuffer_new();
    const char *uri = got->path;
    if (strstr(uri, "/dispatches") != NULL && strstr(got->body, "\"bad\"") != NULL) {
        evbuffer_add_printf(out, "{\"message\": \"Unexpected inputs provided\"}");
        evhttp_send_reply(req, 422, "Unprocessable Entity", out);
    } else if (strstr(uri, "/dispatches") != NULL) {
        evbuffer_add_printf(out, "{\"workflow_run_id\": 77, \"html_url\": \"http://run/77\"}");
        evhttp_send_reply(req, 200, "OK", out);
    } else if (strstr(uri, "/actions/runs/77") != NULL) {
        evbuffer_add_printf(out, "{\"id\": 77, \"status\": \"completed\", \"conclusion\": "
                                 "\"success\", \"html_url\": \"http://run/77\"}");
        evhttp_send_reply(req, 200, "OK", out);
    } else {
        evhttp_send_reply(req, 404, "Not Found", out);
    }
    evbuffer_free(out);
}

static unsigned changes;

/* The policy's "state changed" callback. */
static void on_changed(void *arg)
{
    (void)arg;
    changes++;
}

/* Has the capturing sink heard of a finished run? */
static bool heard_finished(void *arg)
{
    return ((const struct seen *)arg)->finished >= 1;
}

/* Has the capturing sink heard of a failed dispatch? */
static bool heard_failed(void *arg)
{
    return ((const struct seen *)arg)->failed >= 1;
}

/* GitHub's answers reach the sinks with the dispatch's correlation id. */
static void test_routing(struct event_base *base, struct outbox *ob, struct http_client *http,
                         const char *file)
{
    struct tl_server *srv = tl_server_new(base);
    CHECK(srv != NULL);
    if (srv == NULL)
        return;
    tl_server_respond(srv, mock_github, NULL);

    struct seen seen = {0};
    struct alerts *al = captured_alerts(&seen);
    struct github_settings s = gh(tl_server_url(srv));
    struct retrain_conf rc = {"iris", 1, 0, false, &s};
    struct retrain *rt = retrain_new(&rc, al, ob, http, base, tl_now, file, on_changed, NULL);
    CHECK(rt != NULL);
    if (rt != NULL) {
        /* accepted, and its run followed until it completed */
        struct alert_decision d = window(10, true, tl_time);
        CHECK(retrain_window(rt, &d, tl_time) == RETRAIN_WRITTEN);
        char corr[64];
        snprintf(corr, sizeof(corr), "%s", seen.corr);
        tl_run_until(base, heard_finished, &seen, 2);
        CHECKF(seen.finished == 1 && strcmp(seen.message, "success") == 0, "finished %u message %s",
               seen.finished, seen.message);
        CHECKF(strcmp(seen.corr, corr) == 0, "finished run's id %s, dispatched %s", seen.corr,
               corr);
        CHECK(retrain_counts(rt).ok == 1 && changes == 1);

        /* refused: a retrain_failed event with GitHub's message */
        feats[0].name = "bad";
        d = window(11, true, tl_time + 10);
        CHECK(retrain_window(rt, &d, tl_time + 10) == RETRAIN_WRITTEN);
        feats[0].name = "age";
        snprintf(corr, sizeof(corr), "%s", seen.corr);
        tl_run_until(base, heard_failed, &seen, 2);
        CHECKF(seen.failed == 1 && strcmp(seen.message, "Unexpected inputs provided") == 0,
               "failed %u message %s", seen.failed, seen.message);
        CHECKF(strcmp(seen.corr, corr) == 0, "failed dispatch's id %s, dispatched %s", seen.corr,
               corr);
        CHECK(retrain_counts(rt).failed == 1 && changes == 2);
        retrain_free(rt);
    }
    alerts_free(al);
    tl_server_free(srv);
}

int main(void)
{
    char *dir = tl_tmpdir("retrain");
    char file[600];
    snprintf(file, sizeof(file), "%s/retrain.json", dir);
    tl_log_capture();
    struct event_base *base = event_base_new();
    struct http_client *http = http_client_new(base, "driftd-test");
    struct outbox *ob = outbox_new(base, http, dir, tl_now);
    CHECK(base != NULL && http != NULL && ob != NULL);
    if (ob != NULL) {
        test_policy(base, ob, http, file);
        test_routing(base, ob, http, file);
    }
    outbox_free(ob);
    http_client_free(http);
    event_base_free(base);
    tl_log_stop();
    tl_tmpdir_remove(dir);
    return tl_done();
}
