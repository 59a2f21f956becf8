/*
 * libcurl multi on libevent, after curl's docs/examples/hiperfifo.c:
 * CURLMOPT_SOCKETFUNCTION maps curl's sockets to events,
 * CURLMOPT_TIMERFUNCTION to one timer; readiness and timeouts call
 * curl_multi_socket_action, and finished transfers are collected with
 * curl_multi_info_read after it returns (not inside curl's callbacks).
 */
#include "alerts/http_client.h"

#include "alerts/curl_dl.h"
#include "lib/log.h"

#include <curl/curl.h>
#include <event2/event_struct.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_BODY (64 * 1024)

struct http_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    char *user_agent;
    size_t active;
    bool in_check;            /* collecting finished transfers */
    struct transfer *running; /* every transfer added, for http_client_free */
    /* curl_multi_socket_action and event registration failures: counted,
     * logged at most once a minute */
    uint64_t errors;
    struct log_limit error_log;
};

/* One per socket curl watches: its event is assigned once and re-assigned
 * in place when curl changes what it polls for (hiperfifo's setsock). */
struct sockinfo {
    struct event ev;
};

/* Tests only: the next `inject_left` calls of curl_multi_socket_action
 * report inject_code after doing their work. */
static CURLMcode inject_code;
static unsigned inject_left;

void http_client_test_inject(int code, unsigned n)
{
    inject_code = (CURLMcode)code;
    inject_left = n;
}

/* curl_multi_socket_action, or the error a test asked for. */
static CURLMcode socket_action(CURLM *multi, curl_socket_t s, int action, int *running)
{
    CURLMcode rc = curl_multi_socket_action(multi, s, action, running);
    if (rc == CURLM_OK && inject_left > 0) {
        inject_left--;
        rc = inject_code;
    }
    return rc;
}

uint64_t http_client_errors(const struct http_client *c)
{
    return c->errors;
}

static void client_error(struct http_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Count a failure of the curl/libevent glue and log it (rate-limited: a
 * failure on every socket event would otherwise flood the log). */
static void client_error(struct http_client *c, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    c->errors++;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_limited(&c->error_log, LOG_ERR, "http client: %s (%llu errors so far)", msg,
                (unsigned long long)c->errors);
}

/* Check what curl_multi_socket_action returned: an error is counted and
 * logged; the transfers go on (hiperfifo ignores CURLM_BAD_SOCKET, a
 * socket curl already forgot, and stops on the rest; a daemon cannot). */
static void check_action(struct http_client *c, const char *where, CURLMcode rc)
{
    if (rc != CURLM_OK)
        client_error(c, "curl_multi_socket_action (%s): %s", where, curl_multi_strerror(rc));
}

struct transfer {
    struct http_client *c;
    CURL *easy;
    struct curl_slist *headers;
    char *body;
    char err[CURL_ERROR_SIZE];
    char *resp;
    size_t resp_len, resp_cap;
    size_t max_body; /* the request's, or MAX_BODY */
    bool abort_big;  /* abort past max_body (else drop the rest) */
    bool too_large;
    char *location;
    double retry_after;
    long rl_remaining;
    double rl_reset;
    http_done_fn done;
    void *arg;
    struct transfer *prev, *next; /* in c->running */
};

static void transfer_unlink(struct transfer *t)
{
    if (t->prev != NULL)
        t->prev->next = t->next;
    else
        t->c->running = t->next;
    if (t->next != NULL)
        t->next->prev = t->prev;
    t->prev = t->next = NULL;
}

static void transfer_free(struct transfer *t)
{
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    free(t->body);
    free(t->resp);
    free(t->location);
    free(t);
}

static void check_multi_info(struct http_client *c)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode rc = msg->data.result;
        struct transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        long status = 0;
        if (rc == CURLE_FILESIZE_EXCEEDED)
            t->too_large = true; /* Content-Length over CURLOPT_MAXFILESIZE */
        if (rc == CURLE_OK || t->too_large)
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        char big[96];
        if (t->too_large)
            snprintf(big, sizeof(big), "response body larger than %zu bytes", t->max_body);
        curl_multi_remove_handle(c->multi, easy);
        c->active--;
        transfer_unlink(t);
        struct http_response res = {
            .status = status,
            .error = t->too_large     ? big
                     : rc == CURLE_OK ? NULL
                                      : (t->err[0] ? t->err : curl_easy_strerror(rc)),
            .body = t->resp ? t->resp : "",
            .body_len = t->resp_len,
            .retry_after = t->retry_after,
            .ratelimit_remaining = t->rl_remaining,
            .ratelimit_reset = t->rl_reset,
            .too_large = t->too_large,
            .location = t->location,
        };
        if (t->done != NULL)
            t->done(t->arg, &res);
        transfer_free(t);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct http_client *c = arg;
    int running = 0;
    (void)fd, (void)what;
    check_action(c, "timeout", socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running));
    check_multi_info(c);
}

static void on_socket(evutil_socket_t fd, short what, void *arg)
{
    struct http_client *c = arg;
    int action =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 1;
    check_action(c, "socket", socket_action(c->multi, fd, action, &running));
    check_multi_info(c);
    /* Nothing left to run: drop curl's timer. Not when a done callback
     * has just started a transfer (the next step of a fetch): `running`
     * was counted before it, and its timer is what starts it. */
    if (running <= 0 && c->active == 0 && evtimer_pending(c->timer, NULL))
        evtimer_del(c->timer);
}

/* CURLMOPT_TIMERFUNCTION: only arm or disarm our timer. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct http_client *c = userp;
    (void)multi;
    if (timeout_ms < 0) {
        evtimer_del(c->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    if (evtimer_add(c->timer, &tv) != 0) {
        client_error(c, "cannot arm the timer of %ld ms", timeout_ms);
        return -1;
    }
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: only (re)register the socket's one event. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct http_client *c = userp;
    struct sockinfo *si = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (si != NULL) {
            event_del(&si->ev);
            free(si);
        }
        curl_multi_assign(c->multi, s, NULL);
        return 0;
    }
    short kind = (short)(((what & CURL_POLL_IN) ? EV_READ : 0) |
                         ((what & CURL_POLL_OUT) ? EV_WRITE : 0) | EV_PERSIST);
    if (si == NULL) {
        if ((si = calloc(1, sizeof(*si))) == NULL) {
            client_error(c, "socket %d: out of memory", (int)s);
            return -1;
        }
        if (curl_multi_assign(c->multi, s, si) != CURLM_OK) {
            client_error(c, "socket %d: curl_multi_assign failed", (int)s);
            free(si);
            return -1;
        }
    } else {
        event_del(&si->ev); /* assigned before: change it in place */
    }
    if (event_assign(&si->ev, c->base, s, kind, on_socket, c) != 0 ||
        event_add(&si->ev, NULL) != 0) {
        client_error(c, "socket %d: cannot watch it", (int)s);
        return -1;
    }
    return 0;
}

/* Keep the body up to the transfer's limit: past it, either drop the
 * rest (callers that only read an error message) or abort (callers that
 * asked for a limit: a body cut short is no use to them, and a hostile
 * server could otherwise keep us reading forever). */
static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct transfer *t = userdata;
    size_t n = size * nmemb, keep = n;
    if (keep > t->max_body - t->resp_len) {
        if (t->abort_big) {
            t->too_large = true;
            return 0; /* CURLE_WRITE_ERROR ends the transfer */
        }
        keep = t->max_body - t->resp_len;
    }
    if (keep > 0) {
        if (t->resp_len + keep + 1 > t->resp_cap) {
            /* doubling: a body of megabytes in 16 KiB pieces */
            size_t cap = t->resp_cap ? t->resp_cap : 4096;
            while (cap < t->resp_len + keep + 1)
                cap *= 2;
            char *p = realloc(t->resp, cap);
            if (p == NULL)
                return t->abort_big ? 0 : n; /* drop the rest, finish the transfer */
            t->resp = p;
            t->resp_cap = cap;
        }
        memcpy(t->resp + t->resp_len, ptr, keep);
        t->resp_len += keep;
        t->resp[t->resp_len] = '\0';
    }
    return n;
}

static double now_real(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double http_parse_retry_after(const char *v, double now)
{
    while (*v == ' ')
        v++;
    char *end;
    double s = strtod(v, &end);
    if (end != v && (*end == '\0' || *end == '\r' || *end == ' ') && s >= 0)
        return s;
    time_t t = curl_getdate(v, NULL);
    if (t < 0)
        return NAN;
    double d = (double)t - now;
    return d > 0 ? d : 0;
}

/* Keep the Location of a redirect: read from curl's buffer itself, since
 * a storage URL with its signature runs to hundreds of bytes. */
static void keep_location(struct transfer *t, const char *buf, size_t n)
{
    static const char name[] = "location:";
    if (n < sizeof(name) - 1 || strncasecmp(buf, name, sizeof(name) - 1) != 0)
        return;
    const char *v = buf + sizeof(name) - 1, *end = buf + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    free(t->location);
    t->location = strndup(v, (size_t)(end - v));
}

/* Keep the headers retry logic needs: Retry-After and GitHub's rate limit;
 * and Location. */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    struct transfer *t = userdata;
    size_t n = size * nitems;
    keep_location(t, buf, n);
    char line[256];
    size_t l = n < sizeof(line) - 1 ? n : sizeof(line) - 1;
    memcpy(line, buf, l);
    line[l] = '\0';
    char *colon = strchr(line, ':');
    if (colon == NULL)
        return n;
    *colon = '\0';
    char *v = colon + 1;
    v[strcspn(v, "\r\n")] = '\0';
    if (strcasecmp(line, "retry-after") == 0)
        t->retry_after = http_parse_retry_after(v, now_real());
    else if (strcasecmp(line, "x-ratelimit-remaining") == 0)
        t->rl_remaining = strtol(v, NULL, 10);
    else if (strcasecmp(line, "x-ratelimit-reset") == 0)
        t->rl_reset = strtod(v, NULL);
    return n;
}

struct http_client *http_client_new(struct event_base *base, const char *user_agent)
{
    static bool global_init;
    if (!global_init) {
        /* the first call loads libcurl (alerts/curl_dl.h) */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            const char *why = curl_dl_error();
            log_err("http client: %s", why[0] ? why : "curl_global_init failed");
            return NULL;
        }
        global_init = true;
    }
    struct http_client *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->base = base;
    c->multi = curl_multi_init();
    c->timer = evtimer_new(base, on_timer, c);
    c->user_agent = strdup(user_agent);
    c->error_log.every = 60;
    if (c->multi == NULL || c->timer == NULL || c->user_agent == NULL) {
        http_client_free(c);
        return NULL;
    }
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
    return c;
}

void http_client_free(struct http_client *c)
{
    if (c == NULL)
        return;
    /* Abandon transfers in flight; their callbacks are not called. Our own
     * list: curl_multi_get_handles needs libcurl 8.4 (Debian 12 has 7.88). */
    while (c->running != NULL) {
        struct transfer *t = c->running;
        transfer_unlink(t);
        curl_multi_remove_handle(c->multi, t->easy);
        transfer_free(t);
    }
    if (c->multi != NULL)
        curl_multi_cleanup(c->multi);
    if (c->timer != NULL)
        event_free(c->timer);
    free(c->user_agent);
    free(c);
}

void http_client_cancel(struct http_client *c, const void *arg)
{
    struct transfer *t = c->running;
    while (t != NULL) {
        struct transfer *next = t->next;
        if (t->arg == arg) {
            transfer_unlink(t);
            curl_multi_remove_handle(c->multi, t->easy);
            c->active--;
            transfer_free(t);
        }
        t = next;
    }
}

int http_client_send(struct http_client *c, const struct http_request *req, http_done_fn done,
                     void *arg)
{
    struct transfer *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return -1;
    t->c = c;
    t->done = done;
    t->arg = arg;
    t->retry_after = NAN;
    t->rl_remaining = -1;
    t->rl_reset = NAN;
    t->max_body = req->max_body > 0 ? req->max_body : MAX_BODY;
    t->abort_big = req->max_body > 0;
    t->easy = curl_easy_init();
    if (t->easy == NULL) {
        free(t);
        return -1;
    }
    CURL *e = t->easy;
    for (size_t i = 0; i < req->n_headers; i++) {
        char h[4096];
        snprintf(h, sizeof(h), "%s: %s", req->headers[i].name, req->headers[i].value);
        struct curl_slist *l = curl_slist_append(t->headers, h);
        if (l == NULL)
            goto fail;
        t->headers = l;
    }
    /* libcurl adds "Expect: 100-continue" to larger POSTs; receivers here
     * answer at once, and a missing 100 would cost a second of waiting. */
    struct curl_slist *l = curl_slist_append(t->headers, "Expect:");
    if (l == NULL)
        goto fail;
    t->headers = l;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout > 0 ? req->timeout * 1000 : 10000));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->err);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    /* Redirects stay with the caller (the default, said here because it
     * matters): following one would carry our headers to another origin. */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    if (t->abort_big)
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
    if (req->ca_file != NULL)
        curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
    if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else {
        t->body = malloc(req->body_len + 1);
        if (t->body == NULL)
            goto fail;
        memcpy(t->body, req->body, req->body_len);
        t->body[req->body_len] = '\0';
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK)
        goto fail;
    c->active++;
    t->next = c->running;
    if (c->running != NULL)
        c->running->prev = t;
    c->running = t;
    return 0;
fail:
    curl_easy_cleanup(e);
    curl_slist_free_all(t->headers);
    free(t->body);
    free(t);
    return -1;
}
