#include "agent/build.h"

#include "lib/file.h"
#include "agent/dict.h"
#include "agent/value.h"
#include "stats/reservoir.h"
#include "lib/sbuf.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include "stats/sort.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void diag_record_error(struct diag *d, uint64_t line, uint64_t index, const char *msg)
{
    d->count++;
    if (d->shown >= d->max_shown)
        return;
    d->shown++;
    if (index > 0)
        fprintf(stderr, "driftd: %s:%llu: record %llu: %s (skipped)\n", d->file,
                (unsigned long long)line, (unsigned long long)index, msg);
    else
        fprintf(stderr, "driftd: %s:%llu: %s\n", d->file, (unsigned long long)line, msg);
}

void diag_put_text(FILE *out, const char *s, size_t len)
{
    for (size_t k = 0; k < len; k++) {
        unsigned char ch = (unsigned char)s[k];
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\x%02x", ch);
        else
            fputc(ch, out);
    }
}

void diag_summary(struct diag *d)
{
    if (d->count > d->shown)
        fprintf(stderr, "driftd: %s: %llu more problem%s not shown\n", d->file,
                (unsigned long long)(d->count - d->shown), d->count - d->shown == 1 ? "" : "s");
}

/* Whether a --schema value is the JSON itself rather than a file name: a
 * file name never starts with "{" in practice, and the README shows the
 * inline form, which the shell passes as one argument. */
static bool schema_is_inline(const char *arg)
{
    while (*arg == ' ' || *arg == '\t' || *arg == '\n')
        arg++;
    return *arg == '{';
}

int schema_load(struct schema *s, const char *arg)
{
    size_t len;
    memset(s, 0, sizeof(*s));
    bool inline_json = schema_is_inline(arg);
    const char *path = inline_json ? "--schema" : arg;
    char *text = inline_json ? strdup(arg) : file_read(arg, &len);
    if (text == NULL) {
        fprintf(stderr, "driftd: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (inline_json)
        len = strlen(text);
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (root == NULL) {
        size_t at = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        fprintf(stderr,
                "driftd: %s: invalid JSON at byte %zu; expected {\"features\": {\"name\": "
                "\"numerical\" | \"categorical\", ...}}\n",
                path, at + 1);
        free(text);
        return -1;
    }
    free(text);
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(root, "features");
    if (!cJSON_IsObject(fs)) {
        fprintf(stderr,
                "driftd: %s: expected a JSON object {\"features\": {\"name\": "
                "\"numerical\" | \"categorical\", ...}}\n",
                path);
        cJSON_Delete(root);
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(fs);
    s->path = strdup(path);
    s->names = calloc(n ? n : 1, sizeof(char *));
    s->kinds = calloc(n ? n : 1, sizeof(*s->kinds));
    if (s->path == NULL || s->names == NULL || s->kinds == NULL) {
        fprintf(stderr, "driftd: %s: out of memory\n", path);
        cJSON_Delete(root);
        schema_free(s);
        return -1;
    }
    const cJSON *f;
    int rc = 0;
    cJSON_ArrayForEach(f, fs)
    {
        if (!cJSON_IsString(f) || (strcmp(f->valuestring, "numerical") != 0 &&
                                   strcmp(f->valuestring, "categorical") != 0)) {
            fprintf(stderr, "driftd: %s: features.%s: expected \"numerical\" or \"categorical\"\n",
                    path, f->string);
            rc = -1;
            continue;
        }
        s->names[s->n] = strdup(f->string);
        s->kinds[s->n] = f->valuestring[0] == 'n' ? STATS_NUMERICAL : STATS_CATEGORICAL;
        s->n++;
    }
    cJSON_Delete(root);
    if (rc != 0)
        schema_free(s);
    return rc;
}

void schema_free(struct schema *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->names[i]);
    free(s->names);
    free(s->kinds);
    free(s->path);
    memset(s, 0, sizeof(*s));
}

int schema_kind(const struct schema *s, const char *name)
{
    for (size_t i = 0; s != NULL && i < s->n; i++)
        if (s->names[i] != NULL && strcmp(s->names[i], name) == 0)
            return (int)s->kinds[i];
    return -1;
}

/* Values of a column that are not numbers shown in the warning about a
 * column that is numerical but for them. */
#define STRAYS_SHOWN 3

/* One value that kept a column from being numerical, and where it is. */
struct stray {
    char text[44]; /* the first 40 bytes, not cut inside a UTF-8 character */
    bool cut;
    uint64_t line;
};

/* Per-column state of the build. */
struct bcol {
    bool ignored;
    bool numeric_ok; /* pass 1: every present value is a number */
    /* pass 1: present values that are numbers and that are not; counting
     * stops (counted false) once the column is plainly text */
    uint64_t n_number, n_text;
    bool counted;
    struct stray strays[STRAYS_SHOWN];
    enum stats_kind kind;
    double *vals; /* pass 2, numerical: every present value */
    size_t n, cap;
    struct dict *cats;
    uint64_t *cat_counts;
    size_t cap_cats;
    uint64_t missing, type_errors;
    uint64_t first_type_error_line;
};

struct build {
    struct diag diag;
    enum reader_format fmt;
    int pass;
    struct bcol *cols;
    size_t ncols, capcols;
    uint64_t rows;
    uint64_t skipped; /* pass 1: records skipped as bad */
    struct stats_reservoir *res;
    double *slots; /* sample rows x columns: value, category id, or NAN */
    size_t max_sample;
    bool oom;
};

static int on_column(void *arg, size_t index, const char *name, size_t len)
{
    struct build *b = arg;
    if (index >= b->capcols) {
        size_t cap = b->capcols ? b->capcols * 2 : 32;
        while (cap <= index)
            cap *= 2;
        struct bcol *c = realloc(b->cols, cap * sizeof(*c));
        if (c == NULL) {
            b->oom = true;
            return -1;
        }
        memset(c + b->capcols, 0, (cap - b->capcols) * sizeof(*c));
        b->cols = c;
        b->capcols = cap;
    }
    b->cols[index].numeric_ok = true;
    b->cols[index].counted = true;
    if (len > 0 && name[0] == '\x01') /* the reader's placeholder for a repeated name */
        b->cols[index].ignored = true;
    if (len == 0) {
        b->cols[index].ignored = true;
        fprintf(stderr, "driftd: %s: column %zu has an empty name (ignored)\n", b->diag.file,
                index + 1);
    }
    if (index + 1 > b->ncols)
        b->ncols = index + 1;
    return b->cols[index].ignored ? -1 : 0;
}

static void on_error(void *arg, uint64_t line, uint64_t index, enum reader_error code,
                     const char *msg)
{
    (void)code;
    struct build *b = arg;
    if (b->pass != 1)
        return;
    diag_record_error(&b->diag, line, index, msg);
    if (index > 0) /* 0: the CSV header, not a record */
        b->skipped++;
}

/* A column whose text values outnumber its numbers by this much is text:
 * pass 1 stops reading its values as numbers (only the warning about a
 * few stray values needs the counts). */
#define TEXT_MARGIN 100

/* Keep a value that is not a number, with its line, for the warning. */
static void stray_keep(struct bcol *col, const struct cell *c, uint64_t line)
{
    if (col->n_text > STRAYS_SHOWN)
        return;
    struct stray *st = &col->strays[col->n_text - 1];
    st->line = line;
    if (c->type != CELL_TEXT) {
        snprintf(st->text, sizeof(st->text), "%s", "<a JSON object or array>");
        return;
    }
    size_t len = c->len;
    if (len > 40)
        for (len = 40; len > 0 && ((unsigned char)c->str[len] & 0xC0) == 0x80; len--)
            ;
    memcpy(st->text, c->str, len);
    st->text[len] = '\0';
    st->cut = len < c->len;
}

/* Pass 1: which columns hold only numbers, and how many values keep a
 * mostly numerical column from being one. */
static void infer_record(struct build *b, const struct reader_record *rec)
{
    double v;
    b->rows++;
    for (size_t i = 0; i < rec->ncells && i < b->ncols; i++) {
        const struct cell *c = &rec->cells[i];
        struct bcol *col = &b->cols[i];
        if (col->ignored || !col->counted)
            continue;
        enum value_class vc = VALUE_MISSING;
        if (c->type == CELL_NUMBER)
            vc = isfinite(c->num) ? VALUE_NUMBER : VALUE_MISSING;
        else if (c->type == CELL_TEXT)
            vc = value_parse(c->str, c->len, b->fmt == READER_CSV, &v);
        else if (c->type == CELL_NESTED)
            vc = VALUE_TEXT;
        if (vc == VALUE_NUMBER) {
            col->n_number++;
        } else if (vc == VALUE_TEXT) {
            col->n_text++;
            col->numeric_ok = false;
            stray_keep(col, c, rec->line);
            if (col->n_text > col->n_number + TEXT_MARGIN)
                col->counted = false;
        }
    }
}

/* Whether a column inferred categorical is numerical but for a few values
 * (at most 5% of its present values): one stray "?" in a numerical
 * training column otherwise makes it categorical, with a category per
 * distinct number, and every later check reports drift on it. */
static bool almost_numeric(const struct bcol *col)
{
    return col->counted && col->n_text > 0 && col->n_number > 0 &&
           col->n_text * 20 <= col->n_text + col->n_number;
}

/* Warn about a column almost_numeric found: which values, where, and the
 * --schema that makes it numerical. */
static void warn_strays(const struct build *b, const struct bcol *col, const char *name,
                        size_t index, size_t ncats)
{
    fprintf(stderr,
            "driftd: %s: warning: feature \"%s\" is numerical except for %llu value%s, so it "
            "was made categorical (%zu categories):",
            b->diag.file, name, (unsigned long long)col->n_text, col->n_text == 1 ? "" : "s",
            ncats);
    for (uint64_t k = 0; k < col->n_text && k < STRAYS_SHOWN; k++) {
        const struct stray *st = &col->strays[k];
        fprintf(stderr, "%s \"", k > 0 ? "," : "");
        diag_put_text(stderr, st->text, strlen(st->text));
        fprintf(stderr, "%s\" on line %llu", st->cut ? "..." : "", (unsigned long long)st->line);
        if (b->fmt == READER_CSV)
            fprintf(stderr, " column %zu", index + 1);
    }
    if (col->n_text > STRAYS_SHOWN)
        fprintf(stderr, ", and %llu more", (unsigned long long)(col->n_text - STRAYS_SHOWN));
    /* a name the shell or JSON would need escaped gets no ready-made line */
    if (strpbrk(name, "\"'\\") == NULL && strlen(name) <= 100)
        fprintf(stderr,
                ". If it is numerical, say so: --schema '{\"features\": {\"%s\": "
                "\"numerical\"}}' (those values then count as missing)\n",
                name);
    else
        fputs(". If it is numerical, say so with --schema, the feature's kind \"numerical\" "
              "(those values then count as missing)\n",
              stderr);
}

/* Warn when a CSV header is one field holding a ';', tab or '|': the file
 * is most likely separated by that character, and the baseline would get
 * one categorical feature named after the whole header line. */
static void warn_one_field_header(const struct build *b, const struct reader *r)
{
    if (b->fmt != READER_CSV || reader_ncolumns(r) != 1 || reader_column_name(r, 0) == NULL)
        return;
    const char *name = reader_column_name(r, 0);
    /* the reader's sniffer, so that baseline and the inputs agree on what
     * looks like another separator */
    char sep = reader_sniff_delimiter(name, strlen(name), ',');
    if (sep == 0)
        return;
    const char *sep_name = sep == ';' ? "';'" : sep == '\t' ? "a tab" : "'|'";
    size_t len = strlen(name);
    if (len > 60)
        for (len = 60; len > 0 && ((unsigned char)name[len] & 0xC0) == 0x80; len--)
            ;
    fprintf(stderr, "driftd: %s: warning: the header is one field, \"", b->diag.file);
    for (size_t i = 0; i < len; i++)
        if (name[i] == '\t')
            fputs("\\t", stderr);
        else
            fputc(name[i], stderr);
    const char *option = sep == ';' ? "';'" : sep == '\t' ? "tab" : "'|'";
    fprintf(stderr,
            "%s\", that contains %s: the file looks separated by %s, but it was read with ',', "
            "so the baseline gets one categorical feature named after the whole line. Use "
            "--delimiter %s, or leave --delimiter out to read the header's separator (and give "
            "a column's kind with --schema where inference gets it wrong)\n",
            len < strlen(name) ? "..." : "", sep_name, sep_name, option);
}

static bool push_value(struct bcol *c, double v)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        double *p = realloc(c->vals, cap * sizeof(*p));
        if (p == NULL)
            return false;
        c->vals = p;
        c->cap = cap;
    }
    c->vals[c->n++] = v;
    return true;
}

/* Category id of text in column c, counting it; DICT_NONE on ENOMEM. */
static uint32_t push_category(struct bcol *c, const char *s, size_t len)
{
    if (c->cats == NULL && (c->cats = dict_new()) == NULL)
        return DICT_NONE;
    uint32_t id = dict_intern(c->cats, s, len, (size_t)-1, NULL);
    if (id == DICT_NONE)
        return id;
    if (id >= c->cap_cats) {
        size_t cap = c->cap_cats ? c->cap_cats * 2 : 64;
        uint64_t *p = realloc(c->cat_counts, cap * sizeof(*p));
        if (p == NULL)
            return DICT_NONE;
        memset(p + c->cap_cats, 0, (cap - c->cap_cats) * sizeof(*p));
        c->cat_counts = p;
        c->cap_cats = cap;
    }
    c->cat_counts[id]++;
    return id;
}

/* Pass 2: summaries of every row, and the sample. */
static void build_record(struct build *b, const struct reader_record *rec)
{
    size_t slot = stats_reservoir_offer(b->res);
    double *row = slot != STATS_RESERVOIR_DROP ? &b->slots[slot * b->ncols] : NULL;
    b->rows++;
    for (size_t i = 0; i < b->ncols; i++) {
        struct bcol *col = &b->cols[i];
        const struct cell *c =
            i < rec->ncells ? &rec->cells[i] : &(struct cell){CELL_MISSING, 0, NULL, 0};
        double v = NAN;
        if (col->ignored)
            continue;
        if (c->type == CELL_MISSING || (c->type == CELL_NUMBER && !isfinite(c->num))) {
            col->missing++;
        } else if (c->type == CELL_NESTED) {
            col->missing++;
            col->type_errors++;
            if (col->first_type_error_line == 0)
                col->first_type_error_line = rec->line;
        } else if (col->kind == STATS_NUMERICAL) {
            enum value_class vc = VALUE_NUMBER;
            if (c->type == CELL_NUMBER)
                v = c->num;
            else
                vc = value_parse(c->str, c->len, b->fmt == READER_CSV, &v);
            if (vc == VALUE_NUMBER) {
                if (!push_value(col, v))
                    b->oom = true;
            } else {
                v = NAN;
                col->missing++;
                if (vc == VALUE_TEXT) {
                    col->type_errors++;
                    if (col->first_type_error_line == 0)
                        col->first_type_error_line = rec->line;
                }
            }
        } else {
            char tmp[40];
            const char *s = c->str;
            size_t len = c->len;
            if (c->type == CELL_NUMBER) {
                len = (size_t)fmt_double(tmp, sizeof(tmp), c->num);
                s = tmp;
            }
            if (len == 0 || (b->fmt == READER_CSV && value_is_na_token(s, len))) {
                col->missing++;
            } else {
                uint32_t id = push_category(col, s, len);
                if (id == DICT_NONE)
                    b->oom = true;
                else
                    v = (double)id;
            }
        }
        if (row != NULL)
            row[i] = v;
    }
}

static void on_record(void *arg, const struct reader_record *rec)
{
    struct build *b = arg;
    if (b->pass == 1)
        infer_record(b, rec);
    else
        build_record(b, rec);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Turn one column's accumulations into a baseline feature. */
static bool finish_feature(struct build *b, size_t ci, const char *name, struct stats_bfeature *f,
                           size_t nsample)
{
    struct bcol *col = &b->cols[ci];
    if ((f->name = strdup(name)) == NULL)
        return false;
    f->kind = col->kind;
    f->missing = col->missing;
    f->min = f->max = f->mean = f->std = NAN;
    if (col->kind == STATS_NUMERICAL) {
        f->count = col->n;
        if (col->n > 0) {
            stats_sort(col->vals, col->n);
            double sum = 0, ss = 0;
            f->distinct = 1;
            for (size_t i = 0; i < col->n; i++) {
                sum += col->vals[i];
                if (i > 0 && col->vals[i] != col->vals[i - 1])
                    f->distinct++;
            }
            f->mean = sum / (double)col->n;
            for (size_t i = 0; i < col->n; i++)
                ss += (col->vals[i] - f->mean) * (col->vals[i] - f->mean);
            f->std = sqrt(ss / (double)col->n);
            f->min = col->vals[0];
            f->max = col->vals[col->n - 1];
        }
        if ((f->sample = malloc((nsample ? nsample : 1) * sizeof(double))) == NULL)
            return false;
        for (size_t r = 0; r < nsample; r++) {
            double v = b->slots[r * b->ncols + ci];
            if (isnan(v))
                f->sample_missing++;
            else
                f->sample[f->n_sample++] = v;
        }
        stats_sort(f->sample, f->n_sample);
        return true;
    }
    size_t k = col->cats != NULL ? dict_size(col->cats) : 0;
    f->n_cats = k;
    f->distinct = k;
    f->cats = calloc(k ? k : 1, sizeof(char *));
    f->cat_count = calloc(k ? k : 1, sizeof(uint64_t));
    f->cat_sample = calloc(k ? k : 1, sizeof(uint64_t));
    uint64_t *sample_by_id = calloc(k ? k : 1, sizeof(uint64_t));
    if (f->cats == NULL || f->cat_count == NULL || f->cat_sample == NULL || sample_by_id == NULL) {
        free(sample_by_id);
        return false;
    }
    for (size_t r = 0; r < nsample; r++) {
        double v = b->slots[r * b->ncols + ci];
        if (isnan(v))
            f->sample_missing++;
        else
            sample_by_id[(size_t)v]++;
    }
    for (size_t j = 0; j < k; j++)
        if ((f->cats[j] = strdup(dict_key(col->cats, (uint32_t)j, NULL))) == NULL) {
            free(sample_by_id);
            return false;
        }
    qsort(f->cats, k, sizeof(char *), cmp_str);
    for (size_t j = 0; j < k; j++) {
        uint32_t id = dict_get(col->cats, f->cats[j], strlen(f->cats[j]));
        f->cat_count[j] = col->cat_counts[id];
        f->cat_sample[j] = sample_by_id[id];
        f->count += f->cat_count[j];
    }
    free(sample_by_id);
    return true;
}

static void build_free(struct build *b)
{
    for (size_t i = 0; i < b->capcols; i++) {
        free(b->cols[i].vals);
        dict_free(b->cols[i].cats);
        free(b->cols[i].cat_counts);
    }
    free(b->cols);
    free(b->slots);
    stats_reservoir_free(b->res);
}

int build_baseline(const struct memfile *in, enum reader_format fmt, char delimiter,
                   const struct schema *schema, uint64_t max_sample, uint64_t seed,
                   struct stats_baseline **out, uint64_t *records_read)
{
    struct reader_limits lim = {0, 0, memfile_delimiter(in, fmt, delimiter)};
    struct build b = {.diag = {in->name, 0, 20, 0}, .fmt = fmt, .pass = 1};
    struct reader_ops ops = {on_column, on_record, on_error};
    int rc = -1;

    *out = NULL;
    struct reader *r = reader_new(fmt, &lim, &ops, &b);
    if (r == NULL)
        goto oom;
    reader_feed(r, in->data, in->len);
    reader_finish(r);
    diag_summary(&b.diag);
    if (records_read != NULL)
        *records_read = b.rows + b.skipped;
    if (b.oom)
        goto oom;
    warn_one_field_header(&b, r);
    if (b.rows == 0) {
        fprintf(stderr, "driftd: %s: no usable records%s\n", in->name,
                in->len == 0                                  ? " (the file is empty)"
                : fmt == READER_CSV && reader_ncolumns(r) > 0 ? " (only a header)"
                                                              : "");
        goto out;
    }
    size_t used = 0;
    for (size_t i = 0; i < b.ncols; i++) {
        struct bcol *c = &b.cols[i];
        if (c->ignored)
            continue;
        const char *name = reader_column_name(r, i);
        int k = schema_kind(schema, name);
        c->kind =
            k >= 0 ? (enum stats_kind)k : (c->numeric_ok ? STATS_NUMERICAL : STATS_CATEGORICAL);
        used++;
    }
    for (size_t i = 0; schema != NULL && i < schema->n; i++) {
        bool found = false;
        for (size_t j = 0; j < b.ncols && !found; j++)
            found = !b.cols[j].ignored && strcmp(reader_column_name(r, j), schema->names[i]) == 0;
        if (!found)
            fprintf(stderr, "driftd: %s: feature \"%s\" is not a column of %s (ignored)\n",
                    schema->path, schema->names[i], in->name);
    }
    if (used == 0) {
        fprintf(stderr, "driftd: %s: no usable columns\n", in->name);
        goto out;
    }

    /* Pass 2 with the kinds fixed; the reader reports nothing new. */
    reader_free(r);
    size_t nsample = b.rows < max_sample ? (size_t)b.rows : (size_t)max_sample;
    b.res = stats_reservoir_new(nsample, seed);
    b.slots = malloc(nsample * (b.ncols ? b.ncols : 1) * sizeof(double));
    b.max_sample = nsample;
    b.pass = 2;
    b.rows = 0;
    if (b.res == NULL || b.slots == NULL || (r = reader_new(fmt, &lim, &ops, &b)) == NULL)
        goto oom;
    reader_feed(r, in->data, in->len);
    reader_finish(r);
    if (b.oom)
        goto oom;

    struct stats_baseline *bl = calloc(1, sizeof(*bl));
    if (bl == NULL || (bl->features = calloc(used, sizeof(*bl->features))) == NULL) {
        free(bl);
        goto oom;
    }
    bl->rows = b.rows;
    bl->sample_rows = nsample;
    bl->max_sample = max_sample;
    bl->seed = seed;
    for (size_t i = 0; i < b.ncols; i++) {
        if (b.cols[i].ignored)
            continue;
        struct stats_bfeature *f = &bl->features[bl->nfeatures++];
        if (!finish_feature(&b, i, reader_column_name(r, i), f, nsample)) {
            stats_baseline_free(bl);
            goto oom;
        }
        if (f->kind == STATS_CATEGORICAL && schema_kind(schema, f->name) < 0 &&
            almost_numeric(&b.cols[i]))
            warn_strays(&b, &b.cols[i], f->name, i, f->n_cats);
        if (b.cols[i].type_errors > 0)
            fprintf(stderr,
                    "driftd: %s:%llu: feature \"%s\": %llu value%s not a number "
                    "(counted as missing; the first on this line)\n",
                    in->name, (unsigned long long)b.cols[i].first_type_error_line, f->name,
                    (unsigned long long)b.cols[i].type_errors,
                    b.cols[i].type_errors == 1 ? " is" : "s are");
    }
    *out = bl;
    rc = 0;
    goto out;
oom:
    fprintf(stderr, "driftd: %s: out of memory\n", in->name);
out:
    reader_free(r);
    build_free(&b);
    return rc;
}
