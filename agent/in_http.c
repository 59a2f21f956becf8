/*
 * The http source: POST /v1/ingest bodies (NDJSON, JSON, CSV), read by
 * the api (agent/api.c), which checks the request and hands the body here.
 * NDJSON and JSON bodies go through one reader kept from request to
 * request with its column map; a CSV body's columns are its header's.
 */
#include "agent/in_http.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_REPORTED_ERRORS 10

enum body_kind in_http_body_kind(const char *ct)
{
    if (ct == NULL)
        return BODY_UNKNOWN;
    size_t n = strcspn(ct, "; \t");
    struct {
        const char *name;
        enum body_kind k;
    } m[] = {{"application/x-ndjson", BODY_NDJSON},
             {"application/jsonl", BODY_NDJSON},
             {"application/x-jsonlines", BODY_NDJSON},
             {"application/json", BODY_JSON},
             {"text/csv", BODY_CSV}};
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (strlen(m[i].name) == n && strncasecmp(ct, m[i].name, n) == 0)
            return m[i].k;
    return BODY_UNKNOWN;
}

/* One ingest request. NDJSON and JSON bodies go through the http input's
 * reader, kept from request to request with its column map (in->colmap):
 * a client's keys are looked up in the baseline once, not per request. A
 * CSV body's columns are its header's: a reader and a map of its own. */
struct ingest {
    struct source *in;
    bool csv;
    struct colmap colmap; /* CSV */
    size_t cap;
    uint64_t accepted, rejected;
    struct sbuf errors;
    unsigned nerrors;
    uint64_t no_feature;   /* records none of whose columns is a feature */
    uint64_t *type_errors; /* per baseline feature, or NULL: none yet */
    struct sbuf examples;  /* the first type errors of each feature, as JSON */
    unsigned nexamples;
};

/* Type errors shown per feature in the answer; the rest are counted. */
#define TYPE_ERRORS_SHOWN 3

/* A kept reader is renewed when it knows more columns than this: keys seen
 * once (a misbehaving client) must not pile up. */
#define HTTP_READER_MAX_COLUMNS 256

static int ingest_column(void *arg, size_t index, const char *name, size_t len)
{
    struct ingest *g = arg;
    if (g->csv)
        return source_map_column(g->in, &g->colmap, index, name, len);
    return source_map_column(g->in, &g->in->colmap, index, name, len);
}

/* One entry of the answer's errors (the first MAX_REPORTED_ERRORS);
 * record 0 is a CSV header. */
static void add_error(struct ingest *g, uint64_t index, const char *msg)
{
    if (g->nerrors >= MAX_REPORTED_ERRORS)
        return;
    sbuf_printf(&g->errors, "%s{\"record\": %llu, \"error\": ", g->nerrors ? ", " : "",
                (unsigned long long)index);
    sbuf_add_json_string(&g->errors, msg, strlen(msg));
    sbuf_addc(&g->errors, '}');
    g->nerrors++;
}

/* One type error of an accepted record (window_add tells it): counted per
 * feature, and the first few of each kept with their place for the answer. */
static void ingest_type_error(void *arg, const struct reader_record *rec, size_t i, size_t f)
{
    struct ingest *g = arg;
    const struct stats_baseline *b = source_baseline(g->in);
    if (g->type_errors == NULL &&
        (g->type_errors = calloc(b->nfeatures, sizeof(*g->type_errors))) == NULL)
        return;
    if (g->type_errors[f]++ >= TYPE_ERRORS_SHOWN || g->nexamples >= 50)
        return;
    sbuf_printf(&g->examples, "%s{\"record\": %llu, ", g->nexamples++ ? ", " : "",
                (unsigned long long)rec->index);
    if (g->csv)
        sbuf_printf(&g->examples, "\"column\": %zu, ", i + 1);
    sbuf_adds(&g->examples, "\"feature\": ");
    sbuf_add_json_string(&g->examples, b->features[f].name, strlen(b->features[f].name));
    sbuf_adds(&g->examples, ", \"value\": ");
    const struct cell *c = &rec->cells[i];
    if (c->type == CELL_TEXT)
        sbuf_add_json_string(&g->examples, c->str, c->len < 40 ? c->len : 40);
    else
        sbuf_adds(&g->examples, "null"); /* a nested JSON value */
    sbuf_addc(&g->examples, '}');
}

static void ingest_record(void *arg, const struct reader_record *rec)
{
    struct ingest *g = arg;
    const struct colmap *map = g->csv ? &g->colmap : &g->in->colmap;
    const struct window_type_errors te = {ingest_type_error, g};
    if (source_record(g->in, map, rec, g->csv, &te)) {
        g->accepted++;
        return;
    }
    g->rejected++;
    g->no_feature++;
    add_error(g, rec->index, "none of its columns is a feature of the baseline");
}

static void ingest_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                         const char *msg)
{
    struct ingest *g = arg;
    (void)line;
    if (index > 0) { /* else a CSV header problem, not a record */
        g->rejected++;
        source_reject(g->in, code);
    }
    add_error(g, index, msg);
}

/* The members of a 422: the baseline's features and the columns the body's
 * reader met that are none of them (at most 50 of each). */
static void no_feature_members(const struct source *in, const struct reader *r, struct sbuf *out)
{
    const struct stats_baseline *b = source_baseline(in);
    sbuf_adds(out, ", \"error\": \"none of the body's columns is a feature of the baseline\", "
                   "\"expected\": [");
    for (size_t i = 0; i < b->nfeatures && i < 50; i++) {
        sbuf_adds(out, i ? ", " : "");
        sbuf_add_json_string(out, b->features[i].name, strlen(b->features[i].name));
    }
    sbuf_adds(out, "], \"found\": [");
    for (size_t i = 0, n = 0; i < reader_ncolumns(r) && n < 50; i++) {
        const char *name = reader_column_name(r, i);
        if (name == NULL || stats_baseline_find(b, name) >= 0)
            continue;
        sbuf_adds(out, n++ ? ", " : "");
        sbuf_add_json_string(out, name, strlen(name));
    }
    sbuf_adds(out, "]");
}

/* One JSON value of a body as one NDJSON line (cJSON escapes newlines
 * inside strings), so the JSON and NDJSON paths check records alike. */
static void ingest_json_value(struct ingest *g, struct reader *r, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    if (text == NULL) {
        ingest_error(g, 1, 1, READER_ERR_OTHER, "out of memory");
        return;
    }
    reader_feed(r, text, strlen(text));
    reader_feed(r, "\n", 1);
    free(text);
}

/* A JSON body is one document however it is laid out: one object (or
 * another value, rejected as a record), or an array of objects. */
static void ingest_json(struct ingest *g, struct reader *r, const char *body, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (root == NULL) {
        reader_feed(r, body, len); /* reports invalid JSON as record 1 */
        reader_finish(r);
        return;
    }
    if (cJSON_IsArray(root)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, root)
        {
            ingest_json_value(g, r, e);
        }
    } else {
        ingest_json_value(g, r, root);
    }
    reader_finish(r);
    cJSON_Delete(root);
}

/* Drop the kept reader and its column map: they point into the old
 * baseline, and a column it did not have may be a feature now. The next
 * request makes them again (the reader's callback argument is per request). */
static void http_reload(struct source *in)
{
    reader_free(in->reader);
    colmap_free(&in->colmap);
    in->reader = NULL;
}

bool in_http_whole_body(const struct source *in, enum body_kind kind)
{
    return kind == BODY_JSON || (kind == BODY_NDJSON && in->conf->validate == VALIDATE_SAMPLED);
}

int in_http_ingest(struct source *in, enum body_kind kind, char delimiter,
                   const struct evbuffer_iovec *seg, size_t nseg, struct sbuf *out)
{
    struct ingest g = {.in = in, .csv = kind == BODY_CSV};
    static const struct reader_ops ops = {ingest_column, ingest_record, ingest_error};
    struct reader *r;
    if (g.csv) {
        if (delimiter == 0)
            delimiter = config_delimiter(in->conf->delimiter);
        if (delimiter == 0 && nseg > 0)
            delimiter = reader_sniff_delimiter(seg[0].iov_base, seg[0].iov_len, ',');
        struct reader_limits lim = {0, 0, delimiter};
        r = reader_new(READER_CSV, &lim, &ops, &g);
    } else {
        if (in->reader != NULL && reader_ncolumns(in->reader) > HTTP_READER_MAX_COLUMNS)
            http_reload(in);
        if (in->reader != NULL)
            reader_restart(in->reader, &g);
        else
            in->reader = reader_new(READER_NDJSON, NULL, &ops, &g);
        r = in->reader;
    }
    if (r == NULL)
        return 500;
    sbuf_init(&g.errors);
    uint64_t unread = 0;
    if (kind == BODY_JSON) {
        ingest_json(&g, r, nseg ? seg[0].iov_base : "", nseg ? seg[0].iov_len : 0);
    } else if (kind == BODY_NDJSON && in->conf->validate == VALIDATE_SAMPLED) {
        bool partial = false;
        for (size_t i = 0; i < nseg; i++)
            unread += source_feed_sampled(in, r, seg[i].iov_base, seg[i].iov_len, &partial);
        reader_finish(r);
    } else {
        for (size_t i = 0; i < nseg; i++)
            reader_feed(r, seg[i].iov_base, seg[i].iov_len);
        reader_finish(r);
    }
    uint64_t checked = g.accepted + g.rejected;
    /* Nothing accepted and every record refused for its columns: another
     * model's data, or a file cut at the wrong delimiter. */
    bool foreign = g.accepted + unread == 0 && g.no_feature > 0 && g.no_feature == g.rejected;
    sbuf_printf(out, "{\"accepted\": %llu, \"rejected\": %llu, \"checked\": %llu, \"errors\": [",
                (unsigned long long)(g.accepted + unread), (unsigned long long)g.rejected,
                (unsigned long long)checked);
    if (g.errors.len)
        sbuf_add(out, g.errors.data, g.errors.len);
    sbuf_adds(out, "]");
    if (g.type_errors != NULL) {
        const struct stats_baseline *b = source_baseline(in);
        sbuf_adds(out, ", \"type_errors\": {");
        for (size_t f = 0, n = 0; f < b->nfeatures; f++) {
            if (g.type_errors[f] == 0)
                continue;
            sbuf_adds(out, n++ ? ", " : "");
            sbuf_add_json_string(out, b->features[f].name, strlen(b->features[f].name));
            sbuf_printf(out, ": %llu", (unsigned long long)g.type_errors[f]);
        }
        sbuf_adds(out, "}, \"type_error_examples\": [");
        if (g.examples.len)
            sbuf_add(out, g.examples.data, g.examples.len);
        sbuf_adds(out, "]");
    }
    if (foreign)
        no_feature_members(in, r, out);
    sbuf_adds(out, "}\n");
    sbuf_free(&g.errors);
    sbuf_free(&g.examples);
    free(g.type_errors);
    if (g.csv) {
        reader_free(r);
        colmap_free(&g.colmap);
    }
    if (foreign)
        return 422;
    return g.accepted + unread == 0 ? 400 : 202; /* nothing parseable: the body is bad */
}

const struct source_ops in_http_ops = {
    .type = "http",
    .reload = http_reload,
};
