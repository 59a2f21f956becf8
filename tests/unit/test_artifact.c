/*
 * alerts/artifact.c: the zip member reader on real and hostile zips made
 * here (a small zip writer below, zlib for deflate), and the fetch against
 * two loopback servers, one standing in for GitHub's API and one for the
 * storage host its 302 points to (which records any Authorization header
 * it sees, and then refuses the request).
 *
 * Hostile zips: a member whose header declares 10 GB (refused from the
 * header), one whose header declares a small size but which inflates to
 * 10 GB (reading stops one byte past the declared size), the same at the
 * limit itself, `../../x` (a name like any other: never matches, never
 * touches the disk), 10,000 members, a truncated zip, a body that is no
 * zip at all, a member stored twice, a CRC that does not match.
 */
#include "alerts/artifact.h"
#include "lib/log.h"
#include "lib/sha256.h"
#include "testlib.h"

#include <dirent.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MiB (1024 * 1024)
#define LIMIT (64 * (size_t)MiB)

/* ---- a small zip writer (PKWARE APPNOTE 6.3.x: local headers, central
 * directory, zip64 records when a size does not fit 32 bits) ---- */

struct zb {
    unsigned char *p, *cd;
    size_t len, cap, cd_len, cd_cap;
    unsigned n;
};

/* Append n bytes to a growing buffer. */
static void put(unsigned char **buf, size_t *len, size_t *cap, const void *src, size_t n)
{
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n)
            c *= 2;
        *buf = realloc(*buf, c);
        if (*buf == NULL)
            abort();
        *cap = c;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
}

/* Append a little-endian integer of `bytes` bytes. */
static void put_le(unsigned char **buf, size_t *len, size_t *cap, uint64_t v, int bytes)
{
    unsigned char b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    put(buf, len, cap, b, (size_t)bytes);
}

#define P(v, n) put_le(&z->p, &z->len, &z->cap, (v), (n))
#define C(v, n) put_le(&z->cd, &z->cd_len, &z->cd_cap, (v), (n))

/* Add a member whose data is already compressed (method 0 stored, 8
 * deflate), declaring `size` uncompressed bytes and the given CRC. */
static void zb_add(struct zb *z, const char *name, int method, const void *data, size_t comp,
                   uint64_t size, uint32_t crc)
{
    bool z64 = size >= 0xffffffffu || comp >= 0xffffffffu;
    size_t off = z->len, nl = strlen(name);
    P(0x04034b50, 4), P(z64 ? 45 : 20, 2), P(0, 2), P((uint64_t)method, 2), P(0, 2), P(0x21, 2);
    P(crc, 4), P(z64 ? 0xffffffffu : comp, 4), P(z64 ? 0xffffffffu : size, 4);
    P(nl, 2), P(z64 ? 20 : 0, 2);
    put(&z->p, &z->len, &z->cap, name, nl);
    if (z64)
        P(1, 2), P(16, 2), P(size, 8), P(comp, 8);
    put(&z->p, &z->len, &z->cap, data, comp);
    C(0x02014b50, 4), C(z64 ? 45 : 20, 2), C(z64 ? 45 : 20, 2), C(0, 2), C((uint64_t)method, 2);
    C(0, 2), C(0x21, 2), C(crc, 4), C(z64 ? 0xffffffffu : comp, 4), C(z64 ? 0xffffffffu : size, 4);
    C(nl, 2), C(z64 ? 28 : 0, 2), C(0, 2), C(0, 2), C(0, 2), C(0, 4), C(z64 ? 0xffffffffu : off, 4);
    put(&z->cd, &z->cd_len, &z->cd_cap, name, nl);
    if (z64)
        C(1, 2), C(24, 2), C(size, 8), C(comp, 8), C(off, 8);
    z->n++;
}

/* Add a member with its bytes, deflated (or stored) here. */
static void zb_add_bytes(struct zb *z, const char *name, int method, const void *data, size_t n)
{
    uint32_t crc = (uint32_t)crc32(0, data, (uInt)n);
    if (method == 0) {
        zb_add(z, name, 0, data, n, n, crc);
        return;
    }
    uLong bound = compressBound((uLong)n) + 64;
    unsigned char *out = malloc(bound);
    z_stream s = {0};
    deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    s.next_in = (unsigned char *)data;
    s.avail_in = (uInt)n;
    s.next_out = out;
    s.avail_out = (uInt)bound;
    deflate(&s, Z_FINISH);
    zb_add(z, name, 8, out, s.total_out, n, crc);
    deflateEnd(&s);
    free(out);
}

/* Central directory and end records; the zip is z->p[0..z->len), the
 * caller frees z->p. */
static void zb_finish(struct zb *z)
{
    size_t cd_off = z->len;
    put(&z->p, &z->len, &z->cap, z->cd, z->cd_len);
    /* zip64 end of central directory record and locator, always: harmless,
     * and needed whenever a member was zip64 */
    size_t e64 = z->len;
    P(0x06064b50, 4), P(44, 8), P(45, 2), P(45, 2), P(0, 4), P(0, 4);
    P(z->n, 8), P(z->n, 8), P(z->cd_len, 8), P(cd_off, 8);
    P(0x07064b50, 4), P(0, 4), P(e64, 8), P(1, 4);
    P(0x06054b50, 4), P(0, 2), P(0, 2), P(z->n > 0xffff ? 0xffff : z->n, 2);
    P(z->n > 0xffff ? 0xffff : z->n, 2), P(z->cd_len, 4), P(cd_off, 4), P(0, 2);
    free(z->cd);
    z->cd = NULL;
}

/* A raw deflate stream of `total` zero bytes, made in seconds whatever
 * the size: after a full flush the compressor's state is the same before
 * every 1 MiB of zeros, so one flushed block is repeated. */
static unsigned char *zero_stream(uint64_t total, size_t *len)
{
    static unsigned char zeros[MiB];
    unsigned char *blk[3];
    size_t blen[3];
    z_stream s = {0};
    deflateInit2(&s, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    for (int i = 0; i < 3; i++) {
        blk[i] = malloc(64 * 1024);
        s.next_in = zeros;
        s.avail_in = MiB;
        s.next_out = blk[i];
        s.avail_out = 64 * 1024;
        deflate(&s, Z_FULL_FLUSH);
        blen[i] = 64 * 1024 - s.avail_out;
    }
    /* the claim the construction rests on */
    CHECK(blen[1] == blen[2] && memcmp(blk[1], blk[2], blen[1]) == 0);
    unsigned char tail[64];
    s.next_in = zeros;
    s.avail_in = 0;
    s.next_out = tail;
    s.avail_out = sizeof(tail);
    deflate(&s, Z_FINISH);
    size_t tlen = sizeof(tail) - s.avail_out;
    deflateEnd(&s);
    uint64_t chunks = total / MiB;
    size_t n = blen[0] + (size_t)(chunks - 1) * blen[1] + tlen;
    unsigned char *out = malloc(n), *o = out;
    memcpy(o, blk[0], blen[0]), o += blen[0];
    for (uint64_t i = 1; i < chunks; i++)
        memcpy(o, blk[1], blen[1]), o += blen[1];
    memcpy(o, tail, tlen);
    for (int i = 0; i < 3; i++)
        free(blk[i]);
    *len = n;
    return out;
}

static const char BASELINE[] =
    "{\"format\": \"driftd-baseline\", \"version\": 1, \"rows\": 3, \"features\": []}\n";

/* A zip holding the run's three files, baseline.json deflated. */
static struct zb good_zip(void)
{
    struct zb z = {0};
    zb_add_bytes(&z, "model.joblib", 0, "\x80\x04joblib", 8);
    zb_add_bytes(&z, "metrics.json", 8, "{\"accuracy\": 0.97}", 18);
    zb_add_bytes(&z, "baseline.json", 8, BASELINE, sizeof(BASELINE) - 1);
    zb_finish(&z);
    return z;
}

/* Read member from z with the limit; keep the error in err. */
static int read_member(const struct zb *z, const char *member, size_t limit, char **out,
                       size_t *out_len, char *err, size_t errlen)
{
    return artifact_zip_member(z->p, z->len, member, limit, out, out_len, err, errlen);
}

/* Files and directories in dir besides . and .. */
static size_t entries(const char *dir)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    if (d != NULL)
        closedir(d);
    return n;
}

static void test_reader(void)
{
    char err[512], *out;
    size_t len;

    /* the good zip */
    struct zb z = good_zip();
    CHECKF(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == 0, "%s", err);
    CHECK(out != NULL && len == sizeof(BASELINE) - 1 && memcmp(out, BASELINE, len) == 0 &&
          out[len] == '\0');
    free(out);
    CHECK(read_member(&z, "model.joblib", LIMIT, &out, &len, err, sizeof(err)) == 0 && len == 8);
    free(out);
    /* the limit is inclusive */
    CHECKF(read_member(&z, "baseline.json", sizeof(BASELINE) - 1, &out, &len, err, sizeof(err)) ==
               0,
           "%s", err);
    free(out);
    CHECK(read_member(&z, "baseline.json", sizeof(BASELINE) - 2, &out, &len, err, sizeof(err)) ==
          -1);
    CHECKF(tl_matches(err, "^zip: member baseline.json is larger than [0-9]+ bytes"), "%s", err);
    CHECK(out == NULL);
    CHECK(read_member(&z, "Baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(strcmp(err, "zip: member Baseline.json not found (3 members)") == 0, "%s", err);

    /* truncated, at several places; and no zip at all */
    size_t cuts[] = {z.len - 1, z.len - 22, z.len / 2, 30};
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        CHECK(artifact_zip_member(z.p, cuts[i], "baseline.json", LIMIT, &out, &len, err,
                                  sizeof(err)) == -1);
        CHECKF(strncmp(err, "zip: truncated", 14) == 0, "cut at %zu: %s", cuts[i], err);
    }
    const char *html = "<html><body>Not a zip, served as application/zip</body></html>";
    CHECK(artifact_zip_member(html, strlen(html), "baseline.json", LIMIT, &out, &len, err,
                              sizeof(err)) == -1);
    CHECKF(strncmp(err, "zip: not a zip file", 19) == 0, "%s", err);
    CHECK(artifact_zip_member("", 0, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(strncmp(err, "zip: not a zip file", 19) == 0, "%s", err);
    /* the end record alone, in front of garbage: libzip's own refusal */
    unsigned char junk[64] = "PK\x05\x06";
    junk[10] = 5, junk[12] = 200;
    CHECK(artifact_zip_member(junk, 22, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) ==
          -1);
    CHECKF(strncmp(err, "zip: ", 5) == 0, "%s", err);
    free(z.p);

    /* a CRC that does not match the data */
    z = (struct zb){0};
    zb_add(&z, "baseline.json", 0, BASELINE, sizeof(BASELINE) - 1, sizeof(BASELINE) - 1,
           0x12345678);
    zb_finish(&z);
    CHECK(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(tl_matches(err, "^zip: member baseline.json: .*CRC"), "%s", err);
    free(z.p);

    /* the member twice */
    z = (struct zb){0};
    zb_add_bytes(&z, "baseline.json", 0, "{}", 2);
    zb_add_bytes(&z, "baseline.json", 0, BASELINE, sizeof(BASELINE) - 1);
    zb_finish(&z);
    CHECK(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(
        tl_matches(err, "^zip: bad zip file \\([0-9]+ bytes\\): two members have the same name$"),
        "%s", err);
    free(z.p);

    /* ../../x: a name that never matches, and reading it writes nothing */
    char *dir = tl_tmpdir("artifact");
    char sub[512], cwd[512];
    snprintf(sub, sizeof(sub), "%s/a", dir);
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(mkdir(sub, 0700) == 0 && chdir(sub) == 0);
    z = (struct zb){0};
    zb_add_bytes(&z, "../../x", 8, BASELINE, sizeof(BASELINE) - 1);
    zb_add_bytes(&z, "/tmp/x", 8, BASELINE, sizeof(BASELINE) - 1);
    zb_add_bytes(&z, "baseline.json/../../x", 8, BASELINE, sizeof(BASELINE) - 1);
    zb_finish(&z);
    CHECK(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(strcmp(err, "zip: member baseline.json not found (3 members)") == 0, "%s", err);
    CHECK(read_member(&z, "../../x", LIMIT, &out, &len, err, sizeof(err)) == 0 &&
          len == sizeof(BASELINE) - 1);
    free(out);
    CHECK(chdir(cwd) == 0);
    CHECKF(entries(dir) == 1 && entries(sub) == 0, "%zu entries in the temporary directory",
           entries(dir));
    free(z.p);
    tl_tmpdir_remove(dir);

    /* 10,000 members: refused before any is read */
    z = (struct zb){0};
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "f%05d", i);
        zb_add(&z, name, 0, "x", 1, 1, (uint32_t)crc32(0, (const unsigned char *)"x", 1));
    }
    zb_add_bytes(&z, "baseline.json", 0, BASELINE, sizeof(BASELINE) - 1);
    zb_finish(&z);
    CHECK(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(strcmp(err, "zip: 10001 members, at most 1000 are read") == 0, "%s", err);
    free(z.p);
    /* ... and ARTIFACT_MAX_MEMBERS are fine */
    z = (struct zb){0};
    for (int i = 0; i < ARTIFACT_MAX_MEMBERS - 1; i++) {
        snprintf(name, sizeof(name), "f%05d", i);
        zb_add(&z, name, 0, "x", 1, 1, (uint32_t)crc32(0, (const unsigned char *)"x", 1));
    }
    zb_add_bytes(&z, "baseline.json", 0, BASELINE, sizeof(BASELINE) - 1);
    zb_finish(&z);
    CHECKF(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == 0, "%s", err);
    free(out);
    free(z.p);

    /* zip bombs: 10 GiB of zeros deflated to about 10 MB */
    uint64_t ten_gb = 10ull << 30;
    size_t blen;
    unsigned char *bomb = zero_stream(ten_gb, &blen);
    CHECKF(blen < 16 * MiB, "the bomb is %zu bytes compressed", blen);
    /* declared 10 GB: refused from the header */
    z = (struct zb){0};
    zb_add(&z, "baseline.json", 8, bomb, blen, ten_gb, 0);
    zb_finish(&z);
    CHECK(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(strcmp(err, "zip: member baseline.json is larger than 67108864 bytes (its header says "
                       "10737418240)") == 0,
           "%s", err);
    free(z.p);
    /* declared small, inflates to 10 GB: reading stops past the declared size */
    z = (struct zb){0};
    zb_add(&z, "baseline.json", 8, bomb, blen, 1000, 0);
    zb_finish(&z);
    CHECK(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(strcmp(err, "zip: member baseline.json inflates past the 1000 bytes its header says "
                       "(reading stopped there)") == 0,
           "%s", err);
    CHECK(out == NULL);
    free(z.p);
    /* declared at the limit itself, inflates to 10 GB: at most the limit is read */
    z = (struct zb){0};
    zb_add(&z, "baseline.json", 8, bomb, blen, LIMIT, 0);
    zb_finish(&z);
    CHECK(read_member(&z, "baseline.json", LIMIT, &out, &len, err, sizeof(err)) == -1);
    CHECKF(strcmp(err, "zip: member baseline.json inflates past the 67108864 bytes its header "
                       "says (reading stopped there)") == 0,
           "%s", err);
    free(z.p);
    free(bomb);
}

/* ---- the fetch, against two loopback servers ---- */

/* What the API stand-in answers, per test. */
struct api {
    struct tl_server *srv, *storage;
    int fail_list; /* answer the next n listings with list_status */
    int list_status;
    const char *list_retry_after;
    const char *listing; /* the body of a 200 listing, %s: the download URL */
    int archive_status;  /* 302 normally */
    const unsigned char *zip;
    size_t zip_len;
    unsigned lists, archives, storage_gets, storage_auth;
};

/* The API: the listing and the archive's 302. */
static void api_respond(struct evhttp_request *req, const struct tl_request *got, void *arg)
{
    struct api *a = arg;
    struct evbuffer *out = evbuffer_new();
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    if (strstr(got->path, "/artifacts?name=") != NULL) {
        a->lists++;
        if (a->fail_list > 0) {
            a->fail_list--;
            if (a->list_retry_after)
                evhttp_add_header(h, "Retry-After", a->list_retry_after);
            evbuffer_add_printf(out, "{\"message\": \"scripted %d\"}", a->list_status);
            evhttp_send_reply(req, a->list_status, "Scripted", out);
        } else {
            char dl[256];
            snprintf(dl, sizeof(dl), "%s/repos/o/r/actions/artifacts/55/zip",
                     tl_server_url(a->srv));
            /* the listing with its one %s replaced by the download URL */
            const char *at = strstr(a->listing, "%s");
            if (at == NULL) {
                evbuffer_add(out, a->listing, strlen(a->listing));
            } else {
                evbuffer_add(out, a->listing, (size_t)(at - a->listing));
                evbuffer_add(out, dl, strlen(dl));
                evbuffer_add(out, at + 2, strlen(at + 2));
            }
            evhttp_send_reply(req, 200, "OK", out);
        }
    } else if (strcmp(got->path, "/repos/o/r/actions/artifacts/55/zip") == 0) {
        a->archives++;
        char loc[256];
        snprintf(loc, sizeof(loc), "%s/blob/55.zip?sig=abc", tl_server_url(a->storage));
        evhttp_add_header(h, "Location", loc);
        evhttp_send_reply(req, a->archive_status, "Found", out);
    } else {
        evhttp_send_reply(req, 404, "Not Found", out);
    }
    evbuffer_free(out);
}

/* The storage host: the zip, unless the request carries Authorization. */
static void storage_respond(struct evhttp_request *req, const struct tl_request *got, void *arg)
{
    struct api *a = arg;
    struct evbuffer *out = evbuffer_new();
    a->storage_gets++;
    if (tl_request_header(got, "Authorization")[0]) {
        a->storage_auth++;
        evbuffer_add_printf(out, "Authorization header sent to the storage host");
        evhttp_send_reply(req, 400, "Bad Request", out);
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                          "application/zip");
        evbuffer_add(out, a->zip, a->zip_len);
        evhttp_send_reply(req, 200, "OK", out);
    }
    evbuffer_free(out);
}

/* The outcome kept by the done callback. */
struct outcome {
    bool done, ok, permanent;
    char reason[800], sha[65], data[256];
    size_t len, zip_bytes;
    uint64_t artifact_id;
    unsigned attempts, calls;
};

static void on_done(void *arg, const struct artifact_result *r)
{
    struct outcome *o = arg;
    o->calls++;
    o->done = true;
    o->ok = r->ok;
    o->permanent = r->permanent;
    snprintf(o->reason, sizeof(o->reason), "%s", r->reason);
    snprintf(o->sha, sizeof(o->sha), "%s", r->zip_sha256);
    snprintf(o->data, sizeof(o->data), "%.*s", (int)r->len, r->data ? r->data : "");
    o->len = r->len;
    o->zip_bytes = r->zip_bytes;
    o->artifact_id = r->artifact_id;
    o->attempts = r->attempts;
}

static bool is_done(void *arg)
{
    return ((struct outcome *)arg)->done;
}

static const struct http_header HDRS[] = {{"Accept", "application/vnd.github+json"},
                                          {"Authorization", "Bearer t0k3n"},
                                          {"X-GitHub-Api-Version", "2022-11-28"}};

/* Run one fetch of baseline.json from artifact iris-c1 of run 77. */
static struct outcome fetch(struct event_base *base, struct http_client *http, struct api *a,
                            size_t max_bytes)
{
    struct outcome o = {0};
    a->lists = a->archives = a->storage_gets = a->storage_auth = 0;
    struct artifact_fetch_settings s = {
        .api_url = tl_server_url(a->srv),
        .repository = "o/r",
        .headers = HDRS,
        .n_headers = 3,
        .timeout = 10,
        .max_age = 3600,
        .run_id = 77,
        .artifact_name = "iris-c1",
        .max_bytes = max_bytes,
        .member = "baseline.json",
        .run_url = "https://github.com/o/r/actions/runs/77",
    };
    struct artifact_fetch *f = artifact_fetch_start(&s, http, base, tl_now, on_done, &o);
    CHECK(f != NULL);
    CHECK(!o.done); /* never called back before start returns */
    CHECK(tl_run_until(base, is_done, &o, 20));
    tl_run_for(base, 0.05);
    CHECK(o.calls == 1);
    return o;
}

static void test_fetch(void)
{
    struct event_base *base = event_base_new();
    struct http_client *http = http_client_new(base, "driftd/test");
    struct api a = {0};
    a.srv = tl_server_new(base);
    a.storage = tl_server_new(base);
    tl_server_respond(a.srv, api_respond, &a);
    tl_server_respond(a.storage, storage_respond, &a);
    struct zb z = good_zip();
    a.zip = z.p;
    a.zip_len = z.len;
    char sha[65];
    sha256_hex(z.p, z.len, sha);
    /* the listing is a format: %s takes the download URL */
    char fmt[1024];
    snprintf(fmt, sizeof(fmt),
             "{\"total_count\": 1, \"artifacts\": [{\"id\": 55, \"name\": \"iris-c1\", "
             "\"size_in_bytes\": %zu, \"expired\": false, \"archive_download_url\": \"%%s\", "
             "\"digest\": \"sha256:%s\"}]}",
             z.len, sha);
    a.listing = fmt;
    a.archive_status = 302;
    artifact_test_backoff_scale(0.01);

    /* success: the member, the zip's sha256; GitHub's headers to the API,
     * none to the storage host */
    struct outcome o = fetch(base, http, &a, LIMIT);
    CHECKF(o.ok && !o.permanent && strcmp(o.data, BASELINE) == 0, "ok %d: %s", o.ok, o.reason);
    CHECK(strcmp(o.sha, sha) == 0 && o.zip_bytes == z.len && o.artifact_id == 55 &&
          o.attempts == 1);
    CHECK(a.lists == 1 && a.archives == 1 && a.storage_gets == 1 && a.storage_auth == 0);
    const struct tl_request *r = tl_server_request(a.srv, 0);
    CHECK(r != NULL && strcmp(r->path, "/repos/o/r/actions/runs/77/artifacts?name=iris-c1") == 0);
    for (size_t i = 0; i < 2; i++) {
        r = tl_server_request(a.srv, i);
        CHECK(r != NULL && strcmp(tl_request_header(r, "Authorization"), "Bearer t0k3n") == 0 &&
              strcmp(tl_request_header(r, "Accept"), "application/vnd.github+json") == 0 &&
              strcmp(tl_request_header(r, "X-GitHub-Api-Version"), "2022-11-28") == 0 &&
              strcmp(tl_request_header(r, "User-Agent"), "driftd/test") == 0);
    }
    r = tl_server_request(a.storage, 0);
    CHECK(r != NULL && strcmp(r->path, "/blob/55.zip?sig=abc") == 0 &&
          !tl_request_header(r, "Authorization")[0] &&
          strcmp(tl_request_header(r, "Accept"), "application/vnd.github+json") != 0 &&
          !tl_request_header(r, "X-GitHub-Api-Version")[0] &&
          strcmp(tl_request_header(r, "User-Agent"), "driftd/test") == 0);
    tl_server_clear(a.srv);
    tl_server_clear(a.storage);

    /* no listing digest: still fine */
    char nodigest[1024];
    snprintf(nodigest, sizeof(nodigest),
             "{\"artifacts\": [{\"id\": 55, \"name\": \"iris-c1\", \"size_in_bytes\": %zu, "
             "\"expired\": false, \"archive_download_url\": \"%%s\"}]}",
             z.len);
    a.listing = nodigest;
    o = fetch(base, http, &a, LIMIT);
    CHECKF(o.ok && strcmp(o.sha, sha) == 0, "%s", o.reason);

    /* no artifact of that name: permanent, nothing downloaded */
    a.listing = "{\"total_count\": 1, \"artifacts\": [{\"id\": 9, \"name\": \"iris-c10\", "
                "\"expired\": false, \"archive_download_url\": \"%s\"}]}";
    o = fetch(base, http, &a, LIMIT);
    CHECKF(!o.ok && o.permanent && strcmp(o.reason, "run 77 has no artifact named iris-c1") == 0,
           "%s", o.reason);
    CHECK(a.archives == 0 && o.attempts == 1);
    a.listing = "{\"total_count\": 0, \"artifacts\": []}";
    o = fetch(base, http, &a, LIMIT);
    CHECK(!o.ok && o.permanent && strstr(o.reason, "no artifact named") != NULL);

    /* expired */
    a.listing = "{\"artifacts\": [{\"id\": 55, \"name\": \"iris-c1\", \"expired\": true, "
                "\"archive_download_url\": \"%s\"}]}";
    o = fetch(base, http, &a, LIMIT);
    CHECKF(!o.ok && o.permanent && strcmp(o.reason, "artifact iris-c1 of run 77 has expired") == 0,
           "%s", o.reason);
    CHECK(a.archives == 0);

    /* over max_bytes by the listing: refused before the download */
    a.listing = fmt;
    o = fetch(base, http, &a, z.len - 1);
    CHECKF(!o.ok && o.permanent && tl_matches(o.reason, "is [0-9]+ bytes, more than max_bytes"),
           "%s", o.reason);
    CHECK(a.archives == 0 && a.storage_gets == 0);

    /* over max_bytes by the bytes themselves (the listing says less) */
    a.listing = "{\"artifacts\": [{\"id\": 55, \"name\": \"iris-c1\", \"size_in_bytes\": 10, "
                "\"expired\": false, \"archive_download_url\": \"%s\"}]}";
    o = fetch(base, http, &a, z.len - 1);
    CHECKF(!o.ok && o.permanent && strstr(o.reason, "larger than") != NULL, "%s", o.reason);
    CHECK(a.storage_gets == 1 && o.attempts == 1);

    /* digest mismatch */
    char bad[1024];
    snprintf(bad, sizeof(bad),
             "{\"artifacts\": [{\"id\": 55, \"name\": \"iris-c1\", \"expired\": false, "
             "\"archive_download_url\": \"%%s\", \"digest\": \"sha256:%064d\"}]}",
             0);
    a.listing = bad;
    o = fetch(base, http, &a, LIMIT);
    CHECKF(!o.ok && o.permanent && strstr(o.reason, "does not match the listing's sha256:000") &&
               strstr(o.reason, sha) != NULL,
           "%s", o.reason);

    /* a 5xx, then a secondary rate limit with Retry-After, then success */
    a.listing = fmt;
    a.fail_list = 1;
    a.list_status = 502;
    o = fetch(base, http, &a, LIMIT);
    CHECKF(o.ok && o.attempts == 2 && a.lists == 2, "ok %d attempts %u: %s", o.ok, o.attempts,
           o.reason);
    a.fail_list = 2;
    a.list_status = 403;
    a.list_retry_after = "1";
    o = fetch(base, http, &a, LIMIT);
    CHECKF(o.ok && o.attempts == 3, "ok %d attempts %u: %s", o.ok, o.attempts, o.reason);
    a.list_retry_after = NULL;

    /* 404 and a 403 that is no rate limit: permanent at once */
    a.fail_list = 1;
    a.list_status = 404;
    o = fetch(base, http, &a, LIMIT);
    CHECKF(!o.ok && o.permanent && o.attempts == 1 &&
               strcmp(o.reason, "artifact listing of run 77: HTTP 404: scripted 404") == 0,
           "%s", o.reason);
    a.fail_list = 1;
    a.list_status = 403;
    o = fetch(base, http, &a, LIMIT);
    CHECK(!o.ok && o.permanent && o.attempts == 1);
    a.fail_list = 0;

    /* the archive answered 410 (expired meanwhile): permanent */
    a.archive_status = 410;
    o = fetch(base, http, &a, LIMIT);
    CHECKF(!o.ok && o.permanent && strstr(o.reason, "download: HTTP 410") != NULL, "%s", o.reason);
    a.archive_status = 302;

    /* a download URL off the API: the token is not sent there */
    a.listing = "{\"artifacts\": [{\"id\": 55, \"name\": \"iris-c1\", \"expired\": false, "
                "\"archive_download_url\": \"http://127.0.0.1:1/steal%s\"}]}";
    o = fetch(base, http, &a, LIMIT);
    CHECKF(!o.ok && o.permanent && strstr(o.reason, "is not under") != NULL, "%s", o.reason);

    /* a bad zip behind a good listing: the reader's message, permanent */
    a.listing = nodigest;
    const char *html = "<html>not a zip</html>";
    a.zip = (const unsigned char *)html;
    a.zip_len = strlen(html);
    o = fetch(base, http, &a, LIMIT);
    CHECKF(!o.ok && o.permanent && strstr(o.reason, "zip: not a zip file") != NULL, "%s", o.reason);
    a.zip = z.p;
    a.zip_len = z.len;

    /* the network: the API down altogether retries until max_age */
    struct outcome down = {0};
    struct artifact_fetch_settings s = {
        .api_url = "http://127.0.0.1:1",
        .repository = "o/r",
        .headers = HDRS,
        .n_headers = 3,
        .max_age = 0.005 /* the first back-off (>= 1 s, scaled to >= 0.01) passes it */,
        .run_id = 77,
        .artifact_name = "iris-c1",
        .max_bytes = LIMIT,
        .member = "baseline.json",
    };
    CHECK(artifact_fetch_start(&s, http, base, tl_now, on_done, &down) != NULL);
    CHECK(tl_run_until(base, is_done, &down, 20));
    CHECKF(!down.ok && !down.permanent && strstr(down.reason, "gave up after 1 attempts"), "%s",
           down.reason);

    /* freed while a transfer is in flight: no callback, no leak */
    struct outcome never = {0};
    a.listing = fmt;
    s.api_url = tl_server_url(a.srv);
    s.max_age = 3600;
    struct artifact_fetch *f = artifact_fetch_start(&s, http, base, tl_now, on_done, &never);
    tl_run_for(base, 0.001);
    artifact_fetch_free(f);
    tl_run_for(base, 0.2);
    CHECK(!never.done);

    free(z.p);
    tl_server_free(a.srv);
    tl_server_free(a.storage);
    http_client_free(http);
    event_base_free(base);
}

int main(void)
{
    if (getenv("TEST_VERBOSE") == NULL)
        tl_log_capture();
    test_reader();
    test_fetch();
    tl_log_stop();
    return tl_done();
}
