/*
 * Loading a baseline file for the one-shot commands, and `check`'s cache
 * of its sample arrays: BASELINE.cache beside it, the parsed arrays as
 * machine doubles after a header naming the baseline's SHA-256 and file
 * status. Parsing the arrays is most of the load of a large baseline;
 * reading them from the cache is a mapping and a checksum. The cache is
 * never required: one that is missing, stale, foreign or damaged is
 * ignored (and written anew when the directory allows).
 */
#ifndef DRIFTD_AGENT_BCACHE_H
#define DRIFTD_AGENT_BCACHE_H

#include "lib/sha256.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stats_baseline;

/* Load and validate a baseline file (the error printed); with sha, also the
 * SHA-256 of the very bytes parsed (hex; "" when it could not be taken),
 * hashed on a second thread while they are parsed. */
struct stats_baseline *load_baseline(const char *path, char sha[SHA256_HEX_LEN + 1]);

/* load_baseline for `check`: the samples from path's cache when it is one
 * of these bytes, else parsed and the cache written. With DRIFTD_DEBUG set
 * it says on stderr where the samples came from. */
struct stats_baseline *load_baseline_cached(const char *path, char sha[SHA256_HEX_LEN + 1]);

/* The cache file's header (exposed for the fuzz target). */
struct bcache_header {
    char magic[8];       /* "DRIFTDBC" */
    uint32_t version;    /* BCACHE_VERSION */
    uint32_t endian;     /* 0x01020304 as the writer stored it */
    uint64_t json_bytes; /* the baseline's size */
    uint64_t dev, ino;   /* the baseline's status when the cache was written */
    uint64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
    uint64_t written_s;          /* when the cache was written */
    char sha256[SHA256_HEX_LEN]; /* of the baseline's bytes */
    uint64_t check;              /* checksum of the words above */
};
#define BCACHE_VERSION 1

/* Whether the first len bytes of a cache file hold a header this driftd
 * wrote, for a baseline of json_bytes bytes. */
bool bcache_header_ok(const void *data, size_t len, uint64_t json_bytes);

#endif
