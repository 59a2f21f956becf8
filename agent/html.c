/*
 * The HTML drift report: the view (the pictures' numbers, taken from the
 * data) and the page (written from the report and the view). Every chart is
 * SVG written here, from numbers driftd already has; the page asks for
 * nothing outside itself (no script, no font, no image, no link but its own
 * anchors), so it opens offline and prints as it shows.
 */
#include "agent/html.h"

#include "stats/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Sizes that keep a 50-feature page under 1.5 MB (docs/benchmarks.md): at
 * most HIST_MAX_BINS bins, ECDF_POINTS points per curve, and the categories
 * with the largest shares (the rest summed in one "other" row). */
#define HIST_MAX_BINS 40
#define ECDF_POINTS 160
#define MINI_CATS 8
#define CHART_CATS 15
#define TABLE_CATS 40

/* One category of a categorical feature, with its sample counts. */
struct hcat {
    char *name;
    size_t len;
    uint64_t ref, cur;
    bool unseen; /* absent from the baseline */
};

/* The pictures' numbers of one report feature. */
struct hfeat {
    enum stats_kind kind;
    bool found; /* the feature is in the baseline and the dataset */
    uint64_t present, missing, type_errors, unseen, out_of_range;
    uint64_t n_ref, n_cur;
    /* numerical: common bins over [lo, hi] (finite values; infinities
     * counted in the end bins), ECDFs at npts points, the KS point */
    size_t nbins;
    double lo, hi;
    uint64_t *rbin, *cbin;
    size_t npts;
    double *ex, *eref, *ecur;
    bool ks_at;
    double ks_x, ks_fr, ks_fc;
    /* categorical: the first ncats of total_cats by combined share; the
     * others summed */
    size_t ncats, total_cats, unseen_cats;
    struct hcat *cats;
    uint64_t other_ref, other_cur;
};

struct html_view {
    uint64_t base_rows, sample_rows, records;
    size_t n;
    struct hfeat *f;
};

void html_escape(struct sbuf *out, const char *s, size_t len)
{
    size_t i = 0, run = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        size_t adv = 1;
        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c == '"')
            rep = "&quot;";
        else if (c == '\'')
            rep = "&#39;";
        else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            rep = "\xEF\xBF\xBD"; /* HTML forbids C0 controls in text */
        else if (c == 0x7F)
            rep = "\xEF\xBF\xBD";
        else if (c >= 0x80) {
            /* a valid UTF-8 sequence passes; anything else is U+FFFD
             * (the page is declared UTF-8) */
            size_t need = c >= 0xF0 && c <= 0xF4  ? 4
                          : c >= 0xE0             ? 3
                          : c >= 0xC2 && c < 0xE0 ? 2
                                                  : 0;
            bool ok = need > 0 && i + need <= len;
            for (size_t k = 1; ok && k < need; k++)
                ok = ((unsigned char)s[i + k] & 0xC0) == 0x80;
            if (ok && need == 3) {
                unsigned char d = (unsigned char)s[i + 1];
                ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0);
            } else if (ok && need == 4) {
                unsigned char d = (unsigned char)s[i + 1];
                ok = !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
            }
            if (ok)
                adv = need;
            else
                rep = "\xEF\xBF\xBD";
        }
        if (rep != NULL) {
            sbuf_add(out, s + i - run, run);
            run = 0;
            sbuf_adds(out, rep);
        } else {
            run += adv;
        }
        i += adv;
    }
    sbuf_add(out, s + len - run, run);
}

/* html_escape of a NUL-terminated string. */
static void esc(struct sbuf *out, const char *s)
{
    html_escape(out, s, strlen(s));
}

/* ---- the view ---------------------------------------------------------- */

/* The finite part [*a, *b) of a sorted sample: infinities sit at its ends. */
static void finite_span(const double *v, size_t n, size_t *a, size_t *b)
{
    size_t i = 0, j = n;
    while (i < j && isinf(v[i]))
        i++;
    while (j > i && isinf(v[j - 1]))
        j--;
    *a = i, *b = j;
}

/* The x of point j of n equally spaced over [lo, hi]. */
static double lerp(double lo, double hi, size_t j, size_t n)
{
    if (n <= 1)
        return lo;
    double t = (double)j / (double)(n - 1);
    return lo * (1 - t) + hi * t; /* never beyond the bounds, so never overflows */
}

/* The share of a sorted sample at or below x (its ECDF). */
static double ecdf_at(const double *v, size_t n, double x)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (v[m] <= x)
            a = m + 1;
        else
            b = m;
    }
    return n ? (double)a / (double)n : NAN;
}

/* Count a sorted sample into nb equal bins over [lo, hi] ([e_k, e_k+1),
 * the last one closed; infinities in the end bins) by a binary search per
 * edge: a page costs nothing next to the evaluation (docs/benchmarks.md). */
static void count_bins(const double *v, size_t n, double lo, double hi, size_t nb, uint64_t *bins)
{
    size_t prev = 0;
    for (size_t k = 1; k <= nb; k++) {
        size_t below = n; /* the last bin takes everything left */
        if (k < nb) {
            double e = lerp(lo, hi, k, nb + 1);
            size_t a = 0, b = n;
            while (a < b) {
                size_t m = a + (b - a) / 2;
                if (v[m] < e)
                    a = m + 1;
                else
                    b = m;
            }
            below = a;
        }
        bins[k - 1] = below - prev;
        prev = below;
    }
}

/* The value where the two ECDFs are furthest apart (the KS statistic's
 * place), by one merged pass over both sorted samples. */
static void ks_point(const double *x, size_t n1, const double *y, size_t n2, double *at, double *f1,
                     double *f2)
{
    size_t i = 0, j = 0;
    double best = -1;
    *at = NAN, *f1 = NAN, *f2 = NAN;
    while (i < n1 || j < n2) {
        double v = j >= n2 || (i < n1 && x[i] <= y[j]) ? x[i] : y[j];
        while (i < n1 && x[i] == v)
            i++;
        while (j < n2 && y[j] == v)
            j++;
        double a = (double)i / (double)n1, b = (double)j / (double)n2;
        if (fabs(a - b) > best) {
            best = fabs(a - b);
            *at = v, *f1 = a, *f2 = b;
        }
    }
}

/* Bins and ECDF points of a numerical feature; false on ENOMEM. */
static bool view_numerical(struct hfeat *h, const double *ref, size_t nr, const double *cur,
                           size_t nc, bool ks)
{
    size_t ra, rb, ca, cb;
    finite_span(ref, nr, &ra, &rb);
    finite_span(cur, nc, &ca, &cb);
    if (ra == rb && ca == cb)
        return true; /* nothing finite to draw */
    h->lo = ra < rb ? ref[ra] : cur[ca];
    h->hi = ra < rb ? ref[rb - 1] : cur[cb - 1];
    if (ca < cb) {
        h->lo = fmin(h->lo, cur[ca]);
        h->hi = fmax(h->hi, cur[cb - 1]);
    }
    size_t nb = h->lo == h->hi ? 1 : stats_sturges_nbins(h->lo, h->hi, nr + nc);
    if (nb > HIST_MAX_BINS)
        nb = HIST_MAX_BINS;
    if (nb < 1)
        nb = 1;
    h->nbins = nb;
    h->npts = h->lo == h->hi ? 1 : ECDF_POINTS;
    h->rbin = calloc(nb, sizeof(uint64_t));
    h->cbin = calloc(nb, sizeof(uint64_t));
    h->ex = calloc(h->npts + 1, sizeof(double));
    h->eref = calloc(h->npts + 1, sizeof(double));
    h->ecur = calloc(h->npts + 1, sizeof(double));
    if (!h->rbin || !h->cbin || !h->ex || !h->eref || !h->ecur)
        return false;
    count_bins(ref, nr, h->lo, h->hi, nb, h->rbin);
    count_bins(cur, nc, h->lo, h->hi, nb, h->cbin);
    /* the KS point is one pass over both samples: only where KS is shown */
    if (ks && nr > 0 && nc > 0) {
        ks_point(ref, nr, cur, nc, &h->ks_x, &h->ks_fr, &h->ks_fc);
        h->ks_at = isfinite(h->ks_x);
    }
    /* the curves pass through the KS point: it is one of theirs */
    size_t k = 0;
    bool placed = !h->ks_at;
    for (size_t j = 0; j < h->npts; j++) {
        double x = lerp(h->lo, h->hi, j, h->npts);
        if (!placed && h->ks_x <= x) {
            placed = true;
            if (h->ks_x < x)
                h->ex[k++] = h->ks_x;
        }
        h->ex[k++] = x;
    }
    if (!placed)
        h->ex[k++] = h->ks_x;
    h->npts = k;
    for (size_t j = 0; j < k; j++) {
        h->eref[j] = ecdf_at(ref, nr, h->ex[j]);
        h->ecur[j] = ecdf_at(cur, nc, h->ex[j]);
    }
    return true;
}

/* Categories by their larger share, then by name (a stable page); arg:
 * the feature, for the sample sizes. */
static int cat_cmp(const void *pa, const void *pb, void *arg)
{
    const struct hcat *a = pa, *b = pb;
    const struct hfeat *h = arg;
    double sa = fmax(h->n_ref ? (double)a->ref / (double)h->n_ref : 0,
                     h->n_cur ? (double)a->cur / (double)h->n_cur : 0);
    double sb = fmax(h->n_ref ? (double)b->ref / (double)h->n_ref : 0,
                     h->n_cur ? (double)b->cur / (double)h->n_cur : 0);
    if (sa != sb)
        return sa > sb ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->name, b->name, n);
    return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}

/* The categories of both samples, the largest kept by name; false on
 * ENOMEM. */
static bool view_categorical(struct hfeat *h, const struct stats_bfeature *bf,
                             const struct dataset_col *c)
{
    size_t ncur = c->cats != NULL ? dict_size(c->cats) : 0;
    size_t cap = bf->n_cats + ncur;
    struct hcat *all = calloc(cap ? cap : 1, sizeof(*all));
    if (all == NULL)
        return false;
    for (size_t j = 0; j < bf->n_cats; j++) {
        all[j].name = bf->cats[j];
        all[j].len = strlen(bf->cats[j]);
        all[j].ref = bf->cat_sample[j];
        h->n_ref += bf->cat_sample[j];
    }
    size_t n = bf->n_cats;
    for (uint32_t id = 0; id < ncur; id++) {
        size_t len;
        const char *s = dict_key(c->cats, id, &len);
        uint64_t cnt = (uint64_t)c->counts[id];
        long j = stats_bfeature_find_cat(bf, s, len);
        h->n_cur += cnt;
        if (j >= 0) {
            all[j].cur += cnt;
        } else {
            all[n] = (struct hcat){(char *)s, len, 0, cnt, true};
            n++;
        }
    }
    /* categories neither sample has are not drawn */
    size_t m = 0;
    for (size_t j = 0; j < n; j++)
        if (all[j].ref > 0 || all[j].cur > 0)
            all[m++] = all[j];
    qsort_r(all, m, sizeof(*all), cat_cmp, h);
    h->total_cats = m;
    h->ncats = m < TABLE_CATS ? m : TABLE_CATS;
    for (size_t j = 0; j < m; j++) {
        h->unseen_cats += all[j].unseen;
        if (j >= h->ncats)
            h->other_ref += all[j].ref, h->other_cur += all[j].cur;
    }
    h->cats = calloc(h->ncats ? h->ncats : 1, sizeof(*h->cats));
    bool ok = h->cats != NULL;
    for (size_t j = 0; ok && j < h->ncats; j++) {
        h->cats[j] = all[j];
        if ((h->cats[j].name = malloc(all[j].len + 1)) == NULL) {
            ok = false;
            break;
        }
        memcpy(h->cats[j].name, all[j].name, all[j].len);
        h->cats[j].name[all[j].len] = '\0';
    }
    free(all);
    return ok;
}

/* Free what a feature of the view owns (not the struct itself). */
static void hfeat_free(struct hfeat *h)
{
    free(h->rbin), free(h->cbin), free(h->ex), free(h->eref), free(h->ecur);
    for (size_t j = 0; h->cats != NULL && j < h->ncats; j++)
        free(h->cats[j].name);
    free(h->cats);
}

void html_view_free(struct html_view *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; v->f != NULL && i < v->n; i++)
        hfeat_free(&v->f[i]);
    free(v->f);
    free(v);
}

struct html_view *html_view_new(const struct report *r, const struct stats_baseline *b,
                                const struct dataset *ds)
{
    struct html_view *v = calloc(1, sizeof(*v));
    if (v == NULL || (v->f = calloc(r->n ? r->n : 1, sizeof(*v->f))) == NULL) {
        free(v);
        return NULL;
    }
    v->n = r->n;
    v->base_rows = b->rows;
    v->sample_rows = b->sample_rows;
    v->records = ds->records;
    for (size_t i = 0; i < r->n; i++) {
        struct hfeat *h = &v->f[i];
        h->kind = r->features[i].kind;
        int k = stats_baseline_find(b, r->features[i].name);
        if (k < 0 || b->features[k].kind != h->kind)
            continue;
        const struct stats_bfeature *bf = &b->features[k];
        const struct dataset_col *c = &ds->cols[k];
        h->found = true;
        h->present = c->present, h->missing = c->missing, h->type_errors = c->type_errors;
        h->unseen = c->unseen, h->out_of_range = c->out_of_range;
        bool ok;
        if (h->kind == STATS_NUMERICAL) {
            h->n_ref = bf->n_sample, h->n_cur = c->n;
            ok = view_numerical(h, bf->sample, bf->n_sample, c->vals, c->n,
                                r->features[i].r.m[STATS_KS].present);
        } else {
            ok = view_categorical(h, bf, c);
        }
        if (!ok) {
            html_view_free(v);
            return NULL;
        }
    }
    return v;
}

/* ---- numbers as a reader sees them -------------------------------------- */

/* A number rounded for reading: 4 significant digits, "—" for none. */
static void num(struct sbuf *s, double v)
{
    if (isnan(v))
        sbuf_adds(s, "\xE2\x80\x94");
    else if (isinf(v))
        sbuf_adds(s, v > 0 ? "\xE2\x88\x9E" : "\xE2\x88\x92\xE2\x88\x9E");
    else
        sbuf_printf(s, "%.4g", v);
}

/* A p-value for reading: 0 is only too small for a double. */
static void pnum(struct sbuf *s, double p)
{
    if (p == 0)
        sbuf_adds(s, "&lt; 1e-300");
    else if (!isnan(p) && p < 1e-4)
        sbuf_printf(s, "%.2e", p);
    else
        num(s, p);
}

/* A rate as a percentage, "—" when there is nothing to divide. */
static void pct(struct sbuf *s, double v)
{
    if (isnan(v))
        sbuf_adds(s, "\xE2\x80\x94");
    else
        sbuf_printf(s, "%.2f%%", 100 * v);
}

/* A count with thousands separators: 100,000. */
static void count(struct sbuf *s, uint64_t n)
{
    char d[24];
    int len = snprintf(d, sizeof(d), "%llu", (unsigned long long)n);
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            sbuf_addc(s, ',');
        sbuf_addc(s, d[i]);
    }
}

/* A table cell holding v as the JSON report writes it (data-v) and
 * rounded (p: as a p-value). */
static void td_num(struct sbuf *s, const char *cls, double v, bool p)
{
    sbuf_printf(s, "<td class=\"n %s\" data-v=\"", cls);
    sbuf_add_double(s, v);
    sbuf_adds(s, "\">");
    if (p)
        pnum(s, v);
    else
        num(s, v);
    sbuf_adds(s, "</td>");
}

/* ---- SVG ---------------------------------------------------------------- */

/* One coordinate, to a tenth of a pixel. */
static void co(struct sbuf *s, double v)
{
    sbuf_printf(s, "%.1f", v);
}

/* The larger share of any bin in either sample. */
static double max_share(const struct hfeat *h)
{
    double m = 0;
    for (size_t i = 0; i < h->nbins; i++) {
        if (h->n_ref)
            m = fmax(m, (double)h->rbin[i] / (double)h->n_ref);
        if (h->n_cur)
            m = fmax(m, (double)h->cbin[i] / (double)h->n_cur);
    }
    return m > 0 ? m : 1;
}

/* A histogram's outline as one path: x0 + w per bin, baseline at y0,
 * height hpx for the share top. */
static void hist_path(struct sbuf *s, const uint64_t *bins, uint64_t n, size_t nb, double x0,
                      double w, double y0, double hpx, double top, bool close)
{
    sbuf_adds(s, "M");
    co(s, x0);
    sbuf_addc(s, ' ');
    co(s, y0);
    for (size_t i = 0; i < nb; i++) {
        double share = n ? (double)bins[i] / (double)n : 0;
        sbuf_adds(s, "V");
        co(s, y0 - share / top * hpx);
        sbuf_adds(s, "H");
        co(s, x0 + w * (double)(i + 1) / (double)nb);
    }
    sbuf_adds(s, "V");
    co(s, y0);
    if (close)
        sbuf_adds(s, "Z");
}

/* The categories a chart shows: the first `most`, the rest as "other". */
static size_t shown_cats(const struct hfeat *h, size_t most, bool *other)
{
    size_t k = h->ncats < most ? h->ncats : most;
    *other = h->total_cats > k;
    return k;
}

/* The small chart of the summary table: 120 x 28. */
static void mini_chart(struct sbuf *s, const struct report_feature *f, const struct hfeat *h)
{
    sbuf_adds(s, "<svg class=\"mini\" width=\"120\" height=\"28\" viewBox=\"0 0 120 28\" "
                 "role=\"img\" aria-label=\"reference and current distribution of ");
    esc(s, f->name);
    sbuf_adds(s, "\">");
    if (f->kind == STATS_NUMERICAL && h->nbins > 0) {
        double top = max_share(h);
        sbuf_adds(s, "<path class=\"ref\" d=\"");
        hist_path(s, h->rbin, h->n_ref, h->nbins, 0, 120, 27, 25, top, true);
        sbuf_adds(s, "\"/><path class=\"cur\" d=\"");
        hist_path(s, h->cbin, h->n_cur, h->nbins, 0, 120, 27, 25, top, false);
        sbuf_adds(s, "\"/>");
    } else if (f->kind == STATS_CATEGORICAL && h->total_cats > 0) {
        bool other;
        size_t k = shown_cats(h, MINI_CATS, &other);
        size_t slots = k + other;
        double top = 0;
        for (size_t j = 0; j < k; j++) {
            top = fmax(top, h->n_ref ? (double)h->cats[j].ref / (double)h->n_ref : 0);
            top = fmax(top, h->n_cur ? (double)h->cats[j].cur / (double)h->n_cur : 0);
        }
        uint64_t oref = h->n_ref, ocur = h->n_cur;
        for (size_t j = 0; j < k; j++)
            oref -= h->cats[j].ref, ocur -= h->cats[j].cur;
        if (other) {
            top = fmax(top, h->n_ref ? (double)oref / (double)h->n_ref : 0);
            top = fmax(top, h->n_cur ? (double)ocur / (double)h->n_cur : 0);
        }
        top = top > 0 ? top : 1;
        double w = 120.0 / (double)slots;
        for (size_t j = 0; j < slots; j++) {
            uint64_t rc = j < k ? h->cats[j].ref : oref, cc = j < k ? h->cats[j].cur : ocur;
            double rs = h->n_ref ? (double)rc / (double)h->n_ref : 0;
            double cs = h->n_cur ? (double)cc / (double)h->n_cur : 0;
            double x = w * (double)j, bw = w * 0.4, hr = rs / top * 21, hc = cs / top * 21;
            sbuf_adds(s, "<rect class=\"ref\" x=\"");
            co(s, x + w * 0.1);
            sbuf_adds(s, "\" y=\"");
            co(s, 27 - hr);
            sbuf_adds(s, "\" width=\"");
            co(s, bw);
            sbuf_adds(s, "\" height=\"");
            co(s, hr);
            sbuf_adds(s, "\"/><rect class=\"cur\" x=\"");
            co(s, x + w * 0.5);
            sbuf_adds(s, "\" y=\"");
            co(s, 27 - hc);
            sbuf_adds(s, "\" width=\"");
            co(s, bw);
            sbuf_adds(s, "\" height=\"");
            co(s, hc);
            sbuf_adds(s, "\"/>");
            if (j < k && h->cats[j].unseen) {
                /* a triangle over the bar: a category the baseline lacks */
                double cx = x + w * 0.7, ty = 27 - hc - 1;
                sbuf_adds(s, "<path class=\"unseen\" d=\"M");
                co(s, cx - 3);
                sbuf_addc(s, ' ');
                co(s, ty - 5 < 0 ? 5 : ty);
                sbuf_adds(s, "h6l-3 -5z\"/>");
            }
        }
    } else {
        sbuf_adds(s, "<text x=\"60\" y=\"18\" text-anchor=\"middle\">no data</text>");
    }
    sbuf_adds(s, "</svg>");
}

/* Ticks at 1, 2 or 5 times a power of ten, about n over [lo, hi]. */
static size_t nice_ticks(double lo, double hi, size_t n, double *t, size_t cap)
{
    if (!(hi > lo) || !isfinite(hi - lo)) {
        t[0] = lo;
        return 1;
    }
    double raw = (hi - lo) / (double)n, p = pow(10, floor(log10(raw))), step = p;
    if (raw / p > 5)
        step = 10 * p;
    else if (raw / p > 2)
        step = 5 * p;
    else if (raw / p > 1)
        step = 2 * p;
    size_t k = 0;
    for (double v = ceil(lo / step) * step; v <= hi + step * 1e-9 && k < cap; v += step)
        t[k++] = fabs(v) < step * 1e-9 ? 0 : v;
    return k;
}

/* Frame of the detail charts: 640 x 220, the plot at (PL, PT) of PW x PH. */
#define CW 640
#define CH 220
#define PL 52.0
#define PT 10.0
#define PW 574.0
#define PH 176.0

/* x of value v in the detail charts' plot. */
static double px(const struct hfeat *h, double v)
{
    if (h->hi == h->lo)
        return PL + PW / 2;
    double t = (v / 2 - h->lo / 2) / (h->hi / 2 - h->lo / 2);
    return PL + PW * fmin(1, fmax(0, t));
}

/* The axes of a detail chart: x ticks over [lo, hi] (values), y ticks
 * over [0, ytop] (as percentages when pct_y, else as they are). */
static void axes(struct sbuf *s, const struct hfeat *h, double ytop, bool pct_y, const char *ylab)
{
    double t[16];
    sbuf_adds(s, "<g class=\"axis\"><path d=\"M52 10V186H626\"/>");
    size_t n = nice_ticks(0, ytop, 4, t, 16);
    for (size_t i = 0; i < n; i++) {
        double y = PT + PH - t[i] / ytop * PH;
        sbuf_adds(s, "<path d=\"M48 ");
        co(s, y);
        sbuf_adds(s, "h4\"/><text x=\"46\" y=\"");
        co(s, y + 3);
        sbuf_adds(s, "\" text-anchor=\"end\">");
        if (pct_y)
            sbuf_printf(s, "%.3g%%", 100 * t[i]);
        else
            sbuf_printf(s, "%.3g", t[i]);
        sbuf_adds(s, "</text>");
    }
    double lo = h->lo, hi = h->hi;
    if (lo == hi)
        lo -= 0.5, hi += 0.5;
    n = nice_ticks(lo, hi, 6, t, 16);
    for (size_t i = 0; i < n; i++) {
        double x = h->lo == h->hi ? PL + PW * (t[i] - lo) : px(h, t[i]);
        sbuf_adds(s, "<path d=\"M");
        co(s, x);
        sbuf_adds(s, " 186v4\"/><text x=\"");
        co(s, x);
        sbuf_printf(s, "\" y=\"200\" text-anchor=\"middle\">%.4g</text>", t[i]);
    }
    sbuf_printf(s,
                "<text x=\"339\" y=\"216\" text-anchor=\"middle\">value</text>"
                "<text x=\"12\" y=\"98\" text-anchor=\"middle\" transform=\"rotate(-90 12 98)\">"
                "%s</text></g>",
                ylab);
}

/* The larger overlaid histogram of a numerical feature, each bin telling
 * its counts when pointed at. */
static void detail_hist(struct sbuf *s, const struct hfeat *h)
{
    double top = max_share(h);
    sbuf_printf(s,
                "<svg class=\"hist\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "role=\"img\" aria-label=\"histogram\">",
                CW, CH, CW, CH);
    axes(s, h, top, true, "share of values");
    sbuf_adds(s, "<path class=\"ref\" d=\"");
    hist_path(s, h->rbin, h->n_ref, h->nbins, PL, PW, PT + PH, PH, top, true);
    sbuf_adds(s, "\"/><path class=\"cur\" d=\"");
    hist_path(s, h->cbin, h->n_cur, h->nbins, PL, PW, PT + PH, PH, top, false);
    sbuf_adds(s, "\"/>");
    double w = PW / (double)h->nbins;
    for (size_t i = 0; i < h->nbins; i++) {
        double a = lerp(h->lo, h->hi, i, h->nbins + 1), b = lerp(h->lo, h->hi, i + 1, h->nbins + 1);
        sbuf_adds(s, "<rect class=\"hit\" x=\"");
        co(s, PL + w * (double)i);
        sbuf_adds(s, "\" y=\"10\" width=\"");
        co(s, w);
        sbuf_printf(s, "\" height=\"176\"><title>%.4g to %.4g: reference ", a, b);
        count(s, h->rbin[i]);
        sbuf_adds(s, ", current ");
        count(s, h->cbin[i]);
        sbuf_adds(s, "</title></rect>");
    }
    sbuf_adds(s, "</svg>");
}

/* An ECDF as a step line through the view's points. */
static void ecdf_path(struct sbuf *s, const struct hfeat *h, const double *f)
{
    sbuf_adds(s, "M52 186");
    for (size_t j = 0; j < h->npts; j++) {
        sbuf_adds(s, "H");
        co(s, px(h, h->ex[j]));
        sbuf_adds(s, "V");
        co(s, PT + PH - f[j] * PH);
    }
    sbuf_adds(s, "H626");
}

/* Both ECDFs, and the KS distance where KS is among the metrics. */
static void detail_ecdf(struct sbuf *s, const struct report_feature *f, const struct hfeat *h,
                        bool ks)
{
    sbuf_printf(s,
                "<svg class=\"ecdf\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "role=\"img\" aria-label=\"empirical CDFs\">",
                CW, CH, CW, CH);
    axes(s, h, 1, false, "share at or below");
    sbuf_adds(s, "<path class=\"eref\" d=\"");
    ecdf_path(s, h, h->eref);
    sbuf_adds(s, "\"/><path class=\"ecur\" d=\"");
    ecdf_path(s, h, h->ecur);
    sbuf_adds(s, "\"/>");
    if (ks && h->ks_at) {
        double x = px(h, h->ks_x), y1 = PT + PH - h->ks_fr * PH, y2 = PT + PH - h->ks_fc * PH;
        sbuf_adds(s, "<g class=\"ks\"><path d=\"M");
        co(s, x);
        sbuf_addc(s, ' ');
        co(s, y1);
        sbuf_adds(s, "V");
        co(s, y2);
        sbuf_adds(s, "\"/><circle cx=\"");
        co(s, x);
        sbuf_adds(s, "\" cy=\"");
        co(s, y1);
        sbuf_adds(s, "\" r=\"3\"/><circle cx=\"");
        co(s, x);
        sbuf_adds(s, "\" cy=\"");
        co(s, y2);
        sbuf_adds(s, "\" r=\"3\"/><text x=\"");
        co(s, x > PL + PW - 90 ? x - 6 : x + 6);
        sbuf_adds(s, "\" y=\"");
        co(s, (y1 + y2) / 2 + 4);
        sbuf_printf(s, "\" text-anchor=\"%s\">D = ", x > PL + PW - 90 ? "end" : "start");
        num(s, f->r.m[STATS_KS].statistic);
        sbuf_adds(s, "</text></g>");
    }
    sbuf_adds(s, "</svg>");
}

/* At most `max` bytes of a name for a chart label, not cut inside a UTF-8
 * character; "…" when cut. */
static void short_name(struct sbuf *s, const char *name, size_t len, size_t max)
{
    if (len <= max) {
        html_escape(s, name, len);
        return;
    }
    size_t n = max;
    while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
        n--;
    html_escape(s, name, n);
    sbuf_adds(s, "\xE2\x80\xA6");
}

/* Paired horizontal bars of the largest categories; unseen ones marked. */
static void detail_cats(struct sbuf *s, const struct hfeat *h)
{
    bool other;
    size_t k = shown_cats(h, CHART_CATS, &other), rows = k + other;
    uint64_t oref = h->n_ref, ocur = h->n_cur;
    double top = 0;
    for (size_t j = 0; j < k; j++) {
        oref -= h->cats[j].ref, ocur -= h->cats[j].cur;
        top = fmax(top, h->n_ref ? (double)h->cats[j].ref / (double)h->n_ref : 0);
        top = fmax(top, h->n_cur ? (double)h->cats[j].cur / (double)h->n_cur : 0);
    }
    if (other) {
        top = fmax(top, h->n_ref ? (double)oref / (double)h->n_ref : 0);
        top = fmax(top, h->n_cur ? (double)ocur / (double)h->n_cur : 0);
    }
    top = top > 0 ? top : 1;
    int height = (int)(rows * 18 + 8);
    sbuf_printf(s,
                "<svg class=\"cats\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                "role=\"img\" aria-label=\"category shares\">",
                CW, height, CW, height);
    for (size_t j = 0; j < rows; j++) {
        uint64_t rc = j < k ? h->cats[j].ref : oref, cc = j < k ? h->cats[j].cur : ocur;
        double rs = h->n_ref ? (double)rc / (double)h->n_ref : 0;
        double cs = h->n_cur ? (double)cc / (double)h->n_cur : 0;
        double y = 4 + 18 * (double)j;
        bool unseen = j < k && h->cats[j].unseen;
        sbuf_adds(s, "<text x=\"166\" y=\"");
        co(s, y + 12);
        sbuf_adds(s, "\" text-anchor=\"end\">");
        if (unseen)
            sbuf_adds(s, "\xE2\x96\xB2 ");
        if (j < k)
            short_name(s, h->cats[j].name, h->cats[j].len, 24);
        else
            sbuf_printf(s, "other (%zu)", h->total_cats - k);
        sbuf_adds(s, "</text><rect class=\"ref\" x=\"172\" y=\"");
        co(s, y + 1);
        sbuf_adds(s, "\" height=\"7\" width=\"");
        co(s, rs / top * 380);
        sbuf_adds(s, "\"/><rect class=\"cur\" x=\"172\" y=\"");
        co(s, y + 9);
        sbuf_adds(s, "\" height=\"7\" width=\"");
        co(s, cs / top * 380);
        sbuf_adds(s, "\"/><text x=\"");
        co(s, 176 + fmax(rs, cs) / top * 380);
        sbuf_adds(s, "\" y=\"");
        co(s, y + 12);
        sbuf_printf(s, "\">%.1f%% / %.1f%%%s</text>", 100 * rs, 100 * cs, unseen ? " unseen" : "");
    }
    sbuf_adds(s, "</svg>");
}

/* ---- the page ------------------------------------------------------------ */

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;color:#1a1a1a;margin:1.5em auto;max-width:1100px;"
    "padding:0 1em}"
    "h1{font-size:1.5em;margin:0 0 .3em}h2{font-size:1.2em;margin:1.5em 0 .5em}"
    "h3{font-size:1.05em;margin:0 0 .4em}"
    ".verdict{font-size:1.2em;font-weight:600;padding:.4em .6em;border-left:6px solid #777}"
    ".verdict .word{margin-right:.6em;letter-spacing:.03em}.verdict.drift .word{color:#b00020}"
    ".verdict.nodrift .word{color:#2e7d32}"
    ".verdict.drift{border-color:#b00020;background:#fbe9ec}"
    ".verdict.nodrift{border-color:#2e7d32;background:#eaf4ea}"
    "dl.meta{display:grid;grid-template-columns:max-content auto;gap:.1em 1em;margin:.6em 0}"
    "dl.meta dt{font-weight:600}dl.meta dd{margin:0}"
    "table{border-collapse:collapse;margin:.4em 0}"
    "th,td{padding:.2em .5em;border-bottom:1px solid #ddd;text-align:left;vertical-align:middle}"
    "th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "tr.drift td.v,.detail.drift h3 .v{color:#b00020;font-weight:700}"
    "tr.ok td.v,.detail.ok h3 .v{color:#2e7d32}"
    "td.v,td.n{white-space:nowrap}td.name{overflow-wrap:anywhere}"
    "table.categories td:first-child{overflow-wrap:anywhere;max-width:28em}"
    "@media (max-width:900px){body{font-size:12px}th,td{padding:.15em .3em}}"
    "svg{display:block;overflow:visible}svg text{font:11px system-ui,sans-serif;fill:#333}"
    "svg .ref{fill:#7ea6d3;fill-opacity:.75;stroke:none}"
    "svg .cur{fill:none;stroke:#d9541e;stroke-width:1.6}"
    "svg rect.cur{fill:#d9541e;fill-opacity:.85;stroke:#8a2e0b;stroke-width:.6}"
    "svg .unseen{fill:#111}"
    "svg .axis path{stroke:#666;fill:none}svg .hit{fill:transparent}"
    "svg .hit:hover{fill:#0000000f}"
    "svg .eref{fill:none;stroke:#2f6bb0;stroke-width:2}"
    "svg .ecur{fill:none;stroke:#d9541e;stroke-width:1.6;stroke-dasharray:5 3}"
    "svg .ks path{stroke:#111;stroke-width:1.5}svg .ks circle{fill:#111}"
    "svg .ks text{font-weight:700}"
    ".key{font-weight:700;margin:0 .2em 0 .5em}.key.ref{color:#7ea6d3}.key.cur,.key.ecur,"
    ".key.curbar{color:#d9541e}.key.eref{color:#2f6bb0}"
    ".detail{border:1px solid #ccc;border-radius:4px;padding:.6em .8em;margin:1em 0}"
    ".detail.drift{border-left:6px solid #b00020}.detail.ok{border-left:6px solid #2e7d32}"
    ".charts{display:flex;flex-wrap:wrap;gap:.5em 1.5em}"
    "figure{margin:.3em 0}figcaption{font-size:.9em;color:#444}"
    ".tables{display:flex;flex-wrap:wrap;gap:0 2em;align-items:flex-start}"
    "code{font-size:.95em}.muted{color:#666}"
    "@page{size:A4;margin:12mm}"
    "@media print{body{font-size:9pt;max-width:none;margin:0;padding:0}"
    ".detail{break-inside:avoid}tr{break-inside:avoid}h2{break-after:avoid}"
    "svg.hist,svg.ecdf{width:80mm;height:auto}svg.cats{width:100%;height:auto;max-width:160mm}"
    ".charts figure{max-width:80mm;margin:0}.charts figure:only-child{max-width:none}"
    ".verdict.drift,.verdict.nodrift{background:none}svg .hit{display:none}}";

/* The verdict word and marker of a feature: never colour alone. */
static void verdict_word(struct sbuf *s, const struct report_feature *f)
{
    if (!f->evaluated && !f->r.drift)
        sbuf_adds(s, "\xE2\x80\x93 n/a");
    else if (f->r.drift)
        sbuf_adds(s, "\xE2\x96\xB2 drift");
    else
        sbuf_adds(s, "\xE2\x97\x8B no drift");
    if (f->quality_drift)
        sbuf_adds(s, " (data quality)");
}

/* The row class of a feature. */
static const char *row_class(const struct report_feature *f)
{
    return f->r.drift ? "drift" : f->evaluated ? "ok" : "na";
}

/* Sort key of the order of the page: drifted first; then tests with a
 * p-value by p-value ascending, then distances by score descending, then
 * features with no value; then baseline order. arg: the report. */
static int order_cmp(const void *pa, const void *pb, void *arg)
{
    const struct report *r = arg;
    size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
    const struct report_feature *fa = &r->features[a], *fb = &r->features[b];
    if (fa->r.drift != fb->r.drift)
        return fa->r.drift ? -1 : 1;
    bool pa_ = stats_test_info(fa->r.test)->has_p, pb_ = stats_test_info(fb->r.test)->has_p;
    double va = pa_ ? fa->r.p_value : fa->r.statistic, vb = pb_ ? fb->r.p_value : fb->r.statistic;
    int ga = isnan(va) ? 2 : pa_ ? 0 : 1, gb = isnan(vb) ? 2 : pb_ ? 0 : 1;
    if (ga != gb)
        return ga < gb ? -1 : 1;
    if (ga == 0 && va != vb)
        return va < vb ? -1 : 1;
    if (ga == 1 && va != vb)
        return va > vb ? -1 : 1;
    return (a > b) - (a < b);
}

/* Time as the JSON report writes it (RFC 3339, UTC, to the second). */
static void add_time(struct sbuf *s, double t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (gmtime_r(&tt, &tm) != NULL && strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) > 0)
        sbuf_adds(s, buf);
}

/* The header: what was compared with what, and the verdict in words. */
static void page_header(struct sbuf *s, const struct report *r, const struct html_view *v,
                        const struct html_meta *m)
{
    const struct stats_dataset_result *d = &r->dataset;
    sbuf_adds(s, "<header><h1>Drift report");
    if (m->model != NULL) {
        sbuf_adds(s, ": ");
        esc(s, m->model);
    }
    sbuf_printf(s,
                "</h1>\n<p id=\"verdict\" class=\"verdict %s\" data-drift=\"%s\" "
                "data-drifted=\"%zu\" data-total=\"%zu\" data-share=\"",
                d->drift ? "drift" : "nodrift", d->drift ? "true" : "false", d->drifted, d->total);
    sbuf_add_double(s, d->share);
    sbuf_adds(s, "\" data-drift-share=\"");
    sbuf_add_double(s, d->drift_share);
    /* the sentence docs/report.md shows, after a word and a marker for the decision */
    sbuf_printf(s,
                "\"><span class=\"word\">%s</span> Dataset drift: %zu of %zu feature%s (share "
                "%.2f, threshold %.2f)</p>\n",
                d->drift ? "\xE2\x96\xB2 DRIFT" : "\xE2\x97\x8B NO DRIFT", d->drifted, d->total,
                d->total == 1 ? "" : "s", d->share, d->drift_share);
    sbuf_adds(s, "<dl class=\"meta\">");
    sbuf_adds(s, "<dt>Model</dt><dd>");
    if (m->model != NULL)
        esc(s, m->model);
    else
        sbuf_adds(s, "<span class=\"muted\">not named (no configuration)</span>");
    sbuf_adds(s, "</dd><dt>Baseline</dt><dd id=\"baseline\">");
    if (r->baseline_sha256[0] != '\0')
        sbuf_printf(s, "<code title=\"SHA-256 %s\">%.12s</code> ", r->baseline_sha256,
                    r->baseline_sha256);
    if (r->baseline_path != NULL)
        esc(s, r->baseline_path);
    sbuf_adds(s, ", ");
    count(s, v->base_rows);
    sbuf_adds(s, " training rows (reference sample ");
    count(s, v->sample_rows);
    sbuf_adds(s, " rows)");
    if (m->baseline_source != NULL) {
        sbuf_adds(s, ", built from ");
        esc(s, m->baseline_source);
    }
    if (m->baseline_labels != NULL) {
        sbuf_adds(s, "; labels: ");
        esc(s, m->baseline_labels);
    }
    sbuf_adds(s, "</dd><dt>Current</dt><dd id=\"current\">");
    if (r->input != NULL) {
        esc(s, r->input);
        sbuf_adds(s, ", ");
    }
    count(s, v->records);
    sbuf_printf(s, " row%s", v->records == 1 ? "" : "s");
    sbuf_adds(s, "</dd>");
    if (m->window != NULL) {
        sbuf_adds(s, "<dt>Window</dt><dd>");
        esc(s, m->window);
        sbuf_adds(s, "</dd>");
    }
    if (r->generated_at > 0) {
        sbuf_adds(s, "<dt>Generated</dt><dd id=\"generated\">");
        add_time(s, r->generated_at);
        sbuf_adds(s, "</dd>");
    }
    sbuf_adds(s, "</dl></header>\n");
}

/* The chart legend, shared by the summary and the details. */
static void legend(struct sbuf *s)
{
    sbuf_adds(s,
              "<p class=\"legend\"><span class=\"key ref\">&#9632;</span>reference (baseline "
              "sample, filled) <span class=\"key cur\">&#9473;</span>current (line/outlined bars) "
              "&#9650; category absent from the baseline (unseen). Histograms share one set "
              "of bins; heights are shares of each sample.</p>\n");
}

/* One row of the summary table. */
static void summary_row(struct sbuf *s, const struct report *r, const struct html_view *v, size_t i)
{
    const struct report_feature *f = &r->features[i];
    const struct stats_test_info *ti = stats_test_info(f->r.test);
    sbuf_printf(s, "<tr class=\"feat %s\" data-drift=\"%s\" data-name=\"", row_class(f),
                f->r.drift ? "true" : "false");
    esc(s, f->name);
    sbuf_adds(s, "\"><td class=\"v\">");
    verdict_word(s, f);
    sbuf_printf(s, "</td><td class=\"name\"><a href=\"#f%zu\">", i);
    esc(s, f->name);
    sbuf_printf(s, "</a></td><td>%s</td><td>%s</td>", stats_kind_name(f->kind), ti->name);
    td_num(s, "stat", f->r.statistic, false);
    td_num(s, "p", ti->has_p ? f->r.p_value : NAN, true);
    td_num(s, "thr", f->r.threshold, false);
    sbuf_adds(s, "<td class=\"chart\">");
    mini_chart(s, f, &v->f[i]);
    sbuf_adds(s, "</td>");
    sbuf_printf(s, "<td class=\"n miss\" data-v=\"");
    sbuf_add_double(s, f->quality[Q_MISSING]);
    sbuf_adds(s, "\">");
    pct(s, f->quality[Q_MISSING]);
    sbuf_adds(s, "</td></tr>\n");
}

/* The metrics of a feature: the test's, and every one computed with
 * all_metrics, as the JSON report lists them. */
static void metrics_table(struct sbuf *s, const struct report_feature *f, bool all)
{
    sbuf_adds(s, "<table class=\"metrics\"><caption>Metrics</caption><thead><tr><th>metric</th>"
                 "<th>statistic</th><th>p-value</th><th>threshold</th></tr></thead><tbody>");
    for (int t = 0; t < STATS_TEST_COUNT; t++) {
        const struct stats_metric *mm = &f->r.m[t];
        if (!(t == (int)f->r.test || (all && mm->present)))
            continue;
        const struct stats_test_info *ti = stats_test_info((enum stats_test)t);
        sbuf_printf(s, "<tr data-metric=\"%s\"><td>%s%s</td>", ti->name, ti->name,
                    t == (int)f->r.test ? " (the test)" : "");
        td_num(s, "stat", mm->statistic, false);
        if (ti->has_p)
            td_num(s, "p", mm->p_value, true);
        else
            sbuf_adds(s, "<td class=\"n\">\xE2\x80\x94</td>");
        if (t == (int)f->r.test)
            td_num(s, "thr", f->r.threshold, false);
        else
            sbuf_adds(s, "<td></td>");
        sbuf_adds(s, "</tr>");
    }
    sbuf_adds(s, "</tbody></table>");
}

/* One data-quality row: the rate of the report, the count it came from. */
static void quality_row(struct sbuf *s, const char *what, const char *key, double rate, uint64_t n,
                        bool counted)
{
    sbuf_printf(s, "<tr data-quality=\"%s\"><td>%s</td>", key, what);
    sbuf_printf(s, "<td class=\"n\" data-v=\"");
    sbuf_add_double(s, rate);
    sbuf_adds(s, "\">");
    pct(s, rate);
    sbuf_adds(s, "</td><td class=\"n\">");
    if (counted)
        count(s, n);
    else
        sbuf_adds(s, "\xE2\x80\x94");
    sbuf_adds(s, "</td></tr>");
}

/* Data-quality counters of the current data. */
static void quality_table(struct sbuf *s, const struct report_feature *f, const struct hfeat *h)
{
    sbuf_adds(s, "<table class=\"quality\"><caption>Data quality (current)</caption><thead><tr>"
                 "<th>signal</th><th>rate</th><th>count</th></tr></thead><tbody>");
    quality_row(s, "missing", quality_names[Q_MISSING], f->quality[Q_MISSING], h->missing,
                h->found);
    quality_row(s, "type errors", quality_names[Q_TYPE_ERROR], f->quality[Q_TYPE_ERROR],
                h->type_errors, h->found);
    quality_row(s, "unseen categories", quality_names[Q_UNSEEN], f->quality[Q_UNSEEN], h->unseen,
                h->found && f->kind == STATS_CATEGORICAL);
    quality_row(s, "out of training range", quality_names[Q_OUT_OF_RANGE],
                f->quality[Q_OUT_OF_RANGE], h->out_of_range,
                h->found && f->kind == STATS_NUMERICAL);
    sbuf_printf(s, "<tr><td>present values</td><td></td><td class=\"n\">");
    count(s, h->present);
    sbuf_printf(s,
                "</td></tr><tr><td>quality threshold crossed</td><td colspan=\"2\">%s</td>"
                "</tr></tbody></table>",
                f->quality_drift ? "yes" : "no");
}

/* The category table: reference and current counts and shares. */
static void category_table(struct sbuf *s, const struct hfeat *h)
{
    sbuf_printf(s, "<table class=\"categories\"><caption>Categories (%zu", h->total_cats);
    if (h->unseen_cats > 0)
        sbuf_printf(s, ", %zu unseen", h->unseen_cats);
    sbuf_adds(s, ")</caption><thead><tr><th>category</th><th>reference</th><th>share</th>"
                 "<th>current</th><th>share</th><th></th></tr></thead><tbody>");
    for (size_t j = 0; j <= h->ncats; j++) {
        if (j == h->ncats && h->total_cats <= h->ncats)
            break;
        uint64_t rc = j < h->ncats ? h->cats[j].ref : h->other_ref;
        uint64_t cc = j < h->ncats ? h->cats[j].cur : h->other_cur;
        sbuf_adds(s, "<tr><td>");
        if (j < h->ncats)
            short_name(s, h->cats[j].name, h->cats[j].len, 160); /* bounded page */
        else
            sbuf_printf(s, "<i>other (%zu categories)</i>", h->total_cats - h->ncats);
        sbuf_adds(s, "</td><td class=\"n\">");
        count(s, rc);
        sbuf_adds(s, "</td><td class=\"n\">");
        pct(s, h->n_ref ? (double)rc / (double)h->n_ref : NAN);
        sbuf_adds(s, "</td><td class=\"n\">");
        count(s, cc);
        sbuf_adds(s, "</td><td class=\"n\">");
        pct(s, h->n_cur ? (double)cc / (double)h->n_cur : NAN);
        sbuf_printf(s, "</td><td>%s</td></tr>",
                    j < h->ncats && h->cats[j].unseen ? "\xE2\x96\xB2 unseen" : "");
    }
    sbuf_adds(s, "</tbody></table>");
}

/* The detail block of report feature i. */
static void detail_block(struct sbuf *s, const struct report *r, const struct html_view *v,
                         size_t i, bool all)
{
    const struct report_feature *f = &r->features[i];
    const struct hfeat *h = &v->f[i];
    const struct stats_test_info *ti = stats_test_info(f->r.test);
    sbuf_printf(s, "<section class=\"detail %s\" id=\"f%zu\" data-name=\"", row_class(f), i);
    esc(s, f->name);
    sbuf_adds(s, "\"><h3><span class=\"v\">");
    verdict_word(s, f);
    sbuf_adds(s, "</span> \xC2\xB7 ");
    esc(s, f->name);
    sbuf_printf(s, " <span class=\"muted\">(%s, %s", stats_kind_name(f->kind), ti->name);
    sbuf_adds(s, ": statistic ");
    num(s, f->r.statistic);
    if (ti->has_p) {
        sbuf_adds(s, ", p-value ");
        pnum(s, f->r.p_value);
    }
    sbuf_adds(s, ", threshold ");
    num(s, f->r.threshold);
    sbuf_adds(s, ")</span></h3>\n<p>Reference ");
    count(s, f->reference_count);
    sbuf_adds(s, " values, current ");
    count(s, f->current_count);
    sbuf_adds(s, " values.</p>\n<div class=\"charts\">");
    if (f->kind == STATS_NUMERICAL && h->nbins > 0) {
        sbuf_adds(s, "<figure>");
        detail_hist(s, h);
        sbuf_printf(s,
                    "<figcaption><span class=\"key ref\">&#9632;</span>reference "
                    "<span class=\"key cur\">&#9473;</span>current; %zu common bins from ",
                    h->nbins);
        num(s, h->lo);
        sbuf_adds(s, " to ");
        num(s, h->hi);
        sbuf_adds(s, " (point at a bin for its counts)</figcaption></figure>");
        bool ks = f->r.m[STATS_KS].present;
        sbuf_adds(s, "<figure>");
        detail_ecdf(s, f, h, ks);
        sbuf_adds(s, "<figcaption><span class=\"key eref\">&#9473;</span>reference "
                     "<span class=\"key ecur\">&#9477;</span>current empirical CDF");
        if (ks && h->ks_at) {
            sbuf_adds(s, "; <span class=\"ksd\" data-v=\"");
            sbuf_add_double(s, f->r.m[STATS_KS].statistic);
            /* where the line is drawn: the two ECDFs there differ by D */
            sbuf_adds(s, "\" data-at=\"");
            sbuf_add_double(s, h->ks_x);
            sbuf_adds(s, "\" data-fr=\"");
            sbuf_add_double(s, h->ks_fr);
            sbuf_adds(s, "\" data-fc=\"");
            sbuf_add_double(s, h->ks_fc);
            sbuf_adds(s, "\">KS distance D = ");
            num(s, f->r.m[STATS_KS].statistic);
            sbuf_adds(s, "</span> at ");
            num(s, h->ks_x);
            sbuf_adds(s, " (reference ");
            num(s, h->ks_fr);
            sbuf_adds(s, ", current ");
            num(s, h->ks_fc);
            sbuf_adds(s, ")");
        }
        sbuf_adds(s, "</figcaption></figure>");
    } else if (f->kind == STATS_CATEGORICAL && h->total_cats > 0) {
        sbuf_adds(s, "<figure>");
        detail_cats(s, h);
        sbuf_adds(
            s, "<figcaption><span class=\"key ref\">&#9632;</span>reference "
               "<span class=\"key curbar\">&#9632;</span>current share of each category; &#9650; "
               "unseen</figcaption>"
               "</figure>");
    } else {
        sbuf_adds(s, "<p class=\"muted\">No values to draw.</p>");
    }
    sbuf_adds(s, "</div>\n<div class=\"tables\">");
    metrics_table(s, f, all);
    quality_table(s, f, h);
    if (f->kind == STATS_CATEGORICAL && h->total_cats > 0)
        category_table(s, h);
    sbuf_adds(s, "</div></section>\n");
}

const char *html_report_css(void)
{
    return css;
}

int html_render_fragment(const struct report *r, const struct html_view *v,
                         const struct html_meta *m, struct sbuf *s)
{
    static const struct html_meta none = {0};
    if (v->n != r->n)
        return -1;
    if (m == NULL)
        m = &none;
    size_t *ord = calloc(r->n ? r->n : 1, sizeof(size_t));
    if (ord == NULL)
        return -1;
    for (size_t i = 0; i < r->n; i++)
        ord[i] = i;
    qsort_r(ord, r->n, sizeof(size_t), order_cmp, (void *)r);
    sbuf_adds(s, "<div class=\"report\">\n");
    page_header(s, r, v, m);
    sbuf_adds(s, "<h2>Features</h2>\n");
    legend(s);
    sbuf_adds(s, "<table class=\"summary\"><thead><tr><th>verdict</th><th>feature</th>"
                 "<th>kind</th><th>test</th><th>statistic</th><th>p-value</th>"
                 "<th>threshold</th><th>reference vs current</th><th>missing</th></tr></thead>\n"
                 "<tbody id=\"summary\">\n");
    for (size_t k = 0; k < r->n; k++)
        summary_row(s, r, v, ord[k]);
    sbuf_adds(s, "</tbody></table>\n<h2>Per feature</h2>\n");
    for (size_t k = 0; k < r->n; k++)
        detail_block(s, r, v, ord[k], m->all_metrics);
    sbuf_adds(s, "</div>\n");
    free(ord);
    return sbuf_failed(s) ? -1 : 0;
}

int html_render(const struct report *r, const struct html_view *v, const struct html_meta *m,
                struct sbuf *s)
{
    static const struct html_meta none = {0};
    if (v->n != r->n)
        return -1;
    if (m == NULL)
        m = &none;
    /* The policy forbids every load and every script: the page needs none,
     * and a name that escaping missed could then still run nothing. */
    sbuf_adds(s, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "style-src 'unsafe-inline'\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"generator\" content=\"driftd " DRIFTD_VERSION "\">\n<title>");
    sbuf_adds(s, r->dataset.drift ? "Drift: " : "No drift: ");
    if (m->model != NULL) {
        esc(s, m->model);
        sbuf_adds(s, " \xE2\x80\x93 ");
    }
    esc(s, r->input != NULL ? r->input : "current data");
    sbuf_adds(s, " (driftd report)</title>\n<style>");
    sbuf_adds(s, css);
    sbuf_adds(s, "</style>\n</head>\n<body>\n<main>\n");
    if (html_render_fragment(r, v, m, s) != 0)
        return -1;
    sbuf_adds(s, "</main>\n<footer><p class=\"muted\">Written by driftd " DRIFTD_VERSION
                 ". The numbers are those of the JSON report (each cell's exact value is in "
                 "its data-v attribute); statistics and thresholds: docs/statistics.md.</p>"
                 "</footer>\n</body>\n</html>\n");
    return sbuf_failed(s) ? -1 : 0;
}
