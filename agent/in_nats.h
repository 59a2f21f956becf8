/*
 * The nats source: a durable JetStream pull consumer. Messages are fetched
 * on a thread of its own and handed to the loop through a bounded queue
 * and an eventfd; each is acknowledged once the window holding its last
 * record has been evaluated and its outcome kept (docs/scale-out.md).
 */
#ifndef DRIFTD_AGENT_IN_NATS_H
#define DRIFTD_AGENT_IN_NATS_H

#include "agent/source.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdbool.h>

extern const struct source_ops in_nats_ops;

/* "${model}" in a subject or durable name replaced by model; malloc'd, or
 * NULL out of memory. */
char *in_nats_expand(const char *tmpl, const char *model);

/* Connect options for servers and credentials of a nats input (token_file
 * or creds_file; cfgpath: the configuration file, which relative names
 * start from): 0, or -1 with the reason in err. Shared with the lease
 * (agent/cluster.c), which connects to the same servers. */
int in_nats_options(const struct input_conf *conf, const char *cfgpath, const char *name,
                    natsOptions **out, char *err, size_t errlen);

/* A connection is freed only after the library's last callback on it (its
 * closed callback), or its threads could write into freed memory. The
 * owner sets mu and cv (its own, which its other callbacks use) and
 * passes &closing as the closed callback's closure. */
struct nats_closing {
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    bool closed;
};
void in_nats_on_closed(natsConnection *nc, void *closing);
/* Close nc, wait (at most 5 s) for its closed callback, free it. */
void in_nats_close(struct nats_closing *w, natsConnection *nc);

#endif
