/*
 * The windows' history behind GET /v1/history and the live page: one JSON
 * object (one line of text) per evaluated window, the newest `keep` in
 * memory, persisted as NDJSON under state_dir so that it survives restarts
 * and kill -9.
 *
 * The file is append-only: one line per window, written and fsync'd
 * whole. When it reaches 2 * keep lines it is rewritten with the newest
 * keep (lib/file.h's file_write_atomic: a crash leaves the old file or the
 * new one). A crash in the middle of an append leaves an incomplete last
 * line: history_open ignores it and cuts it off, so the next append
 * starts on a line of its own.
 *
 * This module knows nothing of the daemon or of reports: it keeps lines.
 */
#ifndef DRIFTD_AGENT_HISTORY_H
#define DRIFTD_AGENT_HISTORY_H

#include "lib/sbuf.h"

#include <stddef.h>

#define HISTORY_KEEP_DEFAULT 2000

struct history;

/* The history of the file at path (NULL: in memory only), keeping the
 * newest keep (>= 1) windows. Lines that are not JSON objects, and an
 * incomplete last line (cut off the file), are skipped. NULL with a
 * message naming the file in err when the file cannot be read, cut or
 * opened for appending, or when out of memory. */
struct history *history_open(const char *path, size_t keep, char *err, size_t errlen);
void history_free(struct history *h);

/* Append one window: line is one JSON object without a newline (its
 * newlines, if any, would break the file's lines: they are refused,
 * -1 with EINVAL). Kept in memory whatever happens to the file; -1 with
 * errno when the file could not be written (a partial append is cut off
 * again, so the file stays whole). */
int history_add(struct history *h, const char *line);

/* Change the bound (a reload); the oldest windows beyond it are dropped
 * from memory now and from the file at its next compaction. */
int history_set_keep(struct history *h, size_t keep);

/* Windows held; window i, 0 the newest, as its line (NULL past the end). */
size_t history_count(const struct history *h);
const char *history_get(const struct history *h, size_t i);
/* Lines in the file now (complete ones), for tests of the compaction. */
size_t history_file_lines(const struct history *h);

/* {"windows": [...], "count": N, "keep": K}: the newest at most limit
 * windows, newest first. */
void history_json(const struct history *h, size_t limit, struct sbuf *out);

#endif
