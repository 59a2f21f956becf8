/*
 * Durable delivery (docs/alerts.md, "Delivery: spool, retries, dead
 * letters"): every
 * notification is written to a spool file (fsync, rename) before its first
 * attempt and removed only after success. One scheduler owns retries
 * (Fluent Bit's rule: targets only say OK / RETRY / ERROR): full-jitter
 * exponential back-off, Retry-After honoured, permanent failures and
 * entries older than max_age moved to dead-letter/. Each target sends one
 * entry at a time, in order, so a slow target never delays another and a
 * "resolved" never overtakes its "firing". On start the spool is replayed.
 *
 * A spool that cannot be written (full, read-only, out of descriptors)
 * never costs a notification: it is kept and sent from memory, counted as
 * not durable, and outbox_write_error says so until a write works again.
 * File names carry a sequence number that never repeats, whatever the
 * clock does; replay follows it.
 */
#ifndef DRIFTD_ALERTS_OUTBOX_H
#define DRIFTD_ALERTS_OUTBOX_H

#include "alerts/http_client.h"

#include <event2/event.h>
#include <stdint.h>

enum deliver_result { DELIVER_OK, DELIVER_RETRY, DELIVER_FAIL };

/* A destination (a sink, GitHub): builds the request for a spooled body
 * and judges the answer. Strings it sets in req must live until the next
 * call on the same target. */
struct outbox_target_ops {
    int (*request)(void *ctx, const char *body, size_t len, struct http_request *req);
    /* NULL: 2xx OK; 408, 429, 5xx, no answer: RETRY; other: FAIL. *wait
     * may ask for a least delay before the retry (seconds). */
    enum deliver_result (*classify)(void *ctx, const struct http_response *res, double *wait);
    /* After the final outcome (OK or FAIL); may be NULL. */
    void (*finished)(void *ctx, const char *body, size_t len, enum deliver_result r,
                     const struct http_response *res);
};

struct outbox_stats {
    uint64_t sent, retried, failed, queued;
    uint64_t dropped;     /* lost: could not even be kept in memory */
    uint64_t not_durable; /* queued in memory only: the spool could not be written */
    uint64_t not_removed; /* delivered, but its spool file could not be removed */
};

struct outbox;

/* Spool in state_dir/spool/, dead letters in state_dir/dead-letter/ (both
 * created, mode 0700); dead letters an older driftd left in
 * state_dir/spool/dead-letter/ are moved there. now is the only clock.
 * The outbox logs through lib/log.h. */
struct outbox *outbox_new(struct event_base *base, struct http_client *http, const char *state_dir,
                          double (*now)(void));
void outbox_free(struct outbox *ob);

/* Register a target under a stable name (spool files carry it). */
int outbox_add_target(struct outbox *ob, const char *name, const struct outbox_target_ops *ops,
                      void *ctx, double max_age);
/* Replace a target's callbacks and context (reload), keeping its queue. */
int outbox_update_target(struct outbox *ob, const char *name, const struct outbox_target_ops *ops,
                         void *ctx, double max_age);

/* Spool body for target and schedule it. Returns 0 when it is queued: on
 * disk, or, when the spool cannot be written, in memory only (counted in
 * not_durable, logged, outbox_write_error set). -1 when it is lost: no
 * such target, or out of memory (counted in dropped). */
int outbox_enqueue(struct outbox *ob, const char *target, const char *body, size_t len);

/* Load spool files left by an earlier run and schedule them, in the order
 * they were queued. Files already queued, or delivered by this process but
 * not removable, are not loaded again. */
void outbox_replay(struct outbox *ob);

/* NULL while the spool and dead-letter directories can be written, else
 * "<directory>: <error>" of the last failure. Cleared by the next write
 * there that works; tried again every few seconds meanwhile. Owned by ob. */
const char *outbox_write_error(const struct outbox *ob);

/* Counters of a target (zeros for an unknown one), and of all targets. */
struct outbox_stats outbox_stats(const struct outbox *ob, const char *target);
struct outbox_stats outbox_totals(const struct outbox *ob);

/* Back-off of attempt n (1-based): uniform in [base, min(cap, base*2^n)]. */
double outbox_backoff(unsigned attempt, double u01);

#endif
