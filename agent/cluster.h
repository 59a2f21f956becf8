/*
 * Replicas of one model on NATS JetStream (docs/scale-out.md): one leader
 * at a time, by a lease in a key-value bucket whose TTL is lease_seconds,
 * and the state the leader shares with its successors in another bucket.
 *
 * A thread of its own takes and renews the lease (the client library's
 * calls wait for the server); the loop learns of a change through an
 * eventfd and asks cluster_acting() before each thing only a leader does.
 * A leader acts only while its last renewal is younger than two thirds of
 * the lease (a renewal is sent every third): it stops before the key can
 * expire and another replica take it, so two never act at once. Writes of
 * the shared state carry the revision last read or written; one that
 * finds another revision means another replica leads, and this one stops.
 */
#ifndef DRIFTD_AGENT_CLUSTER_H
#define DRIFTD_AGENT_CLUSTER_H

#include "agent/config.h"
#include "lib/sbuf.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

struct cluster;

/* A cluster member for cfg's model, connecting with its nats input's
 * servers and credentials; changed(arg) runs on the loop after the role
 * changed. NULL out of memory or when the options cannot be made (logged). */
struct cluster *cluster_new(struct event_base *base, const struct config *cfg,
                            const struct input_conf *nats, void (*changed)(void *arg), void *arg);
/* Connect and begin contending for the lease. -1 (logged) when it cannot. */
int cluster_start(struct cluster *c);
/* Give up the lease (deleted when still ours) and stop; then free. */
void cluster_free(struct cluster *c);

/* Whether this replica leads and may act now. */
bool cluster_acting(const struct cluster *c);
/* Stop leading and do not contend again until cluster_contend: why is
 * shown in the status (it lacks the adopted baseline, say). */
void cluster_resign(struct cluster *c, const char *why);
void cluster_contend(struct cluster *c);

/* Read the shared state (waits for the server, at most a few seconds):
 * 0 with *json malloc'd (NULL when there is none yet), or -1. */
int cluster_load(struct cluster *c, char **json, size_t *len);
/* Write the shared state over the revision last read or written: 0; -1
 * when it could not be written (the server did not answer: try again); -2
 * when another replica wrote meanwhile (this one no longer leads). */
int cluster_commit(struct cluster *c, const char *json, size_t len);

/* The "cluster" object of /v1/status: role, instance, holder, revision. */
void cluster_status_json(const struct cluster *c, struct sbuf *out);
/* For /readyz: why the member cannot coordinate (no server), or NULL. */
const char *cluster_not_ready(const struct cluster *c, char *buf, size_t len);
/* Counters for /metrics. */
struct cluster_counts {
    bool leader;
    uint64_t acquired, lost, renew_failed, commits, commit_failed;
};
struct cluster_counts cluster_counts(const struct cluster *c);

#endif
