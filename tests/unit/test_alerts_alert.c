/*
 * The alert state machine with an injected clock (the `now` every call
 * takes): a drifted window fires once; further drifted windows and ticks
 * repeat it only every repeat_seconds; resolve_after clean windows in a row
 * resolve it, a drifted one between them starts the count again; a state
 * saved while firing restores a firing alert whose first drifted window
 * refreshes the sinks; retrain news goes to every sink; the log sink writes
 * its line at the level of the event.
 */
#include "alerts/alert.h"
#include "lib/log.h"
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One event as a sink saw it. */
struct got {
    enum alert_kind kind;
    enum alert_status status;
    bool repeat;
    double starts_at, ends_at;
    uint64_t window;
};

/* The events one sink saw. */
struct sink {
    struct got ev[64];
    size_t n;
};

/* A sink that keeps what it is told. */
static void keep(void *ctx, const struct alert_event *ev)
{
    struct sink *s = ctx;
    if (s->n < 64)
        s->ev[s->n++] = (struct got){ev->kind,      ev->status,  ev->repeat,
                                     ev->starts_at, ev->ends_at, ev->decision->window.id};
}

static const struct alert_sink_ops keep_ops = {"keep", keep};

static struct alert_feature feat = {"age", "ks", 0.3, 0.001, 0.05, true};

/* The decision of window id, ending at end. */
static struct alert_decision win(uint64_t id, bool drift, double end)
{
    struct alert_decision d = {.drift = drift,
                               .share = drift ? 1 : 0,
                               .drift_share = 0.5,
                               .drifted = drift,
                               .total = 1,
                               .features = &feat,
                               .nfeatures = 1,
                               .window = {id, 10, 10, end - 60, end}};
    return d;
}

/* Fire once, repeat every repeat_seconds, resolve after resolve_after clean windows. */
static void test_fire_repeat_resolve(void)
{
    struct alerts_conf conf = {"iris", 2, 600};
    struct alerts *a = alerts_new(&conf);
    struct sink s = {0}, t = {0};
    CHECK(alerts_add_sink(a, &keep_ops, &s) == 0 && alerts_add_sink(a, &keep_ops, &t) == 0);
    double t0 = 1800000000;

    /* a clean window: nothing */
    struct alert_decision d = win(1, false, t0);
    alerts_window(a, &d, t0);
    CHECK(s.n == 0 && !alerts_firing(a));

    /* the first drifted window fires, at the window's end, to every sink */
    d = win(2, true, t0 + 60);
    alerts_window(a, &d, t0 + 61);
    CHECKF(s.n == 1 && t.n == 1, "%zu and %zu events, want 1 each", s.n, t.n);
    CHECK(s.ev[0].kind == ALERT_DRIFT && s.ev[0].status == ALERT_FIRING && !s.ev[0].repeat);
    CHECK(s.ev[0].starts_at == t0 + 60 && isnan(s.ev[0].ends_at) && s.ev[0].window == 2);
    CHECK(alerts_firing(a) && alerts_sent(a) == 1);

    /* drifted again before repeat_seconds: no event; a tick neither */
    d = win(3, true, t0 + 120);
    alerts_window(a, &d, t0 + 121);
    alerts_tick(a, t0 + 600);
    CHECKF(s.n == 1, "%zu events before repeat_seconds, want 1", s.n);

    /* a tick at repeat_seconds after the last one repeats the latest window */
    alerts_tick(a, t0 + 661);
    CHECKF(s.n == 2 && s.ev[1].repeat && s.ev[1].status == ALERT_FIRING && s.ev[1].window == 3,
           "%zu events; the repeat is of window %llu", s.n,
           (unsigned long long)(s.n > 1 ? s.ev[1].window : 0));
    CHECK(s.ev[1].starts_at == t0 + 60);
    /* and a drifted window repeats once repeat_seconds passed again */
    d = win(4, true, t0 + 1300);
    alerts_window(a, &d, t0 + 1300);
    CHECK(s.n == 3 && s.ev[2].repeat && s.ev[2].window == 4);

    /* resolve_after = 2: one clean window is not enough; a drifted one
     * in between starts the count again */
    d = win(5, false, t0 + 1360);
    alerts_window(a, &d, t0 + 1360);
    d = win(6, true, t0 + 1420);
    alerts_window(a, &d, t0 + 1420);
    d = win(7, false, t0 + 1480);
    alerts_window(a, &d, t0 + 1480);
    CHECKF(s.n == 3 && alerts_firing(a), "%zu events, firing %d", s.n, alerts_firing(a));
    d = win(8, false, t0 + 1540);
    alerts_window(a, &d, t0 + 1541);
    CHECKF(s.n == 4 && s.ev[3].status == ALERT_RESOLVED && !s.ev[3].repeat,
           "%zu events, the last resolved: %d", s.n, s.n == 4 && s.ev[3].status == ALERT_RESOLVED);
    CHECK(s.ev[3].starts_at == t0 + 60 && s.ev[3].ends_at == t0 + 1541 && s.ev[3].window == 8);
    CHECK(!alerts_firing(a) && alerts_sent(a) == 4);

    /* resolved: ticks and clean windows say nothing */
    alerts_tick(a, t0 + 100000);
    d = win(9, false, t0 + 100000);
    alerts_window(a, &d, t0 + 100000);
    CHECK(s.n == 4);

    /* retrain news goes to every sink, firing or not */
    alerts_retrain(a, ALERT_RETRAIN_FAILED, "driftd-9-abcdef", "nope", NULL, 422, t0 + 100001);
    CHECK(s.n == 5 && t.n == 5 && s.ev[4].kind == ALERT_RETRAIN_FAILED);
    CHECK(alerts_sent(a) == 4); /* not a drift alert */
    alerts_free(a);
}

/* A state saved while firing restores a firing alert that refreshes the sinks. */
static void test_restore(void)
{
    struct alerts_conf conf = {"iris", 1, 600};
    struct alerts *a = alerts_new(&conf);
    struct sink s = {0};
    alerts_add_sink(a, &keep_ops, &s);
    double t0 = 1800000000;
    struct alert_decision d = win(1, true, t0);
    alerts_window(a, &d, t0);
    char *state = alerts_state_json(a);
    CHECK(state != NULL);
    alerts_free(a);

    /* a new process: firing, and the sinks know nothing yet */
    a = alerts_new(&conf);
    s.n = 0;
    alerts_add_sink(a, &keep_ops, &s);
    alerts_state_load(a, state, strlen(state));
    char *again = alerts_state_json(a);
    CHECKF(again && strcmp(again, state) == 0, "state round trip\n got %s\nwant %s", again, state);
    CHECK(alerts_firing(a) && alerts_sent(a) == 1);
    /* the first drifted window refreshes them at once, as a repeat */
    d = win(2, true, t0 + 60);
    alerts_window(a, &d, t0 + 60);
    CHECKF(s.n == 1 && s.ev[0].repeat && s.ev[0].starts_at == t0, "%zu events", s.n);
    /* and then only every repeat_seconds again */
    d = win(3, true, t0 + 120);
    alerts_window(a, &d, t0 + 120);
    CHECK(s.n == 1);
    /* one clean window resolves it (resolve_after = 1) */
    d = win(4, false, t0 + 180);
    alerts_window(a, &d, t0 + 180);
    CHECK(s.n == 2 && s.ev[1].status == ALERT_RESOLVED && !alerts_firing(a));
    free(state);
    free(again);
    alerts_free(a);
}

/* The log sink writes each event's line at the event's level. */
static void test_log_sink(void)
{
    struct alerts_conf conf = {"iris", 1, 600};
    struct alerts *a = alerts_new(&conf);
    alerts_add_sink(a, &alert_log_sink, NULL);
    tl_log_capture();
    double t0 = 1800000000;
    struct alert_decision d = win(7, true, t0);
    alerts_window(a, &d, t0);
    d = win(8, false, t0 + 60);
    alerts_window(a, &d, t0 + 60);
    alerts_retrain(a, ALERT_RETRAIN_FAILED, "driftd-7-abcdef", "Bad credentials", NULL, 401,
                   t0 + 61);
    size_t nlines = tl_log_count(LOG_DEBUG);
    int levels[3];
    const char *lines[3];
    for (size_t i = 0; i < 3; i++)
        lines[i] = tl_log_line(i, &levels[i]);
    CHECKF(nlines == 3, "%zu lines", nlines);
    const char *firing = "alert firing: Data drift on iris: 1 of 1 feature drifted (age) "
                         "[model=iris fingerprint=";
    CHECKF(levels[0] == LOG_WARNING && strncmp(lines[0], firing, strlen(firing)) == 0,
           "firing line (level %d): %s", levels[0], lines[0]);
    CHECK(strstr(lines[0], "window=7 since=2027-01-15T08:00:00Z]") != NULL);
    CHECKF(levels[1] == LOG_NOTICE && strncmp(lines[1], "alert resolved: ", 16) == 0,
           "resolved line (level %d): %s", levels[1], lines[1]);
    CHECKF(levels[2] == LOG_ERR && strcmp(lines[2], "retrain FAILED for iris (correlation id "
                                                    "driftd-7-abcdef): Bad credentials") == 0,
           "retrain line (level %d): %s", levels[2], lines[2]);
    tl_log_stop();
    alerts_free(a);
}

int main(void)
{
    test_fire_repeat_resolve();
    test_restore();
    test_log_sink();
    return tl_done();
}
