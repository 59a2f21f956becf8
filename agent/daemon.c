/*
 * The daemon's life: setup from the configuration, the core API the
 * sources feed, windows and their evaluation, signals (which only change
 * state, as in tmux), reload and stop. Sources, the API, the state file
 * and the retraining policy live in their own files; struct daemon is
 * known here and in loop.c (the closed loop's adoption), through
 * daemon_priv.h.
 */
#include "agent/daemon.h"
#include "agent/daemon_priv.h"
#include "agent/cluster.h"

#include "agent/dataset.h"
#include "agent/history.h"
#include "agent/html.h"
#include "agent/notify.h"
#include "agent/source_table.h"
#include "agent/state.h"
#include "agent/window.h"
#include "alerts/alert.h"
#include "alerts/http_client.h"
#include "alerts/retrain.h"
#include "alerts/secret.h"
#include "alerts/sinks.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/wake.h"
#include "stats/baseline.h"

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double real_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double (*daemon_now)(void) = real_now;

/* The GitHub token: token_file (relative: $CREDENTIALS_DIRECTORY first),
 * else $DRIFTD_GITHUB_TOKEN. NULL with an error when neither is there. */
static char *github_token(struct daemon *d, const struct config *cfg, struct errlist *errs)
{
    if (cfg->github.token_file != NULL)
        return config_read_secret(cfg->github.token_file, "retrain.github.token_file", errs,
                                  d->config_path);
    const char *env = getenv("DRIFTD_GITHUB_TOKEN");
    if (env != NULL && *env)
        return secret_dup(env);
    return NULL;
}

/* Save the state now unless a save failed less than a second ago (a
 * counter past its mark, a source's new position); 0 when saved. */
static int reserve(struct daemon *d)
{
    return state_reserve(d->state, &d->parts);
}

/* Save the state (exact marks when stopping). */
static int save(struct daemon *d)
{
    int rc = state_save(d->state, &d->parts, d->stopping);
    if (rc == 0)
        d->state_dirty = false;
    return rc;
}

/* GitHub's answer changed the retraining's state: save it soon. */
static void retrain_changed(void *arg)
{
    struct daemon *d = arg;
    d->state_dirty = true;
}

/* Build the sinks of the configuration. A reload reconfigures the sink of
 * the same name in place (its outbox target, spooled entries and
 * Alertmanager firing set stay with it), so reloads make no new sinks: each
 * used to make three that lived until exit, 24 KiB a reload. A sink whose
 * name left the configuration is retired, not freed, as the outbox may
 * still send its spooled entries through it; d->sinks thus holds one sink
 * per name ever configured. Returns -1 with errors when a secret is
 * missing. */
static int setup_sinks(struct daemon *d, struct errlist *errs)
{
    int rc = 0;
    alerts_clear_sinks(d->alerts);
    for (size_t i = 0; d->sink_names != NULL && d->sink_names[i] != NULL; i++)
        free(d->sink_names[i]);
    free(d->sink_names);
    d->sink_names = calloc(d->cfg.n_sinks + 1, sizeof(char *));
    if (d->sink_names == NULL)
        return -1;
    char gen[256];
    snprintf(gen, sizeof(gen), "http://%s/v1/status", d->listen_addr);
    for (size_t i = 0; i < d->cfg.n_sinks && rc == 0; i++) {
        const struct sink_conf *sc = &d->cfg.sinks[i];
        static const char *const types[] = {"log", "webhook", "slack", "alertmanager"};
        char name[64];
        snprintf(name, sizeof(name), "%s-%zu", types[sc->type], i);
        d->sink_names[i] = strdup(sc->type == SINK_LOG ? "log" : name);
        if (sc->type == SINK_LOG) {
            alerts_add_sink(d->alerts, &alert_log_sink, NULL);
            continue;
        }
        char *url = sc->url != NULL ? strdup(sc->url)
                                    : config_read_secret(sc->url_file, "alerts.sinks[].url_file",
                                                         errs, d->config_path);
        if (url == NULL) {
            rc = -1;
            break;
        }
        struct http_header *hs = calloc(sc->n_headers ? sc->n_headers : 1, sizeof(*hs));
        for (size_t h = 0; hs != NULL && h < sc->n_headers; h++)
            hs[h] = (struct http_header){sc->headers[h].name, sc->headers[h].value};
        struct http_sink_conf hc = {
            .type = sc->type == SINK_WEBHOOK ? HTTP_SINK_WEBHOOK
                    : sc->type == SINK_SLACK ? HTTP_SINK_SLACK
                                             : HTTP_SINK_ALERTMANAGER,
            .name = name,
            .url = url,
            .headers = hs,
            .n_headers = hs ? sc->n_headers : 0,
            .ca_file = sc->ca_file,
            .timeout = sc->timeout_seconds,
            .resend_seconds = sc->resend_seconds,
            .max_age = sc->max_age,
            .generator_url = gen,
        };
        struct http_sink *k = NULL;
        for (size_t j = 0; j < d->n_sinks_made && k == NULL; j++)
            if (strcmp(http_sink_name(d->sinks[j]), name) == 0)
                k = d->sinks[j];
        if (k != NULL) {
            if (http_sink_configure(k, &hc) != 0)
                k = NULL;
        } else {
            struct http_sink **v = realloc(d->sinks, (d->n_sinks_made + 1) * sizeof(*v));
            if (v != NULL) {
                d->sinks = v;
                k = http_sink_new(&hc, d->outbox, d->base, daemon_now);
            }
            if (k != NULL)
                d->sinks[d->n_sinks_made++] = k;
        }
        secret_free(url); /* a url_file's URL holds a secret */
        free(hs);
        if (k == NULL) {
            log_err("alerts.sinks[%zu]: cannot set up the sink", i);
            rc = -1;
            break;
        }
        alerts_add_sink(d->alerts, &http_sink_ops, k);
    }
    /* sinks whose name left the configuration stop re-posting */
    for (size_t j = 0; j < d->n_sinks_made; j++) {
        bool used = false;
        for (size_t i = 0; d->sink_names[i] != NULL && !used; i++)
            used = strcmp(d->sink_names[i], http_sink_name(d->sinks[j])) == 0;
        if (!used)
            http_sink_retire(d->sinks[j]);
    }
    return rc;
}

/* The retraining policy, with GitHub when configured (a reload
 * reconfigures it). */
static int setup_retrain(struct daemon *d, struct errlist *errs)
{
    struct github_input *in = NULL;
    struct github_settings gs;
    if (d->cfg.github.enabled) {
        char *token = github_token(d, &d->cfg, errs);
        if (token == NULL && errs->n > 0)
            return -1;
        if (token == NULL && !d->cfg.retrain_dry_run)
            log_warn("retrain.github: no token (token_file or $DRIFTD_GITHUB_TOKEN); dispatches "
                     "will fail until one is configured");
        secret_free(d->github_token);
        d->github_token = token;
        in = calloc(d->cfg.github.n_inputs ? d->cfg.github.n_inputs : 1, sizeof(*in));
        if (in == NULL)
            return -1;
        for (size_t i = 0; i < d->cfg.github.n_inputs; i++)
            in[i] =
                (struct github_input){d->cfg.github.inputs[i].name, d->cfg.github.inputs[i].value};
        gs = (struct github_settings){
            .api_url = d->cfg.github.api_url,
            .repository = d->cfg.github.repository,
            .workflow = d->cfg.github.workflow,
            .ref = d->cfg.github.ref,
            .token = token,
            .api_version = d->cfg.github.api_version,
            .ca_file = d->cfg.github.ca_file,
            .inputs = in,
            .n_inputs = d->cfg.github.n_inputs,
            .timeout = d->cfg.github.timeout_seconds,
            .follow_seconds = d->cfg.retrain_follow,
            .max_age = 86400,
            .dry_run = d->cfg.retrain_dry_run,
        };
    }
    struct retrain_conf conf = {
        .model = d->cfg.model,
        .consecutive = d->cfg.retrain_consecutive,
        .cooldown = d->cfg.retrain_cooldown,
        .dry_run = d->cfg.retrain_dry_run,
        .github = d->cfg.github.enabled ? &gs : NULL,
    };
    int rc = 0;
    if (d->retrain == NULL) {
        char *file = state_file(d->state, "retrain.json");
        d->retrain = file != NULL ? retrain_new(&conf, d->alerts, d->outbox, d->client, d->base,
                                                daemon_now, file, retrain_changed, d)
                                  : NULL;
        free(file);
        rc = d->retrain != NULL ? 0 : -1;
        if (d->retrain != NULL)
            retrain_on_news(d->retrain, loop_news, loop_run_status, d);
    } else {
        rc = retrain_configure(d->retrain, &conf);
    }
    free(in);
    return rc;
}

static void notify_progress(struct daemon *d)
{
    char status[256];
    if (d->notify == NULL)
        return;
    if (d->last == NULL)
        snprintf(status, sizeof(status), "window %llu: %llu record%s; no evaluation yet",
                 (unsigned long long)window_id(d->win), (unsigned long long)window_records(d->win),
                 window_records(d->win) == 1 ? "" : "s");
    else
        snprintf(status, sizeof(status),
                 "window %llu: %llu record%s; last evaluation: %s (%zu of %zu feature%s)",
                 (unsigned long long)window_id(d->win), (unsigned long long)window_records(d->win),
                 window_records(d->win) == 1 ? "" : "s",
                 d->last->dataset.drift ? "DRIFT" : "no drift", d->last->dataset.drifted,
                 d->last->dataset.total, d->last->dataset.total == 1 ? "" : "s");
    /* systemd is told only when the line changes */
    if (d->last_status != NULL && strcmp(d->last_status, status) == 0)
        return;
    free(d->last_status);
    d->last_status = strdup(status);
    notify_status(d->notify, "%s", status);
}

/* The decision of a report, as the alerts side wants it: to the
 * retraining policy, which dispatches when it must and then alerts. */
static void alert_hand_over(struct daemon *d, const struct report *rep, double start, double end,
                            uint64_t id, uint64_t records, size_t sampled)
{
    struct alert_feature *af = calloc(rep->n ? rep->n : 1, sizeof(*af));
    if (af == NULL) {
        d->alerts_lost++;
        log_limited(&d->alerts_lost_log, LOG_ERR,
                    "window %llu: out of memory handing the decision to the alerts; no "
                    "notification for it (%llu lost so far)",
                    (unsigned long long)id, (unsigned long long)d->alerts_lost);
        return;
    }
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_feature *f = &rep->features[i];
        af[i] = (struct alert_feature){f->name,        stats_test_info(f->r.test)->name,
                                       f->r.statistic, f->r.p_value,
                                       f->r.threshold, f->r.drift};
    }
    struct alert_decision dec = {
        .drift = rep->dataset.drift,
        .share = rep->dataset.share,
        .drift_share = rep->dataset.drift_share,
        .drifted = rep->dataset.drifted,
        .total = rep->dataset.total,
        .features = af,
        .nfeatures = rep->n,
        .window = {id, records, sampled, start, end},
    };
    enum retrain_write w = retrain_window(d->retrain, &dec, end);
    int err = errno;
    free(af);
    if (w != RETRAIN_NOT_WRITTEN) {
        /* a dispatch: its cooldown went to retrain.json on its own, so that
         * a crash in the next second cannot lose it */
        char *file = state_file(d->state, "retrain.json");
        state_write_outcome(d->state, file ? file : "retrain.json", w == RETRAIN_WRITTEN ? 0 : -1,
                            err);
        free(file);
        d->state_dirty = true;
        loop_dispatched(d, retrain_correlation_id(d->retrain), id);
    }
}

/* Say which features had no value at all in a window: a column absent
 * from the data or renamed, not a feature that went quiet. */
static void window_absent_features(const struct report *rep, uint64_t id)
{
    char names[512] = "";
    size_t n = 0, count = 0;
    for (size_t i = 0; i < rep->n; i++) {
        if (!(rep->features[i].quality[Q_MISSING] >= 1))
            continue;
        count++;
        if (n < sizeof(names) - 1)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
                                  rep->features[i].name);
    }
    if (count > 0)
        log_warn("window %llu: no value at all for %zu feature%s (%s): absent from the data or "
                 "renamed?",
                 (unsigned long long)id, count, count == 1 ? "" : "s", names);
}

/* Tell the sources that window id closed (closed) or was finished
 * (!closed): a source with a position keeps where the windows begin in it. */
static void sources_window(struct daemon *d, uint64_t id, bool closed)
{
    for (size_t i = 0; i < d->n_sources; i++) {
        struct source *in = d->sources[i];
        void (*fn)(struct source *, uint64_t) =
            closed ? in->ops->window_closed : in->ops->window_finished;
        if (fn != NULL)
            fn(in, id);
    }
}

/* Add window cw's line to the history: what /v1/history and the live
 * page's charts show of it. A file that cannot be written is logged (at
 * most once a minute); the window is kept in memory all the same. */
static void history_window(struct daemon *d, const struct report *rep,
                           const struct closed_window *cw)
{
    if (d->history == NULL)
        return;
    struct sbuf s;
    char ts[32], te[32];
    sbuf_init(&s);
    alert_time(cw->start, ts, sizeof(ts));
    alert_time(cw->end, te, sizeof(te));
    sbuf_printf(&s,
                "{\"id\": %llu, \"start\": \"%s\", \"end\": \"%s\", \"at\": %.3f, "
                "\"records\": %llu, \"sampled\": %zu, \"share\": ",
                (unsigned long long)cw->id, ts, te, cw->end, (unsigned long long)cw->records,
                cw->sampled);
    sbuf_add_double(&s, rep->dataset.share);
    sbuf_adds(&s, ", \"drift_share\": ");
    sbuf_add_double(&s, rep->dataset.drift_share);
    sbuf_printf(&s, ", \"drift\": %s, \"drifted\": %zu, \"features\": [",
                rep->dataset.drift ? "true" : "false", rep->dataset.drifted);
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_feature *f = &rep->features[i];
        const struct stats_test_info *ti = stats_test_info(f->r.test);
        sbuf_adds(&s, i ? ", {\"name\": " : "{\"name\": ");
        sbuf_add_json_string(&s, f->name, strlen(f->name));
        sbuf_printf(&s, ", \"test\": \"%s\", \"statistic\": ", ti->name);
        sbuf_add_double(&s, f->r.statistic);
        sbuf_adds(&s, ", \"p_value\": ");
        sbuf_add_double(&s, ti->has_p ? f->r.p_value : NAN);
        sbuf_adds(&s, ", \"threshold\": ");
        sbuf_add_double(&s, f->r.threshold);
        sbuf_printf(&s, ", \"drift\": %s}", f->r.drift ? "true" : "false");
    }
    sbuf_adds(&s, "]}");
    if (sbuf_failed(&s))
        log_limited(&d->history_log, LOG_ERR, "window %llu: out of memory adding it to the history",
                    (unsigned long long)cw->id);
    else if (history_add(d->history, s.data) != 0)
        log_limited(&d->history_log, LOG_ERR, "window %llu: %s/history.ndjson: %s",
                    (unsigned long long)cw->id, d->cfg.state_dir, strerror(errno));
    sbuf_free(&s);
}

/* The loop's half of a window's evaluation: publish the report, count it,
 * log it, decide retraining and alerts. */
static void finish_window(struct daemon *d, struct closed_window *cw)
{
    struct report *rep = cw->rep;
    struct html_view *view = cw->view;
    double start = cw->start, end = cw->end;
    uint64_t id = cw->id, records = cw->records;
    size_t sampled = cw->sampled;
    cw->rep = NULL;
    cw->view = NULL;
    if (!replica_may_act(d)) { /* its records go to the next leader */
        log_warn("window %llu: not finished: this replica no longer leads", (unsigned long long)id);
        report_free(rep);
        html_view_free(view);
        return;
    }
    if (rep == NULL) {
        log_err("window %llu: out of memory evaluating it", (unsigned long long)id);
        html_view_free(view);
        return;
    }
    struct sbuf s;
    char ts[32], te[32];
    sbuf_init(&s);
    for (size_t i = 0; i < d->n_sources; i++)
        sbuf_printf(&s, "%s%s", i ? ", " : "", d->sources[i]->name);
    int origin = report_set_origin(rep, daemon_now(), d->baseline_path, d->baseline_sha256,
                                   d->n_sources > 0 ? s.data : NULL);
    sbuf_free(&s);
    sbuf_init(&s);
    if (origin == 0)
        origin = report_set_baseline_labels(rep, d->b);
    if (origin != 0)
        log_warn("window %llu: out of memory naming the report's origin", (unsigned long long)id);
    sbuf_adds(&s, "{");
    report_json_members(rep, false, &s);
    alert_time(start, ts, sizeof(ts));
    alert_time(end, te, sizeof(te));
    sbuf_printf(&s,
                ",\n\"window\": {\"id\": %llu, \"records\": %llu, \"sampled\": %zu, "
                "\"start\": \"%s\", \"end\": \"%s\"%s}}",
                (unsigned long long)id, (unsigned long long)records, sampled, ts, te,
                cw->below_min ? ", \"below_min_records\": true" : "");
    if (sbuf_failed(&s)) {
        log_err("window %llu: out of memory reporting it", (unsigned long long)id);
        sbuf_free(&s);
        report_free(rep);
        html_view_free(view);
        return;
    }
    free(d->last_json);
    d->last_json = sbuf_steal(&s, NULL);
    report_free(d->last);
    d->last = rep;
    d->last_id = id;
    d->last_records = records;
    html_view_free(d->last_view);
    d->last_view = view;
    history_window(d, rep, cw);
    d->counts.windows_evaluated++;
    d->counts.last_eval_at = end;
    d->counts.sampled_total += sampled;

    char names[512] = "";
    size_t n = 0;
    for (size_t i = 0; i < rep->n && n < sizeof(names) - 1; i++)
        if (rep->features[i].r.drift)
            n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "",
                                  rep->features[i].name);
    log_notice("window %llu: %llu record%s (%zu sampled): %s, %zu of %zu feature%s drifted "
               "(share %.2f, threshold %.2f)%s%s",
               (unsigned long long)id, (unsigned long long)records, records == 1 ? "" : "s",
               sampled, rep->dataset.drift ? "DATASET DRIFT" : "no dataset drift",
               rep->dataset.drifted, rep->dataset.total, rep->dataset.total == 1 ? "" : "s",
               rep->dataset.share, rep->dataset.drift_share, n ? ": " : "", names);
    window_absent_features(rep, id);
    alert_hand_over(d, rep, start, end, id, records, sampled);
    /* before /metrics can show the counters (and with the drift count the
     * retraining just kept) */
    if (state_marks_passed(d->state, &d->counts))
        reserve(d);
    /* Saved by the next tick (a save here would be safe too: a source with
     * a position saves the position and counters it last committed, not
     * live ones), unless a source with a position now resumes a crash
     * after this window: saved now, or a kill -9 in the next second would
     * read the window again. */
    d->state_dirty = true;
    /* A model's replicas: the shared state is written before the window's
     * messages are acknowledged and before its notifications leave (the
     * outbox sends on a later turn of the loop), so a successor neither
     * fires nor dispatches again for it. */
    if (replica_commit(d, id) == 0) {
        sources_window(d, id, false);
        for (size_t i = 0; i < d->n_sources; i++)
            if (d->sources[i]->ops->window_finished != NULL) {
                save(d);
                break;
            }
    }
    notify_progress(d);
    /* Request bodies and evaluation scratch are freed by now; give the
     * pages back so RSS stays where the window's fixed size puts it. */
    malloc_trim(0);
}

static void *eval_main(void *arg)
{
    struct daemon *d = arg;
    d->eval.cur.rep = drift_evaluate(d->ds, &d->cfg.drift);
    /* the pictures need the sample, which the next window overwrites */
    d->eval.cur.view = d->eval.cur.rep != NULL ? html_view_new(d->eval.cur.rep, d->b, d->ds) : NULL;
    wake_post(d->eval.fd);
    return NULL;
}

/* Queue an evaluated window for the loop to finish. Out of memory, it is
 * finished here, or its report would be lost. */
static void queue_done(struct daemon *d, const struct closed_window *cw)
{
    struct closed_window *q = malloc(sizeof(*q));
    if (q == NULL) {
        struct closed_window copy = *cw;
        finish_window(d, &copy);
        return;
    }
    *q = *cw;
    q->next = NULL;
    if (d->eval.done != NULL) {
        /* only the last window's pictures are ever shown: a burst of
         * windows waiting for the loop holds one view, not one each */
        struct closed_window *last = (struct closed_window *)((char *)d->eval.done_tail -
                                                              offsetof(struct closed_window, next));
        html_view_free(last->view);
        last->view = NULL;
    }
    *d->eval.done_tail = q;
    d->eval.done_tail = &q->next;
    event_active(d->eval.finish, EV_TIMEOUT, 0);
}

/* Join the worker, if it runs, and queue its window. Blocks, but runs no
 * callback: safe inside a source's. */
static void eval_join(struct daemon *d)
{
    if (!d->eval.running)
        return;
    pthread_join(d->eval.thread, NULL);
    d->eval.running = false;
    queue_done(d, &d->eval.cur);
    d->eval.cur.rep = NULL;
    d->eval.cur.view = NULL;
}

/* Finish the queued windows in order: report, counters, alerts, retraining. */
static void finish_done(struct daemon *d)
{
    struct closed_window *q;
    while ((q = d->eval.done) != NULL) {
        d->eval.done = q->next;
        if (d->eval.done == NULL)
            d->eval.done_tail = &d->eval.done;
        finish_window(d, q);
        free(q);
    }
}

/* Wait for every closed window and finish it. Everything on the loop that
 * reads the dataset, the baseline or cfg.drift, or needs the last report,
 * calls this first. */
static void eval_wait(struct daemon *d)
{
    eval_join(d);
    finish_done(d);
}

static void on_finish(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    finish_done(arg);
}

static void on_eval_done(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    if (wake_drain(fd) != 0)
        log_warn("evaluation signal: %s", strerror(errno));
    eval_wait(d);
}

static void arm_window_timer(struct daemon *d)
{
    struct timeval tv = {
        (time_t)d->cfg.window_seconds,
        (suseconds_t)((d->cfg.window_seconds - floor(d->cfg.window_seconds)) * 1e6)};
    evtimer_add(d->window_timer, &tv);
}

/* Close the current window: its sample goes to the dataset and the worker
 * evaluates it, while the next window fills. Finishing it (report, alerts,
 * dispatch) is left to the loop, so that a window filling inside a source's
 * callback evaluates and alerts nothing there. forced (/v1/evaluate, on the
 * loop): evaluated and finished here and now. -1 when it is too small. */
static int close_window(struct daemon *d, bool forced, bool final)
{
    uint64_t records = window_records(d->win);
    bool below_min = records < d->cfg.window_min_records;
    if (records == 0 || (below_min && !final)) {
        if (!forced && !d->window_extended) {
            d->window_extended = true;
            log_info("window %llu extended: %llu records, fewer than window.min_records (%llu)",
                     (unsigned long long)window_id(d->win), (unsigned long long)records,
                     (unsigned long long)d->cfg.window_min_records);
        }
        return -1;
    }
    eval_join(d); /* windows finish in order; the dataset is free again */
    double end = daemon_now();
    struct closed_window cw = {
        .start = window_start(d->win),
        .end = end,
        .sampled = window_sampled(d->win),
        .id = window_id(d->win),
        .records = records,
        .below_min = below_min,
    };
    bool copied = window_dataset(d->win, d->ds);

    d->window_extended = false;
    sources_window(d, cw.id, true);
    window_reset(d->win, state_next_window_id(d->state, &d->parts), end);
    arm_window_timer(d);
    loop_window_closed(d);

    if (copied && !forced && d->eval.fd >= 0) {
        d->eval.cur = cw;
        if (pthread_create(&d->eval.thread, NULL, eval_main, d) == 0) {
            d->eval.running = true;
            return 0;
        }
    }
    cw.rep = copied ? drift_evaluate(d->ds, &d->cfg.drift) : NULL; /* NULL: logged */
    cw.view = cw.rep != NULL ? html_view_new(cw.rep, d->b, d->ds) : NULL;
    queue_done(d, &cw);
    if (forced)
        finish_done(d);
    return 0;
}

int daemon_evaluate_now(struct daemon *d)
{
    return close_window(d, true, false);
}

/* Does the current window close with this record? */
static bool window_full(const struct daemon *d)
{
    uint64_t n = window_records(d->win);
    return n >= d->cfg.window_records || (d->window_extended && n >= d->cfg.window_min_records);
}

bool source_record(struct source *in, const struct colmap *colmap, const struct reader_record *rec,
                   bool na_tokens, const struct window_type_errors *te)
{
    struct daemon *d = in->core;
    const struct cell *ver = NULL;
    if (colmap->version > 0 && colmap->version - 1 < rec->ncells)
        ver = &rec->cells[colmap->version - 1];
    bool ver_present = ver != NULL && ver->type != CELL_MISSING;
    if (rec->npresent > 0 && rec->nkept == (ver_present ? 1u : 0u)) { /* other data */
        source_reject(in, READER_ERR_NO_FEATURE);
        return false;
    }
    in->records++;
    in->checked++;
    if (in->records > in->mark_records.at)
        reserve(d); /* before the record is acknowledged */
    if (ver != NULL && !loop_record_version(d, ver))
        return true; /* counted, kept out of this baseline's window */
    window_add(d->win, colmap, rec, na_tokens, te);
    if (window_full(d))
        close_window(d, false, false);
    return true;
}

void source_count_unread(struct source *in)
{
    struct daemon *d = in->core;
    in->records++;
    if (in->records > in->mark_records.at)
        reserve(d); /* before the record is acknowledged */
    window_count_unread(d->win, 1);
    if (window_full(d))
        close_window(d, false, false);
}

uint64_t source_skip(const struct source *in)
{
    return window_skip(in->core->win);
}

void source_reject(struct source *in, enum reader_error r)
{
    in->rejected++;
    if ((unsigned)r >= READER_ERR_COUNT)
        r = READER_ERR_OTHER;
    if (++in->reasons[r] > in->mark_reasons[r].at)
        reserve(in->core); /* before the rejection is answered */
}

int source_map_column(struct source *in, struct colmap *colmap, size_t index, const char *name,
                      size_t len)
{
    const char *vf = in->conf->version_field;
    if (vf != NULL && strlen(vf) == len && memcmp(vf, name, len) == 0) {
        colmap_map(colmap, in->core->b, index, name, len); /* -1 there: not a feature */
        colmap->version = index + 1;
        return 0; /* kept: its cells carry the record's model version */
    }
    int rc = colmap_map(colmap, in->core->b, index, name, len);
    if (rc != 0 && !colmap_failed(colmap)) {
        in->unknown_columns++;
        in->unknown_log.every = 60;
        log_limited(&in->unknown_log, LOG_WARNING,
                    "%s: column \"%.*s\" is not a feature of the baseline; its values are "
                    "ignored (%llu unknown columns so far)",
                    in->name, (int)(len < 200 ? len : 200), name,
                    (unsigned long long)in->unknown_columns);
    }
    return rc;
}

const char *source_model(const struct source *in)
{
    return in->core->cfg.model;
}

bool source_leading(const struct source *in)
{
    return in->core->cluster == NULL || in->core->leading;
}

const char *source_config_path(const struct source *in)
{
    return in->core->config_path;
}

double source_window_seconds(const struct source *in)
{
    return in->core->cfg.window_seconds;
}

const struct stats_baseline *source_baseline(const struct source *in)
{
    return in->core->b;
}

/* Every input has ended (stdin at its end): the last window is evaluated,
 * even under window.min_records (it says so), and the daemon stops. */
static void on_end(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd, (void)what;
    if (d->stopping)
        return;
    uint64_t n = window_records(d->win);
    log_notice("every input has ended: evaluating the last window (%llu record%s) and stopping",
               (unsigned long long)n, n == 1 ? "" : "s");
    close_window(d, true, true);
    daemon_stop(d);
}

void source_ended(struct source *in)
{
    struct daemon *d = in->core;
    in->ended = true;
    for (size_t i = 0; i < d->n_sources; i++)
        if (!d->sources[i]->ended)
            return;
    event_active(d->end_ev, EV_TIMEOUT, 0);
}

bool source_stopping(const struct source *in)
{
    return in->core->stopping;
}

void source_position_moved(struct source *in)
{
    in->core->state_dirty = true;
}

int source_reserve(struct source *in)
{
    return reserve(in->core);
}

static void on_window_timer(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd, (void)what;
    if ((d->cluster != NULL && !d->leading) || close_window(d, false, false) != 0)
        arm_window_timer(d); /* extended (or a standby): look again after window.seconds */
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd, (void)what;
    replica_check(d);
    if (replica_may_act(d))
        alerts_tick(d->alerts, daemon_now());
    uint64_t pending = d->commit_pending;
    if (pending != 0 && d->leading && replica_commit(d, pending) == 0)
        sources_window(d, pending, false);
    if (d->state_dirty)
        save(d);
    notify_progress(d);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd, (void)what;
    /* Reaching this callback means the loop turns; only then ping. */
    if (!d->stopping)
        notify_send(d->notify, "WATCHDOG=1");
}

/* Are two baselines' features the same list (names, kinds, order)? */
static bool same_features(const struct stats_baseline *a, const struct stats_baseline *b)
{
    if (a->nfeatures != b->nfeatures)
        return false;
    for (size_t i = 0; i < a->nfeatures; i++)
        if (a->features[i].kind != b->features[i].kind ||
            strcmp(a->features[i].name, b->features[i].name) != 0)
            return false;
    return true;
}

/* Load config + baseline + secrets into the out-params; all or nothing. */
static int load_all(const char *path, struct config *cfg, struct stats_baseline **b, char **token,
                    char sha[SHA256_HEX_LEN + 1], struct errlist *errs)
{
    *b = NULL;
    *token = NULL;
    if (config_load(path, cfg, errs) != 0)
        return -1;
    config_log_risks(cfg);
    size_t len;
    char *text = file_read(cfg->baseline, &len);
    if (text == NULL) {
        config_baseline_error(cfg, errno, errs);
        return -1;
    }
    char err[512];
    sha256_hex(text, len, sha);
    int rc = stats_baseline_parse(text, len, cfg->baseline, b, err, sizeof(err));
    free(text);
    if (rc != 0) {
        errlist_add(errs, "%s", err);
        return -1;
    }
    config_check_baseline(&cfg->drift, *b, path, errs);
    if (cfg->token_file != NULL)
        *token = config_read_secret(cfg->token_file, "auth.token_file", errs, path);
    if (errs->n > 0) {
        stats_baseline_free(*b);
        *b = NULL;
        secret_free(*token);
        *token = NULL;
        return -1;
    }
    return 0;
}

/* Run on b from now on. The open window is kept when b has the old one's
 * features (and window.sample is the same), else dropped with a warning;
 * column maps are remapped; the old baseline is freed. path: where b came
 * from (NULL: keep the one noted by loop_reload). */
static void swap_in(struct daemon *d, struct stats_baseline *b, const char *sha, const char *path,
                    bool sample_same, bool reload)
{
    struct stats_baseline *old = d->b;
    bool keep_window = same_features(old, b) && sample_same;
    d->b = b;
    memcpy(d->baseline_sha256, sha, SHA256_HEX_LEN + 1);
    if (path != NULL && (d->baseline_path == NULL || strcmp(path, d->baseline_path) != 0)) {
        char *p = strdup(path);
        if (p != NULL) {
            free(d->baseline_path);
            d->baseline_path = p;
        }
    }
    dataset_free(d->ds);
    d->ds = dataset_new(b);
    if (keep_window) {
        window_set_baseline(d->win, b);
    } else {
        struct window *w = window_new(b, d->cfg.window_sample, (uint64_t)daemon_now());
        if (w != NULL) {
            if (window_records(d->win) > 0)
                log_warn("%s: the baseline's features or window.sample changed; window %llu "
                         "(%llu records) is dropped",
                         reload ? "reload" : "baseline", (unsigned long long)window_id(d->win),
                         (unsigned long long)window_records(d->win));
            window_free(d->win);
            d->win = w;
            window_reset(d->win, state_next_window_id(d->state, &d->parts), daemon_now());
        }
    }
    /* Column maps point into the old baseline, and a column the old one
     * did not have may be a feature now. (The inputs themselves are kept:
     * a change to them waits for a restart.) */
    for (size_t i = 0; i < d->n_sources; i++) {
        struct source *in = d->sources[i];
        in->conf = &d->cfg.inputs[i < d->cfg.n_inputs ? i : 0];
        if (in->ops->reload != NULL)
            in->ops->reload(in);
    }
    stats_baseline_free(old);
}

void daemon_swap_baseline(struct daemon *d, struct stats_baseline *b, const char *sha,
                          const char *path)
{
    swap_in(d, b, sha, path, true, false);
}

void daemon_eval_wait(struct daemon *d)
{
    eval_wait(d);
}

int daemon_close_window(struct daemon *d, bool forced, bool final)
{
    return close_window(d, forced, final);
}

int daemon_save(struct daemon *d)
{
    return save(d);
}

static uint64_t monotonic_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int daemon_reload(struct daemon *d, struct errlist *errs)
{
    struct config cfg;
    struct stats_baseline *b;
    char *token;
    char msg[64], sha[SHA256_HEX_LEN + 1];

    snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)monotonic_usec());
    notify_send(d->notify, msg);
    log_notice("reloading %s", d->config_path);
    eval_wait(d); /* it reads the baseline and cfg.drift */
    if (load_all(d->config_path, &cfg, &b, &token, sha, errs) != 0) {
        for (size_t i = 0; i < errs->n; i++)
            log_err("reload failed: %s", errs->msgs[i]);
        log_err("reload failed: keeping the running configuration and baseline");
        config_free(&cfg);
        notify_send(d->notify, "READY=1");
        notify_progress(d);
        return -1;
    }
    /* Keys that need a restart keep their running values (the table's
     * reload column says which). */
    config_keep_restart_keys(&d->cfg, &cfg);

    bool sample_same = cfg.window_sample == d->cfg.window_sample;
    config_free(&d->cfg);
    d->cfg = cfg;
    secret_free(d->token);
    d->token = token;
    /* an adopted baseline stays unless the configuration's file changed */
    const char *path = loop_reload(d, &b, sha);
    swap_in(d, b, sha, path, sample_same, true);
    struct alerts_conf ac = {d->cfg.model, d->cfg.resolve_after, d->cfg.repeat_seconds};
    alerts_configure(d->alerts, &ac);
    if (history_set_keep(d->history, (size_t)d->cfg.history_keep) != 0)
        log_err("reload: history.keep: out of memory; keeping %zu windows",
                history_count(d->history));
    struct errlist late = {0};
    if (setup_sinks(d, &late) != 0 || setup_retrain(d, &late) != 0) {
        for (size_t i = 0; i < late.n; i++)
            log_err("reload: %s", late.msgs[i]);
        log_err("reload: some sinks could not be set up; alerts go to the others");
    }
    errlist_free(&late);
    if (d->on_reload != NULL)
        d->on_reload(d->on_reload_arg);
    log_notice("reloaded %s (baseline %s, %zu feature%s)", d->config_path, d->baseline_path,
               d->b->nfeatures, d->b->nfeatures == 1 ? "" : "s");
    notify_send(d->notify, "READY=1");
    notify_progress(d);
    return 0;
}

/* SIGHUP: reload from the loop, after the current callbacks. */
static void on_reload_ev(evutil_socket_t fd, short what, void *arg)
{
    struct errlist errs = {0};
    (void)fd, (void)what;
    daemon_reload(arg, &errs);
    errlist_free(&errs);
}

/* Signals only change state, as in tmux: a reload is scheduled, a stop
 * begun. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    if (sig == SIGHUP) {
        event_active(d->reload_ev, EV_TIMEOUT, 0);
    } else {
        log_notice("signal %d: stopping", (int)sig);
        daemon_stop(d);
    }
}

static void sources_stop(struct daemon *d)
{
    for (size_t i = 0; i < d->n_sources; i++)
        if (d->sources[i]->ops->stop != NULL)
            d->sources[i]->ops->stop(d->sources[i]);
}

/* The open window survives a clean stop: its sample goes to
 * state_dir/window.ndjson, then its header to window.json (written last:
 * the header says the pair is whole), and the next start resumes it. */
static void window_keep(struct daemon *d)
{
    if (window_records(d->win) == 0)
        return;
    struct sbuf head, recs;
    sbuf_init(&head);
    sbuf_init(&recs);
    char *hp = state_file(d->state, "window.json"), *rp = state_file(d->state, "window.ndjson");
    int rc = -1, err = ENOMEM;
    if (hp != NULL && rp != NULL && window_save(d->win, &head, &recs)) {
        rc = file_write_atomic(rp, recs.data ? recs.data : "", recs.len, 0600, 0) == 0 &&
                     file_write_atomic(hp, head.data, head.len, 0600, 0) == 0
                 ? 0
                 : -1;
        err = errno;
    }
    if (rc == 0)
        log_notice("window %llu (%llu records) kept in %s for the next start",
                   (unsigned long long)window_id(d->win),
                   (unsigned long long)window_records(d->win), hp);
    else
        log_err("window %llu (%llu records) could not be kept: %s; the next start begins it "
                "again",
                (unsigned long long)window_id(d->win), (unsigned long long)window_records(d->win),
                strerror(err));
    free(hp);
    free(rp);
    sbuf_free(&head);
    sbuf_free(&recs);
}

/* Resume the window a clean stop kept, if any; the files go either way
 * (a later crash must not bring back this window twice). The sources are
 * told whether it came back: when it did not (a kill -9, or files that
 * could not be read), a source with a position reads its records again. */
static void window_resume(struct daemon *d)
{
    bool resumed = false;
    char *hp = state_file(d->state, "window.json"), *rp = state_file(d->state, "window.ndjson");
    size_t hl = 0, rl = 0;
    char *head = hp != NULL ? file_read(hp, &hl) : NULL;
    char *recs = head != NULL && rp != NULL ? file_read(rp, &rl) : NULL;
    if (head != NULL) {
        char err[160];
        if (recs != NULL && window_restore(d->win, head, hl, recs, rl, err, sizeof(err)) == 0) {
            log_notice("window %llu resumed from the last stop: %llu records (%zu sampled)",
                       (unsigned long long)window_id(d->win),
                       (unsigned long long)window_records(d->win), window_sampled(d->win));
            resumed = true;
        } else {
            log_warn("the window kept at the last stop is dropped: %s",
                     recs == NULL ? "window.ndjson is missing" : err);
            window_reset(d->win, d->counts.next_window_id, d->started);
        }
    }
    for (size_t i = 0; i < d->n_sources; i++)
        d->sources[i]->window_resumed = resumed;
    if (hp != NULL)
        unlink(hp);
    if (rp != NULL)
        unlink(rp);
    free(head);
    free(recs);
    free(hp);
    free(rp);
}

void daemon_stop(struct daemon *d)
{
    if (d->stopping)
        return;
    d->stopping = true;
    notify_send(d->notify, "STOPPING=1");
    if (d->cluster != NULL) {
        /* the windows closed are finished (their messages acknowledged),
         * then the rest is given back for the next leader */
        eval_wait(d);
        sources_stop(d);
        daemon_drop_windows(d);
        d->state_dirty = true;
        save(d);
        struct timeval tv = {0, 100000};
        event_base_loopexit(d->base, &tv);
        return;
    }
    sources_stop(d);
    eval_wait(d); /* its alerts are queued before the state is saved */
    if (window_records(d->win) == 0) {
        /* nothing to keep: what the sources read so far is all evaluated
         * (or rejected), and a start after a crash goes on from here */
        sources_window(d, window_id(d->win), true);
        sources_window(d, window_id(d->win), false);
    }
    window_keep(d);
    d->state_dirty = true;
    save(d);
    /* A short grace period lets answers in flight leave. */
    struct timeval tv = {0, 100000};
    event_base_loopexit(d->base, &tv);
}

int daemon_sources_start(struct daemon *d)
{
    for (size_t i = 0; i < d->n_sources; i++) {
        struct source *in = d->sources[i];
        if (in->ops->start != NULL && in->ops->start(in) != 0) {
            log_err("%s: cannot start the input", in->name);
            return -1;
        }
    }
    return 0;
}

void daemon_sources_stop(struct daemon *d)
{
    sources_stop(d);
}

void daemon_drop_windows(struct daemon *d)
{
    if (d->eval.running) {
        pthread_join(d->eval.thread, NULL);
        d->eval.running = false;
        report_free(d->eval.cur.rep);
        html_view_free(d->eval.cur.view);
        d->eval.cur.rep = NULL;
        d->eval.cur.view = NULL;
    }
    for (struct closed_window *q = d->eval.done, *n; q != NULL; q = n) {
        n = q->next;
        report_free(q->rep);
        html_view_free(q->view);
        free(q);
    }
    d->eval.done = NULL;
    d->eval.done_tail = &d->eval.done;
    if (window_records(d->win) > 0)
        log_info("window %llu dropped (%llu records)", (unsigned long long)window_id(d->win),
                 (unsigned long long)window_records(d->win));
    d->window_extended = false;
    window_reset(d->win, state_next_window_id(d->state, &d->parts), daemon_now());
    if (d->ready)
        arm_window_timer(d);
}

/* One source per configured input, named before the state is loaded. */
static int sources_new(struct daemon *d)
{
    d->sources = calloc(d->cfg.n_inputs ? d->cfg.n_inputs : 1, sizeof(*d->sources));
    if (d->sources == NULL)
        return -1;
    for (size_t i = 0; i < d->cfg.n_inputs; i++) {
        if ((d->sources[i] = source_new(d, d->base, &d->cfg.inputs[i])) == NULL)
            return -1;
        d->n_sources++;
    }
    return 0;
}

struct daemon *daemon_new(struct event_base *base, const char *config_path)
{
    struct errlist errs = {0};
    struct daemon *d = calloc(1, sizeof(*d));
    if (d == NULL) {
        log_err("out of memory");
        return NULL;
    }
    d->eval.fd = -1;
    d->eval.done_tail = &d->eval.done;
    d->base = base;
    d->started = daemon_now();
    d->config_path = strdup(config_path);
    d->alerts_lost_log.every = 60;
    d->history_log.every = 60;
    if (d->config_path == NULL ||
        load_all(config_path, &d->cfg, &d->b, &d->token, d->baseline_sha256, &errs) != 0) {
        errlist_print(&errs, stderr);
        errlist_free(&errs);
        daemon_free(d);
        return NULL;
    }
    if ((d->baseline_path = strdup(d->cfg.baseline)) == NULL) {
        log_err("out of memory");
        daemon_free(d);
        return NULL;
    }
    if (file_mkdir_p(d->cfg.state_dir, 0755, 0700) != 0) {
        log_err("state_dir %s: %s", d->cfg.state_dir, strerror(errno));
        daemon_free(d);
        return NULL;
    }
    d->notify = notify_new();
    notify_status(d->notify, "loading baseline %s", d->cfg.baseline);
    d->win = window_new(d->b, d->cfg.window_sample, (uint64_t)d->started ^ (uint64_t)getpid());
    d->ds = dataset_new(d->b);
    struct alerts_conf ac = {d->cfg.model, d->cfg.resolve_after, d->cfg.repeat_seconds};
    d->alerts = alerts_new(&ac);
    d->counts.next_window_id = 1;
    if (d->win == NULL || d->ds == NULL || d->alerts == NULL || sources_new(d) != 0) {
        log_err("out of memory");
        daemon_free(d);
        return NULL;
    }
    /* The lock comes before anything is read from state_dir or the port
     * is bound: a second daemon on it stops here. */
    d->parts = (struct state_parts){&d->counts, d->sources,    d->n_sources, d->alerts,
                                    NULL,       &d->last_json, daemon_now};
    if ((d->state = state_new(d->cfg.state_dir)) == NULL || state_lock(d->state) != 0 ||
        state_load(d->state, &d->parts) != 0 || loop_start(d) != 0) {
        daemon_free(d);
        return NULL;
    }
    char *hpath = state_file(d->state, "history.ndjson");
    char herr[512];
    if (hpath == NULL || (d->history = history_open(hpath, (size_t)d->cfg.history_keep, herr,
                                                    sizeof(herr))) == NULL) {
        log_err("history: %s", hpath != NULL ? herr : "out of memory");
        free(hpath);
        daemon_free(d);
        return NULL;
    }
    free(hpath);
    window_reset(d->win, d->counts.next_window_id, d->started);
    if (replica_new(d) != 0) {
        daemon_free(d);
        return NULL;
    }
    if (d->cluster == NULL) /* replicas: the next leader reads an open window's records again */
        window_resume(d);

    signal(SIGPIPE, SIG_IGN);
    d->sig_hup = evsignal_new(base, SIGHUP, on_signal, d);
    d->sig_term = evsignal_new(base, SIGTERM, on_signal, d);
    d->sig_int = evsignal_new(base, SIGINT, on_signal, d);
    d->reload_ev = event_new(base, -1, 0, on_reload_ev, d);
    d->end_ev = event_new(base, -1, 0, on_end, d);
    d->eval.finish = event_new(base, -1, 0, on_finish, d);
    d->window_timer = evtimer_new(base, on_window_timer, d);
    d->tick = event_new(base, -1, EV_PERSIST, on_tick, d);
    if (d->sig_hup == NULL || d->sig_term == NULL || d->sig_int == NULL || d->reload_ev == NULL ||
        d->end_ev == NULL || d->eval.finish == NULL || d->window_timer == NULL || d->tick == NULL ||
        evsignal_add(d->sig_hup, NULL) != 0 || evsignal_add(d->sig_term, NULL) != 0 ||
        evsignal_add(d->sig_int, NULL) != 0) {
        log_err("cannot set up signal handling");
        daemon_free(d);
        return NULL;
    }
    /* Without the eventfd windows are evaluated on the loop, as before. */
    d->eval.fd = wake_open();
    if (d->eval.fd >= 0 && ((d->eval.ev = event_new(base, d->eval.fd, EV_READ | EV_PERSIST,
                                                    on_eval_done, d)) == NULL ||
                            event_add(d->eval.ev, NULL) != 0)) {
        close(d->eval.fd);
        d->eval.fd = -1;
    }
    /* Outbound delivery and the retraining policy (sinks wait for the
     * API's address, in daemon_start). */
    char ua[64];
    snprintf(ua, sizeof(ua), "driftd/%s", DRIFTD_VERSION);
    d->client = http_client_new(d->base, ua);
    d->outbox = d->client ? outbox_new(d->base, d->client, d->cfg.state_dir, daemon_now) : NULL;
    if (d->outbox == NULL) {
        log_err("cannot set up outbound delivery (spool %s/spool)", d->cfg.state_dir);
        daemon_free(d);
        return NULL;
    }
    if (setup_retrain(d, &errs) != 0) {
        errlist_print(&errs, stderr);
        errlist_free(&errs);
        daemon_free(d);
        return NULL;
    }
    retrain_restore_consecutive(d->retrain, d->counts.consecutive_drift);
    if (d->cluster == NULL) /* replicas: from the shared state, once leading */
        state_load_retrain(d->state, d->retrain);
    d->parts.retrain = d->retrain;
    return d;
}

int daemon_start(struct daemon *d, const char *listen_addr)
{
    struct errlist errs = {0};
    snprintf(d->listen_addr, sizeof(d->listen_addr), "%s", listen_addr);
    if (setup_sinks(d, &errs) != 0) {
        errlist_print(&errs, stderr);
        errlist_free(&errs);
        return -1;
    }
    outbox_replay(d->outbox);
    if (replica_start(d) != 0)
        return -1;
    arm_window_timer(d);
    struct timeval one = {1, 0};
    event_add(d->tick, &one);
    uint64_t wd = notify_watchdog_usec();
    if (wd > 0) {
        d->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
        struct timeval half = {(time_t)(wd / 2 / 1000000), (suseconds_t)(wd / 2 % 1000000)};
        if (d->watchdog != NULL)
            event_add(d->watchdog, &half);
    }
    d->ready = true;
    char adopted[700];
    loop_describe(d, adopted, sizeof(adopted));
    log_notice("driftd %s ready: model %s, baseline %s%s (%zu feature%s, %llu row%s), listening "
               "on %s, state in %s",
               DRIFTD_VERSION, d->cfg.model, d->baseline_path, adopted, d->b->nfeatures,
               d->b->nfeatures == 1 ? "" : "s", (unsigned long long)d->b->rows,
               d->b->rows == 1 ? "" : "s", d->listen_addr, d->cfg.state_dir);
    notify_send(d->notify, "READY=1");
    notify_progress(d);
    return 0;
}

void daemon_free(struct daemon *d)
{
    if (d == NULL)
        return;
    if (d->eval.running) { /* the loop ended without a stop */
        pthread_join(d->eval.thread, NULL);
        d->eval.running = false;
        report_free(d->eval.cur.rep);
        html_view_free(d->eval.cur.view);
    }
    for (struct closed_window *q = d->eval.done, *n; q != NULL; q = n) {
        n = q->next;
        report_free(q->rep);
        html_view_free(q->view);
        free(q);
    }
    if (d->eval.ev != NULL)
        event_free(d->eval.ev);
    if (d->eval.fd >= 0)
        close(d->eval.fd);
    sources_stop(d);
    struct event *evs[] = {d->sig_hup,     d->sig_term,     d->sig_int, d->reload_ev, d->end_ev,
                           d->eval.finish, d->window_timer, d->tick,    d->watchdog};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i] != NULL)
            event_free(evs[i]);
    loop_free(d);
    window_free(d->win);
    dataset_free(d->ds);
    alerts_free(d->alerts);
    /* curl's multi handle goes before the event base (the caller frees that) */
    retrain_free(d->retrain);
    for (size_t i = 0; i < d->n_sinks_made; i++)
        http_sink_free(d->sinks[i]);
    free(d->sinks);
    for (size_t i = 0; d->sink_names != NULL && d->sink_names[i] != NULL; i++)
        free(d->sink_names[i]);
    free(d->sink_names);
    free(d->sink_stats);
    outbox_free(d->outbox);
    http_client_free(d->client);
    secret_free(d->github_token);
    free(d->last_status);
    notify_free(d->notify);
    report_free(d->last);
    html_view_free(d->last_view);
    history_free(d->history);
    free(d->last_json);
    secret_free(d->token);
    free(d->config_path);
    free(d->baseline_path);
    for (size_t i = 0; i < d->n_sources; i++)
        source_free(d->sources[i]);
    free(d->sources);
    replica_free(d); /* after the sources: the lease goes last */
    stats_baseline_free(d->b);
    config_free(&d->cfg);
    state_free(d->state);
    free(d);
}

void daemon_on_reload(struct daemon *d, void (*fn)(void *arg), void *arg)
{
    d->on_reload = fn;
    d->on_reload_arg = arg;
}

const struct config *daemon_config(const struct daemon *d)
{
    return &d->cfg;
}

const char *daemon_token(const struct daemon *d)
{
    return d->token;
}

bool daemon_stopping(const struct daemon *d)
{
    return d->stopping;
}

uint64_t daemon_window_records(const struct daemon *d)
{
    return window_records(d->win);
}

void daemon_history_json(const struct daemon *d, size_t limit, struct sbuf *out)
{
    history_json(d->history, limit, out);
}

const struct history *daemon_history(const struct daemon *d)
{
    return d->history;
}

int daemon_last_html(const struct daemon *d, bool fragment, struct sbuf *out)
{
    if (d->last == NULL || d->last_view == NULL)
        return 1;
    char window[96];
    snprintf(window, sizeof(window), "window %llu (%llu record%s)", (unsigned long long)d->last_id,
             (unsigned long long)d->last_records, d->last_records == 1 ? "" : "s");
    struct html_meta m = {.model = d->cfg.model, .window = window};
    struct sbuf labels;
    sbuf_init(&labels);
    const struct stats_provenance *p = d->b->provenance;
    if (p != NULL) { /* where the baseline came from, as check --html says it */
        m.baseline_source = p->input_path;
        for (size_t i = 0; i < p->nlabels; i++)
            sbuf_printf(&labels, "%s%s=%s", i ? ", " : "", p->labels[i].key, p->labels[i].value);
        m.baseline_labels = labels.data;
    }
    int rc = fragment ? html_render_fragment(d->last, d->last_view, &m, out)
                      : html_render(d->last, d->last_view, &m, out);
    sbuf_free(&labels);
    return rc;
}

const char *daemon_last_json(const struct daemon *d)
{
    return d->last_json;
}

static const char *spool_error(const struct daemon *d)
{
    return d->outbox != NULL ? outbox_write_error(d->outbox) : NULL;
}

const char *daemon_not_ready(const struct daemon *d)
{
    if (!d->ready)
        return "starting";
    const char *e = spool_error(d);
    if (e != NULL)
        return e;
    if ((e = state_error(d->state)) != NULL)
        return e;
    /* the buffer is the daemon's, written on the loop that reads it */
    char *buf = ((struct daemon *)d)->not_ready_buf;
    size_t len = sizeof(d->not_ready_buf);
    if (d->cluster != NULL && (e = cluster_not_ready(d->cluster, buf, len)) != NULL)
        return e;
    for (size_t i = 0; i < d->n_sources; i++)
        if (d->sources[i]->ops->not_ready != NULL &&
            (e = d->sources[i]->ops->not_ready(d->sources[i], buf, len)) != NULL)
            return e;
    return NULL;
}

void daemon_cluster_json(const struct daemon *d, struct sbuf *out)
{
    replica_status_json(d, out);
}

struct source *daemon_source_of(const struct daemon *d, const struct source_ops *ops)
{
    for (size_t i = 0; i < d->n_sources; i++)
        if (d->sources[i]->ops == ops)
            return d->sources[i];
    return NULL;
}

void daemon_snapshot(struct daemon *d, struct daemon_snapshot *v)
{
    memset(v, 0, sizeof(*v));
    v->model = d->cfg.model;
    v->baseline_path = d->baseline_path;
    v->adopt = d->adopt;
    v->versions = d->versions;
    v->n_versions = d->n_versions;
    v->uptime = daemon_now() - d->started;
    v->features = d->b->nfeatures;
    v->baseline_rows = d->b->rows;
    v->baseline_sample_rows = d->b->sample_rows;
    v->window_id = window_id(d->win);
    v->window_records = window_records(d->win);
    v->window_sampled = window_sampled(d->win);
    v->window_start = window_start(d->win);
    v->window_extended = d->window_extended;
    v->min_records = d->cfg.window_min_records;
    v->windows_evaluated = d->counts.windows_evaluated;
    v->sampled_total = d->counts.sampled_total;
    v->last_eval_at = d->counts.last_eval_at;
    v->last_json = d->last_json;
    v->last = d->last;
    v->alert_events = alerts_sent(d->alerts);
    v->firing = alerts_firing(d->alerts);
    if (d->outbox != NULL)
        v->alerts = outbox_totals(d->outbox);
    size_t n = 0;
    while (d->sink_names != NULL && d->sink_names[n] != NULL)
        n++;
    struct daemon_sink_stats *ss = realloc(d->sink_stats, (n ? n : 1) * sizeof(*ss));
    if (ss != NULL) {
        d->sink_stats = ss;
        for (size_t i = 0; i < n; i++) {
            ss[i].name = d->sink_names[i];
            /* the log sink delivers synchronously: each event is one sent alert */
            if (strcmp(d->sink_names[i], "log") == 0) {
                memset(&ss[i].st, 0, sizeof(ss[i].st));
                ss[i].st.sent = v->alert_events;
                v->alerts.sent += v->alert_events;
            } else {
                ss[i].st = outbox_stats(d->outbox, d->sink_names[i]);
            }
        }
        v->sinks = ss;
        v->n_sinks = n;
    }
    v->retrain = d->retrain;
    v->alerts_lost = d->alerts_lost;
    v->client_errors = d->client != NULL ? http_client_errors(d->client) : 0;
    v->sources = d->sources;
    v->n_sources = d->n_sources;
    v->spool_error = spool_error(d);
    v->state_error = state_error(d->state);
    v->not_ready = daemon_not_ready(d);
    v->leader = d->cluster == NULL ? -1 : d->leading && cluster_acting(d->cluster);
    if (d->cluster != NULL) {
        struct cluster_counts cc = cluster_counts(d->cluster);
        v->lease_acquired = cc.acquired;
        v->lease_lost = cc.lost;
    }
}
