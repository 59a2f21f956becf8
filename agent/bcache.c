#include "agent/bcache.h"

#include "lib/file.h"
#include "lib/sbuf.h"
#include "stats/baseline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(sizeof(struct bcache_header) % 8 == 0, "the samples' part must start aligned");

static const char magic[8] = {'D', 'R', 'I', 'F', 'T', 'D', 'B', 'C'};

/* FNV-1a over the header's bytes before its checksum. */
static uint64_t header_check(const struct bcache_header *h)
{
    const unsigned char *p = (const unsigned char *)h;
    uint64_t x = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < offsetof(struct bcache_header, check); i++)
        x = (x ^ p[i]) * 0x100000001b3ULL;
    return x;
}

bool bcache_header_ok(const void *data, size_t len, uint64_t json_bytes)
{
    struct bcache_header h;
    if (len < sizeof(h))
        return false;
    memcpy(&h, data, sizeof(h));
    return memcmp(h.magic, magic, sizeof(magic)) == 0 && h.version == BCACHE_VERSION &&
           h.endian == 0x01020304 && h.json_bytes == json_bytes && h.check == header_check(&h);
}

/* The file at path mapped read-only (*fd_st its status), or NULL (empty,
 * unreadable, not a regular file: file_read then says why). Mapped pages
 * come from the page cache; a buffer read into would be fresh memory,
 * zeroed by the kernel first, which cost as much as the parse of a large
 * baseline. populate: map every page now, for a file read whole (else
 * pages are mapped as they are read: a baseline whose samples come from
 * its cache is read only around them, 0.45 ms less for the bench's). */
static void *map_file(const char *path, int flags, bool populate, size_t *len, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | flags);
    if (fd < 0)
        return NULL;
    void *m = MAP_FAILED;
    if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_size > 0)
        m = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_PRIVATE | (populate ? MAP_POPULATE : 0),
                 fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return NULL;
    *len = (size_t)st->st_size;
    return m;
}

/* Parse a baseline's bytes and, when sha is not NULL, take their SHA-256:
 * the digest of a 100k-row baseline costs about as much as its parse, so
 * it is taken beside it, not after (no second read of the file either). */
static struct stats_baseline *parse_and_hash(const char *path, const char *text, size_t len,
                                             struct stats_baseline_cache *cache, char *sha)
{
    struct sha256_async hash;
    if (sha != NULL)
        sha256_async_start(&hash, text, len, sha);
    struct stats_baseline *b = NULL;
    char err[512];
    if (stats_baseline_parse_cached(text, len, path, cache, &b, err, sizeof(err)) != 0)
        fprintf(stderr, "driftd: %s\n", err);
    if (sha != NULL)
        sha256_async_join(&hash);
    return b;
}

struct stats_baseline *load_baseline(const char *path, char sha[SHA256_HEX_LEN + 1])
{
    size_t len;
    struct stat st;
    const char *mapped = map_file(path, 0, true, &len, &st);
    char *text = mapped != NULL ? NULL : file_read(path, &len);
    if (sha != NULL)
        sha[0] = '\0';
    if (mapped != NULL) {
        struct stats_baseline *b = parse_and_hash(path, mapped, len, NULL, sha);
        munmap((void *)mapped, len);
        return b;
    }
    if (text == NULL) {
        fprintf(stderr, "driftd: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    struct stats_baseline *b = parse_and_hash(path, text, len, NULL, sha);
    free(text);
    return b;
}

/* Where a baseline's cache is; false when the name would be too long. */
static bool cache_path(const char *path, char out[PATH_MAX])
{
    int n = snprintf(out, PATH_MAX, "%s.cache", path);
    return n > 0 && n < PATH_MAX;
}

/* Does the baseline still have the status the cache recorded, long enough
 * before the cache was written that a change since would show? A write
 * sets the change time (which no call can set back), a rename another
 * inode; the two seconds are git's "racy" case: a change within the same
 * clock tick as the status taken could leave the status as it was. */
static bool same_status(const struct bcache_header *h, const struct stat *st)
{
    return h->dev == (uint64_t)st->st_dev && h->ino == (uint64_t)st->st_ino &&
           h->mtime_s == (uint64_t)st->st_mtim.tv_sec &&
           h->mtime_ns == (uint64_t)st->st_mtim.tv_nsec &&
           h->ctime_s == (uint64_t)st->st_ctim.tv_sec &&
           h->ctime_ns == (uint64_t)st->st_ctim.tv_nsec && h->ctime_s + 2 <= h->written_s;
}

/* Is a cache file one to read: a regular file of this user's or of the
 * baseline's owner, which no one else can write? */
static bool cache_trusted(const struct stat *cst, const struct stat *st)
{
    return S_ISREG(cst->st_mode) && (cst->st_mode & (S_IWGRP | S_IWOTH)) == 0 &&
           (cst->st_uid == geteuid() || cst->st_uid == st->st_uid);
}

/* The header of a cache of the baseline of status st and digest sha. */
static void header_make(struct bcache_header *h, const struct stat *st, const char *sha)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, magic, sizeof(magic));
    h->version = BCACHE_VERSION;
    h->endian = 0x01020304;
    h->json_bytes = (uint64_t)st->st_size;
    h->dev = (uint64_t)st->st_dev;
    h->ino = (uint64_t)st->st_ino;
    h->mtime_s = (uint64_t)st->st_mtim.tv_sec;
    h->mtime_ns = (uint64_t)st->st_mtim.tv_nsec;
    h->ctime_s = (uint64_t)st->st_ctim.tv_sec;
    h->ctime_ns = (uint64_t)st->st_ctim.tv_nsec;
    h->written_s = (uint64_t)time(NULL);
    memcpy(h->sha256, sha, SHA256_HEX_LEN);
    h->check = header_check(h);
}

/* A cache found by its hash gets the baseline's status, so that the next
 * check need not hash: its header rewritten in place (a reader meeting a
 * half-written header finds its checksum wrong and parses). */
static const char *header_update(const char *cpath, const struct stat *st, const char *sha)
{
    struct bcache_header h;
    header_make(&h, st, sha);
    int fd = open(cpath, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return strerror(errno);
    const char *why = NULL;
    ssize_t n = pwrite(fd, &h, sizeof(h), 0);
    if (n != (ssize_t)sizeof(h))
        why = n < 0 ? strerror(errno) : "short write";
    close(fd);
    return why;
}

/* The cache at cpath mapped when it is one this driftd wrote for a
 * baseline of st's size, with its header copied to h; else NULL. */
static void *cache_map(const char *cpath, const struct stat *st, struct bcache_header *h,
                       size_t *len)
{
    struct stat cst;
    void *m = map_file(cpath, O_NOFOLLOW, true, len, &cst);
    if (m == NULL)
        return NULL;
    if (!cache_trusted(&cst, st) || !bcache_header_ok(m, *len, (uint64_t)st->st_size)) {
        munmap(m, *len);
        return NULL;
    }
    memcpy(h, m, sizeof(*h));
    return m;
}

struct stats_baseline *load_baseline_cached(const char *path, char sha[SHA256_HEX_LEN + 1])
{
    char cpath[PATH_MAX];
    size_t len;
    struct stat st;
    const char *text = map_file(path, 0, false, &len, &st);
    if (text == NULL || !cache_path(path, cpath)) {
        if (text != NULL)
            munmap((void *)text, len);
        return load_baseline(path, sha);
    }
    bool debug = getenv("DRIFTD_DEBUG") != NULL;
    struct bcache_header h;
    memset(&h, 0, sizeof(h));
    size_t clen = 0;
    void *cmap = cache_map(cpath, &st, &h, &clen);
    /* the new cache, if one is written: its header, then the samples' part */
    struct sbuf out;
    sbuf_init(&out);
    sbuf_add(&out, (const char *)&h, sizeof(h));
    struct stats_baseline_cache cache = {
        .map = cmap, .maplen = clen, .payload = sizeof(h), .out = &out};
    const char *how = NULL; /* how the cache was found to be of these bytes */
    bool hashed = false;
    sha[0] = '\0';
    if (cmap != NULL && same_status(&h, &st)) {
        how = "file status";
    } else if (cmap != NULL) {
        sha256_hex(text, len, sha);
        hashed = true;
        if (memcmp(sha, h.sha256, SHA256_HEX_LEN) == 0)
            how = "SHA-256";
    }
    struct stats_baseline *b;
    if (how != NULL) {
        b = parse_and_hash(path, text, len, &cache, NULL);
        if (b != NULL && cache.used) {
            memcpy(sha, h.sha256, SHA256_HEX_LEN);
            sha[SHA256_HEX_LEN] = '\0';
            if (debug)
                fprintf(stderr, "driftd: %s: samples read from %s (the same baseline by its %s)\n",
                        path, cpath, how);
            const char *why = hashed ? header_update(cpath, &st, sha) : NULL;
            if (debug && why != NULL)
                fprintf(stderr, "driftd: %s: header not updated: %s\n", cpath, why);
            sbuf_free(&out);
            munmap((void *)text, len);
            return b;
        }
        /* its samples' part did not fit: they were parsed, and a new cache
         * is written */
        if (!hashed)
            sha256_hex(text, len, sha);
    } else {
        if (cmap != NULL)
            munmap(cmap, clen);
        cache.map = NULL;
        b = parse_and_hash(path, text, len, &cache, sha);
    }
    if (b != NULL && out.len > sizeof(h) && sha[0] != '\0') {
        header_make(&h, &st, sha);
        memcpy(out.data, &h, sizeof(h));
        /* no more readable than the baseline, and writable by its writer only */
        mode_t mode = st.st_mode & 0644;
        const char *why = file_write_atomic(cpath, out.data, out.len, mode, FILE_NOSYNC) != 0
                              ? strerror(errno)
                              : NULL;
        if (debug)
            fprintf(stderr, "driftd: %s: %s%s\n", cpath, why ? "not written: " : "written",
                    why ? why : "");
    } else if (b != NULL && debug) {
        fprintf(stderr, "driftd: %s: not written: %s\n", cpath,
                sbuf_failed(&out) ? "out of memory" : "samples unsorted or not finite");
    }
    sbuf_free(&out);
    munmap((void *)text, len);
    return b;
}
