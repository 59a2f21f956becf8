/*
 * The live page (live.h): status, drift share per window, the features x
 * windows p-value heatmap, the timeline, the last report. Everything is
 * drawn here from what the daemon already keeps; the script at the end
 * only fetches "/" again and swaps the page's content.
 */
#include "agent/live.h"

#include "agent/history.h"
#include "agent/html.h"
#include "alerts/alert.h"
#include "lib/sha256.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The refresh: fetch "/" from the daemon every 5 s while the page is
 * visible and swap #live for the new one; a failure is shown, not thrown
 * (no console error). Its SHA-256 is the only script the policy lets run. */
static const char script[] =
    "(function(){var busy=false,n=0;"
    "function say(t){var s=document.getElementById('refresh');if(s)s.textContent=t;}"
    "function refresh(){if(busy||document.hidden)return;busy=true;"
    "fetch('/',{cache:'no-store',credentials:'same-origin'}).then(function(r){"
    "if(!r.ok)throw new Error('HTTP '+r.status);return r.text();}).then(function(t){"
    "var doc=new DOMParser().parseFromString(t,'text/html');"
    "var fresh=doc.getElementById('live'),old=document.getElementById('live');"
    "if(fresh&&old){old.replaceWith(document.adoptNode(fresh));n++;"
    "document.body.setAttribute('data-refreshes',String(n));"
    "say('Refreshed by script at '+new Date().toISOString().slice(11,19)+' UTC, every 5 s.');}"
    "}).catch(function(e){say('Refresh failed ('+e.message+'); retrying in 5 s.');})"
    ".then(function(){busy=false;});}"
    "setInterval(refresh,5000);})();";

static char csp[256];
static pthread_once_t csp_once = PTHREAD_ONCE_INIT;

/* RFC 4648 base64 of len bytes into out (4 * ceil(len / 3) + 1 bytes). */
static void base64(const unsigned char *in, size_t len, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

/* The policy, made once: CSP Level 2 allows an inline script by the
 * base64 of its SHA-256, so no 'unsafe-inline' is needed for scripts. */
static void make_csp(void)
{
    unsigned char dig[SHA256_DIGEST_LEN];
    char b64[48];
    struct sha256 c;
    sha256_init(&c);
    sha256_update(&c, script, sizeof(script) - 1);
    sha256_final(&c, dig);
    base64(dig, sizeof(dig), b64);
    snprintf(csp, sizeof(csp),
             "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-%s'; "
             "connect-src 'self'; base-uri 'none'; form-action 'none'",
             b64);
}

const char *live_csp(void)
{
    pthread_once(&csp_once, make_csp);
    return csp;
}

/* The page's own CSS, after the report's. */
static const char live_css[] =
    "body{max-width:1200px}"
    ".tiles{display:flex;flex-wrap:wrap;gap:.5em;margin:.5em 0}"
    ".tile{border:1px solid #ccc;border-radius:4px;padding:.3em .7em;min-width:8em}"
    ".tile .k{display:block;font-size:.85em;color:#555}"
    ".tile .n{font-size:1.3em;font-weight:600;font-variant-numeric:tabular-nums}"
    ".health.ok{color:#2e7d32}.health.bad{color:#b00020;font-weight:700}"
    "svg .line{fill:none;stroke:#2f6bb0;stroke-width:1.5}"
    "svg .thr{stroke:#b00020;stroke-dasharray:6 4;stroke-width:1.2}"
    "svg .dpt{fill:#b00020}svg .npt{fill:#2f6bb0}svg .grid{stroke:#ddd}"
    "svg .h0{fill:#eef3f8}svg .h1{fill:#c9dbee}svg .h2{fill:#f6d2a8}svg .h3{fill:#ec8c4f}"
    "svg .h4{fill:#c0392b}svg .hs{fill:#e5e5e5}svg .hd{fill:url(#hatch)}"
    "svg .hx{stroke:#111;stroke-width:1}"
    "ol.timeline{list-style:none;padding:0}ol.timeline li{padding:.2em 0;border-bottom:1px solid "
    "#eee}ol.timeline .when{font-variant-numeric:tabular-nums;color:#555;margin-right:.6em}"
    "ol.timeline .kind{font-weight:700;margin-right:.5em}"
    "ol.timeline .fired .kind,ol.timeline .adoption_failed .kind{color:#b00020}"
    "ol.timeline .resolved .kind,ol.timeline .baseline_adopted .kind{color:#2e7d32}"
    ".swatch{display:inline-block;width:1em;height:.8em;border:1px solid #999;"
    "vertical-align:middle;margin:0 .2em 0 .6em}"
    ".s0{background:#eef3f8}.s1{background:#c9dbee}.s2{background:#f6d2a8}"
    ".s3{background:#ec8c4f}.s4{background:#c0392b}.ss{background:#e5e5e5}";

/* One window of the history, as the charts need it. */
struct lw {
    unsigned long long id;
    char end[32];
    double at; /* the end, in seconds since the epoch */
    double share, drift_share;
    bool drift;
    size_t nf;
    double *p;       /* per row of the heatmap: p-value, NAN for a score test or absent */
    signed char *fd; /* per row: 1 drift, 0 no drift, -1 absent from this window */
};

/* The charts' data: windows oldest first and the heatmap's rows. */
struct lhist {
    struct lw *w;
    size_t n;
    char **names; /* rows: the newest window's features, drifted first */
    size_t nrows;
};

static void esc(struct sbuf *s, const char *t)
{
    html_escape(s, t, strlen(t));
}

/* A cJSON number, or NAN (null, absent). */
static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static bool flag(const cJSON *o, const char *k)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static void lhist_free(struct lhist *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->w[i].p);
        free(h->w[i].fd);
    }
    free(h->w);
    for (size_t i = 0; i < h->nrows; i++)
        free(h->names[i]);
    free(h->names);
}

/* Row order: drifted in the newest window first, then by its p-value
 * ascending (scores and absent last), as the report orders its rows. */
struct rowkey {
    const char *name;
    bool drift;
    double p;
    size_t at;
};

static int rowkey_cmp(const void *pa, const void *pb)
{
    const struct rowkey *a = pa, *b = pb;
    if (a->drift != b->drift)
        return a->drift ? -1 : 1;
    bool na = isnan(a->p), nb = isnan(b->p);
    if (na != nb)
        return na ? 1 : -1;
    if (!na && a->p != b->p)
        return a->p < b->p ? -1 : 1;
    return a->at < b->at ? -1 : a->at > b->at;
}

/* Set the rows from the newest window's features. */
static int rows_of(struct lhist *h, const cJSON *feats)
{
    size_t n = (size_t)cJSON_GetArraySize(feats);
    struct rowkey *k = calloc(n ? n : 1, sizeof(*k));
    h->names = calloc(n ? n : 1, sizeof(char *));
    if (k == NULL || h->names == NULL) {
        free(k);
        return -1;
    }
    size_t m = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, feats)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
        if (!cJSON_IsString(name))
            continue;
        k[m] = (struct rowkey){name->valuestring, flag(f, "drift"), num(f, "p_value"), m};
        m++;
    }
    qsort(k, m, sizeof(*k), rowkey_cmp);
    for (size_t i = 0; i < m; i++) {
        if ((h->names[i] = strdup(k[i].name)) == NULL) {
            free(k);
            return -1;
        }
        h->nrows = i + 1;
    }
    free(k);
    return 0;
}

/* The row of a feature name: the guess first (features keep their order
 * from window to window), else a search. */
static size_t row_of(const struct lhist *h, const char *name, size_t guess)
{
    if (guess < h->nrows && strcmp(h->names[guess], name) == 0)
        return guess;
    for (size_t i = 0; i < h->nrows; i++)
        if (strcmp(h->names[i], name) == 0)
            return i;
    return (size_t)-1;
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ", or 0. */
static double parse_time(const char *t)
{
    struct tm tm = {0};
    const char *e = strptime(t, "%Y-%m-%dT%H:%M:%S", &tm);
    return e != NULL ? (double)timegm(&tm) : 0;
}

/* Read the newest LIVE_WINDOWS windows of the history; -1 out of memory. */
static int lhist_load(struct lhist *h, const struct history *hist)
{
    size_t n = history_count(hist);
    if (n > LIVE_WINDOWS)
        n = LIVE_WINDOWS;
    memset(h, 0, sizeof(*h));
    if (n == 0)
        return 0;
    h->w = calloc(n, sizeof(*h->w));
    if (h->w == NULL)
        return -1;
    /* the rows' order maps each feature's index in the newest window */
    size_t *map = NULL, nmap = 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *j = cJSON_Parse(history_get(hist, i));
        if (j == NULL)
            continue;
        const cJSON *feats = cJSON_GetObjectItemCaseSensitive(j, "features");
        if (i == 0 && rows_of(h, feats) != 0) {
            cJSON_Delete(j);
            free(map);
            return -1;
        }
        struct lw *w = &h->w[n - 1 - i]; /* oldest first */
        w->id = (unsigned long long)num(j, "id");
        const cJSON *end = cJSON_GetObjectItemCaseSensitive(j, "end");
        snprintf(w->end, sizeof(w->end), "%s", cJSON_IsString(end) ? end->valuestring : "");
        w->at = num(j, "at");
        if (isnan(w->at))
            w->at = parse_time(w->end);
        w->share = num(j, "share");
        w->drift_share = num(j, "drift_share");
        w->drift = flag(j, "drift");
        w->nf = h->nrows;
        w->p = malloc((h->nrows ? h->nrows : 1) * sizeof(double));
        w->fd = malloc(h->nrows ? h->nrows : 1);
        size_t nf = (size_t)cJSON_GetArraySize(feats);
        if (nf > nmap) {
            free(map);
            nmap = 0;
            if ((map = malloc(nf * sizeof(size_t))) == NULL) {
                cJSON_Delete(j);
                return -1;
            }
            for (size_t r = 0; r < nf; r++)
                map[r] = (size_t)-1;
            nmap = nf;
        }
        if (w->p == NULL || w->fd == NULL) {
            cJSON_Delete(j);
            free(map);
            return -1;
        }
        for (size_t r = 0; r < h->nrows; r++) {
            w->p[r] = NAN;
            w->fd[r] = -1;
        }
        size_t at = 0;
        const cJSON *f;
        cJSON_ArrayForEach(f, feats)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(f, "name");
            size_t r = cJSON_IsString(name) ? row_of(h, name->valuestring, map[at]) : (size_t)-1;
            if (r != (size_t)-1) {
                map[at] = r;
                w->p[r] = num(f, "p_value");
                w->fd[r] = flag(f, "drift") ? 1 : 0;
            }
            at++;
        }
        h->n = n;
        cJSON_Delete(j);
    }
    free(map);
    return 0;
}

/* One tile of the status: a label and a number. */
static void tile(struct sbuf *s, const char *id, const char *k, unsigned long long n)
{
    sbuf_printf(s,
                "<div class=\"tile\" id=\"%s\"><span class=\"k\">%s</span><span class=\"n\">%llu"
                "</span></div>",
                id, k, n);
}

/* The status summary: records in, rejected, sampled, queue depth, sinks. */
static void status_section(struct sbuf *s, const struct daemon_snapshot *v)
{
    unsigned long long in = 0, rejected = 0;
    for (size_t i = 0; i < v->n_sources; i++) {
        in += v->sources[i]->records;
        rejected += v->sources[i]->rejected;
    }
    sbuf_adds(s, "<section id=\"status\"><h2>Status</h2>\n<div class=\"tiles\">");
    tile(s, "records-in", "records in", in);
    tile(s, "rejected", "rejected", rejected);
    tile(s, "sampled", "sampled (all windows)", v->sampled_total);
    tile(s, "window-records", "records in the open window", v->window_records);
    tile(s, "queue", "alerts queued (outbox)", v->alerts.queued);
    tile(s, "evaluated", "windows evaluated", v->windows_evaluated);
    sbuf_adds(s, "</div>\n<p>");
    sbuf_printf(s, "Window %llu open since ", (unsigned long long)v->window_id);
    char t[32];
    alert_time(v->window_start, t, sizeof(t));
    esc(s, t);
    sbuf_printf(s, "; baseline ");
    esc(s, v->baseline_path ? v->baseline_path : "");
    sbuf_printf(s, " (%zu features). Alerts: %s.", v->features,
                v->firing ? "<strong>&#9650; firing</strong>" : "&#9675; not firing");
    if (v->not_ready != NULL) {
        sbuf_adds(s, " <strong class=\"health bad\">Not ready: ");
        esc(s, v->not_ready);
        sbuf_adds(s, "</strong>");
    }
    sbuf_adds(s, "</p>\n<table class=\"sinks\"><thead><tr><th>sink</th><th>health</th>"
                 "<th>sent</th><th>queued</th><th>retried</th><th>failed</th><th>dropped</th>"
                 "</tr></thead><tbody>\n");
    for (size_t i = 0; i < v->n_sinks; i++) {
        const struct outbox_stats *st = &v->sinks[i].st;
        bool bad = st->failed > 0 || st->dropped > 0;
        sbuf_adds(s, "<tr class=\"sink\"><td>");
        esc(s, v->sinks[i].name);
        sbuf_printf(s,
                    "</td><td class=\"health %s\">%s</td><td class=\"n\">%llu</td><td "
                    "class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>"
                    "<td class=\"n\">%llu</td></tr>\n",
                    bad ? "bad" : "ok", bad ? "&#9650; failures" : "&#9675; ok",
                    (unsigned long long)st->sent, (unsigned long long)st->queued,
                    (unsigned long long)st->retried, (unsigned long long)st->failed,
                    (unsigned long long)st->dropped);
    }
    if (v->n_sinks == 0)
        sbuf_adds(s, "<tr><td colspan=\"7\" class=\"muted\">no sink configured</td></tr>\n");
    sbuf_adds(s, "</tbody></table></section>\n");
}

/* Drift share per window as a line, the threshold as a dashed line,
 * drifted windows as red squares (a shape, not only a colour). */
static void share_section(struct sbuf *s, const struct lhist *h)
{
    const double W = 760, H = 170, L = 40, T = 10, PW = 700, PH = 130;
    sbuf_printf(s, "<section id=\"share\"><h2>Drift share per window (last %zu)</h2>\n", h->n);
    if (h->n == 0) {
        sbuf_adds(s, "<p class=\"muted\">No window evaluated yet.</p></section>\n");
        return;
    }
    sbuf_printf(
        s,
        "<svg class=\"sharechart\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
        "role=\"img\"><title>Share of drifted "
        "features per window, windows %llu to %llu</title>\n",
        W, H, W, H, h->w[0].id, h->w[h->n - 1].id);
    for (int k = 0; k <= 4; k++) {
        double y = T + PH - PH * k / 4.0;
        sbuf_printf(s,
                    "<path class=\"grid\" d=\"M%.0f %.1fH%.0f\"/><text x=\"%.0f\" y=\"%.1f\" "
                    "text-anchor=\"end\">%.2f</text>\n",
                    L, y, L + PW, L - 4, y + 4, k / 4.0);
    }
    double step = h->n > 1 ? PW / (double)(h->n - 1) : 0;
    double thr = h->w[h->n - 1].drift_share;
    if (isfinite(thr)) {
        double y = T + PH - PH * thr;
        sbuf_printf(s,
                    "<path class=\"thr\" d=\"M%.0f %.1fH%.0f\"/><text x=\"%.0f\" y=\"%.1f\" "
                    "class=\"thrl\">threshold %.2f</text>\n",
                    L, y, L + PW, L + PW - 90, y - 4, thr);
    }
    sbuf_adds(s, "<polyline class=\"line\" points=\"");
    for (size_t i = 0; i < h->n; i++) {
        double sh = isfinite(h->w[i].share) ? h->w[i].share : 0;
        sbuf_printf(s, "%s%.1f,%.1f", i ? " " : "", L + step * (double)i, T + PH - PH * sh);
    }
    sbuf_adds(s, "\"/>\n");
    for (size_t i = 0; i < h->n; i++) {
        const struct lw *w = &h->w[i];
        double sh = isfinite(w->share) ? w->share : 0;
        double x = L + step * (double)i, y = T + PH - PH * sh;
        if (w->drift)
            sbuf_printf(s, "<rect class=\"dpt\" x=\"%.1f\" y=\"%.1f\" width=\"6\" height=\"6\">",
                        x - 3, y - 3);
        else
            sbuf_printf(s, "<circle class=\"npt\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\">", x, y);
        sbuf_printf(s, "<title>window %llu, ", w->id);
        esc(s, w->end);
        sbuf_printf(s, ": share %.2f, %s</title>%s\n", sh, w->drift ? "dataset drift" : "no drift",
                    w->drift ? "</rect>" : "</circle>");
    }
    sbuf_printf(s,
                "<text x=\"%.0f\" y=\"%.0f\">window %llu</text><text x=\"%.0f\" y=\"%.0f\" "
                "text-anchor=\"end\">window %llu</text>\n</svg>\n",
                L, H - 6, h->w[0].id, L + PW, H - 6, h->w[h->n - 1].id);
    sbuf_adds(s, "<p class=\"legend\">Line: share of drifted features; dashed: the "
                 "threshold (drift.drift_share); &#9632; a window with dataset drift, "
                 "&#9679; one without.</p></section>\n");
}

/* The class of a heatmap cell by its p-value (score tests: hs). */
static const char *cell_class(double p)
{
    if (isnan(p))
        return "hs";
    return p >= 0.5 ? "h0" : p >= 0.1 ? "h1" : p >= 0.05 ? "h2" : p >= 0.01 ? "h3" : "h4";
}

/* A row's name as its label: cut to fit the label column (at a UTF-8
 * character's start, with an ellipsis), the whole name on hover. */
static void label(struct sbuf *s, const char *name)
{
    size_t len = strlen(name), max = 22;
    if (len <= max) {
        esc(s, name);
        return;
    }
    while (max > 0 && ((unsigned char)name[max] & 0xC0) == 0x80)
        max--;
    sbuf_adds(s, "<tspan>");
    html_escape(s, name, max);
    sbuf_adds(s, "\xE2\x80\xA6<title>");
    esc(s, name);
    sbuf_adds(s, "</title></tspan>");
}

/* Features x windows: a cell per p-value, drifted cells hatched and
 * crossed (not colour alone); a row per feature. */
static void heatmap_section(struct sbuf *s, const struct lhist *h)
{
    sbuf_adds(s, "<section id=\"heatmap\"><h2>p-value per feature and window</h2>\n");
    if (h->n == 0 || h->nrows == 0) {
        sbuf_adds(s, "<p class=\"muted\">No window evaluated yet.</p></section>\n");
        return;
    }
    const double L = 150, PW = 700, RH = 16;
    double cw = PW / (double)h->n;
    double H = RH * (double)h->nrows + 24;
    sbuf_printf(s,
                "<svg class=\"heatmap\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                "role=\"img\"><title>p-values of %zu "
                "features over windows %llu to %llu</title>\n"
                "<defs><pattern id=\"hatch\" width=\"4\" height=\"4\" "
                "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
                "<rect width=\"4\" height=\"4\" fill=\"#c0392b\"/>"
                "<path d=\"M0 0V4\" stroke=\"#fff\" stroke-width=\"1.5\"/></pattern></defs>\n",
                L + PW + 10, H, L + PW + 10, H, h->nrows, h->w[0].id, h->w[h->n - 1].id);
    for (size_t r = 0; r < h->nrows; r++) {
        double y = RH * (double)r;
        bool now = h->w[h->n - 1].fd[r] == 1;
        sbuf_printf(s, "<g class=\"hrow%s\" data-name=\"", now ? " drift" : "");
        esc(s, h->names[r]);
        sbuf_printf(s, "\" data-drift=\"%s\"><text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s",
                    now ? "true" : "false", L - 6, y + RH - 4, now ? "\xE2\x96\xB2 " : "");
        label(s, h->names[r]);
        sbuf_adds(s, "</text>");
        /* a run of windows of the same shade is one rect: a stable
         * feature costs a few rects, not one per window */
        for (size_t i = 0; i < h->n;) {
            const struct lw *w = &h->w[i];
            if (w->fd[r] < 0) {
                i++;
                continue; /* absent from that window */
            }
            double x = L + cw * (double)i;
            if (!w->fd[r]) {
                const char *c = cell_class(w->p[r]);
                size_t j = i + 1;
                while (j < h->n && h->w[j].fd[r] == 0 && strcmp(cell_class(h->w[j].p[r]), c) == 0)
                    j++;
                sbuf_printf(
                    s, "<rect class=\"%s\" x=\"%.1f\" y=\"%.0f\" width=\"%.2f\" height=\"%.0f\"/>",
                    c, x, y, cw * (double)(j - i), RH - 2);
                i = j;
                continue;
            }
            sbuf_printf(s,
                        "<rect class=\"hd\" x=\"%.1f\" y=\"%.0f\" width=\"%.2f\" height=\"%.0f\"/>",
                        x, y, cw, RH - 2);
            sbuf_printf(s, "<path class=\"hx\" d=\"M%.1f %.0fL%.1f %.0f\"><title>", x, y + RH - 2,
                        x + cw, y);
            esc(s, h->names[r]);
            sbuf_printf(s, ", window %llu: drift, p-value ", w->id);
            if (isnan(w->p[r]))
                sbuf_adds(s, "none (score test)");
            else
                sbuf_printf(s, "%.3g", w->p[r]);
            sbuf_adds(s, "</title></path>");
            i++;
        }
        sbuf_adds(s, "</g>\n");
    }
    sbuf_printf(s,
                "<text x=\"%.0f\" y=\"%.0f\">window %llu</text><text x=\"%.0f\" y=\"%.0f\" "
                "text-anchor=\"end\">window %llu</text>\n</svg>\n",
                L, H - 6, h->w[0].id, L + PW, H - 6, h->w[h->n - 1].id);
    sbuf_adds(
        s, "<p class=\"legend\">p-value: <span class=\"swatch s0\">&nbsp;</span>&ge; 0.5"
           "<span class=\"swatch s1\">&nbsp;</span>0.1&ndash;0.5<span class=\"swatch "
           "s2\">&nbsp;</span>"
           "0.05&ndash;0.1<span class=\"swatch s3\">&nbsp;</span>0.01&ndash;0.05"
           "<span class=\"swatch s4\">&nbsp;</span>&lt; 0.01<span class=\"swatch ss\">&nbsp;</span>"
           "score test (no p-value); hatched and crossed: drifted; &#9650; before a name: "
           "drifted in the newest window. Rows: drifted first, then by p-value.</p>"
           "</section>\n");
}

/* One entry of the timeline. */
struct entry {
    char when[32];
    double at;
    const char *kind;
    char text[300];
    const char *url;
};

static int entry_cmp(const void *pa, const void *pb)
{
    const struct entry *a = pa, *b = pb;
    return a->at > b->at ? -1 : a->at < b->at;
}

#define TIMELINE_MAX 50

/* The timeline, newest first: alerts fired and resolved (the windows'
 * verdicts changing, from the history) and the closed loop's events
 * (dispatched, run_started, run_completed, baseline_adopted, ...). */
static int timeline_section(struct sbuf *s, const struct daemon_snapshot *v, const struct lhist *h)
{
    struct entry *e = calloc(TIMELINE_MAX * 2 + h->n, sizeof(*e));
    if (e == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < h->n; i++) {
        bool before = i > 0 && h->w[i - 1].drift;
        if (h->w[i].drift == before || (i == 0 && !h->w[i].drift))
            continue;
        struct entry *x = &e[n++];
        snprintf(x->when, sizeof(x->when), "%s", h->w[i].end);
        x->at = h->w[i].at;
        x->kind = h->w[i].drift ? "fired" : "resolved";
        snprintf(x->text, sizeof(x->text), "window %llu: %s (share %.2f)", h->w[i].id,
                 h->w[i].drift ? "dataset drift" : "no dataset drift", h->w[i].share);
    }
    cJSON *ev = NULL;
    if (v->adopt != NULL) {
        struct sbuf j;
        sbuf_init(&j);
        adopt_events_json(v->adopt, TIMELINE_MAX, &j);
        ev = j.data != NULL ? cJSON_Parse(j.data) : NULL;
        sbuf_free(&j);
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(ev, "events"))
    {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(it, "event"),
                    *t = cJSON_GetObjectItemCaseSensitive(it, "time"),
                    *m = cJSON_GetObjectItemCaseSensitive(it, "message"),
                    *u = cJSON_GetObjectItemCaseSensitive(it, "run_url"),
                    *b = cJSON_GetObjectItemCaseSensitive(it, "baseline");
        if (!cJSON_IsString(k))
            continue;
        struct entry *x = &e[n++];
        snprintf(x->when, sizeof(x->when), "%s", cJSON_IsString(t) ? t->valuestring : "");
        x->at = num(it, "at");
        x->kind = k->valuestring;
        const char *msg = cJSON_IsString(m) ? m->valuestring : "";
        char sha[13] = "";
        if (cJSON_IsString(b))
            snprintf(sha, sizeof(sha), "%s", b->valuestring);
        /* the baseline's short sha, unless the message names it already */
        bool named = sha[0] == '\0' || strstr(msg, sha) != NULL;
        snprintf(x->text, sizeof(x->text), "%s%s%s", msg, named ? "" : " baseline ",
                 named ? "" : sha);
        x->url =
            cJSON_IsString(u) && strncmp(u->valuestring, "http", 4) == 0 ? u->valuestring : NULL;
    }
    qsort(e, n, sizeof(*e), entry_cmp);
    sbuf_adds(s, "<section id=\"timeline\"><h2>Timeline</h2>\n");
    if (n == 0)
        sbuf_adds(s, "<p class=\"muted\">Nothing yet: no alert fired and the loop has no "
                     "event.</p>\n");
    else
        sbuf_adds(s, "<ol class=\"timeline\">\n");
    for (size_t i = 0; i < n && i < TIMELINE_MAX; i++) {
        sbuf_adds(s, "<li class=\"");
        esc(s, e[i].kind);
        sbuf_adds(s, "\" data-kind=\"");
        esc(s, e[i].kind);
        sbuf_adds(s, "\"><span class=\"when\">");
        esc(s, e[i].when);
        sbuf_adds(s, "</span><span class=\"kind\">");
        esc(s, e[i].kind);
        sbuf_adds(s, "</span>");
        esc(s, e[i].text);
        if (e[i].url != NULL) {
            sbuf_adds(s, " <a class=\"run\" href=\"");
            esc(s, e[i].url);
            sbuf_adds(s, "\" rel=\"noreferrer\">run</a>");
        }
        sbuf_adds(s, "</li>\n");
    }
    if (n > 0)
        sbuf_adds(s, "</ol>\n");
    sbuf_adds(s, "<p class=\"legend\">fired and resolved: a window's verdict changed (the alerts "
                 "may wait for alerts.resolve_after); the rest: the closed loop's events "
                 "(GET /v1/events).</p></section>\n");
    cJSON_Delete(ev);
    free(e);
    return 0;
}

int live_page(const struct daemon *d, const struct daemon_snapshot *v, struct sbuf *s)
{
    struct lhist h;
    if (lhist_load(&h, daemon_history(d)) != 0) {
        lhist_free(&h);
        return -1;
    }
    sbuf_adds(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"");
    sbuf_adds(s, live_csp());
    sbuf_adds(s, "\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"generator\" content=\"driftd " DRIFTD_VERSION "\">\n<title>");
    esc(s, v->model);
    sbuf_adds(s, " \xE2\x80\x93 driftd live</title>\n<style>");
    sbuf_adds(s, html_report_css());
    sbuf_adds(s, live_css);
    sbuf_adds(s, "</style>\n</head>\n<body>\n<main id=\"live\">\n<header class=\"live\"><h1>");
    esc(s, v->model);
    sbuf_adds(s, " \xE2\x80\x93 driftd live</h1>\n<p class=\"muted\">Rendered by driftd at ");
    char t[32], now[32];
    alert_time(daemon_now(), now, sizeof(now));
    alert_time(v->last_eval_at, t, sizeof(t));
    esc(s, now);
    sbuf_printf(s, " (uptime %.0f s); last evaluation ", v->uptime);
    esc(s, v->last_eval_at > 0 ? t : "none yet");
    sbuf_adds(s, ". JSON: <a href=\"/v1/status\">status</a>, <a href=\"/v1/history\">history</a>, "
                 "<a href=\"/v1/events\">events</a>, <a href=\"/v1/report/latest\">report</a> "
                 "(<a href=\"/v1/report/latest.html\">page</a>), <a href=\"/metrics\">metrics</a>."
                 "</p></header>\n");
    status_section(s, v);
    share_section(s, &h);
    heatmap_section(s, &h);
    int rc = timeline_section(s, v, &h);
    sbuf_adds(s, "<section id=\"latest\"><h2>Latest window</h2>\n");
    int fr = rc == 0 ? daemon_last_html(d, true, s) : -1;
    if (fr == 1)
        sbuf_adds(s, v->last_json != NULL
                         ? "<p class=\"muted\">No window evaluated since the daemon started (the "
                           "last one before it is at <a href=\"/v1/report/latest\">"
                           "/v1/report/latest</a>).</p>\n"
                         : "<p class=\"muted\">No window evaluated yet.</p>\n");
    sbuf_adds(s, "</section>\n</main>\n<footer><p class=\"muted\" id=\"refresh\">Rendered by the "
                 "server; reload to refresh (with JavaScript it refreshes itself every 5 s)."
                 "</p></footer>\n<script>");
    sbuf_adds(s, script);
    sbuf_adds(s, "</script>\n</body>\n</html>\n");
    lhist_free(&h);
    return rc != 0 || fr < 0 || sbuf_failed(s) ? -1 : 0;
}
