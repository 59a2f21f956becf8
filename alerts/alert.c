#include "alerts/alert.h"

#include "lib/log.h"
#include "lib/jnum.h"
#include "lib/sbuf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_SINKS 32

struct alerts {
    char *model;
    uint64_t resolve_after;
    double repeat_seconds;
    struct {
        const struct alert_sink_ops *ops;
        void *ctx;
    } sinks[MAX_SINKS];
    size_t nsinks;

    bool firing;
    bool restored;  /* firing from saved state: the sinks know nothing yet */
    uint64_t clean; /* clean windows in a row while firing */
    double starts_at, last_sent;
    char fingerprint[17];
    uint64_t sent;
    /* the latest drifted window, for reminders between windows */
    struct alert_decision last;
    struct alert_feature *last_features;
    char **last_names;
};

/* 64-bit FNV-1a of the alert's identity (model + alertname), in hex: the
 * same drift episode of the same model always has the same fingerprint. */
static void fingerprint(const char *model, char out[17])
{
    uint64_t h = 1469598103934665603ULL;
    const char *parts[] = {model, "\x1f", "DataDrift"};
    for (size_t p = 0; p < 3; p++)
        for (const char *s = parts[p]; *s; s++) {
            h ^= (unsigned char)*s;
            h *= 1099511628211ULL;
        }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

struct alerts *alerts_new(const struct alerts_conf *conf)
{
    struct alerts *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->starts_at = NAN;
    alerts_configure(a, conf);
    return a;
}

static void clear_last(struct alerts *a)
{
    for (size_t i = 0; i < a->last.nfeatures; i++)
        free(a->last_names[2 * i]), free(a->last_names[2 * i + 1]);
    free(a->last_names);
    free(a->last_features);
    a->last_names = NULL;
    a->last_features = NULL;
    memset(&a->last, 0, sizeof(a->last));
}

void alerts_free(struct alerts *a)
{
    if (a == NULL)
        return;
    clear_last(a);
    free(a->model);
    free(a);
}

void alerts_configure(struct alerts *a, const struct alerts_conf *conf)
{
    free(a->model);
    a->model = strdup(conf->model != NULL ? conf->model : "model");
    a->resolve_after = conf->resolve_after ? conf->resolve_after : 1;
    a->repeat_seconds = conf->repeat_seconds > 0 ? conf->repeat_seconds : 14400;
    fingerprint(a->model, a->fingerprint);
}

int alerts_add_sink(struct alerts *a, const struct alert_sink_ops *ops, void *ctx)
{
    if (a->nsinks == MAX_SINKS)
        return -1;
    a->sinks[a->nsinks].ops = ops;
    a->sinks[a->nsinks].ctx = ctx;
    a->nsinks++;
    return 0;
}

void alerts_clear_sinks(struct alerts *a)
{
    a->nsinks = 0;
}

/* Keep a copy of the decision so reminders can describe it later. */
static void keep_last(struct alerts *a, const struct alert_decision *d)
{
    clear_last(a);
    a->last = *d;
    a->last.nfeatures = 0;
    a->last.correlation_id = NULL; /* not kept: reminders carry no dispatch */
    a->last_features = calloc(d->nfeatures ? d->nfeatures : 1, sizeof(*a->last_features));
    a->last_names = calloc(2 * (d->nfeatures ? d->nfeatures : 1), sizeof(char *));
    if (a->last_features == NULL || a->last_names == NULL)
        return;
    for (size_t i = 0; i < d->nfeatures; i++) {
        a->last_features[i] = d->features[i];
        a->last_names[2 * i] = strdup(d->features[i].name);
        a->last_names[2 * i + 1] = strdup(d->features[i].test);
        a->last_features[i].name = a->last_names[2 * i] ? a->last_names[2 * i] : "";
        a->last_features[i].test = a->last_names[2 * i + 1] ? a->last_names[2 * i + 1] : "";
        a->last.nfeatures = i + 1;
    }
    a->last.features = a->last_features;
}

static void emit_by(struct alerts *a, enum alert_status st, const struct alert_decision *d,
                    double now, bool repeat, const struct alert_resolved_by *rb)
{
    struct alert_event ev = {
        .kind = ALERT_DRIFT,
        .status = st,
        .model = a->model,
        .severity = "warning",
        .fingerprint = a->fingerprint,
        .starts_at = a->starts_at,
        .ends_at = st == ALERT_RESOLVED ? now : NAN,
        .repeat = repeat,
        .decision = d,
        .resolved_by = rb,
    };
    for (size_t i = 0; i < a->nsinks; i++)
        a->sinks[i].ops->event(a->sinks[i].ctx, &ev);
    a->sent++;
    a->last_sent = now;
}

static void emit(struct alerts *a, enum alert_status st, const struct alert_decision *d, double now,
                 bool repeat)
{
    emit_by(a, st, d, now, repeat, NULL);
}

void alerts_window(struct alerts *a, const struct alert_decision *d, double now)
{
    if (d->drift) {
        a->clean = 0;
        keep_last(a, d);
        if (!a->firing) {
            a->firing = true;
            a->starts_at = d->window.end > 0 ? d->window.end : now;
            emit(a, ALERT_FIRING, d, now, false);
        } else if (a->restored || now - a->last_sent >= a->repeat_seconds) {
            /* after a restart the sinks' own state (Alertmanager's firing
             * set) is gone: the first drifted window refreshes them */
            emit(a, ALERT_FIRING, d, now, true);
        }
        a->restored = false;
        return;
    }
    if (!a->firing)
        return;
    if (++a->clean >= a->resolve_after) {
        emit(a, ALERT_RESOLVED, d, now, false);
        a->firing = false;
        a->clean = 0;
        a->starts_at = NAN;
    }
}

bool alerts_resolve(struct alerts *a, const struct alert_resolved_by *rb, double now)
{
    if (!a->firing)
        return false;
    struct alert_decision none = {0};
    emit_by(a, ALERT_RESOLVED, a->last_features != NULL ? &a->last : &none, now, false, rb);
    a->firing = false;
    a->clean = 0;
    a->starts_at = NAN;
    a->restored = false;
    return true;
}

void alerts_tick(struct alerts *a, double now)
{
    if (a->firing && a->last_features != NULL && now - a->last_sent >= a->repeat_seconds)
        emit(a, ALERT_FIRING, &a->last, now, true);
}

void alerts_retrain(struct alerts *a, enum alert_kind kind, const char *correlation_id,
                    const char *message, const char *run_url, long http_status, double now)
{
    struct alert_decision none = {.correlation_id = correlation_id};
    struct alert_event ev = {
        .kind = kind,
        .status = kind == ALERT_RETRAIN_FINISHED ? ALERT_RESOLVED : ALERT_FIRING,
        .model = a->model,
        .severity = kind == ALERT_RETRAIN_FAILED    ? "critical"
                    : kind == ALERT_ADOPTION_FAILED ? "warning"
                                                    : "info",
        .fingerprint = a->fingerprint,
        .starts_at = now,
        .ends_at = now,
        .decision = &none,
        .message = message,
        .run_url = run_url,
        .http_status = http_status,
    };
    for (size_t i = 0; i < a->nsinks; i++)
        a->sinks[i].ops->event(a->sinks[i].ctx, &ev);
}

bool alerts_firing(const struct alerts *a)
{
    return a->firing;
}

uint64_t alerts_sent(const struct alerts *a)
{
    return a->sent;
}

char *alerts_state_json(const struct alerts *a)
{
    char buf[256];
    snprintf(buf, sizeof(buf),
             "{\"firing\": %s, \"clean\": %llu, \"starts_at\": %.3f, \"last_sent\": %.3f, "
             "\"sent\": %llu}",
             a->firing ? "true" : "false", (unsigned long long)a->clean,
             isnan(a->starts_at) ? 0.0 : a->starts_at, a->last_sent, (unsigned long long)a->sent);
    return strdup(buf);
}

void alerts_state_load(struct alerts *a, const char *json, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(json, len);
    if (j == NULL)
        return;
    const cJSON *v;
    if ((v = cJSON_GetObjectItem(j, "firing")) != NULL)
        a->firing = a->restored = cJSON_IsTrue(v);
    /* a state file or a shared bucket is input (lib/jnum.h) */
    jnum_count(cJSON_GetObjectItem(j, "clean"), &a->clean);
    double t;
    if (jnum_time(cJSON_GetObjectItem(j, "starts_at"), &t))
        a->starts_at = t > 0 ? t : NAN;
    jnum_time(cJSON_GetObjectItem(j, "last_sent"), &a->last_sent);
    jnum_count(cJSON_GetObjectItem(j, "sent"), &a->sent);
    cJSON_Delete(j);
}

void alert_time(double t, char *buf, size_t len)
{
    time_t s = (time_t)floor(t);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void alert_time_json(struct sbuf *s, double t)
{
    char buf[32];
    if (!(t > 0)) {
        sbuf_adds(s, "null");
        return;
    }
    alert_time(t, buf, sizeof(buf));
    sbuf_printf(s, "\"%s\"", buf);
}

size_t alert_utf8_cut(const char *s, size_t len, size_t max)
{
    size_t n = len < max ? len : max;
    if (n == 0)
        return 0;
    /* the lead byte of the last character kept (a sequence has at most 3
     * continuation bytes): if its sequence needs more bytes than are kept,
     * the cut falls inside it and goes back to before it */
    size_t p = n;
    while (p > 0 && n - p < 4) {
        p--;
        if (((unsigned char)s[p] & 0xC0) != 0x80)
            break;
    }
    unsigned char c = (unsigned char)s[p];
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return p + need > n ? p : n;
}

size_t alert_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF; /* range of the second byte */
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* past U+10FFFF */
        } else {
            return i;
        }
        if (len - i < n || p[i + 1] < lo || p[i + 1] > hi)
            return i;
        for (size_t k = 2; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
        i += n;
    }
    return len;
}

/* A JSON string of text that is valid UTF-8 whatever v holds: each byte
 * that does not begin a valid sequence (a Latin-1 column name, a cut
 * message) becomes U+FFFD, so a receiver's strict decoder accepts the body. */
void alert_json_text(struct sbuf *s, const char *v, size_t len)
{
    if (alert_utf8_valid(v, len) == len) {
        sbuf_add_json_string(s, v, len);
        return;
    }
    struct sbuf t;
    sbuf_init(&t);
    size_t i = 0;
    while (i < len) {
        size_t n = alert_utf8_valid(v + i, len - i);
        sbuf_add(&t, v + i, n);
        i += n;
        if (i < len) {
            sbuf_adds(&t, "\xef\xbf\xbd");
            i++;
        }
    }
    if (sbuf_failed(&t))
        s->failed = true; /* out of memory: the body is not sent half-built */
    else
        sbuf_add_json_string(s, t.data, t.len);
    sbuf_free(&t);
}

size_t alert_format(char *buf, size_t len, const char *fmt, ...)
{
    if (len == 0)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0) {
        buf[0] = '\0';
        return 0;
    }
    if ((size_t)n < len)
        return (size_t)n;
    /* truncated: buf holds the first len - 1 bytes of a longer text */
    size_t cut = alert_utf8_cut(buf, len - 1, len - 1);
    buf[cut] = '\0';
    return cut;
}

void alert_new_id(char out[ALERT_ID_LEN])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof(b)) {
        ssize_t r = getrandom(b + got, sizeof(b) - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < sizeof(b)) {
        /* no getrandom (a kernel before 3.17, a seccomp filter): time, pid
         * and a counter through splitmix64 still differ per notification */
        static uint64_t counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t x = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
        x ^= (uint64_t)getpid() << 32 ^ ++counter;
        for (size_t i = 0; i < sizeof(b); i += 8) {
            uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
            z ^= z >> 31;
            memcpy(b + i, &z, 8);
        }
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* variant 10 */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof(b); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void alert_summary(const struct alert_event *ev, char *buf, size_t len)
{
    const struct alert_decision *d = ev->decision;
    if (ev->kind == ALERT_RETRAIN_FAILED) {
        alert_format(buf, len, "Retraining of %s could not be started: %s", ev->model,
                     ev->message ? ev->message : "unknown error");
        return;
    }
    if (ev->kind == ALERT_RETRAIN_FINISHED) {
        alert_format(buf, len, "Retraining of %s finished: %s", ev->model,
                     ev->message ? ev->message : "unknown");
        return;
    }
    if (ev->kind == ALERT_ADOPTION_FAILED) {
        alert_format(buf, len, "Retraining of %s failed: %s (%s)", ev->model,
                     ev->message ? ev->message : "unknown error",
                     ev->run_url ? ev->run_url : "no run URL");
        return;
    }
    if (ev->status == ALERT_RESOLVED && ev->resolved_by != NULL) {
        alert_format(buf, len, "Data drift on %s resolved by the new baseline %s (%s)", ev->model,
                     ev->resolved_by->baseline ? ev->resolved_by->baseline : "?",
                     ev->resolved_by->run_url ? ev->resolved_by->run_url : "no run URL");
        return;
    }
    if (ev->status == ALERT_RESOLVED) {
        alert_format(buf, len, "Data drift on %s resolved: %zu of %zu feature%s drifted", ev->model,
                     d->drifted, d->total, d->total == 1 ? "" : "s");
        return;
    }
    size_t n = alert_format(buf, len, "Data drift on %s: %zu of %zu feature%s drifted (", ev->model,
                            d->drifted, d->total, d->total == 1 ? "" : "s");
    size_t listed = 0, shown = 0;
    for (size_t i = 0; i < d->nfeatures; i++)
        listed += d->features[i].drift;
    /* names while they fit, keeping room for the tail ", and N more)" */
    const size_t tail = 32;
    for (size_t i = 0; i < d->nfeatures; i++) {
        const char *name = d->features[i].name;
        if (!d->features[i].drift)
            continue;
        if (n + 2 + strlen(name) + tail >= len) {
            if (shown == 0 && len > n + tail) { /* one name longer than the room: its start */
                n += alert_format(buf + n, len - n - tail, "%s", name);
                n += alert_format(buf + n, len - n, "\xe2\x80\xa6"); /* U+2026 ... */
                shown++;
            }
            break;
        }
        n += alert_format(buf + n, len - n, "%s%s", shown ? ", " : "", name);
        shown++;
    }
    if (shown < listed)
        alert_format(buf + n, len - n, "%sand %zu more)", shown ? ", " : "", listed - shown);
    else
        alert_format(buf + n, len - n, ")");
}

/* Write a line of the log sink: through lib/log, or to the transitional
 * writer given as the sink's ctx (see alert.h). */

static void log_event(void *ctx, const struct alert_event *ev)
{
    char summary[1024], start[32], line[1400];
    (void)ctx;

    if (ev->kind != ALERT_DRIFT) {
        alert_format(line, sizeof(line), "retrain %s for %s (correlation id %s): %s%s%s",
                     ev->kind == ALERT_RETRAIN_FAILED    ? "FAILED"
                     : ev->kind == ALERT_ADOPTION_FAILED ? "baseline NOT ADOPTED"
                                                         : "finished",
                     ev->model, ev->decision->correlation_id ? ev->decision->correlation_id : "-",
                     ev->message ? ev->message : "", ev->run_url ? " " : "",
                     ev->run_url ? ev->run_url : "");
        log_msg(ev->kind == ALERT_RETRAIN_FAILED    ? LOG_ERR
                : ev->kind == ALERT_ADOPTION_FAILED ? LOG_WARNING
                                                    : LOG_NOTICE,
                "%s", line);
        return;
    }
    alert_summary(ev, summary, sizeof(summary));
    alert_time(ev->starts_at, start, sizeof(start));
    alert_format(
        line, sizeof(line), "alert %s%s: %s [model=%s fingerprint=%s window=%llu since=%s]",
        ev->status == ALERT_FIRING ? "firing" : "resolved", ev->repeat ? " (repeat)" : "", summary,
        ev->model, ev->fingerprint, (unsigned long long)ev->decision->window.id, start);
    /* a warning while firing, a notice when resolved */
    log_msg(ev->status == ALERT_FIRING ? LOG_WARNING : LOG_NOTICE, "%s", line);
}

const struct alert_sink_ops alert_log_sink = {"log", log_event};
