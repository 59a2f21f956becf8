/*
 * Baseline (de)serialisation. The writer is hand-rolled so the layout is
 * stable and numbers use the shortest text that reads back bit-exact; the
 * reader is cJSON plus a validation pass that names the offending key.
 */
#include "stats/baseline.h"

#include "stats/bsamples.h"
#include "lib/sbuf.h"
#include "stats/sort.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void bfeature_clear(struct stats_bfeature *f)
{
    free(f->name);
    free(f->sample);
    for (size_t i = 0; i < f->n_cats; i++)
        free(f->cats[i]);
    free(f->cats);
    free(f->cat_count);
    free(f->cat_sample);
}

void stats_baseline_free(struct stats_baseline *b)
{
    if (b == NULL)
        return;
    for (size_t i = 0; i < b->nfeatures; i++) {
        struct stats_bfeature *f = &b->features[i];
        const char *m = b->map;
        if (m != NULL && (const char *)f->sample >= m && (const char *)f->sample < m + b->maplen)
            f->sample = NULL; /* in the cache's mapping */
        bfeature_clear(f);
    }
    free(b->features);
    stats_provenance_free(b->provenance);
    if (b->map != NULL)
        munmap(b->map, b->maplen);
    free(b);
}

int stats_baseline_find(const struct stats_baseline *b, const char *name)
{
    for (size_t i = 0; i < b->nfeatures; i++)
        if (strcmp(b->features[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Byte-order comparison of a counted string with a C string. */
static int cmp_counted(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return (alen > blen) - (alen < blen);
}

long stats_bfeature_find_cat(const struct stats_bfeature *f, const char *name, size_t len)
{
    size_t lo = 0, hi = f->n_cats;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_counted(name, len, f->cats[mid]);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

char *stats_baseline_serialize(const struct stats_baseline *b, size_t *len)
{
    struct sbuf s;

    sbuf_init(&s);
    sbuf_printf(&s,
                "{\n\"format\": \"%s\",\n\"version\": %d,\n\"rows\": %llu,\n"
                "\"sample_rows\": %llu,\n\"max_sample\": %llu,\n\"seed\": %llu,\n",
                STATS_BASELINE_FORMAT, STATS_BASELINE_VERSION, (unsigned long long)b->rows,
                (unsigned long long)b->sample_rows, (unsigned long long)b->max_sample,
                (unsigned long long)b->seed);
    /* before the features, so that the head of the file says where it came from */
    if (b->provenance != NULL) {
        sbuf_adds(&s, "\"provenance\": ");
        stats_provenance_json(b->provenance, &s);
        sbuf_adds(&s, ",\n");
    }
    sbuf_adds(&s, "\"features\": [\n");
    for (size_t i = 0; i < b->nfeatures; i++) {
        const struct stats_bfeature *f = &b->features[i];
        sbuf_adds(&s, "{\"name\": ");
        sbuf_add_json_string(&s, f->name, strlen(f->name));
        sbuf_printf(&s,
                    ", \"kind\": \"%s\", \"count\": %llu, \"missing\": %llu, "
                    "\"distinct\": %llu, \"sample_missing\": %llu",
                    stats_kind_name(f->kind), (unsigned long long)f->count,
                    (unsigned long long)f->missing, (unsigned long long)f->distinct,
                    (unsigned long long)f->sample_missing);
        if (f->kind == STATS_NUMERICAL) {
            const char *names[] = {"min", "max", "mean", "std"};
            const double vals[] = {f->min, f->max, f->mean, f->std};
            for (int k = 0; k < 4; k++) {
                sbuf_printf(&s, ", \"%s\": ", names[k]);
                sbuf_add_double(&s, vals[k]);
            }
            sbuf_adds(&s, ",\n  \"sample\": [");
            for (size_t j = 0; j < f->n_sample; j++) {
                if (j > 0)
                    sbuf_addc(&s, ',');
                sbuf_add_double(&s, f->sample[j]);
            }
            sbuf_addc(&s, ']');
        } else {
            sbuf_adds(&s, ",\n  \"categories\": [");
            for (size_t j = 0; j < f->n_cats; j++) {
                sbuf_adds(&s, j > 0 ? ",\n    [" : "\n    [");
                sbuf_add_json_string(&s, f->cats[j], strlen(f->cats[j]));
                sbuf_printf(&s, ", %llu, %llu]", (unsigned long long)f->cat_count[j],
                            (unsigned long long)f->cat_sample[j]);
            }
            sbuf_adds(&s, "]");
        }
        sbuf_adds(&s, i + 1 < b->nfeatures ? "},\n" : "}\n");
    }
    sbuf_adds(&s, "]\n}\n");
    if (sbuf_failed(&s)) {
        sbuf_free(&s);
        return NULL;
    }
    return sbuf_steal(&s, len);
}

/* Parsing context: where we are, for error messages. */
struct pctx {
    const char *source;
    char *err;
    size_t errlen;
    bool failed;
};

static void perr(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void perr(struct pctx *c, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (c->failed)
        return;
    c->failed = true;
    n = snprintf(c->err, c->errlen, "%s: ", c->source);
    if (n < 0 || (size_t)n >= c->errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

/* A non-negative integer count stored exactly in a double. */
static bool get_count(struct pctx *c, const cJSON *obj, const char *key, const char *where,
                      uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL) {
        perr(c, "%s: missing key \"%s\"", where, key);
        return false;
    }
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 9007199254740992.0 ||
        floor(v->valuedouble) != v->valuedouble) {
        perr(c, "%s.%s: expected a non-negative integer", where, key);
        return false;
    }
    *out = (uint64_t)v->valuedouble;
    return true;
}

/* A finite number, or null meaning NAN when allow_null. */
static bool get_real(struct pctx *c, const cJSON *obj, const char *key, const char *where,
                     bool allow_null, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL) {
        perr(c, "%s: missing key \"%s\"", where, key);
        return false;
    }
    if (cJSON_IsNull(v) && allow_null) {
        *out = NAN;
        return true;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        perr(c, "%s.%s: expected a finite number", where, key);
        return false;
    }
    *out = v->valuedouble;
    return true;
}

static bool parse_numerical(struct pctx *c, const cJSON *jf, const char *where,
                            struct stats_bfeature *f, struct bsamples *sd)
{
    if (!get_real(c, jf, "min", where, f->count == 0, &f->min) ||
        !get_real(c, jf, "max", where, f->count == 0, &f->max) ||
        !get_real(c, jf, "mean", where, f->count == 0, &f->mean) ||
        !get_real(c, jf, "std", where, f->count == 0, &f->std))
        return false;
    if (f->count > 0 && !(f->min <= f->max)) {
        perr(c, "%s: min %.17g is greater than max %.17g", where, f->min, f->max);
        return false;
    }
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(jf, "sample");
    double ks = cJSON_IsNumber(js) ? js->valuedouble - (double)BSAMPLES_BASE : -1;
    if (ks >= 0 && ks < (double)sd->count && floor(ks) == ks && sd->v[(size_t)ks] != NULL) {
        /* pre-parsed by extract_samples: take the array over */
        size_t k = (size_t)ks, n = sd->n[k];
        f->sample = sd->v[k];
        sd->v[k] = NULL;
        f->n_sample = n;
        f->has_sample_std = sd->sorted[k] && !isnan(sd->stddev[k]);
        f->sample_std = sd->stddev[k];
        if (sd->nonfinite[k] < n) {
            perr(c, "%s.sample[%zu]: expected a finite number", where, sd->nonfinite[k]);
            return false;
        }
        if (!sd->sorted[k])
            stats_sort(f->sample, n);
        if (n > f->count) {
            perr(c, "%s.sample: %zu values but count is %llu", where, n,
                 (unsigned long long)f->count);
            return false;
        }
        return true;
    }
    if (!cJSON_IsArray(js)) {
        perr(c, "%s.sample: expected an array of numbers", where);
        return false;
    }
    size_t n = (size_t)cJSON_GetArraySize(js), i = 0;
    f->sample = malloc((n ? n : 1) * sizeof(double));
    if (f->sample == NULL) {
        perr(c, "%s.sample: out of memory", where);
        return false;
    }
    bool sorted = true;
    const cJSON *v;
    cJSON_ArrayForEach(v, js)
    {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            perr(c, "%s.sample[%zu]: expected a finite number", where, i);
            return false;
        }
        f->sample[i] = v->valuedouble;
        if (i > 0 && f->sample[i] < f->sample[i - 1])
            sorted = false;
        i++;
    }
    f->n_sample = n;
    if (!sorted)
        stats_sort(f->sample, n);
    if (n > f->count) {
        perr(c, "%s.sample: %zu values but count is %llu", where, n, (unsigned long long)f->count);
        return false;
    }
    return true;
}

static bool parse_categorical(struct pctx *c, const cJSON *jf, const char *where,
                              struct stats_bfeature *f)
{
    const cJSON *jc = cJSON_GetObjectItemCaseSensitive(jf, "categories");
    if (!cJSON_IsArray(jc)) {
        perr(c, "%s.categories: expected an array of [name, count, sample_count]", where);
        return false;
    }
    size_t n = (size_t)cJSON_GetArraySize(jc), i = 0;
    f->cats = calloc(n ? n : 1, sizeof(char *));
    f->cat_count = calloc(n ? n : 1, sizeof(uint64_t));
    f->cat_sample = calloc(n ? n : 1, sizeof(uint64_t));
    if (f->cats == NULL || f->cat_count == NULL || f->cat_sample == NULL) {
        perr(c, "%s.categories: out of memory", where);
        return false;
    }
    uint64_t total = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, jc)
    {
        const cJSON *name = cJSON_GetArrayItem(e, 0), *cnt = cJSON_GetArrayItem(e, 1),
                    *smp = cJSON_GetArrayItem(e, 2);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 3 || !cJSON_IsString(name) ||
            !cJSON_IsNumber(cnt) || !cJSON_IsNumber(smp) || !(cnt->valuedouble >= 0) ||
            !(smp->valuedouble >= 0) || floor(cnt->valuedouble) != cnt->valuedouble ||
            floor(smp->valuedouble) != smp->valuedouble || smp->valuedouble > cnt->valuedouble ||
            cnt->valuedouble > 9007199254740992.0) {
            perr(c,
                 "%s.categories[%zu]: expected [name, count, sample_count] with "
                 "0 <= sample_count <= count",
                 where, i);
            return false;
        }
        if ((f->cats[i] = strdup(name->valuestring)) == NULL) {
            perr(c, "%s.categories: out of memory", where);
            return false;
        }
        f->cat_count[i] = (uint64_t)cnt->valuedouble;
        f->cat_sample[i] = (uint64_t)smp->valuedouble;
        total += f->cat_count[i];
        f->n_cats = ++i;
        if (i > 1 && strcmp(f->cats[i - 2], f->cats[i - 1]) >= 0) {
            perr(c,
                 "%s.categories[%zu]: \"%s\" is out of order or repeated (categories are "
                 "sorted by byte order)",
                 where, i - 1, f->cats[i - 1]);
            return false;
        }
    }
    if (total != f->count) {
        perr(c, "%s.categories: counts add up to %llu but count is %llu", where,
             (unsigned long long)total, (unsigned long long)f->count);
        return false;
    }
    return true;
}

/* A string member, copied into *out; a missing one is an error only when
 * required (then *out stays NULL). */
static bool get_string(struct pctx *c, const cJSON *obj, const char *key, const char *where,
                       bool required, char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL && !required)
        return true;
    if (v == NULL) {
        perr(c, "%s: missing key \"%s\"", where, key);
        return false;
    }
    if (!cJSON_IsString(v)) {
        perr(c, "%s.%s: expected a string", where, key);
        return false;
    }
    if ((*out = strdup(v->valuestring)) == NULL) {
        perr(c, "%s.%s: out of memory", where, key);
        return false;
    }
    return true;
}

/* An object member (required). */
static const cJSON *get_object(struct pctx *c, const cJSON *obj, const char *key, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (v == NULL)
        perr(c, "%s: missing key \"%s\"", where, key);
    else if (!cJSON_IsObject(v))
        perr(c, "%s.%s: expected an object", where, key);
    return cJSON_IsObject(v) ? v : NULL;
}

/* provenance.input: where the training data came from. */
static bool parse_prov_input(struct pctx *c, const cJSON *jp, const struct stats_baseline *b,
                             struct stats_provenance *p)
{
    const char *where = "provenance.input";
    const cJSON *ji = get_object(c, jp, "input", "provenance");
    if (ji == NULL || !get_string(c, ji, "path", where, true, &p->input_path))
        return false;
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(ji, "sha256");
    if (sha == NULL) {
        perr(c, "%s: missing key \"sha256\"", where);
        return false;
    }
    if (!cJSON_IsString(sha) || strlen(sha->valuestring) != SHA256_HEX_LEN ||
        strspn(sha->valuestring, "0123456789abcdef") != SHA256_HEX_LEN) {
        perr(c, "%s.sha256: expected a string of 64 lowercase hex digits", where);
        return false;
    }
    memcpy(p->input_sha256, sha->valuestring, SHA256_HEX_LEN + 1);
    if (!get_count(c, ji, "bytes", where, &p->input_bytes) ||
        !get_count(c, ji, "rows", where, &p->input_rows) ||
        !get_string(c, ji, "format", where, true, &p->input_format))
        return false;
    if (strcmp(p->input_format, "csv") != 0 && strcmp(p->input_format, "ndjson") != 0) {
        perr(c, "%s.format: expected \"csv\" or \"ndjson\"", where);
        return false;
    }
    /* skipped bad records are among the input's rows, not the baseline's */
    if (p->input_rows < b->rows) {
        perr(c, "%s.rows: %llu, fewer than the baseline's rows (%llu)", where,
             (unsigned long long)p->input_rows, (unsigned long long)b->rows);
        return false;
    }
    return true;
}

/* provenance.sample: the sampler's settings, the same as the baseline's. */
static bool parse_prov_sample(struct pctx *c, const cJSON *jp, const struct stats_baseline *b,
                              struct stats_provenance *p)
{
    const char *where = "provenance.sample";
    const cJSON *js = get_object(c, jp, "sample", "provenance");
    const struct {
        const char *key, *top; /* its name here and in the baseline */
        uint64_t *got, want;
    } m[] = {{"max_sample", "max_sample", &p->max_sample, b->max_sample},
             {"seed", "seed", &p->seed, b->seed},
             {"rows", "sample_rows", &p->sample_rows, b->sample_rows}};
    if (js == NULL)
        return false;
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        if (!get_count(c, js, m[i].key, where, m[i].got))
            return false;
        if (*m[i].got != m[i].want) {
            perr(c, "%s.%s: %llu, but the baseline's %s is %llu", where, m[i].key,
                 (unsigned long long)*m[i].got, m[i].top, (unsigned long long)m[i].want);
            return false;
        }
    }
    return true;
}

/* Order of labels by key, for qsort. */
static int cmp_label(const void *x, const void *y)
{
    return strcmp(((const struct stats_label *)x)->key, ((const struct stats_label *)y)->key);
}

/* provenance.labels: an object of strings, keys of [A-Za-z0-9_.-], each
 * once. Sorted once at the end: a file may hold very many labels, and
 * keeping them sorted one insertion at a time would be quadratic. */
static bool parse_prov_labels(struct pctx *c, const cJSON *jp, struct stats_provenance *p)
{
    const cJSON *jl = cJSON_GetObjectItemCaseSensitive(jp, "labels");
    if (jl == NULL)
        return true;
    if (!cJSON_IsObject(jl)) {
        perr(c, "provenance.labels: expected an object of strings");
        return false;
    }
    size_t n = (size_t)cJSON_GetArraySize(jl);
    if ((p->labels = calloc(n ? n : 1, sizeof(*p->labels))) == NULL) {
        perr(c, "provenance.labels: out of memory");
        return false;
    }
    const cJSON *l;
    cJSON_ArrayForEach(l, jl)
    {
        /* a key with a NUL inside ("\u0000") reads shorter in C */
        if (!stats_label_key_valid(l->string, strlen(l->string))) {
            /* the key is shown only as far as it is printable: it comes
             * from a file that may be anybody's, and goes to a log */
            char shown[33];
            size_t k = 0;
            for (; k < sizeof(shown) - 1 && l->string[k] != '\0'; k++) {
                unsigned char ch = (unsigned char)l->string[k];
                shown[k] = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\' ? (char)ch : '?';
            }
            shown[k] = '\0';
            perr(c,
                 "provenance.labels: key \"%s\"%s is not a label key (non-empty, of "
                 "A-Z a-z 0-9 _ . -)",
                 shown, l->string[k] != '\0' ? "..." : "");
            return false;
        }
        if (!cJSON_IsString(l)) {
            perr(c, "provenance.labels.%s: expected a string", l->string);
            return false;
        }
        struct stats_label *lb = &p->labels[p->nlabels];
        lb->key = strdup(l->string);
        lb->value = strdup(l->valuestring);
        if (lb->key != NULL && lb->value != NULL) {
            p->nlabels++;
            continue;
        }
        free(lb->key);
        free(lb->value);
        lb->key = lb->value = NULL;
        perr(c, "provenance.labels: out of memory");
        return false;
    }
    qsort(p->labels, p->nlabels, sizeof(*p->labels), cmp_label);
    for (size_t i = 1; i < p->nlabels; i++)
        if (strcmp(p->labels[i - 1].key, p->labels[i].key) == 0) {
            perr(c, "provenance.labels.%s: the key appears twice", p->labels[i].key);
            return false;
        }
    return true;
}

/* The optional "provenance" object; *out stays NULL when there is none
 * (a baseline written before driftd recorded it). */
static bool parse_provenance(struct pctx *c, const cJSON *root, const struct stats_baseline *b,
                             struct stats_provenance **out)
{
    const cJSON *jp = cJSON_GetObjectItemCaseSensitive(root, "provenance");
    *out = NULL;
    if (jp == NULL)
        return true;
    if (!cJSON_IsObject(jp)) {
        perr(c, "provenance: expected an object");
        return false;
    }
    struct stats_provenance *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        perr(c, "provenance: out of memory");
        return false;
    }
    *out = p;
    if (!parse_prov_input(c, jp, b, p) || !parse_prov_sample(c, jp, b, p) ||
        !get_string(c, jp, "driftd_version", "provenance", true, &p->driftd_version) ||
        !get_string(c, jp, "created_at", "provenance", false, &p->created_at) ||
        !parse_prov_labels(c, jp, p))
        return false;
    char why[160];
    if (p->created_at != NULL && !stats_time_check(p->created_at, why, sizeof(why))) {
        perr(c, "provenance.created_at: \"%.40s\": %s", p->created_at, why);
        return false;
    }
    return true;
}

/* Line and column of a byte offset, for JSON syntax errors. */
static void line_col(const char *text, size_t off, size_t *line, size_t *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* The sample arrays of text, from the cache when it fits (then *map is
 * the mapping the samples point into), else parsed (the cache, if any,
 * unmapped, and the new cache's part written when one is asked for). */
static int extract_samples(const char *text, size_t len, struct stats_baseline_cache *cache,
                           struct bsamples *sd, void **map, size_t *maplen)
{
    *map = NULL;
    if (cache != NULL && cache->map != NULL) {
        const char *m = cache->map;
        int rc = cache->payload <= cache->maplen
                     ? bsamples_from_payload(text, len, m + cache->payload,
                                             cache->maplen - cache->payload, sd)
                     : 1;
        if (rc == 0) {
            cache->used = true;
            *map = cache->map;
            *maplen = cache->maplen;
            cache->map = NULL;
            return 0;
        }
        munmap(cache->map, cache->maplen);
        cache->map = NULL;
        if (rc < 0)
            return -1;
    }
    if (bsamples_extract(text, len, sd) != 0)
        return -1;
    if (cache != NULL && cache->out != NULL) {
        size_t at = cache->out->len;
        if (bsamples_payload(sd, cache->out) != 0)
            cache->out->len = at; /* not cacheable: nothing written */
    }
    return 0;
}

int stats_baseline_parse(const char *text, size_t len, const char *source,
                         struct stats_baseline **out, char *err, size_t errlen)
{
    return stats_baseline_parse_cached(text, len, source, NULL, out, err, errlen);
}

int stats_baseline_parse_cached(const char *text, size_t len, const char *source,
                                struct stats_baseline_cache *cache, struct stats_baseline **out,
                                char *err, size_t errlen)
{
    struct pctx c = {source, err, errlen, false};
    const char *end = NULL;
    struct stats_baseline *b = NULL;
    void *map = NULL;
    size_t maplen = 0;

    *out = NULL;
    if (cache != NULL)
        cache->used = false;
    /* the sample arrays first, then cJSON on the rest (bsamples.c) */
    struct bsamples sd;
    if (extract_samples(text, len, cache, &sd, &map, &maplen) != 0) {
        perr(&c, "out of memory");
        return -1;
    }
    cJSON *root = cJSON_ParseWithLengthOpts(sd.text, sd.len, &end, 0);
    if (end != NULL)
        end = text + bsamples_source_offset(&sd, (size_t)(end - sd.text));
    if (root == NULL) {
        size_t off = end != NULL && end >= text ? (size_t)(end - text) : 0, line, col;
        if (off > len)
            off = len;
        line_col(text, off, &line, &col);
        snprintf(err, errlen,
                 "%s:%zu:%zu: invalid JSON (is this a baseline written by driftd baseline?)",
                 source, line, col);
        bsamples_free(&sd);
        if (map != NULL)
            munmap(map, maplen);
        return -1;
    }
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) ||
        strcmp(fmt->valuestring, STATS_BASELINE_FORMAT) != 0) {
        perr(&c, "not a driftd baseline (expected \"format\": \"%s\")", STATS_BASELINE_FORMAT);
        goto fail;
    }
    if (!cJSON_IsNumber(ver) || ver->valuedouble != STATS_BASELINE_VERSION) {
        perr(&c, "version: unsupported baseline version (this driftd reads version %d)",
             STATS_BASELINE_VERSION);
        goto fail;
    }
    if ((b = calloc(1, sizeof(*b))) == NULL) {
        perr(&c, "out of memory");
        goto fail;
    }
    b->map = map; /* from here on b unmaps it */
    b->maplen = maplen;
    map = NULL;
    if (!get_count(&c, root, "rows", "baseline", &b->rows) ||
        !get_count(&c, root, "sample_rows", "baseline", &b->sample_rows) ||
        !get_count(&c, root, "max_sample", "baseline", &b->max_sample) ||
        !get_count(&c, root, "seed", "baseline", &b->seed))
        goto fail;
    if (b->sample_rows > b->rows) {
        perr(&c, "sample_rows (%llu) is greater than rows (%llu)",
             (unsigned long long)b->sample_rows, (unsigned long long)b->rows);
        goto fail;
    }
    const cJSON *jfs = cJSON_GetObjectItemCaseSensitive(root, "features");
    if (!cJSON_IsArray(jfs) || cJSON_GetArraySize(jfs) == 0) {
        perr(&c, "features: expected a non-empty array");
        goto fail;
    }
    size_t nf = (size_t)cJSON_GetArraySize(jfs);
    if ((b->features = calloc(nf, sizeof(*b->features))) == NULL) {
        perr(&c, "out of memory");
        goto fail;
    }
    const cJSON *jf;
    cJSON_ArrayForEach(jf, jfs)
    {
        char where[64];
        struct stats_bfeature *f = &b->features[b->nfeatures];
        snprintf(where, sizeof(where), "features[%zu]", b->nfeatures);
        b->nfeatures++;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(jf, "name");
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(jf, "kind");
        if (!cJSON_IsObject(jf) || !cJSON_IsString(name) || name->valuestring[0] == '\0') {
            perr(&c, "%s.name: expected a non-empty string", where);
            goto fail;
        }
        if ((f->name = strdup(name->valuestring)) == NULL) {
            perr(&c, "out of memory");
            goto fail;
        }
        if (stats_baseline_find(b, f->name) != (int)b->nfeatures - 1) {
            perr(&c, "%s.name: feature \"%s\" appears twice", where, f->name);
            goto fail;
        }
        if (cJSON_IsString(kind) && strcmp(kind->valuestring, "numerical") == 0) {
            f->kind = STATS_NUMERICAL;
        } else if (cJSON_IsString(kind) && strcmp(kind->valuestring, "categorical") == 0) {
            f->kind = STATS_CATEGORICAL;
        } else {
            perr(&c, "%s.kind: expected \"numerical\" or \"categorical\"", where);
            goto fail;
        }
        if (!get_count(&c, jf, "count", where, &f->count) ||
            !get_count(&c, jf, "missing", where, &f->missing) ||
            !get_count(&c, jf, "distinct", where, &f->distinct) ||
            !get_count(&c, jf, "sample_missing", where, &f->sample_missing))
            goto fail;
        if (f->count + f->missing != b->rows) {
            perr(&c, "%s: count + missing = %llu but the baseline has %llu rows", where,
                 (unsigned long long)(f->count + f->missing), (unsigned long long)b->rows);
            goto fail;
        }
        if (f->kind == STATS_NUMERICAL ? !parse_numerical(&c, jf, where, f, &sd)
                                       : !parse_categorical(&c, jf, where, f))
            goto fail;
        uint64_t in_sample = f->sample_missing;
        if (f->kind == STATS_NUMERICAL)
            in_sample += f->n_sample;
        else
            for (size_t i = 0; i < f->n_cats; i++)
                in_sample += f->cat_sample[i];
        if (in_sample != b->sample_rows) {
            perr(&c, "%s: the sample holds %llu values but sample_rows is %llu", where,
                 (unsigned long long)in_sample, (unsigned long long)b->sample_rows);
            goto fail;
        }
    }
    /* after the features: a baseline edited by hand gets the error of its
     * features first, the provenance being only a record of them */
    if (!parse_provenance(&c, root, b, &b->provenance))
        goto fail;
    cJSON_Delete(root);
    bsamples_free(&sd);
    *out = b;
    return 0;
fail:
    cJSON_Delete(root);
    bsamples_free(&sd);
    stats_baseline_free(b);
    if (map != NULL)
        munmap(map, maplen);
    return -1;
}
