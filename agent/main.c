/*
 * driftd: data-drift monitoring for machine-learning models. The binary's
 * entry point only dispatches to a subcommand.
 */
#include "agent/cli.h"

#include <malloc.h>
#include <stdint.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The one-shot commands fill tens of megabytes of fresh memory (samples,
 * columns, check's batches), and the kernel zeroing it 4 KiB at a time was
 * a fifth of their time. Their heap gets 256 MiB of address space at once
 * (pages are only touched as they are used), backed by transparent huge
 * pages, and one arena: the batches check's reading threads fill and the
 * main thread frees are then reused instead of coming, fresh, from heaps
 * of their own (14,000 page faults a check of the bench data before,
 * 1,300 after). glibc madvises its heap only when told before the process
 * starts (GLIBC_TUNABLES), which cost a second exec, 5 ms;
 * DRIFTD_NO_HUGEPAGES=1 leaves the heap as glibc makes it. */
static void one_shot_heap(void)
{
    mallopt(M_ARENA_MAX, 1);
    if (getenv("DRIFTD_NO_HUGEPAGES") != NULL)
        return;
    mallopt(M_TOP_PAD, 256 << 20);
    void *p = malloc(1 << 20); /* more than the heap has left: it grows by the pad */
    void *top = sbrk(0);
    uintptr_t huge = 2u << 20;
    uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    if (p != NULL && top != (void *)-1 && (uintptr_t)top > from)
        (void)madvise((void *)from, (uintptr_t)top - from, MADV_HUGEPAGE); /* a hint */
    free(p);
    mallopt(M_TOP_PAD, 128 << 10); /* glibc's default again */
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"baseline", cmd_baseline}, {"check", cmd_check},     {"run", cmd_run},
                {"validate", cmd_validate}, {"version", cmd_version}, {"help", cmd_help}};

    /* Columns and samples are large, short-lived arrays: keep freed memory
     * in the heap instead of unmapping and faulting it in again. */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    if (argc >= 2 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "baseline") == 0))
        one_shot_heap();

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
