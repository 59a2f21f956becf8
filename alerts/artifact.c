/*
 * A run's baseline artifact: the zip member reader over libzip, and the
 * fetch (list, 302, storage host, digest, member) as a small state machine
 * on the curl multi client.
 */
#include "alerts/artifact.h"

#include "alerts/outbox.h"
#include "lib/log.h"
#include "lib/sha256.h"

#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zip.h>

#define READ_CHUNK (64 * 1024)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write one error message into the caller's buffer. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (errlen > 0)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Does the buffer hold a zip's end of central directory record anywhere
 * in its last 64 KiB + 22 bytes (where the format puts it)? Tells a
 * truncated zip from something that never was one. */
static bool has_eocd(const unsigned char *p, size_t len)
{
    size_t lo = len > 65557 ? len - 65557 : 0;
    for (size_t i = len >= 4 ? len - 4 : 0; len >= 4 && i + 1 > lo; i--) {
        if (p[i] == 'P' && p[i + 1] == 'K' && p[i + 2] == 5 && p[i + 3] == 6)
            return true;
        if (i == 0)
            break;
    }
    return false;
}

/* The message of libzip's error code, as zip_error_strerror gives it. */
static void zip_code_text(int code, char *out, size_t len)
{
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    snprintf(out, len, "%s", zip_error_strerror(&ze));
    zip_error_fini(&ze);
}

/* Read the located entry idx, whose header declares `declared` bytes (at
 * most the limit, checked before), into a malloc'd buffer, stopping one
 * byte past the declared size: a header that lies about a bomb costs no
 * more than the limit. */
static int read_entry(zip_t *za, zip_uint64_t idx, const char *member, zip_uint64_t declared,
                      char **out, size_t *out_len, char *err, size_t errlen)
{
    size_t limit = (size_t)declared;
    zip_file_t *zf = zip_fopen_index(za, idx, 0);
    if (zf == NULL) {
        set_err(err, errlen, "zip: member %s cannot be opened: %s", member,
                zip_error_strerror(zip_get_error(za)));
        return -1;
    }
    /* start at the declared size (bounded above), grow as the data comes */
    size_t cap = (size_t)declared + 1;
    if (cap < 4096)
        cap = 4096;
    char *buf = malloc(cap);
    size_t got = 0;
    int rc = -1;
    if (buf == NULL) {
        set_err(err, errlen, "zip: member %s: out of memory for %zu bytes", member, cap);
        goto done;
    }
    for (;;) {
        if (got > limit) {
            set_err(err, errlen,
                    "zip: member %s inflates past the %zu bytes its header says (reading "
                    "stopped there)",
                    member, limit);
            goto done;
        }
        if (cap - got < 2) {
            size_t ncap = cap * 2 > limit + 2 ? limit + 2 : cap * 2;
            char *p = realloc(buf, ncap);
            if (p == NULL) {
                set_err(err, errlen, "zip: member %s: out of memory for %zu bytes", member, ncap);
                goto done;
            }
            buf = p;
            cap = ncap;
        }
        /* read at most one byte past the limit: enough to know it is over */
        size_t want = cap - 1 - got;
        if (want > limit + 1 - got)
            want = limit + 1 - got;
        if (want > READ_CHUNK * 16)
            want = READ_CHUNK * 16;
        zip_int64_t n = zip_fread(zf, buf + got, want);
        if (n < 0) {
            set_err(err, errlen, "zip: member %s: %s (after %zu bytes)", member,
                    zip_error_strerror(zip_file_get_error(zf)), got);
            goto done;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    if (got != declared) {
        set_err(err, errlen, "zip: member %s holds %zu bytes, its header says %llu", member, got,
                (unsigned long long)declared);
        goto done;
    }
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    buf = NULL;
    rc = 0;
done:
    free(buf);
    zip_fclose(zf);
    return rc;
}

int artifact_zip_member(const void *zip, size_t len, const char *member, size_t max_size,
                        char **out, size_t *out_len, char *err, size_t errlen)
{
    *out = NULL;
    *out_len = 0;
    if (errlen > 0)
        err[0] = '\0';
    const unsigned char *p = zip;
    if (len < 22) {
        set_err(err, errlen, "zip: not a zip file (%zu bytes)", len);
        return -1;
    }
    bool local_sig = p[0] == 'P' && p[1] == 'K' && p[2] == 3 && p[3] == 4;
    if (!has_eocd(p, len)) {
        if (local_sig)
            set_err(err, errlen,
                    "zip: truncated (%zu bytes start like a zip but hold no end of central "
                    "directory)",
                    len);
        else
            set_err(err, errlen, "zip: not a zip file (no end of central directory in %zu bytes)",
                    len);
        return -1;
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(zip, len, 0, &ze);
    if (src == NULL) {
        set_err(err, errlen, "zip: cannot read %zu bytes from memory: %s", len,
                zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    /* ZIP_CHECKCONS: local headers must agree with the central directory,
     * so that a member cannot look small in one and be large in the other */
    zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &ze);
    if (za == NULL) {
        int code = zip_error_code_zip(&ze);
        char why[128];
        zip_code_text(code, why, sizeof(why));
        if (code == ZIP_ER_NOZIP && local_sig)
            set_err(err, errlen,
                    "zip: truncated (%zu bytes start like a zip but end in no valid end of "
                    "central directory)",
                    len);
        else if (code == ZIP_ER_EXISTS) /* libzip's words for it: "File already exists" */
            set_err(err, errlen, "zip: bad zip file (%zu bytes): two members have the same name",
                    len);
        else if (code == ZIP_ER_NOZIP)
            set_err(err, errlen, "zip: not a zip file (%zu bytes)", len);
        else if (code == ZIP_ER_EOF || code == ZIP_ER_READ || code == ZIP_ER_SEEK)
            set_err(err, errlen, "zip: truncated (%zu bytes): %s", len, why);
        else
            set_err(err, errlen, "zip: bad zip file (%zu bytes): %s", len, why);
        zip_source_free(src);
        zip_error_fini(&ze);
        return -1;
    }
    zip_error_fini(&ze);
    int rc = -1;
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n < 0 || n > ARTIFACT_MAX_MEMBERS) {
        set_err(err, errlen, "zip: %lld members, at most %d are read", (long long)n,
                ARTIFACT_MAX_MEMBERS);
        goto done;
    }
    /* the name as stored, byte for byte; a name found twice is refused
     * rather than guessed between */
    zip_int64_t found = -1;
    size_t matches = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (name != NULL && strcmp(name, member) == 0) {
            if (found < 0)
                found = i;
            matches++;
        }
    }
    if (found < 0) {
        set_err(err, errlen, "zip: member %s not found (%lld members)", member, (long long)n);
        goto done;
    }
    if (matches > 1) {
        set_err(err, errlen, "zip: member %s appears %zu times", member, matches);
        goto done;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, (zip_uint64_t)found, ZIP_FL_ENC_RAW, &st) != 0 ||
        !(st.valid & ZIP_STAT_SIZE)) {
        set_err(err, errlen, "zip: member %s: no size in its header: %s", member,
                zip_error_strerror(zip_get_error(za)));
        goto done;
    }
    if (st.size > max_size) {
        set_err(err, errlen, "zip: member %s is larger than %zu bytes (its header says %llu)",
                member, max_size, (unsigned long long)st.size);
        goto done;
    }
    rc = read_entry(za, (zip_uint64_t)found, member, st.size, out, out_len, err, errlen);
done:
    zip_discard(za); /* frees src too */
    return rc;
}

/* ---- the fetch ---- */

enum fetch_step { STEP_LIST, STEP_ARCHIVE, STEP_STORAGE };

struct artifact_fetch {
    struct http_client *http;
    double (*now)(void);
    artifact_done_fn done;
    void *arg;
    struct event *timer; /* the next attempt */
    gsl_rng *rng;        /* the back-off's jitter */
    /* settings, copied */
    char *api_url, *repository, *ca_file, *artifact_name, *member, *run_url;
    const struct http_header *headers;
    size_t n_headers;
    double timeout, max_age;
    uint64_t run_id;
    size_t max_bytes;
    /* progress */
    enum fetch_step step;
    double started;
    unsigned attempts;
    bool in_flight;
    uint64_t artifact_id;
    char digest[80]; /* "sha256:<hex>" from the listing, or "" */
    char sha256[SHA256_HEX_LEN + 1];
    size_t zip_bytes;
    char *url; /* of the request in flight */
};

static double backoff_scale = 1.0;

void artifact_test_backoff_scale(double scale)
{
    backoff_scale = scale;
}

void artifact_fetch_free(struct artifact_fetch *f)
{
    if (f == NULL)
        return;
    if (f->in_flight)
        http_client_cancel(f->http, f);
    if (f->timer != NULL)
        event_free(f->timer);
    if (f->rng != NULL)
        gsl_rng_free(f->rng);
    free(f->api_url);
    free(f->repository);
    free(f->ca_file);
    free(f->artifact_name);
    free(f->member);
    free(f->run_url);
    free(f->url);
    free(f);
}

/* Call done with the outcome, then free the fetch. */
static void finish(struct artifact_fetch *f, bool ok, bool permanent, const char *reason,
                   const char *data, size_t len)
{
    struct artifact_result r = {
        .ok = ok,
        .permanent = !ok && permanent,
        .reason = reason ? reason : "",
        .data = ok ? data : NULL,
        .len = ok ? len : 0,
        .run_id = f->run_id,
        .artifact_id = f->artifact_id,
        .artifact_name = f->artifact_name,
        .member = f->member,
        .zip_sha256 = f->sha256,
        .digest = f->digest,
        .run_url = f->run_url,
        .zip_bytes = f->zip_bytes,
        .attempts = f->attempts,
    };
    if (ok)
        log_notice("artifact: %s of run %llu: member %s, %zu bytes, zip sha256 %s (%u attempts)",
                   f->artifact_name, (unsigned long long)f->run_id, f->member, len, f->sha256,
                   f->attempts);
    else
        log_err("artifact: %s of run %llu: %s", f->artifact_name, (unsigned long long)f->run_id,
                r.reason);
    f->done(f->arg, &r);
    artifact_fetch_free(f);
}

static void fail(struct artifact_fetch *f, bool permanent, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fail for good (permanent), or schedule the next attempt from the
 * listing (a download URL is valid for a minute only) after the back-off
 * of docs/integrations.md, or at least `wait` seconds (a rate limit); past
 * max_age a transient failure is final too. */
static void retry_or_fail(struct artifact_fetch *f, bool permanent, double wait, const char *why)
{
    if (permanent) {
        finish(f, false, true, why, NULL, 0);
        return;
    }
    double delay = outbox_backoff(f->attempts, gsl_rng_uniform(f->rng));
    if (!isnan(wait) && wait > delay)
        delay = wait;
    delay *= backoff_scale;
    if (f->now() + delay - f->started > f->max_age) {
        char msg[700];
        snprintf(msg, sizeof(msg), "%s; gave up after %u attempts", why, f->attempts);
        finish(f, false, false, msg, NULL, 0);
        return;
    }
    log_warn("artifact: %s of run %llu: %s; retrying in %.1f s", f->artifact_name,
             (unsigned long long)f->run_id, why, delay);
    struct timeval tv = {(time_t)delay, (suseconds_t)((delay - floor(delay)) * 1e6)};
    f->step = STEP_LIST;
    evtimer_add(f->timer, &tv);
}

/* Format the reason and go to retry_or_fail without a least wait. */
static void fail(struct artifact_fetch *f, bool permanent, const char *fmt, ...)
{
    char msg[700];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    retry_or_fail(f, permanent, NAN, msg);
}

/* GitHub's message from an error body ({"message": ...}), else the start
 * of the body, on one line. */
static void answer_text(const struct http_response *res, char *out, size_t len)
{
    cJSON *j = res->body_len ? cJSON_ParseWithLength(res->body, res->body_len) : NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    if (res->status == 0 || res->too_large)
        snprintf(out, len, "%s", res->error ? res->error : "no answer");
    else if (cJSON_IsString(m))
        snprintf(out, len, "HTTP %ld: %s", res->status, m->valuestring);
    else
        snprintf(out, len, "HTTP %ld%s%.120s", res->status, res->body_len ? ": " : "",
                 res->body_len ? res->body : "");
    cJSON_Delete(j);
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || (unsigned char)*p < 0x20)
            *p = ' ';
}

/* A failed answer from GitHub or the storage host: network errors, 408,
 * 429, 5xx and GitHub's rate limits (403/429 with x-ratelimit-remaining 0,
 * Retry-After, or "rate limit" in the body) are retried, and so is the
 * storage host's 403 (its signed URL expired: the next attempt asks
 * GitHub for a new one); the rest (404, 410, 401, other 4xx) are
 * permanent. */
static void judge(struct artifact_fetch *f, const char *what, const struct http_response *res)
{
    bool storage_403 = f->step == STEP_STORAGE && res->status == 403;
    char msg[400], why[600];
    answer_text(res, msg, sizeof(msg));
    snprintf(why, sizeof(why), "%s: %s", what, msg);
    long st = res->status;
    double wait = NAN;
    bool limited = false;
    if (st == 403 || st == 429) {
        if (res->ratelimit_remaining == 0 && !isnan(res->ratelimit_reset)) {
            wait = res->ratelimit_reset - f->now() + 1;
            limited = true;
        } else if (!isnan(res->retry_after)) {
            wait = res->retry_after;
            limited = true;
        } else if (st == 429 || (res->body_len && strcasestr(res->body, "rate limit") != NULL)) {
            wait = 60;
            limited = true;
        }
    }
    bool transient =
        !res->too_large && (limited || storage_403 || st == 0 || st == 408 || st >= 500);
    retry_or_fail(f, !transient, wait, why);
}

/* name with everything but RFC 3986's unreserved characters %-encoded. */
static void url_encode(const char *s, char *out, size_t len)
{
    size_t o = 0;
    for (; *s && o + 4 < len; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            out[o++] = (char)c;
        else
            o += (size_t)snprintf(out + o, len - o, "%%%02X", c);
    }
    out[o] = '\0';
}

static void on_answer(void *arg, const struct http_response *res);

/* Send a GET of url for the current step: GitHub's headers to GitHub,
 * none but curl's own (and the User-Agent) to the storage host. */
static void send_get(struct artifact_fetch *f, const char *url, size_t max_body)
{
    char *copy = strdup(url);
    if (copy == NULL) {
        fail(f, false, "out of memory");
        return;
    }
    free(f->url);
    f->url = copy;
    bool to_github = f->step != STEP_STORAGE;
    struct http_request req = {
        .method = "GET",
        .url = f->url,
        .headers = to_github ? f->headers : NULL,
        .n_headers = to_github ? f->n_headers : 0,
        .timeout = f->timeout,
        .ca_file = f->ca_file,
        .max_body = max_body,
    };
    if (http_client_send(f->http, &req, on_answer, f) != 0) {
        fail(f, false, "cannot start the request to %s",
             f->step == STEP_STORAGE ? "the storage host" : f->url);
        return;
    }
    f->in_flight = true;
}

/* An attempt from the start: list the run's artifacts by name. */
static void on_attempt(evutil_socket_t fd, short what, void *arg)
{
    struct artifact_fetch *f = arg;
    (void)fd, (void)what;
    f->attempts++;
    f->step = STEP_LIST;
    f->artifact_id = 0;
    f->digest[0] = f->sha256[0] = '\0';
    f->zip_bytes = 0;
    char name[768], url[2048];
    url_encode(f->artifact_name, name, sizeof(name));
    snprintf(url, sizeof(url), "%s/repos/%s/actions/runs/%llu/artifacts?name=%s", f->api_url,
             f->repository, (unsigned long long)f->run_id, name);
    send_get(f, url, ARTIFACT_LISTING_MAX);
}

/* The listing: pick the artifact of that exact name (the newest, by id,
 * when there are several), check it, and ask for its archive. */
static void on_listing(struct artifact_fetch *f, const struct http_response *res)
{
    cJSON *j = cJSON_ParseWithLength(res->body, res->body_len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "artifacts"), *a, *pick = NULL;
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(j);
        fail(f, false, "artifact listing of run %llu: not a JSON object with \"artifacts\"",
             (unsigned long long)f->run_id);
        return;
    }
    size_t expired = 0;
    double best = -1;
    cJSON_ArrayForEach(a, list)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(a, "name");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        if (!cJSON_IsString(name) || strcmp(name->valuestring, f->artifact_name) != 0 ||
            !cJSON_IsNumber(id))
            continue;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "expired"))) {
            expired++;
            continue;
        }
        if (id->valuedouble > best) {
            best = id->valuedouble;
            pick = a;
        }
    }
    if (pick == NULL) {
        cJSON_Delete(j);
        if (expired)
            fail(f, true, "artifact %s of run %llu has expired", f->artifact_name,
                 (unsigned long long)f->run_id);
        else
            fail(f, true, "run %llu has no artifact named %s", (unsigned long long)f->run_id,
                 f->artifact_name);
        return;
    }
    f->artifact_id = (uint64_t)best;
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(pick, "size_in_bytes");
    const cJSON *digest = cJSON_GetObjectItemCaseSensitive(pick, "digest");
    const cJSON *dl = cJSON_GetObjectItemCaseSensitive(pick, "archive_download_url");
    if (cJSON_IsString(digest) && strncmp(digest->valuestring, "sha256:", 7) == 0)
        snprintf(f->digest, sizeof(f->digest), "%s", digest->valuestring);
    if (cJSON_IsNumber(size) && size->valuedouble > (double)f->max_bytes) {
        fail(f, true, "artifact %s (id %llu) is %.0f bytes, more than max_bytes %zu",
             f->artifact_name, (unsigned long long)f->artifact_id, size->valuedouble, f->max_bytes);
        cJSON_Delete(j);
        return;
    }
    /* the token goes with this request: only to the API we were given */
    size_t ul = strlen(f->api_url);
    if (!cJSON_IsString(dl) || strncmp(dl->valuestring, f->api_url, ul) != 0 ||
        dl->valuestring[ul] != '/') {
        fail(f, true, "artifact %s (id %llu): archive_download_url %.200s is not under %s",
             f->artifact_name, (unsigned long long)f->artifact_id,
             cJSON_IsString(dl) ? dl->valuestring : "(none)", f->api_url);
        cJSON_Delete(j);
        return;
    }
    char url[2048];
    snprintf(url, sizeof(url), "%s", dl->valuestring);
    cJSON_Delete(j);
    f->step = STEP_ARCHIVE;
    /* a 302 is expected; a server that streams the zip itself is served
     * with the same limit */
    send_get(f, url, f->max_bytes);
}

/* The zip itself: size, digest, then the member. */
static void on_zip(struct artifact_fetch *f, const struct http_response *res)
{
    f->zip_bytes = res->body_len;
    sha256_hex(res->body, res->body_len, f->sha256);
    if (f->digest[0] && strcasecmp(f->digest + 7, f->sha256) != 0) {
        fail(f, true, "artifact %s (id %llu): zip sha256 %s does not match the listing's %s",
             f->artifact_name, (unsigned long long)f->artifact_id, f->sha256, f->digest);
        return;
    }
    char *data = NULL, err[400];
    size_t len = 0;
    if (artifact_zip_member(res->body, res->body_len, f->member, f->max_bytes, &data, &len, err,
                            sizeof(err)) != 0) {
        fail(f, true, "artifact %s (id %llu, %zu bytes): %s", f->artifact_name,
             (unsigned long long)f->artifact_id, res->body_len, err);
        return;
    }
    finish(f, true, false, NULL, data, len);
    free(data);
}

/* One answer, for whichever step is in flight. */
static void on_answer(void *arg, const struct http_response *res)
{
    struct artifact_fetch *f = arg;
    f->in_flight = false;
    char what[128];
    switch (f->step) {
    case STEP_LIST:
        if (res->status == 200 && !res->too_large) {
            on_listing(f, res);
            return;
        }
        snprintf(what, sizeof(what), "artifact listing of run %llu", (unsigned long long)f->run_id);
        judge(f, what, res);
        return;
    case STEP_ARCHIVE:
        if (res->status >= 301 && res->status <= 308 && res->status != 304 && res->location) {
            if (strncasecmp(res->location, "http://", 7) != 0 &&
                strncasecmp(res->location, "https://", 8) != 0) {
                fail(f, true, "artifact %s (id %llu): redirect to %.100s, not http(s)",
                     f->artifact_name, (unsigned long long)f->artifact_id, res->location);
                return;
            }
            f->step = STEP_STORAGE;
            send_get(f, res->location, f->max_bytes);
            return;
        }
        if (res->status == 200 && !res->too_large) {
            on_zip(f, res);
            return;
        }
        snprintf(what, sizeof(what), "artifact %s (id %llu) download", f->artifact_name,
                 (unsigned long long)f->artifact_id);
        judge(f, what, res);
        return;
    case STEP_STORAGE:
        if (res->status == 200 && !res->too_large) {
            on_zip(f, res);
            return;
        }
        snprintf(what, sizeof(what), "artifact %s (id %llu) from the storage host",
                 f->artifact_name, (unsigned long long)f->artifact_id);
        if (res->too_large) {
            fail(f, true, "%s: larger than max_bytes %zu", what, f->max_bytes);
            return;
        }
        judge(f, what, res);
        return;
    }
}

struct artifact_fetch *artifact_fetch_start(const struct artifact_fetch_settings *s,
                                            struct http_client *http, struct event_base *base,
                                            double (*now)(void), artifact_done_fn done, void *arg)
{
    if (s->api_url == NULL || s->repository == NULL || s->artifact_name == NULL ||
        s->member == NULL || s->max_bytes == 0 || done == NULL)
        return NULL;
    struct artifact_fetch *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->http = http;
    f->now = now;
    f->done = done;
    f->arg = arg;
    f->api_url = strdup(s->api_url);
    f->repository = strdup(s->repository);
    f->ca_file = s->ca_file ? strdup(s->ca_file) : NULL;
    f->artifact_name = strdup(s->artifact_name);
    f->member = strdup(s->member);
    f->run_url = strdup(s->run_url ? s->run_url : "");
    f->headers = s->headers;
    f->n_headers = s->n_headers;
    f->timeout = s->timeout > 0 ? s->timeout : 60;
    f->max_age = s->max_age > 0 ? s->max_age : 24 * 3600.0;
    f->run_id = s->run_id;
    f->max_bytes = s->max_bytes;
    f->started = now();
    f->timer = evtimer_new(base, on_attempt, f);
    f->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (f->api_url == NULL || f->repository == NULL || (s->ca_file && f->ca_file == NULL) ||
        f->artifact_name == NULL || f->member == NULL || f->run_url == NULL || f->timer == NULL ||
        f->rng == NULL) {
        artifact_fetch_free(f);
        return NULL;
    }
    gsl_rng_set(f->rng, (unsigned long)(now() * 1000) ^ (unsigned long)getpid());
    /* the first attempt from the loop, like every later one: done is
     * never called before this function returns */
    struct timeval zero = {0, 0};
    evtimer_add(f->timer, &zero);
    return f;
}
