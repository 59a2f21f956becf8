/*
 * The outbox's retry policy against a loopback server (127.0.0.1, port 0)
 * with an injected clock: the back-off's bounds; a 2xx delivers and
 * empties the spool; 5xx retries after the back-off, Retry-After or the
 * target's own wait when that is longer; a retry that would pass max_age,
 * or an entry already older than it, and a 4xx are dead-lettered; what is
 * spooled when the process stops is replayed by the next one.
 */
#include "alerts/outbox.h"
#include "testlib.h"

#include <event2/event.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The target: POST the body to the server; a least wait of `wait`
 * seconds on a retry when it is set (as GitHub's rate limit asks). */
struct target {
    char url[64];
    double wait;
    int finished; /* -1: not yet; else the enum deliver_result */
};

/* Build the request. */
static int request(void *ctx, const char *body, size_t len, struct http_request *req)
{
    struct target *t = ctx;
    static const struct http_header hs[] = {{"Content-Type", "application/json"}};
    *req = (struct http_request){"POST", t->url, hs, 1, body, len, 5, NULL, 0};
    return 0;
}

/* The default rules, plus the target's least wait. */
static enum deliver_result classify(void *ctx, const struct http_response *res, double *wait)
{
    struct target *t = ctx;
    if (res->status >= 200 && res->status < 300)
        return DELIVER_OK;
    if (res->status == 0 || res->status >= 500) {
        *wait = t->wait;
        return DELIVER_RETRY;
    }
    return DELIVER_FAIL;
}

/* Note the final outcome. */
static void finished(void *ctx, const char *body, size_t len, enum deliver_result r,
                     const struct http_response *res)
{
    struct target *t = ctx;
    (void)body, (void)len, (void)res;
    t->finished = (int)r;
}

static const struct outbox_target_ops ops = {request, classify, finished};

/* Run the loop until the server has answered n requests and the client
 * has taken the answer, or about three seconds pass. */
static void run_until_served(struct tl_server *srv, struct event_base *base, size_t n)
{
    tl_server_wait(srv, n, 3);
    tl_run_for(base, 0.05); /* the answer's way back */
}

/* The back-off of attempt n is uniform in [1, min(300, 2^n)]. */
static void test_backoff(void)
{
    CHECK(outbox_backoff(1, 0) == 1 && outbox_backoff(1, 1) == 2);
    CHECK(outbox_backoff(3, 0.5) == 4.5 && outbox_backoff(3, 1) == 8);
    CHECK(outbox_backoff(8, 1) == 256 && outbox_backoff(9, 1) == 300);
    CHECK(outbox_backoff(1000, 1) == 300 && outbox_backoff(1000, 0) == 1);
    CHECK(outbox_backoff(0, 1) == 1);
}

int main(void)
{
    char *root = tl_tmpdir("outbox-retry");
    char spool[600], dead[600];
    snprintf(spool, sizeof(spool), "%s/spool", root);
    snprintf(dead, sizeof(dead), "%s/dead-letter", root);
    tl_log_capture();
    test_backoff();

    struct event_base *base = event_base_new();
    struct tl_server *srv = tl_server_new(base);
    CHECK(srv != NULL);
    if (srv == NULL)
        return tl_done();
    struct target t = {.finished = -1};
    snprintf(t.url, sizeof(t.url), "%s/hook", tl_server_url(srv));
    struct http_client *http = http_client_new(base, "driftd-test");
    struct outbox *ob = outbox_new(base, http, root, tl_now);
    CHECK(http != NULL && ob != NULL);
    if (ob == NULL)
        return tl_done();
    CHECK(outbox_add_target(ob, "t", &ops, &t, 600) == 0);

    /* 2xx: delivered once, the spool is empty */
    tl_server_script(srv, 0, NULL);
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 1}", 8) == 0);
    CHECK(tl_count_files(spool, ".json") == 1); /* on disk before the first attempt */
    run_until_served(srv, base, 1);
    CHECKF(t.finished == DELIVER_OK && strcmp(tl_server_last_body(srv), "{\"n\": 1}") == 0,
           "finished %d body %s", t.finished, tl_server_last_body(srv));
    struct outbox_stats st = outbox_stats(ob, "t");
    CHECK(st.sent == 1 && st.queued == 0 && st.retried == 0 && tl_count_files(spool, ".json") == 0);

    /* 503 without Retry-After: retried after the back-off of attempt 1
     * (1 to 2 s), then delivered */
    t.finished = -1;
    tl_log_clear();
    tl_server_script(srv, 1, (struct tl_answer[]){{503, NULL, "busy"}});
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 2}", 8) == 0);
    run_until_served(srv, base, 1);
    double delay = NAN;
    const char *p =
        strstr(tl_log_text(), "outbox t: attempt 1 failed (HTTP 503: busy); retrying in ");
    if (p != NULL)
        delay =
            strtod(p + strlen("outbox t: attempt 1 failed (HTTP 503: busy); retrying in "), NULL);
    CHECKF(delay >= 1 && delay <= 2, "retry delay %g (log: %s)", delay, tl_log_text());
    CHECK(outbox_stats(ob, "t").retried == 1 && t.finished == -1);
    run_until_served(srv, base, 2);
    CHECKF(t.finished == DELIVER_OK, "after the retry: finished %d, served %zu", t.finished,
           tl_server_count(srv));

    /* Retry-After longer than the back-off wins */
    tl_log_clear();
    tl_server_script(srv, 1, (struct tl_answer[]){{503, "30", "busy"}});
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 3}", 8) == 0);
    run_until_served(srv, base, 1);
    CHECKF(strstr(tl_log_text(), "retrying in 30.0 s") != NULL, "log: %s", tl_log_text());
    /* ... and so does the target's own wait, when longer */
    outbox_free(ob); /* n 3 stays in the spool for the next process */
    CHECK(tl_count_files(spool, ".json") == 1);

    ob = outbox_new(base, http, root, tl_now);
    CHECK(ob != NULL && outbox_add_target(ob, "t", &ops, &t, 600) == 0);
    t.wait = 45;
    t.finished = -1;
    tl_log_clear();
    tl_server_script(srv, 1, (struct tl_answer[]){{502, "30", "busy"}});
    outbox_replay(ob); /* the spooled n 3 goes first */
    run_until_served(srv, base, 1);
    CHECKF(strstr(tl_log_text(), "outbox: replaying 1 spooled notification") != NULL &&
               strstr(tl_server_last_body(srv), "\"n\": 3") != NULL,
           "replay: %s, body %s", tl_log_text(), tl_server_last_body(srv));
    CHECKF(strstr(tl_log_text(), "retrying in 45.0 s") != NULL, "log: %s", tl_log_text());
    t.wait = 0;
    outbox_free(ob);

    /* a retry that would end past max_age (60 s): given up at once */
    ob = outbox_new(base, http, root, tl_now);
    CHECK(ob != NULL && outbox_add_target(ob, "t", &ops, &t, 60) == 0);
    outbox_replay(ob); /* n 3 again: created long enough ago? not yet */
    t.finished = -1;
    tl_log_clear();
    tl_server_script(srv, 1, (struct tl_answer[]){{503, "120", "busy"}});
    run_until_served(srv, base, 1);
    CHECKF(t.finished == DELIVER_FAIL && strstr(tl_log_text(), "(max_age reached)") != NULL,
           "finished %d log %s", t.finished, tl_log_text());
    CHECK(outbox_stats(ob, "t").failed == 1 && tl_count_files(dead, ".json") == 1 &&
          tl_count_files(spool, ".json") == 0);

    /* an entry already older than max_age when its turn comes */
    t.finished = -1;
    tl_log_clear();
    tl_server_script(srv, 0, NULL);
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 4}", 8) == 0);
    tl_time += 61;
    run_until_served(srv, base, 0);
    CHECKF(tl_server_count(srv) == 0 && t.finished == DELIVER_FAIL &&
               strstr(tl_log_text(), "giving up after 0 attempts (max_age reached)") != NULL,
           "served %zu finished %d log %s", tl_server_count(srv), t.finished, tl_log_text());

    /* a 4xx is permanent: dead-lettered after one attempt */
    t.finished = -1;
    tl_log_clear();
    tl_server_script(srv, 1, (struct tl_answer[]){{400, NULL, "busy"}});
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 5}", 8) == 0);
    run_until_served(srv, base, 1);
    CHECKF(t.finished == DELIVER_FAIL &&
               strstr(tl_log_text(), "outbox t: giving up after 1 attempt (HTTP 400: busy)") !=
                   NULL,
           "finished %d log %s", t.finished, tl_log_text());
    CHECK(outbox_stats(ob, "t").failed == 3 && tl_count_files(dead, ".json") == 3 &&
          tl_count_files(spool, ".json") == 0);
    outbox_free(ob);

    http_client_free(http);
    tl_server_free(srv);
    event_base_free(base);
    tl_log_stop();
    tl_tmpdir_remove(root);
    return tl_done();
}
