/*
 * The stdin source: reads records from standard input (a pipe) until its
 * end.
 */
#ifndef DRIFTD_AGENT_IN_STDIN_H
#define DRIFTD_AGENT_IN_STDIN_H

#include "agent/source.h"

extern const struct source_ops in_stdin_ops;

#endif
