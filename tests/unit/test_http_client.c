/*
 * The curl-multi/libevent glue against a loopback server in a child
 * process (127.0.0.1, port 0): a request and its answer, Retry-After read
 * from the answer, errors of curl_multi_socket_action counted and logged
 * once (injected), and each socket's event made once and re-assigned, not
 * freed and made again when curl changes what it polls for (libevent's
 * allocations counted in this process, where only the client runs); the
 * body limits (64 KiB kept by default, a request's max_body aborting past
 * it, with and without a Content-Length) and a 302 handed back with its
 * Location, not followed.
 */
#include "alerts/http_client.h"
#include "lib/log.h"
#include "testlib.h"

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* libevent's allocations, counted through event_set_mem_functions. */
static unsigned long ev_allocs;

/* Counting malloc for libevent. */
static void *count_malloc(size_t n)
{
    ev_allocs++;
    return malloc(n);
}

/* Counting realloc for libevent. */
static void *count_realloc(void *p, size_t n)
{
    ev_allocs++;
    return realloc(p, n);
}

/* The server's answer: /slow answers 503 with Retry-After: 7, anything
 * else 200 with the request body echoed; every answer closes the
 * connection, so each request opens a new socket. */
static void serve(struct evhttp_request *req, const struct tl_request *got, void *arg)
{
    (void)arg;
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Connection", "close");
    if (strncmp(got->path, "/big", 4) == 0) {
        /* 100,000 bytes; /big-chunked without a Content-Length */
        char *big = malloc(100000);
        memset(big, 'y', 100000);
        if (strcmp(got->path, "/big-chunked") == 0) {
            evhttp_send_reply_start(req, 200, "OK");
            for (size_t i = 0; i < 100000; i += 10000) {
                evbuffer_add(out, big + i, 10000);
                evhttp_send_reply_chunk(req, out);
            }
            evhttp_send_reply_end(req);
        } else {
            evbuffer_add(out, big, 100000);
            evhttp_send_reply(req, 200, "OK", out);
        }
        free(big);
    } else if (strcmp(got->path, "/redirect") == 0) {
        /* a storage URL with a long signature, as GitHub's are */
        char loc[1200];
        int n = snprintf(loc, sizeof(loc), "http://127.0.0.1:1/blob?sig=");
        memset(loc + n, 's', 1000);
        loc[n + 1000] = '\0';
        evhttp_add_header(h, "Location", loc);
        evhttp_send_reply(req, 302, "Found", out);
    } else if (strcmp(got->path, "/slow") == 0) {
        evhttp_add_header(h, "Retry-After", "7");
        evbuffer_add_printf(out, "busy");
        evhttp_send_reply(req, 503, "Service Unavailable", out);
    } else {
        evbuffer_add(out, got->body, got->body_len);
        evhttp_send_reply(req, 200, "OK", out);
    }
    evbuffer_free(out);
}

/* What the done callback was given. */
struct answer {
    bool done;
    long status;
    char body[256];
    double retry_after;
    size_t body_len;
    bool too_large;
    char error[128];
    char location[1200];
};

/* The done callback: keep the answer. */
static void on_done(void *arg, const struct http_response *res)
{
    struct answer *a = arg;
    a->done = true;
    a->status = res->status;
    snprintf(a->body, sizeof(a->body), "%.*s", (int)res->body_len, res->body);
    a->retry_after = res->retry_after;
    a->body_len = res->body_len;
    a->too_large = res->too_large;
    snprintf(a->error, sizeof(a->error), "%s", res->error ? res->error : "");
    snprintf(a->location, sizeof(a->location), "%s", res->location ? res->location : "");
}

/* GET path with a body limit (0: the default) and run the loop until the
 * answer is in. */
static struct answer get(struct event_base *base, struct http_client *c, int port, const char *path,
                         size_t max_body)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct http_request req = {"GET", url, NULL, 0, NULL, 0, 5, NULL, max_body};
    struct answer a = {0};
    CHECK(http_client_send(c, &req, on_done, &a) == 0);
    while (!a.done && event_base_loop(base, EVLOOP_ONCE) == 0)
        ;
    return a;
}

/* POST body to path and run the loop until the answer is in. */
static struct answer post(struct event_base *base, struct http_client *c, int port,
                          const char *path, const char *body)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    struct http_header hs[] = {{"Content-Type", "text/plain"}};
    struct http_request req = {"POST", url, hs, 1, body, strlen(body), 5, NULL, 0};
    struct answer a = {0};
    CHECK(http_client_send(c, &req, on_done, &a) == 0);
    while (!a.done && event_base_loop(base, EVLOOP_ONCE) == 0)
        ;
    return a;
}

/* A chain: the first answer's callback starts the second request, as a
 * fetch's steps do. */
struct chain {
    struct http_client *c;
    char url[128];
    struct answer second;
    bool first_done;
};

/* The first answer: start the second request from inside the callback. */
static void on_first(void *arg, const struct http_response *res)
{
    struct chain *ch = arg;
    (void)res;
    ch->first_done = true;
    struct http_request req = {"GET", ch->url, NULL, 0, NULL, 0, 5, NULL, 0};
    CHECK(http_client_send(ch->c, &req, on_done, &ch->second) == 0);
}

int main(void)
{
    int port;
    pid_t pid = tl_server_fork(serve, NULL, &port);
    CHECK(pid > 0);
    if (pid <= 0)
        return tl_done();
    /* before this process's first libevent allocation */
    event_set_mem_functions(count_malloc, count_realloc, free);
    tl_log_capture();
    struct event_base *base = event_base_new();
    struct http_client *c = http_client_new(base, "driftd-test");
    CHECK(base != NULL && c != NULL);

    /* A request and its answer; a warm-up for what follows too. */
    struct answer a = post(base, c, port, "/echo", "hello");
    CHECKF(a.status == 200 && strcmp(a.body, "hello") == 0, "status %ld body %s", a.status, a.body);
    CHECK(http_client_errors(c) == 0 && tl_log_count(LOG_ERR) == 0);

    /* A large body: curl polls for writing, then for reading, on one
     * socket. Its event is re-assigned, never freed and made again. */
    size_t big = 4 << 20;
    char *body = malloc(big + 1);
    CHECK(body != NULL);
    if (body != NULL) {
        memset(body, 'x', big);
        body[big] = '\0';
        unsigned long before = ev_allocs;
        a = post(base, c, port, "/echo", body);
        CHECKF(a.status == 200, "status %ld", a.status);
        CHECKF(ev_allocs == before, "%lu libevent allocations for one transfer, want 0",
               ev_allocs - before);
        free(body);
    }

    /* Retry-After comes through with the answer. */
    a = post(base, c, port, "/slow", "x");
    CHECKF(a.status == 503 && a.retry_after == 7, "status %ld retry_after %g", a.status,
           a.retry_after);

    /* curl_multi_socket_action failing: counted each time, logged once a
     * minute, and the transfer still completes. */
    http_client_test_inject(CURLM_BAD_SOCKET, 3);
    a = post(base, c, port, "/echo", "again");
    CHECKF(a.status == 200 && strcmp(a.body, "again") == 0, "status %ld body %s", a.status, a.body);
    CHECKF(http_client_errors(c) == 3, "%llu errors counted, want 3",
           (unsigned long long)http_client_errors(c));
    CHECKF(tl_log_count(LOG_ERR) == 1, "%zu error lines, want 1 (rate limit)",
           tl_log_count(LOG_ERR));
    CHECKF(strstr(tl_log_last(LOG_ERR), "curl_multi_socket_action") != NULL, "logged: %s",
           tl_log_last(LOG_ERR));
    http_client_test_inject(0, 0);

    /* Bodies: the default keeps 64 KiB and completes; a limit above the
     * size takes it all; a limit below aborts, whether the size is
     * announced (Content-Length) or only seen arriving (chunked). */
    a = get(base, c, port, "/big", 0);
    CHECKF(a.status == 200 && a.body_len == 65536 && !a.too_large && !a.error[0],
           "default: status %ld, %zu bytes, too_large %d, error %s", a.status, a.body_len,
           a.too_large, a.error);
    a = get(base, c, port, "/big", 100000);
    CHECKF(a.status == 200 && a.body_len == 100000 && !a.too_large,
           "limit = size: status %ld, %zu bytes", a.status, a.body_len);
    a = get(base, c, port, "/big", 99999);
    CHECKF(a.too_large && a.status == 200 && a.body_len == 0 &&
               strcmp(a.error, "response body larger than 99999 bytes") == 0,
           "announced: too_large %d, status %ld, %zu bytes, error %s", a.too_large, a.status,
           a.body_len, a.error);
    a = get(base, c, port, "/big-chunked", 100000);
    CHECKF(a.status == 200 && a.body_len == 100000 && !a.too_large,
           "chunked, limit = size: status %ld, %zu bytes", a.status, a.body_len);
    a = get(base, c, port, "/big-chunked", 25000);
    CHECKF(a.too_large && a.body_len <= 25000 &&
               strcmp(a.error, "response body larger than 25000 bytes") == 0,
           "chunked: too_large %d, %zu bytes, error %s", a.too_large, a.body_len, a.error);

    /* A redirect is handed back, with its whole Location, not followed
     * (the target, port 1, would refuse the connection). */
    a = get(base, c, port, "/redirect", 0);
    CHECKF(a.status == 302 && strncmp(a.location, "http://127.0.0.1:1/blob?sig=sss", 31) == 0 &&
               strlen(a.location) == 28 + 1000,
           "redirect: status %ld location %.40s... (%zu bytes)", a.status, a.location,
           strlen(a.location));
    a = get(base, c, port, "/echo", 0);
    CHECKF(a.status == 200 && !a.location[0], "no Location: %s", a.location);

    /* A request started from a done callback runs without another event
     * to kick it: the loop would otherwise run out of events (returns 1)
     * with the second request never sent. */
    struct chain ch = {.c = c};
    snprintf(ch.url, sizeof(ch.url), "http://127.0.0.1:%d/echo", port);
    struct http_request first = {"GET", ch.url, NULL, 0, NULL, 0, 5, NULL, 0};
    CHECK(http_client_send(c, &first, on_first, &ch) == 0);
    while (!ch.second.done && event_base_loop(base, EVLOOP_ONCE) == 0)
        ;
    CHECKF(ch.first_done && ch.second.done && ch.second.status == 200,
           "chained request: first %d, second done %d status %ld", ch.first_done, ch.second.done,
           ch.second.status);

    /* http_client_cancel: the callback of a cancelled transfer never runs */
    struct answer cancelled = {0};
    CHECK(http_client_send(c, &first, on_done, &cancelled) == 0);
    http_client_cancel(c, &cancelled);
    a = get(base, c, port, "/echo", 0);
    CHECK(a.status == 200 && !cancelled.done);

    http_client_free(c);
    event_base_free(base);
    tl_log_stop();
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return tl_done();
}
