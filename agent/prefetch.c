#include "agent/prefetch.h"

#include "agent/memfile.h"
#include "lib/sbuf.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_RECORDS 4096
/* About 3 MiB a batch: enough to read a 100,000-row file ahead while the
 * baseline loads, still bounded for any input. */
#define QUEUE_BATCHES 32

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
    struct batch *next;
};

struct prefetch {
    pthread_t tid;
    bool started;
    char *path;
    enum reader_format fmt;
    char delimiter; /* CSV: 0 = ',' unless the header says otherwise */
    struct diag *diag;

    pthread_mutex_t mu;
    pthread_cond_t not_full, not_empty;
    struct batch *head, *tail;
    size_t queued;
    bool done, stop, oom;

    struct batch *cur; /* being filled by the reader thread */
    struct prefetch_result res;
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

/* Hand the batch being filled to the consumer (waits while the queue is full). */
static void push(struct prefetch *p)
{
    struct batch *b = p->cur;
    p->cur = NULL;
    if (b == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    while (p->queued >= QUEUE_BATCHES && !p->stop)
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
    pthread_cond_signal(&p->not_empty);
    pthread_mutex_unlock(&p->mu);
}

static struct batch *current(struct prefetch *p)
{
    if (p->cur == NULL) {
        p->cur = calloc(1, sizeof(*p->cur));
        if (p->cur == NULL)
            p->oom = true;
        else
            sbuf_init(&p->cur->text);
    }
    return p->cur;
}

static int on_column(void *arg, size_t index, const char *name, size_t len)
{
    struct prefetch *p = arg;
    struct batch *b = current(p);
    if (b == NULL)
        return 0;
    if (b->ncols == b->capcols) {
        size_t cap = b->capcols ? b->capcols * 2 : 32;
        struct colev *c = realloc(b->cols, cap * sizeof(*c));
        if (c == NULL) {
            p->oom = true;
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
    struct prefetch *p = arg;
    struct batch *b = current(p);
    if (b == NULL)
        return;
    if (b->ncells + rec->ncells > b->capcells) {
        size_t cap = b->capcells ? b->capcells : BATCH_RECORDS * 8;
        while (cap < b->ncells + rec->ncells)
            cap *= 2;
        struct packed *c = realloc(b->cells, cap * sizeof(*c));
        if (c == NULL) {
            p->oom = true;
            return;
        }
        b->cells = c;
        b->capcells = cap;
    }
    b->line[b->nrec] = rec->line;
    b->index[b->nrec] = rec->index;
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
        p->oom = true;
    b->nrec++;
    b->start[b->nrec] = b->ncells;
    if (b->nrec == BATCH_RECORDS)
        push(p);
}

static void on_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                     const char *msg)
{
    (void)code;
    struct prefetch *p = arg;
    diag_record_error(p->diag, line, index, msg);
}

static void *run(void *arg)
{
    struct prefetch *p = arg;
    struct memfile in;
    if (memfile_open(&in, p->path) == 0) {
        p->res.opened = true;
        p->res.bytes = in.len;
        p->diag->file = p->path;
        struct reader_ops ops = {on_column, on_record, on_error};
        struct reader_limits lim = {0, 0, memfile_delimiter(&in, p->fmt, p->delimiter)};
        struct reader *r = reader_new(p->fmt, &lim, &ops, p);
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
        memfile_close(&in);
    }
    push(p);
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

void prefetch_drain(struct prefetch *p, const struct prefetch_ops *ops, void *arg,
                    struct prefetch_result *res)
{
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
            pthread_cond_signal(&p->not_full);
        }
        pthread_mutex_unlock(&p->mu);
        if (b == NULL)
            break;
        size_t ce = 0;
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
                                         b->text.data ? b->text.data + pk->off : "", pk->len};
                pre[i] = (struct precell){(enum value_class)pk->cls, pk->num};
            }
            struct reader_record rec = {b->line[r], b->index[r], n, cells, n, n};
            ops->record(arg, &rec, pre);
        }
        batch_free(b);
    }
    if (p->started) {
        pthread_join(p->tid, NULL);
        p->started = false;
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
    batch_free(p->cur);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->not_full);
    pthread_cond_destroy(&p->not_empty);
    free(p->path);
    free(p);
}
