/*
 * The baseline a retraining run publishes (docs/integrations.md, "The
 * run's baseline artifact"): the run's artifact listed through GitHub's
 * REST API, its zip downloaded through the 302 GitHub answers (followed
 * with a fresh request that carries no Authorization header: the storage
 * host is another origin), its sha256 checked against the listing's
 * digest, and ONE member read from the zip in memory. Nothing is written
 * to disk here; what to do with the bytes is the caller's.
 *
 * Two layers: artifact_zip_member, a pure function over bytes in memory
 * (what the fuzz target drives), and the fetch on the event loop through
 * the curl multi client. alerts/github.c holds the token and wraps the
 * fetch as github_fetch_artifact; use that one.
 */
#ifndef DRIFTD_ALERTS_ARTIFACT_H
#define DRIFTD_ALERTS_ARTIFACT_H

#include "alerts/http_client.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A zip with more entries than this is refused before any member is
 * read. A run's artifact holds a handful of files (model, metrics,
 * baseline); the limit bounds the work a hostile central directory can
 * cause once libzip has parsed it (its size is bounded by max_bytes). */
#define ARTIFACT_MAX_MEMBERS 1000

/* The artifact listing's answer is kept up to this size. */
#define ARTIFACT_LISTING_MAX (1024 * 1024)

/* Read the member named exactly `member` (bytes compared as stored, no
 * path handling: "../../x" is a name like any other and never touches the
 * disk) from the zip held in zip[0..len). Refused: not a zip, a truncated
 * one, more than ARTIFACT_MAX_MEMBERS entries, no such member, the member
 * twice, a member whose header declares more than max_size bytes or that
 * inflates to more (reading stops at max_size + 1 whatever the header
 * says), encryption, an unknown compression method, a CRC that does not
 * match. On success *out is a malloc'd copy (NUL-terminated, the caller
 * frees it) of *out_len bytes and 0 is returned; on failure -1, *out NULL
 * and err holds "zip: ..." naming the member and what is wrong. */
int artifact_zip_member(const void *zip, size_t len, const char *member, size_t max_size,
                        char **out, size_t *out_len, char *err, size_t errlen);

/* The outcome of a fetch, valid only during the done callback. */
struct artifact_result {
    bool ok;
    bool permanent;     /* failed and a retry would not help (404, expired,
                         * too large, digest mismatch, bad zip, ...) */
    const char *reason; /* "" when ok, else what failed and where */
    /* The member's bytes (NUL-terminated), owned by the fetch and freed
     * right after the callback returns: copy what you keep. NULL unless ok. */
    const char *data;
    size_t len;
    uint64_t run_id, artifact_id; /* artifact_id 0 when none was found */
    const char *artifact_name;
    const char *member;
    const char *zip_sha256; /* 64 hex digits, "" when nothing was downloaded */
    const char *digest;     /* the listing's "sha256:...", "" when it had none */
    const char *run_url;    /* as the caller gave it ("" when unknown) */
    size_t zip_bytes;       /* the zip's size as downloaded */
    unsigned attempts;      /* 1 for a fetch that needed no retry */
};

typedef void (*artifact_done_fn)(void *arg, const struct artifact_result *r);

/* What to fetch, and how to talk to GitHub. Strings are copied, except
 * headers: the array and its strings (the Authorization value lives in
 * the caller's secret memory) must outlive the fetch. */
struct artifact_fetch_settings {
    const char *api_url;               /* no trailing slash */
    const char *repository;            /* owner/name */
    const struct http_header *headers; /* sent to api_url only, never to the storage host */
    size_t n_headers;
    const char *ca_file;
    double timeout; /* seconds per request; <= 0: 60 */
    double max_age; /* retry transient failures for this long; <= 0: 24 h */
    uint64_t run_id;
    const char *artifact_name;
    size_t max_bytes; /* the zip and the member: each at most this */
    const char *member;
    const char *run_url; /* carried into the result */
};

struct artifact_fetch;

/* Start a fetch; done is called once, from the loop, with the outcome,
 * then the fetch frees itself (do not call artifact_fetch_free after
 * done). NULL when it cannot start (out of memory, a setting missing). */
struct artifact_fetch *artifact_fetch_start(const struct artifact_fetch_settings *s,
                                            struct http_client *http, struct event_base *base,
                                            double (*now)(void), artifact_done_fn done, void *arg);

/* Abandon a fetch before its done callback: its transfer in flight is
 * cancelled (http_client_cancel) and done is never called. NULL is fine. */
void artifact_fetch_free(struct artifact_fetch *f);

/* Tests only: multiply every retry delay by scale (1 by default), so
 * that a test of a retry does not wait the full second of the back-off. */
void artifact_test_backoff_scale(double scale);

#endif
