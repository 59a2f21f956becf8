/*
 * The closed loop's record: active, previous and staged baselines, the last
 * run's adoption, the event timeline, kept in state_dir/loop.json; the
 * baseline files themselves in state_dir/baselines/.
 */
#include "agent/adopt.h"

#include "alerts/alert.h"
#include "lib/file.h"
#include "lib/log.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_STAGED 16
#define MAX_CONCLUSIONS 8

struct adopt_event_rec {
    double at;
    char kind[24], correlation_id[64], sha256[SHA256_HEX_LEN + 1], run_url[512], message[512];
};

struct adopt {
    char *state_dir, *dir;
    double (*now)(void);
    bool have_active, have_previous;
    struct adopt_entry active, previous;
    struct adopt_entry staged[MAX_STAGED];
    size_t n_staged;
    char config_sha[SHA256_HEX_LEN + 1];
    /* the last run's adoption */
    char status[16], message[512], artifact[256], run_url[512], correlation_id[64];
    double status_at;
    /* events: a ring, newest at (first + n - 1) % max */
    struct adopt_event_rec *events;
    size_t first, n;
    struct adopt_counts counts;
    char conclusions[MAX_CONCLUSIONS][24];
    uint64_t conclusion_count[MAX_CONCLUSIONS];
    struct log_limit save_log;
};

static const char *const source_names[] = {"file", "run", "api"};

const char *adopt_source_name(enum adopt_source s)
{
    return (unsigned)s < 3 ? source_names[s] : "file";
}

/* Copy a C string into a fixed buffer, cut (never overflowing). */
static void put(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src != NULL ? src : "");
}

struct adopt *adopt_new(const char *state_dir, double (*now)(void))
{
    struct adopt *a = calloc(1, sizeof(*a));
    if (a == NULL)
        return NULL;
    a->state_dir = strdup(state_dir);
    size_t n = strlen(state_dir) + sizeof("/baselines");
    a->dir = malloc(n);
    a->events = calloc(ADOPT_EVENTS_MAX, sizeof(*a->events));
    if (a->state_dir == NULL || a->dir == NULL || a->events == NULL) {
        adopt_free(a);
        return NULL;
    }
    snprintf(a->dir, n, "%s/baselines", state_dir);
    a->now = now;
    a->save_log.every = 60;
    return a;
}

static void entry_clear(struct adopt_entry *e)
{
    free(e->provenance);
    memset(e, 0, sizeof(*e));
}

/* A deep copy into an empty dst (the provenance text duplicated). */
static int entry_copy(struct adopt_entry *dst, const struct adopt_entry *src)
{
    char *p = NULL;
    if (src->provenance != NULL && (p = strdup(src->provenance)) == NULL)
        return -1;
    *dst = *src;
    dst->provenance = p;
    return 0;
}

void adopt_free(struct adopt *a)
{
    if (a == NULL)
        return;
    entry_clear(&a->active);
    entry_clear(&a->previous);
    for (size_t i = 0; i < a->n_staged; i++)
        entry_clear(&a->staged[i]);
    free(a->events);
    free(a->state_dir);
    free(a->dir);
    free(a);
}

char *adopt_path_of(const struct adopt *a, const char *sha256)
{
    size_t n = strlen(a->dir) + strlen(sha256) + 8;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s.json", a->dir, sha256);
    return p;
}

static char *loop_path(const struct adopt *a)
{
    size_t n = strlen(a->state_dir) + sizeof("/loop.json");
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/loop.json", a->state_dir);
    return p;
}

/* --- JSON of entries and events ------------------------------------------ */

static void add_str(struct sbuf *s, const char *v)
{
    if (v == NULL || *v == '\0')
        sbuf_adds(s, "null");
    else
        sbuf_add_json_string(s, v, strlen(v));
}

static void entry_json(const struct adopt_entry *e, struct sbuf *s)
{
    sbuf_adds(s, "{\"sha256\": ");
    add_str(s, e->sha256);
    sbuf_adds(s, ", \"source\": ");
    add_str(s, adopt_source_name(e->source));
    sbuf_adds(s, ", \"path\": ");
    add_str(s, e->path);
    sbuf_adds(s, ", \"run_url\": ");
    add_str(s, e->run_url);
    sbuf_adds(s, ", \"correlation_id\": ");
    add_str(s, e->correlation_id);
    sbuf_adds(s, ", \"model_version\": ");
    add_str(s, e->model_version);
    sbuf_printf(s, ", \"rows\": %llu, \"features\": %zu, \"at\": %.3f, \"provenance\": ",
                (unsigned long long)e->rows, e->features, e->at);
    sbuf_adds(s, e->provenance != NULL ? e->provenance : "null");
    sbuf_adds(s, "}");
}

static const char *jstr(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 ? v->valuedouble : 0;
}

/* An entry from loop.json; false when it is not one (no valid sha256). */
static bool entry_of(const cJSON *o, struct adopt_entry *e)
{
    memset(e, 0, sizeof(*e));
    const char *sha = jstr(o, "sha256");
    if (!cJSON_IsObject(o) || sha == NULL || strlen(sha) != SHA256_HEX_LEN ||
        strspn(sha, "0123456789abcdef") != SHA256_HEX_LEN)
        return false;
    put(e->sha256, sizeof(e->sha256), sha);
    const char *src = jstr(o, "source");
    for (int i = 0; i < 3; i++)
        if (src != NULL && strcmp(src, source_names[i]) == 0)
            e->source = (enum adopt_source)i;
    put(e->path, sizeof(e->path), jstr(o, "path"));
    put(e->run_url, sizeof(e->run_url), jstr(o, "run_url"));
    put(e->correlation_id, sizeof(e->correlation_id), jstr(o, "correlation_id"));
    put(e->model_version, sizeof(e->model_version), jstr(o, "model_version"));
    e->rows = (uint64_t)jnum(o, "rows");
    e->features = (size_t)jnum(o, "features");
    e->at = jnum(o, "at");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "provenance");
    if (cJSON_IsObject(p))
        e->provenance = cJSON_PrintUnformatted(p);
    return true;
}

static struct adopt_event_rec *event_at(const struct adopt *a, size_t i) /* 0: oldest */
{
    return &a->events[(a->first + i) % ADOPT_EVENTS_MAX];
}

static struct adopt_event_rec *event_push(struct adopt *a)
{
    if (a->n == ADOPT_EVENTS_MAX) {
        a->first = (a->first + 1) % ADOPT_EVENTS_MAX;
        a->n--;
    }
    struct adopt_event_rec *r = event_at(a, a->n++);
    memset(r, 0, sizeof(*r));
    return r;
}

static void event_json(const struct adopt_event_rec *r, struct sbuf *s)
{
    sbuf_adds(s, "{\"time\": ");
    alert_time_json(s, r->at);
    sbuf_printf(s, ", \"at\": %.3f, \"event\": ", r->at);
    add_str(s, r->kind);
    sbuf_adds(s, ", \"correlation_id\": ");
    add_str(s, r->correlation_id);
    sbuf_adds(s, ", \"baseline\": ");
    add_str(s, r->sha256);
    sbuf_adds(s, ", \"run_url\": ");
    add_str(s, r->run_url);
    sbuf_adds(s, ", \"message\": ");
    add_str(s, r->message);
    sbuf_adds(s, "}");
}

/* --- load and save -------------------------------------------------------- */

int adopt_load(struct adopt *a, char *err, size_t errlen)
{
    char *path = loop_path(a);
    size_t len = 0;
    char *text = path != NULL ? file_read(path, &len) : NULL;
    if (text == NULL) {
        int e = path == NULL ? ENOMEM : errno;
        if (e != ENOENT)
            snprintf(err, errlen, "%s: %s", path ? path : "loop.json", strerror(e));
        free(path);
        return e == ENOENT ? 0 : -1;
    }
    cJSON *j = cJSON_ParseWithLength(text, len);
    free(text);
    if (!cJSON_IsObject(j)) {
        snprintf(err, errlen, "%s: not a JSON object (left as it is; a new one is started)", path);
        cJSON_Delete(j);
        free(path);
        return -1;
    }
    free(path);
    struct adopt_entry e;
    if (entry_of(cJSON_GetObjectItemCaseSensitive(j, "active"), &e)) {
        entry_clear(&a->active);
        a->active = e;
        a->have_active = true;
    }
    if (entry_of(cJSON_GetObjectItemCaseSensitive(j, "previous"), &e)) {
        entry_clear(&a->previous);
        a->previous = e;
        a->have_previous = true;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "staged"))
    {
        if (a->n_staged < MAX_STAGED && entry_of(x, &e))
            a->staged[a->n_staged++] = e;
    }
    put(a->config_sha, sizeof(a->config_sha), jstr(j, "config_baseline_sha256"));
    const cJSON *ad = cJSON_GetObjectItemCaseSensitive(j, "adoption");
    if (cJSON_IsObject(ad)) {
        put(a->status, sizeof(a->status), jstr(ad, "status"));
        put(a->message, sizeof(a->message), jstr(ad, "message"));
        put(a->artifact, sizeof(a->artifact), jstr(ad, "artifact"));
        put(a->run_url, sizeof(a->run_url), jstr(ad, "run_url"));
        put(a->correlation_id, sizeof(a->correlation_id), jstr(ad, "correlation_id"));
        a->status_at = jnum(ad, "at");
    }
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "counts");
    a->counts.adopted = (uint64_t)jnum(c, "adopted");
    a->counts.failed = (uint64_t)jnum(c, "failed");
    a->counts.rolled_back = (uint64_t)jnum(c, "rolled_back");
    size_t k = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(j, "runs"))
    {
        if (k < MAX_CONCLUSIONS && x->string != NULL && cJSON_IsNumber(x)) {
            put(a->conclusions[k], sizeof(a->conclusions[k]), x->string);
            a->conclusion_count[k++] = x->valuedouble > 0 ? (uint64_t)x->valuedouble : 0;
        }
    }
    /* events are saved newest first */
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(j, "events");
    int ne = cJSON_GetArraySize(ev);
    for (int i = ne - 1; i >= 0; i--) {
        const cJSON *o = cJSON_GetArrayItem(ev, i);
        if (!cJSON_IsObject(o) || jstr(o, "event") == NULL)
            continue;
        struct adopt_event_rec *r = event_push(a);
        r->at = jnum(o, "at");
        put(r->kind, sizeof(r->kind), jstr(o, "event"));
        put(r->correlation_id, sizeof(r->correlation_id), jstr(o, "correlation_id"));
        put(r->sha256, sizeof(r->sha256), jstr(o, "baseline"));
        put(r->run_url, sizeof(r->run_url), jstr(o, "run_url"));
        put(r->message, sizeof(r->message), jstr(o, "message"));
    }
    cJSON_Delete(j);
    return 0;
}

int adopt_save(struct adopt *a)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_adds(&s, "{\"active\": ");
    if (a->have_active)
        entry_json(&a->active, &s);
    else
        sbuf_adds(&s, "null");
    sbuf_adds(&s, ",\n\"previous\": ");
    if (a->have_previous)
        entry_json(&a->previous, &s);
    else
        sbuf_adds(&s, "null");
    sbuf_adds(&s, ",\n\"staged\": [");
    for (size_t i = 0; i < a->n_staged; i++) {
        sbuf_adds(&s, i ? ", " : "");
        entry_json(&a->staged[i], &s);
    }
    sbuf_adds(&s, "],\n\"config_baseline_sha256\": ");
    add_str(&s, a->config_sha);
    sbuf_adds(&s, ",\n\"adoption\": {\"status\": ");
    add_str(&s, a->status);
    sbuf_adds(&s, ", \"message\": ");
    add_str(&s, a->message);
    sbuf_adds(&s, ", \"artifact\": ");
    add_str(&s, a->artifact);
    sbuf_adds(&s, ", \"run_url\": ");
    add_str(&s, a->run_url);
    sbuf_adds(&s, ", \"correlation_id\": ");
    add_str(&s, a->correlation_id);
    sbuf_printf(&s, ", \"at\": %.3f}", a->status_at);
    sbuf_printf(&s,
                ",\n\"counts\": {\"adopted\": %llu, \"failed\": %llu, \"rolled_back\": %llu}"
                ",\n\"runs\": {",
                (unsigned long long)a->counts.adopted, (unsigned long long)a->counts.failed,
                (unsigned long long)a->counts.rolled_back);
    for (size_t k = 0; k < MAX_CONCLUSIONS && a->conclusions[k][0]; k++) {
        sbuf_adds(&s, k ? ", " : "");
        add_str(&s, a->conclusions[k]);
        sbuf_printf(&s, ": %llu", (unsigned long long)a->conclusion_count[k]);
    }
    sbuf_adds(&s, "},\n\"events\": [");
    for (size_t i = a->n; i > 0; i--) {
        sbuf_adds(&s, i == a->n ? "\n " : ",\n ");
        event_json(event_at(a, i - 1), &s);
    }
    sbuf_adds(&s, "]}\n");
    char *path = loop_path(a);
    int rc = -1, err = ENOMEM;
    if (path != NULL && !sbuf_failed(&s)) {
        rc = file_write_atomic(path, s.data, s.len, 0600, 0);
        err = errno;
    }
    if (rc != 0)
        log_limited(&a->save_log, LOG_ERR, "%s: cannot write the loop's state: %s",
                    path ? path : "loop.json", strerror(err));
    free(path);
    sbuf_free(&s);
    errno = err;
    return rc;
}

/* --- the baseline files ---------------------------------------------------- */

/* Is sha one of the entries that must stay on disk? */
static bool protected_sha(const struct adopt *a, const char *sha)
{
    if (a->have_active && strcmp(a->active.sha256, sha) == 0)
        return true;
    if (a->have_previous && strcmp(a->previous.sha256, sha) == 0)
        return true;
    for (size_t i = 0; i < a->n_staged; i++)
        if (strcmp(a->staged[i].sha256, sha) == 0)
            return true;
    return false;
}

struct kept_file {
    char name[SHA256_HEX_LEN + 8];
    double mtime;
};

static int by_mtime_desc(const void *x, const void *y)
{
    const struct kept_file *a = x, *b = y;
    return a->mtime < b->mtime ? 1 : a->mtime > b->mtime ? -1 : strcmp(a->name, b->name);
}

/* Drop the oldest <sha256>.json files beyond keep (protected ones count
 * towards keep but always stay). Names that are not ours are left alone. */
static void prune(struct adopt *a, size_t keep)
{
    DIR *dir = opendir(a->dir);
    if (dir == NULL)
        return;
    struct kept_file *f = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        const char *nm = de->d_name;
        if (strlen(nm) != SHA256_HEX_LEN + 5 || strcmp(nm + SHA256_HEX_LEN, ".json") != 0 ||
            strspn(nm, "0123456789abcdef") != SHA256_HEX_LEN)
            continue;
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            struct kept_file *g = realloc(f, nc * sizeof(*f));
            if (g == NULL)
                break;
            f = g, cap = nc;
        }
        char full[4200];
        struct stat st;
        snprintf(full, sizeof(full), "%s/%s", a->dir, nm);
        if (stat(full, &st) != 0)
            continue;
        put(f[n].name, sizeof(f[n].name), nm);
        f[n].mtime = (double)st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
        n++;
    }
    closedir(dir);
    qsort(f, n, sizeof(*f), by_mtime_desc);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        char sha[SHA256_HEX_LEN + 1];
        memcpy(sha, f[i].name, SHA256_HEX_LEN);
        sha[SHA256_HEX_LEN] = '\0';
        if (protected_sha(a, sha) || kept < keep) {
            kept++;
            continue;
        }
        char full[4200];
        snprintf(full, sizeof(full), "%s/%s", a->dir, f[i].name);
        if (unlink(full) == 0)
            log_info("loop: dropped the old baseline %s (retrain.adopt.keep is %zu)", full, keep);
    }
    free(f);
}

int adopt_store(struct adopt *a, const char *data, size_t len, const char *sha256, size_t keep)
{
    if (file_mkdir_p(a->dir, 0700, 0700) != 0)
        return -1;
    char *path = adopt_path_of(a, sha256);
    if (path == NULL) {
        errno = ENOMEM;
        return -1;
    }
    int rc = file_write_atomic(path, data, len, 0600, 0);
    int err = errno;
    free(path);
    if (rc == 0)
        prune(a, keep);
    errno = err;
    return rc;
}

/* --- entries ---------------------------------------------------------------- */

const struct adopt_entry *adopt_active(const struct adopt *a)
{
    return a->have_active ? &a->active : NULL;
}

const struct adopt_entry *adopt_previous(const struct adopt *a)
{
    return a->have_previous ? &a->previous : NULL;
}

size_t adopt_n_staged(const struct adopt *a)
{
    return a->n_staged;
}

const struct adopt_entry *adopt_staged(const struct adopt *a, size_t i)
{
    return i < a->n_staged ? &a->staged[i] : NULL;
}

const struct adopt_entry *adopt_find_staged(const struct adopt *a, const char *sha)
{
    size_t n = strlen(sha);
    const struct adopt_entry *found = NULL;
    if (n < 6)
        return NULL;
    for (size_t i = 0; i < a->n_staged; i++) {
        if (strncmp(a->staged[i].sha256, sha, n) != 0)
            continue;
        if (found != NULL)
            return NULL; /* ambiguous */
        found = &a->staged[i];
    }
    return found;
}

static void unstage(struct adopt *a, const char *sha)
{
    for (size_t i = 0; i < a->n_staged; i++) {
        if (strcmp(a->staged[i].sha256, sha) != 0)
            continue;
        entry_clear(&a->staged[i]);
        memmove(&a->staged[i], &a->staged[i + 1], (a->n_staged - i - 1) * sizeof(a->staged[0]));
        a->n_staged--;
        memset(&a->staged[a->n_staged], 0, sizeof(a->staged[0]));
        return;
    }
}

int adopt_stage(struct adopt *a, const struct adopt_entry *e)
{
    struct adopt_entry copy = {0};
    if (entry_copy(&copy, e) != 0)
        return -1;
    unstage(a, e->sha256);
    if (a->n_staged == MAX_STAGED) { /* the oldest goes */
        entry_clear(&a->staged[0]);
        memmove(&a->staged[0], &a->staged[1], (MAX_STAGED - 1) * sizeof(a->staged[0]));
        a->n_staged--;
    }
    a->staged[a->n_staged++] = copy;
    return 0;
}

int adopt_set_active(struct adopt *a, const struct adopt_entry *e)
{
    struct adopt_entry copy = {0};
    if (entry_copy(&copy, e) != 0)
        return -1;
    if (a->have_active && strcmp(a->active.sha256, e->sha256) != 0) {
        entry_clear(&a->previous);
        a->previous = a->active;
        a->have_previous = true;
    } else {
        entry_clear(&a->active);
    }
    a->active = copy;
    a->have_active = true;
    unstage(a, e->sha256);
    return 0;
}

const char *adopt_config_sha(const struct adopt *a)
{
    return a->config_sha;
}

void adopt_set_config_sha(struct adopt *a, const char *sha256)
{
    put(a->config_sha, sizeof(a->config_sha), sha256);
}

/* --- events, status, counters --------------------------------------------- */

void adopt_event(struct adopt *a, const char *kind, const char *correlation_id, const char *sha256,
                 const char *run_url, const char *message)
{
    struct adopt_event_rec *r = event_push(a);
    r->at = a->now();
    put(r->kind, sizeof(r->kind), kind);
    put(r->correlation_id, sizeof(r->correlation_id), correlation_id);
    put(r->sha256, sizeof(r->sha256), sha256);
    put(r->run_url, sizeof(r->run_url), run_url);
    put(r->message, sizeof(r->message), message);
    struct sbuf line;
    sbuf_init(&line);
    sbuf_printf(&line, "loop: %s", kind);
    if (sha256 != NULL && *sha256)
        sbuf_printf(&line, ", baseline %.12s", sha256);
    if (correlation_id != NULL && *correlation_id)
        sbuf_printf(&line, ", correlation id %s", correlation_id);
    if (run_url != NULL && *run_url)
        sbuf_printf(&line, ", run %s", run_url);
    if (message != NULL && *message)
        sbuf_printf(&line, ": %s", message);
    log_msg(strcmp(kind, "adoption_failed") == 0 ? LOG_WARNING : LOG_NOTICE, "%s",
            line.data ? line.data : kind);
    sbuf_free(&line);
}

void adopt_events_json(const struct adopt *a, size_t limit, struct sbuf *out)
{
    sbuf_adds(out, "{\"events\": [");
    size_t shown = 0;
    for (size_t i = a->n; i > 0 && shown < limit; i--, shown++) {
        sbuf_adds(out, shown ? ",\n " : "\n ");
        event_json(event_at(a, i - 1), out);
    }
    sbuf_printf(out, "], \"total\": %zu}\n", a->n);
}

void adopt_set_status(struct adopt *a, const char *status, const char *message,
                      const char *artifact, const char *run_url, const char *correlation_id)
{
    put(a->status, sizeof(a->status), status);
    put(a->message, sizeof(a->message), message);
    if (artifact != NULL)
        put(a->artifact, sizeof(a->artifact), artifact);
    if (run_url != NULL)
        put(a->run_url, sizeof(a->run_url), run_url);
    if (correlation_id != NULL)
        put(a->correlation_id, sizeof(a->correlation_id), correlation_id);
    a->status_at = a->now();
}

void adopt_run_json(const struct adopt *a, struct sbuf *out)
{
    if (a->status[0] == '\0')
        return;
    sbuf_adds(out, ", \"artifact\": ");
    add_str(out, a->artifact);
    sbuf_adds(out, ", \"adoption\": {\"status\": ");
    add_str(out, a->status);
    sbuf_adds(out, ", \"message\": ");
    add_str(out, a->message);
    sbuf_adds(out, ", \"run_url\": ");
    add_str(out, a->run_url);
    sbuf_adds(out, ", \"correlation_id\": ");
    add_str(out, a->correlation_id);
    sbuf_adds(out, ", \"at\": ");
    alert_time_json(out, a->status_at);
    sbuf_adds(out, "}");
}

void adopt_baseline_json(const struct adopt *a, struct sbuf *out)
{
    const struct adopt_entry *e = &a->active;
    sbuf_adds(out, "\"sha256\": ");
    add_str(out, e->sha256);
    sbuf_printf(out, ", \"id\": \"%.12s\", \"features\": %zu, \"provenance\": ", e->sha256,
                e->features);
    sbuf_adds(out, e->provenance != NULL ? e->provenance : "null");
    sbuf_adds(out, ", \"source\": {\"kind\": ");
    add_str(out, adopt_source_name(e->source));
    sbuf_adds(out, ", \"run_url\": ");
    add_str(out, e->run_url);
    sbuf_adds(out, ", \"correlation_id\": ");
    add_str(out, e->correlation_id);
    sbuf_adds(out, "}, \"model_version\": ");
    add_str(out, e->model_version);
    sbuf_adds(out, ", \"adopted_at\": ");
    alert_time_json(out, e->at);
    sbuf_adds(out, ", \"previous\": ");
    add_str(out, a->have_previous ? a->previous.sha256 : NULL);
    sbuf_adds(out, ", \"staged\": [");
    for (size_t i = 0; i < a->n_staged; i++) {
        const struct adopt_entry *s = &a->staged[i];
        sbuf_adds(out, i ? ", {\"sha256\": " : "{\"sha256\": ");
        add_str(out, s->sha256);
        sbuf_adds(out, ", \"source\": ");
        add_str(out, adopt_source_name(s->source));
        sbuf_adds(out, ", \"model_version\": ");
        add_str(out, s->model_version);
        sbuf_adds(out, ", \"run_url\": ");
        add_str(out, s->run_url);
        sbuf_adds(out, ", \"staged_at\": ");
        alert_time_json(out, s->at);
        sbuf_adds(out, "}");
    }
    sbuf_adds(out, "]");
}

struct adopt_counts adopt_counts(const struct adopt *a)
{
    return a->counts;
}

void adopt_count(struct adopt *a, const char *result)
{
    if (strcmp(result, "adopted") == 0)
        a->counts.adopted++;
    else if (strcmp(result, "failed") == 0)
        a->counts.failed++;
    else if (strcmp(result, "rolled_back") == 0)
        a->counts.rolled_back++;
}

void adopt_count_run(struct adopt *a, const char *conclusion)
{
    if (conclusion == NULL || *conclusion == '\0')
        conclusion = "unknown";
    size_t k = 0;
    for (; k < MAX_CONCLUSIONS && a->conclusions[k][0]; k++)
        if (strcmp(a->conclusions[k], conclusion) == 0)
            break;
    if (k == MAX_CONCLUSIONS)
        k = MAX_CONCLUSIONS - 1; /* GitHub has fewer conclusions than this */
    if (a->conclusions[k][0] == '\0')
        put(a->conclusions[k], sizeof(a->conclusions[k]), conclusion);
    a->conclusion_count[k]++;
}

const char *adopt_run_conclusion(const struct adopt *a, size_t i, uint64_t *count)
{
    if (i >= MAX_CONCLUSIONS || a->conclusions[i][0] == '\0')
        return NULL;
    *count = a->conclusion_count[i];
    return a->conclusions[i];
}
