/*
 * libFuzzer target: the http source's body handler (agent/in_http.c
 * in_http_ingest) of a real daemon (daemon_new on a temporary state
 * directory, a two-feature baseline, windows of 200 records so windows close
 * and evaluate while fuzzing; the event loop never runs, no socket is bound). The first byte
 * picks the Content-Type and validate mode, the rest is the body:
 *   bits 0-1: 0 or 3 NDJSON, 1 JSON, 2 CSV; bit 2: validate: sampled;
 *   bit 3 (NDJSON, sampled): fed in chunks through source_feed_sampled, as
 *   a tail input reads a file, chunk sizes from bits 4-7; otherwise bits
 *   4-7 cut the body into pieces of 3*k bytes (0: one), as an evbuffer
 *   hands it over.
 * Every input whose length is a multiple of 4 first reloads the daemon,
 * alternating between two configurations (the second tests petal_width
 * with hellinger, whose binning must survive any finite range) and two
 * baselines, the old one freed; after each body /v1/status and /metrics
 * are rendered, so nothing they print may point into a freed baseline.
 * Checks: the status is 202, 400 or 422 (202 exactly when a record was
 * accepted); the answer is JSON whose counts match the input's counters;
 * every non-blank NDJSON line is one record, accepted or rejected, whether
 * it was parsed or counted by its newline.
 */
#include "agent/api.h"
#include "agent/daemon.h"
#include "agent/in_http.h"
#include "lib/log.h"

#include "fuzz_check.h"

#include <cJSON.h>
#include <event2/event.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct daemon *d;
static struct source *in; /* the http source */
static char dir[] = "/tmp/driftd-fuzz-ingest.XXXXXX";

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void cleanup(void)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    FUZZ_CHECK(f != NULL);
    FUZZ_CHECK(fputs(text, f) >= 0);
    FUZZ_CHECK(fclose(f) == 0);
}

static char base_path[256], cfg_path[256];
static unsigned generation;

/* The configuration and baseline of a generation; the odd ones test
 * petal_width with hellinger, and their baseline has more distinct values. */
static void write_generation(unsigned g)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"model\": \"fuzz\", \"baseline\": \"%s\", \"state_dir\": \"%s/state\",\n"
             " \"listen\": \"127.0.0.1:0\", \"inputs\": [{\"type\": \"http\"}],\n"
             " \"window\": {\"records\": 200, \"seconds\": 3600, \"min_records\": 10,"
             " \"sample\": 40},\n%s \"alerts\": {\"sinks\": [{\"type\": \"log\"}]}}\n",
             base_path, dir,
             g % 2 ? " \"features\": {\"overrides\": {\"petal_width\": {\"test\": "
                     "\"hellinger\"}}},\n"
                   : "");
    write_text(cfg_path, text);
    write_text(base_path, g % 2 ? fuzz_baseline_text_wide : fuzz_baseline_text);
}

/* At exit: a window may still be under evaluation on the worker thread
 * (the loop that would finish it never runs here); join it and free all,
 * so that LeakSanitizer does not find its report half made. */
static void teardown(void)
{
    daemon_free(d);
}

static void setup(void)
{
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    snprintf(base_path, sizeof(base_path), "%s/base.json", dir);
    snprintf(cfg_path, sizeof(cfg_path), "%s/driftd.json", dir);
    write_generation(0);
    log_set_level(LOG_ERR);
    struct event_base *eb = event_base_new();
    FUZZ_CHECK(eb != NULL);
    FUZZ_CHECK((d = daemon_new(eb, cfg_path)) != NULL);
    FUZZ_CHECK((in = daemon_source_of(d, &in_http_ops)) != NULL);
    atexit(teardown); /* runs before cleanup removes the directory */
}

/* A reload to the next generation: the old baseline and config are freed. */
static void reload(void)
{
    struct errlist errs = {0};
    write_generation(++generation);
    FUZZ_CHECK(daemon_reload(d, &errs) == 0);
    errlist_free(&errs);
}

/* /v1/status and /metrics as the API renders them: every feature label is
 * one of the running baseline's names. */
static void render(void)
{
    struct sbuf s;
    struct daemon_snapshot v;
    daemon_snapshot(d, &v);
    sbuf_init(&s);
    api_status_json(NULL, &v, &s);
    FUZZ_CHECK(!sbuf_failed(&s));
    sbuf_free(&s);
    sbuf_init(&s);
    api_metrics_text(NULL, &v, &s);
    FUZZ_CHECK(!sbuf_failed(&s));
    const char *p = s.data;
    while ((p = strstr(p, "feature=\"")) != NULL) {
        p += 9;
        FUZZ_CHECK(strncmp(p, "petal_width\"", 12) == 0 || strncmp(p, "species\"", 8) == 0);
    }
    sbuf_free(&s);
}

/* NDJSON lines holding anything but blanks (the reader's and the sampled
 * path's notion of a record). */
static uint64_t nonblank_lines(const uint8_t *p, size_t n)
{
    uint64_t lines = 0;
    bool blank = true;
    size_t i = 0;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3; /* a UTF-8 BOM opening the input is not content */
    for (; i < n; i++) {
        if (p[i] == '\n') {
            lines += !blank;
            blank = true;
        } else if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            blank = false;
        }
    }
    return lines + !blank;
}

/* The tail path: the same input in chunks through source_feed_sampled. */
struct chunked {
    struct colmap colmap;
    uint64_t records, errors;
};

static int ch_column(void *arg, size_t index, const char *name, size_t len)
{
    struct chunked *c = arg;
    return source_map_column(in, &c->colmap, index, name, len);
}

static void ch_record(void *arg, const struct reader_record *rec)
{
    struct chunked *c = arg;
    c->records++;
    source_record(in, &c->colmap, rec, false, NULL);
}

static void ch_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                     const char *msg)
{
    struct chunked *c = arg;
    (void)line, (void)index, (void)msg;
    c->errors++;
    source_reject(in, code);
}

static void feed_chunked(const char *body, size_t len, unsigned step)
{
    struct chunked c = {0};
    struct reader_ops ops = {ch_column, ch_record, ch_error};
    struct reader *r = reader_new(READER_NDJSON, NULL, &ops, &c);
    FUZZ_CHECK(r != NULL);
    uint64_t before = in->records + in->rejected;
    uint64_t unread = 0;
    bool partial = false;
    for (size_t off = 0, i = 0; off < len; i++) {
        size_t n = 1 + (i * 7 + step) % (step * 5 + 3);
        if (n > len - off)
            n = len - off;
        unread += source_feed_sampled(in, r, body + off, n, &partial);
        off += n;
    }
    reader_finish(r);
    reader_free(r);
    colmap_free(&c.colmap);
    uint64_t counted = in->records + in->rejected - before;
    FUZZ_CHECK(counted == c.records + c.errors + unread);
    FUZZ_CHECK(counted == nonblank_lines((const uint8_t *)body, len));
}

static uint64_t number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    FUZZ_CHECK(cJSON_IsNumber(v) && v->valuedouble >= 0);
    return (uint64_t)v->valuedouble;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (d == NULL)
        setup();
    if (size < 1)
        return 0;
    if (size % 4 == 0)
        reload();
    unsigned mode = data[0];
    enum body_kind kind = (mode & 3) == 1 ? BODY_JSON : (mode & 3) == 2 ? BODY_CSV : BODY_NDJSON;
    bool sampled = (mode & 4) != 0;
    /* the running configuration's row, changed in place (a test's liberty) */
    ((struct input_conf *)in->conf)->validate = sampled ? VALIDATE_SAMPLED : VALIDATE_FULL;
    size_t len = size - 1;
    char *body = malloc(len ? len : 1); /* exactly the body: ASan sees overreads */
    FUZZ_CHECK(body != NULL);
    memcpy(body, data + 1, len);

    if (kind == BODY_NDJSON && sampled && (mode & 8)) {
        feed_chunked(body, len, mode >> 4);
        free(body);
        render();
        return 0;
    }
    uint64_t rec0 = in->records, rej0 = in->rejected;
    struct sbuf out;
    sbuf_init(&out);
    /* the body in pieces, as an evbuffer holds it (JSON: whole) */
    struct evbuffer_iovec seg[64];
    size_t nseg = 0, piece = kind == BODY_JSON || (mode >> 4) == 0 ? len : (mode >> 4) * 3u;
    for (size_t off = 0; off < len; nseg++) {
        size_t n = nseg == 63 || piece > len - off ? len - off : piece;
        seg[nseg] = (struct evbuffer_iovec){body + off, n};
        off += n;
    }
    int status = in_http_ingest(in, kind, 0, seg, nseg, &out);
    FUZZ_CHECK(status == 202 || status == 400 || status == 422);
    cJSON *ans = cJSON_ParseWithLength(out.data, out.len);
    FUZZ_CHECK(ans != NULL && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(ans, "errors")));
    uint64_t accepted = number(ans, "accepted"), rejected = number(ans, "rejected"),
             checked = number(ans, "checked");
    FUZZ_CHECK(accepted == in->records - rec0);
    FUZZ_CHECK(rejected == in->rejected - rej0);
    FUZZ_CHECK(checked <= accepted + rejected && checked >= rejected);
    FUZZ_CHECK((status == 202) == (accepted > 0));
    if (kind == BODY_NDJSON) {
        FUZZ_CHECK(accepted + rejected == nonblank_lines(data + 1, len));
        if (!sampled)
            FUZZ_CHECK(checked == accepted + rejected);
    }
    cJSON_Delete(ans);
    sbuf_free(&out);
    free(body);
    render();
    return 0;
}
