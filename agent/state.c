/*
 * State under state_dir/state.json, written atomically (a 0600 temp file,
 * fsync, rename): window numbering, the last evaluation, alert state, and per
 * input its counters and, for tail inputs, the file position. A tail
 * input's counters are saved with the position they were committed with,
 * which is what makes tail counting exact across a kill -9.
 *
 * The other counters and the window numbering are acknowledged (a 202, a
 * /metrics scrape) long before the next save, so the state file also holds
 * a mark for each: a value the counter may reach before the file is
 * written again. A counter passing its mark saves the state, with a new
 * mark, before the count is acknowledged; a daemon that did not stop
 * cleanly resumes each counter from its mark. Counters may thus jump ahead
 * after a crash, never back. The block between a value and its mark
 * doubles while marks are passed more often than once a second, so saves
 * stay rare at any rate (about one a second) and the jump after a crash
 * stays about a second's worth of counting.
 *
 * state_dir/lock, locked with flock for the life of the process, makes the
 * directory one daemon's: two on one state_dir would replay each other's
 * spool and reuse window ids.
 */
#include "agent/daemon_priv.h"

#include "lib/file.h"
#include "lib/log.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Blocks of the marks: the first one, and the largest they grow to. */
#define MARK_BLOCK_COUNT 1024u
#define MARK_BLOCK_WINDOWS 16u
#define MARK_BLOCK_MAX (1u << 26)

/* state_dir/NAME, malloc'd. */
static char *state_file(const struct daemon *d, const char *name)
{
    size_t n = strlen(d->cfg.state_dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", d->cfg.state_dir, name);
    return p;
}

static char *state_path(const struct daemon *d)
{
    return state_file(d, "state.json");
}

int state_lock(struct daemon *d)
{
    char *path = state_file(d, "lock");
    if (path == NULL) {
        log_err("state: out of memory");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        log_err("state_dir %s: cannot open %s: %s", d->cfg.state_dir, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        if (e == EWOULDBLOCK)
            log_err("state_dir %s is in use by another driftd (pid %s, holding %s); one "
                    "state_dir serves one daemon",
                    d->cfg.state_dir, pid[0] ? pid : "unknown", path);
        else
            log_err("state_dir %s: cannot lock %s: %s", d->cfg.state_dir, path, strerror(e));
        close(fd);
        free(path);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        log_warn("state_dir %s: cannot write the pid into %s: %s", d->cfg.state_dir, path,
                 strerror(errno));
    d->state_lock_fd = fd; /* held until the process exits */
    free(path);
    return 0;
}

/* The mark a save writes for a counter at value v: v itself at a clean stop;
 * else the current mark while half a block or more is left, or v plus a
 * block, doubled when the mark moved less than a second ago, halved when
 * it has not moved for a minute. */
static void mark_renew(struct state_mark *m, uint64_t v, uint64_t first_block, bool exact,
                       double now)
{
    if (exact) {
        m->at = v;
        return;
    }
    if (m->block < first_block)
        m->block = first_block;
    if (m->at >= v && m->at - v >= m->block / 2)
        return;
    if (now - m->renewed < 1 && m->block < MARK_BLOCK_MAX)
        m->block *= 2;
    else if (now - m->renewed > 60 && m->block / 2 >= first_block)
        m->block /= 2;
    m->at = v + m->block;
    m->renewed = now;
}

/* Renew every mark for a save (exact at a clean stop). */
static void marks_renew(struct daemon *d, bool exact)
{
    double now = daemon_now();
    /* The mark is the first window id not handed out: past the current
     * window's while running; at a clean stop the current window (never
     * evaluated, its records dropped) leaves its id to the next start. */
    mark_renew(&d->mark_window_id, d->next_window_id + (exact ? 0 : 1), MARK_BLOCK_WINDOWS, exact,
               now);
    mark_renew(&d->mark_windows, d->windows_evaluated, MARK_BLOCK_WINDOWS, exact, now);
    mark_renew(&d->mark_sampled, d->sampled_total, MARK_BLOCK_COUNT, exact, now);
    for (size_t i = 0; i < d->n_sources; i++) {
        struct source *in = d->sources[i];
        if (in->ops->save != NULL) /* saved with its position */
            continue;
        mark_renew(&in->mark_records, in->records, MARK_BLOCK_COUNT, exact, now);
        for (int r = 0; r < READER_ERR_COUNT; r++)
            mark_renew(&in->mark_reasons[r], in->reasons[r], MARK_BLOCK_COUNT, exact, now);
    }
}

/* A save failed: the file keeps older marks, so every counter is treated as
 * past its mark, and saving is tried again (at most once a second). */
static void marks_forget(struct daemon *d)
{
    d->mark_window_id.at = d->mark_windows.at = d->mark_sampled.at = 0;
    for (size_t i = 0; i < d->n_sources; i++) {
        struct source *in = d->sources[i];
        if (in->ops->save != NULL) /* saved with its position */
            continue;
        in->mark_records.at = 0;
        for (int r = 0; r < READER_ERR_COUNT; r++)
            in->mark_reasons[r].at = 0;
    }
}

/* Record the outcome of writing a state file: state_error and a log line
 * that a full or read-only disk cannot turn into a flood. */
static void write_outcome(struct daemon *d, const char *path, int rc, int err)
{
    if (rc == 0) {
        if (d->state_failures > 0)
            log_notice("state: %s written again after %llu failed attempts", path,
                       (unsigned long long)d->state_failures);
        d->state_failures = 0;
        d->state_error[0] = '\0';
        return;
    }
    d->state_failures++;
    snprintf(d->state_error, sizeof(d->state_error), "cannot write %s: %s", path, strerror(err));
    d->state_log.every = 60;
    log_limited(&d->state_log, LOG_ERR,
                "state: %s (until it is written, a crash may take counters, window ids or "
                "the retrain cooldown back)",
                d->state_error);
}

/* Append a mark member. */
static void add_mark(struct sbuf *s, const char *key, const struct state_mark *m)
{
    sbuf_printf(s, ", \"%s\": %llu", key, (unsigned long long)m->at);
}

int state_save(struct daemon *d)
{
    struct sbuf s;
    sbuf_init(&s);
    marks_renew(d, d->stopping);
    sbuf_printf(&s,
                "{\"version\": 1, \"window_id\": %llu, \"windows_evaluated\": %llu, "
                "\"sampled_total\": %llu, \"consecutive_drift\": %llu, \"last_eval_at\": %.3f",
                (unsigned long long)d->next_window_id, (unsigned long long)d->windows_evaluated,
                (unsigned long long)d->sampled_total, (unsigned long long)d->consecutive_drift,
                d->last_eval_at);
    add_mark(&s, "window_id_mark", &d->mark_window_id);
    add_mark(&s, "windows_evaluated_mark", &d->mark_windows);
    add_mark(&s, "sampled_total_mark", &d->mark_sampled);
    char *al = alerts_state_json(d->alerts);
    sbuf_printf(&s, ",\n\"alerts\": %s,\n\"inputs\": [", al ? al : "null");
    free(al);
    struct sbuf pos;
    sbuf_init(&pos);
    for (size_t i = 0; i < d->n_sources; i++) {
        struct source *in = d->sources[i];
        struct source_counts c = {.records = in->records, .rejected = in->rejected};
        memcpy(c.reasons, in->reasons, sizeof(c.reasons));
        sbuf_reset(&pos);
        if (in->ops->save != NULL)
            in->ops->save(in, &c, &pos);
        sbuf_adds(&s, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        sbuf_add_json_string(&s, in->name, strlen(in->name));
        sbuf_printf(&s, ", \"records\": %llu, \"rejected\": %llu, \"reasons\": [",
                    (unsigned long long)c.records, (unsigned long long)c.rejected);
        for (int r = 0; r < READER_ERR_COUNT; r++)
            sbuf_printf(&s, "%s%llu", r ? ", " : "", (unsigned long long)c.reasons[r]);
        sbuf_adds(&s, "]");
        if (in->ops->save != NULL) {
            if (sbuf_failed(&pos))
                s.failed = true;
            else
                sbuf_add(&s, pos.data, pos.len);
        } else {
            add_mark(&s, "records_mark", &in->mark_records);
            sbuf_adds(&s, ", \"reasons_mark\": [");
            for (int r = 0; r < READER_ERR_COUNT; r++)
                sbuf_printf(&s, "%s%llu", r ? ", " : "",
                            (unsigned long long)in->mark_reasons[r].at);
            sbuf_adds(&s, "]");
        }
        sbuf_adds(&s, "}");
    }
    sbuf_free(&pos);
    sbuf_printf(&s, "],\n\"retrain\": {\"last_dispatch_at\": %.3f, \"cooldown_until\": %.3f",
                d->last_dispatch_at, d->cooldown_until);
    if (d->github != NULL) {
        const struct github_state *g = github_state(d->github);
        const char *keys[] = {"result",     "message",        "run_url",
                              "run_status", "run_conclusion", "correlation_id"};
        const char *vals[] = {g->result,     g->message,        g->run_url,
                              g->run_status, g->run_conclusion, g->correlation_id};
        for (int i = 0; i < 6; i++) {
            sbuf_printf(&s, ", \"%s\": ", keys[i]);
            sbuf_add_json_string(&s, vals[i], strlen(vals[i]));
        }
        sbuf_printf(&s,
                    ", \"http_status\": %ld, \"run_id\": %llu, \"ok\": %llu, \"failed\": %llu, "
                    "\"dry_runs\": %llu",
                    g->http_status, (unsigned long long)g->run_id, (unsigned long long)g->ok,
                    (unsigned long long)g->failed, (unsigned long long)g->dry_runs);
    }
    sbuf_adds(&s, "},\n\"last_evaluation\": ");
    sbuf_adds(&s, d->last_json ? d->last_json : "null");
    sbuf_adds(&s, "}\n");
    char *path = state_path(d);
    int rc = -1, err = ENOMEM;
    if (!sbuf_failed(&s) && path != NULL) {
        rc = file_write_atomic(path, s.data, s.len, 0600, 0);
        err = errno;
    }
    write_outcome(d, path ? path : "state.json", rc, err);
    if (rc == 0)
        d->state_dirty = false;
    else
        marks_forget(d);
    free(path);
    sbuf_free(&s);
    return rc;
}

int state_reserve(struct daemon *d)
{
    double now = daemon_now();
    if (now < d->state_retry_at)
        return -1;
    if (state_save(d) == 0)
        return 0;
    d->state_retry_at = now + 1;
    return -1;
}

uint64_t state_next_window_id(struct daemon *d)
{
    /* the mark is the first id not in use; the new one is in use from now */
    if (d->next_window_id + 1 >= d->mark_window_id.at)
        state_reserve(d);
    return ++d->next_window_id;
}

static uint64_t u64(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? (uint64_t)v->valuedouble : 0;
}

/* A counter resumed from the state file: its mark when the file has one
 * above the value (a stop that was not clean), else its value; the mark
 * in memory is then where the file's is. */
static uint64_t resume(uint64_t value, uint64_t mark, struct state_mark *m)
{
    m->at = mark > value ? mark : value;
    return m->at;
}

/* The counters of one input, from its state entry. */
static void load_input(struct source *in, const cJSON *e)
{
    in->records = u64(e, "records");
    in->rejected = u64(e, "rejected");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(e, "reasons");
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(e, "reasons_mark");
    for (int r = 0; r < READER_ERR_COUNT && cJSON_IsArray(rs); r++) {
        const cJSON *x = cJSON_GetArrayItem(rs, r);
        in->reasons[r] = cJSON_IsNumber(x) && x->valuedouble >= 0 ? (uint64_t)x->valuedouble : 0;
    }
    if (in->ops->restore != NULL) {
        in->ops->restore(in, e);
        return;
    }
    in->records = resume(in->records, u64(e, "records_mark"), &in->mark_records);
    for (int r = 0; r < READER_ERR_COUNT; r++) {
        const cJSON *x = cJSON_IsArray(ms) ? cJSON_GetArrayItem(ms, r) : NULL;
        uint64_t mark = cJSON_IsNumber(x) && x->valuedouble >= 0 ? (uint64_t)x->valuedouble : 0;
        uint64_t was = in->reasons[r];
        in->reasons[r] = resume(was, mark, &in->mark_reasons[r]);
        in->rejected += in->reasons[r] - was;
    }
}

int state_load(struct daemon *d)
{
    char *path = state_path(d);
    size_t len;
    char *text = path ? file_read(path, &len) : NULL;
    if (text == NULL) {
        if (errno != ENOENT)
            log_warn("state: cannot read %s: %s; starting afresh", path ? path : "state.json",
                     strerror(errno));
        free(path);
        return 0;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(root) || u64(root, "version") != 1) {
        log_warn("state: %s is not a driftd state file; starting afresh", path);
        cJSON_Delete(root);
        free(path);
        return 0;
    }
    uint64_t wid = u64(root, "window_id"), wmark = u64(root, "window_id_mark");
    d->next_window_id = resume(wid, wmark, &d->mark_window_id);
    if (d->next_window_id == 0)
        d->next_window_id = 1;
    d->windows_evaluated = resume(u64(root, "windows_evaluated"),
                                  u64(root, "windows_evaluated_mark"), &d->mark_windows);
    d->sampled_total =
        resume(u64(root, "sampled_total"), u64(root, "sampled_total_mark"), &d->mark_sampled);
    d->consecutive_drift = u64(root, "consecutive_drift");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "last_eval_at");
    d->last_eval_at = cJSON_IsNumber(v) ? v->valuedouble : 0;
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(root, "alerts");
    if (cJSON_IsObject(al)) {
        char *t = cJSON_PrintUnformatted(al);
        if (t != NULL)
            alerts_state_load(d->alerts, t, strlen(t));
        free(t);
    }
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(root, "last_evaluation");
    if (cJSON_IsObject(le))
        d->last_json = cJSON_PrintUnformatted(le);
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(root, "inputs"), *e;
    cJSON_ArrayForEach(e, ins)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(name))
            continue;
        for (size_t i = 0; i < d->n_sources; i++)
            if (strcmp(d->sources[i]->name, name->valuestring) == 0)
                load_input(d->sources[i], e);
    }
    if (wmark > wid)
        log_notice("state: resumed from %s after an unclean stop: counters and window ids go on "
                   "from their reserved marks (next window %llu)",
                   path, (unsigned long long)d->next_window_id);
    else
        log_info("state: resumed from %s (next window %llu)", path,
                 (unsigned long long)d->next_window_id);
    cJSON_Delete(root);
    free(path);
    return 0;
}

/* Copy a string member into a fixed buffer. */
static void take_str(const cJSON *o, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsString(v))
        snprintf(out, len, "%s", v->valuestring);
}

static void load_retrain_file(struct daemon *d);

void state_load_retrain(struct daemon *d)
{
    char *path = state_path(d);
    size_t len;
    char *text = path ? file_read(path, &len) : NULL;
    free(path);
    if (text == NULL) {
        load_retrain_file(d);
        return;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "retrain");
    if (cJSON_IsObject(r)) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(r, "last_dispatch_at");
        d->last_dispatch_at = cJSON_IsNumber(v) ? v->valuedouble : 0;
        v = cJSON_GetObjectItemCaseSensitive(r, "cooldown_until");
        d->cooldown_until = cJSON_IsNumber(v) ? v->valuedouble : 0;
        if (d->github != NULL) {
            struct github_state g = *github_state(d->github);
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
            github_restore(d->github, &g);
        }
    }
    cJSON_Delete(root);
    load_retrain_file(d);
}

static char *retrain_path(const struct daemon *d)
{
    return state_file(d, "retrain.json");
}

int state_save_retrain(struct daemon *d)
{
    char buf[160], *path = retrain_path(d);
    int n = snprintf(buf, sizeof(buf), "{\"last_dispatch_at\": %.3f, \"cooldown_until\": %.3f}\n",
                     d->last_dispatch_at, d->cooldown_until);
    int rc = path != NULL ? file_write_atomic(path, buf, (size_t)n, 0600, 0) : -1;
    write_outcome(d, path ? path : "retrain.json", rc, path != NULL ? errno : ENOMEM);
    free(path);
    return rc;
}

/* retrain.json, written at each dispatch, wins over an older state.json. */
static void load_retrain_file(struct daemon *d)
{
    char *path = retrain_path(d);
    size_t len;
    char *text = path ? file_read(path, &len) : NULL;
    free(path);
    if (text == NULL)
        return;
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "last_dispatch_at");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cooldown_until");
    if (cJSON_IsNumber(a) && a->valuedouble > d->last_dispatch_at)
        d->last_dispatch_at = a->valuedouble;
    if (cJSON_IsNumber(c) && c->valuedouble > d->cooldown_until)
        d->cooldown_until = c->valuedouble;
    cJSON_Delete(j);
}
