/*
 * The configuration table: every row has help, a unique path and a reload
 * column that tells the truth about daemon_reload (which keys keep their
 * running value: config_keep_restart_keys); every default is valid by the
 * row's own checks; the error messages that list choices (tests, template
 * variables) list them all.
 */
#include "agent/config.h"
#include "stats/evaluate.h"
#include "testlib.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    static const char *const restart[] = {"state_dir",      "listen",           "inputs",
                                          "inputs[].type",  "inputs[].path",    "inputs[].format",
                                          "inputs[].start", "inputs[].validate"};
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

int main(void)
{
    test_table_rows();
    test_defaults();
    test_keep_restart_keys();
    test_error_lists();
    return tl_done();
}
