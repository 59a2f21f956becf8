/*
 * libFuzzer target: the framing of requests on a connection (agent/
 * http_conn.c), which reads every byte a client sends before evhttp does:
 * request heads, Content-Length and chunked bodies, trailers, pipelined
 * requests, and the refusal of a request from its head (its body then
 * dropped). The first byte picks the piece size the bytes arrive in
 * (0: at once); the check refuses POSTs without an Authorization header
 * and anything over 1000 bytes declared, as the daemon's would.
 * Checks: no crash, no sanitizer report; every head the check sees has a
 * method and a path; the connection is freed whole.
 */
#include "agent/http_conn.h"
#include "lib/log.h"

#include "fuzz_check.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct event_base *base;
static struct evhttp *http;
static struct http_conns *hc;

static int check(void *arg, const struct http_head *h, struct http_refusal *r)
{
    (void)arg;
    FUZZ_CHECK(h->method != NULL && h->path != NULL);
    if (h->has_length && h->length > 1000) {
        r->reason = "Payload Too Large";
        strcpy(r->message, "too large");
        return 413;
    }
    if (strcmp(h->method, "POST") == 0 && h->authorization == NULL) {
        r->reason = "Unauthorized";
        r->extra_header = "WWW-Authenticate: Bearer";
        strcpy(r->message, "no token");
        return 401;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (hc == NULL) {
        log_set_level(LOG_ERR);
        FUZZ_CHECK((base = event_base_new()) != NULL);
        FUZZ_CHECK((http = evhttp_new(base)) != NULL);
        struct http_conns_conf conf = {16, 10, 4096};
        FUZZ_CHECK((hc = http_conns_new(base, http, NULL, &conf, check, NULL)) != NULL);
    }
    if (size < 1)
        return 0;
    http_conns_feed(hc, (const char *)data + 1, size - 1, data[0] % 64);
    FUZZ_CHECK(http_conns_stats(hc).open == 0);
    return 0;
}
