/*
 * The HTTP API on evhttp: status, metrics, health, evaluate, reload, and
 * the door of the http source (POST /v1/ingest). It is started by the
 * command above the daemon and reads the daemon through its functions,
 * status and metrics from one snapshot. Every answer is complete before
 * the callback returns; nothing here blocks the loop beyond parsing the
 * request body.
 */
#include "agent/api.h"

#include "agent/http_conn.h"
#include "agent/in_http.h"
#include "agent/live.h"
#include "alerts/retrain.h"
#include "lib/file.h"
#include "lib/log.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct api {
    struct daemon *d;
    struct source *ingest; /* the http source, or NULL */
    struct evhttp *http;
    struct evhttp_bound_socket *sock;
    struct http_conns *conns; /* cap, head deadline, early refusals */
    char listen_addr[128];    /* as bound: host:port */
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *ctype,
                  const char *body, size_t len)
{
    struct evbuffer *b = evbuffer_new();
    if (b == NULL) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
    evbuffer_add(b, body, len);
    evhttp_send_reply(req, code, reason, b);
    evbuffer_free(b);
}

/* {"error": "..."} with a status. */
static void reply_error(struct evhttp_request *req, int code, const char *reason, const char *msg)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_adds(&s, "{\"error\": ");
    sbuf_add_json_string(&s, msg, strlen(msg));
    sbuf_adds(&s, "}\n");
    reply(req, code, reason, "application/json", s.data ? s.data : "{}", s.len);
    sbuf_free(&s);
}

static void reply_json(struct evhttp_request *req, int code, const char *reason, struct sbuf *s)
{
    if (sbuf_failed(s)) {
        reply_error(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    reply(req, code, reason, "application/json", s->data, s->len);
}

/* Constant-time comparison, so the token cannot be guessed byte by byte. */
static bool same_secret(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char diff = (unsigned char)(alen != blen);
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)(a[i] ^ b[i % (blen ? blen : 1)]);
    return diff == 0;
}

/* Whether an Authorization header's value carries the ingest token (any
 * value does when no token is set). */
static bool token_ok(const struct api *a, const char *h)
{
    const char *token = daemon_token(a->d);
    if (token == NULL)
        return true;
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    const char *t = h + 7;
    while (*t == ' ')
        t++;
    return same_secret(t, strlen(t), token);
}

/* 401 with the challenge RFC 6750 asks for. */
static void reply_unauthorized(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                      "Bearer realm=\"driftd\"");
    reply_error(req, 401, "Unauthorized", "missing or invalid bearer token");
}

/* Bearer-token check of a POST; answers 401 and returns false when it fails. */
static bool authorized(struct api *a, struct evhttp_request *req)
{
    if (token_ok(a, evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization")))
        return true;
    reply_unauthorized(req);
    return false;
}

/* The CSV separator a request's ?delimiter= chooses (0 when it names
 * none); -1 for a value that is no separator. A Content-Type parameter
 * would not be standard for text/csv (RFC 4180 has none), hence a query. */
static int query_delimiter(struct evhttp_request *req, char *out)
{
    *out = 0;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
    if (q == NULL)
        return 0;
    struct evkeyvalq params;
    if (evhttp_parse_query_str(q, &params) != 0)
        return -1;
    const char *v = evhttp_find_header(&params, "delimiter");
    int rc = 0;
    if (v != NULL) {
        int i = config_delimiter_index(v);
        if (i < 0)
            rc = -1;
        else
            *out = config_delimiter(i);
    }
    evhttp_clear_headers(&params);
    return rc;
}

static void handle_ingest(struct api *a, struct evhttp_request *req)
{
    if (a->ingest == NULL) {
        reply_error(req, 404, "Not Found", "no http input is configured");
        return;
    }
    if (!authorized(a, req))
        return;
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
    enum body_kind kind = in_http_body_kind(ct);
    if (kind == BODY_UNKNOWN) {
        reply_error(req, 415, "Unsupported Media Type", IN_HTTP_UNSUPPORTED_TYPE);
        return;
    }
    char delimiter;
    if (query_delimiter(req, &delimiter) != 0) {
        reply_error(req, 400, "Bad Request",
                    "delimiter: one of , ; tab pipe : (URL-encoded: %2C %3B tab pipe %3A)");
        return;
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0) {
        reply_error(req, 400, "Bad Request", "empty body");
        return;
    }
    /* The readers take the body as the buffer holds it, in pieces: no
     * copy into one block (a 1 MiB memmove per request in the profile).
     * Except a JSON body, which cJSON parses whole, and validate: sampled,
     * where a line cut between pieces would have to be parsed. */
    struct evbuffer_iovec one, *seg = &one;
    int nseg = 1;
    if (in_http_whole_body(a->ingest, kind)) {
        one.iov_base = evbuffer_pullup(in, -1);
        one.iov_len = len;
        if (one.iov_base == NULL)
            nseg = -1;
    } else if ((nseg = evbuffer_peek(in, -1, NULL, NULL, 0)) > 1) {
        seg = malloc((size_t)nseg * sizeof(*seg));
        nseg = seg == NULL ? -1 : evbuffer_peek(in, -1, NULL, seg, nseg);
    } else {
        nseg = evbuffer_peek(in, -1, NULL, &one, 1);
    }
    struct sbuf s;
    sbuf_init(&s);
    int status = nseg < 0 ? 500 : in_http_ingest(a->ingest, kind, delimiter, seg, (size_t)nseg, &s);
    if (seg != &one)
        free(seg);
    if (status == 500)
        reply_error(req, 500, "Internal Server Error", "out of memory");
    else if (status == 400)
        reply_json(req, 400, "Bad Request", &s);
    else if (status == 422)
        reply_json(req, 422, "Unprocessable Entity", &s);
    else
        reply_json(req, 202, "Accepted", &s);
    sbuf_free(&s);
}

/* The value of a query parameter (copied into out), or false. */
static bool query_param(struct evhttp_request *req, const char *name, char *out, size_t len)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
    struct evkeyvalq params;
    if (q == NULL || evhttp_parse_query_str(q, &params) != 0)
        return false;
    const char *v = evhttp_find_header(&params, name);
    if (v != NULL)
        snprintf(out, len, "%s", v);
    evhttp_clear_headers(&params);
    return v != NULL;
}

static const char *reason_of(int code)
{
    switch (code) {
    case 200:
        return "OK";
    case 202:
        return "Accepted";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 422:
        return "Unprocessable Entity";
    default:
        return "Internal Server Error";
    }
}

/* POST /v1/baseline[?adopt=true], /v1/baseline/adopt, /v1/baseline/rollback:
 * the closed loop's hand controls (docs/api.md). */
static void handle_baseline(struct api *a, struct evhttp_request *req, const char *path)
{
    if (!authorized(a, req))
        return;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len > 0 ? (const char *)evbuffer_pullup(in, -1) : "";
    if (body == NULL) {
        reply_error(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    struct sbuf s;
    sbuf_init(&s);
    int code;
    if (strcmp(path, "/v1/baseline") == 0) {
        char v[16] = "";
        bool adopt = query_param(req, "adopt", v, sizeof(v)) &&
                     (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
        if (v[0] && !adopt && strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
            sbuf_free(&s);
            reply_error(req, 400, "Bad Request", "adopt: true or false");
            return;
        }
        code = daemon_baseline_post(a->d, body, len, adopt, &s);
    } else if (strcmp(path, "/v1/baseline/adopt") == 0) {
        code = daemon_baseline_adopt(a->d, body, len, &s);
    } else {
        code = daemon_baseline_rollback(a->d, &s);
    }
    if (sbuf_failed(&s))
        reply_error(req, 500, "Internal Server Error", "out of memory");
    else
        reply_json(req, code, reason_of(code), &s);
    sbuf_free(&s);
}

/* GET /v1/events?limit=N: the loop's timeline, newest first. */
static void handle_events(struct api *a, struct evhttp_request *req)
{
    char v[32] = "";
    size_t limit = 100;
    if (query_param(req, "limit", v, sizeof(v))) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n == 0 || n > ADOPT_EVENTS_MAX) {
            reply_error(req, 400, "Bad Request", "limit: a number from 1 to 1000");
            return;
        }
        limit = n;
    }
    struct sbuf s;
    sbuf_init(&s);
    daemon_events_json(a->d, limit, &s);
    reply_json(req, 200, "OK", &s);
    sbuf_free(&s);
}

/* The policy of the report page: as its own meta says, nothing loads and
 * nothing runs. */
#define REPORT_CSP "default-src 'none'; style-src 'unsafe-inline'"

/* GET /v1/report/latest (JSON) and /v1/report/latest.html: the last
 * window's report; 404 before the first. */
static void handle_report(struct api *a, struct evhttp_request *req, bool html)
{
    const char *json = daemon_last_json(a->d);
    if (!html) {
        if (json == NULL) {
            reply_error(req, 404, "Not Found", "no window evaluated yet");
            return;
        }
        struct sbuf s;
        sbuf_init(&s);
        sbuf_adds(&s, json);
        sbuf_addc(&s, '\n');
        reply_json(req, 200, "OK", &s);
        sbuf_free(&s);
        return;
    }
    struct sbuf s;
    sbuf_init(&s);
    int rc = daemon_last_html(a->d, false, &s);
    if (rc == 1)
        reply_error(req, 404, "Not Found",
                    json != NULL ? "no window evaluated since the daemon started (the last "
                                   "report, restored from the state, is at /v1/report/latest)"
                                 : "no window evaluated yet");
    else if (rc != 0 || sbuf_failed(&s))
        reply_error(req, 500, "Internal Server Error", "out of memory");
    else {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Security-Policy",
                          REPORT_CSP);
        reply(req, 200, "OK", "text/html; charset=utf-8", s.data, s.len);
    }
    sbuf_free(&s);
}

/* GET /v1/history?limit=N: the windows, newest first. */
static void handle_history(struct api *a, struct evhttp_request *req)
{
    char v[32] = "";
    size_t limit = 100;
    if (query_param(req, "limit", v, sizeof(v))) {
        char *end;
        unsigned long n = strtoul(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n == 0 || n > 100000) {
            reply_error(req, 400, "Bad Request", "limit: a number from 1 to 100000");
            return;
        }
        limit = n;
    }
    struct sbuf s;
    sbuf_init(&s);
    daemon_history_json(a->d, limit, &s);
    reply_json(req, 200, "OK", &s);
    sbuf_free(&s);
}

/* GET /: the live page (agent/live.c). */
static void handle_live(struct api *a, struct evhttp_request *req)
{
    struct sbuf s;
    sbuf_init(&s);
    struct daemon_snapshot v;
    daemon_snapshot(a->d, &v);
    if (live_page(a->d, &v, &s) != 0 || sbuf_failed(&s)) {
        reply_error(req, 500, "Internal Server Error", "out of memory");
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Security-Policy",
                          live_csp());
        evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
        reply(req, 200, "OK", "text/html; charset=utf-8", s.data, s.len);
    }
    sbuf_free(&s);
}

static void handle_evaluate(struct api *a, struct evhttp_request *req)
{
    if (!authorized(a, req))
        return;
    uint64_t records = daemon_window_records(a->d);
    if (daemon_evaluate_now(a->d) != 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "window has %llu records, fewer than window.min_records (%llu)",
                 (unsigned long long)records,
                 (unsigned long long)daemon_config(a->d)->window_min_records);
        reply_error(req, 409, "Conflict", msg);
        return;
    }
    struct sbuf s;
    sbuf_init(&s);
    sbuf_adds(&s, daemon_last_json(a->d));
    sbuf_addc(&s, '\n');
    reply_json(req, 200, "OK", &s);
    sbuf_free(&s);
}

static void handle_reload(struct api *a, struct evhttp_request *req)
{
    if (!authorized(a, req))
        return;
    struct errlist errs = {0};
    struct sbuf s;
    sbuf_init(&s);
    if (daemon_reload(a->d, &errs) == 0) {
        sbuf_adds(&s, "{\"reloaded\": true}\n");
        reply_json(req, 200, "OK", &s);
    } else {
        sbuf_adds(&s, "{\"reloaded\": false, \"errors\": [");
        for (size_t i = 0; i < errs.n; i++) {
            if (i)
                sbuf_adds(&s, ", ");
            sbuf_add_json_string(&s, errs.msgs[i], strlen(errs.msgs[i]));
        }
        sbuf_adds(&s, "]}\n");
        reply_json(req, 400, "Bad Request", &s);
    }
    sbuf_free(&s);
    errlist_free(&errs);
}

void api_status_json(const struct api *a, const struct daemon_snapshot *v, struct sbuf *s)
{
    sbuf_adds(s, "{\"model\": ");
    sbuf_add_json_string(s, v->model, strlen(v->model));
    sbuf_printf(s, ", \"version\": \"%s\", \"uptime_seconds\": %.0f,\n\"baseline\": {\"path\": ",
                DRIFTD_VERSION, v->uptime);
    sbuf_add_json_string(s, v->baseline_path, strlen(v->baseline_path));
    sbuf_printf(s, ", \"rows\": %llu, \"sample_rows\": %llu, ",
                (unsigned long long)v->baseline_rows, (unsigned long long)v->baseline_sample_rows);
    if (v->adopt != NULL)
        adopt_baseline_json(v->adopt, s);
    else
        sbuf_printf(s, "\"features\": %zu", v->features);
    sbuf_adds(s, "},\n");
    sbuf_printf(s, "\"window\": {\"id\": %llu, \"records\": %llu, \"sampled\": %zu, \"start\": ",
                (unsigned long long)v->window_id, (unsigned long long)v->window_records,
                v->window_sampled);
    alert_time_json(s, v->window_start);
    sbuf_printf(s, ", \"extended\": %s, \"min_records\": %llu},\n",
                v->window_extended ? "true" : "false", (unsigned long long)v->min_records);
    sbuf_printf(s, "\"windows_evaluated\": %llu,\n\"last_evaluation\": ",
                (unsigned long long)v->windows_evaluated);
    sbuf_adds(s, v->last_json ? v->last_json : "null");
    struct outbox_stats ot = v->alerts;
    sbuf_printf(s,
                ",\n\"alerts\": {\"queued\": %llu, \"sent\": %llu, \"failed\": %llu, "
                "\"retried\": %llu, \"dropped\": %llu, \"events\": %llu, \"firing\": %s, "
                "\"not_durable\": %llu, \"lost\": %llu, \"client_errors\": %llu, \"sinks\": [",
                (unsigned long long)ot.queued, (unsigned long long)ot.sent,
                (unsigned long long)ot.failed, (unsigned long long)ot.retried,
                (unsigned long long)ot.dropped, (unsigned long long)v->alert_events,
                v->firing ? "true" : "false", (unsigned long long)ot.not_durable,
                (unsigned long long)v->alerts_lost, (unsigned long long)v->client_errors);
    for (size_t i = 0; i < v->n_sinks; i++) {
        struct outbox_stats st = v->sinks[i].st;
        sbuf_printf(s,
                    "%s{\"name\": \"%s\", \"sent\": %llu, \"retried\": %llu, \"failed\": %llu, "
                    "\"dropped\": %llu, \"queued\": %llu}",
                    i ? ", " : "", v->sinks[i].name, (unsigned long long)st.sent,
                    (unsigned long long)st.retried, (unsigned long long)st.failed,
                    (unsigned long long)st.dropped, (unsigned long long)st.queued);
    }
    sbuf_adds(s, "]},\n\"retrain\": ");
    struct sbuf run;
    sbuf_init(&run);
    if (v->adopt != NULL)
        adopt_run_json(v->adopt, &run);
    retrain_status_json(v->retrain, run.data, s);
    sbuf_free(&run);
    sbuf_adds(s, ",\n");
    sbuf_adds(s, "\"inputs\": [");
    for (size_t i = 0; i < v->n_sources; i++) {
        const struct source *in = v->sources[i];
        sbuf_adds(s, i ? ", {\"type\": " : "{\"type\": ");
        sbuf_add_json_string(s, in->ops->type, strlen(in->ops->type));
        if (in->ops->status != NULL)
            in->ops->status(in, s);
        sbuf_printf(s,
                    ", \"records\": %llu, \"rejected\": %llu, \"checked\": %llu, "
                    "\"unknown_columns\": %llu",
                    (unsigned long long)in->records, (unsigned long long)in->rejected,
                    (unsigned long long)in->checked, (unsigned long long)in->unknown_columns);
        sbuf_adds(s, ", \"rejected_by_reason\": {");
        bool first = true;
        for (int r = 0; r < READER_ERR_COUNT; r++) {
            if (in->reasons[r] == 0)
                continue;
            sbuf_printf(s, "%s\"%s\": %llu", first ? "" : ", ", reader_error_name(r),
                        (unsigned long long)in->reasons[r]);
            first = false;
        }
        sbuf_adds(s, "}}");
    }
    sbuf_adds(s, "],\n\"role\": ");
    sbuf_adds(s, v->leader < 0 ? "null" : v->leader ? "\"leader\"" : "\"standby\"");
    sbuf_adds(s, ", \"cluster\": ");
    if (a != NULL)
        daemon_cluster_json(a->d, s);
    else
        sbuf_adds(s, "null");
    sbuf_adds(s, ",\n\"connections\": ");
    if (a != NULL && a->conns != NULL) {
        struct http_conns_stats cs = http_conns_stats(a->conns);
        sbuf_printf(s,
                    "{\"open\": %llu, \"max\": %zu, \"accepted\": %llu, \"requests\": %llu, "
                    "\"refused\": %llu, "
                    "\"header_timeouts\": %llu, \"evicted\": %llu, \"accept_errors\": %llu, "
                    "\"paused\": %s}",
                    (unsigned long long)cs.open, http_conns_max(a->conns),
                    (unsigned long long)cs.accepted, (unsigned long long)cs.requests,
                    (unsigned long long)cs.refused, (unsigned long long)cs.header_timeouts,
                    (unsigned long long)cs.evicted, (unsigned long long)cs.accept_errors,
                    cs.paused ? "true" : "false");
    } else {
        sbuf_adds(s, "null");
    }
    const char *why = v->not_ready;
    sbuf_adds(s, ",\n\"storage\": {\"spool_error\": ");
    const char *se = v->spool_error;
    if (se != NULL)
        sbuf_add_json_string(s, se, strlen(se));
    else
        sbuf_adds(s, "null");
    sbuf_adds(s, ", \"state_error\": ");
    if (v->state_error != NULL)
        sbuf_add_json_string(s, v->state_error, strlen(v->state_error));
    else
        sbuf_adds(s, "null");
    sbuf_adds(s, "},\n\"ready\": ");
    sbuf_adds(s, why == NULL ? "true" : "false");
    if (why != NULL) {
        sbuf_adds(s, ", \"not_ready\": ");
        sbuf_add_json_string(s, why, strlen(why));
    }
    sbuf_adds(s, "}\n");
}

/* A Prometheus label value: backslash, quote and newline escaped. */
static void label(struct sbuf *s, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            sbuf_addc(s, '\\'), sbuf_addc(s, *v);
        else if (*v == '\n')
            sbuf_adds(s, "\\n");
        else
            sbuf_addc(s, *v);
    }
}

static void metric_head(struct sbuf *s, const char *name, const char *type, const char *help)
{
    sbuf_printf(s, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{model="m"[,k="v"]...} value */
static void metric(struct sbuf *s, const char *model, const char *name, const char *k1,
                   const char *v1, const char *k2, const char *v2, double value)
{
    sbuf_printf(s, "%s{model=\"", name);
    label(s, model);
    if (k1 != NULL) {
        sbuf_printf(s, "\",%s=\"", k1);
        label(s, v1);
    }
    if (k2 != NULL) {
        sbuf_printf(s, "\",%s=\"", k2);
        label(s, v2);
    }
    sbuf_adds(s, "\"} ");
    if (isnan(value))
        sbuf_adds(s, "NaN");
    else if (isinf(value))
        sbuf_adds(s, value > 0 ? "+Inf" : "-Inf");
    else
        sbuf_printf(s, "%.17g", value);
    sbuf_addc(s, '\n');
}

/* One input's failures by reason, as source_ops.errors hands them. */
struct input_errors {
    struct sbuf *s;
    const char *model, *input;
};

static void input_error(void *arg, const char *reason, uint64_t n)
{
    struct input_errors *ie = arg;
    metric(ie->s, ie->model, "driftd_input_errors_total", "input", ie->input, "reason", reason,
           (double)n);
}

/* The closed loop's metrics: the active baseline, adoptions, finished runs. */
static void loop_metrics(const struct daemon_snapshot *v, struct sbuf *s)
{
    const struct adopt_entry *e = adopt_active(v->adopt);
    metric_head(s, "driftd_baseline_info", "gauge",
                "1, labelled with the active baseline: sha256 (first 12 hex digits), source "
                "(file, run, api) and model_version.");
    if (e != NULL) {
        sbuf_adds(s, "driftd_baseline_info{model=\"");
        label(s, v->model);
        sbuf_printf(s, "\",sha256=\"%.12s\",source=\"%s\",model_version=\"", e->sha256,
                    adopt_source_name(e->source));
        label(s, e->model_version);
        sbuf_adds(s, "\"} 1\n");
    }
    struct adopt_counts c = adopt_counts(v->adopt);
    metric_head(s, "driftd_baseline_adoptions_total", "counter",
                "Baselines adopted, rolled back, or that failed to be fetched or adopted.");
    metric(s, v->model, "driftd_baseline_adoptions_total", "result", "adopted", NULL, NULL,
           (double)c.adopted);
    metric(s, v->model, "driftd_baseline_adoptions_total", "result", "failed", NULL, NULL,
           (double)c.failed);
    metric(s, v->model, "driftd_baseline_adoptions_total", "result", "rolled_back", NULL, NULL,
           (double)c.rolled_back);
    metric_head(s, "driftd_records_by_version_total", "counter",
                "Records per model version (inputs[].version_field), since the start.");
    for (size_t i = 0; i < v->n_versions; i++)
        metric(s, v->model, "driftd_records_by_version_total", "version", v->versions[i].name, NULL,
               NULL, (double)v->versions[i].records);
    metric_head(s, "driftd_retrain_runs_total", "counter",
                "Retrain runs followed to the end, by GitHub's conclusion.");
    uint64_t n;
    const char *conc;
    for (size_t i = 0; (conc = adopt_run_conclusion(v->adopt, i, &n)) != NULL; i++)
        metric(s, v->model, "driftd_retrain_runs_total", "conclusion", conc, NULL, NULL, (double)n);
}

void api_metrics_text(const struct api *a, const struct daemon_snapshot *v, struct sbuf *s)
{
    metric_head(s, "driftd_build_info", "gauge", "1, labelled with the version of driftd running.");
    metric(s, v->model, "driftd_build_info", "version", DRIFTD_VERSION, NULL, NULL, 1);
    metric_head(s, "driftd_window_records", "gauge", "Records in the open window so far.");
    metric(s, v->model, "driftd_window_records", NULL, NULL, NULL, NULL, (double)v->window_records);
    metric_head(s, "driftd_records_received_total", "counter", "Records accepted per input.");
    for (size_t i = 0; i < v->n_sources; i++)
        metric(s, v->model, "driftd_records_received_total", "input", v->sources[i]->name, NULL,
               NULL, (double)v->sources[i]->records);
    metric_head(s, "driftd_records_rejected_total", "counter",
                "Records rejected per input and reason.");
    for (size_t i = 0; i < v->n_sources; i++)
        for (int r = 0; r < READER_ERR_COUNT; r++)
            metric(s, v->model, "driftd_records_rejected_total", "input", v->sources[i]->name,
                   "reason", reader_error_name(r), (double)v->sources[i]->reasons[r]);
    metric_head(s, "driftd_input_errors_total", "counter",
                "Failures of an input by reason (nats: connect, disconnect, reconnect, auth, "
                "consumer, fetch, ack, body, async).");
    for (size_t i = 0; i < v->n_sources; i++)
        if (v->sources[i]->ops->errors != NULL) {
            struct input_errors ie = {s, v->model, v->sources[i]->name};
            v->sources[i]->ops->errors(v->sources[i], input_error, &ie);
        }
    if (v->leader >= 0) {
        metric_head(s, "driftd_leader", "gauge",
                    "1 while this replica leads the model (holds the lease and acts), else 0.");
        metric(s, v->model, "driftd_leader", NULL, NULL, NULL, NULL, v->leader);
        metric_head(s, "driftd_lease_changes_total", "counter",
                    "Times this replica took the model's lease (acquired) or lost it (lost).");
        metric(s, v->model, "driftd_lease_changes_total", "event", "acquired", NULL, NULL,
               (double)v->lease_acquired);
        metric(s, v->model, "driftd_lease_changes_total", "event", "lost", NULL, NULL,
               (double)v->lease_lost);
    }
    metric_head(s, "driftd_unknown_columns_total", "counter",
                "Columns met per input that are not baseline features (values ignored).");
    for (size_t i = 0; i < v->n_sources; i++)
        metric(s, v->model, "driftd_unknown_columns_total", "input", v->sources[i]->name, NULL,
               NULL, (double)v->sources[i]->unknown_columns);
    metric_head(s, "driftd_records_sampled_total", "counter",
                "Records kept in evaluated windows' samples.");
    metric(s, v->model, "driftd_records_sampled_total", NULL, NULL, NULL, NULL,
           (double)v->sampled_total);
    metric_head(s, "driftd_windows_evaluated_total", "counter", "Windows evaluated.");
    metric(s, v->model, "driftd_windows_evaluated_total", NULL, NULL, NULL, NULL,
           (double)v->windows_evaluated);
    metric_head(s, "driftd_last_evaluation_timestamp_seconds", "gauge",
                "Time of the last evaluation (0: none yet).");
    metric(s, v->model, "driftd_last_evaluation_timestamp_seconds", NULL, NULL, NULL, NULL,
           v->last_eval_at);
    if (v->last != NULL) {
        const struct report *r = v->last;
        metric_head(s, "driftd_feature_drift", "gauge", "1 when the feature drifted.");
        for (size_t i = 0; i < r->n; i++)
            metric(s, v->model, "driftd_feature_drift", "feature", r->features[i].name, NULL, NULL,
                   r->features[i].r.drift);
        metric_head(s, "driftd_feature_score", "gauge", "Statistic of the feature's test.");
        for (size_t i = 0; i < r->n; i++)
            metric(s, v->model, "driftd_feature_score", "feature", r->features[i].name, "test",
                   stats_test_info(r->features[i].r.test)->name, r->features[i].r.statistic);
        metric_head(s, "driftd_feature_p_value", "gauge", "p-value of the feature's test.");
        for (size_t i = 0; i < r->n; i++)
            if (stats_test_info(r->features[i].r.test)->has_p)
                metric(s, v->model, "driftd_feature_p_value", "feature", r->features[i].name,
                       "test", stats_test_info(r->features[i].r.test)->name,
                       r->features[i].r.p_value);
        metric_head(s, "driftd_feature_missing_ratio", "gauge", "Missing share of the feature.");
        for (size_t i = 0; i < r->n; i++)
            metric(s, v->model, "driftd_feature_missing_ratio", "feature", r->features[i].name,
                   NULL, NULL, r->features[i].quality[Q_MISSING]);
        /* Only where the rate means something: out of range for numerical
         * features, unseen categories for categorical ones. */
        metric_head(s, "driftd_feature_out_of_range_ratio", "gauge",
                    "Share of a numerical feature's values outside the baseline's min and max.");
        for (size_t i = 0; i < r->n; i++)
            if (!isnan(r->features[i].quality[Q_OUT_OF_RANGE]))
                metric(s, v->model, "driftd_feature_out_of_range_ratio", "feature",
                       r->features[i].name, NULL, NULL, r->features[i].quality[Q_OUT_OF_RANGE]);
        metric_head(s, "driftd_feature_unseen_ratio", "gauge",
                    "Share of a categorical feature's values in categories the baseline lacks.");
        for (size_t i = 0; i < r->n; i++)
            if (!isnan(r->features[i].quality[Q_UNSEEN]))
                metric(s, v->model, "driftd_feature_unseen_ratio", "feature", r->features[i].name,
                       NULL, NULL, r->features[i].quality[Q_UNSEEN]);
        metric_head(s, "driftd_dataset_drift", "gauge", "1 when the dataset drifted.");
        metric(s, v->model, "driftd_dataset_drift", NULL, NULL, NULL, NULL, r->dataset.drift);
        metric_head(s, "driftd_dataset_drift_share", "gauge", "Share of drifted features.");
        metric(s, v->model, "driftd_dataset_drift_share", NULL, NULL, NULL, NULL, r->dataset.share);
    }
    metric_head(s, "driftd_alerts_sent_total", "counter", "Notifications delivered per sink.");
    for (size_t i = 0; i < v->n_sinks; i++)
        metric(s, v->model, "driftd_alerts_sent_total", "sink", v->sinks[i].name, NULL, NULL,
               (double)v->sinks[i].st.sent);
    metric_head(s, "driftd_alerts_failed_total", "counter",
                "Notifications given up per sink (dead-lettered).");
    for (size_t i = 0; i < v->n_sinks; i++)
        metric(s, v->model, "driftd_alerts_failed_total", "sink", v->sinks[i].name, NULL, NULL,
               (double)v->sinks[i].st.failed);
    metric_head(s, "driftd_alerts_retried_total", "counter", "Delivery retries per sink.");
    for (size_t i = 0; i < v->n_sinks; i++)
        metric(s, v->model, "driftd_alerts_retried_total", "sink", v->sinks[i].name, NULL, NULL,
               (double)v->sinks[i].st.retried);
    metric_head(s, "driftd_alerts_not_durable_total", "counter",
                "Notifications queued in memory only: the spool could not be written.");
    metric(s, v->model, "driftd_alerts_not_durable_total", NULL, NULL, NULL, NULL,
           (double)v->alerts.not_durable);
    metric_head(s, "driftd_alerts_lost_total", "counter",
                "Window decisions never handed to the alerts: out of memory.");
    metric(s, v->model, "driftd_alerts_lost_total", NULL, NULL, NULL, NULL, (double)v->alerts_lost);
    metric_head(s, "driftd_http_client_errors_total", "counter",
                "Errors of the outbound HTTP client's event handling (curl, libevent).");
    metric(s, v->model, "driftd_http_client_errors_total", NULL, NULL, NULL, NULL,
           (double)v->client_errors);
    metric_head(s, "driftd_storage_writable", "gauge",
                "1 while the spool and the state file can be written.");
    metric(s, v->model, "driftd_storage_writable", NULL, NULL, NULL, NULL,
           v->spool_error == NULL && v->state_error == NULL ? 1 : 0);
    if (a != NULL && a->conns != NULL) {
        struct http_conns_stats cs = http_conns_stats(a->conns);
        metric_head(s, "driftd_http_connections", "gauge", "HTTP connections open.");
        metric(s, v->model, "driftd_http_connections", NULL, NULL, NULL, NULL, (double)cs.open);
        metric_head(s, "driftd_http_refused_total", "counter",
                    "Requests refused from their head (401, 413, 415 ...), bodies never read.");
        metric(s, v->model, "driftd_http_refused_total", NULL, NULL, NULL, NULL,
               (double)cs.refused);
        metric_head(s, "driftd_http_closed_total", "counter",
                    "Connections closed by driftd, by reason.");
        metric(s, v->model, "driftd_http_closed_total", "reason", "header_timeout", NULL, NULL,
               (double)cs.header_timeouts);
        metric(s, v->model, "driftd_http_closed_total", "reason", "evicted", NULL, NULL,
               (double)cs.evicted);
        metric_head(s, "driftd_http_accept_errors_total", "counter", "accept(2) failures.");
        metric(s, v->model, "driftd_http_accept_errors_total", NULL, NULL, NULL, NULL,
               (double)cs.accept_errors);
    }
    metric_head(s, "driftd_alert_queue_depth", "gauge", "Notifications waiting for delivery.");
    metric(s, v->model, "driftd_alert_queue_depth", NULL, NULL, NULL, NULL,
           (double)v->alerts.queued);
    struct retrain_counts rc = retrain_counts(v->retrain);
    metric_head(s, "driftd_retrain_dispatches_total", "counter", "Workflow dispatches by result.");
    metric(s, v->model, "driftd_retrain_dispatches_total", "result", "ok", NULL, NULL,
           (double)rc.ok);
    metric(s, v->model, "driftd_retrain_dispatches_total", "result", "failed", NULL, NULL,
           (double)rc.failed);
    metric(s, v->model, "driftd_retrain_dispatches_total", "result", "dry_run", NULL, NULL,
           (double)rc.dry_runs);
    if (v->adopt != NULL)
        loop_metrics(v, s);
}

/* GET /readyz: 200 "ready", else 503 with the reason. */
static void handle_readyz(struct api *a, struct evhttp_request *req)
{
    const char *why = daemon_not_ready(a->d);
    if (why == NULL) {
        reply(req, 200, "OK", "text/plain; charset=utf-8", "ready\n", 6);
        return;
    }
    char msg[700];
    int n = snprintf(msg, sizeof(msg), "not ready: %s\n", why);
    reply(req, 503, "Service Unavailable", "text/plain; charset=utf-8", msg,
          n < (int)sizeof(msg) ? (size_t)n : sizeof(msg) - 1);
}

/* The endpoints and the methods each takes; only a POST carries a body. */
enum { R_GET = 1, R_POST = 2 };
static const struct route {
    const char *path;
    int methods;
} routes[] = {{"/healthz", R_GET},
              {"/readyz", R_GET},
              {"/metrics", R_GET},
              {"/v1/status", R_GET},
              {"/v1/ingest", R_POST},
              {"/v1/evaluate", R_POST},
              {"/v1/reload", R_POST},
              {"/v1/baseline", R_POST},
              {"/v1/baseline/adopt", R_POST},
              {"/v1/baseline/rollback", R_POST},
              {"/v1/events", R_GET},
              {"/", R_GET},
              {"/v1/report/latest", R_GET},
              {"/v1/report/latest.html", R_GET},
              {"/v1/history", R_GET}};

/* The endpoint at path, or NULL. */
static const struct route *route_of(const char *path)
{
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
        if (strcmp(routes[i].path, path) == 0)
            return &routes[i];
    return NULL;
}

/* The status a request gets from its head alone, before evhttp reads its
 * body: the same rules the handlers apply, so that a request refused
 * anyway never has its body held in memory (an unauthenticated client
 * could otherwise make the daemon hold max_body_bytes per connection). */
static int head_check(void *arg, const struct http_head *h, struct http_refusal *r)
{
    struct api *a = arg;
    const struct config *cfg = daemon_config(a->d);
    bool body = h->chunked || (h->has_length && h->length > 0);
    const struct route *rt = route_of(h->path);
    bool post = strcmp(h->method, "POST") == 0;
    if (h->has_length && h->length > cfg->max_body_bytes) {
        r->reason = "Payload Too Large";
        snprintf(r->message, sizeof(r->message), "body over max_body_bytes (%llu bytes)",
                 (unsigned long long)cfg->max_body_bytes);
        return 413;
    }
    if (!body)
        return 0; /* nothing to hold: the handlers answer */
    if (rt == NULL) {
        r->reason = "Not Found";
        snprintf(r->message, sizeof(r->message), "no such endpoint");
        return 404;
    }
    bool get = strcmp(h->method, "GET") == 0 || strcmp(h->method, "HEAD") == 0;
    if (!(rt->methods & R_POST) && get) {
        r->reason = "Bad Request";
        snprintf(r->message, sizeof(r->message), "this endpoint takes no request body");
        return 400;
    }
    if (!(rt->methods & R_POST) || !post) {
        r->reason = "Method Not Allowed";
        r->extra_header = rt->methods & R_POST ? "Allow: POST" : "Allow: GET, HEAD";
        snprintf(r->message, sizeof(r->message), "%s",
                 rt->methods & R_POST ? "use POST" : "use GET");
        return 405;
    }
    if (!token_ok(a, h->authorization)) {
        r->reason = "Unauthorized";
        r->extra_header = "WWW-Authenticate: Bearer realm=\"driftd\"";
        snprintf(r->message, sizeof(r->message), "missing or invalid bearer token");
        return 401;
    }
    if (strcmp(rt->path, "/v1/ingest") == 0) {
        if (a->ingest == NULL) {
            r->reason = "Not Found";
            snprintf(r->message, sizeof(r->message), "no http input is configured");
            return 404;
        }
        if (in_http_body_kind(h->content_type) == BODY_UNKNOWN) {
            r->reason = "Unsupported Media Type";
            snprintf(r->message, sizeof(r->message), "%s", IN_HTTP_UNSUPPORTED_TYPE);
            return 415;
        }
    }
    return 0;
}

/* 405 with the methods the endpoint takes. */
static void reply_not_allowed(struct evhttp_request *req, const struct route *r)
{
    bool post = r->methods & R_POST;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", post ? "POST" : "GET, HEAD");
    reply_error(req, 405, "Method Not Allowed", post ? "use POST" : "use GET");
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct api *a = arg;
    const char *uri = evhttp_request_get_uri(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    char path[256];
    size_t n = strcspn(uri, "?#");
    if (n >= sizeof(path)) {
        reply_error(req, 414, "URI Too Long", "path too long");
        return;
    }
    memcpy(path, uri, n);
    path[n] = '\0';
    bool get = cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD, post = cmd == EVHTTP_REQ_POST;
    const struct route *r = route_of(path);

    if (r == NULL) {
        reply_error(req, 404, "Not Found", "no such endpoint");
        return;
    }
    if (!((r->methods & R_GET) ? get : post)) {
        reply_not_allowed(req, r);
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        reply(req, 200, "OK", "text/plain; charset=utf-8", "ok\n", 3);
        return;
    }
    if (daemon_stopping(a->d)) {
        reply_error(req, 503, "Service Unavailable", "shutting down");
        return;
    }
    if (strcmp(path, "/readyz") == 0) {
        handle_readyz(a, req);
        return;
    }
    struct sbuf s;
    sbuf_init(&s);
    struct daemon_snapshot v;
    if (strcmp(path, "/metrics") == 0) {
        daemon_snapshot(a->d, &v);
        api_metrics_text(a, &v, &s);
        if (sbuf_failed(&s))
            reply_error(req, 500, "Internal Server Error", "out of memory");
        else
            reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", s.data, s.len);
    } else if (strcmp(path, "/v1/status") == 0) {
        daemon_snapshot(a->d, &v);
        api_status_json(a, &v, &s);
        reply_json(req, 200, "OK", &s);
    } else if (strcmp(path, "/v1/ingest") == 0) {
        handle_ingest(a, req);
    } else if (strcmp(path, "/v1/evaluate") == 0) {
        handle_evaluate(a, req);
    } else if (strncmp(path, "/v1/baseline", 12) == 0) {
        handle_baseline(a, req, path);
    } else if (strcmp(path, "/v1/events") == 0) {
        handle_events(a, req);
    } else if (strcmp(path, "/v1/report/latest") == 0) {
        handle_report(a, req, false);
    } else if (strcmp(path, "/v1/report/latest.html") == 0) {
        handle_report(a, req, true);
    } else if (strcmp(path, "/v1/history") == 0) {
        handle_history(a, req);
    } else if (strcmp(path, "/") == 0) {
        handle_live(a, req);
    } else {
        handle_reload(a, req);
    }
    sbuf_free(&s);
}

/* The connection limits of the configuration. */
static struct http_conns_conf conns_conf(const struct config *cfg)
{
    struct http_conns_conf c = {
        .max_connections = (size_t)cfg->listen_max_connections,
        .header_timeout = cfg->listen_header_timeout,
        /* a refused body is read and dropped up to this much before the
         * answer, so a client still sending sees the answer, not a reset */
        .max_drain = cfg->max_body_bytes + (64u << 20),
    };
    return c;
}

void api_configure(struct api *a)
{
    const struct config *cfg = daemon_config(a->d);
    if (a->http == NULL)
        return;
    evhttp_set_max_body_size(a->http, (ev_ssize_t)cfg->max_body_bytes);
    evhttp_set_timeout(a->http, cfg->listen_idle_timeout >= 1 ? (int)cfg->listen_idle_timeout : 60);
    if (a != NULL && a->conns != NULL) {
        struct http_conns_conf c = conns_conf(cfg);
        http_conns_configure(a->conns, &c);
    }
}

/* Up to max inodes of the sockets listening on port, from one of
 * /proc/net/tcp and /proc/net/tcp6 (columns: sl, local address:port in
 * hex, remote, state (0A = LISTEN), queues, timers, uid, timeout, inode);
 * the owner's uid of the first goes to *uid. */
static size_t listening_inodes(const char *table, unsigned port, unsigned long *inodes, size_t n,
                               size_t max, long *uid)
{
    FILE *f = fopen(table, "r");
    if (f == NULL)
        return n;
    char line[512];
    if (fgets(line, sizeof(line), f) == NULL) { /* the header */
        fclose(f);
        return n;
    }
    while (n < max && fgets(line, sizeof(line), f) != NULL) {
        unsigned lport, state, u;
        unsigned long inode;
        if (sscanf(line,
                   " %*u: %*[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x %x %*x:%*x %*x:%*x %*x %u %*u %lu",
                   &lport, &state, &u, &inode) != 4)
            continue;
        if (lport != port || state != 0x0A || inode == 0)
            continue;
        if (*uid < 0)
            *uid = (long)u;
        inodes[n++] = inode;
    }
    fclose(f);
    return n;
}

/* Append "pid P (comm)" of each process with a descriptor on one of the
 * sockets to out; how many were found. Only processes whose /proc/PID/fd
 * can be read are seen: those of the same user, or all for root. */
static size_t socket_owners(const unsigned long *inodes, size_t n, char *out, size_t len)
{
    DIR *proc = opendir("/proc");
    if (proc == NULL)
        return 0;
    size_t found = 0, used = strlen(out);
    struct dirent *pe;
    while ((pe = readdir(proc)) != NULL && found < 4) {
        if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
            continue;
        char path[300];
        snprintf(path, sizeof(path), "/proc/%s/fd", pe->d_name);
        DIR *fds = opendir(path);
        if (fds == NULL)
            continue; /* another user's, or gone */
        struct dirent *fe;
        bool holds = false;
        while (!holds && (fe = readdir(fds)) != NULL) {
            char fp[600], target[64];
            snprintf(fp, sizeof(fp), "%s/%s", path, fe->d_name);
            ssize_t tl = readlink(fp, target, sizeof(target) - 1);
            if (tl <= 0)
                continue;
            target[tl] = '\0';
            unsigned long ino;
            if (sscanf(target, "socket:[%lu]", &ino) != 1)
                continue;
            for (size_t i = 0; i < n && !holds; i++)
                holds = inodes[i] == ino;
        }
        closedir(fds);
        if (!holds)
            continue;
        char comm[64] = "?";
        snprintf(path, sizeof(path), "/proc/%s/comm", pe->d_name);
        FILE *cf = fopen(path, "r");
        if (cf != NULL) {
            if (fgets(comm, sizeof(comm), cf) != NULL)
                comm[strcspn(comm, "\n")] = '\0';
            fclose(cf);
        }
        if (used < len)
            used += (size_t)snprintf(out + used, len - used, "%spid %s (%s)", found ? ", " : "",
                                     pe->d_name, comm);
        found++;
    }
    closedir(proc);
    return found;
}

/* Which process holds a TCP port, in words for the bind error: from the
 * listening socket's inode in /proc/net/tcp{,6} to the process with a
 * descriptor on it; says plainly when it cannot be told. */
static void port_holder(unsigned port, char *out, size_t len)
{
    unsigned long inodes[8];
    long uid = -1;
    size_t n = listening_inodes("/proc/net/tcp", port, inodes, 0, 8, &uid);
    n = listening_inodes("/proc/net/tcp6", port, inodes, n, 8, &uid);
    if (n == 0) {
        snprintf(out, len,
                 "no listening socket on it is visible in /proc/net/tcp or "
                 "/proc/net/tcp6, so the process holding it cannot be named");
        return;
    }
    int pre = snprintf(out, len, "held by ");
    if (pre < 0 || (size_t)pre >= len || socket_owners(inodes, n, out, len) == 0)
        snprintf(out, len,
                 "a socket of uid %ld listens on it, but its process cannot be named (its "
                 "/proc/PID/fd is not readable by this user)",
                 uid);
}

struct api *api_start(struct daemon *d, struct event_base *base)
{
    struct api *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        log_err("cannot create the HTTP server: out of memory");
        return NULL;
    }
    a->d = d;
    a->ingest = daemon_source_of(d, &in_http_ops);
    const struct config *cfg = daemon_config(d);
    char host[128];
    const char *colon = strrchr(cfg->listen, ':');
    size_t hl = (size_t)(colon - cfg->listen);
    if (hl >= sizeof(host))
        hl = sizeof(host) - 1;
    memcpy(host, cfg->listen, hl);
    host[hl] = '\0';
    /* [::1]:9107 */
    char *h = host;
    if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    ev_uint16_t port = (ev_uint16_t)atoi(colon + 1);
    if ((a->http = evhttp_new(base)) == NULL) {
        log_err("cannot create the HTTP server");
        api_stop(a);
        return NULL;
    }
    evhttp_set_max_headers_size(a->http, 64 * 1024);
    /* A body over max_body_bytes sent in chunks is read and dropped before
     * the 413 goes out; closing at once would reset the connection under a
     * client still sending, and it would never see the 413. (A declared
     * length over it is refused from the head, in http_conn.c.) */
    evhttp_set_flags(a->http, EVHTTP_SERVER_LINGERING_CLOSE);
    evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE);
    evhttp_set_gencb(a->http, on_request, a);
    api_configure(a);
    errno = 0;
    a->sock = evhttp_bind_socket_with_handle(a->http, h, port);
    if (a->sock == NULL) {
        int e = errno;
        if (e == EADDRINUSE) {
            char who[600];
            port_holder(port, who, sizeof(who));
            log_err("listen %s: cannot bind: port %u is in use: %s", cfg->listen, (unsigned)port,
                    who);
        } else if (e == EADDRNOTAVAIL) {
            log_err("listen %s: cannot bind: %s is not an address of this host", cfg->listen, h);
        } else {
            log_err("listen %s: cannot bind: %s", cfg->listen,
                    e != 0 ? strerror(e) : "the host name does not resolve");
        }
        api_stop(a);
        return NULL;
    }
    size_t fit = http_conns_default_max();
    if (cfg->listen_max_connections > fit)
        log_warn("listen_max_connections %llu is more than the file descriptors allow (%zu: the "
                 "soft RLIMIT_NOFILE less %d kept for spool, state and sinks); raise LimitNOFILE "
                 "or lower it",
                 (unsigned long long)cfg->listen_max_connections, fit, HTTP_CONNS_FD_RESERVE);
    struct http_conns_conf cc = conns_conf(cfg);
    if ((a->conns = http_conns_new(base, a->http, a->sock, &cc, head_check, a)) == NULL) {
        log_err("cannot set up the HTTP server's connections: out of memory");
        api_stop(a);
        return NULL;
    }
    /* The bound port (listen port 0 picks a free one). */
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    evutil_socket_t fd = evhttp_bound_socket_get_fd(a->sock);
    char addr[64] = "?";
    int bport = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            evutil_inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
            bport = ntohs(sin->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            evutil_inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
            bport = ntohs(sin6->sin6_port);
        }
    }
    snprintf(a->listen_addr, sizeof(a->listen_addr), "%s%s%s:%d", strchr(addr, ':') ? "[" : "",
             addr, strchr(addr, ':') ? "]" : "", bport);
    /* Tests and scripts read the port from here when they ask for port 0.
     * Written anew and renamed: a symlink planted at the name is replaced,
     * never followed. */
    char pf[4096], line[160];
    snprintf(pf, sizeof(pf), "%s/listen", cfg->state_dir);
    int n = snprintf(line, sizeof(line), "%s\n", a->listen_addr);
    if (file_write_atomic(pf, line, (size_t)n, 0644, 0) != 0)
        log_warn("%s: cannot write the bound address: %s", pf, strerror(errno));
    return a;
}

const char *api_address(const struct api *a)
{
    return a->listen_addr;
}

void api_stop(struct api *a)
{
    if (a == NULL)
        return;
    http_conns_free(a->conns);
    a->conns = NULL;
    if (a->http != NULL)
        evhttp_free(a->http);
    a->http = NULL;
    a->sock = NULL;
    free(a);
}
