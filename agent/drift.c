#include "agent/drift.h"

#include "alerts/alert.h"
#include "lib/threads.h"
#include "stats/sort.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *const quality_names[Q_COUNT] = {"missing_rate", "type_error_rate", "unseen_rate",
                                            "out_of_range_rate"};

void drift_opts_init(struct drift_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->method = STATS_TEST_AUTO;
    o->drift.drift_share = 0.5;
    o->drift.correction = STATS_CORRECTION_NONE;
    o->drift.alpha = 0.05;
    o->drift.min_effect = NAN;
    for (int q = 0; q < Q_COUNT; q++)
        o->quality[q] = NAN;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void drift_opts_clear(struct drift_opts *o)
{
    free_names(o->include, o->n_include);
    free_names(o->exclude, o->n_exclude);
    for (size_t i = 0; i < o->n_overrides; i++)
        free(o->overrides[i].name);
    free(o->overrides);
    drift_opts_init(o);
}

static bool name_in(char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0)
            return true;
    return false;
}

static const struct feature_override *find_override(const struct drift_opts *o, const char *name)
{
    for (size_t i = 0; i < o->n_overrides; i++)
        if (strcmp(o->overrides[i].name, name) == 0)
            return &o->overrides[i];
    return NULL;
}

void report_free(struct report *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; r->features != NULL && i < r->n; i++)
        free(r->features[i].name);
    free(r->features);
    free(r->baseline_path);
    free(r->input);
    free(r->baseline_labels);
    free(r);
}

int report_set_baseline_labels(struct report *r, const struct stats_baseline *b)
{
    struct sbuf s;
    free(r->baseline_labels);
    r->baseline_labels = NULL;
    if (b->provenance == NULL || b->provenance->nlabels == 0)
        return 0;
    sbuf_init(&s);
    stats_labels_json(b->provenance, &s);
    if (sbuf_failed(&s)) {
        sbuf_free(&s);
        return -1;
    }
    r->baseline_labels = sbuf_steal(&s, NULL);
    return 0;
}

int report_set_origin(struct report *r, double generated_at, const char *baseline_path,
                      const char *baseline_sha256, const char *input)
{
    char *bp = baseline_path != NULL ? strdup(baseline_path) : NULL;
    char *in = input != NULL ? strdup(input) : NULL;
    free(r->baseline_path);
    free(r->input);
    r->baseline_path = NULL, r->input = NULL, r->generated_at = 0, r->baseline_sha256[0] = '\0';
    if ((baseline_path != NULL && bp == NULL) || (input != NULL && in == NULL)) {
        free(bp), free(in);
        return -1;
    }
    r->generated_at = generated_at;
    r->baseline_path = bp;
    r->input = in;
    /* only a digest that looks like one: the JSON carries it unescaped */
    if (baseline_sha256 != NULL && strlen(baseline_sha256) == SHA256_HEX_LEN &&
        strspn(baseline_sha256, "0123456789abcdef") == SHA256_HEX_LEN)
        memcpy(r->baseline_sha256, baseline_sha256, SHA256_HEX_LEN + 1);
    return 0;
}

/* x / y, or NAN when there is nothing to divide. */
static double rate(uint64_t x, uint64_t y)
{
    return y == 0 ? NAN : (double)x / (double)y;
}

/* Union of baseline categories (with their sample counts) and the current
 * data's categories; returns false on ENOMEM. */
static bool categorical_union(const struct stats_bfeature *bf, const struct dataset_col *c,
                              double **rc, double **cc, size_t *k, size_t *first, uint64_t *unseen)
{
    *unseen = 0;
    size_t ncur = c->cats != NULL ? dict_size(c->cats) : 0;
    size_t cap = bf->n_cats + ncur;
    *rc = calloc(cap ? cap : 1, sizeof(double));
    *cc = calloc(cap ? cap : 1, sizeof(double));
    const char **keys = calloc(cap ? cap : 1, sizeof(char *));
    size_t *lens = calloc(cap ? cap : 1, sizeof(size_t));
    if (*rc == NULL || *cc == NULL || keys == NULL || lens == NULL) {
        free(*rc), free(*cc), free(keys), free(lens);
        return false;
    }
    for (size_t j = 0; j < bf->n_cats; j++) {
        (*rc)[j] = (double)bf->cat_sample[j];
        keys[j] = bf->cats[j];
        lens[j] = strlen(bf->cats[j]);
    }
    size_t n = bf->n_cats;
    for (uint32_t id = 0; id < ncur; id++) {
        size_t len;
        const char *s = dict_key(c->cats, id, &len);
        long j = stats_bfeature_find_cat(bf, s, len);
        if (j >= 0) {
            (*cc)[j] += c->counts[id];
        } else {
            *unseen += (uint64_t)c->counts[id];
            keys[n] = s;
            lens[n] = len;
            (*cc)[n++] = c->counts[id];
        }
    }
    /* The z-test's 0 category: the smallest key (byte order, as Python sorts
     * str) among those either sample has. */
    *first = 0;
    bool have = false;
    for (size_t j = 0; j < n; j++) {
        if ((*rc)[j] == 0 && (*cc)[j] == 0)
            continue;
        if (!have) {
            *first = j;
            have = true;
            continue;
        }
        size_t a = lens[j], b = lens[*first];
        int cmp = memcmp(keys[j], keys[*first], a < b ? a : b);
        if (cmp < 0 || (cmp == 0 && a < b))
            *first = j;
    }
    *k = n;
    free(keys);
    free(lens);
    return true;
}

/* One evaluation, shared by the worker threads: feature k of the report is
 * baseline feature sel[k]; each thread takes the next k. */
struct eval_job {
    struct dataset *ds;
    const struct drift_opts *o;
    struct report *rep;
    const size_t *sel;
    bool *extra;
    size_t n, next;
    bool oom;
};

/* Evaluate report feature k (touches only its own column and slot). */
static void eval_one(struct eval_job *job, size_t k)
{
    const struct drift_opts *o = job->o;
    const struct stats_baseline *b = job->ds->b;
    size_t i = job->sel[k];
    const struct stats_bfeature *bf = &b->features[i];
    struct dataset_col *c = &job->ds->cols[i];
    const struct feature_override *ov = find_override(o, bf->name);
    struct report_feature *rf = &job->rep->features[k];

    rf->kind = bf->kind;
    struct stats_feature_data d = {.kind = bf->kind, .reference_rows = b->sample_rows};
    struct stats_feature_opts fo = {
        .test = ov != NULL && ov->test != STATS_TEST_AUTO ? ov->test : o->method,
        .threshold = ov != NULL ? ov->threshold : NAN,
        .all_metrics = o->all_metrics,
        .need_effect = !isnan(o->drift.min_effect),
    };
    double *rc = NULL, *cc = NULL;
    if (bf->kind == STATS_NUMERICAL) {
        stats_sort(c->vals, c->n);
        d.ref = bf->sample;
        d.n_ref = bf->n_sample;
        d.has_ref_std = bf->has_sample_std;
        d.ref_std = bf->sample_std;
        d.cur = c->vals;
        d.n_cur = c->n;
        rf->reference_count = bf->n_sample;
        rf->current_count = c->n;
    } else {
        if (!categorical_union(bf, c, &rc, &cc, &d.k, &d.first, &c->unseen)) {
            __atomic_store_n(&job->oom, true, __ATOMIC_RELAXED);
            return;
        }
        d.ref_counts = rc;
        d.cur_counts = cc;
        for (size_t j = 0; j < d.k; j++) {
            rf->reference_count += (uint64_t)rc[j];
            rf->current_count += (uint64_t)cc[j];
        }
    }
    rf->quality[Q_MISSING] = rate(c->missing, c->missing + c->present);
    rf->quality[Q_TYPE_ERROR] = rate(c->type_errors, c->missing + c->present + c->type_errors);
    rf->quality[Q_UNSEEN] = bf->kind == STATS_CATEGORICAL ? rate(c->unseen, c->present) : NAN;
    rf->quality[Q_OUT_OF_RANGE] =
        bf->kind == STATS_NUMERICAL && bf->count > 0 ? rate(c->out_of_range, c->present) : NAN;
    for (int q = 0; q < Q_COUNT; q++) {
        double limit = ov != NULL && !isnan(ov->quality[q]) ? ov->quality[q] : o->quality[q];
        if (!isnan(limit) && rf->quality[q] > limit)
            rf->quality_drift = true;
    }
    /* A feature the reference had values of and the current data has none
     * of (a column absent or renamed) is a data-quality failure whatever
     * the thresholds: never "no drift" for lack of data. */
    if (c->present == 0 && c->missing > 0 && c->type_errors == 0 && bf->n_sample > 0)
        rf->quality_drift = true;
    job->extra[k] = rf->quality_drift;
    rf->evaluated = stats_feature_evaluate(&d, &fo, &rf->r) == 0;
    free(rc);
    free(cc);
}

static void *eval_worker(void *arg)
{
    struct eval_job *job = arg;
    for (;;) {
        size_t k = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
        if (k >= job->n)
            return NULL;
        eval_one(job, k);
    }
}

/* Threads for an evaluation: features are independent, so up to one per
 * online CPU (at most 8; DRIFTD_THREADS overrides), no more than features. */
static size_t eval_threads(size_t nfeatures)
{
    return threads_wanted(nfeatures > 8 ? 8 : nfeatures > 0 ? nfeatures : 1);
}

struct report *drift_evaluate(struct dataset *ds, const struct drift_opts *o)
{
    const struct stats_baseline *b = ds->b;
    size_t nf = b->nfeatures ? b->nfeatures : 1;
    struct report *rep = calloc(1, sizeof(*rep));
    bool *extra = calloc(nf, sizeof(bool));
    size_t *sel = calloc(nf, sizeof(size_t));
    if (rep == NULL || extra == NULL || sel == NULL ||
        (rep->features = calloc(nf, sizeof(*rep->features))) == NULL) {
        free(extra), free(sel);
        report_free(rep);
        return NULL;
    }
    for (size_t i = 0; i < b->nfeatures; i++) {
        const char *name = b->features[i].name;
        if ((o->n_include > 0 && !name_in(o->include, o->n_include, name)) ||
            name_in(o->exclude, o->n_exclude, name))
            continue;
        /* The report outlives the baseline it was made from (a reload
         * frees that): it keeps its own copy of each name. */
        if ((rep->features[rep->n].name = strdup(name)) == NULL) {
            free(extra), free(sel);
            report_free(rep);
            return NULL;
        }
        sel[rep->n++] = i;
    }
    struct eval_job job = {ds, o, rep, sel, extra, rep->n, 0, false};
    size_t nt = eval_threads(rep->n);
    pthread_t tid[8];
    size_t started = 0;
    for (size_t t = 1; t < nt; t++)
        if (pthread_create(&tid[started], NULL, eval_worker, &job) == 0)
            started++;
    eval_worker(&job); /* this thread works too; with no thread it does it all */
    for (size_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(sel);
    if (job.oom) {
        free(extra);
        report_free(rep);
        return NULL;
    }
    /* stats_dataset_decide works on a contiguous result array. */
    struct stats_feature_result *res = calloc(rep->n ? rep->n : 1, sizeof(*res));
    if (res == NULL) {
        free(extra);
        report_free(rep);
        return NULL;
    }
    for (size_t i = 0; i < rep->n; i++)
        res[i] = rep->features[i].r;
    stats_dataset_decide(res, rep->n, extra, &o->drift, &rep->dataset);
    for (size_t i = 0; i < rep->n; i++)
        rep->features[i].r = res[i];
    free(res);
    free(extra);
    return rep;
}

static void add_kv_double(struct sbuf *s, const char *key, double v)
{
    sbuf_printf(s, "\"%s\": ", key);
    sbuf_add_double(s, v);
}

static void metric_json(struct sbuf *s, const struct stats_metric *m, enum stats_test t)
{
    if (stats_test_info(t)->has_p) {
        sbuf_adds(s, "{");
        add_kv_double(s, "statistic", m->statistic);
        sbuf_adds(s, ", ");
        add_kv_double(s, "p_value", m->p_value);
        sbuf_adds(s, "}");
    } else {
        sbuf_add_double(s, m->statistic);
    }
}

/* The origin members set by report_set_origin, each followed by ",\n". */
static void origin_json(const struct report *r, struct sbuf *s)
{
    if (r->generated_at > 0) {
        sbuf_adds(s, "\"generated_at\": ");
        alert_time_json(s, r->generated_at);
        sbuf_adds(s, ",\n");
    }
    if (r->baseline_path != NULL) {
        sbuf_adds(s, "\"baseline\": {\"path\": ");
        sbuf_add_json_string(s, r->baseline_path, strlen(r->baseline_path));
        sbuf_adds(s, ", \"sha256\": ");
        if (r->baseline_sha256[0] != '\0')
            sbuf_printf(s, "\"%s\"", r->baseline_sha256);
        else
            sbuf_adds(s, "null");
        if (r->baseline_labels != NULL) {
            sbuf_adds(s, ", \"labels\": ");
            sbuf_adds(s, r->baseline_labels);
        }
        sbuf_adds(s, "},\n");
    }
    if (r->input != NULL) {
        sbuf_adds(s, "\"input\": ");
        sbuf_add_json_string(s, r->input, strlen(r->input));
        sbuf_adds(s, ",\n");
    }
}

void report_json_members(const struct report *r, bool all_metrics, struct sbuf *s)
{
    const struct stats_dataset_result *d = &r->dataset;

    origin_json(r, s);
    sbuf_printf(s,
                "\"dataset\": {\"drift\": %s, \"drifted_features\": %zu, "
                "\"total_features\": %zu, ",
                d->drift ? "true" : "false", d->drifted, d->total);
    add_kv_double(s, "share", d->share);
    sbuf_adds(s, ", ");
    add_kv_double(s, "drift_share", d->drift_share);
    sbuf_adds(s, "},\n\"features\": [");
    for (size_t i = 0; i < r->n; i++) {
        const struct report_feature *f = &r->features[i];
        const struct stats_test_info *ti = stats_test_info(f->r.test);
        sbuf_adds(s, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        sbuf_add_json_string(s, f->name, strlen(f->name));
        sbuf_printf(s, ", \"kind\": \"%s\", \"test\": \"%s\", ", stats_kind_name(f->kind),
                    ti->name);
        add_kv_double(s, "statistic", f->r.statistic);
        sbuf_adds(s, ", ");
        add_kv_double(s, "p_value", ti->has_p ? f->r.p_value : NAN);
        sbuf_adds(s, ", ");
        add_kv_double(s, "threshold", f->r.threshold);
        sbuf_printf(s, ", \"drift\": %s, \"reference_count\": %llu, \"current_count\": %llu, ",
                    f->r.drift ? "true" : "false", (unsigned long long)f->reference_count,
                    (unsigned long long)f->current_count);
        add_kv_double(s, "missing_rate", f->quality[Q_MISSING]);
        sbuf_adds(s, ",\n   \"metrics\": {");
        bool firstm = true;
        for (int t = 0; t < STATS_TEST_COUNT; t++) {
            const struct stats_metric *m = &f->r.m[t];
            bool show = t == (int)f->r.test || (all_metrics && m->present);
            if (!show)
                continue;
            sbuf_printf(s, "%s\"%s\": ", firstm ? "" : ", ", stats_test_info(t)->name);
            metric_json(s, m, (enum stats_test)t);
            firstm = false;
        }
        sbuf_adds(s, "},\n   \"quality\": {");
        for (int q = 0; q < Q_COUNT; q++) {
            if (q)
                sbuf_adds(s, ", ");
            add_kv_double(s, quality_names[q], f->quality[q]);
        }
        sbuf_printf(s, ", \"drift\": %s}}", f->quality_drift ? "true" : "false");
    }
    sbuf_adds(s, "\n]");
}

void report_json(const struct report *r, bool all_metrics, struct sbuf *s)
{
    sbuf_adds(s, "{");
    report_json_members(r, all_metrics, s);
    sbuf_adds(s, "\n}\n");
}

/* A number for the table, right-aligned in width columns: "-" when absent;
 * exponent notation for the very small and for what fixed point would make
 * wider than its column, so the columns line up whatever the magnitude. */
static void cell_num(FILE *out, double v, int width)
{
    char buf[64];
    if (isnan(v)) {
        fprintf(out, " %*s", width, "-");
        return;
    }
    if (isinf(v)) {
        fprintf(out, " %*s", width, v > 0 ? "inf" : "-inf");
        return;
    }
    int n = snprintf(buf, sizeof(buf), "%.4f", v);
    if ((v != 0 && fabs(v) < 1e-3) || n > width)
        for (int prec = 3; prec >= 0; prec--)
            if (snprintf(buf, sizeof(buf), "%.*e", prec, v) <= width)
                break;
    fprintf(out, " %*s", width, buf);
}

/* A p-value for the table: 0 is one too small for a double (the tests'
 * p-values are never 0 in exact arithmetic), so it says so instead of
 * showing a 0.0000 that reads as "certainly drifted, exactly". */
static void cell_p(FILE *out, double p, int width)
{
    if (p == 0)
        fprintf(out, " %*s", width, "<1e-300");
    else
        cell_num(out, p, width);
}

/* One table row's metric columns: statistic and p-value (or "-"). */
static void cell_metric(FILE *out, enum stats_test t, double statistic, double p)
{
    cell_num(out, statistic, 10);
    if (stats_test_info(t)->has_p)
        cell_p(out, p, 10);
    else
        cell_num(out, NAN, 10);
}

void report_table(const struct report *r, bool all_metrics, FILE *out)
{
    size_t w = 7;

    for (size_t i = 0; i < r->n; i++)
        if (strlen(r->features[i].name) > w)
            w = strlen(r->features[i].name);
    if (w > 40)
        w = 40;
    fprintf(out, "%-*s %-11s %-18s %10s %10s %9s %8s %8s  %s\n", (int)w, "feature", "kind", "test",
            "statistic", "p-value", "threshold", "ref n", "cur n", "drift");
    for (size_t i = 0; i < r->n; i++) {
        const struct report_feature *f = &r->features[i];
        fprintf(out, "%-*.*s %-11s %-18s", (int)w, (int)w, f->name, stats_kind_name(f->kind),
                stats_test_info(f->r.test)->name);
        cell_metric(out, f->r.test, f->r.statistic, f->r.p_value);
        cell_num(out, f->r.threshold, 9);
        fprintf(out, " %8llu %8llu  %s", (unsigned long long)f->reference_count,
                (unsigned long long)f->current_count,
                !f->evaluated ? "n/a"
                : f->r.drift  ? "DRIFT"
                              : "ok");
        if (f->quality_drift)
            fprintf(out, " (data quality)");
        if (f->quality[Q_MISSING] > 0)
            fprintf(out, "  missing %.1f%%", 100 * f->quality[Q_MISSING]);
        fputc('\n', out);
        if (all_metrics) {
            /* the other metrics under the test's own columns, name and
             * kind left blank */
            for (int t = 0; t < STATS_TEST_COUNT; t++) {
                const struct stats_metric *m = &f->r.m[t];
                if (!m->present || t == (int)f->r.test)
                    continue;
                fprintf(out, "%-*s %-11s %-18s", (int)w, "", "", stats_test_info(t)->name);
                cell_metric(out, (enum stats_test)t, m->statistic, m->p_value);
                fputc('\n', out);
            }
        }
    }
    const struct stats_dataset_result *d = &r->dataset;
    fprintf(out, "\nDataset drift: %s (%zu of %zu feature%s drifted, share %.2f, threshold %.2f)\n",
            d->drift ? "YES" : "no", d->drifted, d->total, d->total == 1 ? "" : "s", d->share,
            d->drift_share);
}
