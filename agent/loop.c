/*
 * The closed loop (docs/loop.md): a baseline comes from the configuration's
 * file, from the artifact of the retrain run driftd dispatched, or from
 * POST /v1/baseline; it is validated like `driftd validate` does, kept in
 * state_dir/baselines/, staged, and adopted (now, at the next window
 * boundary, or when asked), with the same swap as a reload: the open
 * window is evaluated against the old baseline first. Adopting the run's
 * baseline ends the drift episode that caused the dispatch. Every step is
 * an event in the timeline (agent/adopt.c keeps it).
 */
#include "agent/daemon.h"
#include "agent/daemon_priv.h"
#include "agent/reader.h"
#include "agent/window.h"
#include "alerts/alert.h"
#include "lib/errors.h"
#include "lib/file.h"
#include "lib/log.h"
#include "stats/baseline.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void await_version(struct daemon *d, const struct adopt_entry *e);

/* Is a feature of the baseline evaluated (features.include/exclude)? */
static bool selected(const struct drift_opts *o, const char *name)
{
    bool in = o->n_include == 0;
    for (size_t i = 0; i < o->n_include && !in; i++)
        in = strcmp(o->include[i], name) == 0;
    for (size_t i = 0; i < o->n_exclude && in; i++)
        in = strcmp(o->exclude[i], name) != 0;
    return in;
}

/* Describe a parsed baseline for the record: rows, features, its
 * provenance object and model_version label. */
static void entry_fill(struct adopt_entry *e, const struct stats_baseline *b, const char *sha,
                       enum adopt_source src, const char *path)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->sha256, sizeof(e->sha256), "%s", sha);
    e->source = src;
    snprintf(e->path, sizeof(e->path), "%s", path ? path : "");
    e->rows = b->rows;
    e->features = b->nfeatures;
    e->at = daemon_now();
    if (b->provenance != NULL) {
        struct sbuf p;
        sbuf_init(&p);
        stats_provenance_json(b->provenance, &p);
        e->provenance = sbuf_failed(&p) ? NULL : sbuf_steal(&p, NULL);
        sbuf_free(&p);
    }
    const char *mv = stats_baseline_label(b, "model_version");
    if (mv != NULL)
        snprintf(e->model_version, sizeof(e->model_version), "%s", mv);
}

static void entry_free(struct adopt_entry *e)
{
    free(e->provenance);
    e->provenance = NULL;
}

/* Parse and check a candidate baseline: as `driftd validate` checks one
 * against the configuration, plus (unless
 * retrain.adopt.allow_feature_changes) every evaluated feature of the
 * active baseline present with the same kind. NULL with err. */
static struct stats_baseline *candidate(struct daemon *d, const char *text, size_t len,
                                        const char *name, char sha[SHA256_HEX_LEN + 1], char *err,
                                        size_t errlen)
{
    struct stats_baseline *b;
    sha256_hex(text, len, sha);
    if (stats_baseline_parse(text, len, name, &b, err, errlen) != 0)
        return NULL;
    struct errlist errs = {0};
    config_check_baseline(&d->cfg.drift, b, d->config_path, &errs);
    if (errs.n > 0) {
        snprintf(err, errlen, "%s: does not suit the configuration: %s", name, errs.msgs[0]);
        errlist_free(&errs);
        stats_baseline_free(b);
        return NULL;
    }
    if (d->cfg.adopt.allow_feature_changes || d->b == NULL)
        return b;
    for (size_t i = 0; i < d->b->nfeatures; i++) {
        const struct stats_bfeature *f = &d->b->features[i];
        if (!selected(&d->cfg.drift, f->name))
            continue;
        int k = stats_baseline_find(b, f->name);
        if (k < 0 || b->features[k].kind != f->kind) {
            snprintf(err, errlen,
                     "%s: feature \"%s\" (%s in the active baseline) is %s%s "
                     "(retrain.adopt.allow_feature_changes is false)",
                     name, f->name, stats_kind_name(f->kind), k < 0 ? "missing" : "",
                     k < 0 ? "" : stats_kind_name(b->features[k].kind));
            stats_baseline_free(b);
            return NULL;
        }
    }
    return b;
}

/* The configuration's file, parsed into b from bytes hashing to sha,
 * becomes the active baseline of the record. */
static void note_file_active(struct daemon *d, const struct stats_baseline *b, const char *sha)
{
    struct adopt_entry e;
    entry_fill(&e, b, sha, ADOPT_FROM_FILE, d->cfg.baseline);
    adopt_set_active(d->adopt, &e);
    adopt_set_config_sha(d->adopt, sha);
    entry_free(&e);
}

/* Load the baseline of an entry from its file, checked. NULL with err. */
static struct stats_baseline *load_entry(struct daemon *d, const struct adopt_entry *e, char *err,
                                         size_t errlen)
{
    size_t len = 0;
    char *text = file_read(e->path, &len);
    if (text == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", e->path, strerror(errno));
        return NULL;
    }
    char sha[SHA256_HEX_LEN + 1];
    struct stats_baseline *b = candidate(d, text, len, e->path, sha, err, errlen);
    free(text);
    if (b != NULL && strcmp(sha, e->sha256) != 0) {
        snprintf(err, errlen, "%s: changed on disk (sha256 %.12s, expected %.12s)", e->path, sha,
                 e->sha256);
        stats_baseline_free(b);
        return NULL;
    }
    return b;
}

/* Make e the active baseline now: the open window is evaluated against the
 * old one first. what: "baseline_adopted" or "baseline_rolled_back". */
static int adopt_entry_now(struct daemon *d, const struct adopt_entry *e, const char *what,
                           char *err, size_t errlen)
{
    struct stats_baseline *b = load_entry(d, e, err, errlen);
    if (b == NULL)
        return -1;
    daemon_eval_wait(d);
    if (window_records(d->win) > 0)
        daemon_close_window(d, true, true); /* against the old baseline */
    struct adopt_entry act = *e;
    act.provenance = e->provenance ? strdup(e->provenance) : NULL;
    act.at = daemon_now();
    daemon_swap_baseline(d, b, e->sha256, e->path);
    adopt_set_active(d->adopt, &act);
    bool rollback = strcmp(what, "baseline_rolled_back") == 0;
    adopt_count(d->adopt, rollback ? "rolled_back" : "adopted");
    char msg[256];
    snprintf(msg, sizeof(msg), "%s baseline %.12s (%s%s%s, %llu rows, %zu features)",
             rollback ? "back to the" : "now on the", act.sha256, adopt_source_name(act.source),
             act.model_version[0] ? ", model_version " : "", act.model_version,
             (unsigned long long)act.rows, act.features);
    adopt_event(d->adopt, what, act.correlation_id[0] ? act.correlation_id : NULL, act.sha256,
                act.run_url[0] ? act.run_url : NULL, msg);
    if (!rollback && act.source == ADOPT_FROM_RUN)
        adopt_set_status(d->adopt, "adopted", msg, NULL, act.run_url, act.correlation_id);
    if (!rollback) { /* the episode that asked for this baseline ends */
        char sha12[13];
        snprintf(sha12, sizeof(sha12), "%.12s", act.sha256);
        struct alert_resolved_by rb = {sha12, act.run_url[0] ? act.run_url : NULL,
                                       act.correlation_id[0] ? act.correlation_id : NULL};
        alerts_resolve(d->alerts, &rb, daemon_now());
    }
    if (d->adopt_next[0] && strcmp(d->adopt_next, act.sha256) == 0)
        d->adopt_next[0] = '\0';
    if (d->ver_sha[0] && strcmp(d->ver_sha, act.sha256) == 0)
        d->ver_next[0] = d->ver_sha[0] = '\0';
    entry_free(&act);
    adopt_save(d->adopt);
    d->state_dirty = true;
    daemon_save(d);
    return 0;
}

/* on_success: the boundary came; adopt what waited for it. */
static void on_adopt_ev(evutil_socket_t fd, short what, void *arg)
{
    struct daemon *d = arg;
    (void)fd, (void)what;
    if (d->adopt_next[0] == '\0' || d->stopping)
        return;
    const struct adopt_entry *e = adopt_find_staged(d->adopt, d->adopt_next);
    char err[600];
    if (e == NULL) {
        d->adopt_next[0] = '\0';
        return;
    }
    struct adopt_entry copy = *e; /* the staged list changes under the swap */
    copy.provenance = e->provenance ? strdup(e->provenance) : NULL;
    if (adopt_entry_now(d, &copy, "baseline_adopted", err, sizeof(err)) != 0) {
        adopt_set_status(d->adopt, "failed", err, NULL, copy.run_url, copy.correlation_id);
        adopt_count(d->adopt, "failed");
        adopt_event(d->adopt, "adoption_failed", copy.correlation_id, copy.sha256, copy.run_url,
                    err);
        alerts_retrain(d->alerts, ALERT_ADOPTION_FAILED, copy.correlation_id, err,
                       copy.run_url[0] ? copy.run_url : NULL, 0, daemon_now());
        d->adopt_next[0] = '\0';
        adopt_save(d->adopt);
    }
    entry_free(&copy);
}

/* After a restart, what was waiting still waits: on_version awaits the
 * newest staged run baseline's model_version again; on_success adopts the
 * newest staged run baseline at the next window boundary. */
static void await_staged_version(struct daemon *d)
{
    enum adopt_mode mode = d->cfg.adopt.mode;
    if (mode != ADOPT_ON_VERSION && mode != ADOPT_ON_SUCCESS)
        return;
    for (size_t i = adopt_n_staged(d->adopt); i > 0; i--) {
        const struct adopt_entry *e = adopt_staged(d->adopt, i - 1);
        if (e->source != ADOPT_FROM_RUN)
            continue;
        if (mode == ADOPT_ON_SUCCESS) { /* the newest only: an older one was passed over */
            if (i == adopt_n_staged(d->adopt))
                snprintf(d->adopt_next, sizeof(d->adopt_next), "%s", e->sha256);
            return;
        }
        if (e->model_version[0]) {
            await_version(d, e);
            return;
        }
    }
}

int loop_start(struct daemon *d)
{
    char err[600] = "";
    if ((d->adopt = adopt_new(d->cfg.state_dir, daemon_now)) == NULL ||
        (d->adopt_ev = event_new(d->base, -1, 0, on_adopt_ev, d)) == NULL) {
        log_err("out of memory");
        return -1;
    }
    if (adopt_load(d->adopt, err, sizeof(err)) != 0)
        log_warn("loop: %s", err);
    const struct adopt_entry *act = adopt_active(d->adopt);
    if (act != NULL && act->source != ADOPT_FROM_FILE) {
        if (strcmp(adopt_config_sha(d->adopt), d->baseline_sha256) != 0) {
            log_notice("loop: %s changed since the baseline %.12s was adopted: running on it",
                       d->cfg.baseline, act->sha256);
        } else {
            struct stats_baseline *b = load_entry(d, act, err, sizeof(err));
            if (b != NULL) {
                daemon_swap_baseline(d, b, act->sha256, act->path);
                adopt_save(d->adopt);
                await_staged_version(d);
                return 0;
            }
            log_err("loop: the adopted baseline cannot be used (%s): running on %s", err,
                    d->cfg.baseline);
        }
    }
    if (act == NULL || strcmp(act->sha256, d->baseline_sha256) != 0 ||
        act->source != ADOPT_FROM_FILE)
        note_file_active(d, d->b, d->baseline_sha256);
    adopt_save(d->adopt);
    await_staged_version(d);
    return 0;
}

const char *loop_reload(struct daemon *d, struct stats_baseline **b, char sha[SHA256_HEX_LEN + 1])
{
    const struct adopt_entry *act = adopt_active(d->adopt);
    if (act == NULL || act->source == ADOPT_FROM_FILE ||
        strcmp(adopt_config_sha(d->adopt), sha) != 0) {
        if (act != NULL && act->source != ADOPT_FROM_FILE)
            log_notice("reload: %s changed since the baseline %.12s was adopted: running on it",
                       d->cfg.baseline, act->sha256);
        if (act == NULL || strcmp(act->sha256, sha) != 0 || act->source != ADOPT_FROM_FILE)
            note_file_active(d, *b, sha);
        adopt_save(d->adopt);
        return d->cfg.baseline;
    }
    char err[600];
    struct stats_baseline *ab = load_entry(d, act, err, sizeof(err));
    if (ab == NULL) {
        log_err("reload: the adopted baseline cannot be used (%s): running on %s", err,
                d->cfg.baseline);
        return d->cfg.baseline;
    }
    stats_baseline_free(*b);
    *b = ab;
    memcpy(sha, act->sha256, SHA256_HEX_LEN + 1);
    return act->path;
}

void loop_describe(const struct daemon *d, char *buf, size_t len)
{
    const struct adopt_entry *act = adopt_active(d->adopt);
    if (act == NULL || act->source == ADOPT_FROM_FILE) {
        snprintf(buf, len, "%s", "");
        return;
    }
    snprintf(buf, len, " (the adopted baseline %.12s%s%s%s%s, not the configuration's %s)",
             act->sha256, act->model_version[0] ? ", model_version " : "", act->model_version,
             act->run_url[0] ? ", from " : ", posted to the API", act->run_url, d->cfg.baseline);
}

void loop_window_closed(struct daemon *d)
{
    if (d->ver_next[0] != '\0' && d->adopt_next[0] == '\0') {
        /* on_version: the boundary of a window where enough records carry
         * the new version adopts it */
        uint64_t all = d->ver_new + d->ver_old;
        if (all > 0 && (double)d->ver_new >= d->cfg.adopt.version_share * (double)all) {
            log_notice("loop: %llu of %llu records of the window carry model_version %s "
                       "(retrain.adopt.version_share %.2f): adopting %.12s",
                       (unsigned long long)d->ver_new, (unsigned long long)all, d->ver_next,
                       d->cfg.adopt.version_share, d->ver_sha);
            snprintf(d->adopt_next, sizeof(d->adopt_next), "%s", d->ver_sha);
        }
        d->ver_new = d->ver_old = 0;
    }
    if (d->adopt_next[0] != '\0' && d->adopt_ev != NULL)
        event_active(d->adopt_ev, EV_TIMEOUT, 0);
}

void loop_free(struct daemon *d)
{
    if (d->adopt_ev != NULL)
        event_free(d->adopt_ev);
    d->adopt_ev = NULL;
    adopt_free(d->adopt);
    d->adopt = NULL;
}

/* --- staging --------------------------------------------------------------- */

/* Validate, keep and stage a baseline's bytes. Returns 0 with the entry
 * (its provenance to be freed), or -1 with err. */
static int stage(struct daemon *d, const char *text, size_t len, const char *name,
                 enum adopt_source src, const char *run_url, const char *corr,
                 struct adopt_entry *out, char *err, size_t errlen)
{
    char sha[SHA256_HEX_LEN + 1];
    struct stats_baseline *b = candidate(d, text, len, name, sha, err, errlen);
    if (b == NULL)
        return -1;
    if (adopt_store(d->adopt, text, len, sha, (size_t)d->cfg.adopt.keep) != 0) {
        snprintf(err, errlen, "cannot store it in %s/baselines: %s", d->cfg.state_dir,
                 strerror(errno));
        stats_baseline_free(b);
        return -1;
    }
    char *path = adopt_path_of(d->adopt, sha);
    entry_fill(out, b, sha, src, path);
    free(path);
    stats_baseline_free(b);
    snprintf(out->run_url, sizeof(out->run_url), "%s", run_url ? run_url : "");
    snprintf(out->correlation_id, sizeof(out->correlation_id), "%s", corr ? corr : "");
    const struct adopt_entry *act = adopt_active(d->adopt);
    if (act != NULL && strcmp(act->sha256, sha) == 0)
        return 0; /* already the one in use: nothing to stage */
    if (adopt_stage(d->adopt, out) != 0) {
        snprintf(err, errlen, "out of memory");
        entry_free(out);
        return -1;
    }
    char msg[200];
    snprintf(msg, sizeof(msg), "%llu rows, %zu features%s%s", (unsigned long long)out->rows,
             out->features, out->model_version[0] ? ", model_version " : "", out->model_version);
    adopt_event(d->adopt, "baseline_staged", corr, sha, run_url, msg);
    adopt_save(d->adopt);
    return 0;
}

/* {"error": msg} */
static int answer_error(struct sbuf *out, int code, const char *msg)
{
    sbuf_adds(out, "{\"error\": ");
    sbuf_add_json_string(out, msg, strlen(msg));
    sbuf_adds(out, "}\n");
    return code;
}

/* {"status": ..., "baseline": {...}} */
static int answer_entry(struct daemon *d, struct sbuf *out, int code, const char *status,
                        const struct adopt_entry *e)
{
    sbuf_adds(out, "{\"status\": ");
    sbuf_add_json_string(out, status, strlen(status));
    sbuf_printf(out, ", \"sha256\": \"%s\", \"id\": \"%.12s\", \"rows\": %llu, \"features\": %zu",
                e->sha256, e->sha256, (unsigned long long)e->rows, e->features);
    sbuf_adds(out, ", \"model_version\": ");
    if (e->model_version[0])
        sbuf_add_json_string(out, e->model_version, strlen(e->model_version));
    else
        sbuf_adds(out, "null");
    const struct adopt_entry *act = adopt_active(d->adopt);
    sbuf_printf(out, ", \"active\": \"%s\"}\n", act ? act->sha256 : "");
    return code;
}

int daemon_baseline_post(struct daemon *d, const char *body, size_t len, bool adopt_it,
                         struct sbuf *out)
{
    char err[700];
    struct adopt_entry e;
    if (len == 0)
        return answer_error(out, 400, "the body must be a baseline file (driftd baseline -o)");
    if (stage(d, body, len, "body", ADOPT_FROM_API, NULL, NULL, &e, err, sizeof(err)) != 0)
        return answer_error(out, 422, err);
    const struct adopt_entry *act = adopt_active(d->adopt);
    int code;
    if (act != NULL && strcmp(act->sha256, e.sha256) == 0) {
        code = answer_entry(d, out, 200, "active", &e);
    } else if (adopt_it) {
        if (adopt_entry_now(d, &e, "baseline_adopted", err, sizeof(err)) != 0)
            code = answer_error(out, 422, err);
        else
            code = answer_entry(d, out, 200, "adopted", &e);
    } else {
        code = answer_entry(d, out, 202, "staged", &e);
    }
    entry_free(&e);
    return code;
}

int daemon_baseline_adopt(struct daemon *d, const char *body, size_t len, struct sbuf *out)
{
    cJSON *j = cJSON_ParseWithLength(body, len);
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(j, "sha256");
    char want[SHA256_HEX_LEN + 1] = "";
    if (cJSON_IsString(sha))
        snprintf(want, sizeof(want), "%s", sha->valuestring);
    cJSON_Delete(j);
    if (want[0] == '\0')
        return answer_error(out, 400,
                            "expected {\"sha256\": \"...\"} naming a staged baseline (its first "
                            "12 hex digits are enough)");
    const struct adopt_entry *act = adopt_active(d->adopt);
    if (act != NULL && strlen(want) >= 6 && strncmp(act->sha256, want, strlen(want)) == 0)
        return answer_entry(d, out, 200, "active", act);
    const struct adopt_entry *e = adopt_find_staged(d->adopt, want);
    if (e == NULL) {
        char msg[300];
        snprintf(msg, sizeof(msg), "no staged baseline %s (%zu staged; GET /v1/status shows them)",
                 want, adopt_n_staged(d->adopt));
        return answer_error(out, 404, msg);
    }
    struct adopt_entry copy = *e;
    copy.provenance = e->provenance ? strdup(e->provenance) : NULL;
    char err[700];
    int code = adopt_entry_now(d, &copy, "baseline_adopted", err, sizeof(err)) == 0
                   ? answer_entry(d, out, 200, "adopted", &copy)
                   : answer_error(out, 422, err);
    entry_free(&copy);
    return code;
}

int daemon_baseline_rollback(struct daemon *d, struct sbuf *out)
{
    const struct adopt_entry *p = adopt_previous(d->adopt);
    if (p == NULL)
        return answer_error(out, 409, "no previous baseline to go back to");
    struct adopt_entry copy = *p;
    copy.provenance = p->provenance ? strdup(p->provenance) : NULL;
    char err[700];
    int code = adopt_entry_now(d, &copy, "baseline_rolled_back", err, sizeof(err)) == 0
                   ? answer_entry(d, out, 200, "rolled_back", &copy)
                   : answer_error(out, 422, err);
    entry_free(&copy);
    return code;
}

void daemon_events_json(const struct daemon *d, size_t limit, struct sbuf *out)
{
    adopt_events_json(d->adopt, limit, out);
}

/* --- the run driftd dispatched ----------------------------------------------- */

void loop_dispatched(struct daemon *d, const char *correlation_id, uint64_t window_id)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "window %llu drifted%s", (unsigned long long)window_id,
             d->cfg.retrain_dry_run ? " (dry run: nothing sent)" : "");
    adopt_event(d->adopt, "dispatched", correlation_id, d->baseline_sha256, NULL, msg);
    adopt_save(d->adopt);
}

/* The run's baseline cannot be used: the active one stays, the episode
 * stays open, and every sink hears why. */
static void adoption_failed(struct daemon *d, const char *corr, const char *run_url,
                            const char *sha, const char *reason)
{
    adopt_set_status(d->adopt, "failed", reason, NULL, run_url, corr);
    adopt_count(d->adopt, "failed");
    adopt_event(d->adopt, "adoption_failed", corr, sha, run_url, reason);
    alerts_retrain(d->alerts, ALERT_ADOPTION_FAILED, corr, reason,
                   run_url != NULL && *run_url ? run_url : NULL, 0, daemon_now());
    adopt_save(d->adopt);
}

/* The artifact's baseline arrived (or could not be fetched): stage it, and
 * adopt it as retrain.adopt.mode says. */
static void on_fetched(void *arg, const struct artifact_result *r)
{
    struct daemon *d = arg;
    const char *corr = d->fetch_corr, *url = d->fetch_run_url;
    if (d->stopping)
        return;
    if (!r->ok) {
        adoption_failed(d, corr, url, NULL, r->reason);
        return;
    }
    char name[400], err[700];
    snprintf(name, sizeof(name), "artifact %s, %s", d->fetch_artifact, r->member);
    struct adopt_entry e;
    if (stage(d, r->data, r->len, name, ADOPT_FROM_RUN, url, corr, &e, err, sizeof(err)) != 0) {
        adoption_failed(d, corr, url, NULL, err);
        return;
    }
    const struct adopt_entry *act = adopt_active(d->adopt);
    char msg[300];
    if (act != NULL && strcmp(act->sha256, e.sha256) == 0) {
        adopt_set_status(d->adopt, "adopted", "the run built the baseline already in use", NULL,
                         url, corr);
    } else if (d->cfg.adopt.mode == ADOPT_ON_SUCCESS) {
        snprintf(d->adopt_next, sizeof(d->adopt_next), "%s", e.sha256);
        snprintf(msg, sizeof(msg), "baseline %.12s staged: adopted at the next window boundary",
                 e.sha256);
        adopt_set_status(d->adopt, "staged", msg, NULL, url, corr);
    } else if (d->cfg.adopt.mode == ADOPT_ON_VERSION && e.model_version[0] == '\0') {
        adoption_failed(d, corr, url, e.sha256,
                        "retrain.adopt.mode is on_version but the baseline has no "
                        "model_version label (driftd baseline --label model_version=...)");
    } else if (d->cfg.adopt.mode == ADOPT_ON_VERSION) {
        snprintf(msg, sizeof(msg),
                 "baseline %.12s staged: adopted once records carry model_version %s", e.sha256,
                 e.model_version);
        adopt_set_status(d->adopt, "staged", msg, NULL, url, corr);
        await_version(d, &e);
    } else {
        snprintf(msg, sizeof(msg),
                 "baseline %.12s staged: POST /v1/baseline/adopt {\"sha256\": \"%.12s\"} adopts it",
                 e.sha256, e.sha256);
        adopt_set_status(d->adopt, "staged", msg, NULL, url, corr);
    }
    entry_free(&e);
    adopt_save(d->adopt);
}

/* The artifact's name for this run: retrain.adopt.artifact expanded. */
int loop_artifact_name(struct daemon *d, const char *corr, char *out, size_t len)
{
    struct github_vars v = {.model = d->cfg.model, .correlation_id = corr};
    struct sbuf s;
    char bad[64];
    sbuf_init(&s);
    int rc = github_expand(d->cfg.adopt.artifact, &v, &s, bad, sizeof(bad));
    if (rc == 0 && !sbuf_failed(&s))
        snprintf(out, len, "%s", s.data ? s.data : "");
    else
        snprintf(out, len, "%s", d->cfg.adopt.artifact);
    sbuf_free(&s);
    return rc;
}

void loop_news(void *arg, enum alert_kind kind, const struct github_state *st)
{
    struct daemon *d = arg;
    if (kind != ALERT_RETRAIN_FINISHED)
        return;
    const char *corr = st->correlation_id, *url = st->run_url;
    adopt_count_run(d->adopt, st->run_conclusion);
    char msg[200];
    snprintf(msg, sizeof(msg), "conclusion: %s", st->run_conclusion[0] ? st->run_conclusion : "?");
    adopt_event(d->adopt, "run_completed", corr, NULL, url, msg);
    if (d->cfg.adopt.mode == ADOPT_OFF) {
        adopt_save(d->adopt);
        return;
    }
    if (strcmp(st->run_conclusion, "success") != 0) {
        snprintf(msg, sizeof(msg), "the run concluded %s",
                 st->run_conclusion[0] ? st->run_conclusion : "without a conclusion");
        adoption_failed(d, corr, url, NULL, msg);
        return;
    }
    snprintf(d->fetch_corr, sizeof(d->fetch_corr), "%s", corr);
    snprintf(d->fetch_run_url, sizeof(d->fetch_run_url), "%s", url);
    loop_artifact_name(d, corr, d->fetch_artifact, sizeof(d->fetch_artifact));
    char err[300];
    struct github *g = retrain_github(d->retrain);
    snprintf(msg, sizeof(msg), "fetching %s from artifact %s", d->cfg.adopt.file,
             d->fetch_artifact);
    adopt_set_status(d->adopt, "pending", msg, d->fetch_artifact, url, corr);
    if (g == NULL ||
        github_fetch_artifact(g, st->run_id, d->fetch_artifact, (size_t)d->cfg.adopt.max_bytes,
                              d->cfg.adopt.file, on_fetched, d, err, sizeof(err)) != 0) {
        adoption_failed(d, corr, url, NULL, g == NULL ? "retrain.github is not configured" : err);
        return;
    }
    adopt_save(d->adopt);
}

void loop_run_status(void *arg, const struct github_state *st)
{
    struct daemon *d = arg;
    if (st->run_id == 0 || st->run_id == d->run_started || strcmp(st->run_status, "queued") == 0)
        return;
    d->run_started = st->run_id; /* in_progress (or completed at once): once per run */
    adopt_event(d->adopt, "run_started", st->correlation_id, NULL, st->run_url, st->run_status);
    adopt_save(d->adopt);
}

/* --- on_version ---------------------------------------------------------------- */

/* Count a record of version name (len bytes) by name. */
static void count_version(struct daemon *d, const char *name, size_t len)
{
    size_t i = 0;
    for (; i < d->n_versions; i++)
        if (strlen(d->versions[i].name) == len && memcmp(d->versions[i].name, name, len) == 0)
            break;
    if (i == d->n_versions) {
        if (d->n_versions == ADOPT_VERSIONS - 1) { /* the last slot counts the rest */
            name = "other", len = 5;
            for (i = 0; i < d->n_versions && strcmp(d->versions[i].name, "other") != 0; i++)
                ;
        }
        if (i == d->n_versions) {
            snprintf(d->versions[i].name, sizeof(d->versions[i].name), "%.*s",
                     (int)(len < 63 ? len : 63), name);
            d->n_versions++;
        }
    }
    d->versions[i].records++;
}

bool loop_record_version(struct daemon *d, const struct cell *c)
{
    char num[40];
    const char *v = NULL;
    size_t len = 0;
    if (c->type == CELL_TEXT) {
        v = c->str, len = c->len;
    } else if (c->type == CELL_NUMBER) {
        len = (size_t)snprintf(num, sizeof(num), "%.17g", c->num);
        v = num;
    }
    if (v == NULL || len == 0)
        return true; /* no version: it cannot be told apart */
    count_version(d, v, len);
    if (d->cfg.adopt.mode != ADOPT_ON_VERSION)
        return true;
    bool is_next = d->ver_next[0] && strlen(d->ver_next) == len && memcmp(d->ver_next, v, len) == 0;
    if (d->ver_next[0]) {
        if (is_next) {
            d->ver_new++;
            /* all traffic may move: the new version's records make a boundary too */
            if (d->ver_new >= d->cfg.window_records && !d->adopt_next[0] &&
                d->ver_new >= d->cfg.window_min_records)
                loop_window_closed(d);
            return false;
        }
        d->ver_old++;
        return true;
    }
    const struct adopt_entry *act = adopt_active(d->adopt);
    if (act != NULL && act->model_version[0] &&
        (strlen(act->model_version) != len || memcmp(act->model_version, v, len) != 0))
        return false; /* an older version, after the adoption */
    return true;
}

/* on_version: stage's side: from now on records of this version are
 * awaited. */
static void await_version(struct daemon *d, const struct adopt_entry *e)
{
    snprintf(d->ver_next, sizeof(d->ver_next), "%s", e->model_version);
    snprintf(d->ver_sha, sizeof(d->ver_sha), "%s", e->sha256);
    d->ver_new = d->ver_old = 0;
}
