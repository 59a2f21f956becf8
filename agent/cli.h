/*
 * The subcommands of the driftd binary. Each returns the process exit
 * status: 0 success / no drift, 1 dataset drift (check), 2 usage, input or
 * configuration error.
 */
#ifndef DRIFTD_AGENT_CLI_H
#define DRIFTD_AGENT_CLI_H

#include "lib/sha256.h"

int cmd_baseline(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* Usage text of a subcommand (NULL name: the overview); NULL if unknown. */
const char *cli_usage(const char *name);

#endif
