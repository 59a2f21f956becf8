/*
 * Building a baseline from training data (`driftd baseline`): kinds from a
 * schema or inferred, full-data summaries, and a seeded uniform sample of
 * rows (docs/statistics.md, "The baseline").
 */
#ifndef DRIFTD_AGENT_BUILD_H
#define DRIFTD_AGENT_BUILD_H

#include "agent/memfile.h"
#include "agent/reader.h"
#include "stats/baseline.h"

#include <stdint.h>
#include <stdio.h>

/* Where messages about bad records go: "driftd: FILE:LINE: ..." on stderr,
 * the first `max_shown`, then a count. */
struct diag {
    const char *file;
    unsigned shown, max_shown;
    uint64_t count;
};

void diag_record_error(struct diag *d, uint64_t line, uint64_t index, const char *msg);
/* Print "driftd: FILE: N more problems not shown" when some were held back. */
void diag_summary(struct diag *d);
/* A value of the input quoted in a message: quote and backslash escaped,
 * control bytes as \xHH. */
void diag_put_text(FILE *out, const char *s, size_t len);

/* Feature kinds given by the user: {"features": {"name": "numerical"|...}}. */
struct schema {
    char *path;
    size_t n;
    char **names;
    enum stats_kind *kinds;
};

/* Load a schema: arg is a file name, or the JSON itself when it starts
 * with "{" (--schema '{"features": {...}}'). Prints the error (naming the
 * file, or --schema) and returns -1 on failure. */
int schema_load(struct schema *s, const char *arg);
void schema_free(struct schema *s);
int schema_kind(const struct schema *s, const char *name); /* kind or -1 */

/* Build a baseline from in. Returns 0, or -1 with the reason printed.
 * *records_read (unless NULL) gets the records of in, those skipped as bad
 * included, for the provenance. */
int build_baseline(const struct memfile *in, enum reader_format fmt, char delimiter,
                   const struct schema *schema, uint64_t max_sample, uint64_t seed,
                   struct stats_baseline **out, uint64_t *records_read);

#endif
