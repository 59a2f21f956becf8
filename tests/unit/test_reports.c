/*
 * End to end against the Python reference (scripts/reference_report.py:
 * pandas + scipy 1.10 + Evidently's formulas): for each case under
 * tests/golden/reports/, build the baseline from reference.csv, check
 * current.csv and current.ndjson with --all-metrics semantics, and compare
 * with expected.json within docs/statistics.md's tolerances. The CSV and NDJSON
 * reports must also be byte-identical.
 */
#include "agent/build.h"
#include "agent/dataset.h"
#include "agent/drift.h"
#include "agent/memfile.h"
#include "agent/reader.h"
#include "testlib.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The report of one current file, as driftd check --json --all-metrics. */
static char *report_of(const struct stats_baseline *b, const char *path, enum reader_format fmt)
{
    struct memfile in;
    if (memfile_open(&in, path) != 0)
        return NULL;
    struct dataset *ds = dataset_new(b);
    dataset_read(ds, in.data, in.len, fmt);
    struct drift_opts o;
    drift_opts_init(&o);
    o.all_metrics = true;
    struct report *rep = drift_evaluate(ds, &o);
    struct sbuf s;
    sbuf_init(&s);
    report_json(rep, true, &s);
    report_free(rep);
    dataset_free(ds);
    memfile_close(&in);
    return sbuf_steal(&s, NULL);
}

static bool is_p_key(const char *k)
{
    return k != NULL && strcmp(k, "p_value") == 0;
}

/* Compare got with want; path names the place for messages. */
static void compare(const cJSON *got, const cJSON *want, const char *path, const char *key,
                    const char *metric)
{
    char sub[512];
    if (cJSON_IsNumber(want)) {
        if (!CHECKF(cJSON_IsNumber(got), "%s: got %s, want a number", path,
                    got ? (cJSON_IsNull(got) ? "null" : "non-number") : "nothing"))
            return;
        double g = got->valuedouble, w = want->valuedouble;
        bool ok = is_p_key(key) ? fabs(g - w) <= 1e-9
                                : fabs(g - w) <= 1e-12 || fabs(g - w) <= 1e-9 * fabs(w);
        /* sqrt of a nearly cancelling sum: compare the squares (1e-12). */
        if (!ok && metric != NULL &&
            (strcmp(metric, "hellinger") == 0 || strcmp(metric, "jensen_shannon") == 0))
            ok = fabs(g * g - w * w) <= 1e-12;
        CHECKF(ok, "%s: got %.17g want %.17g", path, g, w);
        return;
    }
    if (cJSON_IsNull(want)) {
        CHECKF(cJSON_IsNull(got), "%s: want null", path);
        return;
    }
    if (cJSON_IsBool(want)) {
        CHECKF(cJSON_IsBool(got) && cJSON_IsTrue(got) == cJSON_IsTrue(want), "%s: want %s", path,
               cJSON_IsTrue(want) ? "true" : "false");
        return;
    }
    if (cJSON_IsString(want)) {
        CHECKF(cJSON_IsString(got) && strcmp(got->valuestring, want->valuestring) == 0,
               "%s: want \"%s\"", path, want->valuestring);
        return;
    }
    if (cJSON_IsArray(want)) {
        if (!CHECKF(cJSON_IsArray(got) && cJSON_GetArraySize(got) == cJSON_GetArraySize(want),
                    "%s: array sizes differ", path))
            return;
        for (int i = 0; i < cJSON_GetArraySize(want); i++) {
            snprintf(sub, sizeof(sub), "%s[%d]", path, i);
            const cJSON *wi = cJSON_GetArrayItem(want, i);
            const cJSON *name = cJSON_GetObjectItem(wi, "name");
            if (cJSON_IsString(name))
                snprintf(sub, sizeof(sub), "%s[%s]", path, name->valuestring);
            compare(cJSON_GetArrayItem(got, i), wi, sub, NULL, metric);
        }
        return;
    }
    const cJSON *e;
    cJSON_ArrayForEach(e, want)
    {
        snprintf(sub, sizeof(sub), "%s.%s", path, e->string);
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(got, e->string);
        CHECKF(g != NULL, "%s: missing", sub);
        if (g != NULL) {
            const char *m = metric;
            if (strstr(path, ".metrics") != NULL && metric == NULL)
                m = e->string;
            compare(g, e, sub, e->string, m);
        }
    }
    /* driftd may add "quality"; nothing else. */
    cJSON_ArrayForEach(e, got)
    {
        snprintf(sub, sizeof(sub), "%s.%s", path, e->string);
        CHECKF(cJSON_GetObjectItemCaseSensitive(want, e->string) != NULL ||
                   strcmp(e->string, "quality") == 0,
               "%s: not in the reference", sub);
    }
}

static void run_case(const char *dir, const char *name)
{
    char p[1024];
    struct memfile in;
    snprintf(p, sizeof(p), "%s/%s/reference.csv", dir, name);
    if (!CHECKF(memfile_open(&in, p) == 0, "%s: cannot open", p))
        return;
    struct stats_baseline *b = NULL;
    CHECKF(build_baseline(&in, READER_CSV, 0, NULL, 50000, 1, &b, NULL) == 0, "%s: baseline", name);
    memfile_close(&in);
    if (b == NULL)
        return;
    /* Round trip through the file format, as the CLI does. */
    size_t len;
    char *text = stats_baseline_serialize(b, &len), err[256];
    stats_baseline_free(b);
    CHECKF(stats_baseline_parse(text, len, name, &b, err, sizeof(err)) == 0, "%s: %s", name, err);
    free(text);

    snprintf(p, sizeof(p), "%s/%s/current.csv", dir, name);
    char *csv = report_of(b, p, READER_CSV);
    snprintf(p, sizeof(p), "%s/%s/current.ndjson", dir, name);
    char *nd = report_of(b, p, READER_NDJSON);
    CHECKF(csv != NULL && nd != NULL && strcmp(csv, nd) == 0, "%s: CSV and NDJSON reports differ",
           name);
    snprintf(p, sizeof(p), "golden/reports/%s/expected.json", name);
    cJSON *want = tl_load_json(p);
    cJSON *got = cJSON_Parse(csv);
    CHECKF(got != NULL, "%s: driftd's report is not JSON", name);
    compare(got, want, name, NULL, NULL);
    cJSON_Delete(want);
    cJSON_Delete(got);
    free(csv);
    free(nd);
    stats_baseline_free(b);
}

int main(void)
{
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/golden/reports", DRIFTD_TEST_DATA_DIR);
    DIR *dp = opendir(dir);
    if (dp == NULL) {
        perror(dir);
        return 2;
    }
    struct dirent *de;
    int cases = 0;
    while ((de = readdir(dp)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        run_case(dir, de->d_name);
        cases++;
    }
    closedir(dp);
    CHECKF(cases >= 10, "only %d report cases", cases);
    printf("%d report cases\n", cases);
    return tl_done();
}
