/*
 * One growable column -> feature map for every reader consumer, instead of
 * a realloc loop in each reader callback.
 */
#include "agent/colmap.h"

#include <stdlib.h>
#include <string.h>

void colmap_init(struct colmap *m)
{
    *m = (struct colmap){NULL, 0, 0, false, 0};
}

/* Make room for entry `index`, new entries unmapped; false on ENOMEM. */
static bool grow(struct colmap *m, size_t index)
{
    if (index < m->cap)
        return true;
    size_t cap = m->cap ? m->cap * 2 : 64;
    while (cap <= index)
        cap *= 2;
    long *map = realloc(m->map, cap * sizeof(*map));
    if (map == NULL)
        return false;
    for (size_t i = m->cap; i < cap; i++)
        map[i] = -1;
    m->map = map;
    m->cap = cap;
    return true;
}

int colmap_map(struct colmap *m, const struct stats_baseline *b, size_t index, const char *name,
               size_t len)
{
    if (!grow(m, index)) {
        m->failed = true;
        return -1;
    }
    if (index + 1 > m->n)
        m->n = index + 1;
    /* stats_baseline_find wants a C string; most names fit on the stack */
    size_t n = name != NULL ? strnlen(name, len) : 0;
    char small[128];
    char *tmp = n < sizeof(small) ? small : malloc(n + 1);
    if (tmp == NULL) {
        m->failed = true;
        m->map[index] = -1;
        return -1;
    }
    if (n > 0)
        memcpy(tmp, name, n);
    tmp[n] = '\0';
    m->map[index] = stats_baseline_find(b, tmp);
    if (tmp != small)
        free(tmp);
    return m->map[index] < 0 ? -1 : 0;
}

size_t colmap_size(const struct colmap *m)
{
    return m->n;
}

bool colmap_failed(const struct colmap *m)
{
    return m->failed;
}

void colmap_reset(struct colmap *m)
{
    for (size_t i = 0; i < m->n; i++)
        m->map[i] = -1;
    m->n = 0;
    m->failed = false;
    m->version = 0;
}

void colmap_free(struct colmap *m)
{
    free(m->map);
    colmap_init(m);
}
