/*
 * A list of error messages, for the checks that report every error before
 * giving up (a configuration, a reload), as OpenSMTPD's `smtpd -n` does.
 */
#ifndef DRIFTD_LIB_ERRORS_H
#define DRIFTD_LIB_ERRORS_H

#include <stddef.h>
#include <stdio.h>

struct errlist {
    char **msgs;
    size_t n;
    size_t dropped; /* messages lost to a failed allocation */
};

/* Append one message (formatted; cut at 1 KiB). */
void errlist_add(struct errlist *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Each message as a "driftd: MESSAGE" line. */
void errlist_print(const struct errlist *e, FILE *out);
void errlist_free(struct errlist *e);

#endif
