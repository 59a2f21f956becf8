/*
 * Alert state per model (docs/alerts.md, "When an alert fires, repeats and
 * resolves"): fires when an evaluated
 * window shows dataset drift, repeats every repeat_seconds while firing,
 * resolves after resolve_after clean windows. Events go to every sink; the
 * log sink writes one line per alert. The agent hands in decisions through
 * the plain structs below, so this side knows nothing of the agent.
 */
#ifndef DRIFTD_ALERTS_ALERT_H
#define DRIFTD_ALERTS_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alert_feature {
    const char *name, *test;
    double statistic, p_value, threshold;
    bool drift;
};

struct alert_window {
    uint64_t id, records, sampled;
    double start, end; /* seconds since the epoch */
};

/* The outcome of one evaluated window. */
struct alert_decision {
    bool drift;
    double share, drift_share;
    size_t drifted, total;
    const struct alert_feature *features; /* every feature, baseline order */
    size_t nfeatures;
    struct alert_window window;
    const char *correlation_id; /* a retrain dispatched for this window, or NULL */
};

enum alert_status { ALERT_FIRING, ALERT_RESOLVED };

/* What an event is about: the drift alert, or news of a retraining (its
 * dispatch failed, its run finished, or the baseline it built could not be
 * adopted). */
enum alert_kind {
    ALERT_DRIFT,
    ALERT_RETRAIN_FAILED,
    ALERT_RETRAIN_FINISHED,
    ALERT_ADOPTION_FAILED,
};

/* What ended a drift episode other than clean windows: the baseline a
 * retraining built was adopted (sha256's first 12 hex digits). */
struct alert_resolved_by {
    const char *baseline, *run_url, *correlation_id;
};

/* What a sink receives. Pointers are valid during the call only. */
struct alert_event {
    enum alert_kind kind;
    enum alert_status status;
    const char *model, *severity, *fingerprint;
    double starts_at, ends_at;                   /* ends_at NAN while firing */
    bool repeat;                                 /* a reminder of an alert already sent */
    const struct alert_decision *decision;       /* the window behind it (drift events) */
    const struct alert_resolved_by *resolved_by; /* a resolved drift alert: or NULL */
    /* retrain events */
    const char *message; /* GitHub's message on failure, the run's conclusion when finished */
    const char *run_url; /* or NULL */
    long http_status;
};

/* A sink: one table of callbacks (Fluent Bit's output plugins). */
struct alert_sink_ops {
    const char *name;
    void (*event)(void *ctx, const struct alert_event *ev);
};

struct alerts_conf {
    const char *model;
    uint64_t resolve_after;
    double repeat_seconds;
};

struct alerts;

struct alerts *alerts_new(const struct alerts_conf *conf);
void alerts_free(struct alerts *a);
/* Take new settings (reload); the firing state stays. The strings are copied. */
void alerts_configure(struct alerts *a, const struct alerts_conf *conf);
/* Add a sink; ctx belongs to the caller. Returns 0 or -1. */
int alerts_add_sink(struct alerts *a, const struct alert_sink_ops *ops, void *ctx);
void alerts_clear_sinks(struct alerts *a);

/* Feed the decision of a window evaluated at `now`. */
void alerts_window(struct alerts *a, const struct alert_decision *d, double now);
/* The drift episode ends because its successor baseline was adopted: a
 * firing alert resolves now, saying what resolved it. Returns whether one
 * was firing. */
bool alerts_resolve(struct alerts *a, const struct alert_resolved_by *rb, double now);
/* Called now and then: repeats a firing alert when repeat_seconds passed. */
void alerts_tick(struct alerts *a, double now);

/* Tell every sink about a retraining: failed (with GitHub's message),
 * finished (with the run's conclusion), or its baseline not adopted (with
 * the reason). */
void alerts_retrain(struct alerts *a, enum alert_kind kind, const char *correlation_id,
                    const char *message, const char *run_url, long http_status, double now);

bool alerts_firing(const struct alerts *a);
uint64_t alerts_sent(const struct alerts *a);

/* State that survives restarts, as a JSON object text / from cJSON text. */
char *alerts_state_json(const struct alerts *a);
void alerts_state_load(struct alerts *a, const char *json, size_t len);

/* The built-in log sink: one line per event through lib/log.h, at warning
 * while firing, notice when resolved or a retrain finished, error when a
 * retrain failed. Its ctx is unused (NULL). */
extern const struct alert_sink_ops alert_log_sink;

/* "Data drift on MODEL: 3 of 5 features drifted (a, b, c)" into buf. */
void alert_summary(const struct alert_event *ev, char *buf, size_t len);

/* RFC 3339 UTC time with seconds ("2026-11-26T08:00:00Z"). */
void alert_time(double t, char *buf, size_t len);
/* The same as a JSON string, or null for none (t not above 0). */
struct sbuf;
void alert_time_json(struct sbuf *s, double t);

/* A notification id: a random UUID (version 4, RFC 9562) as 36 characters.
 * 122 random bits from getrandom(2) make it unique across restarts without
 * keeping state; it is put into a body once, before spooling, so every
 * retry and replay carries the same one. */
#define ALERT_ID_LEN 37
void alert_new_id(char out[ALERT_ID_LEN]);

/* The length of the longest prefix of s[0..len) of at most max bytes that
 * does not end inside a UTF-8 sequence: where to cut a text to a byte
 * budget without making it invalid. */
size_t alert_utf8_cut(const char *s, size_t len, size_t max);

/* The length of the longest prefix of s[0..len) that is valid UTF-8
 * (RFC 3629: no overlong forms, surrogates or code points past U+10FFFF). */
size_t alert_utf8_valid(const char *s, size_t len);

/* A JSON string literal (sbuf_add_json_string) of text that is valid UTF-8
 * whatever v holds: each byte that does not begin a valid sequence becomes
 * U+FFFD, so a receiver's strict decoder accepts the body. */
struct sbuf;
void alert_json_text(struct sbuf *s, const char *v, size_t len);

/* snprintf into a fixed buffer that, when the text does not fit, ends at
 * the last whole UTF-8 character instead of inside one. Returns the length
 * written. */
size_t alert_format(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
