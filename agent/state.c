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
#include "agent/state.h"

#include "lib/file.h"
#include "lib/jnum.h"
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

struct state {
    char *dir;
    int lock_fd; /* held until the process exits */
    /* the marks of the window numbering and of the global counters */
    struct state_mark mark_window_id, mark_windows, mark_sampled;
    double retry_at; /* no save for a mark before this, after a failure */
    uint64_t failures;
    struct log_limit log;
    /* empty while the last write succeeded, else the file and the error */
    char error[512];
};

struct state *state_new(const char *dir)
{
    struct state *st = calloc(1, sizeof(*st));
    if (st == NULL || (st->dir = strdup(dir)) == NULL) {
        free(st);
        return NULL;
    }
    st->lock_fd = -1;
    return st;
}

void state_free(struct state *st)
{
    if (st == NULL)
        return;
    if (st->lock_fd >= 0)
        close(st->lock_fd);
    free(st->dir);
    free(st);
}

char *state_file(const struct state *st, const char *name)
{
    size_t n = strlen(st->dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", st->dir, name);
    return p;
}

static char *state_path(const struct state *st)
{
    return state_file(st, "state.json");
}

const char *state_error(const struct state *st)
{
    return st->error[0] != '\0' ? st->error : NULL;
}

int state_lock(struct state *st)
{
    char *path = state_file(st, "lock");
    if (path == NULL) {
        log_err("state: out of memory");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        log_err("state_dir %s: cannot open %s: %s", st->dir, path, strerror(errno));
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
                    st->dir, pid[0] ? pid : "unknown", path);
        else
            log_err("state_dir %s: cannot lock %s: %s", st->dir, path, strerror(e));
        close(fd);
        free(path);
        return -1;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        log_warn("state_dir %s: cannot write the pid into %s: %s", st->dir, path, strerror(errno));
    st->lock_fd = fd; /* held until the process exits */
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
static void marks_renew(struct state *st, const struct state_parts *p, bool exact)
{
    const struct state_counts *c = p->counts;
    double now = p->now();
    /* The mark is the first window id not handed out: past the current
     * window's while running; at a clean stop the current window (never
     * evaluated, its records dropped) leaves its id to the next start. */
    mark_renew(&st->mark_window_id, c->next_window_id + (exact ? 0 : 1), MARK_BLOCK_WINDOWS, exact,
               now);
    mark_renew(&st->mark_windows, c->windows_evaluated, MARK_BLOCK_WINDOWS, exact, now);
    mark_renew(&st->mark_sampled, c->sampled_total, MARK_BLOCK_COUNT, exact, now);
    for (size_t i = 0; i < p->n_sources; i++) {
        struct source *in = p->sources[i];
        if (in->ops->save != NULL) /* saved with its position */
            continue;
        mark_renew(&in->mark_records, in->records, MARK_BLOCK_COUNT, exact, now);
        for (int r = 0; r < READER_ERR_COUNT; r++)
            mark_renew(&in->mark_reasons[r], in->reasons[r], MARK_BLOCK_COUNT, exact, now);
    }
}

/* A save failed: the file keeps older marks, so every counter is treated as
 * past its mark, and saving is tried again (at most once a second). */
static void marks_forget(struct state *st, const struct state_parts *p)
{
    st->mark_window_id.at = st->mark_windows.at = st->mark_sampled.at = 0;
    for (size_t i = 0; i < p->n_sources; i++) {
        struct source *in = p->sources[i];
        if (in->ops->save != NULL) /* saved with its position */
            continue;
        in->mark_records.at = 0;
        for (int r = 0; r < READER_ERR_COUNT; r++)
            in->mark_reasons[r].at = 0;
    }
}

/* Record the outcome of writing a state file: state_error and a log line
 * that a full or read-only disk cannot turn into a flood. */
void state_write_outcome(struct state *st, const char *path, int rc, int err)
{
    if (rc == 0) {
        if (st->failures > 0)
            log_notice("state: %s written again after %llu failed attempts", path,
                       (unsigned long long)st->failures);
        st->failures = 0;
        st->error[0] = '\0';
        return;
    }
    st->failures++;
    snprintf(st->error, sizeof(st->error), "cannot write %s: %s", path, strerror(err));
    st->log.every = 60;
    log_limited(&st->log, LOG_ERR,
                "state: %s (until it is written, a crash may take counters, window ids or "
                "the retrain cooldown back)",
                st->error);
}

/* Append a mark member. */
static void add_mark(struct sbuf *s, const char *key, const struct state_mark *m)
{
    sbuf_printf(s, ", \"%s\": %llu", key, (unsigned long long)m->at);
}

int state_save(struct state *st, const struct state_parts *p, bool stopping)
{
    const struct state_counts *c = p->counts;
    struct sbuf s;
    sbuf_init(&s);
    marks_renew(st, p, stopping);
    sbuf_printf(&s,
                "{\"version\": 1, \"window_id\": %llu, \"windows_evaluated\": %llu, "
                "\"sampled_total\": %llu, \"consecutive_drift\": %llu, \"last_eval_at\": %.3f",
                (unsigned long long)c->next_window_id, (unsigned long long)c->windows_evaluated,
                (unsigned long long)c->sampled_total,
                (unsigned long long)(p->retrain != NULL ? retrain_consecutive(p->retrain)
                                                        : c->consecutive_drift),
                c->last_eval_at);
    add_mark(&s, "window_id_mark", &st->mark_window_id);
    add_mark(&s, "windows_evaluated_mark", &st->mark_windows);
    add_mark(&s, "sampled_total_mark", &st->mark_sampled);
    char *al = alerts_state_json(p->alerts);
    sbuf_printf(&s, ",\n\"alerts\": %s,\n\"inputs\": [", al ? al : "null");
    free(al);
    struct sbuf pos;
    sbuf_init(&pos);
    for (size_t i = 0; i < p->n_sources; i++) {
        struct source *in = p->sources[i];
        struct source_counts n = {.records = in->records, .rejected = in->rejected};
        memcpy(n.reasons, in->reasons, sizeof(n.reasons));
        sbuf_reset(&pos);
        if (in->ops->save != NULL)
            in->ops->save(in, &n, &pos);
        sbuf_adds(&s, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        sbuf_add_json_string(&s, in->name, strlen(in->name));
        sbuf_printf(&s, ", \"records\": %llu, \"rejected\": %llu, \"reasons\": [",
                    (unsigned long long)n.records, (unsigned long long)n.rejected);
        for (int r = 0; r < READER_ERR_COUNT; r++)
            sbuf_printf(&s, "%s%llu", r ? ", " : "", (unsigned long long)n.reasons[r]);
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
    sbuf_adds(&s, "],\n\"retrain\": ");
    if (p->retrain != NULL)
        retrain_state_json(p->retrain, &s);
    else
        sbuf_adds(&s, "{\"last_dispatch_at\": 0.000, \"cooldown_until\": 0.000}");
    sbuf_adds(&s, ",\n\"last_evaluation\": ");
    sbuf_adds(&s, p->last_json != NULL && *p->last_json != NULL ? *p->last_json : "null");
    sbuf_adds(&s, "}\n");
    char *path = state_path(st);
    int rc = -1, err = ENOMEM;
    if (!sbuf_failed(&s) && path != NULL) {
        rc = file_write_atomic(path, s.data, s.len, 0600, 0);
        err = errno;
    }
    state_write_outcome(st, path ? path : "state.json", rc, err);
    if (rc != 0)
        marks_forget(st, p);
    free(path);
    sbuf_free(&s);
    return rc;
}

int state_reserve(struct state *st, const struct state_parts *p)
{
    double now = p->now();
    if (now < st->retry_at)
        return -1;
    if (state_save(st, p, false) == 0)
        return 0;
    st->retry_at = now + 1;
    return -1;
}

bool state_marks_passed(const struct state *st, const struct state_counts *c)
{
    return c->windows_evaluated > st->mark_windows.at || c->sampled_total > st->mark_sampled.at;
}

uint64_t state_next_window_id(struct state *st, const struct state_parts *p)
{
    /* the mark is the first id not in use; the new one is in use from now */
    if (p->counts->next_window_id + 1 >= st->mark_window_id.at)
        state_reserve(st, p);
    return ++p->counts->next_window_id;
}

static uint64_t u64(const cJSON *o, const char *key)
{
    return jnum_count_or0(cJSON_GetObjectItemCaseSensitive(o, key));
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
        in->reasons[r] = jnum_count_or0(x);
    }
    if (in->ops->restore != NULL) {
        in->ops->restore(in, e);
        return;
    }
    in->records = resume(in->records, u64(e, "records_mark"), &in->mark_records);
    for (int r = 0; r < READER_ERR_COUNT; r++) {
        const cJSON *x = cJSON_IsArray(ms) ? cJSON_GetArrayItem(ms, r) : NULL;
        uint64_t mark = jnum_count_or0(x);
        uint64_t was = in->reasons[r];
        in->reasons[r] = resume(was, mark, &in->mark_reasons[r]);
        in->rejected += in->reasons[r] - was;
    }
}

/* The alerts' state from a state's "alerts" member, if it has one. */
static void load_alerts(const struct state_parts *p, const cJSON *root)
{
    const cJSON *al = cJSON_GetObjectItemCaseSensitive(root, "alerts");
    if (!cJSON_IsObject(al))
        return;
    char *t = cJSON_PrintUnformatted(al);
    if (t != NULL)
        alerts_state_load(p->alerts, t, strlen(t));
    free(t);
}

int state_load(struct state *st, const struct state_parts *p)
{
    struct state_counts *c = p->counts;
    char *path = state_path(st);
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
    c->next_window_id = resume(wid, wmark, &st->mark_window_id);
    if (c->next_window_id == 0)
        c->next_window_id = 1;
    c->windows_evaluated = resume(u64(root, "windows_evaluated"),
                                  u64(root, "windows_evaluated_mark"), &st->mark_windows);
    c->sampled_total =
        resume(u64(root, "sampled_total"), u64(root, "sampled_total_mark"), &st->mark_sampled);
    c->consecutive_drift = u64(root, "consecutive_drift");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "last_eval_at");
    c->last_eval_at = jnum_time_or0(v);
    load_alerts(p, root);
    const cJSON *le = cJSON_GetObjectItemCaseSensitive(root, "last_evaluation");
    if (cJSON_IsObject(le) && p->last_json != NULL) {
        free(*p->last_json);
        *p->last_json = cJSON_PrintUnformatted(le);
    }
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(root, "inputs"), *e;
    cJSON_ArrayForEach(e, ins)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
        if (!cJSON_IsString(name))
            continue;
        for (size_t i = 0; i < p->n_sources; i++)
            if (strcmp(p->sources[i]->name, name->valuestring) == 0)
                load_input(p->sources[i], e);
    }
    if (wmark > wid)
        log_notice("state: resumed from %s after an unclean stop: counters and window ids go on "
                   "from their reserved marks (next window %llu)",
                   path, (unsigned long long)c->next_window_id);
    else
        log_info("state: resumed from %s (next window %llu)", path,
                 (unsigned long long)c->next_window_id);
    cJSON_Delete(root);
    free(path);
    return 0;
}

void state_load_retrain(struct state *st, struct retrain *rt)
{
    char *path = state_path(st);
    size_t len;
    char *text = path ? file_read(path, &len) : NULL;
    free(path);
    cJSON *root = text != NULL ? cJSON_ParseWithLength(text, len) : NULL;
    free(text);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "retrain");
    retrain_state_load(rt, cJSON_IsObject(r) ? r : NULL);
    cJSON_Delete(root);
}

/* A shared state's "baseline" member: its sha256 (empty when none) and
 * the run that built it (empty strings when none). */
static void shared_baseline(const cJSON *root, char sha[SHA256_HEX_LEN + 1], char *run_url,
                            size_t url_len, char *corr, size_t corr_len)
{
    sha[0] = run_url[0] = corr[0] = '\0';
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "baseline");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(b, "sha256");
    if (cJSON_IsString(v) && strlen(v->valuestring) == SHA256_HEX_LEN)
        memcpy(sha, v->valuestring, SHA256_HEX_LEN + 1);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(b, "run_url")))
        snprintf(run_url, url_len, "%s", v->valuestring);
    if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(b, "correlation_id")))
        snprintf(corr, corr_len, "%s", v->valuestring);
}

void state_shared_json(const struct state_parts *p, const char *baseline_json, struct sbuf *out)
{
    const struct state_counts *c = p->counts;
    sbuf_printf(out,
                "{\"version\": 1, \"window_id\": %llu, \"windows_evaluated\": %llu, "
                "\"sampled_total\": %llu, \"consecutive_drift\": %llu, \"last_eval_at\": %.3f, "
                "\"baseline\": %s",
                (unsigned long long)c->next_window_id, (unsigned long long)c->windows_evaluated,
                (unsigned long long)c->sampled_total,
                (unsigned long long)(p->retrain != NULL ? retrain_consecutive(p->retrain)
                                                        : c->consecutive_drift),
                c->last_eval_at, baseline_json);
    char *al = alerts_state_json(p->alerts);
    sbuf_printf(out, ", \"alerts\": %s, \"retrain\": ", al ? al : "null");
    free(al);
    if (p->retrain != NULL)
        retrain_state_json(p->retrain, out);
    else
        sbuf_adds(out, "null");
    sbuf_adds(out, "}");
}

int state_shared_load(const struct state_parts *p, const char *text, size_t len,
                      char sha[SHA256_HEX_LEN + 1])
{
    struct state_counts *c = p->counts;
    sha[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root) || u64(root, "version") != 1) {
        cJSON_Delete(root);
        return -1;
    }
    uint64_t v;
    if ((v = u64(root, "window_id")) > c->next_window_id)
        c->next_window_id = v;
    if ((v = u64(root, "windows_evaluated")) > c->windows_evaluated)
        c->windows_evaluated = v;
    if ((v = u64(root, "sampled_total")) > c->sampled_total)
        c->sampled_total = v;
    c->consecutive_drift = u64(root, "consecutive_drift");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "last_eval_at");
    if (jnum_time_or0(e) > c->last_eval_at)
        c->last_eval_at = jnum_time_or0(e);
    char url[8], corr[8];
    shared_baseline(root, sha, url, sizeof(url), corr, sizeof(corr));
    load_alerts(p, root);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "retrain");
    if (p->retrain != NULL && cJSON_IsObject(r)) {
        retrain_state_load(p->retrain, r);
        retrain_restore_consecutive(p->retrain, c->consecutive_drift);
    }
    cJSON_Delete(root);
    return 0;
}

int state_shared_baseline(const char *text, size_t len, char sha[SHA256_HEX_LEN + 1], char *run_url,
                          size_t url_len, char *corr, size_t corr_len)
{
    sha[0] = run_url[0] = corr[0] = '\0';
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root) || u64(root, "version") != 1) {
        cJSON_Delete(root);
        return -1;
    }
    shared_baseline(root, sha, run_url, url_len, corr, corr_len);
    cJSON_Delete(root);
    return 0;
}
