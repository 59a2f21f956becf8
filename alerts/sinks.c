#include "alerts/sinks.h"

#include "alerts/secret.h"
#include "lib/sbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FEATURES 256

struct http_sink {
    enum http_sink_type type;
    char *name, *url, *ca_file, *generator_url;
    struct http_header *headers;
    size_t n_headers;
    double timeout, resend, max_age;
    struct outbox *ob;
    double (*now)(void);
    /* Alertmanager: what is firing, to re-post it and to resolve features */
    struct event *resend_timer;
    bool firing;
    char *model;
    double starts_at;
    char summary[1024];
    char *features[MAX_FEATURES]; /* drifting features now firing */
    size_t nfeatures;
    struct http_header req_headers[34]; /* built per request */
    char req_url[4096];
};

static void add_time(struct sbuf *s, double t)
{
    char buf[32];
    if (isnan(t)) {
        sbuf_adds(s, "null");
        return;
    }
    alert_time(t, buf, sizeof(buf));
    sbuf_printf(s, "\"%s\"", buf);
}

static void add_str(struct sbuf *s, const char *v)
{
    if (v == NULL)
        sbuf_adds(s, "null");
    else
        alert_json_text(s, v, strlen(v));
}

void webhook_body(const struct alert_event *ev, const char *id, struct sbuf *s)
{
    const struct alert_decision *d = ev->decision;
    char summary[1024];
    static const char *const status[] = {"firing", "resolved"};
    alert_summary(ev, summary, sizeof(summary));
    sbuf_adds(s, "{\"version\": \"1\", \"id\": ");
    add_str(s, id);
    sbuf_adds(s, ", \"source\": \"driftd\", \"model\": ");
    add_str(s, ev->model);
    sbuf_adds(s, ", \"status\": ");
    if (ev->kind == ALERT_RETRAIN_FAILED)
        add_str(s, "retrain_failed");
    else if (ev->kind == ALERT_RETRAIN_FINISHED)
        add_str(s, "retrain_finished");
    else if (ev->kind == ALERT_ADOPTION_FAILED)
        add_str(s, "adoption_failed");
    else
        add_str(s, status[ev->status]);
    sbuf_adds(s, ", \"severity\": ");
    add_str(s, ev->severity);
    sbuf_adds(s, ", \"fingerprint\": ");
    add_str(s, ev->fingerprint);
    sbuf_adds(s, ", \"starts_at\": ");
    add_time(s, ev->starts_at);
    sbuf_adds(s, ", \"ends_at\": ");
    add_time(s, ev->ends_at);
    sbuf_adds(s, ", \"summary\": ");
    add_str(s, summary);
    if (ev->kind == ALERT_DRIFT) {
        sbuf_printf(s,
                    ", \"window\": {\"id\": %llu, \"start\": ", (unsigned long long)d->window.id);
        add_time(s, d->window.start);
        sbuf_adds(s, ", \"end\": ");
        add_time(s, d->window.end);
        sbuf_printf(s, ", \"records\": %llu, \"sampled\": %llu}",
                    (unsigned long long)d->window.records, (unsigned long long)d->window.sampled);
        sbuf_printf(s, ", \"dataset\": {\"drift\": %s, \"share\": ", d->drift ? "true" : "false");
        sbuf_add_double(s, d->share);
        sbuf_printf(s, ", \"drifted_features\": %zu, \"total_features\": %zu}, \"features\": [",
                    d->drifted, d->total);
        bool first = true;
        for (size_t i = 0; i < d->nfeatures; i++) {
            const struct alert_feature *f = &d->features[i];
            if (!f->drift)
                continue;
            sbuf_adds(s, first ? "{\"name\": " : ", {\"name\": ");
            add_str(s, f->name);
            sbuf_adds(s, ", \"test\": ");
            add_str(s, f->test);
            sbuf_adds(s, ", \"statistic\": ");
            sbuf_add_double(s, f->statistic);
            sbuf_adds(s, ", \"p_value\": ");
            sbuf_add_double(s, f->p_value);
            sbuf_adds(s, ", \"threshold\": ");
            sbuf_add_double(s, f->threshold);
            sbuf_adds(s, ", \"drift\": true}");
            first = false;
        }
        sbuf_adds(s, "]");
    }
    if (ev->resolved_by != NULL) {
        sbuf_adds(s, ", \"resolved_by\": {\"baseline\": ");
        add_str(s, ev->resolved_by->baseline);
        sbuf_adds(s, ", \"run_url\": ");
        add_str(s, ev->resolved_by->run_url);
        sbuf_adds(s, ", \"correlation_id\": ");
        add_str(s, ev->resolved_by->correlation_id);
        sbuf_adds(s, "}");
    }
    sbuf_printf(s, ", \"retrain\": {\"dispatched\": %s, \"correlation_id\": ",
                d->correlation_id && ev->kind == ALERT_DRIFT ? "true" : "false");
    add_str(s, d->correlation_id);
    if (ev->kind != ALERT_DRIFT) {
        sbuf_adds(s, ", \"message\": ");
        add_str(s, ev->message);
        sbuf_adds(s, ", \"run_url\": ");
        add_str(s, ev->run_url);
        if (ev->http_status > 0)
            sbuf_printf(s, ", \"http_status\": %ld", ev->http_status);
    }
    sbuf_adds(s, "}}");
}

/* v cut or padded to width characters (not bytes: a Cyrillic name is two
 * bytes a letter), for the columns of Slack's monospaced table. */
static void add_column(struct sbuf *t, const char *v, size_t width)
{
    size_t i = 0, chars = 0;
    while (v[i] != '\0' && chars < width) {
        i++;
        while (((unsigned char)v[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    sbuf_add(t, v, i);
    for (; chars < width; chars++)
        sbuf_addc(t, ' ');
}

void slack_body(const struct alert_event *ev, const char *id, struct sbuf *s)
{
    const struct alert_decision *d = ev->decision;
    char summary[1024], line[1100];
    alert_summary(ev, summary, sizeof(summary));
    const char *icon = ev->kind == ALERT_DRIFT && ev->status == ALERT_FIRING ? ":warning: "
                       : ev->kind == ALERT_RETRAIN_FAILED || ev->kind == ALERT_ADOPTION_FAILED
                           ? ":x: "
                           : ":white_check_mark: ";
    alert_format(line, sizeof(line), "%s%s", icon, summary);
    sbuf_adds(s, "{\"text\": ");
    add_str(s, line);
    /* The notification id rides as the block_id of the first block: Slack
     * documents block_id as "unique for each message", shows nothing of it,
     * and a top-level key of our own would be an undocumented field. */
    sbuf_adds(s, ", \"blocks\": [{\"type\": \"section\", \"block_id\": ");
    add_str(s, id);
    sbuf_adds(s, ", \"text\": {\"type\": \"mrkdwn\", \"text\": ");
    add_str(s, line);
    sbuf_adds(s, "}}");
    if (ev->kind == ALERT_DRIFT && ev->status == ALERT_FIRING) {
        /* a short table of drifted features, monospaced */
        struct sbuf t;
        sbuf_init(&t);
        sbuf_adds(&t, "```feature              test                statistic   p-value\n");
        size_t shown = 0;
        for (size_t i = 0; i < d->nfeatures && shown < 20; i++) {
            const struct alert_feature *f = &d->features[i];
            if (!f->drift)
                continue;
            char pv[32] = "-";
            if (!isnan(f->p_value))
                snprintf(pv, sizeof(pv), "%.3g", f->p_value);
            add_column(&t, f->name, 22);
            sbuf_addc(&t, ' ');
            add_column(&t, f->test, 18);
            sbuf_printf(&t, " %10.4g  %8s\n", f->statistic, pv);
            shown++;
        }
        if (d->drifted > shown)
            sbuf_printf(&t, "... and %zu more\n", d->drifted - shown);
        sbuf_adds(&t, "```");
        sbuf_adds(s, ", {\"type\": \"section\", \"text\": {\"type\": \"mrkdwn\", \"text\": ");
        if (t.data)
            alert_json_text(s, t.data, t.len);
        else
            sbuf_adds(s, "\"\"");
        sbuf_adds(s, "}}");
        sbuf_free(&t);
        sbuf_printf(s,
                    ", {\"type\": \"context\", \"elements\": [{\"type\": \"mrkdwn\", \"text\": "
                    "\"window %llu: %llu records, drift share ",
                    (unsigned long long)d->window.id, (unsigned long long)d->window.records);
        sbuf_printf(s, "%.2f (threshold %.2f)\"}]}", d->share, d->drift_share);
    }
    sbuf_adds(s, "]}");
}

/* One Alertmanager alert object. */
static void am_alert(struct http_sink *k, struct sbuf *s, const char *alertname,
                     const char *feature, const char *severity, const char *summary,
                     const char *description, double starts, double ends,
                     const struct alert_resolved_by *rb)
{
    sbuf_adds(s, "{\"labels\": {\"alertname\": ");
    add_str(s, alertname);
    sbuf_adds(s, ", \"model\": ");
    add_str(s, k->model);
    if (feature != NULL) {
        sbuf_adds(s, ", \"feature\": ");
        add_str(s, feature);
    }
    sbuf_adds(s, ", \"severity\": ");
    add_str(s, severity);
    sbuf_adds(s, ", \"service\": \"driftd\"}, \"annotations\": {\"summary\": ");
    add_str(s, summary);
    sbuf_adds(s, ", \"description\": ");
    add_str(s, description);
    if (rb != NULL) { /* what ended the episode: the adopted baseline and its run */
        char by[700];
        alert_format(by, sizeof(by), "baseline %s, run %s, correlation id %s",
                     rb->baseline ? rb->baseline : "-", rb->run_url ? rb->run_url : "-",
                     rb->correlation_id ? rb->correlation_id : "-");
        sbuf_adds(s, ", \"resolved_by\": ");
        add_str(s, by);
    }
    sbuf_adds(s, "}, \"startsAt\": ");
    add_time(s, starts);
    if (!isnan(ends)) {
        sbuf_adds(s, ", \"endsAt\": ");
        add_time(s, ends);
    }
    sbuf_adds(s, ", \"generatorURL\": ");
    add_str(s, k->generator_url);
    sbuf_adds(s, "}");
}

static void am_set_model(struct http_sink *k, const char *model)
{
    if (k->model == NULL || strcmp(k->model, model) != 0) {
        free(k->model);
        k->model = strdup(model);
    }
}

static void am_clear_features(struct http_sink *k)
{
    for (size_t i = 0; i < k->nfeatures; i++)
        free(k->features[i]);
    k->nfeatures = 0;
}

/* The firing set as one post: DataDrift plus a FeatureDrift per feature;
 * features in `resolved` (no longer drifting) are posted with endsAt. */
static void am_post_firing(struct http_sink *k, char **resolved, size_t nres, double now)
{
    struct sbuf s;
    char desc[256];
    sbuf_init(&s);
    sbuf_adds(&s, "[");
    alert_format(desc, sizeof(desc), "%zu feature%s of %s drifted from the training baseline",
                 k->nfeatures, k->nfeatures == 1 ? "" : "s", k->model);
    am_alert(k, &s, "DataDrift", NULL, "warning", k->summary, desc, k->starts_at, NAN, NULL);
    for (size_t i = 0; i < k->nfeatures; i++) {
        char sum[512];
        alert_format(sum, sizeof(sum), "Feature %s of %s drifted", k->features[i], k->model);
        sbuf_adds(&s, ", ");
        am_alert(k, &s, "FeatureDrift", k->features[i], "warning", sum, sum, k->starts_at, NAN,
                 NULL);
    }
    for (size_t i = 0; i < nres; i++) {
        char sum[512];
        alert_format(sum, sizeof(sum), "Feature %s of %s no longer drifts", resolved[i], k->model);
        sbuf_adds(&s, ", ");
        am_alert(k, &s, "FeatureDrift", resolved[i], "warning", sum, sum, k->starts_at, now, NULL);
    }
    sbuf_adds(&s, "]");
    if (!sbuf_failed(&s))
        outbox_enqueue(k->ob, k->name, s.data, s.len);
    sbuf_free(&s);
}

static void am_event(struct http_sink *k, const struct alert_event *ev)
{
    double now = k->now();
    am_set_model(k, ev->model);
    if (ev->kind != ALERT_DRIFT) {
        char sum[1024];
        alert_summary(ev, sum, sizeof(sum));
        struct sbuf s;
        sbuf_init(&s);
        sbuf_adds(&s, "[");
        /* a retrain failure fires for an hour; a finished run is not an alert */
        if (ev->kind == ALERT_RETRAIN_FAILED)
            am_alert(k, &s, "RetrainFailed", NULL, "critical", sum, ev->message ? ev->message : sum,
                     now, now + 3600, NULL);
        else if (ev->kind == ALERT_ADOPTION_FAILED)
            am_alert(k, &s, "BaselineAdoptionFailed", NULL, "warning", sum, sum, now, now + 3600,
                     NULL);
        sbuf_adds(&s, "]");
        if (ev->kind != ALERT_RETRAIN_FINISHED && !sbuf_failed(&s))
            outbox_enqueue(k->ob, k->name, s.data, s.len);
        sbuf_free(&s);
        return;
    }
    const struct alert_decision *d = ev->decision;
    if (ev->status == ALERT_FIRING) {
        char *now_set[MAX_FEATURES], *gone[MAX_FEATURES];
        size_t nn = 0, ng = 0;
        for (size_t i = 0; i < d->nfeatures && nn < MAX_FEATURES; i++)
            if (d->features[i].drift)
                now_set[nn++] = strdup(d->features[i].name);
        for (size_t i = 0; i < k->nfeatures; i++) {
            bool still = false;
            for (size_t j = 0; j < nn && !still; j++)
                still = now_set[j] != NULL && strcmp(now_set[j], k->features[i]) == 0;
            if (!still)
                gone[ng++] = k->features[i];
            else
                free(k->features[i]);
        }
        k->nfeatures = 0;
        for (size_t j = 0; j < nn; j++)
            if (now_set[j] != NULL)
                k->features[k->nfeatures++] = now_set[j];
        k->firing = true;
        k->starts_at = ev->starts_at;
        alert_summary(ev, k->summary, sizeof(k->summary));
        am_post_firing(k, gone, ng, now);
        for (size_t i = 0; i < ng; i++)
            free(gone[i]);
        struct timeval tv = {(time_t)k->resend, 0};
        evtimer_add(k->resend_timer, &tv);
        return;
    }
    /* resolved: the same label sets with endsAt = now */
    struct sbuf s;
    char sum[1024];
    alert_summary(ev, sum, sizeof(sum));
    sbuf_init(&s);
    sbuf_adds(&s, "[");
    am_alert(k, &s, "DataDrift", NULL, "warning", sum, sum, ev->starts_at, now, ev->resolved_by);
    for (size_t i = 0; i < k->nfeatures; i++) {
        sbuf_adds(&s, ", ");
        am_alert(k, &s, "FeatureDrift", k->features[i], "warning", sum, sum, ev->starts_at, now,
                 ev->resolved_by);
    }
    sbuf_adds(&s, "]");
    if (!sbuf_failed(&s))
        outbox_enqueue(k->ob, k->name, s.data, s.len);
    sbuf_free(&s);
    am_clear_features(k);
    k->firing = false;
    evtimer_del(k->resend_timer);
}

/* Alertmanager forgets a firing alert after resolve_timeout: post it again. */
static void am_resend(evutil_socket_t fd, short what, void *arg)
{
    struct http_sink *k = arg;
    (void)fd, (void)what;
    if (!k->firing)
        return;
    /* While Alertmanager is unreachable a reminder is already waiting in
     * the spool; queueing one per resend_seconds would pile up stale posts
     * (1,440 a day at 60 s) to be replayed in order when it returns. */
    if (outbox_stats(k->ob, k->name).queued == 0)
        am_post_firing(k, NULL, 0, k->now());
    struct timeval tv = {(time_t)k->resend, 0};
    evtimer_add(k->resend_timer, &tv);
}

static void sink_event(void *ctx, const struct alert_event *ev)
{
    struct http_sink *k = ctx;
    if (k->type == HTTP_SINK_ALERTMANAGER) {
        am_event(k, ev);
        return;
    }
    /* Reminders go to people's channels only every repeat_seconds, which
     * the alert state machine already paces. */
    char id[ALERT_ID_LEN];
    alert_new_id(id); /* in the body before it is spooled: every retry and replay keeps it */
    struct sbuf s;
    sbuf_init(&s);
    if (k->type == HTTP_SINK_SLACK)
        slack_body(ev, id, &s);
    else
        webhook_body(ev, id, &s);
    if (!sbuf_failed(&s))
        outbox_enqueue(k->ob, k->name, s.data, s.len);
    sbuf_free(&s);
}

const struct alert_sink_ops http_sink_ops = {"http", sink_event};

static int sink_request(void *ctx, const char *body, size_t len, struct http_request *req)
{
    struct http_sink *k = ctx;
    size_t n = 0;
    k->req_headers[n++] = (struct http_header){"Content-Type", "application/json"};
    for (size_t i = 0; i < k->n_headers && n < 34; i++)
        k->req_headers[n++] = k->headers[i];
    if (k->type == HTTP_SINK_ALERTMANAGER) {
        size_t ul = strlen(k->url);
        snprintf(k->req_url, sizeof(k->req_url), "%.*s/api/v2/alerts",
                 (int)(ul > 0 && k->url[ul - 1] == '/' ? ul - 1 : ul), k->url);
        req->url = k->req_url;
    } else {
        req->url = k->url;
    }
    req->method = "POST";
    req->headers = k->req_headers;
    req->n_headers = n;
    req->body = body;
    req->body_len = len;
    req->timeout = k->timeout;
    req->ca_file = k->ca_file;
    return 0;
}

static const struct outbox_target_ops sink_target = {sink_request, NULL, NULL};

static void free_headers(struct http_header *hs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)hs[i].name);
        free((char *)hs[i].value);
    }
    free(hs);
}

struct http_sink *http_sink_new(const struct http_sink_conf *conf, struct outbox *ob,
                                struct event_base *base, double (*now)(void))
{
    struct http_sink *k = calloc(1, sizeof(*k));
    if (k == NULL)
        return NULL;
    k->type = conf->type;
    k->ob = ob;
    k->now = now;
    k->starts_at = NAN;
    k->name = strdup(conf->name);
    k->resend_timer = evtimer_new(base, am_resend, k);
    if (k->name == NULL || k->resend_timer == NULL || http_sink_configure(k, conf) != 0) {
        http_sink_free(k);
        return NULL;
    }
    return k;
}

int http_sink_configure(struct http_sink *k, const struct http_sink_conf *conf)
{
    /* the new settings are made aside: a failure leaves the old ones whole */
    char *url = secret_dup(conf->url); /* a url_file's URL embeds a secret */
    char *ca_file = conf->ca_file ? strdup(conf->ca_file) : NULL;
    char *gen = strdup(conf->generator_url ? conf->generator_url : "");
    struct http_header *hs = calloc(conf->n_headers ? conf->n_headers : 1, sizeof(*hs));
    size_t nh = 0;
    bool bad =
        url == NULL || (conf->ca_file != NULL && ca_file == NULL) || gen == NULL || hs == NULL;
    for (; !bad && nh < conf->n_headers; nh++) {
        hs[nh].name = strdup(conf->headers[nh].name);
        hs[nh].value = strdup(conf->headers[nh].value);
        bad = hs[nh].name == NULL || hs[nh].value == NULL;
    }
    if (bad || outbox_update_target(k->ob, k->name, &sink_target, k, conf->max_age) != 0) {
        secret_free(url), free(ca_file), free(gen);
        if (hs != NULL)
            free_headers(hs, nh); /* nh counts a pair that failed half-way too */
        return -1;
    }
    free_headers(k->headers, k->n_headers);
    secret_free(k->url), free(k->ca_file), free(k->generator_url);
    k->url = url;
    k->ca_file = ca_file;
    k->generator_url = gen;
    k->headers = hs;
    k->n_headers = nh;
    if (k->type != conf->type) { /* a name names one type; kept safe anyway */
        http_sink_retire(k);
        k->type = conf->type;
    }
    k->timeout = conf->timeout > 0 ? conf->timeout : 10;
    k->resend = conf->resend_seconds >= 1 ? conf->resend_seconds : 60;
    k->max_age = conf->max_age;
    if (k->firing) { /* the next re-post at the new interval */
        struct timeval tv = {(time_t)k->resend, 0};
        evtimer_add(k->resend_timer, &tv);
    }
    return 0;
}

void http_sink_free(struct http_sink *k)
{
    if (k == NULL)
        return;
    if (k->resend_timer != NULL)
        event_free(k->resend_timer);
    am_clear_features(k);
    free_headers(k->headers, k->n_headers);
    free(k->name), secret_free(k->url), free(k->ca_file), free(k->generator_url), free(k->model);
    free(k);
}

void http_sink_retire(struct http_sink *k)
{
    evtimer_del(k->resend_timer);
    k->firing = false;
    am_clear_features(k);
}

const char *http_sink_name(const struct http_sink *k)
{
    return k->name;
}
