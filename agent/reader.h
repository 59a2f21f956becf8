/*
 * Streaming readers for CSV (RFC 4180) and NDJSON records. Input arrives in
 * chunks of any size (a file, an HTTP body, appended log lines); each
 * complete record is handed to a callback with its line number, and a bad
 * record is reported through another callback and skipped, never stopping
 * the stream. Memory is bounded by max_record bytes per pending record.
 */
#ifndef DRIFTD_AGENT_READER_H
#define DRIFTD_AGENT_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum reader_format { READER_CSV, READER_NDJSON };

enum cell_type {
    CELL_MISSING, /* absent key, JSON null, empty CSV field */
    CELL_NUMBER,  /* a JSON number (CSV cells are always text) */
    CELL_TEXT,    /* CSV field, JSON string, or "true"/"false" */
    CELL_NESTED   /* JSON object or array: a type error for the feature */
};

struct cell {
    enum cell_type type;
    double num;
    const char *str; /* CELL_TEXT: not NUL-terminated, valid during the callback */
    size_t len;
};

struct reader_record {
    uint64_t line;  /* 1-based line where the record starts */
    uint64_t index; /* 1-based record number (a CSV header is not counted) */
    size_t ncells;  /* number of columns known so far */
    const struct cell *cells;
    size_t npresent; /* the record's own fields (CSV) or keys (NDJSON) */
    size_t nkept;    /* of those, in columns the consumer did not ignore */
};

/* Why a record was skipped. The names (reader_error_name) are the reasons
 * of driftd_records_rejected_total and of the state file's counters, in
 * this order: append, never reorder. */
enum reader_error {
    READER_ERR_INVALID_JSON,
    READER_ERR_NOT_OBJECT,
    READER_ERR_FIELD_COUNT,
    READER_ERR_TOO_LONG,
    READER_ERR_UNTERMINATED_QUOTE,
    READER_ERR_OTHER,      /* a CSV header's problem, out of memory */
    READER_ERR_NO_FEATURE, /* none of its columns is a baseline feature (the consumer's call) */
    READER_ERR_COUNT
};
const char *reader_error_name(enum reader_error e);

struct reader_ops {
    /* A column became known: CSV header field, or an NDJSON key seen the
     * first time. Return -1 to ignore the column from now on. */
    int (*column)(void *arg, size_t index, const char *name, size_t len);
    void (*record)(void *arg, const struct reader_record *rec);
    /* A record (or line) was skipped; index is 0 for the CSV header. */
    void (*error)(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                  const char *msg);
};

struct reader_limits {
    size_t max_record;  /* bytes in one record/line; default 1 MiB */
    size_t max_columns; /* distinct columns; default 4096 */
    char delimiter;     /* CSV field separator; 0: ',' */
};

/* The separator a CSV header line seems to use when it is not `current`:
 * ';', tab or '|' when the line (up to its first newline) has no `current`
 * but has one of those (the most frequent); else 0. For a hint ("a
 * semicolon file?") and for detection. */
char reader_sniff_delimiter(const char *text, size_t len, char current);

struct reader;

/* A reader; limits may be NULL for the defaults. NULL on ENOMEM. */
struct reader *reader_new(enum reader_format fmt, const struct reader_limits *limits,
                          const struct reader_ops *ops, void *arg);
void reader_free(struct reader *r);

/* Feed the next chunk of input. */
void reader_feed(struct reader *r, const char *data, size_t len);

/* End of input: a last line without newline is a record; an open quoted
 * field is an error. */
void reader_finish(struct reader *r);

/* NDJSON: start a new input on this reader (line and record numbers from 1,
 * callbacks get arg) keeping the columns it knows and the consumer's answers
 * about them, so a stream of small inputs (HTTP bodies) names them once. */
void reader_restart(struct reader *r, void *arg);
/* Ask the consumer again about every known column: its answers changed (a
 * reload brought a baseline with other features). */
void reader_remap_columns(struct reader *r);
/* The caller passed over whole lines without feeding them (an NDJSON input
 * with validate: sampled, at a line boundary): count them so the line and
 * record numbers of later reports stay right. */
void reader_skip(struct reader *r, uint64_t lines, uint64_t records);
/* Feed NDJSON text of an input with validate: sampled: a complete line
 * the consumer will not keep is counted by its newline alone, never parsed.
 * skip(arg) is asked once for each complete line that holds more than
 * blanks (spaces, tabs, CR, and a BOM opening the input) and that no
 * earlier feed began, in input order: true means the caller has counted
 * the line as unread, and the reader passes over it (reader_skip); false,
 * the line is parsed. Blank lines and the rest of a line begun earlier are
 * always fed. *partial says the reader holds the beginning of a line (the
 * last text ended without a newline): false for a new or restarted reader,
 * then kept by the caller from feed to feed. Returns the lines skipped. A
 * CSV reader is fed as by reader_feed (its records may span lines). */
uint64_t reader_feed_sampled(struct reader *r, const char *p, size_t n, bool (*skip)(void *arg),
                             void *arg, bool *partial);
/* Columns seen so far (CSV: header fields). */
size_t reader_ncolumns(const struct reader *r);
const char *reader_column_name(const struct reader *r, size_t i);

/* NDJSON: number a column before the records that name it, as if a record
 * had named it first (the column callback is called); its id, or -1 when
 * the column limit or memory is reached. */
long reader_add_column(struct reader *r, const char *name, size_t len);

/* True once a CSV header has been read. */
bool reader_has_header(const struct reader *r);

/* Records delivered and skipped so far; lines seen. */
uint64_t reader_records(const struct reader *r);
uint64_t reader_errors(const struct reader *r);
uint64_t reader_lines(const struct reader *r);

/* Number the input's lines from line, not 1 (a reader of the rest of a
 * file: every line it reports, and the one a message's text names, is
 * then the file's). Before the first reader_feed. */
void reader_start_line(struct reader *r, uint64_t line);

/* The number of the last record delivered or skipped (0 before the first):
 * what a reader of the input that follows would count from. */
uint64_t reader_index(const struct reader *r);

/* Format from a file name (.csv, .ndjson, .jsonl, .json); -1 when unknown. */
int reader_format_from_name(const char *path);

#endif
