/*
 * SHA-256 (FIPS 180-4), for naming the exact baseline file a report was
 * made from. None of driftd's libraries (libevent, libcurl, cJSON, GSL)
 * exposes a digest, so it is written here; it is not used for secrets.
 */
#ifndef DRIFTD_LIB_SHA256_H
#define DRIFTD_LIB_SHA256_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32
#define SHA256_HEX_LEN 64 /* without the terminating NUL */

/* An incremental hash: init, any number of updates, final. */
struct sha256 {
    uint32_t h[8];
    uint64_t bytes; /* message length so far */
    unsigned char block[64];
    size_t used; /* bytes waiting in block */
};

/* Start a hash with FIPS 180-4's initial value (section 5.3.3). */
void sha256_init(struct sha256 *c);
/* Add len bytes of the message. */
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Pad, finish and write the 32-byte digest; c must be initialised again
 * before another use. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_DIGEST_LEN]);

/* The digest of data as 64 lowercase hex digits and a NUL, as sha256sum
 * prints it. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);
/* The same for a whole file; -1 with errno when it cannot be read. */
int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1]);

/* sha256_hex on a thread of its own, beside the caller's work on the same
 * bytes: start, work, join (which hashes on the calling thread when no
 * thread could be started). out is written by the join. */
struct sha256_async {
    pthread_t tid;
    bool started;
    const void *data;
    size_t len;
    char *out;
};
void sha256_async_start(struct sha256_async *a, const void *data, size_t len,
                        char out[SHA256_HEX_LEN + 1]);
void sha256_async_join(struct sha256_async *a);

/* Tests only: false hashes with the portable code even where the CPU has
 * the SHA extensions (both must give the same digests). */
void sha256_use_cpu_extensions(bool on);

#endif
