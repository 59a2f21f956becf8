/*
 * Outbound HTTP on the event loop: one libcurl multi handle driven by
 * libevent (curl's hiperfifo.c pattern). Nothing blocks the loop; each
 * finished transfer calls its callback from the loop, never from inside a
 * libcurl callback.
 */
#ifndef DRIFTD_ALERTS_HTTP_CLIENT_H
#define DRIFTD_ALERTS_HTTP_CLIENT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_header {
    const char *name, *value;
};

struct http_request {
    const char *method; /* "GET", "POST" */
    const char *url;
    const struct http_header *headers;
    size_t n_headers;
    const char *body; /* copied */
    size_t body_len;
    double timeout;      /* seconds */
    const char *ca_file; /* NULL: the system's CAs */
    /* 0: keep the first 64 KiB of the body and drop the rest (the
     * transfer completes). Else the most body bytes accepted: a larger
     * Content-Length, or more bytes than that arriving, abort the transfer
     * and the answer has too_large set. */
    size_t max_body;
};

struct http_response {
    long status;       /* 0 when no HTTP answer (network error) */
    const char *error; /* curl's message when status is 0 */
    const char *body;  /* at most 64 KiB kept, or the request's max_body */
    size_t body_len;
    double retry_after;       /* seconds from now, NAN when absent */
    long ratelimit_remaining; /* -1 when absent */
    double ratelimit_reset;   /* epoch seconds, NAN when absent */
    /* The body passed the request's max_body: the transfer was aborted,
     * status is what the server answered (0 if it had not yet), error says
     * so, and body holds what came before the limit. */
    bool too_large;
    /* The Location header of the answer, or NULL. Redirects are never
     * followed: a caller that wants the target sends a fresh request, with
     * the headers it chooses (an Authorization header must not travel to
     * another origin). */
    const char *location;
};

typedef void (*http_done_fn)(void *arg, const struct http_response *res);

struct http_client;

/* A client on base; NULL on failure. Free it before the event base. */
struct http_client *http_client_new(struct event_base *base, const char *user_agent);
void http_client_free(struct http_client *c);

/* Start a request; done runs later from the loop. Returns 0 or -1. */
int http_client_send(struct http_client *c, const struct http_request *req, http_done_fn done,
                     void *arg);

/* Abandon every transfer in flight that was started with this arg; their
 * callbacks are not called. For an owner freed while it waits for an
 * answer. */
void http_client_cancel(struct http_client *c, const void *arg);

/* Failures of the glue between curl and the event loop since the client
 * was made: curl_multi_socket_action errors, sockets or the timer that
 * could not be watched. Each is also logged (at most one line a minute). */
uint64_t http_client_errors(const struct http_client *c);

/* Tests only: the next n calls of curl_multi_socket_action (for every
 * client) do their work, then report code (a CURLMcode) as if they failed. */
void http_client_test_inject(int code, unsigned n);

/* Parse a Retry-After value (seconds or an HTTP date) relative to now. */
double http_parse_retry_after(const char *v, double now);

#endif
