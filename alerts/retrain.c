#include "alerts/retrain.h"

#include "lib/file.h"
#include "lib/jnum.h"
#include "lib/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct retrain {
    char *model;
    uint64_t consecutive;
    double cooldown;
    bool dry_run;
    struct alerts *alerts;
    struct outbox *ob;
    struct http_client *http;
    struct event_base *base;
    double (*now)(void);
    char *file; /* retrain.json */
    void (*changed)(void *);
    void *arg;
    struct github *github; /* NULL: not configured */

    uint64_t consecutive_drift;
    double last_dispatch_at, cooldown_until;
    char corr[64]; /* the correlation id of the last dispatch */

    /* who else hears GitHub's news (the closed loop) */
    void (*news)(void *arg, enum alert_kind kind, const struct github_state *st);
    void (*run_status)(void *arg, const struct github_state *st);
    void *news_arg;
};

/* GitHub's news (a dispatch failed, a run finished) goes to every sink, and
 * the state has changed. */
static void on_github(void *arg, enum alert_kind kind, const struct github_state *st)
{
    struct retrain *rt = arg;
    alerts_retrain(rt->alerts, kind, st->correlation_id,
                   kind == ALERT_RETRAIN_FAILED ? st->message : st->run_conclusion,
                   st->run_url[0] ? st->run_url : NULL, st->http_status, rt->now());
    if (rt->news != NULL)
        rt->news(rt->news_arg, kind, st);
    if (rt->changed != NULL)
        rt->changed(rt->arg);
}

/* The run changed status (queued, in_progress, completed). */
static void on_run_status(void *arg, const struct github_state *st)
{
    struct retrain *rt = arg;
    if (rt->run_status != NULL)
        rt->run_status(rt->news_arg, st);
}

void retrain_on_news(struct retrain *rt,
                     void (*news)(void *arg, enum alert_kind kind, const struct github_state *st),
                     void (*run_status)(void *arg, const struct github_state *st), void *arg)
{
    rt->news = news;
    rt->run_status = run_status;
    rt->news_arg = arg;
}

struct github *retrain_github(struct retrain *rt)
{
    return rt->github;
}

const char *retrain_correlation_id(const struct retrain *rt)
{
    return rt->corr;
}

struct retrain *retrain_new(const struct retrain_conf *conf, struct alerts *alerts,
                            struct outbox *ob, struct http_client *http, struct event_base *base,
                            double (*now)(void), const char *retrain_file,
                            void (*changed)(void *arg), void *arg)
{
    struct retrain *rt = calloc(1, sizeof(*rt));
    if (rt == NULL)
        return NULL;
    rt->alerts = alerts;
    rt->ob = ob;
    rt->http = http;
    rt->base = base;
    rt->now = now;
    rt->changed = changed;
    rt->arg = arg;
    rt->file = strdup(retrain_file);
    if (rt->file == NULL || retrain_configure(rt, conf) != 0) {
        retrain_free(rt);
        return NULL;
    }
    return rt;
}

void retrain_free(struct retrain *rt)
{
    if (rt == NULL)
        return;
    github_free(rt->github);
    free(rt->model);
    free(rt->file);
    free(rt);
}

int retrain_configure(struct retrain *rt, const struct retrain_conf *conf)
{
    char *model = strdup(conf->model != NULL ? conf->model : "model");
    if (model == NULL)
        return -1;
    free(rt->model);
    rt->model = model;
    rt->consecutive = conf->consecutive;
    rt->cooldown = conf->cooldown;
    rt->dry_run = conf->dry_run;
    if (conf->github == NULL)
        return 0;
    struct github_settings s = *conf->github;
    s.dry_run = conf->dry_run;
    if (rt->github != NULL)
        return github_configure(rt->github, &s);
    rt->github = github_new(&s, rt->ob, rt->http, rt->base, rt->now, on_github, rt);
    if (rt->github != NULL)
        github_set_run_hook(rt->github, on_run_status, rt);
    return rt->github != NULL ? 0 : -1;
}

/* Write the cooldown to its own file: it must survive a crash in the next
 * second too, not wait for the next save of the state file. */
static enum retrain_write save_file(const struct retrain *rt)
{
    char buf[160];
    int n = snprintf(buf, sizeof(buf), "{\"last_dispatch_at\": %.3f, \"cooldown_until\": %.3f}\n",
                     rt->last_dispatch_at, rt->cooldown_until);
    if (file_write_atomic(rt->file, buf, (size_t)n, 0600, 0) != 0)
        return RETRAIN_WRITE_FAILED;
    return RETRAIN_WRITTEN;
}

/* Dispatch the workflow when drift has held long enough and the cooldown
 * has passed; returns the correlation id (rt's) or NULL. */
static const char *maybe_dispatch(struct retrain *rt, const struct alert_decision *d,
                                  enum retrain_write *wrote)
{
    double end = d->window.end;
    if (rt->github == NULL || !d->drift || rt->consecutive_drift < rt->consecutive)
        return NULL;
    if (end < rt->cooldown_until) {
        log_info("retrain: dataset drift for %llu windows, but the cooldown lasts until %.0f",
                 (unsigned long long)rt->consecutive_drift, rt->cooldown_until);
        return NULL;
    }
    char names[4096] = "", share[32], wend[32];
    size_t n = 0;
    for (size_t i = 0; i < d->nfeatures && n < sizeof(names) - 1; i++)
        if (d->features[i].drift)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? "," : "",
                                  d->features[i].name);
    if (n >= sizeof(names))
        n = sizeof(names) - 1;
    names[alert_utf8_cut(names, n, n)] = '\0'; /* a cut name ends before its last character */
    snprintf(share, sizeof(share), "%.4g", d->share);
    alert_time(end, wend, sizeof(wend));
    /* unique enough to find the run by it among a repository's runs; not a secret */
    unsigned rnd = (unsigned)(((uint64_t)(end * 1e6)) ^ ((uint64_t)getpid() << 16)) & 0xffffff;
    snprintf(rt->corr, sizeof(rt->corr), "driftd-%llu-%06x", (unsigned long long)d->window.id, rnd);
    struct github_vars v = {rt->model, names, share, wend, rt->corr, "warning"};
    if (github_dispatch(rt->github, &v) != 0)
        return NULL;
    rt->last_dispatch_at = end;
    rt->cooldown_until = end + rt->cooldown;
    *wrote = save_file(rt);
    return rt->corr;
}

enum retrain_write retrain_window(struct retrain *rt, const struct alert_decision *d, double now)
{
    enum retrain_write wrote = RETRAIN_NOT_WRITTEN;
    rt->consecutive_drift = d->drift ? rt->consecutive_drift + 1 : 0;
    struct alert_decision dec = *d;
    /* the dispatch goes first, so the alert can say which run it started */
    dec.correlation_id = maybe_dispatch(rt, d, &wrote);
    int err = errno;
    alerts_window(rt->alerts, &dec, now);
    errno = err;
    return wrote;
}

uint64_t retrain_consecutive(const struct retrain *rt)
{
    return rt->consecutive_drift;
}

void retrain_restore_consecutive(struct retrain *rt, uint64_t n)
{
    rt->consecutive_drift = n;
}

void retrain_state_json(const struct retrain *rt, struct sbuf *s)
{
    sbuf_printf(s, "{\"last_dispatch_at\": %.3f, \"cooldown_until\": %.3f", rt->last_dispatch_at,
                rt->cooldown_until);
    if (rt->github != NULL) {
        const struct github_state *g = github_state(rt->github);
        const char *keys[] = {"result",     "message",        "run_url",
                              "run_status", "run_conclusion", "correlation_id"};
        const char *vals[] = {g->result,     g->message,        g->run_url,
                              g->run_status, g->run_conclusion, g->correlation_id};
        for (int i = 0; i < 6; i++) {
            sbuf_printf(s, ", \"%s\": ", keys[i]);
            sbuf_add_json_string(s, vals[i], strlen(vals[i]));
        }
        sbuf_printf(s,
                    ", \"http_status\": %ld, \"run_id\": %llu, \"ok\": %llu, \"failed\": %llu, "
                    "\"dry_runs\": %llu",
                    g->http_status, (unsigned long long)g->run_id, (unsigned long long)g->ok,
                    (unsigned long long)g->failed, (unsigned long long)g->dry_runs);
    }
    sbuf_adds(s, "}");
}

/* A non-negative number member, else 0 (as the state file's loader reads
 * every counter). */
static uint64_t u64(const cJSON *o, const char *key)
{
    return jnum_count_or0(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Copy a string member into a fixed buffer; absent: unchanged. */
static void take_str(const cJSON *o, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        snprintf(out, len, "%s", v->valuestring);
}

/* retrain.json, written at each dispatch, wins over an older state file. */
static void load_file(struct retrain *rt)
{
    size_t len;
    char *text = file_read(rt->file, &len);
    if (text == NULL)
        return;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "last_dispatch_at");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cooldown_until");
    if (jnum_time_or0(a) > rt->last_dispatch_at)
        rt->last_dispatch_at = jnum_time_or0(a);
    if (jnum_time_or0(c) > rt->cooldown_until)
        rt->cooldown_until = jnum_time_or0(c);
    cJSON_Delete(j);
}

void retrain_state_load(struct retrain *rt, const cJSON *r)
{
    if (cJSON_IsObject(r)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "last_dispatch_at");
        rt->last_dispatch_at = jnum_time_or0(v);
        v = cJSON_GetObjectItemCaseSensitive(r, "cooldown_until");
        rt->cooldown_until = jnum_time_or0(v);
        if (rt->github != NULL) {
            struct github_state g = *github_state(rt->github);
            take_str(r, "result", g.result, sizeof(g.result));
            take_str(r, "message", g.message, sizeof(g.message));
            take_str(r, "run_url", g.run_url, sizeof(g.run_url));
            take_str(r, "run_status", g.run_status, sizeof(g.run_status));
            take_str(r, "run_conclusion", g.run_conclusion, sizeof(g.run_conclusion));
            take_str(r, "correlation_id", g.correlation_id, sizeof(g.correlation_id));
            g.http_status = (long)u64(r, "http_status");
            g.run_id = u64(r, "run_id");
            g.ok = u64(r, "ok");
            g.failed = u64(r, "failed");
            g.dry_runs = u64(r, "dry_runs");
            github_restore(rt->github, &g);
        }
    }
    load_file(rt);
}

/* A JSON string, or null for an empty one. */
static void str_or_null(struct sbuf *s, const char *v)
{
    if (v[0])
        sbuf_add_json_string(s, v, strlen(v));
    else
        sbuf_adds(s, "null");
}

void retrain_status_json(const struct retrain *rt, const char *run_extra, struct sbuf *s)
{
    if (rt->github == NULL) {
        sbuf_adds(s, "{\"configured\": false");
    } else {
        const struct github_state *g = github_state(rt->github);
        sbuf_printf(s, "{\"configured\": true, \"dry_run\": %s, \"last_dispatch_at\": ",
                    rt->dry_run ? "true" : "false");
        alert_time_json(s, rt->last_dispatch_at);
        sbuf_adds(s, ", \"cooldown_until\": ");
        alert_time_json(s, rt->cooldown_until);
        if (g->result[0]) {
            sbuf_adds(s, ", \"last_result\": {\"status\": ");
            sbuf_add_json_string(s, g->result, strlen(g->result));
            sbuf_printf(s, ", \"http_status\": %ld, \"message\": ", g->http_status);
            str_or_null(s, g->message);
            sbuf_adds(s, ", \"correlation_id\": ");
            sbuf_add_json_string(s, g->correlation_id, strlen(g->correlation_id));
            sbuf_adds(s, "}");
        } else {
            sbuf_adds(s, ", \"last_result\": null");
        }
        sbuf_adds(s, ", \"last_run_url\": ");
        str_or_null(s, g->run_url);
        sbuf_adds(s, ", \"run\": ");
        if (g->run_status[0]) {
            sbuf_printf(s, "{\"id\": %llu, \"status\": ", (unsigned long long)g->run_id);
            sbuf_add_json_string(s, g->run_status, strlen(g->run_status));
            sbuf_adds(s, ", \"conclusion\": ");
            str_or_null(s, g->run_conclusion);
            if (run_extra != NULL)
                sbuf_adds(s, run_extra);
            sbuf_adds(s, "}");
        } else {
            sbuf_adds(s, "null");
        }
    }
    sbuf_printf(s, ", \"consecutive_drift\": %llu, \"consecutive\": %llu}",
                (unsigned long long)rt->consecutive_drift, (unsigned long long)rt->consecutive);
}

struct retrain_counts retrain_counts(const struct retrain *rt)
{
    struct retrain_counts c = {0};
    if (rt->github != NULL) {
        const struct github_state *g = github_state(rt->github);
        c.ok = g->ok;
        c.failed = g->failed;
        c.dry_runs = g->dry_runs;
    }
    return c;
}
