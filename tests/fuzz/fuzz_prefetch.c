/*
 * libFuzzer target: the parallel reading of agent/prefetch.c, against its
 * one reader. The input's first byte picks CSV or NDJSON, the CSV
 * delimiter and a segment size of 1 to 64 bytes; the rest is written to a
 * file, which prefetch reads twice: with one reader (prefetch_split
 * (SIZE_MAX, 0)) and in segments of that size on 4 threads (DRIFTD_THREADS,
 * prefetch_split(0, size)), so that a small input is cut into many
 * segments, at every line. What the consumer sees must be the same:
 *
 * - the column events (index, name) and records (line, index, cell counts,
 *   every cell's type, text bytes and precell class, and the bits of its
 *   numbers (but see on_record), in order;
 * - the messages diag prints on stderr (captured: stderr points to a memory
 *   stream during a read), in order among themselves: the segments hand
 *   their held messages over before their records, so messages and
 *   records interleave differently;
 * - diag's count and the prefetch_result.
 *
 * A difference aborts with both versions of the first event that differs.
 *
 * NDJSON with bit 7 of the first byte set is made from the input rather
 * than taken as it is (make_ndjson): cJSON is not instrumented, so the
 * fuzzer alone rarely writes two valid objects with different keys, and
 * never the 4096 keys after which a segment falls back to read_rest.
 */
#include "agent/build.h"
#include "agent/prefetch.h"
#include "lib/sbuf.h"

#include "fuzz_check.h"

#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The file prefetch reads: made once per process, rewritten every run. */
static char input_path[4096];

/* What one read showed the consumer. */
struct story {
    FILE *ev; /* column and record events, a line each */
    char *events, *messages;
    size_t nevents, nmessages;
    struct prefetch_result res;
    uint64_t count; /* diag's */
};

/* Bytes as diag_put_text quotes them (injective: a backslash is escaped). */
static void put_bytes(FILE *f, const char *s, size_t len)
{
    fputc('"', f);
    diag_put_text(f, s, len);
    fputc('"', f);
}

static void put_bits(FILE *f, double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    fprintf(f, " %llx", (unsigned long long)u);
}

static int on_column(void *arg, size_t index, const char *name, size_t len)
{
    struct story *st = arg;
    fprintf(st->ev, "column %zu ", index);
    put_bytes(st->ev, name, len);
    fputc('\n', st->ev);
    return 0;
}

static void on_record(void *arg, const struct reader_record *rec, const struct precell *pre)
{
    struct story *st = arg;
    fprintf(st->ev, "record line %llu index %llu ncells %zu npresent %zu nkept %zu:",
            (unsigned long long)rec->line, (unsigned long long)rec->index, rec->ncells,
            rec->npresent, rec->nkept);
    for (size_t i = 0; i < rec->ncells; i++) {
        const struct cell *c = &rec->cells[i];
        /* [type "text" class num pre-num], short: a record has up to 4096 */
        fprintf(st->ev, " [%d ", (int)c->type);
        put_bytes(st->ev, c->str, c->len); /* every byte read: ASan checks the range */
        fprintf(st->ev, " %d", (int)pre[i].cls);
        put_bits(st->ev, c->num);
        put_bits(st->ev, pre[i].num);
        fputc(']', st->ev);
    }
    fputc('\n', st->ev);
}

/* Read the input file once, as the split last set says, into st. */
static void read_story(enum reader_format fmt, char delimiter, struct story *st)
{
    memset(st, 0, sizeof(*st));
    size_t evlen = 0, msglen = 0;
    st->ev = open_memstream(&st->events, &evlen);
    FILE *msg = open_memstream(&st->messages, &msglen);
    FUZZ_CHECK(st->ev != NULL && msg != NULL);
    struct diag d = {input_path, 0, UINT_MAX, 0}; /* every message shown */
    /* diag and memfile print to stderr (the reading thread, started after
     * this and joined before it is put back, is the only other user) */
    FILE *saved = stderr;
    stderr = msg;
    struct prefetch *p = prefetch_start(input_path, fmt, delimiter, &d);
    if (p != NULL) {
        struct prefetch_ops ops = {on_column, on_record, NULL};
        prefetch_drain(p, &ops, st, &st->res);
        prefetch_free(p);
    }
    stderr = saved;
    FUZZ_CHECK(p != NULL);
    st->count = d.count;
    FUZZ_CHECK(fclose(st->ev) == 0 && fclose(msg) == 0);
    st->ev = NULL;
    st->nevents = evlen;
    st->nmessages = msglen;
}

static void story_free(struct story *st)
{
    free(st->events);
    free(st->messages);
}

/* The line of text around offset off. */
static void line_at(const char *s, size_t len, size_t off, const char **start, int *n)
{
    size_t a = off, b = off;
    while (a > 0 && s[a - 1] != '\n')
        a--;
    while (b < len && s[b] != '\n')
        b++;
    *start = s + a;
    *n = (int)(b - a < 400 ? b - a : 400);
}

/* Abort, showing the first line where two texts (events or messages)
 * differ, when they do. */
static void same_text(const char *what, size_t seg, const char *one, size_t n1, const char *par,
                      size_t n2)
{
    size_t i = 0, line = 1;
    while (i < n1 && i < n2 && one[i] == par[i])
        line += one[i++] == '\n';
    if (i == n1 && i == n2)
        return;
    const char *a, *b;
    int na, nb;
    line_at(one, n1, i, &a, &na);
    line_at(par, n2, i, &b, &nb);
    fprintf(stderr,
            "fuzz_prefetch: %s differ from line %zu on, segments of %zu bytes\n"
            "  one reader: %.*s%s\n  segments:   %.*s%s\n",
            what, line, seg, na, a, i == n1 ? "(end)" : "", nb, b, i == n2 ? "(end)" : "");
    abort();
}

static void remove_input(void)
{
    unlink(input_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("DRIFTD_THREADS", "4", 1);
    const char *tmp = getenv("TMPDIR");
    snprintf(input_path, sizeof(input_path), "%s/driftd-fuzz-prefetch.XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    int fd = mkstemp(input_path);
    if (fd < 0) {
        perror(input_path);
        abort();
    }
    close(fd);
    atexit(remove_input);
    return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
    int fd = open(input_path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    FUZZ_CHECK(fd >= 0);
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        FUZZ_CHECK(n > 0);
        data += n;
        size -= (size_t)n;
    }
    FUZZ_CHECK(close(fd) == 0);
}

/* Keys of the made NDJSON: two spell "a" (cJSON unescapes), one is empty,
 * one has a NUL, one is not ASCII. */
static const char *const made_keys[16] = {"a",       "b", "c",  "d",       "e",   "f",
                                          "g",       "h", "",   "\\u0061", "x y", "a\\u0000b",
                                          "\\u00e9", "B", "aa", "k1"};
static const char *const made_values[24] = {
    "0",         "1",           "-0.0",      "1.5",    "1e999", "-1e400", "12345678901234567890",
    "2e-320",    "\"x\"",       "\"1e999\"", "\"NA\"", "\"\"",  "\"3\"",  "\" 7 \"",
    "\"nan\"",   "\"\\u0031\"", "null",      "true",   "false", "[1]",    "{}",
    "{\"z\":1}", "[]",          "\"\\n\""};
static const char *const made_lines[8] = {"\n",         "  \n",    "\r\n",      "\t\r\n",
                                          "not json\n", "[1,2]\n", "{\"a\":\n", "1\n"};

/* Records times columns a made input stops at: every record has a cell
 * for every column known, so 4096 keys and a few thousand lines would be
 * gigabytes. */
#define MADE_CELLS (1u << 18)

/* NDJSON made from the input, a byte an instruction (high 3 bits: what;
 * low 5: which): 0-2 a key and value in the current object (opened as
 * needed), 3 the object ends its line (LF or CRLF), 4 a blank or broken
 * line, 5 (arg + 1) * 32 new keys "k1", "k2", ... (8 of them make 4096),
 * 6 the next byte as it is, 7 the object closed, no newline. Stops at
 * about MADE_CELLS. */
static void make_ndjson(const uint8_t *in, size_t n, struct sbuf *out)
{
    bool open = false;
    unsigned fresh = 0;
    size_t lines = 1;
    for (size_t i = 0; i < n && (fresh + 16) * lines <= MADE_CELLS; i++) {
        lines += in[i] >> 5 == 3 || in[i] >> 5 == 4;
        unsigned op = in[i] >> 5, arg = in[i] & 31;
        switch (op) {
        case 0:
        case 1:
        case 2:
            sbuf_addc(out, open ? ',' : '{');
            open = true;
            sbuf_printf(out, "\"%s\":%s", made_keys[arg & 15],
                        made_values[(op * 8 + (arg >> 2)) % 24]);
            break;
        case 3:
            sbuf_adds(out, open ? "}" : "{}");
            sbuf_adds(out, arg & 1 ? "\r\n" : "\n");
            open = false;
            break;
        case 4:
            if (open)
                sbuf_adds(out, "}\n");
            open = false;
            sbuf_adds(out, made_lines[arg & 7]);
            break;
        case 5:
            for (unsigned k = 0; k < (arg + 1) * 32; k++) {
                sbuf_addc(out, open ? ',' : '{');
                open = true;
                fresh++;
                sbuf_printf(out, "\"k%u\":%u", fresh, fresh % 7);
            }
            break;
        case 6:
            if (i + 1 < n)
                sbuf_addc(out, (char)in[++i]);
            break;
        default:
            if (open)
                sbuf_addc(out, '}');
            open = false;
        }
    }
    if (open)
        sbuf_adds(out, "}\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    /* bit 0: the format; CSV: bits 1-2 the delimiter (0: ',' unless the
     * header shows another), bits 3-7 the segment size (odd, 1-63 bytes);
     * NDJSON: bits 1-6 the segment size (1-64 bytes), bit 7 made NDJSON */
    uint8_t b = data[0];
    static const char delimiters[4] = {0, ';', '\t', '|'};
    enum reader_format fmt = b & 1 ? READER_NDJSON : READER_CSV;
    char delimiter = fmt == READER_CSV ? delimiters[(b >> 1) & 3] : 0;
    size_t seg = fmt == READER_CSV ? 1 + 2 * (size_t)(b >> 3) : 1 + (size_t)((b >> 1) & 63);
    const uint8_t *text = data + 1;
    size_t len = size - 1;
    struct sbuf made;
    sbuf_init(&made);
    if (fmt == READER_NDJSON && (b & 0x80)) {
        make_ndjson(text, len, &made);
        FUZZ_CHECK(!sbuf_failed(&made));
        text = (const uint8_t *)made.data;
        len = made.len;
    }
    write_input(text, len);

    struct story one, par;
    prefetch_split(SIZE_MAX, 0);
    read_story(fmt, delimiter, &one);
    prefetch_split(0, seg);
    read_story(fmt, delimiter, &par);

    same_text("messages", seg, one.messages, one.nmessages, par.messages, par.nmessages);
    same_text("columns and records", seg, one.events, one.nevents, par.events, par.nevents);
    if (one.count != par.count || one.res.opened != par.res.opened ||
        one.res.bytes != par.res.bytes || one.res.has_header != par.res.has_header ||
        one.res.ncolumns != par.res.ncolumns) {
        fprintf(stderr,
                "fuzz_prefetch: results differ, segments of %zu bytes\n"
                "  one reader: %llu messages, opened %d, %zu bytes, header %d, %zu columns\n"
                "  segments:   %llu messages, opened %d, %zu bytes, header %d, %zu columns\n",
                seg, (unsigned long long)one.count, one.res.opened, one.res.bytes,
                one.res.has_header, one.res.ncolumns, (unsigned long long)par.count, par.res.opened,
                par.res.bytes, par.res.has_header, par.res.ncolumns);
        abort();
    }
    /* the input was read: a failure to open it would hide every difference */
    FUZZ_CHECK(one.res.opened && one.res.bytes == len);
    story_free(&one);
    story_free(&par);
    sbuf_free(&made);
    return 0;
}
