/*
 * CSV: a byte-at-a-time RFC 4180 state machine that survives any chunking
 * (quotes, CRLF and records may straddle chunks). NDJSON: line assembly
 * plus cJSON per line. Both keep at most one pending record in memory.
 */
#include "agent/reader.h"

#include "agent/dict.h"
#include "lib/sbuf.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

enum csv_state { CSV_FIELD_START, CSV_UNQUOTED, CSV_QUOTED, CSV_QUOTE_SEEN };

/*
 * cJSON allocates a node per value and a string per key and text value; in
 * the every-record ingest profile malloc and free were a fifth of the time.
 * While a reader's cJSON_Parse and cJSON_Delete run, cJSON's allocations
 * come from the reader's arena (cJSON_InitHooks, installed once), which is
 * emptied for the next line; at any other time (config, baselines, reports,
 * alert bodies, which outlive a record) they are plain malloc. A record too
 * big for the arena spills over to malloc. Under ASan the free part of the
 * arena is poisoned, so overruns are still caught.
 */
#define ARENA_SIZE (64u << 10)

struct arena {
    char *base;
    size_t used;
};

static __thread struct arena *parse_arena; /* set only around parse and delete */

static void *arena_malloc(size_t n)
{
    struct arena *a = parse_arena;
    size_t need = (n + 15) & ~(size_t)15;
    if (a != NULL && need >= n && need <= ARENA_SIZE - a->used) {
        void *p = a->base + a->used;
        a->used += need;
        ASAN_UNPOISON_MEMORY_REGION(p, n);
        return p;
    }
    return malloc(n);
}

static void arena_free(void *p)
{
    struct arena *a = parse_arena;
    if (a != NULL && (char *)p >= a->base && (char *)p < a->base + ARENA_SIZE)
        return; /* emptied as a whole */
    free(p);
}

static void install_hooks(void)
{
    cJSON_Hooks h = {arena_malloc, arena_free};
    cJSON_InitHooks(&h);
}

static void arena_empty(struct arena *a)
{
    a->used = 0;
    ASAN_POISON_MEMORY_REGION(a->base, ARENA_SIZE);
}

struct reader {
    enum reader_format fmt;
    struct reader_limits lim;
    struct reader_ops ops;
    void *arg;

    struct dict *columns;
    bool *ignored; /* per column: the consumer does not want it */
    size_t cap_columns;
    struct cell *cells;
    size_t cap_cells;

    uint64_t line;     /* current line, 1-based */
    uint64_t rec_line; /* line where the pending record started */
    uint64_t records, errors, index;
    bool header_done;
    bool overflow; /* the pending record is over max_record: being skipped */
    bool bom_checked;
    size_t bom_held; /* leading bytes that match the BOM so far, not yet fed */

    /* CSV */
    enum csv_state st;
    struct sbuf rec; /* field bytes, back to back */
    size_t *fields;  /* start offset of each field in rec */
    bool *quoted;    /* per field: was quoted */
    size_t nfields, cap_fields;
    bool rec_started; /* any byte of the record seen */

    /* NDJSON */
    struct sbuf pending;
    struct arena arena;
    uint32_t *order; /* column of each key position of the last record */
    size_t n_order, cap_order;
};

static const struct reader_limits default_limits = {1 << 20, 4096, ','};

struct reader *reader_new(enum reader_format fmt, const struct reader_limits *limits,
                          const struct reader_ops *ops, void *arg)
{
    struct reader *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return NULL;
    r->fmt = fmt;
    r->lim = limits != NULL ? *limits : default_limits;
    if (r->lim.max_record == 0)
        r->lim.max_record = default_limits.max_record;
    if (r->lim.max_columns == 0)
        r->lim.max_columns = default_limits.max_columns;
    if (r->lim.delimiter == 0 || r->lim.delimiter == '"' || r->lim.delimiter == '\n' ||
        r->lim.delimiter == '\r')
        r->lim.delimiter = ',';
    r->ops = *ops;
    r->arg = arg;
    r->line = 1;
    r->rec_line = 1;
    sbuf_init(&r->rec);
    sbuf_init(&r->pending);
    if ((r->columns = dict_new()) == NULL) {
        free(r);
        return NULL;
    }
    if (fmt == READER_NDJSON) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        pthread_once(&once, install_hooks);
        if ((r->arena.base = malloc(ARENA_SIZE)) == NULL) {
            reader_free(r);
            return NULL;
        }
        arena_empty(&r->arena);
    }
    return r;
}

void reader_free(struct reader *r)
{
    if (r == NULL)
        return;
    dict_free(r->columns);
    free(r->ignored);
    free(r->cells);
    free(r->fields);
    free(r->quoted);
    free(r->order);
    if (r->arena.base != NULL)
        ASAN_UNPOISON_MEMORY_REGION(r->arena.base, ARENA_SIZE);
    free(r->arena.base);
    sbuf_free(&r->rec);
    sbuf_free(&r->pending);
    free(r);
}

size_t reader_ncolumns(const struct reader *r)
{
    return dict_size(r->columns);
}

const char *reader_column_name(const struct reader *r, size_t i)
{
    return dict_key(r->columns, (uint32_t)i, NULL);
}

bool reader_has_header(const struct reader *r)
{
    return r->header_done;
}

uint64_t reader_records(const struct reader *r)
{
    return r->records;
}

uint64_t reader_errors(const struct reader *r)
{
    return r->errors;
}

uint64_t reader_lines(const struct reader *r)
{
    return r->line - 1;
}

void reader_start_line(struct reader *r, uint64_t line)
{
    r->line = r->rec_line = line;
}

uint64_t reader_index(const struct reader *r)
{
    return r->index;
}

int reader_format_from_name(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot == NULL)
        return -1;
    if (strcasecmp(dot, ".csv") == 0)
        return READER_CSV;
    if (strcasecmp(dot, ".ndjson") == 0 || strcasecmp(dot, ".jsonl") == 0 ||
        strcasecmp(dot, ".json") == 0)
        return READER_NDJSON;
    return -1;
}

static void report(struct reader *r, uint64_t line, uint64_t index, enum reader_error code,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

const char *reader_error_name(enum reader_error e)
{
    static const char *const names[READER_ERR_COUNT] = {
        "invalid_json",       "not_object", "field_count", "too_long",
        "unterminated_quote", "other",      "no_feature"};
    return (unsigned)e < READER_ERR_COUNT ? names[e] : "other";
}

char reader_sniff_delimiter(const char *text, size_t len, char current)
{
    static const char candidates[] = {';', '\t', '|'};
    const char *nl = memchr(text, '\n', len);
    size_t n = nl != NULL ? (size_t)(nl - text) : len;
    if (memchr(text, current ? current : ',', n) != NULL)
        return 0;
    size_t best = 0;
    char pick = 0;
    for (size_t k = 0; k < sizeof(candidates); k++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++)
            count += text[i] == candidates[k];
        if (count > best && candidates[k] != current) {
            best = count;
            pick = candidates[k];
        }
    }
    return pick;
}

/* Count a skipped record and tell the consumer why. */
static void report(struct reader *r, uint64_t line, uint64_t index, enum reader_error code,
                   const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    r->errors++;
    if (r->ops.error != NULL)
        r->ops.error(r->arg, line, index, code, msg);
}

/* Register a column name; returns its index or -1 when over the limit. */
static long add_column(struct reader *r, const char *name, size_t len)
{
    int added = 0;
    uint32_t id = dict_intern(r->columns, name, len, r->lim.max_columns, &added);
    if (id == DICT_NONE)
        return -1;
    if (added) {
        if (id >= r->cap_columns) {
            size_t cap = r->cap_columns ? r->cap_columns * 2 : 32;
            bool *ig = realloc(r->ignored, cap * sizeof(*ig));
            struct cell *cells = realloc(r->cells, cap * sizeof(*cells));
            if (ig != NULL)
                r->ignored = ig;
            if (cells != NULL)
                r->cells = cells;
            if (ig == NULL || cells == NULL)
                return -1;
            r->cap_columns = cap;
        }
        r->ignored[id] = false;
        r->cells[id] = (struct cell){CELL_MISSING, 0, NULL, 0}; /* a record under way */
        if (r->ops.column != NULL && r->ops.column(r->arg, id, name, len) != 0)
            r->ignored[id] = true;
    }
    return (long)id;
}

long reader_add_column(struct reader *r, const char *name, size_t len)
{
    return add_column(r, name, len);
}

static void reset_cells(struct reader *r)
{
    size_t n = reader_ncolumns(r);
    for (size_t i = 0; i < n; i++)
        r->cells[i] = (struct cell){CELL_MISSING, 0, NULL, 0};
}

static void deliver(struct reader *r, uint64_t line, size_t present, size_t kept)
{
    struct reader_record rec = {line, r->index, reader_ncolumns(r), r->cells, present, kept};
    r->records++;
    if (r->ops.record != NULL)
        r->ops.record(r->arg, &rec);
}

/* ---- CSV ---- */

static void csv_new_field(struct reader *r, bool quoted)
{
    if (r->nfields == r->cap_fields) {
        size_t cap = r->cap_fields ? r->cap_fields * 2 : 32;
        size_t *f = realloc(r->fields, cap * sizeof(*f));
        bool *q = realloc(r->quoted, cap * sizeof(*q));
        if (f != NULL)
            r->fields = f;
        if (q != NULL)
            r->quoted = q;
        if (f == NULL || q == NULL) {
            r->overflow = true;
            return;
        }
        r->cap_fields = cap;
    }
    r->fields[r->nfields] = r->rec.len;
    r->quoted[r->nfields] = quoted;
    r->nfields++;
}

/* Field i as (pointer, length) in the record buffer. */
static const char *csv_field(const struct reader *r, size_t i, size_t *len)
{
    size_t end = i + 1 < r->nfields ? r->fields[i + 1] : r->rec.len;
    *len = end - r->fields[i];
    /* Only empty fields so far: the buffer was never allocated, and NULL + 0
     * is undefined behaviour (UBSan, fuzz_csv). Hand out an empty string. */
    if (r->rec.data == NULL)
        return "";
    return r->rec.data + r->fields[i];
}

/* A complete CSV record (header or data) ends here. */
static void csv_end_record(struct reader *r)
{
    uint64_t line = r->rec_line;

    if (!r->rec_started) /* blank line */
        goto reset;
    if (r->overflow) {
        if (r->header_done)
            r->index++;
        report(r, line, r->header_done ? r->index : 0, READER_ERR_TOO_LONG,
               "record longer than %zu bytes", r->lim.max_record);
        goto reset;
    }
    /* CRLF: a trailing CR on the last unquoted field belongs to the line end. */
    if (r->nfields > 0 && !r->quoted[r->nfields - 1] && r->rec.len > r->fields[r->nfields - 1] &&
        r->rec.data[r->rec.len - 1] == '\r')
        r->rec.data[--r->rec.len] = '\0';
    if (!r->header_done) {
        r->header_done = true;
        for (size_t i = 0; i < r->nfields; i++) {
            size_t len;
            const char *name = csv_field(r, i, &len);
            if (dict_get(r->columns, name, len) != DICT_NONE) {
                report(r, line, 0, READER_ERR_OTHER,
                       "header: column %zu \"%.*s\" repeats an earlier name", i + 1,
                       (int)(len > 64 ? 64 : len), name);
                /* keep positions aligned: a unique placeholder that is ignored */
                char tmp[48];
                int n = snprintf(tmp, sizeof(tmp),
                                 "\x01"
                                 "dup%zu",
                                 i); /* "\x01d" would be one escape */
                long id = add_column(r, tmp, (size_t)n);
                if (id >= 0)
                    r->ignored[id] = true;
                continue;
            }
            if (add_column(r, name, len) < 0) {
                report(r, line, 0, READER_ERR_OTHER, "header: too many columns (limit %zu)",
                       r->lim.max_columns);
                break;
            }
        }
        goto reset;
    }
    r->index++;
    size_t ncol = reader_ncolumns(r);
    if (r->nfields != ncol) {
        report(r, line, r->index, READER_ERR_FIELD_COUNT, "expected %zu fields, found %zu", ncol,
               r->nfields);
        goto reset;
    }
    for (size_t i = 0; i < ncol; i++) {
        size_t len;
        const char *s = csv_field(r, i, &len);
        if (len == 0 && !r->quoted[i])
            r->cells[i] = (struct cell){CELL_MISSING, 0, s, 0};
        else
            r->cells[i] = (struct cell){CELL_TEXT, 0, s, len};
    }
    size_t kept = 0;
    for (size_t i = 0; i < ncol; i++)
        kept += !r->ignored[i];
    deliver(r, line, ncol, kept);
reset:
    sbuf_reset(&r->rec);
    r->nfields = 0;
    r->rec_started = false;
    r->overflow = false;
    r->st = CSV_FIELD_START;
}

/* Append one byte to the current field, unless the record is oversized. */
static inline void csv_put(struct reader *r, char c)
{
    if (r->overflow)
        return;
    if (r->rec.len >= r->lim.max_record) {
        r->overflow = true;
        return;
    }
    sbuf_addc(&r->rec, c);
    if (sbuf_failed(&r->rec))
        r->overflow = true;
}

static void csv_feed(struct reader *r, const char *p, size_t len)
{
    const char delim = r->lim.delimiter;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!r->rec_started) {
            if (c == '\n') {
                r->line++;
                r->rec_line = r->line;
                continue;
            }
            if (c == '\r' && r->st == CSV_FIELD_START && r->nfields == 0)
                continue; /* blank CRLF line */
            r->rec_started = true;
            r->rec_line = r->line;
            r->st = CSV_FIELD_START;
        }
        switch (r->st) {
        case CSV_FIELD_START:
            if (c == '"') {
                csv_new_field(r, true);
                r->st = CSV_QUOTED;
            } else if (c == delim) {
                csv_new_field(r, false);
            } else if (c == '\n') {
                csv_new_field(r, false);
                csv_end_record(r);
                r->line++;
                r->rec_line = r->line;
            } else {
                /* an unquoted field: copy its run of bytes below at once */
                csv_new_field(r, false);
                r->st = CSV_UNQUOTED;
                goto unquoted;
            }
            break;
        case CSV_UNQUOTED:
        unquoted : {
            /* Fast path: copy the run of ordinary bytes at once. */
            size_t j = i;
            while (j < len && p[j] != delim && p[j] != '\n')
                j++;
            if (!r->overflow) {
                if (r->rec.len + (j - i) > r->lim.max_record)
                    r->overflow = true;
                else
                    sbuf_add(&r->rec, p + i, j - i);
            }
            i = j;
            if (i >= len)
                break;
            if (p[i] == delim) {
                r->st = CSV_FIELD_START;
            } else {
                csv_end_record(r);
                r->line++;
                r->rec_line = r->line;
            }
            break;
        }
        case CSV_QUOTED:
            if (c == '"') {
                r->st = CSV_QUOTE_SEEN;
            } else {
                if (c == '\n')
                    r->line++;
                csv_put(r, c);
            }
            break;
        case CSV_QUOTE_SEEN:
            if (c == '"') { /* escaped quote */
                csv_put(r, '"');
                r->st = CSV_QUOTED;
            } else if (c == delim) {
                r->st = CSV_FIELD_START;
            } else if (c == '\n') {
                csv_end_record(r);
                r->line++;
                r->rec_line = r->line;
            } else if (c == '\r') {
                /* CRLF after a closing quote */
            } else {
                /* Text after a closing quote: keep it, as Python's csv does. */
                csv_put(r, c);
                r->st = CSV_UNQUOTED;
            }
            break;
        }
    }
}

/* A line that ended with ',' (FIELD_START at end of record) has one more
 * empty field: csv_end_record sees nfields from the commas. */
static void csv_finish(struct reader *r)
{
    if (!r->rec_started)
        return;
    if (r->st == CSV_QUOTED) {
        uint64_t line = r->rec_line;
        if (r->header_done)
            r->index++;
        report(r, line, r->header_done ? r->index : 0, READER_ERR_UNTERMINATED_QUOTE,
               "unterminated quoted field (opened on line %llu, still open at end of input)",
               (unsigned long long)line);
        sbuf_reset(&r->rec);
        r->nfields = 0;
        r->rec_started = false;
        r->overflow = false;
        r->st = CSV_FIELD_START;
        return;
    }
    if (r->st == CSV_FIELD_START)
        csv_new_field(r, false);
    csv_end_record(r);
}

/* ---- NDJSON ---- */

/*
 * The column of the k-th key of a record. A producer writes its keys in
 * the same order record after record, so the column the k-th key had last
 * time is compared first (one memcmp), before the hash lookup; a key never
 * seen becomes a column. DICT_NONE when there is no room for it.
 */
static uint32_t key_column(struct reader *r, size_t k, const char *key)
{
    size_t len = strlen(key);
    if (k < r->n_order) {
        size_t klen = 0;
        const char *known = dict_key(r->columns, r->order[k], &klen);
        /* NULL: DICT_NONE, a key there was no room for */
        if (known != NULL && klen == len && memcmp(known, key, len) == 0)
            return r->order[k];
    }
    uint32_t id = dict_get(r->columns, key, len);
    if (id == DICT_NONE) {
        long added = add_column(r, key, len);
        if (added < 0)
            return DICT_NONE;
        id = (uint32_t)added;
    }
    if (k >= r->cap_order) {
        size_t cap = r->cap_order ? r->cap_order * 2 : 32;
        while (cap <= k)
            cap *= 2;
        uint32_t *o = realloc(r->order, cap * sizeof(*o));
        if (o == NULL)
            return id; /* only the shortcut is lost */
        r->order = o;
        r->cap_order = cap;
    }
    r->order[k] = id;
    if (k >= r->n_order)
        r->n_order = k + 1;
    return id;
}

/* Delete a tree parsed from the arena, and empty it for the next line. */
static void json_delete(struct reader *r, cJSON *obj)
{
    parse_arena = &r->arena;
    cJSON_Delete(obj);
    parse_arena = NULL;
    arena_empty(&r->arena);
}

static void ndjson_line(struct reader *r, const char *s, size_t len)
{
    uint64_t line = r->line;

    while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    size_t k = 0;
    while (k < len && (s[k] == ' ' || s[k] == '\t'))
        k++;
    if (k == len)
        return; /* blank line */
    r->index++;
    const char *end = NULL;
    parse_arena = &r->arena;
    cJSON *obj = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    parse_arena = NULL;
    if (obj == NULL) {
        arena_empty(&r->arena); /* what a failed parse left */
        size_t col = end != NULL && end >= s && end <= s + len ? (size_t)(end - s) + 1 : 1;
        report(r, line, r->index, READER_ERR_INVALID_JSON, "invalid JSON near column %zu", col);
        return;
    }
    for (const char *q = end; q < s + len; q++) {
        if (*q != ' ' && *q != '\t') {
            report(r, line, r->index, READER_ERR_INVALID_JSON,
                   "unexpected text after the JSON value at column %zu", (size_t)(q - s) + 1);
            json_delete(r, obj);
            return;
        }
    }
    if (!cJSON_IsObject(obj)) {
        report(r, line, r->index, READER_ERR_NOT_OBJECT, "expected a JSON object, found %s",
               cJSON_IsArray(obj) ? "an array" : "a scalar");
        json_delete(r, obj);
        return;
    }
    reset_cells(r);
    const cJSON *item;
    size_t pos = 0; /* of the key in this record */
    size_t kept = 0;
    cJSON_ArrayForEach(item, obj)
    {
        if (item->string == NULL)
            continue;
        uint32_t id = key_column(r, pos++, item->string);
        if (id == DICT_NONE || r->ignored[id])
            continue;
        kept++;
        struct cell *c = &r->cells[id];
        if (cJSON_IsNumber(item)) {
            *c = (struct cell){CELL_NUMBER, item->valuedouble, NULL, 0};
        } else if (cJSON_IsString(item)) {
            *c = (struct cell){CELL_TEXT, 0, item->valuestring, strlen(item->valuestring)};
        } else if (cJSON_IsTrue(item)) {
            *c = (struct cell){CELL_TEXT, 0, "true", 4};
        } else if (cJSON_IsFalse(item)) {
            *c = (struct cell){CELL_TEXT, 0, "false", 5};
        } else if (cJSON_IsNull(item)) {
            *c = (struct cell){CELL_MISSING, 0, NULL, 0};
        } else {
            *c = (struct cell){CELL_NESTED, 0, NULL, 0};
        }
    }
    deliver(r, line, pos, kept);
    json_delete(r, obj);
}

static void ndjson_feed(struct reader *r, const char *p, size_t len)
{
    while (len > 0) {
        const char *nl = memchr(p, '\n', len);
        size_t n = nl != NULL ? (size_t)(nl - p) : len;
        if (nl == NULL) {
            if (!r->overflow) {
                if (r->pending.len + n > r->lim.max_record) {
                    r->overflow = true;
                    sbuf_reset(&r->pending);
                } else {
                    sbuf_add(&r->pending, p, n);
                }
            }
            return;
        }
        if (r->overflow) {
            r->index++;
            report(r, r->line, r->index, READER_ERR_TOO_LONG, "line longer than %zu bytes",
                   r->lim.max_record);
            r->overflow = false;
        } else if (r->pending.len > 0) {
            if (r->pending.len + n > r->lim.max_record) {
                r->index++;
                report(r, r->line, r->index, READER_ERR_TOO_LONG, "line longer than %zu bytes",
                       r->lim.max_record);
            } else {
                sbuf_add(&r->pending, p, n);
                ndjson_line(r, r->pending.data, r->pending.len);
            }
            sbuf_reset(&r->pending);
        } else if (n > r->lim.max_record) {
            r->index++;
            report(r, r->line, r->index, READER_ERR_TOO_LONG, "line longer than %zu bytes",
                   r->lim.max_record);
        } else {
            ndjson_line(r, p, n);
        }
        r->line++;
        p += n + 1;
        len -= n + 1;
    }
}

static const char utf8_bom[] = "\xEF\xBB\xBF";

static void feed_format(struct reader *r, const char *data, size_t len)
{
    if (r->fmt == READER_CSV)
        csv_feed(r, data, len);
    else
        ndjson_feed(r, data, len);
}

void reader_feed(struct reader *r, const char *data, size_t len)
{
    /* A UTF-8 byte order mark is not part of the first column name. It may
     * be split over chunks (a 1-byte first read): hold back the bytes that
     * match it so far, and feed them as data once a byte shows it is not. */
    while (!r->bom_checked && len > 0) {
        if (*data == utf8_bom[r->bom_held]) {
            data++;
            len--;
            if (++r->bom_held == 3) {
                r->bom_checked = true;
                r->bom_held = 0;
            }
        } else {
            r->bom_checked = true;
            feed_format(r, utf8_bom, r->bom_held);
            r->bom_held = 0;
        }
    }
    feed_format(r, data, len);
}

void reader_restart(struct reader *r, void *arg)
{
    r->arg = arg;
    r->line = r->rec_line = 1;
    r->records = r->errors = r->index = 0;
    r->overflow = false;
    r->bom_checked = false;
    r->bom_held = 0;
    sbuf_reset(&r->pending);
}

void reader_remap_columns(struct reader *r)
{
    size_t n = dict_size(r->columns);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        const char *name = dict_key(r->columns, (uint32_t)i, &len);
        r->ignored[i] = r->ops.column != NULL && r->ops.column(r->arg, i, name, len) != 0;
    }
}

void reader_skip(struct reader *r, uint64_t lines, uint64_t records)
{
    r->line += lines;
    r->index += records;
    if (lines > 0)
        r->bom_checked = true; /* a BOM is only one at the start of input */
}

uint64_t reader_feed_sampled(struct reader *r, const char *p, size_t n, bool (*skip)(void *arg),
                             void *arg, bool *partial)
{
    if (r->fmt != READER_NDJSON) {
        reader_feed(r, p, n);
        return 0;
    }
    const char *end = p + n;
    uint64_t unread = 0;
    if (*partial) { /* the rest of a line the reader began */
        const char *nl = memchr(p, '\n', n);
        if (nl == NULL) {
            reader_feed(r, p, n);
            return 0;
        }
        reader_feed(r, p, (size_t)(nl + 1 - p));
        p = nl + 1;
        *partial = false;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) { /* its rest may come with the next text */
            reader_feed(r, p, (size_t)(end - p));
            *partial = true;
            break;
        }
        const char *q = p;
        if (reader_lines(r) == 0 && nl - q >= 3 && memcmp(q, utf8_bom, 3) == 0)
            q += 3; /* a BOM opening the input is not content, as in reader_feed */
        while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < nl && skip(arg)) {
            reader_skip(r, 1, 1);
            unread++;
        } else { /* kept, or blank (ndjson_line counts it) */
            reader_feed(r, p, (size_t)(nl + 1 - p));
        }
        p = nl + 1;
    }
    return unread;
}

void reader_finish(struct reader *r)
{
    if (!r->bom_checked && r->bom_held > 0) { /* input was a BOM prefix only */
        r->bom_checked = true;
        feed_format(r, utf8_bom, r->bom_held);
        r->bom_held = 0;
    }
    if (r->fmt == READER_CSV) {
        csv_finish(r);
        return;
    }
    if (r->overflow) {
        r->index++;
        report(r, r->line, r->index, READER_ERR_TOO_LONG, "line longer than %zu bytes",
               r->lim.max_record);
        r->overflow = false;
    } else if (r->pending.len > 0) {
        ndjson_line(r, r->pending.data, r->pending.len);
    }
    sbuf_reset(&r->pending);
}
