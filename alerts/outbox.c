#include "alerts/outbox.h"

#include "stats/sbuf.h"

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

struct entry {
    struct entry *next;
    char *path; /* spool file */
    char *body;
    size_t len;
    double created;
    unsigned attempts;
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

struct outbox {
    struct event_base *base;
    struct http_client *http;
    char *dir, *dead;
    double (*now)(void);
    void (*log)(int, const char *);
    gsl_rng *rng;
    uint64_t seq;
    struct target targets[MAX_TARGETS];
    size_t ntargets;
};

static void logf_(struct outbox *ob, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void logf_(struct outbox *ob, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ob->log != NULL)
        ob->log(level, msg);
    else
        fprintf(stderr, "%s\n", msg);
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

static int mkdir_p(const char *path)
{
    char *p = strdup(path);
    if (p == NULL)
        return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            if (mkdir(p, 0700) != 0 && errno != EEXIST) {
                free(p);
                return -1;
            }
            *s = '/';
        }
    }
    int rc = mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
    free(p);
    return rc;
}

struct outbox *outbox_new(struct event_base *base, struct http_client *http, const char *dir,
                          double (*now)(void), void (*log)(int level, const char *msg))
{
    struct outbox *ob = calloc(1, sizeof(*ob));
    if (ob == NULL)
        return NULL;
    ob->base = base;
    ob->http = http;
    ob->now = now;
    ob->log = log;
    ob->dir = strdup(dir);
    size_t n = strlen(dir) + 16;
    ob->dead = malloc(n);
    ob->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (ob->dir == NULL || ob->dead == NULL || ob->rng == NULL) {
        outbox_free(ob);
        return NULL;
    }
    gsl_rng_set(ob->rng, (unsigned long)(now() * 1000) ^ (unsigned long)getpid());
    snprintf(ob->dead, n, "%s/dead-letter", dir);
    if (mkdir_p(ob->dir) != 0 || mkdir_p(ob->dead) != 0) {
        logf_(ob, 3, "spool %s: %s", dir, strerror(errno));
        outbox_free(ob);
        return NULL;
    }
    ob->seq = (uint64_t)(now() * 1000);
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
    if (ob->rng != NULL)
        gsl_rng_free(ob->rng);
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

/* write + fsync a temp file, rename into place, fsync the directory. */
static int durable_write(struct outbox *ob, const char *path, const char *data, size_t len)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    int dfd = open(ob->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
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

int outbox_enqueue(struct outbox *ob, const char *target, const char *body, size_t len)
{
    struct target *t = find(ob, target);
    if (t == NULL) {
        logf_(ob, 3, "outbox: no target %s", target);
        return -1;
    }
    struct entry *e = calloc(1, sizeof(*e));
    size_t n = strlen(ob->dir) + strlen(target) + 48, tlen;
    if (e == NULL || (e->path = malloc(n)) == NULL || (e->body = malloc(len + 1)) == NULL) {
        if (e)
            entry_free(e);
        logf_(ob, 3, "outbox %s: out of memory; notification dropped", target);
        t->st.dropped++;
        return -1;
    }
    /* Names sort in creation order: replay keeps the order. */
    snprintf(e->path, n, "%s/%020llu-%s.json", ob->dir, (unsigned long long)++ob->seq, target);
    memcpy(e->body, body, len);
    e->body[len] = '\0';
    e->len = len;
    e->created = ob->now();
    char *text = spool_text(target, e->created, body, len, &tlen);
    if (text == NULL || durable_write(ob, e->path, text, tlen) != 0) {
        logf_(ob, 3, "outbox %s: cannot spool to %s: %s; notification dropped", target, ob->dir,
              strerror(errno));
        free(text);
        entry_free(e);
        t->st.dropped++;
        return -1;
    }
    free(text);
    append(t, e);
    if (!t->busy && !evtimer_pending(t->timer, NULL))
        kick(t, 0);
    return 0;
}

/* Move the head entry to dead-letter/ and go on with the next. */
static void bury(struct target *t, const char *why)
{
    struct outbox *ob = t->ob;
    struct entry *e = t->head;
    const char *base = strrchr(e->path, '/');
    char dst[4096];
    snprintf(dst, sizeof(dst), "%s%s", ob->dead, base ? base : "/entry.json");
    if (rename(e->path, dst) != 0)
        logf_(ob, 3, "outbox %s: cannot move %s to dead-letter/: %s", t->name, e->path,
              strerror(errno));
    logf_(ob, 3, "outbox %s: giving up after %u attempt%s (%s); kept in %s", t->name, e->attempts,
          e->attempts == 1 ? "" : "s", why, dst);
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
        if (unlink(e->path) != 0 && errno != ENOENT)
            logf_(ob, 3, "outbox %s: cannot remove %s: %s (it will be sent again)", t->name,
                  e->path, strerror(errno));
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
    logf_(ob, 4, "outbox %s: attempt %u failed (%s); retrying in %.1f s", t->name, e->attempts, why,
          delay);
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
        logf_(ob, 3, "outbox %s: cannot start a request; retrying", t->name);
        kick(t, outbox_backoff(e->attempts, gsl_rng_uniform(ob->rng)));
        return;
    }
    t->busy = true;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
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
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(names, cap * sizeof(char *));
            if (p == NULL)
                break;
            names = p;
        }
        names[n++] = strdup(de->d_name);
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
            rename(path, dst);
            logf_(ob, 3, "outbox: %s is unreadable or names no configured target; moved to %s",
                  path, dst);
            cJSON_Delete(j);
            continue;
        }
        struct entry *e = calloc(1, sizeof(*e));
        if (e != NULL) {
            e->path = strdup(path);
            e->body = strdup(bd->valuestring);
            e->len = e->body ? strlen(e->body) : 0;
            e->created = cr->valuedouble;
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
    for (size_t i = 0; i < ob->ntargets; i++)
        if (ob->targets[i].head != NULL && !ob->targets[i].busy)
            kick(&ob->targets[i], 0);
    if (loaded > 0)
        logf_(ob, 5, "outbox: replaying %zu spooled notification%s", loaded,
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
        s.sent += ob->targets[i].st.sent;
        s.retried += ob->targets[i].st.retried;
        s.failed += ob->targets[i].st.failed;
        s.dropped += ob->targets[i].st.dropped;
        s.queued += ob->targets[i].st.queued;
    }
    return s;
}
