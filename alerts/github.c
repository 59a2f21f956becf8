#include "alerts/github.h"

#include "alerts/secret.h"
#include "lib/log.h"
#include "lib/sbuf.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TARGET "github"
#define FOLLOW_GIVE_UP (12 * 3600.0)

struct github {
    struct github_settings s;
    char *strs[7]; /* owned copies of the settings' strings */
    struct github_input *inputs;
    struct outbox *ob;
    struct http_client *http;
    struct event_base *base;
    double (*now)(void);
    void (*event)(void *, enum alert_kind, const struct github_state *);
    void *arg;
    struct github_state st;
    char url[2048], accept[64], version[64];
    char *auth; /* "Bearer <token>", in secret pages (AUTH_MAX bytes) */
    struct http_header hdr[5];
    struct event *follow_timer;
    double follow_since, dispatched_at;
    bool polling;
    void (*run_hook)(void *, const struct github_state *);
    void *run_hook_arg;
    struct artifact_fetch *fetch; /* the one running, or NULL */
    artifact_done_fn fetch_done;
    void *fetch_arg;
};

int github_expand(const char *tmpl, const struct github_vars *v, struct sbuf *out, char *bad,
                  size_t badlen)
{
#define VAR_ROW(name, by_default) {#name, v->name},
    const struct {
        const char *name, *value;
    } vars[] = {GITHUB_TEMPLATE_VARS(VAR_ROW)};
#undef VAR_ROW
    const char *p = tmpl;
    while (*p) {
        const char *d = strstr(p, "${");
        if (d == NULL) {
            sbuf_adds(out, p);
            break;
        }
        sbuf_add(out, p, (size_t)(d - p));
        const char *close = strchr(d, '}');
        if (close == NULL) {
            snprintf(bad, badlen, "%s", d);
            return -1;
        }
        size_t n = (size_t)(close - d - 2);
        bool found = false;
        for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
            if (strlen(vars[i].name) == n && strncmp(d + 2, vars[i].name, n) == 0) {
                sbuf_adds(out, vars[i].value ? vars[i].value : "");
                found = true;
            }
        }
        if (!found) {
            snprintf(bad, badlen, "%.*s", (int)(n < 64 ? n : 64), d + 2);
            return -1;
        }
        p = close + 1;
    }
    return 0;
}

/* The message of a GitHub error body ({"message": "..."}), or the body. */
static void github_message(const struct http_response *res, char *out, size_t len)
{
    cJSON *j = res->body_len ? cJSON_ParseWithLength(res->body, res->body_len) : NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (cJSON_IsString(m))
        snprintf(out, len, "%s", m->valuestring);
    else if (res->status == 0)
        snprintf(out, len, "%s", res->error ? res->error : "no answer");
    else
        snprintf(out, len, "HTTP %ld%s%.200s", res->status, res->body_len ? ": " : "",
                 res->body_len ? res->body : "");
    cJSON_Delete(j);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
}

#define AUTH_MAX 4096

static void set_headers(struct github *g)
{
    snprintf(g->auth, AUTH_MAX, "Bearer %s", g->s.token ? g->s.token : "");
    snprintf(g->version, sizeof(g->version), "%s",
             g->s.api_version ? g->s.api_version : "2022-11-28");
    g->hdr[0] = (struct http_header){"Accept", "application/vnd.github+json"};
    g->hdr[1] = (struct http_header){"Authorization", g->auth};
    g->hdr[2] = (struct http_header){"X-GitHub-Api-Version", g->version};
    g->hdr[3] = (struct http_header){"Content-Type", "application/json"};
}

static int gh_request(void *ctx, const char *body, size_t len, struct http_request *req)
{
    struct github *g = ctx;
    if (g->s.token == NULL || g->s.repository == NULL || g->s.workflow == NULL)
        return -1;
    snprintf(g->url, sizeof(g->url), "%s/repos/%s/actions/workflows/%s/dispatches", g->s.api_url,
             g->s.repository, g->s.workflow);
    set_headers(g);
    req->method = "POST";
    req->url = g->url;
    req->headers = g->hdr;
    req->n_headers = 4;
    req->body = body;
    req->body_len = len;
    req->timeout = g->s.timeout > 0 ? g->s.timeout : 30;
    req->ca_file = g->s.ca_file;
    return 0;
}

/* GitHub's rules: primary limit (remaining 0) waits for the reset, the
 * secondary limit for retry-after or at least a minute; other 4xx are
 * permanent. */
static enum deliver_result gh_classify(void *ctx, const struct http_response *res, double *wait)
{
    struct github *g = ctx;
    long st = res->status;
    if (st >= 200 && st < 300)
        return DELIVER_OK;
    bool limited = false;
    if (st == 403 || st == 429) {
        if (res->ratelimit_remaining == 0 && !isnan(res->ratelimit_reset)) {
            *wait = res->ratelimit_reset - g->now() + 1;
            limited = true;
        } else if (!isnan(res->retry_after)) {
            *wait = res->retry_after;
            limited = true;
        } else if (st == 429 || (res->body_len && strcasestr(res->body, "rate limit") != NULL)) {
            *wait = 60;
            limited = true;
        }
    }
    g->st.http_status = st;
    if (limited || st == 0 || st == 408 || st >= 500) {
        snprintf(g->st.result, sizeof(g->st.result), "retrying");
        github_message(res, g->st.message, sizeof(g->st.message));
        log_warn("github: dispatch not accepted yet (%s); will retry%s", g->st.message,
                 limited ? " after the rate limit" : "");
        return DELIVER_RETRY;
    }
    return DELIVER_FAIL;
}

/* Tell the run hook when the run's status or conclusion differ from
 * what they were before (status_before, conclusion_before). */
static void run_changed(struct github *g, const char *status_before, const char *conclusion_before)
{
    if (g->run_hook != NULL && (strcmp(status_before, g->st.run_status) != 0 ||
                                strcmp(conclusion_before, g->st.run_conclusion) != 0))
        g->run_hook(g->run_hook_arg, &g->st);
}

static void follow_schedule(struct github *g, double delay)
{
    struct timeval tv = {(time_t)delay, (suseconds_t)((delay - floor(delay)) * 1e6)};
    evtimer_add(g->follow_timer, &tv);
}

static void gh_finished(void *ctx, const char *body, size_t len, enum deliver_result r,
                        const struct http_response *res)
{
    struct github *g = ctx;
    g->st.http_status = res->status;
    /* The entry may be one replayed from the spool of an earlier process
     * (a crash before state.json was saved leaves no correlation id, and
     * dispatched_at is 0 here, which searched runs "created since 1969"
     * and never matched): take the correlation id from the body that was
     * sent, and search runs created since GitHub accepted it (found by
     * tests/integration/test_durability.sh part 4). */
    for (size_t i = 0; r == DELIVER_OK && i < g->s.n_inputs; i++) {
        if (strcmp(g->s.inputs[i].template, "${correlation_id}") != 0)
            continue;
        cJSON *sent = cJSON_ParseWithLength(body, len);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(sent, "inputs"), g->s.inputs[i].name);
        if (cJSON_IsString(v))
            snprintf(g->st.correlation_id, sizeof(g->st.correlation_id), "%s", v->valuestring);
        cJSON_Delete(sent);
        break;
    }
    if (r == DELIVER_OK)
        g->dispatched_at = g->now();
    if (r != DELIVER_OK) {
        snprintf(g->st.result, sizeof(g->st.result), "failed");
        github_message(res, g->st.message, sizeof(g->st.message));
        g->st.failed++;
        log_err("github: workflow dispatch failed (HTTP %ld): %s", res->status, g->st.message);
        if (g->event)
            g->event(g->arg, ALERT_RETRAIN_FAILED, &g->st);
        return;
    }
    snprintf(g->st.result, sizeof(g->st.result), "ok");
    g->st.message[0] = '\0';
    g->st.ok++;
    g->st.run_id = 0;
    g->st.run_url[0] = g->st.run_status[0] = g->st.run_conclusion[0] = '\0';
    cJSON *j = res->body_len ? cJSON_ParseWithLength(res->body, res->body_len) : NULL;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "workflow_run_id");
    const cJSON *html = cJSON_GetObjectItemCaseSensitive(j, "html_url");
    const cJSON *run_url = cJSON_GetObjectItemCaseSensitive(j, "run_url");
    if (cJSON_IsNumber(id))
        g->st.run_id = (uint64_t)id->valuedouble;
    if (cJSON_IsString(html))
        snprintf(g->st.run_url, sizeof(g->st.run_url), "%s", html->valuestring);
    else if (cJSON_IsString(run_url))
        snprintf(g->st.run_url, sizeof(g->st.run_url), "%s", run_url->valuestring);
    cJSON_Delete(j);
    log_notice("github: workflow dispatched (HTTP %ld, correlation id %s)%s%s", res->status,
               g->st.correlation_id, g->st.run_url[0] ? ", run " : "", g->st.run_url);
    snprintf(g->st.run_status, sizeof(g->st.run_status), "requested");
    run_changed(g, "", "");
    g->follow_since = g->now();
    follow_schedule(g, g->s.follow_seconds > 0 ? g->s.follow_seconds : 30);
}

static const struct outbox_target_ops gh_target = {gh_request, gh_classify, gh_finished};

/* A run object: status, conclusion, html_url. */
static void take_run(struct github *g, const cJSON *run)
{
    char status_before[sizeof(g->st.run_status)], conclusion_before[sizeof(g->st.run_conclusion)];
    memcpy(status_before, g->st.run_status, sizeof(status_before));
    memcpy(conclusion_before, g->st.run_conclusion, sizeof(conclusion_before));
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(run, "status");
    const cJSON *co = cJSON_GetObjectItemCaseSensitive(run, "conclusion");
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(run, "html_url");
    if (cJSON_IsNumber(id))
        g->st.run_id = (uint64_t)id->valuedouble;
    if (cJSON_IsString(st))
        snprintf(g->st.run_status, sizeof(g->st.run_status), "%s", st->valuestring);
    snprintf(g->st.run_conclusion, sizeof(g->st.run_conclusion), "%s",
             cJSON_IsString(co) ? co->valuestring : "");
    if (cJSON_IsString(url))
        snprintf(g->st.run_url, sizeof(g->st.run_url), "%s", url->valuestring);
    run_changed(g, status_before, conclusion_before);
}

static void on_poll(void *arg, const struct http_response *res)
{
    struct github *g = arg;
    g->polling = false;
    double next = g->s.follow_seconds > 0 ? g->s.follow_seconds : 30;
    if (res->status == 200) {
        cJSON *j = cJSON_ParseWithLength(res->body, res->body_len);
        if (g->st.run_id == 0) {
            /* find our run by the correlation id in its display_title */
            const cJSON *runs = cJSON_GetObjectItemCaseSensitive(j, "workflow_runs"), *r;
            cJSON_ArrayForEach(r, runs)
            {
                const cJSON *t = cJSON_GetObjectItemCaseSensitive(r, "display_title");
                if (cJSON_IsString(t) && g->st.correlation_id[0] &&
                    strstr(t->valuestring, g->st.correlation_id) != NULL) {
                    take_run(g, r);
                    break;
                }
            }
        } else {
            take_run(g, j);
        }
        cJSON_Delete(j);
        if (strcmp(g->st.run_status, "completed") == 0) {
            log_notice("github: run %llu completed: %s %s", (unsigned long long)g->st.run_id,
                       g->st.run_conclusion, g->st.run_url);
            if (g->event)
                g->event(g->arg, ALERT_RETRAIN_FINISHED, &g->st);
            return;
        }
    } else if (res->status == 403 || res->status == 429) {
        if (res->ratelimit_remaining == 0 && !isnan(res->ratelimit_reset))
            next = fmax(next, res->ratelimit_reset - g->now() + 1);
        else if (!isnan(res->retry_after))
            next = fmax(next, res->retry_after);
        else
            next = fmax(next, 60);
    } else if (res->status >= 400 && res->status < 500 && res->status != 408) {
        char msg[512];
        github_message(res, msg, sizeof(msg));
        log_warn("github: cannot follow the run (HTTP %ld: %s); giving up", res->status, msg);
        return;
    }
    if (g->now() - g->follow_since < FOLLOW_GIVE_UP)
        follow_schedule(g, next);
}

static void on_follow(evutil_socket_t fd, short what, void *arg)
{
    struct github *g = arg;
    (void)fd, (void)what;
    if (g->polling || g->s.token == NULL)
        return;
    char url[2048];
    if (g->st.run_id != 0) {
        snprintf(url, sizeof(url), "%s/repos/%s/actions/runs/%llu", g->s.api_url, g->s.repository,
                 (unsigned long long)g->st.run_id);
    } else {
        char since[32];
        alert_time(g->dispatched_at - 60, since, sizeof(since));
        snprintf(url, sizeof(url),
                 "%s/repos/%s/actions/workflows/%s/runs?event=workflow_dispatch&created=%%3E%%3D%s",
                 g->s.api_url, g->s.repository, g->s.workflow, since);
    }
    set_headers(g);
    struct http_request req = {
        "GET", url, g->hdr, 3, NULL, 0, g->s.timeout > 0 ? g->s.timeout : 30, g->s.ca_file, 0};
    if (http_client_send(g->http, &req, on_poll, g) == 0)
        g->polling = true;
    else
        follow_schedule(g, 60);
}

static void free_settings(struct github *g)
{
    for (size_t i = 0; i < 7; i++)
        if (i == 4)
            secret_free(g->strs[i]); /* the token */
        else
            free(g->strs[i]);
    memset(g->strs, 0, sizeof(g->strs));
    for (size_t i = 0; g->inputs != NULL && i < g->s.n_inputs; i++) {
        free((char *)g->inputs[i].name);
        free((char *)g->inputs[i].template);
    }
    free(g->inputs);
    g->inputs = NULL;
}

int github_configure(struct github *g, const struct github_settings *s)
{
    free_settings(g);
    g->s = *s;
    const char *src[7] = {s->api_url, s->repository,  s->workflow, s->ref,
                          s->token,   s->api_version, s->ca_file};
    for (size_t i = 0; i < 7; i++)
        g->strs[i] = src[i] == NULL ? NULL : i == 4 ? secret_dup(src[i]) : strdup(src[i]);
    g->s.api_url = g->strs[0] ? g->strs[0] : "https://api.github.com";
    g->s.repository = g->strs[1];
    g->s.workflow = g->strs[2];
    g->s.ref = g->strs[3] ? g->strs[3] : "main";
    g->s.token = g->strs[4];
    g->s.api_version = g->strs[5];
    g->s.ca_file = g->strs[6];
    /* a trailing slash would double in the URL */
    size_t ul = strlen(g->s.api_url);
    if (g->strs[0] && ul > 0 && g->strs[0][ul - 1] == '/')
        g->strs[0][ul - 1] = '\0';
    g->inputs = calloc(s->n_inputs ? s->n_inputs : 1, sizeof(*g->inputs));
    if (g->inputs == NULL)
        return -1;
    for (size_t i = 0; i < s->n_inputs; i++) {
        g->inputs[i].name = strdup(s->inputs[i].name);
        g->inputs[i].template = strdup(s->inputs[i].template);
    }
    g->s.inputs = g->inputs;
    return outbox_update_target(g->ob, TARGET, &gh_target, g, s->max_age);
}

struct github *
github_new(const struct github_settings *s, struct outbox *ob, struct http_client *http,
           struct event_base *base, double (*now)(void),
           void (*event)(void *arg, enum alert_kind kind, const struct github_state *st), void *arg)
{
    struct github *g = calloc(1, sizeof(*g));
    if (g == NULL)
        return NULL;
    g->ob = ob;
    g->http = http;
    g->base = base;
    g->now = now;
    (void)log; /* transitional: lines go through lib/log */
    g->event = event;
    g->arg = arg;
    g->follow_timer = evtimer_new(base, on_follow, g);
    size_t auth_size;
    if ((g->auth = secret_alloc(AUTH_MAX, &auth_size)) == NULL || g->follow_timer == NULL ||
        github_configure(g, s) != 0) {
        github_free(g);
        return NULL;
    }
    return g;
}

void github_free(struct github *g)
{
    if (g == NULL)
        return;
    if (g->follow_timer != NULL)
        event_free(g->follow_timer);
    artifact_fetch_free(g->fetch);
    free_settings(g);
    if (g->auth != NULL)
        secret_release(g->auth, AUTH_MAX, AUTH_MAX); /* madvise rounds up to the page */
    free(g);
}

int github_dispatch(struct github *g, const struct github_vars *v)
{
    struct sbuf body, val;
    char bad[80];
    sbuf_init(&body);
    sbuf_adds(&body, "{\"ref\": ");
    sbuf_add_json_string(&body, g->s.ref, strlen(g->s.ref));
    sbuf_adds(&body, ", \"inputs\": {");
    for (size_t i = 0; i < g->s.n_inputs; i++) {
        sbuf_init(&val);
        if (github_expand(g->s.inputs[i].template, v, &val, bad, sizeof(bad)) != 0) {
            log_err("github: input %s: unknown template variable ${%s}", g->s.inputs[i].name, bad);
            sbuf_free(&val);
            sbuf_free(&body);
            return -1;
        }
        if (i)
            sbuf_adds(&body, ", ");
        sbuf_add_json_string(&body, g->s.inputs[i].name, strlen(g->s.inputs[i].name));
        sbuf_adds(&body, ": ");
        /* every value a JSON string, as GitHub requires, and valid UTF-8
         * even where ${drifted_features} was cut to a size */
        alert_json_text(&body, val.data ? val.data : "", val.len);
        sbuf_free(&val);
    }
    sbuf_adds(&body, "}}");
    if (sbuf_failed(&body)) {
        sbuf_free(&body);
        return -1;
    }
    snprintf(g->st.correlation_id, sizeof(g->st.correlation_id), "%s",
             v->correlation_id ? v->correlation_id : "");
    g->dispatched_at = g->now();
    if (g->s.dry_run) {
        log_notice("github: dry run: POST %s/repos/%s/actions/workflows/%s/dispatches "
                   "Accept: application/vnd.github+json, Authorization: Bearer <token>, "
                   "X-GitHub-Api-Version: %s, Content-Type: application/json, User-Agent: "
                   "driftd/" DRIFTD_VERSION "; "
                   "body %s",
                   g->s.api_url, g->s.repository ? g->s.repository : "?",
                   g->s.workflow ? g->s.workflow : "?",
                   g->s.api_version ? g->s.api_version : "2022-11-28", body.data);
        snprintf(g->st.result, sizeof(g->st.result), "dry_run");
        g->st.dry_runs++;
        sbuf_free(&body);
        return 0;
    }
    if (g->s.token == NULL) {
        log_err("github: no token (retrain.github.token_file or $DRIFTD_GITHUB_TOKEN); "
                "dispatch not sent");
        snprintf(g->st.result, sizeof(g->st.result), "failed");
        snprintf(g->st.message, sizeof(g->st.message), "no token configured");
        sbuf_free(&body);
        return -1;
    }
    int rc = outbox_enqueue(g->ob, TARGET, body.data, body.len);
    if (rc == 0)
        snprintf(g->st.result, sizeof(g->st.result), "retrying"), g->st.message[0] = '\0';
    sbuf_free(&body);
    return rc;
}

const struct github_state *github_state(const struct github *g)
{
    return &g->st;
}

void github_restore(struct github *g, const struct github_state *st)
{
    g->st = *st;
    /* a run being followed when we stopped: follow it again */
    if (strcmp(g->st.result, "ok") == 0 && g->st.run_status[0] &&
        strcmp(g->st.run_status, "completed") != 0) {
        g->follow_since = g->now();
        follow_schedule(g, 1);
    }
}

void github_set_run_hook(struct github *g, void (*fn)(void *arg, const struct github_state *st),
                         void *arg)
{
    g->run_hook = fn;
    g->run_hook_arg = arg;
}

/* The fetch is over (it frees itself after this): forget it, then tell the
 * caller. */
static void fetch_done(void *arg, const struct artifact_result *r)
{
    struct github *g = arg;
    g->fetch = NULL;
    g->fetch_done(g->fetch_arg, r);
}

bool github_fetch_running(const struct github *g)
{
    return g->fetch != NULL;
}

int github_fetch_artifact(struct github *g, uint64_t run_id, const char *artifact_name,
                          size_t max_bytes, const char *member, artifact_done_fn done, void *arg,
                          char *err, size_t errlen)
{
    const char *why = NULL;
    if (g->s.dry_run)
        why = "dry run: the artifact is not fetched";
    else if (g->s.token == NULL)
        why = "no token (retrain.github.token_file or $DRIFTD_GITHUB_TOKEN)";
    else if (g->s.repository == NULL)
        why = "no repository configured";
    else if (g->fetch != NULL)
        why = "a fetch of an artifact is already running";
    else if (artifact_name == NULL || member == NULL || max_bytes == 0 || done == NULL)
        why = "no artifact name, member or size limit";
    if (why != NULL) {
        snprintf(err, errlen, "github: artifact %s of run %llu: %s",
                 artifact_name ? artifact_name : "?", (unsigned long long)run_id, why);
        return -1;
    }
    set_headers(g);
    struct artifact_fetch_settings s = {
        .api_url = g->s.api_url,
        .repository = g->s.repository,
        .headers = g->hdr, /* Accept, Authorization, X-GitHub-Api-Version */
        .n_headers = 3,
        .ca_file = g->s.ca_file,
        /* a zip of megabytes: more than a dispatch's time */
        .timeout = g->s.timeout > 120 ? g->s.timeout : 120,
        .max_age = g->s.max_age,
        .run_id = run_id,
        .artifact_name = artifact_name,
        .max_bytes = max_bytes,
        .member = member,
        .run_url = g->st.run_id == run_id ? g->st.run_url : "",
    };
    g->fetch_done = done;
    g->fetch_arg = arg;
    g->fetch = artifact_fetch_start(&s, g->http, g->base, g->now, fetch_done, g);
    if (g->fetch == NULL) {
        snprintf(err, errlen, "github: artifact %s of run %llu: cannot start the fetch",
                 artifact_name, (unsigned long long)run_id);
        return -1;
    }
    log_info("github: fetching %s from artifact %s of run %llu", member, artifact_name,
             (unsigned long long)run_id);
    return 0;
}
