#include "agent/dict.h"

#include <stdlib.h>
#include <string.h>

struct dict_key {
    char *s;
    size_t len;
    uint32_t hash;
};

struct dict {
    uint32_t *slots; /* id + 1, 0 = empty */
    size_t nslots;   /* power of two */
    struct dict_key *keys;
    size_t nkeys, capkeys;
};

static uint32_t fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

struct dict *dict_new(void)
{
    struct dict *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->nslots = 64;
    if ((d->slots = calloc(d->nslots, sizeof(*d->slots))) == NULL) {
        free(d);
        return NULL;
    }
    return d;
}

void dict_free(struct dict *d)
{
    if (d == NULL)
        return;
    for (size_t i = 0; i < d->nkeys; i++)
        free(d->keys[i].s);
    free(d->keys);
    free(d->slots);
    free(d);
}

/* Slot holding the key, or the empty slot where it would go. */
static size_t find_slot(const struct dict *d, const char *key, size_t len, uint32_t h)
{
    size_t mask = d->nslots - 1, i = h & mask;
    for (;;) {
        uint32_t v = d->slots[i];
        if (v == 0)
            return i;
        const struct dict_key *k = &d->keys[v - 1];
        if (k->hash == h && k->len == len && memcmp(k->s, key, len) == 0)
            return i;
        i = (i + 1) & mask;
    }
}

uint32_t dict_get(const struct dict *d, const char *key, size_t len)
{
    uint32_t v = d->slots[find_slot(d, key, len, fnv1a(key, len))];
    return v == 0 ? DICT_NONE : v - 1;
}

/* Double the table when it is more than half full. */
static int grow(struct dict *d)
{
    size_t n = d->nslots * 2;
    uint32_t *slots = calloc(n, sizeof(*slots));
    if (slots == NULL)
        return -1;
    for (size_t id = 0; id < d->nkeys; id++) {
        size_t i = d->keys[id].hash & (n - 1);
        while (slots[i] != 0)
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)id + 1;
    }
    free(d->slots);
    d->slots = slots;
    d->nslots = n;
    return 0;
}

uint32_t dict_intern(struct dict *d, const char *key, size_t len, size_t limit, int *added)
{
    uint32_t h = fnv1a(key, len);
    size_t slot = find_slot(d, key, len, h);

    if (added != NULL)
        *added = 0;
    if (d->slots[slot] != 0)
        return d->slots[slot] - 1;
    if (d->nkeys >= limit || d->nkeys >= UINT32_MAX - 1)
        return DICT_NONE;
    /* Keep the table at most half full so probing stays short and ends. */
    if ((d->nkeys + 1) * 2 > d->nslots) {
        if (grow(d) != 0)
            return DICT_NONE;
        slot = find_slot(d, key, len, h);
    }
    if (d->nkeys == d->capkeys) {
        size_t cap = d->capkeys ? d->capkeys * 2 : 16;
        struct dict_key *k = realloc(d->keys, cap * sizeof(*k));
        if (k == NULL)
            return DICT_NONE;
        d->keys = k;
        d->capkeys = cap;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return DICT_NONE;
    memcpy(copy, key, len);
    copy[len] = '\0';
    d->keys[d->nkeys] = (struct dict_key){copy, len, h};
    d->slots[slot] = (uint32_t)d->nkeys + 1;
    d->nkeys++;
    if (added != NULL)
        *added = 1;
    return (uint32_t)d->nkeys - 1;
}

const char *dict_key(const struct dict *d, uint32_t id, size_t *len)
{
    if (id >= d->nkeys)
        return NULL;
    if (len != NULL)
        *len = d->keys[id].len;
    return d->keys[id].s;
}

size_t dict_size(const struct dict *d)
{
    return d->nkeys;
}
