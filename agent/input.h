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

/* Read a whole (small) file into a NUL-terminated buffer; NULL with errno. */
char *read_file(const char *path, size_t *len);

/* Write data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory. Returns 0 or -1 with errno. Neither the
 * temp file nor path is written through a symlink (a link planted there is
 * replaced, not followed); the file gets mode 0644. */
int write_file_atomic(const char *path, const char *data, size_t len);
/* The same with the file's mode, whatever the umask (0600 for state). */
int write_file_atomic_mode(const char *path, const char *data, size_t len, mode_t mode);

#endif
