/*
 * The http source: the records of POST /v1/ingest. The api serves the
 * request (authorization, content type, limits) and hands the body here.
 */
#ifndef DRIFTD_AGENT_IN_HTTP_H
#define DRIFTD_AGENT_IN_HTTP_H

#include "agent/source.h"
#include "lib/sbuf.h"

#include <event2/buffer.h>
#include <stdbool.h>

extern const struct source_ops in_http_ops;

#define IN_HTTP_UNSUPPORTED_TYPE                                                                   \
    "Content-Type must be application/x-ndjson, application/jsonl, application/json or text/csv"

enum body_kind { BODY_NDJSON, BODY_JSON, BODY_CSV, BODY_UNKNOWN };
/* The body kind of a Content-Type header (its parameters ignored). */
enum body_kind in_http_body_kind(const char *content_type);
/* Whether a body of that kind is read as one block (cJSON parses a JSON
 * body whole; validate: sampled must not see a line cut between pieces)
 * rather than in the buffer's pieces. */
bool in_http_whole_body(const struct source *in, enum body_kind kind);
/* One body of a kind other than BODY_UNKNOWN, in nseg pieces (a CSV body
 * read with delimiter; 0: the input's, else ',' unless its header has no
 * comma but a semicolon, tab or pipe): writes the
 * JSON answer to out and returns the status, 202 when a record was
 * accepted, 422 when every record was refused because none of its columns
 * is a baseline feature (the answer then names the expected and the found
 * columns), 400 when none was accepted otherwise, 500 out of memory. */
int in_http_ingest(struct source *in, enum body_kind kind, char delimiter,
                   const struct evbuffer_iovec *seg, size_t nseg, struct sbuf *out);

#endif
