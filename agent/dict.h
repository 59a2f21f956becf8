/*
 * String interning: maps byte strings to dense ids 0, 1, 2, ... in order of
 * first appearance (open addressing, FNV-1a). Keys are copied.
 */
#ifndef DRIFTD_AGENT_DICT_H
#define DRIFTD_AGENT_DICT_H

#include <stddef.h>
#include <stdint.h>

#define DICT_NONE UINT32_MAX

struct dict;

struct dict *dict_new(void);
void dict_free(struct dict *d);
/* Id of the key, adding it when absent (at most `limit` keys: beyond it
 * returns DICT_NONE; DICT_NONE also on ENOMEM). *added tells a new key. */
uint32_t dict_intern(struct dict *d, const char *key, size_t len, size_t limit, int *added);
/* Id of the key or DICT_NONE. */
uint32_t dict_get(const struct dict *d, const char *key, size_t len);
/* The key of an id (NUL-terminated) and its length. */
const char *dict_key(const struct dict *d, uint32_t id, size_t *len);
size_t dict_size(const struct dict *d);

#endif
