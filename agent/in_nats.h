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

#endif
