/*
 * A whole file in memory, for the one-shot commands: mapped (or standard
 * input read) into memory, so a reader can pass over it twice.
 */
#ifndef DRIFTD_AGENT_MEMFILE_H
#define DRIFTD_AGENT_MEMFILE_H

#include <stddef.h>
#include <sys/types.h>

struct memfile {
    const char *name; /* for messages: the path, or "<stdin>" */
    const char *data;
    size_t len;
    void *map;   /* mmap'd region, or NULL */
    char *owned; /* malloc'd copy (stdin, pipes), or NULL */
};

/* Open path ("-" for standard input). On error prints "driftd: PATH: why"
 * to stderr and returns -1. */
int memfile_open(struct memfile *in, const char *path);
void memfile_close(struct memfile *in);

/* The CSV separator to read a file with: `chosen` when the user chose
 * one; else ',' unless the header line has no comma but a ';', tab or
 * '|' (then that one, and a line on stderr says so). */
char memfile_delimiter(const struct memfile *in, int fmt, char chosen);

#endif
