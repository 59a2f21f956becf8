#include "testlib.h"
#include "lib/log.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h> /* before keyvalq_struct.h, for TAILQ_FOREACH */
#include <event2/keyvalq_struct.h>
#include <ftw.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int tl_passed, tl_failed;

int tl_check(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    if (ok) {
        tl_passed++;
        return 1;
    }
    tl_failed++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 0;
}

int tl_close(double got, double want, double abs_tol, double rel_tol)
{
    if (isnan(want) || isnan(got))
        return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got))
        return got == want;
    double diff = fabs(got - want);
    return diff <= abs_tol || diff <= rel_tol * fabs(want);
}

cJSON *tl_load_json(const char *relpath)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", DRIFTD_TEST_DATA_DIR, relpath);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "%s: read failed\n", path);
        exit(2);
    }
    buf[len] = '\0';
    fclose(f);
    cJSON *json = cJSON_Parse(buf);
    free(buf);
    if (json == NULL) {
        fprintf(stderr, "%s: invalid JSON\n", path);
        exit(2);
    }
    return json;
}

double tl_num(const cJSON *item)
{
    if (cJSON_IsNumber(item))
        return item->valuedouble;
    if (cJSON_IsString(item)) {
        if (strcmp(item->valuestring, "inf") == 0)
            return INFINITY;
        if (strcmp(item->valuestring, "-inf") == 0)
            return -INFINITY;
    }
    return NAN;
}

int tl_done(void)
{
    printf("%d passed, %d failed\n", tl_passed, tl_failed);
    return tl_failed == 0 && tl_passed > 0 ? 0 : 1;
}

/* POSIX regex, compiled per call: tests match a handful of strings. */
bool tl_matches(const char *s, const char *re)
{
    regex_t r;
    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
        return false;
    bool ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    return ok;
}

double tl_time = 1800000000.0;

/* The one clock every test hands to the code it drives. */
double tl_now(void)
{
    return tl_time;
}

/* Under /tmp and named after the test, so a leftover says who left it. */
char *tl_tmpdir(const char *name)
{
    size_t size = strlen(name) + sizeof("/tmp/driftd-.XXXXXX");
    char *dir = malloc(size);
    if (dir == NULL) {
        fprintf(stderr, "tl_tmpdir %s: out of memory\n", name);
        exit(1);
    }
    snprintf(dir, size, "/tmp/driftd-%s.XXXXXX", name);
    if (mkdtemp(dir) == NULL) {
        fprintf(stderr, "mkdtemp %s: %s\n", dir, strerror(errno));
        exit(1);
    }
    return dir;
}

/* nftw's callback for tl_tmpdir_remove: children come before their directory. */
static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    if (remove(path) != 0) {
        fprintf(stderr, "cannot remove %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* nftw instead of system("rm -rf"): no shell, and no quoting of the path to get wrong. */
void tl_tmpdir_remove(char *dir)
{
    if (dir == NULL)
        return;
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

/* Entries, not only regular files: a spool holds nothing else. */
size_t tl_count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    size_t n = 0, sl = strlen(suffix);
    struct dirent *de;
    while (d != NULL && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        n += l > sl && strcmp(de->d_name + l - sl, suffix) == 0;
    }
    if (d != NULL)
        closedir(d);
    return n;
}

/* One log line kept, with its level. */
struct kept_line {
    int level;
    char *text;
};

/* The log lines kept, one by one and all of them as one text. */
static struct {
    struct kept_line *lines;
    size_t n, cap;
    char *text;
    size_t len, size;
} kept;

/* Grow p (of *cap elements of elem bytes) to hold want; exits when it cannot. */
static void *grow(void *p, size_t *cap, size_t want, size_t elem)
{
    if (want <= *cap)
        return p;
    size_t n = *cap ? *cap : 64;
    while (n < want)
        n *= 2;
    p = realloc(p, n * elem);
    if (p == NULL) {
        fprintf(stderr, "testlib: out of memory for %zu items\n", n);
        exit(2);
    }
    *cap = n;
    return p;
}

/* The log hook: keep the line and its level. */
static void keep_line(enum log_level level, const char *msg)
{
    size_t len = strlen(msg);
    char *copy = strdup(msg);
    kept.lines = grow(kept.lines, &kept.cap, kept.n + 1, sizeof(*kept.lines));
    kept.text = grow(kept.text, &kept.size, kept.len + len + 2, 1);
    if (copy == NULL) {
        fprintf(stderr, "testlib: out of memory for a log line\n");
        exit(2);
    }
    kept.lines[kept.n++] = (struct kept_line){(int)level, copy};
    memcpy(kept.text + kept.len, msg, len);
    kept.len += len;
    kept.text[kept.len++] = '\n';
    kept.text[kept.len] = '\0';
}

/* The hook replaces stderr, so a captured test prints only its own failures. */
void tl_log_capture(void)
{
    log_set_hook(keep_line);
}

/* The array keeps its room, so a test that clears often does not reallocate. */
void tl_log_clear(void)
{
    for (size_t i = 0; i < kept.n; i++)
        free(kept.lines[i].text);
    kept.n = 0;
    kept.len = 0;
    if (kept.text != NULL)
        kept.text[0] = '\0';
}

/* Frees everything, so LeakSanitizer sees no lines kept at exit. */
void tl_log_stop(void)
{
    log_set_hook(NULL);
    tl_log_clear();
    free(kept.lines);
    free(kept.text);
    memset(&kept, 0, sizeof(kept));
}

/* The text is kept beside the lines, so strstr over the whole log costs nothing to build. */
const char *tl_log_text(void)
{
    return kept.text != NULL ? kept.text : "";
}

/* Lower levels are more severe (syslog order), hence <=. */
size_t tl_log_count(int max_level)
{
    size_t n = 0;
    for (size_t i = 0; i < kept.n; i++)
        n += kept.lines[i].level <= max_level;
    return n;
}

/* Searched from the end: the line a test asks for is usually the newest. */
const char *tl_log_last(int max_level)
{
    for (size_t i = kept.n; i-- > 0;)
        if (kept.lines[i].level <= max_level)
            return kept.lines[i].text;
    return "";
}

/* -1 is no level of lib/log.h, so a check on a missing line fails. */
const char *tl_log_line(size_t i, int *level)
{
    if (i >= kept.n) {
        *level = -1;
        return "";
    }
    *level = kept.lines[i].level;
    return kept.lines[i].text;
}

/* One slice of the loop: 10 ms, or less when something breaks the loop. */
static void run_slice(struct event_base *base)
{
    struct timeval tv = {0, 10000};
    event_base_loopexit(base, &tv);
    event_base_dispatch(base);
}

/* Slices rather than one long run, so the condition is looked at every 10 ms. */
bool tl_run_until(struct event_base *base, tl_cond_fn done, void *arg, double seconds)
{
    long slices = lround(seconds * 100);
    for (long i = 0; i < slices && !done(arg); i++)
        run_slice(base);
    return done(arg);
}

/* The same slices as tl_run_until, with a condition that never holds. */
void tl_run_for(struct event_base *base, double seconds)
{
    long slices = lround(seconds * 100);
    for (long i = 0; i < slices; i++)
        run_slice(base);
}

struct tl_server {
    struct event_base *base;
    struct evhttp *http;
    int port;
    char url[64];
    struct tl_answer *script;
    size_t nscript, next; /* next: the script's answer for the next request */
    tl_responder_fn respond;
    void *respond_arg;
    struct tl_request *reqs;
    size_t n, cap;
};

/* A copy of the n bytes at p with a '\0' after them; exits when out of memory. */
static char *copy_text(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s == NULL) {
        fprintf(stderr, "testlib: out of memory for %zu bytes\n", n);
        exit(2);
    }
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* The name of an evhttp command, as a client sends it. */
static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_PUT:
        return "PUT";
    case EVHTTP_REQ_DELETE:
        return "DELETE";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    case EVHTTP_REQ_TRACE:
        return "TRACE";
    case EVHTTP_REQ_CONNECT:
        return "CONNECT";
    case EVHTTP_REQ_PATCH:
        return "PATCH";
    }
    return "?";
}

/* Keep req's method, URI, headers and body as the next recorded request. */
static const struct tl_request *record(struct tl_server *srv, struct evhttp_request *req)
{
    srv->reqs = grow(srv->reqs, &srv->cap, srv->n + 1, sizeof(*srv->reqs));
    struct tl_request *r = &srv->reqs[srv->n++];
    memset(r, 0, sizeof(*r));
    const char *m = method_name(evhttp_request_get_command(req));
    r->method = copy_text(m, strlen(m));
    const char *uri = evhttp_request_get_uri(req);
    r->path = copy_text(uri, strlen(uri));
    struct evkeyval *kv;
    size_t cap = 0;
    TAILQ_FOREACH(kv, evhttp_request_get_input_headers(req), next)
    {
        r->headers = grow(r->headers, &cap, r->n_headers + 1, sizeof(*r->headers));
        r->headers[r->n_headers++] = (struct tl_header){copy_text(kv->key, strlen(kv->key)),
                                                        copy_text(kv->value, strlen(kv->value))};
    }
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    r->body_len = evbuffer_get_length(in);
    r->body = copy_text("", 0);
    if (r->body_len > 0) {
        free(r->body);
        r->body = copy_text((const char *)evbuffer_pullup(in, -1), r->body_len);
    }
    r->json = cJSON_ParseWithLength(r->body, r->body_len);
    return r;
}

/* The server's handler: record the request, then answer it from the
 * responder or the script. */
static void serve(struct evhttp_request *req, void *arg)
{
    struct tl_server *srv = arg;
    const struct tl_request *got = record(srv, req);
    if (srv->respond != NULL) {
        srv->respond(req, got, srv->respond_arg);
        return;
    }
    struct tl_answer a = {200, NULL, "ok"};
    if (srv->next < srv->nscript)
        a = srv->script[srv->next];
    srv->next++;
    if (a.retry_after != NULL)
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", a.retry_after);
    struct evbuffer *out = evbuffer_new();
    if (out != NULL && a.body != NULL)
        evbuffer_add(out, a.body, strlen(a.body));
    evhttp_send_reply(req, a.status, a.status < 300 ? "OK" : "Not OK", out);
    if (out != NULL)
        evbuffer_free(out);
}

/* Port 0: parallel ctest runs never fight over a port. */
struct tl_server *tl_server_new(struct event_base *base)
{
    struct tl_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL)
        return NULL;
    srv->base = base;
    srv->http = evhttp_new(base);
    struct evhttp_bound_socket *sock =
        srv->http ? evhttp_bind_socket_with_handle(srv->http, "127.0.0.1", 0) : NULL;
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    if (sock == NULL ||
        getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sa, &sl) != 0) {
        fprintf(stderr, "loopback server: cannot listen on 127.0.0.1: %s\n", strerror(errno));
        tl_server_free(srv);
        return NULL;
    }
    evhttp_set_gencb(srv->http, serve, srv);
    srv->port = ntohs(sa.sin_port);
    snprintf(srv->url, sizeof(srv->url), "http://127.0.0.1:%d", srv->port);
    return srv;
}

/* Requests first: their bodies and parsed JSON belong to the server. */
void tl_server_free(struct tl_server *srv)
{
    if (srv == NULL)
        return;
    tl_server_clear(srv);
    free(srv->reqs);
    free(srv->script);
    if (srv->http != NULL)
        evhttp_free(srv->http);
    free(srv);
}

/* The port, for a test that builds its own URLs (or hands it to another process). */
int tl_server_port(const struct tl_server *srv)
{
    return srv->port;
}

/* Built once at bind time, so callers only append their path. */
const char *tl_server_url(const struct tl_server *srv)
{
    return srv->url;
}

/* The script restarts the count, so "n requests served" means n since this call. */
void tl_server_script(struct tl_server *srv, size_t n, const struct tl_answer *answers)
{
    size_t cap = srv->nscript;
    srv->script = grow(srv->script, &cap, n, sizeof(*answers));
    if (n > 0)
        memcpy(srv->script, answers, n * sizeof(*answers));
    srv->nscript = n;
    srv->next = 0;
    tl_server_clear(srv);
}

/* For servers whose answers depend on the request (a mock GitHub, an echo). */
void tl_server_respond(struct tl_server *srv, tl_responder_fn fn, void *arg)
{
    srv->respond = fn;
    srv->respond_arg = arg;
}

/* tl_server_fork's child: the test is done with it. */
static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    event_base_loopbreak(arg);
}

pid_t tl_server_fork(tl_responder_fn fn, void *arg, int *port)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        struct event_base *base = event_base_new();
        struct tl_server *srv = tl_server_new(base);
        /* SIGTERM (the test's kill) ends the loop, and the server is
         * freed: valgrind, which follows the child, finds nothing left */
        struct event *term = evsignal_new(base, SIGTERM, stop_loop, base);
        if (srv == NULL || term == NULL || event_add(term, NULL) != 0)
            _exit(1);
        tl_server_respond(srv, fn, arg);
        int bound = tl_server_port(srv);
        if (write(p[1], &bound, sizeof(bound)) != sizeof(bound))
            _exit(1);
        close(p[1]);
        event_base_dispatch(base);
        event_free(term);
        tl_server_free(srv);
        event_base_free(base);
        _exit(0);
    }
    close(p[1]);
    if (pid < 0 || read(p[0], port, sizeof(*port)) != sizeof(*port)) {
        close(p[0]);
        return -1;
    }
    close(p[0]);
    return pid;
}

/* What tests wait for and compare. */
size_t tl_server_count(const struct tl_server *srv)
{
    return srv->n;
}

/* NULL past the end, so a test that got fewer requests than it wanted does not crash. */
const struct tl_request *tl_server_request(const struct tl_server *srv, size_t i)
{
    return i < srv->n ? &srv->reqs[i] : NULL;
}

/* "" rather than NULL, so it can go straight into strcmp and printf. */
const char *tl_server_last_body(const struct tl_server *srv)
{
    return srv->n > 0 ? srv->reqs[srv->n - 1].body : "";
}

/* The room for requests stays; their contents go. */
void tl_server_clear(struct tl_server *srv)
{
    for (size_t i = 0; i < srv->n; i++) {
        struct tl_request *r = &srv->reqs[i];
        for (size_t h = 0; h < r->n_headers; h++) {
            free(r->headers[h].name);
            free(r->headers[h].value);
        }
        free(r->headers);
        free(r->method);
        free(r->path);
        free(r->body);
        cJSON_Delete(r->json);
    }
    srv->n = 0;
}

/* HTTP header names are case-insensitive (RFC 9110). */
const char *tl_request_header(const struct tl_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return "";
}

/* tl_server_wait's condition: as many requests as wanted. */
struct wait_for {
    const struct tl_server *srv;
    size_t n;
};

/* Has the server received the requests wanted? */
static bool received(void *arg)
{
    const struct wait_for *w = arg;
    return w->srv->n >= w->n;
}

/* On the server's own loop: the client under test shares it. */
bool tl_server_wait(struct tl_server *srv, size_t n, double seconds)
{
    struct wait_for w = {srv, n};
    return tl_run_until(srv->base, received, &w, seconds);
}
