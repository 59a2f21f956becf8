/*
 * Reading an input on a second thread while the caller does something else
 * (`driftd check` loads its baseline meanwhile): records are parsed, their
 * text cells pre-read as numbers, and handed over in batches through a
 * bounded queue, so memory stays bounded however large the input.
 */
#ifndef DRIFTD_AGENT_PREFETCH_H
#define DRIFTD_AGENT_PREFETCH_H

#include "agent/build.h"
#include "agent/reader.h"
#include "agent/value.h"

#include <stdbool.h>
#include <stdint.h>

/* A cell's reading as a number, done on the reading thread. */
struct precell {
    enum value_class cls; /* for CELL_TEXT and CELL_NUMBER; VALUE_TEXT otherwise */
    double num;
};

struct prefetch_ops {
    int (*column)(void *arg, size_t index, const char *name, size_t len);
    void (*record)(void *arg, const struct reader_record *rec, const struct precell *pre);
    /* Optional: how many records the input holds, estimated from the
     * bytes of the first batch, before that batch's records; called at
     * most once, only for a mapped input. A hint to size storage by. */
    void (*expect)(void *arg, size_t records);
};

struct prefetch_result {
    bool opened;     /* the input could be read (else a message was printed) */
    size_t bytes;    /* its size */
    bool has_header; /* CSV: a header line was read */
    size_t ncolumns;
};

struct prefetch;

/* Start reading path on a new thread; bad records go to diag (stderr).
 * delimiter: the CSV separator chosen, or 0 (',' unless the header shows
 * another: memfile_delimiter). NULL on failure. */
struct prefetch *prefetch_start(const char *path, enum reader_format fmt, char delimiter,
                                struct diag *diag);

/* Hand every column and record to ops in input order, then join the thread. */
void prefetch_drain(struct prefetch *p, const struct prefetch_ops *ops, void *arg,
                    struct prefetch_result *res);

/* For tests and fuzzing: read files of at least min_bytes in parallel
 * segments of at most seg_bytes (0: the default size); by default 4 MiB
 * and 1 MiB. Set before prefetch_start, not while a prefetch runs. */
void prefetch_split(size_t min_bytes, size_t seg_bytes);

/* Stop (if still running) and free. */
void prefetch_free(struct prefetch *p);

#endif
