/*
 * The outbox's retry policy against a loopback server (127.0.0.1, port 0)
 * with an injected clock: the back-off's bounds; a 2xx delivers and
 * empties the spool; 5xx retries after the back-off, Retry-After or the
 * target's own wait when that is longer; a retry that would pass max_age,
 * or an entry already older than it, and a 4xx are dead-lettered; what is
 * spooled when the process stops is replayed by the next one.
 */
#include "alerts/outbox.h"
#include "lib/log.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static double fake_time = 1800000000.0;

/* The injected clock. */
static double fake_now(void)
{
    return fake_time;
}

/* The server's script: the answers to give, in order (then 200). */
struct answer {
    int status;
    const char *retry_after; /* or NULL */
};
static struct answer script[8];
static size_t nscript, served;
static char last_body[256];

/* Answer the next request from the script. */
static void serve(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    n = n < sizeof(last_body) - 1 ? n : sizeof(last_body) - 1;
    evbuffer_copyout(in, last_body, n);
    last_body[n] = '\0';
    struct answer a = served < nscript ? script[served] : (struct answer){200, NULL};
    served++;
    struct evbuffer *out = evbuffer_new();
    if (a.retry_after != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", a.retry_after);
    evbuffer_add_printf(out, a.status >= 300 ? "busy" : "ok");
    evhttp_send_reply(req, a.status, a.status >= 300 ? "No" : "OK", out);
    evbuffer_free(out);
}

/* Script the next answers. */
static void expect(size_t n, const struct answer *a)
{
    if (n > 0)
        memcpy(script, a, n * sizeof(*a));
    nscript = n;
    served = 0;
}

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
    *req = (struct http_request){"POST", t->url, hs, 1, body, len, 5, NULL};
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

/* Lines the outbox logged. */
static char log_text[8192];

/* The log hook. */
static void hook(enum log_level level, const char *msg)
{
    (void)level;
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof(log_text) - n, "%s\n", msg);
}

/* *.json files in dir. */
static size_t count_json(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        n += l > 5 && strcmp(de->d_name + l - 5, ".json") == 0;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* Run the loop until the server has answered n requests and the client
 * has taken the answer, or about three seconds pass. */
static void run_until_served(struct event_base *base, size_t n)
{
    for (int i = 0; i < 300 && served < n; i++) {
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
    for (int i = 0; i < 5; i++) { /* the answer's way back */
        struct timeval tv = {0, 10000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
    }
}

static void test_backoff(void)
{
    /* attempt n: uniform in [1, min(300, 2^n)] */
    CHECK(outbox_backoff(1, 0) == 1 && outbox_backoff(1, 1) == 2);
    CHECK(outbox_backoff(3, 0.5) == 4.5 && outbox_backoff(3, 1) == 8);
    CHECK(outbox_backoff(8, 1) == 256 && outbox_backoff(9, 1) == 300);
    CHECK(outbox_backoff(1000, 1) == 300 && outbox_backoff(1000, 0) == 1);
    CHECK(outbox_backoff(0, 1) == 1);
}

int main(void)
{
    char root[] = "/tmp/driftd-outbox-retry.XXXXXX";
    if (mkdtemp(root) == NULL)
        return 1;
    char spool[600], dead[600];
    snprintf(spool, sizeof(spool), "%s/spool", root);
    snprintf(dead, sizeof(dead), "%s/dead-letter", root);
    log_set_hook(hook);
    test_backoff();

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
    struct target t = {.finished = -1};
    snprintf(t.url, sizeof(t.url), "http://127.0.0.1:%d/hook", ntohs(sa.sin_port));
    struct http_client *http = http_client_new(base, "driftd-test");
    struct outbox *ob = outbox_new(base, http, root, fake_now);
    CHECK(http != NULL && ob != NULL);
    if (ob == NULL)
        return tl_done();
    CHECK(outbox_add_target(ob, "t", &ops, &t, 600) == 0);

    /* 2xx: delivered once, the spool is empty */
    expect(0, NULL);
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 1}", 8) == 0);
    CHECK(count_json(spool) == 1); /* on disk before the first attempt */
    run_until_served(base, 1);
    CHECKF(t.finished == DELIVER_OK && strcmp(last_body, "{\"n\": 1}") == 0, "finished %d body %s",
           t.finished, last_body);
    struct outbox_stats st = outbox_stats(ob, "t");
    CHECK(st.sent == 1 && st.queued == 0 && st.retried == 0 && count_json(spool) == 0);

    /* 503 without Retry-After: retried after the back-off of attempt 1
     * (1 to 2 s), then delivered */
    t.finished = -1;
    log_text[0] = '\0';
    expect(1, (struct answer[]){{503, NULL}});
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 2}", 8) == 0);
    run_until_served(base, 1);
    double delay = NAN;
    const char *p = strstr(log_text, "outbox t: attempt 1 failed (HTTP 503: busy); retrying in ");
    if (p != NULL)
        delay =
            strtod(p + strlen("outbox t: attempt 1 failed (HTTP 503: busy); retrying in "), NULL);
    CHECKF(delay >= 1 && delay <= 2, "retry delay %g (log: %s)", delay, log_text);
    CHECK(outbox_stats(ob, "t").retried == 1 && t.finished == -1);
    run_until_served(base, 2);
    CHECKF(t.finished == DELIVER_OK, "after the retry: finished %d, served %zu", t.finished,
           served);

    /* Retry-After longer than the back-off wins */
    log_text[0] = '\0';
    expect(1, (struct answer[]){{503, "30"}});
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 3}", 8) == 0);
    run_until_served(base, 1);
    CHECKF(strstr(log_text, "retrying in 30.0 s") != NULL, "log: %s", log_text);
    /* ... and so does the target's own wait, when longer */
    outbox_free(ob); /* n 3 stays in the spool for the next process */
    CHECK(count_json(spool) == 1);

    ob = outbox_new(base, http, root, fake_now);
    CHECK(ob != NULL && outbox_add_target(ob, "t", &ops, &t, 600) == 0);
    t.wait = 45;
    t.finished = -1;
    log_text[0] = '\0';
    expect(1, (struct answer[]){{502, "30"}});
    outbox_replay(ob); /* the spooled n 3 goes first */
    run_until_served(base, 1);
    CHECKF(strstr(log_text, "outbox: replaying 1 spooled notification") != NULL &&
               strstr(last_body, "\"n\": 3") != NULL,
           "replay: %s, body %s", log_text, last_body);
    CHECKF(strstr(log_text, "retrying in 45.0 s") != NULL, "log: %s", log_text);
    t.wait = 0;
    outbox_free(ob);

    /* a retry that would end past max_age (60 s): given up at once */
    ob = outbox_new(base, http, root, fake_now);
    CHECK(ob != NULL && outbox_add_target(ob, "t", &ops, &t, 60) == 0);
    outbox_replay(ob); /* n 3 again: created long enough ago? not yet */
    t.finished = -1;
    log_text[0] = '\0';
    expect(1, (struct answer[]){{503, "120"}});
    run_until_served(base, 1);
    CHECKF(t.finished == DELIVER_FAIL && strstr(log_text, "(max_age reached)") != NULL,
           "finished %d log %s", t.finished, log_text);
    CHECK(outbox_stats(ob, "t").failed == 1 && count_json(dead) == 1 && count_json(spool) == 0);

    /* an entry already older than max_age when its turn comes */
    t.finished = -1;
    log_text[0] = '\0';
    expect(0, NULL);
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 4}", 8) == 0);
    fake_time += 61;
    run_until_served(base, 0);
    CHECKF(served == 0 && t.finished == DELIVER_FAIL &&
               strstr(log_text, "giving up after 0 attempts (max_age reached)") != NULL,
           "served %zu finished %d log %s", served, t.finished, log_text);

    /* a 4xx is permanent: dead-lettered after one attempt */
    t.finished = -1;
    log_text[0] = '\0';
    expect(1, (struct answer[]){{400, NULL}});
    CHECK(outbox_enqueue(ob, "t", "{\"n\": 5}", 8) == 0);
    run_until_served(base, 1);
    CHECKF(t.finished == DELIVER_FAIL &&
               strstr(log_text, "outbox t: giving up after 1 attempt (HTTP 400: busy)") != NULL,
           "finished %d log %s", t.finished, log_text);
    CHECK(outbox_stats(ob, "t").failed == 3 && count_json(dead) == 3 && count_json(spool) == 0);
    outbox_free(ob);

    http_client_free(http);
    evhttp_free(srv);
    event_base_free(base);
    log_set_hook(NULL);
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", root);
    return tl_done();
}
