/*
 * The tail source: follows a file as it grows, across rotation and
 * truncation, and saves where it is with the counters that include it.
 */
#ifndef DRIFTD_AGENT_IN_TAIL_H
#define DRIFTD_AGENT_IN_TAIL_H

#include "agent/source.h"

extern const struct source_ops in_tail_ops;

#endif
