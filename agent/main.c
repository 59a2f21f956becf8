/*
 * driftd: data-drift monitoring for machine-learning models. The binary's
 * entry point only dispatches to a subcommand.
 */
#include "agent/cli.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"baseline", cmd_baseline}, {"check", cmd_check},     {"run", cmd_run},
                {"validate", cmd_validate}, {"version", cmd_version}, {"help", cmd_help}};

    /* The one-shot commands fill tens of megabytes of fresh memory (samples,
     * columns); with 4 KiB pages a fifth of their time went to page faults.
     * glibc backs malloc with transparent huge pages only when told so
     * before the process starts, so run once more with the tunable set
     * (measured in docs/benchmarks.md; DRIFTD_NO_REEXEC=1 turns it off). */
    if (argc >= 2 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "baseline") == 0) &&
        getenv("GLIBC_TUNABLES") == NULL && getenv("DRIFTD_NO_REEXEC") == NULL) {
        setenv("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1", 1);
        execv("/proc/self/exe", argv);
        unsetenv("GLIBC_TUNABLES"); /* no /proc: go on with small pages */
    }
    /* Columns and samples are large, short-lived arrays: keep freed memory
     * in the heap instead of unmapping and faulting it in again. */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    /* check's reading threads fill batches the main thread drains and
     * frees: with an arena per thread each batch came from a heap of its
     * own, in small pages, and was seldom reused (14,000 page faults on
     * the bench data); one arena, backed by huge pages, takes 1,500. */
    if (argc >= 2 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "baseline") == 0))
        mallopt(M_ARENA_MAX, 1);

    if (argc < 2) {
        fputs(cli_usage(NULL), stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv);
    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "driftd: unknown subcommand \"%s\"\n\n%s", argv[1], cli_usage(NULL));
    return 2;
}
