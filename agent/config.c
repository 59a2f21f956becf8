/*
 * Table-driven configuration (Fluent Bit's config map, Redis' config.c):
 * every key is one row {path, type, default, where it lands, reloadable,
 * help}. Loading walks the JSON, finds each key's row, converts and checks
 * the value, and collects every error with the key's path (OpenSMTPD's
 * `smtpd -n`: report them all, then stop).
 */
#include "agent/config.h"

#include "lib/file.h"
#include "lib/log.h"
#include "lib/sbuf.h"
#include "agent/reader.h"
#include "alerts/github.h"
#include "alerts/secret.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <event2/http.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum ktype {
    K_OBJECT, /* a section: its members are keys of their own */
    K_STRING,
    K_UINT,       /* integer >= min */
    K_DURATION,   /* seconds: number or "5m" */
    K_NUMBER,     /* real in [min, max] */
    K_OPT_NUMBER, /* null (NAN) or a real in [min, max] */
    K_BOOL,
    K_ENUM,    /* one of `values` ("a|b|c"), stored as its index */
    K_TEST,    /* a test name or "auto" */
    K_STRLIST, /* array of strings: char ** at offset, size_t at offset2 */
    K_ARRAY,   /* array of objects of another base */
    K_MAP      /* object of user-named members */
};

enum kbase { B_CONFIG, B_INPUT, B_SINK, B_OVERRIDE };

/* A string that names a file: resolved at load, so that the same file
 * means the same thing whatever directory driftd is started from. */
enum kpath {
    P_NONE,  /* not a path */
    P_FILE,  /* relative: from the configuration file's directory */
    P_SECRET /* relative: $CREDENTIALS_DIRECTORY first (systemd LoadCredential), then as P_FILE */
};

struct ckey {
    const char *path;
    enum ktype type;
    enum kbase base;     /* the struct the value lands in */
    size_t offset;       /* of the value in base */
    size_t offset2;      /* lists and arrays: of their count (size_t) */
    enum kbase elem;     /* arrays: the base of their elements */
    const char *def;     /* default, as JSON text (NULL: none) */
    double min, max;     /* numbers: the allowed range */
    const char *values;  /* enums: "a|b|c" */
    bool reload;         /* a reload may change it */
    enum kpath pathkind; /* strings: whether and how it is a path */
    const char *help;
};

/* The reload column: a reload applies the new value, or the running one
 * stays until a restart. */
#define RELOAD true
#define RESTART false

/* Where a value lands: its base and the offset in it. */
#define C(f) .base = B_CONFIG, .offset = offsetof(struct config, f)
#define I(f) .base = B_INPUT, .offset = offsetof(struct input_conf, f)
#define S(f) .base = B_SINK, .offset = offsetof(struct sink_conf, f)
#define O(f) .base = B_OVERRIDE, .offset = offsetof(struct feature_override, f)
/* A list or array of struct config and its count. */
#define CN(f, n) C(f), .offset2 = offsetof(struct config, n)
#define IN(f, n) I(f), .offset2 = offsetof(struct input_conf, n)

/* One macro per type, so that a row says what it is and names only the
 * fields its type uses (Redis' createStringConfig and friends). */
/* clang-format off */
#define SECTION(p, rl, h) \
    {.path = p, .type = K_OBJECT, .base = B_CONFIG, .reload = rl, .help = h}
#define STR_KEY(p, at, d, rl, h) \
    {.path = p, .type = K_STRING, at, .def = d, .reload = rl, .help = h}
#define PATH_KEY(p, at, rl, h) \
    {.path = p, .type = K_STRING, at, .reload = rl, .pathkind = P_FILE, .help = h}
#define SECRET_KEY(p, at, rl, h) \
    {.path = p, .type = K_STRING, at, .reload = rl, .pathkind = P_SECRET, .help = h}
#define UINT_KEY(p, at, d, lo, hi, rl, h) \
    {.path = p, .type = K_UINT, at, .def = d, .min = lo, .max = hi, .reload = rl, .help = h}
#define DURATION_KEY(p, at, d, lo, hi, rl, h) \
    {.path = p, .type = K_DURATION, at, .def = d, .min = lo, .max = hi, .reload = rl, .help = h}
#define NUMBER_KEY(p, at, d, lo, hi, rl, h) \
    {.path = p, .type = K_NUMBER, at, .def = d, .min = lo, .max = hi, .reload = rl, .help = h}
#define OPT_NUMBER_KEY(p, at, d, lo, hi, rl, h) \
    {.path = p, .type = K_OPT_NUMBER, at, .def = d, .min = lo, .max = hi, .reload = rl, .help = h}
#define BOOL_KEY(p, at, d, rl, h) \
    {.path = p, .type = K_BOOL, at, .def = d, .reload = rl, .help = h}
#define ENUM_KEY(p, at, vals, d, rl, h) \
    {.path = p, .type = K_ENUM, at, .values = vals, .def = d, .reload = rl, .help = h}
#define TEST_KEY(p, at, d, rl, h) \
    {.path = p, .type = K_TEST, at, .def = d, .reload = rl, .help = h}
#define STRLIST_KEY(p, at, d, rl, h) \
    {.path = p, .type = K_STRLIST, at, .def = d, .reload = rl, .help = h}
#define ARRAY_KEY(p, at, el, d, rl, h) \
    {.path = p, .type = K_ARRAY, at, .elem = el, .def = d, .reload = rl, .help = h}
/* A map's members are user-named: where they land is the loader's business. */
#define MAP_KEY(p, b, rl, h) \
    {.path = p, .type = K_MAP, .base = b, .reload = rl, .help = h}
/* clang-format on */

#define BIG 1e300
/* Ranges (the table's min/max), chosen so that every value converts to
 * time_t, size_t and timeval without overflow and no allocation sized by a
 * count can exhaust memory: a duration of 10 years is never meant, 1e19 s
 * spun the window timer and 1e300 s overflowed Alertmanager's resend timer. */
#define TEN_YEARS 315360000.0 /* 3650 days */
#define MAX_RECORDS 1e12      /* records per window: counted, not stored */
#define MAX_COUNT 1e6         /* windows in a row, reservoir rows (x features x 9 bytes) */
#define MAX_BODY 1073741824.0 /* 1 GiB: evhttp buffers a whole body */

/* The ${...} variables of retrain.github.inputs, listed once: the key's
 * help, the check of a template and the default inputs (those the shipped
 * retrain.yml declares: all but severity) come from this list. X(name,
 * by_default). alerts/github.c expands them. */
#define TEMPLATE_VARS(X) GITHUB_TEMPLATE_VARS(X) /* the one list, beside github_expand */
#define TEMPLATE_HELP(name, by_default) "${" #name "} "
#define TEMPLATE_ROW(name, by_default) {#name, by_default},

static const struct template_var {
    const char *name;
    bool by_default; /* one of the inputs when the file gives none */
} template_vars[] = {TEMPLATE_VARS(TEMPLATE_ROW)};

#define N_TEMPLATE_VARS (sizeof(template_vars) / sizeof(template_vars[0]))

/* How a relative path resolves, said in each path key's help. */
#define REL_FILE " Relative: from this file's directory."
#define REL_SECRET                                                                                 \
    " Relative: $CREDENTIALS_DIRECTORY (systemd LoadCredential) if it holds the file, else this "  \
    "file's directory."

static const struct ckey keys[] = {
    STR_KEY("model", C(model), "\"model\"", RELOAD,
            "Model name: the `model` label of metrics and alerts."),
    PATH_KEY("baseline", C(baseline), RELOAD,
             "Path of the baseline written by `driftd baseline` (required by `run`)." REL_FILE),
    PATH_KEY("state_dir", C(state_dir), RESTART,
             "Directory for state, spool and dead letters." REL_FILE
             " Default: $STATE_DIRECTORY, else driftd-state in the current directory."),
    STR_KEY("listen", C(listen), "\"127.0.0.1:9107\"", RESTART,
            "HOST:PORT of the HTTP API (port 0: any free port, logged at start)."),
    UINT_KEY("max_body_bytes", C(max_body_bytes), "8388608", 1, MAX_BODY, RELOAD,
             "Largest accepted request body; larger ones get 413."),
    UINT_KEY("listen_max_connections", C(listen_max_connections), "0", 0, MAX_COUNT, RELOAD,
             "Most HTTP connections open at once; at the cap the oldest idle one is closed, else "
             "accept() waits. 0: the soft RLIMIT_NOFILE less 64 (kept for spool, state, sinks)."),
    DURATION_KEY("listen_header_timeout", C(listen_header_timeout), "10", 0.1, 3600, RELOAD,
                 "Seconds a connection has to send a request's head; then it is closed."),
    DURATION_KEY("listen_idle_timeout", C(listen_idle_timeout), "60", 1, 86400, RELOAD,
                 "Seconds an HTTP connection may stay idle (or stalled) before it is closed."),
    SECTION("auth", RELOAD, "Authentication of POSTs."),
    SECRET_KEY("auth.token_file", C(token_file), RELOAD,
               "File holding the bearer token POSTs must carry." REL_SECRET),
    ARRAY_KEY("inputs", CN(inputs, n_inputs), B_INPUT, "[{\"type\": \"http\"}]", RESTART,
              "Where records come from."),
    ENUM_KEY("inputs[].type", I(type), "http|tail|stdin|nats", NULL, RESTART,
             "Input kind (required). nats: a durable JetStream consumer; replicas of one model "
             "then share a lease and their state (docs/scale-out.md)."),
    PATH_KEY("inputs[].path", I(path), RESTART, "File to follow (tail; required)." REL_FILE),
    ENUM_KEY("inputs[].format", I(format), "csv|ndjson", NULL, RESTART,
             "Record format of a tail or stdin input (default: from the file name, else ndjson)."),
    ENUM_KEY(
        "inputs[].delimiter", I(delimiter), ",|;|tab|pipe|:", NULL, RESTART,
        "CSV field separator: \",\", \";\", \"tab\", \"pipe\" or \":\" (default \",\"; an http "
        "input also reads a body's header: one with no comma but a semicolon, tab or pipe "
        "is read with that, and ?delimiter= chooses per request)."),
    ENUM_KEY("inputs[].start", I(start), "end|beginning", "\"end\"", RESTART,
             "Where a tail input starts the first time it sees a file."),
    ENUM_KEY("inputs[].validate", I(validate), "full|sampled", "\"full\"", RESTART,
             "full: parse and check every record. sampled: parse only the records the window keeps "
             "and count the others by their line, unchecked (NDJSON: HTTP bodies, tail and stdin; "
             "the 202 answer says how many were checked). CSV is always checked in full."),
    STR_KEY("inputs[].version_field", I(version_field), NULL, RESTART,
            "Name of the field that carries the model version of each record (for "
            "retrain.adopt.mode on_version); not a feature."),
    STRLIST_KEY("inputs[].servers", IN(servers, n_servers), "[\"nats://127.0.0.1:4222\"]", RESTART,
                "nats: URLs of the NATS servers (any of the cluster's)."),
    STR_KEY("inputs[].stream", I(stream), "\"PREDICTIONS\"", RESTART,
            "nats: the JetStream stream holding the records."),
    STR_KEY("inputs[].subject", I(subject), "\"predictions.${model}\"", RESTART,
            "nats: the subject consumed (${model}: the model's name)."),
    STR_KEY("inputs[].durable", I(durable), "\"driftd-${model}\"", RESTART,
            "nats: the durable consumer's name, shared by the model's replicas (${model})."),
    SECRET_KEY("inputs[].token_file", I(token_file), RESTART,
               "nats: file holding the token to connect with." REL_SECRET),
    PATH_KEY("inputs[].creds_file", I(creds_file), RESTART,
             "nats: user credentials file (JWT and NKey seed)." REL_FILE),
    UINT_KEY("inputs[].max_ack_pending", I(max_ack_pending), "100000", 1, 1e9, RESTART,
             "nats: messages delivered and not yet acknowledged, at most (a message is "
             "acknowledged once the window holding it is evaluated and its outcome kept)."),
    DURATION_KEY(
        "inputs[].ack_wait_seconds", I(ack_wait_seconds), "0", 0, TEN_YEARS, RESTART,
        "nats: how long the server waits for an acknowledgement before it delivers a "
        "message again (0: window.seconds plus a margin of max(30, window.seconds/2); else at "
        "least 2)."),
    SECTION("features", RELOAD, "Which features, which tests."),
    STRLIST_KEY("features.include", CN(drift.include, drift.n_include), "[]", RELOAD,
                "Features to evaluate (empty: all of the baseline)."),
    STRLIST_KEY("features.exclude", CN(drift.exclude, drift.n_exclude), "[]", RELOAD,
                "Features never evaluated."),
    MAP_KEY("features.overrides", B_CONFIG, RELOAD,
            "Per-feature settings: {\"name\": {\"test\": ..., \"threshold\": ...}}."),
    TEST_KEY("features.overrides.*.test", O(test), "\"auto\"", RELOAD,
             "Test of this feature (a metric name, or auto)."),
    OPT_NUMBER_KEY("features.overrides.*.threshold", O(threshold), "null", 0, BIG, RELOAD,
                   "Threshold of this feature's test (null: the test's default)."),
    OPT_NUMBER_KEY("features.overrides.*.missing_rate", O(quality[Q_MISSING]), "null", 0, 1, RELOAD,
                   "Drift when the missing rate exceeds this."),
    OPT_NUMBER_KEY("features.overrides.*.type_error_rate", O(quality[Q_TYPE_ERROR]), "null", 0, 1,
                   RELOAD, "Drift when the type-error rate exceeds this."),
    OPT_NUMBER_KEY("features.overrides.*.unseen_rate", O(quality[Q_UNSEEN]), "null", 0, 1, RELOAD,
                   "Drift when the unseen-category rate exceeds this."),
    OPT_NUMBER_KEY("features.overrides.*.out_of_range_rate", O(quality[Q_OUT_OF_RANGE]), "null", 0,
                   1, RELOAD, "Drift when the out-of-range rate exceeds this."),
    SECTION("window", RELOAD, "Evaluation windows."),
    UINT_KEY("window.records", C(window_records), "10000", 1, MAX_RECORDS, RELOAD,
             "A window closes after this many records..."),
    DURATION_KEY("window.seconds", C(window_seconds), "300", 0.001, TEN_YEARS, RELOAD,
                 "...or after this long, whichever comes first."),
    UINT_KEY("window.min_records", C(window_min_records), "500", 1, MAX_RECORDS, RELOAD,
             "A window with fewer records is extended instead of evaluated."),
    UINT_KEY("window.sample", C(window_sample), "10000", 1, MAX_COUNT, RELOAD,
             "Records kept per window (uniform reservoir): memory does not grow with traffic; it "
             "is allocated at start, 9 bytes per record and feature."),
    SECTION("history", RELOAD, "The windows' history (GET /v1/history, the live page at GET /)."),
    UINT_KEY("history.keep", C(history_keep), "2000", 10, 100000, RELOAD,
             "Windows kept, newest first, in memory and in state_dir/history.ndjson (which holds "
             "at most twice as many lines before it is rewritten with these)."),
    SECTION("drift", RELOAD, "The drift decision."),
    TEST_KEY("drift.method", C(drift.method), "\"auto\"", RELOAD,
             "Test of every feature without an override (auto: Evidently's rule)."),
    NUMBER_KEY("drift.drift_share", C(drift.drift.drift_share), "0.5", 0, 1, RELOAD,
               "Dataset drift when this share of features drifts."),
    ENUM_KEY("drift.correction", C(drift.drift.correction), "none|bonferroni|fdr", "\"none\"",
             RELOAD, "Multiple-testing correction of the p-value tests."),
    NUMBER_KEY("drift.alpha", C(drift.drift.alpha), "0.05", 0, 1, RELOAD,
               "Level of the correction."),
    OPT_NUMBER_KEY("drift.min_effect", C(drift.drift.min_effect), "null", 0, BIG, RELOAD,
                   "Effect floor for p-value tests: wasserstein_normed (numerical) or tvd "
                   "(categorical) must reach it."),
    SECTION("drift.quality", RELOAD, "Data-quality thresholds for every feature."),
    OPT_NUMBER_KEY("drift.quality.missing_rate", C(drift.quality[Q_MISSING]), "null", 0, 1, RELOAD,
                   "Drift when a feature's missing rate exceeds this."),
    OPT_NUMBER_KEY("drift.quality.type_error_rate", C(drift.quality[Q_TYPE_ERROR]), "null", 0, 1,
                   RELOAD, "Drift when a feature's type-error rate exceeds this."),
    OPT_NUMBER_KEY("drift.quality.unseen_rate", C(drift.quality[Q_UNSEEN]), "null", 0, 1, RELOAD,
                   "Drift when a categorical feature's unseen rate exceeds this."),
    OPT_NUMBER_KEY("drift.quality.out_of_range_rate", C(drift.quality[Q_OUT_OF_RANGE]), "null", 0,
                   1, RELOAD, "Drift when a numerical feature's out-of-range rate exceeds this."),
    SECTION("alerts", RELOAD, "Alerting."),
    UINT_KEY("alerts.resolve_after", C(resolve_after), "1", 1, MAX_COUNT, RELOAD,
             "Clean windows before a firing alert resolves."),
    DURATION_KEY("alerts.repeat_seconds", C(repeat_seconds), "14400", 1, TEN_YEARS, RELOAD,
                 "A firing alert is sent again this often."),
    ARRAY_KEY("alerts.sinks", CN(sinks, n_sinks), B_SINK, "[{\"type\": \"log\"}]", RELOAD,
              "Where alerts go."),
    ENUM_KEY("alerts.sinks[].type", S(type), "log|webhook|slack|alertmanager", NULL, RELOAD,
             "Sink kind (required)."),
    STR_KEY("alerts.sinks[].url", S(url), NULL, RELOAD,
            "Receiver URL (webhook, slack, alertmanager base URL)."),
    SECRET_KEY("alerts.sinks[].url_file", S(url_file), RELOAD,
               "File holding the URL, for URLs that embed a secret (Slack)." REL_SECRET),
    MAP_KEY("alerts.sinks[].headers", B_SINK, RELOAD, "Extra HTTP headers (webhook)."),
    PATH_KEY("alerts.sinks[].ca_file", S(ca_file), RELOAD,
             "CA bundle for TLS verification." REL_FILE),
    DURATION_KEY("alerts.sinks[].resend_seconds", S(resend_seconds), "60", 1, TEN_YEARS, RELOAD,
                 "Alertmanager: re-post firing alerts this often."),
    DURATION_KEY("alerts.sinks[].timeout_seconds", S(timeout_seconds), "10", 0.1, 600, RELOAD,
                 "Request timeout."),
    DURATION_KEY("alerts.sinks[].max_age", S(max_age), "86400", 1, TEN_YEARS, RELOAD,
                 "Give up retrying after this long (into dead-letter/)."),
    SECTION("retrain", RELOAD, "Retraining on drift."),
    SECTION("retrain.github", RELOAD, "GitHub Actions workflow_dispatch."),
    STR_KEY("retrain.github.api_url", C(github.api_url), "\"https://api.github.com\"", RELOAD,
            "API base (GitHub Enterprise Server: https://HOST/api/v3)."),
    STR_KEY("retrain.github.repository", C(github.repository), NULL, RELOAD,
            "owner/repo (required)."),
    STR_KEY("retrain.github.workflow", C(github.workflow), NULL, RELOAD,
            "Workflow file name or id (required)."),
    STR_KEY("retrain.github.ref", C(github.ref), "\"main\"", RELOAD, "Branch or tag to run."),
    SECRET_KEY("retrain.github.token_file", C(github.token_file), RELOAD,
               "File with a token having Actions: write (else $DRIFTD_GITHUB_TOKEN)." REL_SECRET),
    MAP_KEY(
        "retrain.github.inputs", B_CONFIG, RELOAD,
        "workflow_dispatch inputs, with " TEMPLATE_VARS(TEMPLATE_HELP) "expanded (at most 25)."),
    STR_KEY("retrain.github.api_version", C(github.api_version), "\"2022-11-28\"", RELOAD,
            "X-GitHub-Api-Version header."),
    PATH_KEY("retrain.github.ca_file", C(github.ca_file), RELOAD,
             "CA bundle for TLS verification." REL_FILE),
    DURATION_KEY("retrain.github.timeout_seconds", C(github.timeout_seconds), "30", 0.1, 600,
                 RELOAD, "Request timeout."),
    UINT_KEY("retrain.consecutive", C(retrain_consecutive), "2", 1, MAX_COUNT, RELOAD,
             "Windows of dataset drift in a row before a dispatch."),
    DURATION_KEY("retrain.cooldown_seconds", C(retrain_cooldown), "86400", 0, TEN_YEARS, RELOAD,
                 "Least time between two dispatches (survives restarts)."),
    DURATION_KEY("retrain.follow_seconds", C(retrain_follow), "30", 1, 86400, RELOAD,
                 "How often the dispatched run is polled until it completes."),
    BOOL_KEY("retrain.dry_run", C(retrain_dry_run), "false", RELOAD,
             "Log the exact request instead of sending it."),
    SECTION("retrain.adopt", RELOAD,
            "Closing the loop: fetch the baseline the retrain run built and compare against it."),
    ENUM_KEY("retrain.adopt.mode", C(adopt.mode), "manual|on_success|on_version|off", "\"manual\"",
             RELOAD,
             "When a fetched baseline takes effect: manual (staged until POST "
             "/v1/baseline/adopt), on_success (at the next window boundary), on_version (once "
             "records carry its model_version in inputs[].version_field), off (nothing fetched)."),
    STR_KEY("retrain.adopt.artifact", C(adopt.artifact), "\"${model}-${correlation_id}\"", RELOAD,
            "Name of the run's artifact that holds the baseline (${model}, ${correlation_id})."),
    STR_KEY("retrain.adopt.file", C(adopt.file), "\"baseline.json\"", RELOAD,
            "The member of the artifact's zip that is the baseline."),
    UINT_KEY("retrain.adopt.max_bytes", C(adopt.max_bytes), "67108864", 1024, 1073741824.0, RELOAD,
             "Largest artifact zip, and largest baseline in it, in bytes."),
    UINT_KEY("retrain.adopt.keep", C(adopt.keep), "5", 1, 1000, RELOAD,
             "Baselines kept in state_dir/baselines/ (the active and staged ones always are)."),
    BOOL_KEY("retrain.adopt.allow_feature_changes", C(adopt.allow_feature_changes), "false", RELOAD,
             "Adopt a baseline whose features differ from the configured ones (by name or "
             "kind)."),
    NUMBER_KEY("retrain.adopt.version_share", C(adopt.version_share), "0.5", 0.001, 1, RELOAD,
               "on_version: adopt at the first window boundary after this share of a window's "
               "records carry the new model_version."),
    DURATION_KEY("lease_seconds", C(lease_seconds), "10", 1, 3600, RESTART,
                 "nats: the leader lease of a model's replicas: renewed every third of it; a "
                 "standby takes over when it expires."),
    SECTION("kv", RESTART, "nats: the JetStream key-value buckets the replicas coordinate in."),
    STR_KEY("kv.lease_bucket", C(kv_lease_bucket), "\"driftd-leases\"", RESTART,
            "Bucket of the leases (key leader.<model>); its TTL is lease_seconds."),
    STR_KEY("kv.state_bucket", C(kv_state_bucket), "\"driftd-state\"", RESTART,
            "Bucket of the shared state (key state.<model>), without TTL."),
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Size of one object of each base: an array's element. */
static const size_t base_size[] = {
    [B_CONFIG] = sizeof(struct config),
    [B_INPUT] = sizeof(struct input_conf),
    [B_SINK] = sizeof(struct sink_conf),
    [B_OVERRIDE] = sizeof(struct feature_override),
};

struct loader {
    const char *path;
    const char *dir; /* relative paths resolve from it (NULL: left as written) */
    struct errlist *errs;
    /* The text being loaded and its tree, to say where an unknown key is
     * (NULL where a check works on a loaded configuration). */
    const char *text;
    size_t len;
    const cJSON *root;
    struct keypos *kp; /* positions of the keys, sorted by node: key_offset */
    size_t n_kp;
    bool kp_tried;
};

static void cerr(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* name joined to dir (malloc'd): as written when absolute, empty or dir is
 * NULL; a leading "./" is dropped so that messages show a clean path. */
static char *join_dir(const char *dir, const char *name)
{
    if (dir == NULL || name[0] == '/' || name[0] == '\0')
        return strdup(name);
    while (name[0] == '.' && name[1] == '/') {
        name += 2;
        while (name[0] == '/')
            name++;
    }
    if (name[0] == '\0' || strcmp(name, ".") == 0)
        return strdup(dir);
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
    return p;
}

/* The directory of the configuration file path (malloc'd), absolute so
 * that what it resolves stays right if the process changes directory: an
 * absolute path's as written, a relative one's made absolute at load
 * (realpath: "../conf" reads as the directory it is, not "CWD/../conf").
 * NULL only without memory. */
static char *config_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash == NULL   ? strdup(".")
                : slash == path ? strdup("/")
                                : strndup(path, (size_t)(slash - path));
    if (dir == NULL || dir[0] == '/')
        return dir;
    char *abs = realpath(dir, NULL);
    char cwd[4096];
    if (abs == NULL && getcwd(cwd, sizeof(cwd)) != NULL)
        abs = join_dir(cwd, dir);
    if (abs != NULL) {
        free(dir);
        dir = abs;
    }
    return dir;
}

/* Where a path of the file is (malloc'd): see enum kpath. A secret's
 * credential may be named NAME, as LoadCredential=NAME:FILE gives it, or
 * driftd_NAME, as the shipped unit's LoadCredential=driftd:/etc/driftd/
 * credentials names each file of that directory (systemd prefixes the id). */
static char *resolve_path(const char *dir, const char *name, enum kpath kind)
{
    const char *cd = getenv("CREDENTIALS_DIRECTORY");
    static const char *const prefixes[] = {"", "driftd_"};
    for (size_t k = 0;
         kind == P_SECRET && name[0] != '/' && name[0] != '\0' && cd != NULL && *cd && k < 2; k++) {
        size_t n = strlen(cd) + strlen(prefixes[k]) + strlen(name) + 2;
        char *p = malloc(n);
        if (p == NULL)
            break;
        snprintf(p, n, "%s/%s%s", cd, prefixes[k], name);
        if (access(p, R_OK) == 0)
            return p;
        free(p);
    }
    return join_dir(dir, name);
}

/* Record one error, prefixed with the file name. */
static void cerr(struct loader *L, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    errlist_add(L->errs, "%s: %s", L->path, msg);
}

static const struct ckey *find_key(const char *pattern)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(keys[i].path, pattern) == 0)
            return &keys[i];
    return NULL;
}

/* Where an error is: line, column and the line itself. cJSON keeps no
 * positions, and its error pointer is where its parser gave up (past the
 * `}` of `,}`), not what it wanted there. This scanner of the same grammar,
 * run only to explain an error or to find a key, knows both. It takes what
 * cJSON takes (whitespace is any byte up to 32, a number is what strtod
 * reads from [0-9+-.eE], a UTF-8 BOM is skipped) so that it fails where
 * cJSON does; a line break inside a string, which cJSON lets through, is an
 * error here, because a string that lost its closing quote makes one. */
struct jscan {
    const char *t;
    size_t len, at;
    int depth;
    bool failed;
    size_t err_at;  /* where the error is */
    char what[400]; /* what was expected there, what was found */
    bool keep_keys; /* record where each object member's key starts */
    size_t *keys, n_keys, cap_keys;
};

static void js_fail(struct jscan *s, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record the first error only: later ones follow from it. At the end of
 * the text the error is put just after its last token, where the missing
 * `}` or value belongs, not on an empty last line. */
static void js_fail(struct jscan *s, size_t at, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = true;
    if (at >= s->len) {
        at = s->len;
        while (at > 0 && (unsigned char)s->t[at - 1] <= 32)
            at--;
    }
    s->err_at = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->what, sizeof(s->what), fmt, ap);
    va_end(ap);
}

/* cJSON's whitespace: every byte up to and including the space. */
static void js_ws(struct jscan *s)
{
    while (s->at < s->len && (unsigned char)s->t[s->at] <= 32)
        s->at++;
}

/* A letter, digit or underscore: what a bare word (True, None) is made of. */
static bool js_wordc(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Line and column (in characters, from 1) of byte `at` of t. */
static void text_linecol(const char *t, size_t at, size_t *line, size_t *col)
{
    bool bom = at >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0;
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < at; i++) {
        if (t[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)t[i] & 0xC0) != 0x80 && !(i == 0 && bom)) {
            (*col)++; /* a UTF-8 sequence is one column; a BOM none */
        }
    }
}

/* What stands at `at`, for "found ...": a character, a bare word, the end. */
static const char *js_found(const struct jscan *s, size_t at, char *buf, size_t cap)
{
    if (at >= s->len)
        return "the end of the file";
    unsigned char c = (unsigned char)s->t[at];
    size_t n = 0;
    while (at + n < s->len && n < 24 && js_wordc(s->t[at + n]))
        n++;
    if (n > 0)
        snprintf(buf, cap, "`%.*s`", (int)n, s->t + at);
    else if (c < 32 || c == 127)
        snprintf(buf, cap, "a control character (0x%02x)", c);
    else if (c >= 128)
        snprintf(buf, cap, "a non-ASCII character");
    else if (c == '\'')
        snprintf(buf, cap, "a single quote");
    else
        snprintf(buf, cap, "'%c'", c);
    return buf;
}

/* What the character at `at` usually means when JSON does not take it:
 * Python's or JavaScript's habits. "" when there is nothing to add. */
static const char *js_hint(const struct jscan *s, size_t at)
{
    static const char *const literals[] = {"true", "false", "null", "none", "nil"};
    static const char *const nonfinite[] = {"nan", "inf", "infinity"};
    if (at >= s->len)
        return "";
    char c = s->t[at];
    if (c == '\'')
        return " (JSON strings take double quotes)";
    if (c == '/' || c == '#')
        return " (JSON has no comments)";
    size_t n = 0;
    while (at + n < s->len && js_wordc(s->t[at + n]))
        n++;
    for (size_t i = 0; n > 0 && i < sizeof(literals) / sizeof(literals[0]); i++)
        if (strlen(literals[i]) == n && strncasecmp(s->t + at, literals[i], n) == 0)
            return " (JSON's literals are true, false and null, in lower case)";
    for (size_t i = 0; n > 0 && i < sizeof(nonfinite) / sizeof(nonfinite[0]); i++)
        if (strlen(nonfinite[i]) == n && strncasecmp(s->t + at, nonfinite[i], n) == 0)
            return " (JSON has no NaN or Infinity)";
    return "";
}

static void js_value(struct jscan *s, const char *what);

/* Four hex digits at p (cJSON's parse_hex4), or -1. */
static long js_hex4(const struct jscan *s, size_t p)
{
    long v = 0;
    for (size_t i = 0; i < 4; i++) {
        char c = p + i < s->len ? s->t[p + i] : '\0';
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* A string from its opening quote at s->at; its raw text (cut) to name. */
static void js_string(struct jscan *s, char *name, size_t cap)
{
    size_t open = s->at++, line, col;
    while (s->at < s->len && s->t[s->at] != '"') {
        char c = s->t[s->at];
        if (c == '\n' || c == '\r') {
            text_linecol(s->t, open, &line, &col);
            js_fail(s, s->at,
                    "expected '\"' to close the string that starts at line %zu, column %zu (a "
                    "string cannot span lines)",
                    line, col);
            return;
        }
        if (c != '\\') {
            s->at++;
            continue;
        }
        char e = s->at + 1 < s->len ? s->t[s->at + 1] : '\0';
        long u = e == 'u' ? js_hex4(s, s->at + 2) : 0;
        bool high = u >= 0xD800 && u <= 0xDBFF;
        long low = high && s->at + 7 < s->len && s->t[s->at + 6] == '\\' && s->t[s->at + 7] == 'u'
                       ? js_hex4(s, s->at + 8)
                       : -1;
        if (e != '\0' && strchr("bfnrt\"\\/", e) != NULL) {
            s->at += 2;
        } else if (e == 'u' && u >= 0 && !high && !(u >= 0xDC00 && u <= 0xDFFF)) {
            s->at += 6;
        } else if (e == 'u' && high && low >= 0xDC00 && low <= 0xDFFF) {
            s->at += 12;
        } else if (e == 'u') {
            js_fail(s, s->at,
                    "invalid \\u escape in a string (four hex digits; a surrogate pair for a "
                    "character beyond U+FFFF)");
            return;
        } else {
            js_fail(s, s->at,
                    "invalid escape in a string (JSON knows \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
                    "\\uXXXX: a backslash of a Windows path is written \\\\)");
            return;
        }
    }
    if (s->at >= s->len) {
        js_fail(s, open, "the string that starts here has no closing '\"'");
        return;
    }
    if (name != NULL)
        snprintf(name, cap, "%.*s", (int)(s->at - open - 1 < cap - 1 ? s->at - open - 1 : cap - 1),
                 s->t + open + 1);
    s->at++;
}

/* A number where cJSON's parse_number takes one: what strtod reads from
 * the longest run of [0-9+-.eE] (at most 63 bytes). */
static void js_number(struct jscan *s, const char *what)
{
    char buf[64], *end;
    size_t n = 0;
    while (n < sizeof(buf) - 1 && s->at + n < s->len && s->t[s->at + n] != '\0' &&
           strchr("0123456789+-.eE", s->t[s->at + n]))
        n++;
    memcpy(buf, s->t + s->at, n);
    buf[n] = '\0';
    (void)strtod(buf, &end);
    if (end == buf) {
        char f[64];
        js_fail(s, s->at, "expected %s, found %s (not a number)", what,
                js_found(s, s->at, f, sizeof(f)));
        return;
    }
    s->at += (size_t)(end - buf);
}

/* Remember where a key starts, for a later error about that key. */
static void js_keep_key(struct jscan *s, size_t at)
{
    if (!s->keep_keys)
        return;
    if (s->n_keys == s->cap_keys) {
        size_t cap = s->cap_keys ? 2 * s->cap_keys : 64;
        size_t *k = realloc(s->keys, cap * sizeof(*k));
        if (k == NULL) {
            s->keep_keys = false; /* no positions: the messages lose their line only */
            return;
        }
        s->keys = k;
        s->cap_keys = cap;
    }
    s->keys[s->n_keys++] = at;
}

/* An object from its `{` at s->at. */
static void js_object(struct jscan *s)
{
    size_t open = s->at++, line, col;
    char f[64], name[52], what[80];
    if (++s->depth > CJSON_NESTING_LIMIT) {
        js_fail(s, open, "nested deeper than %d levels", CJSON_NESTING_LIMIT);
        return;
    }
    js_ws(s);
    if (s->at < s->len && s->t[s->at] == '}') {
        s->at++;
        s->depth--;
        return;
    }
    for (bool first = true;; first = false) {
        js_ws(s);
        if (s->at >= s->len || s->t[s->at] != '"') {
            const char *hint = js_hint(s, s->at);
            char word[96] = "";
            if (!first && s->at < s->len && s->t[s->at] == '}')
                hint = " (JSON allows no ',' before '}')";
            else if (!*hint && s->at < s->len && js_wordc(s->t[s->at])) {
                size_t n = 0;
                while (s->at + n < s->len && n < 40 && js_wordc(s->t[s->at + n]))
                    n++;
                snprintf(word, sizeof(word), " (a key takes double quotes: \"%.*s\")", (int)n,
                         s->t + s->at);
            }
            js_fail(s, s->at, "expected %s, found %s%s%s",
                    first ? "a key in double quotes or '}'" : "a key in double quotes after ','",
                    js_found(s, s->at, f, sizeof(f)), hint, word);
            return;
        }
        js_keep_key(s, s->at);
        js_string(s, name, sizeof(name));
        if (s->failed)
            return;
        js_ws(s);
        if (s->at >= s->len || s->t[s->at] != ':') {
            js_fail(s, s->at, "expected ':' after the key \"%s\", found %s%s", name,
                    js_found(s, s->at, f, sizeof(f)), js_hint(s, s->at));
            return;
        }
        s->at++;
        snprintf(what, sizeof(what), "a value for \"%s\"", name);
        js_value(s, what);
        if (s->failed)
            return;
        js_ws(s);
        if (s->at < s->len && s->t[s->at] == ',') {
            s->at++;
            continue;
        }
        if (s->at < s->len && s->t[s->at] == '}') {
            s->at++;
            s->depth--;
            return;
        }
        char hint[96] = "";
        text_linecol(s->t, open, &line, &col);
        if (s->at >= s->len)
            snprintf(hint, sizeof(hint), " (the '{' at line %zu, column %zu is not closed)", line,
                     col);
        else if (s->t[s->at] == '"')
            snprintf(hint, sizeof(hint), " (a ',' is missing before the next key)");
        else
            snprintf(hint, sizeof(hint), "%s", js_hint(s, s->at));
        js_fail(s, s->at, "expected ',' or '}' after the value of \"%s\", found %s%s", name,
                js_found(s, s->at, f, sizeof(f)), hint);
        return;
    }
}

/* An array from its `[` at s->at. */
static void js_array(struct jscan *s)
{
    size_t open = s->at++, line, col;
    char f[64];
    if (++s->depth > CJSON_NESTING_LIMIT) {
        js_fail(s, open, "nested deeper than %d levels", CJSON_NESTING_LIMIT);
        return;
    }
    js_ws(s);
    if (s->at < s->len && s->t[s->at] == ']') {
        s->at++;
        s->depth--;
        return;
    }
    for (size_t i = 0;; i++) {
        js_ws(s);
        if (i > 0 && s->at < s->len && s->t[s->at] == ']') {
            js_fail(s, s->at,
                    "expected a value after ',', found ']' (JSON allows no ',' before ']')");
            return;
        }
        js_value(s, i == 0 ? "a value or ']'" : "a value after ','");
        if (s->failed)
            return;
        js_ws(s);
        if (s->at < s->len && s->t[s->at] == ',') {
            s->at++;
            continue;
        }
        if (s->at < s->len && s->t[s->at] == ']') {
            s->at++;
            s->depth--;
            return;
        }
        char hint[96] = "";
        text_linecol(s->t, open, &line, &col);
        if (s->at >= s->len)
            snprintf(hint, sizeof(hint), " (the '[' at line %zu, column %zu is not closed)", line,
                     col);
        else if (strchr("\"{[", s->t[s->at]) != NULL)
            snprintf(hint, sizeof(hint), " (a ',' is missing between elements)");
        else
            snprintf(hint, sizeof(hint), "%s", js_hint(s, s->at));
        js_fail(s, s->at, "expected ',' or ']' after element %zu of the array, found %s%s", i,
                js_found(s, s->at, f, sizeof(f)), hint);
        return;
    }
}

/* Any value; `what` says what was wanted, for the message. */
static void js_value(struct jscan *s, const char *what)
{
    static const char *const literals[] = {"null", "true", "false"};
    char f[64];
    js_ws(s);
    char c = s->at < s->len ? s->t[s->at] : '\0';
    if (s->at < s->len && c == '{') {
        js_object(s);
        return;
    }
    if (s->at < s->len && c == '[') {
        js_array(s);
        return;
    }
    if (s->at < s->len && c == '"') {
        js_string(s, NULL, 0);
        return;
    }
    if (s->at < s->len && (c == '-' || (c >= '0' && c <= '9'))) {
        js_number(s, what);
        return;
    }
    for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
        size_t n = strlen(literals[i]);
        if (s->len - s->at >= n && strncmp(s->t + s->at, literals[i], n) == 0) {
            s->at += n;
            return;
        }
    }
    js_fail(s, s->at, "expected %s, found %s%s", what, js_found(s, s->at, f, sizeof(f)),
            js_hint(s, s->at));
}

/* The whole text: one value, then nothing but whitespace. */
static void js_scan(struct jscan *s)
{
    char f[64];
    if (s->len > 4 && memcmp(s->t, "\xEF\xBB\xBF", 3) == 0) /* as cJSON's skip_utf8_bom */
        s->at = 3;
    js_ws(s);
    if (s->at >= s->len) {
        js_fail(s, s->len,
                "the file is empty; expected a JSON object like {\"baseline\": \"baseline.json\"}");
        return;
    }
    js_value(s, "a JSON object ('{')");
    if (s->failed)
        return;
    js_ws(s);
    if (s->at < s->len)
        js_fail(s, s->at, "expected the end of the file after the top-level value, found %s%s",
                js_found(s, s->at, f, sizeof(f)),
                strchr("}]", s->t[s->at]) != NULL ? " (one closing bracket too many?)"
                                                  : js_hint(s, s->at));
}

/* The line holding byte `at`, cut to some 100 characters around it, and a
 * caret under `at`, as compilers show them ("  3 | text" / "    |   ^").
 * Control characters are shown as '?'; tabs stay, so the caret lines up. */
static void text_excerpt(const char *t, size_t len, size_t at, size_t line, struct sbuf *out)
{
    size_t b = at, e = at;
    while (b > 0 && t[b - 1] != '\n')
        b--;
    while (e < len && t[e] != '\n')
        e++;
    if (e > at && t[e - 1] == '\r')
        e--;
    size_t from = b, to = e;
    if (at - b > 60) {
        from = at - 50;
        while (from < at && ((unsigned char)t[from] & 0xC0) == 0x80)
            from++;
    }
    if (to - from > 100) {
        to = from + 100;
        while (to > at && ((unsigned char)t[to] & 0xC0) == 0x80)
            to--;
    }
    char gutter[24];
    int w = snprintf(gutter, sizeof(gutter), "%zu", line);
    sbuf_printf(out, "\n  %s | %s", gutter, from > b ? "..." : "");
    for (size_t i = from; i < to; i++)
        sbuf_addc(out, (unsigned char)t[i] < 32 && t[i] != '\t' ? '?' : t[i]);
    sbuf_adds(out, to < e ? "..." : "");
    sbuf_printf(out, "\n  %*s | %s", w, "", from > b ? "   " : "");
    for (size_t i = from; i < at && i < len; i++)
        if (((unsigned char)t[i] & 0xC0) != 0x80)
            sbuf_addc(out, t[i] == '\t' ? '\t' : ' ');
    sbuf_addc(out, '^');
}

/* Report a text cJSON rejected, or one that goes on after its value:
 * file:line:column, what was expected there and what was found, and the
 * line with a caret. Where the scanner sees no error (it and cJSON
 * disagree), cJSON's own position is shown. */
static void json_syntax_error(const char *path, struct errlist *errs, const char *text, size_t len,
                              size_t cjson_at)
{
    struct jscan s = {.t = text, .len = len};
    js_scan(&s);
    size_t at = s.failed ? s.err_at : cjson_at < len ? cjson_at : len, line, col;
    text_linecol(text, at, &line, &col);
    struct sbuf ex;
    sbuf_init(&ex);
    text_excerpt(text, len, at, line, &ex);
    errlist_add(errs, "%s:%zu:%zu: invalid JSON%s%s%s", path, line, col, s.failed ? ": " : "",
                s.failed ? s.what : "", sbuf_failed(&ex) ? "" : ex.data);
    sbuf_free(&ex);
}

/* An object member and where its key starts in the text. */
struct keypos {
    const cJSON *node;
    size_t at;
};

/* Every object member under v, in document order (cJSON keeps the order,
 * and repeated keys, as they were written): the order the scanner finds
 * the keys in. */
static void list_members(const cJSON *v, struct keypos *kp, size_t *n, size_t cap)
{
    for (const cJSON *m = v->child; m != NULL; m = m->next) {
        if (cJSON_IsObject(v) && *n < cap)
            kp[*n].node = m;
        if (cJSON_IsObject(v))
            (*n)++;
        list_members(m, kp, n, cap);
    }
}

/* Order of keypos by node, for bsearch. */
static int keypos_cmp(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const struct keypos *)a)->node;
    uintptr_t y = (uintptr_t)((const struct keypos *)b)->node;
    return x < y ? -1 : x > y;
}

/* Where member m's key starts in L's text, or SIZE_MAX when unknown (no
 * text, or the scanner and cJSON count the keys differently). The table of
 * positions is made once, at the first unknown key, so that a file of many
 * unknown keys costs one scan. */
static size_t key_offset(struct loader *L, const cJSON *m)
{
    if (!L->kp_tried && L->text != NULL && L->root != NULL) {
        L->kp_tried = true;
        size_t n = 0;
        list_members(L->root, NULL, &n, 0);
        struct jscan s = {.t = L->text, .len = L->len, .keep_keys = true};
        js_scan(&s);
        /* only a text cJSON read: the trailing part js_scan may reject
         * comes after every key */
        struct keypos *kp = n > 0 && s.keep_keys && s.n_keys == n ? calloc(n, sizeof(*kp)) : NULL;
        if (kp != NULL) {
            size_t k = 0;
            list_members(L->root, kp, &k, n);
            for (size_t i = 0; i < n; i++)
                kp[i].at = s.keys[i];
            qsort(kp, n, sizeof(*kp), keypos_cmp);
            L->kp = kp;
            L->n_kp = n;
        }
        free(s.keys);
    }
    struct keypos want = {.node = m};
    const struct keypos *hit =
        L->kp ? bsearch(&want, L->kp, L->n_kp, sizeof(*L->kp), keypos_cmp) : NULL;
    return hit ? hit->at : SIZE_MAX;
}

/* Edit distance (optimal string alignment: a swap of two neighbours is one
 * edit) between two key names, with case and '-' for '_' not counted;
 * SIZE_MAX for names longer than 63 bytes. */
static size_t key_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63)
        return SIZE_MAX;
    char x[64], y[64];
    for (size_t i = 0; i < na; i++)
        x[i] = a[i] == '-' ? '_' : (char)tolower((unsigned char)a[i]);
    for (size_t j = 0; j < nb; j++)
        y[j] = b[j] == '-' ? '_' : (char)tolower((unsigned char)b[j]);
    size_t d[64][64];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            size_t cost = x[i - 1] != y[j - 1];
            size_t v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[na][nb];
}

/* The last part of a table path: "min_records" of "window.min_records". */
static const char *leaf_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

/* Whether row path is a key right under pattern ("window" and
 * "window.records", "" and "model", "inputs[]" and "inputs[].path"). */
static bool key_under(const char *path, const char *pattern)
{
    size_t n = strlen(pattern);
    if (n == 0)
        return strchr(path, '.') == NULL;
    return strncmp(path, pattern, n) == 0 && path[n] == '.' && strchr(path + n + 1, '.') == NULL;
}

/* A hint for an unknown member `name` under pattern (its concrete path:
 * where): the closest key of the same section, else of any section (the
 * right key in the wrong place), as "; did you mean `...`?"; a dotted name
 * that is a path of the table is told to nest. "" when nothing is close:
 * edits allowed grow with the name (1 up to 5 characters, 2 up to 9, then
 * 3), so that short names do not match everything. */
static void suggest_key(const char *pattern, const char *name, const char *where, char *out,
                        size_t cap)
{
    out[0] = '\0';
    char full[256];
    snprintf(full, sizeof(full), "%s%s%s", pattern, *pattern ? "." : "", name);
    if (strchr(name, '.') != NULL && find_key(full) != NULL) {
        struct sbuf b;
        sbuf_init(&b);
        size_t depth = 0;
        for (const char *p = name; *p; depth++) {
            size_t n = strcspn(p, ".");
            sbuf_printf(&b, "{\"%.*s\": ", (int)n, p);
            p += n + (p[n] == '.');
        }
        sbuf_adds(&b, "...");
        while (depth-- > 0)
            sbuf_addc(&b, '}');
        snprintf(out, cap, "; a dot does not nest sections: write %s",
                 sbuf_failed(&b) ? "nested objects" : b.data);
        sbuf_free(&b);
        return;
    }
    size_t len = strlen(name), limit = len <= 2 ? 0 : len <= 5 ? 1 : len <= 9 ? 2 : 3;
    const struct ckey *best = NULL;
    size_t bd = SIZE_MAX;
    for (int pass = 0; pass < 2 && best == NULL; pass++)
        for (size_t i = 0; i < NKEYS; i++) {
            if (key_under(keys[i].path, pattern) != (pass == 0))
                continue;
            const char *leaf = leaf_of(keys[i].path);
            size_t ll = strlen(leaf);
            /* the distance is at least the difference of the lengths */
            if ((ll > len ? ll - len : len - ll) > limit)
                continue;
            size_t d = key_distance(name, leaf);
            if (d <= limit && d < bd) {
                best = &keys[i];
                bd = d;
            }
        }
    if (best == NULL)
        return;
    if (key_under(best->path, pattern)) {
        /* the concrete path: alerts.sinks[0].url, not alerts.sinks[].url */
        size_t wn = strlen(where) - len;
        snprintf(out, cap, "; did you mean `%.*s%s`?", (int)wn, where, leaf_of(best->path));
    } else {
        snprintf(out, cap, "; did you mean `%s`?", best->path);
    }
}

/* Report member m of the text, at pattern (its concrete path: where), as
 * an unknown key: file:line:column when the text is known, and the key it
 * may have meant. */
static void unknown_key(struct loader *L, const cJSON *m, const char *pattern, const char *where)
{
    char hint[300];
    suggest_key(pattern, m->string, where, hint, sizeof(hint));
    size_t at = key_offset(L, m), line, col;
    if (at == SIZE_MAX) {
        cerr(L, "%s: unknown key%s", where, hint);
        return;
    }
    text_linecol(L->text, at, &line, &col);
    errlist_add(L->errs, "%s:%zu:%zu: %s: unknown key%s", L->path, line, col, where, hint);
}

int config_parse_duration(const char *s, double *out)
{
    /* Decimal only: strtod would also take "nan", "inf" and "0x10". */
    size_t span = strspn(s, "0123456789.eE+-");
    char *end;
    double v = strtod(s, &end);
    if (span == 0 || end != s + span)
        return -1;
    double mult = 1;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
        mult = 1;
    else if (strcmp(end, "ms") == 0)
        mult = 0.001;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        mult = 60;
    else if (strcmp(end, "h") == 0)
        mult = 3600;
    else if (strcmp(end, "d") == 0)
        mult = 86400;
    else
        return -1;
    /* Overflow ("1e400s", "1e300d") is infinite: out of every range. */
    *out = v * mult;
    return 0;
}

/* The allowed values of a numeric key, as both the reference and the
 * errors say them ("1 to 1000000", "0.001 to 315360000 seconds (3650d)");
 * "" for other types. */
static const char *range_text(const struct ckey *k, char *buf, size_t len)
{
    switch (k->type) {
    case K_UINT:
        snprintf(buf, len, "%.0f to %.0f", k->min, k->max);
        break;
    case K_DURATION:
        if (k->max >= 86400 && fmod(k->max, 86400) == 0)
            snprintf(buf, len, "%g to %.0f seconds (%.0fd)", k->min, k->max, k->max / 86400);
        else
            snprintf(buf, len, "%g to %.0f seconds", k->min, k->max);
        break;
    case K_NUMBER:
    case K_OPT_NUMBER:
        if (k->max < BIG)
            snprintf(buf, len, "%g to %g%s", k->min, k->max,
                     k->type == K_OPT_NUMBER ? ", or null" : "");
        else
            snprintf(buf, len, "%g or more%s", k->min, k->type == K_OPT_NUMBER ? ", or null" : "");
        break;
    default:
        snprintf(buf, len, "%s", "");
    }
    return buf;
}

/* Index of word in "a|b|c", or -1. */
static int enum_index(const char *values, const char *word)
{
    int i = 0;
    size_t wl = strlen(word);
    for (const char *p = values; *p;) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == wl && strncmp(p, word, n) == 0)
            return i;
        i++;
        p += n + (bar ? 1 : 0);
    }
    return -1;
}

static void free_strlist(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* What one inputs[] element holds. */
static void input_free(struct input_conf *in)
{
    free(in->path), free(in->version_field);
    free_strlist(in->servers, in->n_servers);
    free(in->stream), free(in->subject), free(in->durable);
    free(in->token_file), free(in->creds_file);
}

/* "auto, ks, wasserstein, ...": every name a test key takes, in the order
 * of stats_test_info, so that a new test is listed without an edit here. */
static const char *test_names(char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "auto");
    for (int t = 0; t < STATS_TEST_COUNT && at < len; t++)
        at +=
            (size_t)snprintf(buf + at, len - at, ", %s", stats_test_info((enum stats_test)t)->name);
    return buf;
}

static void apply_defaults(struct loader *L, enum kbase base, void *obj);

/* Convert one JSON value per its key row and store it in obj. */
static void assign(struct loader *L, const struct ckey *k, const cJSON *v, const char *where,
                   void *obj)
{
    char *p = (char *)obj + k->offset;
    double d;
    char rt[80];

    switch (k->type) {
    case K_STRING:
        if (!cJSON_IsString(v)) {
            cerr(L, "%s: expected a string", where);
            return;
        }
        free(*(char **)p);
        *(char **)p = k->pathkind == P_NONE ? strdup(v->valuestring)
                                            : resolve_path(L->dir, v->valuestring, k->pathkind);
        return;
    case K_UINT:
        if (!cJSON_IsNumber(v)) {
            cerr(L, "%s: expected an integer (allowed: %s)", where, range_text(k, rt, sizeof(rt)));
            return;
        }
        if (!(v->valuedouble >= k->min && v->valuedouble <= k->max) ||
            floor(v->valuedouble) != v->valuedouble) {
            cerr(L, "%s: %g is %s (allowed: %s)", where, v->valuedouble,
                 floor(v->valuedouble) != v->valuedouble && isfinite(v->valuedouble)
                     ? "not an integer"
                     : "out of range",
                 range_text(k, rt, sizeof(rt)));
            return;
        }
        *(uint64_t *)p = (uint64_t)v->valuedouble;
        return;
    case K_DURATION:
        if (cJSON_IsNumber(v)) {
            d = v->valuedouble;
        } else if (!cJSON_IsString(v) || config_parse_duration(v->valuestring, &d) != 0) {
            cerr(L,
                 "%s: expected seconds (a number) or a duration like \"90s\", \"5m\", \"6h\", "
                 "\"1d\" (allowed: %s)",
                 where, range_text(k, rt, sizeof(rt)));
            return;
        }
        if (!(d >= k->min && d <= k->max)) {
            if (cJSON_IsString(v))
                cerr(L, "%s: \"%.40s\" is out of range (allowed: %s)", where, v->valuestring,
                     range_text(k, rt, sizeof(rt)));
            else
                cerr(L, "%s: %g is out of range (allowed: %s)", where, d,
                     range_text(k, rt, sizeof(rt)));
            return;
        }
        *(double *)p = d;
        return;
    case K_OPT_NUMBER:
        if (cJSON_IsNull(v)) {
            *(double *)p = NAN;
            return;
        }
        /* fall through */
    case K_NUMBER:
        if (!cJSON_IsNumber(v)) {
            cerr(L, "%s: expected a number (allowed: %s)", where, range_text(k, rt, sizeof(rt)));
            return;
        }
        if (!(v->valuedouble >= k->min && v->valuedouble <= k->max)) {
            cerr(L, "%s: %g is out of range (allowed: %s)", where, v->valuedouble,
                 range_text(k, rt, sizeof(rt)));
            return;
        }
        *(double *)p = v->valuedouble;
        return;
    case K_BOOL:
        if (!cJSON_IsBool(v)) {
            cerr(L, "%s: expected true or false", where);
            return;
        }
        *(bool *)p = cJSON_IsTrue(v);
        return;
    case K_ENUM: {
        int i = cJSON_IsString(v) ? enum_index(k->values, v->valuestring) : -1;
        if (i < 0) {
            char list[128];
            snprintf(list, sizeof(list), "%s", k->values);
            for (char *q = list; *q; q++)
                if (*q == '|')
                    *q = ',';
            cerr(L, "%s: expected one of %s", where, list);
            return;
        }
        *(int *)p = i;
        return;
    }
    case K_TEST: {
        int t = cJSON_IsString(v) ? stats_test_by_name(v->valuestring) : -2;
        if (t == -2) {
            char names[512];
            cerr(L, "%s: unknown test%s%s%s (%s)", where, cJSON_IsString(v) ? " \"" : "",
                 cJSON_IsString(v) ? v->valuestring : "", cJSON_IsString(v) ? "\"" : "",
                 test_names(names, sizeof(names)));
            return;
        }
        *(int *)p = t;
        return;
    }
    case K_STRLIST: {
        if (!cJSON_IsArray(v)) {
            cerr(L, "%s: expected an array of strings", where);
            return;
        }
        size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
        char **list = calloc(n ? n : 1, sizeof(char *));
        const cJSON *e;
        cJSON_ArrayForEach(e, v)
        {
            if (!cJSON_IsString(e)) {
                cerr(L, "%s[%zu]: expected a string", where, i);
                continue;
            }
            if (list != NULL)
                list[i++] = strdup(e->valuestring);
        }
        free_strlist(*(char ***)p, *(size_t *)((char *)obj + k->offset2));
        *(char ***)p = list;
        *(size_t *)((char *)obj + k->offset2) = list ? i : 0;
        return;
    }
    default:
        return;
    }
}

static void walk(struct loader *L, const cJSON *obj, const char *pattern, const char *where,
                 enum kbase base, void *ptr, struct config *c);

/* Elements of `inputs` or `alerts.sinks`. */
static void walk_array(struct loader *L, const struct ckey *k, const cJSON *v, const char *where,
                       struct config *c)
{
    if (!cJSON_IsArray(v)) {
        cerr(L, "%s: expected an array of objects", where);
        return;
    }
    bool is_input = k->elem == B_INPUT;
    size_t n = (size_t)cJSON_GetArraySize(v), size = base_size[k->elem];
    char *arr = calloc(n ? n : 1, size);
    if (arr == NULL)
        return;
    size_t i = 0;
    const cJSON *e;
    char pat[128], w[256];
    snprintf(pat, sizeof(pat), "%s[]", k->path);
    cJSON_ArrayForEach(e, v)
    {
        void *elem = arr + i * size;
        snprintf(w, sizeof(w), "%s[%zu]", where, i);
        apply_defaults(L, k->elem, elem);
        if (!cJSON_IsObject(e)) {
            cerr(L, "%s: expected an object", w);
        } else if (cJSON_GetObjectItemCaseSensitive(e, "type") == NULL) {
            cerr(L, "%s.type: missing (required)", w);
        }
        if (cJSON_IsObject(e))
            walk(L, e, pat, w, k->elem, elem, c);
        i++;
    }
    if (is_input) {
        for (size_t j = 0; j < c->n_inputs; j++)
            input_free(&c->inputs[j]);
        free(c->inputs);
        c->inputs = (struct input_conf *)arr;
        c->n_inputs = n;
    } else {
        for (size_t j = 0; j < c->n_sinks; j++) {
            struct sink_conf *s = &c->sinks[j];
            free(s->url), free(s->url_file), free(s->ca_file);
            for (size_t h = 0; h < s->n_headers; h++)
                free(s->headers[h].name), free(s->headers[h].value);
            free(s->headers);
        }
        free(c->sinks);
        c->sinks = (struct sink_conf *)arr;
        c->n_sinks = n;
    }
}

/* User-named members: feature overrides, sink headers, dispatch inputs. */
static void walk_map(struct loader *L, const struct ckey *k, const cJSON *v, const char *where,
                     void *ptr, struct config *c)
{
    if (!cJSON_IsObject(v)) {
        cerr(L, "%s: expected an object", where);
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(v);
    const cJSON *e;
    char w[300];
    if (strcmp(k->path, "features.overrides") == 0) {
        struct feature_override *ov = calloc(n ? n : 1, sizeof(*ov));
        if (ov == NULL)
            return;
        size_t i = 0;
        cJSON_ArrayForEach(e, v)
        {
            snprintf(w, sizeof(w), "%s.%s", where, e->string);
            apply_defaults(L, B_OVERRIDE, &ov[i]);
            ov[i].name = strdup(e->string);
            if (!cJSON_IsObject(e))
                cerr(L, "%s: expected an object like {\"test\": \"psi\", \"threshold\": 0.2}", w);
            else
                walk(L, e, "features.overrides.*", w, B_OVERRIDE, &ov[i], c);
            i++;
        }
        for (size_t j = 0; j < c->drift.n_overrides; j++)
            free(c->drift.overrides[j].name);
        free(c->drift.overrides);
        c->drift.overrides = ov;
        c->drift.n_overrides = i;
        return;
    }
    /* string maps */
    struct header_conf *pairs = calloc(n ? n : 1, sizeof(*pairs));
    if (pairs == NULL)
        return;
    size_t i = 0;
    cJSON_ArrayForEach(e, v)
    {
        snprintf(w, sizeof(w), "%s.%s", where, e->string);
        if (!cJSON_IsString(e)) {
            cerr(L, "%s: expected a string", w);
            continue;
        }
        pairs[i].name = strdup(e->string);
        pairs[i].value = strdup(e->valuestring);
        i++;
    }
    /* A repeated key (JSON allows {"retrain": ..., "retrain": ...}) replaces
     * the earlier map: free it, or it leaks (LeakSanitizer, fuzz_config). */
    if (strcmp(k->path, "retrain.github.inputs") == 0) {
        if (i > 25)
            cerr(L, "%s: %zu inputs; GitHub accepts at most 25", where, i);
        for (size_t j = 0; j < c->github.n_inputs; j++)
            free(c->github.inputs[j].name), free(c->github.inputs[j].value);
        free(c->github.inputs);
        c->github.inputs = (struct template_conf *)pairs;
        c->github.n_inputs = i;
    } else {
        struct sink_conf *s = ptr;
        for (size_t j = 0; j < s->n_headers; j++)
            free(s->headers[j].name), free(s->headers[j].value);
        free(s->headers);
        s->headers = pairs;
        s->n_headers = i;
    }
}

static void walk(struct loader *L, const cJSON *obj, const char *pattern, const char *where,
                 enum kbase base, void *ptr, struct config *c)
{
    const cJSON *m;
    char pat[256], w[512];

    cJSON_ArrayForEach(m, obj)
    {
        snprintf(pat, sizeof(pat), "%s%s%s", pattern, *pattern ? "." : "", m->string);
        snprintf(w, sizeof(w), "%s%s%s", where, *where ? "." : "", m->string);
        const struct ckey *k = find_key(pat);
        /* A dot in a member name reaches a row of another section
         * ({"inputs[].format": ...} at the top level, {"overrides.*.test": ...}
         * in "features") whose offset is into another struct: memory
         * corruption (ASan, fuzz_config). Such a name is never a key. */
        if (k == NULL || k->base != base || strchr(m->string, '.') != NULL) {
            unknown_key(L, m, pattern, w);
            continue;
        }
        if (strcmp(m->string, "github") == 0 && strcmp(pat, "retrain.github") == 0)
            c->github.enabled = true;
        switch (k->type) {
        case K_OBJECT:
            if (!cJSON_IsObject(m))
                cerr(L, "%s: expected an object", w);
            else
                walk(L, m, pat, w, base, ptr, c);
            break;
        case K_ARRAY:
            walk_array(L, k, m, w, c);
            break;
        case K_MAP:
            walk_map(L, k, m, w, ptr, c);
            break;
        default:
            assign(L, k, m, w, ptr);
        }
    }
}

/* Set every key of a base to its default (parsed from the table's text). */
static void apply_defaults(struct loader *L, enum kbase base, void *obj)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct ckey *k = &keys[i];
        if (k->base != base || k->def == NULL || k->type == K_ARRAY)
            continue;
        cJSON *v = cJSON_Parse(k->def);
        if (v != NULL)
            assign(L, k, v, k->path, obj);
        cJSON_Delete(v);
    }
    if (base == B_INPUT) {
        ((struct input_conf *)obj)->format = -1;
        ((struct input_conf *)obj)->delimiter = -1;
    }
}

static const char delimiters[] = {',', ';', '\t', '|', ':'};

char config_delimiter(int index)
{
    return index >= 0 && (size_t)index < sizeof(delimiters) ? delimiters[index] : 0;
}

int config_delimiter_index(const char *v)
{
    static const char *const names[] = {",", ";", "tab", "pipe", ":"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(v, names[i]) == 0 || (v[0] == delimiters[i] && v[1] == '\0'))
            return (int)i;
    return strcmp(v, "\\t") == 0 ? 2 : -1;
}

/* Checks across keys, after every key has its value. */
static void validate(struct loader *L, struct config *c)
{
    if (c->listen != NULL) {
        const char *colon = strrchr(c->listen, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : -1;
        if (colon == NULL || colon == c->listen || colon[1] == '\0' || *end != '\0' || port < 0 ||
            port > 65535)
            cerr(L, "listen: expected HOST:PORT (e.g. 127.0.0.1:9107), got \"%s\"", c->listen);
    }
    if (c->window_min_records > c->window_records)
        cerr(L, "window.min_records (%llu) is greater than window.records (%llu)",
             (unsigned long long)c->window_min_records, (unsigned long long)c->window_records);
    size_t n_http = 0, n_stdin = 0;
    for (size_t i = 0; i < c->n_inputs; i++) {
        struct input_conf *in = &c->inputs[i];
        n_http += in->type == INPUT_HTTP;
        n_stdin += in->type == INPUT_STDIN;
        if (in->type == INPUT_TAIL && in->path == NULL)
            cerr(L, "inputs[%zu].path: required for a tail input", i);
        if (in->type != INPUT_TAIL && in->path != NULL)
            cerr(L, "inputs[%zu].path: only a tail input has a path", i);
        if (in->type == INPUT_TAIL && in->format < 0 && in->path != NULL)
            in->format =
                reader_format_from_name(in->path) == READER_CSV ? READER_CSV : READER_NDJSON;
        if (in->type == INPUT_STDIN && in->format < 0)
            in->format = READER_NDJSON;
    }
    if (n_http > 1)
        cerr(L, "inputs: at most one http input (it serves on `listen`)");
    if (n_stdin > 1)
        cerr(L, "inputs: at most one stdin input");
    size_t n_nats = 0;
    for (size_t i = 0; i < c->n_inputs; i++) {
        const struct input_conf *in = &c->inputs[i];
        if (in->type != INPUT_NATS) {
            if (in->token_file != NULL || in->creds_file != NULL)
                cerr(L, "inputs[%zu]: token_file and creds_file are a nats input's", i);
            continue;
        }
        n_nats++;
        if (in->n_servers == 0)
            cerr(L, "inputs[%zu].servers: a nats input needs at least one server", i);
        for (size_t k = 0; k < in->n_servers; k++)
            if (strncmp(in->servers[k], "nats://", 7) != 0 &&
                strncmp(in->servers[k], "tls://", 6) != 0)
                cerr(L, "inputs[%zu].servers[%zu]: expected a nats:// or tls:// URL, got \"%s\"", i,
                     k, in->servers[k]);
        if (in->token_file != NULL && in->creds_file != NULL)
            cerr(L, "inputs[%zu]: give at most one of token_file and creds_file", i);
        /* held messages are told "in progress" from a one-second tick */
        if (in->ack_wait_seconds > 0 && in->ack_wait_seconds < 2)
            cerr(L, "inputs[%zu].ack_wait_seconds: at least 2 (or 0: computed), got %g", i,
                 in->ack_wait_seconds);
        if (in->format < 0)
            ((struct input_conf *)in)->format = READER_NDJSON;
    }
    if (n_nats > 0 && n_nats < c->n_inputs)
        cerr(L, "inputs: a nats input cannot be combined with other kinds: the replicas of a "
                "model share its consumer and a lease, which records from another input would "
                "bypass");
    if (n_nats > 1)
        cerr(L, "inputs: at most one nats input (the replicas lead it as one)");
    for (size_t i = 0; i < c->n_sinks; i++) {
        struct sink_conf *s = &c->sinks[i];
        bool needs_url = s->type != SINK_LOG;
        if (needs_url && (s->url == NULL) == (s->url_file == NULL))
            cerr(L, "alerts.sinks[%zu]: give exactly one of url and url_file", i);
        if (!needs_url && (s->url != NULL || s->url_file != NULL))
            cerr(L, "alerts.sinks[%zu]: a log sink takes no url", i);
        if (s->type == SINK_ALERTMANAGER && s->url_file != NULL)
            cerr(L, "alerts.sinks[%zu].url_file: alertmanager takes url", i);
        if (s->n_headers > 0 && s->type != SINK_WEBHOOK)
            cerr(L, "alerts.sinks[%zu].headers: only a webhook sink takes headers", i);
        const char *u = s->url;
        if (u != NULL && strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            cerr(L, "alerts.sinks[%zu].url: expected an http:// or https:// URL", i);
    }
    if (c->github.enabled) {
        if (c->github.repository == NULL)
            cerr(L, "retrain.github.repository: required (owner/repo)");
        else if (strchr(c->github.repository, '/') == NULL ||
                 strchr(c->github.repository, '/') != strrchr(c->github.repository, '/'))
            cerr(L, "retrain.github.repository: expected owner/repo, got \"%s\"",
                 c->github.repository);
        if (c->github.workflow == NULL)
            cerr(L, "retrain.github.workflow: required (file name like retrain.yml, or id)");
        if (c->github.api_url != NULL && strncmp(c->github.api_url, "http://", 7) != 0 &&
            strncmp(c->github.api_url, "https://", 8) != 0)
            cerr(L, "retrain.github.api_url: expected an http(s) URL");
    }
    for (size_t i = 0; i < c->github.n_inputs; i++) {
        const char *p = c->github.inputs[i].value;
        while ((p = strstr(p, "${")) != NULL) {
            const char *close = strchr(p, '}');
            size_t n = close ? (size_t)(close - p - 2) : 0;
            bool known = false;
            for (size_t k = 0; close && k < N_TEMPLATE_VARS; k++)
                known |= strlen(template_vars[k].name) == n &&
                         strncmp(p + 2, template_vars[k].name, n) == 0;
            if (!known) {
                char list[256];
                size_t at = 0;
                for (size_t k = 0; k < N_TEMPLATE_VARS && at < sizeof(list); k++)
                    at += (size_t)snprintf(list + at, sizeof(list) - at, "%s${%s}",
                                           k > 0 ? ", " : "", template_vars[k].name);
                cerr(L, "retrain.github.inputs.%s: unknown variable %.*s (known: %s)",
                     c->github.inputs[i].name, close ? (int)(close - p + 1) : (int)strlen(p), p,
                     list);
                break;
            }
            p = close + 1;
        }
    }
    for (size_t i = 0; i < c->drift.n_overrides; i++) {
        for (size_t j = 0; j < c->drift.n_exclude; j++)
            if (strcmp(c->drift.overrides[i].name, c->drift.exclude[j]) == 0)
                cerr(L, "features.overrides.%s: the feature is also excluded",
                     c->drift.overrides[i].name);
    }
}

/* What run, validate and a reload need beyond the table: a baseline they
 * can read. Said with every other error of the file (they used to say it
 * only when the rest was right), naming the key and the file. */
static void check_for_run(struct loader *L, const struct config *c)
{
    if (c->baseline == NULL) {
        cerr(L, "baseline: missing; run, validate and a reload need it (the path of the file "
                "`driftd baseline` wrote)");
        return;
    }
    int fd = open(c->baseline, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int err = fd < 0 ? errno : fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
    if (fd >= 0)
        close(fd);
    if (err != 0)
        config_baseline_error(c, err, L->errs);
}

/* config_parse; for_run: check_for_run too. */
static int parse(const char *text, size_t len, const char *path, struct config *c,
                 struct errlist *errs, bool for_run)
{
    memset(c, 0, sizeof(*c));
    drift_opts_init(&c->drift);
    c->path = strdup(path);
    c->dir = config_dir(path);
    struct loader L = {.path = path, .dir = c->dir, .errs = errs};
    apply_defaults(&L, B_CONFIG, c);
    /* array defaults: one http input, one log sink */
    c->inputs = calloc(1, sizeof(*c->inputs));
    c->sinks = calloc(1, sizeof(*c->sinks));
    if (c->inputs != NULL) {
        c->n_inputs = 1;
        apply_defaults(&L, B_INPUT, c->inputs);
        c->inputs[0].type = INPUT_HTTP;
    }
    if (c->sinks != NULL) {
        c->n_sinks = 1;
        apply_defaults(&L, B_SINK, c->sinks);
        c->sinks[0].type = SINK_LOG;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t off = end != NULL && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    /* cJSON stops after the first value: text after it (a second object,
     * one `}` too many) would be dropped without a word. */
    while (root != NULL && off < len && (unsigned char)text[off] <= 32)
        off++;
    if (root == NULL || off < len) {
        /* "file:line:col:" is what editors jump to */
        json_syntax_error(path, errs, text, len, off);
        cJSON_Delete(root);
        return -1;
    }
    L.text = text;
    L.len = len;
    L.root = root;
    if (!cJSON_IsObject(root)) {
        cerr(&L, "expected a JSON object at the top level");
    } else {
        walk(&L, root, "", "", B_CONFIG, c, c);
        const cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "baseline");
        if (cJSON_IsString(b))
            c->baseline_text = strdup(b->valuestring);
        validate(&L, c);
        if (for_run)
            check_for_run(&L, c);
    }
    cJSON_Delete(root);
    free(L.kp);
    if (c->state_dir == NULL) {
        const char *sd = getenv("STATE_DIRECTORY");
        if (sd != NULL && *sd) {
            /* systemd may pass several, colon-separated: the first is ours */
            c->state_dir = strndup(sd, strcspn(sd, ":"));
        } else {
            c->state_dir = strdup("./driftd-state");
        }
    }
    if (c->github.enabled && c->github.inputs == NULL) {
        /* each variable by_default as an input of its own name: NAME=${NAME} */
        c->github.inputs = calloc(N_TEMPLATE_VARS, sizeof(*c->github.inputs));
        for (size_t i = 0; c->github.inputs != NULL && i < N_TEMPLATE_VARS; i++) {
            if (!template_vars[i].by_default)
                continue;
            struct template_conf *t = &c->github.inputs[c->github.n_inputs++];
            t->name = strdup(template_vars[i].name);
            size_t n = strlen(t->name ? t->name : "") + 4;
            if ((t->value = malloc(n)) != NULL)
                snprintf(t->value, n, "${%s}", template_vars[i].name);
        }
    }
    return errs->n > 0 ? -1 : 0;
}

int config_parse(const char *text, size_t len, const char *path, struct config *c,
                 struct errlist *errs)
{
    return parse(text, len, path, c, errs, false);
}

void config_baseline_error(const struct config *c, int errnum, struct errlist *errs)
{
    const char *b = c->baseline ? c->baseline : "";
    const char *given = c->baseline_text;
    /* a relative name: as written, and the directory it was resolved from
     * (the path in the command below is the resolved one) */
    bool rel = given != NULL && given[0] != '/' && given[0] != '\0' && c->dir != NULL;
    errlist_add(errs, "%s: baseline: cannot read \"%s\"%s%s%s: %s%s%s%s",
                c->path ? c->path : "config", rel ? given : b, rel ? " (relative to " : "",
                rel ? c->dir : "", rel ? ")" : "", strerror(errnum),
                errnum == ENOENT ? "; `driftd baseline -i TRAINING_DATA -o " : "",
                errnum == ENOENT ? b : "", errnum == ENOENT ? "` writes it" : "");
}

/* Load a file; for_run: also what run, validate and a reload need beyond
 * the table (`check --config` reads the same file for its drift options
 * alone, with the baseline on its command line). */
static int load_file(const char *path, struct config *c, struct errlist *errs, bool for_run)
{
    size_t len;
    char *text = file_read(path, &len);
    if (text == NULL) {
        struct loader L = {.path = path, .errs = errs};
        memset(c, 0, sizeof(*c));
        drift_opts_init(&c->drift);
        cerr(&L, "%s", strerror(errno));
        return -1;
    }
    int rc = parse(text, len, path, c, errs, for_run);
    free(text);
    return rc;
}

int config_load(const char *path, struct config *c, struct errlist *errs)
{
    return load_file(path, c, errs, true);
}

void config_free(struct config *c)
{
    free(c->path), free(c->dir), free(c->baseline_text);
    free(c->model), free(c->baseline), free(c->state_dir), free(c->listen);
    free(c->token_file);
    for (size_t i = 0; i < c->n_inputs; i++)
        input_free(&c->inputs[i]);
    free(c->inputs);
    free(c->kv_lease_bucket), free(c->kv_state_bucket);
    free(c->adopt.artifact), free(c->adopt.file);
    for (size_t i = 0; i < c->n_sinks; i++) {
        struct sink_conf *s = &c->sinks[i];
        free(s->url), free(s->url_file), free(s->ca_file);
        for (size_t h = 0; h < s->n_headers; h++)
            free(s->headers[h].name), free(s->headers[h].value);
        free(s->headers);
    }
    free(c->sinks);
    struct github_conf *g = &c->github;
    free(g->api_url), free(g->repository), free(g->workflow), free(g->ref), free(g->token_file);
    free(g->api_version), free(g->ca_file);
    for (size_t i = 0; i < g->n_inputs; i++)
        free(g->inputs[i].name), free(g->inputs[i].value);
    free(g->inputs);
    drift_opts_clear(&c->drift);
    memset(c, 0, sizeof(*c));
}

/* Bytes of a key's value at its offset (a list or an array: the pointer,
 * its count is at offset2); 0 for rows that hold no value of their own
 * (sections, maps). */
static size_t value_size(enum ktype t)
{
    switch (t) {
    case K_STRING:
        return sizeof(char *);
    case K_UINT:
        return sizeof(uint64_t);
    case K_DURATION:
    case K_NUMBER:
    case K_OPT_NUMBER:
        return sizeof(double);
    case K_BOOL:
        return sizeof(bool);
    case K_ENUM:
    case K_TEST:
        return sizeof(int);
    case K_STRLIST:
        return sizeof(char **);
    case K_ARRAY:
        return sizeof(void *);
    default:
        return 0;
    }
}

/* Whether two strings, either maybe NULL (a key not given), are the same. */
static bool same_string(const char *x, const char *y)
{
    return x != NULL && y != NULL ? strcmp(x, y) == 0 : x == y;
}

/* Whether key k has the same value in a and b, two objects of its base.
 * An array compares its count, then every key of its elements' base. */
static bool same_value(const struct ckey *k, const void *a, const void *b)
{
    const char *pa = (const char *)a + k->offset, *pb = (const char *)b + k->offset;
    size_t na = 0, nb = 0;
    if (k->type == K_STRLIST || k->type == K_ARRAY) {
        memcpy(&na, (const char *)a + k->offset2, sizeof(na));
        memcpy(&nb, (const char *)b + k->offset2, sizeof(nb));
        if (na != nb)
            return false;
    }
    switch (k->type) {
    case K_STRING:
        return same_string(*(char *const *)pa, *(char *const *)pb);
    case K_UINT:
        return *(const uint64_t *)pa == *(const uint64_t *)pb;
    case K_DURATION:
    case K_NUMBER:
    case K_OPT_NUMBER: {
        double x = *(const double *)pa, y = *(const double *)pb;
        return x == y || (isnan(x) && isnan(y)); /* null (NAN) is null */
    }
    case K_BOOL:
        return *(const bool *)pa == *(const bool *)pb;
    case K_ENUM:
    case K_TEST:
        return *(const int *)pa == *(const int *)pb;
    case K_STRLIST:
        for (size_t i = 0; i < na; i++)
            if (!same_string((*(char **const *)pa)[i], (*(char **const *)pb)[i]))
                return false;
        return true;
    case K_ARRAY: {
        const char *ea = *(char *const *)pa, *eb = *(char *const *)pb;
        size_t size = base_size[k->elem];
        for (size_t i = 0; i < na; i++)
            for (size_t j = 0; j < NKEYS; j++)
                if (keys[j].base == k->elem && value_size(keys[j].type) > 0 &&
                    !same_value(&keys[j], ea + i * size, eb + i * size))
                    return false;
        return true;
    }
    default:
        return true;
    }
}

/* Exchange n bytes (at most 16: every value_size fits) between two places. */
static void swap_bytes(void *x, void *y, size_t n)
{
    unsigned char t[16];
    memcpy(t, x, n);
    memcpy(x, y, n);
    memcpy(y, t, n);
}

void config_keep_restart_keys(struct config *running, struct config *next)
{
    for (size_t i = 0; i < NKEYS; i++) {
        const struct ckey *k = &keys[i];
        size_t n = value_size(k->type);
        /* Keys of an array's elements go with their array (one message for
         * `inputs`, whichever of an input's keys changed). */
        if (k->reload || k->base != B_CONFIG || n == 0)
            continue;
        if (!same_value(k, running, next))
            log_warn("reload: %s changed; it takes effect at the next restart", k->path);
        /* Exchanged, not copied: each config still owns, and frees, one
         * value, and what the running one's users point into (an input's
         * conf) survives the switch to next. */
        swap_bytes((char *)running + k->offset, (char *)next + k->offset, n);
        if (k->type == K_STRLIST || k->type == K_ARRAY)
            swap_bytes((char *)running + k->offset2, (char *)next + k->offset2, sizeof(size_t));
    }
}

void config_check_baseline(const struct drift_opts *o, const struct stats_baseline *b,
                           const char *path, struct errlist *errs)
{
    struct loader L = {.path = path, .errs = errs};
    for (size_t i = 0; i < o->n_overrides; i++) {
        const struct feature_override *ov = &o->overrides[i];
        int f = stats_baseline_find(b, ov->name);
        if (f < 0) {
            cerr(&L, "features.overrides.%s: not a feature of the baseline", ov->name);
            continue;
        }
        const struct stats_test_info *ti = stats_test_info((enum stats_test)ov->test);
        enum stats_kind k = b->features[f].kind;
        if (ti != NULL && (k == STATS_NUMERICAL ? !ti->numerical : !ti->categorical))
            cerr(&L, "features.overrides.%s.test: %s does not apply to a %s feature", ov->name,
                 ti->name, stats_kind_name(k));
    }
    const struct stats_test_info *mt = stats_test_info((enum stats_test)o->method);
    for (size_t f = 0; mt != NULL && f < b->nfeatures; f++) {
        enum stats_kind k = b->features[f].kind;
        bool overridden = false;
        for (size_t i = 0; i < o->n_overrides; i++)
            overridden |= strcmp(o->overrides[i].name, b->features[f].name) == 0 &&
                          o->overrides[i].test != STATS_TEST_AUTO;
        if (!overridden && (k == STATS_NUMERICAL ? !mt->numerical : !mt->categorical))
            cerr(&L, "drift.method: %s does not apply to %s feature \"%s\" (override its test)",
                 mt->name, stats_kind_name(k), b->features[f].name);
    }
    char **lists[2] = {o->include, o->exclude};
    size_t ns[2] = {o->n_include, o->n_exclude};
    for (int l = 0; l < 2; l++)
        for (size_t i = 0; i < ns[l]; i++)
            if (stats_baseline_find(b, lists[l][i]) < 0)
                cerr(&L, "features.%s[%zu]: \"%s\" is not a feature of the baseline",
                     l == 0 ? "include" : "exclude", i, lists[l][i]);
}

int config_load_drift_opts(const char *path, struct drift_opts *o)
{
    struct config c;
    struct errlist errs = {0};
    int rc = load_file(path, &c, &errs, false);
    if (rc != 0) {
        errlist_print(&errs, stderr);
        errlist_free(&errs);
        config_free(&c);
        return -1;
    }
    drift_opts_clear(o);
    *o = c.drift;
    drift_opts_init(&c.drift);
    config_free(&c);
    return 0;
}

int config_check_features(const char *path, const struct drift_opts *o,
                          const struct stats_baseline *b)
{
    struct errlist errs = {0};
    if (path == NULL)
        return 0;
    config_check_baseline(o, b, path, &errs);
    errlist_print(&errs, stderr);
    int rc = errs.n > 0 ? -1 : 0;
    errlist_free(&errs);
    return rc;
}

static const char *type_name(enum ktype t)
{
    static const char *const names[] = {
        "object",  "string", "integer",   "duration",         "number",           "number or null",
        "boolean", "enum",   "test name", "array of strings", "array of objects", "object"};
    return names[t];
}

/* What retrain.adopt does, after the table: the keys alone do not tell
 * the order of things (docs/loop.md has the whole story). */
static const char loop_help[] =
    "\n## The closed loop: `retrain.adopt`\n\n"
    "```\n"
    "  windows drift ──> alert fires ──> workflow_dispatch (retrain.github)\n"
    "                                        │ run: queued, in_progress, completed\n"
    "                                        v\n"
    "  artifact ${model}-${correlation_id} (retrain.adopt.artifact) ──> zip member\n"
    "  baseline.json (retrain.adopt.file), at most retrain.adopt.max_bytes\n"
    "                                        │ validated like `driftd validate`\n"
    "                                        v\n"
    "  state_dir/baselines/<sha256>.json ──> staged ──> adopted ──> alert resolved\n"
    "        (retrain.adopt.keep files)       mode: on_success | manual | on_version\n"
    "```\n\n"
    "A successful run's baseline is fetched (not with `mode: off`), checked and staged. "
    "`on_success` adopts it at the next window boundary; `manual` waits for `POST "
    "/v1/baseline/adopt`; `on_version` waits until `retrain.adopt.version_share` of a "
    "window's records carry its `model_version` label in `inputs[].version_field`. Adoption "
    "evaluates the open window against the old baseline first, then swaps, and resolves "
    "the drift alert with `resolved_by`. A failure (the run failed, no artifact, a bad zip, "
    "over the size limit, a digest mismatch, not a valid baseline, features changed without "
    "`allow_feature_changes`) keeps the active baseline and alerts `adoption_failed`. "
    "`POST /v1/baseline/rollback` goes back. A restart runs on the adopted baseline.\n\n"
    "Example: adopt the retrained baseline as soon as the run succeeds.\n\n"
    "```json\n"
    "\"retrain\": {\n"
    "  \"github\": {\"repository\": \"example-org/iris-model\", \"workflow\": "
    "\"retrain.yml\",\n"
    "             \"token_file\": \"github-token\"},\n"
    "  \"consecutive\": 2, \"cooldown_seconds\": 86400,\n"
    "  \"adopt\": {\"mode\": \"on_success\", \"keep\": 5}\n"
    "}\n"
    "```\n\n"
    "Then `curl -s 127.0.0.1:9107/v1/events` shows dispatched, run_started, run_completed, "
    "baseline_staged and baseline_adopted, and `/v1/status` shows `baseline.source.kind: "
    "\"run\"` with the run's URL. `make demo` runs this loop against a local stand-in "
    "for GitHub.\n";

void config_print_reference(FILE *out)
{
    char rt[80];
    fprintf(out, "| key | type | default | range | reload | description |\n"
                 "|---|---|---|---|---|---|\n");
    for (size_t i = 0; i < NKEYS; i++) {
        const struct ckey *k = &keys[i];
        fprintf(out, "| `%s` | %s", k->path, k->pathkind != P_NONE ? "path" : type_name(k->type));
        if (k->values != NULL) {
            /* a bare | would end the Markdown cell */
            fputs(": ", out);
            for (const char *p = k->values; *p; p++)
                fputs(*p == '|' ? " \\| " : (char[2]){*p, 0}, out);
        }
        fprintf(out, " | %s | %s | %s | %s |\n", k->def ? k->def : "",
                range_text(k, rt, sizeof(rt)), k->reload ? "yes" : "no", k->help);
    }
    fputs(loop_help, out);
}

/* Where a secret file lives: the path the configuration resolved, or for
 * a relative name the loader's rule, from cfgpath's directory. */
static char *secret_path(const char *name, const char *cfgpath)
{
    if (name[0] == '/')
        return strdup(name);
    char *dir = cfgpath != NULL ? config_dir(cfgpath) : NULL;
    char *p = resolve_path(dir, name, P_SECRET);
    free(dir);
    return p;
}

/* A secret file holds one line; anything longer is not one. */
#define SECRET_MAX 65536

/* Read a secret (token, URL): the file's first line, trimmed. The value is
 * never logged; errors name the file only. The file is read straight into
 * a MADV_DONTDUMP buffer (no stdio or realloc copies left on the heap). */
char *config_read_secret(const char *name, const char *what, struct errlist *errs,
                         const char *cfgpath)
{
    char *path = secret_path(name, cfgpath);
    char msg[512];
    size_t cap = 0, len = 0;
    char *buf = NULL;
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    struct stat st;
    if (fd < 0) {
        snprintf(msg, sizeof(msg), "%s: %s: cannot read %s: %s", cfgpath, what, path ? path : name,
                 strerror(errno));
    } else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(msg, sizeof(msg), "%s: %s: cannot read %s: %s", cfgpath, what, path,
                 strerror(EISDIR));
    } else if ((buf = secret_alloc(SECRET_MAX + 1, &cap)) == NULL) {
        snprintf(msg, sizeof(msg), "%s: %s: cannot read %s: %s", cfgpath, what, path,
                 strerror(ENOMEM));
    } else {
        ssize_t r = 0;
        while (len < SECRET_MAX &&
               ((r = read(fd, buf + len, SECRET_MAX - len)) > 0 || (r < 0 && errno == EINTR)))
            len += r > 0 ? (size_t)r : 0;
        size_t n = strcspn(buf, "\r\n");
        while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
            n--;
        buf[n] = '\0';
        char *secret = NULL;
        if (r < 0)
            snprintf(msg, sizeof(msg), "%s: %s: cannot read %s: %s", cfgpath, what, path,
                     strerror(errno));
        else if (n == SECRET_MAX)
            snprintf(msg, sizeof(msg), "%s: %s: %s: the first line is longer than %d bytes",
                     cfgpath, what, path, SECRET_MAX);
        else if (n == 0)
            snprintf(msg, sizeof(msg), "%s: %s: %s is empty", cfgpath, what, path);
        else if ((secret = secret_dup(buf)) == NULL)
            snprintf(msg, sizeof(msg), "%s: %s: cannot read %s: %s", cfgpath, what, path,
                     strerror(ENOMEM));
        secret_release(buf, len, cap);
        if (secret != NULL) {
            close(fd);
            free(path);
            return secret;
        }
    }
    if (fd >= 0)
        close(fd);
    free(path);
    errlist_add(errs, "%s", msg);
    return NULL;
}

void config_check_secrets(const struct config *c, struct errlist *errs)
{
    char *v;
    if (c->token_file != NULL &&
        (v = config_read_secret(c->token_file, "auth.token_file", errs, c->path)) != NULL)
        secret_free(v);
    if (c->github.enabled && c->github.token_file != NULL &&
        (v = config_read_secret(c->github.token_file, "retrain.github.token_file", errs,
                                c->path)) != NULL)
        secret_free(v);
    for (size_t i = 0; i < c->n_inputs; i++) {
        char what[64];
        snprintf(what, sizeof(what), "inputs[%zu].token_file", i);
        if (c->inputs[i].token_file != NULL &&
            (v = config_read_secret(c->inputs[i].token_file, what, errs, c->path)) != NULL)
            secret_free(v);
    }
    for (size_t i = 0; i < c->n_sinks; i++) {
        char what[64];
        snprintf(what, sizeof(what), "alerts.sinks[%zu].url_file", i);
        if (c->sinks[i].url_file != NULL &&
            (v = config_read_secret(c->sinks[i].url_file, what, errs, c->path)) != NULL)
            secret_free(v);
    }
}

/* Whether HOST (a name or an address, IPv6 maybe in brackets) is the
 * loopback: 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104, or "localhost". Other
 * names are not resolved (validate must not depend on DNS): not loopback. */
static bool loopback_host(const char *host, size_t n)
{
    char h[256];
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
        host++, n -= 2;
    if (n == 0 || n >= sizeof(h))
        return false;
    memcpy(h, host, n);
    h[n] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, h, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, h, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    return strcasecmp(h, "localhost") == 0;
}

/* Warn when a secret file can be read by group or others. */
static void check_secret_mode(struct loader *L, const char *name, const char *what)
{
    char *path = secret_path(name, L->path);
    struct stat st;
    if (path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
        (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
        cerr(L,
             "%s: %s is readable by group or others (mode %04o): chmod 600 it, or pass it as a "
             "systemd credential",
             what, path, (unsigned)(st.st_mode & 07777));
    free(path);
}

void config_check_risks(const struct config *c, struct errlist *warns)
{
    struct loader L = {.path = c->path ? c->path : "config", .errs = warns};
    const char *colon = c->listen ? strrchr(c->listen, ':') : NULL;
    if (colon != NULL && c->token_file == NULL &&
        !loopback_host(c->listen, (size_t)(colon - c->listen)))
        cerr(&L,
             "listen: %s is not a loopback address and auth.token_file is not set: whoever "
             "reaches the port can post records and reload the configuration",
             c->listen);
    if (c->token_file != NULL)
        check_secret_mode(&L, c->token_file, "auth.token_file");
    if (c->github.enabled && c->github.token_file != NULL)
        check_secret_mode(&L, c->github.token_file, "retrain.github.token_file");
    for (size_t i = 0; i < c->n_inputs; i++) {
        char what[64];
        snprintf(what, sizeof(what), "inputs[%zu].token_file", i);
        if (c->inputs[i].token_file != NULL)
            check_secret_mode(&L, c->inputs[i].token_file, what);
    }
    for (size_t i = 0; i < c->n_sinks; i++) {
        char what[64];
        snprintf(what, sizeof(what), "alerts.sinks[%zu].url_file", i);
        if (c->sinks[i].url_file != NULL)
            check_secret_mode(&L, c->sinks[i].url_file, what);
    }
    struct evhttp_uri *u =
        c->github.enabled && c->github.api_url != NULL ? evhttp_uri_parse(c->github.api_url) : NULL;
    const char *scheme = u ? evhttp_uri_get_scheme(u) : NULL;
    const char *host = u ? evhttp_uri_get_host(u) : NULL;
    if (scheme != NULL && strcasecmp(scheme, "http") == 0 && host != NULL &&
        !loopback_host(host, strlen(host)))
        cerr(&L,
             "retrain.github.api_url: plain http:// to a host that is not loopback (%s): the "
             "token would cross the network in clear text; use https://",
             host);
    if (u != NULL)
        evhttp_uri_free(u);
}

void config_log_risks(const struct config *c)
{
    struct errlist w = {0};
    config_check_risks(c, &w);
    for (size_t i = 0; i < w.n; i++)
        log_warn("%s", w.msgs[i]);
    errlist_free(&w);
}
