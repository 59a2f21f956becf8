#include "lib/errors.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void errlist_add(struct errlist *e, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char **v = realloc(e->msgs, (e->n + 1) * sizeof(char *));
    if (v == NULL) {
        e->dropped++;
        return;
    }
    e->msgs = v;
    if ((v[e->n] = strdup(msg)) != NULL)
        e->n++;
    else
        e->dropped++;
}

void errlist_print(const struct errlist *e, FILE *out)
{
    for (size_t i = 0; i < e->n; i++)
        fprintf(out, "driftd: %s\n", e->msgs[i]);
    if (e->dropped > 0)
        fprintf(out, "driftd: (%zu more errors lost: out of memory)\n", e->dropped);
}

void errlist_free(struct errlist *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    e->msgs = NULL;
    e->n = 0;
    e->dropped = 0;
}
