#include "agent/window.h"

#include "agent/dict.h"
#include "stats/reservoir.h"

#include <math.h>
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
                bool na_tokens)
{
    w->records++;
    size_t slot = stats_reservoir_offer(w->res);
    if (slot == STATS_RESERVOIR_DROP)
        return false;
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
