/*
 * The HTTP server's connections, below evhttp (tmux's server.c and nginx's
 * connection limits are the models). evhttp 2.1 reads a whole request body
 * before its callback sees the request, and it has neither a connection cap
 * nor a deadline for a request's head. So each connection's input buffer
 * is watched as bytes arrive, before evhttp parses them:
 *   - connections count against a cap: at the cap the oldest idle one is
 *     closed to make room, or accept() pauses until one closes;
 *   - a connection whose request head is not complete within a deadline is
 *     closed (a slowloris client keeps no file descriptor for long);
 *   - each request's head is shown to a check: a request it refuses (401,
 *     413, 415 ...) is answered here, at once, and its body is dropped as
 *     it arrives (never held), up to a bound; the connection then closes.
 * accept() failing for lack of file descriptors pauses the listener with a
 * back-off timer instead of spinning.
 * (A bufferevent filter would be the obvious tool, but in libevent 2.1 a
 * filter does not flush output queued while writing was disabled, which is
 * how evhttp writes every response.)
 */
#ifndef DRIFTD_AGENT_HTTP_CONN_H
#define DRIFTD_AGENT_HTTP_CONN_H

#include <event2/event.h>
#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a check sees of a request's head. Strings are NUL-terminated and
 * live until the check returns; absent headers are NULL. */
struct http_head {
    const char *method, *path; /* path: the request target before '?' or '#' */
    const char *content_type, *authorization;
    bool chunked;         /* Transfer-Encoding: chunked */
    bool has_length;      /* Content-Length present and valid */
    uint64_t length;      /* its value */
    bool expect_continue; /* the client waits for 100 Continue before the body */
};

/* How a refused request is answered. */
struct http_refusal {
    const char *reason;       /* "Unauthorized" */
    const char *extra_header; /* a whole header line without CRLF, or NULL */
    char message[192];        /* for {"error": message} */
};

/* 0 lets the request through to evhttp; an HTTP status refuses it, with
 * *r filled in. */
typedef int (*http_head_check)(void *arg, const struct http_head *h, struct http_refusal *r);

struct http_conns_conf {
    size_t max_connections;
    double header_timeout; /* seconds for a request's head */
    uint64_t max_drain;    /* body bytes of a refused request read and dropped
                            * before answering; a larger body is answered at
                            * once */
};

struct http_conns_stats {
    uint64_t open, accepted, requests, refused, header_timeouts, evicted, accept_errors;
    bool paused; /* accept() is paused (at the cap, or out of descriptors) */
};

struct http_conns;

/* Connections of the server http bound to sock: installs its bufferevent
 * callback and the listener's error callback. NULL on out of memory. */
struct http_conns *http_conns_new(struct event_base *base, struct evhttp *http,
                                  struct evhttp_bound_socket *sock,
                                  const struct http_conns_conf *conf, http_head_check check,
                                  void *arg);
/* New limits (reload); open connections keep theirs until their next head. */
void http_conns_configure(struct http_conns *hc, const struct http_conns_conf *conf);
struct http_conns_stats http_conns_stats(const struct http_conns *hc);
/* The cap in force. */
size_t http_conns_max(const struct http_conns *hc);
/* For the fuzz target: data arriving on a new connection in pieces of
 * `piece` bytes (0: at once), through the framing and the check, with no
 * socket and no evhttp behind; the connection is then freed. */
void http_conns_feed(struct http_conns *hc, const char *data, size_t len, size_t piece);
/* Before evhttp_free: the connections stop calling back. */
void http_conns_free(struct http_conns *hc);

/* The default cap: the soft RLIMIT_NOFILE less the descriptors kept for
 * everything else (spool, state, outbound connections, inputs). */
size_t http_conns_default_max(void);
/* Descriptors kept out of the cap for files and outbound connections. */
#define HTTP_CONNS_FD_RESERVE 64

#endif
