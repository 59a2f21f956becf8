/*
 * The table of source kinds (agent/source_table.c).
 */
#ifndef DRIFTD_AGENT_SOURCE_TABLE_H
#define DRIFTD_AGENT_SOURCE_TABLE_H

#include "agent/source.h"

/* The source of a configured input, of the kind its type names; NULL out
 * of memory. conf must outlive it (reloads repoint it). */
struct source *source_new(struct daemon *core, struct event_base *base,
                          const struct input_conf *conf);

#endif
