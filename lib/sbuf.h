/*
 * A growable byte buffer for building text (reports, baselines, requests).
 * Allocation failure is sticky: later appends do nothing and sbuf_failed()
 * tells, so callers check once at the end.
 */
#ifndef DRIFTD_LIB_SBUF_H
#define DRIFTD_LIB_SBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
    char *data; /* NUL-terminated while not failed */
    size_t len, cap;
    bool failed;
};

void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
bool sbuf_failed(const struct sbuf *b);
/* Room for extra more bytes at once, when their number is known: a large
 * buffer grown by doublings is copied (and faulted in) each time. */
void sbuf_reserve(struct sbuf *b, size_t extra);
void sbuf_add(struct sbuf *b, const void *data, size_t len);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A double that reads back bit-exact (shortest of %.15g..%.17g that
 * round-trips); "null" for NAN and infinities, as JSON has no such numbers. */
void sbuf_add_double(struct sbuf *b, double v);
/* A JSON string literal with the escapes RFC 8259 requires. */
void sbuf_add_json_string(struct sbuf *b, const char *s, size_t len);
/* Take the buffer's memory (caller frees); the sbuf is left empty. */
char *sbuf_steal(struct sbuf *b, size_t *len);

/* Format v as the shortest decimal that reads back to the same double. */
int fmt_double(char *out, size_t outlen, double v);

#endif
