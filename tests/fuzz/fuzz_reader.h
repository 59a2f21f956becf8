/*
 * The driver shared by fuzz_csv and fuzz_ndjson: feed one input to the
 * streaming reader several times (whole, in chunks chosen by the input's
 * first bytes, one byte at a time) and require that every chunking tells the
 * same story: the same columns, records, cells and errors, in the same order.
 * Each callback also checks what reader.h promises (cell types, dense column
 * ids, increasing record numbers, bounded sizes), and a second pair of runs
 * with small limits drives the oversize and too-many-columns paths. NDJSON
 * also goes through reader_feed_sampled: passing over no line it must tell
 * the same story again, and passing over some, account for every line.
 *
 * Included by exactly one translation unit per target.
 */
#ifndef DRIFTD_FUZZ_READER_H
#define DRIFTD_FUZZ_READER_H

#include "agent/reader.h"
#include "agent/value.h"

#include "fuzz_check.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one run saw, reduced to counts and a running hash of every event. */
struct fuzz_obs {
    enum reader_format fmt;
    const struct reader *r; /* for the callbacks' cross-checks */
    struct reader_limits lim;
    bool ignore_some; /* the consumer declines every third column */
    uint64_t columns, records, errors;
    uint64_t indexed_errors; /* errors about a record (index > 0) */
    uint64_t skip_seed;      /* reader_feed_sampled: which lines to pass over */
    uint64_t skipped;        /* lines reader_feed_sampled passed over */
    uint64_t last_index, last_line;
    uint64_t hash;
    /* after reader_finish */
    uint64_t lines, ncolumns;
    bool has_header;
};

/* FNV-1a over the event stream: cheap, and any difference shows. */
static void fuzz_mix(struct fuzz_obs *o, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        o->hash ^= b[i];
        o->hash *= 0x100000001b3ULL;
    }
}

static void fuzz_mix_u64(struct fuzz_obs *o, uint64_t v)
{
    fuzz_mix(o, &v, sizeof(v));
}

static int fuzz_on_column(void *arg, size_t index, const char *name, size_t len)
{
    struct fuzz_obs *o = arg;

    /* Ids are dense and in order of first appearance, within the limit. */
    FUZZ_CHECK(index == o->columns);
    FUZZ_CHECK(index < o->lim.max_columns);
    FUZZ_CHECK(name != NULL);
    /* A name comes out of one record (a CSV header, an NDJSON line), or is
     * the reader's short placeholder for a repeated CSV header name. */
    FUZZ_CHECK(len <= o->lim.max_record || len < 48);
    o->columns++;
    fuzz_mix_u64(o, 'C');
    fuzz_mix_u64(o, index);
    fuzz_mix_u64(o, len);
    fuzz_mix(o, name, len); /* reads every byte: ASan checks the range */
    return o->ignore_some && index % 3 == 1 ? -1 : 0;
}

static void fuzz_on_record(void *arg, const struct reader_record *rec)
{
    struct fuzz_obs *o = arg;
    size_t text_bytes = 0;

    FUZZ_CHECK(rec != NULL);
    FUZZ_CHECK(rec->ncells == reader_ncolumns(o->r));
    FUZZ_CHECK(rec->ncells <= o->lim.max_columns);
    FUZZ_CHECK(rec->ncells == 0 || rec->cells != NULL);
    /* Every record, delivered or skipped, takes the next number. */
    FUZZ_CHECK(rec->index == o->records + o->indexed_errors + o->skipped + 1);
    FUZZ_CHECK(rec->line >= 1 && rec->line >= o->last_line);
    FUZZ_CHECK(rec->line <= reader_lines(o->r) + 1);
    o->last_index = rec->index;
    o->last_line = rec->line;
    o->records++;
    fuzz_mix_u64(o, 'R');
    fuzz_mix_u64(o, rec->line);
    fuzz_mix_u64(o, rec->index);
    fuzz_mix_u64(o, rec->ncells);
    for (size_t i = 0; i < rec->ncells; i++) {
        const struct cell *c = &rec->cells[i];
        fuzz_mix_u64(o, (uint64_t)c->type);
        switch (c->type) {
        case CELL_MISSING:
            break;
        case CELL_NUMBER:
            FUZZ_CHECK(o->fmt == READER_NDJSON);
            FUZZ_CHECK(!isnan(c->num));
            fuzz_mix(o, &c->num, sizeof(c->num));
            break;
        case CELL_TEXT:
            FUZZ_CHECK(c->len == 0 || c->str != NULL);
            FUZZ_CHECK(c->len <= o->lim.max_record);
            fuzz_mix_u64(o, c->len);
            fuzz_mix(o, c->str, c->len); /* every byte must be readable */
            text_bytes += c->len;
            /* What the dataset does next with a text cell (not NUL-terminated). */
            double d = 0;
            enum value_class vc = value_parse(c->str, c->len, true, &d);
            FUZZ_CHECK(vc == VALUE_NUMBER ? isfinite(d) : vc == VALUE_MISSING || vc == VALUE_TEXT);
            fuzz_mix_u64(o, (uint64_t)vc);
            break;
        case CELL_NESTED:
            FUZZ_CHECK(o->fmt == READER_NDJSON);
            break;
        default:
            FUZZ_CHECK(c->type <= CELL_NESTED); /* an out-of-range type */
        }
    }
    /* CSV cells are slices of one record, which is at most max_record. */
    if (o->fmt == READER_CSV)
        FUZZ_CHECK(text_bytes <= o->lim.max_record);
}

static void fuzz_on_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                          const char *msg)
{
    (void)code;
    struct fuzz_obs *o = arg;

    FUZZ_CHECK(msg != NULL && msg[0] != '\0' && strlen(msg) < 256);
    FUZZ_CHECK(line >= 1 && line <= reader_lines(o->r) + 1);
    FUZZ_CHECK(line >= o->last_line);
    o->last_line = line;
    if (index > 0) {
        FUZZ_CHECK(index == o->records + o->indexed_errors + o->skipped + 1);
        o->last_index = index;
        o->indexed_errors++;
    } else {
        FUZZ_CHECK(o->fmt == READER_CSV); /* only a CSV header has no number */
    }
    o->errors++;
    fuzz_mix_u64(o, 'E');
    fuzz_mix_u64(o, line);
    fuzz_mix_u64(o, index);
    fuzz_mix(o, msg, strlen(msg));
}

/* splitmix64: chunk sizes from a seed taken out of the input itself. */
static uint64_t fuzz_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A chunk length: mostly short (splits land on quotes, CR/LF and the BOM),
 * sometimes empty, sometimes long. */
static size_t fuzz_chunk_len(uint64_t *s, size_t left)
{
    uint64_t v = fuzz_next(s);
    size_t n;
    switch (v & 7) {
    case 0:
        n = 0;
        break;
    case 1:
    case 2:
    case 3:
        n = 1 + (size_t)((v >> 8) % 3);
        break;
    case 4:
    case 5:
        n = 1 + (size_t)((v >> 8) % 17);
        break;
    default:
        n = 1 + (size_t)((v >> 8) % 600);
    }
    return n < left ? n : left;
}

/* reader_feed_sampled's question: pass over this line? With a zero seed
 * never (the story must be reader_feed's); else as the seed says, the
 * skipped line counted and mixed into the story. */
static bool fuzz_on_skip(void *arg)
{
    struct fuzz_obs *o = arg;
    if (o->skip_seed == 0 || (fuzz_next(&o->skip_seed) & 3) == 0)
        return false;
    o->skipped++;
    fuzz_mix_u64(o, 'S');
    fuzz_mix_u64(o, reader_lines(o->r));
    return true;
}

/* SPLIT_SAMPLED: random chunks through reader_feed_sampled (NDJSON). */
enum fuzz_split { SPLIT_WHOLE, SPLIT_RANDOM, SPLIT_BYTES, SPLIT_SAMPLED };

/* One pass over the input; finish=false stops early and frees the reader
 * with input pending (leak check). */
static void fuzz_run(enum reader_format fmt, const struct reader_limits *lim, bool ignore_some,
                     const uint8_t *data, size_t size, uint64_t seed, enum fuzz_split split,
                     bool finish, uint64_t skip_seed, struct fuzz_obs *o)
{
    static const struct reader_ops ops = {fuzz_on_column, fuzz_on_record, fuzz_on_error};
    const char *p = (const char *)data;

    memset(o, 0, sizeof(*o));
    o->fmt = fmt;
    o->lim = *lim;
    if (o->lim.max_record == 0) /* 0: the defaults reader.h documents */
        o->lim.max_record = 1 << 20;
    if (o->lim.max_columns == 0)
        o->lim.max_columns = 4096;
    o->ignore_some = ignore_some;
    o->hash = 0xcbf29ce484222325ULL;
    o->skip_seed = skip_seed;
    struct reader *r = reader_new(fmt, lim, &ops, o);
    FUZZ_CHECK(r != NULL);
    o->r = r;
    size_t off = 0, stop = finish ? size : (size_t)(seed % (size + 1));
    if (split == SPLIT_WHOLE) {
        reader_feed(r, p, stop);
        off = stop;
    }
    bool partial = false;
    uint64_t unread = 0;
    while (off < stop) {
        size_t n = split == SPLIT_BYTES ? 1 : fuzz_chunk_len(&seed, stop - off);
        if (split == SPLIT_SAMPLED)
            unread += reader_feed_sampled(r, p + off, n, fuzz_on_skip, o, &partial);
        else
            reader_feed(r, p + off, n);
        off += n;
    }
    FUZZ_CHECK(unread == o->skipped);
    if (finish) {
        reader_finish(r);
        FUZZ_CHECK(reader_records(r) == o->records);
        FUZZ_CHECK(reader_errors(r) == o->errors);
        o->lines = reader_lines(r);
        o->ncolumns = reader_ncolumns(r);
        o->has_header = reader_has_header(r);
        FUZZ_CHECK(o->ncolumns == o->columns);
        for (size_t i = 0; i < o->ncolumns; i++) {
            const char *name = reader_column_name(r, i);
            FUZZ_CHECK(name != NULL);
            fuzz_mix(o, name, strlen(name));
        }
        FUZZ_CHECK(reader_column_name(r, o->ncolumns) == NULL);
    }
    reader_free(r);
}

/* Two runs of the same input and limits must agree on everything. */
static void fuzz_same(const struct fuzz_obs *a, const struct fuzz_obs *b)
{
    FUZZ_CHECK(a->columns == b->columns);
    FUZZ_CHECK(a->records == b->records);
    FUZZ_CHECK(a->errors == b->errors);
    FUZZ_CHECK(a->indexed_errors == b->indexed_errors);
    FUZZ_CHECK(a->lines == b->lines);
    FUZZ_CHECK(a->ncolumns == b->ncolumns);
    FUZZ_CHECK(a->has_header == b->has_header);
    FUZZ_CHECK(a->hash == b->hash);
}

/* Facts about the input that the reader must agree with whatever the
 * chunking: one line per '\n', and for NDJSON one record or error per line
 * that is over the limit or holds more than blanks. */
static void fuzz_oracle(enum reader_format fmt, const struct reader_limits *lim,
                        const uint8_t *data, size_t size, const struct fuzz_obs *o)
{
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) {
        data += 3;
        size -= 3;
    }
    uint64_t newlines = 0, items = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        size_t len = i - start;
        bool blank = true;
        for (size_t k = start; k < i && blank; k++)
            blank = data[k] == ' ' || data[k] == '\t' || data[k] == '\r';
        if (len > lim->max_record || !blank)
            items++;
        if (i < size)
            newlines++;
        start = i + 1;
    }
    FUZZ_CHECK(o->lines == newlines);
    FUZZ_CHECK(o->records + o->indexed_errors == o->last_index);
    if (fmt == READER_NDJSON)
        FUZZ_CHECK(o->records + o->errors == items);
    else
        FUZZ_CHECK(o->last_index <= newlines + 1); /* a record starts on its own line */
}

/* A sampled run accounts for every line: one per '\n', and each line that
 * is over the limit or holds more than blanks (a BOM opening the input is
 * a blank) is a record, an error or a line passed over. */
static void fuzz_sampled_oracle(const struct reader_limits *lim, const uint8_t *data, size_t size,
                                const struct fuzz_obs *o)
{
    struct fuzz_obs plain = *o;
    plain.records += plain.skipped; /* as if the skipped lines were read */
    plain.last_index = plain.records + plain.indexed_errors;
    fuzz_oracle(READER_NDJSON, lim, data, size, &plain);
}

/* The whole battery for one input. */
static void fuzz_reader_input(enum reader_format fmt, const uint8_t *data, size_t size)
{
    /* Chunking and the consumer's choices come from the first bytes, so
     * the fuzzer steers them while every input is still read whole. */
    uint64_t seed = size;
    for (size_t i = 0; i < size && i < 8; i++)
        seed = seed << 8 ^ data[i];
    bool ignore_some = size > 0 && (data[size - 1] & 1);

    const struct reader_limits deflt = {0, 0, 0}; /* the reader's defaults */
    struct fuzz_obs whole, pieces, bytes;
    fuzz_run(fmt, &deflt, ignore_some, data, size, seed, SPLIT_WHOLE, true, 0, &whole);
    fuzz_oracle(fmt, &whole.lim, data, size, &whole);
    fuzz_run(fmt, &deflt, ignore_some, data, size, seed, SPLIT_RANDOM, true, 0, &pieces);
    fuzz_same(&whole, &pieces);
    fuzz_run(fmt, &deflt, ignore_some, data, size, seed, SPLIT_BYTES, true, 0, &bytes);
    fuzz_same(&whole, &bytes);

    /* Small limits: records over 4096 bytes, more than 64 columns. */
    const struct reader_limits small = {4096, 64, 0};
    fuzz_run(fmt, &small, ignore_some, data, size, seed, SPLIT_WHOLE, true, 0, &whole);
    fuzz_oracle(fmt, &small, data, size, &whole);
    fuzz_run(fmt, &small, ignore_some, data, size, seed ^ 0x5bd1e995, SPLIT_RANDOM, true, 0,
             &pieces);
    fuzz_same(&whole, &pieces);

    /* Tiny limits, so that short inputs reach the same paths. */
    const struct reader_limits tiny = {16 + (size_t)(seed % 48), 1 + (size_t)(seed >> 8) % 6, 0};
    fuzz_run(fmt, &tiny, ignore_some, data, size, seed, SPLIT_WHOLE, true, 0, &whole);
    fuzz_oracle(fmt, &tiny, data, size, &whole);
    fuzz_run(fmt, &tiny, ignore_some, data, size, seed >> 3, SPLIT_RANDOM, true, 0, &pieces);
    fuzz_same(&whole, &pieces);

    if (fmt == READER_NDJSON) {
        /* Through reader_feed_sampled: passing over nothing, the same story;
         * passing over some lines, every line still accounted for. */
        struct fuzz_obs sampled;
        fuzz_run(fmt, &deflt, ignore_some, data, size, seed, SPLIT_SAMPLED, true, 0, &sampled);
        fuzz_run(fmt, &deflt, ignore_some, data, size, seed, SPLIT_WHOLE, true, 0, &whole);
        fuzz_same(&whole, &sampled);
        fuzz_run(fmt, &tiny, ignore_some, data, size, seed, SPLIT_SAMPLED, true, seed | 1,
                 &sampled);
        fuzz_sampled_oracle(&tiny, data, size, &sampled);
    }

    /* Stop part-way, no reader_finish: reader_free must release it all. */
    fuzz_run(fmt, &small, ignore_some, data, size, seed, SPLIT_RANDOM, false, 0, &pieces);
}

#endif
