/*
 * Reference samples are most of a baseline's bytes (25 x 100,000 numbers
 * make 15 MB); cJSON would allocate a node for each. So before cJSON sees
 * the text, each "sample": [numbers] array is parsed here straight into
 * doubles, in three steps:
 *   1. one walk over the text finds the arrays (strings respected; an
 *      array's end is its first ']', found by memchr);
 *   2. the arrays are parsed, on up to BSAMPLES_THREADS threads when they
 *      are large (each array is independent);
 *   3. the text for cJSON is the original with each parsed array replaced
 *      by BSAMPLES_BASE + its index, a few hundred kilobytes instead of
 *      fifteen megabytes of blanks for cJSON to skip.
 * Anything unexpected inside an array leaves it to cJSON, whose errors then
 * apply, at positions mapped back to the original text.
 */
#include "stats/bsamples.h"

#include "stats/metrics.h"
#include "stats/numparse.h"
#include "stats/vec2.h"

#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Threads for the arrays, and the bytes of arrays below which one does it. */
#define BSAMPLES_THREADS 4
#define BSAMPLES_PARALLEL_BYTES (1u << 20)

/* One "sample" array of the original text, [start, end] from '[' to ']'. */
struct bsamples_span {
    size_t start, end;
    double *v; /* parsed values; NULL when the array is left to cJSON */
    size_t n;
    size_t nonfinite; /* index of the first infinity, or n */
    bool sorted;
    size_t out; /* where the array begins in the text for cJSON */
    size_t outlen;
};

/* JSON's whitespace. */
static inline bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Where the commas are in [p, e), as offsets from p, eight bytes at a
 * time (whole words only; the rest is left to the caller), at most max -
 * 8 of them and then up to 7 more; returns how many. */
static size_t find_commas(const char *p, const char *e, uint32_t *pos, size_t max)
{
    const char *b = p;
    size_t n = 0;
    while (e - p >= 8 && n + 8 <= max) {
        uint64_t w;
        memcpy(&w, p, sizeof(w));
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        uint64_t x = w ^ 0x2c2c2c2c2c2c2c2cULL; /* a comma's byte is now 0 */
        /* the high bit of each zero byte, exactly (no borrow between bytes) */
        uint64_t m =
            ~(((x & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | x | 0x7f7f7f7f7f7f7f7fULL);
        while (m != 0) {
            pos[n++] = (uint32_t)(p - b) + (uint32_t)(__builtin_ctzll(m) >> 3);
            m &= m - 1;
        }
        p += 8;
    }
    return n;
}

/* Numbers per block of commas found before they are parsed. */
#define COMMA_BLOCK 256

/* The numbers of a compact array ("n,n,...,", as driftd writes it) from
 * text[*j], each ended by a comma, into v[*n...]: the commas are found
 * first, so each parse starts where a comma says instead of where the
 * previous parse ended, and the parses do not wait on each other. The
 * same parse as parse_span's loop, checked to end at its comma; stops at
 * the first number that does not (spaces, the last number), leaving it to
 * that loop. */
static void parse_compact(const char *text, size_t len, size_t end, size_t *j, double *v, size_t *n)
{
    uint32_t pos[COMMA_BLOCK];
    while (*j < end) {
        size_t k = find_commas(text + *j, text + end, pos, COMMA_BLOCK);
        if (k == 0)
            return;
        size_t s = *j;
        for (size_t t = 0; t < k; t++) {
            size_t comma = *j + pos[t];
            char c = text[s];
            double x;
            if ((c != '-' && (c < '0' || c > '9')) ||
                stats_parse_number(text + s, text + len, &x) != text + comma) {
                *j = s;
                return;
            }
            v[(*n)++] = x;
            s = comma + 1;
        }
        *j = s;
    }
}

/* Parse the numbers of span sp; on success sp->v holds them (NULL when the
 * array holds anything else, or on ENOMEM, which then leaves it to cJSON). */
static void parse_span(const char *text, size_t len, struct bsamples_span *sp)
{
    /* at most one value per two bytes (a digit and a comma) between the
     * brackets: no realloc, and no pass to count them first; a large
     * block is mapped, so only the pages the values fill are faulted in */
    size_t cap = (sp->end - sp->start) / 2 + 1, n = 0, j = sp->start + 1;
    double *v = malloc(cap * sizeof(*v));
    if (v == NULL)
        return;
    parse_compact(text, len, sp->end, &j, v, &n);
    for (;;) {
        while (j < len && is_space(text[j]))
            j++;
        if (j < len && text[j] == ']' && n == 0)
            break;
        if (j >= len || (text[j] != '-' && (text[j] < '0' || text[j] > '9')))
            goto fail;
        double x;
        const char *end = stats_parse_number(text + j, text + len, &x);
        if (end == NULL)
            goto fail;
        if (n == cap) {
            double *p = realloc(v, 2 * cap * sizeof(*v));
            if (p == NULL)
                goto fail;
            v = p;
            cap *= 2;
        }
        v[n++] = x;
        j = (size_t)(end - text);
        while (j < len && is_space(text[j]))
            j++;
        if (j < len && text[j] == ',') {
            j++;
            continue;
        }
        if (j < len && text[j] == ']')
            break;
        goto fail;
    }
    if (j != sp->end)
        goto fail;     /* cannot happen: no ']' before the first */
    if (n + 1 < cap) { /* give back the part never used (in place) */
        double *p = realloc(v, (n ? n : 1) * sizeof(*v));
        if (p != NULL)
            v = p;
    }
    /* checked here while the values are in the cache */
    sp->nonfinite = n;
    sp->sorted = true;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            sp->nonfinite = i;
            break;
        }
        if (i > 0 && v[i] < v[i - 1])
            sp->sorted = false;
    }
    sp->v = v;
    sp->n = n;
    return;
fail:
    free(v);
}

/* Step 1: the spans of the "sample" arrays that hold no '"' (an array
 * with a string in it is not one of numbers; the walk then goes on inside
 * it, as cJSON will). -1 on ENOMEM. */
static int find_spans(const char *text, size_t len, struct bsamples *s)
{
    size_t i = 0, cap = 0;
    while (i < len) {
        const char *q = memchr(text + i, '"', len - i);
        if (q == NULL)
            break;
        size_t start = (size_t)(q - text) + 1;
        i = start;
        while (i < len && text[i] != '"')
            i += text[i] == '\\' ? 2 : 1;
        if (i >= len)
            break;
        size_t slen = i - start;
        i++;
        if (slen != 6 || memcmp(text + start, "sample", 6) != 0)
            continue;
        size_t j = i;
        while (j < len && is_space(text[j]))
            j++;
        if (j >= len || text[j] != ':')
            continue;
        j++;
        while (j < len && is_space(text[j]))
            j++;
        if (j >= len || text[j] != '[')
            continue;
        const char *close = memchr(text + j, ']', len - j);
        if (close == NULL)
            continue;
        size_t k = (size_t)(close - text);
        if (memchr(text + j, '"', k - j) != NULL)
            continue;
        if (s->nspans == cap) {
            size_t c = cap ? 2 * cap : 32;
            struct bsamples_span *p = realloc(s->spans, c * sizeof(*p));
            if (p == NULL)
                return -1;
            s->spans = p;
            cap = c;
        }
        s->spans[s->nspans++] = (struct bsamples_span){.start = j, .end = k};
        i = k + 1;
    }
    return 0;
}

/* The arrays shared by the parsing threads; each takes the next. */
struct parse_job {
    const char *text;
    size_t len;
    struct bsamples_span *spans;
    size_t nspans, next;
};

/* A parsing thread: arrays until none is left. */
static void *parse_worker(void *arg)
{
    struct parse_job *job = arg;
    for (;;) {
        size_t k = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (k >= job->nspans)
            return NULL;
        parse_span(job->text, job->len, &job->spans[k]);
    }
}

/* Step 2: parse every span, with threads when the arrays are large. */
static void parse_spans(const char *text, size_t len, struct bsamples *s)
{
    struct parse_job job = {text, len, s->spans, s->nspans, 0};
    size_t bytes = 0;
    for (size_t k = 0; k < s->nspans; k++)
        bytes += s->spans[k].end - s->spans[k].start;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t nt = cpus > 1 ? (size_t)cpus : 1;
    if (nt > BSAMPLES_THREADS)
        nt = BSAMPLES_THREADS;
    if (nt > s->nspans)
        nt = s->nspans;
    if (bytes < BSAMPLES_PARALLEL_BYTES)
        nt = 1;
    pthread_t tid[BSAMPLES_THREADS];
    size_t started = 0;
    for (size_t t = 1; t < nt; t++)
        if (pthread_create(&tid[started], NULL, parse_worker, &job) == 0)
            started++;
    parse_worker(&job); /* this thread works too; with no thread it does it all */
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
}

/* The text for cJSON: text with each replaced span (outlen > 0) replaced
 * by its number, numbered in order; spans' out and outlen set. s->text
 * must hold len + 1 bytes, and each span the digits of its number. */
static void write_text(const char *text, size_t len, struct bsamples *s)
{
    size_t from = 0, o = 0, count = 0;
    for (size_t k = 0; k < s->nspans; k++) {
        struct bsamples_span *sp = &s->spans[k];
        if (sp->outlen == 0)
            continue;
        memcpy(s->text + o, text + from, sp->start - from);
        o += sp->start - from;
        sp->out = o;
        sp->outlen = (size_t)snprintf(s->text + o, len + 1 - o, "%llu",
                                      (unsigned long long)(BSAMPLES_BASE + (uint64_t)count++));
        o += sp->outlen;
        from = sp->end + 1;
    }
    memcpy(s->text + o, text + from, len - from);
    o += len - from;
    s->text[o] = '\0';
    s->len = o;
}

/* The arrays of s: v, n, nonfinite, sorted for count of them, and the text
 * for cJSON (len + 1 bytes). -1 on ENOMEM. */
static int alloc_arrays(struct bsamples *s, size_t count, size_t len)
{
    size_t c = count ? count : 1;
    if ((s->v = calloc(c, sizeof(*s->v))) == NULL || (s->n = calloc(c, sizeof(*s->n))) == NULL ||
        (s->nonfinite = calloc(c, sizeof(*s->nonfinite))) == NULL ||
        (s->sorted = calloc(c, sizeof(*s->sorted))) == NULL ||
        (s->stddev = malloc(c * sizeof(*s->stddev))) == NULL || (s->text = malloc(len + 1)) == NULL)
        return -1;
    for (size_t i = 0; i < c; i++)
        s->stddev[i] = NAN;
    return 0;
}

/* Step 3: number the parsed arrays in order and write the text for cJSON
 * with each replaced by its number. -1 on ENOMEM. */
static int compact(const char *text, size_t len, struct bsamples *s)
{
    size_t parsed = 0;
    for (size_t k = 0; k < s->nspans; k++)
        parsed += s->spans[k].v != NULL;
    if (alloc_arrays(s, parsed, len) != 0)
        return -1;
    for (size_t k = 0; k < s->nspans; k++) {
        struct bsamples_span *sp = &s->spans[k];
        if (sp->v == NULL)
            continue;
        char digits[24];
        int nd = snprintf(digits, sizeof(digits), "%llu",
                          (unsigned long long)(BSAMPLES_BASE + (uint64_t)s->count));
        if ((size_t)nd > sp->end + 1 - sp->start) {
            /* too short to hold its number: cJSON reads it */
            free(sp->v);
            sp->v = NULL;
            continue;
        }
        sp->outlen = (size_t)nd;
        s->v[s->count] = sp->v;
        s->n[s->count] = sp->n;
        s->nonfinite[s->count] = sp->nonfinite;
        s->sorted[s->count] = sp->sorted;
        sp->v = NULL;
        s->count++;
    }
    write_text(text, len, s);
    /* keep only the spans that were replaced, for bsamples_source_offset */
    size_t m = 0;
    for (size_t k = 0; k < s->nspans; k++)
        if (s->spans[k].outlen > 0)
            s->spans[m++] = s->spans[k];
    s->nspans = m;
    return 0;
}

int bsamples_extract(const char *text, size_t len, struct bsamples *out)
{
    memset(out, 0, sizeof(*out));
    if (find_spans(text, len, out) != 0) {
        bsamples_free(out);
        return -1;
    }
    parse_spans(text, len, out);
    if (compact(text, len, out) != 0) {
        bsamples_free(out);
        return -1;
    }
    return 0;
}

size_t bsamples_source_offset(const struct bsamples *s, size_t off)
{
    size_t shift = 0; /* original bytes minus written bytes so far */
    for (size_t k = 0; k < s->nspans; k++) {
        const struct bsamples_span *sp = &s->spans[k];
        if (off < sp->out)
            break;
        if (off < sp->out + sp->outlen)
            return sp->start + (off - sp->out);
        shift = sp->end + 1 - (sp->out + sp->outlen);
    }
    return off + shift;
}

void bsamples_free(struct bsamples *s)
{
    for (size_t i = 0; i < s->count && !s->borrowed; i++)
        free(s->v[i]);
    for (size_t k = 0; k < s->nspans; k++)
        free(s->spans[k].v);
    free(s->v);
    free(s->n);
    free(s->nonfinite);
    free(s->sorted);
    free(s->stddev);
    free(s->text);
    free(s->spans);
    memset(s, 0, sizeof(*s));
}

/*
 * The payload of a cache (agent/bcache.c writes it after a header of its
 * own): 64-bit words in the machine's order,
 *   "BSAMPLE2", count,
 *   for each replaced array: start, end (its brackets in the text), n,
 *     and its stats_std (a double's bits; the evaluation's scale of a
 *     Wasserstein distance, not worth computing again at every check),
 *   the arrays' values, one after the other,
 *   a checksum of every word before it.
 * A payload of another version ("BSAMPLE1": no standard deviations) is
 * not read, and the cache is written anew.
 */
#define PAYLOAD_MAGIC 0x32454c504d415342ULL /* "BSAMPLE2" */
#define ARRAY_WORDS 4                       /* start, end, n, stddev */

/* Four lanes of multiply-xor over the words of the payload, so that the
 * loop is not one chain of multiplications; any flipped bit changes it.
 * Word i goes to lane i % 4, except the last n % 4 words, which all go to
 * lane 0; words are read with memcpy (any alignment). */
struct cksum {
    uint64_t a[4];
};

static struct cksum cksum_start(void)
{
    return (struct cksum){{1, 2, 3, 4}};
}

/* Add n words at p, n a multiple of 4, the first of them word 0 mod 4.
 * The lanes are kept in locals: through c they could alias p's bytes,
 * and every step would go through memory. */
static void cksum_words(struct cksum *c, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t a0 = c->a[0], a1 = c->a[1], a2 = c->a[2], a3 = c->a[3];
    for (size_t i = 0; i + 4 <= n; i += 4) {
        uint64_t w[4];
        memcpy(w, b + 8 * i, sizeof(w));
        a0 = (a0 ^ w[0]) * 0x9E3779B97F4A7C15ULL;
        a1 = (a1 ^ w[1]) * 0x9E3779B97F4A7C15ULL;
        a2 = (a2 ^ w[2]) * 0x9E3779B97F4A7C15ULL;
        a3 = (a3 ^ w[3]) * 0x9E3779B97F4A7C15ULL;
    }
    c->a[0] = a0, c->a[1] = a1, c->a[2] = a2, c->a[3] = a3;
}

/* Add the last n % 4 words (at p) and fold the lanes into the checksum. */
static uint64_t cksum_end(struct cksum *c, const void *p, size_t tail)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < tail; i++) {
        uint64_t w;
        memcpy(&w, b + 8 * i, sizeof(w));
        c->a[0] = (c->a[0] ^ w) * 0x9E3779B97F4A7C15ULL;
    }
    return c->a[0] ^ (c->a[1] << 1 | c->a[1] >> 63) ^ (c->a[2] << 2 | c->a[2] >> 62) ^
           (c->a[3] << 3 | c->a[3] >> 61);
}

uint64_t bsamples_checksum(const void *p, size_t n)
{
    struct cksum c = cksum_start();
    size_t body = n - n % 4;
    cksum_words(&c, p, body);
    return cksum_end(&c, (const char *)p + 8 * body, n % 4);
}

int bsamples_payload(const struct bsamples *s, struct sbuf *out)
{
    size_t words = 2 + ARRAY_WORDS * s->count + 1;
    for (size_t i = 0; i < s->count; i++) {
        if (!s->sorted[i] || s->nonfinite[i] < s->n[i])
            return -1;
        words += s->n[i];
    }
    size_t at = out->len;
    sbuf_reserve(out, words * 8); /* 16 MB for a 2-million-value baseline: no doublings */
    uint64_t head[2] = {PAYLOAD_MAGIC, s->count};
    sbuf_add(out, (const char *)head, sizeof(head));
    for (size_t i = 0; i < s->count; i++) {
        double sd = stats_std(s->v[i], s->n[i]);
        uint64_t w[ARRAY_WORDS] = {s->spans[i].start, s->spans[i].end, s->n[i], 0};
        memcpy(&w[3], &sd, sizeof(sd));
        sbuf_add(out, (const char *)w, sizeof(w));
    }
    for (size_t i = 0; i < s->count; i++)
        sbuf_add(out, (const char *)s->v[i], s->n[i] * sizeof(double));
    if (sbuf_failed(out))
        return -1;
    uint64_t sum = bsamples_checksum(out->data + at, words - 1);
    sbuf_add(out, (const char *)&sum, sizeof(sum));
    return sbuf_failed(out) ? -1 : 0;
}

/* Are the values of one array from index j to lim (j >= 1) each at least
 * the one before it? A NaN fails the comparison either side of it. */
static bool values_ordered(const double *v, size_t j, size_t lim)
{
    /* eight values a step, as four vectors of two (stats/vec2.h), and-ed:
     * no branch, and no chain of one comparison */
    stats_v2i ok[4] = {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}};
    size_t i = j;
    for (; i + 8 <= lim; i += 8)
        for (int l = 0; l < 4; l++) {
            stats_v2d cur, prev;
            memcpy(&cur, v + i + 2 * l, sizeof(cur));
            memcpy(&prev, v + i + 2 * l - 1, sizeof(prev));
            ok[l] &= cur >= prev;
        }
    stats_v2i all = ok[0] & ok[1] & ok[2] & ok[3];
    bool bad = (all[0] & all[1]) != -1;
    for (; i < lim; i++)
        bad |= !(v[i] >= v[i - 1]);
    return !bad;
}

/* The words of array i's header in payload w, and its count of values. */
static inline const uint64_t *array_words(const uint64_t *w, size_t i)
{
    return w + 2 + ARRAY_WORDS * i;
}

static inline size_t array_n(const uint64_t *w, size_t i)
{
    return (size_t)array_words(w, i)[2];
}

/* Where payload_intact is in the arrays of values: array f starts at
 * value fstart (values count from the first word after the header). */
struct intact_at {
    size_t f, fstart;
};

/* Are the values from index i to end (all inside the arrays) finite and in
 * order within their arrays? An array in order is finite when its first
 * and last values are: those two are looked at when its first is. */
static bool values_intact(const uint64_t *w, size_t count, struct intact_at *at, size_t i,
                          size_t end)
{
    const double *v = (const double *)(w + 2 + ARRAY_WORDS * count);
    while (i < end) {
        while (at->f < count && at->fstart + array_n(w, at->f) <= i)
            at->fstart += array_n(w, at->f++);
        size_t fend = at->fstart + array_n(w, at->f), lim = fend < end ? fend : end;
        if (i == at->fstart && !(isfinite(v[i]) && isfinite(v[fend - 1])))
            return false;
        if (!values_ordered(v + at->fstart, i > at->fstart ? i - at->fstart : 1, lim - at->fstart))
            return false;
        i = lim;
    }
    return true;
}

/* Does the checksum (word n) match the n words before it, and are the
 * count arrays of values (after the header, up to word n) finite and
 * sorted? The reader trusts both, and a payload is only written so. One
 * pass from memory: the words are summed a block at a time and the
 * block's values checked while it is still in the first-level cache. */
#define INTACT_BLOCK 4096 /* words: 32 kB */
static bool payload_intact(const uint64_t *w, size_t n, size_t count)
{
    const size_t head = 2 + ARRAY_WORDS * count, body = n - n % 4;
    struct cksum c = cksum_start();
    struct intact_at at = {0, 0};
    for (size_t from = 0; from < n;) {
        size_t to = body - from > INTACT_BLOCK ? from + INTACT_BLOCK : body;
        if (from == body)
            to = n; /* the last n % 4 words: cksum_end adds them */
        else
            cksum_words(&c, w + from, to - from);
        if (to > head && !values_intact(w, count, &at, from > head ? from - head : 0, to - head))
            return false;
        from = to;
    }
    return cksum_end(&c, w + body, n % 4) == w[n];
}

int bsamples_from_payload(const char *text, size_t len, const void *payload, size_t plen,
                          struct bsamples *out)
{
    memset(out, 0, sizeof(*out));
    const uint64_t *w = payload;
    if (((uintptr_t)payload & 7) != 0 || plen % 8 != 0 || plen < 3 * 8 || w[0] != PAYLOAD_MAGIC)
        return 1;
    size_t nw = plen / 8;
    uint64_t count = w[1];
    if (count > (nw - 3) / ARRAY_WORDS)
        return 1;
    /* the words left for values, which the counts must fill exactly (each
     * checked against what is left, so that no sum of them can wrap) */
    size_t room = nw - 3 - ARRAY_WORDS * (size_t)count, values = 0, prev_end = 0;
    for (size_t i = 0; i < count; i++) {
        const uint64_t *a = array_words(w, i);
        uint64_t start = a[0], end = a[1], n = a[2];
        /* in order, inside the text, a '[' and a ']' that hold its number */
        char digits[24];
        int nd = snprintf(digits, sizeof(digits), "%llu",
                          (unsigned long long)(BSAMPLES_BASE + (uint64_t)i));
        if (start < prev_end || start >= end || end >= len || text[start] != '[' ||
            text[end] != ']' || end + 1 - start < (uint64_t)nd || n > room - values)
            return 1;
        prev_end = end + 1;
        values += (size_t)n;
    }
    if (values != room || !payload_intact(w, nw - 1, count))
        return 1;
    const double *v = (const double *)(w + 2 + ARRAY_WORDS * count);
    out->borrowed = true;
    if ((out->spans = calloc(count ? count : 1, sizeof(*out->spans))) == NULL ||
        alloc_arrays(out, count, len) != 0) {
        bsamples_free(out);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        const uint64_t *a = array_words(w, i);
        size_t n = (size_t)a[2];
        /* outlen 1: replaced (write_text writes the real length) */
        out->spans[i] = (struct bsamples_span){.start = a[0], .end = a[1], .outlen = 1};
        out->v[i] = (double *)v;
        out->n[i] = n;
        out->nonfinite[i] = n;
        out->sorted[i] = true;
        /* a standard deviation that is not one (checksummed, but not made
         * here) is left unknown, to be computed again */
        double sd;
        memcpy(&sd, &a[3], sizeof(sd));
        out->stddev[i] = sd >= 0 && isfinite(sd) ? sd : NAN;
        v += n;
    }
    out->count = out->nspans = count;
    write_text(text, len, out);
    return 0;
}
