/*
 * The HTTP server's connections below evhttp: cap, head deadline, and a
 * look at each request's head before its body (see http_conn.h).
 *
 * The filter follows the request framing evhttp 2.1 uses, so that both
 * agree where a body ends and the next request begins: lines end in LF
 * or CRLF; a body is "Transfer-Encoding: chunked" (exactly) or
 * Content-Length bytes (the first such header, decimal); HEAD and TRACE
 * requests have none. A head the filter cannot frame (too long, a bad
 * length) goes to evhttp as it is, which refuses it, and the rest of the
 * connection is dropped.
 */
#include "agent/http_conn.h"

#include "lib/log.h"
#include "lib/sbuf.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define HEAD_MAX (64 * 1024) /* evhttp's max_headers_size, set by http.c */
#define LINE_MAX_CHUNK 1024  /* a chunk-size or trailer line */

enum cstate {
    S_HEAD,       /* a request's head */
    S_BODY,       /* Content-Length bytes to go */
    S_CHUNK_SIZE, /* a chunk-size line (or the CRLF after a chunk's data) */
    S_CHUNK_DATA, /* chunk bytes to go */
    S_TRAILER,    /* trailer lines after the last chunk */
    S_REFUSED     /* answered here: everything from now on is dropped */
};

struct conn {
    struct http_conns *hc; /* NULL once the server is gone */
    struct bufferevent *bev;
    struct evbuffer_cb_entry *watch;
    struct conn *prev, *next;
    enum cstate state;
    char *line;    /* the head (or chunk line) so far, HEAD_MAX + 1 bytes */
    size_t len;    /* bytes in line */
    uint64_t left; /* body or chunk bytes to go */
    uint64_t dropped;
    bool busy;    /* inside our own drain: its callback is ours */
    bool closing; /* shut down by us; evhttp has yet to see it */
    struct event *deadline, *attach;
};

struct http_conns {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener;
    struct http_conns_conf conf;
    http_head_check check;
    void *arg;
    struct conn *oldest, *newest;
    struct http_conns_stats st;
    bool at_cap, out_of_fds;
    double backoff;
    struct event *resume;
    struct log_limit log_cap, log_fds, log_head;
};

/* The listener's error callback gets the evhttp, not us: one server per
 * process is all driftd runs, and the fuzz targets run none. */
static struct http_conns *the_conns;

size_t http_conns_default_max(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 4096;
    if (rl.rlim_cur <= 2 * HTTP_CONNS_FD_RESERVE)
        return (size_t)rl.rlim_cur / 2;
    return (size_t)rl.rlim_cur - HTTP_CONNS_FD_RESERVE;
}

/* Pause or resume accept() as the cap and the descriptors allow. */
static void listener_update(struct http_conns *hc)
{
    bool pause = hc->at_cap || hc->out_of_fds;
    if (hc->listener == NULL || pause == hc->st.paused)
        return;
    if (pause)
        evconnlistener_disable(hc->listener);
    else
        evconnlistener_enable(hc->listener);
    hc->st.paused = pause;
}

/* Nothing in flight: no request begun, no answer being written. */
static bool conn_idle(const struct conn *c)
{
    return c->state == S_HEAD && c->len == 0 &&
           evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/* Make evhttp close a connection: its next read sees the end of the
 * stream and evhttp frees it. */
static void conn_shutdown(struct conn *c)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (fd >= 0)
        shutdown(fd, SHUT_RDWR);
    event_del(c->deadline);
}

/* The connection has header_timeout from now to complete a request head. */
static void arm_deadline(struct conn *c)
{
    double t = c->hc->conf.header_timeout;
    struct timeval tv = {(time_t)t, (suseconds_t)((t - (double)(time_t)t) * 1e6)};
    event_add(c->deadline, &tv);
}

/* The head did not come in time (or a refused client lingers): close. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)fd, (void)what;
    if (c->hc == NULL)
        return;
    if (c->state == S_REFUSED && evbuffer_get_length(bufferevent_get_output(c->bev)) > 0) {
        arm_deadline(c); /* evhttp is still writing an earlier answer */
        return;
    }
    if (c->state != S_REFUSED) {
        c->hc->st.header_timeouts++;
        log_limited(&c->hc->log_head, LOG_NOTICE,
                    "http: a connection sent no complete request head within %g s; closed",
                    c->hc->conf.header_timeout);
    }
    conn_shutdown(c);
}

/* A header's value with surrounding blanks removed, or NULL. */
static char *header_value(char *line, const char *name)
{
    size_t n = strlen(name);
    if (strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    char *v = line + n + 1, *e;
    while (*v == ' ' || *v == '\t')
        v++;
    e = v + strlen(v);
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = '\0';
    return v;
}

/* Parse a complete head of len bytes (lines end in LF or CRLF) into h.
 * A head this cannot frame exactly as evhttp would is refused (-1, with
 * the reason in *why): a NUL byte (evhttp's C strings would cut a line
 * short and hide, say, a Content-Length behind it), a folded line (evhttp
 * joins it to the previous header, RFC 9112 allows a 400), a request line
 * without method, target and version, or a Content-Length that is not a
 * decimal number. A length past 2^63 is kept as UINT64_MAX: over any
 * max_body_bytes (evhttp would take LLONG_MAX). */
static int parse_head(char *text, size_t len, struct http_head *h, const char **why)
{
    memset(h, 0, sizeof(*h));
    if (memchr(text, '\0', len) != NULL) {
        *why = "a NUL byte in the request head";
        return -1;
    }
    text[len] = '\0';
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    *why = "malformed request line";
    if (line == NULL)
        return -1;
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    char *sp1 = strchr(line, ' ');
    if (sp1 == NULL)
        return -1;
    *sp1 = '\0';
    h->method = line;
    char *target = sp1 + 1, *sp2 = strchr(target, ' ');
    if (sp2 == NULL)
        return -1;
    *sp2 = '\0';
    target[strcspn(target, "?#")] = '\0';
    h->path = target;
    const char *length = NULL, *te = NULL;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        n = strlen(line);
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = '\0';
        if (n == 0)
            continue; /* the end */
        if (line[0] == ' ' || line[0] == '\t') {
            *why = "a folded header line (obsolete line folding)";
            return -1;
        }
        char *v;
        if (length == NULL && (v = header_value(line, "Content-Length")) != NULL)
            length = v;
        else if (te == NULL && (v = header_value(line, "Transfer-Encoding")) != NULL)
            te = v;
        else if (h->content_type == NULL && (v = header_value(line, "Content-Type")) != NULL)
            h->content_type = v;
        else if (h->authorization == NULL && (v = header_value(line, "Authorization")) != NULL)
            h->authorization = v;
        else if ((v = header_value(line, "Expect")) != NULL)
            h->expect_continue = strcasecmp(v, "100-continue") == 0;
    }
    h->chunked = te != NULL && strcasecmp(te, "chunked") == 0;
    if (!h->chunked && length != NULL) {
        char *end;
        errno = 0;
        long long v = strtoll(length, &end, 10);
        if (*length == '\0' || *end != '\0' || v < 0) {
            *why = "Content-Length is not a decimal number";
            return -1;
        }
        h->has_length = true;
        h->length = errno == ERANGE ? UINT64_MAX : (uint64_t)v;
    }
    /* HEAD and TRACE have no body, whatever their headers say (evhttp) */
    if (strcmp(h->method, "HEAD") == 0 || strcmp(h->method, "TRACE") == 0)
        h->chunked = false, h->has_length = false, h->length = 0;
    return 0;
}

/* Answer a refused request here. The body is not read: the answer goes
 * out at once, the sending side is shut, and what the client still sends
 * is read and dropped (so it sees the answer, not a reset) until it
 * closes, the deadline passes or max_drain bytes came. The first `keep`
 * bytes of in are an earlier request's, pipelined, that evhttp has yet to
 * take: they stay, and the refused one gets no answer of its own (it would
 * overtake evhttp's): the connection closes at the deadline, once evhttp's
 * answer is out. */
static void refuse(struct conn *c, struct evbuffer *in, size_t keep, int status,
                   const struct http_refusal *r)
{
    struct http_conns *hc = c->hc;
    struct sbuf body, s;
    sbuf_init(&body);
    sbuf_init(&s);
    sbuf_adds(&body, "{\"error\": ");
    sbuf_add_json_string(&body, r->message, strlen(r->message));
    sbuf_adds(&body, "}\n");
    sbuf_printf(&s,
                "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n%s%s\r\n",
                status, r->reason, body.len, r->extra_header ? r->extra_header : "",
                r->extra_header ? "\r\n" : "");
    sbuf_add(&s, body.data, body.len);
    hc->st.refused++;
    c->state = S_REFUSED;
    c->dropped = 0;
    c->busy = true;
    struct evbuffer *earlier = keep > 0 ? evbuffer_new() : NULL;
    if (earlier != NULL)
        evbuffer_remove_buffer(in, earlier, keep);
    evbuffer_drain(in, evbuffer_get_length(in)); /* evhttp never sees the rest */
    if (earlier != NULL) {
        evbuffer_add_buffer(in, earlier);
        evbuffer_free(earlier);
    }
    c->busy = false;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (keep > 0) {
        arm_deadline(c);
    } else if (sbuf_failed(&s) || fd < 0) {
        conn_shutdown(c);
    } else if (evbuffer_get_length(out) > 0) {
        /* evhttp is writing an answer to an earlier request of this
         * connection: ours follows it */
        evbuffer_add(out, s.data, s.len);
        arm_deadline(c);
    } else {
        ssize_t w = send(fd, s.data, s.len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w == (ssize_t)s.len) {
            shutdown(fd, SHUT_WR);
            arm_deadline(c);
        } else {
            conn_shutdown(c);
        }
    }
    sbuf_free(&body);
    sbuf_free(&s);
}

/* A complete head is in c->line, and ends at offset end of in: decide,
 * and set the state for its body. */
static void head_done(struct conn *c, struct evbuffer *in, size_t end)
{
    struct http_conns *hc = c->hc;
    struct http_head h;
    struct http_refusal r = {"Bad Request", NULL, ""};
    event_del(c->deadline);
    c->line[c->len] = '\0';
    /* what of in comes before the head (a part evhttp took is not in it) */
    size_t keep = end > c->len ? end - c->len : 0;
    size_t hlen = c->len;
    c->len = 0;
    hc->st.requests++;
    const char *why;
    if (parse_head(c->line, hlen, &h, &why) != 0) {
        snprintf(r.message, sizeof(r.message), "%s", why);
        refuse(c, in, keep, 400, &r);
        return;
    }
    int status = hc->check(hc->arg, &h, &r);
    if (status != 0) {
        refuse(c, in, keep, status, &r);
        return;
    }
    if (h.chunked)
        c->state = S_CHUNK_SIZE;
    else if (h.has_length && h.length > 0)
        c->state = S_BODY, c->left = h.length;
    else
        c->state = S_HEAD;
}

/* The head is longer than evhttp takes: refused here (evhttp counts a
 * head without its line ends, so its limit and ours never meet). */
static void head_too_long(struct conn *c, struct evbuffer *in, size_t end)
{
    struct http_refusal r = {"Request Header Fields Too Large", NULL, ""};
    size_t keep = end > c->len ? end - c->len : 0;
    c->len = 0;
    event_del(c->deadline);
    c->hc->st.requests++;
    snprintf(r.message, sizeof(r.message), "request head over %d bytes", HEAD_MAX);
    refuse(c, in, keep, 431, &r);
}

/* Take a line (or the head, up to its empty line) from p[0..n) into
 * c->line, at most max bytes in all; returns the bytes used, and sets
 * *done when it is complete. */
static size_t take_line(struct conn *c, const char *p, size_t n, bool head, size_t max, bool *done)
{
    size_t i = 0;
    *done = false;
    while (i < n && c->len < max) {
        char ch = p[i++];
        c->line[c->len++] = ch;
        if (ch != '\n')
            continue;
        /* a line ends; a head ends with an empty one (LF or CRLF) */
        size_t k = c->len;
        if (!head || k == 1 || (k == 2 && c->line[0] == '\r') || c->line[k - 2] == '\n' ||
            (k >= 3 && c->line[k - 2] == '\r' && c->line[k - 3] == '\n')) {
            *done = true;
            break;
        }
    }
    return i;
}

/* Give up on a connection whose body cannot be framed (evhttp took its
 * request already): it is closed, and what still comes is dropped. */
static void conn_abandon(struct conn *c)
{
    c->state = S_REFUSED;
    c->dropped = 0;
    conn_shutdown(c);
}

/* A chunk-size or trailer line is complete in c->line (its length is
 * bounded by take_line: LINE_MAX_CHUNK for a size, HEAD_MAX a trailer). */
static void chunk_line_done(struct conn *c)
{
    size_t n = c->len;
    while (n > 0 && (c->line[n - 1] == '\n' || c->line[n - 1] == '\r'))
        n--;
    c->line[n] = '\0';
    c->len = 0;
    if (c->state == S_TRAILER) {
        if (n == 0)
            c->state = S_HEAD;
        return;
    }
    if (n == 0)
        return; /* the CRLF after a chunk's data */
    char *end;
    errno = 0;
    long long size = strtoll(c->line, &end, 16);
    if (end == c->line || (*end != '\0' && *end != ' ') || size < 0 || errno != 0)
        conn_abandon(c); /* evhttp refuses it */
    else if (size == 0)
        c->state = S_TRAILER;
    else
        c->state = S_CHUNK_DATA, c->left = (uint64_t)size;
}

/* Bytes arrived on a connection (they are the last n of in): follow the
 * requests' framing. Body bytes are only counted, never copied. */
static void conn_watch(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    struct conn *c = arg;
    if (info->n_added == 0 || c->busy || c->hc == NULL)
        return;
    size_t n = info->n_added, off = evbuffer_get_length(in) - n;
    if (c->state == S_REFUSED) {
        c->dropped += n;
        c->busy = true;
        evbuffer_drain(in, evbuffer_get_length(in));
        c->busy = false;
        if (c->dropped > c->hc->conf.max_drain)
            conn_shutdown(c);
        return;
    }
    while (n > 0 && c->state != S_REFUSED) {
        if (c->state == S_BODY || c->state == S_CHUNK_DATA) {
            size_t k = n < c->left ? n : (size_t)c->left;
            off += k, n -= k, c->left -= k;
            if (c->left == 0)
                c->state = c->state == S_BODY ? S_HEAD : S_CHUNK_SIZE;
            continue;
        }
        /* a head or a chunk line: copy it out, a piece at a time */
        char buf[4096];
        size_t want = n < sizeof(buf) ? n : sizeof(buf);
        struct evbuffer_ptr pos;
        evbuffer_ptr_set(in, &pos, off, EVBUFFER_PTR_SET);
        ev_ssize_t got = evbuffer_copyout_from(in, &pos, buf, want);
        if (got <= 0)
            break;
        bool head = c->state == S_HEAD, done;
        if (head && c->len == 0 && !event_pending(c->deadline, EV_TIMEOUT, NULL))
            arm_deadline(c);
        size_t max = c->state == S_CHUNK_SIZE ? LINE_MAX_CHUNK : HEAD_MAX;
        size_t used = take_line(c, buf, (size_t)got, head, max, &done);
        off += used, n -= used;
        if (!done) {
            if (c->len < max)
                continue;
            if (head) {
                head_too_long(c, in, off);
                return;
            }
            conn_abandon(c);
            continue; /* the loop ends: dropped from here on */
        }
        if (head) {
            head_done(c, in, off);
            if (c->state == S_REFUSED)
                return; /* what followed the head was dropped */
        } else {
            chunk_line_done(c);
        }
    }
}

/* Take a connection off the count and the list; accept() may resume. */
static void conn_unlink(struct conn *c)
{
    struct http_conns *hc = c->hc;
    if (hc == NULL)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        hc->oldest = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        hc->newest = c->prev;
    hc->st.open--;
    if (hc->at_cap && hc->st.open <= hc->conf.max_connections) {
        hc->at_cap = false;
        listener_update(hc);
    }
    c->hc = NULL;
}

/* Free our record of a connection (not the bufferevent: evhttp's). */
static void conn_free(struct conn *c)
{
    conn_unlink(c);
    if (c->watch != NULL)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->watch);
    event_free(c->deadline);
    event_free(c->attach);
    free(c->line);
    free(c);
}

/* evhttp frees the connection. */
static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    conn_free(arg);
}

/* After accept: evhttp has made its connection around our bufferevent
 * (or given up on it); ask to be told when it frees it. */
static void conn_attach(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    struct bufferevent *bev = c->bev;
    void *evcon = NULL;
    (void)fd, (void)what;
    bufferevent_getcb(bev, NULL, NULL, NULL, &evcon);
    if (evcon == NULL) {
        conn_free(c); /* freed already: bufferevent_free clears the callbacks */
    } else {
        evhttp_connection_set_closecb(evcon, conn_closed, c);
    }
    bufferevent_decref(bev);
}

/* evhttp's bufferevent for a new connection: it reads up to 1 MiB per
 * read(2) (a 1 MiB body in 4 KiB reads cost most of the loop's time), and
 * its input is watched. */
static struct bufferevent *conn_new(struct event_base *base, void *arg)
{
    struct http_conns *hc = arg;
    struct conn *c = calloc(1, sizeof(*c));
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (c == NULL || bev == NULL || (c->line = malloc(HEAD_MAX + 1)) == NULL ||
        (c->deadline = evtimer_new(base, on_deadline, c)) == NULL ||
        (c->attach = evtimer_new(base, conn_attach, c)) == NULL ||
        (c->watch = evbuffer_add_cb(bufferevent_get_input(bev), conn_watch, c)) == NULL) {
        if (c != NULL) {
            if (c->deadline)
                event_free(c->deadline);
            if (c->attach)
                event_free(c->attach);
            free(c->line);
            free(c);
        }
        if (bev != NULL)
            bufferevent_free(bev);
        return NULL; /* evhttp makes a plain bufferevent of its own */
    }
    bufferevent_set_max_single_read(bev, 1 << 20);
    c->bev = bev;
    c->hc = hc;
    c->prev = hc->newest;
    if (hc->newest)
        hc->newest->next = c;
    else
        hc->oldest = c;
    hc->newest = c;
    hc->st.open++;
    hc->st.accepted++;
    bufferevent_incref(bev); /* until conn_attach has looked */
    struct timeval now = {0, 0};
    event_add(c->attach, &now);
    arm_deadline(c);
    hc->backoff = 0;
    if (hc->st.open >= hc->conf.max_connections) {
        /* Make room: the oldest connection with nothing in flight goes.
         * Until one has gone, accept() waits: an evicted connection holds
         * its descriptor until evhttp sees it closed. */
        struct conn *o = hc->oldest;
        while (o != NULL && (o == c || o->closing || !conn_idle(o)))
            o = o->next;
        if (o != NULL) {
            hc->st.evicted++;
            o->closing = true;
            conn_shutdown(o);
        }
        hc->at_cap = true;
        listener_update(hc);
        log_limited(&hc->log_cap, LOG_WARNING,
                    "http: %zu connections open, at listen_max_connections (%zu): %s",
                    (size_t)hc->st.open, hc->conf.max_connections,
                    o != NULL ? "closing the oldest idle one"
                              : "not accepting more until one closes");
    }
    return bev;
}

/* The back-off after EMFILE is over: try accept() again. */
static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct http_conns *hc = arg;
    (void)fd, (void)what;
    hc->out_of_fds = false;
    listener_update(hc);
}

/* accept() failed. Out of descriptors, the pending connection stays in the
 * backlog and the listener would be called again at once, forever: pause
 * it for a while instead (tmux's server_accept does the same). */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    struct http_conns *hc = the_conns;
    int err = EVUTIL_SOCKET_ERROR();
    (void)lev, (void)arg;
    if (hc == NULL)
        return;
    hc->st.accept_errors++;
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return; /* the client gave up (ECONNABORTED ...): nothing to wait for */
    hc->backoff = hc->backoff > 0 ? (hc->backoff * 2 > 1.0 ? 1.0 : hc->backoff * 2) : 0.05;
    log_limited(&hc->log_fds, LOG_ERR,
                "http: accept: %s; not accepting connections for %g s "
                "(%zu open, listen_max_connections %zu)",
                strerror(err), hc->backoff, (size_t)hc->st.open, hc->conf.max_connections);
    hc->out_of_fds = true;
    listener_update(hc);
    struct timeval tv = {0, (suseconds_t)(hc->backoff * 1e6)};
    if (hc->backoff >= 1.0)
        tv.tv_sec = 1, tv.tv_usec = 0;
    event_add(hc->resume, &tv);
}

struct http_conns *http_conns_new(struct event_base *base, struct evhttp *http,
                                  struct evhttp_bound_socket *sock,
                                  const struct http_conns_conf *conf, http_head_check check,
                                  void *arg)
{
    struct http_conns *hc = calloc(1, sizeof(*hc));
    if (hc == NULL)
        return NULL;
    if ((hc->resume = evtimer_new(base, on_resume, hc)) == NULL) {
        free(hc);
        return NULL;
    }
    hc->base = base;
    hc->http = http;
    hc->check = check;
    hc->arg = arg;
    http_conns_configure(hc, conf);
    evhttp_set_bevcb(http, conn_new, hc);
    if (sock != NULL) {
        hc->listener = evhttp_bound_socket_get_listener(sock);
        evconnlistener_set_error_cb(hc->listener, on_accept_error);
    }
    the_conns = hc;
    return hc;
}

void http_conns_configure(struct http_conns *hc, const struct http_conns_conf *conf)
{
    hc->conf = *conf;
    if (hc->conf.max_connections == 0)
        hc->conf.max_connections = http_conns_default_max();
    if (!(hc->conf.header_timeout > 0))
        hc->conf.header_timeout = 10;
    hc->at_cap = hc->st.open >= hc->conf.max_connections;
    listener_update(hc);
}

struct http_conns_stats http_conns_stats(const struct http_conns *hc)
{
    return hc->st;
}

void http_conns_feed(struct http_conns *hc, const char *data, size_t len, size_t piece)
{
    struct bufferevent *bev = conn_new(hc->base, hc);
    if (bev == NULL)
        return;
    struct evbuffer *in = bufferevent_get_input(bev);
    for (size_t off = 0; off < len;) {
        size_t n = piece == 0 || piece > len - off ? len - off : piece;
        evbuffer_add(in, data + off, n);
        /* evhttp takes what it parsed: here, all but a little */
        size_t have = evbuffer_get_length(in);
        if (have > 7)
            evbuffer_drain(in, have - 7);
        off += n;
    }
    bufferevent_free(bev);                      /* as evhttp would */
    event_base_loop(hc->base, EVLOOP_NONBLOCK); /* conn_attach frees ours */
}

size_t http_conns_max(const struct http_conns *hc)
{
    return hc->conf.max_connections;
}

void http_conns_free(struct http_conns *hc)
{
    if (hc == NULL)
        return;
    /* evhttp_free frees the connections after this (and tells us): they
     * must no longer touch hc */
    for (struct conn *c = hc->oldest, *next; c != NULL; c = next) {
        next = c->next;
        c->hc = NULL;
        event_del(c->deadline);
    }
    if (the_conns == hc)
        the_conns = NULL;
    event_free(hc->resume);
    free(hc);
}
