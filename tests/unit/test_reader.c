/*
 * The streaming reader on small, exact inputs: every enum reader_error from
 * the least input that makes it, in CSV and NDJSON; the same records and
 * errors whatever the chunking (every split point of each input, one byte
 * at a time, empty feeds between); the limits at and just past their
 * bounds; the byte order mark, CRLF and blank lines; restart, skip and
 * reader_remap_columns. Each run is written out as a transcript (columns,
 * records with every cell, errors with line, record, code and message) and
 * compared with the transcript it should give.
 */
#include "agent/reader.h"
#include "lib/sbuf.h"
#include "testlib.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One run's story, and what the consumer answers about columns. */
struct run {
    struct sbuf out;
    const char *ignore; /* a column name the consumer declines, or NULL */
    size_t columns_asked;
};

/* Text bytes as the transcript shows them: printable as is, others \xHH. */
static void add_bytes(struct sbuf *b, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\' && c != '|')
            sbuf_addc(b, (char)c);
        else
            sbuf_printf(b, "\\x%02X", c);
    }
}

static int on_column(void *arg, size_t index, const char *name, size_t len)
{
    struct run *r = arg;
    r->columns_asked++;
    sbuf_printf(&r->out, "C%zu:", index);
    add_bytes(&r->out, name, len);
    sbuf_addc(&r->out, '\n');
    return r->ignore != NULL && strlen(r->ignore) == len && memcmp(r->ignore, name, len) == 0 ? -1
                                                                                              : 0;
}

static void on_record(void *arg, const struct reader_record *rec)
{
    struct run *r = arg;
    sbuf_printf(&r->out, "R%llu/%llu", (unsigned long long)rec->line,
                (unsigned long long)rec->index);
    for (size_t i = 0; i < rec->ncells; i++) {
        const struct cell *c = &rec->cells[i];
        sbuf_addc(&r->out, '|');
        switch (c->type) {
        case CELL_MISSING:
            sbuf_adds(&r->out, "-");
            break;
        case CELL_NUMBER:
            sbuf_printf(&r->out, "%.17g", c->num);
            break;
        case CELL_TEXT:
            sbuf_addc(&r->out, '\'');
            add_bytes(&r->out, c->str, c->len);
            break;
        case CELL_NESTED:
            sbuf_adds(&r->out, "{}");
            break;
        }
    }
    sbuf_addc(&r->out, '\n');
}

static void on_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                     const char *msg)
{
    struct run *r = arg;
    sbuf_printf(&r->out, "E%llu/%llu %s: %s\n", (unsigned long long)line, (unsigned long long)index,
                reader_error_name(code), msg);
}

static const struct reader_ops ops = {on_column, on_record, on_error};

/* How to cut an input into feeds. */
struct cuts {
    const size_t *at; /* ascending split offsets */
    size_t n;
    bool empty_feeds; /* an empty feed before every piece */
};

/* Read text (len bytes) cut as told; the transcript ends with the counts
 * reader_records/errors/lines give after reader_finish. Caller frees. */
static char *read_cut(enum reader_format fmt, const struct reader_limits *lim, const char *text,
                      size_t len, const struct cuts *cuts, const char *ignore)
{
    struct run r = {.ignore = ignore};
    sbuf_init(&r.out);
    struct reader *rd = reader_new(fmt, lim, &ops, &r);
    if (rd == NULL)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i <= (cuts != NULL ? cuts->n : 0); i++) {
        size_t end = cuts != NULL && i < cuts->n ? cuts->at[i] : len;
        if (cuts != NULL && cuts->empty_feeds)
            reader_feed(rd, text + off, 0);
        reader_feed(rd, text + off, end - off);
        off = end;
    }
    reader_finish(rd);
    sbuf_printf(&r.out, "= %llu records, %llu errors, %llu lines\n",
                (unsigned long long)reader_records(rd), (unsigned long long)reader_errors(rd),
                (unsigned long long)reader_lines(rd));
    reader_free(rd);
    return sbuf_steal(&r.out, NULL);
}

/* Read a C string whole. */
static char *read_all(enum reader_format fmt, const struct reader_limits *lim, const char *text)
{
    return read_cut(fmt, lim, text, strlen(text), NULL, NULL);
}

/* Check a transcript; print both when they differ. */
#define EXPECT(got, want) expect_text((got), (want), __FILE__, __LINE__)
static void expect_text(char *got, const char *want, const char *file, int line)
{
    tl_check(got != NULL && strcmp(got, want) == 0, file, line,
             "transcript differs\n--- got:\n%s--- want:\n%s", got != NULL ? got : "(null)\n", want);
    free(got);
}

/* The same transcript as the whole input gives, for every way of cutting
 * it into two and three pieces (three only for short inputs), byte by
 * byte, and with empty feeds between the pieces. */
static void check_chunking(enum reader_format fmt, const struct reader_limits *lim,
                           const char *text, const char *what)
{
    size_t len = strlen(text);
    char *whole = read_cut(fmt, lim, text, len, NULL, NULL);
    unsigned bad = 0;
    for (size_t i = 0; i <= len; i++) {
        size_t at[1] = {i};
        struct cuts c = {at, 1, i % 2 == 0};
        char *got = read_cut(fmt, lim, text, len, &c, NULL);
        if (got == NULL || strcmp(got, whole) != 0) {
            if (bad++ == 0)
                fprintf(stderr, "%s: split at %zu:\n%s--- whole:\n%s", what, i, got, whole);
        }
        free(got);
        for (size_t j = i; len <= 64 && j <= len; j++) {
            size_t at2[2] = {i, j};
            struct cuts c2 = {at2, 2, false};
            got = read_cut(fmt, lim, text, len, &c2, NULL);
            if (got == NULL || strcmp(got, whole) != 0) {
                if (bad++ == 0)
                    fprintf(stderr, "%s: split at %zu, %zu:\n%s--- whole:\n%s", what, i, j, got,
                            whole);
            }
            free(got);
        }
    }
    size_t *every = malloc((len + 1) * sizeof(*every));
    for (size_t i = 0; i < len; i++)
        every[i] = i + 1;
    struct cuts bytes = {every, len, true};
    char *got = read_cut(fmt, lim, text, len, &bytes, NULL);
    if (got == NULL || strcmp(got, whole) != 0)
        bad++;
    free(got);
    free(every);
    free(whole);
    CHECKF(bad == 0, "%s: %u chunkings differ from the whole input", what, bad);
}

/* ---- each error code from the least input that makes it ---- */

static void test_error_names(void)
{
    static const char *const want[READER_ERR_COUNT] = {
        "invalid_json",       "not_object", "field_count", "too_long",
        "unterminated_quote", "other",      "no_feature"};
    for (int e = 0; e < READER_ERR_COUNT; e++)
        CHECKF(strcmp(reader_error_name((enum reader_error)e), want[e]) == 0, "name of %d: %s", e,
               reader_error_name((enum reader_error)e));
    CHECK(strcmp(reader_error_name(READER_ERR_COUNT), "other") == 0);
    CHECK(strcmp(reader_error_name((enum reader_error) - 1), "other") == 0);
}

static void test_ndjson_errors(void)
{
    EXPECT(read_all(READER_NDJSON, NULL, "{\"a\":\n"),
           "E1/1 invalid_json: invalid JSON near column 5\n"
           "= 0 records, 1 errors, 1 lines\n");
    EXPECT(read_all(READER_NDJSON, NULL, "{\"a\":1} x\n"),
           "E1/1 invalid_json: unexpected text after the JSON value at column 9\n"
           "= 0 records, 1 errors, 1 lines\n");
    EXPECT(read_all(READER_NDJSON, NULL, "[1]\n7\n"),
           "E1/1 not_object: expected a JSON object, found an array\n"
           "E2/2 not_object: expected a JSON object, found a scalar\n"
           "= 0 records, 2 errors, 2 lines\n");
    struct reader_limits lim = {8, 0, 0};
    EXPECT(read_all(READER_NDJSON, &lim, "{\"a\":123}\n"),
           "E1/1 too_long: line longer than 8 bytes\n"
           "= 0 records, 1 errors, 1 lines\n");
    /* the last line, without its newline, is over the limit too */
    EXPECT(read_all(READER_NDJSON, &lim, "{\"a\":1}\n{\"a\":123}"),
           "C0:a\n"
           "R1/1|1\n"
           "E2/2 too_long: line longer than 8 bytes\n"
           "= 1 records, 1 errors, 1 lines\n");
}

static void test_csv_errors(void)
{
    EXPECT(read_all(READER_CSV, NULL, "a,b\n1\n1,2,3\n"),
           "C0:a\nC1:b\n"
           "E2/1 field_count: expected 2 fields, found 1\n"
           "E3/2 field_count: expected 2 fields, found 3\n"
           "= 0 records, 2 errors, 3 lines\n");
    struct reader_limits lim = {4, 0, 0};
    EXPECT(read_all(READER_CSV, &lim, "a\n12345\n"), "C0:a\n"
                                                     "E2/1 too_long: record longer than 4 bytes\n"
                                                     "= 0 records, 1 errors, 2 lines\n");
    EXPECT(read_all(READER_CSV, NULL, "a\n\"x\n"),
           "C0:a\n"
           "E2/1 unterminated_quote: unterminated quoted field (opened on line 2, still open at "
           "end of input)\n"
           "= 0 records, 1 errors, 2 lines\n");
    /* a header's problems are not about a record: index 0 */
    EXPECT(read_all(READER_CSV, NULL, "a,a\n1,2\n"),
           "C0:a\n"
           "E1/0 other: header: column 2 \"a\" repeats an earlier name\n"
           "C1:\\x01dup1\n"
           "R2/1|'1|'2\n"
           "= 1 records, 1 errors, 2 lines\n");
    EXPECT(read_all(READER_CSV, NULL, "\"a\n"),
           "E1/0 unterminated_quote: unterminated quoted field (opened on line 1, still open at "
           "end of input)\n"
           "= 0 records, 1 errors, 1 lines\n");
}

/* ---- the limits, at and just past their bounds ---- */

static void test_max_record(void)
{
    struct reader_limits lim = {4, 0, 0};
    /* CSV counts the bytes of the fields, not the commas or quotes */
    EXPECT(read_all(READER_CSV, &lim, "a,b\n12,34\n1,2345\n\"12\",\"345\"\n"),
           "C0:a\nC1:b\n"
           "R2/1|'12|'34\n"
           "E3/2 too_long: record longer than 4 bytes\n"
           "E4/3 too_long: record longer than 4 bytes\n"
           "= 1 records, 2 errors, 4 lines\n");
    /* NDJSON counts the bytes of the line before its newline */
    lim.max_record = 7;
    EXPECT(read_all(READER_NDJSON, &lim, "{\"a\":1}\n{\"a\":12}\n{\"b\":3}\n"),
           "C0:a\n"
           "R1/1|1\n"
           "E2/2 too_long: line longer than 7 bytes\n"
           "C1:b\n"
           "R3/3|-|3\n"
           "= 2 records, 1 errors, 3 lines\n");
    /* the same, with the long line arriving in pieces (a pending line that
     * grows past the limit, and one that crosses it with its end) */
    static const char text[] = "{\"a\":1}\n{\"a\":12}\n{\"b\":3}\n";
    static const size_t at1[] = {10, 12};
    static const size_t at2[] = {10};
    struct cuts c1 = {at1, 2, false}, c2 = {at2, 1, false};
    char *whole = read_all(READER_NDJSON, &lim, text);
    EXPECT(read_cut(READER_NDJSON, &lim, text, strlen(text), &c1, NULL), whole);
    EXPECT(read_cut(READER_NDJSON, &lim, text, strlen(text), &c2, NULL), whole);
    free(whole);
    /* a line exactly at the limit is read however it is cut */
    check_chunking(READER_NDJSON, &lim, text, "ndjson at max_record");
    lim.max_record = 4;
    check_chunking(READER_CSV, &lim, "a,b\n12,34\n1,2345\n", "csv at max_record");
    /* an oversized record does not hide the records after it */
    lim.max_record = 3;
    check_chunking(READER_CSV, &lim, "a\n1\n1234\n\"12345\"\n12\n", "csv over max_record");
    check_chunking(READER_NDJSON, &lim, "1\n12345\n\n{}\n", "ndjson over max_record");
}

static void test_max_columns(void)
{
    struct reader_limits lim = {0, 2, 0};
    /* CSV: the header is cut at the limit, and records have the header's width */
    EXPECT(read_all(READER_CSV, &lim, "a,b,c\n1,2,3\n1,2\n"),
           "C0:a\nC1:b\n"
           "E1/0 other: header: too many columns (limit 2)\n"
           "E2/1 field_count: expected 2 fields, found 3\n"
           "R3/2|'1|'2\n"
           "= 1 records, 2 errors, 3 lines\n");
    /* NDJSON: a key past the limit is no column; the record is kept */
    EXPECT(read_all(READER_NDJSON, &lim, "{\"a\":1,\"b\":2,\"c\":3}\n{\"c\":4,\"b\":5}\n"),
           "C0:a\nC1:b\n"
           "R1/1|1|2\n"
           "R2/2|-|5\n"
           "= 2 records, 0 errors, 2 lines\n");
    lim.max_columns = 3;
    EXPECT(read_all(READER_CSV, &lim, "a,b,c\n1,2,3\n"), "C0:a\nC1:b\nC2:c\n"
                                                         "R2/1|'1|'2|'3\n"
                                                         "= 1 records, 0 errors, 2 lines\n");
}

/* ---- BOM, CRLF, blank lines, cells ---- */

static void test_bom(void)
{
    EXPECT(read_all(READER_CSV, NULL,
                    "\xEF\xBB\xBF"
                    "a,b\n1,2\n"),
           "C0:a\nC1:b\nR2/1|'1|'2\n= 1 records, 0 errors, 2 lines\n");
    EXPECT(read_all(READER_NDJSON, NULL, "\xEF\xBB\xBF{\"a\":1}\n"),
           "C0:a\nR1/1|1\n= 1 records, 0 errors, 1 lines\n");
    /* only at the start: a second one is data */
    EXPECT(read_all(READER_CSV, NULL,
                    "\xEF\xBB\xBF\xEF\xBB\xBF"
                    "a\n1\n"),
           "C0:\\xEF\\xBB\\xBFa\nR2/1|'1\n= 1 records, 0 errors, 2 lines\n");
    /* a prefix of it is data, whole */
    EXPECT(read_all(READER_CSV, NULL,
                    "\xEF\xBB"
                    "a\n1\n"),
           "C0:\\xEF\\xBBa\nR2/1|'1\n= 1 records, 0 errors, 2 lines\n");
    EXPECT(read_all(READER_CSV, NULL, "\xEF\xBB"),
           "C0:\\xEF\\xBB\n= 0 records, 0 errors, 0 lines\n");
    EXPECT(read_all(READER_NDJSON, NULL, "\xEF\xBB\xBF"), "= 0 records, 0 errors, 0 lines\n");
    check_chunking(READER_CSV, NULL, "\xEF\xBB\xBF\"a\",b\n1,2\n", "csv with a BOM");
    check_chunking(READER_CSV, NULL,
                   "\xEF\xBB"
                   "a\n1\n",
                   "csv with a BOM prefix");
    check_chunking(READER_NDJSON, NULL, "\xEF\xBB\xBF{\"a\":1}\n", "ndjson with a BOM");
}

static void test_crlf_and_blank_lines(void)
{
    EXPECT(read_all(READER_CSV, NULL, "a,b\r\n\r\n1,\"x\r\ny\"\r\n\n3,4\r\n\r\n"),
           "C0:a\nC1:b\n"
           "R3/1|'1|'x\\x0D\\x0Ay\n"
           "R6/2|'3|'4\n"
           "= 2 records, 0 errors, 7 lines\n");
    /* a CR inside an unquoted field stays; only the one before LF goes */
    EXPECT(read_all(READER_CSV, NULL, "a\nx\ry\r\n"),
           "C0:a\nR2/1|'x\\x0Dy\n= 1 records, 0 errors, 2 lines\n");
    EXPECT(read_all(READER_NDJSON, NULL, "\n  \t\r\n{\"a\":1}\r\n\r\n {\"a\":2} \n"),
           "C0:a\nR3/1|1\nR5/2|2\n= 2 records, 0 errors, 5 lines\n");
    check_chunking(READER_CSV, NULL, "a,b\r\n\r\n1,\"x\r\ny\"\r\n\n3,4\r\n\r\n", "csv crlf");
    check_chunking(READER_NDJSON, NULL, "\n  \t\r\n{\"a\":1}\r\n\r\n {\"a\":2} \n", "ndjson crlf");
}

static void test_cells(void)
{
    /* CSV: empty unquoted is missing, empty quoted is empty text, "" escapes,
     * a trailing comma is one more empty field, text after a closing quote stays */
    EXPECT(read_all(READER_CSV, NULL, "a,b,c\n,\"\",\"x\"\"y\"\n\"q\"r,s,\n1,2,3"),
           "C0:a\nC1:b\nC2:c\n"
           "R2/1|-|'|'x\"y\n"
           "R3/2|'qr|'s|-\n"
           "R4/3|'1|'2|'3\n"
           "= 3 records, 0 errors, 3 lines\n");
    EXPECT(read_all(READER_NDJSON, NULL,
                    "{\"n\":1.5,\"s\":\"x\",\"t\":true,\"f\":false,\"z\":null,\"o\":{},\"l\":[]}\n"
                    "{\"l\":2}\n"),
           "C0:n\nC1:s\nC2:t\nC3:f\nC4:z\nC5:o\nC6:l\n"
           "R1/1|1.5|'x|'true|'false|-|{}|{}\n"
           "R2/2|-|-|-|-|-|-|2\n"
           "= 2 records, 0 errors, 2 lines\n");
}

/* Records and errors interleaved, line numbers across quoted newlines. */
static void test_numbering(void)
{
    EXPECT(read_all(READER_CSV, NULL, "a,b\n\"1\n2\",3\n4\n5,6\n"),
           "C0:a\nC1:b\n"
           "R2/1|'1\\x0A2|'3\n"
           "E4/2 field_count: expected 2 fields, found 1\n"
           "R5/3|'5|'6\n"
           "= 2 records, 1 errors, 5 lines\n");
}

/* ---- chunking: any cut gives the same story ---- */

static void test_chunking(void)
{
    check_chunking(READER_CSV, NULL,
                   "a,\"b,c\",d\r\n1,\"x\"\"y\",\r\n\r\n\"2\n3\",,\"\"\n4,5\n6,7,8,9\n\"open",
                   "csv quotes and errors");
    check_chunking(READER_CSV, NULL, "a,a,b\n1,2,3\n", "csv repeated header");
    check_chunking(READER_NDJSON, NULL,
                   "{\"a\":1,\"b\":\"x\"}\n[1]\n\n{\"b\":2,\"c\":null}\r\n{\"a\":\n{} x\n{\"a\":3}",
                   "ndjson mixed");
    struct reader_limits lim = {64, 3, 0};
    check_chunking(READER_NDJSON, &lim, "{\"a\":1,\"b\":2,\"c\":3,\"d\":4}\n{\"d\":5,\"a\":6}\n",
                   "ndjson past max_columns");
    check_chunking(READER_CSV, &lim, "a,b,c,d\n1,2,3\n1,2,3,4\n", "csv past max_columns");
}

/* ---- restart, skip, remap ---- */

static void test_restart_and_skip(void)
{
    struct run r = {0};
    sbuf_init(&r.out);
    struct reader *rd = reader_new(READER_NDJSON, NULL, &ops, &r);
    reader_feed(rd, "{\"a\":1}\n{\"b\":2}\n", 16);
    reader_finish(rd);
    reader_restart(rd, &r);
    /* a new input: numbers from 1 again, known columns not announced again,
     * and a BOM opening it is not content */
    reader_feed(rd, "\xEF\xBB\xBF\n{\"b\":3,\"c\":4}\n", 18);
    reader_skip(rd, 2, 2); /* two lines passed over unread */
    reader_feed(rd, "[]\n{\"a\":5}\n", 11);
    reader_finish(rd);
    CHECK(reader_records(rd) == 2);
    CHECK(reader_errors(rd) == 1);
    CHECK(reader_lines(rd) == 6);
    reader_free(rd);
    EXPECT(sbuf_steal(&r.out, NULL), "C0:a\nR1/1|1\nC1:b\nR2/2|-|2\n"
                                     "C2:c\nR2/1|-|3|4\n"
                                     "E5/4 not_object: expected a JSON object, found an array\n"
                                     "R6/5|5|-|-\n");
    /* A line holding only a BOM is blank at the start of the input; after a
     * skip it is not the start, and the BOM is content (not JSON). */
    EXPECT(read_all(READER_NDJSON, NULL, "\xEF\xBB\xBF\n"), "= 0 records, 0 errors, 1 lines\n");
    sbuf_init(&r.out);
    rd = reader_new(READER_NDJSON, NULL, &ops, &r);
    reader_skip(rd, 1, 1);
    reader_feed(rd, "\xEF\xBB\xBF\n", 4);
    reader_finish(rd);
    reader_free(rd);
    EXPECT(sbuf_steal(&r.out, NULL), "E2/2 invalid_json: invalid JSON near column 1\n");
}

static void test_remap(void)
{
    struct run r = {.ignore = "b"};
    sbuf_init(&r.out);
    struct reader *rd = reader_new(READER_NDJSON, NULL, &ops, &r);
    reader_feed(rd, "{\"a\":1,\"b\":2,\"c\":3}\n", 20);
    CHECK(r.columns_asked == 3);
    /* the consumer's answers change (a reload): every known column is asked
     * again, in order, with its name; "b" is read from now on, "c" is not */
    r.ignore = "c";
    reader_remap_columns(rd);
    CHECK(r.columns_asked == 6);
    reader_feed(rd, "{\"a\":4,\"b\":5,\"c\":6}\n", 20);
    reader_finish(rd);
    reader_free(rd);
    EXPECT(sbuf_steal(&r.out, NULL), "C0:a\nC1:b\nC2:c\nR1/1|1|-|3\n"
                                     "C0:a\nC1:b\nC2:c\nR2/2|4|5|-\n");
    /* CSV hands out every field; the answer is the consumer's to keep */
    r = (struct run){.ignore = "a"};
    sbuf_init(&r.out);
    rd = reader_new(READER_CSV, NULL, &ops, &r);
    reader_feed(rd, "a,b\n1,2\n", 8);
    reader_remap_columns(rd);
    reader_finish(rd);
    CHECK(reader_ncolumns(rd) == 2);
    CHECK(strcmp(reader_column_name(rd, 1), "b") == 0);
    CHECK(reader_has_header(rd));
    reader_free(rd);
    EXPECT(sbuf_steal(&r.out, NULL), "C0:a\nC1:b\nR2/1|'1|'2\nC0:a\nC1:b\n");
}

/* ---- validate: sampled ---- */

/* The consumer's side of reader_feed_sampled: asks are written into the
 * transcript, and the answers follow a pattern (bit i of `pattern` answers
 * the i-th ask, cycling over 64 asks). */
struct sampler {
    struct run *run;
    uint64_t pattern;
    unsigned asked;
};

static bool sampled_skip(void *arg)
{
    struct sampler *s = arg;
    bool skip = (s->pattern >> (s->asked++ % 64)) & 1;
    sbuf_adds(&s->run->out, skip ? "S+\n" : "S-\n");
    return skip;
}

/* The line rules as the daemon applied them before they moved into the
 * reader (reader_skip and reader_feed on whole lines); a second opinion
 * for reader_feed_sampled. */
static uint64_t reference_feed_sampled(struct reader *r, const char *p, size_t n,
                                       bool (*skip)(void *arg), void *arg, bool *partial)
{
    const char *end = p + n;
    uint64_t unread = 0;
    if (*partial) {
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
        if (nl == NULL) {
            reader_feed(r, p, (size_t)(end - p));
            *partial = true;
            break;
        }
        const char *q = p;
        if (reader_lines(r) == 0 && nl - q >= 3 && memcmp(q, "\xEF\xBB\xBF", 3) == 0)
            q += 3;
        while (q < nl && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < nl && skip(arg)) {
            reader_skip(r, 1, 1);
            unread++;
        } else {
            reader_feed(r, p, (size_t)(nl + 1 - p));
        }
        p = nl + 1;
    }
    return unread;
}

typedef uint64_t feed_sampled_fn(struct reader *r, const char *p, size_t n, bool (*skip)(void *arg),
                                 void *arg, bool *partial);

/* Read text through a sampled feed cut at `at`; the transcript ends with
 * the lines skipped, the partial flag after each feed, and the counts. */
static char *read_sampled(feed_sampled_fn *feed, enum reader_format fmt, const char *text,
                          size_t len, const size_t *at, size_t ncuts, uint64_t pattern)
{
    struct run r = {0};
    sbuf_init(&r.out);
    struct sampler smp = {&r, pattern, 0};
    struct reader *rd = reader_new(fmt, NULL, &ops, &r);
    if (rd == NULL)
        return NULL;
    bool partial = false;
    uint64_t unread = 0;
    size_t off = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t end = i < ncuts ? at[i] : len;
        unread += feed(rd, text + off, end - off, sampled_skip, &smp, &partial);
        sbuf_adds(&r.out, partial ? "P+\n" : "P-\n");
        off = end;
    }
    reader_finish(rd);
    sbuf_printf(&r.out, "= %llu unread, %llu records, %llu errors, %llu lines\n",
                (unsigned long long)unread, (unsigned long long)reader_records(rd),
                (unsigned long long)reader_errors(rd), (unsigned long long)reader_lines(rd));
    reader_free(rd);
    return sbuf_steal(&r.out, NULL);
}

static void test_feed_sampled(void)
{
    /* Asked only for lines with content: not for blank ones, nor for a BOM
     * opening the input; skipped lines keep their numbers. Pattern 0b0101:
     * skip the 1st and 3rd ask. */
    static const char text[] = "\xEF\xBB\xBF\n{\"a\":1}\n \t\r\n{\"a\":2}\n[bad\n{\"a\":3}\n";
    EXPECT(read_sampled(reader_feed_sampled, READER_NDJSON, text, strlen(text), NULL, 0, 5),
           "S+\n"
           "S-\n"
           "C0:a\n"
           "R4/2|2\n"
           "S+\n"
           "S-\n"
           "R6/4|3\n"
           "P-\n"
           "= 2 unread, 2 records, 0 errors, 6 lines\n");
    /* a BOM on a later line is content; a line ending without a newline is
     * fed (partial) and never asked, now or when its rest comes */
    static const char late[] = "{}\n\xEF\xBB\xBF\n{\"a\":1}";
    static const size_t at[] = {9, 13};
    EXPECT(read_sampled(reader_feed_sampled, READER_NDJSON, late, strlen(late), at, 2, ~0ull),
           "S+\n"
           "S+\n"
           "P+\n"
           "P+\n"
           "P+\n"
           "C0:a\n" /* the last line, at reader_finish */
           "R3/3|1\n"
           "= 2 unread, 1 records, 0 errors, 2 lines\n");
    /* the rest of a begun line is fed up to its newline, the lines after
     * it are asked about */
    static const char begun[] = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";
    static const size_t at2[] = {12};
    EXPECT(read_sampled(reader_feed_sampled, READER_NDJSON, begun, strlen(begun), at2, 1, ~0ull),
           "S+\n"
           "P+\n"
           "C0:a\n"
           "R2/2|2\n"
           "S+\n"
           "P-\n"
           "= 2 unread, 1 records, 0 errors, 3 lines\n");
    /* CSV records may span lines: fed whole, never asked */
    EXPECT(read_sampled(reader_feed_sampled, READER_CSV, "a\n\"1\n2\"\n", 8, NULL, 0, ~0ull),
           "C0:a\nR2/1|'1\\x0A2\nP-\n= 0 unread, 1 records, 0 errors, 3 lines\n");

    /* The same story as the daemon's rules, for inputs built from pieces
     * that matter to them, cut anywhere, with any answers. */
    static const char *const pieces[] = {"\xEF\xBB\xBF", "\xEF\xBB", "\n",  "\r\n", " ", "\t",
                                         "{\"a\":1}",    "{\"b\":",  "[1]", "x",    "\r"};
    const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    unsigned differ = 0;
    for (int round = 0; round < 3000; round++) {
        char buf[256];
        size_t len = 0;
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t k = (size_t)(seed >> 59) + 1;
        for (size_t i = 0; i < k; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            const char *pc = pieces[(seed >> 33) % npieces];
            size_t pl = strlen(pc);
            if (len + pl < sizeof(buf)) {
                memcpy(buf + len, pc, pl);
                len += pl;
            }
        }
        size_t at3[3] = {0, 0, 0};
        for (int i = 0; i < 3; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            at3[i] = len > 0 ? (size_t)(seed >> 33) % (len + 1) : 0;
        }
        for (int i = 1; i < 3; i++) /* ascending */
            for (int j = i; j > 0 && at3[j - 1] > at3[j]; j--) {
                size_t t = at3[j];
                at3[j] = at3[j - 1];
                at3[j - 1] = t;
            }
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        char *want = read_sampled(reference_feed_sampled, READER_NDJSON, buf, len, at3, 3, seed);
        char *got = read_sampled(reader_feed_sampled, READER_NDJSON, buf, len, at3, 3, seed);
        if (want == NULL || got == NULL || strcmp(want, got) != 0) {
            if (differ++ == 0)
                fprintf(stderr, "sampled round %d:\n%s--- want:\n%s", round, got, want);
        }
        free(want);
        free(got);
    }
    CHECKF(differ == 0, "reader_feed_sampled: %u of 3000 inputs differ from the line rules",
           differ);
}

/* Counts of a record's own columns, and of those the consumer kept. */
struct counts_run {
    const char *ignore;
    size_t n, present[8], kept[8];
};

static int counts_column(void *arg, size_t index, const char *name, size_t len)
{
    struct counts_run *c = arg;
    (void)index;
    return strlen(c->ignore) == len && memcmp(c->ignore, name, len) == 0 ? -1 : 0;
}

static void counts_record(void *arg, const struct reader_record *rec)
{
    struct counts_run *c = arg;
    if (c->n < 8) {
        c->present[c->n] = rec->npresent;
        c->kept[c->n] = rec->nkept;
    }
    c->n++;
}

/* npresent and nkept: what a consumer needs to refuse a record none of
 * whose columns it wants (another model's data). */
static void test_present_kept(void)
{
    static const struct reader_ops cops = {counts_column, counts_record, NULL};
    struct counts_run c = {.ignore = "b"};
    struct reader *r = reader_new(READER_NDJSON, NULL, &cops, &c);
    const char *text = "{\"a\": 1, \"b\": 2}\n{\"b\": 2}\n{}\n{\"a\": null, \"c\": 3}\n";
    reader_feed(r, text, strlen(text));
    reader_finish(r);
    reader_free(r);
    static const size_t wp[] = {2, 1, 0, 2}, wk[] = {1, 0, 0, 2};
    CHECKF(c.n == 4, "ndjson: %zu records, want 4", c.n);
    for (size_t i = 0; i < 4 && i < c.n; i++)
        CHECKF(c.present[i] == wp[i] && c.kept[i] == wk[i],
               "ndjson record %zu: present %zu kept %zu, want %zu %zu", i + 1, c.present[i],
               c.kept[i], wp[i], wk[i]);

    struct counts_run d = {.ignore = "b"};
    r = reader_new(READER_CSV, NULL, &cops, &d);
    text = "a,b\n1,2\n,\n";
    reader_feed(r, text, strlen(text));
    reader_finish(r);
    reader_free(r);
    CHECKF(d.n == 2 && d.present[0] == 2 && d.kept[0] == 1 && d.present[1] == 2 && d.kept[1] == 1,
           "csv: %zu records, present %zu kept %zu", d.n, d.present[0], d.kept[0]);

    struct counts_run e = {.ignore = "b"};
    r = reader_new(READER_CSV, NULL, &cops, &e);
    text = "b\n1\n";
    reader_feed(r, text, strlen(text));
    reader_finish(r);
    reader_free(r);
    CHECKF(e.n == 1 && e.present[0] == 1 && e.kept[0] == 0,
           "csv of an ignored column alone: present %zu kept %zu, want 1 0", e.present[0],
           e.kept[0]);
}

/* Another CSV separator reads as the comma would (quotes, commas inside a
 * field, a trailing empty field), and the sniffer names a semicolon,
 * tab or pipe header. */
static void test_delimiter(void)
{
    const char *comma = "a,b,c\n1,\"x,y\",\n\"q;\"\"\",2,3\n";
    const char *semi = "a;b;c\n1;\"x,y\";\n\"q;\"\"\";2;3\n";
    struct reader_limits lim = {0, 0, ';'};
    char *want = read_cut(READER_CSV, NULL, comma, strlen(comma), NULL, NULL);
    char *got = read_cut(READER_CSV, &lim, semi, strlen(semi), NULL, NULL);
    CHECKF(want != NULL && got != NULL && strcmp(want, got) == 0, "';' read\n%s\nwant\n%s",
           got ? got : "", want ? want : "");
    free(want);
    free(got);
    const char *tabs = "a\tb\n1\t2\n";
    lim.delimiter = '\t';
    got = read_cut(READER_CSV, &lim, tabs, strlen(tabs), NULL, NULL);
    CHECKF(got != NULL && strstr(got, "R2/1|'1|'2") != NULL, "tab read\n%s", got ? got : "");
    free(got);
    lim.delimiter = '"'; /* not a separator: the comma is kept */
    got = read_cut(READER_CSV, &lim, comma, strlen(comma), NULL, NULL);
    want = read_cut(READER_CSV, NULL, comma, strlen(comma), NULL, NULL);
    CHECK(got != NULL && want != NULL && strcmp(want, got) == 0);
    free(want);
    free(got);

    CHECK(reader_sniff_delimiter("a;b;c\n1;2;3\n", 12, ',') == ';');
    CHECK(reader_sniff_delimiter("a\tb\n", 4, ',') == '\t');
    CHECK(reader_sniff_delimiter("a|b|c;d\n", 8, 0) == '|');
    CHECK(reader_sniff_delimiter("a,b;c\n", 6, ',') == 0);    /* the comma is there */
    CHECK(reader_sniff_delimiter("abc\n1;2\n", 8, ',') == 0); /* the header has none */
    CHECK(reader_sniff_delimiter("a;b", 3, ';') == 0);
}

int main(void)
{
    test_error_names();
    test_ndjson_errors();
    test_csv_errors();
    test_max_record();
    test_max_columns();
    test_bom();
    test_crlf_and_blank_lines();
    test_cells();
    test_numbering();
    test_chunking();
    test_restart_and_skip();
    test_remap();
    test_feed_sampled();
    test_present_kept();
    test_delimiter();
    return tl_done();
}
