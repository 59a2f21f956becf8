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

struct stats_baseline;
/* Load and validate a baseline file; prints the error and returns NULL. */
/* Load and validate a baseline file (the error printed); with sha, also the
 * SHA-256 of the very bytes parsed (hex; "" when it could not be taken),
 * hashed on a second thread while they are parsed. */
struct stats_baseline *load_baseline(const char *path, char sha[SHA256_HEX_LEN + 1]);

/* Usage text of a subcommand (NULL name: the overview); NULL if unknown. */
const char *cli_usage(const char *name);

#endif
