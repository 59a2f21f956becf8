/*
 * The HTML report (agent/html.c): escaping of hostile text, one summary row,
 * one chart and one detail block per feature, drifted features first, the
 * verdict sentence, the JSON report's numbers in data-v, nothing that
 * would make the page ask for anything outside itself.
 */
#include "agent/bcache.h"
#include "agent/cli.h"
#include "agent/dataset.h"
#include "agent/drift.h"
#include "agent/html.h"
#include "lib/file.h"
#include "testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How often needle occurs in hay. */
static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* html_escape of s, as a string (caller frees). */
static char *escaped(const char *s, size_t len)
{
    struct sbuf b;
    sbuf_init(&b);
    html_escape(&b, s, len);
    sbuf_addc(&b, '\0');
    return sbuf_steal(&b, NULL);
}

static void test_escape(void)
{
    const char *hostile = "<script>alert(\"x\" + 'y' & 1)</script>";
    char *e = escaped(hostile, strlen(hostile));
    CHECKF(strcmp(e, "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39; &amp; 1)&lt;/script&gt;") ==
               0,
           "escaped: %s", e);
    free(e);
    /* valid UTF-8 passes; a stray continuation byte, a truncated sequence,
     * an overlong form, a surrogate and a C0 control become U+FFFD */
    e = escaped("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", 9);
    CHECKF(strcmp(e, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80") == 0, "UTF-8 kept: %s", e);
    free(e);
    e = escaped("a\x80"
                "b\xE2\x82"
                "c\xC0\xAF"
                "d\xED\xA0\x80"
                "e\x01"
                "f",
                15);
    CHECKF(strcmp(e, "a\xEF\xBF\xBD"
                     "b\xEF\xBF\xBD\xEF\xBF\xBD"
                     "c\xEF\xBF\xBD\xEF\xBF\xBD"
                     "d\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                     "e\xEF\xBF\xBD"
                     "f") == 0,
           "invalid bytes replaced: %s", e);
    free(e);
    e = escaped("tab\tnew\nline", 12);
    CHECK(strcmp(e, "tab\tnew\nline") == 0);
    free(e);
}

/* The baseline of a CSV text, built as `driftd baseline` builds it (every
 * row in the sample) and loaded back; NULL when a step fails. */
static struct stats_baseline *baseline_of(const char *csv_text)
{
    char *dir = tl_tmpdir("html");
    char in[512], out[512];
    snprintf(in, sizeof(in), "%s/ref.csv", dir);
    snprintf(out, sizeof(out), "%s/base.json", dir);
    struct stats_baseline *b = NULL;
    if (file_write_atomic(in, csv_text, strlen(csv_text), 0600, 0) == 0) {
        char *argv[] = {"baseline", "-i", in, "-n", "100000", "-o", out, NULL};
        if (cmd_baseline(7, argv) == 0)
            b = load_baseline(out, NULL);
    }
    tl_tmpdir_remove(dir);
    return b;
}

/* The page of cur against the baseline of ref; NULL when a step fails.
 * *rep_out receives the report (caller frees). */
static char *page_of(const char *ref, const char *cur, bool all, struct report **rep_out,
                     const char *model)
{
    struct stats_baseline *b = baseline_of(ref);
    if (b == NULL)
        return NULL;
    struct dataset *ds = dataset_new(b);
    ds->na_tokens = true;
    dataset_read(ds, cur, strlen(cur), READER_CSV);
    dataset_count_absent(ds);
    struct drift_opts o;
    drift_opts_init(&o);
    o.all_metrics = all;
    struct report *rep = drift_evaluate(ds, &o);
    report_set_origin(rep, 1800000000, "base<1>.json", NULL, "cur&.csv");
    struct html_view *v = html_view_new(rep, b, ds);
    struct html_meta m = {.model = model, .all_metrics = all};
    struct sbuf s;
    sbuf_init(&s);
    int rc = v != NULL ? html_render(rep, v, &m, &s) : -1;
    CHECK(rc == 0);
    /* the fragment for another page is the page's body, exactly */
    if (rc == 0) {
        struct sbuf f;
        sbuf_init(&f);
        CHECK(html_render_fragment(rep, v, &m, &f) == 0);
        sbuf_addc(&f, '\0');
        CHECK(f.data != NULL && strncmp(f.data, "<div class=\"report\">", 20) == 0);
        sbuf_addc(&s, '\0');
        CHECK(f.data != NULL && strstr(s.data, f.data) != NULL);
        s.len--; /* the NUL again below */
        sbuf_free(&f);
        CHECK(strstr(html_report_css(), "@media print") != NULL);
    }
    /* a view is only good for its own report */
    if (v != NULL && rep->n > 0) {
        struct report other = *rep;
        other.n--;
        struct sbuf x;
        sbuf_init(&x);
        CHECK(html_render(&other, v, &m, &x) == -1);
        sbuf_free(&x);
    }
    html_view_free(v);
    dataset_free(ds);
    stats_baseline_free(b);
    *rep_out = rep;
    sbuf_addc(&s, '\0');
    return sbuf_steal(&s, NULL);
}

/* The exact text of a double in the JSON report. */
static char *json_num(double v)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_add_double(&s, v);
    sbuf_addc(&s, '\0');
    return sbuf_steal(&s, NULL);
}

/* Lines of a CSV: header, then n rows from a generator. */
static char *csv(const char *header, size_t n, void (*row)(struct sbuf *, size_t, bool), bool cur)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_adds(&s, header);
    sbuf_addc(&s, '\n');
    for (size_t i = 0; i < n; i++) {
        row(&s, i, cur);
        sbuf_addc(&s, '\n');
    }
    sbuf_addc(&s, '\0');
    return sbuf_steal(&s, NULL);
}

#define HEADER "x,\"<b>\"\"q\"\"&'</b>\",steady,cst,gone"
/* x shifts in the current data; the hostile categorical column gains an
 * unseen category with a script in it; steady is the same; cst is one
 * value; gone has no value in the current data. */
static void row(struct sbuf *s, size_t i, bool cur)
{
    double x = (double)(i % 97) / 10.0 + (cur ? 3.0 : 0.0);
    const char *cats[] = {"a", "b", "<i>"};
    const char *c = cur && i % 4 == 0 ? "\"<script>console.error(1)</script>\"" : cats[i % 3];
    sbuf_printf(s, "%g,%s,%g,5,%s", x, c, (double)((i * 7) % 50), cur ? "" : "1.5");
}

static void test_page(void)
{
    char *ref = csv(HEADER, 600, row, false), *cur = csv(HEADER, 400, row, true);
    struct report *rep = NULL;
    char *p = page_of(ref, cur, false, &rep, "churn <model>");
    if (!CHECK(p != NULL && rep != NULL)) {
        free(ref), free(cur), report_free(rep);
        return;
    }
    CHECK(strncmp(p, "<!DOCTYPE html>\n<html lang=\"en\">", 31) == 0);
    CHECK(strlen(p) > 20 && strcmp(p + strlen(p) - 8, "</html>\n") == 0);
    /* hostile text never becomes markup */
    CHECKF(strstr(p, "<script") == NULL && strstr(p, "<SCRIPT") == NULL, "a script element");
    CHECK(strstr(p, "<b>") == NULL && strstr(p, "<i>") == NULL);
    CHECK(strstr(p, "&lt;b&gt;&quot;q&quot;&amp;&#39;&lt;/b&gt;") != NULL);
    CHECK(strstr(p, "&lt;script&gt;console.error(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(p, "churn &lt;model&gt;") != NULL);
    CHECK(strstr(p, "base&lt;1&gt;.json") != NULL && strstr(p, "cur&amp;.csv") != NULL);
    /* nothing that loads: no URL, no source, no import, no script */
    const char *loads[] = {"http:", "https:",  "url(",    " src=",  "@import",  "<link",
                           "<img",  "<iframe", "<object", "<embed", "href=\"/", "href=\"h"};
    for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++)
        CHECKF(strstr(p, loads[i]) == NULL, "the page has \"%s\"", loads[i]);
    /* one row, one chart, one detail block per feature */
    CHECK(rep->n == 5);
    CHECKF(occurrences(p, "<tr class=\"feat ") == rep->n, "rows");
    CHECKF(occurrences(p, "<svg class=\"mini\"") == rep->n, "mini charts");
    CHECKF(occurrences(p, "<section class=\"detail ") == rep->n, "detail blocks");
    /* drifted first */
    const char *q = strstr(p, "<tbody id=\"summary\">");
    bool seen_ok = false, order_ok = true;
    size_t drifted = 0;
    for (const char *t = q; t != NULL && (t = strstr(t, "<tr class=\"feat ")) != NULL; t++) {
        bool d = strncmp(strstr(t, "data-drift=\"") + 12, "true", 4) == 0;
        drifted += d;
        if (d && seen_ok)
            order_ok = false;
        if (!d)
            seen_ok = true;
    }
    CHECKF(order_ok, "a drifted row after one that did not drift");
    CHECKF(drifted == rep->dataset.drifted, "%zu drifted rows, report %zu", drifted,
           rep->dataset.drifted);
    CHECK(drifted >= 2); /* x and the hostile categorical column */
    /* the verdict sentence of the report's numbers */
    char verdict[160];
    snprintf(
        verdict, sizeof(verdict), "Dataset drift: %zu of %zu features (share %.2f, threshold %.2f)",
        rep->dataset.drifted, rep->dataset.total, rep->dataset.share, rep->dataset.drift_share);
    CHECKF(strstr(p, verdict) != NULL, "no \"%s\"", verdict);
    CHECK(strstr(p, rep->dataset.drift ? "DRIFT</span>" : "NO DRIFT</span>") != NULL);
    /* each statistic as the JSON writes it, in its row */
    for (size_t i = 0; i < rep->n; i++) {
        const struct report_feature *f = &rep->features[i];
        char *v = json_num(f->r.statistic);
        char *want = malloc(strlen(v) + 40);
        sprintf(want, "<td class=\"n stat\" data-v=\"%s\">", v);
        CHECKF(strstr(p, want) != NULL, "feature %zu: no %s", i, want);
        free(v), free(want);
    }
    /* x is tested by KS (few rows): the distance is marked on its ECDFs */
    CHECK(rep->features[0].r.test == STATS_KS);
    CHECK(occurrences(p, "class=\"ksd\"") >= 1 && occurrences(p, "<g class=\"ks\">") >= 1);
    /* the unseen category is marked, in the chart and the table */
    CHECK(occurrences(p, "class=\"unseen\"") >= 1);
    CHECK(strstr(p, "\xE2\x96\xB2 unseen") != NULL);
    /* the feature with no current value drifts for its data quality */
    CHECK(strstr(p, "drift (data quality)") != NULL);
    free(p);
    report_free(rep);

    /* the same data against itself: no drift, said in words */
    p = page_of(ref, ref, true, &rep, NULL);
    if (CHECK(p != NULL)) {
        CHECK(strstr(p, "NO DRIFT</span> Dataset drift: 0 of 5 features (share 0.00, threshold "
                        "0.50)") != NULL);
        CHECK(strstr(p, "not named") != NULL);
        /* with all metrics, x lists every numerical metric */
        CHECK(strstr(p, "data-metric=\"wasserstein\"") != NULL &&
              strstr(p, "data-metric=\"hellinger\"") != NULL);
    }
    free(p);
    report_free(rep);
    free(ref), free(cur);
}

/* Values at the ends of the double range and infinities draw without a
 * NaN or an infinity in the SVG. */
static void row_extreme(struct sbuf *s, size_t i, bool cur)
{
    /* a baseline keeps finite means and deviations: its extremes are milder */
    static const char *c[] = {"-1.7e308", "1.7e308", "inf", "-inf", "0", "1e-310"};
    static const char *r[] = {"-1e150", "1e150", "0", "1e-310", "5"};
    sbuf_printf(s, "%s", cur ? c[i % 6] : r[i % 5]);
}

static void test_extreme(void)
{
    char *ref = csv("e", 60, row_extreme, false), *cur = csv("e", 60, row_extreme, true);
    struct report *rep = NULL;
    char *p = page_of(ref, cur, true, &rep, NULL);
    if (CHECK(p != NULL)) {
        CHECKF(strstr(p, "nan") == NULL && strstr(p, "inf\"") == NULL, "NaN or inf in the SVG");
        CHECK(occurrences(p, "<svg class=\"mini\"") == 1);
    }
    free(p);
    report_free(rep);
    free(ref), free(cur);
}

int main(void)
{
    test_escape();
    test_page();
    test_extreme();
    return tl_done();
}
