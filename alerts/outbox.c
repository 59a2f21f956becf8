#include "alerts/outbox.h"

#include "lib/file.h"
#include "lib/log.h"
#include "lib/sbuf.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BACKOFF_BASE 1.0
#define BACKOFF_CAP 300.0
#define MAX_TARGETS 64
#define PROBE_SECONDS 5.0 /* a failed spool is tried again this often */
#define LOG_EVERY 10.0    /* one log line per cause per this many seconds */

struct entry {
    struct entry *next;
    char *path; /* spool file name, reserved even when it could not be written */
    size_t path_cap;
    char *body;
    size_t len;
    double created;
    unsigned attempts;
    bool durable; /* path holds the entry on disk */
};

struct target {
    char *name;
    const struct outbox_target_ops *ops;
    void *ctx;
    double max_age;
    struct entry *head, *tail;
    bool busy; /* a request in flight */
    struct event *timer;
    struct outbox *ob;
    struct outbox_stats st;
};

/* What can fail on disk, each with its own log rate limit: a notification
 * not spooled, a directory found unwritable (at start, by the probe), a
 * file not removed, a dead letter not kept. */
enum cause { CAUSE_SPOOL, CAUSE_DIR, CAUSE_REMOVE, CAUSE_DEAD, CAUSE_COUNT };

struct outbox {
    struct event_base *base;
    struct http_client *http;
    char *dir, *dead;
    double (*now)(void);
    gsl_rng *rng;
    uint64_t seq; /* last spool sequence number taken */
    struct target targets[MAX_TARGETS];
    size_t ntargets;
    /* Spool health: "" while writable, else "<dir>: <error>"; err_dir is
     * the directory that failed (dir or dead), probe tries it again. */
    char write_error[600];
    const char *err_dir;
    struct event *probe;
    struct log_limit rl[CAUSE_COUNT];
    /* Delivered entries whose file could not be removed: never loaded
     * again by this process. */
    char **done;
    size_t ndone, done_cap;
    bool replayed;
};

static void on_probe(evutil_socket_t fd, short what, void *arg);
static int spool_entry(struct outbox *ob, const struct target *t, struct entry *e);

/* The spool (or dead-letter) directory failed with err: remember it for
 * outbox_write_error and try it again every PROBE_SECONDS until it works. */
static void write_failed(struct outbox *ob, const char *dir, int err)
{
    snprintf(ob->write_error, sizeof(ob->write_error), "%s: %s", dir, strerror(err));
    ob->err_dir = dir;
    if (ob->probe != NULL && !evtimer_pending(ob->probe, NULL)) {
        struct timeval tv = {(time_t)PROBE_SECONDS, 0};
        evtimer_add(ob->probe, &tv);
    }
}

/* A write into dir worked: a failure of that directory is over. */
static void write_worked(struct outbox *ob, const char *dir)
{
    if (ob->write_error[0] == '\0' || ob->err_dir != dir)
        return;
    log_msg(LOG_NOTICE, "outbox: spool %s is writable again", dir);
    ob->write_error[0] = '\0';
    ob->err_dir = NULL;
    if (ob->probe != NULL)
        evtimer_del(ob->probe);
}

const char *outbox_write_error(const struct outbox *ob)
{
    return ob->write_error[0] != '\0' ? ob->write_error : NULL;
}

double outbox_backoff(unsigned attempt, double u01)
{
    double hi = BACKOFF_BASE * pow(2.0, attempt > 30 ? 30 : attempt);
    if (hi > BACKOFF_CAP)
        hi = BACKOFF_CAP;
    if (hi < BACKOFF_BASE)
        hi = BACKOFF_BASE;
    return BACKOFF_BASE + u01 * (hi - BACKOFF_BASE);
}

/* The sequence number a spool or dead-letter file name starts with (its
 * .tmp too), or 0 for a name that is none of ours. */
static uint64_t name_seq(const char *name)
{
    if (*name < '0' || *name > '9')
        return 0;
    char *end;
    unsigned long long v = strtoull(name, &end, 10);
    return *end == '-' ? (uint64_t)v : 0;
}

/* Raise *max to the largest sequence number named in dir (absent: none). */
static void scan_seq(const char *dir, uint64_t *max)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        uint64_t v = name_seq(de->d_name);
        if (v > *max)
            *max = v;
    }
    closedir(d);
}

/* Dead letters of an older driftd, kept in <spool>/dead-letter/, move to
 * <state_dir>/dead-letter/; what cannot be moved stays, named in the log. */
static void move_old_dead_letters(struct outbox *ob)
{
    char old[4096];
    snprintf(old, sizeof(old), "%s/dead-letter", ob->dir);
    DIR *d = opendir(old);
    if (d == NULL)
        return;
    size_t moved = 0, left = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char from[4096], to[4096];
        snprintf(from, sizeof(from), "%s/%s", old, de->d_name);
        snprintf(to, sizeof(to), "%s/%s", ob->dead, de->d_name);
        if (file_rename_new(from, to) == 0) {
            moved++;
        } else {
            log_msg(LOG_WARNING, "outbox: cannot move %s to %s/: %s; left where it is", from,
                    ob->dead, strerror(errno));
            left++;
        }
    }
    closedir(d);
    if (left == 0)
        rmdir(old);
    if (moved > 0)
        log_msg(LOG_NOTICE, "outbox: moved %zu dead letter%s from %s/ to %s/", moved,
                moved == 1 ? "" : "s", old, ob->dead);
}

/* Create, fsync and remove a file in dir: can the spool be written? */
static int probe_dir(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/.probe", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int err = write(fd, "\n", 1) != 1 || fsync(fd) != 0 ? errno : 0;
    close(fd);
    if (unlink(path) != 0 && err == 0)
        err = errno;
    errno = err;
    return err == 0 ? 0 : -1;
}

struct outbox *outbox_new(struct event_base *base, struct http_client *http, const char *state_dir,
                          double (*now)(void))
{
    struct outbox *ob = calloc(1, sizeof(*ob));
    if (ob == NULL)
        return NULL;
    ob->base = base;
    ob->http = http;
    ob->now = now;
    for (int c = 0; c < CAUSE_COUNT; c++)
        ob->rl[c].every = LOG_EVERY;
    size_t n = strlen(state_dir) + 16;
    ob->dir = malloc(n);
    ob->dead = malloc(n);
    ob->rng = gsl_rng_alloc(gsl_rng_mt19937);
    ob->probe = evtimer_new(base, on_probe, ob);
    if (ob->dir == NULL || ob->dead == NULL || ob->rng == NULL || ob->probe == NULL) {
        outbox_free(ob);
        return NULL;
    }
    gsl_rng_set(ob->rng, (unsigned long)(now() * 1000) ^ (unsigned long)getpid());
    snprintf(ob->dir, n, "%s/spool", state_dir);
    snprintf(ob->dead, n, "%s/dead-letter", state_dir);
    if (file_mkdir_p(ob->dir, 0700, 0700) != 0 || file_mkdir_p(ob->dead, 0700, 0700) != 0) {
        log_msg(LOG_ERR, "spool %s: %s", ob->dir, strerror(errno));
        outbox_free(ob);
        return NULL;
    }
    move_old_dead_letters(ob);
    /* Known from the start, not from the first alert that needs it. */
    for (int i = 0; i < 2; i++) {
        const char *d = i == 0 ? ob->dir : ob->dead;
        if (probe_dir(d) != 0) {
            write_failed(ob, d, errno);
            log_limited(&ob->rl[CAUSE_DIR], LOG_ERR, "outbox: %s; %s", ob->write_error,
                        i == 0 ? "notifications are kept in memory only until it can be written"
                               : "dead letters cannot be kept until it can be written");
            break;
        }
    }
    /* Names must never repeat whatever the clock does: start past every
     * number still on disk (spool and dead letters), and past the clock in
     * milliseconds, which keeps numbers rising across restarts when the
     * spool is empty. */
    uint64_t max = 0;
    scan_seq(ob->dir, &max);
    scan_seq(ob->dead, &max);
    char old[4096];
    snprintf(old, sizeof(old), "%s/dead-letter", ob->dir); /* what could not be moved */
    scan_seq(old, &max);
    double ms = now() * 1000;
    ob->seq = ms > (double)max && ms < 1e18 ? (uint64_t)ms : max;
    return ob;
}

static void entry_free(struct entry *e)
{
    free(e->path);
    free(e->body);
    free(e);
}

void outbox_free(struct outbox *ob)
{
    if (ob == NULL)
        return;
    /* What is kept in memory only gets a last chance at the spool before it
     * would go with the process. */
    size_t lost = 0;
    for (size_t i = 0; i < ob->ntargets; i++)
        for (struct entry *e = ob->targets[i].head; e != NULL; e = e->next)
            lost += !e->durable && spool_entry(ob, &ob->targets[i], e) != 0;
    if (lost > 0)
        log_msg(LOG_ERR, "outbox: %zu undelivered notification%s lost at exit (%s)", lost,
                lost == 1 ? "" : "s", ob->write_error);
    for (size_t i = 0; i < ob->ntargets; i++) {
        struct target *t = &ob->targets[i];
        while (t->head != NULL) {
            struct entry *e = t->head;
            t->head = e->next;
            entry_free(e); /* the spool file stays: replayed next start */
        }
        if (t->timer != NULL)
            event_free(t->timer);
        free(t->name);
    }
    if (ob->probe != NULL)
        event_free(ob->probe);
    if (ob->rng != NULL)
        gsl_rng_free(ob->rng);
    for (size_t i = 0; i < ob->ndone; i++)
        free(ob->done[i]);
    free(ob->done);
    free(ob->dir);
    free(ob->dead);
    free(ob);
}

static struct target *find(const struct outbox *ob, const char *name)
{
    for (size_t i = 0; i < ob->ntargets; i++)
        if (strcmp(ob->targets[i].name, name) == 0)
            return (struct target *)&ob->targets[i];
    return NULL;
}

static void kick(struct target *t, double delay);

static void on_timer(evutil_socket_t fd, short what, void *arg);

int outbox_add_target(struct outbox *ob, const char *name, const struct outbox_target_ops *ops,
                      void *ctx, double max_age)
{
    if (find(ob, name) != NULL)
        return outbox_update_target(ob, name, ops, ctx, max_age);
    if (ob->ntargets == MAX_TARGETS)
        return -1;
    struct target *t = &ob->targets[ob->ntargets];
    memset(t, 0, sizeof(*t));
    t->name = strdup(name);
    t->ops = ops;
    t->ctx = ctx;
    t->max_age = max_age > 0 ? max_age : 86400;
    t->ob = ob;
    t->timer = evtimer_new(ob->base, on_timer, t);
    if (t->name == NULL || t->timer == NULL) {
        free(t->name);
        if (t->timer)
            event_free(t->timer);
        return -1;
    }
    ob->ntargets++;
    return 0;
}

int outbox_update_target(struct outbox *ob, const char *name, const struct outbox_target_ops *ops,
                         void *ctx, double max_age)
{
    struct target *t = find(ob, name);
    if (t == NULL)
        return outbox_add_target(ob, name, ops, ctx, max_age);
    t->ops = ops;
    t->ctx = ctx;
    t->max_age = max_age > 0 ? max_age : 86400;
    if (t->head != NULL && !t->busy && !evtimer_pending(t->timer, NULL))
        kick(t, 0);
    return 0;
}

/* Spool file text: target, creation time, body. */
static char *spool_text(const char *target, double created, const char *body, size_t len,
                        size_t *out_len)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_adds(&s, "{\"target\": ");
    sbuf_add_json_string(&s, target, strlen(target));
    sbuf_printf(&s, ", \"created\": %.3f, \"body\": ", created);
    sbuf_add_json_string(&s, body, len);
    sbuf_adds(&s, "}\n");
    if (sbuf_failed(&s)) {
        sbuf_free(&s);
        return NULL;
    }
    return sbuf_steal(&s, out_len);
}

static void append(struct target *t, struct entry *e)
{
    e->next = NULL;
    if (t->tail != NULL)
        t->tail->next = e;
    else
        t->head = e;
    t->tail = e;
    t->st.queued++;
}

/* Give e the next spool file name: names sort in the order of queueing,
 * which replay keeps. */
static void entry_name(struct outbox *ob, const struct target *t, struct entry *e)
{
    snprintf(e->path, e->path_cap, "%s/%020llu-%s.json", ob->dir, (unsigned long long)++ob->seq,
             t->name);
}

/* Write e to the spool; a name found taken (a file the sequence number
 * did not know of) is skipped for the next. Returns 0 or -1 with errno. */
static int spool_entry(struct outbox *ob, const struct target *t, struct entry *e)
{
    size_t tlen;
    char *text = spool_text(t->name, e->created, e->body, e->len, &tlen);
    if (text == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int rc, tries = 0;
    while ((rc = file_write_atomic(e->path, text, tlen, 0600, FILE_NOREPLACE)) != 0 &&
           errno == EEXIST && ++tries < 16)
        entry_name(ob, t, e);
    int err = errno;
    free(text);
    if (rc == 0) {
        e->durable = true;
        write_worked(ob, ob->dir);
    } else {
        write_failed(ob, ob->dir, err);
        errno = err;
    }
    return rc;
}

int outbox_enqueue(struct outbox *ob, const char *target, const char *body, size_t len)
{
    struct target *t = find(ob, target);
    if (t == NULL) {
        log_msg(LOG_ERR, "outbox: no target %s", target);
        return -1;
    }
    struct entry *e = calloc(1, sizeof(*e));
    size_t n = strlen(ob->dir) + strlen(target) + 48;
    if (e == NULL || (e->path = malloc(n)) == NULL || (e->body = malloc(len + 1)) == NULL) {
        if (e)
            entry_free(e);
        log_msg(LOG_ERR, "outbox %s: out of memory; notification dropped", target);
        t->st.dropped++;
        return -1;
    }
    e->path_cap = n;
    entry_name(ob, t, e);
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    e->len = len;
    e->created = ob->now();
    /* A spool that cannot be written must not cost the alert: it is sent
     * from memory like any other, only a crash before delivery loses it. */
    if (spool_entry(ob, t, e) != 0) {
        t->st.not_durable++;
        log_limited(&ob->rl[CAUSE_SPOOL], LOG_ERR,
                    "outbox %s: cannot spool to %s: %s; delivering from memory (not durable)",
                    target, ob->dir, strerror(errno));
    }
    append(t, e);
    if (!t->busy && !evtimer_pending(t->timer, NULL))
        kick(t, 0);
    return 0;
}

/* Keep the head entry in dead-letter/: its spool file moves there, or,
 * when it never reached the spool, it is written there. */
static void bury(struct target *t, const char *why)
{
    struct outbox *ob = t->ob;
    struct entry *e = t->head;
    const char *base = strrchr(e->path, '/');
    char dst[4096];
    snprintf(dst, sizeof(dst), "%s%s", ob->dead, base ? base : "/entry.json");
    int rc;
    if (e->durable) {
        rc = file_rename_new(e->path, dst);
    } else {
        size_t tlen;
        char *text = spool_text(t->name, e->created, e->body, e->len, &tlen);
        rc = text != NULL ? file_write_atomic(dst, text, tlen, 0600, FILE_NOREPLACE) : -1;
        if (text == NULL)
            errno = ENOMEM;
        free(text);
    }
    if (rc == 0) {
        write_worked(ob, ob->dead);
        log_msg(LOG_ERR, "outbox %s: giving up after %u attempt%s (%s); kept in %s", t->name,
                e->attempts, e->attempts == 1 ? "" : "s", why, dst);
    } else {
        int err = errno;
        write_failed(ob, ob->dead, err);
        log_limited(&ob->rl[CAUSE_DEAD], LOG_ERR,
                    "outbox %s: giving up after %u attempt%s (%s); cannot %s %s/: %s; %s", t->name,
                    e->attempts, e->attempts == 1 ? "" : "s", why,
                    e->durable ? "move it to" : "write it to", ob->dead, strerror(err),
                    e->durable ? "left in the spool, replayed at the next start" : "lost");
    }
    t->st.failed++;
}

static void pop(struct target *t)
{
    struct entry *e = t->head;
    t->head = e->next;
    if (t->head == NULL)
        t->tail = NULL;
    t->st.queued--;
    entry_free(e);
}

static void kick(struct target *t, double delay)
{
    struct timeval tv = {(time_t)delay, (suseconds_t)((delay - floor(delay)) * 1e6)};
    evtimer_add(t->timer, &tv);
}

/* The head entry is done (delivered, or given up when why is not NULL):
 * dead-letter it if need be, tell the target, and go on with the next. */
static void finish_head(struct target *t, const char *why, enum deliver_result r,
                        const struct http_response *res)
{
    struct entry *e = t->head;
    /* given up before any answer: the target still hears why */
    struct http_response none = {.error = why,
                                 .body = "",
                                 .retry_after = NAN,
                                 .ratelimit_remaining = -1,
                                 .ratelimit_reset = NAN};
    if (why != NULL)
        bury(t, why);
    if (t->ops->finished != NULL)
        t->ops->finished(t->ctx, e->body, e->len, r, res != NULL ? res : &none);
    pop(t);
    if (t->head != NULL)
        kick(t, 0);
}

/* Remember a delivered entry whose file stays on disk, so that nothing in
 * this process loads it again (a restart sends it again: at least once). */
static void mark_done(struct outbox *ob, const char *path)
{
    if (ob->ndone == ob->done_cap) {
        size_t cap = ob->done_cap ? ob->done_cap * 2 : 16;
        char **p = realloc(ob->done, cap * sizeof(char *));
        if (p == NULL)
            return;
        ob->done = p;
        ob->done_cap = cap;
    }
    if ((ob->done[ob->ndone] = strdup(path)) != NULL)
        ob->ndone++;
}

/* A delivered entry leaves the spool; when its file cannot be removed it is
 * counted, logged, and marked done instead. */
static void remove_delivered(struct target *t, struct entry *e)
{
    struct outbox *ob = t->ob;
    if (!e->durable || unlink(e->path) == 0 || errno == ENOENT)
        return;
    int err = errno;
    t->st.not_removed++;
    mark_done(ob, e->path);
    write_failed(ob, ob->dir, err);
    log_limited(&ob->rl[CAUSE_REMOVE], LOG_ERR,
                "outbox %s: cannot remove %s: %s; delivered, not sent again until a restart",
                t->name, e->path, strerror(err));
}

static void on_done(void *arg, const struct http_response *res)
{
    struct target *t = arg;
    struct outbox *ob = t->ob;
    struct entry *e = t->head;
    t->busy = false;
    if (e == NULL)
        return;
    double wait = 0;
    enum deliver_result r;
    if (t->ops->classify != NULL) {
        r = t->ops->classify(t->ctx, res, &wait);
    } else if (res->status >= 200 && res->status < 300) {
        r = DELIVER_OK;
    } else if (res->status == 0 || res->status == 408 || res->status == 429 || res->status >= 500) {
        r = DELIVER_RETRY;
    } else {
        r = DELIVER_FAIL;
    }
    if (r == DELIVER_OK) {
        remove_delivered(t, e);
        t->st.sent++;
        finish_head(t, NULL, r, res);
        return;
    }
    char why[300];
    if (res->status == 0)
        snprintf(why, sizeof(why), "%s", res->error ? res->error : "no answer");
    else
        snprintf(why, sizeof(why), "HTTP %ld: %.200s", res->status, res->body_len ? res->body : "");
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (r == DELIVER_FAIL) {
        finish_head(t, why, r, res);
        return;
    }
    double delay = outbox_backoff(e->attempts, gsl_rng_uniform(ob->rng));
    if (!isnan(res->retry_after) && res->retry_after > delay)
        delay = res->retry_after;
    if (wait > delay)
        delay = wait;
    if (ob->now() + delay - e->created > t->max_age) {
        finish_head(t, "max_age reached", DELIVER_FAIL, res);
        return;
    }
    t->st.retried++;
    log_msg(LOG_WARNING, "outbox %s: attempt %u failed (%s); retrying in %.1f s", t->name,
            e->attempts, why, delay);
    kick(t, delay);
}

/* Send the head entry of a target. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct target *t = arg;
    struct outbox *ob = t->ob;
    (void)fd, (void)what;
    if (t->busy || t->head == NULL)
        return;
    struct entry *e = t->head;
    if (ob->now() - e->created > t->max_age) {
        finish_head(t, "max_age reached", DELIVER_FAIL, NULL);
        return;
    }
    struct http_request req = {0};
    if (t->ops->request(t->ctx, e->body, e->len, &req) != 0) {
        finish_head(t, "cannot build the request (target misconfigured)", DELIVER_FAIL, NULL);
        return;
    }
    e->attempts++;
    if (http_client_send(ob->http, &req, on_done, t) != 0) {
        log_msg(LOG_ERR, "outbox %s: cannot start a request; retrying", t->name);
        kick(t, outbox_backoff(e->attempts, gsl_rng_uniform(ob->rng)));
        return;
    }
    t->busy = true;
}

/* Every PROBE_SECONDS while a directory cannot be written: spool what is
 * kept in memory only, else try a probe file; remove the files of entries
 * delivered meanwhile. Until it works, the timer stays armed. */
static void on_probe(evutil_socket_t fd, short what, void *arg)
{
    struct outbox *ob = arg;
    (void)fd, (void)what;
    if (ob->write_error[0] == '\0')
        return;
    const char *dir = ob->err_dir;
    size_t spooled = 0;
    bool tried = false, failed = false;
    for (size_t i = 0; !failed && i < ob->ntargets; i++) {
        struct target *t = &ob->targets[i];
        for (struct entry *e = t->head; e != NULL && !failed; e = e->next) {
            if (e->durable)
                continue;
            tried = true;
            failed = spool_entry(ob, t, e) != 0;
            spooled += !failed;
        }
    }
    if (!tried) {
        if (probe_dir(dir) == 0)
            write_worked(ob, dir);
        else
            write_failed(ob, dir, errno);
    }
    if (spooled > 0)
        log_msg(LOG_NOTICE, "outbox: %zu notification%s kept in memory %s spooled now", spooled,
                spooled == 1 ? "" : "s", spooled == 1 ? "is" : "are");
    if (ob->write_error[0] != '\0') {
        log_limited(&ob->rl[CAUSE_DIR], LOG_ERR, "outbox: %s; trying again every %.0f s",
                    ob->write_error, PROBE_SECONDS);
        return;
    }
    size_t kept = 0;
    for (size_t i = 0; i < ob->ndone; i++) {
        if (unlink(ob->done[i]) == 0 || errno == ENOENT)
            free(ob->done[i]);
        else
            ob->done[kept++] = ob->done[i];
    }
    ob->ndone = kept;
}

/* Spool file names in queueing order: by sequence number, then by name. */
static int cmp_names(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    uint64_t sx = name_seq(x), sy = name_seq(y);
    if (sx != sy)
        return sx < sy ? -1 : 1;
    return strcmp(x, y);
}

/* Is path already delivered in this process, or queued? */
static bool known(const struct outbox *ob, const char *path)
{
    for (size_t i = 0; i < ob->ndone; i++)
        if (strcmp(ob->done[i], path) == 0)
            return true;
    for (size_t i = 0; ob->replayed && i < ob->ntargets; i++)
        for (const struct entry *e = ob->targets[i].head; e != NULL; e = e->next)
            if (e->durable && strcmp(e->path, path) == 0)
                return true;
    return false;
}

void outbox_replay(struct outbox *ob)
{
    DIR *d = opendir(ob->dir);
    if (d == NULL)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 9 && strcmp(de->d_name + l - 9, ".json.tmp") == 0) {
            /* a write a crash interrupted: never acknowledged as spooled */
            char tmp[4096];
            snprintf(tmp, sizeof(tmp), "%s/%s", ob->dir, de->d_name);
            unlink(tmp);
            continue;
        }
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof(char *));
            if (p == NULL)
                break;
            names = p;
        }
        if ((names[n] = strdup(de->d_name)) != NULL)
            n++;
    }
    closedir(d);
    /* An empty spool leaves names NULL, and qsort(NULL, 0, ...) is undefined
     * (glibc declares it nonnull): UBSan stopped every daemon start in the
     * sanitizer build (found by tests/integration/test_github.sh). */
    if (n > 0)
        qsort(names, n, sizeof(char *), cmp_names);
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", ob->dir, names[i]);
        free(names[i]);
        if (known(ob, path))
            continue;
        FILE *f = fopen(path, "rb");
        if (f == NULL)
            continue;
        struct sbuf s;
        sbuf_init(&s);
        char buf[8192];
        size_t r;
        while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
            sbuf_add(&s, buf, r);
        fclose(f);
        cJSON *j = s.data ? cJSON_Parse(s.data) : NULL;
        sbuf_free(&s);
        const cJSON *tg = cJSON_GetObjectItemCaseSensitive(j, "target");
        const cJSON *cr = cJSON_GetObjectItemCaseSensitive(j, "created");
        const cJSON *bd = cJSON_GetObjectItemCaseSensitive(j, "body");
        struct target *t = cJSON_IsString(tg) ? find(ob, tg->valuestring) : NULL;
        if (t == NULL || !cJSON_IsNumber(cr) || !cJSON_IsString(bd)) {
            char dst[4096];
            snprintf(dst, sizeof(dst), "%s/%s", ob->dead, strrchr(path, '/') + 1);
            if (file_rename_new(path, dst) == 0)
                log_msg(LOG_ERR,
                        "outbox: %s is unreadable or names no configured target; moved to %s", path,
                        dst);
            else
                log_msg(LOG_ERR,
                        "outbox: %s is unreadable or names no configured target; cannot move "
                        "it to %s/: %s",
                        path, ob->dead, strerror(errno));
            cJSON_Delete(j);
            continue;
        }
        struct entry *e = calloc(1, sizeof(*e));
        if (e != NULL) {
            e->path = strdup(path);
            e->path_cap = strlen(path) + 1;
            e->body = strdup(bd->valuestring);
            e->len = e->body ? strlen(e->body) : 0;
            e->created = cr->valuedouble;
            e->durable = true;
            if (e->path == NULL || e->body == NULL) {
                entry_free(e);
            } else {
                append(t, e);
                loaded++;
            }
        }
        cJSON_Delete(j);
    }
    free(names);
    ob->replayed = true;
    for (size_t i = 0; i < ob->ntargets; i++)
        if (ob->targets[i].head != NULL && !ob->targets[i].busy &&
            !evtimer_pending(ob->targets[i].timer, NULL))
            kick(&ob->targets[i], 0);
    if (loaded > 0)
        log_msg(LOG_NOTICE, "outbox: replaying %zu spooled notification%s", loaded,
                loaded == 1 ? "" : "s");
}

struct outbox_stats outbox_stats(const struct outbox *ob, const char *target)
{
    const struct target *t = find(ob, target);
    struct outbox_stats z = {0};
    return t != NULL ? t->st : z;
}

struct outbox_stats outbox_totals(const struct outbox *ob)
{
    struct outbox_stats s = {0};
    for (size_t i = 0; i < ob->ntargets; i++) {
        const struct outbox_stats *st = &ob->targets[i].st;
        s.sent += st->sent;
        s.retried += st->retried;
        s.failed += st->failed;
        s.dropped += st->dropped;
        s.queued += st->queued;
        s.not_durable += st->not_durable;
        s.not_removed += st->not_removed;
    }
    return s;
}
