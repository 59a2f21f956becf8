#include "agent/dataset.h"

#include "agent/colmap.h"
#include "agent/value.h"
#include "lib/sbuf.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct dataset *dataset_new(const struct stats_baseline *b)
{
    struct dataset *ds = calloc(1, sizeof(*ds));
    if (ds == NULL)
        return NULL;
    ds->b = b;
    if ((ds->cols = calloc(b->nfeatures, sizeof(*ds->cols))) == NULL) {
        free(ds);
        return NULL;
    }
    return ds;
}

void dataset_free(struct dataset *ds)
{
    if (ds == NULL)
        return;
    for (size_t i = 0; i < ds->b->nfeatures; i++) {
        free(ds->cols[i].vals);
        dict_free(ds->cols[i].cats);
        free(ds->cols[i].counts);
    }
    free(ds->cols);
    free(ds);
}

void dataset_clear(struct dataset *ds)
{
    for (size_t i = 0; i < ds->b->nfeatures; i++) {
        struct dataset_col *c = &ds->cols[i];
        dict_free(c->cats);
        c->cats = NULL;
        if (c->counts != NULL)
            memset(c->counts, 0, c->cap_counts * sizeof(*c->counts));
        c->n = 0;
        c->present = c->missing = c->type_errors = c->unseen = c->out_of_range = 0;
    }
    ds->records = 0;
}

static bool add_number(struct dataset_col *c, const struct stats_bfeature *f, double v)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        double *p = realloc(c->vals, cap * sizeof(*p));
        if (p == NULL)
            return false;
        c->vals = p;
        c->cap = cap;
    }
    c->vals[c->n++] = v;
    c->present++;
    if (f->count > 0 && (v < f->min || v > f->max))
        c->out_of_range++;
    return true;
}

void dataset_reserve(struct dataset *ds, size_t n)
{
    for (size_t f = 0; f < ds->b->nfeatures; f++) {
        struct dataset_col *c = &ds->cols[f];
        if (ds->b->features[f].kind != STATS_NUMERICAL || c->cap >= n ||
            n > SIZE_MAX / sizeof(double))
            continue;
        double *p = realloc(c->vals, n * sizeof(*p));
        if (p == NULL)
            return;
        c->vals = p;
        c->cap = n;
    }
}

static bool add_category(struct dataset_col *c, const struct stats_bfeature *f, const char *s,
                         size_t len)
{
    if (c->cats == NULL && (c->cats = dict_new()) == NULL)
        return false;
    uint32_t id = dict_intern(c->cats, s, len, DATASET_MAX_CATEGORIES, NULL);
    if (id == DICT_NONE)
        return false;
    if (id >= c->cap_counts) {
        size_t cap = c->cap_counts ? c->cap_counts * 2 : 64;
        while (cap <= id)
            cap *= 2;
        double *p = realloc(c->counts, cap * sizeof(*p));
        if (p == NULL)
            return false;
        memset(p + c->cap_counts, 0, (cap - c->cap_counts) * sizeof(*p));
        c->counts = p;
        c->cap_counts = cap;
    }
    c->counts[id] += 1;
    c->present++;
    /* unseen categories are counted once per category in drift_evaluate */
    (void)f;
    return true;
}

enum cell_class cell_classify(enum stats_kind kind, const struct cell *c, bool na_tokens,
                              double *num, const char **str, size_t *len, char tmp[40])
{
    switch (c->type) {
    case CELL_MISSING:
        return CC_MISSING;
    case CELL_NESTED:
        return CC_TYPE_ERROR;
    case CELL_NUMBER:
        if (!isfinite(c->num))
            return CC_MISSING;
        if (kind == STATS_NUMERICAL) {
            *num = c->num;
            return CC_NUMBER;
        }
        *len = (size_t)fmt_double(tmp, 40, c->num);
        *str = tmp;
        return CC_TEXT;
    case CELL_TEXT:
        if (kind == STATS_NUMERICAL) {
            switch (value_parse(c->str, c->len, na_tokens, num)) {
            case VALUE_NUMBER:
                return CC_NUMBER;
            case VALUE_MISSING:
                return CC_MISSING;
            case VALUE_TEXT:
                return CC_TYPE_ERROR;
            }
        }
        if (c->len == 0 || (na_tokens && value_is_na_token(c->str, c->len)))
            return CC_MISSING;
        *str = c->str;
        *len = c->len;
        return CC_TEXT;
    }
    return CC_TYPE_ERROR;
}

bool dataset_add_cell(struct dataset *ds, size_t fi, const struct cell *cell)
{
    const struct stats_bfeature *f = &ds->b->features[fi];
    struct dataset_col *c = &ds->cols[fi];
    double v = 0;
    const char *s = NULL;
    size_t len = 0;
    char tmp[40];

    switch (cell_classify(f->kind, cell, ds->na_tokens, &v, &s, &len, tmp)) {
    case CC_MISSING:
        c->missing++;
        return true;
    case CC_TYPE_ERROR:
        c->type_errors++;
        return true;
    case CC_NUMBER:
        return add_number(c, f, v);
    case CC_TEXT:
        return add_category(c, f, s, len);
    }
    return true;
}

bool dataset_add_read(struct dataset *ds, size_t fi, enum cell_type type, int cls, double v)
{
    struct dataset_col *c = &ds->cols[fi];
    if (type == CELL_MISSING || cls == VALUE_MISSING) {
        c->missing++;
        return true;
    }
    if (type == CELL_NESTED || cls == VALUE_TEXT) {
        c->type_errors++;
        return true;
    }
    return add_number(c, &ds->b->features[fi], v);
}

void dataset_count_absent(struct dataset *ds)
{
    for (size_t f = 0; f < ds->b->nfeatures; f++) {
        struct dataset_col *c = &ds->cols[f];
        uint64_t seen = c->present + c->missing + c->type_errors;
        if (ds->records > seen)
            c->missing += ds->records - seen;
    }
}

/* Reader callbacks of dataset_read: reader column -> baseline feature. */
struct read_ctx {
    struct dataset *ds;
    struct colmap map;
    bool oom;
};

/* A column became known: map it to its baseline feature. */
static int read_column(void *arg, size_t index, const char *name, size_t len)
{
    struct read_ctx *c = arg;
    return colmap_map(&c->map, c->ds->b, index, name, len);
}

/* Add a record's feature cells to the dataset. */
static void read_record(void *arg, const struct reader_record *rec)
{
    struct read_ctx *c = arg;
    c->ds->records++;
    for (size_t i = 0; i < rec->ncells; i++) {
        long f = colmap_get(&c->map, i);
        if (f >= 0 && !dataset_add_cell(c->ds, (size_t)f, &rec->cells[i]))
            c->oom = true;
    }
}

long dataset_read(struct dataset *ds, const char *data, size_t len, enum reader_format fmt)
{
    struct read_ctx c = {.ds = ds};
    colmap_init(&c.map);
    struct reader_ops ops = {read_column, read_record, NULL};
    uint64_t before = ds->records;
    ds->na_tokens = fmt == READER_CSV;
    struct reader *r = reader_new(fmt, NULL, &ops, &c);
    if (r == NULL)
        return -1;
    reader_feed(r, data, len);
    reader_finish(r);
    reader_free(r);
    bool oom = c.oom || colmap_failed(&c.map);
    colmap_free(&c.map);
    return oom ? -1 : (long)(ds->records - before);
}
