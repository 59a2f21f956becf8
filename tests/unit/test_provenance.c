/*
 * The provenance of a baseline (stats/baseline.h, stats/provenance.c): the
 * timestamp check, label keys and their order, the parse of the
 * "provenance" object with errors naming its key path, the round trip to
 * the same bytes, and a baseline written before provenance still loading.
 */
#include "lib/file.h"
#include "stats/baseline.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A small valid baseline; PROV is spliced in as its members before
 * "features" (",\n\"provenance\": {...}" or ""). */
static char *baseline_text(const char *prov)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_printf(&s,
                "{\"format\": \"driftd-baseline\", \"version\": 1, \"rows\": 3, "
                "\"sample_rows\": 3, \"max_sample\": 50000, \"seed\": 1%s,\n"
                "\"features\": [{\"name\": \"x\", \"kind\": \"numerical\", \"count\": 3, "
                "\"missing\": 0, \"distinct\": 3, \"sample_missing\": 0, \"min\": 1, \"max\": 3, "
                "\"mean\": 2, \"std\": 0.8, \"sample\": [1, 2, 3]}]}\n",
                prov);
    return sbuf_steal(&s, NULL);
}

#define SHA "9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355"

/* The provenance driftd baseline writes for that baseline, with members
 * replaced or added by the caller through printf arguments. */
static char *prov_text(const char *input_extra, const char *sample, const char *rest)
{
    struct sbuf s;
    sbuf_init(&s);
    sbuf_printf(&s,
                ",\n\"provenance\": {\"input\": {\"path\": \"train.csv\", \"sha256\": \"" SHA
                "\", \"bytes\": 40, \"rows\": 3, \"format\": \"csv\"%s}, \"sample\": %s, "
                "\"driftd_version\": \"0.1.0\"%s}",
                input_extra, sample, rest);
    return sbuf_steal(&s, NULL);
}

#define SAMPLE_OK "{\"max_sample\": 50000, \"seed\": 1, \"rows\": 3}"

/* Parse text; the error message in err ("" on success). */
static struct stats_baseline *parse(const char *text, char *err, size_t errlen)
{
    struct stats_baseline *b = NULL;
    err[0] = '\0';
    if (stats_baseline_parse(text, strlen(text), "t.json", &b, err, errlen) != 0)
        return NULL;
    return b;
}

/* The provenance of prov_text("", SAMPLE_OK, "") with the first `from`
 * replaced by `to` must not load, with a message matching re. */
static void expect_error(const char *from, const char *to, const char *re)
{
    char *prov = prov_text("", SAMPLE_OK, "");
    const char *at = strstr(prov, from);
    if (!CHECKF(at != NULL, "\"%s\" is not in the provenance", from)) {
        free(prov);
        return;
    }
    struct sbuf s;
    sbuf_init(&s);
    sbuf_add(&s, prov, (size_t)(at - prov));
    sbuf_adds(&s, to);
    sbuf_adds(&s, at + strlen(from));
    char *text = baseline_text(s.data), err[512];
    struct stats_baseline *b = parse(text, err, sizeof(err));
    CHECKF(b == NULL, "loaded, want an error /%s/: %s", re, s.data);
    CHECKF(tl_matches(err, re), "error \"%s\", want /%s/", err, re);
    stats_baseline_free(b);
    sbuf_free(&s);
    free(text);
    free(prov);
}

static void test_time_check(void)
{
    char why[200];
    const char *good[] = {"2026-12-04T10:00:00Z",        "2024-02-29T23:59:59Z",
                          "2000-02-29T00:00:00Z",        "2016-12-31T23:59:60Z",
                          "2026-12-04T10:00:00.123456Z", "1970-01-01T00:00:00Z"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECKF(stats_time_check(good[i], why, sizeof(why)), "%s: %s", good[i], why);
    const struct {
        const char *s, *re;
    } bad[] = {
        {"", "YYYY-MM-DD"},
        {"2026", "YYYY-MM-DD"},
        {"2026-12-04", "separated by T"},
        {"2026-12-04 10:00:00Z", "separated by T"},
        {"2026-12-04T10:00Z", "HH:MM:SS"},
        {"2026-13-04T10:00:00Z", "month 13"},
        {"2026-00-04T10:00:00Z", "month 00"},
        {"2025-02-29T10:00:00Z", "day 29 is not in 2025-02, which has 28 days"},
        {"1900-02-29T10:00:00Z", "day 29 is not in 1900-02"},
        {"2026-04-31T10:00:00Z", "has 30 days"},
        {"2026-12-04T24:00:00Z", "24:00:00 is not a time of day"},
        {"2026-12-04T10:60:00Z", "10:60:00"},
        {"2026-12-04T10:00:60Z", "10:00:60"},
        {"2026-12-04T10:00:00", "time zone is missing"},
        {"2026-12-04T10:00:00+01:00", "not UTC.*\\+01:00"},
        {"2026-12-04T10:00:00+00:00", "not UTC.*end the time with Z"},
        {"2026-12-04T10:00:00z", "not UTC"},
        {"2026-12-04T10:00:00.Z", "digits after the point"},
        {"2026-12-04T10:00:00Zjunk", "after the Z: \"junk\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        why[0] = '\0';
        CHECKF(!stats_time_check(bad[i].s, why, sizeof(why)), "\"%s\" accepted", bad[i].s);
        CHECKF(tl_matches(why, bad[i].re), "\"%s\": \"%s\", want /%s/", bad[i].s, why, bad[i].re);
    }
}

static void test_labels(void)
{
    CHECK(stats_label_key_valid("model_version", 13));
    CHECK(stats_label_key_valid("a.B-9_", 6));
    CHECK(!stats_label_key_valid("", 0));
    CHECK(!stats_label_key_valid("a b", 3));
    CHECK(!stats_label_key_valid("a=b", 3));
    CHECK(!stats_label_key_valid("é", strlen("é")));
    /* only the first len bytes count */
    CHECK(stats_label_key_valid("ab cd", 2));

    struct stats_provenance *p = calloc(1, sizeof(*p));
    CHECK(stats_provenance_add_label(p, "zeta", "1") == 0);
    CHECK(stats_provenance_add_label(p, "alpha", "2") == 0);
    CHECK(stats_provenance_add_label(p, "mid", "3") == 0);
    CHECK(stats_provenance_add_label(p, "alpha", "other") == 1);
    CHECK(p->nlabels == 3);
    struct sbuf s;
    sbuf_init(&s);
    stats_labels_json(p, &s);
    CHECKF(strcmp(s.data, "{\"alpha\": \"2\", \"mid\": \"3\", \"zeta\": \"1\"}") == 0, "%s",
           s.data);
    sbuf_reset(&s);
    stats_labels_json(NULL, &s);
    CHECKF(strcmp(s.data, "{}") == 0, "%s", s.data);
    sbuf_free(&s);
    stats_provenance_free(p);
}

/* A full provenance parses into the struct, the label helper finds its
 * labels, and it serialises and parses back to the same bytes. */
static void test_parse_round_trip(void)
{
    char *prov = prov_text("", SAMPLE_OK,
                           ", \"created_at\": \"2026-12-04T10:00:00Z\", \"labels\": "
                           "{\"model_version\": \"run-9001\", \"git_sha\": \"abc\\\"def\"}");
    char *text = baseline_text(prov), err[512];
    struct stats_baseline *b = parse(text, err, sizeof(err));
    if (!CHECKF(b != NULL, "%s", err))
        goto out;
    const struct stats_provenance *p = b->provenance;
    CHECK(p != NULL);
    CHECK(strcmp(p->input_path, "train.csv") == 0);
    CHECK(strcmp(p->input_sha256, SHA) == 0);
    CHECK(p->input_bytes == 40 && p->input_rows == 3);
    CHECK(strcmp(p->input_format, "csv") == 0);
    CHECK(p->max_sample == 50000 && p->seed == 1 && p->sample_rows == 3);
    CHECK(strcmp(p->driftd_version, "0.1.0") == 0);
    CHECK(p->created_at != NULL && strcmp(p->created_at, "2026-12-04T10:00:00Z") == 0);
    CHECK(p->nlabels == 2 && strcmp(p->labels[0].key, "git_sha") == 0);
    const char *mv = stats_baseline_label(b, "model_version");
    CHECK(mv != NULL && strcmp(mv, "run-9001") == 0);
    const char *gs = stats_baseline_label(b, "git_sha");
    CHECK(gs != NULL && strcmp(gs, "abc\"def") == 0);
    CHECK(stats_baseline_label(b, "nope") == NULL);

    size_t len1, len2;
    char *s1 = stats_baseline_serialize(b, &len1);
    struct stats_baseline *b2 = parse(s1, err, sizeof(err));
    CHECKF(b2 != NULL, "serialised baseline does not parse back: %s", err);
    char *s2 = b2 != NULL ? stats_baseline_serialize(b2, &len2) : NULL;
    CHECK(s2 != NULL && len1 == len2 && memcmp(s1, s2, len1) == 0);
    CHECKF(tl_matches(s1, "\"provenance\": \\{\"input\": \\{\"path\": \"train.csv\""), "%s", s1);
    /* the provenance comes before the features, labels sorted by key */
    CHECK(strstr(s1, "\"provenance\"") < strstr(s1, "\"features\""));
    CHECK(tl_matches(s1, "\"labels\": \\{\"git_sha\": \"abc\\\\\"def\", \"model_version\""));
    free(s2);
    free(s1);
    stats_baseline_free(b2);
    stats_baseline_free(b);

    /* without created_at and labels: none written back but "labels": {} */
    free(prov);
    free(text);
    prov = prov_text("", SAMPLE_OK, "");
    text = baseline_text(prov);
    b = parse(text, err, sizeof(err));
    if (!CHECKF(b != NULL, "%s", err))
        goto out;
    CHECK(b->provenance->created_at == NULL && b->provenance->nlabels == 0);
    CHECK(stats_baseline_label(b, "model_version") == NULL);
    s1 = stats_baseline_serialize(b, NULL);
    CHECK(strstr(s1, "created_at") == NULL);
    CHECK(strstr(s1, "\"labels\": {}") != NULL);
    free(s1);
    stats_baseline_free(b);
out:
    free(text);
    free(prov);
}

/* Each wrong shape is refused with the key path of what is wrong. */
static void test_parse_errors(void)
{
    char *text = baseline_text(",\n\"provenance\": []"), err[512];
    struct stats_baseline *b = parse(text, err, sizeof(err));
    CHECK(b == NULL && tl_matches(err, "^t.json: provenance: expected an object$"));
    free(text);

    expect_error("\"bytes\": 40", "\"bytes\": \"40\"",
                 "provenance.input.bytes: expected a non-negative integer");
    expect_error("\"rows\": 3", "\"rows\": 2.5",
                 "provenance.input.rows: expected a non-negative integer");
    expect_error("\"rows\": 3", "\"rows\": 2",
                 "provenance.input.rows: 2, fewer than the baseline's rows \\(3\\)");
    expect_error("\"csv\"", "\"xml\"", "provenance.input.format: expected \"csv\" or \"ndjson\"");
    expect_error("\"9cc1", "\"9CC1",
                 "provenance.input.sha256: expected a string of 64 lowercase hex digits");
    expect_error("\"" SHA "\"", "\"abc\"",
                 "provenance.input.sha256: expected a string of 64 lowercase hex digits");
    expect_error("\"train.csv\"", "7", "provenance.input.path: expected a string");
    expect_error(SAMPLE_OK, "[]", "provenance.sample: expected an object");
    expect_error(SAMPLE_OK, "{\"max_sample\": 50000, \"seed\": 1}",
                 "provenance.sample: missing key \"rows\"");
    expect_error(SAMPLE_OK, "{\"max_sample\": 50000, \"seed\": 2, \"rows\": 3}",
                 "provenance.sample.seed: 2, but the baseline's seed is 1");
    expect_error(SAMPLE_OK, "{\"max_sample\": 500, \"seed\": 1, \"rows\": 3}",
                 "provenance.sample.max_sample: 500, but the baseline's max_sample is 50000");
    expect_error(SAMPLE_OK, "{\"max_sample\": 50000, \"seed\": 1, \"rows\": 2}",
                 "provenance.sample.rows: 2, but the baseline's sample_rows is 3");
    expect_error("\"0.1.0\"", "null", "provenance.driftd_version: expected a string");
    expect_error("\"driftd_version\": \"0.1.0\"", "\"version_of_driftd\": \"0.1.0\"",
                 "provenance: missing key \"driftd_version\"");
    expect_error("\"0.1.0\"", "\"0.1.0\", \"created_at\": 1700000000",
                 "provenance.created_at: expected a string");
    expect_error("\"0.1.0\"", "\"0.1.0\", \"created_at\": \"2026-02-30T00:00:00Z\"",
                 "provenance.created_at: \"2026-02-30T00:00:00Z\": day 30 is not in 2026-02");
    expect_error("\"0.1.0\"", "\"0.1.0\", \"labels\": [\"a\"]",
                 "provenance.labels: expected an object of strings");
    expect_error("\"0.1.0\"", "\"0.1.0\", \"labels\": {\"model_version\": 9001}",
                 "provenance.labels.model_version: expected a string");
    expect_error("\"0.1.0\"", "\"0.1.0\", \"labels\": {\"bad key\": \"x\"}",
                 "provenance.labels: key \"bad key\" is not a label key");
    expect_error("\"0.1.0\"", "\"0.1.0\", \"labels\": {\"\": \"x\"}",
                 "provenance.labels: key \"\" is not a label key");
    expect_error("\"0.1.0\"", "\"0.1.0\", \"labels\": {\"a\": \"x\", \"a\": \"y\"}",
                 "provenance.labels.a: the key appears twice");
    /* a key from a file reaches a log only as printable text */
    expect_error("\"0.1.0\"", "\"0.1.0\", \"labels\": {\"a\\u001b[31m\\\"\": \"x\"}",
                 "provenance.labels: key \"a\\?\\[31m\\?\" is not a label key");
    expect_error("\"0.1.0\"",
                 "\"0.1.0\", \"labels\": {\"0123456789012345678901234567890123456789 \": \"x\"}",
                 "key \"01234567890123456789012345678901\"\\.\\.\\. is not a label key");

    /* the input object missing altogether */
    text = baseline_text(",\n\"provenance\": {\"sample\": " SAMPLE_OK
                         ", \"driftd_version\": \"0.1.0\"}");
    b = parse(text, err, sizeof(err));
    CHECKF(b == NULL && tl_matches(err, "provenance: missing key \"input\""), "%s", err);
    free(text);
}

/* Many labels in any order: sorted, each found, a repeat among them
 * refused. */
static void test_many_labels(void)
{
    struct sbuf prov;
    sbuf_init(&prov);
    sbuf_adds(&prov, ",\n\"provenance\": {\"input\": {\"path\": \"t\", \"sha256\": \"" SHA
                     "\", \"bytes\": 1, \"rows\": 3, \"format\": \"csv\"}, \"sample\": " SAMPLE_OK
                     ", \"driftd_version\": \"x\", \"labels\": {");
    for (int i = 2000; i > 0; i--)
        sbuf_printf(&prov, "%s\"k%05d\": \"v%d\"", i < 2000 ? ", " : "", i, i);
    size_t before_close = prov.len;
    sbuf_adds(&prov, "}}");
    char *text = baseline_text(prov.data), err[512];
    struct stats_baseline *b = parse(text, err, sizeof(err));
    if (CHECKF(b != NULL, "%s", err)) {
        CHECK(b->provenance->nlabels == 2000);
        bool sorted = true;
        for (size_t i = 1; i < b->provenance->nlabels; i++)
            sorted = sorted &&
                     strcmp(b->provenance->labels[i - 1].key, b->provenance->labels[i].key) < 0;
        CHECK(sorted);
        const char *v = stats_baseline_label(b, "k01234");
        CHECK(v != NULL && strcmp(v, "v1234") == 0);
    }
    stats_baseline_free(b);
    free(text);
    /* the same with one repeated */
    prov.len = before_close;
    sbuf_adds(&prov, ", \"k00777\": \"again\"}}");
    text = baseline_text(prov.data);
    b = parse(text, err, sizeof(err));
    CHECKF(b == NULL && tl_matches(err, "provenance.labels.k00777: the key appears twice"), "%s",
           err);
    stats_baseline_free(b);
    free(text);
    sbuf_free(&prov);
}

/* A baseline written before driftd recorded provenance (the iris example
 * as it was) still loads, without provenance, and is written back
 * without one. */
static void test_old_baseline(void)
{
    char path[512], err[512];
    size_t len;
    snprintf(path, sizeof(path), "%s/fixtures/baseline-before-provenance.json",
             DRIFTD_TEST_DATA_DIR);
    char *text = file_read(path, &len);
    if (!CHECKF(text != NULL, "%s: cannot read", path))
        return;
    CHECK(strstr(text, "provenance") == NULL);
    struct stats_baseline *b = NULL;
    CHECKF(stats_baseline_parse(text, len, path, &b, err, sizeof(err)) == 0, "%s", err);
    if (b != NULL) {
        CHECK(b->provenance == NULL);
        CHECK(b->rows == 150 && b->nfeatures == 5);
        CHECK(stats_baseline_label(b, "model_version") == NULL);
        size_t n;
        char *again = stats_baseline_serialize(b, &n);
        CHECK(again != NULL && n == len && memcmp(again, text, len) == 0);
        free(again);
    }
    stats_baseline_free(b);
    free(text);
}

int main(void)
{
    test_time_check();
    test_labels();
    test_parse_round_trip();
    test_parse_errors();
    test_many_labels();
    test_old_baseline();
    return tl_done();
}
