/*
 * Memory for secrets (tokens, URLs that embed one): whole pages, zeroed,
 * marked MADV_DONTDUMP so a core dump does not carry them, and zeroed
 * again before they are given back. Below the agent so that the GitHub
 * client's own copies (the token, its Authorization header) get the same
 * care as the daemon's. libcurl's copy of a request's headers, made for
 * the time of the transfer, is out of our hands: the units' LimitCORE=0
 * is the other half.
 */
#ifndef DRIFTD_ALERTS_SECRET_H
#define DRIFTD_ALERTS_SECRET_H

#include <stddef.h>

/* Whole pages for n bytes, zeroed; *size is what was taken. NULL on out
 * of memory. Plain free() of the result is safe (it leaks the protection,
 * not memory): posix_memalign memory. */
char *secret_alloc(size_t n, size_t *size);
/* Zero the first n bytes of a secret_alloc buffer of `size` and free it. */
void secret_release(char *p, size_t n, size_t size);
/* A protected copy of s (NULL: NULL, or out of memory). */
char *secret_dup(const char *s);
/* Zero and free a secret_dup copy (NULL is fine). */
void secret_free(char *s);

#endif
