#include "agent/prefetch.h"

#include "agent/dict.h"
#include "agent/memfile.h"
#include "lib/sbuf.h"
#include "lib/threads.h"
#include "stats/numparse.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_RECORDS 4096
/* About 3 MiB a batch: enough to read a 100,000-row file ahead while the
 * baseline loads, still bounded for any input. */
#define QUEUE_BATCHES 32
/* ... and at most this many bytes of cells queued (a batch of wide rows
 * is tens of megabytes; a reader faster than the consumer would otherwise
 * queue 32 of them), unless the queue is empty. */
#define QUEUE_BYTES (64u << 20)
/* Drained batches kept for reuse: those of one round of parallel
 * segments, as long as their arrays stay within SPARE_BYTES (a batch of
 * 4096 records of 500 cells is 49 MB: more would only raise the peak). */
#define SPARE_BATCHES 16
#define SPARE_BYTES (64u << 20)

struct packed {
    uint8_t type;
    uint8_t cls;
    uint32_t len;
    size_t off;
    double num;
};

struct colev {
    size_t before; /* announced before this record of the batch */
    size_t index, off, len;
};

struct batch {
    size_t nrec;
    uint64_t line[BATCH_RECORDS], index[BATCH_RECORDS];
    size_t start[BATCH_RECORDS + 1]; /* first cell of each record */
    struct packed *cells;
    size_t ncells, capcells;
    struct colev *cols;
    size_t ncols, capcols;
    struct sbuf text;
    const char *cell_text; /* what cells' off count from: the input itself, or NULL for text */
    size_t queued_bytes;   /* its cells and text, counted while it is queued */
    struct batch *next;
};

struct prefetch {
    pthread_t tid;
    bool started;
    char *path;
    enum reader_format fmt;
    char delimiter; /* CSV: 0 = ',' unless the header says otherwise */
    struct diag *diag;
    struct memfile in; /* open until drained: cells may point into it */
    bool in_open;

    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    struct batch *head, *tail;
    size_t queued, queued_bytes;
    struct batch *spare; /* drained batches, kept for their memory */
    size_t nspare, spare_bytes;
    bool done, stop, oom;

    struct prefetch_result res;

    /* NDJSON read in segments: the columns handed over so far, numbered
     * in the order they first appear in the file, as one reader numbers
     * them (segment_remap) */
    struct dict *names;
};

static void batch_free(struct batch *b)
{
    if (b == NULL)
        return;
    free(b->cells);
    free(b->cols);
    sbuf_free(&b->text);
    free(b);
}

/* Hand batch b to the consumer (waits while the queue is full). */
static void push_batch(struct prefetch *p, struct batch *b)
{
    if (b == NULL)
        return;
    b->queued_bytes = b->ncells * sizeof(*b->cells) + b->text.len;
    pthread_mutex_lock(&p->mu);
    while ((p->queued >= QUEUE_BATCHES ||
            (p->queued > 0 && p->queued_bytes + b->queued_bytes > QUEUE_BYTES)) &&
           !p->stop)
        pthread_cond_wait(&p->not_full, &p->mu);
    if (p->stop) {
        pthread_mutex_unlock(&p->mu);
        batch_free(b);
        return;
    }
    if (p->tail != NULL)
        p->tail->next = b;
    else
        p->head = b;
    p->tail = b;
    p->queued++;
    p->queued_bytes += b->queued_bytes;
    pthread_cond_signal(&p->not_empty);
    pthread_mutex_unlock(&p->mu);
}

/* A record the reader skipped, held back with its message. */
struct held_error {
    uint64_t line, index;
    char *msg;
};

/* Where one reader's records go: batches for the queue, or, for a segment
 * of a file read in parallel, batches and messages held until the segments
 * before it are handed over (in file order, with their line and record
 * numbers shifted). */
struct sink {
    struct prefetch *p;
    struct batch *cur;         /* being filled */
    bool held;                 /* keep batches and messages here */
    bool columns;              /* announce the header's columns */
    struct batch *head, *tail; /* held batches */
    struct held_error *errs;   /* held messages */
    size_t nerrs, caperrs;
    uint64_t line_off, index_off; /* added to the numbers of a sink not held */
    bool quiet_header;            /* drop the header's messages (said once already) */
    bool oom;
};

/* The bytes of b's arrays. */
static size_t batch_bytes(const struct batch *b)
{
    return b->capcells * sizeof(*b->cells) + b->capcols * sizeof(*b->cols) + b->text.cap;
}

/* A batch to fill: a drained one when there is one (its arrays already
 * allocated and faulted in: fresh ones cost the kernel a zeroed page
 * every 4 KiB), else a new one; NULL on ENOMEM. */
static struct batch *batch_get(struct prefetch *p)
{
    pthread_mutex_lock(&p->mu);
    struct batch *b = p->spare;
    if (b != NULL) {
        p->spare = b->next;
        p->nspare--;
        p->spare_bytes -= batch_bytes(b);
    }
    pthread_mutex_unlock(&p->mu);
    if (b == NULL) {
        if ((b = calloc(1, sizeof(*b))) != NULL)
            sbuf_init(&b->text);
        return b;
    }
    b->next = NULL;
    return b;
}

/* A drained batch back to the spares (see SPARE_BATCHES), else freed. */
static void batch_put(struct prefetch *p, struct batch *b)
{
    b->nrec = b->ncells = b->ncols = 0;
    b->cell_text = NULL;
    sbuf_reset(&b->text);
    size_t bytes = batch_bytes(b);
    pthread_mutex_lock(&p->mu);
    if (p->nspare < SPARE_BATCHES && p->spare_bytes + bytes <= SPARE_BYTES) {
        b->next = p->spare;
        p->spare = b;
        p->nspare++;
        p->spare_bytes += bytes;
        b = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    batch_free(b);
}

/* The batch being filled, made when there is none; NULL on ENOMEM. */
static struct batch *current(struct sink *k)
{
    if (k->cur == NULL) {
        k->cur = batch_get(k->p);
        if (k->cur == NULL)
            k->oom = true;
    }
    return k->cur;
}

/* The batch being filled is complete: to the queue, or held. */
static void flush(struct sink *k)
{
    struct batch *b = k->cur;
    k->cur = NULL;
    if (b == NULL)
        return;
    if (!k->held) {
        push_batch(k->p, b);
        return;
    }
    if (k->tail != NULL)
        k->tail->next = b;
    else
        k->head = b;
    k->tail = b;
}

static int on_column(void *arg, size_t index, const char *name, size_t len)
{
    struct sink *k = arg;
    if (!k->columns)
        return 0;
    struct batch *b = current(k);
    if (b == NULL)
        return 0;
    if (b->ncols == b->capcols) {
        size_t cap = b->capcols ? b->capcols * 2 : 32;
        struct colev *c = realloc(b->cols, cap * sizeof(*c));
        if (c == NULL) {
            k->oom = true;
            return 0;
        }
        b->cols = c;
        b->capcols = cap;
    }
    b->cols[b->ncols++] = (struct colev){b->nrec, index, b->text.len, len};
    sbuf_add(&b->text, name, len);
    return 0;
}

static void on_record(void *arg, const struct reader_record *rec)
{
    struct sink *k = arg;
    struct prefetch *p = k->p;
    struct batch *b = current(k);
    if (b == NULL)
        return;
    if (b->ncells + rec->ncells > b->capcells) {
        size_t cap = b->capcells ? b->capcells : BATCH_RECORDS * 8;
        while (cap < b->ncells + rec->ncells)
            cap *= 2;
        struct packed *c = realloc(b->cells, cap * sizeof(*c));
        if (c == NULL) {
            k->oom = true;
            return;
        }
        b->cells = c;
        b->capcells = cap;
    }
    b->line[b->nrec] = rec->line + k->line_off;
    b->index[b->nrec] = rec->index + k->index_off;
    b->start[b->nrec] = b->ncells;
    for (size_t i = 0; i < rec->ncells; i++) {
        const struct cell *c = &rec->cells[i];
        struct packed *pk = &b->cells[b->ncells++];
        pk->type = (uint8_t)c->type;
        pk->cls = VALUE_TEXT;
        pk->num = c->num;
        pk->off = b->text.len;
        pk->len = (uint32_t)c->len;
        if (c->type == CELL_TEXT) {
            pk->cls = (uint8_t)value_parse(c->str, c->len, p->fmt == READER_CSV, &pk->num);
            sbuf_add(&b->text, c->str, c->len);
        } else if (c->type == CELL_NUMBER) {
            pk->cls = isfinite(c->num) ? VALUE_NUMBER : VALUE_MISSING;
        }
    }
    if (sbuf_failed(&b->text))
        k->oom = true;
    b->nrec++;
    b->start[b->nrec] = b->ncells;
    if (b->nrec == BATCH_RECORDS)
        flush(k);
}

static void on_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                     const char *msg)
{
    (void)code;
    struct sink *k = arg;
    if (index == 0 && k->quiet_header)
        return;
    if (!k->held) {
        diag_record_error(k->p->diag, line + k->line_off, index ? index + k->index_off : 0, msg);
        return;
    }
    if (k->nerrs == k->caperrs) {
        size_t cap = k->caperrs ? 2 * k->caperrs : 64;
        struct held_error *e = realloc(k->errs, cap * sizeof(*e));
        if (e == NULL) {
            k->oom = true;
            return;
        }
        k->errs = e;
        k->caperrs = cap;
    }
    char *copy = strdup(msg);
    if (copy == NULL) {
        k->oom = true;
        return;
    }
    k->errs[k->nerrs++] = (struct held_error){line, index, copy};
}

/* Free what a sink still holds. */
static void sink_clear(struct sink *k)
{
    batch_free(k->cur);
    while (k->head != NULL) {
        struct batch *b = k->head;
        k->head = b->next;
        batch_free(b);
    }
    for (size_t i = 0; i < k->nerrs; i++)
        free(k->errs[i].msg);
    free(k->errs);
    memset(k, 0, sizeof(*k));
}

/* Files at least this large, NDJSON or CSV, are read in segments of
 * SEGMENT_BYTES on up to SEGMENT_THREADS threads at once; a CSV from its
 * first segment with a double quote on (where a record could span
 * lines) by one reader. */
#define PARALLEL_MIN_BYTES (4u << 20)
#define SEGMENT_BYTES (1u << 20)
/* ... unless prefetch_split says otherwise (tests and fuzzing) */
static size_t parallel_min_bytes = PARALLEL_MIN_BYTES, segment_bytes = SEGMENT_BYTES;

void prefetch_split(size_t min_bytes, size_t seg_bytes)
{
    parallel_min_bytes = min_bytes;
    segment_bytes = seg_bytes > 0 ? seg_bytes : SEGMENT_BYTES;
}
#define SEGMENT_THREADS 4
/* The reader's default limit of a record's bytes (reader_limits): a longer
 * line is left to the reader, which skips it with its message. */
#define PLAIN_MAX_RECORD (1u << 20)

/* One segment of a file read in parallel: the header line (NDJSON: a blank
 * line, so that both count one line before the data), then whole lines
 * [data, data + len), read by a reader of its own into a held sink. */
struct segment {
    struct prefetch *p;
    enum reader_format fmt;
    const char *header, *data;
    size_t hlen, len;
    char delimiter;
    struct sink sink;
    uint64_t lines, index; /* the reader's counts at its end */
    bool has_header;
    size_t ncolumns;
    bool quoted; /* CSV: a double quote in it: not read (read_rest reads from it on) */
};

/* The segment's lines read without the reader, when every one is a plain
 * record: not blank, no carriage return or double quote, as many fields as
 * the header, shorter than a record may be. Cells point into the input (no
 * copy). Returns false at the first line that is not plain, leaving what
 * it made in the sink for the caller to throw away, with g->quoted set if
 * a double quote was why. Every byte is looked at once: in a number (which
 * has neither a quote nor a carriage return), a delimiter, or the scan of
 * a field that is not a number, which stops at either. */
static bool segment_plain(struct segment *g, size_t ncol)
{
    struct sink *k = &g->sink;
    const struct prefetch *p = g->p;
    char delim = g->delimiter;
    const char *s = g->data, *end = g->data + g->len;
    const char *base = p->in.data;
    uint64_t line = 2, index = 0;
    if (delim == '\0' || delim == '"' || delim == '\n' || delim == '\r')
        delim = ','; /* as reader_new decides */
    if (ncol == 0)
        return false;
    while (s < end) {
        if (*s == '\n')
            return false; /* a blank line */
        struct batch *b = current(k);
        if (b == NULL)
            return false;
        if (b->cell_text == NULL && b->ncells > 0)
            return false; /* a batch begun by the header's reader */
        b->cell_text = base;
        if (b->ncells + ncol > b->capcells) {
            /* every record has ncol cells: a batch's worth at once, not
             * doublings that touch (and fault in) twice as much */
            size_t cap = BATCH_RECORDS * ncol;
            struct packed *c = realloc(b->cells, cap * sizeof(*c));
            if (c == NULL)
                return false;
            b->cells = c;
            b->capcells = cap;
        }
        const char *start = s;
        struct packed *pk = &b->cells[b->ncells];
        size_t nf = 0;
        for (;;) {
            const char *f = s;
            if (nf == ncol)
                return false; /* too many fields */
            /* A number that ends the field is read in one pass: value_parse
             * of the field would find the same number (nothing to trim
             * around it, and the parser stops at the delimiter either way). */
            double v;
            const char *q = stats_parse_number(f, end, &v);
            if (q != NULL && q > f && (q == end || *q == delim || *q == '\n') &&
                (unsigned char)*f > ' ') {
                s = q;
                /* an overflow to infinity is missing, its number 0 as
                 * value_parse leaves it */
                pk[nf] = (struct packed){.type = CELL_TEXT,
                                         .cls = isfinite(v) ? VALUE_NUMBER : VALUE_MISSING,
                                         .len = (uint32_t)(s - f),
                                         .off = (size_t)(f - base),
                                         .num = isfinite(v) ? v : 0};
            } else {
                while (s < end && *s != delim && *s != '\n' && *s != '"' && *s != '\r')
                    s++;
                if (s < end && (*s == '"' || *s == '\r')) {
                    g->quoted = *s == '"';
                    return false;
                }
                size_t len = (size_t)(s - f);
                pk[nf] = (struct packed){.type = len ? CELL_TEXT : CELL_MISSING,
                                         .cls = VALUE_TEXT,
                                         .len = (uint32_t)len,
                                         .off = (size_t)(f - base)};
                if (len > 0)
                    pk[nf].cls = (uint8_t)value_parse(f, len, true, &pk[nf].num);
            }
            nf++;
            if (s == end || *s == '\n')
                break;
            s++;
        }
        if (nf != ncol || (size_t)(s - start) > PLAIN_MAX_RECORD)
            return false;
        b->line[b->nrec] = line;
        b->index[b->nrec] = ++index;
        b->start[b->nrec] = b->ncells;
        b->ncells += ncol;
        b->nrec++;
        b->start[b->nrec] = b->ncells;
        if (b->nrec == BATCH_RECORDS)
            flush(k);
        if (s < end) { /* past the newline */
            s++;
            line++;
        }
    }
    g->lines = line - 1;
    g->index = index;
    return true;
}

/* Read one segment: the header as its first line (so that fields are
 * counted against it), then its lines; numbered from line 2 and record 1.
 * Plain CSV lines (segment_plain) skip the reader; a segment with any
 * other line is read again, whole, by the reader. */
static void *segment_run(void *arg)
{
    struct segment *g = arg;
    struct reader_ops ops = {on_column, on_record, on_error};
    struct reader_limits lim = {0, 0, g->delimiter};
    struct reader *r = NULL;
    if (g->fmt == READER_CSV) {
        if ((r = reader_new(READER_CSV, &lim, &ops, &g->sink)) == NULL) {
            g->sink.oom = true;
            return NULL;
        }
        reader_feed(r, g->header, g->hlen);
        g->has_header = reader_has_header(r);
        g->ncolumns = reader_ncolumns(r);
        if (g->has_header && reader_index(r) == 0 && segment_plain(g, g->ncolumns)) {
            reader_free(r);
            flush(&g->sink);
            return NULL;
        }
        reader_free(r);
        struct sink again = {.p = g->sink.p, .held = g->sink.held, .columns = g->sink.columns};
        sink_clear(&g->sink);
        g->sink = again;
        /* a quoted field may hold a newline: its lines are not records */
        if (g->quoted || memchr(g->data, '"', g->len) != NULL) {
            g->quoted = true;
            return NULL;
        }
    }
    if ((r = reader_new(g->fmt, &lim, &ops, &g->sink)) == NULL) {
        g->sink.oom = true;
        return NULL;
    }
    reader_feed(r, g->header, g->hlen);
    reader_feed(r, g->data, g->len);
    reader_finish(r);
    g->lines = reader_lines(r);
    g->index = reader_index(r);
    g->has_header = reader_has_header(r);
    g->ncolumns = reader_ncolumns(r);
    reader_free(r);
    flush(&g->sink);
    return NULL;
}

/* Threads to read a large input on (DRIFTD_THREADS=1: one reader, no
 * segments). */
static size_t read_threads(void)
{
    return threads_wanted(SEGMENT_THREADS);
}

/* What every segment's reader is fed before its lines, and where the
 * first segment starts. */
struct split {
    const char *header;
    size_t hlen, start;
};

/* Can in be read in parallel segments? Large enough, more than one thread,
 * and no record spanning lines: NDJSON (a line is a record; a UTF-8 BOM
 * is left out of the first segment, a blank line stands for the header),
 * or CSV whose first line is the whole header (a reader fed only that line
 * has its header; else blank lines or a BOM alone come first and the split
 * would misplace it). A CSV's double quotes are looked for by each segment
 * in its own lines, in parallel: lines before the first quote are records. */
static bool parallel_ok(const struct prefetch *p, const struct memfile *in, char delimiter,
                        struct split *sp)
{
    if (in->len < parallel_min_bytes || read_threads() < 2)
        return false;
    if (p->fmt == READER_NDJSON) {
        bool bom = in->len >= 3 && memcmp(in->data, "\xEF\xBB\xBF", 3) == 0;
        *sp = (struct split){"\n", 1, bom ? 3 : 0};
        return true;
    }
    const char *nl = memchr(in->data, '\n', in->len);
    if (nl == NULL || (size_t)(nl - in->data) + 1 == in->len)
        return false; /* no line after the header: no segment would read it */
    size_t hlen = (size_t)(nl - in->data) + 1;
    *sp = (struct split){in->data, hlen, hlen};
    struct sink k = {.p = (struct prefetch *)p, .held = true};
    struct reader_ops ops = {on_column, on_record, on_error};
    struct reader_limits lim = {0, 0, delimiter};
    struct reader *r = reader_new(READER_CSV, &lim, &ops, &k);
    if (r == NULL)
        return false;
    reader_feed(r, in->data, hlen);
    bool ok = reader_has_header(r) && reader_index(r) == 0 && k.head == NULL && k.cur == NULL;
    reader_free(r);
    sink_clear(&k);
    return ok;
}

/* A reader's limit of distinct columns (reader_limits' default). */
#define MAX_COLUMNS 4096

/* NDJSON: a segment's reader numbers the keys in the order it meets them.
 * Renumber its columns as one reader of the whole file would: the order
 * they first appear in the file (p->names, the segments before it handed
 * over), a column announced only where the file first has it, and each
 * record with a cell for every column known by then (missing where it has
 * no key). In the common case (every segment meets the same keys in the
 * same order) the numbers are the same and no cell moves. false when out
 * of memory. */
static bool segment_remap(struct prefetch *p, struct segment *g)
{
    uint32_t *to = NULL; /* this segment's column -> the file's */
    size_t nto = 0, capto = 0;
    bool identity = true; /* to[i] == i so far */
    bool ok = true;
    uint32_t known[BATCH_RECORDS]; /* the file's columns known at each record */
    for (struct batch *b = g->sink.head; b != NULL && ok; b = b->next) {
        /* the columns this batch announces, renumbered, and whether its
         * records already have the cells they would have */
        size_t ce = 0, kept = 0, ncells = 0;
        bool same = identity;
        for (size_t r = 0; r <= b->nrec && ok; r++) {
            for (; ce < b->ncols && b->cols[ce].before <= r; ce++) {
                const struct colev *c = &b->cols[ce];
                int added = 0;
                uint32_t id =
                    dict_intern(p->names, b->text.data + c->off, c->len, MAX_COLUMNS, &added);
                if (nto == capto) {
                    capto = capto ? 2 * capto : 64;
                    uint32_t *t = realloc(to, capto * sizeof(*t));
                    if (t == NULL) {
                        ok = false;
                        break;
                    }
                    to = t;
                }
                to[nto++] = id; /* c->index == nto: the reader numbers from 0 */
                identity = identity && id == c->index;
                same = same && identity;
                if (added)
                    b->cols[kept++] = (struct colev){c->before, id, c->off, c->len};
            }
            if (r < b->nrec) {
                known[r] = (uint32_t)dict_size(p->names);
                same = same && known[r] == b->start[r + 1] - b->start[r];
                ncells += known[r];
            }
        }
        b->ncols = kept;
        if (!ok || same)
            continue;
        /* else each record's cells move to the file's places */
        struct packed *cells = malloc((ncells ? ncells : 1) * sizeof(*cells));
        if (cells == NULL) {
            ok = false;
            break;
        }
        size_t at = 0;
        for (size_t r = 0; r < b->nrec; r++) {
            size_t from = b->start[r], m = b->start[r + 1] - from;
            for (size_t i = 0; i < known[r]; i++)
                cells[at + i] = (struct packed){.type = CELL_MISSING, .cls = VALUE_TEXT};
            for (size_t i = 0; i < m && i < nto; i++)
                if (to[i] != DICT_NONE)
                    cells[at + to[i]] = b->cells[from + i];
            b->start[r] = at;
            at += known[r];
        }
        b->start[b->nrec] = at;
        free(b->cells);
        b->cells = cells;
        b->ncells = b->capcells = ncells;
    }
    free(to);
    return ok;
}

/* Hand a read segment over: its messages to diag and its batches to the
 * queue, lines shifted by the lines of the segments before it and records
 * by their records. Only the first segment's header messages count (the
 * others read the same header again). */
static void segment_hand_over(struct prefetch *p, struct segment *g, bool first, uint64_t line_off,
                              uint64_t index_off)
{
    for (size_t i = 0; i < g->sink.nerrs; i++) {
        struct held_error *e = &g->sink.errs[i];
        if (e->index == 0 && !first)
            continue;
        diag_record_error(p->diag, e->line + line_off, e->index ? e->index + index_off : 0, e->msg);
    }
    while (g->sink.head != NULL) {
        struct batch *b = g->sink.head;
        g->sink.head = b->next;
        b->next = NULL;
        for (size_t r = 0; r < b->nrec; r++) {
            b->line[r] += line_off;
            b->index[r] += index_off;
        }
        push_batch(p, b);
    }
    g->sink.tail = NULL;
}

/* From segment g to the end of the input on this thread, by one reader:
 * - NDJSON, after g met as many keys as a reader keeps columns: its reader
 *   could not know the columns the file had before it, and one reader of
 *   the whole file would have kept those; this reader is told them first
 *   (p->names, in their order);
 * - CSV, g being the first segment with a double quote: from there, a
 *   quoted field may hold a newline, and lines are not records. This
 *   reader is fed the header first, as a segment's is (its columns and
 *   messages again only when g is the first segment).
 * Lines numbered from the header's as the file's (the reader's own, so
 * that a message's text names the file's line too), records shifted as a
 * segment's are. */
static void read_rest(struct prefetch *p, const struct segment *g, size_t len, bool first,
                      uint64_t line_off, uint64_t index_off)
{
    bool csv = g->fmt == READER_CSV;
    struct sink k = {.p = p, .index_off = index_off, .quiet_header = csv && !first};
    struct reader_ops ops = {on_column, on_record, on_error};
    struct reader_limits lim = {0, 0, g->delimiter};
    struct reader *r = reader_new(g->fmt, csv ? &lim : NULL, &ops, &k);
    if (r == NULL) {
        p->oom = true;
        return;
    }
    for (uint32_t i = 0; !csv && i < dict_size(p->names); i++) {
        size_t n;
        const char *name = dict_key(p->names, i, &n);
        if (reader_add_column(r, name, n) != (long)i)
            k.oom = true;
    }
    k.columns = !csv || first; /* NDJSON: the new ones are announced */
    reader_start_line(r, line_off + 1);
    reader_feed(r, g->header, g->hlen);
    size_t off = 0, step = 1 << 20;
    while (off < len && !p->stop) {
        size_t n = len - off < step ? len - off : step;
        reader_feed(r, g->data + off, n);
        off += n;
    }
    reader_finish(r);
    if (csv && first)
        p->res.has_header = reader_has_header(r);
    if (!csv || first)
        p->res.ncolumns = reader_ncolumns(r);
    reader_free(r);
    flush(&k);
    if (k.oom)
        p->oom = true;
}

/* Read in (see parallel_ok) in segments, up to read_threads at a time, and
 * hand them over in file order. */
static void run_parallel(struct prefetch *p, const struct memfile *in, char delimiter,
                         const struct split *sp)
{
    struct segment g[SEGMENT_THREADS];
    size_t nt = read_threads();
    size_t off = sp->start;
    bool ndjson = p->fmt == READER_NDJSON;
    /* Every segment counts its header's line: a CSV's first data line is
     * line 2, an NDJSON's line 1 (unsigned, so - 1 is + 2^64 - 1). */
    uint64_t line_off = ndjson ? (uint64_t)0 - 1 : 0, index_off = 0;
    bool first = true;
    if (ndjson && (p->names = dict_new()) == NULL) {
        p->oom = true;
        return;
    }
    /* Segments of one size, at most segment_bytes, so that every round
     * has work for every thread (20 MB on two: ten rounds of two 0.95 MiB
     * segments, not a last round of one segment with one thread idle).
     * Small segments keep the consumer's share of the last round short:
     * it has the cores to itself only after the reading ends. */
    size_t data = in->len - sp->start, per_round = nt * segment_bytes;
    size_t rounds = data > per_round ? (data + per_round - 1) / per_round : 1;
    size_t seg = (data + rounds * nt - 1) / (rounds * nt);
    while (off < in->len && !p->stop) {
        /* up to nt segments, each ending just after a newline (or at the end) */
        size_t n = 0;
        for (; n < nt && off < in->len; n++) {
            size_t end = off + seg;
            if (end >= in->len) {
                end = in->len;
            } else {
                const char *nl = memchr(in->data + end, '\n', in->len - end);
                end = nl != NULL ? (size_t)(nl - in->data) + 1 : in->len;
            }
            g[n] = (struct segment){
                .p = p,
                .fmt = p->fmt,
                .header = sp->header,
                .hlen = sp->hlen,
                .data = in->data + off,
                .len = end - off,
                .delimiter = delimiter,
                .sink = {.p = p, .held = true, .columns = ndjson || (first && n == 0)}};
            off = end;
        }
        pthread_t tid[SEGMENT_THREADS];
        bool started[SEGMENT_THREADS] = {false};
        for (size_t i = 1; i < n; i++)
            started[i] = pthread_create(&tid[i], NULL, segment_run, &g[i]) == 0;
        segment_run(&g[0]);
        /* each segment handed over as soon as it and those before it are
         * read: the consumer works on the first while the others finish */
        bool rest = false; /* read_rest took over */
        for (size_t i = 0; i < n; i++) {
            if (i > 0 && started[i])
                pthread_join(tid[i], NULL);
            else if (i > 0)
                segment_run(&g[i]);
            if (rest) {
                sink_clear(&g[i].sink);
                continue;
            }
            if (g[i].quoted || (ndjson && g[i].ncolumns >= MAX_COLUMNS)) {
                read_rest(p, &g[i], (size_t)(in->data + in->len - g[i].data), first && i == 0,
                          line_off, index_off);
                rest = true;
                sink_clear(&g[i].sink);
                continue;
            }
            bool remapped = !ndjson || segment_remap(p, &g[i]);
            if (g[i].sink.oom || !remapped)
                p->oom = true;
            if (!remapped)
                sink_clear(&g[i].sink); /* half renumbered: nothing of it is handed over */
            if (first && i == 0) {
                p->res.has_header = g[i].has_header;
                p->res.ncolumns = g[i].ncolumns;
            }
            if (ndjson)
                p->res.ncolumns = dict_size(p->names);
            segment_hand_over(p, &g[i], first && i == 0, line_off, index_off);
            /* every segment counted the header's line once */
            line_off += g[i].lines - 1;
            index_off += g[i].index;
            sink_clear(&g[i].sink);
        }
        if (rest)
            break;
        first = false;
    }
}

static void *run(void *arg)
{
    struct prefetch *p = arg;
    struct memfile in;
    if (memfile_open(&in, p->path) == 0) {
        p->in = in;
        p->in_open = true;
        p->res.opened = true;
        p->res.bytes = in.len;
        p->diag->file = p->path;
        char delimiter = memfile_delimiter(&in, p->fmt, p->delimiter);
        struct split sp;
        if (parallel_ok(p, &in, delimiter, &sp)) {
            run_parallel(p, &in, delimiter, &sp);
        } else {
            struct sink k = {.p = p, .columns = true};
            struct reader_ops ops = {on_column, on_record, on_error};
            struct reader_limits lim = {0, 0, delimiter};
            struct reader *r = reader_new(p->fmt, &lim, &ops, &k);
            if (r == NULL) {
                p->oom = true;
            } else {
                /* Feed in slices so the first batches reach the consumer early. */
                size_t off = 0, step = 1 << 20;
                while (off < in.len && !p->stop) {
                    size_t n = in.len - off < step ? in.len - off : step;
                    reader_feed(r, in.data + off, n);
                    off += n;
                }
                reader_finish(r);
                p->res.has_header = reader_has_header(r);
                p->res.ncolumns = reader_ncolumns(r);
                reader_free(r);
            }
            flush(&k);
            if (k.oom)
                p->oom = true;
        }
    }
    pthread_mutex_lock(&p->mu);
    p->done = true;
    pthread_cond_signal(&p->not_empty);
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

struct prefetch *prefetch_start(const char *path, enum reader_format fmt, char delimiter,
                                struct diag *diag)
{
    struct prefetch *p = calloc(1, sizeof(*p));
    if (p == NULL || (p->path = strdup(path)) == NULL) {
        free(p);
        return NULL;
    }
    p->fmt = fmt;
    p->delimiter = delimiter;
    p->diag = diag;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->not_full, NULL);
    pthread_cond_init(&p->not_empty, NULL);
    if (pthread_create(&p->tid, NULL, run, p) != 0) {
        /* no thread: read on this one when drained */
        return p;
    }
    p->started = true;
    return p;
}

/* The records of the mapped input, estimated from batch b's: its cells
 * point into the input, the first cell near its first record's start and
 * the last at its last record's end. At most what the input can hold, a
 * byte a cell (a delimiter or the newline), so that a first batch of short
 * records cannot ask for much more than the input's size. 0 when b does
 * not tell. */
static size_t records_expected(const struct prefetch *p, const struct batch *b)
{
    if (b->cell_text == NULL || b->cell_text != p->in.data || b->nrec == 0 || b->ncells == 0)
        return 0;
    const struct packed *first = &b->cells[0], *last = &b->cells[b->ncells - 1];
    if (last->off + last->len <= first->off)
        return 0;
    double span = (double)(last->off + last->len + 1 - first->off);
    double n = (double)b->nrec * ((double)p->in.len / span);
    size_t most = p->in.len / (b->ncells / b->nrec ? b->ncells / b->nrec : 1);
    return n < (double)most ? (size_t)n : most;
}

void prefetch_drain(struct prefetch *p, const struct prefetch_ops *ops, void *arg,
                    struct prefetch_result *res)
{
    bool first = true;
    if (!p->started)
        run(p);
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->done)
            pthread_cond_wait(&p->not_empty, &p->mu);
        struct batch *b = p->head;
        if (b != NULL) {
            p->head = b->next;
            if (p->head == NULL)
                p->tail = NULL;
            p->queued--;
            p->queued_bytes -= b->queued_bytes;
            pthread_cond_signal(&p->not_full);
        }
        pthread_mutex_unlock(&p->mu);
        if (b == NULL)
            break;
        size_t expected = first && ops->expect != NULL ? records_expected(p, b) : 0;
        if (expected > 0)
            ops->expect(arg, expected);
        first = false;
        size_t ce = 0;
        const char *text = b->cell_text != NULL ? b->cell_text : b->text.data;
        struct cell cells[4096];
        struct precell pre[4096];
        for (size_t r = 0; r <= b->nrec; r++) {
            for (; ce < b->ncols && b->cols[ce].before <= r; ce++)
                ops->column(arg, b->cols[ce].index, b->text.data + b->cols[ce].off,
                            b->cols[ce].len);
            if (r == b->nrec)
                break;
            size_t n = b->start[r + 1] - b->start[r];
            if (n > 4096)
                n = 4096; /* the reader's column limit is lower */
            for (size_t i = 0; i < n; i++) {
                const struct packed *pk = &b->cells[b->start[r] + i];
                cells[i] = (struct cell){(enum cell_type)pk->type, pk->num,
                                         text ? text + pk->off : "", pk->len};
                pre[i] = (struct precell){(enum value_class)pk->cls, pk->num};
            }
            struct reader_record rec = {b->line[r], b->index[r], n, cells, n, n};
            ops->record(arg, &rec, pre);
        }
        batch_put(p, b);
    }
    if (p->started) {
        pthread_join(p->tid, NULL);
        p->started = false;
    }
    /* every cell is handed over: the input need not stay mapped during
     * the evaluation (its pages would count in the peak RSS) */
    if (p->in_open) {
        memfile_close(&p->in);
        p->in_open = false;
    }
    *res = p->res;
    if (p->oom)
        res->opened = false;
}

void prefetch_free(struct prefetch *p)
{
    if (p == NULL)
        return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        p->stop = true;
        pthread_cond_broadcast(&p->not_full);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->tid, NULL);
    }
    while (p->head != NULL) {
        struct batch *b = p->head;
        p->head = b->next;
        batch_free(b);
    }
    while (p->spare != NULL) {
        struct batch *b = p->spare;
        p->spare = b->next;
        batch_free(b);
    }
    if (p->in_open)
        memfile_close(&p->in);
    dict_free(p->names);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->not_full);
    pthread_cond_destroy(&p->not_empty);
    free(p->path);
    free(p);
}
