/*
 * The HTML drift report (docs/report.md, "The HTML report"): one
 * self-contained HTML5 page, inline CSS and inline SVG, no request of any
 * kind, drawn from the numbers of a report and the data it was made from.
 *
 * Two steps, so that the daemon can draw a window's page long after its
 * sample is gone: html_view_new takes the pictures' numbers (common-bin
 * histograms, ECDF points, category counts, data-quality counters) while
 * the dataset is alive, right after drift_evaluate; html_render writes the
 * page from the report and that view at any later time.
 */
#ifndef DRIFTD_AGENT_HTML_H
#define DRIFTD_AGENT_HTML_H

#include "agent/dataset.h"
#include "agent/drift.h"
#include "lib/sbuf.h"

#include <stdbool.h>

/* The numbers behind the pictures of one report: a few kilobytes per
 * feature whatever the data's size; owns all its memory, refers to
 * nothing of the report, baseline or dataset it was made from. */
struct html_view;

/* Take the pictures' numbers of report r: b is the baseline r was
 * evaluated against (its reference sample and category counts), ds the
 * current data r was evaluated on, after drift_evaluate (its numerical
 * columns sorted, its unseen counts set). Features are matched to r's by
 * name. NULL on ENOMEM. */
struct html_view *html_view_new(const struct report *r, const struct stats_baseline *b,
                                const struct dataset *ds);
void html_view_free(struct html_view *v);

/* What the page says besides the report; every member may be NULL
 * (then left out). The strings are text, escaped when written. */
struct html_meta {
    const char *model;           /* the configuration's "model" */
    const char *baseline_source; /* provenance: the file the baseline was built from */
    const char *baseline_labels; /* provenance: "key=value, key=value" */
    const char *window;          /* the daemon's window, e.g. "window 42 (1000 records)" */
    bool all_metrics;            /* show every metric, as report_json's all_metrics */
};

/* Append the whole page of report r (drawn from v, made from r by
 * html_view_new) to out. Every number of the report is written as the
 * JSON report writes it in a data-v attribute and rounded for reading.
 * -1 when out has failed (ENOMEM) or v is not r's (feature count). */
int html_render(const struct report *r, const struct html_view *v, const struct html_meta *m,
                struct sbuf *out);

/* The page's body alone, for a page of the caller's (the daemon's live
 * page): <div class="report">, the header, the summary table and the
 * detail blocks, styled by html_report_css() in the caller's <style>.
 * Its ids (verdict, summary, f0, f1, ...) must not be the page's own.
 * -1 as html_render. */
int html_render_fragment(const struct report *r, const struct html_view *v,
                         const struct html_meta *m, struct sbuf *out);
/* The CSS of the report (a static string), screen and print. */
const char *html_report_css(void);

/* Append s (len bytes) with &, <, >, " and ' escaped, for text and for
 * attribute values; invalid UTF-8 bytes become U+FFFD. */
void html_escape(struct sbuf *out, const char *s, size_t len);

#endif
