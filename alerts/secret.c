/* Page-aligned, MADV_DONTDUMP memory for secrets (see secret.h). */
#include "alerts/secret.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Bytes of a page, for the page-aligned secret buffers. */
static size_t page_size(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    return pg > 0 ? (size_t)pg : 4096;
}

/* Whole pages, zeroed and kept out of core dumps, for n bytes. glibc's
 * posix_memalign memory stays valid for free(): a caller that forgets
 * secret_free leaks the bytes into later dumps, it does not crash. */
char *secret_alloc(size_t n, size_t *size)
{
    size_t page = page_size();
    *size = (n + page - 1) / page * page;
    void *p = NULL;
    if (*size == 0 || posix_memalign(&p, page, *size) != 0)
        return NULL;
    memset(p, 0, *size);
    /* Not fatal when refused: the secret then works, only less protected. */
    (void)madvise(p, *size, MADV_DONTDUMP);
    return p;
}

/* Zero n bytes of a secret buffer of `size` and give it back. */
void secret_release(char *p, size_t n, size_t size)
{
    explicit_bzero(p, n);
    (void)madvise(p, size, MADV_DODUMP); /* the heap reuses the pages */
    free(p);
}

/* A copy of s in secret pages. */
char *secret_dup(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s), size;
    char *p = secret_alloc(n + 1, &size);
    if (p != NULL)
        memcpy(p, s, n);
    return p;
}

/* Zero and free what secret_dup made. */
void secret_free(char *s)
{
    if (s == NULL)
        return;
    size_t n = strlen(s), page = page_size();
    /* secret_dup sized it: the string's pages, all past it zero */
    secret_release(s, n, (n + 1 + page - 1) / page * page);
}
