#include "agent/window.h"

#include "agent/dict.h"
#include "stats/reservoir.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slot cell states. */
enum { SLOT_MISSING, SLOT_VALUE, SLOT_TYPE_ERROR, SLOT_OVERFLOW };

struct window {
    const struct stats_baseline *b;
    size_t nf, cap;
    struct stats_reservoir *res;
    double *vals;       /* cap x nf: number, or category id */
    uint8_t *state;     /* cap x nf */
    struct dict **cats; /* per feature: categories seen in kept records */
    uint64_t id, records;
    double start;
};

struct window *window_new(const struct stats_baseline *b, size_t sample, uint64_t seed)
{
    struct window *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->b = b;
    w->nf = b->nfeatures;
    w->cap = sample;
    w->res = stats_reservoir_new(sample, seed);
    w->vals = calloc(sample * w->nf, sizeof(double));
    w->state = calloc(sample * w->nf, 1);
    w->cats = calloc(w->nf, sizeof(*w->cats));
    if (w->res == NULL || w->vals == NULL || w->state == NULL || w->cats == NULL) {
        window_free(w);
        return NULL;
    }
    return w;
}

void window_free(struct window *w)
{
    if (w == NULL)
        return;
    stats_reservoir_free(w->res);
    free(w->vals);
    free(w->state);
    for (size_t i = 0; w->cats != NULL && i < w->nf; i++)
        dict_free(w->cats[i]);
    free(w->cats);
    free(w);
}

void window_set_baseline(struct window *w, const struct stats_baseline *b)
{
    w->b = b;
}

void window_reset(struct window *w, uint64_t id, double start)
{
    stats_reservoir_reset(w->res);
    for (size_t i = 0; i < w->nf; i++) {
        dict_free(w->cats[i]);
        w->cats[i] = NULL;
    }
    w->id = id;
    w->records = 0;
    w->start = start;
}

bool window_add(struct window *w, const struct colmap *colmap, const struct reader_record *rec,
                bool na_tokens, const struct window_type_errors *te)
{
    w->records++;
    size_t slot = stats_reservoir_offer(w->res);
    if (slot == STATS_RESERVOIR_DROP) {
        for (size_t i = 0; te != NULL && i < rec->ncells; i++) {
            long f = colmap_get(colmap, i);
            double v;
            const char *s;
            size_t len;
            char tmp[40];
            if (f >= 0 && cell_classify(w->b->features[f].kind, &rec->cells[i], na_tokens, &v, &s,
                                        &len, tmp) == CC_TYPE_ERROR)
                te->fn(te->arg, rec, i, (size_t)f);
        }
        return false;
    }
    double *vals = &w->vals[slot * w->nf];
    uint8_t *st = &w->state[slot * w->nf];
    memset(st, SLOT_MISSING, w->nf);
    for (size_t i = 0; i < rec->ncells; i++) {
        long f = colmap_get(colmap, i);
        if (f < 0)
            continue;
        enum stats_kind kind = w->b->features[f].kind;
        double v = 0;
        const char *s = NULL;
        size_t len = 0;
        char tmp[40];
        switch (cell_classify(kind, &rec->cells[i], na_tokens, &v, &s, &len, tmp)) {
        case CC_MISSING:
            st[f] = SLOT_MISSING;
            break;
        case CC_TYPE_ERROR:
            st[f] = SLOT_TYPE_ERROR;
            if (te != NULL)
                te->fn(te->arg, rec, i, (size_t)f);
            break;
        case CC_NUMBER:
            vals[f] = v;
            st[f] = SLOT_VALUE;
            break;
        case CC_TEXT:
            if (w->cats[f] == NULL)
                w->cats[f] = dict_new();
            uint32_t id = w->cats[f] != NULL
                              ? dict_intern(w->cats[f], s, len, DATASET_MAX_CATEGORIES, NULL)
                              : DICT_NONE;
            /* Past the category limit a value cannot be told apart; it is
             * kept out of the tests rather than guessed. */
            if (id == DICT_NONE) {
                st[f] = SLOT_OVERFLOW;
            } else {
                vals[f] = (double)id;
                st[f] = SLOT_VALUE;
            }
            break;
        }
    }
    return true;
}

void window_count_unread(struct window *w, uint64_t n)
{
    w->records += n;
    for (uint64_t i = 0; i < n; i++)
        stats_reservoir_offer(w->res);
}

uint64_t window_skip(const struct window *w)
{
    return stats_reservoir_skip(w->res);
}

bool window_dataset(const struct window *w, struct dataset *ds)
{
    size_t n = stats_reservoir_size(w->res);
    dataset_clear(ds);
    ds->na_tokens = false;
    for (size_t r = 0; r < n; r++) {
        ds->records++;
        for (size_t f = 0; f < w->nf; f++) {
            struct cell c = {CELL_MISSING, 0, NULL, 0};
            switch (w->state[r * w->nf + f]) {
            case SLOT_VALUE:
                if (w->b->features[f].kind == STATS_NUMERICAL) {
                    c.type = CELL_NUMBER;
                    c.num = w->vals[r * w->nf + f];
                } else {
                    c.type = CELL_TEXT;
                    c.str = dict_key(w->cats[f], (uint32_t)w->vals[r * w->nf + f], &c.len);
                }
                break;
            case SLOT_TYPE_ERROR:
                c.type = CELL_NESTED;
                break;
            case SLOT_OVERFLOW:
                continue;
            default:
                break;
            }
            if (!dataset_add_cell(ds, f, &c))
                return false;
        }
    }
    return true;
}

bool window_save(const struct window *w, struct sbuf *head, struct sbuf *recs)
{
    uint64_t seen, next;
    double wt;
    stats_reservoir_state(w->res, &seen, &wt, &next);
    size_t n = stats_reservoir_size(w->res);
    sbuf_printf(head,
                "{\"version\": 1, \"id\": %llu, \"records\": %llu, \"start\": %.17g, "
                "\"sample\": %zu, \"sampled\": %zu, \"seen\": %llu, \"w\": %.17g, "
                "\"next\": %llu, \"features\": [",
                (unsigned long long)w->id, (unsigned long long)w->records, w->start, w->cap, n,
                (unsigned long long)seen, wt, (unsigned long long)next);
    for (size_t f = 0; f < w->nf; f++) {
        sbuf_adds(head, f ? ", " : "");
        sbuf_add_json_string(head, w->b->features[f].name, strlen(w->b->features[f].name));
    }
    sbuf_adds(head, "]}\n");
    for (size_t r = 0; r < n; r++) {
        sbuf_addc(recs, '{');
        bool first = true;
        for (size_t f = 0; f < w->nf; f++) {
            uint8_t st = w->state[r * w->nf + f];
            if (st == SLOT_OVERFLOW)
                continue; /* past the category limit: read back as missing */
            const char *name = w->b->features[f].name;
            sbuf_adds(recs, first ? "" : ", ");
            first = false;
            sbuf_add_json_string(recs, name, strlen(name));
            sbuf_adds(recs, ": ");
            double v = w->vals[r * w->nf + f];
            if (st == SLOT_MISSING) {
                sbuf_adds(recs, "null");
            } else if (st == SLOT_TYPE_ERROR) {
                sbuf_adds(recs, "{}"); /* a nested value: a type error again */
            } else if (w->b->features[f].kind == STATS_NUMERICAL) {
                sbuf_printf(recs, "%.17g", v);
            } else {
                size_t len;
                const char *k = dict_key(w->cats[f], (uint32_t)v, &len);
                sbuf_add_json_string(recs, k, len);
            }
        }
        sbuf_adds(recs, "}\n");
    }
    return !sbuf_failed(head) && !sbuf_failed(recs);
}

/* The reader callbacks of window_restore: columns are the baseline's
 * features by name, records are offered in order. */
struct restore_ctx {
    struct window *w;
    struct colmap map;
    uint64_t errors;
};

static int restore_column(void *arg, size_t index, const char *name, size_t len)
{
    struct restore_ctx *c = arg;
    return colmap_map(&c->map, c->w->b, index, name, len);
}

static void restore_record(void *arg, const struct reader_record *rec)
{
    struct restore_ctx *c = arg;
    window_add(c->w, &c->map, rec, false, NULL);
}

static void restore_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                          const char *msg)
{
    struct restore_ctx *c = arg;
    (void)line, (void)index, (void)code, (void)msg;
    c->errors++;
}

static uint64_t head_u64(const cJSON *o, const char *key, bool *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1e18) {
        *ok = false;
        return 0;
    }
    return (uint64_t)v->valuedouble;
}

int window_restore(struct window *w, const char *head, size_t head_len, const char *recs,
                   size_t recs_len, char *err, size_t errlen)
{
    cJSON *h = cJSON_ParseWithLength(head, head_len);
    bool ok = cJSON_IsObject(h);
    uint64_t version = head_u64(h, "version", &ok), id = head_u64(h, "id", &ok),
             records = head_u64(h, "records", &ok), sample = head_u64(h, "sample", &ok),
             sampled = head_u64(h, "sampled", &ok), seen = head_u64(h, "seen", &ok),
             next = head_u64(h, "next", &ok);
    const cJSON *jw = cJSON_GetObjectItemCaseSensitive(h, "w");
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(h, "start");
    const cJSON *feats = cJSON_GetObjectItemCaseSensitive(h, "features");
    int rc = -1;
    if (!ok || version != 1 || !cJSON_IsNumber(jw) || !cJSON_IsNumber(js) ||
        !cJSON_IsArray(feats)) {
        snprintf(err, errlen, "not a saved window");
        goto out;
    }
    if (sample != w->cap || (size_t)cJSON_GetArraySize(feats) != w->nf) {
        snprintf(err, errlen, "window.sample or the baseline's features changed");
        goto out;
    }
    for (size_t f = 0; f < w->nf; f++) {
        const cJSON *name = cJSON_GetArrayItem(feats, (int)f);
        if (!cJSON_IsString(name) || strcmp(name->valuestring, w->b->features[f].name) != 0) {
            snprintf(err, errlen, "the baseline's features changed");
            goto out;
        }
    }
    if (sampled > sample || records < sampled || seen != records) {
        snprintf(err, errlen, "inconsistent counts");
        goto out;
    }
    window_reset(w, id, js->valuedouble);
    struct restore_ctx c = {.w = w};
    colmap_init(&c.map);
    static const struct reader_ops ops = {restore_column, restore_record, restore_error};
    struct reader *r = reader_new(READER_NDJSON, NULL, &ops, &c);
    if (r != NULL) {
        reader_feed(r, recs, recs_len);
        reader_finish(r);
    }
    reader_free(r);
    colmap_free(&c.map);
    if (r == NULL || c.errors > 0 || stats_reservoir_size(w->res) != sampled ||
        stats_reservoir_restore(w->res, seen, jw->valuedouble, next) != 0) {
        snprintf(err, errlen, "its records do not match its counts");
        window_reset(w, id, js->valuedouble);
        goto out;
    }
    w->records = records;
    rc = 0;
out:
    cJSON_Delete(h);
    return rc;
}

uint64_t window_id(const struct window *w)
{
    return w->id;
}

uint64_t window_records(const struct window *w)
{
    return w->records;
}

size_t window_sampled(const struct window *w)
{
    return stats_reservoir_size(w->res);
}

double window_start(const struct window *w)
{
    return w->start;
}
