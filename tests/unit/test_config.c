/*
 * The configuration table: every row has help, a unique path and a reload
 * column that tells the truth about daemon_reload (which keys keep their
 * running value: config_keep_restart_keys); every default is valid by the
 * row's own checks; the error messages that list choices (tests, template
 * variables) list them all.
 */
#include "agent/config.h"
#include "alerts/secret.h"
#include "stats/evaluate.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One row of `driftd help config`, its cells without the Markdown. */
struct row {
    char path[96], type[96], def[96], range[96], reload[8], help[512];
};

/* Copy one cell, trimmed, with the backticks of the path column and the
 * escapes of a | dropped. */
static void cell(char *dst, size_t cap, const char *from, const char *to)
{
    while (from < to && *from == ' ')
        from++;
    while (to > from && to[-1] == ' ')
        to--;
    size_t n = 0;
    for (const char *p = from; p < to && n + 1 < cap; p++)
        if (*p != '`' && *p != '\\')
            dst[n++] = *p;
    dst[n] = '\0';
}

/* The rows of the reference the table prints; returns how many. */
static size_t read_reference(struct row *rows, size_t cap)
{
    char *text = NULL;
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&text, &len);
    config_print_reference(f);
    fclose(f);
    char *save = NULL;
    int line = 0;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save)) {
        if (line++ < 2 || n == cap) /* the head and its rule */
            continue;
        if (l[0] != '|') /* the table ended: the closed loop's prose follows */
            break;
        /* cells end at a | that is not escaped (enum values are "a \| b") */
        const char *bars[8];
        size_t nb = 0;
        for (char *p = l; *p && nb < 8; p++)
            if (*p == '|' && (p == l || p[-1] != '\\'))
                bars[nb++] = p;
        CHECKF(nb == 7, "reference line %d has %zu cells: %s", line, nb ? nb - 1 : 0, l);
        if (nb != 7)
            continue;
        struct row *r = &rows[n++];
        cell(r->path, sizeof(r->path), bars[0] + 1, bars[1]);
        cell(r->type, sizeof(r->type), bars[1] + 1, bars[2]);
        cell(r->def, sizeof(r->def), bars[2] + 1, bars[3]);
        cell(r->range, sizeof(r->range), bars[3] + 1, bars[4]);
        cell(r->reload, sizeof(r->reload), bars[4] + 1, bars[5]);
        cell(r->help, sizeof(r->help), bars[5] + 1, bars[6]);
    }
    free(text);
    return n;
}

/* The row of a path, or NULL. */
static const struct row *find_row(const struct row *rows, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].path, path) == 0)
            return &rows[i];
    return NULL;
}

/* The row a key belongs to ("inputs" for "inputs[].path", "features.overrides"
 * for "features.overrides.*.test", "drift" for "drift.alpha"), and how. */
enum parent_kind { TOP, IN_SECTION, IN_ARRAY, IN_MAP };
static enum parent_kind parent_of(const char *path, char *parent, size_t cap)
{
    const char *arr = strstr(path, "[]."), *map = strstr(path, ".*."), *dot = strrchr(path, '.');
    const char *end = arr ? arr : map ? map : dot;
    if (end == NULL)
        return TOP;
    snprintf(parent, cap, "%.*s", (int)(end - path), path);
    return arr ? IN_ARRAY : map ? IN_MAP : IN_SECTION;
}

/* Every row: help, a unique path, yes or no for reload; a member agrees
 * with its container, so the reload column can be trusted. */
static void test_table_rows(void)
{
    static struct row rows[200];
    size_t n = read_reference(rows, 200);
    CHECKF(n > 60, "%zu rows in the reference", n);
    for (size_t i = 0; i < n; i++) {
        const struct row *r = &rows[i];
        CHECKF(strlen(r->help) > 0, "%s: no help", r->path);
        CHECKF(strcmp(r->reload, "yes") == 0 || strcmp(r->reload, "no") == 0,
               "%s: reload is \"%s\"", r->path, r->reload);
        size_t twins = 0;
        for (size_t j = 0; j < i; j++)
            twins += strcmp(rows[j].path, r->path) == 0;
        CHECKF(twins == 0, "%s: %zu more rows", r->path, twins);
        char parent[96];
        enum parent_kind pk = parent_of(r->path, parent, sizeof(parent));
        if (pk == TOP)
            continue;
        const struct row *p = find_row(rows, n, parent);
        CHECKF(p != NULL, "%s: no row for its container %s", r->path, parent);
        if (p == NULL)
            continue;
        /* config_keep_restart_keys keeps or takes an array or a map whole */
        if (pk != IN_SECTION)
            CHECKF(strcmp(r->reload, p->reload) == 0, "%s: reload %s but %s says %s", r->path,
                   r->reload, parent, p->reload);
        else if (strcmp(r->reload, "yes") == 0)
            CHECKF(strcmp(p->reload, "yes") == 0, "%s: reload yes in section %s, which says no",
                   r->path, parent);
    }
    /* a section says no only when each of its keys does */
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].type, "object") != 0 || strcmp(rows[i].reload, "no") != 0)
            continue;
        size_t members = 0;
        for (size_t j = 0; j < n; j++) {
            char parent[96];
            if (parent_of(rows[j].path, parent, sizeof(parent)) == IN_SECTION &&
                strcmp(parent, rows[i].path) == 0)
                members++;
        }
        /* a map (no rows of its own) cannot be kept: its values have no offset */
        CHECKF(members > 0, "%s: a map marked reload no", rows[i].path);
    }
    /* What daemon_reload kept before the table drove it: the table must
     * say exactly that, or a reload would start keeping (or dropping) a
     * value it applied (or kept). */
    static const char *const restart[] = {
        "state_dir", "listen", "inputs", "inputs[].type", "inputs[].path", "inputs[].format",
        "inputs[].start", "inputs[].validate", "inputs[].delimiter", "inputs[].version_field",
        "inputs[].servers", "inputs[].stream", "inputs[].subject", "inputs[].durable",
        "inputs[].token_file", "inputs[].creds_file", "inputs[].max_ack_pending",
        "inputs[].ack_wait_seconds",
        /* the lease and buckets the replicas agree on */
        "lease_seconds", "kv", "kv.lease_bucket", "kv.state_bucket"};
    size_t nr = sizeof(restart) / sizeof(restart[0]), found = 0;
    for (size_t i = 0; i < n; i++) {
        bool want_no = false;
        for (size_t j = 0; j < nr; j++)
            want_no |= strcmp(rows[i].path, restart[j]) == 0;
        found += want_no;
        CHECKF(strcmp(rows[i].reload, want_no ? "no" : "yes") == 0, "%s: reload %s, expected %s",
               rows[i].path, rows[i].reload, want_no ? "no" : "yes");
    }
    CHECKF(found == nr, "%zu of %zu restart-only keys in the table", found, nr);
}

/* Where "a.b[].c.*.d" lands in a JSON document: the object that takes
 * the last name (copied to last). Every object and array on the way is
 * made; an array's element and the GitHub section hold what they require
 * besides the key. */
static cJSON *place(cJSON *root, const char *path, char *last, size_t cap)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", path);
    cJSON *at = root;
    char *save = NULL;
    char *part = strtok_r(buf, ".", &save);
    while (part != NULL) {
        char *next = strtok_r(NULL, ".", &save);
        if (next == NULL) {
            snprintf(last, cap, "%s", part);
            return at;
        }
        size_t len = strlen(part);
        bool arr = len > 2 && strcmp(part + len - 2, "[]") == 0;
        if (arr)
            part[len - 2] = '\0';
        cJSON *child = cJSON_GetObjectItemCaseSensitive(at, strcmp(part, "*") == 0 ? "f" : part);
        if (arr) {
            if (child == NULL) {
                child = cJSON_AddArrayToObject(at, part);
                cJSON *e = cJSON_CreateObject();
                if (strcmp(part, "inputs") == 0) {
                    cJSON_AddStringToObject(e, "type", "tail");
                    cJSON_AddStringToObject(e, "path", "/var/log/model.csv");
                } else {
                    cJSON_AddStringToObject(e, "type", "webhook");
                    cJSON_AddStringToObject(e, "url", "https://example.com/hook");
                }
                cJSON_AddItemToArray(child, e);
            }
            at = cJSON_GetArrayItem(child, 0);
        } else if (child != NULL) {
            at = child;
        } else {
            at = cJSON_AddObjectToObject(at, strcmp(part, "*") == 0 ? "f" : part);
            if (strcmp(part, "github") == 0) { /* its required keys */
                cJSON_AddStringToObject(at, "repository", "owner/repo");
                cJSON_AddStringToObject(at, "workflow", "retrain.yml");
            }
        }
        part = next;
    }
    return NULL;
}

/* The defaults: an empty file and one that has an element of every array
 * and map load without an error, and each default, written out as the
 * key's value, passes the key's own checks. */
static void test_defaults(void)
{
    struct config c;
    struct errlist errs = {0};
    CHECK(config_parse("{}", 2, "empty.json", &c, &errs) == 0 && errs.n == 0);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "  %s\n", errs.msgs[i]);
    errlist_free(&errs);
    CHECK(c.listen != NULL && strcmp(c.listen, "127.0.0.1:9107") == 0);
    CHECK(c.model != NULL && strcmp(c.model, "model") == 0);
    CHECK(c.window_records == 10000 && c.window_min_records == 500 && c.window_sample == 10000);
    CHECK(c.n_inputs == 1 && c.inputs[0].type == INPUT_HTTP);
    CHECK(c.n_sinks == 1 && c.sinks[0].type == SINK_LOG);
    CHECK(isnan(c.drift.drift.min_effect) && c.drift.method == STATS_TEST_AUTO);
    config_free(&c);

    const char *every =
        "{\"inputs\": [{\"type\": \"tail\", \"path\": \"/var/log/m.csv\"}],"
        " \"features\": {\"overrides\": {\"f\": {}}},"
        " \"alerts\": {\"sinks\": [{\"type\": \"webhook\", \"url\": \"http://h/\"}]},"
        " \"retrain\": {\"github\": {\"repository\": \"o/r\", \"workflow\": "
        "\"w.yml\"}}}";
    CHECK(config_parse(every, strlen(every), "every.json", &c, &errs) == 0 && errs.n == 0);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "  %s\n", errs.msgs[i]);
    errlist_free(&errs);
    CHECK(c.n_inputs == 1 && c.inputs[0].start == START_END &&
          c.inputs[0].validate == VALIDATE_FULL);
    CHECK(c.n_sinks == 1 && c.sinks[0].timeout_seconds == 10 && c.sinks[0].resend_seconds == 60 &&
          c.sinks[0].max_age == 86400);
    CHECK(c.drift.n_overrides == 1 && c.drift.overrides[0].test == STATS_TEST_AUTO &&
          isnan(c.drift.overrides[0].threshold));
    CHECK(c.github.enabled && strcmp(c.github.api_url, "https://api.github.com") == 0);
    /* the inputs the shipped retrain.yml declares: every variable but severity */
    static const char *const dispatched[] = {"model", "drifted_features", "drift_share",
                                             "window_end", "correlation_id"};
    CHECKF(c.github.n_inputs == 5, "%zu default dispatch inputs", c.github.n_inputs);
    for (size_t i = 0; i < 5 && i < c.github.n_inputs; i++) {
        char want[64];
        snprintf(want, sizeof(want), "${%s}", dispatched[i]);
        CHECKF(strcmp(c.github.inputs[i].name, dispatched[i]) == 0 &&
                   strcmp(c.github.inputs[i].value, want) == 0,
               "default dispatch input %zu: %s=%s", i, c.github.inputs[i].name,
               c.github.inputs[i].value);
    }
    config_free(&c);

    static struct row rows[200];
    size_t n = read_reference(rows, 200);
    size_t tried = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].def[0] == '\0')
            continue;
        cJSON *v = cJSON_Parse(rows[i].def);
        CHECKF(v != NULL, "%s: default %s is not JSON", rows[i].path, rows[i].def);
        if (v == NULL)
            continue;
        cJSON *root = cJSON_CreateObject();
        char last[64];
        cJSON_AddItemToObject(place(root, rows[i].path, last, sizeof(last)), last, v);
        char *text = cJSON_PrintUnformatted(root);
        int rc = config_parse(text, strlen(text), "default.json", &c, &errs);
        CHECKF(rc == 0 && errs.n == 0, "%s: its default %s: %s", rows[i].path, rows[i].def,
               errs.n > 0 ? errs.msgs[0] : "rejected");
        tried++;
        errlist_free(&errs);
        config_free(&c);
        free(text);
        cJSON_Delete(root);
    }
    CHECKF(tried > 40, "%zu defaults tried", tried);
}

/* Log lines written while a function runs: stderr goes to a file. */
struct capture {
    int saved;
    FILE *file;
};

static void capture_start(struct capture *cap)
{
    fflush(stderr);
    cap->file = tmpfile();
    cap->saved = dup(STDERR_FILENO);
    dup2(fileno(cap->file), STDERR_FILENO);
}

/* The captured text; free it. */
static char *capture_end(struct capture *cap)
{
    fflush(stderr);
    dup2(cap->saved, STDERR_FILENO);
    close(cap->saved);
    long len = ftell(cap->file);
    char *text = calloc(1, (size_t)(len > 0 ? len : 0) + 1);
    rewind(cap->file);
    if (text != NULL && len > 0 && fread(text, 1, (size_t)len, cap->file) != (size_t)len)
        text[0] = '\0';
    fclose(cap->file);
    return text;
}

/* How often what occurs in text. */
static size_t count_of(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* Parse a configuration that must be valid. */
static void parse_ok(const char *text, struct config *c)
{
    struct errlist errs = {0};
    CHECKF(config_parse(text, strlen(text), "reload.json", c, &errs) == 0, "%s: %s", text,
           errs.n > 0 ? errs.msgs[0] : "rejected");
    errlist_free(&errs);
}

#define RESTART_MSG(key) "reload: " key " changed; it takes effect at the next restart"

/* A reload keeps listen, state_dir and inputs, says so once for each that
 * changed, and takes every other key from the new file. */
static void test_keep_restart_keys(void)
{
    struct config run, next;
    parse_ok("{\"listen\": \"127.0.0.1:1000\", \"state_dir\": \"/tmp/a\", \"model\": \"m1\","
             " \"window\": {\"records\": 100, \"min_records\": 10},"
             " \"inputs\": [{\"type\": \"http\"}, {\"type\": \"tail\", \"path\": \"/a.csv\"}]}",
             &run);
    parse_ok("{\"listen\": \"127.0.0.1:2000\", \"state_dir\": \"/tmp/b\", \"model\": \"m2\","
             " \"window\": {\"records\": 200, \"min_records\": 10},"
             " \"alerts\": {\"sinks\": [{\"type\": \"webhook\", \"url\": \"http://h/\"}]},"
             " \"inputs\": [{\"type\": \"http\"}, {\"type\": \"tail\", \"path\": \"/b.csv\"}]}",
             &next);
    struct input_conf *running_inputs = run.inputs;
    struct capture cap;
    capture_start(&cap);
    config_keep_restart_keys(&run, &next);
    char *log = capture_end(&cap);
    CHECKF(count_of(log, RESTART_MSG("listen")) == 1, "log: %s", log);
    CHECKF(count_of(log, RESTART_MSG("state_dir")) == 1, "log: %s", log);
    CHECKF(count_of(log, RESTART_MSG("inputs")) == 1, "log: %s", log);
    CHECKF(count_of(log, "reload:") == 3, "log: %s", log);
    free(log);
    CHECK(strcmp(next.listen, "127.0.0.1:1000") == 0 && strcmp(next.state_dir, "/tmp/a") == 0);
    /* the same allocation: what points into the running inputs stays valid */
    CHECK(next.inputs == running_inputs && next.n_inputs == 2 &&
          strcmp(next.inputs[1].path, "/a.csv") == 0);
    /* running holds next's values: freeing both frees each once (ASan) */
    CHECK(strcmp(run.listen, "127.0.0.1:2000") == 0 && strcmp(run.inputs[1].path, "/b.csv") == 0);
    CHECK(strcmp(next.model, "m2") == 0 && next.window_records == 200);
    CHECK(next.n_sinks == 1 && next.sinks[0].type == SINK_WEBHOOK);
    config_free(&run);
    config_free(&next);

    /* nothing changed: nothing said */
    const char *same = "{\"listen\": \"127.0.0.1:1000\", \"inputs\": [{\"type\": \"tail\", "
                       "\"path\": \"/a.csv\", \"format\": \"ndjson\"}]}";
    parse_ok(same, &run);
    parse_ok(same, &next);
    capture_start(&cap);
    config_keep_restart_keys(&run, &next);
    log = capture_end(&cap);
    CHECKF(strstr(log, "reload:") == NULL, "log: %s", log);
    free(log);
    CHECK(strcmp(next.listen, "127.0.0.1:1000") == 0 && next.inputs[0].format == 1);
    config_free(&run);
    config_free(&next);

    /* each key of an input counts, and so does their number */
    static const char *const changed[] = {
        "[{\"type\": \"tail\", \"path\": \"/b.csv\"}]",
        "[{\"type\": \"tail\", \"path\": \"/a.csv\", \"format\": \"ndjson\"}]",
        "[{\"type\": \"tail\", \"path\": \"/a.csv\", \"start\": \"beginning\"}]",
        "[{\"type\": \"tail\", \"path\": \"/a.csv\", \"validate\": \"sampled\"}]",
        "[{\"type\": \"stdin\", \"format\": \"csv\"}]",
        "[{\"type\": \"tail\", \"path\": \"/a.csv\"}, {\"type\": \"http\"}]",
    };
    for (size_t i = 0; i < sizeof(changed) / sizeof(changed[0]); i++) {
        char text[256];
        parse_ok("{\"inputs\": [{\"type\": \"tail\", \"path\": \"/a.csv\"}]}", &run);
        snprintf(text, sizeof(text), "{\"inputs\": %s}", changed[i]);
        parse_ok(text, &next);
        capture_start(&cap);
        config_keep_restart_keys(&run, &next);
        log = capture_end(&cap);
        CHECKF(count_of(log, RESTART_MSG("inputs")) == 1 && count_of(log, "reload:") == 1,
               "inputs %s: log: %s", changed[i], log);
        CHECK(next.n_inputs == 1 && strcmp(next.inputs[0].path, "/a.csv") == 0);
        free(log);
        config_free(&run);
        config_free(&next);
    }
}

/* The choices an error lists are all the choices there are. */
static void test_error_lists(void)
{
    struct config c;
    struct errlist errs = {0};
    const char *bad = "{\"drift\": {\"method\": \"nope\"}}";
    CHECK(config_parse(bad, strlen(bad), "t.json", &c, &errs) != 0 && errs.n == 1);
    const char *msg = errs.n > 0 ? errs.msgs[0] : "";
    CHECKF(strcmp(msg, "t.json: drift.method: unknown test \"nope\" (auto, ks, wasserstein, "
                       "wasserstein_normed, energy_distance, cramer_von_mises, anderson, psi, "
                       "kl_div, jensen_shannon, hellinger, chisquare, z, tvd)") == 0,
           "message: %s", msg);
    for (int t = 0; t < STATS_TEST_COUNT; t++) {
        char name[64];
        snprintf(name, sizeof(name), " %s,", stats_test_info((enum stats_test)t)->name);
        if (t == STATS_TEST_COUNT - 1)
            snprintf(name, sizeof(name), " %s)", stats_test_info((enum stats_test)t)->name);
        CHECKF(strstr(msg, name) != NULL, "test %s not listed in: %s", name, msg);
    }
    errlist_free(&errs);
    config_free(&c);

    bad = "{\"retrain\": {\"github\": {\"repository\": \"o/r\", \"workflow\": \"w\", "
          "\"inputs\": {\"x\": \"${nope}\", \"y\": \"${severity} ${model}\"}}}}";
    CHECK(config_parse(bad, strlen(bad), "t.json", &c, &errs) != 0 && errs.n == 1);
    msg = errs.n > 0 ? errs.msgs[0] : "";
    CHECKF(strcmp(msg, "t.json: retrain.github.inputs.x: unknown variable ${nope} (known: "
                       "${model}, ${drifted_features}, ${drift_share}, ${window_end}, "
                       "${correlation_id}, ${severity})") == 0,
           "message: %s", msg);
    errlist_free(&errs);
    config_free(&c);

    /* a secret that cannot be read: one message, naming the key and file */
    unsetenv("CREDENTIALS_DIRECTORY");
    char *v = config_read_secret("/nonexistent/token", "auth.token_file", &errs, "t.json");
    CHECK(v == NULL && errs.n == 1);
    CHECKF(errs.n == 1 &&
               strcmp(errs.msgs[0], "t.json: auth.token_file: cannot read "
                                    "/nonexistent/token: No such file or directory") == 0,
           "message: %s", errs.n > 0 ? errs.msgs[0] : "");
    errlist_free(&errs);
}

/* Parse text that must fail; the messages, joined by "|", in *msgs (free). */
static size_t parse_errors(const char *text, char **msgs)
{
    struct config c;
    struct errlist errs = {0};
    int rc = config_parse(text, strlen(text), "t.json", &c, &errs);
    CHECKF(rc != 0, "accepted: %s", text);
    size_t cap = 1;
    for (size_t i = 0; i < errs.n; i++)
        cap += strlen(errs.msgs[i]) + 1;
    *msgs = calloc(1, cap);
    for (size_t i = 0; i < errs.n && *msgs != NULL; i++) {
        if (i > 0)
            strcat(*msgs, "|");
        strcat(*msgs, errs.msgs[i]);
    }
    size_t n = errs.n;
    errlist_free(&errs);
    config_free(&c);
    return n;
}

/* The one error of text is want, exactly. */
static void expect_error(const char *text, const char *want)
{
    char *got = NULL;
    size_t n = parse_errors(text, &got);
    CHECKF(n == 1 && got != NULL && strcmp(got, want) == 0, "%s\n  got:  %s\n  want: %s", text,
           got ? got : "", want);
    free(got);
}

/* An unknown key: file:line:column of its name, and the key of the table
 * it is closest to, in its own section first, else anywhere; a far name
 * gets no guess, a dotted one is told to nest. Positions follow the text
 * through nesting, arrays and repeated names. */
static void test_unknown_keys(void)
{
    expect_error("{\n  \"window\": {\"min_record\": 10}\n}",
                 "t.json:2:14: window.min_record: unknown key; did you mean "
                 "`window.min_records`?");
    expect_error("{\"windw\": {}}", "t.json:1:2: windw: unknown key; did you mean `window`?");
    expect_error("{\"Baseline\": \"b\"}",
                 "t.json:1:2: Baseline: unknown key; did you mean `baseline`?");
    expect_error("{\"window\": {\"recrods\": 5}}",
                 "t.json:1:13: window.recrods: unknown key; did you mean `window.records`?");
    /* the right name in the wrong section */
    expect_error("{\"min_records\": 5}",
                 "t.json:1:2: min_records: unknown key; did you mean `window.min_records`?");
    /* the same section first: drift.method, not features.overrides.*.test */
    expect_error("{\"drift\": {\"methd\": \"ks\"}}",
                 "t.json:1:12: drift.methd: unknown key; did you mean `drift.method`?");
    expect_error("{\"inputs\": [{\"type\": \"http\"}, {\"type\": \"stdin\", \"fromat\": \"csv\"}]}",
                 "t.json:1:49: inputs[1].fromat: unknown key; did you mean `inputs[1].format`?");
    expect_error("{\"features\": {\"overrides\": {\"x\": {\"treshold\": 1}}}}",
                 "t.json:1:35: features.overrides.x.treshold: unknown key; did you mean "
                 "`features.overrides.x.threshold`?");
    expect_error("{\"zzzzzzzz\": 1}", "t.json:1:2: zzzzzzzz: unknown key");
    /* a short name matches only a near twin: "ab" is not "auth" */
    expect_error("{\"ab\": 1}", "t.json:1:2: ab: unknown key");
    expect_error("{\"window.records\": 5}",
                 "t.json:1:2: window.records: unknown key; a dot does not nest sections: write "
                 "{\"window\": {\"records\": ...}}");
    /* a repeated key and keys inside strings, arrays and nested objects
     * before it do not shift the position */
    expect_error("{\"model\": \"a \\\"windw\\\": {\", \"inputs\": [{\"type\": \"http\"}],\n"
                 " \"model\": \"b\", \"auth\": {}, \"auth\": {},\n\t\"bogus\": [{\"x\": 1}]}",
                 "t.json:3:2: bogus: unknown key");
    /* a UTF-8 BOM (cJSON skips it) is no column; a UTF-8 name is one per character */
    char *got = NULL;
    const char *bom = "\xEF\xBB\xBF{\"\xC3\xA9t\xC3\xA9\": 1, \"windw\": 1}";
    parse_errors(bom, &got);
    CHECKF(got != NULL && strcmp(got, "t.json:1:2: \xC3\xA9t\xC3\xA9: unknown key|t.json:1:12: "
                                      "windw: unknown key; did you mean `window`?") == 0,
           "got: %s", got ? got : "");
    free(got);
}

/* A syntax error: file:line:column of the culprit (not where cJSON gave up,
 * one byte later), what was expected and what was found, the line and a
 * caret under the column; text after the object is one too. */
static void test_syntax_errors(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"{\n  \"window\": {\"records\": 10,}\n}",
         "t.json:2:28: invalid JSON: expected a key in double quotes after ',', found '}' (JSON "
         "allows no ',' before '}')\n"
         "  2 |   \"window\": {\"records\": 10,}\n"
         "    |                            ^"},
        {"{\"baseline\": \"b.json\"\n \"model\": \"m\"}",
         "t.json:2:2: invalid JSON: expected ',' or '}' after the value of \"baseline\", found "
         "'\"' (a ',' is missing before the next key)\n"
         "  2 |  \"model\": \"m\"}\n"
         "    |  ^"},
        {"{\"window\": {\"records\": 10\n\n",
         "t.json:1:26: invalid JSON: expected ',' or '}' after the value of \"records\", found "
         "the end of the file (the '{' at line 1, column 12 is not closed)\n"
         "  1 | {\"window\": {\"records\": 10\n"
         "    |                          ^"},
        {"{\"baseline\": \"b.json,\n \"model\": \"m\"}",
         "t.json:1:22: invalid JSON: expected '\"' to close the string that starts at line 1, "
         "column 14 (a string cannot span lines)\n"
         "  1 | {\"baseline\": \"b.json,\n"
         "    |                      ^"},
        {"{'baseline': 1}",
         "t.json:1:2: invalid JSON: expected a key in double quotes or '}', found a single "
         "quote (JSON strings take double quotes)\n"
         "  1 | {'baseline': 1}\n"
         "    |  ^"},
        {"{baseline: 1}",
         "t.json:1:2: invalid JSON: expected a key in double quotes or '}', found `baseline` (a "
         "key takes double quotes: \"baseline\")\n"
         "  1 | {baseline: 1}\n"
         "    |  ^"},
        {"{\"model\" \"m\"}", "t.json:1:10: invalid JSON: expected ':' after the key \"model\", "
                              "found '\"'\n"
                              "  1 | {\"model\" \"m\"}\n"
                              "    |          ^"},
        {"{\"retrain\": {\"dry_run\": True}}",
         "t.json:1:25: invalid JSON: expected a value for \"dry_run\", found `True` (JSON's "
         "literals are true, false and null, in lower case)\n"
         "  1 | {\"retrain\": {\"dry_run\": True}}\n"
         "    |                         ^"},
        {"{\"drift\": {\"alpha\": NaN}}",
         "t.json:1:21: invalid JSON: expected a value for \"alpha\", found `NaN` (JSON has no "
         "NaN or Infinity)\n"
         "  1 | {\"drift\": {\"alpha\": NaN}}\n"
         "    |                     ^"},
        {"{\n  // the model\n  \"model\": \"m\"}",
         "t.json:2:3: invalid JSON: expected a key in double quotes or '}', found '/' (JSON has "
         "no comments)\n"
         "  2 |   // the model\n"
         "    |   ^"},
        {"{\"inputs\": [{\"type\": \"http\"},]}",
         "t.json:1:30: invalid JSON: expected a value after ',', found ']' (JSON allows no ',' "
         "before ']')\n"
         "  1 | {\"inputs\": [{\"type\": \"http\"},]}\n"
         "    |                              ^"},
        {"{\"inputs\": [{\"type\": \"http\"} {\"type\": \"stdin\"}]}",
         "t.json:1:30: invalid JSON: expected ',' or ']' after element 0 of the array, found '{' "
         "(a ',' is missing between elements)\n"
         "  1 | {\"inputs\": [{\"type\": \"http\"} {\"type\": \"stdin\"}]}\n"
         "    |                              ^"},
        {"{\"baseline\": \"C:\\data\\b.json\"}",
         "t.json:1:17: invalid JSON: invalid escape in a string (JSON knows \\\" \\\\ \\/ \\b \\f "
         "\\n \\r \\t \\uXXXX: a backslash of a Windows path is written \\\\)\n"
         "  1 | {\"baseline\": \"C:\\data\\b.json\"}\n"
         "    |                 ^"},
        {"{\"model\": \"\\ud800x\"}",
         "t.json:1:12: invalid JSON: invalid \\u escape in a string (four hex digits; a "
         "surrogate pair for a character beyond U+FFFF)\n"
         "  1 | {\"model\": \"\\ud800x\"}\n"
         "    |            ^"},
        {"{\"window\": {\"records\": -}}",
         "t.json:1:24: invalid JSON: expected a value for \"records\", found '-' (not a number)\n"
         "  1 | {\"window\": {\"records\": -}}\n"
         "    |                        ^"},
        /* cJSON stops after the object: what follows was dropped unsaid */
        {"{\"model\": \"m\"}}\n",
         "t.json:1:15: invalid JSON: expected the end of the file after the top-level value, "
         "found '}' (one closing bracket too many?)\n"
         "  1 | {\"model\": \"m\"}}\n"
         "    |               ^"},
        {"{\"model\": \"a\"}\n{\"model\": \"b\"}",
         "t.json:2:1: invalid JSON: expected the end of the file after the top-level value, "
         "found '{'\n"
         "  2 | {\"model\": \"b\"}\n"
         "    | ^"},
        {" \n", "t.json:1:1: invalid JSON: the file is empty; expected a JSON object like "
                "{\"baseline\": \"baseline.json\"}\n"
                "  1 |  \n"
                "    | ^"},
        /* a tab stays a tab under the line, so the caret lines up */
        {"{\t\"model\": \"m\",\t}",
         "t.json:1:17: invalid JSON: expected a key in double quotes after ',', found '}' (JSON "
         "allows no ',' before '}')\n"
         "  1 | {\t\"model\": \"m\",\t}\n"
         "    |  \t             \t^"},
        /* a UTF-8 character is one column */
        {"{\"model\": \"\xC3\xA9\xC3\xA9\" x}",
         "t.json:1:16: invalid JSON: expected ',' or '}' after the value of \"model\", found `x`\n"
         "  1 | {\"model\": \"\xC3\xA9\xC3\xA9\" x}\n"
         "    |                ^"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect_error(cases[i].text, cases[i].want);

    /* a long line is cut around the column, the caret still under it */
    char text[400];
    snprintf(text, sizeof(text), "{\"model\": \"%0200d\", \"window\": {\"records\": 10,}}", 0);
    char *got = NULL;
    parse_errors(text, &got);
    const char *nl = got ? strchr(got, '\n') : NULL;
    const char *nl2 = nl ? strchr(nl + 1, '\n') : NULL;
    CHECKF(nl != NULL && nl2 != NULL && strstr(got, "t.json:1:240: ") == got, "got: %s",
           got ? got : "");
    if (nl != NULL && nl2 != NULL) {
        const char *at = strstr(nl, ",}"), *caret = strchr(nl2, '^');
        CHECKF(at != NULL && caret != NULL && caret - nl2 == at + 1 - nl && nl2 - nl < 120 &&
                   strncmp(nl, "\n  1 | ...", 10) == 0,
               "excerpt: %s", nl);
    }
    free(got);

    /* a text deeper than cJSON nests */
    char deep[2100];
    memset(deep, '[', 1001);
    snprintf(deep + 1001, sizeof(deep) - 1001, "%s", "");
    char *d = NULL;
    char obj[2200];
    snprintf(obj, sizeof(obj), "{\"model\": %s}", deep);
    parse_errors(obj, &d);
    CHECKF(d != NULL && strstr(d, "invalid JSON: nested deeper than 1000 levels") != NULL,
           "got: %s", d ? d : "");
    free(d);
}

/* Write text to a file in dir; its path (free). */
static char *write_file(const char *dir, const char *name, const char *text)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECKF(f != NULL, "cannot write %s", path);
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* Load a file; its errors joined by "|" (free). */
static char *load_errors(const char *path)
{
    struct config c;
    struct errlist errs = {0};
    config_load(path, &c, &errs);
    size_t cap = 1;
    for (size_t i = 0; i < errs.n; i++)
        cap += strlen(errs.msgs[i]) + 1;
    char *all = calloc(1, cap);
    for (size_t i = 0; i < errs.n && all != NULL; i++) {
        if (i > 0)
            strcat(all, "|");
        strcat(all, errs.msgs[i]);
    }
    errlist_free(&errs);
    config_free(&c);
    return all;
}

/* What run, validate and a reload need: config_load names a missing
 * `baseline` beside the file's other errors, and a baseline it cannot read
 * by key and configuration file; config_parse (the table alone) and
 * `check --config` (config_load_drift_opts) do without. */
static void test_baseline_required(void)
{
    char *dir = tl_tmpdir("config");
    char buf[1024], *got;
    char *p = write_file(dir, "nobase.json", "{\"model\": \"m\",\n \"windw\": {}}");
    got = load_errors(p);
    snprintf(buf, sizeof(buf),
             "%s:2:2: windw: unknown key; did you mean `window`?|%s: baseline: missing; run, "
             "validate and a reload need it (the path of the file `driftd baseline` wrote)",
             p, p);
    CHECKF(got != NULL && strcmp(got, buf) == 0, "got:  %s\nwant: %s", got ? got : "", buf);
    free(got);
    struct drift_opts o;
    drift_opts_init(&o);
    struct capture cap;
    capture_start(&cap);
    int rc = config_load_drift_opts(p, &o);
    char *said = capture_end(&cap);
    CHECKF(rc != 0 && strstr(said, "baseline") == NULL, "check --config: %s", said);
    free(said);
    free(p);
    p = write_file(dir, "ok.json", "{\"model\": \"m\"}");
    capture_start(&cap);
    rc = config_load_drift_opts(p, &o);
    said = capture_end(&cap);
    CHECKF(rc == 0 && said[0] == '\0', "check --config without baseline: %s", said);
    free(said);
    drift_opts_clear(&o);
    free(p);

    p = write_file(dir, "gone.json", "{\"baseline\": \"/nonexistent/base.json\"}");
    got = load_errors(p);
    snprintf(buf, sizeof(buf),
             "%s: baseline: cannot read \"/nonexistent/base.json\": No such file or directory; "
             "`driftd baseline -i TRAINING_DATA -o /nonexistent/base.json` writes it",
             p);
    CHECKF(got != NULL && strcmp(got, buf) == 0, "got:  %s\nwant: %s", got ? got : "", buf);
    free(got);
    free(p);

    /* a directory is no baseline either */
    snprintf(buf, sizeof(buf), "{\"baseline\": \"%s\"}", dir);
    p = write_file(dir, "dir.json", buf);
    got = load_errors(p);
    snprintf(buf, sizeof(buf), "%s: baseline: cannot read \"%s\": Is a directory", p, dir);
    CHECKF(got != NULL && strcmp(got, buf) == 0, "got:  %s\nwant: %s", got ? got : "", buf);
    free(got);
    free(p);

    /* and a readable one is all it takes */
    char *b = write_file(dir, "base.json", "{}");
    snprintf(buf, sizeof(buf), "{\"baseline\": \"%s\"}", b);
    p = write_file(dir, "good.json", buf);
    got = load_errors(p);
    CHECKF(got != NULL && got[0] == '\0', "got: %s", got ? got : "");
    free(got);
    free(p);
    free(b);

    /* a relative name says where it was looked for: the directory of the
     * configuration (here the current one), and the command names the
     * resolved path */
    struct config c;
    struct errlist errs = {0};
    CHECK(config_parse("{\"baseline\": \"rel.json\"}", 24, "r.json", &c, &errs) == 0);
    config_baseline_error(&c, ENOENT, &errs);
    char cwd[512];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    snprintf(buf, sizeof(buf),
             "r.json: baseline: cannot read \"rel.json\" (relative to %s): No such file or "
             "directory; `driftd baseline -i TRAINING_DATA -o %s/rel.json` writes it",
             cwd, cwd);
    CHECKF(errs.n == 1 && strcmp(errs.msgs[0], buf) == 0, "got: %s",
           errs.n > 0 ? errs.msgs[0] : "");
    errlist_free(&errs);
    config_free(&c);
    tl_tmpdir_remove(dir);
}

/* str == want, or a check naming what (and both values) fails. */
static void expect_str(const char *what, const char *str, const char *want)
{
    CHECKF(str != NULL && strcmp(str, want) == 0, "%s: got \"%s\", want \"%s\"", what,
           str ? str : "(null)", want);
}

/* "dir/name" in buf. */
static const char *in_dir(char *buf, size_t cap, const char *dir, const char *name)
{
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

/* Every path key of a file resolves from the file's directory, not the
 * current one; an absolute path stays; a relative configuration path has
 * an absolute directory; a secret is taken from $CREDENTIALS_DIRECTORY
 * first (as NAME or driftd_NAME), then from the file's directory; the
 * reference says so in each path key's help. */
static void test_relative_paths(void)
{
    char *dir = tl_tmpdir("config-paths");
    char sub[600], creds[600], buf[1024], want[1024];
    snprintf(sub, sizeof(sub), "%s/conf", dir);
    snprintf(creds, sizeof(creds), "%s/creds", dir);
    CHECK(mkdir(sub, 0700) == 0 && mkdir(creds, 0700) == 0);
    const char *text =
        "{\"baseline\": \"base.json\", \"state_dir\": \"./state\","
        " \"auth\": {\"token_file\": \"ingest-token\"},"
        " \"inputs\": [{\"type\": \"tail\", \"path\": \"logs/in.csv\"},"
        " {\"type\": \"tail\", \"path\": \"/var/log/abs.csv\"}],"
        " \"alerts\": {\"sinks\": [{\"type\": \"slack\", \"url_file\": \"slack-url\","
        " \"ca_file\": \"../ca.pem\"}]},"
        " \"retrain\": {\"github\": {\"repository\": \"o/r\", \"workflow\": \"w.yml\","
        " \"token_file\": \"github-token\", \"ca_file\": \"/etc/ssl/ca.pem\"}}}";
    char *p = write_file(sub, "driftd.json", text);
    char *b = write_file(sub, "base.json", "{}");
    free(write_file(sub, "github-token", "from the configuration's directory\n"));
    free(write_file(creds, "ingest-token", "from the credentials\n"));
    free(write_file(creds, "driftd_slack-url", "https://hooks.example.com/x\n"));

    /* not from the current directory (the build's tests directory) */
    unsetenv("CREDENTIALS_DIRECTORY");
    struct config c;
    struct errlist errs = {0};
    int rc = config_load(p, &c, &errs);
    CHECKF(rc == 0 && errs.n == 0, "%s", errs.n > 0 ? errs.msgs[0] : "");
    errlist_free(&errs);
    expect_str("dir", c.dir, sub);
    expect_str("baseline", c.baseline, b);
    expect_str("state_dir", c.state_dir, in_dir(want, sizeof(want), sub, "state"));
    expect_str("auth.token_file", c.token_file, in_dir(want, sizeof(want), sub, "ingest-token"));
    CHECK(c.n_inputs == 2);
    if (c.n_inputs == 2) {
        expect_str("inputs[0].path", c.inputs[0].path,
                   in_dir(want, sizeof(want), sub, "logs/in.csv"));
        expect_str("inputs[1].path", c.inputs[1].path, "/var/log/abs.csv");
    }
    CHECK(c.n_sinks == 1);
    if (c.n_sinks == 1) {
        expect_str("url_file", c.sinks[0].url_file, in_dir(want, sizeof(want), sub, "slack-url"));
        expect_str("sinks ca_file", c.sinks[0].ca_file,
                   in_dir(want, sizeof(want), sub, "../ca.pem"));
    }
    expect_str("github.token_file", c.github.token_file,
               in_dir(want, sizeof(want), sub, "github-token"));
    expect_str("github.ca_file", c.github.ca_file, "/etc/ssl/ca.pem");
    /* the secret is read from there, wherever driftd runs */
    char *v = config_read_secret(c.github.token_file, "retrain.github.token_file", &errs, p);
    expect_str("github token", v, "from the configuration's directory");
    secret_free(v);
    /* a name left relative (a caller's own) follows the same rule */
    v = config_read_secret("github-token", "retrain.github.token_file", &errs, p);
    expect_str("github token by name", v, "from the configuration's directory");
    secret_free(v);
    CHECKF(errs.n == 0, "%s", errs.n > 0 ? errs.msgs[0] : "");
    errlist_free(&errs);
    config_free(&c);

    /* systemd's credentials first: NAME, then driftd_NAME; a name the
     * directory lacks still comes from the configuration's directory */
    setenv("CREDENTIALS_DIRECTORY", creds, 1);
    rc = config_load(p, &c, &errs);
    CHECKF(rc == 0 && errs.n == 0, "%s", errs.n > 0 ? errs.msgs[0] : "");
    errlist_free(&errs);
    expect_str("auth.token_file (credential)", c.token_file,
               in_dir(want, sizeof(want), creds, "ingest-token"));
    if (c.n_sinks == 1)
        expect_str("url_file (credential)", c.sinks[0].url_file,
                   in_dir(want, sizeof(want), creds, "driftd_slack-url"));
    expect_str("github.token_file (no credential)", c.github.token_file,
               in_dir(want, sizeof(want), sub, "github-token"));
    /* not secrets: never from the credentials */
    expect_str("baseline (credentials set)", c.baseline, b);
    v = config_read_secret(c.token_file, "auth.token_file", &errs, p);
    expect_str("ingest token", v, "from the credentials");
    secret_free(v);
    v = config_read_secret("ingest-token", "auth.token_file", &errs, p);
    expect_str("ingest token by name", v, "from the credentials");
    secret_free(v);
    errlist_free(&errs);
    config_free(&c);
    unsetenv("CREDENTIALS_DIRECTORY");

    /* a secret that is nowhere: the error shows the path it tried */
    free(p);
    p = write_file(sub, "gone.json",
                   "{\"baseline\": \"base.json\", \"auth\": {\"token_file\": \"no-token\"}}");
    CHECK(config_load(p, &c, &errs) == 0);
    config_check_secrets(&c, &errs);
    snprintf(want, sizeof(want),
             "%s: auth.token_file: cannot read %s/no-token: No such file or directory", p, sub);
    CHECKF(errs.n == 1 && strcmp(errs.msgs[0], want) == 0, "got:  %s\nwant: %s",
           errs.n > 0 ? errs.msgs[0] : "", want);
    errlist_free(&errs);
    config_free(&c);

    /* a relative configuration path: its directory made absolute (and
     * clean: "../x/conf", not "CWD/../x/conf") */
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(chdir(creds) == 0);
    CHECK(config_load("../conf/driftd.json", &c, &errs) == 0);
    CHECK(chdir(cwd) == 0);
    errlist_free(&errs);
    char *real = realpath(sub, NULL);
    expect_str("dir of ../conf/driftd.json", c.dir, real);
    expect_str("baseline of ../conf/driftd.json", c.baseline,
               in_dir(want, sizeof(want), real ? real : "", "base.json"));
    config_free(&c);
    /* and a file in the current directory */
    CHECK(chdir(sub) == 0);
    CHECK(config_load("driftd.json", &c, &errs) == 0);
    CHECK(chdir(cwd) == 0);
    errlist_free(&errs);
    expect_str("baseline of driftd.json", c.baseline,
               in_dir(want, sizeof(want), real ? real : "", "base.json"));
    config_free(&c);
    free(real);

    /* a relative baseline that cannot be read: as written, the directory it
     * was looked in, and the resolved path in the command that writes it */
    free(p);
    p = write_file(sub, "nobase.json", "{\"baseline\": \"models/base.json\"}");
    char *got = load_errors(p);
    snprintf(buf, sizeof(buf),
             "%s: baseline: cannot read \"models/base.json\" (relative to %s): No such file or "
             "directory; `driftd baseline -i TRAINING_DATA -o %s/models/base.json` writes it",
             p, sub, sub);
    CHECKF(got != NULL && strcmp(got, buf) == 0, "got:  %s\nwant: %s", got ? got : "", buf);
    free(got);

    /* each path key's help says how it resolves, and its type is path */
    static struct row rows[200];
    size_t n = read_reference(rows, 200);
    static const char *const file_keys[] = {"baseline",
                                            "state_dir",
                                            "inputs[].path",
                                            "inputs[].creds_file",
                                            "alerts.sinks[].ca_file",
                                            "retrain.github.ca_file"};
    static const char *const secret_keys[] = {"auth.token_file", "inputs[].token_file",
                                              "alerts.sinks[].url_file",
                                              "retrain.github.token_file"};
    size_t n_path = 0;
    for (size_t i = 0; i < n; i++) {
        bool is_file = false, is_secret = false;
        for (size_t j = 0; j < sizeof(file_keys) / sizeof(file_keys[0]); j++)
            is_file |= strcmp(rows[i].path, file_keys[j]) == 0;
        for (size_t j = 0; j < sizeof(secret_keys) / sizeof(secret_keys[0]); j++)
            is_secret |= strcmp(rows[i].path, secret_keys[j]) == 0;
        bool typed = strcmp(rows[i].type, "path") == 0;
        n_path += typed;
        CHECKF(typed == (is_file || is_secret), "%s: type %s", rows[i].path, rows[i].type);
        if (is_file)
            CHECKF(strstr(rows[i].help, "Relative: from this file's directory.") != NULL,
                   "%s: help does not say how it resolves: %s", rows[i].path, rows[i].help);
        if (is_secret)
            CHECKF(strstr(rows[i].help, "Relative: $CREDENTIALS_DIRECTORY") != NULL &&
                       strstr(rows[i].help, "else this file's directory") != NULL,
                   "%s: help does not say how it resolves: %s", rows[i].path, rows[i].help);
    }
    CHECKF(n_path == 10, "%zu rows of type path", n_path);
    free(p);
    free(b);
    tl_tmpdir_remove(dir);
}

int main(void)
{
    test_table_rows();
    test_defaults();
    test_keep_restart_keys();
    test_error_lists();
    test_unknown_keys();
    test_syntax_errors();
    test_baseline_required();
    test_relative_paths();
    return tl_done();
}
