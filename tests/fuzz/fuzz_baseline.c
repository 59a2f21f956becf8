/*
 * libFuzzer target: the baseline parser and writer (stats/baseline.c).
 * Whatever parses must obey what baseline.h promises (sorted samples and
 * categories, counts that add up, a provenance that agrees with the
 * baseline and has sorted, unique, valid labels), serialise, parse back, and serialise to
 * the same bytes. What does not parse must say why, within the buffer given
 * for the message, however small.
 */
#include "stats/baseline.h"

#include "fuzz_check.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The promises of struct stats_baseline, checked field by field. */
static void check_baseline(const struct stats_baseline *b)
{
    FUZZ_CHECK(b->nfeatures > 0 && b->features != NULL);
    FUZZ_CHECK(b->sample_rows <= b->rows);
    for (size_t i = 0; i < b->nfeatures; i++) {
        const struct stats_bfeature *f = &b->features[i];
        FUZZ_CHECK(f->name != NULL && f->name[0] != '\0');
        FUZZ_CHECK(stats_baseline_find(b, f->name) == (int)i);
        FUZZ_CHECK(f->count + f->missing == b->rows);
        uint64_t in_sample = f->sample_missing;
        if (f->kind == STATS_NUMERICAL) {
            FUZZ_CHECK(f->n_sample <= f->count);
            FUZZ_CHECK(f->count == 0 || f->min <= f->max);
            for (size_t j = 0; j < f->n_sample; j++) {
                FUZZ_CHECK(isfinite(f->sample[j]));
                FUZZ_CHECK(j == 0 || f->sample[j - 1] <= f->sample[j]);
            }
            in_sample += f->n_sample;
        } else {
            FUZZ_CHECK(f->kind == STATS_CATEGORICAL);
            uint64_t total = 0;
            for (size_t j = 0; j < f->n_cats; j++) {
                FUZZ_CHECK(f->cats[j] != NULL);
                FUZZ_CHECK(j == 0 || strcmp(f->cats[j - 1], f->cats[j]) < 0);
                FUZZ_CHECK(f->cat_sample[j] <= f->cat_count[j]);
                FUZZ_CHECK(stats_bfeature_find_cat(f, f->cats[j], strlen(f->cats[j])) == (long)j);
                total += f->cat_count[j];
                in_sample += f->cat_sample[j];
            }
            FUZZ_CHECK(total == f->count);
        }
        FUZZ_CHECK(in_sample == b->sample_rows);
    }
    const struct stats_provenance *p = b->provenance;
    if (p == NULL)
        return;
    /* the provenance's promises: what it records agrees with the baseline,
     * labels are valid, sorted and unique, the time is one */
    char why[200];
    FUZZ_CHECK(p->input_path != NULL && p->input_format != NULL && p->driftd_version != NULL);
    FUZZ_CHECK(strlen(p->input_sha256) == SHA256_HEX_LEN);
    FUZZ_CHECK(p->input_rows >= b->rows);
    FUZZ_CHECK(p->max_sample == b->max_sample && p->seed == b->seed &&
               p->sample_rows == b->sample_rows);
    FUZZ_CHECK(p->created_at == NULL || stats_time_check(p->created_at, why, sizeof(why)));
    for (size_t i = 0; i < p->nlabels; i++) {
        const char *k = p->labels[i].key;
        FUZZ_CHECK(stats_label_key_valid(k, strlen(k)) && p->labels[i].value != NULL);
        FUZZ_CHECK(i == 0 || strcmp(p->labels[i - 1].key, k) < 0);
        FUZZ_CHECK(stats_baseline_label(b, k) == p->labels[i].value);
    }
}

/* Total order on doubles by value, -0 before +0, so both sides sort alike. */
static int cmp_total(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (x != y)
        return x < y ? -1 : 1;
    return (signbit(y) != 0) - (signbit(x) != 0);
}

static void sort_total(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_total);
}

/* baseline.c reads "sample" arrays with its own scanner before cJSON sees
 * the text. Whenever cJSON can read the same text, every numerical
 * feature's first "sample" member must be an array holding exactly the
 * values parsed (cJSON itself gives up on numbers over 63 characters, which
 * the scanner reads correctly: then there is nothing to compare with). */
static void check_against_cjson(const uint8_t *data, size_t size, const struct stats_baseline *b)
{
    cJSON *root = cJSON_ParseWithLength((const char *)data, size);
    if (root == NULL)
        return;
    const cJSON *jfs = cJSON_GetObjectItemCaseSensitive(root, "features");
    FUZZ_CHECK(cJSON_IsArray(jfs) && cJSON_GetArraySize(jfs) == (int)b->nfeatures);
    size_t i = 0;
    const cJSON *jf;
    cJSON_ArrayForEach(jf, jfs)
    {
        const struct stats_bfeature *f = &b->features[i++];
        if (f->kind != STATS_NUMERICAL)
            continue;
        const cJSON *js = cJSON_GetObjectItemCaseSensitive(jf, "sample");
        if (!cJSON_IsArray(js) || cJSON_GetArraySize(js) != (int)f->n_sample) {
            fprintf(stderr, "features[%zu].sample: %zu values parsed, cJSON reads %s\n", i - 1,
                    f->n_sample, cJSON_IsArray(js) ? "an array of another size" : "no array");
            abort();
        }
        double *want = malloc((f->n_sample + 1) * sizeof(double));
        double *got = malloc((f->n_sample + 1) * sizeof(double));
        FUZZ_CHECK(want != NULL && got != NULL);
        size_t k = 0;
        const cJSON *v;
        cJSON_ArrayForEach(v, js)
        {
            FUZZ_CHECK(cJSON_IsNumber(v));
            want[k++] = v->valuedouble;
        }
        memcpy(got, f->sample, f->n_sample * sizeof(double));
        sort_total(want, f->n_sample);
        sort_total(got, f->n_sample);
        FUZZ_CHECK(memcmp(want, got, f->n_sample * sizeof(double)) == 0);
        free(want);
        free(got);
    }
    cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stats_baseline *b = NULL, *b2 = NULL;
    char err[256];

    /* The text as a caller hands it in: not NUL-terminated. */
    memset(err, 0x55, sizeof(err));
    if (stats_baseline_parse((const char *)data, size, "fuzz.json", &b, err, sizeof(err)) != 0) {
        FUZZ_CHECK(b == NULL);
        FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
        FUZZ_CHECK(strncmp(err, "fuzz.json:", 10) == 0 && err[10] != '\0');
        /* A message cut to a tiny buffer stays terminated inside it. */
        char small[8];
        memset(small, 0x55, sizeof(small));
        FUZZ_CHECK(stats_baseline_parse((const char *)data, size, "fuzz.json", &b, small + 1, 6) !=
                   0);
        FUZZ_CHECK(memchr(small + 1, '\0', 6) != NULL && small[0] == 0x55 && small[7] == 0x55);
        return 0;
    }
    FUZZ_CHECK(b != NULL);
    check_baseline(b);
    check_against_cjson(data, size, b);

    size_t len1 = 0, len2 = 0;
    char *s1 = stats_baseline_serialize(b, &len1);
    FUZZ_CHECK(s1 != NULL && strlen(s1) == len1);
    if (stats_baseline_parse(s1, len1, "round-trip", &b2, err, sizeof(err)) != 0) {
        fprintf(stderr, "serialised baseline does not parse back: %s\n%s\n", err, s1);
        abort();
    }
    check_baseline(b2);
    char *s2 = stats_baseline_serialize(b2, &len2);
    FUZZ_CHECK(s2 != NULL);
    if (len1 != len2 || memcmp(s1, s2, len1) != 0) {
        fprintf(stderr, "round trip changed the baseline:\n--- first\n%s\n--- second\n%s\n", s1,
                s2);
        abort();
    }
    /* Same baseline, same bytes: serialising again is deterministic. */
    char *s3 = stats_baseline_serialize(b, NULL);
    FUZZ_CHECK(s3 != NULL && strcmp(s1, s3) == 0);
    free(s3);
    free(s2);
    free(s1);
    stats_baseline_free(b2);
    stats_baseline_free(b);
    return 0;
}
