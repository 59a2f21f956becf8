/*
 * Whole-file input for the one-shot commands: a file mapped (or standard
 * input read) into memory, so a reader can pass over it twice.
 */
#ifndef DRIFTD_AGENT_INPUT_H
#define DRIFTD_AGENT_INPUT_H

#include <stddef.h>
#include <sys/types.h>

struct input {
    const char *name; /* for messages: the path, or "<stdin>" */
    const char *data;
    size_t len;
    void *map;   /* mmap'd region, or NULL */
    char *owned; /* malloc'd copy (stdin, pipes), or NULL */
};

/* Open path ("-" for standard input). On error prints "driftd: PATH: why"
 * to stderr and returns -1. */
int input_open(struct input *in, const char *path);
void input_close(struct input *in);

#endif
