/*
 * libFuzzer target: the HTML report (agent/html.c) of hostile data. The
 * input is a baseline (JSON, as `driftd baseline` writes it) and a CSV
 * text separated by a NUL byte: the CSV is checked against the baseline
 * (with every metric when the first byte is odd, so the KS point is
 * taken), and the page is drawn. The page must be whole (doctype to </html>), valid UTF-8 without
 * control characters, hold no markup the data brought (no "<script", no
 * element but the renderer's own) and one summary row per feature.
 */
#include "agent/dataset.h"
#include "agent/drift.h"
#include "agent/html.h"
#include "stats/baseline.h"

#include "fuzz_check.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Is s (n bytes) valid UTF-8 with no C0 control but tab and newline? */
static bool clean_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
                return false;
            i++;
            continue;
        }
        size_t need = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
        if (need == 0 || i + need > n)
            return false;
        for (size_t k = 1; k < need; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
        i += need;
    }
    return true;
}

/* The elements the renderer writes; anything else came from the data. */
static bool known_tag(const char *p, size_t n)
{
    static const char *const tags[] = {
        "html",    "head",  "meta",    "title",      "style", "body",   "header",  "h1",
        "h2",      "h3",    "p",       "span",       "dl",    "dt",     "dd",      "code",
        "main",    "table", "caption", "thead",      "tbody", "tr",     "th",      "td",
        "a",       "svg",   "path",    "rect",       "text",  "g",      "circle",  "title",
        "section", "div",   "figure",  "figcaption", "i",     "footer", "!DOCTYPE"};
    for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
        if (strlen(tags[i]) == n && strncmp(tags[i], p, n) == 0)
            return true;
    return false;
}

/* Every "<name" and "</name" of the page is one of the renderer's. */
static void check_tags(const char *s)
{
    for (const char *p = strchr(s, '<'); p != NULL; p = strchr(p + 1, '<')) {
        const char *q = p + 1 + (p[1] == '/');
        size_t n = strcspn(q, " >/\n");
        FUZZ_CHECK(known_tag(q, n));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    bool all = data[0] & 1;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    const char *sep = memchr(text, '\0', len);
    if (sep == NULL)
        return 0;
    size_t blen = (size_t)(sep - text), clen = len - blen - 1;
    char *curz = malloc(clen + 1);
    FUZZ_CHECK(curz != NULL);
    memcpy(curz, sep + 1, clen), curz[clen] = '\0';

    struct stats_baseline *b = NULL;
    char err[256];
    if (stats_baseline_parse(text, blen, "base.json", &b, err, sizeof(err)) == 0) {
        struct dataset *ds = dataset_new(b);
        FUZZ_CHECK(ds != NULL);
        ds->na_tokens = true;
        if (dataset_read(ds, curz, clen, READER_CSV) >= 0) {
            dataset_count_absent(ds);
            struct drift_opts o;
            drift_opts_init(&o);
            o.all_metrics = all;
            struct report *rep = drift_evaluate(ds, &o);
            FUZZ_CHECK(rep != NULL);
            FUZZ_CHECK(report_set_origin(rep, 1800000000, curz, NULL, curz) == 0);
            struct html_view *v = html_view_new(rep, b, ds);
            FUZZ_CHECK(v != NULL);
            struct sbuf s;
            sbuf_init(&s);
            struct html_meta m = {.model = curz, .window = curz, .all_metrics = all};
            FUZZ_CHECK(html_render(rep, v, &m, &s) == 0);
            FUZZ_CHECK(s.len > 30 && strncmp(s.data, "<!DOCTYPE html>", 15) == 0);
            FUZZ_CHECK(strcmp(s.data + s.len - 8, "</html>\n") == 0);
            FUZZ_CHECK(strlen(s.data) == s.len);
            FUZZ_CHECK(clean_utf8((const unsigned char *)s.data, s.len));
            FUZZ_CHECK(strcasestr(s.data, "<script") == NULL);
            check_tags(s.data);
            size_t rows = 0;
            for (const char *p = s.data; (p = strstr(p, "<tr class=\"feat ")) != NULL; p++)
                rows++;
            FUZZ_CHECK(rows == rep->n);
            sbuf_free(&s);
            html_view_free(v);
            report_free(rep);
        }
        dataset_free(ds);
        stats_baseline_free(b);
    }
    free(curz);
    return 0;
}
